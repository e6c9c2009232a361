/*
 * main.c - dtx-chaos: flags and the phases of a run.
 *
 *   1. setup     a private network namespace (if the machine allows), the
 *                probes (nftables, libfiu, fault points), the stores
 *                seeded, the schedule drawn from the seed;
 *   2. safety    dtxd, the four services (each behind its fault proxy)
 *                and the buyer run while the schedule's faults happen;
 *   3. liveness  everything healed: no fault, no pause, no partition, no
 *                RETRY answer; the buyer goes on for AVAIL_MS (what it
 *                got decided is reported), then stops, finishing what it
 *                has in flight; every transaction must become final
 *                within --converge-s (the time it took is reported);
 *   4. check     every process stopped, check.c reads the log, the stores
 *                and the history;
 *   5. report    WORKDIR/report.json and a text summary; exit 1 on any
 *                violation (the work directory is then kept).
 *
 * As TigerBeetle's simulator does, safety (nothing bad ever happens) is
 * checked over the whole run while faults go on, and liveness (the good
 * thing eventually happens) only after they stop, within a bound.
 *
 * With --store postgresql --instances N (issue 15): the harness starts its
 * own PostgreSQL 15 (pgrun.h, with the audit the lease invariants read)
 * and N dtxd instances leasing SHARDS shards, each reaching the database
 * through a relay it can cut; the buyers and the services get every
 * instance's URL. Faults added: kill -9 and SIGSTOP (past the lease) of
 * an instance, PostgreSQL restarts (fast, immediate), an instance cut
 * from PostgreSQL; invariants added: epochs.h's.
 *
 * Other commands: "dtx-chaos buyer ..." is the workload process (buyer.c);
 * "dtx-chaos check --workdir DIR" re-checks a kept run; "dtx-chaos
 * self-test --workdir DIR" proves the checker fails on tampered copies
 * (tamper.c).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buyer.h"
#include "check.h"
#include "cluster.h"
#include "epochs.h"
#include "netfault.h"
#include "pgrun.h"
#include "procs.h"
#include "report.h"
#include "schedule.h"
#include "seed.h"
#include "tamper.h"

#define EXIT_USAGE  64
#define TICK_MS     5
#define HEAL_UP_MS  30000
#define PARTS_MAX   16
#define CALL_MS     1000  /* dtxd's call deadline: pauses exceed it */
#define RESERVE_MS  4000  /* a TCC reservation's deadline */
#define WORKDIR_MAX 1024  /* leaves room for the paths under it */
#define AVAIL_MS    15000 /* the buyers go on this long after the heal */
#define AVAIL_GRACE 5000  /* ... and must decide purchases after this */
#define PG_SHARDS   8     /* shards of a PostgreSQL run's store */

typedef struct args {
	const char *kind;
	uint64_t seed;
	unsigned safety_s, converge_s, gap_ms, retry_pct;
	unsigned buyers, stock, threads;
	const char *workdir;
	const char *bin_dir;
	const char *json;
	bool keep, netns, print_schedule, self_test, require_faults;
	bool smoke;         /* --smoke */
	bool pg;            /* --store postgresql */
	unsigned instances; /* --instances (1 on LMDB) */
	unsigned lease_ms;  /* --lease-ms */
	uint32_t only;      /* --only: the fault kinds drawn; 0 all */
} args;

/* run - everything the phases share. */
typedef struct run {
	args a;
	char workdir[WORKDIR_MAX];
	char helper_log[PATH_MAX];
	char dtxd_exe[PATH_MAX], shop_dir[PATH_MAX], dtxctl[PATH_MAX];
	char self[PATH_MAX];
	chaos_ports ports;
	bool have_nft, have_fiu, have_points;
	chaos_event *ev;
	size_t nev;
	cluster cl;
	proxy *px[CHAOS_NSVC];
	int64_t proxy_end[CHAOS_NSVC][PF_COUNT];
	struct {
		uint16_t port;
		int64_t end;
	} parts[PARTS_MAX];
	size_t nparts;
	pgrun pg;
	int64_t pg_cut_end[CHAOS_INSTANCES_MAX];
	run_report rep;
	check_result check;
	int64_t heal_unix_ms, safety_unix_ms;
} run;

static const char usage_text[] =
        "usage: dtx-chaos [--smoke | --soak-s N | --safety-s N] [--seed N]\n"
        "         [--converge-s 120] [--gap-ms 1000] [--retry-pct 5]\n"
        "         [--buyers N] [--stock N] [--threads 48] [--workdir DIR]\n"
        "         [--keep] [--json FILE] [--bin-dir DIR] [--no-netns]\n"
        "         [--self-test] [--print-schedule] [--require-faults]\n"
        "         [--store lmdb|postgresql] [--instances 1..3] "
        "[--lease-ms 3000]\n"
        "         [--only KIND,...]\n"
        "       dtx-chaos check --workdir DIR [--json FILE]\n"
        "       dtx-chaos self-test --workdir DIR [--store postgresql]\n"
        "  --smoke: the CI run: seed 42, 100 s of faults, at most 5 min;\n"
        "  with --store postgresql: seed 22, 30 s of kill -9, SIGSTOP and\n"
        "  cuts from PostgreSQL (instances' and services'), at most 90 s\n"
        "  --soak-s N: N seconds of faults (a long soak)\n"
        "  --store postgresql: dtxd on a PostgreSQL 15 the run starts, with\n"
        "  --instances N instances leasing its shards (default 3)\n"
        "  --only KIND,...: draw only these fault kinds (kill, fault-point,\n"
        "  pause, proxy, partition, fiu-eio, pg-restart, pg-partition)\n";

