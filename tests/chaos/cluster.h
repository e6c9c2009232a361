/*
 * cluster.h - the supervised processes of a run: dtxd, the four shop
 * services and the buyer, each with its own data directory under the
 * work directory, on fixed ports of 127.0.0.1.
 *
 * The cluster owns every process's life: start (and wait for the ready
 * file without blocking), kill -9 and restart, SIGSTOP/SIGCONT, restart
 * with a named fault point armed, libfiu EIO on dtxd's log, and "heal"
 * (everything up, nothing paused or armed, no RETRY answers). Each exit
 * is classified when it is collected: one the harness caused (a kill it
 * sent, an armed fault point, a fail-stop after an armed EIO, a stop it
 * asked for) or an unexpected one - a crash of the system under test,
 * which the report counts as a violation.
 *
 * Single-threaded: only the harness's main loop calls these.
 */
#ifndef DTX_CHAOS_CLUSTER_H
#define DTX_CHAOS_CLUSTER_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "chaos.h"
#include "schedule.h"

#define CLUSTER_UNEXPECTED_MAX 16

typedef enum member_state {
	M_DOWN,     /* not running; restart_at says when it starts */
	M_STARTING, /* running, ready file not there yet */
	M_UP,
	M_STOPPING, /* SIGTERM sent; restarts (with next_fault) when gone */
	M_DONE,     /* stopped for good */
} member_state;

typedef struct member {
	int role;
	pid_t pid;
	member_state st;
	bool paused;
	int64_t resume_at, restart_at, deadline;
	bool killed; /* the harness sent SIGKILL */
	int fault;   /* schedule_points index armed in this run, -1 */
	char fault_env[96];
	int next_fault; /* to arm at the restart after M_STOPPING */
	unsigned next_nth;
	bool fiu_armed;
	int fiu_point;
	unsigned starts;
} member;

typedef struct cluster_opts {
	/* 1: one dtxd on an LMDB log in WORKDIR/log; 2..CHAOS_INSTANCES_MAX:
	 * that many dtxd instances on PostgreSQL (pg_db on 127.0.0.1,
	 * instance k through ports.pg[k]), with shards and lease_ms */
	unsigned instances;
	const char *pg_db;
	unsigned shards, lease_ms;
	const char *workdir;
	const char *dtxd_exe;
	const char *shop_dir; /* holds dtx-shop-order ... */
	const char *self_exe; /* dtx-chaos, for the buyer */
	chaos_ports ports;
	bool fiu;           /* run dtxd under libfiu */
	unsigned retry_pct; /* services' RETRY answers until heal */
	uint64_t seed;
	unsigned call_timeout_ms;
	/* the buyer's */
	unsigned buyers, threads, price, reserve_ms, abandon_pct, max_s;
	const char *sku;
	const char *mix;
} cluster_opts;

typedef struct cluster_counts {
	uint64_t kills[ROLE_COUNT];
	uint64_t pauses[ROLE_COUNT];
	uint64_t points_armed[16];
	uint64_t points_fired; /* deaths by an armed fault point */
	uint64_t fiu_armed, fiu_stops;
	uint64_t restarts;
	uint64_t unexpected;
	/* SIGTERM not obeyed within 10 s, the main thread stuck in
	 * nng_close (nng 1.5.2's tcp close race, fixed upstream after 1.5.2
	 * by nng PR #1636): killed, counted and reported, not a violation
	 * (dtx is crash-only); their stacks are in logs/NAME.hang.txt */
	uint64_t stop_hangs_nng;
	/* the buyer exited 75: every client of its process stalled (see
	 * buyer.c); a new buyer process was started */
	uint64_t buyer_restarts;
	/* PostgreSQL runs: an instance's crash-only stops, by cause (its exit
	 * code): lost a lease or could not write a heartbeat in time (75),
	 * its store connection failed (74), could not reach the store at
	 * start (69). By design, not violations; what they cost is the
	 * failover the report measures. */
	uint64_t stepdowns, store_stops, start_unreachable;
	char unexpected_what[CLUSTER_UNEXPECTED_MAX][160];
} cluster_counts;

typedef struct cluster {
	cluster_opts o;
	member m[ROLE_COUNT];
	bool healed;
	cluster_counts n;
	char helper_log[PATH_MAX];
} cluster;

/* cluster_url writes tcp://127.0.0.1:port into out. */
void cluster_url(uint16_t port, char *out, size_t len);

/* cluster_start starts the dtxd instances and the four services and
 * waits (bounded) until all are ready. Returns 0, or -1 (reason on stderr). */
int cluster_start(cluster *c, const cluster_opts *o);

/* cluster_start_buyer starts the workload process. Returns 0 or -1. */
int cluster_start_buyer(cluster *c);

/* cluster_tick collects exits, restarts what is due, resumes paused
 * processes and notices ready files. Call it every few milliseconds. */
void cluster_tick(cluster *c);

/* cluster_apply carries out one scheduled event of kind EV_KILL,
 * EV_FAULT_POINT, EV_PAUSE or EV_FIU; false if it did not apply (its
 * target was not up). */
bool cluster_apply(cluster *c, const chaos_event *e);

/* cluster_heal resumes, disarms and restarts what needs it, turns the
 * RETRY answers off, and waits (bounded, wait_ms) until dtxd and the
 * services are up. Returns 0 or -1. */
int cluster_heal(cluster *c, unsigned wait_ms);

/* cluster_in_use tells whether the run has role (instances past
 * o.instances are never started). */
bool cluster_in_use(const cluster *c, int role);

/* cluster_dtxd_urls writes every instance's client URL, comma-separated
 * (dtx_client_open's list), into out. */
void cluster_dtxd_urls(const cluster *c, char *out, size_t len);

/* cluster_is_up tells whether role is up and not paused. */
bool cluster_is_up(const cluster *c, int role);

/* cluster_stop_buyer asks the buyer to stop and waits for it (ticking
 * the rest). Returns its exit status code, or -1. */
int cluster_stop_buyer(cluster *c);

/* cluster_stop stops every process (SIGTERM, bounded, then SIGKILL).
 * Returns the number that did not exit 0. */
int cluster_stop(cluster *c);

#endif
