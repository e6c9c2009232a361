/*
 * store_pg_test.c - a participant on PostgreSQL serving several groups of
 * calls at once (dtx_store_opts.groups), each group on a connection of its
 * own: two calls of one gid in two groups run one after the other, in the
 * order their groups took the gid's advisory lock, and the second sees
 * what the first committed. Both orders of a try and its cancel.
 *
 * A real participant on a real PostgreSQL (one throw-away cluster for the
 * binary, pgtmp.h; a database per test), driven over ipc:// by a fake
 * coordinator: the first group is one batch of two calls, the gid's call
 * and a call of another gid whose handler waits for the test, so the
 * first group holds the gid's lock for as long as the test wants; the
 * second call is sent on another socket, and the test sees it wait on the
 * advisory lock in pg_locks (bounded waits only) before it lets the
 * first group commit.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "dtx/dtx.h"
#include "dtx/dtx_pg.h"
#include "pgtmp.h"
#include "wire.h"

#define OK      DTX__V1__BRANCH_STATUS__BRANCH_OK
#define FAIL    DTX__V1__BRANCH_STATUS__BRANCH_FAIL
#define WAIT_MS 30000 /* every wait of the test is bounded by this */

static char pg_uri[PGTMP_URI_MAX];
static char dir[64];
static char url[128];
static dtx_participant *part;
static dtx_store *store;

static atomic_int tries, cancels;
static pthread_mutex_t hold_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cv = PTHREAD_COND_INITIALIZER;
static bool holding, released;

static void log_to_stderr(void *arg, dtx_log_level level, const char *msg)
{
	if (level <= DTX_LOG_WARN)
		fprintf(stderr, "dtx: %s\n", msg);
}

static void setup(void)
{
	const char *admin = getenv(PGTMP_ENV_ADMIN);
	char name[64], err[512];

	dtx_set_log_cb(log_to_stderr, NULL);
	cr_assert_not_null(admin, "no cluster: run through main (pgtmp)");
	snprintf(name, sizeof(name), "s_%ld", (long)getpid());
	cr_assert_eq(pgtmp_create_db(admin, name, pg_uri, sizeof(pg_uri), err,
	                             sizeof(err)),
	             0, "%s", err);
	strcpy(dir, "/tmp/dtx-storepg-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "ipc://%s/p.ipc", dir);
	atomic_store(&tries, 0);
	atomic_store(&cancels, 0);
	holding = released = false;
}

static void teardown(void)
{
	pthread_mutex_lock(&hold_mu);
	released = true; /* a failed test must not leave a handler waiting */
	pthread_cond_broadcast(&hold_cv);
	pthread_mutex_unlock(&hold_mu);
	dtx_participant_destroy(part);
	dtx_store_close(store);
	unlink(url + strlen("ipc://"));
	rmdir(dir);
}

TestSuite(store_pg, .init = setup, .fini = teardown);

/* ---- handlers ---------------------------------------------------------- */

/* bump adds d to counter/n. */
static int bump(dtx_txn *txn, int64_t d)
{
	int64_t n = 0;
	const void *v;
	size_t len;
	int rv = dtx_txn_get(txn, "counter", "n", 1, &v, &len);

	if (rv == DTX_OK && len == sizeof(n))
		memcpy(&n, v, sizeof(n));
	else if (rv != DTX_ENOENT)
		return rv == DTX_OK ? DTX_ECORRUPT : rv;
	n += d;
	return dtx_txn_put(txn, "counter", "n", 1, &n, sizeof(n));
}

static dtx_status h_try(void *arg, dtx_call *call)
{
	atomic_fetch_add(&tries, 1);
	return bump(dtx_call_txn(call), 1) == DTX_OK ? DTX_STATUS_OK
	                                             : DTX_STATUS_RETRY;
}

static dtx_status h_cancel(void *arg, dtx_call *call)
{
	atomic_fetch_add(&cancels, 1);
	return bump(dtx_call_txn(call), -1) == DTX_OK ? DTX_STATUS_OK
	                                              : DTX_STATUS_RETRY;
}

/* h_hold says it runs, then waits (at most WAIT_MS) for the test. */
static dtx_status h_hold(void *arg, dtx_call *call)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&hold_mu);
	holding = true;
	pthread_cond_broadcast(&hold_cv);
	while (!released &&
	       pthread_cond_timedwait(&hold_cv, &hold_mu, &until) == 0)
		;
	pthread_mutex_unlock(&hold_mu);
	return DTX_STATUS_OK;
}

