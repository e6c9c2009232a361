/*
 * saga.h - the saga state machine: a pure function (state, event) ->
 * (new state, actions). See the diagram and transition table at the top of
 * saga.c. It performs no I/O, reads no clock and allocates nothing: the
 * engine turns its actions into log writes, calls and timers.
 */
#ifndef DTX_COORDINATOR_SAGA_H
#define DTX_COORDINATOR_SAGA_H

#include <stdbool.h>
#include <stdint.h>

#include "tx.h"

typedef enum dc_saga_ev_kind {
	DC_SAGA_EV_START = 1, /* a new transaction was accepted */
	DC_SAGA_EV_REPLY = 2, /* a call of (step, op) answered or failed */
	DC_SAGA_EV_RECOVER =
	        3, /* after restart: re-issue what may be in flight */
	DC_SAGA_EV_RETRY_DUE = 4, /* a backoff for (step, op) expired */
	DC_SAGA_EV_DEADLINE = 5,  /* the saga's own deadline passed */
	DC_SAGA_EV_KIND_COUNT
} dc_saga_ev_kind;

/* How a call ended, from the engine's point of view. */
typedef enum dc_outcome {
	DC_OUT_OK = 1,      /* participant answered OK */
	DC_OUT_FAIL = 2,    /* participant answered FAIL (business refusal) */
	DC_OUT_RETRY = 3,   /* participant answered RETRY */
	DC_OUT_TIMEOUT = 4, /* no answer before the call's deadline */
	DC_OUT_UNREACHABLE = 5, /* transport error: could not deliver */
	DC_OUT_COUNT
} dc_outcome;

typedef struct dc_saga_event {
	dc_saga_ev_kind kind;
	uint32_t step;      /* REPLY, RETRY_DUE */
	dtx_op op;          /* REPLY, RETRY_DUE: DTX_OP_ACTION or _COMPENSATE */
	dc_outcome outcome; /* REPLY */
} dc_saga_event;

typedef enum dc_saga_act_kind {
	DC_SAGA_ACT_CALL = 1,        /* call (step, op) now */
	DC_SAGA_ACT_RETRY_LATER = 2, /* call (step, op) again after a backoff */
	DC_SAGA_ACT_FINISHED = 3,    /* the transaction reached a final state */
	DC_SAGA_ACT_KIND_COUNT
} dc_saga_act_kind;

typedef struct dc_saga_act {
	dc_saga_act_kind kind;
	uint32_t step;
	dtx_op op;
} dc_saga_act;

#define DC_SAGA_MAX_ACTS 4

typedef struct dc_saga_out {
	bool changed; /* durable state changed: the engine must log tx */
	bool ignored; /* the event did not apply (stale or final): no change */
	uint32_t nacts;
	dc_saga_act acts[DC_SAGA_MAX_ACTS];
	/* Steps whose durable fields changed, as a bitmask over step index
	 * (steps >= 64 share bit 63; the engine then rewrites all of them). */
	uint64_t dirty_steps;
} dc_saga_out;

/* Policy the machine needs; it holds no clock. */
typedef struct dc_saga_policy {
	/* Calls of one action that end RETRY/TIMEOUT/UNREACHABLE before the
	 * action is given up as failed (effect unknown: it is compensated too).
	 * 0 = never give up. Compensations never give up. */
	uint32_t action_max_attempts;
} dc_saga_policy;

/* dc_saga_apply applies ev to tx (borrowed, changed in place) under policy
 * and writes what the engine must do into *out (fully overwritten). It never
 * fails: an event that does not fit the current state (a stale reply, an
 * event on a final transaction) sets out->ignored and changes nothing.
 * Caller-side preconditions (asserted): tx->nsteps >= 1, step < nsteps for
 * step events. */
void dc_saga_apply(dc_tx *tx, const dc_saga_policy *policy,
                   const dc_saga_event *ev, dc_saga_out *out);

/* dc_saga_inflight returns, for a non-final tx, the step and op whose call
 * is outstanding or due (the step in ACTING or COMPENSATING). Returns false
 * for final transactions. */
bool dc_saga_inflight(const dc_tx *tx, uint32_t *ret_step, dtx_op *ret_op);

#endif
