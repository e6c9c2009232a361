/*
 * tcc.c - the TCC (try / confirm / cancel) state machine.
 *
 * This file owns one decision: given a TCC transaction's durable state
 * (dc_tx, mode TCC) and one event, what the new state is and what the
 * engine must do next. It performs no I/O, reads no clock and allocates
 * nothing; it never fails. It changes only tx->state, tx->failed_step and
 * each branch's state and attempts; the engine fills in the rest (results,
 * last_error, reason, timestamps) and logs the change before acting.
 *
 * Branches run in parallel: every Try (coordinator-run), every Confirm or
 * every Cancel is called at once (CALL_ALL), and each branch then retries
 * on its own. Two ways in:
 *   - coordinator-run (SubmitTcc): START calls every Try; the coordinator
 *     confirms when every Try answered OK and cancels otherwise;
 *   - initiator-driven (BeginTcc): the initiator registers each branch
 *     (REGISTER) before it calls that Try itself; the coordinator never
 *     calls a Try and learns the outcome from COMMIT or ABORT.
 *
 * TRANSACTION STATES
 *
 *                START (coordinator-run: call every Try)
 *                  |
 *                  v
 *            +-----------+  every Try OK, or COMMIT  +------------+
 *            |  RUNNING  |-------------------------->| CONFIRMING |
 *            +-----------+                           +------------+
 *                  |                                       | every branch
 *   a Try FAIL /   |                                       | confirmed
 *   TIMEOUT / given up, ABORT, DEADLINE                    v
 *                  v                                 +------------+
 *            +------------+  every branch cancelled  | COMMITTED  |
 *            | CANCELLING |------------+             +------------+
 *            +------------+            v                  (final)
 *                                +------------+
 *                                | CANCELLED  |  (final)
 *                                +------------+
 *
 * BRANCH STATES
 *
 *   PENDING --REGISTER / START--> TRYING --Try OK--> TRIED
 *   TRYING or TRIED (or a PENDING one) --confirm all--> CONFIRMING
 *        --Confirm OK--> CONFIRMED
 *   any not yet cancelled --cancel all--> CANCELLING --Cancel OK--> CANCELLED
 *
 *   Cancel goes to every branch, the one whose Try failed or timed out
 *   included: its effect is unknown (a FAIL whose local transaction was
 *   rolled back, a timeout whose Try may still run). The participant's
 *   barrier turns a Cancel without a recorded Try into a null cancel and
 *   refuses a Try that comes after it.
 *
 * TRANSITIONS
 *
 * a = the branch's attempts, max = policy->action_max_attempts, "init" =
 * tx->initiator_driven, TRANSIENT = RETRY or UNREACHABLE.
 *
 * event (condition)          result: new state; actions      handler
 * -------------------------- ------------------------------- ---------------
 * tx RUNNING:
 * START (!init, all PENDING) all TRYING a=1; CALL_ALL(TRY)   on_start
 * REGISTER(i) (init, i       i TRYING a=0 (the initiator     on_register
 *   PENDING)                 calls the Try)
 * REPLY(i,TRY,OK) (!init)    i TRIED; if every branch TRIED: on_try_reply
 *                            confirm_all
 * REPLY(i,TRY,FAIL|TIMEOUT)  failed_step=i; cancel_all       on_try_reply
 * REPLY(i,TRY,TRANSIENT)     a++; RETRY_LATER(i,TRY)         on_try_reply
 *   max == 0 or a < max
 * REPLY(i,TRY,TRANSIENT)     failed_step=i; cancel_all       on_try_reply
 *   a >= max (given up)
 * COMMIT (init)              confirm_all                     on_commit
 *   (the initiator's Finish, or an operator's dtxctl commit; for a
 *   coordinator-run tx "every Try succeeded" is never a resting state -
 *   the last Try OK confirms at once - so its COMMIT is ignored)
 * ABORT, DEADLINE,           cancel_all                      on_rollback
 *   OPERATOR_ROLLBACK
 * SKIP(i,done) (!init, i     as REPLY(i,TRY,OK)              on_skip
 *   TRYING)
 * SKIP(i,failed) (!init, i   as REPLY(i,TRY,FAIL)            on_skip
 *   TRYING)
 *
 * tx CONFIRMING:
 * REPLY(i,CONFIRM,OK)        i CONFIRMED; if all: COMMITTED, on_second_reply
 *                            FINISHED
 * REPLY(i,CONFIRM,not OK)    a++; RETRY_LATER(i,CONFIRM)     on_second_reply
 * SKIP(i,done) (i CONFIRMING) as REPLY(i,CONFIRM,OK)         on_skip
 *
 * tx CANCELLING:
 * REPLY(i,CANCEL,OK)         i CANCELLED; if all: CANCELLED, on_second_reply
 *                            FINISHED
 * REPLY(i,CANCEL,not OK)     a++; RETRY_LATER(i,CANCEL)      on_second_reply
 * SKIP(i,done) (i CANCELLING) as REPLY(i,CANCEL,OK)          on_skip
 *
 * tx not final:
 * RETRY_DUE(i,op) in flight  no change; CALL(i,op)           on_retry_due
 * RECOVER                    every in-flight branch a++;     on_recover
 *                            CALL_ALL(op) (nothing for an
 *                            initiator-driven RUNNING tx)
 *
 * confirm_all: tx CONFIRMING, every branch CONFIRMING a=1, CALL_ALL(CONFIRM);
 *   with no branch: COMMITTED, FINISHED.
 * cancel_all: tx CANCELLING, every branch CANCELLING a=1, CALL_ALL(CANCEL);
 *   with no branch: CANCELLED, FINISHED.
 *
 * Anything else - a final tx, a REPLY, RETRY_DUE or SKIP for a (branch,
 * op) not in flight, SKIP as failed of a Confirm or Cancel (they must take
 * effect), COMMIT of a coordinator-run or no longer running tx, ABORT, DEADLINE
 * or OPERATOR_ROLLBACK after the decision - is ignored: no change, no actions.
 * OPERATOR_ROLLBACK, SKIP and an operator's COMMIT come from dtxctl.
 *
 * A branch's op is in flight when: TRY - tx RUNNING, !init, branch TRYING;
 * CONFIRM - tx CONFIRMING, branch CONFIRMING; CANCEL - tx CANCELLING,
 * branch CANCELLING.
 *
 * ATTEMPTS follow saga.c's rule: every CALL or RETRY_LATER stands for one
 * upcoming call, counted when emitted; RECOVER counts a new attempt for
 * every call that may have been in flight. The Tries of an
 * initiator-driven transaction are not the coordinator's: a = 0.
 *
 * INVARIANTS  (checked with assert() before and after every event)
 *
 *   RUNNING     failed_step == -1. init: every branch TRYING, except that
 *               the last may be PENDING (appended, not yet registered).
 *               !init: every branch PENDING (before START), or every
 *               branch TRYING with a >= 1 or TRIED, at least one TRYING.
 *   CONFIRMING  failed_step == -1; every branch CONFIRMING (a >= 1) or
 *               CONFIRMED, at least one CONFIRMING.
 *   CANCELLING  failed_step == -1 or a branch; every branch CANCELLING
 *               (a >= 1) or CANCELLED, at least one CANCELLING.
 *   COMMITTED   failed_step == -1; every branch CONFIRMED. Final.
 *   CANCELLED   every branch CANCELLED. Final.
 */
