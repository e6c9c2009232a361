/*
 * store_test.c - dtx_store and dtx_txn on a real LMDB store on disk.
 *
 * Each test opens its store in a fresh mkdtemp directory. A read-only
 * inspector is always another process (a forked child): LMDB forbids
 * opening one environment twice in one process.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dtx/dtx.h"

/* ---- fixture ----------------------------------------------------------- */

static char dir[64];
static char sdir[128]; /* the store's directory, inside dir */
static dtx_store *store;
static const char *const tables[] = {"kv", "other"};

/* rm_tree removes path and the files in it (one level of subdirs). */
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

static void setup(void)
{
	strcpy(dir, "/tmp/dtx-store-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(sdir, sizeof(sdir), "%s/store", dir);
	store = NULL;
}

static void teardown(void)
{
	dtx_store_close(store);
	rm_tree(dir);
}

TestSuite(store, .init = setup, .fini = teardown);

static dtx_store *open_store(size_t map_size, bool read_only)
{
	dtx_store_opts o;
	dtx_store *s = NULL;

	dtx_store_opts_init(&o);
	o.tables = tables;
	o.ntables = 2;
	o.map_size = map_size;
	o.read_only = read_only;
	cr_assert_eq(dtx_store_open(sdir, &o, &s), DTX_OK);
	return s;
}

/* ---- helpers run inside transactions ----------------------------------- */

typedef struct kv {
	const char *table;
	const char *key;
	const char *val;
} kv;

static int put_kv(void *arg, dtx_txn *txn)
{
	const kv *p = arg;

	return dtx_txn_put(txn, p->table, p->key, strlen(p->key), p->val,
	                   strlen(p->val));
}

static void put(const char *table, const char *key, const char *val)
{
	kv p = {table, key, val};

	cr_assert_eq(dtx_store_update(store, put_kv, &p), DTX_OK);
}

typedef struct lookup {
	const char *table;
	const char *key;
	char val[256];
	int rv;
} lookup;

static int get_kv(void *arg, dtx_txn *txn)
{
	lookup *l = arg;
	const void *v;
	size_t n;

	l->rv = dtx_txn_get(txn, l->table, l->key, strlen(l->key), &v, &n);
	if (l->rv == DTX_OK) {
		cr_assert_lt(n, sizeof(l->val));
		memcpy(l->val, v, n);
		l->val[n] = '\0';
	}
	return DTX_OK;
}

/* get returns the value of key in table of s ("" if absent: see rv). */
static lookup get_in(dtx_store *s, const char *table, const char *key)
{
	lookup l = {.table = table, .key = key};

	cr_assert_eq(dtx_store_view(s, get_kv, &l), DTX_OK);
	return l;
}

typedef struct collect {
	char keys[512];
	int n;
} collect;

static int collect_key(void *arg, const void *key, size_t klen, const void *val,
                       size_t vlen)
{
	collect *c = arg;

	strncat(c->keys, key, klen);
	strcat(c->keys, "=");
	strncat(c->keys, val, vlen);
	strcat(c->keys, ";");
	return ++c->n == 100 ? DTX_ELIMIT : DTX_OK;
}

typedef struct scan_args {
	const char *prefix;
	collect c;
	int rv;
} scan_args;

static int scan_prefix(void *arg, dtx_txn *txn)
{
	scan_args *a = arg;

	a->rv = dtx_txn_scan(txn, "kv", a->prefix, strlen(a->prefix),
	                     collect_key, &a->c);
	return DTX_OK;
}

static int del_b1(void *arg, dtx_txn *txn)
{
	int *rv = arg;

	*rv = dtx_txn_del(txn, "kv", "b1", 2);
	return DTX_OK;
}

/* ---- tests ------------------------------------------------------------- */

Test(store, puts_gets_deletes_and_scans_by_prefix)
{
	scan_args a = {.prefix = "b"};
	int rv = -1;

	store = open_store(0, false);
	put("kv", "a", "1");
	put("kv", "b1", "2");
	put("kv", "b2", "3");
	put("kv", "c", "4");
	put("other", "b1", "x");
	cr_assert_str_eq(get_in(store, "kv", "b2").val, "3");
	cr_assert_str_eq(get_in(store, "other", "b1").val, "x");
	cr_assert_eq(dtx_store_view(store, scan_prefix, &a), DTX_OK);
	cr_assert_eq(a.rv, DTX_OK);
	cr_assert_str_eq(a.c.keys, "b1=2;b2=3;");
	cr_assert_eq(dtx_store_update(store, del_b1, &rv), DTX_OK);
	cr_assert_eq(rv, DTX_OK);
	cr_assert_eq(get_in(store, "kv", "b1").rv, DTX_ENOENT);
	cr_assert_eq(dtx_store_update(store, del_b1, &rv), DTX_OK);
	cr_assert_eq(rv, DTX_ENOENT);
	memset(&a, 0, sizeof(a));
	a.prefix = "";
	cr_assert_eq(dtx_store_view(store, scan_prefix, &a), DTX_OK);
	cr_assert_str_eq(a.c.keys, "a=1;b2=3;c=4;");
}

static int put_then_fail(void *arg, dtx_txn *txn)
{
	cr_assert_eq(dtx_txn_put(txn, "kv", "k", 1, "v", 1), DTX_OK);
	return DTX_EINVAL;
}

Test(store, update_writes_nothing_when_fn_fails)
{
	store = open_store(0, false);
	cr_assert_eq(dtx_store_update(store, put_then_fail, NULL), DTX_EINVAL);
	cr_assert_eq(get_in(store, "kv", "k").rv, DTX_ENOENT);
}

Test(store, reopen_keeps_the_data)
{
	store = open_store(0, false);
	put("kv", "k", "v");
	dtx_store_close(store);
	store = open_store(0, false);
	cr_assert_str_eq(get_in(store, "kv", "k").val, "v");
}

static int bad_calls(void *arg, dtx_txn *txn)
{
	char big[600];
	const void *v;
	size_t n;

	memset(big, 'k', sizeof(big));
	cr_assert_eq(dtx_txn_put(txn, "nope", "k", 1, "v", 1), DTX_EINVAL);
	cr_assert_eq(dtx_txn_put(txn, "__dtx_barrier", "k", 1, "v", 1),
	             DTX_EINVAL);
	cr_assert_eq(dtx_txn_get(txn, "nope", "k", 1, &v, &n), DTX_EINVAL);
	cr_assert_eq(dtx_txn_del(txn, NULL, "k", 1), DTX_EINVAL);
	cr_assert_eq(dtx_txn_put(txn, "kv", "k", 0, "v", 1), DTX_EINVAL);
	cr_assert_eq(dtx_txn_put(txn, "kv", big, sizeof(big), "v", 1),
	             DTX_ETOOBIG);
	return DTX_OK;
}

Test(store, refuses_unknown_tables_and_bad_keys)
{
	store = open_store(0, false);
	cr_assert_eq(dtx_store_update(store, bad_calls, NULL), DTX_OK);
}

Test(store, open_refuses_bad_options)
{
	const char *bad[][2] = {{"kv", "kv"},
	                        {"__x", "y"},
	                        {"a b", "y"},
	                        {"", "y"},
	                        {"kv", "é"}};
	dtx_store_opts o;
	dtx_store *s = NULL;

	dtx_store_opts_init(&o);
	o.ntables = 2;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.tables = bad[i];
		cr_assert_eq(dtx_store_open(sdir, &o, &s), DTX_EINVAL, "%zu",
		             i);
	}
	o.tables = tables;
	o.ntables = DTX_STORE_MAX_TABLES + 1;
	cr_assert_eq(dtx_store_open(sdir, &o, &s), DTX_EINVAL);
	o.ntables = 2;
	cr_assert_eq(dtx_store_open("", &o, &s), DTX_EINVAL);
	cr_assert_null(s);
	dtx_store_close(NULL);
}

