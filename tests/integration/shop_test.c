/*
 * shop_test.c - the virtual-goods shop end to end: dtx-shop runs a real
 * flash sale (dtxd, four service processes, LMDB stores on disk) as sagas
 * or as reservations (TCC, some abandoned until the coordinator cancels
 * them at their deadline), refunds paid orders as sagas, and its checker
 * proves no oversell. Then the stores are tampered with, one invariant
 * family at a time (stock, money, codes, orders, reservations, refunds),
 * to prove the checker can fail and names the broken invariant.
 *
 * dtx-shop comes from the environment (DTX_SHOP). The test reads and
 * writes the stores through the public store API only, knowing just the
 * documented table layout (examples/shop/README.md).
 *
 * With DTX_TEST_STORE=postgresql (suite postgres, under pgtmp.sh) every
 * sale runs its services on PostgreSQL: dtx-shop makes four databases on
 * the cluster of $DTX_PGTMP_ADMIN_URI (--services-store), and the test
 * opens a store through its WORKDIR/stores/SERVICE.uri (libdtx-pg).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>
#include <dtx/dtx_pg.h>

#include "harness.h"

#define SHOP_WAIT_MS  120000 /* one dtx-shop run */
#define CHECK_WAIT_MS 30000  /* one dtx-shop check */
#define OUTPUT_MAX    (1 << 20)

TestSuite(shop, .fini = th_teardown, .timeout = 240);

/* ---- running dtx-shop -------------------------------------------------- */

/* services_store returns the admin URI the services' databases go on, or
 * NULL when they run on LMDB. */
static const char *services_store(void)
{
	const char *store = getenv("DTX_TEST_STORE");
	const char *admin = getenv("DTX_PGTMP_ADMIN_URI");

	if (store == NULL || strcmp(store, "postgresql") != 0)
		return NULL;
	cr_assert_not_null(admin, "DTX_TEST_STORE=postgresql without "
	                          "DTX_PGTMP_ADMIN_URI (run under pgtmp.sh)");
	return admin;
}

/* read_text returns the first OUTPUT_MAX - 1 bytes of the file at path
 * (freed by the caller). */
