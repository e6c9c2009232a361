/*
 * reader.c - the log reader thread (see reader.h).
 *
 * Owns its thread, its queue and the list of jobs it holds; never touches
 * coordinator state (a job's run sees only the log and the job's own
 * memory) and never blocks the loop: submit and finish take the queue's
 * lock for a few instructions, stop waits for at most one chunk.
 *
 * Why one thread: reads of an LMDB environment scale across threads, but
 * dtxd runs on small machines (2 cores) beside its loop and the commit
 * worker; one reader keeps the loop's core free. A job that scans gives
 * the thread up after each chunk, so point reads queued behind a scan of
 * half a million transactions wait one chunk, not the whole scan.
 */
#include "reader.h"

#include <pthread.h>
#include <stdlib.h>

#include <dtx/dtx.h>

struct dc_reader {
	dc_log *log;
	dc_mailbox *mb;
	unsigned max_jobs;
	pthread_t thread;
	bool started;

	/* under lock */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	dc_read_job *qhead[2], *qtail[2]; /* to run: [0] point, [1] bulk */
	dc_read_job *held; /* every job submitted, not finished */
	unsigned nheld;
	bool stopping;
};

/* push appends job to its run queue (lock held). */
static void push(dc_reader *r, dc_read_job *job)
{
	int q = job->bulk;

	job->qnext = NULL;
	if (r->qtail[q] != NULL)
		r->qtail[q]->qnext = job;
	else
		r->qhead[q] = job;
	r->qtail[q] = job;
}

/* pop takes the first job to run, point reads first (lock held). */
static dc_read_job *pop(dc_reader *r)
{
	int q = r->qhead[0] == NULL;
	dc_read_job *job = r->qhead[q];

	if (job != NULL) {
		r->qhead[q] = job->qnext;
		if (r->qhead[q] == NULL)
			r->qtail[q] = NULL;
	}
	return job;
}

/* take waits for the next job to run; NULL once the reader stops. */
static dc_read_job *take(dc_reader *r)
{
	dc_read_job *job = NULL;

	pthread_mutex_lock(&r->lock);
	while (!r->stopping && (job = pop(r)) == NULL)
		pthread_cond_wait(&r->cond, &r->lock);
	if (r->stopping)
		job = NULL; /* still held: dc_reader_destroy disposes of it */
	pthread_mutex_unlock(&r->lock);
	return job;
}

static void *reader_main(void *arg)
{
	dc_reader *r = arg;
	dc_read_job *job;

	while ((job = take(r)) != NULL) {
		if (job->run(job, r->log)) {
			dc_mailbox_post(r->mb, &job->mail);
			continue;
		}
		pthread_mutex_lock(&r->lock); /* a chunk done: to the back */
		push(r, job);
		pthread_mutex_unlock(&r->lock);
	}
	return NULL;
}

int dc_reader_create(dc_log *log, dc_mailbox *mb, unsigned max_jobs,
                     dc_reader **ret_reader)
{
	dc_reader *r;

	if (max_jobs == 0)
		return DTX_EINVAL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return DTX_ENOMEM;
	r->log = log;
	r->mb = mb;
	r->max_jobs = max_jobs;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	if (pthread_create(&r->thread, NULL, reader_main, r) != 0) {
		dc_reader_destroy(r);
		return DTX_EINTERNAL;
	}
	r->started = true;
	*ret_reader = r;
	return DTX_OK;
}

int dc_reader_submit(dc_reader *r, dc_read_job *job)
{
	int rv = DTX_OK;

	job->mail.kind = DC_MAIL_READ;
	pthread_mutex_lock(&r->lock);
	if (r->stopping || r->nheld >= r->max_jobs) {
		rv = DTX_EBUSY;
	} else {
		job->prev = NULL;
		job->next = r->held;
		if (r->held != NULL)
			r->held->prev = job;
		r->held = job;
		r->nheld++;
		push(r, job);
		pthread_cond_signal(&r->cond);
	}
	pthread_mutex_unlock(&r->lock);
	return rv;
}

/* unhold removes job from the held list (lock held). */
static void unhold(dc_reader *r, dc_read_job *job)
{
	if (job->prev != NULL)
		job->prev->next = job->next;
	else
		r->held = job->next;
	if (job->next != NULL)
		job->next->prev = job->prev;
	job->prev = job->next = NULL;
	r->nheld--;
}

void dc_reader_finish(dc_reader *r, dc_read_job *job)
{
	pthread_mutex_lock(&r->lock);
	unhold(r, job);
	pthread_mutex_unlock(&r->lock);
}

void dc_reader_stop(dc_reader *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	if (r->started) {
		pthread_join(r->thread, NULL);
		r->started = false;
	}
}

void dc_reader_destroy(dc_reader *r)
{
	if (r == NULL)
		return;
	dc_reader_stop(r);
	while (r->held != NULL) {
		dc_read_job *job = r->held;
		unhold(r, job);
		job->dispose(job);
	}
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r);
}
