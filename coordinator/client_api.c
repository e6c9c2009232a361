/*
 * client_api.c - the client API: what each ClientRequest does.
 *
 * Owns submit (saga), submit_tcc, begin_tcc, register, finish, query and
 * final query; the resubmit rules (an identical resubmit returns the
 * existing transaction, a different one is DTX_ECONFLICT naming the
 * difference); replies sized to fit --max-msg-bytes; and the clients
 * waiting for a transaction's final state.
 *
 * Must never: answer about a state that is not durable; start a second
 * transaction under a gid the log knows (live, on disk, or quarantined).
 */
#include "engine_int.h"

/* ---- replies to clients --------------------------------------------- */

static void fill_step_info(const dc_step *st, uint32_t i, Dtx__V1__StepInfo *si)
{
	dc_admin_fill_step(st, i, 0, si);
	if (st->result != NULL) {
		si->has_result = 1;
		si->result.data = st->result;
		si->result.len = st->result_len;
	}
}

/* drop_largest_result leaves the largest result still in the n steps
 * at si out of the reply; false if none is left. */
static bool drop_largest_result(Dtx__V1__StepInfo *si, uint32_t n)
{
	uint32_t big = n;

	for (uint32_t i = 0; i < n; i++)
		if (si[i].has_result &&
		    (big == n || si[i].result.len > si[big].result.len))
			big = i;
	if (big == n)
		return false;
	si[big].has_result = 0;
	si[big].result.data = NULL;
	si[big].result.len = 0;
	return true;
}

/* fit_reply keeps rep under max bytes by leaving step results out,
 * largest first, and says so in its message (msg, len bytes, holds it).
 * Results are bounded when they are recorded (--max-result and the
 * transaction's budget), so only a log an older dtxd wrote needs this.
 * Returns false if rep is too big even without results. */
static bool fit_reply(Dtx__V1__ClientReply *rep, Dtx__V1__StepInfo *si,
                      uint32_t n, size_t max, char *msg, size_t len)
{
	uint32_t dropped = 0;

	while (wire_packed_size(&rep->base) > max) {
		if (!drop_largest_result(si, n))
			return false;
		dropped++;
	}
	if (dropped == 0)
		return true;
	snprintf(msg, len,
	         "%u step result(s) left out of this reply: with them it "
	         "would exceed --max-msg-bytes %zu",
	         (unsigned)dropped, max);
	rep->message = msg;
	dc_diag(DTX_LOG_WARN, "%s: %s", rep->tx->gid, msg);
	return true;
}

void eng_send_tx_reply(const dc_engine *e, dc_request *req, const dc_tx *tx,
                       bool created)
{
	Dtx__V1__ClientReply rep = DTX__V1__CLIENT_REPLY__INIT;
	Dtx__V1__TxInfo info = DTX__V1__TX_INFO__INIT;
	Dtx__V1__StepInfo *si = calloc(tx->nsteps + 1, sizeof(*si));
	Dtx__V1__StepInfo **sp = calloc(tx->nsteps + 1, sizeof(*sp));
	char msg[160];

	if (si == NULL || sp == NULL)
		eng_die_oom("reply");
	for (uint32_t i = 0; i < tx->nsteps; i++) {
		fill_step_info(&tx->steps[i], i, &si[i]);
		sp[i] = &si[i];
	}
	info.gid = (char *)tx->gid;
	info.has_mode = info.has_state = info.has_failed_step = 1;
	info.mode = (Dtx__V1__Mode)tx->mode;
	info.state = (Dtx__V1__TxState)tx->state;
	info.failed_step = tx->failed_step;
	info.reason = tx->reason;
	info.has_created_unix_ms = info.has_updated_unix_ms = 1;
	info.created_unix_ms = tx->created_unix_ms;
	info.updated_unix_ms = tx->updated_unix_ms;
	info.n_steps = tx->nsteps;
	info.steps = sp;
	info.has_needs_operator = 1;
	info.needs_operator = tx->needs_operator;
	info.operator_reason = tx->operator_reason;
	info.has_deadline_unix_ms = tx->deadline_unix_ms != 0;
	info.deadline_unix_ms = tx->deadline_unix_ms;
	if (tx->pruned_unix_ms != 0) { /* a tombstone: say so */
		info.has_pruned_unix_ms = 1;
		info.pruned_unix_ms = tx->pruned_unix_ms;
		dc_retain_pruned_message((int)tx->state, tx->pruned_unix_ms,
		                         msg, sizeof(msg));
		rep.message = msg;
	}
	rep.has_version = rep.has_code = rep.has_created = 1;
	rep.version = DTX__V1__VERSION__VERSION_1;
	rep.code = DTX__V1__CODE__CODE_OK;
	rep.created = created;
	rep.tx = &info;
	if (fit_reply(&rep, si, tx->nsteps, e->cfg.max_msg_bytes, msg,
	              sizeof(msg)))
		dc_request_reply(req, &rep);
	else
		eng_send_error(req, DTX_ETOOBIG,
		               "the reply about this transaction would exceed "
		               "--max-msg-bytes even without its results");
	free(si);
	free(sp);
}

