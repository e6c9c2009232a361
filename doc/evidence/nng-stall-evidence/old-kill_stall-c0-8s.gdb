[New LWP 14155]
[New LWP 14156]
[New LWP 14159]
[New LWP 14160]
[New LWP 14162]
[New LWP 14163]
[New LWP 14164]
[New LWP 14165]
[New LWP 14166]
[New LWP 14167]
[New LWP 14168]
[New LWP 14169]
[New LWP 14170]
[Thread debugging using libthread_db enabled]
Using host libthread_db library "/lib/x86_64-linux-gnu/libthread_db.so.1".
__futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7fff6400b450) at ./nptl/futex-internal.c:57
57	./nptl/futex-internal.c: No such file or directory.
  Id   Target Id                                          Frame 
* 1    Thread 0x7f8a1ae4e080 (LWP 14067) "drv-old"        __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7fff6400b450) at ./nptl/futex-internal.c:57
  2    Thread 0x7f8a1ae4c6c0 (LWP 14155) "nng:poll:epoll" 0x00007f8a1b0d0f36 in epoll_wait (epfd=3, events=events@entry=0x7f8a1ae4bab0, maxevents=maxevents@entry=64, timeout=timeout@entry=-1) at ../sysdeps/unix/sysv/linux/epoll_wait.c:30
  3    Thread 0x7f8a1a64b6c0 (LWP 14156) "nng:resolver"   __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f8a1afbca8c <resolv_cv+44>) at ./nptl/futex-internal.c:57
  4    Thread 0x7f8a19e4a6c0 (LWP 14159) "nng:resolver"   __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f8a1afbca8c <resolv_cv+44>) at ./nptl/futex-internal.c:57
  5    Thread 0x7f8a196496c0 (LWP 14160) "nng:resolver"   __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f8a1afbca88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
  6    Thread 0x7f8a18e486c0 (LWP 14162) "nng:resolver"   __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f8a1afbca88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
  7    Thread 0x7f8a186476c0 (LWP 14163) "nng:task"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x56312721094c) at ./nptl/futex-internal.c:57
  8    Thread 0x7f8a17e466c0 (LWP 14164) "nng:task"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x56312721094c) at ./nptl/futex-internal.c:57
  9    Thread 0x7f8a176456c0 (LWP 14165) "nng:task"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x56312721094c) at ./nptl/futex-internal.c:57
  10   Thread 0x7f8a16e446c0 (LWP 14166) "nng:task"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x56312721094c) at ./nptl/futex-internal.c:57
  11   Thread 0x7f8a166436c0 (LWP 14167) "nng:reap2"      __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f8a1afbc34c <reap_work_cv+44>) at ./nptl/futex-internal.c:57
  12   Thread 0x7f8a15e426c0 (LWP 14168) "nng:timer"      __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f8a1afbc708 <nni_global_timer+136>) at ./nptl/futex-internal.c:57
  13   Thread 0x7f8a156416c0 (LWP 14169) "nng:aio:expire" __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x563127211374) at ./nptl/futex-internal.c:57
  14   Thread 0x7f8a14e406c0 (LWP 14170) "nng:aio:expire" __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x7f8a14e3fa30, op=393, expected=0, futex_word=0x5631272115c0) at ./nptl/futex-internal.c:57

