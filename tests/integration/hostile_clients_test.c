/*
 * hostile_clients_test.c - no client may starve the others (issue 13):
 * per-connection limits on requests and waits, idle connections closed, a
 * cap on connections, and an answer for an oversized request.
 *
 * The hostile side speaks nng directly (a raw REQ socket, many contexts on
 * one connection, connections that never send); the victim is the SDK's
 * own client with a short timeout, so a starved call fails the test
 * instead of hanging it. Waits are bounded (a deadline on a condition),
 * never timed: nothing here asserts how fast an answer came.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <nng/nng.h>

#include "harness.h"
#include "rawwire.h"
#include "wire.h"

#define NOWHERE_URL  "tcp://127.0.0.1:9" /* nothing listens: never final */
#define STUCK_GID    "stuck-1"
#define LONG_WAIT_MS 60000 /* the flood's waits: they outlive the test */
#define CLIENT_MS    5000  /* the victim client's timeout */
#define BOUND_MS     20000 /* the longest a test waits for a condition */
#define FLOOD_MAX    256
#define IDLE_CONNS   50
#define FD_SLACK     4 /* descriptors that come and go (see below) */

TestSuite(hostile_clients, .fini = th_teardown, .timeout = 120);

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the victim: an SDK client with a short timeout ---------------------- */

static dtx_client *victim_open(th_env *t)
{
	dtx_client_opts opts;
	dtx_client *c;

	dtx_client_opts_init(&opts);
	opts.timeout_ms = CLIENT_MS;
	cr_assert_eq(dtx_client_open(t->dtxd_url, &opts, &c), DTX_OK);
	return c;
}

/* submit_stuck submits STUCK_GID, one step at a URL nobody serves: the
 * action and then its compensation are retried for ever. */
static void submit_stuck(dtx_client *c)
{
	dtx_saga *saga;
	dtx_tx_info info;
	int rv;

	cr_assert_eq(dtx_saga_create(STUCK_GID, &saga), DTX_OK);
	cr_assert_eq(dtx_saga_add_step(saga, NOWHERE_URL, "p1.do", "p1.undo",
	                               NULL, 0, 0),
	             DTX_OK);
	rv = dtx_client_submit(c, saga, 0, &info);
	cr_assert_eq(rv, DTX_OK, "submit: %s", dtx_strerror(rv));
	cr_assert_eq(info.state, DTX_TX_RUNNING);
	dtx_saga_destroy(saga);
}

/* victim_works asserts that a query (no wait), a short wait and a real
 * saga of the victim client are answered while the hostile ones run. */
static void victim_works(th_env *t, dtx_client *c)
{
	dtx_tx_info info;
	int rv;

	rv = dtx_client_query(c, STUCK_GID, 0, &info);
	cr_assert_eq(rv, DTX_OK, "victim's query: %s", dtx_strerror(rv));
	rv = dtx_client_query(c, STUCK_GID, 200, &info);
	cr_assert_eq(rv, DTX_OK, "victim's waiting query: %s",
	             dtx_strerror(rv));
	cr_assert_eq(info.state, DTX_TX_RUNNING);
	if (t->nparts > 0) {
		dtx_saga *saga = th_saga(t, NULL, "p1.do/p1.undo");
		rv = dtx_client_submit(c, saga, 2000, &info);
		dtx_saga_destroy(saga);
		cr_assert_eq(rv, DTX_OK, "victim's submit: %s",
		             dtx_strerror(rv));
		cr_assert_eq(info.state, DTX_TX_COMMITTED);
	}
}

/* ---- the flood: many waiting queries on one connection ------------------- */

typedef struct flood flood;

typedef struct fl_req {
	flood *f;
	nng_ctx ctx;
	nng_aio *aio;
	bool sent;
} fl_req;

struct flood {
	nng_socket s;
	size_t n;
	fl_req r[FLOOD_MAX];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned busy, other, failed; /* replies: EBUSY, another code, none */
	char busy_msg[256];           /* the first EBUSY's message */
};

