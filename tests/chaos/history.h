/*
 * history.h - what each buyer was told, one line per purchase, in the
 * manner of a Jepsen history: the checker compares every claim with the
 * coordinator's final state of that transaction.
 *
 *   <gid> <mode> <buyer> <qty> <told> <commit_sent> <ms> <end> <detail...>
 *
 * told is committed (the buyer was told the purchase went through: a
 * final COMMITTED, or a TCC decision to confirm), rolled-back (told it
 * did not: COMPENSATED, CANCELLED, or a decision to cancel), unknown
 * (an error or a timeout: no claim) or abandoned (a TCC buyer who
 * walked away after its Tries). commit_sent is 1 once a TCC buyer asked
 * to commit: a TCC transaction never asked to commit must end CANCELLED.
 * ms is how long the purchase took, end when it ended (unix ms).
 *
 * The buyer appends each line with one write(2) on an O_APPEND file, so
 * lines of its threads never interleave and a crash loses no line that
 * was written.
 */
#ifndef DTX_CHAOS_HISTORY_H
#define DTX_CHAOS_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtx/dtx.h>

#include "chaos.h"

typedef enum told {
	TOLD_COMMITTED,
	TOLD_ROLLED_BACK,
	TOLD_UNKNOWN,
	TOLD_ABANDONED,
	TOLD_COUNT
} told;

typedef struct hist_rec {
	char gid[DTX_GID_MAX + 1];
	chaos_mode mode;
	unsigned buyer, qty;
	told t;
	bool commit_sent;
	unsigned ms;
	int64_t end_unix_ms;
	char detail[160];
} hist_rec;

/* told_name returns "committed", "rolled-back", "unknown", "abandoned". */
const char *told_name(told t);

/* history_write appends r to the file fd as one line (one write).
 * Returns 0 or -1 (errno set). */
int history_write(int fd, const hist_rec *r);

/* history_load reads every line of path into a new array sorted by gid
 * (freed by the caller; *ret_n lines). A missing file is an empty
 * history. Returns 0, or -1 on a malformed line or out of memory (the
 * reason on stderr). */
int history_load(const char *path, hist_rec **ret, size_t *ret_n);

/* history_find returns the record of gid in a sorted array, or NULL. */
const hist_rec *history_find(const hist_rec *h, size_t n, const char *gid);

#endif
