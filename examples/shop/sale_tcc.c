/*
 * sale_tcc.c - the flash sale as reservations: one initiator-driven TCC
 * transaction per buyer (see sale.h).
 *
 * One purchase is one job of the thread pool (pool.c), run start to end
 * on its thread, since every TCC call blocks:
 *
 *   dtx_tcc_begin (deadline: reserve_ms, the unpaid-reservation expiry)
 *   order.try, inventory.try, payment.try, delivery.try   in this order
 *   dtx_tcc_commit ("pay")        every Try answered OK
 *   dtx_tcc_abort                 on the first Try that did not
 *   nothing                       an abandoning buyer: the coordinator
 *                                 cancels the reservation at its deadline
 *
 * The threads share the counters, the latencies and two lists (purchases
 * to settle, reservations that expired) under one mutex, held only to
 * record an outcome, never across an SDK call.
 *
 * After the pool, every purchase whose final state was not seen (the
 * abandoned ones above all) is awaited with bounded queries, until
 * reserve_ms + SETTLE_MS passed; then SALE_EXPIRED_FILE lists the gids
 * cancelled at their deadline, for the checker. Every loop is bounded by
 * the number of buyers or by a deadline.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "sale.h"

#define TRANSPORT_SLACK_MS 10000 /* client deadline beyond SALE_WAIT_MS */
#define TRY_TIMEOUT_MS     10000 /* one Try */
#define SETTLE_MS          60000 /* settling, beyond the last deadline */
#define SETTLE_ONE_MS      10000 /* one settling query */

/* outcome - how one purchase ended, as far as its thread saw. */
typedef enum outcome {
	O_COMMITTED,
	O_OUT_OF_STOCK,
	O_INSUFFICIENT,
	O_OTHER,     /* refused for another reason, or an unexpected state */
	O_ABANDONED, /* never paid: the deadline cancels it */
	O_LATE,      /* paid after the deadline: cancelled */
	O_CLIENT_ERROR,
	O_UNDECIDED, /* not final within SALE_WAIT_MS */
} outcome;

/* verdict - one purchase's outcome, and whether its final state is still
 * to be awaited. */
typedef struct verdict {
	outcome o;
	bool settle;
	char why[256]; /* for a non-business failure */
} verdict;

typedef struct tsale {
	const sale_config *cfg;
	dtx_client *client;
	pthread_mutex_t mu;
	double *lat_ms;    /* latencies of finished purchases */
	unsigned *settle;  /* buyers whose final state is to be awaited */
	outcome *settle_o; /* their outcome so far */
	unsigned *expired; /* buyers cancelled at their deadline */
	size_t nlat, nsettle, nexpired;
	int64_t first_ns, last_ns;
	sale_result res;
} tsale;

/* The four branches of a reservation, in Try order (see README.md). */
static const struct {
	shop_service_id svc;
	const char *try_h, *confirm_h, *cancel_h;
} branches[] = {
        {SHOP_SVC_ORDER, "order.try", "order.confirm", "order.cancel"},
        {SHOP_SVC_INVENTORY, "inventory.try", "inventory.confirm",
         "inventory.cancel"},
        {SHOP_SVC_PAYMENT, "payment.try", "payment.confirm", "payment.cancel"},
        {SHOP_SVC_DELIVERY, "delivery.try", "delivery.confirm",
         "delivery.cancel"},
};

#define NBRANCHES (sizeof(branches) / sizeof(branches[0]))

