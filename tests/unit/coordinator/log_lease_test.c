/*
 * log_lease_test.c - the log's shard leases (coordinator/log.c: the
 * tables leases and beats, meta shards, rounds, fenced batches, per-shard
 * id floors) on each store: LMDB in a temporary directory (suite unit)
 * and, built with -DLOG_LEASE_TEST_PG, PostgreSQL on a throw-away cluster
 * (suite postgres), where two handles are two dtxd instances sharing the
 * store. On LMDB one handle plays both instances in turn (a second
 * writer cannot open it: one writer per directory).
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dtx/dtx.h>

#include "log.h"

#ifdef LOG_LEASE_TEST_PG
#include "pgtmp.h"
#define SUITE  log_lease_pg
#define SHARED true
#else
#define SUITE  log_lease_lmdb
#define SHARED false
#endif

static char g_where[700];

#ifdef LOG_LEASE_TEST_PG
/* Each test has its own schema of database "dtx" (kv_test.c's way). */
static void setup(void)
{
	const char *admin = getenv(PGTMP_ENV_ADMIN);
	char base[PGTMP_URI_MAX], sql[128], err[512], schema[32];

	cr_assert_not_null(admin, "no cluster: run through main (pgtmp)");
	snprintf(schema, sizeof(schema), "l_%ld", (long)getpid());
	snprintf(sql, sizeof(sql), "CREATE SCHEMA %s AUTHORIZATION dtx",
	         schema);
	cr_assert_eq(pgtmp_sql(admin, "dtx", sql, err, sizeof(err)), 0, "%s",
	             err);
	cr_assert_eq(
	        pgtmp_uri_for(admin, "dtx", PGTMP_ROLE, base, sizeof(base)), 0);
	snprintf(g_where, sizeof(g_where), "%s%coptions=-csearch_path%%3D%s",
	         base, strchr(base, '?') ? '&' : '?', schema);
}

static void teardown(void)
{
}
#else
static char g_root[64];

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void setup(void)
{
	snprintf(g_root, sizeof(g_root), "/tmp/dtx_log_lease.XXXXXX");
	cr_assert_not_null(mkdtemp(g_root));
	snprintf(g_where, sizeof(g_where), "%s/log", g_root);
}

