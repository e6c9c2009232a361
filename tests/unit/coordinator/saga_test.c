/*
 * saga_test.c - tests for coordinator/saga.c and coordinator/tx.c.
 *
 * The state machine is tested three ways: row by row from the transition
 * table at the top of saga.c (one parameterized test over a table of
 * before/event/after rows), by scenarios that drive whole sagas through a
 * tiny simulated engine (every failure position k of N-step sagas), and as
 * fail-stop for broken caller preconditions.
 *
 * Step states in rows are written one letter per step:
 *   P PENDING, A ACTING, D DONE, F FAILED, C COMPENSATING, X COMPENSATED;
 * attempts one digit per step.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <signal.h>
#include <string.h>

#include "machine.h"
#include "saga.h"
#include "tx.h"

#define ACT  DTX_OP_ACTION
#define COMP DTX_OP_COMPENSATE

/* ---- helpers ----------------------------------------------------------- */

static dc_step_state state_of(char c)
{
	switch (c) {
	case 'P':
		return DC_STEP_PENDING;
	case 'A':
		return DC_STEP_ACTING;
	case 'D':
		return DC_STEP_DONE;
	case 'F':
		return DC_STEP_FAILED;
	case 'C':
		return DC_STEP_COMPENSATING;
	case 'X':
		return DC_STEP_COMPENSATED;
	}
	cr_assert_fail("bad step letter '%c'", c);
	return DC_STEP_PENDING;
}

static char letter_of(dc_step_state st)
{
	static const char letters[] = "?PADFCX";

	return st >= 1 && st <= DC_STEP_COMPENSATED ? letters[st] : '?';
}

static dc_tx *make_tx(uint32_t nsteps)
{
	dc_tx *tx = NULL;

	cr_assert_eq(dc_tx_create("t-1", DC_MODE_SAGA, nsteps, &tx), DTX_OK);
	return tx;
}

/* load_tx builds a transaction from a row's letters and digits. */
static dc_tx *load_tx(dc_tx_state state, const char *steps,
                      const char *attempts, int32_t failed_step)
{
	uint32_t n = (uint32_t)strlen(steps);
	dc_tx *tx = make_tx(n);

	cr_assert_eq(strlen(attempts), n, "attempts/steps length mismatch");
	tx->state = state;
	tx->failed_step = failed_step;
	for (uint32_t i = 0; i < n; i++) {
		tx->steps[i].state = state_of(steps[i]);
		tx->steps[i].attempts = (uint32_t)(attempts[i] - '0');
	}
	return tx;
}

/* dump writes a tx's step letters and attempt digits (attempts capped at 9
 * in the digits). */
static void dump(const dc_tx *tx, char *steps, char *attempts)
{
	for (uint32_t i = 0; i < tx->nsteps; i++) {
		uint32_t a = tx->steps[i].attempts;

		steps[i] = letter_of(tx->steps[i].state);
		attempts[i] = (char)('0' + (a > 9 ? 9 : a));
	}
	steps[tx->nsteps] = '\0';
	attempts[tx->nsteps] = '\0';
}

/* copy_state copies the durable fields saga.c reads and writes. */
static dc_tx *copy_state(const dc_tx *src)
{
	dc_tx *tx = make_tx(src->nsteps);

	tx->state = src->state;
	tx->failed_step = src->failed_step;
	for (uint32_t i = 0; i < src->nsteps; i++) {
		tx->steps[i].state = src->steps[i].state;
		tx->steps[i].attempts = src->steps[i].attempts;
	}
	return tx;
}

static bool same_state(const dc_tx *a, const dc_tx *b)
{
	if (a->state != b->state || a->failed_step != b->failed_step ||
	    a->nsteps != b->nsteps)
		return false;
	for (uint32_t i = 0; i < a->nsteps; i++) {
		if (a->steps[i].state != b->steps[i].state ||
		    a->steps[i].attempts != b->steps[i].attempts)
			return false;
	}
	return true;
}

static const dc_policy default_policy = {.action_max_attempts = 3};

static dc_out apply(dc_tx *tx, const dc_policy *pol, dc_ev_kind kind,
                    uint32_t step, dtx_op op, dc_outcome outcome)
{
	/* SKIP rows give "as done" as outcome OK, "as failed" as FAIL. */
	dc_event ev = {.kind = kind,
	               .step = step,
	               .op = op,
	               .outcome = outcome,
	               .done = outcome == DC_OUT_OK};
	dc_out out;

	memset(&out, 0xa5, sizeof(out)); /* apply must overwrite all of it */
	dc_saga_apply(tx, pol, &ev, &out);
	return out;
}

static void assert_ignored(const dc_out *out)
{
	cr_assert(out->ignored);
	cr_assert_not(out->changed);
	cr_assert_eq(out->nacts, 0);
	cr_assert_eq(out->dirty_steps, 0);
}

/* ---- tx.c -------------------------------------------------------------- */

Test(tx, create_makes_a_running_tx_with_pending_steps)
{
	dc_tx *tx = NULL;

	cr_assert_eq(dc_tx_create("shop:order-1_a.b", DC_MODE_SAGA, 3, &tx),
	             DTX_OK);
	cr_assert_str_eq(tx->gid, "shop:order-1_a.b");
	cr_assert_eq(tx->mode, DC_MODE_SAGA);
	cr_assert_eq(tx->state, DC_TX_RUNNING);
	cr_assert_eq(tx->failed_step, -1);
	cr_assert_eq(tx->nsteps, 3);
	for (uint32_t i = 0; i < 3; i++) {
		cr_assert_eq(tx->steps[i].state, DC_STEP_PENDING);
		cr_assert_eq(tx->steps[i].attempts, 0);
		cr_assert_null(tx->steps[i].url);
	}
	cr_assert_not(dc_tx_is_final(tx));
	dc_tx_destroy(tx);
}

