/*
 * store.c - the LMDB backend of dtx_store (barrier_store.h): a service's
 * own durable key-value database on LMDB, and its transactions.
 *
 * Owns: the LMDB environment of one store (the only file of libdtx that
 * includes <lmdb.h>), the translation of LMDB and errno codes into dtx_err
 * (store_err: nothing else compares against MDB_*), the LMDB tables
 * (index 0 is the barrier's "__dtx_barrier", then the service's tables),
 * the "__dtx_meta" table with the store's format number, the growth of
 * the map when LMDB reports it full, and the ops table that makes it a
 * dtx_store (the barrier's records are barrier_lmdb.c's).
 *
 * Never: gives durability away (default sync flags: a commit is on disk
 * when it returns), creates anything when opened read-only, reformats or
 * repairs a file that fails its checks, knows what a barrier record means
 * (barrier.c does), or prints (diagnostics go to sdk_logf).
 *
 * On disk: one LMDB environment (data.mdb, lock.mdb) in the store's
 * directory. "__dtx_meta" holds "format" = u32 little-endian, now 1; an
 * environment that has data but no such key is not a dtx store.
 *
 * Growth: LMDB can only change the map size while no transaction of the
 * process is open. Every transaction therefore runs inside the read side
 * of grow_lock (sdk_store_enter); a transaction that hits MDB_MAP_FULL is
 * aborted, the thread leaves, takes the write side, doubles the map
 * (sdk_store_grow) and runs its work again. The lock prefers writers, so a
 * busy store cannot starve a grow.
 *
 * Threads: MDB_NOTLS, so read transactions are not tied to a thread; a
 * write transaction is used by the thread that began it. LMDB lets one
 * write transaction run at a time; the others wait in mdb_txn_begin.
 * open/close are called by one thread, with no transaction running.
 */
#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sdk.h"

#define STORE_FORMAT     1u
#define MAP_SIZE_DEFAULT SDK_MAP_SIZE_DEFAULT
#define MAP_SIZE_MIN     ((size_t)64 << 10)
#define BARRIER_TABLE    "__dtx_barrier"
#define META_TABLE       "__dtx_meta"
#define KEY_FORMAT       "format"

#define LS(txn) ((lmdb_store *)(txn)->store->impl)

typedef struct store_table {
	char name[DTX_TABLE_NAME_MAX + 1];
	MDB_dbi dbi;
	bool present; /* false: a read-only open found no such table (empty) */
} store_table;

typedef struct lmdb_store {
	MDB_env *env; /* owned */
	char *dir;    /* owned */
	bool read_only;
	size_t map_size; /* written under the write side of grow_lock */
	bool lock_init;  /* grow_lock is initialised */
	pthread_rwlock_t grow_lock;
	MDB_dbi meta;
	size_t ntables; /* barrier + the service's tables */
	store_table tables[DTX_STORE_MAX_TABLES + 1];
} lmdb_store;

/* ---- errors ------------------------------------------------------------ */

/* store_err maps an LMDB or errno code to dtx_err: the one place that
 * does. MDB_MAP_RESIZED (another process grew the map) reads as
 * DTX_ELIMIT because its cure is the same: grow, then run again. */
static int store_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return DTX_OK;
	case MDB_NOTFOUND:
	case ENOENT:
		return DTX_ENOENT;
	case MDB_MAP_FULL:
	case MDB_MAP_RESIZED:
		return DTX_ELIMIT;
	case MDB_INVALID:
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INCOMPATIBLE:
		return DTX_ECORRUPT;
	case MDB_VERSION_MISMATCH:
		return DTX_EVERSION;
	case MDB_TXN_FULL:
	case MDB_BAD_VALSIZE:
		return DTX_ETOOBIG;
	case MDB_READERS_FULL:
		return DTX_EBUSY;
	case MDB_DBS_FULL:
	case MDB_BAD_DBI:
		return DTX_EINTERNAL;
	case ENOMEM:
		return DTX_ENOMEM;
	case ENOSPC:
		return DTX_ENOSPC;
	case EINVAL:
		return DTX_EINVAL;
	default: /* EIO, MDB_PANIC, MDB_BAD_TXN, EACCES, EROFS, ... */
		return DTX_EIO;
	}
}

/* store_fail logs "store <dir>: <what>: <lmdb text>" and translates rc. */
static int store_fail(const lmdb_store *store, int rc, const char *what)
{
	sdk_logf(DTX_LOG_WARN, "store %s: %s: %s", store->dir, what,
	         mdb_strerror(rc));
	return store_err(rc);
}

