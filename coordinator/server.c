/*
 * server.c - client API endpoint: rep0 socket, a pool of contexts and the
 * table of connections.
 *
 * Each slot cycles RECV -> (engine holds it) -> SEND -> RECV. The aio
 * callback runs on nng's threads and only posts to the mailbox or restarts
 * a receive; it never touches engine state. Slots are allocated once at
 * open: no allocation per request except the nng_msg nng itself makes.
 *
 * No client may starve the others (issue 13). A held request keeps its
 * context until answered, and rep0 receives only into free contexts, so
 * whatever holds contexts for long holds the endpoint. Requests that do
 * not wait are answered within a commit; a request that waits for an
 * outcome (wait_ms) holds its context up to --max-wait-ms. Hence:
 *   - a connection holds at most max_per_conn requests, of which at most
 *     max_waits_per_conn wait; past that a request is answered DTX_EBUSY
 *     at once (dc_request_admit, dc_request_wait), naming the limit;
 *   - waits of all connections together never take the last `reserve`
 *     slots (min(256, slots / 16)): those keep receiving and answering
 *     requests that do not wait, whoever waits. We reserve slots rather
 *     than open a fresh context for each parked waiter because the pool
 *     then stays one fixed allocation, bounded by --max-clients, with no
 *     context to create or reap per request, and the bound is the same
 *     number operators already size (--max-clients);
 *   - the default per-connection share leaves min(1024, slots / 4) slots
 *     to other connections, so one connection cannot take the waits either.
 *     Our own heavy users push all their requests through one connection
 *     (dtx-shop's sale sizes --max-clients as concurrency + 1024), so the
 *     defaults let one connection use all but that slack.
 *
 * Connections (nng pipes) are tracked from nng's pipe events: ADD_PRE
 * refuses (closes) a pipe past max_conns, REM_POST forgets it. A sweep on
 * an nng sleep aio closes pipes that hold no request and sent nothing for
 * idle_ms (a request still queued in nng for a free slot does not count:
 * under a pool full for idle_ms such a connection may be closed, and its
 * client sees the connection reset), then gives freed memory back to the
 * system (malloc_trim) once TRIM_AFTER connections ended. The table is
 * touched by nng's threads (events, sweep) and the loop (admission,
 * replies), under the server's mutex; nng is never called with that mutex
 * held.
 *
 * Oversized requests: nng 1.5.2 drops a message over NNG_OPT_RECVMAXSZ
 * with its connection and tells nobody (the listener's "other" statistic
 * counts it, among other errors). nng's limit is therefore set to
 * DC_SERVER_WIRE_FACTOR times max_msg_bytes, and a request between the two
 * is answered DTX_ETOOBIG.
 *
 * Listening goes through a guard (common/lguard.h): nng 1.5.2 stops a
 * listener for good when one peer connects and closes at the wrong
 * instant; the guard finds such a listener and listens again.
 *
 * Must never block the loop: dc_request_reply starts an asynchronous send.
 */
#include "server.h"

#include "lguard.h"

#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>

#include "diag.h"
#include "netutil.h"

#define RESERVE_MAX      256  /* slots waits never take, at most */
#define SWEEP_MIN_MS     100  /* the sweep runs every idle_ms / 4 ... */
#define SWEEP_MAX_MS     1000 /* ... within these bounds */
#define SWEEP_BATCH      256  /* pipes closed per pass (outside the lock) */
#define CONN_BUCKETS_MAX (1u << 20)
#define TRIM_AFTER       1024 /* connections ended, then give memory back */

typedef enum slot_state {
	SLOT_RECV = 1,
	SLOT_HELD,
	SLOT_SEND,
} slot_state;

typedef struct slot {
	dc_request req; /* first: a dc_request * is a struct slot * */
	dc_server *srv;
	uint32_t pipe; /* the connection it came on (nng pipe id) */
	bool counted;  /* admitted: counts in its connection's requests */
	bool waiting;  /* counts in the waits (dc_request_wait) */
	nng_ctx ctx;
	nng_aio *aio;
	nng_msg *msg; /* the received request while held */
	slot_state state;
} slot;

/* One connection (nng pipe). A tombstone records a REM_POST that ran
 * before the pipe's ADD_PRE got the lock, so that ADD_PRE forgets it. */
