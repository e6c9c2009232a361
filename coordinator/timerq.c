/*
 * timerq.c - binary min-heap of dc_timer pointers (see timerq.h).
 *
 * Invariant: for every slot i > 0, heap[(i-1)/2] fires no later than
 * heap[i] (ordered by due_ms, then seq), and heap[i]->slot == i.
 * Never allocates beyond q->limit slots; never touches a clock.
 */
#include "timerq.h"

#include <stdlib.h>

#include <dtx/dtx.h>

void dc_timer_init(dc_timer *t)
{
	t->due_ms = 0;
	t->seq = 0;
	t->slot = SIZE_MAX;
}

bool dc_timer_is_queued(const dc_timer *t)
{
	return t->slot != SIZE_MAX;
}

void dc_timerq_init(dc_timerq *q, size_t limit)
{
	q->heap = NULL;
	q->len = 0;
	q->cap = 0;
	q->limit = limit;
	q->next_seq = 0;
}

void dc_timerq_fini(dc_timerq *q)
{
	for (size_t i = 0; i < q->len; i++)
		q->heap[i]->slot = SIZE_MAX;
	free(q->heap);
	q->heap = NULL;
	q->len = q->cap = 0;
}

static bool fires_before(const dc_timer *a, const dc_timer *b)
{
	if (a->due_ms != b->due_ms)
		return a->due_ms < b->due_ms;
	return a->seq < b->seq;
}

static void place(dc_timerq *q, dc_timer *t, size_t slot)
{
	q->heap[slot] = t;
	t->slot = slot;
}

static void sift_up(dc_timerq *q, size_t slot)
{
	dc_timer *t = q->heap[slot];

	while (slot > 0) {
		size_t parent = (slot - 1) / 2;
		if (!fires_before(t, q->heap[parent]))
			break;
		place(q, q->heap[parent], slot);
		slot = parent;
	}
	place(q, t, slot);
}

static void sift_down(dc_timerq *q, size_t slot)
{
	dc_timer *t = q->heap[slot];

	for (;;) {
		size_t child = 2 * slot + 1;
		if (child >= q->len)
			break;
		if (child + 1 < q->len &&
		    fires_before(q->heap[child + 1], q->heap[child]))
			child++;
		if (!fires_before(q->heap[child], t))
			break;
		place(q, q->heap[child], slot);
		slot = child;
	}
	place(q, t, slot);
}

static int reserve(dc_timerq *q)
{
	size_t cap;
	dc_timer **heap;

	if (q->len < q->cap)
		return DTX_OK;
	if (q->len >= q->limit)
		return DTX_ELIMIT;
	cap = q->cap ? q->cap * 2 : 64;
	if (cap > q->limit)
		cap = q->limit;
	heap = realloc(q->heap, cap * sizeof(*heap));
	if (heap == NULL)
		return DTX_ENOMEM;
	q->heap = heap;
	q->cap = cap;
	return DTX_OK;
}

int dc_timerq_add(dc_timerq *q, dc_timer *t, uint64_t due_ms)
{
	int rv;

	if (dc_timer_is_queued(t))
		dc_timerq_remove(q, t);
	rv = reserve(q);
	if (rv != DTX_OK)
		return rv;
	t->due_ms = due_ms;
	t->seq = q->next_seq++;
	place(q, t, q->len++);
	sift_up(q, t->slot);
	return DTX_OK;
}

void dc_timerq_remove(dc_timerq *q, dc_timer *t)
{
	size_t slot = t->slot;
	dc_timer *last;

	if (slot == SIZE_MAX)
		return;
	t->slot = SIZE_MAX;
	last = q->heap[--q->len];
	if (last == t)
		return;
	place(q, last, slot);
	sift_down(q, slot);
	sift_up(q, last->slot);
}

dc_timer *dc_timerq_peek(const dc_timerq *q)
{
	return q->len ? q->heap[0] : NULL;
}

dc_timer *dc_timerq_pop_due(dc_timerq *q, uint64_t now_ms)
{
	dc_timer *t = dc_timerq_peek(q);

	if (t == NULL || t->due_ms > now_ms)
		return NULL;
	dc_timerq_remove(q, t);
	return t;
}
