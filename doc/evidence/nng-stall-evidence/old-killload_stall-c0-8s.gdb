[New LWP 24677]
[New LWP 24678]
[New LWP 24679]
[New LWP 24680]
[New LWP 24681]
[New LWP 24682]
[New LWP 24683]
[New LWP 24684]
[New LWP 24685]
[New LWP 24686]
[New LWP 24687]
[New LWP 24688]
[New LWP 24689]
[Thread debugging using libthread_db enabled]
Using host libthread_db library "/lib/x86_64-linux-gnu/libthread_db.so.1".
__futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7ffe4fa8a280) at ./nptl/futex-internal.c:57
57	./nptl/futex-internal.c: No such file or directory.
  Id   Target Id                                          Frame 
* 1    Thread 0x7f918f750080 (LWP 24658) "drv-old3"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7ffe4fa8a280) at ./nptl/futex-internal.c:57
  2    Thread 0x7f918f74e6c0 (LWP 24677) "nng:poll:epoll" 0x00007f918f9d2f36 in epoll_wait (epfd=3, events=events@entry=0x7f918f74dab0, maxevents=maxevents@entry=64, timeout=timeout@entry=-1) at ../sysdeps/unix/sysv/linux/epoll_wait.c:30
  3    Thread 0x7f918ef4d6c0 (LWP 24678) "nng:resolver"   __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f918f8bea88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
  4    Thread 0x7f918e74c6c0 (LWP 24679) "nng:resolver"   __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f918f8bea8c <resolv_cv+44>) at ./nptl/futex-internal.c:57
  5    Thread 0x7f918df4b6c0 (LWP 24680) "nng:resolver"   __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f918f8bea88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
  6    Thread 0x7f918d74a6c0 (LWP 24681) "nng:resolver"   __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f918f8bea88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
  7    Thread 0x7f918cf496c0 (LWP 24682) "nng:task"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x557696f4d94c) at ./nptl/futex-internal.c:57
  8    Thread 0x7f918c7486c0 (LWP 24683) "nng:task"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x557696f4d94c) at ./nptl/futex-internal.c:57
  9    Thread 0x7f918bf476c0 (LWP 24684) "nng:task"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x557696f4d94c) at ./nptl/futex-internal.c:57
  10   Thread 0x7f918b7466c0 (LWP 24685) "nng:task"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x557696f4d94c) at ./nptl/futex-internal.c:57
  11   Thread 0x7f918af456c0 (LWP 24686) "nng:reap2"      __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f9174001118) at ./nptl/futex-internal.c:57
  12   Thread 0x7f918a7446c0 (LWP 24687) "nng:timer"      __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f918f8be708 <nni_global_timer+136>) at ./nptl/futex-internal.c:57
  13   Thread 0x7f9189f436c0 (LWP 24688) "nng:aio:expire" __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x557696f4e374) at ./nptl/futex-internal.c:57
  14   Thread 0x7f91897426c0 (LWP 24689) "nng:aio:expire" __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x7f9189741a30, op=393, expected=0, futex_word=0x557696f4e5c0) at ./nptl/futex-internal.c:57