/* ---- setup ------------------------------------------------------------- */

static void skip(run *r, const char *what, const char *why)
{
	if (r->rep.nskipped < REPORT_SKIPPED_MAX)
		snprintf(r->rep.skipped[r->rep.nskipped++],
		         sizeof(r->rep.skipped[0]), "%s: %s", what, why);
	printf("skipped: %s: %s\n", what, why);
}

static uint16_t free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	uint16_t port = 0;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* pick_ports: fixed in the private namespace; else free ones (a small
 * race with other programs, reported as a failed start if lost). */
static void pick_ports(run *r, bool private_ns)
{
	chaos_ports *p = &r->ports;

	for (int k = 0; k < CHAOS_INSTANCES_MAX; k++) {
		p->dtxd[k] =
		        private_ns ? (uint16_t)(7400 + 2 * k) : free_port();
		p->admin[k] =
		        private_ns ? (uint16_t)(7401 + 2 * k) : free_port();
		p->pg[k] = private_ns ? (uint16_t)(7700 + k) : free_port();
	}
	for (int i = 0; i < CHAOS_NSVC; i++) {
		p->svc[i] = private_ns ? (uint16_t)(7510 + i) : free_port();
		p->proxy[i] = private_ns ? (uint16_t)(7610 + i) : free_port();
	}
}

static int make_dirs(run *r)
{
	static const char *const dirs[] = {"run", "logs", "stats"};
	char path[PATH_MAX];

	if (r->a.workdir != NULL) {
		if (strlen(r->a.workdir) >= sizeof(r->workdir)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		snprintf(r->workdir, sizeof(r->workdir), "%s", r->a.workdir);
		if (mkdir(r->workdir, 0755) != 0 && errno != EEXIST)
			return -1;
	} else {
		snprintf(r->workdir, sizeof(r->workdir),
		         "/tmp/dtx-chaos-XXXXXX");
		if (mkdtemp(r->workdir) == NULL)
			return -1;
	}
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", r->workdir, dirs[i]);
		if (mkdir(path, 0755) != 0)
			return -1;
	}
	snprintf(r->helper_log, sizeof(r->helper_log), "%s/logs/helpers.log",
	         r->workdir);
	return 0;
}

static void find_binaries(run *r)
{
	if (r->a.bin_dir != NULL) {
		snprintf(r->dtxd_exe, PATH_MAX, "%s/dtxd", r->a.bin_dir);
		snprintf(r->dtxctl, PATH_MAX, "%s/dtxctl", r->a.bin_dir);
		snprintf(r->shop_dir, PATH_MAX, "%s", r->a.bin_dir);
	} else {
		snprintf(r->dtxd_exe, PATH_MAX, "%s", DTX_CHAOS_DTXD);
		snprintf(r->dtxctl, PATH_MAX, "%s", DTX_CHAOS_DTXCTL);
		snprintf(r->shop_dir, PATH_MAX, "%s", DTX_CHAOS_SHOP_DIR);
	}
	procs_self_exe(r->self, sizeof(r->self));
}

static void probe(run *r, bool private_ns, const char *ns_why)
{
	char why[240];

	r->have_nft = private_ns && nft_probe(r->helper_log, why, sizeof(why));
	if (!private_ns)
		skip(r, "partitions (nftables)", ns_why);
	else if (!r->have_nft)
		skip(r, "partitions (nftables)", why);
	r->have_fiu = !r->a.pg && fiu_probe(why, sizeof(why));
	if (r->a.pg)
		skip(r, "EIO on the coordinator's log (libfiu)",
		     "no log file on PostgreSQL");
	else if (!r->have_fiu)
		skip(r, "EIO on the coordinator's log (libfiu)", why);
#ifdef DTX_FAULT_POINTS
	r->have_points = true;
#else
	skip(r, "named fault points",
	     "not compiled in (meson configure -Dfault_points=true)");
#endif
}

static int seed_shop(run *r)
{
	seed_opts so = {r->a.buyers, r->a.stock, r->a.seed, false};
	seed_initial init;

	return seed_stores(r->workdir, &so, &init);
}

static schedule_shape shape_of(const args *a)
{
	return (schedule_shape){a->instances, a->lease_ms, a->only};
}

