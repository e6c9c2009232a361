[New LWP 16139]
[New LWP 16140]
[New LWP 16142]
[New LWP 16145]
[New LWP 16146]
[New LWP 16148]
[New LWP 16155]
[New LWP 16157]
[New LWP 16158]
[New LWP 16160]
[New LWP 16161]
[New LWP 16162]
[New LWP 16163]
[New LWP 16258]
[New LWP 17073]
[New LWP 18491]
[New LWP 20129]
[New LWP 20917]
[New LWP 22042]
[New LWP 22043]
[Thread debugging using libthread_db enabled]
Using host libthread_db library "/lib/x86_64-linux-gnu/libthread_db.so.1".
__futex_abstimed_wait_common64 (private=128, cancel=true, abstime=0x7ffc8a0ffb00, op=265, expected=22043, futex_word=0x7f88cd038990) at ./nptl/futex-internal.c:57
57	./nptl/futex-internal.c: No such file or directory.
  Id   Target Id                                          Frame 
* 1    Thread 0x7f88d684d080 (LWP 16016) "drv-new2"       __futex_abstimed_wait_common64 (private=128, cancel=true, abstime=0x7ffc8a0ffb00, op=265, expected=22043, futex_word=0x7f88cd038990) at ./nptl/futex-internal.c:57
  2    Thread 0x7f88d684b6c0 (LWP 16139) "nng:poll:epoll" 0x00007f88d6acff36 in epoll_wait (epfd=3, events=events@entry=0x7f88d684aab0, maxevents=maxevents@entry=64, timeout=timeout@entry=-1) at ../sysdeps/unix/sysv/linux/epoll_wait.c:30
  3    Thread 0x7f88d604a6c0 (LWP 16140) "nng:resolver"   __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f88d69bba88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
  4    Thread 0x7f88d58496c0 (LWP 16142) "nng:resolver"   __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f88d69bba88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
  5    Thread 0x7f88d50486c0 (LWP 16145) "nng:resolver"   __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f88d69bba88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
  6    Thread 0x7f88d48476c0 (LWP 16146) "nng:resolver"   __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f88d69bba88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
  7    Thread 0x7f88d40466c0 (LWP 16148) "nng:task"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55ac0b5f0228) at ./nptl/futex-internal.c:57
  8    Thread 0x7f88d38456c0 (LWP 16155) "nng:task"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55ac0b5f0228) at ./nptl/futex-internal.c:57
  9    Thread 0x7f88d30446c0 (LWP 16157) "nng:task"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55ac0b5f0228) at ./nptl/futex-internal.c:57
  10   Thread 0x7f88d28436c0 (LWP 16158) "nng:task"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55ac0b5f0228) at ./nptl/futex-internal.c:57
  11   Thread 0x7f88d20426c0 (LWP 16160) "nng:reap2"      __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f88b40025f8) at ./nptl/futex-internal.c:57
  12   Thread 0x7f88d18416c0 (LWP 16161) "nng:timer"      __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f88d69bb708 <nni_global_timer+136>) at ./nptl/futex-internal.c:57
  13   Thread 0x7f88d10406c0 (LWP 16162) "nng:aio:expire" __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55ac0b5f0c54) at ./nptl/futex-internal.c:57
  14   Thread 0x7f88d083f6c0 (LWP 16163) "nng:aio:expire" __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55ac0b5f0ea4) at ./nptl/futex-internal.c:57
  15   Thread 0x7f88d003e6c0 (LWP 16258) "drv-new2"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55ac0b5f1100) at ./nptl/futex-internal.c:57
  16   Thread 0x7f88cf83d6c0 (LWP 17073) "drv-new2"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55ac0b605f10) at ./nptl/futex-internal.c:57
  17   Thread 0x7f88cf03c6c0 (LWP 18491) "drv-new2"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55ac0b611c60) at ./nptl/futex-internal.c:57
  18   Thread 0x7f88ce83b6c0 (LWP 20129) "drv-new2"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55ac0b61e5e0) at ./nptl/futex-internal.c:57
  19   Thread 0x7f88ce03a6c0 (LWP 20917) "drv-new2"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55ac0b628ec0) at ./nptl/futex-internal.c:57
  20   Thread 0x7f88cd8396c0 (LWP 22042) "drv-new2"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55ac0b635ba0) at ./nptl/futex-internal.c:57
  21   Thread 0x7f88cd0386c0 (LWP 22043) "drv-new2"       __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x7f88cd037e90, op=137, expected=0, futex_word=0x55ac0b635304) at ./nptl/futex-internal.c:57

