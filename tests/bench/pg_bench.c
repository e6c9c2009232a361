/*
 * pg_bench.c - the monolith's flash sale, for comparison: the whole
 * purchase as ONE PostgreSQL transaction over four tables - stock
 * decremented, the buyer's balance debited (with a check), the order
 * inserted, one unassigned card code assigned to it - against one hot
 * SKU, with synchronous_commit on. Two ways to guard the stock row:
 *
 *   forupdate    SELECT ... FOR UPDATE on the stock row, check, UPDATE
 *   conditional  UPDATE stock ... WHERE left_units >= n (no SELECT)
 *
 * The purchase is a PL/pgSQL function called with one round trip
 * (PostgreSQL at its best: the hot row is locked only while the function
 * runs and its commit is flushed). A business refusal (out of stock,
 * balance too low, no code left) rolls the transaction back: the
 * function raises SQLSTATE DX001..DX003, or returns 'out_of_stock'.
 *
 *   pg_bench --conninfo STR --variant forupdate|conditional
 *            --concurrency C --duration-s S --stock N [--accounts N]
 *            [--pids PID,...] [--json FILE] [--label NAME]
 *
 * Before the run it (re)creates the tables and functions, seeds them
 * (stock N, N codes, --accounts rich buyers), VACUUMs and CHECKPOINTs.
 * Then C connections - one per buyer, one purchase in flight each
 * (closed loop) - are driven by one thread through epoll and libpq's
 * asynchronous calls. Afterwards an SQL check: sold + left = initial,
 * left >= 0, one code per order and no code twice, money conserved, and
 * the database sold what buyers were told they bought. --pids names the
 * postmaster: its backends' CPU (live or exited) is charged to the run.
 *
 * Owns its connections only; every wait is bounded (connect_timeout,
 * the duration plus DRAIN_MS).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "bench_common.h"

#define CONCURRENCY_MAX 20000u
#define DURATION_MAX    3600u
#define DRAIN_MS        30000
#define EVENTS          256
#define CONNECT_THREADS 8u
#define EXIT_USAGE      64
#define PRICE           "1000" /* cents; every buyer can pay thousands */
#define ACCOUNTS_DEF    100000ll
#define ADMIN_TIMEOUT   "300s" /* any one setup or check statement */

/* ---- SQL --------------------------------------------------------------- */

static const char sql_schema[] =
        "SET client_min_messages = warning;\n"
        "DROP TABLE IF EXISTS orders, stock, accounts, codes, bench_meta;\n"
        "CREATE TABLE stock (sku text PRIMARY KEY, left_units bigint NOT "
        "NULL);\n"
        "CREATE TABLE accounts (id bigint PRIMARY KEY, balance bigint NOT "
        "NULL);\n"
        "CREATE TABLE orders (id bigserial PRIMARY KEY, buyer bigint NOT "
        "NULL, sku text NOT NULL, qty int NOT NULL, amount bigint NOT "
        "NULL, created timestamptz NOT NULL DEFAULT now());\n"
        "CREATE TABLE codes (id bigint PRIMARY KEY, code text NOT NULL, "
        "order_id bigint UNIQUE);\n"
        "CREATE INDEX codes_free ON codes (id) WHERE order_id IS NULL;\n"
        "CREATE TABLE bench_meta (initial_stock bigint, initial_money "
        "bigint);\n";

/* A purchase function: the first %s is its name's suffix, the second
 * how it takes the stock (one of the two below); the rest is shared. */
