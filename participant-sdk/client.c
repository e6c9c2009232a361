/*
 * client.c - the initiator side: submits sagas and TCC transactions to the
 * coordinator and queries transactions, over one nng req0 socket; and calls
 * Tries on participants for initiator-driven TCC (one req0 socket per
 * participant URL, dialled on first use).
 *
 * Owns the socket and every request in flight. A request is a small heap
 * object with its own req0 context and aio, freed after its callback ran:
 *
 *   request_begin --send--> SENDING --sent--> RECEIVING --reply--> finish
 *                              |                  |
 *                              `--error/timeout---+----------> finish
 *
 * finish calls the application's done callback exactly once, then closes
 * the context, hands the aio to nng's reaper (it cannot be freed from its
 * own callback) and frees the request.
 *
 * Resends: nng's REQ resend timer is disabled (NNG_DURATION_INFINITE). A
 * saga without a gid is not idempotent (the coordinator makes a new gid for
 * every copy it receives), so a transport resend could start it twice. The
 * whole request instead has one deadline, opts.timeout_ms + wait_ms, for
 * send and reply together; past it the callback gets DTX_ETIMEDOUT and the
 * application decides whether to submit again (safe with a gid).
 *
 * Never packs protobuf itself except through wire.h, never prints, never
 * blocks on nng's threads.
 *
 * Threads: every dtx_client_* call except close may run on many threads at
 * once; callbacks run on nng's threads. The client's mutex guards the
 * count of requests in flight, the closing flag and the peer table.
 */
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

#include "sdk.h"

#define TIMEOUT_DEFAULT_MS 30000
#define OUTSTANDING_MAX    65536 /* requests in flight per client */
#define MSG_MIN            4096  /* smallest max_msg_bytes accepted */
#define PEERS_MAX          256   /* participant URLs one client calls */

/* A participant the client calls Tries on (initiator-driven TCC). */
typedef struct peer {
	char *url; /* owned */
	nng_socket sock;
} peer;

struct dtx_client {
	nng_socket sock;
	bool sock_open;
	unsigned timeout_ms;
	size_t max_msg;
	bool sync_init; /* mu and cv are initialised */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned outstanding;  /* guarded by mu */
	bool closing;          /* guarded by mu */
	peer peers[PEERS_MAX]; /* guarded by mu; sockets live until close */
	size_t npeers;
};

typedef struct request {
	dtx_client *client; /* retained: outlives every request (close waits) */
	nng_ctx ctx;        /* owned */
	nng_aio *aio;       /* owned; reaped, not freed */
	bool sending;       /* the pending operation is the send */
	nng_time deadline;  /* nng_clock() value that ends the request */
	dtx_done_fn done;   /* either this (a transaction's info) ... */
	sdk_reply_fn raw;   /* ... or this (the whole validated reply) */
	void *arg;          /* retained for the application */
} request;

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
	if (pthread_mutex_init(&c->mu, NULL) != 0)
		return DTX_ENOMEM;
	if (pthread_cond_init(&c->cv, NULL) != 0) {
		pthread_mutex_destroy(&c->mu);
		return DTX_ENOMEM;
	}
	c->sync_init = true;
	return DTX_OK;
}

/* client_connect opens c's socket, sets its limits and dials url (borrowed)
 * without waiting: nng connects in the background and reconnects. */
static int client_connect(dtx_client *c, const char *url)
{
	int rv = nng_req0_open(&c->sock);

	if (rv != 0)
		return sdk_err_from_nng(rv);
	c->sock_open = true;
	rv = nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, c->max_msg);
	if (rv == 0)
		rv = nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME,
		                       NNG_DURATION_INFINITE);
	if (rv == 0)
		rv = nng_dial(c->sock, url, NULL, NNG_FLAG_NONBLOCK);
	return sdk_err_from_nng(rv);
}

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
		rv = client_connect(c, url);
	if (rv != DTX_OK) {
		dtx_client_close(c);
		return rv;
	}
	*ret_client = c;
	return DTX_OK;
}

/* dtx_client_close must not run concurrently with other calls on client,
 * nor from one of its done callbacks (it waits for them). */
void dtx_client_close(dtx_client *client)
{
	if (client == NULL)
		return;
	if (client->sync_init) {
		pthread_mutex_lock(&client->mu);
		client->closing = true;
		pthread_mutex_unlock(&client->mu);
	}
	/* every pending request now completes with ECLOSED */
	if (client->sock_open)
		nng_close(client->sock);
	for (size_t i = 0; i < client->npeers; i++) {
		nng_close(client->peers[i].sock);
		free(client->peers[i].url);
	}
	if (client->sync_init) {
		pthread_mutex_lock(&client->mu);
		while (client->outstanding > 0)
			pthread_cond_wait(&client->cv, &client->mu);
		pthread_mutex_unlock(&client->mu);
		pthread_cond_destroy(&client->cv);
		pthread_mutex_destroy(&client->mu);
	}
	free(client);
}

/* ---- admission: bounded requests in flight ----------------------------- */

static int admit(dtx_client *c)
{
	int rv = DTX_OK;

	pthread_mutex_lock(&c->mu);
	if (c->closing)
		rv = DTX_ECLOSED;
	else if (c->outstanding >= OUTSTANDING_MAX)
		rv = DTX_ELIMIT;
	else
		c->outstanding++;
	pthread_mutex_unlock(&c->mu);
	return rv;
}

