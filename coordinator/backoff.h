/*
 * backoff.h - capped exponential backoff with full jitter.
 *
 * Pure: the caller supplies the random number, so tests are exact. The delay
 * for attempt n (n >= 1 calls already failed) is uniform in
 * [0, min(max_ms, base_ms * multiplier^(n-1))]; the exponent never
 * overflows, so after a long outage the wait stays at most max_ms (a known
 * fault of other coordinators is a backoff that grows to hours).
 */
#ifndef DTX_COORDINATOR_BACKOFF_H
#define DTX_COORDINATOR_BACKOFF_H

#include <stdint.h>

typedef struct dc_backoff {
	uint32_t base_ms;    /* ceiling of the first delay (>= 1) */
	uint32_t multiplier; /* ceiling growth per attempt (>= 1) */
	uint32_t max_ms;     /* the ceiling never exceeds this (>= base_ms) */
} dc_backoff;

/* dc_backoff_ceiling_ms returns the upper bound of the delay after attempt
 * failed calls (attempt 0 is treated as 1). */
uint32_t dc_backoff_ceiling_ms(const dc_backoff *b, uint32_t attempt);

/* dc_backoff_delay_ms returns a delay in [0, ceiling] chosen by rnd (any
 * 64-bit random value): full jitter spreads retries of many transactions
 * that failed together. */
uint32_t dc_backoff_delay_ms(const dc_backoff *b, uint32_t attempt,
                             uint64_t rnd);

/* dc_backoff_next_random advances *state (never 0: seed it with a nonzero
 * value) and returns the next number of its sequence: the same seed gives
 * the same jitter, so a test or a simulation can replay a run. */
uint64_t dc_backoff_next_random(uint64_t *state);

#endif