typedef struct conn {
	struct conn *next; /* hash chain */
	uint32_t id;
	unsigned held;  /* requests admitted and not answered */
	unsigned waits; /* of them, waiting for an outcome */
	nng_time last;  /* the handshake, last request or last reply */
	bool closing;   /* refused or closed by the sweep */
	bool warned;    /* its first refusal was logged */
	bool tombstone;
} conn;

struct dc_server {
	nng_socket sock;
	bool sock_open;
	lguard *guard; /* owned: keeps the listeners accepting */
	dc_mailbox *mb;
	slot *slots;
	unsigned nslots;
	bool admin; /* names the limits in messages */
	size_t max_msg;
	unsigned max_per_conn, max_waits_per_conn, max_conns;
	uint32_t idle_ms;
	unsigned max_waits; /* waits of all connections: nslots - reserve */
	unsigned nwaits;    /* loop thread */

	pthread_mutex_t mu; /* guards everything below */
	bool mu_init;
	conn **buckets;
	size_t nbuckets; /* a power of two */
	unsigned nconns; /* entries that are not tombstones */
	bool stopping;
	bool full;                   /* refusing connections, logged */
	unsigned long long nrefused; /* connections refused this episode */
	unsigned nremoved;           /* connections ended since a trim */
	nng_aio *sweep_aio;
};

/* ---- the connection table (mu held) ---------------------------------- */

static conn **conn_slot(dc_server *srv, uint32_t id)
{
	conn **pp = &srv->buckets[(id * 2654435761u) & (srv->nbuckets - 1)];

	while (*pp != NULL && (*pp)->id != id)
		pp = &(*pp)->next;
	return pp;
}

static conn *conn_find(dc_server *srv, uint32_t id)
{
	return *conn_slot(srv, id);
}

static void conn_unlink(dc_server *srv, conn *c)
{
	conn **pp = conn_slot(srv, c->id);

	*pp = c->next;
	if (!c->tombstone)
		srv->nconns--;
	free(c);
}

static void conn_link(dc_server *srv, conn *c)
{
	conn **pp = conn_slot(srv, c->id);

	c->next = *pp;
	*pp = c;
	if (!c->tombstone)
		srv->nconns++;
}

/* ---- pipe events (nng's threads) ---------------------------------------- */

/* pipe_added records a new connection, or refuses it past max_conns.
 * Returns true if the pipe must be closed. */
static bool pipe_added(dc_server *srv, nng_pipe p, conn *c)
{
	conn *old;
	bool refuse, first = false;

	pthread_mutex_lock(&srv->mu);
	old = conn_find(srv, (uint32_t)nng_pipe_id(p));
	if (old != NULL && old->tombstone) { /* it is gone already */
		conn_unlink(srv, old);
		pthread_mutex_unlock(&srv->mu);
		free(c);
		return false;
	}
	c->id = (uint32_t)nng_pipe_id(p);
	c->last = nng_clock();
	conn_link(srv, c);
	refuse = srv->stopping || srv->nconns > srv->max_conns;
	if (refuse) {
		c->closing = true;
		first = !srv->full;
		srv->full = true;
		srv->nrefused++;
	}
	pthread_mutex_unlock(&srv->mu);
	if (first)
		dc_diag(DTX_LOG_WARN,
		        "%u connections to the %s endpoint, the limit%s: "
		        "closing new ones until some end",
		        srv->max_conns, srv->admin ? "admin" : "client",
		        srv->admin ? "" : " (--max-conns)");
	return refuse;
}

static void pipe_removed(dc_server *srv, nng_pipe p)
{
	conn *tomb = calloc(1, sizeof(*tomb));
	conn *c;

	pthread_mutex_lock(&srv->mu);
	c = conn_find(srv, (uint32_t)nng_pipe_id(p));
	if (c != NULL) {
		conn_unlink(srv, c);
		srv->nremoved++;
	} else if (tomb != NULL) {
		tomb->id = (uint32_t)nng_pipe_id(p);
		tomb->tombstone = true;
		conn_link(srv, tomb);
		tomb = NULL;
	}
	pthread_mutex_unlock(&srv->mu);
	free(tomb);
}

static void on_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	dc_server *srv = arg;
	conn *c;

	if (ev == NNG_PIPE_EV_REM_POST) {
		pipe_removed(srv, p);
		return;
	}
	if (ev != NNG_PIPE_EV_ADD_PRE)
		return;
	lguard_pipe_added(srv->guard, p); /* before it may be refused */
	c = calloc(1, sizeof(*c));
	if (c == NULL || pipe_added(srv, p, c))
		nng_pipe_close(p);
}