Test(tx, create_accepts_a_gid_of_exactly_the_maximum_length)
{
	char gid[DTX_GID_MAX + 1];
	dc_tx *tx = NULL;

	memset(gid, 'g', DTX_GID_MAX);
	gid[DTX_GID_MAX] = '\0';
	cr_assert_eq(dc_tx_create(gid, DC_MODE_TCC, 1, &tx), DTX_OK);
	cr_assert_str_eq(tx->gid, gid);
	dc_tx_destroy(tx);
}

Test(tx, create_refuses_bad_gids_and_zero_steps_without_writing_ret)
{
	char long_gid[DTX_GID_MAX + 2];
	dc_tx *sentinel = (dc_tx *)&long_gid;
	dc_tx *tx = sentinel;

	memset(long_gid, 'g', DTX_GID_MAX + 1);
	long_gid[DTX_GID_MAX + 1] = '\0';
	cr_assert_eq(dc_tx_create(long_gid, DC_MODE_SAGA, 1, &tx), DTX_EINVAL);
	cr_assert_eq(dc_tx_create("", DC_MODE_SAGA, 1, &tx), DTX_EINVAL);
	cr_assert_eq(dc_tx_create(NULL, DC_MODE_SAGA, 1, &tx), DTX_EINVAL);
	cr_assert_eq(dc_tx_create("a b", DC_MODE_SAGA, 1, &tx), DTX_EINVAL);
	cr_assert_eq(dc_tx_create("a/b", DC_MODE_SAGA, 1, &tx), DTX_EINVAL);
	cr_assert_eq(dc_tx_create("caf\xc3\xa9", DC_MODE_SAGA, 1, &tx),
	             DTX_EINVAL);
	cr_assert_eq(dc_tx_create("ok", DC_MODE_SAGA, 0, &tx), DTX_EINVAL);
	cr_assert_eq(dc_tx_create("ok", (dc_mode)0, 1, &tx), DTX_EINVAL);
	cr_assert_eq(tx, sentinel);
}

Test(tx, set_str_replaces_copies_and_clears)
{
	char buf[] = "first";
	char *slot = NULL;

	cr_assert_eq(dc_tx_set_str(&slot, buf), DTX_OK);
	buf[0] = 'F';
	cr_assert_str_eq(slot, "first");
	cr_assert_eq(dc_tx_set_str(&slot, "second"), DTX_OK);
	cr_assert_str_eq(slot, "second");
	cr_assert_eq(dc_tx_set_str(&slot, NULL), DTX_OK);
	cr_assert_null(slot);
}

Test(tx, destroy_frees_owned_strings_and_accepts_null)
{
	dc_tx *tx = make_tx(2);

	dc_tx_destroy(NULL);
	cr_assert_eq(dc_tx_set_str(&tx->reason, "out of stock"), DTX_OK);
	cr_assert_eq(dc_tx_set_str(&tx->steps[1].url, "tcp://x:1"), DTX_OK);
	cr_assert_eq(dc_tx_set_str(&tx->steps[1].last_error, "e"), DTX_OK);
	dc_tx_destroy(tx); /* leaks show under valgrind / ASan */
}

Test(tx, is_final_only_for_committed_and_compensated)
{
	dc_tx *tx = make_tx(1);

	tx->state = DC_TX_RUNNING;
	cr_assert_not(dc_tx_is_final(tx));
	tx->state = DC_TX_COMPENSATING;
	cr_assert_not(dc_tx_is_final(tx));
	tx->state = DC_TX_COMMITTED;
	cr_assert(dc_tx_is_final(tx));
	tx->state = DC_TX_COMPENSATED;
	cr_assert(dc_tx_is_final(tx));
	dc_tx_destroy(tx);
}

/* ---- the transition table, row by row ---------------------------------- */

#define MAX_ROW_STEPS 8

/* A transaction as the table writes it. */
typedef struct row_tx {
	dc_tx_state tx;
	char steps[MAX_ROW_STEPS + 1];    /* one letter per step */
	char attempts[MAX_ROW_STEPS + 1]; /* one digit per step */
	int32_t failed;
} row_tx;

typedef struct row {
	char name[64];
	row_tx before;
	uint32_t max_attempts;
	dc_event ev;
	row_tx after;
	uint32_t nacts;
	dc_act acts[2];
	bool changed;
	bool ignored;
	uint64_t dirty;
} row;

#define RUN  DC_TX_RUNNING
#define CING DC_TX_COMPENSATING
#define CMTD DC_TX_COMMITTED
#define CTED DC_TX_COMPENSATED

#define START                                                                  \
	{                                                                      \
		DC_EV_START, 0, ACT, DC_OUT_OK                                 \
	}
#define RECOVER                                                                \
	{                                                                      \
		DC_EV_RECOVER, 0, ACT, DC_OUT_OK                               \
	}
#define REPLY(s, o, r)                                                         \
	{                                                                      \
		DC_EV_REPLY, s, o, DC_OUT_##r                                  \
	}
#define DEADLINE                                                               \
	{                                                                      \
		DC_EV_DEADLINE, 0, ACT, DC_OUT_OK                              \
	}
#define ROLLBACK                                                               \
	{                                                                      \
		DC_EV_OPERATOR_ROLLBACK, 0, ACT, DC_OUT_OK                     \
	}
#define SKIP(s, r)                                                             \
	{                                                                      \
		DC_EV_SKIP, s, ACT, DC_OUT_##r                                 \
	}
#define DUE(s, o)                                                              \
	{                                                                      \
		DC_EV_RETRY_DUE, s, o, DC_OUT_OK                               \
	}

#define CALL(s, o)                                                             \
	{                                                                      \
		DC_ACT_CALL, s, o                                              \
	}
#define LATER(s, o)                                                            \
	{                                                                      \
		DC_ACT_RETRY_LATER, s, o                                       \
	}
#define FIN                                                                    \
	{                                                                      \
		DC_ACT_FINISHED, 0, (dtx_op)0                                  \
	}

