/*
 * tcc.h - the TCC (try / confirm / cancel) state machine: a pure function
 * (state, event) -> (new state, actions). See the diagram and transition
 * table at the top of tcc.c. It performs no I/O, reads no clock and
 * allocates nothing.
 */
#ifndef DTX_COORDINATOR_TCC_H
#define DTX_COORDINATOR_TCC_H

#include <stdbool.h>
#include <stdint.h>

#include "machine.h"
#include "tx.h"

/* dc_tcc_apply applies ev to tx (borrowed, mode TCC, changed in place)
 * under policy and writes what the engine must do into *out (fully
 * overwritten). It never fails: an event that does not fit the current
 * state (a stale reply, a commit after the deadline cancelled the
 * transaction, an event on a final transaction) sets out->ignored and
 * changes nothing. Caller-side preconditions (asserted): step < nsteps for
 * step events. */
void dc_tcc_apply(dc_tx *tx, const dc_policy *policy, const dc_event *ev,
                  dc_out *out);

/* dc_tcc_invariants_hold returns true if tx (borrowed) is a TCC
 * transaction whose states fit together as INVARIANTS at the top of tcc.c
 * says: what dc_tcc_apply asserts before and after every event. */
bool dc_tcc_invariants_hold(const dc_tx *tx);

/* dc_tcc_op_inflight returns true if branch i has a call of op outstanding
 * or due. */
bool dc_tcc_op_inflight(const dc_tx *tx, uint32_t i, dtx_op op);

/* dc_tcc_branch_state_of_op returns the branch state in which a call of op
 * is in flight: TRYING, CONFIRMING or CANCELLING. */
dc_step_state dc_tcc_branch_state_of_op(dtx_op op);

#endif
