/*
 * delivery.c - dtx-shop-delivery, the card codes of the virtual-goods shop.
 *
 * Tables: pool: "<sku>/<code>" -> "" (codes not yet issued);
 * issued: code -> gid; deliveries: gid -> "code,code,..."; held: gid ->
 * codes set aside for an unfinished TCC purchase; revoked: code -> gid
 * and revocations: gid -> codes, the codes of refunded orders.
 *
 * The purchase saga:
 *   delivery.issue   action: take the first qty codes of the SKU from the
 *                    pool (key order), record them in issued and in
 *                    deliveries[gid]; fewer than qty -> FAIL "no codes
 *                    left", no change
 *   delivery.revoke  compensation: return the order's codes to the pool
 *
 * The reservation purchase (TCC):
 *   delivery.try     take the first qty codes from the pool into
 *                    held[gid]; fewer -> FAIL "no codes left"
 *   delivery.confirm held[gid] -> issued and deliveries[gid]: the order
 *                    gets its codes, once (the barrier replays a repeat)
 *   delivery.cancel  held[gid] -> back to the pool
 *
 * The refund saga (gid refund-G for order G, its first step):
 *   delivery.void_codes     action: deliveries[G] -> revocations[G], each
 *                           code issued -> revoked; none -> FAIL "not
 *                           delivered"
 *   delivery.restore_codes  compensation: the reverse
 *
 * A revoked code never returns to the pool: the buyer has seen it, so it
 * is retired for good (and so restore_codes can always give the order its
 * very codes back). Invariant: every code is in exactly one of pool,
 * held, issued and revoked; an issued code is in the delivery of the gid
 * issued names, a revoked one in the revocation of its gid. Handlers
 * write only through dtx_call_txn(call); this file never opens the store
 * or prints.
 *
 * On PostgreSQL the pool is taken from in one statement (take_pg): the
 * first qty codes of the SKU that no other group holds (FOR UPDATE SKIP
 * LOCKED, the queue idiom), deleted and returned. A scan then a delete,
 * as on LMDB, would let two groups served at once (service.c's --groups)
 * pick the same codes, and the second would find them gone. A group that
 * holds the last codes and then rolls back can make another refuse "no
 * codes left" a moment before they are back: only at the sale's very end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dtx/dtx_pg.h>

#include "service.h"

#define POOL_KEY_MAX (SHOP_ID_MAX + 1 + SHOP_CODE_MAX + 1)
#define CODES_MAX    (SHOP_QTY_MAX * (SHOP_CODE_MAX + 1))
#define SCAN_STOP    DTX_ELIMIT /* a scan callback's "enough" */

/* picked - the pool keys one issue takes. */
typedef struct picked {
	char keys[SHOP_QTY_MAX][POOL_KEY_MAX];
	size_t n, want;
} picked;

/* code_fn handles one code of a list; ctx is the caller's. */
typedef int (*code_fn)(dtx_txn *txn, const char *code, void *ctx);

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

/* take_from_pool deletes the picked codes from the pool and lists them,
 * comma-separated, in codes (CODES_MAX bytes). */
static int take_from_pool(dtx_txn *txn, const picked *pk, char *codes)
{
	size_t used = 0;
	int err = DTX_OK;

	codes[0] = '\0';
	for (size_t i = 0; err == DTX_OK && i < pk->n; i++) {
		const char *code = strchr(pk->keys[i], '/') + 1;
		size_t clen = strlen(code);

		if (used + clen + 2 > CODES_MAX)
			return DTX_ETOOBIG;
		err = shop_txn_del_str(txn, SHOP_T_POOL, pk->keys[i]);
		if (used > 0)
			codes[used++] = ',';
		memcpy(codes + used, code, clen + 1);
		used += clen;
	}
	return err;
}

/* each_code calls fn for each code of the comma-separated list
 * (modified), stopping at the first error. */
static int each_code(dtx_txn *txn, char *list, code_fn fn, void *ctx)
{
	char *rest = list, *code;
	int err = DTX_OK;

	for (size_t i = 0; err == DTX_OK && i < SHOP_QTY_MAX; i++) {
		code = strsep(&rest, ",");
		if (code == NULL)
			break;
		err = fn(txn, code, ctx);
	}
	return err;
}