/* ---- the idle sweep (an nng sleep aio) ----------------------------------- */

static uint32_t sweep_period(const dc_server *srv)
{
	uint32_t ms = srv->idle_ms / 4;

	if (srv->idle_ms == 0 || ms > SWEEP_MAX_MS)
		return SWEEP_MAX_MS;
	return ms < SWEEP_MIN_MS ? SWEEP_MIN_MS : ms;
}

/* sweep_collect marks up to SWEEP_BATCH idle connections closing and
 * writes their ids to ids; returns how many. Also ends a "full" episode
 * once the connections fell to 90% of the limit. */
static size_t sweep_collect(dc_server *srv, uint32_t *ids,
                            unsigned long long *ret_refused, bool *ret_trim)
{
	nng_time now = nng_clock();
	size_t n = 0;

	pthread_mutex_lock(&srv->mu);
	for (size_t b = 0; b < srv->nbuckets && n < SWEEP_BATCH; b++)
		for (conn *c = srv->buckets[b]; c != NULL && n < SWEEP_BATCH;
		     c = c->next)
			if (!c->tombstone && !c->closing && c->held == 0 &&
			    srv->idle_ms > 0 && now - c->last >= srv->idle_ms) {
				c->closing = true;
				ids[n++] = c->id;
			}
	*ret_refused = 0;
	*ret_trim = n == 0 && srv->nremoved >= TRIM_AFTER;
	if (*ret_trim)
		srv->nremoved = 0;
	if (srv->full &&
	    (uint64_t)srv->nconns * 10 <= (uint64_t)srv->max_conns * 9) {
		srv->full = false;
		*ret_refused = srv->nrefused;
		srv->nrefused = 0;
	}
	pthread_mutex_unlock(&srv->mu);
	return n;
}

static void sweep_cb(void *arg)
{
	dc_server *srv = arg;
	uint32_t ids[SWEEP_BATCH];
	unsigned long long refused;
	size_t n, total = 0;
	bool stopping, trim;

	if (nng_aio_result(srv->sweep_aio) != 0)
		return; /* stopped */
	do {
		n = sweep_collect(srv, ids, &refused, &trim);
		for (size_t i = 0; i < n; i++)
			nng_pipe_close((nng_pipe){.id = ids[i]});
		total += n;
		if (refused > 0)
			dc_diag(DTX_LOG_INFO,
			        "refused %llu connections over the limit",
			        refused);
	} while (n == SWEEP_BATCH);
	if (trim)
		malloc_trim(0);
	if (total > 0)
		dc_diag(DTX_LOG_INFO,
		        "closed %zu %s connections idle for %u ms or more",
		        total, srv->admin ? "admin" : "client", srv->idle_ms);
	pthread_mutex_lock(&srv->mu);
	stopping = srv->stopping;
	pthread_mutex_unlock(&srv->mu);
	if (!stopping)
		nng_sleep_aio(sweep_period(srv), srv->sweep_aio);
}

/* ---- the slots ----------------------------------------------------------- */

static void slot_recv(slot *s)
{
	s->state = SLOT_RECV;
	nng_ctx_recv(s->ctx, s->aio);
}

static void slot_cb(void *arg)
{
	slot *s = arg;
	int rv = nng_aio_result(s->aio);

	if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
		if (s->state == SLOT_SEND) /* a failed send leaves it to us */
			nng_msg_free(nng_aio_get_msg(s->aio));
		return; /* shutting down */
	}
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
	s->pipe = (uint32_t)nng_pipe_id(nng_msg_get_pipe(s->msg));
	s->counted = s->waiting = false;
	s->state = SLOT_HELD;
	dc_mailbox_post(s->srv->mb, &s->req.mail);
}

static const dc_request_ops slot_ops;

