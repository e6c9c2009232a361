/*
 * checker.c - the shop's invariants (see checker.h).
 *
 * It loads every table of the four stores into memory (sorted arrays of
 * key/value strings, one per table), the Cancel records of the inventory
 * store's barrier, and the gids the driver saw expire (expired.txt, if a
 * TCC sale wrote one); then runs each invariant as a pure function of
 * that snapshot and initial.txt. The stores are LMDB or PostgreSQL, as
 * the work directory's layout says (seed_store_open): the same tables
 * either way. It opens the stores read-only and never
 * writes anything but its report; it must only run when no service runs,
 * since the four stores are read one after another and are consistent
 * with each other only at rest.
 */
#include "checker.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sale.h"
#include "seed.h"
#include "shop_common.h"

#define ROWS_MAX 10000000u /* per table */
#define WHY_MAX  CHECKER_WHY_MAX

typedef struct row {
	char *key, *val;
} row;

typedef struct table {
	row *rows;
	size_t n, cap;
} table;

typedef enum table_id {
	T_ORDERS,
	T_STOCK,
	T_SOLD,
	T_BALANCES,
	T_REVENUE,
	T_CHARGES,
	T_POOL,
	T_ISSUED,
	T_DELIVERIES,
	T_RESERVED,
	T_RETURNED,
	T_FROZEN,
	T_REIMBURSED,
	T_HELD,
	T_REVOKED,
	T_REVOCATIONS,
	T_STORED,             /* the tables above are the stores' */
	T_CANCELS = T_STORED, /* inventory barrier: gid -> "ran" | "null" */
	T_EXPIRED,            /* expired.txt: gid -> "" */
	T_COUNT
} table_id;

static const struct {
	shop_service_id svc;
	const char *name;
} layout[T_STORED] = {
        [T_ORDERS] = {SHOP_SVC_ORDER, SHOP_T_ORDERS},
        [T_STOCK] = {SHOP_SVC_INVENTORY, SHOP_T_STOCK},
        [T_SOLD] = {SHOP_SVC_INVENTORY, SHOP_T_SOLD},
        [T_BALANCES] = {SHOP_SVC_PAYMENT, SHOP_T_BALANCES},
        [T_REVENUE] = {SHOP_SVC_PAYMENT, SHOP_T_REVENUE},
        [T_CHARGES] = {SHOP_SVC_PAYMENT, SHOP_T_CHARGES},
        [T_POOL] = {SHOP_SVC_DELIVERY, SHOP_T_POOL},
        [T_ISSUED] = {SHOP_SVC_DELIVERY, SHOP_T_ISSUED},
        [T_DELIVERIES] = {SHOP_SVC_DELIVERY, SHOP_T_DELIVERIES},
        [T_RESERVED] = {SHOP_SVC_INVENTORY, SHOP_T_RESERVED},
        [T_RETURNED] = {SHOP_SVC_INVENTORY, SHOP_T_RETURNED},
        [T_FROZEN] = {SHOP_SVC_PAYMENT, SHOP_T_FROZEN},
        [T_REIMBURSED] = {SHOP_SVC_PAYMENT, SHOP_T_REIMBURSED},
        [T_HELD] = {SHOP_SVC_DELIVERY, SHOP_T_HELD},
        [T_REVOKED] = {SHOP_SVC_DELIVERY, SHOP_T_REVOKED},
        [T_REVOCATIONS] = {SHOP_SVC_DELIVERY, SHOP_T_REVOCATIONS},
};

/* snapshot - the whole shop at rest. */
typedef struct snapshot {
	seed_initial init;
	table t[T_COUNT];
} snapshot;

/* ---- loading ----------------------------------------------------------- */

static char *dup_bytes(const void *p, size_t len)
{
	char *s = malloc(len + 1);

	if (s != NULL) {
		memcpy(s, p, len);
		s[len] = '\0';
	}
	return s;
}