/* effects: one action, durable change, not ignored, dirty step mask */
#define DOES(act, dirty) 1, {act}, true, false, dirty
/* effects: one action, nothing durable changed (RETRY_DUE) */
#define DOES_ONLY(act) 1, {act}, false, false, 0
/* after + effects of an ignored event: everything as before */
#define SAME(st, s, a, f) {st, s, a, f}, 0, {{0}}, false, true, 0

/* One row per line of saga.c's transition table, plus the stale, duplicate
 * and final cases it lists as "anything else". Columns: name; before (tx
 * state, steps, attempts, failed_step), action_max_attempts, event; after;
 * effects. */
/* clang-format off */
static row rows[] = {
	/* tx RUNNING, every step PENDING */
	{"start_calls_the_first_action",
	 {RUN,  "PPP",  "000",  -1}, 3, START,
	 {RUN,  "APP",  "100",  -1}, DOES(CALL(0, ACT), 0x1)},
	{"start_twice_is_ignored",
	 {RUN,  "APP",  "100",  -1}, 3, START,
	 SAME(RUN,  "APP",  "100",  -1)},
	{"start_on_compensating_is_ignored",
	 {CING, "DCF",  "112",   2}, 3, START,
	 SAME(CING, "DCF",  "112",   2)},

	/* tx RUNNING, step i ACTING */
	{"action_ok_calls_the_next_action",
	 {RUN,  "DAP",  "120",  -1}, 3, REPLY(1, ACT, OK),
	 {RUN,  "DDA",  "121",  -1}, DOES(CALL(2, ACT), 0x6)},
	{"last_action_ok_commits",
	 {RUN,  "DDA",  "113",  -1}, 3, REPLY(2, ACT, OK),
	 {CMTD, "DDD",  "113",  -1}, DOES(FIN, 0x4)},
	{"single_step_action_ok_commits",
	 {RUN,  "A",    "1",    -1}, 3, REPLY(0, ACT, OK),
	 {CMTD, "D",    "1",    -1}, DOES(FIN, 0x1)},
	{"fail_compensates_the_highest_done_step",
	 {RUN,  "DDAP", "1220", -1}, 3, REPLY(2, ACT, FAIL),
	 {CING, "DCFP", "1120",  2}, DOES(CALL(1, COMP), 0x6)},
	{"fail_of_the_first_step_compensates_nothing",
	 {RUN,  "APP",  "200",  -1}, 3, REPLY(0, ACT, FAIL),
	 {CTED, "FPP",  "200",   0}, DOES(FIN, 0x1)},
	{"retry_below_max_retries_later",
	 {RUN,  "DAP",  "110",  -1}, 3, REPLY(1, ACT, RETRY),
	 {RUN,  "DAP",  "120",  -1}, DOES(LATER(1, ACT), 0x2)},
	{"timeout_below_max_retries_later",
	 {RUN,  "DAP",  "120",  -1}, 3, REPLY(1, ACT, TIMEOUT),
	 {RUN,  "DAP",  "130",  -1}, DOES(LATER(1, ACT), 0x2)},
	{"unreachable_below_max_retries_later",
	 {RUN,  "AP",   "10",   -1}, 2, REPLY(0, ACT, UNREACHABLE),
	 {RUN,  "AP",   "20",   -1}, DOES(LATER(0, ACT), 0x1)},
	{"unlimited_policy_always_retries",
	 {RUN,  "DA",   "18",   -1}, 0, REPLY(1, ACT, TIMEOUT),
	 {RUN,  "DA",   "19",   -1}, DOES(LATER(1, ACT), 0x2)},
	{"retry_at_max_gives_up_and_compensates_the_step",
	 {RUN,  "DAP",  "130",  -1}, 3, REPLY(1, ACT, RETRY),
	 {CING, "DCP",  "110",   1}, DOES(CALL(1, COMP), 0x2)},
	{"timeout_at_max_on_step_0_compensates_it",
	 {RUN,  "APP",  "300",  -1}, 3, REPLY(0, ACT, TIMEOUT),
	 {CING, "CPP",  "100",   0}, DOES(CALL(0, COMP), 0x1)},
	{"unreachable_past_max_gives_up",
	 {RUN,  "DDA",  "114",  -1}, 3, REPLY(2, ACT, UNREACHABLE),
	 {CING, "DDC",  "111",   2}, DOES(CALL(2, COMP), 0x4)},

	/* tx COMPENSATING, step j COMPENSATING */
	{"compensation_ok_compensates_the_next_done_step",
	 {CING, "DDCF", "1132",  3}, 3, REPLY(2, COMP, OK),
	 {CING, "DCXF", "1132",  3}, DOES(CALL(1, COMP), 0x6)},
	{"last_compensation_ok_ends_compensated",
	 {CING, "CXF",  "411",   2}, 3, REPLY(0, COMP, OK),
	 {CTED, "XXF",  "411",   2}, DOES(FIN, 0x1)},
	{"given_up_step_is_compensated_then_the_done_one",
	 {CING, "DCP",  "120",   1}, 3, REPLY(1, COMP, OK),
	 {CING, "CXP",  "120",   1}, DOES(CALL(0, COMP), 0x3)},
	{"given_up_first_step_compensated_ends",
	 {CING, "CPP",  "100",   0}, 3, REPLY(0, COMP, OK),
	 {CTED, "XPP",  "100",   0}, DOES(FIN, 0x1)},
	{"compensation_fail_retries_later",
	 {CING, "DCF",  "112",   2}, 1, REPLY(1, COMP, FAIL),
	 {CING, "DCF",  "122",   2}, DOES(LATER(1, COMP), 0x2)},
	{"compensation_retry_retries_later",
	 {CING, "CF",   "51",    1}, 1, REPLY(0, COMP, RETRY),
	 {CING, "CF",   "61",    1}, DOES(LATER(0, COMP), 0x1)},
	{"compensation_timeout_never_gives_up",
	 {CING, "CF",   "81",    1}, 1, REPLY(0, COMP, TIMEOUT),
	 {CING, "CF",   "91",    1}, DOES(LATER(0, COMP), 0x1)},
	{"compensation_unreachable_retries_later",
	 {CING, "CXF",  "111",   2}, 3, REPLY(0, COMP, UNREACHABLE),
	 {CING, "CXF",  "211",   2}, DOES(LATER(0, COMP), 0x1)},

	/* tx not final, step i in flight for op */
	{"retry_due_calls_the_acting_step_without_change",
	 {RUN,  "DAP",  "130",  -1}, 3, DUE(1, ACT),
	 {RUN,  "DAP",  "130",  -1}, DOES_ONLY(CALL(1, ACT))},
	{"retry_due_calls_the_compensating_step_without_change",
	 {CING, "DCF",  "142",   2}, 3, DUE(1, COMP),
	 {CING, "DCF",  "142",   2}, DOES_ONLY(CALL(1, COMP))},
	{"recover_reissues_the_action_as_a_new_attempt",
	 {RUN,  "DAP",  "120",  -1}, 3, RECOVER,
	 {RUN,  "DAP",  "130",  -1}, DOES(CALL(1, ACT), 0x2)},
	{"recover_reissues_the_compensation_as_a_new_attempt",
	 {CING, "DCF",  "142",   2}, 3, RECOVER,
	 {CING, "DCF",  "152",   2}, DOES(CALL(1, COMP), 0x2)},
	{"recover_does_not_apply_max_attempts",
	 {RUN,  "A",    "3",    -1}, 3, RECOVER,
	 {RUN,  "A",    "4",    -1}, DOES(CALL(0, ACT), 0x1)},

	/* the saga's deadline */
	{"deadline_compensates_the_action_in_flight_first",
	 {RUN,  "DAP",  "120",  -1}, 3, DEADLINE,
	 {CING, "DCP",  "110",   1}, DOES(CALL(1, COMP), 0x2)},
	{"deadline_on_the_first_step_compensates_only_it",
	 {RUN,  "APP",  "200",  -1}, 3, DEADLINE,
	 {CING, "CPP",  "100",   0}, DOES(CALL(0, COMP), 0x1)},
	{"deadline_while_compensating_is_ignored",
	 {CING, "DCF",  "142",   2}, 3, DEADLINE,
	 SAME(CING, "DCF",  "142",   2)},

	/* stale and duplicate replies */
	{"reply_for_a_pending_step_is_ignored",
	 {RUN,  "DAP",  "110",  -1}, 3, REPLY(2, ACT, OK),
	 SAME(RUN,  "DAP",  "110",  -1)},
	{"duplicate_reply_for_a_done_step_is_ignored",
	 {RUN,  "DAP",  "110",  -1}, 3, REPLY(0, ACT, FAIL),
	 SAME(RUN,  "DAP",  "110",  -1)},
	{"action_reply_for_a_compensating_step_is_ignored",
	 {CING, "DCF",  "112",   2}, 3, REPLY(1, ACT, OK),
	 SAME(CING, "DCF",  "112",   2)},
	{"action_reply_for_a_failed_step_is_ignored",
	 {CING, "DCF",  "112",   2}, 3, REPLY(2, ACT, RETRY),
	 SAME(CING, "DCF",  "112",   2)},
	{"compensate_reply_for_an_acting_step_is_ignored",
	 {RUN,  "DAP",  "110",  -1}, 3, REPLY(1, COMP, OK),
	 SAME(RUN,  "DAP",  "110",  -1)},
	{"compensate_reply_for_a_done_step_is_ignored",
	 {CING, "DCF",  "112",   2}, 3, REPLY(0, COMP, OK),
	 SAME(CING, "DCF",  "112",   2)},
	{"duplicate_compensate_reply_is_ignored",
	 {CING, "CXF",  "111",   2}, 3, REPLY(1, COMP, OK),
	 SAME(CING, "CXF",  "111",   2)},
	{"retry_due_for_a_finished_step_is_ignored",
	 {RUN,  "DDA",  "121",  -1}, 3, DUE(1, ACT),
	 SAME(RUN,  "DDA",  "121",  -1)},
	{"retry_due_for_the_wrong_op_is_ignored",
	 {CING, "DCP",  "110",   1}, 3, DUE(1, ACT),
	 SAME(CING, "DCP",  "110",   1)},

	/* operator actions (dtxctl) */
	{"operator_rollback_compensates_the_step_in_flight",
	 {RUN,  "DAP",  "120",  -1}, 3, ROLLBACK,
	 {CING, "DCP",  "110",   1}, DOES(CALL(1, COMP), 0x2)},
	{"operator_rollback_while_compensating_is_ignored",
	 {CING, "DCP",  "110",   1}, 3, ROLLBACK,
	 SAME(CING, "DCP",  "110",   1)},
	{"skip_action_as_done_calls_the_next_action",
	 {RUN,  "DAP",  "190",  -1}, 3, SKIP(1, OK),
	 {RUN,  "DDA",  "191",  -1}, DOES(CALL(2, ACT), 0x6)},
	{"skip_last_action_as_done_commits",
	 {RUN,  "DA",   "19",   -1}, 3, SKIP(1, OK),
	 {CMTD, "DD",   "19",   -1}, DOES(FIN, 0x2)},
	{"skip_action_as_failed_compensates_below",
	 {RUN,  "DAP",  "190",  -1}, 3, SKIP(1, FAIL),
	 {CING, "CFP",  "190",   1}, DOES(CALL(0, COMP), 0x3)},
	{"skip_first_action_as_failed_compensates_nothing",
	 {RUN,  "AP",   "90",   -1}, 3, SKIP(0, FAIL),
	 {CTED, "FP",   "90",    0}, DOES(FIN, 0x1)},
	{"skip_compensation_as_done_compensates_the_next",
	 {CING, "DCF",  "192",   2}, 3, SKIP(1, OK),
	 {CING, "CXF",  "192",   2}, DOES(CALL(0, COMP), 0x3)},
	{"skip_compensation_as_failed_is_ignored",
	 {CING, "DCF",  "192",   2}, 3, SKIP(1, FAIL),
	 SAME(CING, "DCF",  "192",   2)},
	{"skip_of_a_step_not_in_flight_is_ignored",
	 {RUN,  "DAP",  "110",  -1}, 3, SKIP(0, OK),
	 SAME(RUN,  "DAP",  "110",  -1)},

	/* final transactions */
	{"reply_on_committed_is_ignored",
	 {CMTD, "DD",   "11",   -1}, 3, REPLY(1, ACT, OK),
	 SAME(CMTD, "DD",   "11",   -1)},
	{"start_on_committed_is_ignored",
	 {CMTD, "DD",   "11",   -1}, 3, START,
	 SAME(CMTD, "DD",   "11",   -1)},
	{"recover_on_committed_is_ignored",
	 {CMTD, "DD",   "11",   -1}, 3, RECOVER,
	 SAME(CMTD, "DD",   "11",   -1)},
	{"reply_on_compensated_is_ignored",
	 {CTED, "XFP",  "110",   1}, 3, REPLY(0, COMP, FAIL),
	 SAME(CTED, "XFP",  "110",   1)},
	{"retry_due_on_compensated_is_ignored",
	 {CTED, "XXP",  "110",   1}, 3, DUE(1, COMP),
	 SAME(CTED, "XXP",  "110",   1)},
	{"recover_on_compensated_is_ignored",
	 {CTED, "F",    "1",     0}, 3, RECOVER,
	 SAME(CTED, "F",    "1",     0)},
};
/* clang-format on */

