/*
 * saga.c - the saga state machine.
 *
 * This file owns one decision: given a transaction's durable state (dc_tx)
 * and one event, what the new state is and what the engine must do next.
 * It performs no I/O, reads no clock and allocates nothing; it never fails.
 * The engine logs the changed transaction (write ahead) before it acts on
 * the actions, and fills in what this file does not touch (results,
 * last_error, reason, timestamps). This file changes only tx->state,
 * tx->failed_step, and each step's state and attempts.
 *
 * Steps run strictly in order and at most one call (action or compensation)
 * is outstanding per transaction: the step "in flight" is the one ACTING
 * (tx RUNNING) or COMPENSATING (tx COMPENSATING).
 *
 * TRANSACTION STATES
 *
 *                      START
 *                        |
 *                        v
 *                 +-------------+   last action OK    +-------------+
 *                 |   RUNNING   |-------------------->|  COMMITTED  |
 *                 +-------------+                     +-------------+
 *                    |       |                             (final)
 *   action FAIL with |       | action FAIL with a DONE step below,
 *   no DONE step     |       | or action given up (attempts exhausted)
 *   below it         |       v
 *                    |  +--------------+  last compensation OK
 *                    |  | COMPENSATING |------------------------+
 *                    |  +--------------+                        |
 *                    |                                          v
 *                    |                                  +-------------+
 *                    +--------------------------------->| COMPENSATED |
 *                                                       +-------------+
 *                                                           (final)
 *
 * STEP STATES
 *
 *   PENDING --CALL--> ACTING --OK--> DONE --CALL--> COMPENSATING --OK-->
 *                      |  |                            ^         COMPENSATED
 *                      |  +------ given up ------------+
 *                      +--FAIL--> FAILED
 *
 *   A FAILED step was refused by its participant (a business refusal has no
 *   effect) and is never compensated. A step whose action was given up after
 *   action_max_attempts transient failures may or may not have taken
 *   effect, so it is compensated too: the participant's barrier turns a
 *   compensation of an action that never ran into a no-op.
 *
 * TRANSITIONS
 *
 * n = nsteps, a = the step's attempts, max = policy->action_max_attempts,
 * ACT / COMP = DTX_OP_ACTION / DTX_OP_COMPENSATE, TRANSIENT = an outcome of
 * RETRY, TIMEOUT or UNREACHABLE. Each row is one branch of its handler.
 *
 * event (condition)      result: new state; actions     handler
 * ---------------------- ------------------------------ -------------------
 * tx RUNNING, every step PENDING (a fresh transaction):
 * START                  0 ACTING a=1; CALL(0,ACT)      on_start
 *
 * tx RUNNING, step i ACTING:
 * REPLY(i,ACT,OK)        i DONE; i+1 ACTING a=1;        on_action_ok
 *   i+1 < n              CALL(i+1,ACT)
 * REPLY(i,ACT,OK)        i DONE; tx COMMITTED;          on_action_ok
 *   i+1 == n             FINISHED
 * REPLY(i,ACT,FAIL)      i FAILED; failed_step=i;       on_action_fail
 *   highest DONE j < i   j COMPENSATING a=1;            + compensate_next
 *                        tx COMPENSATING; CALL(j,COMP)
 * REPLY(i,ACT,FAIL)      i FAILED; failed_step=i;       on_action_fail
 *   no DONE below i      tx COMPENSATED; FINISHED       + compensate_next
 * REPLY(i,ACT,TRANSIENT) a++; RETRY_LATER(i,ACT)        on_action_transient
 *   max == 0 or a < max
 * REPLY(i,ACT,TRANSIENT) failed_step=i; i COMPENSATING  on_action_transient
 *   a >= max (given up)  a=1; tx COMPENSATING;          + give_up
 *                        CALL(i,COMP)
 * DEADLINE               failed_step=i; i COMPENSATING  on_deadline
 *                        a=1; tx COMPENSATING;          + give_up
 *                        CALL(i,COMP)
 * OPERATOR_ROLLBACK      same as DEADLINE (the action's  on_deadline
 *                        effect is unknown: compensated)
 * SKIP(i,done)           as REPLY(i,ACT,OK)             on_skip
 * SKIP(i,failed)         as REPLY(i,ACT,FAIL)           on_skip
 *
 * tx COMPENSATING, step j COMPENSATING:
 * REPLY(j,COMP,OK)       j COMPENSATED; k COMPENSATING  on_compensate_reply
 *   highest DONE k < j   a=1; CALL(k,COMP)              + compensate_next
 * REPLY(j,COMP,OK)       j COMPENSATED;                 on_compensate_reply
 *   no DONE below j      tx COMPENSATED; FINISHED       + compensate_next
 * REPLY(j,COMP,not OK)   a++; RETRY_LATER(j,COMP)       on_compensate_reply
 * SKIP(j,done)           as REPLY(j,COMP,OK)            on_skip
 * SKIP(j,failed)         ignored: a compensation must    on_skip
 *                        take effect, it cannot "fail"
 *
 * tx not final, step i in flight for op (see below):
 * RETRY_DUE(i,op)        no change; CALL(i,op)          on_retry_due
 * RECOVER                a++; CALL(i,op)                on_recover
 *
 * tx COMPENSATING:
 * DEADLINE,              ignored (already rolling back)  on_deadline
 *   OPERATOR_ROLLBACK
 *
 * SKIP(i, _) of a step not in flight: ignored           on_skip
 *
 * OPERATOR_ROLLBACK and SKIP come from dtxctl; SKIP stands in for the
 * answer of the call in flight (a branch repaired by hand), so a late real
 * answer of that call finds the step no longer in flight and is ignored.
 *
 * anything else: a final tx, a duplicate START, a REPLY or RETRY_DUE for a
 * (step, op) not in flight (stale, duplicate): ignored, no change, no
 * actions (dc_saga_apply, on_start, on_reply, on_retry_due).
 *
 * "Step i in flight for op" means: op ACT, tx RUNNING and step i ACTING;
 * or op COMP, tx COMPENSATING and step i COMPENSATING.
 *
 * ATTEMPTS
 *
 *   The machine owns step->attempts, the number of calls of the step's
 *   current op that the engine has been told to make. Every CALL or
 *   RETRY_LATER it emits stands for exactly one upcoming call: the first
 *   CALL of an op sets attempts = 1; RETRY_LATER increments attempts (the
 *   retried call will be attempt n+1); RETRY_DUE then emits the CALL for
 *   that already counted attempt and changes nothing. RECOVER increments
 *   attempts because the call in flight before the crash may have been
 *   delivered. A DONE step keeps the count of its action's calls until its
 *   compensation starts and resets it to 1. The engine sends attempts as
 *   the call's attempt number and never changes it itself.
 *
 * INVARIANTS  (checked with assert() before and after every event)
 *
 *   RUNNING       failed_step == -1. Steps read DONE* ACTING PENDING*
 *                 (exactly one ACTING, the in-flight step, with a >= 1), or
 *                 all PENDING before START.
 *   COMPENSATING  0 <= failed_step = f < n. Steps above f are PENDING.
 *                 Reading step f as COMPENSATED if it is FAILED, steps 0..f
 *                 read DONE* COMPENSATING COMPENSATED*: exactly one
 *                 COMPENSATING, the in-flight step, with a >= 1. f itself is
 *                 FAILED (refused), or COMPENSATING / COMPENSATED (given up).
 *   COMMITTED     failed_step == -1; every step DONE. Final.
 *   COMPENSATED   0 <= failed_step = f < n; steps below f COMPENSATED; f
 *                 FAILED or COMPENSATED; steps above f PENDING. Final.
 */
