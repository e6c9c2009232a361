/*
 * pgrun.h - the PostgreSQL of a run of several dtxd instances (--store
 * postgresql): a throw-away PostgreSQL 15 cluster (tests/support/pgtmp.h)
 * with the audit the new invariants read, and one cuttable relay
 * (pgproxy.h) per instance.
 *
 * The audit: before any dtxd starts, an event trigger attaches row
 * triggers to the store's tables as dtxd creates them. Every change of
 * a lease record (dtx_leases) and every write of a transaction record
 * (dtx_txs) appends a row to chaos.lease_log / chaos.write_log in the
 * same database transaction: the rows of a transaction that did not
 * commit vanish with it, so the audit holds exactly what PostgreSQL
 * accepted, with the writer's application_name (cluster.c gives each
 * dtxd process its own: NAME.RUN) and clock_timestamp() taken by the
 * one server clock. epochs.c checks the invariants on that export.
 *
 * Single-threaded: only the harness's main thread calls these (the
 * postmaster's death signal follows the thread that started it).
 */
#ifndef DTX_CHAOS_PGRUN_H
#define DTX_CHAOS_PGRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chaos.h"
#include "pgproxy.h"
#include "pgtmp.h"

#define PGRUN_DB "dtx"

typedef struct pgrun {
	pgtmp *pg;
	pgproxy *px[CHAOS_INSTANCES_MAX];
	unsigned n;
	uint64_t restarts[2]; /* fast, immediate */
	uint64_t restart_failures;
} pgrun;

/* pgrun_start starts the cluster, installs the audit, writes the store's
 * URI and shard count to WORKDIR/run/store.uri ("URI\nshards N\n": what
 * the checker reads) and starts n relays, relay k listening on
 * relay_ports[k]. Returns 0, or -1 with a reason in err (what was
 * started is stopped). */
int pgrun_start(pgrun *p, const char *workdir, unsigned shards,
                const uint16_t *relay_ports, unsigned n, char *err,
                size_t errlen);

/* pgrun_restart restarts PostgreSQL, fast or immediate, and waits
 * (bounded, pgtmp) until it takes logins again. Returns 0 or -1. */
int pgrun_restart(pgrun *p, bool immediate);

/* pgrun_cut cuts instance k (0-based) from PostgreSQL, or heals it. */
void pgrun_cut(pgrun *p, unsigned k, bool cut);

/* pgrun_active counts the store's non-final transactions (its active
 * index, read straight from PostgreSQL: every shard, whichever instance
 * is up); -1 if it could not say. */
long pgrun_active(pgrun *p);

/* pgrun_export copies the audit to WORKDIR/audit/leases.txt ("us app
 * shard epoch owner" a line) and writes.txt ("us app gid op"). Returns 0
 * or -1 (reason on stderr). */
int pgrun_export(pgrun *p, const char *workdir);

/* pgrun_stop stops the relays and the cluster (its directory removed).
 * Accepts a pgrun never started. */
void pgrun_stop(pgrun *p);

#endif
