/*
 * retention_test.c - a log that stops growing (issue 14, DESIGN.md rule
 * 9): final transactions are pruned after --retain-final, leaving a
 * tombstone that still answers every reader with the outcome; tombstones
 * expire after --retain-tombstones; a log near its map maximum refuses
 * new transactions and finishes the running ones.
 *
 * Real dtxd, real participants, real LMDB. Waits are bounded polls (a
 * prune has no event to wait on); nothing asserts on elapsed time. Raw
 * queries (an nng REQ socket and the codec) read the reply's message and
 * pruned_unix_ms, which the SDK's dtx_tx_info does not carry.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <criterion/criterion.h>
#include <jansson.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "harness.h"
#include "wire.h"

#define POLL_MS 100
#define PRUNE_WAIT                                                             \
	30000 /* ms: a prune is due within ~1.1 s of --retain-final 1s */
#define OUT_MAX  65536
#define FILL_MAX 20000 /* submits tried to fill a 6 MiB log */

TestSuite(retention, .fini = th_teardown, .timeout = 120);

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* ---- raw queries -------------------------------------------------------- */

typedef struct answer {
	int code;
	char message[512];
	int state;
	size_t nsteps;
	int64_t pruned_unix_ms; /* 0: not pruned */
} answer;

/* raw_query asks dtxd at url about gid on a fresh REQ socket. */
static answer raw_query(const char *url, const char *gid)
{
	Dtx__V1__ClientRequest req = DTX__V1__CLIENT_REQUEST__INIT;
	Dtx__V1__Query q = DTX__V1__QUERY__INIT;
	Dtx__V1__ClientReply *rep;
	answer a = {0};
	nng_socket s;
	uint8_t *buf;
	void *rbuf;
	size_t len, rlen;
	char why[256];

	req.has_version = true;
	req.version = DTX__V1__VERSION__VERSION_1;
	req.body_case = DTX__V1__CLIENT_REQUEST__BODY_QUERY;
	req.query = &q;
	q.gid = (char *)gid;
	cr_assert_eq(wire_pack_alloc(&req.base, &buf, &len), DTX_OK);
	cr_assert_eq(nng_req0_open(&s), 0);
	nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 4u << 20);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 10000);
	cr_assert_eq(nng_dial(s, url, NULL, 0), 0);
	cr_assert_eq(nng_send(s, buf, len, 0), 0);
	cr_assert_eq(nng_recv(s, &rbuf, &rlen, NNG_FLAG_ALLOC), 0);
	free(buf);
	cr_assert_eq(
	        wire_client_reply_decode(rbuf, rlen, &rep, why, sizeof(why)),
	        DTX_OK, "%s", why);
	nng_free(rbuf, rlen);
	nng_close(s);
	a.code = (int)rep->code;
	snprintf(a.message, sizeof(a.message), "%s",
	         rep->message ? rep->message : "");
	if (rep->tx != NULL) {
		a.state = (int)rep->tx->state;
		a.nsteps = rep->tx->n_steps;
		a.pruned_unix_ms = rep->tx->has_pruned_unix_ms
		                           ? rep->tx->pruned_unix_ms
		                           : 0;
	}
	wire_client_reply_free(rep);
	return a;
}

/* await_pruned polls gid until a query says its details were pruned. */
static answer await_pruned(th_env *t, const char *gid)
{
	for (int waited = 0; waited < PRUNE_WAIT; waited += POLL_MS) {
		answer a = raw_query(t->dtxd_url, gid);
		cr_assert_eq(a.code, DTX_OK, "query %s: %d %s", gid, a.code,
		             a.message);
		if (a.pruned_unix_ms != 0)
			return a;
		sleep_ms(POLL_MS);
	}
	cr_assert_fail("%s was never pruned", gid);
	return (answer){0};
}

/* ---- dtxctl ------------------------------------------------------------- */

/* ctl runs `dtxctl --admin ADMIN ARGS`, keeps its stdout in out and
 * returns its exit code. */
