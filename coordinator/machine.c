/*
 * machine.c - picks the state machine of a transaction's mode (see
 * machine.h), and the output helpers both machines share. Performs no
 * I/O.
 */
#include "machine.h"

#include <assert.h>
#include <stdio.h>

#include "saga.h"
#include "tcc.h"

void dc_machine_apply(dc_tx *tx, const dc_policy *policy, const dc_event *ev,
                      dc_out *out)
{
	if (tx->mode == DC_MODE_TCC)
		dc_tcc_apply(tx, policy, ev, out);
	else
		dc_saga_apply(tx, policy, ev, out);
}

bool dc_machine_op_inflight(const dc_tx *tx, uint32_t i, dtx_op op)
{
	if (tx->mode == DC_MODE_TCC)
		return dc_tcc_op_inflight(tx, i, op);
	return dc_saga_op_inflight(tx, i, op);
}

/* has_call_in_flight: a non-final tx can move on by itself (or waits for
 * its initiator). A saga before START (every step PENDING) is never on
 * disk: START is logged together with its first call. */
static bool has_call_in_flight(const dc_tx *tx)
{
	uint32_t step;
	dtx_op op;

	if (tx->mode == DC_MODE_SAGA)
		return dc_saga_inflight(tx, &step, &op);
	if (tx->state == DC_TX_RUNNING && tx->initiator_driven)
		return true;
	op = tx->state == DC_TX_RUNNING      ? DTX_OP_TRY
	     : tx->state == DC_TX_CONFIRMING ? DTX_OP_CONFIRM
	                                     : DTX_OP_CANCEL;
	for (step = 0; step < tx->nsteps; step++) {
		if (dc_tcc_op_inflight(tx, step, op))
			return true;
	}
	return false;
}

/* describe_states writes "STATE: A B C" (the first 8 steps) into buf. */
static void describe_states(const dc_tx *tx, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s, branches",
	                 dtx_tx_state_name((int)tx->state));

	for (uint32_t i = 0;
	     i < tx->nsteps && i < 8 && n > 0 && (size_t)n < len; i++)
		n += snprintf(buf + n, len - (size_t)n, " %s",
		              dtx_step_state_name((int)tx->steps[i].state));
	if (tx->nsteps > 8 && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " ...");
}

bool dc_machine_check(const dc_tx *tx, char *why, size_t len)
{
	bool saga = tx->mode == DC_MODE_SAGA;
	char states[160];

	if (tx->pruned_unix_ms != 0)
		return true; /* a tombstone has no states to check (tx.c) */
	describe_states(tx, states, sizeof(states));
	if (saga ? !dc_saga_invariants_hold(tx) : !dc_tcc_invariants_hold(tx)) {
		snprintf(why, len, "%s states break its invariants (%s)",
		         saga ? "saga" : "TCC", states);
		return false;
	}
	if (!dc_tx_is_final(tx) && !has_call_in_flight(tx)) {
		snprintf(why, len, "non-final %s has no call in flight (%s)",
		         saga ? "saga" : "TCC", states);
		return false;
	}
	return true;
}

void dc_out_emit(dc_out *out, dc_act_kind kind, uint32_t step, dtx_op op)
{
	assert(out->nacts < DC_MAX_ACTS);
	out->acts[out->nacts].kind = kind;
	out->acts[out->nacts].step = step;
	out->acts[out->nacts].op = op;
	out->nacts++;
}

void dc_out_touch(dc_out *out, uint32_t i)
{
	out->changed = true;
	out->dirty_steps |= UINT64_C(1) << (i < 63 ? i : 63);
}