/* release ends one admitted request. The last touch of c by a request:
 * dtx_client_close may free c as soon as the lock is dropped. */
static void release(dtx_client *c)
{
	pthread_mutex_lock(&c->mu);
	c->outstanding--;
	if (c->outstanding == 0)
		pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
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

/* finish completes r (owned; freed here) with err and info (borrowed, only
 * read when err is DTX_OK). */
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
	nng_aio_reap(r->aio);
	free(r);
	release(c);
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

/* request_begin sends msg (transferred on success) as a new request whose
 * completion calls done(arg, ...). Errors: DTX_ECLOSED, DTX_ELIMIT,
 * DTX_ENOMEM (done then never runs). */
static int request_begin(dtx_client *c, nng_msg *msg, unsigned wait_ms,
                         dtx_done_fn done, sdk_reply_fn raw, void *arg)
{
	nng_duration ms = budget(c, wait_ms);
	request *r;
	int rv;

	if ((rv = admit(c)) != DTX_OK)
		return rv;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		release(c);
		return DTX_ENOMEM;
	}
	rv = sdk_err_from_nng(nng_aio_alloc(&r->aio, request_cb, r));
	if (rv == DTX_OK &&
	    (rv = sdk_err_from_nng(nng_ctx_open(&r->ctx, c->sock))) != DTX_OK)
		nng_aio_free(r->aio);
	if (rv != DTX_OK) {
		free(r);
		release(c);
		return rv;
	}
	r->client = c;
	r->sending = true;
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

/* peer_socket returns the socket dialled to url (borrowed), dialling it on
 * first use. Errors: DTX_ELIMIT (PEERS_MAX URLs), DTX_ECLOSED, DTX_ENOMEM,
 * DTX_EINVAL / DTX_EUNREACHABLE (a URL nng refuses). */
static int peer_socket(dtx_client *c, const char *url, nng_socket *ret_sock)
{
	peer *p;
	int rv = DTX_OK;

	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->npeers; i++) {
		if (strcmp(c->peers[i].url, url) == 0) {
			*ret_sock = c->peers[i].sock;
			goto out;
		}
	}
	if (c->closing) {
		rv = DTX_ECLOSED;
		goto out;
	}
	if (c->npeers == PEERS_MAX) {
		rv = DTX_ELIMIT;
		goto out;
	}
	p = &c->peers[c->npeers];
	if ((p->url = strdup(url)) == NULL) {
		rv = DTX_ENOMEM;
		goto out;
	}
	rv = sdk_err_from_nng(nng_req0_open(&p->sock));
	if (rv == DTX_OK)
		rv = sdk_err_from_nng(nng_socket_set_size(
		        p->sock, NNG_OPT_RECVMAXSZ, c->max_msg));
	if (rv == DTX_OK) /* the initiator decides every resend */
		rv = sdk_err_from_nng(nng_socket_set_ms(p->sock,
		                                        NNG_OPT_REQ_RESENDTIME,
		                                        NNG_DURATION_INFINITE));
	if (rv == DTX_OK)
		rv = sdk_err_from_nng(
		        nng_dial(p->sock, url, NULL, NNG_FLAG_NONBLOCK));
	if (rv != DTX_OK) {
		nng_close(p->sock);
		free(p->url);
		goto out;
	}
	c->npeers++;
	*ret_sock = p->sock;
out:
	pthread_mutex_unlock(&c->mu);
	return rv;
}

/* exchange sends msg (transferred) on a new context of sock and waits up
 * to timeout_ms for the answer (transferred to the caller). */
static int exchange(nng_socket sock, nng_msg *msg, unsigned timeout_ms,
                    nng_msg **ret_msg)
{
	nng_ctx ctx;
	nng_aio *aio;
	int rv = nng_aio_alloc(&aio, NULL, NULL);

	if (rv != 0) {
		nng_msg_free(msg);
		return sdk_err_from_nng(rv);
	}
	if ((rv = nng_ctx_open(&ctx, sock)) != 0) {
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
		nng_ctx_recv(ctx, aio);
		nng_aio_wait(aio);
		if ((rv = nng_aio_result(aio)) == 0)
			*ret_msg = nng_aio_get_msg(aio);
	}
	nng_ctx_close(ctx);
	nng_aio_free(aio);
	return sdk_err_from_nng(rv);
}

int sdk_client_branch_call(dtx_client *c, const char *url,
                           const Dtx__V1__BranchCall *call, unsigned timeout_ms,
                           Dtx__V1__BranchReply **ret_reply)
{
	size_t len = wire_packed_size(&call->base);
	nng_socket sock;
	nng_msg *msg, *answer = NULL;
	char why[256];
	int rv;

	if (len > c->max_msg)
		return DTX_ETOOBIG;
	if ((rv = peer_socket(c, url, &sock)) != DTX_OK)
		return rv;
	if ((rv = nng_msg_alloc(&msg, len)) != 0)
		return sdk_err_from_nng(rv);
	wire_pack(&call->base, nng_msg_body(msg));
	if ((rv = exchange(sock, msg, timeout_ms, &answer)) != DTX_OK)
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