static int add_row_cb(void *arg, const void *key, size_t klen, const void *val,
                      size_t vlen)
{
	table *t = arg;
	row *grown;

	if (t->n == t->cap) {
		if (t->cap >= ROWS_MAX)
			return DTX_ELIMIT;
		t->cap = t->cap ? t->cap * 2 : 256;
		grown = realloc(t->rows, t->cap * sizeof(*t->rows));
		if (grown == NULL)
			return DTX_ENOMEM;
		t->rows = grown;
	}
	t->rows[t->n].key = dup_bytes(key, klen);
	t->rows[t->n].val = dup_bytes(val, vlen);
	if (t->rows[t->n].key == NULL || t->rows[t->n].val == NULL)
		return DTX_ENOMEM;
	t->n++;
	return DTX_OK;
}

typedef struct load_ctx {
	snapshot *snap;
	shop_service_id svc;
} load_ctx;

/* cancel_cb keeps the inventory's Cancel records: gid -> "ran" when the
 * handler gave the reservation back, "null" when there was none. */
static int cancel_cb(void *arg, const dtx_barrier_entry *e)
{
	const char *how = e->null_compensation ? "null" : "ran";

	if (e->op != DTX_OP_CANCEL || e->status != DTX_STATUS_OK)
		return DTX_OK;
	return add_row_cb(arg, e->gid, strlen(e->gid), how, strlen(how));
}

static int load_cb(void *arg, dtx_txn *txn)
{
	load_ctx *c = arg;
	int err = DTX_OK;

	for (int i = 0; err == DTX_OK && i < T_STORED; i++)
		if (layout[i].svc == c->svc)
			err = dtx_txn_scan(txn, layout[i].name, NULL, 0,
			                   add_row_cb, &c->snap->t[i]);
	if (err == DTX_OK && c->svc == SHOP_SVC_INVENTORY)
		err = dtx_txn_barrier_scan(txn, cancel_cb,
		                           &c->snap->t[T_CANCELS]);
	return err;
}

static int cmp_row(const void *a, const void *b)
{
	return strcmp(((const row *)a)->key, ((const row *)b)->key);
}

static int load_service(const char *workdir, shop_service_id id, snapshot *snap)
{
	load_ctx c = {snap, id};
	dtx_store_opts opts;
	dtx_store *store;
	int err;

	dtx_store_opts_init(&opts);
	opts.ntables = shop_service_tables(id, &opts.tables);
	opts.read_only = true;
	err = seed_store_open(workdir, id, &opts, &store);
	if (err != DTX_OK)
		return err;
	err = dtx_store_view(store, load_cb, &c);
	dtx_store_close(store);
	return err;
}

/* load_expired reads the gids of expired.txt, if the sale wrote one. */
static int load_expired(const char *workdir, table *t)
{
	char path[4096], line[DTX_GID_MAX + 2];
	int err = DTX_OK;
	FILE *f;

	if (!seed_path(workdir, SALE_EXPIRED_FILE, path, sizeof(path)))
		return DTX_ETOOBIG;
	f = fopen(path, "r");
	if (f == NULL)
		return DTX_OK; /* not a TCC sale */
	while (err == DTX_OK && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] != '\0')
			err = add_row_cb(t, line, strlen(line), "", 0);
	}
	fclose(f);
	if (err != DTX_OK)
		fprintf(stderr, "dtx-shop: check: %s: %s\n", path,
		        dtx_strerror(err));
	return err;
}

static int load(const char *workdir, snapshot *snap)
{
	int err = load_expired(workdir, &snap->t[T_EXPIRED]);

	for (int id = 0; err == DTX_OK && id < SHOP_SVC_COUNT; id++) {
		err = load_service(workdir, (shop_service_id)id, snap);
		if (err != DTX_OK)
			fprintf(stderr, "dtx-shop: check: store %s: %s\n",
			        shop_service_name((shop_service_id)id),
			        dtx_strerror(err));
	}
	for (int i = 0; i < T_COUNT; i++)
		if (snap->t[i].n > 0) /* qsort's base may not be NULL */
			qsort(snap->t[i].rows, snap->t[i].n, sizeof(row),
			      cmp_row);
	return err;
}

