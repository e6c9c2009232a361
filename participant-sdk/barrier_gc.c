/*
 * barrier_gc.c - removes the barrier records of finished transactions, so
 * the "__dtx_barrier" table does not grow for ever.
 *
 * Owns: the GC pass (dtx_store_barrier_gc) and the participant's GC thread
 * (sdk_gc, started by dtx_participant_set_barrier_gc). Never: removes a
 * record the coordinator has not called final for at least the grace
 * period, removes a gid's records before the keep_until_ms of each of them
 * (its call's deadline plus the tolerance) has passed, removes anything
 * when the coordinator cannot be asked, names a backend (the store's ops
 * table does the storage), or prints (sdk_logf).
 *
 * Why a grace period. A barrier record answers calls the coordinator may
 * still deliver; the one that matters most is a null compensation, which
 * refuses an action/try that arrives after its compensate/cancel. Once the
 * coordinator has logged the transaction final it sends no new call, but a
 * call it sent earlier can still be on its way (a delayed packet, nng's
 * resend, an initiator's Try in flight). Grace must exceed the longest such
 * delay plus the coordinator's call timeout and the clock skew between the
 * coordinator (which stamps final_unix_ms) and this host - for calls that
 * carry no deadline. Calls that carry one (BranchCall.deadline_unix_ms)
 * need no such guess: past its deadline plus the tolerance an action/try
 * is refused without its records (barrier.c), so keeping every record of
 * the gid until then (keep_until_ms) closes the gap whatever the grace.
 *
 * One pass, bounded:
 *   1. claim the store's GC slot (one pass at a time) and its cursor;
 *   2. in a read transaction, collect up to max_gids distinct gids after
 *      the cursor's, in gid order, each with the largest keep_until_ms of
 *      its records (the store's rec_gids);
 *   3. ask the coordinator which are final, WIRE_FINAL_QUERY_MAX at a time;
 *      a failure ends the pass: nothing removed, cursor kept;
 *   4. in one write transaction, delete every record of each gid final
 *      for at least grace_ms, and past its keep_until_ms, by the local
 *      wall clock;
 *   5. move the cursor to the last gid collected, or back to the first
 *      once the walk reached the end.
 * If we crash during step 4, the store keeps all the deletes or none; a record
 * read in step 2 and deleted in step 4 is one of a final transaction, so a
 * call that slipped in between belongs to it too, and carries a deadline
 * no later than the ones read (the coordinator sends nothing new for a
 * final transaction; every call of one with a deadline carries the same).

 *
 * Threads: a pass runs on the caller's thread; the participant's GC thread
 * runs passes every interval and is the only user of its client.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sdk.h"

#define GC_GIDS_MAX          65536 /* largest max_gids of one pass */
#define GC_PASS_GIDS         WIRE_FINAL_QUERY_MAX /* per pass of the thread */
#define GC_SWEEP_PASSES      1024 /* passes of one interval, at most */
#define GC_QUERY_TIMEOUT     5000 /* ms; also bounds how long destroy waits */
#define GC_QUERY_TIMEOUT_MIN 1000 /* ms */
#define GC_INTERVAL_MS_MIN   10

/* gc_batch - the gids of one pass and what the coordinator said. */
typedef struct gc_batch {
	char (*gids)[DTX_GID_MAX + 1]; /* owned: max of them */
	const char **names;            /* owned: names[i] = gids[i] */
	int64_t *final_ms;             /* owned */
	int64_t *keep_until;           /* owned: per gid, from step 2 */
	size_t n;
	size_t max;
	bool full;      /* the scan stopped at the first gid past max */
	size_t removed; /* records deleted by step 4 */
	int64_t now_ms;
	unsigned grace_ms;
} gc_batch;

static void batch_fini(gc_batch *b)
{
	free(b->gids);
	free(b->names);
	free(b->final_ms);
	free(b->keep_until);
}

