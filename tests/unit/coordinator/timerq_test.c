/*
 * timerq_test.c - the engine's deadline heap: order, removal, limits.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include <dtx/dtx.h>

#include "timerq.h"

Test(timerq, pops_in_deadline_order_then_fifo)
{
	dc_timerq q;
	dc_timer t[6];
	uint64_t due[6] = {50, 10, 30, 10, 20, 50};
	size_t expect[6] = {1, 3, 4, 2, 0, 5};

	dc_timerq_init(&q, 16);
	for (int i = 0; i < 6; i++) {
		dc_timer_init(&t[i]);
		cr_assert_eq(dc_timerq_add(&q, &t[i], due[i]), DTX_OK);
	}
	for (int i = 0; i < 6; i++) {
		dc_timer *p = dc_timerq_pop_due(&q, 100);
		cr_assert_eq(p, &t[expect[i]], "pop %d", i);
		cr_assert(!dc_timer_is_queued(p));
	}
	cr_assert_null(dc_timerq_pop_due(&q, 100));
	dc_timerq_fini(&q);
}

Test(timerq, does_not_pop_before_its_deadline)
{
	dc_timerq q;
	dc_timer t;

	dc_timerq_init(&q, 4);
	dc_timer_init(&t);
	dc_timerq_add(&q, &t, 100);
	cr_assert_null(dc_timerq_pop_due(&q, 99));
	cr_assert_eq(dc_timerq_pop_due(&q, 100), &t);
	dc_timerq_fini(&q);
}

Test(timerq, re_adding_moves_a_timer)
{
	dc_timerq q;
	dc_timer a, b;

	dc_timerq_init(&q, 4);
	dc_timer_init(&a);
	dc_timer_init(&b);
	dc_timerq_add(&q, &a, 10);
	dc_timerq_add(&q, &b, 20);
	dc_timerq_add(&q, &a, 30);
	cr_assert_eq(q.len, 2);
	cr_assert_eq(dc_timerq_peek(&q), &b);
	dc_timerq_fini(&q);
}

Test(timerq, refuses_past_its_limit)
{
	dc_timerq q;
	dc_timer t[3];

	dc_timerq_init(&q, 2);
	for (int i = 0; i < 3; i++)
		dc_timer_init(&t[i]);
	cr_assert_eq(dc_timerq_add(&q, &t[0], 1), DTX_OK);
	cr_assert_eq(dc_timerq_add(&q, &t[1], 2), DTX_OK);
	cr_assert_eq(dc_timerq_add(&q, &t[2], 3), DTX_ELIMIT);
	cr_assert(!dc_timer_is_queued(&t[2]));
	dc_timerq_fini(&q);
}

/* Random adds and removes keep the heap property: pops come out sorted. */
Test(timerq, random_removals_keep_order)
{
	enum { N = 5000 };
	dc_timerq q;
	dc_timer *t = calloc(N, sizeof(*t));
	uint64_t last = 0;
	size_t popped = 0, removed = 0;

	srand(7);
	dc_timerq_init(&q, N);
	for (int i = 0; i < N; i++) {
		dc_timer_init(&t[i]);
		dc_timerq_add(&q, &t[i], (uint64_t)(rand() % 1000));
	}
	for (int i = 0; i < N; i += 3) {
		dc_timerq_remove(&q, &t[i]);
		removed++;
	}
	for (dc_timer *p; (p = dc_timerq_pop_due(&q, 1000)) != NULL;) {
		cr_assert_geq(p->due_ms, last);
		last = p->due_ms;
		popped++;
	}
	cr_assert_eq(popped + removed, N);
	dc_timerq_fini(&q);
	free(t);
}
