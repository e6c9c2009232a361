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

#include "machine.h"
#include "tx.h"

/* dc_saga_apply applies ev to tx (borrowed, changed in place) under policy
 * and writes what the engine must do into *out (fully overwritten). It never
 * fails: an event that does not fit the current state (a stale reply, an
 * event on a final transaction) sets out->ignored and changes nothing.
 * Caller-side preconditions (asserted): tx->nsteps >= 1, step < nsteps for
 * step events. */
void dc_saga_apply(dc_tx *tx, const dc_policy *policy, const dc_event *ev,
                   dc_out *out);

/* dc_saga_invariants_hold returns true if tx (borrowed) has at least one
 * step and its states fit together as INVARIANTS at the top of saga.c
 * says: what dc_saga_apply asserts before and after every event. */
bool dc_saga_invariants_hold(const dc_tx *tx);

/* dc_saga_inflight returns, for a non-final tx, the step and op whose call
 * is outstanding or due (the step in ACTING or COMPENSATING). Returns false
 * for final transactions. */
bool dc_saga_inflight(const dc_tx *tx, uint32_t *ret_step, dtx_op *ret_op);

/* dc_saga_op_inflight returns true if step i has a call of op outstanding
 * or due: op ACTION, tx RUNNING and step i ACTING; or op COMPENSATE, tx
 * COMPENSATING and step i COMPENSATING. */
bool dc_saga_op_inflight(const dc_tx *tx, uint32_t i, dtx_op op);

#endif