static int write_schedule(run *r)
{
	schedule_shape sh = shape_of(&r->a);
	char path[PATH_MAX];
	FILE *f;

	r->ev = schedule_make(r->a.seed, r->a.safety_s * 1000, r->a.gap_ms, &sh,
	                      &r->nev);
	if (r->ev == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/schedule.txt", r->workdir);
	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f,
	        "# dtx-chaos seed %llu, safety %u s, gap %u ms, %u "
	        "instance(s) on %s\n",
	        (unsigned long long)r->a.seed, r->a.safety_s, r->a.gap_ms,
	        r->a.instances, r->a.pg ? "PostgreSQL" : "LMDB");
	schedule_print(f, r->ev, r->nev);
	return fclose(f) == 0 ? 0 : -1;
}

static int start_proxies(run *r)
{
	for (int i = 0; i < CHAOS_NSVC; i++) {
		int err = proxy_start(r->ports.proxy[i], r->ports.svc[i],
		                      r->a.seed * 31 + (uint64_t)i, &r->px[i]);

		if (err != DTX_OK) {
			fprintf(stderr, "dtx-chaos: proxy on %u: %s\n",
			        (unsigned)r->ports.proxy[i], dtx_strerror(err));
			return -1;
		}
	}
	return 0;
}

/* start_pg starts the run's PostgreSQL and the instances' relays. */
static int start_pg(run *r)
{
	char err[512];

	if (!r->a.pg)
		return 0;
	if (pgrun_start(&r->pg, r->workdir, PG_SHARDS, r->ports.pg,
	                r->a.instances, err, sizeof(err)) != 0) {
		fprintf(stderr, "dtx-chaos: PostgreSQL: %s\n", err);
		return -1;
	}
	return 0;
}

static int start_cluster(run *r)
{
	cluster_opts o = {
	        .instances = r->a.pg ? r->a.instances : 1,
	        .pg_db = PGRUN_DB,
	        .shards = PG_SHARDS,
	        .lease_ms = r->a.lease_ms,
	        .workdir = r->workdir,
	        .dtxd_exe = r->dtxd_exe,
	        .shop_dir = r->shop_dir,
	        .self_exe = r->self,
	        .ports = r->ports,
	        .fiu = r->have_fiu,
	        .retry_pct = r->a.retry_pct,
	        .seed = r->a.seed,
	        .call_timeout_ms = CALL_MS,
	        .buyers = r->a.buyers,
	        .threads = r->a.threads,
	        .price = 1000,
	        .reserve_ms = RESERVE_MS,
	        .abandon_pct = 5,
	        .max_s = r->a.safety_s + 60,
	        .sku = "gift-card",
	        .mix = "40,40,20",
	};

	if (cluster_start(&r->cl, &o) != 0)
		return -1;
	return cluster_start_buyer(&r->cl);
}

/* ---- the safety phase -------------------------------------------------- */

static uint16_t partition_port(const run *r, int role)
{
	return chaos_is_dtxd(role) ? r->ports.dtxd[role - ROLE_DTXD]
	                           : r->ports.svc[role];
}

/* reapply_partitions makes nft hold exactly the partitions still on. */
static void reapply_partitions(run *r)
{
	nft_heal(r->helper_log);
	for (size_t i = 0; i < r->nparts; i++)
		nft_partition(r->helper_log, r->parts[i].port);
}

static bool partition(run *r, const chaos_event *e)
{
	if (!r->have_nft || r->nparts == PARTS_MAX)
		return false;
	r->parts[r->nparts].port = partition_port(r, e->target);
	r->parts[r->nparts].end = chaos_now_ms() + e->dur_ms;
	if (nft_partition(r->helper_log, r->parts[r->nparts].port) != 0)
		return false;
	r->nparts++;
	r->rep.partitions++;
	return true;
}

/* The background level of each proxy fault, per mille of messages,
 * during the whole safety phase: with thousands of calls every kind then
 * happens in every run, whatever windows the schedule drew; the windows
 * raise one kind on one proxy for a while. */
static const unsigned baseline[PF_COUNT] = {[PF_DELAY] = 5,
                                            [PF_DROP_REQ] = 2,
                                            [PF_DROP_REP] = 3,
                                            [PF_DUP_REQ] = 3,
                                            [PF_RESET] = 1};

static void proxies_baseline(run *r)
{
	for (int s = 0; s < CHAOS_NSVC; s++)
		for (int f = 0; f < PF_COUNT; f++)
			proxy_set(r->px[s], (proxy_fault)f, baseline[f]);
}

static bool proxy_window(run *r, const chaos_event *e)
{
	proxy_set(r->px[e->target], (proxy_fault)e->arg, e->level);
	r->proxy_end[e->target][e->arg] = chaos_now_ms() + e->dur_ms;
	return true;
}

static void end_windows(run *r, int64_t now)
{
	size_t k = 0;

	for (int s = 0; s < CHAOS_NSVC; s++)
		for (int f = 0; f < PF_COUNT; f++)
			if (r->proxy_end[s][f] != 0 &&
			    now >= r->proxy_end[s][f]) {
				proxy_set(r->px[s], (proxy_fault)f,
				          baseline[f]);
				r->proxy_end[s][f] = 0;
			}
	for (size_t i = 0; i < r->nparts; i++)
		if (now < r->parts[i].end)
			r->parts[k++] = r->parts[i];
	if (k != r->nparts) {
		r->nparts = k;
		reapply_partitions(r);
	}
}

