/*
 * engine.c - the coordinator's loop: requests in, transitions logged, calls
 * out (see engine.h).
 *
 * Owns every live transaction, the group-commit pipeline and the timers. It
 * runs on one libuv loop thread and never blocks it: LMDB commits run on a
 * libuv worker thread, nng completions arrive through the mailbox, and
 * every read of the log runs on the reader's threads (see "Reads" below).
 *
 * Group commit (Redis's beforeSleep, with the fsync off the loop):
 *
 *   building flight (gen G+1)          in-flight flight (gen G)
 *   - dirty transactions               - encoded batch being committed
 *   - effects waiting for G+1          - effects waiting for G
 *
 *   Every change to a transaction marks it dirty and sets its pending_gen
 *   to the building generation. Anything that must wait for that change to
 *   be durable - a branch call, a reply to a client, a retry timer - is an
 *   *effect* queued on the flight of the transaction's pending_gen, or run
 *   at once when the transaction has nothing pending. Before the loop
 *   sleeps (uv_prepare) and whenever a commit ends, if no commit is in
 *   flight, the building flight is sealed: each dirty transaction is
 *   encoded into its batch and the batch goes to the worker. When the
 *   commit returns, the flight's effects run in order.
 *
 * Crash windows (every one is safe because nothing acts before it is
 * durable; participants dedupe repeated calls with the barrier):
 *   - crash before a commit: its transitions are lost, but nothing acted on
 *     them - no call was sent, no client was answered. A client that had
 *     submitted retries with its gid (or never got a gid).
 *   - crash after a commit, before its calls were sent: recovery finds the
 *     steps ACTING/COMPENSATING and sends the calls (attempt + 1).
 *   - crash after a reply arrived, before it was logged: recovery calls the
 *     step again; the participant answers from its barrier record.
 *   - a commit that fails (EIO, ENOSPC, MDB_PANIC): the process exits at
 *     once (crash-only); memory that may disagree with disk is never used.
 *     So does a read that fails in LMDB itself.
 *
 * Quarantine (DESIGN.md rule 7): a transaction whose records cannot be
 * loaded, or that loads into a state the machines cannot take
 * (dc_tx_check, dc_machine_check), is never driven: recovery and every
 * later load (a query, a resubmit, a participant's FinalQuery, an operator
 * action) log one line, put gid -> (time, cause) into the log's quarantine
 * table in the next group commit, and go on with the others. It stays in
 * the active table, so that dtxctl list shows it (as needs-operator, with
 * its cause); every later load reports it from the quarantine table
 * without reading it again, so no restart drives it. Clients asking for
 * it get DTX_ECORRUPT "transaction quarantined: <cause>".
 *
 * Reads (issue 14: one `dtxctl stats` of 500,000 transactions froze the
 * loop for 1.2 s). A request that needs the log - a gid not in memory
 * (query, resubmit, register/finish of a final TCC transaction, an
 * operator action), a FinalQuery, dtxctl list/show/stats - becomes a job
 * of the reader (coordinator/reader.h, readjobs.h) and the request waits
 * for it, holding its slot; a full reader queue answers DTX_EBUSY. When a
 * load completes, the loop applies what it found (quarantine, or stop on
 * an error of the log) and runs the request again from its bytes with the
 * result at hand (read_tx), so that every decision is made on the loop
 * against the memory of that moment: a gid that became live meanwhile is
 * answered from memory. What the log says is durable state; a reply from
 * memory waits for durability as before. Two races are closed:
 *   - a transaction created and freed while its gid was read (the read's
 *     snapshot may predate its creation): freeing bumps an epoch of the
 *     gid's hash, and a load whose epoch moved is read again;
 *   - an id this coordinator makes colliding with a client's gid: no read
 *     (make_gid has none); a client gid shaped like our ids and above the
 *     last one made is refused (is_reserved), so none can exist.
 * list and stats report the log's (durable) state; show of a live
 * transaction reports its in-memory copy and reads only its timeline.
 *
 * Must never: send a call or answer a client about a state that is not yet
 * committed; touch a transaction from another thread; grow any table past
 * its configured limit.
 */
#include "engine.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "backoff.h"
#include "diag.h"
#include "fault.h"
#include "gid.h"
#include "log.h"
#include "mailbox.h"
#include "reader.h"
#include "readjobs.h"
#include "rpc.h"
#include "machine.h"
#include "retain.h"
#include "server.h"
#include "timerq.h"
#include "tx.h"
#include "wire.h"

#define CALL_SLOT_WAIT_MS 10   /* retry a call the rpc pool had no room for */
#define WATCH_RING        4096 /* recent transitions kept for dtxctl watch */
#define WATCH_DETAIL      200  /* bytes of a watched line's detail */
#define WATCH_BATCH       256  /* lines in one watch answer by default */
#define WATCH_BATCH_MAX   1000
#define READ_EPOCHS       4096 /* hash buckets of gids freed while read */
#define READ_PENDING      (-1) /* read_tx: answered when the read is done */

#define container_of(ptr, type, member)                                        \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

typedef struct live live;

typedef enum fx_kind {
	FX_CALL = 1,        /* send the branch call of (step, op) */
	FX_RETRY_LATER = 2, /* arm the backoff timer of (step, op) */
	FX_FINISHED = 3,    /* the final state is durable: answer waiters */
	FX_REPLY = 4,       /* answer one client request */
	FX_CALL_ALL = 5,    /* send op to every step in flight for it */
	FX_ADMIN_REPLY = 6, /* answer an operator action (packed in buf) */
} fx_kind;

typedef struct fx {
	fx_kind kind;
	live *lv;
	uint32_t step;
	dtx_op op;
	dc_request *req;
	uint8_t *buf; /* FX_ADMIN_REPLY: the packed reply, owned */
	size_t len;
} fx;

/* One line of the watch ring (dtxctl watch): a transition as it was made
 * (it may not be durable yet: a crash can lose the newest lines). */
typedef struct watch_line {
	uint64_t seq;
	char gid[DTX_GID_MAX + 1];
	dc_log_event ev; /* ev.detail points at detail */
	char detail[WATCH_DETAIL];
} watch_line;

typedef struct flight {
	uint64_t gen;
	dc_log_batch *batch;
	fx *fx;
	size_t nfx, capfx;
	live **lives; /* transactions encoded into batch */
	size_t nlives, caplives;
	bool pruning;         /* the commit prunes: prune says what */
	dc_log_prune prune;   /* (coordinator/retain.h) */
	dc_log_pruned pruned; /* written by the worker */
	dc_log_usage usage;   /* measured by the worker after the commit */
	bool usage_ok;
	int result;    /* of the commit, written by the worker */
	char err[256]; /* the worker's dc_log_last_error when result fails */
	uv_work_t work;
	dc_engine *e;
} flight;

/* The runtime side of one step (saga) or branch (TCC): its call and its
 * backoff. A saga has one in use at a time, a TCC transaction one per
 * branch. */
typedef struct lstep {
	live *lv;             /* the transaction it belongs to */
	uint32_t index;       /* step number */
	uint64_t token;       /* the call whose answer counts; 0 = none */
	dtx_op call_op;       /* what that call is */
	dc_timer retry_timer; /* backoff (or a wait for an rpc slot) */
	dtx_op retry_op;
} lstep;

/* A transaction the engine holds in memory: every non-final one, and a
 * final one until its last effects ran. */
struct live {
	dc_tx *tx;
	live *hnext;          /* gid hash chain */
	live *dnext;          /* dirty list */
	bool dirty;           /* has changes not yet encoded */
	uint64_t dirty_steps; /* which step records changed */
	uint64_t pending_gen; /* flight holding its newest change; 0 = none */
	uint32_t pins;        /* queued effects that point here */
	uint32_t calls_out;   /* calls sent, not completed yet (owner = us) */
	lstep *rt;            /* one per step (rtcap allocated), owned */
	uint32_t rtcap;
	dc_timer deadline_timer; /* the transaction's own deadline */
	int64_t age_at_load_ms;  /* its age when loaded (submit or recovery) */
	uint64_t loaded_mono_ms; /* when, on the loop's monotonic clock: ages
	                            never follow a wall-clock jump */
	dc_request *waiters;     /* clients waiting for the final state */
};

struct dc_engine {
	uv_loop_t *loop;
	dc_config cfg;
	dc_log *log;
	dc_server *srv;
	dc_server *admin_srv; /* NULL: no admin endpoint */
	dc_rpc *rpc;
	dc_mailbox mb;
	bool mb_open;
	uv_prepare_t prepare;
	uv_timer_t timer;
	bool handles_open;

	flight flights[2];
	flight *building;
	flight *inflight;
	uint64_t next_gen;

	live **buckets;
	size_t nbuckets;
	size_t nlive;
	live *dirty_head;

	dc_timerq retry_q;
	dc_timerq wait_q;
	dc_timerq deadline_q;

	gid_gen gids;
	uint64_t gid_floor_pending;
	uint64_t next_token;
	uint64_t rnd;

	dc_policy policy;
	dc_backoff backoff;
	wire_limits limits;
	dc_recovery recovery;
	bool stopping;

	dc_retain retain;        /* pruning schedule, log full */
	uv_timer_t retain_timer; /* prunes an idle log */

	watch_line *ring;  /* WATCH_RING lines, by seq % WATCH_RING */
	uint64_t ring_seq; /* seq of the newest line; 0 = none yet */

	dc_reader *reader;                 /* reads of the log, off the loop */
	dc_load_job *redo;                 /* a load done, for read_tx */
	uint32_t read_epochs[READ_EPOCHS]; /* bumped when a tx is freed */
};

static void flush(dc_engine *e);
static void run_fx(dc_engine *e, const fx *f);
static void arm_timer(dc_engine *e);
static void on_deadline(dc_engine *e, live *lv);

/* ---- small helpers -------------------------------------------------- */

static int64_t now_unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t next_random(dc_engine *e)
{
	/* xorshift64*: jitter only, not security. */
	e->rnd ^= e->rnd >> 12;
	e->rnd ^= e->rnd << 25;
	e->rnd ^= e->rnd >> 27;
	return e->rnd * 2685821657736338717ull;
}

/* die_durability stops the process after a failed commit or growth of the
 * log; detail is the failing thread's dc_log_last_error (may be ""). */
static __attribute__((noreturn)) void die_durability(dc_engine *e, int err,
                                                     const char *detail)
{
	dc_diag(DTX_LOG_ERROR,
	        "log commit failed on %s: %s (%s); stopping now (crash-only: a "
	        "restart recovers every acknowledged transaction from the log)",
	        dc_log_path(e->log), dtx_strerror(err),
	        detail[0] != '\0' ? detail : "no detail");
	_exit(EX_IOERR);
}

/* die_read stops the process on an error of the log itself met while
 * reading (EIO, a file LMDB finds damaged): crash-only, as for a commit. A
 * bad transaction is not one (see quarantine). */
static __attribute__((noreturn)) void die_read(dc_engine *e, int err,
                                               const char *detail)
{
	dc_diag(DTX_LOG_ERROR,
	        "reading the log %s failed: %s (%s); stopping now (crash-only)",
	        dc_log_path(e->log), dtx_strerror(err),
	        detail[0] != '\0' ? detail : "no detail");
	_exit(err == DTX_ECORRUPT || err == DTX_EVERSION ? EX_DATAERR
	                                                 : EX_IOERR);
}

static __attribute__((noreturn)) void die_oom(const char *what)
{
	dc_diag(DTX_LOG_ERROR, "out of memory (%s); stopping", what);
	_exit(EX_OSERR);
}

/* ---- the table of live transactions -------------------------------- */

static size_t gid_hash(const char *s, size_t nbuckets)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return (size_t)(h & (nbuckets - 1));
}

static live *live_find(dc_engine *e, const char *gid)
{
	live *lv = e->buckets[gid_hash(gid, e->nbuckets)];

	while (lv != NULL && strcmp(lv->tx->gid, gid) != 0)
		lv = lv->hnext;
	return lv;
}

static int table_grow(dc_engine *e)
{
	size_t n = e->nbuckets * 2;
	live **b = calloc(n, sizeof(*b));

	if (b == NULL)
		return DTX_ENOMEM;
	for (size_t i = 0; i < e->nbuckets; i++) {
		live *lv = e->buckets[i];
		while (lv != NULL) {
			live *next = lv->hnext;
			size_t h = gid_hash(lv->tx->gid, n);
			lv->hnext = b[h];
			b[h] = lv;
			lv = next;
		}
	}
	free(e->buckets);
	e->buckets = b;
	e->nbuckets = n;
	return DTX_OK;
}

/* rt_reserve makes room for n steps in lv->rt. The array may move, so no
 * step may have a queued retry timer (asserted): only an initiator-driven
 * TCC transaction grows, while it is RUNNING and the coordinator calls
 * none of its branches. */
static int rt_reserve(live *lv, uint32_t n)
{
	uint32_t cap = lv->rtcap ? lv->rtcap : 1;
	lstep *rt;

	if (n <= lv->rtcap)
		return DTX_OK;
	while (cap < n)
		cap *= 2;
	for (uint32_t i = 0; i < lv->rtcap; i++)
		assert(!dc_timer_is_queued(&lv->rt[i].retry_timer));
	if ((rt = realloc(lv->rt, cap * sizeof(*rt))) == NULL)
		return DTX_ENOMEM;
	memset(rt + lv->rtcap, 0, (cap - lv->rtcap) * sizeof(*rt));
	for (uint32_t i = 0; i < cap; i++) {
		rt[i].lv = lv;
		rt[i].index = i;
		if (i >= lv->rtcap)
			dc_timer_init(&rt[i].retry_timer);
	}
	lv->rt = rt;
	lv->rtcap = cap;
	return DTX_OK;
}

static void live_free(live *lv)
{
	dc_tx_destroy(lv->tx);
	free(lv->rt);
	free(lv);
}

/* age_ms is how old lv's transaction is. The wall clock is read once,
 * when it was loaded (submit or recovery); since then the monotonic clock
 * counts, so the age that flags a transaction for an operator never jumps
 * with the wall clock. */
static int64_t age_ms(const dc_engine *e, const live *lv)
{
	return lv->age_at_load_ms +
	       (int64_t)(uv_now(e->loop) - lv->loaded_mono_ms);
}