/* abandons draws, from the seed, whether buyer never pays. */
static bool abandons(const tsale *s, unsigned buyer)
{
	uint64_t z = s->cfg->seed + 0x9e3779b97f4a7c15ull * (buyer + 1ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (z ^ (z >> 31)) % 100 < s->cfg->abandon_pct;
}

static size_t make_record(const tsale *s, unsigned buyer, char *buf, size_t len)
{
	shop_purchase p = {.qty = 1, .price = s->cfg->init->price};

	sale_gid_of(buyer, p.order, sizeof(p.order));
	seed_buyer_id(buyer, p.buyer, sizeof(p.buyer));
	snprintf(p.sku, sizeof(p.sku), "%s", s->cfg->init->sku);
	return shop_purchase_format(&p, buf, len);
}

/* ---- one purchase ------------------------------------------------------ */

static void set_why(verdict *v, outcome o, const char *what, const char *why)
{
	v->o = o;
	snprintf(v->why, sizeof(v->why), "%.40s: %.200s", what, why);
}

/* refusal classifies a Try that did not answer OK. */
static void refusal(const dtx_try_result *r, const char *try_h, verdict *v)
{
	if (r->status == DTX_STATUS_FAIL &&
	    strcmp(r->message, "out of stock") == 0)
		v->o = O_OUT_OF_STOCK;
	else if (r->status == DTX_STATUS_FAIL &&
	         strcmp(r->message, "insufficient balance") == 0)
		v->o = O_INSUFFICIENT;
	else
		set_why(v, O_OTHER, try_h,
		        r->message[0] != '\0' ? r->message : "refused");
}

/* run_tries makes the four Tries; true if every one answered OK. */
static bool run_tries(tsale *s, dtx_tcc_tx *tx, const char *record, size_t len,
                      dtx_try_result *r, verdict *v)
{
	for (size_t i = 0; i < NBRANCHES; i++) {
		int err = dtx_tcc_try(tx, s->cfg->ps->p[branches[i].svc].url,
		                      branches[i].try_h, branches[i].confirm_h,
		                      branches[i].cancel_h, record, len,
		                      TRY_TIMEOUT_MS, r);

		if (err != DTX_OK) {
			set_why(v, O_CLIENT_ERROR, branches[i].try_h,
			        dtx_strerror(err));
			return false;
		}
		if (r->status != DTX_STATUS_OK) {
			refusal(r, branches[i].try_h, v);
			return false;
		}
	}
	return true;
}

/* give_up aborts tx after a refusal; its final state is awaited later if
 * the abort did not report it. */
static void give_up(tsale *s, dtx_tcc_tx *tx, dtx_tx_info *info, verdict *v)
{
	int err = dtx_tcc_abort(tx, v->why[0] ? v->why : "refused",
	                        SALE_WAIT_MS, info);

	v->settle = err != DTX_OK || !dtx_tx_state_is_final(info->state);
}

/* pay commits tx and classifies the answer. */
static void pay(tsale *s, dtx_tcc_tx *tx, dtx_tx_info *info, verdict *v)
{
	int err = dtx_tcc_commit(tx, SALE_WAIT_MS, info);

	if (err != DTX_OK) {
		set_why(v, O_CLIENT_ERROR, "commit", dtx_strerror(err));
		v->settle = true;
	} else if (info->state == DTX_TX_COMMITTED) {
		v->o = O_COMMITTED;
	} else if (info->state == DTX_TX_CANCELLED ||
	           info->state == DTX_TX_CANCELLING) {
		v->o = O_LATE;
		v->settle = info->state == DTX_TX_CANCELLING;
	} else if (info->state == DTX_TX_CONFIRMING) {
		set_why(v, O_UNDECIDED, "commit", "not final in time");
		v->settle = true;
	} else {
		set_why(v, O_OTHER, "commit", dtx_tx_state_name(info->state));
	}
}

/* count adds one outcome to the result; lock held. */
static void count(tsale *s, unsigned buyer, const verdict *v)
{
	uint64_t *slot[] = {
	        [O_COMMITTED] = &s->res.committed,
	        [O_OUT_OF_STOCK] = &s->res.out_of_stock,
	        [O_INSUFFICIENT] = &s->res.insufficient,
	        [O_OTHER] = &s->res.other_refusal,
	        [O_ABANDONED] = NULL, /* counted once final */
	        [O_LATE] = NULL,
	        [O_CLIENT_ERROR] = &s->res.client_errors,
	        [O_UNDECIDED] = &s->res.undecided,
	};
	char gid[DTX_GID_MAX + 1];

	if (slot[v->o] != NULL)
		(*slot[v->o])++;
	if (v->o == O_LATE && !v->settle) {
		s->res.late++;
		s->expired[s->nexpired++] = buyer;
	}
	if (v->settle) {
		s->settle_o[s->nsettle] = v->o;
		s->settle[s->nsettle++] = buyer;
	}
	if ((v->o == O_OTHER || v->o == O_CLIENT_ERROR ||
	     v->o == O_UNDECIDED) &&
	    s->res.first_failure[0] == '\0') {
		sale_gid_of(buyer, gid, sizeof(gid));
		snprintf(s->res.first_failure, sizeof(s->res.first_failure),
		         "%s: %s", gid, v->why);
	}
}

static void record(tsale *s, unsigned buyer, int64_t start_ns, const verdict *v)
{
	int64_t t = pool_now_ns();

	pthread_mutex_lock(&s->mu);
	if (v->o != O_ABANDONED)
		s->lat_ms[s->nlat++] = (double)(t - start_ns) / 1e6;
	if (t > s->last_ns)
		s->last_ns = t;
	count(s, buyer, v);
	pthread_mutex_unlock(&s->mu);
}

/* reserve runs one purchase from begin to its end (see the top). */
static void reserve(tsale *s, unsigned buyer, dtx_tx_info *info,
                    dtx_try_result *r, verdict *v)
{
	char gid[DTX_GID_MAX + 1], rec[SHOP_RECORD_MAX];
	size_t len = make_record(s, buyer, rec, sizeof(rec));
	dtx_tcc_tx *tx = NULL;
	int err;

	sale_gid_of(buyer, gid, sizeof(gid));
	err = dtx_tcc_begin(s->client, gid, s->cfg->reserve_ms, &tx);
	if (err != DTX_OK) {
		set_why(v, O_CLIENT_ERROR, "begin", dtx_strerror(err));
		v->settle = true;
		return;
	}
	if (!run_tries(s, tx, rec, len, r, v)) {
		give_up(s, tx, info, v);
	} else if (abandons(s, buyer)) {
		v->o = O_ABANDONED;
		v->settle = true;
	} else {
		pay(s, tx, info, v);
	}
	dtx_tcc_tx_destroy(tx);
}

static void purchase_job(void *arg, size_t i)
{
	tsale *s = arg;
	int64_t start = pool_now_ns();
	dtx_tx_info *info = malloc(sizeof(*info));
	dtx_try_result *r = malloc(sizeof(*r));
	verdict v = {.o = O_CLIENT_ERROR};

	if (info != NULL && r != NULL)
		reserve(s, (unsigned)i, info, r, &v);
	else
		set_why(&v, O_CLIENT_ERROR, "driver", "out of memory");
	record(s, (unsigned)i, start, &v);
	free(info);
	free(r);
}

/* ---- after the sale ---------------------------------------------------- */

int sale_await_final(dtx_client *client, const char *gid, int64_t limit_ns,
                     dtx_tx_info *info)
{
	int err = DTX_ETIMEDOUT;

	for (int i = 0; i < 100000 && pool_now_ns() < limit_ns; i++) {
		int64_t left_ms = (limit_ns - pool_now_ns()) / 1000000;

		err = dtx_client_query(client, gid,
		                       left_ms < SETTLE_ONE_MS
		                               ? (unsigned)left_ms + 1
		                               : SETTLE_ONE_MS,
		                       info);
		if (err == DTX_ENOENT)
			return err;
		if (err == DTX_OK && dtx_tx_state_is_final(info->state))
			return DTX_OK;
	}
	return DTX_ETIMEDOUT;
}

/* settle_one awaits the final state of purchase k of the settle list. */
static void settle_one(tsale *s, size_t k, int64_t limit, dtx_tx_info *info)
{
	char gid[DTX_GID_MAX + 1];
	outcome o = s->settle_o[k];
	int err;

	sale_gid_of(s->settle[k], gid, sizeof(gid));
	err = sale_await_final(s->client, gid, limit, info);
	if (err == DTX_ENOENT)
		return; /* never reached the coordinator */
	if (err != DTX_OK) {
		s->res.unsettled++;
		return;
	}
	if (o == O_ABANDONED && info->state == DTX_TX_CANCELLED)
		s->res.abandoned++;
	else if (o == O_ABANDONED)
		s->res.other_refusal++; /* an unpaid reservation went through */
	if (o == O_LATE)
		s->res.late++;
	if ((o == O_ABANDONED || o == O_LATE) &&
	    info->state == DTX_TX_CANCELLED)
		s->expired[s->nexpired++] = s->settle[k];
}

static void settle(tsale *s)
{
	int64_t limit = pool_now_ns() +
	                ((int64_t)s->cfg->reserve_ms + SETTLE_MS) * 1000000;
	dtx_tx_info *info = malloc(sizeof(*info));

	for (size_t k = 0; k < s->nsettle; k++) {
		if (info != NULL)
			settle_one(s, k, limit, info);
		else
			s->res.unsettled++;
	}
	free(info);
}

static int write_expired(const tsale *s)
{
	char path[4096], gid[DTX_GID_MAX + 1];
	FILE *f;

	if (!seed_path(s->cfg->workdir, SALE_EXPIRED_FILE, path, sizeof(path)))
		return -1;
	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	for (size_t i = 0; i < s->nexpired; i++) {
		sale_gid_of(s->expired[i], gid, sizeof(gid));
		fprintf(f, "%s\n", gid);
	}
	return fclose(f) == 0 ? 0 : -1;
}

/* ---- the whole sale ---------------------------------------------------- */

static int tsale_init(tsale *s, const sale_config *cfg)
{
	dtx_client_opts copts;
	size_t n = cfg->buyers > 0 ? cfg->buyers : 1;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	pthread_mutex_init(&s->mu, NULL);
	s->lat_ms = calloc(n, sizeof(*s->lat_ms));
	s->settle = calloc(n, sizeof(*s->settle));
	s->settle_o = calloc(n, sizeof(*s->settle_o));
	s->expired = calloc(n, sizeof(*s->expired));
	if (!s->lat_ms || !s->settle || !s->settle_o || !s->expired)
		return DTX_ENOMEM;
	dtx_client_opts_init(&copts);
	copts.timeout_ms = SALE_WAIT_MS + TRANSPORT_SLACK_MS;
	copts.tls = procs_client_tls(cfg->ps);
	return dtx_client_open(cfg->ps->dtxd_urls, &copts, &s->client);
}

static void tsale_fini(tsale *s)
{
	dtx_client_close(s->client);
	pthread_mutex_destroy(&s->mu);
	free(s->lat_ms);
	free(s->settle);
	free(s->settle_o);
	free(s->expired);
}

/* sell runs the pool; false if no thread could start. */
static bool sell(tsale *s)
{
	const sale_config *cfg = s->cfg;
	size_t started = 0;

	s->first_ns = s->last_ns = pool_now_ns();
	if (pool_run(cfg->concurrency, cfg->buyers,
	             s->first_ns + (int64_t)cfg->duration_s * 1000000000,
	             purchase_job, s, &started) != 0) {
		fprintf(stderr, "dtx-shop: sale threads: %s\n",
		        strerror(errno));
		return false;
	}
	s->res.attempted = started;
	return true;
}

int sale_tcc_run(const sale_config *cfg, sale_result *ret)
{
	tsale *s = malloc(sizeof(*s));
	int err = s != NULL ? tsale_init(s, cfg) : DTX_ENOMEM;
	int rc = -1;

	if (err != DTX_OK) {
		fprintf(stderr, "dtx-shop: sale: %s\n", dtx_strerror(err));
		goto out;
	}
	if (!sell(s))
		goto out;
	sale_percentiles(s->lat_ms, s->nlat, &s->res);
	if (s->last_ns > s->first_ns)
		s->res.elapsed_s = (double)(s->last_ns - s->first_ns) / 1e9;
	settle(s);
	if (write_expired(s) != 0) {
		fprintf(stderr, "dtx-shop: %s/%s: %s\n", cfg->workdir,
		        SALE_EXPIRED_FILE, strerror(errno));
		goto out;
	}
	*ret = s->res;
	rc = 0;
out:
	if (s != NULL)
		tsale_fini(s);
	free(s);
	return rc;
}
