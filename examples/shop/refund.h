/*
 * refund.h - dtx-shop refund: refunds paid orders of a kept run, each as
 * a four-step saga "refund-<order gid>":
 *
 *   0 delivery.void_codes     / delivery.restore_codes   codes revoked
 *   1 payment.reimburse       / payment.recharge         money back
 *   2 inventory.return_units  / inventory.retake_units   units restocked
 *   3 order.refund            / order.unrefund           order refunded
 *
 * The codes go first, so a buyer never holds a usable code and the money
 * at once; the order is marked last, once everything else is undone. The
 * driver picks the orders from the order store at rest (before it starts
 * the processes again), then submits the sagas on a bounded pool of
 * threads with blocking calls.
 */
#ifndef DTX_SHOP_REFUND_H
#define DTX_SHOP_REFUND_H

#include <stddef.h>

#include "procs.h"
#include "sale.h"
#include "shop_common.h"

/* refund_pick reads the order store of workdir (read-only: no service may
 * run) and returns the first `count` paid orders in gid order in a new
 * array (*ret_orders, freed by the caller) of *ret_n entries (fewer if
 * fewer are paid). Returns 0, or -1 (reason printed to stderr). */
int refund_pick(const char *workdir, unsigned count, shop_purchase **ret_orders,
                size_t *ret_n);

/* refund_run refunds the n orders (borrowed) against the running
 * processes ps (borrowed) with at most `threads` sagas in flight, waits
 * for each to be final, and fills *ret: committed = refunded,
 * other_refusal = refused (compensated), and the failure counts and
 * latencies as for a sale. Returns 0, or -1 if it could not start (reason
 * printed to stderr). */
int refund_run(const procs *ps, const shop_purchase *orders, size_t n,
               unsigned threads, sale_result *ret);

#endif
