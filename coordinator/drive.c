/*
 * drive.c - driving the state machines: an event applied to a live
 * transaction (machine.c, pure), its changes recorded, and its actions
 * turned into effects: branch calls, backoff timers, answers to waiters.
 *
 * Owns the branch calls' life on the engine side (send, complete, retry
 * with capped exponential backoff and full jitter, give up an action past
 * --action-max-attempts, flag needs-operator past the stuck thresholds)
 * and the timers (retry, wait and deadline queues on one uv timer).
 *
 * Must never: act on a transition before it is durable (effects go
 * through commit.c); count an answer of a call that is not the step's
 * current one (tokens).
 */
#include "engine_int.h"

#include "trace.h"

static void on_deadline(dc_engine *e, live *lv);

/* ---- driving the state machine -------------------------------------- */

/* has_step: ev is about one step (ev->step), whose answer or timer `what`
 * describes. */
static bool has_step(const dc_event *ev)
{
	return ev->kind == DC_EV_REPLY || ev->kind == DC_EV_RETRY_DUE ||
	       ev->kind == DC_EV_REGISTER || ev->kind == DC_EV_SKIP;
}

/* follow_line describes step i's change that ev (about another step)
 * brought along: the next saga step called after step 0's "action ok",
 * or every Cancel after a Try's refusal. Such a line must not read as
 * step i's own answer (it once read "branch 1 acting action ok"). */
static void follow_line(const dc_tx *tx, uint32_t i, const dc_event *ev,
                        const char *what, char *buf, size_t len)
{
	static const struct {
		dc_step_state state;
		const char *op;
	} calls[] = {{DC_STEP_ACTING, "action"},
	             {DC_STEP_COMPENSATING, "compensate"},
	             {DC_STEP_TRYING, "try"},
	             {DC_STEP_CONFIRMING, "confirm"},
	             {DC_STEP_CANCELLING, "cancel"}};
	const char *op = NULL;

	for (size_t k = 0; k < sizeof(calls) / sizeof(calls[0]); k++)
		if (tx->steps[i].state == calls[k].state)
			op = calls[k].op;
	snprintf(buf, len, "%s%safter branch %u: %s", op ? op : "",
	         op ? " called, " : "", (unsigned)ev->step, what);
}

static void record_changes(dc_engine *e, live *lv, const dc_event *ev,
                           const dc_out *out, const char *what)
{
	char line[400];

	for (uint32_t i = 0; i < lv->tx->nsteps; i++) {
		uint64_t bit = 1ull << (i < 63 ? i : 63);
		if (!(out->dirty_steps & bit))
			continue;
		if (!has_step(ev) || ev->step == i) {
			eng_add_event(e, lv, (int32_t)i, what);
			continue;
		}
		follow_line(lv->tx, i, ev, what, line, sizeof(line));
		eng_add_event(e, lv, (int32_t)i, line);
	}
	if (dc_tx_is_final(lv->tx))
		eng_add_event(e, lv, -1, dtx_tx_state_name((int)lv->tx->state));
}

static fx_kind fx_of_act(dc_act_kind kind)
{
	switch (kind) {
	case DC_ACT_CALL:
		return FX_CALL;
	case DC_ACT_RETRY_LATER:
		return FX_RETRY_LATER;
	case DC_ACT_CALL_ALL:
		return FX_CALL_ALL;
	default:
		return FX_FINISHED;
	}
}

/* eng_apply runs the transaction's state machine on ev and turns its output
 * into log writes and deferred effects. Returns false if ev was ignored. */
bool eng_apply(dc_engine *e, live *lv, const dc_event *ev, const char *what)
{
	dc_out out;

	if (lv->handed) /* another instance drives it now */
		return false;
	dc_machine_apply(lv->tx, &e->policy, ev, &out);
	if (out.ignored)
		return false;
	if (out.changed) {
		eng_mark_dirty(e, lv, out.dirty_steps);
		record_changes(e, lv, ev, &out, what);
	}
	for (uint32_t i = 0; i < out.nacts; i++) {
		const dc_act *a = &out.acts[i];
		fx x = {.kind = fx_of_act(a->kind),
		        .lv = lv,
		        .step = a->step,
		        .op = a->op};
		eng_defer_fx(e, &x);
	}
	return true;
}