/* pg_cut cuts an instance from PostgreSQL: its relay stalls and, with
 * nftables, its relay's port drops every segment too. */
static bool pg_cut(run *r, const chaos_event *e)
{
	unsigned k = (unsigned)(e->target - ROLE_DTXD);

	if (!r->a.pg || k >= r->a.instances)
		return false;
	pgrun_cut(&r->pg, k, true);
	if (r->pg_cut_end[k] < chaos_now_ms() + e->dur_ms) /* the longer */
		r->pg_cut_end[k] = chaos_now_ms() + e->dur_ms;
	if (r->have_nft && r->nparts < PARTS_MAX &&
	    nft_partition(r->helper_log, r->ports.pg[k]) == 0) {
		r->parts[r->nparts].port = r->ports.pg[k];
		r->parts[r->nparts++].end = r->pg_cut_end[k];
	}
	r->rep.pg_cuts++;
	return true;
}

static void end_pg_cuts(run *r, int64_t now, bool all)
{
	for (unsigned k = 0; k < CHAOS_INSTANCES_MAX; k++)
		if (r->pg_cut_end[k] != 0 && (all || now >= r->pg_cut_end[k])) {
			pgrun_cut(&r->pg, k, false);
			r->pg_cut_end[k] = 0;
		}
}

static bool apply(run *r, const chaos_event *e)
{
	switch (e->kind) {
	case EV_PG_RESTART:
		return r->a.pg && pgrun_restart(&r->pg, e->arg != 0) == 0;
	case EV_PG_PARTITION:
		return pg_cut(r, e);
	case EV_PROXY:
		return proxy_window(r, e);
	case EV_PARTITION:
		return partition(r, e);
	case EV_FAULT_POINT:
		return r->have_points && cluster_apply(&r->cl, e);
	default:
		return cluster_apply(&r->cl, e);
	}
}

static void safety_phase(run *r)
{
	int64_t t0 = chaos_now_ms(), end = t0 + (int64_t)r->a.safety_s * 1000;
	size_t next = 0;

	printf("safety phase: %u s, %zu scheduled faults\n", r->a.safety_s,
	       r->nev);
	r->safety_unix_ms = chaos_unix_ms();
	fflush(stdout);
	proxies_baseline(r);
	for (int64_t now = t0; now < end; now = chaos_now_ms()) {
		while (next < r->nev && now >= t0 + r->ev[next].at_ms) {
			const chaos_event *e = &r->ev[next++];

			if (apply(r, e))
				r->rep.applied[e->kind]++;
			else
				r->rep.not_applied[e->kind]++;
		}
		end_windows(r, now);
		end_pg_cuts(r, now, false);
		cluster_tick(&r->cl);
		chaos_sleep_ms(TICK_MS);
	}
	r->rep.safety_s = (double)(chaos_now_ms() - t0) / 1000.0;
}

/* ---- the liveness phase ------------------------------------------------ */

/* active_count asks dtxd (dtxctl stats) how many transactions are not
 * final - on PostgreSQL, the store's active index itself (every shard,
 * whichever instance is up) - or -1 if it could not say. */
static long active_count(run *r)
{
	char out[PATH_MAX], url[64];
	const char *argv[] = {r->dtxctl, "--admin", url, "--output",
	                      "json",    "stats",   NULL};
	json_t *o;
	long n = -1;

	if (r->a.pg)
		return pgrun_active(&r->pg);
	cluster_url(r->ports.admin[0], url, sizeof(url));
	snprintf(out, sizeof(out), "%s/run/stats.json", r->workdir);
	unlink(out);
	if (procs_run(out, argv, 5000) != 0)
		return -1;
	o = json_load_file(out, 0, NULL);
	if (json_is_integer(json_object_get(o, "active")))
		n = (long)json_integer_value(json_object_get(o, "active"));
	json_decref(o);
	return n;
}

/* tick_for runs the cluster's ticks for ms. */
static void tick_for(run *r, unsigned ms)
{
	int64_t end = chaos_now_ms() + ms;

	while (chaos_now_ms() < end) {
		cluster_tick(&r->cl);
		chaos_sleep_ms(TICK_MS);
	}
}

/* liveness_phase heals everything; the buyers go on for AVAIL_MS with
 * the clients they have had all along (a client that never recovers
 * from the faults shows here: available-after-heal), then stop; every
 * transaction must then be final within --converge-s, timed from the
 * buyers' stop (no transaction starts after it). */
static void liveness_phase(run *r)
{
	int64_t t0, limit;
	long active = -1;

	printf("liveness phase: healing; buyers go on %d s; then at most %u s "
	       "to converge\n",
	       AVAIL_MS / 1000, r->a.converge_s);
	fflush(stdout);
	for (int s = 0; s < CHAOS_NSVC; s++)
		proxy_clear(r->px[s]);
	r->nparts = 0;
	if (r->have_nft)
		nft_heal(r->helper_log);
	end_pg_cuts(r, 0, true);
	cluster_heal(&r->cl, HEAL_UP_MS);
	r->heal_unix_ms = chaos_unix_ms();
	tick_for(r, AVAIL_MS);
	cluster_stop_buyer(&r->cl);
	t0 = chaos_now_ms();
	limit = t0 + r->a.converge_s * 1000ll;
	r->rep.converge_s = -1;
	while (chaos_now_ms() < limit) {
		cluster_tick(&r->cl);
		active = active_count(r);
		if (active == 0) {
			r->rep.converge_s = (double)(chaos_now_ms() - t0) / 1e3;
			break;
		}
		chaos_sleep_ms(250);
	}
	printf("liveness: %s (%ld active)\n",
	       active == 0 ? "converged" : "NOT converged", active);
}

