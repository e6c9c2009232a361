/*
 * kv.h - the store under the coordinator's log: named, ordered tables of
 * byte keys and byte values, read and written in transactions.
 *
 * Two backends implement it, each in its own file and the only file that
 * includes its library: LMDB (kv_lmdb.c: a directory, the embedded
 * default) and PostgreSQL (kv_pg.c: a libpq connection URI, for a store
 * that outlives one machine). log.c is the only caller. It owns
 * everything that gives the bytes their meaning - the record framing and
 * its CRC, the key layout, the format version, retention, the counts,
 * quarantine - so those rules are written once and hold on every store.
 * A backend owns only bytes, order, transactions, durability and the
 * one-writer rule, and never looks inside a key or a value.
 *
 * Why the seam is here and not at dc_log: the log's rules are most of its
 * code and all of its risk; a store below them is small and can be tested
 * by one conformance suite (tests/unit/kv_test.c runs on both).
 *
 * Semantics every backend keeps:
 *   - Keys compare as unsigned bytes, shorter first on a common prefix
 *     (memcmp, then length): LMDB's default order, PostgreSQL's bytea.
 *   - A write transaction is atomic and, when dc_kv_commit returned
 *     DTX_OK, durable (fsync'ed, or committed with synchronous_commit on).
 *     On any error of commit, none of it is durable - or, for a lost
 *     connection to PostgreSQL, the outcome is unknown: the caller treats
 *     both as crash-only (stop, reopen, recover).
 *   - One write transaction at a time per store handle; the thread that
 *     began a transaction is the only one that uses it. Read transactions
 *     may run on several threads at once, each a consistent snapshot.
 *   - A read of a write transaction sees its own writes.
 *   - Borrowed bytes: a value from dc_kv_get stays valid until the next
 *     call on the same transaction; a cursor's key and value until its
 *     next move or close, or the next write on its transaction.
 *   - One writer per store: a second writer handle on the same store
 *     (directory, database) fails at open with DTX_EBUSY and a reason
 *     naming the holder; a read-only handle takes no lock. PostgreSQL
 *     also has shared writers (dc_kv_opts.shared, several dtxd on one
 *     store): they exclude a sole writer and it excludes them, and what
 *     keeps them apart from each other is dc_kv_expect, not a lock.
 *
 * Errors are dtx_err codes. The reason of the last failure on the calling
 * thread is dc_kv_last_error (one line naming the store).
 */
#ifndef DTX_COORDINATOR_KV_H
#define DTX_COORDINATOR_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DC_KV_TABLES_MAX   16
#define DC_KV_ERR_MAX      512
#define DC_KV_GET_MANY_MAX 1024 /* keys per dc_kv_get_many */

typedef struct dc_kv dc_kv;
typedef struct dc_kv_txn dc_kv_txn;
typedef struct dc_kv_cursor dc_kv_cursor;

/* Bytes: borrowed, never NUL-terminated by contract. */
typedef struct dc_kv_val {
	const void *data;
	size_t len;
} dc_kv_val;

typedef struct dc_kv_opts {
	/* A directory (LMDB) or a libpq URI beginning "postgresql://" or
	 * "postgres://" (dc_kv_open picks the backend by that prefix). */
	const char *where;
	/* Table names, [0] .. [ntables - 1]: callers pass table numbers.
	 * Names are [a-z_]{1,31}. A writer creates missing tables; a reader
	 * of a store made before a table existed sees it as absent
	 * (dc_kv_has_table false) and empty. */
	const char *const *tables;
	int ntables;
	bool read_only;      /* offline reading (dtxctl): no lock, no writes */
	size_t map_size;     /* LMDB: initial map size; 0 = 256 MiB */
	size_t map_size_max; /* LMDB: dc_kv_grow stops here; 0 = 64 GiB */
	bool no_sync;        /* LMDB, UNIT TESTS ONLY: gives durability away */
	int readers;         /* PostgreSQL: connections for read transactions
	                        on other threads; 0 = 4 */
	bool shared;         /* PostgreSQL: one of several writers (dtxd
	                        instances with shard leases, whose every write
	                        is fenced by dc_kv_expect): takes the store's
	                        lock shared, so a sole writer and shared
	                        writers exclude each other. LMDB: DTX_EINVAL */
} dc_kv_opts;

