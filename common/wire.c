/*
 * wire.c - the codec: packs and unpacks every dtx.v1 message, and validates
 * what protobuf-c 1.4.1 lets through (invalid UTF-8, out-of-range enums).
 *
 * The only file in the tree that calls protobuf-c. Never does I/O, never
 * keeps state between calls (thread-safe), never crashes on any input: every
 * decoder is a fuzz target.
 *
 * A decoded message is handed out only after its checks pass. The kind of
 * fault picks the error code, whichever message it is found in:
 *
 *   bytes that do not unpack, a message nested deeper than
 *   WIRE_MAX_DEPTH, a missing required field, an enum value
 *   outside its declared range, invalid UTF-8, no oneof body  -> DTX_EPROTO
 *   version absent or not VERSION_1                            -> DTX_EVERSION
 *   a gid or handler name that is absent/empty/out of charset,
 *   a saga with no steps, a URL that cannot be dialled (scheme,
 *   host, port, path), a string with a NUL byte, an integer
 *   outside its range (attempt 0, timeout_ms past an hour)    -> DTX_EINVAL
 *   a gid, handler name, URL, payload, message or step count
 *   past its limit                                          -> DTX_ETOOBIG
 *
 * Enums of messages must be a declared value other than UNSPECIFIED (Code
 * may be CODE_OK = 0); log records accept any declared value, including 0.
 * Steps are named by their 0-based index in error messages, as on the wire.
 *
 * Before protobuf-c sees any bytes, walk() reads the encoding itself: it
 * follows nested messages no deeper than WIRE_MAX_DEPTH (protobuf-c 1.4.1
 * recurses without a limit: a BranchReply batch nested 10,000 deep, 34 KB,
 * overflowed an nng thread's stack) and refuses a string field holding a
 * NUL byte (protobuf-c NUL-terminates strings, so "g1\0x" would read as
 * "g1" and could name another transaction) or invalid UTF-8. Why a depth
 * limit and not a schema without recursion: the walk protects every
 * message type, the ones added later included, and it is also where the
 * NUL check must happen, since protobuf-c forgets a string's length.
 */
#include "wire.h"

#include <assert.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtx/dtx.h"
#include "shard.h"
#include "trace.h"

/* ---- validation context ------------------------------------------------ */

/* vctx - where a check writes its one-line reason (errbuf may be NULL). */
struct vctx {
	char *errbuf;
	size_t errlen;
};

typedef int (*check_fn)(struct vctx *v, const void *msg,
                        const wire_limits *lim);

static const wire_limits default_limits = {
        .max_steps = WIRE_MAX_STEPS_DEFAULT,
        .max_payload = WIRE_MAX_PAYLOAD_DEFAULT,
};

static int fail(struct vctx *v, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int walk(struct vctx *v, const ProtobufCMessageDescriptor *desc,
                const uint8_t *p, size_t len, unsigned depth);

/* fail writes the formatted reason into v's buffer and returns code. */
static int fail(struct vctx *v, int code, const char *fmt, ...)
{
	va_list ap;

	if (v->errbuf != NULL && v->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(v->errbuf, v->errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* ---- character checks -------------------------------------------------- */

/* utf8_lead classifies a non-ASCII lead byte: the sequence length and the
 * range its second byte must fall in (which excludes overlong forms,
 * surrogates and code points past U+10FFFF, as RFC 3629 asks). */
static bool utf8_lead(unsigned char b, size_t *n, unsigned char *lo,
                      unsigned char *hi)
{
	*lo = 0x80;
	*hi = 0xbf;
	if (b >= 0xc2 && b <= 0xdf) {
		*n = 2;
	} else if (b >= 0xe0 && b <= 0xef) {
		*n = 3;
		*lo = b == 0xe0 ? 0xa0 : 0x80;
		*hi = b == 0xed ? 0x9f : 0xbf;
	} else if (b >= 0xf0 && b <= 0xf4) {
		*n = 4;
		*lo = b == 0xf0 ? 0x90 : 0x80;
		*hi = b == 0xf4 ? 0x8f : 0xbf;
	} else {
		return false;
	}
	return true;
}

/* utf8_char_len returns the length of the valid character at p (left > 0
 * bytes available), or 0 if there is none. */
static size_t utf8_char_len(const unsigned char *p, size_t left)
{
	size_t n;
	unsigned char lo, hi;

	if (p[0] < 0x80)
		return 1;
	if (!utf8_lead(p[0], &n, &lo, &hi) || left < n)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	}
	return n;
}

bool wire_utf8_is_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL)
		return len == 0;
	while (len > 0) {
		size_t n = utf8_char_len(p, len);

		if (n == 0)
			return false;
		p += n;
		len -= n;
	}
	return true;
}

/* has_control_char is true if the UTF-8 string s holds a C0 control, DEL,
 * or a C1 control (U+0080..U+009F, encoded 0xC2 0x80..0x9F). */
static bool has_control_char(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return true;
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			return true;
	}
	return false;
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
	       c == '-';
}

enum name_fault {
	NAME_OK,
	NAME_MISSING,
	NAME_EMPTY,
	NAME_TOO_LONG,
	NAME_BAD_CHAR,
};

/* name_fault says what, if anything, is wrong with s as a name of at most
 * max bytes. It reads at most max + 1 bytes of s. */
static enum name_fault name_fault(const char *s, size_t max)
{
	size_t i;

	if (s == NULL)
		return NAME_MISSING;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= max)
			return NAME_TOO_LONG;
		if (!is_name_char(s[i]))
			return NAME_BAD_CHAR;
	}
	return i == 0 ? NAME_EMPTY : NAME_OK;
}

bool wire_name_is_valid(const char *s, size_t max)
{
	return name_fault(s, max) == NAME_OK;
}

/* ---- field checks ------------------------------------------------------ */

static int check_version(struct vctx *v, bool has, uint32_t version)
{
	if (!has)
		return fail(v, DTX_EVERSION, "version is missing");
	if (version != DTX__V1__VERSION__VERSION_1)
		return fail(v, DTX_EVERSION, "unsupported version %u",
		            (unsigned)version);
	return DTX_OK;
}

static int need(struct vctx *v, bool has, const char *what)
{
	return has ? DTX_OK : fail(v, DTX_EPROTO, "%s is missing", what);
}

/* check_enum refuses a present value outside lo..hi. */
static int check_enum(struct vctx *v, const char *what, bool has, int value,
                      int lo, int hi)
{
	if (has && (value < lo || value > hi))
		return fail(v, DTX_EPROTO, "%s %d is out of range", what,
		            value);
	return DTX_OK;
}

/* check_text accepts an absent string, or valid UTF-8 of at most max bytes
 * (max 0: no limit). */
static int check_text(struct vctx *v, const char *what, const char *s,
                      size_t max)
{
	size_t len;

	if (s == NULL)
		return DTX_OK;
	len = strlen(s);
	if (max > 0 && len > max)
		return fail(v, DTX_ETOOBIG,
		            "%s is too long (%zu bytes, max %zu)", what, len,
		            max);
	if (!wire_utf8_is_valid(s, len))
		return fail(v, DTX_EPROTO, "%s is not valid UTF-8", what);
	return DTX_OK;
}

/* ---- business keys and labels ---- */

static int check_key(struct vctx *v, const char *key)
{
	int rv;

	if (key == NULL || key[0] == '\0')
		return fail(v, DTX_EINVAL, "the business key is empty");
	if ((rv = check_text(v, "the business key", key, WIRE_KEY_MAX)) !=
	    DTX_OK)
		return rv;
	if (has_control_char(key))
		return fail(v, DTX_EINVAL,
		            "the business key has control characters");
	return DTX_OK;
}

static bool is_label_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '/' ||
	       c == '-';
}

static int check_label(struct vctx *v, const char *label)
{
	size_t n = 0;
	int rv;

	if (label == NULL)
		return fail(v, DTX_EINVAL, "a label is missing");
	if ((rv = check_text(v, "a label", label, WIRE_LABEL_MAX)) != DTX_OK)
		return rv;
	while (is_label_name_char(label[n]))
		n++;
	if (n == 0 || n > 63 || label[n] != '=')
		return fail(v, DTX_EINVAL,
		            "label '%.64s' is not name=value (a name of 1..63 "
		            "of [A-Za-z0-9._/-])",
		            label);
	if (has_control_char(label))
		return fail(v, DTX_EINVAL, "a label has control characters");
	return DTX_OK;
}

