/*
 * bad_input_test.c - bad input gets a clear error and changes nothing
 * (DESIGN.md, rule 7).
 *
 * The SDK refuses most bad requests before they leave the process, so these
 * tests talk to dtxd and to a participant over a raw nng REQ socket and
 * craft the messages with the generated protobuf-c structs. Every case ends
 * by checking that dtxd still answers and that no transaction was logged.
 * The command-line and log-file cases start dtxd and expect it to refuse to
 * run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <nng/nng.h>

#include "harness.h"
#include "rawwire.h"
#include "wire.h"

#define MAX_STEPS     "8"
#define MAX_MSG       "65536"
#define BIG_MSG       (200 * 1024)
#define REPLY_MS      5000
#define NO_REPLY_MS   1000
#define NOWHERE_URL   "tcp://127.0.0.1:9"
#define GARBAGE_BYTES 65536

TestSuite(bad_input, .fini = th_teardown, .timeout = 90);

/* ---- raw REQ socket ---------------------------------------------------- */

/* raw_call sends len bytes and waits up to timeout_ms for the reply (a new
 * nng buffer in *ret_buf, freed with nng_free). Returns an nng error. */
static int raw_call(nng_socket s, const void *buf, size_t len, int timeout_ms,
                    void **ret_buf, size_t *ret_len)
{
	int rv;

	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, timeout_ms);
	nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, REPLY_MS);
	rv = nng_send(s, (void *)buf, len, 0);
	if (rv != 0)
		return rv;
	return nng_recv(s, ret_buf, ret_len, NNG_FLAG_ALLOC);
}

/* client_call sends a crafted ClientRequest (or any bytes) to dtxd and
 * returns the code of its ClientReply; the reply must come and decode. */
static int client_call(nng_socket s, const void *buf, size_t len)
{
	Dtx__V1__ClientReply *reply;
	char why[256];
	void *rbuf;
	size_t rlen;
	int rv, code;

	rv = raw_call(s, buf, len, REPLY_MS, &rbuf, &rlen);
	cr_assert_eq(rv, 0, "no reply from dtxd: %s", nng_strerror(rv));
	rv = wire_client_reply_decode(rbuf, rlen, &reply, why, sizeof(why));
	nng_free(rbuf, rlen);
	cr_assert_eq(rv, DTX_OK, "dtxd's reply does not decode: %s", why);
	cr_assert(reply->has_code, "reply without a code");
	code = (int)reply->code;
	if (code != DTX__V1__CODE__CODE_OK)
		cr_assert(reply->message != NULL && reply->message[0] != '\0',
		          "error %d came without a message", code);
	wire_client_reply_free(reply);
	return code;
}

static int client_call_msg(nng_socket s, const ProtobufCMessage *msg)
{
	uint8_t *buf;
	size_t len;
	int code;

	cr_assert_eq(wire_pack_alloc(msg, &buf, &len), DTX_OK);
	code = client_call(s, buf, len);
	free(buf);
	return code;
}

/* ---- crafted client requests ------------------------------------------- */

/* A submit of nsteps steps for gid (NULL = absent), ready to be spoiled.
 * It points at string literals (protobuf-c's char * fields are never
 * written through when packing) and owns nothing. */
typedef struct crafted {
	Dtx__V1__ClientRequest req;
	Dtx__V1__SubmitSaga submit;
	Dtx__V1__SagaStep step[16];
	Dtx__V1__SagaStep *steps[16];
} crafted;

static void craft_submit(crafted *c, const char *gid, size_t nsteps)
{
	cr_assert_leq(nsteps, 16);
	dtx__v1__client_request__init(&c->req);
	dtx__v1__submit_saga__init(&c->submit);
	c->req.has_version = true;
	c->req.version = DTX__V1__VERSION__VERSION_1;
	c->req.body_case = DTX__V1__CLIENT_REQUEST__BODY_SUBMIT;
	c->req.submit = &c->submit;
	c->submit.gid = (char *)gid;
	for (size_t i = 0; i < nsteps; i++) {
		dtx__v1__saga_step__init(&c->step[i]);
		c->step[i].participant_url = (char *)NOWHERE_URL;
		c->step[i].action = (char *)"p1.do";
		c->step[i].compensate = (char *)"p1.undo";
		c->steps[i] = &c->step[i];
	}
	c->submit.n_steps = nsteps;
	c->submit.steps = c->steps;
}

