/*
 * service.c - the runner shared by the four shop services (see service.h).
 *
 * The store is LMDB (--data DIR) or PostgreSQL (--store URI, libdtx-pg);
 * the handlers write through the key-value API and do not know which.
 *
 * Startup order: parse flags, open the store, create the participant,
 * register the handlers, bind the store (the barrier), listen, write the
 * ready file; then wait for SIGTERM/SIGINT. Shutdown runs in reverse:
 * the participant first (it waits for running handlers), then the store,
 * which must outlive it.
 *
 * The stop signals are blocked before the SDK starts threads, so only
 * sigwait() takes them and no handler runs on a signal stack.
 *
 * Every handler is registered through serve_cb, which owns two opt-in
 * test aids (tests/chaos turns them on; dtx-shop does not):
 *   --journal              after a handler answers OK, record the call in
 *                          the journal table, in the same transaction as
 *                          the effect (shop_journal_record): a barrier
 *                          that applied a call twice shows there;
 *   --chaos-retry-pct P    answer RETRY before running the handler for P%
 *                          of calls, drawn from --chaos-seed and the
 *                          call's gid, branch, op and attempt (a resend is
 *                          a new draw). RETRY records nothing (barrier),
 *                          so it is a transient answer with no effect.
 *                          SIGUSR1 turns it off for good (the harness's
 *                          "heal").
 * --stats-file PATH writes the participant's counters (and the RETRYs
 * injected) to PATH every STATS_MS and at exit, through a rename, so a
 * reader never sees half a file; a kill -9 loses at most STATS_MS of
 * counts.
 */
#include "service.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dtx/dtx_pg.h>

#define WORKERS_MAX 1024
#define GROUPS_MAX  64 /* dtx_store_opts.groups */
/* Groups a PostgreSQL store serves at once: the handlers change shared
 * rows in one statement each (inventory's stock, payment's balances and
 * revenue, shop_add_i64) or skip rows another group holds (delivery's
 * pool), so several groups are safe; the journal (a test aid) reads then
 * writes its sequence and keeps 1. */
#define GROUPS_PG_DEFAULT 4
#define HANDLERS_MAX      32
#define STATS_MS          100

typedef struct service_args {
	const char *url;
	const char *data;  /* an LMDB store in this directory, or */
	const char *store; /* a PostgreSQL database (a libpq URI) */
	const char *ready_file;
	unsigned workers;      /* 0 = the SDK's default */
	unsigned groups;       /* 0 = GROUPS_PG_DEFAULT (PostgreSQL) */
	const char *coord_url; /* NULL: barrier records are kept */
	unsigned grace_ms;     /* 0 = the SDK's default */
	bool journal;          /* record every applied call (test aid) */
	unsigned retry_pct;    /* RETRY answers injected (test aid) */
	unsigned long long chaos_seed;
	const char *stats_file; /* NULL: no counters written */
	dtx_tls_opts tls;       /* --tls-cert/-key/-ca (a tls+tcp:// --url) */
	bool use_tls;
} service_args;

/* chaos - what serve_cb needs, shared by every worker thread. */
typedef struct chaos {
	bool journal;
	atomic_uint retry_pct; /* set to 0 by SIGUSR1 */
	unsigned long long seed;
	atomic_ullong retries; /* RETRY answers injected */
} chaos;

/* handler_ctx - the argument serve_cb gets for one registered handler. */
typedef struct handler_ctx {
	const shop_handler *h; /* borrowed from the service's static table */
	chaos *c;
} handler_ctx;

