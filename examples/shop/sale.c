/*
 * sale.c - the flash sale's load loop in saga mode, and what both modes
 * share (see sale.h; the TCC mode is sale_tcc.c).
 *
 * Threads: the caller's thread starts the first `concurrency` purchases
 * and waits; every later purchase is started by the SDK thread that
 * completes the previous one (dtx_done_fn may call the client again).
 * Everything shared - the next buyer, the slots in flight, the counters
 * and the latency array - is guarded by one mutex, held only to pick a
 * buyer or to record an answer, never across an SDK call.
 *
 * Every loop is bounded: by the number of buyers, by the number of
 * undecided purchases, and by deadlines derived from the duration and
 * SALE_WAIT_MS.
 */
#include "sale.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TRANSPORT_SLACK_MS 10000 /* client deadline beyond SALE_WAIT_MS */
#define SETTLE_MS          60000 /* all settling queries together */
#define SETTLE_ONE_MS      10000 /* one settling query */
#define TICK_MS            100   /* the waiting thread's wake-up period */

typedef struct sale sale;

/* purchase - one buyer's attempt; the callback argument. */
typedef struct purchase {
	sale *s;
	unsigned buyer;
	int64_t start_ns;
} purchase;

struct sale {
	const sale_config *cfg;
	dtx_client *client;
	purchase *purchases; /* one per buyer */
	double *lat_ms;      /* latencies of answered purchases */
	int64_t *lat_start;  /* and when each started (the failover aid) */
	unsigned *undecided; /* buyers whose purchase was not final */
	pthread_mutex_t mu;
	pthread_cond_t cv; /* signalled when inflight drops to 0 */
	unsigned next;     /* the next buyer to go */
	unsigned inflight; /* launch slots in use */
	size_t nlat, nundecided;
	int64_t stop_ns; /* no purchase starts after this */
	int64_t first_ns, last_ns;
	int64_t kill_ns; /* when the failover aid killed (0: not yet) */
	sale_result res;
};

/* The five steps of a purchase, in order (see README.md). */
static const struct {
	shop_service_id svc;
	const char *action, *compensate;
} steps[] = {
        {SHOP_SVC_ORDER, "order.create", "order.cancel"},
        {SHOP_SVC_INVENTORY, "inventory.deduct", "inventory.restock"},
        {SHOP_SVC_PAYMENT, "payment.charge", "payment.refund"},
        {SHOP_SVC_DELIVERY, "delivery.issue", "delivery.revoke"},
        {SHOP_SVC_ORDER, "order.complete", "order.cancel"},
};

#define NSTEPS (sizeof(steps) / sizeof(steps[0]))

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void sale_gid_of(unsigned buyer, char *out, size_t len)
{
	snprintf(out, len, "order-%07u", buyer);
}

const char *sale_mode_name(sale_mode mode)
{
	return mode == SALE_MODE_TCC ? "tcc" : "saga";
}

uint64_t sale_expired(const sale_result *r)
{
	return r->abandoned + r->late;
}

uint64_t sale_compensated(const sale_result *r)
{
	return r->out_of_stock + r->insufficient + r->other_refusal;
}

uint64_t sale_non_business(const sale_result *r)
{
	return r->client_errors + r->undecided + r->other_refusal;
}

/* ---- one purchase ------------------------------------------------------ */

static int build_saga(const sale *s, unsigned buyer, dtx_saga **ret_saga)
{
	shop_purchase p = {.qty = 1, .price = s->cfg->init->price};
	char record[SHOP_RECORD_MAX];
	size_t len;
	dtx_saga *saga;
	int err;

	sale_gid_of(buyer, p.order, sizeof(p.order));
	seed_buyer_id(buyer, p.buyer, sizeof(p.buyer));
	snprintf(p.sku, sizeof(p.sku), "%s", s->cfg->init->sku);
	len = shop_purchase_format(&p, record, sizeof(record));
	err = dtx_saga_create(p.order, &saga);
	for (size_t i = 0; err == DTX_OK && i < NSTEPS; i++)
		err = dtx_saga_add_step(saga, s->cfg->ps->p[steps[i].svc].url,
		                        steps[i].action, steps[i].compensate,
		                        record, len, 0);
	if (err == DTX_OK)
		*ret_saga = saga;
	else
		dtx_saga_destroy(saga);
	return err;
}

