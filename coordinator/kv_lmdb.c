/*
 * kv_lmdb.c - the LMDB backend of kv.h: a store is one LMDB environment
 * in a directory (data.mdb, lock.mdb, and dtxd.lock for the writer), a
 * table is one named sub-database.
 *
 * Owns: the environment (the only file of the coordinator that includes
 * <lmdb.h>) - its creation, flags (MDB_NOTLS: read transactions may run on
 * any thread; MDB_NOSYNC only when a unit test asked for no_sync), map
 * size and growth, stale reader slots; the directory (made one level
 * deep for a writer); the writer lock; the translation of LMDB and errno
 * codes into dtx_err (lmdb_xlate: nothing else compares against MDB_*);
 * the table handles and which tables exist.
 *
 * Never: looks inside a key or a value, retries, repairs or reformats a
 * file (an LMDB file of another program is refused by the log, and
 * nothing is written to it: see "Tables"), or gives durability away
 * unless no_sync was asked for.
 *
 * One writer per directory. A writer holds an exclusive flock(2) on
 * DIR/dtxd.lock from before the environment opens until close, and
 * writes its pid there; a second writer on the same directory gets
 * DTX_EBUSY naming the holder at once (LMDB itself would let two
 * processes write the same file in turn, and their in-memory states would
 * drift apart). The kernel drops the lock when the holder dies, kill -9
 * included, so a restart never finds a stale one. A read-only handle
 * (dtxctl --log) takes no lock and works beside a writer.
 *
 * Tables. Open opens the tables the file has. A table the file lacks is
 * absent for a reader (empty: a log made before the table existed); for
 * a writer it is created by its first write transaction, in that
 * transaction - so a writer that refuses the file (the log's format check
 * fails) and aborts leaves it as it was. dc_kv_has_table is true for
 * every table of a writer. A table name that is a plain key of the main
 * database is not ours: DTX_ECORRUPT.
 *
 * Reasons (dc_kv_last_error). Open, usage and grow write whole sentences
 * naming the file; every other failure writes "<data file>: <LMDB's
 * text>" and leaves naming the operation to the caller (the log adds its
 * own words, so its messages read as they did before kv.h). DTX_ENOENT of
 * get, seek and next is an answer, not a failure: it writes no reason
 * (the commit path asks for absent keys once per new transaction).
 *
 * Threads: one write transaction at a time per handle; read transactions
 * on any thread. The set of tables that exist changes only when a
 * writer's write transaction that created one commits; a read
 * transaction takes that set when it begins (before LMDB's own begin, so
 * it never uses a handle its snapshot lacks).
 */
#include "kv_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lmdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dtx/dtx.h>

#define LMDB_MAP_SIZE_DEFAULT ((size_t)256 << 20)
#define LMDB_MAP_SIZE_MAX     ((size_t)64 << 30)
#define LMDB_NAME_MAX         32 /* a table name and its NUL (kv.c) */

typedef struct lmdb_store {
	dc_kv base;
	MDB_env *env;
	MDB_dbi dbi[DC_KV_TABLES_MAX];
	char names[DC_KV_TABLES_MAX][LMDB_NAME_MAX];
	int ntables;
	atomic_uint present; /* bit t: table t exists in the file */
	size_t map_size;
	size_t map_size_max;
	bool read_only;
	int lock_fd; /* DIR/dtxd.lock, flock'ed by a writer; -1: none */
	char *dir;
	char *path; /* dir/data.mdb */
} lmdb_store;

typedef struct lmdb_txn {
	dc_kv_txn base;
	lmdb_store *kv;
	MDB_txn *txn;
	unsigned present; /* tables this transaction may use */
	unsigned created; /* tables it created (a writer's first) */
	bool write;
	bool spoilt; /* an expectation failed: commit aborts (ECONFLICT) */
} lmdb_txn;

typedef struct lmdb_cursor {
	dc_kv_cursor base;
	lmdb_txn *txn;
	MDB_cursor *cur; /* NULL: the table is absent (always at the end) */
	bool positioned;
} lmdb_cursor;

/* ---- errors ---- */

/* lmdb_xlate maps an LMDB or errno code to dtx_err: the one place that
 * does. */
