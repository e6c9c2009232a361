/*
 * kv_test.c - the conformance suite of the store interface (kv.h): the
 * same cases on every backend, through kv.h only.
 *
 * Built twice (tests/meson.build): kv_test runs on LMDB in a fresh
 * temporary directory per test (suite unit); kv_pg_test, built with
 * KV_TEST_PG, runs on a real PostgreSQL 15 - one throw-away cluster per
 * test binary started by its main (tests/support/pgtmp.h), one fresh
 * database per test, so tests run in parallel (suite postgres). The
 * PostgreSQL build adds the cases only a server has: a URI that does not
 * connect, a role without rights, a newer schema, a schema on the
 * search_path, and a server that dies under an open store (on a cluster
 * of its own).
 *
 * LMDB runs with no_sync (STYLE.md: unit tests only); PostgreSQL runs as
 * in production (fsync and synchronous_commit on).
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <dtx/dtx.h>

#include "kv.h"

#ifdef KV_TEST_PG
#include <errno.h>
#include <pwd.h>
#include <sched.h>
#include <sys/mount.h>

#include "pgtmp.h"
#define SUITE kv_pg
#else
#define SUITE kv_lmdb
#endif

enum { T_ALPHA, T_BETA, T_COUNT };

static const char *const g_tables[] = {"alpha", "beta"};
static char g_where[600]; /* the store: a directory or a URI */

/* ---- fixture ----------------------------------------------------------- */

#ifdef KV_TEST_PG
static const char *admin_uri(void)
{
	const char *a = getenv(PGTMP_ENV_ADMIN);

	cr_assert_not_null(a, "no cluster: run through main (pgtmp)");
	return a;
}

static void admin_sql(const char *db, const char *sql)
{
	char err[512];

	cr_assert_eq(pgtmp_sql(admin_uri(), db, sql, err, sizeof(err)), 0, "%s",
	             err);
}

/* with_path appends the search_path option that puts a store in schema. */
static void with_path(const char *base, const char *schema, char *uri,
                      size_t len)
{
	int n = snprintf(uri, len, "%s%coptions=-csearch_path%%3D%s", base,
	                 strchr(base, '?') ? '&' : '?', schema);

	cr_assert(n > 0 && (size_t)n < len, "URI too long");
}

/* Each test has its own schema of database "dtx" (a database each would
 * cost a CREATE DATABASE, ~1 s on a loaded machine). */
static char g_schema[32];
static char g_base[PGTMP_URI_MAX]; /* database dtx, role dtx, no path */

static void setup(void)
{
	char sql[128];

	snprintf(g_schema, sizeof(g_schema), "t_%ld", (long)getpid());
	snprintf(sql, sizeof(sql), "CREATE SCHEMA %s AUTHORIZATION dtx",
	         g_schema);
	admin_sql("dtx", sql);
	cr_assert_eq(pgtmp_uri_for(admin_uri(), "dtx", PGTMP_ROLE, g_base,
	                           sizeof(g_base)),
	             0);
	with_path(g_base, g_schema, g_where, sizeof(g_where));
}

static void teardown(void)
{
}
#else
static char g_root[64]; /* the test's temporary directory */

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void setup(void)
{
	snprintf(g_root, sizeof(g_root), "/tmp/dtx_kv_test.XXXXXX");
	cr_assert_not_null(mkdtemp(g_root));
	snprintf(g_where, sizeof(g_where), "%s/store", g_root);
}

