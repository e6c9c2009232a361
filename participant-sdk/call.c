/*
 * call.c - dtx_call: the branch call a handler reads, and the reply message
 * and result it writes.
 *
 * Owns the reply buffers of one worker thread: they are kept between calls
 * and only grow (message up to WIRE_MESSAGE_MAX bytes, result up to the
 * participant's result_max), so a steady workload allocates nothing.
 * Borrows the decoded BranchCall, and with a store the call's nested
 * transaction (set by barrier.c), for the duration of one handler run.
 * Never does I/O and never touches nng.
 *
 * Threads: a dtx_call belongs to one worker thread; no locking.
 */
#include <stdlib.h>
#include <string.h>

#include "sdk.h"
#include "trace.h"

void sdk_call_init(dtx_call *call, size_t result_max)
{
	memset(call, 0, sizeof(*call));
	call->result_max = result_max;
}

void sdk_call_fini(dtx_call *call)
{
	free(call->message);
	free(call->result);
	memset(call, 0, sizeof(*call));
}

/* read_trace takes msg's traceparent if it is valid: a receiver ignores
 * an invalid one (W3C Trace Context, 3.2.2.3), and tracing must never
 * fail a business call; call->trace_invalid tells the caller to warn. */
static void read_trace(dtx_call *call, const Dtx__V1__BranchCall *msg)
{
	trace_ctx tc;

	call->traceparent = NULL;
	call->trace_invalid = false;
	call->trace_id[0] = call->span_id[0] = '\0';
	if (msg == NULL || msg->traceparent == NULL)
		return;
	if (trace_parse(msg->traceparent, &tc, NULL, 0) != DTX_OK) {
		call->trace_invalid = true;
		return;
	}
	call->traceparent = msg->traceparent;
	trace_id_hex(&tc, call->trace_id);
	trace_span_hex(&tc, call->span_id);
}

void sdk_call_begin(dtx_call *call, const Dtx__V1__BranchCall *msg)
{
	call->msg = msg;
	call->txn = NULL;
	call->unknown_handler = false;
	read_trace(call, msg);
	sdk_call_reset(call);
}

void sdk_call_about(const dtx_call *call, dtx_log_record *ret_about)
{
	const Dtx__V1__BranchCall *m = call->msg;

	*ret_about = (dtx_log_record){.branch = -1};
	if (m == NULL)
		return;
	ret_about->gid = m->gid;
	ret_about->branch = m->branch;
	ret_about->op = (int)m->op;
	ret_about->handler = m->handler;
	ret_about->trace_id = call->trace_id[0] ? call->trace_id : NULL;
	ret_about->span_id = call->span_id[0] ? call->span_id : NULL;
}

void sdk_call_end(dtx_call *call)
{
	call->msg = NULL;
	call->txn = NULL;
}

void sdk_call_reset(dtx_call *call)
{
	call->message_len = 0;
	call->result_len = 0;
	if (call->message != NULL)
		call->message[0] = '\0';
}

/* grow returns buf (owned, *cap bytes) made at least need bytes, keeping
 * its contents and updating *cap, or NULL when out of memory (buf is then
 * still valid and owned by the caller). need must be > 0. */
static void *grow(void *buf, size_t *cap, size_t need)
{
	size_t ncap = *cap ? *cap : 64;
	void *nbuf;

	if (need <= *cap)
		return buf;
	while (ncap < need)
		ncap *= 2;
	nbuf = realloc(buf, ncap);
	if (nbuf != NULL)
		*cap = ncap;
	return nbuf;
}

/* message_reserve makes call->message hold need bytes. Errors: DTX_ENOMEM. */
static int message_reserve(dtx_call *call, size_t need)
{
	char *buf = grow(call->message, &call->message_cap, need);

	if (buf == NULL)
		return DTX_ENOMEM;
	call->message = buf;
	return DTX_OK;
}

int sdk_call_set_text(dtx_call *call, const char *text)
{
	int rv = message_reserve(call, WIRE_MESSAGE_MAX + 1);

	if (rv != DTX_OK)
		return rv;
	call->message_len =
	        sdk_text_copy(call->message, WIRE_MESSAGE_MAX + 1, text);
	return DTX_OK;
}

int sdk_call_set_reply(dtx_call *call, const void *msg, size_t mlen,
                       const void *res, size_t rlen)
{
	int rv;

	if (mlen > WIRE_MESSAGE_MAX)
		return DTX_ETOOBIG;
	if ((rv = dtx_call_set_result(call, res, rlen)) != DTX_OK)
		return rv;
	if ((rv = message_reserve(call, mlen + 1)) != DTX_OK)
		return rv;
	if (mlen > 0)
		memcpy(call->message, msg, mlen);
	call->message[mlen] = '\0';
	call->message_len = mlen;
	return DTX_OK;
}

