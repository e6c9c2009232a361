/*
 * dtx_pg.h - libdtx-pg: a participant whose data lives in PostgreSQL.
 *
 * Link with `pkg-config --libs dtx-pg` (libdtx-pg, libdtx and libpq); a
 * program that does not serve calls from PostgreSQL needs neither this
 * header nor libpq.
 *
 * A store opened with dtx_store_open_pg is a dtx_store like any other:
 * bind it with dtx_participant_set_store and every call goes through the
 * barrier (the rules in dtx.h, "store"), with these guarantees:
 *
 *   - a handler runs inside one open transaction of the service's own
 *     database: dtx_call_pg(call) is its connection, its SQL runs in a
 *     SAVEPOINT of the transaction of the group of calls being served,
 *     and the barrier's row of the call commits in the same COMMIT as the
 *     handler's writes. No call is answered before that COMMIT returned
 *     (the SDK sets synchronous_commit = on on its connections);
 *   - a handler that answers FAIL has its writes rolled back to its
 *     savepoint and the FAIL row written after that: the row stays, so the
 *     cancel/compensate that follows finds it and is a null compensation;
 *   - a handler that answers OK after one of its statements failed (the
 *     transaction is aborted) is answered RETRY and nothing of it is kept;
 *     so is a call whose connection was lost (it reconnects on the next
 *     call) or whose COMMIT did not say COMMIT;
 *   - calls for the same gid, on any connection of any process sharing the
 *     database, are serialised by transaction-level advisory locks on a
 *     32-bit hash of the gid (pg_advisory_xact_lock(1685353560, hash)),
 *     taken in ascending order before any barrier row is read, so two
 *     groups never wait for each other in a cycle. Handlers must not
 *     take advisory locks with that first key. Ordering: two calls of
 *     one gid in two groups (two connections, or two processes) run one
 *     after the other, in the order their groups took the gid's lock, and
 *     the second sees every barrier row and every write the first
 *     committed (its rows are read after the lock is held); which group
 *     takes the lock first is not the order the calls arrived in. The
 *     barrier's answers do not depend on it (dtx.h's table: a cancel
 *     after its try undoes it, a try after its cancel is refused);
 *   - dtx_store_opts.groups (default 1, at most 64) is how many groups of
 *     calls the participant bound to the store serves at once, each in a
 *     transaction on a connection of its own; the store opens at most
 *     groups + 2 connections (the others: barrier GC, dtx_store_update);
 *   - a group costs two round trips to the server besides its handlers'
 *     statements: BEGIN, the gid locks and one read of the group's barrier
 *     rows go together in one libpq pipeline; the rows the calls write go
 *     as one INSERT in the pipeline of the COMMIT; a savepoint is sent
 *     with the first statement that runs inside it (dtx_call_pg sends
 *     what waits before handing the connection over), and one inside
 *     which no SQL ran is never sent; A handler's own row locks
 *     are the service's: a deadlock between them is found by PostgreSQL
 *     and the calls of the losing group are answered RETRY;
 *   - a statement waits at most 10 s for a lock (lock_timeout), then the
 *     group is answered RETRY.
 *   - dtx_txn_add_i64 in a handler is deferred (dtx.h): the group's
 *     changes are summed per counter and sent, as one INSERT ... ON
 *     CONFLICT DO UPDATE of dtx_kv whose WHERE checks each sum against
 *     its floor under the row's lock, in the pipeline of the COMMIT,
 *     counters in (table, key) order. A counter's row is then locked
 *     for one round trip and the COMMIT's WAL flush, not from the
 *     handler's change to the COMMIT, so a hot row (a stock, a revenue)
 *     no longer makes groups wait for each other's handlers. A sum that
 *     does not fit rolls the group back and serves it again with each
 *     change applied and checked in its call's savepoint.
 *   - never call COMMIT, ROLLBACK, or RELEASE/ROLLBACK TO a savepoint the
 *     SDK made, on dtx_call_pg's connection; SAVEPOINTs of your own are
 *     fine. Do not keep the connection after the handler returns.
 *
 * Schema (created at open if missing, in the connection's search_path;
 * checked at every open: a newer version, a missing column, a changed
 * column type or a missing primary key is refused with DTX_EVERSION or
 * DTX_ECORRUPT and a log line naming it):
 *
 *   dtx_meta    (k text PRIMARY KEY, v text NOT NULL)
 *               row ('schema', '2'): the version of the tables below
 *   dtx_barrier (gid text COLLATE "C", branch int4, op int2 (dtx_op),
 *                status int2 (dtx_status: OK or FAIL), flags int2 (bit 0:
 *                null compensation), message text, result bytea,
 *                created timestamptz DEFAULT now(),
 *                keep_until int8 DEFAULT 0 (unix ms: GC keeps the gid's
 *                rows at least until then, the call's deadline plus the
 *                participant's tolerance; 0: no deadline),
 *                PRIMARY KEY (gid, branch, op))
 *
 * Version 1 (before keep_until) is upgraded by the first writable open
 * (ADD COLUMN keep_until, rows get 0); a read-only open of it is refused
 * with DTX_EVERSION.
 *   dtx_kv      (tbl text COLLATE "C", k bytea, v bytea NOT NULL,
 *                PRIMARY KEY (tbl, k)): the tables of dtx_txn_get/put/
 *                del/scan, so a service written against the key-value API
 *                runs unchanged on PostgreSQL. Its reads are plain
 *                SELECTs (READ COMMITTED): a read-then-write through this
 *                API of a row that calls of other gids change too is safe
 *                only while one group at a time writes the database (one
 *                participant process, dtx_store_opts.groups 1). With more
 *                groups, or processes, change shared rows in SQL on
 *                dtx_call_pg's connection (one conditional UPDATE or
 *                upsert, as the shop's inventory and payment do; FOR
 *                UPDATE SKIP LOCKED to take from a queue, as its
 *                delivery does) or take a row lock first.
 *
 * Barrier GC (dtx_participant_set_barrier_gc, dtx_store_barrier_gc) works
 * as on LMDB and deletes a final gid's rows in one transaction.
 */
