/*
 * hostile_engine_test.c - hostile input to the engine's client and admin
 * APIs (issue 13): results too big for a reply, conflicting resubmits of a
 * gid, a request sent to the wrong endpoint, integers at their limits.
 *
 * Real dtxd and dtx-sample-participant processes; requests are crafted
 * with the generated protobuf-c structs and sent over a raw nng REQ socket
 * where the SDK would refuse them or hide the reply's message.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <nng/nng.h>

#include "harness.h"
#include "rawwire.h"
#include "wire.h"

#define REPLY_MS    10000
#define CLIENT_MS   15000 /* a query whose reply never comes fails here */
#define WAIT_MS     10000 /* wait_ms of a crafted request */
#define NOWHERE_URL "tcp://127.0.0.1:9"
#define RECV_MAX    (1u << 20) /* as the SDK client's default */
#define MAX_STEPS   4

TestSuite(hostile_engine, .fini = th_teardown, .timeout = 120);

/* ---- raw sockets ------------------------------------------------------- */

/* raw_open is rw_open with the SDK client's receive limit, so a reply that
 * would not reach a real client does not reach the test either. */
static nng_socket raw_open(const char *url)
{
	nng_socket s = rw_open(url, REPLY_MS);

	nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, RECV_MAX);
	return s;
}

/* raw_call sends msg and returns the reply (nng buffer, nng_free). */
static void *raw_call(nng_socket s, const ProtobufCMessage *msg,
                      size_t *ret_len)
{
	uint8_t *buf;
	void *rbuf;
	size_t len;
	int rv;

	cr_assert_eq(wire_pack_alloc(msg, &buf, &len), DTX_OK);
	rv = nng_send(s, buf, len, 0);
	free(buf);
	cr_assert_eq(rv, 0, "send: %s", nng_strerror(rv));
	rv = nng_recv(s, &rbuf, ret_len, NNG_FLAG_ALLOC);
	cr_assert_eq(rv, 0, "no reply: %s", nng_strerror(rv));
	return rbuf;
}

/* client_reply sends a ClientRequest; the reply must come and decode. */
static Dtx__V1__ClientReply *client_reply(nng_socket s,
                                          const Dtx__V1__ClientRequest *req)
{
	Dtx__V1__ClientReply *rep;
	char why[256];
	size_t len;
	void *buf = raw_call(s, &req->base, &len);
	int rv = wire_client_reply_decode(buf, len, &rep, why, sizeof(why));

	nng_free(buf, len);
	cr_assert_eq(rv, DTX_OK, "the reply does not decode: %s", why);
	return rep;
}

/* admin_reply sends an AdminRequest; the reply must come and decode. */
static Dtx__V1__AdminReply *admin_reply(nng_socket s,
                                        const Dtx__V1__AdminRequest *req)
{
	Dtx__V1__AdminReply *rep;
	char why[256];
	size_t len;
	void *buf = raw_call(s, &req->base, &len);
	int rv = wire_admin_reply_decode(buf, len, &rep, why, sizeof(why));

	nng_free(buf, len);
	cr_assert_eq(rv, DTX_OK, "the admin reply does not decode: %s", why);
	return rep;
}

/* expect_code asserts rep's code (and, if want_msg, a message holding it),
 * then frees rep. */
static void expect_code(Dtx__V1__ClientReply *rep, int code,
                        const char *want_msg)
{
	const char *msg = rep->message != NULL ? rep->message : "";

	cr_assert_eq((int)rep->code, code, "code %d (want %d): %s",
	             (int)rep->code, code, msg);
	if (want_msg != NULL)
		cr_assert(strstr(msg, want_msg) != NULL,
		          "message '%s' lacks '%s'", msg, want_msg);
	wire_client_reply_free(rep);
}

/* ---- crafted requests -------------------------------------------------- */

/* One crafted ClientRequest; it points at literals and owns nothing. */
typedef struct crafted {
	Dtx__V1__ClientRequest req;
	Dtx__V1__SubmitSaga saga;
	Dtx__V1__SubmitTcc tcc;
	Dtx__V1__BeginTcc begin;
	Dtx__V1__Query query;
	Dtx__V1__SagaStep step[MAX_STEPS];
	Dtx__V1__SagaStep *steps[MAX_STEPS];
	Dtx__V1__TccBranch br[MAX_STEPS];
	Dtx__V1__TccBranch *brs[MAX_STEPS];
} crafted;

