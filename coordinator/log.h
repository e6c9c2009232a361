/*
 * log.h - the coordinator's durable log, on a store of kv.h (log.c is its
 * only caller).
 *
 * The log is one store - an LMDB environment in a directory (data.mdb,
 * lock.mdb; kv_lmdb.c) - with these tables:
 *
 *   meta     "format" -> u32 format version; "gid_floor" -> u64 largest
 *            coordinator-made id that may have been handed out
 *   txs      gid -> LogTx        (the transaction's current state)
 *   steps    gid \0 u32be(index) -> LogStep
 *   events   gid \0 u32be(seq)   -> LogEvent (append-only timeline)
 *   active   gid -> ""           (every non-final transaction; recovery
 *                                  scans only this)
 *   quarantine gid -> LogEvent   (a transaction that cannot be loaded or
 *                                  driven: when, and the cause in detail;
 *                                  created on first open by this build)
 *   finals   u64be(final unix ms) gid -> ""  (every final transaction
 *                                  whose details are kept, by the time it
 *                                  became final: what retention prunes
 *                                  first, without a scan)
 *   tombstones gid -> LogTx      (a pruned transaction: gid, mode, final
 *                                  state, created, final and pruned times)
 *   tomb_times u64be(pruned unix ms) gid -> "" (tombstones by age)
 *   leases   u32be(shard) -> lease record (owner, epoch): which instance
 *            owns the shard (owner "" = free); written free for every
 *            shard when the store's shard count is recorded, then only by
 *            compare and swap (dc_log_round_commit)
 *   beats    instance name -> beat record (counter, client and admin URL
 *            it advertises): an instance's heartbeat
 *
 * meta also holds "shards" (u32: the store's shard count M, recorded when
 * a store is first opened with dc_log_opts.shards; a later open with
 * another M is refused) and, for a store of shared writers, "gid_floor"
 * u32be(shard) per shard (each owner makes ids in its shards).
 *
 * meta also holds "counts": the number of tx records per (mode, state),
 * of tombstones and of transactions ever pruned, kept up to date by every
 * commit in the same write transaction (dtxctl stats reads them instead
 * of scanning). A log made before retention existed gets the three tables
 * and its counts (one scan of txs) when a writer first opens it.
 *
 * Every value is framed: [0xD7][format version][record type][0]
 * [crc32c LE of the 4 header bytes and the payload][payload: protobuf]. A read
 * checks all of it; a failure is DTX_ECORRUPT (or DTX_EVERSION) with a
 * message naming the file, the table and the key - never a silent repair.
 *
 * Two kinds of failure on read, two treatments (DESIGN.md rule 7): a
 * transaction whose own records fail their checks (a bad frame, CRC or
 * payload, a missing step record, fields a dc_tx cannot hold) is reported
 * as a bad transaction (dc_log_bad) so that the caller can quarantine it
 * and go on with the others; an error of the store itself (EIO, a damaged
 * B-tree, a panicked environment) is an error of the whole log
 * (crash-only).
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
#define DC_LOG_KEY_MAX        511 /* LMDB's largest key */
#define DC_LOG_WHY_MAX        400 /* bytes of a bad transaction's cause */

typedef struct dc_log dc_log;
typedef struct dc_log_counts dc_log_counts;
typedef struct dc_log_batch dc_log_batch;

typedef struct dc_log_opts {
	/* Where the log is (dc_kv_opts.where): a directory, created if
	 * missing (one level), or a store URI kv.h accepts. */
	const char *dir;
	size_t map_size;     /* initial map size; 0 = 256 MiB */
	size_t map_size_max; /* dc_log_grow stops here; 0 = 64 GiB */
	bool read_only;      /* open for offline reading (dtxctl) */
	bool no_sync;        /* UNIT TESTS ONLY: gives durability away */
	/* The deployment's shard count (1..DC_LOG_SHARDS_MAX; 0: not
	 * checked): recorded in meta when the store is made; dc_log_open
	 * fails with DTX_ECONFLICT (the reason names both counts) if the
	 * store has another. */
	uint32_t shards;
	/* One of several writers on one PostgreSQL store (dtxd instances
	 * with shard leases; needs shards): every shard gets a free lease
	 * record, and the store keeps no "counts" (several writers would
	 * overwrite each other's: dtxctl stats counts with a scan). */
	bool shared;
} dc_log_opts;

/* One line of a transaction's timeline. */
typedef struct dc_log_event {
	int64_t unix_ms;
	dc_tx_state tx_state;     /* after the event */
	int32_t step;             /* -1: about the transaction itself */
	dc_step_state step_state; /* after the event (ignored if step is -1) */
	const char *detail;       /* borrowed; may be NULL */
	const struct dc_log_edit *edit; /* borrowed; NULL but on set-branch */
} dc_log_event;

