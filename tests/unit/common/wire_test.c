/*
 * wire_test.c - unit tests of common/wire.c (the codec and its validation),
 * plus the CRC-32C known answer (common/crc32c.c) and the public names
 * (common/names.c), which have no test executable of their own.
 *
 * Bad messages are crafted by setting fields of the generated structs and
 * packing them, so each test breaks exactly one rule. Tests never touch the
 * network or the disk.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "dtx/dtx.h"
#include "wire.h"

/* ---- helpers ----------------------------------------------------------- */

/* str lets a string literal fill a generated struct's char * field; packing
 * never writes through it. */
static char *str(const char *s)
{
	return (char *)s;
}

#define MAX_FIX_STEPS 70

/* saga_fix - a valid ClientRequest{submit} whose parts tests can break. */
struct saga_fix {
	Dtx__V1__SagaStep steps[MAX_FIX_STEPS];
	Dtx__V1__SagaStep *stepp[MAX_FIX_STEPS];
	Dtx__V1__SubmitSaga submit;
	Dtx__V1__ClientRequest req;
};

static void saga_fix_init(struct saga_fix *f, size_t nsteps)
{
	static uint8_t payload[] = {1, 2, 3};

	cr_assert_leq(nsteps, MAX_FIX_STEPS);
	for (size_t i = 0; i < nsteps; i++) {
		dtx__v1__saga_step__init(&f->steps[i]);
		f->steps[i].participant_url = str("tcp://127.0.0.1:7001");
		f->steps[i].action = str("inventory.deduct");
		f->steps[i].compensate = str("inventory.restock");
		f->steps[i].has_payload = true;
		f->steps[i].payload.data = payload;
		f->steps[i].payload.len = sizeof(payload);
		f->stepp[i] = &f->steps[i];
	}
	dtx__v1__submit_saga__init(&f->submit);
	f->submit.gid = str("order-42");
	f->submit.n_steps = nsteps;
	f->submit.steps = f->stepp;
	dtx__v1__client_request__init(&f->req);
	f->req.has_version = true;
	f->req.version = DTX__V1__VERSION__VERSION_1;
	f->req.body_case = DTX__V1__CLIENT_REQUEST__BODY_SUBMIT;
	f->req.submit = &f->submit;
}

/* pack_msg packs msg into a malloc'd buffer the caller frees. */
static uint8_t *pack_msg(const ProtobufCMessage *msg, size_t *ret_len)
{
	uint8_t *buf = NULL;

	cr_assert_eq(wire_pack_alloc(msg, &buf, ret_len), DTX_OK);
	cr_assert_eq(*ret_len, wire_packed_size(msg));
	return buf;
}

static char errbuf[256];

/* request_code packs req, decodes it with lim and returns the code. */
static int request_code(const Dtx__V1__ClientRequest *req,
                        const wire_limits *lim)
{
	size_t len;
	uint8_t *buf = pack_msg(&req->base, &len);
	Dtx__V1__ClientRequest *out = NULL;
	int rv;

	errbuf[0] = '\0';
	rv = wire_client_request_decode(buf, len, lim, &out, errbuf,
	                                sizeof(errbuf));
	free(buf);
	cr_assert_eq(rv == DTX_OK, out != NULL, "ret_msg set only on success");
	wire_client_request_free(out);
	return rv;
}

static void branch_call_init(Dtx__V1__BranchCall *c)
{
	static uint8_t payload[] = "sku=7;qty=1";

	dtx__v1__branch_call__init(c);
	c->has_version = true;
	c->version = DTX__V1__VERSION__VERSION_1;
	c->gid = str("0001a2b3c4d5e6f7");
	c->has_branch = true;
	c->branch = 2;
	c->has_op = true;
	c->op = DTX__V1__OP__OP_COMPENSATE;
	c->handler = str("inventory.restock");
	c->has_payload = true;
	c->payload.data = payload;
	c->payload.len = sizeof(payload);
	c->has_attempt = true;
	c->attempt = 3;
}

static int branch_call_code(const Dtx__V1__BranchCall *c,
                            const wire_limits *lim)
{
	size_t len;
	uint8_t *buf = pack_msg(&c->base, &len);
	Dtx__V1__BranchCall *out = NULL;
	int rv;

	errbuf[0] = '\0';
	rv = wire_branch_call_decode(buf, len, lim, &out, errbuf,
	                             sizeof(errbuf));
	free(buf);
	wire_branch_call_free(out);
	return rv;
}

static void branch_reply_init(Dtx__V1__BranchReply *r)
{
	dtx__v1__branch_reply__init(r);
	r->has_version = true;
	r->version = DTX__V1__VERSION__VERSION_1;
	r->has_status = true;
	r->status = DTX__V1__BRANCH_STATUS__BRANCH_FAIL;
	r->message = str("out of stock");
}

static int branch_reply_code(const Dtx__V1__BranchReply *r)
{
	size_t len;
	uint8_t *buf = pack_msg(&r->base, &len);
	Dtx__V1__BranchReply *out = NULL;
	int rv;

	errbuf[0] = '\0';
	rv = wire_branch_reply_decode(buf, len, &out, errbuf, sizeof(errbuf));
	free(buf);
	wire_branch_reply_free(out);
	return rv;
}

/* reply_fix - a valid ClientReply carrying a two-step TxInfo. */
struct reply_fix {
	Dtx__V1__StepInfo steps[2];
	Dtx__V1__StepInfo *stepp[2];
	Dtx__V1__TxInfo tx;
	Dtx__V1__ClientReply reply;
};

static void reply_fix_init(struct reply_fix *f)
{
	for (size_t i = 0; i < 2; i++) {
		dtx__v1__step_info__init(&f->steps[i]);
		f->steps[i].has_index = true;
		f->steps[i].index = (uint32_t)i;
		f->steps[i].has_state = true;
		f->steps[i].state = DTX__V1__STEP_STATE__STEP_COMPENSATED;
		f->steps[i].last_error = str("déjà vu");
		f->stepp[i] = &f->steps[i];
	}
	dtx__v1__tx_info__init(&f->tx);
	f->tx.gid = str("order-42");
	f->tx.has_mode = true;
	f->tx.mode = DTX__V1__MODE__MODE_SAGA;
	f->tx.has_state = true;
	f->tx.state = DTX__V1__TX_STATE__TX_COMPENSATED;
	f->tx.n_steps = 2;
	f->tx.steps = f->stepp;
	f->tx.has_failed_step = true;
	f->tx.failed_step = 1;
	f->tx.reason = str("step 1 failed: out of stock");
	dtx__v1__client_reply__init(&f->reply);
	f->reply.has_version = true;
	f->reply.version = DTX__V1__VERSION__VERSION_1;
	f->reply.has_code = true;
	f->reply.code = DTX__V1__CODE__CODE_OK;
	f->reply.tx = &f->tx;
	f->reply.has_created = true;
	f->reply.created = true;
}

static int client_reply_code(const Dtx__V1__ClientReply *r)
{
	size_t len;
	uint8_t *buf = pack_msg(&r->base, &len);
	Dtx__V1__ClientReply *out = NULL;
	int rv;

	errbuf[0] = '\0';
	rv = wire_client_reply_decode(buf, len, &out, errbuf, sizeof(errbuf));
	free(buf);
	wire_client_reply_free(out);
	return rv;
}

/* ---- round trips ------------------------------------------------------- */

Test(wire, round_trips_submit_saga)
{
	struct saga_fix f;
	size_t len;
	uint8_t *buf;
	Dtx__V1__ClientRequest *out = NULL;

	saga_fix_init(&f, 3);
	f.req.has_wait_ms = true;
	f.req.wait_ms = 5000;
	f.steps[2].has_timeout_ms = true;
	f.steps[2].timeout_ms = 250;
	buf = pack_msg(&f.req.base, &len);
	cr_assert_eq(wire_client_request_decode(buf, len, NULL, &out, NULL, 0),
	             DTX_OK);
	free(buf);
	cr_assert_eq(out->wait_ms, 5000);
	cr_assert_eq(out->body_case, DTX__V1__CLIENT_REQUEST__BODY_SUBMIT);
	cr_assert_str_eq(out->submit->gid, "order-42");
	cr_assert_eq(out->submit->n_steps, 3);
	cr_assert_str_eq(out->submit->steps[1]->action, "inventory.deduct");
	cr_assert_str_eq(out->submit->steps[1]->compensate,
	                 "inventory.restock");
	cr_assert_eq(out->submit->steps[2]->timeout_ms, 250);
	cr_assert_eq(out->submit->steps[0]->payload.len, 3);
	cr_assert_eq(out->submit->steps[0]->payload.data[2], 3);
	wire_client_request_free(out);
}