/* live_add takes tx (transferred on success). */
static int live_add(dc_engine *e, dc_tx *tx, live **ret_lv)
{
	live *lv;
	size_t h;

	if (e->nlive >= e->nbuckets && table_grow(e) != DTX_OK)
		return DTX_ENOMEM;
	if ((lv = calloc(1, sizeof(*lv))) == NULL)
		return DTX_ENOMEM;
	if (rt_reserve(lv, tx->nsteps) != DTX_OK) {
		free(lv);
		return DTX_ENOMEM;
	}
	lv->tx = tx;
	dc_timer_init(&lv->deadline_timer);
	lv->age_at_load_ms = now_unix_ms() - tx->created_unix_ms;
	if (lv->age_at_load_ms < 0)
		lv->age_at_load_ms = 0;
	lv->loaded_mono_ms = uv_now(e->loop);
	h = gid_hash(tx->gid, e->nbuckets);
	lv->hnext = e->buckets[h];
	e->buckets[h] = lv;
	e->nlive++;
	*ret_lv = lv;
	return DTX_OK;
}

static void live_unlink(dc_engine *e, live *lv)
{
	live **pp = &e->buckets[gid_hash(lv->tx->gid, e->nbuckets)];

	while (*pp != lv)
		pp = &(*pp)->hnext;
	*pp = lv->hnext;
	e->nlive--;
}

/* live_maybe_free drops a final transaction once nothing refers to it:
 * later requests for its gid are answered from the log. */
static void live_maybe_free(dc_engine *e, live *lv)
{
	if (!dc_tx_is_final(lv->tx))
		return;
	/* A final transaction has nothing left to retry or time out. */
	for (uint32_t i = 0; i < lv->rtcap; i++)
		dc_timerq_remove(&e->retry_q, &lv->rt[i].retry_timer);
	dc_timerq_remove(&e->deadline_q, &lv->deadline_timer);
	if (lv->pins > 0 || lv->calls_out > 0 || lv->waiters != NULL ||
	    lv->pending_gen != 0 || lv->dirty)
		return;
	live_unlink(e, lv);
	/* a read of its gid in flight may predate its creation: read again */
	e->read_epochs[gid_hash(lv->tx->gid, READ_EPOCHS)]++;
	live_free(lv);
}

/* ---- flights: group commit and effects ------------------------------ */

static int flight_init(dc_engine *e, flight *f)
{
	f->e = e;
	f->work.data = f;
	return dc_log_batch_create(&f->batch);
}

static void flight_fini(flight *f)
{
	for (size_t i = 0; i < f->nfx; i++)
		if (f->fx[i].kind == FX_ADMIN_REPLY)
			free(f->fx[i].buf);
	dc_log_batch_destroy(f->batch);
	free(f->fx);
	free(f->lives);
}

static void flight_reset(dc_engine *e, flight *f)
{
	dc_log_batch_reset(f->batch);
	f->nfx = 0;
	f->nlives = 0;
	f->result = DTX_OK;
	f->pruning = f->usage_ok = false;
	f->gen = e->next_gen++;
}

static void *grow_array(void *arr, size_t *cap, size_t elem)
{
	size_t n = *cap ? *cap * 2 : 64;
	void *p = realloc(arr, n * elem);

	if (p == NULL)
		die_oom("flight");
	*cap = n;
	return p;
}

static void flight_push_fx(flight *f, const fx *x)
{
	if (f->nfx == f->capfx)
		f->fx = grow_array(f->fx, &f->capfx, sizeof(*f->fx));
	f->fx[f->nfx++] = *x;
	x->lv->pins++;
}

static flight *flight_of_gen(dc_engine *e, uint64_t gen)
{
	if (e->building->gen == gen)
		return e->building;
	assert(e->inflight != NULL && e->inflight->gen == gen);
	return e->inflight;
}

/* defer_fx runs x once lv's newest change is durable (now, if it is). */
static void defer_fx(dc_engine *e, const fx *x)
{
	if (x->lv->pending_gen == 0) {
		x->lv->pins++;
		run_fx(e, x);
		return;
	}
	flight_push_fx(flight_of_gen(e, x->lv->pending_gen), x);
}

static void mark_dirty(dc_engine *e, live *lv, uint64_t dirty_steps)
{
	lv->dirty_steps |= dirty_steps;
	lv->pending_gen = e->building->gen;
	lv->tx->updated_unix_ms = now_unix_ms();
	if (!lv->dirty) {
		lv->dirty = true;
		lv->dnext = e->dirty_head;
		e->dirty_head = lv;
	}
}

/* watch_push keeps ev of gid in the bounded ring dtxctl watch reads. */
static void watch_push(dc_engine *e, const char *gid, const dc_log_event *ev)
{
	watch_line *w;

	if (e->ring == NULL)
		return;
	w = &e->ring[++e->ring_seq % WATCH_RING];
	w->seq = e->ring_seq;
	snprintf(w->gid, sizeof(w->gid), "%s", gid);
	w->ev = *ev;
	snprintf(w->detail, sizeof(w->detail), "%s",
	         ev->detail != NULL ? ev->detail : "");
	w->ev.detail = w->detail;
}

static void add_event(dc_engine *e, live *lv, int32_t step, const char *what)
{
	dc_tx *tx = lv->tx;
	dc_log_event ev = {
	        .unix_ms = now_unix_ms(),
	        .tx_state = tx->state,
	        .step = step,
	        .step_state = step >= 0 ? tx->steps[step].state : 0,
	        .detail = what,
	};

	if (dc_log_batch_add_event(e->building->batch, tx->gid,
	                           tx->next_event_seq++, &ev) != DTX_OK)
		die_oom("event");
	watch_push(e, tx->gid, &ev);
}

static void seal_dirty(dc_engine *e, flight *f)
{
	live *lv = e->dirty_head;

	e->dirty_head = NULL;
	while (lv != NULL) {
		live *next = lv->dnext;
		if (dc_log_batch_put_tx(f->batch, lv->tx, lv->dirty_steps) !=
		    DTX_OK)
			die_oom("batch");
		lv->dirty = false;
		lv->dirty_steps = 0;
		lv->dnext = NULL;
		if (f->nlives == f->caplives)
			f->lives = grow_array(f->lives, &f->caplives,
			                      sizeof(*f->lives));
		f->lives[f->nlives++] = lv;
		lv->pins++; /* the flight refers to it until it is durable */
		lv = next;
	}
	if (e->gid_floor_pending != 0) {
		if (dc_log_batch_set_gid_floor(f->batch, e->gid_floor_pending))
			die_oom("batch");
		e->gid_floor_pending = 0;
	}
}

static void work_cb(uv_work_t *w)
{
	flight *f = w->data;

	f->result = dc_log_commit_prune(
	        f->e->log, f->batch, f->pruning ? &f->prune : NULL, &f->pruned);
	if (f->result != DTX_OK) /* the reason is this thread's */
		snprintf(f->err, sizeof(f->err), "%s",
		         dc_log_last_error(f->e->log));
	else /* a constant cost: a stat per table */
		f->usage_ok = dc_log_usage_read(f->e->log, &f->usage) == DTX_OK;
}

static void finish_stop(dc_engine *e);

static void after_commit(dc_engine *e, flight *f)
{
	/* 1. The batch is durable: its transactions have nothing pending
	 *    unless they changed again meanwhile (then in the building gen). */
	for (size_t i = 0; i < f->nlives; i++) {
		live *lv = f->lives[i];
		if (lv->pending_gen == f->gen)
			lv->pending_gen = 0;
	}
	e->inflight = NULL;
	dc_retain_done(&e->retain, f->pruning ? &f->pruned : NULL,
	               f->usage_ok ? &f->usage : NULL);
	/* 2. Act on it, in the order the transitions were made. Effects may
	 *    queue more effects on the building flight, never on this one. */
	for (size_t i = 0; i < f->nfx; i++)
		run_fx(e, &f->fx[i]);
	/* 3. Release the flight's references. */
	for (size_t i = 0; i < f->nlives; i++) {
		f->lives[i]->pins--;
		live_maybe_free(e, f->lives[i]);
	}
	flight_reset(e, f);
}

static void after_work_cb(uv_work_t *w, int status)
{
	flight *f = w->data;
	dc_engine *e = f->e;

	assert(status == 0);
	if (f->result == DTX_ELIMIT) {
		/* The map is full. No transaction is open in this process now
		 * (reads on the loop are synchronous), so it may grow; then the
		 * same batch is committed again. */
		int rv = dc_log_grow(e->log);
		if (rv != DTX_OK)
			die_durability(e, rv == DTX_ELIMIT ? DTX_ENOSPC : rv,
			               dc_log_last_error(e->log));
		dc_diag(DTX_LOG_WARN, "log map full: grown, committing again");
		uv_queue_work(e->loop, &f->work, work_cb, after_work_cb);
		return;
	}
	if (f->result != DTX_OK)
		die_durability(e, f->result, f->err);
	after_commit(e, f);
	if (e->stopping)
		finish_stop(e);
	else
		flush(e);
}

/* flush seals the building flight and hands it to the writer, if no commit
 * is in flight and there is anything to write. */
static void flush(dc_engine *e)
{
	flight *f = e->building;
	int64_t now = now_unix_ms();

	if (e->inflight != NULL || e->stopping)
		return;
	/* The batch may hold writes of no live transaction: quarantines. */
	if (e->dirty_head == NULL && f->nfx == 0 &&
	    dc_log_batch_len(f->batch) == 0 &&
	    !dc_retain_is_due(&e->retain, now))
		return;
	seal_dirty(e, f);
	/* Retention rides on the commit, bounded (coordinator/retain.c);
	 * the same now as above, so a due prune is planned. */
	f->pruning = dc_retain_plan(&e->retain, now, f->nlives, &f->prune);
	/* Effects are queued on a flight only while one of its transactions
	 * has a change in it, so a flight with effects has writes. */
	assert(dc_log_batch_len(f->batch) > 0 || f->pruning);
	e->inflight = f;
	e->building = (f == &e->flights[0]) ? &e->flights[1] : &e->flights[0];
	if (uv_queue_work(e->loop, &f->work, work_cb, after_work_cb) != 0)
		die_durability(e, DTX_EINTERNAL, "cannot queue the commit");
}

static void on_retain_timer(uv_timer_t *h)
{
	flush(h->data); /* commits a prune if one is due */
}

static void on_prepare(uv_prepare_t *h)
{
	dc_engine *e = h->data;

	flush(e);
	dc_rpc_flush(e->rpc); /* the branch calls this loop turn made */
}

/* ---- replies to clients --------------------------------------------- */

static void fill_step_info(const dc_step *st, uint32_t i, Dtx__V1__StepInfo *si)
{
	dc_admin_fill_step(st, i, 0, si);
	if (st->result != NULL) {
		si->has_result = 1;
		si->result.data = st->result;
		si->result.len = st->result_len;
	}
}

/* drop_largest_result leaves the largest result still in the n steps
 * at si out of the reply; false if none is left. */
static bool drop_largest_result(Dtx__V1__StepInfo *si, uint32_t n)
{
	uint32_t big = n;

	for (uint32_t i = 0; i < n; i++)
		if (si[i].has_result &&
		    (big == n || si[i].result.len > si[big].result.len))
			big = i;
	if (big == n)
		return false;
	si[big].has_result = 0;
	si[big].result.data = NULL;
	si[big].result.len = 0;
	return true;
}

/* fit_reply keeps rep under max bytes by leaving step results out,
 * largest first, and says so in its message (msg, len bytes, holds it).
 * Results are bounded when they are recorded (--max-result and the
 * transaction's budget), so only a log an older dtxd wrote needs this.
 * Returns false if rep is too big even without results. */
static bool fit_reply(Dtx__V1__ClientReply *rep, Dtx__V1__StepInfo *si,
                      uint32_t n, size_t max, char *msg, size_t len)
{
	uint32_t dropped = 0;

	while (wire_packed_size(&rep->base) > max) {
		if (!drop_largest_result(si, n))
			return false;
		dropped++;
	}
	if (dropped == 0)
		return true;
	snprintf(msg, len,
	         "%u step result(s) left out of this reply: with them it "
	         "would exceed --max-msg-bytes %zu",
	         (unsigned)dropped, max);
	rep->message = msg;
	dc_diag(DTX_LOG_WARN, "%s: %s", rep->tx->gid, msg);
	return true;
}

static void send_error(dc_request *req, int code, const char *msg);

static void send_tx_reply(const dc_engine *e, dc_request *req, const dc_tx *tx,
                          bool created)
{
	Dtx__V1__ClientReply rep = DTX__V1__CLIENT_REPLY__INIT;
	Dtx__V1__TxInfo info = DTX__V1__TX_INFO__INIT;
	Dtx__V1__StepInfo *si = calloc(tx->nsteps + 1, sizeof(*si));
	Dtx__V1__StepInfo **sp = calloc(tx->nsteps + 1, sizeof(*sp));
	char msg[160];

	if (si == NULL || sp == NULL)
		die_oom("reply");
	for (uint32_t i = 0; i < tx->nsteps; i++) {
		fill_step_info(&tx->steps[i], i, &si[i]);
		sp[i] = &si[i];
	}
	info.gid = (char *)tx->gid;
	info.has_mode = info.has_state = info.has_failed_step = 1;
	info.mode = (Dtx__V1__Mode)tx->mode;
	info.state = (Dtx__V1__TxState)tx->state;
	info.failed_step = tx->failed_step;
	info.reason = tx->reason;
	info.has_created_unix_ms = info.has_updated_unix_ms = 1;
	info.created_unix_ms = tx->created_unix_ms;
	info.updated_unix_ms = tx->updated_unix_ms;
	info.n_steps = tx->nsteps;
	info.steps = sp;
	info.has_needs_operator = 1;
	info.needs_operator = tx->needs_operator;
	info.operator_reason = tx->operator_reason;
	info.has_deadline_unix_ms = tx->deadline_unix_ms != 0;
	info.deadline_unix_ms = tx->deadline_unix_ms;
	if (tx->pruned_unix_ms != 0) { /* a tombstone: say so */
		info.has_pruned_unix_ms = 1;
		info.pruned_unix_ms = tx->pruned_unix_ms;
		dc_retain_pruned_message((int)tx->state, tx->pruned_unix_ms,
		                         msg, sizeof(msg));
		rep.message = msg;
	}
	rep.has_version = rep.has_code = rep.has_created = 1;
	rep.version = DTX__V1__VERSION__VERSION_1;
	rep.code = DTX__V1__CODE__CODE_OK;
	rep.created = created;
	rep.tx = &info;
	if (fit_reply(&rep, si, tx->nsteps, e->cfg.max_msg_bytes, msg,
	              sizeof(msg)))
		dc_request_reply(req, &rep);
	else
		send_error(req, DTX_ETOOBIG,
		           "the reply about this transaction would exceed "
		           "--max-msg-bytes even without its results");
	free(si);
	free(sp);
}

static void send_error(dc_request *req, int code, const char *msg)
{
	Dtx__V1__ClientReply rep = DTX__V1__CLIENT_REPLY__INIT;

	rep.has_version = rep.has_code = 1;
	rep.version = DTX__V1__VERSION__VERSION_1;
	rep.code = (Dtx__V1__Code)code;
	rep.message = (char *)msg;
	dc_request_reply(req, &rep);
}