Thread 14 (Thread 0x7f8a14e406c0 (LWP 14170) "nng:aio:expire"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x7f8a14e3fa30, op=393, expected=0, futex_word=0x5631272115c0) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x5631272115c0, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x7f8a14e3fa30, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f8a1b04df7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x5631272115c0, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x7f8a14e3fa30, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f8a1b0508bc in __pthread_cond_wait_common (abstime=0x7f8a14e3fa30, clockid=0, mutex=0x563127211570, cond=0x563127211598) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_timedwait64 (cond=cond@entry=0x563127211598, mutex=0x563127211570, abstime=abstime@entry=0x7f8a14e3fa30) at ./nptl/pthread_cond_wait.c:643
#5  0x00007f8a1af75625 in nni_pthread_cond_timedwait (ts=0x7f8a14e3fa30, m=<optimized out>, c=0x563127211598) at ./src/platform/posix/posix_thread.c:132
#6  nni_plat_cv_until (cv=cv@entry=0x563127211598, until=until@entry=1796658133959) at ./src/platform/posix/posix_thread.c:241
#7  0x00007f8a1af6db30 in nni_cv_until (cv=cv@entry=0x563127211598, until=until@entry=1796658133959) at ./src/core/thread.c:67
#8  0x00007f8a1af6151b in nni_aio_expire_loop (arg=0x563127211570) at ./src/core/aio.c:616
#9  0x00007f8a1af6daaa in nni_thr_wrap (arg=0x5631272115f0) at ./src/core/thread.c:94
#10 0x00007f8a1af752ff in nni_plat_thr_main (arg=0x5631272115f0) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f8a1b0511f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f8a1b0d18ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 13 (Thread 0x7f8a156416c0 (LWP 14169) "nng:aio:expire"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x563127211374) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x563127211374, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f8a1b04df7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x563127211374, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f8a1b0505d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x563127211320, cond=0x563127211348) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=0x563127211348, mutex=0x563127211320) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f8a1af7559d in nni_pthread_cond_wait (m=<optimized out>, c=<optimized out>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=<optimized out>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f8a1af6db49 in nni_cv_until (cv=cv@entry=0x563127211348, until=until@entry=18446744073709551615) at ./src/core/thread.c:60
#8  0x00007f8a1af6151b in nni_aio_expire_loop (arg=0x563127211320) at ./src/core/aio.c:616
#9  0x00007f8a1af6daaa in nni_thr_wrap (arg=0x5631272113a0) at ./src/core/thread.c:94
#10 0x00007f8a1af752ff in nni_plat_thr_main (arg=0x5631272113a0) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f8a1b0511f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f8a1b0d18ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 12 (Thread 0x7f8a15e426c0 (LWP 14168) "nng:timer"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f8a1afbc708 <nni_global_timer+136>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f8a1afbc708 <nni_global_timer+136>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f8a1b04df7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f8a1afbc708 <nni_global_timer+136>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f8a1b0505d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f8a1afbc680 <nni_global_timer>, cond=0x7f8a1afbc6e0 <nni_global_timer+96>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f8a1afbc6e0 <nni_global_timer+96>, mutex=0x7f8a1afbc680 <nni_global_timer>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f8a1af7559d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f8a1afbc6e0 <nni_global_timer+96>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f8a1afbc6e0 <nni_global_timer+96>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f8a1af6db15 in nni_cv_wait (cv=cv@entry=0x7f8a1afbc6e0 <nni_global_timer+96>) at ./src/core/thread.c:51
#8  0x00007f8a1af6de59 in nni_timer_loop (arg=0x7f8a1afbc680 <nni_global_timer>) at ./src/core/timer.c:155
#9  0x00007f8a1af6daaa in nni_thr_wrap (arg=0x7f8a1afbc730 <nni_global_timer+176>) at ./src/core/thread.c:94
#10 0x00007f8a1af752ff in nni_plat_thr_main (arg=0x7f8a1afbc730 <nni_global_timer+176>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f8a1b0511f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f8a1b0d18ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 11 (Thread 0x7f8a166436c0 (LWP 14167) "nng:reap2"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f8a1afbc34c <reap_work_cv+44>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f8a1afbc34c <reap_work_cv+44>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f8a1b04df7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f8a1afbc34c <reap_work_cv+44>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f8a1b0505d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f8a1afbc360 <reap_mtx>, cond=0x7f8a1afbc320 <reap_work_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f8a1afbc320 <reap_work_cv>, mutex=0x7f8a1afbc360 <reap_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f8a1af7559d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f8a1afbc320 <reap_work_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f8a1afbc320 <reap_work_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f8a1af6db15 in nni_cv_wait (cv=cv@entry=0x7f8a1afbc320 <reap_work_cv>) at ./src/core/thread.c:51
#8  0x00007f8a1af681f0 in reap_worker (unused=<optimized out>) at ./src/core/reap.c:69
#9  0x00007f8a1af6daaa in nni_thr_wrap (arg=0x7f8a1afbc3a0 <reap_thr>) at ./src/core/thread.c:94
#10 0x00007f8a1af752ff in nni_plat_thr_main (arg=0x7f8a1afbc3a0 <reap_thr>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f8a1b0511f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f8a1b0d18ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 10 (Thread 0x7f8a16e446c0 (LWP 14166) "nng:task"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x56312721094c) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x56312721094c, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f8a1b04df7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x56312721094c, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f8a1b0505d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x5631272108f8, cond=0x563127210920) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x563127210920, mutex=0x5631272108f8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f8a1af7559d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x563127210920) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x563127210920) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f8a1af6db15 in nni_cv_wait (cv=cv@entry=0x563127210920) at ./src/core/thread.c:51
#8  0x00007f8a1af6c91b in nni_taskq_thread (self=<optimized out>) at ./src/core/taskq.c:64
#9  0x00007f8a1af6daaa in nni_thr_wrap (arg=0x563127210b98) at ./src/core/thread.c:94
#10 0x00007f8a1af752ff in nni_plat_thr_main (arg=0x563127210b98) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f8a1b0511f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f8a1b0d18ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 9 (Thread 0x7f8a176456c0 (LWP 14165) "nng:task"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x56312721094c) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x56312721094c, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f8a1b04df7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x56312721094c, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f8a1b0505d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x5631272108f8, cond=0x563127210920) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x563127210920, mutex=0x5631272108f8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f8a1af7559d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x563127210920) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x563127210920) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f8a1af6db15 in nni_cv_wait (cv=cv@entry=0x563127210920) at ./src/core/thread.c:51
#8  0x00007f8a1af6c91b in nni_taskq_thread (self=<optimized out>) at ./src/core/taskq.c:64
#9  0x00007f8a1af6daaa in nni_thr_wrap (arg=0x563127210af8) at ./src/core/thread.c:94
#10 0x00007f8a1af752ff in nni_plat_thr_main (arg=0x563127210af8) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f8a1b0511f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f8a1b0d18ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 8 (Thread 0x7f8a17e466c0 (LWP 14164) "nng:task"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x56312721094c) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x56312721094c, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f8a1b04df7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x56312721094c, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f8a1b0505d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x5631272108f8, cond=0x563127210920) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x563127210920, mutex=0x5631272108f8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f8a1af7559d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x563127210920) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x563127210920) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f8a1af6db15 in nni_cv_wait (cv=cv@entry=0x563127210920) at ./src/core/thread.c:51
#8  0x00007f8a1af6c91b in nni_taskq_thread (self=<optimized out>) at ./src/core/taskq.c:64
#9  0x00007f8a1af6daaa in nni_thr_wrap (arg=0x563127210a58) at ./src/core/thread.c:94
#10 0x00007f8a1af752ff in nni_plat_thr_main (arg=0x563127210a58) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f8a1b0511f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f8a1b0d18ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 7 (Thread 0x7f8a186476c0 (LWP 14163) "nng:task"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x56312721094c) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x56312721094c, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f8a1b04df7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x56312721094c, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f8a1b0505d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x5631272108f8, cond=0x563127210920) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x563127210920, mutex=0x5631272108f8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f8a1af7559d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x563127210920) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x563127210920) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f8a1af6db15 in nni_cv_wait (cv=cv@entry=0x563127210920) at ./src/core/thread.c:51
#8  0x00007f8a1af6c91b in nni_taskq_thread (self=<optimized out>) at ./src/core/taskq.c:64
#9  0x00007f8a1af6daaa in nni_thr_wrap (arg=0x5631272109b8) at ./src/core/thread.c:94
#10 0x00007f8a1af752ff in nni_plat_thr_main (arg=0x5631272109b8) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f8a1b0511f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f8a1b0d18ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 6 (Thread 0x7f8a18e486c0 (LWP 14162) "nng:resolver"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f8a1afbca88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f8a1afbca88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f8a1b04df7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f8a1afbca88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f8a1b0505d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f8a1afbcaa0 <resolv_mtx>, cond=0x7f8a1afbca60 <resolv_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f8a1afbca60 <resolv_cv>, mutex=0x7f8a1afbcaa0 <resolv_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f8a1af7559d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f8a1afbca60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f8a1afbca60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f8a1af6db15 in nni_cv_wait (cv=cv@entry=0x7f8a1afbca60 <resolv_cv>) at ./src/core/thread.c:51
#8  0x00007f8a1af723e4 in resolv_worker (unused=<optimized out>) at ./src/platform/posix/posix_resolv_gai.c:312
#9  0x00007f8a1af6daaa in nni_thr_wrap (arg=0x7f8a1afbc9a8 <resolv_thrs+456>) at ./src/core/thread.c:94
#10 0x00007f8a1af752ff in nni_plat_thr_main (arg=0x7f8a1afbc9a8 <resolv_thrs+456>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f8a1b0511f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f8a1b0d18ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 5 (Thread 0x7f8a196496c0 (LWP 14160) "nng:resolver"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f8a1afbca88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f8a1afbca88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f8a1b04df7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f8a1afbca88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f8a1b0505d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f8a1afbcaa0 <resolv_mtx>, cond=0x7f8a1afbca60 <resolv_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f8a1afbca60 <resolv_cv>, mutex=0x7f8a1afbcaa0 <resolv_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f8a1af7559d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f8a1afbca60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f8a1afbca60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f8a1af6db15 in nni_cv_wait (cv=cv@entry=0x7f8a1afbca60 <resolv_cv>) at ./src/core/thread.c:51
#8  0x00007f8a1af723e4 in resolv_worker (unused=<optimized out>) at ./src/platform/posix/posix_resolv_gai.c:312
#9  0x00007f8a1af6daaa in nni_thr_wrap (arg=0x7f8a1afbc910 <resolv_thrs+304>) at ./src/core/thread.c:94
#10 0x00007f8a1af752ff in nni_plat_thr_main (arg=0x7f8a1afbc910 <resolv_thrs+304>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f8a1b0511f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f8a1b0d18ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 4 (Thread 0x7f8a19e4a6c0 (LWP 14159) "nng:resolver"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f8a1afbca8c <resolv_cv+44>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f8a1afbca8c <resolv_cv+44>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f8a1b04df7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f8a1afbca8c <resolv_cv+44>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f8a1b0505d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f8a1afbcaa0 <resolv_mtx>, cond=0x7f8a1afbca60 <resolv_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f8a1afbca60 <resolv_cv>, mutex=0x7f8a1afbcaa0 <resolv_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f8a1af7559d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f8a1afbca60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f8a1afbca60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f8a1af6db15 in nni_cv_wait (cv=cv@entry=0x7f8a1afbca60 <resolv_cv>) at ./src/core/thread.c:51
#8  0x00007f8a1af723e4 in resolv_worker (unused=<optimized out>) at ./src/platform/posix/posix_resolv_gai.c:312
#9  0x00007f8a1af6daaa in nni_thr_wrap (arg=0x7f8a1afbc878 <resolv_thrs+152>) at ./src/core/thread.c:94
#10 0x00007f8a1af752ff in nni_plat_thr_main (arg=0x7f8a1afbc878 <resolv_thrs+152>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f8a1b0511f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f8a1b0d18ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 3 (Thread 0x7f8a1a64b6c0 (LWP 14156) "nng:resolver"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f8a1afbca8c <resolv_cv+44>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f8a1afbca8c <resolv_cv+44>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f8a1b04df7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f8a1afbca8c <resolv_cv+44>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f8a1b0505d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f8a1afbcaa0 <resolv_mtx>, cond=0x7f8a1afbca60 <resolv_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f8a1afbca60 <resolv_cv>, mutex=0x7f8a1afbcaa0 <resolv_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f8a1af7559d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f8a1afbca60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f8a1afbca60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f8a1af6db15 in nni_cv_wait (cv=cv@entry=0x7f8a1afbca60 <resolv_cv>) at ./src/core/thread.c:51
#8  0x00007f8a1af723e4 in resolv_worker (unused=<optimized out>) at ./src/platform/posix/posix_resolv_gai.c:312
#9  0x00007f8a1af6daaa in nni_thr_wrap (arg=0x7f8a1afbc7e0 <resolv_thrs>) at ./src/core/thread.c:94
#10 0x00007f8a1af752ff in nni_plat_thr_main (arg=0x7f8a1afbc7e0 <resolv_thrs>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f8a1b0511f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f8a1b0d18ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 2 (Thread 0x7f8a1ae4c6c0 (LWP 14155) "nng:poll:epoll"):
#0  0x00007f8a1b0d0f36 in epoll_wait (epfd=3, events=events@entry=0x7f8a1ae4bab0, maxevents=maxevents@entry=64, timeout=timeout@entry=-1) at ../sysdeps/unix/sysv/linux/epoll_wait.c:30
#1  0x00007f8a1af763c0 in nni_posix_poll_thr (arg=0x7f8a1afbcb80 <nni_posix_global_pollq>) at ./src/platform/posix/posix_pollq_epoll.c:253
#2  0x00007f8a1af6daaa in nni_thr_wrap (arg=0x7f8a1afbcbb8 <nni_posix_global_pollq+56>) at ./src/core/thread.c:94
#3  0x00007f8a1af752ff in nni_plat_thr_main (arg=0x7f8a1afbcbb8 <nni_posix_global_pollq+56>) at ./src/platform/posix/posix_thread.c:266
#4  0x00007f8a1b0511f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#5  0x00007f8a1b0d18ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 1 (Thread 0x7f8a1ae4e080 (LWP 14067) "drv-old"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7fff6400b450) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7fff6400b450, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f8a1b04df7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7fff6400b450, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f8a1b0505d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7fff6400b400, cond=0x7fff6400b428) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7fff6400b428, mutex=mutex@entry=0x7fff6400b400) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f8a1b1c204b in waiter_finish (rv=0, w=0x7fff6400b400) at ../participant-sdk/client.c:577
#6  dtx_client_query (client=client@entry=0x56312720f2b0, gid=gid@entry=0x563100030039 "stall-probe", wait_ms=wait_ms@entry=0, ret_info=ret_info@entry=0x7fff6400b4a0) at ../participant-sdk/client.c:613
#7  0x000056310002e4c5 in ask (c=c@entry=0x56312720f2b0) at /work/wt-stacks/tests/evidence/stall_driver.c:222
#8  0x000056310002ee5f in after_heal (observe_ms=150000, cycle=0, c=0x56312720f2b0) at /work/wt-stacks/tests/evidence/stall_driver.c:253
#9  main (argc=<optimized out>, argv=<optimized out>) at /work/wt-stacks/tests/evidence/stall_driver.c:365
[Inferior 1 (process 14067) detached]
