/*
 * leases_test.c - the engine's room for shard leases (coordinator/leases.c)
 * through its seams: the engine runs on a manual clock (clock.h) and the
 * in-memory transport (tests/support/memnet.h), its store is a real
 * PostgreSQL schema (a throw-away cluster, suite postgres), and its round
 * thread is the real one. A second instance "v" is played by the test: a
 * dc_owner on its own handle of the same store whose rounds the test runs.
 *
 * What must hold: an instance alone takes every shard, serves them only
 * once taken, answers `dtxctl shards` (AdminShards) from its rounds, and
 * its branch calls carry the shard's epoch; a shard drained for a joining
 * instance is released only once the drain bound has passed on the
 * engine's clock - however many rounds run before - and then only when
 * the call it has out came back; after that the transaction is no longer
 * driven here.
 *
 * The round thread judges liveness on the real monotonic clock (owner.h),
 * so v's heartbeat is written for real every few lease periods of the
 * test's short lease; every wait is bounded.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dtx/dtx.h>

#include "clock.h"
#include "config.h"
#include "diag.h"
#include "engine.h"
#include "log.h"
#include "memnet.h"
#include "owner.h"
#include "pgtmp.h"
#include "shard.h"

#define SHARDS   4
#define LEASE_MS 3000 /* rounds every second (real): a loaded machine */
/* below LEASE_MS: the engine's clock also ages its own heartbeat (a jump
 * past the lease would read as a stalled store) */
#define DRAIN_MS 2000
#define T0_UNIX  INT64_C(1700000000000)
#define T0_MONO  UINT64_C(1000000)
#define WAIT_MS  30000

static struct {
	char where[700];
	uv_loop_t loop;
	dc_clock_manual clock;
	dc_config cfg;
	dc_engine *e;
	memnet *net;
	dc_log *vlog; /* instance v's handle */
	dc_owner *v;
	uint64_t v_next; /* v's next round (real ms) */
} g;

static uint64_t real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void setup(void)
{
	const char *admin = getenv(PGTMP_ENV_ADMIN);
	char base[PGTMP_URI_MAX], sql[128], err[512], schema[32];
	static int n;

	memset(&g, 0, sizeof(g));
	cr_assert_not_null(admin, "no cluster: run through main (pgtmp)");
	snprintf(schema, sizeof(schema), "l_%ld_%d", (long)getpid(), n++);
	snprintf(sql, sizeof(sql), "CREATE SCHEMA %s AUTHORIZATION dtx",
	         schema);
	cr_assert_eq(pgtmp_sql(admin, "dtx", sql, err, sizeof(err)), 0, "%s",
	             err);
	cr_assert_eq(
	        pgtmp_uri_for(admin, "dtx", PGTMP_ROLE, base, sizeof(base)), 0);
	snprintf(g.where, sizeof(g.where), "%s%coptions=-csearch_path%%3D%s",
	         base, strchr(base, '?') ? '&' : '?', schema);
	cr_assert_eq(uv_loop_init(&g.loop), 0);
	dc_clock_manual_init(&g.clock, T0_UNIX, T0_MONO);
	dc_diag_set_level(DTX_LOG_ERROR);
	dc_config_defaults(&g.cfg);
	g.cfg.log_dir = g.where;
	g.cfg.nshards = SHARDS;
	g.cfg.instance = "u";
	g.cfg.advertise = "tcp://127.0.0.1:1";
	g.cfg.admin = "tcp://127.0.0.1:2";
	g.cfg.lease_ms = LEASE_MS;
	g.cfg.drain_ms = DRAIN_MS;
	g.cfg.max_clients = MEMNET_SLOTS;
	g.cfg.retain_final_ms = 0;
	g.cfg.retain_tombstones_ms = 0;
	g.cfg.retry_base_ms = 10000;
	g.cfg.retry_max_ms = 10000;
	g.cfg.action_max_attempts = 0;
}

static void teardown(void)
{
	if (g.e != NULL) {
		dc_engine_stop(g.e);
		uv_run(&g.loop, UV_RUN_DEFAULT);
		dc_engine_destroy(g.e);
	}
	memnet_destroy(g.net);
	dc_owner_destroy(g.v);
	dc_log_close(g.vlog);
	uv_loop_close(&g.loop);
}

TestSuite(leases, .init = setup, .fini = teardown, .timeout = 120);

static void engine_start(void)
{
	dc_engine_parts parts = {.clock = &g.clock.base, .seed = 7};
	char err[256] = "";

	cr_assert_eq(memnet_create(&g.net), DTX_OK);
	parts.transport = memnet_transport(g.net);
	cr_assert_eq(dc_engine_create_with(&g.loop, &g.cfg, &parts, &g.e, err,
	                                   sizeof(err)),
	             DTX_OK, "engine: %s", err);
}