/* reply_when_durable answers req with lv's state once that state is on
 * disk (at once if it already is). */
static void reply_when_durable(dc_engine *e, dc_request *req, live *lv)
{
	fx x = {.kind = FX_REPLY, .lv = lv, .req = req};

	defer_fx(e, &x);
}

static void waiter_remove(live *lv, dc_request *req)
{
	dc_request **pp = &lv->waiters;

	while (*pp != NULL && *pp != req)
		pp = &(*pp)->wnext;
	if (*pp == req)
		*pp = req->wnext;
	req->wnext = NULL;
	req->wait_owner = NULL;
}

static void add_waiter(dc_engine *e, dc_request *req, live *lv,
                       uint32_t wait_ms)
{
	if (dc_tx_is_final(lv->tx) ||
	    dc_timerq_add(&e->wait_q, &req->wait_timer,
	                  uv_now(e->loop) + wait_ms) != DTX_OK) {
		reply_when_durable(e, req, lv);
		return;
	}
	req->wait_owner = lv;
	req->wnext = lv->waiters;
	lv->waiters = req;
	arm_timer(e);
}

static void answer_waiters(dc_engine *e, live *lv)
{
	dc_request *req = lv->waiters;

	lv->waiters = NULL;
	while (req != NULL) {
		dc_request *next = req->wnext;
		dc_timerq_remove(&e->wait_q, &req->wait_timer);
		req->wnext = NULL;
		req->wait_owner = NULL;
		send_tx_reply(e, req, lv->tx, req->created);
		req = next;
	}
}

/* ---- driving the state machine -------------------------------------- */

static void record_changes(dc_engine *e, live *lv, const dc_out *out,
                           const char *what)
{
	for (uint32_t i = 0; i < lv->tx->nsteps; i++) {
		uint64_t bit = 1ull << (i < 63 ? i : 63);
		if (out->dirty_steps & bit)
			add_event(e, lv, (int32_t)i, what);
	}
	if (dc_tx_is_final(lv->tx))
		add_event(e, lv, -1, dtx_tx_state_name((int)lv->tx->state));
}

static fx_kind fx_of_act(dc_act_kind kind)
{
	switch (kind) {
	case DC_ACT_CALL:
		return FX_CALL;
	case DC_ACT_RETRY_LATER:
		return FX_RETRY_LATER;
	case DC_ACT_CALL_ALL:
		return FX_CALL_ALL;
	default:
		return FX_FINISHED;
	}
}

/* apply runs the transaction's state machine on ev and turns its output
 * into log writes and deferred effects. Returns false if ev was ignored. */
static bool apply(dc_engine *e, live *lv, const dc_event *ev, const char *what)
{
	dc_out out;

	dc_machine_apply(lv->tx, &e->policy, ev, &out);
	if (out.ignored)
		return false;
	if (out.changed) {
		mark_dirty(e, lv, out.dirty_steps);
		record_changes(e, lv, &out, what);
	}
	for (uint32_t i = 0; i < out.nacts; i++) {
		const dc_act *a = &out.acts[i];
		fx x = {.kind = fx_of_act(a->kind),
		        .lv = lv,
		        .step = a->step,
		        .op = a->op};
		defer_fx(e, &x);
	}
	return true;
}

static void schedule_retry(dc_engine *e, lstep *ls, dtx_op op,
                           uint32_t delay_ms)
{
	ls->retry_op = op;
	if (dc_timerq_add(&e->retry_q, &ls->retry_timer,
	                  uv_now(e->loop) + delay_ms) != DTX_OK)
		die_oom("retry timer");
	arm_timer(e);
}

static void give_up_call(dc_engine *e, live *lv, uint32_t step, dtx_op op,
                         const char *why);

static void send_call(dc_engine *e, live *lv, uint32_t step, dtx_op op)
{
	const dc_step *st = &lv->tx->steps[step];
	lstep *ls = &lv->rt[step];
	Dtx__V1__BranchCall msg = DTX__V1__BRANCH_CALL__INIT;
	uint32_t timeout =
	        st->timeout_ms ? st->timeout_ms : e->cfg.call_timeout_ms;
	int rv;

	msg.has_version = msg.has_branch = msg.has_op = msg.has_attempt = 1;
	msg.version = DTX__V1__VERSION__VERSION_1;
	msg.gid = lv->tx->gid;
	msg.branch = step;
	msg.op = (Dtx__V1__Op)op;
	msg.handler = (char *)dc_step_handler(st, op);
	msg.has_payload = 1;
	msg.payload.data = st->payload;
	msg.payload.len = st->payload_len;
	msg.attempt = st->attempts ? st->attempts : 1;
	/* A newer call of this step replaces any backoff still queued. */
	dc_timerq_remove(&e->retry_q, &ls->retry_timer);
	ls->token = ++e->next_token;
	ls->call_op = op;
	rv = dc_rpc_call(e->rpc, st->url, &msg, timeout, lv, ls->token);
	if (rv == DTX_OK) {
		lv->calls_out++;
		return;
	}
	ls->token = 0;
	if (rv == DTX_EBUSY || rv == DTX_ENOMEM) {
		/* No call slot now (one frees when a call ends): not the
		 * participant's fault, so no attempt is counted. */
		schedule_retry(e, ls, op, CALL_SLOT_WAIT_MS);
		return;
	}
	/* DTX_ELIMIT (the peer table is full of busy peers) and a URL nng
	 * refuses count as a failed attempt, backed off like any other. */
	give_up_call(e, lv, step, op,
	             rv == DTX_ELIMIT ? "peer table full (--max-peers"
	                                " / --max-dialing all busy)"
	                              : dtx_strerror(rv));
}

/* give_up_call treats a call that could not even be sent (e.g. a URL nng
 * refuses) as an unreachable participant: it counts as a failed attempt. */
static void give_up_call(dc_engine *e, live *lv, uint32_t step, dtx_op op,
                         const char *why)
{
	dc_event ev = {.kind = DC_EV_REPLY,
	               .step = step,
	               .op = op,
	               .outcome = DC_OUT_UNREACHABLE};
	char what[200];

	dc_tx_set_str(&lv->tx->steps[step].last_error, why);
	snprintf(what, sizeof(what), "%s not sent: %s", dtx_op_name(op), why);
	apply(e, lv, &ev, what);
}

/* check_stuck flags lv for an operator once a call has been retried past
 * the configured count or the transaction is older than the configured
 * age. Retries go on at the capped backoff: if the participant comes back,
 * the transaction heals by itself and the flag is cleared. */
static void check_stuck(dc_engine *e, live *lv, uint32_t step, dtx_op op)
{
	dc_tx *tx = lv->tx;
	const dc_step *st = &tx->steps[step];
	int64_t age = age_ms(e, lv);
	char why[600];

	if (tx->needs_operator)
		return;
	if (st->attempts <= e->cfg.stuck_after_attempts &&
	    age <= (int64_t)e->cfg.stuck_after_ms)
		return;
	snprintf(why, sizeof(why), "step %u %s %s: %u attempts, %lld s old: %s",
	         step, dtx_op_name(op), dc_step_handler(st, op),
	         st->attempts - 1, (long long)(age / 1000),
	         st->last_error ? st->last_error : "no answer");
	tx->needs_operator = true;
	dc_tx_set_str(&tx->operator_reason, why);
	mark_dirty(e, lv, 0);
	add_event(e, lv, -1, why);
	dc_diag(DTX_LOG_WARN, "%s needs an operator: %s", tx->gid, why);
}

/* heal clears the operator flag once a call of lv succeeds again. */
static void heal(dc_engine *e, live *lv)
{
	if (!lv->tx->needs_operator)
		return;
	lv->tx->needs_operator = false;
	dc_tx_set_str(&lv->tx->operator_reason, NULL);
	mark_dirty(e, lv, 0);
	add_event(e, lv, -1, "healed: a call succeeded again");
	dc_diag(DTX_LOG_INFO, "%s healed", lv->tx->gid);
}

/* call_now sends (step, op) if it is still in flight: between the
 * transition that asked for the call and its commit, a later one (a
 * deadline, an abort) may have moved on. */
static void call_now(dc_engine *e, live *lv, uint32_t step, dtx_op op)
{
	if (!dc_machine_op_inflight(lv->tx, step, op))
		return;
	if (lv->tx->paused)
		return; /* an operator paused it: resume re-issues the call */
	/* If we crash here, the transition is durable and the call was
	 * never sent: recovery sends it (attempt + 1). */
	DTX_FAULT("dtxd.after_commit_before_call");
	if (op == DTX_OP_COMPENSATE || op == DTX_OP_CANCEL)
		DTX_FAULT("dtxd.mid_compensation");
	send_call(e, lv, step, op);
}

static void run_fx(dc_engine *e, const fx *x)
{
	live *lv = x->lv;

	switch (x->kind) {
	case FX_CALL:
		call_now(e, lv, x->step, x->op);
		break;
	case FX_CALL_ALL:
		for (uint32_t i = 0; i < lv->tx->nsteps; i++)
			call_now(e, lv, i, x->op);
		break;
	case FX_RETRY_LATER: {
		uint32_t failed = lv->tx->steps[x->step].attempts - 1;
		if (!dc_machine_op_inflight(lv->tx, x->step, x->op))
			break;
		check_stuck(e, lv, x->step, x->op);
		schedule_retry(e, &lv->rt[x->step], x->op,
		               dc_backoff_delay_ms(&e->backoff, failed,
		                                   next_random(e)));
		break;
	}
	case FX_FINISHED:
		answer_waiters(e, lv);
		break;
	case FX_ADMIN_REPLY:
		dc_request_reply_raw(x->req, x->buf, x->len);
		free(x->buf);
		break;
	case FX_REPLY:
		if (lv->pending_gen != 0) {
			/* It changed again meanwhile: wait for that too, so a
			 * client never sees a state that is not durable. */
			fx again = *x;
			flight_push_fx(flight_of_gen(e, lv->pending_gen),
			               &again);
			break;
		}
		send_tx_reply(e, x->req, lv->tx, x->req->created);
		break;
	}
	lv->pins--;
	live_maybe_free(e, lv);
}

/* ---- branch call completions ---------------------------------------- */

static dc_outcome outcome_of(const dc_call *call)
{
	if (call->result == DTX_ETIMEDOUT)
		return DC_OUT_TIMEOUT;
	if (call->result == DTX_EPROTO)
		return DC_OUT_RETRY; /* a bad answer is retried, never trusted
		                      */
	if (call->result != DTX_OK)
		return DC_OUT_UNREACHABLE;
	switch (call->reply->status) {
	case DTX__V1__BRANCH_STATUS__BRANCH_OK:
		return DC_OUT_OK;
	case DTX__V1__BRANCH_STATUS__BRANCH_FAIL:
		return DC_OUT_FAIL;
	default:
		return DC_OUT_RETRY;
	}
}

static void describe(const dc_call *call, dc_outcome out, dtx_op op, char *buf,
                     size_t len)
{
	static const char *const words[] = {"",      "ok",      "fail",
	                                    "retry", "timeout", "unreachable"};
	const char *msg =
	        call->result == DTX_OK ? call->reply->message : call->error;

	snprintf(buf, len, "%s %s%s%s", dtx_op_name(op), words[out],
	         msg && *msg ? ": " : "", msg ? msg : "");
}

static void set_reason(live *lv, uint32_t step, const char *what)
{
	char reason[600];

	snprintf(reason, sizeof(reason), "step %u (%s): %s", step,
	         lv->tx->steps[step].action, what);
	dc_tx_set_str(&lv->tx->reason, reason);
}

/* record_answer keeps what the answer leaves in the step: an OK's result
 * (unless dropped is set: then why it was dropped), another answer's
 * description. */
static void record_answer(dc_step *st, const dc_call *call, dc_outcome out,
                          const char *what, const char *dropped)
{
	if (out == DC_OUT_OK) {
		const ProtobufCBinaryData *r = &call->reply->result;
		free(st->result);
		st->result = NULL;
		st->result_len = 0;
		if (dropped != NULL) {
			dc_tx_set_str(&st->last_error, dropped);
			return;
		}
		if (call->reply->has_result && r->len > 0 &&
		    (st->result = malloc(r->len)) != NULL) {
			memcpy(st->result, r->data, r->len);
			st->result_len = r->len;
		}
		return;
	}
	dc_tx_set_str(&st->last_error, what);
}

/* result_too_big is true (why written) if the result of call, an OK
 * answer for step i of tx, is past --max-result or would bring the
 * transaction's results past their budget: a reply holding them could
 * not reach the client. */
static bool result_too_big(const dc_engine *e, const dc_tx *tx, uint32_t i,
                           const dc_call *call, char *why, size_t len)
{
	size_t n = call->reply->has_result ? call->reply->result.len : 0;
	size_t others = 0;

	if (n > e->cfg.max_result) {
		snprintf(why, len,
		         "result of %zu bytes exceeds --max-result %zu", n,
		         e->cfg.max_result);
		return true;
	}
	for (uint32_t k = 0; k < tx->nsteps; k++)
		if (k != i)
			others += tx->steps[k].result_len;
	if (n == 0 || others + n <= e->cfg.max_tx_results)
		return false;
	snprintf(why, len,
	         "result of %zu bytes would bring the transaction's results "
	         "to %zu bytes, past their budget of %zu (--max-msg-bytes "
	         "less names and errors)",
	         n, others + n, e->cfg.max_tx_results);
	return true;
}

/* check_result refuses an OK answer whose result is too big. An action or
 * a Try then counts as a failed attempt (out becomes RETRY, what says
 * why): retried, then given up and compensated like any bad answer. A
 * compensate, confirm or cancel took effect and must not be undone: it
 * stays OK and its result is dropped (*ret_dropped says why). */
static void check_result(const dc_engine *e, const live *lv, uint32_t i,
                         dtx_op op, const dc_call *call, dc_outcome *out,
                         char *what, size_t len, const char **ret_dropped)
{
	char why[200];

	*ret_dropped = NULL;
	if (*out != DC_OUT_OK ||
	    !result_too_big(e, lv->tx, i, call, why, sizeof(why)))
		return;
	if (op == DTX_OP_ACTION || op == DTX_OP_TRY) {
		*out = DC_OUT_RETRY;
		snprintf(what, len, "%s refused: %s", dtx_op_name(op), why);
	} else {
		snprintf(what, len, "%s ok; its %s: dropped", dtx_op_name(op),
		         why);
		*ret_dropped = what;
	}
	dc_diag(DTX_LOG_WARN, "%s step %u: %s", lv->tx->gid, i, what);
}

