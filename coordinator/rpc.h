/*
 * rpc.h - outgoing branch calls from the coordinator to participants.
 *
 * Owns one nng req0 socket per participant URL (dialled lazily, reconnected
 * by nng) and a pool of call slots (context + aio) per socket, reused
 * across calls. Peers are bounded by use: one without a connection and
 * without calls is closed at once, one unused for idle_ms is closed, and a
 * new URL may take the place of an idle peer or of a busy one that has had
 * no connection for a second (rpc.c, top comment).
 * A call's completion - a decoded BranchReply or a transport outcome - is
 * posted to the engine's mailbox as a dc_call; the engine reads it on the
 * loop and gives the slot back with dc_rpc_release.
 *
 * nng's own REQ resend is disabled: the engine decides every resend (with
 * the attempt number and backoff), so a call is never sent behind its back.
 * Never interprets replies beyond decoding and validating them.
 */
#ifndef DTX_COORDINATOR_RPC_H
#define DTX_COORDINATOR_RPC_H

#include <stddef.h>
#include <stdint.h>

#include "mailbox.h"
#include "tlsconf.h"
#include "wire.h"

#define DC_MAIL_CALL 2

typedef struct dc_rpc dc_rpc;

/* A completed call, as the engine sees it. */
typedef struct dc_call {
	dc_mail mail;   /* kind DC_MAIL_CALL */
	void *owner;    /* the engine's object (retained, opaque here) */
	uint64_t token; /* the engine's id of this call */
	/* DTX_OK: reply is set. DTX_ETIMEDOUT: no answer in time.
	 * DTX_EUNREACHABLE: could not deliver. DTX_EPROTO: the answer was not a
	 * valid BranchReply (detail in error). */
	int result;
	Dtx__V1__BranchReply *reply; /* owned by rpc until released */
	char error[160];             /* transport detail when result != OK */
} dc_call;

/* The longest deadline a call gets: a step's timeout_ms is a uint32 (an
 * old log record may hold any), nng's durations are int32 milliseconds. */
#define DC_RPC_TIMEOUT_MAX_MS 86400000u /* one day */

typedef struct dc_rpc_opts {
	unsigned max_calls;   /* calls outstanding at once, all peers */
	unsigned max_peers;   /* participant URLs held (sockets) */
	unsigned max_dialing; /* ... of which without a connection */
	unsigned idle_ms;     /* a peer unused this long is closed */
	size_t max_msg_bytes; /* NNG_OPT_RECVMAXSZ of each socket */
	wire_limits limits;   /* for validating replies */
	/* dtxd's client TLS configuration for tls+tcp:// participants
	 * (retained until dc_rpc_set_tls replaces it or destroy; NULL: a
	 * tls+tcp:// URL is refused, naming --tls-ca) */
	nng_tls_config *tls;
} dc_rpc_opts;

/* Counters of the peer table, for diagnostics. */
typedef struct dc_rpc_stats {
	unsigned peers;   /* in the table now */
	unsigned dialing; /* ... of which without a connection */
	unsigned closing; /* evicted, waiting for their calls to end */
	uint64_t opened;  /* sockets opened since start */
	uint64_t closed;  /* sockets closed since start */
	uint64_t evicted; /* busy peers evicted (dead for a second) */
	uint64_t refused; /* calls refused with DTX_ELIMIT (table full) */
} dc_rpc_stats;

/* dc_rpc_create makes an empty pool posting to mb (retained). Errors:
 * DTX_ENOMEM. */
int dc_rpc_create(const dc_rpc_opts *opts, dc_mailbox *mb, dc_rpc **ret_rpc);

/* dc_rpc_call queues msg (borrowed; packed before return) for url with a
 * deadline of timeout_ms (clamped by dc_rpc_timeout_clamp) for send +
 * answer; it leaves at the next dc_rpc_flush, batched with the other calls
 * queued for url (a resend, attempt > 1, goes alone). owner and token come
 * back in the dc_call. Loop thread. Errors (the completion is then never
 * posted): DTX_EBUSY (max_calls reached: a slot frees when a call ends),
 * DTX_ELIMIT (url is new and max_peers or max_dialing peers are all busy:
 * the participant cannot be reached now), DTX_EINVAL (URL nng refuses),
 * DTX_ENOMEM. */
int dc_rpc_call(dc_rpc *rpc, const char *url, const Dtx__V1__BranchCall *msg,
                uint32_t timeout_ms, void *owner, uint64_t token);

/* dc_rpc_timeout_clamp returns timeout_ms limited to 1 ..
 * DC_RPC_TIMEOUT_MAX_MS. */
uint32_t dc_rpc_timeout_clamp(uint32_t timeout_ms);

/* dc_rpc_flush sends every queued call, and about once a second closes
 * the peers unused for idle_ms. The engine calls it before the loop
 * sleeps. Loop thread. */
void dc_rpc_flush(dc_rpc *rpc);

/* dc_rpc_release gives a delivered call's slot back. Loop thread. */
void dc_rpc_release(dc_rpc *rpc, dc_call *call);

/* dc_rpc_outstanding returns the calls not yet released. */
unsigned dc_rpc_outstanding(const dc_rpc *rpc);

/* dc_rpc_stats_get fills *ret_stats. Loop thread. */
void dc_rpc_stats_get(const dc_rpc *rpc, dc_rpc_stats *ret_stats);

/* dc_rpc_set_tls makes tls (retained as in dc_rpc_opts; NULL keeps the
 * current one) the TLS configuration of every peer socket, open or to
 * come: connections made from now on use it (SIGHUP's reload). Loop
 * thread. Errors: DTX_EINVAL (nng refused it on a socket; the peers
 * before it took it). */
int dc_rpc_set_tls(dc_rpc *rpc, nng_tls_config *tls);

/* dc_rpc_close closes every socket and waits for nng's callbacks; calls in
 * flight complete silently (nothing is posted). */
void dc_rpc_close(dc_rpc *rpc);

/* dc_rpc_destroy frees everything. Accepts NULL. */
void dc_rpc_destroy(dc_rpc *rpc);

#endif
