/*
 * saga_e2e_test.c - sagas end to end: a real dtxd, real participant
 * processes, real sockets and a real log on disk.
 *
 * The participants of a test share one journal file; each call appends a
 * line before it is answered, so the journal order is the order the
 * coordinator drove the steps in, across processes.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "harness.h"

#define SUBMITTERS 8

TestSuite(saga, .fini = th_teardown, .timeout = 90);

/* start_four starts dtxd and participants p1..p4 with default flags. */
static void start_four(th_env *t)
{
	static const char *const names[] = {"p1", "p2", "p3", "p4"};

	th_dtxd_start(t, NULL);
	for (size_t i = 0; i < 4; i++)
		th_participant_start(t, names[i], NULL);
}

static void assert_all_steps(const dtx_tx_info *info, dtx_step_state state,
                             uint32_t attempts)
{
	for (uint32_t i = 0; i < info->nsteps; i++) {
		cr_assert_eq(info->steps[i].state, state,
		             "step %u is %s, want %s", i,
		             dtx_step_state_name(info->steps[i].state),
		             dtx_step_state_name(state));
		cr_assert_eq(info->steps[i].attempts, attempts,
		             "step %u took %u attempts, want %u", i,
		             info->steps[i].attempts, attempts);
	}
}

Test(saga, commits_when_every_action_succeeds_calling_each_once_in_order)
{
	th_env *t = th_begin();
	dtx_tx_info info;

	start_four(t);
	th_run(t, "commit-1",
	       "p1.do/p1.undo p2.do/p2.undo p3.do/p3.undo "
	       "p4.do/p4.undo",
	       &info);

	cr_assert_str_eq(info.gid, "commit-1");
	cr_assert_eq(info.state, DTX_TX_COMMITTED, "state %s",
	             dtx_tx_state_name(info.state));
	cr_assert(info.created);
	cr_assert_eq(info.failed_step, -1);
	cr_assert_eq(info.nsteps, 4);
	assert_all_steps(&info, DTX_STEP_DONE, 1);
	cr_assert_str_eq(th_journal_story(t, "commit-1"),
	                 "p1.do:ok p2.do:ok p3.do:ok p4.do:ok");
	th_end(t);
}

Test(saga, journal_lines_name_gid_branch_op_and_attempt)
{
	th_env *t = th_begin();
	dtx_tx_info info;
	th_jline *lines;
	size_t n;

	start_four(t);
	th_run(t, "lines-1", "p1.do/p1.undo p2.fail/p2.undo", &info);

	n = th_journal_read(t, &lines);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(lines[0].gid, "lines-1");
	cr_assert_str_eq(lines[0].op, "action");
	cr_assert_str_eq(lines[1].op, "action");
	cr_assert_str_eq(lines[2].op, "compensate");
	cr_assert_neq(lines[0].branch, lines[1].branch,
	              "steps 0 and 1 share branch %u", lines[0].branch);
	cr_assert_eq(lines[2].branch, lines[0].branch,
	             "the compensation of step 0 went to branch %u, not %u",
	             lines[2].branch, lines[0].branch);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(lines[i].attempt, 1);
	free(lines);
	th_end(t);
}

/* ---- a FAIL at step k compensates exactly steps k-1..1 ----------------- */

ParameterizedTestParameters(saga, compensates_earlier_steps_in_reverse_order)
{
	static int failing_step[] = {1, 2, 3, 4};

	return cr_make_param_array(int, failing_step,
	                           sizeof(failing_step) / sizeof(int));
}

/* fail_story builds the spec of a 4-step saga failing at step k (1-based)
 * and the journal it must leave. */
static void fail_story(int k, char *spec, size_t speclen, char *want,
                       size_t wantlen)
{
	size_t s = 0, w = 0;

	for (int i = 1; i <= 4; i++)
		s += (size_t)snprintf(spec + s, speclen - s,
		                      "%sp%d.%s/p%d.undo", i > 1 ? " " : "", i,
		                      i == k ? "fail" : "do", i);
	for (int i = 1; i < k; i++)
		w += (size_t)snprintf(want + w, wantlen - w, "p%d.do:ok ", i);
	w += (size_t)snprintf(want + w, wantlen - w, "p%d.fail:fail", k);
	for (int i = k - 1; i >= 1; i--)
		w += (size_t)snprintf(want + w, wantlen - w, " p%d.undo:ok", i);
}

