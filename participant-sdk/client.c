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
 * answer), and the application decides whether to submit again (safe
 * with a gid).
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
 * state and the peer table.
 */
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

#include "link.h"
#include "sdk.h"

#define TIMEOUT_DEFAULT_MS 30000
#define OUTSTANDING_MAX    65536 /* requests in flight per client */
#define MSG_MIN            4096  /* smallest max_msg_bytes accepted */
#define PEERS_MAX          256   /* participant URLs one client calls */
#define POOL_MAX           4096  /* finished requests kept for reuse */
#define KEEPER_TICK_MS     500   /* how often the keeper tends the links */
#define CLOSE_MS           5000  /* dtx_client_close waits this, at most */

typedef struct request request;

struct dtx_client {
	sdk_link *link; /* owned: to the coordinator */
	unsigned timeout_ms;
	size_t max_msg;
	bool sync_init; /* mu and cv are initialised */
	pthread_mutex_t mu;
	pthread_cond_t cv;    /* CLOCK_MONOTONIC */
	unsigned outstanding; /* guarded by mu */
	bool closing;         /* guarded by mu */
	request *pool;        /* guarded by mu: finished, reusable */
	unsigned npool;       /* guarded by mu */
	bool keeper_started;  /* keeper runs (set before it can race) */
	bool keeper_done;     /* guarded by mu: sockets closed */
	pthread_t keeper;     /* tends the links, closes them at the end */
	sdk_link *peers[PEERS_MAX]; /* guarded by mu; owned; live until close */
	size_t npeers;
};

