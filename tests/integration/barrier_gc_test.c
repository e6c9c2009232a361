/*
 * barrier_gc_test.c - barrier records are removed only once the coordinator
 * says their transaction is final and a grace period has passed.
 *
 * Each test runs a real dtxd and, in the test process, a real SDK
 * participant with its store on disk; the sagas it submits call that
 * participant's handlers, so a transaction becomes final in milliseconds.
 * A raw BranchCall (nng + the codec) plants a null compensation for a gid
 * the coordinator does not know yet, or plays a delayed Try.
 *
 * Every call dtxd sends carries a deadline (BranchCall.deadline_unix_ms)
 * and GC keeps a gid's records until their deadline has passed: the
 * participants here allow no clock tolerance and the sagas' steps time out
 * after STEP_TIMEOUT_MS, so what keeps records is the grace under test
 * (wait_keep first where a test wants them gone at grace 0).
 *
 * Built with BARRIER_GC_TEST_PG (barrier_gc_test_pg, suite postgres, under
 * pgtmp.sh), the same tests run with the participant's store on
 * PostgreSQL (dtx_store_open_pg, a fresh database per test) and dtxd's
 * log on PostgreSQL too: its tombstones for pruned transactions answer
 * the participant's GC.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "harness.h"
#include "wire.h"

#ifdef BARRIER_GC_TEST_PG
#include <unistd.h>

#include "dtx/dtx_pg.h"
#include "pgtmp.h"
#endif

#define GRACE_MS 2500 /* long enough to look before it passes */
#ifdef BARRIER_GC_TEST_PG
/* a call served on PostgreSQL takes a round trip or two more: on a
 * loaded machine 300 ms was seen to pass before a RETRY's resend came */
#define STEP_TIMEOUT_MS 2000
#else
#define STEP_TIMEOUT_MS 300 /* a saga step's calls: their own deadline */
#endif

TestSuite(barrier_gc, .fini = th_teardown, .timeout = 120);

/* ---- the participant under test ---------------------------------------- */

static atomic_bool hold;              /* gc.hold answers RETRY while set */
static atomic_int gc_warnings;        /* log lines about a failed GC sweep */
static atomic_int hold_runs;          /* gc.hold ran */
static _Atomic int64_t hold_deadline; /* the deadline its last call had */

static dtx_status h_ok(void *arg, dtx_call *call)
{
	(void)arg;
	(void)call;
	return DTX_STATUS_OK;
}

static dtx_status h_hold(void *arg, dtx_call *call)
{
	(void)arg;
	atomic_fetch_add(&hold_runs, 1);
	atomic_store(&hold_deadline, dtx_call_deadline_unix_ms(call));
	return atomic_load(&hold) ? DTX_STATUS_RETRY : DTX_STATUS_OK;
}

static void on_log(void *arg, dtx_log_level level, const char *msg)
{
	(void)arg;
	if (level <= DTX_LOG_WARN && strstr(msg, "barrier gc") != NULL)
		atomic_fetch_add(&gc_warnings, 1);
}

typedef struct party {
	char url[TH_URL_MAX];
	dtx_store *store;
	dtx_participant *part;
} party;

#ifdef BARRIER_GC_TEST_PG
/* store_open opens the party's store on a database of its own on the
 * cluster pgtmp.sh started. */
static void store_open(th_env *t, party *p)
{
	static int n;
	const char *admin = getenv(PGTMP_ENV_ADMIN);
	char name[64], uri[PGTMP_URI_MAX], err[512];

	(void)t;
	cr_assert_not_null(admin, "run under pgtmp.sh (suite postgres)");
	snprintf(name, sizeof(name), "gc_%ld_%d", (long)getpid(), n++);
	cr_assert_eq(pgtmp_create_db(admin, name, uri, sizeof(uri), err,
	                             sizeof(err)),
	             0, "%s", err);
	cr_assert_eq(dtx_store_open_pg(uri, NULL, &p->store), DTX_OK);
}
#else
/* store_open opens the party's store in the test directory. */
static void store_open(th_env *t, party *p)
{
	char dir[PATH_MAX];

	th_path(t, "p.data", dir, sizeof(dir));
	cr_assert_eq(dtx_store_open(dir, NULL, &p->store), DTX_OK);
}
#endif

