/*
 * tcc_test.c - TCC transactions end to end: real dtxd, real participants
 * (dtx-sample-participant with a barrier store), real sockets.
 *
 * Both ways in are covered: the coordinator runs the Tries (SubmitTcc), or
 * the initiator registers each branch and calls its Try itself (BeginTcc /
 * dtx_tcc_try / commit / abort). The sample participant's handlers are
 * op-agnostic (NAME.do answers OK to whatever op it serves), and its
 * journal names the op, so a branch's history reads "try ok, confirm ok".
 * With --data every call goes through the barrier and the journal lists
 * each applied effect once: counting journal lines proves "exactly once".
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "harness.h"

TestSuite(tcc, .fini = th_teardown, .timeout = 120);

/* count returns how many journal lines of gid have branch (or any branch
 * if branch < 0), op and status (NULL = any). */
static size_t count(th_env *t, const char *gid, int branch, const char *op,
                    const char *status)
{
	th_jline *lines;
	size_t n = th_journal_read(t, &lines), hits = 0;

	for (size_t i = 0; i < n; i++) {
		const th_jline *l = &lines[i];
		if (strcmp(l->gid, gid) != 0 ||
		    (branch >= 0 && l->branch != (uint32_t)branch) ||
		    strcmp(l->op, op) != 0 ||
		    (status != NULL && strcmp(l->status, status) != 0))
			continue;
		hits++;
	}
	free(lines);
	return hits;
}

/* start_parts starts participants p1..pn, each with its barrier store. */
static void start_parts(th_env *t, int n)
{
	for (int i = 1; i <= n; i++) {
		char name[8], data[64], path[PATH_MAX];
		snprintf(name, sizeof(name), "p%d", i);
		snprintf(data, sizeof(data), "data-%s", name);
		th_path(t, data, path, sizeof(path));
		th_participant_start(t, name, "--data", path, "--delay-ms",
		                     "1500", NULL);
	}
}

/* add adds a branch served by participant part with the given Try. */
static void add(th_env *t, dtx_tcc *tcc, const char *part, const char *try_h)
{
	char confirm[32], cancel[32];

	snprintf(confirm, sizeof(confirm), "%s.do", part);
	snprintf(cancel, sizeof(cancel), "%s.undo", part);
	cr_assert_eq(dtx_tcc_add_branch(tcc, th_participant_url(t, part), try_h,
	                                confirm, cancel, "x", 1, 0),
	             DTX_OK);
}

static void submit_tcc(dtx_client *c, dtx_tcc *tcc, dtx_tx_info *info)
{
	int err = dtx_client_submit_tcc(c, tcc, TH_WAIT_FINAL, info);

	cr_assert_eq(err, DTX_OK, "submit: %s", dtx_strerror(err));
	cr_assert(dtx_tx_state_is_final(info->state), "state %s",
	          dtx_tx_state_name(info->state));
}

/* ---- coordinator-run Tries --------------------------------------------- */

Test(tcc, coordinator_run_tries_all_ok_confirm_every_branch_once)
{
	th_env *t = th_begin();
	dtx_tcc *tcc;
	dtx_tx_info info;

	th_dtxd_start(t, NULL);
	start_parts(t, 3);
	cr_assert_eq(dtx_tcc_create("c-ok", &tcc), DTX_OK);
	add(t, tcc, "p1", "p1.do");
	add(t, tcc, "p2", "p2.do");
	add(t, tcc, "p3", "p3.do");
	submit_tcc(th_client(t), tcc, &info);
	dtx_tcc_destroy(tcc);
	cr_assert_eq(info.state, DTX_TX_COMMITTED, "reason %s", info.reason);
	cr_assert_eq(info.mode, DTX_MODE_TCC);
	cr_assert_eq(info.nsteps, 3);
	for (int b = 0; b < 3; b++) {
		cr_assert_eq(info.steps[b].state, DTX_STEP_CONFIRMED);
		cr_assert_eq(count(t, "c-ok", b, "try", "ok"), 1);
		cr_assert_eq(count(t, "c-ok", b, "confirm", "ok"), 1);
		cr_assert_eq(count(t, "c-ok", b, "cancel", NULL), 0);
	}
	th_end(t);
}