static int lmdb_xlate(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return DTX_OK;
	case MDB_NOTFOUND:
	case ENOENT:
		return DTX_ENOENT;
	case MDB_MAP_FULL:
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
	case ENOMEM:
		return DTX_ENOMEM;
	case ENOSPC:
		return DTX_ENOSPC;
	case EINVAL:
		return DTX_EINVAL;
	default: /* EIO, MDB_PANIC, EACCES, EROFS, ... */
		return DTX_EIO;
	}
}

/* fail_what records "<path>: <what>: <LMDB text>" and translates rc. */
static int fail_what(const lmdb_store *kv, int rc, const char *what)
{
	return dc_kv_fail(lmdb_xlate(rc), "%s: %s: %s", kv->path, what,
	                  mdb_strerror(rc));
}

/* fail_op records "<path>: <LMDB text>" (the caller names the operation)
 * and translates rc. */
static int fail_op(const lmdb_store *kv, int rc)
{
	return dc_kv_fail(lmdb_xlate(rc), "%s: %s", kv->path, mdb_strerror(rc));
}

static int fail_errno(int err, const char *path, const char *what)
{
	return dc_kv_fail(lmdb_xlate(err), "%s: %s: %s", path, what,
	                  strerror(err));
}

static MDB_val mval(dc_kv_val v)
{
	return (MDB_val){v.len, (void *)v.data};
}

static dc_kv_val kval(MDB_val v)
{
	return (dc_kv_val){v.mv_data, v.mv_size};
}

/* ---- open ---- */

static int make_dir(const lmdb_store *kv)
{
	if (mkdir(kv->dir, 0755) == 0 || errno == EEXIST)
		return DTX_OK;
	return fail_errno(errno, kv->dir, "mkdir");
}

/* lock_holder reads the pid a writer left in the lock file at fd (0 if
 * there is none to read). */
static long lock_holder(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

/* take_writer_lock makes this process the one writer of kv's directory
 * (see the top comment), or says who is. */
static int take_writer_lock(lmdb_store *kv)
{
	char path[PATH_MAX], pid[32];
	int n;

	snprintf(path, sizeof(path), "%s/dtxd.lock", kv->dir);
	kv->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (kv->lock_fd < 0)
		return fail_errno(errno, path, "open");
	if (flock(kv->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK)
			return fail_errno(errno, path, "flock");
		return dc_kv_fail(DTX_EBUSY,
		                  "log directory %s is in use by another dtxd "
		                  "(pid %ld holds %s)",
		                  kv->dir, lock_holder(kv->lock_fd), path);
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(kv->lock_fd, 0) != 0 ||
	    pwrite(kv->lock_fd, pid, (size_t)n, 0) != n)
		return fail_errno(errno, path, "write pid");
	return DTX_OK;
}

/* env_open creates and opens the LMDB environment. */
static int env_open(lmdb_store *kv, bool no_sync)
{
	unsigned flags = MDB_NOTLS;
	int rc = mdb_env_create(&kv->env);

	if (rc != MDB_SUCCESS)
		return fail_what(kv, rc, "create environment");
	rc = mdb_env_set_maxdbs(kv->env, DC_KV_TABLES_MAX);
	if (rc != MDB_SUCCESS)
		return fail_what(kv, rc, "set max tables");
	flags |= kv->read_only ? MDB_RDONLY : 0;
	flags |= no_sync ? MDB_NOSYNC : 0;
	rc = mdb_env_open(kv->env, kv->dir, flags, 0644);
	if (rc == MDB_INVALID)
		return dc_kv_fail(DTX_ECORRUPT,
		                  "%s: not an LMDB file or unreadable",
		                  kv->path);
	if (rc != MDB_SUCCESS)
		return fail_what(kv, rc, "open");
	return DTX_OK;
}

/* size_map applies the configured map size without shrinking a map that
 * an earlier run grew (LMDB keeps the size in the file), then records the
 * size in use. Runs before any transaction exists. */
static int size_map(lmdb_store *kv, size_t want)
{
	MDB_envinfo info;
	int rc = mdb_env_info(kv->env, &info);

	if (rc == MDB_SUCCESS && !kv->read_only) {
		/* A fresh file has only its two meta pages. */
		if (want > info.me_mapsize || info.me_last_pgno <= 1)
			rc = mdb_env_set_mapsize(kv->env, want);
		if (rc == MDB_SUCCESS)
			rc = mdb_env_info(kv->env, &info);
	}
	if (rc != MDB_SUCCESS)
		return fail_what(kv, rc, "set map size");
	kv->map_size = info.me_mapsize;
	return DTX_OK;
}

/* open_existing opens every table the file has (in txn, a read
 * transaction whose commit keeps the handles) and says whether the main
 * database was empty (a file just made). */
static int open_existing(lmdb_store *kv, MDB_txn *txn, bool *ret_fresh)
{
	MDB_stat st;
	MDB_dbi main_dbi;
	unsigned present = 0;
	int rc = mdb_dbi_open(txn, NULL, 0, &main_dbi);

	if (rc == MDB_SUCCESS)
		rc = mdb_stat(txn, main_dbi, &st);
	if (rc != MDB_SUCCESS)
		return fail_what(kv, rc, "stat main database");
	for (int t = 0; t < kv->ntables; t++) {
		rc = mdb_dbi_open(txn, kv->names[t], 0, &kv->dbi[t]);
		if (rc == MDB_INCOMPATIBLE)
			return dc_kv_fail(DTX_ECORRUPT,
			                  "%s: no table %s: not a dtx log",
			                  kv->path, kv->names[t]);
		if (rc == MDB_SUCCESS)
			present |= 1u << t;
		else if (rc != MDB_NOTFOUND)
			return fail_what(kv, rc, "open table");
	}
	atomic_store(&kv->present, present);
	*ret_fresh = st.ms_entries == 0;
	return DTX_OK;
}

static int load_tables(lmdb_store *kv, bool *ret_fresh)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(kv->env, NULL, MDB_RDONLY, &txn);

	if (rc != MDB_SUCCESS)
		return fail_what(kv, rc, "begin open transaction");
	rc = open_existing(kv, txn, ret_fresh);
	if (rc != DTX_OK) {
		mdb_txn_abort(txn);
		return rc;
	}
	rc = mdb_txn_commit(txn);
	if (rc != MDB_SUCCESS)
		return fail_what(kv, rc, "commit open transaction");
	return DTX_OK;
}