ParameterizedTest(int *k, saga, compensates_earlier_steps_in_reverse_order)
{
	th_env *t = th_begin();
	char spec[256], want[256], gid[32];
	dtx_tx_info info;

	start_four(t);
	fail_story(*k, spec, sizeof(spec), want, sizeof(want));
	snprintf(gid, sizeof(gid), "fail-at-%d", *k);
	th_run(t, gid, spec, &info);

	cr_assert_eq(info.state, DTX_TX_COMPENSATED, "state %s",
	             dtx_tx_state_name(info.state));
	cr_assert_eq(info.failed_step, *k - 1, "failed_step %d",
	             (int)info.failed_step);
	cr_assert_neq(info.reason[0], '\0', "no reason given");
	cr_assert_eq(info.steps[*k - 1].state, DTX_STEP_FAILED);
	for (int i = 0; i < *k - 1; i++)
		cr_assert_eq(info.steps[i].state, DTX_STEP_COMPENSATED,
		             "step %d is %s", i,
		             dtx_step_state_name(info.steps[i].state));
	for (int i = *k; i < 4; i++)
		cr_assert_eq(info.steps[i].state, DTX_STEP_PENDING,
		             "step %d is %s", i,
		             dtx_step_state_name(info.steps[i].state));
	cr_assert_str_eq(th_journal_story(t, gid), want);
	th_end(t);
}

/* ---- idempotent submit ------------------------------------------------- */

Test(saga, resubmitting_a_gid_returns_the_existing_transaction)
{
	static const char spec[] = "p1.do/p1.undo p2.do/p2.undo "
	                           "p3.do/p3.undo p4.do/p4.undo";
	th_env *t = th_begin();
	dtx_tx_info first, again;

	start_four(t);
	th_run(t, "dup-1", spec, &first);
	th_run(t, "dup-1", spec, &again);

	cr_assert(first.created);
	cr_assert_not(again.created, "second submit created a transaction");
	cr_assert_eq(again.state, DTX_TX_COMMITTED);
	cr_assert_eq(again.created_unix_ms, first.created_unix_ms);
	cr_assert_str_eq(th_journal_story(t, "dup-1"),
	                 "p1.do:ok p2.do:ok p3.do:ok p4.do:ok");
	th_end(t);
}

typedef struct submitter {
	dtx_client *client;
	const dtx_saga *saga;
	pthread_barrier_t *go;
	int err;
	dtx_tx_info info;
} submitter;

static void *submit_thread(void *arg)
{
	submitter *s = arg;

	pthread_barrier_wait(s->go);
	s->err = dtx_client_submit(s->client, s->saga, TH_WAIT_FINAL, &s->info);
	return NULL;
}

Test(saga, concurrent_submits_of_one_gid_make_one_transaction)
{
	th_env *t = th_begin();
	submitter *sub = calloc(SUBMITTERS, sizeof(*sub));
	pthread_t tid[SUBMITTERS];
	pthread_barrier_t go;
	dtx_saga *saga;
	int created = 0;

	cr_assert_not_null(sub);
	start_four(t);
	saga = th_saga(t, "race-1",
	               "p1.do/p1.undo p2.do/p2.undo "
	               "p3.do/p3.undo p4.do/p4.undo");
	pthread_barrier_init(&go, NULL, SUBMITTERS);
	for (int i = 0; i < SUBMITTERS; i++) {
		sub[i] = (submitter){
		        .client = th_client(t), .saga = saga, .go = &go};
		pthread_create(&tid[i], NULL, submit_thread, &sub[i]);
	}
	for (int i = 0; i < SUBMITTERS; i++)
		pthread_join(tid[i], NULL);

	for (int i = 0; i < SUBMITTERS; i++) {
		cr_assert_eq(sub[i].err, DTX_OK, "submitter %d: %s", i,
		             dtx_strerror(sub[i].err));
		cr_assert_eq(sub[i].info.state, DTX_TX_COMMITTED,
		             "submitter %d saw %s", i,
		             dtx_tx_state_name(sub[i].info.state));
		created += sub[i].info.created;
	}
	cr_assert_eq(created, 1, "%d submits created the transaction", created);
	cr_assert_str_eq(th_journal_story(t, "race-1"),
	                 "p1.do:ok p2.do:ok p3.do:ok p4.do:ok");
	pthread_barrier_destroy(&go);
	dtx_saga_destroy(saga);
	free(sub);
	th_end(t);
}

