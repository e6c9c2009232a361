/*
 * repair_test.c - repairs that cannot make things worse (issue 17): a real
 * dtxd, real sample participants and dtxctl as a process.
 *
 *   - a blind commit of an initiator-driven TCC whose Try was refused is
 *     refused (dry run too), naming the branch and its recorded answer;
 *     --force records it, and says so in the timeline;
 *   - skip-branch --as done of an action that never answered OK needs
 *     --force;
 *   - a compensation whose handler the participant does not know flags
 *     the transaction for an operator at once and pauses it; an action
 *     whose handler is unknown is a refusal that says so plainly;
 *   - set-branch points a branch at a corrected handler or a new URL:
 *     recorded in the timeline, used by the engine from then on, also
 *     after a kill -9.
 *
 * dtxctl's JSON is parsed with jansson.
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

TestSuite(repair, .fini = th_teardown, .timeout = 120);

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

static int ctl(ctl_env *c, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* ctl runs `dtxctl --admin ADDR ARGS` (a printf format, shell-quoted by
 * the caller), puts its stdout in c->out and returns its exit code. */
static int ctl(ctl_env *c, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = th_vdtxctl(c->admin, c->out, sizeof(c->out), fmt, ap);
	va_end(ap);
	return rc;
}

/* json runs ctl with --output json, asserts exit code want and parses
 * stdout (one object). */
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
	return o;
}

static const char *str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	cr_assert(json_is_string(v), "field %s is not a string", key);
	return json_string_value(v);
}

/* error_says asserts that a refused command's JSON error holds want. */
static void error_says(json_t *o, const char *want)
{
	const char *msg = str(json_object_get(o, "error"), "message");

	cr_assert_not_null(strstr(msg, want), "error \"%s\" lacks \"%s\"", msg,
	                   want);
	json_decref(o);
}

/* lines_say asserts that one of the reply's transitions holds want. */
static void lines_say(json_t *o, const char *want)
{
	json_t *l;
	size_t i;
	bool found = false;

	json_array_foreach(json_object_get(o, "transitions"), i, l) found |=
	        strstr(json_string_value(l), want) != NULL;
	cr_assert(found, "no transition says \"%s\"", want);
	json_decref(o);
}

