/*
 * shop_common.h - what the shop's services and its driver share: the
 * purchase record every saga step and TCC branch carries, the table names
 * of each service's store, the encoding of stored values, the handlers'
 * store helpers and the CLI helpers.
 *
 * Everything here uses the public SDK (<dtx/dtx.h>) only. Nothing here
 * prints except shop_usage; nothing here keeps global state.
 */
#ifndef DTX_SHOP_COMMON_H
#define DTX_SHOP_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtx/dtx.h>

#define SHOP_EXIT_USAGE 64

#define SHOP_ID_MAX     64         /* bytes of a buyer id or a SKU */
#define SHOP_QTY_MAX    100        /* units in one purchase */
#define SHOP_PRICE_MAX  1000000    /* cents of one unit (10,000.00) */
#define SHOP_RECORD_MAX 512        /* bytes of one purchase record */
#define SHOP_CODE_MAX   128        /* bytes of one card code */
#define SHOP_MERCHANT   "merchant" /* the one key of the revenue table */

/* Table names, one constant per table; each service owns its own. */
#define SHOP_T_ORDERS     "orders"     /* order:     gid -> order value */
#define SHOP_T_STOCK      "stock"      /* inventory: sku -> units left */
#define SHOP_T_SOLD       "sold"       /* inventory: gid -> units */
#define SHOP_T_BALANCES   "balances"   /* payment:   buyer -> cents */
#define SHOP_T_REVENUE    "revenue"    /* payment:   merchant -> cents */
#define SHOP_T_CHARGES    "charges"    /* payment:   gid -> cents */
#define SHOP_T_POOL       "pool"       /* delivery:  sku/code -> "" */
#define SHOP_T_ISSUED     "issued"     /* delivery:  code -> gid */
#define SHOP_T_DELIVERIES "deliveries" /* delivery:  gid -> code,code */
/* TCC reservations, one row per purchase gid, empty at rest: */
#define SHOP_T_RESERVED "reserved" /* inventory: gid -> units */
#define SHOP_T_FROZEN   "frozen"   /* payment:   gid -> cents */
#define SHOP_T_HELD     "held"     /* delivery:  gid -> code,code */
/* Refunds, keyed by the refunded order's gid: */
#define SHOP_T_RETURNED    "returned"    /* inventory: gid -> units */
#define SHOP_T_REIMBURSED  "reimbursed"  /* payment:   gid -> cents */
#define SHOP_T_REVOKED     "revoked"     /* delivery:  code -> gid */
#define SHOP_T_REVOCATIONS "revocations" /* delivery:  gid -> code,code */

/* The call journal, in every service's store: one row per (gid, branch,
 * op) whose handler answered OK, written in the handler's transaction
 * (service.c does it for every handler when --journal is on). A barrier
 * that let a call apply twice shows as a count of 2; a Try applied after
 * its Cancel as a Try row with a higher sequence number. The chaos
 * harness's checker reads it (tests/chaos). */
#define SHOP_T_APPLIED       "applied" /* "gid|branch|op" -> "n first last" */
#define SHOP_APPLIED_SEQ_KEY "~seq"    /* the store-wide sequence number */

/* A refund of order G is the saga "refund-G"; its steps carry G's record. */
#define SHOP_REFUND_PREFIX "refund-"

/* shop_service_id names the four services; SHOP_SVC_COUNT is the sentinel. */
typedef enum shop_service_id {
	SHOP_SVC_ORDER,
	SHOP_SVC_INVENTORY,
	SHOP_SVC_PAYMENT,
	SHOP_SVC_DELIVERY,
	SHOP_SVC_COUNT
} shop_service_id;

/* shop_service_name returns "order", "inventory", "payment", "delivery". */
const char *shop_service_name(shop_service_id id);

/* shop_service_tables stores the table names of service id (static) in
 * *ret_tables and returns their count. */
size_t shop_service_tables(shop_service_id id, const char *const **ret_tables);

/* shop_purchase - one parsed purchase record:
 * "order=<gid>;buyer=<id>;sku=<sku>;qty=<n>;price=<cents>". */
typedef struct shop_purchase {
	char order[DTX_GID_MAX + 1];
	char buyer[SHOP_ID_MAX + 1];
	char sku[SHOP_ID_MAX + 1];
	uint32_t qty;   /* 1..SHOP_QTY_MAX */
	uint32_t price; /* cents per unit, 0..SHOP_PRICE_MAX */
} shop_purchase;

/* shop_purchase_parse parses text (len bytes, not NUL-terminated) strictly:
 * the five fields in that order, nothing else, each value in its charset
 * and range. Returns true and fills *ret_p on success. */
bool shop_purchase_parse(const char *text, size_t len, shop_purchase *ret_p);

/* shop_purchase_format writes the record of p into buf (NUL-terminated)
 * and returns its length, or 0 if it does not fit. */
size_t shop_purchase_format(const shop_purchase *p, char *buf, size_t len);

/* shop_purchase_amount returns qty * price in cents. */
int64_t shop_purchase_amount(const shop_purchase *p);

/* shop_order_state - the life of an order (orders table). */
typedef enum shop_order_state {
	SHOP_ORDER_PENDING,
	SHOP_ORDER_PAID,
	SHOP_ORDER_CANCELLED,
	SHOP_ORDER_REFUNDED,
	SHOP_ORDER_STATE_COUNT
} shop_order_state;

