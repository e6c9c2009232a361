/*
 * participant_test.c - libdtx's participant server over real nng sockets.
 *
 * Each test starts a participant on its own ipc:// address in a fresh
 * mkdtemp directory and plays the coordinator with a plain req0 socket,
 * packing BranchCalls and checking BranchReplies through wire.h.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "dtx/dtx.h"
#include "wire.h"

/* ---- fixture ----------------------------------------------------------- */

static char dir[64];
static char url[128];
static dtx_participant *part;
static atomic_int running, max_running;

static void setup(void)
{
	strcpy(dir, "/tmp/dtx-sdk-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "ipc://%s/p.ipc", dir);
	atomic_store(&running, 0);
	atomic_store(&max_running, 0);
	part = NULL;
}

static void teardown(void)
{
	char path[128];

	dtx_participant_destroy(part);
	snprintf(path, sizeof(path), "%s/p.ipc", dir);
	unlink(path);
	rmdir(dir);
}

TestSuite(participant, .init = setup, .fini = teardown);

/* ---- handlers ---------------------------------------------------------- */

/* echo answers OK with "gid/branch/op/attempt" as message, payload as
 * result. */
static dtx_status h_echo(void *arg, dtx_call *call)
{
	char text[256];
	size_t len;
	const void *p = dtx_call_payload(call, &len);

	snprintf(text, sizeof(text), "%s/%u/%s/%u", dtx_call_gid(call),
	         dtx_call_branch(call), dtx_op_name(dtx_call_op(call)),
	         dtx_call_attempt(call));
	cr_assert_eq(dtx_call_set_message(call, text), DTX_OK);
	cr_assert_eq(dtx_call_set_result(call, p, len), DTX_OK);
	return DTX_STATUS_OK;
}

static dtx_status h_fail(void *arg, dtx_call *call)
{
	dtx_call_set_message(call, "out of stock");
	return DTX_STATUS_FAIL;
}

static dtx_status h_retry(void *arg, dtx_call *call)
{
	return DTX_STATUS_RETRY;
}

static dtx_status h_bogus(void *arg, dtx_call *call)
{
	return (dtx_status)42;
}

static dtx_status h_slow(void *arg, dtx_call *call)
{
	struct timespec ts = {0, 20 * 1000 * 1000};
	int now = atomic_fetch_add(&running, 1) + 1;
	int max = atomic_load(&max_running);

	while (now > max &&
	       !atomic_compare_exchange_weak(&max_running, &max, now))
		;
	nanosleep(&ts, NULL);
	atomic_fetch_sub(&running, 1);
	return DTX_STATUS_OK;
}

static void start(unsigned workers, unsigned contexts, size_t max_msg)
{
	dtx_participant_opts o;

	dtx_participant_opts_init(&o);
	o.url = url;
	o.workers = workers;
	o.contexts = contexts;
	o.max_msg_bytes = max_msg;
	cr_assert_eq(dtx_participant_create(&o, &part), DTX_OK);
	cr_assert_eq(dtx_participant_register(part, "t.echo", h_echo, NULL),
	             DTX_OK);
	cr_assert_eq(dtx_participant_register(part, "t.fail", h_fail, NULL),
	             DTX_OK);
	cr_assert_eq(dtx_participant_register(part, "t.retry", h_retry, NULL),
	             DTX_OK);
	cr_assert_eq(dtx_participant_register(part, "t.bogus", h_bogus, NULL),
	             DTX_OK);
	cr_assert_eq(dtx_participant_register(part, "t.slow", h_slow, NULL),
	             DTX_OK);
	cr_assert_eq(dtx_participant_start(part), DTX_OK);
}

/* ---- the fake coordinator ---------------------------------------------- */

static nng_socket dial(void)
{
	nng_socket s;

	cr_assert_eq(nng_req0_open(&s), 0);
	cr_assert_eq(nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 1u << 20), 0);
	cr_assert_eq(nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 2000), 0);
	cr_assert_eq(nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 2000), 0);
	cr_assert_eq(nng_dial(s, url, NULL, 0), 0);
	return s;
}

/* pack_call packs a BranchCall for handler with payload (len bytes). */
static nng_msg *pack_call(const char *handler, const void *payload, size_t len,
                          uint32_t version)
{
	Dtx__V1__BranchCall c = DTX__V1__BRANCH_CALL__INIT;
	nng_msg *m;

	c.has_version = 1;
	c.version = version;
	c.gid = (char *)"g-1";
	c.has_branch = 1;
	c.branch = 7;
	c.has_op = 1;
	c.op = DTX__V1__OP__OP_COMPENSATE;
	c.handler = (char *)handler;
	c.has_payload = len > 0;
	c.payload.data = (uint8_t *)payload;
	c.payload.len = len;
	c.has_attempt = 1;
	c.attempt = 3;
	cr_assert_eq(nng_msg_alloc(&m, wire_packed_size(&c.base)), 0);
	wire_pack(&c.base, nng_msg_body(m));
	return m;
}