/* party_start opens a store in the test directory and serves gc.do,
 * gc.undo and gc.hold on a fresh address; gc_url (may be NULL) turns on
 * the participant's GC thread. */
static void party_start(th_env *t, party *p, const char *gc_url,
                        unsigned grace_ms, unsigned interval_ms)
{
	dtx_participant_opts o;

	th_url(t, "p", p->url, sizeof(p->url));
	store_open(t, p);
	dtx_participant_opts_init(&o);
	o.url = p->url;
	cr_assert_eq(dtx_participant_create(&o, &p->part), DTX_OK);
	cr_assert_eq(dtx_participant_register(p->part, "gc.do", h_ok, NULL),
	             DTX_OK);
	cr_assert_eq(dtx_participant_register(p->part, "gc.undo", h_ok, NULL),
	             DTX_OK);
	cr_assert_eq(dtx_participant_register(p->part, "gc.hold", h_hold, NULL),
	             DTX_OK);
	cr_assert_eq(dtx_participant_set_store(p->part, p->store), DTX_OK);
	cr_assert_eq(dtx_participant_set_deadline_tolerance(p->part, 0),
	             DTX_OK);
	if (gc_url != NULL)
		cr_assert_eq(dtx_participant_set_barrier_gc(
		                     p->part, gc_url, grace_ms, interval_ms),
		             DTX_OK);
	cr_assert_eq(dtx_participant_start(p->part), DTX_OK);
}

static void party_stop(party *p)
{
	dtx_participant_destroy(p->part);
	dtx_store_close(p->store);
}

/* ---- reading the barrier back ------------------------------------------ */

typedef struct census {
	const char *gid; /* count only this gid; NULL: all */
	int n;
	int nulls;
	int64_t keep_until; /* the largest */
} census;

static int census_one(void *arg, const dtx_barrier_entry *e)
{
	census *c = arg;

	if (c->gid != NULL && strcmp(c->gid, e->gid) != 0)
		return DTX_OK;
	c->n++;
	c->nulls += e->null_compensation;
	if (e->keep_until_unix_ms > c->keep_until)
		c->keep_until = e->keep_until_unix_ms;
	return DTX_OK;
}

static int census_fn(void *arg, dtx_txn *txn)
{
	return dtx_txn_barrier_scan(txn, census_one, arg);
}

/* records counts gid's barrier records (all records for NULL). */
static census records(party *p, const char *gid)
{
	census c = {gid, 0, 0, 0};

	cr_assert_eq(dtx_store_view(p->store, census_fn, &c), DTX_OK);
	return c;
}

/* ---- driving it -------------------------------------------------------- */

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	if (ms > 0)
		nanosleep(&ts, NULL);
}

/* run_saga runs gid: one step per "ACTION/COMPENSATE" of actions, all
 * served by p; waits wait_ms for the outcome. */
static void run_saga(dtx_client *c, party *p, const char *gid,
                     const char *const *steps, size_t nsteps, unsigned wait_ms,
                     dtx_tx_info *ret_info)
{
	dtx_saga *saga;
	char buf[64], *slash;

	cr_assert_eq(dtx_saga_create(gid, &saga), DTX_OK);
	for (size_t i = 0; i < nsteps; i++) {
		snprintf(buf, sizeof(buf), "%s", steps[i]);
		slash = strchr(buf, '/');
		*slash = '\0';
		cr_assert_eq(dtx_saga_add_step(saga, p->url, buf, slash + 1,
		                               NULL, 0, STEP_TIMEOUT_MS),
		             DTX_OK);
	}
	cr_assert_eq(dtx_client_submit(c, saga, wait_ms, ret_info), DTX_OK);
	dtx_saga_destroy(saga);
}

