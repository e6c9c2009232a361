/*
 * barrier_test.c - exactly-once branch calls: a real SDK participant with
 * a real store on disk, driven over ipc:// by a fake coordinator that
 * packs BranchCalls with the generated protobuf-c structs.
 *
 * The handlers count their effects in the store's "counter" table
 * (action/try add 1, compensate/cancel subtract 1) and their runs in
 * atomics, so each test can tell "applied once" from "answered from the
 * record".
 *
 * Built with BARRIER_TEST_PG, the same tests run on a PostgreSQL store
 * (dtx_store_open_pg): one throw-away cluster per test binary started by
 * its main (tests/support/pgtmp.h), a fresh database per test (suite
 * postgres). The tests that fill an LMDB file or map are LMDB's only; the
 * PostgreSQL build adds the cases only a server has (a handler's SQL, a
 * lost connection, a schema altered by hand, two processes on one
 * database, kill -9 after COMMIT).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "dtx/dtx.h"
#include "wire.h"

#ifdef BARRIER_TEST_PG
#include <sys/wait.h>

#include "dtx/dtx_pg.h"
#include "pgtmp.h"
#endif

#define OK    DTX__V1__BRANCH_STATUS__BRANCH_OK
#define FAIL  DTX__V1__BRANCH_STATUS__BRANCH_FAIL
#define RETRY DTX__V1__BRANCH_STATUS__BRANCH_RETRY

/* ---- fixture ----------------------------------------------------------- */

static char dir[64];
static char url[128];
static dtx_participant *part;
static dtx_store *store;
static nng_socket sock;
#ifdef BARRIER_TEST_PG
static char pg_uri[PGTMP_URI_MAX]; /* this test's database */
#endif

enum {
	H_ADD,
	H_SUB,
	H_REFUSE,
	H_FLAKY,
	H_CONFIRM,
	H_BIG,
	H_SLOW,
	H_TAKE,
	H_GIVE,
	H_COUNT
};
static atomic_int runs[H_COUNT];
static atomic_int flaky_retries; /* H_FLAKY answers RETRY this many times */
static unsigned tolerance_ms;    /* the participant's deadline tolerance */

static void rm_tree(const char *path)
{
	char sub[512];
	struct dirent *e;
	DIR *d = opendir(path);

	if (d == NULL) {
		unlink(path);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		rm_tree(sub);
	}
	closedir(d);
	rmdir(path);
}

/* log_to_stderr shows the SDK's diagnostics in a failing test's output. */
static void log_to_stderr(void *arg, dtx_log_level level, const char *msg)
{
	if (level <= DTX_LOG_WARN)
		fprintf(stderr, "dtx: %s\n", msg);
}

#ifdef BARRIER_TEST_PG
/* fresh_db creates this test's database and writes its URI to pg_uri. */
static void fresh_db(void)
{
	const char *admin = getenv(PGTMP_ENV_ADMIN);
	char name[64], err[512];

	cr_assert_not_null(admin, "no cluster: run through main (pgtmp)");
	snprintf(name, sizeof(name), "b_%ld", (long)getpid());
	cr_assert_eq(pgtmp_create_db(admin, name, pg_uri, sizeof(pg_uri), err,
	                             sizeof(err)),
	             0, "%s", err);
}
#endif

static void setup(void)
{
	dtx_set_log_cb(log_to_stderr, NULL);
#ifdef BARRIER_TEST_PG
	fresh_db();
#endif
	strcpy(dir, "/tmp/dtx-barrier-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "ipc://%s/p.ipc", dir);
	for (int i = 0; i < H_COUNT; i++)
		atomic_store(&runs[i], 0);
	atomic_store(&flaky_retries, 0);
	tolerance_ms = DTX_DEADLINE_TOLERANCE_MS_DEFAULT;
	part = NULL;
	store = NULL;
	sock = (nng_socket)NNG_SOCKET_INITIALIZER;
}

static void teardown(void)
{
	nng_close(sock);
	dtx_participant_destroy(part);
	dtx_store_close(store);
	rm_tree(dir);
}

TestSuite(barrier, .init = setup, .fini = teardown);

/* ---- handlers ---------------------------------------------------------- */

/* bump adds d to "counter"/key in txn. */
static int bump(dtx_txn *txn, const char *key, int64_t d)
{
	int64_t n = 0;
	const void *v;
	size_t len;
	int rv = dtx_txn_get(txn, "counter", key, strlen(key), &v, &len);

	if (rv == DTX_OK && len == sizeof(n))
		memcpy(&n, v, sizeof(n));
	else if (rv != DTX_ENOENT)
		return rv == DTX_OK ? DTX_ECORRUPT : rv;
	n += d;
	return dtx_txn_put(txn, "counter", key, strlen(key), &n, sizeof(n));
}

/* h_add: action/try - counter += 1, answers "added" and "r:<gid>". */
static dtx_status h_add(void *arg, dtx_call *call)
{
	char res[160];

	atomic_fetch_add(&runs[H_ADD], 1);
	if (bump(dtx_call_txn(call), "n", 1) != DTX_OK)
		return DTX_STATUS_RETRY;
	snprintf(res, sizeof(res), "r:%s", dtx_call_gid(call));
	dtx_call_set_message(call, "added");
	dtx_call_set_result(call, res, strlen(res));
	return DTX_STATUS_OK;
}

/* h_sub: compensate/cancel - counter -= 1. */
static dtx_status h_sub(void *arg, dtx_call *call)
{
	atomic_fetch_add(&runs[H_SUB], 1);
	if (bump(dtx_call_txn(call), "n", -1) != DTX_OK)
		return DTX_STATUS_RETRY;
	return DTX_STATUS_OK;
}

/* h_refuse: writes, then refuses: the write must vanish. */
static dtx_status h_refuse(void *arg, dtx_call *call)
{
	atomic_fetch_add(&runs[H_REFUSE], 1);
	cr_assert_eq(bump(dtx_call_txn(call), "n", 100), DTX_OK);
	dtx_call_set_message(call, "out of stock");
	return DTX_STATUS_FAIL;
}

/* h_flaky: writes, then answers RETRY flaky_retries times, then adds. */
static dtx_status h_flaky(void *arg, dtx_call *call)
{
	atomic_fetch_add(&runs[H_FLAKY], 1);
	if (dtx_call_txn(call) != NULL)
		cr_assert_eq(bump(dtx_call_txn(call), "n", 1), DTX_OK);
	if (atomic_fetch_sub(&flaky_retries, 1) > 0)
		return DTX_STATUS_RETRY;
	return DTX_STATUS_OK;
}

/* h_confirm: counts confirmations in "confirmed". */
static dtx_status h_confirm(void *arg, dtx_call *call)
{
	atomic_fetch_add(&runs[H_CONFIRM], 1);
	if (bump(dtx_call_txn(call), "confirmed", 1) != DTX_OK)
		return DTX_STATUS_RETRY;
	return DTX_STATUS_OK;
}

/* h_big: stores 20 kB under the gid (fills a small map fast). */
static dtx_status h_big(void *arg, dtx_call *call)
{
	static char big[20000];
	const char *gid = dtx_call_gid(call);
	int rv;

	atomic_fetch_add(&runs[H_BIG], 1);
	memset(big, 'b', sizeof(big));
	rv = dtx_txn_put(dtx_call_txn(call), "counter", gid, strlen(gid), big,
	                 sizeof(big));
	return rv == DTX_OK ? DTX_STATUS_OK : DTX_STATUS_RETRY;
}

/* h_slow: h_add after 300 ms, so the caller's resends overtake it. */
static dtx_status h_slow(void *arg, dtx_call *call)
{
	struct timespec ts = {0, 300 * 1000000L};

	atomic_fetch_add(&runs[H_SLOW], 1);
	nanosleep(&ts, NULL);
	if (bump(dtx_call_txn(call), "n", 1) != DTX_OK)
		return DTX_STATUS_RETRY;
	return DTX_STATUS_OK;
}

/* The stock: the counter "counter"/"stock" (dtx_txn_add_i64, decimal
 * text), and "counter"/"sold-<gid>" for each call that took a unit. */
#define STOCK "stock"

#ifdef BARRIER_TEST_PG
static bool took_probe; /* h_take_probe saw the stock row unlocked */
#endif

/* take_one takes one unit of the stock for call (floor 0) and records
 * it; *ret_short when none is left. Errors: the store's. */
static int take_one(dtx_call *call, bool *ret_short)
{
	dtx_txn *txn = dtx_call_txn(call);
	char key[DTX_GID_MAX + 8];
	int rv = dtx_txn_add_i64(txn, "counter", STOCK, strlen(STOCK), -1, 0,
	                         ret_short);

	if (rv != DTX_OK || *ret_short)
		return rv;
	snprintf(key, sizeof(key), "sold-%s", dtx_call_gid(call));
	return dtx_txn_put(txn, "counter", key, strlen(key), "1", 1);
}

/* h_take: action - one unit, or FAIL "out of stock". */
static dtx_status h_take(void *arg, dtx_call *call)
{
	bool short_of = false;

	atomic_fetch_add(&runs[H_TAKE], 1);
	if (take_one(call, &short_of) != DTX_OK)
		return DTX_STATUS_RETRY;
	if (short_of)
		dtx_call_set_message(call, "out of stock");
	return short_of ? DTX_STATUS_FAIL : DTX_STATUS_OK;
}

/* h_take_refuse, h_take_retry: take a unit, then answer FAIL or RETRY:
 * the unit must come back. */
static dtx_status h_take_refuse(void *arg, dtx_call *call)
{
	bool short_of = false;

	cr_assert_eq(take_one(call, &short_of), DTX_OK);
	dtx_call_set_message(call, "changed its mind");
	return DTX_STATUS_FAIL;
}

static dtx_status h_take_retry(void *arg, dtx_call *call)
{
	bool short_of = false;

	cr_assert_eq(take_one(call, &short_of), DTX_OK);
	return DTX_STATUS_RETRY;
}

/* h_give: compensate - the unit of the call back, if it took one. */
static dtx_status h_give(void *arg, dtx_call *call)
{
	dtx_txn *txn = dtx_call_txn(call);
	char key[DTX_GID_MAX + 8];
	bool short_of = false;
	int rv;

	atomic_fetch_add(&runs[H_GIVE], 1);
	snprintf(key, sizeof(key), "sold-%s", dtx_call_gid(call));
	rv = dtx_txn_del(txn, "counter", key, strlen(key));
	if (rv == DTX_ENOENT)
		return DTX_STATUS_OK;
	if (rv == DTX_OK)
		rv = dtx_txn_add_i64(txn, "counter", STOCK, strlen(STOCK), 1, 0,
		                     &short_of);
	return rv == DTX_OK && !short_of ? DTX_STATUS_OK : DTX_STATUS_RETRY;
}

/* h_take_put: takes a unit, then writes the counter itself (the misuse
 * dtx_txn_add_i64 names): answers the put's error as its message. */
static dtx_status h_take_put(void *arg, dtx_call *call)
{
	bool short_of = false;
	int rv;

	cr_assert_eq(take_one(call, &short_of), DTX_OK);
	rv = dtx_txn_put(dtx_call_txn(call), "counter", STOCK, strlen(STOCK),
	                 "7", 1);
	dtx_call_set_message(call, dtx_strerror(rv));
	return DTX_STATUS_FAIL;
}

static void register_stock_handlers(dtx_participant *p)
{
	static const struct {
		const char *name;
		dtx_handler_fn fn;
	} hs[] = {{"c.take", h_take},
	          {"c.take_refuse", h_take_refuse},
	          {"c.take_retry", h_take_retry},
	          {"c.give", h_give},
	          {"c.take_put", h_take_put}};

	for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++)
		cr_assert_eq(
		        dtx_participant_register(p, hs[i].name, hs[i].fn, NULL),
		        DTX_OK);
}

#ifdef BARRIER_TEST_PG
static void register_sql_handlers(dtx_participant *p);
#endif