Test(wire, round_trips_query)
{
	Dtx__V1__Query q = DTX__V1__QUERY__INIT;
	Dtx__V1__ClientRequest req = DTX__V1__CLIENT_REQUEST__INIT;
	Dtx__V1__ClientRequest *out = NULL;
	size_t len;
	uint8_t *buf;

	q.gid = str("order-42");
	req.has_version = true;
	req.version = 1;
	req.body_case = DTX__V1__CLIENT_REQUEST__BODY_QUERY;
	req.query = &q;
	buf = pack_msg(&req.base, &len);
	cr_assert_eq(wire_client_request_decode(buf, len, NULL, &out, NULL, 0),
	             DTX_OK);
	free(buf);
	cr_assert_eq(out->body_case, DTX__V1__CLIENT_REQUEST__BODY_QUERY);
	cr_assert_str_eq(out->query->gid, "order-42");
	wire_client_request_free(out);
}

Test(wire, round_trips_client_reply_with_tx_info)
{
	struct reply_fix f;
	Dtx__V1__ClientReply *out = NULL;
	size_t len;
	uint8_t *buf;

	reply_fix_init(&f);
	buf = pack_msg(&f.reply.base, &len);
	cr_assert_eq(wire_client_reply_decode(buf, len, &out, NULL, 0), DTX_OK);
	free(buf);
	cr_assert_eq(out->code, DTX__V1__CODE__CODE_OK);
	cr_assert(out->created);
	cr_assert_str_eq(out->tx->gid, "order-42");
	cr_assert_eq(out->tx->state, DTX__V1__TX_STATE__TX_COMPENSATED);
	cr_assert_eq(out->tx->failed_step, 1);
	cr_assert_eq(out->tx->n_steps, 2);
	cr_assert_str_eq(out->tx->steps[1]->last_error, "déjà vu");
	wire_client_reply_free(out);
}

Test(wire, round_trips_branch_call)
{
	Dtx__V1__BranchCall c;
	Dtx__V1__BranchCall *out = NULL;
	size_t len;
	uint8_t *buf;

	branch_call_init(&c);
	buf = pack_msg(&c.base, &len);
	cr_assert_eq(wire_branch_call_decode(buf, len, NULL, &out, NULL, 0),
	             DTX_OK);
	free(buf);
	cr_assert_str_eq(out->gid, "0001a2b3c4d5e6f7");
	cr_assert_eq(out->branch, 2);
	cr_assert_eq(out->op, DTX__V1__OP__OP_COMPENSATE);
	cr_assert_str_eq(out->handler, "inventory.restock");
	cr_assert_eq(out->attempt, 3);
	cr_assert_str_eq((const char *)out->payload.data, "sku=7;qty=1");
	wire_branch_call_free(out);
}

Test(wire, round_trips_branch_reply)
{
	Dtx__V1__BranchReply r;
	Dtx__V1__BranchReply *out = NULL;
	size_t len;
	uint8_t *buf;
	uint8_t result[] = {9, 8, 7};

	branch_reply_init(&r);
	r.has_result = true;
	r.result.data = result;
	r.result.len = sizeof(result);
	buf = pack_msg(&r.base, &len);
	cr_assert_eq(wire_branch_reply_decode(buf, len, &out, NULL, 0), DTX_OK);
	free(buf);
	cr_assert_eq(out->status, DTX__V1__BRANCH_STATUS__BRANCH_FAIL);
	cr_assert_str_eq(out->message, "out of stock");
	cr_assert_eq(out->result.len, 3);
	cr_assert_eq(memcmp(out->result.data, result, 3), 0);
	wire_branch_reply_free(out);
}

Test(wire, round_trips_log_tx)
{
	Dtx__V1__LogTx t = DTX__V1__LOG_TX__INIT;
	Dtx__V1__LogTx *out = NULL;
	size_t len;
	uint8_t *buf;

	t.gid = str("order-42");
	t.has_mode = true;
	t.mode = DTX__V1__MODE__MODE_SAGA;
	t.has_state = true;
	t.state = DTX__V1__TX_STATE__TX_RUNNING;
	t.has_nsteps = true;
	t.nsteps = 4;
	t.has_failed_step = true;
	t.failed_step = -1;
	t.has_created_unix_ms = true;
	t.created_unix_ms = 1732233600123;
	t.has_next_event_seq = true;
	t.next_event_seq = 17;
	buf = pack_msg(&t.base, &len);
	cr_assert_eq(wire_log_tx_decode(buf, len, &out), DTX_OK);
	free(buf);
	cr_assert_str_eq(out->gid, "order-42");
	cr_assert_eq(out->state, DTX__V1__TX_STATE__TX_RUNNING);
	cr_assert_eq(out->nsteps, 4);
	cr_assert_eq(out->failed_step, -1);
	cr_assert_eq(out->created_unix_ms, 1732233600123);
	cr_assert_eq(out->next_event_seq, 17);
	wire_log_tx_free(out);
}

Test(wire, round_trips_log_step)
{
	Dtx__V1__LogStep s = DTX__V1__LOG_STEP__INIT;
	Dtx__V1__LogStep *out = NULL;
	size_t len;
	uint8_t *buf;

	s.participant_url = str("ipc:///tmp/inventory.ipc");
	s.action = str("inventory.deduct");
	s.compensate = str("inventory.restock");
	s.has_state = true;
	s.state = DTX__V1__STEP_STATE__STEP_ACTING;
	s.has_attempts = true;
	s.attempts = 2;
	s.last_error = str("timed out");
	buf = pack_msg(&s.base, &len);
	cr_assert_eq(wire_log_step_decode(buf, len, &out), DTX_OK);
	free(buf);
	cr_assert_str_eq(out->participant_url, "ipc:///tmp/inventory.ipc");
	cr_assert_eq(out->state, DTX__V1__STEP_STATE__STEP_ACTING);
	cr_assert_eq(out->attempts, 2);
	cr_assert_str_eq(out->last_error, "timed out");
	wire_log_step_free(out);
}

Test(wire, round_trips_log_event)
{
	Dtx__V1__LogEvent e = DTX__V1__LOG_EVENT__INIT;
	Dtx__V1__LogEvent *out = NULL;
	size_t len;
	uint8_t *buf;

	e.has_unix_ms = true;
	e.unix_ms = 1732233600999;
	e.has_tx_state = true;
	e.tx_state = DTX__V1__TX_STATE__TX_COMPENSATING;
	e.has_step = true;
	e.step = 1;
	e.has_step_state = true;
	e.step_state = DTX__V1__STEP_STATE__STEP_FAILED;
	e.detail = str("action answered FAIL: out of stock");
	buf = pack_msg(&e.base, &len);
	cr_assert_eq(wire_log_event_decode(buf, len, &out), DTX_OK);
	free(buf);
	cr_assert_eq(out->unix_ms, 1732233600999);
	cr_assert_eq(out->tx_state, DTX__V1__TX_STATE__TX_COMPENSATING);
	cr_assert_eq(out->step, 1);
	cr_assert_eq(out->step_state, DTX__V1__STEP_STATE__STEP_FAILED);
	cr_assert_str_eq(out->detail, "action answered FAIL: out of stock");
	wire_log_event_free(out);
}

Test(wire, free_functions_accept_null)
{
	wire_client_request_free(NULL);
	wire_client_reply_free(NULL);
	wire_branch_call_free(NULL);
	wire_branch_reply_free(NULL);
	wire_log_tx_free(NULL);
	wire_log_step_free(NULL);
	wire_log_event_free(NULL);
}

/* ---- versions and bodies ----------------------------------------------- */

Test(wire, refuses_request_without_version)
{
	struct saga_fix f;

	saga_fix_init(&f, 1);
	f.req.has_version = false;
	cr_assert_eq(request_code(&f.req, NULL), DTX_EVERSION);
}

Test(wire, refuses_request_with_unknown_version)
{
	struct saga_fix f;

	saga_fix_init(&f, 1);
	f.req.version = 2;
	cr_assert_eq(request_code(&f.req, NULL), DTX_EVERSION);
	f.req.version = DTX__V1__VERSION__VERSION_UNSPECIFIED;
	cr_assert_eq(request_code(&f.req, NULL), DTX_EVERSION);
}

