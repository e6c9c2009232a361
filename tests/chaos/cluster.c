/*
 * cluster.c - supervising dtxd, the services and the buyer (see
 * cluster.h).
 *
 * Layout of the work directory (the shop's, seed.h, plus the harness's):
 *   log/                 dtxd's log (LMDB) stores/NAME/  each service's
 *   run/NAME.ready       ready files       logs/NAME.log output of NAME
 *   stats/NAME.N         counters of NAME's Nth run    history.txt
 *   run/fiu-PID.in/out   libfiu's control fifos of dtxd
 *
 * A member's life: M_DOWN -(restart_at)-> M_STARTING -(ready file)->
 * M_UP; any exit -> M_DOWN with a restart time; M_STOPPING (a clean
 * restart, to arm a fault point or to disarm one) -> M_DOWN at once. The
 * buyer is restarted only after it stalled (exit 75) or crashed (a
 * violation, counted), until the heal. Every wait has a deadline.
 */
#include "cluster.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netfault.h"
#include "procs.h"

#define READY_MS         20000 /* a start that takes longer is a failure */
#define STOP_MS          15000 /* dtxd bounds its own stop at 10 s */
#define RESTART_MS       200   /* after a fault point or a fail-stop */
#define UNEXPECTED_MS    1000  /* after an unexpected exit */
#define EX_IOERR_CODE    74
#define BUYER_STOP_MS    60000
#define BUYER_STUCK_CODE 75 /* buyer.c: every client of its process stalled */
#define EX_TEMPFAIL_CODE 75 /* dtxd: lost a lease, or no heartbeat in time */
#define EX_UNAVAIL_CODE  69 /* dtxd: the store unreachable at start */

void cluster_url(uint16_t port, char *out, size_t len)
{
	snprintf(out, len, "tcp://127.0.0.1:%u", (unsigned)port);
}

static void path_of(const cluster *c, const char *dir, const char *name,
                    const char *ext, char *out, size_t len)
{
	snprintf(out, len, "%s/%s/%s%s", c->o.workdir, dir, name, ext);
}

/* ---- argv of each role ------------------------------------------------- */

typedef struct argv_buf {
	const char *v[PROCS_ARGS_MAX];
	size_t n;
	char s[24][PATH_MAX]; /* storage for the strings built here */
	size_t ns;
} argv_buf;

static void add(argv_buf *b, const char *word)
{
	if (b->n < PROCS_ARGS_MAX - 1)
		b->v[b->n++] = word;
	b->v[b->n] = NULL;
}

static char *slot(argv_buf *b)
{
	return b->ns < 24 ? b->s[b->ns++] : b->s[23];
}

static void add_url(argv_buf *b, uint16_t port)
{
	char *s = slot(b);

	cluster_url(port, s, PATH_MAX);
	add(b, s);
}

static void add_num(argv_buf *b, unsigned long long v)
{
	char *s = slot(b);

	snprintf(s, PATH_MAX, "%llu", v);
	add(b, s);
}

static void add_path(argv_buf *b, const cluster *c, const char *dir,
                     const char *name, const char *ext)
{
	char *s = slot(b);

	path_of(c, dir, name, ext, s, PATH_MAX);
	add(b, s);
}

/* pg_args: the store of instance k, reached through its relay, with
 * application_name NAME.RUN - what the audit triggers record of every
 * write and lease change (main.c), so each is tied to one process. The
 * log level is info: "shard S: taken at epoch E" lines are evidence. */
static void pg_args(const cluster *c, const member *m, argv_buf *b)
{
	int k = m->role - ROLE_DTXD;
	const char *name = chaos_role_name(m->role);
	char *s = slot(b);

	snprintf(s, PATH_MAX,
	         "postgresql://dtx@127.0.0.1:%u/%s?application_name=%s.%u",
	         (unsigned)c->o.ports.pg[k], c->o.pg_db, name, m->starts + 1);
	add(b, "--store");
	add(b, s);
	add(b, "--instance");
	add(b, name);
	add(b, "--advertise");
	add_url(b, c->o.ports.dtxd[k]);
	add(b, "--shards");
	add_num(b, c->o.shards);
	add(b, "--lease-ms");
	add_num(b, c->o.lease_ms);
	add(b, "--log-level");
	add(b, "info");
}

