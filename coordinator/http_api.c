/*
 * http_api.c - the operator console's JSON API and assets (see
 * http_api.h) on dtxd's HTTP endpoint (http.h).
 *
 * Owns the pool of API request slots (each a dc_request the engine
 * answers like a dtxctl request) and each exchange's parsed query and
 * replies. A slot is FREE, POSTED (the engine holds it: its memory stays
 * valid until dc_http_api_destroy, whatever happens to the HTTP
 * exchange) or ANSWERED (the engine's reply bytes are in it, the
 * exchange reads them on the server's thread).
 *
 * Threads: the route runs on the HTTP server's thread; the slot's ops
 * (reply_raw, drop) on the engine's loop thread, where they only copy the
 * reply and resume the exchange. One mutex guards the slots' state and
 * the closing flag.
 *
 * Also the routes of /metrics, /livez and /readyz, which only read the
 * engine's counters (metrics.h) on this thread.
 *
 * Must never: build any admin request but list, show and stats; decode
 * or render on the loop thread.
 */
#include "http_api.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dtx/dtx.h>

#include "admin.h"
#include "dtxctl/ctl.h"
#include "http.h"
#include "http_assets.h"
#include "request.h"
#include "wire.h"

enum { SLOT_FREE = 0, SLOT_POSTED, SLOT_ANSWERED };
enum { Q_LIST = 1, Q_SHOW, Q_STATS };

typedef struct api_slot {
	dc_request req; /* first: the engine's handle */
	dc_http_api *api;
	int state;
	dc_http_ex *ex; /* NULL once the exchange ended */
	uint8_t *body;  /* the packed AdminRequest */
	size_t len;
	uint8_t *reply; /* the engine's AdminReply (NULL: none) */
	size_t reply_len;
} api_slot;

struct dc_http_api {
	dc_mailbox *mb;
	dc_http *http;
	pthread_mutex_t lock;
	bool closing;
	api_slot slots[DC_HTTP_API_SLOTS];
};

/* One API call's query, checked. */
typedef struct api_query {
	int kind;
	char gid[DTX_GID_MAX + 1]; /* show */
	uint32_t events;
	Dtx__V1__AdminFilter filter;
	char handler[DTX_HANDLER_MAX + 1];
	char participant[DTX_URL_MAX + 1];
	char substr[DTX_GID_MAX + 1]; /* gid substring; "" = none */
	char after[DTX_GID_MAX + 1];
	uint32_t limit;
	unsigned seen; /* a bit per parameter: a repeat is refused */
	char err[200];
} api_query;

/* One exchange's state (dc_http_state). */
typedef struct api_ex {
	dc_http_api *api;
	api_query q;
	api_slot *slot; /* the engine holds or answered it */
	Dtx__V1__AdminReply *reps[DC_HTTP_API_ROUNDS];
	size_t nreps;
	Dtx__V1__TxInfo *txs[DC_HTTP_API_LIST_MAX]; /* matches, in reps */
	size_t ntxs;
	const char *cursor; /* the next page's after (in reps), or NULL */
} api_ex;

/* ---- answers ------------------------------------------------------------ */

/* json_quote writes s as a JSON string into buf (always terminated;
 * control characters escaped, other bytes as they are). */
