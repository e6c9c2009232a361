/*
 * rpc.c - branch calls over nng req0 contexts (see rpc.h).
 *
 * A slot cycles SEND -> RECV -> (posted to the engine) -> free list of its
 * peer. The aio callback runs on nng's threads: it decodes the reply there
 * (moving that CPU off the loop) and posts; it never touches engine state.
 * Peers are kept in a small chained hash table keyed by URL; slots are
 * allocated on first use and reused forever after (no allocation per call
 * once warm, besides the nng_msg).
 */
#include "rpc.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

#include "netutil.h"

#define PEER_BUCKETS 256

typedef enum call_phase {
	PHASE_IDLE = 0,
	PHASE_SEND,
	PHASE_RECV,
} call_phase;

typedef struct peer peer;

typedef struct slot {
	dc_call call; /* first: a dc_call * is a struct slot * */
	dc_rpc *rpc;
	peer *peer;
	nng_ctx ctx;
	nng_aio *aio;
	call_phase phase;
	nng_time deadline;
	struct slot *next_free;
	struct slot *next_all;
} slot;

struct peer {
	char *url;
	nng_socket sock;
	bool sock_open;
	slot *free;
	peer *next;
};

struct dc_rpc {
	dc_rpc_opts opts;
	dc_mailbox *mb;
	peer *buckets[PEER_BUCKETS];
	unsigned npeers;
	unsigned outstanding;
	slot *all;
	bool closed;
};

static uint32_t url_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h % PEER_BUCKETS;
}

static void peer_destroy(peer *p)
{
	if (p == NULL)
		return;
	if (p->sock_open)
		nng_close(p->sock);
	free(p->url);
	free(p);
}

static int peer_open_socket(dc_rpc *rpc, peer *p)
{
	int rv = nng_req0_open(&p->sock);

	if (rv != 0)
		return dc_err_from_nng(rv);
	p->sock_open = true;
	nng_socket_set_size(p->sock, NNG_OPT_RECVMAXSZ,
	                    rpc->opts.max_msg_bytes);
	/* The engine owns resends (attempt numbers, backoff): none from nng. */
	nng_socket_set_ms(p->sock, NNG_OPT_REQ_RESENDTIME,
	                  NNG_DURATION_INFINITE);
	nng_socket_set_ms(p->sock, NNG_OPT_RECONNMINT, 20);
	nng_socket_set_ms(p->sock, NNG_OPT_RECONNMAXT, 1000);
	rv = nng_dial(p->sock, p->url, NULL, NNG_FLAG_NONBLOCK);
	return dc_err_from_nng(rv);
}

static int peer_get(dc_rpc *rpc, const char *url, peer **ret_peer)
{
	uint32_t b = url_hash(url);
	peer *p;
	int rv;

	for (p = rpc->buckets[b]; p != NULL; p = p->next)
		if (strcmp(p->url, url) == 0) {
			*ret_peer = p;
			return DTX_OK;
		}
	if (rpc->npeers >= rpc->opts.max_peers)
		return DTX_ELIMIT;
	p = calloc(1, sizeof(*p));
	if (p == NULL || (p->url = strdup(url)) == NULL) {
		free(p);
		return DTX_ENOMEM;
	}
	rv = peer_open_socket(rpc, p);
	if (rv != DTX_OK) {
		peer_destroy(p);
		return rv;
	}
	p->next = rpc->buckets[b];
	rpc->buckets[b] = p;
	rpc->npeers++;
	*ret_peer = p;
	return DTX_OK;
}

static void slot_complete(slot *s, int result, const char *detail)
{
	s->call.result = result;
	snprintf(s->call.error, sizeof(s->call.error), "%s", detail);
	s->phase = PHASE_IDLE;
	dc_mailbox_post(s->rpc->mb, &s->call.mail);
}

static void slot_got_reply(slot *s)
{
	nng_msg *msg = nng_aio_get_msg(s->aio);
	char err[128] = "";
	int rv;

	rv = wire_branch_reply_decode(nng_msg_body(msg), nng_msg_len(msg),
	                              &s->call.reply, err, sizeof(err));
	nng_msg_free(msg);
	if (rv != DTX_OK) {
		s->call.reply = NULL;
		slot_complete(s, DTX_EPROTO, err);
		return;
	}
	slot_complete(s, DTX_OK, "");
}

static void slot_cb(void *arg)
{
	slot *s = arg;
	int rv = nng_aio_result(s->aio);
	nng_duration left;

	if (rv == NNG_ECLOSED || (rv == NNG_ECANCELED && s->rpc->closed))
		return; /* shutting down: nothing is posted */
	if (rv != 0) {
		if (s->phase == PHASE_SEND)
			nng_msg_free(nng_aio_get_msg(s->aio));
		slot_complete(s,
		              dc_err_from_nng(rv) == DTX_ETIMEDOUT
		                      ? DTX_ETIMEDOUT
		                      : DTX_EUNREACHABLE,
		              nng_strerror(rv));
		return;
	}
	if (s->phase == PHASE_RECV) {
		slot_got_reply(s);
		return;
	}
	s->phase = PHASE_RECV;
	left = (nng_duration)(s->deadline - nng_clock());
	nng_aio_set_timeout(s->aio, left > 0 ? left : 1);
	nng_ctx_recv(s->ctx, s->aio);
}