static void dtxd_argv(const cluster *c, const member *m, argv_buf *b)
{
	int k = m->role - ROLE_DTXD;
	char *s;

	if (c->o.fiu && c->o.instances <= 1) {
		s = slot(b);
		snprintf(s, PATH_MAX, "%s/run/fiu", c->o.workdir);
		b->n = fiu_wrap(s, b->v);
	}
	add(b, c->o.dtxd_exe);
	if (c->o.instances > 1) {
		pg_args(c, m, b);
	} else {
		add(b, "--log-dir");
		s = slot(b);
		snprintf(s, PATH_MAX, "%s/log", c->o.workdir);
		add(b, s);
		add(b, "--log-level");
		add(b, "warn");
	}
	add(b, "--listen");
	add_url(b, c->o.ports.dtxd[k]);
	add(b, "--admin");
	add_url(b, c->o.ports.admin[k]);
	add(b, "--ready-file");
	add_path(b, c, "run", chaos_role_name(m->role), ".ready");
	add(b, "--call-timeout-ms");
	add_num(b, c->o.call_timeout_ms);
	add(b, "--retry-base-ms");
	add(b, "50");
	add(b, "--retry-max-ms");
	add(b, "2000");
}

void cluster_dtxd_urls(const cluster *c, char *out, size_t len)
{
	unsigned n = c->o.instances > 0 ? c->o.instances : 1;
	size_t used = 0;

	out[0] = '\0';
	for (unsigned k = 0; k < n && used < len; k++) {
		int w = snprintf(out + used, len - used, "%stcp://127.0.0.1:%u",
		                 k ? "," : "", (unsigned)c->o.ports.dtxd[k]);

		used += w > 0 ? (size_t)w : 0;
	}
}

static void add_dtxd_urls(const cluster *c, argv_buf *b)
{
	char *s = slot(b);

	cluster_dtxd_urls(c, s, PATH_MAX);
	add(b, s);
}

static void service_argv(const cluster *c, const member *m, argv_buf *b)
{
	const char *name = chaos_role_name(m->role);
	char *s = slot(b);

	snprintf(s, PATH_MAX, "%s/dtx-shop-%s", c->o.shop_dir, name);
	add(b, s);
	add(b, "--url");
	add_url(b, c->o.ports.svc[m->role]);
	add(b, "--data");
	add_path(b, c, "stores", name, "");
	add(b, "--ready-file");
	add_path(b, c, "run", name, ".ready");
	add(b, "--coordinator");
	add_dtxd_urls(c, b);
	add(b, "--journal");
	add(b, "--stats-file");
	s = slot(b);
	snprintf(s, PATH_MAX, "%s/stats/%s.%u", c->o.workdir, name, m->starts);
	add(b, s);
	if (!c->healed && c->o.retry_pct > 0) {
		add(b, "--chaos-retry-pct");
		add_num(b, c->o.retry_pct);
		add(b, "--chaos-seed");
		add_num(b, c->o.seed * 131 + (uint64_t)m->role * 7 + m->starts);
	}
}

static void buyer_argv(const cluster *c, argv_buf *b)
{
	char *s;

	add(b, c->o.self_exe);
	add(b, "buyer");
	add(b, "--dtxd");
	add_dtxd_urls(c, b);
	for (int i = 0; i < CHAOS_NSVC; i++) {
		add(b, "--svc");
		add_url(b, c->o.ports.proxy[i]);
	}
	add(b, "--history");
	s = slot(b);
	snprintf(s, PATH_MAX, "%s/history.txt", c->o.workdir);
	add(b, s);
	add(b, "--prefix");
	s = slot(b);
	snprintf(s, PATH_MAX, "p%u-", c->m[ROLE_BUYER].starts);
	add(b, s);
	add(b, "--buyers");
	add_num(b, c->o.buyers);
	add(b, "--sku");
	add(b, c->o.sku);
	add(b, "--price");
	add_num(b, c->o.price);
	add(b, "--threads");
	add_num(b, c->o.threads);
	add(b, "--max-s");
	add_num(b, c->o.max_s);
	add(b, "--reserve-ms");
	add_num(b, c->o.reserve_ms);
	add(b, "--abandon-pct");
	add_num(b, c->o.abandon_pct);
	add(b, "--mix");
	add(b, c->o.mix);
	add(b, "--seed");
	add_num(b, c->o.seed);
}