#include "saga.h"

#include <assert.h>
#include <string.h>

/* ---- invariants -------------------------------------------------------- */

/* Compiled in every build: the engine also checks every transaction it
 * reads back from the log (dc_machine_check), so that a record that breaks
 * them is quarantined at load instead of failing an assert here later. */

/* A step state's rank in one tx state's left-to-right reading of its
 * steps (see INVARIANTS); 0 = the state may not appear, rank 2 is the step
 * in flight. */
static const int running_ranks[DC_STEP_STATE_COUNT] = {
        [DC_STEP_DONE] = 1,
        [DC_STEP_ACTING] = 2,
        [DC_STEP_PENDING] = 3,
};
static const int compensating_ranks[DC_STEP_STATE_COUNT] = {
        [DC_STEP_DONE] = 1,
        [DC_STEP_COMPENSATING] = 2,
        [DC_STEP_COMPENSATED] = 3,
};
static const int committed_ranks[DC_STEP_STATE_COUNT] = {
        [DC_STEP_DONE] = 1,
};
static const int compensated_ranks[DC_STEP_STATE_COUNT] = {
        [DC_STEP_COMPENSATED] = 3,
};

/* steps_ordered checks that steps [0, end) have allowed states of
 * non-decreasing rank, a FAILED step at index failed reading as COMPENSATED,
 * and counts the in-flight (rank 2) steps into *ret_inflight. */