static void snapshot_fini(snapshot *snap)
{
	for (int i = 0; i < T_COUNT; i++) {
		for (size_t r = 0; r < snap->t[i].n; r++) {
			free(snap->t[i].rows[r].key);
			free(snap->t[i].rows[r].val);
		}
		free(snap->t[i].rows);
	}
}

/* ---- lookups ----------------------------------------------------------- */

/* find returns the value of key in t, or NULL. */
static const char *find(const table *t, const char *key)
{
	row probe = {.key = (char *)key};
	const row *r = t->n == 0 ? NULL
	                         : bsearch(&probe, t->rows, t->n, sizeof(row),
	                                   cmp_row);

	return r != NULL ? r->val : NULL;
}

static bool num_of(const char *val, int64_t *ret_v)
{
	return val != NULL && shop_parse_i64(val, strlen(val), ret_v);
}

/* sum adds up the decimal values of t; false (with *ret_bad the key) if
 * one is not a decimal. */
static bool sum(const table *t, int64_t *ret_sum, const char **ret_bad)
{
	int64_t v, total = 0;

	for (size_t i = 0; i < t->n; i++) {
		if (!num_of(t->rows[i].val, &v)) {
			*ret_bad = t->rows[i].key;
			return false;
		}
		total += v;
	}
	*ret_sum = total;
	return true;
}

/* order_of parses the order gid; false if it is missing or malformed. */
static bool order_of(const snapshot *s, const char *gid, shop_purchase *p,
                     shop_order_state *st)
{
	const char *val = find(&s->t[T_ORDERS], gid);

	return val != NULL && shop_order_parse(val, strlen(val), p, st);
}

static bool is_paid(const snapshot *s, const char *gid)
{
	shop_order_state st;
	shop_purchase p;

	return order_of(s, gid, &p, &st) && st == SHOP_ORDER_PAID;
}

/* count_codes returns the number of codes in a "code,code" list. */
static size_t count_codes(const char *list)
{
	size_t n = list[0] != '\0';

	for (const char *c = list; *c != '\0'; c++)
		n += *c == ',';
	return n;
}

/* ---- the invariants ---------------------------------------------------- */

typedef bool (*invariant_fn)(const snapshot *s, char *why, size_t len);

/* units_sold sums the sold table; -1 if a value is malformed. */
static int64_t units_sold(const snapshot *s, const char **bad)
{
	int64_t v;

	return sum(&s->t[T_SOLD], &v, bad) ? v : -1;
}

/* sum_of sums table id; -1 (with *bad the key) if a value is malformed. */
static int64_t sum_of(const snapshot *s, table_id id, const char **bad)
{
	int64_t v;

	return sum(&s->t[id], &v, bad) ? v : -1;
}

static bool inv_stock(const snapshot *s, char *why, size_t len)
{
	const char *bad = NULL;
	int64_t sold = units_sold(s, &bad), left = 0;
	int64_t reserved = sum_of(s, T_RESERVED, &bad);
	int64_t returned = sum_of(s, T_RETURNED, &bad);
	const char *lv = find(&s->t[T_STOCK], s->init.sku);

	if (sold < 0 || reserved < 0 || returned < 0 ||
	    (lv != NULL && !num_of(lv, &left))) {
		snprintf(why, len, "first: %s (malformed)",
		         bad ? bad : s->init.sku);
		return false;
	}
	snprintf(why, len,
	         "sold %" PRId64 " + reserved %" PRId64 " + left %" PRId64
	         " (%" PRId64 " of them refunded) vs initial %" PRIu64,
	         sold, reserved, left, returned, s->init.stock);
	return left >= 0 && (uint64_t)(sold + reserved + left) == s->init.stock;
}