static int batch_init(gc_batch *b, size_t max, unsigned grace_ms)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
	b->grace_ms = grace_ms;
	b->gids = calloc(max, sizeof(*b->gids));
	b->names = calloc(max, sizeof(*b->names));
	b->final_ms = calloc(max, sizeof(*b->final_ms));
	b->keep_until = calloc(max, sizeof(*b->keep_until));
	if (b->gids == NULL || b->names == NULL || b->final_ms == NULL ||
	    b->keep_until == NULL) {
		batch_fini(b);
		return DTX_ENOMEM;
	}
	return DTX_OK;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- step 2: collect gids ---------------------------------------------- */

/* collect_one adds gid (borrowed) and its records' keep_until to the
 * batch (arg); DTX_ELIMIT stops the walk once the batch is full. */
static int collect_one(void *arg, const char *gid, int64_t keep_until)
{
	gc_batch *b = arg;
	size_t n = strnlen(gid, DTX_GID_MAX + 1);

	if (n == 0 || n > DTX_GID_MAX)
		return DTX_ECORRUPT;
	if (b->n == b->max) {
		b->full = true;
		return DTX_ELIMIT;
	}
	memcpy(b->gids[b->n], gid, n + 1);
	b->names[b->n] = b->gids[b->n];
	b->keep_until[b->n] = keep_until;
	b->n++;
	return DTX_OK;
}

typedef struct collect_ctx {
	gc_batch *b;               /* borrowed */
	const sdk_gc_cursor *from; /* borrowed */
} collect_ctx;

static int collect_fn(void *arg, dtx_txn *txn)
{
	collect_ctx *cc = arg;
	int rv;

	cc->b->n = 0; /* the view may run again */
	cc->b->full = false;
	rv = txn->store->ops->rec_gids(txn, cc->from->after, collect_one,
	                               cc->b);
	return rv == DTX_ELIMIT && cc->b->full ? DTX_OK : rv;
}

/* ---- step 3: ask the coordinator --------------------------------------- */

static int ask(dtx_client *client, gc_batch *b)
{
	size_t i, k;
	int rv;

	for (i = 0; i < b->n; i += k) {
		k = b->n - i < WIRE_FINAL_QUERY_MAX ? b->n - i
		                                    : WIRE_FINAL_QUERY_MAX;
		rv = dtx_client_final_gids(client, b->names + i, k,
		                           b->final_ms + i);
		if (rv != DTX_OK)
			return rv;
	}
	return DTX_OK;
}

/* ---- step 4: delete ---------------------------------------------------- */

/* is_expired: final for at least grace_ms (a final time ahead of our
 * clock is not), and past the keep_until of every record of the gid. */
static bool is_expired(const gc_batch *b, size_t i)
{
	int64_t f = b->final_ms[i];

	return f > 0 && b->now_ms >= f &&
	       (uint64_t)(b->now_ms - f) >= (uint64_t)b->grace_ms &&
	       b->now_ms > b->keep_until[i];
}

static int delete_fn(void *arg, dtx_txn *txn)
{
	gc_batch *b = arg;
	size_t i, n;
	int rv;

	b->removed = 0; /* a full map reruns this */
	for (i = 0; i < b->n; i++) {
		if (!is_expired(b, i))
			continue;
		n = 0;
		rv = txn->store->ops->rec_del_gid(txn, b->gids[i], &n);
		if (rv != DTX_OK)
			return rv;
		b->removed += n;
	}
	return DTX_OK;
}

static size_t count_expired(const gc_batch *b)
{
	size_t i, n = 0;

	for (i = 0; i < b->n; i++)
		n += is_expired(b, i);
	return n;
}

/* ---- one pass ---------------------------------------------------------- */

/* advance moves the cursor past the batch's last gid (step 5). */
static void advance(sdk_gc_cursor *cur, const gc_batch *b)
{
	if (!b->full || b->n == 0)
		cur->after[0] = '\0';
	else
		sdk_strlcpy(cur->after, sizeof(cur->after), b->gids[b->n - 1]);
}

/*
 * run_pass - steps 2 to 5 with the slot held (see the top comment).
 */