static const char sql_function_fmt[] =
        "CREATE OR REPLACE FUNCTION buy_%s(p_buyer bigint, p_qty int,\n"
        "  p_price bigint) RETURNS text LANGUAGE plpgsql AS $$\n"
        "DECLARE v_left bigint; v_order bigint; v_code bigint;\n"
        "BEGIN\n"
        "%s"
        "  UPDATE accounts SET balance = balance - p_price * p_qty\n"
        "   WHERE id = p_buyer AND balance >= p_price * p_qty;\n"
        "  IF NOT FOUND THEN RAISE EXCEPTION USING ERRCODE = 'DX002',\n"
        "    MESSAGE = 'insufficient balance'; END IF;\n"
        "  INSERT INTO orders (buyer, sku, qty, amount)\n"
        "   VALUES (p_buyer, 'sku-1', p_qty, p_price * p_qty)\n"
        "   RETURNING id INTO v_order;\n"
        "  UPDATE codes SET order_id = v_order WHERE id = (SELECT id\n"
        "   FROM codes WHERE order_id IS NULL ORDER BY id LIMIT 1\n"
        "   FOR UPDATE SKIP LOCKED) RETURNING id INTO v_code;\n"
        "  IF v_code IS NULL THEN RAISE EXCEPTION USING ERRCODE = 'DX003',\n"
        "    MESSAGE = 'no code left'; END IF;\n"
        "  RETURN 'ok';\n"
        "END $$;\n";

static const char sql_stock_forupdate[] =
        "  SELECT left_units INTO v_left FROM stock WHERE sku = 'sku-1'\n"
        "   FOR UPDATE;\n"
        "  IF v_left < p_qty THEN RETURN 'out_of_stock'; END IF;\n"
        "  UPDATE stock SET left_units = left_units - p_qty\n"
        "   WHERE sku = 'sku-1';\n";

static const char sql_stock_conditional[] =
        "  UPDATE stock SET left_units = left_units - p_qty\n"
        "   WHERE sku = 'sku-1' AND left_units >= p_qty;\n"
        "  IF NOT FOUND THEN RETURN 'out_of_stock'; END IF;\n";

/* %lld: stock (twice: units, codes), accounts. */
static const char sql_seed[] =
        "INSERT INTO stock VALUES ('sku-1', %lld);\n"
        "INSERT INTO codes SELECT g, md5(g::text), NULL\n"
        "  FROM generate_series(1, %lld) g;\n"
        "INSERT INTO accounts SELECT g, 1000000000\n"
        "  FROM generate_series(1, %lld) g;\n"
        "INSERT INTO bench_meta SELECT (SELECT left_units FROM stock),\n"
        "  (SELECT sum(balance) FROM accounts);\n";

static const char sql_check[] =
        "SELECT m.initial_stock, s.left_units, o.sold, o.n, o.revenue,\n"
        "  c.assigned, c.orders_with_code, a.balances, m.initial_money,\n"
        "  current_setting('synchronous_commit'), current_setting('fsync')\n"
        " FROM bench_meta m, stock s,\n"
        "  (SELECT coalesce(sum(qty), 0) sold, count(*) n,\n"
        "          coalesce(sum(amount), 0) revenue FROM orders) o,\n"
        "  (SELECT (SELECT count(*) FROM codes WHERE order_id IS NOT NULL)\n"
        "          assigned, (SELECT count(DISTINCT c.order_id) FROM codes c\n"
        "          JOIN orders o ON o.id = c.order_id) orders_with_code) c,\n"
        "  (SELECT sum(balance) balances FROM accounts) a";

/* ---- options and state ------------------------------------------------- */

typedef struct opts {
	const char *conninfo, *variant, *json, *label;
	unsigned concurrency, duration_s;
	long long stock, accounts;
	bench_pids pids;
} opts;

typedef enum outcome { OUT_NONE, OUT_OK, OUT_REFUSED, OUT_ERROR } outcome;

typedef struct buyer {
	PGconn *conn;
	int64_t start_ns;
	outcome out;
	bool busy, writing;
} buyer;

typedef struct run {
	const opts *o;
	int ep;
	buyer *b;
	unsigned busy;
	uint64_t seq; /* purchases started: picks the buyer's account */
	int64_t stop_ns, first_ns, last_ns;
	uint64_t answered, sold, refused, errors;
	char first_error[256];
	bench_lat lat;
} run;

