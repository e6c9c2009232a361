/*
 * server.h - the coordinator's client API endpoint (nng rep0, contexts).
 *
 * Owns the listening socket and a fixed pool of dc_request slots, each an
 * nng context with its aio. A received request is posted to the engine's
 * mailbox; the engine answers it with dc_request_reply (or gives it back
 * with dc_request_drop) on the loop thread, after which the slot receives
 * the next request. The pool size is the limit of client requests the
 * coordinator holds at once (requests waiting for a transaction to finish
 * included); further requests wait in nng's queues (back pressure).
 *
 * Never interprets a request: decoding and validation are the engine's.
 */
#ifndef DTX_COORDINATOR_SERVER_H
#define DTX_COORDINATOR_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailbox.h"
#include "timerq.h"
#include "wire.h"

#define DC_MAIL_REQUEST 1
#define DC_MAIL_ADMIN   3 /* a request on the admin endpoint */

typedef struct dc_server dc_server;

/* One client request slot. The fields under "engine" belong to the engine
 * while it holds the request (between delivery and reply/drop). */
typedef struct dc_request {
	dc_mail mail; /* kind DC_MAIL_REQUEST */

	/* engine */
	struct dc_request *wnext; /* list of requests waiting on one tx */
	void *wait_owner;         /* the engine object it waits on, or NULL */
	dc_timer wait_timer;      /* when to stop waiting */
	bool created;             /* submit: this request made the tx */

	/* server (private) */
	dc_server *srv;
	void *ctx_aio; /* struct slot * in server.c */
} dc_request;

typedef struct dc_server_opts {
	const char *const *urls; /* nng URLs to listen on (borrowed) */
	size_t nurls;
	unsigned slots;       /* dc_request pool size */
	size_t max_msg_bytes; /* NNG_OPT_RECVMAXSZ */
	int mail_kind;        /* kind of the posted mail; 0 = DC_MAIL_REQUEST
	                         (the admin endpoint uses DC_MAIL_ADMIN) */
} dc_server_opts;

/* dc_server_open listens on every URL and starts receiving into mb
 * (retained). Errors: DTX_EINVAL (bad URL), DTX_EUNREACHABLE (cannot listen,
 * e.g. address in use), DTX_ENOMEM. errbuf receives the failing URL. */
int dc_server_open(const dc_server_opts *opts, dc_mailbox *mb,
                   dc_server **ret_srv, char *errbuf, size_t errlen);

/* dc_server_close stops listening and waits for nng's callbacks to finish;
 * requests the engine still holds become invalid when dc_server_destroy
 * runs. Loop thread. */
void dc_server_close(dc_server *srv);

/* dc_server_destroy frees the server and its slots. Accepts NULL. */
void dc_server_destroy(dc_server *srv);

/* dc_request_body returns the received bytes (borrowed until reply/drop). */
const void *dc_request_body(const dc_request *req, size_t *ret_len);

/* dc_request_reply packs reply (borrowed) and sends it; the slot then takes
 * the next request. Loop thread. A send that fails (client gone) is logged
 * by nobody: the client retries. */
void dc_request_reply(dc_request *req, const Dtx__V1__ClientReply *reply);

/* dc_request_reply_raw sends the len packed bytes at buf (borrowed) as the
 * reply, like dc_request_reply. Loop thread. */
void dc_request_reply_raw(dc_request *req, const void *buf, size_t len);

/* dc_request_drop gives the slot back without answering. */
void dc_request_drop(dc_request *req);

#endif
