/*
 * hostile_wire_test.c - hostile bytes on the wire (issue 13): a message
 * nested 10,000 deep, strings with a NUL byte, URLs the coordinator cannot
 * dial, a per-call timeout past nng's range, and every kind of invalid
 * branch call; peers that connect and close before the handshake, which
 * stopped nng 1.5.2's listeners for good. Each goes to a real process
 * over a real socket; each case ends by checking that the process is
 * alive and still serves.
 *
 * The "evil participant" is a rep0 socket served by a thread of this test:
 * it answers every call dtxd sends with the bytes the test chose (a
 * BranchReply nested 10,000 deep), and plain OK once told to behave.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "harness.h"
#include "rawwire.h"
#include "wire.h"

#define REPLY_MS   5000
#define DEEP       10000 /* the audit's depth: 34 KB, 17,000 frames */
#define SEEN_CALLS 3

TestSuite(hostile_wire, .fini = th_teardown, .timeout = 120);

/* ---- raw sockets ------------------------------------------------------- */

/* client_ask sends a ClientRequest's bytes to dtxd and returns the code
 * of the reply; its message is copied into why (may be NULL). */
static int client_ask(nng_socket s, const void *buf, size_t len, char *why,
                      size_t whylen)
{
	Dtx__V1__ClientReply *reply = NULL;
	size_t rlen;
	void *rbuf = rw_exchange(s, buf, len, &rlen);
	int code;

	cr_assert_eq(wire_client_reply_decode(rbuf, rlen, &reply, NULL, 0),
	             DTX_OK, "dtxd's reply does not decode");
	nng_free(rbuf, rlen);
	code = (int)reply->code;
	if (why != NULL)
		snprintf(why, whylen, "%s",
		         reply->message != NULL ? reply->message : "");
	wire_client_reply_free(reply);
	return code;
}

static int client_ask_msg(nng_socket s, const ProtobufCMessage *m, char *why,
                          size_t whylen)
{
	uint8_t *buf;
	size_t len;
	int code;

	cr_assert_eq(wire_pack_alloc(m, &buf, &len), DTX_OK);
	code = client_ask(s, buf, len, why, whylen);
	free(buf);
	return code;
}

/* ---- crafted requests -------------------------------------------------- */

typedef struct submit1 {
	Dtx__V1__ClientRequest req;
	Dtx__V1__SubmitSaga submit;
	Dtx__V1__SagaStep step;
	Dtx__V1__SagaStep *steps[1];
} submit1;

/* craft_submit1 makes a one-step saga for gid at url (borrowed). */
static void craft_submit1(submit1 *c, const char *gid, const char *url)
{
	dtx__v1__client_request__init(&c->req);
	dtx__v1__submit_saga__init(&c->submit);
	dtx__v1__saga_step__init(&c->step);
	c->req.has_version = true;
	c->req.version = DTX__V1__VERSION__VERSION_1;
	c->req.body_case = DTX__V1__CLIENT_REQUEST__BODY_SUBMIT;
	c->req.submit = &c->submit;
	c->submit.gid = (char *)gid;
	c->step.participant_url = (char *)url;
	c->step.action = (char *)"p1.do";
	c->step.compensate = (char *)"p1.undo";
	c->steps[0] = &c->step;
	c->submit.n_steps = 1;
	c->submit.steps = c->steps;
}

static int query_code(nng_socket s, const char *gid)
{
	Dtx__V1__ClientRequest req = DTX__V1__CLIENT_REQUEST__INIT;
	Dtx__V1__Query q = DTX__V1__QUERY__INIT;

	req.has_version = true;
	req.version = DTX__V1__VERSION__VERSION_1;
	req.body_case = DTX__V1__CLIENT_REQUEST__BODY_QUERY;
	req.query = &q;
	q.gid = (char *)gid;
	return client_ask_msg(s, &req.base, NULL, 0);
}