struct request {
	dtx_client *client; /* retained: outlives every request (close waits) */
	nng_ctx ctx;        /* owned */
	nng_aio *aio;       /* owned; kept with the request in the pool */
	bool sending;       /* the pending operation is the send */
	uint64_t mark;      /* sdk_link_mark when it began */
	nng_time deadline;  /* nng_clock() value that ends the request */
	dtx_done_fn done;   /* either this (a transaction's info) ... */
	sdk_reply_fn raw;   /* ... or this (the whole validated reply) */
	void *arg;          /* retained for the application */
	request *next;      /* in the pool */
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

/* ---- the keeper thread ------------------------------------------------- */

/* tend_links lets every link replace a lost or silent connection. Peers
 * are only appended while the client lives, so the first n stay put. */
static void tend_links(dtx_client *c)
{
	size_t n;

	pthread_mutex_lock(&c->mu);
	n = c->npeers;
	pthread_mutex_unlock(&c->mu);
	sdk_link_tend(c->link);
	for (size_t i = 0; i < n; i++)
		sdk_link_tend(c->peers[i]);
}

/* close_links closes every socket of c: the calls that can hang in nng
 * 1.5.2, run here so that dtx_client_close can bound its wait. */
static void close_links(dtx_client *c)
{
	sdk_link_close_socket(c->link);
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
	if (rv == DTX_OK)
		rv = sdk_link_open(url, c->max_msg, &c->link);
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
		free(r);
	}
	sdk_link_free(c->link);
	for (size_t i = 0; i < c->npeers; i++)
		sdk_link_free(c->peers[i]);
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
		sdk_link_close_socket(client->link);
		client_free(client);
		return;
	}
	if (!wait_closed(client)) {
		sdk_logf(DTX_LOG_ERROR,
		         "client: %s: close gave up after %d ms: nng_close "
		         "did not return (nng 1.5.2's stuck reaper); the "
		         "client's sockets and memory are left to the process",
		         sdk_link_url(client->link), CLOSE_MS);
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
	if (r != NULL && r->aio != NULL && c->npool < POOL_MAX) {
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

/* decode_reply turns msg (borrowed) into a new dtx_tx_info transferred to
 * the caller in *ret_info. Errors: the coordinator's code, DTX_EPROTO,
 * DTX_EVERSION, DTX_ENOMEM. */
static int decode_reply(nng_msg *msg, dtx_tx_info **ret_info)
{
	Dtx__V1__ClientReply *rep;
	dtx_tx_info *info = NULL;
	char why[256];
	int rv;

	rv = wire_client_reply_decode(nng_msg_body(msg), nng_msg_len(msg), &rep,
	                              why, sizeof(why));
	if (rv != DTX_OK) {
		sdk_logf(DTX_LOG_WARN, "client: bad reply: %s", why);
		return rv == DTX_ENOMEM || rv == DTX_EVERSION ? rv : DTX_EPROTO;
	}
	rv = reply_code(rep);
	if (rv == DTX_OK && (info = malloc(sizeof(*info))) == NULL)
		rv = DTX_ENOMEM;
	if (rv == DTX_OK) {
		fill_info(info, rep);
		*ret_info = info;
	}
	wire_client_reply_free(rep);
	return rv;
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
	if (r->raw != NULL)
		r->raw(r->arg, err, err == DTX_OK ? rep : NULL);
	else
		r->done(r->arg, err, err == DTX_OK ? info : NULL);
	nng_ctx_close(r->ctx);
	release(c, r);
}

/* transport_error tells r's link that r ended without an answer (rv, a
 * translated nng error) and returns the error the application gets:
 * never sent for want of a connection, or the connection lost before the
 * answer, is DTX_EUNREACHABLE; sent and not answered in time is
 * DTX_ETIMEDOUT. */
static int transport_error(request *r, int rv)
{
	sdk_link *l = r->client->link;

	sdk_link_ended(l, r->mark, rv);
	if (rv == DTX_ETIMEDOUT && r->sending && !sdk_link_is_up(l))
		rv = DTX_EUNREACHABLE;
	if (rv == DTX_EUNREACHABLE)
		sdk_logf(DTX_LOG_INFO, "client: coordinator unreachable: %s %s",
		         r->sending ? "no connection to"
		                    : "connection lost before the answer from",
		         sdk_link_url(l));
	else if (rv == DTX_ETIMEDOUT)
		sdk_logf(DTX_LOG_DEBUG, "client: %s: deadline passed",
		         sdk_link_url(l));
	return rv;
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
		finish(r, rv, NULL, NULL);
		return;
	}
	r->sending = false;
	nng_aio_set_timeout(
	        r->aio,
	        now >= r->deadline ? 1 : (nng_duration)(r->deadline - now));
	nng_ctx_recv(r->ctx, r->aio);
}

/* on_raw_reply hands the validated reply itself to a raw request. */
static void on_raw_reply(request *r, nng_msg *msg)
{
	Dtx__V1__ClientReply *rep = NULL;
	char why[256];
	int rv = wire_client_reply_decode(nng_msg_body(msg), nng_msg_len(msg),
	                                  &rep, why, sizeof(why));

	if (rv != DTX_OK) {
		sdk_logf(DTX_LOG_WARN, "client: bad reply: %s", why);
		rv = rv == DTX_ENOMEM || rv == DTX_EVERSION ? rv : DTX_EPROTO;
	}
	finish(r, rv, NULL, rep);
	if (rep != NULL)
		wire_client_reply_free(rep);
}

static void on_reply(request *r, int rv)
{
	dtx_tx_info *info = NULL;
	nng_msg *msg;

	if (rv == DTX_OK) {
		msg = nng_aio_get_msg(r->aio);
		nng_aio_set_msg(r->aio, NULL);
		if (r->raw != NULL) {
			on_raw_reply(r, msg);
			nng_msg_free(msg);
			return;
		}
		rv = decode_reply(msg, &info);
		nng_msg_free(msg);
	}
	finish(r, rv, info, NULL);
	free(info);
}

static void request_cb(void *arg)
{
	request *r = arg;
	int rv = sdk_err_from_nng(nng_aio_result(r->aio));

	if (rv == DTX_OK && !r->sending)
		sdk_link_ended(r->client->link, r->mark, DTX_OK);
	else if (rv != DTX_OK && rv != DTX_ECLOSED)
		rv = transport_error(r, rv);
	if (r->sending)
		on_request_sent(r, rv);
	else
		on_reply(r, rv);
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
	if ((rv = sdk_err_from_nng(nng_aio_alloc(&r->aio, request_cb, r))) !=
	    DTX_OK) {
		r->aio = NULL;
		release(c, r);
		return rv;
	}
	*ret_r = r;
	return DTX_OK;
}

/* request_begin sends msg (transferred on success) as a new request whose
 * completion calls done(arg, ...). Errors: DTX_ECLOSED, DTX_ELIMIT,
 * DTX_ENOMEM (done then never runs). */
static int request_begin(dtx_client *c, nng_msg *msg, unsigned wait_ms,
                         dtx_done_fn done, sdk_reply_fn raw, void *arg)
{
	nng_duration ms = budget(c, wait_ms);
	request *r;
	int rv;

	if ((rv = request_get(c, &r)) != DTX_OK)
		return rv;
	rv = sdk_err_from_nng(nng_ctx_open(&r->ctx, sdk_link_socket(c->link)));
	if (rv != DTX_OK) {
		release(c, r);
		return rv;
	}
	r->client = c;
	r->sending = true;
	r->mark = sdk_link_mark(c->link);
	r->done = done;
	r->raw = raw;
	r->arg = arg;
	r->deadline = nng_clock() + (nng_time)ms;
	nng_aio_set_timeout(r->aio, ms);
	nng_aio_set_msg(r->aio, msg);
	nng_ctx_send(r->ctx, r->aio);
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

/* send_any packs req (borrowed) and starts it with done or raw. */
static int send_any(dtx_client *c, const Dtx__V1__ClientRequest *req,
                    unsigned wait_ms, dtx_done_fn done, sdk_reply_fn raw,
                    void *arg)
{
	nng_msg *msg = NULL;
	int rv = pack_request(c, req, &msg);

	if (rv != DTX_OK)
		return rv;
	rv = request_begin(c, msg, wait_ms, done, raw, arg);
	if (rv != DTX_OK)
		nng_msg_free(msg);
	return rv;
}

static int send_request(dtx_client *c, const Dtx__V1__ClientRequest *req,
                        unsigned wait_ms, dtx_done_fn done, void *arg)
{
	return send_any(c, req, wait_ms, done, NULL, arg);
}

int sdk_client_send(dtx_client *c, Dtx__V1__ClientRequest *req,
                    unsigned wait_ms, dtx_done_fn done, void *arg)
{
	req->has_version = 1;
	req->version = DTX__V1__VERSION__VERSION_1;
	req->has_wait_ms = 1;
	req->wait_ms = wait_ms;
	return send_any(c, req, wait_ms, done, NULL, arg);
}

int sdk_client_send_raw(dtx_client *c, Dtx__V1__ClientRequest *req,
                        sdk_reply_fn raw, void *arg)
{
	req->has_version = 1;
	req->version = DTX__V1__VERSION__VERSION_1;
	return send_any(c, req, 0, NULL, raw, arg);
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

int dtx_client_final_gids(dtx_client *client, const char *const *gids, size_t n,
                          int64_t *ret_final_ms)
{
	Dtx__V1__ClientRequest req = DTX__V1__CLIENT_REQUEST__INIT;
	Dtx__V1__FinalQuery q = DTX__V1__FINAL_QUERY__INIT;
	finals_ctx f = {.gids = gids, .n = n, .ret_final_ms = ret_final_ms};
	dtx_tx_info unused;
	int rv;

	if (client == NULL || gids == NULL || n == 0 || ret_final_ms == NULL)
		return DTX_EINVAL;
	if (n > WIRE_FINAL_QUERY_MAX)
		return DTX_ETOOBIG;
	for (size_t i = 0; i < n; i++) {
		if (gids[i] == NULL ||
		    !wire_name_is_valid(gids[i], DTX_GID_MAX))
			return DTX_EINVAL;
	}
	q.n_gids = n;
	q.gids = (char **)gids; /* only read while packing */
	req.body_case = DTX__V1__CLIENT_REQUEST__BODY_FINAL_QUERY;
	req.final_query = &q;
	if ((rv = waiter_init(&f.w, &unused)) != DTX_OK)
		return rv;
	rv = sdk_client_send_raw(client, &req, finals_done, &f);
	return waiter_finish(&f.w, rv);
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
		rv = sdk_link_open(url, c->max_msg, &c->peers[c->npeers]);
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
	nng_ctx_close(ctx);
	nng_aio_free(aio);
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