static void start_with_map(unsigned workers, size_t map_size)
{
	static const char *const tables[] = {"counter"};
	dtx_participant_opts o;
	dtx_store_opts so;

	dtx_store_opts_init(&so);
	so.tables = tables;
	so.ntables = 1;
	so.map_size = map_size;
#ifdef BARRIER_TEST_PG
	cr_assert_eq(dtx_store_open_pg(pg_uri, &so, &store), DTX_OK);
#else
	cr_assert_eq(dtx_store_open(dir, &so, &store), DTX_OK);
#endif
	dtx_participant_opts_init(&o);
	o.url = url;
	o.workers = workers;
	cr_assert_eq(dtx_participant_create(&o, &part), DTX_OK);
	cr_assert_eq(dtx_participant_register(part, "c.add", h_add, NULL),
	             DTX_OK);
	cr_assert_eq(dtx_participant_register(part, "c.sub", h_sub, NULL),
	             DTX_OK);
	cr_assert_eq(dtx_participant_register(part, "c.refuse", h_refuse, NULL),
	             DTX_OK);
	cr_assert_eq(dtx_participant_register(part, "c.flaky", h_flaky, NULL),
	             DTX_OK);
	cr_assert_eq(
	        dtx_participant_register(part, "c.confirm", h_confirm, NULL),
	        DTX_OK);
	cr_assert_eq(dtx_participant_register(part, "c.big", h_big, NULL),
	             DTX_OK);
	cr_assert_eq(dtx_participant_register(part, "c.slow", h_slow, NULL),
	             DTX_OK);
	register_stock_handlers(part);
#ifdef BARRIER_TEST_PG
	register_sql_handlers(part);
#endif
	cr_assert_eq(dtx_participant_set_store(part, store), DTX_OK);
	cr_assert_eq(dtx_participant_set_deadline_tolerance(part, tolerance_ms),
	             DTX_OK);
	cr_assert_eq(dtx_participant_start(part), DTX_OK);
	cr_assert_eq(dtx_participant_set_store(part, store), DTX_EINVAL);
	cr_assert_eq(dtx_participant_set_deadline_tolerance(part, 0),
	             DTX_EINVAL);
}

static void start(unsigned workers)
{
	start_with_map(workers, 0);
}

/* ---- the store, read back ---------------------------------------------- */

typedef struct count_q {
	const char *key;
	int64_t n;
} count_q;

static int read_count(void *arg, dtx_txn *txn)
{
	count_q *q = arg;
	const void *v;
	size_t len;
	int rv = dtx_txn_get(txn, "counter", q->key, strlen(q->key), &v, &len);

	q->n = 0;
	if (rv == DTX_OK)
		memcpy(&q->n, v, sizeof(q->n));
	return rv == DTX_ENOENT ? DTX_OK : rv;
}

static int64_t counter(const char *key)
{
	count_q q = {key, 0};

	cr_assert_eq(dtx_store_view(store, read_count, &q), DTX_OK);
	return q.n;
}

/* entry - one barrier record, as dtx_txn_barrier_scan reported it. */
typedef struct entry {
	char gid[DTX_GID_MAX + 1];
	uint32_t branch;
	dtx_op op;
	dtx_status status;
	bool null_comp;
	int64_t keep_until;
} entry;

typedef struct entries {
	const char *gid; /* only this gid; NULL: all */
	entry e[64];
	int n;
} entries;

static int collect(void *arg, const dtx_barrier_entry *be)
{
	entries *es = arg;
	entry *e;

	if (es->gid != NULL && strcmp(es->gid, be->gid) != 0)
		return DTX_OK;
	cr_assert_lt(es->n, 64);
	e = &es->e[es->n++];
	snprintf(e->gid, sizeof(e->gid), "%s", be->gid);
	e->branch = be->branch;
	e->op = be->op;
	e->status = be->status;
	e->null_comp = be->null_compensation;
	e->keep_until = be->keep_until_unix_ms;
	return DTX_OK;
}

static int scan_barrier(void *arg, dtx_txn *txn)
{
	return dtx_txn_barrier_scan(txn, collect, arg);
}

/* record_of returns gid's record of op (must exist). */
static entry record_of(const char *gid, dtx_op op)
{
	entries es = {.gid = gid};

	cr_assert_eq(dtx_store_view(store, scan_barrier, &es), DTX_OK);
	for (int i = 0; i < es.n; i++)
		if (es.e[i].op == op)
			return es.e[i];
	cr_assert_fail("%s: no record of %s", gid, dtx_op_name(op));
	return es.e[0];
}

/* ---- the fake coordinator ---------------------------------------------- */

static nng_socket dial(void)
{
	nng_socket s;

	cr_assert_eq(nng_req0_open(&s), 0);
	cr_assert_eq(nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000), 0);
	cr_assert_eq(nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 5000), 0);
	cr_assert_eq(nng_dial(s, url, NULL, 0), 0);
	return s;
}

typedef struct reply {
	int status;
	char message[1100];
	char result[256];
} reply;

/* send_call_dl sends one BranchCall on s, with deadline_unix_ms when
 * deadline is not 0, and returns its decoded reply. */
static reply send_call_dl(nng_socket s, const char *gid, dtx_op op,
                          const char *handler, int64_t deadline)
{
	Dtx__V1__BranchCall c = DTX__V1__BRANCH_CALL__INIT;
	Dtx__V1__BranchReply *r;
	reply out = {0};
	uint8_t *buf;
	size_t len;
	nng_msg *m;

	c.has_version = c.has_branch = c.has_op = c.has_attempt = 1;
	c.attempt = 1;
	c.version = 1;
	c.gid = (char *)gid;
	c.branch = 2;
	c.op = (Dtx__V1__Op)op;
	c.handler = (char *)handler;
	c.has_deadline_unix_ms = deadline != 0;
	c.deadline_unix_ms = deadline;
	cr_assert_eq(wire_pack_alloc(&c.base, &buf, &len), DTX_OK);
	cr_assert_eq(nng_send(s, buf, len, 0), 0);
	free(buf);
	cr_assert_eq(nng_recvmsg(s, &m, 0), 0, "no reply to %s", handler);
	cr_assert_eq(wire_branch_reply_decode(nng_msg_body(m), nng_msg_len(m),
	                                      &r, NULL, 0),
	             DTX_OK);
	nng_msg_free(m);
	out.status = r->status;
	snprintf(out.message, sizeof(out.message), "%s",
	         r->message ? r->message : "");
	if (r->has_result)
		snprintf(out.result, sizeof(out.result), "%.*s",
		         (int)r->result.len, (const char *)r->result.data);
	wire_branch_reply_free(r);
	return out;
}

static reply send_call(nng_socket s, const char *gid, dtx_op op,
                       const char *handler)
{
	return send_call_dl(s, gid, op, handler, 0);
}

static reply send1(const char *gid, dtx_op op, const char *handler)
{
	return send_call(sock, gid, op, handler);
}

/* send_dl sends a call that carries deadline (unix ms). */
static reply send_dl(const char *gid, dtx_op op, const char *handler,
                     int64_t deadline)
{
	return send_call_dl(sock, gid, op, handler, deadline);
}

static void expect_stats(uint64_t calls, uint64_t applied, uint64_t replayed,
                         uint64_t nulls, uint64_t late, uint64_t retries)
{
	dtx_participant_stats st;

	dtx_participant_get_stats(part, &st);
	cr_assert_eq(st.calls, calls);
	cr_assert_eq(st.applied, applied);
	cr_assert_eq(st.replayed, replayed);
	cr_assert_eq(st.null_compensations, nulls);
	cr_assert_eq(st.late_refused, late);
	cr_assert_eq(st.retries, retries);
}

/* ---- saga ops ---------------------------------------------------------- */

Test(barrier, a_repeated_action_applies_once_and_answers_the_same)
{
	reply r;

	start(2);
	sock = dial();
	for (int i = 0; i < 3; i++) {
		r = send1("g-a", DTX_OP_ACTION, "c.add");
		cr_assert_eq(r.status, OK);
		cr_assert_str_eq(r.message, "added");
		cr_assert_str_eq(r.result, "r:g-a");
	}
	cr_assert_eq(atomic_load(&runs[H_ADD]), 1);
	cr_assert_eq(counter("n"), 1);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(send1("g-a", DTX_OP_COMPENSATE, "c.sub").status,
		             OK);
	cr_assert_eq(atomic_load(&runs[H_SUB]), 1);
	cr_assert_eq(counter("n"), 0);
	expect_stats(5, 2, 3, 0, 0, 0);
	cr_assert_not(record_of("g-a", DTX_OP_COMPENSATE).null_comp);
}

Test(barrier, a_compensate_before_its_action_is_null_and_the_action_late)
{
	reply r;

	start(2);
	sock = dial();
	cr_assert_eq(send1("g-b", DTX_OP_COMPENSATE, "c.sub").status, OK);
	cr_assert_eq(atomic_load(&runs[H_SUB]), 0);
	for (int i = 0; i < 3; i++) {
		r = send1("g-b", DTX_OP_ACTION, "c.add");
		cr_assert_eq(r.status, FAIL);
		cr_assert_str_eq(r.message, "already compensated");
	}
	cr_assert_eq(send1("g-b", DTX_OP_COMPENSATE, "c.sub").status, OK);
	cr_assert_eq(atomic_load(&runs[H_ADD]), 0);
	cr_assert_eq(atomic_load(&runs[H_SUB]), 0);
	cr_assert_eq(counter("n"), 0);
	cr_assert(record_of("g-b", DTX_OP_COMPENSATE).null_comp);
	cr_assert_eq(record_of("g-b", DTX_OP_ACTION).status, DTX_STATUS_FAIL);
	expect_stats(5, 0, 3, 1, 1, 0);
}

Test(barrier, a_refused_action_writes_nothing_and_its_compensate_is_null)
{
	reply r;

	start(2);
	sock = dial();
	for (int i = 0; i < 2; i++) {
		r = send1("g-c", DTX_OP_ACTION, "c.refuse");
		cr_assert_eq(r.status, FAIL);
		cr_assert_str_eq(r.message, "out of stock");
	}
	cr_assert_eq(atomic_load(&runs[H_REFUSE]), 1);
	cr_assert_eq(counter("n"), 0);
	cr_assert_eq(send1("g-c", DTX_OP_COMPENSATE, "c.sub").status, OK);
	cr_assert_eq(atomic_load(&runs[H_SUB]), 0);
	cr_assert_eq(counter("n"), 0);
	cr_assert(record_of("g-c", DTX_OP_COMPENSATE).null_comp);
	expect_stats(3, 1, 1, 1, 0, 0);
}

Test(barrier, retry_records_nothing_and_the_next_call_runs_the_handler)
{
	start(2);
	sock = dial();
	atomic_store(&flaky_retries, 2);
	cr_assert_eq(send1("g-d", DTX_OP_ACTION, "c.flaky").status, RETRY);
	cr_assert_eq(send1("g-d", DTX_OP_ACTION, "c.flaky").status, RETRY);
	cr_assert_eq(counter("n"), 0);
	cr_assert_eq(send1("g-d", DTX_OP_ACTION, "c.flaky").status, OK);
	cr_assert_eq(send1("g-d", DTX_OP_ACTION, "c.flaky").status, OK);
	cr_assert_eq(atomic_load(&runs[H_FLAKY]), 3);
	cr_assert_eq(counter("n"), 1);
	expect_stats(4, 1, 1, 0, 0, 2);
}

Test(barrier, unknown_handlers_are_refused_without_a_record)
{
	entries es = {0};

	start(1);
	sock = dial();
	cr_assert_eq(send1("g-e", DTX_OP_ACTION, "c.nope").status, FAIL);
	cr_assert_eq(dtx_store_view(store, scan_barrier, &es), DTX_OK);
	cr_assert_eq(es.n, 0);
}

/* ---- TCC ops ----------------------------------------------------------- */

Test(barrier, try_confirm_cancel_follow_the_same_rules)
{
	reply r;

	start(2);
	sock = dial();
	/* confirm before try: not yet */
	r = send1("t-1", DTX_OP_CONFIRM, "c.confirm");
	cr_assert_eq(r.status, RETRY);
	cr_assert_str_eq(r.message, "try not recorded");
	cr_assert_eq(atomic_load(&runs[H_CONFIRM]), 0);
	/* try twice, confirm twice: each applies once */
	cr_assert_eq(send1("t-1", DTX_OP_TRY, "c.add").status, OK);
	cr_assert_eq(send1("t-1", DTX_OP_TRY, "c.add").status, OK);
	cr_assert_eq(send1("t-1", DTX_OP_CONFIRM, "c.confirm").status, OK);
	cr_assert_eq(send1("t-1", DTX_OP_CONFIRM, "c.confirm").status, OK);
	cr_assert_eq(atomic_load(&runs[H_ADD]), 1);
	cr_assert_eq(atomic_load(&runs[H_CONFIRM]), 1);
	cr_assert_eq(counter("confirmed"), 1);
	/* cancel before try: null; the late try is refused */
	cr_assert_eq(send1("t-2", DTX_OP_CANCEL, "c.sub").status, OK);
	r = send1("t-2", DTX_OP_TRY, "c.add");
	cr_assert_eq(r.status, FAIL);
	cr_assert_str_eq(r.message, "already cancelled");
	cr_assert_eq(send1("t-2", DTX_OP_TRY, "c.add").status, FAIL);
	/* try then cancel: both apply */
	cr_assert_eq(send1("t-3", DTX_OP_TRY, "c.add").status, OK);
	cr_assert_eq(send1("t-3", DTX_OP_CANCEL, "c.sub").status, OK);
	cr_assert_eq(send1("t-3", DTX_OP_CANCEL, "c.sub").status, OK);
	cr_assert_eq(counter("n"), 1); /* t-1 reserved, t-3 released */
	cr_assert_eq(atomic_load(&runs[H_SUB]), 1);
	expect_stats(11, 4, 4, 1, 1, 0);
}

