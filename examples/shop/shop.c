/*
 * shop.c - dtx-shop, the virtual-goods shop's flash sale driver: main and
 * the command line. The work is done by the modules:
 *
 *   seed.c     the stores' starting state and initial.txt
 *   procs.c    dtxd and the four services as child processes
 *   sale.c     the load loop: one purchase saga per buyer
 *   sale_tcc.c the load loop in TCC mode: one reservation per buyer
 *   refund.c   refunds of paid orders, one saga each
 *   pool.c     the bounded thread pool the blocking calls run on
 *   checker.c  the invariants that prove no oversell
 *   pgshop.c   the PostgreSQL cluster and databases of --services-store
 *
 *   dtx-shop [run] [--buyers N] [--stock N] [--concurrency C]
 *            [--duration-s S] [--seed N] [--workdir DIR] [--keep]
 *            [--bin-dir DIR] [--rich] [--workers N] [--json FILE]
 *            [--mode saga|tcc] [--reserve-ms MS] [--abandon-pct P]
 *            [--dtxd-store URI [--dtxd-instances N]
 *             [--dtxd-lease-ms MS] [--kill-dtxd-after-s S]]
 *            [--services-store lmdb|postgresql|postgresql://ADMIN]
 *            [--fault SERVICE=POINT[:N]] [--journal]  (test aids, procs.h)
 *   dtx-shop check --workdir DIR
 *   dtx-shop refund --workdir DIR [--count K] [--concurrency C]
 *            [--bin-dir DIR] [--workers N] [--dtxd-store URI]
 *
 * --dtxd-store gives dtxd a store URI (dtxd --store: a PostgreSQL log)
 * instead of its LMDB log in WORKDIR/log; refund must name the same one.
 * --dtxd-instances N (2..3) starts N dtxd on that store, leasing its
 * shards (--lease-ms MS with --dtxd-lease-ms), and gives the buyers and
 * the services all their URLs;
 * --kill-dtxd-after-s S (saga mode, a bench aid) kills the first of them
 * with SIGKILL S seconds into the sale and reports the latencies around
 * the kill (tests/bench/failover_bench.sh).
 *
 * Exit status: 0 every invariant holds (and, for run, every process
 * started and stopped cleanly), 1 otherwise, 64 usage error. This file
 * only parses, sequences and prints; it never touches a store itself.
 */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checker.h"
#include "pgshop.h"
#include "pool.h"
#include "procs.h"
#include "refund.h"
#include "sale.h"
#include "seed.h"
#include "shop_common.h"

#define PROG               "dtx-shop"
#define CONCURRENCY_MAX    60000u
#define DURATION_MAX_S     86400u
#define WORKERS_DEFAULT    8u
#define DTXD_CLIENTS_SLACK 1024u /* dtxd --max-clients beyond concurrency */
#define DTXD_CLIENTS_DEF   8192u /* dtxd's own default */
#define TCC_THREADS_DEF    64u   /* --mode tcc: default --concurrency */
#define REFUND_THREADS_DEF 16u   /* refund: default --concurrency */
#define REFUND_COUNT_DEF   10u
#define RESERVE_MS_DEF     900000u /* an unpaid reservation: 15 minutes */
#define RESERVE_MS_MAX     86400000u

static const char usage_text[] =
        "usage: dtx-shop [run] [--buyers N] [--stock N] [--concurrency C]\n"
        "                [--duration-s S] [--seed N] [--workdir DIR] "
        "[--keep]\n"
        "                [--bin-dir DIR] [--rich] [--workers N] "
        "[--json FILE]\n"
        "                [--mode saga|tcc] [--reserve-ms MS] "
        "[--abandon-pct P]\n"
        "                [--dtxd-store URI [--dtxd-instances N]\n"
        "                 [--dtxd-lease-ms MS] [--kill-dtxd-after-s "
        "S]]\n"
        "                [--services-store lmdb|postgresql|"
        "postgresql://ADMIN]\n"
        "                [--transport ipc|tcp|tls [--tls-dir DIR]]\n"
        "                [--fault SERVICE=POINT[:N]] [--journal] (test "
        "aids)\n"
        "       dtx-shop check --workdir DIR\n"
        "       dtx-shop refund --workdir DIR [--count K] "
        "[--concurrency C]\n"
        "                [--bin-dir DIR] [--workers N] "
        "[--dtxd-store URI]\n";