/* check_labels checks a transaction's (or a filter's) labels: each one,
 * their count, and (unique) that no name comes twice. */
static int check_labels(struct vctx *v, char *const *labels, size_t n,
                        bool unique)
{
	int rv;

	if (n > WIRE_LABELS_MAX)
		return fail(v, DTX_ELIMIT, "%zu labels (max %d)", n,
		            WIRE_LABELS_MAX);
	for (size_t i = 0; i < n; i++) {
		if ((rv = check_label(v, labels[i])) != DTX_OK)
			return rv;
		for (size_t k = 0; unique && k < i; k++) {
			size_t len = strcspn(labels[k], "=");
			if (strncmp(labels[k], labels[i], len + 1) == 0)
				return fail(v, DTX_EINVAL,
				            "label name '%.*s' given twice",
				            (int)len, labels[k]);
		}
	}
	return DTX_OK;
}

/* check_traceparent checks a submit's W3C traceparent (common/trace.h):
 * an invalid one refuses the submit, naming the fault. */
static int check_traceparent(struct vctx *v, const char *tp)
{
	char why[160];
	trace_ctx c;

	if (trace_parse(tp, &c, why, sizeof(why)) != DTX_OK)
		return fail(v, DTX_EINVAL, "%s", why);
	return DTX_OK;
}

/* check_tags checks an optional key, labels and traceparent of a submit. */
static int check_tags(struct vctx *v, const char *key, char *const *labels,
                      size_t n, const char *traceparent)
{
	int rv;

	if (key != NULL && (rv = check_key(v, key)) != DTX_OK)
		return rv;
	if (traceparent != NULL &&
	    (rv = check_traceparent(v, traceparent)) != DTX_OK)
		return rv;
	return check_labels(v, labels, n, true);
}

int wire_key_check(const char *key, char *errbuf, size_t errlen)
{
	struct vctx v = {errbuf, errlen};

	return check_key(&v, key);
}

int wire_label_check(const char *label, char *errbuf, size_t errlen)
{
	struct vctx v = {errbuf, errlen};

	return check_label(&v, label);
}

/* check_name checks a gid or handler name; where prefixes the message
 * ("step 2: "), too_long is the code for a name past max. */
static int check_name(struct vctx *v, const char *where, const char *what,
                      const char *s, size_t max, int too_long)
{
	switch (name_fault(s, max)) {
	case NAME_OK:
		return DTX_OK;
	case NAME_MISSING:
		return fail(v, DTX_EINVAL, "%s%s is missing", where, what);
	case NAME_EMPTY:
		return fail(v, DTX_EINVAL, "%s%s is empty", where, what);
	case NAME_TOO_LONG:
		return fail(v, too_long, "%s%s is too long (max %zu bytes)",
		            where, what, max);
	case NAME_BAD_CHAR:
		break;
	}
	return fail(v, DTX_EINVAL, "%s%s has invalid characters", where, what);
}

static int check_handler(struct vctx *v, const char *where, const char *what,
                         const char *s)
{
	return check_name(v, where, what, s, DTX_HANDLER_MAX, DTX_ETOOBIG);
}

static int check_gid(struct vctx *v, const char *gid)
{
	return check_name(v, "", "gid", gid, DTX_GID_MAX, DTX_ETOOBIG);
}

/* url_port_ok is true if s is a decimal port 1..65535 and nothing else. */
static bool url_port_ok(const char *s)
{
	unsigned long port = 0;
	size_t i;

	for (i = 0; s[i] >= '0' && s[i] <= '9' && i < 5; i++)
		port = port * 10 + (unsigned long)(s[i] - '0');
	return i > 0 && s[i] == '\0' && port >= 1 && port <= 65535;
}

/* url_host_ok is true if the n bytes at h are a host nng can resolve: a
 * bracketed IPv6 address, or a name / IPv4 address of letters, digits,
 * '.', '-' and '_'. An empty host (listen-anywhere) cannot be dialled. */
static bool url_host_ok(const char *h, size_t n)
{
	if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
		for (size_t i = 1; i + 1 < n; i++)
			if (!(h[i] == ':' || h[i] == '.' ||
			      (h[i] >= '0' && h[i] <= '9') ||
			      (h[i] >= 'a' && h[i] <= 'f') ||
			      (h[i] >= 'A' && h[i] <= 'F')))
				return false;
		return n > 2;
	}
	for (size_t i = 0; i < n; i++)
		if (!is_name_char(h[i]) || h[i] == ':')
			return false;
	return n > 0;
}

/* url_tcp_check checks the part after "tcp://": HOST:PORT. */
static int url_tcp_check(struct vctx *v, const char *where, const char *rest)
{
	const char *colon = strrchr(rest, ':');

	if (colon == NULL || !url_host_ok(rest, (size_t)(colon - rest)))
		return fail(v, DTX_EINVAL,
		            "%sparticipant URL needs HOST:PORT after the "
		            "scheme",
		            where);
	if (!url_port_ok(colon + 1))
		return fail(v, DTX_EINVAL,
		            "%sparticipant URL port \"%.16s\" is not 1..65535",
		            where, colon + 1);
	return DTX_OK;
}

/* check_url checks a participant URL the coordinator will dial (see
 * wire_url_check); where prefixes the message ("step 2: "). */
static int check_url(struct vctx *v, const char *where, const char *url)
{
	static const char *const tcp[] = {"tcp://",      "tcp4://",
	                                  "tcp6://",     "tls+tcp://",
	                                  "tls+tcp4://", "tls+tcp6://"};
	const char *sep;
	size_t len;

	if (url == NULL)
		return fail(v, DTX_EINVAL, "%sparticipant URL is missing",
		            where);
	len = strlen(url);
	if (len == 0)
		return fail(v, DTX_EINVAL, "%sparticipant URL is empty", where);
	if (len > DTX_URL_MAX)
		return fail(v, DTX_ETOOBIG,
		            "%sparticipant URL is too long (max %d bytes)",
		            where, DTX_URL_MAX);
	if (!wire_utf8_is_valid(url, len))
		return fail(v, DTX_EPROTO,
		            "%sparticipant URL is not valid UTF-8", where);
	if (has_control_char(url))
		return fail(v, DTX_EINVAL,
		            "%sparticipant URL has control characters", where);
	for (size_t i = 0; i < sizeof(tcp) / sizeof(tcp[0]); i++)
		if (strncmp(url, tcp[i], strlen(tcp[i])) == 0)
			return url_tcp_check(v, where, url + strlen(tcp[i]));
	if (strncmp(url, "ipc://", 6) == 0) {
		if (len == 6 || len - 6 > WIRE_IPC_PATH_MAX)
			return fail(v, DTX_EINVAL,
			            "%sparticipant URL ipc path must be 1..%d "
			            "bytes",
			            where, WIRE_IPC_PATH_MAX);
		return DTX_OK;
	}
	sep = strstr(url, "://");
	if (sep == NULL)
		return fail(v, DTX_EINVAL,
		            "%sparticipant URL has no scheme (tcp://HOST:PORT "
		            "or ipc://PATH)",
		            where);
	return fail(v, DTX_EINVAL,
	            "%sparticipant URL scheme \"%.*s\" is not supported "
	            "(tcp://, tcp4://, tcp6://, tls+tcp://, ipc://)",
	            where, (int)(sep - url > 16 ? 16 : sep - url), url);
}

int wire_scheme_check(const char *url, char *errbuf, size_t errlen)
{
	static const char *const ok[] = {
	        "tcp://",     "tcp4://",     "tcp6://",    "ipc://",
	        "tls+tcp://", "tls+tcp4://", "tls+tcp6://"};
	struct vctx v = {errbuf, errlen};
	const char *sep;

	if (url == NULL)
		return fail(&v, DTX_EINVAL, "no URL");
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strncmp(url, ok[i], strlen(ok[i])) == 0)
			return DTX_OK;
	if ((sep = strstr(url, "://")) == NULL)
		return fail(&v, DTX_EINVAL,
		            "URL \"%.64s\" has no scheme (tcp://HOST:PORT or "
		            "ipc://PATH)",
		            url);
	return fail(&v, DTX_EINVAL,
	            "unsupported URL scheme \"%.*s://\" in \"%.64s\": dtx "
	            "speaks tcp://, ipc:// and tls+tcp://",
	            (int)(sep - url > 16 ? 16 : sep - url), url, url);
}