static bool steps_ordered(const dc_tx *tx, uint32_t end, int64_t failed,
                          const int *rank, uint32_t *ret_inflight)
{
	int prev = 1;

	*ret_inflight = 0;
	for (uint32_t i = 0; i < end; i++) {
		dc_step_state st = tx->steps[i].state;

		if (st < DC_STEP_PENDING || st >= DC_STEP_STATE_COUNT)
			return false;
		if (i == failed && st == DC_STEP_FAILED)
			st = DC_STEP_COMPENSATED;
		if (rank[st] < prev)
			return false;
		prev = rank[st];
		*ret_inflight += prev == 2;
	}
	return true;
}

static bool steps_pending_from(const dc_tx *tx, uint32_t from)
{
	for (uint32_t i = from; i < tx->nsteps; i++) {
		if (tx->steps[i].state != DC_STEP_PENDING)
			return false;
	}
	return true;
}

static bool inflight_is_counted(const dc_tx *tx)
{
	uint32_t i;
	dtx_op op;

	return !dc_saga_inflight(tx, &i, &op) || tx->steps[i].attempts >= 1;
}

static bool running_holds(const dc_tx *tx)
{
	uint32_t inflight;

	if (tx->failed_step != -1 || !inflight_is_counted(tx))
		return false;
	if (!steps_ordered(tx, tx->nsteps, -1, running_ranks, &inflight))
		return false;
	return inflight == 1 || tx->steps[0].state == DC_STEP_PENDING;
}

static bool rolled_back_holds(const dc_tx *tx, const int *rank,
                              uint32_t want_inflight)
{
	int32_t f = tx->failed_step;
	uint32_t inflight;

	if (f < 0 || (uint32_t)f >= tx->nsteps)
		return false;
	if (!steps_ordered(tx, (uint32_t)f + 1, f, rank, &inflight))
		return false;
	return inflight == want_inflight &&
	       steps_pending_from(tx, (uint32_t)f + 1);
}

static bool invariants_hold(const dc_tx *tx)
{
	uint32_t inflight;

	switch (tx->state) {
	case DC_TX_RUNNING:
		return running_holds(tx);
	case DC_TX_COMPENSATING:
		return rolled_back_holds(tx, compensating_ranks, 1) &&
		       inflight_is_counted(tx);
	case DC_TX_COMMITTED:
		return tx->failed_step == -1 &&
		       steps_ordered(tx, tx->nsteps, -1, committed_ranks,
		                     &inflight);
	case DC_TX_COMPENSATED:
		return rolled_back_holds(tx, compensated_ranks, 0);
	default:
		return false;
	}
}

/* ---- output and step helpers ------------------------------------------ */

/* emit and touch are machine.c's shared output helpers. */
#define emit  dc_out_emit
#define touch dc_out_touch

static void set_step(dc_tx *tx, dc_out *out, uint32_t i, dc_step_state state)
{
	tx->steps[i].state = state;
	touch(out, i);
}

/* call_first puts step i in state and makes the first call of op on it. */
static void call_first(dc_tx *tx, dc_out *out, uint32_t i, dc_step_state state,
                       dtx_op op)
{
	set_step(tx, out, i, state);
	tx->steps[i].attempts = 1;
	emit(out, DC_ACT_CALL, i, op);
}

/* retry_later counts the next call of (i, op) and asks for a backoff. */
static void retry_later(dc_tx *tx, dc_out *out, uint32_t i, dtx_op op)
{
	tx->steps[i].attempts++;
	touch(out, i);
	emit(out, DC_ACT_RETRY_LATER, i, op);
}

/* FINISHED carries no step; its step and op fields are 0. */
static void finish(dc_tx *tx, dc_out *out, dc_tx_state state)
{
	tx->state = state;
	out->changed = true;
	emit(out, DC_ACT_FINISHED, 0, (dtx_op)0);
}