static int run_pass(dtx_store *store, dtx_client *client, sdk_gc_cursor *cur,
                    gc_batch *b, bool *ret_wrapped)
{
	collect_ctx cc = {b, cur};
	int rv = dtx_store_view(store, collect_fn, &cc); /* 2 */

	if (rv == DTX_OK && b->n > 0)
		rv = ask(client, b); /* 3 */
	if (rv != DTX_OK)
		return rv;
	b->now_ms = wall_ms();
	if (count_expired(b) > 0)
		rv = dtx_store_update(store, delete_fn, b); /* 4 */
	if (rv != DTX_OK)
		return rv;
	sdk_logf(DTX_LOG_DEBUG,
	         "store %s: barrier gc: %zu gids looked at, %zu records "
	         "removed",
	         sdk_store_dir(store), b->n, b->removed);
	*ret_wrapped = !b->full;
	advance(cur, b); /* 5 */
	return DTX_OK;
}

/* gc_pass runs one pass (dtx_store_barrier_gc) and also says whether it
 * reached the end of the table. */
static int gc_pass(dtx_store *store, dtx_client *client, unsigned grace_ms,
                   size_t max_gids, size_t *ret_removed, bool *ret_wrapped)
{
	sdk_gc_cursor *cur;
	gc_batch b;
	int rv;

	if (store == NULL || client == NULL || max_gids == 0 ||
	    max_gids > GC_GIDS_MAX || sdk_store_is_read_only(store))
		return DTX_EINVAL;
	if ((rv = batch_init(&b, max_gids, grace_ms)) != DTX_OK)
		return rv;
	rv = sdk_store_gc_claim(store, &cur); /* 1 */
	if (rv == DTX_OK) {
		rv = run_pass(store, client, cur, &b, ret_wrapped);
		sdk_store_gc_release(store);
	}
	if (rv == DTX_OK && ret_removed != NULL)
		*ret_removed = b.removed;
	batch_fini(&b);
	return rv;
}

int dtx_store_barrier_gc(dtx_store *store, struct dtx_client *client,
                         unsigned grace_ms, size_t max_gids,
                         size_t *ret_removed)
{
	bool wrapped;

	return gc_pass(store, client, grace_ms, max_gids, ret_removed,
	               &wrapped);
}

/* ---- the participant's GC thread --------------------------------------- */

struct sdk_gc {
	dtx_client *client; /* owned */
	char *url;          /* owned: the coordinator's, for diagnostics */
	unsigned grace_ms;
	unsigned interval_ms;
	dtx_store *store; /* borrowed while running */
	const char *who;  /* borrowed while running: the participant's url */

	bool sync_init; /* mu and cv are initialised */
	pthread_mutex_t mu;
	pthread_cond_t cv; /* on CLOCK_MONOTONIC */
	bool stopping;     /* guarded by mu */
	bool running;      /* the thread was created */
	pthread_t thread;

	_Atomic uint64_t removed;
	_Atomic uint64_t failures;
};

static int gc_sync_init(sdk_gc *gc)
{
	pthread_condattr_t attr;
	int rc;

	if (pthread_condattr_init(&attr) != 0)
		return DTX_ENOMEM;
	rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(&gc->cv, &attr);
	pthread_condattr_destroy(&attr);
	if (rc != 0)
		return DTX_ENOMEM;
	if (pthread_mutex_init(&gc->mu, NULL) != 0) {
		pthread_cond_destroy(&gc->cv);
		return DTX_ENOMEM;
	}
	gc->sync_init = true;
	return DTX_OK;
}

int sdk_gc_create(const char *url, const dtx_tls_opts *tls, unsigned grace_ms,
                  unsigned interval_ms, sdk_gc **ret_gc)
{
	dtx_client_opts co;
	sdk_gc *gc = calloc(1, sizeof(*gc));
	int rv;

	if (gc == NULL)
		return DTX_ENOMEM;
	gc->grace_ms = grace_ms ? grace_ms : DTX_BARRIER_GC_GRACE_MS_DEFAULT;
	gc->interval_ms =
	        interval_ms ? interval_ms : DTX_BARRIER_GC_INTERVAL_MS_DEFAULT;
	if (gc->interval_ms < GC_INTERVAL_MS_MIN)
		gc->interval_ms = GC_INTERVAL_MS_MIN;
	dtx_client_opts_init(&co);
	co.tls = tls;
	/* a query may take about one interval, within [1 s, 5 s] */
	co.timeout_ms = gc->interval_ms < GC_QUERY_TIMEOUT_MIN
	                        ? GC_QUERY_TIMEOUT_MIN
	                        : gc->interval_ms;
	if (co.timeout_ms > GC_QUERY_TIMEOUT)
		co.timeout_ms = GC_QUERY_TIMEOUT;
	rv = (gc->url = strdup(url)) == NULL ? DTX_ENOMEM : gc_sync_init(gc);
	if (rv == DTX_OK)
		rv = dtx_client_open(url, &co, &gc->client);
	if (rv != DTX_OK) {
		sdk_gc_destroy(gc);
		return rv;
	}
	*ret_gc = gc;
	return DTX_OK;
}

