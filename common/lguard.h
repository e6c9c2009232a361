/*
 * lguard.h - keeps a socket's nng listeners accepting.
 *
 * nng 1.5.2 stops a listener's accept loop for good when one connection
 * fails its SP handshake with EPIPE: a peer that connects and closes
 * before the listener wrote its 8-byte header (any local process on an
 * ipc:// path, a client giving up at the wrong instant) makes nng map
 * EPIPE to NNG_ECLOSED, which the listener takes for its own close (nng
 * issue #1518, fixed in 1.6.0; Debian 12 ships 1.5.2, PLATFORM.md). The
 * transport keeps accepting and handshaking below it, so connections
 * still come up on the client's side, but no pipe reaches the socket
 * again: every new client hangs, old connections keep working. One
 * connect-and-close was enough to stop dtxd's client endpoint.
 *
 * A guard listens on a socket's URLs (lguard_listen) and watches each
 * listener from a thread of its own. It counts the pipes each listener
 * hands to the socket (nng's ADD_PRE pipe event: before any callback of
 * the owner can refuse the pipe, so a socket refusing connections at its
 * limit still counts as accepting). Every check_ms, a listener that
 * handed over no pipe since the last check is probed: the guard connects
 * itself (ipc or tcp, to the listener's bound address), completes the SP
 * handshake as the socket's peer protocol and waits up to probe_ms for
 * the listener to hand a pipe over. If none comes, the listener is dead:
 * the guard closes it (which also closes the connections it had
 * accepted: their clients dial again) and listens again on the same
 * address, retrying every check_ms until that works, and logs both. A
 * probe that cannot connect or get the transport's header is
 * inconclusive and changes nothing; a probe never closes its connection
 * before the listener's header arrived or nng's 10 s handshake timeout
 * passed, so a probe cannot itself stop a listener. A busy listener costs
 * nothing; an idle one one local connection per two checks.
 *
 * nng's statistics would tell the same without connecting, but a
 * snapshot copies every pipe's statistics: 29 ms with 1,000 connections,
 * 194 ms with 5,000, measured here; the probe costs a connection.
 *
 * Listeners of other schemes (tls+tcp, ws) are listened on but cannot be
 * probed with a plain socket; the guard logs once that it does not watch
 * them.
 *
 * Pipe events: a socket has one ADD_PRE callback. With
 * lguard_opts.own_pipe_events the guard registers it; otherwise the
 * socket's owner must call lguard_pipe_added from its own ADD_PRE
 * callback, for every pipe, before anything else.
 *
 * Owns its thread and its record of the listeners; never closes the
 * socket and never touches its pipes other than through closing a dead
 * listener. Thread-safe: lguard_listen may run while the thread runs,
 * lguard_pipe_added on any nng thread.
 */
#ifndef DTX_COMMON_LGUARD_H
#define DTX_COMMON_LGUARD_H

#include <stdbool.h>
#include <stdint.h>

#include <nng/nng.h>

#define LGUARD_CHECK_MS                                                        \
	1000                 /* default: how often the listeners are checked   \
	                      */
#define LGUARD_PROBE_MS 2000 /* default: how long a probe waits */
#define LGUARD_URLS_MAX 16   /* listeners one guard watches */

typedef struct lguard lguard;

/* lguard_log_fn receives one line (borrowed, no newline) at warning
 * level; arg is lguard_opts.log_arg. */
typedef void (*lguard_log_fn)(void *arg, const char *line);

/* lguard_setup_fn configures a listener before it starts (e.g. TLS);
 * called again for every listener the guard creates in place of a dead
 * one. Returns 0 or an nng error. */
typedef int (*lguard_setup_fn)(void *arg, nng_listener l);

typedef struct lguard_opts {
	unsigned check_ms;     /* 0: LGUARD_CHECK_MS */
	unsigned probe_ms;     /* 0: LGUARD_PROBE_MS */
	lguard_log_fn log;     /* NULL: nothing is logged */
	void *log_arg;         /* retained for log */
	lguard_setup_fn setup; /* NULL: listeners need no setup */
	void *setup_arg;       /* retained for setup */
	bool own_pipe_events;  /* register the socket's ADD_PRE callback */
} lguard_opts;

/* lguard_open makes a guard for sock (borrowed: it must stay open until
 * lguard_stop) and starts its thread. *ret_g is owned by the caller
 * (lguard_stop, then lguard_free). Returns 0, NNG_ENOMEM or NNG_EINVAL
 * (sock has no peer protocol). */
int lguard_open(nng_socket sock, const lguard_opts *opts, lguard **ret_g);

/* lguard_listen listens on url (borrowed; copied) and watches the
 * listener. Returns 0 or nng's error from creating, setting up or
 * starting it (then nothing is watched), NNG_ENOSPC past
 * LGUARD_URLS_MAX. */
int lguard_listen(lguard *g, const char *url);

/* lguard_pipe_added counts pipe p for the listener that accepted it; for
 * an owner's ADD_PRE callback. Never blocks; NULL g is a no-op. */
void lguard_pipe_added(lguard *g, nng_pipe p);

/* lguard_relistens returns how many dead listeners g replaced. */
uint64_t lguard_relistens(const lguard *g);

/* lguard_stop stops g's thread, interrupting a probe; the listeners stay
 * with the socket, whose close closes them. NULL is a no-op. */
void lguard_stop(lguard *g);

/* lguard_free frees g once its socket is closed (no pipe event can reach
 * it any more) and lguard_stop ran. NULL is a no-op. */
void lguard_free(lguard *g);

#endif