Test(wire, refuses_replies_without_version)
{
	struct reply_fix f;
	Dtx__V1__BranchReply r;
	Dtx__V1__BranchCall c;

	reply_fix_init(&f);
	f.reply.has_version = false;
	cr_assert_eq(client_reply_code(&f.reply), DTX_EVERSION);
	branch_reply_init(&r);
	r.version = 7;
	cr_assert_eq(branch_reply_code(&r), DTX_EVERSION);
	branch_call_init(&c);
	c.has_version = false;
	cr_assert_eq(branch_call_code(&c, NULL), DTX_EVERSION);
}

Test(wire, refuses_request_without_body)
{
	Dtx__V1__ClientRequest req = DTX__V1__CLIENT_REQUEST__INIT;

	req.has_version = true;
	req.version = 1;
	cr_assert_eq(request_code(&req, NULL), DTX_EPROTO);
}

/* ---- SubmitSaga and Query ---------------------------------------------- */

Test(wire, accepts_saga_without_gid)
{
	struct saga_fix f;

	saga_fix_init(&f, 1);
	f.submit.gid = NULL;
	cr_assert_eq(request_code(&f.req, NULL), DTX_OK);
}

Test(wire, refuses_saga_with_no_steps)
{
	struct saga_fix f;

	saga_fix_init(&f, 0);
	cr_assert_eq(request_code(&f.req, NULL), DTX_EINVAL);
	cr_assert_str_eq(errbuf, "saga has no steps");
}

Test(wire, refuses_saga_with_more_steps_than_the_limit)
{
	struct saga_fix f;
	wire_limits lim = {.max_steps = 2, .max_payload = 1024};

	saga_fix_init(&f, 2);
	cr_assert_eq(request_code(&f.req, &lim), DTX_OK);
	saga_fix_init(&f, 3);
	cr_assert_eq(request_code(&f.req, &lim), DTX_ETOOBIG);
}

Test(wire, applies_default_limits_when_none_given)
{
	struct saga_fix f;

	saga_fix_init(&f, WIRE_MAX_STEPS_DEFAULT);
	cr_assert_eq(request_code(&f.req, NULL), DTX_OK);
	saga_fix_init(&f, WIRE_MAX_STEPS_DEFAULT + 1);
	cr_assert_eq(request_code(&f.req, NULL), DTX_ETOOBIG);
}

Test(wire, refuses_gid_with_invalid_characters)
{
	struct saga_fix f;

	saga_fix_init(&f, 1);
	f.submit.gid = str("order 42");
	cr_assert_eq(request_code(&f.req, NULL), DTX_EINVAL);
	cr_assert(strstr(errbuf, "gid") != NULL, "errbuf: %s", errbuf);
	f.submit.gid = str("order/42");
	cr_assert_eq(request_code(&f.req, NULL), DTX_EINVAL);
}

Test(wire, refuses_empty_or_too_long_gid)
{
	struct saga_fix f;
	char long_gid[DTX_GID_MAX + 2];

	saga_fix_init(&f, 1);
	f.submit.gid = str("");
	cr_assert_eq(request_code(&f.req, NULL), DTX_EINVAL);
	memset(long_gid, 'g', sizeof(long_gid) - 1);
	long_gid[DTX_GID_MAX] = '\0';
	f.submit.gid = long_gid;
	cr_assert_eq(request_code(&f.req, NULL), DTX_OK);
	long_gid[DTX_GID_MAX] = 'g';
	long_gid[DTX_GID_MAX + 1] = '\0';
	cr_assert_eq(request_code(&f.req, NULL), DTX_ETOOBIG);
}

Test(wire, refuses_query_without_gid)
{
	Dtx__V1__Query q = DTX__V1__QUERY__INIT;
	Dtx__V1__ClientRequest req = DTX__V1__CLIENT_REQUEST__INIT;

	req.has_version = true;
	req.version = 1;
	req.body_case = DTX__V1__CLIENT_REQUEST__BODY_QUERY;
	req.query = &q;
	cr_assert_eq(request_code(&req, NULL), DTX_EINVAL);
	q.gid = str("bad gid!");
	cr_assert_eq(request_code(&req, NULL), DTX_EINVAL);
}

Test(wire, refuses_step_without_participant_url)
{
	struct saga_fix f;

	saga_fix_init(&f, 2);
	f.steps[1].participant_url = NULL;
	cr_assert_eq(request_code(&f.req, NULL), DTX_EINVAL);
	cr_assert_str_eq(errbuf, "step 1: participant URL is missing");
	f.steps[1].participant_url = str("");
	cr_assert_eq(request_code(&f.req, NULL), DTX_EINVAL);
}

Test(wire, refuses_participant_url_past_the_limit)
{
	struct saga_fix f;
	char url[DTX_URL_MAX + 2];

	saga_fix_init(&f, 1);
	memset(url, 'a', sizeof(url));
	memcpy(url, "tcp://", 6);
	memcpy(url + DTX_URL_MAX - 5, ":7000", 5);
	url[DTX_URL_MAX] = '\0';
	f.steps[0].participant_url = url;
	cr_assert_eq(request_code(&f.req, NULL), DTX_OK);
	url[DTX_URL_MAX] = 'a';
	url[DTX_URL_MAX + 1] = '\0';
	cr_assert_eq(request_code(&f.req, NULL), DTX_ETOOBIG);
}

Test(wire, refuses_participant_url_with_control_characters)
{
	struct saga_fix f;

	saga_fix_init(&f, 1);
	f.steps[0].participant_url = str("tcp://host:1\n");
	cr_assert_eq(request_code(&f.req, NULL), DTX_EINVAL);
	f.steps[0].participant_url = str("tcp://host:1\x7f");
	cr_assert_eq(request_code(&f.req, NULL), DTX_EINVAL);
	f.steps[0].participant_url =
	        str("tcp://host\xc2\x85:1"); /* U+0085 NEL */
	cr_assert_eq(request_code(&f.req, NULL), DTX_EINVAL);
}

Test(wire, refuses_invalid_utf8_in_participant_url)
{
	struct saga_fix f;

	saga_fix_init(&f, 1);
	f.steps[0].participant_url = str("tcp://h\xc3\x28st:1");
	cr_assert_eq(request_code(&f.req, NULL), DTX_EPROTO);
}

Test(wire, refuses_action_name_with_invalid_characters)
{
	struct saga_fix f;

	saga_fix_init(&f, 3);
	f.steps[2].action = str("inventory deduct");
	cr_assert_eq(request_code(&f.req, NULL), DTX_EINVAL);
	cr_assert_str_eq(errbuf,
	                 "step 2: action handler name has invalid characters");
}

Test(wire, refuses_missing_or_empty_compensate_name)
{
	struct saga_fix f;

	saga_fix_init(&f, 1);
	f.steps[0].compensate = NULL;
	cr_assert_eq(request_code(&f.req, NULL), DTX_EINVAL);
	f.steps[0].compensate = str("");
	cr_assert_eq(request_code(&f.req, NULL), DTX_EINVAL);
}

Test(wire, refuses_handler_name_past_the_limit)
{
	struct saga_fix f;
	char name[DTX_HANDLER_MAX + 2];

	saga_fix_init(&f, 1);
	memset(name, 'h', sizeof(name));
	name[DTX_HANDLER_MAX] = '\0';
	f.steps[0].action = name;
	cr_assert_eq(request_code(&f.req, NULL), DTX_OK);
	name[DTX_HANDLER_MAX] = 'h';
	name[DTX_HANDLER_MAX + 1] = '\0';
	cr_assert_eq(request_code(&f.req, NULL), DTX_ETOOBIG);
}

Test(wire, refuses_step_payload_past_the_limit)
{
	struct saga_fix f;
	wire_limits lim = {.max_steps = 8, .max_payload = 3};

	saga_fix_init(&f, 1); /* payloads are 3 bytes */
	cr_assert_eq(request_code(&f.req, &lim), DTX_OK);
	lim.max_payload = 2;
	cr_assert_eq(request_code(&f.req, &lim), DTX_ETOOBIG);
}