#ifndef DTX_PG_H
#define DTX_PG_H

#include <libpq-fe.h>

#include "dtx/dtx.h"

#ifdef __cplusplus
extern "C" {
#endif

/* dtx_store_open_pg opens a store on the PostgreSQL database of uri (a
 * libpq connection URI or key=value string, copied; its password never
 * appears in diagnostics) with opts' tables (opts may be NULL: none;
 * map_size is ignored; read_only creates nothing and refuses writes).
 * Connects once to create or check the schema (see above); later
 * connections, at most opts->groups + 2, are opened when a thread first
 * needs one and reopened after a failure. Errors: DTX_EINVAL (NULL, bad
 * table name, groups over 64), DTX_EUNREACHABLE (cannot connect),
 * DTX_EVERSION (a newer schema, or a read-only open of an older one),
 * DTX_ECORRUPT (a table that is not dtx's), DTX_EIO (an SQL error),
 * DTX_ENOMEM. */
DTX_API int dtx_store_open_pg(const char *uri, const dtx_store_opts *opts,
                              dtx_store **ret_store);

/* dtx_call_pg returns the connection of the call's open transaction
 * (borrowed, valid during the handler), or NULL when the participant's
 * store is not a PostgreSQL one. */
DTX_API PGconn *dtx_call_pg(dtx_call *call);

/* dtx_txn_pg returns txn's connection (borrowed, valid until txn ends:
 * inside a dtx_txn_fn of dtx_store_update/view), or NULL when txn is not a
 * PostgreSQL one. */
DTX_API PGconn *dtx_txn_pg(dtx_txn *txn);

#ifdef __cplusplus
}
#endif

#endif