void eng_send_error(dc_request *req, int code, const char *msg)
{
	Dtx__V1__ClientReply rep = DTX__V1__CLIENT_REPLY__INIT;

	rep.has_version = rep.has_code = 1;
	rep.version = DTX__V1__VERSION__VERSION_1;
	rep.code = (Dtx__V1__Code)code;
	rep.message = (char *)msg;
	dc_request_reply(req, &rep);
}

/* eng_reply_when_durable answers req with lv's state once that state is on
 * disk (at once if it already is). */
void eng_reply_when_durable(dc_engine *e, dc_request *req, live *lv)
{
	fx x = {.kind = FX_REPLY, .lv = lv, .req = req};

	eng_defer_fx(e, &x);
}

waiter *eng_waiter_of(dc_engine *e, dc_request *req)
{
	waiter *w = &e->waiters[dc_request_index(req)];

	assert(req->mail.kind == DC_MAIL_REQUEST);
	w->req = req;
	return w;
}

void eng_waiter_remove(waiter *w)
{
	waiter **pp = &w->owner->waiters;

	while (*pp != NULL && *pp != w)
		pp = &(*pp)->next;
	if (*pp == w)
		*pp = w->next;
	w->next = NULL;
	w->owner = NULL;
}

static void add_waiter(dc_engine *e, dc_request *req, live *lv,
                       uint32_t wait_ms)
{
	waiter *w = eng_waiter_of(e, req);

	if (dc_tx_is_final(lv->tx) ||
	    dc_timerq_add(&e->wait_q, &w->timer,
	                  eng_now_mono_ms(e) + wait_ms) != DTX_OK) {
		eng_reply_when_durable(e, req, lv);
		return;
	}
	w->owner = lv;
	w->next = lv->waiters;
	lv->waiters = w;
	eng_arm_timer(e);
}

void eng_answer_waiters(dc_engine *e, live *lv)
{
	waiter *w = lv->waiters;

	lv->waiters = NULL;
	while (w != NULL) {
		waiter *next = w->next;
		dc_timerq_remove(&e->wait_q, &w->timer);
		w->next = NULL;
		w->owner = NULL;
		eng_send_tx_reply(e, w->req, lv->tx, w->created);
		w = next;
	}
}

/* ---- client requests -------------------------------------------------- */

static int copy_payload(dc_step *st, bool has, const ProtobufCBinaryData *p)
{
	if (!has || p->len == 0)
		return DTX_OK;
	if ((st->payload = malloc(p->len)) == NULL)
		return DTX_ENOMEM;
	memcpy(st->payload, p->data, p->len);
	st->payload_len = p->len;
	return DTX_OK;
}

static int copy_step(dc_step *st, const Dtx__V1__SagaStep *in)
{
	st->url = strdup(in->participant_url);
	st->action = strdup(in->action);
	st->compensate = strdup(in->compensate);
	if (st->url == NULL || st->action == NULL || st->compensate == NULL)
		return DTX_ENOMEM;
	st->timeout_ms = in->has_timeout_ms ? in->timeout_ms : 0;
	return copy_payload(st, in->has_payload, &in->payload);
}

/* copy_branch fills a TCC branch: Try in action, Cancel in compensate. */
static int copy_branch(dc_step *st, const Dtx__V1__TccBranch *in)
{
	st->url = strdup(in->participant_url);
	st->action = strdup(in->try_);
	st->confirm = strdup(in->confirm);
	st->compensate = strdup(in->cancel);
	if (st->url == NULL || st->action == NULL || st->confirm == NULL ||
	    st->compensate == NULL)
		return DTX_ENOMEM;
	st->timeout_ms = in->has_timeout_ms ? in->timeout_ms : 0;
	return copy_payload(st, in->has_payload, &in->payload);
}

/* step_spec - what a request asks of one step or branch, to compare with
 * what a transaction holds (for a saga step confirm is NULL). */
typedef struct step_spec {
	const char *url, *action, *compensate, *confirm;
	const uint8_t *payload;
	size_t payload_len;
	uint32_t timeout_ms;
} step_spec;

static step_spec spec_of_step(const Dtx__V1__SagaStep *in)
{
	return (step_spec){
	        .url = in->participant_url,
	        .action = in->action,
	        .compensate = in->compensate,
	        .payload = in->has_payload ? in->payload.data : NULL,
	        .payload_len = in->has_payload ? in->payload.len : 0,
	        .timeout_ms = in->has_timeout_ms ? in->timeout_ms : 0,
	};
}

static step_spec spec_of_branch(const Dtx__V1__TccBranch *in)
{
	return (step_spec){
	        .url = in->participant_url,
	        .action = in->try_,
	        .compensate = in->cancel,
	        .confirm = in->confirm,
	        .payload = in->has_payload ? in->payload.data : NULL,
	        .payload_len = in->has_payload ? in->payload.len : 0,
	        .timeout_ms = in->has_timeout_ms ? in->timeout_ms : 0,
	};
}

static bool str_differs(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0);
}

/* step_diff names the first field of st that sp does not ask for (tcc:
 * the TCC names of the handlers), or returns NULL if none differs. */