static void schedule_retry(dc_engine *e, lstep *ls, dtx_op op,
                           uint32_t delay_ms)
{
	ls->retry_op = op;
	if (dc_timerq_add(&e->retry_q, &ls->retry_timer,
	                  eng_now_mono_ms(e) + delay_ms) != DTX_OK)
		eng_die_oom("retry timer");
	eng_arm_timer(e);
}

static void give_up_call(dc_engine *e, live *lv, uint32_t step, dtx_op op,
                         const char *why);

/* call_deadline is a call's BranchCall.deadline_unix_ms: the time after
 * which the branch's action/try must not take effect. A transaction with
 * a deadline rolls back when it passes, so that is the time for every call
 * of it. One without (a saga submitted without deadline_ms) has no time by
 * which it compensates; what bounds an action is the call itself: past
 * its timeout the engine no longer takes this attempt's answer (it resends
 * or gives up and compensates), so an attempt applied later than that is
 * one nobody waits for. A compensate is sent after every attempt of its
 * action, so its own send + timeout is at least theirs: the participant
 * keeps the null compensation at least as long as any action attempt may
 * apply. */
static int64_t call_deadline(const dc_engine *e, const dc_tx *tx,
                             uint32_t timeout_ms)
{
	if (tx->deadline_unix_ms > 0)
		return tx->deadline_unix_ms;
	return eng_now_unix_ms(e) + dc_rpc_timeout_clamp(timeout_ms);
}

dc_diag_about eng_about(const dc_tx *tx, int64_t step, dtx_op op)
{
	return (dc_diag_about){.gid = tx->gid,
	                       .branch = step,
	                       .op = (int)op,
	                       .traceparent = tx->traceparent};
}

/* call_traceparent writes into buf (TRACE_PARENT_LEN + 1 bytes) the
 * traceparent of the call of (step, op) of tx - the transaction's trace,
 * the call's own span (trace.h) - and returns it, or NULL if tx has none.
 * The span depends only on stored fields: each attempt, before and after
 * a restart, carries the same one, and the log lines name it. */
static char *call_traceparent(const dc_tx *tx, uint32_t step, dtx_op op,
                              char *buf)
{
	trace_ctx parent, span;

	if (tx->traceparent == NULL ||
	    trace_parse(tx->traceparent, &parent, NULL, 0) != DTX_OK)
		return NULL;
	trace_child(&parent, tx->gid, step, (int)op, &span);
	trace_format(&span, buf);
	return buf;
}

static void send_call(dc_engine *e, live *lv, uint32_t step, dtx_op op)
{
	const dc_step *st = &lv->tx->steps[step];
	lstep *ls = &lv->rt[step];
	Dtx__V1__BranchCall msg = DTX__V1__BRANCH_CALL__INIT;
	uint32_t timeout =
	        st->timeout_ms ? st->timeout_ms : e->cfg.call_timeout_ms;
	char tp[TRACE_PARENT_LEN + 1];
	dc_diag_about about = eng_about(lv->tx, step, op);
	int rv;

	msg.has_version = msg.has_branch = msg.has_op = msg.has_attempt = 1;
	msg.version = DTX__V1__VERSION__VERSION_1;
	msg.gid = lv->tx->gid;
	msg.branch = step;
	msg.op = (Dtx__V1__Op)op;
	msg.handler = (char *)dc_step_handler(st, op);
	msg.has_payload = 1;
	msg.payload.data = st->payload;
	msg.payload.len = st->payload_len;
	msg.attempt = st->attempts ? st->attempts : 1;
	msg.epoch = eng_leases_epoch_of(e, lv->tx->gid);
	msg.has_epoch = msg.epoch != 0;
	msg.has_deadline_unix_ms = 1;
	msg.deadline_unix_ms = call_deadline(e, lv->tx, timeout);
	msg.traceparent = call_traceparent(lv->tx, step, op, tp);
	dc_diag_tx(DTX_LOG_DEBUG, &about, "%s step %u: %s %s at %s, attempt %u",
	           lv->tx->gid, step, dtx_op_name(op), msg.handler, st->url,
	           msg.attempt);
	/* A newer call of this step replaces any backoff still queued. */
	dc_timerq_remove(&e->retry_q, &ls->retry_timer);
	ls->token = ++e->next_token;
	ls->call_op = op;
	ls->sent_ns = dc_metrics_now_ns();
	rv = dc_transport_call(e->net, st->url, &msg, timeout, lv, ls->token);
	if (rv == DTX_OK) {
		lv->calls_out++;
		return;
	}
	ls->token = 0;
	if (rv == DTX_EBUSY || rv == DTX_ENOMEM) {
		/* No call slot now (one frees when a call ends): not the
		 * participant's fault, so no attempt is counted. */
		schedule_retry(e, ls, op, CALL_SLOT_WAIT_MS);
		return;
	}
	/* DTX_ELIMIT (the peer table is full of busy peers) and a URL nng
	 * refuses count as a failed attempt, backed off like any other. */
	give_up_call(e, lv, step, op,
	             rv == DTX_ELIMIT ? "peer table full (--max-peers"
	                                " / --max-dialing all busy)"
	                              : dtx_strerror(rv));
}

