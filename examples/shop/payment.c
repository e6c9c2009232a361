/*
 * payment.c - dtx-shop-payment, the buyers' money in the virtual-goods
 * shop, in integer cents.
 *
 * Tables: balances: buyer -> cents; revenue: "merchant" -> cents;
 * charges: gid -> cents charged.
 *
 *   payment.charge  action: amount = qty * price; balance < amount ->
 *                   FAIL "insufficient balance", no change; else
 *                   balance -= amount, revenue += amount, charges[gid]
 *   payment.refund  compensation: if charges[gid]: move it back, del it
 *
 * Invariant: sum(balances) + revenue = the initial money, after every
 * commit; no balance is negative. Handlers write only through
 * dtx_call_txn(call); this file never opens the store or prints.
 */
#include "service.h"

/* move adds delta to balances[buyer] and takes it from the revenue. */
static int move(dtx_txn *txn, const char *buyer, int64_t delta)
{
	int64_t balance = 0, revenue = 0;
	int err;

	err = shop_txn_get_i64(txn, SHOP_T_BALANCES, buyer, &balance);
	if (err != DTX_OK && err != DTX_ENOENT)
		return err;
	err = shop_txn_get_i64(txn, SHOP_T_REVENUE, SHOP_MERCHANT, &revenue);
	if (err != DTX_OK && err != DTX_ENOENT)
		return err;
	err = shop_txn_put_i64(txn, SHOP_T_BALANCES, buyer, balance + delta);
	if (err == DTX_OK)
		err = shop_txn_put_i64(txn, SHOP_T_REVENUE, SHOP_MERCHANT,
		                       revenue - delta);
	return err;
}

static dtx_status charge_cb(void *arg, dtx_call *call)
{
	dtx_txn *txn = dtx_call_txn(call);
	shop_purchase p;
	int64_t balance, amount;
	int err;

	if (!shop_call_purchase(call, &p))
		return DTX_STATUS_FAIL;
	amount = shop_purchase_amount(&p);
	err = shop_txn_get_i64(txn, SHOP_T_BALANCES, p.buyer, &balance);
	if (err == DTX_ENOENT)
		return shop_refuse(call, "unknown buyer");
	if (err != DTX_OK)
		return shop_store_failed(call, err);
	if (balance < amount)
		return shop_refuse(call, "insufficient balance");
	err = move(txn, p.buyer, -amount);
	if (err == DTX_OK)
		err = shop_txn_put_i64(txn, SHOP_T_CHARGES, p.order, amount);
	return err == DTX_OK ? DTX_STATUS_OK : shop_store_failed(call, err);
}

static dtx_status refund_cb(void *arg, dtx_call *call)
{
	dtx_txn *txn = dtx_call_txn(call);
	shop_purchase p;
	int64_t amount;
	int err;

	if (!shop_call_purchase(call, &p))
		return DTX_STATUS_FAIL;
	err = shop_txn_get_i64(txn, SHOP_T_CHARGES, p.order, &amount);
	if (err == DTX_ENOENT)
		return DTX_STATUS_OK; /* nothing was charged */
	if (err == DTX_OK)
		err = move(txn, p.buyer, amount);
	if (err == DTX_OK)
		err = shop_txn_del_str(txn, SHOP_T_CHARGES, p.order);
	return err == DTX_OK ? DTX_STATUS_OK : shop_store_failed(call, err);
}

static const shop_handler handlers[] = {
        {"payment.charge", charge_cb},
        {"payment.refund", refund_cb},
};

int main(int argc, char **argv)
{
	static const shop_service svc = {
	        .id = SHOP_SVC_PAYMENT,
	        .handlers = handlers,
	        .nhandlers = sizeof(handlers) / sizeof(handlers[0]),
	};

	return shop_service_main(&svc, argc, argv);
}
