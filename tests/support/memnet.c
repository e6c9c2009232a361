/*
 * memnet.c - the in-memory transport for the engine's unit tests (see
 * memnet.h).
 *
 * Two fixed pools of request slots (client, admin) and a list of calls.
 * A request's slot is held from memnet_client/admin until the test frees
 * it; the engine's answer is kept packed in it. A call is allocated when
 * the engine queues it, leaves (gets its seq) at the engine's flush, and is
 * freed when the engine releases its completion (or at destroy).
 *
 * Must never: answer anything by itself, or post after close.
 */
#include "memnet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct memnet {
	dc_transport base; /* first */
	dc_mailbox *mb;    /* NULL: not open, or closed */
	memnet_req client[MEMNET_SLOTS];
	memnet_req admin[MEMNET_SLOTS];
	memnet_call *calls; /* newest first */
	uint64_t next_seq;
	memnet_req_fn on_reply;
	void *reply_arg;
	memnet_call_fn on_call;
	void *call_arg;
};

/* ---- requests ------------------------------------------------------------
 */

static const void *req_body(const dc_request *r, size_t *ret_len)
{
	const memnet_req *q = (const memnet_req *)r;

	*ret_len = q->len;
	return q->body;
}

static int req_admit(dc_request *r, char *errbuf, size_t errlen)
{
	(void)r, (void)errbuf, (void)errlen;
	return DTX_OK;
}

static void req_reply_raw(dc_request *r, const void *buf, size_t len)
{
	memnet_req *q = (memnet_req *)r;

	if (q->answered)
		abort(); /* the engine answered twice */
	q->reply = malloc(len + 1);
	if (q->reply == NULL)
		abort();
	memcpy(q->reply, buf, len);
	q->reply_len = len;
	q->answered = true;
	if (q->net->on_reply != NULL)
		q->net->on_reply(q->net->reply_arg, q);
}

static void req_reply(dc_request *r, const Dtx__V1__ClientReply *reply)
{
	size_t len = wire_packed_size(&reply->base);
	uint8_t *buf = malloc(len + 1);

	if (buf == NULL)
		abort();
	wire_pack(&reply->base, buf);
	req_reply_raw(r, buf, len);
	free(buf);
}

static void req_drop(dc_request *r)
{
	memnet_req *q = (memnet_req *)r;

	q->answered = true; /* given back unanswered: reply stays NULL */
}

static const dc_request_ops req_ops = {
        .body = req_body,
        .admit = req_admit,
        .wait = req_admit,
        .reply = req_reply,
        .reply_raw = req_reply_raw,
        .drop = req_drop,
};

static memnet_req *post(memnet *net, memnet_req *pool, int kind,
                        const ProtobufCMessage *m)
{
	memnet_req *q = NULL;

	if (net->mb == NULL)
		return NULL;
	for (unsigned i = 0; i < MEMNET_SLOTS && q == NULL; i++)
		if (!pool[i].in_use)
			q = &pool[i];
	if (q == NULL || wire_pack_alloc(m, &q->body, &q->len) != DTX_OK)
		return NULL;
	q->base.mail.kind = kind;
	q->base.ops = &req_ops;
	q->base.index = (unsigned)(q - pool);
	q->net = net;
	q->in_use = true;
	q->answered = false;
	dc_mailbox_post(net->mb, &q->base.mail);
	return q;
}

memnet_req *memnet_client(memnet *net, const Dtx__V1__ClientRequest *m)
{
	return post(net, net->client, DC_MAIL_REQUEST, &m->base);
}

memnet_req *memnet_admin(memnet *net, const Dtx__V1__AdminRequest *m)
{
	return post(net, net->admin, DC_MAIL_ADMIN, &m->base);
}

Dtx__V1__ClientReply *memnet_client_reply(const memnet_req *req)
{
	if (req->reply == NULL)
		return NULL;
	return dtx__v1__client_reply__unpack(NULL, req->reply_len, req->reply);
}

Dtx__V1__AdminReply *memnet_admin_reply(const memnet_req *req)
{
	if (req->reply == NULL)
		return NULL;
	return dtx__v1__admin_reply__unpack(NULL, req->reply_len, req->reply);
}

void memnet_req_free(memnet_req *req)
{
	free(req->body);
	free(req->reply);
	req->body = req->reply = NULL;
	req->len = req->reply_len = 0;
	req->answered = false;
	req->in_use = false;
}

/* ---- calls --------------------------------------------------------------- */

static void copy_str(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src != NULL ? src : "");
}

static int net_call(dc_transport *t, const char *url,
                    const Dtx__V1__BranchCall *msg, uint32_t timeout_ms,
                    void *owner, uint64_t token)
{
	memnet *net = (memnet *)t;
	memnet_call *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return DTX_ENOMEM;
	c->net = net;
	c->base.mail.kind = DC_MAIL_CALL;
	c->base.owner = owner;
	c->base.token = token;
	copy_str(c->url, sizeof(c->url), url);
	copy_str(c->gid, sizeof(c->gid), msg->gid);
	copy_str(c->handler, sizeof(c->handler), msg->handler);
	c->branch = msg->branch;
	c->op = (dtx_op)msg->op;
	c->attempt = msg->attempt;
	c->timeout_ms = timeout_ms;
	c->deadline_unix_ms =
	        msg->has_deadline_unix_ms ? msg->deadline_unix_ms : 0;
	c->epoch = msg->has_epoch ? msg->epoch : 0;
	c->next = net->calls;
	net->calls = c;
	return DTX_OK;
}

