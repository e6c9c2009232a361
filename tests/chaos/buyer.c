/*
 * buyer.c - the workload process (see buyer.h).
 *
 * Threads: BUYER threads share one dtx_client (thread-safe) and the
 * history fd (one write per line); each draws its purchases from its own
 * splitmix64 stream (seed + thread index). The main thread only waits for
 * SIGTERM or the time limit, sets the stop flag and joins. Nothing is
 * shared but the stop flag and the gid counter, both atomics.
 *
 * The client. One dtx_client for the process's whole life: libdtx
 * replaces a lost or silent connection itself (participant-sdk/link.c),
 * so the buyer never reopens it (it used to, after nng 1.5.2 left its
 * client without a connection for minutes; see README "What it found").
 * A submit, commit or abort that got no answer (unreachable, deadline
 * passed) is asked about by its gid until it is decided, as an
 * application would.
 *
 * What a buyer is told, by the state in the answer it got:
 *   COMMITTED, CONFIRMING              committed (confirming is decided)
 *   COMPENSATING, COMPENSATED,
 *   CANCELLING, CANCELLED              rolled-back (decided too)
 *   RUNNING                            asked again (bounded), else unknown
 *   an error                           unknown
 */
#include "buyer.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "history.h"
#include "seed.h"

#define THREADS_MAX  256
#define SUBMIT_WAIT  8000  /* ms dtxd may hold an answer for the outcome */
#define FINAL_WAIT   25000 /* ms a buyer asks again until it is final */
#define TRY_TIMEOUT  1500  /* ms of one TCC Try */
#define CLIENT_SLACK 5000
#define PER_THREAD   1000000u
#define EXIT_USAGE   64

/* The five saga steps and the four TCC branches (examples/shop). */
static const struct {
	int svc;
	const char *action, *compensate;
} saga_steps[] = {
        {SHOP_SVC_ORDER, "order.create", "order.cancel"},
        {SHOP_SVC_INVENTORY, "inventory.deduct", "inventory.restock"},
        {SHOP_SVC_PAYMENT, "payment.charge", "payment.refund"},
        {SHOP_SVC_DELIVERY, "delivery.issue", "delivery.revoke"},
        {SHOP_SVC_ORDER, "order.complete", "order.cancel"},
};

static const struct {
	int svc;
	const char *try_h, *confirm_h, *cancel_h;
} tcc_branches[] = {
        {SHOP_SVC_ORDER, "order.try", "order.confirm", "order.cancel"},
        {SHOP_SVC_INVENTORY, "inventory.try", "inventory.confirm",
         "inventory.cancel"},
        {SHOP_SVC_PAYMENT, "payment.try", "payment.confirm", "payment.cancel"},
        {SHOP_SVC_DELIVERY, "delivery.try", "delivery.confirm",
         "delivery.cancel"},
};

#define NSTEPS    (sizeof(saga_steps) / sizeof(saga_steps[0]))
#define NBRANCHES (sizeof(tcc_branches) / sizeof(tcc_branches[0]))

typedef struct buyer_args {
	const char *dtxd_url;
	const char *svc_url[CHAOS_NSVC];
	const char *history;
	const char *prefix;
	const char *sku;
	unsigned threads, buyers, price, max_s, reserve_ms, abandon_pct;
	unsigned mix[MODE_COUNT]; /* weights */
	unsigned long long seed;
} buyer_args;

typedef struct workload {
	const buyer_args *a;
	int hist_fd;
	atomic_bool stop;
	atomic_uint next;
	int64_t end_ms;
	dtx_client *client; /* shared by every thread, for the whole run */
} workload;

typedef struct worker {
	workload *w;
	unsigned index;
	pthread_t thread;
	dtx_tx_info info;
	dtx_try_result tr;
} worker;

/* ---- the client ------------------------------------------------------- */

static dtx_client *client_of(workload *w)
{
	return w->client;
}

static int open_client(workload *w)
{
	dtx_client_opts copts;

	dtx_client_opts_init(&copts);
	copts.timeout_ms = SUBMIT_WAIT + CLIENT_SLACK;
	return dtx_client_open(w->a->dtxd_url, &copts, &w->client);
}

/* is_unanswered tells whether err means dtxd's answer never came (the
 * request may or may not have reached it). */
static bool is_unanswered(int err)
{
	return err == DTX_ETIMEDOUT || err == DTX_EUNREACHABLE;
}

/* ---- what the buyer is told -------------------------------------------- */