/* shop_order_state_name returns "pending", "paid", "cancelled" or
 * "refunded". */
const char *shop_order_state_name(shop_order_state st);

/* shop_order_format writes an orders value, "<record>;state=<state>", into
 * buf and returns its length, or 0 if it does not fit. */
size_t shop_order_format(const shop_purchase *p, shop_order_state st, char *buf,
                         size_t len);

/* shop_order_parse parses an orders value (len bytes). Returns true and
 * fills *ret_p and *ret_st on success. */
bool shop_order_parse(const void *val, size_t len, shop_purchase *ret_p,
                      shop_order_state *ret_st);

/* shop_parse_i64 parses a stored decimal value (len bytes, an optional
 * '-' then digits). Returns true and sets *ret_v on success. */
bool shop_parse_i64(const void *val, size_t len, int64_t *ret_v);

/* shop_txn_get_i64 reads table[key] as a decimal. Errors: DTX_ENOENT,
 * DTX_ECORRUPT (not a decimal), and dtx_txn_get's. */
int shop_txn_get_i64(dtx_txn *txn, const char *table, const char *key,
                     int64_t *ret_v);

/* shop_txn_put_i64 writes table[key] = v as a decimal; dtx_txn_put's
 * errors. */
int shop_txn_put_i64(dtx_txn *txn, const char *table, const char *key,
                     int64_t v);

/* shop_txn_add_i64 adds delta to table[key] (a missing key counts as 0)
 * and stores the new value in *ret_v (may be NULL). Errors: DTX_ECORRUPT,
 * and those of dtx_txn_get / dtx_txn_put. */
int shop_txn_add_i64(dtx_txn *txn, const char *table, const char *key,
                     int64_t delta, int64_t *ret_v);

/* shop_txn_take_i64 reads table[key] as a decimal and deletes it.
 * Errors: DTX_ENOENT (nothing there), DTX_ECORRUPT, the store's. */
int shop_txn_take_i64(dtx_txn *txn, const char *table, const char *key,
                      int64_t *ret_v);

/* shop_txn_put_str / shop_txn_del_str: string keys and values. */
int shop_txn_put_str(dtx_txn *txn, const char *table, const char *key,
                     const char *val);
int shop_txn_del_str(dtx_txn *txn, const char *table, const char *key);

/* shop_applied - one journal row (see SHOP_T_APPLIED). */
typedef struct shop_applied {
	char gid[DTX_GID_MAX + 1];
	uint32_t branch;
	dtx_op op;
	uint64_t count; /* times the handler's OK was committed */
	uint64_t first; /* store-wide sequence number of the first */
	uint64_t last;  /* ... and of the last */
} shop_applied;

/* shop_journal_record adds the call (gid, branch, op) to the journal in
 * txn (the call's own transaction, so the row commits with the effect):
 * its count goes up by one and it takes the next store-wide sequence
 * number. Errors: DTX_ECORRUPT (a malformed row), DTX_ETOOBIG, and those
 * of dtx_txn_get / dtx_txn_put. */
int shop_journal_record(dtx_txn *txn, const dtx_call *call);

/* shop_journal_parse parses a journal row (key klen bytes, value vlen
 * bytes) into *ret_a. Returns false for the sequence key and for
 * anything malformed. */
bool shop_journal_parse(const void *key, size_t klen, const void *val,
                        size_t vlen, shop_applied *ret_a);

/* shop_journal_format writes the key and value of a into kbuf / vbuf
 * (NUL-terminated); false if either does not fit. */
bool shop_journal_format(const shop_applied *a, char *kbuf, size_t klen,
                         char *vbuf, size_t vlen);

/* shop_call_purchase parses the payload of call into *ret_p and checks
 * that its order is the call's gid. On a bad payload it sets the reply
 * message "bad payload" and returns false. */
bool shop_call_purchase(dtx_call *call, shop_purchase *ret_p);

/* shop_call_refund parses the payload of a refund saga's call into *ret_p
 * (the refunded order's record) and checks that the call's gid is
 * SHOP_REFUND_PREFIX + its order. On a bad payload it sets the reply
 * message "bad payload" and returns false. */
bool shop_call_refund(dtx_call *call, shop_purchase *ret_p);

/* shop_refund_gid writes the gid of the refund of order into buf; false
 * if it does not fit. */
bool shop_refund_gid(const char *order, char *buf, size_t len);

/* shop_refuse sets msg as the reply message and returns FAIL. */
dtx_status shop_refuse(dtx_call *call, const char *msg);

/* shop_store_failed answers a store error: RETRY (the barrier discards
 * the writes; the coordinator calls again), with the error as message. */
dtx_status shop_store_failed(dtx_call *call, int err);

/* shop_usage prints "PROG: <message>\n<usage>" to stderr and exits 64. */
void shop_usage(const char *prog, const char *usage, const char *fmt, ...)
        __attribute__((format(printf, 3, 4), noreturn));

/* shop_parse_uint parses a non-negative decimal flag value no larger than
 * max; anything else is a usage error. */
unsigned long shop_parse_uint(const char *prog, const char *usage,
                              const char *flag, const char *s,
                              unsigned long max);

/* shop_write_ready_file writes "<pid>\n" to path through a rename. Returns
 * 0 or -1 (errno set). */
int shop_write_ready_file(const char *path);

#endif
