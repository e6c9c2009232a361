/*
 * payment.c - dtx-shop-payment, the buyers' money in the virtual-goods
 * shop, in integer cents.
 *
 * Tables: balances: buyer -> cents; revenue: "merchant" -> cents;
 * charges: gid -> cents charged; frozen: gid -> cents held by an
 * unfinished TCC purchase; reimbursed: gid -> cents a refund gave back.
 *
 * The purchase saga:
 *   payment.charge       action: amount = qty * price; balance < amount ->
 *                        FAIL "insufficient balance", no change; else
 *                        balance -= amount, revenue += amount, charges[gid]
 *   payment.refund       compensation: if charges[gid]: move it back, del it
 *
 * The reservation purchase (TCC):
 *   payment.try          balance < amount -> FAIL "insufficient balance";
 *                        else balance -= amount, frozen[gid] = amount
 *   payment.confirm      frozen[gid] -> revenue, charges[gid] = amount
 *   payment.cancel       if frozen[gid]: balance += it, del it
 *
 * The refund saga (gid refund-G for order G):
 *   payment.reimburse    action: charges[G] -> reimbursed[G]; revenue -=
 *                        it, balance += it; no charge -> FAIL "not charged"
 *   payment.recharge     compensation: reimbursed[G] -> charges[G]; if the
 *                        buyer spent the money meanwhile (balance too low)
 *                        -> RETRY, never a negative balance
 *
 * Invariant: sum(balances) + sum(frozen) + revenue = the initial money,
 * after every commit; no balance is negative. Handlers write only through
 * dtx_call_txn(call); this file never opens the store or prints.
 *
 * Every change of a balance or of the revenue is shop_add_i64
 * (dtx_txn_add_i64): a debit carries the floor 0, so a buyer's money
 * spent by another group between can_pay's read and the debit is
 * refused, never taken below zero, and several groups served at once
 * (service.c's --groups) never lose an update. On PostgreSQL the SDK
 * defers those changes to the group's COMMIT and applies each counter's
 * sum there in one checked statement: the revenue row, every charge's,
 * is locked only for the COMMIT, not from a group's first charge to it
 * (a sum that does not fit reruns the group call by call, and the call
 * that does not fit is refused as before). can_pay's read does not see
 * the changes its group deferred: only the floor decides.
 */
#include "service.h"

/* move adds delta to balances[buyer] and takes it from the revenue,
 * unless the balance would end below 0: then *ret_short is set and
 * nothing changes. */
static int move(dtx_txn *txn, const char *buyer, int64_t delta, bool *ret_short)
{
	int err =
	        shop_add_i64(txn, SHOP_T_BALANCES, buyer, delta, 0, ret_short);

	if (err == DTX_OK && !*ret_short)
		err = shop_add_i64(txn, SHOP_T_REVENUE, SHOP_MERCHANT, -delta,
		                   SHOP_NO_FLOOR, NULL);
	return err;
}

/* can_pay checks that p's buyer exists and holds p's amount; otherwise
 * it sets the refusal message and returns false (*ret_err = store error,
 * or DTX_OK for a business refusal). */
static bool can_pay(dtx_call *call, const shop_purchase *p, int *ret_err)
{
	int64_t balance;
	int err;

	err = shop_txn_get_i64(dtx_call_txn(call), SHOP_T_BALANCES, p->buyer,
	                       &balance);
	*ret_err = err == DTX_ENOENT ? DTX_OK : err;
	if (err == DTX_ENOENT)
		(void)dtx_call_set_message(call, "unknown buyer");
	else if (err == DTX_OK && balance < shop_purchase_amount(p))
		(void)dtx_call_set_message(call, "insufficient balance");
	return err == DTX_OK && balance >= shop_purchase_amount(p);
}

/* ---- the purchase saga ------------------------------------------------- */

static dtx_status charge_cb(void *arg, dtx_call *call)
{
	dtx_txn *txn = dtx_call_txn(call);
	bool short_of;
	shop_purchase p;
	int err;

	if (!shop_call_purchase(call, &p))
		return DTX_STATUS_FAIL;
	if (!can_pay(call, &p, &err))
		return err == DTX_OK ? DTX_STATUS_FAIL
		                     : shop_store_failed(call, err);
	err = move(txn, p.buyer, -shop_purchase_amount(&p), &short_of);
	if (err == DTX_OK && short_of) /* another group spent it first */
		return shop_refuse(call, "insufficient balance");
	if (err == DTX_OK)
		err = shop_txn_put_i64(txn, SHOP_T_CHARGES, p.order,
		                       shop_purchase_amount(&p));
	return err == DTX_OK ? DTX_STATUS_OK : shop_store_failed(call, err);
}

static dtx_status refund_cb(void *arg, dtx_call *call)
{
	dtx_txn *txn = dtx_call_txn(call);
	bool short_of;
	shop_purchase p;
	int64_t amount;
	int err;

	if (!shop_call_purchase(call, &p))
		return DTX_STATUS_FAIL;
	err = shop_txn_take_i64(txn, SHOP_T_CHARGES, p.order, &amount);
	if (err == DTX_ENOENT)
		return DTX_STATUS_OK; /* nothing was charged */
	if (err == DTX_OK)
		err = move(txn, p.buyer, amount, &short_of);
	return err == DTX_OK ? DTX_STATUS_OK : shop_store_failed(call, err);
}