static void craft_head(crafted *c)
{
	memset(c, 0, sizeof(*c));
	dtx__v1__client_request__init(&c->req);
	c->req.has_version = c->req.has_wait_ms = true;
	c->req.version = DTX__V1__VERSION__VERSION_1;
	c->req.wait_ms = WAIT_MS;
}

/* craft_saga: n steps p1.do/p1.undo at url, no payload, timeout, deadline */
static void craft_saga(crafted *c, const char *gid, const char *url, size_t n)
{
	craft_head(c);
	dtx__v1__submit_saga__init(&c->saga);
	c->req.body_case = DTX__V1__CLIENT_REQUEST__BODY_SUBMIT;
	c->req.submit = &c->saga;
	c->saga.gid = (char *)gid;
	for (size_t i = 0; i < n; i++) {
		dtx__v1__saga_step__init(&c->step[i]);
		c->step[i].participant_url = (char *)url;
		c->step[i].action = (char *)"p1.do";
		c->step[i].compensate = (char *)"p1.undo";
		c->steps[i] = &c->step[i];
	}
	c->saga.n_steps = n;
	c->saga.steps = c->steps;
}

/* craft_tcc: n branches p1.do (try, confirm) / p1.undo (cancel) at url */
static void craft_tcc(crafted *c, const char *gid, const char *url, size_t n)
{
	craft_head(c);
	dtx__v1__submit_tcc__init(&c->tcc);
	c->req.body_case = DTX__V1__CLIENT_REQUEST__BODY_SUBMIT_TCC;
	c->req.submit_tcc = &c->tcc;
	c->tcc.gid = (char *)gid;
	for (size_t i = 0; i < n; i++) {
		dtx__v1__tcc_branch__init(&c->br[i]);
		c->br[i].participant_url = (char *)url;
		c->br[i].try_ = (char *)"p1.do";
		c->br[i].confirm = (char *)"p1.do";
		c->br[i].cancel = (char *)"p1.undo";
		c->brs[i] = &c->br[i];
	}
	c->tcc.n_branches = n;
	c->tcc.branches = c->brs;
}

static void craft_begin(crafted *c, const char *gid)
{
	craft_head(c);
	dtx__v1__begin_tcc__init(&c->begin);
	c->req.body_case = DTX__V1__CLIENT_REQUEST__BODY_BEGIN_TCC;
	c->req.begin_tcc = &c->begin;
	c->req.has_wait_ms = false;
	c->begin.gid = (char *)gid;
}

static void craft_query(crafted *c, const char *gid)
{
	craft_head(c);
	dtx__v1__query__init(&c->query);
	c->req.body_case = DTX__V1__CLIENT_REQUEST__BODY_QUERY;
	c->req.query = &c->query;
	c->req.has_wait_ms = false;
	c->query.gid = (char *)gid;
}

/* expect_tx asserts a query of gid answers OK with state and nsteps. */
static void expect_tx(nng_socket s, const char *gid, int state, size_t nsteps)
{
	crafted c;
	Dtx__V1__ClientReply *rep;

	craft_query(&c, gid);
	rep = client_reply(s, &c.req);
	cr_assert_eq((int)rep->code, DTX_OK, "query %s: %s", gid,
	             rep->message ? rep->message : "");
	cr_assert_eq((int)rep->tx->state, state, "%s is %s", gid,
	             dtx_tx_state_name((int)rep->tx->state));
	cr_assert_eq(rep->tx->n_steps, nsteps);
	wire_client_reply_free(rep);
}

/* ---- conflicting resubmits --------------------------------------------- */

static const char one_byte[] = "x";

/* One resubmit of g1 (a committed 2-step saga) that names another
 * transaction: how it differs, and what the refusal must say. */
typedef struct conflict_case {
	const char *what;
	void (*spoil)(crafted *c, const char *url);
	const char *want;
} conflict_case;

static void fewer_steps(crafted *c, const char *url)
{
	craft_saga(c, "g1", url, 1);
}

static void other_action(crafted *c, const char *url)
{
	craft_saga(c, "g1", url, 2);
	c->step[1].action = (char *)"p1.flaky";
}

