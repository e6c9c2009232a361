/*
 * engine.c - the coordinator's loop: requests in, transitions logged, calls
 * out (see engine.h).
 *
 * Owns every live transaction, the group-commit pipeline and the timers. It
 * runs on one libuv loop thread and never blocks it: LMDB commits run on a
 * libuv worker thread, nng completions arrive through the mailbox.
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

#include "backoff.h"
#include "diag.h"
#include "fault.h"
#include "gid.h"
#include "log.h"
#include "mailbox.h"
#include "rpc.h"
#include "saga.h"
#include "server.h"
#include "timerq.h"
#include "tx.h"
#include "wire.h"

#define CALL_SLOT_WAIT_MS 10 /* retry a call the rpc pool had no room for */

#define container_of(ptr, type, member)                                        \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

typedef struct live live;

typedef enum fx_kind {
	FX_CALL = 1,        /* send the branch call of (step, op) */
	FX_RETRY_LATER = 2, /* arm the backoff timer of (step, op) */
	FX_FINISHED = 3,    /* the final state is durable: answer waiters */
	FX_REPLY = 4,       /* answer one client request */
} fx_kind;

typedef struct fx {
	fx_kind kind;
	live *lv;
	uint32_t step;
	dtx_op op;
	dc_request *req;
} fx;

typedef struct flight {
	uint64_t gen;
	dc_log_batch *batch;
	fx *fx;
	size_t nfx, capfx;
	live **lives; /* transactions encoded into batch */
	size_t nlives, caplives;
	int result; /* of the commit, written by the worker */
	uv_work_t work;
	dc_engine *e;
} flight;

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
	uint64_t call_token;  /* the call whose answer counts; 0 = none */
	uint32_t calls_out;   /* calls sent, not completed yet (owner = us) */
	uint32_t call_step;   /* what the counted call is */
	dtx_op call_op;
	dc_timer retry_timer; /* backoff (or a wait for an rpc slot) */
	uint32_t retry_step;
	dtx_op retry_op;
	dc_timer deadline_timer; /* the saga's own deadline */
	dc_request *waiters;     /* clients waiting for the final state */
};

struct dc_engine {
	uv_loop_t *loop;
	dc_config cfg;
	dc_log *log;
	dc_server *srv;
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

