/*
 * reader_test.c - dtxd's loop never waits for a read of the log (issue 14
 * item 3): list, show, stats and queries of gids not in memory run on the
 * reader thread, and a list page reads a bounded number of records.
 *
 * No timing: a hold point in the stats scan (DTX_HOLD=admin.stats@FILE,
 * common/fault.h) keeps one `dtxctl stats` scanning for as long as the
 * test wants, and the test counts the answers dtxd gives meanwhile - to
 * queries of a transaction in memory and of one on disk. With the scan
 * on the loop (before the reader) not one of them comes.
 *
 * The log is written before dtxd starts, with the coordinator's own log
 * module: LOG_TXS committed two-step sagas, a few of them (RARE) using a
 * handler no other uses.
 */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>

#include "harness.h"
#include "rawwire.h"
#include "log.h"
#include "tx.h"
#include "wire.h"

#define LOG_TXS     3000
#define RARE_EVERY  1000 /* gid i uses rare.do when i % RARE_EVERY == 7 */
#define RARE        (LOG_TXS / RARE_EVERY)
#define QUERIES     50
#define REPLY_MS    10000 /* a stalled loop fails the test, never hangs it */
#define WAIT_MS     20000
#define EXAMINE_MAX 512 /* DC_ADMIN_LIST_EXAMINE */

TestSuite(reader, .fini = th_teardown, .timeout = 180);

/* ---- the log ------------------------------------------------------------ */

static void gid_of(unsigned i, char *gid, size_t len)
{
	snprintf(gid, len, "rt-%06u", i);
}

static dc_tx *committed_saga(unsigned i, int64_t now)
{
	char gid[32];
	dc_tx *tx;

	gid_of(i, gid, sizeof(gid));
	cr_assert_eq(dc_tx_create(gid, DC_MODE_SAGA, 2, &tx), DTX_OK);
	tx->state = DC_TX_COMMITTED;
	tx->created_unix_ms = tx->updated_unix_ms = now;
	for (int s = 0; s < 2; s++) {
		dc_step *st = &tx->steps[s];
		const char *act =
		        i % RARE_EVERY == 7 && s == 1 ? "rare.do" : "p1.do";
		cr_assert_eq(dc_tx_set_str(&st->url, "tcp://127.0.0.1:9"),
		             DTX_OK);
		cr_assert_eq(dc_tx_set_str(&st->action, act), DTX_OK);
		cr_assert_eq(dc_tx_set_str(&st->compensate, "p1.undo"), DTX_OK);
		st->state = DC_STEP_DONE;
		st->attempts = 1;
	}
	return tx;
}

/* fill_log writes LOG_TXS committed sagas into t's log directory. */
static void fill_log(th_env *t)
{
	dc_log_opts lo = {.dir = t->log_dir, .no_sync = true};
	int64_t now = (int64_t)time(NULL) * 1000;
	char err[512] = "";
	dc_log_batch *b;
	dc_log *log;

	cr_assert_eq(dc_log_open(&lo, &log, err, sizeof(err)), DTX_OK, "%s",
	             err);
	cr_assert_eq(dc_log_batch_create(&b), DTX_OK);
	for (unsigned i = 0; i < LOG_TXS; i++) {
		dc_tx *tx = committed_saga(i, now);
		cr_assert_eq(dc_log_batch_put_tx(b, tx, UINT64_MAX), DTX_OK);
		dc_tx_destroy(tx);
		if (dc_log_batch_len(b) >= 1000 || i + 1 == LOG_TXS) {
			cr_assert_eq(dc_log_commit(log, b), DTX_OK);
			dc_log_batch_reset(b);
		}
	}
	dc_log_batch_destroy(b);
	dc_log_close(log);
}

/* ---- raw requests ------------------------------------------------------- */

static void raw_send(nng_socket s, const ProtobufCMessage *msg)
{
	uint8_t *buf;
	size_t len;
	int rv;

	cr_assert_eq(wire_pack_alloc(msg, &buf, &len), DTX_OK);
	rv = nng_send(s, buf, len, 0);
	free(buf);
	cr_assert_eq(rv, 0, "send: %s", nng_strerror(rv));
}

