/*
 * schedule.c - drawing the fault schedule from the seed (see
 * schedule.h).
 *
 * Gaps between events are uniform in [gap/2, 3*gap/2], so a run sees a
 * steady stream of faults, overlapping where they happen to. Kinds are
 * drawn by weight; the weights and ranges below are the whole policy:
 * pauses and proxy delays exceed dtxd's call deadline (main.c sets it to
 * 1 s) so calls time out and are resent while the first may still land;
 * partitions stay under ~6 s so TCP's retransmission backoff recovers
 * soon after a heal.
 */
#include "schedule.h"

#include <stdlib.h>
#include <string.h>

#include "chaos.h"
#include "proxy.h"

const fault_point schedule_points[] = {
        {"log.before_commit", ROLE_DTXD, 400},
        {"log.after_commit", ROLE_DTXD, 400},
        {"dtxd.after_commit_before_call", ROLE_DTXD, 600},
        {"dtxd.mid_compensation", ROLE_DTXD, 40},
        {"dtxd.after_reply_before_log", ROLE_DTXD, 600},
        {"sdk.after_commit_before_reply", -1, 200},
};
const size_t schedule_npoints =
        sizeof(schedule_points) / sizeof(schedule_points[0]);

const char *const schedule_fiu_points[2] = {"posix/io/sync/fdatasync",
                                            "posix/io/rw/pwrite"};

static const char *const kind_names[EV_COUNT] = {
        "kill",      "fault-point", "pause",      "proxy",
        "partition", "fiu-eio",     "pg-restart", "pg-partition"};

/* Relative weights of the kinds: of a run of one dtxd on LMDB (the
 * PostgreSQL kinds weigh nothing, so a seed draws what it always drew),
 * and of a run of several instances on PostgreSQL (no libfiu: there is no
 * log file; instance kills and pauses weigh more: they are the failovers
 * under test). */
static const unsigned weights_lmdb[EV_COUNT] = {20, 14, 12, 32, 12, 10, 0, 0};
static const unsigned weights_pg[EV_COUNT] = {24, 10, 14, 26, 8, 0, 6, 8};

const char *ev_kind_name(ev_kind k)
{
	return k < EV_COUNT ? kind_names[k] : "unknown";
}

uint32_t schedule_kinds(const char *list)
{
	uint32_t mask = 0;
	size_t n;

	for (const char *p = list; *p != '\0'; p += n + (p[n] == ',')) {
		int k;

		n = strcspn(p, ",");
		for (k = 0; k < EV_COUNT; k++)
			if (strlen(kind_names[k]) == n &&
			    strncmp(p, kind_names[k], n) == 0)
				break;
		if (k == EV_COUNT)
			return 0;
		mask |= 1u << k;
	}
	return mask;
}

static uint32_t between(uint64_t *rng, uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)chaos_rng_below(rng, (uint64_t)(hi - lo) + 1);
}

static ev_kind draw_kind(uint64_t *rng, const schedule_shape *sh)
{
	const unsigned *all = sh->instances > 1 ? weights_pg : weights_lmdb;
	unsigned weights[EV_COUNT], total = 0, r;

	for (int k = 0; k < EV_COUNT; k++) {
		weights[k] = !sh->only || (sh->only >> k & 1) ? all[k] : 0;
		total += weights[k];
	}
	if (total == 0)
		return EV_KILL;
	r = (unsigned)chaos_rng_below(rng, total);
	for (int k = 0; k < EV_COUNT; k++) {
		if (r < weights[k])
			return (ev_kind)k;
		r -= weights[k];
	}
	return EV_KILL;
}

/* an_instance draws one of the dtxd instances (no draw with one). */
static int an_instance(uint64_t *rng, const schedule_shape *sh)
{
	if (sh->instances <= 1)
		return ROLE_DTXD;
	return ROLE_DTXD + (int)chaos_rng_below(rng, sh->instances);
}

/* any_process draws dtxd one time in three, else a service. */
static int any_process(uint64_t *rng, const schedule_shape *sh)
{
	uint64_t r = chaos_rng_below(rng, 3 * CHAOS_NSVC);

	return r < CHAOS_NSVC ? an_instance(rng, sh) : (int)(r % CHAOS_NSVC);
}

/* pause_ms: past the call deadline; an instance of a PostgreSQL run is
 * paused past its lease, so the others take its shards meanwhile. */
static uint32_t pause_ms(uint64_t *rng, const schedule_shape *sh, int target)
{
	if (sh->instances > 1 && chaos_is_dtxd(target))
		return between(rng, sh->lease_ms + 500,
		               2 * sh->lease_ms + 1500);
	return between(rng, 1200, 4000);
}