/* call_owner finds the step whose counted call this is, or NULL for an
 * abandoned call (a newer call of the step replaced it). */
static lstep *call_owner(live *lv, const dc_call *call)
{
	for (uint32_t i = 0; i < lv->tx->nsteps && i < lv->rtcap; i++) {
		if (lv->rt[i].token == call->token)
			return &lv->rt[i];
	}
	return NULL;
}

static void on_call_done(dc_engine *e, dc_call *call)
{
	live *lv = call->owner;
	lstep *ls = call_owner(lv, call);
	dc_outcome out;
	dc_event ev;
	dc_tx_state before;
	const char *dropped;
	char what[300];

	lv->calls_out--;
	if (ls == NULL ||
	    !dc_machine_op_inflight(lv->tx, ls->index, ls->call_op)) {
		/* An abandoned or stale call (the deadline or an abort moved
		 * the transaction on while it was out): it no longer counts. */
		if (ls != NULL)
			ls->token = 0;
		dc_rpc_release(e->rpc, call);
		live_maybe_free(e, lv);
		return;
	}
	ls->token = 0;
	/* If we crash here, the participant applied the call but we never
	 * logged its answer: recovery calls again and the participant's
	 * barrier answers from its record. */
	DTX_FAULT("dtxd.after_reply_before_log");
	out = outcome_of(call);
	describe(call, out, ls->call_op, what, sizeof(what));
	check_result(e, lv, ls->index, ls->call_op, call, &out, what,
	             sizeof(what), &dropped);
	ev = (dc_event){.kind = DC_EV_REPLY,
	                .step = ls->index,
	                .op = ls->call_op,
	                .outcome = out};
	before = lv->tx->state;
	if (out == DC_OUT_OK)
		heal(e, lv);
	record_answer(&lv->tx->steps[ls->index], call, out, what, dropped);
	dc_rpc_release(e->rpc, call);
	apply(e, lv, &ev, what);
	if (before == DC_TX_RUNNING && lv->tx->state != DC_TX_RUNNING &&
	    lv->tx->failed_step >= 0)
		set_reason(lv, (uint32_t)lv->tx->failed_step, what);
	dc_diag(DTX_LOG_DEBUG, "%s step %u %s", lv->tx->gid, ls->index, what);
	live_maybe_free(e, lv);
}

/* ---- timers ---------------------------------------------------------- */

static void on_timer(uv_timer_t *h)
{
	dc_engine *e = h->data;
	uint64_t now = uv_now(e->loop);
	dc_timer *t;

	while ((t = dc_timerq_pop_due(&e->retry_q, now)) != NULL) {
		lstep *ls = container_of(t, lstep, retry_timer);
		live *lv = ls->lv;
		dc_event ev = {.kind = DC_EV_RETRY_DUE,
		               .step = ls->index,
		               .op = ls->retry_op};
		apply(e, lv, &ev, "retry due");
		live_maybe_free(e, lv);
	}
	while ((t = dc_timerq_pop_due(&e->deadline_q, now)) != NULL)
		on_deadline(e, container_of(t, live, deadline_timer));
	while ((t = dc_timerq_pop_due(&e->wait_q, now)) != NULL) {
		dc_request *req = container_of(t, dc_request, wait_timer);
		live *lv = req->wait_owner;
		waiter_remove(lv, req);
		reply_when_durable(e, req, lv);
	}
	arm_timer(e);
}

static void arm_timer(dc_engine *e)
{
	const dc_timer *t[3] = {dc_timerq_peek(&e->retry_q),
	                        dc_timerq_peek(&e->wait_q),
	                        dc_timerq_peek(&e->deadline_q)};
	uint64_t due = UINT64_MAX, now = uv_now(e->loop);

	for (int i = 0; i < 3; i++)
		if (t[i] != NULL && t[i]->due_ms < due)
			due = t[i]->due_ms;
	if (due == UINT64_MAX) {
		uv_timer_stop(&e->timer);
		return;
	}
	uv_timer_start(&e->timer, on_timer, due > now ? due - now : 0, 0);
}

/* arm_deadline queues lv's deadline on the monotonic clock. The wall
 * clock is read once, here (at submit or recovery): a later jump of the
 * wall clock neither fires nor delays it. */
static void arm_deadline(dc_engine *e, live *lv)
{
	int64_t left = lv->tx->deadline_unix_ms - now_unix_ms();

	if (lv->tx->deadline_unix_ms == 0 || dc_tx_is_final(lv->tx))
		return;
	if (dc_timerq_add(&e->deadline_q, &lv->deadline_timer,
	                  uv_now(e->loop) + (uint64_t)(left > 0 ? left : 0)))
		die_oom("deadline timer");
	arm_timer(e);
}

/* on_deadline rolls back a transaction still running at its deadline: a
 * saga compensates from the step in flight, a TCC transaction cancels
 * every branch (an unpaid reservation expires). */
static void on_deadline(dc_engine *e, live *lv)
{
	dc_event ev = {.kind = DC_EV_DEADLINE};
	bool tcc = lv->tx->mode == DC_MODE_TCC;

	if (lv->tx->state != DC_TX_RUNNING)
		return;
	if (!apply(e, lv, &ev,
	           tcc ? "deadline passed: cancelling"
	               : "deadline passed: compensating"))
		return;
	if (tcc)
		dc_tx_set_str(&lv->tx->reason,
		              "the deadline passed before the transaction was "
		              "committed");
	else if (lv->tx->failed_step >= 0)
		set_reason(lv, (uint32_t)lv->tx->failed_step,
		           "the saga's deadline passed");
	live_maybe_free(e, lv);
}

/* ---- loading from the log: quarantine --------------------------------- */

/* quarantine keeps the transaction bad describes out of the engine for
 * good: one line here, and gid -> (time, cause) into the log's quarantine
 * table in the next group commit, so that every later load of it (a
 * restart, a query, dtxctl) reports it without reading it again. Its own
 * records stay as they are, for an operator. If we crash before that
 * commit, the next load finds it bad again and quarantines it then. */
static void quarantine(dc_engine *e, const dc_log_bad *bad)
{
	if (bad->quarantined)
		return;
	dc_diag(DTX_LOG_ERROR,
	        "quarantined transaction %s: %s (it is not driven; see dtxctl "
	        "show %s)",
	        bad->gid, bad->why, bad->gid);
	if (dc_log_batch_quarantine(e->building->batch, bad, now_unix_ms()) !=
	    DTX_OK)
		die_oom("quarantine");
}

/* settle_load applies on the loop what a load found: a bad transaction
 * is quarantined; an error of the log itself stops the process. */
static void settle_load(dc_engine *e, int rv, const dc_log_bad *bad,
                        const char *err)
{
	if (bad->err != 0) {
		quarantine(e, bad);
		return;
	}
	if (rv == DTX_ENOMEM)
		die_oom("load");
	if (rv == DTX_EIO || rv == DTX_ENOSPC || rv == DTX_ECORRUPT ||
	    rv == DTX_EVERSION)
		die_read(e, rv, err);
}

/* read_tx reads gid (not in memory) from the log for req, off the loop.
 * The first call queues a load and returns READ_PENDING: req is run again
 * when the load is done (on_load_done), and then the same call returns
 * what it found: DTX_OK (*ret_tx transferred); DTX_ENOENT; DTX_ECORRUPT
 * or DTX_EVERSION for a transaction that cannot be loaded or driven
 * (quarantined already; *ret_bad says why). DTX_EBUSY: the reader's queue
 * is full. ret_bad->err is 0 unless the transaction is bad. */
static int read_tx(dc_engine *e, dc_request *req, const char *gid,
                   dc_tx **ret_tx, dc_log_bad *ret_bad)
{
	dc_load_job *j = e->redo;

	ret_bad->err = 0;
	if (j != NULL && j->head.owner == req && strcmp(j->gid, gid) == 0) {
		e->redo = NULL; /* used once */
		*ret_bad = j->bad;
		if (j->rv == DTX_OK) {
			*ret_tx = j->tx;
			j->tx = NULL;
		}
		return j->rv;
	}
	if (dc_load_job_create(gid, &j) != DTX_OK)
		die_oom("read");
	j->head.owner = req;
	j->epoch = e->read_epochs[gid_hash(gid, READ_EPOCHS)];
	if (dc_reader_submit(e->reader, &j->head.base) != DTX_OK) {
		dc_read_job_destroy(&j->head);
		return DTX_EBUSY;
	}
	return READ_PENDING;
}

/* send_read_error answers req when gid could not be read (rv). */
static void send_error(dc_request *req, int code, const char *msg);
static void send_read_error(dc_request *req, const char *gid, int rv)
{
	if (rv == DTX_EBUSY) {
		send_error(req, rv,
		           "busy: the coordinator's log reader has a full "
		           "queue (--read-queue); try again");
		return;
	}
	dc_diag(DTX_LOG_ERROR, "reading %s from the log: %s", gid,
	        dtx_strerror(rv));
	send_error(req, rv, "cannot read the transaction from the log");
}

/* quarantined_msg writes the message a request about bad's transaction
 * gets into buf. */
static void quarantined_msg(const dc_log_bad *bad, char *buf, size_t len)
{
	snprintf(buf, len, "transaction quarantined: %s", bad->why);
}

/* ---- client requests -------------------------------------------------- */

static int copy_payload(dc_step *st, bool has, const ProtobufCBinaryData *p)
{
	if (!has || p->len == 0)
		return DTX_OK;
	if ((st->payload = malloc(p->len)) == NULL)
		return DTX_ENOMEM;
	memcpy(st->payload, p->data, p->len);
	st->payload_len = p->len;
	return DTX_OK;
}

static int copy_step(dc_step *st, const Dtx__V1__SagaStep *in)
{
	st->url = strdup(in->participant_url);
	st->action = strdup(in->action);
	st->compensate = strdup(in->compensate);
	if (st->url == NULL || st->action == NULL || st->compensate == NULL)
		return DTX_ENOMEM;
	st->timeout_ms = in->has_timeout_ms ? in->timeout_ms : 0;
	return copy_payload(st, in->has_payload, &in->payload);
}

/* copy_branch fills a TCC branch: Try in action, Cancel in compensate. */
static int copy_branch(dc_step *st, const Dtx__V1__TccBranch *in)
{
	st->url = strdup(in->participant_url);
	st->action = strdup(in->try_);
	st->confirm = strdup(in->confirm);
	st->compensate = strdup(in->cancel);
	if (st->url == NULL || st->action == NULL || st->confirm == NULL ||
	    st->compensate == NULL)
		return DTX_ENOMEM;
	st->timeout_ms = in->has_timeout_ms ? in->timeout_ms : 0;
	return copy_payload(st, in->has_payload, &in->payload);
}

/* step_spec - what a request asks of one step or branch, to compare with
 * what a transaction holds (for a saga step confirm is NULL). */
typedef struct step_spec {
	const char *url, *action, *compensate, *confirm;
	const uint8_t *payload;
	size_t payload_len;
	uint32_t timeout_ms;
} step_spec;

static step_spec spec_of_step(const Dtx__V1__SagaStep *in)
{
	return (step_spec){
	        .url = in->participant_url,
	        .action = in->action,
	        .compensate = in->compensate,
	        .payload = in->has_payload ? in->payload.data : NULL,
	        .payload_len = in->has_payload ? in->payload.len : 0,
	        .timeout_ms = in->has_timeout_ms ? in->timeout_ms : 0,
	};
}

static step_spec spec_of_branch(const Dtx__V1__TccBranch *in)
{
	return (step_spec){
	        .url = in->participant_url,
	        .action = in->try_,
	        .compensate = in->cancel,
	        .confirm = in->confirm,
	        .payload = in->has_payload ? in->payload.data : NULL,
	        .payload_len = in->has_payload ? in->payload.len : 0,
	        .timeout_ms = in->has_timeout_ms ? in->timeout_ms : 0,
	};
}

static bool str_differs(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0);
}

/* step_diff names the first field of st that sp does not ask for (tcc:
 * the TCC names of the handlers), or returns NULL if none differs. */
static const char *step_diff(const dc_step *st, const step_spec *sp, bool tcc)
{
	if (str_differs(st->url, sp->url))
		return "participant URL";
	if (str_differs(st->action, sp->action))
		return tcc ? "try handler" : "action handler";
	if (str_differs(st->compensate, sp->compensate))
		return tcc ? "cancel handler" : "compensate handler";
	if (str_differs(st->confirm, sp->confirm))
		return "confirm handler";
	if (st->timeout_ms != sp->timeout_ms)
		return "timeout";
	if (st->payload_len != sp->payload_len ||
	    (sp->payload_len > 0 &&
	     memcmp(st->payload, sp->payload, sp->payload_len) != 0))
		return "payload";
	return NULL;
}

/* same_branch: st was registered from a spec equal to in. */
static bool same_branch(const dc_step *st, const Dtx__V1__TccBranch *in)
{
	step_spec sp = spec_of_branch(in);

	return step_diff(st, &sp, true) == NULL;
}

/* tx_spec - what a request that creates a transaction asks for: mode,
 * steps (saga) or branches (TCC), none for a BeginTcc, and a deadline. */
typedef struct tx_spec {
	dc_mode mode;
	bool initiator_driven;
	size_t nsteps;
	const Dtx__V1__SagaStep *const *steps;     /* saga */
	const Dtx__V1__TccBranch *const *branches; /* coordinator-run TCC */
	bool has_deadline; /* false: none (saga), the default (TCC) */
	uint32_t deadline_ms;
} tx_spec;

static const char *kind_of(dc_mode mode, bool initiator_driven)
{
	if (mode == DC_MODE_SAGA)
		return "a saga";
	return initiator_driven ? "an initiator-driven TCC transaction"
	                        : "a coordinator-run TCC transaction";
}

/* deadline_conflict: the deadline sp asks for is not the one tx has. A
 * TCC request without one takes the default, which any deadline is. */
static bool deadline_conflict(const dc_tx *tx, const tx_spec *sp,
                              int64_t *ret_have)
{
	int64_t have = tx->deadline_unix_ms != 0
	                       ? tx->deadline_unix_ms - tx->created_unix_ms
	                       : 0;
	int64_t want = sp->has_deadline ? sp->deadline_ms : 0;

	*ret_have = have;
	if (sp->mode == DC_MODE_TCC && !sp->has_deadline)
		return false;
	return have != want;
}