/* client_recv waits (REPLY_MS at most) for a ClientReply. */
static Dtx__V1__ClientReply *client_recv(nng_socket s, const char *what)
{
	Dtx__V1__ClientReply *rep;
	char why[256];
	void *buf;
	size_t len;
	int rv = nng_recv(s, &buf, &len, NNG_FLAG_ALLOC);

	cr_assert_eq(rv, 0, "%s: no answer within %d ms: %s", what, REPLY_MS,
	             nng_strerror(rv));
	rv = wire_client_reply_decode(buf, len, &rep, why, sizeof(why));
	nng_free(buf, len);
	cr_assert_eq(rv, DTX_OK, "%s: %s", what, why);
	return rep;
}

static Dtx__V1__AdminReply *admin_call(nng_socket s,
                                       const Dtx__V1__AdminRequest *req)
{
	Dtx__V1__AdminReply *rep;
	char why[256];
	void *buf;
	size_t len;
	int rv;

	raw_send(s, &req->base);
	rv = nng_recv(s, &buf, &len, NNG_FLAG_ALLOC);
	cr_assert_eq(rv, 0, "admin: no answer: %s", nng_strerror(rv));
	rv = wire_admin_reply_decode(buf, len, &rep, why, sizeof(why));
	nng_free(buf, len);
	cr_assert_eq(rv, DTX_OK, "admin: %s", why);
	cr_assert_eq((int)rep->code, DTX_OK, "admin: %s",
	             rep->message ? rep->message : "");
	return rep;
}

/* query_msg is a Query of gid (it points at gid and q). */
static Dtx__V1__ClientRequest query_msg(const char *gid, Dtx__V1__Query *q)
{
	Dtx__V1__ClientRequest req = DTX__V1__CLIENT_REQUEST__INIT;

	dtx__v1__query__init(q);
	q->gid = (char *)gid;
	req.has_version = 1;
	req.version = DTX__V1__VERSION__VERSION_1;
	req.body_case = DTX__V1__CLIENT_REQUEST__BODY_QUERY;
	req.query = q;
	return req;
}

/* begin_live begins an initiator-driven TCC transaction with an id the
 * coordinator makes (no read of the log) and writes its gid to gid: it
 * stays in memory (RUNNING) until its deadline. */
static void begin_live(nng_socket cs, char *gid, size_t len)
{
	Dtx__V1__ClientRequest req = DTX__V1__CLIENT_REQUEST__INIT;
	Dtx__V1__BeginTcc b = DTX__V1__BEGIN_TCC__INIT;
	Dtx__V1__ClientReply *rep;

	req.has_version = 1;
	req.version = DTX__V1__VERSION__VERSION_1;
	req.body_case = DTX__V1__CLIENT_REQUEST__BODY_BEGIN_TCC;
	req.begin_tcc = &b;
	raw_send(cs, &req.base);
	rep = client_recv(cs, "begin");
	cr_assert_eq((int)rep->code, DTX_OK, "begin: %s",
	             rep->message ? rep->message : "");
	snprintf(gid, len, "%s", rep->tx->gid);
	wire_client_reply_free(rep);
}

/* query_code queries gid and returns the reply's code (want_state checked
 * when the code is OK and want_state is not 0). */
static int query_code(nng_socket cs, const char *gid, int want_state)
{
	Dtx__V1__Query q;
	Dtx__V1__ClientRequest req = query_msg(gid, &q);
	Dtx__V1__ClientReply *rep;
	int code;

	raw_send(cs, &req.base);
	rep = client_recv(cs, gid);
	code = (int)rep->code;
	if (code == DTX_OK && want_state != 0)
		cr_assert_eq((int)rep->tx->state, want_state, "%s: state %d",
		             gid, (int)rep->tx->state);
	wire_client_reply_free(rep);
	return code;
}

/* ---- holding a scan ----------------------------------------------------- */

typedef struct held_scan {
	char hold[TH_URL_MAX];
	char held[TH_URL_MAX + 8];
	char env[TH_URL_MAX + 64];
	char admin[TH_URL_MAX];
	th_proc *stats; /* dtxctl stats, scanning */
} held_scan;

static void touch(const char *path)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "create %s", path);
	fclose(f);
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* start_held starts dtxd (extra flag pair may be NULL) on a filled log
 * with its stats scan held, then a `dtxctl stats` that runs into the hold
 * and stays there. */
