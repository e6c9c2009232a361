/*
 * reader.h - the coordinator's log reader: LMDB reads off the loop.
 *
 * The engine's loop must never wait for the disk (engine.c). Every read of
 * the log whose cost is not bounded by a constant - a transaction that is
 * not in memory, a participant's FinalQuery, the admin API's list, show
 * and stats - is a job run here, on the reader's own threads with their
 * own LMDB read transactions (the log is opened MDB_NOTLS: reads may run
 * on any thread). A job carries copies of what it needs; the reader never
 * touches coordinator state. When a job's run is done, its mail is posted
 * to the engine's mailbox and the loop finishes it.
 *
 * Bounded: at most max_jobs jobs are held at once, counted from submit
 * until the loop calls dc_reader_finish; a submit past that is DTX_EBUSY.
 * Two lanes, a thread each: point reads (a client's transaction, a
 * FinalQuery) and bulk reads (an operator's list, show, stats; lower CPU
 * priority), so a client's read never waits for an operator's scan. Fair
 * within a lane: a job's run reads a bounded number of records
 * (DC_READER_CHUNK) and may ask to be run again; it then goes to the back
 * of its lane. Jobs that can be read together (run_many: the loads of
 * gids a flash sale's submits ask about) are taken from the head of the
 * lane in one go, as many as are queued there back to back, up to
 * DC_READER_BATCH_MAX: the reads of a busy moment share one snapshot and
 * one statement per table, so a queue of reads drains in a few round
 * trips of the store instead of five each.
 *
 * Locks: one mutex (with a condition variable per lane) guards the
 * queues (the hand-off from the loop to the reader threads); completions
 * go back to the loop through the mailbox (its lock). Neither is held
 * while a job runs.
 */
#ifndef DTX_COORDINATOR_READER_H
#define DTX_COORDINATOR_READER_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"
#include "mailbox.h"

#define DC_MAIL_READ    4   /* a dc_read_job whose run is done */
#define DC_READER_CHUNK 512 /* records one run of a scan job reads */
#define DC_READER_BATCH_MAX                                                    \
	DC_LOG_PROBE_MAX /* jobs one run_many takes at most */

typedef struct dc_reader dc_reader;
typedef struct dc_read_job dc_read_job;

/* dc_read_run_fn runs job on a reader thread: it may read log and the
 * job's own memory, nothing else. Returns true when the job is done (its
 * mail is then posted), false to be run again after the jobs queued
 * behind it. */
typedef bool (*dc_read_run_fn)(dc_read_job *job, dc_log *log);

/* dc_read_many_fn runs jobs[0..n) (1 <= n <= DC_READER_BATCH_MAX, each
 * with this run_many) at once on a reader thread, where reading them
 * together costs less than one by one (one snapshot, one statement for
 * all). Each job is then done, as if its run had returned true. */
typedef void (*dc_read_many_fn)(dc_read_job **jobs, size_t n, dc_log *log);

/* dc_read_dispose_fn frees a job that will never be finished (the engine
 * stopped first). Called by dc_reader_destroy, on the destroying thread. */
typedef void (*dc_read_dispose_fn)(dc_read_job *job);

/* One job. The owner embeds it in its own struct and sets run, dispose
 * and bulk; the rest is the reader's. */
struct dc_read_job {
	dc_mail mail; /* kind DC_MAIL_READ */
	dc_read_run_fn run;
	/* NULL, or how the jobs queued one behind another that share it are
	 * run together (then run is never called) */
	dc_read_many_fn run_many;
	dc_read_dispose_fn dispose;
	bool bulk; /* an operator's read: the bulk lane */
	/* reader (private) */
	dc_read_job *qnext;       /* queue to run */
	dc_read_job *prev, *next; /* every job held */
};

/* dc_reader_create starts the reader threads on log and mb (both retained:
 * they must outlive dc_reader_destroy). Errors: DTX_EINVAL (max_jobs 0),
 * DTX_ENOMEM, DTX_EINTERNAL (no thread). */
int dc_reader_create(dc_log *log, dc_mailbox *mb, unsigned max_jobs,
                     dc_reader **ret_reader);

/* dc_reader_submit queues job (retained until dc_reader_finish or
 * dispose). Loop thread. If it returns an error, the job is not held and
 * its mail is never posted. Errors: DTX_EBUSY (max_jobs are held, or the
 * reader is stopping). */
int dc_reader_submit(dc_reader *r, dc_read_job *job);

/* dc_reader_finish gives job back to its owner once its mail arrived on
 * the loop: it no longer counts against max_jobs. Loop thread. */
void dc_reader_finish(dc_reader *r, dc_read_job *job);

/* dc_reader_held returns the jobs held: submitted, not yet finished (0
 * for NULL). Loop thread. */
unsigned dc_reader_held(dc_reader *r);

/* dc_reader_stop lets the jobs running finish (one chunk each), runs no
 * other, and joins the threads. Jobs not finished stay held until destroy. Loop
 * thread; accepts NULL. */
void dc_reader_stop(dc_reader *r);

/* dc_reader_destroy stops the reader and disposes of every job still held
 * (their mails are no longer delivered: the mailbox is closed). Accepts
 * NULL. */
void dc_reader_destroy(dc_reader *r);

#endif
