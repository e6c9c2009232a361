/*
 * recovery.c - recovery at start: every non-final transaction in the log
 * is loaded, checked and resumed (its calls in flight sent again with the
 * next attempt number; participants dedupe with the barrier).
 *
 * A transaction that cannot be loaded or driven is quarantined (load.c)
 * and counted; recovery goes on with the others.
 *
 * Must never: drive a transaction before the whole scan finished.
 */
#include "engine_int.h"

/* ---- recovery ---------------------------------------------------------- */

/* recover_bad keeps a transaction recovery cannot load, or cannot drive,
 * out of the engine: quarantined (once), counted, never called. */
int eng_recover_bad(void *arg, const dc_log_bad *bad)
{
	dc_engine *e = arg;

	eng_quarantine(e, bad);
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
		return eng_recover_bad(e, &bad);
	}
	if (eng_live_add(e, tx, &lv) != DTX_OK) {
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
	eng_apply(e, lv, &ev, "recovered: call again");
	eng_arm_deadline(e, lv);
	return DTX_OK;
}

/* eng_recover_tx adds tx (transferred on success) of a shard just taken
 * and drives it, as recovery at start does. Errors: DTX_ENOMEM. */
int eng_recover_tx(dc_engine *e, dc_tx *tx)
{
	return recover_one(e, tx);
}

/* eng_recover loads every non-final transaction and queues the call each one
 * may have had in flight; the calls go out once the new attempt counts are
 * committed (the first flush). A transaction that cannot be loaded or
 * driven is quarantined and the others go on; an error of the log itself
 * (EIO, a file LMDB finds damaged) fails the start. */
int eng_recover(dc_engine *e, char *errbuf, size_t errlen)
{
	uint64_t floor = 0;
	uint64_t t0 = uv_hrtime();
	int rv;

	/* a test holds recovery here to see /readyz answer 503 meanwhile */
	DTX_HOLD("dtxd.recovery");
	rv = dc_log_gid_floor(e->log, &floor);
	if (rv == DTX_OK)
		rv = gid_gen_init(&e->gids, e->cfg.shard, floor);
	/* with leases, a shard's transactions are recovered when it is
	 * taken (leases.c), not here */
	if (rv == DTX_OK && e->leases == NULL)
		rv = dc_log_scan_checked(e->log, false, NULL, recover_one,
		                         eng_recover_bad, e);
	if (rv != DTX_OK) {
		snprintf(errbuf, errlen, "recovery from %s failed: %s: %s",
		         dc_log_path(e->log), dtx_strerror(rv),
		         dc_log_last_error(e->log));
		return rv;
	}
	e->recovery.millis = (double)(uv_hrtime() - t0) / 1e6;
	if (e->leases == NULL)
		dc_metrics_recovered(
		        e->metrics,
		        e->recovery.running + e->recovery.compensating +
		                e->recovery.confirming + e->recovery.cancelling,
		        e->recovery.quarantined, e->recovery.millis);
	return DTX_OK;
}