static const char usage_text[] =
        "usage: dtx-shop-SERVICE --url URL (--data DIR | --store URI)\n"
        "       [--workers N] [--groups N] [--ready-file PATH]\n"
        "       [--coordinator URL [--barrier-grace-ms MS]]\n"
        "       [--journal] [--chaos-retry-pct P --chaos-seed S] "
        "[--stats-file PATH]\n"
        "       [--tls-cert FILE --tls-key FILE --tls-ca FILE]\n"
        "  --data DIR: the service's LMDB store in DIR; --store URI: its\n"
        "  tables and barrier in the PostgreSQL database of URI\n"
        "  (postgresql://...); --groups N: groups of calls it serves at\n"
        "  once, each on a connection of its own (default 4; 1 with\n"
        "  --journal)\n"
        "  --coordinator URL: remove barrier records of transactions the\n"
        "  coordinator says are final, once --barrier-grace-ms passed\n"
        "  (default 600000)\n"
        "  --tls-*: the service's certificate and key for a tls+tcp://\n"
        "  --url (also its client certificate to a tls+tcp://\n"
        "  --coordinator) and the CA its callers' certificates and dtxd's\n"
        "  chain to\n"
        "  --journal, --chaos-retry-pct, --stats-file: test aids for the\n"
        "  chaos harness (tests/chaos); SIGUSR1 stops the RETRY answers\n";

/* set_tls sets one of --tls-cert (C), --tls-key (K), --tls-ca (A). */
static void set_tls(service_args *a, int flag, const char *arg)
{
	if (!a->use_tls)
		dtx_tls_opts_init(&a->tls);
	a->use_tls = true;
	if (flag == 'C')
		a->tls.cert_file = arg;
	else if (flag == 'K')
		a->tls.key_file = arg;
	else
		a->tls.ca_file = arg;
}

static void parse_args(const char *prog, int argc, char **argv, service_args *a)
{
	static const struct option longopts[] = {
	        {"url", required_argument, NULL, 'u'},
	        {"data", required_argument, NULL, 'd'},
	        {"store", required_argument, NULL, 'o'},
	        {"workers", required_argument, NULL, 'w'},
	        {"groups", required_argument, NULL, 'G'},
	        {"ready-file", required_argument, NULL, 'r'},
	        {"coordinator", required_argument, NULL, 'c'},
	        {"barrier-grace-ms", required_argument, NULL, 'g'},
	        {"journal", no_argument, NULL, 'j'},
	        {"chaos-retry-pct", required_argument, NULL, 'p'},
	        {"chaos-seed", required_argument, NULL, 's'},
	        {"stats-file", required_argument, NULL, 'S'},
	        {"tls-cert", required_argument, NULL, 'C'},
	        {"tls-key", required_argument, NULL, 'K'},
	        {"tls-ca", required_argument, NULL, 'A'},
	        {NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (c == 'u')
			a->url = optarg;
		else if (c == 'd')
			a->data = optarg;
		else if (c == 'o')
			a->store = optarg;
		else if (c == 'r')
			a->ready_file = optarg;
		else if (c == 'c')
			a->coord_url = optarg;
		else if (c == 'j')
			a->journal = true;
		else if (c == 'S')
			a->stats_file = optarg;
		else if (c == 'C' || c == 'K' || c == 'A')
			set_tls(a, c, optarg);
		else if (c == 'p')
			a->retry_pct = (unsigned)shop_parse_uint(
			        prog, usage_text, "--chaos-retry-pct", optarg,
			        100);
		else if (c == 's')
			a->chaos_seed = shop_parse_uint(prog, usage_text,
			                                "--chaos-seed", optarg,
			                                ULONG_MAX);
		else if (c == 'g')
			a->grace_ms = (unsigned)shop_parse_uint(
			        prog, usage_text, "--barrier-grace-ms", optarg,
			        86400000u * 30u);
		else if (c == 'w')
			a->workers = (unsigned)shop_parse_uint(
			        prog, usage_text, "--workers", optarg,
			        WORKERS_MAX);
		else if (c == 'G')
			a->groups = (unsigned)shop_parse_uint(
			        prog, usage_text, "--groups", optarg,
			        GROUPS_MAX);
		else if (c == ':')
			shop_usage(prog, usage_text, "%s needs a value",
			           argv[optind - 1]);
		else
			shop_usage(prog, usage_text, "unknown option '%s'",
			           argv[optind - 1]);
	}
	if (optind < argc)
		shop_usage(prog, usage_text, "unexpected argument '%s'",
		           argv[optind]);
	if (a->url == NULL || (a->data == NULL) == (a->store == NULL))
		shop_usage(prog, usage_text,
		           "--url and one of --data or --store are required");
	/* libpq reads "" as "the environment's defaults": not a database */
	if (a->store != NULL && a->store[0] == '\0')
		shop_usage(prog, usage_text, "--store needs a URI");
}

static void log_cb(void *arg, dtx_log_level level, const char *msg)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};

	if (level <= DTX_LOG_WARN)
		fprintf(stderr, "%s %s: %s\n", (const char *)arg, names[level],
		        msg);
}

