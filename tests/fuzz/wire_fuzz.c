/*
 * wire_fuzz.c - a libFuzzer target for every decoder of common/wire.c, the
 * one module that reads bytes from the network (and from the log).
 *
 * Each input goes to every decoder; a decoded message is packed again and
 * decoded once more (what the codec accepts it must be able to write). The
 * input's first byte also picks the batch size for the batch-reply decoder
 * and the input, cut at its first NUL, is a URL for wire_url_check.
 * Built and run by tests/fuzz/run.sh (clang, -fsanitize=fuzzer,address,
 * undefined), not by the test suite.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dtx/dtx.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* packed packs m into a new buffer (*ret_len bytes, freed by the caller);
 * what the codec accepted it must be able to write. */
static uint8_t *packed(const ProtobufCMessage *m, size_t *ret_len)
{
	uint8_t *buf;

	if (wire_pack_alloc(m, &buf, ret_len) != DTX_OK)
		abort();
	return buf;
}

/* The repack_* functions pack a decoded message and decode it again: a
 * message that passed the checks must pass them again. */
static void repack_request(const Dtx__V1__ClientRequest *m)
{
	Dtx__V1__ClientRequest *again = NULL;
	size_t len;
	uint8_t *buf = packed(&m->base, &len);

	if (wire_client_request_decode(buf, len, NULL, &again, NULL, 0) !=
	    DTX_OK)
		abort();
	wire_client_request_free(again);
	free(buf);
}

static void repack_reply(const Dtx__V1__ClientReply *m)
{
	Dtx__V1__ClientReply *again = NULL;
	size_t len;
	uint8_t *buf = packed(&m->base, &len);

	if (wire_client_reply_decode(buf, len, &again, NULL, 0) != DTX_OK)
		abort();
	wire_client_reply_free(again);
	free(buf);
}

static void repack_branch_reply(const Dtx__V1__BranchReply *m)
{
	Dtx__V1__BranchReply *again = NULL;
	size_t len;
	uint8_t *buf = packed(&m->base, &len);

	if (wire_branch_reply_decode(buf, len, &again, NULL, 0) != DTX_OK)
		abort();
	wire_branch_reply_free(again);
	free(buf);
}

static void repack_admin_request(const Dtx__V1__AdminRequest *m)
{
	Dtx__V1__AdminRequest *again = NULL;
	size_t len;
	uint8_t *buf = packed(&m->base, &len);

	if (wire_admin_request_decode(buf, len, &again, NULL, 0) != DTX_OK)
		abort();
	wire_admin_request_free(again);
	free(buf);
}

static void client_side(const uint8_t *data, size_t size)
{
	Dtx__V1__ClientRequest *req = NULL;
	Dtx__V1__ClientReply *rep = NULL;
	char err[256];

	if (wire_client_request_decode(data, size, NULL, &req, err,
	                               sizeof(err)) == DTX_OK) {
		repack_request(req);
		wire_client_request_free(req);
	}
	if (wire_client_reply_decode(data, size, &rep, err, sizeof(err)) ==
	    DTX_OK) {
		repack_reply(rep);
		wire_client_reply_free(rep);
	}
}

static void branch_side(const uint8_t *data, size_t size)
{
	Dtx__V1__BranchCall *call = NULL;
	Dtx__V1__BranchReply *rep = NULL;
	char err[256];
	size_t n = size > 0 ? data[0] % (WIRE_BATCH_MAX + 2) : 1;

	if (wire_branch_calls_decode(data, size, NULL, &call, err,
	                             sizeof(err)) == DTX_OK) {
		for (size_t i = 0; i < call->n_batch; i++)
			(void)wire_branch_call_check(call->batch[i], NULL, err,
			                             sizeof(err));
		wire_branch_call_free(call);
	}
	if (wire_branch_replies_decode(data, size, n, &rep, err, sizeof(err)) ==
	    DTX_OK)
		wire_branch_reply_free(rep);
	if (wire_branch_reply_decode(data, size, &rep, err, sizeof(err)) ==
	    DTX_OK) {
		repack_branch_reply(rep);
		wire_branch_reply_free(rep);
	}
}

static void admin_side(const uint8_t *data, size_t size)
{
	Dtx__V1__AdminRequest *req = NULL;
	Dtx__V1__AdminReply *rep = NULL;
	char err[256];

	if (wire_admin_request_decode(data, size, &req, err, sizeof(err)) ==
	    DTX_OK) {
		repack_admin_request(req);
		wire_admin_request_free(req);
	}
	if (wire_admin_reply_decode(data, size, &rep, err, sizeof(err)) ==
	    DTX_OK)
		wire_admin_reply_free(rep);
}

static void log_side(const uint8_t *data, size_t size)
{
	Dtx__V1__LogTx *tx = NULL;
	Dtx__V1__LogStep *st = NULL;
	Dtx__V1__LogEvent *ev = NULL;

	if (wire_log_tx_decode(data, size, &tx) == DTX_OK)
		wire_log_tx_free(tx);
	if (wire_log_step_decode(data, size, &st) == DTX_OK)
		wire_log_step_free(st);
	if (wire_log_event_decode(data, size, &ev) == DTX_OK)
		wire_log_event_free(ev);
}

static void url_side(const uint8_t *data, size_t size)
{
	char *url = malloc(size + 1);
	char err[160];

	if (url == NULL)
		return;
	memcpy(url, data, size);
	url[size] = '\0';
	(void)wire_url_check(url, err, sizeof(err));
	free(url);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	client_side(data, size);
	branch_side(data, size);
	admin_side(data, size);
	log_side(data, size);
	url_side(data, size);
	return 0;
}
