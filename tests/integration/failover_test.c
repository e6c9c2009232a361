/*
 * failover_test.c - several dtxd on one PostgreSQL store (issue 15, items
 * 2 and 5): real dtxd processes leasing 6 shards on a throw-away cluster
 * (suite postgres: run under pgtmp.sh with DTX_TEST_STORE=postgresql, a
 * schema per test), the sample participant with its barrier (--data: a
 * repeated call is answered from the barrier record, so its journal lists
 * each applied effect once), clients opened with every instance's URL.
 *
 * What must hold: the shards split fairly and a joining instance gets its
 * share; a kill -9 of an owner under load - its transactions finish on
 * the others within lease + recovery time, each effect once; an owner
 * paused (SIGSTOP) past its lease and continued steps down (exit 75) and
 * nothing is doubled or lost; a second instance with a live one's name
 * exits 64 naming it. Who owns what is read from the store itself (a
 * read-only log handle), never from an instance's word.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "log.h"

#define SHARDS   6
#define LEASE    "3000"
#define LEASE_MS 3000
#define MAXI     4
#define NLOAD    24

TestSuite(failover, .fini = th_teardown, .timeout = 240);

typedef struct fleet {
	th_env *t;
	char name[MAXI][8];
	char url[MAXI][TH_URL_MAX];
	char ready[MAXI][PATH_MAX];
	th_proc *proc[MAXI];
	char all[MAXI * (TH_URL_MAX + 1)];
	int n;
} fleet;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* start_as starts instance i of the fleet under name. */
static th_proc *start_as(fleet *f, int i, const char *name)
{
	const char *argv[32];
	size_t n = 0;

	argv[n++] = th_exe("DTX_DTXD");
	argv[n++] = "--store";
	argv[n++] = f->t->log_dir;
	argv[n++] = "--shards";
	argv[n++] = "6";
	argv[n++] = "--instance";
	argv[n++] = name;
	argv[n++] = "--lease-ms";
	argv[n++] = LEASE;
	argv[n++] = "--listen";
	argv[n++] = f->url[i];
	argv[n++] = "--ready-file";
	argv[n++] = f->ready[i];
	argv[n++] = "--admin";
	argv[n++] = "none";
	argv[n++] = "--log-level";
	argv[n++] = "info";
	argv[n++] = "--retry-base-ms";
	argv[n++] = "20";
	argv[n++] = "--retry-max-ms";
	argv[n++] = "300";
	argv[n] = NULL;
	unlink(f->ready[i]);
	return th_spawn(f->t, name, argv);
}

static void start_one(fleet *f, int i)
{
	f->proc[i] = start_as(f, i, f->name[i]);
	cr_assert(th_wait_ready(f->proc[i], f->ready[i], TH_WAIT_READY),
	          "%s did not start", f->name[i]);
}

static void fleet_init(fleet *f, th_env *t, int n)
{
	memset(f, 0, sizeof(*f));
	f->t = t;
	f->n = n;
	for (int i = 0; i < MAXI; i++) {
		char file[32];

		snprintf(f->name[i], sizeof(f->name[i]), "%c", 'a' + i);
		th_url(t, f->name[i], f->url[i], sizeof(f->url[i]));
		snprintf(file, sizeof(file), "%s.ready", f->name[i]);
		th_path(t, file, f->ready[i], sizeof(f->ready[i]));
	}
	for (int i = 0; i < n; i++) {
		if (i > 0)
			strcat(f->all, ",");
		strcat(f->all, f->url[i]);
	}
	for (int i = 0; i < n; i++)
		start_one(f, i);
}

/* owners reads the store's lease records: count[i] shards name instance
 * i; returns the number of free shards. */
static int owners(fleet *f, int count[MAXI])
{
	dc_log_opts o = {.dir = f->t->log_dir, .read_only = true};
	dc_log_lease l[SHARDS];
	dc_log_beat b[8];
	uint32_t nb = 0;
	dc_log *log = NULL;
	char err[512] = "";
	int free_ = 0;

	memset(count, 0, sizeof(int) * MAXI);
	cr_assert_eq(dc_log_open(&o, &log, err, sizeof(err)), DTX_OK, "%s",
	             err);
	cr_assert_eq(dc_log_leases_read(log, l, SHARDS, b, 8, &nb), DTX_OK);
	dc_log_close(log);
	for (int s = 0; s < SHARDS; s++) {
		if (l[s].owner[0] == '\0')
			free_++;
		else
			count[l[s].owner[0] - 'a']++;
	}
	return free_;
}

/* wait_split waits (bounded) until the store shows want[i] shards for
 * instance i; returns the ms it took. */
static uint64_t wait_split(fleet *f, const int want[MAXI], uint64_t max_ms)
{
	uint64_t t0 = now_ms();
	int got[MAXI];

	for (;;) {
		owners(f, got);
		if (memcmp(got, want, sizeof(got)) == 0)
			return now_ms() - t0;
		cr_assert_lt(now_ms() - t0, max_ms,
		             "split %d/%d/%d/%d, want %d/%d/%d/%d", got[0],
		             got[1], got[2], got[3], want[0], want[1], want[2],
		             want[3]);
		usleep(100 * 1000);
	}
}