void sdk_call_reply(dtx_call *call, dtx_status status,
                    Dtx__V1__BranchReply *ret_reply)
{
	ret_reply->has_version = 1;
	ret_reply->version = DTX__V1__VERSION__VERSION_1;
	ret_reply->has_status = 1;
	ret_reply->status = (Dtx__V1__BranchStatus)status;
	ret_reply->message = call->message_len ? call->message : NULL;
	ret_reply->has_result = call->result_len > 0;
	ret_reply->result.data = call->result;
	ret_reply->result.len = call->result_len;
	/* the cause rides beside FAIL: a coordinator that predates it reads
	 * the FAIL it always read (dtx.proto, BranchCause) */
	ret_reply->has_cause = call->unknown_handler;
	ret_reply->cause = DTX__V1__BRANCH_CAUSE__BRANCH_UNKNOWN_HANDLER;
}

/* ---- public getters and setters ---------------------------------------- */

const char *dtx_call_gid(const dtx_call *call)
{
	if (call == NULL || call->msg == NULL || call->msg->gid == NULL)
		return "";
	return call->msg->gid;
}

uint32_t dtx_call_branch(const dtx_call *call)
{
	if (call == NULL || call->msg == NULL)
		return 0;
	return call->msg->branch;
}

dtx_op dtx_call_op(const dtx_call *call)
{
	if (call == NULL || call->msg == NULL)
		return (dtx_op)0;
	return (dtx_op)call->msg->op;
}

const char *dtx_call_handler(const dtx_call *call)
{
	if (call == NULL || call->msg == NULL || call->msg->handler == NULL)
		return "";
	return call->msg->handler;
}

int64_t dtx_call_deadline_unix_ms(const dtx_call *call)
{
	if (call == NULL || call->msg == NULL ||
	    !call->msg->has_deadline_unix_ms)
		return 0;
	return call->msg->deadline_unix_ms; /* wire.c: 1..WIRE_UNIX_MS_MAX */
}

const char *dtx_call_traceparent(const dtx_call *call)
{
	return call == NULL ? NULL : call->traceparent;
}

uint32_t dtx_call_attempt(const dtx_call *call)
{
	if (call == NULL || call->msg == NULL || !call->msg->has_attempt ||
	    call->msg->attempt == 0)
		return 1;
	return call->msg->attempt;
}

const void *dtx_call_payload(const dtx_call *call, size_t *ret_len)
{
	size_t len = 0;
	const void *data = NULL;

	if (call != NULL && call->msg != NULL && call->msg->has_payload &&
	    call->msg->payload.len > 0) {
		data = call->msg->payload.data;
		len = call->msg->payload.len;
	}
	if (ret_len != NULL)
		*ret_len = len;
	return data;
}

dtx_txn *dtx_call_txn(dtx_call *call)
{
	return call == NULL ? NULL : call->txn;
}

/* dtx_call_set_message also refuses text that is not valid UTF-8 with
 * DTX_EINVAL: the reply carries it in a protobuf `string`, and the
 * coordinator refuses a reply whose strings are not UTF-8. */
int dtx_call_set_message(dtx_call *call, const char *msg)
{
	size_t len;
	int rv;

	if (call == NULL || msg == NULL)
		return DTX_EINVAL;
	len = strnlen(msg, WIRE_MESSAGE_MAX + 1);
	if (len > WIRE_MESSAGE_MAX)
		return DTX_ETOOBIG;
	if (!wire_utf8_is_valid(msg, len))
		return DTX_EINVAL;
	rv = message_reserve(call, len + 1);
	if (rv != DTX_OK)
		return rv;
	memcpy(call->message, msg, len + 1);
	call->message_len = len;
	return DTX_OK;
}

int dtx_call_set_result(dtx_call *call, const void *data, size_t len)
{
	uint8_t *buf;

	if (call == NULL || (data == NULL && len > 0))
		return DTX_EINVAL;
	if (len > call->result_max)
		return DTX_ETOOBIG;
	if (len > 0) {
		buf = grow(call->result, &call->result_cap, len);
		if (buf == NULL)
			return DTX_ENOMEM;
		call->result = buf;
		memcpy(call->result, data, len);
	}
	call->result_len = len;
	return DTX_OK;
}
