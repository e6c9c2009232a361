/*
 * pool.h - a bounded pool of threads that runs numbered jobs: the blocking
 * SDK calls of the TCC sale and of the refunds need a thread each, and
 * the pool caps how many run at once.
 *
 * The pool owns its threads and nothing else: a job's state is the
 * caller's. It never prints.
 */
#ifndef DTX_SHOP_POOL_H
#define DTX_SHOP_POOL_H

#include <stddef.h>
#include <stdint.h>

#define POOL_THREADS_MAX 1024u

/* pool_fn runs job i. arg is the one given to pool_run (borrowed). It runs
 * on a pool thread, concurrently with other jobs. */
typedef void (*pool_fn)(void *arg, size_t i);

/* pool_run runs fn(arg, i) for i = 0, 1, ... n-1 in order of start on at
 * most `threads` threads (1..POOL_THREADS_MAX), and returns when every
 * started job has returned. No job starts once the CLOCK_MONOTONIC time
 * stop_ns passed (0: no limit). *ret_started gets the number of jobs
 * started (they are jobs 0..started-1). Returns 0, or -1 if not one
 * thread could start (errno set). */
int pool_run(unsigned threads, size_t n, int64_t stop_ns, pool_fn fn, void *arg,
             size_t *ret_started);

/* pool_now_ns returns the CLOCK_MONOTONIC time in nanoseconds. */
int64_t pool_now_ns(void);

#endif