Test(barrier, repeated_try_confirm_and_cancel_apply_once_and_answer_the_same)
{
	reply r;

	start(2);
	sock = dial();
	for (int i = 0; i < 3; i++) {
		r = send1("t-rep", DTX_OP_TRY, "c.add");
		cr_assert_eq(r.status, OK);
		cr_assert_str_eq(r.message, "added");
		cr_assert_str_eq(r.result, "r:t-rep");
	}
	for (int i = 0; i < 3; i++)
		cr_assert_eq(send1("t-rep", DTX_OP_CONFIRM, "c.confirm").status,
		             OK);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(send1("t-rep2", DTX_OP_TRY, "c.add").status, OK);
		cr_assert_eq(send1("t-rep2", DTX_OP_CANCEL, "c.sub").status,
		             OK);
	}
	cr_assert_eq(atomic_load(&runs[H_ADD]), 2);
	cr_assert_eq(atomic_load(&runs[H_CONFIRM]), 1);
	cr_assert_eq(atomic_load(&runs[H_SUB]), 1);
	cr_assert_eq(counter("n"), 1);
	cr_assert_eq(counter("confirmed"), 1);
	expect_stats(12, 4, 8, 0, 0, 0);
}

/* calls_settled waits until every call received was answered. */
static dtx_participant_stats calls_settled(void)
{
	struct timespec ts = {0, 10 * 1000000L};
	dtx_participant_stats st;

	for (int i = 0; i < 500; i++) {
		dtx_participant_get_stats(part, &st);
		if (st.calls == st.applied + st.replayed)
			break;
		nanosleep(&ts, NULL);
	}
	return st;
}

Test(barrier, nng_resends_of_a_slow_try_apply_once)
{
	dtx_participant_stats st;

	start(4);
	sock = dial();
	/* the try takes 300 ms: nng resends it about every 40 ms meanwhile,
	 * and the copies reach other workers */
	cr_assert_eq(nng_socket_set_ms(sock, NNG_OPT_REQ_RESENDTIME, 40), 0);
	cr_assert_eq(send1("t-slow", DTX_OP_TRY, "c.slow").status, OK);
	cr_assert_eq(send1("t-slow", DTX_OP_TRY, "c.slow").status, OK);
	st = calls_settled();
	cr_assert_geq(st.calls, 3, "nng did not resend");
	cr_assert_eq(st.applied, 1);
	cr_assert_eq(st.replayed, st.calls - 1);
	cr_assert_eq(atomic_load(&runs[H_SLOW]), 1);
	cr_assert_eq(counter("n"), 1);
}

Test(barrier, a_refused_try_leaves_a_null_cancel_and_a_later_try_refused)
{
	reply r;

	start(2);
	sock = dial();
	r = send1("t-ref", DTX_OP_TRY, "c.refuse");
	cr_assert_eq(r.status, FAIL);
	cr_assert_eq(counter("n"), 0); /* its write was dropped */
	cr_assert_eq(send1("t-ref", DTX_OP_CANCEL, "c.sub").status, OK);
	cr_assert_eq(atomic_load(&runs[H_SUB]), 0, "cancel handler ran");
	cr_assert(record_of("t-ref", DTX_OP_CANCEL).null_comp);
	for (int i = 0; i < 3; i++) {
		r = send1("t-ref", DTX_OP_TRY, "c.refuse");
		cr_assert_eq(r.status, FAIL);
		cr_assert_str_eq(r.message, "out of stock");
	}
	cr_assert_eq(atomic_load(&runs[H_REFUSE]), 1);
	cr_assert_eq(counter("n"), 0);
	expect_stats(5, 1, 3, 1, 0, 0);
}

Test(barrier, a_try_that_answered_retry_lets_its_cancel_be_null)
{
	reply r;

	start(2);
	sock = dial();
	atomic_store(&flaky_retries, 1);
	cr_assert_eq(send1("t-rt", DTX_OP_TRY, "c.flaky").status, RETRY);
	cr_assert_eq(counter("n"), 0);
	cr_assert_eq(send1("t-rt", DTX_OP_CANCEL, "c.sub").status, OK);
	cr_assert_eq(atomic_load(&runs[H_SUB]), 0);
	cr_assert(record_of("t-rt", DTX_OP_CANCEL).null_comp);
	for (int i = 0; i < 3; i++) {
		r = send1("t-rt", DTX_OP_TRY, "c.flaky");
		cr_assert_eq(r.status, FAIL);
		cr_assert_str_eq(r.message, "already cancelled");
	}
	cr_assert_eq(atomic_load(&runs[H_FLAKY]), 1);
	cr_assert_eq(counter("n"), 0);
	expect_stats(5, 0, 2, 1, 1, 1);
}

/* reopen destroys the participant, closes the store and starts both
 * again on the same directory and address. */
static void reopen(void)
{
	nng_close(sock);
	dtx_participant_destroy(part);
	dtx_store_close(store);
	part = NULL;
	store = NULL;
	start(2);
	sock = dial();
}

Test(barrier, a_null_cancel_survives_reopening_and_refuses_a_late_try)
{
	reply r;

	start(2);
	sock = dial();
	cr_assert_eq(send1("t-dur", DTX_OP_CANCEL, "c.sub").status, OK);
	reopen();
	cr_assert(record_of("t-dur", DTX_OP_CANCEL).null_comp);
	r = send1("t-dur", DTX_OP_TRY, "c.add");
	cr_assert_eq(r.status, FAIL);
	cr_assert_str_eq(r.message, "already cancelled");
	reopen();
	cr_assert_eq(send1("t-dur", DTX_OP_TRY, "c.add").status, FAIL);
	cr_assert_eq(send1("t-dur", DTX_OP_CANCEL, "c.sub").status, OK);
	cr_assert_eq(atomic_load(&runs[H_ADD]), 0);
	cr_assert_eq(atomic_load(&runs[H_SUB]), 0);
	cr_assert_eq(counter("n"), 0);
}

Test(barrier, a_confirm_after_a_cancel_and_a_cancel_after_a_confirm_never_run)
{
	reply r;

	start(2);
	sock = dial();
	cr_assert_eq(send1("t-cc", DTX_OP_TRY, "c.add").status, OK);
	cr_assert_eq(send1("t-cc", DTX_OP_CANCEL, "c.sub").status, OK);
	for (int i = 0; i < 2; i++) {
		r = send1("t-cc", DTX_OP_CONFIRM, "c.confirm");
		cr_assert_eq(r.status, RETRY);
		cr_assert_str_eq(r.message, "already cancelled");
	}
	cr_assert_eq(send1("t-cf", DTX_OP_TRY, "c.add").status, OK);
	cr_assert_eq(send1("t-cf", DTX_OP_CONFIRM, "c.confirm").status, OK);
	for (int i = 0; i < 2; i++) {
		r = send1("t-cf", DTX_OP_CANCEL, "c.sub");
		cr_assert_eq(r.status, RETRY);
		cr_assert_str_eq(r.message, "already confirmed");
	}
	cr_assert_eq(atomic_load(&runs[H_CONFIRM]), 1);
	cr_assert_eq(atomic_load(&runs[H_SUB]), 1);
	cr_assert_eq(counter("n"), 1);         /* t-cf's reservation */
	cr_assert_eq(counter("confirmed"), 1); /* t-cf only */
	expect_stats(8, 4, 0, 0, 0, 0);
}

/* find_key, has_key: whether "counter" holds key. */
static int find_key(void *arg, dtx_txn *txn)
{
	const char *key = arg;
	const void *v;
	size_t len;

	return dtx_txn_get(txn, "counter", key, strlen(key), &v, &len);
}

static bool has_key(const char *key)
{
	int rv = dtx_store_view(store, find_key, (void *)key);

	cr_assert(rv == DTX_OK || rv == DTX_ENOENT, "%s", dtx_strerror(rv));
	return rv == DTX_OK;
}

#ifndef BARRIER_TEST_PG /* an LMDB file that cannot grow */
/* limit_file_size makes writes past the store file's current end fail
 * with EFBIG (soft limit only, so it can be lifted again). */
static rlim_t limit_file_size(void)
{
	char path[128];
	struct rlimit rl;
	struct stat st;
	rlim_t old;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &rl), 0);
	old = rl.rlim_cur;
	rl.rlim_cur = (rlim_t)st.st_size;
	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	return old;
}

static void lift_file_size(rlim_t old)
{
	struct rlimit rl;

	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &rl), 0);
	rl.rlim_cur = old;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
}

Test(barrier, a_try_whose_commit_failed_lets_its_cancel_be_null)
{
	char want[128];
	rlim_t old;
	reply r;

	start(2);
	sock = dial();
	/* c.big writes 20 kB: its commit must grow the file, and fails */
	old = limit_file_size();
	r = send1("t-eio", DTX_OP_TRY, "c.big");
	lift_file_size(old);
	cr_assert_eq(r.status, RETRY);
	snprintf(want, sizeof(want), "participant store: %s",
	         dtx_strerror(DTX_EIO));
	cr_assert_str_eq(r.message, want);
	cr_assert_eq(atomic_load(&runs[H_BIG]), 1);
	cr_assert_not(has_key("t-eio"), "the failed try's write is there");
	cr_assert_eq(send1("t-eio", DTX_OP_CANCEL, "c.sub").status, OK);
	cr_assert_eq(atomic_load(&runs[H_SUB]), 0);
	reopen();
	cr_assert(record_of("t-eio", DTX_OP_CANCEL).null_comp);
	r = send1("t-eio", DTX_OP_TRY, "c.big");
	cr_assert_eq(r.status, FAIL);
	cr_assert_str_eq(r.message, "already cancelled");
	cr_assert_eq(atomic_load(&runs[H_BIG]), 1);
	cr_assert_not(has_key("t-eio"));
}

#endif

/* ---- a try and a cancel racing on two threads --------------------------- */

#define ROUNDS 200

typedef struct racer {
	nng_socket s;
	pthread_barrier_t *go;
	const char *gid;
	dtx_op op;
	unsigned delay_us;
	reply r;
} racer;

static void *race(void *arg)
{
	racer *rc = arg;
	struct timespec ts = {0, (long)rc->delay_us * 1000};
	bool fwd = rc->op == DTX_OP_TRY || rc->op == DTX_OP_ACTION;

	pthread_barrier_wait(rc->go);
	if (rc->delay_us > 0)
		nanosleep(&ts, NULL);
	rc->r = send_call(rc->s, rc->gid, rc->op, fwd ? "c.add" : "c.sub");
	return NULL;
}

/* race_pair - the two ops that race, and how they are served. */
typedef struct race_pair {
	dtx_op fwd, back;    /* try/cancel or action/compensate */
	const char *refusal; /* the late forward op's message */
} race_pair;

static const race_pair tcc_pair = {DTX_OP_TRY, DTX_OP_CANCEL,
                                   "already cancelled"};
static const race_pair saga_pair = {DTX_OP_ACTION, DTX_OP_COMPENSATE,
                                    "already compensated"};

/* race_round runs one forward op (rt) and its backward op (rc) of gid at
 * once and returns true if the forward op won (applied, then undone). */
