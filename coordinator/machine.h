/*
 * machine.h - what the coordinator's state machines (saga.c, tcc.c) read
 * and write: events in, a new durable state and actions out.
 *
 * Both machines are pure functions (state, event) -> (new state, actions):
 * no I/O, no clock, no allocation. The engine logs the changed transaction
 * (write ahead) before it acts on any action, and picks the machine by the
 * transaction's mode (dc_machine_apply).
 */
#ifndef DTX_COORDINATOR_MACHINE_H
#define DTX_COORDINATOR_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include "tx.h"

typedef enum dc_ev_kind {
	DC_EV_START = 1,     /* a new transaction was accepted */
	DC_EV_REPLY = 2,     /* a call of (step, op) answered or failed */
	DC_EV_RECOVER = 3,   /* after restart: re-issue what may be in flight */
	DC_EV_RETRY_DUE = 4, /* a backoff for (step, op) expired */
	DC_EV_DEADLINE = 5,  /* the transaction's own deadline passed */
	DC_EV_REGISTER = 6,  /* TCC: the initiator registered branch step */
	DC_EV_COMMIT = 7,    /* TCC: the initiator (or an operator) asked to
	                        confirm */
	DC_EV_ABORT = 8,     /* TCC: the initiator asked to cancel */
	/* An operator (dtxctl compensate / cancel) asked to stop going
	 * forward and roll back everything done. */
	DC_EV_OPERATOR_ROLLBACK = 9,
	/* An operator repaired branch `step` by hand (dtxctl skip-branch):
	 * treat its pending call as answered OK (done) or FAIL (!done). */
	DC_EV_SKIP = 10,
	DC_EV_KIND_COUNT
} dc_ev_kind;

/* How a call ended, from the engine's point of view. */
typedef enum dc_outcome {
	DC_OUT_OK = 1,          /* participant answered OK */
	DC_OUT_FAIL = 2,        /* participant answered FAIL (refusal) */
	DC_OUT_RETRY = 3,       /* participant answered RETRY */
	DC_OUT_TIMEOUT = 4,     /* no answer before the call's deadline */
	DC_OUT_UNREACHABLE = 5, /* transport error: could not deliver */
	DC_OUT_COUNT
} dc_outcome;

typedef struct dc_event {
	dc_ev_kind kind;
	uint32_t step;      /* REPLY, RETRY_DUE, REGISTER, SKIP */
	dtx_op op;          /* REPLY, RETRY_DUE */
	dc_outcome outcome; /* REPLY */
	bool done;          /* SKIP: true = as done, false = as failed */
} dc_event;

typedef enum dc_act_kind {
	DC_ACT_CALL = 1,        /* call (step, op) now */
	DC_ACT_RETRY_LATER = 2, /* call (step, op) again after a backoff */
	DC_ACT_FINISHED = 3,    /* the transaction reached a final state */
	DC_ACT_CALL_ALL = 4,    /* call op on every step now in flight for op
	                           (TCC: all Tries, Confirms or Cancels) */
	DC_ACT_KIND_COUNT
} dc_act_kind;

typedef struct dc_act {
	dc_act_kind kind;
	uint32_t step;
	dtx_op op;
} dc_act;

#define DC_MAX_ACTS 4

typedef struct dc_out {
	bool changed; /* durable state changed: the engine must log tx */
	bool ignored; /* the event did not apply (stale or final): no change */
	uint32_t nacts;
	dc_act acts[DC_MAX_ACTS];
	/* Steps whose durable fields changed, as a bitmask over step index
	 * (steps >= 64 share bit 63; the engine then rewrites all of them). */
	uint64_t dirty_steps;
} dc_out;

/* Policy the machines need; they hold no clock. */
typedef struct dc_policy {
	/* Calls of one action (saga) or Try (TCC, coordinator-run) that end
	 * RETRY/UNREACHABLE (saga: TIMEOUT too) before it is given up as
	 * failed. 0 = never give up. Compensations, Confirms and Cancels
	 * never give up. */
	uint32_t action_max_attempts;
} dc_policy;

/* dc_machine_apply applies ev to tx with the machine of tx->mode
 * (dc_saga_apply or dc_tcc_apply; same contract). */
void dc_machine_apply(dc_tx *tx, const dc_policy *policy, const dc_event *ev,
                      dc_out *out);

/* dc_machine_op_inflight returns true if step i of tx has a call of op
 * outstanding or due (saga: the step ACTING/COMPENSATING; TCC: a branch
 * TRYING in a coordinator-run tx, CONFIRMING or CANCELLING). */
bool dc_machine_op_inflight(const dc_tx *tx, uint32_t i, dtx_op op);

/* dc_machine_check returns true if the machine of tx->mode can take tx
 * (borrowed) as read back from the log: its states fit the machine's
 * invariants (those its apply asserts), and a non-final tx has a call in
 * flight or, for an initiator-driven TCC transaction still running, waits
 * for its initiator - as every transition the engine logs leaves it.
 * Otherwise it writes why into why (len bytes) and returns false. Call it
 * on a tx that passed dc_tx_check. */
bool dc_machine_check(const dc_tx *tx, char *why, size_t len);

/* dc_out_emit appends an action (kind, step, op) to out (asserts room). */
void dc_out_emit(dc_out *out, dc_act_kind kind, uint32_t step, dtx_op op);

/* dc_out_touch records in out that step i's durable fields changed. */
void dc_out_touch(dc_out *out, uint32_t i);

#endif
