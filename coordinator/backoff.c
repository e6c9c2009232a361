/*
 * backoff.c - capped exponential backoff with full jitter (see backoff.h).
 *
 * Owns only arithmetic. Never reads a clock, never draws randomness itself.
 */
#include "backoff.h"

uint32_t dc_backoff_ceiling_ms(const dc_backoff *b, uint32_t attempt)
{
	uint64_t ceiling = b->base_ms ? b->base_ms : 1;
	uint32_t mult = b->multiplier ? b->multiplier : 1;

	/* Multiply step by step and stop at the cap: no overflow for any
	 * attempt count. */
	for (uint32_t i = 1; i < attempt && ceiling < b->max_ms; i++)
		ceiling *= mult;
	if (ceiling > b->max_ms)
		ceiling = b->max_ms;
	return (uint32_t)ceiling;
}

uint32_t dc_backoff_delay_ms(const dc_backoff *b, uint32_t attempt,
                             uint64_t rnd)
{
	uint64_t ceiling = dc_backoff_ceiling_ms(b, attempt);

	return (uint32_t)(rnd % (ceiling + 1));
}