static int send_query(nng_socket s, const char *gid)
{
	Dtx__V1__ClientRequest req;
	Dtx__V1__Query q;

	dtx__v1__client_request__init(&req);
	dtx__v1__query__init(&q);
	req.has_version = true;
	req.version = DTX__V1__VERSION__VERSION_1;
	req.body_case = DTX__V1__CLIENT_REQUEST__BODY_QUERY;
	req.query = &q;
	q.gid = (char *)gid;
	return client_call_msg(s, &req.base);
}

static char long_gid[DTX_GID_MAX + 2]; /* 129 bytes */

/* One bad request: how to spoil it, what dtxd must answer, and a gid to
 * look up afterwards (NULL when the request has none a query can name). */
typedef struct bad_case {
	const char *what;
	int want;
	int also_ok; /* a second acceptable code, or -1 */
	const char *gid;
	void (*spoil)(crafted *c);
} bad_case;

static void spoil_version(crafted *c)
{
	c->req.version = 2;
}

static void spoil_no_version(crafted *c)
{
	c->req.has_version = false;
}

static void spoil_no_steps(crafted *c)
{
	c->submit.n_steps = 0;
}

static void spoil_too_many_steps(crafted *c)
{
	c->submit.n_steps = 9; /* dtxd runs with --max-steps 8 */
}

static void spoil_empty_gid(crafted *c)
{
	c->submit.gid = (char *)"";
}

static void spoil_long_gid(crafted *c)
{
	memset(long_gid, 'g', DTX_GID_MAX + 1);
	long_gid[DTX_GID_MAX + 1] = '\0';
	c->submit.gid = long_gid;
}

static void spoil_gid_charset(crafted *c)
{
	c->submit.gid = (char *)"bad gid!";
}

static void spoil_handler_charset(crafted *c)
{
	c->step[1].action = (char *)"p1 do!";
}

static void spoil_compensate_missing(crafted *c)
{
	c->step[0].compensate = NULL;
}

static void spoil_empty_url(crafted *c)
{
	c->step[0].participant_url = (char *)"";
}

static void spoil_no_body(crafted *c)
{
	c->req.body_case = DTX__V1__CLIENT_REQUEST__BODY__NOT_SET;
}

static const bad_case bad_cases[] = {
        {"wrong version", DTX_EVERSION, -1, "bad-version", spoil_version},
        {"no version", DTX_EVERSION, DTX_EPROTO, "bad-noversion",
         spoil_no_version},
        {"no steps", DTX_EINVAL, -1, "bad-nosteps", spoil_no_steps},
        {"more than --max-steps", DTX_ETOOBIG, -1, "bad-toomany",
         spoil_too_many_steps},
        {"empty gid", DTX_EINVAL, -1, NULL, spoil_empty_gid},
        {"129-byte gid", DTX_ETOOBIG, -1, NULL, spoil_long_gid},
        {"gid outside the charset", DTX_EINVAL, -1, NULL, spoil_gid_charset},
        {"handler outside the charset", DTX_EINVAL, -1, "bad-handler",
         spoil_handler_charset},
        {"missing compensation", DTX_EINVAL, DTX_EPROTO, "bad-nocomp",
         spoil_compensate_missing},
        {"empty participant url", DTX_EINVAL, -1, "bad-url", spoil_empty_url},
};

#define NCASES (sizeof(bad_cases) / sizeof(bad_cases[0]))

/* send_bad sends the spoiled request and asserts dtxd answered the code the
 * case wants. */
static void send_bad(nng_socket s, const bad_case *bc)
{
	crafted c;
	int code;

	craft_submit(&c, bc->gid != NULL ? bc->gid : "bad-unnamed", 9);
	c.submit.n_steps = 2;
	bc->spoil(&c);
	code = client_call_msg(s, &c.req.base);
	cr_assert(code == bc->want || code == bc->also_ok,
	          "%s: answered %s (%d), want %s (%d)", bc->what,
	          dtx_strerror(code), code, dtx_strerror(bc->want), bc->want);
}

/* assert_untouched checks dtxd still runs, still answers, and logged no
 * transaction for gid (may be NULL). */
static void assert_untouched(th_env *t, nng_socket s, const char *gid)
{
	cr_assert(th_proc_is_alive(t->dtxd), "dtxd died");
	if (gid != NULL)
		cr_assert_eq(send_query(s, gid), DTX_ENOENT,
		             "a transaction %s was logged", gid);
	cr_assert_eq(send_query(s, "still-there"), DTX_ENOENT);
}

static th_env *start_strict_dtxd(void)
{
	th_env *t = th_begin();

	th_dtxd_start(t, "--max-steps", MAX_STEPS, "--max-msg-bytes", MAX_MSG,
	              NULL);
	return t;
}