int wire_url_check(const char *url, char *errbuf, size_t errlen)
{
	struct vctx v = {errbuf, errlen};

	return check_url(&v, "", url);
}

/* check_timeout refuses a per-call deadline past WIRE_TIMEOUT_MAX_MS (0 or
 * absent means the coordinator's default). */
static int check_timeout(struct vctx *v, const char *where, bool has,
                         uint32_t ms)
{
	if (has && ms > WIRE_TIMEOUT_MAX_MS)
		return fail(v, DTX_EINVAL,
		            "%stimeout_ms %u is past the limit (max %u)", where,
		            (unsigned)ms, WIRE_TIMEOUT_MAX_MS);
	return DTX_OK;
}

static int check_payload(struct vctx *v, const char *where, bool has,
                         const ProtobufCBinaryData *p, size_t max)
{
	if (has && p->len > max)
		return fail(v, DTX_ETOOBIG,
		            "%spayload is too big (%zu bytes, max %zu)", where,
		            p->len, max);
	return DTX_OK;
}

/* ---- ClientRequest ----------------------------------------------------- */

static int check_saga_step(struct vctx *v, const Dtx__V1__SagaStep *st,
                           size_t i, const wire_limits *lim)
{
	char where[32];
	int rv;

	snprintf(where, sizeof(where), "step %zu: ", i);
	rv = check_url(v, where, st->participant_url);
	if (rv == DTX_OK)
		rv = check_handler(v, where, "action handler name", st->action);
	if (rv == DTX_OK)
		rv = check_handler(v, where, "compensate handler name",
		                   st->compensate);
	if (rv == DTX_OK)
		rv = check_payload(v, where, st->has_payload, &st->payload,
		                   lim->max_payload);
	if (rv == DTX_OK)
		rv = check_timeout(v, where, st->has_timeout_ms,
		                   st->timeout_ms);
	return rv;
}

static int check_submit(struct vctx *v, const Dtx__V1__SubmitSaga *s,
                        const wire_limits *lim)
{
	int rv;

	if (s->gid != NULL && (rv = check_gid(v, s->gid)) != DTX_OK)
		return rv;
	if (s->n_steps == 0)
		return fail(v, DTX_EINVAL, "saga has no steps");
	if (s->n_steps > lim->max_steps)
		return fail(v, DTX_ETOOBIG, "saga has %zu steps (max %u)",
		            s->n_steps, (unsigned)lim->max_steps);
	for (size_t i = 0; i < s->n_steps; i++) {
		if ((rv = check_saga_step(v, s->steps[i], i, lim)) != DTX_OK)
			return rv;
	}
	return check_tags(v, s->key, s->labels, s->n_labels, s->traceparent);
}

static int check_tcc_branch(struct vctx *v, const Dtx__V1__TccBranch *b,
                            size_t i, const wire_limits *lim)
{
	char where[32];
	int rv;

	snprintf(where, sizeof(where), "branch %zu: ", i);
	if (b == NULL)
		return fail(v, DTX_EPROTO, "%sbranch is missing", where);
	rv = check_url(v, where, b->participant_url);
	if (rv == DTX_OK)
		rv = check_handler(v, where, "try handler name", b->try_);
	if (rv == DTX_OK)
		rv = check_handler(v, where, "confirm handler name",
		                   b->confirm);
	if (rv == DTX_OK)
		rv = check_handler(v, where, "cancel handler name", b->cancel);
	if (rv == DTX_OK)
		rv = check_payload(v, where, b->has_payload, &b->payload,
		                   lim->max_payload);
	if (rv == DTX_OK)
		rv = check_timeout(v, where, b->has_timeout_ms, b->timeout_ms);
	return rv;
}

static int check_submit_tcc(struct vctx *v, const Dtx__V1__SubmitTcc *s,
                            const wire_limits *lim)
{
	int rv;

	if (s->gid != NULL && (rv = check_gid(v, s->gid)) != DTX_OK)
		return rv;
	if (s->n_branches == 0)
		return fail(v, DTX_EINVAL, "TCC transaction has no branches");
	if (s->n_branches > lim->max_steps)
		return fail(v, DTX_ETOOBIG,
		            "TCC transaction has %zu branches (max %u)",
		            s->n_branches, (unsigned)lim->max_steps);
	for (size_t i = 0; i < s->n_branches; i++) {
		rv = check_tcc_branch(v, s->branches[i], i, lim);
		if (rv != DTX_OK)
			return rv;
	}
	return check_tags(v, s->key, s->labels, s->n_labels, s->traceparent);
}

static int check_register(struct vctx *v, const Dtx__V1__RegisterBranch *r,
                          const wire_limits *lim)
{
	int rv = check_gid(v, r->gid);

	if (rv == DTX_OK)
		rv = need(v, r->has_branch, "branch");
	if (rv == DTX_OK && r->branch >= lim->max_steps)
		rv = fail(v, DTX_ETOOBIG,
		          "branch %u is past the limit (max %u)",
		          (unsigned)r->branch, (unsigned)lim->max_steps);
	if (rv == DTX_OK)
		rv = check_tcc_branch(v, r->spec, r->branch, lim);
	return rv;
}

static int check_finish(struct vctx *v, const Dtx__V1__Finish *f)
{
	int rv = check_gid(v, f->gid);

	if (rv == DTX_OK)
		rv = need(v, f->has_commit, "commit");
	if (rv == DTX_OK && f->commit)
		rv = need(v, f->has_branches, "branches");
	if (rv == DTX_OK)
		rv = check_text(v, "reason", f->reason, WIRE_MESSAGE_MAX);
	return rv;
}

static int check_final_query(struct vctx *v, const Dtx__V1__FinalQuery *q)
{
	int rv;

	if (q->n_gids == 0)
		return fail(v, DTX_EINVAL, "final query has no gids");
	if (q->n_gids > WIRE_FINAL_QUERY_MAX)
		return fail(v, DTX_ETOOBIG, "final query has %zu gids (max %d)",
		            q->n_gids, WIRE_FINAL_QUERY_MAX);
	for (size_t i = 0; i < q->n_gids; i++) {
		if ((rv = check_gid(v, q->gids[i])) != DTX_OK)
			return rv;
	}
	return DTX_OK;
}

static int check_client_request(struct vctx *v, const void *msg,
                                const wire_limits *lim)
{
	const Dtx__V1__ClientRequest *m = msg;
	int rv;

	if ((rv = check_version(v, m->has_version, m->version)) != DTX_OK)
		return rv;
	switch (m->body_case) {
	case DTX__V1__CLIENT_REQUEST__BODY_SUBMIT:
		return check_submit(v, m->submit, lim);
	case DTX__V1__CLIENT_REQUEST__BODY_QUERY:
		return check_gid(v, m->query->gid);
	case DTX__V1__CLIENT_REQUEST__BODY_SUBMIT_TCC:
		return check_submit_tcc(v, m->submit_tcc, lim);
	case DTX__V1__CLIENT_REQUEST__BODY_BEGIN_TCC:
		if (m->begin_tcc->gid != NULL &&
		    (rv = check_gid(v, m->begin_tcc->gid)) != DTX_OK)
			return rv;
		return check_tags(v, m->begin_tcc->key, m->begin_tcc->labels,
		                  m->begin_tcc->n_labels,
		                  m->begin_tcc->traceparent);
	case DTX__V1__CLIENT_REQUEST__BODY_REGISTER:
		return check_register(v, m->register_, lim);
	case DTX__V1__CLIENT_REQUEST__BODY_FINISH:
		return check_finish(v, m->finish);
	case DTX__V1__CLIENT_REQUEST__BODY_FINAL_QUERY:
		return check_final_query(v, m->final_query);
	case DTX__V1__CLIENT_REQUEST__BODY_TOPOLOGY:
		return DTX_OK;
	default:
		break;
	}
	return fail(v, DTX_EPROTO, "request has no body");
}

/* ---- ClientReply ------------------------------------------------------- */