/* give_up_call treats a call that could not even be sent (e.g. a URL nng
 * refuses) as an unreachable participant: it counts as a failed attempt. */
static void give_up_call(dc_engine *e, live *lv, uint32_t step, dtx_op op,
                         const char *why)
{
	dc_event ev = {.kind = DC_EV_REPLY,
	               .step = step,
	               .op = op,
	               .outcome = DC_OUT_UNREACHABLE};
	char what[200];

	dc_tx_set_str(&lv->tx->steps[step].last_error, why);
	snprintf(what, sizeof(what), "%s not sent: %s", dtx_op_name(op), why);
	eng_apply(e, lv, &ev, what);
}

/* check_stuck flags lv for an operator once a call has been retried past
 * the configured count or the transaction is older than the configured
 * age. Retries go on at the capped backoff: if the participant comes back,
 * the transaction heals by itself and the flag is cleared. */
static void check_stuck(dc_engine *e, live *lv, uint32_t step, dtx_op op)
{
	dc_tx *tx = lv->tx;
	const dc_step *st = &tx->steps[step];
	int64_t age = eng_age_ms(e, lv);
	char why[600];

	if (tx->needs_operator)
		return;
	if (st->attempts <= e->cfg.stuck_after_attempts &&
	    age <= (int64_t)e->cfg.stuck_after_ms)
		return;
	snprintf(why, sizeof(why), "step %u %s %s: %u attempts, %lld s old: %s",
	         step, dtx_op_name(op), dc_step_handler(st, op),
	         st->attempts - 1, (long long)(age / 1000),
	         st->last_error ? st->last_error : "no answer");
	tx->needs_operator = true;
	dc_tx_set_str(&tx->operator_reason, why);
	eng_mark_dirty(e, lv, 0);
	eng_add_event(e, lv, -1, why);
	const dc_diag_about about = eng_about(tx, step, op);
	dc_diag_tx(DTX_LOG_WARN, &about, "%s needs an operator: %s", tx->gid,
	           why);
}

/* heal clears the operator flag once a call of lv succeeds again. */
static void heal(dc_engine *e, live *lv)
{
	if (!lv->tx->needs_operator)
		return;
	lv->tx->needs_operator = false;
	dc_tx_set_str(&lv->tx->operator_reason, NULL);
	eng_mark_dirty(e, lv, 0);
	eng_add_event(e, lv, -1, "healed: a call succeeded again");
	const dc_diag_about about = eng_about(lv->tx, -1, 0);
	dc_diag_tx(DTX_LOG_INFO, &about, "%s healed", lv->tx->gid);
}

/* call_now sends (step, op) if it is still in flight: between the
 * transition that asked for the call and its commit, a later one (a
 * deadline, an abort) may have moved on. */
static void call_now(dc_engine *e, live *lv, uint32_t step, dtx_op op)
{
	if (!dc_machine_op_inflight(lv->tx, step, op))
		return;
	if (lv->tx->paused || lv->handed)
		return; /* an operator paused it: resume re-issues the call;
		           or its shard was given away */
	/* This very call is out already: two transitions asked for it
	 * before either's commit returned (recovery's call, then an
	 * operator's resume while that commit was still out: repair_test_pg
	 * saw q2.do sent twice, attempt 2 both, 2 ms apart). Its answer or
	 * its timeout drives the step on; a second copy would only make the
	 * participant's barrier work. */
	if (step < lv->rtcap && lv->rt[step].token != 0 &&
	    lv->rt[step].call_op == op)
		return;
	/* If we crash here, the transition is durable and the call was
	 * never sent: recovery sends it (attempt + 1). */
	DTX_FAULT("dtxd.after_commit_before_call");
	if (op == DTX_OP_COMPENSATE || op == DTX_OP_CANCEL)
		DTX_FAULT("dtxd.mid_compensation");
	send_call(e, lv, step, op);
}