Test(wire, leaves_errbuf_alone_on_success_and_truncates_it_on_error)
{
	struct saga_fix f;
	char small[8] = "xxxxxxx";
	size_t len;
	uint8_t *buf;
	Dtx__V1__ClientRequest *out = NULL;

	saga_fix_init(&f, 0);
	buf = pack_msg(&f.req.base, &len);
	cr_assert_eq(wire_client_request_decode(buf, len, NULL, &out, small,
	                                        sizeof(small)),
	             DTX_EINVAL);
	cr_assert_str_eq(small, "saga ha");
	cr_assert_eq(wire_client_request_decode(buf, len, NULL, &out, NULL, 0),
	             DTX_EINVAL);
	cr_assert_null(out);
	free(buf);
}

/* ---- BranchCall -------------------------------------------------------- */

Test(wire, refuses_branch_call_with_out_of_range_op)
{
	Dtx__V1__BranchCall c;

	branch_call_init(&c);
	c.op = 6;
	cr_assert_eq(branch_call_code(&c, NULL), DTX_EPROTO);
	c.op = DTX__V1__OP__OP_UNSPECIFIED;
	cr_assert_eq(branch_call_code(&c, NULL), DTX_EPROTO);
	c.op = -1;
	cr_assert_eq(branch_call_code(&c, NULL), DTX_EPROTO);
	c.op = DTX__V1__OP__OP_CANCEL;
	cr_assert_eq(branch_call_code(&c, NULL), DTX_OK);
}

Test(wire, refuses_branch_call_with_missing_fields)
{
	Dtx__V1__BranchCall c;

	branch_call_init(&c);
	c.has_op = false;
	cr_assert_eq(branch_call_code(&c, NULL), DTX_EPROTO);
	branch_call_init(&c);
	c.has_branch = false;
	cr_assert_eq(branch_call_code(&c, NULL), DTX_EPROTO);
	branch_call_init(&c);
	c.has_attempt = false;
	cr_assert_eq(branch_call_code(&c, NULL), DTX_EPROTO);
	branch_call_init(&c);
	c.gid = NULL;
	cr_assert_eq(branch_call_code(&c, NULL), DTX_EINVAL);
	branch_call_init(&c);
	c.handler = NULL;
	cr_assert_eq(branch_call_code(&c, NULL), DTX_EINVAL);
}

Test(wire, refuses_branch_call_with_attempt_zero)
{
	Dtx__V1__BranchCall c;

	branch_call_init(&c);
	c.attempt = 0;
	cr_assert_eq(branch_call_code(&c, NULL), DTX_EINVAL);
}

/* deadline_unix_ms is optional (absent: no deadline) and, when present, a
 * wall-clock time from 1 ms to year 9999: nothing a tolerance added to it
 * can overflow. */
Test(wire, refuses_branch_call_with_an_out_of_range_deadline)
{
	Dtx__V1__BranchCall c;

	branch_call_init(&c);
	cr_assert_eq(branch_call_code(&c, NULL), DTX_OK);
	c.has_deadline_unix_ms = true;
	c.deadline_unix_ms = INT64_C(1700000000000);
	cr_assert_eq(branch_call_code(&c, NULL), DTX_OK);
	c.deadline_unix_ms = WIRE_UNIX_MS_MAX;
	cr_assert_eq(branch_call_code(&c, NULL), DTX_OK);
	c.deadline_unix_ms = WIRE_UNIX_MS_MAX + 1;
	cr_assert_eq(branch_call_code(&c, NULL), DTX_EINVAL);
	c.deadline_unix_ms = INT64_MAX;
	cr_assert_eq(branch_call_code(&c, NULL), DTX_EINVAL);
	c.deadline_unix_ms = 0;
	cr_assert_eq(branch_call_code(&c, NULL), DTX_EINVAL);
	c.deadline_unix_ms = -5;
	cr_assert_eq(branch_call_code(&c, NULL), DTX_EINVAL);
}

Test(wire, refuses_branch_call_with_bad_gid_or_handler)
{
	Dtx__V1__BranchCall c;

	branch_call_init(&c);
	c.gid = str("a\tb");
	cr_assert_eq(branch_call_code(&c, NULL), DTX_EINVAL);
	branch_call_init(&c);
	c.handler = str("inventory/restock");
	cr_assert_eq(branch_call_code(&c, NULL), DTX_EINVAL);
	cr_assert_str_eq(errbuf, "handler name has invalid characters");
}

Test(wire, refuses_branch_call_payload_past_the_limit)
{
	Dtx__V1__BranchCall c;
	wire_limits lim = {.max_steps = 1, .max_payload = 4};

	branch_call_init(&c);
	cr_assert_eq(branch_call_code(&c, &lim), DTX_ETOOBIG);
	cr_assert_eq(branch_call_code(&c, NULL), DTX_OK);
}

/* ---- BranchReply ------------------------------------------------------- */

Test(wire, refuses_branch_reply_with_out_of_range_status)
{
	Dtx__V1__BranchReply r;

	branch_reply_init(&r);
	r.status = 4;
	cr_assert_eq(branch_reply_code(&r), DTX_EPROTO);
	r.status = DTX__V1__BRANCH_STATUS__BRANCH_STATUS_UNSPECIFIED;
	cr_assert_eq(branch_reply_code(&r), DTX_EPROTO);
	r.has_status = false;
	cr_assert_eq(branch_reply_code(&r), DTX_EPROTO);
	r.has_status = true;
	r.status = DTX__V1__BRANCH_STATUS__BRANCH_RETRY;
	cr_assert_eq(branch_reply_code(&r), DTX_OK);
}

Test(wire, refuses_invalid_utf8_in_branch_reply_message)
{
	Dtx__V1__BranchReply r;
	static const char *const bad[] = {
	        "\xff",             /* never a UTF-8 byte */
	        "ab\xc0\xaf",       /* overlong '/' */
	        "\xed\xa0\x80",     /* surrogate U+D800 */
	        "\xf4\x90\x80\x80", /* past U+10FFFF */
	        "\xe2\x82",         /* truncated sequence */
	};

	branch_reply_init(&r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r.message = str(bad[i]);
		cr_assert_eq(branch_reply_code(&r), DTX_EPROTO, "case %zu", i);
	}
}

Test(wire, refuses_branch_reply_message_past_the_limit)
{
	Dtx__V1__BranchReply r;
	char msg[WIRE_MESSAGE_MAX + 2];

	branch_reply_init(&r);
	memset(msg, 'm', sizeof(msg));
	msg[WIRE_MESSAGE_MAX] = '\0';
	r.message = msg;
	cr_assert_eq(branch_reply_code(&r), DTX_OK);
	msg[WIRE_MESSAGE_MAX] = 'm';
	msg[WIRE_MESSAGE_MAX + 1] = '\0';
	cr_assert_eq(branch_reply_code(&r), DTX_ETOOBIG);
}

/* ---- ClientReply ------------------------------------------------------- */

Test(wire, refuses_client_reply_with_out_of_range_code)
{
	struct reply_fix f;

	reply_fix_init(&f);
	f.reply.code = DTX__V1__CODE__CODE_ECONFLICT;
	cr_assert_eq(client_reply_code(&f.reply), DTX_OK);
	f.reply.code = (Dtx__V1__Code)DTX_ERR_COUNT;
	cr_assert_eq(client_reply_code(&f.reply), DTX_EPROTO);
	f.reply.has_code = false;
	cr_assert_eq(client_reply_code(&f.reply), DTX_EPROTO);
}

/* A coordinator's topology and redirect are bounded before the SDK uses
 * them to route: shard counts 1..1024, owned shards below the count,
 * every URL one to dial. */
