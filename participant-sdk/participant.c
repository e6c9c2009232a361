/*
 * participant.c - the participant server: serves branch calls from the
 * coordinator on one nng rep0 socket.
 *
 * Owns the socket, a fixed pool of work items (one rep0 context + aio each,
 * as in nng's demo/async/server.c), the worker threads and the hand-off
 * queue between them. Never allocates per call except the reply nng_msg,
 * never prints (diagnostics go to sdk_logf), and never runs a handler on
 * one of nng's threads (handlers may block).
 *
 * Life of a work item:
 *
 *   RECV --(call received, nng thread)--> RUN --(worker answered)--> SEND
 *    ^  \                                  |                          |
 *    |   `-- socket closed: item stops     `-- no reply (out of memory)|
 *    |                                         back to RECV           |
 *    `--------------------(reply sent or failed, nng thread)----------'
 *
 *   state  who owns the item               invariant
 *   RECV   nng (a recv is pending)          item->msg == NULL
 *   RUN    the queue, then one worker       item->msg is the received call
 *   SEND   nng (a send is pending)          item->msg == NULL
 *
 * How each incoming message is treated (every message gets an answer, so
 * the sender never waits out its deadline for nothing):
 *   - not a BranchCall at all (garbage, nested too deep, a bad batch
 *     envelope: a batch of 1 or of more than WIRE_BATCH_MAX, a batch
 *     inside a batch), or a BranchCall that fails validation (bad version,
 *     name, size, attempt 0, unknown op...): answered with one BranchReply
 *     FAIL "invalid call: <reason>" (a bad call inside a valid batch is
 *     answered so in its place, the others are served);
 *   - out of memory while decoding: answered RETRY;
 *   - unknown handler: answered FAIL with "unknown handler: <name>" and
 *     cause BRANCH_UNKNOWN_HANDLER (the coordinator flags a compensate,
 *     confirm or cancel for an operator at once);
 *   - handler returns OK/FAIL/RETRY: answered with it, its message and
 *     result; any other value: answered RETRY "handler returned invalid
 *     status" and logged;
 *   - with a store (dtx_participant_set_store), a known handler's call
 *     goes through the barrier (barrier.c) instead, which decides whether
 *     the handler runs and records the answer;
 *   - larger than max_msg_bytes: nng's transport refuses it and closes
 *     that connection (nng does not tell us, so it is not logged).
 *
 * With dtx_participant_set_barrier_gc, a GC thread (barrier_gc.c) runs
 * beside the workers from start to teardown. The listener is made and
 * watched by a guard (common/lguard.h): nng 1.5.2 stops a listener for
 * good when a peer closes during the handshake; the guard listens again.
 *
 * Threads: work_cb runs on nng's threads and only moves items between the
 * queue and nng; handlers run on the `workers` threads; the queue's mutex is
 * the only lock (the counters are atomics). create/register/set_store/
 * set_barrier_gc/start/destroy are called by one thread.
 */
#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/tls/tls.h>

#include "lguard.h"
#include "sdk.h"

#define WORKERS_DEFAULT  4
#define CONTEXTS_DEFAULT 64
#define WORKERS_MAX      1024
#define CONTEXTS_MAX     65536
#define HANDLERS_MAX     4096
#define MSG_MIN          4096       /* smallest max_msg_bytes accepted */
#define MSG_MAX          (1u << 30) /* largest max_msg_bytes accepted */
#define REPLY_HEADROOM   (WIRE_MESSAGE_MAX + 64) /* reply minus its result */
#define BATCH_MSGS       64   /* messages one worker serves together */
#define CLOSE_MS         5000 /* nng_close gets this long, at most */

#define TOLERANCE_MAX_MS 86400000u /* deadline tolerance: one day */

typedef enum work_state {
	WORK_RECV,
	WORK_RUN,
	WORK_SEND,
	WORK_STATE_COUNT
} work_state;

typedef struct work {
	dtx_participant *part; /* retained: the owner of this item */
	nng_aio *aio;          /* owned */
	nng_ctx ctx;           /* owned; closed with the socket */
	work_state state;
	nng_msg *msg; /* owned in RUN: the call being served */
} work;

typedef struct handler {
	char *name; /* owned */
	dtx_handler_fn fn;
	void *arg; /* retained for the application */
} handler;

typedef struct batch batch;

/* run_ctx - a handler bound to its participant, for the barrier. */
typedef struct run_ctx {
	dtx_participant *part; /* borrowed */
	const handler *h;      /* borrowed */
} run_ctx;

struct dtx_participant {
	char *url; /* owned */
	unsigned nworkers;
	unsigned ncontexts;
	size_t max_msg;
	wire_limits limits;
	handler *handlers; /* owned, sorted by name */
	size_t nhandlers;
	size_t hcap;
	bool started;
	dtx_store *store; /* retained; NULL: handlers run without a barrier */
	sdk_gc *gc;       /* owned; NULL: no barrier GC thread */
	unsigned tolerance_ms; /* deadline tolerance (clock skew) */