static void teardown(void)
{
	nftw(g_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
#endif

TestSuite(SUITE, .init = setup, .fini = teardown, .timeout = 120);

/* ---- helpers ----------------------------------------------------------- */

#define V(s) ((dc_kv_val){(s), sizeof(s) - 1})

static int try_open_at(const char *where, bool ro, int readers, dc_kv **ret,
                       bool *ret_fresh, char *err, size_t errlen)
{
	dc_kv_opts o = {.where = where,
	                .tables = g_tables,
	                .ntables = T_COUNT,
	                .read_only = ro,
	                .no_sync = true,
	                .readers = readers};

	return dc_kv_open(&o, ret, ret_fresh, err, errlen);
}

static dc_kv *open_kv(bool ro)
{
	char err[DC_KV_ERR_MAX] = "";
	dc_kv *kv = NULL;
	int rc = try_open_at(g_where, ro, 0, &kv, NULL, err, sizeof(err));

	cr_assert_eq(rc, DTX_OK, "open %s: %s (%s)", g_where, dtx_strerror(rc),
	             err);
	return kv;
}

static dc_kv_txn *begin(dc_kv *kv, bool write)
{
	dc_kv_txn *x = NULL;
	int rc = dc_kv_begin(kv, write, &x);

	cr_assert_eq(rc, DTX_OK, "begin: %s (%s)", dtx_strerror(rc),
	             dc_kv_last_error());
	return x;
}

static void commit(dc_kv_txn *x)
{
	int rc = dc_kv_commit(x);

	cr_assert_eq(rc, DTX_OK, "commit: %s (%s)", dtx_strerror(rc),
	             dc_kv_last_error());
}

static void put(dc_kv_txn *x, int t, dc_kv_val k, dc_kv_val v)
{
	int rc = dc_kv_put(x, t, k, v);

	cr_assert_eq(rc, DTX_OK, "put: %s (%s)", dtx_strerror(rc),
	             dc_kv_last_error());
}

/* put1 writes one key in a transaction of its own. */
static void put1(dc_kv *kv, int t, dc_kv_val k, dc_kv_val v)
{
	dc_kv_txn *x = begin(kv, true);

	put(x, t, k, v);
	commit(x);
}

static void assert_val(dc_kv_val got, dc_kv_val want, const char *what)
{
	cr_assert_eq(got.len, want.len, "%s: %zu bytes, want %zu", what,
	             got.len, want.len);
	cr_assert(want.len == 0 || memcmp(got.data, want.data, want.len) == 0,
	          "%s: other bytes", what);
}

static void assert_get(dc_kv_txn *x, int t, dc_kv_val k, dc_kv_val want)
{
	dc_kv_val v;
	int rc = dc_kv_get(x, t, k, &v);

	cr_assert_eq(rc, DTX_OK, "get: %s (%s)", dtx_strerror(rc),
	             dc_kv_last_error());
	assert_val(v, want, "get");
}

static void assert_absent(dc_kv_txn *x, int t, dc_kv_val k)
{
	dc_kv_val v;
	int rc = dc_kv_get(x, t, k, &v);

	cr_assert_eq(rc, DTX_ENOENT, "get of an absent key: %s (%s)",
	             dtx_strerror(rc), dc_kv_last_error());
}

/* count_keys scans table t from the start and returns how many keys it
 * has, asserting they come in strictly increasing order. */
static int count_keys(dc_kv_txn *x, int t)
{
	dc_kv_cursor *c = NULL;
	dc_kv_val k, v;
	unsigned char prev[512];
	size_t prevlen = 0;
	int n = 0, rc;

	cr_assert_eq(dc_kv_cursor_open(x, t, &c), DTX_OK);
	for (rc = dc_kv_seek(c, NULL, &k, &v); rc == DTX_OK;
	     rc = dc_kv_next(c, &k, &v), n++) {
		size_t m = k.len < prevlen ? k.len : prevlen;
		int cmp = memcmp(prev, k.data, m);

		cr_assert(n == 0 || cmp < 0 || (cmp == 0 && prevlen < k.len),
		          "key #%d out of order", n);
		memcpy(prev, k.data, k.len);
		prevlen = k.len;
	}
	cr_assert_eq(rc, DTX_ENOENT, "scan: %s (%s)", dtx_strerror(rc),
	             dc_kv_last_error());
	dc_kv_cursor_close(c);
	return n;
}

/* ---- order and basic operations ---------------------------------------- */

Test(SUITE, orders_keys_as_unsigned_bytes_shorter_first)
{
	/* Sorted: memcmp, then the shorter first on a common prefix. */
	static const dc_kv_val want[] = {
	        {"\x00", 1},     {"\x00\x00", 2}, {"\x00\x01", 2},
	        {"\x01", 1},     {"a", 1},        {"a\x00", 2},
	        {"ab", 2},       {"b", 1},        {"\x7f", 1},
	        {"\x80", 1},     {"\xfe\xff", 2}, {"\xff", 1},
	        {"\xff\x00", 2}, {"\xff\xff", 2}, {"\xff\xff\xff", 3},
	};
	const size_t n = sizeof(want) / sizeof(want[0]);
	dc_kv *kv = open_kv(false);
	dc_kv_txn *x = begin(kv, true);
	dc_kv_cursor *c = NULL;
	dc_kv_val k, v;
	size_t i;

	for (i = 0; i < n; i++) /* in a scrambled order */
		put(x, T_ALPHA, want[(i * 7) % n], V("v"));
	commit(x);
	x = begin(kv, false);
	cr_assert_eq(dc_kv_cursor_open(x, T_ALPHA, &c), DTX_OK);
	cr_assert_eq(dc_kv_seek(c, NULL, &k, &v), DTX_OK);
	for (i = 0; i < n; i++) {
		assert_val(k, want[i], "key in order");
		cr_assert_eq(dc_kv_next(c, &k, &v),
		             i + 1 < n ? DTX_OK : DTX_ENOENT, "next after #%zu",
		             i);
	}
	dc_kv_cursor_close(c);
	commit(x);
	dc_kv_close(kv);
}

Test(SUITE, gets_puts_dels_and_deletes_ranges)
{
	dc_kv *kv = open_kv(false);
	dc_kv_txn *x = begin(kv, true);

	put(x, T_ALPHA, V("a"), V("1"));
	put(x, T_ALPHA, V("b"), V("2"));
	put(x, T_ALPHA, V("c"), V("3"));
	put(x, T_ALPHA, V("d"), V("4"));
	put(x, T_BETA, V("b"), V("other table"));
	put(x, T_ALPHA, V("e"), V(""));
	commit(x);

	x = begin(kv, true);
	assert_get(x, T_ALPHA, V("b"), V("2"));
	put(x, T_ALPHA, V("b"), V("two"));
	cr_assert_eq(dc_kv_del(x, T_ALPHA, V("a")), DTX_OK);
	cr_assert_eq(dc_kv_del(x, T_ALPHA, V("zz")), DTX_OK,
	             "absent: no error");
	cr_assert_eq(dc_kv_del_range(x, T_ALPHA, V("c"), V("e")), DTX_OK);
	commit(x);

	x = begin(kv, false);
	assert_absent(x, T_ALPHA, V("a"));
	assert_get(x, T_ALPHA, V("b"), V("two"));
	assert_absent(x, T_ALPHA, V("c"));
	assert_absent(x, T_ALPHA, V("d"));
	assert_get(x, T_ALPHA, V("e"), V("")); /* an empty value is a value */
	assert_get(x, T_BETA, V("b"), V("other table"));
	cr_assert_eq(count_keys(x, T_ALPHA), 2);
	commit(x);
	dc_kv_close(kv);
}

Test(SUITE, refuses_empty_and_oversized_keys)
{
	static unsigned char big[512];
	dc_kv *kv = open_kv(false);
	dc_kv_txn *x = begin(kv, true);

	memset(big, 0xab, sizeof(big));
	cr_assert_eq(dc_kv_put(x, T_ALPHA, (dc_kv_val){"", 0}, V("v")),
	             DTX_EINVAL);
	cr_assert_eq(dc_kv_put(x, T_ALPHA, (dc_kv_val){big, 512}, V("v")),
	             DTX_EINVAL);
	put(x, T_ALPHA, (dc_kv_val){big, 511}, V("v"));
	commit(x);
	x = begin(kv, false);
	assert_get(x, T_ALPHA, (dc_kv_val){big, 511}, V("v"));
	cr_assert_eq(dc_kv_put(x, T_ALPHA, V("k"), V("v")), DTX_EINVAL,
	             "a write in a read transaction");
	commit(x);
	dc_kv_close(kv);
}

Test(SUITE, keeps_large_values_byte_for_byte)
{
	size_t n = 1 << 20;
	unsigned char *big = malloc(n);
	dc_kv *kv = open_kv(false);
	dc_kv_txn *x;

	cr_assert_not_null(big);
	for (size_t i = 0; i < n; i++)
		big[i] = (unsigned char)(i * 131 + (i >> 8));
	put1(kv, T_ALPHA, V("big"), (dc_kv_val){big, n});
	x = begin(kv, false);
	assert_get(x, T_ALPHA, V("big"), (dc_kv_val){big, n});
	commit(x);
	dc_kv_close(kv);
	free(big);
}

/* ---- many keys at once ------------------------------------------------- */

/* get_many reads keys (n of them) of table t in x, asserting success. */
static void get_many(dc_kv_txn *x, int t, const dc_kv_val *keys, size_t n,
                     dc_kv_val *vals)
{
	int rc = dc_kv_get_many(x, t, keys, n, vals);

	cr_assert_eq(rc, DTX_OK, "get_many: %s (%s)", dtx_strerror(rc),
	             dc_kv_last_error());
}

static void assert_none(dc_kv_val got, const char *what)
{
	cr_assert(got.data == NULL && got.len == 0, "%s: %zu bytes, want none",
	          what, got.len);
}

Test(SUITE, get_many_answers_each_key_in_its_place)
{
	static const dc_kv_val keys[] = {{"b", 1}, {"zz", 2}, {"e", 1},
	                                 {"a", 1}, {"b", 1},  {"d", 1}};
	dc_kv_val vals[6];
	dc_kv *kv = open_kv(false);
	dc_kv_txn *x = begin(kv, true);

	put(x, T_ALPHA, V("a"), V("1"));
	put(x, T_ALPHA, V("b"), V("2"));
	put(x, T_ALPHA, V("e"), V("")); /* an empty value is a value */
	put(x, T_BETA, V("zz"), V("other table"));
	commit(x);
	x = begin(kv, false);
	get_many(x, T_ALPHA, keys, 6, vals);
	assert_val(vals[0], V("2"), "b");
	assert_none(vals[1], "zz (in the other table only)");
	cr_assert_not_null(vals[2].data, "an empty value is there: not NULL");
	assert_val(vals[2], V(""), "e");
	assert_val(vals[3], V("1"), "a");
	assert_val(vals[4], V("2"), "b again");
	assert_none(vals[5], "d");
	cr_assert_eq(dc_kv_get_many(x, T_ALPHA, keys, 0, vals), DTX_OK,
	             "no keys: nothing to do");
	commit(x);
	dc_kv_close(kv);
}

Test(SUITE, get_many_in_a_write_transaction_sees_its_own_writes)
{
	static const dc_kv_val keys[] = {{"a", 1}, {"b", 1}, {"c", 1}};
	dc_kv_val vals[3];
	dc_kv *kv = open_kv(false);
	dc_kv_txn *x;

	put1(kv, T_ALPHA, V("a"), V("old a"));
	put1(kv, T_ALPHA, V("b"), V("old b"));
	x = begin(kv, true);
	put(x, T_ALPHA, V("a"), V("new a"));
	cr_assert_eq(dc_kv_del(x, T_ALPHA, V("b")), DTX_OK);
	put(x, T_ALPHA, V("c"), V("new c"));
	get_many(x, T_ALPHA, keys, 3, vals);
	assert_val(vals[0], V("new a"), "a rewritten");
	assert_none(vals[1], "b deleted");
	assert_val(vals[2], V("new c"), "c written");
	/* The transaction goes on after the read, and commits as usual. */
	put(x, T_ALPHA, V("d"), V("d"));
	commit(x);
	x = begin(kv, false);
	cr_assert_eq(count_keys(x, T_ALPHA), 3);
	commit(x);
	dc_kv_close(kv);
}

Test(SUITE, get_many_reads_its_most_keys_in_one_call)
{
	static dc_kv_val keys[DC_KV_GET_MANY_MAX + 1], vals[DC_KV_GET_MANY_MAX];
	static unsigned char kb[DC_KV_GET_MANY_MAX + 1][511];
	dc_kv *kv = open_kv(false);
	dc_kv_txn *x = begin(kv, true);

	for (size_t i = 0; i <= DC_KV_GET_MANY_MAX; i++) {
		memset(kb[i], 0xff, sizeof(kb[i])); /* the longest keys */
		memcpy(kb[i], &i, sizeof(i));
		keys[i] = (dc_kv_val){kb[i], sizeof(kb[i])};
		if (i % 2 == 0) /* every other key is there; its value: i */
			put(x, T_ALPHA, keys[i], (dc_kv_val){&i, sizeof(i)});
	}
	commit(x);
	x = begin(kv, false);
	get_many(x, T_ALPHA, keys, DC_KV_GET_MANY_MAX, vals);
	for (size_t i = 0; i < DC_KV_GET_MANY_MAX; i++) {
		if (i % 2 == 0)
			assert_val(vals[i], (dc_kv_val){&i, sizeof(i)},
			           "a key that is there");
		else
			assert_none(vals[i], "a key that is not");
	}
	cr_assert_eq(
	        dc_kv_get_many(x, T_ALPHA, keys, DC_KV_GET_MANY_MAX + 1, vals),
	        DTX_EINVAL, "one key too many");
	commit(x);
	dc_kv_close(kv);
}

Test(SUITE, get_many_refuses_a_bad_key)
{
	static unsigned char big[512];
	dc_kv_val keys[2] = {V("a"), {"", 0}}, vals[2];
	dc_kv *kv = open_kv(false);
	dc_kv_txn *x = begin(kv, false);

	cr_assert_eq(dc_kv_get_many(x, T_ALPHA, keys, 2, vals), DTX_EINVAL,
	             "an empty key");
	keys[1] = (dc_kv_val){big, sizeof(big)};
	cr_assert_eq(dc_kv_get_many(x, T_ALPHA, keys, 2, vals), DTX_EINVAL,
	             "a key of 512 bytes");
	commit(x);
	dc_kv_close(kv);
}

/* ---- transactions ------------------------------------------------------ */

Test(SUITE, write_transaction_sees_its_own_writes)
{
	dc_kv *kv = open_kv(false);
	dc_kv_txn *x = begin(kv, true);
	dc_kv_cursor *c = NULL;
	dc_kv_val k, v;

	put(x, T_ALPHA, V("k1"), V("v1"));
	put(x, T_ALPHA, V("k3"), V("v3"));
	assert_get(x, T_ALPHA, V("k1"), V("v1"));
	cr_assert_eq(dc_kv_cursor_open(x, T_ALPHA, &c), DTX_OK);
	cr_assert_eq(dc_kv_seek(c, NULL, &k, &v), DTX_OK);
	assert_val(k, V("k1"), "first key");
	/* A write behind the cursor's position shows up on its next move. */
	put(x, T_ALPHA, V("k2"), V("v2"));
	cr_assert_eq(dc_kv_next(c, &k, &v), DTX_OK);
	assert_val(k, V("k2"), "key written after the seek");
	assert_val(v, V("v2"), "its value");
	cr_assert_eq(dc_kv_next(c, &k, &v), DTX_OK);
	assert_val(k, V("k3"), "third key");
	cr_assert_eq(dc_kv_next(c, &k, &v), DTX_ENOENT);
	dc_kv_cursor_close(c);
	cr_assert_eq(dc_kv_del(x, T_ALPHA, V("k1")), DTX_OK);
	assert_absent(x, T_ALPHA, V("k1"));
	commit(x);
	dc_kv_close(kv);
}

Test(SUITE, abort_drops_the_writes)
{
	dc_kv *kv = open_kv(false);
	dc_kv_txn *x;

	put1(kv, T_ALPHA, V("kept"), V("1"));
	x = begin(kv, true);
	put(x, T_ALPHA, V("dropped"), V("2"));
	cr_assert_eq(dc_kv_del(x, T_ALPHA, V("kept")), DTX_OK);
	dc_kv_abort(x);
	x = begin(kv, false);
	assert_get(x, T_ALPHA, V("kept"), V("1"));
	assert_absent(x, T_ALPHA, V("dropped"));
	commit(x);
	/* The store takes the next write transaction as usual. */
	put1(kv, T_ALPHA, V("after"), V("3"));
	dc_kv_close(kv);
}

Test(SUITE, commit_is_kept_across_close_and_reopen)
{
	char err[DC_KV_ERR_MAX];
	dc_kv *kv = NULL;
	dc_kv_txn *x;
	bool fresh = false;

	cr_assert_eq(
	        try_open_at(g_where, false, 0, &kv, &fresh, err, sizeof(err)),
	        DTX_OK, "%s", err);
	cr_assert(fresh, "a new store is fresh");
	cr_assert(dc_kv_has_table(kv, T_ALPHA) && dc_kv_has_table(kv, T_BETA));
	put1(kv, T_BETA, V("k"), V("durable"));
	dc_kv_close(kv);

	cr_assert_eq(
	        try_open_at(g_where, false, 0, &kv, &fresh, err, sizeof(err)),
	        DTX_OK, "%s", err);
	cr_assert(!fresh, "a store with tables is not fresh");
	x = begin(kv, false);
	assert_get(x, T_BETA, V("k"), V("durable"));
	commit(x);
	dc_kv_close(kv);
}

Test(SUITE, read_snapshot_does_not_see_a_later_commit)
{
	dc_kv *kv = open_kv(false);
	dc_kv_txn *r, *r2;

	put1(kv, T_ALPHA, V("a"), V("old"));
	r = begin(kv, false);
	{
		dc_kv_txn *w = begin(kv, true);

		put(w, T_ALPHA, V("a"), V("new"));
		put(w, T_ALPHA, V("b"), V("new"));
		commit(w);
	}
	assert_get(r, T_ALPHA, V("a"), V("old"));
	assert_absent(r, T_ALPHA, V("b"));
	cr_assert_eq(count_keys(r, T_ALPHA), 1);
	r2 = begin(kv, false);
	assert_get(r2, T_ALPHA, V("a"), V("new"));
	commit(r2);
	commit(r);
	dc_kv_close(kv);
}

#define READERS 4

typedef struct reader_arg {
	dc_kv *kv;
	atomic_int *open;
	int rc, seen_open, nkeys;
} reader_arg;

static void *reader_main(void *p)
{
	reader_arg *a = p;
	dc_kv_txn *x = NULL;
	struct timespec ms = {0, 1000000};

	a->rc = dc_kv_begin(a->kv, false, &x);
	if (a->rc != DTX_OK)
		return NULL;
	atomic_fetch_add(a->open, 1);
	/* Hold the transaction until every reader has one (bounded). */
	for (int i = 0; i < 10000 && atomic_load(a->open) < READERS; i++)
		nanosleep(&ms, NULL);
	a->seen_open = atomic_load(a->open);
	a->nkeys = 0;
	for (int i = 0; i < 100; i++) {
		char key[8];
		dc_kv_val v;

		snprintf(key, sizeof(key), "k%03d", i);
		if (dc_kv_get(x, T_ALPHA, (dc_kv_val){key, 4}, &v) == DTX_OK)
			a->nkeys++;
	}
	a->rc = dc_kv_commit(x);
	return NULL;
}

Test(SUITE, read_transactions_run_on_several_threads_at_once)
{
	dc_kv *kv = open_kv(false);
	dc_kv_txn *x = begin(kv, true);
	pthread_t th[READERS];
	reader_arg args[READERS];
	atomic_int open = 0;
	char key[8];

	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "k%03d", i);
		put(x, T_ALPHA, (dc_kv_val){key, 4}, V("v"));
	}
	commit(x);
	x = begin(kv, true); /* a writer open beside the readers */
	for (int i = 0; i < READERS; i++) {
		args[i] = (reader_arg){.kv = kv, .open = &open};
		cr_assert_eq(
		        pthread_create(&th[i], NULL, reader_main, &args[i]), 0);
	}
	for (int i = 0; i < READERS; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(args[i].rc, DTX_OK, "reader %d: %s", i,
		             dtx_strerror(args[i].rc));
		cr_assert_eq(args[i].seen_open, READERS, "reader %d ran alone",
		             i);
		cr_assert_eq(args[i].nkeys, 100);
	}
	dc_kv_abort(x);
	dc_kv_close(kv);
}

