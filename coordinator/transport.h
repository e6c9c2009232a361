/*
 * transport.h - how the engine meets the network: client and admin
 * requests in, their answers out, branch calls out, their completions in.
 *
 * An object with an ops table (as SQLite's VFS): the engine holds one and
 * never names what is behind it. The real one (transport_nng.c) is the
 * client endpoint, the admin endpoint (server.c) and the branch-call pool
 * (rpc.c) on nng; a test's (tests/support/memnet.c) keeps everything in
 * memory, so that a unit test drives the engine without sockets.
 *
 * What crosses it, on the engine's loop thread unless said otherwise:
 *   - in: each request is a dc_request (request.h) posted to the mailbox
 *     given to open, kind DC_MAIL_REQUEST (index below the engine's
 *     --max-clients) or DC_MAIL_ADMIN; the engine answers it through the
 *     request's own ops;
 *   - out: call() queues a branch call; it leaves at the next flush()
 *     (the engine flushes before the loop sleeps);
 *   - in: each call's completion is a dc_call (rpc.h) posted to the same
 *     mailbox, exactly once for every call() that returned DTX_OK (none
 *     after close()); the engine reads it and gives it back with
 *     release(). Posting may happen on any thread (mailbox.h).
 *
 * Lifetime: the engine opens it once at create and closes it once at
 * stop (no mail is posted after close returns); destroy is its creator's.
 */
#ifndef DTX_COORDINATOR_TRANSPORT_H
#define DTX_COORDINATOR_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "mailbox.h"
#include "request.h"
#include "rpc.h"
#include "wire.h"

typedef struct dc_transport dc_transport;

typedef struct dc_transport_ops {
	/* open starts receiving requests and posting them and call
	 * completions to mb (retained until close). On failure a one-line
	 * reason goes to errbuf. Errors: DTX_EINVAL, DTX_EUNREACHABLE
	 * (cannot listen), DTX_ENOMEM. */
	int (*open)(dc_transport *t, dc_mailbox *mb, char *errbuf,
	            size_t errlen);
	/* call queues msg (borrowed; copied or packed before return) for
	 * url with a deadline of timeout_ms; owner and token come back in
	 * the dc_call. Errors (no completion is then posted): those of
	 * dc_rpc_call - DTX_EBUSY (no call slot now), DTX_ELIMIT (url
	 * cannot be reached now), DTX_EINVAL, DTX_ENOMEM. */
	int (*call)(dc_transport *t, const char *url,
	            const Dtx__V1__BranchCall *msg, uint32_t timeout_ms,
	            void *owner, uint64_t token);
	/* flush sends the calls queued since the last flush. */
	void (*flush)(dc_transport *t);
	/* release gives a delivered completion back. */
	void (*release)(dc_transport *t, dc_call *call);
	/* close stops receiving and completing; requests the engine still
	 * holds stay valid until destroy, and are never answered. */
	void (*close)(dc_transport *t);
	/* reload_tls (NULL: the transport has no TLS) loads the TLS files
	 * of cfg (borrowed) again for the connections made from now on; a
	 * problem goes to errbuf and keeps the ones in use. Loop thread.
	 * Errors: DTX_EINVAL, DTX_ENOMEM. */
	int (*reload_tls)(dc_transport *t, const dc_config *cfg, char *errbuf,
	                  size_t errlen);
	/* destroy frees t (its creator calls it). */
	void (*destroy)(dc_transport *t);
} dc_transport_ops;

/* A transport: implementations embed it first. */
struct dc_transport {
	const dc_transport_ops *ops;
};

/* dc_transport_call, _flush, _release, _close, _destroy: t's ops. */
static inline int dc_transport_call(dc_transport *t, const char *url,
                                    const Dtx__V1__BranchCall *msg,
                                    uint32_t timeout_ms, void *owner,
                                    uint64_t token)
{
	return t->ops->call(t, url, msg, timeout_ms, owner, token);
}

static inline void dc_transport_flush(dc_transport *t)
{
	t->ops->flush(t);
}

static inline void dc_transport_release(dc_transport *t, dc_call *call)
{
	t->ops->release(t, call);
}

/* dc_transport_nng_create makes the real transport for cfg (retained: it
 * must outlive the transport): the client endpoint on cfg->listen, the
 * admin endpoint on cfg->admin (if any; the default address taken by
 * another dtxd is a warning and no admin endpoint) and the branch-call
 * pool, validating replies with limits (copied). Nothing listens before
 * open. Errors: DTX_ENOMEM. */
int dc_transport_nng_create(const dc_config *cfg, const wire_limits *limits,
                            dc_transport **ret_t);

#endif
