/*
 * server.c - client API endpoint: rep0 socket and a pool of contexts.
 *
 * Each slot cycles RECV -> (engine holds it) -> SEND -> RECV. The aio
 * callback runs on nng's threads and only posts to the mailbox or restarts
 * a receive; it never touches engine state. Slots are allocated once at
 * open: no allocation per request except the nng_msg nng itself makes.
 *
 * Must never block the loop: dc_request_reply starts an asynchronous send.
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "netutil.h"

typedef enum slot_state {
	SLOT_RECV = 1,
	SLOT_HELD,
	SLOT_SEND,
} slot_state;

typedef struct slot {
	dc_request req; /* first: a dc_request * is a struct slot * */
	nng_ctx ctx;
	nng_aio *aio;
	nng_msg *msg; /* the received request while held */
	slot_state state;
} slot;

struct dc_server {
	nng_socket sock;
	bool sock_open;
	dc_mailbox *mb;
	slot *slots;
	unsigned nslots;
};

static void slot_recv(slot *s)
{
	s->state = SLOT_RECV;
	nng_ctx_recv(s->ctx, s->aio);
}

static void slot_cb(void *arg)
{
	slot *s = arg;
	int rv = nng_aio_result(s->aio);

	if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
		return; /* shutting down */
	if (s->state == SLOT_SEND) {
		if (rv != 0)
			nng_msg_free(nng_aio_get_msg(s->aio));
		slot_recv(s);
		return;
	}
	if (rv != 0) {
		slot_recv(s);
		return;
	}
	s->msg = nng_aio_get_msg(s->aio);
	s->state = SLOT_HELD;
	dc_mailbox_post(s->req.srv->mb, &s->req.mail);
}

static int slot_init(dc_server *srv, slot *s, int mail_kind)
{
	int rv;

	memset(s, 0, sizeof(*s));
	s->req.mail.kind = mail_kind ? mail_kind : DC_MAIL_REQUEST;
	s->req.srv = srv;
	s->req.ctx_aio = s;
	dc_timer_init(&s->req.wait_timer);
	rv = nng_aio_alloc(&s->aio, slot_cb, s);
	if (rv != 0)
		return dc_err_from_nng(rv);
	rv = nng_ctx_open(&s->ctx, srv->sock);
	if (rv != 0)
		return dc_err_from_nng(rv);
	return DTX_OK;
}

static int open_socket(dc_server *srv, const dc_server_opts *opts, char *errbuf,
                       size_t errlen)
{
	int rv = nng_rep0_open(&srv->sock);

	if (rv != 0)
		return dc_err_from_nng(rv);
	srv->sock_open = true;
	/* nng's default receive limit is unlimited: always set one. */
	nng_socket_set_size(srv->sock, NNG_OPT_RECVMAXSZ, opts->max_msg_bytes);
	for (size_t i = 0; i < opts->nurls; i++) {
		rv = nng_listen(srv->sock, opts->urls[i], NULL, 0);
		if (rv != 0) {
			snprintf(errbuf, errlen, "cannot listen on %s: %s",
			         opts->urls[i], nng_strerror(rv));
			return rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP
			               ? DTX_EINVAL
			               : DTX_EUNREACHABLE;
		}
	}
	return DTX_OK;
}

int dc_server_open(const dc_server_opts *opts, dc_mailbox *mb,
                   dc_server **ret_srv, char *errbuf, size_t errlen)
{
	dc_server *srv = calloc(1, sizeof(*srv));
	int rv;

	if (srv == NULL)
		return DTX_ENOMEM;
	srv->mb = mb;
	rv = open_socket(srv, opts, errbuf, errlen);
	if (rv != DTX_OK)
		goto fail;
	rv = DTX_ENOMEM;
	srv->slots = calloc(opts->slots, sizeof(*srv->slots));
	if (srv->slots == NULL)
		goto fail;
	for (; srv->nslots < opts->slots; srv->nslots++) {
		rv = slot_init(srv, &srv->slots[srv->nslots], opts->mail_kind);
		if (rv != DTX_OK)
			goto fail;
	}
	for (unsigned i = 0; i < srv->nslots; i++)
		slot_recv(&srv->slots[i]);
	*ret_srv = srv;
	return DTX_OK;
fail:
	dc_server_close(srv);
	dc_server_destroy(srv);
	return rv;
}

void dc_server_close(dc_server *srv)
{
	if (srv == NULL || !srv->sock_open)
		return;
	nng_close(srv->sock);
	srv->sock_open = false;
	for (unsigned i = 0; i < srv->nslots; i++)
		if (srv->slots[i].aio != NULL)
			nng_aio_stop(srv->slots[i].aio);
}

void dc_server_destroy(dc_server *srv)
{
	if (srv == NULL)
		return;
	dc_server_close(srv);
	for (unsigned i = 0; i < srv->nslots; i++) {
		slot *s = &srv->slots[i];
		nng_aio_free(s->aio);
		if (s->msg != NULL)
			nng_msg_free(s->msg);
	}
	free(srv->slots);
	free(srv);
}

const void *dc_request_body(const dc_request *req, size_t *ret_len)
{
	const slot *s = (const slot *)req;

	*ret_len = nng_msg_len(s->msg);
	return nng_msg_body(s->msg);
}

static void release_msg(slot *s)
{
	nng_msg_free(s->msg);
	s->msg = NULL;
}

void dc_request_reply(dc_request *req, const Dtx__V1__ClientReply *reply)
{
	slot *s = (slot *)req;
	size_t len = wire_packed_size(&reply->base);
	nng_msg *msg = s->msg;

	s->msg = NULL;
	/* Reuse the request's message: one allocation less per request. */
	if (nng_msg_realloc(msg, len) != 0) {
		nng_msg_free(msg);
		slot_recv(s);
		return;
	}
	wire_pack(&reply->base, nng_msg_body(msg));
	nng_msg_header_clear(msg);
	s->state = SLOT_SEND;
	nng_aio_set_msg(s->aio, msg);
	nng_ctx_send(s->ctx, s->aio);
}

void dc_request_reply_raw(dc_request *req, const void *buf, size_t len)
{
	slot *s = (slot *)req;
	nng_msg *msg = s->msg;

	s->msg = NULL;
	if (nng_msg_realloc(msg, len) != 0) {
		nng_msg_free(msg);
		slot_recv(s);
		return;
	}
	memcpy(nng_msg_body(msg), buf, len);
	nng_msg_header_clear(msg);
	s->state = SLOT_SEND;
	nng_aio_set_msg(s->aio, msg);
	nng_ctx_send(s->ctx, s->aio);
}

void dc_request_drop(dc_request *req)
{
	slot *s = (slot *)req;

	release_msg(s);
	slot_recv(s);
}
