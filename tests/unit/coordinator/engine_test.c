/*
 * engine_test.c - the engine (coordinator/engine.c and its rooms) driven
 * through its seams (engine.h, dc_engine_parts): a real LMDB log in a
 * temporary directory (no_sync: unit tests only), a manual clock, and the
 * in-memory transport (tests/support/memnet.h) that plays the clients,
 * the operator and every participant.
 *
 * No sockets, no sleeps: time moves only when a test moves the clock (then
 * dc_engine_tick runs what fell due), and the loop runs until the engine
 * is idle - no commit in flight or waiting, no read of the log out - so
 * every test is deterministic and bounded (and .timeout bounds a hang).
 *
 * Two checks ride on every test, made at the very moment something leaves
 * the engine (memnet's hooks): a client's answer reports exactly the state
 * the log holds then, and a branch call leaves only once the log holds its
 * step in flight with that attempt number (write ahead, DESIGN.md rule 1).
 */
#include <criterion/criterion.h>

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "diag.h"
#include "backoff.h"
#include "engine.h"
#include "log.h"
#include "memnet.h"
#include "tx.h"

#define T0_UNIX    INT64_C(1700000000000) /* the manual clock's start */
#define T0_MONO    UINT64_C(900000000)
#define SETTLE_MAX 10000 /* loop turns before the engine must be idle */
#define WAIT_MS    600000
#define SEED       UINT64_C(0x5eed) /* the engine's jitter (backoff.h) */

static struct {
	char dir[64];
	uv_loop_t loop;
	dc_log *log;
	dc_clock_manual clock;
	dc_config cfg;
	memnet *net;
	dc_engine *e;
	unsigned replies;            /* client answers about a transaction */
	unsigned replies_not_as_log; /* ... that the log did not hold then */
	unsigned calls_not_logged;   /* calls that left before their step */
	char why[512];               /* the first mismatch */
} g;

/* ---- the checks made as things leave the engine ---------------------- */

/* mismatch counts one failed check and keeps the first one's words. */
__attribute__((format(printf, 2, 3))) static void mismatch(unsigned *count,
                                                           const char *fmt, ...)
{
	va_list ap;

	if ((*count)++ > 0)
		return;
	va_start(ap, fmt);
	vsnprintf(g.why, sizeof(g.why), fmt, ap);
	va_end(ap);
}

/* on_reply: a client's answer about a transaction matches the log now. */
static void on_reply(void *arg, memnet_req *r)
{
	Dtx__V1__ClientReply *rep;
	dc_tx *tx;

	(void)arg;
	if (r->base.mail.kind != DC_MAIL_REQUEST ||
	    (rep = memnet_client_reply(r)) == NULL)
		return;
	if (rep->tx != NULL && rep->tx->gid != NULL) {
		g.replies++;
		if (dc_log_load_tx(g.log, rep->tx->gid, &tx) != DTX_OK) {
			mismatch(&g.replies_not_as_log,
			         "%s answered (state %d) before it was logged",
			         rep->tx->gid, (int)rep->tx->state);
		} else {
			if ((int)tx->state != (int)rep->tx->state)
				mismatch(&g.replies_not_as_log,
				         "%s answered in state %d, log has %d",
				         tx->gid, (int)rep->tx->state,
				         (int)tx->state);
			for (size_t i = 0;
			     i < rep->tx->n_steps && i < tx->nsteps; i++)
				if ((int)rep->tx->steps[i]->state !=
				    (int)tx->steps[i].state)
					mismatch(&g.replies_not_as_log,
					         "%s answered step state %d, "
					         "log "
					         "has %d",
					         tx->gid,
					         (int)rep->tx->steps[i]->state,
					         (int)tx->steps[i].state);
			dc_tx_destroy(tx);
		}
	}
	dtx__v1__client_reply__free_unpacked(rep, NULL);
}

static dc_step_state inflight_state(dtx_op op)
{
	switch (op) {
	case DTX_OP_ACTION:
		return DC_STEP_ACTING;
	case DTX_OP_COMPENSATE:
		return DC_STEP_COMPENSATING;
	case DTX_OP_TRY:
		return DC_STEP_TRYING;
	case DTX_OP_CONFIRM:
		return DC_STEP_CONFIRMING;
	default:
		return DC_STEP_CANCELLING;
	}
}

/* on_call: the call's step is logged in flight, with this attempt. */
static void on_call(void *arg, memnet_call *c)
{
	dc_tx *tx;

	(void)arg;
	if (dc_log_load_tx(g.log, c->gid, &tx) != DTX_OK) {
		mismatch(&g.calls_not_logged, "%s called (op %d) unlogged",
		         c->gid, (int)c->op);
		return;
	}
	if (c->branch >= tx->nsteps ||
	    tx->steps[c->branch].state != inflight_state(c->op))
		mismatch(&g.calls_not_logged,
		         "%s called op %d while its step is logged in %d",
		         c->gid, (int)c->op,
		         c->branch < tx->nsteps
		                 ? (int)tx->steps[c->branch].state
		                 : -1);
	else if (tx->steps[c->branch].attempts != c->attempt)
		mismatch(&g.calls_not_logged,
		         "%s called attempt %d, log has %d", c->gid,
		         (int)c->attempt, (int)tx->steps[c->branch].attempts);
	dc_tx_destroy(tx);
}

/* ---- the engine, its loop and its clock --------------------------------- */

/* settle runs the loop until the engine waits for nothing but the test:
 * UV_RUN_ONCE only while a commit or a read is out (its completion wakes
 * the loop), so it never blocks on the engine's own timer. */
static void settle(void)
{
	for (int i = 0; i < SETTLE_MAX; i++) {
		uv_run(&g.loop, UV_RUN_NOWAIT);
		if (!dc_engine_is_idle(g.e)) {
			uv_run(&g.loop, UV_RUN_ONCE);
			continue;
		}
		uv_run(&g.loop, UV_RUN_NOWAIT); /* mail posted meanwhile */
		if (dc_engine_is_idle(g.e))
			return;
	}
	cr_assert_fail("the engine did not become idle in %d loop turns",
	               SETTLE_MAX);
}

/* advance lets ms pass on both readings of the clock, runs the timers
 * that fell due, and lets the engine act on them. */
static void advance(uint64_t ms)
{
	dc_clock_manual_advance(&g.clock, ms);
	dc_engine_tick(g.e);
	settle();
}

/* jump steps the wall clock alone (NTP, an operator), then ticks. */
static void jump(int64_t ms)
{
	dc_clock_manual_jump(&g.clock, ms);
	dc_engine_tick(g.e);
	settle();
}