/* ---- cursors ----------------------------------------------------------- */

Test(SUITE, cursor_seeks_steps_and_ends)
{
	dc_kv *kv = open_kv(false);
	dc_kv_txn *x = begin(kv, true);
	dc_kv_cursor *c = NULL;
	dc_kv_val k, v;
	dc_kv_val b = V("b"), bb = V("bb"), z = V("z");

	put(x, T_ALPHA, V("a"), V("1"));
	put(x, T_ALPHA, V("b"), V("2"));
	put(x, T_ALPHA, V("c"), V("3"));
	commit(x);
	x = begin(kv, false);
	cr_assert_eq(dc_kv_cursor_open(x, T_ALPHA, &c), DTX_OK);
	cr_assert_eq(dc_kv_next(c, &k, &v), DTX_EINVAL, "never positioned");
	cr_assert_eq(dc_kv_seek(c, &b, &k, &v), DTX_OK);
	assert_val(k, V("b"), "exact seek");
	assert_val(v, V("2"), "its value");
	cr_assert_eq(dc_kv_seek(c, &bb, &k, &v), DTX_OK);
	assert_val(k, V("c"), "seek between keys");
	cr_assert_eq(dc_kv_next(c, &k, &v), DTX_ENOENT, "the end");
	cr_assert_eq(dc_kv_next(c, &k, &v), DTX_ENOENT, "still the end");
	cr_assert_eq(dc_kv_seek(c, &z, &k, &v), DTX_ENOENT, "past the last");
	cr_assert_eq(dc_kv_seek(c, NULL, &k, &v), DTX_OK);
	assert_val(k, V("a"), "first key");
	dc_kv_cursor_close(c);
	cr_assert_eq(dc_kv_cursor_open(x, T_BETA, &c), DTX_OK);
	cr_assert_eq(dc_kv_seek(c, NULL, &k, &v), DTX_ENOENT, "empty table");
	dc_kv_cursor_close(c);
	commit(x);
	dc_kv_close(kv);
}

#define BIG 20000

static dc_kv_val be32(unsigned char *buf, uint32_t i)
{
	buf[0] = (unsigned char)(i >> 24);
	buf[1] = (unsigned char)(i >> 16);
	buf[2] = (unsigned char)(i >> 8);
	buf[3] = (unsigned char)i;
	return (dc_kv_val){buf, 4};
}