/* wait_interval waits one interval; returns false once stopping. */
static bool wait_interval(sdk_gc *gc)
{
	struct timespec at;
	bool go;

	clock_gettime(CLOCK_MONOTONIC, &at);
	at.tv_sec += gc->interval_ms / 1000;
	at.tv_nsec += (long)(gc->interval_ms % 1000) * 1000000L;
	if (at.tv_nsec >= 1000000000L) {
		at.tv_sec++;
		at.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&gc->mu);
	while (!gc->stopping &&
	       pthread_cond_timedwait(&gc->cv, &gc->mu, &at) == 0)
		;
	go = !gc->stopping;
	pthread_mutex_unlock(&gc->mu);
	return go;
}

static bool is_stopping(sdk_gc *gc)
{
	bool stop;

	pthread_mutex_lock(&gc->mu);
	stop = gc->stopping;
	pthread_mutex_unlock(&gc->mu);
	return stop;
}

/* sweep runs bounded passes until the cursor wraps (one walk over the
 * table), GC_SWEEP_PASSES ran, a pass failed or the thread must stop. */
static void sweep(sdk_gc *gc)
{
	size_t removed = 0;
	bool wrapped = false;
	int rv = DTX_OK;

	for (int i = 0; i < GC_SWEEP_PASSES && !wrapped && rv == DTX_OK; i++) {
		if (is_stopping(gc))
			return;
		rv = gc_pass(gc->store, gc->client, gc->grace_ms, GC_PASS_GIDS,
		             &removed, &wrapped);
		if (rv == DTX_OK)
			atomic_fetch_add(&gc->removed, removed);
	}
	if (rv == DTX_OK)
		return;
	atomic_fetch_add(&gc->failures, 1);
	sdk_logf(DTX_LOG_WARN,
	         "participant %s: barrier gc (coordinator %s): %s: nothing "
	         "removed, next try in %u ms",
	         gc->who, gc->url, dtx_strerror(rv), gc->interval_ms);
}

static void *gc_main(void *arg)
{
	sdk_gc *gc = arg;

	while (wait_interval(gc))
		sweep(gc);
	return NULL;
}

int sdk_gc_start(sdk_gc *gc, dtx_store *store, const char *who)
{
	gc->store = store;
	gc->who = who;
	gc->stopping = false;
	if (pthread_create(&gc->thread, NULL, gc_main, gc) != 0)
		return DTX_ENOMEM;
	gc->running = true;
	return DTX_OK;
}

void sdk_gc_stop(sdk_gc *gc)
{
	if (gc == NULL || !gc->running)
		return;
	pthread_mutex_lock(&gc->mu);
	gc->stopping = true;
	pthread_cond_signal(&gc->cv);
	pthread_mutex_unlock(&gc->mu);
	pthread_join(gc->thread, NULL);
	gc->running = false;
}

void sdk_gc_destroy(sdk_gc *gc)
{
	if (gc == NULL)
		return;
	sdk_gc_stop(gc);
	dtx_client_close(gc->client);
	if (gc->sync_init) {
		pthread_cond_destroy(&gc->cv);
		pthread_mutex_destroy(&gc->mu);
	}
	free(gc->url);
	free(gc);
}

void sdk_gc_get_stats(const sdk_gc *gc, uint64_t *ret_removed,
                      uint64_t *ret_failures)
{
	*ret_removed = gc != NULL ? atomic_load(&gc->removed) : 0;
	*ret_failures = gc != NULL ? atomic_load(&gc->failures) : 0;
}