static const char *step_diff(const dc_step *st, const step_spec *sp, bool tcc)
{
	if (str_differs(st->url, sp->url))
		return "participant URL";
	if (str_differs(st->action, sp->action))
		return tcc ? "try handler" : "action handler";
	if (str_differs(st->compensate, sp->compensate))
		return tcc ? "cancel handler" : "compensate handler";
	if (str_differs(st->confirm, sp->confirm))
		return "confirm handler";
	if (st->timeout_ms != sp->timeout_ms)
		return "timeout";
	if (st->payload_len != sp->payload_len ||
	    (sp->payload_len > 0 &&
	     memcmp(st->payload, sp->payload, sp->payload_len) != 0))
		return "payload";
	return NULL;
}

/* same_branch: st was registered from a spec equal to in. */
static bool same_branch(const dc_step *st, const Dtx__V1__TccBranch *in)
{
	step_spec sp = spec_of_branch(in);

	return step_diff(st, &sp, true) == NULL;
}

/* tx_spec - what a request that creates a transaction asks for: mode,
 * steps (saga) or branches (TCC), none for a BeginTcc, and a deadline. */
typedef struct tx_spec {
	dc_mode mode;
	bool initiator_driven;
	size_t nsteps;
	const Dtx__V1__SagaStep *const *steps;     /* saga */
	const Dtx__V1__TccBranch *const *branches; /* coordinator-run TCC */
	bool has_deadline; /* false: none (saga), the default (TCC) */
	uint32_t deadline_ms;
} tx_spec;

static const char *kind_of(dc_mode mode, bool initiator_driven)
{
	if (mode == DC_MODE_SAGA)
		return "a saga";
	return initiator_driven ? "an initiator-driven TCC transaction"
	                        : "a coordinator-run TCC transaction";
}

/* deadline_conflict: the deadline sp asks for is not the one tx has. A
 * TCC request without one takes the default, which any deadline is. */
static bool deadline_conflict(const dc_tx *tx, const tx_spec *sp,
                              int64_t *ret_have)
{
	int64_t have = tx->deadline_unix_ms != 0
	                       ? tx->deadline_unix_ms - tx->created_unix_ms
	                       : 0;
	int64_t want = sp->has_deadline ? sp->deadline_ms : 0;

	*ret_have = have;
	if (sp->mode == DC_MODE_TCC && !sp->has_deadline)
		return false;
	return have != want;
}

/* steps_conflict compares sp's steps with tx's, writing what differs. */
static bool steps_conflict(const dc_tx *tx, const tx_spec *sp, char *msg,
                           size_t len)
{
	bool tcc = sp->mode == DC_MODE_TCC;
	const char *what = NULL;
	size_t i;

	for (i = 0; i < sp->nsteps && what == NULL; i++) {
		step_spec ss = tcc ? spec_of_branch(sp->branches[i])
		                   : spec_of_step(sp->steps[i]);
		what = step_diff(&tx->steps[i], &ss, tcc);
	}
	if (what == NULL)
		return false;
	snprintf(msg, len,
	         "gid %s exists with a different %s %zu: its %s differs",
	         tx->gid, tcc ? "branch" : "step", i - 1, what);
	return true;
}

/* conflict_of is true (msg written) if the transaction tx, found under the
 * gid of a request asking for sp, is not the one sp describes: then the
 * request names another transaction and must change nothing. tx is what
 * the coordinator holds, in memory or loaded from the log; both keep every
 * field compared here. */
static bool conflict_of(const dc_tx *tx, const tx_spec *sp, char *msg,
                        size_t len)
{
	const char *have = kind_of(tx->mode, tx->initiator_driven);
	int64_t dl;

	if (tx->mode != sp->mode ||
	    tx->initiator_driven != sp->initiator_driven) {
		snprintf(msg, len,
		         "gid %s exists as %s; this request is for %s", tx->gid,
		         have, kind_of(sp->mode, sp->initiator_driven));
		return true;
	}
	if (!sp->initiator_driven && tx->nsteps != sp->nsteps) {
		snprintf(msg, len,
		         "gid %s exists as %s with %u %s; this request has %zu",
		         tx->gid, have, (unsigned)tx->nsteps,
		         sp->mode == DC_MODE_SAGA ? "steps" : "branches",
		         sp->nsteps);
		return true;
	}
	if (deadline_conflict(tx, sp, &dl)) {
		snprintf(msg, len,
		         "gid %s exists with a deadline of %lld ms (0 = none); "
		         "this request asks for %u ms",
		         tx->gid, (long long)dl,
		         sp->has_deadline ? (unsigned)sp->deadline_ms : 0u);
		return true;
	}
	return !sp->initiator_driven && steps_conflict(tx, sp, msg, len);
}

static void stamp_new(const dc_engine *e, dc_tx *tx, uint32_t deadline_ms)
{
	tx->created_unix_ms = tx->updated_unix_ms = eng_now_unix_ms(e);
	if (deadline_ms > 0)
		tx->deadline_unix_ms = tx->created_unix_ms + deadline_ms;
}

static int build_saga(const dc_engine *e, const char *gid,
                      const Dtx__V1__SubmitSaga *s, dc_tx **ret_tx)
{
	dc_tx *tx;
	int rv = dc_tx_create(gid, DC_MODE_SAGA, (uint32_t)s->n_steps, &tx);

	if (rv != DTX_OK)
		return rv;
	for (size_t i = 0; i < s->n_steps; i++)
		if ((rv = copy_step(&tx->steps[i], s->steps[i])) != DTX_OK) {
			dc_tx_destroy(tx);
			return rv;
		}
	stamp_new(e, tx, s->has_deadline_ms ? s->deadline_ms : 0);
	if (dc_tx_set_tags(tx, s->key, s->labels, s->n_labels,
	                   s->traceparent) != DTX_OK) {
		dc_tx_destroy(tx);
		return DTX_ENOMEM;
	}
	*ret_tx = tx;
	return DTX_OK;
}