/* What the store holds and may hold (dc_kv_usage_read): used_bytes of the
 * tables (pages or relation sizes), file_bytes on disk, max_bytes the
 * most it may grow to (0: no limit the store knows of). */
typedef struct dc_kv_usage {
	uint64_t used_bytes;
	uint64_t file_bytes;
	uint64_t max_bytes;
} dc_kv_usage;

/* ---- the store ---- */

/* dc_kv_open opens the store opts->where names (creating an LMDB
 * directory one level deep, or a PostgreSQL schema, for a writer) and its
 * tables; *ret_fresh (may be NULL) says the store held no table before
 * (a new log). On failure a one-line reason is written to errbuf.
 * Errors: DTX_EBUSY (another writer holds the store), DTX_EINVAL (bad
 * opts, a URI libpq refuses, no right to create the schema: the reason
 * says which), DTX_EUNREACHABLE (PostgreSQL cannot be reached),
 * DTX_ECORRUPT (not a store of ours), DTX_EVERSION (a schema newer than this
 * build), DTX_EIO, DTX_ENOSPC, DTX_ENOMEM. */
int dc_kv_open(const dc_kv_opts *opts, dc_kv **ret_kv, bool *ret_fresh,
               char *errbuf, size_t errlen);

/* dc_kv_check_uri checks a PostgreSQL store's URI as libpq reads it
 * (keywords, percent-encoding), without connecting: dtxd --check-config
 * and a start refuse a mistyped parameter before any attempt. On error
 * libpq's reason, which never holds the whole URI, is written to why.
 * Errors: DTX_EINVAL. */
int dc_kv_check_uri(const char *uri, char *why, size_t len);

/* dc_kv_close releases the store and the writer lock. Accepts NULL. No
 * transaction may be open. */
void dc_kv_close(dc_kv *kv);

/* dc_kv_backend returns "lmdb" or "postgresql". */
const char *dc_kv_backend(const dc_kv *kv);

/* dc_kv_describe returns what the store is for messages: the data file's
 * path, or the URI without its password (borrowed, lives with kv). */
const char *dc_kv_describe(const dc_kv *kv);

/* dc_kv_has_table: table t exists (see dc_kv_opts.tables). */
bool dc_kv_has_table(const dc_kv *kv, int t);

/* dc_kv_last_error: the reason of the last failed call on this thread
 * (borrowed; "" if none). */
const char *dc_kv_last_error(void);

/* dc_kv_usage_read measures the store at a constant cost (PostgreSQL: at
 * most once a second; between, the last figure). Errors: DTX_EIO. */
int dc_kv_usage_read(dc_kv *kv, dc_kv_usage *ret_usage);

/* dc_kv_grow makes room after a write transaction failed with
 * DTX_ELIMIT (LMDB: doubles the map up to map_size_max; runs with no
 * transaction open in the process). Errors: DTX_ELIMIT (no more room),
 * DTX_EIO. A backend without a limit never returns DTX_ELIMIT anywhere. */
int dc_kv_grow(dc_kv *kv);

/* ---- transactions ---- */

/* dc_kv_begin starts a read (write false: a consistent snapshot) or write
 * transaction (transferred to the caller: end it with dc_kv_commit or
 * dc_kv_abort). Errors: DTX_EINVAL (write on a read-only store),
 * DTX_EUNREACHABLE, DTX_EIO, DTX_ENOMEM. */
int dc_kv_begin(dc_kv *kv, bool write, dc_kv_txn **ret_txn);

/* dc_kv_commit makes txn's writes durable and frees txn, whatever it
 * returns. Errors: DTX_ELIMIT (the store is full: dc_kv_grow, then redo
 * the transaction), DTX_ENOSPC, DTX_EIO (unknown outcome included). */
int dc_kv_commit(dc_kv_txn *txn);

