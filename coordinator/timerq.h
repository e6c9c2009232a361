/*
 * timerq.h - a min-heap of deadlines for the engine's many timers.
 *
 * One libuv timer is armed at the earliest deadline; this heap holds all of
 * them (retry backoffs, client waits), so a million transactions cost no
 * libuv handles. A dc_timer is embedded in its owner; the heap stores
 * pointers and each timer knows its slot, so removal is O(log n).
 *
 * Not thread-safe: the engine's loop owns it. The heap grows up to the
 * capacity given at init; dc_timerq_add returns DTX_ELIMIT beyond it.
 */
#ifndef DTX_COORDINATOR_TIMERQ_H
#define DTX_COORDINATOR_TIMERQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dc_timer {
	uint64_t due_ms; /* monotonic milliseconds */
	uint64_t seq;    /* insertion order: equal deadlines fire FIFO */
	size_t slot;     /* index in the heap, or SIZE_MAX when not queued */
} dc_timer;

typedef struct dc_timerq {
	dc_timer **heap;
	size_t len;
	size_t cap;   /* allocated slots */
	size_t limit; /* most timers ever queued at once */
	uint64_t next_seq;
} dc_timerq;

/* dc_timer_init marks t as not queued. */
void dc_timer_init(dc_timer *t);

/* dc_timer_is_queued returns true while t is in a queue. */
bool dc_timer_is_queued(const dc_timer *t);

/* dc_timerq_init prepares an empty queue holding at most limit timers. */
void dc_timerq_init(dc_timerq *q, size_t limit);

/* dc_timerq_fini frees the heap; queued timers are simply forgotten. */
void dc_timerq_fini(dc_timerq *q);

/* dc_timerq_add queues t (retained until removed or popped) at due_ms; if t
 * is already queued it is moved. Errors: DTX_ELIMIT, DTX_ENOMEM. */
int dc_timerq_add(dc_timerq *q, dc_timer *t, uint64_t due_ms);

/* dc_timerq_remove unqueues t if it is queued. */
void dc_timerq_remove(dc_timerq *q, dc_timer *t);

/* dc_timerq_peek returns the earliest timer or NULL. */
dc_timer *dc_timerq_peek(const dc_timerq *q);

/* dc_timerq_pop_due removes and returns the earliest timer if its deadline
 * is <= now_ms, else NULL. */
dc_timer *dc_timerq_pop_due(dc_timerq *q, uint64_t now_ms);

#endif
