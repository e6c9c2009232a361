/*
 * dtxctl_test.c - the operator CLI against a real dtxd: a transaction made
 * stuck on purpose (a participant that always answers RETRY) is found by
 * `list --needs-operator`, explained by `show` and repaired by
 * `compensate` or `skip-branch`; --dry-run changes nothing; every JSON
 * answer parses and carries the documented fields; exit codes are the
 * documented sysexits; offline reads of the stopped log match online ones.
 *
 * dtxctl runs as a process (DTX_DTXCTL); its JSON is parsed with jansson.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "harness.h"

#define OUT_MAX (1u << 20)

TestSuite(dtxctl, .fini = th_teardown, .timeout = 120);

typedef struct ctl_env {
	th_env *t;
	char admin[TH_URL_MAX];
	char out[OUT_MAX];
} ctl_env;

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* ctl runs `dtxctl ARGS` (a printf format; arguments must not need shell
 * quoting beyond the single quotes used in the format) with --admin, puts
 * its stdout in c->out and returns its exit code. */
static int ctl(ctl_env *c, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static int ctl(ctl_env *c, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = th_vdtxctl(c->admin, c->out, sizeof(c->out), fmt, ap);
	va_end(ap);
	return rc;
}

/* json runs ctl and parses its stdout as one JSON object with "schema" 1
 * (asserts the exit code is want). */
static json_t *json(ctl_env *c, int want, const char *args)
{
	json_error_t err;
	json_t *o;
	int rc = ctl(c, "--output json %s", args);

	cr_assert_eq(rc, want, "dtxctl %s exited %d, not %d: %s", args, rc,
	             want, c->out);
	o = json_loads(c->out, 0, &err);
	cr_assert_not_null(o, "dtxctl %s printed no JSON (%s): %s", args,
	                   err.text, c->out);
	cr_assert_eq(json_integer_value(json_object_get(o, "schema")), 1);
	return o;
}

static const char *str(json_t *o, const char *path)
{
	json_t *v = json_object_get(o, path);

	cr_assert(json_is_string(v), "field %s is not a string", path);
	return json_string_value(v);
}

static void require_fields(json_t *o, const char *const *names)
{
	for (; *names != NULL; names++)
		cr_assert(json_object_get(o, *names) != NULL,
		          "field %s is missing", *names);
}

static const char *const tx_fields[] = {"gid",
                                        "mode",
                                        "state",
                                        "created_unix_ms",
                                        "updated_unix_ms",
                                        "deadline_unix_ms",
                                        "failed_step",
                                        "reason",
                                        "needs_operator",
                                        "operator_reason",
                                        "paused",
                                        "initiator_driven",
                                        "branches",
                                        NULL};
static const char *const branch_fields[] = {"index",
                                            "state",
                                            "attempts",
                                            "last_error",
                                            "next_retry_unix_ms",
                                            "participant_url",
                                            "action",
                                            "compensate",
                                            "confirm",
                                            NULL};

static void check_tx(json_t *tx)
{
	json_t *b;
	size_t i;

	cr_assert(json_is_object(tx));
	require_fields(tx, tx_fields);
	json_array_foreach(json_object_get(tx, "branches"), i, b)
	        require_fields(b, branch_fields);
}

static ctl_env *start(th_env *t, const char *flaky)
{
	ctl_env *c = calloc(1, sizeof(*c));

	cr_assert_not_null(c);
	c->t = t;
	th_url(t, "admin", c->admin, sizeof(c->admin));
	th_dtxd_start(t, "--admin", c->admin, "--stuck-after-attempts", "3",
	              "--action-max-attempts", "0", NULL);
	th_participant_start(t, "p1", "--flaky", flaky, NULL);
	return c;
}

static void submit(th_env *t, const char *gid, const char *spec)
{
	dtx_saga *saga = th_saga(t, gid, spec);
	dtx_tx_info info;
	int err = dtx_client_submit(th_client(t), saga, 0, &info);

	dtx_saga_destroy(saga);
	cr_assert_eq(err, DTX_OK, "submit %s: %s", gid, dtx_strerror(err));
}

/* await_listed polls `list --needs-operator -q` until gid is in it. */
static void await_listed(ctl_env *c, const char *gid)
{
	for (int waited = 0; waited < TH_WAIT_FINAL; waited += 50) {
		cr_assert_eq(ctl(c, "list --needs-operator -q"), 0);
		if (strstr(c->out, gid) != NULL)
			return;
		sleep_ms(50);
	}
	cr_assert_fail("%s never listed as needing an operator", gid);
}

static void await_state(th_env *t, const char *gid, dtx_tx_state want)
{
	dtx_tx_info info;
	int err = dtx_client_query(th_client(t), gid, TH_WAIT_FINAL, &info);

	cr_assert_eq(err, DTX_OK, "query %s: %s", gid, dtx_strerror(err));
	cr_assert_eq(info.state, want, "%s is %s", gid,
	             dtx_tx_state_name(info.state));
}

/* state_of returns "STATE b0 b1 ..." from `show` (copied into buf). */
static const char *state_of(ctl_env *c, const char *gid, char *buf, size_t len)
{
	json_t *o = json(c, 0, gid);
	json_t *tx = json_object_get(o, "transaction"), *b;
	size_t i, n;

	n = (size_t)snprintf(buf, len, "%s", str(tx, "state"));
	json_array_foreach(json_object_get(tx, "branches"), i, b) n +=
	        (size_t)snprintf(buf + n, len - n, " %s", str(b, "state"));
	json_decref(o);
	return buf;
}

Test(dtxctl, finds_explains_and_compensates_a_stuck_saga)
{
	th_env *t = th_begin();
	ctl_env *c = start(t, "1000000");
	char before[256], after[256];
	json_t *o, *tx, *b1, *tl, *ev;
	bool found = false;
	size_t i;

	submit(t, "stuck-1", "p1.do/p1.undo p1.flaky/p1.undo");
	await_listed(c, "stuck-1");

	/* show explains it: which branch, how often, the last error. */
	o = json(c, 0, "show stuck-1");
	cr_assert_str_eq(str(o, "command"), "show");
	tx = json_object_get(o, "transaction");
	check_tx(tx);
	cr_assert_str_eq(str(tx, "state"), "running");
	cr_assert(json_is_true(json_object_get(tx, "needs_operator")));
	cr_assert_not_null(strstr(str(tx, "operator_reason"), "p1.flaky"));
	b1 = json_array_get(json_object_get(tx, "branches"), 1);
	cr_assert_str_eq(str(b1, "state"), "acting");
	cr_assert_geq(json_integer_value(json_object_get(b1, "attempts")), 3);
	cr_assert_not_null(strstr(str(b1, "last_error"), "retry"));
	tl = json_object_get(o, "timeline");
	cr_assert_gt(json_array_size(tl), 2);
	require_fields(json_array_get(tl, 0),
	               (const char *const[]){"seq", "unix_ms", "tx_state",
	                                     "step", "step_state", "detail",
	                                     NULL});
	cr_assert_gt(json_integer_value(json_object_get(o, "timeline_total")),
	             2);
	json_decref(o);

	/* --dry-run says what would happen and changes nothing. */
	state_of(c, "show stuck-1", before, sizeof(before));
	o = json(c, 0, "compensate stuck-1 --dry-run --reason 'p1 is broken'");
	cr_assert(json_is_true(json_object_get(o, "dry_run")));
	cr_assert_str_eq(json_string_value(json_array_get(
	                         json_object_get(o, "transitions"), 0)),
	                 "transaction running -> compensating");
	cr_assert_not_null(strstr(json_string_value(json_array_get(
	                                  json_object_get(o, "calls"), 0)),
	                          "p1.undo"));
	json_decref(o);
	sleep_ms(100);
	state_of(c, "show stuck-1", after, sizeof(after));
	cr_assert_str_eq(before, after);
	cr_assert_str_eq(before, "running done acting");

	/* compensate repairs it, and the timeline says who and why. */
	o = json(c, 0, "compensate stuck-1 --reason 'p1 is broken' --user op");
	cr_assert(json_is_false(json_object_get(o, "dry_run")));
	check_tx(json_object_get(o, "transaction"));
	json_decref(o);
	await_state(t, "stuck-1", DTX_TX_COMPENSATED);
	o = json(c, 0, "show stuck-1 --events 5000");
	json_array_foreach(json_object_get(o, "timeline"), i, ev) found |=
	        strcmp(str(ev, "detail"),
	               "operator compensate by op (claimed): p1 is "
	               "broken") == 0;
	cr_assert(found, "the operator action is not in the timeline");
	json_decref(o);
	cr_assert_eq(ctl(c, "list --needs-operator -q"), 0);
	cr_assert_str_eq(c->out, "");
	free(c);
	th_end(t);
}

Test(dtxctl, bad_input_gets_its_exit_code_and_changes_nothing)
{
	th_env *t = th_begin();
	ctl_env *c = start(t, "1000000");
	char before[256], after[256];
	json_t *o;

	submit(t, "stuck-2", "p1.flaky/p1.undo");
	await_listed(c, "stuck-2");
	state_of(c, "show stuck-2", before, sizeof(before));

	cr_assert_eq(ctl(c, "show no-such-gid"), EX_NOINPUT);
	o = json(c, EX_NOINPUT, "show no-such-gid");
	cr_assert_str_eq(str(json_object_get(o, "error"), "code"), "ENOENT");
	json_decref(o);
	cr_assert_eq(ctl(c, "compensate stuck-2"), EX_USAGE); /* no reason */
	cr_assert_eq(ctl(c, "list --bogus"), EX_USAGE);
	cr_assert_eq(ctl(c, "frobnicate"), EX_USAGE);
	cr_assert_eq(ctl(c, "list --dry-run"), EX_USAGE);
	cr_assert_eq(ctl(c, "skip-branch stuck-2 0 --reason x"), EX_USAGE);
	cr_assert_eq(ctl(c, "cancel stuck-2 --reason 'wrong mode'"),
	             EX_DATAERR);
	cr_assert_eq(ctl(c, "commit stuck-2 --reason 'wrong mode'"),
	             EX_DATAERR);
	cr_assert_eq(ctl(c, "resume stuck-2 --reason 'not paused'"),
	             EX_DATAERR);
	cr_assert_eq(ctl(c, "skip-branch stuck-2 7 --as done --reason x"),
	             EX_DATAERR);
	cr_assert_eq(ctl(c, "--admin tcp://127.0.0.1:1 stats"), EX_UNAVAILABLE);
	sleep_ms(50);
	state_of(c, "show stuck-2", after, sizeof(after));
	cr_assert_str_eq(before, after);

	/* pause holds the calls back; retry is refused while paused. */
	cr_assert_eq(ctl(c, "pause stuck-2 --reason 'look first'"), 0);
	o = json(c, 0, "show stuck-2");
	cr_assert(json_is_true(
	        json_object_get(json_object_get(o, "transaction"), "paused")));
	json_decref(o);
	cr_assert_eq(ctl(c, "retry stuck-2 --reason now"), EX_DATAERR);
	cr_assert_eq(ctl(c, "resume stuck-2 --reason 'go on'"), 0);

	/* skip-branch as done finishes a branch repaired by hand (the
	 * action never answered OK: the operator says --force). */
	cr_assert_eq(ctl(c, "skip-branch stuck-2 0 --as done --reason fixed"),
	             EX_DATAERR);
	cr_assert_eq(ctl(c, "skip-branch stuck-2 0 --as done --force "
	                    "--reason fixed"),
	             0);
	await_state(t, "stuck-2", DTX_TX_COMMITTED);
	cr_assert_eq(ctl(c, "compensate stuck-2 --reason late"), EX_DATAERR);
	free(c);
	th_end(t);
}

Test(dtxctl, offline_reads_match_online_reads)
{
	th_env *t = th_begin();
	ctl_env *c = start(t, "2");
	char *online[3];
	const char *reads[3] = {"list --all", "show ok-1", "stats"};
	char nope[PATH_MAX + 8];
	json_t *o;

	submit(t, "ok-1", "p1.do/p1.undo p1.flaky/p1.undo");
	await_state(t, "ok-1", DTX_TX_COMMITTED);
	submit(t, "bad-1", "p1.do/p1.undo p1.fail/p1.undo");
	await_state(t, "bad-1", DTX_TX_COMPENSATED);
	o = json(c, 0, "stats");
	cr_assert_eq(json_integer_value(json_object_get(o, "total")), 2);
	require_fields(o, (const char *const[]){"active", "needs_operator",
	                                        "paused", "oldest_active",
	                                        "counts", NULL});
	json_decref(o);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(ctl(c, "--output json %s", reads[i]), 0);
		online[i] = strdup(c->out);
	}
	th_proc_kill(t->dtxd, SIGTERM);
	cr_assert(th_proc_wait(t->dtxd, 5000));
	for (int i = 0; i < 3; i++) {
		json_t *a = json_loads(online[i], 0, NULL);
		json_t *b;
		cr_assert_eq(ctl(c, "--log '%s' --output json %s", t->log_dir,
		                 reads[i]),
		             0);
		b = json_loads(c->out, 0, NULL);
		cr_assert(json_equal(a, b), "%s differs:\n%s\n%s", reads[i],
		          online[i], c->out);
		json_decref(a);
		json_decref(b);
		free(online[i]);
	}
	cr_assert_eq(ctl(c, "--log '%s' list --all -q", t->log_dir), 0);
	cr_assert_str_eq(c->out, "bad-1\nok-1\n");
	cr_assert_eq(ctl(c, "--log '%s' --output jsonl list --all", t->log_dir),
	             0);
	for (char *line = strtok(c->out, "\n"); line != NULL;
	     line = strtok(NULL, "\n")) {
		o = json_loads(line, 0, NULL);
		cr_assert_not_null(o, "jsonl line: %s", line);
		check_tx(json_object_get(o, "transaction"));
		json_decref(o);
	}
	cr_assert_eq(ctl(c, "--log '%s' --output json log check", t->log_dir),
	             0);
	o = json_loads(c->out, 0, NULL);
	cr_assert_not_null(o);
	cr_assert_eq(json_integer_value(json_object_get(o, "bad")), 0);
	cr_assert_gt(json_integer_value(json_object_get(o, "records")), 0);
	json_decref(o);
	/* no such store: a directory not there, or a database whose schema
	 * (public: the URI without the test's search_path) holds none */
	snprintf(nope, sizeof(nope), "%s/nope", t->log_dir);
	if (t->pg_store)
		*(strstr(nope, "options=") - 1) = '\0';
	cr_assert_eq(ctl(c, "--log '%s' show ok-1", nope), EX_NOINPUT);
	free(c);
	th_end(t);
}