	dc_saga_policy policy;
	dc_backoff backoff;
	wire_limits limits;
	dc_recovery recovery;
	bool stopping;
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

static __attribute__((noreturn)) void die_durability(dc_engine *e, int err)
{
	dc_diag(DTX_LOG_ERROR,
	        "log commit failed on %s: %s; stopping now (crash-only: a "
	        "restart recovers every acknowledged transaction from the log)",
	        dc_log_path(e->log), dtx_strerror(err));
	_exit(EX_IOERR);
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

/* live_add takes tx (transferred on success). */
static int live_add(dc_engine *e, dc_tx *tx, live **ret_lv)
{
	live *lv;
	size_t h;

	if (e->nlive >= e->nbuckets && table_grow(e) != DTX_OK)
		return DTX_ENOMEM;
	if ((lv = calloc(1, sizeof(*lv))) == NULL)
		return DTX_ENOMEM;
	lv->tx = tx;
	dc_timer_init(&lv->retry_timer);
	dc_timer_init(&lv->deadline_timer);
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
	dc_timerq_remove(&e->retry_q, &lv->retry_timer);
	dc_timerq_remove(&e->deadline_q, &lv->deadline_timer);
	if (lv->pins > 0 || lv->calls_out > 0 || lv->waiters != NULL ||
	    lv->pending_gen != 0 || lv->dirty)
		return;
	live_unlink(e, lv);
	dc_tx_destroy(lv->tx);
	free(lv);
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

	f->result = dc_log_commit(f->e->log, f->batch);
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
			die_durability(e, rv == DTX_ELIMIT ? DTX_ENOSPC : rv);
		dc_diag(DTX_LOG_WARN, "log map full: grown, committing again");
		uv_queue_work(e->loop, &f->work, work_cb, after_work_cb);
		return;
	}
	if (f->result != DTX_OK)
		die_durability(e, f->result);
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

	if (e->inflight != NULL || e->stopping)
		return;
	if (e->dirty_head == NULL && f->nfx == 0)
		return;
	seal_dirty(e, f);
	/* Effects are queued on a flight only while one of its transactions
	 * has a change in it, so a flight with effects has writes. */
	assert(dc_log_batch_len(f->batch) > 0);
	e->inflight = f;
	e->building = (f == &e->flights[0]) ? &e->flights[1] : &e->flights[0];
	if (uv_queue_work(e->loop, &f->work, work_cb, after_work_cb) != 0)
		die_durability(e, DTX_EINTERNAL);
}

static void on_prepare(uv_prepare_t *h)
{
	flush(h->data);
}

/* ---- replies to clients --------------------------------------------- */

static void fill_step_info(const dc_step *st, uint32_t i, Dtx__V1__StepInfo *si)
{
	dtx__v1__step_info__init(si);
	si->has_index = si->has_state = si->has_attempts = 1;
	si->index = i;
	si->state = (Dtx__V1__StepState)st->state;
	si->attempts = st->attempts;
	si->last_error = st->last_error;
	si->action = st->action;
	si->compensate = st->compensate;
	si->participant_url = st->url;
	if (st->result != NULL) {
		si->has_result = 1;
		si->result.data = st->result;
		si->result.len = st->result_len;
	}
}

static void send_tx_reply(dc_request *req, const dc_tx *tx, bool created)
{
	Dtx__V1__ClientReply rep = DTX__V1__CLIENT_REPLY__INIT;
	Dtx__V1__TxInfo info = DTX__V1__TX_INFO__INIT;
	Dtx__V1__StepInfo *si = calloc(tx->nsteps, sizeof(*si));
	Dtx__V1__StepInfo **sp = calloc(tx->nsteps, sizeof(*sp));

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
	rep.has_version = rep.has_code = rep.has_created = 1;
	rep.version = DTX__V1__VERSION__VERSION_1;
	rep.code = DTX__V1__CODE__CODE_OK;
	rep.created = created;
	rep.tx = &info;
	dc_request_reply(req, &rep);
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
		send_tx_reply(req, lv->tx, req->created);
		req = next;
	}
}

/* ---- driving the state machine -------------------------------------- */

static const char *op_word(dtx_op op)
{
	return op == DTX_OP_ACTION ? "action" : "compensate";
}

static void record_changes(dc_engine *e, live *lv, const dc_saga_out *out,
                           const char *what)
{
	for (uint32_t i = 0; i < lv->tx->nsteps; i++) {
		uint64_t bit = 1ull << (i < 63 ? i : 63);
		if (out->dirty_steps & bit)
			add_event(e, lv, (int32_t)i, what);
	}
	if (dc_tx_is_final(lv->tx))
		add_event(e, lv, -1,
		          lv->tx->state == DC_TX_COMMITTED ? "committed"
		                                           : "compensated");
}

/* apply runs the saga machine on ev and turns its output into log writes
 * and deferred effects. */
static void apply(dc_engine *e, live *lv, const dc_saga_event *ev,
                  const char *what)
{
	dc_saga_out out;

	dc_saga_apply(lv->tx, &e->policy, ev, &out);
	if (out.ignored)
		return;
	if (out.changed) {
		mark_dirty(e, lv, out.dirty_steps);
		record_changes(e, lv, &out, what);
	}
	for (uint32_t i = 0; i < out.nacts; i++) {
		const dc_saga_act *a = &out.acts[i];
		fx x = {.lv = lv, .step = a->step, .op = a->op};
		x.kind = a->kind == DC_SAGA_ACT_CALL          ? FX_CALL
		         : a->kind == DC_SAGA_ACT_RETRY_LATER ? FX_RETRY_LATER
		                                              : FX_FINISHED;
		defer_fx(e, &x);
	}
}

static void schedule_retry(dc_engine *e, live *lv, uint32_t step, dtx_op op,
                           uint32_t delay_ms)
{
	lv->retry_step = step;
	lv->retry_op = op;
	if (dc_timerq_add(&e->retry_q, &lv->retry_timer,
	                  uv_now(e->loop) + delay_ms) != DTX_OK)
		die_oom("retry timer");
	arm_timer(e);
}

static void give_up_call(dc_engine *e, live *lv, const char *why);

