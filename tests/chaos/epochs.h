/*
 * epochs.h - the invariants of a run of several dtxd instances on
 * PostgreSQL (issue 15), checked at rest on the audit pgrun.h exported
 * and on the instances' own log lines:
 *
 *   one-owner-per-epoch  no two processes held a shard at one epoch: not
 *                        in the store (every committed lease change),
 *                        not in what the instances believed ("shard S:
 *                        taken at epoch E" lines), and every belief is a
 *                        lease the store recorded for that instance
 *   no-stale-write       every transaction record the store accepted
 *                        was written by the process holding its shard's
 *                        lease at that instant (the last lease change of
 *                        the shard before the write names the writer)
 *
 * Reads only; every loop is bounded by the rows loaded (EPOCHS_ROWS_MAX).
 */
#ifndef DTX_CHAOS_EPOCHS_H
#define DTX_CHAOS_EPOCHS_H

#include <stdint.h>

#include "check.h"

#define EPOCHS_ROWS_MAX 50000000u

/* check_epochs (check.h): lease_changes - committed lease changes
 * naming an owner; takeovers - of those, from another process that held
 * the shard; beliefs - "taken at epoch" lines; writes - transaction
 * records checked. */
typedef check_epochs epochs_stats;

/* epochs_check checks the audit in WORKDIR/audit for a store of shards
 * shards, appends the two verdicts to r and fills *st. Returns 0, or -1
 * if the audit could not be read (reason on stderr). */
int epochs_check(const char *workdir, unsigned shards, check_result *r,
                 epochs_stats *st);

/* epochs_self_test proves the two checks fail where they must: on
 * copies of WORKDIR's audit and dtxd logs, one with a transaction write
 * by a process that never held its shard, one with a lease at a
 * (shard, epoch) the store already gave to another process, each must
 * fail its invariant (and the untouched copy pass both). Returns 0, or
 * -1 (what was missed on stderr). */
int epochs_self_test(const char *workdir, unsigned shards);

#endif