Test(SUITE, a_big_scan_pages_through_every_key_in_order)
{
	dc_kv *kv = open_kv(false);
	dc_kv_txn *x = begin(kv, true);
	dc_kv_cursor *c = NULL;
	unsigned char kb[4], vb[4], sb[4];
	dc_kv_val k, v, seek;
	uint32_t i;
	int rc;

	for (i = 0; i < BIG; i++)
		put(x, T_ALPHA, be32(kb, i * 2), be32(vb, i));
	commit(x);
	x = begin(kv, false);
	cr_assert_eq(count_keys(x, T_ALPHA), BIG);
	cr_assert_eq(dc_kv_cursor_open(x, T_ALPHA, &c), DTX_OK);
	seek = be32(sb, 2 * 777 + 1); /* between two keys, mid-page */
	rc = dc_kv_seek(c, &seek, &k, &v);
	for (i = 778; rc == DTX_OK; i++, rc = dc_kv_next(c, &k, &v)) {
		assert_val(k, be32(kb, i * 2), "key");
		assert_val(v, be32(vb, i), "value");
	}
	cr_assert_eq(rc, DTX_ENOENT);
	cr_assert_eq(i, BIG, "scanned to the last key");
	dc_kv_cursor_close(c);
	commit(x);
	dc_kv_close(kv);
}

/* ---- the store --------------------------------------------------------- */

Test(SUITE, one_writer_and_readers_beside_it)
{
	char err[DC_KV_ERR_MAX] = "";
	dc_kv *kv = open_kv(false), *kv2 = NULL, *ro;
	dc_kv_txn *x;
	int rc;

	put1(kv, T_ALPHA, V("k"), V("v"));
	rc = try_open_at(g_where, false, 0, &kv2, NULL, err, sizeof(err));
	cr_assert_eq(rc, DTX_EBUSY, "second writer: %s (%s)", dtx_strerror(rc),
	             err);
	cr_assert_not_null(strstr(err, "pid"), "names the holder: %s", err);
#ifdef KV_TEST_PG
	cr_assert_not_null(strstr(err, "'dtxd'"), "application_name: %s", err);
#endif
	cr_log_info("second writer: %s", err);
	ro = open_kv(true);
	x = begin(ro, false);
	assert_get(x, T_ALPHA, V("k"), V("v"));
	commit(x);
	cr_assert_eq(dc_kv_begin(ro, true, &x), DTX_EINVAL,
	             "a read-only store refuses a write transaction");
	dc_kv_close(ro);
	dc_kv_close(kv);
	/* The lock goes with the writer. */
	kv = open_kv(false);
	dc_kv_close(kv);
}

Test(SUITE, read_only_open_of_a_missing_store_fails_clearly)
{
	char err[DC_KV_ERR_MAX] = "";
	dc_kv *kv = NULL;
	int rc = try_open_at(g_where, true, 0, &kv, NULL, err, sizeof(err));

	cr_assert_eq(rc, DTX_ENOENT, "%s (%s)", dtx_strerror(rc), err);
	cr_assert(err[0] != '\0', "a reason");
	cr_log_info("read-only open of nothing: %s", err);
	/* ... and created nothing: a writer still finds a fresh store. */
	{
		bool fresh = false;

		cr_assert_eq(try_open_at(g_where, false, 0, &kv, &fresh, err,
		                         sizeof(err)),
		             DTX_OK, "%s", err);
		cr_assert(fresh);
		dc_kv_close(kv);
	}
}

Test(SUITE, an_older_store_gains_new_tables_from_a_writer_only)
{
	static const char *const old_tables[] = {"alpha"};
	dc_kv_opts o = {.where = g_where,
	                .tables = old_tables,
	                .ntables = 1,
	                .no_sync = true};
	char err[DC_KV_ERR_MAX] = "";
	dc_kv *kv = NULL, *ro;
	dc_kv_txn *x;
	dc_kv_cursor *c = NULL;
	dc_kv_val k, v;

	cr_assert_eq(dc_kv_open(&o, &kv, NULL, err, sizeof(err)), DTX_OK, "%s",
	             err);
	put1(kv, 0, V("old"), V("1"));
	dc_kv_close(kv);

	ro = open_kv(true); /* a reader: beta is absent and empty */
	cr_assert(dc_kv_has_table(ro, T_ALPHA));
	cr_assert(!dc_kv_has_table(ro, T_BETA));
	x = begin(ro, false);
	assert_absent(x, T_BETA, V("old"));
	cr_assert_eq(dc_kv_cursor_open(x, T_BETA, &c), DTX_OK);
	cr_assert_eq(dc_kv_seek(c, NULL, &k, &v), DTX_ENOENT);
	dc_kv_cursor_close(c);
	commit(x);
	dc_kv_close(ro);

	kv = open_kv(false); /* a writer: beta is there */
	cr_assert(dc_kv_has_table(kv, T_BETA));
	put1(kv, T_BETA, V("new"), V("2"));
	x = begin(kv, false);
	assert_get(x, T_ALPHA, V("old"), V("1"));
	assert_get(x, T_BETA, V("new"), V("2"));
	commit(x);
	dc_kv_close(kv);
}

Test(SUITE, reports_its_usage)
{
	dc_kv *kv = open_kv(false);
	dc_kv_usage u = {0};

	put1(kv, T_ALPHA, V("k"), V("v"));
	cr_assert_eq(dc_kv_usage_read(kv, &u), DTX_OK, "%s",
	             dc_kv_last_error());
	cr_assert_gt(u.used_bytes, 0);
	cr_assert_geq(u.file_bytes, u.used_bytes);
	cr_assert_str_neq(dc_kv_describe(kv), "");
	dc_kv_close(kv);
}

/* ---- PostgreSQL only --------------------------------------------------- */

#ifdef KV_TEST_PG

/* seq_scans returns how many scans of table dtx_NAME of this test's
 * schema pg_stat_user_tables counts once its column col (n_tup_ins,
 * idx_scan) reached min (a backend reports its counters when it ends:
 * polled, 10 s at most). */
static long seq_scans(const char *name, const char *col, long min)
{
	char sql[256], out[64] = "", err[512];

	snprintf(sql, sizeof(sql),
	         "SELECT coalesce(%s, 0) || ' ' || seq_scan FROM "
	         "pg_stat_user_tables WHERE schemaname = '%s' AND relname = "
	         "'dtx_%s'",
	         col, g_schema, name);
	for (int ms = 0; ms <= 10000; ms += 100) {
		long n = 0, seq = -1;

		cr_assert_eq(pgtmp_sql_value(g_where, sql, out, sizeof(out),
		                             err, sizeof(err)),
		             0, "%s", err);
		if (sscanf(out, "%ld %ld", &n, &seq) == 2 && n >= min)
			return seq;
		usleep(100000);
	}
	cr_assert_fail("dtx_%s: %s never reached %ld (%s)", name, col, min,
	               out);
	return -1;
}

/* Every statement of the store finds its rows by key. Its plans must
 * not scan a table whole once the table has grown from empty (never
 * analyzed): a benchmark's gid probes read dtx_txs whole, 10.6 million
 * rows in a 10 s point, and each commit's deletes read dtx_active. Here
 * 20,000 keys are written, then batched reads and deletes run, 12 times
 * each (PostgreSQL tries a generic plan after 5): not one whole-table
 * scan may happen. */
Test(SUITE, statements_never_scan_a_grown_table_whole)
{
	static dc_kv_val keys[DC_KV_GET_MANY_MAX], vals[DC_KV_GET_MANY_MAX];
	static uint8_t kb[DC_KV_GET_MANY_MAX][8];
	dc_kv *kv = open_kv(false);
	dc_kv_txn *x = begin(kv, true);
	long before, after;
	uint8_t k[8];

	for (uint32_t i = 0; i < 20000; i++) {
		memcpy(k, "row", 3);
		memcpy(k + 3, &i, 4);
		k[7] = 0;
		put(x, T_ALPHA, (dc_kv_val){k, 8}, V("value"));
	}
	commit(x);
	dc_kv_close(kv);
	before = seq_scans("alpha", "n_tup_ins", 20000);
	kv = open_kv(false);
	for (int round = 0; round < 12; round++) {
		for (uint32_t i = 0; i < DC_KV_GET_MANY_MAX; i++) {
			uint32_t row = (uint32_t)round * 997 + i * 31;

			memcpy(kb[i], "row", 3);
			memcpy(kb[i] + 3, &row, 4);
			kb[i][7] = 0;
			keys[i] = (dc_kv_val){kb[i], 8};
		}
		x = begin(kv, false);
		get_many(x, T_ALPHA, keys, DC_KV_GET_MANY_MAX, vals);
		commit(x);
		x = begin(kv, true);
		for (uint32_t i = 0; i < 64; i++)
			cr_assert_eq(dc_kv_del(x, T_ALPHA, keys[i]), DTX_OK);
		commit(x);
	}
	dc_kv_close(kv); /* the backends end and report */
	after = seq_scans("alpha", "idx_scan", 12 * 2);
	cr_assert_eq(after, before,
	             "a statement scanned the whole table (%ld scans, %ld "
	             "before)",
	             after, before);
}