/* store_start: directory, writer lock, environment, stale reader slots (a
 * killed dtxctl), map size, tables - in that order, each step only if the
 * last worked. */
static int store_start(lmdb_store *kv, const dc_kv_opts *opts, bool *ret_fresh)
{
	size_t want = opts->map_size ? opts->map_size : LMDB_MAP_SIZE_DEFAULT;
	int dead, rc = kv->read_only ? DTX_OK : make_dir(kv);

	if (rc == DTX_OK && !kv->read_only)
		rc = take_writer_lock(kv);
	if (rc == DTX_OK)
		rc = env_open(kv, opts->no_sync);
	if (rc == DTX_OK) {
		rc = mdb_reader_check(kv->env, &dead);
		if (rc != MDB_SUCCESS)
			rc = fail_what(kv, rc, "reader check");
	}
	if (rc == DTX_OK)
		rc = size_map(kv, want);
	if (rc == DTX_OK)
		rc = load_tables(kv, ret_fresh);
	return rc;
}

static void lmdb_close(dc_kv *base)
{
	lmdb_store *kv = (lmdb_store *)base;

	if (kv->env != NULL)
		mdb_env_close(kv->env);
	if (kv->lock_fd >= 0)
		close(kv->lock_fd); /* releases the flock */
	free(kv->dir);
	free(kv->path);
	free(kv);
}

static int store_alloc(const dc_kv_opts *opts, lmdb_store **ret_kv)
{
	lmdb_store *kv = calloc(1, sizeof(*kv));
	size_t n = strlen(opts->where);

	if (kv == NULL)
		return dc_kv_fail(DTX_ENOMEM, "log: out of memory");
	kv->base.ops = &dc_kv_lmdb_ops;
	kv->lock_fd = -1;
	kv->dir = strdup(opts->where);
	kv->path = malloc(n + sizeof("/data.mdb"));
	if (kv->dir == NULL || kv->path == NULL) {
		lmdb_close(&kv->base);
		return dc_kv_fail(DTX_ENOMEM, "log: out of memory");
	}
	memcpy(kv->path, opts->where, n);
	memcpy(kv->path + n, "/data.mdb", sizeof("/data.mdb"));
	kv->ntables = opts->ntables;
	for (int t = 0; t < opts->ntables; t++) /* [a-z_]{1,31}: kv.c */
		snprintf(kv->names[t], LMDB_NAME_MAX, "%s", opts->tables[t]);
	kv->read_only = opts->read_only;
	kv->map_size_max =
	        opts->map_size_max ? opts->map_size_max : LMDB_MAP_SIZE_MAX;
	*ret_kv = kv;
	return DTX_OK;
}