Test(wire, checks_topology_and_redirects_in_client_replies)
{
	struct reply_fix f;
	Dtx__V1__TopologyInfo t = DTX__V1__TOPOLOGY_INFO__INIT;
	Dtx__V1__ShardOwner o = DTX__V1__SHARD_OWNER__INIT;
	Dtx__V1__ShardOwner *op = &o;
	uint32_t owned[2] = {0, 2};

	reply_fix_init(&f);
	f.reply.code = DTX__V1__CODE__CODE_EMOVED;
	f.reply.tx = NULL;
	f.reply.topology = &t;
	t.has_shards = true;
	t.shards = 3;
	t.n_owned = 2;
	t.owned = owned;
	t.url = str("tcp://127.0.0.1:7400");
	o.has_shard = true;
	o.shard = 1;
	o.url = str("ipc:///tmp/dtxd1.ipc");
	t.n_owners = 1;
	t.owners = &op;
	f.reply.owner_url = str("tcp://10.0.0.2:7400");
	f.reply.has_shard = true;
	f.reply.shard = 1;
	cr_assert_eq(client_reply_code(&f.reply), DTX_OK, "%s", errbuf);
	t.shards = 1025;
	cr_assert_eq(client_reply_code(&f.reply), DTX_EPROTO);
	t.shards = 0;
	cr_assert_eq(client_reply_code(&f.reply), DTX_EPROTO);
	t.shards = 2; /* owns shard 2 of 2 */
	cr_assert_eq(client_reply_code(&f.reply), DTX_EPROTO);
	t.shards = 3;
	o.shard = 3;
	cr_assert_eq(client_reply_code(&f.reply), DTX_EPROTO);
	o.shard = 1;
	o.url = str("http://evil:80");
	cr_assert_eq(client_reply_code(&f.reply), DTX_EINVAL);
	o.url = str("tcp://127.0.0.1:7401");
	f.reply.owner_url = str("tcp://127.0.0.1:99999");
	cr_assert_eq(client_reply_code(&f.reply), DTX_EINVAL);
	f.reply.owner_url = NULL;
	f.reply.shard = 1024;
	cr_assert_eq(client_reply_code(&f.reply), DTX_EPROTO);
	f.reply.shard = 1;
	t.has_shards = false;
	cr_assert_eq(client_reply_code(&f.reply), DTX_EPROTO);
}

Test(wire, refuses_client_reply_with_out_of_range_states)
{
	struct reply_fix f;

	reply_fix_init(&f);
	f.tx.state = 8;
	cr_assert_eq(client_reply_code(&f.reply), DTX_EPROTO);
	reply_fix_init(&f);
	f.tx.mode = 3;
	cr_assert_eq(client_reply_code(&f.reply), DTX_EPROTO);
	reply_fix_init(&f);
	f.steps[1].state = 13;
	cr_assert_eq(client_reply_code(&f.reply), DTX_EPROTO);
	reply_fix_init(&f);
	f.steps[0].state = DTX__V1__STEP_STATE__STEP_STATE_UNSPECIFIED;
	cr_assert_eq(client_reply_code(&f.reply), DTX_EPROTO);
}

Test(wire, refuses_invalid_utf8_in_client_reply)
{
	struct reply_fix f;

	reply_fix_init(&f);
	f.tx.reason = str("bad \xfe reason");
	cr_assert_eq(client_reply_code(&f.reply), DTX_EPROTO);
	reply_fix_init(&f);
	f.reply.message = str("\x80");
	cr_assert_eq(client_reply_code(&f.reply), DTX_EPROTO);
	reply_fix_init(&f);
	f.steps[0].last_error = str("\xc3");
	cr_assert_eq(client_reply_code(&f.reply), DTX_EPROTO);
}

Test(wire, accepts_client_reply_without_tx)
{
	struct reply_fix f;

	reply_fix_init(&f);
	f.reply.tx = NULL;
	f.reply.code = DTX__V1__CODE__CODE_ENOENT;
	f.reply.message = str("no such transaction");
	cr_assert_eq(client_reply_code(&f.reply), DTX_OK);
}

/* ---- log records ------------------------------------------------------- */

Test(wire, refuses_log_records_with_out_of_range_enums)
{
	Dtx__V1__LogTx t = DTX__V1__LOG_TX__INIT;
	Dtx__V1__LogStep s = DTX__V1__LOG_STEP__INIT;
	Dtx__V1__LogEvent e = DTX__V1__LOG_EVENT__INIT;
	Dtx__V1__LogTx *tout = NULL;
	Dtx__V1__LogStep *sout = NULL;
	Dtx__V1__LogEvent *eout = NULL;
	size_t len;
	uint8_t *buf;

	t.has_state = true;
	t.state = 8;
	buf = pack_msg(&t.base, &len);
	cr_assert_eq(wire_log_tx_decode(buf, len, &tout), DTX_EPROTO);
	free(buf);
	s.has_state = true;
	s.state = 99;
	buf = pack_msg(&s.base, &len);
	cr_assert_eq(wire_log_step_decode(buf, len, &sout), DTX_EPROTO);
	free(buf);
	e.has_step_state = true;
	e.step_state = -3;
	buf = pack_msg(&e.base, &len);
	cr_assert_eq(wire_log_event_decode(buf, len, &eout), DTX_EPROTO);
	free(buf);
}

Test(wire, refuses_invalid_utf8_in_log_records)
{
	Dtx__V1__LogEvent e = DTX__V1__LOG_EVENT__INIT;
	Dtx__V1__LogStep s = DTX__V1__LOG_STEP__INIT;
	Dtx__V1__LogEvent *eout = NULL;
	Dtx__V1__LogStep *sout = NULL;
	size_t len;
	uint8_t *buf;

	e.detail = str("\xf8\x88\x80\x80\x80");
	buf = pack_msg(&e.base, &len);
	cr_assert_eq(wire_log_event_decode(buf, len, &eout), DTX_EPROTO);
	free(buf);
	s.last_error = str("\xe0\x80\x80");
	buf = pack_msg(&s.base, &len);
	cr_assert_eq(wire_log_step_decode(buf, len, &sout), DTX_EPROTO);
	free(buf);
}

Test(wire, accepts_unspecified_enums_in_log_records)
{
	Dtx__V1__LogEvent e = DTX__V1__LOG_EVENT__INIT;
	Dtx__V1__LogEvent *out = NULL;
	size_t len;
	uint8_t *buf;

	e.has_step = true;
	e.step = -1;
	e.has_step_state = true;
	e.step_state = DTX__V1__STEP_STATE__STEP_STATE_UNSPECIFIED;
	buf = pack_msg(&e.base, &len);
	cr_assert_eq(wire_log_event_decode(buf, len, &out), DTX_OK);
	free(buf);
	wire_log_event_free(out);
}

/* ---- malformed bytes --------------------------------------------------- */

Test(wire, refuses_truncated_bytes)
{
	struct saga_fix f;
	size_t len;
	uint8_t *buf;
	Dtx__V1__ClientRequest *out = NULL;

	saga_fix_init(&f, 2);
	buf = pack_msg(&f.req.base, &len);
	cr_assert_eq(
	        wire_client_request_decode(buf, len - 1, NULL, &out, NULL, 0),
	        DTX_EPROTO);
	/* Every prefix decodes to some answer without crashing or leaking. */
	for (size_t n = 0; n < len; n++) {
		if (wire_client_request_decode(buf, n, NULL, &out, NULL, 0) ==
		    DTX_OK)
			wire_client_request_free(out);
	}
	free(buf);
}

Test(wire, refuses_garbage_bytes)
{
	static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t wrong_type[] = {0x0a, 0x01, 0x01}; /* version */
	Dtx__V1__BranchCall *call = NULL;
	Dtx__V1__ClientRequest *req = NULL;

	cr_assert_eq(wire_branch_call_decode(garbage, sizeof(garbage), NULL,
	                                     &call, errbuf, sizeof(errbuf)),
	             DTX_EPROTO);
	cr_assert_eq(wire_client_request_decode(wrong_type, sizeof(wrong_type),
	                                        NULL, &req, NULL, 0),
	             DTX_EPROTO);
	cr_assert_null(call);
	cr_assert_null(req);
}

Test(wire, refuses_empty_input_as_versionless)
{
	Dtx__V1__BranchReply *r = NULL;

	cr_assert_eq(wire_branch_reply_decode("", 0, &r, NULL, 0),
	             DTX_EVERSION);
	cr_assert_eq(wire_branch_reply_decode(NULL, 0, &r, NULL, 0),
	             DTX_EVERSION);
}

/* decode_any runs every decoder on one buffer and frees what passes. */
static void decode_any(const uint8_t *buf, size_t len)
{
	Dtx__V1__ClientRequest *a = NULL;
	Dtx__V1__ClientReply *b = NULL;
	Dtx__V1__BranchCall *c = NULL;
	Dtx__V1__BranchReply *d = NULL;
	Dtx__V1__LogTx *e = NULL;
	Dtx__V1__LogStep *f = NULL;
	Dtx__V1__LogEvent *g = NULL;

	if (wire_client_request_decode(buf, len, NULL, &a, errbuf, 8) == 0)
		wire_client_request_free(a);
	if (wire_client_reply_decode(buf, len, &b, errbuf, 8) == 0)
		wire_client_reply_free(b);
	if (wire_branch_call_decode(buf, len, NULL, &c, errbuf, 8) == 0)
		wire_branch_call_free(c);
	if (wire_branch_reply_decode(buf, len, &d, errbuf, 8) == 0)
		wire_branch_reply_free(d);
	if (wire_log_tx_decode(buf, len, &e) == 0)
		wire_log_tx_free(e);
	if (wire_log_step_decode(buf, len, &f) == 0)
		wire_log_step_free(f);
	if (wire_log_event_decode(buf, len, &g) == 0)
		wire_log_event_free(g);
}