/* final_ms asks the coordinator when gid became final (0: it is not). */
static int64_t final_ms(dtx_client *c, const char *gid)
{
	const char *gids[1] = {gid};
	int64_t at = -1;

	cr_assert_eq(dtx_client_final_gids(c, gids, 1, &at), DTX_OK);
	return at;
}

/* wait_keep waits (bounded) until the wall clock is past every record's
 * keep_until: the deadlines of their calls. */
static void wait_keep(party *p)
{
	int64_t until = records(p, NULL).keep_until;

	for (int i = 0; i < 500 && wall_ms() <= until; i++)
		sleep_ms(10);
	cr_assert_gt(wall_ms(), until, "records kept until %lld",
	             (long long)until);
}

/* gc runs one pass with grace_ms and returns the records it removed. */
static size_t gc(party *p, dtx_client *c, unsigned grace_ms)
{
	size_t removed = 99;
	int rv = dtx_store_barrier_gc(p->store, c, grace_ms, 256, &removed);

	cr_assert_eq(rv, DTX_OK, "gc: %s", dtx_strerror(rv));
	return removed;
}

/* call_raw sends p a call of (gid, branch 0) as the coordinator or an
 * initiator would, with deadline_unix_ms when deadline is not 0, and
 * returns its status; its message goes to text (64 bytes). */
static int call_raw(party *p, const char *gid, dtx_op op, const char *handler,
                    int64_t deadline, char *text)
{
	Dtx__V1__BranchCall bc = DTX__V1__BRANCH_CALL__INIT;
	Dtx__V1__BranchReply *r;
	nng_socket s;
	uint8_t *buf;
	size_t len;
	nng_msg *m;
	int status;

	bc.has_version = bc.has_branch = bc.has_op = bc.has_attempt = 1;
	bc.version = 1;
	bc.attempt = 1;
	bc.gid = (char *)gid;
	bc.branch = 0;
	bc.op = (Dtx__V1__Op)op;
	bc.handler = (char *)handler;
	bc.has_deadline_unix_ms = deadline != 0;
	bc.deadline_unix_ms = deadline;
	cr_assert_eq(nng_req0_open(&s), 0);
	cr_assert_eq(nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000), 0);
	cr_assert_eq(nng_dial(s, p->url, NULL, 0), 0);
	cr_assert_eq(wire_pack_alloc(&bc.base, &buf, &len), DTX_OK);
	cr_assert_eq(nng_send(s, buf, len, 0), 0);
	free(buf);
	cr_assert_eq(nng_recvmsg(s, &m, 0), 0);
	cr_assert_eq(wire_branch_reply_decode(nng_msg_body(m), nng_msg_len(m),
	                                      &r, NULL, 0),
	             DTX_OK);
	status = (int)r->status;
	snprintf(text, 64, "%s", r->message != NULL ? r->message : "");
	wire_branch_reply_free(r);
	nng_msg_free(m);
	nng_close(s);
	return status;
}

/* compensate_raw plants a null compensation of gid (no deadline: the
 * coordinator does not know gid) and asserts it answered OK. */
static void compensate_raw(party *p, const char *gid)
{
	char text[64];

	cr_assert_eq(call_raw(p, gid, DTX_OP_COMPENSATE, "gc.undo", 0, text),
	             DTX__V1__BRANCH_STATUS__BRANCH_OK);
}

static dtx_client *client_with_timeout(const char *url, unsigned ms)
{
	dtx_client_opts o;
	dtx_client *c;

	dtx_client_opts_init(&o);
	o.timeout_ms = ms;
	cr_assert_eq(dtx_client_open(url, &o, &c), DTX_OK);
	return c;
}

static const char *const do_undo[] = {"gc.do/gc.undo"};