/* nested builds a message of depth levels: the innermost is inner (n
 * bytes), each level around it is a batch item (field 5 of BranchReply if
 * reply, else field 8 of BranchCall), the outermost with version 1. The
 * caller frees it. */
static uint8_t *nested(bool reply, size_t depth, const uint8_t *inner, size_t n,
                       size_t *ret_len)
{
	size_t cap = depth * 12 + n + 16, len = n;
	uint8_t *buf = malloc(cap), *tmp = malloc(cap);

	cr_assert(buf != NULL && tmp != NULL);
	memcpy(buf, inner, n);
	for (size_t d = 1; d < depth; d++) {
		size_t h = wire_batch_item_head(tmp, reply, len);

		memcpy(tmp + h, buf, len);
		memcpy(buf, tmp, h + len);
		len += h;
	}
	memmove(buf + wire_batch_head_size(), buf, len);
	wire_batch_head(buf);
	free(tmp);
	*ret_len = len + wire_batch_head_size();
	return buf;
}

/* ---- the evil participant ---------------------------------------------- */

typedef struct evil {
	nng_socket sock;
	pthread_t thread;
	atomic_uint calls;  /* calls answered */
	atomic_bool behave; /* answer OK from now on */
	atomic_bool stop;
	uint8_t *bad; /* the hostile answer */
	size_t bad_len;
} evil;

static void evil_answer_ok(evil *e, nng_msg *m)
{
	Dtx__V1__BranchReply r = DTX__V1__BRANCH_REPLY__INIT;
	uint8_t buf[16];
	size_t len;

	r.has_version = true;
	r.version = DTX__V1__VERSION__VERSION_1;
	r.has_status = true;
	r.status = DTX__V1__BRANCH_STATUS__BRANCH_OK;
	len = wire_packed_size(&r.base);
	wire_pack(&r.base, buf);
	nng_msg_clear(m);
	nng_msg_append(m, buf, len);
	(void)e;
}

/* evil_serve answers each request: the hostile bytes, or OK. Batches are
 * answered with one reply (dtxd counts that as a bad answer and resends
 * each call alone, which is then answered right). */
static void *evil_serve(void *arg)
{
	evil *e = arg;

	while (!atomic_load(&e->stop)) {
		nng_msg *m;

		if (nng_recvmsg(e->sock, &m, 0) != 0)
			continue;
		if (atomic_load(&e->behave)) {
			evil_answer_ok(e, m);
		} else {
			nng_msg_clear(m);
			nng_msg_append(m, e->bad, e->bad_len);
		}
		if (nng_sendmsg(e->sock, m, 0) != 0)
			nng_msg_free(m);
		else
			atomic_fetch_add(&e->calls, 1);
	}
	return NULL;
}

static void evil_start(evil *e, const char *url, uint8_t *bad, size_t len)
{
	memset(e, 0, sizeof(*e));
	e->bad = bad;
	e->bad_len = len;
	cr_assert_eq(nng_rep0_open(&e->sock), 0);
	nng_socket_set_ms(e->sock, NNG_OPT_RECVTIMEO, 100);
	cr_assert_eq(nng_listen(e->sock, url, NULL, 0), 0);
	cr_assert_eq(pthread_create(&e->thread, NULL, evil_serve, e), 0);
}

static void evil_stop(evil *e)
{
	atomic_store(&e->stop, true);
	pthread_join(e->thread, NULL);
	nng_close(e->sock);
	free(e->bad);
}

/* wait_calls waits up to 20 s for e to have answered n calls. */
static void wait_calls(evil *e, unsigned n)
{
	for (int i = 0; i < 2000 && atomic_load(&e->calls) < n; i++)
		usleep(10000);
	cr_assert_geq(atomic_load(&e->calls), n, "dtxd called %u times",
	              atomic_load(&e->calls));
}