/* paid_units sums the units of paid orders and counts them. */
static int64_t paid_units(const snapshot *s, size_t *ret_orders)
{
	const table *t = &s->t[T_ORDERS];
	shop_order_state st;
	shop_purchase p;
	int64_t units = 0;

	*ret_orders = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (order_of(s, t->rows[i].key, &p, &st) &&
		    st == SHOP_ORDER_PAID) {
			units += p.qty;
			(*ret_orders)++;
		}
	}
	return units;
}

static bool inv_counts(const snapshot *s, char *why, size_t len)
{
	const char *bad = NULL;
	int64_t sold = units_sold(s, &bad);
	size_t orders;
	int64_t paid = paid_units(s, &orders);
	int64_t issued = (int64_t)s->t[T_ISSUED].n;

	snprintf(why, len,
	         "sold %" PRId64 ", codes issued %" PRId64
	         ", units in paid orders %" PRId64 " (%zu orders)",
	         sold, issued, paid, orders);
	return sold == issued && issued == paid;
}

static bool inv_money(const snapshot *s, char *why, size_t len)
{
	const char *bad = NULL;
	int64_t balances = 0, revenue = 0, frozen = 0;

	if (!sum(&s->t[T_BALANCES], &balances, &bad) ||
	    !sum(&s->t[T_REVENUE], &revenue, &bad) ||
	    !sum(&s->t[T_FROZEN], &frozen, &bad)) {
		snprintf(why, len, "first: %s (malformed)", bad);
		return false;
	}
	snprintf(why, len,
	         "balances %" PRId64 " + frozen %" PRId64 " + revenue %" PRId64
	         " = %" PRId64 " vs initial %" PRId64,
	         balances, frozen, revenue, balances + frozen + revenue,
	         s->init.money);
	return balances + frozen + revenue == s->init.money;
}

static bool inv_no_negative(const snapshot *s, char *why, size_t len)
{
	static const table_id ids[] = {T_BALANCES, T_REVENUE, T_FROZEN};
	int64_t v;

	for (size_t k = 0; k < 3; k++) {
		const table *t = &s->t[ids[k]];

		for (size_t i = 0; i < t->n; i++) {
			if (num_of(t->rows[i].val, &v) && v >= 0)
				continue;
			snprintf(why, len, "first: %s = %s", t->rows[i].key,
			         t->rows[i].val);
			return false;
		}
	}
	snprintf(why, len, "%zu accounts", s->t[T_BALANCES].n);
	return true;
}

/* pair - one code of one delivery. */
typedef struct pair {
	char *code;
	const char *gid; /* borrowed from the snapshot */
} pair;

static int cmp_pair(const void *a, const void *b)
{
	return strcmp(((const pair *)a)->code, ((const pair *)b)->code);
}

static void free_pairs(pair *pairs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(pairs[i].code);
	free(pairs);
}

/* collect_pairs lists every (code, gid) of the deliveries table, sorted
 * by code. */
static bool collect_pairs(const snapshot *s, pair **ret_pairs, size_t *ret_n)
{
	const table *t = &s->t[T_DELIVERIES];
	size_t total = 0, n = 0;
	pair *pairs;

	for (size_t i = 0; i < t->n; i++)
		total += count_codes(t->rows[i].val);
	pairs = calloc(total + 1, sizeof(*pairs));
	for (size_t i = 0; pairs != NULL && i < t->n; i++) {
		const char *c = t->rows[i].val;

		for (size_t k = 0; *c != '\0' && k < total; k++) {
			size_t clen = strcspn(c, ",");

			pairs[n].code = dup_bytes(c, clen);
			pairs[n++].gid = t->rows[i].key;
			c += clen + (c[clen] == ',');
		}
	}
	*ret_pairs = pairs;
	*ret_n = n;
	return pairs != NULL;
}