/* compensate_next compensates the highest DONE step below `below`, or,
 * with none left, ends the rollback. */
static void compensate_next(dc_tx *tx, dc_out *out, uint32_t below)
{
	for (uint32_t k = below; k-- > 0;) {
		if (tx->steps[k].state == DC_STEP_DONE) {
			tx->state = DC_TX_COMPENSATING;
			call_first(tx, out, k, DC_STEP_COMPENSATING,
			           DTX_OP_COMPENSATE);
			return;
		}
	}
	finish(tx, out, DC_TX_COMPENSATED);
}

bool dc_saga_invariants_hold(const dc_tx *tx)
{
	return tx->nsteps >= 1 && tx->steps != NULL && invariants_hold(tx);
}

bool dc_saga_op_inflight(const dc_tx *tx, uint32_t i, dtx_op op)
{
	if (i >= tx->nsteps)
		return false;
	if (op == DTX_OP_ACTION)
		return tx->state == DC_TX_RUNNING &&
		       tx->steps[i].state == DC_STEP_ACTING;
	return tx->state == DC_TX_COMPENSATING &&
	       tx->steps[i].state == DC_STEP_COMPENSATING;
}

/* ---- one handler per event -------------------------------------------- */

static void on_start(dc_tx *tx, dc_out *out)
{
	if (tx->state != DC_TX_RUNNING ||
	    tx->steps[0].state != DC_STEP_PENDING) {
		out->ignored = true;
		return;
	}
	call_first(tx, out, 0, DC_STEP_ACTING, DTX_OP_ACTION);
}

static void on_action_ok(dc_tx *tx, dc_out *out, uint32_t i)
{
	set_step(tx, out, i, DC_STEP_DONE);
	if (i + 1 < tx->nsteps)
		call_first(tx, out, i + 1, DC_STEP_ACTING, DTX_OP_ACTION);
	else
		finish(tx, out, DC_TX_COMMITTED);
}

/* A refused action had no effect: it is not compensated. */
static void on_action_fail(dc_tx *tx, dc_out *out, uint32_t i)
{
	set_step(tx, out, i, DC_STEP_FAILED);
	tx->failed_step = (int32_t)i;
	compensate_next(tx, out, i);
}

/* give_up rolls back from the action in flight at step i, whose effect is
 * unknown (it may run or have run): it is compensated first. */
static void give_up(dc_tx *tx, dc_out *out, uint32_t i)
{
	tx->failed_step = (int32_t)i;
	tx->state = DC_TX_COMPENSATING;
	call_first(tx, out, i, DC_STEP_COMPENSATING, DTX_OP_COMPENSATE);
}

static void on_action_transient(dc_tx *tx, const dc_policy *policy, dc_out *out,
                                uint32_t i)
{
	uint32_t max = policy->action_max_attempts;

	if (max == 0 || tx->steps[i].attempts < max) {
		retry_later(tx, out, i, DTX_OP_ACTION);
		return;
	}
	give_up(tx, out, i);
}

/* Past the saga's deadline a running saga rolls back from the step in
 * flight; a compensating one is already rolling back. */
static void on_deadline(dc_tx *tx, dc_out *out)
{
	uint32_t i;
	dtx_op op;

	if (tx->state != DC_TX_RUNNING || !dc_saga_inflight(tx, &i, &op)) {
		out->ignored = true;
		return;
	}
	give_up(tx, out, i);
}

/* Compensations never give up: every outcome but OK retries. */
static void on_compensate_reply(dc_tx *tx, dc_out *out, uint32_t j,
                                dc_outcome outcome)
{
	if (outcome != DC_OUT_OK) {
		retry_later(tx, out, j, DTX_OP_COMPENSATE);
		return;
	}
	set_step(tx, out, j, DC_STEP_COMPENSATED);
	compensate_next(tx, out, j);
}

static void on_reply(dc_tx *tx, const dc_policy *policy, const dc_event *ev,
                     dc_out *out)
{
	assert(ev->outcome >= DC_OUT_OK && ev->outcome < DC_OUT_COUNT);
	if (!dc_saga_op_inflight(tx, ev->step, ev->op))
		out->ignored = true;
	else if (ev->op == DTX_OP_COMPENSATE)
		on_compensate_reply(tx, out, ev->step, ev->outcome);
	else if (ev->outcome == DC_OUT_OK)
		on_action_ok(tx, out, ev->step);
	else if (ev->outcome == DC_OUT_FAIL)
		on_action_fail(tx, out, ev->step);
	else
		on_action_transient(tx, policy, out, ev->step);
}