/* ---- tests ------------------------------------------------------------- */

Test(barrier_gc, removes_a_final_transaction_only_after_the_grace_period)
{
	th_env *t = th_begin();
	dtx_tx_info info;
	dtx_client *c;
	party p;
	int64_t at;

	th_dtxd_start(t, NULL);
	party_start(t, &p, NULL, 0, 0);
	c = th_client(t);
	run_saga(c, &p, "gc-a", do_undo, 1, 10000, &info);
	cr_assert_eq(info.state, DTX_TX_COMMITTED);
	run_saga(c, &p, "gc-b", do_undo, 1, 10000, &info);
	cr_assert_eq(records(&p, "gc-a").n, 1);
	at = final_ms(c, "gc-a");
	cr_assert_gt(at, 0);

	cr_assert_eq(gc(&p, c, GRACE_MS), 0);
	cr_assert_lt(wall_ms() - at, GRACE_MS, "too slow to test the grace");
	cr_assert_eq(records(&p, NULL).n, 2);

	/* just before the grace ends: still kept */
	sleep_ms(at + GRACE_MS - 300 - wall_ms());
	cr_assert_eq(gc(&p, c, GRACE_MS), 0);
	cr_assert_lt(wall_ms() - at, GRACE_MS, "too slow to test the grace");
	cr_assert_eq(records(&p, NULL).n, 2);

	at = final_ms(c, "gc-b"); /* the later one */
	sleep_ms(at + GRACE_MS + 50 - wall_ms());
	cr_assert_eq(gc(&p, c, GRACE_MS), 2); /* gc-a and gc-b */
	cr_assert_eq(records(&p, NULL).n, 0);
	cr_assert_eq(gc(&p, c, GRACE_MS), 0);
	party_stop(&p);
	th_end(t);
}

Test(barrier_gc, keeps_a_null_compensation_while_unknown_then_for_the_grace)
{
	th_env *t = th_begin();
	dtx_tx_info info;
	dtx_client *c;
	party p;
	int64_t at;

	th_dtxd_start(t, NULL);
	party_start(t, &p, NULL, 0, 0);
	c = th_client(t);
	/* a compensate before its action: a null marker, gid unknown */
	compensate_raw(&p, "gc-null");
	cr_assert_eq(records(&p, "gc-null").nulls, 1);
	cr_assert_eq(final_ms(c, "gc-null"), 0);
	cr_assert_eq(gc(&p, c, 0), 0, "removed the records of an unknown gid");
	cr_assert_eq(records(&p, "gc-null").nulls, 1);

	/* now the saga: its action comes late, is refused, it compensates */
	run_saga(c, &p, "gc-null", do_undo, 1, 10000, &info);
	cr_assert_eq(info.state, DTX_TX_COMPENSATED);
	cr_assert_eq(records(&p, "gc-null").n, 2); /* null + late action */
	at = final_ms(c, "gc-null");
	cr_assert_gt(at, 0);
	cr_assert_eq(gc(&p, c, GRACE_MS), 0);
	cr_assert_lt(wall_ms() - at, GRACE_MS, "too slow to test the grace");
	cr_assert_eq(records(&p, "gc-null").nulls, 1);

	sleep_ms(at + GRACE_MS + 50 - wall_ms());
	cr_assert_eq(gc(&p, c, GRACE_MS), 2);
	cr_assert_eq(records(&p, NULL).n, 0);
	party_stop(&p);
	th_end(t);
}

/* gc_max runs one pass over at most max gids with no grace. */
static size_t gc_max(party *p, dtx_client *c, size_t max)
{
	size_t removed = 99;
	int rv = dtx_store_barrier_gc(p->store, c, 0, max, &removed);

	cr_assert_eq(rv, DTX_OK, "gc: %s", dtx_strerror(rv));
	return removed;
}