ParameterizedTestParameters(saga, transition_table)
{
	return cr_make_param_array(row, rows, sizeof(rows) / sizeof(rows[0]));
}

static void assert_acts(const row *r, const dc_out *out)
{
	cr_assert_eq(out->nacts, r->nacts, "%s: nacts", r->name);
	for (uint32_t i = 0; i < r->nacts; i++) {
		cr_assert_eq(out->acts[i].kind, r->acts[i].kind, "%s: act kind",
		             r->name);
		cr_assert_eq(out->acts[i].step, r->acts[i].step, "%s: act step",
		             r->name);
		cr_assert_eq(out->acts[i].op, r->acts[i].op, "%s: act op",
		             r->name);
	}
}

ParameterizedTest(row *r, saga, transition_table)
{
	const row_tx *b = &r->before, *a = &r->after;
	dc_tx *tx = load_tx(b->tx, b->steps, b->attempts, b->failed);
	dc_policy pol = {.action_max_attempts = r->max_attempts};
	char steps[MAX_ROW_STEPS + 1], attempts[MAX_ROW_STEPS + 1];
	dc_out out = apply(tx, &pol, r->ev.kind, r->ev.step, r->ev.op,
	                   r->ev.outcome);

	dump(tx, steps, attempts);
	cr_assert_eq(tx->state, a->tx, "%s: tx state", r->name);
	cr_assert_str_eq(steps, a->steps, "%s: steps", r->name);
	cr_assert_str_eq(attempts, a->attempts, "%s: attempts", r->name);
	cr_assert_eq(tx->failed_step, a->failed, "%s: failed", r->name);
	assert_acts(r, &out);
	cr_assert_eq(out.changed, r->changed, "%s: changed", r->name);
	cr_assert_eq(out.ignored, r->ignored, "%s: ignored", r->name);
	cr_assert_eq(out.dirty_steps, r->dirty, "%s: dirty", r->name);
	dc_tx_destroy(tx);
}

