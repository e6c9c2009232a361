/*
 * reader.c - the log reader threads (see reader.h).
 *
 * Owns its threads, their queues and the list of jobs it holds; never
 * touches coordinator state (a job's run sees only the log and the job's
 * own memory) and never blocks the loop: submit and finish take the
 * queues' lock for a few instructions, stop waits for one chunk at most.
 *
 * Two lanes, one thread each. Point reads (a client's transaction, a
 * FinalQuery) have a thread of their own, so they never wait behind an
 * operator's scan. Bulk reads (list, show, stats) run on a thread at a
 * lower CPU priority (BULK_NICE above dtxd's own nice; Linux sets it per
 * thread): dtxd runs on small machines (2 cores) and a scan of half a
 * million transactions is CPU-bound for a second; at equal priority it
 * would take its share of the core the loop needs. A scan still ends: nice
 * lowers its share, it never stops it. A bulk job gives its thread up after
 * each chunk, so operators' scans take turns.
 */
#include "reader.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include <dtx/dtx.h>

#define BULK_NICE 10

typedef struct lane {
	struct dc_reader *r;
	int index; /* 0: point reads, 1: bulk reads */
	pthread_t thread;
	bool started;
	pthread_cond_t cond;
	dc_read_job *head, *tail; /* to run, in order (under r->lock) */
} lane;

struct dc_reader {
	dc_log *log;
	dc_mailbox *mb;
	unsigned max_jobs;
	lane lanes[2];

	/* under lock */
	pthread_mutex_t lock;
	dc_read_job *held; /* every job submitted, not finished */
	unsigned nheld;
	bool stopping;
};

/* push appends job to its lane's queue (lock held). */
static void push(dc_reader *r, dc_read_job *job)
{
	lane *l = &r->lanes[job->bulk ? 1 : 0];

	job->qnext = NULL;
	if (l->tail != NULL)
		l->tail->qnext = job;
	else
		l->head = job;
	l->tail = job;
	pthread_cond_signal(&l->cond);
}

/* take waits for the next job of l; NULL once the reader stops (a job
 * left in the queue stays held: dc_reader_destroy disposes of it). */
static dc_read_job *take(lane *l)
{
	dc_reader *r = l->r;
	dc_read_job *job;

	pthread_mutex_lock(&r->lock);
	while (l->head == NULL && !r->stopping)
		pthread_cond_wait(&l->cond, &r->lock);
	job = r->stopping ? NULL : l->head;
	if (job != NULL) {
		l->head = job->qnext;
		if (l->head == NULL)
			l->tail = NULL;
	}
	pthread_mutex_unlock(&r->lock);
	return job;
}

/* take_more moves the jobs queued right behind first that share its
 * run_many into jobs[1..], up to DC_READER_BATCH_MAX in all (jobs[0] is
 * first); returns how many jobs there are. */
static size_t take_more(lane *l, dc_read_job *first, dc_read_job **jobs)
{
	dc_reader *r = l->r;
	size_t n = 1;

	jobs[0] = first;
	pthread_mutex_lock(&r->lock);
	while (n < DC_READER_BATCH_MAX && !r->stopping && l->head != NULL &&
	       l->head->run_many == first->run_many) {
		jobs[n++] = l->head;
		l->head = l->head->qnext;
		if (l->head == NULL)
			l->tail = NULL;
	}
	pthread_mutex_unlock(&r->lock);
	return n;
}

/* run_batch runs first and the jobs of its kind queued behind it with
 * their run_many, and posts them all. */
static void run_batch(lane *l, dc_read_job *first)
{
	dc_read_job *jobs[DC_READER_BATCH_MAX];
	size_t n = take_more(l, first, jobs);

	first->run_many(jobs, n, l->r->log);
	for (size_t i = 0; i < n; i++)
		dc_mailbox_post(l->r->mb, &jobs[i]->mail);
}

static void *lane_main(void *arg)
{
	lane *l = arg;
	dc_reader *r = l->r;
	dc_read_job *job;

	/* named for ps -L and gdb; best effort: a refusal leaves nice 0 */
	pthread_setname_np(pthread_self(),
	                   l->index == 1 ? "dtxd:read-bulk" : "dtxd:read");
	if (l->index == 1) /* Linux: nice() changes the calling thread */
		(void)!nice(BULK_NICE);
	while ((job = take(l)) != NULL) {
		if (job->run_many != NULL) {
			run_batch(l, job);
			continue;
		}
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
	for (int i = 0; i < 2; i++) {
		r->lanes[i].r = r;
		r->lanes[i].index = i;
		pthread_cond_init(&r->lanes[i].cond, NULL);
	}
	for (int i = 0; i < 2; i++) {
		lane *l = &r->lanes[i];
		if (pthread_create(&l->thread, NULL, lane_main, l) != 0) {
			dc_reader_destroy(r);
			return DTX_EINTERNAL;
		}
		l->started = true;
	}
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

unsigned dc_reader_held(dc_reader *r)
{
	unsigned n;

	if (r == NULL)
		return 0;
	pthread_mutex_lock(&r->lock);
	n = r->nheld;
	pthread_mutex_unlock(&r->lock);
	return n;
}

void dc_reader_stop(dc_reader *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	for (int i = 0; i < 2; i++)
		pthread_cond_signal(&r->lanes[i].cond);
	pthread_mutex_unlock(&r->lock);
	for (int i = 0; i < 2; i++) {
		if (r->lanes[i].started)
			pthread_join(r->lanes[i].thread, NULL);
		r->lanes[i].started = false;
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
	for (int i = 0; i < 2; i++)
		pthread_cond_destroy(&r->lanes[i].cond);
	pthread_mutex_destroy(&r->lock);
	free(r);
}