static void start(unsigned groups)
{
	static const char *const tables[] = {"counter"};
	dtx_participant_opts o;
	dtx_store_opts so;

	dtx_store_opts_init(&so);
	so.tables = tables;
	so.ntables = 1;
	so.groups = groups;
	cr_assert_eq(dtx_store_open_pg(pg_uri, &so, &store), DTX_OK);
	dtx_participant_opts_init(&o);
	o.url = url;
	o.workers = 4;
	cr_assert_eq(dtx_participant_create(&o, &part), DTX_OK);
	cr_assert_eq(dtx_participant_register(part, "c.try", h_try, NULL),
	             DTX_OK);
	cr_assert_eq(dtx_participant_register(part, "c.cancel", h_cancel, NULL),
	             DTX_OK);
	cr_assert_eq(dtx_participant_register(part, "c.hold", h_hold, NULL),
	             DTX_OK);
	cr_assert_eq(dtx_participant_set_store(part, store), DTX_OK);
	cr_assert_eq(dtx_participant_start(part), DTX_OK);
}

/* ---- the fake coordinator ---------------------------------------------- */

static nng_socket dial(void)
{
	nng_socket s;

	cr_assert_eq(nng_req0_open(&s), 0);
	cr_assert_eq(nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 2 * WAIT_MS), 0);
	cr_assert_eq(nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, WAIT_MS), 0);
	cr_assert_eq(nng_dial(s, url, NULL, 0), 0);
	return s;
}

static void call_init(Dtx__V1__BranchCall *c, const char *gid, dtx_op op,
                      const char *handler)
{
	dtx__v1__branch_call__init(c);
	c->has_version = c->has_branch = c->has_op = c->has_attempt = 1;
	c->version = 1;
	c->attempt = 1;
	c->gid = (char *)gid;
	c->branch = 2;
	c->op = (Dtx__V1__Op)op;
	c->handler = (char *)handler;
}

/* exchange - n calls sent as one message (a batch if n > 1) on their own
 * socket, and their answers, for a thread of its own. */
typedef struct exchange {
	Dtx__V1__BranchCall c[2];
	int n;
	int status[2];
	char message[2][128];
} exchange;

static uint8_t *pack(exchange *x, size_t *ret_len)
{
	size_t len = x->n > 1 ? wire_batch_head_size() : 0, at = 0, l;
	uint8_t *buf;

	for (int i = 0; i < x->n; i++) {
		l = wire_packed_size(&x->c[i].base);
		len += (x->n > 1 ? wire_batch_item_head_size(l) : 0) + l;
	}
	cr_assert_not_null(buf = malloc(len));
	if (x->n > 1) {
		wire_batch_head(buf);
		at = wire_batch_head_size();
	}
	for (int i = 0; i < x->n; i++) {
		l = wire_packed_size(&x->c[i].base);
		if (x->n > 1)
			at += wire_batch_item_head(buf + at, false, l);
		wire_pack(&x->c[i].base, buf + at);
		at += l;
	}
	*ret_len = len;
	return buf;
}

static void answers(exchange *x, nng_msg *m)
{
	Dtx__V1__BranchReply *r = NULL;

	if (x->n == 1)
		cr_assert_eq(wire_branch_reply_decode(nng_msg_body(m),
		                                      nng_msg_len(m), &r, NULL,
		                                      0),
		             DTX_OK);
	else
		cr_assert_eq(wire_branch_replies_decode(nng_msg_body(m),
		                                        nng_msg_len(m), x->n,
		                                        &r, NULL, 0),
		             DTX_OK);
	for (int i = 0; i < x->n; i++) {
		Dtx__V1__BranchReply *one = x->n == 1 ? r : r->batch[i];

		x->status[i] = one->status;
		snprintf(x->message[i], sizeof(x->message[i]), "%s",
		         one->message ? one->message : "");
	}
	wire_branch_reply_free(r);
}

static void *exchange_main(void *arg)
{
	exchange *x = arg;
	nng_socket s = dial();
	size_t len;
	uint8_t *buf = pack(x, &len);
	nng_msg *m;

	cr_assert_eq(nng_send(s, buf, len, 0), 0);
	free(buf);
	cr_assert_eq(nng_recvmsg(s, &m, 0), 0, "no reply");
	answers(x, m);
	nng_msg_free(m);
	nng_close(s);
	return NULL;
}

/* ---- waits ------------------------------------------------------------- */

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void wait_holding(void)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&hold_mu);
	while (!holding &&
	       pthread_cond_timedwait(&hold_cv, &hold_mu, &until) == 0)
		;
	pthread_mutex_unlock(&hold_mu);
	cr_assert(holding, "the first group's handler never ran");
}

/* wait_lock_waiter waits until a backend of the test's database waits
 * for an advisory lock: the second group, on a connection of its own. */