/* ---- scenarios: a tiny engine ------------------------------------------ */

#define MAX_CALLS 256

/* sim drives a transaction the way the engine does: it performs each CALL
 * at once, answers it with answer(), and lets every backoff expire at once.
 * When crash_after >= 0, it stops after that many applied events. */
typedef struct sim {
	dc_tx *tx;
	dc_policy policy;
	dc_outcome (*answer)(struct sim *s, uint32_t step, dtx_op op);
	uint32_t fail_at;   /* step whose action answers FAIL/transient */
	uint32_t comp_nack; /* non-OK answers before a compensation is OK */
	dc_act calls[MAX_CALLS];
	uint32_t ncalls;
	uint32_t finished;
	uint32_t events;
	dc_act last_call;
} sim;

static void sim_init(sim *s, uint32_t nsteps, uint32_t fail_at,
                     dc_outcome (*answer)(sim *, uint32_t, dtx_op))
{
	memset(s, 0, sizeof(*s));
	s->tx = make_tx(nsteps);
	s->policy = default_policy;
	s->answer = answer;
	s->fail_at = fail_at;
}

/* sim_step applies one event and records what it asked for; it returns
 * the next event the engine would feed in, or false when none is left. */
static bool sim_step(sim *s, dc_event *ev)
{
	dc_out out;

	dc_saga_apply(s->tx, &s->policy, ev, &out);
	s->events++;
	cr_assert_not(out.ignored, "event %u ignored", s->events);
	cr_assert_leq(out.nacts, 1, "at most one call outstanding");
	if (out.nacts == 0)
		return false;
	switch (out.acts[0].kind) {
	case DC_ACT_CALL:
		cr_assert_lt(s->ncalls, MAX_CALLS);
		s->calls[s->ncalls++] = out.acts[0];
		s->last_call = out.acts[0];
		*ev = (dc_event){
		        DC_EV_REPLY, out.acts[0].step, out.acts[0].op,
		        s->answer(s, out.acts[0].step, out.acts[0].op)};
		return true;
	case DC_ACT_RETRY_LATER:
		*ev = (dc_event){DC_EV_RETRY_DUE, out.acts[0].step,
		                 out.acts[0].op, DC_OUT_OK};
		return true;
	default:
		s->finished++;
		return false;
	}
}

