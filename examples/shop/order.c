/*
 * order.c - dtx-shop-order, the order service of the virtual-goods shop.
 *
 * Table orders: gid -> "<purchase record>;state=STATE", STATE one of
 * pending, paid, cancelled, refunded.
 *
 * The purchase saga:
 *   order.create    action: the order exists, pending
 *   order.complete  action: pending -> paid (the saga's last step)
 *   order.cancel    compensation of both: -> cancelled
 *
 * The reservation purchase (TCC) serves the same three functions:
 *   order.try       = order.create: a pending order
 *   order.confirm   = order.complete: paid
 *   order.cancel    cancelled
 *
 * The refund saga (gid refund-G for order G, its last step):
 *   order.refund    action: paid -> refunded; else FAIL "not paid"
 *   order.unrefund  compensation: refunded -> paid
 *
 * Handlers write only through dtx_call_txn(call): the barrier commits the
 * write and the record of the call together, so a resent call has no
 * second effect. This file never opens the store or prints.
 */
#include <string.h>

#include "service.h"

/* put_order writes orders[p->order] in state st. */
static int put_order(dtx_txn *txn, const shop_purchase *p, shop_order_state st)
{
	char val[SHOP_RECORD_MAX + 32];
	size_t n = shop_order_format(p, st, val, sizeof(val));

	if (n == 0)
		return DTX_ETOOBIG;
	return dtx_txn_put(txn, SHOP_T_ORDERS, p->order, strlen(p->order), val,
	                   n);
}

/* get_state reads the state of order gid. Errors: DTX_ENOENT,
 * DTX_ECORRUPT, the store's. */
static int get_state(dtx_txn *txn, const char *gid, shop_order_state *ret_st)
{
	shop_purchase stored;
	const void *val;
	size_t len;
	int err;

	err = dtx_txn_get(txn, SHOP_T_ORDERS, gid, strlen(gid), &val, &len);
	if (err != DTX_OK)
		return err;
	if (!shop_order_parse(val, len, &stored, ret_st))
		return DTX_ECORRUPT;
	return DTX_OK;
}

static dtx_status create_cb(void *arg, dtx_call *call)
{
	dtx_txn *txn = dtx_call_txn(call);
	shop_order_state st;
	shop_purchase p;
	int err;

	if (!shop_call_purchase(call, &p))
		return DTX_STATUS_FAIL;
	err = get_state(txn, p.order, &st);
	if (err == DTX_OK)
		return DTX_STATUS_OK; /* created before: nothing to do */
	if (err == DTX_ENOENT)
		err = put_order(txn, &p, SHOP_ORDER_PENDING);
	return err == DTX_OK ? DTX_STATUS_OK : shop_store_failed(call, err);
}

static dtx_status complete_cb(void *arg, dtx_call *call)
{
	dtx_txn *txn = dtx_call_txn(call);
	shop_order_state st;
	shop_purchase p;
	int err;

	if (!shop_call_purchase(call, &p))
		return DTX_STATUS_FAIL;
	err = get_state(txn, p.order, &st);
	if (err == DTX_ENOENT)
		return shop_refuse(call, "no such order");
	if (err != DTX_OK)
		return shop_store_failed(call, err);
	if (st == SHOP_ORDER_CANCELLED)
		return shop_refuse(call, "order cancelled");
	if (st == SHOP_ORDER_PAID)
		return DTX_STATUS_OK;
	err = put_order(txn, &p, SHOP_ORDER_PAID);
	return err == DTX_OK ? DTX_STATUS_OK : shop_store_failed(call, err);
}

static dtx_status cancel_cb(void *arg, dtx_call *call)
{
	dtx_txn *txn = dtx_call_txn(call);
	shop_order_state st;
	shop_purchase p;
	int err;

	if (!shop_call_purchase(call, &p))
		return DTX_STATUS_FAIL;
	err = get_state(txn, p.order, &st);
	if (err == DTX_ENOENT || (err == DTX_OK && st == SHOP_ORDER_CANCELLED))
		return DTX_STATUS_OK; /* nothing to cancel */
	if (err == DTX_OK)
		err = put_order(txn, &p, SHOP_ORDER_CANCELLED);
	return err == DTX_OK ? DTX_STATUS_OK : shop_store_failed(call, err);
}

/* flip moves order p->order from state `from` to `to`: answers OK if it
 * is in `to` already, FAIL with refusal if it is in neither. */
static dtx_status flip(dtx_call *call, const shop_purchase *p,
                       shop_order_state from, shop_order_state to,
                       const char *refusal)
{
	dtx_txn *txn = dtx_call_txn(call);
	shop_order_state st;
	int err;

	err = get_state(txn, p->order, &st);
	if (err == DTX_ENOENT || (err == DTX_OK && st != from && st != to))
		return shop_refuse(call, refusal);
	if (err == DTX_OK && st == from)
		err = put_order(txn, p, to);
	return err == DTX_OK ? DTX_STATUS_OK : shop_store_failed(call, err);
}

static dtx_status refund_cb(void *arg, dtx_call *call)
{
	shop_purchase p;

	if (!shop_call_refund(call, &p))
		return DTX_STATUS_FAIL;
	return flip(call, &p, SHOP_ORDER_PAID, SHOP_ORDER_REFUNDED, "not paid");
}

/* unrefund_cb: a FAIL here is answered RETRY by the barrier; it cannot
 * happen, since refund_cb ran first (else this is a null compensation). */
static dtx_status unrefund_cb(void *arg, dtx_call *call)
{
	shop_purchase p;

	if (!shop_call_refund(call, &p))
		return DTX_STATUS_FAIL;
	return flip(call, &p, SHOP_ORDER_REFUNDED, SHOP_ORDER_PAID,
	            "not refunded");
}

static const shop_handler handlers[] = {
        {"order.create", create_cb},     {"order.complete", complete_cb},
        {"order.cancel", cancel_cb},     {"order.try", create_cb},
        {"order.confirm", complete_cb},  {"order.refund", refund_cb},
        {"order.unrefund", unrefund_cb},
};

int main(int argc, char **argv)
{
	static const shop_service svc = {
	        .id = SHOP_SVC_ORDER,
	        .handlers = handlers,
	        .nhandlers = sizeof(handlers) / sizeof(handlers[0]),
	};

	return shop_service_main(&svc, argc, argv);
}
