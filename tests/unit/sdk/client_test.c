/*
 * client_test.c - libdtx's client against a fake coordinator.
 *
 * The fake is a rep0 socket on its own ipc:// address (fresh mkdtemp
 * directory per test) served by one thread that decodes each ClientRequest
 * with wire.h and answers as the test's `mode` says.
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
#include <nng/protocol/reqrep0/rep.h>

#include "dtx/dtx.h"
#include "wire.h"

enum mode { ANSWER, ENOENT_CODE, GARBAGE, SILENT, HANG_UP };

static char dir[64];
static char url[128];
static nng_socket coord;
static pthread_t coord_thread;
static atomic_int mode;
static dtx_client *client;

/* what the fake saw last (written by its thread, read after a reply) */
static uint32_t seen_wait_ms;
static char seen_gid[DTX_GID_MAX + 1];
static bool seen_gid_present;
static size_t seen_nsteps;
static size_t seen_payload_len;

/* ---- the fake coordinator ---------------------------------------------- */

static void record(const Dtx__V1__ClientRequest *req)
{
	const char *gid = NULL;

	seen_wait_ms = req->wait_ms;
	seen_nsteps = 0;
	if (req->body_case == DTX__V1__CLIENT_REQUEST__BODY_SUBMIT) {
		gid = req->submit->gid;
		seen_nsteps = req->submit->n_steps;
		seen_payload_len = req->submit->steps[0]->payload.len;
	} else {
		gid = req->query->gid;
	}
	seen_gid_present = gid != NULL;
	snprintf(seen_gid, sizeof(seen_gid), "%s", gid ? gid : "");
}

static nng_msg *answer(const Dtx__V1__ClientRequest *req)
{
	Dtx__V1__ClientReply rep = DTX__V1__CLIENT_REPLY__INIT;
	Dtx__V1__TxInfo tx = DTX__V1__TX_INFO__INIT;
	Dtx__V1__StepInfo st[2] = {DTX__V1__STEP_INFO__INIT,
	                           DTX__V1__STEP_INFO__INIT};
	Dtx__V1__StepInfo *stp[2] = {&st[0], &st[1]};
	nng_msg *m;
	int i;

	rep.has_version = rep.has_code = 1;
	rep.version = 1;
	rep.code = DTX__V1__CODE__CODE_OK;
	if (atomic_load(&mode) == ENOENT_CODE) {
		rep.code = DTX__V1__CODE__CODE_ENOENT;
		rep.message = (char *)"no such transaction";
	} else {
		rep.tx = &tx;
		rep.has_created = rep.created = 1;
		tx.gid = seen_gid_present ? seen_gid : (char *)"auto-1";
		tx.has_mode = tx.has_state = 1;
		tx.mode = DTX__V1__MODE__MODE_SAGA;
		tx.state = DTX__V1__TX_STATE__TX_RUNNING;
		tx.has_failed_step = 1;
		tx.failed_step = -1;
		tx.has_created_unix_ms = 1;
		tx.created_unix_ms = 1234;
		tx.n_steps = 2;
		tx.steps = stp;
		for (i = 0; i < 2; i++) {
			st[i].has_index = st[i].has_state = st[i].has_attempts =
			        1;
			st[i].index = (uint32_t)i;
			st[i].state = DTX__V1__STEP_STATE__STEP_PENDING;
			st[i].last_error = (char *)"";
		}
	}
	cr_assert_eq(nng_msg_alloc(&m, wire_packed_size(&rep.base)), 0);
	wire_pack(&rep.base, nng_msg_body(m));
	return m;
}

static void *coord_main(void *arg)
{
	Dtx__V1__ClientRequest *req;
	nng_msg *m;

	while (nng_recvmsg(coord, &m, 0) == 0) {
		cr_assert_eq(wire_client_request_decode(nng_msg_body(m),
		                                        nng_msg_len(m), NULL,
		                                        &req, NULL, 0),
		             DTX_OK);
		nng_msg_free(m);
		record(req);
		if (atomic_load(&mode) == HANG_UP) {
			wire_client_request_free(req);
			nng_close(coord); /* teardown's close then fails */
			break;
		}
		m = atomic_load(&mode) == SILENT ? NULL : answer(req);
		wire_client_request_free(req);
		if (m != NULL && atomic_load(&mode) == GARBAGE) {
			nng_msg_clear(m);
			nng_msg_append(m, "\xff\xff\xff", 3);
		}
		if (m != NULL)
			nng_sendmsg(coord, m, 0);
	}
	return NULL;
}

