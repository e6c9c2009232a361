/*
 * diag.c - dtxd's diagnostics in text, JSON or journald form (see
 * diag.h). The only file that includes <systemd/sd-journal.h>.
 *
 * Owns the process-wide level and format (atomics: SIGHUP sets them on
 * the loop while other threads log). Builds each line in a stack buffer,
 * never allocates, and writes it with one write(2) (or one
 * sd_journal_sendv): a line never mixes with another thread's.
 *
 * JSON is written here rather than with jansson: jansson allocates, and
 * the out-of-memory path logs before it stops the process. The escaping
 * is JSON's (RFC 8259 section 7) over bytes checked as UTF-8.
 */
#include "diag.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "trace.h"

#define JOURNAL_FIELDS_MAX 9

static _Atomic int max_level = DTX_LOG_INFO;
static _Atomic int format = DC_DIAG_TEXT;

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
static const char *const json_levels[] = {"error", "warn", "info", "debug"};
static const int priorities[] = {3, 4, 6, 7}; /* syslog's err..debug */
static const char *const format_names[] = {"text", "json", "journal"};

void dc_diag_set_level(int level)
{
	max_level = level;
}

int dc_diag_enabled(int level)
{
	return level <= max_level;
}

/* journald's socket: sd_journal_sendv returns success without it (it
 * drops entries silently when journald does not run), so dtxd looks. */
#define JOURNAL_SOCKET "/run/systemd/journal/socket"

void dc_diag_set_format(dc_diag_format f)
{
	bool missing =
	        f == DC_DIAG_JOURNAL && access(JOURNAL_SOCKET, W_OK) != 0;

	format = missing ? DC_DIAG_TEXT : f;
	if (missing)
		dc_diag(DTX_LOG_WARN,
		        "--log-format journal: journald does not run here (no "
		        "%s): lines go to stderr as text",
		        JOURNAL_SOCKET);
}

int dc_diag_format_parse(const char *s, dc_diag_format *ret)
{
	for (int i = 0; i < DC_DIAG_FORMAT_COUNT; i++)
		if (s != NULL && strcmp(s, format_names[i]) == 0) {
			*ret = (dc_diag_format)i;
			return DTX_OK;
		}
	return DTX_EINVAL;
}

const char *dc_diag_format_name(dc_diag_format f)
{
	return (unsigned)f < DC_DIAG_FORMAT_COUNT ? format_names[f] : "?";
}

/* ---- building a line -------------------------------------------------- */

/* sbuf - a bounded string being built: what does not fit is dropped, and
 * room is always left for a NUL. */
typedef struct sbuf {
	char *p;
	size_t len, cap;
} sbuf;