static int check_step_info(struct vctx *v, const Dtx__V1__StepInfo *st)
{
	int rv = check_enum(v, "step state", st->has_state, (int)st->state,
	                    DTX__V1__STEP_STATE__STEP_PENDING,
	                    DTX__V1__STEP_STATE__STEP_CANCELLED);

	if (rv == DTX_OK)
		rv = check_text(v, "step last_error", st->last_error, 0);
	if (rv == DTX_OK)
		rv = check_text(v, "step action", st->action, 0);
	if (rv == DTX_OK)
		rv = check_text(v, "step compensate", st->compensate, 0);
	if (rv == DTX_OK)
		rv = check_text(v, "step confirm", st->confirm, 0);
	if (rv == DTX_OK)
		rv = check_text(v, "step participant_url", st->participant_url,
		                0);
	return rv;
}

static int check_tx_info(struct vctx *v, const Dtx__V1__TxInfo *tx)
{
	int rv;

	if (tx->gid != NULL && (rv = check_gid(v, tx->gid)) != DTX_OK)
		return rv;
	if ((rv = check_enum(v, "tx mode", tx->has_mode, (int)tx->mode,
	                     DTX__V1__MODE__MODE_SAGA,
	                     DTX__V1__MODE__MODE_TCC)) != DTX_OK)
		return rv;
	if ((rv = check_enum(v, "tx state", tx->has_state, (int)tx->state,
	                     DTX__V1__TX_STATE__TX_RUNNING,
	                     DTX__V1__TX_STATE__TX_CANCELLED)) != DTX_OK)
		return rv;
	if ((rv = check_text(v, "tx reason", tx->reason, 0)) != DTX_OK)
		return rv;
	for (size_t i = 0; i < tx->n_steps; i++) {
		if ((rv = check_step_info(v, tx->steps[i])) != DTX_OK)
			return rv;
	}
	return DTX_OK;
}

/* check_shard_owners checks the n owners a TopologyInfo lists. */
static int check_shard_owners(struct vctx *v, Dtx__V1__ShardOwner *const *o,
                              size_t n, uint32_t shards)
{
	int rv;

	if (n > SHARD_COUNT_MAX)
		return fail(v, DTX_ETOOBIG,
		            "topology lists %zu owners (max %d)", n,
		            SHARD_COUNT_MAX);
	for (size_t i = 0; i < n; i++) {
		if ((rv = need(v, o[i]->has_shard, "owner shard")) != DTX_OK)
			return rv;
		if (o[i]->shard >= shards)
			return fail(v, DTX_EPROTO,
			            "owner of shard %u of %u shards",
			            (unsigned)o[i]->shard, (unsigned)shards);
		if ((rv = check_url(v, "topology owner: ", o[i]->url)) !=
		    DTX_OK)
			return rv;
	}
	return DTX_OK;
}

/* check_topology checks a coordinator's TopologyInfo: every count and
 * shard number bounded by SHARD_COUNT_MAX, every URL one to dial. */
static int check_topology(struct vctx *v, const Dtx__V1__TopologyInfo *t)
{
	int rv;

	if ((rv = need(v, t->has_shards, "topology shards")) != DTX_OK)
		return rv;
	if (t->shards < 1 || t->shards > SHARD_COUNT_MAX)
		return fail(v, DTX_EPROTO, "topology shards %u is not 1..%d",
		            (unsigned)t->shards, SHARD_COUNT_MAX);
	if (t->n_owned > t->shards)
		return fail(v, DTX_ETOOBIG, "topology owns %zu of %u shards",
		            t->n_owned, (unsigned)t->shards);
	for (size_t i = 0; i < t->n_owned; i++)
		if (t->owned[i] >= t->shards)
			return fail(v, DTX_EPROTO,
			            "topology owns shard %u of %u shards",
			            (unsigned)t->owned[i], (unsigned)t->shards);
	if ((rv = check_text(v, "topology instance", t->instance,
	                     WIRE_INSTANCE_MAX)) != DTX_OK)
		return rv;
	if (t->url != NULL &&
	    (rv = check_url(v, "topology: ", t->url)) != DTX_OK)
		return rv;
	return check_shard_owners(v, t->owners, t->n_owners, t->shards);
}

/* check_moved checks what a reply says about shards: its topology, the
 * owner it names, the gid's shard. */
static int check_moved(struct vctx *v, const Dtx__V1__ClientReply *m)
{
	int rv;

	if (m->topology != NULL &&
	    (rv = check_topology(v, m->topology)) != DTX_OK)
		return rv;
	if (m->owner_url != NULL &&
	    (rv = check_url(v, "owner: ", m->owner_url)) != DTX_OK)
		return rv;
	if (m->has_shard && m->shard >= SHARD_COUNT_MAX)
		return fail(v, DTX_EPROTO, "shard %u is past %d",
		            (unsigned)m->shard, SHARD_COUNT_MAX - 1);
	return DTX_OK;
}

static int check_client_reply(struct vctx *v, const void *msg,
                              const wire_limits *lim)
{
	const Dtx__V1__ClientReply *m = msg;
	int rv;

	(void)lim;
	if ((rv = check_version(v, m->has_version, m->version)) != DTX_OK)
		return rv;
	if ((rv = need(v, m->has_code, "reply code")) != DTX_OK)
		return rv;
	if ((rv = check_enum(v, "reply code", true, (int)m->code, DTX_OK,
	                     DTX_ERR_COUNT - 1)) != DTX_OK)
		return rv;
	if ((rv = check_text(v, "reply message", m->message, 0)) != DTX_OK)
		return rv;
	for (size_t i = 0; i < m->n_finals; i++) {
		const Dtx__V1__FinalGid *f = m->finals[i];
		if ((rv = check_gid(v, f->gid)) != DTX_OK ||
		    (rv = check_enum(
		             v, "final state", f->has_state, (int)f->state,
		             DTX__V1__TX_STATE__TX_RUNNING,
		             DTX__V1__TX_STATE__TX_CANCELLED)) != DTX_OK)
			return rv;
	}
	if ((rv = check_moved(v, m)) != DTX_OK)
		return rv;
	return m->tx != NULL ? check_tx_info(v, m->tx) : DTX_OK;
}

/* ---- BranchCall / BranchReply ----------------------------------------- */

static int check_branch_call(struct vctx *v, const void *msg,
                             const wire_limits *lim)
{
	const Dtx__V1__BranchCall *m = msg;
	int rv;

	if ((rv = check_version(v, m->has_version, m->version)) != DTX_OK)
		return rv;
	if (m->n_batch > 0)
		return fail(v, DTX_EPROTO, "a batch where one call belongs");
	if ((rv = check_gid(v, m->gid)) != DTX_OK)
		return rv;
	if ((rv = need(v, m->has_branch, "branch")) != DTX_OK ||
	    (rv = need(v, m->has_op, "op")) != DTX_OK ||
	    (rv = check_enum(v, "op", true, (int)m->op, DTX__V1__OP__OP_ACTION,
	                     DTX__V1__OP__OP_CANCEL)) != DTX_OK)
		return rv;
	if ((rv = check_handler(v, "", "handler name", m->handler)) != DTX_OK)
		return rv;
	if ((rv = check_payload(v, "", m->has_payload, &m->payload,
	                        lim->max_payload)) != DTX_OK)
		return rv;
	if ((rv = need(v, m->has_attempt, "attempt")) != DTX_OK)
		return rv;
	if (m->attempt < 1)
		return fail(v, DTX_EINVAL, "attempt must be at least 1");
	if (m->has_deadline_unix_ms && (m->deadline_unix_ms <= 0 ||
	                                m->deadline_unix_ms > WIRE_UNIX_MS_MAX))
		return fail(v, DTX_EINVAL, "deadline_unix_ms out of range");
	return DTX_OK;
}

static int check_branch_reply(struct vctx *v, const void *msg,
                              const wire_limits *lim)
{
	const Dtx__V1__BranchReply *m = msg;
	int rv;

	(void)lim;
	if ((rv = check_version(v, m->has_version, m->version)) != DTX_OK)
		return rv;
	if (m->n_batch > 0)
		return fail(v, DTX_EPROTO, "a batch where one reply belongs");
	if ((rv = need(v, m->has_status, "status")) != DTX_OK)
		return rv;
	if ((rv = check_enum(v, "status", true, (int)m->status,
	                     DTX__V1__BRANCH_STATUS__BRANCH_OK,
	                     DTX__V1__BRANCH_STATUS__BRANCH_RETRY)) != DTX_OK)
		return rv;
	return check_text(v, "message", m->message, WIRE_MESSAGE_MAX);
}

/* ---- log records ------------------------------------------------------- */