Test(hostile_wire, dtxd_survives_a_participant_answering_nested_10000_deep)
{
	static const uint8_t ok[] = {0x08, 0x01, 0x10, 0x01};
	th_env *t = th_begin();
	char url[TH_URL_MAX];
	dtx_client *c;
	dtx_saga *saga;
	dtx_tx_info info;
	size_t len;
	uint8_t *bad = nested(true, DEEP, ok, sizeof(ok), &len);
	evil e;

	th_url(t, "evil", url, sizeof(url));
	evil_start(&e, url, bad, len);
	th_dtxd_start(t, NULL);
	c = th_client(t);
	cr_assert_eq(dtx_saga_create("deep-1", &saga), DTX_OK);
	cr_assert_eq(dtx_saga_add_step(saga, url, "e.do", "e.undo", NULL, 0, 0),
	             DTX_OK);
	cr_assert_eq(dtx_client_submit(c, saga, 0, &info), DTX_OK);
	dtx_saga_destroy(saga);

	/* Each answer is refused as a protocol error and the call backed
	 * off; dtxd stays up, and says why in the step's last error. */
	wait_calls(&e, SEEN_CALLS);
	cr_assert(th_proc_is_alive(t->dtxd), "dtxd died on a nested reply");
	cr_assert_eq(dtx_client_query(c, "deep-1", 0, &info), DTX_OK);
	cr_assert(strstr(info.steps[0].last_error, "nested deeper") != NULL,
	          "last error: %s", info.steps[0].last_error);

	/* The transaction is in the log: the restart calls again, and
	 * survives again (before the fix: dead on 4 of 4 restarts). */
	th_dtxd_restart(t);
	wait_calls(&e, atomic_load(&e.calls) + SEEN_CALLS);
	cr_assert(th_proc_is_alive(t->dtxd), "dtxd died after a restart");

	atomic_store(&e.behave, true);
	cr_assert_eq(dtx_client_query(c, "deep-1", 30000, &info), DTX_OK);
	cr_assert(dtx_tx_state_is_final(info.state), "still %s",
	          dtx_tx_state_name(info.state));
	evil_stop(&e);
	th_end(t);
}

/* ---- an SDK participant answers every invalid message ------------------ */

/* pack_call_at packs a call carrying deadline (unix ms; 0: none). */
static uint8_t *pack_call_at(const char *gid, Dtx__V1__Op op, uint32_t attempt,
                             int64_t deadline, size_t *ret_len);

static uint8_t *pack_call(const char *gid, Dtx__V1__Op op, uint32_t attempt,
                          size_t *ret_len)
{
	return pack_call_at(gid, op, attempt, 0, ret_len);
}

static uint8_t *pack_call_at(const char *gid, Dtx__V1__Op op, uint32_t attempt,
                             int64_t deadline, size_t *ret_len)
{
	Dtx__V1__BranchCall call = DTX__V1__BRANCH_CALL__INIT;
	uint8_t *buf;

	call.has_deadline_unix_ms = deadline != 0;
	call.deadline_unix_ms = deadline;

	call.has_version = true;
	call.version = DTX__V1__VERSION__VERSION_1;
	call.gid = (char *)gid;
	call.has_branch = true;
	call.has_op = true;
	call.op = op;
	call.handler = (char *)"p1.do";
	call.has_attempt = true;
	call.attempt = attempt;
	cr_assert_eq(wire_pack_alloc(&call.base, &buf, ret_len), DTX_OK);
	return buf;
}

/* batch_of packs n copies of a valid call as one batch; the caller frees
 * it. */
static uint8_t *batch_of(size_t n, size_t *ret_len)
{
	size_t clen, len = wire_batch_head_size();
	uint8_t *call = pack_call("batch-1", DTX__V1__OP__OP_ACTION, 1, &clen);
	uint8_t *buf = malloc(len + n * (clen + 11));

	cr_assert_not_null(buf);
	wire_batch_head(buf);
	for (size_t i = 0; i < n; i++) {
		len += wire_batch_item_head(buf + len, false, clen);
		memcpy(buf + len, call, clen);
		len += clen;
	}
	free(call);
	*ret_len = len;
	return buf;
}

