[New LWP 8614]
[New LWP 8615]
[New LWP 8616]
[New LWP 8617]
[New LWP 8618]
[New LWP 8619]
[New LWP 8620]
[New LWP 8621]
[New LWP 8622]
[New LWP 8623]
[New LWP 8624]
[New LWP 8625]
[New LWP 8626]
[New LWP 8627]
[Thread debugging using libthread_db enabled]
Using host libthread_db library "/lib/x86_64-linux-gnu/libthread_db.so.1".
0x00007f924aa76545 in __GI___clock_nanosleep (clock_id=clock_id@entry=0, flags=flags@entry=0, req=req@entry=0x7ffccfbe3b00, rem=rem@entry=0x0) at ../sysdeps/unix/sysv/linux/clock_nanosleep.c:48
48	../sysdeps/unix/sysv/linux/clock_nanosleep.c: No such file or directory.
  Id   Target Id                                         Frame 
* 1    Thread 0x7f924a82d080 (LWP 8514) "drv-new2"       0x00007f924aa76545 in __GI___clock_nanosleep (clock_id=clock_id@entry=0, flags=flags@entry=0, req=req@entry=0x7ffccfbe3b00, rem=rem@entry=0x0) at ../sysdeps/unix/sysv/linux/clock_nanosleep.c:48
  2    Thread 0x7f924a82b6c0 (LWP 8614) "nng:poll:epoll" 0x00007f924aaaff36 in epoll_wait (epfd=3, events=events@entry=0x7f924a82aab0, maxevents=maxevents@entry=64, timeout=timeout@entry=-1) at ../sysdeps/unix/sysv/linux/epoll_wait.c:30
  3    Thread 0x7f924a02a6c0 (LWP 8615) "nng:resolver"   __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f924a99ba88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
  4    Thread 0x7f92498296c0 (LWP 8616) "nng:resolver"   __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f924a99ba8c <resolv_cv+44>) at ./nptl/futex-internal.c:57
  5    Thread 0x7f92490286c0 (LWP 8617) "nng:resolver"   __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f924a99ba88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
  6    Thread 0x7f92488276c0 (LWP 8618) "nng:resolver"   __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f924a99ba8c <resolv_cv+44>) at ./nptl/futex-internal.c:57
  7    Thread 0x7f92480266c0 (LWP 8619) "nng:task"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x556508be9228) at ./nptl/futex-internal.c:57
  8    Thread 0x7f92478256c0 (LWP 8620) "nng:task"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x556508be9228) at ./nptl/futex-internal.c:57
  9    Thread 0x7f92470246c0 (LWP 8621) "nng:task"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x556508be9228) at ./nptl/futex-internal.c:57
  10   Thread 0x7f92468236c0 (LWP 8622) "nng:task"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x556508be9228) at ./nptl/futex-internal.c:57
  11   Thread 0x7f92460226c0 (LWP 8623) "nng:reap2"      __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f922c006068) at ./nptl/futex-internal.c:57
  12   Thread 0x7f92458216c0 (LWP 8624) "nng:timer"      __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f924a99b708 <nni_global_timer+136>) at ./nptl/futex-internal.c:57
  13   Thread 0x7f92450206c0 (LWP 8625) "nng:aio:expire" __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x7f924501fa30, op=393, expected=0, futex_word=0x556508be9c54) at ./nptl/futex-internal.c:57
  14   Thread 0x7f924481f6c0 (LWP 8626) "nng:aio:expire" __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x556508be9ea4) at ./nptl/futex-internal.c:57
  15   Thread 0x7f924401e6c0 (LWP 8627) "drv-new2"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x7f924401dea0, op=137, expected=0, futex_word=0x556508be8320) at ./nptl/futex-internal.c:57