static void sdk_log(void *arg, dtx_log_level level, const char *msg)
{
	(void)arg;
	if (level <= DTX_LOG_INFO)
		fprintf(stderr, "sdk: %s\n", msg);
}

static dtx_client *fleet_client(fleet *f)
{
	dtx_client_opts o;
	dtx_client *c = NULL;

	dtx_set_log_cb(sdk_log, NULL);
	dtx_client_opts_init(&o);
	o.timeout_ms = 2000;
	cr_assert_eq(dtx_client_open(f->all, &o, &c), DTX_OK);
	f->t->clients[f->t->nclients++] = c;
	return c;
}

/* load submits NLOAD sagas of a slow step (client gids spread over every
 * shard) without waiting for their outcome. */
static void load(fleet *f, dtx_client *c, const char *prefix)
{
	for (int i = 0; i < NLOAD; i++) {
		char gid[32];
		dtx_saga *s;
		dtx_tx_info info;
		int err = DTX_EBUSY;

		snprintf(gid, sizeof(gid), "%s-%d", prefix, i);
		s = th_saga(f->t, gid, "p1.slow/p1.undo");
		for (int k = 0; k < 50 && err != DTX_OK; k++)
			err = dtx_client_submit(c, s, 0, &info);
		dtx_saga_destroy(s);
		cr_assert_eq(err, DTX_OK, "submit %s: %s", gid,
		             dtx_strerror(err));
	}
}

/* all_once waits (bounded) for every gid of load to be committed and
 * checks each effect ran once; returns the ms it took. */
static uint64_t all_once(fleet *f, dtx_client *c, const char *prefix,
                         uint64_t max_ms)
{
	uint64_t t0 = now_ms();

	for (int i = 0; i < NLOAD; i++) {
		char gid[32];
		dtx_tx_info info = {0};
		int err;

		snprintf(gid, sizeof(gid), "%s-%d", prefix, i);
		do {
			err = dtx_client_query(c, gid, 1000, &info);
			cr_assert_lt(now_ms() - t0, max_ms,
			             "%s not final in %llu ms (%s, state %d)",
			             gid, (unsigned long long)max_ms,
			             dtx_strerror(err), (int)info.state);
		} while (err != DTX_OK || info.state != DTX_TX_COMMITTED);
	}
	for (int i = 0; i < NLOAD; i++) {
		char gid[32];

		snprintf(gid, sizeof(gid), "%s-%d", prefix, i);
		cr_assert_str_eq(th_journal_story(f->t, gid), "p1.slow:ok",
		                 "%s: each effect once", gid);
	}
	return now_ms() - t0;
}

static void participant(th_env *t)
{
	char data[PATH_MAX];

	th_path(t, "p1data", data, sizeof(data));
	th_participant_start(t, "p1", "--data", data, "--delay-ms", "200",
	                     NULL);
}

Test(failover, shards_split_fairly_and_a_joining_instance_gets_its_share)
{
	th_env *t = th_begin();
	fleet f;
	static const int three[MAXI] = {2, 2, 2, 0}, four[MAXI] = {2, 2, 1, 1};
	dtx_client *c;
	uint64_t ms;

	cr_assert(t->pg_store, "run under pgtmp.sh (suite postgres)");
	participant(t);
	fleet_init(&f, t, 3);
	ms = wait_split(&f, three, 6 * LEASE_MS);
	cr_log_info("3 instances: 2/2/2 after %llu ms", (unsigned long long)ms);
	c = fleet_client(&f);
	load(&f, c, "join"); /* in flight while shards are handed over */
	f.n = 4;
	start_one(&f, 3);
	ms = wait_split(&f, four, 6 * LEASE_MS);
	cr_log_info("a 4th: 2/2/1/1 after %llu ms", (unsigned long long)ms);
	all_once(&f, c, "join", 6 * LEASE_MS);
	th_end(t);
}

Test(failover, a_killed_owners_transactions_finish_on_the_others_once)
{
	th_env *t = th_begin();
	fleet f;
	static const int three[MAXI] = {2, 2, 2, 0}, two[MAXI] = {3, 0, 3, 0};
	dtx_client *c;
	uint64_t t0;

	cr_assert(t->pg_store, "run under pgtmp.sh (suite postgres)");
	participant(t);
	fleet_init(&f, t, 3);
	wait_split(&f, three, 6 * LEASE_MS);
	c = fleet_client(&f);
	load(&f, c, "kill");
	t0 = now_ms();
	th_proc_crash(f.proc[1]); /* kill -9 b with calls in flight */
	load(&f, c, "during");    /* b's shards wait for their new owner */
	wait_split(&f, two, 4 * LEASE_MS);
	cr_log_info("b's shards taken %llu ms after its kill -9",
	            (unsigned long long)(now_ms() - t0));
	all_once(&f, c, "kill", 6 * LEASE_MS);
	all_once(&f, c, "during", 6 * LEASE_MS);
	cr_log_info("every transaction committed, each effect once, %llu ms "
	            "after the kill -9",
	            (unsigned long long)(now_ms() - t0));
	th_end(t);
}