static int ctl(const char *admin, char *out, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int ctl(const char *admin, char *out, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = th_vdtxctl(admin, out, OUT_MAX, fmt, ap);
	va_end(ap);
	return rc;
}

/* stat_of reads one number of `dtxctl stats --output json`. */
static int64_t stat_of(const char *admin, const char *field)
{
	static char out[OUT_MAX];
	json_error_t err;
	json_t *o;
	int64_t v;

	cr_assert_eq(ctl(admin, out, "--output json stats"), 0, "%s", out);
	o = json_loads(out, 0, &err);
	cr_assert_not_null(o, "stats printed no JSON: %s", out);
	cr_assert(json_is_integer(json_object_get(o, field)),
	          "stats has no %s: %s", field, out);
	v = json_integer_value(json_object_get(o, field));
	json_decref(o);
	return v;
}

/* ---- tests -------------------------------------------------------------- */

static void submit_again(th_env *t, const char *gid, const char *spec,
                         dtx_tx_state want)
{
	dtx_saga *saga = th_saga(t, gid, spec);
	dtx_tx_info info;
	int err = dtx_client_submit(th_client(t), saga, 0, &info);

	dtx_saga_destroy(saga);
	cr_assert_eq(err, DTX_OK, "resubmit %s: %s", gid, dtx_strerror(err));
	cr_assert_not(info.created, "a second transaction under %s", gid);
	cr_assert_eq(info.state, want, "%s is %s", gid,
	             dtx_tx_state_name(info.state));
}

Test(retention, a_pruned_saga_keeps_its_outcome_and_never_runs_again)
{
	th_env *t = th_begin();
	static char out[OUT_MAX];
	char admin[TH_URL_MAX];
	const char *gids[2] = {"ret-ok", "ret-undo"};
	int64_t final_ms[2] = {0, 0};
	dtx_tx_info info;
	answer a;

	th_url(t, "admin", admin, sizeof(admin));
	th_dtxd_start(t, "--admin", admin, "--retain-final", "1s",
	              "--retain-tombstones", "1h", NULL);
	th_participant_start(t, "p1", NULL);
	th_run(t, "ret-ok", "p1.do/p1.undo", &info);
	cr_assert_eq(info.state, DTX_TX_COMMITTED);
	th_run(t, "ret-undo", "p1.do/p1.undo p1.fail/p1.undo", &info);
	cr_assert_eq(info.state, DTX_TX_COMPENSATED);

	/* a query: final, and the details are gone */
	a = await_pruned(t, "ret-ok");
	cr_assert_eq(a.state, DTX_TX_COMMITTED);
	cr_assert_eq(a.nsteps, 0);
	cr_assert_eq(
	        strncmp(a.message, "final: committed, details pruned at ", 36),
	        0, "message: %s", a.message);
	a = await_pruned(t, "ret-undo");
	cr_assert_eq(a.state, DTX_TX_COMPENSATED);

	/* a resubmit: its outcome, nothing runs again, even if the steps
	 * differ (they cannot be compared any more) */
	submit_again(t, "ret-ok", "p1.do/p1.undo", DTX_TX_COMMITTED);
	submit_again(t, "ret-ok", "p1.fail/p1.undo", DTX_TX_COMMITTED);
	submit_again(t, "ret-undo", "p1.do/p1.undo p1.fail/p1.undo",
	             DTX_TX_COMPENSATED);
	cr_assert_str_eq(th_journal_story(t, "ret-ok"), "p1.do:ok");
	cr_assert_str_eq(th_journal_story(t, "ret-undo"),
	                 "p1.do:ok p1.fail:fail p1.undo:ok");

	/* barrier GC: a definite final for a pruned gid */
	cr_assert_eq(dtx_client_final_gids(th_client(t), gids, 2, final_ms),
	             DTX_OK);
	cr_assert_gt(final_ms[0], 0);
	cr_assert_gt(final_ms[1], 0);

	/* dtxctl show and stats */
	cr_assert_eq(ctl(admin, out, "show ret-ok"), 0, "%s", out);
	cr_assert_not_null(strstr(out, "final: committed, details pruned at "),
	                   "%s", out);
	cr_assert_eq(stat_of(admin, "tombstones"), 2);
	cr_assert_eq(stat_of(admin, "pruned"), 2);
	cr_assert_eq(stat_of(admin, "total"), 0); /* no tx record is left */
	th_end(t);
}

Test(retention, tombstones_expire_and_the_gid_is_then_unknown)
{
	th_env *t = th_begin();
	char admin[TH_URL_MAX];
	dtx_tx_info info;
	bool expired = false;

	th_url(t, "admin", admin, sizeof(admin));
	th_dtxd_start(t, "--admin", admin, "--retain-final", "1s",
	              "--retain-tombstones", "2s", NULL);
	th_participant_start(t, "p1", NULL);
	th_run(t, "ret-exp", "p1.do/p1.undo", &info);
	await_pruned(t, "ret-exp"); /* kept 2 s: polls see it */
	for (int waited = 0; !expired && waited < PRUNE_WAIT;
	     waited += POLL_MS) {
		answer a = raw_query(t->dtxd_url, "ret-exp");
		expired = a.code == DTX_ENOENT;
		if (!expired)
			cr_assert_neq(a.pruned_unix_ms, 0, "not a tombstone");
		sleep_ms(POLL_MS);
	}
	cr_assert(expired, "the tombstone never expired");
	cr_assert_eq(stat_of(admin, "tombstones"), 0);
	cr_assert_eq(stat_of(admin, "pruned"), 1);
	th_end(t);
}

Test(retention, a_full_log_refuses_new_transactions_and_finishes_running_ones)
{
	th_env *t = th_begin();
	dtx_client *c;
	dtx_saga *saga;
	dtx_tx_info info;
	char gid[32];
	int err = DTX_OK, n;

	if (t->pg_store) { /* the postgres suite: not for that store */
		th_end(t);
		cr_skip_test(
		        "LMDB map maximum only: a PostgreSQL store has no map");
	}

	th_dtxd_start(t, "--map-size-mb", "1", "--map-size-max-mb", "6",
	              "--retain-final", "0", NULL);
	th_participant_start(t, "p1", "--delay-ms", "3000", "--workers", "4",
	                     NULL);
	c = th_client(t);
	saga = th_saga(t, "slow", "p1.slow/p1.undo");
	cr_assert_eq(dtx_client_submit(c, saga, 0, &info), DTX_OK);
	dtx_saga_destroy(saga);
	for (n = 0; n < FILL_MAX && err == DTX_OK; n++) {
		snprintf(gid, sizeof(gid), "fill-%d", n);
		saga = th_saga(t, gid, "p1.do/p1.undo");
		err = dtx_client_submit(c, saga, 0, &info);
		dtx_saga_destroy(saga);
	}
	cr_assert_eq(err, DTX_ENOSPC, "after %d submits: %s", n,
	             dtx_strerror(err));
	cr_assert(th_log_contains(t, "dtxd", "log full"));
	/* the running ones finish: the slow one was sent before the log
	 * filled and is still sleeping */
	cr_assert_eq(dtx_client_query(c, "slow", TH_WAIT_FINAL, &info), DTX_OK);
	cr_assert_eq(info.state, DTX_TX_COMMITTED);
	snprintf(gid, sizeof(gid), "fill-%d", n - 2);
	cr_assert_eq(dtx_client_query(c, gid, TH_WAIT_FINAL, &info), DTX_OK);
	cr_assert_eq(info.state, DTX_TX_COMMITTED);
	/* a new one is still refused, with the reason; dtxd is alive */
	cr_assert_eq(raw_query(t->dtxd_url, "never").code, DTX_ENOENT);
	saga = th_saga(t, "late", "p1.do/p1.undo");
	cr_assert_eq(dtx_client_submit(c, saga, 0, &info), DTX_ENOSPC);
	dtx_saga_destroy(saga);
	cr_assert(th_proc_is_alive(t->dtxd));
	th_end(t);
}