Test(wire, survives_random_bytes_and_bit_flips)
{
	struct saga_fix f;
	uint8_t rnd[64];
	size_t len;
	uint8_t *buf;
	unsigned seed = 12345;

	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)(rand_r(&seed) % (int)sizeof(rnd));

		for (size_t j = 0; j < n; j++)
			rnd[j] = (uint8_t)rand_r(&seed);
		decode_any(rnd, n);
	}
	saga_fix_init(&f, 2);
	buf = pack_msg(&f.req.base, &len);
	for (size_t bit = 0; bit < len * 8; bit++) {
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		decode_any(buf, len);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	free(buf);
}

/* ---- character rules --------------------------------------------------- */

Test(wire, validates_utf8)
{
	cr_assert(wire_utf8_is_valid("", 0));
	cr_assert(wire_utf8_is_valid(NULL, 0));
	cr_assert_not(wire_utf8_is_valid(NULL, 1));
	cr_assert(wire_utf8_is_valid("plain ascii", 11));
	cr_assert(wire_utf8_is_valid("\xe2\x82\xac", 3));         /* euro */
	cr_assert(wire_utf8_is_valid("\xf0\x9d\x84\x9e", 4));     /* clef */
	cr_assert(wire_utf8_is_valid("\xf4\x8f\xbf\xbf", 4));     /* max */
	cr_assert(wire_utf8_is_valid("\xef\xbf\xbf", 3));         /* U+FFFF */
	cr_assert_not(wire_utf8_is_valid("\xc1\xbf", 2));         /* overlong */
	cr_assert_not(wire_utf8_is_valid("\xe0\x9f\xbf", 3));     /* overlong */
	cr_assert_not(wire_utf8_is_valid("\xf0\x8f\xbf\xbf", 4)); /* overlong */
	cr_assert_not(wire_utf8_is_valid("\xed\xbf\xbf", 3)); /* surrogate */
	cr_assert_not(wire_utf8_is_valid("\xf5\x80\x80\x80", 4));
	cr_assert_not(wire_utf8_is_valid("\xe2\x28\xa1", 3));
	cr_assert_not(wire_utf8_is_valid("\xe2\x82\xac", 2)); /* cut short */
}

Test(wire, validates_names)
{
	cr_assert(wire_name_is_valid("inventory.deduct", 128));
	cr_assert(wire_name_is_valid("A-z_0.9:x", 128));
	cr_assert(wire_name_is_valid("abc", 3));
	cr_assert_not(wire_name_is_valid("abcd", 3));
	cr_assert_not(wire_name_is_valid("", 3));
	cr_assert_not(wire_name_is_valid(NULL, 3));
	cr_assert_not(wire_name_is_valid("a b", 128));
	cr_assert_not(wire_name_is_valid("a/b", 128));
	cr_assert_not(wire_name_is_valid("caf\xc3\xa9", 128));
}

/* ---- crc32c ------------------------------------------------------------ */

/* RFC 3720 B.4's 32-byte vectors cover the 8-byte steps of the hardware
 * form; every split of a buffer must give the same CRC as the whole. */
Test(crc32c, matches_rfc3720_vectors_and_extends_across_any_split)
{
	uint8_t zeros[32] = {0}, ones[32], inc[32], buf[77];

	memset(ones, 0xff, sizeof(ones));
	for (int i = 0; i < 32; i++)
		inc[i] = (uint8_t)i;
	cr_assert_eq(crc32c_extend(0, zeros, 32), 0x8A9136AAu);
	cr_assert_eq(crc32c_extend(0, ones, 32), 0x62A8AB43u);
	cr_assert_eq(crc32c_extend(0, inc, 32), 0x46DD794Eu);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 37 + 11);
	for (size_t len = 0; len <= sizeof(buf); len++)
		for (size_t k = 0; k <= len; k++)
			cr_assert_eq(crc32c_extend(crc32c_extend(0, buf, k),
			                           buf + k, len - k),
			             crc32c_extend(0, buf, len),
			             "len %zu split %zu", len, k);
}

Test(crc32c, matches_the_standard_check_value)
{
	cr_assert_eq(crc32c_extend(0, "123456789", 9), 0xE3069283u);
}

Test(crc32c, extends_across_chunks_like_one_pass)
{
	const char *s = "the quick brown fox jumps over the lazy dog";
	size_t len = strlen(s);
	uint32_t whole = crc32c_extend(0, s, len);

	for (size_t cut = 0; cut <= len; cut++) {
		uint32_t crc = crc32c_extend(0, s, cut);

		cr_assert_eq(crc32c_extend(crc, s + cut, len - cut), whole);
	}
	cr_assert_eq(crc32c_extend(0, NULL, 0), 0);
}

/* ---- names (dtx.h) ----------------------------------------------------- */

Test(names, gives_every_error_its_own_message)
{
	for (int i = 0; i < DTX_ERR_COUNT; i++) {
		cr_assert_str_neq(dtx_strerror(i), "unknown error", "%d", i);
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(dtx_strerror(i), dtx_strerror(j));
	}
	cr_assert_str_eq(dtx_strerror(DTX_ERR_COUNT), "unknown error");
	cr_assert_str_eq(dtx_strerror(-1), "unknown error");
}

Test(names, names_ops_and_states)
{
	static const char *const ops[] = {"action", "compensate", "try",
	                                  "confirm", "cancel"};

	for (int i = 0; i < 5; i++)
		cr_assert_str_eq(dtx_op_name(DTX_OP_ACTION + i), ops[i]);
	cr_assert_str_eq(dtx_op_name(0), "unknown");
	cr_assert_str_eq(dtx_op_name(6), "unknown");
	cr_assert_str_eq(dtx_tx_state_name(DTX_TX_COMMITTED), "committed");
	cr_assert_str_eq(dtx_tx_state_name(DTX_TX_COMPENSATING),
	                 "compensating");
	cr_assert_str_eq(dtx_tx_state_name(0), "unknown");
	cr_assert_str_eq(dtx_tx_state_name(7), "cancelled");
	cr_assert_str_eq(dtx_tx_state_name(8), "unknown");
	cr_assert_str_eq(dtx_step_state_name(DTX_STEP_PENDING), "pending");
	cr_assert_str_eq(dtx_step_state_name(DTX_STEP_COMPENSATED),
	                 "compensated");
	cr_assert_str_eq(dtx_step_state_name(12), "cancelled");
	cr_assert_str_eq(dtx_step_state_name(13), "unknown");
	cr_assert_str_eq(dtx_step_state_name(-7), "unknown");
}

Test(names, treats_only_committed_compensated_and_cancelled_as_final)
{
	cr_assert(dtx_tx_state_is_final(DTX_TX_COMMITTED));
	cr_assert(dtx_tx_state_is_final(DTX_TX_COMPENSATED));
	cr_assert(dtx_tx_state_is_final(DTX_TX_CANCELLED));
	cr_assert_not(dtx_tx_state_is_final(DTX_TX_RUNNING));
	cr_assert_not(dtx_tx_state_is_final(DTX_TX_COMPENSATING));
	cr_assert_not(dtx_tx_state_is_final(DTX_TX_CONFIRMING));
	cr_assert_not(dtx_tx_state_is_final(DTX_TX_CANCELLING));
	cr_assert_not(dtx_tx_state_is_final(0));
}

/* ---- batches ------------------------------------------------------------ */

/* batch_bytes builds a batch of n calls the way dtxd does (wire_batch_*
 * around packed calls); the caller frees the buffer. */
