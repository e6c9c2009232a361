/*
 * shop_common.c - the purchase record, stored value encodings, the
 * handlers' store helpers and the CLI helpers (see shop_common.h).
 *
 * Parsing is strict: a record or value that is not exactly in its format
 * is rejected whole, never half-read. Stored numbers are decimal text, so
 * an operator can read a store with any LMDB tool. Nothing here does I/O
 * except shop_usage (stderr) and shop_write_ready_file.
 */
#include "shop_common.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Every service's store also holds the call journal (SHOP_T_APPLIED). */
static const char *const order_tables[] = {SHOP_T_ORDERS, SHOP_T_APPLIED};
static const char *const inventory_tables[] = {SHOP_T_STOCK, SHOP_T_SOLD,
                                               SHOP_T_RESERVED, SHOP_T_RETURNED,
                                               SHOP_T_APPLIED};
static const char *const payment_tables[] = {SHOP_T_BALANCES,   SHOP_T_REVENUE,
                                             SHOP_T_CHARGES,    SHOP_T_FROZEN,
                                             SHOP_T_REIMBURSED, SHOP_T_APPLIED};
static const char *const delivery_tables[] = {
        SHOP_T_POOL,    SHOP_T_ISSUED,      SHOP_T_DELIVERIES, SHOP_T_HELD,
        SHOP_T_REVOKED, SHOP_T_REVOCATIONS, SHOP_T_APPLIED};

typedef struct service_desc {
	const char *name;
	const char *const *tables;
	size_t ntables;
} service_desc;

static const service_desc services[SHOP_SVC_COUNT] = {
        [SHOP_SVC_ORDER] = {"order", order_tables, 2},
        [SHOP_SVC_INVENTORY] = {"inventory", inventory_tables, 5},
        [SHOP_SVC_PAYMENT] = {"payment", payment_tables, 6},
        [SHOP_SVC_DELIVERY] = {"delivery", delivery_tables, 7},
};

static const char *const state_names[SHOP_ORDER_STATE_COUNT] = {
        [SHOP_ORDER_PENDING] = "pending",
        [SHOP_ORDER_PAID] = "paid",
        [SHOP_ORDER_CANCELLED] = "cancelled",
        [SHOP_ORDER_REFUNDED] = "refunded",
};

const char *shop_service_name(shop_service_id id)
{
	return id < SHOP_SVC_COUNT ? services[id].name : "unknown";
}

size_t shop_service_tables(shop_service_id id, const char *const **ret_tables)
{
	if (id >= SHOP_SVC_COUNT)
		return 0;
	*ret_tables = services[id].tables;
	return services[id].ntables;
}

const char *shop_order_state_name(shop_order_state st)
{
	return st < SHOP_ORDER_STATE_COUNT ? state_names[st] : "unknown";
}

/* ---- the purchase record ----------------------------------------------- */

/* is_id_char accepts the gid charset; ':' only when colon is true (gids
 * may hold it, buyer ids and SKUs may not). */
static bool is_id_char(char c, bool colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
	       (colon && c == ':');
}

/* take_field checks that *s starts with "name=", copies the value up to
 * the next ';' (or the end) into out, and advances *s past the ';'. */
static bool take_field(const char **s, const char *name, char *out,
                       size_t outlen)
{
	size_t nlen = strlen(name);
	const char *v = *s, *end;
	size_t vlen;

	if (strncmp(v, name, nlen) != 0 || v[nlen] != '=')
		return false;
	v += nlen + 1;
	end = strchr(v, ';');
	vlen = end != NULL ? (size_t)(end - v) : strlen(v);
	if (vlen == 0 || vlen >= outlen)
		return false;
	memcpy(out, v, vlen);
	out[vlen] = '\0';
	*s = end != NULL ? end + 1 : v + vlen;
	return end == NULL || end[1] != '\0';
}

static bool is_id(const char *s, bool colon)
{
	for (; *s != '\0'; s++)
		if (!is_id_char(*s, colon))
			return false;
	return true;
}

