[New LWP 8596]
[New LWP 8597]
[New LWP 8598]
[New LWP 8602]
[New LWP 8603]
[New LWP 8604]
[New LWP 8605]
[New LWP 8607]
[New LWP 8608]
[New LWP 8609]
[New LWP 8610]
[New LWP 8611]
[New LWP 8612]
[New LWP 8613]
[Thread debugging using libthread_db enabled]
Using host libthread_db library "/lib/x86_64-linux-gnu/libthread_db.so.1".
0x00007f9ea48a6545 in __GI___clock_nanosleep (clock_id=clock_id@entry=0, flags=flags@entry=0, req=req@entry=0x7ffff15b64d0, rem=rem@entry=0x0) at ../sysdeps/unix/sysv/linux/clock_nanosleep.c:48
48	../sysdeps/unix/sysv/linux/clock_nanosleep.c: No such file or directory.
  Id   Target Id                                         Frame 
* 1    Thread 0x7f9ea465d080 (LWP 8511) "drv-new2"       0x00007f9ea48a6545 in __GI___clock_nanosleep (clock_id=clock_id@entry=0, flags=flags@entry=0, req=req@entry=0x7ffff15b64d0, rem=rem@entry=0x0) at ../sysdeps/unix/sysv/linux/clock_nanosleep.c:48
  2    Thread 0x7f9ea465b6c0 (LWP 8596) "nng:poll:epoll" 0x00007f9ea48dff36 in epoll_wait (epfd=3, events=events@entry=0x7f9ea465aab0, maxevents=maxevents@entry=64, timeout=timeout@entry=-1) at ../sysdeps/unix/sysv/linux/epoll_wait.c:30
  3    Thread 0x7f9ea3e5a6c0 (LWP 8597) "nng:resolver"   __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f9ea47cba88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
  4    Thread 0x7f9ea36596c0 (LWP 8598) "nng:resolver"   __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f9ea47cba88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
  5    Thread 0x7f9ea2e586c0 (LWP 8602) "nng:resolver"   __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f9ea47cba88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
  6    Thread 0x7f9ea26576c0 (LWP 8603) "nng:resolver"   __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f9ea47cba88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
  7    Thread 0x7f9ea1e566c0 (LWP 8604) "nng:task"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x5646cf9ed228) at ./nptl/futex-internal.c:57
  8    Thread 0x7f9ea16556c0 (LWP 8605) "nng:task"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x5646cf9ed228) at ./nptl/futex-internal.c:57
  9    Thread 0x7f9ea0e546c0 (LWP 8607) "nng:task"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x5646cf9ed228) at ./nptl/futex-internal.c:57
  10   Thread 0x7f9ea06536c0 (LWP 8608) "nng:task"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x5646cf9ed228) at ./nptl/futex-internal.c:57
  11   Thread 0x7f9e9fe526c0 (LWP 8609) "nng:reap2"      __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f9ea47cb348 <reap_work_cv+40>) at ./nptl/futex-internal.c:57
  12   Thread 0x7f9e9f6516c0 (LWP 8610) "nng:timer"      __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f9ea47cb708 <nni_global_timer+136>) at ./nptl/futex-internal.c:57
  13   Thread 0x7f9e9ee506c0 (LWP 8611) "nng:aio:expire" __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x7f9e9ee4fa30, op=393, expected=0, futex_word=0x5646cf9edc50) at ./nptl/futex-internal.c:57
  14   Thread 0x7f9e9e64f6c0 (LWP 8612) "nng:aio:expire" __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x7f9e9e64ea30, op=393, expected=0, futex_word=0x5646cf9edea4) at ./nptl/futex-internal.c:57
  15   Thread 0x7f9e9de4e6c0 (LWP 8613) "drv-new2"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x7f9e9de4dea0, op=137, expected=0, futex_word=0x5646cf9ec320) at ./nptl/futex-internal.c:57