static bool race_round(const race_pair *rp, racer *rt, racer *rc,
                       const char *gid, int i)
{
	pthread_t a, b;
	entry t, c;

	rt->gid = rc->gid = gid;
	rt->delay_us = i % 4 == 1 ? 3000 : 0; /* backward first, mostly */
	rc->delay_us = i % 4 == 3 ? 3000 : 0; /* forward first, mostly */
	/* both orders of thread creation */
	pthread_create(&a, NULL, race, i % 2 ? (void *)rt : (void *)rc);
	pthread_create(&b, NULL, race, i % 2 ? (void *)rc : (void *)rt);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	cr_assert_eq(rc->r.status, OK, "%s: backward op", gid);
	cr_assert_eq(counter("n"), 0, "%s: counter", gid);
	t = record_of(gid, rp->fwd);
	c = record_of(gid, rp->back);
	if (rt->r.status == OK) {
		cr_assert_eq(t.status, DTX_STATUS_OK, "%s", gid);
		cr_assert_not(c.null_comp, "%s: applied after a null", gid);
		return true;
	}
	cr_assert_eq(rt->r.status, FAIL, "%s: forward op", gid);
	cr_assert_str_eq(rt->r.message, rp->refusal);
	cr_assert(c.null_comp, "%s", gid);
	cr_assert_eq(t.status, DTX_STATUS_FAIL, "%s", gid);
	return false;
}

/* race_many races rp's two ops for ROUNDS gids; each order must happen
 * at least once, and each effect as often as its order won. */
static void race_many(const race_pair *rp, const char *prefix)
{
	pthread_barrier_t go;
	racer rt = {.go = &go, .op = rp->fwd};
	racer rc = {.go = &go, .op = rp->back};
	int fwd_won = 0;
	char gid[32];

	start(4);
	rt.s = dial();
	rc.s = dial();
	pthread_barrier_init(&go, NULL, 2);
	for (int i = 0; i < ROUNDS; i++) {
		snprintf(gid, sizeof(gid), "%s-%03d", prefix, i);
		fwd_won += race_round(rp, &rt, &rc, gid, i);
	}
	pthread_barrier_destroy(&go);
	nng_close(rt.s);
	nng_close(rc.s);
	cr_assert_gt(fwd_won, 0);
	cr_assert_lt(fwd_won, ROUNDS);
	cr_assert_eq(atomic_load(&runs[H_ADD]), fwd_won);
	cr_assert_eq(atomic_load(&runs[H_SUB]), fwd_won);
	expect_stats(2 * ROUNDS, 2 * fwd_won, 0, ROUNDS - fwd_won,
	             ROUNDS - fwd_won, 0);
}

Test(barrier, a_racing_try_and_cancel_happen_in_exactly_one_order,
     .timeout = 100)
{
	race_many(&tcc_pair, "race");
}

Test(barrier, a_racing_action_and_compensate_happen_in_exactly_one_order,
     .timeout = 100)
{
	race_many(&saga_pair, "srace");
}

/* ---- group commit ------------------------------------------------------ */

#define GROUP_CALLS 40

typedef struct grouped {
	pthread_t th;
	char gid[32];
	const char *handler;
	reply r;
} grouped;

static void *grouped_main(void *arg)
{
	grouped *g = arg;
	nng_socket s = dial();

	g->r = send_call(s, g->gid, DTX_OP_ACTION, g->handler);
	nng_close(s);
	return NULL;
}

/* send_grouped sends GROUP_CALLS calls at once from as many sockets while
 * one worker is held 300 ms by a slow call, so they wait together; every
 * odd one goes to refuse_handler (NULL: all to c.add). */
static reply send_grouped(grouped *g, const char *refuse_handler)
{
	grouped slow = {.handler = "c.slow"};

	snprintf(slow.gid, sizeof(slow.gid), "g-slow");
	cr_assert_eq(pthread_create(&slow.th, NULL, grouped_main, &slow), 0);
	nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
	for (int i = 0; i < GROUP_CALLS; i++) {
		snprintf(g[i].gid, sizeof(g[i].gid), "g-%03d", i);
		g[i].handler = refuse_handler != NULL && i % 2 == 1
		                       ? refuse_handler
		                       : "c.add";
		cr_assert_eq(
		        pthread_create(&g[i].th, NULL, grouped_main, &g[i]), 0);
	}
	pthread_join(slow.th, NULL);
	for (int i = 0; i < GROUP_CALLS; i++)
		pthread_join(g[i].th, NULL);
	return slow.r;
}

Test(barrier, calls_that_wait_together_share_one_commit)
{
	grouped g[GROUP_CALLS];
	dtx_participant_stats st;

	start(1);
	cr_assert_eq(send_grouped(g, NULL).status, OK);
	for (int i = 0; i < GROUP_CALLS; i++) {
		cr_assert_eq(g[i].r.status, OK, "%s", g[i].gid);
		cr_assert_str_eq(g[i].r.message, "added");
		cr_assert_eq(record_of(g[i].gid, DTX_OP_ACTION).status,
		             DTX_STATUS_OK);
	}
	cr_assert_eq(counter("n"), GROUP_CALLS + 1);
	dtx_participant_get_stats(part, &st);
	cr_assert_eq(st.calls, GROUP_CALLS + 1);
	cr_assert_eq(st.applied, GROUP_CALLS + 1);
	/* one commit per call would be 41; the 40 waited behind the slow
	 * call, so a few groups serve them all */
	cr_assert_leq(st.commits, 1 + GROUP_CALLS / 8, "%llu commits",
	              (unsigned long long)st.commits);
}

Test(barrier, a_refusal_in_a_group_drops_only_its_own_writes)
{
	grouped g[GROUP_CALLS];
	dtx_participant_stats st;

	start(1);
	cr_assert_eq(send_grouped(g, "c.refuse").status, OK);
	for (int i = 0; i < GROUP_CALLS; i++) {
		if (i % 2 == 1) {
			cr_assert_eq(g[i].r.status, FAIL, "%s", g[i].gid);
			cr_assert_str_eq(g[i].r.message, "out of stock");
			cr_assert_eq(record_of(g[i].gid, DTX_OP_ACTION).status,
			             DTX_STATUS_FAIL);
		} else {
			cr_assert_eq(g[i].r.status, OK, "%s", g[i].gid);
		}
	}
	/* each refusal wrote +100 before refusing: none of it is left */
	cr_assert_eq(counter("n"), GROUP_CALLS / 2 + 1);
	dtx_participant_get_stats(part, &st);
	cr_assert_leq(st.commits, 1 + GROUP_CALLS / 8);
	cr_assert_eq(atomic_load(&runs[H_REFUSE]), GROUP_CALLS / 2);
}

#ifndef BARRIER_TEST_PG
Test(barrier, a_group_whose_commit_fails_answers_every_call_retry)
{
	grouped g[GROUP_CALLS];
	char want[128];
	rlim_t old;
	int64_t before;

	start(1);
	sock = dial();
	cr_assert_eq(send1("g-first", DTX_OP_ACTION, "c.add").status, OK);
	before = counter("n");
	/* every odd call writes 20 kB: the group's commit must grow the
	 * file, and fails; the even calls in it must not be answered OK */
	old = limit_file_size();
	send_grouped(g, "c.big");
	lift_file_size(old);
	snprintf(want, sizeof(want), "participant store: %s",
	         dtx_strerror(DTX_EIO));
	reopen();
	for (int i = 0; i < GROUP_CALLS; i++) {
		entries es = {.gid = g[i].gid};

		cr_assert_eq(g[i].r.status, RETRY, "%s", g[i].gid);
		cr_assert_str_eq(g[i].r.message, want);
		cr_assert_not(has_key(g[i].gid));
		cr_assert_eq(dtx_store_view(store, scan_barrier, &es), DTX_OK);
		cr_assert_eq(es.n, 0, "%s was recorded", g[i].gid);
	}
	cr_assert_leq(counter("n"), before + 1, "only the slow call may add");
}
#endif

/* ---- a batch in one message -------------------------------------------- */

/* batch_call fills c as the fake coordinator's action call of gid. */
static void batch_call(Dtx__V1__BranchCall *c, const char *gid,
                       const char *handler)
{
	dtx__v1__branch_call__init(c);
	c->has_version = c->has_branch = c->has_op = c->has_attempt = 1;
	c->version = 1;
	c->attempt = 1;
	c->gid = (char *)gid;
	c->branch = 2;
	c->op = DTX__V1__OP__OP_ACTION;
	c->handler = (char *)handler;
}

Test(barrier, each_call_of_a_batch_is_answered_alone_in_order)
{
	static const char *const gids[] = {"b-1", "b-2", "bad gid", "b-4",
	                                   "b-1"};
	static const char *const handlers[] = {"c.add", "c.nope", "c.add",
	                                       "c.refuse", "c.add"};
	enum { N = 5 };
	Dtx__V1__BranchCall c[N];
	Dtx__V1__BranchReply *r = NULL;
	size_t len = wire_batch_head_size(), at, l;
	uint8_t *buf;
	nng_msg *m;

	start(1);
	sock = dial();
	for (int i = 0; i < N; i++) {
		batch_call(&c[i], gids[i], handlers[i]);
		l = wire_packed_size(&c[i].base);
		len += wire_batch_item_head_size(l) + l;
	}
	cr_assert_not_null(buf = malloc(len));
	wire_batch_head(buf);
	at = wire_batch_head_size();
	for (int i = 0; i < N; i++) {
		l = wire_packed_size(&c[i].base);
		at += wire_batch_item_head(buf + at, false, l);
		wire_pack(&c[i].base, buf + at);
		at += l;
	}
	cr_assert_eq(nng_send(sock, buf, len, 0), 0);
	free(buf);
	cr_assert_eq(nng_recvmsg(sock, &m, 0), 0);
	cr_assert_eq(wire_branch_replies_decode(nng_msg_body(m), nng_msg_len(m),
	                                        N, &r, NULL, 0),
	             DTX_OK, "not a batch of %d replies", N);
	nng_msg_free(m);
	cr_assert_eq(r->batch[0]->status, OK);
	cr_assert_str_eq(r->batch[0]->message, "added");
	cr_assert_eq(r->batch[1]->status, FAIL);
	cr_assert_str_eq(r->batch[1]->message, "unknown handler: c.nope");
	cr_assert_eq(r->batch[2]->status, FAIL);
	cr_assert(strncmp(r->batch[2]->message, "invalid call: ", 14) == 0,
	          "%s", r->batch[2]->message);
	cr_assert_eq(r->batch[3]->status, FAIL);
	cr_assert_str_eq(r->batch[3]->message, "out of stock");
	/* the repeat of b-1 in the same batch is answered from the record
	 * the first one wrote, durable by then */
	cr_assert_eq(r->batch[4]->status, OK);
	cr_assert_str_eq(r->batch[4]->message, "added");
	wire_branch_reply_free(r);
	cr_assert_eq(atomic_load(&runs[H_ADD]), 1);
	cr_assert_eq(counter("n"), 1, "only b-1 added; the refusal dropped");
	cr_assert_eq(record_of("b-4", DTX_OP_ACTION).status, DTX_STATUS_FAIL);
	expect_stats(4, 2, 1, 0, 0, 0);
}

/* ---- counters: dtx_txn_add_i64 in a group ------------------------------ */

#define BATCH_MAX 16

/* send_batch sends n calls of op (gids[i] to handlers[i]) as one batch,
 * so one group serves them, and fills out[0..n) with the replies. */
static void send_batch(int n, const char *const *gids,
                       const char *const *handlers, dtx_op op, reply *out)
{
	Dtx__V1__BranchCall c[BATCH_MAX];
	Dtx__V1__BranchReply *r = NULL;
	size_t len = wire_batch_head_size(), at, l;
	uint8_t *buf;
	nng_msg *m;

	cr_assert_leq(n, BATCH_MAX);
	for (int i = 0; i < n; i++) {
		batch_call(&c[i], gids[i], handlers[i]);
		c[i].op = (Dtx__V1__Op)op;
		l = wire_packed_size(&c[i].base);
		len += wire_batch_item_head_size(l) + l;
	}
	cr_assert_not_null(buf = malloc(len));
	wire_batch_head(buf);
	at = wire_batch_head_size();
	for (int i = 0; i < n; i++) {
		l = wire_packed_size(&c[i].base);
		at += wire_batch_item_head(buf + at, false, l);
		wire_pack(&c[i].base, buf + at);
		at += l;
	}
	cr_assert_eq(nng_send(sock, buf, len, 0), 0);
	free(buf);
	cr_assert_eq(nng_recvmsg(sock, &m, 0), 0);
	cr_assert_eq(wire_branch_replies_decode(nng_msg_body(m), nng_msg_len(m),
	                                        (size_t)n, &r, NULL, 0),
	             DTX_OK, "not a batch of %d replies", n);
	nng_msg_free(m);
	for (int i = 0; i < n; i++) {
		out[i] = (reply){.status = r->batch[i]->status};
		snprintf(out[i].message, sizeof(out[i].message), "%s",
		         r->batch[i]->message ? r->batch[i]->message : "");
	}
	wire_branch_reply_free(r);
}