static void json_quote(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	buf[n++] = '"';
	for (; *s != '\0' && n + 8 < len; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			n += (size_t)snprintf(buf + n, len - n, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			n += (size_t)snprintf(buf + n, len - n, "\\u%04x", c);
		else
			buf[n++] = (char)c;
	}
	buf[n++] = '"';
	buf[n] = '\0';
}

/* fail answers ex with status and a dtxctl-like error object. */
static void fail(dc_http_ex *ex, unsigned status, const char *msg)
{
	char q[600], body[700];
	int n;

	json_quote(msg, q, sizeof(q));
	n = snprintf(body, sizeof(body),
	             "{\"schema\":%d,\"error\":{\"status\":%u,\"message\":%s}}"
	             "\n",
	             CTL_SCHEMA, status, q);
	dc_http_reply(ex, status, "application/json", body, (size_t)n);
}

/* status_of maps an engine error code to an HTTP status. */
static unsigned status_of(int code)
{
	switch (code) {
	case DTX_ENOENT:
		return 404;
	case DTX_EINVAL:
		return 400;
	case DTX_EBUSY:
		return 503;
	default:
		return 500;
	}
}

/* ---- the query ---------------------------------------------------------- */

typedef const char *(*param_fn)(api_query *q, const char *v);

static bool parse_uint(const char *v, uint32_t lo, uint32_t hi, uint32_t *ret)
{
	uint32_t n = 0;

	if (v[0] == '\0' || strlen(v) > 9 ||
	    strspn(v, "0123456789") != strlen(v))
		return false;
	for (const char *p = v; *p; p++)
		n = n * 10 + (uint32_t)(*p - '0');
	if (n < lo || n > hi)
		return false;
	*ret = n;
	return true;
}

static bool parse_bool(const char *v, bool *ret)
{
	if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
		*ret = true;
	else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
		*ret = false;
	else
		return false;
	return true;
}

static const char *p_state(api_query *q, const char *v)
{
	for (int s = DTX_TX_RUNNING; s <= DTX_TX_CANCELLED; s++)
		if (strcmp(v, dtx_tx_state_name(s)) == 0) {
			q->filter.has_state = 1;
			q->filter.state = (Dtx__V1__TxState)s;
			return NULL;
		}
	return "state must be running, compensating, committed, "
	       "compensated, confirming, cancelling or cancelled";
}

static const char *p_mode(api_query *q, const char *v)
{
	q->filter.has_mode = 1;
	if (strcmp(v, "saga") == 0)
		q->filter.mode = DTX__V1__MODE__MODE_SAGA;
	else if (strcmp(v, "tcc") == 0)
		q->filter.mode = DTX__V1__MODE__MODE_TCC;
	else
		return "mode must be saga or tcc";
	return NULL;
}

static const char *p_older(api_query *q, const char *v)
{
	uint64_t ms;

	if (strlen(v) > 16 || !dc_config_parse_duration(v, &ms))
		return "older_than must be a duration: 0 or a number with "
		       "ms, s, m, h or d (up to 100 years)";
	q->filter.has_older_than_ms = 1;
	q->filter.older_than_ms = ms;
	return NULL;
}

static const char *p_needs(api_query *q, const char *v)
{
	bool b;

	if (!parse_bool(v, &b))
		return "needs_operator must be 1, 0, true or false";
	q->filter.has_needs_operator = 1;
	q->filter.needs_operator = b;
	return NULL;
}

static const char *p_final(api_query *q, const char *v)
{
	bool b;

	if (!parse_bool(v, &b))
		return "final must be 1, 0, true or false";
	q->filter.has_include_final = 1;
	q->filter.include_final = b;
	return NULL;
}

static const char *p_handler(api_query *q, const char *v)
{
	if (!wire_name_is_valid(v, DTX_HANDLER_MAX))
		return "handler must be 1..128 bytes of [A-Za-z0-9._:-]";
	snprintf(q->handler, sizeof(q->handler), "%s", v);
	q->filter.handler = q->handler;
	return NULL;
}

static const char *p_participant(api_query *q, const char *v)
{
	if (strlen(v) > DTX_URL_MAX || wire_url_check(v, NULL, 0) != DTX_OK)
		return "participant must be a participant URL (tcp://HOST:PORT "
		       "or ipc://PATH)";
	snprintf(q->participant, sizeof(q->participant), "%s", v);
	q->filter.participant = q->participant;
	return NULL;
}

static const char *p_gid(api_query *q, const char *v)
{
	if (!wire_name_is_valid(v, DTX_GID_MAX))
		return "gid must be 1..128 bytes of [A-Za-z0-9._:-]";
	snprintf(q->substr, sizeof(q->substr), "%s", v);
	return NULL;
}

static const char *p_after(api_query *q, const char *v)
{
	if (!wire_name_is_valid(v, DTX_GID_MAX))
		return "after must be a gid (a page's next_after)";
	snprintf(q->after, sizeof(q->after), "%s", v);
	return NULL;
}

static const char *p_limit(api_query *q, const char *v)
{
	if (!parse_uint(v, 1, DC_HTTP_API_LIST_MAX, &q->limit))
		return "limit must be a number 1..200";
	return NULL;
}

static const char *p_events(api_query *q, const char *v)
{
	if (!parse_uint(v, 1, DC_ADMIN_EVENTS_MAX, &q->events))
		return "events must be a number 1..5000";
	return NULL;
}

typedef struct param {
	const char *name;
	int kind; /* the call that takes it */
	param_fn fn;
} param;

static const param params[] = {
        {"state", Q_LIST, p_state},
        {"mode", Q_LIST, p_mode},
        {"older_than", Q_LIST, p_older},
        {"needs_operator", Q_LIST, p_needs},
        {"final", Q_LIST, p_final},
        {"handler", Q_LIST, p_handler},
        {"participant", Q_LIST, p_participant},
        {"gid", Q_LIST, p_gid},
        {"after", Q_LIST, p_after},
        {"limit", Q_LIST, p_limit},
        {"events", Q_SHOW, p_events},
};

/* name_is_plain: a parameter name that may be quoted in an error. */
static bool name_is_plain(const char *k)
{
	size_t n = strlen(k);

	return n > 0 && n <= 32 &&
	       strspn(k, "abcdefghijklmnopqrstuvwxyz_0123456789") == n;
}

/* take_param checks one parameter; on a fault q->err says which. */
static bool take_param(void *arg, const char *key, const char *value)
{
	api_query *q = arg;
	const char *why;

	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		bool generic = true;
		if (strcmp(key, params[i].name) != 0 ||
		    params[i].kind != q->kind)
			continue;
		if (q->seen & (1u << i)) {
			why = "is given more than once";
		} else if (value == NULL || value[0] == '\0') {
			why = "has no value";
		} else {
			why = params[i].fn(q, value);
			generic = false;
		}
		q->seen |= 1u << i;
		if (why != NULL) /* key is one of params: safe to quote */
			snprintf(q->err, sizeof(q->err), "%s%s%s",
			         generic ? key : "", generic ? " " : "", why);
		return why == NULL;
	}
	snprintf(q->err, sizeof(q->err), "unknown parameter %s%s%s",
	         name_is_plain(key) ? "'" : "", name_is_plain(key) ? key : "",
	         name_is_plain(key) ? "'" : "(not shown)");
	return false;
}