/* steps_conflict compares sp's steps with tx's, writing what differs. */
static bool steps_conflict(const dc_tx *tx, const tx_spec *sp, char *msg,
                           size_t len)
{
	bool tcc = sp->mode == DC_MODE_TCC;
	const char *what = NULL;
	size_t i;

	for (i = 0; i < sp->nsteps && what == NULL; i++) {
		step_spec ss = tcc ? spec_of_branch(sp->branches[i])
		                   : spec_of_step(sp->steps[i]);
		what = step_diff(&tx->steps[i], &ss, tcc);
	}
	if (what == NULL)
		return false;
	snprintf(msg, len,
	         "gid %s exists with a different %s %zu: its %s differs",
	         tx->gid, tcc ? "branch" : "step", i - 1, what);
	return true;
}

/* conflict_of is true (msg written) if the transaction tx, found under the
 * gid of a request asking for sp, is not the one sp describes: then the
 * request names another transaction and must change nothing. tx is what
 * the coordinator holds, in memory or loaded from the log; both keep every
 * field compared here. */
static bool conflict_of(const dc_tx *tx, const tx_spec *sp, char *msg,
                        size_t len)
{
	const char *have = kind_of(tx->mode, tx->initiator_driven);
	int64_t dl;

	if (tx->mode != sp->mode ||
	    tx->initiator_driven != sp->initiator_driven) {
		snprintf(msg, len,
		         "gid %s exists as %s; this request is for %s", tx->gid,
		         have, kind_of(sp->mode, sp->initiator_driven));
		return true;
	}
	if (!sp->initiator_driven && tx->nsteps != sp->nsteps) {
		snprintf(msg, len,
		         "gid %s exists as %s with %u %s; this request has %zu",
		         tx->gid, have, (unsigned)tx->nsteps,
		         sp->mode == DC_MODE_SAGA ? "steps" : "branches",
		         sp->nsteps);
		return true;
	}
	if (deadline_conflict(tx, sp, &dl)) {
		snprintf(msg, len,
		         "gid %s exists with a deadline of %lld ms (0 = none); "
		         "this request asks for %u ms",
		         tx->gid, (long long)dl,
		         sp->has_deadline ? (unsigned)sp->deadline_ms : 0u);
		return true;
	}
	return !sp->initiator_driven && steps_conflict(tx, sp, msg, len);
}

static void stamp_new(dc_tx *tx, uint32_t deadline_ms)
{
	tx->created_unix_ms = tx->updated_unix_ms = now_unix_ms();
	if (deadline_ms > 0)
		tx->deadline_unix_ms = tx->created_unix_ms + deadline_ms;
}

static int build_saga(const char *gid, const Dtx__V1__SubmitSaga *s,
                      dc_tx **ret_tx)
{
	dc_tx *tx;
	int rv = dc_tx_create(gid, DC_MODE_SAGA, (uint32_t)s->n_steps, &tx);

	if (rv != DTX_OK)
		return rv;
	for (size_t i = 0; i < s->n_steps; i++)
		if ((rv = copy_step(&tx->steps[i], s->steps[i])) != DTX_OK) {
			dc_tx_destroy(tx);
			return rv;
		}
	stamp_new(tx, s->has_deadline_ms ? s->deadline_ms : 0);
	*ret_tx = tx;
	return DTX_OK;
}

static uint32_t tcc_deadline(const dc_engine *e, bool has, uint32_t ms)
{
	return has && ms > 0 ? ms : e->cfg.tcc_deadline_ms;
}

static int build_tcc(dc_engine *e, const char *gid, const Dtx__V1__SubmitTcc *s,
                     dc_tx **ret_tx)
{
	dc_tx *tx;
	int rv = dc_tx_create(gid, DC_MODE_TCC, (uint32_t)s->n_branches, &tx);

	if (rv != DTX_OK)
		return rv;
	for (size_t i = 0; i < s->n_branches; i++)
		if ((rv = copy_branch(&tx->steps[i], s->branches[i])) !=
		    DTX_OK) {
			dc_tx_destroy(tx);
			return rv;
		}
	stamp_new(tx, tcc_deadline(e, s->has_deadline_ms, s->deadline_ms));
	*ret_tx = tx;
	return DTX_OK;
}

/* answer_from_log answers req from the log for a gid not in memory (once
 * the read is done: see read_tx). Returns false if the log has no such
 * transaction. */
static bool answer_from_log(dc_engine *e, dc_request *req, const char *gid)
{
	char msg[DC_LOG_WHY_MAX + 32];
	dc_log_bad bad;
	dc_tx *tx;
	int rv = read_tx(e, req, gid, &tx, &bad);

	if (rv == READ_PENDING)
		return true;
	if (rv == DTX_ENOENT)
		return false;
	if (bad.err != 0) { /* never a second transaction under its gid */
		quarantined_msg(&bad, msg, sizeof(msg));
		send_error(req, rv, msg);
		return true;
	}
	if (rv != DTX_OK) {
		send_read_error(req, gid, rv);
		return true;
	}
	send_tx_reply(e, req, tx, req->created);
	dc_tx_destroy(tx);
	return true;
}

/* make_gid makes the next id. It reads nothing: a made id is above
 * every id made before (the durable floor), and no client gid above the
 * last made one is ever admitted (is_reserved), so it names nothing yet.
 * (A log written before this rule could hold such a client gid; memory
 * is still checked, the log no longer is.) */
static void make_gid(dc_engine *e, char gid[GID_TEXT_LEN + 1])
{
	do {
		uint64_t id = gid_gen_next(&e->gids, (uint64_t)now_unix_ms());
		gid_format(id, gid);
		e->gid_floor_pending = id;
	} while (live_find(e, gid) != NULL);
}

/* is_reserved: a client's gid has the shape of an id this coordinator
 * makes (16 hex digits, our shard) and is above the last one made, so
 * make_gid could make it later: it is refused. Ids at or below the last
 * made one are never made again and stay free for clients. */
static bool is_reserved(const dc_engine *e, const char *gid)
{
	uint64_t id;

	return gid_parse(gid, &id) && gid_shard(id) == e->gids.shard &&
	       id > gid_gen_last(&e->gids);
}

static void respond(dc_engine *e, dc_request *req, live *lv, uint32_t wait_ms)
{
	if (wait_ms > 0)
		add_waiter(e, req, lv, wait_ms);
	else
		reply_when_durable(e, req, lv);
}

/* admit_existing answers a request asking for sp under gid when gid names
 * a transaction already, in memory (lv) or in the log: the same one
 * (idempotent: its state), or another one (DTX_ECONFLICT, nothing
 * changed). Returns false if gid names none. */
static bool admit_existing(dc_engine *e, dc_request *req, const char *gid,
                           const tx_spec *sp, uint32_t wait_ms)
{
	live *lv = live_find(e, gid);
	dc_tx *tx = NULL;
	const dc_tx *have;
	char msg[WIRE_MESSAGE_MAX];
	dc_log_bad bad;
	int rv;

	if (lv == NULL && (rv = read_tx(e, req, gid, &tx, &bad)) != DTX_OK) {
		if (rv == READ_PENDING)
			return true;
		if (rv == DTX_ENOENT)
			return false;
		if (bad.err != 0) { /* never a second transaction under gid */
			quarantined_msg(&bad, msg, sizeof(msg));
			send_error(req, rv, msg);
			return true;
		}
		send_read_error(req, gid, rv);
		return true;
	}
	have = lv != NULL ? lv->tx : tx;
	if (have->pruned_unix_ms != 0) {
		/* pruned: its details are gone, its outcome is not; never a
		 * second transaction under gid */
		send_tx_reply(e, req, have, false);
	} else if (conflict_of(have, sp, msg, sizeof(msg))) {
		dc_diag(DTX_LOG_DEBUG, "refused a resubmit: %s", msg);
		send_error(req, DTX_ECONFLICT, msg);
	} else if (lv != NULL) {
		respond(e, req, lv, wait_ms);
	} else {
		send_tx_reply(e, req, tx, false);
	}
	dc_tx_destroy(tx);
	return true;
}

/* admit_new decides what a request that creates a transaction under gid
 * (NULL: make one into made) and asks for sp gets: false if it was
 * answered already (the gid exists: see admit_existing; or the
 * coordinator is full). */
static bool admit_new(dc_engine *e, dc_request *req, const char **gid,
                      char made[GID_TEXT_LEN + 1], const tx_spec *sp,
                      uint32_t wait_ms)
{
	char msg[WIRE_MESSAGE_MAX];

	req->created = false;
	if (*gid != NULL && is_reserved(e, *gid)) {
		snprintf(msg, sizeof(msg),
		         "gid %s is reserved: it has the shape of the ids this "
		         "coordinator makes (16 hex digits, shard %u) and is "
		         "above the last one it made; omit the gid to get one, "
		         "or choose another",
		         *gid, (unsigned)e->gids.shard);
		send_error(req, DTX_EINVAL, msg);
		return false;
	}
	if (*gid != NULL && admit_existing(e, req, *gid, sp, wait_ms))
		return false;
	if (e->nlive >= e->cfg.max_active) {
		send_error(req, DTX_EBUSY, "too many active transactions");
		return false;
	}
	if (dc_retain_is_full(&e->retain)) {
		dc_retain_full_message(&e->retain, msg, sizeof(msg));
		send_error(req, DTX_ENOSPC, msg);
		return false;
	}
	if (*gid == NULL) {
		make_gid(e, made);
		*gid = made;
	}
	return true;
}

/* start_new takes tx (transferred), logs it whole and starts it. */
static void start_new(dc_engine *e, dc_request *req, dc_tx *tx,
                      uint32_t wait_ms, const char *what)
{
	dc_event ev = {.kind = DC_EV_START};
	live *lv;

	if (live_add(e, tx, &lv) != DTX_OK)
		die_oom("submit");
	req->created = true;
	mark_dirty(e, lv, UINT64_MAX);
	add_event(e, lv, -1, what);
	apply(e, lv, &ev,
	      tx->mode == DC_MODE_SAGA ? "action started" : "try started");
	arm_deadline(e, lv);
	respond(e, req, lv, wait_ms);
}

static void handle_submit(dc_engine *e, dc_request *req,
                          const Dtx__V1__SubmitSaga *s, uint32_t wait_ms)
{
	char made[GID_TEXT_LEN + 1];
	const char *gid = s->gid;
	tx_spec sp = {
	        .mode = DC_MODE_SAGA,
	        .nsteps = s->n_steps,
	        .steps = (const Dtx__V1__SagaStep *const *)s->steps,
	        .has_deadline = s->has_deadline_ms && s->deadline_ms > 0,
	        .deadline_ms = s->deadline_ms,
	};
	dc_tx *tx;

	if (!admit_new(e, req, &gid, made, &sp, wait_ms))
		return;
	if (build_saga(gid, s, &tx) != DTX_OK)
		die_oom("submit");
	start_new(e, req, tx, wait_ms, "submitted");
}

static void handle_submit_tcc(dc_engine *e, dc_request *req,
                              const Dtx__V1__SubmitTcc *s, uint32_t wait_ms)
{
	char made[GID_TEXT_LEN + 1];
	const char *gid = s->gid;
	tx_spec sp = {
	        .mode = DC_MODE_TCC,
	        .nsteps = s->n_branches,
	        .branches = (const Dtx__V1__TccBranch *const *)s->branches,
	        .has_deadline = s->has_deadline_ms && s->deadline_ms > 0,
	        .deadline_ms = s->deadline_ms,
	};
	dc_tx *tx;

	if (!admit_new(e, req, &gid, made, &sp, wait_ms))
		return;
	if (build_tcc(e, gid, s, &tx) != DTX_OK)
		die_oom("submit");
	start_new(e, req, tx, wait_ms, "submitted (TCC, coordinator-run)");
}

static void handle_begin_tcc(dc_engine *e, dc_request *req,
                             const Dtx__V1__BeginTcc *b)
{
	char made[GID_TEXT_LEN + 1];
	const char *gid = b->gid;
	tx_spec sp = {
	        .mode = DC_MODE_TCC,
	        .initiator_driven = true,
	        .has_deadline = b->has_deadline_ms && b->deadline_ms > 0,
	        .deadline_ms = b->deadline_ms,
	};
	dc_tx *tx;

	if (!admit_new(e, req, &gid, made, &sp, 0))
		return;
	if (dc_tx_create(gid, DC_MODE_TCC, 0, &tx) != DTX_OK)
		die_oom("begin");
	tx->initiator_driven = true;
	stamp_new(tx, tcc_deadline(e, b->has_deadline_ms, b->deadline_ms));
	start_new(e, req, tx, 0, "begun (TCC, initiator-driven)");
}

/* find_tcc finds the live initiator-driven TCC transaction gid for a
 * request about it; otherwise answers req and returns NULL. A final one is
 * answered from the log with its state. */
static live *find_tcc(dc_engine *e, dc_request *req, const char *gid)
{
	live *lv = live_find(e, gid);

	req->created = false;
	if (lv == NULL) {
		if (!answer_from_log(e, req, gid))
			send_error(req, DTX_ENOENT, "no such transaction");
		return NULL;
	}
	if (lv->tx->mode != DC_MODE_TCC || !lv->tx->initiator_driven) {
		send_error(req, DTX_EINVAL,
		           "not an initiator-driven TCC transaction");
		return NULL;
	}
	return lv;
}

/* handle_register appends the next branch of an initiator-driven TCC
 * transaction. The reply leaves once the branch is durable: only then may
 * the initiator call its Try (a crash after the Try can always be
 * cancelled). A repeat of a registration is answered again. */
static void handle_register(dc_engine *e, dc_request *req,
                            const Dtx__V1__RegisterBranch *r)
{
	live *lv = find_tcc(e, req, r->gid);
	dc_event ev = {.kind = DC_EV_REGISTER, .step = r->branch};
	dc_tx *tx;
	char msg[160];

	if (lv == NULL)
		return;
	tx = lv->tx;
	if (r->branch < tx->nsteps) {
		if (same_branch(&tx->steps[r->branch], r->spec))
			reply_when_durable(e, req, lv);
		else
			send_error(req, DTX_EINVAL,
			           "branch already registered differently");
		return;
	}
	if (tx->state != DC_TX_RUNNING) {
		snprintf(msg, sizeof(msg), "transaction is %s: no new branch",
		         dtx_tx_state_name((int)tx->state));
		send_error(req, DTX_EINVAL, msg);
		return;
	}
	if (r->branch != tx->nsteps) {
		snprintf(msg, sizeof(msg),
		         "branch %u out of order (next is %u)",
		         (unsigned)r->branch, (unsigned)tx->nsteps);
		send_error(req, DTX_EINVAL, msg);
		return;
	}
	if (rt_reserve(lv, tx->nsteps + 1) != DTX_OK ||
	    dc_tx_add_step(tx) != DTX_OK ||
	    copy_branch(&tx->steps[r->branch], r->spec) != DTX_OK)
		die_oom("register");
	mark_dirty(e, lv, 0);
	apply(e, lv, &ev, "branch registered");
	reply_when_durable(e, req, lv);
}