/* ---- the reservation purchase (TCC) ------------------------------------ */

static dtx_status try_cb(void *arg, dtx_call *call)
{
	dtx_txn *txn = dtx_call_txn(call);
	int64_t amount;
	bool short_of;
	shop_purchase p;
	int err;

	if (!shop_call_purchase(call, &p))
		return DTX_STATUS_FAIL;
	if (!can_pay(call, &p, &err))
		return err == DTX_OK ? DTX_STATUS_FAIL
		                     : shop_store_failed(call, err);
	amount = shop_purchase_amount(&p);
	err = shop_add_i64(txn, SHOP_T_BALANCES, p.buyer, -amount, 0,
	                   &short_of);
	if (err == DTX_OK && short_of) /* another group spent it first */
		return shop_refuse(call, "insufficient balance");
	if (err == DTX_OK)
		err = shop_txn_put_i64(txn, SHOP_T_FROZEN, p.order, amount);
	return err == DTX_OK ? DTX_STATUS_OK : shop_store_failed(call, err);
}

static dtx_status confirm_cb(void *arg, dtx_call *call)
{
	dtx_txn *txn = dtx_call_txn(call);
	shop_purchase p;
	int64_t amount;
	int err;

	if (!shop_call_purchase(call, &p))
		return DTX_STATUS_FAIL;
	/* Run only after the try was recorded OK, never after a cancel. */
	err = shop_txn_take_i64(txn, SHOP_T_FROZEN, p.order, &amount);
	if (err == DTX_ENOENT)
		return shop_refuse(call,
		                   "nothing frozen"); /* RETRY: operator */
	if (err == DTX_OK)
		err = shop_add_i64(txn, SHOP_T_REVENUE, SHOP_MERCHANT, amount,
		                   SHOP_NO_FLOOR, NULL);
	if (err == DTX_OK)
		err = shop_txn_put_i64(txn, SHOP_T_CHARGES, p.order, amount);
	return err == DTX_OK ? DTX_STATUS_OK : shop_store_failed(call, err);
}

static dtx_status cancel_cb(void *arg, dtx_call *call)
{
	dtx_txn *txn = dtx_call_txn(call);
	shop_purchase p;
	int64_t amount;
	int err;

	if (!shop_call_purchase(call, &p))
		return DTX_STATUS_FAIL;
	err = shop_txn_take_i64(txn, SHOP_T_FROZEN, p.order, &amount);
	if (err == DTX_ENOENT)
		return DTX_STATUS_OK; /* nothing was frozen */
	if (err == DTX_OK)
		err = shop_add_i64(txn, SHOP_T_BALANCES, p.buyer, amount,
		                   SHOP_NO_FLOOR, NULL);
	return err == DTX_OK ? DTX_STATUS_OK : shop_store_failed(call, err);
}

/* ---- the refund saga --------------------------------------------------- */

static dtx_status reimburse_cb(void *arg, dtx_call *call)
{
	dtx_txn *txn = dtx_call_txn(call);
	bool short_of;
	shop_purchase p;
	int64_t amount;
	int err;

	if (!shop_call_refund(call, &p))
		return DTX_STATUS_FAIL;
	err = shop_txn_take_i64(txn, SHOP_T_CHARGES, p.order, &amount);
	if (err == DTX_ENOENT)
		return shop_refuse(call, "not charged");
	if (err == DTX_OK)
		err = move(txn, p.buyer, amount, &short_of);
	if (err == DTX_OK)
		err = shop_txn_put_i64(txn, SHOP_T_REIMBURSED, p.order, amount);
	return err == DTX_OK ? DTX_STATUS_OK : shop_store_failed(call, err);
}

static dtx_status recharge_cb(void *arg, dtx_call *call)
{
	dtx_txn *txn = dtx_call_txn(call);
	int64_t amount;
	bool short_of = false;
	shop_purchase p;
	int err;

	if (!shop_call_refund(call, &p))
		return DTX_STATUS_FAIL;
	err = shop_txn_take_i64(txn, SHOP_T_REIMBURSED, p.order, &amount);
	if (err == DTX_ENOENT)
		return DTX_STATUS_OK; /* nothing was reimbursed */
	if (err == DTX_OK)
		err = move(txn, p.buyer, -amount, &short_of);
	if (err == DTX_OK && short_of)
		return shop_refuse(call, "reimbursement spent"); /* RETRY */
	if (err == DTX_OK)
		err = shop_txn_put_i64(txn, SHOP_T_CHARGES, p.order, amount);
	return err == DTX_OK ? DTX_STATUS_OK : shop_store_failed(call, err);
}

static const shop_handler handlers[] = {
        {"payment.charge", charge_cb},     {"payment.refund", refund_cb},
        {"payment.try", try_cb},           {"payment.confirm", confirm_cb},
        {"payment.cancel", cancel_cb},     {"payment.reimburse", reimburse_cb},
        {"payment.recharge", recharge_cb},
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
