/*
 * barrier.c - exactly-once effects for branch calls (DESIGN.md rule 3):
 * a call's writes and the record of the call commit in one local
 * transaction of the participant's store.
 *
 * Owns: the layout of the barrier records in the store's "__dtx_barrier"
 * table, the decision table below, and the order of one call's local
 * transaction. Never: touches nng, includes <lmdb.h> (store.c does), or
 * keeps state between calls - the records on disk are the whole state.
 *
 * Record registry (on disk: never change or reuse a number):
 *
 *   key    gid bytes, '\0', branch (u32 big-endian), op (u8: dtx_op)
 *   value  [u8 format = 1][u8 status][u8 flags][u8 0][u32 LE message
 *          length][message bytes][result bytes]
 *   flags  bit 0: null compensation (recorded without running the handler)
 *   status OK or FAIL; RETRY is never recorded
 *
 * Decisions, taken inside the call's write transaction (so a try and a
 * cancel racing on two threads are serialised by LMDB's writer lock, and
 * each sees whatever the other committed):
 *
 */
/* clang-format off */
/*
 *   op                 state of the store              does                 answers
 *   -----------------  ------------------------------  -------------------  -------
 *   any                record of (gid, branch, op)     replay it            its status
 *   action / try       compensate/cancel recorded      record FAIL (late)   FAIL
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
 * more from the start (then RETRY).
 *
 * Crash windows. The record and the handler's writes become durable in
 * one LMDB commit (default sync): a crash before it leaves neither, and the
 * coordinator's resend runs the call afresh; a crash after it leaves both.
 * If the process dies after the local commit and before the reply, the
 * coordinator resends and the record answers. A failed commit (EIO,
 * ENOSPC) answers RETRY and records nothing; the coordinator retries later.
 *
 * Lifetime of the records. A record must outlive every call of its gid
 * the coordinator may still deliver: above all a null compensation, which
 * is what refuses a late action/try. They are never removed here;
 * barrier_gc.c removes the records of a gid only once the coordinator says
 * the transaction is final and a grace period (longer than any call can be
 * delayed) has passed since.
 *
 * Threads: sdk_barrier_serve runs on many worker threads at once; every
 * piece of its state lives on the caller's stack or in the store.
 */
#include <stdio.h>
#include <string.h>

#include "fault.h"
#include "sdk.h"

#define REC_FORMAT    1u
#define REC_HEAD      8u
#define REC_FLAG_NULL 0x01u
#define KEY_MAX       (DTX_GID_MAX + 1 + 4 + 1)
#define GROW_RERUNS   1 /* a full map grows and reruns the call once */

/* record - one decoded barrier value; pointers borrow the store's pages. */
typedef struct record {
	dtx_status status;
	bool null_comp;
	const uint8_t *message;
	size_t message_len;
	const uint8_t *result;
	size_t result_len;
} record;

/* serve_ctx - one call on its way through the barrier. */
typedef struct serve_ctx {
	dtx_store *store; /* borrowed */
	dtx_call *call;   /* borrowed */
	dtx_handler_fn run;
	void *arg;   /* borrowed: run's argument */
	dtx_txn txn; /* the call's write transaction */
	bool commit; /* a record was written */
	dtx_status status;
	sdk_outcome out;
} serve_ctx;

/* ---- keys and records -------------------------------------------------- */

/* key_make writes the key of (gid, branch, op) into buf (KEY_MAX bytes) and
 * returns its length, or 0 for a gid too long to be a barrier key. */
