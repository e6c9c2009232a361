/*
 * rpc.c - branch calls over nng req0 contexts (see rpc.h).
 *
 * A call is packed at once and waits on its peer's pending list until the
 * loop's next dc_rpc_flush (before the loop sleeps); the flush sends the
 * calls of each peer that are ready together as one request (a batch,
 * dtx.proto BranchCall.batch, at most WIRE_BATCH_MAX), so a group commit
 * that makes a hundred calls costs a few messages, not a hundred. A
 * request (wmsg) cycles SEND -> RECV -> (each call posted to the engine)
 * -> free list of its peer once the engine released its last call. The
 * aio callback runs on nng's threads: it decodes the reply there (moving
 * that CPU off the loop) and posts; it never touches engine state. Peers
 * are kept in a small chained hash table keyed by URL; calls and requests
 * are allocated on first use and reused forever after (no allocation per
 * call once warm, besides the nng_msg and the decoded reply).
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

#define PEER_BUCKETS      256
#define DEADLINE_SLACK_MS 50 /* see same_deadline */

typedef enum wire_phase {
	PHASE_IDLE = 0,
	PHASE_SEND,
	PHASE_RECV,
} wire_phase;

typedef struct peer peer;
typedef struct wmsg wmsg;

/* rcall - one call, from dc_rpc_call to dc_rpc_release. */
typedef struct rcall {
	dc_call call; /* first: a dc_call * is a struct rcall * */
	peer *peer;
	wmsg *w; /* the message it went out in, while in flight */
	nng_time deadline;
	bool alone;   /* a resend: never batched (see dc_rpc_call) */
	uint8_t *buf; /* owned: the packed BranchCall, reused */
	size_t len, cap;
	struct rcall *next; /* the peer's pending or free list */
	struct rcall *next_all;
} rcall;

/* wmsg - one request on the wire: a call, or a batch of calls to one
 * peer, on its own req0 context. */
struct wmsg {
	dc_rpc *rpc;
	peer *peer;
	nng_ctx ctx;
	nng_aio *aio;
	wire_phase phase;
	nng_time deadline; /* the earliest of its calls' */
	unsigned n;        /* calls in it */
	unsigned left;     /* calls not yet released */
	rcall *calls[WIRE_BATCH_MAX];
	Dtx__V1__BranchReply *reply; /* owned: the decoded answer */
	wmsg *next_free;
	wmsg *next_all;
};

struct peer {
	char *url;
	nng_socket sock;
	bool sock_open;
	rcall *free_calls;
	wmsg *free_msgs;
	rcall *pend_head, *pend_tail; /* calls waiting for dc_rpc_flush */
	bool dirty;                   /* on the rpc's dirty list */
	peer *next_dirty;
	peer *next;
};

