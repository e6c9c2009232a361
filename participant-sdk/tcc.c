/*
 * tcc.c - TCC transactions on the initiator's side.
 *
 * Owns two objects:
 *   - dtx_tcc: a TCC transaction for the coordinator to run (its branches
 *     kept in wire form, like saga_builder.c keeps a saga), submitted with
 *     dtx_client_submit_tcc[_async];
 *   - dtx_tcc_tx: an initiator-driven TCC transaction: begun on the
 *     coordinator, each branch registered durably *before* its Try is sent
 *     (so that a crash after the Try can always be cancelled), the Try
 *     called on the participant directly, then a commit or an abort.
 *
 * The order inside dtx_tcc_try is the whole point:
 *   1. RegisterBranch(gid, n, spec) - answered once the branch is in the
 *      coordinator's log, with the transaction's state;
 *   2. only if that state is RUNNING: BranchCall(TRY) to the participant.
 *   If we crash between 1 and 2, the coordinator cancels the branch at the
 *   deadline (a null cancel at the participant). If we crash after 2, the
 *   same: the Cancel undoes the Try. A Try delayed past its Cancel is
 *   refused by the participant's barrier; each Try carries the
 *   transaction's deadline (from BeginTcc's answer), so one delayed past
 *   the barrier's GC too is refused by that.
 *
 * Never packs protobuf itself except through client.c / wire.h, never
 * prints. A dtx_tcc or dtx_tcc_tx is used by one thread at a time.
 */
#include <stdlib.h>
#include <string.h>

#include "sdk.h"
#include "trace.h"

#define TRY_TIMEOUT_DEFAULT_MS 5000

struct dtx_tcc {
	char *gid; /* owned; NULL = the coordinator makes one */
	Dtx__V1__TccBranch **branches; /* owned array of owned branches */
	size_t n, cap;
	uint32_t deadline_ms; /* 0 = the coordinator's default */
	sdk_tags tags;        /* business key and labels */
};

struct dtx_tcc_tx {
	dtx_client *client; /* retained */
	char gid[DTX_GID_MAX + 1];
	int64_t deadline_unix_ms; /* the coordinator's; 0: none */
	uint32_t nbranches;       /* registered so far */
	uint32_t ntried_ok;       /* Tries that answered OK */
	bool failed;              /* a Try did not answer OK */
	bool traced;              /* begun with a traceparent: trace */
	trace_ctx trace;
};

/* ---- dtx_tcc: branches kept in wire form ------------------------------- */

int dtx_tcc_create(const char *gid, dtx_tcc **ret_tcc)
{
	dtx_tcc *t;
	int rv;

	if (ret_tcc == NULL)
		return DTX_EINVAL;
	if (gid != NULL && (rv = sdk_check_name(gid, DTX_GID_MAX)) != DTX_OK)
		return rv;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return DTX_ENOMEM;
	if (gid != NULL && (t->gid = strdup(gid)) == NULL) {
		free(t);
		return DTX_ENOMEM;
	}
	*ret_tcc = t;
	return DTX_OK;
}

/* branch_free frees b (owned) and what it holds. Accepts NULL. */
static void branch_free(Dtx__V1__TccBranch *b)
{
	if (b == NULL)
		return;
	free(b->participant_url);
	free(b->try_);
	free(b->confirm);
	free(b->cancel);
	free(b->payload.data);
	free(b);
}

void dtx_tcc_destroy(dtx_tcc *tcc)
{
	if (tcc == NULL)
		return;
	for (size_t i = 0; i < tcc->n; i++)
		branch_free(tcc->branches[i]);
	free(tcc->branches);
	free(tcc->gid);
	sdk_tags_fini(&tcc->tags);
	free(tcc);
}