static void engine_start(void)
{
	dc_engine_parts parts = {
	        .log = g.log, .clock = &g.clock.base, .seed = SEED};
	char err[256] = "";

	cr_assert_eq(memnet_create(&g.net), DTX_OK);
	memnet_on_reply(g.net, on_reply, NULL);
	memnet_on_call(g.net, on_call, NULL);
	parts.transport = memnet_transport(g.net);
	cr_assert_eq(dc_engine_create_with(&g.loop, &g.cfg, &parts, &g.e, err,
	                                   sizeof(err)),
	             DTX_OK, "engine: %s", err);
	settle(); /* recovery's first commit, and its calls */
}

/* engine_stop stops the engine as dtxd does on SIGTERM: whatever is not
 * committed is not done (the next engine recovers from the log). */
static void engine_stop(void)
{
	dc_engine_stop(g.e);
	uv_run(&g.loop, UV_RUN_DEFAULT);
	dc_engine_destroy(g.e);
	memnet_destroy(g.net);
	g.e = NULL;
	g.net = NULL;
}

static void setup(void)
{
	dc_log_opts lo = {.no_sync = true};
	char err[256] = "";

	memset(&g, 0, sizeof(g));
	snprintf(g.dir, sizeof(g.dir), "/tmp/dtx-engine-test-XXXXXX");
	cr_assert_not_null(mkdtemp(g.dir));
	lo.dir = g.dir;
	cr_assert_eq(dc_log_open(&lo, &g.log, err, sizeof(err)), DTX_OK, "%s",
	             err);
	cr_assert_eq(uv_loop_init(&g.loop), 0);
	dc_clock_manual_init(&g.clock, T0_UNIX, T0_MONO);
	dc_diag_set_level(DTX_LOG_ERROR);
	dc_config_defaults(&g.cfg);
	g.cfg.log_dir = g.dir;
	g.cfg.max_clients = MEMNET_SLOTS;
	g.cfg.max_active = 1000;
	g.cfg.max_tx_results = g.cfg.max_msg_bytes / 2;
	g.cfg.retain_final_ms = 0; /* no pruning: not under test here */
	g.cfg.retain_tombstones_ms = 0;
	g.cfg.retry_base_ms = 10000; /* backoffs long enough to see */
	g.cfg.retry_max_ms = 10000;
	g.cfg.action_max_attempts = 0; /* retried for ever */
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void teardown(void)
{
	if (g.e != NULL)
		engine_stop();
	dc_log_close(g.log);
	uv_loop_close(&g.loop);
	nftw(g.dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* start: setup, and an engine on the empty log. */
static void start(void)
{
	setup();
	engine_start();
}

/* ---- what the test sends ------------------------------------------------ */

static memnet_req *send_client(Dtx__V1__ClientRequest *m, uint32_t wait_ms)
{
	memnet_req *r;

	m->has_version = 1;
	m->version = DTX__V1__VERSION__VERSION_1;
	m->has_wait_ms = wait_ms > 0;
	m->wait_ms = wait_ms;
	r = memnet_client(g.net, m);
	cr_assert_not_null(r, "no free request slot");
	return r;
}

/* submit_saga submits gid: n steps, step i handled by "a<i>"/"c<i>" at
 * participant i; deadline_ms 0 = none. */
static memnet_req *submit_saga(const char *gid, unsigned n,
                               uint32_t deadline_ms, uint32_t wait_ms)
{
	Dtx__V1__ClientRequest m = DTX__V1__CLIENT_REQUEST__INIT;
	Dtx__V1__SubmitSaga s = DTX__V1__SUBMIT_SAGA__INIT;
	Dtx__V1__SagaStep st[8], *sp[8];
	char url[8][40], act[8][8], comp[8][8];

	cr_assert_leq(n, 8);
	for (unsigned i = 0; i < n; i++) {
		dtx__v1__saga_step__init(&st[i]);
		snprintf(url[i], sizeof(url[i]), "tcp://127.0.0.1:%u",
		         20000 + i);
		snprintf(act[i], sizeof(act[i]), "a%u", i);
		snprintf(comp[i], sizeof(comp[i]), "c%u", i);
		st[i].participant_url = url[i];
		st[i].action = act[i];
		st[i].compensate = comp[i];
		sp[i] = &st[i];
	}
	s.gid = (char *)gid;
	s.n_steps = n;
	s.steps = sp;
	s.has_deadline_ms = deadline_ms > 0;
	s.deadline_ms = deadline_ms;
	m.body_case = DTX__V1__CLIENT_REQUEST__BODY_SUBMIT;
	m.submit = &s;
	return send_client(&m, wait_ms);
}

/* submit_tcc submits a coordinator-run TCC transaction of n branches,
 * branch i handled by "t<i>"/"f<i>"/"x<i>" (try/confirm/cancel). */
static memnet_req *submit_tcc(const char *gid, unsigned n, uint32_t deadline_ms,
                              uint32_t wait_ms)
{
	Dtx__V1__ClientRequest m = DTX__V1__CLIENT_REQUEST__INIT;
	Dtx__V1__SubmitTcc s = DTX__V1__SUBMIT_TCC__INIT;
	Dtx__V1__TccBranch b[8], *bp[8];
	char url[8][40], t[8][8], f[8][8], x[8][8];

	cr_assert_leq(n, 8);
	for (unsigned i = 0; i < n; i++) {
		dtx__v1__tcc_branch__init(&b[i]);
		snprintf(url[i], sizeof(url[i]), "tcp://127.0.0.1:%u",
		         21000 + i);
		snprintf(t[i], sizeof(t[i]), "t%u", i);
		snprintf(f[i], sizeof(f[i]), "f%u", i);
		snprintf(x[i], sizeof(x[i]), "x%u", i);
		b[i].participant_url = url[i];
		b[i].try_ = t[i];
		b[i].confirm = f[i];
		b[i].cancel = x[i];
		bp[i] = &b[i];
	}
	s.gid = (char *)gid;
	s.n_branches = n;
	s.branches = bp;
	s.has_deadline_ms = deadline_ms > 0;
	s.deadline_ms = deadline_ms;
	m.body_case = DTX__V1__CLIENT_REQUEST__BODY_SUBMIT_TCC;
	m.submit_tcc = &s;
	return send_client(&m, wait_ms);
}

static memnet_req *query(const char *gid, uint32_t wait_ms)
{
	Dtx__V1__ClientRequest m = DTX__V1__CLIENT_REQUEST__INIT;
	Dtx__V1__Query q = DTX__V1__QUERY__INIT;

	q.gid = (char *)gid;
	m.body_case = DTX__V1__CLIENT_REQUEST__BODY_QUERY;
	m.query = &q;
	return send_client(&m, wait_ms);
}

/* reply_of settles, then takes r's answer (the caller frees it). */
static Dtx__V1__ClientReply *reply_of(memnet_req *r)
{
	Dtx__V1__ClientReply *rep;

	settle();
	cr_assert(r->answered, "the client got no answer (slot %u)",
	          r->base.index);
	rep = memnet_client_reply(r);
	cr_assert_not_null(rep, "the answer does not decode");
	memnet_req_free(r);
	return rep;
}

static void free_reply(Dtx__V1__ClientReply *rep)
{
	dtx__v1__client_reply__free_unpacked(rep, NULL);
}

/* admin sends an operator's request and takes its answer. */
static Dtx__V1__AdminReply *admin(Dtx__V1__AdminRequest *m)
{
	Dtx__V1__AdminReply *rep;
	memnet_req *r;

	m->has_version = 1;
	m->version = DTX__V1__VERSION__VERSION_1;
	r = memnet_admin(g.net, m);
	cr_assert_not_null(r);
	settle();
	cr_assert(r->answered, "the operator got no answer");
	rep = memnet_admin_reply(r);
	cr_assert_not_null(rep);
	memnet_req_free(r);
	return rep;
}

/* act_full runs an operator action with every flag given. */
static Dtx__V1__AdminReply *act_full(Dtx__V1__AdminAction action,
                                     const char *gid, uint32_t branch,
                                     bool as_done, bool dry, bool force)
{
	Dtx__V1__AdminRequest m = DTX__V1__ADMIN_REQUEST__INIT;
	Dtx__V1__AdminAct a = DTX__V1__ADMIN_ACT__INIT;

	a.has_action = 1;
	a.action = action;
	a.gid = (char *)gid;
	a.has_branch = 1;
	a.branch = branch;
	a.has_skip_as_done = 1;
	a.skip_as_done = as_done;
	a.reason = (char *)"engine_test";
	a.user = (char *)"tester";
	a.has_dry_run = 1;
	a.dry_run = dry;
	a.has_force = force;
	a.force = force;
	m.body_case = DTX__V1__ADMIN_REQUEST__BODY_ACT;
	m.act = &a;
	return admin(&m);
}

static Dtx__V1__AdminReply *act_dry(Dtx__V1__AdminAction action,
                                    const char *gid, uint32_t branch,
                                    bool as_done, bool dry)
{
	return act_full(action, gid, branch, as_done, dry, false);
}

/* reply_says asserts rep's code is OK (want_ok) or not, and that its
 * message (refused) or one of its transitions (accepted) holds want;
 * frees rep. */
static void reply_says(Dtx__V1__AdminReply *rep, bool want_ok, const char *want)
{
	bool found = false;

	cr_assert_eq(rep->code == DTX__V1__CODE__CODE_OK, want_ok,
	             "code %d: %s", (int)rep->code,
	             rep->message ? rep->message : "");
	if (!want_ok)
		found = rep->message && strstr(rep->message, want);
	for (size_t i = 0; want_ok && i < rep->n_transitions; i++)
		found |= strstr(rep->transitions[i], want) != NULL;
	cr_assert(found, "no \"%s\" in the reply (%s)", want,
	          rep->message ? rep->message : "");
	dtx__v1__admin_reply__free_unpacked(rep, NULL);
}

static Dtx__V1__AdminReply *act(Dtx__V1__AdminAction action, const char *gid,
                                uint32_t branch, bool as_done)
{
	return act_dry(action, gid, branch, as_done, false);
}

/* act_ok runs an action the engine must accept. */
static void act_ok(Dtx__V1__AdminAction action, const char *gid,
                   uint32_t branch, bool as_done)
{
	Dtx__V1__AdminReply *rep = act(action, gid, branch, as_done);

	cr_assert_eq(rep->code, DTX__V1__CODE__CODE_OK, "refused: %s",
	             rep->message ? rep->message : "");
	dtx__v1__admin_reply__free_unpacked(rep, NULL);
}

/* act_refused runs an action the engine must refuse with a message
 * holding want. */
static void act_refused(Dtx__V1__AdminAction action, const char *gid,
                        uint32_t branch, const char *want)
{
	Dtx__V1__AdminReply *rep = act(action, gid, branch, false);

	cr_assert_neq(rep->code, DTX__V1__CODE__CODE_OK, "accepted, not: %s",
	              want);
	cr_assert_not_null(rep->message);
	cr_assert_not_null(strstr(rep->message, want), "refusal \"%s\", not %s",
	                   rep->message, want);
	dtx__v1__admin_reply__free_unpacked(rep, NULL);
}

/* next_retry_in is how far (wall ms from now) the queued backoff of gid's
 * step is, as dtxctl show reports it; -1 if none is queued. */
static int64_t next_retry_in(const char *gid, uint32_t step)
{
	Dtx__V1__AdminRequest m = DTX__V1__ADMIN_REQUEST__INIT;
	Dtx__V1__AdminShow s = DTX__V1__ADMIN_SHOW__INIT;
	Dtx__V1__AdminReply *rep;
	const Dtx__V1__StepInfo *si;
	int64_t in = -1;

	s.gid = (char *)gid;
	m.body_case = DTX__V1__ADMIN_REQUEST__BODY_SHOW;
	m.show = &s;
	rep = admin(&m);
	cr_assert_eq(rep->code, DTX__V1__CODE__CODE_OK);
	cr_assert_eq(rep->n_txs, 1);
	cr_assert_gt(rep->txs[0]->n_steps, step);
	si = rep->txs[0]->steps[step];
	if (si->has_next_retry_unix_ms && si->next_retry_unix_ms != 0)
		in = si->next_retry_unix_ms - g.clock.unix_ms;
	dtx__v1__admin_reply__free_unpacked(rep, NULL);
	return in;
}

/* ---- what the test sees -------------------------------------------------- */

/* expect_call finds the call of (gid, branch, op) that left the engine,
 * with that attempt (0: any). */
static memnet_call *expect_call(const char *gid, uint32_t branch, dtx_op op,
                                uint32_t attempt)
{
	memnet_call *c;

	settle();
	c = memnet_find_call(g.net, gid, branch, op);
	cr_assert_not_null(c, "%s: no %s of branch %u was sent", gid,
	                   dtx_op_name(op), (unsigned)branch);
	if (attempt != 0)
		cr_assert_eq(c->attempt, attempt, "%s branch %u %s: attempt %u",
		             gid, (unsigned)branch, dtx_op_name(op),
		             (unsigned)c->attempt);
	return c;
}

/* answer ends c (a participant's answer, or the transport's) and lets
 * the engine act on it. */
static void answer(memnet_call *c, memnet_outcome out)
{
	memnet_answer(c, out, "engine_test");
	settle();
}

/* call_and_answer expects the call and answers it. */
static void call_and_answer(const char *gid, uint32_t branch, dtx_op op,
                            uint32_t attempt, memnet_outcome out)
{
	answer(expect_call(gid, branch, op, attempt), out);
}

static dc_tx *log_tx(const char *gid)
{
	dc_tx *tx = NULL;

	cr_assert_eq(dc_log_load_tx(g.log, gid, &tx), DTX_OK, "%s not logged",
	             gid);
	return tx;
}

static int log_state(const char *gid)
{
	dc_tx *tx = log_tx(gid);
	int st = (int)tx->state;

	dc_tx_destroy(tx);
	return st;
}

/* checks_hold: nothing left the engine ahead of the log. */
static void checks_hold(void)
{
	cr_assert_eq(g.replies_not_as_log, 0, "%s", g.why);
	cr_assert_eq(g.calls_not_logged, 0, "%s", g.why);
}

TestSuite(engine, .init = start, .fini = teardown, .timeout = 60);

/* ---- sagas --------------------------------------------------------------- */

Test(engine, saga_calls_its_steps_in_order_and_commits)
{
	memnet_req *r = submit_saga("s-ok", 3, 0, WAIT_MS);
	Dtx__V1__ClientReply *rep;

	for (uint32_t i = 0; i < 3; i++) {
		/* one call at a time: the next only after this one's OK */
		memnet_call *c = expect_call("s-ok", i, DTX_OP_ACTION, 1);
		cr_assert_eq(memnet_calls_out(g.net), 1);
		cr_assert_str_eq(c->handler, i == 0   ? "a0"
		                             : i == 1 ? "a1"
		                                      : "a2");
		cr_assert(!r->answered, "answered before the saga was final");
		answer(c, MEMNET_OK);
	}
	rep = reply_of(r);
	cr_assert_eq(rep->code, DTX__V1__CODE__CODE_OK);
	cr_assert(rep->created);
	cr_assert_eq(rep->tx->state, DTX__V1__TX_STATE__TX_COMMITTED);
	cr_assert_eq(log_state("s-ok"), DC_TX_COMMITTED);
	cr_assert_eq(memnet_calls_sent(g.net), 3);
	cr_assert_eq(g.replies, 1);
	checks_hold();
	free_reply(rep);
}

Test(engine, refusal_compensates_done_steps_in_reverse_order)
{
	memnet_req *r = submit_saga("s-fail", 3, 0, WAIT_MS);
	Dtx__V1__ClientReply *rep;
	dc_tx *tx;

	call_and_answer("s-fail", 0, DTX_OP_ACTION, 1, MEMNET_OK);
	call_and_answer("s-fail", 1, DTX_OP_ACTION, 1, MEMNET_OK);
	call_and_answer("s-fail", 2, DTX_OP_ACTION, 1, MEMNET_FAIL);
	cr_assert_eq(log_state("s-fail"), DC_TX_COMPENSATING);
	/* step 2 was refused (no effect): never compensated */
	cr_assert_null(memnet_find_call(g.net, "s-fail", 2, DTX_OP_COMPENSATE));
	call_and_answer("s-fail", 1, DTX_OP_COMPENSATE, 1, MEMNET_OK);
	cr_assert(!r->answered);
	call_and_answer("s-fail", 0, DTX_OP_COMPENSATE, 1, MEMNET_OK);
	rep = reply_of(r);
	cr_assert_eq(rep->tx->state, DTX__V1__TX_STATE__TX_COMPENSATED);
	cr_assert_eq(rep->tx->failed_step, 2);
	tx = log_tx("s-fail");
	cr_assert_eq(tx->state, DC_TX_COMPENSATED);
	cr_assert_eq(tx->steps[0].state, DC_STEP_COMPENSATED);
	cr_assert_eq(tx->steps[1].state, DC_STEP_COMPENSATED);
	cr_assert_eq(tx->steps[2].state, DC_STEP_FAILED);
	dc_tx_destroy(tx);
	cr_assert_eq(memnet_calls_sent(g.net), 5);
	checks_hold();
	free_reply(rep);
}

Test(engine, reply_without_wait_reports_the_durable_submitted_state)
{
	Dtx__V1__ClientReply *rep = reply_of(submit_saga("s-now", 2, 0, 0));

	/* answered once the submit is durable, before any step answered */
	cr_assert_eq(rep->tx->state, DTX__V1__TX_STATE__TX_RUNNING);
	cr_assert_eq(rep->tx->steps[0]->state,
	             DTX__V1__STEP_STATE__STEP_ACTING);
	cr_assert_eq(g.replies, 1);
	checks_hold();
	free_reply(rep);
	expect_call("s-now", 0, DTX_OP_ACTION, 1);
}

Test(engine, waiting_client_is_answered_when_its_wait_ends)
{
	memnet_req *r = query("s-wait", 0);
	Dtx__V1__ClientReply *rep = reply_of(r);

	cr_assert_eq(rep->code, DTX__V1__CODE__CODE_ENOENT);
	free_reply(rep);
	free_reply(reply_of(submit_saga("s-wait", 1, 0, 0)));
	r = query("s-wait", 2000);
	settle(); /* the wait starts when the engine reads the query */
	advance(1999);
	cr_assert(!r->answered, "answered before its wait ended");
	advance(1);
	rep = reply_of(r);
	cr_assert_eq(rep->tx->state, DTX__V1__TX_STATE__TX_RUNNING);
	checks_hold();
	free_reply(rep);
}

/* ---- deadlines and backoff ------------------------------------------------
 */

Test(engine, saga_past_its_deadline_compensates_the_silent_step)
{
	memnet_req *r = submit_saga("s-dl", 2, 5000, WAIT_MS);
	memnet_call *silent;
	uint64_t sent;
	Dtx__V1__ClientReply *rep;

	call_and_answer("s-dl", 0, DTX_OP_ACTION, 1, MEMNET_OK);
	silent = expect_call("s-dl", 1, DTX_OP_ACTION, 1);
	sent = memnet_calls_sent(g.net);
	advance(4999);
	cr_assert_eq(memnet_calls_sent(g.net), sent,
	             "acted before the deadline");
	cr_assert_eq(log_state("s-dl"), DC_TX_RUNNING);
	advance(1);
	cr_assert_eq(log_state("s-dl"), DC_TX_COMPENSATING);
	/* the silent action's effect is unknown: it is compensated too */
	call_and_answer("s-dl", 1, DTX_OP_COMPENSATE, 1, MEMNET_OK);
	/* a late answer of the abandoned action changes nothing */
	answer(silent, MEMNET_OK);
	cr_assert_eq(log_state("s-dl"), DC_TX_COMPENSATING);
	call_and_answer("s-dl", 0, DTX_OP_COMPENSATE, 1, MEMNET_OK);
	rep = reply_of(r);
	cr_assert_eq(rep->tx->state, DTX__V1__TX_STATE__TX_COMPENSATED);
	cr_assert_not_null(strstr(rep->tx->reason, "deadline"));
	checks_hold();
	free_reply(rep);
}

Test(engine, tcc_try_silent_past_its_deadline_cancels_every_branch)
{
	memnet_req *r = submit_tcc("t-dl", 2, 3000, WAIT_MS);
	Dtx__V1__ClientReply *rep;

	call_and_answer("t-dl", 0, DTX_OP_TRY, 1, MEMNET_OK);
	expect_call("t-dl", 1, DTX_OP_TRY, 1); /* never answers */
	advance(2999);
	cr_assert_eq(log_state("t-dl"), DC_TX_RUNNING);
	cr_assert_null(memnet_find_call(g.net, "t-dl", 0, DTX_OP_CANCEL));
	advance(1);
	cr_assert_eq(log_state("t-dl"), DC_TX_CANCELLING);
	call_and_answer("t-dl", 1, DTX_OP_CANCEL, 1, MEMNET_OK);
	call_and_answer("t-dl", 0, DTX_OP_CANCEL, 1, MEMNET_OK);
	rep = reply_of(r);
	cr_assert_eq(rep->tx->state, DTX__V1__TX_STATE__TX_CANCELLED);
	cr_assert_null(memnet_find_call(g.net, "t-dl", 0, DTX_OP_CONFIRM));
	checks_hold();
	free_reply(rep);
}

Test(engine, tcc_confirms_every_branch_once_every_try_succeeded)
{
	memnet_req *r = submit_tcc("t-ok", 2, 0, WAIT_MS);
	Dtx__V1__ClientReply *rep;

	call_and_answer("t-ok", 1, DTX_OP_TRY, 1, MEMNET_OK);
	cr_assert_null(memnet_find_call(g.net, "t-ok", 1, DTX_OP_CONFIRM));
	call_and_answer("t-ok", 0, DTX_OP_TRY, 1, MEMNET_OK);
	call_and_answer("t-ok", 0, DTX_OP_CONFIRM, 1, MEMNET_OK);
	call_and_answer("t-ok", 1, DTX_OP_CONFIRM, 1, MEMNET_OK);
	rep = reply_of(r);
	cr_assert_eq(rep->tx->state, DTX__V1__TX_STATE__TX_COMMITTED);
	checks_hold();
	free_reply(rep);
}

/* Every call carries the time after which its action/try must not apply
 * (BranchCall.deadline_unix_ms): the transaction's deadline when it has
 * one - on the cancel and confirm too, so the participant keeps its
 * records that long. */
Test(engine, calls_carry_the_transactions_deadline)
{
	memnet_req *r = submit_tcc("t-dlf", 2, 3000, WAIT_MS);
	memnet_call *c;

	c = expect_call("t-dlf", 0, DTX_OP_TRY, 1);
	cr_assert_eq(c->deadline_unix_ms, T0_UNIX + 3000);
	answer(c, MEMNET_OK);
	advance(1000);
	c = expect_call("t-dlf", 1, DTX_OP_TRY, 1);
	cr_assert_eq(c->deadline_unix_ms, T0_UNIX + 3000);
	answer(c, MEMNET_FAIL);
	c = expect_call("t-dlf", 0, DTX_OP_CANCEL, 1);
	cr_assert_eq(c->deadline_unix_ms, T0_UNIX + 3000);
	answer(c, MEMNET_OK);
	call_and_answer("t-dlf", 1, DTX_OP_CANCEL, 1, MEMNET_OK);
	free_reply(reply_of(r));
	r = submit_saga("s-dlf", 1, 7000, WAIT_MS);
	c = expect_call("s-dlf", 0, DTX_OP_ACTION, 1);
	cr_assert_eq(c->deadline_unix_ms, g.clock.unix_ms + 7000);
	answer(c, MEMNET_OK);
	free_reply(reply_of(r));
	checks_hold();
}

/* A saga without a deadline: each call's own end (sent + its timeout),
 * so a resend and the compensate that follows carry later times. */
Test(engine, a_saga_without_a_deadline_sends_each_call_its_own_end)
{
	memnet_req *r = submit_saga("s-nodl", 1, 0, WAIT_MS);
	uint32_t t = g.cfg.call_timeout_ms;
	memnet_call *c;
	int64_t sent;

	c = expect_call("s-nodl", 0, DTX_OP_ACTION, 1);
	cr_assert_eq(c->deadline_unix_ms, T0_UNIX + t);
	answer(c, MEMNET_TIMEOUT);
	advance(g.cfg.retry_max_ms);
	sent = g.clock.unix_ms;
	c = expect_call("s-nodl", 0, DTX_OP_ACTION, 2);
	cr_assert_eq(c->deadline_unix_ms, sent + t);
	answer(c, MEMNET_OK);
	free_reply(reply_of(r));
	checks_hold();
}

/* backoff_of is the engine's nth backoff (1 = its first) after failed
 * failed calls: the jitter of its known seed. */
static int64_t backoff_of(unsigned nth, uint32_t failed)
{
	dc_backoff b = {.base_ms = g.cfg.retry_base_ms,
	                .multiplier = g.cfg.retry_multiplier,
	                .max_ms = g.cfg.retry_max_ms};
	uint64_t state = SEED, rnd = 0;

	for (unsigned i = 0; i < nth; i++)
		rnd = dc_backoff_next_random(&state);
	return dc_backoff_delay_ms(&b, failed, rnd);
}

/* A transient answer is retried after the backoff the policy gives (and
 * dtxctl show reports), and not a millisecond before. */
Test(engine, backoff_retry_is_sent_when_the_clock_passes_it_not_before)
{
	int64_t in = backoff_of(1, 1);
	uint64_t sent;

	cr_assert_gt(in, 1, "choose a SEED whose first backoff is not 0");
	free_reply(reply_of(submit_saga("s-bo", 1, 0, 0)));
	call_and_answer("s-bo", 0, DTX_OP_ACTION, 1, MEMNET_RETRY);
	cr_assert_eq(next_retry_in("s-bo", 0), in);
	sent = memnet_calls_sent(g.net);
	advance((uint64_t)in - 1);
	cr_assert_eq(memnet_calls_sent(g.net), sent, "retried 1 ms early");
	cr_assert_eq(next_retry_in("s-bo", 0), 1);
	advance(1);
	expect_call("s-bo", 0, DTX_OP_ACTION, 2);
	cr_assert_eq(memnet_calls_sent(g.net), sent + 1);
	cr_assert_eq(next_retry_in("s-bo", 0), -1);
	/* the second backoff: the next number of the same sequence */
	call_and_answer("s-bo", 0, DTX_OP_ACTION, 2, MEMNET_RETRY);
	cr_assert_eq(next_retry_in("s-bo", 0), backoff_of(2, 2));
	checks_hold();
}

Test(engine, timeout_and_unreachable_answers_are_retried)
{
	int64_t in;

	free_reply(reply_of(submit_saga("s-tr", 1, 0, 0)));
	call_and_answer("s-tr", 0, DTX_OP_ACTION, 1, MEMNET_TIMEOUT);
	in = next_retry_in("s-tr", 0);
	cr_assert_geq(in, 0);
	advance((uint64_t)in);
	call_and_answer("s-tr", 0, DTX_OP_ACTION, 2, MEMNET_UNREACHABLE);
	in = next_retry_in("s-tr", 0);
	cr_assert_geq(in, 0);
	advance((uint64_t)in);
	call_and_answer("s-tr", 0, DTX_OP_ACTION, 3, MEMNET_OK);
	cr_assert_eq(log_state("s-tr"), DC_TX_COMMITTED);
	checks_hold();
}

/* ---- the wall clock jumps; deadlines and ages follow the monotonic one -- */

Test(engine, wall_clock_jumps_neither_fire_nor_stall_a_deadline)
{
	uint64_t sent;

	free_reply(reply_of(submit_saga("s-jump", 1, 5000, 0)));
	expect_call("s-jump", 0, DTX_OP_ACTION, 1);
	sent = memnet_calls_sent(g.net);
	jump(3600 * 1000); /* an hour forward: the deadline is not past */
	cr_assert_eq(log_state("s-jump"), DC_TX_RUNNING);
	cr_assert_eq(memnet_calls_sent(g.net), sent);
	jump(-2 * 3600 * 1000); /* an hour behind the start */
	advance(4999);
	cr_assert_eq(log_state("s-jump"), DC_TX_RUNNING);
	advance(1); /* 5 s of monotonic time: the deadline, not stalled */
	cr_assert_eq(log_state("s-jump"), DC_TX_COMPENSATING);
	expect_call("s-jump", 0, DTX_OP_COMPENSATE, 1);
	checks_hold();
}

Test(engine, age_that_flags_a_stuck_transaction_ignores_wall_jumps)
{
	dc_tx *tx;
	int64_t in;

	engine_stop();
	g.cfg.stuck_after_ms = 60000;
	g.cfg.stuck_after_attempts = 1000;
	engine_start();
	free_reply(reply_of(submit_saga("s-age", 1, 0, 0)));
	jump(3600 * 1000); /* the wall says an hour passed; it did not */
	call_and_answer("s-age", 0, DTX_OP_ACTION, 1, MEMNET_RETRY);
	tx = log_tx("s-age");
	cr_assert(!tx->needs_operator, "flagged by a wall-clock jump: %s",
	          tx->operator_reason);
	dc_tx_destroy(tx);
	/* a minute of monotonic time does flag it at the next retry */
	in = next_retry_in("s-age", 0);
	advance((uint64_t)in + 60001);
	call_and_answer("s-age", 0, DTX_OP_ACTION, 2, MEMNET_RETRY);
	tx = log_tx("s-age");
	cr_assert(tx->needs_operator, "not flagged after a minute");
	dc_tx_destroy(tx);
	checks_hold();
}

/* ---- operator actions (dtxctl, through the admin endpoint) -------------- */

#define A(x) DTX__V1__ADMIN_ACTION__ADMIN_##x

/* has_event: gid's timeline in the log has a line holding what. */
static int find_event(void *arg, uint32_t seq, const dc_log_event *ev)
{
	const char **what = arg;

	(void)seq;
	if (*what != NULL && ev->detail != NULL &&
	    strstr(ev->detail, *what) != NULL)
		*what = NULL;
	return DTX_OK;
}

static bool has_event(const char *gid, const char *what)
{
	cr_assert_eq(dc_log_read_events(g.log, gid, find_event, &what), DTX_OK);
	return what == NULL;
}

Test(engine, pause_holds_calls_until_resume)
{
	int64_t in;
	uint64_t sent;
	dc_tx *tx;

	free_reply(reply_of(submit_saga("o-pause", 2, 0, 0)));
	call_and_answer("o-pause", 0, DTX_OP_ACTION, 1, MEMNET_RETRY);
	in = next_retry_in("o-pause", 0);
	act_refused(A(RESUME), "o-pause", 0, "not paused");
	act_ok(A(PAUSE), "o-pause", 0, false);
	/* the action and who asked are durable once the answer came */
	tx = log_tx("o-pause");
	cr_assert(tx->paused);
	dc_tx_destroy(tx);
	cr_assert(has_event("o-pause", "operator pause by tester"));
	act_refused(A(PAUSE), "o-pause", 0, "already paused");
	act_refused(A(RETRY), "o-pause", 0, "paused: resume it first");
	sent = memnet_calls_sent(g.net);
	advance((uint64_t)in + 20000); /* the backoff passes: no call */
	cr_assert_eq(memnet_calls_sent(g.net), sent, "a paused tx was called");
	act_ok(A(RESUME), "o-pause", 0, false);
	call_and_answer("o-pause", 0, DTX_OP_ACTION, 2, MEMNET_OK);
	call_and_answer("o-pause", 1, DTX_OP_ACTION, 1, MEMNET_OK);
	cr_assert_eq(log_state("o-pause"), DC_TX_COMMITTED);
	checks_hold();
}

Test(engine, retry_now_skips_the_backoff)
{
	free_reply(reply_of(submit_saga("o-retry", 1, 0, 0)));
	expect_call("o-retry", 0, DTX_OP_ACTION, 1);
	/* the call is out: nothing waits for a retry */
	act_refused(A(RETRY), "o-retry", 0, "no branch is waiting for a retry");
	answer(memnet_find_call(g.net, "o-retry", 0, DTX_OP_ACTION),
	       MEMNET_RETRY);
	cr_assert_geq(next_retry_in("o-retry", 0), 0);
	act_ok(A(RETRY), "o-retry", 0, false); /* the clock does not move */
	call_and_answer("o-retry", 0, DTX_OP_ACTION, 2, MEMNET_OK);
	cr_assert_eq(log_state("o-retry"), DC_TX_COMMITTED);
	cr_assert(has_event("o-retry", "operator retry by tester"));
	checks_hold();
}

Test(engine, skip_branch_as_done_moves_the_saga_on)
{
	memnet_call *silent;

	free_reply(reply_of(submit_saga("o-skip", 2, 0, 0)));
	silent = expect_call("o-skip", 0, DTX_OP_ACTION, 1);
	act_refused(A(SKIP), "o-skip", 5,
	            "branch 5 is out of range (the transaction has 2)");
	/* the action never answered OK: done needs --force, dry or not */
	reply_says(act_full(A(SKIP), "o-skip", 0, true, true, false), false,
	           "branch 0: its action never answered OK (attempt 1");
	reply_says(act_full(A(SKIP), "o-skip", 0, true, false, false), false,
	           "--force");
	cr_assert_eq(log_state("o-skip"), DC_TX_RUNNING);
	reply_says(act_full(A(SKIP), "o-skip", 0, true, true, true), true,
	           "--force: branch 0");
	reply_says(act_full(A(SKIP), "o-skip", 0, true, false, true), true,
	           "--force: branch 0");
	call_and_answer("o-skip", 1, DTX_OP_ACTION, 1, MEMNET_OK);
	cr_assert_eq(log_state("o-skip"), DC_TX_COMMITTED);
	answer(silent, MEMNET_FAIL); /* stale: counts for nothing */
	cr_assert_eq(log_state("o-skip"), DC_TX_COMMITTED);
	cr_assert(has_event("o-skip",
	                    "operator skip-branch 0 as done by "
	                    "tester (claimed) (--force over: branch 0"));
	act_refused(A(SKIP), "o-skip", 0, "(final): nothing to do");
	checks_hold();
}

Test(engine, compensate_rolls_a_running_saga_back)
{
	free_reply(reply_of(submit_saga("o-comp", 2, 0, 0)));
	call_and_answer("o-comp", 0, DTX_OP_ACTION, 1, MEMNET_OK);
	expect_call("o-comp", 1, DTX_OP_ACTION, 1);
	act_refused(A(CANCEL), "o-comp", 0,
	            "a saga is rolled back with compensate");
	act_refused(A(COMMIT), "o-comp", 0,
	            "commit applies to TCC transactions only");
	act_ok(A(COMPENSATE), "o-comp", 0, false);
	cr_assert_eq(log_state("o-comp"), DC_TX_COMPENSATING);
	act_refused(A(COMPENSATE), "o-comp", 0,
	            "compensate does not apply now: the transaction is "
	            "compensating");
	call_and_answer("o-comp", 1, DTX_OP_COMPENSATE, 1, MEMNET_OK);
	call_and_answer("o-comp", 0, DTX_OP_COMPENSATE, 1, MEMNET_OK);
	cr_assert_eq(log_state("o-comp"), DC_TX_COMPENSATED);
	checks_hold();
}

Test(engine, tcc_commit_refused_while_a_try_is_pending_then_cancel)
{
	free_reply(reply_of(submit_tcc("o-tcc", 2, 0, 0)));
	call_and_answer("o-tcc", 0, DTX_OP_TRY, 1, MEMNET_OK);
	expect_call("o-tcc", 1, DTX_OP_TRY, 1);
	act_refused(A(COMMIT), "o-tcc", 0, "a Try is still pending");
	act_refused(A(COMPENSATE), "o-tcc", 0,
	            "a TCC transaction is rolled back with cancel");
	act_ok(A(CANCEL), "o-tcc", 0, false);
	cr_assert_eq(log_state("o-tcc"), DC_TX_CANCELLING);
	call_and_answer("o-tcc", 0, DTX_OP_CANCEL, 1, MEMNET_OK);
	call_and_answer("o-tcc", 1, DTX_OP_CANCEL, 1, MEMNET_OK);
	cr_assert_eq(log_state("o-tcc"), DC_TX_CANCELLED);
	cr_assert(has_event("o-tcc", "operator cancel by tester"));
	checks_hold();
}

/* begin_tcc begins an initiator-driven TCC transaction and registers
 * n branches (the initiator would call each Try itself). */
static void begin_tcc(const char *gid, unsigned n)
{
	Dtx__V1__ClientRequest m = DTX__V1__CLIENT_REQUEST__INIT;
	Dtx__V1__BeginTcc b = DTX__V1__BEGIN_TCC__INIT;
	Dtx__V1__RegisterBranch r = DTX__V1__REGISTER_BRANCH__INIT;
	Dtx__V1__TccBranch spec = DTX__V1__TCC_BRANCH__INIT;
	Dtx__V1__ClientReply *rep;

	b.gid = (char *)gid;
	m.body_case = DTX__V1__CLIENT_REQUEST__BODY_BEGIN_TCC;
	m.begin_tcc = &b;
	free_reply(reply_of(send_client(&m, 0)));
	spec.participant_url = (char *)"tcp://127.0.0.1:23000";
	spec.try_ = (char *)"t";
	spec.confirm = (char *)"f";
	spec.cancel = (char *)"x";
	for (unsigned i = 0; i < n; i++) {
		dtx__v1__client_request__init(&m);
		r.gid = (char *)gid;
		r.has_branch = 1;
		r.branch = i;
		r.spec = &spec;
		m.body_case = DTX__V1__CLIENT_REQUEST__BODY_REGISTER;
		m.register_ = &r;
		rep = reply_of(send_client(&m, 0));
		cr_assert_eq(rep->code, DTX__V1__CODE__CODE_OK);
		free_reply(rep);
	}
}

Test(engine, operator_commits_an_initiator_driven_tcc)
{
	Dtx__V1__AdminReply *rep;

	begin_tcc("o-init", 2);
	cr_assert_eq(memnet_calls_sent(g.net), 0); /* the initiator's Tries */
	/* nothing in the log says a Try succeeded: refused, dry or not,
	 * naming each branch and what is recorded of it */
	reply_says(act_dry(A(COMMIT), "o-init", 0, false, true), false,
	           "branch 0: Try not recorded OK (trying, no answer "
	           "recorded");
	reply_says(act(A(COMMIT), "o-init", 0, false), false,
	           "; branch 1: Try not recorded OK");
	/* with --force a dry run says what would happen and changes
	 * nothing */
	rep = act_full(A(COMMIT), "o-init", 0, false, true, true);
	cr_assert_eq(rep->code, DTX__V1__CODE__CODE_OK);
	cr_assert(rep->dry_run);
	cr_assert_gt(rep->n_calls, 0);
	dtx__v1__admin_reply__free_unpacked(rep, NULL);
	settle();
	cr_assert_eq(log_state("o-init"), DC_TX_RUNNING);
	cr_assert_eq(memnet_calls_sent(g.net), 0);
	reply_says(act_full(A(COMMIT), "o-init", 0, false, false, true), true,
	           "--force: branch 0: Try not recorded OK");
	cr_assert_eq(log_state("o-init"), DC_TX_CONFIRMING);
	/* a Confirm over a forced Try is not taken as done without --force */
	reply_says(act_full(A(SKIP), "o-init", 0, true, false, false), false,
	           "branch 0: its Try is not recorded OK");
	call_and_answer("o-init", 0, DTX_OP_CONFIRM, 1, MEMNET_OK);
	call_and_answer("o-init", 1, DTX_OP_CONFIRM, 1, MEMNET_RETRY);
	act_ok(A(RETRY), "o-init", 1, false);
	call_and_answer("o-init", 1, DTX_OP_CONFIRM, 2, MEMNET_OK);
	cr_assert_eq(log_state("o-init"), DC_TX_COMMITTED);
	cr_assert(has_event("o-init",
	                    "operator commit by tester (claimed) (--force "
	                    "over: branch 0"));
	checks_hold();
}

Test(engine, action_on_an_unknown_gid_is_refused)
{
	act_refused(A(PAUSE), "o-none", 0, "no such transaction");
}

/* ---- recovery ---------------------------------------------------------- */

TestSuite(recovery, .init = setup, .fini = teardown, .timeout = 60);

Test(recovery, resumes_a_saga_stopped_after_a_durable_step)
{
	engine_start();
	free_reply(reply_of(submit_saga("r-run", 3, 0, 0)));
	call_and_answer("r-run", 0, DTX_OP_ACTION, 1, MEMNET_OK);
	expect_call("r-run", 1, DTX_OP_ACTION, 1); /* out when we stop */
	engine_stop();

	engine_start();
	cr_assert_eq(dc_engine_recovery(g.e)->running, 1);
	/* step 1 called again (attempt 2: the barrier dedupes), not step 0 */
	call_and_answer("r-run", 1, DTX_OP_ACTION, 2, MEMNET_OK);
	cr_assert_null(memnet_find_call(g.net, "r-run", 0, DTX_OP_ACTION));
	call_and_answer("r-run", 2, DTX_OP_ACTION, 1, MEMNET_OK);
	cr_assert_eq(log_state("r-run"), DC_TX_COMMITTED);
	cr_assert_eq(memnet_calls_sent(g.net), 2);
	checks_hold();
}

Test(recovery, keeps_compensating_a_saga_that_was)
{
	engine_start();
	free_reply(reply_of(submit_saga("r-comp", 3, 0, 0)));
	call_and_answer("r-comp", 0, DTX_OP_ACTION, 1, MEMNET_OK);
	call_and_answer("r-comp", 1, DTX_OP_ACTION, 1, MEMNET_OK);
	call_and_answer("r-comp", 2, DTX_OP_ACTION, 1, MEMNET_FAIL);
	expect_call("r-comp", 1, DTX_OP_COMPENSATE, 1);
	engine_stop();

	engine_start();
	cr_assert_eq(dc_engine_recovery(g.e)->compensating, 1);
	call_and_answer("r-comp", 1, DTX_OP_COMPENSATE, 2, MEMNET_OK);
	call_and_answer("r-comp", 0, DTX_OP_COMPENSATE, 1, MEMNET_OK);
	cr_assert_eq(log_state("r-comp"), DC_TX_COMPENSATED);
	cr_assert_null(memnet_find_call(g.net, "r-comp", 2, DTX_OP_COMPENSATE));
	cr_assert_eq(memnet_calls_sent(g.net), 2);
	checks_hold();
}

/* write_tx commits tx (transferred) straight into the log, as an earlier
 * dtxd would have left it. */
static void write_tx(dc_tx *tx)
{
	dc_log_batch *b;

	cr_assert_eq(dc_log_batch_create(&b), DTX_OK);
	cr_assert_eq(dc_log_batch_put_tx(b, tx, UINT64_MAX), DTX_OK);
	cr_assert_eq(dc_log_commit(g.log, b), DTX_OK);
	dc_log_batch_destroy(b);
	dc_tx_destroy(tx);
}

static dc_tx *new_tx(const char *gid, dc_mode mode, uint32_t n)
{
	dc_tx *tx;

	cr_assert_eq(dc_tx_create(gid, mode, n, &tx), DTX_OK);
	for (uint32_t i = 0; i < n; i++) {
		dc_step *st = &tx->steps[i];
		st->url = strdup("tcp://127.0.0.1:22000");
		st->action = strdup("try");
		st->compensate = strdup("cancel");
		if (mode == DC_MODE_TCC)
			st->confirm = strdup("confirm");
	}
	tx->created_unix_ms = tx->updated_unix_ms = T0_UNIX - 60000;
	return tx;
}

Test(recovery, cancels_at_once_a_tcc_whose_deadline_passed_while_down)
{
	dc_tx *tx = new_tx("r-tcc", DC_MODE_TCC, 2);

	tx->deadline_unix_ms = T0_UNIX - 1000; /* passed while down */
	tx->steps[0].state = DC_STEP_TRIED;
	tx->steps[0].attempts = 1;
	tx->steps[1].state = DC_STEP_TRYING;
	tx->steps[1].attempts = 1;
	write_tx(tx);

	engine_start();
	cr_assert_eq(dc_engine_recovery(g.e)->running, 1);
	advance(0); /* due now: the deadline fires at the first tick */
	cr_assert_eq(log_state("r-tcc"), DC_TX_CANCELLING);
	call_and_answer("r-tcc", 0, DTX_OP_CANCEL, 1, MEMNET_OK);
	call_and_answer("r-tcc", 1, DTX_OP_CANCEL, 1, MEMNET_OK);
	cr_assert_eq(log_state("r-tcc"), DC_TX_CANCELLED);
	checks_hold();
}

Test(recovery, quarantines_a_transaction_it_cannot_drive)
{
	dc_tx *good = new_tx("r-good", DC_MODE_SAGA, 1);
	Dtx__V1__ClientReply *rep;

	/* RUNNING with no step in flight: no machine can drive it */
	write_tx(new_tx("r-bad", DC_MODE_SAGA, 2));
	good->steps[0].state = DC_STEP_ACTING;
	good->steps[0].attempts = 1;
	write_tx(good);

	engine_start();
	cr_assert_eq(dc_engine_recovery(g.e)->quarantined, 1);
	cr_assert_eq(dc_engine_recovery(g.e)->running, 1);
	/* the others go on */
	call_and_answer("r-good", 0, DTX_OP_ACTION, 2, MEMNET_OK);
	cr_assert_eq(memnet_calls_sent(g.net), 1);
	cr_assert_eq(log_state("r-good"), DC_TX_COMMITTED);
	rep = reply_of(query("r-bad", 0));
	cr_assert_eq(rep->code, DTX__V1__CODE__CODE_ECORRUPT);
	cr_assert_not_null(strstr(rep->message, "quarantined"), "%s",
	                   rep->message);
	free_reply(rep);
	/* and a restart does not drive it either */
	engine_stop();
	engine_start();
	cr_assert_eq(dc_engine_recovery(g.e)->quarantined, 1);
	cr_assert_eq(memnet_calls_sent(g.net), 0);
	checks_hold();
}