static void start_held(th_env *t, held_scan *h, const char *flag,
                       const char *value)
{
	const char *argv[8];
	int n = 0;

	fill_log(t);
	th_path(t, "hold", h->hold, sizeof(h->hold));
	snprintf(h->held, sizeof(h->held), "%s.held", h->hold);
	snprintf(h->env, sizeof(h->env), "DTX_HOLD=admin.stats@%s", h->hold);
	th_url(t, "admin", h->admin, sizeof(h->admin));
	touch(h->hold);
	th_dtxd_start_env(t, h->env, "--admin", h->admin, flag, value, NULL);
	argv[n++] = th_exe("DTX_DTXCTL");
	argv[n++] = "--admin";
	argv[n++] = h->admin;
	argv[n++] = "--timeout-ms";
	argv[n++] = "60000";
	argv[n++] = "stats";
	argv[n] = NULL;
	h->stats = th_spawn(t, "dtxctl-stats", argv);
	for (int ms = 0; !exists(h->held); ms += 10) {
		cr_assert(ms < WAIT_MS,
		          "the stats scan never reached its hold");
		usleep(10000);
	}
}

/* release lets the held scan go on; dtxctl stats must then finish. */
static void release(held_scan *h)
{
	cr_assert_eq(unlink(h->hold), 0);
	cr_assert(th_proc_wait(h->stats, WAIT_MS), "dtxctl stats never ended");
	cr_assert_eq(th_proc_exit_code(h->stats), 0, "dtxctl stats failed");
}

Test(reader, clients_are_answered_while_a_stats_scan_is_held)
{
	th_env *t = th_begin();
	char gid[32], live[DTX_GID_MAX + 1];
	held_scan h;
	nng_socket cs;

	start_held(t, &h, NULL, NULL);
	cs = rw_open(t->dtxd_url, REPLY_MS);
	/* a new transaction and one in memory: answered during the scan */
	begin_live(cs, live, sizeof(live));
	for (int i = 0; i < QUERIES; i++)
		cr_assert_eq(query_code(cs, live, DTX_TX_RUNNING), DTX_OK,
		             "query %d of a transaction in memory", i);
	/* one on disk too: point reads have a reader thread of their own */
	gid_of(42, gid, sizeof(gid));
	for (int i = 0; i < QUERIES; i++)
		cr_assert_eq(query_code(cs, gid, DTX_TX_COMMITTED), DTX_OK,
		             "query %d of a transaction on disk", i);
	cr_assert(th_proc_is_alive(h.stats),
	          "dtxctl stats ended while its scan was held");
	release(&h);
	cr_assert(th_log_contains(t, "dtxctl-stats", "total 3000") ||
	          th_log_contains(t, "dtxctl-stats", "total 3001"));
	nng_close(cs);
	th_end(t);
}

Test(reader, a_full_read_queue_answers_busy_and_the_loop_goes_on)
{
	th_env *t = th_begin();
	char gid[32], live[DTX_GID_MAX + 1];
	held_scan h;
	nng_socket cs;

	start_held(t, &h, "--read-queue", "1");
	cs = rw_open(t->dtxd_url, REPLY_MS);
	gid_of(42, gid, sizeof(gid));
	cr_assert_eq(query_code(cs, gid, 0), DTX_EBUSY,
	             "the one reader slot is the held scan's");
	begin_live(cs, live, sizeof(live));
	cr_assert_eq(query_code(cs, live, DTX_TX_RUNNING), DTX_OK);
	release(&h);
	cr_assert_eq(query_code(cs, gid, DTX_TX_COMMITTED), DTX_OK);
	nng_close(cs);
	th_end(t);
}

/* ---- the default queue takes a read for every request ------------------- */

typedef struct tally {
	pthread_mutex_t mu;
	unsigned done, busy, enoent;
} tally;

static void on_query(void *arg, int err, const dtx_tx_info *info)
{
	tally *ty = arg;

	(void)info;
	pthread_mutex_lock(&ty->mu);
	ty->done++;
	ty->busy += err == DTX_EBUSY;
	ty->enoent += err == DTX_ENOENT;
	pthread_mutex_unlock(&ty->mu);
}

static unsigned tally_get(tally *ty, unsigned *ret_busy)
{
	unsigned done;

	pthread_mutex_lock(&ty->mu);
	done = ty->done;
	*ret_busy = ty->busy;
	pthread_mutex_unlock(&ty->mu);
	return done;
}