/* An operator's set-branch (LogEvent.edit): the fields that changed, the
 * others NULL. Strings are borrowed. */
typedef struct dc_log_edit {
	const char *old_url, *url;
	dtx_op op; /* whose handler changed; 0 = none */
	const char *old_handler, *handler;
} dc_log_edit;

/* A transaction that cannot be loaded: its key, printable name and cause.
 * err is 0 when nothing is wrong (or the problem was LMDB's, not the
 * transaction's). */
typedef struct dc_log_bad {
	int err;               /* DTX_ECORRUPT or DTX_EVERSION; 0: not bad */
	bool quarantined;      /* already in the quarantine table */
	int64_t since_unix_ms; /* when it was quarantined (if quarantined) */
	uint8_t key[DC_LOG_KEY_MAX];
	size_t key_len;
	/* key if it is a valid gid, else "bad-key:" and its first bytes in
	 * hex: always a valid gid, for messages and listings */
	char gid[DTX_GID_MAX + 1];
	char why[DC_LOG_WHY_MAX]; /* "table steps, key "g"#1: CRC mismatch" */
} dc_log_bad;

/* dc_log_bad_set makes *bad describe gid (borrowed; at most
 * DC_LOG_KEY_MAX bytes are kept) as bad for reason why (copied, cut at
 * DC_LOG_WHY_MAX - 1 bytes), not yet quarantined. */
void dc_log_bad_set(dc_log_bad *bad, const char *gid, int err, const char *why);

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

/* dc_log_path returns the data file's path (dc_kv_describe: for a URI,
 * without its password; borrowed, lives with log). */
const char *dc_log_path(const dc_log *log);

/* dc_log_last_error returns a one-line reason for the last error a call on
 * a log returned on the calling thread, naming the file and, for a bad
 * record, the table and key (borrowed: valid on this thread until its next
 * failing call; "" if none). A worker that hands a failure to another
 * thread copies the text first. */
const char *dc_log_last_error(const dc_log *log);

/* ---- batches (group commit) ---- */

/* dc_log_batch_create / _destroy / _reset: a reusable list of writes. */
int dc_log_batch_create(dc_log_batch **ret_batch);
void dc_log_batch_destroy(dc_log_batch *batch);
void dc_log_batch_reset(dc_log_batch *batch);

/* dc_log_batch_put_tx encodes tx now (a snapshot: tx may change right after)
 * into batch: the tx record, the step records in dirty_steps (bit i = step i;
 * bit 63 = steps 63 and above; UINT64_MAX = all), and the active index
 * (removed if tx is final; added if it is not and dirty_steps is
 * UINT64_MAX: a transaction's first put must write it whole, and no
 * final transaction becomes non-final again, so its entry stands from
 * then on). Errors: DTX_ENOMEM. */
int dc_log_batch_put_tx(dc_log_batch *batch, const dc_tx *tx,
                        uint64_t dirty_steps);

/* dc_log_batch_add_event appends ev as history entry seq of gid. */
int dc_log_batch_add_event(dc_log_batch *batch, const char *gid, uint32_t seq,
                           const dc_log_event *ev);

/* dc_log_batch_quarantine puts bad's transaction (borrowed) into the
 * quarantine table with its cause and unix_ms. Its own records are left
 * as they are, for an operator. Errors: DTX_EINVAL (bad->key_len is 0),
 * DTX_ENOMEM. */
int dc_log_batch_quarantine(dc_log_batch *batch, const dc_log_bad *bad,
                            int64_t unix_ms);

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

/* ---- retention (DESIGN.md rule 9) ---- */

/* What one commit prunes besides its batch: final transactions whose final
 * time is before final_before_ms (0: none), at most max_final of them, the
 * oldest first, each replaced by a tombstone stamped now_unix_ms; and
 * tombstones made before tomb_before_ms (0: none), at most max_tombs. */
typedef struct dc_log_prune {
	int64_t now_unix_ms;
	int64_t final_before_ms;
	uint32_t max_final;
	int64_t tomb_before_ms;
	uint32_t max_tombs;
	/* A writer of a shared store (shard leases) prunes only the shards
	 * it owns, each conditional on its lease as a batch fence is
	 * (dc_log_batch_fence): owner is its name and epoch[s] the epoch of
	 * shard s it owns (0: not owned, skipped), for nshards shards; a
	 * lease that moved fails the whole commit with DTX_ECONFLICT. owner
	 * NULL: one writer, every shard. */
	const char *owner;
	const uint64_t *epoch;
	uint32_t nshards;
} dc_log_prune;

/* What a commit pruned: more_* says the bound was reached before the
 * cutoff (another round has work). */
typedef struct dc_log_pruned {
	uint32_t pruned;
	uint32_t expired;
	bool more_final;
	bool more_tombs;
} dc_log_pruned;

