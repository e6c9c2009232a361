/*
 * traces_test.c - issue 18, item 3: log formats and the W3C traceparent
 * end to end, with a real dtxd, real participants and dtxctl.
 *
 * A traceparent an initiator gives a saga reaches every handler (the
 * sample participant journals dtx_call_traceparent) as a child span of
 * dtxd's call, appears in dtxd's JSON log lines and the SDK's records of
 * those calls, in dtxctl show (table and JSON), and survives a kill -9 of
 * dtxd in the middle of the saga. An invalid one is refused at submit, by
 * the SDK and, sent raw, by dtxd. Every line dtxd writes with
 * --log-format json is one JSON object. journald does not run on the test
 * machines: --log-format journal is checked to fall back to text lines
 * there, and its fields are checked in tests/unit/coordinator/diag_test.c.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <nng/nng.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "rawwire.h"
#include "trace.h"
#include "wire.h"

#define TP       "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
#define TRACE_ID "4bf92f3577b34da6a3ce929d0e0e4736"
#define OUT_MAX  (256 * 1024)
#define REPLY_MS 5000
#define STATE_MS 10000

TestSuite(traces, .fini = th_teardown, .timeout = 120);

/* ---- helpers ------------------------------------------------------------ */

/* ctl runs `dtxctl --admin ADMIN ARGS`, keeps its stdout in out and
 * returns its exit code. */
static int ctl(const char *admin, char *out, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int ctl(const char *admin, char *out, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = th_vdtxctl(admin, out, OUT_MAX, fmt, ap);
	va_end(ap);
	return rc;
}

/* call_span is what dtxd sends on the call of (gid, branch, op) of a
 * transaction whose traceparent is TP: the traceparent in tp, its span
 * (parent-id) in span. */
typedef struct call_span {
	char tp[TRACE_PARENT_LEN + 1];
	char span[TRACE_SPAN_HEX + 1];
} call_span;

static call_span child_of(const char *gid, uint32_t branch, dtx_op op)
{
	trace_ctx p, c;
	call_span cs;

	cr_assert_eq(trace_parse(TP, &p, NULL, 0), DTX_OK);
	trace_child(&p, gid, branch, (int)op, &c);
	trace_format(&c, cs.tp);
	trace_span_hex(&c, cs.span);
	return cs;
}

/* read_out reads DIR/name.out (every run of the process) into out. */
static size_t read_out(const th_env *t, const char *name, char *out)
{
	char path[PATH_MAX];
	FILE *f;
	size_t n;

	th_path(t, name, path, sizeof(path));
	strncat(path, ".out", sizeof(path) - strlen(path) - 1);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	n = fread(out, 1, OUT_MAX - 1, f);
	out[n] = '\0';
	fclose(f);
	return n;
}

/* json_lines checks that every line of dtxd's output is one JSON object
 * with time, level and msg, and counts those about gid with trace_id
 * TRACE_ID and span_id span (NULL: any). */
static int json_lines(const th_env *t, const char *gid, const char *span)
{
	static char out[OUT_MAX];
	int about = 0, lines = 0;

	read_out(t, "dtxd", out);
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		json_error_t err;
		json_t *o = json_loads(line, 0, &err);
		const char *g, *tr, *sp;

		cr_assert(json_is_object(o), "not a JSON object: %s (%s)", line,
		          err.text);
		cr_assert(json_is_string(json_object_get(o, "time")) &&
		                  json_is_string(json_object_get(o, "level")) &&
		                  json_is_string(json_object_get(o, "msg")),
		          "%s", line);
		g = json_string_value(json_object_get(o, "gid"));
		tr = json_string_value(json_object_get(o, "trace_id"));
		sp = json_string_value(json_object_get(o, "span_id"));
		if (g != NULL && strcmp(g, gid) == 0 && tr != NULL &&
		    strcmp(tr, TRACE_ID) == 0 &&
		    (span == NULL || (sp != NULL && strcmp(sp, span) == 0)))
			about++;
		json_decref(o);
		lines++;
	}
	cr_assert_gt(lines, 3, "dtxd wrote %d lines", lines);
	return about;
}

/* journal_tp returns the traceparent journaled for gid's handler h ("" if
 * the journal has no such call). */
