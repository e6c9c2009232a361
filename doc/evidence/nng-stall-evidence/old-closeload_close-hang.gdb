[New LWP 21267]
[New LWP 21268]
[New LWP 21269]
[New LWP 21270]
[New LWP 21271]
[New LWP 21272]
[New LWP 21273]
[New LWP 21274]
[New LWP 21275]
[New LWP 21276]
[New LWP 21277]
[New LWP 21278]
[New LWP 21279]
[New LWP 21345]
[Thread debugging using libthread_db enabled]
Using host libthread_db library "/lib/x86_64-linux-gnu/libthread_db.so.1".
0x00007fda48b15c17 in __GI___wait4 (pid=22502, stat_loc=stat_loc@entry=0x0, options=options@entry=0, usage=usage@entry=0x0) at ../sysdeps/unix/sysv/linux/wait4.c:30
30	../sysdeps/unix/sysv/linux/wait4.c: No such file or directory.
  Id   Target Id                                          Frame 
* 1    Thread 0x7fda488c8080 (LWP 21216) "drv-old3"       0x00007fda48b15c17 in __GI___wait4 (pid=22502, stat_loc=stat_loc@entry=0x0, options=options@entry=0, usage=usage@entry=0x0) at ../sysdeps/unix/sysv/linux/wait4.c:30
  2    Thread 0x7fda488c66c0 (LWP 21267) "nng:poll:epoll" 0x00007fda48b4af36 in epoll_wait (epfd=3, events=events@entry=0x7fda488c5ab0, maxevents=maxevents@entry=64, timeout=timeout@entry=-1) at ../sysdeps/unix/sysv/linux/epoll_wait.c:30
  3    Thread 0x7fda480c56c0 (LWP 21268) "nng:resolver"   __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7fda48a36a8c <resolv_cv+44>) at ./nptl/futex-internal.c:57
  4    Thread 0x7fda478c46c0 (LWP 21269) "nng:resolver"   __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7fda48a36a88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
  5    Thread 0x7fda470c36c0 (LWP 21270) "nng:resolver"   __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7fda48a36a88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
  6    Thread 0x7fda468c26c0 (LWP 21271) "nng:resolver"   __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7fda48a36a88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
  7    Thread 0x7fda460c16c0 (LWP 21272) "nng:task"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55a57f298948) at ./nptl/futex-internal.c:57
  8    Thread 0x7fda458c06c0 (LWP 21273) "nng:task"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55a57f298948) at ./nptl/futex-internal.c:57
  9    Thread 0x7fda450bf6c0 (LWP 21274) "nng:task"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55a57f298948) at ./nptl/futex-internal.c:57
  10   Thread 0x7fda448be6c0 (LWP 21275) "nng:task"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55a57f298948) at ./nptl/futex-internal.c:57
  11   Thread 0x7fda440bd6c0 (LWP 21276) "nng:reap2"      __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7fda300056e8) at ./nptl/futex-internal.c:57
  12   Thread 0x7fda438bc6c0 (LWP 21277) "nng:timer"      __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7fda48a36708 <nni_global_timer+136>) at ./nptl/futex-internal.c:57
  13   Thread 0x7fda430bb6c0 (LWP 21278) "nng:aio:expire" __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55a57f299370) at ./nptl/futex-internal.c:57
  14   Thread 0x7fda428ba6c0 (LWP 21279) "nng:aio:expire" __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55a57f2995c4) at ./nptl/futex-internal.c:57
  15   Thread 0x7fda420b96c0 (LWP 21345) "drv-old3"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55a57f2a0980) at ./nptl/futex-internal.c:57

