/*
 * live.c - the table of live transactions: every non-final transaction,
 * and a final one until its last effects ran, by gid.
 *
 * Owns the chained hash table (grown by doubling), each live's runtime
 * steps (rt) and its lifetime: a live is freed only when it is final,
 * unpinned (no queued effect points at it) and has no call out.
 *
 * Must never: hold more than --max-active non-final transactions (the
 * client API checks before adding); free a live an effect still points at.
 */
#include "engine_int.h"

/* ---- the table of live transactions -------------------------------- */

size_t eng_gid_hash(const char *s, size_t nbuckets)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return (size_t)(h & (nbuckets - 1));
}

live *eng_live_find(dc_engine *e, const char *gid)
{
	live *lv = e->buckets[eng_gid_hash(gid, e->nbuckets)];

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
			size_t h = eng_gid_hash(lv->tx->gid, n);
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

/* eng_rt_reserve makes room for n steps in lv->rt. The array may move, so no
 * step may have a queued retry timer (asserted): only an initiator-driven
 * TCC transaction grows, while it is RUNNING and the coordinator calls
 * none of its branches. */
int eng_rt_reserve(live *lv, uint32_t n)
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

void eng_live_free(live *lv)
{
	dc_tx_destroy(lv->tx);
	free(lv->rt);
	free(lv);
}

/* eng_age_ms is how old lv's transaction is. The wall clock is read once,
 * when it was loaded (submit or recovery); since then the monotonic clock
 * counts, so the age that flags a transaction for an operator never jumps
 * with the wall clock. */
int64_t eng_age_ms(const dc_engine *e, const live *lv)
{
	return lv->age_at_load_ms +
	       (int64_t)(eng_now_mono_ms(e) - lv->loaded_mono_ms);
}

/* eng_live_add takes tx (transferred on success). */
int eng_live_add(dc_engine *e, dc_tx *tx, live **ret_lv)
{
	live *lv;
	size_t h;

	if (e->nlive >= e->nbuckets && table_grow(e) != DTX_OK)
		return DTX_ENOMEM;
	if ((lv = calloc(1, sizeof(*lv))) == NULL)
		return DTX_ENOMEM;
	if (eng_rt_reserve(lv, tx->nsteps) != DTX_OK) {
		free(lv);
		return DTX_ENOMEM;
	}
	lv->tx = tx;
	dc_timer_init(&lv->deadline_timer);
	lv->age_at_load_ms = eng_now_unix_ms(e) - tx->created_unix_ms;
	if (lv->age_at_load_ms < 0)
		lv->age_at_load_ms = 0;
	lv->loaded_mono_ms = eng_now_mono_ms(e);
	h = eng_gid_hash(tx->gid, e->nbuckets);
	lv->hnext = e->buckets[h];
	e->buckets[h] = lv;
	e->nlive++;
	lv->m_mode = (uint8_t)tx->mode;
	lv->m_state = (uint8_t)tx->state;
	lv->m_needs = tx->needs_operator;
	dc_metrics_tx_gauge(e->metrics, lv->m_mode, lv->m_state, lv->m_needs,
	                    1);
	*ret_lv = lv;
	return DTX_OK;
}

/* eng_live_count: see engine_int.h. Called as lv is sealed into a
 * commit (every change of a transaction is), so the gauges follow what
 * is being made durable. */
void eng_live_count(dc_engine *e, live *lv)
{
	const dc_tx *tx = lv->tx;

	if (lv->m_state == (uint8_t)tx->state &&
	    lv->m_needs == tx->needs_operator)
		return;
	dc_metrics_tx_gauge(e->metrics, lv->m_mode, lv->m_state, lv->m_needs,
	                    -1);
	dc_metrics_tx_gauge(e->metrics, lv->m_mode, tx->state,
	                    tx->needs_operator, 1);
	if (dc_tx_is_final(tx))
		dc_metrics_tx_finished(e->metrics, lv->m_mode, tx->state);
	lv->m_state = (uint8_t)tx->state;
	lv->m_needs = tx->needs_operator;
}

static void live_unlink(dc_engine *e, live *lv)
{
	live **pp = &e->buckets[eng_gid_hash(lv->tx->gid, e->nbuckets)];

	while (*pp != lv)
		pp = &(*pp)->hnext;
	*pp = lv->hnext;
	e->nlive--;
	dc_metrics_tx_gauge(e->metrics, lv->m_mode, lv->m_state, lv->m_needs,
	                    -1);
}

bool eng_live_hand_over(dc_engine *e, live *lv)
{
	lv->handed = true;
	for (uint32_t i = 0; i < lv->rtcap; i++)
		dc_timerq_remove(&e->retry_q, &lv->rt[i].retry_timer);
	dc_timerq_remove(&e->deadline_q, &lv->deadline_timer);
	while (lv->waiters != NULL) {
		waiter *w = lv->waiters;

		eng_waiter_remove(w);
		eng_reply_when_durable(e, w->req, lv);
	}
	if (lv->pins > 0 || lv->calls_out > 0 || lv->pending_gen != 0 ||
	    lv->dirty || lv->waiters != NULL)
		return false;
	live_unlink(e, lv);
	e->read_epochs[eng_gid_hash(lv->tx->gid, READ_EPOCHS)]++;
	eng_live_free(lv);
	return true;
}

/* eng_live_maybe_free drops a final transaction once nothing refers to it:
 * later requests for its gid are answered from the log. */
void eng_live_maybe_free(dc_engine *e, live *lv)
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
	e->read_epochs[eng_gid_hash(lv->tx->gid, READ_EPOCHS)]++;
	eng_live_free(lv);
}
