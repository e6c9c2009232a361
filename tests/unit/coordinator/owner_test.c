/*
 * owner_test.c - lease rounds (coordinator/owner.c) of several instances
 * on one real PostgreSQL store (a throw-away cluster, suite postgres):
 * each instance is a dc_owner on its own shared writer handle, and time
 * is the test's (monotonic milliseconds passed to each round), so an
 * instance "dies" or "pauses" by not running rounds while the others'
 * clocks move on. The engine's part (recovering taken shards, draining,
 * exiting on a lost lease) is not here: a drain is instant.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dtx/dtx.h>

#include "log.h"
#include "owner.h"
#include "pgtmp.h"

#define SHARDS   8
#define LEASE_MS 1000
#define STEP_MS  (LEASE_MS / 3)
#define MAX_INST 4

static char g_where[700];

static void setup(void)
{
	const char *admin = getenv(PGTMP_ENV_ADMIN);
	char base[PGTMP_URI_MAX], sql[128], err[512], schema[32];

	cr_assert_not_null(admin, "no cluster: run through main (pgtmp)");
	snprintf(schema, sizeof(schema), "o_%ld", (long)getpid());
	snprintf(sql, sizeof(sql), "CREATE SCHEMA %s AUTHORIZATION dtx",
	         schema);
	cr_assert_eq(pgtmp_sql(admin, "dtx", sql, err, sizeof(err)), 0, "%s",
	             err);
	cr_assert_eq(
	        pgtmp_uri_for(admin, "dtx", PGTMP_ROLE, base, sizeof(base)), 0);
	snprintf(g_where, sizeof(g_where), "%s%coptions=-csearch_path%%3D%s",
	         base, strchr(base, '?') ? '&' : '?', schema);
}

TestSuite(owner, .init = setup, .timeout = 120);

/* One instance: its store handle, its owner, and what it must drain. */
typedef struct inst {
	char name[16];
	dc_log *log;
	dc_owner *own;
	uint8_t drained[SHARDS / 8 + 1];
	dc_owner_round r;
	bool running;
} inst;

static void inst_start(inst *in, const char *name)
{
	dc_log_opts lo = {.dir = g_where, .shards = SHARDS, .shared = true};
	char err[512] = "", url[64];
	dc_owner_opts oo;
	int rc;

	memset(in, 0, sizeof(*in));
	snprintf(in->name, sizeof(in->name), "%s", name);
	rc = dc_log_open(&lo, &in->log, err, sizeof(err));
	cr_assert_eq(rc, DTX_OK, "open: %s (%s)", dtx_strerror(rc), err);
	snprintf(url, sizeof(url), "tcp://127.0.0.1:7%s", name);
	oo = (dc_owner_opts){in->log, name, url, NULL, SHARDS, LEASE_MS};
	cr_assert_eq(dc_owner_create(&oo, &in->own), DTX_OK);
	in->running = true;
}

static void inst_stop(inst *in)
{
	dc_owner_destroy(in->own);
	dc_log_close(in->log);
	in->own = NULL;
	in->log = NULL;
	in->running = false;
}

/* round runs one round of in at now; shards it is told to drain are
 * drained at once (the next round releases them). */
static int round_at(inst *in, uint64_t now)
{
	int rc = dc_owner_run_round(in->own, now, 1, in->drained, &in->r);

	if (rc != DTX_OK)
		return rc;
	cr_assert_eq(in->r.nlost, 0, "%s lost %u shards", in->name,
	             in->r.nlost);
	for (uint32_t i = 0; i < in->r.ndrain; i++)
		in->drained[in->r.drain[i] / 8] |= 1u << (in->r.drain[i] % 8);
	return DTX_OK;
}

static uint32_t owned(const inst *in)
{
	uint32_t n = 0;

	for (uint32_t s = 0; s < SHARDS; s++)
		n += dc_owner_owns(in->own, s, NULL);
	return n;
}

/* settle runs rounds of every running instance, STEP_MS apart, from
 * *now for ms. */
static void settle(inst *in, int n, uint64_t *now, uint64_t ms)
{
	for (uint64_t end = *now + ms; *now < end; *now += STEP_MS)
		for (int i = 0; i < n; i++)
			if (in[i].running)
				cr_assert_eq(round_at(&in[i], *now), DTX_OK,
				             "%s: %s", in[i].name,
				             dc_log_last_error(in[i].log));
}

/* assert_one_owner: every shard has exactly one owner among in, and the
 * store agrees with each owner's belief. */
static void assert_one_owner(inst *in, int n)
{
	for (uint32_t s = 0; s < SHARDS; s++) {
		int owners = 0;

		for (int i = 0; i < n; i++)
			owners += in[i].running &&
			          dc_owner_owns(in[i].own, s, NULL);
		cr_assert_eq(owners, 1, "shard %u has %d owners", s, owners);
	}
}

static void start_three(inst *in, uint64_t *now)
{
	inst_start(&in[0], "a");
	inst_start(&in[1], "b");
	inst_start(&in[2], "c");
	settle(in, 3, now, 4 * LEASE_MS);
}

Test(owner, three_instances_split_the_shards_fairly)
{
	inst in[3];
	uint64_t now = 1000;
	const char *url = NULL;

	start_three(in, &now);
	cr_log_info("a %u, b %u, c %u", owned(&in[0]), owned(&in[1]),
	            owned(&in[2]));
	cr_assert_eq(owned(&in[0]), 3);
	cr_assert_eq(owned(&in[1]), 3);
	cr_assert_eq(owned(&in[2]), 2);
	assert_one_owner(in, 3);
	for (uint32_t s = 0; s < SHARDS; s++) {
		const char *o = dc_owner_owner_of(in[0].own, s, &url);

		cr_assert(strcmp(o, "a") == 0 || url[0] != '\0',
		          "the owner of shard %u (%s) has a URL", s, o);
	}
	for (int i = 0; i < 3; i++)
		inst_stop(&in[i]);
}