/* check_pair checks code pairs[i]: delivered once, issued to its order,
 * not back in the pool. */
static bool check_pair(const snapshot *s, const pair *pairs, size_t i,
                       char *why, size_t len)
{
	const pair *p = &pairs[i];
	const char *owner = find(&s->t[T_ISSUED], p->code);
	char key[SHOP_ID_MAX + SHOP_CODE_MAX + 2];
	shop_order_state st;
	shop_purchase o;

	if (i > 0 && strcmp(pairs[i - 1].code, p->code) == 0) {
		snprintf(why, len, "first: %s (code %s also delivered to %s)",
		         p->gid, p->code, pairs[i - 1].gid);
		return false;
	}
	if (owner == NULL || strcmp(owner, p->gid) != 0) {
		snprintf(why, len, "first: %s (code %s issued to %s)", p->gid,
		         p->code, owner ? owner : "nobody");
		return false;
	}
	snprintf(key, sizeof(key), "%s/%s",
	         order_of(s, p->gid, &o, &st) ? o.sku : s->init.sku, p->code);
	if (find(&s->t[T_POOL], key) == NULL)
		return true;
	snprintf(why, len, "first: %s (code %s is also in the pool)", p->gid,
	         p->code);
	return false;
}

/* first_undelivered names an issued code no delivery lists. */
static void first_undelivered(const snapshot *s, const pair *pairs, size_t n,
                              char *why, size_t len)
{
	const table *t = &s->t[T_ISSUED];

	for (size_t i = 0; i < t->n; i++) {
		pair probe = {.code = t->rows[i].key};

		if (bsearch(&probe, pairs, n, sizeof(pair), cmp_pair) != NULL)
			continue;
		snprintf(why, len,
		         "first: %s (code %s issued but in no delivery)",
		         t->rows[i].val, t->rows[i].key);
		return;
	}
}

static bool inv_codes_unique(const snapshot *s, char *why, size_t len)
{
	pair *pairs;
	size_t n;
	bool ok = true;

	if (!collect_pairs(s, &pairs, &n)) {
		snprintf(why, len, "out of memory");
		return false;
	}
	if (n > 0) /* qsort's base may not be NULL */
		qsort(pairs, n, sizeof(pair), cmp_pair);
	for (size_t i = 0; ok && i < n; i++)
		ok = check_pair(s, pairs, i, why, len);
	if (ok && n != s->t[T_ISSUED].n) {
		first_undelivered(s, pairs, n, why, len);
		ok = false;
	}
	if (ok)
		snprintf(why, len, "%zu codes in %zu deliveries", n,
		         s->t[T_DELIVERIES].n);
	free_pairs(pairs, n);
	return ok;
}

/* listed_codes counts the codes in the code lists of table id. */
static size_t listed_codes(const snapshot *s, table_id id)
{
	size_t n = 0;

	for (size_t i = 0; i < s->t[id].n; i++)
		n += count_codes(s->t[id].rows[i].val);
	return n;
}

static bool inv_codes_conserved(const snapshot *s, char *why, size_t len)
{
	size_t pool = s->t[T_POOL].n, issued = s->t[T_ISSUED].n;
	size_t held = listed_codes(s, T_HELD), revoked = s->t[T_REVOKED].n;

	snprintf(why, len,
	         "pool %zu + held %zu + issued %zu + revoked %zu vs "
	         "generated %" PRIu64,
	         pool, held, issued, revoked, s->init.codes);
	return (uint64_t)(pool + held + issued + revoked) == s->init.codes;
}

static bool inv_codes_paid(const snapshot *s, char *why, size_t len)
{
	const table *t = &s->t[T_ISSUED];

	for (size_t i = 0; i < t->n; i++) {
		if (is_paid(s, t->rows[i].val))
			continue;
		snprintf(why, len, "first: %s (code %s)", t->rows[i].val,
		         t->rows[i].key);
		return false;
	}
	snprintf(why, len, "%zu codes", t->n);
	return true;
}

