/*
 * inventory.c - dtx-shop-inventory, the stock of the virtual-goods shop.
 *
 * Tables: stock: sku -> units left (decimal); sold: gid -> units;
 * reserved: gid -> units held by an unfinished TCC purchase; returned:
 * gid -> units a refund put back into stock.
 *
 * The purchase saga:
 *   inventory.deduct      action: qty > left -> FAIL "out of stock", no
 *                         change; else left -= qty, sold[gid] = qty
 *   inventory.restock     compensation: if sold[gid]: left += it, del it
 *
 * The reservation purchase (TCC):
 *   inventory.try         qty > left -> FAIL "out of stock"; else
 *                         left -= qty, reserved[gid] = qty
 *   inventory.confirm     reserved[gid] -> sold[gid]
 *   inventory.cancel      if reserved[gid]: left += it, del it (this is how
 *                         an expired reservation gives its units back: the
 *                         coordinator cancels it at its deadline)
 *
 * The refund saga (gid refund-G for order G):
 *   inventory.return_units  action: sold[G] -> returned[G], left += it;
 *                           nothing sold -> FAIL "not sold"
 *   inventory.retake_units  compensation: returned[G] -> sold[G],
 *                           left -= it; if those units were sold again
 *                           meanwhile (left too low) -> RETRY, never a
 *                           negative stock
 *
 * Invariant: left + sum(sold) + sum(reserved) = the initial stock after
 * every commit (a returned unit is back in left). Every read-modify-write
 * happens in the call's one write transaction (the store has one writer
 * at a time), so two buyers can never both take the last unit. Handlers
 * write only through their call's transaction; this file never opens the
 * store or prints.
 *
 * On PostgreSQL (--store) the stock counter, and only it, is changed by
 * SQL on the call's connection (dtx_txn_pg), in the barrier's savepoint,
 * so it commits with the call's barrier row: one conditional UPDATE
 * (left + delta >= 0) instead of a read and a write. That is the pattern
 * for a hot row: the check and the change are one statement under the
 * row's lock, so it stays right when several groups (service.c's
 * --groups) or inventory processes change it at once (a read then a
 * write through the key-value API would not be: under READ COMMITTED two
 * groups could both read the last unit), and it costs one round trip
 * instead of two. The row is dtx_kv's ('stock', sku), the decimal text
 * the key-value API reads, so the checker and the other handlers see the
 * same counter. It is every purchase's row: a group holds its lock from
 * its first deduct to its commit, and the next group's first deduct
 * waits for that commit; the rows of each gid (sold, reserved) are the
 * gid's alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dtx/dtx_pg.h>

#include "service.h"

/* The stock row changed by SQL: dtx_kv (tbl 'stock', k the sku's bytes,
 * v decimal text). $1 the sku, $2 the delta. */
static const char take_sql[] =
        "UPDATE dtx_kv SET v = convert_to((convert_from(v, 'UTF8')::int8"
        " + $2::int8)::text, 'UTF8')"
        " WHERE tbl = '" SHOP_T_STOCK "' AND k = convert_to($1, 'UTF8')"
        " AND convert_from(v, 'UTF8')::int8 + $2::int8 >= 0";
static const char add_sql[] =
        "INSERT INTO dtx_kv (tbl, k, v) VALUES ('" SHOP_T_STOCK "',"
        " convert_to($1, 'UTF8'), convert_to($2::int8::text, 'UTF8'))"
        " ON CONFLICT (tbl, k) DO UPDATE SET v = convert_to("
        "(convert_from(dtx_kv.v, 'UTF8')::int8 + $2::int8)::text, 'UTF8')";

/* stock_move_pg is stock_move on PostgreSQL: one statement on conn. A
 * failed statement leaves the transaction aborted: DTX_EIO, and the
 * barrier answers RETRY and keeps nothing of the call. */