static void other_compensate(crafted *c, const char *url)
{
	craft_saga(c, "g1", url, 2);
	c->step[0].compensate = (char *)"p1.slowundo";
}

static void other_url(crafted *c, const char *url)
{
	craft_saga(c, "g1", url, 2);
	c->step[0].participant_url = (char *)NOWHERE_URL;
}

static void other_payload(crafted *c, const char *url)
{
	craft_saga(c, "g1", url, 2);
	c->step[1].has_payload = true;
	c->step[1].payload.data = (uint8_t *)one_byte;
	c->step[1].payload.len = 1;
}

static void other_timeout(crafted *c, const char *url)
{
	craft_saga(c, "g1", url, 2);
	c->step[0].has_timeout_ms = true;
	c->step[0].timeout_ms = 1234;
}

static void other_deadline(crafted *c, const char *url)
{
	craft_saga(c, "g1", url, 2);
	c->saga.has_deadline_ms = true;
	c->saga.deadline_ms = 60000;
}

static void as_tcc(crafted *c, const char *url)
{
	craft_tcc(c, "g1", url, 2);
}

static void as_begin(crafted *c, const char *url)
{
	(void)url;
	craft_begin(c, "g1");
}

static const conflict_case conflicts[] = {
        {"fewer steps", fewer_steps, "with 2 steps; this request has 1"},
        {"another action", other_action, "step 1: its action handler"},
        {"another compensation", other_compensate,
         "step 0: its compensate handler"},
        {"another URL", other_url, "step 0: its participant URL"},
        {"another payload", other_payload, "step 1: its payload"},
        {"another timeout", other_timeout, "step 0: its timeout"},
        {"a deadline", other_deadline, "deadline"},
        {"a TCC submit", as_tcc,
         "exists as a saga; this request is for a "
         "coordinator-run TCC"},
        {"a TCC begin", as_begin, "initiator-driven"},
};

Test(hostile_engine, a_conflicting_resubmit_is_refused_and_changes_nothing)
{
	th_env *t = th_begin();
	const char *url;
	nng_socket s;
	crafted c;
	Dtx__V1__ClientReply *rep;

	th_dtxd_start(t, NULL);
	th_participant_start(t, "p1", NULL);
	url = th_participant_url(t, "p1");
	s = raw_open(t->dtxd_url);
	craft_saga(&c, "g1", url, 2);
	rep = client_reply(s, &c.req);
	cr_assert(rep->created);
	expect_code(rep, DTX_OK, NULL);
	for (size_t i = 0; i < sizeof(conflicts) / sizeof(conflicts[0]); i++) {
		cr_log_info("resubmit with %s", conflicts[i].what);
		conflicts[i].spoil(&c, url);
		expect_code(client_reply(s, &c.req), DTX_ECONFLICT,
		            conflicts[i].want);
	}
	/* the same saga again is the same transaction */
	craft_saga(&c, "g1", url, 2);
	rep = client_reply(s, &c.req);
	cr_assert_not(rep->created);
	cr_assert_eq((int)rep->tx->state, DTX_TX_COMMITTED);
	expect_code(rep, DTX_OK, NULL);
	expect_tx(s, "g1", DTX_TX_COMMITTED, 2);
	cr_assert_str_eq(th_journal_story(t, "g1"), "p1.do:ok p1.do:ok");
	nng_close(s);
	th_end(t);
}

