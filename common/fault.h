/*
 * fault.h - named crash points for the crash stories and the chaos harness.
 *
 * Compiled in only when meson's fault_points option is on (-DDTX_FAULT_POINTS);
 * otherwise DTX_FAULT(name) is nothing at all. At run time a point fires
 * only if the environment variable DTX_FAULT names it:
 *
 *   DTX_FAULT=dtxd.after_commit_before_call      crash at the first hit
 *   DTX_FAULT=dtxd.after_commit_before_call:3    crash at the third hit
 *
 * Firing writes "dtx fault point NAME hit" to stderr and sends SIGKILL to
 * the process itself: the same as `kill -9` at exactly that instant (no
 * atexit handlers, no flushing). Point names are stable: tests and the
 * chaos harness refer to them.
 */
#ifndef DTX_COMMON_FAULT_H
#define DTX_COMMON_FAULT_H

#ifdef DTX_FAULT_POINTS
/* fault_point_hit counts a hit of name and dies if DTX_FAULT says so.
 * Thread-safe. */
void fault_point_hit(const char *name);
#define DTX_FAULT(name) fault_point_hit(name)
/* fault_hold holds the calling thread at a hold point, for tests that
 * must see what happens while some work is slow without timing it:
 *
 *   DTX_HOLD=admin.stats@/tmp/t/hold
 *
 * makes every hit of point admin.stats wait while the file /tmp/t/hold
 * exists (60 s at most); the first wait creates /tmp/t/hold.held, so the
 * test knows the hold began. Thread-safe. */
void fault_hold(const char *name);
#define DTX_HOLD(name) fault_hold(name)
#else
#define DTX_FAULT(name) ((void)0)
#define DTX_HOLD(name)  ((void)0)
#endif

#endif