	_Atomic uint64_t calls;                   /* valid calls received */
	_Atomic uint64_t commits;                 /* group commits */
	_Atomic uint64_t messages;                /* requests received */
	_Atomic uint64_t outcomes[SDK_OUT_COUNT]; /* what became of them */

	nng_socket sock;
	bool sock_open;
	lguard *guard;       /* owned: keeps the listener accepting */
	nng_tls_config *tls; /* owned; NULL: no TLS (outlives the socket) */
	/* the TLS settings, copied for the barrier GC's client; its
	 * strings owned (tls_set: opts->tls was given) */
	dtx_tls_opts tls_opts;
	bool tls_set;
	work *items; /* owned: ncontexts items, the first nitems built */
	unsigned nitems;
	pthread_t *threads; /* owned: the first nthreads are running */
	batch *batches;     /* owned: one per worker thread */
	unsigned nthreads;

	bool sync_init; /* mu, cv and leader_cv are initialised */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_cond_t leader_cv; /* a group's leader left (worker_main) */
	unsigned leaders_max;     /* groups at once: the store's, <= workers */
	unsigned leaders;         /* guarded by mu: groups being served */
	work **ring;              /* owned: ncontexts slots; guarded by mu */
	unsigned head;
	unsigned count;
	bool stopping; /* guarded by mu: workers exit */
	bool leaked;   /* nng_close did not return: part is left alone */
};

static void work_cb(void *arg);

/* msg_free frees msg (owned), accepting NULL. */
static void msg_free(nng_msg *msg)
{
	if (msg != NULL)
		nng_msg_free(msg);
}

/* ---- options and creation ---------------------------------------------- */

void dtx_participant_opts_init(dtx_participant_opts *opts)
{
	if (opts == NULL)
		return;
	memset(opts, 0, sizeof(*opts));
	opts->workers = WORKERS_DEFAULT;
	opts->contexts = CONTEXTS_DEFAULT;
	opts->max_msg_bytes = DTX_MSG_MAX_DEFAULT;
}

static bool opts_are_valid(const dtx_participant_opts *opts)
{
	size_t url_len;

	if (opts == NULL || opts->url == NULL)
		return false;
	url_len = strnlen(opts->url, DTX_URL_MAX + 1);
	return url_len > 0 && url_len <= DTX_URL_MAX && opts->workers > 0 &&
	       opts->workers <= WORKERS_MAX && opts->contexts > 0 &&
	       opts->contexts <= CONTEXTS_MAX &&
	       opts->max_msg_bytes >= MSG_MIN && opts->max_msg_bytes <= MSG_MAX;
}

/* sync_init initialises part's queue lock and its conditions. */
static int sync_init(dtx_participant *part)
{
	if (pthread_mutex_init(&part->mu, NULL) != 0)
		return DTX_ENOMEM;
	if (pthread_cond_init(&part->cv, NULL) != 0) {
		pthread_mutex_destroy(&part->mu);
		return DTX_ENOMEM;
	}
	if (pthread_cond_init(&part->leader_cv, NULL) != 0) {
		pthread_cond_destroy(&part->cv);
		pthread_mutex_destroy(&part->mu);
		return DTX_ENOMEM;
	}
	part->sync_init = true;
	return DTX_OK;
}

/* dup_or_null copies s (NULL stays NULL) into *ret; false: no memory. */
static bool dup_or_null(const char *s, const char **ret)
{
	*ret = s != NULL ? strdup(s) : NULL;
	return s == NULL || *ret != NULL;
}

/* copy_tls keeps a copy of the TLS settings for the barrier GC's client
 * (dtx_participant_set_barrier_gc comes after create). */
static int copy_tls(dtx_participant *part, const dtx_tls_opts *o)
{
	dtx_tls_opts *c = &part->tls_opts;

	part->tls_set = true;
	c->require_client_cert = o->require_client_cert;
	if (!dup_or_null(o->cert_file, &c->cert_file) ||
	    !dup_or_null(o->key_file, &c->key_file) ||
	    !dup_or_null(o->key_passphrase, &c->key_passphrase) ||
	    !dup_or_null(o->ca_file, &c->ca_file))
		return DTX_ENOMEM;
	return DTX_OK;
}

static void free_tls_copy(dtx_participant *part)
{
	free((char *)part->tls_opts.cert_file);
	free((char *)part->tls_opts.key_file);
	if (part->tls_opts.key_passphrase != NULL)
		memset((char *)part->tls_opts.key_passphrase, 0,
		       strlen(part->tls_opts.key_passphrase));
	free((char *)part->tls_opts.key_passphrase);
	free((char *)part->tls_opts.ca_file);
}