/* With reads held, 400 queries of gids not in memory queue up behind the
 * first: by default the queue takes one read per request dtxd may hold,
 * so none is refused (at a fixed 256, a flash sale of 1,000 buyers with
 * client gids had submits refused busy). */
Test(reader, the_default_queue_takes_a_read_for_every_request_held)
{
	th_env *t = th_begin();
	char hold[PATH_MAX], held[PATH_MAX + 8], env[PATH_MAX + 32], gid[32];
	tally ty = {.mu = PTHREAD_MUTEX_INITIALIZER};
	unsigned busy = 0;
	dtx_client *c;

	th_path(t, "hold", hold, sizeof(hold));
	snprintf(held, sizeof(held), "%s.held", hold);
	snprintf(env, sizeof(env), "DTX_HOLD=reader.load@%s", hold);
	touch(hold);
	th_dtxd_start_env(t, env, NULL);
	c = th_client(t);
	for (int i = 0; i < 400; i++) {
		snprintf(gid, sizeof(gid), "absent-%d", i);
		cr_assert_eq(dtx_client_query_async(c, gid, 0, on_query, &ty),
		             DTX_OK);
	}
	for (int ms = 0; !exists(held); ms += 10) {
		cr_assert(ms < WAIT_MS, "no read reached its hold");
		usleep(10000);
	}
	/* give every query time to arrive and queue (a refusal comes at
	 * once); then let the reads go */
	for (int ms = 0; ms < 3000 && tally_get(&ty, &busy) == 0; ms += 10)
		usleep(10000);
	cr_assert_eq(unlink(hold), 0);
	for (int ms = 0; tally_get(&ty, &busy) < 400; ms += 10) {
		cr_assert(ms < WAIT_MS, "%u of 400 queries answered", ty.done);
		usleep(10000);
	}
	cr_assert_eq(busy, 0, "%u of 400 reads refused busy", busy);
	cr_assert_eq(ty.enoent, 400);
	th_end(t);
}

/* ---- made ids need no read ---------------------------------------------- */

/* begin_code begins an initiator-driven TCC transaction under gid and
 * returns the reply's code; msg gets its message. */
static int begin_code(nng_socket cs, const char *gid, char *msg, size_t len)
{
	Dtx__V1__ClientRequest req = DTX__V1__CLIENT_REQUEST__INIT;
	Dtx__V1__BeginTcc b = DTX__V1__BEGIN_TCC__INIT;
	Dtx__V1__ClientReply *rep;
	int code;

	req.has_version = 1;
	req.version = DTX__V1__VERSION__VERSION_1;
	req.body_case = DTX__V1__CLIENT_REQUEST__BODY_BEGIN_TCC;
	req.begin_tcc = &b;
	b.gid = (char *)gid;
	raw_send(cs, &req.base);
	rep = client_recv(cs, gid);
	code = (int)rep->code;
	snprintf(msg, len, "%s", rep->message ? rep->message : "");
	wire_client_reply_free(rep);
	return code;
}

/* make_gid no longer reads the log for each id it makes: a client gid it
 * could make later (its shape, shard 0, above the last made id) is
 * refused instead, so none can be in the log. */
Test(reader, a_client_gid_the_coordinator_could_make_later_is_refused)
{
	th_env *t = th_begin();
	char made[DTX_GID_MAX + 1], msg[512];
	nng_socket cs;

	th_dtxd_start(t, NULL);
	cs = rw_open(t->dtxd_url, REPLY_MS);
	begin_live(cs, made, sizeof(made));
	/* 2^40 ms after 2024: decades ahead, shard 0 */
	cr_assert_eq(begin_code(cs, "4000000000000000", msg, sizeof(msg)),
	             DTX_EINVAL, "%s", msg);
	cr_assert(strstr(msg, "reserved") != NULL, "%s", msg);
	/* another shard's id, a made one again, any other shape: admitted */
	cr_assert_eq(begin_code(cs, "4000000000001000", msg, sizeof(msg)),
	             DTX_OK, "%s", msg);
	cr_assert_eq(begin_code(cs, made, msg, sizeof(msg)), DTX_OK, "%s", msg);
	cr_assert_eq(begin_code(cs, "order-4000000000000000", msg, sizeof(msg)),
	             DTX_OK, "%s", msg);
	nng_close(cs);
	th_end(t);
}

/* ---- paged listings ----------------------------------------------------- */