static uint32_t tcc_deadline(const dc_engine *e, bool has, uint32_t ms)
{
	return has && ms > 0 ? ms : e->cfg.tcc_deadline_ms;
}

static int build_tcc(dc_engine *e, const char *gid, const Dtx__V1__SubmitTcc *s,
                     dc_tx **ret_tx)
{
	dc_tx *tx;
	int rv = dc_tx_create(gid, DC_MODE_TCC, (uint32_t)s->n_branches, &tx);

	if (rv != DTX_OK)
		return rv;
	for (size_t i = 0; i < s->n_branches; i++)
		if ((rv = copy_branch(&tx->steps[i], s->branches[i])) !=
		    DTX_OK) {
			dc_tx_destroy(tx);
			return rv;
		}
	stamp_new(e, tx, tcc_deadline(e, s->has_deadline_ms, s->deadline_ms));
	if (dc_tx_set_tags(tx, s->key, s->labels, s->n_labels,
	                   s->traceparent) != DTX_OK) {
		dc_tx_destroy(tx);
		return DTX_ENOMEM;
	}
	*ret_tx = tx;
	return DTX_OK;
}

/* answer_from_log answers req from the log for a gid not in memory (once
 * the read is done: see read_tx). Returns false if the log has no such
 * transaction. */
static bool answer_from_log(dc_engine *e, dc_request *req, const char *gid)
{
	char msg[DC_LOG_WHY_MAX + 32];
	dc_log_bad bad;
	dc_tx *tx;
	int rv = eng_read_tx(e, req, gid, &tx, &bad);

	if (rv == READ_PENDING)
		return true;
	if (rv == DTX_ENOENT)
		return false;
	if (bad.err != 0) { /* never a second transaction under its gid */
		eng_quarantined_msg(&bad, msg, sizeof(msg));
		eng_send_error(req, rv, msg);
		return true;
	}
	if (rv != DTX_OK) {
		eng_send_read_error(req, gid, rv);
		return true;
	}
	eng_send_tx_reply(e, req, tx, eng_waiter_of(e, req)->created);
	dc_tx_destroy(tx);
	return true;
}

/* make_gid makes the next id. It reads nothing: a made id is above
 * every id made before (the durable floor), and no client gid above the
 * last made one is ever admitted (is_reserved), so it names nothing yet.
 * (A log written before this rule could hold such a client gid; memory
 * is still checked, the log no longer is.) */
static void make_gid(dc_engine *e, char gid[GID_TEXT_LEN + 1])
{
	do {
		uint64_t id =
		        gid_gen_next(&e->gids, (uint64_t)eng_now_unix_ms(e));
		gid_format(id, gid);
		e->gid_floor_pending = id;
	} while (eng_live_find(e, gid) != NULL);
}

/* is_reserved: a client's gid has the shape of an id this coordinator
 * makes (16 hex digits, our shard) and is above the last one made, so
 * make_gid could make it later: it is refused. Ids at or below the last
 * made one are never made again and stay free for clients. */
static bool is_reserved(const dc_engine *e, const char *gid)
{
	uint64_t id;

	return gid_parse(gid, &id) && gid_shard(id) == e->gids.shard &&
	       id > gid_gen_last(&e->gids);
}

static void respond(dc_engine *e, dc_request *req, live *lv, uint32_t wait_ms)
{
	if (wait_ms > 0)
		add_waiter(e, req, lv, wait_ms);
	else
		eng_reply_when_durable(e, req, lv);
}

/* admit_existing answers a request asking for sp under gid when gid names
 * a transaction already, in memory (lv) or in the log: the same one
 * (idempotent: its state), or another one (DTX_ECONFLICT, nothing
 * changed). Returns false if gid names none. */
static bool admit_existing(dc_engine *e, dc_request *req, const char *gid,
                           const tx_spec *sp, uint32_t wait_ms)
{
	live *lv = eng_live_find(e, gid);
	dc_tx *tx = NULL;
	const dc_tx *have;
	char msg[WIRE_MESSAGE_MAX];
	dc_log_bad bad;
	int rv;

	if (lv == NULL &&
	    (rv = eng_read_tx(e, req, gid, &tx, &bad)) != DTX_OK) {
		if (rv == READ_PENDING)
			return true;
		if (rv == DTX_ENOENT)
			return false;
		if (bad.err != 0) { /* never a second transaction under gid */
			eng_quarantined_msg(&bad, msg, sizeof(msg));
			eng_send_error(req, rv, msg);
			return true;
		}
		eng_send_read_error(req, gid, rv);
		return true;
	}
	have = lv != NULL ? lv->tx : tx;
	if (have->pruned_unix_ms != 0) {
		/* pruned: its details are gone, its outcome is not; never a
		 * second transaction under gid */
		eng_send_tx_reply(e, req, have, false);
	} else if (conflict_of(have, sp, msg, sizeof(msg))) {
		dc_diag(DTX_LOG_DEBUG, "refused a resubmit: %s", msg);
		eng_send_error(req, DTX_ECONFLICT, msg);
	} else if (lv != NULL) {
		respond(e, req, lv, wait_ms);
	} else {
		eng_send_tx_reply(e, req, tx, false);
	}
	dc_tx_destroy(tx);
	return true;
}