/* ---- queries and ids --------------------------------------------------- */

Test(saga, query_of_an_unknown_gid_is_enoent)
{
	th_env *t = th_begin();
	dtx_tx_info info;
	int err;

	th_dtxd_start(t, NULL);
	err = dtx_client_query(th_client(t), "never-submitted", 0, &info);
	cr_assert_eq(err, DTX_ENOENT, "query answered %s", dtx_strerror(err));
	err = dtx_client_query(th_client(t), "never-submitted", 200, &info);
	cr_assert_eq(err, DTX_ENOENT, "waiting query answered %s",
	             dtx_strerror(err));
	th_end(t);
}

static bool is_hex16(const char *s)
{
	if (strlen(s) != 16)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

Test(saga, sagas_without_gid_get_distinct_increasing_hex_ids)
{
	th_env *t = th_begin();
	char prev[DTX_GID_MAX + 1] = "";
	dtx_tx_info info, again;

	th_dtxd_start(t, NULL);
	th_participant_start(t, "p1", NULL);
	for (int i = 0; i < 10; i++) {
		th_run(t, NULL, "p1.do/p1.undo", &info);
		cr_assert(is_hex16(info.gid), "gid '%s' is not 16 hex digits",
		          info.gid);
		cr_assert_gt(strcmp(info.gid, prev), 0,
		             "gid %s does not follow %s", info.gid, prev);
		cr_assert(info.created);
		cr_assert_eq(
		        dtx_client_query(th_client(t), info.gid, 0, &again),
		        DTX_OK);
		cr_assert_eq(again.state, DTX_TX_COMMITTED);
		strcpy(prev, info.gid);
	}
	th_end(t);
}

/* ---- transports -------------------------------------------------------- */

Test(saga, commits_and_compensates_over_ipc)
{
	th_env *t = th_begin();
	dtx_tx_info info;

	th_use_ipc(t);
	start_four(t);
	cr_assert_eq(strncmp(t->dtxd_url, "ipc://", 6), 0);
	cr_assert_eq(strncmp(th_participant_url(t, "p1"), "ipc://", 6), 0);
	th_run(t, "ipc-ok",
	       "p1.do/p1.undo p2.do/p2.undo p3.do/p3.undo "
	       "p4.do/p4.undo",
	       &info);
	cr_assert_eq(info.state, DTX_TX_COMMITTED);
	th_run(t, "ipc-fail", "p1.do/p1.undo p2.do/p2.undo p3.fail/p3.undo",
	       &info);
	cr_assert_eq(info.state, DTX_TX_COMPENSATED);
	cr_assert_str_eq(th_journal_story(t, "ipc-ok"),
	                 "p1.do:ok p2.do:ok p3.do:ok p4.do:ok");
	cr_assert_str_eq(
	        th_journal_story(t, "ipc-fail"),
	        "p1.do:ok p2.do:ok p3.fail:fail p2.undo:ok p1.undo:ok");
	th_end(t);
}

/* ---- participants' answers --------------------------------------------- */

Test(saga, unknown_handler_is_refused_and_earlier_steps_compensated)
{
	th_env *t = th_begin();
	dtx_tx_info info;

	start_four(t);
	th_run(t, "nohandler-1",
	       "p1.do/p1.undo p2.nosuch/p2.undo p3.do/p3.undo", &info);

	cr_assert_eq(info.state, DTX_TX_COMPENSATED, "state %s",
	             dtx_tx_state_name(info.state));
	cr_assert_eq(info.failed_step, 1);
	cr_assert_eq(info.steps[1].state, DTX_STEP_FAILED);
	cr_assert_eq(info.steps[0].state, DTX_STEP_COMPENSATED);
	cr_assert_eq(info.steps[2].state, DTX_STEP_PENDING);
	cr_assert_str_eq(th_journal_story(t, "nohandler-1"),
	                 "p1.do:ok p1.undo:ok");
	th_end(t);
}

Test(saga, retried_step_commits_after_transient_answers)
{
	th_env *t = th_begin();
	dtx_tx_info info;

	th_dtxd_start(t, NULL);
	th_participant_start(t, "p1", NULL);
	th_participant_start(t, "p2", "--flaky", "2", NULL);
	th_participant_start(t, "p3", NULL);
	th_run(t, "flaky-1", "p1.do/p1.undo p2.flaky/p2.undo p3.do/p3.undo",
	       &info);

	cr_assert_eq(info.state, DTX_TX_COMMITTED, "state %s",
	             dtx_tx_state_name(info.state));
	cr_assert_eq(info.steps[1].attempts, 3, "attempts %u",
	             info.steps[1].attempts);
	cr_assert_eq(info.steps[0].attempts, 1);
	cr_assert_eq(info.steps[2].attempts, 1);
	cr_assert_str_eq(th_journal_story(t, "flaky-1"),
	                 "p1.do:ok p2.flaky:retry p2.flaky:retry p2.flaky:ok "
	                 "p3.do:ok");
	th_end(t);
}

/* ---- batched dispatch ---------------------------------------------------- */

#define BATCH_SAGAS 200

static atomic_int batch_done, batch_committed;

static dtx_status h_nothing(void *arg, dtx_call *call)
{
	(void)arg;
	(void)call;
	return DTX_STATUS_OK;
}

static void on_batch_saga(void *arg, int err, const dtx_tx_info *info)
{
	(void)arg;
	if (err == DTX_OK && info->state == DTX_TX_COMMITTED)
		atomic_fetch_add(&batch_committed, 1);
	atomic_fetch_add(&batch_done, 1);
}

Test(saga, calls_ready_together_reach_a_participant_in_few_messages)
{
	th_env *t = th_begin();
	dtx_participant_opts o;
	dtx_participant *part;
	dtx_participant_stats st;
	char purl[TH_URL_MAX], gid[32];
	dtx_client *c;

	th_dtxd_start(t, NULL);
	th_url(t, "inproc-p", purl, sizeof(purl));
	dtx_participant_opts_init(&o);
	o.url = purl;
	cr_assert_eq(dtx_participant_create(&o, &part), DTX_OK);
	cr_assert_eq(dtx_participant_register(part, "b.do", h_nothing, NULL),
	             DTX_OK);
	cr_assert_eq(dtx_participant_register(part, "b.undo", h_nothing, NULL),
	             DTX_OK);
	cr_assert_eq(dtx_participant_start(part), DTX_OK);
	c = th_client(t);
	for (int i = 0; i < BATCH_SAGAS; i++) {
		dtx_saga *s;

		snprintf(gid, sizeof(gid), "batch-%03d", i);
		cr_assert_eq(dtx_saga_create(gid, &s), DTX_OK);
		for (int k = 0; k < 2; k++)
			cr_assert_eq(dtx_saga_add_step(s, purl, "b.do",
			                               "b.undo", NULL, 0, 0),
			             DTX_OK);
		cr_assert_eq(dtx_client_submit_async(c, s, 10000, on_batch_saga,
		                                     NULL),
		             DTX_OK);
		dtx_saga_destroy(s);
	}
	for (int ms = 0; atomic_load(&batch_done) < BATCH_SAGAS && ms < 30000;
	     ms += 10)
		usleep(10000);
	cr_assert_eq(atomic_load(&batch_committed), BATCH_SAGAS);
	dtx_participant_get_stats(part, &st);
	dtx_participant_destroy(part);
	cr_assert_eq(st.calls, 2 * BATCH_SAGAS);
	/* every call in its own message would be 400; the sagas were
	 * submitted at once, so their steps left dtxd together */
	cr_assert_leq(st.messages, st.calls / 4, "%llu messages for %llu calls",
	              (unsigned long long)st.messages,
	              (unsigned long long)st.calls);
	th_end(t);
}