static const char *journal_tp(th_env *t, const char *gid, const char *h)
{
	static char tp[DTX_TRACEPARENT_LEN + 1];
	th_jline *lines;
	size_t n = th_journal_read(t, &lines);

	tp[0] = '\0';
	for (size_t i = 0; i < n; i++)
		if (strcmp(lines[i].gid, gid) == 0 &&
		    strcmp(lines[i].handler, h) == 0)
			snprintf(tp, sizeof(tp), "%s", lines[i].traceparent);
	free(lines);
	return tp;
}

static void submit_traced(th_env *t, const char *gid, const char *spec)
{
	dtx_saga *saga = th_saga(t, gid, spec);
	dtx_tx_info info;
	int err;

	cr_assert_eq(dtx_saga_set_traceparent(saga, TP), DTX_OK);
	err = dtx_client_submit(th_client(t), saga, 0, &info);
	dtx_saga_destroy(saga);
	cr_assert_eq(err, DTX_OK, "submit %s: %s", gid, dtx_strerror(err));
	cr_assert(info.created);
}

/* ---- tests -------------------------------------------------------------- */

Test(traces, a_traceparent_reaches_handlers_logs_and_show_across_a_kill_9)
{
	static char out[OUT_MAX];
	th_env *t = th_begin();
	char admin[TH_URL_MAX], want[256];
	call_span c0 = child_of("traced", 0, DTX_OP_ACTION),
	          c1 = child_of("traced", 1, DTX_OP_ACTION);
	dtx_tx_info info;
	json_t *o;

	th_url(t, "admin", admin, sizeof(admin));
	th_dtxd_start(t, "--admin", admin, "--log-format", "json",
	              "--log-level", "debug", NULL);
	th_participant_start(t, "p1", "--log-records", NULL);
	th_participant_start(t, "p2", "--delay-ms", "800", "--log-records",
	                     NULL);
	submit_traced(t, "traced", "p1.do/p1.undo p2.slow/p2.undo");
	th_wait_step_state(t, th_client(t), "traced", 1, DTX_STEP_ACTING,
	                   STATE_MS);
	th_dtxd_restart(t); /* kill -9 while p2.slow is in flight */
	cr_assert_eq(
	        dtx_client_query(th_client(t), "traced", TH_WAIT_FINAL, &info),
	        DTX_OK);
	cr_assert_eq(info.state, DTX_TX_COMMITTED);

	/* the handlers got the trace, each call its own span */
	cr_assert_str_eq(journal_tp(t, "traced", "p1.do"), c0.tp);
	cr_assert_str_eq(journal_tp(t, "traced", "p2.slow"), c1.tp);
	cr_assert_str_neq(c0.span, c1.span);

	/* dtxd's lines about the calls, before and after the restart (a
	 * call and its answer at least), name the trace and the span the
	 * participant got */
	cr_assert_gt(json_lines(t, "traced", c0.span), 0);
	cr_assert_gt(json_lines(t, "traced", c1.span), 1);

	/* the SDK's records of the calls carry the same fields */
	snprintf(want, sizeof(want),
	         "record debug gid=traced branch=0 handler=p1.do "
	         "trace_id=" TRACE_ID " span_id=%s msg=",
	         c0.span);
	cr_assert(th_log_contains(t, "p1", want), "p1 has no '%s'", want);

	/* dtxctl show, table and JSON */
	cr_assert_eq(ctl(admin, out, "show traced"), 0, "%s", out);
	cr_assert(strstr(out, "trace:     " TP "\n") != NULL, "%s", out);
	cr_assert_eq(ctl(admin, out, "--output json show traced"), 0, "%s",
	             out);
	o = json_loads(out, 0, NULL);
	cr_assert_not_null(o, "%s", out);
	cr_assert_str_eq(
	        json_string_value(json_object_get(
	                json_object_get(o, "transaction"), "traceparent")),
	        TP, "%s", out);
	json_decref(o);
	th_end(t);
}

