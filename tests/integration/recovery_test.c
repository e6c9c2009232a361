/*
 * recovery_test.c - recovery is the normal path (DESIGN.md, rule 4): dtxd is
 * killed with SIGKILL at chosen moments and restarted on the same log
 * directory; every transaction it acknowledged must reach its final state.
 *
 * Calls may repeat after a crash (at-least-once), so the journal checks
 * here allow a call to appear more than once but never out of order, and
 * never a call the saga should not make (no compensation of a committed
 * saga, nothing past the failing step).
 */
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "harness.h"

#define INFLIGHT_SAGAS 20
#define STATE_WAIT_MS  10000

/* Forward run with step 2 slow, each call possibly repeated. */
#define FORWARD_RE                                                             \
	"^(p1\\.do:ok )+(p2\\.slow:ok )+(p3\\.do:ok )+p4\\.do:ok( "            \
	"p4\\.do:ok)*$"

TestSuite(recovery, .fini = th_teardown, .timeout = 120);

/* assert_story_matches checks gid's journal against an extended regex. */
static void assert_story_matches(th_env *t, const char *gid, const char *re)
{
	const char *story = th_journal_story(t, gid);
	regex_t rx;

	cr_assert_eq(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0,
	             "bad regex %s", re);
	cr_assert_eq(regexec(&rx, story, 0, NULL, 0), 0,
	             "journal of %s is\n  %s\nwhich does not match\n  %s", gid,
	             story, re);
	regfree(&rx);
}

/* submit_durable submits and returns once dtxd has logged the saga. */
static void submit_durable(th_env *t, dtx_client *c, const char *gid,
                           const char *spec)
{
	dtx_saga *saga = th_saga(t, gid, spec);
	dtx_tx_info info;
	int err;

	err = dtx_client_submit(c, saga, 0, &info);
	dtx_saga_destroy(saga);
	cr_assert_eq(err, DTX_OK, "submit %s: %s", gid, dtx_strerror(err));
	cr_assert(info.created, "%s existed already", gid);
}

/* await_final queries gid with a wait and asserts the final state. */
static void await_final(th_env *t, dtx_client *c, const char *gid,
                        dtx_tx_state want, dtx_tx_info *ret_info)
{
	int err = dtx_client_query(c, gid, TH_WAIT_FINAL, ret_info);

	cr_assert_eq(err, DTX_OK, "query %s: %s", gid, dtx_strerror(err));
	cr_assert_eq(ret_info->state, want, "%s is %s, want %s", gid,
	             dtx_tx_state_name(ret_info->state),
	             dtx_tx_state_name(want));
}

static void start_participants(th_env *t, const char *slow_one)
{
	static const char *const names[] = {"p1", "p2", "p3", "p4"};

	for (size_t i = 0; i < 4; i++) {
		if (strcmp(names[i], slow_one) == 0)
			th_participant_start(t, names[i], "--delay-ms", "800",
			                     NULL);
		else
			th_participant_start(t, names[i], NULL);
	}
}

Test(recovery, finishes_a_saga_killed_while_a_step_was_in_flight)
{
	th_env *t = th_begin();
	dtx_client *c;
	dtx_tx_info info;

	th_dtxd_start(t, NULL);
	start_participants(t, "p2");
	c = th_client(t);
	submit_durable(t, c, "crash-fwd",
	               "p1.do/p1.undo p2.slow/p2.undo p3.do/p3.undo "
	               "p4.do/p4.undo");
	th_wait_step_state(t, c, "crash-fwd", 1, DTX_STEP_ACTING,
	                   STATE_WAIT_MS);

	/* The client from before the crash reconnects on its own. */
	th_dtxd_restart(t);
	await_final(t, c, "crash-fwd", DTX_TX_COMMITTED, &info);

	cr_assert_eq(info.failed_step, -1);
	for (uint32_t i = 0; i < info.nsteps; i++)
		cr_assert_eq(info.steps[i].state, DTX_STEP_DONE);
	assert_story_matches(t, "crash-fwd", FORWARD_RE);
	th_end(t);
}

Test(recovery, finishes_compensating_a_saga_killed_while_compensating)
{
	th_env *t = th_begin();
	dtx_client *c;
	dtx_tx_info info;

	th_dtxd_start(t, NULL);
	start_participants(t, "p2");
	c = th_client(t);
	submit_durable(t, c, "crash-back",
	               "p1.do/p1.undo p2.do/p2.slowundo p3.fail/p3.undo "
	               "p4.do/p4.undo");
	th_wait_step_state(t, c, "crash-back", 1, DTX_STEP_COMPENSATING,
	                   STATE_WAIT_MS);

	th_dtxd_restart(t);
	await_final(t, th_client(t), "crash-back", DTX_TX_COMPENSATED, &info);

	cr_assert_eq(info.failed_step, 2);
	cr_assert_eq(info.steps[0].state, DTX_STEP_COMPENSATED);
	cr_assert_eq(info.steps[1].state, DTX_STEP_COMPENSATED);
	cr_assert_eq(info.steps[2].state, DTX_STEP_FAILED);
	cr_assert_eq(info.steps[3].state, DTX_STEP_PENDING);
	assert_story_matches(t, "crash-back",
	                     "^p1\\.do:ok p2\\.do:ok p3\\.fail:fail"
	                     "( p2\\.slowundo:ok)+( p1\\.undo:ok)+$");
	th_end(t);
}