/* ---- setup and check (one blocking connection) ------------------------- */

static int exec_ok(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(res);
	int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;

	if (rc != 0)
		fprintf(stderr, "pg_bench: %s", PQerrorMessage(c));
	PQclear(res);
	return rc;
}

/* exec_function creates the purchase function buy_NAME. */
static int exec_function(PGconn *c, const char *name, const char *stock)
{
	char sql[sizeof(sql_function_fmt) + 512];

	snprintf(sql, sizeof(sql), sql_function_fmt, name, stock);
	return exec_ok(c, sql);
}

static int setup(const opts *o, PGconn *c)
{
	char seed[sizeof(sql_seed) + 64];

	/* Bounded: the check runs while thousands of purchases may still
	 * wait on the hot row. */
	if (exec_ok(c, "SET statement_timeout = '" ADMIN_TIMEOUT "'") != 0)
		return -1;
	snprintf(seed, sizeof(seed), sql_seed, o->stock, o->stock, o->accounts);
	if (exec_ok(c, sql_schema) ||
	    exec_function(c, "forupdate", sql_stock_forupdate) ||
	    exec_function(c, "conditional", sql_stock_conditional) ||
	    exec_ok(c, seed) || exec_ok(c, "VACUUM ANALYZE") ||
	    exec_ok(c, "CHECKPOINT"))
		return -1;
	return 0;
}

static long long col(PGresult *res, int i)
{
	return strtoll(PQgetvalue(res, 0, i), NULL, 10);
}

/* told_ok: the database sold at least what buyers were told they bought,
 * and at most that plus the purchases still unanswered at the end (they
 * may have committed). */
static bool told_ok(uint64_t told, unsigned unanswered, long long sold)
{
	return sold >= 0 && (uint64_t)sold >= told &&
	       (uint64_t)sold <= told + unanswered;
}

/* check runs sql_check: the oversell check. */
static bool check(run *r, PGconn *c, char *msg, size_t len)
{
	PGresult *res = PQexec(c, sql_check);
	long long init, left, sold, n, rev, codes, with_code, bal, money;
	bool ok;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		snprintf(msg, len, "check query failed: %s", PQerrorMessage(c));
		PQclear(res);
		return false;
	}
	init = col(res, 0), left = col(res, 1), sold = col(res, 2);
	n = col(res, 3), rev = col(res, 4), codes = col(res, 5);
	with_code = col(res, 6), bal = col(res, 7), money = col(res, 8);
	ok = left >= 0 && sold + left == init && codes == n && with_code == n &&
	     bal + rev == money && told_ok(r->sold, r->busy, sold);
	snprintf(msg, len,
	         "sold %lld + left %lld vs initial %lld; %lld orders, %lld "
	         "codes assigned to %lld of them; balances %lld + revenue "
	         "%lld vs %lld; %llu buyers told sold, %u unanswered; "
	         "synchronous_commit %s, fsync %s",
	         sold, left, init, n, codes, with_code, bal, rev, money,
	         (unsigned long long)r->sold, r->busy, PQgetvalue(res, 0, 9),
	         PQgetvalue(res, 0, 10));
	PQclear(res);
	return ok;
}

/* ---- the buyers' connections ------------------------------------------- */

typedef struct connector {
	run *r;
	unsigned first, step;
	int failed;
} connector;