Test(traces, a_saga_without_a_traceparent_carries_none)
{
	th_env *t = th_begin();
	dtx_tx_info info;

	th_dtxd_start(t, "--log-format", "json", "--log-level", "debug", NULL);
	th_participant_start(t, "p1", NULL);
	th_run(t, "plain", "p1.do/p1.undo", &info);
	cr_assert_str_eq(journal_tp(t, "plain", "p1.do"), "-");
	cr_assert_eq(json_lines(t, "plain", NULL), 0);
	th_end(t);
}

/* tp_of returns the traceparent journaled for gid's call of op on
 * branch ("" if none). */
static const char *tp_of(th_env *t, const char *gid, uint32_t branch,
                         const char *op)
{
	static char tp[DTX_TRACEPARENT_LEN + 1];
	th_jline *lines;
	size_t n = th_journal_read(t, &lines);

	tp[0] = '\0';
	for (size_t i = 0; i < n; i++)
		if (strcmp(lines[i].gid, gid) == 0 &&
		    lines[i].branch == branch && strcmp(lines[i].op, op) == 0)
			snprintf(tp, sizeof(tp), "%s", lines[i].traceparent);
	free(lines);
	return tp;
}

Test(traces, tcc_tries_and_confirms_carry_the_trace_whoever_calls_them)
{
	th_env *t = th_begin();
	dtx_tcc *tcc;
	dtx_tcc_tx *tx;
	dtx_try_result tr;
	dtx_tx_info info;
	const char *url;

	th_dtxd_start(t, NULL);
	th_participant_start(t, "p1", NULL);
	url = th_participant_url(t, "p1");
	/* coordinator-run */
	cr_assert_eq(dtx_tcc_create("tcc-run", &tcc), DTX_OK);
	cr_assert_eq(dtx_tcc_set_traceparent(tcc, TP), DTX_OK);
	cr_assert_eq(dtx_tcc_add_branch(tcc, url, "p1.do", "p1.do", "p1.undo",
	                                "x", 1, 0),
	             DTX_OK);
	cr_assert_eq(
	        dtx_client_submit_tcc(th_client(t), tcc, TH_WAIT_FINAL, &info),
	        DTX_OK);
	dtx_tcc_destroy(tcc);
	cr_assert_eq(info.state, DTX_TX_COMMITTED);
	cr_assert_str_eq(tp_of(t, "tcc-run", 0, "try"),
	                 child_of("tcc-run", 0, DTX_OP_TRY).tp);
	cr_assert_str_eq(tp_of(t, "tcc-run", 0, "confirm"),
	                 child_of("tcc-run", 0, DTX_OP_CONFIRM).tp);
	/* initiator-driven: the SDK calls the Try with the same span */
	cr_assert_eq(dtx_tcc_create("tcc-own", &tcc), DTX_OK);
	cr_assert_eq(dtx_tcc_set_traceparent(tcc, TP), DTX_OK);
	cr_assert_eq(dtx_tcc_begin_from(th_client(t), tcc, &tx), DTX_OK);
	dtx_tcc_destroy(tcc);
	cr_assert_eq(dtx_tcc_try(tx, url, "p1.do", "p1.do", "p1.undo", "x", 1,
	                         0, &tr),
	             DTX_OK);
	cr_assert_eq(tr.status, DTX_STATUS_OK);
	cr_assert_eq(dtx_tcc_commit(tx, TH_WAIT_FINAL, &info), DTX_OK);
	dtx_tcc_tx_destroy(tx);
	cr_assert_eq(info.state, DTX_TX_COMMITTED);
	cr_assert_str_eq(tp_of(t, "tcc-own", 0, "try"),
	                 child_of("tcc-own", 0, DTX_OP_TRY).tp);
	cr_assert_str_eq(tp_of(t, "tcc-own", 0, "confirm"),
	                 child_of("tcc-own", 0, DTX_OP_CONFIRM).tp);
	th_end(t);
}

/* raw_submit sends dtxd a one-step saga gid with traceparent tp, past
 * the SDK's check, and returns the reply's code; its message goes to why. */
