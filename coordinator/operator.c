/*
 * operator.c - the admin API (dtxctl): list, show, stats, watch, and the
 * operator actions.
 *
 * Reads answer from memory and the log. An operator action is a state
 * machine event (or a runtime switch: retry now, pause, resume) made like
 * every other transition: the action and its reason go into the timeline
 * in the same commit as the change, and the calls and the reply leave
 * only once that commit is durable. A dry run runs the machine on a
 * shadow copy and changes nothing.
 *
 * Repairs that cannot make things worse: an action is checked against
 * what the log says happened before it runs (unrecorded): a TCC commit
 * needs every Try recorded OK, and skip-branch --as done, which records an
 * answer no participant gave, needs the call it builds on recorded OK.
 * Otherwise it is refused, naming the branch and its recorded answer,
 * unless the operator says --force: then the warning goes into the reply
 * and the timeline, and the branches taken as OK are marked forced.
 *
 * Must never: change a transaction without recording who and why; record
 * an effect the log does not show without --force.
 */
#include "engine_int.h"

/* ---- the admin API (dtxctl) ------------------------------------------- *
 *
 * Reads: watch answers at once from memory; list, show and stats are
 * reader jobs (a show of a live transaction takes a copy of it along).
 * An operator action is a state machine event (or a runtime switch: retry
 * now, pause, resume) made like every other transition: the action and its
 * reason go into the timeline in the same commit as the change, and the
 * calls and the reply leave only once that commit is durable. A dry run
 * runs the machine on a shadow copy and changes nothing.
 */

/* eng_admin_send packs o and answers req now. */
void eng_admin_send(dc_request *req, dc_admin_out *o)
{
	uint8_t *buf;
	size_t len;

	if (dc_admin_out_pack(o, &buf, &len) != DTX_OK)
		eng_die_oom("admin reply");
	dc_request_reply_raw(req, buf, len);
	free(buf);
}

/* admin_send_durable answers req with o once lv's newest change is
 * durable. */
static void admin_send_durable(dc_engine *e, dc_request *req, live *lv,
                               dc_admin_out *o)
{
	fx x = {.kind = FX_ADMIN_REPLY, .lv = lv, .req = req};

	if (dc_admin_out_pack(o, &x.buf, &x.len) != DTX_OK)
		eng_die_oom("admin reply");
	eng_defer_fx(e, &x);
}

/* next_retries writes the wall-clock due time of each step's queued
 * backoff (0 = none) into out (lv->tx->nsteps entries). */
static void next_retries(dc_engine *e, live *lv, int64_t *out)
{
	uint64_t now = eng_now_mono_ms(e);
	int64_t wall = eng_now_unix_ms(e);

	for (uint32_t i = 0; i < lv->tx->nsteps; i++) {
		const dc_timer *t = &lv->rt[i].retry_timer;
		out[i] = 0;
		if (i < lv->rtcap && dc_timer_is_queued(t))
			out[i] = wall + (int64_t)(t->due_ms > now
			                                  ? t->due_ms - now
			                                  : 0);
	}
}

/* admin_read hands the admin read req (list, show, stats) to the reader
 * with tx and next (a show's live transaction: transferred); the reply
 * leaves when the job is done (on_admin_done). */
static void admin_read(dc_engine *e, dc_request *req, dc_admin_out *o,
                       dc_tx *tx, int64_t *next)
{
	size_t len;
	const void *body = dc_request_body(req, &len);
	dc_admin_job *j;

	if (dc_admin_job_create(body, len, tx, next, &j) != DTX_OK)
		eng_die_oom("admin read");
	j->head.owner = req;
	j->now_unix_ms = o->rep.now_unix_ms;
	j->max_bytes = e->cfg.max_msg_bytes;
	j->log_full = dc_retain_is_full(&e->retain);
	if (dc_reader_submit(e->reader, &j->head.base) == DTX_OK)
		return;
	dc_read_job_destroy(&j->head);
	dc_admin_error(o, DTX_EBUSY,
	               "busy: the coordinator's log reader has a full queue "
	               "(--read-queue); try again");
	eng_admin_send(req, o);
}

/* admin_show shows a live transaction from memory (a copy, with its
 * payloads and results - bounded by --max-msg-bytes, as the submit that
 * brought them - and its backoffs); any other is loaded by the reader. */