Test(hostile_engine, a_conflict_with_a_running_tcc_transaction_is_refused)
{
	th_env *t = th_begin();
	const char *url;
	nng_socket s;
	crafted c;
	Dtx__V1__ClientReply *rep;

	th_dtxd_start(t, NULL);
	th_participant_start(t, "p1", "--delay-ms", "1500", NULL);
	url = th_participant_url(t, "p1");
	s = raw_open(t->dtxd_url);
	/* a coordinator-run TCC whose Try is slow: it is live in memory */
	craft_tcc(&c, "t1", url, 1);
	c.br[0].try_ = (char *)"p1.slow";
	c.req.has_wait_ms = false;
	expect_code(client_reply(s, &c.req), DTX_OK, NULL);
	craft_tcc(&c, "t1", url, 1);
	expect_code(client_reply(s, &c.req), DTX_ECONFLICT,
	            "branch 0: its try handler");
	craft_saga(&c, "t1", url, 1);
	expect_code(client_reply(s, &c.req), DTX_ECONFLICT,
	            "exists as a coordinator-run TCC transaction");
	craft_tcc(&c, "t1", url, 1);
	c.br[0].try_ = (char *)"p1.slow";
	c.br[0].confirm = (char *)"p1.undo";
	expect_code(client_reply(s, &c.req), DTX_ECONFLICT,
	            "its confirm handler");
	/* the same request again waits for the same transaction */
	craft_tcc(&c, "t1", url, 1);
	c.br[0].try_ = (char *)"p1.slow";
	rep = client_reply(s, &c.req);
	cr_assert_not(rep->created);
	cr_assert_eq((int)rep->tx->state, DTX_TX_COMMITTED);
	expect_code(rep, DTX_OK, NULL);
	cr_assert_str_eq(th_journal_story(t, "t1"), "p1.slow:ok p1.do:ok");
	nng_close(s);
	th_end(t);
}

Test(hostile_engine, the_sdk_surfaces_a_conflict)
{
	th_env *t = th_begin();
	dtx_tx_info info;
	dtx_saga *saga;

	th_dtxd_start(t, NULL);
	th_participant_start(t, "p1", NULL);
	th_run(t, "g2", "p1.do/p1.undo p1.do/p1.undo", &info);
	saga = th_saga(t, "g2", "p1.do/p1.undo");
	cr_assert_eq(dtx_client_submit(th_client(t), saga, 0, &info),
	             DTX_ECONFLICT);
	dtx_saga_destroy(saga);
	saga = th_saga(t, "g2", "p1.do/p1.undo p1.do/p1.undo");
	cr_assert_eq(dtx_client_submit(th_client(t), saga, 0, &info), DTX_OK);
	cr_assert_not(info.created);
	cr_assert_eq(info.state, DTX_TX_COMMITTED);
	dtx_saga_destroy(saga);
	th_end(t);
}

/* ---- results too big for a reply --------------------------------------- */

/* short_client opens a client that gives up after CLIENT_MS, so a reply
 * the transport drops fails the test quickly. Closed by the caller. */
static dtx_client *short_client(th_env *t)
{
	dtx_client_opts opts;
	dtx_client *c;

	dtx_client_opts_init(&opts);
	opts.timeout_ms = CLIENT_MS;
	cr_assert_eq(dtx_client_open(t->dtxd_url, &opts, &c), DTX_OK);
	return c;
}

/* big_saga submits gid: step k is `actions[k]`/`comps[k]` at p1 with
 * payload sizes[k] (decimal text; NULL = none), and waits for the end. */
static int big_saga(th_env *t, dtx_client *c, const char *gid, size_t n,
                    const char *const *actions, const char *const *comps,
                    const char *const *sizes, dtx_tx_info *info)
{
	const char *url = th_participant_url(t, "p1");
	dtx_saga *saga;
	int rv;

	cr_assert_eq(dtx_saga_create(gid, &saga), DTX_OK);
	for (size_t k = 0; k < n; k++)
		cr_assert_eq(dtx_saga_add_step(
		                     saga, url, actions[k], comps[k], sizes[k],
		                     sizes[k] ? strlen(sizes[k]) : 0, 0),
		             DTX_OK);
	rv = dtx_client_submit(c, saga, TH_WAIT_FINAL - 5000, info);
	dtx_saga_destroy(saga);
	return rv;
}

Test(hostile_engine, a_result_past_max_result_fails_the_action_and_compensates)
{
	static const char *const acts[] = {"p1.do", "p1.bigresult",
	                                   "p1.bigresult"};
	static const char *const comps[] = {"p1.undo", "p1.undo", "p1.undo"};
	static const char *const sizes[] = {NULL, "600000", "600000"};
	th_env *t = th_begin();
	dtx_client *c;
	dtx_tx_info info;

	th_dtxd_start(t, "--action-max-attempts", "3", NULL);
	th_participant_start(t, "p1", NULL);
	c = short_client(t);
	cr_assert_eq(big_saga(t, c, "big1", 3, acts, comps, sizes, &info),
	             DTX_OK);
	cr_assert_eq(info.state, DTX_TX_COMPENSATED);
	cr_assert_eq(info.failed_step, 1);
	cr_assert(strstr(info.steps[1].last_error,
	                 "result of 600000 bytes exceeds --max-result 65536"),
	          "last_error: %s", info.steps[1].last_error);
	cr_assert_str_eq(th_journal_story(t, "big1"),
	                 "p1.do:ok p1.bigresult:ok p1.bigresult:ok "
	                 "p1.bigresult:ok p1.undo:ok p1.undo:ok");
	cr_assert_eq(dtx_client_query(c, "big1", 0, &info), DTX_OK);
	cr_assert_eq(info.state, DTX_TX_COMPENSATED);
	dtx_client_close(c);
	th_end(t);
}