static const char *state_of(const snapshot *s, const char *gid)
{
	shop_order_state st;
	shop_purchase p;

	if (find(&s->t[T_ORDERS], gid) == NULL)
		return "missing";
	if (!order_of(s, gid, &p, &st))
		return "malformed";
	return shop_order_state_name(st);
}

static bool inv_left_nothing(const snapshot *s, char *why, size_t len)
{
	static const table_id ids[] = {T_SOLD, T_CHARGES, T_DELIVERIES};

	for (size_t k = 0; k < 3; k++) {
		const table *t = &s->t[ids[k]];

		for (size_t i = 0; i < t->n; i++) {
			if (is_paid(s, t->rows[i].key))
				continue;
			snprintf(why, len, "first: %s (%s of an order %s)",
			         t->rows[i].key, layout[ids[k]].name,
			         state_of(s, t->rows[i].key));
			return false;
		}
	}
	snprintf(why, len, "no sold, charge or delivery of an unpaid order");
	return true;
}

/* paid_is_complete checks one paid order's sold, charge and delivery. */
static const char *paid_is_complete(const snapshot *s, const char *gid,
                                    const shop_purchase *p)
{
	const char *list = find(&s->t[T_DELIVERIES], gid);
	int64_t sold, charged;

	if (!num_of(find(&s->t[T_SOLD], gid), &sold) || sold != p->qty)
		return "sold";
	if (!num_of(find(&s->t[T_CHARGES], gid), &charged) ||
	    charged != shop_purchase_amount(p))
		return "charge";
	if (list == NULL || count_codes(list) != p->qty)
		return "delivery";
	return NULL;
}

static bool inv_paid_complete(const snapshot *s, char *why, size_t len)
{
	const table *t = &s->t[T_ORDERS];
	shop_order_state st;
	shop_purchase p;
	const char *missing;

	for (size_t i = 0; i < t->n; i++) {
		if (!order_of(s, t->rows[i].key, &p, &st) ||
		    st != SHOP_ORDER_PAID)
			continue;
		missing = paid_is_complete(s, t->rows[i].key, &p);
		if (missing == NULL)
			continue;
		snprintf(why, len, "first: %s (no matching %s)", t->rows[i].key,
		         missing);
		return false;
	}
	snprintf(why, len, "every paid order has sold, charge and delivery");
	return true;
}

static bool inv_orders_final(const snapshot *s, char *why, size_t len)
{
	const table *t = &s->t[T_ORDERS];
	shop_order_state st;
	shop_purchase p;

	for (size_t i = 0; i < t->n; i++) {
		if (order_of(s, t->rows[i].key, &p, &st) &&
		    st != SHOP_ORDER_PENDING)
			continue;
		snprintf(why, len, "first: %s (%s)", t->rows[i].key,
		         state_of(s, t->rows[i].key));
		return false;
	}
	snprintf(why, len, "%zu orders, none pending", t->n);
	return true;
}

/* ---- reservations and refunds ------------------------------------------ */

static bool inv_released(const snapshot *s, char *why, size_t len)
{
	static const table_id ids[] = {T_RESERVED, T_FROZEN, T_HELD};

	for (size_t k = 0; k < 3; k++) {
		const table *t = &s->t[ids[k]];

		if (t->n == 0)
			continue;
		snprintf(why, len, "first: %s (%s of an order %s)",
		         t->rows[0].key, layout[ids[k]].name,
		         state_of(s, t->rows[0].key));
		return false;
	}
	snprintf(why, len, "no reserved units, frozen money or held codes");
	return true;
}

/* expired_keeps returns what expired reservation gid still holds or
 * lacks, or NULL when it gave everything back. */
