/*
 * log.h - the coordinator's durable log: the only module that calls LMDB.
 *
 * The log is one LMDB environment in a directory (data.mdb, lock.mdb) with
 * these sub-databases:
 *
 *   meta     "format" -> u32 format version; "gid_floor" -> u64 largest
 *            coordinator-made id that may have been handed out
 *   txs      gid -> LogTx        (the transaction's current state)
 *   steps    gid \0 u32be(index) -> LogStep
 *   events   gid \0 u32be(seq)   -> LogEvent (append-only timeline)
 *   active   gid -> ""           (every non-final transaction; recovery
 *                                  scans only this)
 *
 * Every value is framed: [0xD7][format version][record type][0]
 * [crc32c LE of the 4 header bytes and the payload][payload: protobuf]. A read
 * checks all of it; a failure is DTX_ECORRUPT (or DTX_EVERSION) with a
 * message naming the file, the table and the key - never a silent repair.
 *
 * Durability: the environment is opened with LMDB's default sync flags (a
 * commit returns after fdatasync). no_sync exists for unit tests only.
 *
 * Threads: a batch is built on one thread (the engine's loop) and committed
 * on another (the writer); one commit at a time. Reads may run on any
 * thread (MDB_NOTLS). dc_log_grow must run with no transaction open in the
 * process.
 */
#ifndef DTX_COORDINATOR_LOG_H
#define DTX_COORDINATOR_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tx.h"

#define DC_LOG_FORMAT_VERSION 1

typedef struct dc_log dc_log;
typedef struct dc_log_batch dc_log_batch;

typedef struct dc_log_opts {
	const char *dir;     /* created if missing (one level) */
	size_t map_size;     /* initial map size; 0 = 256 MiB */
	size_t map_size_max; /* dc_log_grow stops here; 0 = 64 GiB */
	bool read_only;      /* open for offline reading (dtxctl) */
	bool no_sync;        /* UNIT TESTS ONLY: gives durability away */
} dc_log_opts;

/* One line of a transaction's timeline. */
typedef struct dc_log_event {
	int64_t unix_ms;
	dc_tx_state tx_state;     /* after the event */
	int32_t step;             /* -1: about the transaction itself */
	dc_step_state step_state; /* after the event (ignored if step is -1) */
	const char *detail;       /* borrowed; may be NULL */
} dc_log_event;

/* dc_log_open opens (creating if needed) the log in opts->dir. On failure a
 * one-line reason naming the file and the problem is written to errbuf.
 * A writer (not read_only) holds the directory's writer lock until
 * dc_log_close. Errors: DTX_EBUSY (another process writes this log: the
 * reason names its pid), DTX_EINVAL, DTX_EIO, DTX_ENOSPC, DTX_ECORRUPT (not
 * an LMDB file, or a record fails its checks), DTX_EVERSION (format newer than
 * this build), DTX_ENOMEM. */
int dc_log_open(const dc_log_opts *opts, dc_log **ret_log, char *errbuf,
                size_t errlen);

/* dc_log_close closes the environment. Accepts NULL. */
void dc_log_close(dc_log *log);

/* dc_log_path returns the data file's path (borrowed, lives with log). */
const char *dc_log_path(const dc_log *log);

/* dc_log_last_error returns a one-line reason for the last error a call on
 * log returned, naming the file and, for a bad record, the table and key
 * (borrowed, lives with log, overwritten by the next failing call; "" if
 * none). Shared by all threads: read it where no other call on log can fail
 * concurrently. */
const char *dc_log_last_error(const dc_log *log);

/* ---- batches (group commit) ---- */

/* dc_log_batch_create / _destroy / _reset: a reusable list of writes. */
int dc_log_batch_create(dc_log_batch **ret_batch);
void dc_log_batch_destroy(dc_log_batch *batch);
void dc_log_batch_reset(dc_log_batch *batch);

/* dc_log_batch_put_tx encodes tx now (a snapshot: tx may change right after)
 * into batch: the tx record, the step records in dirty_steps (bit i = step i;
 * bit 63 = steps 63 and above; UINT64_MAX = all), and the active index (added
 * if tx is not final, removed if it is). Errors: DTX_ENOMEM. */
int dc_log_batch_put_tx(dc_log_batch *batch, const dc_tx *tx,
                        uint64_t dirty_steps);

/* dc_log_batch_add_event appends ev as history entry seq of gid. */
int dc_log_batch_add_event(dc_log_batch *batch, const char *gid, uint32_t seq,
                           const dc_log_event *ev);

/* dc_log_batch_set_gid_floor records that ids up to id may be handed out. */
int dc_log_batch_set_gid_floor(dc_log_batch *batch, uint64_t id);

/* dc_log_batch_len returns the number of writes in batch. */
size_t dc_log_batch_len(const dc_log_batch *batch);

/* dc_log_commit writes batch in one LMDB write transaction and syncs it.
 * On error nothing of batch is durable. Errors: DTX_ELIMIT (the map is full:
 * call dc_log_grow with no transaction open, then commit the same batch
 * again), DTX_EIO, DTX_ENOSPC (the caller must stop the process: crash-only),
 * DTX_ENOMEM. Thread-safe against readers; one committer at a time. */
int dc_log_commit(dc_log *log, const dc_log_batch *batch);

/* dc_log_grow doubles the map size (up to map_size_max). Errors: DTX_ELIMIT
 * (already at the maximum), DTX_EIO. */
int dc_log_grow(dc_log *log);

/* ---- reads ---- */

/* dc_log_load_tx reads gid with all its steps into a new dc_tx (transferred
 * to the caller). Errors: DTX_ENOENT, DTX_ECORRUPT, DTX_EVERSION,
 * DTX_ENOMEM, DTX_EIO. */
int dc_log_load_tx(dc_log *log, const char *gid, dc_tx **ret_tx);

/* dc_log_tx_fn receives a loaded transaction (transferred). Return DTX_OK to
 * go on, anything else to stop the scan with that error. */
typedef int (*dc_log_tx_fn)(void *arg, dc_tx *tx);

/* dc_log_scan_active loads every non-final transaction in gid order.
 * dc_log_scan_all loads every transaction. Errors: those of dc_log_load_tx
 * and whatever fn returned. */
int dc_log_scan_active(dc_log *log, dc_log_tx_fn fn, void *arg);
int dc_log_scan_all(dc_log *log, dc_log_tx_fn fn, void *arg);

/* dc_log_scan_after is dc_log_scan_all (all) or dc_log_scan_active (!all)
 * starting after gid `after` (borrowed; NULL: from the first), for paged
 * listings (dtxctl list). Same errors. */
int dc_log_scan_after(dc_log *log, bool all, const char *after, dc_log_tx_fn fn,
                      void *arg);

/* dc_log_event_fn receives one history entry (ev and its detail borrowed). */
typedef int (*dc_log_event_fn)(void *arg, uint32_t seq, const dc_log_event *ev);

/* dc_log_read_events calls fn for gid's timeline in order. */
int dc_log_read_events(dc_log *log, const char *gid, dc_log_event_fn fn,
                       void *arg);

/* dc_log_gid_floor reads the recorded id floor (0 if none). */
int dc_log_gid_floor(dc_log *log, uint64_t *ret_id);

/* dc_log_check verifies every record of every table (framing, version,
 * CRC, decode) and returns the number of bad records in *ret_bad, writing the
 * first problem to errbuf. Errors: DTX_EIO, DTX_ENOMEM. */
int dc_log_check(dc_log *log, uint64_t *ret_records, uint64_t *ret_bad,
                 char *errbuf, size_t errlen);

#endif
