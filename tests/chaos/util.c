/*
 * util.c - the clock, sleeping and the seeded random stream of dtx-chaos
 * (see chaos.h). splitmix64: tiny, fast, and the same stream for the same
 * seed on every machine, which is what makes a schedule reproducible.
 */
#include <errno.h>
#include <time.h>

#include "chaos.h"

static const char *const mode_names[MODE_COUNT] = {"saga", "tcc", "tcc-sub"};

const char *chaos_mode_name(chaos_mode m)
{
	return m < MODE_COUNT ? mode_names[m] : "unknown";
}

const char *chaos_role_name(int role)
{
	static const char *const dtxd[CHAOS_INSTANCES_MAX] = {"dtxd", "dtxd2",
	                                                      "dtxd3"};

	if (role >= 0 && role < CHAOS_NSVC)
		return shop_service_name((shop_service_id)role);
	if (chaos_is_dtxd(role))
		return dtxd[role - ROLE_DTXD];
	return role == ROLE_BUYER ? "buyer" : "unknown";
}

int64_t chaos_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t chaos_unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void chaos_sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

uint64_t chaos_rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t chaos_rng_below(uint64_t *state, uint64_t n)
{
	return chaos_rng_next(state) % n;
}