/* admit_new decides what a request that creates a transaction under gid
 * (NULL: make one into made) and asks for sp gets: false if it was
 * answered already (the gid exists: see admit_existing; or the
 * coordinator is full). */
static bool admit_new(dc_engine *e, dc_request *req, const char **gid,
                      char made[GID_TEXT_LEN + 1], const tx_spec *sp,
                      uint32_t wait_ms)
{
	char msg[WIRE_MESSAGE_MAX];

	eng_waiter_of(e, req)->created = false;
	if (*gid != NULL && is_reserved(e, *gid)) {
		snprintf(msg, sizeof(msg),
		         "gid %s is reserved: it has the shape of the ids this "
		         "coordinator makes (16 hex digits, shard %u) and is "
		         "above the last one it made; omit the gid to get one, "
		         "or choose another",
		         *gid, (unsigned)e->gids.shard);
		eng_send_error(req, DTX_EINVAL, msg);
		return false;
	}
	if (*gid != NULL && admit_existing(e, req, *gid, sp, wait_ms))
		return false;
	if (*gid == NULL && !eng_leases_may_make_ids(e)) {
		eng_send_error(req, DTX_EBUSY,
		               "this instance serves no shard yet: ask another "
		               "or retry");
		return false;
	}
	if (e->nlive >= e->cfg.max_active) {
		eng_send_error(req, DTX_EBUSY, "too many active transactions");
		return false;
	}
	if (dc_retain_is_full(&e->retain)) {
		dc_retain_full_message(&e->retain, msg, sizeof(msg));
		eng_send_error(req, DTX_ENOSPC, msg);
		return false;
	}
	if (*gid == NULL) {
		make_gid(e, made);
		*gid = made;
	}
	return true;
}

/* start_new takes tx (transferred), logs it whole and starts it. */
static void start_new(dc_engine *e, dc_request *req, dc_tx *tx,
                      uint32_t wait_ms, const char *what)
{
	dc_event ev = {.kind = DC_EV_START};
	dc_diag_about about = eng_about(tx, -1, 0);
	live *lv;

	dc_diag_tx(DTX_LOG_DEBUG, &about, "%s %s: %u %s", tx->gid, what,
	           tx->nsteps, tx->mode == DC_MODE_SAGA ? "steps" : "branches");
	if (eng_live_add(e, tx, &lv) != DTX_OK)
		eng_die_oom("submit");
	eng_waiter_of(e, req)->created = true;
	dc_metrics_submit(e->metrics, (int)tx->mode);
	eng_mark_dirty(e, lv, UINT64_MAX);
	eng_add_event(e, lv, -1, what);
	eng_apply(e, lv, &ev,
	          tx->mode == DC_MODE_SAGA ? "action started" : "try started");
	eng_arm_deadline(e, lv);
	respond(e, req, lv, wait_ms);
}

static void handle_submit(dc_engine *e, dc_request *req,
                          const Dtx__V1__SubmitSaga *s, uint32_t wait_ms)
{
	char made[GID_TEXT_LEN + 1];
	const char *gid = s->gid;
	tx_spec sp = {
	        .mode = DC_MODE_SAGA,
	        .nsteps = s->n_steps,
	        .steps = (const Dtx__V1__SagaStep *const *)s->steps,
	        .has_deadline = s->has_deadline_ms && s->deadline_ms > 0,
	        .deadline_ms = s->deadline_ms,
	};
	dc_tx *tx;

	if (!admit_new(e, req, &gid, made, &sp, wait_ms))
		return;
	if (build_saga(e, gid, s, &tx) != DTX_OK)
		eng_die_oom("submit");
	start_new(e, req, tx, wait_ms, "submitted");
}

static void handle_submit_tcc(dc_engine *e, dc_request *req,
                              const Dtx__V1__SubmitTcc *s, uint32_t wait_ms)
{
	char made[GID_TEXT_LEN + 1];
	const char *gid = s->gid;
	tx_spec sp = {
	        .mode = DC_MODE_TCC,
	        .nsteps = s->n_branches,
	        .branches = (const Dtx__V1__TccBranch *const *)s->branches,
	        .has_deadline = s->has_deadline_ms && s->deadline_ms > 0,
	        .deadline_ms = s->deadline_ms,
	};
	dc_tx *tx;

	if (!admit_new(e, req, &gid, made, &sp, wait_ms))
		return;
	if (build_tcc(e, gid, s, &tx) != DTX_OK)
		eng_die_oom("submit");
	start_new(e, req, tx, wait_ms, "submitted (TCC, coordinator-run)");
}