/* expect_fail sends len bytes to the participant: the answer must be one
 * BranchReply FAIL "invalid call: ..." naming want. */
static void expect_fail(nng_socket s, uint8_t *buf, size_t len,
                        const char *what, const char *want)
{
	Dtx__V1__BranchReply *r = NULL;
	size_t rlen;
	void *rbuf = rw_exchange(s, buf, len, &rlen);

	cr_assert_eq(wire_branch_reply_decode(rbuf, rlen, &r, NULL, 0), DTX_OK,
	             "%s: the answer is not one BranchReply", what);
	cr_assert_eq(r->status, DTX__V1__BRANCH_STATUS__BRANCH_FAIL, "%s",
	             what);
	cr_assert(r->message != NULL &&
	                  strncmp(r->message, "invalid call: ", 14) == 0 &&
	                  strstr(r->message, want) != NULL,
	          "%s: answered \"%s\"", what, r->message);
	wire_branch_reply_free(r);
	nng_free(rbuf, rlen);
	free(buf);
}

Test(hostile_wire, a_participant_answers_every_invalid_message_and_serves_on)
{
	static const uint8_t garbage[] = "\xff\xfe garbage \x00\x01";
	th_env *t = th_begin();
	uint8_t *buf, *g = malloc(sizeof(garbage)), *call;
	size_t len, clen;
	nng_socket s;
	Dtx__V1__BranchReply *r = NULL;
	void *rbuf;

	th_participant_start(t, "p1", NULL);
	s = rw_open(th_participant_url(t, "p1"), REPLY_MS);
	memcpy(g, garbage, sizeof(garbage));
	expect_fail(s, g, sizeof(garbage) - 1, "garbage", "BranchCall");
	call = pack_call("deep-call", DTX__V1__OP__OP_ACTION, 1, &clen);
	buf = nested(false, DEEP, call, clen, &len);
	free(call);
	expect_fail(s, buf, len, "a call nested 10,000 deep", "nested deeper");
	buf = pack_call("zero", DTX__V1__OP__OP_ACTION, 0, &len);
	expect_fail(s, buf, len, "attempt 0", "attempt");
	buf = pack_call("op99", (Dtx__V1__Op)99, 1, &len);
	expect_fail(s, buf, len, "op 99", "op 99");
	buf = pack_call_at("dl-neg", DTX__V1__OP__OP_ACTION, 1, -1, &len);
	expect_fail(s, buf, len, "a deadline before 1970", "deadline_unix_ms");
	buf = pack_call_at("dl-far", DTX__V1__OP__OP_ACTION, 1, INT64_MAX,
	                   &len);
	expect_fail(s, buf, len, "a deadline past year 9999",
	            "deadline_unix_ms");
	buf = batch_of(1, &len);
	expect_fail(s, buf, len, "a batch of 1", "a batch of 1 calls");
	buf = batch_of(WIRE_BATCH_MAX + 1, &len);
	expect_fail(s, buf, len, "a batch of 65", "a batch of 65 calls");
	call = pack_call("inner", DTX__V1__OP__OP_ACTION, 1, &clen);
	buf = nested(false, 3, call, clen, &len);
	free(call);
	expect_fail(s, buf, len, "a batch inside a batch", "batch");

	/* and the next valid call is served */
	buf = pack_call("good-1", DTX__V1__OP__OP_ACTION, 1, &len);
	rbuf = rw_exchange(s, buf, len, &clen);
	free(buf);
	cr_assert_eq(wire_branch_reply_decode(rbuf, clen, &r, NULL, 0), DTX_OK);
	cr_assert_eq(r->status, DTX__V1__BRANCH_STATUS__BRANCH_OK);
	wire_branch_reply_free(r);
	nng_free(rbuf, clen);
	cr_assert(th_proc_is_alive(t->parts[0].proc));
	nng_close(s);
	th_end(t);
}

/* ---- dtxd refuses what it could never carry out ------------------------ */

