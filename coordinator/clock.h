/*
 * clock.h - the engine's clock: the one place it reads the time.
 *
 * Two readings, two uses (DESIGN.md: the clock is injectable):
 *   - wall (unix milliseconds): what is recorded - created, updated and
 *     final times, deadlines as absolute times, timeline entries, pruning
 *     cutoffs; read once where an absolute time is made or compared;
 *   - monotonic (milliseconds from an arbitrary origin): what is waited on -
 *     every timer (backoff, deadline, client wait) and every age; it never
 *     jumps, so a wall-clock step neither fires nor stalls a timer.
 *
 * A clock is an object with an ops table (as SQLite's VFS): the real one
 * reads CLOCK_REALTIME and the loop's uv_now (the base libuv counts its
 * timers from); the manual one holds both readings as numbers that a test
 * or a simulation moves, together (advance) or the wall alone (jump).
 * Neither ever sleeps or arms anything: firing timers is the engine's
 * business (engine.h, dc_engine_tick).
 *
 * Threads: read on the engine's loop thread only; a manual clock is moved
 * on that thread too.
 */
#ifndef DTX_COORDINATOR_CLOCK_H
#define DTX_COORDINATOR_CLOCK_H

#include <stdint.h>

#include <uv.h>

typedef struct dc_clock dc_clock;

typedef struct dc_clock_ops {
	int64_t (*unix_ms)(const dc_clock *c);  /* wall */
	uint64_t (*mono_ms)(const dc_clock *c); /* never goes back */
} dc_clock_ops;

/* A clock: implementations embed it first. */
struct dc_clock {
	const dc_clock_ops *ops;
};

/* dc_clock_unix_ms returns c's wall time in unix milliseconds. */
static inline int64_t dc_clock_unix_ms(const dc_clock *c)
{
	return c->ops->unix_ms(c);
}

/* dc_clock_mono_ms returns c's monotonic time in milliseconds. */
static inline uint64_t dc_clock_mono_ms(const dc_clock *c)
{
	return c->ops->mono_ms(c);
}

/* The real clock: CLOCK_REALTIME, and uv_now of loop (the loop's cached
 * time, updated once per iteration: the base of libuv's timers). */
typedef struct dc_clock_real {
	dc_clock base;
	uv_loop_t *loop;
} dc_clock_real;

/* dc_clock_real_init makes c (caller's memory) read loop (retained). */
void dc_clock_real_init(dc_clock_real *c, uv_loop_t *loop);

/* The manual clock: two numbers that only its owner moves. */
typedef struct dc_clock_manual {
	dc_clock base;
	int64_t unix_ms;
	uint64_t mono_ms;
} dc_clock_manual;

/* dc_clock_manual_init makes c (caller's memory) read unix_ms (wall) and
 * mono_ms (monotonic) until moved. */
void dc_clock_manual_init(dc_clock_manual *c, int64_t unix_ms,
                          uint64_t mono_ms);

/* dc_clock_manual_advance lets ms milliseconds pass: both readings move. */
void dc_clock_manual_advance(dc_clock_manual *c, uint64_t ms);

/* dc_clock_manual_jump steps the wall reading alone by delta_ms (either
 * way), as an operator or NTP setting the system clock would; the
 * monotonic reading does not move. */
void dc_clock_manual_jump(dc_clock_manual *c, int64_t delta_ms);

#endif