/* handle_finish commits or aborts an initiator-driven TCC transaction. A
 * commit after the deadline (or an abort) decided to cancel changes
 * nothing: the reply says CANCELLING or CANCELLED. */
static void handle_finish(dc_engine *e, dc_request *req,
                          const Dtx__V1__Finish *f, uint32_t wait_ms)
{
	live *lv = find_tcc(e, req, f->gid);
	dc_event ev = {.kind = f->commit ? DC_EV_COMMIT : DC_EV_ABORT};
	char msg[160];

	if (lv == NULL)
		return;
	if (f->commit && lv->tx->state == DC_TX_RUNNING &&
	    f->branches != lv->tx->nsteps) {
		snprintf(msg, sizeof(msg),
		         "the initiator saw %u Tries succeed but %u branches "
		         "are registered: abort instead",
		         (unsigned)f->branches, (unsigned)lv->tx->nsteps);
		send_error(req, DTX_EINVAL, msg);
		return;
	}
	if (apply(e, lv, &ev,
	          f->commit ? "commit asked by the initiator"
	                    : "abort asked by the initiator") &&
	    !f->commit)
		dc_tx_set_str(&lv->tx->reason,
		              f->reason != NULL && *f->reason
		                      ? f->reason
		                      : "aborted by the initiator");
	respond(e, req, lv, wait_ms);
	live_maybe_free(e, lv);
}

/* final_of reports whether gid is final: from memory if it is live (a
 * final state not yet durable is not final), else from what the log said
 * (r, read off the loop; a bad transaction is quarantined here). A log
 * read older than a transaction freed since says "not final": the
 * participant keeps its records and asks again. */
static bool final_of(dc_engine *e, const dc_final_read *r,
                     dc_tx_state *ret_state, int64_t *ret_ms)
{
	live *lv = live_find(e, r->gid);

	if (lv != NULL) {
		if (!dc_tx_is_final(lv->tx) || lv->pending_gen != 0 ||
		    lv->dirty)
			return false;
		*ret_state = lv->tx->state;
		*ret_ms = lv->tx->updated_unix_ms;
		return true;
	}
	if (r->bad != NULL)
		quarantine(e, r->bad); /* unknown: keep its records */
	if (r->rv != DTX_OK || !r->final)
		return false;
	*ret_state = r->state;
	*ret_ms = r->final_unix_ms;
	return true;
}

/* handle_final_query asks the reader for the final states of the gids a
 * participant asks about; on_finals_done answers. */
static void handle_final_query(dc_engine *e, dc_request *req,
                               const Dtx__V1__FinalQuery *q)
{
	size_t n = q->n_gids < WIRE_FINAL_QUERY_MAX ? q->n_gids
	                                            : WIRE_FINAL_QUERY_MAX;
	dc_finals_job *j;

	if (dc_finals_job_create((const char *const *)q->gids, n, &j) != DTX_OK)
		die_oom("final query");
	j->head.owner = req;
	if (dc_reader_submit(e->reader, &j->head.base) != DTX_OK) {
		dc_read_job_destroy(&j->head);
		send_read_error(req, NULL, DTX_EBUSY);
	}
}

/* on_finals_done lists which of the asked gids are final, and since
 * when: a participant removes barrier records only for those. */
static void on_finals_done(dc_engine *e, dc_finals_job *j)
{
	Dtx__V1__ClientReply rep = DTX__V1__CLIENT_REPLY__INIT;
	Dtx__V1__FinalGid fg[WIRE_FINAL_QUERY_MAX];
	Dtx__V1__FinalGid *fp[WIRE_FINAL_QUERY_MAX];
	size_t n = 0;

	if (j->fatal == DTX_ENOMEM)
		die_oom("final query");
	if (j->fatal != 0)
		die_read(e, j->fatal, j->err);
	for (size_t i = 0; i < j->n; i++) {
		dc_tx_state st;
		int64_t ms;
		if (!final_of(e, &j->reads[i], &st, &ms))
			continue;
		dtx__v1__final_gid__init(&fg[n]);
		fg[n].gid = j->reads[i].gid;
		fg[n].has_state = fg[n].has_final_unix_ms = 1;
		fg[n].state = (Dtx__V1__TxState)st;
		fg[n].final_unix_ms = ms;
		fp[n] = &fg[n];
		n++;
	}
	rep.has_version = rep.has_code = 1;
	rep.version = DTX__V1__VERSION__VERSION_1;
	rep.code = DTX__V1__CODE__CODE_OK;
	rep.n_finals = n;
	rep.finals = fp;
	dc_request_reply(j->head.owner, &rep);
}

static void handle_query(dc_engine *e, dc_request *req, const char *gid,
                         uint32_t wait_ms)
{
	live *lv = live_find(e, gid);

	req->created = false;
	if (lv != NULL) {
		respond(e, req, lv, wait_ms);
		return;
	}
	if (!answer_from_log(e, req, gid))
		send_error(req, DTX_ENOENT, "no such transaction");
}

static void dispatch(dc_engine *e, dc_request *req,
                     const Dtx__V1__ClientRequest *msg, uint32_t wait_ms)
{
	switch (msg->body_case) {
	case DTX__V1__CLIENT_REQUEST__BODY_SUBMIT:
		handle_submit(e, req, msg->submit, wait_ms);
		break;
	case DTX__V1__CLIENT_REQUEST__BODY_SUBMIT_TCC:
		handle_submit_tcc(e, req, msg->submit_tcc, wait_ms);
		break;
	case DTX__V1__CLIENT_REQUEST__BODY_BEGIN_TCC:
		handle_begin_tcc(e, req, msg->begin_tcc);
		break;
	case DTX__V1__CLIENT_REQUEST__BODY_REGISTER:
		handle_register(e, req, msg->register_);
		break;
	case DTX__V1__CLIENT_REQUEST__BODY_FINISH:
		handle_finish(e, req, msg->finish, wait_ms);
		break;
	case DTX__V1__CLIENT_REQUEST__BODY_FINAL_QUERY:
		handle_final_query(e, req, msg->final_query);
		break;
	default: /* the decoder admits no other body */
		handle_query(e, req, msg->query->gid, wait_ms);
		break;
	}
}

/*
 * Requests on the wrong endpoint. The two endpoints' messages share field
 * numbers, so one endpoint's request may unpack as the other's: an
 * AdminRequest{stats} reads as a ClientRequest whose SubmitTcc has no
 * branches, a ClientRequest{submit_tcc} as an AdminRequest{stats} with
 * unknown fields. A request one endpoint refuses (or, on the admin
 * endpoint, reads only with unknown fields) is tried as the other's, only
 * to word the refusal. Some bytes are both: AdminShow{gid} is
 * SubmitSaga{gid} without steps, so the client's error stands there with a
 * hint; AdminWatch{} is a valid BeginTcc{} and is served as one.
 */
typedef enum reading {
	READ_NOT = 0,   /* not the other endpoint's request */
	READ_IS = 1,    /* the other endpoint's request */
	READ_MAYBE = 2, /* valid there, and also ours spoiled */
} reading;

static const ProtobufCMessage *admin_body(const Dtx__V1__AdminRequest *m)
{
	switch (m->body_case) {
	case DTX__V1__ADMIN_REQUEST__BODY_LIST:
		return &m->list->base;
	case DTX__V1__ADMIN_REQUEST__BODY_SHOW:
		return &m->show->base;
	case DTX__V1__ADMIN_REQUEST__BODY_ACT:
		return &m->act->base;
	case DTX__V1__ADMIN_REQUEST__BODY_STATS:
		return &m->stats->base;
	default: /* the decoder admits no other body */
		return &m->watch->base;
	}
}

/* has_unknown: m or its body carries fields its type does not have. */
static bool has_unknown(const ProtobufCMessage *m, const ProtobufCMessage *body)
{
	return m->n_unknown_fields > 0 || body->n_unknown_fields > 0;
}

/* admin_reading says whether the len bytes at buf, refused as a client
 * request, are dtxctl's request. */
static reading admin_reading(const void *buf, size_t len)
{
	Dtx__V1__AdminRequest *m;
	reading r = READ_IS;

	if (wire_admin_request_decode(buf, len, &m, NULL, 0) != DTX_OK)
		return READ_NOT;
	if (has_unknown(&m->base, admin_body(m)))
		r = READ_NOT;
	else if (m->body_case == DTX__V1__ADMIN_REQUEST__BODY_SHOW)
		r = READ_MAYBE;
	wire_admin_request_free(m);
	return r;
}

/* is_client_request: the len bytes at buf are a valid client request. */
static bool is_client_request(const dc_engine *e, const void *buf, size_t len)
{
	Dtx__V1__ClientRequest *m;

	if (wire_client_request_decode(buf, len, &e->limits, &m, NULL, 0) !=
	    DTX_OK)
		return false;
	wire_client_request_free(m);
	return true;
}

/* name_admin_request rewords the refusal (*rv, err of errlen bytes) of a
 * client request that is dtxctl's, or may be. */
static void name_admin_request(const void *buf, size_t len, int *rv, char *err,
                               size_t errlen)
{
	static const char what[] = "an admin request (dtxctl) sent to the "
	                           "client endpoint; use the admin endpoint";
	size_t n;

	switch (admin_reading(buf, len)) {
	case READ_IS:
		*rv = DTX_EPROTO;
		snprintf(err, errlen, "%s", what);
		break;
	case READ_MAYBE:
		n = strlen(err);
		snprintf(err + n, errlen - n, " (or %s)", what);
		break;
	default:
		break;
	}
}

static void on_request(dc_engine *e, dc_request *req)
{
	Dtx__V1__ClientRequest *msg;
	char err[WIRE_MESSAGE_MAX / 2] = "";
	size_t len;
	const void *body = dc_request_body(req, &len);
	uint32_t wait_ms;
	int rv;

	/* server.c's limits first: size, requests and waits per connection */
	rv = dc_request_admit(req, err, sizeof(err));
	if (rv == DTX_OK) {
		rv = wire_client_request_decode(body, len, &e->limits, &msg,
		                                err, sizeof(err));
		if (rv != DTX_OK)
			name_admin_request(body, len, &rv, err, sizeof(err));
	}
	if (rv != DTX_OK) {
		dc_diag(DTX_LOG_DEBUG, "refused a request: %s", err);
		send_error(req, rv, err);
		return;
	}
	wait_ms = msg->has_wait_ms ? msg->wait_ms : 0;
	if (wait_ms > e->cfg.max_wait_ms)
		wait_ms = e->cfg.max_wait_ms;
	if (wait_ms > 0 && (rv = dc_request_wait(req, err, sizeof(err))) != 0)
		send_error(req, rv, err);
	else
		dispatch(e, req, msg, wait_ms);
	wire_client_request_free(msg);
}

static void on_admin(dc_engine *e, dc_request *req);
static void on_read_done(dc_engine *e, dc_mail *mail);

static void on_mail(void *arg, dc_mail *mail)
{
	dc_engine *e = arg;

	if (e->stopping)
		return; /* a read job stays held: the reader frees it */
	if (mail->kind == DC_MAIL_REQUEST)
		on_request(e, (dc_request *)mail);
	else if (mail->kind == DC_MAIL_ADMIN)
		on_admin(e, (dc_request *)mail);
	else if (mail->kind == DC_MAIL_READ)
		on_read_done(e, mail);
	else
		on_call_done(e, (dc_call *)mail);
}

/* ---- the admin API (dtxctl) ------------------------------------------- *
 *
 * Reads: watch answers at once from memory; list, show and stats are
 * reader jobs (a show of a live transaction takes a copy of it along).
 * An operator action is a state machine event (or a runtime switch: retry
 * now, pause, resume) made like every other transition: the action and its
 * reason go into the timeline in the same commit as the change, and the
 * calls and the reply leave only once that commit is durable. A dry run
 * runs the machine on a shadow copy and changes nothing.
 */

/* admin_send packs o and answers req now. */
static void admin_send(dc_request *req, dc_admin_out *o)
{
	uint8_t *buf;
	size_t len;

	if (dc_admin_out_pack(o, &buf, &len) != DTX_OK)
		die_oom("admin reply");
	dc_request_reply_raw(req, buf, len);
	free(buf);
}

/* admin_send_durable answers req with o once lv's newest change is
 * durable. */
static void admin_send_durable(dc_engine *e, dc_request *req, live *lv,
                               dc_admin_out *o)
{
	fx x = {.kind = FX_ADMIN_REPLY, .lv = lv, .req = req};

	if (dc_admin_out_pack(o, &x.buf, &x.len) != DTX_OK)
		die_oom("admin reply");
	defer_fx(e, &x);
}

/* next_retries writes the wall-clock due time of each step's queued
 * backoff (0 = none) into out (lv->tx->nsteps entries). */
static void next_retries(dc_engine *e, live *lv, int64_t *out)
{
	uint64_t now = uv_now(e->loop);
	int64_t wall = now_unix_ms();

	for (uint32_t i = 0; i < lv->tx->nsteps; i++) {
		const dc_timer *t = &lv->rt[i].retry_timer;
		out[i] = 0;
		if (i < lv->rtcap && dc_timer_is_queued(t))
			out[i] = wall + (int64_t)(t->due_ms > now
			                                  ? t->due_ms - now
			                                  : 0);
	}
}

/* admin_read hands the admin read req (list, show, stats) to the reader
 * with tx and next (a show's live transaction: transferred); the reply
 * leaves when the job is done (on_admin_done). */
static void admin_read(dc_engine *e, dc_request *req, dc_admin_out *o,
                       dc_tx *tx, int64_t *next)
{
	size_t len;
	const void *body = dc_request_body(req, &len);
	dc_admin_job *j;

	if (dc_admin_job_create(body, len, tx, next, &j) != DTX_OK)
		die_oom("admin read");
	j->head.owner = req;
	j->now_unix_ms = o->rep.now_unix_ms;
	j->max_bytes = e->cfg.max_msg_bytes;
	j->log_full = dc_retain_is_full(&e->retain);
	if (dc_reader_submit(e->reader, &j->head.base) == DTX_OK)
		return;
	dc_read_job_destroy(&j->head);
	dc_admin_error(o, DTX_EBUSY,
	               "busy: the coordinator's log reader has a full queue "
	               "(--read-queue); try again");
	admin_send(req, o);
}

/* admin_show shows a live transaction from memory (a copy without its
 * payloads and results, which show does not print, with its backoffs);
 * any other is loaded by the reader. */
