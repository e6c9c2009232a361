/*
 * bench_common.h - what the comparison benchmark's load drivers share
 * (tests/bench/compare.sh runs them): a monotonic clock, a bounded
 * latency recorder with nearest-rank percentiles over every sample, the
 * CPU time of a set of processes (with their children) from /proc, and
 * the report file compare.sh reads.
 *
 * The report is JSON with one key per line, the keys of dtx-shop's
 * --json report (purchases_per_s, p50_ms, p99_ms, p999_ms,
 * cpu_ms_per_purchase, non_business_failures, invariants_ok) plus a few
 * of its own, so one parser reads every system's figures.
 *
 * This module never talks to a server and never prints on its own; its
 * only I/O is reading /proc and writing the report file.
 */
#ifndef DTX_BENCH_COMMON_H
#define DTX_BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BENCH_PIDS_MAX 16
/* 64 Mi samples (512 MiB): far beyond 10 s at any rate this machine
 * reaches; past it samples are counted as dropped, never grown. */
#define BENCH_LAT_MAX ((size_t)1 << 26)

/* bench_now_ns returns CLOCK_MONOTONIC in nanoseconds. */
int64_t bench_now_ns(void);

/* bench_sleep_ms sleeps ms milliseconds (restarted after signals). */
void bench_sleep_ms(unsigned ms);

/* bench_lat - latencies in milliseconds, one per answered request. Not
 * thread-safe: the caller serialises adds. */
typedef struct bench_lat {
	double *ms;
	size_t n, cap;
	uint64_t dropped; /* samples past BENCH_LAT_MAX */
} bench_lat;

/* bench_lat_add records one latency; the array doubles as needed, up to
 * BENCH_LAT_MAX (then the sample is counted in dropped). Returns 0, or -1
 * when memory ran out (the sample is dropped too). */
int bench_lat_add(bench_lat *l, double ms);

/* bench_lat_fini frees the samples; l may be zeroed or half-used. */
void bench_lat_fini(bench_lat *l);

/* bench_pids - processes whose CPU time is charged to the run. */
typedef struct bench_pids {
	pid_t pid[BENCH_PIDS_MAX];
	size_t n;
} bench_pids;

/* bench_pids_parse reads a comma-separated list of pids (csv borrowed;
 * NULL or "" gives an empty set). Returns 0, or -1 on a bad list. */
int bench_pids_parse(const char *csv, bench_pids *ret_pids);

/* bench_flag_num returns text (borrowed; a flag's value) as a number in
 * lo..hi, or prints "prog: name must be lo..hi" and exits 64 (EX_USAGE)
 * when it is not one. */
long long bench_flag_num(const char *prog, const char *name, const char *text,
                         long long lo, long long hi);

/* bench_cpu_ms returns the CPU time (user + system, milliseconds) used so
 * far by the calling process and by every process in pids, each counted
 * with its children: the live ones (read from /proc) and the exited ones
 * it reaped (its cutime/cstime). The difference of two readings is the
 * CPU a run cost, a PostgreSQL cluster's backends included. */
double bench_cpu_ms(const bench_pids *pids);

/* bench_report - one run's figures. */
typedef struct bench_report {
	const char *system;    /* borrowed: "postgres-forupdate", ... */
	unsigned concurrency;  /* requests in flight */
	uint64_t answered;     /* purchases (or requests) answered */
	uint64_t ok;           /* answered with success */
	uint64_t refused;      /* business refusals (out of stock, ...) */
	uint64_t non_business; /* errors, timeouts, unexpected answers */
	double elapsed_s;      /* first submit to last answer */
	double cpu_ms;         /* bench_cpu_ms difference over the run */
	bool invariants_ok;    /* the system's oversell check */
	const char *check;     /* borrowed: what the check saw, one line */
} bench_report;

/* bench_report_write sorts lat, computes the percentiles over every
 * sample and writes r as JSON to path (borrowed; "-" is stdout). Returns
 * 0, or -1 with errno set when the file cannot be written. */
int bench_report_write(const char *path, const bench_report *r, bench_lat *lat);

#endif