#include "tcc.h"

#include <assert.h>
#include <string.h>

/* ---- invariants -------------------------------------------------------- */

/* Compiled in every build: the engine also checks every transaction it
 * reads back from the log (dc_machine_check), so that a record that breaks
 * them is quarantined at load instead of failing an assert here later. */

/* count_states counts the branches in state a and in state b, and returns
 * false if any branch is in neither, or one in a has attempts < min_a. */
static bool count_states(const dc_tx *tx, dc_step_state a, dc_step_state b,
                         uint32_t min_a, uint32_t *ret_a)
{
	*ret_a = 0;
	for (uint32_t i = 0; i < tx->nsteps; i++) {
		const dc_step *st = &tx->steps[i];
		if (st->state == a) {
			if (st->attempts < min_a)
				return false;
			(*ret_a)++;
		} else if (st->state != b) {
			return false;
		}
	}
	return true;
}

static bool running_holds(const dc_tx *tx)
{
	uint32_t n;

	if (tx->failed_step != -1)
		return false;
	if (tx->initiator_driven) {
		for (uint32_t i = 0; i < tx->nsteps; i++) {
			dc_step_state st = tx->steps[i].state;
			if (st != DC_STEP_TRYING &&
			    !(st == DC_STEP_PENDING && i + 1 == tx->nsteps))
				return false;
		}
		return true;
	}
	if (count_states(tx, DC_STEP_PENDING, DC_STEP_PENDING, 0, &n))
		return true;
	return count_states(tx, DC_STEP_TRYING, DC_STEP_TRIED, 1, &n) && n > 0;
}