static void admin_show(dc_engine *e, dc_request *req, dc_admin_out *o,
                       const Dtx__V1__AdminShow *s)
{
	live *lv = live_find(e, s->gid);
	int64_t *next = NULL;
	dc_tx *copy = NULL;

	if (lv != NULL) {
		next = calloc(lv->tx->nsteps + 1, sizeof(*next));
		if (next == NULL || dc_tx_copy(lv->tx, false, &copy) != DTX_OK)
			die_oom("show");
		next_retries(e, lv, next);
	}
	admin_read(e, req, o, copy, next);
}

static void admin_watch(dc_engine *e, dc_admin_out *o,
                        const Dtx__V1__AdminWatch *w)
{
	uint64_t head = e->ring_seq;
	uint64_t oldest = head > WATCH_RING ? head - WATCH_RING + 1 : 1;
	/* a cursor past the head is one of an earlier dtxd run */
	uint64_t from = !w->has_after_seq     ? head + 1
	                : w->after_seq > head ? oldest
	                                      : w->after_seq + 1;
	uint32_t max = w->has_max_events && w->max_events > 0 ? w->max_events
	                                                      : WATCH_BATCH;
	char msg[120];

	if (max > WATCH_BATCH_MAX)
		max = WATCH_BATCH_MAX;
	if (from < oldest) {
		snprintf(msg, sizeof(msg),
		         "%llu transitions were missed "
		         "(the watch ring holds %d)",
		         (unsigned long long)(oldest - from), WATCH_RING);
		dc_admin_set_message(o, msg);
		from = oldest;
	}
	for (uint64_t q = from;
	     q <= head && o->rep.n_events < max && !dc_admin_is_full(o); q++) {
		const watch_line *l = &e->ring[q % WATCH_RING];
		dc_admin_add_event(o, l->seq, l->gid, &l->ev);
	}
	o->rep.has_next_seq = 1;
	o->rep.next_seq = from - 1 + o->rep.n_events;
}

/* ---- operator actions ---- */

static const char *action_name(Dtx__V1__AdminAction a)
{
	static const char *const names[] = {
	        "?",      "retry", "compensate", "cancel",
	        "commit", "pause", "resume",     "skip-branch",
	};

	return (unsigned)a < sizeof(names) / sizeof(names[0]) ? names[a] : "?";
}

/* action_event turns a machine action into its event; false for the
 * runtime-only ones (retry, pause, resume). */
static bool action_event(const Dtx__V1__AdminAct *a, dc_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	switch (a->action) {
	case DTX__V1__ADMIN_ACTION__ADMIN_COMPENSATE:
	case DTX__V1__ADMIN_ACTION__ADMIN_CANCEL:
		ev->kind = DC_EV_OPERATOR_ROLLBACK;
		return true;
	case DTX__V1__ADMIN_ACTION__ADMIN_COMMIT:
		ev->kind = DC_EV_COMMIT;
		return true;
	case DTX__V1__ADMIN_ACTION__ADMIN_SKIP:
		ev->kind = DC_EV_SKIP;
		ev->step = a->branch;
		ev->done = a->has_skip_as_done && a->skip_as_done;
		return true;
	default:
		return false;
	}
}

/* refusal explains why action a does not apply to tx (msg, NULL if it
 * may apply: the machine has the last word). */
static const char *refusal(const dc_tx *tx, const Dtx__V1__AdminAct *a,
                           char *msg, size_t len)
{
	bool tcc = tx->mode == DC_MODE_TCC;

	switch (a->action) {
	case DTX__V1__ADMIN_ACTION__ADMIN_COMPENSATE:
		return tcc ? "a TCC transaction is rolled back with cancel"
		           : NULL;
	case DTX__V1__ADMIN_ACTION__ADMIN_CANCEL:
		return tcc ? NULL : "a saga is rolled back with compensate";
	case DTX__V1__ADMIN_ACTION__ADMIN_COMMIT:
		if (!tcc)
			return "commit applies to TCC transactions only";
		if (!tx->initiator_driven && tx->state == DC_TX_RUNNING)
			return "a coordinator-run TCC transaction confirms by "
			       "itself once every Try succeeded; a Try is "
			       "still pending: use retry, skip-branch or "
			       "cancel";
		return NULL;
	case DTX__V1__ADMIN_ACTION__ADMIN_PAUSE:
		return tx->paused ? "already paused" : NULL;
	case DTX__V1__ADMIN_ACTION__ADMIN_RESUME:
		return tx->paused ? NULL : "not paused";
	case DTX__V1__ADMIN_ACTION__ADMIN_RETRY:
		return tx->paused ? "paused: resume it first" : NULL;
	case DTX__V1__ADMIN_ACTION__ADMIN_SKIP:
		if (a->branch < tx->nsteps)
			return NULL;
		snprintf(msg, len,
		         "branch %u is out of range (the "
		         "transaction has %u)",
		         (unsigned)a->branch, (unsigned)tx->nsteps);
		return msg;
	default:
		return "unknown action";
	}
}

/* inflight_op returns the op step i has in flight, or 0. */
static dtx_op inflight_op(const dc_tx *tx, uint32_t i)
{
	static const dtx_op ops[] = {DTX_OP_ACTION, DTX_OP_COMPENSATE,
	                             DTX_OP_TRY, DTX_OP_CONFIRM, DTX_OP_CANCEL};

	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
		if (dc_machine_op_inflight(tx, i, ops[k]))
			return ops[k];
	return (dtx_op)0;
}

/* runtime_targets lists the steps a retry (queued backoffs) or a resume
 * (in flight, no call out, no backoff queued) would call now. */
static uint32_t runtime_targets(live *lv, bool resume, uint32_t *steps,
                                dtx_op *ops)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < lv->tx->nsteps; i++) {
		const lstep *ls = &lv->rt[i];
		bool queued = dc_timer_is_queued(&ls->retry_timer);
		dtx_op op = inflight_op(lv->tx, i);
		if (op == 0 || (resume ? (queued || ls->token != 0) : !queued))
			continue;
		steps[n] = i;
		ops[n++] = op;
	}
	return n;
}

static void describe_runtime(dc_admin_out *o, live *lv, bool resume, uint32_t n,
                             const uint32_t *steps, const dtx_op *ops)
{
	const dc_tx *tx = lv->tx;
	char line[DTX_URL_MAX + DTX_HANDLER_MAX + 64];

	for (uint32_t k = 0; k < n; k++) {
		const dc_step *st = &tx->steps[steps[k]];
		snprintf(line, sizeof(line),
		         "branch %u: %s %s at %s (attempt %u)%s",
		         (unsigned)steps[k], dtx_op_name(ops[k]),
		         dc_step_handler(st, ops[k]), st->url, st->attempts,
		         resume ? "" : " - backoff skipped");
		dc_admin_add_line(o, true, line);
	}
}

/* act_runtime does (or, dry, describes) retry, pause or resume. */
static const char *act_runtime(dc_engine *e, live *lv,
                               const Dtx__V1__AdminAct *a, dc_admin_out *o,
                               bool dry)
{
	bool pause = a->action == DTX__V1__ADMIN_ACTION__ADMIN_PAUSE;
	bool resume = a->action == DTX__V1__ADMIN_ACTION__ADMIN_RESUME;
	uint32_t *steps = calloc(lv->tx->nsteps + 1, sizeof(*steps));
	dtx_op *ops = calloc(lv->tx->nsteps + 1, sizeof(*ops));
	uint32_t n;

	if (steps == NULL || ops == NULL)
		die_oom("admin");
	n = pause ? 0 : runtime_targets(lv, resume, steps, ops);
	if (!pause && !resume && n == 0) {
		free(steps);
		free(ops);
		return "no branch is waiting for a retry";
	}
	dc_admin_add_line(o, false,
	                  pause    ? "paused: no branch call is sent until "
	                             "resume (calls out finish)"
	                  : resume ? "resumed: calls are sent again"
	                           : "backoff skipped");
	describe_runtime(o, lv, resume, n, steps, ops);
	if (!dry) {
		if (pause || resume) {
			lv->tx->paused = pause;
			mark_dirty(e, lv, 0);
		}
		for (uint32_t k = 0; k < n; k++) {
			dc_event ev = {.kind = DC_EV_RETRY_DUE,
			               .step = steps[k],
			               .op = ops[k]};
			dc_timerq_remove(&e->retry_q,
			                 &lv->rt[steps[k]].retry_timer);
			apply(e, lv, &ev, "called now by an operator");
		}
	}
	free(steps);
	free(ops);
	return NULL;
}

/* act_machine runs the action's event on a shadow copy (describing what
 * follows) and, unless dry, on the transaction itself. */
static const char *act_machine(dc_engine *e, live *lv,
                               const Dtx__V1__AdminAct *a, dc_admin_out *o,
                               bool dry, const char *what)
{
	dc_event ev;
	dc_out out;
	dc_tx shadow;

	action_event(a, &ev);
	if (dc_admin_shadow(lv->tx, &shadow) != DTX_OK)
		die_oom("admin");
	dc_machine_apply(&shadow, &e->policy, &ev, &out);
	if (out.ignored) {
		dc_admin_shadow_fini(&shadow);
		return NULL; /* the caller words the refusal */
	}
	dc_admin_describe(o, lv->tx, &shadow, &out);
	dc_admin_shadow_fini(&shadow);
	if (lv->tx->paused)
		dc_admin_add_line(o, true,
		                  "(paused: these calls wait for "
		                  "resume)");
	if (!dry)
		apply(e, lv, &ev, what);
	return "";
}

static void set_operator_reason(live *lv, const Dtx__V1__AdminAct *a)
{
	char reason[WIRE_MESSAGE_MAX + 64];

	if (a->action != DTX__V1__ADMIN_ACTION__ADMIN_COMPENSATE &&
	    a->action != DTX__V1__ADMIN_ACTION__ADMIN_CANCEL)
		return;
	snprintf(reason, sizeof(reason), "operator %s: %s",
	         action_name(a->action), a->reason);
	dc_tx_set_str(&lv->tx->reason, reason);
}

/* record_action appends "operator ACTION by USER: REASON" to lv's
 * timeline, in the commit that holds the action's change. */
static void record_action(dc_engine *e, live *lv, const Dtx__V1__AdminAct *a)
{
	char line[WIRE_MESSAGE_MAX + DTX_HANDLER_MAX + 64];
	char what[48];

	if (a->action == DTX__V1__ADMIN_ACTION__ADMIN_SKIP)
		snprintf(what, sizeof(what), "skip-branch %u as %s",
		         (unsigned)a->branch,
		         a->skip_as_done ? "done" : "failed");
	else
		snprintf(what, sizeof(what), "%s", action_name(a->action));
	snprintf(line, sizeof(line), "operator %s by %s: %s", what,
	         a->user != NULL && *a->user ? a->user : "unknown", a->reason);
	mark_dirty(e, lv, 0);
	add_event(e, lv, -1, line);
	dc_diag(DTX_LOG_INFO, "%s: %s", lv->tx->gid, line);
}

/* act_on runs a on the live transaction lv; returns a refusal or NULL. */
static const char *act_on(dc_engine *e, live *lv, const Dtx__V1__AdminAct *a,
                          dc_admin_out *o, char *msg, size_t len)
{
	dc_event ev;
	const char *why = refusal(lv->tx, a, msg, len);
	bool dry = a->dry_run;
	char what[64];

	if (why != NULL)
		return why;
	if (!action_event(a, &ev)) {
		if (!dry)
			record_action(e, lv, a);
		return act_runtime(e, lv, a, o, dry);
	}
	/* Refuse before anything is recorded: try on a shadow first. */
	if (act_machine(e, lv, a, o, true, NULL) == NULL) {
		snprintf(msg, len,
		         "%s does not apply now: the transaction is "
		         "%s%s%s",
		         action_name(a->action),
		         dtx_tx_state_name((int)lv->tx->state),
		         ev.kind == DC_EV_SKIP ? ", the branch is " : "",
		         ev.kind == DC_EV_SKIP
		                 ? dtx_step_state_name(
		                           (int)lv->tx->steps[a->branch].state)
		                 : "");
		return msg;
	}
	if (dry)
		return NULL;
	record_action(e, lv, a);
	snprintf(what, sizeof(what), "operator %s", action_name(a->action));
	apply(e, lv, &ev, what);
	set_operator_reason(lv, a);
	return NULL;
}

/* admin_act answers an operator action; the reply of a real one leaves
 * once the action is durable. */
static void admin_act(dc_engine *e, dc_request *req, dc_admin_out *o,
                      const Dtx__V1__AdminAct *a)
{
	live *lv = live_find(e, a->gid);
	char msg[DC_LOG_WHY_MAX + 32];
	const char *why;
	dc_log_bad bad;
	dc_tx *tx;
	int rv = DTX_OK;

	o->rep.has_dry_run = 1;
	o->rep.dry_run = a->dry_run;
	if (lv == NULL || dc_tx_is_final(lv->tx)) {
		if (lv == NULL)
			rv = read_tx(e, req, a->gid, &tx, &bad);
		if (rv == READ_PENDING)
			return;
		if (rv != DTX_OK && bad.err != 0) {
			quarantined_msg(&bad, msg, sizeof(msg));
			dc_admin_error(o, rv, msg);
		} else if (rv != DTX_OK) {
			dc_admin_error(o, rv,
			               rv == DTX_ENOENT ? "no such transaction"
			                                : dtx_strerror(rv));
		} else {
			if (lv == NULL)
				dc_admin_own(o, tx);
			snprintf(msg, sizeof(msg),
			         "the transaction is %s (final): nothing to do",
			         dtx_tx_state_name(
			                 (int)(lv ? lv->tx : tx)->state));
			dc_admin_error(o, DTX_EINVAL, msg);
		}
		admin_send(req, o);
		return;
	}
	why = act_on(e, lv, a, o, msg, sizeof(msg));
	if (why != NULL) {
		o->rep.n_transitions = o->rep.n_calls = 0;
		dc_admin_error(o, DTX_EINVAL, why);
		admin_send(req, o);
		return;
	}
	dc_admin_add_tx(o, lv->tx, NULL);
	if (a->dry_run)
		admin_send(req, o);
	else
		admin_send_durable(e, req, lv, o);
	live_maybe_free(e, lv);
}

static void admin_dispatch(dc_engine *e, dc_request *req, dc_admin_out *o,
                           const Dtx__V1__AdminRequest *m)
{
	switch (m->body_case) {
	case DTX__V1__ADMIN_REQUEST__BODY_LIST:
	case DTX__V1__ADMIN_REQUEST__BODY_STATS:
		admin_read(e, req, o, NULL, NULL);
		return;
	case DTX__V1__ADMIN_REQUEST__BODY_SHOW:
		admin_show(e, req, o, m->show);
		return;
	case DTX__V1__ADMIN_REQUEST__BODY_WATCH:
		admin_watch(e, o, m->watch);
		break;
	default: /* ACT: the decoder admits no other body */
		admin_act(e, req, o, m->act);
		return;
	}
	admin_send(req, o);
}