Thread 15 (Thread 0x7fda420b96c0 (LWP 21345) "drv-old3"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55a57f2a0980) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x55a57f2a0980, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007fda48ac7f7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x55a57f2a0980, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007fda48aca5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x55a57f2a0930, cond=0x55a57f2a0958) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x55a57f2a0958, mutex=0x55a57f2a0930) at ./nptl/pthread_cond_wait.c:618
#5  0x00007fda489ef59d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x55a57f2a0958) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x55a57f2a0958) at ./src/platform/posix/posix_thread.c:229
#7  0x00007fda489e7b15 in nni_cv_wait (cv=cv@entry=0x55a57f2a0958) at ./src/core/thread.c:51
#8  0x00007fda489e2de0 in nni_sock_shutdown (sock=sock@entry=0x55a57f2a0920) at ./src/core/socket.c:759
#9  0x00007fda489e2e8a in nni_sock_close (s=0x55a57f2a0920) at ./src/core/socket.c:785
#10 0x00007fda489d6362 in nng_close (s=...) at ./src/nng.c:45
#11 0x00007fda48c3baba in dtx_client_close (client=0x55a57f2972b0) at ../participant-sdk/client.c:162
#12 0x000055a564460f6e in closer (arg=<optimized out>) at /work/wt-stacks/tests/evidence/stall_driver.c:322
#13 0x00007fda48acb1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#14 0x00007fda48b4b8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 14 (Thread 0x7fda428ba6c0 (LWP 21279) "nng:aio:expire"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55a57f2995c4) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x55a57f2995c4, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007fda48ac7f7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x55a57f2995c4, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007fda48aca5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x55a57f299570, cond=0x55a57f299598) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=0x55a57f299598, mutex=0x55a57f299570) at ./nptl/pthread_cond_wait.c:618
#5  0x00007fda489ef59d in nni_pthread_cond_wait (m=<optimized out>, c=<optimized out>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=<optimized out>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007fda489e7b49 in nni_cv_until (cv=cv@entry=0x55a57f299598, until=until@entry=18446744073709551615) at ./src/core/thread.c:60
#8  0x00007fda489db51b in nni_aio_expire_loop (arg=0x55a57f299570) at ./src/core/aio.c:616
#9  0x00007fda489e7aaa in nni_thr_wrap (arg=0x55a57f2995f0) at ./src/core/thread.c:94
#10 0x00007fda489ef2ff in nni_plat_thr_main (arg=0x55a57f2995f0) at ./src/platform/posix/posix_thread.c:266
#11 0x00007fda48acb1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007fda48b4b8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 13 (Thread 0x7fda430bb6c0 (LWP 21278) "nng:aio:expire"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55a57f299370) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x55a57f299370, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007fda48ac7f7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x55a57f299370, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007fda48aca5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x55a57f299320, cond=0x55a57f299348) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=0x55a57f299348, mutex=0x55a57f299320) at ./nptl/pthread_cond_wait.c:618
#5  0x00007fda489ef59d in nni_pthread_cond_wait (m=<optimized out>, c=<optimized out>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=<optimized out>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007fda489e7b49 in nni_cv_until (cv=cv@entry=0x55a57f299348, until=until@entry=18446744073709551615) at ./src/core/thread.c:60
#8  0x00007fda489db51b in nni_aio_expire_loop (arg=0x55a57f299320) at ./src/core/aio.c:616
#9  0x00007fda489e7aaa in nni_thr_wrap (arg=0x55a57f2993a0) at ./src/core/thread.c:94
#10 0x00007fda489ef2ff in nni_plat_thr_main (arg=0x55a57f2993a0) at ./src/platform/posix/posix_thread.c:266
#11 0x00007fda48acb1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007fda48b4b8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 12 (Thread 0x7fda438bc6c0 (LWP 21277) "nng:timer"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7fda48a36708 <nni_global_timer+136>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7fda48a36708 <nni_global_timer+136>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007fda48ac7f7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7fda48a36708 <nni_global_timer+136>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007fda48aca5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7fda48a36680 <nni_global_timer>, cond=0x7fda48a366e0 <nni_global_timer+96>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7fda48a366e0 <nni_global_timer+96>, mutex=0x7fda48a36680 <nni_global_timer>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007fda489ef59d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7fda48a366e0 <nni_global_timer+96>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7fda48a366e0 <nni_global_timer+96>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007fda489e7b15 in nni_cv_wait (cv=cv@entry=0x7fda48a366e0 <nni_global_timer+96>) at ./src/core/thread.c:51
#8  0x00007fda489e7e59 in nni_timer_loop (arg=0x7fda48a36680 <nni_global_timer>) at ./src/core/timer.c:155
#9  0x00007fda489e7aaa in nni_thr_wrap (arg=0x7fda48a36730 <nni_global_timer+176>) at ./src/core/thread.c:94
#10 0x00007fda489ef2ff in nni_plat_thr_main (arg=0x7fda48a36730 <nni_global_timer+176>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007fda48acb1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007fda48b4b8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 11 (Thread 0x7fda440bd6c0 (LWP 21276) "nng:reap2"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7fda300056e8) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7fda300056e8, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007fda48ac7f7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7fda300056e8, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007fda48aca5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7fda30005698, cond=0x7fda300056c0) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7fda300056c0, mutex=0x7fda30005698) at ./nptl/pthread_cond_wait.c:618
#5  0x00007fda489ef59d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7fda300056c0) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7fda300056c0) at ./src/platform/posix/posix_thread.c:229
#7  0x00007fda489e7b15 in nni_cv_wait (cv=cv@entry=0x7fda300056c0) at ./src/core/thread.c:51
#8  0x00007fda489e6da8 in nni_task_wait (task=task@entry=0x7fda30005668) at ./src/core/taskq.c:205
#9  0x00007fda489db936 in nni_aio_wait (aio=0x7fda30005648) at ./src/core/aio.c:315
#10 0x00007fda489f8fd1 in req0_pipe_stop (arg=0x7fda30005438) at ./src/sp/protocol/reqrep0/req.c:153
#11 0x00007fda489e1819 in pipe_destroy (arg=0x7fda30005140) at ./src/core/pipe.c:75
#12 pipe_destroy (arg=0x7fda30005140) at ./src/core/pipe.c:53
#13 0x00007fda489e21aa in reap_worker (unused=<optimized out>) at ./src/core/reap.c:58
#14 0x00007fda489e7aaa in nni_thr_wrap (arg=0x7fda48a363a0 <reap_thr>) at ./src/core/thread.c:94
#15 0x00007fda489ef2ff in nni_plat_thr_main (arg=0x7fda48a363a0 <reap_thr>) at ./src/platform/posix/posix_thread.c:266
#16 0x00007fda48acb1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#17 0x00007fda48b4b8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 10 (Thread 0x7fda448be6c0 (LWP 21275) "nng:task"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55a57f298948) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x55a57f298948, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007fda48ac7f7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x55a57f298948, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007fda48aca5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x55a57f2988f8, cond=0x55a57f298920) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x55a57f298920, mutex=0x55a57f2988f8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007fda489ef59d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x55a57f298920) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x55a57f298920) at ./src/platform/posix/posix_thread.c:229
#7  0x00007fda489e7b15 in nni_cv_wait (cv=cv@entry=0x55a57f298920) at ./src/core/thread.c:51
#8  0x00007fda489e691b in nni_taskq_thread (self=<optimized out>) at ./src/core/taskq.c:64
#9  0x00007fda489e7aaa in nni_thr_wrap (arg=0x55a57f298b98) at ./src/core/thread.c:94
#10 0x00007fda489ef2ff in nni_plat_thr_main (arg=0x55a57f298b98) at ./src/platform/posix/posix_thread.c:266
#11 0x00007fda48acb1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007fda48b4b8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 9 (Thread 0x7fda450bf6c0 (LWP 21274) "nng:task"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55a57f298948) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x55a57f298948, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007fda48ac7f7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x55a57f298948, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007fda48aca5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x55a57f2988f8, cond=0x55a57f298920) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x55a57f298920, mutex=0x55a57f2988f8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007fda489ef59d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x55a57f298920) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x55a57f298920) at ./src/platform/posix/posix_thread.c:229
#7  0x00007fda489e7b15 in nni_cv_wait (cv=cv@entry=0x55a57f298920) at ./src/core/thread.c:51
#8  0x00007fda489e691b in nni_taskq_thread (self=<optimized out>) at ./src/core/taskq.c:64
#9  0x00007fda489e7aaa in nni_thr_wrap (arg=0x55a57f298af8) at ./src/core/thread.c:94
#10 0x00007fda489ef2ff in nni_plat_thr_main (arg=0x55a57f298af8) at ./src/platform/posix/posix_thread.c:266
#11 0x00007fda48acb1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007fda48b4b8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 8 (Thread 0x7fda458c06c0 (LWP 21273) "nng:task"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55a57f298948) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x55a57f298948, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007fda48ac7f7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x55a57f298948, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007fda48aca5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x55a57f2988f8, cond=0x55a57f298920) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x55a57f298920, mutex=0x55a57f2988f8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007fda489ef59d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x55a57f298920) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x55a57f298920) at ./src/platform/posix/posix_thread.c:229
#7  0x00007fda489e7b15 in nni_cv_wait (cv=cv@entry=0x55a57f298920) at ./src/core/thread.c:51
#8  0x00007fda489e691b in nni_taskq_thread (self=<optimized out>) at ./src/core/taskq.c:64
#9  0x00007fda489e7aaa in nni_thr_wrap (arg=0x55a57f298a58) at ./src/core/thread.c:94
#10 0x00007fda489ef2ff in nni_plat_thr_main (arg=0x55a57f298a58) at ./src/platform/posix/posix_thread.c:266
#11 0x00007fda48acb1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007fda48b4b8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 7 (Thread 0x7fda460c16c0 (LWP 21272) "nng:task"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55a57f298948) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x55a57f298948, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007fda48ac7f7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x55a57f298948, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007fda48aca5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x55a57f2988f8, cond=0x55a57f298920) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x55a57f298920, mutex=0x55a57f2988f8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007fda489ef59d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x55a57f298920) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x55a57f298920) at ./src/platform/posix/posix_thread.c:229
#7  0x00007fda489e7b15 in nni_cv_wait (cv=cv@entry=0x55a57f298920) at ./src/core/thread.c:51
#8  0x00007fda489e691b in nni_taskq_thread (self=<optimized out>) at ./src/core/taskq.c:64
#9  0x00007fda489e7aaa in nni_thr_wrap (arg=0x55a57f2989b8) at ./src/core/thread.c:94
#10 0x00007fda489ef2ff in nni_plat_thr_main (arg=0x55a57f2989b8) at ./src/platform/posix/posix_thread.c:266
#11 0x00007fda48acb1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007fda48b4b8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 6 (Thread 0x7fda468c26c0 (LWP 21271) "nng:resolver"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7fda48a36a88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7fda48a36a88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007fda48ac7f7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7fda48a36a88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007fda48aca5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7fda48a36aa0 <resolv_mtx>, cond=0x7fda48a36a60 <resolv_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7fda48a36a60 <resolv_cv>, mutex=0x7fda48a36aa0 <resolv_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007fda489ef59d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7fda48a36a60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7fda48a36a60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007fda489e7b15 in nni_cv_wait (cv=cv@entry=0x7fda48a36a60 <resolv_cv>) at ./src/core/thread.c:51
#8  0x00007fda489ec3e4 in resolv_worker (unused=<optimized out>) at ./src/platform/posix/posix_resolv_gai.c:312
#9  0x00007fda489e7aaa in nni_thr_wrap (arg=0x7fda48a369a8 <resolv_thrs+456>) at ./src/core/thread.c:94
#10 0x00007fda489ef2ff in nni_plat_thr_main (arg=0x7fda48a369a8 <resolv_thrs+456>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007fda48acb1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007fda48b4b8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 5 (Thread 0x7fda470c36c0 (LWP 21270) "nng:resolver"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7fda48a36a88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7fda48a36a88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007fda48ac7f7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7fda48a36a88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007fda48aca5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7fda48a36aa0 <resolv_mtx>, cond=0x7fda48a36a60 <resolv_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7fda48a36a60 <resolv_cv>, mutex=0x7fda48a36aa0 <resolv_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007fda489ef59d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7fda48a36a60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7fda48a36a60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007fda489e7b15 in nni_cv_wait (cv=cv@entry=0x7fda48a36a60 <resolv_cv>) at ./src/core/thread.c:51
#8  0x00007fda489ec3e4 in resolv_worker (unused=<optimized out>) at ./src/platform/posix/posix_resolv_gai.c:312
#9  0x00007fda489e7aaa in nni_thr_wrap (arg=0x7fda48a36910 <resolv_thrs+304>) at ./src/core/thread.c:94
#10 0x00007fda489ef2ff in nni_plat_thr_main (arg=0x7fda48a36910 <resolv_thrs+304>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007fda48acb1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007fda48b4b8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 4 (Thread 0x7fda478c46c0 (LWP 21269) "nng:resolver"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7fda48a36a88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7fda48a36a88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007fda48ac7f7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7fda48a36a88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007fda48aca5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7fda48a36aa0 <resolv_mtx>, cond=0x7fda48a36a60 <resolv_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7fda48a36a60 <resolv_cv>, mutex=0x7fda48a36aa0 <resolv_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007fda489ef59d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7fda48a36a60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7fda48a36a60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007fda489e7b15 in nni_cv_wait (cv=cv@entry=0x7fda48a36a60 <resolv_cv>) at ./src/core/thread.c:51
#8  0x00007fda489ec3e4 in resolv_worker (unused=<optimized out>) at ./src/platform/posix/posix_resolv_gai.c:312
#9  0x00007fda489e7aaa in nni_thr_wrap (arg=0x7fda48a36878 <resolv_thrs+152>) at ./src/core/thread.c:94
#10 0x00007fda489ef2ff in nni_plat_thr_main (arg=0x7fda48a36878 <resolv_thrs+152>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007fda48acb1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007fda48b4b8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 3 (Thread 0x7fda480c56c0 (LWP 21268) "nng:resolver"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7fda48a36a8c <resolv_cv+44>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7fda48a36a8c <resolv_cv+44>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007fda48ac7f7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7fda48a36a8c <resolv_cv+44>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007fda48aca5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7fda48a36aa0 <resolv_mtx>, cond=0x7fda48a36a60 <resolv_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7fda48a36a60 <resolv_cv>, mutex=0x7fda48a36aa0 <resolv_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007fda489ef59d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7fda48a36a60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7fda48a36a60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007fda489e7b15 in nni_cv_wait (cv=cv@entry=0x7fda48a36a60 <resolv_cv>) at ./src/core/thread.c:51
#8  0x00007fda489ec3e4 in resolv_worker (unused=<optimized out>) at ./src/platform/posix/posix_resolv_gai.c:312
#9  0x00007fda489e7aaa in nni_thr_wrap (arg=0x7fda48a367e0 <resolv_thrs>) at ./src/core/thread.c:94
#10 0x00007fda489ef2ff in nni_plat_thr_main (arg=0x7fda48a367e0 <resolv_thrs>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007fda48acb1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007fda48b4b8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 2 (Thread 0x7fda488c66c0 (LWP 21267) "nng:poll:epoll"):
#0  0x00007fda48b4af36 in epoll_wait (epfd=3, events=events@entry=0x7fda488c5ab0, maxevents=maxevents@entry=64, timeout=timeout@entry=-1) at ../sysdeps/unix/sysv/linux/epoll_wait.c:30
#1  0x00007fda489f03c0 in nni_posix_poll_thr (arg=0x7fda48a36b80 <nni_posix_global_pollq>) at ./src/platform/posix/posix_pollq_epoll.c:253
#2  0x00007fda489e7aaa in nni_thr_wrap (arg=0x7fda48a36bb8 <nni_posix_global_pollq+56>) at ./src/core/thread.c:94
#3  0x00007fda489ef2ff in nni_plat_thr_main (arg=0x7fda48a36bb8 <nni_posix_global_pollq+56>) at ./src/platform/posix/posix_thread.c:266
#4  0x00007fda48acb1f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#5  0x00007fda48b4b8ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 1 (Thread 0x7fda488c8080 (LWP 21216) "drv-old3"):
#0  0x00007fda48b15c17 in __GI___wait4 (pid=22502, stat_loc=stat_loc@entry=0x0, options=options@entry=0, usage=usage@entry=0x0) at ../sysdeps/unix/sysv/linux/wait4.c:30
#1  0x00007fda48b15b97 in __GI___waitpid (pid=<optimized out>, stat_loc=stat_loc@entry=0x0, options=options@entry=0) at ./posix/waitpid.c:38
#2  0x000055a56446048b in reap_captures (wait=wait@entry=true) at /work/wt-stacks/tests/evidence/stall_driver.c:210
#3  0x000055a564460f3f in close_bounded (c=c@entry=0x55a57f2972b0) at /work/wt-stacks/tests/evidence/stall_driver.c:344
#4  0x000055a564461517 in close_load (tries=<optimized out>) at /work/wt-stacks/tests/evidence/stall_driver.c:374
#5  main (argc=<optimized out>, argv=<optimized out>) at /work/wt-stacks/tests/evidence/stall_driver.c:435
[Inferior 1 (process 21216) detached]
