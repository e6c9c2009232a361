/*
 * pool.c - the bounded thread pool (see pool.h).
 *
 * Each thread takes the next job number under the pool's one mutex and
 * runs the job without it. Threads get a small stack (STACK_BYTES): a job
 * keeps at most a few dtx_tx_info on its stack. The pool joins every
 * thread it started before pool_run returns, so nothing outlives it.
 */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#define STACK_BYTES (1024u * 1024u)

typedef struct pool {
	pthread_mutex_t mu;
	size_t next, n;
	int64_t stop_ns;
	pool_fn fn;
	void *arg; /* borrowed: fn's */
} pool;

int64_t pool_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* take hands out the next job number; false when there is none. */
static bool take(pool *p, size_t *ret_i)
{
	bool go;

	pthread_mutex_lock(&p->mu);
	go = p->next < p->n && (p->stop_ns == 0 || pool_now_ns() < p->stop_ns);
	if (go)
		*ret_i = p->next++;
	pthread_mutex_unlock(&p->mu);
	return go;
}

static void *worker(void *arg)
{
	pool *p = arg;
	size_t i;

	while (take(p, &i))
		p->fn(p->arg, i);
	return NULL;
}

/* start_threads starts up to want threads into tids; returns how many. */
static unsigned start_threads(pool *p, pthread_t *tids, unsigned want)
{
	pthread_attr_t attr;
	unsigned started = 0;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, STACK_BYTES);
	for (; started < want; started++)
		if (pthread_create(&tids[started], &attr, worker, p) != 0)
			break;
	pthread_attr_destroy(&attr);
	return started;
}

int pool_run(unsigned threads, size_t n, int64_t stop_ns, pool_fn fn, void *arg,
             size_t *ret_started)
{
	pool p = {.n = n, .stop_ns = stop_ns, .fn = fn, .arg = arg};
	unsigned want = threads < n ? threads : (unsigned)n, started;
	pthread_t *tids;

	if (threads == 0 || threads > POOL_THREADS_MAX) {
		errno = EINVAL;
		return -1;
	}
	tids = calloc(want > 0 ? want : 1, sizeof(*tids));
	if (tids == NULL)
		return -1;
	pthread_mutex_init(&p.mu, NULL);
	started = start_threads(&p, tids, want);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	pthread_mutex_destroy(&p.mu);
	free(tids);
	if (started == 0 && want > 0) {
		errno = EAGAIN;
		return -1;
	}
	*ret_started = p.next;
	return 0;
}
