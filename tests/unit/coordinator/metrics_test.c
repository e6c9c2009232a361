/*
 * metrics_test.c - dtxd's counters and their text (coordinator/
 * metrics.c): the (participant, handler) series are capped, later pairs
 * counted as "other"; label values are escaped; readiness names its
 * first failing reason. No I/O: counters are fed, the text is searched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <dtx/dtx.h>

#include "machine.h"
#include "metrics.h"

static char *render(const dc_metrics *m)
{
	char *buf;
	size_t len;

	cr_assert_eq(dc_metrics_render(m, &buf, &len), DTX_OK);
	cr_assert_eq(strlen(buf), len);
	return buf;
}

/* count_lines counts lines of text that start with what. */
static size_t count_lines(const char *text, const char *what)
{
	size_t n = 0;

	for (const char *p = text; p != NULL && *p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		n += strncmp(p, what, strlen(what)) == 0;
	}
	return n;
}

Test(metrics, branch_series_are_capped_and_the_rest_is_other)
{
	dc_metrics *m;
	char handler[64], line[256];
	char *text;

	cr_assert_eq(dc_metrics_create(false, 1, 0, &m), DTX_OK);
	for (int i = 0; i < DC_METRICS_PAIRS + 8; i++) {
		snprintf(handler, sizeof(handler), "svc.h%d", i);
		dc_metrics_call(m, "tcp://127.0.0.1:7001", handler,
		                DTX_OP_ACTION, DC_OUT_OK, 1000000);
		/* a pair seen again stays in its series */
		dc_metrics_call(m, "tcp://127.0.0.1:7001", handler,
		                DTX_OP_ACTION, DC_OUT_OK, 1000000);
	}
	text = render(m);
	/* one _count line per pair that has ok calls: 32 + "other" */
	cr_assert_eq(
	        count_lines(text, "dtx_branch_call_duration_seconds_count{"),
	        DC_METRICS_PAIRS + 1, "%s", text);
	cr_assert(strstr(text, "handler=\"svc.h31\",outcome=\"ok\"} 2\n") !=
	          NULL);
	cr_assert(strstr(text, "handler=\"svc.h32\"") == NULL);
	snprintf(line, sizeof(line),
	         "dtx_branch_call_duration_seconds_count{participant=\"other\","
	         "handler=\"other\",outcome=\"ok\"} %d\n",
	         8 * 2);
	cr_assert(strstr(text, line) != NULL, "%s", text);
	cr_assert(strstr(text, "dtx_branch_calls_total{op=\"action\","
	                       "outcome=\"ok\"} 80\n") != NULL);
	free(text);
	dc_metrics_destroy(m);
}

Test(metrics, label_values_are_escaped)
{
	dc_metrics *m;
	char *text;

	cr_assert_eq(dc_metrics_create(false, 1, 0, &m), DTX_OK);
	dc_metrics_call(m, "ipc:///tmp/a\"b\\c\nd", "h", DTX_OP_ACTION,
	                DC_OUT_FAIL, 5);
	text = render(m);
	cr_assert(strstr(text, "participant=\"ipc:///tmp/a\\\"b\\\\c\\nd\"") !=
	                  NULL,
	          "%s", text);
	free(text);
	dc_metrics_destroy(m);
}

Test(metrics, readiness_names_what_is_missing)
{
	dc_metrics *m;
	char why[200];

	cr_assert_eq(dc_metrics_create(true, 4, 30000, &m), DTX_OK);
	cr_assert(!dc_metrics_is_ready(m, why, sizeof(why)));
	cr_assert(strstr(why, "starting") != NULL, "%s", why);
	dc_metrics_set_phase(m, DC_METRICS_SERVING);
	cr_assert(!dc_metrics_is_ready(m, why, sizeof(why)));
	cr_assert(strstr(why, "no lease round has reached it yet") != NULL,
	          "%s", why);
	dc_metrics_lease_round(m, true, 0);
	cr_assert(!dc_metrics_is_ready(m, why, sizeof(why)));
	cr_assert(strstr(why, "no shard lease held") != NULL, "%s", why);
	dc_metrics_lease_round(m, true, 2);
	cr_assert(dc_metrics_is_ready(m, why, sizeof(why)), "%s", why);
	dc_metrics_lease_round(m, false, 0);
	cr_assert(!dc_metrics_is_ready(m, why, sizeof(why)));
	cr_assert(strstr(why, "last lease round failed") != NULL, "%s", why);
	dc_metrics_set_phase(m, DC_METRICS_STOPPING);
	cr_assert(!dc_metrics_is_ready(m, why, sizeof(why)));
	cr_assert(strstr(why, "stopping") != NULL, "%s", why);
	cr_assert(dc_metrics_is_live(m, why, sizeof(why)), "%s", why);
	dc_metrics_destroy(m);
}