/* ---- options and names ------------------------------------------------- */

static bool opts_are_valid(const char *dir, const dtx_store_opts *o)
{
	return dir != NULL && dir[0] != '\0' && sdk_store_opts_are_valid(o);
}

/* ---- open -------------------------------------------------------------- */

static int store_alloc(const char *dir, const dtx_store_opts *o,
                       lmdb_store **ret_store)
{
	lmdb_store *store = calloc(1, sizeof(*store));
	pthread_rwlockattr_t attr;
	size_t i;

	if (store == NULL || (store->dir = strdup(dir)) == NULL) {
		free(store);
		return DTX_ENOMEM;
	}
	store->read_only = o->read_only;
	store->ntables = o->ntables + 1;
	sdk_strlcpy(store->tables[0].name, sizeof(store->tables[0].name),
	            BARRIER_TABLE);
	for (i = 0; i < o->ntables; i++)
		sdk_strlcpy(store->tables[i + 1].name, DTX_TABLE_NAME_MAX + 1,
		            o->tables[i]);
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(
	        &attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	store->lock_init = pthread_rwlock_init(&store->grow_lock, &attr) == 0;
	pthread_rwlockattr_destroy(&attr);
	*ret_store = store;
	return store->lock_init ? DTX_OK : DTX_ENOMEM;
}

/* make_dir creates the store's directory (one level) if it is missing. */
static int make_dir(const lmdb_store *store)
{
	if (mkdir(store->dir, 0755) == 0 || errno == EEXIST)
		return DTX_OK;
	sdk_logf(DTX_LOG_WARN, "store %s: mkdir: %s", store->dir,
	         strerror(errno));
	return errno == ENOENT ? DTX_EINVAL : store_err(errno);
}

/* data_file_exists: a read-only open needs an existing store, and must not
 * let LMDB create its lock file in a directory that holds no store. */
static bool data_file_exists(const lmdb_store *store)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/data.mdb", store->dir);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int env_open(lmdb_store *store)
{
	unsigned flags = MDB_NOTLS | (store->read_only ? MDB_RDONLY : 0);
	int rc = mdb_env_create(&store->env);

	if (rc != MDB_SUCCESS)
		return store_fail(store, rc, "create environment");
	rc = mdb_env_set_maxdbs(store->env, (MDB_dbi)store->ntables + 1);
	if (rc != MDB_SUCCESS)
		return store_fail(store, rc, "set max tables");
	rc = mdb_env_open(store->env, store->dir, flags, 0644);
	if (rc == MDB_INVALID)
		sdk_logf(DTX_LOG_WARN, "store %s: not an LMDB file",
		         store->dir);
	if (rc != MDB_SUCCESS)
		return store_fail(store, rc, "open");
	return DTX_OK;
}

/* size_map applies the wanted map size without shrinking a map that an
 * earlier run grew (LMDB keeps the size in the file), then records the
 * size in use. Runs before any transaction exists. */
static int size_map(lmdb_store *store, size_t want)
{
	MDB_envinfo info;
	int rc = mdb_env_info(store->env, &info);

	if (rc == MDB_SUCCESS && !store->read_only) {
		/* A fresh file has only its two meta pages. */
		if (want > info.me_mapsize || info.me_last_pgno <= 1)
			rc = mdb_env_set_mapsize(store->env, want);
		if (rc == MDB_SUCCESS)
			rc = mdb_env_info(store->env, &info);
	}
	if (rc != MDB_SUCCESS)
		return store_fail(store, rc, "set map size");
	store->map_size = info.me_mapsize;
	return DTX_OK;
}

/* env_is_empty: the main database holds nothing (a file we just made). */
static int env_is_empty(lmdb_store *store, MDB_txn *txn, bool *ret_empty)
{
	MDB_stat st;
	MDB_dbi main_dbi;
	int rc = mdb_dbi_open(txn, NULL, 0, &main_dbi);

	if (rc == MDB_SUCCESS)
		rc = mdb_stat(txn, main_dbi, &st);
	if (rc != MDB_SUCCESS)
		return store_fail(store, rc, "stat main database");
	*ret_empty = st.ms_entries == 0;
	return DTX_OK;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* write_format creates "__dtx_meta" in a new store and records the format. */
static int write_format(lmdb_store *store, MDB_txn *txn)
{
	uint8_t buf[4];
	MDB_val k = {strlen(KEY_FORMAT), (void *)KEY_FORMAT}, v = {4, buf};
	int rc = mdb_dbi_open(txn, META_TABLE, MDB_CREATE, &store->meta);

	put_le32(buf, STORE_FORMAT);
	if (rc == MDB_SUCCESS)
		rc = mdb_put(txn, store->meta, &k, &v, 0);
	if (rc != MDB_SUCCESS)
		return store_fail(store, rc, "write format");
	return DTX_OK;
}

/* check_format: an existing store must carry a format this build reads. */
static int check_format(lmdb_store *store, MDB_txn *txn)
{
	MDB_val k = {strlen(KEY_FORMAT), (void *)KEY_FORMAT}, v;
	int rc = mdb_dbi_open(txn, META_TABLE, 0, &store->meta);

	if (rc == MDB_SUCCESS)
		rc = mdb_get(txn, store->meta, &k, &v);
	if (rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE ||
	    (rc == MDB_SUCCESS && v.mv_size != 4)) {
		sdk_logf(DTX_LOG_WARN, "store %s: not a dtx store", store->dir);
		return DTX_ECORRUPT;
	}
	if (rc != MDB_SUCCESS)
		return store_fail(store, rc, "read format");
	if (get_le32(v.mv_data) == STORE_FORMAT)
		return DTX_OK;
	sdk_logf(DTX_LOG_WARN, "store %s: format %u, this build reads %u",
	         store->dir, get_le32(v.mv_data), STORE_FORMAT);
	return get_le32(v.mv_data) > STORE_FORMAT ? DTX_EVERSION : DTX_ECORRUPT;
}

/* open_tables opens every table; a writer creates the missing ones (a new
 * version of the service may add tables), a reader sees them as empty. */
static int open_tables(lmdb_store *store, MDB_txn *txn)
{
	unsigned flags = store->read_only ? 0 : MDB_CREATE;
	store_table *t;
	int rc;

	for (size_t i = 0; i < store->ntables; i++) {
		t = &store->tables[i];
		rc = mdb_dbi_open(txn, t->name, flags, &t->dbi);
		if (rc == MDB_NOTFOUND && store->read_only)
			continue;
		if (rc == MDB_INCOMPATIBLE)
			sdk_logf(DTX_LOG_WARN, "store %s: %s is not a table",
			         store->dir, t->name);
		if (rc != MDB_SUCCESS)
			return store_fail(store, rc, "open table");
		t->present = true;
	}
	return DTX_OK;
}

/* load_tables checks (or, in a new store, writes) the format and opens the
 * tables in one transaction, committed so that the handles stay open. */
static int load_tables(lmdb_store *store)
{
	MDB_txn *txn;
	bool empty = false;
	int rc = mdb_txn_begin(store->env, NULL,
	                       store->read_only ? MDB_RDONLY : 0, &txn);

	if (rc != MDB_SUCCESS)
		return store_fail(store, rc, "begin open transaction");
	rc = env_is_empty(store, txn, &empty);
	if (rc == DTX_OK && empty && store->read_only)
		rc = DTX_EINVAL; /* a writer made the file but no store yet */
	else if (rc == DTX_OK)
		rc = empty ? write_format(store, txn)
		           : check_format(store, txn);
	if (rc == DTX_OK)
		rc = open_tables(store, txn);
	if (rc != DTX_OK) {
		mdb_txn_abort(txn);
		return rc;
	}
	rc = mdb_txn_commit(txn);
	if (rc != MDB_SUCCESS)
		return store_fail(store, rc, "commit open transaction");
	return DTX_OK;
}

/* store_start: directory, environment, stale reader slots (a killed
 * reader), map size, tables - in that order, each only if the last
 * worked. */
static int store_start(lmdb_store *store, size_t want)
{
	int dead, rc = DTX_OK;

	if (!store->read_only)
		rc = make_dir(store);
	else if (!data_file_exists(store))
		rc = DTX_EINVAL;
	if (rc == DTX_OK)
		rc = env_open(store);
	if (rc == DTX_OK && (rc = mdb_reader_check(store->env, &dead)) != 0)
		rc = store_fail(store, rc, "reader check");
	if (rc == DTX_OK)
		rc = size_map(store, want < MAP_SIZE_MIN ? MAP_SIZE_MIN : want);
	if (rc == DTX_OK)
		rc = load_tables(store);
	return rc;
}

/* lmdb_close closes the environment and frees store (impl: an
 * lmdb_store, perhaps half-built). Accepts NULL. */
static void lmdb_close(void *impl)
{
	lmdb_store *store = impl;

	if (store == NULL)
		return;
	if (store->env != NULL)
		mdb_env_close(store->env);
	if (store->lock_init)
		pthread_rwlock_destroy(&store->grow_lock);
	free(store->dir);
	free(store);
}

/* ---- the grow lock ----------------------------------------------------- */

static size_t lmdb_enter(void *impl)
{
	lmdb_store *store = impl;

	pthread_rwlock_rdlock(&store->grow_lock);
	return store->map_size;
}

static void lmdb_leave(void *impl)
{
	lmdb_store *store = impl;

	pthread_rwlock_unlock(&store->grow_lock);
}

/* grow_locked sets the next map size; the caller holds the write side. A
 * read-only store adopts the size the writing process set (size 0). */
static int grow_locked(lmdb_store *store)
{
	size_t want = store->read_only ? 0 : store->map_size * 2;
	MDB_envinfo info;
	int rc;

	if (!store->read_only && want < store->map_size)
		return DTX_ELIMIT;
	rc = mdb_env_set_mapsize(store->env, want);
	if (rc == MDB_SUCCESS)
		rc = mdb_env_info(store->env, &info);
	if (rc != MDB_SUCCESS)
		return store_fail(store, rc, "grow map");
	sdk_logf(DTX_LOG_INFO, "store %s: map grown from %zu to %zu bytes",
	         store->dir, store->map_size, (size_t)info.me_mapsize);
	store->map_size = info.me_mapsize;
	return DTX_OK;
}

static int lmdb_grow(void *impl, size_t seen)
{
	lmdb_store *store = impl;
	int rv = DTX_OK;

	pthread_rwlock_wrlock(&store->grow_lock);
	if (store->map_size == seen)
		rv = grow_locked(store);
	pthread_rwlock_unlock(&store->grow_lock);
	return rv;
}

/* ---- transactions ------------------------------------------------------ */

static int lmdb_txn_begin(dtx_store *base, dtx_txn *parent, bool read_only,
                          dtx_txn *ret_txn)
{
	lmdb_store *store = base->impl;
	MDB_txn *mt;
	int rc;

	rc = mdb_txn_begin(store->env, parent != NULL ? parent->h : NULL,
	                   read_only ? MDB_RDONLY : 0, &mt);
	if (rc != MDB_SUCCESS && rc != MDB_MAP_RESIZED)
		return store_fail(store, rc, "begin transaction");
	if (rc != MDB_SUCCESS)
		return store_err(rc);
	ret_txn->store = base;
	ret_txn->h = mt;
	ret_txn->depth = parent != NULL ? parent->depth + 1 : 0;
	ret_txn->read_only = read_only;
	return DTX_OK;
}

static int lmdb_txn_commit(dtx_txn *txn)
{
	int rc = mdb_txn_commit(txn->h);

	txn->h = NULL; /* LMDB frees the transaction even on failure */
	if (rc == MDB_MAP_FULL)
		txn->map_full = true;
	if (rc != MDB_SUCCESS && rc != MDB_MAP_FULL)
		return store_fail(LS(txn), rc, "commit");
	return store_err(rc);
}

static void lmdb_txn_abort(dtx_txn *txn)
{
	if (txn->h != NULL)
		mdb_txn_abort(txn->h);
	txn->h = NULL;
}

/* ---- reads and writes -------------------------------------------------- */

static bool key_is_valid(const dtx_txn *txn, size_t klen)
{
	return klen > 0 && klen <= (size_t)mdb_env_get_maxkeysize(LS(txn)->env);
}

int sdk_txn_get_at(dtx_txn *txn, unsigned t, const void *key, size_t klen,
                   const void **ret_val, size_t *ret_len)
{
	const store_table *tb = &LS(txn)->tables[t];
	MDB_val k = {klen, (void *)key}, v;
	int rc;

	if (!key_is_valid(txn, klen))
		return DTX_EINVAL;
	if (!tb->present)
		return DTX_ENOENT;
	rc = mdb_get(txn->h, tb->dbi, &k, &v);
	if (rc != MDB_SUCCESS)
		return rc == MDB_NOTFOUND ? DTX_ENOENT
		                          : store_fail(LS(txn), rc, "get");
	*ret_val = v.mv_data;
	*ret_len = v.mv_size;
	return DTX_OK;
}

/* txn_write puts (or with MDB_RESERVE reserves) key in table t. A full map
 * marks txn: LMDB has poisoned it, and every later write says so too. */
static int txn_write(dtx_txn *txn, unsigned t, MDB_val *k, MDB_val *v,
                     unsigned flags)
{
	int rc;

	if (txn->read_only)
		return DTX_EINVAL;
	if (k->mv_size > (size_t)mdb_env_get_maxkeysize(LS(txn)->env))
		return DTX_ETOOBIG;
	if (k->mv_size == 0)
		return DTX_EINVAL;
	if (txn->map_full)
		return DTX_ELIMIT;
	rc = mdb_put(txn->h, LS(txn)->tables[t].dbi, k, v, flags);
	if (rc == MDB_MAP_FULL)
		txn->map_full = true;
	else if (rc != MDB_SUCCESS)
		return store_fail(LS(txn), rc, "put");
	return store_err(rc);
}

int sdk_txn_reserve_at(dtx_txn *txn, unsigned t, const void *key, size_t klen,
                       size_t vlen, void **ret_buf)
{
	MDB_val k = {klen, (void *)key}, v = {vlen, NULL};
	int rv = txn_write(txn, t, &k, &v, MDB_RESERVE);

	if (rv == DTX_OK)
		*ret_buf = v.mv_data;
	return rv;
}

/* scan_cursor walks the cursor c from prefix while keys start with it. */
static int scan_cursor(MDB_cursor *c, const void *prefix, size_t plen,
                       dtx_scan_fn fn, void *arg)
{
	MDB_val k = {plen, (void *)prefix}, v;
	int rc = mdb_cursor_get(c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
	int rv;

	while (rc == MDB_SUCCESS) {
		if (plen > 0 &&
		    (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0))
			return DTX_OK;
		rv = fn(arg, k.mv_data, k.mv_size, v.mv_data, v.mv_size);
		if (rv != DTX_OK)
			return rv;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	return rc == MDB_NOTFOUND ? DTX_OK : store_err(rc);
}

int sdk_txn_scan_at(dtx_txn *txn, unsigned t, const void *prefix, size_t plen,
                    dtx_scan_fn fn, void *arg)
{
	const store_table *tb = &LS(txn)->tables[t];
	MDB_cursor *c;
	int rc;

	if (fn == NULL || (prefix == NULL && plen > 0))
		return DTX_EINVAL;
	if (!tb->present)
		return DTX_OK;
	rc = mdb_cursor_open(txn->h, tb->dbi, &c);
	if (rc != MDB_SUCCESS)
		return store_fail(LS(txn), rc, "open cursor");
	rc = scan_cursor(c, prefix, plen, fn, arg);
	mdb_cursor_close(c);
	return rc;
}

/* walk_from walks the cursor c from the first key >= from (flen 0: the
 * first key) to the end of the table. */
static int walk_from(MDB_cursor *c, const void *from, size_t flen,
                     dtx_scan_fn fn, void *arg)
{
	MDB_val k = {flen, (void *)from}, v;
	int rc = mdb_cursor_get(c, &k, &v, flen ? MDB_SET_RANGE : MDB_FIRST);
	int rv;

	while (rc == MDB_SUCCESS) {
		rv = fn(arg, k.mv_data, k.mv_size, v.mv_data, v.mv_size);
		if (rv != DTX_OK)
			return rv;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	return rc == MDB_NOTFOUND ? DTX_OK : store_err(rc);
}

int sdk_txn_scan_from_at(dtx_txn *txn, unsigned t, const void *from,
                         size_t flen, dtx_scan_fn fn, void *arg)
{
	const store_table *tb = &LS(txn)->tables[t];
	MDB_cursor *c;
	int rc;

	if (fn == NULL || (from == NULL && flen > 0))
		return DTX_EINVAL;
	if (!tb->present)
		return DTX_OK;
	rc = mdb_cursor_open(txn->h, tb->dbi, &c);
	if (rc != MDB_SUCCESS)
		return store_fail(LS(txn), rc, "open cursor");
	rc = walk_from(c, from, flen, fn, arg);
	mdb_cursor_close(c);
	return rc;
}

/* del_run deletes, with cursor c, every key from prefix on that starts
 * with it, and counts them in *ret_n. */
static int del_run(dtx_txn *txn, MDB_cursor *c, const void *prefix, size_t plen,
                   size_t *ret_n)
{
	MDB_val k = {plen, (void *)prefix}, v;
	int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);

	while (rc == MDB_SUCCESS && k.mv_size >= plen &&
	       memcmp(k.mv_data, prefix, plen) == 0) {
		rc = mdb_cursor_del(c, 0);
		if (rc != MDB_SUCCESS)
			break;
		(*ret_n)++;
		/* after a delete, NEXT gives the key that followed it */
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (rc == MDB_MAP_FULL)
		txn->map_full = true;
	if (rc == MDB_SUCCESS || rc == MDB_NOTFOUND)
		return DTX_OK;
	return rc == MDB_MAP_FULL ? DTX_ELIMIT : store_fail(LS(txn), rc, "del");
}

int sdk_txn_del_prefix_at(dtx_txn *txn, unsigned t, const void *prefix,
                          size_t plen, size_t *ret_n)
{
	const store_table *tb = &LS(txn)->tables[t];
	MDB_cursor *c;
	size_t n = 0;
	int rc;

	if (txn->read_only || prefix == NULL || !key_is_valid(txn, plen))
		return DTX_EINVAL;
	if (txn->map_full)
		return DTX_ELIMIT;
	if (!tb->present)
		return DTX_OK;
	rc = mdb_cursor_open(txn->h, tb->dbi, &c);
	if (rc != MDB_SUCCESS)
		return store_fail(LS(txn), rc, "open cursor");
	rc = del_run(txn, c, prefix, plen, &n);
	mdb_cursor_close(c);
	if (rc == DTX_OK)
		*ret_n = n;
	return rc;
}

/* ---- the service's tables (ops) ---------------------------------------- */

static int lmdb_kv_put(dtx_txn *txn, unsigned t, const void *key, size_t klen,
                       const void *val, size_t vlen)
{
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};

	return txn_write(txn, t, &k, &v, 0);
}

static int lmdb_kv_del(dtx_txn *txn, unsigned t, const void *key, size_t klen)
{
	MDB_val k = {klen, (void *)key};
	int rc;

	if (!key_is_valid(txn, klen))
		return DTX_EINVAL;
	if (txn->map_full)
		return DTX_ELIMIT;
	rc = mdb_del(txn->h, LS(txn)->tables[t].dbi, &k, NULL);
	if (rc == MDB_MAP_FULL)
		txn->map_full = true;
	else if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
		return store_fail(LS(txn), rc, "del");
	return store_err(rc);
}

/* lmdb_lock_gids: LMDB's single writer already serialises every group. */
static int lmdb_lock_gids(dtx_txn *txn, const char *const *gids, size_t n)
{
	(void)txn;
	(void)gids;
	(void)n;
	return DTX_OK;
}

static const sdk_store_ops lmdb_ops = {
        .version = SDK_STORE_OPS_VERSION,
        .name = "lmdb",
        .close = lmdb_close,
        .enter = lmdb_enter,
        .leave = lmdb_leave,
        .grow = lmdb_grow,
        .txn_begin = lmdb_txn_begin,
        .txn_commit = lmdb_txn_commit,
        .txn_abort = lmdb_txn_abort,
        .lock_gids = lmdb_lock_gids,
        .rec_get = sdk_lmdb_rec_get,
        .rec_put = sdk_lmdb_rec_put,
        .rec_scan = sdk_lmdb_rec_scan,
        .rec_gids = sdk_lmdb_rec_gids,
        .rec_del_gid = sdk_lmdb_rec_del_gid,
        .kv_get = sdk_txn_get_at,
        .kv_put = lmdb_kv_put,
        .kv_del = lmdb_kv_del,
        .kv_scan = sdk_txn_scan_at,
};

int dtx_store_open(const char *dir, const dtx_store_opts *opts,
                   dtx_store **ret_store)
{
	dtx_store_opts defaults;
	lmdb_store *store = NULL;
	int rv;

	dtx_store_opts_init(&defaults);
	if (opts == NULL)
		opts = &defaults;
	if (ret_store == NULL || !opts_are_valid(dir, opts))
		return DTX_EINVAL;
	rv = store_alloc(dir, opts, &store);
	if (rv == DTX_OK)
		rv = store_start(store, opts->map_size ? opts->map_size
		                                       : MAP_SIZE_DEFAULT);
	if (rv != DTX_OK) {
		lmdb_close(store);
		return rv;
	}
	return sdk_store_create(&lmdb_ops, store, dir, opts, ret_store);
}