/* check_branch validates a branch's fields (all borrowed). */
static int check_branch(const char *url, const char *try_h,
                        const char *confirm_h, const char *cancel_h,
                        const void *payload, size_t len)
{
	int rv;

	if (payload == NULL && len > 0)
		return DTX_EINVAL;
	if ((rv = sdk_check_url(url)) != DTX_OK ||
	    (rv = sdk_check_name(try_h, DTX_HANDLER_MAX)) != DTX_OK ||
	    (rv = sdk_check_name(confirm_h, DTX_HANDLER_MAX)) != DTX_OK ||
	    (rv = sdk_check_name(cancel_h, DTX_HANDLER_MAX)) != DTX_OK)
		return rv;
	return len > WIRE_MAX_PAYLOAD_DEFAULT ? DTX_ETOOBIG : DTX_OK;
}

/* branch_new copies a checked branch (all borrowed) into a new TccBranch,
 * transferred to the caller in *ret_b. Errors: DTX_ENOMEM. */
static int branch_new(const char *url, const char *try_h, const char *confirm_h,
                      const char *cancel_h, const void *payload, size_t len,
                      unsigned timeout_ms, Dtx__V1__TccBranch **ret_b)
{
	static const Dtx__V1__TccBranch init = DTX__V1__TCC_BRANCH__INIT;
	Dtx__V1__TccBranch *b = malloc(sizeof(*b));

	if (b == NULL)
		return DTX_ENOMEM;
	*b = init;
	b->participant_url = strdup(url);
	b->try_ = strdup(try_h);
	b->confirm = strdup(confirm_h);
	b->cancel = strdup(cancel_h);
	b->has_payload = len > 0;
	b->payload.len = len;
	b->payload.data = len > 0 ? malloc(len) : NULL;
	b->has_timeout_ms = timeout_ms > 0;
	b->timeout_ms = timeout_ms;
	if (b->participant_url == NULL || b->try_ == NULL ||
	    b->confirm == NULL || b->cancel == NULL ||
	    (len > 0 && b->payload.data == NULL)) {
		branch_free(b);
		return DTX_ENOMEM;
	}
	if (len > 0)
		memcpy(b->payload.data, payload, len);
	*ret_b = b;
	return DTX_OK;
}

static int reserve(dtx_tcc *t)
{
	size_t ncap;
	Dtx__V1__TccBranch **nb;

	if (t->n >= WIRE_MAX_STEPS_DEFAULT)
		return DTX_ETOOBIG;
	if (t->n < t->cap)
		return DTX_OK;
	ncap = t->cap ? t->cap * 2 : 4;
	if ((nb = realloc(t->branches, ncap * sizeof(*nb))) == NULL)
		return DTX_ENOMEM;
	t->branches = nb;
	t->cap = ncap;
	return DTX_OK;
}

int dtx_tcc_add_branch(dtx_tcc *tcc, const char *url, const char *try_h,
                       const char *confirm_h, const char *cancel_h,
                       const void *payload, size_t len, unsigned timeout_ms)
{
	Dtx__V1__TccBranch *b;
	int rv;

	if (tcc == NULL)
		return DTX_EINVAL;
	rv = check_branch(url, try_h, confirm_h, cancel_h, payload, len);
	if (rv == DTX_OK && timeout_ms > WIRE_TIMEOUT_MAX_MS)
		rv = DTX_EINVAL;
	if (rv == DTX_OK)
		rv = reserve(tcc);
	if (rv == DTX_OK)
		rv = branch_new(url, try_h, confirm_h, cancel_h, payload, len,
		                timeout_ms, &b);
	if (rv != DTX_OK)
		return rv;
	tcc->branches[tcc->n++] = b;
	return DTX_OK;
}

int dtx_tcc_set_key(dtx_tcc *tcc, const char *key)
{
	return tcc != NULL ? sdk_tags_set_key(&tcc->tags, key) : DTX_EINVAL;
}

int dtx_tcc_add_label(dtx_tcc *tcc, const char *name, const char *value)
{
	return tcc != NULL ? sdk_tags_add_label(&tcc->tags, name, value)
	                   : DTX_EINVAL;
}

int dtx_tcc_set_traceparent(dtx_tcc *tcc, const char *traceparent)
{
	return tcc != NULL ? sdk_tags_set_traceparent(&tcc->tags, traceparent)
	                   : DTX_EINVAL;
}