typedef enum shop_cmd { CMD_RUN, CMD_CHECK, CMD_REFUND } shop_cmd;

typedef struct shop_args {
	shop_cmd cmd;
	sale_mode mode;
	unsigned buyers, stock, concurrency, duration_s, workers;
	unsigned reserve_ms, abandon_pct, count;
	unsigned dtxd_instances, dtxd_lease_ms, kill_after_s;
	unsigned long seed;
	bool keep, rich, journal;
	const char *workdir, *bin_dir, *json;
	/* dtxd's store URI; NULL: its LMDB log in WORKDIR/log */
	const char *dtxd_store;
	const char *services_store; /* NULL: LMDB; PGSHOP_OWN or a URI */
	const char *fault;          /* --fault's POINT[:N]; NULL: none */
	/* --transport: between the processes, ipc (default), tcp on
	 * loopback, or tls (mutual TLS, certificates from --tls-dir as
	 * tests/support/tlscerts.sh makes them) */
	int transport;
	const char *tls_dir;
	shop_service_id fault_svc;
	bool given[128]; /* by option letter */
} shop_args;

/* shop_report - what a run measured, for the text and JSON reports. */
typedef struct shop_report {
	const shop_args *a;
	const char *workdir;
	sale_result sale;
	double cpu_ms;
	int failed_invariants; /* -1: the checker could not run */
	int bad_stops;
	unsigned restarts; /* services the fault aid restarted */
} shop_report;

static unsigned flag_uint(const char *flag, unsigned long max)
{
	return (unsigned)shop_parse_uint(PROG, usage_text, flag, optarg, max);
}

/* parse_transport reads --transport ipc|tcp|tls. */
static void parse_transport(shop_args *a)
{
	static const char *const names[] = {"ipc", "tcp", "tls"};

	for (int i = 0; i < 3; i++)
		if (strcmp(optarg, names[i]) == 0) {
			a->transport = i; /* PROCS_IPC, PROCS_TCP, PROCS_TLS */
			return;
		}
	shop_usage(PROG, usage_text, "--transport is ipc, tcp or tls");
}

static void parse_flag(int c, shop_args *a)
{
	switch (c) {
	case 'I':
		a->dtxd_instances =
		        flag_uint("--dtxd-instances", PROCS_DTXD_MAX);
		break;
	case 'L':
		a->dtxd_lease_ms = flag_uint("--dtxd-lease-ms", 600000);
		break;
	case 'K':
		a->kill_after_s =
		        flag_uint("--kill-dtxd-after-s", DURATION_MAX_S);
		break;
	case 'b':
		a->buyers = flag_uint("--buyers", SEED_BUYERS_MAX);
		break;
	case 's':
		a->stock = flag_uint("--stock", SEED_STOCK_MAX);
		break;
	case 'c':
		a->concurrency = flag_uint("--concurrency", CONCURRENCY_MAX);
		break;
	case 'd':
		a->duration_s = flag_uint("--duration-s", DURATION_MAX_S);
		break;
	case 'S':
		a->seed = shop_parse_uint(PROG, usage_text, "--seed", optarg,
		                          ~0ul);
		break;
	case 'W':
		a->workers = flag_uint("--workers", 1024);
		break;
	case 'R':
		a->reserve_ms = flag_uint("--reserve-ms", RESERVE_MS_MAX);
		break;
	case 'a':
		a->abandon_pct = flag_uint("--abandon-pct", 100);
		break;
	case 'n':
		a->count = flag_uint("--count", SEED_BUYERS_MAX);
		break;
	}
}

static void parse_mode(shop_args *a)
{
	if (strcmp(optarg, "saga") == 0)
		a->mode = SALE_MODE_SAGA;
	else if (strcmp(optarg, "tcc") == 0)
		a->mode = SALE_MODE_TCC;
	else
		shop_usage(PROG, usage_text,
		           "--mode wants saga or tcc, got '%s'", optarg);
}