/* ---- shared rows ------------------------------------------------------ */

int shop_add_i64(dtx_txn *txn, const char *table, const char *key,
                 int64_t delta, int64_t floor, bool *ret_short)
{
	bool short_of = false;
	int err = dtx_txn_add_i64(txn, table, key, strlen(key), delta, floor,
	                          &short_of);

	if (ret_short != NULL)
		*ret_short = short_of;
	return err;
}

/* ---- the handler wrapper ----------------------------------------------- */

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* draws_retry decides, from the seed and the call, whether to answer it
 * RETRY: the same call gives the same draw, a resend a new one. */
static bool draws_retry(chaos *c, const dtx_call *call)
{
	unsigned pct = atomic_load(&c->retry_pct);
	uint64_t h = 0xcbf29ce484222325ull ^ c->seed;

	if (pct == 0)
		return false;
	for (const char *g = dtx_call_gid(call); *g != '\0'; g++)
		h = (h ^ (uint8_t)*g) * 0x100000001b3ull;
	h = mix64(h + dtx_call_branch(call) * 0x9e3779b97f4a7c15ull +
	          (uint64_t)dtx_call_op(call) * 0x632be59bd9b4e019ull +
	          dtx_call_attempt(call));
	return h % 100 < pct;
}

static dtx_status serve_cb(void *arg, dtx_call *call)
{
	const handler_ctx *hc = arg;
	dtx_status st;
	int err;

	if (draws_retry(hc->c, call)) {
		atomic_fetch_add(&hc->c->retries, 1);
		(void)dtx_call_set_message(call, "chaos: transient, retry");
		return DTX_STATUS_RETRY;
	}
	st = hc->h->fn(NULL, call);
	if (st != DTX_STATUS_OK || !hc->c->journal)
		return st;
	err = shop_journal_record(dtx_call_txn(call), call);
	return err == DTX_OK ? st : shop_store_failed(call, err);
}

/* write_stats writes the counters of part to path (through a rename). */
static void write_stats(const char *path, const dtx_participant *part, chaos *c)
{
	char tmp[PATH_MAX];
	dtx_participant_stats st;
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return;
	dtx_participant_get_stats(part, &st);
	f = fopen(tmp, "w");
	if (f == NULL)
		return;
	fprintf(f,
	        "calls %llu\napplied %llu\nreplayed %llu\n"
	        "null_compensations %llu\nlate_refused %llu\nretries %llu\n"
	        "chaos_retries %llu\n",
	        (unsigned long long)st.calls, (unsigned long long)st.applied,
	        (unsigned long long)st.replayed,
	        (unsigned long long)st.null_compensations,
	        (unsigned long long)st.late_refused,
	        (unsigned long long)st.retries,
	        (unsigned long long)atomic_load(&c->retries));
	if (fclose(f) == 0)
		(void)rename(tmp, path);
}

/* wait_for_stop waits for SIGTERM/SIGINT; SIGUSR1 turns the RETRY answers
 * off; the counters are written every STATS_MS. */
static void wait_for_stop(const service_args *a, const sigset_t *stop,
                          const dtx_participant *part, chaos *c)
{
	struct timespec tick = {0, STATS_MS * 1000000L};
	int sig;

	for (;;) {
		sig = sigtimedwait(stop, NULL, &tick);
		if (a->stats_file != NULL)
			write_stats(a->stats_file, part, c);
		if (sig == SIGUSR1)
			atomic_store(&c->retry_pct, 0);
		else if (sig == SIGTERM || sig == SIGINT)
			return;
	}
}