Test(owner, a_dead_instances_shards_are_taken_after_its_lease)
{
	inst in[3];
	uint64_t now = 1000, epoch_before[SHARDS], e;
	uint32_t taken = 0, had = 0;
	bool was_c[SHARDS];

	start_three(in, &now);
	for (uint32_t s = 0; s < SHARDS; s++) {
		was_c[s] = dc_owner_owns(in[2].own, s, &epoch_before[s]);
		had += was_c[s];
	}
	in[2].running = false; /* kill -9: no more rounds */
	/* Before the lease ran out nobody takes c's shards. */
	settle(in, 3, &now, LEASE_MS / 2);
	for (uint32_t s = 0; s < SHARDS; s++)
		cr_assert(!was_c[s] || (!dc_owner_owns(in[0].own, s, NULL) &&
		                        !dc_owner_owns(in[1].own, s, NULL)),
		          "shard %u taken before c's lease ran out", s);
	for (uint64_t end = now + 2 * LEASE_MS; now < end; now += STEP_MS)
		for (int i = 0; i < 2; i++) {
			cr_assert_eq(round_at(&in[i], now), DTX_OK);
			taken += in[i].r.ntaken;
		}
	cr_assert_eq(taken, had, "c's %u shards were taken (%u)", had, taken);
	in[2].running = true;
	assert_one_owner(in, 2);
	for (uint32_t s = 0; s < SHARDS; s++) {
		int i = dc_owner_owns(in[0].own, s, &e) ? 0 : 1;

		cr_assert(dc_owner_owns(in[i].own, s, &e));
		cr_assert(!was_c[s] || e == epoch_before[s] + 1,
		          "shard %u: a new owner, a new epoch", s);
	}
	/* c wakes up (SIGCONT): its next round finds its leases lost. */
	cr_assert_eq(dc_owner_run_round(in[2].own, now, 1, NULL, &in[2].r),
	             DTX_OK);
	cr_assert_eq(in[2].r.nlost, had, "c lost its %u shards", had);
	for (int i = 0; i < 3; i++)
		inst_stop(&in[i]);
}

Test(owner, a_second_instance_with_one_name_is_refused)
{
	inst in[2];
	uint64_t now = 1000;
	int rc;

	inst_start(&in[0], "a");
	settle(in, 1, &now, LEASE_MS);
	inst_start(&in[1], "a");
	cr_assert_eq(round_at(&in[1], now), DTX_OK);
	cr_assert(in[1].r.waiting, "the second waits for the name's record");
	cr_assert_eq(owned(&in[1]), 0);
	now += STEP_MS;
	cr_assert_eq(round_at(&in[0], now), DTX_OK); /* the first beats */
	rc = round_at(&in[1], now);
	cr_assert_eq(rc, DTX_ECONFLICT, "second: %s", dtx_strerror(rc));
	cr_assert_eq(owned(&in[0]), SHARDS, "the first keeps everything");
	inst_stop(&in[1]);
	inst_stop(&in[0]);
}

Test(owner, a_restart_with_the_same_name_takes_its_shards_back_fenced)
{
	inst in[1];
	uint64_t now = 1000, e0 = 0, e1 = 0;

	inst_start(&in[0], "a");
	settle(in, 1, &now, LEASE_MS);
	cr_assert(dc_owner_owns(in[0].own, 0, &e0));
	inst_stop(&in[0]); /* kill -9 */
	inst_start(&in[0], "a");
	cr_assert_eq(round_at(&in[0], now), DTX_OK);
	cr_assert(in[0].r.waiting);
	settle(in, 1, &now, LEASE_MS + STEP_MS);
	cr_assert_eq(owned(&in[0]), SHARDS);
	cr_assert(dc_owner_owns(in[0].own, 0, &e1));
	cr_assert_eq(e1, e0 + 1, "adopted at a new epoch (%lu -> %lu)",
	             (unsigned long)e0, (unsigned long)e1);
	inst_stop(&in[0]);
}

Test(owner, a_fourth_instance_joining_gets_shards)
{
	inst in[MAX_INST];
	uint64_t now = 1000;

	start_three(in, &now);
	inst_start(&in[3], "d");
	settle(in, MAX_INST, &now, 4 * LEASE_MS);
	cr_log_info("a %u, b %u, c %u, d %u", owned(&in[0]), owned(&in[1]),
	            owned(&in[2]), owned(&in[3]));
	for (int i = 0; i < MAX_INST; i++)
		cr_assert_eq(owned(&in[i]), 2, "%s has %u", in[i].name,
		             owned(&in[i]));
	assert_one_owner(in, MAX_INST);
	for (int i = 0; i < MAX_INST; i++)
		inst_stop(&in[i]);
}

static int run_tests(int argc, char **argv)
{
	struct criterion_test_set *tests = criterion_initialize();
	int rc = 0;

	if (criterion_handle_args(argc, argv, true))
		rc = !criterion_run_all_tests(tests);
	criterion_finalize(tests);
	return rc;
}

/* main starts one cluster for every test of the binary (pgtmp.h). */
int main(int argc, char **argv)
{
	return pgtmp_shared_main(argc, argv, run_tests);
}
