/*
 * hostile_peers_test.c - participant URLs come from clients: a flood of
 * transactions at URLs that lead nowhere must not fill dtxd's peer table
 * for good, spin, or eat descriptors, and a transaction to a healthy
 * participant submitted afterwards still commits (DESIGN.md, rule 7).
 *
 * The floods are TCC submits whose branches name distinct ipc:// paths
 * with nothing behind them. dtxd's descriptors are counted in
 * /proc/PID/fd. A last case plants a step whose timeout_ms (a uint32 in
 * the log) is past nng's int32 durations and checks that the call still
 * gets its time: it writes the log record itself, since submits refuse
 * such a value at the wire.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "log.h"
#include "tx.h"

#define FD_SAMPLES    30  /* descriptor counts taken during a flood */
#define FD_SAMPLE_MS  100 /* ... this far apart */
#define WAIT_DEAD_MS  60000
#define POLL_MS       100
#define SLOW_DELAY_MS "1500"

TestSuite(hostile_peers, .fini = th_teardown, .timeout = 180);

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* max_fds samples p's descriptors FD_SAMPLES times and returns the most. */
static int max_fds(const th_proc *p)
{
	int most = 0;

	for (int i = 0; i < FD_SAMPLES; i++) {
		int n = th_proc_fd_count(p);

		if (n > most)
			most = n;
		sleep_ms(FD_SAMPLE_MS);
	}
	return most;
}

/* flood submits ntx TCC transactions of nbranch branches each, every
 * branch at its own ipc path in the test directory that nothing listens
 * on, and writes their gids into gids (ntx entries). */
static void flood(th_env *t, dtx_client *c, int ntx, int nbranch,
                  char (*gids)[DTX_GID_MAX + 1])
{
	for (int i = 0; i < ntx; i++) {
		dtx_tcc *tcc;
		dtx_tx_info info;
		int err;

		cr_assert_eq(dtx_tcc_create(NULL, &tcc), DTX_OK);
		for (int j = 0; j < nbranch; j++) {
			char name[32], path[PATH_MAX], url[TH_URL_MAX];

			snprintf(name, sizeof(name), "dead-%d-%d.ipc", i, j);
			th_path(t, name, path, sizeof(path));
			snprintf(url, sizeof(url), "ipc://%s", path);
			cr_assert_eq(dtx_tcc_add_branch(tcc, url, "x.try",
			                                "x.confirm", "x.cancel",
			                                NULL, 0, 0),
			             DTX_OK);
		}
		err = dtx_client_submit_tcc(c, tcc, 0, &info);
		cr_assert_eq(err, DTX_OK, "flood submit %d: %s", i,
		             dtx_strerror(err));
		if (gids != NULL)
			snprintf(gids[i], sizeof(gids[i]), "%s", info.gid);
		dtx_tcc_destroy(tcc);
	}
}

/* is_settled: final, or flagged for an operator. */
static bool is_settled(const dtx_tx_info *info)
{
	return dtx_tx_state_is_final(info->state) || info->needs_operator;
}

/* wait_settled polls gid until it is settled (asserts it gets there). */
static void wait_settled(dtx_client *c, const char *gid, dtx_tx_info *info)
{
	for (int waited = 0;; waited += POLL_MS) {
		int err = dtx_client_query(c, gid, 0, info);

		cr_assert_eq(err, DTX_OK, "query %s: %s", gid,
		             dtx_strerror(err));
		if (is_settled(info))
			return;
		cr_assert_lt(waited, WAIT_DEAD_MS,
		             "%s neither final nor flagged: state %s", gid,
		             dtx_tx_state_name(info->state));
		sleep_ms(POLL_MS);
	}
}

/* ---- floods ------------------------------------------------------------ */

Test(hostile_peers, dead_urls_count_attempts_and_leave_room_for_a_healthy_one)
{
	enum { NTX = 4, NBRANCH = 16 };
	char gids[NTX][DTX_GID_MAX + 1];
	bool saw_limit = false;
	dtx_tx_info info;
	dtx_client *c;
	int base, most;
	th_env *t = th_begin();

	th_dtxd_start(t, "--admin", "none", "--max-peers", "8", "--max-dialing",
	              "4", "--peer-idle-ms", "200", "--call-timeout-ms", "300",
	              "--action-max-attempts", "3", "--stuck-after-attempts",
	              "3", NULL);
	th_participant_start(t, "p1", NULL);
	c = th_client(t);
	base = th_proc_fd_count(t->dtxd);
	flood(t, c, NTX, NBRANCH, gids);
	most = max_fds(t->dtxd);

	/* (a) A new, healthy participant gets a place at once. */
	th_run(t, "healthy", "p1.do/p1.undo", &info);
	cr_assert_eq(info.state, DTX_TX_COMMITTED, "healthy saga: %s (%s)",
	             dtx_tx_state_name(info.state), info.reason);
	cr_assert_eq(info.steps[0].attempts, 1, "healthy step: %u attempts",
	             info.steps[0].attempts);

	/* (b) Every dead call counted attempts, and each transaction reaches
	 * a final state or the operator's list. */
	for (int i = 0; i < NTX; i++) {
		wait_settled(c, gids[i], &info);
		for (uint32_t s = 0; s < info.nsteps; s++) {
			cr_assert_gt(info.steps[s].attempts, 0,
			             "%s branch %u: no attempt counted",
			             gids[i], s);
			if (strstr(info.steps[s].last_error, "peer table full"))
				saw_limit = true;
		}
	}
	cr_assert(saw_limit || th_log_contains(t, "dtxd", "peer table full"),
	          "no call was told the peer table was full");

	/* (c) Descriptors stayed within the peer limits. */
	cr_assert_leq(most, base + 8 + 4 * 4,
	              "dtxd had %d descriptors (%d idle)", most, base);
	th_end(t);
}