static int connect_one(run *r, buyer *b)
{
	char stmt[96];
	PGresult *res;

	b->conn = PQconnectdb(r->o->conninfo);
	if (PQstatus(b->conn) != CONNECTION_OK)
		return -1;
	snprintf(stmt, sizeof(stmt), "SELECT buy_%s($1, $2, $3)",
	         r->o->variant);
	res = PQprepare(b->conn, "buy", stmt, 3, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return PQsetnonblocking(b->conn, 1);
}

static void *connect_some(void *arg)
{
	connector *k = arg;

	for (unsigned i = k->first; i < k->r->o->concurrency; i += k->step) {
		if (connect_one(k->r, &k->r->b[i]) != 0) {
			fprintf(stderr, "pg_bench: connection %u: %s", i,
			        PQerrorMessage(k->r->b[i].conn));
			k->failed = 1;
			break;
		}
	}
	return NULL;
}

/* connect_buyers opens C connections from CONNECT_THREADS threads (the
 * postmaster forks a backend for each) and watches them with epoll. */
static int connect_buyers(run *r)
{
	pthread_t t[CONNECT_THREADS];
	connector k[CONNECT_THREADS];
	int failed = 0;

	for (unsigned i = 0; i < CONNECT_THREADS; i++) {
		k[i] = (connector){.r = r, .first = i, .step = CONNECT_THREADS};
		if (pthread_create(&t[i], NULL, connect_some, &k[i]) != 0)
			return -1;
	}
	for (unsigned i = 0; i < CONNECT_THREADS; i++) {
		pthread_join(t[i], NULL);
		failed |= k[i].failed;
	}
	for (unsigned i = 0; !failed && i < r->o->concurrency; i++) {
		struct epoll_event ev = {.events = EPOLLIN,
		                         .data.ptr = &r->b[i]};

		if (epoll_ctl(r->ep, EPOLL_CTL_ADD, PQsocket(r->b[i].conn),
		              &ev) != 0)
			failed = 1;
	}
	return failed ? -1 : 0;
}

static int watch(run *r, buyer *b, bool out)
{
	struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0),
	                         .data.ptr = b};

	return epoll_ctl(r->ep, EPOLL_CTL_MOD, PQsocket(b->conn), &ev);
}

/* flush sends what libpq buffered; waits for EPOLLOUT if it could not. */
static int flush(run *r, buyer *b)
{
	int rv = PQflush(b->conn);

	if (rv < 0)
		return -1;
	/* Change the epoll interest only when "all sent" changes. */
	if ((rv == 1) == b->writing)
		return 0;
	b->writing = rv == 1;
	return watch(r, b, b->writing);
}

static void note_error(run *r, const char *what)
{
	r->errors++;
	if (r->first_error[0] == '\0')
		snprintf(r->first_error, sizeof(r->first_error), "%s", what);
}

/* send_buy starts b's next purchase unless the run is over. */
static void send_buy(run *r, buyer *b)
{
	char account[24];
	const char *vals[3] = {account, "1", PRICE};

	if (bench_now_ns() >= r->stop_ns)
		return;
	snprintf(account, sizeof(account), "%llu",
	         (unsigned long long)(r->seq++ % (uint64_t)r->o->accounts) + 1);
	b->start_ns = bench_now_ns();
	b->out = OUT_NONE;
	if (!PQsendQueryPrepared(b->conn, "buy", 3, vals, NULL, NULL, 0) ||
	    flush(r, b) != 0) {
		note_error(r, PQerrorMessage(b->conn));
		return;
	}
	b->busy = true;
	r->busy++;
}

/* classify reads one result of b's purchase. */
static void classify(run *r, buyer *b, PGresult *res)
{
	const char *state;

	switch (PQresultStatus(res)) {
	case PGRES_TUPLES_OK:
		if (PQntuples(res) == 1 &&
		    strcmp(PQgetvalue(res, 0, 0), "ok") == 0)
			b->out = OUT_OK;
		else if (PQntuples(res) == 1 &&
		         strcmp(PQgetvalue(res, 0, 0), "out_of_stock") == 0)
			b->out = OUT_REFUSED;
		else
			b->out = OUT_ERROR;
		break;
	case PGRES_FATAL_ERROR:
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		b->out = state != NULL && strncmp(state, "DX", 2) == 0
		                 ? OUT_REFUSED
		                 : OUT_ERROR;
		if (b->out == OUT_ERROR && r->first_error[0] == '\0')
			snprintf(r->first_error, sizeof(r->first_error), "%s",
			         PQresultErrorMessage(res));
		break;
	default:
		b->out = OUT_ERROR;
		break;
	}
}

