/*
 * engine.h - the coordinator: one libuv loop that owns every transaction.
 *
 * The engine opens the log, recovers every non-final transaction, listens
 * for clients and drives branch calls. Its log, clock and transport are
 * parts a caller may give (dc_engine_parts: a unit test gives a manual
 * clock and an in-memory transport); dtxd takes the production ones.
 * Rules it enforces (DESIGN.md):
 *   - write ahead: every transition is committed before anything acts on
 *     it - before a branch call is sent, before a client is answered;
 *   - group commit: transitions made while one commit is in flight go into
 *     the next LMDB write transaction together (one fsync for all);
 *   - crash-only: a failed commit stops the process; recovery rebuilds.
 */
#ifndef DTX_COORDINATOR_ENGINE_H
#define DTX_COORDINATOR_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "transport.h"

typedef struct dc_engine dc_engine;

/* What an engine is built from besides its configuration; a NULL field
 * takes the production part. Tests build one from a log they opened
 * (no_sync, or written beforehand), a manual clock and an in-memory
 * transport, and drive it without sockets or sleeps. */
typedef struct dc_engine_parts {
	/* NULL: open cfg->log_dir, closed by dc_engine_destroy. Else
	 * retained (cfg->log_dir unused): its owner closes it after
	 * dc_engine_destroy. */
	dc_log *log;
	/* NULL: the real clock (clock.h) of the loop. Else retained. */
	const dc_clock *clock;
	/* NULL: nng endpoints and calls per cfg (transport_nng.c), destroyed
	 * with the engine. Else retained: the engine opens it at create and
	 * closes it at stop; its owner destroys it after dc_engine_destroy. */
	dc_transport *transport;
	/* The backoff jitter's seed (backoff.h, dc_backoff_next_random): 0 =
	 * from the wall clock and the pid. A test that knows it knows every
	 * delay. */
	uint64_t seed;
} dc_engine_parts;

/* What recovery found at start. */
typedef struct dc_recovery {
	uint64_t running; /* saga running, TCC trying */
	uint64_t compensating;
	uint64_t confirming;  /* TCC */
	uint64_t cancelling;  /* TCC */
	uint64_t quarantined; /* not loaded or not drivable: not driven */
	double millis;
} dc_recovery;

/* dc_engine_create opens the log in cfg->log_dir, resumes every non-final
 * transaction, and listens on cfg->listen. loop and cfg are retained. On
 * failure a one-line reason is written to errbuf. Errors: those of the log
 * (DTX_ECORRUPT, DTX_EVERSION, DTX_EIO...), DTX_EUNREACHABLE / DTX_EINVAL
 * (cannot listen), DTX_ENOMEM. */
int dc_engine_create(uv_loop_t *loop, const dc_config *cfg,
                     dc_engine **ret_engine, char *errbuf, size_t errlen);

/* dc_engine_create_with is dc_engine_create from parts (borrowed; see
 * dc_engine_parts for what each field's owner keeps), NULL = all
 * production ones. Same errors. */
int dc_engine_create_with(uv_loop_t *loop, const dc_config *cfg,
                          const dc_engine_parts *parts, dc_engine **ret_engine,
                          char *errbuf, size_t errlen);

/* dc_engine_tick runs every timer of the engine (backoff, deadline, client
 * wait) that is due by its clock now, then re-arms the loop's timer for
 * the next one. The loop's timer calls the same code when it fires, so
 * dtxd never needs this; a test that moved a manual clock calls it, then
 * runs the loop (what the timers decided is committed and acted on there).
 * Loop thread. */
void dc_engine_tick(dc_engine *e);

/* dc_engine_is_idle is true when the engine waits for nothing but the
 * outside: no commit in flight or waiting to be sealed, no read of the
 * log out. A test runs the loop until then before it looks. Loop thread.
 */
bool dc_engine_is_idle(const dc_engine *e);

/* dc_engine_store names the engine's store for messages: the LMDB data
 * file, or the PostgreSQL URI without its password (borrowed). */
const char *dc_engine_store(const dc_engine *e);

/* dc_engine_recovery reports what dc_engine_create recovered. */
const dc_recovery *dc_engine_recovery(const dc_engine *e);

/* dc_engine_reload_tls loads the TLS files of cfg (borrowed: the settings
 * SIGHUP re-read) again for the connections dtxd accepts and makes from
 * now on; open connections keep theirs. Loop thread. A problem goes to
 * errbuf and keeps the ones in use. Errors: DTX_EINVAL, DTX_ENOMEM. */
int dc_engine_reload_tls(dc_engine *e, const dc_config *cfg, char *errbuf,
                         size_t errlen);

/* dc_engine_stop begins an orderly stop on the loop thread: no new
 * requests, the commit in flight finishes, handles close; uv_run then
 * returns. Work not yet committed is simply not done: recovery redoes it. */
void dc_engine_stop(dc_engine *e);

/* dc_engine_destroy frees the engine after uv_run returned. Accepts NULL. */
void dc_engine_destroy(dc_engine *e);

#endif