/* parse_services_store: lmdb (the default), postgresql (a cluster of our
 * own) or the admin URI of a server to make the databases on. */
static void parse_services_store(shop_args *a)
{
	if (strcmp(optarg, "lmdb") == 0)
		a->services_store = NULL;
	else if (strcmp(optarg, PGSHOP_OWN) == 0 ||
	         strncmp(optarg, "postgresql://", 13) == 0 ||
	         strncmp(optarg, "postgres://", 11) == 0)
		a->services_store = optarg;
	else
		shop_usage(PROG, usage_text,
		           "--services-store wants lmdb, postgresql or "
		           "postgresql://ADMIN-URI");
}

/* parse_fault: SERVICE=POINT[:N], a crash point armed in one service. */
static void parse_fault(shop_args *a)
{
	const char *eq = strchr(optarg, '=');

	for (int id = 0; eq != NULL && id < SHOP_SVC_COUNT; id++) {
		const char *name = shop_service_name((shop_service_id)id);

		if (strlen(name) == (size_t)(eq - optarg) &&
		    strncmp(optarg, name, strlen(name)) == 0 && eq[1] != '\0' &&
		    strlen(eq + 1) < 128) {
			a->fault_svc = (shop_service_id)id;
			a->fault = eq + 1;
			return;
		}
	}
	shop_usage(PROG, usage_text,
	           "--fault wants SERVICE=POINT[:N], SERVICE one of order, "
	           "inventory, payment, delivery");
}

static void parse_named(int c, shop_args *a, char **argv)
{
	if (c == 'v')
		parse_services_store(a);
	else if (c == 'F')
		parse_fault(a);
	else if (c == 'J')
		a->journal = true;
	else if (c == 'w')
		a->workdir = optarg;
	else if (c == 'k')
		a->keep = true;
	else if (c == 'B')
		a->bin_dir = optarg;
	else if (c == 'r')
		a->rich = true;
	else if (c == 'j')
		a->json = optarg;
	else if (c == 'T')
		a->dtxd_store = optarg;
	else if (c == 'X')
		parse_transport(a);
	else if (c == 'Y')
		a->tls_dir = optarg;
	else if (c == 'm')
		parse_mode(a);
	else if (c == ':')
		shop_usage(PROG, usage_text, "%s needs a value",
		           argv[optind - 1]);
	else if (strchr("bscdSWRanIKL", c) != NULL)
		parse_flag(c, a);
	else
		shop_usage(PROG, usage_text, "unknown option '%s'",
		           argv[optind - 1]);
}

/* only_given checks that every flag given is one of allowed. */
static void only_given(const shop_args *a, const char *allowed,
                       const char *what)
{
	for (int c = 1; c < 128; c++)
		if (a->given[c] && strchr(allowed, c) == NULL)
			shop_usage(PROG, usage_text, "%s", what);
}

/* default_concurrency: saga every buyer at once (capped); the blocking
 * modes a thread each, so fewer. */
static unsigned default_concurrency(const shop_args *a)
{
	if (a->cmd == CMD_REFUND)
		return REFUND_THREADS_DEF;
	if (a->mode == SALE_MODE_TCC)
		return a->buyers < TCC_THREADS_DEF ? a->buyers
		                                   : TCC_THREADS_DEF;
	return a->buyers < CONCURRENCY_MAX ? a->buyers : CONCURRENCY_MAX;
}

/* check_args enforces what getopt cannot: the command's flags only, and
 * ranges that depend on each other. */
