/*
 * barrier_store.h - the storage interface under the barrier (not
 * installed): what barrier.c, barrier_gc.c and the public store calls need
 * from a participant's database, as one table of operations.
 *
 * Two implementations: store.c + barrier_lmdb.c (the LMDB dtx_store, in
 * libdtx) and store_pg.c (PostgreSQL through libpq, in libdtx-pg). The
 * barrier's rules (barrier.c) are written once against these operations
 * and never name a backend; a backend never decides anything about a call
 * (it stores and finds records, and runs transactions).
 *
 * What every backend guarantees (the barrier's correctness rests on it):
 *   - txn_begin(parent = NULL) begins a transaction whose commit is durable
 *     when txn_commit returns DTX_OK (LMDB default sync; PostgreSQL COMMIT
 *     with synchronous_commit on), and whose failure or abort leaves no
 *     write of it behind;
 *   - txn_begin(parent) begins a nested transaction (LMDB child, SQL
 *     SAVEPOINT): its commit folds its writes into the parent, its abort
 *     drops only its own writes, whatever state it left the parent's
 *     connection in (an SQL error inside it);
 *   - lock_gids, called first in a group's transaction, serialises the
 *     groups that share a gid until their commit (LMDB: its single writer;
 *     PostgreSQL: transaction advisory locks taken in one sorted order, so
 *     two groups never wait for each other in a cycle); after it, a read
 *     sees every record committed by a group that held the gid before;
 *   - rec_get/rec_put find and write the record of (gid, branch, op); the
 *     pointers of a found record stay valid until the next operation on
 *     the transaction; rec_put over an existing record is only ever asked
 *     to raise its keep_until_ms (the rest equal: a replay that carried a
 *     later deadline), and may refuse anything else;
 *   - kv_* are dtx_txn_get/put/del/scan on the service's table of index t
 *     (1..ntables; 0 is never passed);
 *   - kv_add (optional) is dtx_txn_add_i64; with txn->defer_adds it may
 *     keep the change until the top-level commit and apply the sums
 *     there: a sum that does not fit fails the commit with
 *     txn->short_sum set and nothing of the transaction kept; a nested
 *     transaction's abort drops its changes from the sums;
 *   - enter/leave bracket every use of the store by a thread, and grow is
 *     asked for when a transaction came back with txn->map_full (LMDB's
 *     full map; a backend that never sets map_full returns DTX_ELIMIT).
 * Every operation returns a dtx_err; a backend translates its own codes.
 */
#ifndef DTX_BARRIER_STORE_H
#define DTX_BARRIER_STORE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dtx/dtx.h"

/* sdk_rec - one barrier record; pointers are borrowed (see rec_get). */
typedef struct sdk_rec {
	dtx_status status; /* OK or FAIL; RETRY is never recorded */
	bool null_comp;    /* recorded without running the handler */
	const void *message;
	size_t message_len;
	const void *result;
	size_t result_len;
	/* GC keeps the record at least until then (wall clock, unix ms): the
	 * call's deadline plus the participant's tolerance; 0: no deadline */
	int64_t keep_until_ms;
} sdk_rec;

/* sdk_gid_fn receives one gid (borrowed) and the largest keep_until_ms of
 * its records; DTX_ELIMIT stops a walk. */
typedef int (*sdk_gid_fn)(void *arg, const char *gid, int64_t keep_until_ms);

#define SDK_STORE_OPS_VERSION 3 /* 2: keep_until_ms; 3: kv_add */