struct dc_rpc {
	dc_rpc_opts opts;
	dc_mailbox *mb;
	peer *buckets[PEER_BUCKETS];
	unsigned npeers;
	unsigned outstanding; /* calls not released */
	peer *dirty;          /* peers with pending calls */
	rcall *all_calls;
	wmsg *all_msgs;
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

/* ---- completions (nng threads) ----------------------------------------- */

/* complete_all posts every call of w with result and detail. */
static void complete_all(wmsg *w, int result, const char *detail)
{
	w->phase = PHASE_IDLE;
	w->left = w->n;
	for (unsigned i = 0; i < w->n; i++) {
		dc_call *c = &w->calls[i]->call;

		c->result = result;
		c->reply = NULL;
		snprintf(c->error, sizeof(c->error), "%s", detail);
	}
	/* after the last post the loop may release w: read nothing of it */
	for (unsigned i = 0, n = w->n; i < n; i++)
		dc_mailbox_post(w->rpc->mb, &w->calls[i]->call.mail);
}

/* got_reply decodes the answer to w's n calls and posts each call with
 * its reply (a batch's replies stay in w->reply until the last call is
 * released). */
static void got_reply(wmsg *w)
{
	nng_msg *msg = nng_aio_get_msg(w->aio);
	Dtx__V1__BranchReply *rep = NULL;
	char err[160] = "";
	int rv;

	rv = wire_branch_replies_decode(nng_msg_body(msg), nng_msg_len(msg),
	                                w->n, &rep, err, sizeof(err));
	nng_msg_free(msg);
	if (rv != DTX_OK) {
		complete_all(w, DTX_EPROTO, err);
		return;
	}
	w->reply = rep;
	w->phase = PHASE_IDLE;
	w->left = w->n;
	for (unsigned i = 0; i < w->n; i++) {
		dc_call *c = &w->calls[i]->call;

		c->result = DTX_OK;
		c->error[0] = '\0';
		c->reply = w->n == 1 ? rep : rep->batch[i];
	}
	for (unsigned i = 0, n = w->n; i < n; i++)
		dc_mailbox_post(w->rpc->mb, &w->calls[i]->call.mail);
}

static void wmsg_cb(void *arg)
{
	wmsg *w = arg;
	int rv = nng_aio_result(w->aio);
	nng_duration left;

	if (rv == NNG_ECLOSED || (rv == NNG_ECANCELED && w->rpc->closed))
		return; /* shutting down: nothing is posted */
	if (rv != 0) {
		if (w->phase == PHASE_SEND)
			nng_msg_free(nng_aio_get_msg(w->aio));
		complete_all(w,
		             dc_err_from_nng(rv) == DTX_ETIMEDOUT
		                     ? DTX_ETIMEDOUT
		                     : DTX_EUNREACHABLE,
		             nng_strerror(rv));
		return;
	}
	if (w->phase == PHASE_RECV) {
		got_reply(w);
		return;
	}
	w->phase = PHASE_RECV;
	left = (nng_duration)(w->deadline - nng_clock());
	nng_aio_set_timeout(w->aio, left > 0 ? left : 1);
	nng_ctx_recv(w->ctx, w->aio);
}

/* ---- pools (loop thread) ----------------------------------------------- */

/* wmsg_get takes a free request of p or makes one; NULL with *ret_err set
 * on failure. */
static wmsg *wmsg_get(dc_rpc *rpc, peer *p, int *ret_err)
{
	wmsg *w = p->free_msgs;
	int rv;

	if (w != NULL) {
		p->free_msgs = w->next_free;
		return w;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		*ret_err = DTX_ENOMEM;
		return NULL;
	}
	w->rpc = rpc;
	w->peer = p;
	if ((rv = nng_aio_alloc(&w->aio, wmsg_cb, w)) != 0 ||
	    (rv = nng_ctx_open(&w->ctx, p->sock)) != 0) {
		nng_aio_free(w->aio);
		free(w);
		*ret_err = dc_err_from_nng(rv);
		return NULL;
	}
	w->next_all = rpc->all_msgs;
	rpc->all_msgs = w;
	return w;
}

/* rcall_get takes a free call of p or makes one (NULL: out of memory). */
static rcall *rcall_get(dc_rpc *rpc, peer *p)
{
	rcall *c = p->free_calls;

	if (c != NULL) {
		p->free_calls = c->next;
		return c;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->peer = p;
	c->call.mail.kind = DC_MAIL_CALL;
	c->next_all = rpc->all_calls;
	rpc->all_calls = c;
	return c;
}

/* pack_into packs msg into c's buffer (grown when needed). */
static int pack_into(rcall *c, const Dtx__V1__BranchCall *msg)
{
	size_t len = wire_packed_size(&msg->base);

	if (len > c->cap) {
		uint8_t *nb = realloc(c->buf, len);

		if (nb == NULL)
			return DTX_ENOMEM;
		c->buf = nb;
		c->cap = len;
	}
	wire_pack(&msg->base, c->buf);
	c->len = len;
	return DTX_OK;
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

int dc_rpc_call(dc_rpc *rpc, const char *url, const Dtx__V1__BranchCall *msg,
                uint32_t timeout_ms, void *owner, uint64_t token)
{
	peer *p;
	rcall *c;
	int rv;

	if (rpc->closed)
		return DTX_ECLOSED;
	if (rpc->outstanding >= rpc->opts.max_calls)
		return DTX_ELIMIT;
	if ((rv = peer_get(rpc, url, &p)) != DTX_OK)
		return rv;
	if ((c = rcall_get(rpc, p)) == NULL)
		return DTX_ENOMEM;
	if ((rv = pack_into(c, msg)) != DTX_OK) {
		c->next = p->free_calls;
		p->free_calls = c;
		return rv;
	}
	c->call.owner = owner;
	c->call.token = token;
	c->call.reply = NULL;
	c->deadline = nng_clock() + timeout_ms;
	/* A resend goes alone: if a batch's answer was lost (too big for
	 * the receive limit, say), its calls must not fail together again. */
	c->alone = msg->attempt > 1;
	c->next = NULL;
	if (p->pend_tail != NULL)
		p->pend_tail->next = c;
	else
		p->pend_head = c;
	p->pend_tail = c;
	if (!p->dirty) {
		p->dirty = true;
		p->next_dirty = rpc->dirty;
		rpc->dirty = p;
	}
	rpc->outstanding++;
	return DTX_OK;
}

/* same_deadline tells whether a and b may share a request: one deadline
 * serves a batch, so their own may differ by at most DEADLINE_SLACK_MS
 * (calls with the same timeout made in one loop turn do). */
static bool same_deadline(const rcall *a, const rcall *b)
{
	nng_time d = a->deadline > b->deadline ? a->deadline - b->deadline
	                                       : b->deadline - a->deadline;

	return d <= DEADLINE_SLACK_MS;
}

/* take_batch moves the next calls of p's pending list into w: one that
 * must go alone, or up to WIRE_BATCH_MAX others in order while the
 * message stays within max_msg_bytes. Returns the message size. */
static size_t take_batch(dc_rpc *rpc, peer *p, wmsg *w)
{
	rcall *c = p->pend_head;
	size_t total = c->len, batch = wire_batch_head_size();

	w->n = 0;
	w->deadline = c->deadline;
	if (!c->alone)
		for (; c != NULL && !c->alone && w->n < WIRE_BATCH_MAX;
		     c = c->next) {
			size_t item =
			        wire_batch_item_head_size(c->len) + c->len;

			if (w->n > 0 &&
			    (batch + item > rpc->opts.max_msg_bytes ||
			     !same_deadline(c, w->calls[0])))
				break;
			batch += item;
			w->calls[w->n++] = c;
			if (c->deadline < w->deadline)
				w->deadline = c->deadline;
		}
	if (w->n == 0) /* the first goes alone */
		w->calls[w->n++] = p->pend_head;
	p->pend_head = w->calls[w->n - 1]->next;
	if (p->pend_head == NULL)
		p->pend_tail = NULL;
	return w->n == 1 ? total : batch;
}

/* build_msg writes w's calls into a new nng_msg of len bytes. */
static int build_msg(wmsg *w, size_t len, nng_msg **ret_msg)
{
	nng_msg *m;
	uint8_t *b;

	if (nng_msg_alloc(&m, len) != 0)
		return DTX_ENOMEM;
	b = nng_msg_body(m);
	if (w->n == 1) {
		memcpy(b, w->calls[0]->buf, w->calls[0]->len);
	} else {
		wire_batch_head(b);
		b += wire_batch_head_size();
		for (unsigned i = 0; i < w->n; i++) {
			b += wire_batch_item_head(b, false, w->calls[i]->len);
			memcpy(b, w->calls[i]->buf, w->calls[i]->len);
			b += w->calls[i]->len;
		}
	}
	*ret_msg = m;
	return DTX_OK;
}

/* send_next sends the next request of p's pending calls. A request that
 * cannot be made completes its calls as undeliverable, so the engine
 * backs off and calls again. */
static void send_next(dc_rpc *rpc, peer *p)
{
	wmsg tmp, *w;
	nng_msg *m = NULL;
	size_t len;
	nng_duration left;
	int rv = DTX_OK;

	w = wmsg_get(rpc, p, &rv);
	if (w == NULL) {
		tmp = (wmsg){.rpc = rpc, .peer = p};
		take_batch(rpc, p, &tmp);
		for (unsigned i = 0; i < tmp.n; i++) {
			dc_call *c = &tmp.calls[i]->call;

			c->result = DTX_EUNREACHABLE;
			c->reply = NULL;
			tmp.calls[i]->w = NULL;
			snprintf(c->error, sizeof(c->error), "%s",
			         dtx_strerror(rv));
			dc_mailbox_post(rpc->mb, &c->mail);
		}
		return;
	}
	len = take_batch(rpc, p, w);
	for (unsigned i = 0; i < w->n; i++)
		w->calls[i]->w = w;
	w->reply = NULL;
	if (build_msg(w, len, &m) != DTX_OK) {
		complete_all(w, DTX_EUNREACHABLE, dtx_strerror(DTX_ENOMEM));
		return;
	}
	w->phase = PHASE_SEND;
	left = (nng_duration)(w->deadline - nng_clock());
	nng_aio_set_timeout(w->aio, left > 0 ? left : 1);
	nng_aio_set_msg(w->aio, m);
	nng_ctx_send(w->ctx, w->aio);
}

void dc_rpc_flush(dc_rpc *rpc)
{
	peer *p;

	while ((p = rpc->dirty) != NULL) {
		rpc->dirty = p->next_dirty;
		p->dirty = false;
		p->next_dirty = NULL;
		while (p->pend_head != NULL && !rpc->closed)
			send_next(rpc, p);
	}
}

void dc_rpc_release(dc_rpc *rpc, dc_call *call)
{
	rcall *c = (rcall *)call;
	wmsg *w = c->w;

	call->reply = NULL;
	call->owner = NULL;
	c->w = NULL;
	c->next = c->peer->free_calls;
	c->peer->free_calls = c;
	rpc->outstanding--;
	if (w == NULL || --w->left > 0)
		return;
	wire_branch_reply_free(w->reply);
	w->reply = NULL;
	w->n = 0;
	w->next_free = w->peer->free_msgs;
	w->peer->free_msgs = w;
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
	for (wmsg *w = rpc->all_msgs; w != NULL; w = w->next_all)
		nng_aio_stop(w->aio);
}

void dc_rpc_destroy(dc_rpc *rpc)
{
	if (rpc == NULL)
		return;
	dc_rpc_close(rpc);
	for (wmsg *w = rpc->all_msgs, *next; w != NULL; w = next) {
		next = w->next_all;
		wire_branch_reply_free(w->reply);
		nng_aio_free(w->aio);
		free(w);
	}
	for (rcall *c = rpc->all_calls, *next; c != NULL; c = next) {
		next = c->next_all;
		free(c->buf);
		free(c);
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