void eng_run_fx(dc_engine *e, const fx *x)
{
	live *lv = x->lv;

	switch (x->kind) {
	case FX_CALL:
		call_now(e, lv, x->step, x->op);
		break;
	case FX_CALL_ALL:
		for (uint32_t i = 0; i < lv->tx->nsteps; i++)
			call_now(e, lv, i, x->op);
		break;
	case FX_RETRY_LATER: {
		uint32_t failed = lv->tx->steps[x->step].attempts - 1;
		if (lv->handed ||
		    !dc_machine_op_inflight(lv->tx, x->step, x->op))
			break;
		check_stuck(e, lv, x->step, x->op);
		dc_metrics_retry(e->metrics, (int)x->op);
		schedule_retry(e, &lv->rt[x->step], x->op,
		               dc_backoff_delay_ms(&e->backoff, failed,
		                                   eng_next_random(e)));
		break;
	}
	case FX_FINISHED:
		eng_answer_waiters(e, lv);
		break;
	case FX_ADMIN_REPLY:
		dc_request_reply_raw(x->req, x->buf, x->len);
		free(x->buf);
		break;
	case FX_REPLY:
		if (lv->pending_gen != 0) {
			/* It changed again meanwhile: wait for that too, so a
			 * client never sees a state that is not durable. */
			fx again = *x;
			eng_flight_push_fx(
			        eng_flight_of_gen(e, lv->pending_gen), &again);
			break;
		}
		eng_send_tx_reply(e, x->req, lv->tx,
		                  eng_waiter_of(e, x->req)->created);
		break;
	}
	lv->pins--;
	eng_live_maybe_free(e, lv);
}

/* ---- branch call completions ---------------------------------------- */

static dc_outcome outcome_of(const dc_call *call)
{
	if (call->result == DTX_ETIMEDOUT)
		return DC_OUT_TIMEOUT;
	if (call->result == DTX_EPROTO)
		return DC_OUT_RETRY; /* a bad answer is retried, never trusted
		                      */
	if (call->result != DTX_OK)
		return DC_OUT_UNREACHABLE;
	switch (call->reply->status) {
	case DTX__V1__BRANCH_STATUS__BRANCH_OK:
		return DC_OUT_OK;
	case DTX__V1__BRANCH_STATUS__BRANCH_FAIL:
		return DC_OUT_FAIL;
	default:
		return DC_OUT_RETRY;
	}
}

static void describe(const dc_call *call, dc_outcome out, dtx_op op, char *buf,
                     size_t len)
{
	static const char *const words[] = {"",      "ok",      "fail",
	                                    "retry", "timeout", "unreachable"};
	const char *msg =
	        call->result == DTX_OK ? call->reply->message : call->error;

	snprintf(buf, len, "%s %s%s%s", dtx_op_name(op), words[out],
	         msg && *msg ? ": " : "", msg ? msg : "");
}

static void set_reason(live *lv, uint32_t step, const char *what)
{
	char reason[600];

	snprintf(reason, sizeof(reason), "step %u (%s): %s", step,
	         lv->tx->steps[step].action, what);
	dc_tx_set_str(&lv->tx->reason, reason);
}

/* clear_error_of forgets st's last error if it was one of op, which has
 * now succeeded: show prints a step's current error only (a compensated
 * step must not keep its "compensate timeout"; the old errors stay in the
 * timeline). Every error line starts with its op's name (describe,
 * give_up_call, check_result); an action's or a Try's error that made the
 * step fail stays when its compensation succeeds: it says why. */
static void clear_error_of(dc_step *st, dtx_op op)
{
	const char *name = dtx_op_name(op);
	size_t n = strlen(name);

	if (st->last_error != NULL && strncmp(st->last_error, name, n) == 0 &&
	    st->last_error[n] == ' ')
		dc_tx_set_str(&st->last_error, NULL);
}

