/*
 * kv.c - the dispatch of kv.h onto a backend's ops table, and the per-
 * thread reason of the last failure.
 *
 * Owns: choosing the backend from dc_kv_opts.where, argument checks that
 * hold for every backend (table numbers, key sizes), and the error text.
 * Never: touches a backend's handle beyond its ops header, or retries.
 */
#include "kv_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <dtx/dtx.h>

#define KV_KEY_MAX 511 /* LMDB's largest key; PostgreSQL keeps the same */

static _Thread_local char kv_err[DC_KV_ERR_MAX];

int dc_kv_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(kv_err, sizeof(kv_err), fmt, ap);
	va_end(ap);
	return err;
}

const char *dc_kv_last_error(void)
{
	return kv_err;
}

bool dc_kv_is_pg_uri(const char *where)
{
	return where != NULL && (strncmp(where, "postgresql://", 13) == 0 ||
	                         strncmp(where, "postgres://", 11) == 0);
}

static int opts_check(const dc_kv_opts *opts)
{
	if (opts == NULL || opts->where == NULL || opts->where[0] == '\0')
		return dc_kv_fail(DTX_EINVAL, "store: no directory or URI");
	if (opts->ntables < 1 || opts->ntables > DC_KV_TABLES_MAX ||
	    opts->tables == NULL)
		return dc_kv_fail(DTX_EINVAL, "store: %d tables (1..%d)",
		                  opts->ntables, DC_KV_TABLES_MAX);
	for (int t = 0; t < opts->ntables; t++) {
		size_t n = opts->tables[t] ? strlen(opts->tables[t]) : 0;

		if (n == 0 || n > 31 ||
		    strspn(opts->tables[t], "abcdefghijklmnopqrstuvwxyz_") != n)
			return dc_kv_fail(DTX_EINVAL,
			                  "store: bad table name #%d", t);
	}
	return DTX_OK;
}

int dc_kv_open(const dc_kv_opts *opts, dc_kv **ret_kv, bool *ret_fresh,
               char *errbuf, size_t errlen)
{
	const dc_kv_ops *ops = &dc_kv_lmdb_ops;
	bool fresh = false;
	int rc = opts_check(opts);

	kv_err[0] = '\0';
	if (rc == DTX_OK && dc_kv_is_pg_uri(opts->where)) {
#ifdef DTX_HAVE_LIBPQ
		ops = &dc_kv_pg_ops;
#else
		rc = dc_kv_fail(DTX_EINVAL,
		                "store: this build has no PostgreSQL support");
#endif
	}
	if (rc == DTX_OK)
		rc = ops->open(opts, ret_kv, &fresh);
	if (rc != DTX_OK && errbuf != NULL && errlen > 0)
		snprintf(errbuf, errlen, "%s", kv_err);
	if (rc == DTX_OK && ret_fresh != NULL)
		*ret_fresh = fresh;
	return rc;
}

void dc_kv_close(dc_kv *kv)
{
	if (kv != NULL)
		kv->ops->close(kv);
}

const char *dc_kv_backend(const dc_kv *kv)
{
	return kv->ops->name;
}

const char *dc_kv_describe(const dc_kv *kv)
{
	return kv->ops->describe(kv);
}

bool dc_kv_has_table(const dc_kv *kv, int t)
{
	return kv->ops->has_table(kv, t);
}

int dc_kv_usage_read(dc_kv *kv, dc_kv_usage *ret_usage)
{
	return kv->ops->usage(kv, ret_usage);
}

int dc_kv_grow(dc_kv *kv)
{
	return kv->ops->grow(kv);
}

int dc_kv_begin(dc_kv *kv, bool write, dc_kv_txn **ret_txn)
{
	return kv->ops->begin(kv, write, ret_txn);
}

int dc_kv_commit(dc_kv_txn *txn)
{
	return txn->ops->commit(txn);
}

void dc_kv_abort(dc_kv_txn *txn)
{
	if (txn != NULL)
		txn->ops->abort(txn);
}

static int key_check(dc_kv_val key)
{
	if (key.len == 0 || key.len > KV_KEY_MAX || key.data == NULL)
		return dc_kv_fail(DTX_EINVAL, "store: key of %zu bytes (1..%d)",
		                  key.len, KV_KEY_MAX);
	return DTX_OK;
}

int dc_kv_get(dc_kv_txn *txn, int t, dc_kv_val key, dc_kv_val *ret_val)
{
	int rc = key_check(key);

	return rc == DTX_OK ? txn->ops->get(txn, t, key, ret_val) : rc;
}

int dc_kv_get_many(dc_kv_txn *txn, int t, const dc_kv_val *keys, size_t n,
                   dc_kv_val *ret_vals)
{
	int rc = DTX_OK;

	if (n > DC_KV_GET_MANY_MAX)
		return dc_kv_fail(DTX_EINVAL,
		                  "store: %zu keys in one read (at most %d)", n,
		                  DC_KV_GET_MANY_MAX);
	for (size_t i = 0; i < n && rc == DTX_OK; i++)
		rc = key_check(keys[i]);
	if (rc != DTX_OK || n == 0)
		return rc;
	return txn->ops->get_many(txn, t, keys, n, ret_vals);
}

int dc_kv_put(dc_kv_txn *txn, int t, dc_kv_val key, dc_kv_val val)
{
	int rc = key_check(key);

	return rc == DTX_OK ? txn->ops->put(txn, t, key, val) : rc;
}

int dc_kv_del(dc_kv_txn *txn, int t, dc_kv_val key)
{
	int rc = key_check(key);

	return rc == DTX_OK ? txn->ops->del(txn, t, key) : rc;
}

int dc_kv_del_range(dc_kv_txn *txn, int t, dc_kv_val from, dc_kv_val to)
{
	return txn->ops->del_range(txn, t, from, to);
}

int dc_kv_cursor_open(dc_kv_txn *txn, int t, dc_kv_cursor **ret_cur)
{
	return txn->ops->cursor_open(txn, t, ret_cur);
}

void dc_kv_cursor_close(dc_kv_cursor *cur)
{
	if (cur != NULL)
		cur->ops->cursor_close(cur);
}

int dc_kv_seek(dc_kv_cursor *cur, const dc_kv_val *key, dc_kv_val *ret_key,
               dc_kv_val *ret_val)
{
	return cur->ops->seek(cur, key, ret_key, ret_val);
}

int dc_kv_next(dc_kv_cursor *cur, dc_kv_val *ret_key, dc_kv_val *ret_val)
{
	return cur->ops->next(cur, ret_key, ret_val);
}

int dc_kv_expect(dc_kv_txn *txn, int t, dc_kv_val key, dc_kv_val val)
{
	int rc = key_check(key);

	return rc == DTX_OK ? txn->ops->expect(txn, t, key, val) : rc;
}