Test(hostile_wire, dtxd_refuses_urls_it_cannot_dial_and_names_the_fault)
{
	static const struct {
		const char *url, *says;
	} bad[] = {
	        {"http://127.0.0.1:7001", "scheme \"http\""},
	        {"zt://abc.def:7001", "scheme \"zt\""},
	        {"foo", "no scheme"},
	        {"tcp://127.0.0.1:99999", "port"},
	        {"tcp://127.0.0.1", "HOST:PORT"},
	};
	th_env *t = th_begin();
	char why[256], gid[32];
	submit1 c;
	nng_socket s;

	th_dtxd_start(t, NULL);
	s = rw_open(t->dtxd_url, REPLY_MS);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(gid, sizeof(gid), "url-%zu", i);
		craft_submit1(&c, gid, bad[i].url);
		cr_assert_eq(client_ask_msg(s, &c.req.base, why, sizeof(why)),
		             DTX_EINVAL, "%s", bad[i].url);
		cr_assert(strstr(why, bad[i].says) != NULL, "%s: %s",
		          bad[i].url, why);
		cr_assert_eq(query_code(s, gid), DTX_ENOENT, "%s was logged",
		             gid);
	}
	cr_assert(th_proc_is_alive(t->dtxd));
	nng_close(s);
	th_end(t);
}

Test(hostile_wire, dtxd_refuses_a_step_timeout_nng_cannot_hold)
{
	th_env *t = th_begin();
	char why[256];
	submit1 c;
	nng_socket s;

	th_participant_start(t, "p1", NULL);
	th_dtxd_start(t, NULL);
	s = rw_open(t->dtxd_url, REPLY_MS);
	craft_submit1(&c, "long-timeout", th_participant_url(t, "p1"));
	c.step.has_timeout_ms = true;
	c.step.timeout_ms = UINT32_MAX; /* was a 1 ms deadline */
	cr_assert_eq(client_ask_msg(s, &c.req.base, why, sizeof(why)),
	             DTX_EINVAL);
	cr_assert(strstr(why, "timeout_ms") != NULL, "%s", why);
	cr_assert_eq(query_code(s, "long-timeout"), DTX_ENOENT);
	nng_close(s);
	th_end(t);
}

/* A business key and labels come from the network like everything else:
 * over their bounds or malformed, the submit is refused naming the fault,
 * nothing is logged, and dtxd serves on. */
Test(hostile_wire, keys_and_labels_over_their_bounds_are_refused)
{
	th_env *t = th_begin();
	char why[256], big[WIRE_LABEL_MAX + 64], *many[WIRE_LABELS_MAX + 1];
	char names[WIRE_LABELS_MAX + 1][16];
	static const struct {
		const char *gid, *key, *label, *fault;
	} rows[] = {
	        {"k-empty", "", NULL, "key"},
	        {"k-long", "L", NULL, "key"},
	        {"l-noeq", NULL, "nameonly", "label"},
	        {"l-badname", NULL, "bad name=x", "label"},
	        {"l-long", NULL, "B", "label"},
	};
	submit1 c;
	nng_socket s;
	dtx_tx_info info;

	th_participant_start(t, "p1", NULL);
	th_dtxd_start(t, NULL);
	s = rw_open(t->dtxd_url, REPLY_MS);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *label = (char *)rows[i].label;
		char longlabel[sizeof(big) + 8];

		craft_submit1(&c, rows[i].gid, th_participant_url(t, "p1"));
		c.submit.key = (char *)rows[i].key;
		if (c.submit.key != NULL && strcmp(c.submit.key, "L") == 0)
			c.submit.key = big; /* over WIRE_KEY_MAX */
		if (label != NULL && strcmp(label, "B") == 0) {
			snprintf(longlabel, sizeof(longlabel), "n=%s", big);
			label = longlabel;
		}
		if (label != NULL) {
			c.submit.n_labels = 1;
			c.submit.labels = &label;
		}
		cr_assert_neq(client_ask_msg(s, &c.req.base, why, sizeof(why)),
		              DTX_OK, "%s was taken", rows[i].gid);
		cr_assert(strstr(why, rows[i].fault) != NULL, "%s: %s",
		          rows[i].gid, why);
		cr_assert_eq(query_code(s, rows[i].gid), DTX_ENOENT);
	}
	/* one label too many */
	for (size_t i = 0; i <= WIRE_LABELS_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "l%zu=v", i);
		many[i] = names[i];
	}
	craft_submit1(&c, "l-many", th_participant_url(t, "p1"));
	c.submit.n_labels = WIRE_LABELS_MAX + 1;
	c.submit.labels = many;
	cr_assert_eq(client_ask_msg(s, &c.req.base, why, sizeof(why)),
	             DTX_ELIMIT, "%s", why);
	cr_assert_eq(query_code(s, "l-many"), DTX_ENOENT);
	nng_close(s);
	/* and it serves on */
	th_run(t, "after-keys", "p1.do/p1.undo", &info);
	cr_assert_eq(info.state, DTX_TX_COMMITTED);
	th_end(t);
}

