/*
 * client.c - the initiator side: submits sagas and TCC transactions to the
 * coordinator and queries transactions, over one req0 link (link.c); and
 * calls Tries on participants for initiator-driven TCC (one link per
 * participant URL, dialled on first use).
 *
 * Owns the links, a keeper thread and every request in flight. A request
 * is a small heap object with its own req0 context and aio; once its
 * callback ran it goes back to the client's pool and its aio serves the
 * next request (nng 1.5.2's reaper can stop for good, so aios are never
 * handed to it on the normal path):
 *
 *   request_begin --send--> SENDING --sent--> RECEIVING --reply--> finish
 *                              |                  |
 *                              `--error/timeout---+----------> finish
 *
 * finish calls the application's done callback exactly once, then closes
 * the context and returns the request to the pool.
 *
 * Resends: nng's REQ resend timer is disabled (NNG_DURATION_INFINITE). A
 * saga without a gid is not idempotent (the coordinator makes a new gid for
 * every copy it receives), so a transport resend could start it twice. The
 * whole request instead has one deadline, opts.timeout_ms + wait_ms, for
 * send and reply together; past it the callback gets DTX_ETIMEDOUT (sent,
 * no answer in time: "deadline passed") or DTX_EUNREACHABLE (never sent:
 * no connection to the coordinator, or the connection was lost before the
 * answer to a request without a gid), and the application decides whether
 * to submit again. A request that names a gid is idempotent at the
 * coordinator, so one whose connection was lost before the answer is sent
 * again until its deadline (may_resend).
 *
 * Staying connected: the keeper thread tends every link twice a second
 * (link.c replaces a connection that is gone or silent), so a client never
 * needs reopening. Closing is bounded: the keeper runs the nng_close calls,
 * which nng 1.5.2 can hang for ever; dtx_client_close waits for it at most
 * CLOSE_MS, then leaves the client's memory and sockets to the process.
 *
 * Never packs protobuf itself except through wire.h, never prints, never
 * blocks on nng's threads.
 *
 * Threads: every dtx_client_* call except close may run on many threads at
 * once; callbacks run on nng's threads. The client's mutex guards the
 * count of requests in flight, the pool, the closing flag, the keeper's
 * state and the peer table; the counters (dtx_client_get_stats) are
 * relaxed atomics.
 */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

#include "link.h"
#include "route.h"
#include "sdk.h"
#include "shard.h"

#define TIMEOUT_DEFAULT_MS 30000
#define OUTSTANDING_MAX    65536 /* requests in flight per client */
#define MSG_MIN            4096  /* smallest max_msg_bytes accepted */
#define PEERS_MAX          256   /* participant URLs one client calls */
#define POOL_MAX           4096  /* finished requests kept for reuse */
#define KEEPER_TICK_MS     500   /* how often the keeper tends the links */
#define CLOSE_MS           5000  /* dtx_client_close waits this, at most */
#define ROUTE_HOPS_MAX     4 /* redirects (DTX_EMOVED) in a row, then a pause */
#define SEND_UP_MS         1000 /* several coordinators: one attempt's send */
#define SEND_DOWN_MS       200  /* ... to one without a connection */
#define PAUSE_MS           100  /* no coordinator may own the shard: wait */
#define GRAVE_MS           2000 /* a finished request's context, then closed */
#define RESEND_MAX         3    /* copies of a request whose answer was lost */

typedef struct request request;

/* A context its request is done with, closed GRAVE_MS later (bury). */
struct grave {
	nng_ctx ctx;
	nng_time at; /* nng_clock() when its request let it go */
};

/* How a request ended (dtx_client_stats). */
typedef enum end_kind {
	END_OK = 0,
	END_REFUSED,
	END_TIMEOUT,
	END_UNREACHABLE,
	END_FAILED,
	END_COUNT
} end_kind;

struct dtx_client {
	sdk_route *route; /* owned: the coordinators and their links */
	unsigned timeout_ms;
	size_t max_msg;
	nng_tls_config *tls; /* owned; NULL: no TLS (outlives the links) */
	bool sync_init;      /* mu and cv are initialised */
	pthread_mutex_t mu;
	pthread_cond_t cv;    /* CLOCK_MONOTONIC */
	unsigned outstanding; /* guarded by mu */
	bool closing;         /* guarded by mu */
	request *pool;        /* guarded by mu: finished, reusable */
	unsigned npool;       /* guarded by mu */
	bool keeper_started;  /* keeper runs (set before it can race) */
	bool keeper_done;     /* guarded by mu: sockets closed */
	bool nng_gate;        /* guarded by mu: no callback may enter nng */
	unsigned in_nng;      /* guarded by mu: callbacks inside nng calls */
	pthread_t keeper;     /* tends the links, closes them at the end */
	sdk_link *peers[PEERS_MAX]; /* guarded by mu; owned; live until close */
	size_t npeers;
	struct grave *graves; /* guarded by mu; owned: a ring of contexts */
	size_t graves_cap, graves_head, ngraves; /* guarded by mu */
	/* counters (dtx_client_stats), relaxed atomics */
	_Atomic uint64_t requests, attempts, redirects, resends, latency_us;
	_Atomic uint64_t ends[END_COUNT];
	_Atomic uint64_t lat[SDK_LAT_N + 1];
};

typedef enum phase {
	PH_SENDING = 0,   /* the pending operation is the send */
	PH_RECEIVING = 1, /* ... the receive of the answer */
	PH_PAUSING = 2,   /* ... a pause before the next attempt */
} phase;

struct request {
	dtx_client *client; /* retained: outlives every request (close waits) */
	nng_ctx ctx;        /* owned while ctx_open */
	bool ctx_open;
	nng_aio *aio;   /* owned; kept with the request in the pool */
	nng_aio *pause; /* owned, likewise: PH_PAUSING's sleep (never I/O) */
	phase phase;    /* what the pending operation is */
	nng_msg *copy;  /* owned: the packed request, copied per attempt */
	int target;     /* coordinator of the current attempt */
	sdk_link *link; /* its link (borrowed from the route) */
	int pinned;     /* >= 0: only this coordinator (Topology) */
	bool has_gid;   /* gid says where the request must go */
	char gid[DTX_GID_MAX + 1];
	uint32_t tried;    /* coordinators that could not take it (route.h) */
	unsigned hops;     /* redirects followed */
	unsigned resends;  /* copies sent after a lost answer (may_resend) */
	int last_err;      /* what the application gets at the deadline */
	uint64_t mark;     /* sdk_link_mark when the attempt began */
	nng_time deadline; /* nng_clock() value that ends the request */
	uint64_t begun_us; /* monotonic, when it began (its latency) */
	dtx_done_fn done;  /* either this (a transaction's info) ... */
	sdk_reply_fn raw;  /* ... or this (the whole validated reply) */
	void *arg;         /* retained for the application */
	request *next;     /* in the pool */
};

/* ---- open and close ---------------------------------------------------- */

void dtx_client_opts_init(dtx_client_opts *opts)
{
	if (opts == NULL)
		return;
	memset(opts, 0, sizeof(*opts));
	opts->timeout_ms = TIMEOUT_DEFAULT_MS;
	opts->max_msg_bytes = DTX_MSG_MAX_DEFAULT;
}