static void admin_show(dc_engine *e, dc_request *req, dc_admin_out *o,
                       const Dtx__V1__AdminShow *s)
{
	live *lv = eng_live_find(e, s->gid);
	int64_t *next = NULL;
	dc_tx *copy = NULL;

	if (lv != NULL) {
		next = calloc(lv->tx->nsteps + 1, sizeof(*next));
		if (next == NULL || dc_tx_copy(lv->tx, true, &copy) != DTX_OK)
			eng_die_oom("show");
		next_retries(e, lv, next);
	}
	admin_read(e, req, o, copy, next);
}

static void admin_watch(dc_engine *e, dc_admin_out *o,
                        const Dtx__V1__AdminWatch *w)
{
	uint64_t head = e->ring_seq;
	uint64_t oldest = head > WATCH_RING ? head - WATCH_RING + 1 : 1;
	/* a cursor past the head is one of an earlier dtxd run */
	uint64_t from = !w->has_after_seq     ? head + 1
	                : w->after_seq > head ? oldest
	                                      : w->after_seq + 1;
	uint32_t max = w->has_max_events && w->max_events > 0 ? w->max_events
	                                                      : WATCH_BATCH;
	char msg[120];

	if (max > WATCH_BATCH_MAX)
		max = WATCH_BATCH_MAX;
	if (from < oldest) {
		snprintf(msg, sizeof(msg),
		         "%llu transitions were missed "
		         "(the watch ring holds %d)",
		         (unsigned long long)(oldest - from), WATCH_RING);
		dc_admin_set_message(o, msg);
		from = oldest;
	}
	for (uint64_t q = from;
	     q <= head && o->rep.n_events < max && !dc_admin_is_full(o); q++) {
		const watch_line *l = &e->ring[q % WATCH_RING];
		dc_admin_add_event(o, l->seq, l->gid, &l->ev);
	}
	o->rep.has_next_seq = 1;
	o->rep.next_seq = from - 1 + o->rep.n_events;
}

/* ---- operator actions ---- */

static const char *action_name(Dtx__V1__AdminAction a)
{
	static const char *const names[] = {
	        "?",     "retry",  "compensate",  "cancel",     "commit",
	        "pause", "resume", "skip-branch", "set-branch",
	};

	return (unsigned)a < sizeof(names) / sizeof(names[0]) ? names[a] : "?";
}

/* action_event turns a machine action into its event; false for the
 * runtime-only ones (retry, pause, resume). */
static bool action_event(const Dtx__V1__AdminAct *a, dc_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	switch (a->action) {
	case DTX__V1__ADMIN_ACTION__ADMIN_COMPENSATE:
	case DTX__V1__ADMIN_ACTION__ADMIN_CANCEL:
		ev->kind = DC_EV_OPERATOR_ROLLBACK;
		return true;
	case DTX__V1__ADMIN_ACTION__ADMIN_COMMIT:
		ev->kind = DC_EV_COMMIT;
		return true;
	case DTX__V1__ADMIN_ACTION__ADMIN_SKIP:
		ev->kind = DC_EV_SKIP;
		ev->step = a->branch;
		ev->done = a->has_skip_as_done && a->skip_as_done;
		return true;
	default:
		return false;
	}
}

static const char *commit_unrecorded(const dc_tx *tx, char *msg, size_t len);

/* pending_tries refuses a commit of a running coordinator-run TCC tx,
 * naming its Tries not recorded OK (into msg). */
static const char *pending_tries(const dc_tx *tx, char *msg, size_t len)
{
	static const char head[] = "a coordinator-run TCC transaction "
	                           "confirms by itself once every Try "
	                           "succeeded; a Try is still pending (";
	static const char tail[] = "): use retry, skip-branch or cancel";
	size_t n;

	if (len < sizeof(head) + sizeof(tail) + 16)
		return "a Try is still pending";
	memcpy(msg, head, sizeof(head) - 1);
	commit_unrecorded(tx, msg + sizeof(head) - 1,
	                  len - sizeof(head) - sizeof(tail));
	n = strlen(msg);
	memcpy(msg + n, tail, sizeof(tail));
	return msg;
}

/* eng_refusal explains why action a does not apply to tx (msg, NULL if it
 * may apply: the machine has the last word). */