Test(tcc, a_refused_try_cancels_every_branch_and_its_own_is_a_null_cancel)
{
	th_env *t = th_begin();
	dtx_tcc *tcc;
	dtx_tx_info info;

	th_dtxd_start(t, NULL);
	start_parts(t, 3);
	cr_assert_eq(dtx_tcc_create("c-fail", &tcc), DTX_OK);
	add(t, tcc, "p1", "p1.do");
	add(t, tcc, "p2", "p2.fail");
	add(t, tcc, "p3", "p3.do");
	submit_tcc(th_client(t), tcc, &info);
	dtx_tcc_destroy(tcc);
	cr_assert_eq(info.state, DTX_TX_CANCELLED);
	cr_assert_eq(info.failed_step, 1);
	cr_assert(strstr(info.reason, "refused by p2") != NULL, "reason %s",
	          info.reason);
	for (int b = 0; b < 3; b++) {
		cr_assert_eq(info.steps[b].state, DTX_STEP_CANCELLED);
		cr_assert_eq(count(t, "c-fail", b, "confirm", NULL), 0);
	}
	/* The refused Try left nothing: its Cancel is recorded without
	 * running the handler (no journal line); the others ran once. */
	cr_assert_eq(count(t, "c-fail", 1, "cancel", NULL), 0);
	cr_assert_eq(count(t, "c-fail", 0, "cancel", "ok") +
	                     count(t, "c-fail", 2, "cancel", "ok"),
	             count(t, "c-fail", 0, "try", "ok") +
	                     count(t, "c-fail", 2, "try", "ok"));
	th_end(t);
}

Test(tcc, a_timed_out_try_cancels_every_branch_including_its_own)
{
	th_env *t = th_begin();
	dtx_tcc *tcc;
	dtx_tx_info info;

	th_dtxd_start(t, "--call-timeout-ms", "300", NULL);
	start_parts(t, 2);
	cr_assert_eq(dtx_tcc_create("c-slow", &tcc), DTX_OK);
	add(t, tcc, "p1", "p1.do");
	add(t, tcc, "p2", "p2.slow"); /* 1500 ms > the 300 ms deadline */
	submit_tcc(th_client(t), tcc, &info);
	dtx_tcc_destroy(tcc);
	cr_assert_eq(info.state, DTX_TX_CANCELLED);
	cr_assert_eq(info.failed_step, 1);
	cr_assert(strstr(info.reason, "timeout") != NULL, "reason %s",
	          info.reason);
	/* The slow Try may still commit after its Cancel was decided: the
	 * barrier refuses it if the Cancel came first, or the Cancel undoes
	 * it. Either way the branch's effect is gone: never both a Try
	 * applied and no Cancel after it. */
	th_participant_restart(t, "p2", NULL); /* flush the slow Try */
	cr_assert_eq(count(t, "c-slow", 1, "confirm", NULL), 0);
	cr_assert_eq(count(t, "c-slow", 0, "cancel", "ok"), 1);
	th_end(t);
}

/* ---- initiator-driven --------------------------------------------------- */

static dtx_tcc_tx *begin(th_env *t, const char *gid, unsigned deadline_ms)
{
	dtx_tcc_tx *tx = NULL;
	int err = dtx_tcc_begin(th_client(t), gid, deadline_ms, &tx);

	cr_assert_eq(err, DTX_OK, "begin: %s", dtx_strerror(err));
	cr_assert_str_eq(dtx_tcc_tx_gid(tx), gid);
	return tx;
}

static dtx_status try_branch(th_env *t, dtx_tcc_tx *tx, const char *part,
                             const char *try_h)
{
	char confirm[32], cancel[32];
	dtx_try_result r;
	int err;

	snprintf(confirm, sizeof(confirm), "%s.do", part);
	snprintf(cancel, sizeof(cancel), "%s.undo", part);
	err = dtx_tcc_try(tx, th_participant_url(t, part), try_h, confirm,
	                  cancel, "x", 1, 2000, &r);
	cr_assert_eq(err, DTX_OK, "try %s: %s", try_h, dtx_strerror(err));
	return r.status;
}

Test(tcc, initiator_tries_then_commits_and_each_effect_applies_once)
{
	th_env *t = th_begin();
	dtx_tcc_tx *tx;
	dtx_tx_info info;

	th_dtxd_start(t, NULL);
	start_parts(t, 2);
	tx = begin(t, "i-ok", 0);
	cr_assert_eq(try_branch(t, tx, "p1", "p1.do"), DTX_STATUS_OK);
	cr_assert_eq(try_branch(t, tx, "p2", "p2.do"), DTX_STATUS_OK);
	cr_assert_eq(dtx_tcc_commit(tx, TH_WAIT_FINAL, &info), DTX_OK);
	dtx_tcc_tx_destroy(tx);
	cr_assert_eq(info.state, DTX_TX_COMMITTED, "reason %s", info.reason);
	for (int b = 0; b < 2; b++) {
		cr_assert_eq(count(t, "i-ok", b, "try", "ok"), 1);
		cr_assert_eq(count(t, "i-ok", b, "confirm", "ok"), 1);
		cr_assert_eq(count(t, "i-ok", b, "cancel", NULL), 0);
	}
	th_end(t);
}