Test(barrier_gc, each_pass_resumes_where_the_last_stopped_and_wraps)
{
	th_env *t = th_begin();
	dtx_tx_info info;
	dtx_client *c;
	char gid[16];
	party p;

	th_dtxd_start(t, NULL);
	party_start(t, &p, NULL, 0, 0);
	c = th_client(t);
	compensate_raw(&p, "gc-0"); /* first in gid order, unknown: kept */
	for (int i = 1; i <= 5; i++) {
		snprintf(gid, sizeof(gid), "gc-%d", i);
		run_saga(c, &p, gid, do_undo, 1, 10000, &info);
		cr_assert_eq(info.state, DTX_TX_COMMITTED);
	}
	wait_keep(&p);
	cr_assert_eq(gc_max(&p, c, 2), 1); /* gc-0 kept, gc-1 */
	cr_assert_eq(gc_max(&p, c, 2), 2); /* gc-2, gc-3 */
	cr_assert_eq(records(&p, "gc-4").n, 1);
	cr_assert_eq(gc_max(&p, c, 2), 2); /* gc-4, gc-5: the end, wraps */
	cr_assert_eq(records(&p, NULL).n, 1);
	cr_assert_eq(gc_max(&p, c, 2), 0); /* gc-0 again, kept */
	cr_assert_eq(records(&p, "gc-0").nulls, 1);
	cr_assert_eq(gc_max(&p, c, 2), 0);
	party_stop(&p);
	th_end(t);
}

Test(barrier_gc, never_removes_the_records_of_a_running_transaction)
{
	static const char *const steps[] = {"gc.do/gc.undo", "gc.hold/gc.undo"};
	th_env *t = th_begin();
	dtx_tx_info info;
	dtx_client *c;
	party p;

	atomic_store(&hold, true);
	th_dtxd_start(t, "--action-max-attempts", "1000000", NULL);
	party_start(t, &p, NULL, 0, 0);
	c = th_client(t);
	run_saga(c, &p, "gc-run", steps, 2, 0, &info);
	th_wait_step_state(t, c, "gc-run", 0, DTX_STEP_DONE, 10000);
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(gc(&p, c, 0), 0, "removed a running gid's record");
		cr_assert_eq(records(&p, "gc-run").n, 1);
		sleep_ms(20);
	}
	atomic_store(&hold, false);
	cr_assert_eq(dtx_client_query(c, "gc-run", 10000, &info), DTX_OK);
	cr_assert_eq(info.state, DTX_TX_COMMITTED);
	wait_keep(&p);
	cr_assert_eq(gc(&p, c, 0), 2);
	party_stop(&p);
	th_end(t);
}

Test(barrier_gc, an_unreachable_coordinator_removes_nothing)
{
	th_env *t = th_begin();
	dtx_tx_info info;
	dtx_client *c, *slow;
	size_t removed = 99;
	party p;
	int rv;

	th_dtxd_start(t, NULL);
	party_start(t, &p, NULL, 0, 0);
	c = th_client(t);
	run_saga(c, &p, "gc-down", do_undo, 1, 10000, &info);
	cr_assert_eq(info.state, DTX_TX_COMMITTED);

	th_proc_kill(t->dtxd, SIGTERM);
	cr_assert(th_proc_wait(t->dtxd, 5000));
	slow = client_with_timeout(t->dtxd_url, 500);
	rv = dtx_store_barrier_gc(p.store, slow, 0, 256, &removed);
	cr_assert(rv == DTX_EUNREACHABLE || rv == DTX_ETIMEDOUT, "gc: %s",
	          dtx_strerror(rv));
	cr_assert_eq(removed, 99, "ret_removed written on failure");
	cr_assert_eq(records(&p, "gc-down").n, 1);

	th_dtxd_restart(t);
	wait_keep(&p);
	/* c waits for its reconnection; slow might give up first */
	cr_assert_eq(gc(&p, c, 0), 1);
	cr_assert_eq(records(&p, NULL).n, 0);
	dtx_client_close(slow);
	party_stop(&p);
	th_end(t);
}