static size_t key_make(uint8_t *buf, const char *gid, uint32_t branch,
                       dtx_op op)
{
	size_t n = strnlen(gid, DTX_GID_MAX + 1);

	if (n > DTX_GID_MAX)
		return 0;
	memcpy(buf, gid, n);
	buf[n] = '\0';
	buf[n + 1] = (uint8_t)(branch >> 24);
	buf[n + 2] = (uint8_t)(branch >> 16);
	buf[n + 3] = (uint8_t)(branch >> 8);
	buf[n + 4] = (uint8_t)branch;
	buf[n + 5] = (uint8_t)op;
	return n + 6;
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* record_decode checks and decodes a stored value (v, len bytes). */
static int record_decode(const uint8_t *v, size_t len, record *ret_rec)
{
	size_t mlen;

	if (len < REC_HEAD || v[0] != REC_FORMAT ||
	    (v[1] != DTX_STATUS_OK && v[1] != DTX_STATUS_FAIL))
		return DTX_ECORRUPT;
	mlen = get_le32(v + 4);
	if (mlen > WIRE_MESSAGE_MAX || mlen > len - REC_HEAD)
		return DTX_ECORRUPT;
	ret_rec->status = (dtx_status)v[1];
	ret_rec->null_comp = (v[2] & REC_FLAG_NULL) != 0;
	ret_rec->message = v + REC_HEAD;
	ret_rec->message_len = mlen;
	ret_rec->result = v + REC_HEAD + mlen;
	ret_rec->result_len = len - REC_HEAD - mlen;
	return DTX_OK;
}

/* record_find looks up the record of op for the call's gid and branch.
 * Errors: DTX_ENOENT, DTX_ECORRUPT, DTX_EIO. */
static int record_find(serve_ctx *s, dtx_op op, record *ret_rec)
{
	uint8_t key[KEY_MAX];
	size_t klen = key_make(key, dtx_call_gid(s->call),
	                       dtx_call_branch(s->call), op);
	const void *v;
	size_t len;
	int rv;

	if (klen == 0)
		return DTX_EINVAL;
	rv = sdk_txn_get_at(&s->txn, SDK_TABLE_BARRIER, key, klen, &v, &len);
	return rv == DTX_OK ? record_decode(v, len, ret_rec) : rv;
}

/* record_put records the call with status and the reply now in the call
 * (message and result), and marks the transaction for commit. */
static int record_put(serve_ctx *s, dtx_status status, bool null_comp)
{
	const dtx_call *call = s->call;
	uint8_t key[KEY_MAX], *v;
	size_t klen = key_make(key, dtx_call_gid(call), dtx_call_branch(call),
	                       dtx_call_op(call));
	size_t mlen = call->message_len, rlen = call->result_len;
	int rv = sdk_txn_reserve_at(&s->txn, SDK_TABLE_BARRIER, key, klen,
	                            REC_HEAD + mlen + rlen, (void **)&v);

	if (rv != DTX_OK)
		return rv;
	v[0] = REC_FORMAT;
	v[1] = (uint8_t)status;
	v[2] = null_comp ? REC_FLAG_NULL : 0;
	v[3] = 0;
	for (int i = 0; i < 4; i++)
		v[4 + i] = (uint8_t)(mlen >> (8 * i));
	if (mlen > 0)
		memcpy(v + REC_HEAD, call->message, mlen);
	if (rlen > 0)
		memcpy(v + REC_HEAD + mlen, call->result, rlen);
	s->status = status;
	s->commit = true;
	return DTX_OK;
}

/* ---- the decisions ----------------------------------------------------- */

/* replay answers the call from its record (rec, borrowed). */
static int replay(serve_ctx *s, const record *rec)
{
	int rv = sdk_call_set_reply(s->call, rec->message, rec->message_len,
	                            rec->result, rec->result_len);

	s->status = rec->status;
	s->out = SDK_OUT_REPLAYED;
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

/* forward serves an action or a try: refused if its compensation came
 * first, else applied. */
static int forward(serve_ctx *s, dtx_op pair)
{
	record rec;
	int rv = record_find(s, pair, &rec);

	if (rv == DTX_ENOENT)
		return apply(s, false);
	if (rv != DTX_OK)
		return rv;
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
	record rec;
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
	record rec;
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
	record rec;
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
	record rec;
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
 * commit, DESIGN.md rule 2 on the participant's side): each call runs in
 * its own transaction nested in the group's (serve_in), so a call that
 * fails or is refused drops only its own writes; then the group commits
 * once, one fsync for all. No call is answered before that commit returns,
 * so a later call that reads an earlier call's record (a resend in the
 * same group) is answered only once that record is durable.
 * Returns DTX_ELIMIT when the map must grow and the group run again; any
 * other error fails the whole group (nothing of it is on disk).
 */
static int group_once(dtx_store *store, serve_ctx *ss, size_t n,
                      bool *ret_committed)
{
	dtx_txn group;
	bool commit = false;
	int rv = sdk_txn_begin(store, NULL, false, &group);

	if (rv != DTX_OK)
		return rv;
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
	}
	sdk_txn_abort(&group);
	return rv;
}

bool sdk_barrier_serve_group(dtx_store *store, sdk_barrier_item *items,
                             size_t n)
{
	serve_ctx ss[SDK_GROUP_MAX];
	bool committed = false;
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
		                    .arg = items[i].arg};
	for (int tries = 0;; tries++) {
		seen = sdk_store_enter(store);
		rv = group_once(store, ss, n, &committed);
		sdk_store_leave(store);
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
	sdk_barrier_item item = {.call = call, .run = run, .arg = arg};

	sdk_barrier_serve_group(store, &item, 1);
	*ret_out = item.out;
	return item.status;
}

/* ---- dtx_txn_barrier_scan ---------------------------------------------- */

typedef struct scan_ctx {
	dtx_barrier_fn fn;
	void *arg; /* borrowed: fn's argument */
} scan_ctx;

/* key_decode splits a barrier key into gid (copied into gid, DTX_GID_MAX +
 * 1 bytes), branch and op. */
static int key_decode(const uint8_t *k, size_t klen, char *gid,
                      dtx_barrier_entry *ret_e)
{
	const uint8_t *nul = memchr(k, '\0', klen);
	size_t n = nul != NULL ? (size_t)(nul - k) : klen;

	if (nul == NULL || n > DTX_GID_MAX || klen != n + 6)
		return DTX_ECORRUPT;
	memcpy(gid, k, n);
	gid[n] = '\0';
	ret_e->gid = gid;
	ret_e->branch = (uint32_t)k[n + 1] << 24 | (uint32_t)k[n + 2] << 16 |
	                (uint32_t)k[n + 3] << 8 | k[n + 4];
	ret_e->op = (dtx_op)k[n + 5];
	return DTX_OK;
}

static int scan_one(void *arg, const void *key, size_t klen, const void *val,
                    size_t vlen)
{
	const scan_ctx *sc = arg;
	char gid[DTX_GID_MAX + 1];
	dtx_barrier_entry e;
	record rec;
	int rv = key_decode(key, klen, gid, &e);

	if (rv == DTX_OK)
		rv = record_decode(val, vlen, &rec);
	if (rv != DTX_OK)
		return rv;
	e.status = rec.status;
	e.null_compensation = rec.null_comp;
	return sc->fn(sc->arg, &e);
}

int dtx_txn_barrier_scan(dtx_txn *txn, dtx_barrier_fn fn, void *arg)
{
	scan_ctx sc = {fn, arg};

	if (txn == NULL || txn->mdb == NULL || fn == NULL)
		return DTX_EINVAL;
	return sdk_txn_scan_at(txn, SDK_TABLE_BARRIER, NULL, 0, scan_one, &sc);
}
