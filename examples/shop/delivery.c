/*
 * delivery.c - dtx-shop-delivery, the card codes of the virtual-goods shop.
 *
 * Tables: pool: "<sku>/<code>" -> "" (codes not yet issued);
 * issued: code -> gid; deliveries: gid -> "code,code,...".
 *
 *   delivery.issue   action: take the first qty codes of the SKU from the
 *                    pool (key order), record them in issued and in
 *                    deliveries[gid]; fewer than qty -> FAIL "no codes
 *                    left", no change
 *   delivery.revoke  compensation: return the order's codes to the pool
 *
 * Invariant: every code is in exactly one of pool and issued, and an
 * issued code is in the delivery of the gid issued names. Handlers write
 * only through dtx_call_txn(call); this file never opens the store or
 * prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service.h"

#define POOL_KEY_MAX (SHOP_ID_MAX + 1 + SHOP_CODE_MAX + 1)
#define CODES_MAX    (SHOP_QTY_MAX * (SHOP_CODE_MAX + 1))
#define SCAN_STOP    DTX_ELIMIT /* a scan callback's "enough" */

/* picked - the pool keys one issue takes. */
typedef struct picked {
	char keys[SHOP_QTY_MAX][POOL_KEY_MAX];
	size_t n, want;
} picked;

static int pick_cb(void *arg, const void *key, size_t klen, const void *val,
                   size_t vlen)
{
	picked *pk = arg;

	if (klen >= POOL_KEY_MAX)
		return DTX_ECORRUPT;
	memcpy(pk->keys[pk->n], key, klen);
	pk->keys[pk->n][klen] = '\0';
	return ++pk->n == pk->want ? SCAN_STOP : DTX_OK;
}

/* pick finds the first p->qty codes of p->sku in the pool. */
static int pick(dtx_txn *txn, const shop_purchase *p, picked *pk)
{
	char prefix[SHOP_ID_MAX + 2];
	int n = snprintf(prefix, sizeof(prefix), "%s/", p->sku);
	int err;

	pk->n = 0;
	pk->want = p->qty;
	err = dtx_txn_scan(txn, SHOP_T_POOL, prefix, (size_t)n, pick_cb, pk);
	if (err == SCAN_STOP && pk->n == pk->want)
		return DTX_OK;
	return err == DTX_OK ? DTX_ENOENT : err;
}

/* take moves the picked codes from the pool to issued and lists them in
 * deliveries[gid]. */
static int take(dtx_txn *txn, const char *gid, const picked *pk, char *codes)
{
	size_t used = 0;
	int err = DTX_OK;

	for (size_t i = 0; err == DTX_OK && i < pk->n; i++) {
		const char *code = strchr(pk->keys[i], '/') + 1;
		size_t clen = strlen(code);

		if (used + clen + 2 > CODES_MAX)
			return DTX_ETOOBIG;
		err = shop_txn_del_str(txn, SHOP_T_POOL, pk->keys[i]);
		if (err == DTX_OK)
			err = shop_txn_put_str(txn, SHOP_T_ISSUED, code, gid);
		if (used > 0)
			codes[used++] = ',';
		memcpy(codes + used, code, clen + 1);
		used += clen;
	}
	if (err == DTX_OK)
		err = shop_txn_put_str(txn, SHOP_T_DELIVERIES, gid, codes);
	return err;
}

static dtx_status issue_cb(void *arg, dtx_call *call)
{
	dtx_txn *txn = dtx_call_txn(call);
	picked *pk = malloc(sizeof(*pk));
	char *codes = malloc(CODES_MAX);
	shop_purchase p;
	dtx_status st;
	int err = DTX_ENOMEM;

	if (!shop_call_purchase(call, &p)) {
		st = DTX_STATUS_FAIL;
		goto out;
	}
	if (pk != NULL && codes != NULL)
		err = pick(txn, &p, pk);
	if (err == DTX_ENOENT) {
		st = shop_refuse(call, "no codes left");
		goto out;
	}
	if (err == DTX_OK)
		err = take(txn, p.order, pk, codes);
	st = err == DTX_OK ? DTX_STATUS_OK : shop_store_failed(call, err);
out:
	free(codes);
	free(pk);
	return st;
}

/* give_back returns each code of the comma-separated list (modified) to
 * the pool of sku and forgets it was issued. */
static int give_back(dtx_txn *txn, const char *sku, char *list)
{
	char key[POOL_KEY_MAX];
	char *rest = list, *code;
	int err = DTX_OK;

	for (size_t i = 0; err == DTX_OK && i < SHOP_QTY_MAX; i++) {
		code = strsep(&rest, ",");
		if (code == NULL)
			break;
		err = shop_txn_del_str(txn, SHOP_T_ISSUED, code);
		if (err == DTX_OK || err == DTX_ENOENT) {
			snprintf(key, sizeof(key), "%s/%s", sku, code);
			err = shop_txn_put_str(txn, SHOP_T_POOL, key, "");
		}
	}
	return err;
}

/* copy_delivery copies deliveries[gid] into a new string (*ret_list). */
static int copy_delivery(dtx_txn *txn, const char *gid, char **ret_list)
{
	const void *val;
	size_t len;
	char *list;
	int err;

	err = dtx_txn_get(txn, SHOP_T_DELIVERIES, gid, strlen(gid), &val, &len);
	if (err != DTX_OK)
		return err;
	if (len == 0 || len >= CODES_MAX)
		return DTX_ECORRUPT;
	list = malloc(len + 1);
	if (list == NULL)
		return DTX_ENOMEM;
	memcpy(list, val, len);
	list[len] = '\0';
	*ret_list = list;
	return DTX_OK;
}

static dtx_status revoke_cb(void *arg, dtx_call *call)
{
	dtx_txn *txn = dtx_call_txn(call);
	char *list = NULL;
	shop_purchase p;
	int err;

	if (!shop_call_purchase(call, &p))
		return DTX_STATUS_FAIL;
	err = copy_delivery(txn, p.order, &list);
	if (err == DTX_ENOENT)
		return DTX_STATUS_OK; /* nothing was issued */
	if (err == DTX_OK)
		err = give_back(txn, p.sku, list);
	if (err == DTX_OK)
		err = shop_txn_del_str(txn, SHOP_T_DELIVERIES, p.order);
	free(list);
	return err == DTX_OK ? DTX_STATUS_OK : shop_store_failed(call, err);
}

static const shop_handler handlers[] = {
        {"delivery.issue", issue_cb},
        {"delivery.revoke", revoke_cb},
};

int main(int argc, char **argv)
{
	static const shop_service svc = {
	        .id = SHOP_SVC_DELIVERY,
	        .handlers = handlers,
	        .nhandlers = sizeof(handlers) / sizeof(handlers[0]),
	};

	return shop_service_main(&svc, argc, argv);
}