/* with_nul packs m and makes byte at of the first occurrence of needle
 * in it a NUL ("nulXtail", 3 -> "nul\0tail"). The caller frees it. */
static uint8_t *with_nul(const ProtobufCMessage *m, const char *needle,
                         size_t at, size_t *ret_len)
{
	uint8_t *buf, *p;

	cr_assert_eq(wire_pack_alloc(m, &buf, ret_len), DTX_OK);
	p = memmem(buf, *ret_len, needle, strlen(needle));
	cr_assert_not_null(p);
	p[at] = '\0';
	return buf;
}

/* query_with_nul packs a Query for gid with its byte at made a NUL. */
static uint8_t *query_with_nul(const char *gid, size_t at, size_t *ret_len)
{
	Dtx__V1__ClientRequest req = DTX__V1__CLIENT_REQUEST__INIT;
	Dtx__V1__Query q = DTX__V1__QUERY__INIT;

	req.has_version = true;
	req.version = DTX__V1__VERSION__VERSION_1;
	req.body_case = DTX__V1__CLIENT_REQUEST__BODY_QUERY;
	req.query = &q;
	q.gid = (char *)gid;
	return with_nul(&req.base, gid, at, ret_len);
}

Test(hostile_wire, a_gid_with_a_nul_is_refused_and_never_reaches_another_tx)
{
	th_env *t = th_begin();
	dtx_tx_info info;
	char why[256];
	submit1 c;
	nng_socket s;
	uint8_t *buf;
	size_t len;

	th_participant_start(t, "p1", NULL);
	th_dtxd_start(t, NULL);
	th_run(t, "nul", "p1.do/p1.undo", &info);
	s = rw_open(t->dtxd_url, REPLY_MS);

	/* "nulXtail" with X = NUL read as "nul" before the fix: the submit
	 * answered OK with the committed saga "nul", and other steps */
	craft_submit1(&c, "nulXtail", "tcp://127.0.0.1:9");
	buf = with_nul(&c.req.base, "nulXtail", 3, &len);
	cr_assert_eq(client_ask(s, buf, len, why, sizeof(why)), DTX_EINVAL);
	cr_assert(strstr(why, "NUL") != NULL, "%s", why);
	free(buf);

	buf = query_with_nul("nulXtail", 3, &len);
	cr_assert_eq(client_ask(s, buf, len, why, sizeof(why)), DTX_EINVAL);
	free(buf);
	cr_assert(strcmp(th_journal_story(t, "nul"), "p1.do:ok") == 0,
	          "the committed saga was touched: %s",
	          th_journal_story(t, "nul"));
	nng_close(s);
	th_end(t);
}

/* ---- peers that connect and close at once ------------------------------ */

#define KNOCKS    20
#define ANSWER_MS 1000  /* one attempt of a fresh client */
#define SERVED_MS 30000 /* the guard listens again within this, at most */