Test(tcc, initiator_abort_after_a_refused_try_cancels_every_branch)
{
	th_env *t = th_begin();
	dtx_tcc_tx *tx;
	dtx_tx_info info;

	th_dtxd_start(t, NULL);
	start_parts(t, 2);
	tx = begin(t, "i-abort", 0);
	cr_assert_eq(try_branch(t, tx, "p1", "p1.do"), DTX_STATUS_OK);
	cr_assert_eq(try_branch(t, tx, "p2", "p2.fail"), DTX_STATUS_FAIL);
	/* a commit after a failed Try is refused by the SDK itself */
	cr_assert_eq(dtx_tcc_commit(tx, 0, &info), DTX_EINVAL);
	cr_assert_eq(dtx_tcc_abort(tx, "out of stock", TH_WAIT_FINAL, &info),
	             DTX_OK);
	dtx_tcc_tx_destroy(tx);
	cr_assert_eq(info.state, DTX_TX_CANCELLED);
	cr_assert_str_eq(info.reason, "out of stock");
	cr_assert_eq(count(t, "i-abort", 0, "cancel", "ok"), 1);
	cr_assert_eq(count(t, "i-abort", 1, "cancel", NULL), 0); /* null */
	cr_assert_eq(count(t, "i-abort", -1, "confirm", NULL), 0);
	th_end(t);
}

Test(tcc, an_unpaid_reservation_expires_at_its_deadline)
{
	th_env *t = th_begin();
	dtx_tcc_tx *tx;
	dtx_tx_info info;
	dtx_try_result r;

	th_dtxd_start(t, NULL);
	start_parts(t, 2);
	tx = begin(t, "i-expire", 800);
	cr_assert_eq(try_branch(t, tx, "p1", "p1.do"), DTX_STATUS_OK);
	cr_assert_eq(try_branch(t, tx, "p2", "p2.do"), DTX_STATUS_OK);
	/* the buyer never pays */
	cr_assert_eq(dtx_client_query(th_client(t), "i-expire", TH_WAIT_FINAL,
	                              &info),
	             DTX_OK);
	cr_assert_eq(info.state, DTX_TX_CANCELLED);
	cr_assert(strstr(info.reason, "deadline") != NULL, "reason %s",
	          info.reason);
	cr_assert_eq(count(t, "i-expire", 0, "cancel", "ok"), 1);
	cr_assert_eq(count(t, "i-expire", 1, "cancel", "ok"), 1);
	/* paying now is too late: nothing is confirmed */
	cr_assert_eq(dtx_tcc_commit(tx, 0, &info), DTX_OK);
	cr_assert_eq(info.state, DTX_TX_CANCELLED);
	/* and a new Try is never sent: registration is refused first */
	cr_assert_eq(dtx_tcc_try(tx, th_participant_url(t, "p1"), "p1.do",
	                         "p1.do", "p1.undo", NULL, 0, 1000, &r),
	             DTX_EINVAL);
	dtx_tcc_tx_destroy(tx);
	cr_assert_eq(count(t, "i-expire", 2, "try", NULL), 0);
	cr_assert_eq(count(t, "i-expire", -1, "confirm", NULL), 0);
	th_end(t);
}

Test(tcc, a_try_the_initiator_gave_up_on_is_undone_at_the_deadline)
{
	th_env *t = th_begin();
	dtx_tcc_tx *tx;
	dtx_tx_info info;
	dtx_try_result r;

	th_dtxd_start(t, NULL);
	start_parts(t, 1);
	tx = begin(t, "i-lost", 1000);
	cr_assert_eq(try_branch(t, tx, "p1", "p1.do"), DTX_STATUS_OK);
	/* The second Try is registered, then times out at the initiator
	 * (the participant is stopped): its effect is unknown. It may run
	 * when the participant wakes up, before or after its Cancel. */
	th_proc_kill(t->parts[0].proc, SIGSTOP);
	cr_assert_eq(dtx_tcc_try(tx, th_participant_url(t, "p1"), "p1.do",
	                         "p1.do", "p1.undo", NULL, 0, 300, &r),
	             DTX_ETIMEDOUT);
	th_proc_kill(t->parts[0].proc, SIGCONT);
	dtx_tcc_tx_destroy(tx); /* the initiator walks away */
	cr_assert_eq(
	        dtx_client_query(th_client(t), "i-lost", TH_WAIT_FINAL, &info),
	        DTX_OK);
	cr_assert_eq(info.state, DTX_TX_CANCELLED);
	cr_assert_eq(info.nsteps, 2);
	/* Never a Try left standing: an applied Try was cancelled; a Try
	 * after its Cancel was refused without running (null cancel). */
	cr_assert_eq(count(t, "i-lost", 0, "cancel", "ok"), 1);
	cr_assert_eq(count(t, "i-lost", 1, "try", "ok"),
	             count(t, "i-lost", 1, "cancel", "ok"));
	th_end(t);
}