/* parse_count accepts digits only, no leading zero, from min to max. */
static bool parse_count(const char *s, uint32_t min, uint32_t max,
                        uint32_t *ret_v)
{
	uint64_t v = 0;
	size_t i;

	if (s[0] == '0' && s[1] != '\0')
		return false;
	for (i = 0; s[i] != '\0' && i < 10; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0 || s[i] != '\0' || v < min || v > max)
		return false;
	*ret_v = (uint32_t)v;
	return true;
}

/* parse_text parses the NUL-terminated record s (see shop_purchase_parse). */
static bool parse_text(const char *s, shop_purchase *p)
{
	char qty[16], price[16];

	if (!take_field(&s, "order", p->order, sizeof(p->order)) ||
	    !take_field(&s, "buyer", p->buyer, sizeof(p->buyer)) ||
	    !take_field(&s, "sku", p->sku, sizeof(p->sku)) ||
	    !take_field(&s, "qty", qty, sizeof(qty)) ||
	    !take_field(&s, "price", price, sizeof(price)) || *s != '\0')
		return false;
	return is_id(p->order, true) && is_id(p->buyer, false) &&
	       is_id(p->sku, false) &&
	       parse_count(qty, 1, SHOP_QTY_MAX, &p->qty) &&
	       parse_count(price, 0, SHOP_PRICE_MAX, &p->price);
}

bool shop_purchase_parse(const char *text, size_t len, shop_purchase *ret_p)
{
	char buf[SHOP_RECORD_MAX];
	shop_purchase p;

	if (text == NULL || len == 0 || len >= sizeof(buf) ||
	    memchr(text, '\0', len) != NULL)
		return false;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (!parse_text(buf, &p))
		return false;
	*ret_p = p;
	return true;
}

