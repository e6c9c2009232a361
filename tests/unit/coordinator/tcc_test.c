/*
 * tcc_test.c - tests for coordinator/tcc.c, the TCC state machine.
 *
 * Row by row from the transition table at the top of tcc.c (one
 * parameterized test over before/event/after rows), then scenarios that
 * drive whole transactions through a tiny simulated engine: every Try
 * outcome at every branch position, deadlines and aborts at every point,
 * and recovery of every non-final state.
 *
 * Branch states in rows are one letter per branch:
 *   P PENDING, T TRYING, D TRIED, C CONFIRMING, K CONFIRMED,
 *   X CANCELLING, Z CANCELLED;
 * attempts one digit per branch. Transaction states: R RUNNING,
 * c CONFIRMING, x CANCELLING, K COMMITTED, Z CANCELLED.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <stdio.h>
#include <string.h>

#include "machine.h"
#include "tcc.h"
#include "tx.h"

#define TRY DTX_OP_TRY
#define CNF DTX_OP_CONFIRM
#define CAN DTX_OP_CANCEL

/* ---- helpers ----------------------------------------------------------- */

static const char step_letters[] = "PTDCKXZ";
static const dc_step_state step_states[] = {
        DC_STEP_PENDING,    DC_STEP_TRYING,    DC_STEP_TRIED,
        DC_STEP_CONFIRMING, DC_STEP_CONFIRMED, DC_STEP_CANCELLING,
        DC_STEP_CANCELLED,
};
static const char tx_letters[] = "RcxKZ";
static const dc_tx_state tx_states[] = {
        DC_TX_RUNNING,   DC_TX_CONFIRMING, DC_TX_CANCELLING,
        DC_TX_COMMITTED, DC_TX_CANCELLED,
};

static dc_step_state step_of(char c)
{
	const char *p = strchr(step_letters, c);

	cr_assert(p != NULL && c != '\0', "bad branch letter '%c'", c);
	return step_states[p - step_letters];
}

static char step_letter(dc_step_state st)
{
	for (size_t i = 0; i < sizeof(step_states) / sizeof(*step_states); i++)
		if (step_states[i] == st)
			return step_letters[i];
	return '?';
}

static dc_tx_state tx_of(char c)
{
	const char *p = strchr(tx_letters, c);

	cr_assert(p != NULL && c != '\0', "bad tx letter '%c'", c);
	return tx_states[p - tx_letters];
}

static char tx_letter(dc_tx_state st)
{
	for (size_t i = 0; i < sizeof(tx_states) / sizeof(*tx_states); i++)
		if (tx_states[i] == st)
			return tx_letters[i];
	return '?';
}

/* load builds a TCC transaction from letters and digits. */
static dc_tx *load(char state, const char *steps, const char *attempts,
                   bool init, int32_t failed)
{
	uint32_t n = (uint32_t)strlen(steps);
	dc_tx *tx = NULL;

	cr_assert_eq(dc_tx_create("t-1", DC_MODE_TCC, n, &tx), DTX_OK);
	cr_assert_eq(strlen(attempts), n);
	tx->state = tx_of(state);
	tx->initiator_driven = init;
	tx->failed_step = failed;
	for (uint32_t i = 0; i < n; i++) {
		tx->steps[i].state = step_of(steps[i]);
		tx->steps[i].attempts = (uint32_t)(attempts[i] - '0');
	}
	return tx;
}

static void dump(const dc_tx *tx, char *state, char *steps, char *attempts)
{
	*state = tx_letter(tx->state);
	for (uint32_t i = 0; i < tx->nsteps; i++) {
		uint32_t a = tx->steps[i].attempts;
		steps[i] = step_letter(tx->steps[i].state);
		attempts[i] = (char)('0' + (a > 9 ? 9 : a));
	}
	steps[tx->nsteps] = attempts[tx->nsteps] = '\0';
}

static const dc_policy policy3 = {.action_max_attempts = 3};

static dc_out apply(dc_tx *tx, dc_ev_kind kind, uint32_t step, dtx_op op,
                    dc_outcome outcome)
{
	/* SKIP rows give "as done" as outcome OK, "as failed" as FAIL. */
	dc_event ev = {.kind = kind,
	               .step = step,
	               .op = op,
	               .outcome = outcome,
	               .done = outcome == DC_OUT_OK};
	dc_out out;

	memset(&out, 0xa5, sizeof(out)); /* apply must overwrite all of it */
	dc_tcc_apply(tx, &policy3, &ev, &out);
	return out;
}

/* ---- the transition table, row by row --------------------------------- */

