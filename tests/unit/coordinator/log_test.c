/*
 * log_test.c - the coordinator log (coordinator/log.c) against a real LMDB
 * environment in a fresh temporary directory per test.
 *
 * Tests open the log with no_sync for speed (STYLE.md: unit tests only).
 * Corruption is made with raw LMDB calls on a closed log, which is why this
 * file includes <lmdb.h>; nothing else outside log.c may.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static char g_root[64];  /* mkdtemp directory of this test */
static char g_dir[128];  /* the log's directory inside it (not created) */
static char g_data[160]; /* g_dir/data.mdb */

static void setup(void)
{
	snprintf(g_root, sizeof(g_root), "/tmp/dtx_log_test.XXXXXX");
	cr_assert_not_null(mkdtemp(g_root));
	snprintf(g_dir, sizeof(g_dir), "%s/log", g_root);
	snprintf(g_data, sizeof(g_data), "%s/data.mdb", g_dir);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void teardown(void)
{
	nftw(g_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(log, .init = setup, .fini = teardown);

/* ---- helpers ---- */

static dc_log *open_log_opts(size_t map_size, size_t map_max, bool ro)
{
	dc_log_opts o = {.dir = g_dir,
	                 .map_size = map_size,
	                 .map_size_max = map_max,
	                 .read_only = ro,
	                 .no_sync = true};
	char err[256] = "";
	dc_log *log = NULL;
	int rc = dc_log_open(&o, &log, err, sizeof(err));

	cr_assert_eq(rc, DTX_OK, "open: %s (%s)", dtx_strerror(rc), err);
	return log;
}

static dc_log *open_log(void)
{
	return open_log_opts(0, 0, false);
}

static int try_open(bool ro, char *err, size_t errlen)
{
	dc_log_opts o = {.dir = g_dir, .read_only = ro, .no_sync = true};
	dc_log *log = NULL;
	int rc = dc_log_open(&o, &log, err, errlen);

	dc_log_close(log);
	return rc;
}

static uint8_t *bytes(const char *s, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	cr_assert_not_null(p);
	memcpy(p, s, n);
	return p;
}

static void fill_step(dc_step *s, uint32_t i)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "tcp://127.0.0.1:%u", 7000 + i);
	cr_assert_eq(dc_tx_set_str(&s->url, buf), DTX_OK);
	snprintf(buf, sizeof(buf), "svc%u.act", i);
	cr_assert_eq(dc_tx_set_str(&s->action, buf), DTX_OK);
	snprintf(buf, sizeof(buf), "svc%u.undo", i);
	cr_assert_eq(dc_tx_set_str(&s->compensate, buf), DTX_OK);
	s->payload = bytes("p\0ay\xff", 5);
	s->payload_len = 5;
	s->timeout_ms = 100 * i;
	s->state = DC_STEP_DONE;
	s->attempts = i + 1;
}

static dc_tx *make_tx(const char *gid, uint32_t nsteps, dc_tx_state state)
{
	dc_tx *tx = NULL;

	cr_assert_eq(dc_tx_create(gid, DC_MODE_SAGA, nsteps, &tx), DTX_OK);
	tx->state = state;
	tx->created_unix_ms = 1700000000123;
	tx->updated_unix_ms = 1700000000456;
	tx->next_event_seq = 7;
	for (uint32_t i = 0; i < nsteps; i++)
		fill_step(&tx->steps[i], i);
	return tx;
}

static void commit_one(dc_log *log, const dc_tx *tx, uint64_t dirty)
{
	dc_log_batch *b = NULL;

	cr_assert_eq(dc_log_batch_create(&b), DTX_OK);
	cr_assert_eq(dc_log_batch_put_tx(b, tx, dirty), DTX_OK);
	cr_assert_eq(dc_log_commit(log, b), DTX_OK, "%s",
	             dc_log_last_error(log));
	dc_log_batch_destroy(b);
}

static void assert_str(const char *a, const char *b, const char *what)
{
	if (a == NULL || b == NULL)
		cr_assert(a == b, "%s: %s vs %s", what, a ? a : "(null)",
		          b ? b : "(null)");
	else
		cr_assert_str_eq(a, b, "%s", what);
}

static void assert_bytes(const uint8_t *a, size_t alen, const uint8_t *b,
                         size_t blen, const char *what)
{
	cr_assert((a == NULL) == (b == NULL), "%s: presence differs", what);
	cr_assert_eq(alen, blen, "%s: length", what);
	if (alen > 0)
		cr_assert_eq(memcmp(a, b, alen), 0, "%s: bytes", what);
}

static void assert_step_eq(const dc_step *a, const dc_step *b)
{
	assert_str(a->url, b->url, "url");
	assert_str(a->action, b->action, "action");
	assert_str(a->compensate, b->compensate, "compensate");
	assert_bytes(a->payload, a->payload_len, b->payload, b->payload_len,
	             "payload");
	cr_assert_eq(a->timeout_ms, b->timeout_ms);
	cr_assert_eq(a->state, b->state);
	cr_assert_eq(a->attempts, b->attempts);
	assert_str(a->last_error, b->last_error, "last_error");
	assert_bytes(a->result, a->result_len, b->result, b->result_len,
	             "result");
}

static void assert_tx_eq(const dc_tx *a, const dc_tx *b)
{
	cr_assert_str_eq(a->gid, b->gid);
	cr_assert_eq(a->mode, b->mode);
	cr_assert_eq(a->state, b->state);
	cr_assert_eq(a->failed_step, b->failed_step);
	assert_str(a->reason, b->reason, "reason");
	cr_assert_eq(a->created_unix_ms, b->created_unix_ms);
	cr_assert_eq(a->updated_unix_ms, b->updated_unix_ms);
	cr_assert_eq(a->next_event_seq, b->next_event_seq);
	cr_assert_eq(a->nsteps, b->nsteps);
	for (uint32_t i = 0; i < a->nsteps; i++)
		assert_step_eq(&a->steps[i], &b->steps[i]);
}

static dc_tx *load(dc_log *log, const char *gid)
{
	dc_tx *tx = NULL;
	int rc = dc_log_load_tx(log, gid, &tx);

	cr_assert_eq(rc, DTX_OK, "load %s: %s", gid, dc_log_last_error(log));
	return tx;
}

/* A scan collector: keeps up to 4 gids, counts all, checks gid order. */
typedef struct collect {
	size_t n;
	char gids[4][DTX_GID_MAX + 1];
	char last[DTX_GID_MAX + 1];
	bool ordered;
} collect;

static int collect_fn(void *arg, dc_tx *tx)
{
	collect *c = arg;

	if (c->n > 0 && strcmp(c->last, tx->gid) >= 0)
		c->ordered = false;
	snprintf(c->last, sizeof(c->last), "%s", tx->gid);
	if (c->n < 4)
		snprintf(c->gids[c->n], sizeof(c->gids[0]), "%s", tx->gid);
	c->n++;
	dc_tx_destroy(tx);
	return DTX_OK;
}

/* raw_env opens the closed log's environment with plain LMDB calls. */
static MDB_env *raw_env(void)
{
	MDB_env *env = NULL;

	cr_assert_eq(mdb_env_create(&env), 0);
	cr_assert_eq(mdb_env_set_maxdbs(env, 8), 0);
	cr_assert_eq(mdb_env_open(env, g_dir, 0, 0644), 0);
	return env;
}

/* raw_update changes one value in place: flip (xor into the last byte),
 * or replace it with len bytes at data, or delete it (data NULL, len 0). */
static void raw_update(const char *table, const void *key, size_t klen,
                       const void *data, size_t len, uint8_t flip)
{
	MDB_env *env = raw_env();
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {klen, (void *)key}, v;
	uint8_t buf[4096];

	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	cr_assert_eq(mdb_dbi_open(txn, table, 0, &dbi), 0);
	if (flip) {
		cr_assert_eq(mdb_get(txn, dbi, &k, &v), 0);
		cr_assert_leq(v.mv_size, sizeof(buf));
		memcpy(buf, v.mv_data, v.mv_size);
		buf[v.mv_size - 1] ^= flip;
		v.mv_data = buf;
		cr_assert_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	} else if (data == NULL) {
		cr_assert_eq(mdb_del(txn, dbi, &k, NULL), 0);
	} else {
		v = (MDB_val){len, (void *)data};
		cr_assert_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	}
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static size_t step_key(uint8_t *buf, const char *gid, uint32_t i)
{
	size_t n = strlen(gid);

	memcpy(buf, gid, n);
	buf[n] = 0;
	buf[n + 1] = (uint8_t)(i >> 24);
	buf[n + 2] = (uint8_t)(i >> 16);
	buf[n + 3] = (uint8_t)(i >> 8);
	buf[n + 4] = (uint8_t)i;
	return n + 5;
}

/* ---- round trips ---- */

static void make_pair(dc_tx **ret_a, dc_tx **ret_b)
{
	dc_tx *a = make_tx("order-1", 3, DC_TX_RUNNING);
	dc_tx *b = make_tx("order-2", 2, DC_TX_COMPENSATED);

	a->steps[0].result = bytes("r\0s", 3);
	a->steps[0].result_len = 3;
	a->steps[1].result = bytes("", 0); /* empty but present */
	cr_assert_eq(dc_tx_set_str(&a->steps[1].last_error, "timeout"), 0);
	a->steps[2].state = DC_STEP_ACTING;
	free(a->steps[2].payload);
	a->steps[2].payload = NULL; /* absent payload */
	a->steps[2].payload_len = 0;
	b->mode = DC_MODE_TCC;
	b->failed_step = 1;
	cr_assert_eq(dc_tx_set_str(&b->reason, "out of stock"), 0);
	b->steps[1].state = DC_STEP_FAILED;
	b->steps[0].state = DC_STEP_COMPENSATED;
	*ret_a = a;
	*ret_b = b;
}

Test(log, round_trips_two_transactions_field_by_field_after_reopen)
{
	dc_tx *a, *b, *la, *lb;
	dc_log_batch *batch = NULL;
	dc_log *log = open_log();

	make_pair(&a, &b);
	cr_assert_eq(dc_log_batch_create(&batch), DTX_OK);
	cr_assert_eq(dc_log_batch_put_tx(batch, a, UINT64_MAX), DTX_OK);
	cr_assert_eq(dc_log_batch_put_tx(batch, b, UINT64_MAX), DTX_OK);
	/* tx + 3 steps + active, tx + 2 steps + active delete + finals */
	cr_assert_eq(dc_log_batch_len(batch), 10);
	cr_assert_eq(dc_log_commit(log, batch), DTX_OK);
	dc_log_batch_destroy(batch);
	dc_log_close(log);

	log = open_log();
	la = load(log, "order-1");
	lb = load(log, "order-2");
	assert_tx_eq(la, a);
	assert_tx_eq(lb, b);
	cr_assert_str_eq((char *)la->steps[0].payload, "p");
	dc_tx_destroy(la);
	dc_tx_destroy(lb);
	dc_tx_destroy(a);
	dc_tx_destroy(b);
	dc_log_close(log);
}

Test(log, active_holds_only_non_final_transactions)
{
	dc_tx *a, *b;
	collect act = {.ordered = true}, all = {.ordered = true};
	dc_log *log = open_log();

	make_pair(&a, &b);
	commit_one(log, a, UINT64_MAX);
	commit_one(log, b, UINT64_MAX);
	cr_assert_eq(dc_log_scan_active(log, collect_fn, &act), DTX_OK);
	cr_assert_eq(act.n, 1);
	cr_assert_str_eq(act.gids[0], "order-1");
	cr_assert_eq(dc_log_scan_all(log, collect_fn, &all), DTX_OK);
	cr_assert_eq(all.n, 2);
	cr_assert(all.ordered);

	/* order-1 commits: it leaves the active table. */
	a->state = DC_TX_COMMITTED;
	commit_one(log, a, 0);
	act = (collect){.ordered = true};
	cr_assert_eq(dc_log_scan_active(log, collect_fn, &act), DTX_OK);
	cr_assert_eq(act.n, 0);
	dc_tx_destroy(a);
	dc_tx_destroy(b);
	dc_log_close(log);
}

static int stop_fn(void *arg, dc_tx *tx)
{
	(void)arg;
	dc_tx_destroy(tx);
	return DTX_EBUSY;
}

Test(log, scan_stops_with_the_callbacks_error)
{
	dc_tx *a = make_tx("a", 1, DC_TX_RUNNING);
	dc_log *log = open_log();

	commit_one(log, a, UINT64_MAX);
	cr_assert_eq(dc_log_scan_active(log, stop_fn, NULL), DTX_EBUSY);
	dc_tx_destroy(a);
	dc_log_close(log);
}

Test(log, load_of_unknown_gid_is_enoent)
{
	dc_tx *tx = NULL;
	dc_log *log = open_log();

	cr_assert_eq(dc_log_load_tx(log, "nope", &tx), DTX_ENOENT);
	cr_assert_null(tx);
	dc_log_close(log);
}

/* ---- events ---- */

typedef struct ev_seen {
	int n;
	uint32_t seq[8];
	dc_log_event ev[8];
	char detail[8][32];
} ev_seen;

static int ev_fn(void *arg, uint32_t seq, const dc_log_event *ev)
{
	ev_seen *s = arg;

	cr_assert_lt(s->n, 8);
	s->seq[s->n] = seq;
	s->ev[s->n] = *ev;
	snprintf(s->detail[s->n], sizeof(s->detail[0]), "%s",
	         ev->detail ? ev->detail : "(null)");
	s->n++;
	return DTX_OK;
}

static void add_event(dc_log_batch *b, const char *gid, uint32_t seq,
                      int32_t step, const char *detail)
{
	dc_log_event ev = {.unix_ms = 1000 + seq,
	                   .tx_state = DC_TX_RUNNING,
	                   .step = step,
	                   .step_state = DC_STEP_ACTING,
	                   .detail = detail};

	cr_assert_eq(dc_log_batch_add_event(b, gid, seq, &ev), DTX_OK);
}

Test(log, events_read_back_in_order_for_their_gid_only)
{
	dc_log_batch *b = NULL;
	ev_seen s = {0};
	dc_log *log = open_log();

	cr_assert_eq(dc_log_batch_create(&b), DTX_OK);
	/* Out of order on purpose, with neighbours "g" and "g1.x". */
	add_event(b, "g1", 256, 2, "third");
	add_event(b, "g1", 0, -1, "first");
	add_event(b, "g1", 1, 0, NULL);
	add_event(b, "g", 0, -1, "other");
	add_event(b, "g1.x", 0, -1, "other");
	cr_assert_eq(dc_log_commit(log, b), DTX_OK);
	dc_log_batch_destroy(b);
	cr_assert_eq(dc_log_read_events(log, "g1", ev_fn, &s), DTX_OK);
	cr_assert_eq(s.n, 3);
	cr_assert_eq(s.seq[0], 0);
	cr_assert_eq(s.seq[1], 1);
	cr_assert_eq(s.seq[2], 256);
	cr_assert_str_eq(s.detail[0], "first");
	cr_assert_str_eq(s.detail[1], "(null)");
	cr_assert_str_eq(s.detail[2], "third");
	cr_assert_eq(s.ev[0].step, -1);
	cr_assert_eq(s.ev[2].step, 2);
	cr_assert_eq(s.ev[2].step_state, DC_STEP_ACTING);
	cr_assert_eq(s.ev[2].unix_ms, 1256);
	cr_assert_eq(s.ev[1].tx_state, DC_TX_RUNNING);
	dc_log_close(log);
}

/* edit_fn checks the one event of "e1": a set-branch with its edit. */
static int edit_fn(void *arg, uint32_t seq, const dc_log_event *ev)
{
	const dc_log_edit *ed = ev->edit;

	(void)seq;
	cr_assert_not_null(ed, "the edit was not read back");
	cr_assert_str_eq(ed->old_url, "tcp://127.0.0.1:1");
	cr_assert_str_eq(ed->url, "tcp://127.0.0.1:2");
	cr_assert_eq(ed->op, DTX_OP_COMPENSATE);
	cr_assert_str_eq(ed->old_handler, "p.remov");
	cr_assert_str_eq(ed->handler, "p.undo");
	(*(int *)arg)++;
	return DTX_OK;
}

#define TP "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

Test(log, key_labels_traceparent_forced_steps_and_branch_edits_round_trip)
{
	dc_log *log = open_log();
	dc_tx *tx = make_tx("k1", 2, DC_TX_RUNNING), *back;
	char l0[] = "sku=gift-card", l1[] = "shop=eu-1";
	char *labels[] = {l0, l1};
	dc_log_edit ed = {.old_url = "tcp://127.0.0.1:1",
	                  .url = "tcp://127.0.0.1:2",
	                  .op = DTX_OP_COMPENSATE,
	                  .old_handler = "p.remov",
	                  .handler = "p.undo"};
	dc_log_event ev = {
	        .unix_ms = 1, .step = 1, .detail = "set", .edit = &ed};
	dc_log_batch *b = NULL;
	int seen = 0;

	cr_assert_eq(dc_tx_set_tags(tx, "order-1005", labels, 2, TP), DTX_OK);
	tx->steps[1].forced = true;
	commit_one(log, tx, UINT64_MAX);
	back = load(log, "k1");
	cr_assert_str_eq(back->key, "order-1005");
	cr_assert_eq(back->nlabels, 2);
	cr_assert_str_eq(back->labels[1], "shop=eu-1");
	cr_assert_str_eq(back->traceparent, TP);
	cr_assert(dc_tx_has_label(back, "sku=gift-card"));
	cr_assert(!back->steps[0].forced);
	cr_assert(back->steps[1].forced);
	cr_assert_eq(dc_log_batch_create(&b), DTX_OK);
	cr_assert_eq(dc_log_batch_add_event(b, "e1", 0, &ev), DTX_OK);
	cr_assert_eq(dc_log_commit(log, b), DTX_OK);
	dc_log_batch_destroy(b);
	cr_assert_eq(dc_log_read_events(log, "e1", edit_fn, &seen), DTX_OK);
	cr_assert_eq(seen, 1);
	dc_tx_destroy(tx);
	dc_tx_destroy(back);
	dc_log_close(log);
}

/* ---- dirty steps ---- */

Test(log, a_dirty_bit_rewrites_only_that_step)
{
	dc_log_batch *b = NULL;
	dc_tx *tx = make_tx("t", 3, DC_TX_RUNNING), *got;
	dc_log *log = open_log();

	commit_one(log, tx, UINT64_MAX);
	tx->steps[1].state = DC_STEP_COMPENSATED;
	tx->steps[2].state = DC_STEP_FAILED;
	tx->updated_unix_ms = 99;
	cr_assert_eq(dc_log_batch_create(&b), DTX_OK);
	cr_assert_eq(dc_log_batch_put_tx(b, tx, UINT64_C(1) << 1), DTX_OK);
	/* tx, step 1: its active entry was written with it whole */
	cr_assert_eq(dc_log_batch_len(b), 2);
	cr_assert_eq(dc_log_commit(log, b), DTX_OK);
	dc_log_batch_destroy(b);

	got = load(log, "t");
	cr_assert_eq(got->updated_unix_ms, 99);
	cr_assert_eq(got->steps[0].state, DC_STEP_DONE);
	cr_assert_eq(got->steps[1].state, DC_STEP_COMPENSATED);
	cr_assert_eq(got->steps[2].state, DC_STEP_DONE); /* not rewritten */
	dc_tx_destroy(got);
	dc_tx_destroy(tx);
	dc_log_close(log);
}

Test(log, bit_63_covers_every_step_from_63_on)
{
	dc_log_batch *b = NULL;
	dc_tx *tx = make_tx("wide", 66, DC_TX_RUNNING);

	cr_assert_eq(dc_log_batch_create(&b), DTX_OK);
	cr_assert_eq(dc_log_batch_put_tx(b, tx, UINT64_C(1) << 63), DTX_OK);
	cr_assert_eq(dc_log_batch_len(b), 1 + 3); /* tx, 63..65 */
	dc_log_batch_reset(b);
	cr_assert_eq(dc_log_batch_len(b), 0);
	cr_assert_eq(dc_log_batch_put_tx(b, tx, UINT64_MAX), DTX_OK);
	cr_assert_eq(dc_log_batch_len(b), 2 + 66); /* tx, active, steps */
	dc_log_batch_destroy(b);
	dc_tx_destroy(tx);
}

Test(log, a_batch_is_a_snapshot_of_the_tx)
{
	dc_log_batch *b = NULL;
	dc_tx *tx = make_tx("snap", 1, DC_TX_RUNNING), *got;
	dc_log *log = open_log();

	cr_assert_eq(dc_log_batch_create(&b), DTX_OK);
	cr_assert_eq(dc_log_batch_put_tx(b, tx, UINT64_MAX), DTX_OK);
	tx->steps[0].state = DC_STEP_FAILED; /* after put: not in the batch */
	cr_assert_eq(dc_log_commit(log, b), DTX_OK);
	got = load(log, "snap");
	cr_assert_eq(got->steps[0].state, DC_STEP_DONE);
	dc_tx_destroy(got);
	dc_log_batch_destroy(b);
	dc_tx_destroy(tx);
	dc_log_close(log);
}

/* ---- gid floor ---- */

Test(log, gid_floor_round_trips_across_reopen)
{
	dc_log_batch *b = NULL;
	uint64_t id = 1;
	dc_log *log = open_log();

	cr_assert_eq(dc_log_gid_floor(log, &id), DTX_OK);
	cr_assert_eq(id, 0);
	cr_assert_eq(dc_log_batch_create(&b), DTX_OK);
	cr_assert_eq(
	        dc_log_batch_set_gid_floor(b, UINT64_C(0x0123456789abcdef)),
	        DTX_OK);
	cr_assert_eq(dc_log_commit(log, b), DTX_OK);
	dc_log_batch_destroy(b);
	dc_log_close(log);
	log = open_log();
	cr_assert_eq(dc_log_gid_floor(log, &id), DTX_OK);
	cr_assert_eq(id, UINT64_C(0x0123456789abcdef));
	dc_log_close(log);
}

/* ---- damaged files ---- */

Test(log, garbage_data_file_is_corrupt_and_left_untouched)
{
	static uint8_t junk[64 * 1024], after[sizeof(junk) + 1];
	char err[256] = "";
	ssize_t n;
	int fd;

	memset(junk, 0x5A, sizeof(junk));
	cr_assert_eq(mkdir(g_dir, 0755), 0);
	fd = open(g_data, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);

	cr_assert_eq(try_open(false, err, sizeof(err)), DTX_ECORRUPT);
	cr_assert_not_null(strstr(err, g_data), "message: %s", err);
	cr_assert_eq(try_open(true, err, sizeof(err)), DTX_ECORRUPT);

	fd = open(g_data, O_RDONLY);
	cr_assert_geq(fd, 0);
	n = read(fd, after, sizeof(after));
	close(fd);
	cr_assert_eq(n, (ssize_t)sizeof(junk), "size changed: %zd", n);
	cr_assert_eq(memcmp(junk, after, sizeof(junk)), 0);
}

Test(log, lmdb_file_of_another_program_is_not_a_dtx_log)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	char hello[] = "hello", world[] = "world";
	MDB_val k = {5, hello}, v = {5, world};
	char err[256] = "";

	cr_assert_eq(mkdir(g_dir, 0755), 0);
	env = raw_env();
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	cr_assert_eq(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
	cr_assert_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	cr_assert_eq(try_open(false, err, sizeof(err)), DTX_ECORRUPT);
	cr_assert_not_null(strstr(err, "not a dtx log"), "message: %s", err);
}

Test(log, flipped_payload_byte_is_corrupt_on_load_and_in_check)
{
	dc_tx *tx = make_tx("flip", 2, DC_TX_RUNNING), *got = NULL;
	uint8_t key[DTX_GID_MAX + 5];
	uint64_t records = 0, bad = 0;
	char err[256] = "";
	dc_log *log = open_log();

	commit_one(log, tx, UINT64_MAX);
	dc_log_close(log);
	raw_update("steps", key, step_key(key, "flip", 1), NULL, 0, 0x01);

	log = open_log();
	cr_assert_eq(dc_log_load_tx(log, "flip", &got), DTX_ECORRUPT);
	cr_assert_null(got);
	cr_assert_not_null(strstr(dc_log_last_error(log), "table steps"), "%s",
	                   dc_log_last_error(log));
	cr_assert_not_null(strstr(dc_log_last_error(log), "\"flip\"#1"));
	cr_assert_not_null(strstr(dc_log_last_error(log), g_data));
	cr_assert_eq(dc_log_check(log, &records, &bad, err, sizeof(err)),
	             DTX_OK);
	/* format, counts, tx, 2 steps, active */
	cr_assert_eq(records, 2 + 1 + 2 + 1);
	cr_assert_eq(bad, 1);
	cr_assert_not_null(strstr(err, "CRC"), "%s", err);
	cr_assert_eq(dc_log_scan_active(log, collect_fn, &(collect){0}),
	             DTX_ECORRUPT);
	dc_tx_destroy(tx);
	dc_log_close(log);
}

Test(log, missing_step_record_is_corrupt)
{
	dc_tx *tx = make_tx("gap", 3, DC_TX_RUNNING), *got = NULL;
	uint8_t key[DTX_GID_MAX + 5];
	dc_log *log = open_log();

	commit_one(log, tx, UINT64_MAX);
	dc_log_close(log);
	raw_update("steps", key, step_key(key, "gap", 1), NULL, 0, 0);
	log = open_log();
	cr_assert_eq(dc_log_load_tx(log, "gap", &got), DTX_ECORRUPT);
	cr_assert_not_null(strstr(dc_log_last_error(log), "\"gap\"#1"), "%s",
	                   dc_log_last_error(log));
	dc_tx_destroy(tx);
	dc_log_close(log);
}

/* ---- checked reads and the quarantine ---- */

/* A checked-scan collector: the loaded ones in c, the bad ones here. */
typedef struct bad_collect {
	collect ok;
	size_t nbad;
	dc_log_bad first;
} bad_collect;

static int bad_ok_fn(void *arg, dc_tx *tx)
{
	return collect_fn(&((bad_collect *)arg)->ok, tx);
}

static int bad_fn(void *arg, const dc_log_bad *bad)
{
	bad_collect *c = arg;

	if (c->nbad++ == 0)
		c->first = *bad;
	return DTX_OK;
}

static void commit_three(dc_log *log)
{
	const char *gids[] = {"q-a", "q-b", "q-c"};

	for (int i = 0; i < 3; i++) {
		dc_tx *tx = make_tx(gids[i], 2, DC_TX_RUNNING);
		commit_one(log, tx, UINT64_MAX);
		dc_tx_destroy(tx);
	}
}

Test(log, checked_scan_reports_a_bad_transaction_and_goes_on)
{
	uint8_t key[DTX_GID_MAX + 5];
	bad_collect c = {0};
	dc_log *log = open_log();

	commit_three(log);
	dc_log_close(log);
	raw_update("steps", key, step_key(key, "q-b", 1), NULL, 0, 0x01);
	log = open_log();
	cr_assert_eq(
	        dc_log_scan_checked(log, false, NULL, bad_ok_fn, bad_fn, &c),
	        DTX_OK);
	cr_assert_eq(c.ok.n, 2);
	cr_assert_str_eq(c.ok.gids[0], "q-a");
	cr_assert_str_eq(c.ok.gids[1], "q-c");
	cr_assert_eq(c.nbad, 1);
	cr_assert_eq(c.first.err, DTX_ECORRUPT);
	cr_assert_not(c.first.quarantined);
	cr_assert_str_eq(c.first.gid, "q-b");
	cr_assert_not_null(strstr(c.first.why, "table steps"), "%s",
	                   c.first.why);
	cr_assert_not_null(strstr(c.first.why, "CRC"), "%s", c.first.why);
	/* the strict scan still stops there */
	cr_assert_eq(dc_log_scan_active(log, collect_fn, &(collect){0}),
	             DTX_ECORRUPT);
	dc_log_close(log);
}

Test(log, an_active_entry_without_a_tx_record_is_a_bad_transaction)
{
	bad_collect c = {0};
	dc_log *log = open_log();

	commit_three(log);
	dc_log_close(log);
	raw_update("txs", "q-c", 3, NULL, 0, 0);
	log = open_log();
	cr_assert_eq(
	        dc_log_scan_checked(log, false, NULL, bad_ok_fn, bad_fn, &c),
	        DTX_OK);
	cr_assert_eq(c.ok.n, 2);
	cr_assert_eq(c.nbad, 1);
	cr_assert_str_eq(c.first.gid, "q-c");
	cr_assert_not_null(strstr(c.first.why, "without a tx record"), "%s",
	                   c.first.why);
	dc_log_close(log);
}

Test(log, a_quarantined_gid_is_reported_from_the_quarantine_table)
{
	dc_log_batch *b = NULL;
	dc_log_bad bad, got;
	uint64_t records = 0, nbad = 1;
	char err[256];
	dc_tx *tx = NULL;
	bad_collect c = {0};
	dc_log *log = open_log();

	commit_three(log);
	dc_log_bad_set(&bad, "q-b", DTX_ECORRUPT, "an operator must look");
	cr_assert_eq(dc_log_batch_create(&b), DTX_OK);
	cr_assert_eq(dc_log_batch_quarantine(b, &bad, 1700000000999), DTX_OK);
	cr_assert_eq(dc_log_commit(log, b), DTX_OK);
	dc_log_batch_destroy(b);
	dc_log_close(log);

	log = open_log_opts(0, 0, true); /* what dtxctl sees */
	cr_assert_eq(dc_log_load_tx_checked(log, "q-b", &tx, &got),
	             DTX_ECORRUPT);
	cr_assert(got.quarantined);
	cr_assert_eq(got.since_unix_ms, 1700000000999);
	cr_assert_str_eq(got.why, "an operator must look");
	cr_assert_eq(dc_log_load_tx_checked(log, "q-a", &tx, &got), DTX_OK);
	cr_assert_eq(got.err, 0);
	dc_tx_destroy(tx);
	cr_assert_eq(
	        dc_log_scan_checked(log, true, NULL, bad_ok_fn, bad_fn, &c),
	        DTX_OK);
	cr_assert_eq(c.ok.n, 2);
	cr_assert_eq(c.nbad, 1);
	cr_assert(c.first.quarantined);
	cr_assert_eq(dc_log_check(log, &records, &nbad, err, sizeof(err)),
	             DTX_OK);
	cr_assert_eq(nbad, 0, "%s", err);
	cr_assert_eq(records, 2 + 3 + 6 + 3 + 1); /* ..., quarantine */
	dc_log_close(log);
}

Test(log, salvage_keeps_what_decodes_of_a_bad_transaction)
{
	uint8_t key[DTX_GID_MAX + 5];
	dc_log_bad bad;
	dc_tx *tx = NULL;
	dc_log *log = open_log();

	commit_three(log);
	dc_log_close(log);
	raw_update("steps", key, step_key(key, "q-b", 0), NULL, 0, 0x01);
	log = open_log();
	cr_assert_eq(dc_log_salvage_tx(log, "q-b", &tx, &bad), DTX_OK);
	cr_assert_eq(bad.err, DTX_ECORRUPT);
	cr_assert_not_null(strstr(bad.why, "\"q-b\"#0"), "%s", bad.why);
	cr_assert_str_eq(tx->gid, "q-b");
	cr_assert_eq(tx->mode, DC_MODE_SAGA);
	cr_assert_eq(tx->state, DC_TX_RUNNING);
	cr_assert_eq(tx->nsteps, 2);
	cr_assert_eq((int)tx->steps[0].state, 0); /* unreadable */
	cr_assert_null(tx->steps[0].url);
	cr_assert_eq(tx->steps[1].state, DC_STEP_DONE);
	cr_assert_str_eq(tx->steps[1].action, "svc1.act");
	dc_tx_destroy(tx);
	cr_assert_eq(dc_log_salvage_tx(log, "q-a", &tx, &bad), DTX_OK);
	cr_assert_eq(bad.err, 0);
	dc_tx_destroy(tx);
	cr_assert_eq(dc_log_salvage_tx(log, "nope", &tx, &bad), DTX_ENOENT);
	dc_log_close(log);
}

Test(log, clean_log_checks_with_no_bad_records)
{
	dc_tx *a, *b;
	uint64_t records = 0, bad = 1;
	char err[256];
	dc_log *log = open_log();

	make_pair(&a, &b);
	commit_one(log, a, UINT64_MAX);
	commit_one(log, b, UINT64_MAX);
	cr_assert_eq(dc_log_check(log, &records, &bad, err, sizeof(err)),
	             DTX_OK);
	cr_assert_eq(bad, 0, "%s", err);
	/* format and counts, 2 txs, 5 steps, 1 active, 1 final indexed */
	cr_assert_eq(records, 2 + 2 + 5 + 1 + 1);
	dc_tx_destroy(a);
	dc_tx_destroy(b);
	dc_log_close(log);
}

Test(log, newer_format_version_is_refused)
{
	uint8_t v2[4] = {DC_LOG_FORMAT_VERSION + 1, 0, 0, 0};
	char err[256] = "";

	dc_log_close(open_log());
	raw_update("meta", "format", 6, v2, sizeof(v2), 0);
	cr_assert_eq(try_open(false, err, sizeof(err)), DTX_EVERSION);
	cr_assert_not_null(strstr(err, "newer"), "message: %s", err);
	cr_assert_eq(try_open(true, err, sizeof(err)), DTX_EVERSION);
}

Test(log, missing_format_key_is_corrupt)
{
	char err[256] = "";

	dc_log_close(open_log());
	raw_update("meta", "format", 6, NULL, 0, 0);
	cr_assert_eq(try_open(false, err, sizeof(err)), DTX_ECORRUPT);
	cr_assert_not_null(strstr(err, "format"), "message: %s", err);
}

/* ---- map full ---- */

static void fill_batch(dc_log_batch *b, int round)
{
	char gid[32];

	dc_log_batch_reset(b);
	for (int i = 0; i < 8; i++) {
		dc_tx *tx;

		snprintf(gid, sizeof(gid), "big-%03d-%d", round, i);
		tx = make_tx(gid, 1, DC_TX_RUNNING);
		free(tx->steps[0].payload);
		tx->steps[0].payload = calloc(1, 3000);
		tx->steps[0].payload_len = 3000;
		cr_assert_eq(dc_log_batch_put_tx(b, tx, UINT64_MAX), DTX_OK);
		dc_tx_destroy(tx);
	}
}

Test(log, map_full_is_elimit_and_grow_lets_the_same_batch_commit)
{
	dc_log_batch *b = NULL;
	dc_tx *tx = NULL;
	dc_log *log = open_log_opts(256 * 1024, 1024 * 1024, false);
	int rc = DTX_OK, round;
	char gid[32];

	cr_assert_eq(dc_log_batch_create(&b), DTX_OK);
	for (round = 0; round < 200 && rc == DTX_OK; round++) {
		fill_batch(b, round);
		rc = dc_log_commit(log, b);
	}
	round--;
	cr_assert_eq(rc, DTX_ELIMIT, "rc %d: %s", rc, dc_log_last_error(log));
	cr_log_info("map of 256 KiB full after %d batches", round);
	/* Earlier batches are there; nothing of the failed one is. */
	dc_tx_destroy(load(log, "big-000-0"));
	snprintf(gid, sizeof(gid), "big-%03d-0", round);
	cr_assert_eq(dc_log_load_tx(log, gid, &tx), DTX_ENOENT);
	cr_assert_eq(dc_log_grow(log), DTX_OK); /* 256 KiB -> 512 KiB */
	cr_assert_eq(dc_log_commit(log, b), DTX_OK, "%s",
	             dc_log_last_error(log));
	tx = load(log, gid);
	cr_assert_eq(tx->steps[0].payload_len, 3000);
	dc_tx_destroy(tx);
	cr_assert_eq(dc_log_grow(log), DTX_OK);     /* 512 KiB -> 1 MiB */
	cr_assert_eq(dc_log_grow(log), DTX_ELIMIT); /* at the maximum */
	dc_log_batch_destroy(b);
	dc_log_close(log);
}

Test(log, grown_map_is_not_shrunk_by_reopen)
{
	dc_log_batch *b = NULL;
	dc_log *log = open_log_opts(256 * 1024, 0, false);
	int rc = DTX_OK;

	cr_assert_eq(dc_log_batch_create(&b), DTX_OK);
	for (int round = 0; round < 200 && rc == DTX_OK; round++) {
		fill_batch(b, round);
		rc = dc_log_commit(log, b);
		if (rc == DTX_ELIMIT) {
			cr_assert_eq(dc_log_grow(log), DTX_OK);
			rc = dc_log_commit(log, b);
		}
		cr_assert_eq(rc, DTX_OK);
	}
	dc_log_close(log);
	/* Reopen with the small initial size: the data still fits and the
	 * next batch commits. */
	log = open_log_opts(256 * 1024, 0, false);
	fill_batch(b, 999);
	cr_assert_eq(dc_log_commit(log, b), DTX_OK, "%s",
	             dc_log_last_error(log));
	dc_log_batch_destroy(b);
	dc_log_close(log);
}

/* ---- read-only ---- */

Test(log, read_only_open_reads_what_a_live_writer_wrote)
{
	int ready[2], done[2];
	dc_tx *tx = make_tx("ro-1", 2, DC_TX_RUNNING), *got;
	dc_log_batch *b = NULL;
	dc_log *r;
	char c = 0;
	int status;
	pid_t pid;

	cr_assert_eq(pipe(ready), 0);
	cr_assert_eq(pipe(done), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dc_log *w = open_log();

		commit_one(w, tx, UINT64_MAX);
		if (write(ready[1], "r", 1) != 1 || read(done[0], &c, 1) != 1)
			_exit(1);
		dc_log_close(w);
		dc_tx_destroy(tx);
		_exit(0);
	}
	cr_assert_eq(read(ready[0], &c, 1), 1);
	r = open_log_opts(0, 0, true);
	got = load(r, "ro-1");
	assert_tx_eq(got, tx);
	dc_tx_destroy(got);
	cr_assert_eq(dc_log_batch_create(&b), DTX_OK);
	cr_assert_eq(dc_log_batch_put_tx(b, tx, 0), DTX_OK);
	cr_assert_eq(dc_log_commit(r, b), DTX_EINVAL);
	dc_log_batch_destroy(b);
	dc_log_close(r);
	cr_assert_eq(write(done[1], "d", 1), 1);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	dc_tx_destroy(tx);
}

Test(log, read_only_open_of_a_missing_log_fails_without_creating_it)
{
	char err[256] = "";
	struct stat st;

	cr_assert_eq(try_open(true, err, sizeof(err)), DTX_ENOENT, "%s", err);
	cr_assert_neq(stat(g_dir, &st), 0);
}

/* ---- scale ---- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(log, scan_loads_ten_thousand_active_transactions, .timeout = 60)
{
	const char *env = getenv("DTX_LOG_SCAN_N");
	size_t n = env ? strtoul(env, NULL, 10) : 10000;
	dc_log_batch *b = NULL;
	collect c = {.ordered = true};
	dc_log *log = open_log_opts((size_t)1 << 30, 0, false);
	double t0;
	char gid[32];

	cr_assert_eq(dc_log_batch_create(&b), DTX_OK);
	for (size_t i = 0; i < n; i++) {
		dc_tx *tx;

		snprintf(gid, sizeof(gid), "tx-%08zu", i);
		tx = make_tx(gid, 3, DC_TX_RUNNING);
		cr_assert_eq(dc_log_batch_put_tx(b, tx, UINT64_MAX), DTX_OK);
		dc_tx_destroy(tx);
		if ((i + 1) % 1000 == 0 || i + 1 == n) {
			cr_assert_eq(dc_log_commit(log, b), DTX_OK);
			dc_log_batch_reset(b);
		}
	}
	dc_log_batch_destroy(b);
	t0 = now_s();
	cr_assert_eq(dc_log_scan_active(log, collect_fn, &c), DTX_OK);
	cr_log_info("scan of %zu active txs (3 steps each): %.3f s", n,
	            now_s() - t0);
	cr_assert_eq(c.n, n);
	cr_assert(c.ordered);
	dc_log_close(log);
}

/* ---- retention: prune, tombstones, counts ---- */

/* commit_final commits a final saga gid of 2 steps that became final at
 * final_ms, with 3 timeline lines. */
static void commit_final(dc_log *log, const char *gid, int64_t final_ms,
                         dc_tx_state state)
{
	dc_log_batch *b = NULL;
	dc_tx *tx = make_tx(gid, 2, state);

	tx->updated_unix_ms = final_ms;
	cr_assert_eq(dc_log_batch_create(&b), DTX_OK);
	cr_assert_eq(dc_log_batch_put_tx(b, tx, UINT64_MAX), DTX_OK);
	for (uint32_t i = 0; i < 3; i++)
		add_event(b, gid, i, -1, "line");
	cr_assert_eq(dc_log_commit(log, b), DTX_OK);
	dc_log_batch_destroy(b);
	dc_tx_destroy(tx);
}

static dc_log_pruned prune(dc_log *log, int64_t final_before, uint32_t max,
                           int64_t tomb_before)
{
	dc_log_prune p = {.now_unix_ms = 1800000000000,
	                  .final_before_ms = final_before,
	                  .max_final = max,
	                  .tomb_before_ms = tomb_before,
	                  .max_tombs = max};
	dc_log_pruned r;
	dc_log_batch *b = NULL;

	cr_assert_eq(dc_log_batch_create(&b), DTX_OK);
	cr_assert_eq(dc_log_commit_prune(log, b, &p, &r), DTX_OK, "%s",
	             dc_log_last_error(log));
	dc_log_batch_destroy(b);
	return r;
}

static int count_event(void *arg, uint32_t seq, const dc_log_event *ev)
{
	(void)seq;
	(void)ev;
	(*(size_t *)arg)++;
	return DTX_OK;
}

static size_t events_of(dc_log *log, const char *gid)
{
	size_t n = 0;

	cr_assert_eq(dc_log_read_events(log, gid, count_event, &n), DTX_OK);
	return n;
}

static dc_log_counts counts(dc_log *log)
{
	dc_log_counts c;

	cr_assert_eq(dc_log_counts_read(log, &c), DTX_OK, "%s",
	             dc_log_last_error(log));
	return c;
}

Test(log, prune_replaces_old_final_transactions_by_tombstones)
{
	dc_log *log = open_log();
	dc_tx *tx = make_tx("run", 2, DC_TX_RUNNING);
	dc_log_pruned r;
	uint64_t records, bad;
	char err[256];

	commit_one(log, tx, UINT64_MAX);
	dc_tx_destroy(tx);
	commit_final(log, "a", 1000, DC_TX_COMMITTED);
	commit_final(log, "b", 2000, DC_TX_COMPENSATED);
	commit_final(log, "c", 3000, DC_TX_COMMITTED);

	r = prune(log, 2500, 100, 0);
	cr_assert_eq(r.pruned, 2);
	cr_assert_not(r.more_final);
	tx = load(log, "b");
	cr_assert_eq(tx->state, DC_TX_COMPENSATED);
	cr_assert_eq(tx->mode, DC_MODE_SAGA);
	cr_assert_eq(tx->nsteps, 0);
	cr_assert_eq(tx->updated_unix_ms, 2000); /* the final time */
	cr_assert_eq(tx->created_unix_ms, 1700000000123);
	cr_assert_eq(tx->pruned_unix_ms, 1800000000000);
	dc_tx_destroy(tx);
	cr_assert_eq(events_of(log, "a"), 0);
	cr_assert_eq(events_of(log, "c"), 3);
	tx = load(log, "c");
	cr_assert_eq(tx->nsteps, 2);
	cr_assert_eq(tx->pruned_unix_ms, 0);
	dc_tx_destroy(tx);
	tx = load(log, "run"); /* a running one is never pruned */
	cr_assert_eq(tx->nsteps, 2);
	dc_tx_destroy(tx);
	cr_assert_eq(dc_log_check(log, &records, &bad, err, sizeof(err)),
	             DTX_OK);
	cr_assert_eq(bad, 0, "%s", err);
	dc_log_close(log);
}

/* A probe answers for many gids at once what a load would find first:
 * whether the log holds anything under each - a tx record, a tombstone,
 * a quarantine entry - or nothing (the reader's batched submits). */
Test(log, a_probe_knows_records_tombstones_and_quarantined_gids)
{
	const char *gids[] = {"run", "a", "q", "nope", "c"};
	bool known[DC_LOG_PROBE_MAX], want[5] = {true, true, true, false, true};
	const char *many[DC_LOG_PROBE_MAX + 1];
	dc_log *log = open_log();
	dc_tx *tx = make_tx("run", 2, DC_TX_RUNNING);
	dc_log_batch *b = NULL;
	dc_log_bad bad;

	commit_one(log, tx, UINT64_MAX);
	dc_tx_destroy(tx);
	commit_final(log, "a", 1000, DC_TX_COMMITTED);
	commit_final(log, "c", 3000, DC_TX_COMMITTED);
	cr_assert_eq(prune(log, 2500, 100, 0).pruned, 1); /* a: tombstone */
	dc_log_bad_set(&bad, "q", DTX_ECORRUPT, "no records, only this");
	cr_assert_eq(dc_log_batch_create(&b), DTX_OK);
	cr_assert_eq(dc_log_batch_quarantine(b, &bad, 1700000000999), DTX_OK);
	cr_assert_eq(dc_log_commit(log, b), DTX_OK);
	dc_log_batch_destroy(b);

	cr_assert_eq(dc_log_probe_gids(log, gids, 5, known), DTX_OK, "%s",
	             dc_log_last_error(log));
	for (int i = 0; i < 5; i++)
		cr_assert_eq(known[i], want[i], "%s", gids[i]);
	for (int i = 0; i <= DC_LOG_PROBE_MAX; i++)
		many[i] = "nope";
	cr_assert_eq(dc_log_probe_gids(log, many, DC_LOG_PROBE_MAX, known),
	             DTX_OK);
	cr_assert_eq(dc_log_probe_gids(log, many, DC_LOG_PROBE_MAX + 1, known),
	             DTX_EINVAL);
	cr_assert_eq(dc_log_probe_gids(log, many, 0, known), DTX_EINVAL);
	many[0] = "";
	cr_assert_eq(dc_log_probe_gids(log, many, 1, known), DTX_EINVAL);
	dc_log_close(log);
}

Test(log, prune_is_bounded_per_commit_and_says_there_is_more)
{
	dc_log *log = open_log();
	char gid[16];
	dc_log_pruned r;

	for (int i = 0; i < 5; i++) {
		snprintf(gid, sizeof(gid), "g%d", i);
		commit_final(log, gid, 1000 + i, DC_TX_COMMITTED);
	}
	r = prune(log, 5000, 2, 0);
	cr_assert_eq(r.pruned, 2);
	cr_assert(r.more_final);
	r = prune(log, 5000, 2, 0);
	cr_assert_eq(r.pruned, 2);
	cr_assert(r.more_final);
	r = prune(log, 5000, 2, 0);
	cr_assert_eq(r.pruned, 1);
	cr_assert_not(r.more_final);
	r = prune(log, 5000, 2, 0);
	cr_assert_eq(r.pruned, 0);
	cr_assert_eq(counts(log).tombstones, 5);
	dc_log_close(log);
}

/* raw_count returns how many keys table holds (the log closed). */
static size_t raw_count(const char *table)
{
	MDB_env *env = raw_env();
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_stat st;

	cr_assert_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	cr_assert_eq(mdb_dbi_open(txn, table, 0, &dbi), 0);
	cr_assert_eq(mdb_stat(txn, dbi, &st), 0);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return st.ms_entries;
}

Test(log, prune_acts_once_per_gid_and_drops_a_bad_index_key)
{
	static const uint8_t bad[4] = {0, 0, 0, 1}; /* no room for a gid */
	dc_log *log = open_log();
	dc_log_counts c;
	dc_log_pruned r;

	commit_final(log, "a", 1000, DC_TX_COMMITTED);
	commit_final(log, "a", 1500, DC_TX_COMMITTED); /* indexed twice */
	commit_final(log, "b", 1200, DC_TX_COMPENSATED);
	dc_log_close(log);
	raw_update("finals", bad, sizeof(bad), "", 0, 0);
	cr_assert_eq(raw_count("finals"), 4);

	log = open_log();
	r = prune(log, 2000, 100, 0);
	cr_assert_eq(r.pruned, 2, "a once, b once: %u", (unsigned)r.pruned);
	c = counts(log);
	cr_assert_eq(c.tombstones, 2);
	cr_assert_eq(c.pruned, 2);
	cr_assert_eq(c.by_state[DC_MODE_SAGA][DC_TX_COMMITTED], 0);
	cr_assert_eq(c.by_state[DC_MODE_SAGA][DC_TX_COMPENSATED], 0);
	dc_log_close(log);
	cr_assert_eq(raw_count("finals"), 0, "every due entry is gone");
	cr_assert_eq(raw_count("tombstones"), 2);
	cr_assert_eq(raw_count("tomb_times"), 2);
}

Test(log, tombstones_expire_and_the_gid_becomes_unknown)
{
	dc_log *log = open_log();
	dc_tx *tx = NULL;
	dc_log_pruned r;

	commit_final(log, "a", 1000, DC_TX_COMMITTED);
	r = prune(log, 2000, 10, 1800000000000); /* made now: not due yet */
	cr_assert_eq(r.pruned, 1);
	cr_assert_eq(r.expired, 0);
	r = prune(log, 2000, 10, 1800000000001);
	cr_assert_eq(r.expired, 1);
	cr_assert_eq(dc_log_load_tx(log, "a", &tx), DTX_ENOENT);
	cr_assert_eq(counts(log).tombstones, 0);
	cr_assert_eq(counts(log).pruned, 1);
	dc_log_close(log);
}

Test(log, counts_follow_every_commit_and_prune)
{
	dc_log *log = open_log();
	dc_tx *tx = make_tx("x", 2, DC_TX_RUNNING);
	dc_log_counts c;

	commit_one(log, tx, UINT64_MAX);
	c = counts(log);
	cr_assert_eq(c.by_state[DC_MODE_SAGA][DC_TX_RUNNING], 1);
	tx->state = DC_TX_COMMITTED;
	commit_one(log, tx, 0);
	dc_tx_destroy(tx);
	c = counts(log);
	cr_assert_eq(c.by_state[DC_MODE_SAGA][DC_TX_RUNNING], 0);
	cr_assert_eq(c.by_state[DC_MODE_SAGA][DC_TX_COMMITTED], 1);
	prune(log, INT64_MAX, 10, 0);
	c = counts(log);
	cr_assert_eq(c.by_state[DC_MODE_SAGA][DC_TX_COMMITTED], 0);
	cr_assert_eq(c.tombstones, 1);
	cr_assert_eq(c.pruned, 1);
	dc_log_close(log);
	log = open_log_opts(0, 0, true); /* a reader sees the same counts */
	c = counts(log);
	cr_assert_eq(c.tombstones, 1);
	dc_log_close(log);
}

/* put_state adds tx, in state st, to b. */
static void put_state(dc_log_batch *b, dc_tx *tx, dc_tx_state st)
{
	tx->state = st;
	cr_assert_eq(dc_log_batch_put_tx(b, tx, UINT64_MAX), DTX_OK);
}

/* commit_many commits, in one batch: txs n0 .. n1 - 1 in state st (more
 * than one read of many keys), with tx "twice" put in states a, then b
 * (the second put replaces the batch's own first). */
static void commit_many(dc_log *log, int n0, int n1, dc_tx_state st,
                        dc_tx_state a, dc_tx_state b)
{
	dc_log_batch *bt = NULL;
	dc_tx *tx = make_tx("twice", 1, a);
	char gid[16];

	cr_assert_eq(dc_log_batch_create(&bt), DTX_OK);
	put_state(bt, tx, a);
	for (int i = n0; i < n1; i++) {
		dc_tx *t;

		snprintf(gid, sizeof(gid), "m%05d", i);
		t = make_tx(gid, 1, st);
		put_state(bt, t, st);
		dc_tx_destroy(t);
	}
	put_state(bt, tx, b);
	dc_tx_destroy(tx);
	cr_assert_eq(dc_log_commit(log, bt), DTX_OK, "%s",
	             dc_log_last_error(log));
	dc_log_batch_destroy(bt);
}

Test(log, counts_of_big_batches_that_rewrite_a_transaction_match_a_recount)
{
	dc_log *log = open_log();
	dc_log_counts c, re;

	commit_many(log, 0, 1500, DC_TX_RUNNING, DC_TX_RUNNING,
	            DC_TX_COMPENSATING);
	c = counts(log);
	cr_assert_eq(c.by_state[DC_MODE_SAGA][DC_TX_RUNNING], 1500);
	cr_assert_eq(c.by_state[DC_MODE_SAGA][DC_TX_COMPENSATING], 1);
	/* 1,000 of them again, and 1,000 new: "twice" moves on twice more */
	commit_many(log, 500, 2500, DC_TX_COMMITTED, DC_TX_COMPENSATED,
	            DC_TX_COMMITTED);
	c = counts(log);
	cr_assert_eq(c.by_state[DC_MODE_SAGA][DC_TX_RUNNING], 500);
	cr_assert_eq(c.by_state[DC_MODE_SAGA][DC_TX_COMMITTED], 2001);
	cr_assert_eq(c.by_state[DC_MODE_SAGA][DC_TX_COMPENSATING], 0);
	cr_assert_eq(c.by_state[DC_MODE_SAGA][DC_TX_COMPENSATED], 0);
	dc_log_close(log);
	/* What a count of the records from scratch gives (no counts: the
	 * next writer counts at open) is what the commits kept. */
	raw_update("meta", "counts", 6, NULL, 0, 0);
	log = open_log();
	re = counts(log);
	cr_assert_eq(memcmp(re.by_state, c.by_state, sizeof(c.by_state)), 0,
	             "counts kept by the commits differ from a recount");
	dc_log_close(log);
}

Test(log, a_log_without_counts_is_counted_and_indexed_at_open)
{
	dc_log *log = open_log();
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;

	commit_final(log, "old", 1000, DC_TX_COMMITTED);
	dc_log_close(log);
	/* make it look like a log of an older build: no counts, no index */
	raw_update("meta", "counts", 6, NULL, 0, 0);
	env = raw_env();
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	cr_assert_eq(mdb_dbi_open(txn, "finals", 0, &dbi), 0);
	cr_assert_eq(mdb_drop(txn, dbi, 1), 0);
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	log = open_log();
	cr_assert_eq(counts(log).by_state[DC_MODE_SAGA][DC_TX_COMMITTED], 1);
	cr_assert_eq(prune(log, 2000, 10, 0).pruned, 1);
	dc_log_close(log);
}

Test(log, usage_counts_pages_in_use_up_to_the_maximum)
{
	dc_log *log = open_log_opts(1 << 20, 4 << 20, false);
	dc_log_usage u;

	commit_final(log, "a", 1000, DC_TX_COMMITTED);
	cr_assert_eq(dc_log_usage_read(log, &u), DTX_OK);
	cr_assert_gt(u.used_bytes, 0);
	cr_assert_leq(u.used_bytes, u.file_bytes);
	cr_assert_eq(u.max_bytes, 4 << 20);
	dc_log_close(log);
}