static int slot_init(dc_server *srv, slot *s, int mail_kind)
{
	int rv;

	memset(s, 0, sizeof(*s));
	s->req.mail.kind = mail_kind ? mail_kind : DC_MAIL_REQUEST;
	s->req.ops = &slot_ops;
	s->req.index = (unsigned)(s - srv->slots);
	s->srv = srv;
	rv = nng_aio_alloc(&s->aio, slot_cb, s);
	if (rv != 0)
		return dc_err_from_nng(rv);
	rv = nng_ctx_open(&s->ctx, srv->sock);
	if (rv != 0) {
		/* not counted in nslots: destroy would not see it */
		nng_aio_free(s->aio);
		s->aio = NULL;
		return dc_err_from_nng(rv);
	}
	return DTX_OK;
}

/* ---- open and close ------------------------------------------------------ */

/* set_limits derives the server's limits from opts (see the top comment). */
static void set_limits(dc_server *srv, const dc_server_opts *opts)
{
	unsigned n = opts->slots;
	unsigned reserve = n / 16 < RESERVE_MAX ? n / 16 : RESERVE_MAX;

	if (reserve == 0 && n > 1)
		reserve = 1;
	srv->admin = opts->mail_kind == DC_MAIL_ADMIN;
	srv->max_msg = opts->max_msg_bytes;
	srv->max_conns = opts->max_conns ? opts->max_conns : UINT_MAX;
	srv->idle_ms = opts->idle_ms;
	srv->max_waits = n - reserve;
	srv->max_per_conn = opts->max_per_conn ? opts->max_per_conn
	                                       : DC_SERVER_PER_CONN_DEFAULT(n);
	if (srv->max_per_conn > n)
		srv->max_per_conn = n;
	srv->max_waits_per_conn = opts->max_waits_per_conn;
	if (srv->max_waits_per_conn == 0 ||
	    srv->max_waits_per_conn > srv->max_per_conn)
		srv->max_waits_per_conn = srv->max_per_conn;
}

static int open_table(dc_server *srv)
{
	size_t want = srv->max_conns < CONN_BUCKETS_MAX ? srv->max_conns
	                                                : CONN_BUCKETS_MAX;

	srv->nbuckets = 16;
	while (srv->nbuckets < want)
		srv->nbuckets <<= 1;
	srv->buckets = calloc(srv->nbuckets, sizeof(*srv->buckets));
	if (srv->buckets == NULL || pthread_mutex_init(&srv->mu, NULL) != 0)
		return DTX_ENOMEM;
	srv->mu_init = true;
	if (nng_aio_alloc(&srv->sweep_aio, sweep_cb, srv) != 0)
		return DTX_ENOMEM;
	return DTX_OK;
}

/* guard_log logs a line of the listener guard (lguard.h). */
static void guard_log(void *arg, const char *line)
{
	(void)arg;
	dc_diag(DTX_LOG_WARN, "%s", line);
}

/* wire_limit is nng's receive limit: DC_SERVER_WIRE_FACTOR * max_msg. */
static size_t wire_limit(size_t max_msg)
{
	if (max_msg > SIZE_MAX / DC_SERVER_WIRE_FACTOR)
		return SIZE_MAX;
	return max_msg * DC_SERVER_WIRE_FACTOR;
}