typedef struct stock_q {
	int64_t add, floor; /* stock_add's */
	bool is_short;
	int rv;       /* dtx_txn_add_i64's */
	int64_t left; /* read_stock's */
} stock_q;

static int add_stock(void *arg, dtx_txn *txn)
{
	stock_q *q = arg;

	q->rv = dtx_txn_add_i64(txn, "counter", STOCK, strlen(STOCK), q->add,
	                        q->floor, &q->is_short);
	return q->rv;
}

static int read_stock(void *arg, dtx_txn *txn)
{
	stock_q *q = arg;
	char text[24] = "";
	const void *v;
	size_t len;
	int rv = dtx_txn_get(txn, "counter", STOCK, strlen(STOCK), &v, &len);

	if (rv != DTX_OK)
		return rv;
	cr_assert_lt(len, sizeof(text));
	memcpy(text, v, len);
	q->left = strtoll(text, NULL, 10);
	return DTX_OK;
}

/* put_text makes the stock a value that is not a counter. */
static int put_text(void *arg, dtx_txn *txn)
{
	return dtx_txn_put(txn, "counter", STOCK, strlen(STOCK), "many", 4);
}

static int add_bad_args(void *arg, dtx_txn *txn)
{
	bool is_short;

	cr_assert_eq(dtx_txn_add_i64(txn, "nope", "k", 1, 1, 0, &is_short),
	             DTX_EINVAL);
	cr_assert_eq(dtx_txn_add_i64(txn, "counter", "k", 0, 1, 0, &is_short),
	             DTX_EINVAL);
	cr_assert_eq(dtx_txn_add_i64(txn, "counter", NULL, 1, 1, 0, &is_short),
	             DTX_EINVAL);
	cr_assert_eq(dtx_txn_add_i64(txn, "counter", "k", 1, 1, 0, NULL),
	             DTX_EINVAL);
	cr_assert_eq(dtx_txn_add_i64(NULL, "counter", "k", 1, 1, 0, &is_short),
	             DTX_EINVAL);
	return DTX_OK;
}

static int64_t stock_left(void)
{
	stock_q q = {0};

	cr_assert_eq(dtx_store_view(store, read_stock, &q), DTX_OK);
	return q.left;
}

/* has_sold tells whether gid's call recorded a unit taken. */
static bool has_sold(const char *gid)
{
	char key[DTX_GID_MAX + 8];

	snprintf(key, sizeof(key), "sold-%s", gid);
	return has_key(key);
}

/* gids_of fills gids with n gids "<prefix>-<i>" (storage in names). */
static void gids_of(const char *prefix, int n, char names[][32],
                    const char **gids, const char **handlers,
                    const char *handler)
{
	for (int i = 0; i < n; i++) {
		snprintf(names[i], 32, "%s-%02d", prefix, i);
		gids[i] = names[i];
		handlers[i] = handler;
	}
}

Test(barrier,
     an_add_in_an_update_counts_a_missing_key_as_0_and_checks_its_floor)
{
	stock_q q = {.add = 5, .floor = 0};

	start(1);
	cr_assert_eq(dtx_store_update(store, add_stock, &q), DTX_OK);
	cr_assert_not(q.is_short);
	cr_assert_eq(stock_left(), 5);
	q = (stock_q){.add = -6, .floor = 0};
	cr_assert_eq(dtx_store_update(store, add_stock, &q), DTX_OK);
	cr_assert(q.is_short, "6 taken from 5 with the floor 0");
	cr_assert_eq(stock_left(), 5);
	q = (stock_q){.add = -6, .floor = INT64_MIN};
	cr_assert_eq(dtx_store_update(store, add_stock, &q), DTX_OK);
	cr_assert_not(q.is_short);
	cr_assert_eq(stock_left(), -1);
	q = (stock_q){.add = 1, .floor = 0};
	cr_assert_eq(dtx_store_update(store, add_stock, &q), DTX_OK);
	cr_assert_not(q.is_short, "-1 + 1 ends at the floor: fits");
	cr_assert_eq(stock_left(), 0);
	cr_assert_eq(dtx_store_update(store, put_text, NULL), DTX_OK);
	q = (stock_q){.add = 1, .floor = 0};
#ifdef BARRIER_TEST_PG
	cr_assert_eq(dtx_store_update(store, add_stock, &q), DTX_EIO);
#else
	cr_assert_eq(dtx_store_update(store, add_stock, &q), DTX_ECORRUPT);
#endif
	cr_assert_eq(dtx_store_update(store, add_bad_args, NULL), DTX_OK);
}

Test(barrier, a_group_of_takes_never_oversells_and_a_repeat_applies_nothing)
{
	enum { N = 8, STOCK_0 = 5 };
	char names[N][32];
	const char *gids[N], *hs[N];
	reply r[N], again[N];
	stock_q q = {.add = STOCK_0, .floor = 0};
	int ok = 0, runs_before;

	start(1);
	sock = dial();
	cr_assert_eq(dtx_store_update(store, add_stock, &q), DTX_OK);
	gids_of("t", N, names, gids, hs, "c.take");
	send_batch(N, gids, hs, DTX_OP_ACTION, r);
	for (int i = 0; i < N; i++) {
		bool is_ok = r[i].status == OK;

		cr_assert(is_ok || (r[i].status == FAIL &&
		                    strcmp(r[i].message, "out of stock") == 0),
		          "%s: %d %s", gids[i], r[i].status, r[i].message);
		cr_assert_eq(has_sold(gids[i]), is_ok, "%s", gids[i]);
		cr_assert_eq(record_of(gids[i], DTX_OP_ACTION).status,
		             is_ok ? DTX_STATUS_OK : DTX_STATUS_FAIL);
		ok += is_ok;
	}
	cr_assert_eq(ok, STOCK_0, "every unit sold once, none oversold");
	cr_assert_eq(stock_left(), 0);
	/* the same batch again: answered from the records, nothing runs */
	runs_before = atomic_load(&runs[H_TAKE]);
	send_batch(N, gids, hs, DTX_OP_ACTION, again);
	for (int i = 0; i < N; i++)
		cr_assert_eq(again[i].status, r[i].status, "%s", gids[i]);
	cr_assert_eq(atomic_load(&runs[H_TAKE]), runs_before);
	cr_assert_eq(stock_left(), 0);
	/* compensating all: the sold units come back, the refused are null */
	for (int i = 0; i < N; i++)
		hs[i] = "c.give";
	send_batch(N, gids, hs, DTX_OP_COMPENSATE, again);
	for (int i = 0; i < N; i++) {
		cr_assert_eq(again[i].status, OK, "%s", gids[i]);
		cr_assert_not(has_sold(gids[i]));
	}
	cr_assert_eq(atomic_load(&runs[H_GIVE]), STOCK_0);
	cr_assert_eq(stock_left(), STOCK_0, "no unit lost, none doubled");
}

Test(barrier, a_group_that_fits_its_stock_exactly_runs_each_handler_once)
{
	enum { N = 10 };
	char names[N][32];
	const char *gids[N], *hs[N];
	reply r[N];
	stock_q q = {.add = N, .floor = 0};

	start(1);
	sock = dial();
	cr_assert_eq(dtx_store_update(store, add_stock, &q), DTX_OK);
	gids_of("f", N, names, gids, hs, "c.take");
	send_batch(N, gids, hs, DTX_OP_ACTION, r);
	for (int i = 0; i < N; i++)
		cr_assert_eq(r[i].status, OK, "%s: %s", gids[i], r[i].message);
	cr_assert_eq(atomic_load(&runs[H_TAKE]), N, "no call ran twice");
	cr_assert_eq(stock_left(), 0);
	expect_stats(N, N, 0, 0, 0, 0);
}

Test(barrier, a_take_refused_or_retried_in_a_group_gives_its_unit_back)
{
	static const char *const gids[] = {"u-a", "u-b", "u-c", "u-d"};
	static const char *const hs[] = {"c.take", "c.take_refuse",
	                                 "c.take_retry", "c.take"};
	reply r[4];
	stock_q q = {.add = 10, .floor = 0}; /* enough: no rerun */

	start(1);
	sock = dial();
	cr_assert_eq(dtx_store_update(store, add_stock, &q), DTX_OK);
	send_batch(4, gids, hs, DTX_OP_ACTION, r);
	cr_assert_eq(r[0].status, OK);
	cr_assert_eq(r[1].status, FAIL);
	cr_assert_str_eq(r[1].message, "changed its mind");
	cr_assert_eq(r[2].status, RETRY);
	cr_assert_eq(r[3].status, OK);
	cr_assert_eq(stock_left(), 8, "only the two OK calls took a unit");
	cr_assert(has_sold("u-a") && has_sold("u-d"));
	cr_assert_not(has_sold("u-b") || has_sold("u-c"));
}

/* ---- a full map ------------------------------------------------------- */

#ifndef BARRIER_TEST_PG
Test(barrier, a_full_map_grows_and_the_call_runs_again)
{
	char gid[32];
	int n = 40;

	start_with_map(2, 128 << 10);
	sock = dial();
	for (int i = 0; i < n; i++) {
		snprintf(gid, sizeof(gid), "big-%02d", i);
		cr_assert_eq(send1(gid, DTX_OP_ACTION, "c.big").status, OK,
		             "%s", gid);
	}
	cr_assert_gt(atomic_load(&runs[H_BIG]), n); /* some ran twice */
	expect_stats(n, n, 0, 0, 0, 0);
	for (int i = 0; i < n; i++) {
		snprintf(gid, sizeof(gid), "big-%02d", i);
		cr_assert_eq(send1(gid, DTX_OP_ACTION, "c.big").status, OK);
	}
	cr_assert_gt(atomic_load(&runs[H_BIG]), n);
	expect_stats(2 * n, n, n, 0, 0, 0);
}
#endif

/* ---- key-value scans ---------------------------------------------------- */

#define SCAN_KEYS 300 /* more than a page of the PostgreSQL scan (128) */

/* put_keys writes "k0000".."k0299" (value: the number) and "j", "l"
 * around them. */
static int put_keys(void *arg, dtx_txn *txn)
{
	char key[16];
	int rv = DTX_OK;

	for (int i = 0; rv == DTX_OK && i < SCAN_KEYS; i++) {
		snprintf(key, sizeof(key), "k%04d", i);
		rv = dtx_txn_put(txn, "counter", key, 5, &i, sizeof(i));
	}
	if (rv == DTX_OK)
		rv = dtx_txn_put(txn, "counter", "j", 1, "x", 1);
	if (rv == DTX_OK)
		rv = dtx_txn_put(txn, "counter", "l", 1, "x", 1);
	return rv;
}

typedef struct scan_q {
	dtx_txn *txn;
	int seen;
	int stop_at; /* 0: never */
} scan_q;

/* scan_cb checks that keys come in order, reading another key on the
 * same transaction first: a statement in the callback must not take the
 * scan's row away. */
static int scan_cb(void *arg, const void *key, size_t klen, const void *val,
                   size_t vlen)
{
	scan_q *q = arg;
	char want[16];
	const void *v;
	size_t len;
	int i;

	cr_assert_eq(dtx_txn_get(q->txn, "counter", "j", 1, &v, &len), DTX_OK);
	snprintf(want, sizeof(want), "k%04d", q->seen);
	cr_assert_eq(klen, 5);
	cr_assert(memcmp(key, want, 5) == 0, "key %d out of order", q->seen);
	cr_assert_eq(vlen, sizeof(i));
	memcpy(&i, val, sizeof(i));
	cr_assert_eq(i, q->seen);
	q->seen++;
	return q->seen == q->stop_at ? DTX_ELIMIT : DTX_OK;
}

static int scan_keys(void *arg, dtx_txn *txn)
{
	scan_q *q = arg;

	q->txn = txn;
	return dtx_txn_scan(txn, "counter", "k", 1, scan_cb, q);
}

Test(barrier, a_scan_crosses_pages_in_key_order_and_stops_when_told)
{
	scan_q all = {0}, few = {.stop_at = 5}, most = {.stop_at = 200};

	start(1);
	cr_assert_eq(dtx_store_update(store, put_keys, NULL), DTX_OK);
	cr_assert_eq(dtx_store_view(store, scan_keys, &all), DTX_OK);
	cr_assert_eq(all.seen, SCAN_KEYS);
	cr_assert_eq(dtx_store_view(store, scan_keys, &few), DTX_ELIMIT);
	cr_assert_eq(few.seen, 5);
	cr_assert_eq(dtx_store_update(store, scan_keys, &most), DTX_ELIMIT);
	cr_assert_eq(most.seen, 200);
}

