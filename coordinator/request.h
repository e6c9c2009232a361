/*
 * request.h - one request the engine holds: client or admin, from
 * whichever endpoint received it.
 *
 * A dc_request is a handle with an ops table, so that the engine answers
 * a request without knowing what carried it: server.c's slots (nng
 * contexts) are the real endpoints; a test's in-memory transport
 * (tests/support/memnet.c) makes its own. The endpoint posts the request
 * to the engine's mailbox (kind DC_MAIL_REQUEST or DC_MAIL_ADMIN); the
 * engine admits it (dc_request_admit, and dc_request_wait if it asks to
 * wait for an outcome), then answers it once with dc_request_reply or
 * dc_request_reply_raw, or gives it back with dc_request_drop, on the
 * loop thread. After that the endpoint may reuse it.
 *
 * A request carries no engine state: the engine keeps its own by
 * dc_request_index (a client endpoint's indices are below the engine's
 * --max-clients).
 */
#ifndef DTX_COORDINATOR_REQUEST_H
#define DTX_COORDINATOR_REQUEST_H

#include <stddef.h>

#include "acl.h"
#include "mailbox.h"
#include "wire.h"

#define DC_MAIL_REQUEST 1
#define DC_MAIL_ADMIN   3 /* a request on the admin endpoint */

typedef struct dc_request dc_request;

/* What an endpoint does with its requests; the meaning of each is that of
 * the dc_request_* call of the same name below. */
typedef struct dc_request_ops {
	const void *(*body)(const dc_request *req, size_t *ret_len);
	int (*admit)(dc_request *req, char *errbuf, size_t errlen);
	int (*wait)(dc_request *req, char *errbuf, size_t errlen);
	void (*reply)(dc_request *req, const Dtx__V1__ClientReply *reply);
	void (*reply_raw)(dc_request *req, const void *buf, size_t len);
	void (*drop)(dc_request *req);
	int (*peer)(const dc_request *req, dc_peer *ret_peer); /* or NULL */
} dc_request_ops;

/* One request: its endpoint embeds it first in its own slot and sets
 * every field before posting mail. */
struct dc_request {
	dc_mail mail;              /* DC_MAIL_REQUEST or DC_MAIL_ADMIN */
	const dc_request_ops *ops; /* its endpoint's */
	unsigned index;            /* its place in its endpoint's pool */
};

/* dc_request_index returns req's place in its endpoint's pool, 0..slots-1:
 * the engine's tables of per-request state are indexed by it. */
unsigned dc_request_index(const dc_request *req);

/* dc_request_body returns the received bytes (borrowed until reply/drop). */
const void *dc_request_body(const dc_request *req, size_t *ret_len);

/* dc_request_admit counts req in its connection's requests, or refuses it:
 * DTX_ETOOBIG (larger than the endpoint's message limit), DTX_EBUSY (its
 * connection holds as many requests as it may). A refused request is not
 * counted; answer it (errbuf says why, naming the limit) and give it back
 * as usual. Loop thread; first thing. Idempotent: a request run again
 * (after a read of the log) is counted once. */
int dc_request_admit(dc_request *req, char *errbuf, size_t errlen);

/* dc_request_wait counts admitted req as waiting for an outcome until it is
 * answered, or refuses with DTX_EBUSY (too many waits on its connection or
 * on the endpoint). Call it before the request changes anything, so that a
 * refused one can be sent again. Loop thread; idempotent, as
 * dc_request_admit. */
int dc_request_wait(dc_request *req, char *errbuf, size_t errlen);

/* dc_request_reply packs reply (borrowed) and sends it; the endpoint then
 * reuses req. Loop thread. A send that fails (client gone) is logged by
 * nobody: the client retries. */
void dc_request_reply(dc_request *req, const Dtx__V1__ClientReply *reply);

/* dc_request_reply_raw sends the len packed bytes at buf (borrowed) as the
 * reply, like dc_request_reply. Loop thread. */
void dc_request_reply_raw(dc_request *req, const void *buf, size_t len);

/* dc_request_drop gives req back without answering. Loop thread. */
void dc_request_drop(dc_request *req);

/* dc_request_peer tells who sent req, as far as its connection says: an
 * ipc:// peer's uid, gid and pid (ret_peer->known); over TCP, or once the
 * connection is gone, nothing (known false). Loop thread; before the
 * reply. Always DTX_OK. */
int dc_request_peer(const dc_request *req, dc_peer *ret_peer);

#endif