static void draw_pg(uint64_t *rng, const schedule_shape *sh, chaos_event *e)
{
	if (e->kind == EV_PG_RESTART) {
		e->target = ROLE_DTXD;
		e->arg = (int)chaos_rng_below(rng, 2);
		return;
	}
	e->target = an_instance(rng, sh);
	e->dur_ms = between(rng, 1000, 2 * sh->lease_ms + 2000);
}

static void draw_event(uint64_t *rng, const schedule_shape *sh, chaos_event *e)
{
	const fault_point *fp;

	e->kind = draw_kind(rng, sh);
	switch (e->kind) {
	case EV_KILL:
		e->target = any_process(rng, sh);
		e->dur_ms = between(rng, 100, 1500);
		break;
	case EV_FAULT_POINT:
		e->arg = (int)chaos_rng_below(rng, schedule_npoints);
		fp = &schedule_points[e->arg];
		e->target = fp->role >= 0
		                    ? an_instance(rng, sh)
		                    : (int)chaos_rng_below(rng, CHAOS_NSVC);
		e->level = between(rng, 1, fp->max_nth);
		break;
	case EV_PAUSE:
		e->target = any_process(rng, sh);
		e->dur_ms = pause_ms(rng, sh, e->target);
		break;
	case EV_PROXY:
		e->target = (int)chaos_rng_below(rng, CHAOS_NSVC);
		e->arg = (int)chaos_rng_below(rng, PF_COUNT);
		e->dur_ms = between(rng, 2000, 8000);
		e->level = between(rng, 50, 300);
		break;
	case EV_PARTITION:
		e->target = any_process(rng, sh);
		e->dur_ms = between(rng, 1500, 5000);
		break;
	case EV_PG_RESTART:
	case EV_PG_PARTITION:
		draw_pg(rng, sh, e);
		break;
	default:
		e->target = ROLE_DTXD;
		e->arg = (int)chaos_rng_below(rng, 2);
		break;
	}
}

chaos_event *schedule_make(uint64_t seed, uint32_t duration_ms,
                           uint32_t mean_gap_ms, const schedule_shape *shape,
                           size_t *ret_n)
{
	uint64_t rng = seed ^ 0x7363686564756c65ull; /* "schedule" */
	uint32_t gap = mean_gap_ms > 1 ? mean_gap_ms : 2;
	size_t cap = duration_ms / (gap / 2) + 2, n = 0;
	chaos_event *ev;
	uint32_t t = 0;

	if (cap > SCHEDULE_EVENTS_MAX)
		cap = SCHEDULE_EVENTS_MAX;
	ev = calloc(cap, sizeof(*ev));
	if (ev == NULL)
		return NULL;
	for (;;) {
		t += between(&rng, gap / 2, gap + gap / 2);
		if (t >= duration_ms || n == cap)
			break;
		ev[n].at_ms = t;
		draw_event(&rng, shape, &ev[n]);
		n++;
	}
	*ret_n = n;
	return ev;
}

void schedule_describe(const chaos_event *e, char *buf, size_t len)
{
	const char *who = chaos_role_name(e->target);

	switch (e->kind) {
	case EV_KILL:
		snprintf(buf, len, "kill -9 %s, restart after %u ms", who,
		         e->dur_ms);
		break;
	case EV_FAULT_POINT:
		snprintf(buf, len, "restart %s with DTX_FAULT=%s:%u", who,
		         schedule_points[e->arg].name, e->level);
		break;
	case EV_PAUSE:
		snprintf(buf, len, "SIGSTOP %s for %u ms", who, e->dur_ms);
		break;
	case EV_PROXY:
		snprintf(buf, len, "proxy of %s: %s %u per mille for %u ms",
		         who, proxy_fault_name((proxy_fault)e->arg), e->level,
		         e->dur_ms);
		break;
	case EV_PARTITION:
		snprintf(buf, len, "partition %s (nftables drop) for %u ms",
		         who, e->dur_ms);
		break;
	case EV_PG_RESTART:
		snprintf(buf, len, "restart PostgreSQL (%s)",
		         e->arg ? "immediate" : "fast");
		break;
	case EV_PG_PARTITION:
		snprintf(buf, len, "cut %s from PostgreSQL for %u ms", who,
		         e->dur_ms);
		break;
	default:
		snprintf(buf, len, "libfiu: EIO on dtxd's next log %s",
		         schedule_fiu_points[e->arg]);
		break;
	}
}

void schedule_print(FILE *out, const chaos_event *ev, size_t n)
{
	char line[256];

	for (size_t i = 0; i < n; i++) {
		schedule_describe(&ev[i], line, sizeof(line));
		fprintf(out, "t+%7.3fs  %-11s %s\n", ev[i].at_ms / 1000.0,
		        ev_kind_name(ev[i].kind), line);
	}
}