/* ---- starting ---------------------------------------------------------- */

static int spawn_member(cluster *c, member *m)
{
	argv_buf *b = calloc(1, sizeof(*b));
	char log[PATH_MAX], ready[PATH_MAX];
	const char *env[2] = {NULL, NULL};

	if (b == NULL)
		return -1;
	if (chaos_is_dtxd(m->role))
		dtxd_argv(c, m, b);
	else if (m->role == ROLE_BUYER)
		buyer_argv(c, b);
	else
		service_argv(c, m, b);
	if (m->fault >= 0)
		env[0] = m->fault_env;
	path_of(c, "logs", chaos_role_name(m->role), ".log", log, sizeof(log));
	path_of(c, "run", chaos_role_name(m->role), ".ready", ready,
	        sizeof(ready));
	unlink(ready);
	m->pid = procs_spawn(log, b->v, env);
	free(b);
	if (m->pid < 0) {
		m->pid = 0;
		return -1;
	}
	m->starts++;
	m->killed = false;
	m->fiu_armed = false;
	m->st = m->role == ROLE_BUYER ? M_UP : M_STARTING;
	m->deadline = chaos_now_ms() + READY_MS;
	return 0;
}

/* arm_fault sets the fault point the member's next run starts with. */
static void arm_fault(member *m, int point, unsigned nth)
{
	m->fault = point;
	if (point >= 0)
		snprintf(m->fault_env, sizeof(m->fault_env), "DTX_FAULT=%s:%u",
		         schedule_points[point].name, nth);
}

static bool is_ready(const cluster *c, const member *m)
{
	char ready[PATH_MAX];

	path_of(c, "run", chaos_role_name(m->role), ".ready", ready,
	        sizeof(ready));
	return procs_file_ready(ready);
}

/* ---- exits ------------------------------------------------------------- */

static void note_unexpected(cluster *c, const member *m, const char *what)
{
	size_t i = c->n.unexpected;

	if (i < CLUSTER_UNEXPECTED_MAX)
		snprintf(c->n.unexpected_what[i],
		         sizeof(c->n.unexpected_what[i]), "%s (run %u): %s",
		         chaos_role_name(m->role), m->starts, what);
	c->n.unexpected++;
	fprintf(stderr, "dtx-chaos: UNEXPECTED: %s run %u: %s\n",
	        chaos_role_name(m->role), m->starts, what);
}

/* crash_only_stop counts an instance's stop by design on PostgreSQL
 * (cluster_counts.stepdowns): true if code is one. */
static bool crash_only_stop(cluster *c, const member *m, int code)
{
	if (c->o.instances <= 1 || !chaos_is_dtxd(m->role))
		return false;
	if (code == EX_TEMPFAIL_CODE)
		c->n.stepdowns++;
	else if (code == EX_IOERR_CODE)
		c->n.store_stops++;
	else if (code == EX_UNAVAIL_CODE)
		c->n.start_unreachable++;
	else
		return false;
	return true;
}

/* classify decides whether the exit (wait status) was caused by the
 * harness, and when the member starts again. */