static void send_call(dc_engine *e, live *lv, uint32_t step, dtx_op op)
{
	const dc_step *st = &lv->tx->steps[step];
	Dtx__V1__BranchCall msg = DTX__V1__BRANCH_CALL__INIT;
	uint32_t timeout =
	        st->timeout_ms ? st->timeout_ms : e->cfg.call_timeout_ms;
	int rv;

	msg.has_version = msg.has_branch = msg.has_op = msg.has_attempt = 1;
	msg.version = DTX__V1__VERSION__VERSION_1;
	msg.gid = lv->tx->gid;
	msg.branch = step;
	msg.op = (Dtx__V1__Op)op;
	msg.handler = op == DTX_OP_ACTION ? st->action : st->compensate;
	msg.has_payload = 1;
	msg.payload.data = st->payload;
	msg.payload.len = st->payload_len;
	msg.attempt = st->attempts ? st->attempts : 1;
	lv->call_token = ++e->next_token;
	lv->call_step = step;
	lv->call_op = op;
	rv = dc_rpc_call(e->rpc, st->url, &msg, timeout, lv, lv->call_token);
	if (rv == DTX_OK) {
		lv->calls_out++;
		return;
	}
	lv->call_token = 0;
	if (rv == DTX_ELIMIT || rv == DTX_ENOMEM) {
		/* No room to send now: not the participant's fault, so no
		 * attempt is counted. Try again shortly. */
		schedule_retry(e, lv, step, op, CALL_SLOT_WAIT_MS);
		return;
	}
	give_up_call(e, lv, dtx_strerror(rv));
}

/* give_up_call treats a call that could not even be sent (e.g. a URL nng
 * refuses) as an unreachable participant: it counts as a failed attempt. */
