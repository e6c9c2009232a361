/*
 * trace.c - W3C traceparent parsing, formatting and child spans (see
 * trace.h). Never allocates, never prints, never does I/O.
 */
#include "trace.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "dtx/dtx.h"

static int fail(char *errbuf, size_t errlen, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int fail(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errbuf != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(errbuf, errlen, fmt, ap);
		va_end(ap);
	}
	return DTX_EINVAL;
}

/* hex_value: the value of a lowercase hex digit, or -1 (uppercase is not
 * HEXDIGLC: the spec refuses it). */
static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* read_hex decodes n bytes from 2n lowercase hex digits at s. */
static bool read_hex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static bool all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

int trace_parse(const char *s, trace_ctx *ret_ctx, char *errbuf, size_t errlen)
{
	trace_ctx c;
	size_t len = s != NULL ? strnlen(s, TRACE_PARENT_LEN + 1) : 0;

	if (s == NULL || len == 0)
		return fail(errbuf, errlen, "traceparent is empty");
	if (s[0] != '0' || s[1] != '0' || len < 3 || s[2] != '-')
		return fail(errbuf, errlen,
		            "traceparent version is not 00 (\"00-\" first)");
	if (len != TRACE_PARENT_LEN)
		return fail(errbuf, errlen,
		            "traceparent is not %d bytes "
		            "(00-<32 hex>-<16 hex>-<2 hex>)",
		            TRACE_PARENT_LEN);
	if (s[35] != '-' || s[52] != '-')
		return fail(errbuf, errlen,
		            "traceparent fields are not "
		            "separated by '-' at 35 and 52");
	if (!read_hex(s + 3, c.trace_id, 16) ||
	    !read_hex(s + 36, c.parent_id, 8) || !read_hex(s + 53, &c.flags, 1))
		return fail(errbuf, errlen,
		            "traceparent has a character that "
		            "is not lowercase hex");
	if (all_zero(c.trace_id, 16))
		return fail(errbuf, errlen, "traceparent trace-id is all zero");
	if (all_zero(c.parent_id, 8))
		return fail(errbuf, errlen,
		            "traceparent parent-id is all zero");
	*ret_ctx = c;
	return DTX_OK;
}

static void write_hex(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

void trace_format(const trace_ctx *ctx, char out[TRACE_PARENT_LEN + 1])
{
	memcpy(out, "00-", 3);
	write_hex(ctx->trace_id, 16, out + 3);
	out[35] = '-';
	write_hex(ctx->parent_id, 8, out + 36);
	out[52] = '-';
	write_hex(&ctx->flags, 1, out + 53);
}

void trace_id_hex(const trace_ctx *ctx, char out[TRACE_ID_HEX + 1])
{
	write_hex(ctx->trace_id, 16, out);
}

void trace_span_hex(const trace_ctx *ctx, char out[TRACE_SPAN_HEX + 1])
{
	write_hex(ctx->parent_id, 8, out);
}

/* fnv1a folds n bytes into the 64-bit FNV-1a hash h. A span id must be
 * unique within its trace, not secret: a 64-bit hash of distinct inputs
 * serves. */
static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

void trace_child(const trace_ctx *parent, const char *gid, uint32_t branch,
                 int op, trace_ctx *ret_child)
{
	uint64_t h = 0xcbf29ce484222325ull;
	uint8_t tail[5] = {(uint8_t)(branch >> 24), (uint8_t)(branch >> 16),
	                   (uint8_t)(branch >> 8), (uint8_t)branch,
	                   (uint8_t)op};

	h = fnv1a(h, parent->trace_id, sizeof(parent->trace_id));
	h = fnv1a(h, parent->parent_id, sizeof(parent->parent_id));
	h = fnv1a(h, gid, strlen(gid) + 1);
	h = fnv1a(h, tail, sizeof(tail));
	if (h == 0)
		h = 1; /* an all-zero parent-id is invalid */
	*ret_child = *parent;
	for (int i = 0; i < 8; i++)
		ret_child->parent_id[i] = (uint8_t)(h >> (56 - 8 * i));
}