static void on_admin(dc_engine *e, dc_request *req)
{
	Dtx__V1__AdminRequest *m;
	dc_admin_out o;
	char err[200] = "";
	size_t len;
	const void *body = dc_request_body(req, &len);
	int rv = dc_request_admit(req, err, sizeof(err));

	if (rv != DTX_OK) {
		/* refused by server.c's limits: answer that */
	} else if ((rv = wire_admin_request_decode(body, len, &m, err,
	                                           sizeof(err))) != DTX_OK ||
	           has_unknown(&m->base, admin_body(m))) {
		if (is_client_request(e, body, len)) {
			if (rv == DTX_OK)
				wire_admin_request_free(m);
			rv = DTX_EPROTO;
			snprintf(err, sizeof(err),
			         "a client request (libdtx) sent to the admin "
			         "endpoint; use the client endpoint");
		}
	}
	dc_admin_out_init(&o, now_unix_ms());
	o.max_bytes = e->cfg.max_msg_bytes;
	if (rv != DTX_OK) {
		dc_admin_error(&o, rv, err);
		admin_send(req, &o);
	} else {
		admin_dispatch(e, req, &o, m);
		wire_admin_request_free(m);
	}
	dc_admin_out_fini(&o);
}

/* ---- reads done (see "Reads" at the top) ------------------------------ */

/* send_busy answers req (client or admin) that its read could not be
 * queued. */
static void send_busy(dc_engine *e, dc_request *req)
{
	dc_admin_out o;

	if (req->mail.kind != DC_MAIL_ADMIN) {
		send_read_error(req, NULL, DTX_EBUSY);
		return;
	}
	dc_admin_out_init(&o, now_unix_ms());
	dc_admin_error(&o, DTX_EBUSY,
	               "busy: the coordinator's log reader has a full queue "
	               "(--read-queue); try again");
	admin_send(req, &o);
	dc_admin_out_fini(&o);
	(void)e;
}

/* on_load_done applies what a load found (settle_load) and runs its
 * request again with the result at hand (read_tx). A load whose gid's
 * epoch moved may have missed a transaction created and freed meanwhile:
 * it is read again. */
static void on_load_done(dc_engine *e, dc_load_job *j)
{
	dc_request *req = j->head.owner;
	uint32_t epoch = e->read_epochs[gid_hash(j->gid, READ_EPOCHS)];

	if (j->epoch != epoch) {
		j->epoch = epoch;
		if (dc_reader_submit(e->reader, &j->head.base) != DTX_OK) {
			send_busy(e, req);
			dc_read_job_destroy(&j->head);
		}
		return;
	}
	settle_load(e, j->rv, &j->bad, j->err);
	e->redo = j;
	if (req->mail.kind == DC_MAIL_ADMIN)
		on_admin(e, req);
	else
		on_request(e, req);
	e->redo = NULL;
	dc_read_job_destroy(&j->head);
}

/* on_admin_done sends the reply an admin read built. */
static void on_admin_done(dc_admin_job *j)
{
	if (j->reply == NULL)
		die_oom("admin reply");
	dc_request_reply_raw(j->head.owner, j->reply, j->reply_len);
	dc_read_job_destroy(&j->head);
}

static void on_read_done(dc_engine *e, dc_mail *mail)
{
	dc_read_head *h = dc_read_head_of(mail);

	dc_reader_finish(e->reader, &h->base);
	if (h->kind == DC_READ_LOAD) {
		on_load_done(e, (dc_load_job *)h);
	} else if (h->kind == DC_READ_FINALS) {
		on_finals_done(e, (dc_finals_job *)h);
		dc_read_job_destroy(h);
	} else {
		on_admin_done((dc_admin_job *)h);
	}
}

/* ---- recovery ---------------------------------------------------------- */

/* recover_bad keeps a transaction recovery cannot load, or cannot drive,
 * out of the engine: quarantined (once), counted, never called. */
static int recover_bad(void *arg, const dc_log_bad *bad)
{
	dc_engine *e = arg;

	quarantine(e, bad);
	e->recovery.quarantined++;
	return DTX_OK;
}

static int recover_one(void *arg, dc_tx *tx)
{
	dc_engine *e = arg;
	dc_event ev = {.kind = DC_EV_RECOVER};
	dc_log_bad bad;
	live *lv;

	if (dc_tx_is_final(tx)) { /* active index lagging: harmless */
		dc_tx_destroy(tx);
		return DTX_OK;
	}
	if (!dc_read_check(tx, &bad)) {
		dc_tx_destroy(tx);
		return recover_bad(e, &bad);
	}
	if (live_add(e, tx, &lv) != DTX_OK) {
		dc_tx_destroy(tx);
		return DTX_ENOMEM;
	}
	switch (tx->state) {
	case DC_TX_RUNNING:
		e->recovery.running++;
		break;
	case DC_TX_CONFIRMING:
		e->recovery.confirming++;
		break;
	case DC_TX_CANCELLING:
		e->recovery.cancelling++;
		break;
	default:
		e->recovery.compensating++;
	}
	apply(e, lv, &ev, "recovered: call again");
	arm_deadline(e, lv);
	return DTX_OK;
}

/* recover loads every non-final transaction and queues the call each one
 * may have had in flight; the calls go out once the new attempt counts are
 * committed (the first flush). A transaction that cannot be loaded or
 * driven is quarantined and the others go on; an error of the log itself
 * (EIO, a file LMDB finds damaged) fails the start. */
static int recover(dc_engine *e, char *errbuf, size_t errlen)
{
	uint64_t floor = 0;
	uint64_t t0 = uv_hrtime();
	int rv;

	rv = dc_log_gid_floor(e->log, &floor);
	if (rv == DTX_OK)
		rv = gid_gen_init(&e->gids, e->cfg.shard, floor);
	if (rv == DTX_OK)
		rv = dc_log_scan_checked(e->log, false, NULL, recover_one,
		                         recover_bad, e);
	if (rv != DTX_OK) {
		snprintf(errbuf, errlen, "recovery from %s failed: %s: %s",
		         dc_log_path(e->log), dtx_strerror(rv),
		         dc_log_last_error(e->log));
		return rv;
	}
	e->recovery.millis = (double)(uv_hrtime() - t0) / 1e6;
	return DTX_OK;
}

/* ---- lifecycle ----------------------------------------------------------- */

static void configure(dc_engine *e, uv_loop_t *loop, const dc_config *cfg)
{
	e->loop = loop;
	e->cfg = *cfg;
	e->policy.action_max_attempts = cfg->action_max_attempts;
	e->backoff.base_ms = cfg->retry_base_ms;
	e->backoff.multiplier = cfg->retry_multiplier;
	e->backoff.max_ms = cfg->retry_max_ms;
	e->limits.max_steps = cfg->max_steps;
	e->limits.max_payload = cfg->max_payload;
	e->rnd = (uint64_t)now_unix_ms() ^ ((uint64_t)getpid() << 32) ^ 1;
	e->next_gen = 1;
	/* a TCC transaction may have a backoff per branch */
	dc_timerq_init(&e->retry_q,
	               (size_t)cfg->max_active * cfg->max_steps + 16);
	dc_timerq_init(&e->wait_q, (size_t)cfg->max_clients + 16);
	dc_timerq_init(&e->deadline_q, (size_t)cfg->max_active + 16);
	dc_retain_init(&e->retain, cfg->retain_final_ms,
	               cfg->retain_tombstones_ms);
}

static int open_log(dc_engine *e, char *errbuf, size_t errlen)
{
	dc_log_opts lo = {
	        .dir = e->cfg.log_dir,
	        .map_size = e->cfg.map_size,
	        .map_size_max = e->cfg.map_size_max,
	};

	return dc_log_open(&lo, &e->log, errbuf, errlen);
}

static int open_handles(dc_engine *e)
{
	if (dc_mailbox_init(&e->mb, e->loop, on_mail, e) != DTX_OK)
		return DTX_EINTERNAL;
	e->mb_open = true;
	uv_prepare_init(e->loop, &e->prepare);
	uv_timer_init(e->loop, &e->timer);
	uv_timer_init(e->loop, &e->retain_timer);
	e->prepare.data = e->timer.data = e->retain_timer.data = e;
	e->handles_open = true;
	uv_prepare_start(&e->prepare, on_prepare);
	if (dc_retain_is_on(&e->retain)) /* an idle log is pruned too */
		uv_timer_start(&e->retain_timer, on_retain_timer,
		               e->retain.every_ms, e->retain.every_ms);
	return DTX_OK;
}

/* open_admin listens on the admin endpoint with its own request pool, so
 * operators get answers while the client endpoint is saturated. The
 * default address taken by another dtxd on this host is a warning, not a
 * failure: that dtxd runs without an admin endpoint (ask for one with
 * --admin URL). */
static int open_admin(dc_engine *e, char *errbuf, size_t errlen)
{
	const char *urls[1] = {e->cfg.admin};
	dc_server_opts so = {
	        .urls = urls,
	        .nurls = 1,
	        .slots = e->cfg.admin_slots,
	        .max_msg_bytes = e->cfg.max_msg_bytes,
	        .max_conns = DC_ADMIN_MAX_CONNS,
	        .idle_ms = e->cfg.idle_timeout_ms,
	        .mail_kind = DC_MAIL_ADMIN,
	};
	int rv;

	if (e->cfg.admin == NULL)
		return DTX_OK;
	rv = dc_server_open(&so, &e->mb, &e->admin_srv, errbuf, errlen);
	if (rv == DTX_EUNREACHABLE && e->cfg.admin_default) {
		dc_diag(DTX_LOG_WARN, "no admin endpoint: %s", errbuf);
		errbuf[0] = '\0';
		e->admin_srv = NULL;
		return DTX_OK;
	}
	return rv;
}

static int open_net(dc_engine *e, char *errbuf, size_t errlen)
{
	dc_rpc_opts ro = {
	        .max_calls = e->cfg.max_calls,
	        .max_peers = e->cfg.max_peers,
	        .max_dialing = e->cfg.max_dialing,
	        .idle_ms = e->cfg.peer_idle_ms,
	        .max_msg_bytes = e->cfg.max_msg_bytes,
	        .limits = e->limits,
	};
	dc_server_opts so = {
	        .urls = e->cfg.listen,
	        .nurls = e->cfg.nlisten,
	        .slots = e->cfg.max_clients,
	        .max_msg_bytes = e->cfg.max_msg_bytes,
	        .max_conns = e->cfg.max_conns,
	        .max_per_conn = e->cfg.max_requests_per_conn,
	        .max_waits_per_conn = e->cfg.max_waits_per_conn,
	        .idle_ms = e->cfg.idle_timeout_ms,
	};
	int rv = dc_rpc_create(&ro, &e->mb, &e->rpc);

	if (rv != DTX_OK)
		return rv;
	rv = dc_server_open(&so, &e->mb, &e->srv, errbuf, errlen);
	if (rv != DTX_OK)
		return rv;
	return open_admin(e, errbuf, errlen);
}

int dc_engine_create(uv_loop_t *loop, const dc_config *cfg,
                     dc_engine **ret_engine, char *errbuf, size_t errlen)
{
	dc_engine *e = calloc(1, sizeof(*e));
	int rv = DTX_ENOMEM;

	if (e == NULL)
		return DTX_ENOMEM;
	configure(e, loop, cfg);
	e->nbuckets = 1024;
	if ((e->buckets = calloc(e->nbuckets, sizeof(*e->buckets))) == NULL ||
	    (e->ring = calloc(WATCH_RING, sizeof(*e->ring))) == NULL ||
	    flight_init(e, &e->flights[0]) != DTX_OK ||
	    flight_init(e, &e->flights[1]) != DTX_OK)
		goto fail;
	flight_reset(e, &e->flights[0]);
	flight_reset(e, &e->flights[1]);
	e->building = &e->flights[0];
	if ((rv = open_log(e, errbuf, errlen)) != DTX_OK ||
	    (rv = open_handles(e)) != DTX_OK ||
	    (rv = recover(e, errbuf, errlen)) != DTX_OK ||
	    (rv = dc_reader_create(e->log, &e->mb, e->cfg.read_queue,
	                           &e->reader)) != DTX_OK ||
	    (rv = open_net(e, errbuf, errlen)) != DTX_OK)
		goto fail;
	*ret_engine = e;
	return DTX_OK;
fail:
	dc_engine_stop(e);
	uv_run(loop, UV_RUN_DEFAULT); /* let closed handles finish */
	dc_engine_destroy(e);
	return rv;
}

const dc_recovery *dc_engine_recovery(const dc_engine *e)
{
	return &e->recovery;
}

static void finish_stop(dc_engine *e)
{
	if (e->mb_open) {
		dc_mailbox_close(&e->mb);
		e->mb_open = false;
	}
	if (e->handles_open) {
		uv_close((uv_handle_t *)&e->prepare, NULL);
		uv_close((uv_handle_t *)&e->timer, NULL);
		uv_close((uv_handle_t *)&e->retain_timer, NULL);
		e->handles_open = false;
	}
}

void dc_engine_stop(dc_engine *e)
{
	if (e->stopping)
		return;
	e->stopping = true;
	/* No more mail: close the sockets and wait for nng's callbacks. */
	dc_server_close(e->srv);
	dc_server_close(e->admin_srv);
	dc_rpc_close(e->rpc);
	dc_reader_stop(e->reader); /* waits for one chunk at most */
	if (e->inflight == NULL)
		finish_stop(e);
	/* else after_work_cb calls finish_stop when the commit returns */
}

void dc_engine_destroy(dc_engine *e)
{
	if (e == NULL)
		return;
	/* The queues first: their timers live in the transactions and the
	 * server's requests freed below, and fini marks each one unqueued
	 * (found by the chaos harness: a SIGTERM while clients waited for
	 * an outcome wrote into freed requests). */
	dc_timerq_fini(&e->retry_q);
	dc_timerq_fini(&e->wait_q);
	dc_timerq_fini(&e->deadline_q);
	for (size_t i = 0; e->buckets != NULL && i < e->nbuckets; i++) {
		live *lv = e->buckets[i];
		while (lv != NULL) {
			live *next = lv->hnext;
			live_free(lv);
			lv = next;
		}
	}
	free(e->buckets);
	dc_server_destroy(e->srv);
	dc_server_destroy(e->admin_srv);
	free(e->ring);
	dc_rpc_destroy(e->rpc);
	flight_fini(&e->flights[0]);
	flight_fini(&e->flights[1]);
	dc_reader_destroy(e->reader);
	dc_log_close(e->log);
	dc_mailbox_fini(&e->mb);
	free(e);
}