Thread 14 (Thread 0x7f91897426c0 (LWP 24689) "nng:aio:expire"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x7f9189741a30, op=393, expected=0, futex_word=0x557696f4e5c0) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x557696f4e5c0, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x7f9189741a30, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f918f94ff7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x557696f4e5c0, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x7f9189741a30, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f918f9528bc in __pthread_cond_wait_common (abstime=0x7f9189741a30, clockid=0, mutex=0x557696f4e570, cond=0x557696f4e598) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_timedwait64 (cond=cond@entry=0x557696f4e598, mutex=0x557696f4e570, abstime=abstime@entry=0x7f9189741a30) at ./nptl/pthread_cond_wait.c:643
#5  0x00007f918f877625 in nni_pthread_cond_timedwait (ts=0x7f9189741a30, m=<optimized out>, c=0x557696f4e598) at ./src/platform/posix/posix_thread.c:132
#6  nni_plat_cv_until (cv=cv@entry=0x557696f4e598, until=until@entry=1796658338180) at ./src/platform/posix/posix_thread.c:241
#7  0x00007f918f86fb30 in nni_cv_until (cv=cv@entry=0x557696f4e598, until=until@entry=1796658338180) at ./src/core/thread.c:67
#8  0x00007f918f86351b in nni_aio_expire_loop (arg=0x557696f4e570) at ./src/core/aio.c:616
#9  0x00007f918f86faaa in nni_thr_wrap (arg=0x557696f4e5f0) at ./src/core/thread.c:94
#10 0x00007f918f8772ff in nni_plat_thr_main (arg=0x557696f4e5f0) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f918f9531f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f918f9d38ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 13 (Thread 0x7f9189f436c0 (LWP 24688) "nng:aio:expire"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x557696f4e374) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x557696f4e374, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f918f94ff7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x557696f4e374, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f918f9525d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x557696f4e320, cond=0x557696f4e348) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=0x557696f4e348, mutex=0x557696f4e320) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f918f87759d in nni_pthread_cond_wait (m=<optimized out>, c=<optimized out>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=<optimized out>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f918f86fb49 in nni_cv_until (cv=cv@entry=0x557696f4e348, until=until@entry=18446744073709551615) at ./src/core/thread.c:60
#8  0x00007f918f86351b in nni_aio_expire_loop (arg=0x557696f4e320) at ./src/core/aio.c:616
#9  0x00007f918f86faaa in nni_thr_wrap (arg=0x557696f4e3a0) at ./src/core/thread.c:94
#10 0x00007f918f8772ff in nni_plat_thr_main (arg=0x557696f4e3a0) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f918f9531f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f918f9d38ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 12 (Thread 0x7f918a7446c0 (LWP 24687) "nng:timer"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f918f8be708 <nni_global_timer+136>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f918f8be708 <nni_global_timer+136>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f918f94ff7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f918f8be708 <nni_global_timer+136>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f918f9525d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f918f8be680 <nni_global_timer>, cond=0x7f918f8be6e0 <nni_global_timer+96>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f918f8be6e0 <nni_global_timer+96>, mutex=0x7f918f8be680 <nni_global_timer>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f918f87759d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f918f8be6e0 <nni_global_timer+96>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f918f8be6e0 <nni_global_timer+96>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f918f86fb15 in nni_cv_wait (cv=cv@entry=0x7f918f8be6e0 <nni_global_timer+96>) at ./src/core/thread.c:51
#8  0x00007f918f86fe59 in nni_timer_loop (arg=0x7f918f8be680 <nni_global_timer>) at ./src/core/timer.c:155
#9  0x00007f918f86faaa in nni_thr_wrap (arg=0x7f918f8be730 <nni_global_timer+176>) at ./src/core/thread.c:94
#10 0x00007f918f8772ff in nni_plat_thr_main (arg=0x7f918f8be730 <nni_global_timer+176>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f918f9531f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f918f9d38ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 11 (Thread 0x7f918af456c0 (LWP 24686) "nng:reap2"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f9174001118) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f9174001118, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f918f94ff7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f9174001118, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f918f9525d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f91740010c8, cond=0x7f91740010f0) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f91740010f0, mutex=0x7f91740010c8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f918f87759d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f91740010f0) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f91740010f0) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f918f86fb15 in nni_cv_wait (cv=cv@entry=0x7f91740010f0) at ./src/core/thread.c:51
#8  0x00007f918f86eda8 in nni_task_wait (task=task@entry=0x7f9174001098) at ./src/core/taskq.c:205
#9  0x00007f918f863936 in nni_aio_wait (aio=0x7f9174001078) at ./src/core/aio.c:315
#10 0x00007f918f880fd1 in req0_pipe_stop (arg=0x7f9174000e68) at ./src/sp/protocol/reqrep0/req.c:153
#11 0x00007f918f869819 in pipe_destroy (arg=0x7f9174000b70) at ./src/core/pipe.c:75
#12 pipe_destroy (arg=0x7f9174000b70) at ./src/core/pipe.c:53
#13 0x00007f918f86a1aa in reap_worker (unused=<optimized out>) at ./src/core/reap.c:58
#14 0x00007f918f86faaa in nni_thr_wrap (arg=0x7f918f8be3a0 <reap_thr>) at ./src/core/thread.c:94
#15 0x00007f918f8772ff in nni_plat_thr_main (arg=0x7f918f8be3a0 <reap_thr>) at ./src/platform/posix/posix_thread.c:266
#16 0x00007f918f9531f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#17 0x00007f918f9d38ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 10 (Thread 0x7f918b7466c0 (LWP 24685) "nng:task"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x557696f4d94c) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x557696f4d94c, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f918f94ff7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x557696f4d94c, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f918f9525d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x557696f4d8f8, cond=0x557696f4d920) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x557696f4d920, mutex=0x557696f4d8f8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f918f87759d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x557696f4d920) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x557696f4d920) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f918f86fb15 in nni_cv_wait (cv=cv@entry=0x557696f4d920) at ./src/core/thread.c:51
#8  0x00007f918f86e91b in nni_taskq_thread (self=<optimized out>) at ./src/core/taskq.c:64
#9  0x00007f918f86faaa in nni_thr_wrap (arg=0x557696f4db98) at ./src/core/thread.c:94
#10 0x00007f918f8772ff in nni_plat_thr_main (arg=0x557696f4db98) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f918f9531f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f918f9d38ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 9 (Thread 0x7f918bf476c0 (LWP 24684) "nng:task"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x557696f4d94c) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x557696f4d94c, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f918f94ff7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x557696f4d94c, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f918f9525d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x557696f4d8f8, cond=0x557696f4d920) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x557696f4d920, mutex=0x557696f4d8f8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f918f87759d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x557696f4d920) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x557696f4d920) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f918f86fb15 in nni_cv_wait (cv=cv@entry=0x557696f4d920) at ./src/core/thread.c:51
#8  0x00007f918f86e91b in nni_taskq_thread (self=<optimized out>) at ./src/core/taskq.c:64
#9  0x00007f918f86faaa in nni_thr_wrap (arg=0x557696f4daf8) at ./src/core/thread.c:94
#10 0x00007f918f8772ff in nni_plat_thr_main (arg=0x557696f4daf8) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f918f9531f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f918f9d38ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 8 (Thread 0x7f918c7486c0 (LWP 24683) "nng:task"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x557696f4d94c) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x557696f4d94c, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f918f94ff7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x557696f4d94c, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f918f9525d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x557696f4d8f8, cond=0x557696f4d920) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x557696f4d920, mutex=0x557696f4d8f8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f918f87759d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x557696f4d920) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x557696f4d920) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f918f86fb15 in nni_cv_wait (cv=cv@entry=0x557696f4d920) at ./src/core/thread.c:51
#8  0x00007f918f86e91b in nni_taskq_thread (self=<optimized out>) at ./src/core/taskq.c:64
#9  0x00007f918f86faaa in nni_thr_wrap (arg=0x557696f4da58) at ./src/core/thread.c:94
#10 0x00007f918f8772ff in nni_plat_thr_main (arg=0x557696f4da58) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f918f9531f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f918f9d38ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 7 (Thread 0x7f918cf496c0 (LWP 24682) "nng:task"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x557696f4d94c) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x557696f4d94c, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f918f94ff7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x557696f4d94c, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f918f9525d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x557696f4d8f8, cond=0x557696f4d920) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x557696f4d920, mutex=0x557696f4d8f8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f918f87759d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x557696f4d920) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x557696f4d920) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f918f86fb15 in nni_cv_wait (cv=cv@entry=0x557696f4d920) at ./src/core/thread.c:51
#8  0x00007f918f86e91b in nni_taskq_thread (self=<optimized out>) at ./src/core/taskq.c:64
#9  0x00007f918f86faaa in nni_thr_wrap (arg=0x557696f4d9b8) at ./src/core/thread.c:94
#10 0x00007f918f8772ff in nni_plat_thr_main (arg=0x557696f4d9b8) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f918f9531f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f918f9d38ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 6 (Thread 0x7f918d74a6c0 (LWP 24681) "nng:resolver"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f918f8bea88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f918f8bea88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f918f94ff7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f918f8bea88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f918f9525d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f918f8beaa0 <resolv_mtx>, cond=0x7f918f8bea60 <resolv_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f918f8bea60 <resolv_cv>, mutex=0x7f918f8beaa0 <resolv_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f918f87759d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f918f8bea60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f918f8bea60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f918f86fb15 in nni_cv_wait (cv=cv@entry=0x7f918f8bea60 <resolv_cv>) at ./src/core/thread.c:51
#8  0x00007f918f8743e4 in resolv_worker (unused=<optimized out>) at ./src/platform/posix/posix_resolv_gai.c:312
#9  0x00007f918f86faaa in nni_thr_wrap (arg=0x7f918f8be9a8 <resolv_thrs+456>) at ./src/core/thread.c:94
#10 0x00007f918f8772ff in nni_plat_thr_main (arg=0x7f918f8be9a8 <resolv_thrs+456>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f918f9531f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f918f9d38ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 5 (Thread 0x7f918df4b6c0 (LWP 24680) "nng:resolver"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f918f8bea88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f918f8bea88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f918f94ff7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f918f8bea88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f918f9525d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f918f8beaa0 <resolv_mtx>, cond=0x7f918f8bea60 <resolv_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f918f8bea60 <resolv_cv>, mutex=0x7f918f8beaa0 <resolv_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f918f87759d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f918f8bea60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f918f8bea60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f918f86fb15 in nni_cv_wait (cv=cv@entry=0x7f918f8bea60 <resolv_cv>) at ./src/core/thread.c:51
#8  0x00007f918f8743e4 in resolv_worker (unused=<optimized out>) at ./src/platform/posix/posix_resolv_gai.c:312
#9  0x00007f918f86faaa in nni_thr_wrap (arg=0x7f918f8be910 <resolv_thrs+304>) at ./src/core/thread.c:94
#10 0x00007f918f8772ff in nni_plat_thr_main (arg=0x7f918f8be910 <resolv_thrs+304>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f918f9531f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f918f9d38ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 4 (Thread 0x7f918e74c6c0 (LWP 24679) "nng:resolver"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f918f8bea8c <resolv_cv+44>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f918f8bea8c <resolv_cv+44>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f918f94ff7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f918f8bea8c <resolv_cv+44>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f918f9525d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f918f8beaa0 <resolv_mtx>, cond=0x7f918f8bea60 <resolv_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f918f8bea60 <resolv_cv>, mutex=0x7f918f8beaa0 <resolv_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f918f87759d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f918f8bea60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f918f8bea60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f918f86fb15 in nni_cv_wait (cv=cv@entry=0x7f918f8bea60 <resolv_cv>) at ./src/core/thread.c:51
#8  0x00007f918f8743e4 in resolv_worker (unused=<optimized out>) at ./src/platform/posix/posix_resolv_gai.c:312
#9  0x00007f918f86faaa in nni_thr_wrap (arg=0x7f918f8be878 <resolv_thrs+152>) at ./src/core/thread.c:94
#10 0x00007f918f8772ff in nni_plat_thr_main (arg=0x7f918f8be878 <resolv_thrs+152>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f918f9531f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f918f9d38ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 3 (Thread 0x7f918ef4d6c0 (LWP 24678) "nng:resolver"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f918f8bea88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f918f8bea88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f918f94ff7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f918f8bea88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f918f9525d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f918f8beaa0 <resolv_mtx>, cond=0x7f918f8bea60 <resolv_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f918f8bea60 <resolv_cv>, mutex=0x7f918f8beaa0 <resolv_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f918f87759d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f918f8bea60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f918f8bea60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f918f86fb15 in nni_cv_wait (cv=cv@entry=0x7f918f8bea60 <resolv_cv>) at ./src/core/thread.c:51
#8  0x00007f918f8743e4 in resolv_worker (unused=<optimized out>) at ./src/platform/posix/posix_resolv_gai.c:312
#9  0x00007f918f86faaa in nni_thr_wrap (arg=0x7f918f8be7e0 <resolv_thrs>) at ./src/core/thread.c:94
#10 0x00007f918f8772ff in nni_plat_thr_main (arg=0x7f918f8be7e0 <resolv_thrs>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f918f9531f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f918f9d38ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 2 (Thread 0x7f918f74e6c0 (LWP 24677) "nng:poll:epoll"):
#0  0x00007f918f9d2f36 in epoll_wait (epfd=3, events=events@entry=0x7f918f74dab0, maxevents=maxevents@entry=64, timeout=timeout@entry=-1) at ../sysdeps/unix/sysv/linux/epoll_wait.c:30
#1  0x00007f918f8783c0 in nni_posix_poll_thr (arg=0x7f918f8beb80 <nni_posix_global_pollq>) at ./src/platform/posix/posix_pollq_epoll.c:253
#2  0x00007f918f86faaa in nni_thr_wrap (arg=0x7f918f8bebb8 <nni_posix_global_pollq+56>) at ./src/core/thread.c:94
#3  0x00007f918f8772ff in nni_plat_thr_main (arg=0x7f918f8bebb8 <nni_posix_global_pollq+56>) at ./src/platform/posix/posix_thread.c:266
#4  0x00007f918f9531f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#5  0x00007f918f9d38ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 1 (Thread 0x7f918f750080 (LWP 24658) "drv-old3"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7ffe4fa8a280) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7ffe4fa8a280, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f918f94ff7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7ffe4fa8a280, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f918f9525d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7ffe4fa8a230, cond=0x7ffe4fa8a258) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7ffe4fa8a258, mutex=mutex@entry=0x7ffe4fa8a230) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f918fac404b in waiter_finish (rv=0, w=0x7ffe4fa8a230) at ../participant-sdk/client.c:577
#6  dtx_client_query (client=client@entry=0x557696f4c2b0, gid=gid@entry=0x55766acf6027 "stall-probe", wait_ms=wait_ms@entry=0, ret_info=ret_info@entry=0x7ffe4fa8a2d0) at ../participant-sdk/client.c:613
#7  0x000055766acf45db in ask (c=c@entry=0x557696f4c2b0) at /work/wt-stacks/tests/evidence/stall_driver.c:234
#8  0x000055766acf4d4a in after_heal (c=c@entry=0x557696f4c2b0, cycle=cycle@entry=0, observe_ms=observe_ms@entry=70000) at /work/wt-stacks/tests/evidence/stall_driver.c:265
#9  0x000055766acf52fc in kill_load (observe_ms=70000, tries=<optimized out>) at /work/wt-stacks/tests/evidence/stall_driver.c:393
#10 main (argc=<optimized out>, argv=<optimized out>) at /work/wt-stacks/tests/evidence/stall_driver.c:436
[Inferior 1 (process 24658) detached]