/* record_answer keeps what the answer of op leaves in the step: an OK's
 * result (unless dropped is set: then why it was dropped), another
 * answer's description. */
static void record_answer(dc_step *st, dtx_op op, const dc_call *call,
                          dc_outcome out, const char *what, const char *dropped)
{
	if (out == DC_OUT_OK) {
		const ProtobufCBinaryData *r = &call->reply->result;
		free(st->result);
		st->result = NULL;
		st->result_len = 0;
		if (dropped != NULL) {
			dc_tx_set_str(&st->last_error, dropped);
			return;
		}
		clear_error_of(st, op);
		if (call->reply->has_result && r->len > 0 &&
		    (st->result = malloc(r->len)) != NULL) {
			memcpy(st->result, r->data, r->len);
			st->result_len = r->len;
		}
		return;
	}
	dc_tx_set_str(&st->last_error, what);
}

/* result_too_big is true (why written) if the result of call, an OK
 * answer for step i of tx, is past --max-result or would bring the
 * transaction's results past their budget: a reply holding them could
 * not reach the client. */
static bool result_too_big(const dc_engine *e, const dc_tx *tx, uint32_t i,
                           const dc_call *call, char *why, size_t len)
{
	size_t n = call->reply->has_result ? call->reply->result.len : 0;
	size_t others = 0;

	if (n > e->cfg.max_result) {
		snprintf(why, len,
		         "result of %zu bytes exceeds --max-result %zu", n,
		         e->cfg.max_result);
		return true;
	}
	for (uint32_t k = 0; k < tx->nsteps; k++)
		if (k != i)
			others += tx->steps[k].result_len;
	if (n == 0 || others + n <= e->cfg.max_tx_results)
		return false;
	snprintf(why, len,
	         "result of %zu bytes would bring the transaction's results "
	         "to %zu bytes, past their budget of %zu (--max-msg-bytes "
	         "less names and errors)",
	         n, others + n, e->cfg.max_tx_results);
	return true;
}

/* check_result refuses an OK answer whose result is too big. An action or
 * a Try then counts as a failed attempt (out becomes RETRY, what says
 * why): retried, then given up and compensated like any bad answer. A
 * compensate, confirm or cancel took effect and must not be undone: it
 * stays OK and its result is dropped (*ret_dropped says why). */
static void check_result(const dc_engine *e, const live *lv, uint32_t i,
                         dtx_op op, const dc_call *call, dc_outcome *out,
                         char *what, size_t len, const char **ret_dropped)
{
	char why[200];

	*ret_dropped = NULL;
	if (*out != DC_OUT_OK ||
	    !result_too_big(e, lv->tx, i, call, why, sizeof(why)))
		return;
	if (op == DTX_OP_ACTION || op == DTX_OP_TRY) {
		*out = DC_OUT_RETRY;
		snprintf(what, len, "%s refused: %s", dtx_op_name(op), why);
	} else {
		snprintf(what, len, "%s ok; its %s: dropped", dtx_op_name(op),
		         why);
		*ret_dropped = what;
	}
	const dc_diag_about about = eng_about(lv->tx, i, op);
	dc_diag_tx(DTX_LOG_WARN, &about, "%s step %u: %s", lv->tx->gid, i,
	           what);
}

/* is_unknown_handler: the participant answered that it serves no handler
 * of the call's name (BranchReply.cause; dtx.proto says why a cause and
 * not a status). */
static bool is_unknown_handler(const dc_call *call)
{
	return call->result == DTX_OK && call->reply->has_cause &&
	       call->reply->cause ==
	               DTX__V1__BRANCH_CAUSE__BRANCH_UNKNOWN_HANDLER;
}

/* describe_unknown words an unknown handler's answer plainly: the
 * handler, where, and that the participant does not serve it. */
static void describe_unknown(const live *lv, uint32_t step, dtx_op op,
                             char *buf, size_t len)
{
	const dc_step *st = &lv->tx->steps[step];

	snprintf(buf, len, "%s fail: unknown handler %s at %s", dtx_op_name(op),
	         dc_step_handler(st, op), st->url);
}

