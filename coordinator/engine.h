/*
 * engine.h - the coordinator: one libuv loop that owns every transaction.
 *
 * The engine opens the log, recovers every non-final transaction, listens
 * for clients and drives branch calls. Rules it enforces (DESIGN.md):
 *   - write ahead: every transition is committed before anything acts on
 *     it - before a branch call is sent, before a client is answered;
 *   - group commit: transitions made while one commit is in flight go into
 *     the next LMDB write transaction together (one fsync for all);
 *   - crash-only: a failed commit stops the process; recovery rebuilds.
 */
#ifndef DTX_COORDINATOR_ENGINE_H
#define DTX_COORDINATOR_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "config.h"

typedef struct dc_engine dc_engine;

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

/* dc_engine_recovery reports what dc_engine_create recovered. */
const dc_recovery *dc_engine_recovery(const dc_engine *e);

/* dc_engine_stop begins an orderly stop on the loop thread: no new
 * requests, the commit in flight finishes, handles close; uv_run then
 * returns. Work not yet committed is simply not done: recovery redoes it. */
void dc_engine_stop(dc_engine *e);

/* dc_engine_destroy frees the engine after uv_run returned. Accepts NULL. */
void dc_engine_destroy(dc_engine *e);

#endif
