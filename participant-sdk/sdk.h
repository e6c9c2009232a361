/*
 * sdk.h - libdtx internals shared by the SDK's modules (not installed).
 *
 * Every name here starts with sdk_ so that the dtx_* export list
 * (libdtx.sym) can never publish it. Nothing here includes nng: modules that
 * talk to nng (participant.c, client.c) include it themselves, and only
 * util.c compares nng's error codes.
 *
 * Module map:
 *   util.c         - log callback, nng error translation, string helpers
 *   call.c         - dtx_call: one decoded branch call + its reply buffers
 *   participant.c  - the rep0 server: work-item pool, worker threads
 *   saga_builder.c - dtx_saga: steps kept in their wire (SubmitSaga) form
 *   client.c       - the req0 client: one context + aio per request
 */
#ifndef DTX_SDK_H
#define DTX_SDK_H

#include <stddef.h>
#include <stdint.h>

#include "dtx/dtx.h"
#include "wire.h"

/* ---- util.c ------------------------------------------------------------ */

/* sdk_logf formats one diagnostic line (truncated to 512 bytes) and hands it
 * to the callback installed with dtx_set_log_cb, if any. fmt is borrowed.
 * Thread-safe as far as the callback is. */
void sdk_logf(dtx_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* sdk_err_from_nng translates an nng result code (0 or a positive NNG_E*)
 * into a dtx_err. The only function of libdtx that knows NNG_E* values. */
int sdk_err_from_nng(int nng_rv);

/* sdk_strlcpy copies src (borrowed; NULL copies "") into dst (borrowed, cap
 * bytes, cap >= 1), truncating, always NUL-terminating. */
void sdk_strlcpy(char *dst, size_t cap, const char *src);

/* sdk_text_copy copies src (borrowed, NUL-terminated) into dst (borrowed,
 * cap >= 1 bytes) as a string fit for a protobuf `string` field: truncated
 * on a UTF-8 character boundary to at most cap - 1 bytes, and with every
 * byte of an invalid UTF-8 text outside ASCII replaced by '?'. Returns the
 * length written. */
size_t sdk_text_copy(char *dst, size_t cap, const char *src);

/* ---- call.c ------------------------------------------------------------ */

/* struct dtx_call - one branch call as a handler sees it. A worker thread
 * owns one and reuses it (and its buffers) for every call it serves. */
struct dtx_call {
	const Dtx__V1__BranchCall *msg; /* borrowed while the handler runs */
	char *message;                  /* owned; NUL-terminated; may be NULL */
	size_t message_len;
	size_t message_cap;
	uint8_t *result; /* owned; may be NULL */
	size_t result_len;
	size_t result_cap;
	size_t result_max; /* largest result accepted (from max_msg_bytes) */
};

/* sdk_call_init prepares call (caller-owned memory) with no buffers;
 * result_max bounds dtx_call_set_result. sdk_call_fini frees the buffers. */
void sdk_call_init(dtx_call *call, size_t result_max);
void sdk_call_fini(dtx_call *call);

/* sdk_call_begin starts a new call on call: msg is borrowed until
 * sdk_call_end; message and result are reset to empty. msg may be NULL for a
 * call that failed to decode (the getters then return empty values). */
void sdk_call_begin(dtx_call *call, const Dtx__V1__BranchCall *msg);
void sdk_call_end(dtx_call *call);

/* sdk_call_set_text sets the reply message from SDK-made text (borrowed),
 * made safe with sdk_text_copy and truncated to WIRE_MESSAGE_MAX bytes.
 * Errors: DTX_ENOMEM. */
int sdk_call_set_text(dtx_call *call, const char *text);

/* sdk_call_reply fills *ret_reply (caller-owned, already initialised with
 * DTX__V1__BRANCH_REPLY__INIT) for status; its pointers borrow call's
 * buffers and stay valid until the next change to call. */
void sdk_call_reply(dtx_call *call, dtx_status status,
                    Dtx__V1__BranchReply *ret_reply);

/* ---- saga_builder.c ---------------------------------------------------- */

/* sdk_saga_view fills *ret_msg (caller-owned) with saga's SubmitSaga form.
 * Its pointers borrow saga's memory: valid until saga changes or is
 * destroyed. Nothing in it may be written through. */
void sdk_saga_view(const dtx_saga *saga, Dtx__V1__SubmitSaga *ret_msg);

/* sdk_saga_nsteps returns the number of steps added so far. */
size_t sdk_saga_nsteps(const dtx_saga *saga);

#endif