static void check_args(shop_args *a)
{
	if (a->cmd == CMD_CHECK)
		only_given(a, "w", "check takes only --workdir");
	if (a->cmd == CMD_REFUND)
		only_given(a, "wncBWT",
		           "refund takes --workdir, --count, --concurrency, "
		           "--bin-dir, --workers and --dtxd-store");
	if (a->cmd == CMD_RUN && a->given['n'])
		shop_usage(PROG, usage_text, "--count is for refund");
	if ((a->transport == PROCS_TLS) != (a->tls_dir != NULL))
		shop_usage(PROG, usage_text,
		           "--transport tls and --tls-dir go together");
	if (a->dtxd_lease_ms > 0 && a->dtxd_instances < 2)
		shop_usage(PROG, usage_text,
		           "--dtxd-lease-ms needs --dtxd-instances 2 or more");
	if (a->dtxd_instances > 1 && a->dtxd_store == NULL)
		shop_usage(PROG, usage_text,
		           "--dtxd-instances needs --dtxd-store");
	if (a->kill_after_s > 0 &&
	    (a->dtxd_instances < 2 || a->mode != SALE_MODE_SAGA ||
	     a->kill_after_s >= a->duration_s))
		shop_usage(PROG, usage_text,
		           "--kill-dtxd-after-s needs --mode saga, "
		           "--dtxd-instances 2 or more, and less than "
		           "--duration-s");
	if (a->cmd == CMD_RUN && a->mode != SALE_MODE_TCC &&
	    (a->given['R'] || a->given['a']))
		shop_usage(PROG, usage_text,
		           "--reserve-ms and --abandon-pct need --mode tcc");
	if (a->cmd != CMD_RUN && a->workdir == NULL)
		shop_usage(PROG, usage_text, "%s needs --workdir",
		           a->cmd == CMD_CHECK ? "check" : "refund");
	if (a->buyers == 0 || a->duration_s == 0 || a->workers == 0 ||
	    a->reserve_ms == 0)
		shop_usage(PROG, usage_text,
		           "--buyers, --duration-s, --workers and --reserve-ms "
		           "must be > 0");
	if (a->concurrency == 0)
		a->concurrency = default_concurrency(a);
	if ((a->cmd == CMD_REFUND || a->mode == SALE_MODE_TCC) &&
	    a->concurrency > POOL_THREADS_MAX)
		shop_usage(PROG, usage_text,
		           "--concurrency is a thread count here: at most %u",
		           POOL_THREADS_MAX);
}

static shop_cmd parse_cmd(const char *word, bool *ret_known)
{
	*ret_known = true;
	if (strcmp(word, "run") == 0)
		return CMD_RUN;
	if (strcmp(word, "check") == 0)
		return CMD_CHECK;
	if (strcmp(word, "refund") == 0)
		return CMD_REFUND;
	*ret_known = false;
	return CMD_RUN;
}

static void parse_args(int argc, char **argv, shop_args *a)
{
	static const struct option longopts[] = {
	        {"buyers", required_argument, NULL, 'b'},
	        {"stock", required_argument, NULL, 's'},
	        {"concurrency", required_argument, NULL, 'c'},
	        {"duration-s", required_argument, NULL, 'd'},
	        {"seed", required_argument, NULL, 'S'},
	        {"workers", required_argument, NULL, 'W'},
	        {"workdir", required_argument, NULL, 'w'},
	        {"keep", no_argument, NULL, 'k'},
	        {"bin-dir", required_argument, NULL, 'B'},
	        {"rich", no_argument, NULL, 'r'},
	        {"json", required_argument, NULL, 'j'},
	        {"mode", required_argument, NULL, 'm'},
	        {"reserve-ms", required_argument, NULL, 'R'},
	        {"abandon-pct", required_argument, NULL, 'a'},
	        {"count", required_argument, NULL, 'n'},
	        {"dtxd-store", required_argument, NULL, 'T'},
	        {"dtxd-instances", required_argument, NULL, 'I'},
	        {"kill-dtxd-after-s", required_argument, NULL, 'K'},
	        {"dtxd-lease-ms", required_argument, NULL, 'L'},
	        {"services-store", required_argument, NULL, 'v'},
	        {"fault", required_argument, NULL, 'F'},
	        {"journal", no_argument, NULL, 'J'},
	        {"transport", required_argument, NULL, 'X'},
	        {"tls-dir", required_argument, NULL, 'Y'},
	        {NULL, 0, NULL, 0},
	};
	bool known = false;
	int c;

	if (argc > 1)
		a->cmd = parse_cmd(argv[1], &known);
	if (known) {
		argv++;
		argc--;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (c > 0 && c < 128)
			a->given[c] = true;
		parse_named(c, a, argv);
	}
	if (optind < argc)
		shop_usage(PROG, usage_text, "unexpected argument '%s'",
		           argv[optind]);
	check_args(a);
}