static int lmdb_open(const dc_kv_opts *opts, dc_kv **ret_kv, bool *ret_fresh)
{
	lmdb_store *kv = NULL;
	int rc;

	if (opts->shared)
		return dc_kv_fail(DTX_EINVAL,
		                  "%s: an LMDB store has one writer process "
		                  "(shared writers need PostgreSQL)",
		                  opts->where);
	rc = store_alloc(opts, &kv);
	if (rc != DTX_OK)
		return rc;
	rc = store_start(kv, opts, ret_fresh);
	if (rc != DTX_OK) {
		lmdb_close(&kv->base);
		return rc;
	}
	*ret_kv = &kv->base;
	return DTX_OK;
}

static const char *lmdb_describe(const dc_kv *base)
{
	return ((const lmdb_store *)base)->path;
}

static bool lmdb_has_table(const dc_kv *base, int t)
{
	lmdb_store *kv = (lmdb_store *)base; /* present is atomic */

	if (t < 0 || t >= kv->ntables)
		return false;
	return !kv->read_only || (atomic_load(&kv->present) & (1u << t));
}

/* ---- room ---- */

/* table_pages adds the pages of table dbi in txn to *pages. */
static int table_pages(const lmdb_store *kv, MDB_txn *txn, MDB_dbi dbi,
                       uint64_t *pages)
{
	MDB_stat st;
	int rc = mdb_stat(txn, dbi, &st);

	if (rc != MDB_SUCCESS)
		return fail_what(kv, rc, "stat table");
	*pages += st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
	return DTX_OK;
}

/* usage_pages counts the pages of the main database and of every table
 * that exists, in one read transaction. */
static int usage_pages(lmdb_store *kv, uint64_t *pages)
{
	unsigned present = atomic_load(&kv->present);
	MDB_txn *txn;
	int rc = mdb_txn_begin(kv->env, NULL, MDB_RDONLY, &txn);

	if (rc != MDB_SUCCESS)
		return fail_what(kv, rc, "begin read transaction");
	rc = table_pages(kv, txn, 1, pages); /* the main table (names) */
	for (int t = 0; rc == DTX_OK && t < kv->ntables; t++)
		if (present & (1u << t))
			rc = table_pages(kv, txn, kv->dbi[t], pages);
	mdb_txn_abort(txn);
	return rc;
}

static int lmdb_usage(dc_kv *base, dc_kv_usage *ret_usage)
{
	lmdb_store *kv = (lmdb_store *)base;
	uint64_t pages = 2; /* LMDB's two meta pages */
	MDB_envinfo info;
	MDB_stat env;
	int rc = usage_pages(kv, &pages);

	if (rc == DTX_OK && (mdb_env_stat(kv->env, &env) != MDB_SUCCESS ||
	                     mdb_env_info(kv->env, &info) != MDB_SUCCESS))
		rc = dc_kv_fail(DTX_EIO, "%s: env stat failed", kv->path);
	if (rc != DTX_OK)
		return rc;
	ret_usage->used_bytes = pages * env.ms_psize;
	ret_usage->file_bytes =
	        ((uint64_t)info.me_last_pgno + 1) * env.ms_psize;
	ret_usage->max_bytes = kv->map_size_max;
	return DTX_OK;
}

/* lmdb_grow doubles the map size, up to map_size_max. */
static int lmdb_grow(dc_kv *base)
{
	lmdb_store *kv = (lmdb_store *)base;
	size_t want = kv->map_size * 2;
	int rc;

	if (kv->map_size >= kv->map_size_max)
		return dc_kv_fail(DTX_ELIMIT,
		                  "%s: map size %zu is at its maximum",
		                  kv->path, kv->map_size);
	if (want > kv->map_size_max || want < kv->map_size)
		want = kv->map_size_max;
	rc = mdb_env_set_mapsize(kv->env, want);
	if (rc != MDB_SUCCESS)
		return fail_what(kv, rc, "grow map");
	kv->map_size = want;
	return DTX_OK;
}