Test(SUITE, names_the_backend_and_hides_the_password)
{
	dc_kv *kv = open_kv(false);

	cr_assert_str_eq(dc_kv_backend(kv), "postgresql");
	cr_assert_not_null(strstr(dc_kv_describe(kv), "postgresql://dtx@/dtx"),
	                   "%s", dc_kv_describe(kv));
	dc_kv_close(kv);
}

Test(SUITE, works_over_loopback_tcp_and_names_the_holder_by_address)
{
	char tcp[PGTMP_URI_MAX], uri2[sizeof(g_where) + 64];
	char err[DC_KV_ERR_MAX] = "";
	dc_kv *kv = NULL, *kv2 = NULL;
	dc_kv_txn *x;
	int rc;

	cr_assert_eq(pgtmp_tcp_uri_for(admin_uri(), "dtx", PGTMP_ROLE, tcp,
	                               sizeof(tcp)),
	             0);
	with_path(tcp, g_schema, uri2, sizeof(uri2));
	strcat(uri2, "&application_name=mine");
	cr_assert_eq(try_open_at(uri2, false, 0, &kv, NULL, err, sizeof(err)),
	             DTX_OK, "%s", err);
	put1(kv, T_ALPHA, V("k"), V("over tcp"));
	rc = try_open_at(g_where, false, 0, &kv2, NULL, err, sizeof(err));
	cr_assert_eq(rc, DTX_EBUSY, "%s (%s)", dtx_strerror(rc), err);
	cr_assert_not_null(strstr(err, "client 127.0.0.1"), "%s", err);
	cr_assert_not_null(strstr(err, "'mine'"), "the URI's name: %s", err);
	x = begin(kv, false);
	assert_get(x, T_ALPHA, V("k"), V("over tcp"));
	commit(x);
	dc_kv_close(kv);
}

Test(SUITE, a_newer_schema_is_refused)
{
	char err[DC_KV_ERR_MAX] = "";
	dc_kv *kv = NULL;
	int rc;

	char sql[256];

	snprintf(sql, sizeof(sql),
	         "SET ROLE dtx; SET search_path = %s;"
	         "CREATE TABLE dtx_schema (version int NOT NULL);"
	         "INSERT INTO dtx_schema VALUES (99)",
	         g_schema);
	admin_sql("dtx", sql);
	rc = try_open_at(g_where, false, 0, &kv, NULL, err, sizeof(err));
	cr_assert_eq(rc, DTX_EVERSION, "%s (%s)", dtx_strerror(rc), err);
	cr_assert_not_null(strstr(err, "99"), "%s", err);
	rc = try_open_at(g_where, true, 0, &kv, NULL, err, sizeof(err));
	cr_assert_eq(rc, DTX_EVERSION, "read-only: %s", err);
}

Test(SUITE, a_uri_that_does_not_connect_is_unreachable)
{
	char uri[256], err[DC_KV_ERR_MAX] = "";
	dc_kv *kv = NULL;
	int rc;

	/* A loopback port nobody listens on: refused at once; the timeout
	 * bounds it where packets vanish instead. */
	snprintf(uri, sizeof(uri),
	         "postgresql://dtx:sekret@127.0.0.1:1/dtx?connect_timeout=3");
	rc = try_open_at(uri, false, 0, &kv, NULL, err, sizeof(err));
	cr_assert_eq(rc, DTX_EUNREACHABLE, "%s (%s)", dtx_strerror(rc), err);
	cr_assert_not_null(strstr(err, "127.0.0.1"), "names the host: %s", err);
	cr_assert_null(strstr(err, "sekret"), "leaks the password: %s", err);
	cr_log_info("unreachable: %s", err);
	rc = try_open_at("postgresql://[bad", false, 0, &kv, NULL, err,
	                 sizeof(err));
	cr_assert_eq(rc, DTX_EINVAL, "a URI libpq refuses: %s (%s)",
	             dtx_strerror(rc), err);
}

Test(SUITE, a_role_that_may_not_create_tables_is_named)
{
	char db[64], role[80], sql[256], err[DC_KV_ERR_MAX] = "";
	char uri[PGTMP_URI_MAX], owner[PGTMP_URI_MAX];
	dc_kv *kv = NULL;
	bool fresh = false;
	int rc;

	/* A database of its own: PostgreSQL 15 lets only the owner create in
	 * schema public, the case of a DBA's new database. */
	snprintf(db, sizeof(db), "d_%s", g_schema);
	snprintf(role, sizeof(role), "r_%s", g_schema);
	cr_assert_eq(pgtmp_create_db(admin_uri(), db, owner, sizeof(owner), err,
	                             sizeof(err)),
	             0, "%s", err);
	snprintf(sql, sizeof(sql), "CREATE ROLE %s LOGIN", role);
	admin_sql(NULL, sql);
	cr_assert_eq(pgtmp_uri_for(admin_uri(), db, role, uri, sizeof(uri)), 0);
	rc = try_open_at(uri, false, 0, &kv, NULL, err, sizeof(err));
	cr_assert_eq(rc, DTX_EINVAL, "%s (%s)", dtx_strerror(rc), err);
	cr_assert_not_null(strstr(err, role), "names the role: %s", err);
	cr_assert_not_null(strstr(err, db), "names the database: %s", err);
	cr_log_info("no rights: %s", err);
	/* Nothing was created: the owner still finds a fresh store. */
	cr_assert_eq(
	        try_open_at(owner, false, 0, &kv, &fresh, err, sizeof(err)),
	        DTX_OK, "%s", err);
	cr_assert(fresh);
	dc_kv_close(kv);
}

Test(SUITE, a_search_path_without_a_usable_schema_is_refused)
{
	char uri[sizeof(g_where)], err[DC_KV_ERR_MAX] = "";
	dc_kv *kv = NULL;
	int rc;

	with_path(g_base, "no_such_schema", uri, sizeof(uri));
	rc = try_open_at(uri, false, 0, &kv, NULL, err, sizeof(err));
	cr_assert_eq(rc, DTX_EINVAL, "%s (%s)", dtx_strerror(rc), err);
	cr_assert_not_null(strstr(err, "search_path"), "%s", err);
}

Test(SUITE, stores_in_two_schemas_of_one_database_are_apart)
{
	char uri2[sizeof(g_where)], s2[80], sql[128];
	char err[DC_KV_ERR_MAX] = "";
	dc_kv *a = NULL, *b = NULL;
	dc_kv_txn *x;

	snprintf(s2, sizeof(s2), "%s_b", g_schema);
	snprintf(sql, sizeof(sql), "CREATE SCHEMA %s AUTHORIZATION dtx", s2);
	admin_sql("dtx", sql);
	with_path(g_base, s2, uri2, sizeof(uri2));
	cr_assert_eq(try_open_at(g_where, false, 0, &a, NULL, err, sizeof(err)),
	             DTX_OK, "%s", err);
	cr_assert_eq(try_open_at(uri2, false, 0, &b, NULL, err, sizeof(err)),
	             DTX_OK, "a writer per schema: %s", err);
	put1(a, T_ALPHA, V("k"), V("in the test's schema"));
	x = begin(b, false);
	assert_absent(x, T_ALPHA, V("k"));
	commit(x);
	dc_kv_close(b);
	dc_kv_close(a);
	snprintf(sql, sizeof(sql), "SELECT 1/count(*) FROM %s.dtx_alpha",
	         g_schema);
	admin_sql("dtx", sql); /* the row is where the search_path said */
}

typedef struct waiter_arg {
	dc_kv *kv;
	atomic_int began;
	int rc;
} waiter_arg;

static void *waiter_main(void *p)
{
	waiter_arg *a = p;
	dc_kv_txn *x = NULL;

	a->rc = dc_kv_begin(a->kv, false, &x);
	atomic_store(&a->began, 1);
	if (a->rc == DTX_OK)
		a->rc = dc_kv_commit(x);
	return NULL;
}

Test(SUITE, a_failed_write_transaction_leaves_the_writer_usable)
{
	char sql[160];
	dc_kv *kv = open_kv(false);
	dc_kv_txn *x = begin(kv, true);
	int rc;

	put(x, T_ALPHA, V("a"), V("1"));
	commit(x);
	/* A table dropped behind the store's back fails its statements. */
	snprintf(sql, sizeof(sql), "DROP TABLE %s.dtx_beta", g_schema);
	admin_sql("dtx", sql);
	x = begin(kv, true);
	put(x, T_ALPHA, V("b"), V("2"));
	(void)dc_kv_put(x, T_BETA, V("b"), V("2")); /* fails at the sync */
	rc = dc_kv_commit(x);
	cr_assert_eq(rc, DTX_EIO, "%s (%s)", dtx_strerror(rc),
	             dc_kv_last_error());
	cr_assert_not_null(strstr(dc_kv_last_error(), "dtx_beta"), "%s",
	                   dc_kv_last_error());
	/* Nothing of it is durable, and the next transaction commits. */
	x = begin(kv, true);
	assert_absent(x, T_ALPHA, V("b"));
	put(x, T_ALPHA, V("c"), V("3"));
	commit(x);
	x = begin(kv, true); /* (a new reader connection would miss beta) */
	assert_get(x, T_ALPHA, V("c"), V("3"));
	commit(x);
	dc_kv_close(kv);
}