static void give_up_call(dc_engine *e, live *lv, const char *why)
{
	dc_saga_event ev = {.kind = DC_SAGA_EV_REPLY,
	                    .step = lv->call_step,
	                    .op = lv->call_op,
	                    .outcome = DC_OUT_UNREACHABLE};
	char what[200];

	dc_tx_set_str(&lv->tx->steps[lv->call_step].last_error, why);
	snprintf(what, sizeof(what), "%s not sent: %s", op_word(lv->call_op),
	         why);
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
	int64_t age = now_unix_ms() - tx->created_unix_ms;
	char why[600];

	if (tx->needs_operator)
		return;
	if (st->attempts <= e->cfg.stuck_after_attempts &&
	    age <= (int64_t)e->cfg.stuck_after_ms)
		return;
	snprintf(why, sizeof(why), "step %u %s %s: %u attempts, %lld s old: %s",
	         step, op_word(op),
	         op == DTX_OP_ACTION ? st->action : st->compensate,
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

static void run_fx(dc_engine *e, const fx *x)
{
	live *lv = x->lv;

	switch (x->kind) {
	case FX_CALL:
		/* If we crash here, the transition is durable and the call was
		 * never sent: recovery sends it (attempt + 1). */
		DTX_FAULT("dtxd.after_commit_before_call");
		if (x->op == DTX_OP_COMPENSATE)
			DTX_FAULT("dtxd.mid_compensation");
		send_call(e, lv, x->step, x->op);
		break;
	case FX_RETRY_LATER: {
		uint32_t failed = lv->tx->steps[x->step].attempts - 1;
		check_stuck(e, lv, x->step, x->op);
		schedule_retry(e, lv, x->step, x->op,
		               dc_backoff_delay_ms(&e->backoff, failed,
		                                   next_random(e)));
		break;
	}
	case FX_FINISHED:
		answer_waiters(e, lv);
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
		send_tx_reply(x->req, lv->tx, x->req->created);
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

	snprintf(buf, len, "%s %s%s%s", op_word(op), words[out],
	         msg && *msg ? ": " : "", msg ? msg : "");
}

static void set_reason(live *lv, uint32_t step, const char *what)
{
	char reason[600];

	snprintf(reason, sizeof(reason), "step %u (%s): %s", step,
	         lv->tx->steps[step].action, what);
	dc_tx_set_str(&lv->tx->reason, reason);
}

static void record_answer(live *lv, const dc_call *call, dc_outcome out,
                          const char *what)
{
	dc_step *st = &lv->tx->steps[lv->call_step];

	if (out == DC_OUT_OK) {
		const ProtobufCBinaryData *r = &call->reply->result;
		free(st->result);
		st->result = NULL;
		st->result_len = 0;
		if (call->reply->has_result && r->len > 0 &&
		    (st->result = malloc(r->len)) != NULL) {
			memcpy(st->result, r->data, r->len);
			st->result_len = r->len;
		}
		return;
	}
	dc_tx_set_str(&st->last_error, what);
}

static void on_call_done(dc_engine *e, dc_call *call)
{
	live *lv = call->owner;
	dc_outcome out;
	dc_saga_event ev;
	dc_tx_state before;
	char what[300];

	lv->calls_out--;
	if (lv->call_token != call->token) {
		/* An abandoned call (the deadline rolled the saga back while
		 * it was out): its answer no longer counts. */
		dc_rpc_release(e->rpc, call);
		live_maybe_free(e, lv);
		return;
	}
	lv->call_token = 0;
	/* If we crash here, the participant applied the call but we never
	 * logged its answer: recovery calls again and the participant's
	 * barrier answers from its record. */
	DTX_FAULT("dtxd.after_reply_before_log");
	out = outcome_of(call);
	describe(call, out, lv->call_op, what, sizeof(what));
	ev = (dc_saga_event){.kind = DC_SAGA_EV_REPLY,
	                     .step = lv->call_step,
	                     .op = lv->call_op,
	                     .outcome = out};
	before = lv->tx->state;
	if (out == DC_OUT_OK)
		heal(e, lv);
	record_answer(lv, call, out, what);
	dc_rpc_release(e->rpc, call);
	apply(e, lv, &ev, what);
	if (before == DC_TX_RUNNING && lv->tx->state != DC_TX_RUNNING &&
	    lv->tx->failed_step >= 0)
		set_reason(lv, (uint32_t)lv->tx->failed_step, what);
	dc_diag(DTX_LOG_DEBUG, "%s step %u %s", lv->tx->gid, lv->call_step,
	        what);
	live_maybe_free(e, lv);
}

/* ---- timers ---------------------------------------------------------- */

static void on_timer(uv_timer_t *h)
{
	dc_engine *e = h->data;
	uint64_t now = uv_now(e->loop);
	dc_timer *t;

	while ((t = dc_timerq_pop_due(&e->retry_q, now)) != NULL) {
		live *lv = container_of(t, live, retry_timer);
		dc_saga_event ev = {.kind = DC_SAGA_EV_RETRY_DUE,
		                    .step = lv->retry_step,
		                    .op = lv->retry_op};
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

/* arm_deadline queues lv's saga deadline on the monotonic clock. The wall
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

static void on_deadline(dc_engine *e, live *lv)
{
	dc_saga_event ev = {.kind = DC_SAGA_EV_DEADLINE};
	uint32_t step = lv->call_step;

	if (lv->tx->state != DC_TX_RUNNING)
		return;
	/* The action in flight is abandoned: its answer will not count. */
	lv->call_token = 0;
	dc_timerq_remove(&e->retry_q, &lv->retry_timer);
	apply(e, lv, &ev, "deadline passed: compensating");
	if (lv->tx->failed_step >= 0) {
		step = (uint32_t)lv->tx->failed_step;
		set_reason(lv, step, "the saga's deadline passed");
	}
	live_maybe_free(e, lv);
}

/* ---- client requests -------------------------------------------------- */

static int copy_step(dc_step *st, const Dtx__V1__SagaStep *in)
{
	st->url = strdup(in->participant_url);
	st->action = strdup(in->action);
	st->compensate = strdup(in->compensate);
	if (st->url == NULL || st->action == NULL || st->compensate == NULL)
		return DTX_ENOMEM;
	st->timeout_ms = in->has_timeout_ms ? in->timeout_ms : 0;
	if (in->has_payload && in->payload.len > 0) {
		st->payload = malloc(in->payload.len);
		if (st->payload == NULL)
			return DTX_ENOMEM;
		memcpy(st->payload, in->payload.data, in->payload.len);
		st->payload_len = in->payload.len;
	}
	return DTX_OK;
}

static int build_tx(const char *gid, const Dtx__V1__SubmitSaga *s,
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
	tx->created_unix_ms = tx->updated_unix_ms = now_unix_ms();
	if (s->has_deadline_ms && s->deadline_ms > 0)
		tx->deadline_unix_ms = tx->created_unix_ms + s->deadline_ms;
	*ret_tx = tx;
	return DTX_OK;
}

/* lookup_final answers req from the log for a gid not in memory. Returns
 * false if the log has no such transaction. */
static bool answer_from_log(dc_engine *e, dc_request *req, const char *gid)
{
	dc_tx *tx;
	int rv = dc_log_load_tx(e->log, gid, &tx);

	if (rv == DTX_ENOENT)
		return false;
	if (rv != DTX_OK) {
		dc_diag(DTX_LOG_ERROR, "reading %s from the log: %s", gid,
		        dtx_strerror(rv));
		send_error(req, rv, "cannot read the transaction from the log");
		return true;
	}
	send_tx_reply(req, tx, req->created);
	dc_tx_destroy(tx);
	return true;
}

static void make_gid(dc_engine *e, char gid[GID_TEXT_LEN + 1])
{
	dc_tx *tx;

	/* A client may have chosen a gid that looks like one of ours: skip
	 * any id that already names a transaction. */
	for (;;) {
		uint64_t id = gid_gen_next(&e->gids, (uint64_t)now_unix_ms());
		gid_format(id, gid);
		e->gid_floor_pending = id;
		if (live_find(e, gid) != NULL)
			continue;
		if (dc_log_load_tx(e->log, gid, &tx) == DTX_OK) {
			dc_tx_destroy(tx);
			continue;
		}
		return;
	}
}

static void respond(dc_engine *e, dc_request *req, live *lv, uint32_t wait_ms)
{
	if (wait_ms > 0)
		add_waiter(e, req, lv, wait_ms);
	else
		reply_when_durable(e, req, lv);
}

static void handle_submit(dc_engine *e, dc_request *req,
                          const Dtx__V1__SubmitSaga *s, uint32_t wait_ms)
{
	char made[GID_TEXT_LEN + 1];
	const char *gid = s->gid;
	dc_saga_event ev = {.kind = DC_SAGA_EV_START};
	live *lv;
	dc_tx *tx;

	req->created = false;
	if (gid != NULL && (lv = live_find(e, gid)) != NULL) {
		respond(e, req, lv, wait_ms); /* idempotent: the same tx */
		return;
	}
	if (gid != NULL && answer_from_log(e, req, gid))
		return;
	if (e->nlive >= e->cfg.max_active) {
		send_error(req, DTX_EBUSY, "too many active transactions");
		return;
	}
	if (gid == NULL) {
		make_gid(e, made);
		gid = made;
	}
	if (build_tx(gid, s, &tx) != DTX_OK || live_add(e, tx, &lv) != DTX_OK)
		die_oom("submit");
	req->created = true;
	mark_dirty(e, lv, UINT64_MAX);
	add_event(e, lv, -1, "submitted");
	apply(e, lv, &ev, "action started");
	arm_deadline(e, lv);
	respond(e, req, lv, wait_ms);
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

static void on_request(dc_engine *e, dc_request *req)
{
	Dtx__V1__ClientRequest *msg;
	char err[200] = "";
	size_t len;
	const void *body = dc_request_body(req, &len);
	uint32_t wait_ms;
	int rv;

	rv = wire_client_request_decode(body, len, &e->limits, &msg, err,
	                                sizeof(err));
	if (rv != DTX_OK) {
		dc_diag(DTX_LOG_DEBUG, "refused a request: %s", err);
		send_error(req, rv, err);
		return;
	}
	wait_ms = msg->has_wait_ms ? msg->wait_ms : 0;
	if (wait_ms > e->cfg.max_wait_ms)
		wait_ms = e->cfg.max_wait_ms;
	if (msg->body_case == DTX__V1__CLIENT_REQUEST__BODY_SUBMIT)
		handle_submit(e, req, msg->submit, wait_ms);
	else
		handle_query(e, req, msg->query->gid, wait_ms);
	wire_client_request_free(msg);
}

static void on_mail(void *arg, dc_mail *mail)
{
	dc_engine *e = arg;

	if (e->stopping)
		return;
	if (mail->kind == DC_MAIL_REQUEST)
		on_request(e, (dc_request *)mail);
	else
		on_call_done(e, (dc_call *)mail);
}

/* ---- recovery ---------------------------------------------------------- */

static int recover_one(void *arg, dc_tx *tx)
{
	dc_engine *e = arg;
	dc_saga_event ev = {.kind = DC_SAGA_EV_RECOVER};
	live *lv;

	if (dc_tx_is_final(tx)) { /* active index lagging: harmless */
		dc_tx_destroy(tx);
		return DTX_OK;
	}
	if (live_add(e, tx, &lv) != DTX_OK) {
		dc_tx_destroy(tx);
		return DTX_ENOMEM;
	}
	if (tx->state == DC_TX_RUNNING)
		e->recovery.running++;
	else
		e->recovery.compensating++;
	apply(e, lv, &ev, "recovered: call again");
	arm_deadline(e, lv);
	return DTX_OK;
}

/* recover loads every non-final transaction and queues the call each one
 * may have had in flight; the calls go out once the new attempt counts are
 * committed (the first flush). */
static int recover(dc_engine *e, char *errbuf, size_t errlen)
{
	uint64_t floor = 0;
	uint64_t t0 = uv_hrtime();
	int rv;

	rv = dc_log_gid_floor(e->log, &floor);
	if (rv == DTX_OK)
		rv = gid_gen_init(&e->gids, e->cfg.shard, floor);
	if (rv == DTX_OK)
		rv = dc_log_scan_active(e->log, recover_one, e);
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
	dc_timerq_init(&e->retry_q, (size_t)cfg->max_active + 16);
	dc_timerq_init(&e->wait_q, (size_t)cfg->max_clients + 16);
	dc_timerq_init(&e->deadline_q, (size_t)cfg->max_active + 16);
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
	e->prepare.data = e->timer.data = e;
	e->handles_open = true;
	uv_prepare_start(&e->prepare, on_prepare);
	return DTX_OK;
}

static int open_net(dc_engine *e, char *errbuf, size_t errlen)
{
	dc_rpc_opts ro = {
	        .max_calls = e->cfg.max_calls,
	        .max_peers = e->cfg.max_peers,
	        .max_msg_bytes = e->cfg.max_msg_bytes,
	        .limits = e->limits,
	};
	dc_server_opts so = {
	        .urls = e->cfg.listen,
	        .nurls = e->cfg.nlisten,
	        .slots = e->cfg.max_clients,
	        .max_msg_bytes = e->cfg.max_msg_bytes,
	};
	int rv = dc_rpc_create(&ro, &e->mb, &e->rpc);

	if (rv != DTX_OK)
		return rv;
	return dc_server_open(&so, &e->mb, &e->srv, errbuf, errlen);
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
	    flight_init(e, &e->flights[0]) != DTX_OK ||
	    flight_init(e, &e->flights[1]) != DTX_OK)
		goto fail;
	flight_reset(e, &e->flights[0]);
	flight_reset(e, &e->flights[1]);
	e->building = &e->flights[0];
	if ((rv = open_log(e, errbuf, errlen)) != DTX_OK ||
	    (rv = open_handles(e)) != DTX_OK ||
	    (rv = recover(e, errbuf, errlen)) != DTX_OK ||
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
	dc_rpc_close(e->rpc);
	if (e->inflight == NULL)
		finish_stop(e);
	/* else after_work_cb calls finish_stop when the commit returns */
}

void dc_engine_destroy(dc_engine *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; e->buckets != NULL && i < e->nbuckets; i++) {
		live *lv = e->buckets[i];
		while (lv != NULL) {
			live *next = lv->hnext;
			dc_tx_destroy(lv->tx);
			free(lv);
			lv = next;
		}
	}
	free(e->buckets);
	dc_server_destroy(e->srv);
	dc_rpc_destroy(e->rpc);
	flight_fini(&e->flights[0]);
	flight_fini(&e->flights[1]);
	dc_timerq_fini(&e->retry_q);
	dc_timerq_fini(&e->wait_q);
	dc_timerq_fini(&e->deadline_q);
	dc_log_close(e->log);
	dc_mailbox_fini(&e->mb);
	free(e);
}
