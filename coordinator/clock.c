/*
 * clock.c - the real and the manual clock (see clock.h).
 *
 * Must never: sleep, arm a timer, or let a manual clock's monotonic
 * reading go back.
 */
#include "clock.h"

#include <time.h>

static int64_t real_unix_ms(const dc_clock *c)
{
	struct timespec ts;

	(void)c;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t real_mono_ms(const dc_clock *c)
{
	return uv_now(((const dc_clock_real *)c)->loop);
}

static const dc_clock_ops real_ops = {
        .unix_ms = real_unix_ms,
        .mono_ms = real_mono_ms,
};

void dc_clock_real_init(dc_clock_real *c, uv_loop_t *loop)
{
	c->base.ops = &real_ops;
	c->loop = loop;
}

static int64_t manual_unix_ms(const dc_clock *c)
{
	return ((const dc_clock_manual *)c)->unix_ms;
}

static uint64_t manual_mono_ms(const dc_clock *c)
{
	return ((const dc_clock_manual *)c)->mono_ms;
}

static const dc_clock_ops manual_ops = {
        .unix_ms = manual_unix_ms,
        .mono_ms = manual_mono_ms,
};

void dc_clock_manual_init(dc_clock_manual *c, int64_t unix_ms, uint64_t mono_ms)
{
	c->base.ops = &manual_ops;
	c->unix_ms = unix_ms;
	c->mono_ms = mono_ms;
}

void dc_clock_manual_advance(dc_clock_manual *c, uint64_t ms)
{
	c->unix_ms += (int64_t)ms;
	c->mono_ms += ms;
}

void dc_clock_manual_jump(dc_clock_manual *c, int64_t delta_ms)
{
	c->unix_ms += delta_ms;
}