/* ---- counting what happened -------------------------------------------- */

/* add_stats adds the counters of one stats file to s. */
static void add_stats(const char *path, svc_stats *s)
{
	char name[32];
	unsigned long long v;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return;
	while (fscanf(f, "%31s %llu", name, &v) == 2) {
		if (strcmp(name, "calls") == 0)
			s->calls += v;
		else if (strcmp(name, "applied") == 0)
			s->applied += v;
		else if (strcmp(name, "replayed") == 0)
			s->replayed += v;
		else if (strcmp(name, "null_compensations") == 0)
			s->null_compensations += v;
		else if (strcmp(name, "late_refused") == 0)
			s->late_refused += v;
		else if (strcmp(name, "retries") == 0)
			s->retries += v;
		else if (strcmp(name, "chaos_retries") == 0)
			s->chaos_retries += v;
	}
	fclose(f);
}

static void count_stats(run *r)
{
	char path[PATH_MAX];

	for (int s = 0; s < CHAOS_NSVC; s++)
		for (unsigned k = 1; k <= r->cl.m[s].starts; k++) {
			snprintf(path, sizeof(path), "%s/stats/%s.%u",
			         r->workdir, chaos_role_name(s), k - 1);
			add_stats(path, &r->rep.svc[s]);
		}
}

/* count_reopens counts the buyer's "client reopened" lines (buyer.c). */
static void count_reopens(run *r)
{
	char path[PATH_MAX], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/logs/buyer.log", r->workdir);
	f = fopen(path, "r");
	for (int n = 0;
	     f != NULL && n < 1000000 && fgets(line, sizeof(line), f) != NULL;
	     n++)
		r->rep.client_reopens +=
		        strstr(line, "client reopened") != NULL;
	if (f != NULL)
		fclose(f);
}

/* count_points counts "dtx fault point NAME hit" in every process log. */
static void count_points(run *r)
{
	char path[PATH_MAX], line[512];

	for (int role = 0; role < ROLE_BUYER; role++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/logs/%s.log", r->workdir,
		         chaos_role_name(role));
		f = fopen(path, "r");
		for (int n = 0; f != NULL && n < 10000000 &&
		                fgets(line, sizeof(line), f) != NULL;
		     n++)
			for (size_t i = 0; i < schedule_npoints; i++) {
				char want[128];

				snprintf(want, sizeof(want),
				         "dtx fault point %s hit",
				         schedule_points[i].name);
				if (strstr(line, want) != NULL)
					r->rep.points_hit[i]++;
			}
		if (f != NULL)
			fclose(f);
	}
}

/* faults_happened checks that every kind this machine can inject was
 * injected (the smoke must not pass vacuously). On PostgreSQL every
 * scheduled kind must have been applied, but the counts that need
 * traffic through a service over the whole run (each proxy fault at its
 * background rate, RETRY answers, a fault point's Nth hit) are reported,
 * not required: the 30 s smoke spends much of its time in failovers, and
 * the LMDB smoke requires them. */
static void faults_happened(run *r)
{
	char missing[400] = "";
	uint64_t retries = 0, hit = 0, n;

	for (int s = 0; s < CHAOS_NSVC; s++)
		retries += r->rep.svc[s].chaos_retries;
	for (size_t i = 0; i < schedule_npoints; i++)
		hit += r->rep.points_hit[i];
	for (int k = 0; k < EV_COUNT; k++) {
		bool can = (k != EV_PARTITION || r->have_nft) &&
		           (k != EV_FIU || r->have_fiu) &&
		           (k != EV_FAULT_POINT || r->have_points) &&
		           ((k != EV_PG_RESTART && k != EV_PG_PARTITION) ||
		            r->a.pg) &&
		           (r->a.only == 0 || (r->a.only >> k & 1));

		if (can && r->rep.applied[k] == 0)
			snprintf(missing + strlen(missing),
			         sizeof(missing) - strlen(missing), " %s",
			         ev_kind_name((ev_kind)k));
	}
	for (int pf = 0; pf < PF_COUNT && !r->a.pg; pf++) {
		n = 0;
		for (int s = 0; s < CHAOS_NSVC; s++)
			n += r->rep.pc[s].injected[pf];
		if (n == 0)
			snprintf(missing + strlen(missing),
			         sizeof(missing) - strlen(missing), " proxy-%s",
			         proxy_fault_name((proxy_fault)pf));
	}
	if (r->a.retry_pct > 0 && retries == 0 && !r->a.pg)
		strcat(missing, " retry-answers");
	if (r->have_points && hit == 0 && !r->a.pg)
		strcat(missing, " fault-point-hits");
	if (r->have_fiu && r->cl.n.fiu_stops == 0)
		strcat(missing, " fiu-fail-stops");
	check_add(&r->check, "faults-happened",
	          "every fault kind this machine can inject was injected",
	          missing[0] != '\0', NULL,
	          missing[0] ? missing : "every available kind, at least once");
}

