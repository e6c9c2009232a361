/*
 * diag.h - the daemon's diagnostics: one event per line, in one of three
 * formats (dtxd --log-format):
 *
 *   text     "2026-11-22T01:02:03.456Z dtxd[pid] LEVEL message" and, for
 *            a line about a transaction, " gid=G branch=N op=OP
 *            trace_id=T span_id=S" (the fields it has);
 *   json     one JSON object per line: {"time", "level", "pid", "msg",
 *            and "gid", "branch", "op", "trace_id", "span_id" when known};
 *   journal  a journald entry (sd_journal_sendv): MESSAGE, PRIORITY (3
 *            error, 4 warn, 6 info, 7 debug), SYSLOG_IDENTIFIER=dtxd and
 *            DTX_GID, DTX_BRANCH, DTX_OP, TRACE_ID, SPAN_ID; where
 *            journald does not run (no /run/systemd/journal/socket when
 *            the format is set) or refuses an entry, lines go to stderr
 *            as text, after a warning that says so.
 *
 * A message never breaks its line: control characters are escaped (\n,
 * \t, \xNN in text; JSON's escapes in json), bytes that are not UTF-8
 * become '?' (text) or U+FFFD (json), and a long message is cut at
 * DC_DIAG_MSG_MAX bytes with "...". A line is built on the stack and
 * written with one write(2), so lines from threads never mix, and logging
 * allocates nothing (it runs on the out-of-memory path too).
 *
 * trace_id is the initiator's W3C trace-id (common/trace.h); span_id, on a
 * line about a branch call, is that call's span: the parent-id the
 * participant receives in its traceparent. The code that decides what to
 * do about an error logs it, once (STYLE.md).
 */
#ifndef DTX_COORDINATOR_DIAG_H
#define DTX_COORDINATOR_DIAG_H

#include <stddef.h>
#include <stdint.h>

#include <dtx/dtx.h>

#define DC_DIAG_MSG_MAX  1000 /* bytes of a message kept, before escaping */
#define DC_DIAG_LINE_MAX 8192 /* bytes of a rendered line, at most */

typedef enum dc_diag_format {
	DC_DIAG_TEXT = 0,
	DC_DIAG_JSON = 1,
	DC_DIAG_JOURNAL = 2,
	DC_DIAG_FORMAT_COUNT
} dc_diag_format;

/* What a line is about; every field may be absent. Strings borrowed. */
typedef struct dc_diag_about {
	const char *gid;         /* NULL: about no transaction */
	int64_t branch;          /* -1: about no branch */
	int op;                  /* a dtx_op of the branch's call; 0: none */
	const char *traceparent; /* the transaction's; NULL: none */
} dc_diag_about;

/* dc_diag_set_level drops lines above level (a dtx_log_level). */
void dc_diag_set_level(int level);

/* dc_diag_enabled tells whether level would be printed. */
int dc_diag_enabled(int level);

/* dc_diag_set_format chooses the format of every later line. Thread-safe
 * (SIGHUP changes it while other threads log). */
void dc_diag_set_format(dc_diag_format format);

/* dc_diag_format_parse reads "text", "json" or "journal" into *ret.
 * Errors: DTX_EINVAL. dc_diag_format_name is the reverse. */
int dc_diag_format_parse(const char *s, dc_diag_format *ret);
const char *dc_diag_format_name(dc_diag_format format);

/* dc_diag prints one line about nothing in particular if level is
 * enabled. Thread-safe (one write). */
void dc_diag(int level, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* dc_diag_tx is dc_diag for a line about a transaction, a branch or a
 * branch call (about borrowed; NULL as dc_diag). */
void dc_diag_tx(int level, const dc_diag_about *about, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* dc_diag_render writes the line a text or json format prints for msg
 * (borrowed; any bytes) at unix_ms into buf (len bytes; at least 256),
 * newline included, and returns its length (< len). Pure: for tests. */
size_t dc_diag_render(dc_diag_format format, int level, int64_t unix_ms,
                      const dc_diag_about *about, const char *msg, char *buf,
                      size_t len);

/* dc_diag_journal_fields writes the journal entry's fields for msg, each
 * "NAME=value", NUL-separated, into buf (len bytes; DC_DIAG_LINE_MAX
 * serves any) and points ret_fields[i] at them; returns how many (at most
 * max). Pure: for tests and for the journal format. */
int dc_diag_journal_fields(int level, const dc_diag_about *about,
                           const char *msg, char *buf, size_t len,
                           const char **ret_fields, int max);

#endif