static void wait_lock_waiter(void)
{
	PGconn *c = PQconnectdb(pg_uri);
	bool seen = false;

	cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
	for (int waited = 0; !seen && waited < WAIT_MS; waited += 10) {
		PGresult *r = PQexec(c, "SELECT count(*) FROM pg_locks l JOIN "
		                        "pg_database d ON d.oid = l.database "
		                        "WHERE l.locktype = 'advisory' AND NOT "
		                        "l.granted AND d.datname = "
		                        "current_database()");

		cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK);
		seen = atoi(PQgetvalue(r, 0, 0)) > 0;
		PQclear(r);
		if (!seen)
			sleep_ms(10);
	}
	PQfinish(c);
	cr_assert(seen, "no second group waited on the gid's lock in %d ms",
	          WAIT_MS);
}

static void release_hold(void)
{
	pthread_mutex_lock(&hold_mu);
	released = true;
	pthread_cond_broadcast(&hold_cv);
	pthread_mutex_unlock(&hold_mu);
}

/* ---- the store, read back ---------------------------------------------- */

static int read_n(void *arg, dtx_txn *txn)
{
	int64_t *n = arg;
	const void *v;
	size_t len;
	int rv = dtx_txn_get(txn, "counter", "n", 1, &v, &len);

	*n = 0;
	if (rv == DTX_OK && len == sizeof(*n))
		memcpy(n, v, sizeof(*n));
	return rv == DTX_ENOENT ? DTX_OK : rv;
}

static int64_t counter(void)
{
	int64_t n;

	cr_assert_eq(dtx_store_view(store, read_n, &n), DTX_OK);
	return n;
}

/* race runs first (a batch: the gid's call and c.hold on gid "h") and,
 * once its group holds the locks, second on another socket; the first
 * group commits only after the second waits on the gid's lock. */
static void race(exchange *first, exchange *second)
{
	pthread_t t1, t2;

	call_init(&first->c[1], "h", DTX_OP_ACTION, "c.hold");
	first->n = 2;
	second->n = 1;
	cr_assert_eq(pthread_create(&t1, NULL, exchange_main, first), 0);
	wait_holding();
	cr_assert_eq(pthread_create(&t2, NULL, exchange_main, second), 0);
	wait_lock_waiter();
	release_hold();
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
}

/* ---- the two orders ---------------------------------------------------- */

Test(store_pg, a_cancel_waiting_on_its_try_in_another_group_undoes_it)
{
	exchange first = {0}, second = {0};
	dtx_participant_stats st;

	start(2);
	call_init(&first.c[0], "g", DTX_OP_TRY, "c.try");
	call_init(&second.c[0], "g", DTX_OP_CANCEL, "c.cancel");
	race(&first, &second);
	cr_assert_eq(first.status[0], OK, "try: %s", first.message[0]);
	cr_assert_eq(first.status[1], OK);
	cr_assert_eq(second.status[0], OK, "cancel: %s", second.message[0]);
	/* the cancel saw the try's row: it ran, not a null compensation */
	cr_assert_eq(atomic_load(&tries), 1);
	cr_assert_eq(atomic_load(&cancels), 1);
	cr_assert_eq(counter(), 0);
	dtx_participant_get_stats(part, &st);
	cr_assert_eq(st.null_compensations, 0);
	cr_assert_eq(st.commits, 2, "two groups, one commit each");
}

Test(store_pg, a_try_waiting_on_its_cancel_in_another_group_is_refused)
{
	exchange first = {0}, second = {0};
	dtx_participant_stats st;

	start(2);
	call_init(&first.c[0], "g", DTX_OP_CANCEL, "c.cancel");
	call_init(&second.c[0], "g", DTX_OP_TRY, "c.try");
	race(&first, &second);
	cr_assert_eq(first.status[0], OK, "cancel: %s", first.message[0]);
	cr_assert_eq(second.status[0], FAIL, "try: %s", second.message[0]);
	cr_assert_str_eq(second.message[0], "already cancelled");
	/* the try saw the null compensation: no hanging reservation */
	cr_assert_eq(atomic_load(&tries), 0);
	cr_assert_eq(atomic_load(&cancels), 0);
	cr_assert_eq(counter(), 0);
	dtx_participant_get_stats(part, &st);
	cr_assert_eq(st.null_compensations, 1);
	cr_assert_eq(st.late_refused, 1);
}

static int run_tests(int argc, char **argv)
{
	struct criterion_test_set *tests = criterion_initialize();
	int rc = 0;

	if (criterion_handle_args(argc, argv, true))
		rc = !criterion_run_all_tests(tests);
	criterion_finalize(tests);
	return rc;
}

/* main starts one cluster for every test of the binary (pgtmp.h). */
int main(int argc, char **argv)
{
	return pgtmp_shared_main(argc, argv, run_tests);
}
