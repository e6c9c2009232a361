/*
 * saga_bench.c - the coordinator's own overhead: a closed loop of sagas
 * whose steps do nothing. C submissions stay in flight; each answer (the
 * saga final) submits the next one from the SDK thread that delivered it.
 * The steps call a participant that answers OK without touching a disk
 * (dtx-sample-participant without --data or --journal), so what remains is
 * dtxd's durable log and the RPCs: one submit round trip plus one branch
 * call per step.
 *
 *   saga_bench --url COORDINATOR --participant URL --concurrency C
 *              --duration-s S [--steps N] [--handler NAME] [--pids PID,...]
 *              [--json FILE] [--label NAME]
 *
 * Each step calls NAME.do (compensation NAME.undo) on the participant;
 * each submission builds its saga anew, as an application would, and lets
 * dtxd make the gid.
 * The report (bench_common.h) counts committed sagas as ok and anything
 * else - a client error, a saga compensated or not final in time - as a
 * non-business failure; its check passes when every answered saga
 * committed.
 *
 * Uses only the public header <dtx/dtx.h>. Never prints but errors and
 * the report; every wait is bounded by the duration plus WAIT_MS.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dtx/dtx.h>

#include "bench_common.h"

#define WAIT_MS         30000 /* one saga's answer (submit wait_ms) */
#define TRANSPORT_MS    40000 /* the client's per-request deadline */
#define CONCURRENCY_MAX 60000u
#define STEPS_MAX       64u
#define DURATION_MAX    3600u
#define EXIT_USAGE      64

typedef struct opts {
	const char *url, *participant, *handler, *json, *label;
	unsigned concurrency, duration_s, steps;
	bench_pids pids;
} opts;

typedef struct run run;

/* slot - one submission in flight; the callback argument. */
typedef struct slot {
	run *r;
	int64_t start_ns;
} slot;

struct run {
	const opts *o;
	dtx_client *client;
	pthread_mutex_t mu;
	unsigned active; /* slots still looping */
	int64_t stop_ns, first_ns, last_ns;
	uint64_t answered, committed, failed;
	char first_failure[300];
	bench_lat lat;
};

static int build_saga(const opts *o, dtx_saga **ret_saga)
{
	char action[DTX_HANDLER_MAX + 1], undo[DTX_HANDLER_MAX + 1];
	dtx_saga *saga;
	int err;

	snprintf(action, sizeof(action), "%s.do", o->handler);
	snprintf(undo, sizeof(undo), "%s.undo", o->handler);
	err = dtx_saga_create(NULL, &saga);
	for (unsigned i = 0; err == DTX_OK && i < o->steps; i++)
		err = dtx_saga_add_step(saga, o->participant, action, undo,
		                        NULL, 0, 0);
	if (err != DTX_OK) {
		dtx_saga_destroy(saga);
		return err;
	}
	*ret_saga = saga;
	return DTX_OK;
}

/* note records one answer; lock held by the caller. */
static void note(run *r, const slot *s, int err, const dtx_tx_info *info)
{
	int64_t t = bench_now_ns();

	r->answered++;
	bench_lat_add(&r->lat, (double)(t - s->start_ns) / 1e6);
	if (t > r->last_ns)
		r->last_ns = t;
	if (err == DTX_OK && info->state == DTX_TX_COMMITTED) {
		r->committed++;
		return;
	}
	r->failed++;
	if (r->first_failure[0] == '\0')
		snprintf(r->first_failure, sizeof(r->first_failure), "%s",
		         err != DTX_OK ? dtx_strerror(err)
		                       : dtx_tx_state_name(info->state));
}

static void retire(run *r)
{
	pthread_mutex_lock(&r->mu);
	r->active--;
	pthread_mutex_unlock(&r->mu);
}

static void done_cb(void *arg, int err, const dtx_tx_info *info);

/* submit starts the next saga on s, or retires s when the run is over.
 * A submission refused at once counts as a failure and retires s. */
static void submit(slot *s)
{
	run *r = s->r;
	dtx_saga *saga;
	int err;

	if (bench_now_ns() >= r->stop_ns) {
		retire(r);
		return;
	}
	s->start_ns = bench_now_ns();
	err = build_saga(r->o, &saga);
	if (err == DTX_OK) {
		err = dtx_client_submit_async(r->client, saga, WAIT_MS, done_cb,
		                              s);
		dtx_saga_destroy(saga);
	}
	if (err == DTX_OK)
		return;
	pthread_mutex_lock(&r->mu);
	note(r, s, err, NULL);
	pthread_mutex_unlock(&r->mu);
	retire(r);
}

static void done_cb(void *arg, int err, const dtx_tx_info *info)
{
	slot *s = arg;

	pthread_mutex_lock(&s->r->mu);
	note(s->r, s, err, info);
	pthread_mutex_unlock(&s->r->mu);
	if (err == DTX_ECLOSED) {
		retire(s->r);
		return;
	}
	submit(s);
}