/* act: the expected actions as text, e.g. "ALL:try", "CALL:1:cancel",
 * "RETRY:0:confirm", "FIN", joined by spaces; "-" for ignored. */
/* Rows hold arrays, not pointers: Criterion may run each parameter in a
 * fresh process where the parent's pointers mean nothing. */
typedef struct row {
	char name[48];
	char state;
	char steps[9], attempts[9];
	bool init;
	int32_t failed;
	dc_ev_kind ev;
	uint32_t step;
	dtx_op op;
	dc_outcome outcome;
	char want_state;
	char want_steps[9], want_attempts[9];
	int32_t want_failed;
	char want_acts[24];
} row;

static row rows[] = {
        /* RUNNING, coordinator-run */
        {"start calls every try", 'R', "PPP", "000", false, -1, DC_EV_START, 0,
         0, 0, 'R', "TTT", "111", -1, "ALL:try"},
        {"start twice is ignored", 'R', "TTT", "111", false, -1, DC_EV_START, 0,
         0, 0, 'R', "TTT", "111", -1, "-"},
        {"try ok, others pending", 'R', "TTT", "111", false, -1, DC_EV_REPLY, 1,
         TRY, DC_OUT_OK, 'R', "TDT", "111", -1, ""},
        {"last try ok confirms all", 'R', "DTD", "121", false, -1, DC_EV_REPLY,
         1, TRY, DC_OUT_OK, 'c', "CCC", "111", -1, "ALL:confirm"},
        {"try fail cancels all", 'R', "DTT", "111", false, -1, DC_EV_REPLY, 2,
         TRY, DC_OUT_FAIL, 'x', "XXX", "111", 2, "ALL:cancel"},
        {"try timeout cancels all", 'R', "TTT", "111", false, -1, DC_EV_REPLY,
         0, TRY, DC_OUT_TIMEOUT, 'x', "XXX", "111", 0, "ALL:cancel"},
        {"try retry backs off", 'R', "TDT", "111", false, -1, DC_EV_REPLY, 0,
         TRY, DC_OUT_RETRY, 'R', "TDT", "211", -1, "RETRY:0:try"},
        {"try unreachable backs off", 'R', "TT", "21", false, -1, DC_EV_REPLY,
         0, TRY, DC_OUT_UNREACHABLE, 'R', "TT", "31", -1, "RETRY:0:try"},
        {"try retry past budget cancels", 'R', "TD", "31", false, -1,
         DC_EV_REPLY, 0, TRY, DC_OUT_RETRY, 'x', "XX", "11", 0, "ALL:cancel"},
        {"retry due calls again", 'R', "TD", "21", false, -1, DC_EV_RETRY_DUE,
         0, TRY, 0, 'R', "TD", "21", -1, "CALL:0:try"},
        {"stale try reply ignored", 'R', "TD", "21", false, -1, DC_EV_REPLY, 1,
         TRY, DC_OUT_OK, 'R', "TD", "21", -1, "-"},
        {"deadline cancels all", 'R', "TDT", "212", false, -1, DC_EV_DEADLINE,
         0, 0, 0, 'x', "XXX", "111", -1, "ALL:cancel"},
        {"commit of coordinator-run ignored", 'R', "TD", "11", false, -1,
         DC_EV_COMMIT, 0, 0, 0, 'R', "TD", "11", -1, "-"},
        {"recover re-calls open tries", 'R', "TDT", "212", false, -1,
         DC_EV_RECOVER, 0, 0, 0, 'R', "TDT", "313", -1, "ALL:try"},
        /* RUNNING, initiator-driven */
        {"register makes a branch trying", 'R', "TP", "00", true, -1,
         DC_EV_REGISTER, 1, 0, 0, 'R', "TT", "00", -1, ""},
        {"register of a trying branch ignored", 'R', "TT", "00", true, -1,
         DC_EV_REGISTER, 1, 0, 0, 'R', "TT", "00", -1, "-"},
        {"commit confirms all", 'R', "TT", "00", true, -1, DC_EV_COMMIT, 0, 0,
         0, 'c', "CC", "11", -1, "ALL:confirm"},
        {"abort cancels all", 'R', "TT", "00", true, -1, DC_EV_ABORT, 0, 0, 0,
         'x', "XX", "11", -1, "ALL:cancel"},
        {"deadline cancels an unpaid reservation", 'R', "TTT", "000", true, -1,
         DC_EV_DEADLINE, 0, 0, 0, 'x', "XXX", "111", -1, "ALL:cancel"},
        {"start of initiator-driven ignored", 'R', "", "", true, -1,
         DC_EV_START, 0, 0, 0, 'R', "", "", -1, "-"},
        {"recover of initiator-driven waits", 'R', "TT", "00", true, -1,
         DC_EV_RECOVER, 0, 0, 0, 'R', "TT", "00", -1, "-"},
        {"try reply to initiator-driven ignored", 'R', "T", "0", true, -1,
         DC_EV_REPLY, 0, TRY, DC_OUT_OK, 'R', "T", "0", -1, "-"},
        {"commit with no branch commits", 'R', "", "", true, -1, DC_EV_COMMIT,
         0, 0, 0, 'K', "", "", -1, "FIN"},
        {"abort with no branch cancels", 'R', "", "", true, -1, DC_EV_ABORT, 0,
         0, 0, 'Z', "", "", -1, "FIN"},
        /* operator actions (dtxctl) */
        {"operator rollback cancels all", 'R', "TDT", "121", false, -1,
         DC_EV_OPERATOR_ROLLBACK, 0, 0, 0, 'x', "XXX", "111", -1, "ALL:cancel"},
        {"operator rollback of initiator-driven", 'R', "TT", "00", true, -1,
         DC_EV_OPERATOR_ROLLBACK, 0, 0, 0, 'x', "XX", "11", -1, "ALL:cancel"},
        {"operator rollback while confirming ignored", 'c', "CK", "11", false,
         -1, DC_EV_OPERATOR_ROLLBACK, 0, 0, 0, 'c', "CK", "11", -1, "-"},
        {"operator rollback while cancelling ignored", 'x', "XZ", "21", false,
         0, DC_EV_OPERATOR_ROLLBACK, 0, 0, 0, 'x', "XZ", "21", 0, "-"},
        {"skip try as done", 'R', "TDT", "111", false, -1, DC_EV_SKIP, 0, 0,
         DC_OUT_OK, 'R', "DDT", "111", -1, ""},
        {"skip last try as done confirms all", 'R', "DTD", "191", false, -1,
         DC_EV_SKIP, 1, 0, DC_OUT_OK, 'c', "CCC", "111", -1, "ALL:confirm"},
        {"skip try as failed cancels all", 'R', "TDT", "211", false, -1,
         DC_EV_SKIP, 0, 0, DC_OUT_FAIL, 'x', "XXX", "111", 0, "ALL:cancel"},
        {"skip of a tried branch ignored", 'R', "TD", "11", false, -1,
         DC_EV_SKIP, 1, 0, DC_OUT_OK, 'R', "TD", "11", -1, "-"},
        {"skip of initiator-driven try ignored", 'R', "TT", "00", true, -1,
         DC_EV_SKIP, 0, 0, DC_OUT_OK, 'R', "TT", "00", -1, "-"},
        {"skip confirm as done", 'c', "CC", "13", false, -1, DC_EV_SKIP, 1, 0,
         DC_OUT_OK, 'c', "CK", "13", -1, ""},
        {"skip last confirm commits", 'c', "KC", "19", false, -1, DC_EV_SKIP, 1,
         0, DC_OUT_OK, 'K', "KK", "19", -1, "FIN"},
        {"skip confirm as failed ignored", 'c', "CC", "11", false, -1,
         DC_EV_SKIP, 0, 0, DC_OUT_FAIL, 'c', "CC", "11", -1, "-"},
        {"skip confirmed branch ignored", 'c', "KC", "11", false, -1,
         DC_EV_SKIP, 0, 0, DC_OUT_OK, 'c', "KC", "11", -1, "-"},
        {"skip last cancel as done ends cancelled", 'x', "XZ", "91", false, 0,
         DC_EV_SKIP, 0, 0, DC_OUT_OK, 'Z', "ZZ", "91", 0, "FIN"},
        {"skip cancel as failed ignored", 'x', "XZ", "21", false, 0, DC_EV_SKIP,
         0, 0, DC_OUT_FAIL, 'x', "XZ", "21", 0, "-"},
        {"operator commit of coordinator-run ignored", 'R', "TD", "91", false,
         -1, DC_EV_COMMIT, 0, 0, 0, 'R', "TD", "91", -1, "-"},
        /* CONFIRMING */
        {"confirm ok", 'c', "CC", "11", false, -1, DC_EV_REPLY, 0, CNF,
         DC_OUT_OK, 'c', "KC", "11", -1, ""},
        {"last confirm commits", 'c', "KC", "13", false, -1, DC_EV_REPLY, 1,
         CNF, DC_OUT_OK, 'K', "KK", "13", -1, "FIN"},
        {"confirm fail retries", 'c', "CC", "11", true, -1, DC_EV_REPLY, 1, CNF,
         DC_OUT_FAIL, 'c', "CC", "12", -1, "RETRY:1:confirm"},
        {"confirm timeout retries for ever", 'c', "C", "9", false, -1,
         DC_EV_REPLY, 0, CNF, DC_OUT_TIMEOUT, 'c', "C", "9", -1,
         "RETRY:0:confirm"},
        {"abort while confirming ignored", 'c', "CK", "11", true, -1,
         DC_EV_ABORT, 0, 0, 0, 'c', "CK", "11", -1, "-"},
        {"deadline while confirming ignored", 'c', "CK", "11", true, -1,
         DC_EV_DEADLINE, 0, 0, 0, 'c', "CK", "11", -1, "-"},
        {"recover re-calls open confirms", 'c', "CKC", "111", true, -1,
         DC_EV_RECOVER, 0, 0, 0, 'c', "CKC", "212", -1, "ALL:confirm"},
        {"stale cancel reply while confirming", 'c', "CC", "11", false, -1,
         DC_EV_REPLY, 0, CAN, DC_OUT_OK, 'c', "CC", "11", -1, "-"},
        /* CANCELLING */
        {"cancel ok", 'x', "XX", "11", false, 0, DC_EV_REPLY, 1, CAN, DC_OUT_OK,
         'x', "XZ", "11", 0, ""},
        {"last cancel ends cancelled", 'x', "XZ", "21", false, 0, DC_EV_REPLY,
         0, CAN, DC_OUT_OK, 'Z', "ZZ", "21", 0, "FIN"},
        {"cancel retry retries", 'x', "XZ", "21", true, -1, DC_EV_REPLY, 0, CAN,
         DC_OUT_RETRY, 'x', "XZ", "31", -1, "RETRY:0:cancel"},
        {"commit while cancelling ignored", 'x', "XX", "11", true, -1,
         DC_EV_COMMIT, 0, 0, 0, 'x', "XX", "11", -1, "-"},
        {"late try reply while cancelling", 'x', "XX", "11", false, 1,
         DC_EV_REPLY, 0, TRY, DC_OUT_OK, 'x', "XX", "11", 1, "-"},
        {"recover re-calls open cancels", 'x', "ZX", "13", false, 1,
         DC_EV_RECOVER, 0, 0, 0, 'x', "ZX", "14", 1, "ALL:cancel"},
        /* final */
        {"committed ignores everything", 'K', "KK", "11", true, -1, DC_EV_ABORT,
         0, 0, 0, 'K', "KK", "11", -1, "-"},
        {"cancelled ignores a late try", 'Z', "ZZ", "11", false, 0, DC_EV_REPLY,
         0, TRY, DC_OUT_OK, 'Z', "ZZ", "11", 0, "-"},
};