/* parse_path sets q's kind (and a show's gid) from the path; false (404
 * or 400 in *ret_status) if the path is no API call. */
static bool parse_path(api_query *q, const char *path, unsigned *ret_status)
{
	static const char tx[] = "/api/transactions";

	*ret_status = 404;
	if (strcmp(path, "/api/stats") == 0)
		q->kind = Q_STATS;
	else if (strcmp(path, tx) == 0)
		q->kind = Q_LIST;
	else if (strncmp(path, tx, sizeof(tx) - 1) == 0 &&
	         path[sizeof(tx) - 1] == '/')
		q->kind = Q_SHOW;
	else
		return false;
	if (q->kind != Q_SHOW)
		return true;
	*ret_status = 400;
	if (!wire_name_is_valid(path + sizeof(tx), DTX_GID_MAX))
		return false;
	snprintf(q->gid, sizeof(q->gid), "%s", path + sizeof(tx));
	return true;
}

/* parse_query fills q from ex's path and query; false (answered) on a
 * bad one. */
static bool parse_query(dc_http_ex *ex, api_query *q)
{
	unsigned status;
	size_t n;

	dtx__v1__admin_filter__init(&q->filter);
	q->limit = DC_HTTP_API_LIST_DEF;
	if (!parse_path(q, dc_http_path(ex), &status)) {
		fail(ex, status,
		     status == 404 ? "no such API call (/api/stats, "
		                     "/api/transactions, /api/transactions/GID)"
		                   : "the gid in the path must be 1..128 bytes "
		                     "of [A-Za-z0-9._:-]");
		return false;
	}
	q->err[0] = '\0';
	n = dc_http_query_each(ex, take_param, q);
	if (q->err[0] == '\0' && n > DC_HTTP_API_QUERY_MAX)
		snprintf(q->err, sizeof(q->err), "at most %d parameters",
		         DC_HTTP_API_QUERY_MAX);
	if (q->err[0] != '\0') {
		fail(ex, 400, q->err);
		return false;
	}
	return true;
}

/* ---- the engine's side of a slot (its loop thread) ---------------------- */

static const void *slot_body(const dc_request *req, size_t *ret_len)
{
	const api_slot *s = (const api_slot *)req;

	*ret_len = s->len;
	return s->body;
}

static int slot_admit(dc_request *req, char *errbuf, size_t errlen)
{
	return DTX_OK; /* the pool is the bound */
}

/* slot_answer stores the engine's reply (copied; NULL: none) and
 * resumes the exchange, if it still waits. */