Test(dtxctl, watch_streams_transitions_as_json_lines)
{
	th_env *t = th_begin();
	ctl_env *c = start(t, "0");
	json_error_t err;
	char *line, *save = NULL;
	size_t lines = 0;
	bool committed = false;

	char cmd[8192];
	FILE *p;
	size_t n;

	/* watch streams: start it, then act. With --gid it starts from the
	 * oldest line the ring holds, so however late it starts it misses
	 * none of w-1's lines, and --count counts w-1's lines only: it ends
	 * after exactly w-1's six (submitted, two branches acting and done,
	 * committed). --for only bounds a failure. */
	snprintf(cmd, sizeof(cmd),
	         "%s --admin %s --output jsonl watch --gid w-1 "
	         "--count 6 --for 60s --interval-ms 50",
	         th_exe("DTX_DTXCTL"), c->admin);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	sleep_ms(300);
	submit(t, "w-1", "p1.do/p1.undo p1.do/p1.undo");
	await_state(t, "w-1", DTX_TX_COMMITTED);
	n = fread(c->out, 1, sizeof(c->out) - 1, p);
	c->out[n] = '\0';
	cr_assert_eq(pclose(p), 0, "watch failed: %s", c->out);
	for (line = strtok_r(c->out, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		json_t *o = json_loads(line, 0, &err);
		cr_assert_not_null(o, "not JSON (%s): %s", err.text, line);
		cr_assert_eq(json_integer_value(json_object_get(o, "schema")),
		             1);
		cr_assert_str_eq(str(o, "command"), "watch");
		cr_assert_str_eq(str(o, "gid"), "w-1");
		require_fields(o, (const char *const[]){
		                          "seq", "unix_ms", "tx_state", "step",
		                          "step_state", "detail", NULL});
		committed |= strcmp(str(o, "detail"), "committed") == 0;
		json_decref(o);
		lines++;
	}
	cr_assert_eq(lines, 6, "watch printed %zu lines", lines);
	cr_assert(committed, "no 'committed' transition was streamed");
	free(c);
	th_end(t);
}