const char *eng_refusal(const dc_tx *tx, const Dtx__V1__AdminAct *a, char *msg,
                        size_t len)
{
	bool tcc = tx->mode == DC_MODE_TCC;

	switch (a->action) {
	case DTX__V1__ADMIN_ACTION__ADMIN_COMPENSATE:
		return tcc ? "a TCC transaction is rolled back with cancel"
		           : NULL;
	case DTX__V1__ADMIN_ACTION__ADMIN_CANCEL:
		return tcc ? NULL : "a saga is rolled back with compensate";
	case DTX__V1__ADMIN_ACTION__ADMIN_COMMIT:
		if (!tcc)
			return "commit applies to TCC transactions only";
		if (!tx->initiator_driven && tx->state == DC_TX_RUNNING)
			return pending_tries(tx, msg, len);
		return NULL;
	case DTX__V1__ADMIN_ACTION__ADMIN_PAUSE:
		return tx->paused ? "already paused" : NULL;
	case DTX__V1__ADMIN_ACTION__ADMIN_RESUME:
		return tx->paused ? NULL : "not paused";
	case DTX__V1__ADMIN_ACTION__ADMIN_RETRY:
		return tx->paused ? "paused: resume it first" : NULL;
	case DTX__V1__ADMIN_ACTION__ADMIN_SKIP:
	case DTX__V1__ADMIN_ACTION__ADMIN_SET_BRANCH:
		if (a->branch < tx->nsteps)
			return NULL;
		snprintf(msg, len,
		         "branch %u is out of range (the "
		         "transaction has %u)",
		         (unsigned)a->branch, (unsigned)tx->nsteps);
		return msg;
	default:
		return "unknown action";
	}
}

/* ---- what the log shows happened ---- */

/* try_answer words the recorded answer of branch st's Try (of tx) for a
 * refusal: why it is not a recorded OK. */
static void try_answer(const dc_tx *tx, const dc_step *st, char *buf,
                       size_t len)
{
	if (st->state == DC_STEP_TRIED && st->forced)
		snprintf(buf, len, "taken as done by an operator's --force");
	else if (tx->initiator_driven && st->attempts == 0)
		snprintf(buf, len,
		         "%s, no answer recorded (the initiator calls its "
		         "Tries and never said they succeeded)",
		         dtx_step_state_name((int)st->state));
	else
		snprintf(buf, len, "%s, attempt %u, last answer: %s",
		         dtx_step_state_name((int)st->state), st->attempts,
		         st->last_error ? st->last_error : "none");
}

/* commit_unrecorded lists (into msg) the branches of a running TCC tx
 * whose Try is not recorded OK; NULL if every one is. A list longer than
 * msg ends in "...". */
static const char *commit_unrecorded(const dc_tx *tx, char *msg, size_t len)
{
	char answer[WIRE_MESSAGE_MAX];
	size_t n = 0;

	for (uint32_t i = 0; i < tx->nsteps && n < len; i++) {
		const dc_step *st = &tx->steps[i];
		if (st->state == DC_STEP_TRIED && !st->forced)
			continue;
		try_answer(tx, st, answer, sizeof(answer));
		n += (size_t)snprintf(msg + n, len - n,
		                      "%sbranch %u: Try not recorded OK (%s)",
		                      n ? "; " : "", (unsigned)i, answer);
	}
	if (n == 0 && tx->nsteps > 0)
		return NULL;
	if (n == 0)
		snprintf(msg, len, "no branch is registered");
	else if (n >= len && len > 4)
		memcpy(msg + len - 4, "...", 4);
	return msg;
}

/* skip_unrecorded explains (into msg) why taking branch i's call in
 * flight as done would record an effect the log does not show, or
 * returns NULL: an action or Try never answered OK (it is in flight), or
 * a Confirm whose Try an operator's --force took as done. Compensations
 * and Cancels may be taken as done: they record that nothing is left. */
static const char *skip_unrecorded(const dc_tx *tx, uint32_t i, dtx_op op,
                                   char *msg, size_t len)
{
	const dc_step *st = &tx->steps[i];

	if (op == DTX_OP_ACTION || op == DTX_OP_TRY) {
		snprintf(msg, len,
		         "branch %u: its %s never answered OK (attempt %u, "
		         "last answer: %s); --as done records an effect no "
		         "participant reported",
		         (unsigned)i, dtx_op_name(op), st->attempts,
		         st->last_error ? st->last_error : "none");
		return msg;
	}
	if (op == DTX_OP_CONFIRM && st->forced) {
		snprintf(msg, len,
		         "branch %u: its Try is not recorded OK (taken as done "
		         "by an operator's --force); --as done records a "
		         "Confirm no participant reported",
		         (unsigned)i);
		return msg;
	}
	return NULL;
}

static dtx_op inflight_op(const dc_tx *tx, uint32_t i);

/* unrecorded explains (into msg) what action a would record on tx that
 * the log does not show, or returns NULL. */
