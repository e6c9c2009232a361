/*
 * check.h - the checker of a finished run, in the manner of Jepsen's
 * history checkers: it reads, at rest and read-only, the coordinator's
 * log (every transaction, its steps and its timeline), every service's
 * store (business tables, the call journal, the barrier records), the
 * buyers' history, and checks the invariants of issue 7:
 *
 *   the shop's 13 (examples/shop/checker.c: money conserved, no negative
 *   balance, no oversell, codes unique and only to paid orders, ...),
 *   all-or-nothing     a committed purchase took effect at all four
 *                      services, a rolled-back one at none, and no store
 *                      holds an effect of a gid the log does not know
 *   all-final          every transaction in the log is final
 *   applied-once       the journal counts each (gid, branch, op) once
 *   no-late-effect     no Try applied after its Cancel, no action after
 *                      its compensation, no branch both confirmed and
 *                      cancelled
 *   told-matches-final what each buyer was told is the final state; a
 *                      TCC never asked to commit ended cancelled
 *   legal-transitions  every step of every timeline is a transition of
 *                      the saga or TCC state machine
 *   log-intact         every log record passes its checksum
 *
 * Each invariant gets its number of violations, the first offending gid
 * and the evidence. The checker never writes anything.
 */
#ifndef DTX_CHAOS_CHECK_H
#define DTX_CHAOS_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtx/dtx.h>

#include "chaos.h"
#include "history.h"

#define CHECK_ITEMS_MAX 32
#define CHECK_STATES    8 /* dtx_tx_state values 1..7 */

typedef struct check_item {
	char name[32];
	char says[200];
	bool ok;
	uint64_t violations;
	char first_gid[DTX_GID_MAX + 1];
	char evidence[400];
} check_item;

typedef struct check_summary {
	uint64_t log_txs, log_events, history_lines;
	uint64_t by_state[MODE_COUNT][CHECK_STATES]; /* the log's */
	uint64_t told[MODE_COUNT][TOLD_COUNT];       /* the history's */
	uint64_t barrier_records, null_compensations;
	uint64_t journal_rows;
} check_summary;

/* What epochs.c counted (a PostgreSQL run; zero otherwise). */
typedef struct check_epochs {
	uint64_t lease_changes, takeovers, beliefs, writes;
} check_epochs;

typedef struct check_result {
	check_item items[CHECK_ITEMS_MAX];
	size_t nitems, failed;
	check_summary sum;
	check_epochs epochs;
} check_result;

/* check_run checks the run in workdir (stopped) into *ret. Returns 0,
 * or -1 if something could not be read at all (reason on stderr). */
int check_run(const char *workdir, check_result *ret);

/* check_add appends one invariant's verdict (strings copied). */
void check_add(check_result *r, const char *name, const char *says,
               uint64_t violations, const char *gid, const char *evidence);

/* check_find returns the item named name, or NULL. */
const check_item *check_find(const check_result *r, const char *name);

#endif