static int check_log_tx(struct vctx *v, const void *msg, const wire_limits *lim)
{
	const Dtx__V1__LogTx *m = msg;
	int rv;

	(void)lim;
	if ((rv = check_enum(v, "mode", m->has_mode, (int)m->mode, 0,
	                     DTX__V1__MODE__MODE_TCC)) != DTX_OK)
		return rv;
	if ((rv = check_enum(v, "state", m->has_state, (int)m->state, 0,
	                     DTX__V1__TX_STATE__TX_CANCELLED)) != DTX_OK)
		return rv;
	if ((rv = check_text(v, "gid", m->gid, 0)) != DTX_OK)
		return rv;
	return check_text(v, "reason", m->reason, 0);
}

static int check_log_step(struct vctx *v, const void *msg,
                          const wire_limits *lim)
{
	const Dtx__V1__LogStep *m = msg;
	int rv = check_enum(v, "state", m->has_state, (int)m->state, 0,
	                    DTX__V1__STEP_STATE__STEP_CANCELLED);

	(void)lim;
	if (rv == DTX_OK)
		rv = check_text(v, "participant_url", m->participant_url, 0);
	if (rv == DTX_OK)
		rv = check_text(v, "action", m->action, 0);
	if (rv == DTX_OK)
		rv = check_text(v, "compensate", m->compensate, 0);
	if (rv == DTX_OK)
		rv = check_text(v, "confirm", m->confirm, 0);
	if (rv == DTX_OK)
		rv = check_text(v, "last_error", m->last_error, 0);
	return rv;
}

static int check_log_event(struct vctx *v, const void *msg,
                           const wire_limits *lim)
{
	const Dtx__V1__LogEvent *m = msg;
	int rv;

	(void)lim;
	if ((rv = check_enum(v, "tx_state", m->has_tx_state, (int)m->tx_state,
	                     0, DTX__V1__TX_STATE__TX_CANCELLED)) != DTX_OK)
		return rv;
	if ((rv = check_enum(v, "step_state", m->has_step_state,
	                     (int)m->step_state, 0,
	                     DTX__V1__STEP_STATE__STEP_CANCELLED)) != DTX_OK)
		return rv;
	return check_text(v, "detail", m->detail, 0);
}

/* ---- the encoding walk (before protobuf-c) ----------------------------- */

/* get_varint reads a varint at *p (end bounds it) into *ret; false if it
 * is truncated or longer than 10 bytes. */
static bool get_varint(const uint8_t **p, const uint8_t *end, uint64_t *ret)
{
	uint64_t x = 0;

	for (unsigned shift = 0; shift < 70 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;

		x |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0) {
			*ret = x;
			return true;
		}
	}
	return false;
}

/* walk_string checks the n bytes of string field f of desc. */
static int walk_string(struct vctx *v, const ProtobufCMessageDescriptor *desc,
                       const ProtobufCFieldDescriptor *f, const uint8_t *s,
                       size_t n)
{
	if (memchr(s, '\0', n) != NULL)
		return fail(v, DTX_EINVAL, "%s.%s holds a NUL byte",
		            desc->short_name, f->name);
	if (!wire_utf8_is_valid((const char *)s, n))
		return fail(v, DTX_EPROTO, "%s.%s is not valid UTF-8",
		            desc->short_name, f->name);
	return DTX_OK;
}

/* walk_len checks the n bytes of a length-delimited field f (NULL: not in
 * the schema, skipped as protobuf-c skips it) of desc at depth. */
static int walk_len(struct vctx *v, const ProtobufCMessageDescriptor *desc,
                    const ProtobufCFieldDescriptor *f, const uint8_t *s,
                    size_t n, unsigned depth)
{
	if (f == NULL)
		return DTX_OK;
	if (f->type == PROTOBUF_C_TYPE_STRING)
		return walk_string(v, desc, f, s, n);
	if (f->type != PROTOBUF_C_TYPE_MESSAGE)
		return DTX_OK;
	if (depth >= WIRE_MAX_DEPTH)
		return fail(v, DTX_EPROTO,
		            "%s.%s: messages nested deeper than %d",
		            desc->short_name, f->name, WIRE_MAX_DEPTH);
	return walk(v, f->descriptor, s, n, depth + 1);
}

/* walk checks the len bytes at p as a desc message at nesting depth
 * (the outermost is 1): every tag and length in bounds, nested messages
 * within WIRE_MAX_DEPTH, strings without NUL and valid UTF-8. Recursion
 * is bounded by WIRE_MAX_DEPTH. */
static int walk(struct vctx *v, const ProtobufCMessageDescriptor *desc,
                const uint8_t *p, size_t len, unsigned depth)
{
	const uint8_t *end = p + len;
	uint64_t tag, n;
	int rv;

	while (p < end) {
		const ProtobufCFieldDescriptor *f;

		if (!get_varint(&p, end, &tag) || tag >> 3 == 0 ||
		    tag >> 3 > UINT32_MAX)
			return fail(v, DTX_EPROTO,
			            "not a valid %s message: "
			            "bad tag",
			            desc->short_name);
		f = protobuf_c_message_descriptor_get_field(
		        desc, (unsigned)(tag >> 3));
		switch (tag & 7) {
		case 0: /* varint */
			if (!get_varint(&p, end, &n))
				goto truncated;
			break;
		case 1: /* 64-bit */
		case 5: /* 32-bit */
			n = (tag & 7) == 1 ? 8 : 4;
			if ((size_t)(end - p) < n)
				goto truncated;
			p += n;
			break;
		case 2: /* length-delimited */
			if (!get_varint(&p, end, &n) || n > (size_t)(end - p))
				goto truncated;
			rv = walk_len(v, desc, f, p, (size_t)n, depth);
			if (rv != DTX_OK)
				return rv;
			p += n;
			break;
		default: /* groups (3, 4) and 6, 7: protobuf-c refuses them */
			return fail(v, DTX_EPROTO,
			            "not a valid %s message: wire type %u",
			            desc->short_name, (unsigned)(tag & 7));
		}
	}
	return DTX_OK;
truncated:
	return fail(v, DTX_EPROTO,
	            "not a valid %s message: field %u is "
	            "truncated",
	            desc->short_name, (unsigned)(tag >> 3));
}

/* ---- packing and the generic decoder ----------------------------------- */

size_t wire_packed_size(const ProtobufCMessage *msg)
{
	return protobuf_c_message_get_packed_size(msg);
}

void wire_pack(const ProtobufCMessage *msg, uint8_t *buf)
{
	protobuf_c_message_pack(msg, buf);
}

int wire_pack_alloc(const ProtobufCMessage *msg, uint8_t **ret_buf,
                    size_t *ret_len)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(len > 0 ? len : 1); /* malloc(0) may be NULL */

	if (buf == NULL)
		return DTX_ENOMEM;
	protobuf_c_message_pack(msg, buf);
	*ret_buf = buf;
	*ret_len = len;
	return DTX_OK;
}

/*
 * The arena. A decoded message and everything protobuf-c allocates for it
 * (nested messages, repeated arrays, strings, bytes, its scratch space)
 * come from one region: one malloc per message in the common case instead
 * of one per field, and one free. The region starts with an arena_chunk
 * header; the message is the first allocation after it, so free_msg finds
 * the header from the message. protobuf-c's frees are ignored (the region
 * goes at once); a region that runs out chains another chunk.
 */
#define ARENA_FIRST 4096u /* bytes of the first chunk, header included */
#define ARENA_MAGIC 0x64747861u
#define ARENA_ALIGN 16u

typedef struct arena_chunk {
	uint32_t magic; /* ARENA_MAGIC in the first chunk */
	size_t used, cap;
	struct arena_chunk *next; /* chunks chained after the first */
	struct arena_chunk *tail; /* first chunk: where to allocate */
	_Alignas(16) unsigned char data[];
} arena_chunk;

static arena_chunk *chunk_new(size_t need)
{
	size_t cap = need > ARENA_FIRST - sizeof(arena_chunk)
	                     ? need
	                     : ARENA_FIRST - sizeof(arena_chunk);
	arena_chunk *c = malloc(sizeof(*c) + cap);

	if (c == NULL)
		return NULL;
	c->magic = 0;
	c->used = 0;
	c->cap = cap;
	c->next = NULL;
	c->tail = c;
	return c;
}