/* An operator answered the call in flight at step i by hand. A
 * compensation cannot be skipped as failed: it must take effect. */
static void on_skip(dc_tx *tx, dc_out *out, uint32_t i, bool done)
{
	if (dc_saga_op_inflight(tx, i, DTX_OP_ACTION)) {
		if (done)
			on_action_ok(tx, out, i);
		else
			on_action_fail(tx, out, i);
	} else if (done && dc_saga_op_inflight(tx, i, DTX_OP_COMPENSATE)) {
		on_compensate_reply(tx, out, i, DC_OUT_OK);
	} else {
		out->ignored = true;
	}
}

/* The retried call was counted when RETRY_LATER was emitted. */
static void on_retry_due(const dc_tx *tx, const dc_event *ev, dc_out *out)
{
	if (!dc_saga_op_inflight(tx, ev->step, ev->op)) {
		out->ignored = true;
		return;
	}
	emit(out, DC_ACT_CALL, ev->step, ev->op);
}

/* The call in flight before the crash may have been delivered: the re-issue
 * is a new attempt. A non-final tx on disk always has a step in flight
 * (START logs step 0 ACTING atomically with the transaction). */
static void on_recover(dc_tx *tx, dc_out *out)
{
	uint32_t i;
	dtx_op op;
	bool found = dc_saga_inflight(tx, &i, &op);

	assert(found);
	if (!found) {
		out->ignored = true;
		return;
	}
	tx->steps[i].attempts++;
	touch(out, i);
	emit(out, DC_ACT_CALL, i, op);
}

static void check_step_event(const dc_tx *tx, const dc_event *ev)
{
	assert(ev->step < tx->nsteps);
	assert(ev->op == DTX_OP_ACTION || ev->op == DTX_OP_COMPENSATE);
	(void)tx;
	(void)ev;
}

void dc_saga_apply(dc_tx *tx, const dc_policy *policy, const dc_event *ev,
                   dc_out *out)
{
	assert(tx != NULL && policy != NULL && ev != NULL && out != NULL);
	assert(tx->nsteps >= 1 && tx->steps != NULL);
	assert(invariants_hold(tx));
	memset(out, 0, sizeof(*out));
	if (ev->kind == DC_EV_REPLY || ev->kind == DC_EV_RETRY_DUE)
		check_step_event(tx, ev);
	if (dc_tx_is_final(tx)) {
		out->ignored = true;
		return;
	}
	switch (ev->kind) {
	case DC_EV_START:
		on_start(tx, out);
		break;
	case DC_EV_REPLY:
		on_reply(tx, policy, ev, out);
		break;
	case DC_EV_RETRY_DUE:
		on_retry_due(tx, ev, out);
		break;
	case DC_EV_RECOVER:
		on_recover(tx, out);
		break;
	case DC_EV_DEADLINE:
	case DC_EV_OPERATOR_ROLLBACK:
		on_deadline(tx, out);
		break;
	case DC_EV_SKIP:
		on_skip(tx, out, ev->step, ev->done);
		break;
	case DC_EV_REGISTER:
	case DC_EV_COMMIT:
	case DC_EV_ABORT:
		out->ignored = true; /* TCC events: a saga has none */
		break;
	default:
		assert(!"unknown saga event kind");
		out->ignored = true;
	}
	assert(invariants_hold(tx));
}

bool dc_saga_inflight(const dc_tx *tx, uint32_t *ret_step, dtx_op *ret_op)
{
	dc_step_state want = DC_STEP_ACTING;
	dtx_op op = DTX_OP_ACTION;

	if (dc_tx_is_final(tx))
		return false;
	if (tx->state == DC_TX_COMPENSATING) {
		want = DC_STEP_COMPENSATING;
		op = DTX_OP_COMPENSATE;
	}
	for (uint32_t i = 0; i < tx->nsteps; i++) {
		if (tx->steps[i].state == want) {
			*ret_step = i;
			*ret_op = op;
			return true;
		}
	}
	return false;
}
