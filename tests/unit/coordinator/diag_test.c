/*
 * diag_test.c - unit tests of coordinator/diag.c: every format keeps one
 * event on one line whatever the message holds, JSON lines parse (with
 * jansson) and carry the fields, and the journal entry's fields are the
 * ones journald gets (journald does not run on the test machines: this
 * is where its fields are checked).
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "diag.h"
#include "trace.h"

#define TP  "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
#define NOW 1765000000123LL

static const char hostile[] = "line one\nline two\r\t\"quoted\" \\ "
                              "\x01\x1b[31m \x7f bad utf-8: \xc3\x28 "
                              "\xed\xa0\x80 \xf0\x9f\x98\x80 end";

static const dc_diag_about call_about = {
        .gid = "g-1", .branch = 2, .op = DTX_OP_COMPENSATE, .traceparent = TP};

/* one_line: buf ends with its only newline. */
static void assert_one_line(const char *buf, size_t n)
{
	cr_assert_gt(n, 0);
	cr_assert_eq(buf[n - 1], '\n');
	cr_assert_eq(strchr(buf, '\n'), buf + n - 1, "%s", buf);
	cr_assert_null(strchr(buf, '\r'));
}

Test(diag, text_escapes_control_characters_and_appends_fields)
{
	char buf[DC_DIAG_LINE_MAX], span[TRACE_SPAN_HEX + 1], want[64];
	size_t n = dc_diag_render(DC_DIAG_TEXT, DTX_LOG_WARN, NOW, &call_about,
	                          hostile, buf, sizeof(buf));
	trace_ctx p, c;

	assert_one_line(buf, n);
	cr_assert(strstr(buf, "2025-12-06T05:46:40.123Z dtxd[") == buf, "%s",
	          buf);
	cr_assert(strstr(buf, " WARN line one\\nline two\\r\\t\"quoted\"") !=
	                  NULL,
	          "%s", buf);
	cr_assert(strstr(buf, "\\x01\\x1b[31m \\x7f bad utf-8: ?( ???") != NULL,
	          "%s", buf);
	cr_assert(strstr(buf,
	                 "\xf0\x9f\x98\x80 end gid=g-1 branch=2 "
	                 "op=compensate trace_id="
	                 "4bf92f3577b34da6a3ce929d0e0e4736 span_id=") != NULL,
	          "%s", buf);
	trace_parse(TP, &p, NULL, 0);
	trace_child(&p, "g-1", 2, DTX_OP_COMPENSATE, &c);
	trace_span_hex(&c, span);
	snprintf(want, sizeof(want), "span_id=%s\n", span);
	cr_assert(strstr(buf, want) != NULL, "%s", buf);
}

Test(diag, json_is_one_valid_object_with_the_fields)
{
	char buf[DC_DIAG_LINE_MAX];
	size_t n = dc_diag_render(DC_DIAG_JSON, DTX_LOG_DEBUG, NOW, &call_about,
	                          hostile, buf, sizeof(buf));
	json_error_t err;
	json_t *o;
	const char *msg;

	assert_one_line(buf, n);
	o = json_loads(buf, 0, &err);
	cr_assert_not_null(o, "%s: %s", err.text, buf);
	cr_assert_str_eq(json_string_value(json_object_get(o, "level")),
	                 "debug");
	cr_assert_str_eq(json_string_value(json_object_get(o, "time")),
	                 "2025-12-06T05:46:40.123Z");
	cr_assert_str_eq(json_string_value(json_object_get(o, "gid")), "g-1");
	cr_assert_eq(json_integer_value(json_object_get(o, "branch")), 2);
	cr_assert_str_eq(json_string_value(json_object_get(o, "op")),
	                 "compensate");
	cr_assert_str_eq(json_string_value(json_object_get(o, "trace_id")),
	                 "4bf92f3577b34da6a3ce929d0e0e4736");
	cr_assert_eq(strlen(json_string_value(json_object_get(o, "span_id"))),
	             16);
	msg = json_string_value(json_object_get(o, "msg"));
	cr_assert(strncmp(msg, "line one\nline two\r\t\"quoted\" \\ \x01",
	                  31) == 0,
	          "%s", msg);
	cr_assert(strstr(msg, "\xef\xbf\xbd(") != NULL, "%s", msg); /* U+FFFD */
	cr_assert(strstr(msg, "\xf0\x9f\x98\x80 end") != NULL, "%s", msg);
	json_decref(o);
}

Test(diag, a_line_about_nothing_has_no_fields_and_a_long_message_is_cut)
{
	static char big[20000];
	char buf[DC_DIAG_LINE_MAX];
	json_t *o;
	size_t n;

	memset(big, '\n', sizeof(big) - 1); /* worst case: every byte escaped */
	n = dc_diag_render(DC_DIAG_JSON, DTX_LOG_INFO, NOW, NULL, big, buf,
	                   sizeof(buf));
	assert_one_line(buf, n);
	o = json_loads(buf, 0, NULL);
	cr_assert_not_null(o, "%s", buf);
	cr_assert_eq(json_object_size(o), 4); /* time, level, pid, msg */
	cr_assert_eq(strlen(json_string_value(json_object_get(o, "msg"))),
	             DC_DIAG_MSG_MAX + 3); /* cut, then "..." */
	json_decref(o);
}

Test(diag, journal_fields_have_priority_identifier_and_trace)
{
	char buf[DC_DIAG_LINE_MAX];
	const char *f[16];
	int n = dc_diag_journal_fields(DTX_LOG_ERROR, &call_about, "a\nb", buf,
	                               sizeof(buf), f, 16);

	cr_assert_eq(n, 8);
	cr_assert_str_eq(f[0], "MESSAGE=a\\nb");
	cr_assert_str_eq(f[1], "PRIORITY=3");
	cr_assert_str_eq(f[2], "SYSLOG_IDENTIFIER=dtxd");
	cr_assert_str_eq(f[3], "DTX_GID=g-1");
	cr_assert_str_eq(f[4], "DTX_BRANCH=2");
	cr_assert_str_eq(f[5], "DTX_OP=compensate");
	cr_assert_str_eq(f[6], "TRACE_ID=4bf92f3577b34da6a3ce929d0e0e4736");
	cr_assert(strncmp(f[7], "SPAN_ID=", 8) == 0 && strlen(f[7]) == 24);
	n = dc_diag_journal_fields(DTX_LOG_DEBUG, NULL, "x", buf, sizeof(buf),
	                           f, 16);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(f[1], "PRIORITY=7");
}

Test(diag, formats_parse_by_name)
{
	dc_diag_format f;

	cr_assert_eq(dc_diag_format_parse("json", &f), DTX_OK);
	cr_assert_eq(f, DC_DIAG_JSON);
	cr_assert_eq(dc_diag_format_parse("journal", &f), DTX_OK);
	cr_assert_eq(f, DC_DIAG_JOURNAL);
	cr_assert_eq(dc_diag_format_parse("JSON", &f), DTX_EINVAL);
	cr_assert_str_eq(dc_diag_format_name(DC_DIAG_TEXT), "text");
}
