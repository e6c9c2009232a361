/*
 * http.h - dtxd's HTTP endpoint (--http ADDR): one bounded server that
 * modules hang routes on (the operator console and its JSON API now,
 * /metrics and the health checks later).
 *
 * Built on libmicrohttpd (Debian's libmicrohttpd-dev) rather than nng's
 * HTTP server: nng 1.5.2's server has no cap on connections, no idle or
 * header timeout (a client that sends half a request holds its socket for
 * ever) and at EMFILE re-arms its accept at once (http_server.c,
 * http_server_acccb); libmicrohttpd caps connections in total and per
 * client address, times idle ones out and bounds each connection's memory
 * (request line and headers included), on its own thread.
 *
 * A route is a path (exact, or a prefix ending in '/') and a function
 * run on the server's thread for each request: it answers at once
 * (dc_http_reply) or suspends the exchange (dc_http_suspend) and has it
 * run again later from any thread (dc_http_resume), e.g. once the engine
 * answered. Only GET and HEAD are served: nothing over HTTP changes
 * anything (changing actions stay in dtxctl: they need a reason and an
 * identity). Every answer carries no-store, nosniff and a strict content
 * security policy.
 *
 * Must never: touch coordinator state (a route hands work to the engine
 * through its mailbox); block the engine's loop (dc_http_resume only
 * flags the exchange; the route runs on the server's thread).
 */
#ifndef DTX_COORDINATOR_HTTP_H
#define DTX_COORDINATOR_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#define DC_HTTP_CONNS_MAX    64 /* connections at once; more are refused */
#define DC_HTTP_CONNS_PER_IP 16 /* ... from one client address */
#define DC_HTTP_IDLE_S       15 /* a connection silent this long is closed */
#define DC_HTTP_CONN_MEMORY                                                    \
	(32u << 10) /* bytes per connection: request line, headers, query */
#define DC_HTTP_ROUTES_MAX 24
#define DC_HTTP_DRAIN_MS   2000 /* close: longest wait for 503s to leave */
#define DC_HTTP_ADDR_MAX   64   /* bytes of an --http address */

typedef struct dc_http dc_http;
typedef struct dc_http_ex dc_http_ex; /* one request and its answer */

/* dc_http_route_fn handles ex on the server's thread: it calls
 * dc_http_reply once, or dc_http_suspend and returns (it is then run
 * again after dc_http_resume). *state is the route's per-exchange pointer
 * (NULL at first); state_free (set by the route, may be NULL) frees it
 * when the exchange ends, however it ends. */
typedef void (*dc_http_route_fn)(void *arg, dc_http_ex *ex);

typedef struct dc_http_route {
	const char *path;    /* "/api/" (a prefix: ends in '/') or "/" */
	dc_http_route_fn fn; /* retained */
	void *arg;           /* retained */
} dc_http_route;

/* dc_http_addr_parse reads "HOST:PORT" (an IPv4 address, [IPv6] or
 * localhost; PORT 1..65535) into *ret_sa and *ret_len. Returns false
 * (nothing written) for anything else; a host name other than localhost
 * is refused (no resolver at start). */
bool dc_http_addr_parse(const char *s, struct sockaddr_storage *ret_sa,
                        socklen_t *ret_len);

/* dc_http_open listens on addr (the --http text) and serves routes
 * (copied; their fn and arg retained until dc_http_close returns). On
 * failure a one-line reason naming --http goes to errbuf. Errors:
 * DTX_EINVAL (bad address, too many routes), DTX_EUNREACHABLE (cannot
 * listen: address in use, no permission), DTX_ENOMEM. */
int dc_http_open(const char *addr, const dc_http_route *routes, size_t nroutes,
                 dc_http **ret_http, char *errbuf, size_t errlen);

/* dc_http_close stops the server: every suspended exchange is run once
 * more with dc_http_is_closing true (its route answers 503; close waits
 * up to DC_HTTP_DRAIN_MS for those answers to leave), then the server's
 * thread is joined. After it returns no route runs. Any thread
 * but the server's; accepts NULL. */
void dc_http_close(dc_http *h);

/* dc_http_is_closing: dc_http_close has begun (any thread). */
bool dc_http_is_closing(const dc_http_ex *ex);

/* dc_http_path returns the request's path, decoded, without the query
 * (borrowed until the exchange ends). */
const char *dc_http_path(const dc_http_ex *ex);

/* dc_http_method_is_head: the request is a HEAD (the body is not sent). */
bool dc_http_method_is_head(const dc_http_ex *ex);

/* dc_http_query_each calls fn for each query parameter in order (key
 * and value decoded, borrowed; value NULL for a bare key) until fn
 * returns false. Returns the number of parameters seen. */
size_t dc_http_query_each(dc_http_ex *ex,
                          bool (*fn)(void *arg, const char *key,
                                     const char *value),
                          void *arg);

/* dc_http_state returns the route's per-exchange state slot. */
void **dc_http_state(dc_http_ex *ex);

/* dc_http_set_state_free sets the function that frees *dc_http_state. */
void dc_http_set_state_free(dc_http_ex *ex, void (*fn)(void *state));

/* dc_http_reply answers ex with status and body (len bytes, copied) of
 * content type type. Server's thread, once per exchange. Errors:
 * DTX_ENOMEM (the connection is then closed). */
int dc_http_reply(dc_http_ex *ex, unsigned status, const char *type,
                  const void *body, size_t len);

/* dc_http_suspend parks ex (server's thread, from its route): the route
 * runs again once dc_http_resume(ex) is called. Suspend before handing ex
 * to another thread. Returns false (ex not parked: answer it now) once
 * dc_http_close has begun. */
bool dc_http_suspend(dc_http_ex *ex);

/* dc_http_resume has ex's route run again on the server's thread. Any
 * thread; once per dc_http_suspend. Cheap: never blocks on the client. */
void dc_http_resume(dc_http_ex *ex);

#endif