Test(SUITE, a_read_waits_for_a_free_reader_connection)
{
	char err[DC_KV_ERR_MAX] = "";
	dc_kv *kv = NULL;
	dc_kv_txn *r;
	waiter_arg a = {0};
	pthread_t th;
	struct timespec ms = {0, 50000000};

	cr_assert_eq(
	        try_open_at(g_where, false, 1, &kv, NULL, err, sizeof(err)),
	        DTX_OK, "%s", err);
	r = begin(kv, false); /* the pool's only connection */
	a.kv = kv;
	cr_assert_eq(pthread_create(&th, NULL, waiter_main, &a), 0);
	nanosleep(&ms, NULL);
	cr_assert_eq(atomic_load(&a.began), 0, "two reads on one connection");
	commit(r);
	pthread_join(th, NULL);
	cr_assert_eq(a.rc, DTX_OK, "%s", dtx_strerror(a.rc));
	dc_kv_close(kv);
}

Test(SUITE, a_terminated_writer_session_fails_and_frees_the_store)
{
	char sql[400], err[DC_KV_ERR_MAX] = "";
	dc_kv *kv = open_kv(false), *kv2 = NULL;
	dc_kv_txn *x = NULL;
	int rc;

	put1(kv, T_ALPHA, V("k"), V("v"));
	/* Only the session holding this test's lock: tests run in parallel. */
	snprintf(sql, sizeof(sql),
	         "SELECT pg_terminate_backend(l.pid) FROM pg_locks l, (SELECT "
	         "hashtextextended('dtx log %s', 0) AS k) s WHERE l.locktype = "
	         "'advisory' AND l.objsubid = 1 AND l.classid = ((s.k >> 32) & "
	         "4294967295)::oid AND l.objid = (s.k & 4294967295)::oid",
	         g_schema);
	admin_sql("dtx", sql);
	rc = dc_kv_begin(kv, true, &x);
	if (rc == DTX_OK) {
		(void)dc_kv_put(x, T_ALPHA, V("k2"), V("v2"));
		rc = dc_kv_commit(x);
	}
	cr_assert_eq(rc, DTX_EIO, "%s (%s)", dtx_strerror(rc),
	             dc_kv_last_error());
	cr_assert_eq(dc_kv_begin(kv, true, &x), DTX_EIO, "crash-only");
	/* The lock went with the session: a new writer takes the store. */
	cr_assert_eq(
	        try_open_at(g_where, false, 0, &kv2, NULL, err, sizeof(err)),
	        DTX_OK, "%s", err);
	x = begin(kv2, false);
	assert_get(x, T_ALPHA, V("k"), V("v"));
	assert_absent(x, T_ALPHA, V("k2"));
	commit(x);
	dc_kv_close(kv2);
	dc_kv_close(kv);
}

/* small_disk makes a 2 MiB tmpfs at dir, owned by postgres, in a mount
 * namespace of this test process (the cluster it starts next sees it; the
 * kernel unmounts it when the process ends, whatever happens). */
static bool small_disk(const char *dir)
{
	struct passwd *pw = getpwnam("postgres");

	if (unshare(CLONE_NEWNS) != 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("tmpfs", dir, "tmpfs", 0, "size=2m,mode=0700") != 0)
		return false;
	return pw == NULL || chown(dir, pw->pw_uid, pw->pw_gid) == 0;
}

Test(SUITE, a_full_disk_is_no_space)
{
	char dir[64] = "/tmp/dtx-ts-XXXXXX", sql[160], uri[PGTMP_URI_MAX + 64];
	char err[512];
	unsigned char *val = malloc(65536);
	uint32_t rnd = 2463534242u;
	pgtmp *pg;
	dc_kv *kv = NULL;
	dc_kv_txn *x;
	int rc = DTX_OK, i;

	cr_assert_not_null(val);
	cr_assert_not_null(mkdtemp(dir));
	if (!small_disk(dir)) {
		rmdir(dir);
		cr_skip_test("no tmpfs in a mount namespace here: %s",
		             strerror(errno));
	}
	pg = pgtmp_start(err, sizeof(err));
	cr_assert_not_null(pg, "%s", err);
	/* The store's tables on the small disk, the WAL on the big one. */
	snprintf(sql, sizeof(sql), "CREATE TABLESPACE small LOCATION '%s'",
	         dir);
	cr_assert_eq(
	        pgtmp_sql(pgtmp_admin_uri(pg), NULL, sql, err, sizeof(err)), 0,
	        "%s", err);
	cr_assert_eq(pgtmp_sql(pgtmp_admin_uri(pg), NULL,
	                       "GRANT CREATE ON TABLESPACE small TO dtx", err,
	                       sizeof(err)),
	             0, "%s", err);
	snprintf(uri, sizeof(uri), "%s&options=-cdefault_tablespace%%3Dsmall",
	         pgtmp_uri(pg));
	cr_assert_eq(try_open_at(uri, false, 0, &kv, NULL, err, sizeof(err)),
	             DTX_OK, "%s", err);
	for (i = 0; i < 1000 && rc == DTX_OK; i++) {
		char key[16];

		for (int j = 0; j < 65536; j++) { /* incompressible */
			rnd ^= rnd << 13, rnd ^= rnd >> 17, rnd ^= rnd << 5;
			val[j] = (unsigned char)rnd;
		}
		snprintf(key, sizeof(key), "k%05d", i);
		x = begin(kv, true);
		rc = dc_kv_put(x, T_ALPHA, (dc_kv_val){key, 6},
		               (dc_kv_val){val, 65536});
		rc = rc == DTX_OK ? dc_kv_commit(x) : (dc_kv_abort(x), rc);
	}
	cr_assert_eq(rc, DTX_ENOSPC, "after %d puts: %s (%s)", i,
	             dtx_strerror(rc), dc_kv_last_error());
	cr_log_info("full: %s", dc_kv_last_error());
	x = begin(kv, true); /* the writer is usable: a delete needs no room */
	cr_assert_eq(dc_kv_del(x, T_ALPHA, V("k00000")), DTX_OK);
	commit(x);
	x = begin(kv, false); /* the store still reads */
	{
		dc_kv_val v;

		cr_assert_eq(dc_kv_get(x, T_ALPHA, V("k00001"), &v), DTX_OK);
		cr_assert_eq(v.len, 65536);
	}
	commit(x);
	dc_kv_close(kv);
	pgtmp_stop(pg);
	umount(dir);
	rmdir(dir);
	free(val);
}

Test(SUITE, a_server_that_dies_under_the_store_is_an_io_error)
{
	char err[512];
	pgtmp *pg = pgtmp_start(err, sizeof(err));
	dc_kv *kv = NULL;
	dc_kv_txn *x = NULL, *r = NULL;
	int rc;

	cr_assert_not_null(pg, "%s", err);
	cr_assert_eq(try_open_at(pgtmp_uri(pg), false, 1, &kv, NULL, err,
	                         sizeof(err)),
	             DTX_OK, "%s", err);
	put1(kv, T_ALPHA, V("k"), V("v"));
	r = begin(kv, false); /* the reader connection exists */
	commit(r);
	pgtmp_kill(pg);

	rc = dc_kv_begin(kv, true, &x);
	if (rc == DTX_OK) { /* the pipeline sends BEGIN with the first sync */
		(void)dc_kv_put(x, T_ALPHA, V("k2"), V("v2"));
		rc = dc_kv_commit(x);
	}
	cr_assert_eq(rc, DTX_EIO, "write: %s (%s)", dtx_strerror(rc),
	             dc_kv_last_error());
	cr_log_info("server gone: %s", dc_kv_last_error());
	rc = dc_kv_begin(kv, true, &x);
	cr_assert_eq(rc, DTX_EIO, "the next write: %s", dtx_strerror(rc));
	rc = dc_kv_begin(kv, false, &r);
	cr_assert_eq(rc, DTX_EIO, "a read: %s (%s)", dtx_strerror(rc),
	             dc_kv_last_error());
	dc_kv_close(kv);
	pgtmp_stop(pg);
}

/* A server whose processes are stopped (a machine that hangs) keeps its
 * connections open and never answers: a read and a commit each end
 * DTX_EIO once the answer they are owed is 15 s late, and the writer's
 * loss is latched - they never block for ever. */