Thread 15 (Thread 0x7f9e9de4e6c0 (LWP 8613) "drv-new2"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x7f9e9de4dea0, op=137, expected=0, futex_word=0x5646cf9ec320) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x5646cf9ec320, expected=expected@entry=0, clockid=clockid@entry=1, abstime=abstime@entry=0x7f9e9de4dea0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f9ea485cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x5646cf9ec320, expected=expected@entry=0, clockid=clockid@entry=1, abstime=abstime@entry=0x7f9e9de4dea0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f9ea485f8bc in __pthread_cond_wait_common (abstime=0x7f9e9de4dea0, clockid=1, mutex=0x5646cf9ec2d0, cond=0x5646cf9ec2f8) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_timedwait64 (cond=cond@entry=0x5646cf9ec2f8, mutex=mutex@entry=0x5646cf9ec2d0, abstime=abstime@entry=0x7f9e9de4dea0) at ./nptl/pthread_cond_wait.c:643
#5  0x00007f9ea49d10e4 in keeper_main (arg=0x5646cf9ec2b0) at ../participant-sdk/client.c:183
#6  0x00007f9ea48601f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#7  0x00007f9ea48e08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 14 (Thread 0x7f9e9e64f6c0 (LWP 8612) "nng:aio:expire"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x7f9e9e64ea30, op=393, expected=0, futex_word=0x5646cf9edea4) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x5646cf9edea4, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x7f9e9e64ea30, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f9ea485cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x5646cf9edea4, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x7f9e9e64ea30, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f9ea485f8bc in __pthread_cond_wait_common (abstime=0x7f9e9e64ea30, clockid=0, mutex=0x5646cf9ede50, cond=0x5646cf9ede78) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_timedwait64 (cond=cond@entry=0x5646cf9ede78, mutex=0x5646cf9ede50, abstime=abstime@entry=0x7f9e9e64ea30) at ./nptl/pthread_cond_wait.c:643
#5  0x00007f9ea4784625 in nni_pthread_cond_timedwait (ts=0x7f9e9e64ea30, m=<optimized out>, c=0x5646cf9ede78) at ./src/platform/posix/posix_thread.c:132
#6  nni_plat_cv_until (cv=cv@entry=0x5646cf9ede78, until=until@entry=1796658549829) at ./src/platform/posix/posix_thread.c:241
#7  0x00007f9ea477cb30 in nni_cv_until (cv=cv@entry=0x5646cf9ede78, until=until@entry=1796658549829) at ./src/core/thread.c:67
#8  0x00007f9ea477051b in nni_aio_expire_loop (arg=0x5646cf9ede50) at ./src/core/aio.c:616
#9  0x00007f9ea477caaa in nni_thr_wrap (arg=0x5646cf9eded0) at ./src/core/thread.c:94
#10 0x00007f9ea47842ff in nni_plat_thr_main (arg=0x5646cf9eded0) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f9ea48601f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f9ea48e08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 13 (Thread 0x7f9e9ee506c0 (LWP 8611) "nng:aio:expire"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x7f9e9ee4fa30, op=393, expected=0, futex_word=0x5646cf9edc50) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x5646cf9edc50, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x7f9e9ee4fa30, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f9ea485cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x5646cf9edc50, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x7f9e9ee4fa30, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f9ea485f8bc in __pthread_cond_wait_common (abstime=0x7f9e9ee4fa30, clockid=0, mutex=0x5646cf9edc00, cond=0x5646cf9edc28) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_timedwait64 (cond=cond@entry=0x5646cf9edc28, mutex=0x5646cf9edc00, abstime=abstime@entry=0x7f9e9ee4fa30) at ./nptl/pthread_cond_wait.c:643
#5  0x00007f9ea4784625 in nni_pthread_cond_timedwait (ts=0x7f9e9ee4fa30, m=<optimized out>, c=0x5646cf9edc28) at ./src/platform/posix/posix_thread.c:132
#6  nni_plat_cv_until (cv=cv@entry=0x5646cf9edc28, until=until@entry=1796658557416) at ./src/platform/posix/posix_thread.c:241
#7  0x00007f9ea477cb30 in nni_cv_until (cv=cv@entry=0x5646cf9edc28, until=until@entry=1796658557416) at ./src/core/thread.c:67
#8  0x00007f9ea477051b in nni_aio_expire_loop (arg=0x5646cf9edc00) at ./src/core/aio.c:616
#9  0x00007f9ea477caaa in nni_thr_wrap (arg=0x5646cf9edc80) at ./src/core/thread.c:94
#10 0x00007f9ea47842ff in nni_plat_thr_main (arg=0x5646cf9edc80) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f9ea48601f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f9ea48e08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 12 (Thread 0x7f9e9f6516c0 (LWP 8610) "nng:timer"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f9ea47cb708 <nni_global_timer+136>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f9ea47cb708 <nni_global_timer+136>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f9ea485cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f9ea47cb708 <nni_global_timer+136>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f9ea485f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f9ea47cb680 <nni_global_timer>, cond=0x7f9ea47cb6e0 <nni_global_timer+96>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f9ea47cb6e0 <nni_global_timer+96>, mutex=0x7f9ea47cb680 <nni_global_timer>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f9ea478459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f9ea47cb6e0 <nni_global_timer+96>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f9ea47cb6e0 <nni_global_timer+96>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f9ea477cb15 in nni_cv_wait (cv=cv@entry=0x7f9ea47cb6e0 <nni_global_timer+96>) at ./src/core/thread.c:51
#8  0x00007f9ea477ce59 in nni_timer_loop (arg=0x7f9ea47cb680 <nni_global_timer>) at ./src/core/timer.c:155
#9  0x00007f9ea477caaa in nni_thr_wrap (arg=0x7f9ea47cb730 <nni_global_timer+176>) at ./src/core/thread.c:94
#10 0x00007f9ea47842ff in nni_plat_thr_main (arg=0x7f9ea47cb730 <nni_global_timer+176>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f9ea48601f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f9ea48e08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 11 (Thread 0x7f9e9fe526c0 (LWP 8609) "nng:reap2"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f9ea47cb348 <reap_work_cv+40>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f9ea47cb348 <reap_work_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f9ea485cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f9ea47cb348 <reap_work_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f9ea485f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f9ea47cb360 <reap_mtx>, cond=0x7f9ea47cb320 <reap_work_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f9ea47cb320 <reap_work_cv>, mutex=0x7f9ea47cb360 <reap_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f9ea478459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f9ea47cb320 <reap_work_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f9ea47cb320 <reap_work_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f9ea477cb15 in nni_cv_wait (cv=cv@entry=0x7f9ea47cb320 <reap_work_cv>) at ./src/core/thread.c:51
#8  0x00007f9ea47771f0 in reap_worker (unused=<optimized out>) at ./src/core/reap.c:69
#9  0x00007f9ea477caaa in nni_thr_wrap (arg=0x7f9ea47cb3a0 <reap_thr>) at ./src/core/thread.c:94
#10 0x00007f9ea47842ff in nni_plat_thr_main (arg=0x7f9ea47cb3a0 <reap_thr>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f9ea48601f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f9ea48e08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 10 (Thread 0x7f9ea06536c0 (LWP 8608) "nng:task"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x5646cf9ed228) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x5646cf9ed228, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f9ea485cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x5646cf9ed228, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f9ea485f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x5646cf9ed1d8, cond=0x5646cf9ed200) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x5646cf9ed200, mutex=0x5646cf9ed1d8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f9ea478459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x5646cf9ed200) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x5646cf9ed200) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f9ea477cb15 in nni_cv_wait (cv=cv@entry=0x5646cf9ed200) at ./src/core/thread.c:51
#8  0x00007f9ea477b91b in nni_taskq_thread (self=<optimized out>) at ./src/core/taskq.c:64
#9  0x00007f9ea477caaa in nni_thr_wrap (arg=0x5646cf9ed478) at ./src/core/thread.c:94
#10 0x00007f9ea47842ff in nni_plat_thr_main (arg=0x5646cf9ed478) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f9ea48601f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f9ea48e08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 9 (Thread 0x7f9ea0e546c0 (LWP 8607) "nng:task"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x5646cf9ed228) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x5646cf9ed228, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f9ea485cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x5646cf9ed228, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f9ea485f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x5646cf9ed1d8, cond=0x5646cf9ed200) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x5646cf9ed200, mutex=0x5646cf9ed1d8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f9ea478459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x5646cf9ed200) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x5646cf9ed200) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f9ea477cb15 in nni_cv_wait (cv=cv@entry=0x5646cf9ed200) at ./src/core/thread.c:51
#8  0x00007f9ea477b91b in nni_taskq_thread (self=<optimized out>) at ./src/core/taskq.c:64
#9  0x00007f9ea477caaa in nni_thr_wrap (arg=0x5646cf9ed3d8) at ./src/core/thread.c:94
#10 0x00007f9ea47842ff in nni_plat_thr_main (arg=0x5646cf9ed3d8) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f9ea48601f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f9ea48e08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 8 (Thread 0x7f9ea16556c0 (LWP 8605) "nng:task"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x5646cf9ed228) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x5646cf9ed228, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f9ea485cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x5646cf9ed228, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f9ea485f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x5646cf9ed1d8, cond=0x5646cf9ed200) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x5646cf9ed200, mutex=0x5646cf9ed1d8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f9ea478459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x5646cf9ed200) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x5646cf9ed200) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f9ea477cb15 in nni_cv_wait (cv=cv@entry=0x5646cf9ed200) at ./src/core/thread.c:51
#8  0x00007f9ea477b91b in nni_taskq_thread (self=<optimized out>) at ./src/core/taskq.c:64
#9  0x00007f9ea477caaa in nni_thr_wrap (arg=0x5646cf9ed338) at ./src/core/thread.c:94
#10 0x00007f9ea47842ff in nni_plat_thr_main (arg=0x5646cf9ed338) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f9ea48601f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f9ea48e08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 7 (Thread 0x7f9ea1e566c0 (LWP 8604) "nng:task"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x5646cf9ed228) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x5646cf9ed228, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f9ea485cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x5646cf9ed228, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f9ea485f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x5646cf9ed1d8, cond=0x5646cf9ed200) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x5646cf9ed200, mutex=0x5646cf9ed1d8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f9ea478459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x5646cf9ed200) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x5646cf9ed200) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f9ea477cb15 in nni_cv_wait (cv=cv@entry=0x5646cf9ed200) at ./src/core/thread.c:51
#8  0x00007f9ea477b91b in nni_taskq_thread (self=<optimized out>) at ./src/core/taskq.c:64
#9  0x00007f9ea477caaa in nni_thr_wrap (arg=0x5646cf9ed298) at ./src/core/thread.c:94
#10 0x00007f9ea47842ff in nni_plat_thr_main (arg=0x5646cf9ed298) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f9ea48601f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f9ea48e08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 6 (Thread 0x7f9ea26576c0 (LWP 8603) "nng:resolver"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f9ea47cba88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f9ea47cba88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f9ea485cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f9ea47cba88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f9ea485f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f9ea47cbaa0 <resolv_mtx>, cond=0x7f9ea47cba60 <resolv_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f9ea47cba60 <resolv_cv>, mutex=0x7f9ea47cbaa0 <resolv_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f9ea478459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f9ea47cba60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f9ea47cba60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f9ea477cb15 in nni_cv_wait (cv=cv@entry=0x7f9ea47cba60 <resolv_cv>) at ./src/core/thread.c:51
#8  0x00007f9ea47813e4 in resolv_worker (unused=<optimized out>) at ./src/platform/posix/posix_resolv_gai.c:312
#9  0x00007f9ea477caaa in nni_thr_wrap (arg=0x7f9ea47cb9a8 <resolv_thrs+456>) at ./src/core/thread.c:94
#10 0x00007f9ea47842ff in nni_plat_thr_main (arg=0x7f9ea47cb9a8 <resolv_thrs+456>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f9ea48601f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f9ea48e08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 5 (Thread 0x7f9ea2e586c0 (LWP 8602) "nng:resolver"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f9ea47cba88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f9ea47cba88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f9ea485cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f9ea47cba88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f9ea485f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f9ea47cbaa0 <resolv_mtx>, cond=0x7f9ea47cba60 <resolv_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f9ea47cba60 <resolv_cv>, mutex=0x7f9ea47cbaa0 <resolv_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f9ea478459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f9ea47cba60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f9ea47cba60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f9ea477cb15 in nni_cv_wait (cv=cv@entry=0x7f9ea47cba60 <resolv_cv>) at ./src/core/thread.c:51
#8  0x00007f9ea47813e4 in resolv_worker (unused=<optimized out>) at ./src/platform/posix/posix_resolv_gai.c:312
#9  0x00007f9ea477caaa in nni_thr_wrap (arg=0x7f9ea47cb910 <resolv_thrs+304>) at ./src/core/thread.c:94
#10 0x00007f9ea47842ff in nni_plat_thr_main (arg=0x7f9ea47cb910 <resolv_thrs+304>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f9ea48601f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f9ea48e08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 4 (Thread 0x7f9ea36596c0 (LWP 8598) "nng:resolver"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f9ea47cba88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f9ea47cba88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f9ea485cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f9ea47cba88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f9ea485f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f9ea47cbaa0 <resolv_mtx>, cond=0x7f9ea47cba60 <resolv_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f9ea47cba60 <resolv_cv>, mutex=0x7f9ea47cbaa0 <resolv_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f9ea478459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f9ea47cba60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f9ea47cba60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f9ea477cb15 in nni_cv_wait (cv=cv@entry=0x7f9ea47cba60 <resolv_cv>) at ./src/core/thread.c:51
#8  0x00007f9ea47813e4 in resolv_worker (unused=<optimized out>) at ./src/platform/posix/posix_resolv_gai.c:312
#9  0x00007f9ea477caaa in nni_thr_wrap (arg=0x7f9ea47cb878 <resolv_thrs+152>) at ./src/core/thread.c:94
#10 0x00007f9ea47842ff in nni_plat_thr_main (arg=0x7f9ea47cb878 <resolv_thrs+152>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f9ea48601f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f9ea48e08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 3 (Thread 0x7f9ea3e5a6c0 (LWP 8597) "nng:resolver"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f9ea47cba88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f9ea47cba88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f9ea485cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f9ea47cba88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f9ea485f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f9ea47cbaa0 <resolv_mtx>, cond=0x7f9ea47cba60 <resolv_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f9ea47cba60 <resolv_cv>, mutex=0x7f9ea47cbaa0 <resolv_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f9ea478459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f9ea47cba60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f9ea47cba60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f9ea477cb15 in nni_cv_wait (cv=cv@entry=0x7f9ea47cba60 <resolv_cv>) at ./src/core/thread.c:51
#8  0x00007f9ea47813e4 in resolv_worker (unused=<optimized out>) at ./src/platform/posix/posix_resolv_gai.c:312
#9  0x00007f9ea477caaa in nni_thr_wrap (arg=0x7f9ea47cb7e0 <resolv_thrs>) at ./src/core/thread.c:94
#10 0x00007f9ea47842ff in nni_plat_thr_main (arg=0x7f9ea47cb7e0 <resolv_thrs>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f9ea48601f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f9ea48e08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 2 (Thread 0x7f9ea465b6c0 (LWP 8596) "nng:poll:epoll"):
#0  0x00007f9ea48dff36 in epoll_wait (epfd=3, events=events@entry=0x7f9ea465aab0, maxevents=maxevents@entry=64, timeout=timeout@entry=-1) at ../sysdeps/unix/sysv/linux/epoll_wait.c:30
#1  0x00007f9ea47853c0 in nni_posix_poll_thr (arg=0x7f9ea47cbb80 <nni_posix_global_pollq>) at ./src/platform/posix/posix_pollq_epoll.c:253
#2  0x00007f9ea477caaa in nni_thr_wrap (arg=0x7f9ea47cbbb8 <nni_posix_global_pollq+56>) at ./src/core/thread.c:94
#3  0x00007f9ea47842ff in nni_plat_thr_main (arg=0x7f9ea47cbbb8 <nni_posix_global_pollq+56>) at ./src/platform/posix/posix_thread.c:266
#4  0x00007f9ea48601f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#5  0x00007f9ea48e08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 1 (Thread 0x7f9ea465d080 (LWP 8511) "drv-new2"):
#0  0x00007f9ea48a6545 in __GI___clock_nanosleep (clock_id=clock_id@entry=0, flags=flags@entry=0, req=req@entry=0x7ffff15b64d0, rem=rem@entry=0x0) at ../sysdeps/unix/sysv/linux/clock_nanosleep.c:48
#1  0x00007f9ea48aae53 in __GI___nanosleep (req=req@entry=0x7ffff15b64d0, rem=rem@entry=0x0) at ../sysdeps/unix/sysv/linux/nanosleep.c:25
#2  0x00007f9ea48d6295 in usleep (useconds=useconds@entry=200000) at ../sysdeps/posix/usleep.c:31
#3  0x00005646c7b3fdfc in keep_asking (c=0x5646cf9ec2b0, ms=ms@entry=3000) at /work/wt-stacks/tests/evidence/stall_driver.c:249
#4  0x00005646c7b40768 in main (argc=<optimized out>, argv=<optimized out>) at /work/wt-stacks/tests/evidence/stall_driver.c:478
[Inferior 1 (process 8511) detached]