static void handle_begin_tcc(dc_engine *e, dc_request *req,
                             const Dtx__V1__BeginTcc *b)
{
	char made[GID_TEXT_LEN + 1];
	const char *gid = b->gid;
	tx_spec sp = {
	        .mode = DC_MODE_TCC,
	        .initiator_driven = true,
	        .has_deadline = b->has_deadline_ms && b->deadline_ms > 0,
	        .deadline_ms = b->deadline_ms,
	};
	dc_tx *tx;

	if (!admit_new(e, req, &gid, made, &sp, 0))
		return;
	if (dc_tx_create(gid, DC_MODE_TCC, 0, &tx) != DTX_OK)
		eng_die_oom("begin");
	tx->initiator_driven = true;
	stamp_new(e, tx, tcc_deadline(e, b->has_deadline_ms, b->deadline_ms));
	if (dc_tx_set_tags(tx, b->key, b->labels, b->n_labels,
	                   b->traceparent) != DTX_OK)
		eng_die_oom("begin");
	start_new(e, req, tx, 0, "begun (TCC, initiator-driven)");
}

/* find_tcc finds the live initiator-driven TCC transaction gid for a
 * request about it; otherwise answers req and returns NULL. A final one is
 * answered from the log with its state. */
static live *find_tcc(dc_engine *e, dc_request *req, const char *gid)
{
	live *lv = eng_live_find(e, gid);

	eng_waiter_of(e, req)->created = false;
	if (lv == NULL) {
		if (!answer_from_log(e, req, gid))
			eng_send_error(req, DTX_ENOENT, "no such transaction");
		return NULL;
	}
	if (lv->tx->mode != DC_MODE_TCC || !lv->tx->initiator_driven) {
		eng_send_error(req, DTX_EINVAL,
		               "not an initiator-driven TCC transaction");
		return NULL;
	}
	return lv;
}

/* handle_register appends the next branch of an initiator-driven TCC
 * transaction. The reply leaves once the branch is durable: only then may
 * the initiator call its Try (a crash after the Try can always be
 * cancelled). A repeat of a registration is answered again. */
static void handle_register(dc_engine *e, dc_request *req,
                            const Dtx__V1__RegisterBranch *r)
{
	live *lv = find_tcc(e, req, r->gid);
	dc_event ev = {.kind = DC_EV_REGISTER, .step = r->branch};
	dc_tx *tx;
	char msg[160];

	if (lv == NULL)
		return;
	tx = lv->tx;
	if (r->branch < tx->nsteps) {
		if (same_branch(&tx->steps[r->branch], r->spec))
			eng_reply_when_durable(e, req, lv);
		else
			eng_send_error(req, DTX_EINVAL,
			               "branch already registered differently");
		return;
	}
	if (tx->state != DC_TX_RUNNING) {
		snprintf(msg, sizeof(msg), "transaction is %s: no new branch",
		         dtx_tx_state_name((int)tx->state));
		eng_send_error(req, DTX_EINVAL, msg);
		return;
	}
	if (r->branch != tx->nsteps) {
		snprintf(msg, sizeof(msg),
		         "branch %u out of order (next is %u)",
		         (unsigned)r->branch, (unsigned)tx->nsteps);
		eng_send_error(req, DTX_EINVAL, msg);
		return;
	}
	if (eng_rt_reserve(lv, tx->nsteps + 1) != DTX_OK ||
	    dc_tx_add_step(tx) != DTX_OK ||
	    copy_branch(&tx->steps[r->branch], r->spec) != DTX_OK)
		eng_die_oom("register");
	eng_mark_dirty(e, lv, 0);
	eng_apply(e, lv, &ev, "branch registered");
	eng_reply_when_durable(e, req, lv);
}

/* handle_finish commits or aborts an initiator-driven TCC transaction. A
 * commit after the deadline (or an abort) decided to cancel changes
 * nothing: the reply says CANCELLING or CANCELLED. */
static void handle_finish(dc_engine *e, dc_request *req,
                          const Dtx__V1__Finish *f, uint32_t wait_ms)
{
	live *lv = find_tcc(e, req, f->gid);
	dc_event ev = {.kind = f->commit ? DC_EV_COMMIT : DC_EV_ABORT};
	char msg[160];

	if (lv == NULL)
		return;
	if (f->commit && lv->tx->state == DC_TX_RUNNING &&
	    f->branches != lv->tx->nsteps) {
		snprintf(msg, sizeof(msg),
		         "the initiator saw %u Tries succeed but %u branches "
		         "are registered: abort instead",
		         (unsigned)f->branches, (unsigned)lv->tx->nsteps);
		eng_send_error(req, DTX_EINVAL, msg);
		return;
	}
	if (eng_apply(e, lv, &ev,
	              f->commit ? "commit asked by the initiator"
	                        : "abort asked by the initiator") &&
	    !f->commit)
		dc_tx_set_str(&lv->tx->reason,
		              f->reason != NULL && *f->reason
		                      ? f->reason
		                      : "aborted by the initiator");
	respond(e, req, lv, wait_ms);
	eng_live_maybe_free(e, lv);
}

/* final_of reports whether gid is final: from memory if it is live (a
 * final state not yet durable is not final), else from what the log said
 * (r, read off the loop; a bad transaction is quarantined here). A log
 * read older than a transaction freed since says "not final": the
 * participant keeps its records and asks again. */