int dtx_participant_create(const dtx_participant_opts *opts,
                           dtx_participant **ret_part)
{
	dtx_participant *part;
	int rv;

	if (ret_part == NULL || !opts_are_valid(opts))
		return DTX_EINVAL;
	part = calloc(1, sizeof(*part));
	if (part == NULL)
		return DTX_ENOMEM;
	part->nworkers = opts->workers;
	part->ncontexts = opts->contexts;
	part->max_msg = opts->max_msg_bytes;
	part->limits.max_steps = WIRE_MAX_STEPS_DEFAULT;
	part->limits.max_payload = opts->max_msg_bytes;
	part->tolerance_ms = DTX_DEADLINE_TOLERANCE_MS_DEFAULT;
	part->url = strdup(opts->url);
	rv = part->url == NULL ? DTX_ENOMEM : sync_init(part);
	if (rv == DTX_OK)
		rv = sdk_tls_load(opts->tls, true, "participant", opts->url,
		                  &part->tls);
	if (rv == DTX_OK && opts->tls != NULL)
		rv = copy_tls(part, opts->tls);
	if (rv != DTX_OK) {
		dtx_participant_destroy(part);
		return rv;
	}
	*ret_part = part;
	return DTX_OK;
}

/* ---- handler table ----------------------------------------------------- */

static int handler_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const handler *)elem)->name);
}

/* lookup returns the handler named name (borrowed) or NULL. */
static const handler *lookup(const dtx_participant *part, const char *name)
{
	if (name == NULL || part->nhandlers == 0)
		return NULL;
	return bsearch(name, part->handlers, part->nhandlers, sizeof(handler),
	               handler_cmp);
}

/* insert_pos returns where name belongs in the sorted table, or -1 if it is
 * already there. */
static long insert_pos(const dtx_participant *part, const char *name)
{
	size_t i;
	int c;

	for (i = 0; i < part->nhandlers; i++) {
		c = strcmp(name, part->handlers[i].name);
		if (c == 0)
			return -1;
		if (c < 0)
			break;
	}
	return (long)i;
}

/* reserve_handler makes room for one more handler. */
static int reserve_handler(dtx_participant *part)
{
	size_t ncap;
	handler *nh;

	if (part->nhandlers >= HANDLERS_MAX)
		return DTX_ELIMIT;
	if (part->nhandlers < part->hcap)
		return DTX_OK;
	ncap = part->hcap ? part->hcap * 2 : 8;
	nh = realloc(part->handlers, ncap * sizeof(*nh));
	if (nh == NULL)
		return DTX_ENOMEM;
	part->handlers = nh;
	part->hcap = ncap;
	return DTX_OK;
}

int dtx_participant_register(dtx_participant *part, const char *name,
                             dtx_handler_fn fn, void *arg)
{
	handler h = {.fn = fn, .arg = arg};
	long pos;
	int rv;

	if (part == NULL || name == NULL || fn == NULL || part->started)
		return DTX_EINVAL;
	if (strnlen(name, DTX_HANDLER_MAX + 1) > DTX_HANDLER_MAX)
		return DTX_ETOOBIG;
	if (!wire_name_is_valid(name, DTX_HANDLER_MAX))
		return DTX_EINVAL;
	if ((pos = insert_pos(part, name)) < 0)
		return DTX_ELIMIT;
	if ((rv = reserve_handler(part)) != DTX_OK)
		return rv;
	if ((h.name = strdup(name)) == NULL)
		return DTX_ENOMEM;
	memmove(&part->handlers[pos + 1], &part->handlers[pos],
	        (part->nhandlers - (size_t)pos) * sizeof(handler));
	part->handlers[pos] = h;
	part->nhandlers++;
	return DTX_OK;
}

int dtx_participant_set_barrier_gc(dtx_participant *part,
                                   const char *coordinator_url,
                                   unsigned grace_ms, unsigned interval_ms)
{
	sdk_gc *gc;
	int rv;

	if (part == NULL || coordinator_url == NULL || part->started)
		return DTX_EINVAL;
	rv = sdk_gc_create(coordinator_url,
	                   part->tls_set ? &part->tls_opts : NULL, grace_ms,
	                   interval_ms, &gc);
	if (rv != DTX_OK)
		return rv;
	sdk_gc_destroy(part->gc);
	part->gc = gc;
	return DTX_OK;
}

int dtx_participant_set_deadline_tolerance(dtx_participant *part,
                                           unsigned tolerance_ms)
{
	if (part == NULL || part->started || tolerance_ms > TOLERANCE_MAX_MS)
		return DTX_EINVAL;
	part->tolerance_ms = tolerance_ms;
	return DTX_OK;
}

int dtx_participant_set_store(dtx_participant *part, dtx_store *store)
{
	if (part == NULL || store == NULL || part->started ||
	    sdk_store_is_read_only(store))
		return DTX_EINVAL;
	part->store = store;
	return DTX_OK;
}

/* ---- statistics -------------------------------------------------------- */

static void count(dtx_participant *part, sdk_outcome out)
{
	atomic_fetch_add_explicit(&part->outcomes[out], 1,
	                          memory_order_relaxed);
}