Test(store, read_only_open_of_a_missing_store_creates_nothing)
{
	dtx_store_opts o;
	dtx_store *s = NULL;
	struct stat st;
	char path[256];

	dtx_store_opts_init(&o);
	o.read_only = true;
	cr_assert_eq(dtx_store_open(sdir, &o, &s), DTX_EINVAL);
	cr_assert_neq(stat(sdir, &st), 0);
	cr_assert_eq(mkdir(sdir, 0755), 0);
	cr_assert_eq(dtx_store_open(sdir, &o, &s), DTX_EINVAL);
	snprintf(path, sizeof(path), "%s/lock.mdb", sdir);
	cr_assert_neq(stat(path, &st), 0);
	cr_assert_null(s);
}

/* ---- a read-only inspector in another process -------------------------- */

static int put_in_ro(void *arg, dtx_txn *txn)
{
	return dtx_txn_put(txn, "kv", "k", 1, "v", 1);
}

/* inspector runs in the child: it opens the store read-only, checks what
 * the parent wrote before and after, and exits 0 if all held. It reports
 * by exit status, not through criterion's asserts. */
static int inspector(int from_parent, int to_parent)
{
	dtx_store_opts o;
	dtx_store *ro = NULL;
	char c = 0;

	dtx_store_opts_init(&o);
	o.tables = tables;
	o.ntables = 2;
	o.read_only = true;
	if (dtx_store_open(sdir, &o, &ro) != DTX_OK)
		return 9;
	if (strcmp(get_in(ro, "kv", "k1").val, "one") != 0)
		return 1;
	if (get_in(ro, "kv", "k2").rv != DTX_ENOENT)
		return 2;
	if (dtx_store_update(ro, put_in_ro, NULL) != DTX_EINVAL)
		return 3;
	if (write(to_parent, "r", 1) != 1 || read(from_parent, &c, 1) != 1)
		return 4;
	if (strcmp(get_in(ro, "kv", "k2").val, "two") != 0)
		return 5;
	dtx_store_close(ro);
	return 0;
}