/* ---- barrier_scan ------------------------------------------------------ */

Test(barrier, barrier_scan_lists_the_records_in_gid_order)
{
	entries es = {0};

	start(2);
	sock = dial();
	send1("g-2", DTX_OP_ACTION, "c.add");
	send1("g-1", DTX_OP_COMPENSATE, "c.sub");
	send1("g-2", DTX_OP_COMPENSATE, "c.sub");
	send1("g-3", DTX_OP_ACTION, "c.refuse");
	send1("g-4", DTX_OP_ACTION, "c.flaky"); /* not flaky now: OK */
	atomic_store(&flaky_retries, 1);
	send1("g-5", DTX_OP_ACTION, "c.flaky"); /* RETRY: no record */
	cr_assert_eq(dtx_store_view(store, scan_barrier, &es), DTX_OK);
	cr_assert_eq(es.n, 5);
	cr_assert_str_eq(es.e[0].gid, "g-1");
	cr_assert_eq(es.e[0].op, DTX_OP_COMPENSATE);
	cr_assert(es.e[0].null_comp);
	cr_assert_str_eq(es.e[1].gid, "g-2");
	cr_assert_eq(es.e[1].op, DTX_OP_ACTION);
	cr_assert_eq(es.e[1].branch, 2);
	cr_assert_eq(es.e[1].status, DTX_STATUS_OK);
	cr_assert_eq(es.e[2].op, DTX_OP_COMPENSATE);
	cr_assert_not(es.e[2].null_comp);
	cr_assert_str_eq(es.e[3].gid, "g-3");
	cr_assert_eq(es.e[3].status, DTX_STATUS_FAIL);
	cr_assert_str_eq(es.e[4].gid, "g-4");
}

Test(barrier, a_participant_without_a_store_counts_its_calls)
{
	dtx_participant_opts o;
	dtx_participant_stats st;

	dtx_participant_opts_init(&o);
	o.url = url;
	cr_assert_eq(dtx_participant_create(&o, &part), DTX_OK);
	cr_assert_eq(dtx_participant_register(part, "c.flaky", h_flaky, NULL),
	             DTX_OK);
	cr_assert_eq(dtx_participant_start(part), DTX_OK);
	sock = dial();
	cr_assert_eq(send_call(sock, "g", DTX_OP_ACTION, "c.nope").status,
	             FAIL);
	atomic_store(&flaky_retries, 1);
	cr_assert_eq(send_call(sock, "g", DTX_OP_ACTION, "c.flaky").status,
	             RETRY);
	cr_assert_eq(send_call(sock, "g", DTX_OP_ACTION, "c.flaky").status, OK);
	dtx_participant_get_stats(part, &st);
	cr_assert_eq(st.calls, 3);
	cr_assert_eq(st.applied, 1);
	cr_assert_eq(st.retries, 1);
	cr_assert_eq(st.replayed, 0);
}

/* ---- barrier GC without a coordinator ----------------------------------- */

Test(barrier, gc_removes_nothing_when_the_coordinator_cannot_be_asked)
{
	char nowhere[160];
	dtx_client_opts co;
	dtx_client *c;
	size_t removed = 99;
	entries es = {0};
	int rv;

	start(2);
	sock = dial();
	cr_assert_eq(send1("g-1", DTX_OP_COMPENSATE, "c.sub").status, OK);
	cr_assert_eq(send1("g-2", DTX_OP_ACTION, "c.add").status, OK);
	snprintf(nowhere, sizeof(nowhere), "ipc://%s/nobody.ipc", dir);
	dtx_client_opts_init(&co);
	co.timeout_ms = 300;
	cr_assert_eq(dtx_client_open(nowhere, &co, &c), DTX_OK);
	cr_assert_eq(dtx_store_barrier_gc(NULL, c, 0, 16, &removed),
	             DTX_EINVAL);
	cr_assert_eq(dtx_store_barrier_gc(store, NULL, 0, 16, &removed),
	             DTX_EINVAL);
	cr_assert_eq(dtx_store_barrier_gc(store, c, 0, 0, &removed),
	             DTX_EINVAL);
	for (int i = 0; i < 2; i++) {
		rv = dtx_store_barrier_gc(store, c, 0, 1, &removed);
		cr_assert(rv == DTX_ETIMEDOUT || rv == DTX_EUNREACHABLE, "%s",
		          dtx_strerror(rv));
	}
	cr_assert_eq(removed, 99);
	dtx_client_close(c);
	cr_assert_eq(dtx_store_view(store, scan_barrier, &es), DTX_OK);
	cr_assert_eq(es.n, 2);
	cr_assert(es.e[0].null_comp);
}

Test(barrier, gc_needs_a_store_to_start)
{
	dtx_participant_opts o;

	dtx_participant_opts_init(&o);
	o.url = url;
	cr_assert_eq(dtx_participant_create(&o, &part), DTX_OK);
	cr_assert_eq(
	        dtx_participant_set_barrier_gc(part, "tcp://127.0.0.1:1", 0, 0),
	        DTX_OK);
	cr_assert_eq(dtx_participant_set_barrier_gc(part, NULL, 0, 0),
	             DTX_EINVAL);
	cr_assert_eq(dtx_participant_start(part), DTX_EINVAL);
}

/* ---- deadlines: no hanging reservation after GC ------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* wait_past waits (bounded: at most 10 s) until the wall clock is past t. */
static void wait_past(int64_t t)
{
	for (int i = 0; i < 1000 && now_ms() <= t; i++)
		usleep(10000);
	cr_assert_gt(now_ms(), t, "the clock did not pass %lld", (long long)t);
}

/* finals - the fake coordinator's answers to FinalQuery: every gid it is
 * asked about is final (committed) since final_ms. */
typedef struct finals {
	nng_socket rep;
	pthread_t thread;
	char url[160];
	int64_t final_ms;
} finals;

static void finals_answer(finals *f, const Dtx__V1__ClientRequest *req,
                          nng_msg *m)
{
	Dtx__V1__ClientReply rep = DTX__V1__CLIENT_REPLY__INIT;
	Dtx__V1__FinalGid fg[WIRE_FINAL_QUERY_MAX], *fp[WIRE_FINAL_QUERY_MAX];
	size_t n = req->final_query != NULL ? req->final_query->n_gids : 0;
	uint8_t *buf;
	size_t len;

	cr_assert_leq(n, WIRE_FINAL_QUERY_MAX);
	for (size_t i = 0; i < n; i++) {
		dtx__v1__final_gid__init(&fg[i]);
		fg[i].gid = req->final_query->gids[i];
		fg[i].has_state = fg[i].has_final_unix_ms = 1;
		fg[i].state = DTX__V1__TX_STATE__TX_COMMITTED;
		fg[i].final_unix_ms = f->final_ms;
		fp[i] = &fg[i];
	}
	rep.has_version = rep.has_code = 1;
	rep.version = 1;
	rep.code = DTX__V1__CODE__CODE_OK;
	rep.n_finals = n;
	rep.finals = fp;
	cr_assert_eq(wire_pack_alloc(&rep.base, &buf, &len), DTX_OK);
	nng_msg_clear(m);
	cr_assert_eq(nng_msg_append(m, buf, len), 0);
	free(buf);
}

static void *finals_main(void *arg)
{
	finals *f = arg;
	Dtx__V1__ClientRequest *req;
	nng_msg *m;

	while (nng_recvmsg(f->rep, &m, 0) == 0) {
		req = dtx__v1__client_request__unpack(NULL, nng_msg_len(m),
		                                      nng_msg_body(m));
		cr_assert_not_null(req);
		finals_answer(f, req, m);
		dtx__v1__client_request__free_unpacked(req, NULL);
		if (nng_sendmsg(f->rep, m, 0) != 0)
			nng_msg_free(m);
	}
	return NULL;
}

static void finals_start(finals *f, int64_t final_ms)
{
	snprintf(f->url, sizeof(f->url), "ipc://%s/coord.ipc", dir);
	f->final_ms = final_ms;
	cr_assert_eq(nng_rep0_open(&f->rep), 0);
	cr_assert_eq(nng_listen(f->rep, f->url, NULL, 0), 0);
	cr_assert_eq(pthread_create(&f->thread, NULL, finals_main, f), 0);
}

static void finals_stop(finals *f)
{
	nng_close(f->rep);
	pthread_join(f->thread, NULL);
}

/* gc_now runs one GC pass with grace 0 against the fake coordinator (every
 * gid final) and returns the records it removed. */
static size_t gc_now(finals *f)
{
	dtx_client_opts co;
	dtx_client *c;
	size_t removed = 0;

	dtx_client_opts_init(&co);
	co.timeout_ms = 5000;
	cr_assert_eq(dtx_client_open(f->url, &co, &c), DTX_OK);
	cr_assert_eq(dtx_store_barrier_gc(store, c, 0, 64, &removed), DTX_OK);
	dtx_client_close(c);
	return removed;
}

static int count_records(const char *gid)
{
	entries es = {.gid = gid};

	cr_assert_eq(dtx_store_view(store, scan_barrier, &es), DTX_OK);
	return es.n;
}

/* The hole of issue 16 item 5: a cancel came first (a null cancel), the
 * transaction is final, GC ran with grace 0; then the Try, delayed, is
 * released. GC keeps the null cancel until the deadline (plus tolerance)
 * has passed, and from then on the deadline refuses the Try. */
Test(barrier, a_try_released_after_gc_applies_nothing)
{
	int64_t far = now_ms() + 3600000, soon = now_ms() + 300;
	finals f;
	reply r;

	tolerance_ms = 0;
	start(2);
	sock = dial();
	finals_start(&f, now_ms() - 1000);
	cr_assert_eq(send_dl("d-far", DTX_OP_CANCEL, "c.sub", far).status, OK);
	cr_assert_eq(send_dl("d-soon", DTX_OP_CANCEL, "c.sub", soon).status,
	             OK);
	cr_assert_eq(record_of("d-far", DTX_OP_CANCEL).keep_until, far);
	/* final, grace 0: kept while the deadline has not passed */
	(void)gc_now(&f);
	cr_assert_eq(count_records("d-far"), 1);
	r = send_dl("d-far", DTX_OP_TRY, "c.add", far);
	cr_assert_eq(r.status, FAIL);
	cr_assert_str_eq(r.message, "already cancelled");
	/* past the deadline: GC removes the null cancel, and the Try
	 * released now is refused by its deadline */
	wait_past(soon);
	(void)gc_now(&f);
	cr_assert_eq(count_records("d-soon"), 0);
	cr_assert_eq(count_records("d-far"), 2);
	for (int i = 0; i < 2; i++) {
		r = send_dl("d-soon", DTX_OP_TRY, "c.add", soon);
		cr_assert_eq(r.status, FAIL);
		cr_assert_str_eq(r.message, "deadline passed");
	}
	cr_assert_eq(record_of("d-soon", DTX_OP_TRY).status, DTX_STATUS_FAIL);
	cr_assert_eq(atomic_load(&runs[H_ADD]), 0);
	cr_assert_eq(counter("n"), 0);
	finals_stop(&f);
}

/* The same for a saga: an action released after GC removed its null
 * compensation. */
Test(barrier, an_action_released_after_gc_applies_nothing)
{
	int64_t soon = now_ms() + 200;
	finals f;
	reply r;

	tolerance_ms = 0;
	start(1);
	sock = dial();
	finals_start(&f, now_ms() - 1000);
	cr_assert_eq(send_dl("d-act", DTX_OP_COMPENSATE, "c.sub", soon).status,
	             OK);
	wait_past(soon);
	cr_assert_eq(gc_now(&f), 1);
	r = send_dl("d-act", DTX_OP_ACTION, "c.add", soon);
	cr_assert_eq(r.status, FAIL);
	cr_assert_str_eq(r.message, "deadline passed");
	cr_assert_eq(atomic_load(&runs[H_ADD]), 0);
	cr_assert_eq(counter("n"), 0);
	expect_stats(2, 0, 0, 1, 1, 0);
	finals_stop(&f);
}

/* Within its deadline (or past it by less than the tolerance, 5 s by
 * default) a Try runs as ever; past it, it is refused and recorded, a
 * repeat is answered the same, and its cancel is a null cancel. */
