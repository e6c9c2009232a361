/*
 * barrier.c - exactly-once effects for branch calls (DESIGN.md rule 3):
 * a call's writes and the record of the call commit in one local
 * transaction of the participant's store.
 *
 * Owns: the decision table below and the order of one call's local
 * transaction, for every backend. Never: touches nng, names a backend or
 * includes a database's header (the store's ops table, barrier_store.h,
 * does the storage: LMDB in store.c + barrier_lmdb.c, PostgreSQL in
 * store_pg.c), or keeps state between calls - the records in the store
 * are the whole state.
 *
 * A record: (gid, branch, op) -> status (OK or FAIL; RETRY is never
 * recorded), the null-compensation flag, and the reply's message and
 * result.
 *
 * Decisions, taken inside the call's write transaction, after the group's
 * transaction locked the gids of its calls (lock_gids: LMDB's writer lock;
 * PostgreSQL advisory locks), so a try and a cancel racing on two threads
 * or two processes are serialised, and each sees whatever the other
 * committed:
 *
 */
/* clang-format off */
/*
 *   op                 state of the store              does                 answers
 *   -----------------  ------------------------------  -------------------  -------
 *   any                record of (gid, branch, op)     replay it            its status
 *   action / try       compensate/cancel recorded      record FAIL (late)   FAIL
 *   action / try       its deadline + tolerance passed record FAIL (late)   FAIL
 *   action / try       otherwise                       run handler (nested) OK/FAIL
 *   cancel             confirm recorded                nothing (conflict)   RETRY
 *   compensate/cancel  action/try missing or FAIL      record OK, null flag OK
 *   compensate/cancel  action/try OK                   run handler (nested) OK
 *   confirm            cancel recorded                 nothing (conflict)   RETRY
 *   confirm            try missing or not OK           nothing              RETRY
 *   confirm            try OK                          run handler (nested) OK
 */
/* clang-format on */
/*
 * Why each row holds:
 *   - An action/try whose handler answered FAIL, or RETRY, or whose commit
 *     failed (or the process died first) left no writes: the FAIL record
 *     says so, the others leave no record. Its compensate/cancel finds no
 *     OK record and is a null compensation: the handler does not run, as
 *     it would undo something that never happened. The action/try that
 *     comes later (a resend, a delayed packet) finds that marker and is
 *     refused: no hanging reservation.
 *   - An action/try whose deadline (BranchCall.deadline_unix_ms) plus the
 *     participant's tolerance has passed by this host's wall clock is one
 *     the coordinator no longer waits for: its transaction rolled back at
 *     that deadline, or (a saga without one) it gave up on that call. It
 *     is refused and recorded like a late one. This row is what holds once
 *     GC has removed the null compensation: the coordinator is never
 *     asked on this path.
 *   - The coordinator decides confirm or cancel for a TCC branch, never
 *     both. A confirm after a cancel, or a cancel after a confirm, is a
 *     coordinator bug or a mixed-up gid: running it would apply both
 *     effects (release a reservation already deducted), so it is logged as
 *     an error and answered RETRY until an operator looks (the coordinator
 *     flags the transaction stuck).
 *
 * A handler runs in a transaction nested in the call's, so its writes can
 * be dropped alone: OK keeps them and records OK; FAIL drops them and
 * records FAIL (a refusal changes nothing, and a repeat refuses again);
 * RETRY drops everything and records nothing. A FAIL from compensate,
 * cancel or confirm is treated as RETRY: they must succeed eventually.
 * A full map aborts everything; the map is grown and the call runs once
 * more from the start (then RETRY). Likewise a group whose deferred
 * counter changes (dtx_txn_add_i64 on PostgreSQL) do not fit at its
 * commit is rolled back whole and runs once more with every change
 * applied and checked at once, call by call: the calls then get exactly
 * the answers a group without deferral would have given.
 *
 * On PostgreSQL the nested transactions are SAVEPOINTs of one
 * transaction of the service's own database, so a FAIL record is written
 * after the try's writes were rolled back to its savepoint (the record
 * stays; not Seata #6374), and a handler that answers OK after its SQL
 * failed (the transaction is aborted) fails its savepoint's release: the
 * call answers RETRY and keeps nothing.
 *
 * Crash windows. The record and the handler's writes become durable in
 * one local commit (LMDB default sync; PostgreSQL COMMIT with
 * synchronous_commit on): a crash before it leaves neither, and the
 * coordinator's resend runs the call afresh; a crash after it leaves both.
 * If the process dies after the local commit and before the reply, the
 * coordinator resends and the record answers. A failed commit (EIO,
 * ENOSPC) answers RETRY and records nothing; the coordinator retries later.
 *
 * Lifetime of the records. A record must outlive every call of its gid
 * the coordinator may still deliver: above all a null compensation, which
 * is what refuses a late action/try. They are never removed here;
 * barrier_gc.c removes the records of a gid only once the coordinator says
 * the transaction is final, a grace period has passed since, and the
 * keep_until_ms of every record of the gid (its call's deadline plus the
 * tolerance) has passed: from then on the deadline row above refuses what
 * the records would have. A replay whose call carries a later deadline
 * than its record (a saga's resend: each attempt has its own) raises the
 * record's keep_until_ms. A call without a deadline (an older
 * coordinator) records 0 and is kept for the grace period only.
 *
 * Threads: sdk_barrier_serve runs on many worker threads at once; every
 * piece of its state lives on the caller's stack or in the store.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fault.h"
#include "sdk.h"

#define GROW_RERUNS 1 /* a full map grows and reruns the call once */
/* group_once's "a deferred sum did not fit" (not a dtx_err: it never
 * leaves this file; the group runs again without deferring) */
