/*
 * commit.c - the group-commit pipeline: transitions logged, then acted on.
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
 * committed; let the worker touch anything but its flight.
 */
#include "engine_int.h"

/* ---- flights: group commit and effects ------------------------------ */

int eng_flight_init(dc_engine *e, flight *f)
{
	f->e = e;
	f->work.data = f;
	return dc_log_batch_create(&f->batch);
}

void eng_flight_fini(flight *f)
{
	for (size_t i = 0; i < f->nfx; i++)
		if (f->fx[i].kind == FX_ADMIN_REPLY)
			free(f->fx[i].buf);
	dc_log_batch_destroy(f->batch);
	free(f->fx);
	free(f->lives);
}

void eng_flight_reset(dc_engine *e, flight *f)
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
		eng_die_oom("flight");
	*cap = n;
	return p;
}

void eng_flight_push_fx(flight *f, const fx *x)
{
	if (f->nfx == f->capfx)
		f->fx = grow_array(f->fx, &f->capfx, sizeof(*f->fx));
	f->fx[f->nfx++] = *x;
	x->lv->pins++;
}

flight *eng_flight_of_gen(dc_engine *e, uint64_t gen)
{
	if (e->building->gen == gen)
		return e->building;
	assert(e->inflight != NULL && e->inflight->gen == gen);
	return e->inflight;
}

/* eng_defer_fx runs x once lv's newest change is durable (now, if it is). */
void eng_defer_fx(dc_engine *e, const fx *x)
{
	if (x->lv->pending_gen == 0) {
		x->lv->pins++;
		eng_run_fx(e, x);
		return;
	}
	eng_flight_push_fx(eng_flight_of_gen(e, x->lv->pending_gen), x);
}

void eng_mark_dirty(dc_engine *e, live *lv, uint64_t dirty_steps)
{
	lv->dirty_steps |= dirty_steps;
	lv->pending_gen = e->building->gen;
	lv->tx->updated_unix_ms = eng_now_unix_ms(e);
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
	w->ev.edit = NULL;
}

void eng_add_event(dc_engine *e, live *lv, int32_t step, const char *what)
{
	eng_add_edit(e, lv, step, what, NULL);
}

void eng_add_edit(dc_engine *e, live *lv, int32_t step, const char *what,
                  const dc_log_edit *edit)
{
	dc_tx *tx = lv->tx;
	dc_log_event ev = {
	        .unix_ms = eng_now_unix_ms(e),
	        .tx_state = tx->state,
	        .step = step,
	        .step_state = step >= 0 ? tx->steps[step].state : 0,
	        .detail = what,
	        .edit = edit,
	};

	if (dc_log_batch_add_event(e->building->batch, tx->gid,
	                           tx->next_event_seq++, &ev) != DTX_OK)
		eng_die_oom("event");
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
			eng_die_oom("batch");
		eng_leases_fence(e, f->batch, lv->tx->gid);
		eng_live_count(e, lv);
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
		if (eng_leases_set_floor(e, f->batch, e->gid_floor_pending))
			eng_die_oom("batch");
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
	dc_metrics_commit(e->metrics, f->nlives,
	                  dc_metrics_now_ns() - f->sealed_ns);
	if (f->usage_ok)
		dc_metrics_log_usage(e->metrics, f->usage.used_bytes,
		                     f->usage.file_bytes, f->usage.max_bytes);
	/* 2. Act on it, in the order the transitions were made. Effects may
	 *    queue more effects on the building flight, never on this one. */
	for (size_t i = 0; i < f->nfx; i++)
		eng_run_fx(e, &f->fx[i]);
	/* 3. Release the flight's references. */
	for (size_t i = 0; i < f->nlives; i++) {
		f->lives[i]->pins--;
		eng_live_maybe_free(e, f->lives[i]);
	}
	eng_flight_reset(e, f);
}

void eng_after_work_cb(uv_work_t *w, int status)
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
			eng_die_durability(e,
			                   rv == DTX_ELIMIT ? DTX_ENOSPC : rv,
			                   dc_log_last_error(e->log));
		dc_diag(DTX_LOG_WARN, "log map full: grown, committing again");
		uv_queue_work(e->loop, &f->work, work_cb, eng_after_work_cb);
		return;
	}
	if (f->result == DTX_ECONFLICT && e->leases != NULL)
		eng_leases_die_fenced(e, f->err);
	if (f->result != DTX_OK)
		eng_die_durability(e, f->result, f->err);
	after_commit(e, f);
	if (e->stopping)
		eng_finish_stop(e);
	else
		eng_flush(e);
}

/* eng_flush seals the building flight and hands it to the writer, if no commit
 * is in flight and there is anything to write. */
void eng_flush(dc_engine *e)
{
	flight *f = e->building;
	int64_t now = eng_now_unix_ms(e);

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
	if (f->pruning) /* with leases: our shards only, fenced */
		eng_leases_prune_scope(e, f);
	/* Effects are queued on a flight only while one of its transactions
	 * has a change in it, so a flight with effects has writes. */
	assert(dc_log_batch_len(f->batch) > 0 || f->pruning);
	e->inflight = f;
	e->building = (f == &e->flights[0]) ? &e->flights[1] : &e->flights[0];
	f->sealed_ns = dc_metrics_now_ns();
	if (uv_queue_work(e->loop, &f->work, work_cb, eng_after_work_cb) != 0)
		eng_die_durability(e, DTX_EINTERNAL, "cannot queue the commit");
}

void eng_on_retain_timer(uv_timer_t *h)
{
	eng_flush(h->data); /* commits a prune if one is due */
}

void eng_on_prepare(uv_prepare_t *h)
{
	dc_engine *e = h->data;

	eng_flush(e);
	if (e->net_open) /* the branch calls this loop turn made */
		dc_transport_flush(e->net);
}