static ctl_env *start(th_env *t, const char *stuck_after)
{
	ctl_env *c = calloc(1, sizeof(*c));

	cr_assert_not_null(c);
	c->t = t;
	th_url(t, "admin", c->admin, sizeof(c->admin));
	th_dtxd_start(t, "--admin", c->admin, "--stuck-after-attempts",
	              stuck_after, "--action-max-attempts", "0", NULL);
	th_participant_start(t, "p1", "--flaky", "1000000", NULL);
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

static void await_state(th_env *t, const char *gid, dtx_tx_state want)
{
	dtx_tx_info info;
	int err = dtx_client_query(th_client(t), gid, TH_WAIT_FINAL, &info);

	cr_assert_eq(err, DTX_OK, "query %s: %s", gid, dtx_strerror(err));
	cr_assert_eq(info.state, want, "%s is %s", gid,
	             dtx_tx_state_name(info.state));
}

/* show_tx returns `show gid`'s JSON (the caller frees it) and its
 * transaction in *ret_tx. */
static json_t *show_tx(ctl_env *c, const char *gid, json_t **ret_tx)
{
	char args[256];
	json_t *o;

	snprintf(args, sizeof(args), "show %s --events 5000", gid);
	o = json(c, 0, args);
	*ret_tx = json_object_get(o, "transaction");
	cr_assert_not_null(*ret_tx);
	return o;
}

/* has_timeline asserts whether gid's timeline has a line holding want. */
static bool has_timeline(ctl_env *c, const char *gid, const char *want)
{
	json_t *tx, *o = show_tx(c, gid, &tx), *ev;
	bool found = false;
	size_t i;

	json_array_foreach(json_object_get(o, "timeline"), i, ev) found |=
	        strstr(str(ev, "detail"), want) != NULL;
	json_decref(o);
	return found;
}

/* await_flagged polls `show gid` until it needs an operator; returns the
 * attempts of branch then. */
static json_int_t await_flagged(ctl_env *c, const char *gid, uint32_t branch,
                                char *reason, size_t len)
{
	for (int waited = 0; waited < TH_WAIT_FINAL; waited += 50) {
		json_t *tx, *o = show_tx(c, gid, &tx);
		json_t *b =
		        json_array_get(json_object_get(tx, "branches"), branch);
		json_int_t n =
		        json_integer_value(json_object_get(b, "attempts"));
		if (json_is_true(json_object_get(tx, "needs_operator"))) {
			snprintf(reason, len, "%s", str(tx, "operator_reason"));
			cr_assert(json_is_true(json_object_get(tx, "paused")));
			json_decref(o);
			return n;
		}
		json_decref(o);
		sleep_ms(50);
	}
	cr_assert_fail("%s never needed an operator", gid);
	return 0;
}

Test(repair, a_blind_commit_is_refused_naming_the_branch_and_its_answer)
{
	th_env *t = th_begin();
	ctl_env *c = start(t, "3");
	const char *url = th_participant_url(t, "p1");
	dtx_tcc_tx *tx;
	dtx_tcc *desc;
	dtx_try_result r;
	json_t *o;

	/* an initiator-driven TCC with a business key and a label */
	cr_assert_eq(dtx_tcc_create("blind-1", &desc), DTX_OK);
	cr_assert_eq(dtx_tcc_set_deadline(desc, 600000), DTX_OK);
	cr_assert_eq(dtx_tcc_set_key(desc, "order-1005"), DTX_OK);
	cr_assert_eq(dtx_tcc_add_label(desc, "sku", "gift-card"), DTX_OK);
	cr_assert_eq(dtx_tcc_begin_from(th_client(t), desc, &tx), DTX_OK);
	dtx_tcc_destroy(desc);
	cr_assert_eq(
	        dtx_tcc_try(tx, url, "p1.do", "p1.do", "p1.undo", "", 0, 0, &r),
	        DTX_OK);
	cr_assert_eq(r.status, DTX_STATUS_OK);
	cr_assert_eq(dtx_tcc_try(tx, url, "p1.fail", "p1.do", "p1.undo", "", 0,
	                         0, &r),
	             DTX_OK);
	cr_assert_eq(r.status, DTX_STATUS_FAIL);
	/* the initiator is gone before it aborts: an operator finds it */
	cr_assert_eq(ctl(c, "list --key order-1005 --label sku=gift-card -q"),
	             0);
	cr_assert_str_eq(c->out, "blind-1\n");
	error_says(json(c, EX_DATAERR,
	                "commit blind-1 --dry-run --reason 'looks stuck'"),
	           "branch 1: Try not recorded OK (trying, no answer recorded");
	error_says(json(c, EX_DATAERR, "commit blind-1 --reason 'looks stuck'"),
	           "branch 0: Try not recorded OK");
	o = json(c, 0, "show blind-1");
	cr_assert_str_eq(str(json_object_get(o, "transaction"), "state"),
	                 "running");
	json_decref(o);
	/* --force records it anyway, and the timeline says so */
	lines_say(json(c, 0,
	               "commit blind-1 --dry-run --force --reason 'checked "
	               "both by hand'"),
	          "--force: branch 0: Try not recorded OK");
	cr_assert_eq(ctl(c, "commit blind-1 --force --reason 'checked both'"),
	             0);
	cr_assert(has_timeline(c, "blind-1", "operator commit by "),
	          "no operator commit in the timeline");
	cr_assert(has_timeline(c, "blind-1", "(--force over: branch 0: Try"));
	dtx_tcc_tx_destroy(tx);
	free(c);
	th_end(t);
}

Test(repair, skip_as_done_of_an_action_never_answered_ok_needs_force)
{
	th_env *t = th_begin();
	ctl_env *c = start(t, "3");
	json_t *o;

	submit(t, "skip-1", "p1.flaky/p1.undo");
	th_wait_step_state(t, th_client(t), "skip-1", 0, DTX_STEP_ACTING,
	                   TH_WAIT_FINAL);
	o = json(c, EX_DATAERR,
	         "skip-branch skip-1 0 --as done --dry-run "
	         "--reason fixed");
	error_says(o, "branch 0: its action never answered OK (attempt ");
	error_says(json(c, EX_DATAERR,
	                "skip-branch skip-1 0 --as done --reason fixed"),
	           "--force");
	/* --as failed records no effect: no --force needed */
	cr_assert_eq(ctl(c, "skip-branch skip-1 0 --as failed --dry-run "
	                    "--reason x"),
	             0);
	cr_assert_eq(ctl(c, "skip-branch skip-1 0 --as done --force --reason "
	                    "'done by hand'"),
	             0);
	await_state(t, "skip-1", DTX_TX_COMMITTED);
	cr_assert(has_timeline(c, "skip-1",
	                       "(--force over: branch 0: its "
	                       "action never answered OK"));
	free(c);
	th_end(t);
}

Test(repair, an_unknown_compensation_handler_needs_an_operator_at_once)
{
	th_env *t = th_begin();
	/* far past what this test waits: only the unknown handler flags */
	ctl_env *c = start(t, "1000");
	char reason[1024];
	json_int_t attempts;

	submit(t, "typo-1", "p1.do/p1.remov p1.fail/p1.undo");
	attempts = await_flagged(c, "typo-1", 0, reason, sizeof(reason));
	cr_assert_leq(attempts, 2, "flagged after %d attempts", (int)attempts);
	cr_assert_not_null(strstr(reason, "step 0 compensate: unknown handler "
	                                  "p1.remov at "),
	                   "reason: %s", reason);
	/* set-branch corrects the name; resume calls it */
	lines_say(json(c, 0,
	               "set-branch typo-1 0 --handler p1.undo --dry-run "
	               "--reason typo"),
	          "branch 0: compensate handler p1.remov -> p1.undo");
	cr_assert_eq(ctl(c, "set-branch typo-1 0 --handler p1.undo --reason "
	                    "typo --user op"),
	             0);
	cr_assert_eq(ctl(c, "resume typo-1 --reason fixed"), 0);
	await_state(t, "typo-1", DTX_TX_COMPENSATED);
	cr_assert_str_eq(th_journal_story(t, "typo-1"),
	                 "p1.do:ok p1.fail:fail p1.undo:ok");
	cr_assert(has_timeline(c, "typo-1",
	                       "operator set-branch branch 0: compensate "
	                       "handler p1.remov -> p1.undo by op: typo"));
	free(c);
	th_end(t);
}

Test(repair, an_unknown_action_handler_is_a_refusal_that_says_so)
{
	th_env *t = th_begin();
	ctl_env *c = start(t, "3");
	dtx_tx_info info;

	th_run(t, "typo-2", "p1.do/p1.undo p1.dox/p1.undo", &info);
	cr_assert_eq(info.state, DTX_TX_COMPENSATED);
	cr_assert_not_null(strstr(info.reason, "action fail: unknown handler "
	                                       "p1.dox at "),
	                   "reason: %s", info.reason);
	cr_assert_str_eq(th_journal_story(t, "typo-2"), "p1.do:ok p1.undo:ok");
	free(c);
	th_end(t);
}

Test(repair, set_branch_moves_a_branch_and_survives_a_kill_9)
{
	th_env *t = th_begin();
	ctl_env *c = start(t, "3");
	th_proc *p2 = th_participant_start(t, "p2", NULL);
	char old[TH_URL_MAX], args[3 * TH_URL_MAX];
	const char *q2;
	json_t *o, *tx, *b1;

	snprintf(old, sizeof(old), "%s", th_participant_url(t, "p2"));
	th_proc_kill(p2, SIGKILL);
	cr_assert(th_proc_wait(p2, 5000));
	submit(t, "move-1", "p1.do/p1.undo p2.do/p2.undo");
	th_wait_step_state(t, th_client(t), "move-1", 1, DTX_STEP_ACTING,
	                   TH_WAIT_FINAL);
	cr_assert_eq(ctl(c, "pause move-1 --reason 'p2 moved'"), 0);
	/* the service moved, and its handlers were renamed */
	th_participant_start(t, "q2", NULL);
	q2 = th_participant_url(t, "q2");
	cr_assert_eq(ctl(c, "set-branch move-1 1 --reason x"), EX_USAGE);
	cr_assert_eq(ctl(c, "set-branch move-1 1 --url bogus --reason x"),
	             EX_DATAERR);
	cr_assert_eq(ctl(c, "set-branch move-1 7 --url %s --reason x", q2),
	             EX_DATAERR);
	cr_assert_eq(ctl(c, "set-branch move-1 1 --handler q2.do --op cancel "
	                    "--reason x"),
	             EX_DATAERR);
	snprintf(args, sizeof(args),
	         "set-branch move-1 1 --url %s --handler q2.do --dry-run "
	         "--reason moved",
	         q2);
	o = json(c, 0, args);
	json_decref(o);
	o = show_tx(c, "move-1", &tx);
	b1 = json_array_get(json_object_get(tx, "branches"), 1);
	cr_assert_str_eq(str(b1, "participant_url"), old);
	json_decref(o);
	cr_assert_eq(ctl(c,
	                 "set-branch move-1 1 --url %s --handler q2.do "
	                 "--reason moved --user op",
	                 q2),
	             0);
	/* kill -9 at once: the change is durable, the restart drives it */
	th_dtxd_restart(t);
	o = show_tx(c, "move-1", &tx);
	b1 = json_array_get(json_object_get(tx, "branches"), 1);
	cr_assert_str_eq(str(b1, "participant_url"), q2);
	cr_assert_str_eq(str(b1, "action"), "q2.do");
	cr_assert_str_eq(str(b1, "compensate"), "p2.undo");
	json_decref(o);
	cr_assert(has_timeline(c, "move-1",
	                       "operator set-branch branch 1: url "));
	cr_assert_eq(ctl(c, "resume move-1 --reason 'p2 is q2 now'"), 0);
	await_state(t, "move-1", DTX_TX_COMMITTED);
	cr_assert_str_eq(th_journal_story(t, "move-1"), "p1.do:ok q2.do:ok");
	free(c);
	th_end(t);
}

/* submit_tagged submits a stuck saga gid with business key key and the
 * label sku=sku. */
static void submit_tagged(th_env *t, const char *gid, const char *key,
                          const char *sku)
{
	dtx_saga *saga = th_saga(t, gid, "p1.flaky/p1.undo");
	dtx_tx_info info;

	cr_assert_eq(dtx_saga_set_key(saga, key), DTX_OK);
	cr_assert_eq(dtx_saga_add_label(saga, "sku", sku), DTX_OK);
	cr_assert_eq(dtx_saga_add_label(saga, "shop", "eu-1"), DTX_OK);
	cr_assert_eq(dtx_client_submit(th_client(t), saga, 0, &info), DTX_OK);
	dtx_saga_destroy(saga);
}

Test(repair, business_keys_and_labels_find_and_select_transactions)
{
	th_env *t = th_begin();
	ctl_env *c = start(t, "3");
	dtx_saga *saga;
	char big[DTX_KEY_MAX + 2], name[16];
	json_t *o, *tx;

	/* the SDK refuses what is over the bounds, with a clear code */
	cr_assert_eq(dtx_saga_create(NULL, &saga), DTX_OK);
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(dtx_saga_set_key(saga, big), DTX_ETOOBIG);
	cr_assert_eq(dtx_saga_set_key(saga, ""), DTX_EINVAL);
	cr_assert_eq(dtx_saga_add_label(saga, "bad name", "x"), DTX_EINVAL);
	for (int i = 0; i < DTX_LABELS_MAX; i++) {
		snprintf(name, sizeof(name), "l%d", i);
		cr_assert_eq(dtx_saga_add_label(saga, name, "v"), DTX_OK);
	}
	cr_assert_eq(dtx_saga_add_label(saga, "one-more", "v"), DTX_ELIMIT);
	cr_assert_eq(dtx_saga_add_label(saga, "l0", "again"), DTX_EINVAL);
	dtx_saga_destroy(saga);

	submit_tagged(t, "sel-1", "order-1001", "gift-card");
	submit_tagged(t, "sel-2", "order-1002", "gift-card");
	submit_tagged(t, "sel-3", "order-1003", "game-key");
	cr_assert_eq(ctl(c, "list --key order-1002 -q"), 0);
	cr_assert_str_eq(c->out, "sel-2\n");
	cr_assert_eq(ctl(c, "list --label sku=gift-card --label shop=eu-1 -q"),
	             0);
	cr_assert_str_eq(c->out, "sel-1\nsel-2\n");
	o = show_tx(c, "sel-3", &tx);
	cr_assert_str_eq(str(tx, "key"), "order-1003");
	cr_assert_str_eq(str(json_object_get(tx, "labels"), "sku"), "game-key");
	json_decref(o);

	/* a dry run lists what it would touch and changes nothing */
	cr_assert_eq(ctl(c, "--output jsonl pause --select "
	                    "'state=running,label=sku=gift-card' --dry-run "
	                    "--reason 'sku recalled'"),
	             0);
	cr_assert(strstr(c->out, "\"gid\":\"sel-1\"") &&
	                  strstr(c->out, "\"gid\":\"sel-2\"") &&
	                  !strstr(c->out, "sel-3"),
	          "dry run: %s", c->out);
	cr_assert_not_null(strstr(c->out, "\"selected\":2"), "%s", c->out);
	cr_assert_eq(ctl(c, "list -q --select x"), EX_USAGE);
	cr_assert_eq(ctl(c, "pause --select 'colour=red' --reason x"),
	             EX_USAGE);
	cr_assert_eq(ctl(c, "pause sel-1 --limit 3 --reason x"), EX_USAGE);
	/* the limit bounds what is touched */
	cr_assert_eq(ctl(c, "pause --select 'label=sku=gift-card' --limit 1 "
	                    "--reason 'sku recalled'"),
	             0);
	cr_assert_eq(ctl(c, "--output json show sel-2"), 0);
	cr_assert_not_null(strstr(c->out, "\"paused\": false"), "%s", c->out);
	/* some done, some refused (already paused): exit 2 */
	cr_assert_eq(ctl(c, "pause --select 'label=sku=gift-card' --reason "
	                    "'sku recalled'"),
	             2);
	cr_assert_eq(ctl(c, "pause --select 'key=order-1001' --reason again"),
	             EX_DATAERR);
	/* an empty selection does nothing and succeeds */
	cr_assert_eq(ctl(c, "resume --select 'key=order-9999' --reason x"), 0);
	cr_assert_eq(ctl(c, "resume --select 'label=shop=eu-1' --reason go"),
	             2);
	cr_assert(has_timeline(c, "sel-2", "operator resume by "));
	free(c);
	th_end(t);
}