size_t shop_purchase_format(const shop_purchase *p, char *buf, size_t len)
{
	int n = snprintf(buf, len, "order=%s;buyer=%s;sku=%s;qty=%u;price=%u",
	                 p->order, p->buyer, p->sku, (unsigned)p->qty,
	                 (unsigned)p->price);

	return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

int64_t shop_purchase_amount(const shop_purchase *p)
{
	return (int64_t)p->qty * (int64_t)p->price;
}

/* ---- stored values ----------------------------------------------------- */

size_t shop_order_format(const shop_purchase *p, shop_order_state st, char *buf,
                         size_t len)
{
	size_t n = shop_purchase_format(p, buf, len);
	int m;

	if (n == 0 || st >= SHOP_ORDER_STATE_COUNT)
		return 0;
	m = snprintf(buf + n, len - n, ";state=%s", state_names[st]);
	return m > 0 && (size_t)m < len - n ? n + (size_t)m : 0;
}

bool shop_order_parse(const void *val, size_t len, shop_purchase *ret_p,
                      shop_order_state *ret_st)
{
	static const char key[] = ";state=";
	char buf[SHOP_RECORD_MAX + 32];
	const char *at;

	if (len == 0 || len >= sizeof(buf) || memchr(val, '\0', len) != NULL)
		return false;
	memcpy(buf, val, len);
	buf[len] = '\0';
	at = strstr(buf, key);
	if (at == NULL)
		return false;
	for (int st = 0; st < SHOP_ORDER_STATE_COUNT; st++) {
		if (strcmp(at + sizeof(key) - 1, state_names[st]) != 0)
			continue;
		if (!shop_purchase_parse(buf, (size_t)(at - buf), ret_p))
			return false;
		*ret_st = (shop_order_state)st;
		return true;
	}
	return false;
}

bool shop_parse_i64(const void *val, size_t len, int64_t *ret_v)
{
	const char *s = val;
	bool neg = len > 0 && s[0] == '-';
	size_t i = neg ? 1 : 0;
	int64_t v = 0;

	if (len == i || len - i > 18)
		return false;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*ret_v = neg ? -v : v;
	return true;
}

/* ---- store helpers for handlers ---------------------------------------- */

int shop_txn_get_i64(dtx_txn *txn, const char *table, const char *key,
                     int64_t *ret_v)
{
	const void *val;
	size_t len;
	int err;

	err = dtx_txn_get(txn, table, key, strlen(key), &val, &len);
	if (err != DTX_OK)
		return err;
	return shop_parse_i64(val, len, ret_v) ? DTX_OK : DTX_ECORRUPT;
}

int shop_txn_put_i64(dtx_txn *txn, const char *table, const char *key,
                     int64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%lld", (long long)v);

	return dtx_txn_put(txn, table, key, strlen(key), buf, (size_t)n);
}

int shop_txn_add_i64(dtx_txn *txn, const char *table, const char *key,
                     int64_t delta, int64_t *ret_v)
{
	int64_t v = 0;
	int err = shop_txn_get_i64(txn, table, key, &v);

	if (err != DTX_OK && err != DTX_ENOENT)
		return err;
	err = shop_txn_put_i64(txn, table, key, v + delta);
	if (err == DTX_OK && ret_v != NULL)
		*ret_v = v + delta;
	return err;
}

int shop_txn_take_i64(dtx_txn *txn, const char *table, const char *key,
                      int64_t *ret_v)
{
	int64_t v;
	int err = shop_txn_get_i64(txn, table, key, &v);

	if (err == DTX_OK)
		err = shop_txn_del_str(txn, table, key);
	if (err == DTX_OK)
		*ret_v = v;
	return err;
}

int shop_txn_put_str(dtx_txn *txn, const char *table, const char *key,
                     const char *val)
{
	return dtx_txn_put(txn, table, key, strlen(key), val, strlen(val));
}

int shop_txn_del_str(dtx_txn *txn, const char *table, const char *key)
{
	return dtx_txn_del(txn, table, key, strlen(key));
}

/* ---- the call journal -------------------------------------------------- */

bool shop_journal_format(const shop_applied *a, char *kbuf, size_t klen,
                         char *vbuf, size_t vlen)
{
	int k = snprintf(kbuf, klen, "%s|%u|%s", a->gid, (unsigned)a->branch,
	                 dtx_op_name((int)a->op));
	int v = snprintf(
	        vbuf, vlen, "%llu %llu %llu", (unsigned long long)a->count,
	        (unsigned long long)a->first, (unsigned long long)a->last);

	return k > 0 && (size_t)k < klen && v > 0 && (size_t)v < vlen;
}

static bool op_of_name(const char *name, dtx_op *ret_op)
{
	for (int op = DTX_OP_ACTION; op <= DTX_OP_CANCEL; op++) {
		if (strcmp(dtx_op_name(op), name) == 0) {
			*ret_op = (dtx_op)op;
			return true;
		}
	}
	return false;
}

bool shop_journal_parse(const void *key, size_t klen, const void *val,
                        size_t vlen, shop_applied *ret_a)
{
	char k[DTX_GID_MAX + 64], v[80], op[16];
	unsigned long long n, first, last;
	unsigned branch;
	char *bar;
	shop_applied a;

	if (klen == 0 || klen >= sizeof(k) || vlen == 0 || vlen >= sizeof(v))
		return false;
	memcpy(k, key, klen);
	k[klen] = '\0';
	memcpy(v, val, vlen);
	v[vlen] = '\0';
	bar = strchr(k, '|');
	if (bar == NULL || (size_t)(bar - k) > DTX_GID_MAX ||
	    sscanf(bar, "|%u|%15s", &branch, op) != 2 ||
	    sscanf(v, "%llu %llu %llu", &n, &first, &last) != 3 ||
	    !op_of_name(op, &a.op))
		return false;
	memcpy(a.gid, k, (size_t)(bar - k));
	a.gid[bar - k] = '\0';
	a.branch = branch;
	a.count = n;
	a.first = first;
	a.last = last;
	*ret_a = a;
	return true;
}

/* next_seq takes the store-wide sequence number of the journal. */
static int next_seq(dtx_txn *txn, uint64_t *ret_seq)
{
	int64_t seq = 0;
	int err = shop_txn_add_i64(txn, SHOP_T_APPLIED, SHOP_APPLIED_SEQ_KEY, 1,
	                           &seq);

	if (err == DTX_OK)
		*ret_seq = (uint64_t)seq;
	return err;
}

int shop_journal_record(dtx_txn *txn, const dtx_call *call)
{
	shop_applied a = {.branch = dtx_call_branch(call),
	                  .op = dtx_call_op(call)};
	char key[DTX_GID_MAX + 64], val[80];
	const void *old;
	size_t olen;
	uint64_t seq;
	int err;

	snprintf(a.gid, sizeof(a.gid), "%s", dtx_call_gid(call));
	if (!shop_journal_format(&a, key, sizeof(key), val, sizeof(val)))
		return DTX_ETOOBIG;
	err = dtx_txn_get(txn, SHOP_T_APPLIED, key, strlen(key), &old, &olen);
	if (err == DTX_OK &&
	    !shop_journal_parse(key, strlen(key), old, olen, &a))
		return DTX_ECORRUPT;
	if (err != DTX_OK && err != DTX_ENOENT)
		return err;
	if ((err = next_seq(txn, &seq)) != DTX_OK)
		return err;
	a.count++;
	a.first = a.count == 1 ? seq : a.first;
	a.last = seq;
	if (!shop_journal_format(&a, key, sizeof(key), val, sizeof(val)))
		return DTX_ETOOBIG;
	return shop_txn_put_str(txn, SHOP_T_APPLIED, key, val);
}

bool shop_call_purchase(dtx_call *call, shop_purchase *ret_p)
{
	size_t len = 0;
	const void *payload = dtx_call_payload(call, &len);

	if (shop_purchase_parse(payload, len, ret_p) &&
	    strcmp(ret_p->order, dtx_call_gid(call)) == 0)
		return true;
	(void)dtx_call_set_message(call, "bad payload");
	return false;
}

bool shop_refund_gid(const char *order, char *buf, size_t len)
{
	int n = snprintf(buf, len, SHOP_REFUND_PREFIX "%s", order);

	return n > 0 && (size_t)n < len && (size_t)n <= DTX_GID_MAX;
}

bool shop_call_refund(dtx_call *call, shop_purchase *ret_p)
{
	char gid[DTX_GID_MAX + 1];
	size_t len = 0;
	const void *payload = dtx_call_payload(call, &len);

	if (shop_purchase_parse(payload, len, ret_p) &&
	    shop_refund_gid(ret_p->order, gid, sizeof(gid)) &&
	    strcmp(gid, dtx_call_gid(call)) == 0)
		return true;
	(void)dtx_call_set_message(call, "bad payload");
	return false;
}

dtx_status shop_refuse(dtx_call *call, const char *msg)
{
	(void)dtx_call_set_message(call, msg);
	return DTX_STATUS_FAIL;
}

dtx_status shop_store_failed(dtx_call *call, int err)
{
	char msg[96];

	snprintf(msg, sizeof(msg), "store: %s", dtx_strerror(err));
	(void)dtx_call_set_message(call, msg);
	return DTX_STATUS_RETRY;
}

/* ---- CLI --------------------------------------------------------------- */

void shop_usage(const char *prog, const char *usage, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s", usage);
	exit(SHOP_EXIT_USAGE);
}

unsigned long shop_parse_uint(const char *prog, const char *usage,
                              const char *flag, const char *s,
                              unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > max)
		shop_usage(prog, usage, "%s wants an integer 0..%lu, got '%s'",
		           flag, max, s);
	return v;
}

int shop_write_ready_file(const char *path)
{
	char tmp[PATH_MAX];
	FILE *f;
	int n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	f = fopen(tmp, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}