static const char *expired_keeps(const snapshot *s, const char *gid)
{
	static const table_id ids[] = {T_RESERVED, T_SOLD, T_FROZEN,
	                               T_CHARGES,  T_HELD, T_DELIVERIES};
	const char *cancel = find(&s->t[T_CANCELS], gid);
	shop_order_state st;
	shop_purchase p;

	if (!order_of(s, gid, &p, &st) || st != SHOP_ORDER_CANCELLED)
		return "its order is not cancelled";
	if (cancel == NULL || strcmp(cancel, "ran") != 0)
		return "the inventory never ran its cancel";
	for (size_t k = 0; k < sizeof(ids) / sizeof(ids[0]); k++)
		if (find(&s->t[ids[k]], gid) != NULL)
			return layout[ids[k]].name;
	return NULL;
}

static bool inv_expired(const snapshot *s, char *why, size_t len)
{
	const table *t = &s->t[T_EXPIRED];
	const char *keeps;

	for (size_t i = 0; i < t->n; i++) {
		keeps = expired_keeps(s, t->rows[i].key);
		if (keeps == NULL)
			continue;
		snprintf(why, len, "first: %s (%s)", t->rows[i].key, keeps);
		return false;
	}
	snprintf(why, len, "%zu expired reservations, all given back", t->n);
	return true;
}

/* revoked_misses checks each code of a refunded order's revocation list:
 * revoked to gid, neither issued nor back in the pool. */
static const char *revoked_misses(const snapshot *s, const char *gid,
                                  const char *sku, const char *list)
{
	char code[SHOP_CODE_MAX + 1], key[SHOP_ID_MAX + SHOP_CODE_MAX + 2];
	const char *owner;

	for (const char *c = list; *c != '\0';) {
		size_t clen = strcspn(c, ",");

		if (clen >= sizeof(code))
			return "a malformed revocation";
		memcpy(code, c, clen);
		code[clen] = '\0';
		owner = find(&s->t[T_REVOKED], code);
		if (owner == NULL || strcmp(owner, gid) != 0)
			return "a code not revoked";
		if (find(&s->t[T_ISSUED], code) != NULL)
			return "a code issued again";
		snprintf(key, sizeof(key), "%s/%s", sku, code);
		if (find(&s->t[T_POOL], key) != NULL)
			return "a code back in the pool";
		c += clen + (c[clen] == ',');
	}
	return NULL;
}

/* refund_misses returns what refunded order gid lacks, or NULL. */
static const char *refund_misses(const snapshot *s, const char *gid,
                                 const shop_purchase *p)
{
	const char *list = find(&s->t[T_REVOCATIONS], gid);
	int64_t v;

	if (!num_of(find(&s->t[T_RETURNED], gid), &v) || v != p->qty ||
	    find(&s->t[T_SOLD], gid) != NULL)
		return "units not restocked";
	if (!num_of(find(&s->t[T_REIMBURSED], gid), &v) ||
	    v != shop_purchase_amount(p) || find(&s->t[T_CHARGES], gid))
		return "money not back";
	if (list == NULL || count_codes(list) != p->qty ||
	    find(&s->t[T_DELIVERIES], gid) != NULL)
		return "codes not revoked";
	return revoked_misses(s, gid, p->sku, list);
}

static bool is_refunded(const snapshot *s, const char *gid)
{
	shop_order_state st;
	shop_purchase p;

	return order_of(s, gid, &p, &st) && st == SHOP_ORDER_REFUNDED;
}

/* stray_refund names a refund record of an order that is not refunded. */
static bool stray_refund(const snapshot *s, char *why, size_t len)
{
	static const table_id ids[] = {T_RETURNED, T_REIMBURSED, T_REVOCATIONS,
	                               T_REVOKED};

	for (size_t k = 0; k < 4; k++) {
		const table *t = &s->t[ids[k]];

		for (size_t i = 0; i < t->n; i++) {
			const char *gid = ids[k] == T_REVOKED ? t->rows[i].val
			                                      : t->rows[i].key;

			if (is_refunded(s, gid))
				continue;
			snprintf(why, len, "first: %s (%s of an order %s)", gid,
			         layout[ids[k]].name, state_of(s, gid));
			return true;
		}
	}
	return false;
}

