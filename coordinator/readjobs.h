/*
 * readjobs.h - the reads the engine hands to its reader (reader.h): one
 * transaction for a request about a gid not in memory, the final states a
 * participant's FinalQuery asks for, and the admin API's list, show and
 * stats.
 *
 * A job holds copies of everything it reads from (a gid, a request's
 * bytes, a live transaction's copy) and its result; the engine creates it
 * on the loop, the reader runs it, and the loop uses its result and
 * destroys it. owner is the engine's (the request the job is for): a job
 * never touches it. No job changes the log or decides anything for the
 * engine: quarantining a transaction, or stopping on an error of the log
 * itself, stays the loop's (the job only reports).
 */
#ifndef DTX_COORDINATOR_READJOBS_H
#define DTX_COORDINATOR_READJOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "admin.h"
#include "log.h"
#include "reader.h"
#include "tx.h"

#define DC_READ_ERR_MAX 256 /* bytes of a failed read's reason */
#define DC_READ_FINALS_RUN                                                     \
	64 /* transactions a FinalQuery job loads per run                      \
	    */

/* dc_read_check returns true if tx, read back from the log, can be held
 * and driven (dc_tx_check, dc_machine_check); otherwise it describes why
 * in *bad. Pure: any thread. */
bool dc_read_check(const dc_tx *tx, dc_log_bad *bad);

typedef enum dc_read_kind {
	DC_READ_LOAD = 1,   /* dc_load_job */
	DC_READ_FINALS = 2, /* dc_finals_job */
	DC_READ_ADMIN = 3,  /* dc_admin_job */
} dc_read_kind;

/* The first member of every job of this file. */
typedef struct dc_read_head {
	dc_read_job base;
	dc_read_kind kind;
	void *owner; /* the engine's; never touched off the loop */
} dc_read_head;

/* One transaction, loaded and checked as for driving it. */
typedef struct dc_load_job {
	dc_read_head head; /* kind DC_READ_LOAD */
	uint32_t epoch;    /* the engine's, for its own checks */
	char gid[DTX_GID_MAX + 1];
	/* result: rv DTX_OK (tx set), DTX_ENOENT, DTX_ECORRUPT/DTX_EVERSION
	 * with bad.err set (a bad transaction), or an error of the log (err
	 * holds the reason) */
	int rv;
	dc_tx *tx; /* owned by the job until taken */
	dc_log_bad bad;
	char err[DC_READ_ERR_MAX];
} dc_load_job;

/* What the log says about one gid of a FinalQuery. */
typedef struct dc_final_read {
	char gid[DTX_GID_MAX + 1];
	int rv; /* as in dc_load_job */
	bool final;
	dc_tx_state state;
	int64_t final_unix_ms;
	dc_log_bad *bad; /* set (owned) when the transaction is bad */
} dc_final_read;

/* Final states of up to WIRE_FINAL_QUERY_MAX gids. fatal is set by the
 * first error of the log itself (the job stops there). */
typedef struct dc_finals_job {
	dc_read_head head; /* kind DC_READ_FINALS */
	size_t n, next;
	dc_final_read *reads; /* n entries, owned */
	int fatal;
	char err[DC_READ_ERR_MAX];
} dc_finals_job;

/* An admin read (list, show, stats), answered with a packed AdminReply. */
typedef struct dc_admin_job {
	dc_read_head head; /* kind DC_READ_ADMIN */
	uint8_t *body;     /* the request's bytes, copied (owned) */
	size_t len;
	int64_t now_unix_ms;
	size_t max_bytes;       /* --max-msg-bytes */
	dc_tx *tx;              /* show: a live transaction's copy (owned) */
	int64_t *next_retry;    /* ... and its backoffs (owned) */
	dc_admin_stats_scan ss; /* stats: the counts so far */
	bool log_full;          /* stats: the engine refuses new work */
	uint8_t *reply; /* result: packed (owned); NULL = out of memory */
	size_t reply_len;
} dc_admin_job;

/* dc_load_job_create makes a job loading gid (copied; a valid gid).
 * Errors: DTX_ENOMEM. */
int dc_load_job_create(const char *gid, dc_load_job **ret_job);

/* dc_finals_job_create makes a job reading the final state of gids[0..n)
 * (copied). Errors: DTX_ENOMEM. */
int dc_finals_job_create(const char *const *gids, size_t n,
                         dc_finals_job **ret_job);

/* dc_admin_job_create makes a job answering the admin request in body
 * (len bytes, copied; it decoded as a list, show or stats on the loop).
 * tx and next_retry (transferred on success; may be NULL) are a show's
 * live transaction. Errors: DTX_ENOMEM. */
int dc_admin_job_create(const void *body, size_t len, dc_tx *tx,
                        int64_t *next_retry, dc_admin_job **ret_job);

/* dc_read_job_destroy frees any job of this file (h) and what it owns.
 * Accepts NULL. */
void dc_read_job_destroy(dc_read_head *h);

/* dc_read_head_of returns the head of the job whose mail arrived. */
dc_read_head *dc_read_head_of(dc_mail *mail);

#endif