/* The GC thread: the records stay while the grace runs (checked at every
 * poll), then go, and the stats count them. */
Test(barrier_gc, the_participant_thread_removes_records_after_the_grace)
{
	th_env *t = th_begin();
	dtx_participant_stats st;
	dtx_tx_info info;
	dtx_client *c;
	party p;
	int64_t at, now;
	int n = 1;

	th_dtxd_start(t, NULL);
	party_start(t, &p, t->dtxd_url, GRACE_MS, 50);
	c = th_client(t);
	run_saga(c, &p, "gc-bg", do_undo, 1, 10000, &info);
	cr_assert_eq(info.state, DTX_TX_COMMITTED);
	at = final_ms(c, "gc-bg");
	for (now = wall_ms(); n > 0 && now < at + GRACE_MS + 10000;
	     now = wall_ms()) {
		n = records(&p, "gc-bg").n;
		/* 10 ms: the sweep may read the clock just after our look */
		if (now + 10 < at + GRACE_MS)
			cr_assert_eq(n, 1, "removed %lld ms after final",
			             (long long)(now - at));
		sleep_ms(20);
	}
	cr_assert_eq(n, 0, "not removed %lld ms after final",
	             (long long)(now - at));
	dtx_participant_get_stats(p.part, &st);
	cr_assert_eq(st.barrier_gc_removed, 1);
	cr_assert_eq(st.barrier_gc_failures, 0);
	party_stop(&p);
	th_end(t);
}

Test(barrier_gc, the_participant_thread_logs_and_keeps_when_unreachable)
{
	th_env *t = th_begin();
	dtx_participant_stats st = {0};
	char nowhere[TH_URL_MAX];
	party p;

	dtx_set_log_cb(on_log, NULL);
	th_url(t, "nowhere", nowhere, sizeof(nowhere));
	party_start(t, &p, nowhere, 1, 50);
	compensate_raw(&p, "gc-orphan");
	for (int i = 0; i < 600 && st.barrier_gc_failures < 2; i++) {
		sleep_ms(20);
		dtx_participant_get_stats(p.part, &st);
	}
	cr_assert_geq(st.barrier_gc_failures, 2);
	cr_assert_eq(st.barrier_gc_removed, 0);
	cr_assert_geq(atomic_load(&gc_warnings), 2);
	cr_assert_eq(records(&p, "gc-orphan").nulls, 1);
	party_stop(&p);
	th_end(t);
}

/* Issue 16 item 5 end to end: an initiator-driven TCC whose Try did not
 * take (RETRY), never finished; dtxd cancels it at its deadline (a null
 * cancel at the participant), the transaction is final, GC runs with grace
 * 0. The initiator's Try, delayed, is then released: it carries the
 * deadline BeginTcc answered with, which has passed, so it applies
 * nothing although its null cancel is gone. */