/* note_failure keeps the first non-business failure; lock held. */
static void note_failure(sale *s, unsigned buyer, const char *what)
{
	char gid[DTX_GID_MAX + 1];

	if (s->res.first_failure[0] != '\0')
		return;
	sale_gid_of(buyer, gid, sizeof(gid));
	snprintf(s->res.first_failure, sizeof(s->res.first_failure), "%s: %s",
	         gid, what);
}

/* classify counts one answer; lock held. */
static void classify(sale *s, unsigned buyer, int err, const dtx_tx_info *info)
{
	if (err != DTX_OK) {
		s->res.client_errors++;
		note_failure(s, buyer, dtx_strerror(err));
		s->undecided[s->nundecided++] = buyer;
	} else if (info->state == DTX_TX_COMMITTED) {
		s->res.committed++;
	} else if (info->state != DTX_TX_COMPENSATED) {
		s->res.undecided++;
		note_failure(s, buyer, "not final in time");
		s->undecided[s->nundecided++] = buyer;
	} else if (strstr(info->reason, "fail: out of stock") != NULL) {
		s->res.out_of_stock++;
	} else if (strstr(info->reason, "fail: insufficient balance")) {
		s->res.insufficient++;
	} else {
		s->res.other_refusal++;
		note_failure(s, buyer, info->reason);
	}
}

static void record(purchase *pu, int err, const dtx_tx_info *info)
{
	sale *s = pu->s;
	int64_t t = now_ns();

	pthread_mutex_lock(&s->mu);
	s->lat_start[s->nlat] = pu->start_ns;
	s->lat_ms[s->nlat++] = (double)(t - pu->start_ns) / 1e6;
	if (t > s->last_ns)
		s->last_ns = t;
	classify(s, pu->buyer, err, info);
	pthread_mutex_unlock(&s->mu);
}

static void launch(sale *s);

static void done_cb(void *arg, int err, const dtx_tx_info *info)
{
	purchase *pu = arg;

	record(pu, err, info);
	launch(pu->s);
}

/* submit starts buyer's purchase; on an error no callback will run. */
static int submit(sale *s, unsigned buyer)
{
	purchase *pu = &s->purchases[buyer];
	dtx_saga *saga;
	int err;

	pu->s = s;
	pu->buyer = buyer;
	pu->start_ns = now_ns();
	err = build_saga(s, buyer, &saga);
	if (err != DTX_OK)
		return err;
	err = dtx_client_submit_async(s->client, saga, SALE_WAIT_MS, done_cb,
	                              pu);
	dtx_saga_destroy(saga);
	return err;
}

/* pick takes the next buyer, or frees the caller's slot when the sale is
 * over (every buyer went, or the duration passed). */
