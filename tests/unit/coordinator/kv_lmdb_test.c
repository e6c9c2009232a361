/*
 * kv_lmdb_test.c - what the LMDB backend of kv.h (coordinator/kv_lmdb.c)
 * does beyond the contract every backend keeps (tests/unit/kv_test.c
 * runs that one): when a writer creates the tables a file lacks, a name
 * that is not a table, map growth and its limit, a reader adopting a map
 * another process grew. A real LMDB environment in a fresh temporary
 * directory per test; raw LMDB calls only to make a file of another
 * program, which is why this file includes <lmdb.h>.
 */
#include <criterion/criterion.h>

#include <ftw.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dtx/dtx.h>

#include "kv.h"

#define MIB ((size_t)1 << 20)

static char g_root[64]; /* mkdtemp directory of this test */
static char g_dir[128]; /* the store's directory inside it */

static void setup(void)
{
	snprintf(g_root, sizeof(g_root), "/tmp/dtx_kv_lmdb_test.XXXXXX");
	cr_assert_not_null(mkdtemp(g_root));
	snprintf(g_dir, sizeof(g_dir), "%s/kv", g_root);
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

TestSuite(kv_lmdb, .init = setup, .fini = teardown);

static const char *const tables[] = {"meta", "later"};

/* open_kv opens g_dir with the first ntables tables (the reason of a
 * failure: dc_kv_last_error). */
static int open_kv(int ntables, bool ro, size_t map, size_t max, dc_kv **kv)
{
	dc_kv_opts o = {.where = g_dir,
	                .tables = tables,
	                .ntables = ntables,
	                .read_only = ro,
	                .map_size = map,
	                .map_size_max = max,
	                .no_sync = true};
	/* no criterion call here: the forked writer uses it too */
	return dc_kv_open(&o, kv, NULL, NULL, 0);
}

static dc_kv_val str(const char *s)
{
	return (dc_kv_val){s, strlen(s)};
}

/* put_val writes k -> v into table t in a write transaction of its own
 * (no assertion: the forked writer uses it too). */
static int put_val(dc_kv *kv, int t, const char *k, dc_kv_val v)
{
	dc_kv_txn *txn;
	int rc = dc_kv_begin(kv, true, &txn);

	if (rc != DTX_OK)
		return rc;
	rc = dc_kv_put(txn, t, str(k), v);
	if (rc != DTX_OK) {
		dc_kv_abort(txn);
		return rc;
	}
	return dc_kv_commit(txn);
}

static void put_one(dc_kv *kv, int t, const char *k, const char *v)
{
	cr_assert_eq(put_val(kv, t, k, str(v)), DTX_OK, "%s",
	             dc_kv_last_error());
}

Test(kv_lmdb, a_writer_creates_a_missing_table_in_its_first_commit_only)
{
	dc_kv *kv;
	dc_kv_txn *txn;

	cr_assert_eq(open_kv(1, false, 0, 0, &kv), DTX_OK);
	put_one(kv, 0, "format", "1");
	dc_kv_close(kv);

	/* A writer that aborts (a log refusing the file) leaves it alone. */
	cr_assert_eq(open_kv(2, false, 0, 0, &kv), DTX_OK);
	cr_assert(dc_kv_has_table(kv, 1));
	cr_assert_eq(dc_kv_begin(kv, true, &txn), DTX_OK);
	dc_kv_abort(txn);
	dc_kv_close(kv);
	cr_assert_eq(open_kv(2, true, 0, 0, &kv), DTX_OK);
	cr_assert_not(dc_kv_has_table(kv, 1), "an aborted writer made it");
	dc_kv_close(kv);

	/* One that commits creates it, with what it wrote. */
	cr_assert_eq(open_kv(2, false, 0, 0, &kv), DTX_OK);
	put_one(kv, 1, "k", "v");
	dc_kv_close(kv);
	cr_assert_eq(open_kv(2, true, 0, 0, &kv), DTX_OK);
	cr_assert(dc_kv_has_table(kv, 1));
	dc_kv_close(kv);
}

Test(kv_lmdb, a_reader_sees_a_missing_table_empty_and_writes_nothing)
{
	dc_kv *kv;
	dc_kv_txn *txn;
	dc_kv_cursor *cur;
	dc_kv_val k, v;

	cr_assert_eq(open_kv(1, false, 0, 0, &kv), DTX_OK);
	put_one(kv, 0, "format", "1");
	dc_kv_close(kv);
	cr_assert_eq(open_kv(2, true, 0, 0, &kv), DTX_OK);
	cr_assert_eq(dc_kv_begin(kv, true, &txn), DTX_EINVAL);
	cr_assert_eq(dc_kv_begin(kv, false, &txn), DTX_OK);
	cr_assert_eq(dc_kv_get(txn, 1, str("k"), &v), DTX_ENOENT);
	cr_assert_eq(dc_kv_cursor_open(txn, 1, &cur), DTX_OK);
	cr_assert_eq(dc_kv_next(cur, &k, &v), DTX_EINVAL); /* never placed */
	cr_assert_eq(dc_kv_seek(cur, NULL, &k, &v), DTX_ENOENT);
	cr_assert_eq(dc_kv_next(cur, &k, &v), DTX_ENOENT);
	dc_kv_cursor_close(cur);
	cr_assert_eq(dc_kv_put(txn, 0, str("k"), str("v")), DTX_EINVAL);
	cr_assert_eq(dc_kv_get(txn, 0, str("format"), &v), DTX_OK);
	cr_assert_eq(v.len, 1);
	dc_kv_abort(txn);
	dc_kv_close(kv);
}

Test(kv_lmdb, a_table_name_that_is_a_plain_key_is_not_our_store)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	char name[] = "meta", val[] = "x";
	MDB_val k = {4, name}, v = {1, val};
	dc_kv *kv;

	cr_assert_eq(mkdir(g_dir, 0755), 0);
	cr_assert_eq(mdb_env_create(&env), 0);
	cr_assert_eq(mdb_env_open(env, g_dir, 0, 0644), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	cr_assert_eq(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
	cr_assert_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	cr_assert_eq(open_kv(1, false, 0, 0, &kv), DTX_ECORRUPT);
	cr_assert_not_null(strstr(dc_kv_last_error(), "no table meta"), "%s",
	                   dc_kv_last_error());
	cr_assert_eq(open_kv(1, true, 0, 0, &kv), DTX_ECORRUPT);
}

/* fill writes 64 KiB values into table 0 of kv, one commit each, from
 * key number from until the map is full (DTX_ELIMIT, returned; at most
 * 1000 of them); *ret_n says how many went in. */
static int fill(dc_kv *kv, int from, int *ret_n)
{
	static char big[64 << 10];
	char key[16];
	int i, rc = DTX_OK;

	for (i = from; rc == DTX_OK && i < from + 1000; i++) {
		snprintf(key, sizeof(key), "k%06d", i);
		rc = put_val(kv, 0, key, (dc_kv_val){big, sizeof(big)});
	}
	*ret_n = i - 1 - from;
	return rc;
}

Test(kv_lmdb, a_full_map_grows_up_to_its_maximum_and_no_further)
{
	dc_kv_usage u;
	dc_kv *kv;
	int n = 0, grown = 0;

	cr_assert_eq(open_kv(1, false, 1 * MIB, 4 * MIB, &kv), DTX_OK);
	do {
		int more = 0;

		cr_assert_eq(fill(kv, n, &more), DTX_ELIMIT, "%s",
		             dc_kv_last_error());
		cr_assert_gt(more, 0);
		n += more;
	} while (dc_kv_grow(kv) == DTX_OK && ++grown < 10);
	cr_assert_eq(grown, 2, "1 -> 2 -> 4 MiB");
	cr_assert_not_null(strstr(dc_kv_last_error(), "at its maximum"), "%s",
	                   dc_kv_last_error());
	cr_assert_eq(dc_kv_usage_read(kv, &u), DTX_OK);
	cr_assert_eq(u.max_bytes, 4 * MIB);
	cr_assert_leq(u.used_bytes, u.file_bytes);
	cr_assert_leq(u.file_bytes, 4 * MIB);
	cr_assert_geq(u.used_bytes, (uint64_t)n * (64 << 10));
	dc_kv_close(kv);
}

/* writer_child grows the map to 4 MiB and fills it past the 1 MiB the
 * parent's reader mapped, after the parent says it opened. */
static void writer_child(int go_fd, int done_fd)
{
	dc_kv *kv;
	int n;
	char c;

	if (open_kv(1, false, 1 * MIB, 4 * MIB, &kv) != DTX_OK ||
	    put_val(kv, 0, "first", str("1")) != DTX_OK)
		_exit(2);
	if (write(done_fd, "o", 1) != 1 || read(go_fd, &c, 1) != 1)
		_exit(3);
	if (fill(kv, 0, &n) != DTX_ELIMIT || dc_kv_grow(kv) != DTX_OK ||
	    dc_kv_grow(kv) != DTX_OK || fill(kv, 1000, &n) != DTX_ELIMIT ||
	    dc_kv_grow(kv) != DTX_ELIMIT)
		_exit(4);
	if (put_val(kv, 0, "last", str("1")) != DTX_OK) /* a small one */
		_exit(5);
	dc_kv_close(kv);
	_exit(write(done_fd, "d", 1) == 1 ? 0 : 6);
}

Test(kv_lmdb, a_reader_adopts_a_map_another_process_grew)
{
	int go[2], done[2], status;
	dc_kv *kv;
	dc_kv_txn *txn;
	dc_kv_val v;
	pid_t pid;
	char c;

	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(done), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		writer_child(go[0], done[1]);
	cr_assert_eq(read(done[0], &c, 1), 1); /* the store exists */
	cr_assert_eq(open_kv(1, true, 0, 0, &kv), DTX_OK);
	cr_assert_eq(write(go[1], "g", 1), 1);
	cr_assert_eq(read(done[0], &c, 1), 1); /* grown, filled, closed */
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%d", status);
	cr_assert_eq(dc_kv_begin(kv, false, &txn), DTX_OK, "%s",
	             dc_kv_last_error());
	cr_assert_eq(dc_kv_get(txn, 0, str("last"), &v), DTX_OK);
	dc_kv_abort(txn);
	dc_kv_close(kv);
}
