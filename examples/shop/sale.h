/*
 * sale.h - the flash sale: every buyer makes one purchase attempt (a
 * five-step saga), with at most `concurrency` purchases in flight.
 *
 * A closed loop: each answered purchase starts the next buyer's, until
 * every buyer went or the duration passed; then the purchases still in
 * flight are awaited (bounded) and any left undecided are settled by a
 * bounded query, so the stores are quiet when the checker reads them.
 */
#ifndef DTX_SHOP_SALE_H
#define DTX_SHOP_SALE_H

#include <stdint.h>

#include "procs.h"
#include "seed.h"

#define SALE_WAIT_MS 30000 /* how long one purchase may take */

typedef struct sale_config {
	const procs *ps;          /* borrowed: the running processes */
	const seed_initial *init; /* borrowed: sku and price */
	unsigned buyers;
	unsigned concurrency;
	unsigned duration_s;
} sale_config;

typedef struct sale_result {
	uint64_t attempted; /* purchases submitted (or refused by submit) */
	uint64_t committed;
	uint64_t out_of_stock;  /* compensated: "out of stock" */
	uint64_t insufficient;  /* compensated: "insufficient balance" */
	uint64_t other_refusal; /* compensated for any other reason */
	uint64_t client_errors; /* the client answered an error */
	uint64_t undecided;     /* not final within SALE_WAIT_MS */
	uint64_t unsettled;     /* still not final after the settling query */
	double elapsed_s;       /* first submit to last answer */
	double p50_ms, p99_ms, p999_ms;
	char first_failure[DTX_GID_MAX + 2 +
	                   256]; /* the first non-business failure, or "" */
} sale_result;

/* sale_compensated returns the purchases rolled back, for any reason. */
uint64_t sale_compensated(const sale_result *r);

/* sale_non_business returns the failures that are not a business
 * refusal: client errors, undecided purchases, other reasons. */
uint64_t sale_non_business(const sale_result *r);

/* sale_run runs the sale against cfg->ps. Returns 0 and fills *ret, or
 * -1 if it could not start (reason printed to stderr). */
int sale_run(const sale_config *cfg, sale_result *ret);

#endif