ParameterizedTestParameters(bad_input, invalid_request_gets_its_code)
{
	static size_t idx[NCASES];

	for (size_t i = 0; i < NCASES; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NCASES);
}

ParameterizedTest(size_t *i, bad_input, invalid_request_gets_its_code)
{
	const bad_case *bc = &bad_cases[*i];
	th_env *t = start_strict_dtxd();
	nng_socket s = rw_open(t->dtxd_url, 0);

	send_bad(s, bc);
	assert_untouched(t, s, bc->gid);
	nng_close(s);
	th_end(t);
}

Test(bad_input, garbage_bytes_get_eproto)
{
	static const char garbage[] = "\xff\xff\xff\xff not a protobuf \x07";
	th_env *t = start_strict_dtxd();
	nng_socket s = rw_open(t->dtxd_url, 0);
	int code;

	cr_assert_eq(client_call(s, garbage, sizeof(garbage) - 1), DTX_EPROTO);
	/* An empty message is a valid encoding of an empty ClientRequest, so
	 * "version missing" is as right an answer as "not a request". */
	code = client_call(s, "", 0);
	cr_assert(code == DTX_EPROTO || code == DTX_EVERSION,
	          "an empty message got %s", dtx_strerror(code));
	assert_untouched(t, s, NULL);
	nng_close(s);
	th_end(t);
}

Test(bad_input, request_without_a_body_is_refused)
{
	th_env *t = start_strict_dtxd();
	nng_socket s = rw_open(t->dtxd_url, 0);
	crafted c;
	int code;

	craft_submit(&c, "bad-nobody", 1);
	spoil_no_body(&c);
	code = client_call_msg(s, &c.req.base);
	cr_assert(code == DTX_EINVAL || code == DTX_EPROTO, "answered %s",
	          dtx_strerror(code));
	assert_untouched(t, s, "bad-nobody");
	nng_close(s);
	th_end(t);
}

/* send_oversized sends a well-formed submit for gid "big-1" carrying a
 * BIG_MSG payload, past dtxd's --max-msg-bytes; nng drops it. */
static void send_oversized(nng_socket s)
{
	uint8_t *payload = calloc(1, BIG_MSG), *buf;
	void *rbuf = NULL;
	size_t len, rlen;
	crafted c;
	int rv;

	cr_assert_not_null(payload);
	craft_submit(&c, "big-1", 1);
	c.step[0].has_payload = true;
	c.step[0].payload.data = payload;
	c.step[0].payload.len = BIG_MSG;
	cr_assert_eq(wire_pack_alloc(&c.req.base, &buf, &len), DTX_OK);
	cr_assert_gt(len, BIG_MSG);
	rv = raw_call(s, buf, len, NO_REPLY_MS, &rbuf, &rlen);
	if (rv == 0)
		nng_free(rbuf, rlen);
	cr_assert_neq(rv, 0, "dtxd answered a %zu-byte message", len);
	free(buf);
	free(payload);
}

Test(bad_input, oversized_message_is_dropped_and_dtxd_keeps_serving)
{
	th_env *t = start_strict_dtxd();
	nng_socket s = rw_open(t->dtxd_url, 0);

	send_oversized(s);
	assert_untouched(t, s, "big-1");
	nng_close(s);
	th_end(t);
}

Test(bad_input, a_run_of_bad_requests_leaves_the_log_empty)
{
	th_env *t = start_strict_dtxd();
	nng_socket s = rw_open(t->dtxd_url, 0);
	dtx_client *client;
	dtx_tx_info info;

	for (size_t i = 0; i < NCASES; i++)
		send_bad(s, &bad_cases[i]);
	cr_assert_eq(client_call(s, "\x0a\xff", 2), DTX_EPROTO);
	send_oversized(s);
	nng_close(s);

	/* Ask through the SDK too, after a restart: nothing may have reached
	 * the log on disk either. */
	th_dtxd_restart(t);
	client = th_client(t);
	for (size_t i = 0; i < NCASES; i++)
		if (bad_cases[i].gid != NULL)
			cr_assert_eq(dtx_client_query(client, bad_cases[i].gid,
			                              0, &info),
			             DTX_ENOENT, "%s was logged",
			             bad_cases[i].gid);
	cr_assert_eq(dtx_client_query(client, "big-1", 0, &info), DTX_ENOENT);
	cr_assert(th_proc_is_alive(t->dtxd));
	th_end(t);
}