/* ---- reports ----------------------------------------------------------- */

static double self_cpu_ms(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0.0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static double per_second(const sale_result *r)
{
	return r->elapsed_s > 0 ? (double)r->attempted / r->elapsed_s : 0.0;
}

static double cpu_per_purchase(const shop_report *rep)
{
	uint64_t n = rep->sale.attempted;

	return n > 0 ? rep->cpu_ms / (double)n : 0.0;
}

static void print_line(const char *label, uint64_t v)
{
	printf("%-23s %llu\n", label, (unsigned long long)v);
}

/* print_failures prints the non-business failures of r. */
static void print_failures(const sale_result *r)
{
	print_line("non-business failures", sale_non_business(r));
	print_line("  client errors", r->client_errors);
	printf("  not final in time     %llu (%llu still not after settling)\n",
	       (unsigned long long)r->undecided,
	       (unsigned long long)r->unsettled);
	if (r->first_failure[0] != '\0')
		printf("  first                 %s\n", r->first_failure);
}

/* print_counts: a saga purchase is "compensated" when refused, a
 * reservation "cancelled"; only reservations expire. */
static void print_counts(const shop_report *rep)
{
	const sale_result *r = &rep->sale;
	bool tcc = rep->a->mode == SALE_MODE_TCC;

	printf("mode                    %s\n", sale_mode_name(rep->a->mode));
	print_line("buyers", rep->a->buyers);
	print_line("attempted", r->attempted);
	print_line("committed", r->committed);
	print_line(tcc ? "cancelled" : "compensated", sale_compensated(r));
	print_line("  out of stock", r->out_of_stock);
	print_line("  insufficient balance", r->insufficient);
	print_line("  other", r->other_refusal);
	if (tcc) {
		print_line("expired", sale_expired(r));
		print_line("  abandoned", r->abandoned);
		print_line("  paid too late", r->late);
	}
	print_failures(r);
	if (rep->a->fault != NULL)
		print_line("service restarts", rep->restarts);
}

static void print_figures(const shop_report *rep)
{
	const sale_result *r = &rep->sale;

	printf("elapsed                 %.2f s\n", r->elapsed_s);
	printf("throughput              %.1f purchases/s\n", per_second(r));
	printf("latency p50             %.2f ms\n", r->p50_ms);
	printf("latency p99             %.2f ms\n", r->p99_ms);
	printf("latency p999            %.2f ms\n", r->p999_ms);
	printf("cpu per purchase        %.3f ms (dtxd + 4 services + "
	       "driver)\n",
	       cpu_per_purchase(rep));
}

/* json_failover writes what the failover aid measured, if it killed. */
static void json_failover(FILE *f, const sale_failover *v)
{
	if (!v->killed)
		return;
	fprintf(f, "  \"kill_at_s\": %.3f,\n", v->kill_at_s);
	fprintf(f, "  \"failover_max_ms\": %.3f,\n", v->max_ms);
	fprintf(f, "  \"failover_last_ms\": %.3f,\n", v->last_ms);
	fprintf(f, "  \"p99_before_kill_ms\": %.3f,\n", v->p99_before_ms);
	fprintf(f, "  \"p99_after_kill_ms\": %.3f,\n", v->p99_after_ms);
	fprintf(f, "  \"purchases_before_kill\": %llu,\n",
	        (unsigned long long)v->before);
	fprintf(f, "  \"purchases_around_kill\": %llu,\n",
	        (unsigned long long)v->around);
	fprintf(f, "  \"purchases_after_kill\": %llu,\n",
	        (unsigned long long)v->after);
}

static void json_sale(FILE *f, const shop_report *rep)
{
	const sale_result *r = &rep->sale;

	fprintf(f, "  \"attempted\": %llu,\n  \"committed\": %llu,\n",
	        (unsigned long long)r->attempted,
	        (unsigned long long)r->committed);
	fprintf(f, "  \"compensated\": %llu,\n  \"out_of_stock\": %llu,\n",
	        (unsigned long long)sale_compensated(r),
	        (unsigned long long)r->out_of_stock);
	fprintf(f, "  \"insufficient_balance\": %llu,\n  \"other\": %llu,\n",
	        (unsigned long long)r->insufficient,
	        (unsigned long long)r->other_refusal);
	fprintf(f, "  \"non_business_failures\": %llu,\n",
	        (unsigned long long)sale_non_business(r));
	fprintf(f, "  \"client_errors\": %llu,\n  \"not_final\": %llu,\n",
	        (unsigned long long)r->client_errors,
	        (unsigned long long)r->undecided);
	fprintf(f, "  \"elapsed_s\": %.3f,\n  \"purchases_per_s\": %.1f,\n",
	        r->elapsed_s, per_second(r));
	fprintf(f, "  \"p50_ms\": %.3f,\n  \"p99_ms\": %.3f,\n", r->p50_ms,
	        r->p99_ms);
	fprintf(f, "  \"p999_ms\": %.3f,\n  \"cpu_ms_per_purchase\": %.4f,\n",
	        r->p999_ms, cpu_per_purchase(rep));
	fprintf(f, "  \"expired\": %llu,\n  \"abandoned\": %llu,\n",
	        (unsigned long long)sale_expired(r),
	        (unsigned long long)r->abandoned);
	fprintf(f, "  \"paid_too_late\": %llu,\n", (unsigned long long)r->late);
	json_failover(f, &r->failover);
}

static int write_json(const shop_report *rep)
{
	const shop_args *a = rep->a;
	FILE *f = fopen(a->json, "w");

	if (f == NULL)
		return -1;
	fprintf(f, "{\n  \"mode\": \"%s\",\n", sale_mode_name(a->mode));
	fprintf(f, "  \"buyers\": %u,\n  \"stock\": %u,\n", a->buyers,
	        a->stock);
	fprintf(f, "  \"concurrency\": %u,\n  \"duration_s\": %u,\n",
	        a->concurrency, a->duration_s);
	fprintf(f, "  \"seed\": %lu,\n  \"rich\": %s,\n", a->seed,
	        a->rich ? "true" : "false");
	json_sale(f, rep);
	fprintf(f, "  \"failed_invariants\": %d,\n  \"invariants_ok\": %s\n}\n",
	        rep->failed_invariants,
	        rep->failed_invariants == 0 ? "true" : "false");
	return fclose(f) == 0 ? 0 : -1;
}

/* ---- run and check ----------------------------------------------------- */

static int remove_cb(const char *path, const struct stat *sb, int flag,
                     struct FTW *ftw)
{
	return remove(path);
}

/* make_workdir creates the work directory: the given one (it may exist)
 * or a fresh one under /tmp. */
static int make_workdir(const shop_args *a, char *out, size_t len)
{
	if (a->workdir == NULL) {
		snprintf(out, len, "/tmp/dtx-shop-XXXXXX");
		return mkdtemp(out) != NULL ? 0 : -1;
	}
	snprintf(out, len, "%s", a->workdir);
	return mkdir(out, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

/* sell runs steps 3-6 of run: processes up, sale, processes down. */
static int sell(const shop_args *a, const seed_initial *init, shop_report *rep)
{
	procs_opts po = {.workdir = rep->workdir,
	                 .bin_dir = a->bin_dir,
	                 .workers = a->workers,
	                 .dtxd_store = a->dtxd_store,
	                 .dtxd_instances = a->dtxd_instances,
	                 .dtxd_lease_ms = a->dtxd_lease_ms,
	                 .fault = a->fault,
	                 .fault_svc = a->fault_svc,
	                 .journal = a->journal,
	                 .transport = a->transport,
	                 .tls_dir = a->tls_dir};
	sale_config sc = {.init = init,
	                  .workdir = rep->workdir,
	                  .mode = a->mode,
	                  .buyers = a->buyers,
	                  .concurrency = a->concurrency,
	                  .duration_s = a->duration_s,
	                  .reserve_ms = a->reserve_ms,
	                  .abandon_pct = a->abandon_pct,
	                  .seed = a->seed,
	                  .kill_after_s = a->kill_after_s};
	procs ps;
	double cpu0;
	int rc;

	if (a->concurrency + DTXD_CLIENTS_SLACK > DTXD_CLIENTS_DEF)
		po.max_clients = a->concurrency + DTXD_CLIENTS_SLACK;
	if (procs_start(&ps, &po) != 0)
		return -1;
	sc.ps = &ps;
	sc.kill_ps = &ps;
	cpu0 = procs_cpu_ms(&ps) + self_cpu_ms();
	rc = sale_run(&sc, &rep->sale);
	rep->cpu_ms = procs_cpu_ms(&ps) + self_cpu_ms() - cpu0;
	rep->restarts = procs_restarts(&ps);
	rep->bad_stops = procs_stop(&ps);
	return rc;
}

static void print_header(const shop_args *a, const seed_initial *init,
                         const char *workdir)
{
	printf("dtx-shop: flash sale of %llu x %s at %u.%02u to %u buyers, "
	       "%u in flight, at most %u s\n",
	       (unsigned long long)init->stock, init->sku, init->price / 100,
	       init->price % 100, a->buyers, a->concurrency, a->duration_s);
	if (a->mode == SALE_MODE_TCC)
		printf("reservations (tcc)      expire after %u ms; %u%% of "
		       "buyers abandon theirs\n",
		       a->reserve_ms, a->abandon_pct);
	printf("workdir                 %s\n", workdir);
	printf("services store          %s\n",
	       a->services_store == NULL ? "lmdb" : "postgresql");
	fflush(stdout);
}

/* finish reports and removes the work directory of a run that passed
 * (unless kept); pg (NULL: none) is stopped, and removed with it. */
static int finish(const shop_report *rep, bool made, pgshop *pg)
{
	bool ok = rep->failed_invariants == 0 && rep->bad_stops == 0;

	if (rep->a->json != NULL && write_json(rep) != 0)
		fprintf(stderr, PROG ": --json %s: %s\n", rep->a->json,
		        strerror(errno));
	if (rep->bad_stops > 0)
		printf("result: %d process(es) did not stop cleanly\n",
		       rep->bad_stops);
	printf("result: %s\n",
	       ok ? "PASS, no oversell" : "FAIL (work directory kept)");
	bool gone = made && ok && !rep->a->keep;

	if (gone)
		nftw(rep->workdir, remove_cb, 16, FTW_DEPTH | FTW_PHYS);
	pgshop_stop(pg, gone);
	return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* services_pg makes the services' PostgreSQL databases for a run with
 * --services-store (starting our own cluster, *ret_pg, if asked) and
 * points uris at their URIs (kept in buf). Returns 0 or -1. */
static int services_pg(const shop_args *a, const char *workdir, pgshop **ret_pg,
                       char buf[][PGSHOP_URI_MAX], const char *uris[])
{
	const char *admin = a->services_store;
	char stores[4096];

	*ret_pg = NULL;
	/* seed_stores refuses a work directory that holds a shop: refuse
	 * it before a cluster starts, and before its pgcluster is lost */
	if (seed_path(workdir, "stores", stores, sizeof(stores)) &&
	    access(stores, F_OK) == 0) {
		fprintf(stderr, PROG ": %s: already holds a shop\n", stores);
		return -1;
	}
	if (strcmp(admin, PGSHOP_OWN) == 0) {
		if (pgshop_start_new(workdir, ret_pg) != 0)
			return -1;
		admin = pgshop_admin_uri(*ret_pg);
	}
	if (pgshop_create_dbs(admin, buf) != 0)
		return -1;
	for (int id = 0; id < SHOP_SVC_COUNT; id++)
		uris[id] = buf[id];
	return 0;
}

static int run(const shop_args *a)
{
	char workdir[4096], buf[SHOP_SVC_COUNT][PGSHOP_URI_MAX];
	const char *uris[SHOP_SVC_COUNT];
	shop_report rep = {.a = a, .workdir = workdir};
	seed_opts so = {a->buyers, a->stock, a->seed, a->rich};
	seed_initial init;
	pgshop *pg = NULL;

	if (make_workdir(a, workdir, sizeof(workdir)) != 0) {
		fprintf(stderr, PROG ": work directory %s: %s\n", workdir,
		        strerror(errno));
		return EXIT_FAILURE;
	}
	if (a->services_store != NULL) {
		if (services_pg(a, workdir, &pg, buf, uris) != 0) {
			pgshop_stop(pg, true);
			return EXIT_FAILURE;
		}
		so.uris = uris;
	}
	if (seed_stores(workdir, &so, &init) != 0) {
		pgshop_stop(pg, true); /* nothing in it to look at */
		return EXIT_FAILURE;
	}
	print_header(a, &init, workdir);
	if (sell(a, &init, &rep) != 0)
		goto fail;
	print_counts(&rep);
	print_figures(&rep);
	printf("invariants\n");
	rep.failed_invariants = checker_run(workdir, stdout);
	return finish(&rep, a->workdir == NULL, pg);
fail:
	pgshop_stop(pg, false); /* kept with the work directory */
	return EXIT_FAILURE;
}

static int check(const shop_args *a)
{
	pgshop *pg;
	int failed;

	printf("invariants of %s\n", a->workdir);
	if (pgshop_resume(a->workdir, &pg) != 0)
		return EXIT_FAILURE;
	failed = checker_run(a->workdir, stdout);
	pgshop_stop(pg, false);
	if (failed < 0)
		return EXIT_FAILURE;
	printf("result: %s\n", failed == 0 ? "PASS" : "FAIL");
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ---- refund ------------------------------------------------------------ */

static void print_refunds(const sale_result *r)
{
	print_line("refunds attempted", r->attempted);
	print_line("refunded", r->committed);
	print_line("refused (compensated)", r->other_refusal);
	print_failures(r);
	printf("elapsed                 %.2f s\n", r->elapsed_s);
	printf("throughput              %.1f refunds/s\n", per_second(r));
	printf("latency p50             %.2f ms\n", r->p50_ms);
	printf("latency p99             %.2f ms\n", r->p99_ms);
}

/* refund_with_procs starts the processes again on the kept work
 * directory (dtxd recovers its log), refunds, and stops them. Returns
 * the number of bad stops, or -1 if nothing could run. */
static int refund_with_procs(const shop_args *a, const shop_purchase *orders,
                             size_t n, sale_result *res)
{
	procs_opts po = {.workdir = a->workdir,
	                 .bin_dir = a->bin_dir,
	                 .workers = a->workers,
	                 .dtxd_store = a->dtxd_store};
	procs ps;
	int rc, bad;

	if (procs_start(&ps, &po) != 0)
		return -1;
	rc = refund_run(&ps, orders, n, a->concurrency, res);
	bad = procs_stop(&ps);
	return rc == 0 ? bad : -1;
}

static int refund(const shop_args *a)
{
	sale_result res = {0};
	shop_purchase *orders;
	pgshop *pg;
	int bad, failed = -1;
	size_t n;

	if (pgshop_resume(a->workdir, &pg) != 0)
		return EXIT_FAILURE;
	if (refund_pick(a->workdir, a->count, &orders, &n) != 0) {
		pgshop_stop(pg, false);
		return EXIT_FAILURE;
	}
	printf("dtx-shop: refund of %zu paid order(s) (%u asked), %u in "
	       "flight\n",
	       n, a->count, a->concurrency);
	printf("workdir                 %s\n", a->workdir);
	fflush(stdout);
	bad = refund_with_procs(a, orders, n, &res);
	free(orders);
	if (bad >= 0) {
		print_refunds(&res);
		printf("invariants\n");
		failed = checker_run(a->workdir, stdout);
	}
	pgshop_stop(pg, false);
	if (bad < 0)
		return EXIT_FAILURE;
	if (bad > 0)
		printf("result: %d process(es) did not stop cleanly\n", bad);
	printf("result: %s\n", failed == 0 && bad == 0 ? "PASS" : "FAIL");
	return failed == 0 && bad == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int main(int argc, char **argv)
{
	shop_args a = {.buyers = 5000,
	               .stock = 1000,
	               .duration_s = 30,
	               .seed = 1,
	               .workers = WORKERS_DEFAULT,
	               .reserve_ms = RESERVE_MS_DEF,
	               .count = REFUND_COUNT_DEF};

	parse_args(argc, argv, &a);
	if (a.cmd == CMD_CHECK)
		return check(&a);
	return a.cmd == CMD_REFUND ? refund(&a) : run(&a);
}