/* ---- transactions ---- */

/* txn_begin_mdb begins LMDB's transaction; a read adopts, once, a map
 * grown by another process. That can only happen in a read-only process
 * (the writer is the one that grows the map), which reads from one
 * thread. */
static int txn_begin_mdb(lmdb_store *kv, bool write, MDB_txn **ret_txn)
{
	int rc = mdb_txn_begin(kv->env, NULL, write ? 0 : MDB_RDONLY, ret_txn);

	if (rc == MDB_MAP_RESIZED && !write) {
		mdb_env_set_mapsize(kv->env, 0);
		rc = mdb_txn_begin(kv->env, NULL, MDB_RDONLY, ret_txn);
	}
	return rc == MDB_SUCCESS ? DTX_OK : fail_op(kv, rc);
}

/* create_missing creates, in the write transaction tx, the tables the
 * file lacks (see "Tables" in the top comment). */
static int create_missing(lmdb_txn *tx)
{
	lmdb_store *kv = tx->kv;

	for (int t = 0; t < kv->ntables; t++) {
		int rc;

		if (tx->present & (1u << t))
			continue;
		rc = mdb_dbi_open(tx->txn, kv->names[t], MDB_CREATE,
		                  &kv->dbi[t]);
		if (rc != MDB_SUCCESS)
			return fail_op(kv, rc);
		tx->created |= 1u << t;
	}
	tx->present |= tx->created;
	return DTX_OK;
}

static int lmdb_begin(dc_kv *base, bool write, dc_kv_txn **ret_txn)
{
	lmdb_store *kv = (lmdb_store *)base;
	unsigned all = (1u << kv->ntables) - 1;
	lmdb_txn *tx;
	int rc;

	if (write && kv->read_only)
		return dc_kv_fail(DTX_EINVAL, "%s: opened read-only", kv->path);
	if ((tx = calloc(1, sizeof(*tx))) == NULL)
		return dc_kv_fail(DTX_ENOMEM, "%s: out of memory", kv->path);
	tx->base.ops = &dc_kv_lmdb_ops;
	tx->kv = kv;
	tx->write = write;
	tx->present = atomic_load(&kv->present); /* before LMDB's begin */
	rc = txn_begin_mdb(kv, write, &tx->txn);
	if (rc == DTX_OK && write && tx->present != all &&
	    (rc = create_missing(tx)) != DTX_OK)
		mdb_txn_abort(tx->txn);
	if (rc != DTX_OK) {
		free(tx);
		return rc;
	}
	*ret_txn = &tx->base;
	return DTX_OK;
}

static int lmdb_commit(dc_kv_txn *base)
{
	lmdb_txn *tx = (lmdb_txn *)base;
	lmdb_store *kv = tx->kv;
	int rc;

	if (tx->spoilt) {
		mdb_txn_abort(tx->txn);
		free(tx);
		return dc_kv_fail(DTX_ECONFLICT,
		                  "%s: an expected value had changed: nothing "
		                  "written",
		                  kv->path);
	}
	rc = mdb_txn_commit(tx->txn); /* frees txn even on failure */

	if (rc == MDB_SUCCESS && tx->created != 0)
		atomic_fetch_or(&kv->present, tx->created);
	free(tx);
	return rc == MDB_SUCCESS ? DTX_OK : fail_op(kv, rc);
}

static void lmdb_abort(dc_kv_txn *base)
{
	lmdb_txn *tx = (lmdb_txn *)base;

	mdb_txn_abort(tx->txn); /* closes the handles it created */
	free(tx);
}

/* ---- reads and writes ---- */

static bool txn_has(const lmdb_txn *tx, int t)
{
	return t >= 0 && t < tx->kv->ntables && (tx->present & (1u << t));
}

