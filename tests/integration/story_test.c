/*
 * story_test.c - what an operator reads (issue 17, items 3, 5 and 6),
 * against a real dtxd, real participants and dtxctl as a process:
 *   - show tells the whole story: each branch's participant URL, payload
 *     and result (text, else hex; cut unless --full), its current error
 *     only, needs-operator figures of now, timeline lines that name the
 *     branch they are about; tables align whatever the gid lengths;
 *   - watch --gid G --count N prints N lines, all G's;
 *   - errors say what happened: a coordinator nothing listens for is
 *     unreachable at once, an http:// URL is named at open, a participant
 *     that is down is unreachable (not a timeout), bad flags are named, a
 *     missing log directory says so, `list -q | xargs -r` on nothing;
 *   - who did it: on an ipc:// admin endpoint the operator is the peer's
 *     uid, not the name it claims; --admin-allow-uid refuses others.
 *
 * dtxctl runs as a process (DTX_DTXCTL); its JSON is parsed with jansson.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "harness.h"

#define OUT_MAX (1u << 20)

TestSuite(story, .fini = th_teardown, .timeout = 120);

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

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* sh runs the shell command cmd (stdout and stderr into c->out) and
 * returns its exit code. */
static int sh(ctl_env *c, const char *cmd)
{
	char full[3 * TH_URL_MAX + 8192];
	FILE *p;
	size_t n;
	int status;

	snprintf(full, sizeof(full), "%s 2>&1", cmd);
	p = popen(full, "r");
	cr_assert_not_null(p, "popen %s", cmd);
	n = fread(c->out, 1, sizeof(c->out) - 1, p);
	c->out[n] = '\0';
	status = pclose(p);
	cr_assert(WIFEXITED(status), "%s did not exit", cmd);
	return WEXITSTATUS(status);
}