Test(bad_input, requests_exactly_at_the_limits_are_accepted)
{
	th_env *t = start_strict_dtxd();
	char gid[DTX_GID_MAX + 1];
	dtx_tx_info info;

	memset(gid, 'g', DTX_GID_MAX);
	gid[DTX_GID_MAX] = '\0';
	th_participant_start(t, "p1", NULL);
	th_run(t, gid,
	       "p1.do/p1.undo p1.do/p1.undo p1.do/p1.undo p1.do/p1.undo "
	       "p1.do/p1.undo p1.do/p1.undo p1.do/p1.undo p1.do/p1.undo",
	       &info);
	cr_assert_eq(info.state, DTX_TX_COMMITTED);
	cr_assert_eq(info.nsteps, 8);
	cr_assert_str_eq(info.gid, gid);
	th_end(t);
}

/* ---- participants ------------------------------------------------------ */

/* branch_call sends a BranchCall to a participant and returns its status, or
 * 0 if no (decodable) reply came within timeout_ms. *ret_result gets a copy
 * of the result text when there is one. */
static int branch_call(nng_socket s, const Dtx__V1__BranchCall *call,
                       int timeout_ms, char *result, size_t resultlen)
{
	Dtx__V1__BranchReply *reply;
	uint8_t *buf;
	void *rbuf;
	size_t len, rlen;
	int rv, status;

	cr_assert_eq(wire_pack_alloc(&call->base, &buf, &len), DTX_OK);
	rv = raw_call(s, buf, len, timeout_ms, &rbuf, &rlen);
	free(buf);
	if (rv != 0)
		return 0;
	rv = wire_branch_reply_decode(rbuf, rlen, &reply, NULL, 0);
	nng_free(rbuf, rlen);
	if (rv != DTX_OK)
		return 0;
	status = reply->has_status ? (int)reply->status : 0;
	if (result != NULL)
		snprintf(result, resultlen, "%.*s",
		         reply->has_result ? (int)reply->result.len : 0,
		         reply->has_result ? (char *)reply->result.data : "");
	wire_branch_reply_free(reply);
	return status;
}

static void craft_call(Dtx__V1__BranchCall *call, const char *gid)
{
	dtx__v1__branch_call__init(call);
	call->has_version = true;
	call->version = DTX__V1__VERSION__VERSION_1;
	call->gid = (char *)gid;
	call->has_branch = true;
	call->branch = 0;
	call->has_op = true;
	call->op = DTX__V1__OP__OP_ACTION;
	call->handler = (char *)"p1.do";
	call->has_attempt = true;
	call->attempt = 1;
}

/* assert_serves_next_call sends a valid call and checks the answer and that
 * it is the only call the participant journaled. */
static void assert_serves_next_call(th_env *t, nng_socket s)
{
	Dtx__V1__BranchCall call;
	th_jline *lines;
	char result[64];

	craft_call(&call, "good-1");
	cr_assert_eq(branch_call(s, &call, REPLY_MS, result, sizeof(result)),
	             DTX__V1__BRANCH_STATUS__BRANCH_OK);
	cr_assert_str_eq(result, "p1 done");
	cr_assert_eq(th_journal_read(t, &lines), 1,
	             "the participant journaled more than the valid call");
	cr_assert_str_eq(lines[0].gid, "good-1");
	cr_assert_str_eq(lines[0].handler, "p1.do");
	free(lines);
	cr_assert(th_proc_is_alive(t->parts[0].proc));
}

/* assert_not_served: a bad call may be dropped (no reply) or refused, but
 * never answered OK, and no handler runs. */
static void assert_not_served(int status, const char *what)
{
	cr_assert_neq(status, DTX__V1__BRANCH_STATUS__BRANCH_OK,
	              "participant answered OK to %s", what);
}

Test(bad_input, participant_ignores_garbage_and_serves_the_next_call)
{
	static const char garbage[] = "\xff\xfe garbage \x00\x01";
	th_env *t = th_begin();
	void *rbuf;
	size_t rlen;
	nng_socket s;
	int rv;

	th_participant_start(t, "p1", NULL);
	s = rw_open(th_participant_url(t, "p1"), 0);
	rv = raw_call(s, garbage, sizeof(garbage) - 1, NO_REPLY_MS, &rbuf,
	              &rlen);
	if (rv == 0) {
		Dtx__V1__BranchReply *reply = NULL;

		if (wire_branch_reply_decode(rbuf, rlen, &reply, NULL, 0) ==
		    DTX_OK)
			assert_not_served(reply->has_status ? (int)reply->status
			                                    : 0,
			                  "garbage");
		wire_branch_reply_free(reply);
		nng_free(rbuf, rlen);
	}
	assert_serves_next_call(t, s);
	nng_close(s);
	th_end(t);
}