/* The audit's numbers: 16 submits of 64 branches at distinct dead paths
 * with the default limits took dtxd to 20,000 descriptors in 3 s, spun a
 * new URL's call for ever and made its stop last 10 s. */
Test(hostile_peers, a_thousand_dead_urls_keep_descriptors_bounded)
{
	dtx_tx_info info;
	dtx_client *c;
	int base, most;
	th_env *t = th_begin();

	th_dtxd_start(t, "--admin", "none", NULL);
	th_participant_start(t, "p1", NULL);
	c = th_client(t);
	base = th_proc_fd_count(t->dtxd);
	flood(t, c, 16, 64, NULL);
	most = max_fds(t->dtxd);
	cr_assert_leq(most, base + 256, "dtxd had %d descriptors (%d idle)",
	              most, base);
	th_run(t, "healthy", "p1.do/p1.undo", &info);
	cr_assert_eq(info.state, DTX_TX_COMMITTED, "healthy saga: %s (%s)",
	             dtx_tx_state_name(info.state), info.reason);
	th_end(t); /* asserts dtxd stops (exit 0) within 5 s */
}

/* ---- a step timeout past nng's range ----------------------------------- */

/* plant_saga writes a running one-step saga gid into the log at
 * t->log_dir, its step ACTING (as if dtxd had crashed while calling it)
 * at url's handler with the given timeout. */
static void plant_saga(th_env *t, const char *gid, const char *url,
                       const char *action, uint32_t timeout_ms)
{
	dc_log_opts opts = {.dir = t->log_dir};
	dc_log_batch *batch;
	dc_log *log;
	dc_tx *tx;
	char err[256];
	int rv;

	rv = dc_log_open(&opts, &log, err, sizeof(err));
	cr_assert_eq(rv, DTX_OK, "open the log: %s", err);
	cr_assert_eq(dc_tx_create(gid, DC_MODE_SAGA, 1, &tx), DTX_OK);
	tx->state = DC_TX_RUNNING;
	tx->created_unix_ms = tx->updated_unix_ms = (int64_t)time(NULL) * 1000;
	tx->steps[0].state = DC_STEP_ACTING;
	tx->steps[0].attempts = 1;
	tx->steps[0].timeout_ms = timeout_ms;
	cr_assert_eq(dc_tx_set_str(&tx->steps[0].url, url), DTX_OK);
	cr_assert_eq(dc_tx_set_str(&tx->steps[0].action, action), DTX_OK);
	cr_assert_eq(dc_tx_set_str(&tx->steps[0].compensate, "p1.undo"),
	             DTX_OK);
	cr_assert_eq(dc_log_batch_create(&batch), DTX_OK);
	cr_assert_eq(dc_log_batch_put_tx(batch, tx, UINT64_MAX), DTX_OK);
	cr_assert_eq(dc_log_commit(log, batch), DTX_OK, "commit: %s",
	             dc_log_last_error(log));
	dc_log_batch_destroy(batch);
	dc_tx_destroy(tx);
	dc_log_close(log);
}

/* A uint32 of 4294967295 ms cast into nng's int32 duration was a 1 ms
 * deadline: an action that takes 1.5 s timed out on every attempt and the
 * saga was compensated though the participant did its work each time. */
Test(hostile_peers, a_huge_step_timeout_is_not_a_short_deadline)
{
	dtx_tx_info info;
	int err;
	th_env *t = th_begin();

	th_participant_start(t, "p1", "--delay-ms", SLOW_DELAY_MS, NULL);
	th_dtxd_start(t, "--admin", "none", NULL);
	th_proc_crash(t->dtxd); /* a log in place; now write into it */
	plant_saga(t, "huge-timeout", th_participant_url(t, "p1"), "p1.slow",
	           UINT32_MAX);
	th_dtxd_restart(t); /* recovery calls the step again */
	err = dtx_client_query(th_client(t), "huge-timeout", TH_WAIT_FINAL,
	                       &info);
	cr_assert_eq(err, DTX_OK, "query: %s", dtx_strerror(err));
	cr_assert_eq(info.state, DTX_TX_COMMITTED, "state %s: %s (%s)",
	             dtx_tx_state_name(info.state), info.reason,
	             info.steps[0].last_error);
	cr_assert_str_eq(th_journal_story(t, "huge-timeout"), "p1.slow:ok");
	th_end(t);
}