static bool invariants_hold(const dc_tx *tx)
{
	uint32_t n;
	int32_t f = tx->failed_step;

	switch (tx->state) {
	case DC_TX_RUNNING:
		return running_holds(tx);
	case DC_TX_CONFIRMING:
		return f == -1 &&
		       count_states(tx, DC_STEP_CONFIRMING, DC_STEP_CONFIRMED,
		                    1, &n) &&
		       n > 0;
	case DC_TX_CANCELLING:
		return f >= -1 && f < (int64_t)tx->nsteps &&
		       count_states(tx, DC_STEP_CANCELLING, DC_STEP_CANCELLED,
		                    1, &n) &&
		       n > 0;
	case DC_TX_COMMITTED:
		return f == -1 && count_states(tx, DC_STEP_CONFIRMED,
		                               DC_STEP_CONFIRMED, 0, &n);
	case DC_TX_CANCELLED:
		return count_states(tx, DC_STEP_CANCELLED, DC_STEP_CANCELLED, 0,
		                    &n);
	default:
		return false;
	}
}

/* ---- output helpers ---------------------------------------------------- */

/* emit and touch are machine.c's shared output helpers. */
#define emit  dc_out_emit
#define touch dc_out_touch

static void finish(dc_tx *tx, dc_out *out, dc_tx_state state)
{
	tx->state = state;
	out->changed = true;
	emit(out, DC_ACT_FINISHED, 0, (dtx_op)0);
}

/* move_all puts every branch not yet in state `to` into it with a first
 * attempt, and calls op on all of them; with no branch the transaction
 * ends in `empty_final` at once. */
static void move_all(dc_tx *tx, dc_out *out, dc_tx_state tx_state,
                     dc_step_state to, dtx_op op, dc_tx_state empty_final)
{
	tx->state = tx_state;
	out->changed = true;
	if (tx->nsteps == 0) {
		finish(tx, out, empty_final);
		return;
	}
	for (uint32_t i = 0; i < tx->nsteps; i++) {
		tx->steps[i].state = to;
		tx->steps[i].attempts = 1;
		touch(out, i);
	}
	emit(out, DC_ACT_CALL_ALL, 0, op);
}

static void confirm_all(dc_tx *tx, dc_out *out)
{
	move_all(tx, out, DC_TX_CONFIRMING, DC_STEP_CONFIRMING, DTX_OP_CONFIRM,
	         DC_TX_COMMITTED);
}

static void cancel_all(dc_tx *tx, dc_out *out)
{
	move_all(tx, out, DC_TX_CANCELLING, DC_STEP_CANCELLING, DTX_OP_CANCEL,
	         DC_TX_CANCELLED);
}

static void retry_later(dc_tx *tx, dc_out *out, uint32_t i, dtx_op op)
{
	tx->steps[i].attempts++;
	touch(out, i);
	emit(out, DC_ACT_RETRY_LATER, i, op);
}

static bool all_in(const dc_tx *tx, dc_step_state state)
{
	for (uint32_t i = 0; i < tx->nsteps; i++) {
		if (tx->steps[i].state != state)
			return false;
	}
	return true;
}

/* ---- one handler per event -------------------------------------------- */