Test(store, read_only_open_sees_the_writers_commits_and_refuses_writes)
{
	int down[2], up[2], status;
	char c;
	pid_t pid;

	store = open_store(0, false);
	put("kv", "k1", "one");
	cr_assert_eq(pipe(down), 0);
	cr_assert_eq(pipe(up), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(inspector(down[0], up[1]));
	cr_assert_eq(read(up[0], &c, 1), 1, "inspector failed early");
	put("kv", "k2", "two");
	cr_assert_eq(write(down[1], "w", 1), 1);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	cr_assert_eq(WEXITSTATUS(status), 0, "inspector step %d failed",
	             WEXITSTATUS(status));
}

/* ---- a full map -------------------------------------------------------- */

#define BIG_VALUE 4000

typedef struct fill {
	int first, count; /* keys first .. first + count - 1 */
	int runs;         /* times fn ran */
	int limits;       /* DTX_ELIMIT seen by fn */
} fill;

static int fill_fn(void *arg, dtx_txn *txn)
{
	static char val[BIG_VALUE];
	fill *f = arg;
	char key[32];
	int rv;

	f->runs++;
	for (int i = f->first; i < f->first + f->count; i++) {
		snprintf(key, sizeof(key), "key-%05d", i);
		memset(val, 'a' + i % 26, sizeof(val));
		rv = dtx_txn_put(txn, "kv", key, strlen(key), val, sizeof(val));
		if (rv != DTX_OK) {
			f->limits += rv == DTX_ELIMIT;
			return rv;
		}
	}
	return DTX_OK;
}

static int check_fill(void *arg, dtx_txn *txn)
{
	const int *n = arg;
	const void *v;
	size_t len;
	char key[32];

	for (int i = 0; i < *n; i++) {
		snprintf(key, sizeof(key), "key-%05d", i);
		cr_assert_eq(dtx_txn_get(txn, "kv", key, strlen(key), &v, &len),
		             DTX_OK, "%s", key);
		cr_assert_eq(len, BIG_VALUE);
		cr_assert_eq(((const char *)v)[BIG_VALUE - 1], 'a' + i % 26);
	}
	return DTX_OK;
}

Test(store, grows_a_full_map_and_keeps_the_data)
{
	fill f = {.first = 0, .count = 100};
	int n = 300;

	store = open_store(256 << 10, false);
	/* one update larger than the whole map: put says ELIMIT, it grows */
	cr_assert_eq(dtx_store_update(store, fill_fn, &f), DTX_OK);
	cr_assert_geq(f.limits, 1);
	cr_assert_eq(f.runs, f.limits + 1);
	/* many small updates */
	for (f.first = 100, f.count = 10; f.first < n; f.first += 10)
		cr_assert_eq(dtx_store_update(store, fill_fn, &f), DTX_OK);
	cr_assert_eq(dtx_store_view(store, check_fill, &n), DTX_OK);
	dtx_store_close(store);
	store = open_store(256 << 10, false); /* not shrunk below the data */
	cr_assert_eq(dtx_store_view(store, check_fill, &n), DTX_OK);
	f.first = n;
	f.count = 10;
	f.limits = 0;
	cr_assert_eq(dtx_store_update(store, fill_fn, &f), DTX_OK);
	cr_assert_eq(f.limits, 0);
}

/* ---- files that are not a store ---------------------------------------- */

static size_t read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	cr_assert_geq(fd, 0);
	n = read(fd, buf, cap);
	close(fd);
	cr_assert_geq(n, 0);
	return (size_t)n;
}

Test(store, garbage_data_file_is_corrupt_and_left_unchanged)
{
	static char garbage[16384], after[sizeof(garbage) + 1];
	dtx_store_opts o;
	dtx_store *s = NULL;
	char path[256];
	FILE *f;

	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (char)(i * 7 + 3);
	cr_assert_eq(mkdir(sdir, 0755), 0);
	snprintf(path, sizeof(path), "%s/data.mdb", sdir);
	cr_assert_not_null(f = fopen(path, "w"));
	cr_assert_eq(fwrite(garbage, 1, sizeof(garbage), f), sizeof(garbage));
	fclose(f);
	dtx_store_opts_init(&o);
	cr_assert_eq(dtx_store_open(sdir, &o, &s), DTX_ECORRUPT);
	o.read_only = true;
	cr_assert_eq(dtx_store_open(sdir, &o, &s), DTX_ECORRUPT);
	cr_assert_eq(read_file(path, after, sizeof(after)), sizeof(garbage));
	cr_assert_eq(memcmp(garbage, after, sizeof(garbage)), 0);
	cr_assert_null(s);
}

Test(store, an_lmdb_file_without_dtx_meta_is_not_a_store)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {1, (void *)"k"}, v = {1, (void *)"v"};
	dtx_store *s = NULL;

	cr_assert_eq(mkdir(sdir, 0755), 0);
	cr_assert_eq(mdb_env_create(&env), 0);
	cr_assert_eq(mdb_env_open(env, sdir, 0, 0644), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	cr_assert_eq(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
	cr_assert_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	cr_assert_eq(dtx_store_open(sdir, NULL, &s), DTX_ECORRUPT);
	cr_assert_null(s);
}