static void fl_record(flood *f, nng_msg *msg)
{
	Dtx__V1__ClientReply *reply = NULL;
	int rv = wire_client_reply_decode(nng_msg_body(msg), nng_msg_len(msg),
	                                  &reply, NULL, 0);

	pthread_mutex_lock(&f->mu);
	if (rv != DTX_OK || !reply->has_code) {
		f->failed++;
	} else if ((int)reply->code == DTX_EBUSY) {
		if (f->busy++ == 0 && reply->message != NULL)
			snprintf(f->busy_msg, sizeof(f->busy_msg), "%s",
			         reply->message);
	} else {
		f->other++;
	}
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	if (reply != NULL)
		wire_client_reply_free(reply);
}

static void fl_cb(void *arg)
{
	fl_req *r = arg;
	int rv = nng_aio_result(r->aio);

	if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
		if (!r->sent)
			nng_msg_free(nng_aio_get_msg(r->aio));
		return; /* the test is over */
	}
	if (!r->sent && rv == 0) {
		r->sent = true;
		nng_ctx_recv(r->ctx, r->aio);
		return;
	}
	if (rv != 0) {
		pthread_mutex_lock(&r->f->mu);
		r->f->failed++;
		pthread_cond_broadcast(&r->f->cv);
		pthread_mutex_unlock(&r->f->mu);
		return;
	}
	fl_record(r->f, nng_aio_get_msg(r->aio));
	nng_msg_free(nng_aio_get_msg(r->aio));
}

static nng_msg *query_msg(const char *gid, uint32_t wait_ms)
{
	Dtx__V1__ClientRequest req;
	Dtx__V1__Query q;
	uint8_t *buf;
	size_t len;
	nng_msg *msg;

	dtx__v1__client_request__init(&req);
	dtx__v1__query__init(&q);
	req.has_version = true;
	req.version = DTX__V1__VERSION__VERSION_1;
	req.body_case = DTX__V1__CLIENT_REQUEST__BODY_QUERY;
	req.query = &q;
	req.has_wait_ms = wait_ms > 0;
	req.wait_ms = wait_ms;
	q.gid = (char *)gid;
	cr_assert_eq(wire_pack_alloc(&req.base, &buf, &len), DTX_OK);
	cr_assert_eq(nng_msg_alloc(&msg, 0), 0);
	cr_assert_eq(nng_msg_append(msg, buf, len), 0);
	free(buf);
	return msg;
}

/* flood_add sends n more queries of STUCK_GID with wait_ms over f's
 * connection, each on its own context, and leaves their replies pending. */
static void flood_add(flood *f, size_t n, uint32_t wait_ms)
{
	cr_assert_leq(f->n + n, FLOOD_MAX);
	for (size_t i = f->n; i < f->n + n; i++) {
		fl_req *r = &f->r[i];
		r->f = f;
		cr_assert_eq(nng_ctx_open(&r->ctx, f->s), 0);
		cr_assert_eq(nng_aio_alloc(&r->aio, fl_cb, r), 0);
		nng_aio_set_msg(r->aio, query_msg(STUCK_GID, wait_ms));
		nng_ctx_send(r->ctx, r->aio);
	}
	f->n += n;
}

/* flood_start opens one connection and sends n queries (flood_add). */
static flood *flood_start(const char *url, size_t n, uint32_t wait_ms)
{
	flood *f = calloc(1, sizeof(*f));

	cr_assert_not_null(f);
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	f->s = rw_open(url, 0);
	flood_add(f, n, wait_ms);
	return f;
}

/* flood_wait waits (bounded) until at least n replies (or failures) came
 * back. */
static void flood_wait(flood *f, unsigned n)
{
	int64_t deadline = now_ms() + BOUND_MS;
	struct timespec ts;

	pthread_mutex_lock(&f->mu);
	while (f->busy + f->other + f->failed < n && now_ms() < deadline) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&f->cv, &f->mu, &ts);
	}
	pthread_mutex_unlock(&f->mu);
}

