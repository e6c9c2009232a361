/*
 * backoff.c - capped exponential backoff with full jitter (see backoff.h).
 *
 * Owns only arithmetic, the jitter's generator included (a pure function
 * of the state its caller keeps). Never reads a clock or a system source
 * of randomness.
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

uint64_t dc_backoff_next_random(uint64_t *state)
{
	/* xorshift64*: jitter only, not security. */
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 2685821657736338717ull;
}