static void *arena_alloc(void *data, size_t size)
{
	arena_chunk *first = data, *c = first->tail;
	size_t at = (c->used + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);

	if (size > c->cap || at > c->cap - size) {
		arena_chunk *n = chunk_new(size > c->cap ? size : c->cap * 2);

		if (n == NULL)
			return NULL;
		c->next = n;
		first->tail = c = n;
		at = 0;
	}
	c->used = at + size;
	return c->data + at;
}

static void arena_free_nothing(void *data, void *ptr)
{
	(void)data;
	(void)ptr;
}

static void arena_destroy(arena_chunk *first)
{
	while (first != NULL) {
		arena_chunk *next = first->next;
		free(first);
		first = next;
	}
}

/* unpack is protobuf_c_message_unpack into a new arena; NULL if the bytes
 * are not a desc message or memory ran out. */
static ProtobufCMessage *unpack(const ProtobufCMessageDescriptor *desc,
                                const void *buf, size_t len)
{
	arena_chunk *first = chunk_new(0);
	ProtobufCAllocator a = {arena_alloc, arena_free_nothing, first};
	ProtobufCMessage *m;

	if (first == NULL)
		return NULL;
	m = protobuf_c_message_unpack(desc, &a, len, buf);
	if (m == NULL || (void *)m != (void *)first->data) {
		/* not a message, or the message was not the first allocation
		 * (never in protobuf-c 1.4: every decoder's test would fail,
		 * since free_msg could not find the region) */
		arena_destroy(first);
		return NULL;
	}
	first->magic = ARENA_MAGIC;
	return m;
}

static void free_msg(ProtobufCMessage *m)
{
	arena_chunk *first;

	if (m == NULL)
		return;
	first = (arena_chunk *)((unsigned char *)m -
	                        offsetof(arena_chunk, data));
	/* every message freed here came from unpack */
	assert(first->magic == ARENA_MAGIC);
	first->magic = 0;
	arena_destroy(first);
}

/* decode unpacks len bytes at buf as a desc message and runs check on it;
 * the message is freed unless it passes. protobuf-c cannot tell a malformed
 * message from an allocation failure, so both read as DTX_EPROTO. */
static int decode(const ProtobufCMessageDescriptor *desc, check_fn check,
                  const void *buf, size_t len, const wire_limits *lim,
                  struct vctx *v, ProtobufCMessage **ret_msg)
{
	ProtobufCMessage *m = NULL;
	int rv;

	if (buf == NULL && len > 0)
		return fail(v, DTX_EINVAL, "no buffer");
	if ((rv = walk(v, desc, buf, len, 1)) != DTX_OK)
		return rv;
	m = unpack(desc, buf, len);
	if (m == NULL)
		return fail(v, DTX_EPROTO, "not a valid %s message",
		            desc->short_name);
	rv = check(v, m, lim != NULL ? lim : &default_limits);
	if (rv != DTX_OK) {
		free_msg(m);
		return rv;
	}
	*ret_msg = m;
	return DTX_OK;
}

/* ---- public decoders --------------------------------------------------- */

int wire_client_request_decode(const void *buf, size_t len,
                               const wire_limits *lim,
                               Dtx__V1__ClientRequest **ret_msg, char *errbuf,
                               size_t errlen)
{
	struct vctx v = {errbuf, errlen};
	ProtobufCMessage *m = NULL;
	int rv = decode(&dtx__v1__client_request__descriptor,
	                check_client_request, buf, len, lim, &v, &m);

	if (rv == DTX_OK)
		*ret_msg = (Dtx__V1__ClientRequest *)m;
	return rv;
}

void wire_client_request_free(Dtx__V1__ClientRequest *msg)
{
	free_msg(msg != NULL ? &msg->base : NULL);
}

int wire_client_reply_decode(const void *buf, size_t len,
                             Dtx__V1__ClientReply **ret_msg, char *errbuf,
                             size_t errlen)
{
	struct vctx v = {errbuf, errlen};
	ProtobufCMessage *m = NULL;
	int rv = decode(&dtx__v1__client_reply__descriptor, check_client_reply,
	                buf, len, NULL, &v, &m);

	if (rv == DTX_OK)
		*ret_msg = (Dtx__V1__ClientReply *)m;
	return rv;
}

void wire_client_reply_free(Dtx__V1__ClientReply *msg)
{
	free_msg(msg != NULL ? &msg->base : NULL);
}

int wire_branch_call_decode(const void *buf, size_t len, const wire_limits *lim,
                            Dtx__V1__BranchCall **ret_msg, char *errbuf,
                            size_t errlen)
{
	struct vctx v = {errbuf, errlen};
	ProtobufCMessage *m = NULL;
	int rv = decode(&dtx__v1__branch_call__descriptor, check_branch_call,
	                buf, len, lim, &v, &m);

	if (rv == DTX_OK)
		*ret_msg = (Dtx__V1__BranchCall *)m;
	return rv;
}

/* check_call_batch checks a batch envelope: version, 2..WIRE_BATCH_MAX
 * calls, no fields of a call, no batch inside. Its calls are checked one
 * by one by the receiver (wire_branch_call_check). */
static int check_call_batch(struct vctx *v, const void *msg,
                            const wire_limits *lim)
{
	const Dtx__V1__BranchCall *m = msg;
	int rv;

	(void)lim;
	if ((rv = check_version(v, m->has_version, m->version)) != DTX_OK)
		return rv;
	if (m->n_batch < 2 || m->n_batch > WIRE_BATCH_MAX)
		return fail(v, DTX_EPROTO, "a batch of %zu calls (2..%u)",
		            m->n_batch, WIRE_BATCH_MAX);
	if (m->gid != NULL || m->has_branch || m->has_op ||
	    m->handler != NULL || m->has_payload || m->has_attempt)
		return fail(v, DTX_EPROTO, "a batch with fields of a call");
	for (size_t i = 0; i < m->n_batch; i++)
		if (m->batch[i]->n_batch > 0)
			return fail(v, DTX_EPROTO, "a batch inside a batch");
	return DTX_OK;
}

/* check_call_or_batch is check_branch_call, or check_call_batch when the
 * message carries a batch. */
static int check_call_or_batch(struct vctx *v, const void *msg,
                               const wire_limits *lim)
{
	const Dtx__V1__BranchCall *m = msg;

	return m->n_batch > 0 ? check_call_batch(v, msg, lim)
	                      : check_branch_call(v, msg, lim);
}

int wire_branch_calls_decode(const void *buf, size_t len,
                             const wire_limits *lim,
                             Dtx__V1__BranchCall **ret_msg, char *errbuf,
                             size_t errlen)
{
	struct vctx v = {errbuf, errlen};
	ProtobufCMessage *m = NULL;
	int rv = decode(&dtx__v1__branch_call__descriptor, check_call_or_batch,
	                buf, len, lim, &v, &m);

	if (rv == DTX_OK)
		*ret_msg = (Dtx__V1__BranchCall *)m;
	return rv;
}

int wire_branch_call_check(const Dtx__V1__BranchCall *msg,
                           const wire_limits *lim, char *errbuf, size_t errlen)
{
	struct vctx v = {errbuf, errlen};

	return check_branch_call(&v, msg, lim != NULL ? lim : &default_limits);
}

/* check_reply_batch checks the answer to a batch: version, no fields of a
 * reply, and every reply in it. */
static int check_reply_batch(struct vctx *v, const Dtx__V1__BranchReply *m)
{
	int rv;

	if ((rv = check_version(v, m->has_version, m->version)) != DTX_OK)
		return rv;
	if (m->has_status || m->message != NULL || m->has_result)
		return fail(v, DTX_EPROTO, "a batch with fields of a reply");
	for (size_t i = 0; i < m->n_batch; i++)
		if ((rv = check_branch_reply(v, m->batch[i], NULL)) != DTX_OK)
			return rv;
	return DTX_OK;
}