/* finish counts b's purchase once its last result was read. */
static void finish(run *r, buyer *b)
{
	int64_t t = bench_now_ns();

	b->busy = false;
	r->busy--;
	r->answered++;
	r->last_ns = t;
	bench_lat_add(&r->lat, (double)(t - b->start_ns) / 1e6);
	if (b->out == OUT_OK)
		r->sold++;
	else if (b->out == OUT_REFUSED)
		r->refused++;
	else
		note_error(r, "unexpected answer");
}

static void on_readable(run *r, buyer *b)
{
	PGresult *res;

	if (!PQconsumeInput(b->conn)) {
		note_error(r, PQerrorMessage(b->conn));
		epoll_ctl(r->ep, EPOLL_CTL_DEL, PQsocket(b->conn), NULL);
		if (b->busy) {
			b->busy = false;
			r->busy--;
		}
		return;
	}
	while (b->busy && !PQisBusy(b->conn)) {
		res = PQgetResult(b->conn);
		if (res == NULL) {
			finish(r, b);
			send_buy(r, b);
			return;
		}
		classify(r, b, res);
		PQclear(res);
	}
}

static void loop(run *r)
{
	struct epoll_event ev[EVENTS];
	int64_t limit = r->stop_ns + (int64_t)DRAIN_MS * 1000000;

	while (r->busy > 0 && bench_now_ns() < limit) {
		int n = epoll_wait(r->ep, ev, EVENTS, 100);

		for (int i = 0; i < n; i++) {
			buyer *b = ev[i].data.ptr;

			if ((ev[i].events & EPOLLOUT) && flush(r, b) != 0)
				note_error(r, PQerrorMessage(b->conn));
			if (ev[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				on_readable(r, b);
		}
	}
}

/* ---- the run ----------------------------------------------------------- */

/* cancel asks the server to stop conn's purchase still in flight, so its
 * backend does not keep waiting for the hot row after the run. */
static void cancel(PGconn *conn)
{
	PGcancel *c = PQgetCancel(conn);
	char err[256];

	if (c != NULL)
		PQcancel(c, err, sizeof(err));
	PQfreeCancel(c);
}

static int report(run *r, double cpu_ms, bool ok, const char *msg)
{
	char check[1024];
	bench_report rep = {.system = r->o->label,
	                    .concurrency = r->o->concurrency,
	                    .answered = r->answered,
	                    .ok = r->sold,
	                    .refused = r->refused,
	                    .non_business = r->errors + r->busy,
	                    .elapsed_s =
	                            (double)(r->last_ns - r->first_ns) / 1e9,
	                    .cpu_ms = cpu_ms,
	                    .invariants_ok = ok,
	                    .check = check};

	snprintf(check, sizeof(check), "%s%s%s", msg,
	         r->first_error[0] != '\0' ? "; first error: " : "",
	         r->first_error);
	if (bench_report_write(r->o->json, &rep, &r->lat) != 0) {
		perror("pg_bench: report");
		return 1;
	}
	return 0;
}

static int run_sale(const opts *o)
{
	run r = {.o = o, .ep = epoll_create1(EPOLL_CLOEXEC)};
	PGconn *admin = PQconnectdb(o->conninfo);
	char msg[700];
	double cpu0;
	bool ok;
	int rc = 1;

	r.b = calloc(o->concurrency, sizeof(*r.b));
	if (PQstatus(admin) != CONNECTION_OK || r.ep < 0 || r.b == NULL) {
		fprintf(stderr, "pg_bench: %s", PQerrorMessage(admin));
		goto out;
	}
	if (setup(o, admin) != 0 || connect_buyers(&r) != 0)
		goto out;
	cpu0 = bench_cpu_ms(&o->pids);
	r.first_ns = r.last_ns = bench_now_ns();
	r.stop_ns = r.first_ns + (int64_t)o->duration_s * 1000000000;
	for (unsigned i = 0; i < o->concurrency; i++)
		send_buy(&r, &r.b[i]);
	loop(&r);
	cpu0 = bench_cpu_ms(&o->pids) - cpu0;
	ok = check(&r, admin, msg, sizeof(msg));
	rc = report(&r, cpu0, ok, msg);
out:
	for (unsigned i = 0; r.b != NULL && i < o->concurrency; i++) {
		if (r.b[i].busy)
			cancel(r.b[i].conn);
		PQfinish(r.b[i].conn); /* accepts NULL */
	}
	free(r.b);
	PQfinish(admin);
	if (r.ep >= 0)
		close(r.ep);
	bench_lat_fini(&r.lat);
	return rc;
}

/* ---- command line ------------------------------------------------------ */

static __attribute__((noreturn)) void usage(const char *why)
{
	fprintf(stderr,
	        "pg_bench: %s\nusage: pg_bench --conninfo STR --variant "
	        "forupdate|conditional --concurrency C --duration-s S "
	        "--stock N [--accounts N] [--pids PID,...] [--json FILE] "
	        "[--label NAME]\n",
	        why);
	exit(EXIT_USAGE);
}

/* flag_num is bench_flag_num for this program's flags. */
static long long flag_num(const char *name, long long lo, long long hi)
{
	return bench_flag_num("pg_bench", name, optarg, lo, hi);
}

static void parse(int argc, char **argv, opts *o)
{
	static const struct option longs[] = {
	        {"conninfo", required_argument, NULL, 'C'},
	        {"variant", required_argument, NULL, 'v'},
	        {"concurrency", required_argument, NULL, 'c'},
	        {"duration-s", required_argument, NULL, 'd'},
	        {"stock", required_argument, NULL, 's'},
	        {"accounts", required_argument, NULL, 'a'},
	        {"pids", required_argument, NULL, 'p'},
	        {"json", required_argument, NULL, 'j'},
	        {"label", required_argument, NULL, 'l'},
	        {NULL, 0, NULL, 0}};
	int ch;

	while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (ch) {
		case 'C':
			o->conninfo = optarg;
			break;
		case 'v':
			o->variant = optarg;
			break;
		case 'c':
			o->concurrency = (unsigned)flag_num("--concurrency", 1,
			                                    CONCURRENCY_MAX);
			break;
		case 'd':
			o->duration_s = (unsigned)flag_num("--duration-s", 1,
			                                   DURATION_MAX);
			break;
		case 's':
			o->stock = flag_num("--stock", 0, 1LL << 40);
			break;
		case 'a':
			o->accounts = flag_num("--accounts", 1, 1LL << 30);
			break;
		case 'p':
			if (bench_pids_parse(optarg, &o->pids) != 0)
				usage("bad --pids");
			break;
		case 'j':
			o->json = optarg;
			break;
		case 'l':
			o->label = optarg;
			break;
		default:
			usage("unknown option");
		}
	}
	if (o->conninfo == NULL || o->variant == NULL || o->concurrency == 0 ||
	    o->duration_s == 0 || o->stock < 0 || optind != argc)
		usage("--conninfo, --variant, --concurrency, --duration-s and "
		      "--stock are required");
	if (strcmp(o->variant, "forupdate") != 0 &&
	    strcmp(o->variant, "conditional") != 0)
		usage("--variant must be forupdate or conditional");
}

int main(int argc, char **argv)
{
	opts o = {.json = "-",
	          .label = "postgres",
	          .stock = -1,
	          .accounts = ACCOUNTS_DEF};

	parse(argc, argv, &o);
	return run_sale(&o);
}