/* ctl runs `dtxctl --admin ADMIN ARGS` (stderr too into c->out). */
static int ctl(ctl_env *c, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static int ctl(ctl_env *c, const char *fmt, ...)
{
	char args[2048], cmd[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s --admin %s %s", th_exe("DTX_DTXCTL"),
	         c->admin, args);
	return sh(c, cmd);
}

/* json runs `dtxctl -o json ARGS` (asserts exit 0) and parses it. */
static json_t *json(ctl_env *c, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static json_t *json(ctl_env *c, const char *fmt, ...)
{
	char args[2048];
	json_error_t err;
	va_list ap;
	json_t *o;
	int rc;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	rc = ctl(c, "-o json %s", args);
	cr_assert_eq(rc, 0, "dtxctl %s exited %d: %s", args, rc, c->out);
	o = json_loads(c->out, 0, &err);
	cr_assert_not_null(o, "dtxctl %s printed no JSON (%s): %s", args,
	                   err.text, c->out);
	return o;
}

static const char *str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	cr_assert(json_is_string(v), "field %s is not a string", key);
	return json_string_value(v);
}

static json_t *branch(json_t *show, size_t i)
{
	return json_array_get(
	        json_object_get(json_object_get(show, "transaction"),
	                        "branches"),
	        i);
}

static ctl_env *start(th_env *t, const char *flaky, const char *extra)
{
	ctl_env *c = calloc(1, sizeof(*c));

	cr_assert_not_null(c);
	c->t = t;
	th_url(t, "admin", c->admin, sizeof(c->admin));
	th_dtxd_start(t, "--admin", c->admin, "--stuck-after-attempts", "3",
	              "--action-max-attempts", "0", extra, NULL);
	th_participant_start(t, "p1", "--flaky", flaky, NULL);
	return c;
}

/* submit_steps submits gid with steps "ACTION/COMPENSATE" on p1, each
 * with payload payloads[i] (lens[i] bytes). */
static void submit_steps(th_env *t, const char *gid, size_t n,
                         const char *const *steps, const void *const *payloads,
                         const size_t *lens, bool wait)
{
	dtx_saga *saga;
	dtx_tx_info info;
	int err;

	cr_assert_eq(dtx_saga_create(gid, &saga), DTX_OK);
	for (size_t i = 0; i < n; i++) {
		char act[64];
		const char *slash = strchr(steps[i], '/');
		snprintf(act, sizeof(act), "%.*s", (int)(slash - steps[i]),
		         steps[i]);
		cr_assert_eq(dtx_saga_add_step(
		                     saga, th_participant_url(t, "p1"), act,
		                     slash + 1, payloads[i], lens[i], 0),
		             DTX_OK);
	}
	err = dtx_client_submit(th_client(t), saga, wait ? TH_WAIT_FINAL : 0,
	                        &info);
	dtx_saga_destroy(saga);
	cr_assert_eq(err, DTX_OK, "submit %s: %s", gid, dtx_strerror(err));
}

/* await_attempts polls show until branch i of gid made at least n
 * attempts. */
static json_t *await_attempts(ctl_env *c, const char *gid, size_t i,
                              json_int_t n)
{
	for (int waited = 0; waited < TH_WAIT_FINAL; waited += 100) {
		json_t *o = json(c, "show %s", gid);
		json_t *b = branch(o, i);
		if (json_integer_value(json_object_get(b, "attempts")) >= n)
			return o;
		json_decref(o);
		sleep_ms(100);
	}
	cr_assert_fail("%s branch %zu never made %lld attempts", gid, i,
	               (long long)n);
	return NULL;
}

/* ---- item 3: the whole story ------------------------------------------ */

Test(story, show_prints_urls_payloads_results_and_live_figures)
{
	th_env *t = th_begin();
	ctl_env *c = start(t, "1000000", NULL);
	static const uint8_t bin[] = {0x00, 0xff, 0x10, 0x80};
	static const char *const steps[] = {
	        "p1.do/p1.undo", "p1.bigresult/p1.undo", "p1.flaky/p1.undo"};
	const void *payloads[] = {"{\"sku\":\"gift-card\"}", "300", bin};
	const size_t lens[] = {19, 3, sizeof(bin)};
	json_t *o, *b, *p;
	char want[64], *cut;
	json_int_t tries;

	submit_steps(t, "story-1", 3, steps, payloads, lens, false);
	o = await_attempts(c, "story-1", 2, 6);

	/* branch 0: text payload, text result, its participant */
	b = branch(o, 0);
	cr_assert_str_eq(str(b, "participant_url"),
	                 th_participant_url(t, "p1"));
	p = json_object_get(b, "payload");
	cr_assert_str_eq(str(p, "text"), "{\"sku\":\"gift-card\"}");
	cr_assert(json_is_false(json_object_get(p, "truncated")));
	cr_assert_str_eq(str(json_object_get(b, "result"), "text"), "p1 done");
	/* branch 1: a 300-byte result, cut to the first 256 */
	p = json_object_get(branch(o, 1), "result");
	cr_assert_eq(json_integer_value(json_object_get(p, "size")), 300);
	cr_assert(json_is_true(json_object_get(p, "truncated")));
	cr_assert_eq(strlen(str(p, "text")), 256);
	/* branch 2: a binary payload is hex */
	b = branch(o, 2);
	cr_assert_str_eq(str(json_object_get(b, "payload"), "hex"), "00ff1080");
	/* the needs-operator figures are those of now: the branch's
	 * attempts, not the 3 it had when it was flagged */
	tries = json_integer_value(json_object_get(b, "attempts"));
	snprintf(want, sizeof(want), ": %lld attempts,", (long long)tries);
	cr_assert_not_null(
	        strstr(str(json_object_get(o, "transaction"),
	                   "operator_reason"),
	               want),
	        "operator_reason %s, branch attempts %lld",
	        str(json_object_get(o, "transaction"), "operator_reason"),
	        (long long)tries);
	json_decref(o);

	/* --full: all of it */
	o = json(c, "show story-1 --full");
	p = json_object_get(branch(o, 1), "result");
	cr_assert(json_is_false(json_object_get(p, "truncated")));
	cr_assert_eq(strlen(str(p, "text")), 300);
	json_decref(o);

	/* the table shows the same: URL, payloads, the cut and the way to
	 * all of it */
	cr_assert_eq(ctl(c, "show story-1"), 0);
	cr_assert_not_null(strstr(c->out, th_participant_url(t, "p1")), "%s",
	                   c->out);
	cr_assert_not_null(strstr(c->out, "{\"sku\":\"gift-card\"}"), "%s",
	                   c->out);
	cr_assert_not_null(strstr(c->out, "00ff1080"), "%s", c->out);
	cut = strstr(c->out, "first 256 of 300 bytes; --full for all");
	cr_assert_not_null(cut, "%s", c->out);
	free(c);
	th_end(t);
}

Test(story, timeline_names_the_branch_and_errors_are_current)
{
	th_env *t = th_begin();
	ctl_env *c = start(t, "2", NULL);
	static const char *const steps[] = {"p1.do/p1.flaky",
	                                    "p1.fail/p1.undo"};
	const void *payloads[] = {NULL, NULL};
	const size_t lens[] = {0, 0};
	json_t *o, *ev;
	size_t i;
	bool retried = false;

	submit_steps(t, "tl-1", 2, steps, payloads, lens, true);
	o = json(c, "show tl-1 --events 5000");
	cr_assert_str_eq(str(json_object_get(o, "transaction"), "state"),
	                 "compensated");
	/* branch 0's compensation was retried twice, then succeeded: its
	 * error is gone, the old ones stay in the timeline */
	cr_assert(
	        json_is_null(json_object_get(branch(o, 0), "last_error")),
	        "branch 0 keeps %s",
	        json_string_value(json_object_get(branch(o, 0), "last_error")));
	/* branch 1's refusal is its current error: it says why */
	cr_assert_not_null(
	        strstr(str(branch(o, 1), "last_error"), "action fail"));
	json_array_foreach(json_object_get(o, "timeline"), i, ev)
	{
		json_int_t step =
		        json_integer_value(json_object_get(ev, "step"));
		const char *d = str(ev, "detail");
		retried |= step == 0 && strncmp(d, "compensate retry", 16) == 0;
		/* a line about branch 1 never reads as branch 0's answer */
		if (step == 1 && strcmp(str(ev, "step_state"), "acting") == 0)
			cr_assert(strncmp(d,
			                  "action called, after branch 0: "
			                  "action ok",
			                  40) == 0,
			          "branch 1: %s", d);
		if (step == 0 && strcmp(str(ev, "step_state"), "done") == 0)
			cr_assert(strncmp(d, "action ok", 9) == 0,
			          "branch 0: %s", d);
	}
	cr_assert(retried, "the old compensate errors left the timeline");
	json_decref(o);
	free(c);
	th_end(t);
}

/* line_with returns the line of out that holds must and not must_not
 * (NULL: any), or asserts there is none. */
static const char *line_with(const char *out, const char *must,
                             const char *must_not)
{
	for (const char *l = out; *l != '\0';) {
		const char *end = strchr(l, '\n');
		size_t n = end ? (size_t)(end - l) : strlen(l);
		char line[1024];
		snprintf(line, sizeof(line), "%.*s", (int)n, l);
		if (strstr(line, must) &&
		    (must_not == NULL || !strstr(line, must_not)))
			return l;
		l += n + (end != NULL);
	}
	cr_assert_fail("no line with %s in:\n%s", must, out);
	return NULL;
}

/* last_col is the offset of the last word in l's line. */
static long last_col(const char *l, const char *word)
{
	const char *end = strchr(l, '\n'), *w = NULL;

	for (const char *p = strstr(l, word); p && (!end || p < end);
	     p = strstr(p + 1, word))
		w = p;
	cr_assert_not_null(w);
	return (long)(w - l);
}

Test(story, tables_align_whatever_the_gid_lengths)
{
	th_env *t = th_begin();
	ctl_env *c = start(t, "0", NULL);
	const char *longer = "a-much-longer-gid-than-the-twenty-eight-column";
	static const char *const steps[] = {"p1.do/p1.undo"};
	const void *payloads[] = {NULL};
	const size_t lens[] = {0};
	long a, b;

	submit_steps(t, "g1", 1, steps, payloads, lens, true);
	submit_steps(t, longer, 1, steps, payloads, lens, true);
	cr_assert_eq(ctl(c, "list --all"), 0);
	a = last_col(line_with(c->out, "g1 ", NULL), "saga");
	b = last_col(line_with(c->out, longer, NULL), "saga");
	cr_assert_eq(a, b, "list columns differ:\n%s", c->out);
	/* watch: a line about the whole transaction keeps the branch
	 * columns (blank), so its detail starts where a branch's does */
	cr_assert_eq(ctl(c, "watch --gid %s --count 4 --for 20s", longer), 0);
	a = last_col(line_with(c->out, "action ok", NULL), "action ok");
	b = last_col(line_with(c->out, "committed", "branch"), "committed");
	cr_assert_eq(a, b, "watch columns differ:\n%s", c->out);
	free(c);
	th_end(t);
}

/* Deterministic, unlike watching for a fixed time: --gid starts from the
 * oldest line the ring holds, so lines made before watch started are not
 * missed, and --count counts that transaction's lines only. */
Test(story, watch_gid_counts_only_that_transactions_lines)
{
	th_env *t = th_begin();
	ctl_env *c = start(t, "0", NULL);
	static const char *const steps[] = {"p1.do/p1.undo", "p1.do/p1.undo"};
	const void *payloads[] = {NULL, NULL};
	const size_t lens[] = {0, 0};
	char *line, *save = NULL, *last = NULL;
	size_t lines = 0;

	submit_steps(t, "other-1", 2, steps, payloads, lens, true);
	submit_steps(t, "w-1", 2, steps, payloads, lens, true);
	submit_steps(t, "other-2", 2, steps, payloads, lens, true);
	/* w-1: submitted, 2 branches acting and done, committed */
	cr_assert_eq(ctl(c, "-o jsonl watch --gid w-1 --count 6 --for 30s "
	                    "--interval-ms 50"),
	             0, "%s", c->out);
	for (line = strtok_r(c->out, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		json_t *o = json_loads(line, 0, NULL);
		cr_assert_not_null(o, "not JSON: %s", line);
		cr_assert_str_eq(str(o, "gid"), "w-1");
		free(last);
		last = strdup(str(o, "detail"));
		json_decref(o);
		lines++;
	}
	cr_assert_eq(lines, 6);
	cr_assert_str_eq(last, "committed");
	free(last);
	free(c);
	th_end(t);
}

/* ---- item 6: errors that say what happened ---------------------------- */

static char logged[4096];

static void log_cb(void *arg, dtx_log_level level, const char *msg)
{
	(void)arg;
	(void)level;
	if (strlen(logged) + strlen(msg) + 2 < sizeof(logged)) {
		strcat(logged, msg);
		strcat(logged, "\n");
	}
}

Test(story, a_client_says_unreachable_at_once_and_names_a_bad_scheme)
{
	th_env *t = th_begin();
	dtx_client_opts opts;
	dtx_client *cl = NULL;
	dtx_tx_info info;
	char url[TH_URL_MAX];
	int64_t t0;
	int err;

	dtx_set_log_cb(log_cb, NULL);
	cr_assert_eq(dtx_client_open("http://127.0.0.1:1", NULL, &cl),
	             DTX_EINVAL);
	cr_assert_not_null(strstr(logged, "unsupported URL scheme \"http://\""),
	                   "%s", logged);
	/* nothing listens there: unreachable long before the deadline */
	th_url(t, "nobody", url, sizeof(url));
	dtx_client_opts_init(&opts);
	opts.timeout_ms = 60000;
	cr_assert_eq(dtx_client_open(url, &opts, &cl), DTX_OK);
	t0 = mono_ms();
	err = dtx_client_query(cl, "g1", 0, &info);
	cr_assert_eq(err, DTX_EUNREACHABLE, "%s", dtx_strerror(err));
	cr_assert_lt(mono_ms() - t0, 30000, "waited for the deadline");
	cr_assert_not_null(strstr(logged, "nothing listens at"), "%s", logged);
	dtx_client_close(cl);
	dtx_set_log_cb(NULL, NULL);
	th_end(t);
}

Test(story, a_participant_that_is_down_is_unreachable_not_slow)
{
	th_env *t = th_begin();
	ctl_env *c = start(t, "0", "--call-timeout-ms=300");
	static const char *const steps[] = {"p1.do/p1.undo"};
	const void *payloads[] = {NULL};
	const size_t lens[] = {0};
	json_t *o;

	th_proc_kill(t->parts[0].proc, SIGTERM);
	cr_assert(th_proc_wait(t->parts[0].proc, 5000));
	submit_steps(t, "down-1", 1, steps, payloads, lens, false);
	o = await_attempts(c, "down-1", 0, 2);
	cr_assert_not_null(
	        strstr(str(branch(o, 0), "last_error"), "action unreachable"),
	        "%s", str(branch(o, 0), "last_error"));
	json_decref(o);
	th_participant_restart(t, "p1", NULL); /* th_end stops it */
	free(c);
	th_end(t);
}

Test(story, dtxctl_names_bad_flags_and_missing_logs)
{
	th_env *t = th_begin();
	ctl_env *c = start(t, "0", NULL);
	char cmd[3 * TH_URL_MAX + 8192];

	cr_assert_eq(ctl(c, "-o json stats"), 0, "%s", c->out);
	cr_assert_eq(ctl(c, "list --bogus"), EX_USAGE);
	cr_assert_not_null(strstr(c->out, "unknown option '--bogus'"), "%s",
	                   c->out);
	cr_assert_eq(ctl(c, "list --limit"), EX_USAGE);
	cr_assert_not_null(strstr(c->out, "'--limit' needs a value"), "%s",
	                   c->out);
	cr_assert_eq(ctl(c, "list -o"), EX_USAGE);
	cr_assert_not_null(strstr(c->out, "'-o' needs a value"), "%s", c->out);
	cr_assert_eq(ctl(c, "list --events 3"), EX_USAGE);
	cr_assert_not_null(strstr(c->out, "--events does not apply to 'list'"),
	                   "%s", c->out);
	cr_assert_eq(ctl(c, "--admin http://127.0.0.1:1 stats"), EX_USAGE);
	cr_assert_not_null(strstr(c->out, "unsupported URL scheme"), "%s",
	                   c->out);
	cr_assert_eq(ctl(c, "--admin tcp://127.0.0.1:1 stats"), EX_UNAVAILABLE);
	cr_assert_not_null(strstr(c->out, "unreachable"), "%s", c->out);
	cr_assert_eq(ctl(c, "--log %s/nope show g", t->dir), EX_NOINPUT);
	cr_assert_not_null(strstr(c->out, "no such directory"), "%s", c->out);
	/* the man page's batch example on an empty list: nothing to do */
	snprintf(cmd, sizeof(cmd),
	         "%s --admin %s list -q | xargs -r -n1 %s --admin %s pause "
	         "--reason x",
	         th_exe("DTX_DTXCTL"), c->admin, th_exe("DTX_DTXCTL"),
	         c->admin);
	cr_assert_eq(sh(c, cmd), 0, "%s", c->out);
	free(c);
	th_end(t);
}

/* ---- item 5: who did it ----------------------------------------------- */

/* ipc_admin starts dtxd with its admin endpoint on ipc:// in t's
 * directory, opened to every local user (the test's second uid, nobody,
 * must reach it: the directory and the socket are made accessible), and
 * a participant whose flaky handler keeps a transaction running. */
static ctl_env *ipc_admin(th_env *t, const char *allow_flag, const char *allow)
{
	ctl_env *c = calloc(1, sizeof(*c));
	char path[PATH_MAX + 16];

	cr_assert_not_null(c);
	c->t = t;
	snprintf(path, sizeof(path), "%s/admin.ipc", t->dir);
	snprintf(c->admin, sizeof(c->admin), "ipc://%.*s", PATH_MAX, path);
	th_dtxd_start(t, "--admin", c->admin, "--action-max-attempts", "0",
	              allow_flag, allow, NULL);
	cr_assert_eq(chmod(t->dir, 0755), 0);
	cr_assert_eq(chmod(path, 0777), 0);
	th_participant_start(t, "p1", "--flaky", "1000000", NULL);
	return c;
}

/* as_nobody runs `dtxctl --admin ADMIN ARGS` as uid nobody. */
static int as_nobody(ctl_env *c, const char *args)
{
	char cmd[3 * TH_URL_MAX + 8192];

	snprintf(cmd, sizeof(cmd),
	         "setpriv --reuid nobody --regid nogroup --clear-groups %s "
	         "--admin %s %s",
	         th_exe("DTX_DTXCTL"), c->admin, args);
	return sh(c, cmd);
}

/* operator_lines returns the timeline's operator lines of gid, joined by
 * newlines (owned by the caller). */
static char *operator_lines(ctl_env *c, const char *gid)
{
	json_t *o = json(c, "show %s --events 5000", gid), *ev;
	char *all = calloc(1, 8192);
	size_t i;

	cr_assert_not_null(all);
	json_array_foreach(json_object_get(o, "timeline"), i, ev)
	{
		const char *d = str(ev, "detail");
		if (strncmp(d, "operator ", 9) == 0 &&
		    strlen(all) + strlen(d) + 2 < 8192) {
			strcat(all, d);
			strcat(all, "\n");
		}
	}
	json_decref(o);
	return all;
}

static void submit_stuck(th_env *t, const char *gid)
{
	static const char *const steps[] = {"p1.flaky/p1.undo"};
	const void *payloads[] = {NULL};
	const size_t lens[] = {0};

	submit_steps(t, gid, 1, steps, payloads, lens, false);
}

Test(story, an_ipc_operator_is_recorded_by_uid_not_by_claimed_name)
{
	th_env *t = th_begin();
	ctl_env *c = ipc_admin(t, NULL, NULL);
	char *lines;

	submit_stuck(t, "who-1");
	cr_assert_eq(ctl(c, "pause who-1 --reason look --user mallory"), 0,
	             "%s", c->out);
	cr_assert_eq(as_nobody(c, "resume who-1 --reason go --user root"), 0,
	             "%s", c->out);
	lines = operator_lines(c, "who-1");
	cr_assert_not_null(
	        strstr(lines, "operator pause by root (uid 0): look"), "%s",
	        lines);
	cr_assert_not_null(
	        strstr(lines, "operator resume by nobody (uid 65534): go"),
	        "%s", lines);
	cr_assert_null(strstr(lines, "mallory"), "%s", lines);
	free(lines);
	free(c);
	th_end(t);
}

Test(story, a_tcp_operator_name_is_recorded_as_claimed)
{
	th_env *t = th_begin();
	ctl_env *c = start(t, "1000000", NULL);
	char *lines;

	submit_stuck(t, "who-2");
	cr_assert_eq(ctl(c, "pause who-2 --reason look --user op"), 0, "%s",
	             c->out);
	lines = operator_lines(c, "who-2");
	cr_assert_not_null(
	        strstr(lines, "operator pause by op (claimed): look"), "%s",
	        lines);
	free(lines);
	free(c);
	th_end(t);
}

Test(story, the_admin_allow_list_refuses_other_users_and_changes_nothing)
{
	th_env *t = th_begin();
	ctl_env *c = ipc_admin(t, "--admin-allow-uid", "root,0");
	json_t *o;

	submit_stuck(t, "who-3");
	cr_assert_eq(as_nobody(c, "pause who-3 --reason sneaky"), EX_NOPERM,
	             "%s", c->out);
	cr_assert_not_null(strstr(c->out, "refused: nobody (uid 65534) may "
	                                  "not use this admin endpoint"),
	                   "%s", c->out);
	cr_assert_eq(as_nobody(c, "list"), EX_NOPERM, "%s", c->out);
	o = json(c, "show who-3");
	cr_assert(json_is_false(
	        json_object_get(json_object_get(o, "transaction"), "paused")));
	json_decref(o);
	cr_assert_eq(ctl(c, "pause who-3 --reason allowed"), 0, "%s", c->out);
	free(c);
	th_end(t);
}

Test(story, dtxd_refuses_allow_lists_it_cannot_apply)
{
	th_env *t = th_begin();
	ctl_env c = {.t = t};
	char cmd[2 * TH_URL_MAX + 512];

	snprintf(cmd, sizeof(cmd),
	         "%s --log-dir %s/l1 --admin tcp://127.0.0.1:1 "
	         "--admin-allow-uid root",
	         th_exe("DTX_DTXD"), t->dir);
	cr_assert_eq(sh(&c, cmd), 64, "%s", c.out);
	cr_assert_not_null(strstr(c.out, "need an ipc:// --admin"), "%s",
	                   c.out);
	snprintf(cmd, sizeof(cmd),
	         "%s --log-dir %s/l1 --admin ipc://%s/a.ipc "
	         "--admin-allow-gid no-such-group-here",
	         th_exe("DTX_DTXD"), t->dir, t->dir);
	cr_assert_eq(sh(&c, cmd), 64, "%s", c.out);
	cr_assert_not_null(strstr(c.out, "no such group: 'no-such-group-here'"),
	                   "%s", c.out);
	th_end(t);
}