static uint8_t *batch_bytes(Dtx__V1__BranchCall *calls, size_t n,
                            size_t *ret_len)
{
	size_t len = wire_batch_head_size(), at;
	uint8_t *buf;

	for (size_t i = 0; i < n; i++) {
		size_t l = wire_packed_size(&calls[i].base);

		len += wire_batch_item_head_size(l) + l;
	}
	buf = malloc(len);
	cr_assert_not_null(buf);
	wire_batch_head(buf);
	at = wire_batch_head_size();
	for (size_t i = 0; i < n; i++) {
		size_t l = wire_packed_size(&calls[i].base);

		at += wire_batch_item_head(buf + at, false, l);
		wire_pack(&calls[i].base, buf + at);
		at += l;
	}
	cr_assert_eq(at, len);
	*ret_len = len;
	return buf;
}

Test(wire, a_hand_built_batch_decodes_as_protobuf_with_each_call_intact)
{
	Dtx__V1__BranchCall calls[WIRE_BATCH_MAX];
	Dtx__V1__BranchCall *out = NULL;
	size_t len;
	uint8_t *buf;

	for (int i = 0; i < WIRE_BATCH_MAX; i++) {
		branch_call_init(&calls[i]);
		calls[i].branch = (uint32_t)i;
	}
	calls[5].gid = str("bad gid!"); /* invalid: refused alone */
	buf = batch_bytes(calls, WIRE_BATCH_MAX, &len);
	cr_assert_eq(wire_branch_calls_decode(buf, len, NULL, &out, errbuf,
	                                      sizeof(errbuf)),
	             DTX_OK, "%s", errbuf);
	cr_assert_eq(out->n_batch, WIRE_BATCH_MAX);
	for (int i = 0; i < WIRE_BATCH_MAX; i++) {
		cr_assert_eq(out->batch[i]->branch, (uint32_t)i);
		cr_assert_eq(wire_branch_call_check(out->batch[i], NULL, errbuf,
		                                    sizeof(errbuf)),
		             i == 5 ? DTX_EINVAL : DTX_OK, "call %d: %s", i,
		             errbuf);
	}
	cr_assert_str_eq(out->batch[1]->handler, "inventory.restock");
	wire_branch_call_free(out);
	/* the single-call decoder refuses a batch */
	cr_assert_eq(wire_branch_call_decode(buf, len, NULL, &out, errbuf,
	                                     sizeof(errbuf)),
	             DTX_EPROTO);
	free(buf);
}

Test(wire, refuses_batches_too_big_nested_or_with_call_fields)
{
	Dtx__V1__BranchCall calls[WIRE_BATCH_MAX + 1], env, *inner[2], *out;
	size_t len;
	uint8_t *buf;

	for (int i = 0; i <= WIRE_BATCH_MAX; i++)
		branch_call_init(&calls[i]);
	buf = batch_bytes(calls, WIRE_BATCH_MAX + 1, &len);
	cr_assert_eq(wire_branch_calls_decode(buf, len, NULL, &out, errbuf,
	                                      sizeof(errbuf)),
	             DTX_EPROTO);
	cr_assert(strstr(errbuf, "batch of 65 calls") != NULL, "%s", errbuf);
	free(buf);
	/* a batch inside a batch */
	dtx__v1__branch_call__init(&env);
	env.has_version = true;
	env.version = DTX__V1__VERSION__VERSION_1;
	inner[0] = &calls[0];
	inner[1] = &calls[1];
	env.n_batch = 2;
	env.batch = inner;
	calls[2].n_batch = 2;
	calls[2].batch = inner;
	calls[2].gid = NULL;
	buf = batch_bytes(&calls[2], 2, &len);
	cr_assert_eq(wire_branch_calls_decode(buf, len, NULL, &out, errbuf,
	                                      sizeof(errbuf)),
	             DTX_EPROTO);
	free(buf);
	/* an envelope that also names a gid */
	env.gid = str("0001a2b3c4d5e6f7");
	buf = pack_msg(&env.base, &len);
	cr_assert_eq(wire_branch_calls_decode(buf, len, NULL, &out, errbuf,
	                                      sizeof(errbuf)),
	             DTX_EPROTO);
	free(buf);
	/* a batch of one is not a batch */
	env.gid = NULL;
	env.n_batch = 1;
	buf = pack_msg(&env.base, &len);
	cr_assert_eq(wire_branch_calls_decode(buf, len, NULL, &out, errbuf,
	                                      sizeof(errbuf)),
	             DTX_EPROTO);
	free(buf);
}

Test(wire, batch_replies_must_answer_every_call_validly)
{
	Dtx__V1__BranchReply r[3], env, *rp[3], *out = NULL;
	size_t len;
	uint8_t *buf;

	for (int i = 0; i < 3; i++) {
		branch_reply_init(&r[i]);
		rp[i] = &r[i];
	}
	dtx__v1__branch_reply__init(&env);
	env.has_version = true;
	env.version = DTX__V1__VERSION__VERSION_1;
	env.n_batch = 3;
	env.batch = rp;
	buf = pack_msg(&env.base, &len);
	cr_assert_eq(wire_branch_replies_decode(buf, len, 3, &out, errbuf,
	                                        sizeof(errbuf)),
	             DTX_OK, "%s", errbuf);
	cr_assert_str_eq(out->batch[2]->message, "out of stock");
	wire_branch_reply_free(out);
	/* two calls sent, three answers: refused */
	cr_assert_eq(wire_branch_replies_decode(buf, len, 2, &out, errbuf,
	                                        sizeof(errbuf)),
	             DTX_EPROTO);
	cr_assert(strstr(errbuf, "answered with 3") != NULL, "%s", errbuf);
	/* a plain reply where a batch's was due */
	free(buf);
	buf = pack_msg(&r[0].base, &len);
	cr_assert_eq(wire_branch_replies_decode(buf, len, 3, &out, errbuf,
	                                        sizeof(errbuf)),
	             DTX_EPROTO);
	free(buf);
	/* one invalid reply spoils the batch */
	r[1].has_status = false;
	buf = pack_msg(&env.base, &len);
	cr_assert_eq(wire_branch_replies_decode(buf, len, 3, &out, errbuf,
	                                        sizeof(errbuf)),
	             DTX_EPROTO);
	free(buf);
}

/* ---- the encoding walk: depth, NUL, URLs, ranges ------------------------ */

/* nested_replies returns a BranchReply whose batch holds one reply, which
 * holds one, ... depth messages in all (the outermost counts 1), built
 * from the inside out; *ret_len is its size. The caller frees it. */
static uint8_t *nested_replies(size_t depth, size_t *ret_len)
{
	size_t cap = depth * 12 + 16, len = 0;
	uint8_t *buf = malloc(cap), *tmp = malloc(cap);

	cr_assert(buf != NULL && tmp != NULL);
	for (size_t d = 1; d < depth; d++) {
		size_t n = wire_batch_item_head(tmp, true, len);

		memcpy(tmp + n, buf, len);
		memcpy(buf, tmp, n + len);
		len += n;
	}
	/* the outermost: version 1 in front of its one batch item */
	memmove(buf + 2, buf, len);
	wire_batch_head(buf);
	free(tmp);
	*ret_len = len + 2;
	return buf;
}

Test(wire, refuses_messages_nested_past_the_depth_limit_before_unpacking)
{
	size_t depths[] = {WIRE_MAX_DEPTH + 1, 100, 10000, 200000};

	for (size_t i = 0; i < sizeof(depths) / sizeof(depths[0]); i++) {
		size_t len;
		uint8_t *buf = nested_replies(depths[i], &len);
		Dtx__V1__BranchReply *out = NULL;
		Dtx__V1__BranchCall *call = NULL;

		errbuf[0] = '\0';
		cr_assert_eq(wire_branch_reply_decode(buf, len, &out, errbuf,
		                                      sizeof(errbuf)),
		             DTX_EPROTO, "depth %zu", depths[i]);
		cr_assert(strstr(errbuf, "nested deeper than") != NULL, "%s",
		          errbuf);
		cr_assert(strstr(errbuf, "BranchReply.batch") != NULL, "%s",
		          errbuf);
		cr_assert_eq(wire_branch_replies_decode(buf, len, 2, &out,
		                                        errbuf, sizeof(errbuf)),
		             DTX_EPROTO);
		/* the same bytes as a call: field 5 of BranchCall is op, a
		 * varint, so they are not a call at all */
		cr_assert_neq(wire_branch_calls_decode(buf, len, NULL, &call,
		                                       errbuf, sizeof(errbuf)),
		              DTX_OK);
		free(buf);
	}
}