static const char *unrecorded(const dc_tx *tx, const Dtx__V1__AdminAct *a,
                              char *msg, size_t len)
{
	dtx_op op;

	switch (a->action) {
	case DTX__V1__ADMIN_ACTION__ADMIN_COMMIT:
		if (tx->mode != DC_MODE_TCC || tx->state != DC_TX_RUNNING)
			return NULL; /* the machine refuses it */
		return commit_unrecorded(tx, msg, len);
	case DTX__V1__ADMIN_ACTION__ADMIN_SKIP:
		op = inflight_op(tx, a->branch);
		if (!a->skip_as_done || op == 0)
			return NULL;
		return skip_unrecorded(tx, a->branch, op, msg, len);
	default:
		return NULL;
	}
}

/* mark_forced marks the branches a forced action takes as OK without a
 * participant's OK: a commit's Tries not recorded OK, a skipped action or
 * Try. */
static void mark_forced(live *lv, const Dtx__V1__AdminAct *a)
{
	dc_tx *tx = lv->tx;

	if (a->action == DTX__V1__ADMIN_ACTION__ADMIN_SKIP) {
		dtx_op op = inflight_op(tx, a->branch);
		if (op == DTX_OP_ACTION || op == DTX_OP_TRY)
			tx->steps[a->branch].forced = true;
		return;
	}
	for (uint32_t i = 0; i < tx->nsteps; i++)
		if (tx->steps[i].state != DC_STEP_TRIED)
			tx->steps[i].forced = true;
}

/* inflight_op returns the op step i has in flight, or 0. */
static dtx_op inflight_op(const dc_tx *tx, uint32_t i)
{
	static const dtx_op ops[] = {DTX_OP_ACTION, DTX_OP_COMPENSATE,
	                             DTX_OP_TRY, DTX_OP_CONFIRM, DTX_OP_CANCEL};

	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
		if (dc_machine_op_inflight(tx, i, ops[k]))
			return ops[k];
	return (dtx_op)0;
}

/* runtime_targets lists the steps a retry (queued backoffs) or a resume
 * (in flight, no call out, no backoff queued) would call now. */
static uint32_t runtime_targets(live *lv, bool resume, uint32_t *steps,
                                dtx_op *ops)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < lv->tx->nsteps; i++) {
		const lstep *ls = &lv->rt[i];
		bool queued = dc_timer_is_queued(&ls->retry_timer);
		dtx_op op = inflight_op(lv->tx, i);
		if (op == 0 || (resume ? (queued || ls->token != 0) : !queued))
			continue;
		steps[n] = i;
		ops[n++] = op;
	}
	return n;
}

static void describe_runtime(dc_admin_out *o, live *lv, bool resume, uint32_t n,
                             const uint32_t *steps, const dtx_op *ops)
{
	const dc_tx *tx = lv->tx;
	char line[DTX_URL_MAX + DTX_HANDLER_MAX + 64];

	for (uint32_t k = 0; k < n; k++) {
		const dc_step *st = &tx->steps[steps[k]];
		snprintf(line, sizeof(line),
		         "branch %u: %s %s at %s (attempt %u)%s",
		         (unsigned)steps[k], dtx_op_name(ops[k]),
		         dc_step_handler(st, ops[k]), st->url, st->attempts,
		         resume ? "" : " - backoff skipped");
		dc_admin_add_line(o, true, line);
	}
}

/* act_runtime does (or, dry, describes) retry, pause or resume. */
static const char *act_runtime(dc_engine *e, live *lv,
                               const Dtx__V1__AdminAct *a, dc_admin_out *o,
                               bool dry)
{
	bool pause = a->action == DTX__V1__ADMIN_ACTION__ADMIN_PAUSE;
	bool resume = a->action == DTX__V1__ADMIN_ACTION__ADMIN_RESUME;
	uint32_t *steps = calloc(lv->tx->nsteps + 1, sizeof(*steps));
	dtx_op *ops = calloc(lv->tx->nsteps + 1, sizeof(*ops));
	uint32_t n;

	if (steps == NULL || ops == NULL)
		eng_die_oom("admin");
	n = pause ? 0 : runtime_targets(lv, resume, steps, ops);
	if (!pause && !resume && n == 0) {
		free(steps);
		free(ops);
		return "no branch is waiting for a retry";
	}
	dc_admin_add_line(o, false,
	                  pause    ? "paused: no branch call is sent until "
	                             "resume (calls out finish)"
	                  : resume ? "resumed: calls are sent again"
	                           : "backoff skipped");
	describe_runtime(o, lv, resume, n, steps, ops);
	if (!dry) {
		if (pause || resume) {
			lv->tx->paused = pause;
			eng_mark_dirty(e, lv, 0);
		}
		for (uint32_t k = 0; k < n; k++) {
			dc_event ev = {.kind = DC_EV_RETRY_DUE,
			               .step = steps[k],
			               .op = ops[k]};
			dc_timerq_remove(&e->retry_q,
			                 &lv->rt[steps[k]].retry_timer);
			eng_apply(e, lv, &ev, "called now by an operator");
		}
	}
	free(steps);
	free(ops);
	return NULL;
}