int wire_branch_replies_decode(const void *buf, size_t len, size_t n,
                               Dtx__V1__BranchReply **ret_msg, char *errbuf,
                               size_t errlen)
{
	struct vctx v = {errbuf, errlen};
	Dtx__V1__BranchReply *m;
	int rv;

	if (n <= 1)
		return wire_branch_reply_decode(buf, len, ret_msg, errbuf,
		                                errlen);
	if (buf == NULL && len > 0)
		return fail(&v, DTX_EINVAL, "no buffer");
	rv = walk(&v, &dtx__v1__branch_reply__descriptor, buf, len, 1);
	if (rv != DTX_OK)
		return rv;
	m = (Dtx__V1__BranchReply *)unpack(&dtx__v1__branch_reply__descriptor,
	                                   buf, len);
	if (m == NULL)
		return fail(&v, DTX_EPROTO, "not a valid BranchReply message");
	if (m->n_batch != n) {
		rv = fail(&v, DTX_EPROTO,
		          "a batch of %zu calls answered with "
		          "%zu replies",
		          n, m->n_batch);
	} else {
		rv = check_reply_batch(&v, m);
	}
	if (rv != DTX_OK) {
		free_msg(&m->base);
		return rv;
	}
	*ret_msg = m;
	return DTX_OK;
}

/* put_varint writes x at p; returns the bytes written (at most 10). */
static size_t put_varint(uint8_t *p, uint64_t x)
{
	size_t n = 0;

	while (x >= 0x80) {
		p[n++] = (uint8_t)(x | 0x80);
		x >>= 7;
	}
	p[n++] = (uint8_t)x;
	return n;
}

static size_t varint_len(uint64_t x)
{
	size_t n = 1;

	while (x >= 0x80) {
		x >>= 7;
		n++;
	}
	return n;
}

size_t wire_batch_head_size(void)
{
	return 2; /* version = 1: tag 0x08, value 1 */
}

void wire_batch_head(uint8_t *buf)
{
	buf[0] = 0x08; /* field 1 (version), varint */
	buf[1] = DTX__V1__VERSION__VERSION_1;
}

size_t wire_batch_item_head_size(size_t len)
{
	return 1 + varint_len(len);
}

size_t wire_batch_item_head(uint8_t *buf, bool reply, size_t len)
{
	/* field 8 of BranchCall or 5 of BranchReply, length-delimited */
	buf[0] = reply ? (5 << 3 | 2) : (8 << 3 | 2);
	return 1 + put_varint(buf + 1, len);
}

void wire_branch_call_free(Dtx__V1__BranchCall *msg)
{
	free_msg(msg != NULL ? &msg->base : NULL);
}

int wire_branch_reply_decode(const void *buf, size_t len,
                             Dtx__V1__BranchReply **ret_msg, char *errbuf,
                             size_t errlen)
{
	struct vctx v = {errbuf, errlen};
	ProtobufCMessage *m = NULL;
	int rv = decode(&dtx__v1__branch_reply__descriptor, check_branch_reply,
	                buf, len, NULL, &v, &m);

	if (rv == DTX_OK)
		*ret_msg = (Dtx__V1__BranchReply *)m;
	return rv;
}

void wire_branch_reply_free(Dtx__V1__BranchReply *msg)
{
	free_msg(msg != NULL ? &msg->base : NULL);
}

int wire_log_tx_decode(const void *buf, size_t len, Dtx__V1__LogTx **ret_msg)
{
	struct vctx v = {NULL, 0};
	ProtobufCMessage *m = NULL;
	int rv = decode(&dtx__v1__log_tx__descriptor, check_log_tx, buf, len,
	                NULL, &v, &m);

	if (rv == DTX_OK)
		*ret_msg = (Dtx__V1__LogTx *)m;
	return rv;
}

void wire_log_tx_free(Dtx__V1__LogTx *msg)
{
	free_msg(msg != NULL ? &msg->base : NULL);
}

int wire_log_step_decode(const void *buf, size_t len,
                         Dtx__V1__LogStep **ret_msg)
{
	struct vctx v = {NULL, 0};
	ProtobufCMessage *m = NULL;
	int rv = decode(&dtx__v1__log_step__descriptor, check_log_step, buf,
	                len, NULL, &v, &m);

	if (rv == DTX_OK)
		*ret_msg = (Dtx__V1__LogStep *)m;
	return rv;
}

void wire_log_step_free(Dtx__V1__LogStep *msg)
{
	free_msg(msg != NULL ? &msg->base : NULL);
}

int wire_log_event_decode(const void *buf, size_t len,
                          Dtx__V1__LogEvent **ret_msg)
{
	struct vctx v = {NULL, 0};
	ProtobufCMessage *m = NULL;
	int rv = decode(&dtx__v1__log_event__descriptor, check_log_event, buf,
	                len, NULL, &v, &m);

	if (rv == DTX_OK)
		*ret_msg = (Dtx__V1__LogEvent *)m;
	return rv;
}

void wire_log_event_free(Dtx__V1__LogEvent *msg)
{
	free_msg(msg != NULL ? &msg->base : NULL);
}

/* ---- AdminRequest / AdminReply ----------------------------------------- */

static int check_admin_filter(struct vctx *v, const Dtx__V1__AdminFilter *f)
{
	int rv;

	if ((rv = check_enum(v, "filter state", f->has_state, (int)f->state,
	                     DTX__V1__TX_STATE__TX_RUNNING,
	                     DTX__V1__TX_STATE__TX_CANCELLED)) != DTX_OK ||
	    (rv = check_enum(v, "filter mode", f->has_mode, (int)f->mode,
	                     DTX__V1__MODE__MODE_SAGA,
	                     DTX__V1__MODE__MODE_TCC)) != DTX_OK)
		return rv;
	if (f->handler != NULL &&
	    (rv = check_handler(v, "filter ", "handler", f->handler)) != DTX_OK)
		return rv;
	if (f->participant != NULL &&
	    (rv = check_url(v, "filter ", f->participant)) != DTX_OK)
		return rv;
	if (f->key != NULL && (rv = check_key(v, f->key)) != DTX_OK)
		return rv;
	return check_labels(v, f->labels, f->n_labels, false);
}

static int check_admin_list(struct vctx *v, const Dtx__V1__AdminList *l)
{
	int rv;

	if (l->after_gid != NULL && (rv = check_gid(v, l->after_gid)) != DTX_OK)
		return rv;
	if (l->has_limit && (l->limit == 0 || l->limit > WIRE_ADMIN_LIST_MAX))
		return fail(v, DTX_EINVAL, "list limit must be 1..%d",
		            WIRE_ADMIN_LIST_MAX);
	return l->filter != NULL ? check_admin_filter(v, l->filter) : DTX_OK;
}

/* check_set_branch: a set-branch's new URL (a URL a branch may have)
 * and handler (a valid name), at least one of them; an op in range. */
static int check_set_branch(struct vctx *v, const Dtx__V1__AdminAct *a)
{
	int rv;

	if (a->action != DTX__V1__ADMIN_ACTION__ADMIN_SET_BRANCH)
		return a->url == NULL && a->handler == NULL && !a->has_op
		               ? DTX_OK
		               : fail(v, DTX_EINVAL,
		                      "url, handler and op are for "
		                      "set-branch only");
	if (a->url == NULL && a->handler == NULL)
		return fail(v, DTX_EINVAL,
		            "set-branch needs a url or a "
		            "handler");
	if ((rv = check_enum(v, "op", a->has_op, (int)a->op,
	                     DTX__V1__OP__OP_ACTION, DTX__V1__OP__OP_CANCEL)) !=
	    DTX_OK)
		return rv;
	if (a->handler != NULL && (rv = check_handler(v, "new ", "handler name",
	                                              a->handler)) != DTX_OK)
		return rv;
	return a->url != NULL ? check_url(v, "new ", a->url) : DTX_OK;
}

static int check_admin_act(struct vctx *v, const Dtx__V1__AdminAct *a)
{
	int rv;

	if ((rv = need(v, a->has_action, "action")) != DTX_OK ||
	    (rv = check_enum(v, "action", true, (int)a->action,
	                     DTX__V1__ADMIN_ACTION__ADMIN_RETRY,
	                     DTX__V1__ADMIN_ACTION__ADMIN_SET_BRANCH)) !=
	            DTX_OK ||
	    (rv = check_gid(v, a->gid)) != DTX_OK)
		return rv;
	if ((a->action == DTX__V1__ADMIN_ACTION__ADMIN_SKIP ||
	     a->action == DTX__V1__ADMIN_ACTION__ADMIN_SET_BRANCH) &&
	    (rv = need(v, a->has_branch, "branch")) != DTX_OK)
		return rv;
	if ((rv = check_set_branch(v, a)) != DTX_OK)
		return rv;
	if (a->reason == NULL || a->reason[0] == '\0')
		return fail(v, DTX_EINVAL, "a reason is required");
	if ((rv = check_text(v, "reason", a->reason, WIRE_MESSAGE_MAX)) !=
	            DTX_OK ||
	    (rv = check_text(v, "user", a->user, DTX_HANDLER_MAX)) != DTX_OK)
		return rv;
	if (has_control_char(a->reason) ||
	    (a->user != NULL && has_control_char(a->user)))
		return fail(v, DTX_EINVAL,
		            "reason or user has control "
		            "characters");
	return DTX_OK;
}