/* park_unknown_handler flags lv for an operator at once, and pauses its
 * calls, when the participant does not know the handler of a compensate,
 * confirm or cancel still in flight: those must take effect, and no number
 * of retries makes a missing handler appear. The operator corrects the
 * name or the URL (dtxctl set-branch) or deploys the handler, then
 * resumes; the pause and the flag are durable with the answer. */
static void park_unknown_handler(dc_engine *e, live *lv, uint32_t step,
                                 dtx_op op)
{
	dc_tx *tx = lv->tx;
	const dc_step *st = &tx->steps[step];
	char why[DTX_URL_MAX + DTX_HANDLER_MAX + 200];

	if (op == DTX_OP_ACTION || op == DTX_OP_TRY ||
	    !dc_machine_op_inflight(tx, step, op))
		return;
	snprintf(why, sizeof(why),
	         "step %u %s: unknown handler %s at %s; calls paused: "
	         "correct it (dtxctl set-branch) or deploy the handler, "
	         "then dtxctl resume",
	         step, dtx_op_name(op), dc_step_handler(st, op), st->url);
	tx->needs_operator = true;
	tx->paused = true;
	dc_tx_set_str(&tx->operator_reason, why);
	eng_mark_dirty(e, lv, 0);
	eng_add_event(e, lv, (int32_t)step, why);
	const dc_diag_about about = eng_about(tx, step, op);
	dc_diag_tx(DTX_LOG_WARN, &about, "%s needs an operator: %s", tx->gid,
	           why);
}

/* call_owner finds the step whose counted call this is, or NULL for an
 * abandoned call (a newer call of the step replaced it). */
static lstep *call_owner(live *lv, const dc_call *call)
{
	for (uint32_t i = 0; i < lv->tx->nsteps && i < lv->rtcap; i++) {
		if (lv->rt[i].token == call->token)
			return &lv->rt[i];
	}
	return NULL;
}

void eng_on_call_done(dc_engine *e, dc_call *call)
{
	live *lv = call->owner;
	lstep *ls = call_owner(lv, call);
	dc_outcome out;
	dc_event ev;
	dc_tx_state before;
	const char *dropped;
	char what[DTX_URL_MAX + DTX_HANDLER_MAX + 64];
	dc_diag_about about;
	bool unknown;

	lv->calls_out--;
	if (ls == NULL || lv->handed ||
	    !dc_machine_op_inflight(lv->tx, ls->index, ls->call_op)) {
		/* An abandoned or stale call (the deadline or an abort moved
		 * the transaction on while it was out, or its shard was given
		 * away): it no longer counts. */
		if (ls != NULL)
			ls->token = 0;
		dc_transport_release(e->net, call);
		eng_live_maybe_free(e, lv);
		return;
	}
	ls->token = 0;
	/* If we crash here, the participant applied the call but we never
	 * logged its answer: recovery calls again and the participant's
	 * barrier answers from its record. */
	DTX_FAULT("dtxd.after_reply_before_log");
	out = outcome_of(call);
	dc_metrics_call(e->metrics, lv->tx->steps[ls->index].url,
	                dc_step_handler(&lv->tx->steps[ls->index], ls->call_op),
	                (int)ls->call_op, (int)out,
	                dc_metrics_now_ns() - ls->sent_ns);
	unknown = out == DC_OUT_FAIL && is_unknown_handler(call);
	if (unknown)
		describe_unknown(lv, ls->index, ls->call_op, what,
		                 sizeof(what));
	else
		describe(call, out, ls->call_op, what, sizeof(what));
	check_result(e, lv, ls->index, ls->call_op, call, &out, what,
	             sizeof(what), &dropped);
	ev = (dc_event){.kind = DC_EV_REPLY,
	                .step = ls->index,
	                .op = ls->call_op,
	                .outcome = out};
	before = lv->tx->state;
	if (out == DC_OUT_OK)
		heal(e, lv);
	record_answer(&lv->tx->steps[ls->index], ls->call_op, call, out, what,
	              dropped);
	dc_transport_release(e->net, call);
	eng_apply(e, lv, &ev, what);
	if (before == DC_TX_RUNNING && lv->tx->state != DC_TX_RUNNING &&
	    lv->tx->failed_step >= 0)
		set_reason(lv, (uint32_t)lv->tx->failed_step, what);
	if (unknown)
		park_unknown_handler(e, lv, ls->index, ls->call_op);
	about = eng_about(lv->tx, ls->index, ls->call_op);
	dc_diag_tx(DTX_LOG_DEBUG, &about, "%s step %u %s", lv->tx->gid,
	           ls->index, what);
	eng_live_maybe_free(e, lv);
}