/* ---- set-branch ---- */

/* handler_slot returns the field of st holding op's handler in a tx of
 * mode, or NULL if that mode has no such op. */
static char **handler_slot(dc_mode mode, dc_step *st, dtx_op op)
{
	bool tcc = mode == DC_MODE_TCC;

	switch (op) {
	case DTX_OP_ACTION:
		return tcc ? NULL : &st->action;
	case DTX_OP_COMPENSATE:
		return tcc ? NULL : &st->compensate;
	case DTX_OP_TRY:
		return tcc ? &st->action : NULL;
	case DTX_OP_CONFIRM:
		return tcc ? &st->confirm : NULL;
	case DTX_OP_CANCEL:
		return tcc ? &st->compensate : NULL;
	default:
		return NULL;
	}
}

/* edit_of fills ed with what a (SET_BRANCH) changes in branch st of tx:
 * returns a refusal (into msg) or NULL. */
static const char *edit_of(const dc_tx *tx, dc_step *st,
                           const Dtx__V1__AdminAct *a, dc_log_edit *ed,
                           char *msg, size_t len)
{
	char **slot;

	*ed = (dc_log_edit){0};
	if (a->url != NULL && strcmp(a->url, st->url) != 0) {
		ed->old_url = st->url;
		ed->url = a->url;
	}
	if (a->handler == NULL)
		return ed->url ? NULL : "nothing to change: it has that URL";
	ed->op = a->has_op ? (dtx_op)a->op : inflight_op(tx, a->branch);
	if (ed->op == 0) {
		snprintf(msg, len,
		         "branch %u has no call in flight: say which "
		         "handler changes with --op",
		         (unsigned)a->branch);
		return msg;
	}
	if ((slot = handler_slot(tx->mode, st, ed->op)) == NULL) {
		snprintf(msg, len, "a %s has no %s handler",
		         tx->mode == DC_MODE_TCC ? "TCC branch" : "saga step",
		         dtx_op_name(ed->op));
		return msg;
	}
	if (*slot != NULL && strcmp(*slot, a->handler) == 0) {
		ed->op = 0;
		return ed->url ? NULL
		               : "nothing to change: it has that handler";
	}
	ed->old_handler = *slot != NULL ? *slot : "";
	ed->handler = a->handler;
	return NULL;
}

/* describe_edit words ed (branch i) into line. */
static void describe_edit(uint32_t i, const dc_log_edit *ed, char *line,
                          size_t len)
{
	size_t n = (size_t)snprintf(line, len, "branch %u:", (unsigned)i);

	if (ed->url != NULL && n < len)
		n += (size_t)snprintf(line + n, len - n, " url %s -> %s",
		                      ed->old_url, ed->url);
	if (ed->handler != NULL && n < len)
		snprintf(line + n, len - n, "%s %s handler %s -> %s",
		         ed->url ? "," : "", dtx_op_name(ed->op),
		         ed->old_handler, ed->handler);
}

/* redirect calls branch i's op in flight again, now, at its new URL or
 * handler (a call out to the old one is abandoned: its answer no longer
 * counts; the barrier absorbs it if it ran). */
static void redirect(dc_engine *e, live *lv, uint32_t i, dtx_op op)
{
	dc_event ev = {.kind = DC_EV_RETRY_DUE, .step = i, .op = op};

	dc_timerq_remove(&e->retry_q, &lv->rt[i].retry_timer);
	lv->rt[i].token = 0;
	eng_apply(e, lv, &ev, "called at its new URL/handler");
}

/* act_set_branch does (or, dry, describes) a set-branch: the change and
 * the timeline line (with LogEvent.edit) in one commit; the op in flight
 * is called again at once if the change is its URL or handler. */
