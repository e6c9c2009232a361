[New LWP 21254]
[New LWP 21255]
[New LWP 21256]
[New LWP 21257]
[New LWP 21258]
[New LWP 21259]
[New LWP 21260]
[New LWP 21261]
[New LWP 21262]
[New LWP 21263]
[New LWP 21264]
[New LWP 21265]
[New LWP 21266]
[Thread debugging using libthread_db enabled]
Using host libthread_db library "/lib/x86_64-linux-gnu/libthread_db.so.1".
__futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7fff33247a40) at ./nptl/futex-internal.c:57
57	./nptl/futex-internal.c: No such file or directory.
  Id   Target Id                                          Frame 
* 1    Thread 0x7f1dfcd08080 (LWP 21217) "drv-old3"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7fff33247a40) at ./nptl/futex-internal.c:57
  2    Thread 0x7f1dfcd066c0 (LWP 21254) "nng:poll:epoll" 0x00007f1dfcf8af36 in epoll_wait (epfd=3, events=events@entry=0x7f1dfcd05ab0, maxevents=maxevents@entry=64, timeout=timeout@entry=-1) at ../sysdeps/unix/sysv/linux/epoll_wait.c:30
  3    Thread 0x7f1dfc5056c0 (LWP 21255) "nng:resolver"   __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f1dfce76a8c <resolv_cv+44>) at ./nptl/futex-internal.c:57
  4    Thread 0x7f1dfbd046c0 (LWP 21256) "nng:resolver"   __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f1dfce76a8c <resolv_cv+44>) at ./nptl/futex-internal.c:57
  5    Thread 0x7f1dfb5036c0 (LWP 21257) "nng:resolver"   __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f1dfce76a8c <resolv_cv+44>) at ./nptl/futex-internal.c:57
  6    Thread 0x7f1dfad026c0 (LWP 21258) "nng:resolver"   __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f1dfce76a8c <resolv_cv+44>) at ./nptl/futex-internal.c:57
  7    Thread 0x7f1dfa5016c0 (LWP 21259) "nng:task"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x56355ce7094c) at ./nptl/futex-internal.c:57
  8    Thread 0x7f1df9d006c0 (LWP 21260) "nng:task"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x56355ce70948) at ./nptl/futex-internal.c:57
  9    Thread 0x7f1df94ff6c0 (LWP 21261) "nng:task"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x56355ce70948) at ./nptl/futex-internal.c:57
  10   Thread 0x7f1df8cfe6c0 (LWP 21262) "nng:task"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x56355ce70948) at ./nptl/futex-internal.c:57
  11   Thread 0x7f1df84fd6c0 (LWP 21263) "nng:reap2"      __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f1dfce7634c <reap_work_cv+44>) at ./nptl/futex-internal.c:57
  12   Thread 0x7f1df7cfc6c0 (LWP 21264) "nng:timer"      __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f1dfce76708 <nni_global_timer+136>) at ./nptl/futex-internal.c:57
  13   Thread 0x7f1df74fb6c0 (LWP 21265) "nng:aio:expire" __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x7f1df74faa30, op=393, expected=0, futex_word=0x56355ce71374) at ./nptl/futex-internal.c:57
  14   Thread 0x7f1df6cfa6c0 (LWP 21266) "nng:aio:expire" __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x56355ce715c4) at ./nptl/futex-internal.c:57