static int lmdb_get(dc_kv_txn *base, int t, dc_kv_val key, dc_kv_val *ret_val)
{
	lmdb_txn *tx = (lmdb_txn *)base;
	MDB_val k = mval(key), v;
	int rc;

	if (!txn_has(tx, t))
		return DTX_ENOENT;
	rc = mdb_get(tx->txn, tx->kv->dbi[t], &k, &v);
	if (rc == MDB_NOTFOUND)
		return DTX_ENOENT;
	if (rc != MDB_SUCCESS)
		return fail_op(tx->kv, rc);
	*ret_val = kval(v);
	return DTX_OK;
}

/* lmdb_get_many: one mdb_get per key (an embedded B-tree has no round
 * trip to save); values stay valid until the transaction's next write. */
static int lmdb_get_many(dc_kv_txn *base, int t, const dc_kv_val *keys,
                         size_t n, dc_kv_val *ret_vals)
{
	static const char empty[1] = "";

	for (size_t i = 0; i < n; i++) {
		int rc = lmdb_get(base, t, keys[i], &ret_vals[i]);

		if (rc == DTX_ENOENT)
			ret_vals[i] = (dc_kv_val){NULL, 0};
		else if (rc != DTX_OK)
			return rc;
		else if (ret_vals[i].data == NULL)
			ret_vals[i].data = empty;
	}
	return DTX_OK;
}

/* write_check: a write needs a write transaction and a table number. */
static int write_check(const lmdb_txn *tx, int t)
{
	if (!tx->write)
		return dc_kv_fail(DTX_EINVAL, "%s: write in a read transaction",
		                  tx->kv->path);
	if (!txn_has(tx, t))
		return dc_kv_fail(DTX_EINVAL, "%s: no table #%d", tx->kv->path,
		                  t);
	return DTX_OK;
}

static int lmdb_put(dc_kv_txn *base, int t, dc_kv_val key, dc_kv_val val)
{
	lmdb_txn *tx = (lmdb_txn *)base;
	MDB_val k = mval(key), v = mval(val);
	int rc = write_check(tx, t);

	if (rc != DTX_OK)
		return rc;
	rc = mdb_put(tx->txn, tx->kv->dbi[t], &k, &v, 0);
	return rc == MDB_SUCCESS ? DTX_OK : fail_op(tx->kv, rc);
}

static int lmdb_del(dc_kv_txn *base, int t, dc_kv_val key)
{
	lmdb_txn *tx = (lmdb_txn *)base;
	MDB_val k = mval(key);
	int rc = write_check(tx, t);

	if (rc != DTX_OK)
		return rc;
	rc = mdb_del(tx->txn, tx->kv->dbi[t], &k, NULL);
	if (rc == MDB_NOTFOUND)
		return DTX_OK;
	return rc == MDB_SUCCESS ? DTX_OK : fail_op(tx->kv, rc);
}

/* key_below: k < to in kv.h's order (memcmp, then the shorter first). */
static bool key_below(const MDB_val *k, dc_kv_val to)
{
	size_t n = k->mv_size < to.len ? k->mv_size : to.len;
	int c = n > 0 ? memcmp(k->mv_data, to.data, n) : 0;

	return c < 0 || (c == 0 && k->mv_size < to.len);
}

/* lmdb_del_range deletes the first key >= from while it is below to,
 * seeking again after each delete (a delete moves the cursor). */
static int lmdb_del_range(dc_kv_txn *base, int t, dc_kv_val from, dc_kv_val to)
{
	lmdb_txn *tx = (lmdb_txn *)base;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = write_check(tx, t);

	if (rc != DTX_OK)
		return rc;
	if ((rc = mdb_cursor_open(tx->txn, tx->kv->dbi[t], &cur)) != 0)
		return fail_op(tx->kv, rc);
	for (;;) {
		k = mval(from);
		rc = from.len > 0 ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)
		                  : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
		if (rc != MDB_SUCCESS || !key_below(&k, to))
			break;
		if ((rc = mdb_cursor_del(cur, 0)) != MDB_SUCCESS)
			break;
	}
	mdb_cursor_close(cur);
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
		return fail_op(tx->kv, rc);
	return DTX_OK;
}

/* lmdb_expect: the writer is alone (the store's lock), so what it reads
 * now stays so until its commit: a get and a compare. */