Test(hostile_engine, results_past_the_transaction_budget_are_refused)
{
	static const char *const acts[] = {"p1.bigresult", "p1.bigresult",
	                                   "p1.bigresult"};
	static const char *const comps[] = {"p1.undo", "p1.undo", "p1.undo"};
	static const char *const sizes[] = {"400000", "400000", "400000"};
	th_env *t = th_begin();
	dtx_client *c;
	dtx_tx_info info;

	/* 400000 bytes fit --max-result; three of them are past the
	 * transaction's budget (1 MiB less names and errors) */
	th_dtxd_start(t, "--max-result", "400000", "--action-max-attempts", "2",
	              NULL);
	th_participant_start(t, "p1", NULL);
	c = short_client(t);
	cr_assert_eq(big_saga(t, c, "big2", 3, acts, comps, sizes, &info),
	             DTX_OK);
	cr_assert_eq(info.state, DTX_TX_COMPENSATED);
	cr_assert_eq(info.failed_step, 2);
	cr_assert(strstr(info.steps[2].last_error, "past their budget"),
	          "last_error: %s", info.steps[2].last_error);
	cr_assert_eq(dtx_client_query(c, "big2", 0, &info), DTX_OK);
	dtx_client_close(c);
	th_end(t);
}

Test(hostile_engine, a_compensation_with_a_big_result_succeeds_without_it)
{
	static const char *const acts[] = {"p1.do", "p1.do", "p1.fail"};
	static const char *const comps[] = {"p1.bigresult", "p1.bigresult",
	                                    "p1.undo"};
	static const char *const sizes[] = {"600000", "600000", NULL};
	th_env *t = th_begin();
	dtx_client *c;
	dtx_tx_info info;

	th_dtxd_start(t, NULL);
	th_participant_start(t, "p1", NULL);
	c = short_client(t);
	cr_assert_eq(big_saga(t, c, "big3", 3, acts, comps, sizes, &info),
	             DTX_OK);
	cr_assert_eq(info.state, DTX_TX_COMPENSATED);
	cr_assert(strstr(info.steps[0].last_error, "dropped"), "last_error: %s",
	          info.steps[0].last_error);
	cr_assert_str_eq(th_journal_story(t, "big3"),
	                 "p1.do:ok p1.do:ok p1.fail:fail p1.bigresult:ok "
	                 "p1.bigresult:ok");
	dtx_client_close(c);
	th_end(t);
}

Test(hostile_engine, a_log_with_huge_results_is_still_answered)
{
	static const char *const acts[] = {"p1.bigresult", "p1.bigresult"};
	static const char *const comps[] = {"p1.undo", "p1.undo"};
	static const char *const sizes[] = {"600000", "600000"};
	th_env *t = th_begin();
	dtx_client_opts opts;
	dtx_client *c;
	dtx_tx_info info;
	nng_socket s;
	crafted q;
	Dtx__V1__ClientReply *rep;

	/* As an older dtxd: results of 1.2 MB in one transaction. */
	th_dtxd_start(t, "--max-msg-bytes", "4194304", "--max-result",
	              "1000000", NULL);
	th_participant_start(t, "p1", NULL);
	dtx_client_opts_init(&opts);
	opts.max_msg_bytes = 4u << 20;
	cr_assert_eq(dtx_client_open(t->dtxd_url, &opts, &c), DTX_OK);
	cr_assert_eq(big_saga(t, c, "old1", 2, acts, comps, sizes, &info),
	             DTX_OK);
	cr_assert_eq(info.state, DTX_TX_COMMITTED);
	dtx_client_close(c);
	th_proc_crash(t->dtxd);
	/* Now with the default limits (the later flags win). */
	th_dtxd_start(t, "--max-msg-bytes", "1048576", "--max-result", "65536",
	              NULL);
	c = short_client(t);
	cr_assert_eq(dtx_client_query(c, "old1", 0, &info), DTX_OK);
	cr_assert_eq(info.state, DTX_TX_COMMITTED);
	dtx_client_close(c);
	s = raw_open(t->dtxd_url);
	craft_query(&q, "old1");
	rep = client_reply(s, &q.req);
	cr_assert_eq((int)rep->code, DTX_OK);
	cr_assert(rep->message && strstr(rep->message, "left out"),
	          "message: %s", rep->message ? rep->message : "(none)");
	cr_assert(!rep->tx->steps[0]->has_result ||
	                  !rep->tx->steps[1]->has_result,
	          "both results in one reply");
	wire_client_reply_free(rep);
	nng_close(s);
	th_end(t);
}