static const char *act_set_branch(dc_engine *e, live *lv,
                                  const Dtx__V1__AdminAct *a, dc_admin_out *o,
                                  char *msg, size_t len)
{
	dc_step *st = &lv->tx->steps[a->branch];
	dtx_op now = inflight_op(lv->tx, a->branch);
	char line[2 * (DTX_URL_MAX + DTX_HANDLER_MAX) + 64];
	char rec[sizeof(line) + WIRE_MESSAGE_MAX + DTX_HANDLER_MAX + 32];
	dc_log_edit ed;
	const char *why = edit_of(lv->tx, st, a, &ed, msg, len);
	bool call = now != 0 && (ed.url != NULL || ed.op == now);

	if (why != NULL)
		return why;
	describe_edit(a->branch, &ed, line, sizeof(line));
	dc_admin_add_line(o, false, line);
	if (call && lv->tx->paused)
		dc_admin_add_line(o, true,
		                  "(paused: the call goes out on resume)");
	if (a->dry_run)
		return NULL;
	snprintf(rec, sizeof(rec), "operator set-branch %s by %s: %s", line,
	         a->user != NULL && *a->user ? a->user : "unknown", a->reason);
	eng_mark_dirty(e, lv, 1ull << (a->branch < 63 ? a->branch : 63));
	eng_add_edit(e, lv, (int32_t)a->branch, rec, &ed);
	const dc_diag_about about = eng_about(lv->tx, a->branch, 0);
	dc_diag_tx(DTX_LOG_INFO, &about, "%s: %s", lv->tx->gid, rec);
	/* the strings ed borrows are read: now the step may change */
	if ((ed.url != NULL && dc_tx_set_str(&st->url, a->url) != DTX_OK) ||
	    (ed.handler != NULL &&
	     dc_tx_set_str(handler_slot(lv->tx->mode, st, ed.op), a->handler) !=
	             DTX_OK))
		eng_die_oom("set-branch"); /* the event is in the batch */
	if (call && !lv->tx->paused)
		redirect(e, lv, a->branch, now);
	return NULL;
}

/* act_machine runs the action's event on a shadow copy (describing what
 * follows) and, unless dry, on the transaction itself. */
static const char *act_machine(dc_engine *e, live *lv,
                               const Dtx__V1__AdminAct *a, dc_admin_out *o,
                               bool dry, const char *what)
{
	dc_event ev;
	dc_out out;
	dc_tx shadow;

	action_event(a, &ev);
	if (dc_admin_shadow(lv->tx, &shadow) != DTX_OK)
		eng_die_oom("admin");
	dc_machine_apply(&shadow, &e->policy, &ev, &out);
	if (out.ignored) {
		dc_admin_shadow_fini(&shadow);
		return NULL; /* the caller words the refusal */
	}
	dc_admin_describe(o, lv->tx, &shadow, &out);
	dc_admin_shadow_fini(&shadow);
	if (lv->tx->paused)
		dc_admin_add_line(o, true,
		                  "(paused: these calls wait for "
		                  "resume)");
	if (!dry)
		eng_apply(e, lv, &ev, what);
	return "";
}

static void set_operator_reason(live *lv, const Dtx__V1__AdminAct *a)
{
	char reason[WIRE_MESSAGE_MAX + 64];

	if (a->action != DTX__V1__ADMIN_ACTION__ADMIN_COMPENSATE &&
	    a->action != DTX__V1__ADMIN_ACTION__ADMIN_CANCEL)
		return;
	snprintf(reason, sizeof(reason), "operator %s: %s",
	         action_name(a->action), a->reason);
	dc_tx_set_str(&lv->tx->reason, reason);
}

/* record_action appends "operator ACTION by USER: REASON" to lv's
 * timeline, in the commit that holds the action's change; forced (NULL or
 * what --force overrode) goes in too. */
static void record_action(dc_engine *e, live *lv, const Dtx__V1__AdminAct *a,
                          const char *forced)
{
	char line[2 * WIRE_MESSAGE_MAX + DTX_HANDLER_MAX + 64];
	char what[48];

	if (a->action == DTX__V1__ADMIN_ACTION__ADMIN_SKIP)
		snprintf(what, sizeof(what), "skip-branch %u as %s",
		         (unsigned)a->branch,
		         a->skip_as_done ? "done" : "failed");
	else
		snprintf(what, sizeof(what), "%s", action_name(a->action));
	snprintf(line, sizeof(line), "operator %s by %s%s%s%s: %s", what,
	         e->admin_who != NULL ? e->admin_who : "unknown",
	         forced ? " (--force over: " : "", forced ? forced : "",
	         forced ? ")" : "", a->reason);
	eng_mark_dirty(e, lv, 0);
	eng_add_event(e, lv, -1, line);
	const dc_diag_about about = eng_about(lv->tx, -1, 0);
	dc_diag_tx(DTX_LOG_INFO, &about, "%s: %s", lv->tx->gid, line);
}