static int open_socket(dc_server *srv, const dc_server_opts *opts, char *errbuf,
                       size_t errlen)
{
	lguard_opts gopts = {.log = guard_log};
	int rv = nng_rep0_open(&srv->sock);

	if (rv != 0)
		return dc_err_from_nng(rv);
	srv->sock_open = true;
	/* nng's default receive limit is unlimited: always set one. */
	nng_socket_set_size(srv->sock, NNG_OPT_RECVMAXSZ,
	                    wire_limit(opts->max_msg_bytes));
	nng_pipe_notify(srv->sock, NNG_PIPE_EV_ADD_PRE, on_pipe, srv);
	nng_pipe_notify(srv->sock, NNG_PIPE_EV_REM_POST, on_pipe, srv);
	/* kept by the socket for each tls+tcp listener it makes */
	if (opts->tls != NULL &&
	    (rv = nng_socket_set_ptr(srv->sock, NNG_OPT_TLS_CONFIG,
	                             opts->tls)) != 0) {
		snprintf(errbuf, errlen, "TLS settings refused: %s",
		         nng_strerror(rv));
		return DTX_EINVAL;
	}
	rv = lguard_open(srv->sock, &gopts, &srv->guard);
	if (rv != 0)
		return dc_err_from_nng(rv);
	for (size_t i = 0; i < opts->nurls; i++) {
		rv = lguard_listen(srv->guard, opts->urls[i]);
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

int dc_server_set_tls(dc_server *srv, nng_tls_config *tls)
{
	if (srv == NULL || tls == NULL || !srv->sock_open)
		return DTX_OK;
	if (nng_socket_set_ptr(srv->sock, NNG_OPT_TLS_CONFIG, tls) != 0)
		return DTX_EINVAL;
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
	set_limits(srv, opts);
	rv = open_table(srv);
	if (rv == DTX_OK)
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
	nng_sleep_aio(sweep_period(srv), srv->sweep_aio);
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
	pthread_mutex_lock(&srv->mu);
	srv->stopping = true;
	pthread_mutex_unlock(&srv->mu);
	nng_aio_stop(srv->sweep_aio);
	/* Every slot's aio stops before the socket closes: a callback that
	 * answered calls nng_ctx_recv, and if nng_close ran meanwhile, nng
	 * 1.5.2 could free the socket while that call still held the
	 * context (see rpc.c, stop_peer: SIGABRT in nng's panic). */
	for (unsigned i = 0; i < srv->nslots; i++)
		if (srv->slots[i].aio != NULL)
			nng_aio_stop(srv->slots[i].aio);
	lguard_stop(srv->guard); /* before the socket it listens on */
	nng_close(srv->sock);
	srv->sock_open = false;
}

static void free_table(dc_server *srv)
{
	for (size_t b = 0; srv->buckets != NULL && b < srv->nbuckets; b++)
		while (srv->buckets[b] != NULL) {
			conn *c = srv->buckets[b];
			srv->buckets[b] = c->next;
			free(c);
		}
	free(srv->buckets);
	if (srv->mu_init)
		pthread_mutex_destroy(&srv->mu);
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
	nng_aio_free(srv->sweep_aio);
	lguard_free(srv->guard); /* the socket is closed: no pipe event */
	free_table(srv);
	free(srv);
}

/* ---- admission ----------------------------------------------------------- */

/* refused logs the first refusal of a connection (later ones of the same
 * connection are answered without a line: a flood must not flood the log),
 * then returns DTX_EBUSY. */
static int refused(const dc_server *srv, uint32_t pipe, bool first,
                   const char *errbuf)
{
	if (first)
		dc_diag(DTX_LOG_WARN,
		        "%s connection %u: %s; refusing with DTX_EBUSY (logged "
		        "once per connection)",
		        srv->admin ? "admin" : "client", (unsigned)pipe,
		        errbuf);
	return DTX_EBUSY;
}

static int slot_admit(dc_request *req, char *errbuf, size_t errlen)
{
	slot *s = (slot *)req;
	dc_server *srv = s->srv;
	size_t len = nng_msg_len(s->msg);
	bool busy = false, first = false;
	conn *c;

	if (len > srv->max_msg) {
		snprintf(errbuf, errlen,
		         "request of %zu bytes exceeds the limit of %zu%s", len,
		         srv->max_msg, srv->admin ? "" : " (--max-msg-bytes)");
		return DTX_ETOOBIG;
	}
	if (s->counted)
		return DTX_OK; /* run again after a read of the log: once */
	pthread_mutex_lock(&srv->mu);
	if ((c = conn_find(srv, s->pipe)) != NULL && !c->tombstone) {
		c->last = nng_clock();
		busy = c->held >= srv->max_per_conn;
		if (busy) {
			first = !c->warned;
			c->warned = true;
		} else {
			c->held++;
			s->counted = true;
		}
	}
	pthread_mutex_unlock(&srv->mu);
	if (!busy)
		return DTX_OK;
	snprintf(errbuf, errlen,
	         "this connection holds %u requests, the limit%s: wait for "
	         "answers before sending more",
	         srv->max_per_conn,
	         srv->admin ? "" : " (--max-requests-per-conn)");
	return refused(srv, s->pipe, first, errbuf);
}

static int slot_wait(dc_request *req, char *errbuf, size_t errlen)
{
	slot *s = (slot *)req;
	dc_server *srv = s->srv;
	bool busy = false, first = false;
	conn *c;

	if (s->waiting)
		return DTX_OK; /* run again after a read of the log: once */
	if (srv->nwaits >= srv->max_waits) {
		snprintf(errbuf, errlen,
		         "%u requests wait for an outcome, the most dtxd holds "
		         "(--max-clients %u less %u kept for requests that do "
		         "not wait): query later",
		         srv->nwaits, srv->nslots,
		         srv->nslots - srv->max_waits);
		return DTX_EBUSY;
	}
	pthread_mutex_lock(&srv->mu);
	if ((c = conn_find(srv, s->pipe)) != NULL && !c->tombstone) {
		busy = c->waits >= srv->max_waits_per_conn;
		if (busy) {
			first = !c->warned;
			c->warned = true;
		} else {
			c->waits++;
		}
	}
	pthread_mutex_unlock(&srv->mu);
	if (busy) {
		snprintf(errbuf, errlen,
		         "this connection has %u requests waiting for an "
		         "outcome, the limit (--max-waits-per-conn): query "
		         "later",
		         srv->max_waits_per_conn);
		return refused(srv, s->pipe, first, errbuf);
	}
	s->waiting = true;
	srv->nwaits++;
	return DTX_OK;
}

/* release uncounts s from its connection (if that is still there) and
 * from the waits: it is being answered or given back. */
static void release(slot *s)
{
	dc_server *srv = s->srv;
	conn *c;

	if (s->waiting)
		srv->nwaits--;
	if (s->counted || s->waiting) {
		pthread_mutex_lock(&srv->mu);
		if ((c = conn_find(srv, s->pipe)) != NULL && !c->tombstone) {
			c->held -= s->counted;
			c->waits -= s->waiting;
			c->last = nng_clock();
		}
		pthread_mutex_unlock(&srv->mu);
	}
	s->counted = s->waiting = false;
}

/* ---- answers ---------------------------------------------------------------
 */

static const void *slot_body(const dc_request *req, size_t *ret_len)
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

/* send_msg sends msg (its body already the reply) from s. */
static void send_msg(slot *s, nng_msg *msg)
{
	nng_msg_header_clear(msg);
	s->state = SLOT_SEND;
	nng_aio_set_msg(s->aio, msg);
	nng_ctx_send(s->ctx, s->aio);
}

static void slot_reply(dc_request *req, const Dtx__V1__ClientReply *reply)
{
	slot *s = (slot *)req;
	size_t len = wire_packed_size(&reply->base);
	nng_msg *msg = s->msg;

	release(s);
	s->msg = NULL;
	/* Reuse the request's message: one allocation less per request. */
	if (nng_msg_realloc(msg, len) != 0) {
		nng_msg_free(msg);
		slot_recv(s);
		return;
	}
	wire_pack(&reply->base, nng_msg_body(msg));
	send_msg(s, msg);
}

static void slot_reply_raw(dc_request *req, const void *buf, size_t len)
{
	slot *s = (slot *)req;
	nng_msg *msg = s->msg;

	release(s);
	s->msg = NULL;
	if (nng_msg_realloc(msg, len) != 0) {
		nng_msg_free(msg);
		slot_recv(s);
		return;
	}
	memcpy(nng_msg_body(msg), buf, len);
	send_msg(s, msg);
}

static void slot_drop(dc_request *req)
{
	slot *s = (slot *)req;

	release(s);
	release_msg(s);
	slot_recv(s);
}

/* slot_peer reads the credentials of the ipc:// connection the request
 * came on (the kernel's, through nng 1.5.2's NNG_OPT_IPC_PEER_*): a tcp
 * pipe has none (NNG_ENOTSUP), a closed one is gone (NNG_ENOENT). */
static int slot_peer(const dc_request *req, dc_peer *ret_peer)
{
	const slot *s = (const slot *)req;
	nng_pipe p = nng_msg_get_pipe(s->msg);
	uint64_t uid, gid, pid = 0;

	if (nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_UID, &uid) != 0 ||
	    nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_GID, &gid) != 0 ||
	    uid > UINT32_MAX || gid > UINT32_MAX)
		return DTX_OK;
	(void)nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_PID, &pid);
	ret_peer->known = true;
	ret_peer->uid = (uint32_t)uid;
	ret_peer->gid = (uint32_t)gid;
	ret_peer->pid = pid <= UINT32_MAX ? (uint32_t)pid : 0;
	return DTX_OK;
}

static const dc_request_ops slot_ops = {
        .peer = slot_peer,
        .body = slot_body,
        .admit = slot_admit,
        .wait = slot_wait,
        .reply = slot_reply,
        .reply_raw = slot_reply_raw,
        .drop = slot_drop,
};