/* dc_kv_abort drops txn's writes and frees txn. Accepts NULL. */
void dc_kv_abort(dc_kv_txn *txn);

/* dc_kv_get reads key of table t into *ret_val (borrowed, see the top
 * comment). Errors: DTX_ENOENT (no such key), DTX_EIO. */
int dc_kv_get(dc_kv_txn *txn, int t, dc_kv_val key, dc_kv_val *ret_val);

/* dc_kv_get_many reads the n keys of table t (keys: borrowed, n at most
 * DC_KV_GET_MANY_MAX; keys may repeat) in one call - on PostgreSQL one
 * statement and one round trip, where n dc_kv_get in a write transaction
 * cost n. ret_vals[i] (n entries) gets the value of keys[i], borrowed as
 * a dc_kv_get's (all of them valid until the next call on txn), or
 * {NULL, 0} if there is no such key: a value that is there never has a
 * NULL data, even when empty. A table the store lacks holds no key. In a
 * write transaction it sees the transaction's own writes. Errors:
 * DTX_EINVAL (n too large; a key of 0 or more than 511 bytes), DTX_EIO. */
int dc_kv_get_many(dc_kv_txn *txn, int t, const dc_kv_val *keys, size_t n,
                   dc_kv_val *ret_vals);

/* dc_kv_put writes key -> val in table t, replacing what was there.
 * Errors: DTX_EINVAL (read transaction; a key of 0 or more than 511
 * bytes), DTX_ELIMIT (full: the transaction is spoilt, abort it),
 * DTX_EIO. */
int dc_kv_put(dc_kv_txn *txn, int t, dc_kv_val key, dc_kv_val val);

/* dc_kv_del removes key from table t; a missing key is not an error.
 * Errors: as dc_kv_put. */
int dc_kv_del(dc_kv_txn *txn, int t, dc_kv_val key);

/* dc_kv_del_range removes every key k of table t with from <= k < to
 * (one statement on PostgreSQL). Errors: as dc_kv_put. */
int dc_kv_del_range(dc_kv_txn *txn, int t, dc_kv_val from, dc_kv_val to);

/* dc_kv_expect makes the write transaction txn conditional: key of table
 * t must hold exactly val now (val.data NULL: be absent) and stay so
 * until txn commits, as far as other writers that also expect on this key
 * are concerned (a fence, or a compare and swap when txn then writes the
 * key). A mismatch spoils txn: its later calls may still return DTX_OK,
 * but dc_kv_commit returns DTX_ECONFLICT and nothing of txn is durable.
 * On PostgreSQL the check runs on the server inside the pipeline, without
 * a round trip of its own (kv_pg.c "Expectations"); on LMDB, whose writer
 * is alone, it is a get and a compare. Errors: DTX_EINVAL (a read
 * transaction, a bad key or table), DTX_ECONFLICT (LMDB: known at once),
 * DTX_EIO. */
int dc_kv_expect(dc_kv_txn *txn, int t, dc_kv_val key, dc_kv_val val);

/* ---- cursors ---- */

/* dc_kv_cursor_open opens a cursor on table t of txn (transferred; close
 * it before txn ends). Errors: DTX_EIO, DTX_ENOMEM. */
int dc_kv_cursor_open(dc_kv_txn *txn, int t, dc_kv_cursor **ret_cur);

/* dc_kv_cursor_close accepts NULL. */
void dc_kv_cursor_close(dc_kv_cursor *cur);

/* dc_kv_seek moves cur to the first key >= *key (key NULL: the first key
 * of the table) and returns it and its value (borrowed). Errors:
 * DTX_ENOENT (no such key: the cursor is at the end), DTX_EIO. */
int dc_kv_seek(dc_kv_cursor *cur, const dc_kv_val *key, dc_kv_val *ret_key,
               dc_kv_val *ret_val);

/* dc_kv_next moves cur to the next key. Errors: DTX_ENOENT (the end),
 * DTX_EINVAL (never positioned), DTX_EIO. */
int dc_kv_next(dc_kv_cursor *cur, dc_kv_val *ret_key, dc_kv_val *ret_val);

#endif