static void set_detail(hist_rec *r, const char *a, const char *b)
{
	snprintf(r->detail, sizeof(r->detail), "%s%s%s", a, b ? ": " : "",
	         b ? b : "");
	for (char *c = r->detail; *c != '\0'; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
}

/* tell sets r->t from a state; false if it is not decided yet. */
static bool tell(hist_rec *r, const dtx_tx_info *info)
{
	switch (info->state) {
	case DTX_TX_COMMITTED:
	case DTX_TX_CONFIRMING:
		r->t = TOLD_COMMITTED;
		break;
	case DTX_TX_COMPENSATING:
	case DTX_TX_COMPENSATED:
	case DTX_TX_CANCELLING:
	case DTX_TX_CANCELLED:
		r->t = TOLD_ROLLED_BACK;
		break;
	default:
		return false;
	}
	set_detail(r, dtx_tx_state_name(info->state),
	           info->reason[0] ? info->reason : NULL);
	return true;
}

/* await asks for gid until its outcome is decided or FINAL_WAIT passed. */
static void await(worker *wk, hist_rec *r)
{
	int64_t limit = chaos_now_ms() + FINAL_WAIT;
	int err = DTX_OK;

	for (int i = 0; i < 1000 && chaos_now_ms() < limit; i++) {
		err = dtx_client_query(client_of(wk->w), r->gid, SUBMIT_WAIT,
		                       &wk->info);
		if (err == DTX_OK && tell(r, &wk->info))
			return;
		if (err != DTX_OK)
			chaos_sleep_ms(200); /* dtxd down: do not spin */
	}
	r->t = TOLD_UNKNOWN;
	set_detail(r, "not decided in time",
	           err != DTX_OK ? dtx_strerror(err) : NULL);
}

/* answered classifies the answer (err, wk->info) of a submit or a
 * commit/abort. One that never came is asked about by gid (a submit of a
 * gid that dtxd never got stays unknown: the query answers "no such
 * transaction" until FINAL_WAIT). */
static void answered(worker *wk, hist_rec *r, int err, const char *what)
{
	if (is_unanswered(err)) {
		await(wk, r);
		return;
	}
	if (err != DTX_OK) {
		r->t = TOLD_UNKNOWN;
		set_detail(r, what, dtx_strerror(err));
		return;
	}
	if (!tell(r, &wk->info))
		await(wk, r);
}

/* ---- the three kinds of purchase --------------------------------------- */

static size_t record_of(const workload *w, const hist_rec *r, char *buf,
                        size_t len)
{
	shop_purchase p = {.qty = r->qty, .price = w->a->price};

	snprintf(p.order, sizeof(p.order), "%s", r->gid);
	seed_buyer_id(r->buyer, p.buyer, sizeof(p.buyer));
	snprintf(p.sku, sizeof(p.sku), "%s", w->a->sku);
	return shop_purchase_format(&p, buf, len);
}

static void buy_saga(worker *wk, hist_rec *r, const char *rec, size_t len)
{
	const buyer_args *a = wk->w->a;
	dtx_saga *saga = NULL;
	int err = dtx_saga_create(r->gid, &saga);

	for (size_t i = 0; err == DTX_OK && i < NSTEPS; i++)
		err = dtx_saga_add_step(saga, a->svc_url[saga_steps[i].svc],
		                        saga_steps[i].action,
		                        saga_steps[i].compensate, rec, len, 0);
	if (err == DTX_OK)
		err = dtx_client_submit(client_of(wk->w), saga, SUBMIT_WAIT,
		                        &wk->info);
	dtx_saga_destroy(saga);
	answered(wk, r, err, "submit");
}

static void buy_tcc_sub(worker *wk, hist_rec *r, const char *rec, size_t len)
{
	const buyer_args *a = wk->w->a;
	dtx_tcc *tcc = NULL;
	int err = dtx_tcc_create(r->gid, &tcc);

	for (size_t i = 0; err == DTX_OK && i < NBRANCHES; i++)
		err = dtx_tcc_add_branch(tcc, a->svc_url[tcc_branches[i].svc],
		                         tcc_branches[i].try_h,
		                         tcc_branches[i].confirm_h,
		                         tcc_branches[i].cancel_h, rec, len, 0);
	if (err == DTX_OK)
		err = dtx_tcc_set_deadline(tcc, a->reserve_ms);
	if (err == DTX_OK)
		err = dtx_client_submit_tcc(client_of(wk->w), tcc, SUBMIT_WAIT,
		                            &wk->info);
	dtx_tcc_destroy(tcc);
	answered(wk, r, err, "submit");
}

/* tries makes the four Tries; false (detail set) at the first that is
 * not answered OK. */
static bool tries(worker *wk, dtx_tcc_tx *tx, hist_rec *r, const char *rec,
                  size_t len)
{
	const buyer_args *a = wk->w->a;

	for (size_t i = 0; i < NBRANCHES; i++) {
		int err = dtx_tcc_try(tx, a->svc_url[tcc_branches[i].svc],
		                      tcc_branches[i].try_h,
		                      tcc_branches[i].confirm_h,
		                      tcc_branches[i].cancel_h, rec, len,
		                      TRY_TIMEOUT, &wk->tr);

		if (err != DTX_OK) {
			set_detail(r, tcc_branches[i].try_h, dtx_strerror(err));
			return false;
		}
		if (wk->tr.status != DTX_STATUS_OK) {
			set_detail(r, tcc_branches[i].try_h,
			           wk->tr.message[0] ? wk->tr.message
			                             : "not OK");
			return false;
		}
	}
	return true;
}

static void buy_tcc(worker *wk, hist_rec *r, const char *rec, size_t len,
                    uint64_t *rng)
{
	dtx_tcc_tx *tx = NULL;
	char why[sizeof(r->detail)];
	int err = dtx_tcc_begin(client_of(wk->w), r->gid, wk->w->a->reserve_ms,
	                        &tx);

	if (err != DTX_OK) {
		answered(wk, r, err, "begin");
		return;
	}
	if (!tries(wk, tx, r, rec, len)) {
		snprintf(why, sizeof(why), "%s", r->detail);
		err = dtx_tcc_abort(tx, why, SUBMIT_WAIT, &wk->info);
		answered(wk, r, err, "abort");
	} else if (chaos_rng_below(rng, 100) < wk->w->a->abandon_pct) {
		r->t = TOLD_ABANDONED;
		set_detail(r, "walked away after the Tries", NULL);
	} else {
		r->commit_sent = true;
		err = dtx_tcc_commit(tx, SUBMIT_WAIT, &wk->info);
		answered(wk, r, err, "commit");
	}
	dtx_tcc_tx_destroy(tx);
}

/* ---- the threads ------------------------------------------------------- */

static chaos_mode pick_mode(const buyer_args *a, uint64_t *rng)
{
	unsigned total = 0, x;

	for (int m = 0; m < MODE_COUNT; m++)
		total += a->mix[m];
	x = (unsigned)chaos_rng_below(rng, total ? total : 1);
	for (int m = 0; m < MODE_COUNT; m++) {
		if (x < a->mix[m])
			return (chaos_mode)m;
		x -= a->mix[m];
	}
	return MODE_SAGA;
}

static void purchase(worker *wk, uint64_t *rng)
{
	static const char letter[MODE_COUNT] = {'s', 't', 'u'};
	const buyer_args *a = wk->w->a;
	hist_rec r = {.t = TOLD_UNKNOWN};
	char rec[SHOP_RECORD_MAX];
	int64_t start = chaos_now_ms();
	size_t len;

	r.mode = pick_mode(a, rng);
	r.buyer = (unsigned)chaos_rng_below(rng, a->buyers);
	r.qty = chaos_rng_below(rng, 10) == 0 ? 2 : 1;
	snprintf(r.gid, sizeof(r.gid), "%s%c%07u", a->prefix, letter[r.mode],
	         atomic_fetch_add(&wk->w->next, 1));
	len = record_of(wk->w, &r, rec, sizeof(rec));
	if (r.mode == MODE_SAGA)
		buy_saga(wk, &r, rec, len);
	else if (r.mode == MODE_TCC_SUB)
		buy_tcc_sub(wk, &r, rec, len);
	else
		buy_tcc(wk, &r, rec, len, rng);
	r.ms = (unsigned)(chaos_now_ms() - start);
	r.end_unix_ms = chaos_unix_ms();
	if (history_write(wk->w->hist_fd, &r) != 0)
		fprintf(stderr, "buyer: history: %s\n", strerror(errno));
}

static void *worker_main(void *arg)
{
	worker *wk = arg;
	uint64_t rng = wk->w->a->seed * 1000003u + wk->index;

	for (unsigned i = 0; i < PER_THREAD && !atomic_load(&wk->w->stop) &&
	                     chaos_now_ms() < wk->w->end_ms;
	     i++)
		purchase(wk, &rng);
	return NULL;
}

/* ---- flags and main ---------------------------------------------------- */

static const char usage_text[] =
        "usage: dtx-chaos buyer --dtxd URL --svc URL (x4: order, inventory,\n"
        "       payment, delivery) --history FILE --prefix P --buyers N\n"
        "       --sku SKU --price CENTS [--threads 48] [--max-s 300]\n"
        "       [--reserve-ms 4000] [--abandon-pct 5] [--mix 40,40,20]\n"
        "       [--seed 1]\n";

static void parse_mix(const char *s, buyer_args *a)
{
	if (sscanf(s, "%u,%u,%u", &a->mix[0], &a->mix[1], &a->mix[2]) != 3 ||
	    a->mix[0] + a->mix[1] + a->mix[2] == 0)
		shop_usage("dtx-chaos buyer", usage_text, "bad --mix '%s'", s);
}

static void parse_args(int argc, char **argv, buyer_args *a)
{
	static const struct option opts[] = {
	        {"dtxd", required_argument, NULL, 'd'},
	        {"svc", required_argument, NULL, 'v'},
	        {"history", required_argument, NULL, 'h'},
	        {"prefix", required_argument, NULL, 'p'},
	        {"buyers", required_argument, NULL, 'b'},
	        {"sku", required_argument, NULL, 'k'},
	        {"price", required_argument, NULL, 'P'},
	        {"threads", required_argument, NULL, 't'},
	        {"max-s", required_argument, NULL, 'm'},
	        {"reserve-ms", required_argument, NULL, 'r'},
	        {"abandon-pct", required_argument, NULL, 'a'},
	        {"mix", required_argument, NULL, 'x'},
	        {"seed", required_argument, NULL, 's'},
	        {NULL, 0, NULL, 0},
	};
	const char *prog = "dtx-chaos buyer";
	unsigned nsvc = 0;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == 'd')
			a->dtxd_url = optarg;
		else if (c == 'v' && nsvc < CHAOS_NSVC)
			a->svc_url[nsvc++] = optarg;
		else if (c == 'h')
			a->history = optarg;
		else if (c == 'p')
			a->prefix = optarg;
		else if (c == 'k')
			a->sku = optarg;
		else if (c == 'x')
			parse_mix(optarg, a);
		else if (c == 'b')
			a->buyers = (unsigned)shop_parse_uint(
			        prog, usage_text, "--buyers", optarg, 1000000);
		else if (c == 'P')
			a->price = (unsigned)shop_parse_uint(
			        prog, usage_text, "--price", optarg, 1000000);
		else if (c == 't')
			a->threads = (unsigned)shop_parse_uint(
			        prog, usage_text, "--threads", optarg,
			        THREADS_MAX);
		else if (c == 'm')
			a->max_s = (unsigned)shop_parse_uint(
			        prog, usage_text, "--max-s", optarg, 86400 * 7);
		else if (c == 'r')
			a->reserve_ms = (unsigned)shop_parse_uint(
			        prog, usage_text, "--reserve-ms", optarg,
			        600000);
		else if (c == 'a')
			a->abandon_pct = (unsigned)shop_parse_uint(
			        prog, usage_text, "--abandon-pct", optarg, 100);
		else if (c == 's')
			a->seed = shop_parse_uint(prog, usage_text, "--seed",
			                          optarg, ~0ul);
		else
			shop_usage(prog, usage_text, "bad option '%s'",
			           argv[optind - 1]);
	}
	if (a->dtxd_url == NULL || nsvc != CHAOS_NSVC || a->history == NULL ||
	    a->prefix == NULL || a->sku == NULL || a->buyers == 0 ||
	    a->threads == 0)
		shop_usage(prog, usage_text, "missing flags");
}