static void on_start(dc_tx *tx, dc_out *out)
{
	if (tx->initiator_driven || tx->state != DC_TX_RUNNING ||
	    tx->nsteps == 0 || !all_in(tx, DC_STEP_PENDING)) {
		out->ignored = true;
		return;
	}
	for (uint32_t i = 0; i < tx->nsteps; i++) {
		tx->steps[i].state = DC_STEP_TRYING;
		tx->steps[i].attempts = 1;
		touch(out, i);
	}
	emit(out, DC_ACT_CALL_ALL, 0, DTX_OP_TRY);
}

static void on_register(dc_tx *tx, dc_out *out, uint32_t i)
{
	if (!tx->initiator_driven || tx->state != DC_TX_RUNNING ||
	    tx->steps[i].state != DC_STEP_PENDING) {
		out->ignored = true;
		return;
	}
	tx->steps[i].state = DC_STEP_TRYING;
	tx->steps[i].attempts = 0;
	touch(out, i);
}

static void on_try_reply(dc_tx *tx, const dc_policy *policy, dc_out *out,
                         uint32_t i, dc_outcome outcome)
{
	uint32_t max = policy->action_max_attempts;

	switch (outcome) {
	case DC_OUT_OK:
		tx->steps[i].state = DC_STEP_TRIED;
		touch(out, i);
		if (all_in(tx, DC_STEP_TRIED))
			confirm_all(tx, out);
		return;
	case DC_OUT_RETRY:
	case DC_OUT_UNREACHABLE:
		if (max == 0 || tx->steps[i].attempts < max) {
			retry_later(tx, out, i, DTX_OP_TRY);
			return;
		}
		break; /* given up: its effect is unknown */
	default:
		break; /* FAIL or TIMEOUT */
	}
	tx->failed_step = (int32_t)i;
	cancel_all(tx, out);
}

/* Confirms and Cancels never give up: every outcome but OK retries. */
static void on_second_reply(dc_tx *tx, dc_out *out, uint32_t i, dtx_op op,
                            dc_outcome outcome)
{
	bool confirm = op == DTX_OP_CONFIRM;
	dc_step_state done = confirm ? DC_STEP_CONFIRMED : DC_STEP_CANCELLED;

	if (outcome != DC_OUT_OK) {
		retry_later(tx, out, i, op);
		return;
	}
	tx->steps[i].state = done;
	touch(out, i);
	if (all_in(tx, done))
		finish(tx, out, confirm ? DC_TX_COMMITTED : DC_TX_CANCELLED);
}

static void on_reply(dc_tx *tx, const dc_policy *policy, const dc_event *ev,
                     dc_out *out)
{
	assert(ev->outcome >= DC_OUT_OK && ev->outcome < DC_OUT_COUNT);
	if (!dc_tcc_op_inflight(tx, ev->step, ev->op))
		out->ignored = true;
	else if (ev->op == DTX_OP_TRY)
		on_try_reply(tx, policy, out, ev->step, ev->outcome);
	else
		on_second_reply(tx, out, ev->step, ev->op, ev->outcome);
}

static void on_retry_due(const dc_tx *tx, const dc_event *ev, dc_out *out)
{
	if (!dc_tcc_op_inflight(tx, ev->step, ev->op)) {
		out->ignored = true;
		return;
	}
	emit(out, DC_ACT_CALL, ev->step, ev->op);
}

/* The calls in flight before the crash may have been delivered: each
 * re-issue is a new attempt. */
static void on_recover(dc_tx *tx, dc_out *out)
{
	dtx_op op;
	dc_step_state want;
	bool any = false;

	if (tx->state == DC_TX_RUNNING && tx->initiator_driven) {
		out->ignored = true; /* waiting for COMMIT, ABORT or DEADLINE */
		return;
	}
	op = tx->state == DC_TX_RUNNING      ? DTX_OP_TRY
	     : tx->state == DC_TX_CONFIRMING ? DTX_OP_CONFIRM
	                                     : DTX_OP_CANCEL;
	want = dc_tcc_branch_state_of_op(op);
	for (uint32_t i = 0; i < tx->nsteps; i++) {
		if (tx->steps[i].state == want) {
			tx->steps[i].attempts++;
			touch(out, i);
			any = true;
		}
	}
	if (any)
		emit(out, DC_ACT_CALL_ALL, 0, op);
	else
		out->ignored = true;
}

