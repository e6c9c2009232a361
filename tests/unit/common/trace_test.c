/*
 * trace_test.c - unit tests of common/trace.c: the W3C traceparent
 * (version 00) rules, row by row, and the child span a branch call gets.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "dtx/dtx.h"
#include "trace.h"

#define GOOD "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

Test(trace, parses_and_formats_the_spec_example)
{
	trace_ctx c;
	char out[TRACE_PARENT_LEN + 1], id[TRACE_ID_HEX + 1],
	        span[TRACE_SPAN_HEX + 1];

	cr_assert_eq(trace_parse(GOOD, &c, NULL, 0), DTX_OK);
	cr_assert_eq(c.flags, 1);
	trace_format(&c, out);
	cr_assert_str_eq(out, GOOD);
	trace_id_hex(&c, id);
	trace_span_hex(&c, span);
	cr_assert_str_eq(id, "4bf92f3577b34da6a3ce929d0e0e4736");
	cr_assert_str_eq(span, "00f067aa0ba902b7");
}

typedef struct bad_case {
	char text[80];
	char why[40]; /* a word the reason must hold */
} bad_case;

ParameterizedTestParameters(trace, refuses_what_the_spec_refuses)
{
	static bad_case cases[] = {
	        {"", "empty"},
	        {"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	         "version"},
	        {"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	         "version"},
	        {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
	         "55 bytes"},
	        {"00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
	         "55 bytes"},
	        {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
	         "55 bytes"},
	        {"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
	         "lowercase hex"},
	        {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
	         "lowercase hex"},
	        {"00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
	         "separated"},
	        {"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
	         "trace-id is all zero"},
	        {"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
	         "parent-id is all zero"},
	        {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902\n7-01",
	         "lowercase hex"},
	};

	return cr_make_param_array(bad_case, cases,
	                           sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(bad_case *bc, trace, refuses_what_the_spec_refuses)
{
	trace_ctx c;
	char why[200] = "";

	cr_assert_eq(trace_parse(bc->text, &c, why, sizeof(why)), DTX_EINVAL,
	             "accepted '%s'", bc->text);
	cr_assert(strstr(why, bc->why) != NULL, "'%s': reason '%s'", bc->text,
	          why);
}

Test(trace, refuses_null_and_a_huge_string)
{
	static char huge[1 << 16];
	trace_ctx c;

	memset(huge, 'a', sizeof(huge) - 1);
	memcpy(huge, "00-", 3);
	cr_assert_eq(trace_parse(NULL, &c, NULL, 0), DTX_EINVAL);
	cr_assert_eq(trace_parse(huge, &c, NULL, 0), DTX_EINVAL);
}

Test(trace, keeps_unknown_flags_as_given)
{
	trace_ctx c;

	cr_assert_eq(trace_parse("00-4bf92f3577b34da6a3ce929d0e0e4736-"
	                         "00f067aa0ba902b7-fe",
	                         &c, NULL, 0),
	             DTX_OK);
	cr_assert_eq(c.flags, 0xfe);
}

Test(trace, a_child_span_keeps_trace_and_flags_and_is_stable_per_branch_op)
{
	trace_ctx p, a, a2, b, c;

	cr_assert_eq(trace_parse(GOOD, &p, NULL, 0), DTX_OK);
	trace_child(&p, "g1", 0, DTX_OP_ACTION, &a);
	trace_child(&p, "g1", 0, DTX_OP_ACTION, &a2);
	trace_child(&p, "g1", 1, DTX_OP_ACTION, &b);
	trace_child(&p, "g1", 0, DTX_OP_COMPENSATE, &c);
	cr_assert_eq(memcmp(a.trace_id, p.trace_id, 16), 0);
	cr_assert_eq(a.flags, p.flags);
	cr_assert_eq(memcmp(&a, &a2, sizeof(a)), 0);
	cr_assert_neq(memcmp(a.parent_id, p.parent_id, 8), 0);
	cr_assert_neq(memcmp(a.parent_id, b.parent_id, 8), 0);
	cr_assert_neq(memcmp(a.parent_id, c.parent_id, 8), 0);
}