/* run_dtxd starts dtxd with args and waits for it to exit. */
static int run_dtxd(th_env *t, const char *const *args)
{
	const char *argv[16];
	char dir[PATH_MAX];
	size_t n = 0;
	th_proc *p;

	th_path(t, "log", dir, sizeof(dir));
	argv[n++] = th_exe("DTX_DTXD");
	argv[n++] = "--log-dir";
	argv[n++] = dir;
	argv[n++] = "--listen";
	argv[n++] = "tcp://127.0.0.1:0";
	argv[n++] = "--admin";
	argv[n++] = "none";
	while (*args != NULL && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	p = th_spawn(t, "dtxd", argv);
	if (!th_proc_wait(p, 5000)) {
		th_proc_crash(p);
		cr_assert_fail("dtxd kept running");
	}
	return th_proc_exit_code(p);
}

Test(hostile_engine, flags_that_allow_a_reply_past_the_limit_are_refused)
{
	static const char *const big_result[] = {"--max-result", "2000000",
	                                         NULL};
	static const char *const many_steps[] = {"--max-steps", "4096", NULL};
	th_env *t = th_begin();

	cr_assert_eq(run_dtxd(t, many_steps), 64);
	cr_assert(th_log_contains(t, "dtxd", "lower --max-steps"));
	cr_assert_eq(run_dtxd(t, big_result), 64);
	cr_assert(th_log_contains(t, "dtxd",
	                          "--max-result 2000000 does not "
	                          "fit in a reply"));
	th_end(t);
}

/* ---- the wrong endpoint, and admin integers ---------------------------- */

static void craft_admin(Dtx__V1__AdminRequest *req)
{
	dtx__v1__admin_request__init(req);
	req->has_version = true;
	req->version = DTX__V1__VERSION__VERSION_1;
}

Test(hostile_engine, a_request_on_the_wrong_endpoint_is_named_as_such)
{
	th_env *t = th_begin();
	char admin[TH_URL_MAX];
	Dtx__V1__AdminRequest areq;
	Dtx__V1__AdminStats stats = DTX__V1__ADMIN_STATS__INIT;
	Dtx__V1__AdminReply *arep;
	nng_socket cs, as;
	crafted q;

	th_url(t, "admin", admin, sizeof(admin));
	th_dtxd_start(t, "--admin", admin, NULL);
	cs = raw_open(t->dtxd_url);
	as = raw_open(admin);
	craft_admin(&areq);
	areq.body_case = DTX__V1__ADMIN_REQUEST__BODY_STATS;
	areq.stats = &stats;
	/* dtxctl's request on the client endpoint */
	{
		size_t len;
		void *buf = raw_call(cs, &areq.base, &len);
		Dtx__V1__ClientReply *rep;

		cr_assert_eq(wire_client_reply_decode(buf, len, &rep, NULL, 0),
		             DTX_OK);
		nng_free(buf, len);
		expect_code(rep, DTX_EPROTO,
		            "an admin request (dtxctl) sent to the client "
		            "endpoint");
	}
	/* the SDK's request on the admin endpoint */
	craft_query(&q, "nothing-here");
	{
		size_t len;
		void *buf = raw_call(as, &q.req.base, &len);

		cr_assert_eq(wire_admin_reply_decode(buf, len, &arep, NULL, 0),
		             DTX_OK);
		nng_free(buf, len);
	}
	cr_assert_eq((int)arep->code, DTX_EPROTO);
	cr_assert(arep->message && strstr(arep->message,
	                                  "a client request (libdtx) sent to "
	                                  "the admin endpoint"),
	          "message: %s", arep->message ? arep->message : "(none)");
	wire_admin_reply_free(arep);
	/* a TCC submit reads as AdminStats with unknown fields: not served */
	craft_tcc(&q, "t-wrong", NOWHERE_URL, 1);
	{
		size_t len;
		void *buf = raw_call(as, &q.req.base, &len);

		cr_assert_eq(wire_admin_reply_decode(buf, len, &arep, NULL, 0),
		             DTX_OK);
		nng_free(buf, len);
	}
	cr_assert_eq((int)arep->code, DTX_EPROTO, "code %d: %s",
	             (int)arep->code, arep->message ? arep->message : "");
	wire_admin_reply_free(arep);
	/* AdminShow{gid} is also a saga without steps: its error, a hint */
	craft_saga(&q, "s-wrong", NOWHERE_URL, 0);
	q.req.has_wait_ms = false;
	expect_code(client_reply(cs, &q.req), DTX_EINVAL,
	            "saga has no steps (or an admin request (dtxctl)");
	craft_query(&q, "nothing-here");
	/* each endpoint still serves its own */
	expect_code(client_reply(cs, &q.req), DTX_ENOENT, NULL);
	arep = admin_reply(as, &areq);
	cr_assert_eq((int)arep->code, DTX_OK);
	wire_admin_reply_free(arep);
	nng_close(cs);
	nng_close(as);
	th_end(t);
}

/* list_count lists every transaction older than ms (has: filter on it). */
static size_t list_count(nng_socket as, bool has, uint64_t ms)
{
	Dtx__V1__AdminRequest req;
	Dtx__V1__AdminList list = DTX__V1__ADMIN_LIST__INIT;
	Dtx__V1__AdminFilter f = DTX__V1__ADMIN_FILTER__INIT;
	Dtx__V1__AdminReply *rep;
	size_t n;

	craft_admin(&req);
	req.body_case = DTX__V1__ADMIN_REQUEST__BODY_LIST;
	req.list = &list;
	list.filter = &f;
	f.has_include_final = f.include_final = true;
	f.has_older_than_ms = has;
	f.older_than_ms = ms;
	rep = admin_reply(as, &req);
	cr_assert_eq((int)rep->code, DTX_OK, "list: %s",
	             rep->message ? rep->message : "");
	n = rep->n_txs;
	wire_admin_reply_free(rep);
	return n;
}

Test(hostile_engine, admin_integers_at_their_limits_do_not_wrap)
{
	th_env *t = th_begin();
	char admin[TH_URL_MAX];
	Dtx__V1__AdminRequest req;
	Dtx__V1__AdminWatch w = DTX__V1__ADMIN_WATCH__INIT;
	Dtx__V1__AdminReply *rep;
	dtx_tx_info info;
	nng_socket as;

	th_url(t, "admin", admin, sizeof(admin));
	th_dtxd_start(t, "--admin", admin, NULL);
	th_participant_start(t, "p1", NULL);
	th_run(t, "o1", "p1.do/p1.undo", &info);
	as = raw_open(admin);
	cr_assert_eq(list_count(as, false, 0), 1);
	/* older than 2^64-1 ms, or 2^63 ms: older than the epoch, none */
	cr_assert_eq(list_count(as, true, UINT64_MAX), 0);
	cr_assert_eq(list_count(as, true, (uint64_t)INT64_MAX + 1), 0);
	cr_assert_eq(list_count(as, true, (uint64_t)INT64_MAX), 0);
	/* a watch cursor at 2^64-1 is one of an earlier run: no wrap to 0 */
	craft_admin(&req);
	req.body_case = DTX__V1__ADMIN_REQUEST__BODY_WATCH;
	req.watch = &w;
	w.has_after_seq = true;
	w.after_seq = UINT64_MAX;
	rep = admin_reply(as, &req);
	cr_assert_eq((int)rep->code, DTX_OK);
	cr_assert_null(rep->message, "watch: %s", rep->message);
	cr_assert_gt(rep->n_events, 0);
	wire_admin_reply_free(rep);
	nng_close(as);
	th_end(t);
}