static void sim_run(sim *s)
{
	dc_event ev = {DC_EV_START, 0, ACT, DC_OUT_OK};

	while (sim_step(s, &ev))
		;
}

static dc_outcome answer_ok(sim *s, uint32_t step, dtx_op op)
{
	(void)s;
	(void)step;
	(void)op;
	return DC_OUT_OK;
}

static dc_outcome answer_fail_at(sim *s, uint32_t step, dtx_op op)
{
	if (op == ACT && step == s->fail_at)
		return DC_OUT_FAIL;
	return DC_OUT_OK;
}

/* The action at fail_at never answers; compensations answer RETRY
 * comp_nack times each before OK. */
static dc_outcome answer_timeout_at(sim *s, uint32_t step, dtx_op op)
{
	if (op == ACT)
		return step == s->fail_at ? DC_OUT_TIMEOUT : DC_OUT_OK;
	return s->tx->steps[step].attempts <= s->comp_nack ? DC_OUT_RETRY
	                                                   : DC_OUT_OK;
}

static void assert_call(const sim *s, uint32_t at, uint32_t step, dtx_op op)
{
	cr_assert_lt(at, s->ncalls);
	cr_assert_eq(s->calls[at].step, step, "call %u step", at);
	cr_assert_eq(s->calls[at].op, op, "call %u op", at);
}

#define MAX_N 8

Test(saga, commits_every_step_in_order_for_every_length)
{
	for (uint32_t n = 1; n <= MAX_N; n++) {
		sim s;

		sim_init(&s, n, 0, answer_ok);
		sim_run(&s);
		cr_assert_eq(s.tx->state, DC_TX_COMMITTED, "n=%u", n);
		cr_assert_eq(s.tx->failed_step, -1);
		cr_assert_eq(s.finished, 1);
		cr_assert_eq(s.ncalls, n);
		for (uint32_t i = 0; i < n; i++) {
			assert_call(&s, i, i, ACT);
			cr_assert_eq(s.tx->steps[i].state, DC_STEP_DONE);
			cr_assert_eq(s.tx->steps[i].attempts, 1);
		}
		dc_tx_destroy(s.tx);
	}
}

/* A FAIL at step k: actions 0..k, then compensations k-1..0, nothing else. */
Test(saga, fail_at_step_k_compensates_steps_before_k_in_reverse_order)
{
	for (uint32_t n = 1; n <= MAX_N; n++) {
		for (uint32_t k = 0; k < n; k++) {
			sim s;

			sim_init(&s, n, k, answer_fail_at);
			sim_run(&s);
			cr_assert_eq(s.tx->state, DC_TX_COMPENSATED);
			cr_assert_eq(s.tx->failed_step, (int32_t)k);
			cr_assert_eq(s.finished, 1);
			cr_assert_eq(s.ncalls, 2 * k + 1, "n=%u k=%u", n, k);
			for (uint32_t i = 0; i <= k; i++)
				assert_call(&s, i, i, ACT);
			for (uint32_t i = 0; i < k; i++)
				assert_call(&s, k + 1 + i, k - 1 - i, COMP);
			for (uint32_t i = 0; i < n; i++) {
				dc_step_state want = i < k ? DC_STEP_COMPENSATED
				                     : i == k ? DC_STEP_FAILED
				                              : DC_STEP_PENDING;
				cr_assert_eq(s.tx->steps[i].state, want);
			}
			dc_tx_destroy(s.tx);
		}
	}
}

/* An action given up at step k is compensated itself, then k-1..0; the
 * compensations are retried until they succeed. */
Test(saga, given_up_action_at_step_k_is_compensated_with_the_steps_before)
{
	for (uint32_t n = 1; n <= MAX_N; n++) {
		for (uint32_t k = 0; k < n; k++) {
			uint32_t max = default_policy.action_max_attempts;
			uint32_t at = 0;
			sim s;

			sim_init(&s, n, k, answer_timeout_at);
			s.comp_nack = 2;
			sim_run(&s);
			cr_assert_eq(s.tx->state, DC_TX_COMPENSATED);
			cr_assert_eq(s.tx->failed_step, (int32_t)k);
			cr_assert_eq(s.ncalls, k + max + 3 * (k + 1));
			for (uint32_t i = 0; i < k; i++)
				assert_call(&s, at++, i, ACT);
			for (uint32_t i = 0; i < max; i++)
				assert_call(&s, at++, k, ACT);
			for (uint32_t j = k + 1; j-- > 0;) {
				for (uint32_t i = 0; i < 3; i++)
					assert_call(&s, at++, j, COMP);
				cr_assert_eq(s.tx->steps[j].state,
				             DC_STEP_COMPENSATED);
				cr_assert_eq(s.tx->steps[j].attempts, 3);
			}
			dc_tx_destroy(s.tx);
		}
	}
}

/* Every reply already answered, replayed at any point of a run, is
 * ignored and changes nothing. */
Test(saga, stale_and_duplicate_replies_are_ignored_at_every_point)
{
	static const dc_outcome outcomes[] = {DC_OUT_OK, DC_OUT_FAIL,
	                                      DC_OUT_RETRY, DC_OUT_TIMEOUT,
	                                      DC_OUT_UNREACHABLE};
	sim s;
	dc_event ev = {DC_EV_START, 0, ACT, DC_OUT_OK};
	bool more = true;

	sim_init(&s, 4, 2, answer_fail_at);
	while (more) {
		more = sim_step(&s, &ev);
		for (uint32_t c = 0; c + (more ? 1 : 0) < s.ncalls; c++) {
			for (size_t o = 0; o < 5; o++) {
				dc_tx *before = copy_state(s.tx);
				dc_out out = apply(s.tx, &s.policy, DC_EV_REPLY,
				                   s.calls[c].step,
				                   s.calls[c].op, outcomes[o]);

				assert_ignored(&out);
				cr_assert(same_state(before, s.tx));
				dc_tx_destroy(before);
			}
		}
	}
	cr_assert_eq(s.tx->state, DC_TX_COMPENSATED);
	dc_tx_destroy(s.tx);
}