/* buyer_recovery counts the purchases the buyers, with the clients they
 * have had all along, got decided once the heal had settled (ending
 * AVAIL_GRACE or more after it). None is a finding, not a violation:
 * the SDK client was seen to stall after faults (README, "What it
 * found"). The coordinator's own liveness is "converged"; this is the
 * client's, reported. */
static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* longest_gap measures the longest time in the safety phase in which no
 * purchase was decided (committed or rolled back, as the buyers were
 * told): the worst unavailability the faults caused, failovers included. */
static void longest_gap(run *r, const hist_rec *h, size_t n)
{
	int64_t *t = malloc((n + 2) * sizeof(*t)), prev;
	size_t k = 0;

	if (t == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		if ((h[i].t == TOLD_COMMITTED || h[i].t == TOLD_ROLLED_BACK) &&
		    h[i].end_unix_ms >= r->safety_unix_ms &&
		    h[i].end_unix_ms <= r->heal_unix_ms)
			t[k++] = h[i].end_unix_ms;
	t[k++] = r->heal_unix_ms;
	qsort(t, k, sizeof(*t), cmp_i64);
	prev = r->safety_unix_ms;
	for (size_t i = 0; i < k; i++) {
		if (t[i] - prev > r->rep.longest_gap_ms)
			r->rep.longest_gap_ms = t[i] - prev;
		prev = t[i];
	}
	free(t);
}

static void buyer_recovery(run *r)
{
	char path[PATH_MAX];
	int64_t from = r->heal_unix_ms + AVAIL_GRACE;
	size_t n = 0;
	hist_rec *h = NULL;

	snprintf(path, sizeof(path), "%s/history.txt", r->workdir);
	if (history_load(path, &h, &n) != 0)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		if (h[i].end_unix_ms < from || h[i].t == TOLD_ABANDONED)
			continue; /* walking away is the buyer's own choice */
		r->rep.ended_after_heal++;
		r->rep.decided_after_heal +=
		        h[i].t == TOLD_COMMITTED || h[i].t == TOLD_ROLLED_BACK;
	}
	longest_gap(r, h, n);
	free(h);
}

static void add_run_items(run *r)
{
	char ev[400] = "";

	for (size_t i = 0; i < r->cl.n.unexpected && i < CLUSTER_UNEXPECTED_MAX;
	     i++)
		snprintf(ev + strlen(ev), sizeof(ev) - strlen(ev), "%s%s",
		         i ? "; " : "", r->cl.n.unexpected_what[i]);
	check_add(&r->check, "no-unexpected-exit",
	          "every process death was a fault the harness injected",
	          r->cl.n.unexpected, NULL, r->cl.n.unexpected ? ev : "none");
	buyer_recovery(r);
	check_add(&r->check, "converged",
	          "every transaction final within --converge-s of the heal",
	          r->rep.converge_s < 0, NULL,
	          r->rep.converge_s < 0 ? "not within the bound" : "yes");
	if (r->a.require_faults)
		faults_happened(r);
}

/* ---- the whole run ----------------------------------------------------- */

static int finish(run *r, int64_t t_start)
{
	char path[PATH_MAX];
	int64_t t;

	for (int s = 0; s < CHAOS_NSVC; s++)
		proxy_get_counts(r->px[s], &r->rep.pc[s]);
	count_stats(r);
	count_points(r);
	count_reopens(r);
	if (r->a.pg && pgrun_export(&r->pg, r->workdir) != 0)
		return -1;
	t = chaos_now_ms();
	if (check_run(r->workdir, &r->check) != 0)
		return -1;
	r->rep.check_s = (double)(chaos_now_ms() - t) / 1e3;
	add_run_items(r);
	r->rep.wall_s = (double)(chaos_now_ms() - t_start) / 1e3;
	r->rep.check = &r->check;
	r->rep.cn = &r->cl.n;
	r->rep.pg = r->a.pg;
	r->rep.instances = r->a.pg ? r->a.instances : 1;
	r->rep.pg_restarts[0] = r->pg.restarts[0];
	r->rep.pg_restarts[1] = r->pg.restarts[1];
	report_print(stdout, &r->rep);
	snprintf(path, sizeof(path), "%s/report.json", r->workdir);
	if (report_write_json(path, &r->rep) != 0 ||
	    (r->a.json && report_write_json(r->a.json, &r->rep) != 0))
		fprintf(stderr, "dtx-chaos: cannot write the report\n");
	printf("report: %s\n", path);
	return 0;
}

static void stop_all(run *r)
{
	cluster_stop(&r->cl);
	for (int s = 0; s < CHAOS_NSVC; s++) {
		proxy_counts pc;

		if (r->px[s] == NULL)
			continue;
		proxy_get_counts(r->px[s], &pc);
		r->rep.pc[s] = pc;
	}
}