static void acts_text(const dc_out *out, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	if (out->ignored) {
		snprintf(buf, len, "-");
		return;
	}
	for (uint32_t i = 0; i < out->nacts; i++) {
		const dc_act *a = &out->acts[i];
		const char *op = a->kind == DC_ACT_FINISHED
		                         ? ""
		                         : dtx_op_name((int)a->op);
		int n;
		switch (a->kind) {
		case DC_ACT_CALL_ALL:
			n = snprintf(buf + used, len - used, "%sALL:%s",
			             i ? " " : "", op);
			break;
		case DC_ACT_CALL:
			n = snprintf(buf + used, len - used, "%sCALL:%u:%s",
			             i ? " " : "", a->step, op);
			break;
		case DC_ACT_RETRY_LATER:
			n = snprintf(buf + used, len - used, "%sRETRY:%u:%s",
			             i ? " " : "", a->step, op);
			break;
		default:
			n = snprintf(buf + used, len - used, "%sFIN",
			             i ? " " : "");
		}
		used += (size_t)n;
	}
}

ParameterizedTestParameters(tcc, table_row)
{
	return cr_make_param_array(row, rows, sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(const row *r, tcc, table_row)
{
	dc_tx *tx = load(r->state, r->steps, r->attempts, r->init, r->failed);
	dc_out out = apply(tx, r->ev, r->step, r->op, r->outcome);
	char st, steps[16], attempts[16], acts[128];

	dump(tx, &st, steps, attempts);
	acts_text(&out, acts, sizeof(acts));
	cr_expect_eq(st, r->want_state, "%s: state %c", r->name, st);
	cr_expect_str_eq(steps, r->want_steps, "%s: steps %s", r->name, steps);
	cr_expect_str_eq(attempts, r->want_attempts, "%s: attempts %s", r->name,
	                 attempts);
	cr_expect_eq(tx->failed_step, r->want_failed, "%s: failed %d", r->name,
	             tx->failed_step);
	cr_expect_str_eq(acts, r->want_acts, "%s: acts %s", r->name, acts);
	if (out.ignored)
		cr_expect(!out.changed && out.dirty_steps == 0, "%s", r->name);
	dc_tx_destroy(tx);
}

/* ---- scenarios: a tiny engine ------------------------------------------ */

/* drive runs a coordinator-run transaction of n branches: the Try of
 * branch k answers `bad` (every other call answers OK), calls complete in
 * index order. Returns the final state. */
static dc_tx_state drive(uint32_t n, int32_t k, dc_outcome bad,
                         uint32_t *ret_cancels, uint32_t *ret_confirms)
{
	dc_tx *tx = load('R', "PPPPPPPP" + (8 - n), "00000000" + (8 - n), false,
	                 -1);
	dc_out out = apply(tx, DC_EV_START, 0, 0, 0);
	dc_tx_state final;
	int guard = 0;

	*ret_cancels = *ret_confirms = 0;
	while (!dc_tx_is_final(tx) && guard++ < 1000) {
		dtx_op op = out.acts[0].op;
		cr_assert(out.nacts >= 1 && out.acts[0].kind == DC_ACT_CALL_ALL,
		          "n=%u k=%d: expected a CALL_ALL", n, k);
		for (uint32_t i = 0; i < n && !dc_tx_is_final(tx); i++) {
			dc_outcome o = (op == TRY && (int32_t)i == k)
			                       ? bad
			                       : DC_OUT_OK;
			if (!dc_tcc_op_inflight(tx, i, op))
				continue;
			*ret_cancels += op == CAN;
			*ret_confirms += op == CNF;
			dc_out o2 = apply(tx, DC_EV_REPLY, i, op, o);
			if (o2.nacts > 0 && o2.acts[0].kind == DC_ACT_CALL_ALL)
				out = o2;
			if (o2.nacts > 0 && o2.acts[0].kind == DC_ACT_CALL_ALL)
				break;
		}
	}
	final = tx->state;
	dc_tx_destroy(tx);
	return final;
}

Test(tcc, every_try_ok_confirms_every_branch_once)
{
	for (uint32_t n = 1; n <= 8; n++) {
		uint32_t cancels, confirms;
		cr_assert_eq(drive(n, -1, DC_OUT_OK, &cancels, &confirms),
		             DC_TX_COMMITTED);
		cr_assert_eq(confirms, n);
		cr_assert_eq(cancels, 0);
	}
}

Test(tcc, a_failed_or_timed_out_try_cancels_every_branch_it_included)
{
	static const dc_outcome bad[] = {DC_OUT_FAIL, DC_OUT_TIMEOUT};

	for (uint32_t n = 1; n <= 8; n++)
		for (int32_t k = 0; k < (int32_t)n; k++)
			for (int b = 0; b < 2; b++) {
				uint32_t cancels, confirms;
				cr_assert_eq(drive(n, k, bad[b], &cancels,
				                   &confirms),
				             DC_TX_CANCELLED, "n=%u k=%d", n,
				             k);
				cr_assert_eq(cancels, n, "n=%u k=%d", n, k);
				cr_assert_eq(confirms, 0);
			}
}

Test(tcc, machine_dispatch_picks_tcc_by_mode)
{
	dc_tx *tx = load('R', "PP", "00", false, -1);
	dc_event ev = {.kind = DC_EV_START};
	dc_out out;

	dc_machine_apply(tx, &policy3, &ev, &out);
	cr_assert_eq(out.acts[0].kind, DC_ACT_CALL_ALL);
	cr_assert(dc_machine_op_inflight(tx, 1, TRY));
	cr_assert_not(dc_machine_op_inflight(tx, 1, CAN));
	cr_assert_not(dc_machine_op_inflight(tx, 5, TRY));
	dc_tx_destroy(tx);
}

Test(tcc, every_transition_of_the_table_keeps_attempts_counted)
{
	/* a CALL_ALL always follows a state where every called branch has a
	 * first attempt counted (the engine sends attempts as-is) */
	dc_tx *tx = load('R', "TT", "00", true, -1);
	dc_out out = apply(tx, DC_EV_COMMIT, 0, 0, 0);

	cr_assert_eq(out.acts[0].kind, DC_ACT_CALL_ALL);
	for (uint32_t i = 0; i < tx->nsteps; i++)
		cr_assert_eq(tx->steps[i].attempts, 1);
	dc_tx_destroy(tx);
}
