/*
 * refund.c - refunding paid orders as sagas (see refund.h).
 *
 * refund_pick is the only reader of a store here (the order store, read
 * only, at rest). refund_run submits one saga per order with the blocking
 * dtx_client_submit from the threads of a pool (pool.c); the threads
 * share the counters and the latencies under one mutex, held only to
 * record an answer. Refunds whose final state was not seen are awaited
 * afterwards (bounded), so the stores are quiet when the checker runs.
 */
#include "refund.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "seed.h"

#define TRANSPORT_SLACK_MS 10000 /* client deadline beyond SALE_WAIT_MS */
#define SETTLE_MS          60000 /* all settling queries together */

/* The four steps of a refund, in order (see refund.h). */
static const struct {
	shop_service_id svc;
	const char *action, *compensate;
} steps[] = {
        {SHOP_SVC_DELIVERY, "delivery.void_codes", "delivery.restore_codes"},
        {SHOP_SVC_PAYMENT, "payment.reimburse", "payment.recharge"},
        {SHOP_SVC_INVENTORY, "inventory.return_units",
         "inventory.retake_units"},
        {SHOP_SVC_ORDER, "order.refund", "order.unrefund"},
};

#define NSTEPS (sizeof(steps) / sizeof(steps[0]))

/* ---- picking the orders ------------------------------------------------ */

typedef struct pick_ctx {
	shop_purchase *orders;
	size_t n, want;
} pick_ctx;

static int pick_cb(void *arg, const void *key, size_t klen, const void *val,
                   size_t vlen)
{
	pick_ctx *c = arg;
	shop_order_state st;
	shop_purchase p;

	if (!shop_order_parse(val, vlen, &p, &st))
		return DTX_ECORRUPT;
	if (st == SHOP_ORDER_PAID)
		c->orders[c->n++] = p;
	return c->n == c->want ? DTX_ELIMIT : DTX_OK; /* enough: stop */
}

static int pick_view(void *arg, dtx_txn *txn)
{
	int err = dtx_txn_scan(txn, SHOP_T_ORDERS, NULL, 0, pick_cb, arg);

	return err == DTX_ELIMIT ? DTX_OK : err;
}

int refund_pick(const char *workdir, unsigned count, shop_purchase **ret_orders,
                size_t *ret_n)
{
	pick_ctx c = {.want = count};
	dtx_store_opts opts;
	dtx_store *store = NULL;
	int err = DTX_OK;

	c.orders = calloc(count > 0 ? count : 1, sizeof(*c.orders));
	if (c.orders == NULL)
		err = DTX_ENOMEM;
	dtx_store_opts_init(&opts);
	opts.ntables = shop_service_tables(SHOP_SVC_ORDER, &opts.tables);
	opts.read_only = true;
	if (err == DTX_OK)
		err = seed_store_open(workdir, SHOP_SVC_ORDER, &opts, &store);
	if (err == DTX_OK && count > 0)
		err = dtx_store_view(store, pick_view, &c);
	dtx_store_close(store);
	if (err != DTX_OK) {
		fprintf(stderr, "dtx-shop: refund: order store: %s\n",
		        dtx_strerror(err));
		free(c.orders);
		return -1;
	}
	*ret_orders = c.orders;
	*ret_n = c.n;
	return 0;
}

/* ---- refunding --------------------------------------------------------- */

typedef struct refunds {
	const procs *ps;
	const shop_purchase *orders;
	dtx_client *client;
	pthread_mutex_t mu;
	double *lat_ms;
	size_t *settle; /* orders whose refund's final state is to be seen */
	size_t nlat, nsettle;
	int64_t first_ns, last_ns;
	sale_result res;
} refunds;

static int build_saga(const refunds *r, const shop_purchase *p,
                      dtx_saga **ret_saga)
{
	char record[SHOP_RECORD_MAX], gid[DTX_GID_MAX + 1];
	size_t len = shop_purchase_format(p, record, sizeof(record));
	dtx_saga *saga;
	int err;

	if (len == 0 || !shop_refund_gid(p->order, gid, sizeof(gid)))
		return DTX_ETOOBIG;
	err = dtx_saga_create(gid, &saga);
	for (size_t i = 0; err == DTX_OK && i < NSTEPS; i++)
		err = dtx_saga_add_step(saga, r->ps->p[steps[i].svc].url,
		                        steps[i].action, steps[i].compensate,
		                        record, len, 0);
	if (err == DTX_OK)
		*ret_saga = saga;
	else
		dtx_saga_destroy(saga);
	return err;
}

