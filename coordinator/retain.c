/*
 * retain.c - the pruning schedule and the log-full state (see retain.h).
 *
 * How much one commit prunes. A commit's batch carries ntx transactions,
 * each of which becomes final at most once, so up to ntx transactions
 * become due per commit once the retention period has passed; pruning
 * up to 2 * ntx + PRUNE_MIN per commit drains any backlog at least twice
 * as fast as it forms, and PRUNE_MAX bounds the work one commit adds
 * (each pruned saga is about a dozen B-tree deletes and two puts in pages
 * the commit writes anyway; the fsync is the commit's own). A prune only
 * rides on a commit when it is due: the last one stopped at its bound
 * (a backlog), or every_ms passed. An idle dtxd commits a prune alone
 * every every_ms, and only if something was due (log.c commits nothing
 * otherwise: no fsync for nothing).
 *
 * every_ms is a tenth of the shorter retention, between 100 ms and 10 s:
 * a transaction lives at most about 10% longer than asked, and a test
 * with --retain-final 1s sees it pruned within a second or two.
 */
#include "retain.h"

#include <stdio.h>
#include <time.h>

#include <dtx/dtx.h>

#include "diag.h"

#define PRUNE_MIN     64
#define PRUNE_MAX     1024
#define EVERY_MIN_MS  100
#define EVERY_MAX_MS  10000
#define RETAIN_MAX_MS (INT64_C(100) * 365 * 86400000)

static int64_t clamp_ms(uint64_t ms)
{
	return ms > (uint64_t)RETAIN_MAX_MS ? RETAIN_MAX_MS : (int64_t)ms;
}

void dc_retain_init(dc_retain *r, uint64_t final_ms, uint64_t tombs_ms)
{
	int64_t shortest;

	*r = (dc_retain){.final_ms = clamp_ms(final_ms),
	                 .tombs_ms = clamp_ms(tombs_ms)};
	shortest = r->final_ms;
	if (r->tombs_ms != 0 && (shortest == 0 || r->tombs_ms < shortest))
		shortest = r->tombs_ms;
	shortest /= 10;
	r->every_ms = shortest < EVERY_MIN_MS   ? EVERY_MIN_MS
	              : shortest > EVERY_MAX_MS ? EVERY_MAX_MS
	                                        : (uint32_t)shortest;
}

bool dc_retain_is_on(const dc_retain *r)
{
	return r->final_ms != 0 || r->tombs_ms != 0;
}

bool dc_retain_is_due(const dc_retain *r, int64_t now_unix_ms)
{
	if (!dc_retain_is_on(r))
		return false;
	return r->more || now_unix_ms - r->last_unix_ms >= r->every_ms ||
	       now_unix_ms < r->last_unix_ms; /* the wall clock went back */
}

bool dc_retain_plan(dc_retain *r, int64_t now_unix_ms, size_t ntx,
                    dc_log_prune *ret_spec)
{
	size_t max = PRUNE_MIN + 2 * ntx;

	if (!dc_retain_is_due(r, now_unix_ms))
		return false;
	if (max > PRUNE_MAX)
		max = PRUNE_MAX;
	*ret_spec = (dc_log_prune){
	        .now_unix_ms = now_unix_ms,
	        .final_before_ms =
	                r->final_ms != 0 ? now_unix_ms - r->final_ms : 0,
	        .max_final = (uint32_t)max,
	        .tomb_before_ms =
	                r->tombs_ms != 0 ? now_unix_ms - r->tombs_ms : 0,
	        .max_tombs = (uint32_t)max,
	};
	r->last_unix_ms = now_unix_ms;
	r->more = false; /* until this prune says otherwise */
	return true;
}

/* pct returns used as a percentage of max (0 if max is unknown). */
static unsigned pct(const dc_log_usage *u)
{
	return u->max_bytes ? (unsigned)(u->used_bytes * 100 / u->max_bytes)
	                    : 0;
}

/* is_over: u is at pct_limit of the maximum, or leaves less than
 * reserve. */
static bool is_over(const dc_log_usage *u, unsigned pct_limit, uint64_t reserve)
{
	return u->max_bytes != 0 &&
	       (pct(u) >= pct_limit || u->used_bytes + reserve > u->max_bytes);
}

/* mib renders bytes as MiB with one decimal. */
static double mib(uint64_t bytes)
{
	return (double)bytes / (1 << 20);
}

/* take_usage moves the log-full state by the room measured, logging
 * each change once. */
static void take_usage(dc_retain *r, const dc_log_usage *u)
{
	r->usage = *u;
	if (!r->full && is_over(u, DC_RETAIN_FULL_PCT, DC_RETAIN_RESERVE)) {
		r->full = true;
		dc_diag(DTX_LOG_WARN,
		        "log full: %.1f of %.1f MiB in use (limit %d%% of "
		        "--map-size-max-mb, at least %.0f MiB left): refusing "
		        "new transactions, driving the running ones to their "
		        "end; room comes back as --retain-final prunes, or "
		        "raise --map-size-max-mb",
		        mib(u->used_bytes), mib(u->max_bytes),
		        DC_RETAIN_FULL_PCT, mib(DC_RETAIN_RESERVE));
	} else if (r->full &&
	           !is_over(u, DC_RETAIN_ROOM_PCT, 2 * DC_RETAIN_RESERVE)) {
		r->full = false;
		dc_diag(DTX_LOG_WARN,
		        "log has room again: %.1f of %.1f MiB in use: taking "
		        "new transactions",
		        mib(u->used_bytes), mib(u->max_bytes));
	}
}

void dc_retain_done(dc_retain *r, const dc_log_pruned *pruned,
                    const dc_log_usage *usage)
{
	if (pruned != NULL) {
		r->more = pruned->more_final || pruned->more_tombs;
		r->pruned += pruned->pruned;
		r->expired += pruned->expired;
		if (pruned->pruned + pruned->expired > 0)
			dc_diag(DTX_LOG_DEBUG,
			        "retention: pruned %u, expired %u tombstones%s",
			        pruned->pruned, pruned->expired,
			        r->more ? " (more due)" : "");
	}
	if (usage != NULL)
		take_usage(r, usage);
}

bool dc_retain_is_full(const dc_retain *r)
{
	return r->full;
}

void dc_retain_full_message(const dc_retain *r, char *buf, size_t len)
{
	snprintf(buf, len,
	         "log full: %.1f of %.1f MiB of the coordinator's log in use "
	         "(new transactions are refused above %d%%; running ones go "
	         "on); try again later",
	         mib(r->usage.used_bytes), mib(r->usage.max_bytes),
	         DC_RETAIN_FULL_PCT);
}

void dc_retain_pruned_message(int state, int64_t pruned_unix_ms, char *buf,
                              size_t len)
{
	time_t t = (time_t)(pruned_unix_ms / 1000);
	char when[40] = "?";
	struct tm tm;

	if (gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "final: %s, details pruned at %s.%03dZ",
	         dtx_tx_state_name(state), when, (int)(pruned_unix_ms % 1000));
}