static int lmdb_expect(dc_kv_txn *base, int t, dc_kv_val key, dc_kv_val val)
{
	lmdb_txn *tx = (lmdb_txn *)base;
	MDB_val k = mval(key), v;
	int rc = write_check(tx, t);

	if (rc != DTX_OK)
		return rc;
	rc = mdb_get(tx->txn, tx->kv->dbi[t], &k, &v);
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
		return fail_op(tx->kv, rc);
	if (val.data == NULL && rc == MDB_NOTFOUND)
		return DTX_OK;
	if (val.data != NULL && rc == MDB_SUCCESS && v.mv_size == val.len &&
	    memcmp(v.mv_data, val.data, val.len) == 0)
		return DTX_OK;
	tx->spoilt = true;
	return dc_kv_fail(DTX_ECONFLICT,
	                  "%s: table %s: the key does not hold the expected "
	                  "value",
	                  tx->kv->path, tx->kv->names[t]);
}

/* ---- cursors ---- */

static int lmdb_cursor_open(dc_kv_txn *base, int t, dc_kv_cursor **ret_cur)
{
	lmdb_txn *tx = (lmdb_txn *)base;
	lmdb_cursor *c = calloc(1, sizeof(*c));
	int rc;

	if (c == NULL)
		return dc_kv_fail(DTX_ENOMEM, "%s: out of memory",
		                  tx->kv->path);
	c->base.ops = &dc_kv_lmdb_ops;
	c->txn = tx;
	if (txn_has(tx, t) &&
	    (rc = mdb_cursor_open(tx->txn, tx->kv->dbi[t], &c->cur)) != 0) {
		free(c);
		return fail_op(tx->kv, rc);
	}
	*ret_cur = &c->base;
	return DTX_OK;
}

static void lmdb_cursor_close(dc_kv_cursor *base)
{
	lmdb_cursor *c = (lmdb_cursor *)base;

	if (c->cur != NULL)
		mdb_cursor_close(c->cur);
	free(c);
}

/* cursor_get runs op on c and hands back the key and value it lands on. */
static int cursor_get(lmdb_cursor *c, MDB_val *k, MDB_cursor_op op,
                      dc_kv_val *ret_key, dc_kv_val *ret_val)
{
	MDB_val v;
	int rc;

	c->positioned = true;
	if (c->cur == NULL)
		return DTX_ENOENT;
	rc = mdb_cursor_get(c->cur, k, &v, op);
	if (rc == MDB_NOTFOUND)
		return DTX_ENOENT;
	if (rc != MDB_SUCCESS)
		return fail_op(c->txn->kv, rc);
	*ret_key = kval(*k);
	if (ret_val != NULL)
		*ret_val = kval(v);
	return DTX_OK;
}

static int lmdb_seek(dc_kv_cursor *base, const dc_kv_val *key,
                     dc_kv_val *ret_key, dc_kv_val *ret_val)
{
	lmdb_cursor *c = (lmdb_cursor *)base;
	MDB_val k = {0, NULL};

	if (key == NULL || key->len == 0)
		return cursor_get(c, &k, MDB_FIRST, ret_key, ret_val);
	k = mval(*key);
	return cursor_get(c, &k, MDB_SET_RANGE, ret_key, ret_val);
}

static int lmdb_next(dc_kv_cursor *base, dc_kv_val *ret_key, dc_kv_val *ret_val)
{
	lmdb_cursor *c = (lmdb_cursor *)base;
	MDB_val k = {0, NULL};

	if (!c->positioned)
		return dc_kv_fail(DTX_EINVAL, "%s: cursor never positioned",
		                  c->txn->kv->path);
	return cursor_get(c, &k, MDB_NEXT, ret_key, ret_val);
}

const dc_kv_ops dc_kv_lmdb_ops = {
        .name = "lmdb",
        .open = lmdb_open,
        .close = lmdb_close,
        .describe = lmdb_describe,
        .has_table = lmdb_has_table,
        .usage = lmdb_usage,
        .grow = lmdb_grow,
        .begin = lmdb_begin,
        .commit = lmdb_commit,
        .abort = lmdb_abort,
        .get = lmdb_get,
        .get_many = lmdb_get_many,
        .put = lmdb_put,
        .del = lmdb_del,
        .del_range = lmdb_del_range,
        .expect = lmdb_expect,
        .cursor_open = lmdb_cursor_open,
        .cursor_close = lmdb_cursor_close,
        .seek = lmdb_seek,
        .next = lmdb_next,
};