static void slot_destroy(slot *s)
{
	nng_aio_free(s->aio);
	free(s);
}

/* slot_get takes a free slot of p or makes one; NULL with *ret_err set on
 * failure. */
static slot *slot_get(dc_rpc *rpc, peer *p, int *ret_err)
{
	slot *s = p->free;
	int rv;

	if (s != NULL) {
		p->free = s->next_free;
		return s;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		*ret_err = DTX_ENOMEM;
		return NULL;
	}
	s->rpc = rpc;
	s->peer = p;
	s->call.mail.kind = DC_MAIL_CALL;
	if ((rv = nng_aio_alloc(&s->aio, slot_cb, s)) != 0 ||
	    (rv = nng_ctx_open(&s->ctx, p->sock)) != 0) {
		slot_destroy(s);
		*ret_err = dc_err_from_nng(rv);
		return NULL;
	}
	s->next_all = rpc->all;
	rpc->all = s;
	return s;
}

int dc_rpc_create(const dc_rpc_opts *opts, dc_mailbox *mb, dc_rpc **ret_rpc)
{
	dc_rpc *rpc = calloc(1, sizeof(*rpc));

	if (rpc == NULL)
		return DTX_ENOMEM;
	rpc->opts = *opts;
	rpc->mb = mb;
	*ret_rpc = rpc;
	return DTX_OK;
}

static int make_msg(const Dtx__V1__BranchCall *msg, nng_msg **ret_msg)
{
	size_t len = wire_packed_size(&msg->base);
	nng_msg *m;

	if (nng_msg_alloc(&m, len) != 0)
		return DTX_ENOMEM;
	wire_pack(&msg->base, nng_msg_body(m));
	*ret_msg = m;
	return DTX_OK;
}

int dc_rpc_call(dc_rpc *rpc, const char *url, const Dtx__V1__BranchCall *msg,
                uint32_t timeout_ms, void *owner, uint64_t token)
{
	peer *p;
	slot *s;
	nng_msg *m;
	int rv;

	if (rpc->closed)
		return DTX_ECLOSED;
	if (rpc->outstanding >= rpc->opts.max_calls)
		return DTX_ELIMIT;
	if ((rv = peer_get(rpc, url, &p)) != DTX_OK)
		return rv;
	if ((rv = make_msg(msg, &m)) != DTX_OK)
		return rv;
	if ((s = slot_get(rpc, p, &rv)) == NULL) {
		nng_msg_free(m);
		return rv;
	}
	s->call.owner = owner;
	s->call.token = token;
	s->call.reply = NULL;
	s->phase = PHASE_SEND;
	s->deadline = nng_clock() + timeout_ms;
	rpc->outstanding++;
	nng_aio_set_timeout(s->aio, (nng_duration)timeout_ms);
	nng_aio_set_msg(s->aio, m);
	nng_ctx_send(s->ctx, s->aio);
	return DTX_OK;
}

void dc_rpc_release(dc_rpc *rpc, dc_call *call)
{
	slot *s = (slot *)call;

	wire_branch_reply_free(call->reply);
	call->reply = NULL;
	call->owner = NULL;
	s->next_free = s->peer->free;
	s->peer->free = s;
	rpc->outstanding--;
}

unsigned dc_rpc_outstanding(const dc_rpc *rpc)
{
	return rpc->outstanding;
}

void dc_rpc_close(dc_rpc *rpc)
{
	if (rpc == NULL || rpc->closed)
		return;
	rpc->closed = true;
	for (unsigned b = 0; b < PEER_BUCKETS; b++)
		for (peer *p = rpc->buckets[b]; p != NULL; p = p->next) {
			nng_close(p->sock);
			p->sock_open = false;
		}
	for (slot *s = rpc->all; s != NULL; s = s->next_all)
		nng_aio_stop(s->aio);
}

void dc_rpc_destroy(dc_rpc *rpc)
{
	slot *s, *next;

	if (rpc == NULL)
		return;
	dc_rpc_close(rpc);
	for (s = rpc->all; s != NULL; s = next) {
		next = s->next_all;
		wire_branch_reply_free(s->call.reply);
		slot_destroy(s);
	}
	for (unsigned b = 0; b < PEER_BUCKETS; b++) {
		peer *p = rpc->buckets[b];
		while (p != NULL) {
			peer *pn = p->next;
			peer_destroy(p);
			p = pn;
		}
	}
	free(rpc);
}
