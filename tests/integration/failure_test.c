/*
 * failure_test.c - what dtxd does when branches keep failing: retries with
 * backoff, the action retry budget, the needs-operator flag and its
 * self-healing, the saga deadline, and a participant that is down until it
 * comes back. Real dtxd and participant processes on loopback.
 */
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "harness.h"

#define POLL_MS 20

TestSuite(failure, .fini = th_teardown, .timeout = 120);

static void submit(th_env *t, dtx_client *c, const char *gid, const char *spec,
                   unsigned deadline_ms)
{
	dtx_saga *saga = th_saga(t, gid, spec);
	dtx_tx_info info;
	int err;

	if (deadline_ms > 0)
		cr_assert_eq(dtx_saga_set_deadline(saga, deadline_ms), DTX_OK);
	err = dtx_client_submit(c, saga, 0, &info);
	dtx_saga_destroy(saga);
	cr_assert_eq(err, DTX_OK, "submit %s: %s", gid, dtx_strerror(err));
}

static void await_final(dtx_client *c, const char *gid, dtx_tx_state want,
                        dtx_tx_info *ret_info)
{
	int err = dtx_client_query(c, gid, TH_WAIT_FINAL, ret_info);

	cr_assert_eq(err, DTX_OK, "query %s: %s", gid, dtx_strerror(err));
	cr_assert_eq(ret_info->state, want, "%s is %s (reason: %s)", gid,
	             dtx_tx_state_name(ret_info->state), ret_info->reason);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* await_flag polls gid until its needs-operator flag is set (bounded). */
static void await_flag(dtx_client *c, const char *gid, dtx_tx_info *ret_info)
{
	for (int waited = 0; waited < TH_WAIT_FINAL; waited += POLL_MS) {
		int err = dtx_client_query(c, gid, 0, ret_info);
		cr_assert_eq(err, DTX_OK, "query: %s", dtx_strerror(err));
		if (ret_info->needs_operator)
			return;
		cr_assert(!dtx_tx_state_is_final(ret_info->state),
		          "%s ended before it was flagged", gid);
		sleep_ms(POLL_MS);
	}
	cr_assert_fail("%s never flagged needs-operator", gid);
}

static void assert_story(th_env *t, const char *gid, const char *re)
{
	const char *story = th_journal_story(t, gid);
	regex_t rx;

	cr_assert_eq(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
	cr_assert_eq(regexec(&rx, story, 0, NULL, 0), 0,
	             "journal of %s is\n  %s\nwant\n  %s", gid, story, re);
	regfree(&rx);
}

Test(failure, retries_a_transient_action_until_it_succeeds)
{
	th_env *t = th_begin();
	dtx_tx_info info;

	th_dtxd_start(t, NULL);
	th_participant_start(t, "p1", NULL);
	th_participant_start(t, "p2", "--flaky", "4", NULL);
	th_run(t, "flaky-ok", "p1.do/p1.undo p2.flaky/p2.undo", &info);
	cr_assert_eq(info.state, DTX_TX_COMMITTED);
	cr_assert_eq(info.steps[1].attempts, 5);
	assert_story(t, "flaky-ok",
	             "^p1\\.do:ok (p2\\.flaky:retry ){4}p2\\.flaky:ok$");
	th_end(t);
}

/* Past the retry budget the action's effect is unknown: it is compensated
 * too (the barrier makes that harmless if it never ran), then the rest. */
Test(failure, gives_up_an_action_past_its_budget_and_compensates_it_too)
{
	th_env *t = th_begin();
	dtx_tx_info info;

	th_dtxd_start(t, "--action-max-attempts", "3", NULL);
	th_participant_start(t, "p1", NULL);
	th_participant_start(t, "p2", "--flaky", "100", NULL);
	th_run(t, "budget", "p1.do/p1.undo p2.flaky/p2.undo", &info);
	cr_assert_eq(info.state, DTX_TX_COMPENSATED);
	cr_assert_eq(info.failed_step, 1);
	cr_assert_eq(info.steps[1].state, DTX_STEP_COMPENSATED);
	cr_assert(strstr(info.reason, "retry") != NULL, "reason: %s",
	          info.reason);
	assert_story(t, "budget",
	             "^p1\\.do:ok (p2\\.flaky:retry ){3}p2\\.undo:ok "
	             "p1\\.undo:ok$");
	th_end(t);
}

/* A compensation that keeps failing is never given up: the transaction is
 * flagged for an operator with the reason, retries go on at the capped
 * backoff, and when the participant answers again it heals by itself. */
Test(failure, flags_a_stuck_compensation_for_an_operator_then_heals)
{
	th_env *t = th_begin();
	dtx_client *c;
	dtx_tx_info info;

	th_dtxd_start(t, "--stuck-after-attempts", "3", NULL);
	th_participant_start(t, "p1", "--flaky", "8", NULL);
	th_participant_start(t, "p2", NULL);
	c = th_client(t);
	submit(t, c, "stuck", "p1.do/p1.flaky p2.fail/p2.undo", 0);

	await_flag(c, "stuck", &info);
	cr_assert_eq(info.state, DTX_TX_COMPENSATING);
	cr_assert(strstr(info.operator_reason, "p1.flaky") != NULL,
	          "operator reason: %s", info.operator_reason);
	cr_assert(strstr(info.operator_reason, "compensate") != NULL,
	          "operator reason: %s", info.operator_reason);

	await_final(c, "stuck", DTX_TX_COMPENSATED, &info);
	cr_assert(!info.needs_operator, "healed, yet still flagged: %s",
	          info.operator_reason);
	cr_assert_eq(info.steps[0].attempts, 9);
	assert_story(t, "stuck",
	             "^p1\\.do:ok p2\\.fail:fail (p1\\.flaky:retry ){8}"
	             "p1\\.flaky:ok$");
	th_end(t);
}

/* Past the saga's deadline the action in flight is abandoned and
 * compensated, then every step before it. */
Test(failure, deadline_rolls_back_a_saga_whose_action_is_too_slow)
{
	th_env *t = th_begin();
	dtx_client *c;
	dtx_tx_info info;

	th_dtxd_start(t, NULL);
	th_participant_start(t, "p1", NULL);
	th_participant_start(t, "p2", "--delay-ms", "1500", NULL);
	c = th_client(t);
	submit(t, c, "late", "p1.do/p1.undo p2.slow/p2.undo p1.do/p1.undo",
	       300);
	await_final(c, "late", DTX_TX_COMPENSATED, &info);
	cr_assert_eq(info.failed_step, 1);
	cr_assert_gt(info.deadline_unix_ms, info.created_unix_ms);
	cr_assert(strstr(info.reason, "deadline") != NULL, "reason: %s",
	          info.reason);
	cr_assert_eq(info.steps[2].state, DTX_STEP_PENDING);
	/* The slow action may still finish after its deadline: either way its
	 * compensation runs, before step 0's. */
	assert_story(t, "late",
	             "^p1\\.do:ok (p2\\.slow:ok )?p2\\.undo:ok "
	             "(p2\\.slow:ok )?p1\\.undo:ok$");
	th_end(t);
}

Test(failure, a_saga_within_its_deadline_commits)
{
	th_env *t = th_begin();
	dtx_client *c;
	dtx_tx_info info;

	th_dtxd_start(t, NULL);
	th_participant_start(t, "p1", NULL);
	c = th_client(t);
	submit(t, c, "in-time", "p1.do/p1.undo p1.do/p1.undo", 5000);
	await_final(c, "in-time", DTX_TX_COMMITTED, &info);
	th_end(t);
}

/* A participant that is down: calls time out or fail to connect and are
 * retried (never given up with a budget of 0) until it starts; then the
 * saga finishes and every action ran once. */
Test(failure, waits_for_a_participant_that_is_down_until_it_comes_back)
{
	th_env *t = th_begin();
	dtx_client *c;
	dtx_tx_info info;

	th_dtxd_start(t, "--action-max-attempts", "0", "--call-timeout-ms",
	              "200", NULL);
	th_participant_start(t, "p1", NULL);
	th_proc_kill(th_participant_start(t, "p2", NULL), SIGKILL);
	c = th_client(t);
	submit(t, c, "down", "p1.do/p1.undo p2.do/p2.undo", 0);
	th_wait_step_state(t, c, "down", 1, DTX_STEP_ACTING, 5000);
	sleep_ms(1000); /* several failed attempts while p2 is down */
	cr_assert_eq(dtx_client_query(c, "down", 0, &info), DTX_OK);
	cr_assert_eq(info.state, DTX_TX_RUNNING);
	cr_assert_gt(info.steps[1].attempts, 1, "no retry while p2 was down");

	th_participant_restart(t, "p2", NULL);
	await_final(c, "down", DTX_TX_COMMITTED, &info);
	assert_story(t, "down", "^p1\\.do:ok p2\\.do:ok$");
	th_end(t);
}
