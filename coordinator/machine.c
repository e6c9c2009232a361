/*
 * machine.c - picks the state machine of a transaction's mode (see
 * machine.h), and the output helpers both machines share. Performs no
 * I/O.
 */
#include "machine.h"

#include <assert.h>

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