static int check_admin_request(struct vctx *v, const void *msg,
                               const wire_limits *lim)
{
	const Dtx__V1__AdminRequest *m = msg;
	int rv;

	(void)lim;
	if ((rv = check_version(v, m->has_version, m->version)) != DTX_OK)
		return rv;
	switch (m->body_case) {
	case DTX__V1__ADMIN_REQUEST__BODY_LIST:
		return check_admin_list(v, m->list);
	case DTX__V1__ADMIN_REQUEST__BODY_SHOW:
		return check_gid(v, m->show->gid);
	case DTX__V1__ADMIN_REQUEST__BODY_ACT:
		return check_admin_act(v, m->act);
	case DTX__V1__ADMIN_REQUEST__BODY_STATS:
	case DTX__V1__ADMIN_REQUEST__BODY_WATCH:
	case DTX__V1__ADMIN_REQUEST__BODY_SHARDS:
		return DTX_OK;
	default:
		return fail(v, DTX_EPROTO, "admin request has no body");
	}
}

static int check_timeline_event(struct vctx *v, const Dtx__V1__TimelineEvent *e)
{
	int rv;

	if (e->gid != NULL && (rv = check_gid(v, e->gid)) != DTX_OK)
		return rv;
	if ((rv = check_enum(v, "event tx state", e->has_tx_state,
	                     (int)e->tx_state, DTX__V1__TX_STATE__TX_RUNNING,
	                     DTX__V1__TX_STATE__TX_CANCELLED)) != DTX_OK ||
	    (rv = check_enum(v, "event step state", e->has_step_state,
	                     (int)e->step_state, 0,
	                     DTX__V1__STEP_STATE__STEP_CANCELLED)) != DTX_OK)
		return rv;
	return check_text(v, "event detail", e->detail, 0);
}

static int check_admin_stats(struct vctx *v, const Dtx__V1__AdminStatsReply *s)
{
	int rv;

	for (size_t i = 0; i < s->n_counts; i++) {
		const Dtx__V1__StateCount *c = s->counts[i];
		if ((rv = check_enum(v, "count mode", c->has_mode, (int)c->mode,
		                     DTX__V1__MODE__MODE_SAGA,
		                     DTX__V1__MODE__MODE_TCC)) != DTX_OK ||
		    (rv = check_enum(
		             v, "count state", c->has_state, (int)c->state,
		             DTX__V1__TX_STATE__TX_RUNNING,
		             DTX__V1__TX_STATE__TX_CANCELLED)) != DTX_OK)
			return rv;
	}
	if (s->oldest_active_gid != NULL)
		return check_gid(v, s->oldest_active_gid);
	return DTX_OK;
}

/* check_shard_info checks one row of a shards reply: shard number and
 * state in range, names and URLs bounded text. */
static int check_shard_info(struct vctx *v, const Dtx__V1__ShardInfo *s)
{
	int rv;

	if ((rv = need(v, s->has_shard, "shard number")) != DTX_OK)
		return rv;
	if (s->shard >= SHARD_COUNT_MAX)
		return fail(v, DTX_EPROTO, "shard %u is past %d",
		            (unsigned)s->shard, SHARD_COUNT_MAX - 1);
	if ((rv = check_enum(v, "shard state", s->has_state, (int)s->state,
	                     DTX__V1__SHARD_STATE__SHARD_OWNED,
	                     DTX__V1__SHARD_STATE__SHARD_UNKNOWN)) != DTX_OK ||
	    (rv = check_text(v, "shard owner", s->owner, WIRE_INSTANCE_MAX)) !=
	            DTX_OK ||
	    (rv = check_text(v, "shard owner's client URL", s->client_url,
	                     DTX_URL_MAX)) != DTX_OK)
		return rv;
	return check_text(v, "shard owner's admin URL", s->admin_url,
	                  DTX_URL_MAX);
}

/* check_admin_shards checks a shards reply (at most SHARD_COUNT_MAX rows)
 * and a redirect's owner (a URL dtxctl will dial). */
static int check_admin_shards(struct vctx *v, const Dtx__V1__AdminReply *m)
{
	int rv;

	if (m->n_shards > SHARD_COUNT_MAX)
		return fail(v, DTX_ETOOBIG, "%zu shards, max %d", m->n_shards,
		            SHARD_COUNT_MAX);
	for (size_t i = 0; i < m->n_shards; i++)
		if ((rv = check_shard_info(v, m->shards[i])) != DTX_OK)
			return rv;
	if ((rv = check_text(v, "instance", m->instance, WIRE_INSTANCE_MAX)) !=
	    DTX_OK)
		return rv;
	if (m->has_shard && m->shard >= SHARD_COUNT_MAX)
		return fail(v, DTX_EPROTO, "shard %u is past %d",
		            (unsigned)m->shard, SHARD_COUNT_MAX - 1);
	if (m->owner_admin_url != NULL)
		return check_url(
		        v, "owner's admin endpoint: ", m->owner_admin_url);
	return DTX_OK;
}

static int check_admin_reply(struct vctx *v, const void *msg,
                             const wire_limits *lim)
{
	const Dtx__V1__AdminReply *m = msg;
	int rv;

	(void)lim;
	if ((rv = check_version(v, m->has_version, m->version)) != DTX_OK ||
	    (rv = need(v, m->has_code, "reply code")) != DTX_OK ||
	    (rv = check_enum(v, "reply code", true, (int)m->code, DTX_OK,
	                     DTX_ERR_COUNT - 1)) != DTX_OK ||
	    (rv = check_text(v, "reply message", m->message, 0)) != DTX_OK)
		return rv;
	for (size_t i = 0; i < m->n_txs; i++)
		if ((rv = check_tx_info(v, m->txs[i])) != DTX_OK)
			return rv;
	for (size_t i = 0; i < m->n_events; i++)
		if ((rv = check_timeline_event(v, m->events[i])) != DTX_OK)
			return rv;
	for (size_t i = 0; i < m->n_transitions; i++)
		if ((rv = check_text(v, "transition", m->transitions[i], 0)))
			return rv;
	for (size_t i = 0; i < m->n_calls; i++)
		if ((rv = check_text(v, "call", m->calls[i], 0)) != DTX_OK)
			return rv;
	if (m->next_after_gid != NULL &&
	    (rv = check_gid(v, m->next_after_gid)) != DTX_OK)
		return rv;
	if ((rv = check_admin_shards(v, m)) != DTX_OK)
		return rv;
	return m->stats != NULL ? check_admin_stats(v, m->stats) : DTX_OK;
}

int wire_admin_request_decode(const void *buf, size_t len,
                              Dtx__V1__AdminRequest **ret_msg, char *errbuf,
                              size_t errlen)
{
	struct vctx v = {errbuf, errlen};
	ProtobufCMessage *m = NULL;
	int rv = decode(&dtx__v1__admin_request__descriptor,
	                check_admin_request, buf, len, NULL, &v, &m);

	if (rv == DTX_OK)
		*ret_msg = (Dtx__V1__AdminRequest *)m;
	return rv;
}

void wire_admin_request_free(Dtx__V1__AdminRequest *msg)
{
	free_msg(msg != NULL ? &msg->base : NULL);
}

int wire_admin_reply_decode(const void *buf, size_t len,
                            Dtx__V1__AdminReply **ret_msg, char *errbuf,
                            size_t errlen)
{
	struct vctx v = {errbuf, errlen};
	ProtobufCMessage *m = NULL;
	int rv = decode(&dtx__v1__admin_reply__descriptor, check_admin_reply,
	                buf, len, NULL, &v, &m);

	if (rv == DTX_OK)
		*ret_msg = (Dtx__V1__AdminReply *)m;
	return rv;
}

void wire_admin_reply_free(Dtx__V1__AdminReply *msg)
{
	free_msg(msg != NULL ? &msg->base : NULL);
}
