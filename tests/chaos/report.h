/*
 * report.h - the report of a run: a JSON file (jansson) and a text
 * summary, both from one run_report. Nothing here decides anything: the
 * verdicts come from check.c, the counts from the cluster, the proxies
 * and the services' counters.
 */
#ifndef DTX_CHAOS_REPORT_H
#define DTX_CHAOS_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "cluster.h"
#include "proxy.h"
#include "schedule.h"

#define REPORT_SKIPPED_MAX 8

/* svc_stats - the participant counters of one service, summed over its
 * runs (service.c --stats-file). */
typedef struct svc_stats {
	uint64_t calls, applied, replayed, null_compensations, late_refused,
	        retries, chaos_retries;
} svc_stats;

typedef struct run_report {
	uint64_t seed;
	const char *kind; /* "smoke", "soak", "run" */
	const char *workdir;
	double wall_s, safety_s, converge_s, check_s; /* converge -1: never */
	uint64_t decided_after_heal; /* purchases decided 5-15 s after it */
	uint64_t ended_after_heal;   /* ... of those that ended then */
	uint64_t client_reopens;     /* the buyer gave up a stuck client */
	size_t nevents;
	uint64_t applied[EV_COUNT], not_applied[EV_COUNT];
	uint64_t partitions;
	const cluster_counts *cn;
	proxy_counts pc[CHAOS_NSVC];
	uint64_t points_hit[16];
	svc_stats svc[CHAOS_NSVC];
	char skipped[REPORT_SKIPPED_MAX][240];
	size_t nskipped;
	const check_result *check;
	/* a PostgreSQL run */
	bool pg;
	unsigned instances;
	uint64_t pg_restarts[2]; /* fast, immediate */
	uint64_t pg_cuts;        /* instances cut from PostgreSQL */
	int64_t longest_gap_ms;  /* safety phase: longest with no purchase
	                            decided */
} run_report;

/* report_write_json writes r to path. Returns 0 or -1. */
int report_write_json(const char *path, const run_report *r);

/* report_print prints the text summary of r. */
void report_print(FILE *out, const run_report *r);

#endif