typedef struct listing {
	unsigned seen[LOG_TXS]; /* times each gid came */
	size_t pages, empty_pages, total;
	size_t largest; /* transactions in the largest page */
} listing;

/* list_all follows next_after_gid from the first page to the last. */
static void list_all(nng_socket as, const char *handler, uint32_t limit,
                     listing *l)
{
	Dtx__V1__AdminRequest req = DTX__V1__ADMIN_REQUEST__INIT;
	Dtx__V1__AdminList list = DTX__V1__ADMIN_LIST__INIT;
	Dtx__V1__AdminFilter f = DTX__V1__ADMIN_FILTER__INIT;
	char after[DTX_GID_MAX + 1] = "";
	char last[DTX_GID_MAX + 1] = "";

	memset(l, 0, sizeof(*l));
	req.has_version = 1;
	req.version = DTX__V1__VERSION__VERSION_1;
	req.body_case = DTX__V1__ADMIN_REQUEST__BODY_LIST;
	req.list = &list;
	list.filter = &f;
	list.has_limit = 1;
	list.limit = limit;
	f.has_include_final = f.include_final = 1;
	f.handler = (char *)handler;
	for (;;) {
		Dtx__V1__AdminReply *rep;
		list.after_gid = after[0] ? after : NULL;
		rep = admin_call(as, &req);
		cr_assert(l->pages++ < 10 * LOG_TXS, "the cursor never ends");
		l->empty_pages += rep->n_txs == 0;
		if (rep->n_txs > l->largest)
			l->largest = rep->n_txs;
		for (size_t i = 0; i < rep->n_txs; i++) {
			unsigned n;
			const char *g = rep->txs[i]->gid;
			cr_assert(strcmp(g, last) > 0, "%s after %s", g, last);
			snprintf(last, sizeof(last), "%s", g);
			cr_assert_eq(sscanf(g, "rt-%u", &n), 1, "gid %s", g);
			cr_assert_lt(n, LOG_TXS);
			l->seen[n]++;
			l->total++;
		}
		if (rep->next_after_gid == NULL) {
			wire_admin_reply_free(rep);
			return;
		}
		cr_assert(strcmp(rep->next_after_gid, after) > 0,
		          "the cursor went back");
		snprintf(after, sizeof(after), "%s", rep->next_after_gid);
		wire_admin_reply_free(rep);
	}
}

Test(reader, paged_listings_return_every_transaction_once)
{
	th_env *t = th_begin();
	char admin[TH_URL_MAX], cmd[3 * TH_URL_MAX];
	char line[128];
	static listing l;
	unsigned rare = 0;
	nng_socket as;
	FILE *p;

	fill_log(t);
	th_url(t, "admin", admin, sizeof(admin));
	th_dtxd_start(t, "--admin", admin, NULL);
	as = rw_open(admin, REPLY_MS);

	/* every one, in pages that each read a bounded number of records */
	list_all(as, NULL, 1000, &l);
	cr_assert_eq(l.total, LOG_TXS);
	for (unsigned i = 0; i < LOG_TXS; i++)
		cr_assert_eq(l.seen[i], 1, "gid %u came %u times", i,
		             l.seen[i]);
	cr_assert_leq(l.largest, EXAMINE_MAX);
	cr_assert_geq(l.pages, LOG_TXS / EXAMINE_MAX);

	/* a rare handler: short and empty pages with a cursor, each once */
	list_all(as, "rare.do", 100, &l);
	cr_assert_eq(l.total, RARE);
	cr_assert_gt(l.empty_pages, 0, "no page ended at its read bound");
	for (unsigned i = 0; i < LOG_TXS; i++)
		cr_assert_eq(l.seen[i], i % RARE_EVERY == 7 ? 1u : 0u,
		             "gid %u came %u times", i, l.seen[i]);

	/* dtxctl follows the cursors and prints one page */
	snprintf(cmd, sizeof(cmd),
	         "%s --admin %s list --all --handler rare.do -q",
	         th_exe("DTX_DTXCTL"), admin);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	while (fgets(line, sizeof(line), p) != NULL)
		rare += strncmp(line, "rt-", 3) == 0;
	cr_assert_eq(pclose(p), 0, "%s failed", cmd);
	cr_assert_eq(rare, RARE, "dtxctl listed %u of %d", rare, RARE);
	nng_close(as);
	th_end(t);
}