/* call sends m (transferred) on s and returns the decoded reply, or NULL
 * if none came before the receive timeout. */
static Dtx__V1__BranchReply *call(nng_socket s, nng_msg *m)
{
	Dtx__V1__BranchReply *r = NULL;
	char why[256];
	int rv;

	cr_assert_eq(nng_sendmsg(s, m, 0), 0);
	if ((rv = nng_recvmsg(s, &m, 0)) != 0) {
		cr_assert_eq(rv, NNG_ETIMEDOUT);
		return NULL;
	}
	rv = wire_branch_reply_decode(nng_msg_body(m), nng_msg_len(m), &r, why,
	                              sizeof(why));
	cr_assert_eq(rv, DTX_OK, "%s", why);
	nng_msg_free(m);
	return r;
}

static void expect(nng_socket s, const char *handler, Dtx__V1__BranchStatus st,
                   const char *message)
{
	Dtx__V1__BranchReply *r = call(s, pack_call(handler, "x", 1, 1));

	cr_assert_not_null(r);
	cr_assert_eq(r->status, st, "%s: status %d", handler, r->status);
	if (message == NULL)
		cr_assert_null(r->message);
	else
		cr_assert_str_eq(r->message, message);
	wire_branch_reply_free(r);
}

/* ---- tests ------------------------------------------------------------- */

Test(participant, answers_ok_with_the_call_and_the_handler_result)
{
	nng_socket s;
	Dtx__V1__BranchReply *r;

	start(2, 4, DTX_MSG_MAX_DEFAULT);
	s = dial();
	r = call(s, pack_call("t.echo", "abc", 3, 1));
	cr_assert_not_null(r);
	cr_assert_eq(r->version, 1);
	cr_assert_eq(r->status, DTX__V1__BRANCH_STATUS__BRANCH_OK);
	cr_assert_str_eq(r->message, "g-1/7/compensate/3");
	cr_assert(r->has_result);
	cr_assert_eq(r->result.len, 3);
	cr_assert_eq(memcmp(r->result.data, "abc", 3), 0);
	wire_branch_reply_free(r);
	nng_close(s);
}

Test(participant, answers_what_the_handler_returns)
{
	nng_socket s;

	start(2, 4, DTX_MSG_MAX_DEFAULT);
	s = dial();
	expect(s, "t.fail", DTX__V1__BRANCH_STATUS__BRANCH_FAIL,
	       "out of stock");
	expect(s, "t.retry", DTX__V1__BRANCH_STATUS__BRANCH_RETRY, NULL);
	nng_close(s);
}

Test(participant, answers_fail_for_an_unknown_handler)
{
	nng_socket s;

	start(2, 4, DTX_MSG_MAX_DEFAULT);
	s = dial();
	expect(s, "t.nope", DTX__V1__BRANCH_STATUS__BRANCH_FAIL,
	       "unknown handler: t.nope");
	nng_close(s);
}

Test(participant, answers_retry_when_a_handler_returns_an_invalid_status)
{
	nng_socket s;

	start(2, 4, DTX_MSG_MAX_DEFAULT);
	s = dial();
	expect(s, "t.bogus", DTX__V1__BRANCH_STATUS__BRANCH_RETRY,
	       "handler returned invalid status");
	nng_close(s);
}

Test(participant, answers_fail_for_a_call_that_fails_validation)
{
	nng_socket s;
	Dtx__V1__BranchReply *r;

	start(2, 4, DTX_MSG_MAX_DEFAULT);
	s = dial();
	r = call(s, pack_call("t.echo", "x", 1, 2));
	cr_assert_not_null(r);
	cr_assert_eq(r->status, DTX__V1__BRANCH_STATUS__BRANCH_FAIL);
	cr_assert_not_null(strstr(r->message, "invalid call: "));
	wire_branch_reply_free(r);
	nng_close(s);
}

Test(participant, answers_garbage_fail_and_keeps_serving)
{
	nng_socket s;
	nng_msg *m;
	Dtx__V1__BranchReply *r;

	start(2, 4, DTX_MSG_MAX_DEFAULT);
	s = dial();
	cr_assert_eq(nng_msg_alloc(&m, 0), 0);
	cr_assert_eq(nng_msg_append(m, "\xff\xff\xff\xff garbage", 12), 0);
	r = call(s, m);
	cr_assert_not_null(r, "garbage got no answer");
	cr_assert_eq(r->status, DTX__V1__BRANCH_STATUS__BRANCH_FAIL);
	cr_assert(strstr(r->message, "invalid call: not a valid BranchCall") ==
	                  r->message,
	          "%s", r->message);
	wire_branch_reply_free(r);
	expect(s, "t.retry", DTX__V1__BRANCH_STATUS__BRANCH_RETRY, NULL);
	nng_close(s);
}