static int raw_submit(th_env *t, nng_socket s, const char *gid, const char *tp,
                      char *why, size_t whylen)
{
	Dtx__V1__ClientRequest req = DTX__V1__CLIENT_REQUEST__INIT;
	Dtx__V1__SubmitSaga sub = DTX__V1__SUBMIT_SAGA__INIT;
	Dtx__V1__SagaStep st = DTX__V1__SAGA_STEP__INIT, *sp = &st;
	Dtx__V1__ClientReply *rep;
	uint8_t *buf;
	size_t len, rlen;
	void *rbuf;
	int code;

	req.has_version = true;
	req.version = DTX__V1__VERSION__VERSION_1;
	req.body_case = DTX__V1__CLIENT_REQUEST__BODY_SUBMIT;
	req.submit = &sub;
	sub.gid = (char *)gid;
	sub.traceparent = (char *)tp;
	sub.n_steps = 1;
	sub.steps = &sp;
	st.participant_url = (char *)th_participant_url(t, "p1");
	st.action = (char *)"p1.do";
	st.compensate = (char *)"p1.undo";
	cr_assert_eq(wire_pack_alloc(&req.base, &buf, &len), DTX_OK);
	rbuf = rw_exchange(s, buf, len, &rlen);
	free(buf);
	cr_assert_eq(wire_client_reply_decode(rbuf, rlen, &rep, NULL, 0),
	             DTX_OK);
	nng_free(rbuf, rlen);
	code = (int)rep->code;
	snprintf(why, whylen, "%s", rep->message ? rep->message : "");
	wire_client_reply_free(rep);
	return code;
}

Test(traces, an_invalid_traceparent_is_refused_by_the_sdk_and_by_dtxd)
{
	static const char *const bad[] = {
	        "",
	        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
	        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
	        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
	        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
	        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\n",
	};
	th_env *t = th_begin();
	char why[256], gid[32];
	dtx_saga *saga;
	nng_socket s;

	th_participant_start(t, "p1", NULL);
	th_dtxd_start(t, NULL);
	s = rw_open(t->dtxd_url, REPLY_MS);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(gid, sizeof(gid), "bad-tp-%zu", i);
		saga = th_saga(t, gid, "p1.do/p1.undo");
		cr_assert_eq(dtx_saga_set_traceparent(saga, bad[i]), DTX_EINVAL,
		             "the SDK took '%s'", bad[i]);
		dtx_saga_destroy(saga);
		cr_assert_eq(raw_submit(t, s, gid, bad[i], why, sizeof(why)),
		             DTX_EINVAL, "dtxd took '%s'", bad[i]);
		cr_assert(strstr(why, "traceparent") != NULL, "'%s': %s",
		          bad[i], why);
	}
	/* dtxd serves on: a valid one goes in */
	cr_assert_eq(raw_submit(t, s, "bad-tp-0", TP, why, sizeof(why)), DTX_OK,
	             "%s", why);
	cr_assert(th_proc_is_alive(t->dtxd));
	nng_close(s);
	th_end(t);
}

/* journald_runs: this machine has journald's socket (CI containers and
 * the development machines do not). */
static bool journald_runs(void)
{
	return access("/run/systemd/journal/socket", W_OK) == 0;
}

Test(traces, journal_format_goes_to_journald_or_else_to_text_lines)
{
	th_env *t = th_begin();
	dtx_tx_info info;
	char cmd[256];
	int found = 0;

	th_dtxd_start(t, "--log-format", "journal", NULL);
	th_participant_start(t, "p1", NULL);
	th_run(t, "j1", "p1.do/p1.undo", &info);
	if (!journald_runs()) {
		cr_assert(th_log_contains(t, "dtxd", " INFO listening on "));
		cr_assert(th_log_contains(t, "dtxd", "journald does not run"));
		th_end(t);
		return;
	}
	/* journald takes entries asynchronously: a bounded wait */
	snprintf(cmd, sizeof(cmd),
	         "journalctl -q -o cat SYSLOG_IDENTIFIER=dtxd _PID=%d "
	         "PRIORITY=6 | grep -c 'listening on'",
	         (int)t->dtxd->pid);
	for (int i = 0; i < 50 && found == 0; i++) {
		FILE *p = popen(cmd, "r");
		if (p == NULL || fscanf(p, "%d", &found) != 1)
			found = 0;
		if (p != NULL)
			pclose(p);
		if (found == 0)
			usleep(100 * 1000);
	}
	cr_assert_gt(found, 0, "journalctl shows no line of dtxd");
	th_end(t);
}