static void classify(cluster *c, member *m, int status)
{
	bool sigkill = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	char what[96];
	int64_t delay = RESTART_MS;

	if (m->st == M_STOPPING && code == 0) {
		delay = 0;
	} else if (m->killed && sigkill) {
		delay = m->restart_at; /* set by the kill: ms to wait */
	} else if (m->fault >= 0 && sigkill) {
		c->n.points_fired++;
	} else if (m->fiu_armed && code == EX_IOERR_CODE) {
		c->n.fiu_stops++;
	} else if (crash_only_stop(c, m, code)) {
		/* counted by crash_only_stop */
	} else if (m->role == ROLE_BUYER && code == 0) {
		m->st = M_DONE;
		m->pid = 0;
		return;
	} else if (m->role == ROLE_BUYER && code == BUYER_STUCK_CODE) {
		/* every client of the process stalled (buyer.c): a new
		 * buyer process takes over, with gids of its own (not once
		 * healed: the buyers are stopping then) */
		c->n.buyer_restarts++;
		m->pid = 0;
		m->st = c->healed ? M_DONE : M_DOWN;
		m->restart_at = chaos_now_ms();
		return;
	} else {
		static const char *const states[] = {"down", "starting", "up",
		                                     "stopping", "done"};

		if (WIFSIGNALED(status))
			snprintf(what, sizeof(what),
			         "killed by signal %d%s, %s", WTERMSIG(status),
			         WCOREDUMP(status) ? " (core dumped)" : "",
			         states[m->st]);
		else
			snprintf(what, sizeof(what), "exit %d, %s", code,
			         states[m->st]);
		note_unexpected(c, m, what);
		delay = UNEXPECTED_MS;
	}
	if (m->st == M_STOPPING)
		arm_fault(m, m->next_fault, m->next_nth);
	else
		arm_fault(m, -1, 0);
	m->pid = 0;
	m->paused = false;
	/* a buyer that crashed (counted above) is replaced, with gids of its
	 * own, so a long run keeps its load; not once healed */
	m->st = m->role == ROLE_BUYER && c->healed ? M_DONE : M_DOWN;
	m->restart_at = chaos_now_ms() + delay;
}

/* dump_says tells whether the gdb output in path holds text. */
static bool dump_says(const char *path, const char *text)
{
	char line[1024];
	bool found = false;
	FILE *f = fopen(path, "r");

	for (int n = 0; f != NULL && !found && n < 100000 &&
	                fgets(line, sizeof(line), f) != NULL;
	     n++)
		found = strstr(line, text) != NULL;
	if (f != NULL)
		fclose(f);
	return found;
}

/* note_hang counts a stop that hung: in nng_close (see
 * cluster_counts.stop_hangs_nng), or unexpected. */
static void note_hang(cluster *c, const member *m, const char *dump)
{
	char what[PATH_MAX + 64];

	if (dump_says(dump, " nng_close ")) {
		c->n.stop_hangs_nng++;
		fprintf(stderr,
		        "dtx-chaos: %s run %u hung in nng_close after SIGTERM "
		        "(known nng 1.5.2 bug; stacks: %s): killed\n",
		        chaos_role_name(m->role), m->starts, dump);
		return;
	}
	snprintf(what, sizeof(what),
	         "did not obey SIGTERM in time: killed (stacks: %s)", dump);
	note_unexpected(c, m, what);
}

/* dump_path names the stacks file of m's current run. */
static void dump_path(const cluster *c, const member *m, char *out, size_t len)
{
	char ext[32];

	snprintf(ext, sizeof(ext), ".%u.hang.txt", m->starts);
	path_of(c, "logs", chaos_role_name(m->role), ext, out, len);
}

/* dump_stacks writes the threads' stacks of a member that did not stop
 * in time to logs/NAME.RUN.hang.txt (gdb, if installed) and counts the
 * hang. Returns false if it turns out the process had exited meanwhile
 * (gdb found a zombie): then it was not a hang, and nothing is counted. */
static bool dump_stacks(cluster *c, const member *m)
{
	char dump[PATH_MAX], spid[16];
	const char *const gdb[] = {
	        "/usr/bin/gdb",        "-batch", "-p", spid, "-ex",
	        "thread apply all bt", NULL};

	dump_path(c, m, dump, sizeof(dump));
	unlink(dump);
	snprintf(spid, sizeof(spid), "%ld", (long)m->pid);
	if (access(gdb[0], X_OK) == 0)
		(void)procs_run(dump, gdb, 30000);
	if (dump_says(dump, "is a zombie"))
		return false;
	note_hang(c, m, dump);
	return true;
}

void cluster_tick(cluster *c)
{
	int64_t now = chaos_now_ms();
	int status;

	for (int r = 0; r < ROLE_COUNT; r++) {
		member *m = &c->m[r];

		if (m->pid > 0 && procs_poll(m->pid, &status)) {
			classify(c, m, status);
			continue;
		}
		if (m->paused && now >= m->resume_at) {
			kill(m->pid, SIGCONT);
			m->paused = false;
		}
		if (m->st == M_STARTING && is_ready(c, m))
			m->st = M_UP;
		else if (m->st == M_STARTING && now > m->deadline) {
			note_unexpected(c, m, "not ready in time: killed");
			kill(m->pid, SIGKILL);
			m->killed = true;
			m->restart_at = UNEXPECTED_MS;
			m->deadline = INT64_MAX; /* noted once; reaped next */
		}
		if (m->st == M_STOPPING && now > m->deadline) {
			if (dump_stacks(c, m)) {
				kill(m->pid, SIGKILL);
				m->killed = true; /* counted, not again */
				m->restart_at = 0;
			}
			m->deadline = INT64_MAX; /* a zombie: reaped next */
		}
		if (m->st == M_DOWN && now >= m->restart_at) {
			c->n.restarts++;
			if (spawn_member(c, m) != 0)
				m->restart_at = now + UNEXPECTED_MS;
		}
	}
}