Thread 15 (Thread 0x7f924401e6c0 (LWP 8627) "drv-new2"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x7f924401dea0, op=137, expected=0, futex_word=0x556508be8320) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x556508be8320, expected=expected@entry=0, clockid=clockid@entry=1, abstime=abstime@entry=0x7f924401dea0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f924aa2cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x556508be8320, expected=expected@entry=0, clockid=clockid@entry=1, abstime=abstime@entry=0x7f924401dea0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f924aa2f8bc in __pthread_cond_wait_common (abstime=0x7f924401dea0, clockid=1, mutex=0x556508be82d0, cond=0x556508be82f8) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_timedwait64 (cond=cond@entry=0x556508be82f8, mutex=mutex@entry=0x556508be82d0, abstime=abstime@entry=0x7f924401dea0) at ./nptl/pthread_cond_wait.c:643
#5  0x00007f924aba10e4 in keeper_main (arg=0x556508be82b0) at ../participant-sdk/client.c:183
#6  0x00007f924aa301f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#7  0x00007f924aab08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 14 (Thread 0x7f924481f6c0 (LWP 8626) "nng:aio:expire"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x556508be9ea4) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x556508be9ea4, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f924aa2cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x556508be9ea4, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f924aa2f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x556508be9e50, cond=0x556508be9e78) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=0x556508be9e78, mutex=0x556508be9e50) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f924a95459d in nni_pthread_cond_wait (m=<optimized out>, c=<optimized out>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=<optimized out>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f924a94cb49 in nni_cv_until (cv=cv@entry=0x556508be9e78, until=until@entry=18446744073709551615) at ./src/core/thread.c:60
#8  0x00007f924a94051b in nni_aio_expire_loop (arg=0x556508be9e50) at ./src/core/aio.c:616
#9  0x00007f924a94caaa in nni_thr_wrap (arg=0x556508be9ed0) at ./src/core/thread.c:94
#10 0x00007f924a9542ff in nni_plat_thr_main (arg=0x556508be9ed0) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f924aa301f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f924aab08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 13 (Thread 0x7f92450206c0 (LWP 8625) "nng:aio:expire"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x7f924501fa30, op=393, expected=0, futex_word=0x556508be9c54) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x556508be9c54, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x7f924501fa30, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f924aa2cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x556508be9c54, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x7f924501fa30, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f924aa2f8bc in __pthread_cond_wait_common (abstime=0x7f924501fa30, clockid=0, mutex=0x556508be9c00, cond=0x556508be9c28) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_timedwait64 (cond=cond@entry=0x556508be9c28, mutex=0x556508be9c00, abstime=abstime@entry=0x7f924501fa30) at ./nptl/pthread_cond_wait.c:643
#5  0x00007f924a954625 in nni_pthread_cond_timedwait (ts=0x7f924501fa30, m=<optimized out>, c=0x556508be9c28) at ./src/platform/posix/posix_thread.c:132
#6  nni_plat_cv_until (cv=cv@entry=0x556508be9c28, until=until@entry=1796658553048) at ./src/platform/posix/posix_thread.c:241
#7  0x00007f924a94cb30 in nni_cv_until (cv=cv@entry=0x556508be9c28, until=until@entry=1796658553048) at ./src/core/thread.c:67
#8  0x00007f924a94051b in nni_aio_expire_loop (arg=0x556508be9c00) at ./src/core/aio.c:616
#9  0x00007f924a94caaa in nni_thr_wrap (arg=0x556508be9c80) at ./src/core/thread.c:94
#10 0x00007f924a9542ff in nni_plat_thr_main (arg=0x556508be9c80) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f924aa301f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f924aab08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 12 (Thread 0x7f92458216c0 (LWP 8624) "nng:timer"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f924a99b708 <nni_global_timer+136>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f924a99b708 <nni_global_timer+136>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f924aa2cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f924a99b708 <nni_global_timer+136>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f924aa2f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f924a99b680 <nni_global_timer>, cond=0x7f924a99b6e0 <nni_global_timer+96>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f924a99b6e0 <nni_global_timer+96>, mutex=0x7f924a99b680 <nni_global_timer>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f924a95459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f924a99b6e0 <nni_global_timer+96>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f924a99b6e0 <nni_global_timer+96>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f924a94cb15 in nni_cv_wait (cv=cv@entry=0x7f924a99b6e0 <nni_global_timer+96>) at ./src/core/thread.c:51
#8  0x00007f924a94ce59 in nni_timer_loop (arg=0x7f924a99b680 <nni_global_timer>) at ./src/core/timer.c:155
#9  0x00007f924a94caaa in nni_thr_wrap (arg=0x7f924a99b730 <nni_global_timer+176>) at ./src/core/thread.c:94
#10 0x00007f924a9542ff in nni_plat_thr_main (arg=0x7f924a99b730 <nni_global_timer+176>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f924aa301f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f924aab08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 11 (Thread 0x7f92460226c0 (LWP 8623) "nng:reap2"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f922c006068) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f922c006068, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f924aa2cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f922c006068, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f924aa2f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f922c006018, cond=0x7f922c006040) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f922c006040, mutex=0x7f922c006018) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f924a95459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f922c006040) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f922c006040) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f924a94cb15 in nni_cv_wait (cv=cv@entry=0x7f922c006040) at ./src/core/thread.c:51
#8  0x00007f924a94bda8 in nni_task_wait (task=task@entry=0x7f922c005fe8) at ./src/core/taskq.c:205
#9  0x00007f924a940936 in nni_aio_wait (aio=0x7f922c005fc8) at ./src/core/aio.c:315
#10 0x00007f924a95dfd1 in req0_pipe_stop (arg=0x7f922c005db8) at ./src/sp/protocol/reqrep0/req.c:153
#11 0x00007f924a946819 in pipe_destroy (arg=0x7f922c005ac0) at ./src/core/pipe.c:75
#12 pipe_destroy (arg=0x7f922c005ac0) at ./src/core/pipe.c:53
#13 0x00007f924a9471aa in reap_worker (unused=<optimized out>) at ./src/core/reap.c:58
#14 0x00007f924a94caaa in nni_thr_wrap (arg=0x7f924a99b3a0 <reap_thr>) at ./src/core/thread.c:94
#15 0x00007f924a9542ff in nni_plat_thr_main (arg=0x7f924a99b3a0 <reap_thr>) at ./src/platform/posix/posix_thread.c:266
#16 0x00007f924aa301f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#17 0x00007f924aab08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 10 (Thread 0x7f92468236c0 (LWP 8622) "nng:task"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x556508be9228) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x556508be9228, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f924aa2cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x556508be9228, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f924aa2f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x556508be91d8, cond=0x556508be9200) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x556508be9200, mutex=0x556508be91d8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f924a95459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x556508be9200) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x556508be9200) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f924a94cb15 in nni_cv_wait (cv=cv@entry=0x556508be9200) at ./src/core/thread.c:51
#8  0x00007f924a94b91b in nni_taskq_thread (self=<optimized out>) at ./src/core/taskq.c:64
#9  0x00007f924a94caaa in nni_thr_wrap (arg=0x556508be9478) at ./src/core/thread.c:94
#10 0x00007f924a9542ff in nni_plat_thr_main (arg=0x556508be9478) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f924aa301f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f924aab08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 9 (Thread 0x7f92470246c0 (LWP 8621) "nng:task"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x556508be9228) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x556508be9228, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f924aa2cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x556508be9228, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f924aa2f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x556508be91d8, cond=0x556508be9200) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x556508be9200, mutex=0x556508be91d8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f924a95459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x556508be9200) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x556508be9200) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f924a94cb15 in nni_cv_wait (cv=cv@entry=0x556508be9200) at ./src/core/thread.c:51
#8  0x00007f924a94b91b in nni_taskq_thread (self=<optimized out>) at ./src/core/taskq.c:64
#9  0x00007f924a94caaa in nni_thr_wrap (arg=0x556508be93d8) at ./src/core/thread.c:94
#10 0x00007f924a9542ff in nni_plat_thr_main (arg=0x556508be93d8) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f924aa301f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f924aab08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 8 (Thread 0x7f92478256c0 (LWP 8620) "nng:task"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x556508be9228) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x556508be9228, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f924aa2cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x556508be9228, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f924aa2f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x556508be91d8, cond=0x556508be9200) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x556508be9200, mutex=0x556508be91d8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f924a95459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x556508be9200) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x556508be9200) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f924a94cb15 in nni_cv_wait (cv=cv@entry=0x556508be9200) at ./src/core/thread.c:51
#8  0x00007f924a94b91b in nni_taskq_thread (self=<optimized out>) at ./src/core/taskq.c:64
#9  0x00007f924a94caaa in nni_thr_wrap (arg=0x556508be9338) at ./src/core/thread.c:94
#10 0x00007f924a9542ff in nni_plat_thr_main (arg=0x556508be9338) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f924aa301f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f924aab08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 7 (Thread 0x7f92480266c0 (LWP 8619) "nng:task"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x556508be9228) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x556508be9228, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f924aa2cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x556508be9228, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f924aa2f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x556508be91d8, cond=0x556508be9200) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x556508be9200, mutex=0x556508be91d8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f924a95459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x556508be9200) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x556508be9200) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f924a94cb15 in nni_cv_wait (cv=cv@entry=0x556508be9200) at ./src/core/thread.c:51
#8  0x00007f924a94b91b in nni_taskq_thread (self=<optimized out>) at ./src/core/taskq.c:64
#9  0x00007f924a94caaa in nni_thr_wrap (arg=0x556508be9298) at ./src/core/thread.c:94
#10 0x00007f924a9542ff in nni_plat_thr_main (arg=0x556508be9298) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f924aa301f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f924aab08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 6 (Thread 0x7f92488276c0 (LWP 8618) "nng:resolver"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f924a99ba8c <resolv_cv+44>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f924a99ba8c <resolv_cv+44>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f924aa2cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f924a99ba8c <resolv_cv+44>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f924aa2f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f924a99baa0 <resolv_mtx>, cond=0x7f924a99ba60 <resolv_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f924a99ba60 <resolv_cv>, mutex=0x7f924a99baa0 <resolv_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f924a95459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f924a99ba60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f924a99ba60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f924a94cb15 in nni_cv_wait (cv=cv@entry=0x7f924a99ba60 <resolv_cv>) at ./src/core/thread.c:51
#8  0x00007f924a9513e4 in resolv_worker (unused=<optimized out>) at ./src/platform/posix/posix_resolv_gai.c:312
#9  0x00007f924a94caaa in nni_thr_wrap (arg=0x7f924a99b9a8 <resolv_thrs+456>) at ./src/core/thread.c:94
#10 0x00007f924a9542ff in nni_plat_thr_main (arg=0x7f924a99b9a8 <resolv_thrs+456>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f924aa301f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f924aab08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 5 (Thread 0x7f92490286c0 (LWP 8617) "nng:resolver"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f924a99ba88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f924a99ba88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f924aa2cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f924a99ba88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f924aa2f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f924a99baa0 <resolv_mtx>, cond=0x7f924a99ba60 <resolv_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f924a99ba60 <resolv_cv>, mutex=0x7f924a99baa0 <resolv_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f924a95459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f924a99ba60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f924a99ba60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f924a94cb15 in nni_cv_wait (cv=cv@entry=0x7f924a99ba60 <resolv_cv>) at ./src/core/thread.c:51
#8  0x00007f924a9513e4 in resolv_worker (unused=<optimized out>) at ./src/platform/posix/posix_resolv_gai.c:312
#9  0x00007f924a94caaa in nni_thr_wrap (arg=0x7f924a99b910 <resolv_thrs+304>) at ./src/core/thread.c:94
#10 0x00007f924a9542ff in nni_plat_thr_main (arg=0x7f924a99b910 <resolv_thrs+304>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f924aa301f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f924aab08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 4 (Thread 0x7f92498296c0 (LWP 8616) "nng:resolver"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f924a99ba8c <resolv_cv+44>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f924a99ba8c <resolv_cv+44>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f924aa2cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f924a99ba8c <resolv_cv+44>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f924aa2f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f924a99baa0 <resolv_mtx>, cond=0x7f924a99ba60 <resolv_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f924a99ba60 <resolv_cv>, mutex=0x7f924a99baa0 <resolv_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f924a95459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f924a99ba60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f924a99ba60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f924a94cb15 in nni_cv_wait (cv=cv@entry=0x7f924a99ba60 <resolv_cv>) at ./src/core/thread.c:51
#8  0x00007f924a9513e4 in resolv_worker (unused=<optimized out>) at ./src/platform/posix/posix_resolv_gai.c:312
#9  0x00007f924a94caaa in nni_thr_wrap (arg=0x7f924a99b878 <resolv_thrs+152>) at ./src/core/thread.c:94
#10 0x00007f924a9542ff in nni_plat_thr_main (arg=0x7f924a99b878 <resolv_thrs+152>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f924aa301f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f924aab08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 3 (Thread 0x7f924a02a6c0 (LWP 8615) "nng:resolver"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f924a99ba88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f924a99ba88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f924aa2cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f924a99ba88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f924aa2f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f924a99baa0 <resolv_mtx>, cond=0x7f924a99ba60 <resolv_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f924a99ba60 <resolv_cv>, mutex=0x7f924a99baa0 <resolv_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f924a95459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f924a99ba60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f924a99ba60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f924a94cb15 in nni_cv_wait (cv=cv@entry=0x7f924a99ba60 <resolv_cv>) at ./src/core/thread.c:51
#8  0x00007f924a9513e4 in resolv_worker (unused=<optimized out>) at ./src/platform/posix/posix_resolv_gai.c:312
#9  0x00007f924a94caaa in nni_thr_wrap (arg=0x7f924a99b7e0 <resolv_thrs>) at ./src/core/thread.c:94
#10 0x00007f924a9542ff in nni_plat_thr_main (arg=0x7f924a99b7e0 <resolv_thrs>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f924aa301f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f924aab08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 2 (Thread 0x7f924a82b6c0 (LWP 8614) "nng:poll:epoll"):
#0  0x00007f924aaaff36 in epoll_wait (epfd=3, events=events@entry=0x7f924a82aab0, maxevents=maxevents@entry=64, timeout=timeout@entry=-1) at ../sysdeps/unix/sysv/linux/epoll_wait.c:30
#1  0x00007f924a9553c0 in nni_posix_poll_thr (arg=0x7f924a99bb80 <nni_posix_global_pollq>) at ./src/platform/posix/posix_pollq_epoll.c:253
#2  0x00007f924a94caaa in nni_thr_wrap (arg=0x7f924a99bbb8 <nni_posix_global_pollq+56>) at ./src/core/thread.c:94
#3  0x00007f924a9542ff in nni_plat_thr_main (arg=0x7f924a99bbb8 <nni_posix_global_pollq+56>) at ./src/platform/posix/posix_thread.c:266
#4  0x00007f924aa301f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#5  0x00007f924aab08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 1 (Thread 0x7f924a82d080 (LWP 8514) "drv-new2"):
#0  0x00007f924aa76545 in __GI___clock_nanosleep (clock_id=clock_id@entry=0, flags=flags@entry=0, req=req@entry=0x7ffccfbe3b00, rem=rem@entry=0x0) at ../sysdeps/unix/sysv/linux/clock_nanosleep.c:48
#1  0x00007f924aa7ae53 in __GI___nanosleep (req=req@entry=0x7ffccfbe3b00, rem=rem@entry=0x0) at ../sysdeps/unix/sysv/linux/nanosleep.c:25
#2  0x00007f924aaa6295 in usleep (useconds=useconds@entry=200000) at ../sysdeps/posix/usleep.c:31
#3  0x00005564e7822dfc in keep_asking (c=c@entry=0x556508be82b0, ms=ms@entry=2000) at /work/wt-stacks/tests/evidence/stall_driver.c:249
#4  0x00005564e782343f in kill_load (observe_ms=30000, tries=<optimized out>) at /work/wt-stacks/tests/evidence/stall_driver.c:400
#5  main (argc=<optimized out>, argv=<optimized out>) at /work/wt-stacks/tests/evidence/stall_driver.c:443
[Inferior 1 (process 8514) detached]
