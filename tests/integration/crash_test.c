/*
 * crash_test.c - crash stories: each test arms one named crash point
 * (common/fault.h), lets the process die there by SIGKILL, restarts it
 * without the point and checks the promise the point's comment makes.
 *
 * Every participant keeps a store (--data) and serves through the barrier,
 * and its handlers journal only when they run. So here, unlike in
 * recovery_test.c, a call repeated after a crash must not show in the
 * journal again: every (gid, branch, op) appears exactly once, in the
 * saga's order.
 *
 * The client request that submits a saga may never be answered (dtxd can
 * die before it replies), so sagas are submitted asynchronously with a gid
 * and awaited after the restart with a query, or re-submitted (a gid makes
 * that idempotent).
 *
 * Built only with meson -Dfault_points=true.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <pthread.h>

#include "harness.h"

#define DIE_WAIT_MS    10000 /* ms an armed process gets to reach its point */
#define INFLIGHT_SAGAS 20

#define SPEC_COMMIT  "p1.do/p1.undo p2.do/p2.undo p3.do/p3.undo"
#define SPEC_UNDO    "p1.do/p1.undo p2.do/p2.undo p3.fail/p3.undo"
#define STORY_COMMIT "p1.do:ok p2.do:ok p3.do:ok"
#define STORY_UNDO   "p1.do:ok p2.do:ok p3.fail:fail p2.undo:ok p1.undo:ok"

TestSuite(crash, .fini = th_teardown, .timeout = 120);

/* ---- helpers ----------------------------------------------------------- */

/* data_dir writes the store directory of participant name into out. */
static void data_dir(th_env *t, const char *name, char *out, size_t outlen)
{
	char file[TH_NAME_MAX + 8];

	snprintf(file, sizeof(file), "%s.data", name);
	th_path(t, file, out, outlen);
}

/* start_participant starts name with a store (barrier on) and env_kv (may
 * be NULL) in its environment. */
static void start_participant(th_env *t, const char *name, const char *env_kv)
{
	char dir[PATH_MAX];

	data_dir(t, name, dir, sizeof(dir));
	th_participant_start_env(t, name, env_kv, "--data", dir, NULL);
}

static void start_participants(th_env *t)
{
	start_participant(t, "p1", NULL);
	start_participant(t, "p2", NULL);
	start_participant(t, "p3", NULL);
}

/* arm writes "DTX_FAULT=point:hit" into out. */
static void arm(const char *point, unsigned hit, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "DTX_FAULT=%s:%u", point, hit);

	cr_assert(n > 0 && (size_t)n < outlen, "fault spec too long");
}

static void ignore_done(void *arg, int err, const dtx_tx_info *info)
{
	(void)arg;
	(void)err;
	(void)info;
}

/* submit_nowait submits a saga whose answer may never come (the
 * coordinator may die first). */
static void submit_nowait(th_env *t, dtx_client *c, const char *gid,
                          const char *spec)
{
	dtx_saga *saga = th_saga(t, gid, spec);
	int err = dtx_client_submit_async(c, saga, 0, ignore_done, NULL);

	dtx_saga_destroy(saga);
	cr_assert_eq(err, DTX_OK, "submit %s: %s", gid, dtx_strerror(err));
}

/* await_crash waits for p (whose output is DIR/name.out) to die at point:
 * killed by SIGKILL, with the fault line in its output. */
static void await_crash(th_env *t, th_proc *p, const char *name,
                        const char *point)
{
	char line[128];

	cr_assert(th_proc_wait(p, DIE_WAIT_MS),
	          "%s still runs %d ms after it was armed at %s", name,
	          DIE_WAIT_MS, point);
	cr_assert_eq(th_proc_exit_code(p), -SIGKILL,
	             "%s ended with %d, want death by SIGKILL at %s", name,
	             th_proc_exit_code(p), point);
	snprintf(line, sizeof(line), "dtx fault point %s hit", point);
	cr_assert(th_log_contains(t, name, line), "no '%s' in %s's output",
	          line, name);
}

static void await_final(dtx_client *c, const char *gid, dtx_tx_state want,
                        dtx_tx_info *ret_info)
{
	int err = dtx_client_query(c, gid, TH_WAIT_FINAL, ret_info);

	cr_assert_eq(err, DTX_OK, "query %s: %s", gid, dtx_strerror(err));
	cr_assert_eq(ret_info->state, want, "%s is %s, want %s (reason: %s)",
	             gid, dtx_tx_state_name(ret_info->state),
	             dtx_tx_state_name(want), ret_info->reason);
}

/* assert_each_applied_once checks that no (gid, branch, op) was journaled
 * twice: no handler ran twice for one call, whatever was resent. */