/* assert_same_outcome compares what a query says after a restart with what
 * the submit said before it. */
static void assert_same_outcome(const dtx_tx_info *before,
                                const dtx_tx_info *after)
{
	cr_assert_str_eq(after->gid, before->gid);
	cr_assert_eq(after->state, before->state);
	cr_assert_eq(after->failed_step, before->failed_step);
	cr_assert_str_eq(after->reason, before->reason);
	cr_assert_eq(after->created_unix_ms, before->created_unix_ms);
	cr_assert_eq(after->nsteps, before->nsteps);
	for (uint32_t i = 0; i < before->nsteps; i++) {
		cr_assert_eq(after->steps[i].state, before->steps[i].state,
		             "step %u", i);
		cr_assert_eq(after->steps[i].attempts,
		             before->steps[i].attempts, "step %u", i);
	}
}

Test(recovery, final_transactions_survive_a_kill_and_a_clean_restart)
{
	th_env *t = th_begin();
	dtx_tx_info ok, undone, after;

	th_dtxd_start(t, NULL);
	start_participants(t, "none");
	th_run(t, "done-ok", "p1.do/p1.undo p2.do/p2.undo", &ok);
	th_run(t, "done-undone", "p1.do/p1.undo p2.fail/p2.undo", &undone);
	cr_assert_eq(ok.state, DTX_TX_COMMITTED);
	cr_assert_eq(undone.state, DTX_TX_COMPENSATED);

	th_dtxd_restart(t); /* SIGKILL */
	await_final(t, th_client(t), "done-ok", DTX_TX_COMMITTED, &after);
	assert_same_outcome(&ok, &after);
	await_final(t, th_client(t), "done-undone", DTX_TX_COMPENSATED, &after);
	assert_same_outcome(&undone, &after);

	th_proc_kill(t->dtxd, SIGTERM);
	cr_assert(th_proc_wait(t->dtxd, 5000), "dtxd ignored SIGTERM");
	cr_assert_eq(th_proc_exit_code(t->dtxd), 0);
	th_dtxd_restart(t);
	await_final(t, th_client(t), "done-ok", DTX_TX_COMMITTED, &after);
	assert_same_outcome(&ok, &after);

	/* Nothing ran twice: final means final. */
	cr_assert_str_eq(th_journal_story(t, "done-ok"), "p1.do:ok p2.do:ok");
	cr_assert_str_eq(th_journal_story(t, "done-undone"),
	                 "p1.do:ok p2.fail:fail p1.undo:ok");
	th_end(t);
}

Test(recovery, every_saga_in_flight_at_a_kill_ends_final_after_restart)
{
	static const char commit_spec[] = "p1.do/p1.undo p2.slow/p2.undo "
	                                  "p3.do/p3.undo p4.do/p4.undo";
	static const char undo_spec[] = "p1.do/p1.undo p2.slow/p2.undo "
	                                "p3.fail/p3.undo p4.do/p4.undo";
	th_env *t = th_begin();
	char gid[INFLIGHT_SAGAS][32];
	dtx_client *c;
	dtx_tx_info info;

	th_dtxd_start(t, NULL);
	th_participant_start(t, "p1", NULL);
	/* Enough workers that no call waits behind another: a repeat then
	 * always lands after the call it repeats. */
	th_participant_start(t, "p2", "--delay-ms", "300", "--workers", "48",
	                     NULL);
	th_participant_start(t, "p3", NULL);
	th_participant_start(t, "p4", NULL);
	c = th_client(t);
	for (int i = 0; i < INFLIGHT_SAGAS; i++) {
		snprintf(gid[i], sizeof(gid[i]), "inflight-%02d", i);
		submit_durable(t, c, gid[i], i % 2 ? undo_spec : commit_spec);
	}

	th_dtxd_restart(t);
	c = th_client(t);
	for (int i = 0; i < INFLIGHT_SAGAS; i++) {
		bool undo = i % 2;

		await_final(t, c, gid[i],
		            undo ? DTX_TX_COMPENSATED : DTX_TX_COMMITTED,
		            &info);
		assert_story_matches(t, gid[i],
		                     undo ? "^(p1\\.do:ok )+(p2\\.slow:ok )+"
		                            "(p3\\.fail:fail )+(p2\\.undo:ok )+"
		                            "p1\\.undo:ok( p1\\.undo:ok)*$"
		                          : FORWARD_RE);
	}
	th_end(t);
}