/* spin runs the loop for about ms of real time (the round thread's mail
 * comes in on its own schedule), running v's rounds if v is there. */
static void spin(uint64_t ms)
{
	uint64_t end = real_ms() + ms;

	while (real_ms() < end) {
		uv_run(&g.loop, UV_RUN_NOWAIT);
		if (g.v != NULL) {
			dc_owner_round r;
			uint8_t drained[SHARDS / 8 + 1] = {0xff};

			if (real_ms() >= g.v_next) {
				(void)dc_owner_run_round(g.v, real_ms(), 1,
				                         drained, &r);
				g.v_next = real_ms() + LEASE_MS / 3;
			}
		}
		usleep(20 * 1000);
	}
}

/* shards asks the engine for AdminShards (dtxctl shards). */
static Dtx__V1__AdminReply *shards(void)
{
	Dtx__V1__AdminRequest m = DTX__V1__ADMIN_REQUEST__INIT;
	Dtx__V1__AdminShards s = DTX__V1__ADMIN_SHARDS__INIT;
	Dtx__V1__AdminReply *rep;
	memnet_req *r;

	m.has_version = 1;
	m.version = DTX__V1__VERSION__VERSION_1;
	m.body_case = DTX__V1__ADMIN_REQUEST__BODY_SHARDS;
	m.shards = &s;
	r = memnet_admin(g.net, &m);
	cr_assert_not_null(r);
	for (int i = 0; i < 100 && !r->answered; i++)
		uv_run(&g.loop, UV_RUN_NOWAIT);
	cr_assert(r->answered);
	rep = memnet_admin_reply(r);
	cr_assert_not_null(rep);
	memnet_req_free(r);
	return rep;
}

/* owned_by counts the shards the engine's view says name owns. */
static int owned_by(const char *name, Dtx__V1__ShardState state)
{
	Dtx__V1__AdminReply *rep = shards();
	int n = 0;

	cr_assert_eq(rep->n_shards, SHARDS);
	for (size_t i = 0; i < rep->n_shards; i++)
		n += rep->shards[i]->owner != NULL &&
		     strcmp(rep->shards[i]->owner, name) == 0 &&
		     rep->shards[i]->state == state;
	dtx__v1__admin_reply__free_unpacked(rep, NULL);
	return n;
}

/* wait_owned spins until name owns want shards in state (bounded). */
static void wait_owned(const char *name, Dtx__V1__ShardState state, int want)
{
	uint64_t t0 = real_ms();

	while (owned_by(name, state) != want) {
		cr_assert_lt(real_ms() - t0, WAIT_MS, "%s does not own %d",
		             name, want);
		spin(50);
	}
}

/* submit submits a one-step saga of gid (client gid) and returns the
 * request, answered once durable. */
static memnet_req *submit(const char *gid)
{
	Dtx__V1__ClientRequest m = DTX__V1__CLIENT_REQUEST__INIT;
	Dtx__V1__SubmitSaga s = DTX__V1__SUBMIT_SAGA__INIT;
	Dtx__V1__SagaStep st = DTX__V1__SAGA_STEP__INIT, *sp = &st;
	memnet_req *r;

	char url[] = "tcp://127.0.0.1:20000", act[] = "a0", comp[] = "c0";

	st.participant_url = url;
	st.action = act;
	st.compensate = comp;
	s.gid = (char *)gid;
	s.n_steps = 1;
	s.steps = &sp;
	m.has_version = 1;
	m.version = DTX__V1__VERSION__VERSION_1;
	m.body_case = DTX__V1__CLIENT_REQUEST__BODY_SUBMIT;
	m.submit = &s;
	r = memnet_client(g.net, &m);
	cr_assert_not_null(r);
	return r;
}

/* submit_ok submits gid and waits (bounded) for its acknowledgement. */
static void submit_ok(const char *gid)
{
	memnet_req *r = submit(gid);
	Dtx__V1__ClientReply *cr;
	uint64_t t0 = real_ms();

	while (!r->answered) {
		cr_assert_lt(real_ms() - t0, WAIT_MS, "%s not answered", gid);
		spin(20);
	}
	cr = memnet_client_reply(r);
	cr_assert_not_null(cr);
	cr_assert_eq(cr->code, DTX__V1__CODE__CODE_OK, "submit %s: %d %s", gid,
	             (int)cr->code, cr->message ? cr->message : "");
	dtx__v1__client_reply__free_unpacked(cr, NULL);
	memnet_req_free(r);
}

/* gid_in makes a gid of shard s in out. */
static void gid_in(uint32_t s, char *out, size_t len)
{
	for (int k = 0;; k++) {
		snprintf(out, len, "lt-%d", k);
		if (shard_of_gid(out, SHARDS) == s)
			return;
	}
}

