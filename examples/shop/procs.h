/*
 * procs.h - the processes of a shop run: dtxd and the four services,
 * started as children of dtx-shop on ipc:// sockets in the work directory.
 *
 * A child gets its own process group (a terminal's Ctrl-C reaches only
 * the driver) and dies with the driver (PR_SET_PDEATHSIG), so nothing
 * outlives a crashed run. Its stdout and stderr go to WORKDIR/NAME.log.
 *
 * A test aid (dtx-shop --fault SERVICE=POINT[:N], a build with fault
 * points): that service starts with DTX_FAULT=POINT[:N] and every service
 * with --journal; a watcher thread restarts a service that died (without
 * the fault: a kill -9 and a restart, as an init system does), so the
 * sale goes on and the journal shows whether a call was applied twice.
 */
#ifndef DTX_SHOP_PROCS_H
#define DTX_SHOP_PROCS_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <dtx/dtx.h>

#include "shop_common.h"

#define PROCS_DTXD_MAX 3 /* dtxd instances on one PostgreSQL log */
#define PROCS_COUNT    (SHOP_SVC_COUNT + PROCS_DTXD_MAX)
#define PROCS_DTXD     SHOP_SVC_COUNT /* the first dtxd; the rest follow */
#define PROCS_SHARDS   12             /* --shards of several instances */

typedef struct procs_proc {
	char name[16];
	char url[DTX_URL_MAX];
	pid_t pid; /* 0 when not running */
} procs_proc;

typedef struct procs_opts {
	const char *workdir;
	const char *bin_dir;  /* NULL: next to dtx-shop (dtxd: build tree) */
	unsigned workers;     /* per service; 0 = the SDK default */
	unsigned max_clients; /* dtxd --max-clients; 0 = dtxd's default */
	/* dtxd --store URI; NULL: --log-dir WORKDIR/log (the default) */
	const char *dtxd_store;
	/* dtxd instances (0 or 1: one dtxd; 2..PROCS_DTXD_MAX: that many on
	 * dtxd_store, leasing PROCS_SHARDS shards, every client and service
	 * given all their URLs) */
	unsigned dtxd_instances;
	unsigned dtxd_lease_ms; /* their --lease-ms; 0: dtxd's default */
	/* test aid (NULL: none): DTX_FAULT=fault (borrowed) for the first
	 * start of service fault_svc; services restarted when they die */
	const char *fault;
	shop_service_id fault_svc;
	bool journal; /* test aid: the services' --journal (fault implies) */
	/* how the processes talk: PROCS_IPC (default), PROCS_TCP on
	 * loopback, or PROCS_TLS: tls+tcp:// with the certificates in
	 * tls_dir (tests/support/tlscerts.sh's names: ca.pem, server.*
	 * for dtxd, part.* for the services, client.* for the driver) */
	int transport;
	const char *tls_dir;
} procs_opts;

enum { PROCS_IPC = 0, PROCS_TCP, PROCS_TLS };

typedef struct procs {
	procs_proc p[PROCS_COUNT];
	int ndtxd; /* dtxd instances, at p[PROCS_DTXD] .. */
	/* their URLs, comma-separated (dtx_client_open's list) */
	char dtxd_urls[PROCS_DTXD_MAX * (DTX_URL_MAX + 1)];
	/* the fault aid's watcher (procs_opts.fault): it alone reaps and
	 * restarts services while it runs; mu guards the pids then */
	procs_opts o; /* copied at start (its strings borrowed) */
	pthread_mutex_t mu;
	pthread_t watcher;
	bool watching;
	atomic_bool stopping;
	atomic_uint restarts;
	dtx_tls_opts client_tls; /* PROCS_TLS: the driver's, for its clients */
	char tls_paths[6][PATH_MAX]; /* its strings, and the services' */
} procs;

/* procs_client_tls is the TLS settings a client of ps's dtxd and services
 * needs (borrowed from ps), or NULL when they do not use TLS. */
const dtx_tls_opts *procs_client_tls(const procs *ps);

/* procs_start starts dtxd and the four services and waits (10 s each)
 * for their ready files. On failure it prints the reason and the tail of
 * the failed process's log, stops what it started and returns -1. */
int procs_start(procs *ps, const procs_opts *o);

/* procs_cpu_ms returns the CPU time (user + system) the running processes
 * used so far, in milliseconds, from /proc/PID/stat. */
double procs_cpu_ms(procs *ps);

/* procs_restarts returns how many times the watcher restarted a service
 * that died (the fault aid; 0 without it). */
unsigned procs_restarts(procs *ps);

/* procs_kill_dtxd kills dtxd instance i (0 .. ndtxd - 1) with SIGKILL
 * and reaps it (a bench's failover). Returns 0, or -1 if it was not
 * running. */
int procs_kill_dtxd(procs *ps, int i);

/* procs_stop sends SIGTERM to every running process and waits up to 10 s
 * for each (then SIGKILL). Returns how many did not exit 0. */
int procs_stop(procs *ps);

#endif