Test(SUITE, a_server_that_hangs_under_the_store_is_an_io_error, .timeout = 90)
{
	char err[512];
	pgtmp *pg = pgtmp_start(err, sizeof(err));
	dc_kv *kv = NULL;
	dc_kv_txn *x = NULL, *r = NULL;
	int rc;

	cr_assert_not_null(pg, "%s", err);
	cr_assert_eq(try_open_at(pgtmp_uri(pg), false, 1, &kv, NULL, err,
	                         sizeof(err)),
	             DTX_OK, "%s", err);
	put1(kv, T_ALPHA, V("k"), V("v"));
	r = begin(kv, false); /* the reader connection exists */
	commit(r);
	pgtmp_freeze(pg, true);

	rc = dc_kv_begin(kv, false, &r);
	cr_assert_eq(rc, DTX_EIO, "a read: %s (%s)", dtx_strerror(rc),
	             dc_kv_last_error());
	cr_log_info("server hangs: %s", dc_kv_last_error());
	rc = dc_kv_begin(kv, true, &x);
	if (rc == DTX_OK) {
		(void)dc_kv_put(x, T_ALPHA, V("k2"), V("v2"));
		rc = dc_kv_commit(x);
	}
	cr_assert_eq(rc, DTX_EIO, "write: %s (%s)", dtx_strerror(rc),
	             dc_kv_last_error());
	cr_assert(strstr(dc_kv_last_error(), "answered nothing") != NULL, "%s",
	          dc_kv_last_error());
	rc = dc_kv_begin(kv, true, &x);
	cr_assert_eq(rc, DTX_EIO, "the next write: %s", dtx_strerror(rc));
	pgtmp_crash(pg);
	dc_kv_close(kv);
	pgtmp_stop(pg);
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

#endif

/* ---- expectations: fenced writes (dc_kv_expect) ------------------------- */

static int expect(dc_kv_txn *x, int t, dc_kv_val k, dc_kv_val v)
{
	int rc = dc_kv_expect(x, t, k, v);

	cr_assert(rc == DTX_OK || rc == DTX_ECONFLICT, "expect: %s (%s)",
	          dtx_strerror(rc), dc_kv_last_error());
	return rc;
}

/* cas_commit: one write transaction that expects k to hold old (old.data
 * NULL: absent) and writes new; returns what the commit returned. */
static int cas_commit(dc_kv *kv, dc_kv_val k, dc_kv_val old, dc_kv_val neu)
{
	dc_kv_txn *x = begin(kv, true);

	(void)expect(x, T_ALPHA, k, old);
	put(x, T_BETA, V("side"), neu); /* a write of another table */
	(void)dc_kv_put(x, T_ALPHA, k, neu);
	return dc_kv_commit(x);
}

Test(SUITE, an_expectation_that_holds_lets_the_transaction_commit)
{
	dc_kv *kv = open_kv(false);
	dc_kv_txn *x;

	cr_assert_eq(cas_commit(kv, V("k"), (dc_kv_val){NULL, 0}, V("v1")),
	             DTX_OK, "absent -> v1: %s", dc_kv_last_error());
	cr_assert_eq(cas_commit(kv, V("k"), V("v1"), V("v2")), DTX_OK,
	             "v1 -> v2: %s", dc_kv_last_error());
	put1(kv, T_ALPHA, V("e"), V(""));
	x = begin(kv, true);
	cr_assert_eq(expect(x, T_ALPHA, V("e"), V("")), DTX_OK, "empty value");
	commit(x);
	x = begin(kv, false);
	assert_get(x, T_ALPHA, V("k"), V("v2"));
	assert_get(x, T_BETA, V("side"), V("v2"));
	commit(x);
	dc_kv_close(kv);
}

Test(SUITE, a_failed_expectation_writes_nothing_and_is_a_conflict)
{
	static const dc_kv_val absent = {NULL, 0};
	dc_kv *kv = open_kv(false);
	dc_kv_txn *x;

	put1(kv, T_ALPHA, V("k"), V("v1"));
	put1(kv, T_BETA, V("side"), V("before"));
	cr_assert_eq(cas_commit(kv, V("k"), V("v0"), V("v2")), DTX_ECONFLICT,
	             "another value");
	cr_assert_eq(cas_commit(kv, V("k"), V("v"), V("v2")), DTX_ECONFLICT,
	             "a prefix of the value");
	cr_assert_eq(cas_commit(kv, V("k"), absent, V("v2")), DTX_ECONFLICT,
	             "expected absent, is present");
	cr_assert_eq(cas_commit(kv, V("none"), V("v1"), V("v2")), DTX_ECONFLICT,
	             "expected a value, is absent");
	cr_log_info("conflict: %s", dc_kv_last_error());
	/* The writer goes on: the spoilt transactions left nothing open. */
	cr_assert_eq(cas_commit(kv, V("k"), V("v1"), V("v3")), DTX_OK, "%s",
	             dc_kv_last_error());
	x = begin(kv, false);
	assert_get(x, T_ALPHA, V("k"), V("v3"));
	assert_absent(x, T_ALPHA, V("none"));
	assert_get(x, T_BETA, V("side"), V("v3"));
	commit(x);
	x = begin(kv, false);
	cr_assert_eq(dc_kv_expect(x, T_ALPHA, V("k"), V("v3")), DTX_EINVAL,
	             "an expectation in a read transaction");
	commit(x);
	dc_kv_close(kv);
}

/* One conflict among many statements: the failure is found in the right
 * place of a long pipeline (past a sync of the PostgreSQL backend). */
Test(SUITE, a_conflict_behind_many_writes_is_still_a_conflict)
{
	dc_kv *kv = open_kv(false);
	dc_kv_txn *x;
	unsigned char kb[4];
	int rc;

	put1(kv, T_ALPHA, V("k"), V("v1"));
	x = begin(kv, true);
	for (uint32_t i = 0; i < 3000; i++) {
		if (i % 500 == 0)
			(void)expect(x, T_ALPHA, V("k"), V("v1"));
		put(x, T_BETA, be32(kb, i), V("x"));
	}
	(void)expect(x, T_ALPHA, V("k"), V("v0"));
	put(x, T_BETA, V("last"), V("x"));
	rc = dc_kv_commit(x);
	cr_assert_eq(rc, DTX_ECONFLICT, "commit: %s (%s)", dtx_strerror(rc),
	             dc_kv_last_error());
	x = begin(kv, false);
	cr_assert_eq(count_keys(x, T_BETA), 0, "nothing of it is durable");
	commit(x);
	dc_kv_close(kv);
}

/* ---- batches: many writes in one transaction ---------------------------
 * The PostgreSQL backend holds puts and deletes and sends each table's
 * as one statement per kind (kv_pg.c "Batches"); what a transaction
 * leaves must be what its writes in order leave, on every backend. */

/* big_val fills buf (len bytes) with a pattern of seed. */
static dc_kv_val big_val(unsigned char *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)(seed * 31 + i * 7);
	return (dc_kv_val){buf, len};
}

Test(SUITE, a_key_put_twice_and_deleted_in_one_batch_keeps_the_last_write)
{
	dc_kv *kv = open_kv(false);
	dc_kv_txn *x;

	put1(kv, T_ALPHA, V("old"), V("0"));
	x = begin(kv, true);
	put(x, T_ALPHA, V("a"), V("1"));
	put(x, T_ALPHA, V("a"), V("2"));
	cr_assert_eq(dc_kv_del(x, T_ALPHA, V("a")), DTX_OK);
	cr_assert_eq(dc_kv_del(x, T_ALPHA, V("b")), DTX_OK);
	put(x, T_ALPHA, V("b"), V("1"));
	put(x, T_ALPHA, V("b"), V("2"));
	put(x, T_ALPHA, V("c"), V("1"));
	cr_assert_eq(dc_kv_del(x, T_ALPHA, V("c")), DTX_OK);
	put(x, T_ALPHA, V("c"), V("3"));
	cr_assert_eq(dc_kv_del(x, T_ALPHA, V("old")), DTX_OK);
	put(x, T_ALPHA, V("old"), V("new"));
	cr_assert_eq(dc_kv_del(x, T_ALPHA, V("old")), DTX_OK);
	commit(x);
	x = begin(kv, false);
	assert_absent(x, T_ALPHA, V("a"));
	assert_get(x, T_ALPHA, V("b"), V("2"));
	assert_get(x, T_ALPHA, V("c"), V("3"));
	assert_absent(x, T_ALPHA, V("old"));
	cr_assert_eq(count_keys(x, T_ALPHA), 2);
	commit(x);
	dc_kv_close(kv);
}

/* 10,000 writes of varied sizes, empty and 2 MiB values among them, keys
 * written again and deleted far apart in the batch: more than one flush
 * of the PostgreSQL backend's batch, and one write on its own. */