static void assert_every_event_ignored(dc_tx *tx)
{
	static const dtx_op ops[] = {ACT, COMP};

	for (uint32_t i = 0; i < tx->nsteps; i++) {
		for (size_t o = 0; o < 2; o++) {
			for (dc_outcome oc = DC_OUT_OK; oc < DC_OUT_COUNT;
			     oc++) {
				dc_tx *before = copy_state(tx);
				dc_out out = apply(tx, &default_policy,
				                   DC_EV_REPLY, i, ops[o], oc);

				assert_ignored(&out);
				out = apply(tx, &default_policy,
				            DC_EV_RETRY_DUE, i, ops[o], oc);
				assert_ignored(&out);
				cr_assert(same_state(before, tx));
				dc_tx_destroy(before);
			}
		}
	}
	dc_out out = apply(tx, &default_policy, DC_EV_START, 0, ACT, DC_OUT_OK);
	assert_ignored(&out);
	out = apply(tx, &default_policy, DC_EV_RECOVER, 0, ACT, DC_OUT_OK);
	assert_ignored(&out);
}

Test(saga, every_event_on_a_final_transaction_is_ignored)
{
	for (uint32_t k = 0; k <= 3; k++) {
		sim s;

		/* k == 3: nothing fails, the saga commits */
		sim_init(&s, 3, k, answer_fail_at);
		sim_run(&s);
		cr_assert(dc_tx_is_final(s.tx));
		cr_assert_not(
		        dc_saga_inflight(s.tx, &(uint32_t){0}, &(dtx_op){ACT}));
		assert_every_event_ignored(s.tx);
		dc_tx_destroy(s.tx);
	}
}

/* Crash after every event of a run: RECOVER on the logged state re-issues
 * exactly the call that was last issued, as a new attempt, and nothing
 * else. */
static void assert_recover_reissues(const sim *s)
{
	dc_tx *tx = copy_state(s->tx);
	uint32_t step, attempts;
	dtx_op op;
	dc_out out;

	cr_assert(dc_saga_inflight(tx, &step, &op));
	cr_assert_eq(step, s->last_call.step);
	cr_assert_eq(op, s->last_call.op);
	attempts = tx->steps[step].attempts;
	out = apply(tx, &s->policy, DC_EV_RECOVER, 0, ACT, DC_OUT_OK);
	cr_assert_eq(out.nacts, 1);
	cr_assert_eq(out.acts[0].kind, DC_ACT_CALL);
	cr_assert_eq(out.acts[0].step, step);
	cr_assert_eq(out.acts[0].op, op);
	cr_assert(out.changed);
	cr_assert_eq(out.dirty_steps, UINT64_C(1) << step);
	cr_assert_eq(tx->steps[step].attempts, attempts + 1);
	tx->steps[step].attempts = attempts;
	cr_assert(same_state(tx, s->tx), "recover changed only attempts");
	dc_tx_destroy(tx);
}

Test(saga, recover_reissues_exactly_the_inflight_call_at_every_point)
{
	for (uint32_t k = 0; k <= 4; k++) {
		dc_event ev = {DC_EV_START, 0, ACT, DC_OUT_OK};
		sim s;

		sim_init(&s, 4, k, answer_timeout_at); /* k == 4: commits */
		s.comp_nack = 1;
		while (sim_step(&s, &ev)) {
			assert_recover_reissues(&s);
		}
		cr_assert(dc_tx_is_final(s.tx));
		dc_tx_destroy(s.tx);
	}
}

Test(saga, recover_during_a_backoff_calls_once_more)
{
	dc_tx *tx = load_tx(RUN, "DAP", "120", -1);
	dc_out out =
	        apply(tx, &default_policy, DC_EV_REPLY, 1, ACT, DC_OUT_RETRY);

	cr_assert_eq(out.acts[0].kind, DC_ACT_RETRY_LATER);
	/* crash before the backoff expired; the timer is lost */
	out = apply(tx, &default_policy, DC_EV_RECOVER, 0, ACT, DC_OUT_OK);
	cr_assert_eq(out.acts[0].kind, DC_ACT_CALL);
	cr_assert_eq(tx->steps[1].attempts, 4);
	dc_tx_destroy(tx);
}

Test(saga, inflight_names_the_acting_or_compensating_step)
{
	dc_tx *tx = load_tx(RUN, "DAP", "110", -1);
	uint32_t step = 99;
	dtx_op op = (dtx_op)0;

	cr_assert(dc_saga_inflight(tx, &step, &op));
	cr_assert_eq(step, 1);
	cr_assert_eq(op, ACT);
	dc_tx_destroy(tx);
	tx = load_tx(CING, "DCXF", "1112", 3);
	cr_assert(dc_saga_inflight(tx, &step, &op));
	cr_assert_eq(step, 1);
	cr_assert_eq(op, COMP);
	dc_tx_destroy(tx);
	tx = make_tx(2); /* before START nothing is in flight */
	step = 99;
	cr_assert_not(dc_saga_inflight(tx, &step, &op));
	cr_assert_eq(step, 99);
	dc_tx_destroy(tx);
}

Test(saga, steps_from_63_up_share_the_last_dirty_bit)
{
	dc_tx *tx = make_tx(70);
	dc_out out;

	out = apply(tx, &default_policy, DC_EV_START, 0, ACT, DC_OUT_OK);
	cr_assert_eq(out.dirty_steps, 1);
	for (uint32_t i = 0; i < 69; i++) {
		uint64_t want = (UINT64_C(1) << (i < 63 ? i : 63)) |
		                (UINT64_C(1) << (i + 1 < 63 ? i + 1 : 63));

		out = apply(tx, &default_policy, DC_EV_REPLY, i, ACT,
		            DC_OUT_OK);
		cr_assert_eq(out.dirty_steps, want, "step %u", i);
	}
	out = apply(tx, &default_policy, DC_EV_REPLY, 69, ACT, DC_OUT_OK);
	cr_assert_eq(out.dirty_steps, UINT64_C(1) << 63);
	cr_assert_eq(tx->state, DC_TX_COMMITTED);
	dc_tx_destroy(tx);
}