/* ---- timers ---------------------------------------------------------- */

/* eng_run_due runs every timer due by the engine's monotonic clock -
 * backoffs, deadlines, client waits, in that order - then arms the loop's
 * timer for the next one. The loop's timer is only a wake-up: what is due
 * is decided here, from the clock, so that a test's manual clock (moved,
 * then dc_engine_tick) and the real one run the same code. */
void eng_run_due(dc_engine *e)
{
	uint64_t now = eng_now_mono_ms(e);
	dc_timer *t;

	while ((t = dc_timerq_pop_due(&e->retry_q, now)) != NULL) {
		lstep *ls = container_of(t, lstep, retry_timer);
		live *lv = ls->lv;
		dc_event ev = {.kind = DC_EV_RETRY_DUE,
		               .step = ls->index,
		               .op = ls->retry_op};
		eng_apply(e, lv, &ev, "retry due");
		eng_live_maybe_free(e, lv);
	}
	while ((t = dc_timerq_pop_due(&e->deadline_q, now)) != NULL)
		on_deadline(e, container_of(t, live, deadline_timer));
	while ((t = dc_timerq_pop_due(&e->wait_q, now)) != NULL) {
		waiter *w = container_of(t, waiter, timer);
		live *lv = w->owner;
		eng_waiter_remove(w);
		eng_reply_when_durable(e, w->req, lv);
	}
	eng_arm_timer(e);
}

static void on_timer(uv_timer_t *h)
{
	eng_run_due(h->data);
}

/* eng_arm_timer arms the loop's timer at the earliest queued due time, as
 * a delay from the engine's clock now (0 when one is due already). With
 * a manual clock the delay is counted by libuv in real milliseconds: an
 * early or late wake-up runs only what the clock says is due. */
void eng_arm_timer(dc_engine *e)
{
	const dc_timer *t[3] = {dc_timerq_peek(&e->retry_q),
	                        dc_timerq_peek(&e->wait_q),
	                        dc_timerq_peek(&e->deadline_q)};
	uint64_t due = UINT64_MAX, now = eng_now_mono_ms(e);

	for (int i = 0; i < 3; i++)
		if (t[i] != NULL && t[i]->due_ms < due)
			due = t[i]->due_ms;
	if (due == UINT64_MAX) {
		uv_timer_stop(&e->timer);
		return;
	}
	uv_timer_start(&e->timer, on_timer, due > now ? due - now : 0, 0);
}

/* eng_arm_deadline queues lv's deadline on the monotonic clock. The wall
 * clock is read once, here (at submit or recovery): a later jump of the
 * wall clock neither fires nor delays it. */
void eng_arm_deadline(dc_engine *e, live *lv)
{
	int64_t left = lv->tx->deadline_unix_ms - eng_now_unix_ms(e);

	if (lv->tx->deadline_unix_ms == 0 || dc_tx_is_final(lv->tx))
		return;
	if (dc_timerq_add(&e->deadline_q, &lv->deadline_timer,
	                  eng_now_mono_ms(e) + (uint64_t)(left > 0 ? left : 0)))
		eng_die_oom("deadline timer");
	eng_arm_timer(e);
}

/* on_deadline rolls back a transaction still running at its deadline: a
 * saga compensates from the step in flight, a TCC transaction cancels
 * every branch (an unpaid reservation expires). */
static void on_deadline(dc_engine *e, live *lv)
{
	dc_event ev = {.kind = DC_EV_DEADLINE};
	bool tcc = lv->tx->mode == DC_MODE_TCC;

	if (lv->tx->state != DC_TX_RUNNING)
		return;
	if (!eng_apply(e, lv, &ev,
	               tcc ? "deadline passed: cancelling"
	                   : "deadline passed: compensating"))
		return;
	if (tcc)
		dc_tx_set_str(&lv->tx->reason,
		              "the deadline passed before the transaction was "
		              "committed");
	else if (lv->tx->failed_step >= 0)
		set_reason(lv, (uint32_t)lv->tx->failed_step,
		           "the saga's deadline passed");
	eng_live_maybe_free(e, lv);
}