Test(SUITE, a_batch_of_ten_thousand_records_is_kept_whole)
{
	static unsigned char big[2u << 20], buf[4096];
	dc_kv *kv = open_kv(false);
	dc_kv_txn *x = begin(kv, true);
	unsigned char kb[4];
	dc_kv_val v;

	for (uint32_t i = 0; i < 10000; i++)
		put(x, T_ALPHA, be32(kb, i),
		    big_val(buf, (i * 37) % sizeof(buf), i));
	put(x, T_ALPHA, be32(kb, 5), big_val(big, sizeof(big), 5));
	put(x, T_ALPHA, be32(kb, 6), big_val(big, sizeof(big), 6));
	put(x, T_ALPHA, be32(kb, 6), V("small after big"));
	for (uint32_t i = 0; i < 10000; i += 100) /* 100 of the first */
		cr_assert_eq(dc_kv_del(x, T_ALPHA, be32(kb, i + 1)), DTX_OK);
	put(x, T_ALPHA, be32(kb, 1), V("back"));
	commit(x);
	x = begin(kv, false);
	cr_assert_eq(count_keys(x, T_ALPHA), 10000 - 99);
	assert_get(x, T_ALPHA, be32(kb, 0), big_val(buf, 0, 0));
	assert_get(x, T_ALPHA, be32(kb, 1), V("back"));
	assert_absent(x, T_ALPHA, be32(kb, 101));
	assert_get(x, T_ALPHA, be32(kb, 5), big_val(big, sizeof(big), 5));
	assert_get(x, T_ALPHA, be32(kb, 6), V("small after big"));
	for (uint32_t i = 2; i < 10000; i += 997) {
		if (i % 100 == 1)
			continue;
		cr_assert_eq(dc_kv_get(x, T_ALPHA, be32(kb, i), &v), DTX_OK);
		if (i != 5 && i != 6)
			assert_val(v, big_val(buf, (i * 37) % sizeof(buf), i),
			           "record");
	}
	commit(x);
	dc_kv_close(kv);
}

/* Writes of both tables interleaved with what must see them or follow
 * them: a read, a read of many keys, a cursor, a range delete, an
 * expectation on a key the transaction wrote. */
Test(SUITE, a_batch_mixing_every_table_keeps_the_order_of_its_writes)
{
	static const dc_kv_val ks[3] = {{"k1", 2}, {"k2", 2}, {"zz", 2}};
	dc_kv *kv = open_kv(false);
	dc_kv_txn *x = begin(kv, true);
	dc_kv_val got[3];

	put(x, T_ALPHA, V("r1"), V("before range"));
	put(x, T_BETA, V("r1"), V("beta"));
	put(x, T_ALPHA, V("r2"), V("before range"));
	cr_assert_eq(dc_kv_del_range(x, T_ALPHA, V("r"), V("s")), DTX_OK);
	put(x, T_ALPHA, V("r2"), V("after range"));
	put(x, T_BETA, V("k1"), V("1"));
	put(x, T_ALPHA, V("k2"), V("alpha"));
	put(x, T_BETA, V("k2"), V("2"));
	cr_assert_eq(dc_kv_get_many(x, T_BETA, ks, 3, got), DTX_OK);
	assert_val(got[0], V("1"), "k1");
	assert_val(got[1], V("2"), "k2");
	cr_assert_null(got[2].data);
	cr_assert_eq(dc_kv_del(x, T_BETA, V("k1")), DTX_OK);
	assert_absent(x, T_BETA, V("k1"));
	put(x, T_ALPHA, V("fence"), V("e1"));
	cr_assert_eq(expect(x, T_ALPHA, V("fence"), V("e1")), DTX_OK);
	put(x, T_ALPHA, V("fence"), V("e2"));
	cr_assert_eq(count_keys(x, T_ALPHA), 3);
	commit(x);
	x = begin(kv, false);
	assert_absent(x, T_ALPHA, V("r1"));
	assert_get(x, T_ALPHA, V("r2"), V("after range"));
	assert_get(x, T_BETA, V("r1"), V("beta"));
	assert_absent(x, T_BETA, V("k1"));
	assert_get(x, T_BETA, V("k2"), V("2"));
	assert_get(x, T_ALPHA, V("fence"), V("e2"));
	cr_assert_eq(count_keys(x, T_ALPHA), 3);
	cr_assert_eq(count_keys(x, T_BETA), 2);
	commit(x);
	dc_kv_close(kv);
}

#ifndef KV_TEST_PG
Test(SUITE, an_lmdb_store_refuses_shared_writers)
{
	dc_kv_opts o = {.where = g_where,
	                .tables = g_tables,
	                .ntables = T_COUNT,
	                .shared = true};
	char err[DC_KV_ERR_MAX] = "";
	dc_kv *kv = NULL;

	cr_assert_eq(dc_kv_open(&o, &kv, NULL, err, sizeof(err)), DTX_EINVAL);
	cr_assert_not_null(strstr(err, "PostgreSQL"), "%s", err);
}
#else
static int open_shared(bool shared, dc_kv **ret, char *err, size_t len)
{
	dc_kv_opts o = {.where = g_where,
	                .tables = g_tables,
	                .ntables = T_COUNT,
	                .shared = shared};

	return dc_kv_open(&o, ret, NULL, err, len);
}

Test(SUITE, shared_writers_work_together_and_exclude_a_sole_writer)
{
	char err[DC_KV_ERR_MAX] = "";
	dc_kv *a = NULL, *b = NULL, *sole = NULL;

	cr_assert_eq(open_shared(true, &a, err, sizeof(err)), DTX_OK, "%s",
	             err);
	cr_assert_eq(open_shared(true, &b, err, sizeof(err)), DTX_OK, "%s",
	             err);
	cr_assert_eq(open_shared(false, &sole, err, sizeof(err)), DTX_EBUSY,
	             "a sole writer beside shared ones");
	cr_log_info("sole beside shared: %s", err);
	put1(a, T_ALPHA, V("a"), V("1"));
	put1(b, T_ALPHA, V("b"), V("2"));
	dc_kv_close(a);
	dc_kv_close(b);
	cr_assert_eq(open_shared(false, &sole, err, sizeof(err)), DTX_OK, "%s",
	             err);
	cr_assert_eq(open_shared(true, &a, err, sizeof(err)), DTX_EBUSY,
	             "a shared writer beside a sole one");
	dc_kv_close(sole);
}

#define RACE_ROUNDS 25

typedef struct racer {
	dc_kv *kv;
	pthread_barrier_t *go;
	char mine[16];
	int won, lost;
	bool absent; /* race to create the key instead of to change it */
} racer;

/* race_main: every round, read the key, wait for the other racer, then
 * compare and swap from what was read to its own value. */
static void *race_main(void *p)
{
	racer *r = p;
	char key[16], old[64], neu[32];

	for (int i = 0; i < RACE_ROUNDS; i++) {
		dc_kv_txn *x = begin(r->kv, false);
		dc_kv_val v, o = {NULL, 0};
		int rc;

		snprintf(key, sizeof(key), "k%d", r->absent ? i : 0);
		rc = dc_kv_get(x, T_ALPHA, (dc_kv_val){key, strlen(key)}, &v);
		if (rc == DTX_OK) {
			memcpy(old, v.data, v.len < 63 ? v.len : 63);
			o = (dc_kv_val){old, v.len < 63 ? v.len : 63};
		}
		commit(x);
		pthread_barrier_wait(r->go);
		snprintf(neu, sizeof(neu), "%s.%d", r->mine,
		         i); /* a new value */
		rc = cas_commit(r->kv, (dc_kv_val){key, strlen(key)}, o,
		                (dc_kv_val){neu, strlen(neu)});
		cr_assert(rc == DTX_OK || rc == DTX_ECONFLICT, "cas: %s (%s)",
		          dtx_strerror(rc), dc_kv_last_error());
		r->won += rc == DTX_OK;
		r->lost += rc == DTX_ECONFLICT;
		pthread_barrier_wait(r->go);
	}
	return NULL;
}

static void race(bool absent)
{
	char err[DC_KV_ERR_MAX] = "";
	pthread_barrier_t go;
	racer r[2] = {{.absent = absent}, {.absent = absent}};
	pthread_t th[2];

	pthread_barrier_init(&go, NULL, 2);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(open_shared(true, &r[i].kv, err, sizeof(err)),
		             DTX_OK, "%s", err);
		r[i].go = &go;
		snprintf(r[i].mine, sizeof(r[i].mine), "racer%d", i);
	}
	if (!absent)
		put1(r[0].kv, T_ALPHA, V("k0"), V("start"));
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, race_main, &r[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	cr_log_info("%s race: %d/%d won, %d/%d lost",
	            absent ? "create" : "change", r[0].won, r[1].won, r[0].lost,
	            r[1].lost);
	cr_assert_eq(r[0].won + r[1].won, RACE_ROUNDS, "one winner a round");
	cr_assert_eq(r[0].lost + r[1].lost, RACE_ROUNDS, "one loser a round");
	for (int i = 0; i < 2; i++)
		dc_kv_close(r[i].kv);
	pthread_barrier_destroy(&go);
}

Test(SUITE, two_writers_racing_a_compare_and_swap_one_wins)
{
	race(false);
}

Test(SUITE, two_writers_racing_to_create_a_key_one_wins)
{
	race(true);
}
#endif