static void assert_each_applied_once(th_env *t)
{
	th_jline *l;
	size_t n = th_journal_read(t, &l);

	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			cr_assert(strcmp(l[i].gid, l[j].gid) != 0 ||
			                  l[i].branch != l[j].branch ||
			                  strcmp(l[i].op, l[j].op) != 0,
			          "%s branch %u %s applied twice (attempts %u "
			          "and %u)",
			          l[i].gid, l[i].branch, l[i].op, l[i].attempt,
			          l[j].attempt);
	free(l);
}

static void assert_story(th_env *t, const char *gid, const char *want)
{
	cr_assert_str_eq(th_journal_story(t, gid), want, "journal of %s", gid);
}

/* forward_story runs one committing saga against a dtxd armed at point's
 * hit-th hit and checks it commits after the restart with each effect
 * once. Returns the final info in *ret_info. */
static void forward_story(const char *gid, const char *point, unsigned hit,
                          dtx_tx_info *ret_info)
{
	th_env *t = th_begin();
	char fault[128];
	dtx_client *c;

	arm(point, hit, fault, sizeof(fault));
	th_dtxd_start_env(t, fault, NULL);
	start_participants(t);
	c = th_client(t);
	submit_nowait(t, c, gid, SPEC_COMMIT);
	await_crash(t, t->dtxd, "dtxd", point);

	th_dtxd_restart(t);
	await_final(c, gid, DTX_TX_COMMITTED, ret_info);
	for (uint32_t i = 0; i < ret_info->nsteps; i++)
		cr_assert_eq(ret_info->steps[i].state, DTX_STEP_DONE, "step %u",
		             i);
	assert_story(t, gid, STORY_COMMIT);
	assert_each_applied_once(t);
	th_end(t);
}

/* ---- the stories ------------------------------------------------------- */

struct waiting_submit {
	dtx_client *c;
	dtx_saga *saga;
	int err;
	dtx_tx_info info;
};

static void *submit_and_wait(void *arg)
{
	struct waiting_submit *w = arg;

	w->err = dtx_client_submit(w->c, w->saga, TH_WAIT_FINAL, &w->info);
	return NULL;
}

/* A submit that waits for its saga's end, dtxd killed -9 after the saga's
 * first commit: the answer is lost with the connection. The submit names
 * its gid, so libdtx asks again once dtxd is back and the waiting
 * application gets the saga's end - latency, not an error (it used to end
 * DTX_EUNREACHABLE: "connection lost before the answer"). The copy starts
 * nothing twice: each effect once. */
Test(crash, a_waiting_submit_with_a_gid_is_asked_again_after_a_restart)
{
	th_env *t = th_begin();
	struct waiting_submit w = {.err = -1};
	dtx_client_stats st;
	char fault[128];
	pthread_t th;

	arm("dtxd.after_commit_before_call", 1, fault, sizeof(fault));
	th_dtxd_start_env(t, fault, NULL);
	start_participants(t);
	w.c = th_client(t);
	w.saga = th_saga(t, "c-resend", SPEC_COMMIT);
	cr_assert_eq(pthread_create(&th, NULL, submit_and_wait, &w), 0);
	await_crash(t, t->dtxd, "dtxd", "dtxd.after_commit_before_call");
	th_dtxd_restart(t);
	pthread_join(th, NULL);
	dtx_saga_destroy(w.saga);
	cr_assert_eq(w.err, DTX_OK, "the waiting submit: %s",
	             dtx_strerror(w.err));
	cr_assert_eq(w.info.state, DTX_TX_COMMITTED, "%s",
	             dtx_tx_state_name(w.info.state));
	dtx_client_get_stats(w.c, &st);
	cr_assert_geq(st.resends, 1, "the submit was sent again");
	assert_story(t, "c-resend", STORY_COMMIT);
	assert_each_applied_once(t);
	th_end(t);
}

/* The second call (p2.do) is durable as ACTING but never sent: recovery
 * sends it. */
Test(crash, dtxd_after_commit_before_call)
{
	dtx_tx_info info;

	forward_story("c-before-call", "dtxd.after_commit_before_call", 2,
	              &info);
}

/* p1.do applied, its answer never logged: recovery calls again and p1's
 * barrier answers from its record (attempts > 1, one journal line). */
Test(crash, dtxd_after_reply_before_log)
{
	dtx_tx_info info;

	forward_story("c-reply-log", "dtxd.after_reply_before_log", 1, &info);
	cr_assert_geq(info.steps[0].attempts, 2, "p1.do was not resent");
}

/* The second commit (p1.do's answer) never reaches the file: as above,
 * p1.do is resent and answered from the barrier. */
Test(crash, log_before_commit)
{
	dtx_tx_info info;

	forward_story("c-before-commit", "log.before_commit", 2, &info);
	cr_assert_geq(info.steps[0].attempts, 2, "p1.do was not resent");
}