Thread 21 (Thread 0x7f88cd0386c0 (LWP 22043) "drv-new2"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x7f88cd037e90, op=137, expected=0, futex_word=0x55ac0b635304) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x55ac0b635304, expected=expected@entry=0, clockid=clockid@entry=1, abstime=abstime@entry=0x7f88cd037e90, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f88d6a4cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x55ac0b635304, expected=expected@entry=0, clockid=clockid@entry=1, abstime=abstime@entry=0x7f88cd037e90, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f88d6a4f8bc in __pthread_cond_wait_common (abstime=0x7f88cd037e90, clockid=1, mutex=0x55ac0b6352b0, cond=0x55ac0b6352d8) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_timedwait64 (cond=cond@entry=0x55ac0b6352d8, mutex=mutex@entry=0x55ac0b6352b0, abstime=abstime@entry=0x7f88cd037e90) at ./nptl/pthread_cond_wait.c:643
#5  0x00007f88d6bc118e in wait_closed (c=0x55ac0b635290) at ../participant-sdk/client.c:242
#6  dtx_client_close (client=0x55ac0b635290) at ../participant-sdk/client.c:283
#7  0x000055ac01221f6e in closer (arg=<optimized out>) at /work/wt-stacks/tests/evidence/stall_driver.c:322
#8  0x00007f88d6a501f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#9  0x00007f88d6ad08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 20 (Thread 0x7f88cd8396c0 (LWP 22042) "drv-new2"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55ac0b635ba0) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x55ac0b635ba0, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f88d6a4cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x55ac0b635ba0, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f88d6a4f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x55ac0b635b50, cond=0x55ac0b635b78) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x55ac0b635b78, mutex=0x55ac0b635b50) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f88d697459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x55ac0b635b78) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x55ac0b635b78) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f88d696cb15 in nni_cv_wait (cv=cv@entry=0x55ac0b635b78) at ./src/core/thread.c:51
#8  0x00007f88d6967de0 in nni_sock_shutdown (sock=sock@entry=0x55ac0b635b40) at ./src/core/socket.c:759
#9  0x00007f88d6967e8a in nni_sock_close (s=0x55ac0b635b40) at ./src/core/socket.c:785
#10 0x00007f88d695b362 in nng_close (s=...) at ./src/nng.c:45
#11 0x00007f88d6bc2370 in sdk_link_close_socket (link=0x55ac0b5fcd00) at ../participant-sdk/link.c:276
#12 sdk_link_close_socket (link=0x55ac0b5fcd00) at ../participant-sdk/link.c:272
#13 0x00007f88d6bc106b in close_links (c=0x55ac0b635290) at ../participant-sdk/client.c:164
#14 keeper_main (arg=0x55ac0b635290) at ../participant-sdk/client.c:186
#15 0x00007f88d6a501f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#16 0x00007f88d6ad08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 19 (Thread 0x7f88ce03a6c0 (LWP 20917) "drv-new2"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55ac0b628ec0) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x55ac0b628ec0, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f88d6a4cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x55ac0b628ec0, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f88d6a4f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x55ac0b628e70, cond=0x55ac0b628e98) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x55ac0b628e98, mutex=0x55ac0b628e70) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f88d697459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x55ac0b628e98) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x55ac0b628e98) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f88d696cb15 in nni_cv_wait (cv=cv@entry=0x55ac0b628e98) at ./src/core/thread.c:51
#8  0x00007f88d6967de0 in nni_sock_shutdown (sock=sock@entry=0x55ac0b628e60) at ./src/core/socket.c:759
#9  0x00007f88d6967e8a in nni_sock_close (s=0x55ac0b628e60) at ./src/core/socket.c:785
#10 0x00007f88d695b362 in nng_close (s=...) at ./src/nng.c:45
#11 0x00007f88d6bc2370 in sdk_link_close_socket (link=0x55ac0b60efa0) at ../participant-sdk/link.c:276
#12 sdk_link_close_socket (link=0x55ac0b60efa0) at ../participant-sdk/link.c:272
#13 0x00007f88d6bc106b in close_links (c=0x55ac0b6285b0) at ../participant-sdk/client.c:164
#14 keeper_main (arg=0x55ac0b6285b0) at ../participant-sdk/client.c:186
#15 0x00007f88d6a501f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#16 0x00007f88d6ad08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 18 (Thread 0x7f88ce83b6c0 (LWP 20129) "drv-new2"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55ac0b61e5e0) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x55ac0b61e5e0, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f88d6a4cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x55ac0b61e5e0, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f88d6a4f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x55ac0b61e590, cond=0x55ac0b61e5b8) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x55ac0b61e5b8, mutex=0x55ac0b61e590) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f88d697459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x55ac0b61e5b8) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x55ac0b61e5b8) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f88d696cb15 in nni_cv_wait (cv=cv@entry=0x55ac0b61e5b8) at ./src/core/thread.c:51
#8  0x00007f88d6967de0 in nni_sock_shutdown (sock=sock@entry=0x55ac0b61e580) at ./src/core/socket.c:759
#9  0x00007f88d6967e8a in nni_sock_close (s=0x55ac0b61e580) at ./src/core/socket.c:785
#10 0x00007f88d695b362 in nng_close (s=...) at ./src/nng.c:45
#11 0x00007f88d6bc2370 in sdk_link_close_socket (link=0x55ac0b618570) at ../participant-sdk/link.c:276
#12 sdk_link_close_socket (link=0x55ac0b618570) at ../participant-sdk/link.c:272
#13 0x00007f88d6bc106b in close_links (c=0x55ac0b61dcd0) at ../participant-sdk/client.c:164
#14 keeper_main (arg=0x55ac0b61dcd0) at ../participant-sdk/client.c:186
#15 0x00007f88d6a501f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#16 0x00007f88d6ad08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 17 (Thread 0x7f88cf03c6c0 (LWP 18491) "drv-new2"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55ac0b611c60) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x55ac0b611c60, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f88d6a4cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x55ac0b611c60, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f88d6a4f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x55ac0b611c10, cond=0x55ac0b611c38) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x55ac0b611c38, mutex=0x55ac0b611c10) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f88d697459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x55ac0b611c38) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x55ac0b611c38) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f88d696cb15 in nni_cv_wait (cv=cv@entry=0x55ac0b611c38) at ./src/core/thread.c:51
#8  0x00007f88d6967de0 in nni_sock_shutdown (sock=sock@entry=0x55ac0b611c00) at ./src/core/socket.c:759
#9  0x00007f88d6967e8a in nni_sock_close (s=0x55ac0b611c00) at ./src/core/socket.c:785
#10 0x00007f88d695b362 in nng_close (s=...) at ./src/nng.c:45
#11 0x00007f88d6bc2370 in sdk_link_close_socket (link=0x55ac0b60c9f0) at ../participant-sdk/link.c:276
#12 sdk_link_close_socket (link=0x55ac0b60c9f0) at ../participant-sdk/link.c:272
#13 0x00007f88d6bc106b in close_links (c=0x55ac0b611350) at ../participant-sdk/client.c:164
#14 keeper_main (arg=0x55ac0b611350) at ../participant-sdk/client.c:186
#15 0x00007f88d6a501f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#16 0x00007f88d6ad08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 16 (Thread 0x7f88cf83d6c0 (LWP 17073) "drv-new2"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55ac0b605f10) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x55ac0b605f10, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f88d6a4cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x55ac0b605f10, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f88d6a4f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x55ac0b605ec0, cond=0x55ac0b605ee8) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x55ac0b605ee8, mutex=0x55ac0b605ec0) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f88d697459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x55ac0b605ee8) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x55ac0b605ee8) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f88d696cb15 in nni_cv_wait (cv=cv@entry=0x55ac0b605ee8) at ./src/core/thread.c:51
#8  0x00007f88d6967de0 in nni_sock_shutdown (sock=sock@entry=0x55ac0b605eb0) at ./src/core/socket.c:759
#9  0x00007f88d6967e8a in nni_sock_close (s=0x55ac0b605eb0) at ./src/core/socket.c:785
#10 0x00007f88d695b362 in nng_close (s=...) at ./src/nng.c:45
#11 0x00007f88d6bc2370 in sdk_link_close_socket (link=0x55ac0b5f3d80) at ../participant-sdk/link.c:276
#12 sdk_link_close_socket (link=0x55ac0b5f3d80) at ../participant-sdk/link.c:272
#13 0x00007f88d6bc106b in close_links (c=0x55ac0b605600) at ../participant-sdk/client.c:164
#14 keeper_main (arg=0x55ac0b605600) at ../participant-sdk/client.c:186
#15 0x00007f88d6a501f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#16 0x00007f88d6ad08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 15 (Thread 0x7f88d003e6c0 (LWP 16258) "drv-new2"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55ac0b5f1100) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x55ac0b5f1100, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f88d6a4cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x55ac0b5f1100, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f88d6a4f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x55ac0b5f10b0, cond=0x55ac0b5f10d8) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x55ac0b5f10d8, mutex=0x55ac0b5f10b0) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f88d697459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x55ac0b5f10d8) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x55ac0b5f10d8) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f88d696cb15 in nni_cv_wait (cv=cv@entry=0x55ac0b5f10d8) at ./src/core/thread.c:51
#8  0x00007f88d6967de0 in nni_sock_shutdown (sock=sock@entry=0x55ac0b5f10a0) at ./src/core/socket.c:759
#9  0x00007f88d6967e8a in nni_sock_close (s=0x55ac0b5f10a0) at ./src/core/socket.c:785
#10 0x00007f88d695b362 in nng_close (s=...) at ./src/nng.c:45
#11 0x00007f88d6bc2370 in sdk_link_close_socket (link=0x55ac0b5f6120) at ../participant-sdk/link.c:276
#12 sdk_link_close_socket (link=0x55ac0b5f6120) at ../participant-sdk/link.c:272
#13 0x00007f88d6bc106b in close_links (c=0x55ac0b5ef2b0) at ../participant-sdk/client.c:164
#14 keeper_main (arg=0x55ac0b5ef2b0) at ../participant-sdk/client.c:186
#15 0x00007f88d6a501f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#16 0x00007f88d6ad08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 14 (Thread 0x7f88d083f6c0 (LWP 16163) "nng:aio:expire"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55ac0b5f0ea4) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x55ac0b5f0ea4, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f88d6a4cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x55ac0b5f0ea4, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f88d6a4f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x55ac0b5f0e50, cond=0x55ac0b5f0e78) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=0x55ac0b5f0e78, mutex=0x55ac0b5f0e50) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f88d697459d in nni_pthread_cond_wait (m=<optimized out>, c=<optimized out>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=<optimized out>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f88d696cb49 in nni_cv_until (cv=cv@entry=0x55ac0b5f0e78, until=until@entry=18446744073709551615) at ./src/core/thread.c:60
#8  0x00007f88d696051b in nni_aio_expire_loop (arg=0x55ac0b5f0e50) at ./src/core/aio.c:616
#9  0x00007f88d696caaa in nni_thr_wrap (arg=0x55ac0b5f0ed0) at ./src/core/thread.c:94
#10 0x00007f88d69742ff in nni_plat_thr_main (arg=0x55ac0b5f0ed0) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f88d6a501f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f88d6ad08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 13 (Thread 0x7f88d10406c0 (LWP 16162) "nng:aio:expire"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55ac0b5f0c54) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x55ac0b5f0c54, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f88d6a4cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x55ac0b5f0c54, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f88d6a4f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x55ac0b5f0c00, cond=0x55ac0b5f0c28) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=0x55ac0b5f0c28, mutex=0x55ac0b5f0c00) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f88d697459d in nni_pthread_cond_wait (m=<optimized out>, c=<optimized out>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=<optimized out>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f88d696cb49 in nni_cv_until (cv=cv@entry=0x55ac0b5f0c28, until=until@entry=18446744073709551615) at ./src/core/thread.c:60
#8  0x00007f88d696051b in nni_aio_expire_loop (arg=0x55ac0b5f0c00) at ./src/core/aio.c:616
#9  0x00007f88d696caaa in nni_thr_wrap (arg=0x55ac0b5f0c80) at ./src/core/thread.c:94
#10 0x00007f88d69742ff in nni_plat_thr_main (arg=0x55ac0b5f0c80) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f88d6a501f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f88d6ad08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 12 (Thread 0x7f88d18416c0 (LWP 16161) "nng:timer"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f88d69bb708 <nni_global_timer+136>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f88d69bb708 <nni_global_timer+136>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f88d6a4cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f88d69bb708 <nni_global_timer+136>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f88d6a4f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f88d69bb680 <nni_global_timer>, cond=0x7f88d69bb6e0 <nni_global_timer+96>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f88d69bb6e0 <nni_global_timer+96>, mutex=0x7f88d69bb680 <nni_global_timer>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f88d697459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f88d69bb6e0 <nni_global_timer+96>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f88d69bb6e0 <nni_global_timer+96>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f88d696cb15 in nni_cv_wait (cv=cv@entry=0x7f88d69bb6e0 <nni_global_timer+96>) at ./src/core/thread.c:51
#8  0x00007f88d696ce59 in nni_timer_loop (arg=0x7f88d69bb680 <nni_global_timer>) at ./src/core/timer.c:155
#9  0x00007f88d696caaa in nni_thr_wrap (arg=0x7f88d69bb730 <nni_global_timer+176>) at ./src/core/thread.c:94
#10 0x00007f88d69742ff in nni_plat_thr_main (arg=0x7f88d69bb730 <nni_global_timer+176>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f88d6a501f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f88d6ad08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 11 (Thread 0x7f88d20426c0 (LWP 16160) "nng:reap2"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f88b40025f8) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f88b40025f8, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f88d6a4cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f88b40025f8, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f88d6a4f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f88b40025a8, cond=0x7f88b40025d0) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f88b40025d0, mutex=0x7f88b40025a8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f88d697459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f88b40025d0) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f88b40025d0) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f88d696cb15 in nni_cv_wait (cv=cv@entry=0x7f88b40025d0) at ./src/core/thread.c:51
#8  0x00007f88d696bda8 in nni_task_wait (task=task@entry=0x7f88b4002578) at ./src/core/taskq.c:205
#9  0x00007f88d6960936 in nni_aio_wait (aio=0x7f88b4002558) at ./src/core/aio.c:315
#10 0x00007f88d697dfd1 in req0_pipe_stop (arg=0x7f88b4002348) at ./src/sp/protocol/reqrep0/req.c:153
#11 0x00007f88d6966819 in pipe_destroy (arg=0x7f88b4002050) at ./src/core/pipe.c:75
#12 pipe_destroy (arg=0x7f88b4002050) at ./src/core/pipe.c:53
#13 0x00007f88d69671aa in reap_worker (unused=<optimized out>) at ./src/core/reap.c:58
#14 0x00007f88d696caaa in nni_thr_wrap (arg=0x7f88d69bb3a0 <reap_thr>) at ./src/core/thread.c:94
#15 0x00007f88d69742ff in nni_plat_thr_main (arg=0x7f88d69bb3a0 <reap_thr>) at ./src/platform/posix/posix_thread.c:266
#16 0x00007f88d6a501f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#17 0x00007f88d6ad08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 10 (Thread 0x7f88d28436c0 (LWP 16158) "nng:task"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55ac0b5f0228) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x55ac0b5f0228, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f88d6a4cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x55ac0b5f0228, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f88d6a4f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x55ac0b5f01d8, cond=0x55ac0b5f0200) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x55ac0b5f0200, mutex=0x55ac0b5f01d8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f88d697459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x55ac0b5f0200) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x55ac0b5f0200) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f88d696cb15 in nni_cv_wait (cv=cv@entry=0x55ac0b5f0200) at ./src/core/thread.c:51
#8  0x00007f88d696b91b in nni_taskq_thread (self=<optimized out>) at ./src/core/taskq.c:64
#9  0x00007f88d696caaa in nni_thr_wrap (arg=0x55ac0b5f0478) at ./src/core/thread.c:94
#10 0x00007f88d69742ff in nni_plat_thr_main (arg=0x55ac0b5f0478) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f88d6a501f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f88d6ad08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 9 (Thread 0x7f88d30446c0 (LWP 16157) "nng:task"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55ac0b5f0228) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x55ac0b5f0228, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f88d6a4cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x55ac0b5f0228, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f88d6a4f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x55ac0b5f01d8, cond=0x55ac0b5f0200) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x55ac0b5f0200, mutex=0x55ac0b5f01d8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f88d697459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x55ac0b5f0200) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x55ac0b5f0200) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f88d696cb15 in nni_cv_wait (cv=cv@entry=0x55ac0b5f0200) at ./src/core/thread.c:51
#8  0x00007f88d696b91b in nni_taskq_thread (self=<optimized out>) at ./src/core/taskq.c:64
#9  0x00007f88d696caaa in nni_thr_wrap (arg=0x55ac0b5f03d8) at ./src/core/thread.c:94
#10 0x00007f88d69742ff in nni_plat_thr_main (arg=0x55ac0b5f03d8) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f88d6a501f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f88d6ad08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 8 (Thread 0x7f88d38456c0 (LWP 16155) "nng:task"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55ac0b5f0228) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x55ac0b5f0228, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f88d6a4cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x55ac0b5f0228, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f88d6a4f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x55ac0b5f01d8, cond=0x55ac0b5f0200) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x55ac0b5f0200, mutex=0x55ac0b5f01d8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f88d697459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x55ac0b5f0200) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x55ac0b5f0200) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f88d696cb15 in nni_cv_wait (cv=cv@entry=0x55ac0b5f0200) at ./src/core/thread.c:51
#8  0x00007f88d696b91b in nni_taskq_thread (self=<optimized out>) at ./src/core/taskq.c:64
#9  0x00007f88d696caaa in nni_thr_wrap (arg=0x55ac0b5f0338) at ./src/core/thread.c:94
#10 0x00007f88d69742ff in nni_plat_thr_main (arg=0x55ac0b5f0338) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f88d6a501f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f88d6ad08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 7 (Thread 0x7f88d40466c0 (LWP 16148) "nng:task"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x55ac0b5f0228) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x55ac0b5f0228, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f88d6a4cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x55ac0b5f0228, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f88d6a4f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x55ac0b5f01d8, cond=0x55ac0b5f0200) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x55ac0b5f0200, mutex=0x55ac0b5f01d8) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f88d697459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x55ac0b5f0200) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x55ac0b5f0200) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f88d696cb15 in nni_cv_wait (cv=cv@entry=0x55ac0b5f0200) at ./src/core/thread.c:51
#8  0x00007f88d696b91b in nni_taskq_thread (self=<optimized out>) at ./src/core/taskq.c:64
#9  0x00007f88d696caaa in nni_thr_wrap (arg=0x55ac0b5f0298) at ./src/core/thread.c:94
#10 0x00007f88d69742ff in nni_plat_thr_main (arg=0x55ac0b5f0298) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f88d6a501f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f88d6ad08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 6 (Thread 0x7f88d48476c0 (LWP 16146) "nng:resolver"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f88d69bba88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f88d69bba88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f88d6a4cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f88d69bba88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f88d6a4f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f88d69bbaa0 <resolv_mtx>, cond=0x7f88d69bba60 <resolv_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f88d69bba60 <resolv_cv>, mutex=0x7f88d69bbaa0 <resolv_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f88d697459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f88d69bba60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f88d69bba60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f88d696cb15 in nni_cv_wait (cv=cv@entry=0x7f88d69bba60 <resolv_cv>) at ./src/core/thread.c:51
#8  0x00007f88d69713e4 in resolv_worker (unused=<optimized out>) at ./src/platform/posix/posix_resolv_gai.c:312
#9  0x00007f88d696caaa in nni_thr_wrap (arg=0x7f88d69bb9a8 <resolv_thrs+456>) at ./src/core/thread.c:94
#10 0x00007f88d69742ff in nni_plat_thr_main (arg=0x7f88d69bb9a8 <resolv_thrs+456>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f88d6a501f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f88d6ad08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 5 (Thread 0x7f88d50486c0 (LWP 16145) "nng:resolver"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f88d69bba88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f88d69bba88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f88d6a4cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f88d69bba88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f88d6a4f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f88d69bbaa0 <resolv_mtx>, cond=0x7f88d69bba60 <resolv_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f88d69bba60 <resolv_cv>, mutex=0x7f88d69bbaa0 <resolv_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f88d697459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f88d69bba60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f88d69bba60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f88d696cb15 in nni_cv_wait (cv=cv@entry=0x7f88d69bba60 <resolv_cv>) at ./src/core/thread.c:51
#8  0x00007f88d69713e4 in resolv_worker (unused=<optimized out>) at ./src/platform/posix/posix_resolv_gai.c:312
#9  0x00007f88d696caaa in nni_thr_wrap (arg=0x7f88d69bb910 <resolv_thrs+304>) at ./src/core/thread.c:94
#10 0x00007f88d69742ff in nni_plat_thr_main (arg=0x7f88d69bb910 <resolv_thrs+304>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f88d6a501f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f88d6ad08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 4 (Thread 0x7f88d58496c0 (LWP 16142) "nng:resolver"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f88d69bba88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f88d69bba88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f88d6a4cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f88d69bba88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f88d6a4f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f88d69bbaa0 <resolv_mtx>, cond=0x7f88d69bba60 <resolv_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f88d69bba60 <resolv_cv>, mutex=0x7f88d69bbaa0 <resolv_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f88d697459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f88d69bba60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f88d69bba60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f88d696cb15 in nni_cv_wait (cv=cv@entry=0x7f88d69bba60 <resolv_cv>) at ./src/core/thread.c:51
#8  0x00007f88d69713e4 in resolv_worker (unused=<optimized out>) at ./src/platform/posix/posix_resolv_gai.c:312
#9  0x00007f88d696caaa in nni_thr_wrap (arg=0x7f88d69bb878 <resolv_thrs+152>) at ./src/core/thread.c:94
#10 0x00007f88d69742ff in nni_plat_thr_main (arg=0x7f88d69bb878 <resolv_thrs+152>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f88d6a501f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f88d6ad08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 3 (Thread 0x7f88d604a6c0 (LWP 16140) "nng:resolver"):
#0  __futex_abstimed_wait_common64 (private=0, cancel=true, abstime=0x0, op=393, expected=0, futex_word=0x7f88d69bba88 <resolv_cv+40>) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f88d69bba88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f88d6a4cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f88d69bba88 <resolv_cv+40>, expected=expected@entry=0, clockid=clockid@entry=0, abstime=abstime@entry=0x0, private=private@entry=0) at ./nptl/futex-internal.c:139
#3  0x00007f88d6a4f5d8 in __pthread_cond_wait_common (abstime=0x0, clockid=0, mutex=0x7f88d69bbaa0 <resolv_mtx>, cond=0x7f88d69bba60 <resolv_cv>) at ./nptl/pthread_cond_wait.c:503
#4  ___pthread_cond_wait (cond=cond@entry=0x7f88d69bba60 <resolv_cv>, mutex=0x7f88d69bbaa0 <resolv_mtx>) at ./nptl/pthread_cond_wait.c:618
#5  0x00007f88d697459d in nni_pthread_cond_wait (m=<optimized out>, c=c@entry=0x7f88d69bba60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:121
#6  nni_plat_cv_wait (cv=cv@entry=0x7f88d69bba60 <resolv_cv>) at ./src/platform/posix/posix_thread.c:229
#7  0x00007f88d696cb15 in nni_cv_wait (cv=cv@entry=0x7f88d69bba60 <resolv_cv>) at ./src/core/thread.c:51
#8  0x00007f88d69713e4 in resolv_worker (unused=<optimized out>) at ./src/platform/posix/posix_resolv_gai.c:312
#9  0x00007f88d696caaa in nni_thr_wrap (arg=0x7f88d69bb7e0 <resolv_thrs>) at ./src/core/thread.c:94
#10 0x00007f88d69742ff in nni_plat_thr_main (arg=0x7f88d69bb7e0 <resolv_thrs>) at ./src/platform/posix/posix_thread.c:266
#11 0x00007f88d6a501f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#12 0x00007f88d6ad08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 2 (Thread 0x7f88d684b6c0 (LWP 16139) "nng:poll:epoll"):
#0  0x00007f88d6acff36 in epoll_wait (epfd=3, events=events@entry=0x7f88d684aab0, maxevents=maxevents@entry=64, timeout=timeout@entry=-1) at ../sysdeps/unix/sysv/linux/epoll_wait.c:30
#1  0x00007f88d69753c0 in nni_posix_poll_thr (arg=0x7f88d69bbb80 <nni_posix_global_pollq>) at ./src/platform/posix/posix_pollq_epoll.c:253
#2  0x00007f88d696caaa in nni_thr_wrap (arg=0x7f88d69bbbb8 <nni_posix_global_pollq+56>) at ./src/core/thread.c:94
#3  0x00007f88d69742ff in nni_plat_thr_main (arg=0x7f88d69bbbb8 <nni_posix_global_pollq+56>) at ./src/platform/posix/posix_thread.c:266
#4  0x00007f88d6a501f5 in start_thread (arg=<optimized out>) at ./nptl/pthread_create.c:442
#5  0x00007f88d6ad08ec in clone3 () at ../sysdeps/unix/sysv/linux/x86_64/clone3.S:81