Test(tcc, an_initiator_driven_tx_survives_a_coordinator_crash)
{
	th_env *t = th_begin();
	dtx_tcc_tx *tx;
	dtx_tx_info info;

	th_dtxd_start(t, NULL);
	start_parts(t, 2);
	tx = begin(t, "i-crash", 0);
	cr_assert_eq(try_branch(t, tx, "p1", "p1.do"), DTX_STATUS_OK);
	cr_assert_eq(try_branch(t, tx, "p2", "p2.do"), DTX_STATUS_OK);
	th_dtxd_restart(t); /* SIGKILL, then start on the same log */
	cr_assert(th_log_contains(t, "dtxd", "running 1"));
	cr_assert_eq(dtx_tcc_commit(tx, TH_WAIT_FINAL, &info), DTX_OK);
	dtx_tcc_tx_destroy(tx);
	cr_assert_eq(info.state, DTX_TX_COMMITTED);
	cr_assert_eq(count(t, "i-crash", -1, "confirm", "ok"), 2);
	th_end(t);
}

Test(tcc, confirms_resume_after_a_crash_and_apply_once)
{
	th_env *t = th_begin();
	dtx_tcc *tcc;
	dtx_tx_info info;
	int err;

	if (getenv("DTX_FAULT_POINTS") == NULL)
		cr_skip_test("needs a build with -Dfault_points=true");
	/* the 4th call: 2 Tries, then crash before the first Confirm */
	th_dtxd_start_env(t, "DTX_FAULT=dtxd.after_commit_before_call:3", NULL);
	start_parts(t, 2);
	cr_assert_eq(dtx_tcc_create("c-crash", &tcc), DTX_OK);
	add(t, tcc, "p1", "p1.do");
	add(t, tcc, "p2", "p2.do");
	err = dtx_client_submit_tcc(th_client(t), tcc, 3000, &info);
	dtx_tcc_destroy(tcc);
	cr_assert(err != DTX_OK || !dtx_tx_state_is_final(info.state));
	cr_assert(th_proc_wait(t->dtxd, 5000), "dtxd did not crash");
	th_dtxd_restart(t);
	cr_assert_eq(
	        dtx_client_query(th_client(t), "c-crash", TH_WAIT_FINAL, &info),
	        DTX_OK);
	cr_assert_eq(info.state, DTX_TX_COMMITTED);
	cr_assert_eq(count(t, "c-crash", 0, "confirm", "ok"), 1);
	cr_assert_eq(count(t, "c-crash", 1, "confirm", "ok"), 1);
	th_end(t);
}

Test(tcc, bad_tcc_requests_are_refused_and_change_nothing)
{
	th_env *t = th_begin();
	dtx_tcc *tcc;
	dtx_tcc_tx *tx;
	dtx_tx_info info;

	th_dtxd_start(t, NULL);
	cr_assert_eq(dtx_tcc_create("bad", &tcc), DTX_OK);
	cr_assert_eq(dtx_client_submit_tcc(th_client(t), tcc, 0, &info),
	             DTX_EINVAL); /* no branch */
	cr_assert_eq(dtx_tcc_add_branch(tcc, "tcp://127.0.0.1:1", "bad name",
	                                "a.b", "a.c", NULL, 0, 0),
	             DTX_EINVAL);
	dtx_tcc_destroy(tcc);
	/* a saga's gid cannot be driven as a TCC transaction */
	th_participant_start(t, "p1", NULL);
	th_run(t, "a-saga", "p1.do/p1.undo", &info);
	cr_assert_eq(dtx_tcc_begin(th_client(t), "a-saga", 0, &tx),
	             DTX_ECONFLICT);
	cr_assert_eq(dtx_client_query(th_client(t), "a-saga", 0, &info),
	             DTX_OK);
	cr_assert_eq(info.state, DTX_TX_COMMITTED);
	th_end(t);
}
