/*
 * rpc.h - outgoing branch calls from the coordinator to participants.
 *
 * Owns one nng req0 socket per participant URL (dialled lazily, reconnected
 * by nng) and a pool of call slots (context + aio), reused across calls.
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

typedef struct dc_rpc_opts {
	unsigned max_calls;   /* calls outstanding at once, all peers */
	unsigned max_peers;   /* distinct participant URLs */
	size_t max_msg_bytes; /* NNG_OPT_RECVMAXSZ of each socket */
	wire_limits limits;   /* for validating replies */
} dc_rpc_opts;

/* dc_rpc_create makes an empty pool posting to mb (retained). Errors:
 * DTX_ENOMEM. */
int dc_rpc_create(const dc_rpc_opts *opts, dc_mailbox *mb, dc_rpc **ret_rpc);

/* dc_rpc_call queues msg (borrowed; packed before return) for url with a
 * deadline of timeout_ms for send + answer; it leaves at the next
 * dc_rpc_flush, batched with the other calls queued for url (a resend,
 * attempt > 1, goes alone). owner and token come back in the
 * dc_call. Loop thread. Errors (the completion is then never posted):
 * DTX_ELIMIT (max_calls or max_peers reached: try later), DTX_EINVAL (URL
 * nng refuses), DTX_ENOMEM. */
int dc_rpc_call(dc_rpc *rpc, const char *url, const Dtx__V1__BranchCall *msg,
                uint32_t timeout_ms, void *owner, uint64_t token);

/* dc_rpc_flush sends every queued call. The engine calls it before the
 * loop sleeps. Loop thread. */
void dc_rpc_flush(dc_rpc *rpc);

/* dc_rpc_release gives a delivered call's slot back. Loop thread. */
void dc_rpc_release(dc_rpc *rpc, dc_call *call);

/* dc_rpc_outstanding returns the calls not yet released. */
unsigned dc_rpc_outstanding(const dc_rpc *rpc);

/* dc_rpc_close closes every socket and waits for nng's callbacks; calls in
 * flight complete silently (nothing is posted). */
void dc_rpc_close(dc_rpc *rpc);

/* dc_rpc_destroy frees everything. Accepts NULL. */
void dc_rpc_destroy(dc_rpc *rpc);

#endif
