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
 * The stock counter is changed only through shop_add_i64
 * (dtx_txn_add_i64) with the floor 0: the check and the change are one
 * step under the row's lock, so it stays right when several groups
 * (service.c's --groups) or inventory processes change it at once (a
 * read then a write through the key-value API would not be: under READ
 * COMMITTED two groups could both read the last unit). It is every
 * purchase's row: on PostgreSQL the SDK defers the group's changes of it
 * to the group's COMMIT and applies their sum there in one checked
 * statement, so a group holds the row's lock only for its COMMIT, not
 * from its first deduct to it (a sum that does not fit, at the sale's
 * end, reruns the group call by call: the call that does not fit is
 * refused "out of stock" as before). The rows of each gid (sold,
 * reserved) are the gid's alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service.h"

/* stock_move adds delta to the units left of sku (a missing row counts as
 * 0), unless that would leave fewer than 0: then *ret_short is set and
 * nothing changes. Errors: the store's. */
static int stock_move(dtx_txn *txn, const char *sku, int64_t delta,
                      bool *ret_short)
{
	return shop_add_i64(txn, SHOP_T_STOCK, sku, delta, 0, ret_short);
}

/* take_units moves qty units out of the stock of sku into table[gid];
 * *ret_short is set when fewer than qty are left (nothing changes). */
static int take_units(dtx_txn *txn, const shop_purchase *p, const char *table,
                      bool *ret_short)
{
	int err = stock_move(txn, p->sku, -(int64_t)p->qty, ret_short);

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