static void put(sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap)
		n = b->cap - b->len - 1;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void puts_(sbuf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void putf(sbuf *b, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

#define FMT_MAX 200 /* one formatted piece of a line, at most */

/* vputf formats into b, cut to max - 1 bytes (max <= FMT_MAX). */
static void vputf(sbuf *b, size_t max, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));

static void vputf(sbuf *b, size_t max, const char *fmt, va_list ap)
{
	char tmp[FMT_MAX];
	int n = vsnprintf(tmp, max, fmt, ap);

	if (n > 0)
		put(b, tmp, (size_t)n < max ? (size_t)n : max - 1);
}

static void putf(sbuf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vputf(b, 160, fmt, ap);
	va_end(ap);
}

/* utf8_len: the length of the valid UTF-8 sequence at s (at most n bytes
 * left), or 0 if the bytes there are not one (overlong forms and
 * surrogates included). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (len == 0 || s[0] > 0xf4 || len > n)
		return 0;
	cp = s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/* put_escaped appends msg (at most DC_DIAG_MSG_MAX bytes of it, then
 * "...") with every control character escaped and every byte that is not
 * UTF-8 replaced: JSON's escapes if json, else \n, \t, \r and \xNN. */
static void put_escaped(sbuf *b, const char *msg, bool json)
{
	const unsigned char *s = (const unsigned char *)msg;
	size_t n = strnlen(msg, DC_DIAG_MSG_MAX + 1), i = 0, k;

	while (i < n && i < DC_DIAG_MSG_MAX) {
		if (s[i] == '\n' || s[i] == '\t' || s[i] == '\r')
			putf(b, "\\%c",
			     s[i] == '\n'   ? 'n'
			     : s[i] == '\t' ? 't'
			                    : 'r');
		else if (json && (s[i] == '"' || s[i] == '\\'))
			putf(b, "\\%c", s[i]);
		else if (s[i] < 0x20 || s[i] == 0x7f)
			putf(b, json ? "\\u%04x" : "\\x%02x", s[i]);
		else if ((k = utf8_len(s + i, n - i)) > 0) {
			put(b, (const char *)s + i, k);
			i += k;
			continue;
		} else
			puts_(b, json ? "\\ufffd" : "?");
		i++;
	}
	if (n > DC_DIAG_MSG_MAX)
		puts_(b, "...");
}

/* facts - what a line about something says about it, as text. */
typedef struct facts {
	const char *gid;                 /* NULL: none */
	int64_t branch;                  /* -1: none */
	const char *op;                  /* NULL: none */
	char trace_id[TRACE_ID_HEX + 1]; /* "": none */
	char span_id[TRACE_SPAN_HEX + 1];
} facts;

/* get_facts reads about (may be NULL). The span is the one dtxd's call
 * of (branch, op) carries (trace_child); a traceparent that does not
 * parse (never stored so) is left out. */
static void get_facts(const dc_diag_about *about, facts *f)
{
	trace_ctx tc, span;

	*f = (facts){.branch = -1};
	if (about == NULL)
		return;
	f->gid = about->gid;
	f->branch = about->branch;
	if (about->branch >= 0 && about->op > 0)
		f->op = dtx_op_name(about->op);
	if (about->traceparent == NULL ||
	    trace_parse(about->traceparent, &tc, NULL, 0) != DTX_OK)
		return;
	trace_id_hex(&tc, f->trace_id);
	if (f->op != NULL && about->gid != NULL) {
		trace_child(&tc, about->gid, (uint32_t)about->branch, about->op,
		            &span);
		trace_span_hex(&span, f->span_id);
	}
}

static void put_time(sbuf *b, int64_t unix_ms)
{
	time_t sec = (time_t)(unix_ms / 1000);
	struct tm tm;

	gmtime_r(&sec, &tm);
	putf(b, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	     (int)(unix_ms % 1000));
}

static void render_text(sbuf *b, int level, int64_t unix_ms, const facts *f,
                        const char *msg)
{
	put_time(b, unix_ms);
	putf(b, " dtxd[%d] %s ", (int)getpid(), level_names[level & 3]);
	put_escaped(b, msg, false);
	if (f->gid != NULL)
		putf(b, " gid=%s", f->gid);
	if (f->branch >= 0)
		putf(b, " branch=%lld", (long long)f->branch);
	if (f->op != NULL)
		putf(b, " op=%s", f->op);
	if (f->trace_id[0] != '\0')
		putf(b, " trace_id=%s", f->trace_id);
	if (f->span_id[0] != '\0')
		putf(b, " span_id=%s", f->span_id);
}

/* render_json writes one object; the gid, op and hex ids need no escaping
 * (wire.c bounds a gid to [A-Za-z0-9._:-]). */
static void render_json(sbuf *b, int level, int64_t unix_ms, const facts *f,
                        const char *msg)
{
	puts_(b, "{\"time\":\"");
	put_time(b, unix_ms);
	putf(b, "\",\"level\":\"%s\",\"pid\":%d,\"msg\":\"",
	     json_levels[level & 3], (int)getpid());
	put_escaped(b, msg, true);
	puts_(b, "\"");
	if (f->gid != NULL)
		putf(b, ",\"gid\":\"%.*s\"", DTX_GID_MAX, f->gid);
	if (f->branch >= 0)
		putf(b, ",\"branch\":%lld", (long long)f->branch);
	if (f->op != NULL)
		putf(b, ",\"op\":\"%s\"", f->op);
	if (f->trace_id[0] != '\0')
		putf(b, ",\"trace_id\":\"%s\"", f->trace_id);
	if (f->span_id[0] != '\0')
		putf(b, ",\"span_id\":\"%s\"", f->span_id);
	puts_(b, "}");
}

size_t dc_diag_render(dc_diag_format fmt, int level, int64_t unix_ms,
                      const dc_diag_about *about, const char *msg, char *buf,
                      size_t len)
{
	sbuf b = {buf, 0, len - 1}; /* one byte kept for the newline */
	facts f;

	buf[0] = '\0';
	get_facts(about, &f);
	if (fmt == DC_DIAG_JSON)
		render_json(&b, level, unix_ms, &f, msg);
	else
		render_text(&b, level, unix_ms, &f, msg);
	buf[b.len++] = '\n';
	buf[b.len] = '\0';
	return b.len;
}

/* ---- the journal ------------------------------------------------------ */

/* field starts a NUL-terminated field in b and returns where it starts. */
static const char *field(sbuf *b, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static const char *field(sbuf *b, const char *fmt, ...)
{
	const char *start = b->p + b->len;
	va_list ap;

	va_start(ap, fmt);
	vputf(b, FMT_MAX, fmt, ap);
	va_end(ap);
	if (b->len + 1 < b->cap)
		b->len++; /* past the NUL put() wrote */
	return start;
}

int dc_diag_journal_fields(int level, const dc_diag_about *about,
                           const char *msg, char *buf, size_t len,
                           const char **ret_fields, int max)
{
	sbuf b = {buf, 0, len};
	const char *v[JOURNAL_FIELDS_MAX];
	int n = 0;
	facts f;

	get_facts(about, &f);
	v[n++] = b.p;
	puts_(&b, "MESSAGE=");
	put_escaped(&b, msg, false);
	b.len++;
	v[n++] = field(&b, "PRIORITY=%d", priorities[level & 3]);
	v[n++] = field(&b, "SYSLOG_IDENTIFIER=dtxd");
	if (f.gid != NULL)
		v[n++] = field(&b, "DTX_GID=%.*s", DTX_GID_MAX, f.gid);
	if (f.branch >= 0)
		v[n++] = field(&b, "DTX_BRANCH=%lld", (long long)f.branch);
	if (f.op != NULL)
		v[n++] = field(&b, "DTX_OP=%s", f.op);
	if (f.trace_id[0] != '\0')
		v[n++] = field(&b, "TRACE_ID=%s", f.trace_id);
	if (f.span_id[0] != '\0')
		v[n++] = field(&b, "SPAN_ID=%s", f.span_id);
	n = n < max ? n : max;
	memcpy(ret_fields, v, (size_t)n * sizeof(*v));
	return n;
}

/* send_journal sends one entry; false if journald did not take it. */
static bool send_journal(int level, const dc_diag_about *about, const char *msg)
{
	char buf[DC_DIAG_LINE_MAX];
	const char *fields[JOURNAL_FIELDS_MAX];
	struct iovec iov[JOURNAL_FIELDS_MAX];
	int n = dc_diag_journal_fields(level, about, msg, buf, sizeof(buf),
	                               fields, JOURNAL_FIELDS_MAX);

	for (int i = 0; i < n; i++)
		iov[i] = (struct iovec){(void *)fields[i], strlen(fields[i])};
	return sd_journal_sendv(iov, n) >= 0;
}

/* ---- printing --------------------------------------------------------- */

static void emit(int level, const dc_diag_about *about, const char *fmt,
                 va_list ap) __attribute__((format(printf, 3, 0)));

static void emit(int level, const dc_diag_about *about, const char *fmt,
                 va_list ap)
{
	char msg[DC_DIAG_MSG_MAX + 2], line[DC_DIAG_LINE_MAX];
	dc_diag_format f = (dc_diag_format)format;
	struct timespec ts;
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* journald refused it (stopped since): the line goes to stderr as
	 * text, never lost */
	if (f == DC_DIAG_JOURNAL && send_journal(level, about, msg))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	n = dc_diag_render(f == DC_DIAG_JSON ? f : DC_DIAG_TEXT, level,
	                   (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
	                   about, msg, line, sizeof(line));
	(void)!write(STDERR_FILENO, line, n);
}

void dc_diag(int level, const char *fmt, ...)
{
	va_list ap;

	if (!dc_diag_enabled(level))
		return;
	va_start(ap, fmt);
	emit(level, NULL, fmt, ap);
	va_end(ap);
}

void dc_diag_tx(int level, const dc_diag_about *about, const char *fmt, ...)
{
	va_list ap;

	if (!dc_diag_enabled(level))
		return;
	va_start(ap, fmt);
	emit(level, about, fmt, ap);
	va_end(ap);
}