/* open_store opens the service's store: LMDB in a->data, or the
 * PostgreSQL database of a->store (the same tables, through dtx_kv). */
static int open_store(const shop_service *svc, const service_args *a,
                      dtx_store **ret_store)
{
	dtx_store_opts opts;

	dtx_store_opts_init(&opts);
	opts.ntables = shop_service_tables(svc->id, &opts.tables);
	opts.groups = a->groups ? a->groups : GROUPS_PG_DEFAULT;
	if (a->journal)
		opts.groups = 1;
	if (a->store != NULL)
		return dtx_store_open_pg(a->store, &opts, ret_store);
	return dtx_store_open(a->data, &opts, ret_store);
}

/* build_participant registers every handler of svc through serve_cb
 * with its context in ctx (retained: one per handler, HANDLERS_MAX). */
static int build_participant(const shop_service *svc, const service_args *a,
                             dtx_store *store, handler_ctx *ctx, chaos *c,
                             dtx_participant **ret_part)
{
	dtx_participant_opts popts;
	dtx_participant *part;
	int err;

	if (svc->nhandlers > HANDLERS_MAX)
		return DTX_ELIMIT;
	dtx_participant_opts_init(&popts);
	popts.url = a->url;
	popts.tls = a->use_tls ? &a->tls : NULL;
	if (a->workers > 0)
		popts.workers = a->workers;
	err = dtx_participant_create(&popts, &part);
	for (size_t i = 0; err == DTX_OK && i < svc->nhandlers; i++) {
		ctx[i] = (handler_ctx){&svc->handlers[i], c};
		err = dtx_participant_register(part, svc->handlers[i].name,
		                               serve_cb, &ctx[i]);
	}
	if (err == DTX_OK)
		err = dtx_participant_set_store(part, store);
	if (err == DTX_OK && a->coord_url != NULL)
		err = dtx_participant_set_barrier_gc(part, a->coord_url,
		                                     a->grace_ms, 0);
	if (err == DTX_OK)
		err = dtx_participant_start(part);
	if (err != DTX_OK) {
		dtx_participant_destroy(part);
		return err;
	}
	*ret_part = part;
	return DTX_OK;
}

/* serve runs the service until a stop signal. Returns the exit status. */
static int serve(const char *prog, const shop_service *svc,
                 const service_args *a, const sigset_t *stop)
{
	static handler_ctx ctx[HANDLERS_MAX];
	static chaos c;
	dtx_store *store = NULL;
	dtx_participant *part = NULL;
	int err, status = EXIT_FAILURE;

	c.journal = a->journal;
	c.seed = a->chaos_seed;
	atomic_store(&c.retry_pct, a->retry_pct);
	err = open_store(svc, a, &store);
	if (err != DTX_OK) {
		/* the URI may hold a password: not printed (the SDK's log
		 * line names the database) */
		fprintf(stderr, "%s: store %s: %s\n", prog,
		        a->data != NULL ? a->data : "postgresql",
		        dtx_strerror(err));
		goto out;
	}
	err = build_participant(svc, a, store, ctx, &c, &part);
	if (err != DTX_OK) {
		fprintf(stderr, "%s: serve on %s: %s\n", prog, a->url,
		        dtx_strerror(err));
		goto out;
	}
	if (a->ready_file != NULL && shop_write_ready_file(a->ready_file)) {
		fprintf(stderr, "%s: ready file %s: %s\n", prog, a->ready_file,
		        strerror(errno));
		goto out;
	}
	wait_for_stop(a, stop, part, &c);
	status = EXIT_SUCCESS;
out:
	dtx_participant_destroy(part);
	dtx_store_close(store);
	return status;
}

int shop_service_main(const shop_service *svc, int argc, char **argv)
{
	char prog[32];
	service_args a = {0};
	sigset_t stop;

	snprintf(prog, sizeof(prog), "dtx-shop-%s", shop_service_name(svc->id));
	parse_args(prog, argc, argv, &a);
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	dtx_set_log_cb(log_cb, prog);
	dtx_set_log_level(DTX_LOG_WARN); /* what log_cb prints */
	return serve(prog, svc, &a, &stop);
}