static bool final_of(dc_engine *e, const dc_final_read *r,
                     dc_tx_state *ret_state, int64_t *ret_ms)
{
	live *lv = eng_live_find(e, r->gid);

	if (lv != NULL) {
		if (!dc_tx_is_final(lv->tx) || lv->pending_gen != 0 ||
		    lv->dirty)
			return false;
		*ret_state = lv->tx->state;
		*ret_ms = lv->tx->updated_unix_ms;
		return true;
	}
	if (r->bad != NULL)
		eng_quarantine(e, r->bad); /* unknown: keep its records */
	if (r->rv != DTX_OK || !r->final)
		return false;
	*ret_state = r->state;
	*ret_ms = r->final_unix_ms;
	return true;
}

/* handle_final_query asks the reader for the final states of the gids a
 * participant asks about; on_finals_done answers. */
static void handle_final_query(dc_engine *e, dc_request *req,
                               const Dtx__V1__FinalQuery *q)
{
	size_t n = q->n_gids < WIRE_FINAL_QUERY_MAX ? q->n_gids
	                                            : WIRE_FINAL_QUERY_MAX;
	dc_finals_job *j;

	if (dc_finals_job_create((const char *const *)q->gids, n, &j) != DTX_OK)
		eng_die_oom("final query");
	j->head.owner = req;
	if (dc_reader_submit(e->reader, &j->head.base) != DTX_OK) {
		dc_read_job_destroy(&j->head);
		eng_send_read_error(req, NULL, DTX_EBUSY);
	}
}

/* eng_on_finals_done lists which of the asked gids are final, and since
 * when: a participant removes barrier records only for those. */
void eng_on_finals_done(dc_engine *e, dc_finals_job *j)
{
	Dtx__V1__ClientReply rep = DTX__V1__CLIENT_REPLY__INIT;
	Dtx__V1__FinalGid fg[WIRE_FINAL_QUERY_MAX];
	Dtx__V1__FinalGid *fp[WIRE_FINAL_QUERY_MAX];
	size_t n = 0;

	if (j->fatal == DTX_ENOMEM)
		eng_die_oom("final query");
	if (j->fatal != 0)
		eng_die_read(e, j->fatal, j->err);
	for (size_t i = 0; i < j->n; i++) {
		dc_tx_state st;
		int64_t ms;
		if (!dc_shards_owns_gid(&e->shards, j->reads[i].gid) ||
		    !final_of(e, &j->reads[i], &st, &ms))
			continue; /* another shard's gid: its owner answers */
		dtx__v1__final_gid__init(&fg[n]);
		fg[n].gid = j->reads[i].gid;
		fg[n].has_state = fg[n].has_final_unix_ms = 1;
		fg[n].state = (Dtx__V1__TxState)st;
		fg[n].final_unix_ms = ms;
		fp[n] = &fg[n];
		n++;
	}
	rep.has_version = rep.has_code = 1;
	rep.version = DTX__V1__VERSION__VERSION_1;
	rep.code = DTX__V1__CODE__CODE_OK;
	rep.n_finals = n;
	rep.finals = fp;
	dc_request_reply(j->head.owner, &rep);
}

static void handle_query(dc_engine *e, dc_request *req, const char *gid,
                         uint32_t wait_ms)
{
	live *lv = eng_live_find(e, gid);

	eng_waiter_of(e, req)->created = false;
	if (lv != NULL) {
		respond(e, req, lv, wait_ms);
		return;
	}
	if (!answer_from_log(e, req, gid))
		eng_send_error(req, DTX_ENOENT, "no such transaction");
}

static void dispatch(dc_engine *e, dc_request *req,
                     const Dtx__V1__ClientRequest *msg, uint32_t wait_ms)
{
	/* another shard's gid: DTX_EMOVED naming its owner (shards.h) */
	if (dc_shards_refuse(&e->shards, req, msg))
		return;
	switch (msg->body_case) {
	case DTX__V1__CLIENT_REQUEST__BODY_SUBMIT:
		handle_submit(e, req, msg->submit, wait_ms);
		break;
	case DTX__V1__CLIENT_REQUEST__BODY_SUBMIT_TCC:
		handle_submit_tcc(e, req, msg->submit_tcc, wait_ms);
		break;
	case DTX__V1__CLIENT_REQUEST__BODY_BEGIN_TCC:
		handle_begin_tcc(e, req, msg->begin_tcc);
		break;
	case DTX__V1__CLIENT_REQUEST__BODY_REGISTER:
		handle_register(e, req, msg->register_);
		break;
	case DTX__V1__CLIENT_REQUEST__BODY_FINISH:
		handle_finish(e, req, msg->finish, wait_ms);
		break;
	case DTX__V1__CLIENT_REQUEST__BODY_FINAL_QUERY:
		handle_final_query(e, req, msg->final_query);
		break;
	case DTX__V1__CLIENT_REQUEST__BODY_TOPOLOGY:
		dc_shards_answer_topology(&e->shards, req);
		break;
	default: /* the decoder admits no other body */
		handle_query(e, req, msg->query->gid, wait_ms);
		break;
	}
}

/*
 * Requests on the wrong endpoint. The two endpoints' messages share field
 * numbers, so one endpoint's request may unpack as the other's: an
 * AdminRequest{stats} reads as a ClientRequest whose SubmitTcc has no
 * branches, a ClientRequest{submit_tcc} as an AdminRequest{stats} with
 * unknown fields. A request one endpoint refuses (or, on the admin
 * endpoint, reads only with unknown fields) is tried as the other's, only
 * to word the refusal. Some bytes are both: AdminShow{gid} is
 * SubmitSaga{gid} without steps, so the client's error stands there with a
 * hint; AdminWatch{} is a valid BeginTcc{} and is served as one.
 */