int dtx_tcc_set_deadline(dtx_tcc *tcc, unsigned deadline_ms)
{
	if (tcc == NULL)
		return DTX_EINVAL;
	tcc->deadline_ms = deadline_ms;
	return DTX_OK;
}

/* view fills *ret_req (and *s, which it points to) with tcc's SubmitTcc
 * form; pointers borrow tcc, only read while packing. */
static void view(const dtx_tcc *tcc, Dtx__V1__SubmitTcc *s,
                 Dtx__V1__ClientRequest *ret_req)
{
	s->gid = tcc->gid;
	s->n_branches = tcc->n;
	s->branches = tcc->branches;
	s->has_deadline_ms = tcc->deadline_ms != 0;
	s->deadline_ms = tcc->deadline_ms;
	s->key = tcc->tags.key;
	s->n_labels = tcc->tags.n;
	s->labels = tcc->tags.labels;
	s->traceparent = tcc->tags.traceparent;
	ret_req->body_case = DTX__V1__CLIENT_REQUEST__BODY_SUBMIT_TCC;
	ret_req->submit_tcc = s;
}

int dtx_client_submit_tcc_async(dtx_client *client, const dtx_tcc *tcc,
                                unsigned wait_ms, dtx_done_fn done, void *arg)
{
	Dtx__V1__ClientRequest req = DTX__V1__CLIENT_REQUEST__INIT;
	Dtx__V1__SubmitTcc s = DTX__V1__SUBMIT_TCC__INIT;

	if (client == NULL || tcc == NULL || done == NULL || tcc->n == 0)
		return DTX_EINVAL;
	view(tcc, &s, &req);
	return sdk_client_send(client, &req, wait_ms, done, arg);
}

int dtx_client_submit_tcc(dtx_client *client, const dtx_tcc *tcc,
                          unsigned wait_ms, dtx_tx_info *ret_info)
{
	Dtx__V1__ClientRequest req = DTX__V1__CLIENT_REQUEST__INIT;
	Dtx__V1__SubmitTcc s = DTX__V1__SUBMIT_TCC__INIT;

	if (client == NULL || tcc == NULL || ret_info == NULL || tcc->n == 0)
		return DTX_EINVAL;
	view(tcc, &s, &req);
	return sdk_client_call(client, &req, wait_ms, ret_info);
}

/* ---- dtx_tcc_tx: the initiator drives ---------------------------------- */

static int begin(dtx_client *client, Dtx__V1__BeginTcc *b, dtx_tcc_tx **ret_tx);

int dtx_tcc_begin(dtx_client *client, const char *gid, unsigned deadline_ms,
                  dtx_tcc_tx **ret_tx)
{
	Dtx__V1__BeginTcc b = DTX__V1__BEGIN_TCC__INIT;
	int rv;

	if (gid != NULL && (rv = sdk_check_name(gid, DTX_GID_MAX)) != DTX_OK)
		return rv;
	b.gid = (char *)gid; /* only read while packing */
	b.has_deadline_ms = deadline_ms != 0;
	b.deadline_ms = deadline_ms;
	return begin(client, &b, ret_tx);
}

int dtx_tcc_begin_from(dtx_client *client, const dtx_tcc *desc,
                       dtx_tcc_tx **ret_tx)
{
	Dtx__V1__BeginTcc b = DTX__V1__BEGIN_TCC__INIT;

	if (desc == NULL || desc->n > 0)
		return DTX_EINVAL;
	b.gid = desc->gid; /* only read while packing */
	b.has_deadline_ms = desc->deadline_ms != 0;
	b.deadline_ms = desc->deadline_ms;
	b.key = desc->tags.key;
	b.n_labels = desc->tags.n;
	b.labels = desc->tags.labels;
	b.traceparent = desc->tags.traceparent;
	return begin(client, &b, ret_tx);
}

/* begin sends the BeginTcc b (borrowed) and makes *ret_tx of the answer
 * (see dtx_tcc_begin). */