/* ---- the faults -------------------------------------------------------- */

bool cluster_in_use(const cluster *c, int role)
{
	unsigned n = c->o.instances > 0 ? c->o.instances : 1;

	return !chaos_is_dtxd(role) || role - ROLE_DTXD < (int)n;
}

bool cluster_is_up(const cluster *c, int role)
{
	return c->m[role].st == M_UP && !c->m[role].paused;
}

static bool do_kill(cluster *c, member *m, unsigned restart_after_ms)
{
	if (m->pid <= 0 || (m->st != M_UP && m->st != M_STARTING))
		return false;
	kill(m->pid, SIGKILL);
	m->killed = true;
	m->restart_at = restart_after_ms; /* read by classify */
	c->n.kills[m->role]++;
	return true;
}

static bool do_pause(cluster *c, member *m, unsigned ms)
{
	if (!cluster_is_up(c, m->role))
		return false;
	kill(m->pid, SIGSTOP);
	m->paused = true;
	m->resume_at = chaos_now_ms() + ms;
	c->n.pauses[m->role]++;
	return true;
}

/* restart_clean stops m with SIGTERM; it starts again with point armed
 * (-1: none). */
static bool restart_clean(member *m, int point, unsigned nth)
{
	if (m->pid <= 0 || m->st != M_UP)
		return false;
	kill(m->pid, SIGCONT);
	m->paused = false;
	kill(m->pid, SIGTERM);
	m->st = M_STOPPING;
	m->deadline = chaos_now_ms() + STOP_MS;
	m->next_fault = point;
	m->next_nth = nth;
	return true;
}

static bool do_fiu(cluster *c, member *m, int point)
{
	char prefix[PATH_MAX];

	if (!c->o.fiu || !cluster_is_up(c, m->role) || m->fiu_armed)
		return false;
	snprintf(prefix, sizeof(prefix), "%s/run/fiu", c->o.workdir);
	if (fiu_arm(c->helper_log, prefix, m->pid,
	            schedule_fiu_points[point]) != 0)
		return false;
	m->fiu_armed = true;
	m->fiu_point = point;
	c->n.fiu_armed++;
	return true;
}

bool cluster_apply(cluster *c, const chaos_event *e)
{
	member *m = &c->m[e->target];

	switch (e->kind) {
	case EV_KILL:
		return do_kill(c, m, e->dur_ms);
	case EV_PAUSE:
		return do_pause(c, m, e->dur_ms);
	case EV_FAULT_POINT:
		if (m->fault >= 0 || !restart_clean(m, e->arg, e->level))
			return false;
		c->n.points_armed[e->arg]++;
		return true;
	case EV_FIU:
		return do_fiu(c, m, e->arg);
	default:
		return false;
	}
}

/* ---- start, heal, stop ------------------------------------------------- */

static bool all_up(const cluster *c)
{
	for (int r = 0; r < ROLE_BUYER; r++)
		if (cluster_in_use(c, r) && !cluster_is_up(c, r))
			return false;
	return true;
}

static int wait_all_up(cluster *c, unsigned wait_ms)
{
	int64_t limit = chaos_now_ms() + wait_ms;

	while (chaos_now_ms() < limit) {
		cluster_tick(c);
		if (all_up(c))
			return 0;
		chaos_sleep_ms(5);
	}
	fprintf(stderr, "dtx-chaos: processes not up within %u ms\n", wait_ms);
	return -1;
}