Test(bad_input, participant_refuses_invalid_calls_and_serves_the_next_call)
{
	th_env *t = th_begin();
	Dtx__V1__BranchCall call;
	nng_socket s;

	th_participant_start(t, "p1", NULL);
	s = rw_open(th_participant_url(t, "p1"), 0);

	craft_call(&call, "bad-op");
	call.op = (Dtx__V1__Op)99;
	assert_not_served(branch_call(s, &call, NO_REPLY_MS, NULL, 0), "op 99");
	craft_call(&call, "bad-handler");
	call.handler = (char *)"p1 do!";
	assert_not_served(branch_call(s, &call, NO_REPLY_MS, NULL, 0),
	                  "a handler outside the charset");
	craft_call(&call, "bad-version");
	call.version = 7;
	assert_not_served(branch_call(s, &call, NO_REPLY_MS, NULL, 0),
	                  "version 7");
	craft_call(&call, "bad gid!");
	assert_not_served(branch_call(s, &call, NO_REPLY_MS, NULL, 0),
	                  "a gid outside the charset");

	assert_serves_next_call(t, s);
	nng_close(s);
	th_end(t);
}

/* ---- dtxd refuses to start --------------------------------------------- */

/* run_dtxd runs dtxd with argv (after the program) and returns its exit
 * code; it must exit within 10 s. */
static int run_dtxd(th_env *t, const char *const *args)
{
	const char *argv[16];
	th_proc *p;
	size_t n = 0;

	argv[n++] = th_exe("DTX_DTXD");
	while (*args != NULL && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	p = th_spawn(t, "dtxd", argv);
	cr_assert(th_proc_wait(p, 10000), "dtxd kept running");
	return th_proc_exit_code(p);
}

Test(bad_input, dtxd_with_an_unknown_flag_exits_64)
{
	static const char *const unknown[] = {"--log-dir", "/nonexistent",
	                                      "--no-such-flag", NULL};
	static const char *const bad_number[] = {"--log-dir", "/nonexistent",
	                                         "--max-steps", "many", NULL};
	static const char *const no_log_dir[] = {"--listen",
	                                         "tcp://127.0.0.1:0", NULL};
	th_env *t = th_begin();

	cr_assert_eq(run_dtxd(t, unknown), 64);
	cr_assert_eq(run_dtxd(t, bad_number), 64);
	cr_assert_eq(run_dtxd(t, no_log_dir), 64);
	th_end(t);
}

static void fill_garbage(uint8_t *buf, size_t len)
{
	uint32_t x = 2463534242u; /* xorshift32: fixed, reproducible bytes */

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
}

static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static bool file_equals(const char *path, const void *buf, size_t len)
{
	uint8_t *now = malloc(len + 1);
	ssize_t n;
	bool same;
	int fd = open(path, O_RDONLY);

	cr_assert_not_null(now);
	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	n = read(fd, now, len + 1);
	close(fd);
	same = n == (ssize_t)len && memcmp(now, buf, len) == 0;
	free(now);
	return same;
}

static bool file_contains(const char *path, const char *needle)
{
	char buf[16384];
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

Test(bad_input, dtxd_refuses_a_log_that_is_not_lmdb_and_leaves_it_alone)
{
	th_env *t = th_begin();
	uint8_t *garbage = malloc(GARBAGE_BYTES);
	char data[PATH_MAX], url[TH_URL_MAX];
	const char *args[] = {"--log-dir", t->log_dir, "--listen", url, NULL};
	int code;

	if (t->pg_store) { /* the postgres suite: not for that store */
		th_end(t);
		cr_skip_test("an LMDB directory only");
	}

	cr_assert_not_null(garbage);
	fill_garbage(garbage, GARBAGE_BYTES);
	cr_assert_eq(mkdir(t->log_dir, 0755), 0);
	th_path(t, "log/data.mdb", data, sizeof(data));
	write_file(data, garbage, GARBAGE_BYTES);
	th_url(t, "dtxd", url, sizeof(url));

	code = run_dtxd(t, args);
	cr_assert_gt(code, 0, "dtxd exited with %d", code);
	cr_assert(file_contains(t->procs[0].out_path, "data.mdb"),
	          "dtxd's message does not name data.mdb");
	cr_assert(file_equals(data, garbage, GARBAGE_BYTES), "dtxd changed %s",
	          data);
	free(garbage);
	th_end(t);
}