/* copy_list copies table[gid], a code list, into a new string. */
static int copy_list(dtx_txn *txn, const char *table, const char *gid,
                     char **ret_list)
{
	const void *val;
	size_t len;
	char *list;
	int err;

	err = dtx_txn_get(txn, table, gid, strlen(gid), &val, &len);
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

/* ---- what happens to one code ------------------------------------------ */

/* to_pool returns code to the pool of sku (ctx) and forgets it was
 * issued. */
static int to_pool(dtx_txn *txn, const char *code, void *ctx)
{
	char key[POOL_KEY_MAX];
	int err = shop_txn_del_str(txn, SHOP_T_ISSUED, code);

	if (err != DTX_OK && err != DTX_ENOENT)
		return err;
	snprintf(key, sizeof(key), "%s/%s", (const char *)ctx, code);
	return shop_txn_put_str(txn, SHOP_T_POOL, key, "");
}

/* to_issued records code as issued to gid (ctx). */
static int to_issued(dtx_txn *txn, const char *code, void *ctx)
{
	return shop_txn_put_str(txn, SHOP_T_ISSUED, code, ctx);
}

/* issued_to_revoked retires code, issued to gid (ctx). */
static int issued_to_revoked(dtx_txn *txn, const char *code, void *ctx)
{
	int err = shop_txn_del_str(txn, SHOP_T_ISSUED, code);

	return err == DTX_OK ? shop_txn_put_str(txn, SHOP_T_REVOKED, code, ctx)
	                     : err;
}

/* revoked_to_issued gives code back to gid (ctx). */
static int revoked_to_issued(dtx_txn *txn, const char *code, void *ctx)
{
	int err = shop_txn_del_str(txn, SHOP_T_REVOKED, code);

	return err == DTX_OK ? shop_txn_put_str(txn, SHOP_T_ISSUED, code, ctx)
	                     : err;
}

/* move_list moves the code list of gid from table `from` to table `to`
 * and calls fn on each code (ctx passed on). ENOENT: no list. */
static int move_list(dtx_txn *txn, const char *gid, const char *from,
                     const char *to, code_fn fn, void *ctx)
{
	char *list = NULL;
	int err = copy_list(txn, from, gid, &list);

	if (err == DTX_OK && to != NULL)
		err = shop_txn_put_str(txn, to, gid, list);
	if (err == DTX_OK)
		err = shop_txn_del_str(txn, from, gid);
	if (err == DTX_OK)
		err = each_code(txn, list, fn, ctx);
	free(list);
	return err;
}

/* ---- taking codes from the pool ---------------------------------------- */

/* The pool's head on PostgreSQL: dtx_kv rows ('pool', "<sku>/<code>").
 * $1 the SKU's first key ("<sku>/"), $2 the key past its last ("<sku>0":
 * '0' follows '/'), $3 how many, $4 where the code starts (1-based). */
static const char take_sql[] =
        "WITH taken AS (DELETE FROM dtx_kv WHERE tbl = '" SHOP_T_POOL "' AND "
        "k IN (SELECT k FROM dtx_kv WHERE tbl = '" SHOP_T_POOL "' AND "
        "k >= convert_to($1, 'UTF8') AND k < convert_to($2, 'UTF8') "
        "ORDER BY k LIMIT $3::int4 FOR UPDATE SKIP LOCKED) RETURNING k) "
        "SELECT convert_from(substr(k, $4::int4), 'UTF8') FROM taken "
        "ORDER BY k";

/* take_pg takes p's codes from the pool in one statement on conn and
 * lists them, comma-separated, in codes (CODES_MAX bytes). DTX_ENOENT:
 * fewer left than p->qty (the refusal rolls the deletes back). */
static int take_pg(PGconn *conn, const shop_purchase *p, char *codes)
{
	char first[SHOP_ID_MAX + 2], past[SHOP_ID_MAX + 2], qty[16], at[16];
	const char *params[4] = {first, past, qty, at};
	PGresult *res;
	size_t used = 0;
	int n, err = DTX_OK;

	snprintf(first, sizeof(first), "%s/", p->sku);
	snprintf(past, sizeof(past), "%s0", p->sku);
	snprintf(qty, sizeof(qty), "%u", (unsigned)p->qty);
	snprintf(at, sizeof(at), "%zu", strlen(first) + 1);
	res = PQexecParams(conn, take_sql, 4, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		err = DTX_EIO; /* the transaction is aborted: RETRY */
	else if ((n = PQntuples(res)) < (int)p->qty)
		err = DTX_ENOENT;
	codes[0] = '\0';
	for (int i = 0; err == DTX_OK && i < n; i++) {
		size_t clen = (size_t)PQgetlength(res, i, 0);

		if (used + clen + 2 > CODES_MAX) {
			err = DTX_ETOOBIG;
			break;
		}
		if (used > 0)
			codes[used++] = ',';
		memcpy(codes + used, PQgetvalue(res, i, 0), clen + 1);
		used += clen;
	}
	PQclear(res);
	return err;
}

/* take_codes takes p's codes from the pool into codes: one statement on
 * PostgreSQL, a scan and deletes on LMDB. */
static int take_codes(dtx_txn *txn, const shop_purchase *p, picked *pk,
                      char *codes)
{
	PGconn *conn = dtx_txn_pg(txn);
	int err;

	if (conn != NULL)
		return take_pg(conn, p, codes);
	err = pick(txn, p, pk);
	return err == DTX_OK ? take_from_pool(txn, pk, codes) : err;
}

/* answer_take takes p's codes from the pool into table[gid]; with
 * issue, also records each as issued. */
static dtx_status answer_take(dtx_call *call, const shop_purchase *p,
                              const char *table, bool issue)
{
	dtx_txn *txn = dtx_call_txn(call);
	picked *pk = malloc(sizeof(*pk));
	char *codes = malloc(CODES_MAX);
	int err = DTX_ENOMEM;

	if (pk != NULL && codes != NULL)
		err = take_codes(txn, p, pk, codes);
	if (err == DTX_OK)
		err = shop_txn_put_str(txn, table, p->order, codes);
	if (err == DTX_OK && issue)
		err = each_code(txn, codes, to_issued, (void *)p->order);
	free(codes);
	free(pk);
	if (err == DTX_ENOENT)
		return shop_refuse(call, "no codes left");
	return err == DTX_OK ? DTX_STATUS_OK : shop_store_failed(call, err);
}

/* answer_to_pool returns the codes listed in table[gid] to the pool. */
static dtx_status answer_to_pool(dtx_call *call, const char *table)
{
	shop_purchase p;
	int err;

	if (!shop_call_purchase(call, &p))
		return DTX_STATUS_FAIL;
	err = move_list(dtx_call_txn(call), p.order, table, NULL, to_pool,
	                p.sku);
	if (err == DTX_ENOENT)
		return DTX_STATUS_OK; /* nothing was taken */
	return err == DTX_OK ? DTX_STATUS_OK : shop_store_failed(call, err);
}

/* ---- the purchase saga ------------------------------------------------- */

static dtx_status issue_cb(void *arg, dtx_call *call)
{
	shop_purchase p;

	if (!shop_call_purchase(call, &p))
		return DTX_STATUS_FAIL;
	return answer_take(call, &p, SHOP_T_DELIVERIES, true);
}

static dtx_status revoke_cb(void *arg, dtx_call *call)
{
	return answer_to_pool(call, SHOP_T_DELIVERIES);
}

/* ---- the reservation purchase (TCC) ------------------------------------ */

static dtx_status try_cb(void *arg, dtx_call *call)
{
	shop_purchase p;

	if (!shop_call_purchase(call, &p))
		return DTX_STATUS_FAIL;
	return answer_take(call, &p, SHOP_T_HELD, false);
}

static dtx_status confirm_cb(void *arg, dtx_call *call)
{
	shop_purchase p;
	int err;

	if (!shop_call_purchase(call, &p))
		return DTX_STATUS_FAIL;
	/* Run only after the try was recorded OK, never after a cancel. */
	err = move_list(dtx_call_txn(call), p.order, SHOP_T_HELD,
	                SHOP_T_DELIVERIES, to_issued, p.order);
	if (err == DTX_ENOENT)
		return shop_refuse(call, "no codes held"); /* RETRY: operator */
	return err == DTX_OK ? DTX_STATUS_OK : shop_store_failed(call, err);
}

static dtx_status cancel_cb(void *arg, dtx_call *call)
{
	return answer_to_pool(call, SHOP_T_HELD);
}

/* ---- the refund saga --------------------------------------------------- */

static dtx_status void_cb(void *arg, dtx_call *call)
{
	shop_purchase p;
	int err;

	if (!shop_call_refund(call, &p))
		return DTX_STATUS_FAIL;
	err = move_list(dtx_call_txn(call), p.order, SHOP_T_DELIVERIES,
	                SHOP_T_REVOCATIONS, issued_to_revoked, p.order);
	if (err == DTX_ENOENT)
		return shop_refuse(call, "not delivered");
	return err == DTX_OK ? DTX_STATUS_OK : shop_store_failed(call, err);
}

static dtx_status restore_cb(void *arg, dtx_call *call)
{
	shop_purchase p;
	int err;

	if (!shop_call_refund(call, &p))
		return DTX_STATUS_FAIL;
	err = move_list(dtx_call_txn(call), p.order, SHOP_T_REVOCATIONS,
	                SHOP_T_DELIVERIES, revoked_to_issued, p.order);
	if (err == DTX_ENOENT)
		return DTX_STATUS_OK; /* nothing was voided */
	return err == DTX_OK ? DTX_STATUS_OK : shop_store_failed(call, err);
}

static const shop_handler handlers[] = {
        {"delivery.issue", issue_cb},
        {"delivery.revoke", revoke_cb},
        {"delivery.try", try_cb},
        {"delivery.confirm", confirm_cb},
        {"delivery.cancel", cancel_cb},
        {"delivery.void_codes", void_cb},
        {"delivery.restore_codes", restore_cb},
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