/* dc_log_commit_prune is dc_log_commit that, in the same write
 * transaction, after batch (which may be empty), removes what spec asks
 * for (NULL: nothing) from every table and tells what in *ret_pruned
 * (written on success; may be NULL). A transaction found in finals but
 * not final in txs (never written so) only loses its index entry. Same
 * errors as dc_log_commit. */
int dc_log_commit_prune(dc_log *log, const dc_log_batch *batch,
                        const dc_log_prune *spec, dc_log_pruned *ret_pruned);

/* Counts kept up to date by every commit (see the top comment). */
struct dc_log_counts {
	uint64_t by_state[3][DC_TX_STATE_COUNT]; /* [mode][state] tx records */
	uint64_t tombstones;
	uint64_t pruned; /* transactions pruned since the log was made */
};

/* dc_log_counts_read reads the counts as of the last commit. Errors:
 * DTX_ENOENT (a log made before retention, opened read-only: count with
 * a scan), DTX_ECORRUPT, DTX_EIO. */
int dc_log_counts_read(dc_log *log, dc_log_counts *ret_counts);

/* The room the log takes: used_bytes in pages of its tables (pages freed
 * by pruning are reused, so this levels off when pruning keeps up),
 * file_bytes up to the last page ever written, max_bytes the most the
 * map may grow to. */
typedef struct dc_log_usage {
	uint64_t used_bytes;
	uint64_t file_bytes;
	uint64_t max_bytes;
} dc_log_usage;

/* dc_log_usage_read measures the log in one read transaction: a constant
 * cost (a stat per table), safe on any thread. Errors: DTX_EIO. */
int dc_log_usage_read(dc_log *log, dc_log_usage *ret_usage);

/* dc_log_grow doubles the map size (up to map_size_max). Errors: DTX_ELIMIT
 * (already at the maximum), DTX_EIO. */
int dc_log_grow(dc_log *log);

/* ---- reads ---- */

/* dc_log_load_tx reads gid with all its steps into a new dc_tx (transferred
 * to the caller). A pruned gid whose tombstone is kept loads as that
 * tombstone: a final dc_tx with no steps and pruned_unix_ms set (so every
 * reader - a resubmit, a query, FinalQuery, dtxctl - gets a definite
 * final answer); once the tombstone expired the gid is unknown. Errors:
 * DTX_ENOENT, DTX_ECORRUPT, DTX_EVERSION, DTX_ENOMEM, DTX_EIO. */
int dc_log_load_tx(dc_log *log, const char *gid, dc_tx **ret_tx);

/* dc_log_load_tx_checked is dc_log_load_tx for a daemon that quarantines:
 * a gid found in the quarantine table, or one whose records fail their
 * checks, returns DTX_ECORRUPT or DTX_EVERSION with *ret_bad filled
 * (ret_bad->err set; ret_bad->quarantined says whether the quarantine
 * table has it already). Any other error (DTX_ENOENT, DTX_EIO, an
 * DTX_ECORRUPT of LMDB itself, DTX_ENOMEM) leaves ret_bad->err 0. */
int dc_log_load_tx_checked(dc_log *log, const char *gid, dc_tx **ret_tx,
                           dc_log_bad *ret_bad);

#define DC_LOG_PROBE_MAX 256 /* gids per dc_log_probe_gids */

/* dc_log_probe_gids tells, for each of the n gids (borrowed; n at most
 * DC_LOG_PROBE_MAX), whether the log holds anything under it - a tx
 * record, a tombstone or a quarantine entry - in ret_known[i] (n
 * entries), read in one snapshot. It checks no record: a known gid is
 * then read with dc_log_load_tx_checked, which does. It is the cheap
 * answer for the common case of a new client gid (a submit's check that
 * its gid names nothing): on PostgreSQL one statement per table for all n
 * gids, where a dc_log_load_tx_checked costs five round trips each.
 * Errors: DTX_EINVAL (n 0 or too large, a gid that cannot be a key),
 * DTX_ENOMEM, DTX_EIO. */
int dc_log_probe_gids(dc_log *log, const char *const *gids, size_t n,
                      bool *ret_known);

/* dc_log_salvage_tx reads what can be read of gid for an operator
 * (dtxctl show of a quarantined transaction): *ret_tx (transferred) has
 * gid's printable name and, if its tx record decodes, its fields and
 * every step record that decodes (the other steps zeroed: state 0, no
 * strings; no steps at all past DC_TX_STEPS_MAX); *ret_bad says what is
 * wrong with it (err 0: nothing). Errors: DTX_ENOENT (no tx record and
 * not quarantined), DTX_ENOMEM, DTX_EIO. */
int dc_log_salvage_tx(dc_log *log, const char *gid, dc_tx **ret_tx,
                      dc_log_bad *ret_bad);

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

/* dc_log_bad_fn receives a transaction the scan could not load (bad
 * borrowed, valid during the call). Return DTX_OK to go on. */