Test(wire, a_batch_inside_a_batch_is_refused_by_the_check_within_the_depth)
{
	size_t len;
	uint8_t *buf = nested_replies(3, &len);
	Dtx__V1__BranchReply *out = NULL;

	cr_assert_eq(wire_branch_replies_decode(buf, len, 1, &out, errbuf,
	                                        sizeof(errbuf)),
	             DTX_EPROTO);
	cr_assert(strstr(errbuf, "nested") == NULL, "%s", errbuf);
	free(buf);
}

/* schema_depth is the deepest nesting of message fields under desc that
 * does not revisit a type already on the path (seen, n entries). */
static unsigned schema_depth(const ProtobufCMessageDescriptor *desc,
                             const ProtobufCMessageDescriptor **seen, size_t n)
{
	unsigned best = 1;

	for (size_t i = 0; i < n; i++)
		if (seen[i] == desc)
			return 0;
	seen[n] = desc;
	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		unsigned d;

		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		d = 1 + schema_depth(f->descriptor, seen, n + 1);
		if (d > best)
			best = d;
	}
	return best;
}

Test(wire, every_message_of_the_schema_fits_the_depth_limit)
{
	const ProtobufCMessageDescriptor *tops[] = {
	        &dtx__v1__client_request__descriptor,
	        &dtx__v1__client_reply__descriptor,
	        &dtx__v1__branch_call__descriptor,
	        &dtx__v1__branch_reply__descriptor,
	        &dtx__v1__admin_request__descriptor,
	        &dtx__v1__admin_reply__descriptor,
	        &dtx__v1__log_tx__descriptor,
	        &dtx__v1__log_step__descriptor,
	        &dtx__v1__log_event__descriptor,
	};
	const ProtobufCMessageDescriptor *seen[32];

	for (size_t i = 0; i < sizeof(tops) / sizeof(tops[0]); i++) {
		/* a batch (a type inside itself) is one level more */
		unsigned d = schema_depth(tops[i], seen, 0) + 1;

		cr_assert_leq(d, WIRE_MAX_DEPTH, "%s nests %u deep",
		              tops[i]->name, d);
	}
}

/* gid_with_nul packs a Query for "order-42" and turns the 'r' of the
 * gid's bytes into a NUL, as a hostile client would ("o\0der-42"). */
static uint8_t *query_with_nul(size_t *ret_len)
{
	Dtx__V1__Query q = DTX__V1__QUERY__INIT;
	Dtx__V1__ClientRequest req = DTX__V1__CLIENT_REQUEST__INIT;
	uint8_t *buf, *p;

	q.gid = str("order-42");
	req.has_version = true;
	req.version = DTX__V1__VERSION__VERSION_1;
	req.body_case = DTX__V1__CLIENT_REQUEST__BODY_QUERY;
	req.query = &q;
	buf = pack_msg(&req.base, ret_len);
	p = memmem(buf, *ret_len, "order-42", 8);
	cr_assert(p != NULL);
	p[1] = '\0';
	return buf;
}

Test(wire, refuses_strings_with_a_nul_byte)
{
	size_t len;
	uint8_t *buf = query_with_nul(&len);
	Dtx__V1__ClientRequest *out = NULL;

	cr_assert_eq(wire_client_request_decode(buf, len, NULL, &out, errbuf,
	                                        sizeof(errbuf)),
	             DTX_EINVAL);
	cr_assert_str_eq(errbuf, "Query.gid holds a NUL byte");
	free(buf);
}

Test(wire, refuses_participant_urls_the_coordinator_cannot_dial)
{
	static const struct {
		const char *url;
		int code;
		const char *says;
	} cases[] = {
	        {"tcp://127.0.0.1:7001", DTX_OK, NULL},
	        {"tcp://shop-inventory.svc:7001", DTX_OK, NULL},
	        {"tcp4://10.0.0.2:1", DTX_OK, NULL},
	        {"tcp6://[::1]:65535", DTX_OK, NULL},
	        {"ipc:///run/dtx/inventory.sock", DTX_OK, NULL},
	        {"http://127.0.0.1:7001", DTX_EINVAL, "scheme \"http\""},
	        {"zt://abc.def:7001", DTX_EINVAL, "scheme \"zt\""},
	        {"foo", DTX_EINVAL, "no scheme"},
	        {"tcp://127.0.0.1:99999", DTX_EINVAL, "not 1..65535"},
	        {"tcp://127.0.0.1:0", DTX_EINVAL, "not 1..65535"},
	        {"tcp://127.0.0.1:", DTX_EINVAL, "not 1..65535"},
	        {"tcp://127.0.0.1:7001/x", DTX_EINVAL, "not 1..65535"},
	        {"tcp://127.0.0.1", DTX_EINVAL, "HOST:PORT"},
	        {"tcp://:7001", DTX_EINVAL, "HOST:PORT"},
	        {"tcp://a b:7001", DTX_EINVAL, "HOST:PORT"},
	        {"tcp://[zz]:7001", DTX_EINVAL, "HOST:PORT"},
	        {"ipc://", DTX_EINVAL, "ipc path"},
	};
	char err[160];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct saga_fix f;

		err[0] = '\0';
		cr_assert_eq(wire_url_check(cases[i].url, err, sizeof(err)),
		             cases[i].code, "%s: %s", cases[i].url, err);
		saga_fix_init(&f, 1);
		f.steps[0].participant_url = str(cases[i].url);
		cr_assert_eq(request_code(&f.req, NULL), cases[i].code, "%s",
		             cases[i].url);
		if (cases[i].says != NULL)
			cr_assert(strstr(errbuf, cases[i].says) != NULL &&
			                  strncmp(errbuf, "step 0: ", 8) == 0,
			          "%s: %s", cases[i].url, errbuf);
	}
}

Test(wire, refuses_an_ipc_path_longer_than_a_unix_socket_holds)
{
	char url[6 + WIRE_IPC_PATH_MAX + 2];

	memcpy(url, "ipc://", 6);
	memset(url + 6, 'p', WIRE_IPC_PATH_MAX);
	url[6 + WIRE_IPC_PATH_MAX] = '\0';
	cr_assert_eq(wire_url_check(url, NULL, 0), DTX_OK);
	url[6 + WIRE_IPC_PATH_MAX] = 'p';
	url[6 + WIRE_IPC_PATH_MAX + 1] = '\0';
	cr_assert_eq(wire_url_check(url, NULL, 0), DTX_EINVAL);
}

Test(wire, refuses_a_step_timeout_past_an_hour)
{
	struct saga_fix f;

	saga_fix_init(&f, 2);
	f.steps[1].has_timeout_ms = true;
	f.steps[1].timeout_ms = WIRE_TIMEOUT_MAX_MS;
	cr_assert_eq(request_code(&f.req, NULL), DTX_OK);
	f.steps[1].timeout_ms = WIRE_TIMEOUT_MAX_MS + 1;
	cr_assert_eq(request_code(&f.req, NULL), DTX_EINVAL);
	f.steps[1].timeout_ms = UINT32_MAX;
	cr_assert_eq(request_code(&f.req, NULL), DTX_EINVAL);
	cr_assert_str_eq(errbuf, "step 1: timeout_ms 4294967295 is past the "
	                         "limit (max 3600000)");
}

Test(wire, unpack_failures_name_the_message_type_and_field)
{
	static const uint8_t truncated[] = {0x08, 0x01, 0x12, 0x40, 'x'};
	Dtx__V1__ClientRequest *req = NULL;
	Dtx__V1__AdminRequest *adm = NULL;
	Dtx__V1__BranchCall *call = NULL;

	cr_assert_eq(wire_client_request_decode(truncated, sizeof(truncated),
	                                        NULL, &req, errbuf,
	                                        sizeof(errbuf)),
	             DTX_EPROTO);
	cr_assert_str_eq(errbuf, "not a valid ClientRequest message: field 2 "
	                         "is truncated");
	cr_assert_eq(wire_admin_request_decode(truncated, sizeof(truncated),
	                                       &adm, errbuf, sizeof(errbuf)),
	             DTX_EPROTO);
	cr_assert(strstr(errbuf, "AdminRequest") != NULL, "%s", errbuf);
	cr_assert_eq(wire_branch_call_decode(truncated, sizeof(truncated), NULL,
	                                     &call, errbuf, sizeof(errbuf)),
	             DTX_EPROTO);
	cr_assert(strstr(errbuf, "BranchCall") != NULL, "%s", errbuf);
}