Test(failover, a_paused_owner_steps_down_and_nothing_doubles)
{
	th_env *t = th_begin();
	fleet f;
	static const int three[MAXI] = {2, 2, 2, 0}, two[MAXI] = {3, 0, 3, 0};
	dtx_client *c;

	cr_assert(t->pg_store, "run under pgtmp.sh (suite postgres)");
	participant(t);
	fleet_init(&f, t, 3);
	wait_split(&f, three, 6 * LEASE_MS);
	c = fleet_client(&f);
	load(&f, c, "stop");
	th_proc_kill(f.proc[1], SIGSTOP);
	wait_split(&f, two, 6 * LEASE_MS);
	th_proc_kill(f.proc[1], SIGCONT);
	cr_assert(th_proc_wait(f.proc[1], 4 * LEASE_MS),
	          "b steps down after SIGCONT");
	cr_assert_eq(th_proc_exit_code(f.proc[1]), 75, "exit %d",
	             th_proc_exit_code(f.proc[1]));
	/* whichever it meets first: its heartbeat's age on its own clock,
	 * a round that reads its lease gone, or a fenced commit refused */
	cr_assert(th_log_contains(t, "b", "no heartbeat written for") ||
	                  th_log_contains(t, "b", "lost the lease of shard") ||
	                  th_log_contains(t, "b", "a commit was refused"),
	          "b says why");
	all_once(&f, c, "stop", 6 * LEASE_MS);
	th_end(t);
}

Test(failover, a_second_instance_with_a_live_ones_name_exits_64)
{
	th_env *t = th_begin();
	fleet f;
	static const int one[MAXI] = {SHARDS, 0, 0, 0};
	th_proc *twin;

	cr_assert(t->pg_store, "run under pgtmp.sh (suite postgres)");
	fleet_init(&f, t, 1);
	wait_split(&f, one, 6 * LEASE_MS);
	twin = start_as(&f, 1, "a"); /* b's address, a's name */
	cr_assert(th_proc_wait(twin, 4 * LEASE_MS), "the twin stops");
	cr_assert_eq(th_proc_exit_code(twin), 64, "exit %d",
	             th_proc_exit_code(twin));
	cr_assert(th_log_contains(t, "a", "another live instance is named a"));
	cr_assert(th_proc_is_alive(f.proc[0]), "the first one goes on");
	wait_split(&f, one, 2 * LEASE_MS);
	th_end(t);
}

/* run_bad runs dtxd on the fleet's store with flags (NULL-terminated)
 * and returns its exit code (bounded wait). */
static int run_bad(fleet *f, const char *name, const char *const *flags)
{
	const char *argv[24] = {
	        th_exe("DTX_DTXD"), "--store", f->t->log_dir, "--listen",
	        f->url[3],          "--admin", "none"};
	size_t n = 7;
	th_proc *p;

	while (*flags != NULL)
		argv[n++] = *flags++;
	argv[n] = NULL;
	p = th_spawn(f->t, name, argv);
	cr_assert(th_proc_wait(p, 4 * LEASE_MS), "%s stops", name);
	return th_proc_exit_code(p);
}

Test(failover, bad_lease_flags_are_refused_naming_the_problem)
{
	th_env *t = th_begin();
	fleet f;
	static const int one[MAXI] = {SHARDS, 0, 0, 0};
	static const char *const other_m[] = {"--shards", "4", "--instance",
	                                      "x", NULL};
	static const char *const bad_name[] = {"--shards", "6", "--instance",
	                                       "x:y", NULL};
	static const char *const short_lease[] = {
	        "--shards", "6", "--instance", "y", "--lease-ms", "100", NULL};
	int code;

	cr_assert(t->pg_store, "run under pgtmp.sh (suite postgres)");
	fleet_init(&f, t, 1);
	wait_split(&f, one, 6 * LEASE_MS);
	/* the store keeps the count it was made with: another is a usage
	 * error (64), so a supervisor does not restart it in a loop */
	code = run_bad(&f, "otherm", other_m);
	cr_assert_eq(code, 64);
	cr_assert(th_log_contains(t, "otherm", "made with 6 shards"));
	cr_assert(th_log_contains(t, "otherm", "--shards 4"));
	cr_assert_eq(run_bad(&f, "badname", bad_name), 64);
	cr_assert(th_log_contains(t, "badname", "--instance x:y"));
	cr_assert_eq(run_bad(&f, "short", short_lease), 64);
	wait_split(&f, one, 2 * LEASE_MS); /* nothing changed */
	th_end(t);
}