static char *read_text(const char *path)
{
	char *buf = malloc(OUTPUT_MAX);
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert_not_null(buf, "out of memory");
	cr_assert_not_null(f, "open %s: %s", path, strerror(errno));
	n = fread(buf, 1, OUTPUT_MAX - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static char *read_output(const th_proc *p)
{
	return read_text(p->out_path);
}

/* shop_exec runs dtx-shop with args (NULL-terminated) as process name,
 * waits for it, stores its exit code and returns its output (freed by
 * the caller). */
/* shop_spawn starts dtx-shop with args (NULL-terminated; a run gets the
 * services' store) as process name. */
static th_proc *shop_spawn(th_env *t, const char *name,
                           const char *const args[])
{
	const char *argv[32];
	size_t n = 0;

	argv[n++] = th_exe("DTX_SHOP");
	for (size_t i = 0; args[i] != NULL && n < 29; i++)
		argv[n++] = args[i];
	if (strcmp(args[0], "run") == 0 && services_store() != NULL) {
		argv[n++] = "--services-store";
		argv[n++] = services_store();
	}
	argv[n] = NULL;
	return th_spawn(t, name, argv);
}

static char *shop_exec(th_env *t, const char *name, const char *const args[],
                       int timeout_ms, int *ret_code)
{
	th_proc *p = shop_spawn(t, name, args);

	cr_assert(th_proc_wait(p, timeout_ms), "%s did not finish in %d ms",
	          name, timeout_ms);
	*ret_code = th_proc_exit_code(p);
	return read_output(p);
}

/* field returns the number after a line's label ("committed   100"). */
static long field(const char *out, const char *label)
{
	size_t len = strlen(label);
	const char *at = out;
	char *end;
	long v;

	for (int i = 0; i < 1000 && at != NULL; i++) {
		if (strncmp(at, label, len) == 0 && at[len] == ' ') {
			v = strtol(at + len, &end, 10);
			cr_assert_neq(end, at + len, "no number after '%s'",
			              label);
			return v;
		}
		at = strchr(at, '\n');
		at = at != NULL ? at + 1 : NULL;
	}
	cr_assert_fail("no line '%s' in:\n%s", label, out);
	return -1;
}

/* sale runs a flash sale in DIR/shop (kept) and asserts it passed. */
static void sale(th_env *t, const char *buyers, const char *stock,
                 const char *concurrency, char *workdir, size_t len)
{
	const char *args[] = {"run",       "--buyers",     buyers,
	                      "--stock",   stock,          "--concurrency",
	                      concurrency, "--duration-s", "60",
	                      "--keep",    "--workdir",    workdir,
	                      NULL};
	char *out;
	int code;

	th_path(t, "shop", workdir, len);
	out = shop_exec(t, "sale", args, SHOP_WAIT_MS, &code);
	cr_assert_eq(code, 0, "dtx-shop run exited %d:\n%s", code, out);
	cr_assert_null(strstr(out, "FAIL"), "a check failed:\n%s", out);
	free(out);
}

/* expect_check_fails runs dtx-shop check and asserts it exits 1 with
 * invariant named FAIL. Returns the output (freed by the caller). */
static char *expect_check_fails(th_env *t, const char *workdir,
                                const char *invariant)
{
	const char *args[] = {"check", "--workdir", workdir, NULL};
	char want[96];
	char *out;
	int code;

	out = shop_exec(t, "check", args, CHECK_WAIT_MS, &code);
	snprintf(want, sizeof(want), "FAIL  %s ", invariant);
	cr_assert_eq(code, 1, "dtx-shop check exited %d:\n%s", code, out);
	cr_assert_not_null(strstr(out, want), "'%s' not reported:\n%s",
	                   invariant, out);
	return out;
}

/* ---- tampering with a store -------------------------------------------- */

static const char *const inventory_tables[] = {"stock", "sold", "reserved",
                                               "returned"};
static const char *const payment_tables[] = {"balances", "revenue", "charges",
                                             "frozen", "reimbursed"};
static const char *const delivery_tables[] = {"pool", "issued",  "deliveries",
                                              "held", "revoked", "revocations"};
static const char *const order_tables[] = {"orders"};

/* open_store opens service's store of a kept run with tables: LMDB in
 * DIR/stores/service, or the PostgreSQL database DIR/stores/service.uri
 * names. */
static dtx_store *open_store(const char *workdir, const char *service,
                             const char *const *tables, size_t ntables)
{
	char dir[PATH_MAX], uri[1024];
	dtx_store_opts opts;
	dtx_store *store;
	FILE *f;
	int err;

	dtx_store_opts_init(&opts);
	opts.tables = tables;
	opts.ntables = ntables;
	snprintf(dir, sizeof(dir), "%s/stores/%s.uri", workdir, service);
	f = fopen(dir, "r");
	if (f != NULL) {
		cr_assert_not_null(fgets(uri, sizeof(uri), f), "%s", dir);
		fclose(f);
		uri[strcspn(uri, "\n")] = '\0';
		err = dtx_store_open_pg(uri, &opts, &store);
	} else {
		snprintf(dir, sizeof(dir), "%s/stores/%s", workdir, service);
		err = dtx_store_open(dir, &opts, &store);
	}
	cr_assert_eq(err, DTX_OK, "open %s: %s", dir, dtx_strerror(err));
	return store;
}

/* tamper runs fn(arg) in one write transaction on service's store; fn
 * only reads arg (a string or NULL). */
static void tamper(const char *workdir, const char *service,
                   const char *const *tables, size_t ntables, dtx_txn_fn fn,
                   const char *arg)
{
	dtx_store *store = open_store(workdir, service, tables, ntables);
	int err;

	err = dtx_store_update(store, fn, (void *)arg);
	dtx_store_close(store);
	cr_assert_eq(err, DTX_OK, "tamper %s: %s", service, dtx_strerror(err));
}

/* rows - the first rows of a table whose value ends with a suffix. */
typedef struct rows {
	const char *suffix; /* "" matches every row */
	size_t want, n;
	char key[2][512];
	char val[2][4096];
} rows;

static int rows_cb(void *arg, const void *key, size_t klen, const void *val,
                   size_t vlen)
{
	rows *r = arg;
	size_t slen = strlen(r->suffix);

	cr_assert(klen < sizeof(r->key[0]) && vlen < sizeof(r->val[0]));
	if (vlen < slen ||
	    memcmp((const char *)val + vlen - slen, r->suffix, slen) != 0)
		return DTX_OK;
	memcpy(r->key[r->n], key, klen);
	r->key[r->n][klen] = '\0';
	memcpy(r->val[r->n], val, vlen);
	r->val[r->n][vlen] = '\0';
	return ++r->n == r->want ? DTX_ELIMIT : DTX_OK; /* enough: stop */
}

/* find_rows fills r with the first want rows of table matching suffix. */
static void find_rows(dtx_txn *txn, const char *table, const char *suffix,
                      size_t want, rows *r)
{
	memset(r, 0, sizeof(*r));
	r->suffix = suffix;
	r->want = want;
	dtx_txn_scan(txn, table, NULL, 0, rows_cb, r);
	cr_assert_eq(r->n, want, "table %s has %zu rows ending '%s', want %zu",
	             table, r->n, suffix, want);
}

static int put_str(dtx_txn *txn, const char *table, const char *key,
                   const char *val)
{
	return dtx_txn_put(txn, table, key, strlen(key), val, strlen(val));
}

/* add_to adds delta to the decimal value of the first row of table. */
static int add_to(dtx_txn *txn, const char *table, long delta)
{
	char num[32];
	rows r;

	find_rows(txn, table, "", 1, &r);
	snprintf(num, sizeof(num), "%ld", strtol(r.val[0], NULL, 10) + delta);
	return put_str(txn, table, r.key[0], num);
}

static int add_unit_cb(void *arg, dtx_txn *txn)
{
	return add_to(txn, "stock", 1);
}

static int make_money_cb(void *arg, dtx_txn *txn)
{
	return add_to(txn, "revenue", 1000);
}

/* deliver_twice_cb also lists the first delivery's codes in the second. */
static int deliver_twice_cb(void *arg, dtx_txn *txn)
{
	char both[8192];
	rows r;

	find_rows(txn, "deliveries", "", 2, &r);
	snprintf(both, sizeof(both), "%s,%s", r.val[1], r.val[0]);
	return put_str(txn, "deliveries", r.key[1], both);
}

/* pay_cancelled_cb marks the first cancelled order paid. */
static int pay_cancelled_cb(void *arg, dtx_txn *txn)
{
	static const char cancelled[] = ";state=cancelled";
	char *at;
	rows r;

	find_rows(txn, "orders", cancelled, 1, &r);
	at = r.val[0] + strlen(r.val[0]) - (sizeof(cancelled) - 1);
	strcpy(at, ";state=paid");
	return put_str(txn, "orders", r.key[0], r.val[0]);
}

/* reserve_unit_cb moves a unit from the stock into a reservation of gid
 * arg: the stock stays conserved, but a reservation outlives its
 * transaction. */
static int reserve_unit_cb(void *arg, dtx_txn *txn)
{
	int err = add_to(txn, "stock", -1);

	return err == DTX_OK ? put_str(txn, "reserved", arg, "1") : err;
}

/* freeze_money_cb makes frozen money appear from nowhere. */
static int freeze_money_cb(void *arg, dtx_txn *txn)
{
	return put_str(txn, "frozen", "order-0000000", "1000");
}

/* del_first_cb deletes the first row of table arg. */
static int del_first_cb(void *arg, dtx_txn *txn)
{
	rows r;

	find_rows(txn, arg, "", 1, &r);
	return dtx_txn_del(txn, arg, r.key[0], strlen(r.key[0]));
}

/* unretire_code_cb puts the first revoked code back into the pool. */
static int unretire_code_cb(void *arg, dtx_txn *txn)
{
	char key[600];
	rows r;

	find_rows(txn, "revoked", "", 1, &r);
	snprintf(key, sizeof(key), "gift-card/%s", r.key[0]);
	return put_str(txn, "pool", key, "");
}

#define TAMPER(workdir, service, fn)                                           \
	tamper(workdir, #service, service##_tables,                            \
	       sizeof(service##_tables) / sizeof(service##_tables[0]), fn,     \
	       NULL)

#define TAMPER_ARG(workdir, service, fn, arg)                                  \
	tamper(workdir, #service, service##_tables,                            \
	       sizeof(service##_tables) / sizeof(service##_tables[0]), fn,     \
	       arg)

/* ---- the tests --------------------------------------------------------- */

Test(shop, flash_sale_never_oversells_and_accounts_for_every_buyer)
{
	const char *check_args[4] = {"check", "--workdir", NULL, NULL};
	th_env *t = th_begin();
	char workdir[PATH_MAX];
	const char *args[] = {"run",     "--buyers",     "400",
	                      "--stock", "100",          "--concurrency",
	                      "64",      "--duration-s", "60",
	                      "--keep",  "--workdir",    workdir,
	                      NULL};
	long committed, compensated;
	char *out;
	int code;

	th_path(t, "shop", workdir, sizeof(workdir));
	out = shop_exec(t, "sale", args, SHOP_WAIT_MS, &code);
	cr_assert_eq(code, 0, "dtx-shop run exited %d:\n%s", code, out);
	committed = field(out, "committed");
	compensated = field(out, "compensated");
	cr_assert_leq(committed, 100, "oversold: %ld committed", committed);
	cr_assert_gt(committed, 0, "nothing sold:\n%s", out);
	cr_assert_eq(committed + compensated, 400, "%ld + %ld:\n%s", committed,
	             compensated, out);
	cr_assert_eq(field(out, "attempted"), 400);
	cr_assert_eq(field(out, "non-business failures"), 0, "%s", out);
	cr_assert_null(strstr(out, "FAIL"), "%s", out);
	free(out);

	check_args[2] = workdir;
	out = shop_exec(t, "check", check_args, CHECK_WAIT_MS, &code);
	cr_assert_eq(code, 0, "dtx-shop check exited %d:\n%s", code, out);
	free(out);
	th_end(t);
}

Test(shop, checker_fails_stock_conserved_when_a_unit_appears)
{
	th_env *t = th_begin();
	char workdir[PATH_MAX];

	sale(t, "60", "20", "16", workdir, sizeof(workdir));
	TAMPER(workdir, inventory, add_unit_cb);
	free(expect_check_fails(t, workdir, "stock-conserved"));
	th_end(t);
}

Test(shop, checker_fails_money_conserved_when_revenue_appears)
{
	th_env *t = th_begin();
	char workdir[PATH_MAX];

	sale(t, "60", "20", "16", workdir, sizeof(workdir));
	TAMPER(workdir, payment, make_money_cb);
	free(expect_check_fails(t, workdir, "money-conserved"));
	th_end(t);
}

Test(shop, checker_fails_codes_unique_when_a_code_is_delivered_twice)
{
	th_env *t = th_begin();
	char workdir[PATH_MAX];
	char *out;

	sale(t, "60", "20", "16", workdir, sizeof(workdir));
	TAMPER(workdir, delivery, deliver_twice_cb);
	out = expect_check_fails(t, workdir, "codes-unique");
	cr_assert_not_null(strstr(out, "also delivered to order-"), "%s", out);
	free(out);
	th_end(t);
}

Test(shop, checker_fails_sold_issued_paid_when_a_cancelled_order_is_paid)
{
	th_env *t = th_begin();
	char workdir[PATH_MAX];
	char *out;

	sale(t, "60", "20", "16", workdir, sizeof(workdir));
	TAMPER(workdir, order, pay_cancelled_cb);
	out = expect_check_fails(t, workdir, "sold-issued-paid");
	cr_assert_not_null(strstr(out, "FAIL  paid-orders-complete"), "%s",
	                   out);
	free(out);
	th_end(t);
}

/* ---- reservations (TCC) and refunds ------------------------------------ */

/* tcc_sale runs a reservation sale in DIR/shop (kept) where a fifth of
 * the buyers abandon their reservation, then refunds three paid orders;
 * asserts both passed. */
static void tcc_sale(th_env *t, char *workdir, size_t len)
{
	const char *args[] = {
	        "run", "--mode",       "tcc",       "--buyers",
	        "60",  "--stock",      "20",        "--concurrency",
	        "16",  "--reserve-ms", "1500",      "--abandon-pct",
	        "20",  "--keep",       "--workdir", workdir,
	        NULL};
	const char *refund[] = {"refund",    "--count", "3",
	                        "--workdir", workdir,   NULL};
	char *out;
	int code;

	th_path(t, "shop", workdir, len);
	out = shop_exec(t, "sale", args, SHOP_WAIT_MS, &code);
	cr_assert_eq(code, 0, "dtx-shop run exited %d:\n%s", code, out);
	cr_assert_gt(field(out, "expired"), 0, "nothing expired:\n%s", out);
	free(out);
	out = shop_exec(t, "refund", refund, SHOP_WAIT_MS, &code);
	cr_assert_eq(code, 0, "dtx-shop refund exited %d:\n%s", code, out);
	cr_assert_eq(field(out, "refunded"), 3, "%s", out);
	free(out);
}

/* first_expired reads the first gid of DIR/expired.txt into gid. */
static void first_expired(const char *workdir, char *gid, size_t len)
{
	char path[PATH_MAX + 16];
	FILE *f;

	snprintf(path, sizeof(path), "%s/expired.txt", workdir);
	f = fopen(path, "r");
	cr_assert_not_null(f, "open %s: %s", path, strerror(errno));
	cr_assert_not_null(fgets(gid, (int)len, f), "%s is empty", path);
	fclose(f);
	gid[strcspn(gid, "\n")] = '\0';
}

Test(shop, tcc_sale_cancels_abandoned_reservations_at_their_deadline)
{
	const char *check_args[4] = {"check", "--workdir", NULL, NULL};
	th_env *t = th_begin();
	char workdir[PATH_MAX], want[96];
	const char *args[] = {
	        "run", "--mode",       "tcc",       "--buyers",
	        "400", "--stock",      "100",       "--concurrency",
	        "32",  "--reserve-ms", "2000",      "--abandon-pct",
	        "10",  "--keep",       "--workdir", workdir,
	        NULL};
	long committed, cancelled, expired, abandoned;
	char *out;
	int code;

	th_path(t, "shop", workdir, sizeof(workdir));
	out = shop_exec(t, "sale", args, SHOP_WAIT_MS, &code);
	cr_assert_eq(code, 0, "dtx-shop run exited %d:\n%s", code, out);
	committed = field(out, "committed");
	cancelled = field(out, "cancelled");
	expired = field(out, "expired");
	abandoned = field(out, "  abandoned");
	cr_assert_gt(committed, 0, "nothing sold:\n%s", out);
	/* an expired reservation gives its unit back for a later buyer, so
	 * only the sold units are bounded by the stock */
	cr_assert_leq(committed, 100, "oversold:\n%s", out);
	cr_assert_gt(abandoned, 0, "nobody abandoned:\n%s", out);
	cr_assert_eq(expired, abandoned, "%s", out);
	cr_assert_eq(committed + cancelled + expired, 400, "%s", out);
	cr_assert_eq(field(out, "non-business failures"), 0, "%s", out);
	snprintf(want, sizeof(want), "%ld expired reservations, all given back",
	         expired);
	cr_assert_not_null(strstr(out, want), "%s", out);
	cr_assert_null(strstr(out, "FAIL"), "%s", out);
	free(out);

	check_args[2] = workdir;
	out = shop_exec(t, "check", check_args, CHECK_WAIT_MS, &code);
	cr_assert_eq(code, 0, "dtx-shop check exited %d:\n%s", code, out);
	free(out);
	th_end(t);
}

Test(shop, refund_gives_money_units_back_and_revokes_codes_for_good)
{
	const char *refund[] = {"refund", "--count",   "5",  "--concurrency",
	                        "4",      "--workdir", NULL, NULL};
	th_env *t = th_begin();
	char workdir[PATH_MAX];
	char *out;
	int code;

	sale(t, "60", "20", "16", workdir, sizeof(workdir));
	refund[6] = workdir;
	out = shop_exec(t, "refund", refund, SHOP_WAIT_MS, &code);
	cr_assert_eq(code, 0, "dtx-shop refund exited %d:\n%s", code, out);
	cr_assert_eq(field(out, "refunds attempted"), 5, "%s", out);
	cr_assert_eq(field(out, "refunded"), 5, "%s", out);
	cr_assert_eq(field(out, "non-business failures"), 0, "%s", out);
	cr_assert_not_null(strstr(out, "PASS  refunds-complete"), "%s", out);
	cr_assert_not_null(strstr(out, "5 refunded orders"), "%s", out);
	cr_assert_not_null(strstr(out, "revoked 5 vs generated"), "%s", out);
	cr_assert_null(strstr(out, "FAIL"), "%s", out);
	free(out);
	th_end(t);
}

Test(shop, checker_fails_reservations_released_when_a_unit_stays_reserved)
{
	th_env *t = th_begin();
	char workdir[PATH_MAX];
	char *out;

	tcc_sale(t, workdir, sizeof(workdir));
	TAMPER_ARG(workdir, inventory, reserve_unit_cb, "order-0009999");
	out = expect_check_fails(t, workdir, "reservations-released");
	/* The unit moved: stock is conserved only if reserved units count. */
	cr_assert_not_null(strstr(out, "PASS  stock-conserved"), "%s", out);
	free(out);
	th_end(t);
}

Test(shop, checker_fails_money_conserved_when_frozen_money_appears)
{
	th_env *t = th_begin();
	char workdir[PATH_MAX];

	tcc_sale(t, workdir, sizeof(workdir));
	TAMPER(workdir, payment, freeze_money_cb);
	free(expect_check_fails(t, workdir, "money-conserved"));
	th_end(t);
}

Test(shop, checker_fails_expired_returned_when_an_expired_unit_is_kept)
{
	th_env *t = th_begin();
	char workdir[PATH_MAX], gid[256], want[300];
	char *out;

	tcc_sale(t, workdir, sizeof(workdir));
	first_expired(workdir, gid, sizeof(gid));
	TAMPER_ARG(workdir, inventory, reserve_unit_cb, gid);
	out = expect_check_fails(t, workdir, "expired-returned");
	snprintf(want, sizeof(want), "first: %s (reserved)", gid);
	cr_assert_not_null(strstr(out, want), "%s", out);
	free(out);
	th_end(t);
}

Test(shop, checker_fails_refunds_complete_when_a_revoked_code_is_pooled)
{
	th_env *t = th_begin();
	char workdir[PATH_MAX];
	char *out;

	tcc_sale(t, workdir, sizeof(workdir));
	TAMPER(workdir, delivery, unretire_code_cb);
	out = expect_check_fails(t, workdir, "refunds-complete");
	cr_assert_not_null(strstr(out, "a code back in the pool"), "%s", out);
	free(out);
	th_end(t);
}

Test(shop, checker_fails_refunds_complete_when_money_or_units_are_not_back)
{
	th_env *t = th_begin();
	char workdir[PATH_MAX];
	char *out;

	tcc_sale(t, workdir, sizeof(workdir));
	TAMPER_ARG(workdir, payment, del_first_cb, "reimbursed");
	out = expect_check_fails(t, workdir, "refunds-complete");
	cr_assert_not_null(strstr(out, "money not back"), "%s", out);
	free(out);
	TAMPER_ARG(workdir, inventory, del_first_cb, "returned");
	out = expect_check_fails(t, workdir, "refunds-complete");
	cr_assert_not_null(strstr(out, "units not restocked"), "%s", out);
	free(out);
	th_end(t);
}

/* ---- crashes: every call applied once --------------------------------- */

static const char *const services[] = {"order", "inventory", "payment",
                                       "delivery"};
static const char *const applied_table[] = {"applied"};

/* applied_once_cb asserts that a journal row ("gid|branch|op" -> "count
 * first last") counts one application, and counts the rows. */
static int applied_once_cb(void *arg, const void *key, size_t klen,
                           const void *val, size_t vlen)
{
	size_t *n = arg;

	if (klen == 4 && memcmp(key, "~seq", 4) == 0)
		return DTX_OK; /* the journal's sequence number */
	cr_assert(vlen > 2 && memcmp(val, "1 ", 2) == 0,
	          "call %.*s applied more than once: %.*s", (int)klen,
	          (const char *)key, (int)vlen, (const char *)val);
	(*n)++;
	return DTX_OK;
}

static int applied_once_view(void *arg, dtx_txn *txn)
{
	return dtx_txn_scan(txn, "applied", NULL, 0, applied_once_cb, arg);
}

/* assert_applied_once asserts that every call service's journal holds
 * was applied once, and returns how many there are. */
static size_t assert_applied_once(const char *workdir, const char *service)
{
	dtx_store *store = open_store(workdir, service, applied_table, 1);
	size_t n = 0;
	int err = dtx_store_view(store, applied_once_view, &n);

	dtx_store_close(store);
	cr_assert_eq(err, DTX_OK, "journal of %s: %s", service,
	             dtx_strerror(err));
	return n;
}

#ifdef SHOP_TEST_FAULTS
/* killed_sale runs a sale of 200 buyers for 60 units in mode ("saga" or
 * "tcc") where service is killed (-9) after its third group commit,
 * before that group's replies, and started again on the same store by
 * dtx-shop; asserts that every purchase ended, every invariant holds and
 * every service's journal shows each call applied once. A saga's calls
 * come from dtxd, which resends them: every purchase ends with a business
 * outcome. A TCC Try comes from the buyer's own thread: a buyer whose Try
 * reaches the service between the kill and the restart is told "cannot
 * be reached" (a client error) and aborts, so dtxd cancels what it had
 * reserved. */
static void killed_sale(const char *mode, const char *service)
{
	th_env *t = th_begin();
	char workdir[PATH_MAX], log[PATH_MAX + 16], fault[96];
	const char *args[] = {"run",      "--mode",        mode,
	                      "--buyers", "200",           "--stock",
	                      "60",       "--concurrency", "32",
	                      "--keep",   "--workdir",     workdir,
	                      "--fault",  fault,           NULL};
	long committed, refused, errors;
	char *out;
	int code;

	snprintf(fault, sizeof(fault), "%s=sdk.after_commit_before_reply:3",
	         service);
	th_path(t, "shop", workdir, sizeof(workdir));
	out = shop_exec(t, "sale", args, SHOP_WAIT_MS, &code);
	cr_assert_eq(code, 0, "dtx-shop run exited %d:\n%s", code, out);
	cr_assert_eq(field(out, "service restarts"), 1, "%s", out);
	committed = field(out, "committed");
	refused = field(out,
	                strcmp(mode, "tcc") == 0 ? "cancelled" : "compensated");
	cr_assert_gt(committed, 0, "nothing sold:\n%s", out);
	errors = field(out, "  client errors");
	cr_assert_eq(committed + refused + errors, 200, "%s", out);
	cr_assert_eq(field(out, "non-business failures"), errors, "%s", out);
	if (strcmp(mode, "tcc") != 0)
		cr_assert_eq(errors, 0, "%s", out);
	cr_assert_null(strstr(out, "FAIL"), "%s", out);
	free(out);

	snprintf(log, sizeof(log), "%s/%s.log", workdir, service);
	out = read_text(log);
	cr_assert_not_null(strstr(out, "fault point "
	                               "sdk.after_commit_before_reply hit"),
	                   "%s was not killed:\n%s", service, out);
	free(out);
	for (size_t i = 0; i < 4; i++)
		cr_assert_gt(assert_applied_once(workdir, services[i]), 0,
		             "%s applied nothing", services[i]);
	th_end(t);
}

/* dtxd resends the calls the killed inventory committed but never
 * answered: its barrier answers them from their rows. */
Test(shop, a_service_killed_after_its_commit_before_its_replies_loses_nothing)
{
	killed_sale("saga", "inventory");
}

/* The same for reservations: the killed payment's Tries (and Confirms)
 * are answered from their rows, never frozen twice. */
Test(shop,
     a_tcc_service_killed_after_its_commit_before_its_replies_loses_nothing)
{
	killed_sale("tcc", "payment");
}
#endif

/* ---- PostgreSQL stops mid-sale ----------------------------------------- */

#ifdef PGTMP_SH
#define PROGRESS_WAIT_MS 60000 /* the sale's first orders */

static int count_cb(void *arg, const void *key, size_t klen, const void *val,
                    size_t vlen)
{
	(*(size_t *)arg)++;
	return DTX_OK;
}

static int count_orders(void *arg, dtx_txn *txn)
{
	return dtx_txn_scan(txn, "orders", NULL, 0, count_cb, arg);
}

/* orders_in counts the orders of a running sale's order database (0
 * while it cannot be read). */
static size_t orders_in(const char *workdir)
{
	static const char *const orders[] = {"orders"};
	char path[PATH_MAX + 32], uri[1024];
	dtx_store_opts opts;
	dtx_store *store;
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/stores/order.uri", workdir);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(uri, sizeof(uri), f) == NULL)
		uri[0] = '\0';
	fclose(f);
	uri[strcspn(uri, "\n")] = '\0';
	dtx_store_opts_init(&opts);
	opts.tables = orders;
	opts.ntables = 1;
	opts.read_only = true;
	if (uri[0] == '\0' || dtx_store_open_pg(uri, &opts, &store) != DTX_OK)
		return 0;
	if (dtx_store_view(store, count_orders, &n) != DTX_OK)
		n = 0;
	dtx_store_close(store);
	return n;
}

/* pgtmp runs "pgtmp.sh VERB DIR" on the test's cluster. */
static void pgtmp(const char *verb)
{
	char cmd[PATH_MAX * 2];

	snprintf(cmd, sizeof(cmd), "'%s' %s '%s'", PGTMP_SH, verb,
	         getenv("DTX_PGTMP_DIR"));
	cr_assert_eq(system(cmd), 0, "%s failed", cmd);
}

/* The cluster under the four services' databases stops at once
 * (immediate shutdown: every backend drops its client, a COMMIT in flight
 * has happened or not) once the sale sold its first orders, stays down a
 * second and starts again. The services answer RETRY meanwhile and
 * reconnect; dtxd resends; the barrier answers a call whose COMMIT had
 * happened from its row. Every purchase ends, every invariant holds,
 * every call is applied once. */
Test(shop, a_postgresql_restart_mid_sale_loses_nothing_applies_nothing_twice)
{
	th_env *t;
	char workdir[PATH_MAX];
	const char *args[] = {"run",       "--buyers",
	                      "600",       "--stock",
	                      "200",       "--concurrency",
	                      "32",        "--duration-s",
	                      "60",        "--keep",
	                      "--workdir", workdir,
	                      "--journal", NULL};
	struct timespec outage = {1, 0}, poll = {0, 50000000};
	long committed;
	th_proc *p;
	char *out;
	int code, waited;

	/* It stops the cluster every test of the binary shares: it runs
	 * alone, in a test of its own (shop_test_pg_restart). */
	if (services_store() == NULL || getenv("DTX_PGTMP_DIR") == NULL ||
	    getenv("DTX_SHOP_TEST_PG_RESTART") == NULL)
		cr_skip_test("runs alone on a cluster of its own");
	t = th_begin();
	th_path(t, "shop", workdir, sizeof(workdir));
	p = shop_spawn(t, "sale", args);
	for (waited = 0; orders_in(workdir) < 20 && waited < PROGRESS_WAIT_MS;
	     waited += 50)
		nanosleep(&poll, NULL);
	cr_assert_lt(waited, PROGRESS_WAIT_MS, "the sale sold nothing");
	pgtmp("kill");
	nanosleep(&outage, NULL);
	pgtmp("restart");
	cr_assert(th_proc_wait(p, SHOP_WAIT_MS), "the sale did not finish");
	code = th_proc_exit_code(p);
	out = read_output(p);
	cr_assert_eq(code, 0, "dtx-shop run exited %d:\n%s", code, out);
	committed = field(out, "committed");
	cr_assert_gt(committed, 0, "nothing sold:\n%s", out);
	/* An outage costs time, not effects: a purchase may end after the
	 * driver's wait (settled by its query), or be compensated when its
	 * action's retries ran out ("other") - never left unfinished. */
	cr_assert_eq(committed + field(out, "compensated") +
	                     field(out, "  not final in time"),
	             field(out, "attempted"), "%s", out);
	cr_assert_eq(field(out, "  client errors"), 0, "%s", out);
	cr_assert_not_null(strstr(out, "(0 still not after settling)"), "%s",
	                   out);
	cr_assert_null(strstr(out, "FAIL"), "%s", out);
	free(out);
	for (size_t i = 0; i < 4; i++)
		cr_assert_gt(assert_applied_once(workdir, services[i]), 0,
		             "%s applied nothing", services[i]);
	th_end(t);
}
#endif