/* act_on runs a on the live transaction lv; returns a refusal or NULL. */
static const char *act_on(dc_engine *e, live *lv, const Dtx__V1__AdminAct *a,
                          dc_admin_out *o, char *msg, size_t len)
{
	dc_event ev;
	const char *why = eng_refusal(lv->tx, a, msg, len);
	bool dry = a->dry_run;
	char what[64], warn[WIRE_MESSAGE_MAX / 2];
	const char *forced;

	if (why != NULL)
		return why;
	if (a->action == DTX__V1__ADMIN_ACTION__ADMIN_SET_BRANCH)
		return act_set_branch(e, lv, a, o, msg, len);
	if (!action_event(a, &ev)) {
		if (!dry)
			record_action(e, lv, a, NULL);
		return act_runtime(e, lv, a, o, dry);
	}
	forced = unrecorded(lv->tx, a, warn, sizeof(warn));
	if (forced != NULL && !a->force) {
		snprintf(msg, len,
		         "%s refused: %s. Check the participants; to record "
		         "it anyway say --force and why in --reason",
		         action_name(a->action), forced);
		return msg;
	}
	/* Refuse before anything is recorded: try on a shadow first. */
	if (act_machine(e, lv, a, o, true, NULL) == NULL) {
		snprintf(msg, len,
		         "%s does not apply now: the transaction is "
		         "%s%s%s",
		         action_name(a->action),
		         dtx_tx_state_name((int)lv->tx->state),
		         ev.kind == DC_EV_SKIP ? ", the branch is " : "",
		         ev.kind == DC_EV_SKIP
		                 ? dtx_step_state_name(
		                           (int)lv->tx->steps[a->branch].state)
		                 : "");
		return msg;
	}
	if (forced != NULL) {
		snprintf(msg, len, "--force: %s", forced);
		dc_admin_add_line(o, false, msg);
	}
	if (dry)
		return NULL;
	record_action(e, lv, a, forced);
	if (forced != NULL)
		mark_forced(lv, a);
	snprintf(what, sizeof(what), "operator %s", action_name(a->action));
	eng_apply(e, lv, &ev, what);
	set_operator_reason(lv, a);
	return NULL;
}

/* admin_act answers an operator action; the reply of a real one leaves
 * once the action is durable. */
static void admin_act(dc_engine *e, dc_request *req, dc_admin_out *o,
                      const Dtx__V1__AdminAct *a)
{
	live *lv = eng_live_find(e, a->gid);
	char msg[WIRE_MESSAGE_MAX];
	const char *why;
	dc_log_bad bad;
	dc_tx *tx;
	int rv = DTX_OK;

	o->rep.has_dry_run = 1;
	o->rep.dry_run = a->dry_run;
	if (!dc_shards_owns_gid(&e->shards, a->gid)) {
		uint32_t s = shard_of_gid(a->gid, e->shards.count);

		/* another instance's shard (or one being given away): only
		 * its owner acts on it, fenced like any of its writes */
		snprintf(
		        msg, sizeof(msg),
		        "gid %s is in shard %u, not served here; its owner: %s",
		        a->gid, (unsigned)s,
		        e->shards.owner_url[s] ? e->shards.owner_url[s]
		                               : "unknown here");
		dc_admin_error(o, DTX_EMOVED, msg);
		o->rep.has_shard = 1;
		o->rep.shard = s;
		dc_admin_set_owner_admin(o, eng_leases_admin_url(e, s));
		eng_admin_send(req, o);
		return;
	}
	if (lv == NULL || dc_tx_is_final(lv->tx)) {
		if (lv == NULL)
			rv = eng_read_tx(e, req, a->gid, &tx, &bad);
		if (rv == READ_PENDING)
			return;
		if (rv != DTX_OK && bad.err != 0) {
			eng_quarantined_msg(&bad, msg, sizeof(msg));
			dc_admin_error(o, rv, msg);
		} else if (rv != DTX_OK) {
			dc_admin_error(o, rv,
			               rv == DTX_ENOENT ? "no such transaction"
			                                : dtx_strerror(rv));
		} else {
			if (lv == NULL)
				dc_admin_own(o, tx);
			snprintf(msg, sizeof(msg),
			         "the transaction is %s (final): nothing to do",
			         dtx_tx_state_name(
			                 (int)(lv ? lv->tx : tx)->state));
			dc_admin_error(o, DTX_EINVAL, msg);
		}
		eng_admin_send(req, o);
		return;
	}
	why = act_on(e, lv, a, o, msg, sizeof(msg));
	if (why != NULL) {
		o->rep.n_transitions = o->rep.n_calls = 0;
		dc_admin_error(o, DTX_EINVAL, why);
		eng_admin_send(req, o);
		return;
	}
	dc_admin_add_tx(o, lv->tx, NULL);
	if (a->dry_run)
		eng_admin_send(req, o);
	else
		admin_send_durable(e, req, lv, o);
	eng_live_maybe_free(e, lv);
}