static int client_sync_init(dtx_client *c)
{
	pthread_condattr_t attr;
	int rv;

	if (pthread_mutex_init(&c->mu, NULL) != 0)
		return DTX_ENOMEM;
	rv = pthread_condattr_init(&attr);
	if (rv == 0) {
		rv = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
		if (rv == 0)
			rv = pthread_cond_init(&c->cv, &attr);
		pthread_condattr_destroy(&attr);
	}
	if (rv != 0) {
		pthread_mutex_destroy(&c->mu);
		return DTX_ENOMEM;
	}
	c->sync_init = true;
	return DTX_OK;
}

/* until sets *ts to ms from now on CLOCK_MONOTONIC (c->cv's clock). */
static void until(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* nng_enter lets a request's callback call nng on one of c's sockets
 * (nng_ctx_open, _send, _recv, _close); false once the keeper is about to
 * close them (the caller finishes its request instead). nng 1.5.2 can
 * free a socket in nng_close while another thread is still inside
 * nng_ctx_recv on one of its contexts - nni_ctx_rele wakes the close
 * before req0_ctx_fini locks the socket, and nng panics (dtxd died of it
 * in a soak: doc/evidence/nng-ctx-close-panic.md) - so the keeper closes
 * only once every such call has returned (nng_leave). */
static bool nng_enter(dtx_client *c)
{
	bool ok;

	pthread_mutex_lock(&c->mu);
	ok = !c->nng_gate;
	if (ok)
		c->in_nng++;
	pthread_mutex_unlock(&c->mu);
	return ok;
}

static void nng_leave(dtx_client *c)
{
	pthread_mutex_lock(&c->mu);
	if (--c->in_nng == 0)
		pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* close_gate refuses callbacks new nng calls and waits for those inside
 * one to return (they never block: every call starts an operation). */
static void close_gate(dtx_client *c)
{
	pthread_mutex_lock(&c->mu);
	c->nng_gate = true;
	while (c->in_nng > 0)
		pthread_cond_wait(&c->cv, &c->mu);
	pthread_mutex_unlock(&c->mu);
}

/* ---- contexts a request is done with ----------------------------------- */

/* nng 1.5.2's timeout thread takes an expiring aio's cancel function and
 * its argument - the req0 context - under its lock, drops the lock, then
 * calls it (nni_aio_expire_loop). An answer that completes the aio in
 * between runs our callback, which used to close the context at once:
 * nng freed it, and the cancel function then read freed memory (the
 * buyer of chaos_smoke died of a SIGSEGV in CI). So a request never
 * closes a context: it buries it (bury), and the keeper closes it
 * GRAVE_MS later (close_graves), when no cancel function taken before can
 * still be running. A context is never used again once buried, so a late
 * cancel finds nothing of its own to cancel. Cost: the contexts of
 * GRAVE_MS of requests stay allocated (about 300 bytes each). */

/* bury hands ctx (transferred) to the keeper. Never fails: without room
 * for it the context is closed at once (out of memory; the old way). */
static void bury(dtx_client *c, nng_ctx ctx)
{
	bool kept = true;

	pthread_mutex_lock(&c->mu);
	if (c->ngraves == c->graves_cap) {
		size_t cap = c->graves_cap ? 2 * c->graves_cap : 256;
		struct grave *g = malloc(cap * sizeof(*g));

		if (g == NULL) {
			kept = false;
		} else {
			for (size_t i = 0; i < c->ngraves; i++)
				g[i] = c->graves[(c->graves_head + i) %
				                 c->graves_cap];
			free(c->graves);
			c->graves = g;
			c->graves_cap = cap;
			c->graves_head = 0;
		}
	}
	if (kept) {
		size_t i = (c->graves_head + c->ngraves++) % c->graves_cap;

		c->graves[i].ctx = ctx;
		c->graves[i].at = nng_clock();
	}
	pthread_mutex_unlock(&c->mu);
	if (!kept && nng_enter(c)) { /* else nng_close closes it */
		nng_ctx_close(ctx);
		nng_leave(c);
	}
}

/* close_graves closes the buried contexts older than GRAVE_MS (keeper
 * thread, before its gate closes). */
static void close_graves(dtx_client *c)
{
	nng_time now = nng_clock();

	for (;;) {
		nng_ctx ctx;

		pthread_mutex_lock(&c->mu);
		if (c->ngraves == 0 ||
		    c->graves[c->graves_head].at + GRAVE_MS > now) {
			pthread_mutex_unlock(&c->mu);
			return;
		}
		ctx = c->graves[c->graves_head].ctx;
		c->graves_head = (c->graves_head + 1) % c->graves_cap;
		c->ngraves--;
		pthread_mutex_unlock(&c->mu);
		nng_ctx_close(ctx);
	}
}

/* ---- the keeper thread ------------------------------------------------- */

static void ask_topology(dtx_client *c, size_t i);

/* tend_links lets every link replace a lost or silent connection, and
 * asks coordinators whose topology the route wants. Peers and
 * coordinators are only appended while the client lives, so the first n
 * stay put. */
static void tend_links(dtx_client *c)
{
	size_t n, nc = sdk_route_count(c->route);

	pthread_mutex_lock(&c->mu);
	n = c->npeers;
	pthread_mutex_unlock(&c->mu);
	for (size_t i = 0; i < nc; i++) {
		sdk_link_tend(sdk_route_link(c->route, i));
		if (sdk_route_topology_due(c->route, i))
			ask_topology(c, i);
	}
	for (size_t i = 0; i < n; i++)
		sdk_link_tend(c->peers[i]);
	close_graves(c);
}

/* close_coordinators closes the sockets of every coordinator c knows. */
static void close_coordinators(dtx_client *c)
{
	size_t nc = sdk_route_count(c->route);

	for (size_t i = 0; i < nc; i++)
		sdk_link_close_socket(sdk_route_link(c->route, i));
}

/* close_links closes every socket of c: the calls that can hang in nng
 * 1.5.2, run here so that dtx_client_close can bound its wait. */
static void close_links(dtx_client *c)
{
	close_coordinators(c);
	for (size_t i = 0; i < c->npeers; i++)
		sdk_link_close_socket(c->peers[i]);
}

/* keeper_main tends c's links every KEEPER_TICK_MS until c closes, then
 * closes them and says so (keeper_done). */
static void *keeper_main(void *arg)
{
	dtx_client *c = arg;
	struct timespec ts;

	pthread_mutex_lock(&c->mu);
	while (!c->closing) {
		pthread_mutex_unlock(&c->mu);
		tend_links(c);
		pthread_mutex_lock(&c->mu);
		until(&ts, KEEPER_TICK_MS);
		if (!c->closing)
			pthread_cond_timedwait(&c->cv, &c->mu, &ts);
	}
	pthread_mutex_unlock(&c->mu);
	close_gate(c);
	close_links(c);
	pthread_mutex_lock(&c->mu);
	c->keeper_done = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* ---- open and close ---------------------------------------------------- */

int dtx_client_open(const char *url, const dtx_client_opts *opts,
                    dtx_client **ret_client)
{
	dtx_client_opts defaults;
	dtx_client *c;
	int rv;

	dtx_client_opts_init(&defaults);
	if (opts == NULL)
		opts = &defaults;
	if (url == NULL || ret_client == NULL || opts->timeout_ms == 0 ||
	    opts->timeout_ms > INT32_MAX || opts->max_msg_bytes < MSG_MIN)
		return DTX_EINVAL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return DTX_ENOMEM;
	c->timeout_ms = opts->timeout_ms;
	c->max_msg = opts->max_msg_bytes;
	rv = client_sync_init(c);
	if (rv == DTX_OK && opts->tls != NULL)
		rv = sdk_tls_load(opts->tls, false, "client", url, &c->tls);
	if (rv == DTX_OK)
		rv = sdk_route_create(url, c->max_msg, c->tls, &c->route);
	if (rv == DTX_OK) {
		if (pthread_create(&c->keeper, NULL, keeper_main, c) != 0)
			rv = DTX_ENOMEM;
		else
			c->keeper_started = true;
	}
	if (rv != DTX_OK) {
		dtx_client_close(c);
		return rv;
	}
	*ret_client = c;
	return DTX_OK;
}

/* wait_closed waits, at most CLOSE_MS, for the keeper to close c's
 * sockets and for every request's callback to have run. */
static bool wait_closed(dtx_client *c)
{
	struct timespec ts;
	int rv = 0;

	until(&ts, CLOSE_MS);
	pthread_mutex_lock(&c->mu);
	c->closing = true;
	pthread_cond_broadcast(&c->cv);
	while ((!c->keeper_done || c->outstanding > 0) && rv == 0)
		rv = pthread_cond_timedwait(&c->cv, &c->mu, &ts);
	rv = c->keeper_done && c->outstanding == 0;
	pthread_mutex_unlock(&c->mu);
	return rv;
}

/* client_free frees c once nothing of nng can reach it any more. */
static void client_free(dtx_client *c)
{
	request *r;

	while ((r = c->pool) != NULL) {
		c->pool = r->next;
		nng_aio_free(r->aio); /* waits for its last callback to end */
		nng_aio_free(r->pause);
		free(r);
	}
	sdk_route_destroy(c->route);
	for (size_t i = 0; i < c->npeers; i++)
		sdk_link_free(c->peers[i]);
	free(c->graves);      /* their contexts closed with their sockets */
	sdk_tls_free(c->tls); /* after the sockets that pointed to it */
	if (c->sync_init) {
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
	}
	free(c);
}

/* dtx_client_close must not run concurrently with other calls on client,
 * nor from one of its done callbacks (it waits for them). If nng_close
 * does not return within CLOSE_MS (nng 1.5.2's stuck reaper, link.c),
 * the client is left, deliberately, to the process: its keeper thread
 * stays blocked in nng_close and nng may still use its memory. */
void dtx_client_close(dtx_client *client)
{
	if (client == NULL)
		return;
	if (!client->keeper_started) {
		/* a failed open: nothing was sent, no pipe can be racing */
		if (client->route != NULL)
			close_coordinators(client);
		client_free(client);
		return;
	}
	if (!wait_closed(client)) {
		sdk_logf(DTX_LOG_ERROR,
		         "client: %s: close gave up after %d ms: nng_close "
		         "did not return (nng 1.5.2's stuck reaper); the "
		         "client's sockets and memory are left to the process",
		         sdk_link_url(sdk_route_link(client->route, 0)),
		         CLOSE_MS);
		pthread_detach(client->keeper);
		return;
	}
	pthread_join(client->keeper, NULL);
	client_free(client);
}

/* ---- admission: bounded requests in flight ----------------------------- */

/* admit counts one more request in flight and hands back a pooled
 * request in *ret_r (NULL if the pool is empty). */
static int admit(dtx_client *c, request **ret_r)
{
	int rv = DTX_OK;

	*ret_r = NULL;
	pthread_mutex_lock(&c->mu);
	if (c->closing) {
		rv = DTX_ECLOSED;
	} else if (c->outstanding >= OUTSTANDING_MAX) {
		rv = DTX_ELIMIT;
	} else {
		c->outstanding++;
		if ((*ret_r = c->pool) != NULL) {
			c->pool = (*ret_r)->next;
			c->npool--;
		}
	}
	pthread_mutex_unlock(&c->mu);
	return rv;
}

/* release ends one admitted request, r (owned; may be NULL, or have no
 * aio yet), which goes back to the pool if there is room. The last touch
 * of c by a request: dtx_client_close may free c as soon as the lock is
 * dropped. */
static void release(dtx_client *c, request *r)
{
	bool kept = false;

	pthread_mutex_lock(&c->mu);
	if (r != NULL && r->aio != NULL && r->pause != NULL &&
	    c->npool < POOL_MAX) {
		r->next = c->pool;
		c->pool = r;
		c->npool++;
		kept = true;
	}
	c->outstanding--;
	if (c->outstanding == 0)
		pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (r != NULL && !kept) {
		if (r->aio != NULL) /* it cannot be freed from its callback */
			nng_aio_reap(r->aio);
		if (r->pause != NULL)
			nng_aio_reap(r->pause);
		free(r);
	}
}

/* is_closing returns true once dtx_client_close has begun. */
static bool is_closing(dtx_client *c)
{
	bool closing;

	pthread_mutex_lock(&c->mu);
	closing = c->closing;
	pthread_mutex_unlock(&c->mu);
	return closing;
}

/* ---- replies ----------------------------------------------------------- */

static void fill_step(dtx_step_info *dst, const Dtx__V1__StepInfo *src)
{
	dst->state = (dtx_step_state)src->state;
	dst->attempts = src->attempts;
	sdk_strlcpy(dst->last_error, sizeof(dst->last_error), src->last_error);
}

/* fill_info converts a validated reply (borrowed) into *info (borrowed). */
static void fill_info(dtx_tx_info *info, const Dtx__V1__ClientReply *rep)
{
	const Dtx__V1__TxInfo *tx = rep->tx;
	size_t i;

	memset(info, 0, sizeof(*info));
	sdk_strlcpy(info->gid, sizeof(info->gid), tx->gid);
	info->state = (dtx_tx_state)tx->state;
	info->mode = tx->has_mode ? (dtx_mode)tx->mode : DTX_MODE_SAGA;
	info->created = rep->has_created && rep->created;
	info->failed_step = tx->has_failed_step ? tx->failed_step : -1;
	sdk_strlcpy(info->reason, sizeof(info->reason), tx->reason);
	info->created_unix_ms = tx->created_unix_ms;
	info->updated_unix_ms = tx->updated_unix_ms;
	info->needs_operator = tx->has_needs_operator && tx->needs_operator;
	sdk_strlcpy(info->operator_reason, sizeof(info->operator_reason),
	            tx->operator_reason);
	info->deadline_unix_ms =
	        tx->has_deadline_unix_ms ? tx->deadline_unix_ms : 0;
	info->nsteps = (uint32_t)tx->n_steps;
	for (i = 0; i < tx->n_steps && i < DTX_INFO_MAX_STEPS; i++)
		fill_step(&info->steps[i], tx->steps[i]);
}

/* reply_code returns the dtx_err a validated reply (borrowed) stands for. */
static int reply_code(const Dtx__V1__ClientReply *rep)
{
	int code = rep->has_code ? (int)rep->code : DTX_OK;

	if (code < 0 || code >= DTX_ERR_COUNT)
		return DTX_EPROTO;
	if (code == DTX_OK && rep->tx == NULL)
		return DTX_EPROTO;
	/* A conflict is the application's mistake (one gid, two different
	 * transactions): the coordinator's message names what differs. */
	if (code != DTX_OK)
		sdk_logf(code == DTX_ECONFLICT ? DTX_LOG_WARN : DTX_LOG_DEBUG,
		         "client: coordinator answered %s: %s",
		         dtx_strerror(code),
		         rep->message != NULL ? rep->message : "");
	return code;
}

/* reply_info turns a validated reply (borrowed) into a new dtx_tx_info
 * transferred to the caller in *ret_info. Errors: the coordinator's code,
 * DTX_EPROTO, DTX_ENOMEM. */
static int reply_info(const Dtx__V1__ClientReply *rep, dtx_tx_info **ret_info)
{
	dtx_tx_info *info;
	int rv = reply_code(rep);

	if (rv == DTX_OK && (info = malloc(sizeof(*info))) == NULL)
		rv = DTX_ENOMEM;
	if (rv == DTX_OK) {
		fill_info(info, rep);
		*ret_info = info;
	}
	return rv;
}

/* ---- counters ----------------------------------------------------------- */

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void bump(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t load(const _Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* count_end counts r's end: err, answered (rep non-NULL) or not. */
static void count_end(dtx_client *c, const request *r, int err,
                      const Dtx__V1__ClientReply *rep)
{
	uint64_t us = mono_us() - r->begun_us;
	size_t i = 0;
	end_kind k = err == DTX_OK             ? END_OK
	             : rep != NULL             ? END_REFUSED
	             : err == DTX_ETIMEDOUT    ? END_TIMEOUT
	             : err == DTX_EUNREACHABLE ? END_UNREACHABLE
	                                       : END_FAILED;

	bump(&c->ends[k], 1);
	bump(&c->latency_us, us);
	while (i < SDK_LAT_N && us > sdk_lat_le_us[i])
		i++;
	bump(&c->lat[i], 1);
}

void dtx_client_get_stats(const dtx_client *client, dtx_client_stats *ret_stats)
{
	if (client == NULL || ret_stats == NULL)
		return;
	ret_stats->requests = load(&client->requests);
	ret_stats->ok = load(&client->ends[END_OK]);
	ret_stats->refused = load(&client->ends[END_REFUSED]);
	ret_stats->timeouts = load(&client->ends[END_TIMEOUT]);
	ret_stats->unreachable = load(&client->ends[END_UNREACHABLE]);
	ret_stats->failed = load(&client->ends[END_FAILED]);
	ret_stats->attempts = load(&client->attempts);
	ret_stats->redirects = load(&client->redirects);
	ret_stats->resends = load(&client->resends);
	ret_stats->latency_us = load(&client->latency_us);
}

void sdk_client_latency(const dtx_client *client, uint64_t *ret_counts)
{
	for (size_t i = 0; i <= SDK_LAT_N; i++)
		ret_counts[i] = load(&client->lat[i]);
}

/* ---- the life of a request (callbacks run on nng threads) -------------- */

/* finish completes r (owned; back to the pool here) with err and info
 * (borrowed, only read when err is DTX_OK). */
static void finish(request *r, int err, const dtx_tx_info *info,
                   const Dtx__V1__ClientReply *rep)
{
	dtx_client *c = r->client;

	if (err != DTX_OK && is_closing(c))
		err = DTX_ECLOSED; /* not the pipe reset nng_close caused */
	count_end(c, r, err, rep);
	if (r->copy != NULL)
		nng_msg_free(r->copy);
	r->copy = NULL;
	if (r->raw != NULL)
		r->raw(r->arg, err, err == DTX_OK ? rep : NULL);
	else
		r->done(r->arg, err, err == DTX_OK ? info : NULL);
	if (r->ctx_open)
		bury(c, r->ctx); /* not closed now: see bury */
	r->ctx_open = false;
	release(c, r);
}

/* attempt_error tells r's link that r's attempt ended without an answer
 * (rv, a translated nng error) and returns what it means for the
 * application: never sent for want of a connection, or the connection
 * lost before the answer, is DTX_EUNREACHABLE; sent and not answered in
 * time is DTX_ETIMEDOUT. */
static int attempt_error(request *r, int rv)
{
	sdk_link_ended(r->link, r->mark, rv);
	if (rv == DTX_ETIMEDOUT && r->phase == PH_SENDING &&
	    !sdk_link_is_up(r->link))
		rv = DTX_EUNREACHABLE;
	return rv;
}

/* log_error logs rv, the error r ends with after its last attempt. */
static void log_error(const request *r, int rv)
{
	const char *url = sdk_link_url(r->link);

	if (rv == DTX_EUNREACHABLE)
		sdk_logf(DTX_LOG_INFO, "client: coordinator unreachable: %s %s",
		         r->phase == PH_SENDING
		                 ? "no connection to"
		                 : "connection lost before the answer from",
		         url);
	else if (rv == DTX_ETIMEDOUT)
		sdk_logf(DTX_LOG_DEBUG, "client: %s: deadline passed", url);
}

/* transport_error is attempt_error for the attempt that ends r, logged. */
static int transport_error(request *r, int rv)
{
	rv = attempt_error(r, rv);
	log_error(r, rv);
	return rv;
}

static void attempt(request *r);

/* attempt_ms is how long one attempt of r to coordinator l may wait for
 * its send: with one coordinator the whole deadline (as ever); with
 * several, a short while, then another attempt (to another coordinator,
 * or the owner again once it is back). */
static nng_duration attempt_ms(request *r, sdk_link *l, nng_time now)
{
	nng_duration left =
	        now >= r->deadline ? 1 : (nng_duration)(r->deadline - now);
	nng_duration most = sdk_link_is_up(l) ? SEND_UP_MS : SEND_DOWN_MS;

	if ((!sdk_route_is_multi(r->client->route) || r->pinned >= 0) &&
	    sdk_link_is_up(l))
		return left;
	/* several coordinators, or no connection: a short while, then
	 * another attempt (waits_again: to the same one) */
	return left < most ? left : most;
}

/* pause_then_retry waits PAUSE_MS (the aio's sleep) before r's next
 * attempt: no coordinator may own r's shard right now. */
static void pause_then_retry(request *r)
{
	r->phase = PH_PAUSING;
	nng_sleep_aio(PAUSE_MS, r->pause);
}

/* attempt sends a copy of r's request to the coordinator the route picks,
 * or finishes r once its deadline has passed. */
static void attempt(request *r)
{
	dtx_client *c = r->client;
	nng_time now = nng_clock();
	const char *gid = r->has_gid ? r->gid : NULL;
	nng_msg *msg;
	int i, rv;

	if (now >= r->deadline) {
		finish(r, r->last_err, NULL, NULL);
		return;
	}
	i = r->pinned >= 0 ? r->pinned
	                   : sdk_route_pick(c->route, gid, &r->tried);
	if (i < 0) {
		pause_then_retry(r);
		return;
	}
	if (!nng_enter(c)) {
		finish(r, DTX_ECLOSED, NULL, NULL);
		return;
	}
	if (r->ctx_open)
		bury(c, r->ctx);
	r->ctx_open = false;
	r->target = i;
	r->link = sdk_route_link(c->route, (size_t)i);
	rv = nng_ctx_open(&r->ctx, sdk_link_socket(r->link));
	r->ctx_open = rv == 0;
	if (rv == 0 && (rv = nng_msg_dup(&msg, r->copy)) != 0)
		msg = NULL;
	if (rv != 0) {
		nng_leave(c);
		finish(r, sdk_err_from_nng(rv), NULL, NULL);
		return;
	}
	r->phase = PH_SENDING;
	bump(&c->attempts, 1);
	r->mark = sdk_link_mark(r->link);
	nng_aio_set_timeout(r->aio, attempt_ms(r, r->link, now));
	nng_aio_set_msg(r->aio, msg);
	nng_ctx_send(r->ctx, r->aio);
	nng_leave(c); /* c outlives it: the keeper waits before closing */
}

/* may_retry: r was not sent (rv) and may be tried again: routed, time
 * left, not closing. Nothing was sent, so nothing can start twice. */
static bool may_retry(request *r, int rv)
{
	return rv != DTX_ECLOSED && r->pinned < 0 &&
	       sdk_route_is_multi(r->client->route) &&
	       nng_clock() < r->deadline && !is_closing(r->client);
}

/* may_resend: r was sent and its connection was lost before the answer
 * (rv, after attempt_error: DTX_EUNREACHABLE), and r may be sent again: it
 * names a gid, time is left, it is not pinned, the client is not closing.
 * Every request that names a gid is idempotent at the coordinator - a gid
 * starts once (a repeat is answered with its transaction), a repeated
 * registration or finish is answered again, a query reads - so a copy to
 * the next owner (after a failover) or to the same coordinator (after its
 * restart) changes nothing twice: a failover costs latency, not an error.
 * A request without a gid (a saga whose id the coordinator makes) is
 * never sent again: a copy would start a second transaction. At most
 * RESEND_MAX copies: a request that itself brings its coordinator down
 * (a defect) must not do so for its whole deadline. */
static bool may_resend(request *r, int rv)
{
	return rv == DTX_EUNREACHABLE && r->has_gid && r->pinned < 0 &&
	       r->resends < RESEND_MAX && nng_clock() < r->deadline &&
	       !is_closing(r->client);
}

/* waits_again: r's attempt to its only coordinator found no connection
 * (rv, after attempt_error) and r may try the same one again: time left,
 * not closing, and something may listen there (else r ends at once:
 * nothing listens at the URL, not a slow coordinator). A send that timed
 * out (rv DTX_ETIMEDOUT: attempt_ms is short while there is no
 * connection) sent nothing either: if the connection came back just as
 * it timed out, it is not "deadline passed" while time is left (crash_test
 * under load saw a query end so 3 s into its 32). */
static bool waits_again(request *r, int rv)
{
	if ((rv != DTX_EUNREACHABLE && rv != DTX_ETIMEDOUT) ||
	    r->phase != PH_SENDING || nng_clock() >= r->deadline ||
	    is_closing(r->client))
		return false;
	if (!sdk_link_is_refused(r->link))
		return true;
	sdk_logf(DTX_LOG_INFO,
	         "client: coordinator unreachable: nothing listens at %s "
	         "(connection refused)",
	         sdk_link_url(r->link));
	return false;
}

static void on_request_sent(request *r, int rv)
{
	nng_time now = nng_clock();
	nng_msg *msg;

	if (rv != DTX_OK) {
		/* a failed send leaves the message with us */
		if ((msg = nng_aio_get_msg(r->aio)) != NULL)
			nng_msg_free(msg);
		nng_aio_set_msg(r->aio, NULL);
		if (rv != DTX_ECLOSED)
			r->last_err = attempt_error(r, rv);
		if (may_retry(r, rv)) {
			sdk_route_unsent(r->client->route,
			                 r->has_gid ? r->gid : NULL, r->target,
			                 &r->tried);
			attempt(r);
			return;
		}
		if (rv != DTX_ECLOSED && waits_again(r, r->last_err)) {
			attempt(r);
			return;
		}
		if (rv != DTX_ECLOSED && !sdk_link_is_refused(r->link))
			log_error(r, r->last_err);
		finish(r, rv == DTX_ECLOSED ? rv : r->last_err, NULL, NULL);
		return;
	}
	if (!nng_enter(r->client)) {
		finish(r, DTX_ECLOSED, NULL, NULL);
		return;
	}
	r->phase = PH_RECEIVING;
	nng_aio_set_timeout(
	        r->aio,
	        now >= r->deadline ? 1 : (nng_duration)(r->deadline - now));
	nng_ctx_recv(r->ctx, r->aio);
	nng_leave(r->client);
}

/* follow tries r again after coordinator r->target answered rep
 * (DTX_EMOVED): learns the owner, then picks again. While shards move
 * (an instance joined, or one died and its lease has not expired yet) the
 * coordinators' views disagree for a while and redirects can go round:
 * after ROUTE_HOPS_MAX redirects in a row r waits PAUSE_MS and starts a
 * new round, until its deadline. A redirect is never logged, so trying
 * again cannot start anything twice; a failover costs latency, and
 * DTX_EMOVED reaches the caller only at the deadline. Returns false if r
 * may not follow (pinned, deadline passed, closing). */
static bool follow(request *r, const Dtx__V1__ClientReply *rep)
{
	if (r->pinned >= 0 || nng_clock() >= r->deadline ||
	    is_closing(r->client))
		return false;
	sdk_route_moved(r->client->route, r->target, r->has_gid ? r->gid : NULL,
	                rep, &r->tried);
	sdk_logf(DTX_LOG_DEBUG, "client: %s: %s", sdk_link_url(r->link),
	         rep->message ? rep->message : "moved");
	bump(&r->client->redirects, 1);
	r->last_err = DTX_EMOVED;
	if (++r->hops >= ROUTE_HOPS_MAX) {
		r->hops = 0;
		pause_then_retry(r);
		return true;
	}
	attempt(r);
	return true;
}

/* on_reply decodes the answer msg (transferred) of r: a redirect is
 * followed, anything else finishes r. */
static void on_reply(request *r, nng_msg *msg)
{
	Dtx__V1__ClientReply *rep = NULL;
	dtx_tx_info *info = NULL;
	char why[256];
	int rv = wire_client_reply_decode(nng_msg_body(msg), nng_msg_len(msg),
	                                  &rep, why, sizeof(why));

	nng_msg_free(msg);
	if (rv != DTX_OK) {
		sdk_logf(DTX_LOG_WARN, "client: bad reply: %s", why);
		rv = rv == DTX_ENOMEM || rv == DTX_EVERSION ? rv : DTX_EPROTO;
	} else if (rep->code == DTX__V1__CODE__CODE_EMOVED && follow(r, rep)) {
		wire_client_reply_free(rep);
		return;
	} else if (r->raw == NULL) {
		rv = reply_info(rep, &info);
	}
	finish(r, rv, info, rep);
	free(info);
	if (rep != NULL)
		wire_client_reply_free(rep);
}

/* pause_cb ends a pause (PH_PAUSING): the next attempt. */
static void pause_cb(void *arg)
{
	attempt(arg);
}

static void request_cb(void *arg)
{
	request *r = arg;
	int rv = sdk_err_from_nng(nng_aio_result(r->aio));
	nng_msg *msg;

	if (r->phase == PH_SENDING) {
		on_request_sent(r, rv);
		return;
	}
	if (rv != DTX_OK) {
		if (rv != DTX_ECLOSED)
			rv = attempt_error(r, rv);
		if (may_resend(r, rv)) {
			sdk_logf(DTX_LOG_DEBUG,
			         "client: %s: connection lost before the "
			         "answer about %s: asking again",
			         sdk_link_url(r->link), r->gid);
			r->last_err = rv;
			r->resends++;
			bump(&r->client->resends, 1);
			attempt(r);
			return;
		}
		if (rv != DTX_ECLOSED)
			log_error(r, rv);
		finish(r, rv, NULL, NULL);
		return;
	}
	msg = nng_aio_get_msg(r->aio);
	nng_aio_set_msg(r->aio, NULL);
	if (msg == NULL) {
		/* a receive that succeeded without a message (seen in the
		 * PostgreSQL chaos soak with several coordinators, cause in
		 * nng not found): the answer is lost, as with a reset
		 * connection, and never dereferenced */
		sdk_logf(DTX_LOG_WARN,
		         "client: %s: an answer without a message",
		         sdk_link_url(r->link));
		finish(r, transport_error(r, sdk_err_from_nng(NNG_ECONNRESET)),
		       NULL, NULL);
		return;
	}
	sdk_link_ended(r->link, r->mark, DTX_OK);
	on_reply(r, msg);
}

/* budget returns the whole request's deadline in ms: transport timeout
 * plus the time the coordinator may hold the reply. */
static nng_duration budget(const dtx_client *c, unsigned wait_ms)
{
	uint64_t ms = (uint64_t)c->timeout_ms + wait_ms;

	return ms > INT32_MAX ? INT32_MAX : (nng_duration)ms;
}

/* request_get returns an admitted request for c: a pooled one, or a new
 * one with its aio. Errors: DTX_ECLOSED, DTX_ELIMIT, DTX_ENOMEM. */
static int request_get(dtx_client *c, request **ret_r)
{
	request *r;
	int rv = admit(c, &r);

	if (rv != DTX_OK || r != NULL) {
		*ret_r = r;
		return rv;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		release(c, NULL);
		return DTX_ENOMEM;
	}
	/* Two aios: nng 1.5.2 keeps an aio's "a timeout is no error" mark
	 * (a_expire_ok) once it has slept, so a send or receive on it that
	 * timed out later would end as a success (a receive without a
	 * message; a send "sent" that was not: the PostgreSQL chaos soak's
	 * buyers). The I/O aio never sleeps; pauses have their own. */
	rv = sdk_err_from_nng(nng_aio_alloc(&r->aio, request_cb, r));
	if (rv != DTX_OK) {
		r->aio = NULL;
	} else if ((rv = sdk_err_from_nng(
	                    nng_aio_alloc(&r->pause, pause_cb, r))) != DTX_OK) {
		nng_aio_free(r->aio);
		r->aio = NULL;
	}
	if (rv != DTX_OK) {
		r->pause = NULL;
		release(c, r);
		return rv;
	}
	nng_aio_set_timeout(r->pause, NNG_DURATION_DEFAULT);
	*ret_r = r;
	return DTX_OK;
}

/* route_gid returns the gid req (borrowed) is about: where it must go;
 * NULL for a request any coordinator takes. A FinalQuery goes where its
 * first gid lives (dtx_client_final_gids groups gids by shard). */
static const char *route_gid(const Dtx__V1__ClientRequest *req)
{
	switch (req->body_case) {
	case DTX__V1__CLIENT_REQUEST__BODY_SUBMIT:
		return req->submit->gid;
	case DTX__V1__CLIENT_REQUEST__BODY_SUBMIT_TCC:
		return req->submit_tcc->gid;
	case DTX__V1__CLIENT_REQUEST__BODY_BEGIN_TCC:
		return req->begin_tcc->gid;
	case DTX__V1__CLIENT_REQUEST__BODY_REGISTER:
		return req->register_->gid;
	case DTX__V1__CLIENT_REQUEST__BODY_FINISH:
		return req->finish->gid;
	case DTX__V1__CLIENT_REQUEST__BODY_QUERY:
		return req->query->gid;
	case DTX__V1__CLIENT_REQUEST__BODY_FINAL_QUERY:
		return req->final_query->n_gids > 0 ? req->final_query->gids[0]
		                                    : NULL;
	default:
		return NULL;
	}
}

/* request_begin starts msg (transferred on success) as a new request about
 * gid (borrowed, copied; NULL: none) whose completion calls done or raw
 * with arg; pinned >= 0 sends it to that coordinator only. Errors:
 * DTX_ECLOSED, DTX_ELIMIT, DTX_ENOMEM (the callback then never runs). */
static int request_begin(dtx_client *c, nng_msg *msg, unsigned wait_ms,
                         const char *gid, int pinned, sdk_reply_fn raw,
                         dtx_done_fn done, void *arg)
{
	nng_duration ms = budget(c, wait_ms);
	request *r;
	int rv;

	if ((rv = request_get(c, &r)) != DTX_OK)
		return rv;
	r->client = c;
	r->copy = msg;
	r->has_gid = gid != NULL;
	sdk_strlcpy(r->gid, sizeof(r->gid), gid);
	r->pinned = pinned;
	r->tried = 0;
	r->hops = 0;
	r->resends = 0;
	r->last_err = DTX_EUNREACHABLE;
	r->done = done;
	r->raw = raw;
	r->arg = arg;
	r->deadline = nng_clock() + (nng_time)ms;
	r->begun_us = mono_us();
	bump(&c->requests, 1);
	attempt(r);
	return DTX_OK;
}

/* pack_request packs req (borrowed) into a new nng_msg transferred to the
 * caller in *ret_msg. Errors: DTX_ETOOBIG (over max_msg_bytes: the
 * coordinator would refuse it too), DTX_ENOMEM. */
static int pack_request(const dtx_client *c, const Dtx__V1__ClientRequest *req,
                        nng_msg **ret_msg)
{
	size_t len = wire_packed_size(&req->base);
	nng_msg *msg;
	int rv;

	if (len > c->max_msg)
		return DTX_ETOOBIG;
	if ((rv = nng_msg_alloc(&msg, len)) != 0)
		return sdk_err_from_nng(rv);
	wire_pack(&req->base, nng_msg_body(msg));
	*ret_msg = msg;
	return DTX_OK;
}

/* send_any packs req (borrowed) and starts it with done or raw, to the
 * coordinator pinned (>= 0) or to where req's gid lives. */
static int send_any(dtx_client *c, const Dtx__V1__ClientRequest *req,
                    unsigned wait_ms, int pinned, dtx_done_fn done,
                    sdk_reply_fn raw, void *arg)
{
	nng_msg *msg = NULL;
	int rv = pack_request(c, req, &msg);

	if (rv != DTX_OK)
		return rv;
	rv = request_begin(c, msg, wait_ms, route_gid(req), pinned, raw, done,
	                   arg);
	if (rv != DTX_OK)
		nng_msg_free(msg);
	return rv;
}

static int send_request(dtx_client *c, const Dtx__V1__ClientRequest *req,
                        unsigned wait_ms, dtx_done_fn done, void *arg)
{
	return send_any(c, req, wait_ms, -1, done, NULL, arg);
}

int sdk_client_send(dtx_client *c, Dtx__V1__ClientRequest *req,
                    unsigned wait_ms, dtx_done_fn done, void *arg)
{
	req->has_version = 1;
	req->version = DTX__V1__VERSION__VERSION_1;
	req->has_wait_ms = 1;
	req->wait_ms = wait_ms;
	return send_any(c, req, wait_ms, -1, done, NULL, arg);
}

int sdk_client_send_raw(dtx_client *c, Dtx__V1__ClientRequest *req,
                        sdk_reply_fn raw, void *arg)
{
	req->has_version = 1;
	req->version = DTX__V1__VERSION__VERSION_1;
	return send_any(c, req, 0, -1, NULL, raw, arg);
}

/* ---- topology (the keeper asks) ---------------------------------------- */

typedef struct topo_ask {
	dtx_client *client;
	size_t index;
} topo_ask;

/* topo_done records coordinator a->index's answer (rep: borrowed, NULL
 * on error) and frees a. Runs on an nng thread. */
static void topo_done(void *arg, int err, const Dtx__V1__ClientReply *rep)
{
	topo_ask *a = arg;
	const Dtx__V1__TopologyInfo *t = NULL;

	if (err == DTX_OK && rep->code == DTX__V1__CODE__CODE_OK)
		t = rep->topology;
	if (t == NULL)
		sdk_logf(DTX_LOG_DEBUG, "client: %s: no topology (%s)",
		         sdk_link_url(
		                 sdk_route_link(a->client->route, a->index)),
		         dtx_strerror(err));
	sdk_route_topology_done(a->client->route, a->index, t);
	free(a);
}

/* ask_topology sends a Topology request to coordinator i of c. */
static void ask_topology(dtx_client *c, size_t i)
{
	Dtx__V1__ClientRequest req = DTX__V1__CLIENT_REQUEST__INIT;
	Dtx__V1__Topology q = DTX__V1__TOPOLOGY__INIT;
	topo_ask *a = malloc(sizeof(*a));

	req.has_version = 1;
	req.version = DTX__V1__VERSION__VERSION_1;
	req.body_case = DTX__V1__CLIENT_REQUEST__BODY_TOPOLOGY;
	req.topology = &q;
	if (a != NULL) {
		a->client = c;
		a->index = i;
	}
	if (a == NULL ||
	    send_any(c, &req, 0, (int)i, NULL, topo_done, a) != DTX_OK) {
		free(a);
		sdk_route_topology_done(c->route, i, NULL);
	}
}

/* ---- public requests --------------------------------------------------- */

int dtx_client_submit_async(dtx_client *client, const dtx_saga *saga,
                            unsigned wait_ms, dtx_done_fn done, void *arg)
{
	Dtx__V1__ClientRequest req = DTX__V1__CLIENT_REQUEST__INIT;
	Dtx__V1__SubmitSaga submit;

	if (client == NULL || saga == NULL || done == NULL ||
	    sdk_saga_nsteps(saga) == 0)
		return DTX_EINVAL;
	sdk_saga_view(saga, &submit);
	req.has_version = 1;
	req.version = DTX__V1__VERSION__VERSION_1;
	req.has_wait_ms = 1;
	req.wait_ms = wait_ms;
	req.body_case = DTX__V1__CLIENT_REQUEST__BODY_SUBMIT;
	req.submit = &submit;
	return send_request(client, &req, wait_ms, done, arg);
}

int dtx_client_query_async(dtx_client *client, const char *gid,
                           unsigned wait_ms, dtx_done_fn done, void *arg)
{
	Dtx__V1__ClientRequest req = DTX__V1__CLIENT_REQUEST__INIT;
	Dtx__V1__Query query = DTX__V1__QUERY__INIT;

	if (client == NULL || gid == NULL || done == NULL)
		return DTX_EINVAL;
	if (strnlen(gid, DTX_GID_MAX + 1) > DTX_GID_MAX)
		return DTX_ETOOBIG;
	if (!wire_name_is_valid(gid, DTX_GID_MAX))
		return DTX_EINVAL;
	query.gid = (char *)gid; /* only read while packing */
	req.has_version = 1;
	req.version = DTX__V1__VERSION__VERSION_1;
	req.has_wait_ms = 1;
	req.wait_ms = wait_ms;
	req.body_case = DTX__V1__CLIENT_REQUEST__BODY_QUERY;
	req.query = &query;
	return send_request(client, &req, wait_ms, done, arg);
}

/* ---- blocking forms ---------------------------------------------------- */

typedef struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	int err;
	dtx_tx_info *ret_info; /* borrowed: the caller's, written on success */
} waiter;

static void waiter_done(void *arg, int err, const dtx_tx_info *info)
{
	waiter *w = arg;

	pthread_mutex_lock(&w->mu);
	if (err == DTX_OK)
		*w->ret_info = *info;
	w->err = err;
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static int waiter_init(waiter *w, dtx_tx_info *ret_info)
{
	memset(w, 0, sizeof(*w));
	w->ret_info = ret_info;
	if (pthread_mutex_init(&w->mu, NULL) != 0)
		return DTX_ENOMEM;
	if (pthread_cond_init(&w->cv, NULL) != 0) {
		pthread_mutex_destroy(&w->mu);
		return DTX_ENOMEM;
	}
	return DTX_OK;
}

/* waiter_finish waits for the callback if the async call (result rv)
 * started one, frees w's resources and returns the outcome. */
static int waiter_finish(waiter *w, int rv)
{
	if (rv == DTX_OK) {
		pthread_mutex_lock(&w->mu);
		while (!w->done)
			pthread_cond_wait(&w->cv, &w->mu);
		rv = w->err;
		pthread_mutex_unlock(&w->mu);
	}
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	return rv;
}

/* The blocking forms must not be called from a done callback: they would
 * hold one of nng's threads. */
int dtx_client_submit(dtx_client *client, const dtx_saga *saga,
                      unsigned wait_ms, dtx_tx_info *ret_info)
{
	waiter w;
	int rv;

	if (ret_info == NULL)
		return DTX_EINVAL;
	if ((rv = waiter_init(&w, ret_info)) != DTX_OK)
		return rv;
	rv = dtx_client_submit_async(client, saga, wait_ms, waiter_done, &w);
	return waiter_finish(&w, rv);
}

int dtx_client_query(dtx_client *client, const char *gid, unsigned wait_ms,
                     dtx_tx_info *ret_info)
{
	waiter w;
	int rv;

	if (ret_info == NULL)
		return DTX_EINVAL;
	if ((rv = waiter_init(&w, ret_info)) != DTX_OK)
		return rv;
	rv = dtx_client_query_async(client, gid, wait_ms, waiter_done, &w);
	return waiter_finish(&w, rv);
}

int sdk_client_call(dtx_client *c, Dtx__V1__ClientRequest *req,
                    unsigned wait_ms, dtx_tx_info *ret_info)
{
	waiter w;
	int rv;

	if ((rv = waiter_init(&w, ret_info)) != DTX_OK)
		return rv;
	rv = sdk_client_send(c, req, wait_ms, waiter_done, &w);
	return waiter_finish(&w, rv);
}

/* ---- final gids (barrier clean-up) ------------------------------------- */

typedef struct finals_ctx {
	waiter w;                /* only its lock, flag and error are used */
	const char *const *gids; /* borrowed */
	size_t n;
	int64_t *ret_final_ms; /* borrowed, n entries */
} finals_ctx;

static void finals_done(void *arg, int err, const Dtx__V1__ClientReply *rep)
{
	finals_ctx *f = arg;

	if (err == DTX_OK && rep->has_code && (int)rep->code != DTX_OK)
		err = (int)rep->code;
	pthread_mutex_lock(&f->w.mu);
	if (err == DTX_OK) {
		for (size_t i = 0; i < f->n; i++)
			f->ret_final_ms[i] = 0;
		for (size_t j = 0; j < rep->n_finals; j++)
			for (size_t i = 0; i < f->n; i++)
				if (strcmp(rep->finals[j]->gid, f->gids[i]) ==
				    0)
					f->ret_final_ms[i] =
					        rep->finals[j]->final_unix_ms;
	}
	f->w.err = err;
	f->w.done = true;
	pthread_cond_signal(&f->w.cv);
	pthread_mutex_unlock(&f->w.mu);
}

/* final_gids_once asks one coordinator (where gids[0] lives) about the n
 * valid gids (borrowed) and writes ret_final_ms (n entries). */
static int final_gids_once(dtx_client *c, const char *const *gids, size_t n,
                           int64_t *ret_final_ms)
{
	Dtx__V1__ClientRequest req = DTX__V1__CLIENT_REQUEST__INIT;
	Dtx__V1__FinalQuery q = DTX__V1__FINAL_QUERY__INIT;
	finals_ctx f = {.gids = gids, .n = n, .ret_final_ms = ret_final_ms};
	dtx_tx_info unused;
	int rv;

	q.n_gids = n;
	q.gids = (char **)gids; /* only read while packing */
	req.body_case = DTX__V1__CLIENT_REQUEST__BODY_FINAL_QUERY;
	req.final_query = &q;
	if ((rv = waiter_init(&f.w, &unused)) != DTX_OK)
		return rv;
	rv = sdk_client_send_raw(c, &req, finals_done, &f);
	return waiter_finish(&f.w, rv);
}

/* final_gids_by_shard asks each shard's owner about its own gids (a
 * coordinator lists only its own shards' gids as final), one shard at a
 * time, and writes all n answers in ret_final_ms on success only. */
static int final_gids_by_shard(dtx_client *c, const char *const *gids, size_t n,
                               uint32_t m, int64_t *ret_final_ms)
{
	const char *sub[WIRE_FINAL_QUERY_MAX];
	size_t at[WIRE_FINAL_QUERY_MAX];
	int64_t got[WIRE_FINAL_QUERY_MAX], all[WIRE_FINAL_QUERY_MAX];
	bool asked[WIRE_FINAL_QUERY_MAX] = {false};
	int rv;

	for (size_t i = 0; i < n; i++) {
		uint32_t s = shard_of_gid(gids[i], m);
		size_t k = 0;
		for (size_t j = i; j < n; j++)
			if (!asked[j] && shard_of_gid(gids[j], m) == s) {
				asked[j] = true;
				at[k] = j;
				sub[k++] = gids[j];
			}
		if (k > 0 && (rv = final_gids_once(c, sub, k, got)) != DTX_OK)
			return rv;
		for (size_t t = 0; t < k; t++)
			all[at[t]] = got[t];
	}
	memcpy(ret_final_ms, all, n * sizeof(*all));
	return DTX_OK;
}

int dtx_client_final_gids(dtx_client *client, const char *const *gids, size_t n,
                          int64_t *ret_final_ms)
{
	uint32_t m;

	if (client == NULL || gids == NULL || n == 0 || ret_final_ms == NULL)
		return DTX_EINVAL;
	if (n > WIRE_FINAL_QUERY_MAX)
		return DTX_ETOOBIG;
	for (size_t i = 0; i < n; i++) {
		if (gids[i] == NULL ||
		    !wire_name_is_valid(gids[i], DTX_GID_MAX))
			return DTX_EINVAL;
	}
	if ((m = sdk_route_shards(client->route)) <= 1)
		return final_gids_once(client, gids, n, ret_final_ms);
	return final_gids_by_shard(client, gids, n, m, ret_final_ms);
}

/* ---- Tries on participants (initiator-driven TCC) ---------------------- */

/* peer_link returns the link to url (borrowed), opening it on first use.
 * Errors: DTX_ELIMIT (PEERS_MAX URLs), DTX_ECLOSED, DTX_ENOMEM,
 * DTX_EINVAL / DTX_EUNREACHABLE (a URL nng refuses). */
static int peer_link(dtx_client *c, const char *url, sdk_link **ret_link)
{
	int rv = DTX_OK;

	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->npeers; i++) {
		if (strcmp(sdk_link_url(c->peers[i]), url) == 0) {
			*ret_link = c->peers[i];
			goto out;
		}
	}
	if (c->closing)
		rv = DTX_ECLOSED;
	else if (c->npeers == PEERS_MAX)
		rv = DTX_ELIMIT;
	else
		rv = sdk_link_open(url, c->max_msg, c->tls,
		                   &c->peers[c->npeers]);
	if (rv == DTX_OK)
		*ret_link = c->peers[c->npeers++];
out:
	pthread_mutex_unlock(&c->mu);
	return rv;
}

/* exchange sends msg (transferred) on a new context of l's socket and
 * waits up to timeout_ms for the answer (transferred to the caller). A
 * Try that was not sent for want of a connection is DTX_EUNREACHABLE. */
static int exchange(sdk_link *l, nng_msg *msg, unsigned timeout_ms,
                    nng_msg **ret_msg)
{
	uint64_t mark = sdk_link_mark(l);
	bool sent = false;
	nng_ctx ctx;
	nng_aio *aio;
	int rv = nng_aio_alloc(&aio, NULL, NULL);

	if (rv != 0) {
		nng_msg_free(msg);
		return sdk_err_from_nng(rv);
	}
	if ((rv = nng_ctx_open(&ctx, sdk_link_socket(l))) != 0) {
		nng_msg_free(msg);
		nng_aio_free(aio);
		return sdk_err_from_nng(rv);
	}
	nng_aio_set_timeout(aio, (nng_duration)timeout_ms);
	nng_aio_set_msg(aio, msg);
	nng_ctx_send(ctx, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0) {
		if (nng_aio_get_msg(aio) != NULL) /* not sent: still ours */
			nng_msg_free(nng_aio_get_msg(aio));
	} else {
		sent = true;
		nng_ctx_recv(ctx, aio);
		nng_aio_wait(aio);
		if ((rv = nng_aio_result(aio)) == 0)
			*ret_msg = nng_aio_get_msg(aio);
	}
	/* the aio first: nng_aio_free waits for a cancel function the
	 * timeout thread may be calling on ctx (see bury) */
	nng_aio_free(aio);
	nng_ctx_close(ctx);
	rv = sdk_err_from_nng(rv);
	sdk_link_ended(l, mark, rv);
	if (rv == DTX_ETIMEDOUT && !sent && !sdk_link_is_up(l))
		rv = DTX_EUNREACHABLE; /* no connection to the participant */
	return rv;
}

int sdk_client_branch_call(dtx_client *c, const char *url,
                           const Dtx__V1__BranchCall *call, unsigned timeout_ms,
                           Dtx__V1__BranchReply **ret_reply)
{
	size_t len = wire_packed_size(&call->base);
	sdk_link *l;
	nng_msg *msg, *answer = NULL;
	char why[256];
	int rv;

	if (len > c->max_msg)
		return DTX_ETOOBIG;
	if ((rv = peer_link(c, url, &l)) != DTX_OK)
		return rv;
	if ((rv = nng_msg_alloc(&msg, len)) != 0)
		return sdk_err_from_nng(rv);
	wire_pack(&call->base, nng_msg_body(msg));
	if ((rv = exchange(l, msg, timeout_ms, &answer)) != DTX_OK)
		return rv;
	rv = wire_branch_reply_decode(nng_msg_body(answer), nng_msg_len(answer),
	                              ret_reply, why, sizeof(why));
	nng_msg_free(answer);
	if (rv != DTX_OK) {
		sdk_logf(DTX_LOG_WARN, "client: bad answer from %s: %s", url,
		         why);
		return rv == DTX_ENOMEM ? rv : DTX_EPROTO;
	}
	return DTX_OK;
}