/* flood_wait_busy waits until want replies came back, and asserts they are
 * all EBUSY (the held waits do not answer within the test). */
static void flood_wait_busy(flood *f, unsigned want)
{
	flood_wait(f, want);
	cr_assert_eq(f->busy, want,
	             "the flood of %zu got %u EBUSY, %u other answers, %u "
	             "failures; want %u EBUSY",
	             f->n, f->busy, f->other, f->failed, want);
	cr_assert_eq(f->other + f->failed, 0);
}

static void flood_end(flood *f)
{
	nng_close(f->s);
	for (size_t i = 0; i < f->n; i++) {
		nng_aio_free(f->r[i].aio);
	}
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

/* ---- (a) one connection's waits cannot take the endpoint ---------------- */

/* dtxd holds 64 requests (--max-clients 64): by default one connection
 * gets all but 16 of them (48), and waits never take the last 4. Before
 * the limits, the flood's 100 waits took all 64 slots and the victim's
 * calls failed with a timeout. */
Test(hostile_clients, a_flood_of_waits_on_one_connection_does_not_starve_others)
{
	th_env *t = th_begin();
	dtx_client *c;
	flood *f;

	th_dtxd_start(t, "--max-clients", "64", NULL);
	th_participant_start(t, "p1", NULL);
	c = victim_open(t);
	submit_stuck(c);
	f = flood_start(t->dtxd_url, 100, LONG_WAIT_MS);
	flood_wait_busy(f, 100 - 48);
	cr_assert(strstr(f->busy_msg, "--max-requests-per-conn") != NULL,
	          "EBUSY message: %s", f->busy_msg);
	victim_works(t, c);
	cr_assert(th_log_contains(t, "dtxd", "--max-requests-per-conn"));
	flood_end(f);
	dtx_client_close(c);
	th_end(t);
}

/* --max-waits-per-conn bounds the waits alone: the same connection's
 * queries that do not wait are still answered. */
Test(hostile_clients, waits_past_the_per_connection_limit_get_ebusy)
{
	th_env *t = th_begin();
	dtx_client *c;
	flood *f;

	th_dtxd_start(t, "--max-waits-per-conn", "8", NULL);
	c = victim_open(t);
	submit_stuck(c);
	f = flood_start(t->dtxd_url, 20, LONG_WAIT_MS);
	flood_wait_busy(f, 20 - 8);
	cr_assert(strstr(f->busy_msg, "--max-waits-per-conn") != NULL,
	          "EBUSY message: %s", f->busy_msg);
	/* the flooding connection itself still gets a query answered */
	flood_add(f, 1, 0);
	flood_wait(f, 20 - 8 + 1);
	cr_assert_eq(f->other, 1, "no answer to a query without a wait");
	victim_works(t, c);
	flood_end(f);
	dtx_client_close(c);
	th_end(t);
}

/* ---- (b) idle connections are closed ---------------------------------- */

/* silent_open opens n TCP connections to url (tcp://HOST:PORT) that do
 * the SP handshake of a REQ socket by hand, read dtxd's, and then send
 * nothing. Raw sockets, because an nng dialer would dial again once dtxd
 * closes its connection. */
static void silent_open(const char *url, int *fds, size_t n)
{
	static const uint8_t req0_header[8] = {0, 'S', 'P', 0, 0, 0x30, 0, 0};
	struct sockaddr_in sa = {.sin_family = AF_INET};
	char host[64];
	uint8_t rep[8];
	int port;

	cr_assert_eq(sscanf(url, "tcp://%63[^:]:%d", host, &port), 2,
	             "not a tcp URL: %s", url);
	sa.sin_port = htons((uint16_t)port);
	cr_assert_eq(inet_pton(AF_INET, host, &sa.sin_addr), 1);
	for (size_t i = 0; i < n; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		cr_assert_geq(fds[i], 0);
		cr_assert_eq(
		        connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
		cr_assert_eq(write(fds[i], req0_header, 8), 8);
		cr_assert_eq(read(fds[i], rep, 8), 8, "no SP handshake");
		cr_assert_eq(rep[5], 0x31, "the peer is not a REP socket");
	}
}

/* silent_closed counts the connections dtxd has closed (EOF or reset). */
static unsigned silent_closed(const int *fds, size_t n)
{
	unsigned closed = 0;
	uint8_t b;

	for (size_t i = 0; i < n; i++) {
		struct pollfd p = {.fd = fds[i], .events = POLLIN};
		if (poll(&p, 1, 0) == 1 && recv(fds[i], &b, 1, MSG_PEEK) <= 0)
			closed++;
	}
	return closed;
}

/* wait_closed waits (bounded) until dtxd closed want of the n. */
static void wait_closed(const int *fds, size_t n, unsigned want)
{
	int64_t deadline = now_ms() + BOUND_MS;

	while (silent_closed(fds, n) < want && now_ms() < deadline)
		usleep(50 * 1000);
	cr_assert_eq(silent_closed(fds, n), want,
	             "dtxd closed %u of the %zu silent connections, want %u",
	             silent_closed(fds, n), n, want);
}

static void silent_close(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

/* A connection with a request held is not idle: its waiting query gets
 * its answer although the wait is longer than the idle timeout. Before
 * the idle timeout, 50 silent connections were kept for ever. */
Test(hostile_clients, idle_connections_are_closed_and_busy_ones_kept)
{
	th_env *t = th_begin();
	int silent[IDLE_CONNS];
	dtx_client *c;
	flood *waiter;
	int fds0, fds1, fds2;

	th_dtxd_start(t, "--idle-timeout-ms", "1500", NULL);
	c = victim_open(t);
	submit_stuck(c);
	fds0 = th_proc_fd_count(t->dtxd);
	silent_open(t->dtxd_url, silent, IDLE_CONNS);
	waiter = flood_start(t->dtxd_url, 1, 4000);
	victim_works(t, c);
	fds1 = th_proc_fd_count(t->dtxd);
	/* FD_SLACK: the stuck saga's peer dials a dead port, each attempt a
	 * descriptor that comes and goes between two counts */
	cr_assert_geq(fds1, fds0 + IDLE_CONNS - FD_SLACK, "fds %d then %d",
	              fds0, fds1);
	wait_closed(silent, IDLE_CONNS, IDLE_CONNS);
	flood_wait(waiter, 1);
	cr_assert_eq(waiter->other, 1,
	             "the waiting query got %u EBUSY, %u failures, no answer",
	             waiter->busy, waiter->failed);
	fds2 = th_proc_fd_count(t->dtxd);
	cr_log_info("dtxd descriptors: %d, %d with %d silent connections, %d "
	            "after the idle timeout",
	            fds0, fds1, IDLE_CONNS, fds2);
	cr_assert_leq(fds2, fds0 + FD_SLACK, "dtxd still has %d descriptors",
	              fds2);
	cr_assert(th_log_contains(t, "dtxd", "idle for"));
	victim_works(t, c);
	flood_end(waiter);
	silent_close(silent, IDLE_CONNS);
	dtx_client_close(c);
	th_end(t);
}

/* ---- (c) a cap on connections ---------------------------------------------
 */

/* With --max-conns 8 and the victim connected first, 7 of 20 new
 * connections are kept and 13 closed at once; the victim still works. */
Test(hostile_clients, connections_past_the_cap_are_closed_and_clients_work)
{
	th_env *t = th_begin();
	int extra[20];
	dtx_client *c;

	th_dtxd_start(t, "--max-conns", "8", NULL);
	c = victim_open(t);
	submit_stuck(c);
	silent_open(t->dtxd_url, extra, 20);
	wait_closed(extra, 20, 20 - 7);
	victim_works(t, c);
	cr_assert(th_log_contains(t, "dtxd", "(--max-conns)"));
	silent_close(extra, 20);
	dtx_client_close(c);
	th_end(t);
}

/* ---- (d) an oversized request gets an answer -------------------------------
 */

static nng_msg *call_raw(nng_socket s, size_t len)
{
	nng_msg *msg;
	int rv;

	cr_assert_eq(nng_msg_alloc(&msg, len), 0);
	memset(nng_msg_body(msg), 0x0a, len);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, CLIENT_MS);
	cr_assert_eq(nng_sendmsg(s, msg, 0), 0);
	rv = nng_recvmsg(s, &msg, 0);
	cr_assert_eq(rv, 0, "no answer to a %zu-byte request: %s", len,
	             nng_strerror(rv));
	return msg;
}

/* Before, nng dropped a request over --max-msg-bytes and the client waited
 * out its own timeout; the admin endpoint answers the same way. */
Test(hostile_clients, an_oversized_request_is_answered_etoobig)
{
	th_env *t = th_begin();
	Dtx__V1__ClientReply *reply;
	Dtx__V1__AdminReply *areply;
	char admin[TH_URL_MAX];
	nng_socket s;
	nng_msg *msg;
	dtx_client *c;

	th_url(t, "admin", admin, sizeof(admin));
	/* 8 steps: at 64 a reply's names alone could pass 64 KiB */
	th_dtxd_start(t, "--max-msg-bytes", "65536", "--max-steps", "8",
	              "--admin", admin, NULL);
	s = rw_open(t->dtxd_url, 0);
	msg = call_raw(s, 100 * 1024);
	cr_assert_eq(wire_client_reply_decode(nng_msg_body(msg),
	                                      nng_msg_len(msg), &reply, NULL,
	                                      0),
	             DTX_OK);
	cr_assert_eq((int)reply->code, DTX_ETOOBIG);
	cr_assert(strstr(reply->message, "exceeds the limit of 65536") != NULL,
	          "message: %s", reply->message);
	wire_client_reply_free(reply);
	nng_msg_free(msg);
	nng_close(s);

	s = rw_open(admin, 0);
	msg = call_raw(s, 100 * 1024);
	cr_assert_eq(wire_admin_reply_decode(nng_msg_body(msg),
	                                     nng_msg_len(msg), &areply, NULL,
	                                     0),
	             DTX_OK);
	cr_assert_eq((int)areply->code, DTX_ETOOBIG);
	wire_admin_reply_free(areply);
	nng_msg_free(msg);
	nng_close(s);

	c = victim_open(t);
	submit_stuck(c);
	victim_works(t, c);
	dtx_client_close(c);
	th_end(t);
}

/* ---- a request run again after a read is counted once ------------------ */

/* A submit or query of a gid that is not in memory is run again on the
 * loop once the log was read off it. Before, each run counted the request
 * in its connection again and the answer released it once: after
 * --max-requests-per-conn such requests one connection got DTX_EBUSY for
 * good (the shop's flash sale at 200,000 buyers: 161,701 of 168,868
 * purchases refused). */
Test(hostile_clients, requests_run_again_after_a_read_are_counted_once)
{
	th_env *t = th_begin();
	dtx_client *c;
	dtx_tx_info info;
	char gid[32];
	int rv;

	th_participant_start(t, "p1", NULL);
	th_dtxd_start(t, "--max-requests-per-conn", "4", "--max-waits-per-conn",
	              "4", NULL);
	c = victim_open(t);
	for (int i = 0; i < 40; i++) {
		dtx_saga *saga;

		snprintf(gid, sizeof(gid), "reread-%d", i);
		saga = th_saga(t, gid, "p1.do/p1.undo");
		/* a client gid: dtxd reads the log for it first */
		rv = dtx_client_submit(c, saga, 2000, &info);
		dtx_saga_destroy(saga);
		cr_assert_eq(rv, DTX_OK, "submit %d: %s", i, dtx_strerror(rv));
		rv = dtx_client_query(c, "reread-0", 0, &info);
		cr_assert_eq(rv, DTX_OK, "query %d: %s", i, dtx_strerror(rv));
	}
	dtx_client_close(c);
	th_end(t);
}
