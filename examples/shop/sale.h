/*
 * sale.h - the flash sale: every buyer makes one purchase attempt, with at
 * most `concurrency` purchases in flight, in one of two modes:
 *
 *   saga  a five-step saga per purchase, submitted asynchronously: each
 *         answered purchase starts the next buyer's (sale.c);
 *   tcc   a reservation per purchase (initiator-driven TCC): four Tries,
 *         then a commit ("pay"), on a bounded pool of threads, since
 *         those calls block (sale_tcc.c). A share of buyers abandons its
 *         reservation: the coordinator cancels it at its deadline.
 *
 * Both run until every buyer went or the duration passed; then the
 * purchases still in flight are awaited (bounded) and any left undecided
 * (abandoned reservations included) are settled by bounded queries, so
 * the stores are quiet when the checker reads them.
 */
#ifndef DTX_SHOP_SALE_H
#define DTX_SHOP_SALE_H

#include <stdint.h>

#include "procs.h"
#include "seed.h"

#define SALE_WAIT_MS 30000 /* how long one purchase may take */

#define SALE_EXPIRED_FILE "expired.txt" /* tcc: gids cancelled at deadline */

typedef enum sale_mode {
	SALE_MODE_SAGA,
	SALE_MODE_TCC,
	SALE_MODE_COUNT
} sale_mode;

typedef struct sale_config {
	const procs *ps;          /* borrowed: the running processes */
	const seed_initial *init; /* borrowed: sku and price */
	const char *workdir;      /* borrowed: tcc writes SALE_EXPIRED_FILE */
	sale_mode mode;
	unsigned buyers;
	unsigned concurrency; /* tcc: threads, 1..POOL_THREADS_MAX */
	unsigned duration_s;
	unsigned reserve_ms;  /* tcc: a reservation's deadline */
	unsigned abandon_pct; /* tcc: share of buyers who never pay */
	uint64_t seed;        /* tcc: which buyers abandon */
	/* the failover aid (saga mode; 0: none): kill dtxd instance 0 of
	 * kill_ps with SIGKILL kill_after_s into the sale */
	unsigned kill_after_s;
	procs *kill_ps;
} sale_config;

/* What a sale with a kill measured around it (sale_config.kill_after_s;
 * all 0 without one). "Around" the kill: purchases in flight at it or
 * started within SALE_FAILOVER_S after it. */
#define SALE_FAILOVER_S 10
typedef struct sale_failover {
	bool killed;
	double kill_at_s;     /* since the first submit */
	double max_ms;        /* the longest purchase around the kill */
	double last_ms;       /* kill to the last answer of one in flight */
	double p99_before_ms; /* purchases answered before the kill */
	double p99_after_ms;  /* started SALE_FAILOVER_S after it or later */
	uint64_t before, around, after; /* how many of each */
} sale_failover;

typedef struct sale_result {
	uint64_t attempted; /* purchases submitted (or refused by submit) */
	uint64_t committed;
	uint64_t out_of_stock;  /* rolled back: "out of stock" */
	uint64_t insufficient;  /* rolled back: "insufficient balance" */
	uint64_t other_refusal; /* rolled back for any other reason */
	uint64_t abandoned;     /* tcc: never paid, cancelled at the deadline */
	uint64_t late;          /* tcc: paid after the deadline: cancelled */
	uint64_t client_errors; /* the client answered an error */
	uint64_t undecided;     /* not final within SALE_WAIT_MS */
	uint64_t unsettled;     /* still not final after the settling query */
	double elapsed_s;       /* first submit to last answer */
	double p50_ms, p99_ms, p999_ms;
	sale_failover failover;
	char first_failure[DTX_GID_MAX + 2 +
	                   256]; /* the first non-business failure, or "" */
} sale_result;

/* sale_compensated returns the purchases rolled back by a refusal (not
 * the expired reservations). */
uint64_t sale_compensated(const sale_result *r);

/* sale_non_business returns the failures that are not a business
 * refusal: client errors, undecided purchases, other reasons. */
uint64_t sale_non_business(const sale_result *r);

/* sale_expired returns the reservations cancelled at their deadline. */
uint64_t sale_expired(const sale_result *r);

/* sale_mode_name returns "saga" or "tcc". */
const char *sale_mode_name(sale_mode mode);

/* sale_gid_of writes the gid of buyer's purchase ("order-0000042"). */
void sale_gid_of(unsigned buyer, char *out, size_t len);

/* sale_percentiles sorts the n latencies ms (modified) and stores the
 * nearest-rank p50, p99 and p999 in r. */
void sale_percentiles(double *ms, size_t n, sale_result *r);

/* sale_await_final queries gid on client until it is final or the
 * CLOCK_MONOTONIC time limit_ns passed, each query waiting at most 10 s.
 * Returns DTX_OK (*info is final), DTX_ENOENT (unknown gid) or
 * DTX_ETIMEDOUT. */
int sale_await_final(dtx_client *client, const char *gid, int64_t limit_ns,
                     dtx_tx_info *info);

/* sale_run runs the sale against cfg->ps. Returns 0 and fills *ret, or
 * -1 if it could not start (reason printed to stderr). */
int sale_run(const sale_config *cfg, sale_result *ret);

/* sale_tcc_run is sale_run for SALE_MODE_TCC (sale_tcc.c). */
int sale_tcc_run(const sale_config *cfg, sale_result *ret);

#endif
