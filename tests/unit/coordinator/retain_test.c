/*
 * retain_test.c - the pruning schedule and the log-full state
 * (coordinator/retain.c), and the duration flags they come from
 * (coordinator/config.c). No I/O: times are given, not read.
 */
#include <criterion/criterion.h>

#include "config.h"
#include "retain.h"

#define NOW INT64_C(1800000000000)
#define MIB ((uint64_t)1 << 20)
#define DAY INT64_C(86400000)

Test(retain, durations_take_a_unit_or_zero)
{
	uint64_t ms = 1;

	cr_assert(dc_config_parse_duration("0", &ms));
	cr_assert_eq(ms, 0);
	cr_assert(dc_config_parse_duration("500ms", &ms));
	cr_assert_eq(ms, 500);
	cr_assert(dc_config_parse_duration("60s", &ms));
	cr_assert_eq(ms, 60000);
	cr_assert(dc_config_parse_duration("10m", &ms));
	cr_assert_eq(ms, 600000);
	cr_assert(dc_config_parse_duration("12h", &ms));
	cr_assert_eq(ms, 12 * 3600000);
	cr_assert(dc_config_parse_duration("7d", &ms));
	cr_assert_eq(ms, 7 * 86400000ull);
	ms = 42;
	cr_assert_not(dc_config_parse_duration("60", &ms)); /* no unit */
	cr_assert_not(dc_config_parse_duration("-1s", &ms));
	cr_assert_not(dc_config_parse_duration("1w", &ms));
	cr_assert_not(dc_config_parse_duration("s", &ms));
	cr_assert_not(dc_config_parse_duration("", &ms));
	cr_assert_not(dc_config_parse_duration("1.5h", &ms));
	cr_assert_not(dc_config_parse_duration("99999999999d", &ms));
	cr_assert_eq(ms, 42); /* untouched on a refusal */
}

Test(retain, retention_flags_default_to_seven_and_thirty_days)
{
	char a0[] = "dtxd", a1[] = "--log-dir", a2[] = "x",
	     a3[] = "--retain-final", a4[] = "60s", b4[] = "7";
	char *argv[] = {a0, a1, a2, a3, a4, NULL};
	char *bad[] = {a0, a1, a2, a3, b4, NULL};
	dc_config cfg;

	dc_config_defaults(&cfg);
	cr_assert_eq(cfg.retain_final_ms, 7 * DAY);
	cr_assert_eq(cfg.retain_tombstones_ms, 30 * DAY);
	cr_assert_eq(dc_config_parse(&cfg, 5, argv, stdout, stderr),
	             DC_CONFIG_OK);
	cr_assert_eq(cfg.retain_final_ms, 60000);
	dc_config_defaults(&cfg);
	cr_assert_eq(dc_config_parse(&cfg, 5, bad, stdout, stderr),
	             DC_CONFIG_USAGE);
}

Test(retain, zero_keeps_everything_and_never_prunes)
{
	dc_retain r;
	dc_log_prune p;

	dc_retain_init(&r, 0, 0);
	cr_assert_not(dc_retain_is_on(&r));
	cr_assert_not(dc_retain_is_due(&r, NOW));
	cr_assert_not(dc_retain_plan(&r, NOW, 10, &p));
}

Test(retain, a_prune_is_due_every_tenth_of_the_retention_or_while_behind)
{
	dc_retain r;
	dc_log_prune p;
	dc_log_pruned behind = {.pruned = 64, .more_final = true};
	dc_log_pruned caught_up = {.pruned = 3};

	dc_retain_init(&r, 60000, 0);
	cr_assert_eq(r.every_ms, 6000);
	cr_assert(dc_retain_plan(&r, NOW, 0, &p));
	cr_assert_eq(p.final_before_ms, NOW - 60000);
	cr_assert_eq(p.tomb_before_ms, 0); /* tombstones are kept */
	cr_assert_eq(p.max_final, 64);
	cr_assert_not(dc_retain_is_due(&r, NOW + 5999));
	dc_retain_done(&r, &behind, NULL);
	cr_assert(dc_retain_is_due(&r, NOW + 1)); /* a backlog */
	cr_assert(dc_retain_plan(&r, NOW + 1, 100, &p));
	cr_assert_eq(p.max_final, 64 + 200);
	dc_retain_done(&r, &caught_up, NULL);
	cr_assert_not(dc_retain_is_due(&r, NOW + 2));
	cr_assert(dc_retain_is_due(&r, NOW + 1 + 6000));
	cr_assert(dc_retain_plan(&r, NOW + 10000, 100000, &p));
	cr_assert_eq(p.max_final, 1024); /* bounded per commit */
}

Test(retain, the_interval_stays_between_100_ms_and_10_s)
{
	dc_retain r;

	dc_retain_init(&r, 1000, 0);
	cr_assert_eq(r.every_ms, 100);
	dc_retain_init(&r, 7 * DAY, 30 * DAY);
	cr_assert_eq(r.every_ms, 10000);
	dc_retain_init(&r, 0, 2000); /* tombstones only */
	cr_assert_eq(r.every_ms, 200);
}

Test(retain, a_log_near_its_maximum_is_full_until_it_has_room_again)
{
	dc_retain r;
	dc_log_usage u = {.used_bytes = 80 * MIB, .max_bytes = 100 * MIB};
	char msg[256];

	dc_retain_init(&r, 1000, 0);
	dc_retain_done(&r, NULL, &u);
	cr_assert_not(dc_retain_is_full(&r));
	u.used_bytes = 90 * MIB;
	dc_retain_done(&r, NULL, &u);
	cr_assert(dc_retain_is_full(&r));
	dc_retain_full_message(&r, msg, sizeof(msg));
	cr_assert_eq(strncmp(msg, "log full: 90.0 of 100.0 MiB", 27), 0, "%s",
	             msg);
	u.used_bytes = 85 * MIB; /* below 90%, not below 80%: still full */
	dc_retain_done(&r, NULL, &u);
	cr_assert(dc_retain_is_full(&r));
	u.used_bytes = 79 * MIB;
	dc_retain_done(&r, NULL, &u);
	cr_assert_not(dc_retain_is_full(&r));
	/* a small map: the reserve decides */
	u = (dc_log_usage){.used_bytes = 5 * MIB, .max_bytes = 6 * MIB};
	dc_retain_done(&r, NULL, &u);
	cr_assert(dc_retain_is_full(&r));
}

Test(retain, a_tombstone_says_its_outcome_and_when_it_was_pruned)
{
	char msg[128];

	dc_retain_pruned_message(DTX_TX_COMMITTED, 1800000000123, msg,
	                         sizeof(msg));
	cr_assert_str_eq(msg, "final: committed, details pruned at "
	                      "2027-01-15T08:00:00.123Z");
}