static void wait_stop(workload *w, const sigset_t *set)
{
	struct timespec tick = {0, 200000000L};

	while (chaos_now_ms() < w->end_ms && !atomic_load(&w->stop)) {
		int sig = sigtimedwait(set, NULL, &tick);

		if (sig == SIGTERM || sig == SIGINT)
			break;
	}
	atomic_store(&w->stop, true);
}

static int run(const buyer_args *a, const sigset_t *set)
{
	static worker workers[THREADS_MAX];
	static workload w;
	unsigned started = 0;
	int err;

	w.a = a;
	w.end_ms = chaos_now_ms() + (int64_t)a->max_s * 1000;
	w.hist_fd = open(a->history, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	                 0644);
	err = w.hist_fd < 0 ? DTX_EIO : open_client(&w);
	if (err != DTX_OK) {
		fprintf(stderr, "buyer: start: %s\n", dtx_strerror(err));
		return 1;
	}
	for (unsigned i = 0; i < a->threads; i++) {
		workers[i] = (worker){.w = &w, .index = i};
		if (pthread_create(&workers[i].thread, NULL, worker_main,
		                   &workers[i]) != 0)
			break;
		started++;
	}
	wait_stop(&w, set);
	for (unsigned i = 0; i < started; i++)
		pthread_join(workers[i].thread, NULL);
	dtx_client_close(w.client); /* bounded whatever nng does */
	fsync(w.hist_fd);
	close(w.hist_fd);
	fprintf(stderr, "buyer: %u purchases\n", atomic_load(&w.next));
	return started == a->threads ? 0 : 1;
}

int buyer_main(int argc, char **argv)
{
	buyer_args a = {.threads = 48,
	                .max_s = 300,
	                .reserve_ms = 4000,
	                .abandon_pct = 5,
	                .mix = {40, 40, 20},
	                .seed = 1};
	sigset_t set;

	parse_args(argc, argv, &a);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	return run(&a, &set);
}