static void admin_dispatch(dc_engine *e, dc_request *req, dc_admin_out *o,
                           const Dtx__V1__AdminRequest *m)
{
	switch (m->body_case) {
	case DTX__V1__ADMIN_REQUEST__BODY_LIST:
	case DTX__V1__ADMIN_REQUEST__BODY_STATS:
		admin_read(e, req, o, NULL, NULL);
		return;
	case DTX__V1__ADMIN_REQUEST__BODY_SHOW:
		admin_show(e, req, o, m->show);
		return;
	case DTX__V1__ADMIN_REQUEST__BODY_WATCH:
		admin_watch(e, o, m->watch);
		break;
	case DTX__V1__ADMIN_REQUEST__BODY_SHARDS:
		eng_leases_shards(e, o);
		break;
	default: /* ACT: the decoder admits no other body */
		admin_act(e, req, o, m->act);
		return;
	}
	eng_admin_send(req, o);
}

/* admin_peer_check finds who sent req (its ipc:// uid, else the name it
 * claims: who, DC_ACL_WHO_MAX bytes) and refuses a peer that
 * --admin-allow-uid/-gid do not let in (DTX_EPERM, err says why). */
static int admin_peer_check(dc_engine *e, const dc_request *req,
                            const Dtx__V1__AdminRequest *m, char *who,
                            char *err, size_t errlen)
{
	dc_peer peer;

	dc_request_peer(req, &peer);
	dc_acl_who(&peer,
	           m->body_case == DTX__V1__ADMIN_REQUEST__BODY_ACT
	                   ? m->act->user
	                   : NULL,
	           who, DC_ACL_WHO_MAX);
	if (dc_acl_allows(&e->cfg.admin_acl, &peer))
		return DTX_OK;
	if (peer.known)
		snprintf(err, errlen,
		         "refused: %s may not use this admin endpoint "
		         "(dtxd --admin-allow-uid/--admin-allow-gid)",
		         who);
	else
		snprintf(err, errlen,
		         "refused: this admin endpoint admits only the users "
		         "and groups of dtxd --admin-allow-uid/-gid, and the "
		         "peer's uid is not known");
	dc_diag(DTX_LOG_WARN, "admin: %s", err);
	return DTX_EPERM;
}

void eng_on_admin(dc_engine *e, dc_request *req)
{
	Dtx__V1__AdminRequest *m;
	dc_admin_out o;
	char err[400] = "", who[DC_ACL_WHO_MAX];
	size_t len;
	const void *body = dc_request_body(req, &len);
	int rv = dc_request_admit(req, err, sizeof(err));

	if (rv != DTX_OK) {
		/* refused by server.c's limits: answer that */
	} else if ((rv = wire_admin_request_decode(body, len, &m, err,
	                                           sizeof(err))) != DTX_OK ||
	           eng_has_unknown(&m->base, eng_admin_body(m))) {
		if (eng_is_client_request(e, body, len)) {
			if (rv == DTX_OK)
				wire_admin_request_free(m);
			rv = DTX_EPROTO;
			snprintf(err, sizeof(err),
			         "a client request (libdtx) sent to the admin "
			         "endpoint; use the client endpoint");
		}
	}
	if (rv == DTX_OK &&
	    (rv = admin_peer_check(e, req, m, who, err, sizeof(err))) != DTX_OK)
		wire_admin_request_free(m);
	dc_admin_out_init(&o, eng_now_unix_ms(e));
	o.max_bytes = e->cfg.max_msg_bytes;
	if (rv != DTX_OK) {
		dc_admin_error(&o, rv, err);
		eng_admin_send(req, &o);
	} else {
		e->admin_who = who;
		admin_dispatch(e, req, &o, m);
		e->admin_who = NULL;
		wire_admin_request_free(m);
	}
	dc_admin_out_fini(&o);
}