/* net_flush: the queued calls leave, oldest first (past 256, the rest
 * leave at the engine's next flush: it flushes every loop turn). */
static void net_flush(dc_transport *t)
{
	memnet *net = (memnet *)t;
	memnet_call *queued[256];
	size_t n = 0;

	for (memnet_call *c = net->calls; c != NULL && n < 256; c = c->next)
		if (c->seq == 0)
			queued[n++] = c;
	while (n > 0) {
		memnet_call *c = queued[--n];
		c->seq = ++net->next_seq;
		if (net->on_call != NULL)
			net->on_call(net->call_arg, c);
	}
}

static void net_release(dc_transport *t, dc_call *call)
{
	memnet *net = (memnet *)t;
	memnet_call **pp = &net->calls;

	while (*pp != NULL && &(*pp)->base != call)
		pp = &(*pp)->next;
	if (*pp == NULL)
		abort(); /* released twice, or not ours */
	*pp = (*pp)->next;
	free(call);
}

/* oldest_out returns the oldest call out (left, no answer) matching gid,
 * branch and op (gid NULL: any call). */
static memnet_call *oldest_out(memnet *net, const char *gid, uint32_t branch,
                               dtx_op op)
{
	memnet_call *oldest = NULL;

	for (memnet_call *c = net->calls; c != NULL; c = c->next) {
		if (c->seq == 0 || c->answered)
			continue;
		if (gid != NULL && (strcmp(c->gid, gid) != 0 ||
		                    c->branch != branch || c->op != op))
			continue;
		if (oldest == NULL || c->seq < oldest->seq)
			oldest = c;
	}
	return oldest;
}

memnet_call *memnet_next_call(memnet *net)
{
	return oldest_out(net, NULL, 0, (dtx_op)0);
}

memnet_call *memnet_find_call(memnet *net, const char *gid, uint32_t branch,
                              dtx_op op)
{
	return oldest_out(net, gid, branch, op);
}

unsigned memnet_calls_out(const memnet *net)
{
	unsigned n = 0;

	for (const memnet_call *c = net->calls; c != NULL; c = c->next)
		n += c->seq != 0 && !c->answered;
	return n;
}

uint64_t memnet_calls_sent(const memnet *net)
{
	return net->next_seq;
}

static const Dtx__V1__BranchStatus status_of[] = {
        [MEMNET_OK] = DTX__V1__BRANCH_STATUS__BRANCH_OK,
        [MEMNET_FAIL] = DTX__V1__BRANCH_STATUS__BRANCH_FAIL,
        [MEMNET_RETRY] = DTX__V1__BRANCH_STATUS__BRANCH_RETRY,
};

void memnet_answer(memnet_call *c, memnet_outcome out, const char *message)
{
	copy_str(c->message, sizeof(c->message), message);
	c->answered = true;
	if (out == MEMNET_TIMEOUT || out == MEMNET_UNREACHABLE) {
		c->base.result = out == MEMNET_TIMEOUT ? DTX_ETIMEDOUT
		                                       : DTX_EUNREACHABLE;
		copy_str(c->base.error, sizeof(c->base.error), message);
	} else {
		dtx__v1__branch_reply__init(&c->reply);
		c->reply.has_status = 1;
		c->reply.status = status_of[out];
		c->reply.message = c->message;
		c->base.result = DTX_OK;
		c->base.reply = &c->reply;
	}
	if (c->net->mb != NULL)
		dc_mailbox_post(c->net->mb, &c->base.mail);
}

/* ---- the transport ------------------------------------------------------- */

static int net_open(dc_transport *t, dc_mailbox *mb, char *errbuf,
                    size_t errlen)
{
	(void)errbuf, (void)errlen;
	((memnet *)t)->mb = mb;
	return DTX_OK;
}

static void net_close(dc_transport *t)
{
	((memnet *)t)->mb = NULL;
}

static void net_destroy(dc_transport *t)
{
	memnet_destroy((memnet *)t);
}

static const dc_transport_ops net_ops = {
        .open = net_open,
        .call = net_call,
        .flush = net_flush,
        .release = net_release,
        .close = net_close,
        .destroy = net_destroy,
};

int memnet_create(memnet **ret_net)
{
	memnet *net = calloc(1, sizeof(*net));

	if (net == NULL)
		return DTX_ENOMEM;
	net->base.ops = &net_ops;
	*ret_net = net;
	return DTX_OK;
}

dc_transport *memnet_transport(memnet *net)
{
	return &net->base;
}

void memnet_destroy(memnet *net)
{
	if (net == NULL)
		return;
	for (unsigned i = 0; i < MEMNET_SLOTS; i++) {
		memnet_req_free(&net->client[i]);
		memnet_req_free(&net->admin[i]);
	}
	while (net->calls != NULL) {
		memnet_call *c = net->calls;
		net->calls = c->next;
		free(c);
	}
	free(net);
}

void memnet_on_reply(memnet *net, memnet_req_fn fn, void *arg)
{
	net->on_reply = fn;
	net->reply_arg = arg;
}

void memnet_on_call(memnet *net, memnet_call_fn fn, void *arg)
{
	net->on_call = fn;
	net->call_arg = arg;
}