typedef struct sdk_store_ops {
	unsigned version; /* SDK_STORE_OPS_VERSION */
	const char *name; /* "lmdb", "postgresql" */
	void (*close)(void *impl);
	size_t (*enter)(void *impl);
	void (*leave)(void *impl);
	int (*grow)(void *impl, size_t seen);
	int (*txn_begin)(dtx_store *store, dtx_txn *parent, bool read_only,
	                 dtx_txn *ret_txn);
	int (*txn_commit)(dtx_txn *txn);
	void (*txn_abort)(dtx_txn *txn);
	int (*lock_gids)(dtx_txn *txn, const char *const *gids, size_t n);
	int (*rec_get)(dtx_txn *txn, const char *gid, uint32_t branch,
	               dtx_op op, sdk_rec *ret_rec);
	int (*rec_put)(dtx_txn *txn, const char *gid, uint32_t branch,
	               dtx_op op, const sdk_rec *rec);
	/* rec_scan: every record, in gid (bytes), branch, op order */
	int (*rec_scan)(dtx_txn *txn, dtx_barrier_fn fn, void *arg);
	/* rec_gids: the distinct gids after `after` ("" : from the first),
	 * in byte order, each with its records' largest keep_until_ms, until
	 * fn returns non-OK */
	int (*rec_gids)(dtx_txn *txn, const char *after, sdk_gid_fn fn,
	                void *arg);
	int (*rec_del_gid)(dtx_txn *txn, const char *gid, size_t *ret_n);
	int (*kv_get)(dtx_txn *txn, unsigned t, const void *key, size_t klen,
	              const void **ret_val, size_t *ret_len);
	int (*kv_put)(dtx_txn *txn, unsigned t, const void *key, size_t klen,
	              const void *val, size_t vlen);
	int (*kv_del)(dtx_txn *txn, unsigned t, const void *key, size_t klen);
	int (*kv_scan)(dtx_txn *txn, unsigned t, const void *prefix,
	               size_t plen, dtx_scan_fn fn, void *arg);
	/* kv_add: dtx_txn_add_i64 (deferred when txn->defer_adds); NULL:
	 * store_api.c's, over kv_get and kv_put, at once */
	int (*kv_add)(dtx_txn *txn, unsigned t, const void *key, size_t klen,
	              int64_t delta, int64_t floor, bool *ret_short);
} sdk_store_ops;

/* sdk_gc_cursor - where the barrier's next GC pass starts: after this gid
 * ("" : from the first). In memory only: a new process starts over. */
typedef struct sdk_gc_cursor {
	char after[DTX_GID_MAX + 1];
} sdk_gc_cursor;

/* struct dtx_store - a store of either backend: the operations, the
 * backend's own object, and what every backend shares. */
struct dtx_store {
	const sdk_store_ops *ops; /* static */
	void *impl;               /* owned by the backend (ops->close) */
	char *where;              /* owned: directory or URI, no password */
	bool read_only;
	unsigned groups; /* groups a participant may serve at once (>= 1) */
	size_t ntables;  /* the service's tables, names[1..ntables] */
	char names[DTX_STORE_MAX_TABLES + 1][DTX_TABLE_NAME_MAX + 1];
	atomic_bool gc_busy;     /* a barrier GC pass holds gc_cursor */
	sdk_gc_cursor gc_cursor; /* barrier_gc.c's */
};

/* struct dtx_txn - one transaction of a store, on the stack of whoever
 * began it. Only the backend looks inside h. */
struct dtx_txn {
	dtx_store *store; /* borrowed */
	void *h;          /* the backend's handle; NULL once ended */
	unsigned depth;   /* 0: top-level; n: nested n deep */
	bool read_only;
	bool map_full; /* LMDB: a write hit the end of the map: grow, rerun */
	/* set by the barrier on a group's transaction (nested ones inherit
	 * it): kv_add may defer its change to the commit */
	bool defer_adds;
	/* the commit failed because a deferred sum did not fit: rerun the
	 * group with defer_adds off */
	bool short_sum;
	void *scratch; /* the backend's: what found pointers borrow */
};

/* sdk_store_create wraps impl (transferred: ops->close frees it, also
 * when this fails) in a new dtx_store with ops (static), where (copied,
 * for diagnostics) and opts' read_only and table names (checked: 1..64
 * bytes of [A-Za-z0-9._-], not starting with "__", no duplicates).
 * Exported from libdtx for libdtx-pg only (libdtx.sym, DTX_PRIVATE).
 * Errors: DTX_EINVAL, DTX_ENOMEM. */
SDK_PRIVATE int sdk_store_create(const sdk_store_ops *ops, void *impl,
                                 const char *where, const dtx_store_opts *opts,
                                 dtx_store **ret_store);

/* sdk_store_opts_are_valid checks opts (not NULL) as sdk_store_create
 * will, so a backend can refuse them before it opens anything. */
SDK_PRIVATE bool sdk_store_opts_are_valid(const dtx_store_opts *opts);

#endif