static void slot_answer(dc_request *req, const void *buf, size_t len)
{
	api_slot *s = (api_slot *)req;
	dc_http_api *api = s->api;
	dc_http_ex *ex;

	pthread_mutex_lock(&api->lock);
	s->reply = buf != NULL ? malloc(len ? len : 1) : NULL;
	if (s->reply != NULL)
		memcpy(s->reply, buf, len);
	s->reply_len = len;
	s->state = SLOT_ANSWERED;
	ex = s->ex;
	if (ex == NULL) { /* the exchange ended (dtxd stopping) */
		free(s->reply);
		s->reply = NULL;
		s->state = SLOT_FREE;
	}
	pthread_mutex_unlock(&api->lock);
	/* ex is parked: only dc_http_close (this thread) could end it */
	if (ex != NULL)
		dc_http_resume(ex);
}

static void slot_reply(dc_request *req, const Dtx__V1__ClientReply *reply)
{
	slot_answer(req, NULL, 0); /* never for an admin request */
}

static void slot_drop(dc_request *req)
{
	slot_answer(req, NULL, 0);
}

static const dc_request_ops slot_ops = {
        .body = slot_body,
        .admit = slot_admit,
        .wait = slot_admit,
        .reply = slot_reply,
        .reply_raw = slot_answer,
        .drop = slot_drop,
};

/* ---- asking the engine (the server's thread) ---------------------------- */

/* pack_request packs q's admin request (list from after) into *buf. */
static int pack_request(const api_query *q, const char *after, uint8_t **buf,
                        size_t *len)
{
	Dtx__V1__AdminRequest req;
	Dtx__V1__AdminList list;
	Dtx__V1__AdminShow show;
	Dtx__V1__AdminStats stats;

	dtx__v1__admin_request__init(&req);
	req.has_version = 1;
	req.version = DTX__V1__VERSION__VERSION_1;
	if (q->kind == Q_STATS) {
		dtx__v1__admin_stats__init(&stats);
		req.body_case = DTX__V1__ADMIN_REQUEST__BODY_STATS;
		req.stats = &stats;
	} else if (q->kind == Q_SHOW) {
		dtx__v1__admin_show__init(&show);
		show.gid = (char *)q->gid;
		show.has_max_events = q->events != 0;
		show.max_events = q->events;
		req.body_case = DTX__V1__ADMIN_REQUEST__BODY_SHOW;
		req.show = &show;
	} else {
		dtx__v1__admin_list__init(&list);
		list.filter = (Dtx__V1__AdminFilter *)&q->filter;
		list.after_gid = after != NULL ? (char *)after : NULL;
		list.has_limit = 1;
		list.limit = q->limit;
		req.body_case = DTX__V1__ADMIN_REQUEST__BODY_LIST;
		req.list = &list;
	}
	return wire_pack_alloc(&req.base, buf, len);
}

/* take_slot returns a free slot (now POSTED for ex), or NULL. */
static api_slot *take_slot(dc_http_api *api, dc_http_ex *ex)
{
	api_slot *s = NULL;

	pthread_mutex_lock(&api->lock);
	for (size_t i = 0; !api->closing && i < DC_HTTP_API_SLOTS; i++)
		if (api->slots[i].state == SLOT_FREE) {
			s = &api->slots[i];
			s->state = SLOT_POSTED;
			s->ex = ex;
			break;
		}
	pthread_mutex_unlock(&api->lock);
	return s;
}

static void free_slot(api_slot *s)
{
	free(s->body);
	free(s->reply);
	s->body = s->reply = NULL;
	s->ex = NULL;
	s->state = SLOT_FREE;
}

/* ask posts st's next admin request for ex to the engine, or answers. */
static void ask(api_ex *st, dc_http_ex *ex, const char *after)
{
	dc_http_api *api = st->api;
	api_slot *s = take_slot(api, ex);

	if (s == NULL) {
		fail(ex, 503,
		     "busy: the console's requests are all out; try "
		     "again");
		return;
	}
	if (pack_request(&st->q, after, &s->body, &s->len) != DTX_OK) {
		pthread_mutex_lock(&api->lock);
		free_slot(s);
		pthread_mutex_unlock(&api->lock);
		fail(ex, 500, "out of memory");
		return;
	}
	st->slot = s;
	if (!dc_http_suspend(ex)) { /* closing: never posted */
		pthread_mutex_lock(&api->lock);
		free_slot(s);
		pthread_mutex_unlock(&api->lock);
		st->slot = NULL;
		fail(ex, 503, "dtxd is stopping");
		return;
	}
	dc_mailbox_post(api->mb, &s->req.mail);
}