Test(barrier_gc, a_try_released_after_gc_past_the_tcc_deadline_applies_nothing)
{
	th_env *t = th_begin();
	dtx_try_result tr;
	dtx_tx_info info;
	dtx_tcc_tx *tx;
	dtx_client *c;
	char text[64];
	party p;
	int64_t d;

	atomic_store(&hold, true);
	th_dtxd_start(t, NULL);
	party_start(t, &p, NULL, 0, 0);
	c = th_client(t);
	cr_assert_eq(dtx_tcc_begin(c, "gc-tcc", 800, &tx), DTX_OK);
	cr_assert_eq(dtx_tcc_try(tx, p.url, "gc.hold", "gc.do", "gc.undo", NULL,
	                         0, 2000, &tr),
	             DTX_OK);
	cr_assert_eq(tr.status, DTX_STATUS_RETRY);
	cr_assert_eq(dtx_client_query(c, "gc-tcc", 10000, &info), DTX_OK);
	cr_assert_eq(info.state, DTX_TX_CANCELLED);
	d = info.deadline_unix_ms;
	cr_assert_gt(d, 0);
	/* the initiator's Try and dtxd's Cancel both carried it */
	cr_assert_eq(atomic_load(&hold_deadline), d);
	cr_assert_eq(records(&p, "gc-tcc").nulls, 1);
	cr_assert_eq(records(&p, "gc-tcc").keep_until, d);

	wait_keep(&p);
	cr_assert_eq(gc(&p, c, 0), 1);
	cr_assert_eq(records(&p, "gc-tcc").n, 0);
	atomic_store(&hold, false);
	atomic_store(&hold_runs, 0);
	cr_assert_eq(call_raw(&p, "gc-tcc", DTX_OP_TRY, "gc.hold", d, text),
	             DTX__V1__BRANCH_STATUS__BRANCH_FAIL);
	cr_assert_str_eq(text, "deadline passed");
	cr_assert_eq(atomic_load(&hold_runs), 0, "the late Try ran");
	dtx_tcc_tx_destroy(tx);
	party_stop(&p);
	th_end(t);
}

/* The same with the coordinator's retention: the cancelled transaction is
 * pruned (--retain-final 1s: only its tombstone is left, a query shows no
 * branches), its tombstone still tells the participant's GC that it is
 * final, GC removes its null cancel, and the Try released after that
 * applies nothing. */
Test(barrier_gc, a_pruned_transactions_late_try_after_gc_applies_nothing)
{
	th_env *t = th_begin();
	dtx_try_result tr;
	dtx_tx_info info;
	dtx_tcc_tx *tx;
	dtx_client *c;
	char text[64];
	party p;
	int64_t d;

	atomic_store(&hold, true);
	th_dtxd_start(t, "--retain-final", "1s", "--retain-tombstones", "1h",
	              NULL);
	party_start(t, &p, NULL, 0, 0);
	c = th_client(t);
	cr_assert_eq(dtx_tcc_begin(c, "gc-pruned", 800, &tx), DTX_OK);
	cr_assert_eq(dtx_tcc_try(tx, p.url, "gc.hold", "gc.do", "gc.undo", NULL,
	                         0, 2000, &tr),
	             DTX_OK);
	cr_assert_eq(tr.status, DTX_STATUS_RETRY);
	cr_assert_eq(dtx_client_query(c, "gc-pruned", 10000, &info), DTX_OK);
	cr_assert_eq(info.state, DTX_TX_CANCELLED);
	d = info.deadline_unix_ms;
	cr_assert_eq(records(&p, "gc-pruned").nulls, 1);
	for (int i = 0; i < 300 && info.nsteps > 0; i++) {
		sleep_ms(100);
		cr_assert_eq(dtx_client_query(c, "gc-pruned", 0, &info),
		             DTX_OK);
	}
	cr_assert_eq(info.nsteps, 0, "gc-pruned was never pruned");
	cr_assert_eq(info.state, DTX_TX_CANCELLED, "the tombstone's outcome");
	cr_assert_gt(final_ms(c, "gc-pruned"), 0);

	wait_keep(&p);
	cr_assert_eq(gc(&p, c, 0), 1);
	cr_assert_eq(records(&p, "gc-pruned").n, 0);
	atomic_store(&hold, false);
	atomic_store(&hold_runs, 0);
	cr_assert_eq(call_raw(&p, "gc-pruned", DTX_OP_TRY, "gc.hold", d, text),
	             DTX__V1__BRANCH_STATUS__BRANCH_FAIL);
	cr_assert_str_eq(text, "deadline passed");
	cr_assert_eq(atomic_load(&hold_runs), 0, "the late Try ran");
	cr_assert_eq(records(&p, "gc-pruned").n, 1, "only its refusal");
	dtx_tcc_tx_destroy(tx);
	party_stop(&p);
	th_end(t);
}