/* The second commit is durable but nothing acted on it (p2.do unsent). */
Test(crash, log_after_commit)
{
	dtx_tx_info info;

	forward_story("c-after-commit", "log.after_commit", 2, &info);
}

/* p3.fail refuses; p2.undo is applied, then dtxd dies before sending
 * p1.undo (the second compensation): recovery finishes compensating. */
Test(crash, dtxd_mid_compensation)
{
	th_env *t = th_begin();
	char fault[128];
	dtx_client *c;
	dtx_tx_info info;

	arm("dtxd.mid_compensation", 2, fault, sizeof(fault));
	th_dtxd_start_env(t, fault, NULL);
	start_participants(t);
	c = th_client(t);
	submit_nowait(t, c, "c-mid-comp", SPEC_UNDO);
	await_crash(t, t->dtxd, "dtxd", "dtxd.mid_compensation");

	th_dtxd_restart(t);
	await_final(c, "c-mid-comp", DTX_TX_COMPENSATED, &info);
	cr_assert_eq(info.failed_step, 2);
	cr_assert_eq(info.steps[0].state, DTX_STEP_COMPENSATED);
	cr_assert_eq(info.steps[1].state, DTX_STEP_COMPENSATED);
	cr_assert_eq(info.steps[2].state, DTX_STEP_FAILED);
	assert_story(t, "c-mid-comp", STORY_UNDO);
	assert_each_applied_once(t);
	th_end(t);
}

/* p2 dies after its local commit of p2.do and before the reply: dtxd
 * retries, p2's second process (same store) answers from the record. */
Test(crash, sdk_after_commit_before_reply)
{
	th_env *t = th_begin();
	char fault[128], dir[PATH_MAX];
	th_proc *p2;
	dtx_client *c;
	dtx_tx_info info;

	arm("sdk.after_commit_before_reply", 1, fault, sizeof(fault));
	/* No retry budget runs out while p2 is down. */
	th_dtxd_start(t, "--action-max-attempts", "1000", NULL);
	start_participant(t, "p1", NULL);
	start_participant(t, "p2", fault);
	start_participant(t, "p3", NULL);
	p2 = t->parts[1].proc;
	c = th_client(t);
	submit_nowait(t, c, "c-sdk", SPEC_COMMIT);
	await_crash(t, p2, "p2", "sdk.after_commit_before_reply");

	data_dir(t, "p2", dir, sizeof(dir));
	th_participant_restart(t, "p2", "--data", dir, NULL);
	await_final(c, "c-sdk", DTX_TX_COMMITTED, &info);
	cr_assert_geq(info.steps[1].attempts, 2, "p2.do was not resent");
	assert_story(t, "c-sdk", STORY_COMMIT);
	assert_each_applied_once(t);
	th_end(t);
}

/* Twenty sagas in flight, dtxd dies right after the third group commit.
 * A saga whose submit was not yet durable is lost with no effect, so each
 * is submitted again after the restart (idempotent by gid): every one ends
 * final, each effect applied once. */
Test(crash, log_after_commit_with_sagas_in_flight)
{
	th_env *t = th_begin();
	char fault[128], gid[INFLIGHT_SAGAS][32];
	size_t existed = 0;
	dtx_client *c;
	dtx_tx_info info;

	arm("log.after_commit", 3, fault, sizeof(fault));
	th_dtxd_start_env(t, fault, NULL);
	start_participants(t);
	c = th_client(t);
	for (int i = 0; i < INFLIGHT_SAGAS; i++) {
		snprintf(gid[i], sizeof(gid[i]), "c-many-%02d", i);
		submit_nowait(t, c, gid[i], i % 2 ? SPEC_UNDO : SPEC_COMMIT);
	}
	await_crash(t, t->dtxd, "dtxd", "log.after_commit");

	th_dtxd_restart(t);
	c = th_client(t);
	for (int i = 0; i < INFLIGHT_SAGAS; i++) {
		dtx_saga *saga =
		        th_saga(t, gid[i], i % 2 ? SPEC_UNDO : SPEC_COMMIT);
		int err = dtx_client_submit(c, saga, TH_WAIT_FINAL, &info);

		dtx_saga_destroy(saga);
		cr_assert_eq(err, DTX_OK, "submit %s: %s", gid[i],
		             dtx_strerror(err));
		cr_assert_eq(info.state,
		             i % 2 ? DTX_TX_COMPENSATED : DTX_TX_COMMITTED,
		             "%s is %s", gid[i], dtx_tx_state_name(info.state));
		existed += !info.created;
		assert_story(t, gid[i], i % 2 ? STORY_UNDO : STORY_COMMIT);
	}
	/* The first commit held at least one submit. */
	cr_assert_geq(existed, 1, "no saga was durable before the crash");
	assert_each_applied_once(t);
	th_end(t);
}