static void teardown(void)
{
	nftw(g_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
#endif

TestSuite(SUITE, .init = setup, .fini = teardown, .timeout = 120);

/* ---- helpers ----------------------------------------------------------- */

#define SHARDS 8

static int try_open(uint32_t shards, dc_log **ret, char *err, size_t len)
{
	dc_log_opts o = {.dir = g_where,
	                 .no_sync = true,
	                 .shards = shards,
	                 .shared = SHARED};

	return dc_log_open(&o, ret, err, len);
}

static dc_log *open_log(void)
{
	char err[512] = "";
	dc_log *log = NULL;
	int rc = try_open(SHARDS, &log, err, sizeof(err));

	cr_assert_eq(rc, DTX_OK, "open: %s (%s)", dtx_strerror(rc), err);
	return log;
}

/* The second instance: another handle on PostgreSQL, the same on LMDB. */
static dc_log *open_other(dc_log *first)
{
	return SHARED ? open_log() : first;
}

static void close_other(dc_log *first, dc_log *other)
{
	if (other != first)
		dc_log_close(other);
}

static dc_log_beat beat_of(const char *name, uint64_t n)
{
	dc_log_beat b = {.beat = n};

	snprintf(b.name, sizeof(b.name), "%s", name);
	snprintf(b.client_url, sizeof(b.client_url), "tcp://127.0.0.1:%u",
	         7000 + (unsigned)n % 100);
	snprintf(b.admin_url, sizeof(b.admin_url), "ipc:///tmp/%s.admin", name);
	return b;
}

static dc_log_lease lease_of(const char *owner, uint64_t epoch)
{
	dc_log_lease l = {.epoch = epoch};

	snprintf(l.owner, sizeof(l.owner), "%s", owner);
	return l;
}

typedef struct seen {
	dc_log_lease lease[SHARDS];
	dc_log_beat beat[4];
	uint32_t nbeats;
} seen;

static seen *observe(dc_log *log)
{
	seen *s = calloc(1, sizeof(*s));
	int rc = dc_log_leases_read(log, s->lease, SHARDS, s->beat, 4,
	                            &s->nbeats);

	cr_assert_eq(rc, DTX_OK, "read: %s (%s)", dtx_strerror(rc),
	             dc_log_last_error(log));
	return s;
}

/* take: one round of name taking shard from old (its heartbeat from
 * old_beat, NULL: its first) to (name, old.epoch + 1). */
static int take(dc_log *log, const char *name, uint32_t shard, dc_log_lease old,
                const dc_log_beat *old_beat, uint64_t n)
{
	dc_log_lease_cas c = {shard, old, lease_of(name, old.epoch + 1)};
	dc_log_beat nb = beat_of(name, n);

	return dc_log_round_commit(log, &c, 1, old_beat, &nb);
}

static dc_log_batch *tx_batch(const char *gid)
{
	dc_log_batch *b = NULL;
	dc_tx *tx = NULL;

	cr_assert_eq(dc_log_batch_create(&b), DTX_OK);
	cr_assert_eq(dc_tx_create(gid, DC_MODE_SAGA, 1, &tx), DTX_OK);
	tx->state = DC_TX_RUNNING;
	cr_assert_eq(dc_log_batch_put_tx(b, tx, UINT64_MAX), DTX_OK);
	dc_tx_destroy(tx);
	return b;
}

/* ---- the tests --------------------------------------------------------- */

Test(SUITE, a_store_records_its_shards_and_refuses_another_count)
{
	char err[512] = "";
	dc_log *log = open_log(), *again = NULL;
	uint32_t m = 0;
	int rc;

	cr_assert_eq(dc_log_shards(log, &m), DTX_OK);
	cr_assert_eq(m, SHARDS);
	dc_log_close(log);
	rc = try_open(SHARDS / 2, &again, err, sizeof(err));
	cr_assert_eq(rc, DTX_ECONFLICT, "another count: %s", dtx_strerror(rc));
	cr_assert_not_null(strstr(err, "made with 8 shards"), "%s", err);
	cr_assert_not_null(strstr(err, "--shards 4"), "%s", err);
	cr_log_info("%s", err);
	log = open_log(); /* the same count opens */
	dc_log_close(log);
}

Test(SUITE, leases_start_free_and_a_round_takes_one)
{
	dc_log *log = open_log();
	dc_log_beat b1 = beat_of("alpha", 1);
	seen *s = observe(log);

	for (uint32_t i = 0; i < SHARDS; i++) {
		cr_assert_str_eq(s->lease[i].owner, "", "shard %u free", i);
		cr_assert_eq(s->lease[i].epoch, 0);
	}
	cr_assert_eq(s->nbeats, 0);
	cr_assert_eq(take(log, "alpha", 3, s->lease[3], NULL, 1), DTX_OK, "%s",
	             dc_log_last_error(log));
	free(s);
	s = observe(log);
	cr_assert_str_eq(s->lease[3].owner, "alpha");
	cr_assert_eq(s->lease[3].epoch, 1);
	cr_assert_str_eq(s->lease[2].owner, "");
	cr_assert_eq(s->nbeats, 1);
	cr_assert_str_eq(s->beat[0].name, "alpha");
	cr_assert_eq(s->beat[0].beat, 1);
	cr_assert_str_eq(s->beat[0].client_url, b1.client_url);
	cr_assert_str_eq(s->beat[0].admin_url, b1.admin_url);
	free(s);
	dc_log_close(log);
}

Test(SUITE, a_round_from_a_lease_that_changed_writes_nothing)
{
	dc_log *a = open_log(), *b = open_other(a);
	dc_log_beat ab = beat_of("alpha", 1);
	seen *s = observe(b); /* b reads before a takes */
	seen *after;
	int rc;

	cr_assert_eq(take(a, "alpha", 0, s->lease[0], NULL, 1), DTX_OK);
	rc = take(b, "beta", 0, s->lease[0], NULL, 1); /* from a stale view */
	cr_assert_eq(rc, DTX_ECONFLICT, "stale take: %s (%s)", dtx_strerror(rc),
	             dc_log_last_error(b));
	after = observe(a);
	cr_assert_str_eq(after->lease[0].owner, "alpha");
	cr_assert_eq(after->nbeats, 1, "beta's heartbeat went with its round");
	/* A keep (old == new) is checked too: a's view is now stale. */
	cr_assert_eq(take(b, "beta", 0, after->lease[0], NULL, 1), DTX_OK);
	{
		dc_log_lease_cas keep = {0, lease_of("alpha", 1),
		                         lease_of("alpha", 1)};
		dc_log_beat a2 = beat_of("alpha", 2);

		rc = dc_log_round_commit(a, &keep, 1, &ab, &a2);
		cr_assert_eq(rc, DTX_ECONFLICT, "keep of a lost lease: %s",
		             dtx_strerror(rc));
	}
	free(s);
	free(after);
	close_other(a, b);
	dc_log_close(a);
}

Test(SUITE, a_second_instance_with_one_name_loses_the_heartbeat)
{
	dc_log *a = open_log(), *b = open_other(a);
	dc_log_beat first = beat_of("alpha", 1), next = beat_of("alpha", 2);
	int rc;

	cr_assert_eq(dc_log_round_commit(a, NULL, 0, NULL, &first), DTX_OK,
	             "%s", dc_log_last_error(a));
	/* b starts as "alpha" too and believes it is the first. */
	rc = dc_log_round_commit(b, NULL, 0, NULL, &first);
	cr_assert_eq(rc, DTX_ECONFLICT, "same name: %s", dtx_strerror(rc));
	cr_assert_eq(dc_log_round_commit(a, NULL, 0, &first, &next), DTX_OK);
	/* b adopts what it read, but a moved on before b's write. */
	rc = dc_log_round_commit(b, NULL, 0, &first, &next);
	cr_assert_eq(rc, DTX_ECONFLICT, "a stale beat: %s", dtx_strerror(rc));
	close_other(a, b);
	dc_log_close(a);
}

Test(SUITE, a_fenced_batch_commits_only_while_the_lease_holds)
{
	dc_log *a = open_log(), *b = open_other(a);
	dc_log_beat ab = beat_of("alpha", 1), bb = beat_of("beta", 1);
	dc_log_batch *batch = tx_batch("g-fenced-1");
	dc_tx *tx = NULL;
	int rc;

	cr_assert_eq(take(a, "alpha", 5, lease_of("", 0), NULL, 1), DTX_OK);
	cr_assert_eq(dc_log_batch_fence(batch, 5, "alpha", 1), DTX_OK);
	cr_assert_eq(dc_log_batch_fence(batch, 5, "alpha", 1), DTX_OK,
	             "a shard is fenced once a batch");
	cr_assert_eq(dc_log_commit(a, batch), DTX_OK, "%s",
	             dc_log_last_error(a));
	cr_assert_eq(dc_log_load_tx(b, "g-fenced-1", &tx), DTX_OK);
	dc_tx_destroy(tx);
	/* beta takes shard 5 (alpha is dead to it); alpha's next write of
	 * the shard is refused and nothing of it is kept. */
	rc = take(b, "beta", 5, lease_of("alpha", 1), NULL, 1);
	cr_assert_eq(rc, DTX_OK, "%s", dc_log_last_error(b));
	dc_log_batch_destroy(batch);
	batch = tx_batch("g-fenced-2");
	cr_assert_eq(dc_log_batch_fence(batch, 5, "alpha", 1), DTX_OK);
	rc = dc_log_commit(a, batch);
	cr_assert_eq(rc, DTX_ECONFLICT, "stale owner: %s", dtx_strerror(rc));
	cr_log_info("stale owner: %s", dc_log_last_error(a));
	cr_assert_eq(dc_log_load_tx(b, "g-fenced-2", &tx), DTX_ENOENT,
	             "nothing of a refused batch is durable");
	/* The new owner writes with its own epoch. */
	dc_log_batch_reset(batch);
	dc_log_batch_destroy(batch);
	batch = tx_batch("g-fenced-3");
	cr_assert_eq(dc_log_batch_fence(batch, 5, "beta", 2), DTX_OK);
	cr_assert_eq(dc_log_commit(b, batch), DTX_OK, "%s",
	             dc_log_last_error(b));
	(void)ab;
	(void)bb;
	dc_log_batch_destroy(batch);
	close_other(a, b);
	dc_log_close(a);
}

Test(SUITE, each_shard_keeps_its_own_gid_floor)
{
	dc_log *log = open_log();
	dc_log_batch *b = NULL;
	uint64_t id = 1;

	cr_assert_eq(dc_log_batch_create(&b), DTX_OK);
	cr_assert_eq(dc_log_batch_set_shard_gid_floor(b, 2, 1000), DTX_OK);
	cr_assert_eq(dc_log_batch_set_shard_gid_floor(b, 7, 5000), DTX_OK);
	cr_assert_eq(dc_log_batch_set_shard_gid_floor(b, DC_LOG_SHARDS_MAX, 1),
	             DTX_EINVAL);
	cr_assert_eq(dc_log_commit(log, b), DTX_OK, "%s",
	             dc_log_last_error(log));
	cr_assert_eq(dc_log_shard_gid_floor(log, 2, &id), DTX_OK);
	cr_assert_eq(id, 1000);
	cr_assert_eq(dc_log_shard_gid_floor(log, 7, &id), DTX_OK);
	cr_assert_eq(id, 5000);
	cr_assert_eq(dc_log_shard_gid_floor(log, 3, &id), DTX_OK);
	cr_assert_eq(id, 0, "a shard never written");
	cr_assert_eq(dc_log_gid_floor(log, &id), DTX_OK);
	cr_assert_eq(id, 0, "the store-wide floor is another key");
	dc_log_batch_destroy(b);
	dc_log_close(log);
}

Test(SUITE, bad_names_and_urls_are_refused_before_the_store)
{
	dc_log *log = open_log();
	dc_log_beat bad = beat_of("alpha", 1);
	dc_log_lease_cas c = {1, lease_of("", 0), lease_of("a b", 1)};
	dc_log_batch *b = NULL;

	snprintf(bad.client_url, sizeof(bad.client_url), "tcp://x y");
	cr_assert_eq(dc_log_round_commit(log, NULL, 0, NULL, &bad), DTX_EINVAL);
	bad = beat_of("al/pha", 1);
	cr_assert_eq(dc_log_round_commit(log, NULL, 0, NULL, &bad), DTX_EINVAL);
	bad = beat_of("alpha", 1);
	cr_assert_eq(dc_log_round_commit(log, &c, 1, NULL, &bad), DTX_EINVAL);
	c = (dc_log_lease_cas){DC_LOG_SHARDS_MAX, lease_of("", 0),
	                       lease_of("alpha", 1)};
	cr_assert_eq(dc_log_round_commit(log, &c, 1, NULL, &bad), DTX_EINVAL);
	cr_assert_eq(dc_log_batch_create(&b), DTX_OK);
	cr_assert_eq(dc_log_batch_fence(b, 1, "", 1), DTX_EINVAL);
	cr_assert_eq(dc_log_batch_fence(b, 1, NULL, 1), DTX_EINVAL);
	dc_log_batch_destroy(b);
	dc_log_close(log);
}

Test(SUITE, the_lease_records_pass_the_log_check)
{
	dc_log *log = open_log();
	dc_log_beat b = beat_of("alpha", 1);
	uint64_t records = 0, bad = 9;
	char err[512] = "";

	cr_assert_eq(take(log, "alpha", 1, lease_of("", 0), NULL, 1), DTX_OK);
	cr_assert_eq(dc_log_check(log, &records, &bad, err, sizeof(err)),
	             DTX_OK);
	cr_assert_eq(bad, 0, "%s", err);
	cr_assert_geq(records, SHARDS + 1, "leases and the beat are read");
	(void)b;
	dc_log_close(log);
}

#if defined(LOG_LEASE_TEST_PG) && defined(DTX_FAULT_POINTS)
struct opener {
	int rc;
	char err[512];
};

static void *open_first(void *arg)
{
	struct opener *o = arg;
	dc_log *log = NULL;

	o->rc = try_open(SHARDS, &log, o->err, sizeof(o->err));
	if (o->rc == DTX_OK)
		dc_log_close(log);
	return NULL;
}

/* Three dtxd started at once on a new store: one made the tables (its
 * own transaction) and is held before it writes meta's format; another
 * opening then must start the store too, not call it "not a dtx log"
 * (CI's chaos_smoke_pg: two of three instances exited 65). */
Test(SUITE, instances_that_open_a_new_store_at_once_all_start)
{
	char hold[64], held[80], err[512] = "";
	struct opener first = {.rc = -1};
	pthread_t t;
	dc_log *log = NULL;
	uint32_t shards = 0;
	FILE *f;
	int rc;

	snprintf(hold, sizeof(hold), "/tmp/dtx_log_open_hold.%ld",
	         (long)getpid());
	snprintf(held, sizeof(held), "%s.held", hold);
	cr_assert_not_null(f = fopen(hold, "w"));
	fclose(f);
	unlink(held);
	{
		char spec[96];

		snprintf(spec, sizeof(spec), "log.open.tables@%s", hold);
		cr_assert_eq(setenv("DTX_HOLD", spec, 1), 0);
	}
	cr_assert_eq(pthread_create(&t, NULL, open_first, &first), 0);
	for (int ms = 0; ms < 30000 && access(held, F_OK) != 0; ms += 10)
		usleep(10000);
	cr_assert_eq(access(held, F_OK), 0, "the first open never held");
	/* glibc keeps the old value alive: the held thread still reads it */
	cr_assert_eq(setenv("DTX_HOLD", "none", 1), 0);
	rc = try_open(SHARDS, &log, err, sizeof(err));
	unlink(hold);
	pthread_join(t, NULL);
	unlink(held);
	cr_assert_eq(rc, DTX_OK, "the second instance: %s (%s)",
	             dtx_strerror(rc), err);
	cr_assert_eq(first.rc, DTX_OK, "the first instance: %s (%s)",
	             dtx_strerror(first.rc), first.err);
	cr_assert_eq(dc_log_shards(log, &shards), DTX_OK);
	cr_assert_eq(shards, SHARDS);
	dc_log_close(log);
}
#endif

#ifdef LOG_LEASE_TEST_PG
Test(SUITE, shared_writers_keep_no_counts)
{
	dc_log *log = open_log();
	dc_log_counts c;

	cr_assert_eq(dc_log_counts_read(log, &c), DTX_ENOENT,
	             "several writers would overwrite each other's counts");
	dc_log_close(log);
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
#endif
