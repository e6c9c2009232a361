/*
 * store_api.c - dtx_store and dtx_txn whatever the backend: the public
 * store calls (update, view, get, put, del, scan, barrier scan, close)
 * and the SDK's internal transaction calls, each dispatched through the
 * store's ops table (barrier_store.h).
 *
 * Owns: the checks every backend shares (table names, arguments), the
 * table directory by name (index 1..ntables), the "grow and run again"
 * loop of dtx_store_update/view, and the GC slot and cursor of a store.
 * Never: names a backend or includes a database's header, or prints
 * (diagnostics go to sdk_logf).
 *
 * Threads: everything here is as thread-safe as the backend's operations
 * (both backends: any thread; one transaction is used by one thread).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdk.h"

#define GROW_TRIES 8 /* growths one dtx_store_update may ask for */

/* ---- creation ---------------------------------------------------------- */

void dtx_store_opts_init(dtx_store_opts *opts)
{
	if (opts == NULL)
		return;
	memset(opts, 0, sizeof(*opts));
	opts->map_size = SDK_MAP_SIZE_DEFAULT;
}

/* table_name_is_valid: 1..DTX_TABLE_NAME_MAX of [A-Za-z0-9._-], and not
 * starting with "__" (the SDK's own tables). */
static bool table_name_is_valid(const char *name)
{
	size_t n, i;

	if (name == NULL)
		return false;
	n = strnlen(name, DTX_TABLE_NAME_MAX + 1);
	if (n == 0 || n > DTX_TABLE_NAME_MAX || strncmp(name, "__", 2) == 0)
		return false;
	for (i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

bool sdk_store_opts_are_valid(const dtx_store_opts *o)
{
	size_t i, j;

	if (o->ntables > DTX_STORE_MAX_TABLES ||
	    (o->ntables > 0 && o->tables == NULL))
		return false;
	for (i = 0; i < o->ntables; i++) {
		if (!table_name_is_valid(o->tables[i]))
			return false;
		for (j = 0; j < i; j++)
			if (strcmp(o->tables[i], o->tables[j]) == 0)
				return false;
	}
	return true;
}

int sdk_store_create(const sdk_store_ops *ops, void *impl, const char *where,
                     const dtx_store_opts *opts, dtx_store **ret_store)
{
	dtx_store *store;

	if (ops == NULL || ops->version != SDK_STORE_OPS_VERSION ||
	    opts == NULL || !sdk_store_opts_are_valid(opts)) {
		if (ops != NULL)
			ops->close(impl);
		return DTX_EINVAL;
	}
	store = calloc(1, sizeof(*store));
	if (store == NULL || (store->where = strdup(where)) == NULL) {
		free(store);
		ops->close(impl);
		return DTX_ENOMEM;
	}
	store->ops = ops;
	store->impl = impl;
	store->read_only = opts->read_only;
	store->groups = 1; /* a backend that serves more says so after */
	store->ntables = opts->ntables;
	for (size_t i = 0; i < opts->ntables; i++)
		sdk_strlcpy(store->names[i + 1], DTX_TABLE_NAME_MAX + 1,
		            opts->tables[i]);
	atomic_init(&store->gc_busy, false);
	*ret_store = store;
	return DTX_OK;
}

void dtx_store_close(dtx_store *store)
{
	if (store == NULL)
		return;
	store->ops->close(store->impl);
	free(store->where);
	free(store);
}

/* ---- the store --------------------------------------------------------- */

size_t sdk_store_enter(dtx_store *store)
{
	return store->ops->enter(store->impl);
}

void sdk_store_leave(dtx_store *store)
{
	store->ops->leave(store->impl);
}

int sdk_store_grow(dtx_store *store, size_t seen)
{
	return store->ops->grow(store->impl, seen);
}

const char *sdk_store_dir(const dtx_store *store)
{
	return store->where;
}

bool sdk_store_is_read_only(const dtx_store *store)
{
	return store->read_only;
}

int sdk_store_gc_claim(dtx_store *store, sdk_gc_cursor **ret_cursor)
{
	if (atomic_exchange(&store->gc_busy, true))
		return DTX_EBUSY;
	*ret_cursor = &store->gc_cursor;
	return DTX_OK;
}

void sdk_store_gc_release(dtx_store *store)
{
	atomic_store(&store->gc_busy, false);
}

/* ---- transactions ------------------------------------------------------ */

int sdk_txn_begin(dtx_store *store, dtx_txn *parent, bool read_only,
                  dtx_txn *ret_txn)
{
	if (!read_only && store->read_only)
		return DTX_EINVAL;
	memset(ret_txn, 0, sizeof(*ret_txn));
	ret_txn->defer_adds = parent != NULL && parent->defer_adds;
	return store->ops->txn_begin(store, parent, read_only, ret_txn);
}

int sdk_txn_commit(dtx_txn *txn)
{
	return txn->store->ops->txn_commit(txn);
}

void sdk_txn_abort(dtx_txn *txn)
{
	if (txn->store != NULL)
		txn->store->ops->txn_abort(txn);
}

/* run_once runs fn in one transaction of store; a write one is committed
 * if fn returns DTX_OK. Sets *ret_grow when the store must grow first. */
static int run_once(dtx_store *store, bool read_only, dtx_txn_fn fn, void *arg,
                    size_t *ret_seen, bool *ret_grow)
{
	dtx_txn txn;
	int rv;

	*ret_seen = sdk_store_enter(store);
	rv = sdk_txn_begin(store, NULL, read_only, &txn);
	*ret_grow = rv == DTX_ELIMIT;
	if (rv == DTX_OK) {
		rv = fn(arg, &txn);
		if (rv == DTX_OK && !read_only && !txn.map_full)
			rv = sdk_txn_commit(&txn);
		sdk_txn_abort(&txn);
		*ret_grow = txn.map_full;
		if (txn.map_full)
			rv = DTX_ELIMIT;
	}
	sdk_store_leave(store);
	return rv;
}

/* run_growing runs fn until it needs no bigger store (GROW_TRIES at most). */
static int run_growing(dtx_store *store, bool read_only, dtx_txn_fn fn,
                       void *arg)
{
	size_t seen;
	bool grow;
	int rv;

	if (store == NULL || fn == NULL || (!read_only && store->read_only))
		return DTX_EINVAL;
	for (int tries = 0;; tries++) {
		rv = run_once(store, read_only, fn, arg, &seen, &grow);
		if (!grow || tries == GROW_TRIES)
			return rv;
		if ((rv = sdk_store_grow(store, seen)) != DTX_OK)
			return rv;
	}
}

int dtx_store_update(dtx_store *store, dtx_txn_fn fn, void *arg)
{
	return run_growing(store, false, fn, arg);
}

int dtx_store_view(dtx_store *store, dtx_txn_fn fn, void *arg)
{
	return run_growing(store, true, fn, arg);
}

/* ---- the public table calls -------------------------------------------- */

/* table_find finds the service's table name (index >= 1) in *ret_t. */
static int table_find(const dtx_txn *txn, const char *name, unsigned *ret_t)
{
	const dtx_store *store;

	if (txn == NULL || txn->h == NULL || name == NULL)
		return DTX_EINVAL;
	store = txn->store;
	for (unsigned t = 1; t <= store->ntables; t++) {
		if (strcmp(store->names[t], name) == 0) {
			*ret_t = t;
			return DTX_OK;
		}
	}
	return DTX_EINVAL;
}

int dtx_txn_get(dtx_txn *txn, const char *table, const void *key, size_t klen,
                const void **ret_val, size_t *ret_len)
{
	unsigned t;
	int rv = table_find(txn, table, &t);

	if (rv != DTX_OK || key == NULL || ret_val == NULL || ret_len == NULL)
		return DTX_EINVAL;
	return txn->store->ops->kv_get(txn, t, key, klen, ret_val, ret_len);
}

int dtx_txn_put(dtx_txn *txn, const char *table, const void *key, size_t klen,
                const void *val, size_t vlen)
{
	unsigned t;
	int rv = table_find(txn, table, &t);

	if (rv != DTX_OK || key == NULL || (val == NULL && vlen > 0))
		return DTX_EINVAL;
	if (txn->read_only)
		return DTX_EINVAL;
	return txn->store->ops->kv_put(txn, t, key, klen, val, vlen);
}

int dtx_txn_del(dtx_txn *txn, const char *table, const void *key, size_t klen)
{
	unsigned t;
	int rv = table_find(txn, table, &t);

	if (rv != DTX_OK || key == NULL || txn->read_only)
		return DTX_EINVAL;
	return txn->store->ops->kv_del(txn, t, key, klen);
}

/* counter_parse reads a counter's decimal text (v, n bytes) into *ret_v.
 * False: not a counter, or out of int64's range. */
static bool counter_parse(const void *v, size_t n, int64_t *ret_v)
{
	char buf[24];
	char *end;
	long long x;

	if (n == 0 || n >= sizeof(buf) || memchr(v, '\0', n) != NULL)
		return false;
	memcpy(buf, v, n);
	buf[n] = '\0';
	if (!(buf[0] == '-' || (buf[0] >= '0' && buf[0] <= '9')))
		return false;
	errno = 0;
	x = strtoll(buf, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*ret_v = x;
	return true;
}

/* add_now is dtx_txn_add_i64 applied at once, over kv_get and kv_put (the
 * backend serialises writers: LMDB). */
static int add_now(dtx_txn *txn, unsigned t, const void *key, size_t klen,
                   int64_t delta, int64_t floor, bool *ret_short)
{
	const sdk_store_ops *ops = txn->store->ops;
	const void *v;
	size_t n;
	int64_t x = 0;
	char buf[24];
	int rv = ops->kv_get(txn, t, key, klen, &v, &n);

	if (rv != DTX_OK && rv != DTX_ENOENT)
		return rv;
	if (rv == DTX_OK && !counter_parse(v, n, &x))
		return DTX_ECORRUPT;
	if ((delta > 0 && x > INT64_MAX - delta) ||
	    (delta < 0 && x < INT64_MIN - delta))
		return DTX_EINVAL;
	*ret_short = x + delta < floor;
	if (*ret_short)
		return DTX_OK;
	snprintf(buf, sizeof(buf), "%lld", (long long)(x + delta));
	return ops->kv_put(txn, t, key, klen, buf, strlen(buf));
}

int dtx_txn_add_i64(dtx_txn *txn, const char *table, const void *key,
                    size_t klen, int64_t delta, int64_t floor, bool *ret_short)
{
	unsigned t;
	int rv = table_find(txn, table, &t);

	if (rv != DTX_OK || key == NULL || ret_short == NULL || txn->read_only)
		return DTX_EINVAL;
	*ret_short = false;
	if (txn->store->ops->kv_add != NULL)
		return txn->store->ops->kv_add(txn, t, key, klen, delta, floor,
		                               ret_short);
	return add_now(txn, t, key, klen, delta, floor, ret_short);
}

int dtx_txn_scan(dtx_txn *txn, const char *table, const void *prefix,
                 size_t plen, dtx_scan_fn fn, void *arg)
{
	unsigned t;
	int rv = table_find(txn, table, &t);

	if (rv != DTX_OK)
		return rv;
	if (fn == NULL || (prefix == NULL && plen > 0))
		return DTX_EINVAL;
	return txn->store->ops->kv_scan(txn, t, prefix, plen, fn, arg);
}

int dtx_txn_barrier_scan(dtx_txn *txn, dtx_barrier_fn fn, void *arg)
{
	if (txn == NULL || txn->h == NULL || fn == NULL)
		return DTX_EINVAL;
	return txn->store->ops->rec_scan(txn, fn, arg);
}