static void setup(void)
{
	strcpy(dir, "/tmp/dtx-cli-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "ipc://%s/c.ipc", dir);
	atomic_store(&mode, ANSWER);
	cr_assert_eq(nng_rep0_open(&coord), 0);
	cr_assert_eq(nng_socket_set_size(coord, NNG_OPT_RECVMAXSZ, 1u << 20),
	             0);
	cr_assert_eq(nng_listen(coord, url, NULL, 0), 0);
	cr_assert_eq(pthread_create(&coord_thread, NULL, coord_main, NULL), 0);
	client = NULL;
}

static void teardown(void)
{
	char path[128];

	dtx_client_close(client);
	nng_close(coord);
	pthread_join(coord_thread, NULL);
	snprintf(path, sizeof(path), "%s/c.ipc", dir);
	unlink(path);
	rmdir(dir);
}

TestSuite(client, .init = setup, .fini = teardown);

static void open_client(unsigned timeout_ms)
{
	dtx_client_opts o;

	dtx_client_opts_init(&o);
	o.timeout_ms = timeout_ms;
	cr_assert_eq(dtx_client_open(url, &o, &client), DTX_OK);
}

static dtx_saga *two_steps(const char *gid)
{
	dtx_saga *s;

	cr_assert_eq(dtx_saga_create(gid, &s), DTX_OK);
	cr_assert_eq(dtx_saga_add_step(s, "tcp://127.0.0.1:7001", "inv.deduct",
	                               "inv.restock", "abcd", 4, 0),
	             DTX_OK);
	cr_assert_eq(dtx_saga_add_step(s, "tcp://127.0.0.1:7002", "pay.charge",
	                               "pay.refund", NULL, 0, 500),
	             DTX_OK);
	return s;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- tests ------------------------------------------------------------- */

Test(client, submit_returns_the_coordinators_tx_info)
{
	dtx_saga *s = two_steps("order-1");
	dtx_tx_info info;

	open_client(2000);
	cr_assert_eq(dtx_client_submit(client, s, 250, &info), DTX_OK);
	dtx_saga_destroy(s);
	cr_assert_eq(seen_wait_ms, 250);
	cr_assert_eq(seen_nsteps, 2);
	cr_assert_eq(seen_payload_len, 4);
	cr_assert_str_eq(info.gid, "order-1");
	cr_assert_eq(info.state, DTX_TX_RUNNING);
	cr_assert(info.created);
	cr_assert_eq(info.failed_step, -1);
	cr_assert_eq(info.created_unix_ms, 1234);
	cr_assert_eq(info.nsteps, 2);
	cr_assert_eq(info.steps[1].state, DTX_STEP_PENDING);
}

Test(client, submit_without_gid_leaves_it_to_the_coordinator)
{
	dtx_saga *s = two_steps(NULL);
	dtx_tx_info info;

	open_client(2000);
	cr_assert_eq(dtx_client_submit(client, s, 0, &info), DTX_OK);
	dtx_saga_destroy(s);
	cr_assert_not(seen_gid_present);
	cr_assert_str_eq(info.gid, "auto-1");
}

Test(client, query_passes_on_the_coordinators_error_code)
{
	dtx_tx_info info;

	info.nsteps = 99;
	atomic_store(&mode, ENOENT_CODE);
	open_client(2000);
	cr_assert_eq(dtx_client_query(client, "order-9", 0, &info), DTX_ENOENT);
	cr_assert_str_eq(seen_gid, "order-9");
	cr_assert_eq(info.nsteps, 99); /* untouched on error */
}

Test(client, query_refuses_a_bad_gid)
{
	dtx_tx_info info;

	open_client(2000);
	cr_assert_eq(dtx_client_query(client, "bad gid", 0, &info), DTX_EINVAL);
	cr_assert_eq(dtx_client_query(client, NULL, 0, &info), DTX_EINVAL);
}

Test(client, a_garbage_reply_is_a_protocol_error)
{
	dtx_tx_info info;

	atomic_store(&mode, GARBAGE);
	open_client(2000);
	cr_assert_eq(dtx_client_query(client, "order-1", 0, &info), DTX_EPROTO);
}

Test(client, times_out_after_timeout_plus_wait)
{
	dtx_tx_info info;
	int64_t t0;

	atomic_store(&mode, SILENT);
	open_client(200);
	t0 = now_ms();
	cr_assert_eq(dtx_client_query(client, "order-1", 100, &info),
	             DTX_ETIMEDOUT);
	cr_assert_geq(now_ms() - t0, 290);
	cr_assert_lt(now_ms() - t0, 2000);
}

/* assert_sends: the client sent attempts copies in all, resends of them
 * after a lost answer. */
static void assert_sends(uint64_t attempts, uint64_t resends)
{
	dtx_client_stats st;

	dtx_client_get_stats(client, &st);
	cr_assert_eq(st.attempts, attempts, "%llu sends",
	             (unsigned long long)st.attempts);
	cr_assert_eq(st.resends, resends, "%llu copies after a lost answer",
	             (unsigned long long)st.resends);
}

/* A coordinator that dies (closes) as it receives a request. A request
 * without a gid - here a saga whose id the coordinator would make - is
 * never sent again (a copy could start a second transaction): it ends
 * DTX_EUNREACHABLE at once. */
Test(client, a_request_without_a_gid_is_not_sent_again_after_a_hang_up)
{
	dtx_tx_info info;
	dtx_saga *s = two_steps(NULL);
	int64_t t0;

	atomic_store(&mode, HANG_UP);
	open_client(5000);
	t0 = now_ms();
	cr_assert_eq(dtx_client_submit(client, s, 0, &info), DTX_EUNREACHABLE);
	cr_assert_lt(now_ms() - t0, 1000);
	dtx_saga_destroy(s);
	assert_sends(1, 0);
}

/* The same with a request that names a gid: idempotent at the
 * coordinator, it is sent again (once here: the coordinator is gone for
 * good, so the copy waits for it until the deadline, as any request to a
 * coordinator that is down). */
Test(client, a_request_with_a_gid_is_sent_again_after_a_hang_up)
{
	dtx_tx_info info;

	atomic_store(&mode, HANG_UP);
	open_client(1500);
	cr_assert_eq(dtx_client_query(client, "order-1", 0, &info),
	             DTX_EUNREACHABLE);
	assert_sends(2, 1);
}

/* No connection is not a deadline: the request never left (issue 14). */
Test(client, is_unreachable_when_no_coordinator_listens)
{
	dtx_client_opts o;
	dtx_tx_info info;
	char other[160];

	snprintf(other, sizeof(other), "ipc://%s/nobody.ipc", dir);
	dtx_client_opts_init(&o);
	o.timeout_ms = 200;
	cr_assert_eq(dtx_client_open(other, &o, &client), DTX_OK);
	cr_assert_eq(dtx_client_query(client, "order-1", 0, &info),
	             DTX_EUNREACHABLE);
}

Test(client, open_refuses_unknown_schemes_and_bad_options)
{
	dtx_client_opts o;
	dtx_client *c = NULL;

	/* an unknown scheme is named at open (issue 17): DTX_EINVAL */
	cr_assert_eq(dtx_client_open("nope://x", NULL, &c), DTX_EINVAL);
	cr_assert_eq(dtx_client_open(NULL, NULL, &c), DTX_EINVAL);
	dtx_client_opts_init(&o);
	o.timeout_ms = 0;
	cr_assert_eq(dtx_client_open(url, &o, &c), DTX_EINVAL);
	cr_assert_null(c);
	dtx_client_close(NULL);
}

static atomic_int closed_calls, other_calls;

static void count_done(void *arg, int err, const dtx_tx_info *info)
{
	if (err == DTX_ECLOSED && info == NULL)
		atomic_fetch_add(&closed_calls, 1);
	else
		atomic_fetch_add(&other_calls, 1);
}

Test(client, close_completes_every_outstanding_request_with_eclosed)
{
	int i;

	atomic_store(&mode, SILENT);
	atomic_store(&closed_calls, 0);
	atomic_store(&other_calls, 0);
	open_client(10000);
	for (i = 0; i < 20; i++)
		cr_assert_eq(dtx_client_query_async(client, "order-1", 0,
		                                    count_done, NULL),
		             DTX_OK);
	usleep(50 * 1000);
	dtx_client_close(client);
	client = NULL;
	cr_assert_eq(atomic_load(&closed_calls), 20);
	cr_assert_eq(atomic_load(&other_calls), 0);
}

static atomic_int chain_left;
static pthread_mutex_t chain_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t chain_cv = PTHREAD_COND_INITIALIZER;

/* chain_done issues the next query from inside the callback. */
static void chain_done(void *arg, int err, const dtx_tx_info *info)
{
	cr_assert_eq(err, DTX_OK);
	if (atomic_fetch_sub(&chain_left, 1) > 1) {
		cr_assert_eq(dtx_client_query_async(client, "order-1", 0,
		                                    chain_done, NULL),
		             DTX_OK);
		return;
	}
	pthread_mutex_lock(&chain_mu);
	pthread_cond_signal(&chain_cv);
	pthread_mutex_unlock(&chain_mu);
}

Test(client, a_callback_may_call_the_client_again)
{
	atomic_store(&chain_left, 10);
	open_client(2000);
	pthread_mutex_lock(&chain_mu);
	cr_assert_eq(
	        dtx_client_query_async(client, "order-1", 0, chain_done, NULL),
	        DTX_OK);
	while (atomic_load(&chain_left) > 0)
		pthread_cond_wait(&chain_cv, &chain_mu);
	pthread_mutex_unlock(&chain_mu);
}

/* ---- saga builder ------------------------------------------------------ */

Test(saga, refuses_bad_gids_and_steps)
{
	char big[DTX_GID_MAX + 2];
	dtx_saga *s = NULL;

	memset(big, 'g', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(dtx_saga_create("", &s), DTX_EINVAL);
	cr_assert_eq(dtx_saga_create("a/b", &s), DTX_EINVAL);
	cr_assert_eq(dtx_saga_create(big, &s), DTX_ETOOBIG);
	cr_assert_null(s);
	cr_assert_eq(dtx_saga_create("ok-1", &s), DTX_OK);
	cr_assert_eq(dtx_saga_add_step(s, "", "a", "b", NULL, 0, 0),
	             DTX_EINVAL);
	cr_assert_eq(dtx_saga_add_step(s, "tcp://h:1\n", "a", "b", NULL, 0, 0),
	             DTX_EINVAL);
	cr_assert_eq(dtx_saga_add_step(s, "tcp://h:1", "a b", "b", NULL, 0, 0),
	             DTX_EINVAL);
	cr_assert_eq(dtx_saga_add_step(s, "tcp://h:1", "a", NULL, NULL, 0, 0),
	             DTX_EINVAL);
	cr_assert_eq(dtx_saga_add_step(s, "tcp://h:1", "a", "b", NULL, 3, 0),
	             DTX_EINVAL);
	cr_assert_eq(dtx_saga_add_step(s, "tcp://h:1", "a", "b", big,
	                               WIRE_MAX_PAYLOAD_DEFAULT + 1, 0),
	             DTX_ETOOBIG);
	dtx_saga_destroy(s);
	dtx_saga_destroy(NULL);
}

Test(saga, refuses_more_steps_than_the_coordinator_takes)
{
	dtx_saga *s;
	int i;

	cr_assert_eq(dtx_saga_create(NULL, &s), DTX_OK);
	for (i = 0; i < WIRE_MAX_STEPS_DEFAULT; i++)
		cr_assert_eq(
		        dtx_saga_add_step(s, "tcp://h:1", "a", "b", "p", 1, 0),
		        DTX_OK);
	cr_assert_eq(dtx_saga_add_step(s, "tcp://h:1", "a", "b", "p", 1, 0),
	             DTX_ETOOBIG);
	dtx_saga_destroy(s);
}

Test(saga, an_empty_saga_cannot_be_submitted)
{
	dtx_client *c;
	dtx_saga *s;

	cr_assert_eq(dtx_client_open("ipc:///tmp/dtx-unused.ipc", NULL, &c),
	             DTX_OK);
	cr_assert_eq(dtx_saga_create(NULL, &s), DTX_OK);
	cr_assert_eq(dtx_client_submit_async(c, s, 0, count_done, NULL),
	             DTX_EINVAL);
	dtx_saga_destroy(s);
	dtx_client_close(c);
}