static int begin(dtx_client *client, Dtx__V1__BeginTcc *b, dtx_tcc_tx **ret_tx)
{
	Dtx__V1__ClientRequest req = DTX__V1__CLIENT_REQUEST__INIT;
	dtx_tx_info info;
	dtx_tcc_tx *tx;
	int rv;

	if (client == NULL || ret_tx == NULL)
		return DTX_EINVAL;
	req.body_case = DTX__V1__CLIENT_REQUEST__BODY_BEGIN_TCC;
	req.begin_tcc = b;
	if ((rv = sdk_client_call(client, &req, 0, &info)) != DTX_OK)
		return rv;
	if (info.mode != DTX_MODE_TCC || info.state != DTX_TX_RUNNING ||
	    (!info.created && info.nsteps > 0)) {
		/* the gid names another transaction, or one already under
		 * way: beginning it again would mix two initiators */
		sdk_logf(DTX_LOG_WARN,
		         "tcc: %s exists and is not a fresh TCC "
		         "transaction",
		         info.gid);
		return DTX_EINVAL;
	}
	if ((tx = calloc(1, sizeof(*tx))) == NULL)
		return DTX_ENOMEM;
	tx->client = client;
	tx->deadline_unix_ms = info.deadline_unix_ms;
	tx->traced = b->traceparent != NULL &&
	             trace_parse(b->traceparent, &tx->trace, NULL, 0) == DTX_OK;
	sdk_strlcpy(tx->gid, sizeof(tx->gid), info.gid);
	*ret_tx = tx;
	return DTX_OK;
}

const char *dtx_tcc_tx_gid(const dtx_tcc_tx *tx)
{
	return tx != NULL ? tx->gid : NULL;
}

void dtx_tcc_tx_destroy(dtx_tcc_tx *tx)
{
	free(tx);
}

/* register_branch makes branch (borrowed) durable on the coordinator as
 * number tx->nbranches. Errors: DTX_EINVAL (the transaction is no longer
 * trying: no Try may be sent), and those of the request. */
static int register_branch(dtx_tcc_tx *tx, Dtx__V1__TccBranch *branch)
{
	Dtx__V1__ClientRequest req = DTX__V1__CLIENT_REQUEST__INIT;
	Dtx__V1__RegisterBranch r = DTX__V1__REGISTER_BRANCH__INIT;
	dtx_tx_info info;
	int rv;

	r.gid = tx->gid;
	r.has_branch = 1;
	r.branch = tx->nbranches;
	r.spec = branch;
	req.body_case = DTX__V1__CLIENT_REQUEST__BODY_REGISTER;
	req.register_ = &r;
	if ((rv = sdk_client_call(tx->client, &req, 0, &info)) != DTX_OK)
		return rv;
	tx->nbranches++;
	if (info.state != DTX_TX_RUNNING) {
		sdk_logf(DTX_LOG_INFO, "tcc: %s is %s: Try not sent", tx->gid,
		         dtx_tx_state_name(info.state));
		return DTX_EINVAL;
	}
	return DTX_OK;
}

/* call_try sends the Try of branch (borrowed) number n and fills *ret. */
static int call_try(dtx_tcc_tx *tx, const Dtx__V1__TccBranch *branch,
                    uint32_t n, unsigned timeout_ms, dtx_try_result *ret)
{
	Dtx__V1__BranchCall call = DTX__V1__BRANCH_CALL__INIT;
	Dtx__V1__BranchReply *rep;
	char tp[TRACE_PARENT_LEN + 1];
	trace_ctx span;
	int rv;

	/* the span dtxd would give this Try (trace.h): the participant sees
	 * one span per branch op whoever calls it */
	if (tx->traced) {
		trace_child(&tx->trace, tx->gid, n, DTX_OP_TRY, &span);
		trace_format(&span, tp);
		call.traceparent = tp;
	}
	call.has_version = call.has_branch = call.has_op = 1;
	call.version = DTX__V1__VERSION__VERSION_1;
	call.gid = tx->gid;
	call.branch = n;
	call.op = DTX__V1__OP__OP_TRY;
	call.handler = branch->try_;
	call.has_payload = branch->has_payload;
	call.payload = branch->payload;
	call.has_attempt = 1;
	call.attempt = 1;
	/* the deadline BeginTcc answered with: past it the coordinator
	 * cancels, so a Try delivered later must not reserve */
	call.has_deadline_unix_ms = tx->deadline_unix_ms > 0 &&
	                            tx->deadline_unix_ms <= WIRE_UNIX_MS_MAX;
	call.deadline_unix_ms = tx->deadline_unix_ms;
	rv = sdk_client_branch_call(tx->client, branch->participant_url, &call,
	                            timeout_ms, &rep);
	if (rv != DTX_OK)
		return rv;
	memset(ret, 0, sizeof(*ret));
	ret->status = (dtx_status)rep->status;
	sdk_strlcpy(ret->message, sizeof(ret->message), rep->message);
	if (rep->has_result) {
		ret->result_len = rep->result.len < sizeof(ret->result)
		                          ? rep->result.len
		                          : sizeof(ret->result);
		memcpy(ret->result, rep->result.data, ret->result_len);
	}
	wire_branch_reply_free(rep);
	return DTX_OK;
}