#define SHORT_SUM (-1)

/* serve_ctx - one call on its way through the barrier. */
typedef struct serve_ctx {
	dtx_store *store; /* borrowed */
	dtx_call *call;   /* borrowed */
	dtx_handler_fn run;
	void *arg;          /* borrowed: run's argument */
	int64_t keep_until; /* the call's deadline + tolerance; 0: none */
	dtx_txn txn;        /* the call's write transaction */
	bool commit;        /* a record was written */
	dtx_status status;
	sdk_outcome out;
} serve_ctx;

/* ---- records ---------------------------------------------------------- */

/* record_find looks up the record of op for the call's gid and branch.
 * Errors: DTX_ENOENT, DTX_ECORRUPT, DTX_EIO. */
static int record_find(serve_ctx *s, dtx_op op, sdk_rec *ret_rec)
{
	return s->store->ops->rec_get(&s->txn, dtx_call_gid(s->call),
	                              dtx_call_branch(s->call), op, ret_rec);
}

/* record_put records the call with status and the reply now in the call
 * (message and result), and marks the transaction for commit. */
static int record_put(serve_ctx *s, dtx_status status, bool null_comp)
{
	const dtx_call *call = s->call;
	sdk_rec rec = {.status = status,
	               .null_comp = null_comp,
	               .message = call->message,
	               .message_len = call->message_len,
	               .result = call->result,
	               .result_len = call->result_len,
	               .keep_until_ms = s->keep_until};
	int rv = s->store->ops->rec_put(&s->txn, dtx_call_gid(call),
	                                dtx_call_branch(call),
	                                dtx_call_op(call), &rec);

	if (rv != DTX_OK)
		return rv;
	s->status = status;
	s->commit = true;
	return DTX_OK;
}

/* ---- the decisions ----------------------------------------------------- */

/* replay answers the call from its record (rec, borrowed), and writes
 * the record again (now from the call's copy of it) when the call's
 * deadline keeps it longer. */
static int replay(serve_ctx *s, const sdk_rec *rec)
{
	int rv = sdk_call_set_reply(s->call, rec->message, rec->message_len,
	                            rec->result, rec->result_len);

	s->status = rec->status;
	s->out = SDK_OUT_REPLAYED;
	if (rv == DTX_OK && s->keep_until > rec->keep_until_ms)
		rv = record_put(s, rec->status, rec->null_comp);
	return rv;
}

/* fail_to_retry logs a FAIL where only OK is allowed (compensate, cancel,
 * confirm must succeed eventually) and turns it into RETRY. */
static dtx_status fail_to_retry(const serve_ctx *s)
{
	sdk_logf(DTX_LOG_WARN,
	         "store %s: %s %s of %s/%u answered FAIL: retried",
	         sdk_store_dir(s->store), dtx_op_name(dtx_call_op(s->call)),
	         dtx_call_handler(s->call), dtx_call_gid(s->call),
	         dtx_call_branch(s->call));
	return DTX_STATUS_RETRY;
}

/* run_nested runs the handler in a transaction nested in the call's and
 * keeps its writes only if it answered OK. Returns the handler's answer
 * in *ret_status (RETRY for a FAIL when fail_is_retry). */
