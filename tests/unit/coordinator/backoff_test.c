/*
 * backoff_test.c - capped exponential backoff with full jitter.
 */
#include <criterion/criterion.h>
#include <stdint.h>

#include "backoff.h"

static const dc_backoff def = {
        .base_ms = 100, .multiplier = 2, .max_ms = 30000};

Test(backoff, ceiling_doubles_from_the_base)
{
	cr_assert_eq(dc_backoff_ceiling_ms(&def, 1), 100);
	cr_assert_eq(dc_backoff_ceiling_ms(&def, 2), 200);
	cr_assert_eq(dc_backoff_ceiling_ms(&def, 3), 400);
	cr_assert_eq(dc_backoff_ceiling_ms(&def, 9), 25600);
}

Test(backoff, ceiling_never_passes_the_cap_even_after_a_long_outage)
{
	cr_assert_eq(dc_backoff_ceiling_ms(&def, 10), 30000);
	cr_assert_eq(dc_backoff_ceiling_ms(&def, 1000), 30000);
	cr_assert_eq(dc_backoff_ceiling_ms(&def, UINT32_MAX), 30000);
}

Test(backoff, attempt_zero_counts_as_the_first)
{
	cr_assert_eq(dc_backoff_ceiling_ms(&def, 0), 100);
}

Test(backoff, full_jitter_stays_within_zero_and_the_ceiling)
{
	uint64_t x = 88172645463325252ull;
	uint32_t lo = UINT32_MAX, hi = 0;

	for (int i = 0; i < 100000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint32_t d = dc_backoff_delay_ms(&def, 4, x);
		cr_assert_leq(d, 800);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	cr_assert_lt(lo, 10, "jitter reaches near zero");
	cr_assert_gt(hi, 790, "jitter reaches near the ceiling");
}

Test(backoff, multiplier_one_is_constant)
{
	dc_backoff b = {.base_ms = 250, .multiplier = 1, .max_ms = 1000};

	cr_assert_eq(dc_backoff_ceiling_ms(&b, 50), 250);
}