static int run_all(run *r)
{
	int64_t t_start = chaos_now_ms();
	char ns_why[240] = "";
	bool private_ns = r->a.netns && net_private_ns(ns_why, sizeof(ns_why));
	int rc = 2;

	if (!r->a.netns)
		snprintf(ns_why, sizeof(ns_why), "--no-netns");
	pick_ports(r, private_ns);
	find_binaries(r);
	if (make_dirs(r) != 0) {
		fprintf(stderr, "dtx-chaos: work directory: %s\n",
		        strerror(errno));
		return 2;
	}
	r->rep.seed = r->a.seed;
	r->rep.kind = r->a.kind;
	r->rep.workdir = r->workdir;
	printf("dtx-chaos %s: seed %llu, work directory %s\n", r->a.kind,
	       (unsigned long long)r->a.seed, r->workdir);
	probe(r, private_ns, ns_why);
	if (seed_shop(r) != 0 || write_schedule(r) != 0)
		return 2;
	r->rep.nevents = r->nev;
	if (start_pg(r) == 0 && start_proxies(r) == 0 &&
	    start_cluster(r) == 0) {
		safety_phase(r);
		liveness_phase(r);
		rc = 0;
	}
	stop_all(r);
	if (rc == 0 && finish(r, t_start) != 0)
		rc = 2;
	for (int s = 0; s < CHAOS_NSVC; s++)
		proxy_stop(r->px[s]);
	pgrun_stop(&r->pg);
	if (rc == 0 && r->check.failed > 0)
		rc = 1;
	if (rc == 0 && r->a.self_test && r->a.pg)
		rc = epochs_self_test(r->workdir, PG_SHARDS) == 0 ? 0 : 1;
	else if (rc == 0 && r->a.self_test)
		rc = tamper_self_test(r->workdir) == 0 ? 0 : 1;
	if (rc == 0 && !r->a.keep && r->a.workdir == NULL)
		tamper_remove_tree(r->workdir);
	else
		printf("work directory kept: %s\n", r->workdir);
	return rc;
}

/* ---- flags ------------------------------------------------------------- */

static unsigned num(const char *flag, const char *v, unsigned long max)
{
	return (unsigned)shop_parse_uint("dtx-chaos", usage_text, flag, v, max);
}

static void smoke_defaults(args *a)
{
	a->kind = "smoke";
	a->smoke = true;
	a->seed = 42;
	a->safety_s = 100;
	a->converge_s = 90;
	a->require_faults = true;
}

/* pg_smoke_defaults: --smoke with --store postgresql (usage_text). */
static void pg_smoke_defaults(args *a)
{
	a->seed = 22;
	a->safety_s = 30;
	a->converge_s = 60;
	a->gap_ms = 1000;
	a->only = schedule_kinds("kill,pause,pg-partition");
}

static void parse_args(int argc, char **argv, args *a)
{
	static const struct option opts[] = {
	        {"smoke", no_argument, NULL, 'S'},
	        {"soak-s", required_argument, NULL, 'L'},
	        {"safety-s", required_argument, NULL, 'D'},
	        {"seed", required_argument, NULL, 's'},
	        {"converge-s", required_argument, NULL, 'c'},
	        {"gap-ms", required_argument, NULL, 'g'},
	        {"retry-pct", required_argument, NULL, 'r'},
	        {"buyers", required_argument, NULL, 'b'},
	        {"stock", required_argument, NULL, 'k'},
	        {"threads", required_argument, NULL, 't'},
	        {"workdir", required_argument, NULL, 'w'},
	        {"bin-dir", required_argument, NULL, 'B'},
	        {"json", required_argument, NULL, 'j'},
	        {"keep", no_argument, NULL, 'K'},
	        {"no-netns", no_argument, NULL, 'N'},
	        {"self-test", no_argument, NULL, 'T'},
	        {"print-schedule", no_argument, NULL, 'P'},
	        {"require-faults", no_argument, NULL, 'R'},
	        {"store", required_argument, NULL, 'y'},
	        {"instances", required_argument, NULL, 'i'},
	        {"lease-ms", required_argument, NULL, 'l'},
	        {"only", required_argument, NULL, 'o'},
	        {NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			smoke_defaults(a);
			break;
		case 'L':
			a->kind = "soak";
			a->safety_s = num("--soak-s", optarg, 7 * 86400);
			a->require_faults = true;
			break;
		case 'D':
			a->safety_s = num("--safety-s", optarg, 7 * 86400);
			break;
		case 's':
			a->seed = shop_parse_uint("dtx-chaos", usage_text,
			                          "--seed", optarg, ~0ul);
			break;
		case 'c':
			a->converge_s = num("--converge-s", optarg, 3600);
			break;
		case 'g':
			a->gap_ms = num("--gap-ms", optarg, 600000);
			break;
		case 'r':
			a->retry_pct = num("--retry-pct", optarg, 50);
			break;
		case 'b':
			a->buyers = num("--buyers", optarg, SEED_BUYERS_MAX);
			break;
		case 'k':
			a->stock = num("--stock", optarg, SEED_STOCK_MAX);
			break;
		case 't':
			a->threads = num("--threads", optarg, 256);
			break;
		case 'w':
			a->workdir = optarg;
			break;
		case 'B':
			a->bin_dir = optarg;
			break;
		case 'j':
			a->json = optarg;
			break;
		case 'K':
			a->keep = true;
			break;
		case 'N':
			a->netns = false;
			break;
		case 'T':
			a->self_test = true;
			break;
		case 'P':
			a->print_schedule = true;
			break;
		case 'R':
			a->require_faults = true;
			break;
		case 'y':
			if (strcmp(optarg, "postgresql") != 0 &&
			    strcmp(optarg, "lmdb") != 0)
				shop_usage("dtx-chaos", usage_text,
				           "--store: lmdb or postgresql");
			a->pg = strcmp(optarg, "postgresql") == 0;
			break;
		case 'i':
			a->instances =
			        num("--instances", optarg, CHAOS_INSTANCES_MAX);
			break;
		case 'l':
			a->lease_ms = num("--lease-ms", optarg, 60000);
			break;
		case 'o':
			a->only = schedule_kinds(optarg);
			if (a->only == 0)
				shop_usage("dtx-chaos", usage_text,
				           "--only: kinds such as pause,kill");
			break;
		default:
			shop_usage("dtx-chaos", usage_text, "bad option '%s'",
			           argv[optind - 1]);
		}
	}
	if (optind < argc)
		shop_usage("dtx-chaos", usage_text, "unexpected '%s'",
		           argv[optind]);
	if (a->safety_s == 0 || a->threads == 0)
		shop_usage("dtx-chaos", usage_text,
		           "--safety-s and --threads must be > 0");
	if (a->smoke && a->pg) /* the PostgreSQL smoke: see usage_text */
		pg_smoke_defaults(a);
	if (a->instances == 0)
		a->instances = a->pg ? 3 : 1;
	if (a->pg ? a->instances < 2 : a->instances != 1)
		shop_usage("dtx-chaos", usage_text,
		           "--instances: 1 on LMDB, 2..3 on PostgreSQL");
	if (a->lease_ms < 500)
		shop_usage("dtx-chaos", usage_text, "--lease-ms: 500 or more");
}