int dtx_tcc_try(dtx_tcc_tx *tx, const char *url, const char *try_h,
                const char *confirm_h, const char *cancel_h,
                const void *payload, size_t len, unsigned timeout_ms,
                dtx_try_result *ret_result)
{
	Dtx__V1__TccBranch *branch;
	uint32_t n;
	int rv;

	if (tx == NULL || ret_result == NULL)
		return DTX_EINVAL;
	if ((rv = check_branch(url, try_h, confirm_h, cancel_h, payload,
	                       len)) != DTX_OK)
		return rv;
	if (tx->nbranches >= WIRE_MAX_STEPS_DEFAULT)
		return DTX_ELIMIT;
	if (timeout_ms == 0)
		timeout_ms = TRY_TIMEOUT_DEFAULT_MS;
	rv = branch_new(url, try_h, confirm_h, cancel_h, payload, len,
	                timeout_ms, &branch);
	if (rv != DTX_OK)
		return rv;
	n = tx->nbranches;
	rv = register_branch(tx, branch); /* 1: durable first */
	if (rv == DTX_OK)
		rv = call_try(tx, branch, n, timeout_ms, ret_result); /* 2 */
	branch_free(branch);
	if (rv == DTX_OK && ret_result->status == DTX_STATUS_OK)
		tx->ntried_ok++;
	else
		tx->failed = true;
	return rv;
}

/* finish sends Finish for tx (commit or abort, with reason borrowed). */
static int finish(dtx_tcc_tx *tx, bool commit, const char *reason,
                  unsigned wait_ms, dtx_tx_info *ret_info)
{
	Dtx__V1__ClientRequest req = DTX__V1__CLIENT_REQUEST__INIT;
	Dtx__V1__Finish f = DTX__V1__FINISH__INIT;
	char text[256];

	f.gid = tx->gid;
	f.has_commit = 1;
	f.commit = commit;
	f.has_branches = 1;
	f.branches = tx->ntried_ok;
	if (reason != NULL) {
		sdk_text_copy(text, sizeof(text), reason);
		f.reason = text;
	}
	req.body_case = DTX__V1__CLIENT_REQUEST__BODY_FINISH;
	req.finish = &f;
	return sdk_client_call(tx->client, &req, wait_ms, ret_info);
}

int dtx_tcc_commit(dtx_tcc_tx *tx, unsigned wait_ms, dtx_tx_info *ret_info)
{
	if (tx == NULL || ret_info == NULL)
		return DTX_EINVAL;
	if (tx->failed || tx->ntried_ok != tx->nbranches)
		return DTX_EINVAL; /* a Try did not answer OK: abort */
	return finish(tx, true, NULL, wait_ms, ret_info);
}

int dtx_tcc_abort(dtx_tcc_tx *tx, const char *reason, unsigned wait_ms,
                  dtx_tx_info *ret_info)
{
	if (tx == NULL || ret_info == NULL)
		return DTX_EINVAL;
	return finish(tx, false, reason, wait_ms, ret_info);
}
