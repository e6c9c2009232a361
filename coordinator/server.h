/*
 * server.h - the coordinator's client API endpoint (nng rep0, contexts).
 *
 * Owns the listening socket, a fixed pool of dc_request slots (each an nng
 * context with its aio; request.h: the slots implement its ops) and the
 * table of connections. A received request is posted to the engine's
 * mailbox; the engine admits it
 * (dc_request_admit, and dc_request_wait if it asks to wait for an
 * outcome), then answers it with dc_request_reply (or gives it back with
 * dc_request_drop) on the loop thread, after which the slot receives the
 * next request. The pool size is the limit of client requests the
 * coordinator holds at once; further requests wait in nng's queues (back
 * pressure).
 *
 * No client may starve the others: a connection holds at most
 * max_per_conn requests and max_waits_per_conn waits, the waits of all
 * connections never take the last slots of the pool (server.c), idle
 * connections are closed and the number of connections is capped.
 *
 * Never interprets a request: decoding and validation are the engine's.
 */
#ifndef DTX_COORDINATOR_SERVER_H
#define DTX_COORDINATOR_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailbox.h"
#include "request.h"
#include "timerq.h"
#include "tlsconf.h"
#include "wire.h"

typedef struct dc_server dc_server;

typedef struct dc_server_opts {
	const char *const *urls; /* nng URLs to listen on (borrowed) */
	size_t nurls;
	unsigned slots;        /* dc_request pool size */
	size_t max_msg_bytes;  /* a larger request gets DTX_ETOOBIG; nng itself
	                          drops one over DC_SERVER_WIRE_FACTOR times it
	                        */
	unsigned max_conns;    /* connections at once, more are closed at once;
	                          0 = no limit */
	unsigned max_per_conn; /* requests one connection has held at
	                          once; 0 = DC_SERVER_PER_CONN_DEFAULT */
	unsigned max_waits_per_conn; /* of those, waiting for an outcome;
	                                0 = max_per_conn */
	uint32_t idle_ms; /* close a connection that holds no request and sent
	                     nothing for this long; 0 = never */
	int mail_kind;    /* kind of the posted mail; 0 = DC_MAIL_REQUEST
	                     (the admin endpoint uses DC_MAIL_ADMIN) */
	/* the TLS configuration of its tls+tcp:// listeners (retained until
	 * dc_server_set_tls replaces it or destroy); NULL: none (the
	 * settings check refuses a tls+tcp:// URL without one) */
	nng_tls_config *tls;
} dc_server_opts;

/* nng's own receive limit is this many times max_msg_bytes: a request
 * between the two limits is answered DTX_ETOOBIG, a larger one is dropped by
 * nng with its connection (nng 1.5.2 cannot answer it). */
#define DC_SERVER_WIRE_FACTOR 2

/* DC_SERVER_PER_CONN_DEFAULT is max_per_conn's default for a pool of n
 * slots: all but min(1024, n / 4) slots, kept for other connections. One
 * connection can then carry a flash sale (dtx-shop sizes --max-clients as
 * its concurrency + 1024) while others are still received. */
#define DC_SERVER_PER_CONN_DEFAULT(n) ((n) - ((n) / 4 < 1024 ? (n) / 4 : 1024))

/* dc_server_open listens on every URL and starts receiving into mb
 * (retained). Errors: DTX_EINVAL (bad URL), DTX_EUNREACHABLE (cannot listen,
 * e.g. address in use), DTX_ENOMEM. errbuf receives the failing URL. */
int dc_server_open(const dc_server_opts *opts, dc_mailbox *mb,
                   dc_server **ret_srv, char *errbuf, size_t errlen);

/* dc_server_set_tls makes tls (retained as in dc_server_opts) the TLS
 * configuration of srv's listeners, for the connections they accept from
 * now on (SIGHUP's reload). Errors: DTX_EINVAL (nng refused it). */
int dc_server_set_tls(dc_server *srv, nng_tls_config *tls);

/* dc_server_close stops listening and waits for nng's callbacks to finish;
 * requests the engine still holds become invalid when dc_server_destroy
 * runs. Loop thread. */
void dc_server_close(dc_server *srv);

/* dc_server_destroy frees the server and its slots. Accepts NULL. */
void dc_server_destroy(dc_server *srv);

#endif