Thread 1 (Thread 0x7f88d684d080 (LWP 16016) "drv-new2"):
#0  __futex_abstimed_wait_common64 (private=128, cancel=true, abstime=0x7ffc8a0ffb00, op=265, expected=22043, futex_word=0x7f88cd038990) at ./nptl/futex-internal.c:57
#1  __futex_abstimed_wait_common (futex_word=futex_word@entry=0x7f88cd038990, expected=22043, clockid=clockid@entry=0, abstime=abstime@entry=0x7ffc8a0ffb00, private=private@entry=128, cancel=cancel@entry=true) at ./nptl/futex-internal.c:87
#2  0x00007f88d6a4cf7b in __GI___futex_abstimed_wait_cancelable64 (futex_word=futex_word@entry=0x7f88cd038990, expected=<optimized out>, clockid=clockid@entry=0, abstime=abstime@entry=0x7ffc8a0ffb00, private=private@entry=128) at ./nptl/futex-internal.c:139
#3  0x00007f88d6a51ce3 in __pthread_clockjoin_ex (threadid=140225531840192, thread_return=thread_return@entry=0x0, clockid=clockid@entry=0, abstime=abstime@entry=0x7ffc8a0ffb00, block=block@entry=true) at ./nptl/pthread_join_common.c:102
#4  0x00007f88d6a57020 in ___pthread_timedjoin_np64 (threadid=<optimized out>, thread_return=thread_return@entry=0x0, abstime=abstime@entry=0x7ffc8a0ffb00) at ./nptl/pthread_timedjoin.c:26
#5  0x000055ac01221e70 in close_bounded (c=c@entry=0x55ac0b635290) at /work/wt-stacks/tests/evidence/stall_driver.c:338
#6  0x000055ac012223bc in close_load (tries=<optimized out>) at /work/wt-stacks/tests/evidence/stall_driver.c:374
#7  main (argc=<optimized out>, argv=<optimized out>) at /work/wt-stacks/tests/evidence/stall_driver.c:442
[Inferior 1 (process 16016) detached]