/* ---- the engine's answer (the server's thread) -------------------------- */

/* render answers ex with view as dtxctl -o json prints it for cmd. */
static void render(dc_http_ex *ex, const char *cmd,
                   const Dtx__V1__AdminReply *view)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL) {
		fail(ex, 500, "out of memory");
		return;
	}
	ctl_print(f, CTL_JSON, cmd, view, false);
	if (fclose(f) != 0 || len < 3) /* jansson refused a field */
		fail(ex, 500, "the reply could not be rendered as JSON");
	else
		dc_http_reply(ex, 200, "application/json", buf, len);
	free(buf);
}

/* collect keeps rep's transactions that contain st's gid substring, up to
 * the limit; returns true if the page is complete. */
static bool collect(api_ex *st, Dtx__V1__AdminReply *rep)
{
	st->cursor = rep->next_after_gid;
	for (size_t i = 0; i < rep->n_txs; i++) {
		Dtx__V1__TxInfo *t = rep->txs[i];
		if (st->q.substr[0] != '\0' &&
		    strstr(t->gid, st->q.substr) == NULL)
			continue;
		if (st->ntxs == st->q.limit) {
			/* full mid-page: the next page starts after the last
			 * one kept */
			st->cursor = st->txs[st->ntxs - 1]->gid;
			return true;
		}
		st->txs[st->ntxs++] = t;
	}
	return st->cursor == NULL || st->ntxs == st->q.limit ||
	       st->q.substr[0] == '\0' || st->nreps == DC_HTTP_API_ROUNDS;
}

/* answered handles the engine's reply in st's slot. */
static void answered(api_ex *st, dc_http_ex *ex)
{
	dc_http_api *api = st->api;
	Dtx__V1__AdminReply *rep = NULL, view;
	char err[200];
	int rv;

	pthread_mutex_lock(&api->lock);
	rv = st->slot->reply == NULL
	             ? DTX_ENOMEM
	             : wire_admin_reply_decode(st->slot->reply,
	                                       st->slot->reply_len, &rep, err,
	                                       sizeof(err));
	free_slot(st->slot);
	pthread_mutex_unlock(&api->lock);
	st->slot = NULL;
	if (rv != DTX_OK) {
		fail(ex, 500, "the engine's reply could not be read");
		return;
	}
	st->reps[st->nreps++] = rep;
	if (rep->code != DTX__V1__CODE__CODE_OK) {
		snprintf(err, sizeof(err), "%s (%s)",
		         rep->message ? rep->message : "failed",
		         dtx_strerror((int)rep->code));
		fail(ex, status_of((int)rep->code), err);
		return;
	}
	if (st->q.kind == Q_STATS || st->q.kind == Q_SHOW) {
		render(ex, st->q.kind == Q_STATS ? "stats" : "show", rep);
		return;
	}
	if (!collect(st, rep)) {
		ask(st, ex, st->cursor); /* another page of the engine's */
		return;
	}
	view = *rep;
	view.txs = st->txs;
	view.n_txs = st->ntxs;
	view.next_after_gid = (char *)st->cursor;
	render(ex, "list", &view);
}

static void ex_free(void *arg)
{
	api_ex *st = arg;

	if (st == NULL)
		return;
	if (st->slot != NULL) {
		pthread_mutex_lock(&st->api->lock);
		if (st->slot->state == SLOT_POSTED)
			st->slot->ex = NULL; /* the engine's answer frees it */
		else
			free_slot(st->slot);
		pthread_mutex_unlock(&st->api->lock);
	}
	for (size_t i = 0; i < st->nreps; i++)
		wire_admin_reply_free(st->reps[i]);
	free(st);
}

/* on_api is the route of /api/: first run parses and asks the engine;
 * each later run takes the engine's answer. */
