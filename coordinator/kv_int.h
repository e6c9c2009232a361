/*
 * kv_int.h - what a store backend implements (never included outside
 * coordinator/kv*.c): the ops table behind kv.h, as SQLite's VFS.
 *
 * Every handle a backend returns (store, transaction, cursor) begins with
 * its header below, so kv.c can dispatch on it; the rest of the handle is
 * the backend's. kv.c checks nothing a backend must check itself: the
 * semantics of each op are those of its dc_kv_* function in kv.h.
 * A backend reports a failure's reason with dc_kv_fail (per thread).
 */
#ifndef DTX_COORDINATOR_KV_INT_H
#define DTX_COORDINATOR_KV_INT_H

#include "kv.h"

typedef struct dc_kv_ops dc_kv_ops;

struct dc_kv {
	const dc_kv_ops *ops;
};

struct dc_kv_txn {
	const dc_kv_ops *ops;
};

struct dc_kv_cursor {
	const dc_kv_ops *ops;
};

struct dc_kv_ops {
	const char *name; /* "lmdb", "postgresql" */
	int (*open)(const dc_kv_opts *opts, dc_kv **ret_kv, bool *ret_fresh);
	void (*close)(dc_kv *kv);
	const char *(*describe)(const dc_kv *kv);
	bool (*has_table)(const dc_kv *kv, int t);
	int (*usage)(dc_kv *kv, dc_kv_usage *ret_usage);
	int (*grow)(dc_kv *kv);
	int (*begin)(dc_kv *kv, bool write, dc_kv_txn **ret_txn);
	int (*commit)(dc_kv_txn *txn);
	void (*abort)(dc_kv_txn *txn);
	int (*get)(dc_kv_txn *txn, int t, dc_kv_val key, dc_kv_val *ret_val);
	int (*get_many)(dc_kv_txn *txn, int t, const dc_kv_val *keys, size_t n,
	                dc_kv_val *ret_vals);
	int (*put)(dc_kv_txn *txn, int t, dc_kv_val key, dc_kv_val val);
	int (*del)(dc_kv_txn *txn, int t, dc_kv_val key);
	int (*del_range)(dc_kv_txn *txn, int t, dc_kv_val from, dc_kv_val to);
	int (*expect)(dc_kv_txn *txn, int t, dc_kv_val key, dc_kv_val val);
	int (*cursor_open)(dc_kv_txn *txn, int t, dc_kv_cursor **ret_cur);
	void (*cursor_close)(dc_kv_cursor *cur);
	int (*seek)(dc_kv_cursor *cur, const dc_kv_val *key, dc_kv_val *ret_key,
	            dc_kv_val *ret_val);
	int (*next)(dc_kv_cursor *cur, dc_kv_val *ret_key, dc_kv_val *ret_val);
};

/* The backends (each defined in its own file; kv_pg.c only when built
 * with libpq). */
extern const dc_kv_ops dc_kv_lmdb_ops;
extern const dc_kv_ops dc_kv_pg_ops;

/* dc_kv_fail remembers a printf-style reason for dc_kv_last_error on the
 * calling thread and returns err. */
__attribute__((format(printf, 2, 3))) int dc_kv_fail(int err, const char *fmt,
                                                     ...);

/* dc_kv_is_pg_uri: where names a PostgreSQL store (see dc_kv_opts). */
bool dc_kv_is_pg_uri(const char *where);

#endif