Test(barrier, a_try_within_its_deadline_applies_and_one_past_it_is_refused)
{
	int64_t now = now_ms();
	reply r;

	start(2);
	sock = dial();
	r = send_dl("w-1", DTX_OP_TRY, "c.add", now + 3600000);
	cr_assert_eq(r.status, OK);
	cr_assert_str_eq(r.message, "added");
	r = send_dl("w-2", DTX_OP_TRY, "c.add", now - 1000);
	cr_assert_eq(r.status, OK, "refused within the tolerance");
	cr_assert_eq(record_of("w-2", DTX_OP_TRY).keep_until,
	             now - 1000 + DTX_DEADLINE_TOLERANCE_MS_DEFAULT);
	for (int i = 0; i < 2; i++) {
		r = send_dl("w-3", DTX_OP_TRY, "c.add", now - 10000);
		cr_assert_eq(r.status, FAIL);
		cr_assert_str_eq(r.message, "deadline passed");
	}
	cr_assert_eq(send_dl("w-3", DTX_OP_CANCEL, "c.sub", now - 10000).status,
	             OK);
	cr_assert(record_of("w-3", DTX_OP_CANCEL).null_comp);
	cr_assert_eq(atomic_load(&runs[H_ADD]), 2);
	cr_assert_eq(atomic_load(&runs[H_SUB]), 0);
	cr_assert_eq(counter("n"), 2);
	expect_stats(5, 2, 1, 1, 1, 0);
}

/* A call without a deadline (an older coordinator) is served as before:
 * its record keeps nothing past the grace (GC removes it at once with
 * grace 0), and a Try after that runs - the hole only deadlines close. */
Test(barrier, a_try_without_a_deadline_behaves_as_before)
{
	finals f;

	start(2);
	sock = dial();
	finals_start(&f, now_ms() - 1000);
	cr_assert_eq(send1("n-1", DTX_OP_TRY, "c.add").status, OK);
	cr_assert_eq(record_of("n-1", DTX_OP_TRY).keep_until, 0);
	cr_assert_eq(send1("n-2", DTX_OP_CANCEL, "c.sub").status, OK);
	cr_assert_eq(send1("n-2", DTX_OP_TRY, "c.add").status, FAIL);
	cr_assert_eq(gc_now(&f), 3);
	cr_assert_eq(send1("n-2", DTX_OP_TRY, "c.add").status, OK);
	cr_assert_eq(counter("n"), 2);
	finals_stop(&f);
}

/* A resend that carries a later deadline than the record it is answered
 * from (a saga without a deadline gives each attempt its own) makes the
 * record kept that much longer; an earlier one changes nothing. */
Test(barrier, a_replay_with_a_later_deadline_keeps_the_record_longer)
{
	int64_t d = now_ms() + 600000;
	unsigned tol = DTX_DEADLINE_TOLERANCE_MS_DEFAULT;

	start(1);
	sock = dial();
	cr_assert_eq(send_dl("k-1", DTX_OP_ACTION, "c.add", d).status, OK);
	cr_assert_eq(record_of("k-1", DTX_OP_ACTION).keep_until, d + tol);
	cr_assert_eq(send_dl("k-1", DTX_OP_ACTION, "c.add", d + 7000).status,
	             OK);
	cr_assert_eq(record_of("k-1", DTX_OP_ACTION).keep_until,
	             d + 7000 + tol);
	cr_assert_eq(send_dl("k-1", DTX_OP_ACTION, "c.add", d).status, OK);
	cr_assert_eq(send1("k-1", DTX_OP_ACTION, "c.add").status, OK);
	cr_assert_eq(record_of("k-1", DTX_OP_ACTION).keep_until,
	             d + 7000 + tol);
	cr_assert_eq(atomic_load(&runs[H_ADD]), 1);
	cr_assert_str_eq(
	        send_dl("k-1", DTX_OP_ACTION, "c.add", d + 9000).result,
	        "r:k-1");
	expect_stats(5, 1, 4, 0, 0, 0);
}

#ifdef BARRIER_TEST_PG

/* ---- PostgreSQL only: the handler's own SQL ----------------------------- */

static atomic_int kill_next; /* c.killconn kills its connection this often */
static atomic_int sql_runs;

/* sql_run runs sql with gid as $1 (NULL: no parameter) on conn and tells
 * whether it worked. */
static bool sql_run(PGconn *conn, const char *sql, const char *gid)
{
	const char *v[1] = {gid};
	PGresult *res =
	        PQexecParams(conn, sql, gid ? 1 : 0, NULL, v, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);

	PQclear(res);
	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* h_badsql: writes, then a statement fails (the transaction is aborted),
 * and it answers OK all the same. */
static dtx_status h_badsql(void *arg, dtx_call *call)
{
	atomic_fetch_add(&sql_runs, 1);
	cr_assert_not_null(dtx_call_pg(call));
	cr_assert_eq(bump(dtx_call_txn(call), "n", 1), DTX_OK);
	cr_assert(sql_run(dtx_call_pg(call), "INSERT INTO ledger VALUES ($1)",
	                  dtx_call_gid(call)));
	cr_assert_not(
	        sql_run(dtx_call_pg(call), "SELECT * FROM nowhere", NULL));
	return DTX_STATUS_OK;
}

/* h_killconn: writes, then (while kill_next > 0) its connection is
 * terminated under it; answers OK either way. */
static dtx_status h_killconn(void *arg, dtx_call *call)
{
	PGconn *conn = dtx_call_pg(call);

	atomic_fetch_add(&sql_runs, 1);
	if (bump(dtx_call_txn(call), "n", 1) != DTX_OK)
		return DTX_STATUS_RETRY;
	if (atomic_fetch_sub(&kill_next, 1) > 0)
		(void)sql_run(conn,
		              "SELECT pg_terminate_backend(pg_backend_pid())",
		              NULL);
	return DTX_STATUS_OK;
}

/* h_sqladd, h_sqlrefuse, h_sqlsub: the service's own table "ledger". */
static dtx_status h_sqladd(void *arg, dtx_call *call)
{
	atomic_fetch_add(&sql_runs, 1);
	return sql_run(dtx_call_pg(call), "INSERT INTO ledger VALUES ($1)",
	               dtx_call_gid(call))
	               ? DTX_STATUS_OK
	               : DTX_STATUS_RETRY;
}

static dtx_status h_sqlrefuse(void *arg, dtx_call *call)
{
	atomic_fetch_add(&sql_runs, 1);
	cr_assert(sql_run(dtx_call_pg(call), "INSERT INTO ledger VALUES ($1)",
	                  dtx_call_gid(call)));
	dtx_call_set_message(call, "no funds");
	return DTX_STATUS_FAIL;
}

static dtx_status h_sqlsub(void *arg, dtx_call *call)
{
	atomic_fetch_add(&sql_runs, 1);
	return sql_run(dtx_call_pg(call), "DELETE FROM ledger WHERE gid = $1",
	               dtx_call_gid(call))
	               ? DTX_STATUS_OK
	               : DTX_STATUS_RETRY;
}

/* admin runs sql on this test's database (as role dtx, on a connection of
 * its own) and returns the first column of the first row as a number (0
 * without rows). */
static long db_value(const char *sql)
{
	PGconn *conn = PQconnectdb(pg_uri);
	PGresult *res;
	long v = 0;

	cr_assert_eq(PQstatus(conn), CONNECTION_OK, "%s", PQerrorMessage(conn));
	res = PQexec(conn, sql);
	cr_assert(PQresultStatus(res) == PGRES_TUPLES_OK ||
	                  PQresultStatus(res) == PGRES_COMMAND_OK,
	          "%s: %s", sql, PQresultErrorMessage(res));
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0)
		v = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	PQfinish(conn);
	return v;
}

/* h_take_probe: takes a unit, then asks on a connection of its own for
 * the stock row's lock without waiting (took_probe: it got it). */
static dtx_status h_take_probe(void *arg, dtx_call *call)
{
	PGconn *conn = PQconnectdb(pg_uri);
	bool short_of = false;

	cr_assert_eq(take_one(call, &short_of), DTX_OK);
	cr_assert_eq(PQstatus(conn), CONNECTION_OK, "%s", PQerrorMessage(conn));
	took_probe = sql_run(conn,
	                     "SELECT 1 FROM dtx_kv WHERE tbl = 'counter' AND "
	                     "k = convert_to('" STOCK "', 'UTF8') FOR UPDATE "
	                     "NOWAIT",
	                     NULL);
	PQfinish(conn);
	return DTX_STATUS_OK;
}

static void register_sql_handlers(dtx_participant *p)
{
	static const struct {
		const char *name;
		dtx_handler_fn fn;
	} hs[] = {{"c.take_probe", h_take_probe}, {"c.badsql", h_badsql},
	          {"c.killconn", h_killconn},     {"c.sqladd", h_sqladd},
	          {"c.sqlrefuse", h_sqlrefuse},   {"c.sqlsub", h_sqlsub}};

	for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++)
		cr_assert_eq(
		        dtx_participant_register(p, hs[i].name, hs[i].fn, NULL),
		        DTX_OK);
	(void)db_value("CREATE TABLE IF NOT EXISTS ledger (gid text PRIMARY "
	               "KEY)");
}

Test(barrier, a_groups_stock_row_is_locked_only_for_its_commit)
{
	static const char *const gids[] = {"p-a", "p-b", "p-c"};
	static const char *const hs[] = {"c.take", "c.take", "c.take_probe"};
	reply r[3];
	stock_q q = {.add = 3, .floor = 0};

	start(1);
	sock = dial();
	cr_assert_eq(dtx_store_update(store, add_stock, &q), DTX_OK);
	took_probe = false;
	send_batch(3, gids, hs, DTX_OP_ACTION, r);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(r[i].status, OK, "%s: %s", gids[i], r[i].message);
	cr_assert(took_probe, "two takes of the group held the stock row");
	cr_assert_eq(stock_left(), 0);
}

Test(barrier, writing_a_counter_with_a_change_deferred_is_refused)
{
	static const char *const gids[] = {"w-a", "w-b"};
	static const char *const hs[] = {"c.take", "c.take_put"};
	reply r[2];
	stock_q q = {.add = 5, .floor = 0};

	start(1);
	sock = dial();
	cr_assert_eq(dtx_store_update(store, add_stock, &q), DTX_OK);
	send_batch(2, gids, hs, DTX_OP_ACTION, r);
	cr_assert_eq(r[0].status, OK);
	cr_assert_eq(r[1].status, FAIL);
	cr_assert_str_eq(r[1].message, dtx_strerror(DTX_EINVAL));
	cr_assert_eq(stock_left(), 4, "the refusal's take was dropped");
}

Test(barrier, a_handlers_sql_and_its_barrier_row_commit_together)
{
	start(2);
	sock = dial();
	for (int i = 0; i < 3; i++)
		cr_assert_eq(send1("p-1", DTX_OP_TRY, "c.sqladd").status, OK);
	cr_assert_eq(atomic_load(&sql_runs), 1);
	cr_assert_eq(db_value("SELECT count(*) FROM ledger WHERE gid='p-1'"),
	             1);
	cr_assert_eq(db_value("SELECT count(*) FROM dtx_barrier WHERE "
	                      "gid='p-1'"),
	             1);
	cr_assert_eq(record_of("p-1", DTX_OP_TRY).status, DTX_STATUS_OK);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(send1("p-1", DTX_OP_CANCEL, "c.sqlsub").status,
		             OK);
	cr_assert_eq(atomic_load(&sql_runs), 2);
	cr_assert_eq(db_value("SELECT count(*) FROM ledger"), 0);
}

/* Seata #6374: a failed try rolled its fence row back with it, so its
 * cancel was skipped. Here the FAIL row is written after the rollback. */
Test(barrier, a_failed_try_keeps_its_row_so_its_cancel_is_null)
{
	reply r;

	start(2);
	sock = dial();
	r = send1("p-2", DTX_OP_TRY, "c.sqlrefuse");
	cr_assert_eq(r.status, FAIL);
	cr_assert_str_eq(r.message, "no funds");
	cr_assert_eq(db_value("SELECT count(*) FROM ledger"), 0);
	cr_assert_eq(record_of("p-2", DTX_OP_TRY).status, DTX_STATUS_FAIL);
	cr_assert_eq(send1("p-2", DTX_OP_CANCEL, "c.sqlsub").status, OK);
	cr_assert(record_of("p-2", DTX_OP_CANCEL).null_comp);
	r = send1("p-2", DTX_OP_TRY, "c.sqlrefuse");
	cr_assert_eq(r.status, FAIL);
	cr_assert_str_eq(r.message, "no funds"); /* answered from the row */
	cr_assert_eq(atomic_load(&sql_runs), 1);
}