static int stock_move_pg(PGconn *conn, const char *sku, int64_t delta,
                         bool *ret_short)
{
	char d[24];
	const char *params[2] = {sku, d};
	PGresult *res;
	int err = DTX_OK;

	snprintf(d, sizeof(d), "%lld", (long long)delta);
	res = PQexecParams(conn, delta < 0 ? take_sql : add_sql, 2, NULL,
	                   params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		err = DTX_EIO;
	else
		*ret_short = strcmp(PQcmdTuples(res), "0") == 0;
	PQclear(res);
	return err;
}

/* stock_move adds delta to the units left of sku (a missing row counts as
 * 0), unless that would leave fewer than 0: then *ret_short is set and
 * nothing changes. Errors: the store's. */
static int stock_move(dtx_txn *txn, const char *sku, int64_t delta,
                      bool *ret_short)
{
	PGconn *conn = dtx_txn_pg(txn);
	int64_t left = 0;
	int err;

	*ret_short = false;
	if (conn != NULL)
		return stock_move_pg(conn, sku, delta, ret_short);
	err = shop_txn_get_i64(txn, SHOP_T_STOCK, sku, &left);
	if (err != DTX_OK && err != DTX_ENOENT)
		return err;
	*ret_short = left + delta < 0;
	if (*ret_short)
		return DTX_OK;
	return shop_txn_put_i64(txn, SHOP_T_STOCK, sku, left + delta);
}

/* The take of a purchase in one statement: the stock's conditional
 * UPDATE, and table[gid] = qty only if it changed a row. $1 the sku, $2
 * the units, $3 the table, $4 the gid. */
static const char take_into_sql[] =
        "WITH s AS (UPDATE dtx_kv SET v = convert_to((convert_from(v, "
        "'UTF8')::int8 - $2::int8)::text, 'UTF8') WHERE tbl = '" SHOP_T_STOCK
        "' AND k = convert_to($1, 'UTF8') AND convert_from(v, 'UTF8')::int8"
        " - $2::int8 >= 0 RETURNING 1) INSERT INTO dtx_kv (tbl, k, v) "
        "SELECT $3, convert_to($4, 'UTF8'), convert_to($2::int8::text, "
        "'UTF8') FROM s ON CONFLICT (tbl, k) DO UPDATE SET v = EXCLUDED.v";

/* take_units_pg is take_units on PostgreSQL: one statement on conn (one
 * round trip, the stock row's lock taken once per group). */
static int take_units_pg(PGconn *conn, const shop_purchase *p,
                         const char *table, bool *ret_short)
{
	char q[24];
	const char *params[4] = {p->sku, q, table, p->order};
	PGresult *res;
	int err = DTX_OK;

	snprintf(q, sizeof(q), "%lld", (long long)p->qty);
	res = PQexecParams(conn, take_into_sql, 4, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		err = DTX_EIO; /* the transaction is aborted: RETRY */
	else
		*ret_short = strcmp(PQcmdTuples(res), "0") == 0;
	PQclear(res);
	return err;
}

/* take_units moves qty units out of the stock of sku into table[gid];
 * *ret_short is set when fewer than qty are left (nothing changes). */
static int take_units(dtx_txn *txn, const shop_purchase *p, const char *table,
                      bool *ret_short)
{
	PGconn *conn = dtx_txn_pg(txn);
	int err;

	*ret_short = false;
	if (conn != NULL)
		return take_units_pg(conn, p, table, ret_short);
	err = stock_move(txn, p->sku, -(int64_t)p->qty, ret_short);

	if (err != DTX_OK || *ret_short)
		return err;
	return shop_txn_put_i64(txn, table, p->order, p->qty);
}

/* give_back moves table[gid] (if any) back into the stock of sku. */
static int give_back(dtx_txn *txn, const shop_purchase *p, const char *table)
{
	int64_t units;
	bool short_of;
	int err = shop_txn_take_i64(txn, table, p->order, &units);

	if (err == DTX_ENOENT)
		return DTX_OK; /* nothing was taken */
	if (err == DTX_OK)
		err = stock_move(txn, p->sku, units, &short_of);
	return err;
}

static dtx_status answer_take(dtx_call *call, const shop_purchase *p,
                              const char *table)
{
	bool short_of = false;
	int err = take_units(dtx_call_txn(call), p, table, &short_of);

	if (err != DTX_OK)
		return shop_store_failed(call, err);
	return short_of ? shop_refuse(call, "out of stock") : DTX_STATUS_OK;
}

static dtx_status answer_give_back(dtx_call *call, const char *table)
{
	shop_purchase p;
	int err;

	if (!shop_call_purchase(call, &p))
		return DTX_STATUS_FAIL;
	err = give_back(dtx_call_txn(call), &p, table);
	return err == DTX_OK ? DTX_STATUS_OK : shop_store_failed(call, err);
}

/* ---- the purchase saga ------------------------------------------------- */

static dtx_status deduct_cb(void *arg, dtx_call *call)
{
	shop_purchase p;

	if (!shop_call_purchase(call, &p))
		return DTX_STATUS_FAIL;
	return answer_take(call, &p, SHOP_T_SOLD);
}

static dtx_status restock_cb(void *arg, dtx_call *call)
{
	return answer_give_back(call, SHOP_T_SOLD);
}

/* ---- the reservation purchase (TCC) ------------------------------------ */

static dtx_status try_cb(void *arg, dtx_call *call)
{
	shop_purchase p;

	if (!shop_call_purchase(call, &p))
		return DTX_STATUS_FAIL;
	return answer_take(call, &p, SHOP_T_RESERVED);
}

static dtx_status confirm_cb(void *arg, dtx_call *call)
{
	dtx_txn *txn = dtx_call_txn(call);
	shop_purchase p;
	int64_t units;
	int err;

	if (!shop_call_purchase(call, &p))
		return DTX_STATUS_FAIL;
	/* The barrier runs a confirm only after its try was recorded OK, and
	 * never after a cancel: the reservation must be there. */
	err = shop_txn_take_i64(txn, SHOP_T_RESERVED, p.order, &units);
	if (err == DTX_ENOENT)
		return shop_refuse(call,
		                   "no reservation"); /* RETRY: operator */
	if (err == DTX_OK)
		err = shop_txn_put_i64(txn, SHOP_T_SOLD, p.order, units);
	return err == DTX_OK ? DTX_STATUS_OK : shop_store_failed(call, err);
}

static dtx_status cancel_cb(void *arg, dtx_call *call)
{
	return answer_give_back(call, SHOP_T_RESERVED);
}

/* ---- the refund saga --------------------------------------------------- */

static dtx_status return_cb(void *arg, dtx_call *call)
{
	dtx_txn *txn = dtx_call_txn(call);
	shop_purchase p;
	int64_t units;
	bool short_of;
	int err;

	if (!shop_call_refund(call, &p))
		return DTX_STATUS_FAIL;
	err = shop_txn_take_i64(txn, SHOP_T_SOLD, p.order, &units);
	if (err == DTX_ENOENT)
		return shop_refuse(call, "not sold");
	if (err == DTX_OK)
		err = stock_move(txn, p.sku, units, &short_of);
	if (err == DTX_OK)
		err = shop_txn_put_i64(txn, SHOP_T_RETURNED, p.order, units);
	return err == DTX_OK ? DTX_STATUS_OK : shop_store_failed(call, err);
}

static dtx_status retake_cb(void *arg, dtx_call *call)
{
	dtx_txn *txn = dtx_call_txn(call);
	shop_purchase p;
	int64_t units;
	bool short_of = false;
	int err;

	if (!shop_call_refund(call, &p))
		return DTX_STATUS_FAIL;
	err = shop_txn_take_i64(txn, SHOP_T_RETURNED, p.order, &units);
	if (err == DTX_ENOENT)
		return DTX_STATUS_OK; /* nothing was returned */
	if (err == DTX_OK)
		err = stock_move(txn, p.sku, -units, &short_of);
	if (err == DTX_OK && short_of)
		return shop_refuse(call,
		                   "returned units sold again"); /* RETRY */
	if (err == DTX_OK)
		err = shop_txn_put_i64(txn, SHOP_T_SOLD, p.order, units);
	return err == DTX_OK ? DTX_STATUS_OK : shop_store_failed(call, err);
}

static const shop_handler handlers[] = {
        {"inventory.deduct", deduct_cb},
        {"inventory.restock", restock_cb},
        {"inventory.try", try_cb},
        {"inventory.confirm", confirm_cb},
        {"inventory.cancel", cancel_cb},
        {"inventory.return_units", return_cb},
        {"inventory.retake_units", retake_cb},
};

int main(int argc, char **argv)
{
	static const shop_service svc = {
	        .id = SHOP_SVC_INVENTORY,
	        .handlers = handlers,
	        .nhandlers = sizeof(handlers) / sizeof(handlers[0]),
	};

	return shop_service_main(&svc, argc, argv);
}