typedef int (*dc_log_bad_fn)(void *arg, const dc_log_bad *bad);

/* dc_log_scan_checked is dc_log_scan_after that does not stop at a bad
 * transaction: a key in the quarantine table, one whose records fail their
 * checks, or an active entry with no tx record goes to bad instead of fn
 * (see dc_log_load_tx_checked). Errors: DTX_EIO and the like (of LMDB, not
 * of one transaction), DTX_ENOMEM, and whatever fn or bad returned. */
int dc_log_scan_checked(dc_log *log, bool all, const char *after,
                        dc_log_tx_fn fn, dc_log_bad_fn bad, void *arg);

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

/* ---- shard leases: several writers on one store ---- */

#define DC_LOG_SHARDS_MAX 1024 /* the gid's shard bits */
#define DC_LOG_NAME_MAX   63   /* an instance name: [A-Za-z0-9._-] */
#define DC_LOG_URL_MAX    255  /* an advertised URL */

/* A shard's lease record: owner "" is a free shard; epoch rises with
 * every new owner. */
typedef struct dc_log_lease {
	char owner[DC_LOG_NAME_MAX + 1];
	uint64_t epoch;
} dc_log_lease;

/* An instance's heartbeat record. */
typedef struct dc_log_beat {
	char name[DC_LOG_NAME_MAX + 1];
	uint64_t beat;
	char client_url[DC_LOG_URL_MAX + 1]; /* "" = none advertised */
	char admin_url[DC_LOG_URL_MAX + 1];
	int64_t unix_ms; /* the writer's wall clock; 0 unknown (operators
	                    only: no decision reads it) */
} dc_log_beat;

/* One lease of a round: expect old, write neu (neu equal to old: only
 * expect - a lease kept). */
typedef struct dc_log_lease_cas {
	uint32_t shard;
	dc_log_lease old;
	dc_log_lease neu;
} dc_log_lease_cas;

/* dc_log_shards reads meta "shards" into *ret_shards (0: none recorded).
 * Errors: DTX_ECORRUPT, DTX_EIO. */
int dc_log_shards(dc_log *log, uint32_t *ret_shards);

/* dc_log_leases_read reads, in one read transaction (a consistent
 * snapshot), the lease records of shards 0..nshards-1 into ret_leases
 * (caller-owned, nshards of them; a missing record reads as free, epoch
 * 0) and up to max_beats heartbeat records into ret_beats, their number in
 * *ret_nbeats. Errors: DTX_EINVAL (nshards 0 or over DC_LOG_SHARDS_MAX),
 * DTX_ELIMIT (more than max_beats heartbeats), DTX_ECORRUPT (a record
 * fails its frame, CRC or shape: the reason names it), DTX_EIO. */
int dc_log_leases_read(dc_log *log, dc_log_lease *ret_leases, uint32_t nshards,
                       dc_log_beat *ret_beats, uint32_t max_beats,
                       uint32_t *ret_nbeats);

/* dc_log_round_commit writes one lease round in one write transaction:
 * every cas[i] (borrowed) is conditional on its lease record still being
 * cas[i].old, and the heartbeat new_beat on new_beat->name's record still
 * being old_beat (NULL: absent). If any condition fails nothing is
 * written and the result is DTX_ECONFLICT. Errors: DTX_EINVAL (a bad
 * shard, name or URL; read-only), DTX_ECONFLICT, DTX_EIO, DTX_ENOSPC. */
int dc_log_round_commit(dc_log *log, const dc_log_lease_cas *cas, uint32_t ncas,
                        const dc_log_beat *old_beat,
                        const dc_log_beat *new_beat);

/* dc_log_batch_fence makes batch's commit conditional on shard's lease
 * still being (owner, epoch) (owner borrowed): if it changed - another
 * instance took the shard - the commit writes nothing and returns
 * DTX_ECONFLICT. A shard is fenced once per batch (a second call for it
 * is a no-op until dc_log_batch_reset). Errors: DTX_EINVAL (shard over
 * DC_LOG_SHARDS_MAX, a bad owner), DTX_ENOMEM. */
int dc_log_batch_fence(dc_log_batch *batch, uint32_t shard, const char *owner,
                       uint64_t epoch);

/* dc_log_batch_set_shard_gid_floor records that ids up to id may have
 * been made in shard (a store of shared writers: one floor per shard).
 * dc_log_shard_gid_floor reads it (0 if none). Errors: DTX_EINVAL (shard),
 * DTX_ENOMEM; reading: DTX_ECORRUPT, DTX_EIO. */
int dc_log_batch_set_shard_gid_floor(dc_log_batch *batch, uint32_t shard,
                                     uint64_t id);
int dc_log_shard_gid_floor(dc_log *log, uint32_t shard, uint64_t *ret_id);

#endif