/* note_failure keeps the first non-business failure; lock held. */
static void note_failure(refunds *r, size_t k, const char *what)
{
	if (r->res.first_failure[0] == '\0')
		snprintf(r->res.first_failure, sizeof(r->res.first_failure),
		         "%s%s: %.200s", SHOP_REFUND_PREFIX, r->orders[k].order,
		         what);
}

/* classify counts one answer; lock held. A refused refund is counted
 * apart: only paid orders are picked, so it should not happen. */
static void classify(refunds *r, size_t k, int err, const dtx_tx_info *info)
{
	bool unseen = err != DTX_OK || !dtx_tx_state_is_final(info->state);

	if (err != DTX_OK) {
		r->res.client_errors++;
		note_failure(r, k, dtx_strerror(err));
	} else if (info->state == DTX_TX_COMMITTED) {
		r->res.committed++;
	} else if (info->state == DTX_TX_COMPENSATED) {
		r->res.other_refusal++;
		note_failure(r, k, info->reason);
	} else {
		r->res.undecided++;
		note_failure(r, k, "not final in time");
	}
	if (unseen)
		r->settle[r->nsettle++] = k;
}

static void refund_job(void *arg, size_t k)
{
	refunds *r = arg;
	int64_t start = pool_now_ns(), t;
	dtx_tx_info *info = malloc(sizeof(*info));
	dtx_saga *saga = NULL;
	int err =
	        info != NULL ? build_saga(r, &r->orders[k], &saga) : DTX_ENOMEM;

	if (err == DTX_OK)
		err = dtx_client_submit(r->client, saga, SALE_WAIT_MS, info);
	dtx_saga_destroy(saga);
	t = pool_now_ns();
	pthread_mutex_lock(&r->mu);
	r->lat_ms[r->nlat++] = (double)(t - start) / 1e6;
	if (t > r->last_ns)
		r->last_ns = t;
	classify(r, k, err, info);
	pthread_mutex_unlock(&r->mu);
	free(info);
}

/* settle awaits the refunds whose final state was not seen. */
static void settle(refunds *r)
{
	int64_t limit = pool_now_ns() + (int64_t)SETTLE_MS * 1000000;
	char gid[DTX_GID_MAX + 1];
	dtx_tx_info *info = malloc(sizeof(*info));
	int err = DTX_ENOMEM;

	for (size_t i = 0; i < r->nsettle; i++) {
		shop_refund_gid(r->orders[r->settle[i]].order, gid,
		                sizeof(gid));
		if (info != NULL)
			err = sale_await_final(r->client, gid, limit, info);
		if (err != DTX_OK && err != DTX_ENOENT)
			r->res.unsettled++;
	}
	free(info);
}

static int refunds_init(refunds *r, const procs *ps,
                        const shop_purchase *orders, size_t n)
{
	dtx_client_opts copts;

	memset(r, 0, sizeof(*r));
	r->ps = ps;
	r->orders = orders;
	pthread_mutex_init(&r->mu, NULL);
	r->lat_ms = calloc(n > 0 ? n : 1, sizeof(*r->lat_ms));
	r->settle = calloc(n > 0 ? n : 1, sizeof(*r->settle));
	if (r->lat_ms == NULL || r->settle == NULL)
		return DTX_ENOMEM;
	dtx_client_opts_init(&copts);
	copts.timeout_ms = SALE_WAIT_MS + TRANSPORT_SLACK_MS;
	copts.tls = procs_client_tls(ps);
	return dtx_client_open(ps->dtxd_urls, &copts, &r->client);
}

static void refunds_fini(refunds *r)
{
	dtx_client_close(r->client);
	pthread_mutex_destroy(&r->mu);
	free(r->lat_ms);
	free(r->settle);
}

int refund_run(const procs *ps, const shop_purchase *orders, size_t n,
               unsigned threads, sale_result *ret)
{
	refunds *r = malloc(sizeof(*r));
	int err = r != NULL ? refunds_init(r, ps, orders, n) : DTX_ENOMEM;
	size_t started = 0;
	int rc = -1;

	if (err != DTX_OK) {
		fprintf(stderr, "dtx-shop: refund: %s\n", dtx_strerror(err));
		goto out;
	}
	r->first_ns = r->last_ns = pool_now_ns();
	if (pool_run(threads, n, 0, refund_job, r, &started) != 0) {
		fprintf(stderr, "dtx-shop: refund threads: %s\n",
		        strerror(errno));
		goto out;
	}
	r->res.attempted = started;
	sale_percentiles(r->lat_ms, r->nlat, &r->res);
	if (r->last_ns > r->first_ns)
		r->res.elapsed_s = (double)(r->last_ns - r->first_ns) / 1e9;
	settle(r);
	*ret = r->res;
	rc = 0;
out:
	if (r != NULL)
		refunds_fini(r);
	free(r);
	return rc;
}