Thread 14 (Thread 0x7f1df6cfa6c0 (LWP 21266) "nng:aio:expire"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x56355ce715c4) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x56355ce715c4, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f1dfcf07f7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x56355ce715c4, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f1dfcf0a5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x56355ce71570, cond=0x56355ce71598) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=0x56355ce71598, mutex=0x56355ce71570) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f1dfce2f59d in nni_pthread_cond_wait (m=<optimized out>, c=<optimized out>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=<optimized out>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f1dfce27b49 in nni_cv_until (cv=cv@entry=0x56355ce71598, until=until@entry=18446744073709551615) at ./src/core/thread.c:60
#8  0x00007f1dfce1b51b in nni_aio_expire_loop (arg=0x56355ce71570) at ./src/core/aio.c:616
#9  0x00007f1dfce27aaa in nni_thr_wrap (arg=0x56355ce715f0) at ./src/core/thread.c:94
#10 0x00007f1dfce2f2ff in nni_plat_thr_main (arg=0x56355ce715f0) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f1dfcf0b1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f1dfcf8b8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 13 (Thread 0x7f1df74fb6c0 (LWP 21265) "nng:aio:expire"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x7f1df74faa30, op=393, expected=0, futex_word=0x56355ce71374) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x56355ce71374, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x7f1df74faa30, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f1dfcf07f7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x56355ce71374, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x7f1df74faa30, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f1dfcf0a8bc in __pthread_cond_wait_common (abstime=0x7f1df74faa30, clockid=0, mutex=0x56355ce71320, cond=0x56355ce71348) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_timedwait64 (cond=cond@entry=0x56355ce71348, mutex=0x56355ce71320, abstime=abstime@entry=0x7f1df74faa30) at ./nptl/pthread_cond_wait.c:643
#5  0x00007f1dfce2f625 in nni_pthread_cond_timedwait (ts=0x7f1df74faa30, m=<optimized out>, c=0x56355ce71348) at ./src/platform/posix/posix_thread.c:132
#6  nni_plat_cv_until (cv=cv@entry=0x56355ce71348, until=until@entry=1796658371697) at ./src/platform/posix/posix_thread.c:241
#7  0x00007f1dfce27b30 in nni_cv_until (cv=cv@entry=0x56355ce71348, until=until@entry=1796658371697) at ./src/core/thread.c:67
#8  0x00007f1dfce1b51b in nni_aio_expire_loop (arg=0x56355ce71320) at ./src/core/aio.c:616
#9  0x00007f1dfce27aaa in nni_thr_wrap (arg=0x56355ce713a0) at ./src/core/thread.c:94
#10 0x00007f1dfce2f2ff in nni_plat_thr_main (arg=0x56355ce713a0) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f1dfcf0b1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f1dfcf8b8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 12 (Thread 0x7f1df7cfc6c0 (LWP 21264) "nng:timer"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f1dfce76708 <nni_global_timer+136>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f1dfce76708 <nni_global_timer+136>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f1dfcf07f7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f1dfce76708 <nni_global_timer+136>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f1dfcf0a5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f1dfce76680 <nni_global_timer>, cond=0x7f1dfce766e0 <nni_global_timer+96>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f1dfce766e0 <nni_global_timer+96>, mutex=0x7f1dfce76680 <nni_global_timer>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f1dfce2f59d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f1dfce766e0 <nni_global_timer+96>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f1dfce766e0 <nni_global_timer+96>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f1dfce27b15 in nni_cv_wait (cv=cv@entry=0x7f1dfce766e0 <nni_global_timer+96>) at ./src/core/thread.c:51
#8  0x00007f1dfce27e59 in nni_timer_loop (arg=0x7f1dfce76680 <nni_global_timer>) at ./src/core/timer.c:155
#9  0x00007f1dfce27aaa in nni_thr_wrap (arg=0x7f1dfce76730 <nni_global_timer+176>) at ./src/core/thread.c:94
#10 0x00007f1dfce2f2ff in nni_plat_thr_main (arg=0x7f1dfce76730 <nni_global_timer+176>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f1dfcf0b1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f1dfcf8b8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 11 (Thread 0x7f1df84fd6c0 (LWP 21263) "nng:reap2"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f1dfce7634c <reap_work_cv+44>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f1dfce7634c <reap_work_cv+44>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f1dfcf07f7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f1dfce7634c <reap_work_cv+44>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f1dfcf0a5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f1dfce76360 <reap_mtx>, cond=0x7f1dfce76320 <reap_work_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f1dfce76320 <reap_work_cv>, mutex=0x7f1dfce76360 <reap_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f1dfce2f59d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f1dfce76320 <reap_work_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f1dfce76320 <reap_work_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f1dfce27b15 in nni_cv_wait (cv=cv@entry=0x7f1dfce76320 <reap_work_cv>) at ./src/core/thread.c:51
#8  0x00007f1dfce221f0 in reap_worker (unused=<optimized out>) at ./src/core/reap.c:69
#9  0x00007f1dfce27aaa in nni_thr_wrap (arg=0x7f1dfce763a0 <reap_thr>) at ./src/core/thread.c:94
#10 0x00007f1dfce2f2ff in nni_plat_thr_main (arg=0x7f1dfce763a0 <reap_thr>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f1dfcf0b1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f1dfcf8b8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 10 (Thread 0x7f1df8cfe6c0 (LWP 21262) "nng:task"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x56355ce70948) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x56355ce70948, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f1dfcf07f7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x56355ce70948, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f1dfcf0a5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x56355ce708f8, cond=0x56355ce70920) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x56355ce70920, mutex=0x56355ce708f8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f1dfce2f59d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x56355ce70920) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x56355ce70920) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f1dfce27b15 in nni_cv_wait (cv=cv@entry=0x56355ce70920) at ./src/core/thread.c:51
#8  0x00007f1dfce2691b in nni_taskq_thread (self=<optimized out>) at ./src/core/taskq.c:64
#9  0x00007f1dfce27aaa in nni_thr_wrap (arg=0x56355ce70b98) at ./src/core/thread.c:94
#10 0x00007f1dfce2f2ff in nni_plat_thr_main (arg=0x56355ce70b98) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f1dfcf0b1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f1dfcf8b8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 9 (Thread 0x7f1df94ff6c0 (LWP 21261) "nng:task"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x56355ce70948) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x56355ce70948, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f1dfcf07f7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x56355ce70948, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f1dfcf0a5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x56355ce708f8, cond=0x56355ce70920) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x56355ce70920, mutex=0x56355ce708f8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f1dfce2f59d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x56355ce70920) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x56355ce70920) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f1dfce27b15 in nni_cv_wait (cv=cv@entry=0x56355ce70920) at ./src/core/thread.c:51
#8  0x00007f1dfce2691b in nni_taskq_thread (self=<optimized out>) at ./src/core/taskq.c:64
#9  0x00007f1dfce27aaa in nni_thr_wrap (arg=0x56355ce70af8) at ./src/core/thread.c:94
#10 0x00007f1dfce2f2ff in nni_plat_thr_main (arg=0x56355ce70af8) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f1dfcf0b1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f1dfcf8b8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 8 (Thread 0x7f1df9d006c0 (LWP 21260) "nng:task"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x56355ce70948) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x56355ce70948, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f1dfcf07f7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x56355ce70948, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f1dfcf0a5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x56355ce708f8, cond=0x56355ce70920) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x56355ce70920, mutex=0x56355ce708f8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f1dfce2f59d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x56355ce70920) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x56355ce70920) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f1dfce27b15 in nni_cv_wait (cv=cv@entry=0x56355ce70920) at ./src/core/thread.c:51
#8  0x00007f1dfce2691b in nni_taskq_thread (self=<optimized out>) at ./src/core/taskq.c:64
#9  0x00007f1dfce27aaa in nni_thr_wrap (arg=0x56355ce70a58) at ./src/core/thread.c:94
#10 0x00007f1dfce2f2ff in nni_plat_thr_main (arg=0x56355ce70a58) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f1dfcf0b1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f1dfcf8b8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 7 (Thread 0x7f1dfa5016c0 (LWP 21259) "nng:task"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x56355ce7094c) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x56355ce7094c, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f1dfcf07f7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x56355ce7094c, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f1dfcf0a5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x56355ce708f8, cond=0x56355ce70920) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x56355ce70920, mutex=0x56355ce708f8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f1dfce2f59d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x56355ce70920) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x56355ce70920) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f1dfce27b15 in nni_cv_wait (cv=cv@entry=0x56355ce70920) at ./src/core/thread.c:51
#8  0x00007f1dfce2691b in nni_taskq_thread (self=<optimized out>) at ./src/core/taskq.c:64
#9  0x00007f1dfce27aaa in nni_thr_wrap (arg=0x56355ce709b8) at ./src/core/thread.c:94
#10 0x00007f1dfce2f2ff in nni_plat_thr_main (arg=0x56355ce709b8) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f1dfcf0b1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f1dfcf8b8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 6 (Thread 0x7f1dfad026c0 (LWP 21258) "nng:resolver"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f1dfce76a8c <resolv_cv+44>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f1dfce76a8c <resolv_cv+44>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f1dfcf07f7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f1dfce76a8c <resolv_cv+44>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f1dfcf0a5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f1dfce76aa0 <resolv_mtx>, cond=0x7f1dfce76a60 <resolv_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f1dfce76a60 <resolv_cv>, mutex=0x7f1dfce76aa0 <resolv_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f1dfce2f59d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f1dfce76a60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f1dfce76a60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f1dfce27b15 in nni_cv_wait (cv=cv@entry=0x7f1dfce76a60 <resolv_cv>) at ./src/core/thread.c:51
#8  0x00007f1dfce2c3e4 in resolv_worker (unused=<optimized out>) at ./src/platform/posix/posix_resolv_gai.c:312
#9  0x00007f1dfce27aaa in nni_thr_wrap (arg=0x7f1dfce769a8 <resolv_thrs+456>) at ./src/core/thread.c:94
#10 0x00007f1dfce2f2ff in nni_plat_thr_main (arg=0x7f1dfce769a8 <resolv_thrs+456>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f1dfcf0b1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f1dfcf8b8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 5 (Thread 0x7f1dfb5036c0 (LWP 21257) "nng:resolver"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f1dfce76a8c <resolv_cv+44>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f1dfce76a8c <resolv_cv+44>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f1dfcf07f7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f1dfce76a8c <resolv_cv+44>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f1dfcf0a5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f1dfce76aa0 <resolv_mtx>, cond=0x7f1dfce76a60 <resolv_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f1dfce76a60 <resolv_cv>, mutex=0x7f1dfce76aa0 <resolv_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f1dfce2f59d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f1dfce76a60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f1dfce76a60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f1dfce27b15 in nni_cv_wait (cv=cv@entry=0x7f1dfce76a60 <resolv_cv>) at ./src/core/thread.c:51
#8  0x00007f1dfce2c3e4 in resolv_worker (unused=<optimized out>) at ./src/platform/posix/posix_resolv_gai.c:312
#9  0x00007f1dfce27aaa in nni_thr_wrap (arg=0x7f1dfce76910 <resolv_thrs+304>) at ./src/core/thread.c:94
#10 0x00007f1dfce2f2ff in nni_plat_thr_main (arg=0x7f1dfce76910 <resolv_thrs+304>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f1dfcf0b1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f1dfcf8b8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 4 (Thread 0x7f1dfbd046c0 (LWP 21256) "nng:resolver"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f1dfce76a8c <resolv_cv+44>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f1dfce76a8c <resolv_cv+44>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f1dfcf07f7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f1dfce76a8c <resolv_cv+44>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f1dfcf0a5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f1dfce76aa0 <resolv_mtx>, cond=0x7f1dfce76a60 <resolv_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f1dfce76a60 <resolv_cv>, mutex=0x7f1dfce76aa0 <resolv_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f1dfce2f59d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f1dfce76a60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f1dfce76a60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f1dfce27b15 in nni_cv_wait (cv=cv@entry=0x7f1dfce76a60 <resolv_cv>) at ./src/core/thread.c:51
#8  0x00007f1dfce2c3e4 in resolv_worker (unused=<optimized out>) at ./src/platform/posix/posix_resolv_gai.c:312
#9  0x00007f1dfce27aaa in nni_thr_wrap (arg=0x7f1dfce76878 <resolv_thrs+152>) at ./src/core/thread.c:94
#10 0x00007f1dfce2f2ff in nni_plat_thr_main (arg=0x7f1dfce76878 <resolv_thrs+152>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f1dfcf0b1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f1dfcf8b8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 3 (Thread 0x7f1dfc5056c0 (LWP 21255) "nng:resolver"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f1dfce76a8c <resolv_cv+44>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f1dfce76a8c <resolv_cv+44>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f1dfcf07f7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f1dfce76a8c <resolv_cv+44>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f1dfcf0a5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f1dfce76aa0 <resolv_mtx>, cond=0x7f1dfce76a60 <resolv_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f1dfce76a60 <resolv_cv>, mutex=0x7f1dfce76aa0 <resolv_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f1dfce2f59d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f1dfce76a60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f1dfce76a60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f1dfce27b15 in nni_cv_wait (cv=cv@entry=0x7f1dfce76a60 <resolv_cv>) at ./src/core/thread.c:51
#8  0x00007f1dfce2c3e4 in resolv_worker (unused=<optimized out>) at ./src/platform/posix/posix_resolv_gai.c:312
#9  0x00007f1dfce27aaa in nni_thr_wrap (arg=0x7f1dfce767e0 <resolv_thrs>) at ./src/core/thread.c:94
#10 0x00007f1dfce2f2ff in nni_plat_thr_main (arg=0x7f1dfce767e0 <resolv_thrs>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f1dfcf0b1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f1dfcf8b8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 2 (Thread 0x7f1dfcd066c0 (LWP 21254) "nng:poll:epoll"):
#0  0x00007f1dfcf8af36 in epoll_wait (epfd=3, events=events@entry=0x7f1dfcd05ab0, maxevents=maxevents@entry=64, timeout=timeout@entry=-1) at ../sysdeps/unix/sysv/linux/epoll_wait.c:30
#1  0x00007f1dfce303c0 in nni_posix_poll_thr (arg=0x7f1dfce76b80 <nni_posix_global_pollq>) at ./src/platform/posix/posix_pollq_epoll.c:253
#2  0x00007f1dfce27aaa in nni_thr_wrap (arg=0x7f1dfce76bb8 <nni_posix_global_pollq+56>) at ./src/core/thread.c:94
#3  0x00007f1dfce2f2ff in nni_plat_thr_main (arg=0x7f1dfce76bb8 <nni_posix_global_pollq+56>) at ./src/platform/posix/posix_thread.c:266
#4  0x00007f1dfcf0b1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#5  0x00007f1dfcf8b8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 1 (Thread 0x7f1dfcd08080 (LWP 21217) "drv-old3"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7fff33247a40) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7fff33247a40, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f1dfcf07f7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7fff33247a40, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f1dfcf0a5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7fff332479f0, cond=0x7fff33247a18) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7fff33247a18, mutex=mutex@entry=0x7fff332479f0) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f1dfd07c04b in waiter_finish (rv=0, w=0x7fff332479f0) at ../participant-sdk/client.c:577
#6  dtx_client_query (client=client@entry=0x56355ce6f2b0, gid=gid@entry=0x56352556b027 "stall-probe", wait_ms=wait_ms@entry=0, ret_info=ret_info@entry=0x7fff33247a90) at ../participant-sdk/client.c:613
#7  0x00005635255695db in ask (c=c@entry=0x56355ce6f2b0) at /work/wt-stacks/tests/evidence/stall_driver.c:234
#8  0x0000563525569d4a in after_heal (c=0x56355ce6f2b0, cycle=cycle@entry=0, observe_ms=observe_ms@entry=150000) at /work/wt-stacks/tests/evidence/stall_driver.c:265
#9  0x000056352556a673 in main (argc=<optimized out>, argv=<optimized out>) at /work/wt-stacks/tests/evidence/stall_driver.c:468
[Inferior 1 (process 21217) detached]