/* size_shop sizes the stock and the buyers to the run's length unless
 * given: 40 units per second of faults runs out late in the safety phase
 * on this machine (about 300 purchases/s, a third of them committed,
 * until the stock is gone); the buyers' money covers about three times
 * the stock, and about one buyer in five cannot pay even one unit. */
static void size_shop(args *a)
{
	if (a->stock == 0)
		a->stock = a->safety_s * 40 > SEED_STOCK_MAX ? SEED_STOCK_MAX
		                                             : a->safety_s * 40;
	if (a->buyers == 0)
		a->buyers = a->stock * 3 / 4 > 0 ? a->stock * 3 / 4 : 1;
}

static int cmd_check(int argc, char **argv)
{
	static run r;

	optind = 1;
	parse_args(argc, argv, &r.a);
	if (r.a.workdir == NULL)
		shop_usage("dtx-chaos", usage_text, "check needs --workdir");
	if (check_run(r.a.workdir, &r.check) != 0)
		return 2;
	for (size_t i = 0; i < r.check.nitems; i++)
		printf("  %s  %-22s %s\n",
		       r.check.items[i].ok ? "PASS" : "FAIL",
		       r.check.items[i].name, r.check.items[i].evidence);
	printf("violations: %zu\n", r.check.failed);
	return r.check.failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	static run r;
	int rc;

	if (argc > 1 && strcmp(argv[1], "buyer") == 0)
		return buyer_main(argc - 1, argv + 1);
	r.a = (args){.kind = "run",
	             .seed = 1,
	             .safety_s = 60,
	             .converge_s = 120,
	             .gap_ms = 1000,
	             .retry_pct = 5,
	             .threads = 48,
	             .lease_ms = 3000,
	             .netns = true};
	if (argc > 1 && strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "self-test") == 0) {
		optind = 1;
		parse_args(argc - 1, argv + 1, &r.a);
		if (r.a.workdir == NULL)
			shop_usage("dtx-chaos", usage_text,
			           "self-test needs --workdir");
		if (r.a.pg) /* a PostgreSQL run: its audit, at rest */
			return epochs_self_test(r.a.workdir, PG_SHARDS) ? 1 : 0;
		return tamper_self_test(r.a.workdir) == 0 ? 0 : 1;
	}
	parse_args(argc, argv, &r.a);
	size_shop(&r.a);
	if (r.a.print_schedule) {
		schedule_shape sh = shape_of(&r.a);

		r.ev = schedule_make(r.a.seed, r.a.safety_s * 1000, r.a.gap_ms,
		                     &sh, &r.nev);
		if (r.ev != NULL)
			schedule_print(stdout, r.ev, r.nev);
		free(r.ev);
		return r.ev != NULL ? 0 : 2;
	}
	signal(SIGPIPE, SIG_IGN);
	rc = run_all(&r);
	free(r.ev);
	return rc;
}