/* knock connects to url's ipc path (or tcp address) n times and closes
 * each connection at once, before the SP handshake: nng 1.5.2 then stops
 * the listener (its issue #1518) unless lguard replaces it. */
static void knock(const char *url, int n)
{
	struct sockaddr_storage ss;
	struct sockaddr_un *un = (struct sockaddr_un *)&ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	socklen_t len;
	unsigned port;
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (strncmp(url, "ipc://", 6) == 0) {
		un->sun_family = AF_UNIX;
		snprintf(un->sun_path, sizeof(un->sun_path), "%s", url + 6);
		len = sizeof(*un);
	} else {
		cr_assert_eq(sscanf(url, "tcp://127.0.0.1:%u", &port), 1, "%s",
		             url);
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*in);
	}
	for (int i = 0; i < n; i++) {
		fd = socket(ss.ss_family, SOCK_STREAM, 0);
		cr_assert_geq(fd, 0);
		cr_assert_eq(connect(fd, (struct sockaddr *)&ss, len), 0,
		             "connect %s: %s", url, strerror(errno));
		close(fd);
	}
}

/* answered sends one query for gid over a fresh connection to url and
 * returns whether any reply came within ANSWER_MS (a participant answers
 * it too: with an error, it is no branch call). */
static bool answered(const char *url, const char *gid)
{
	Dtx__V1__ClientRequest req = DTX__V1__CLIENT_REQUEST__INIT;
	Dtx__V1__Query q = DTX__V1__QUERY__INIT;
	nng_socket s;
	uint8_t *buf;
	void *rbuf = NULL;
	size_t len, rlen;
	bool ok;

	req.has_version = true;
	req.version = DTX__V1__VERSION__VERSION_1;
	req.body_case = DTX__V1__CLIENT_REQUEST__BODY_QUERY;
	req.query = &q;
	q.gid = (char *)gid;
	cr_assert_eq(wire_pack_alloc(&req.base, &buf, &len), DTX_OK);
	s = rw_open(url, ANSWER_MS);
	ok = nng_send(s, buf, len, 0) == 0 &&
	     nng_recv(s, &rbuf, &rlen, NNG_FLAG_ALLOC) == 0;
	if (rbuf != NULL)
		nng_free(rbuf, rlen);
	free(buf);
	nng_close(s);
	return ok;
}

/* served_again waits (bounded) until a fresh client of url is answered. */
static void served_again(const char *url)
{
	for (int waited = 0; !answered(url, "after-knocks");
	     waited += ANSWER_MS)
		cr_assert_lt(waited, SERVED_MS,
		             "%s: no fresh client served %d ms after peers "
		             "connected and closed at once",
		             url, SERVED_MS);
}

/* One process that connects and closes at once stopped dtxd's endpoint
 * for every later client (nng 1.5.2). Every listener kind: the client
 * endpoint on ipc and on tcp, and the admin endpoint. */
Test(hostile_wire, peers_closing_at_once_never_stop_dtxd_listening)
{
	th_env *t = th_begin();
	char ipc[TH_URL_MAX + PATH_MAX], admin[TH_URL_MAX + PATH_MAX];
	char tcp[TH_URL_MAX];
	const char *urls[3] = {ipc, tcp, admin};

	snprintf(ipc, sizeof(ipc), "ipc://%s/client.ipc", t->dir);
	snprintf(admin, sizeof(admin), "ipc://%s/admin.ipc", t->dir);
	th_dtxd_start(t, "--listen", ipc, "--admin", admin, NULL);
	snprintf(tcp, sizeof(tcp), "%s", t->dtxd_url);
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < 3; i++) {
			knock(urls[i], KNOCKS);
			served_again(urls[i]);
		}
	cr_assert(th_proc_is_alive(t->dtxd));
	th_end(t);
}

/* The same for a participant's listener: a fresh client is answered, and
 * a saga through it commits. */