static void on_api(void *arg, dc_http_ex *ex)
{
	api_ex **stp = (api_ex **)dc_http_state(ex);
	api_ex *st = *stp;
	bool waiting;

	if (st == NULL) {
		if ((st = calloc(1, sizeof(*st))) == NULL) {
			fail(ex, 500, "out of memory");
			return;
		}
		st->api = arg;
		*stp = st;
		dc_http_set_state_free(ex, ex_free);
		if (parse_query(ex, &st->q))
			ask(st, ex, st->q.after[0] ? st->q.after : NULL);
		return;
	}
	pthread_mutex_lock(&st->api->lock);
	waiting = st->slot != NULL && st->slot->state == SLOT_POSTED;
	pthread_mutex_unlock(&st->api->lock);
	if (waiting) /* resumed by dc_http_close: the engine stopped */
		fail(ex, 503, "dtxd is stopping");
	else
		answered(st, ex);
}

/* ---- assets ------------------------------------------------------------- */

static void on_asset(void *arg, dc_http_ex *ex)
{
	const dc_http_asset *a = arg;

	dc_http_reply(ex, 200, a->type, a->data, a->len);
}

/* ---- metrics and health (metrics.h, read on this thread) --------------- */

static void on_metrics(void *arg, dc_http_ex *ex)
{
	char *buf;
	size_t len;

	if (dc_metrics_render(arg, &buf, &len) != DTX_OK) {
		dc_http_reply(ex, 500, "text/plain; charset=utf-8",
		              "out of memory\n", 14);
		return;
	}
	dc_http_reply(ex, 200, "text/plain; version=0.0.4; charset=utf-8", buf,
	              len);
	free(buf);
}

/* health answers 200 "ok: WHY" or 503 "WHY" (one line each). */
static void health(dc_http_ex *ex, bool ok, const char *why)
{
	char body[300];
	int n = snprintf(body, sizeof(body), "%s%s\n", ok ? "ok: " : "", why);

	dc_http_reply(ex, ok ? 200 : 503, "text/plain; charset=utf-8", body,
	              (size_t)n < sizeof(body) ? (size_t)n : sizeof(body) - 1);
}

static void on_livez(void *arg, dc_http_ex *ex)
{
	char why[200];
	bool ok = dc_metrics_is_live(arg, why, sizeof(why));

	health(ex, ok, why);
}

static void on_readyz(void *arg, dc_http_ex *ex)
{
	char why[200];
	bool ok = dc_metrics_is_ready(arg, why, sizeof(why));

	health(ex, ok, why);
}

/* ---- open and close ----------------------------------------------------- */

int dc_http_api_open(const dc_config *cfg, dc_mailbox *mb, const dc_metrics *m,
                     dc_http_api **ret_api, char *errbuf, size_t errlen)
{
	dc_http_route routes[DC_HTTP_ROUTES_MAX];
	size_t n = 0;
	dc_http_api *api = calloc(1, sizeof(*api));
	int rv;

	if (api == NULL)
		return DTX_ENOMEM;
	api->mb = mb;
	pthread_mutex_init(&api->lock, NULL);
	for (size_t i = 0; i < DC_HTTP_API_SLOTS; i++) {
		api->slots[i].api = api;
		api->slots[i].req.mail.kind = DC_MAIL_ADMIN;
		api->slots[i].req.ops = &slot_ops;
		api->slots[i].req.index = (unsigned)i;
	}
	routes[n++] = (dc_http_route){"/api/", on_api, api};
	routes[n++] = (dc_http_route){"/metrics", on_metrics, (void *)m};
	routes[n++] = (dc_http_route){"/livez", on_livez, (void *)m};
	routes[n++] = (dc_http_route){"/readyz", on_readyz, (void *)m};
	for (size_t i = 0; i < dc_http_nassets && n < DC_HTTP_ROUTES_MAX; i++)
		routes[n++] = (dc_http_route){dc_http_assets[i].path, on_asset,
		                              (void *)&dc_http_assets[i]};
	rv = dc_http_open(cfg->http, routes, n, &api->http, errbuf, errlen);
	if (rv != DTX_OK) {
		dc_http_api_destroy(api);
		return rv;
	}
	*ret_api = api;
	return DTX_OK;
}

void dc_http_api_close(dc_http_api *api)
{
	if (api == NULL || api->http == NULL)
		return;
	pthread_mutex_lock(&api->lock);
	api->closing = true;
	pthread_mutex_unlock(&api->lock);
	dc_http_close(api->http);
	api->http = NULL;
}

void dc_http_api_destroy(dc_http_api *api)
{
	if (api == NULL)
		return;
	dc_http_api_close(api);
	for (size_t i = 0; i < DC_HTTP_API_SLOTS; i++)
		free_slot(&api->slots[i]);
	pthread_mutex_destroy(&api->lock);
	free(api);
}