static bool inv_refunds(const snapshot *s, char *why, size_t len)
{
	const table *t = &s->t[T_ORDERS];
	size_t refunded = 0;
	shop_order_state st;
	const char *misses;
	shop_purchase p;

	for (size_t i = 0; i < t->n; i++) {
		if (!order_of(s, t->rows[i].key, &p, &st) ||
		    st != SHOP_ORDER_REFUNDED)
			continue;
		refunded++;
		misses = refund_misses(s, t->rows[i].key, &p);
		if (misses == NULL)
			continue;
		snprintf(why, len, "first: %s (%s)", t->rows[i].key, misses);
		return false;
	}
	if (stray_refund(s, why, len))
		return false;
	snprintf(why, len,
	         "%zu refunded orders: codes revoked, money back, units "
	         "restocked",
	         refunded);
	return true;
}

/* ---- the report -------------------------------------------------------- */

static const struct {
	const char *name;
	const char *says;
	invariant_fn fn;
} invariants[] = {
        {"stock-conserved",
         "units sold + reserved + left = initial stock (refunded units are "
         "back in left)",
         inv_stock},
        {"sold-issued-paid", "units sold = codes issued = orders paid",
         inv_counts},
        {"money-conserved",
         "sum of balances + frozen + revenue = initial money", inv_money},
        {"no-negative-balance", "no balance, frozen sum or revenue below zero",
         inv_no_negative},
        {"codes-unique",
         "no code issued twice; each in one delivery, issued to it, not "
         "in the pool",
         inv_codes_unique},
        {"codes-conserved",
         "codes in pool + held + issued + revoked = codes generated",
         inv_codes_conserved},
        {"codes-to-paid-orders", "every issued code belongs to a paid order",
         inv_codes_paid},
        {"cancelled-left-nothing",
         "a cancelled order left no sold units, charge or delivery",
         inv_left_nothing},
        {"paid-orders-complete",
         "every paid order has its sold units, charge and delivery",
         inv_paid_complete},
        {"orders-final", "no order is left pending", inv_orders_final},
        {"reservations-released",
         "no reserved units, frozen money or held codes once all is final",
         inv_released},
        {"expired-returned",
         "an expired reservation gave its units, money and codes back",
         inv_expired},
        {"refunds-complete",
         "a refunded order has its codes revoked (never re-issued), its "
         "money back, its units restocked",
         inv_refunds},
};

#define NINVARIANTS (sizeof(invariants) / sizeof(invariants[0]))

size_t checker_count(void)
{
	return NINVARIANTS;
}

int checker_eval(const char *workdir, checker_result *ret, size_t max)
{
	snapshot *snap = calloc(1, sizeof(*snap));
	int failed = 0;

	if (snap == NULL || seed_read_initial(workdir, &snap->init) != 0 ||
	    load(workdir, snap) != DTX_OK) {
		if (snap != NULL)
			snapshot_fini(snap);
		free(snap);
		return -1;
	}
	for (size_t i = 0; i < NINVARIANTS && i < max; i++) {
		ret[i].name = invariants[i].name;
		ret[i].says = invariants[i].says;
		ret[i].ok =
		        invariants[i].fn(snap, ret[i].why, sizeof(ret[i].why));
		failed += !ret[i].ok;
	}
	snapshot_fini(snap);
	free(snap);
	return failed;
}

int checker_run(const char *workdir, FILE *out)
{
	checker_result res[NINVARIANTS];
	int failed = checker_eval(workdir, res, NINVARIANTS);

	for (size_t i = 0; failed >= 0 && i < NINVARIANTS; i++)
		fprintf(out, "  %s  %-23s %s: %s\n",
		        res[i].ok ? "PASS" : "FAIL", res[i].name, res[i].says,
		        res[i].why);
	return failed;
}