Test(barrier, a_handler_answering_ok_after_its_sql_failed_keeps_nothing)
{
	entries es = {.gid = "p-3"};
	reply r;

	start(2);
	sock = dial();
	r = send1("p-3", DTX_OP_TRY, "c.badsql");
	cr_assert_eq(r.status, RETRY);
	cr_assert_eq(counter("n"), 0);
	cr_assert_not(has_key("p-3"));
	cr_assert_eq(db_value("SELECT count(*) FROM ledger"), 0);
	cr_assert_eq(dtx_store_view(store, scan_barrier, &es), DTX_OK);
	cr_assert_eq(es.n, 0, "a row was recorded");
	/* nothing half-applied: the cancel finds no try and is null */
	cr_assert_eq(send1("p-3", DTX_OP_CANCEL, "c.sub").status, OK);
	cr_assert(record_of("p-3", DTX_OP_CANCEL).null_comp);
	cr_assert_eq(atomic_load(&runs[H_SUB]), 0);
}

Test(barrier, a_connection_lost_mid_call_answers_retry_and_reconnects)
{
	reply r;

	start(1);
	sock = dial();
	atomic_store(&kill_next, 1);
	r = send1("p-4", DTX_OP_TRY, "c.killconn");
	cr_assert_eq(r.status, RETRY);
	cr_assert_eq(counter("n"), 0);
	/* the next call reconnects and runs afresh, once */
	for (int i = 0; i < 3; i++)
		cr_assert_eq(send1("p-4", DTX_OP_TRY, "c.killconn").status, OK);
	cr_assert_eq(atomic_load(&sql_runs), 2);
	cr_assert_eq(counter("n"), 1);
	cr_assert_eq(record_of("p-4", DTX_OP_TRY).status, DTX_STATUS_OK);
}

Test(barrier, a_schema_altered_by_hand_or_newer_is_refused)
{
	dtx_store *s2 = NULL;

	start(1);
	(void)db_value("UPDATE dtx_meta SET v = '3' WHERE k = 'schema'");
	cr_assert_eq(dtx_store_open_pg(pg_uri, NULL, &s2), DTX_EVERSION);
	(void)db_value("UPDATE dtx_meta SET v = '2' WHERE k = 'schema'");
	cr_assert_eq(dtx_store_open_pg(pg_uri, NULL, &s2), DTX_OK);
	dtx_store_close(s2);
	(void)db_value("ALTER TABLE dtx_barrier ALTER COLUMN status TYPE int4");
	cr_assert_eq(dtx_store_open_pg(pg_uri, NULL, &s2), DTX_ECORRUPT);
	cr_assert_eq(dtx_store_open_pg("postgresql:///nope?host=/nonexistent",
	                               NULL, &s2),
	             DTX_EUNREACHABLE);
}

/* A database whose barrier table an SDK before deadlines made (schema 1,
 * no keep_until) is upgraded by the first writable open; its rows keep
 * nothing past the grace; a read-only open of it is refused. */
Test(barrier, a_schema_1_database_is_upgraded_at_open)
{
	dtx_store_opts ro;
	dtx_store *s2 = NULL;

	start(1);
	sock = dial();
	cr_assert_eq(send1("u-1", DTX_OP_CANCEL, "c.sub").status, OK);
	dtx_participant_destroy(part);
	part = NULL;
	dtx_store_close(store);
	store = NULL;
	(void)db_value("ALTER TABLE dtx_barrier DROP COLUMN keep_until");
	(void)db_value("UPDATE dtx_meta SET v = '1' WHERE k = 'schema'");
	dtx_store_opts_init(&ro);
	ro.read_only = true;
	cr_assert_eq(dtx_store_open_pg(pg_uri, &ro, &s2), DTX_EVERSION);
	cr_assert_eq(dtx_store_open_pg(pg_uri, NULL, &s2), DTX_OK);
	dtx_store_close(s2);
	cr_assert_eq(db_value("SELECT v::int8 FROM dtx_meta "
	                      "WHERE k = 'schema'"),
	             2);
	cr_assert_eq(db_value("SELECT count(*) FROM dtx_barrier "
	                      "WHERE keep_until = 0"),
	             1);
	nng_close(sock);
	start(1);
	sock = dial();
	cr_assert_eq(
	        send_dl("u-1", DTX_OP_TRY, "c.add", now_ms() + 60000).status,
	        FAIL);
	cr_assert(record_of("u-1", DTX_OP_CANCEL).null_comp);
}

/* ---- two processes' worth of participants on one database -------------- */

#define SAME_GID_THREADS 8
#define SAME_GID_ROUNDS  40

typedef struct same_gid {
	const char *url;
	dtx_op op;
	pthread_barrier_t *go;
	int retries; /* answers RETRY: a deadlock or lock timeout */
	int won;     /* try answered OK */
} same_gid;

static void *same_gid_main(void *arg)
{
	same_gid *sg = arg;
	nng_socket s;
	char gid[32];
	bool fwd = sg->op == DTX_OP_TRY;
	reply r;

	cr_assert_eq(nng_req0_open(&s), 0);
	cr_assert_eq(nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 20000), 0);
	cr_assert_eq(nng_dial(s, sg->url, NULL, 0), 0);
	for (int i = 0; i < SAME_GID_ROUNDS; i++) {
		snprintf(gid, sizeof(gid), "same-%03d", i);
		pthread_barrier_wait(sg->go);
		r = send_call(s, gid, sg->op, fwd ? "c.add" : "c.sub");
		sg->retries += r.status == RETRY;
		sg->won += fwd && r.status == OK;
	}
	nng_close(s);
	return NULL;
}

/* Seata #6679: fence rows deadlocked under concurrent calls of one gid.
 * Here tries and cancels of each gid arrive at once from 8 threads
 * through two participants (each with its own store, as two replicas of
 * a service) on one database: every call is answered, none RETRY, and
 * each gid happened in exactly one order. */
Test(barrier, concurrent_calls_of_one_gid_on_two_participants_never_deadlock,
     .timeout = 120)
{
	static const char *const tables[] = {"counter"};
	char url2[160];
	dtx_participant_opts o;
	dtx_store_opts so;
	dtx_participant *p2;
	dtx_store *s2;
	pthread_barrier_t go;
	pthread_t th[SAME_GID_THREADS];
	same_gid sg[SAME_GID_THREADS];
	int won = 0;

	start(4);
	dtx_store_opts_init(&so);
	so.tables = tables;
	so.ntables = 1;
	cr_assert_eq(dtx_store_open_pg(pg_uri, &so, &s2), DTX_OK);
	snprintf(url2, sizeof(url2), "ipc://%s/p2.ipc", dir);
	dtx_participant_opts_init(&o);
	o.url = url2;
	o.workers = 4;
	cr_assert_eq(dtx_participant_create(&o, &p2), DTX_OK);
	cr_assert_eq(dtx_participant_register(p2, "c.add", h_add, NULL), 0);
	cr_assert_eq(dtx_participant_register(p2, "c.sub", h_sub, NULL), 0);
	cr_assert_eq(dtx_participant_set_store(p2, s2), DTX_OK);
	cr_assert_eq(dtx_participant_start(p2), DTX_OK);
	pthread_barrier_init(&go, NULL, SAME_GID_THREADS);
	for (int i = 0; i < SAME_GID_THREADS; i++) {
		sg[i] = (same_gid){.url = i % 2 ? url2 : url,
		                   .op = i % 4 < 2 ? DTX_OP_TRY : DTX_OP_CANCEL,
		                   .go = &go};
		pthread_create(&th[i], NULL, same_gid_main, &sg[i]);
	}
	for (int i = 0; i < SAME_GID_THREADS; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(sg[i].retries, 0, "thread %d: RETRY answers", i);
		won += sg[i].won;
	}
	pthread_barrier_destroy(&go);
	dtx_participant_destroy(p2);
	dtx_store_close(s2);
	/* half the threads send tries: a winning gid answers them all OK */
	won /= SAME_GID_THREADS / 2;
	cr_assert_eq(atomic_load(&runs[H_ADD]), won);
	cr_assert_eq(atomic_load(&runs[H_SUB]), won);
	cr_assert_eq(counter("n"), 0);
	cr_assert_eq(db_value("SELECT count(*) FROM dtx_barrier WHERE op = 5 "
	                      "AND flags = 1"),
	             SAME_GID_ROUNDS - won);
}

/* ---- kill -9 after COMMIT, before the reply ---------------------------- */

/* serve_and_die runs in a child: a participant on this test's database
 * that dies (SIGKILL) right after its first group commit. */
#define CHILD_URL_ENV "BARRIER_PG_CHILD_URL"
#define CHILD_DB_ENV  "BARRIER_PG_CHILD_DB"

/* serve_and_die is the main of the child (this binary run again with
 * CHILD_URL_ENV set: nng may not be used across a fork). */
static int serve_and_die(const char *child_url, const char *uri)
{
	static const char *const tables[] = {"counter"};
	dtx_participant_opts o;
	dtx_store_opts so;
	dtx_participant *p;
	dtx_store *s;

	dtx_store_opts_init(&so);
	so.tables = tables;
	so.ntables = 1;
	if (dtx_store_open_pg(uri, &so, &s) != DTX_OK)
		return 2;
	dtx_participant_opts_init(&o);
	o.url = child_url;
	if (dtx_participant_create(&o, &p) != DTX_OK ||
	    dtx_participant_register(p, "c.add", h_add, NULL) != DTX_OK ||
	    dtx_participant_set_store(p, s) != DTX_OK ||
	    dtx_participant_start(p) != DTX_OK)
		return 3;
	for (;;)
		pause();
}

Test(barrier, a_kill_after_commit_before_reply_is_answered_from_the_row,
     .timeout = 60)
{
	char child_url[160];
	int status = 0;
	pid_t pid, done = 0;
	nng_socket s;
	reply r;

	snprintf(child_url, sizeof(child_url), "ipc://%s/child.ipc", dir);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* a clean environment: Criterion's own variables would make
		 * the new process a test worker */
		char e1[256], e2[PGTMP_URI_MAX + 32];
		char *env[] = {
		        (char *)"DTX_FAULT=sdk.after_commit_before_reply", e1,
		        e2, NULL};

		snprintf(e1, sizeof(e1), "%s=%s", CHILD_URL_ENV, child_url);
		snprintf(e2, sizeof(e2), "%s=%s", CHILD_DB_ENV, pg_uri);
		execle("/proc/self/exe", "barrier_pg_child", (char *)NULL, env);
		_exit(127);
	}
	cr_assert_eq(nng_req0_open(&s), 0);
	cr_assert_eq(nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 20000), 0);
	cr_assert_eq(nng_dial(s, child_url, NULL, NNG_FLAG_NONBLOCK), 0);
	{
		Dtx__V1__BranchCall c = DTX__V1__BRANCH_CALL__INIT;
		uint8_t *buf;
		size_t len;

		c.has_version = c.has_branch = c.has_op = c.has_attempt = 1;
		c.version = c.attempt = 1;
		c.gid = (char *)"k-1";
		c.branch = 2;
		c.op = (Dtx__V1__Op)DTX_OP_TRY;
		c.handler = (char *)"c.add";
		cr_assert_eq(wire_pack_alloc(&c.base, &buf, &len), DTX_OK);
		cr_assert_eq(nng_send(s, buf, len, 0), 0);
		free(buf);
	}
	for (int i = 0; i < 3000 && done == 0; i++) {
		struct timespec ts = {0, 10 * 1000000L};

		done = waitpid(pid, &status, WNOHANG);
		if (done == 0)
			nanosleep(&ts, NULL);
	}
	nng_close(s);
	cr_assert_eq(done, pid, "the child did not die at the fault point");
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	          "the child ended with status %#x", (unsigned)status);
	/* committed before it died: the row and the effect are there */
	cr_assert_eq(db_value("SELECT count(*) FROM dtx_barrier WHERE "
	                      "gid = 'k-1' AND op = 3"),
	             1);
	/* the coordinator's resend reaches a new process: answered from the
	 * row, not applied again */
	start(2);
	sock = dial();
	r = send1("k-1", DTX_OP_TRY, "c.add");
	cr_assert_eq(r.status, OK);
	cr_assert_str_eq(r.result, "r:k-1");
	cr_assert_eq(atomic_load(&runs[H_ADD]), 0);
	cr_assert_eq(counter("n"), 1);
	expect_stats(1, 0, 1, 0, 0, 0);
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
	if (getenv(CHILD_URL_ENV) != NULL)
		return serve_and_die(getenv(CHILD_URL_ENV),
		                     getenv(CHILD_DB_ENV));
	return pgtmp_shared_main(argc, argv, run_tests);
}

#endif