/* ---- broken caller preconditions stop the process ----------------------- */

Test(saga, zero_steps_aborts, .signal = SIGABRT)
{
	dc_tx tx = {.state = DC_TX_RUNNING, .failed_step = -1};

	apply(&tx, &default_policy, DC_EV_START, 0, ACT, DC_OUT_OK);
}

Test(saga, step_out_of_range_aborts, .signal = SIGABRT)
{
	dc_tx *tx = load_tx(RUN, "AP", "10", -1);

	apply(tx, &default_policy, DC_EV_REPLY, 2, ACT, DC_OUT_OK);
}

Test(saga, step_out_of_range_aborts_on_a_final_tx, .signal = SIGABRT)
{
	dc_tx *tx = load_tx(CMTD, "D", "1", -1);

	apply(tx, &default_policy, DC_EV_RETRY_DUE, 1, ACT, DC_OUT_OK);
}

Test(saga, tcc_op_aborts, .signal = SIGABRT)
{
	dc_tx *tx = load_tx(RUN, "AP", "10", -1);

	apply(tx, &default_policy, DC_EV_REPLY, 0, DTX_OP_TRY, DC_OUT_OK);
}

Test(saga, recover_before_start_aborts, .signal = SIGABRT)
{
	dc_tx *tx = make_tx(2);

	apply(tx, &default_policy, DC_EV_RECOVER, 0, ACT, DC_OUT_OK);
}

Test(saga, broken_invariant_aborts, .signal = SIGABRT)
{
	dc_tx *tx = load_tx(RUN, "DAA", "111", -1); /* two calls in flight */

	apply(tx, &default_policy, DC_EV_RETRY_DUE, 1, ACT, DC_OUT_OK);
}

/* ---- a transaction read back from the log (dc_machine_check) ----------- */

/* What would abort the machine above is refused at load instead, so that
 * the engine quarantines it (issue 13). */
Test(saga, machine_check_refuses_what_the_machine_would_abort_on)
{
	dc_tx *txs[] = {
	        make_tx(2),                                 /* before START */
	        load_tx(RUN, "DAA", "111", -1),             /* two in flight */
	        load_tx(RUN, "PA", "01", -1),               /* out of order */
	        load_tx(RUN, "DA", "10", -1),               /* attempt 0 */
	        load_tx(DC_TX_COMMITTED, "DA", "11", -1),   /* final, acting */
	        load_tx(DC_TX_COMPENSATING, "DC", "11", 5), /* failed step 5 */
	        load_tx(DC_TX_CONFIRMING, "DD", "11", -1),  /* a TCC state */
	};
	char why[200];

	for (size_t i = 0; i < sizeof(txs) / sizeof(txs[0]); i++) {
		why[0] = '\0';
		cr_assert_not(dc_machine_check(txs[i], why, sizeof(why)),
		              "row %zu passed", i);
		cr_assert_neq(why[0], '\0', "row %zu: no reason", i);
		dc_tx_destroy(txs[i]);
	}
}

Test(saga, machine_check_takes_every_state_the_machine_logs)
{
	dc_tx *txs[] = {
	        load_tx(RUN, "DAP", "121", -1),
	        load_tx(DC_TX_COMPENSATING, "DCF", "130", 2),
	        load_tx(DC_TX_COMMITTED, "DD", "11", -1),
	        load_tx(DC_TX_COMPENSATED, "XXFP", "1100", 2),
	};
	char why[200] = "";

	for (size_t i = 0; i < sizeof(txs) / sizeof(txs[0]); i++) {
		cr_assert(dc_machine_check(txs[i], why, sizeof(why)),
		          "row %zu: %s", i, why);
		dc_tx_destroy(txs[i]);
	}
}

Test(saga, tx_check_refuses_fields_a_record_may_carry)
{
	dc_tx *tx = load_tx(RUN, "DA", "11", -1);
	char why[200] = "";

	for (uint32_t i = 0; i < 2; i++) {
		cr_assert_eq(dc_tx_set_str(&tx->steps[i].url, "tcp://h:1"), 0);
		cr_assert_eq(dc_tx_set_str(&tx->steps[i].action, "p.do"), 0);
		cr_assert_eq(dc_tx_set_str(&tx->steps[i].compensate, "p.undo"),
		             0);
	}
	cr_assert(dc_tx_check(tx, why, sizeof(why)), "%s", why);
	tx->steps[1].state = DC_STEP_TRIED; /* a TCC state in a saga */
	cr_assert_not(dc_tx_check(tx, why, sizeof(why)));
	cr_assert_not_null(strstr(why, "step 1"), "%s", why);
	tx->steps[1].state = DC_STEP_ACTING;
	tx->steps[1].attempts = UINT32_MAX; /* recovery would wrap it */
	cr_assert_not(dc_tx_check(tx, why, sizeof(why)));
	tx->steps[1].attempts = 1;
	cr_assert_eq(dc_tx_set_str(&tx->steps[0].compensate, "bad name!"), 0);
	cr_assert_not(dc_tx_check(tx, why, sizeof(why)));
	cr_assert_eq(dc_tx_set_str(&tx->steps[0].compensate, "p.undo"), 0);
	tx->failed_step = 2;
	cr_assert_not(dc_tx_check(tx, why, sizeof(why)));
	tx->failed_step = -1;
	tx->deadline_unix_ms = -1;
	cr_assert_not(dc_tx_check(tx, why, sizeof(why)));
	dc_tx_destroy(tx);
}