typedef enum reading {
	READ_NOT = 0,   /* not the other endpoint's request */
	READ_IS = 1,    /* the other endpoint's request */
	READ_MAYBE = 2, /* valid there, and also ours spoiled */
} reading;

const ProtobufCMessage *eng_admin_body(const Dtx__V1__AdminRequest *m)
{
	switch (m->body_case) {
	case DTX__V1__ADMIN_REQUEST__BODY_LIST:
		return &m->list->base;
	case DTX__V1__ADMIN_REQUEST__BODY_SHOW:
		return &m->show->base;
	case DTX__V1__ADMIN_REQUEST__BODY_ACT:
		return &m->act->base;
	case DTX__V1__ADMIN_REQUEST__BODY_STATS:
		return &m->stats->base;
	case DTX__V1__ADMIN_REQUEST__BODY_SHARDS:
		return &m->shards->base;
	default: /* the decoder admits no other body */
		return &m->watch->base;
	}
}

/* has_unknown: m or its body carries fields its type does not have. */
bool eng_has_unknown(const ProtobufCMessage *m, const ProtobufCMessage *body)
{
	return m->n_unknown_fields > 0 || body->n_unknown_fields > 0;
}

/* admin_reading says whether the len bytes at buf, refused as a client
 * request, are dtxctl's request. */
static reading admin_reading(const void *buf, size_t len)
{
	Dtx__V1__AdminRequest *m;
	reading r = READ_IS;

	if (wire_admin_request_decode(buf, len, &m, NULL, 0) != DTX_OK)
		return READ_NOT;
	if (eng_has_unknown(&m->base, eng_admin_body(m)))
		r = READ_NOT;
	else if (m->body_case == DTX__V1__ADMIN_REQUEST__BODY_SHOW)
		r = READ_MAYBE;
	wire_admin_request_free(m);
	return r;
}

/* is_client_request: the len bytes at buf are a valid client request. */
bool eng_is_client_request(const dc_engine *e, const void *buf, size_t len)
{
	Dtx__V1__ClientRequest *m;

	if (wire_client_request_decode(buf, len, &e->limits, &m, NULL, 0) !=
	    DTX_OK)
		return false;
	wire_client_request_free(m);
	return true;
}

/* name_admin_request rewords the refusal (*rv, err of errlen bytes) of a
 * client request that is dtxctl's, or may be. */
static void name_admin_request(const void *buf, size_t len, int *rv, char *err,
                               size_t errlen)
{
	static const char what[] = "an admin request (dtxctl) sent to the "
	                           "client endpoint; use the admin endpoint";
	size_t n;

	switch (admin_reading(buf, len)) {
	case READ_IS:
		*rv = DTX_EPROTO;
		snprintf(err, errlen, "%s", what);
		break;
	case READ_MAYBE:
		n = strlen(err);
		snprintf(err + n, errlen - n, " (or %s)", what);
		break;
	default:
		break;
	}
}

void eng_on_request(dc_engine *e, dc_request *req)
{
	Dtx__V1__ClientRequest *msg;
	char err[WIRE_MESSAGE_MAX / 2] = "";
	size_t len;
	const void *body = dc_request_body(req, &len);
	uint32_t wait_ms;
	int rv;

	/* a slot's state from its last request must not leak into this one */
	eng_waiter_of(e, req)->created = false;
	/* server.c's limits first: size, requests and waits per connection */
	rv = dc_request_admit(req, err, sizeof(err));
	if (rv == DTX_OK) {
		rv = wire_client_request_decode(body, len, &e->limits, &msg,
		                                err, sizeof(err));
		if (rv != DTX_OK)
			name_admin_request(body, len, &rv, err, sizeof(err));
	}
	if (rv != DTX_OK) {
		dc_diag(DTX_LOG_DEBUG, "refused a request: %s", err);
		eng_send_error(req, rv, err);
		return;
	}
	wait_ms = msg->has_wait_ms ? msg->wait_ms : 0;
	if (wait_ms > e->cfg.max_wait_ms)
		wait_ms = e->cfg.max_wait_ms;
	if (wait_ms > 0 && (rv = dc_request_wait(req, err, sizeof(err))) != 0)
		eng_send_error(req, rv, err);
	else
		dispatch(e, req, msg, wait_ms);
	wire_client_request_free(msg);
}

void eng_on_mail(void *arg, dc_mail *mail)
{
	dc_engine *e = arg;

	if (e->stopping)
		return; /* a read job stays held: the reader frees it */
	if (mail->kind == DC_MAIL_REQUEST)
		eng_on_request(e, (dc_request *)mail);
	else if (mail->kind == DC_MAIL_ADMIN)
		eng_on_admin(e, (dc_request *)mail);
	else if (mail->kind == DC_MAIL_READ)
		eng_on_read_done(e, mail);
	else if (mail->kind == DC_MAIL_LEASES)
		eng_leases_on_mail(e, mail);
	else
		eng_on_call_done(e, (dc_call *)mail);
}
