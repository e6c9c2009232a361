/*
 * machine.c - picks the state machine of a transaction's mode (see
 * machine.h). Owns nothing else; performs no I/O.
 */
#include "machine.h"

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