/* wait_call waits for the call of gid's action to leave. */
static memnet_call *wait_call(const char *gid)
{
	uint64_t t0 = real_ms();
	memnet_call *c;

	while ((c = memnet_find_call(g.net, gid, 0, DTX_OP_ACTION)) == NULL) {
		cr_assert_lt(real_ms() - t0, WAIT_MS, "no call of %s (%u sent)",
		             gid, (unsigned)memnet_calls_sent(g.net));
		spin(20);
	}
	return c;
}

static void v_join(void)
{
	dc_log_opts lo = {.dir = g.where, .shards = SHARDS, .shared = true};
	dc_owner_opts oo = {
	        .name = "v", .shards = SHARDS, .lease_ms = LEASE_MS};
	char err[256] = "";

	cr_assert_eq(dc_log_open(&lo, &g.vlog, err, sizeof(err)), DTX_OK, "%s",
	             err);
	oo.log = g.vlog;
	cr_assert_eq(dc_owner_create(&oo, &g.v), DTX_OK);
}

Test(leases, a_lone_instance_takes_every_shard_and_its_calls_carry_the_epoch)
{
	Dtx__V1__AdminReply *rep;
	memnet_call *c;
	char gid[32];
	uint64_t epoch = 0;

	engine_start();
	wait_owned("u", DTX__V1__SHARD_STATE__SHARD_OWNED, SHARDS);
	rep = shards();
	cr_assert_str_eq(rep->instance, "u");
	gid_in(2, gid, sizeof(gid));
	for (size_t i = 0; i < rep->n_shards; i++) {
		const Dtx__V1__ShardInfo *s = rep->shards[i];

		cr_assert_gt(s->epoch, 0);
		cr_assert_str_eq(s->client_url, "tcp://127.0.0.1:1");
		cr_assert_str_eq(s->admin_url, "tcp://127.0.0.1:2");
		cr_assert(s->has_owned_since_unix_ms);
		cr_assert_not(s->since_is_lower_bound, "taken here: exact");
		cr_assert(s->has_heartbeat_age_ms);
		if (s->shard == 2)
			epoch = s->epoch;
	}
	dtx__v1__admin_reply__free_unpacked(rep, NULL);
	submit_ok(gid);
	c = wait_call(gid);
	cr_assert_eq(c->epoch, epoch, "the call carries epoch %llu, not %llu",
	             (unsigned long long)c->epoch, (unsigned long long)epoch);
}

Test(leases,
     a_drain_ends_at_its_bound_on_the_engines_clock_once_its_call_is_back)
{
	char gid[32];
	memnet_call *c;
	uint64_t sent;

	engine_start();
	wait_owned("u", DTX__V1__SHARD_STATE__SHARD_OWNED, SHARDS);
	gid_in(SHARDS - 1, gid, sizeof(gid)); /* the one u gives back */
	submit_ok(gid);
	c = wait_call(gid);
	v_join();
	/* u gives v two shards: the one without a transaction goes at once,
	 * the other drains; rounds pass, the engine's clock does not */
	wait_owned("v", DTX__V1__SHARD_STATE__SHARD_OWNED, 1);
	wait_owned("u", DTX__V1__SHARD_STATE__SHARD_DRAINING, 1);
	spin(2 * LEASE_MS);
	cr_assert_eq(owned_by("u", DTX__V1__SHARD_STATE__SHARD_DRAINING), 1,
	             "released before the drain bound");
	/* past the bound: handed over, but its call is still out */
	dc_clock_manual_advance(&g.clock, DRAIN_MS);
	spin(4 * LEASE_MS / 3);
	cr_assert_eq(owned_by("u", DTX__V1__SHARD_STATE__SHARD_DRAINING), 1,
	             "released with a call out");
	sent = memnet_calls_sent(g.net);
	memnet_answer(c, MEMNET_RETRY, "late");
	wait_owned("v", DTX__V1__SHARD_STATE__SHARD_OWNED, 2);
	/* the answer was dropped: nothing of gid is driven here any more,
	 * not even once its backoff (10 s) has passed */
	for (int i = 0; i < 6; i++) {
		dc_clock_manual_advance(&g.clock, DRAIN_MS);
		spin(LEASE_MS / 2);
	}
	cr_assert_eq(memnet_calls_sent(g.net), sent, "gid driven after");
}

static int run_tests(int argc, char **argv)
{
	struct criterion_test_set *tests = criterion_initialize();
	int rv = 0;

	if (criterion_handle_args(argc, argv, true))
		rv = !criterion_run_all_tests(tests);
	criterion_finalize(tests);
	return rv;
}

/* main starts one cluster for every test of the binary (pgtmp.h). */
int main(int argc, char **argv)
{
	return pgtmp_shared_main(argc, argv, run_tests);
}
