/*
 * http_api.h - the operator console over HTTP (dtxd --http ADDR): the
 * page and its assets (embedded in dtxd at build time) and the read-only
 * JSON API under /api/ that the page reads.
 *
 *   GET /                        the console (HTML, JavaScript, CSS)
 *   GET /api/stats               dtxctl stats -o json
 *   GET /api/transactions?...    dtxctl list -o json, filtered: state,
 *                                mode, older_than, needs_operator, handler,
 *                                participant, gid (a substring), final,
 *                                limit (1..DC_HTTP_API_LIST_MAX), after
 *   GET /api/transactions/GID?events=N   dtxctl show -o json
 *   GET /metrics                 Prometheus text format 0.0.4 (metrics.h)
 *   GET /livez                   200 while the engine's loop turns, 503
 *   GET /readyz                  200 when recovered, listening and (with
 *                                leases) the store reachable and a shard
 *                                held; 503 with the reason otherwise
 *
 * /metrics, /livez and /readyz read the engine's counters (metrics.h)
 * directly on the HTTP thread: they never post to the engine, so a busy
 * or stuck loop cannot delay them (and /livez can say it is stuck).
 *
 * Every answer is the JSON dtxctl -o json prints (coordinator/dtxctl/
 * output.c renders both), read through the same admin requests: each API
 * call is an AdminRequest posted to the engine's mailbox as an admin
 * request (request.h) from a fixed pool of DC_HTTP_API_SLOTS; the engine
 * answers it as it answers dtxctl (list, show and stats run on its log
 * reader, off the loop), and the JSON is rendered on the HTTP server's
 * thread, never on the loop. Only list, show and stats are ever built:
 * nothing over HTTP changes a transaction.
 *
 * Every query parameter is hostile: unknown, repeated, empty, too long or
 * out of range is a 400 naming the parameter; past the pool the answer is
 * 503. A gid substring is matched here, on at most DC_HTTP_API_ROUNDS
 * pages of the engine's list (each bounded by the engine): a page that
 * ends short carries a cursor (next_after), as dtxctl's does.
 */
#ifndef DTX_COORDINATOR_HTTP_API_H
#define DTX_COORDINATOR_HTTP_API_H

#include <stddef.h>

#include "config.h"
#include "mailbox.h"
#include "metrics.h"

#define DC_HTTP_API_SLOTS     8   /* API requests the engine holds at once */
#define DC_HTTP_API_LIST_MAX  200 /* transactions in one page */
#define DC_HTTP_API_LIST_DEF  50
#define DC_HTTP_API_ROUNDS    4  /* engine list pages per filtered page */
#define DC_HTTP_API_QUERY_MAX 16 /* query parameters in one request */

typedef struct dc_http_api dc_http_api;

/* dc_http_api_open serves the console on cfg->http, posting admin reads
 * to mb (retained until dc_http_api_close), and the metrics and health of
 * m (retained until dc_http_api_close). cfg is retained. On failure
 * a one-line reason naming --http goes to errbuf. Errors: those of
 * dc_http_open (DTX_EINVAL, DTX_EUNREACHABLE, DTX_ENOMEM). */
int dc_http_api_open(const dc_config *cfg, dc_mailbox *mb, const dc_metrics *m,
                     dc_http_api **ret_api, char *errbuf, size_t errlen);

/* dc_http_api_close stops serving: requests waiting on the engine are
 * answered 503 and none is posted after it returns; requests the engine
 * still holds stay valid until dc_http_api_destroy (never answered). The
 * engine's loop thread; accepts NULL. */
void dc_http_api_close(dc_http_api *api);

/* dc_http_api_destroy frees api and its pool. Accepts NULL. */
void dc_http_api_destroy(dc_http_api *api);

#endif