static bool pick(sale *s, unsigned *ret_buyer)
{
	bool go;

	pthread_mutex_lock(&s->mu);
	go = s->next < s->cfg->buyers && now_ns() < s->stop_ns;
	if (go) {
		*ret_buyer = s->next++;
		s->res.attempted++;
	} else if (--s->inflight == 0) {
		pthread_cond_signal(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return go;
}

/* launch fills one slot with the next buyer's purchase. A purchase the
 * client refuses at once is counted and the next buyer tried instead. */
static void launch(sale *s)
{
	unsigned buyer;
	int err;

	for (unsigned i = 0; i <= s->cfg->buyers; i++) {
		if (!pick(s, &buyer))
			return;
		err = submit(s, buyer);
		if (err == DTX_OK)
			return;
		pthread_mutex_lock(&s->mu);
		s->res.client_errors++;
		note_failure(s, buyer, dtx_strerror(err));
		pthread_mutex_unlock(&s->mu);
	}
}

/* ---- the whole sale ---------------------------------------------------- */

/* maybe_kill kills dtxd instance 0 once the failover aid's time came;
 * s->mu held (dropped around the kill and its reaping). */
static void maybe_kill(sale *s)
{
	const sale_config *c = s->cfg;
	int64_t at = s->first_ns + (int64_t)c->kill_after_s * 1000000000;

	if (c->kill_after_s == 0 || s->kill_ns != 0 || now_ns() < at)
		return;
	s->kill_ns = now_ns();
	pthread_mutex_unlock(&s->mu);
	if (procs_kill_dtxd(c->kill_ps, 0) != 0)
		fprintf(stderr, "dtx-shop: the failover aid found no dtxd\n");
	else
		fprintf(stderr, "dtx-shop: killed dtxd instance 0 (SIGKILL)\n");
	pthread_mutex_lock(&s->mu);
}

static void wait_all(sale *s)
{
	int64_t limit = s->stop_ns +
	                (int64_t)(SALE_WAIT_MS + TRANSPORT_SLACK_MS) * 1000000;
	struct timespec ts;

	pthread_mutex_lock(&s->mu);
	for (int i = 0; s->inflight > 0 && now_ns() < limit; i++) {
		maybe_kill(s);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += TICK_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->cv, &s->mu, &ts);
	}
	pthread_mutex_unlock(&s->mu);
}

/* settle asks once more, waiting, for each undecided purchase, so no saga
 * is still moving when the services stop. */
static void settle(sale *s)
{
	int64_t limit = now_ns() + (int64_t)SETTLE_MS * 1000000;
	char gid[DTX_GID_MAX + 1];
	dtx_tx_info *info = malloc(sizeof(*info));
	size_t n;
	int err = DTX_ENOMEM;

	pthread_mutex_lock(&s->mu);
	n = s->nundecided; /* purchases still in flight may add more */
	pthread_mutex_unlock(&s->mu);
	for (size_t i = 0; i < n; i++) {
		sale_gid_of(s->undecided[i], gid, sizeof(gid));
		if (info != NULL && now_ns() < limit)
			err = dtx_client_query(s->client, gid, SETTLE_ONE_MS,
			                       info);
		if (err == DTX_ENOENT)
			continue; /* never reached the coordinator */
		if (err != DTX_OK || !dtx_tx_state_is_final(info->state))
			s->res.unsettled++;
	}
	free(info);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* percentile returns the nearest-rank q-quantile of the sorted v. */
static double percentile(const double *v, size_t n, double q)
{
	size_t rank = (size_t)(q * (double)n + 0.999999);

	if (n == 0)
		return 0.0;
	return v[rank == 0 ? 0 : (rank > n ? n - 1 : rank - 1)];
}

void sale_percentiles(double *ms, size_t n, sale_result *r)
{
	if (n > 0) /* qsort's base may not be NULL */
		qsort(ms, n, sizeof(double), cmp_double);
	r->p50_ms = percentile(ms, n, 0.50);
	r->p99_ms = percentile(ms, n, 0.99);
	r->p999_ms = percentile(ms, n, 0.999);
}

/* p99_of returns the p99 of the n latencies v (sorted in place). */
static double p99_of(double *v, size_t n)
{
	sale_result r;

	sale_percentiles(v, n, &r);
	return r.p99_ms;
}

/* summarise_failover splits the answered purchases at the kill (see
 * sale_failover); before sale_percentiles sorts lat_ms. */
static void summarise_failover(sale *s)
{
	sale_failover *f = &s->res.failover;
	int64_t k = s->kill_ns, win = (int64_t)SALE_FAILOVER_S * 1000000000;
	double *before = calloc(s->nlat + 1, sizeof(double));
	double *after = calloc(s->nlat + 1, sizeof(double));

	if (k == 0 || before == NULL || after == NULL)
		goto out;
	f->killed = true;
	f->kill_at_s = (double)(k - s->first_ns) / 1e9;
	for (size_t i = 0; i < s->nlat; i++) {
		int64_t st = s->lat_start[i];
		int64_t end = st + (int64_t)(s->lat_ms[i] * 1e6);

		if (end < k) {
			before[f->before++] = s->lat_ms[i];
		} else if (st >= k + win) {
			after[f->after++] = s->lat_ms[i];
		} else {
			f->around++;
			if (s->lat_ms[i] > f->max_ms)
				f->max_ms = s->lat_ms[i];
			if (st <= k && (double)(end - k) / 1e6 > f->last_ms)
				f->last_ms = (double)(end - k) / 1e6;
		}
	}
	f->p99_before_ms = p99_of(before, f->before);
	f->p99_after_ms = p99_of(after, f->after);
out:
	free(before);
	free(after);
}

static void summarise(sale *s)
{
	summarise_failover(s);
	sale_percentiles(s->lat_ms, s->nlat, &s->res);
	if (s->last_ns > s->first_ns)
		s->res.elapsed_s = (double)(s->last_ns - s->first_ns) / 1e9;
}

static int sale_init(sale *s, const sale_config *cfg)
{
	pthread_condattr_t ca;
	dtx_client_opts copts;
	size_t n = cfg->buyers > 0 ? cfg->buyers : 1;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	s->purchases = calloc(n, sizeof(*s->purchases));
	s->lat_ms = calloc(n, sizeof(*s->lat_ms));
	s->lat_start = calloc(n, sizeof(*s->lat_start));
	s->undecided = calloc(n, sizeof(*s->undecided));
	if (!s->purchases || !s->lat_ms || !s->lat_start || !s->undecided)
		return DTX_ENOMEM;
	dtx_client_opts_init(&copts);
	copts.timeout_ms = SALE_WAIT_MS + TRANSPORT_SLACK_MS;
	copts.tls = procs_client_tls(cfg->ps);
	return dtx_client_open(cfg->ps->dtxd_urls, &copts, &s->client);
}

/* sale_fini closes the client first: that ends every request still in
 * flight (its callback runs with DTX_ECLOSED), so no SDK thread touches s
 * afterwards. */
static void sale_fini(sale *s)
{
	dtx_client_close(s->client);
	s->client = NULL;
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s->purchases);
	free(s->lat_ms);
	free(s->lat_start);
	free(s->undecided);
}

static int saga_run(const sale_config *cfg, sale_result *ret)
{
	sale *s = malloc(sizeof(*s));
	unsigned slots =
	        cfg->concurrency < cfg->buyers ? cfg->concurrency : cfg->buyers;
	int err = s != NULL ? sale_init(s, cfg) : DTX_ENOMEM;

	if (err != DTX_OK) {
		fprintf(stderr, "dtx-shop: sale: %s\n", dtx_strerror(err));
		if (s != NULL)
			sale_fini(s);
		free(s);
		return -1;
	}
	s->first_ns = s->last_ns = now_ns();
	s->stop_ns = s->first_ns + (int64_t)cfg->duration_s * 1000000000;
	s->inflight = slots;
	for (unsigned i = 0; i < slots; i++)
		launch(s);
	wait_all(s);
	settle(s);
	dtx_client_close(s->client); /* ends what is still in flight */
	s->client = NULL;
	summarise(s);
	*ret = s->res;
	sale_fini(s);
	free(s);
	return 0;
}

int sale_run(const sale_config *cfg, sale_result *ret)
{
	if (cfg->mode == SALE_MODE_TCC)
		return sale_tcc_run(cfg, ret);
	return saga_run(cfg, ret);
}
