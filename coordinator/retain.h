/*
 * retain.h - when dtxd prunes its log, and whether the log is full
 * (DESIGN.md rule 9).
 *
 * The log does the pruning (coordinator/log.h, dc_log_commit_prune): in
 * the same write transaction as a group commit, bounded per commit. This
 * module decides, on the engine's loop, whether the next commit prunes and
 * how much, and keeps the log's room as the writer last measured it:
 * above DC_RETAIN_FULL_PCT of the map maximum dtxd refuses new
 * transactions ("log full") and keeps driving the ones it has; below
 * DC_RETAIN_ROOM_PCT it takes new ones again; also full while less than
 * DC_RETAIN_RESERVE is left, until twice that is. Each change is logged once.
 *
 * Never touches the log or a transaction; loop thread only.
 */
#ifndef DTX_COORDINATOR_RETAIN_H
#define DTX_COORDINATOR_RETAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

#define DC_RETAIN_FULL_PCT 90 /* refuse new transactions from here */
#define DC_RETAIN_ROOM_PCT 80 /* ... until the log is back below this */
/* ... and whenever less than this is left: the pages one group commit
 * writes before LMDB can reuse the ones it frees (a small map's 10% may be
 * less) */
#define DC_RETAIN_RESERVE ((uint64_t)2 << 20)

typedef struct dc_retain {
	int64_t final_ms;     /* --retain-final; 0 = keep everything */
	int64_t tombs_ms;     /* --retain-tombstones; 0 = keep them */
	uint32_t every_ms;    /* an idle log is pruned this often */
	int64_t last_unix_ms; /* when the last prune was planned */
	bool more;            /* the last prune stopped at its bound */
	bool full;            /* refusing new transactions */
	dc_log_usage usage;   /* as of the last commit */
	uint64_t pruned;      /* since this process started */
	uint64_t expired;
} dc_retain;

/* dc_retain_init starts r for --retain-final final_ms and
 * --retain-tombstones tombs_ms (0: keep). */
void dc_retain_init(dc_retain *r, uint64_t final_ms, uint64_t tombs_ms);

/* dc_retain_is_on: there is anything to prune ever. */
bool dc_retain_is_on(const dc_retain *r);

/* dc_retain_is_due: a prune should run now even if there is nothing else
 * to commit (the last one left work, or every_ms passed). */
bool dc_retain_is_due(const dc_retain *r, int64_t now_unix_ms);

/* dc_retain_plan fills *ret_spec for a commit sealed at now_unix_ms that
 * carries ntx transactions, and returns true, if it should prune. */
bool dc_retain_plan(dc_retain *r, int64_t now_unix_ms, size_t ntx,
                    dc_log_prune *ret_spec);

/* dc_retain_done takes what a commit pruned (NULL: it did not prune) and
 * the room the writer measured after it (NULL: not measured). */
void dc_retain_done(dc_retain *r, const dc_log_pruned *pruned,
                    const dc_log_usage *usage);

/* dc_retain_is_full: new transactions are refused ("log full"). */
bool dc_retain_is_full(const dc_retain *r);

/* dc_retain_full_message writes the refusal a client gets into buf. */
void dc_retain_full_message(const dc_retain *r, char *buf, size_t len);

/* dc_retain_pruned_message writes "final: committed, details pruned at
 * <UTC time>" for a tombstone in state and pruned at pruned_unix_ms. */
void dc_retain_pruned_message(int state, int64_t pruned_unix_ms, char *buf,
                              size_t len);

#endif
