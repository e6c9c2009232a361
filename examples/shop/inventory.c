/*
 * inventory.c - dtx-shop-inventory, the stock of the virtual-goods shop.
 *
 * Tables: stock: sku -> units left (decimal); sold: gid -> units.
 *
 *   inventory.deduct   action: qty > left -> FAIL "out of stock", no
 *                      change; else left -= qty, sold[gid] = qty
 *   inventory.restock  compensation: if sold[gid]: left += it, del sold[gid]
 *
 * Invariant: left + sum(sold) = the initial stock, after every commit.
 * Every read-modify-write of a counter happens in the call's one write
 * transaction (the store has one writer at a time), so two buyers can
 * never both take the last unit. Handlers write only through
 * dtx_call_txn(call); this file never opens the store or prints.
 */
#include "service.h"

static dtx_status deduct_cb(void *arg, dtx_call *call)
{
	dtx_txn *txn = dtx_call_txn(call);
	shop_purchase p;
	int64_t left = 0;
	int err;

	if (!shop_call_purchase(call, &p))
		return DTX_STATUS_FAIL;
	err = shop_txn_get_i64(txn, SHOP_T_STOCK, p.sku, &left);
	if (err != DTX_OK && err != DTX_ENOENT)
		return shop_store_failed(call, err);
	if ((int64_t)p.qty > left)
		return shop_refuse(call, "out of stock");
	err = shop_txn_put_i64(txn, SHOP_T_STOCK, p.sku, left - p.qty);
	if (err == DTX_OK)
		err = shop_txn_put_i64(txn, SHOP_T_SOLD, p.order, p.qty);
	return err == DTX_OK ? DTX_STATUS_OK : shop_store_failed(call, err);
}

static dtx_status restock_cb(void *arg, dtx_call *call)
{
	dtx_txn *txn = dtx_call_txn(call);
	shop_purchase p;
	int64_t sold, left = 0;
	int err;

	if (!shop_call_purchase(call, &p))
		return DTX_STATUS_FAIL;
	err = shop_txn_get_i64(txn, SHOP_T_SOLD, p.order, &sold);
	if (err == DTX_ENOENT)
		return DTX_STATUS_OK; /* nothing was deducted */
	if (err == DTX_OK)
		err = shop_txn_get_i64(txn, SHOP_T_STOCK, p.sku, &left);
	if (err == DTX_OK || err == DTX_ENOENT)
		err = shop_txn_put_i64(txn, SHOP_T_STOCK, p.sku, left + sold);
	if (err == DTX_OK)
		err = shop_txn_del_str(txn, SHOP_T_SOLD, p.order);
	return err == DTX_OK ? DTX_STATUS_OK : shop_store_failed(call, err);
}

static const shop_handler handlers[] = {
        {"inventory.deduct", deduct_cb},
        {"inventory.restock", restock_cb},
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