int cluster_start(cluster *c, const cluster_opts *o)
{
	memset(c, 0, sizeof(*c));
	c->o = *o;
	snprintf(c->helper_log, sizeof(c->helper_log), "%s/logs/helpers.log",
	         o->workdir);
	for (int r = 0; r < ROLE_COUNT; r++) {
		c->m[r].role = r;
		c->m[r].fault = c->m[r].next_fault = -1;
		c->m[r].st = M_DONE;
	}
	for (int r = 0; r < ROLE_BUYER && cluster_in_use(c, r); r++) {
		if (spawn_member(c, &c->m[r]) != 0) {
			fprintf(stderr, "dtx-chaos: cannot start %s\n",
			        chaos_role_name(r));
			return -1;
		}
	}
	return wait_all_up(c, READY_MS);
}

int cluster_start_buyer(cluster *c)
{
	return spawn_member(c, &c->m[ROLE_BUYER]);
}

/* restart_plain restarts a service still starting at the heal: it was
 * started with RETRY answers on, and SIGUSR1 (which turns them off)
 * would kill it before it handles the signal. Not counted as a fault. */
static void restart_plain(member *m)
{
	kill(m->pid, SIGKILL);
	m->killed = true;
	m->restart_at = 0; /* read by classify: restart at once */
}

int cluster_heal(cluster *c, unsigned wait_ms)
{
	char prefix[PATH_MAX];

	c->healed = true;
	snprintf(prefix, sizeof(prefix), "%s/run/fiu", c->o.workdir);
	for (int r = 0; r < ROLE_BUYER && cluster_in_use(c, r); r++) {
		member *m = &c->m[r];

		if (m->paused) {
			kill(m->pid, SIGCONT);
			m->paused = false;
		}
		if (m->st == M_STOPPING)
			m->next_fault = -1; /* restarts plain */
		if (m->fiu_armed && m->pid > 0 &&
		    fiu_disarm(c->helper_log, prefix, m->pid,
		               schedule_fiu_points[m->fiu_point]) == 0)
			m->fiu_armed = false;
		if (m->fault >= 0 && m->st != M_STOPPING)
			restart_clean(m, -1, 0);
		else if (m->st == M_DOWN)
			m->restart_at = 0;
		if (r < CHAOS_NSVC && m->pid > 0 && m->st == M_UP)
			kill(m->pid, SIGUSR1); /* no more RETRY answers */
		else if (r < CHAOS_NSVC && m->pid > 0 && m->st == M_STARTING)
			restart_plain(m);
	}
	return wait_all_up(c, wait_ms);
}

int cluster_stop_buyer(cluster *c)
{
	member *b = &c->m[ROLE_BUYER];
	int64_t limit = chaos_now_ms() + BUYER_STOP_MS;

	if (b->pid > 0)
		kill(b->pid, SIGTERM);
	while (b->pid > 0 && chaos_now_ms() < limit) {
		cluster_tick(c);
		chaos_sleep_ms(5);
	}
	if (b->pid > 0 && dump_stacks(c, b)) { /* counts the hang */
		procs_stop(b->pid, SIGKILL, STOP_MS);
		b->pid = 0;
		b->st = M_DONE;
		return -1;
	}
	for (int i = 0; b->pid > 0 && i < 1000; i++) { /* exited: reap it */
		cluster_tick(c);
		chaos_sleep_ms(5);
	}
	return 0;
}

int cluster_stop(cluster *c)
{
	char dump[PATH_MAX], what[PATH_MAX + 64];
	int bad = 0, status;
	bool hung, starting;

	for (int r = ROLE_COUNT - 1; r >= 0; r--) {
		member *m = &c->m[r];

		if (m->pid <= 0)
			continue;
		starting = m->st == M_STARTING;
		dump_path(c, m, dump, sizeof(dump));
		unlink(dump);
		status = procs_stop_dump(m->pid, SIGTERM, STOP_MS, dump, &hung);
		if (hung && !dump_says(dump, "is a zombie")) {
			note_hang(c, m, dump);
			bad++;
		} else if (starting && WIFSIGNALED(status) &&
		           WTERMSIG(status) == SIGTERM) {
			/* still starting: no handler for SIGTERM yet */
		} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			snprintf(what, sizeof(what), "stopped with status %#x",
			         (unsigned)status);
			note_unexpected(c, m, what);
			bad++;
		}
		m->pid = 0;
		m->st = M_DONE;
	}
	return bad;
}