static int run_nested(serve_ctx *s, bool fail_is_retry, dtx_status *ret_status)
{
	dtx_txn child;
	dtx_status st;
	int rv = sdk_txn_begin(s->store, &s->txn, false, &child);

	if (rv != DTX_OK)
		return rv;
	s->call->txn = &child;
	st = s->run(s->arg, s->call);
	s->call->txn = NULL;
	if (child.map_full) {
		sdk_txn_abort(&child);
		return DTX_ELIMIT;
	}
	if (st == DTX_STATUS_FAIL && fail_is_retry)
		st = fail_to_retry(s);
	rv = st == DTX_STATUS_OK ? sdk_txn_commit(&child) : DTX_OK;
	sdk_txn_abort(&child);
	*ret_status = st;
	return rv;
}

/* apply runs the handler and records its OK or FAIL; RETRY records
 * nothing. */
static int apply(serve_ctx *s, bool fail_is_retry)
{
	dtx_status st;
	int rv = run_nested(s, fail_is_retry, &st);

	if (rv != DTX_OK)
		return rv;
	if (st == DTX_STATUS_RETRY) {
		s->status = st;
		s->out = SDK_OUT_RETRY;
		return DTX_OK;
	}
	s->out = SDK_OUT_APPLIED;
	return record_put(s, st, false);
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* is_past_deadline: the call carries a deadline, and it plus the
 * tolerance has passed by the local wall clock. */
static bool is_past_deadline(const serve_ctx *s)
{
	return s->keep_until > 0 && wall_ms() > s->keep_until;
}

/* forward serves an action or a try: refused if its compensation came
 * first or its deadline passed, else applied. The clock is read after the
 * compensation was found missing: if GC removed it, GC's clock was past
 * the record's keep_until (the call's deadline + tolerance) before that
 * removal committed, so ours is too and the call is refused. */
static int forward(serve_ctx *s, dtx_op pair)
{
	sdk_rec rec;
	int rv = record_find(s, pair, &rec);

	if (rv == DTX_ENOENT && !is_past_deadline(s))
		return apply(s, false);
	if (rv != DTX_OK && rv != DTX_ENOENT)
		return rv;
	if (rv == DTX_ENOENT)
		sdk_call_set_text(s->call, "deadline passed");
	else
		sdk_call_set_text(s->call, pair == DTX_OP_COMPENSATE
		                                   ? "already compensated"
		                                   : "already cancelled");
	s->out = SDK_OUT_LATE_REFUSED;
	return record_put(s, DTX_STATUS_FAIL, false);
}

/* conflict answers RETRY to a confirm after a cancel, or a cancel after a
 * confirm (other: the op recorded first), and logs it as an error. */
static int conflict(serve_ctx *s, dtx_op other)
{
	char text[64];

	sdk_logf(DTX_LOG_ERROR,
	         "store %s: %s of %s/%u after its %s: refused (RETRY)",
	         sdk_store_dir(s->store), dtx_op_name(dtx_call_op(s->call)),
	         dtx_call_gid(s->call), dtx_call_branch(s->call),
	         dtx_op_name(other));
	snprintf(text, sizeof(text), "already %s",
	         other == DTX_OP_CONFIRM ? "confirmed" : "cancelled");
	sdk_call_set_text(s->call, text);
	s->status = DTX_STATUS_RETRY;
	s->out = SDK_OUT_CONFLICT;
	return DTX_OK;
}

/* is_recorded tells whether the call's gid and branch has a record of op.
 * Errors: DTX_ECORRUPT, DTX_EIO. */
static int is_recorded(serve_ctx *s, dtx_op op, bool *ret_found)
{
	sdk_rec rec;
	int rv = record_find(s, op, &rec);

	if (rv != DTX_OK && rv != DTX_ENOENT)
		return rv;
	*ret_found = rv == DTX_OK;
	return DTX_OK;
}

/* backward serves a compensate or a cancel: a null compensation unless
 * its action/try was recorded OK; never a cancel after a confirm. */
static int backward(serve_ctx *s, dtx_op pair)
{
	sdk_rec rec;
	bool confirmed = false;
	int rv = DTX_OK;

	if (pair == DTX_OP_TRY)
		rv = is_recorded(s, DTX_OP_CONFIRM, &confirmed);
	if (rv != DTX_OK)
		return rv;
	if (confirmed)
		return conflict(s, DTX_OP_CONFIRM);
	rv = record_find(s, pair, &rec);
	if (rv == DTX_OK && rec.status == DTX_STATUS_OK)
		return apply(s, true);
	if (rv != DTX_OK && rv != DTX_ENOENT)
		return rv;
	s->out = SDK_OUT_NULL_COMP;
	return record_put(s, DTX_STATUS_OK, true);
}

/* confirm serves a confirm: only once its try was recorded OK, and never
 * after a cancel. */
static int confirm(serve_ctx *s)
{
	sdk_rec rec;
	bool cancelled;
	int rv = is_recorded(s, DTX_OP_CANCEL, &cancelled);

	if (rv != DTX_OK)
		return rv;
	if (cancelled)
		return conflict(s, DTX_OP_CANCEL);
	rv = record_find(s, DTX_OP_TRY, &rec);
	if (rv == DTX_OK && rec.status == DTX_STATUS_OK)
		return apply(s, true);
	if (rv != DTX_OK && rv != DTX_ENOENT)
		return rv;
	sdk_logf(DTX_LOG_WARN, "store %s: confirm of %s/%u: try not recorded",
	         sdk_store_dir(s->store), dtx_call_gid(s->call),
	         dtx_call_branch(s->call));
	sdk_call_set_text(s->call, "try not recorded");
	s->status = DTX_STATUS_RETRY;
	s->out = SDK_OUT_NOT_READY;
	return DTX_OK;
}

static int decide(serve_ctx *s)
{
	switch (dtx_call_op(s->call)) {
	case DTX_OP_ACTION:
		return forward(s, DTX_OP_COMPENSATE);
	case DTX_OP_TRY:
		return forward(s, DTX_OP_CANCEL);
	case DTX_OP_COMPENSATE:
		return backward(s, DTX_OP_ACTION);
	case DTX_OP_CANCEL:
		return backward(s, DTX_OP_TRY);
	case DTX_OP_CONFIRM:
		return confirm(s);
	}
	return DTX_EINVAL; /* the wire decoder admits only the five ops */
}

/*
 * serve_in - one call's decisions in its own write transaction s->txn,
 * nested in group (the group commit's transaction; see below):
 * 1. begin the call's transaction inside the group's;
 * 2. a record of (gid, branch, op) answers a repeat: reply from it;
 * 3. otherwise decide by op (the table above), perhaps running the handler
 *    in a transaction nested once more and writing the call's record;
 * 4. if a record was written, commit into the group (not yet durable),
 *    else abort: a call that failed leaves nothing in the group.
 * Returns DTX_ELIMIT when the map must grow and the group run again.
 */
static int serve_in(serve_ctx *s, dtx_txn *group)
{
	sdk_rec rec;
	int rv = sdk_txn_begin(s->store, group, false, &s->txn); /* 1 */

	if (rv != DTX_OK)
		return rv;
	s->commit = false;
	rv = record_find(s, dtx_call_op(s->call), &rec); /* 2 */
	if (rv == DTX_OK)
		rv = replay(s, &rec);
	else if (rv == DTX_ENOENT)
		rv = decide(s); /* 3 */
	if (rv == DTX_OK && s->txn.map_full)
		rv = DTX_ELIMIT;
	if (rv == DTX_OK && s->commit)
		rv = sdk_txn_commit(&s->txn); /* 4 */
	if (s->txn.map_full)
		rv = DTX_ELIMIT;
	sdk_txn_abort(&s->txn);
	return rv;
}

/* store_failed answers RETRY for a call the store could not serve. */
static dtx_status store_failed(serve_ctx *s, int rv)
{
	char text[128];

	sdk_logf(DTX_LOG_ERROR, "store %s: %s %s/%u/%s: %s: answered RETRY",
	         sdk_store_dir(s->store), dtx_call_handler(s->call),
	         dtx_call_gid(s->call), dtx_call_branch(s->call),
	         dtx_op_name(dtx_call_op(s->call)), dtx_strerror(rv));
	snprintf(text, sizeof(text), "participant store: %s", dtx_strerror(rv));
	sdk_call_reset(s->call);
	sdk_call_set_text(s->call, text);
	s->out = SDK_OUT_STORE_FAILED;
	return DTX_STATUS_RETRY;
}

/*
 * group_once - one attempt at n calls in one durable commit (group
 * commit, DESIGN.md rule 2 on the participant's side): the group's
 * transaction first locks the gids of its calls (lock_gids), each call runs in
 * its own transaction nested in the group's (serve_in), so a call that
 * fails or is refused drops only its own writes; then the group commits
 * once, one fsync for all. No call is answered before that commit returns,
 * so a later call that reads an earlier call's record (a resend in the
 * same group) is answered only once that record is durable.
 * With defer, the group's dtx_txn_add_i64 changes may wait for the commit
 * (dtx.h); SHORT_SUM: a sum of them did not fit and nothing was kept.
 * Returns DTX_ELIMIT when the map must grow and the group run again; any
 * other error fails the whole group (nothing of it is on disk).
 */
static int group_once(dtx_store *store, serve_ctx *ss, size_t n, bool defer,
                      bool *ret_committed)
{
	const char *gids[SDK_GROUP_MAX];
	dtx_txn group;
	bool commit = false;
	int rv = sdk_txn_begin(store, NULL, false, &group);

	if (rv != DTX_OK)
		return rv;
	group.defer_adds = defer;
	for (size_t i = 0; i < n; i++)
		gids[i] = dtx_call_gid(ss[i].call);
	rv = store->ops->lock_gids(&group, gids, n);
	for (size_t i = 0; i < n && rv == DTX_OK; i++) {
		serve_ctx *s = &ss[i];

		sdk_call_reset(s->call);
		s->out = SDK_OUT_APPLIED;
		s->status = DTX_STATUS_RETRY;
		rv = serve_in(s, &group);
		if (rv == DTX_ELIMIT || group.map_full) {
			rv = DTX_ELIMIT;
		} else if (rv != DTX_OK) {
			/* this call's transaction was aborted: the group is
			 * untouched and goes on without it */
			s->status = store_failed(s, rv);
			rv = DTX_OK;
		} else if (s->commit) {
			commit = true;
		}
	}
	if (rv == DTX_OK && commit) {
		rv = sdk_txn_commit(&group);
		/* If we crash here, the effects are durable and the replies
		 * never left: the coordinator resends and the records answer.
		 */
		*ret_committed = rv == DTX_OK;
		if (rv == DTX_OK)
			DTX_FAULT("sdk.after_commit_before_reply");
		else if (group.map_full)
			rv = DTX_ELIMIT;
		else if (group.short_sum)
			rv = SHORT_SUM;
	}
	sdk_txn_abort(&group);
	return rv;
}

/* keep_until is the call's deadline plus tolerance_ms, or 0 without a
 * deadline (the decoder bounds it: no overflow). */
static int64_t keep_until(const dtx_call *call, unsigned tolerance_ms)
{
	int64_t d = dtx_call_deadline_unix_ms(call);

	return d > 0 ? d + (int64_t)tolerance_ms : 0;
}

bool sdk_barrier_serve_group(dtx_store *store, sdk_barrier_item *items,
                             size_t n)
{
	serve_ctx ss[SDK_GROUP_MAX];
	bool committed = false, defer = true;
	size_t seen;
	int rv = DTX_OK;

	if (n == 0)
		return false;
	if (n > SDK_GROUP_MAX)
		n = SDK_GROUP_MAX; /* never: the caller's arrays are this big */
	for (size_t i = 0; i < n; i++)
		ss[i] = (serve_ctx){.store = store,
		                    .call = items[i].call,
		                    .run = items[i].run,
		                    .arg = items[i].arg,
		                    .keep_until =
		                            keep_until(items[i].call,
		                                       items[i].tolerance_ms)};
	for (int tries = 0;; tries++) {
		seen = sdk_store_enter(store);
		rv = group_once(store, ss, n, defer, &committed);
		sdk_store_leave(store);
		if (rv == SHORT_SUM && defer) {
			defer = false; /* the calls one by one, each checked */
			tries--;
			continue;
		}
		if (rv != DTX_ELIMIT || tries == GROW_RERUNS)
			break;
		if ((rv = sdk_store_grow(store, seen)) != DTX_OK)
			break;
	}
	for (size_t i = 0; i < n; i++) {
		if (rv != DTX_OK)
			ss[i].status = store_failed(&ss[i], rv);
		items[i].status = ss[i].status;
		items[i].out = ss[i].out;
	}
	return committed;
}

dtx_status sdk_barrier_serve(dtx_store *store, dtx_call *call,
                             dtx_handler_fn run, void *arg,
                             sdk_outcome *ret_out)
{
	sdk_barrier_item item = {.call = call,
	                         .run = run,
	                         .arg = arg,
	                         .tolerance_ms =
	                                 DTX_DEADLINE_TOLERANCE_MS_DEFAULT};

	sdk_barrier_serve_group(store, &item, 1);
	*ret_out = item.out;
	return item.status;
}