Test(participant, drops_an_oversized_call_and_keeps_serving)
{
	static char big[8192];
	nng_socket s;

	start(2, 4, 4096);
	s = dial();
	cr_assert_eq(nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 300), 0);
	cr_assert_null(call(s, pack_call("t.echo", big, sizeof(big), 1)));
	nng_close(s);
	s = dial();
	expect(s, "t.fail", DTX__V1__BRANCH_STATUS__BRANCH_FAIL,
	       "out of stock");
	nng_close(s);
}

#define NCALLS 64

Test(participant, serves_64_concurrent_calls_on_4_workers)
{
	nng_socket s;
	nng_ctx ctx[NCALLS];
	nng_aio *aio[NCALLS];
	Dtx__V1__BranchReply *r;
	nng_msg *m;
	int i;

	start(4, 64, DTX_MSG_MAX_DEFAULT);
	s = dial();
	for (i = 0; i < NCALLS; i++) {
		cr_assert_eq(nng_ctx_open(&ctx[i], s), 0);
		cr_assert_eq(nng_aio_alloc(&aio[i], NULL, NULL), 0);
		nng_aio_set_timeout(aio[i], 5000);
		nng_aio_set_msg(aio[i], pack_call("t.slow", NULL, 0, 1));
		nng_ctx_send(ctx[i], aio[i]);
	}
	for (i = 0; i < NCALLS; i++) {
		nng_aio_wait(aio[i]);
		cr_assert_eq(nng_aio_result(aio[i]), 0);
		nng_ctx_recv(ctx[i], aio[i]);
	}
	for (i = 0; i < NCALLS; i++) {
		nng_aio_wait(aio[i]);
		cr_assert_eq(nng_aio_result(aio[i]), 0);
		m = nng_aio_get_msg(aio[i]);
		cr_assert_eq(wire_branch_reply_decode(nng_msg_body(m),
		                                      nng_msg_len(m), &r, NULL,
		                                      0),
		             DTX_OK);
		cr_assert_eq(r->status, DTX__V1__BRANCH_STATUS__BRANCH_OK);
		wire_branch_reply_free(r);
		nng_msg_free(m);
		nng_aio_free(aio[i]);
		nng_ctx_close(ctx[i]);
	}
	cr_assert_eq(atomic_load(&max_running), 4);
	nng_close(s);
}

Test(participant, refuses_bad_registrations)
{
	dtx_participant_opts o;
	char longname[DTX_HANDLER_MAX + 2];

	dtx_participant_opts_init(&o);
	o.url = url;
	cr_assert_eq(dtx_participant_create(&o, &part), DTX_OK);
	cr_assert_eq(dtx_participant_register(part, "a.b", h_retry, NULL),
	             DTX_OK);
	cr_assert_eq(dtx_participant_register(part, "a.b", h_fail, NULL),
	             DTX_ELIMIT);
	cr_assert_eq(dtx_participant_register(part, "a b", h_fail, NULL),
	             DTX_EINVAL);
	cr_assert_eq(dtx_participant_register(part, "", h_fail, NULL),
	             DTX_EINVAL);
	cr_assert_eq(dtx_participant_register(part, "c", NULL, NULL),
	             DTX_EINVAL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	cr_assert_eq(dtx_participant_register(part, longname, h_fail, NULL),
	             DTX_ETOOBIG);
	cr_assert_eq(dtx_participant_start(part), DTX_OK);
	cr_assert_eq(dtx_participant_start(part), DTX_EINVAL);
	cr_assert_eq(dtx_participant_register(part, "late", h_fail, NULL),
	             DTX_EINVAL);
}

Test(participant, refuses_bad_options)
{
	dtx_participant_opts o;
	dtx_participant *p = NULL;

	dtx_participant_opts_init(&o);
	cr_assert_eq(dtx_participant_create(&o, &p), DTX_EINVAL); /* no url */
	o.url = url;
	o.workers = 0;
	cr_assert_eq(dtx_participant_create(&o, &p), DTX_EINVAL);
	o.workers = 1;
	o.max_msg_bytes = 10;
	cr_assert_eq(dtx_participant_create(&o, &p), DTX_EINVAL);
	cr_assert_null(p);
	dtx_participant_destroy(NULL);
}

Test(participant, start_reports_an_unusable_url_and_can_be_destroyed)
{
	dtx_participant_opts o;

	dtx_participant_opts_init(&o);
	o.url = "nope://x";
	cr_assert_eq(dtx_participant_create(&o, &part), DTX_OK);
	cr_assert_eq(dtx_participant_start(part), DTX_EUNREACHABLE);
}

Test(participant, start_refuses_an_address_in_use)
{
	dtx_participant_opts o;
	dtx_participant *second = NULL;

	start(1, 2, DTX_MSG_MAX_DEFAULT);
	dtx_participant_opts_init(&o);
	o.url = url;
	cr_assert_eq(dtx_participant_create(&o, &second), DTX_OK);
	cr_assert_eq(dtx_participant_start(second), DTX_EUNREACHABLE);
	dtx_participant_destroy(second);
}
