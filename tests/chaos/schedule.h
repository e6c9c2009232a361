/*
 * schedule.h - the fault schedule of a run: a list of timed events drawn
 * from the seed alone (splitmix64), before anything starts. The same
 * seed, safety duration and gap give the same list on any machine; it is
 * printed to WORKDIR/schedule.txt. What is timing-dependent (which frame
 * a proxy window hits, which instant a fault point fires at) is not part
 * of the schedule, and the report counts what really happened.
 *
 * This module only plans; cluster.c and main.c carry the events out.
 */
#ifndef DTX_CHAOS_SCHEDULE_H
#define DTX_CHAOS_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SCHEDULE_EVENTS_MAX 100000

typedef enum ev_kind {
	EV_KILL,         /* kill -9 target; restart it after dur_ms */
	EV_FAULT_POINT,  /* restart target with DTX_FAULT=point:level */
	EV_PAUSE,        /* SIGSTOP target for dur_ms (> call deadlines) */
	EV_PROXY,        /* target's proxy injects fault arg, level per
	                    mille of frames, for dur_ms */
	EV_PARTITION,    /* nftables drops target's port for dur_ms */
	EV_FIU,          /* libfiu: dtxd's next log fdatasync (arg 0) or
	                    pwrite (arg 1) fails with EIO */
	EV_PG_RESTART,   /* PostgreSQL restarts: fast (arg 0) or immediate
	                    (arg 1); PostgreSQL runs only */
	EV_PG_PARTITION, /* target (a dtxd instance) cut from PostgreSQL for
	                    dur_ms (its pgproxy stalls); PostgreSQL runs */
	EV_COUNT
} ev_kind;

typedef struct chaos_event {
	uint32_t at_ms; /* from the start of the safety phase */
	ev_kind kind;
	int target; /* a chaos_role */
	int arg;
	uint32_t dur_ms;
	uint32_t level;
} chaos_event;

/* The named crash points (common/fault.h) and whose they are. */
typedef struct fault_point {
	const char *name;
	int role;         /* ROLE_DTXD, or -1: any service */
	uint32_t max_nth; /* the hit to crash at is drawn in 1..max_nth */
} fault_point;

extern const fault_point schedule_points[];
extern const size_t schedule_npoints;

/* The fiu points EV_FIU arms (arg indexes this). */
extern const char *const schedule_fiu_points[2];

/* ev_kind_name returns "kill", "fault-point", "pause", "proxy",
 * "partition", "fiu-eio", "pg-restart" or "pg-partition". */
const char *ev_kind_name(ev_kind k);

/* What the run has: instances 1 is the LMDB run of one dtxd (the
 * schedule of a seed is then what it always was); instances 2..3 is a
 * run on PostgreSQL with leases of lease_ms: dtxd faults pick one of the
 * instances, pauses of an instance outlast its lease, libfiu (a file
 * log's fault) is not drawn, PostgreSQL restarts and partitions are. */
typedef struct schedule_shape {
	unsigned instances;
	uint32_t lease_ms;
	uint32_t only; /* bit (1 << kind) per kind to draw; 0: every kind */
} schedule_shape;

/* schedule_kinds parses a comma-separated list of kind names (as
 * ev_kind_name gives them) into a mask for schedule_shape.only. Returns
 * 0 if a name is unknown. */
uint32_t schedule_kinds(const char *list);

/* schedule_make draws the events of a safety phase of duration_ms, one
 * every mean_gap_ms on average, from seed, for a run of shape. Returns
 * the events (freed by the caller) and their number in *ret_n, or NULL
 * (out of memory). */
chaos_event *schedule_make(uint64_t seed, uint32_t duration_ms,
                           uint32_t mean_gap_ms, const schedule_shape *shape,
                           size_t *ret_n);

/* schedule_describe writes one event as a line of text into buf. */
void schedule_describe(const chaos_event *e, char *buf, size_t len);

/* schedule_print prints every event, one line each, to out. */
void schedule_print(FILE *out, const chaos_event *ev, size_t n);

#endif