Test(hostile_wire, peers_closing_at_once_never_stop_a_participant_listening)
{
	th_env *t = th_begin();
	dtx_tx_info info;
	char gid[32];

	th_use_ipc(t);
	th_dtxd_start(t, NULL);
	th_participant_start(t, "p1", NULL);
	for (int round = 0; round < 3; round++) {
		knock(th_participant_url(t, "p1"), KNOCKS);
		served_again(th_participant_url(t, "p1"));
		snprintf(gid, sizeof(gid), "knocked-%d", round);
		th_run(t, gid, "p1.do/p1.undo", &info);
		cr_assert_eq(info.state, DTX_TX_COMMITTED, "%s: %s", gid,
		             dtx_tx_state_name(info.state));
	}
	cr_assert(th_proc_is_alive(t->parts[0].proc));
	th_end(t);
}

/* ---- a client's probe is no knock --------------------------------------- */

#define GREET_MS  2000  /* a connection's SP header comes within this */
#define LATE_CONN 10    /* connections looked at */
#define PAUSE_MS  600   /* a connection waits this long to be accepted */
#define LATE_WAIT 20000 /* at most this long for them */

/* greeted reads a peer's 8-byte SP header from fd; false if the peer
 * closed (or sent nothing for GREET_MS) before it was all there. */
static bool greeted(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	unsigned char got[8];
	size_t have = 0;
	ssize_t n;

	while (have < sizeof(got)) {
		if (poll(&p, 1, GREET_MS) != 1)
			return false;
		n = recv(fd, got + have, sizeof(got) - have, 0);
		if (n <= 0)
			return false;
		have += (size_t)n;
	}
	return got[1] == 'S' && got[2] == 'P';
}

/* A client whose link has no connection probes the URL on its own
 * (participant-sdk/link.c). Its probe used to close the connection it
 * made at once, without a word: to nng 1.5.2 that is the knock above,
 * and the shop's TCC buyers stopped a restarted payment service with it
 * (CI: the sale hung for 120 s). Here the listener is a plain socket that
 * reads the peer's SP header, answers with its own and closes (so the
 * client stays without a connection and keeps probing): every
 * connection, the dialer's and the probes', must greet before it ends. */
Test(hostile_wire, a_clients_probe_greets_the_listener_before_it_closes)
{
	static const unsigned char head[8] = {0, 'S', 'P', 0, 0, 0x31, 0, 0};
	th_env *t = th_begin();
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	char url[TH_URL_MAX + PATH_MAX];
	struct pollfd p;
	dtx_client *c;
	int lfd, fd, seen = 0, knocked = 0;

	th_path(t, "late.ipc", un.sun_path, sizeof(un.sun_path));
	snprintf(url, sizeof(url), "ipc://%s", un.sun_path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert(lfd >= 0 &&
	          bind(lfd, (struct sockaddr *)&un, sizeof(un)) == 0 &&
	          listen(lfd, 64) == 0);
	cr_assert_eq(dtx_client_open(url, NULL, &c), DTX_OK);
	p.fd = lfd;
	p.events = POLLIN;
	for (int waited = 0; seen < LATE_CONN && waited < LATE_WAIT;
	     waited += 100) {
		if (poll(&p, 1, 100) != 1)
			continue;
		usleep(PAUSE_MS *
		       1000); /* no connection meanwhile: it probes */
		fd = accept(lfd, NULL, NULL);
		cr_assert_geq(fd, 0);
		if (!greeted(fd))
			knocked++;
		(void)send(fd, head, sizeof(head), MSG_NOSIGNAL);
		seen++;
		close(fd);
	}
	dtx_client_close(c);
	close(lfd);
	cr_assert_eq(seen, LATE_CONN, "only %d connections in %d ms", seen,
	             LATE_WAIT);
	cr_assert_eq(knocked, 0,
	             "%d of %d connections closed without an SP header (a "
	             "knock that stops nng 1.5.2's listener)",
	             knocked, seen);
	th_end(t);
}