static unsigned active_slots(run *r)
{
	unsigned n;

	pthread_mutex_lock(&r->mu);
	n = r->active;
	pthread_mutex_unlock(&r->mu);
	return n;
}

static int report(run *r, double cpu_ms)
{
	char check[400];
	bench_report rep = {.system = r->o->label,
	                    .concurrency = r->o->concurrency,
	                    .answered = r->answered,
	                    .ok = r->committed,
	                    .non_business = r->failed,
	                    .elapsed_s =
	                            (double)(r->last_ns - r->first_ns) / 1e9,
	                    .cpu_ms = cpu_ms,
	                    .invariants_ok = r->failed == 0 && r->committed > 0,
	                    .check = check};

	snprintf(check, sizeof(check),
	         "%llu of %llu sagas committed (%u steps each)%s%s",
	         (unsigned long long)r->committed,
	         (unsigned long long)r->answered, r->o->steps,
	         r->first_failure[0] != '\0' ? "; first failure: " : "",
	         r->first_failure);
	if (bench_report_write(r->o->json, &rep, &r->lat) != 0) {
		perror("saga_bench: report");
		return 1;
	}
	return 0;
}

static int run_sagas(const opts *o)
{
	run r = {.o = o, .active = o->concurrency};
	slot *slots = calloc(o->concurrency, sizeof(*slots));
	dtx_client_opts copts;
	int64_t limit;
	double cpu0;
	int err, rc;

	pthread_mutex_init(&r.mu, NULL);
	dtx_client_opts_init(&copts);
	copts.timeout_ms = TRANSPORT_MS;
	err = slots == NULL ? DTX_ENOMEM
	                    : dtx_client_open(o->url, &copts, &r.client);
	if (err != DTX_OK) {
		fprintf(stderr, "saga_bench: %s\n", dtx_strerror(err));
		return 1;
	}
	cpu0 = bench_cpu_ms(&o->pids);
	r.first_ns = r.last_ns = bench_now_ns();
	r.stop_ns = r.first_ns + (int64_t)o->duration_s * 1000000000;
	for (unsigned i = 0; i < o->concurrency; i++) {
		slots[i].r = &r;
		submit(&slots[i]);
	}
	limit = r.stop_ns + (int64_t)(WAIT_MS + 5000) * 1000000;
	while (active_slots(&r) > 0 && bench_now_ns() < limit)
		bench_sleep_ms(10);
	rc = report(&r, bench_cpu_ms(&o->pids) - cpu0);
	dtx_client_close(r.client); /* ends anything still in flight */
	bench_lat_fini(&r.lat);
	free(slots);
	return rc;
}

/* ---- command line ------------------------------------------------------ */

static __attribute__((noreturn)) void usage(const char *why)
{
	fprintf(stderr,
	        "saga_bench: %s\nusage: saga_bench --url COORDINATOR "
	        "--participant URL --concurrency C --duration-s S [--steps N] "
	        "[--handler NAME] [--pids PID,...] [--json FILE] "
	        "[--label NAME]\n",
	        why);
	exit(EXIT_USAGE);
}

/* flag_uint is bench_flag_num for an unsigned flag. */
static unsigned flag_uint(const char *name, unsigned lo, unsigned hi)
{
	return (unsigned)bench_flag_num("saga_bench", name, optarg, lo, hi);
}

static void parse(int argc, char **argv, opts *o)
{
	static const struct option longs[] = {
	        {"url", required_argument, NULL, 'u'},
	        {"participant", required_argument, NULL, 'P'},
	        {"concurrency", required_argument, NULL, 'c'},
	        {"duration-s", required_argument, NULL, 'd'},
	        {"steps", required_argument, NULL, 's'},
	        {"handler", required_argument, NULL, 'H'},
	        {"pids", required_argument, NULL, 'p'},
	        {"json", required_argument, NULL, 'j'},
	        {"label", required_argument, NULL, 'l'},
	        {NULL, 0, NULL, 0}};
	int ch;

	while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (ch) {
		case 'u':
			o->url = optarg;
			break;
		case 'P':
			o->participant = optarg;
			break;
		case 'c':
			o->concurrency =
			        flag_uint("--concurrency", 1, CONCURRENCY_MAX);
			break;
		case 'd':
			o->duration_s =
			        flag_uint("--duration-s", 1, DURATION_MAX);
			break;
		case 's':
			o->steps = flag_uint("--steps", 1, STEPS_MAX);
			break;
		case 'H':
			o->handler = optarg;
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
	if (o->url == NULL || o->participant == NULL || o->concurrency == 0 ||
	    o->duration_s == 0 || optind != argc)
		usage("--url, --participant, --concurrency and --duration-s "
		      "are required");
}

int main(int argc, char **argv)
{
	opts o = {.steps = 2, .handler = "p", .json = "-", .label = "saga"};

	parse(argc, argv, &o);
	return run_sagas(&o);
}