/* An operator answered branch i's call in flight by hand. */
static void on_skip(dc_tx *tx, const dc_policy *policy, dc_out *out, uint32_t i,
                    bool done)
{
	dtx_op op = tx->state == DC_TX_RUNNING      ? DTX_OP_TRY
	            : tx->state == DC_TX_CONFIRMING ? DTX_OP_CONFIRM
	                                            : DTX_OP_CANCEL;

	if (!dc_tcc_op_inflight(tx, i, op) || (!done && op != DTX_OP_TRY)) {
		out->ignored = true;
		return;
	}
	if (op == DTX_OP_TRY)
		on_try_reply(tx, policy, out, i,
		             done ? DC_OUT_OK : DC_OUT_FAIL);
	else
		on_second_reply(tx, out, i, op, DC_OUT_OK);
}

static void on_commit(dc_tx *tx, dc_out *out)
{
	if (!tx->initiator_driven || tx->state != DC_TX_RUNNING) {
		out->ignored = true;
		return;
	}
	confirm_all(tx, out);
}

static void on_rollback(dc_tx *tx, dc_out *out)
{
	if (tx->state != DC_TX_RUNNING) {
		out->ignored = true;
		return;
	}
	cancel_all(tx, out);
}

static void check_step_event(const dc_tx *tx, const dc_event *ev)
{
	assert(ev->step < tx->nsteps);
	assert(ev->kind == DC_EV_REGISTER || ev->op == DTX_OP_TRY ||
	       ev->op == DTX_OP_CONFIRM || ev->op == DTX_OP_CANCEL);
	(void)tx;
	(void)ev;
}

void dc_tcc_apply(dc_tx *tx, const dc_policy *policy, const dc_event *ev,
                  dc_out *out)
{
	assert(tx != NULL && policy != NULL && ev != NULL && out != NULL);
	assert(tx->mode == DC_MODE_TCC);
	assert(invariants_hold(tx));
	memset(out, 0, sizeof(*out));
	if (ev->kind == DC_EV_REPLY || ev->kind == DC_EV_RETRY_DUE ||
	    ev->kind == DC_EV_REGISTER)
		check_step_event(tx, ev);
	assert(ev->kind != DC_EV_SKIP || ev->step < tx->nsteps);
	if (dc_tx_is_final(tx)) {
		out->ignored = true;
		return;
	}
	switch (ev->kind) {
	case DC_EV_START:
		on_start(tx, out);
		break;
	case DC_EV_REGISTER:
		on_register(tx, out, ev->step);
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
	case DC_EV_COMMIT:
		on_commit(tx, out);
		break;
	case DC_EV_ABORT:
	case DC_EV_DEADLINE:
	case DC_EV_OPERATOR_ROLLBACK:
		on_rollback(tx, out);
		break;
	case DC_EV_SKIP:
		on_skip(tx, policy, out, ev->step, ev->done);
		break;
	default:
		assert(!"unknown TCC event kind");
		out->ignored = true;
	}
	assert(invariants_hold(tx));
}

bool dc_tcc_invariants_hold(const dc_tx *tx)
{
	return tx->mode == DC_MODE_TCC && invariants_hold(tx);
}

dc_step_state dc_tcc_branch_state_of_op(dtx_op op)
{
	switch (op) {
	case DTX_OP_TRY:
		return DC_STEP_TRYING;
	case DTX_OP_CONFIRM:
		return DC_STEP_CONFIRMING;
	default:
		return DC_STEP_CANCELLING;
	}
}

bool dc_tcc_op_inflight(const dc_tx *tx, uint32_t i, dtx_op op)
{
	dc_tx_state want;

	if (i >= tx->nsteps)
		return false;
	switch (op) {
	case DTX_OP_TRY:
		if (tx->initiator_driven)
			return false;
		want = DC_TX_RUNNING;
		break;
	case DTX_OP_CONFIRM:
		want = DC_TX_CONFIRMING;
		break;
	case DTX_OP_CANCEL:
		want = DC_TX_CANCELLING;
		break;
	default:
		return false;
	}
	return tx->state == want &&
	       tx->steps[i].state == dc_tcc_branch_state_of_op(op);
}
