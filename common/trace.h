/*
 * trace.h - W3C Trace Context: the traceparent header, version 00
 * (https://www.w3.org/TR/trace-context/, section 3.2), as an initiator
 * gives it to a transaction and as dtxd passes it on to each branch call.
 *
 * A traceparent is exactly 55 bytes: "00-" 32 lowercase hex (trace-id)
 * "-" 16 lowercase hex (parent-id) "-" 2 lowercase hex (trace-flags).
 * An all-zero trace-id or parent-id is invalid; so are uppercase hex,
 * another version (this build speaks 00 only; "ff" is never valid) and
 * any other length. Flags other than "sampled" (0x01) are kept as given.
 *
 * A branch call carries a child span: the initiator's trace-id and
 * flags, and a parent-id made from (the initiator's parent-id, gid,
 * branch, op), the span of dtxd's call of that branch op. The same
 * inputs give the same id, so every attempt of a branch op, before and
 * after a restart of dtxd, carries one span id, and dtxd's log lines
 * about that call name it: nothing more is stored.
 *
 * Pure: no allocation, no I/O, thread-safe.
 */
#ifndef DTX_COMMON_TRACE_H
#define DTX_COMMON_TRACE_H

#include <stddef.h>
#include <stdint.h>

#define TRACE_PARENT_LEN 55 /* bytes of a version 00 traceparent */
#define TRACE_ID_HEX     32
#define TRACE_SPAN_HEX   16

typedef struct trace_ctx {
	uint8_t trace_id[16];
	uint8_t parent_id[8];
	uint8_t flags;
} trace_ctx;

/* trace_parse reads the traceparent s (borrowed, NUL-terminated, may be
 * NULL) into *ret_ctx (written on success only). Errors: DTX_EINVAL, with
 * a one-line reason in errbuf (may be NULL) naming the first fault. */
int trace_parse(const char *s, trace_ctx *ret_ctx, char *errbuf, size_t errlen);

/* trace_format writes ctx as a traceparent into out (NUL-terminated). */
void trace_format(const trace_ctx *ctx, char out[TRACE_PARENT_LEN + 1]);

/* trace_child makes in *ret_child the span of dtxd's call of (gid, branch,
 * op) under parent (see the top comment). gid is borrowed. */
void trace_child(const trace_ctx *parent, const char *gid, uint32_t branch,
                 int op, trace_ctx *ret_child);

/* trace_id_hex / trace_span_hex write ctx's trace-id (32 hex digits) or
 * parent-id (16) into out, NUL-terminated. */
void trace_id_hex(const trace_ctx *ctx, char out[TRACE_ID_HEX + 1]);
void trace_span_hex(const trace_ctx *ctx, char out[TRACE_SPAN_HEX + 1]);

#endif