static uint64_t counter(const _Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

void dtx_participant_get_stats(const dtx_participant *part,
                               dtx_participant_stats *ret_stats)
{
	if (part == NULL || ret_stats == NULL)
		return;
	ret_stats->calls = counter(&part->calls);
	ret_stats->applied = counter(&part->outcomes[SDK_OUT_APPLIED]);
	ret_stats->replayed = counter(&part->outcomes[SDK_OUT_REPLAYED]);
	ret_stats->null_compensations =
	        counter(&part->outcomes[SDK_OUT_NULL_COMP]);
	ret_stats->late_refused =
	        counter(&part->outcomes[SDK_OUT_LATE_REFUSED]);
	ret_stats->retries = counter(&part->outcomes[SDK_OUT_RETRY]);
	ret_stats->commits = counter(&part->commits);
	ret_stats->messages = counter(&part->messages);
	sdk_gc_get_stats(part->gc, &ret_stats->barrier_gc_removed,
	                 &ret_stats->barrier_gc_failures);
}

/* ---- the hand-off queue (nng threads -> workers) ----------------------- */

/* queue_push hands w (RUN, owned by the queue from now) to the workers.
 * Never blocks for long: the ring has a slot for every item. */
static void queue_push(dtx_participant *part, work *w)
{
	pthread_mutex_lock(&part->mu);
	assert(part->count < part->ncontexts);
	part->ring[(part->head + part->count) % part->ncontexts] = w;
	part->count++;
	pthread_cond_signal(&part->cv);
	pthread_mutex_unlock(&part->mu);
}

/* queue_pop waits for an item (transferred to the caller), or returns NULL
 * once the participant is stopping. */
static work *queue_pop(dtx_participant *part)
{
	work *w = NULL;

	pthread_mutex_lock(&part->mu);
	while (part->count == 0 && !part->stopping)
		pthread_cond_wait(&part->cv, &part->mu);
	if (!part->stopping) {
		w = part->ring[part->head];
		part->head = (part->head + 1) % part->ncontexts;
		part->count--;
	}
	pthread_mutex_unlock(&part->mu);
	return w;
}

/* queue_try_pop is queue_pop that does not wait: NULL if none is queued. */
static work *queue_try_pop(dtx_participant *part)
{
	work *w = NULL;

	pthread_mutex_lock(&part->mu);
	if (part->count > 0 && !part->stopping) {
		w = part->ring[part->head];
		part->head = (part->head + 1) % part->ncontexts;
		part->count--;
	}
	pthread_mutex_unlock(&part->mu);
	return w;
}

/* ---- serving one call (worker threads) --------------------------------- */

/* run_handler runs h (borrowed) for call (borrowed, decoded) and returns
 * the status to answer. */
static dtx_status run_handler(dtx_participant *part, const handler *h,
                              dtx_call *call)
{
	static const char *const status_names[] = {[DTX_STATUS_OK] = "OK",
	                                           [DTX_STATUS_FAIL] = "FAIL",
	                                           [DTX_STATUS_RETRY] =
	                                                   "RETRY"};
	dtx_status st = h->fn(h->arg, call);
	dtx_log_record about;

	sdk_call_about(call, &about);
	if (st == DTX_STATUS_OK || st == DTX_STATUS_FAIL ||
	    st == DTX_STATUS_RETRY) {
		sdk_log_about(DTX_LOG_DEBUG, &about,
		              "participant %s: ran %s, attempt %u: %s",
		              part->url, h->name, dtx_call_attempt(call),
		              status_names[st]);
		return st;
	}
	sdk_log_about(DTX_LOG_ERROR, &about,
	              "participant %s: handler %s returned %d", part->url,
	              h->name, (int)st);
	dtx_call_set_result(call, NULL, 0);
	sdk_call_set_text(call, "handler returned invalid status");
	return DTX_STATUS_RETRY;
}

/* run_cb is run_handler in the shape the barrier calls (arg: run_ctx). */
static dtx_status run_cb(void *arg, dtx_call *call)
{
	const run_ctx *rc = arg;

	return run_handler(rc->part, rc->h, call);
}

/* batch - what one worker serves together: up to BATCH_MSGS received
 * messages (each a call or a batch of calls, dtx.proto) holding up to
 * SDK_GROUP_MAX calls, the barrier's calls in one group commit
 * (sdk_barrier_serve_group). One per worker, allocated at start; the
 * dtx_calls keep their reply buffers from one batch to the next, so a
 * steady load allocates only what protobuf-c and nng do. */
struct batch {
	dtx_participant *part;               /* borrowed: the owner */
	unsigned nw;                         /* messages */
	unsigned n;                          /* calls */
	work *w[BATCH_MSGS];                 /* owned while RUN */
	Dtx__V1__BranchCall *bc[BATCH_MSGS]; /* owned; NULL: did not decode */
	unsigned first[BATCH_MSGS];          /* w[k]'s first call */
	unsigned ncalls[BATCH_MSGS];         /* w[k]'s calls (at least 1) */
	bool batched[BATCH_MSGS];            /* w[k] is a batch */
	dtx_call call[SDK_GROUP_MAX];        /* the worker's */
	dtx_status st[SDK_GROUP_MAX];
	size_t len[SDK_GROUP_MAX]; /* packed size of call i's reply */
	run_ctx rc[SDK_GROUP_MAX];
	sdk_barrier_item item[SDK_GROUP_MAX];
	unsigned item_of[SDK_GROUP_MAX]; /* item index -> call index */
};

/* prepare takes call i of b, decoded as msg (borrowed; NULL when the
 * message failed to decode, rv and why then say why), and answers it at
 * once if it cannot run (invalid: FAIL, or RETRY without memory; unknown
 * handler: FAIL; no store: the handler runs here). Returns true if it must
 * go through the barrier's group (b->rc[i] is then set). */
static bool prepare(dtx_participant *part, batch *b, unsigned i,
                    const Dtx__V1__BranchCall *msg, int rv, const char *why)
{
	dtx_call *call = &b->call[i];
	dtx_log_record about;
	char text[300];

	sdk_call_begin(call, msg);
	if (rv != DTX_OK) {
		snprintf(text, sizeof(text), "invalid call: %s", why);
		sdk_logf(DTX_LOG_WARN, "participant %s: %s", part->url, text);
		sdk_call_set_text(call, text);
		b->st[i] =
		        rv == DTX_ENOMEM ? DTX_STATUS_RETRY : DTX_STATUS_FAIL;
		return false;
	}
	atomic_fetch_add_explicit(&part->calls, 1, memory_order_relaxed);
	sdk_call_about(call, &about);
	if (call->trace_invalid)
		sdk_log_about(DTX_LOG_WARN, &about,
		              "participant %s: the call's traceparent is not "
		              "valid: served without it",
		              part->url);
	b->rc[i] = (run_ctx){part, lookup(part, msg->handler)};
	if (b->rc[i].h == NULL) {
		/* not recorded: deploying the handler later must still work */
		snprintf(text, sizeof(text), "unknown handler: %s",
		         msg->handler);
		sdk_log_about(DTX_LOG_WARN, &about, "participant %s: %s",
		              part->url, text);
		sdk_call_set_text(call, text);
		call->unknown_handler = true;
		b->st[i] = DTX_STATUS_FAIL;
		return false;
	}
	if (part->store != NULL)
		return true;
	b->st[i] = run_handler(part, b->rc[i].h, call);
	count(part,
	      b->st[i] == DTX_STATUS_RETRY ? SDK_OUT_RETRY : SDK_OUT_APPLIED);
	return false;
}

/* add_group puts call i (prepared for the barrier) into b's group. */
static void add_group(batch *b, unsigned i, unsigned *n)
{
	b->item[*n] = (sdk_barrier_item){.call = &b->call[i],
	                                 .run = run_cb,
	                                 .arg = &b->rc[i],
	                                 .tolerance_ms = b->part->tolerance_ms};
	b->item_of[(*n)++] = i;
}

/* take decodes w (RUN, moved into b) and prepares its calls; those for
 * the barrier go into b's group (*n items so far). A message that does
 * not decode is one invalid call, answered FAIL with the reason. */
static void take(dtx_participant *part, batch *b, work *w, unsigned *n)
{
	unsigned k = b->nw++;
	Dtx__V1__BranchCall *bc = NULL;
	char why[256];
	int rv;

	atomic_fetch_add_explicit(&part->messages, 1, memory_order_relaxed);
	b->w[k] = w;
	b->first[k] = b->n;
	b->batched[k] = false;
	rv = wire_branch_calls_decode(nng_msg_body(w->msg), nng_msg_len(w->msg),
	                              &part->limits, &bc, why, sizeof(why));
	b->bc[k] = bc;
	if (rv != DTX_OK || bc->n_batch == 0) {
		b->ncalls[k] = 1;
		if (prepare(part, b, b->n, bc, rv, why))
			add_group(b, b->n, n);
		b->n++;
		return;
	}
	b->batched[k] = true;
	b->ncalls[k] = (unsigned)bc->n_batch;
	for (size_t j = 0; j < bc->n_batch; j++) {
		const Dtx__V1__BranchCall *c = bc->batch[j];

		rv = wire_branch_call_check(c, &part->limits, why, sizeof(why));
		if (prepare(part, b, b->n, c, rv, why))
			add_group(b, b->n, n);
		b->n++;
	}
}

/* pack_reply builds the reply to message k of b into a new nng_msg
 * transferred to the caller in *ret_msg: one BranchReply, or for a batch
 * the replies in order. Errors: DTX_ENOMEM. */
static int pack_reply(batch *b, unsigned k, nng_msg **ret_msg)
{
	Dtx__V1__BranchReply reply;
	unsigned first = b->first[k], n = b->ncalls[k];
	size_t total = b->batched[k] ? wire_batch_head_size() : 0;
	uint8_t *p;
	nng_msg *msg;
	int rv;

	for (unsigned i = first; i < first + n; i++) {
		reply = (Dtx__V1__BranchReply)DTX__V1__BRANCH_REPLY__INIT;
		sdk_call_reply(&b->call[i], b->st[i], &reply);
		b->len[i] = wire_packed_size(&reply.base);
		total += b->len[i];
		if (b->batched[k])
			total += wire_batch_item_head_size(b->len[i]);
	}
	if ((rv = nng_msg_alloc(&msg, total)) != 0)
		return sdk_err_from_nng(rv);
	p = nng_msg_body(msg);
	if (b->batched[k]) {
		wire_batch_head(p);
		p += wire_batch_head_size();
	}
	for (unsigned i = first; i < first + n; i++) {
		reply = (Dtx__V1__BranchReply)DTX__V1__BRANCH_REPLY__INIT;
		sdk_call_reply(&b->call[i], b->st[i], &reply);
		if (b->batched[k])
			p += wire_batch_item_head(p, true, b->len[i]);
		wire_pack(&reply.base, p);
		p += b->len[i];
	}
	*ret_msg = msg;
	return DTX_OK;
}

/* finish sends the reply to message k of b and hands its item back to
 * nng (a reply that cannot be built, out of memory: back to receiving). */
static void finish(batch *b, unsigned k)
{
	work *w = b->w[k];
	nng_msg *reply = NULL;
	int rv = pack_reply(b, k, &reply);

	for (unsigned i = b->first[k]; i < b->first[k] + b->ncalls[k]; i++)
		sdk_call_end(&b->call[i]);
	if (b->bc[k] != NULL)
		wire_branch_call_free(b->bc[k]);
	b->bc[k] = NULL;
	nng_msg_free(w->msg);
	w->msg = NULL;
	if (rv != DTX_OK) {
		w->state = WORK_RECV;
		nng_ctx_recv(w->ctx, w->aio);
		return;
	}
	w->state = WORK_SEND;
	nng_aio_set_msg(w->aio, reply);
	nng_ctx_send(w->ctx, w->aio);
}

/* leader_take waits until fewer than leaders_max groups are being
 * served and counts this worker in; false once the participant stops. */
static bool leader_take(dtx_participant *part)
{
	bool ok;

	pthread_mutex_lock(&part->mu);
	while (part->leaders >= part->leaders_max && !part->stopping)
		pthread_cond_wait(&part->leader_cv, &part->mu);
	ok = !part->stopping;
	if (ok)
		part->leaders++;
	pthread_mutex_unlock(&part->mu);
	return ok;
}

/* leader_give counts a group's leader out and wakes a worker waiting. */
static void leader_give(dtx_participant *part)
{
	pthread_mutex_lock(&part->mu);
	part->leaders--;
	pthread_cond_signal(&part->leader_cv);
	pthread_mutex_unlock(&part->mu);
}

/* serve_batch serves the messages waiting for part, starting with first
 * (RUN, moved in): with a store it takes more while they fit (at most
 * BATCH_MSGS messages, SDK_GROUP_MAX calls), serves the barrier's calls
 * in one group commit, then sends every reply. */
static void serve_batch(dtx_participant *part, batch *b, work *first)
{
	unsigned n = 0;
	work *w = first;

	b->nw = b->n = 0;
	do {
		take(part, b, w, &n);
	} while (part->store != NULL && b->nw < BATCH_MSGS &&
	         b->n + WIRE_BATCH_MAX <= SDK_GROUP_MAX &&
	         (w = queue_try_pop(part)) != NULL);
	if (n > 0 && sdk_barrier_serve_group(part->store, b->item, n))
		atomic_fetch_add_explicit(&part->commits, 1,
		                          memory_order_relaxed);
	if (part->store != NULL)
		leader_give(part); /* see worker_main */
	for (unsigned k = 0; k < n; k++) {
		b->st[b->item_of[k]] = b->item[k].status;
		count(part, b->item[k].out);
	}
	for (unsigned k = 0; k < b->nw; k++)
		finish(b, k);
}

/* worker_main serves messages until the participant stops; arg is the
 * worker's batch (owned by the participant, see start_workers). Handlers
 * without a store may block, so then each worker takes one message at a
 * time.
 *
 * With a store, up to leaders_max workers at a time are a group's leader
 * (the store's groups: 1 on LMDB, whose one writer serialises groups
 * anyway; dtx_store_opts.groups on PostgreSQL, each group on a
 * connection of its own): a leader counts from taking the first message
 * to the group's commit, so the calls that arrive meanwhile wait in the
 * queue and the next leader takes them all. (Taking them before the
 * store's write lock, as more workers would, splits them into small
 * groups queued behind each other: a call then waits for up to one
 * commit per worker.) Replies are sent after the leader counted out,
 * while the next group runs. Calls of one gid in two groups at once are
 * the store's to order (lock_gids). */
static void *worker_main(void *arg)
{
	batch *b = arg;
	dtx_participant *part = b->part;
	work *w;

	for (unsigned i = 0; i < SDK_GROUP_MAX; i++)
		sdk_call_init(&b->call[i], part->max_msg - REPLY_HEADROOM);
	for (;;) {
		if (part->store != NULL && !leader_take(part))
			break;
		if ((w = queue_pop(part)) == NULL) {
			if (part->store != NULL)
				leader_give(part);
			break;
		}
		serve_batch(part, b, w); /* counts the leader out */
	}
	for (unsigned i = 0; i < SDK_GROUP_MAX; i++)
		sdk_call_fini(&b->call[i]);
	return NULL;
}

/* ---- nng completions (nng threads) ------------------------------------- */

static void on_received(work *w, int rv)
{
	if (rv == DTX_ECLOSED)
		return; /* socket closed: this item stops */
	if (rv != DTX_OK) {
		sdk_logf(DTX_LOG_WARN, "participant %s: receive failed: %s",
		         w->part->url, dtx_strerror(rv));
		nng_ctx_recv(w->ctx, w->aio);
		return;
	}
	w->msg = nng_aio_get_msg(w->aio);
	nng_aio_set_msg(w->aio, NULL);
	w->state = WORK_RUN;
	queue_push(w->part, w);
}

static void on_sent(work *w, int rv)
{
	if (rv != DTX_OK) {
		/* a failed send leaves the message with us */
		msg_free(nng_aio_get_msg(w->aio));
		nng_aio_set_msg(w->aio, NULL);
		if (rv == DTX_ECLOSED)
			return;
		sdk_logf(DTX_LOG_WARN, "participant %s: reply lost: %s",
		         w->part->url, dtx_strerror(rv));
	}
	w->state = WORK_RECV;
	nng_ctx_recv(w->ctx, w->aio);
}

static void work_cb(void *arg)
{
	work *w = arg;
	int rv = sdk_err_from_nng(nng_aio_result(w->aio));

	switch (w->state) {
	case WORK_RECV:
		on_received(w, rv);
		break;
	case WORK_SEND:
		on_sent(w, rv);
		break;
	default:
		assert(!"work_cb: item is not waiting on nng");
		break;
	}
}

/* ---- start and teardown ------------------------------------------------ */

static int open_socket(dtx_participant *part)
{
	int rv = nng_rep0_open(&part->sock);

	if (rv != 0)
		return sdk_err_from_nng(rv);
	part->sock_open = true;
	/* nng's default is unlimited (PLATFORM.md): always set it */
	rv = nng_socket_set_size(part->sock, NNG_OPT_RECVMAXSZ, part->max_msg);
	/* the socket gives it to the tls+tcp listener it makes */
	if (rv == 0 && part->tls != NULL)
		rv = nng_socket_set_ptr(part->sock, NNG_OPT_TLS_CONFIG,
		                        part->tls);
	return sdk_err_from_nng(rv);
}

/* build_items allocates the pool: one aio and one rep0 context per item. */
static int build_items(dtx_participant *part)
{
	work *w;
	int rv;

	part->items = calloc(part->ncontexts, sizeof(*part->items));
	part->ring = calloc(part->ncontexts, sizeof(*part->ring));
	if (part->items == NULL || part->ring == NULL)
		return DTX_ENOMEM;
	while (part->nitems < part->ncontexts) {
		w = &part->items[part->nitems];
		w->part = part;
		if ((rv = nng_aio_alloc(&w->aio, work_cb, w)) != 0)
			return sdk_err_from_nng(rv);
		if ((rv = nng_ctx_open(&w->ctx, part->sock)) != 0) {
			nng_aio_free(w->aio);
			return sdk_err_from_nng(rv);
		}
		part->nitems++;
	}
	return DTX_OK;
}

static int start_workers(dtx_participant *part)
{
	part->leaders_max = 1;
	if (part->store != NULL && part->store->groups > 1)
		part->leaders_max = part->store->groups < part->nworkers
		                            ? part->store->groups
		                            : part->nworkers;
	part->threads = calloc(part->nworkers, sizeof(*part->threads));
	part->batches = calloc(part->nworkers, sizeof(*part->batches));
	if (part->threads == NULL || part->batches == NULL)
		return DTX_ENOMEM;
	while (part->nthreads < part->nworkers) {
		batch *b = &part->batches[part->nthreads];

		b->part = part;
		if (pthread_create(&part->threads[part->nthreads], NULL,
		                   worker_main, b) != 0)
			return DTX_ENOMEM;
		part->nthreads++;
	}
	return DTX_OK;
}

static void stop_workers(dtx_participant *part)
{
	unsigned i;

	if (part->nthreads == 0)
		return;
	pthread_mutex_lock(&part->mu);
	part->stopping = true;
	pthread_cond_broadcast(&part->cv);
	pthread_cond_broadcast(&part->leader_cv);
	pthread_mutex_unlock(&part->mu);
	for (i = 0; i < part->nthreads; i++)
		pthread_join(part->threads[i], NULL);
	part->nthreads = 0;
}

/*
 * teardown undoes dtx_participant_start, from any point it reached:
 * 0. stop the barrier GC thread (it uses only the store and its client)
 *    and the listener guard's thread (it uses the socket; the guard is
 *    freed once the socket is closed: its pipe events reach it);
 * 1. stop the workers: running handlers finish and hand their reply to
 *    nng; queued calls stay queued. This must come before the socket
 *    closes: nng 1.5.2 can touch a freed context if nng_ctx_send runs on a
 *    socket that is being closed (seen as a pthread_mutex_lock panic);
 * 2. stop every aio: pending receives and sends are cancelled, and no
 *    callback of ours runs any more, so nng_close finds no context
 *    operation outstanding (the quieter the socket, the narrower nng
 *    1.5.2's tcp close race);
 * 3. close the socket, waiting at most CLOSE_MS: after the tcp close race
 *    nng_close never returns (the reaper is stuck, link.c). Then the pool
 *    and part stay allocated (nng may still reach them) and part->leaked
 *    tells dtx_participant_destroy to leave part to the process;
 * 4. free the calls still queued, then the pool.
 */
static void teardown(dtx_participant *part)
{
	unsigned i;

	sdk_gc_stop(part->gc);
	lguard_stop(part->guard);
	stop_workers(part);
	for (i = 0; i < part->nitems; i++)
		nng_aio_stop(part->items[i].aio);
	if (part->sock_open && !sdk_close_bounded(part->sock, CLOSE_MS)) {
		sdk_logf(DTX_LOG_ERROR,
		         "participant %s: nng_close did not return in %d ms "
		         "(nng 1.5.2's stuck reaper): its socket and memory "
		         "are left to the process",
		         part->url, CLOSE_MS);
		part->leaked = true;
		return;
	}
	part->sock_open = false;
	lguard_free(part->guard); /* the socket is closed: no pipe event */
	part->guard = NULL;
	for (i = 0; i < part->nitems; i++) {
		msg_free(part->items[i].msg);
		nng_aio_free(part->items[i].aio);
	}
	free(part->items);
	free(part->ring);
	free(part->threads);
	free(part->batches);
	part->items = NULL;
	part->ring = NULL;
	part->threads = NULL;
	part->batches = NULL;
	part->nitems = part->head = part->count = part->leaders = 0;
	part->stopping = false;
}

/* guard_log logs a line of the listener guard (lguard.h). */
static void guard_log(void *arg, const char *line)
{
	sdk_logf(DTX_LOG_WARN, "participant %s: %s",
	         ((dtx_participant *)arg)->url, line);
}

int dtx_participant_start(dtx_participant *part)
{
	lguard_opts gopts = {
	        .log = guard_log, .log_arg = part, .own_pipe_events = true};
	unsigned i;
	int rv;

	if (part == NULL || part->started ||
	    (part->gc != NULL && part->store == NULL))
		return DTX_EINVAL;
	rv = open_socket(part);
	if (rv == DTX_OK)
		rv = build_items(part);
	if (rv == DTX_OK)
		rv = start_workers(part);
	if (rv == DTX_OK)
		rv = sdk_err_from_nng(
		        lguard_open(part->sock, &gopts, &part->guard));
	if (rv == DTX_OK)
		rv = sdk_err_from_nng(lguard_listen(part->guard, part->url));
	if (rv == DTX_OK && part->gc != NULL)
		rv = sdk_gc_start(part->gc, part->store, part->url);
	if (rv != DTX_OK) {
		sdk_logf(DTX_LOG_ERROR, "participant %s: cannot start: %s",
		         part->url, dtx_strerror(rv));
		teardown(part);
		return part->leaked ? DTX_EINTERNAL : rv;
	}
	part->started = true;
	for (i = 0; i < part->nitems; i++) {
		part->items[i].state = WORK_RECV;
		nng_ctx_recv(part->items[i].ctx, part->items[i].aio);
	}
	return DTX_OK;
}

void dtx_participant_destroy(dtx_participant *part)
{
	size_t i;

	if (part == NULL || part->leaked)
		return;
	teardown(part);
	sdk_gc_destroy(part->gc);
	if (part->leaked)
		return; /* nng may still reach it: left to the process */
	for (i = 0; i < part->nhandlers; i++)
		free(part->handlers[i].name);
	free(part->handlers);
	if (part->sync_init) {
		pthread_cond_destroy(&part->cv);
		pthread_mutex_destroy(&part->mu);
		pthread_cond_destroy(&part->leader_cv);
	}
	sdk_tls_free(part->tls);
	free_tls_copy(part);
	free(part->url);
	free(part);
}
