/*
 * pg_failover_test.c - a lost PostgreSQL machine strands nothing (issue 15
 * item 5): dtxd on a PostgreSQL store, under a bounded load of purchases
 * (sagas that commit, sagas that compensate, sagas with a slow step in
 * flight, TCC transactions), with real participants
 * (dtx-sample-participant with a barrier store, journaling every effect),
 * while the store's server goes away:
 *
 *   - the server restarts (immediate shutdown, or fast) under load;
 *   - the primary of a primary + synchronous streaming standby pair is
 *     killed -9 (the postmaster and every backend: a lost machine) and the
 *     standby promoted; dtxd has a multi-host URI
 *     (target_session_attrs=read-write) and follows the new primary; also
 *     while the standby lags (its walsender stopped on the primary), where
 *     synchronous replication holds every commit until the primary dies;
 *   - the same with an asynchronous standby: acknowledged transactions are
 *     lost on promotion, and the checks below say so - proof that they
 *     bite, and the reason synchronous replication is required.
 *
 * The test plays the supervisor (systemd's Restart=always): whenever
 * dtxd has exited - crash-only, exit 74, when its writer connection is
 * lost or a COMMIT's outcome is unknown - it starts it again with the same
 * flags, until the store takes it. Buyers (threads, a client each) do what
 * an application does: submit with a gid, resubmit the same gid until the
 * submit is acknowledged (idempotent), then wait for the outcome. After
 * the load, every acknowledged transaction must be final with the
 * outcome its kind gives, in a query and in dtxctl --store's offline
 * list (and show, for those in flight around the fault), and the
 * participants' journal must list each effect once and every effect of a
 * final transaction.
 *
 * Bounded everywhere: NPURCHASES purchases, each retried for at most
 * PURCHASE_WAIT_MS; the supervisor gives up after LOAD_WAIT_MS. No timed
 * assertion: the figures (how long dtxd could not commit, the longest
 * purchase around the fault) are printed, never compared.
 *
 * Each test starts its own clusters (pgtmp.h), so the binary runs outside
 * pgtmp.sh, one test at a time (--jobs=1: the figures mean something).
 */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "harness.h"
#include "pgtmp.h"

#define NBUYERS          4
#define NPURCHASES       160
#define FAULT_AFTER      40     /* purchases final before the fault */
#define PURCHASE_WAIT_MS 90000  /* one purchase, resubmits included */
#define LOAD_WAIT_MS     150000 /* the whole load, from its start */
#define READY_WAIT_MS    15000  /* a restarted dtxd gets to be ready */
#define QUERY_WAIT_MS    5000   /* a buyer's query waits this for the end */
#define RETRY_PAUSE_MS   50     /* between a buyer's tries */
#define RESTART_PAUSE_MS 300    /* between the supervisor's tries */
#define LAG_ACKS         8      /* async: acks while the standby lags */
#define SLOW_MS          "200"  /* p2.slow: a step in flight at the fault */
#define MAX_EXITS        32
#define OUT_MAX          (1 << 20)

static pgtmp *clusters[2];

/* fini is the suite's .fini: the harness's teardown, then the clusters. */
static void fini(void)
{
	th_teardown();
	for (int i = 0; i < 2; i++) {
		if (clusters[i] != NULL)
			pgtmp_crash(clusters[i]); /* also ends a frozen one */
		pgtmp_stop(clusters[i]);
		clusters[i] = NULL;
	}
}

TestSuite(pg_failover, .fini = fini, .timeout = 420);

/* ---- small helpers ----------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static pgtmp *cluster_start(int i)
{
	char err[512];

	clusters[i] = pgtmp_start(err, sizeof(err));
	cr_assert_not_null(clusters[i], "pgtmp: %s", err);
	return clusters[i];
}

/* use_store gives t a store on database "dtx" reached by uri (over
 * loopback TCP, as a production dtxd reaches its server). */
static void use_store(th_env *t, const char *uri)
{
	snprintf(t->log_dir, sizeof(t->log_dir), "%s", uri);
	t->pg_store = true;
}

/* ---- purchases --------------------------------------------------------- */

typedef enum kind {
	K_SAGA,      /* two steps, commits */
	K_SAGA_SLOW, /* its second step takes SLOW_MS: in flight at a fault */
	K_SAGA_FAIL, /* its second step refuses: compensates */
	K_TCC,       /* two branches, the coordinator runs the Tries */
	K_COUNT
} kind;

typedef struct purchase {
	char gid[32];
	kind k;
	int64_t start_ms, ack_ms, final_ms; /* 0: not (yet) */
	int state;                          /* final state, or -1 */
	int err;     /* the error that ended it early, or DTX_OK */
	bool lost;   /* acknowledged, then unknown to dtxd */
	int submits; /* submit calls (resubmits of the same gid) */
} purchase;

typedef struct load {
	char dtxd_url[TH_URL_MAX];
	char p1[TH_URL_MAX], p2[TH_URL_MAX];
	purchase p[NPURCHASES];
	atomic_int next;     /* the next purchase a buyer takes */
	atomic_int finished; /* purchases ended (final, lost or given up) */
	atomic_int acks;     /* submits acknowledged */
	int64_t end_ms;      /* no purchase starts or waits past it */
	pthread_t buyers[NBUYERS];
} load;

static dtx_tx_state expected_state(kind k)
{
	return k == K_SAGA_FAIL ? DTX_TX_COMPENSATED : DTX_TX_COMMITTED;
}

static void add_step(dtx_saga *s, const char *url, const char *action,
                     const char *comp)
{
	int err = dtx_saga_add_step(s, url, action, comp, NULL, 0, 0);

	cr_assert_eq(err, DTX_OK, "add step: %s", dtx_strerror(err));
}

static dtx_saga *make_saga(const load *l, const purchase *p)
{
	static const char *const second[] = {"p2.do", "p2.slow", "p2.fail"};
	dtx_saga *s;

	cr_assert_eq(dtx_saga_create(p->gid, &s), DTX_OK);
	add_step(s, l->p1, "p1.do", "p1.undo");
	add_step(s, l->p2, second[p->k], "p2.undo");
	return s;
}

static dtx_tcc *make_tcc(const load *l, const purchase *p)
{
	dtx_tcc *c;

	cr_assert_eq(dtx_tcc_create(p->gid, &c), DTX_OK);
	cr_assert_eq(dtx_tcc_add_branch(c, l->p1, "p1.do", "p1.do", "p1.undo",
	                                "x", 1, 0),
	             DTX_OK);
	cr_assert_eq(dtx_tcc_add_branch(c, l->p2, "p2.do", "p2.do", "p2.undo",
	                                "x", 1, 0),
	             DTX_OK);
	return c;
}

/* submit_once submits p (wait 0: answered once durable) and returns the
 * client's answer. */
static int submit_once(const load *l, dtx_client *c, purchase *p)
{
	dtx_tx_info info;
	int err;

	p->submits++;
	if (p->k == K_TCC) {
		dtx_tcc *tcc = make_tcc(l, p);

		err = dtx_client_submit_tcc(c, tcc, 0, &info);
		dtx_tcc_destroy(tcc);
	} else {
		dtx_saga *s = make_saga(l, p);

		err = dtx_client_submit(c, s, 0, &info);
		dtx_saga_destroy(s);
	}
	return err;
}

/* is_transient: the coordinator is away (restarting, or its store is):
 * try again with the same gid. */
static bool is_transient(int err)
{
	return err == DTX_EUNREACHABLE || err == DTX_ETIMEDOUT ||
	       err == DTX_EBUSY;
}

/* await_outcome waits for an acknowledged p to be final (or lost). */
static void await_outcome(dtx_client *c, purchase *p, int64_t deadline)
{
	dtx_tx_info info;

	while (now_ms() < deadline) {
		int err = dtx_client_query(c, p->gid, QUERY_WAIT_MS, &info);

		if (err == DTX_OK && dtx_tx_state_is_final(info.state)) {
			p->final_ms = now_ms();
			p->state = info.state;
			return;
		}
		if (err == DTX_ENOENT) {
			p->lost = true;
			return;
		}
		if (err != DTX_OK && !is_transient(err)) {
			p->err = err;
			return;
		}
		if (err != DTX_OK)
			sleep_ms(RETRY_PAUSE_MS);
	}
	p->err = DTX_ETIMEDOUT;
}

/* buy runs one purchase as an application does: resubmit the gid until
 * acknowledged, then wait for its outcome; bounded by PURCHASE_WAIT_MS. */
static void buy(const load *l, dtx_client *c, purchase *p)
{
	int64_t deadline;
	int err = DTX_ETIMEDOUT;

	p->start_ms = now_ms();
	deadline = p->start_ms + PURCHASE_WAIT_MS;
	if (deadline > l->end_ms)
		deadline = l->end_ms;
	while (now_ms() < deadline) {
		err = submit_once(l, c, p);
		if (!is_transient(err))
			break;
		sleep_ms(RETRY_PAUSE_MS);
	}
	if (err != DTX_OK) {
		p->err = err;
		return;
	}
	p->ack_ms = now_ms();
	atomic_fetch_add(&((load *)l)->acks, 1);
	await_outcome(c, p, deadline);
}

static void *buyer_main(void *arg)
{
	load *l = arg;
	dtx_client_opts o;
	dtx_client *c;
	int i;

	dtx_client_opts_init(&o);
	o.timeout_ms = QUERY_WAIT_MS + 10000;
	if (dtx_client_open(l->dtxd_url, &o, &c) != DTX_OK)
		return NULL; /* the purchases stay unstarted: the check says */
	while (now_ms() < l->end_ms &&
	       (i = atomic_fetch_add(&l->next, 1)) < NPURCHASES) {
		buy(l, c, &l->p[i]);
		atomic_fetch_add(&l->finished, 1);
	}
	dtx_client_close(c);
	return NULL;
}

static load *load_start(th_env *t)
{
	load *l = calloc(1, sizeof(*l));

	cr_assert_not_null(l);
	l->end_ms = now_ms() + LOAD_WAIT_MS;
	snprintf(l->dtxd_url, sizeof(l->dtxd_url), "%s", t->dtxd_url);
	snprintf(l->p1, sizeof(l->p1), "%s", th_participant_url(t, "p1"));
	snprintf(l->p2, sizeof(l->p2), "%s", th_participant_url(t, "p2"));
	for (int i = 0; i < NPURCHASES; i++) {
		snprintf(l->p[i].gid, sizeof(l->p[i].gid), "buy-%03d", i);
		l->p[i].k = (kind)(i % K_COUNT);
		l->p[i].state = -1;
	}
	for (int i = 0; i < NBUYERS; i++)
		cr_assert_eq(pthread_create(&l->buyers[i], NULL, buyer_main, l),
		             0);
	return l;
}

/* ---- the supervisor ---------------------------------------------------- */

/* A fault runs on a thread of its own while the test supervises dtxd
 * (as a server restart and a supervisor's restarts overlap in
 * production): it touches no harness state and does not assert; it
 * returns 0, or -1 with a reason in s->fault_err. The thread lives until
 * story_end: a server it started dies with it (PR_SET_PDEATHSIG follows
 * the thread that forked). */
struct story;
typedef int (*fault_fn)(struct story *s);

typedef struct story {
	th_env *t;
	load *l;
	int64_t fault_ms;
	int exits[MAX_EXITS]; /* exit codes of the dtxd that served */
	int nexits;
	int starts;       /* restarts the store refused (dtxd not ready) */
	int64_t exit_ms;  /* the first exit of dtxd seen after the fault */
	int64_t ready_ms; /* the last restart of dtxd ready */
	bool sync;        /* the standby is synchronous */
	int64_t up_ms;    /* the fault is over: a server takes writes again */
	int fault_rc;     /* the fault's own result: 0, or -1 with fault_err */
	void (*heal)(struct story *s); /* after the load, before the checks */
	fault_fn fault;
	pthread_t fault_th;
	atomic_bool fault_over; /* fault_rc and up_ms are set */
	atomic_bool released;   /* the fault's thread may end */
	char fault_err[512];
} story;

/* await_finished waits up to ms for n purchases to have ended. */
static bool await_finished(load *l, int n, int ms)
{
	int64_t deadline = now_ms() + ms;

	while (atomic_load(&l->finished) < n) {
		if (now_ms() >= deadline)
			return false;
		sleep_ms(20);
	}
	return true;
}

/* supervise restarts dtxd whenever it has exited, until every purchase
 * ended or the load's time is up; it records how the served dtxd ended.
 */
static void supervise(story *s)
{
	int64_t deadline = s->l->end_ms + 1000;

	while (atomic_load(&s->l->finished) < NPURCHASES &&
	       now_ms() < deadline) {
		if (th_proc_is_alive(s->t->dtxd)) {
			sleep_ms(20);
			continue;
		}
		if (s->nexits < MAX_EXITS)
			s->exits[s->nexits++] = th_proc_exit_code(s->t->dtxd);
		if (!s->exit_ms)
			s->exit_ms = now_ms();
		while (!th_dtxd_try_restart(s->t, READY_WAIT_MS) &&
		       now_ms() < deadline) {
			s->starts++;
			cr_assert_lt(s->t->nprocs, TH_PROCS_MAX - 2,
			             "dtxd refused %d starts", s->starts);
			sleep_ms(RESTART_PAUSE_MS);
		}
		s->ready_ms = now_ms();
	}
	for (int i = 0; i < NBUYERS; i++)
		pthread_join(s->l->buyers[i], NULL);
}

/* ---- figures ----------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* longest_gap finds the longest time without a commit (an acknowledged
 * submit or an observed outcome) that ends after the fault: dtxd could
 * not serve from *ret_from to *ret_to. */
static void longest_gap(const story *s, int64_t *ret_from, int64_t *ret_to)
{
	int64_t *ev = calloc(2 * NPURCHASES, sizeof(*ev));
	int n = 0;

	cr_assert_not_null(ev);
	for (int i = 0; i < NPURCHASES; i++) {
		if (s->l->p[i].ack_ms)
			ev[n++] = s->l->p[i].ack_ms;
		if (s->l->p[i].final_ms)
			ev[n++] = s->l->p[i].final_ms;
	}
	qsort(ev, (size_t)n, sizeof(*ev), cmp_i64);
	*ret_from = *ret_to = s->fault_ms;
	for (int i = 1; i < n; i++)
		if (ev[i] > s->fault_ms &&
		    ev[i] - ev[i - 1] > *ret_to - *ret_from) {
			*ret_from = ev[i - 1];
			*ret_to = ev[i];
		}
	free(ev);
}

/* report prints the story's figures (never asserted: the machine is
 * shared) and what dtxd said when it stopped. */
static void report(const story *s, const char *name)
{
	int64_t from, to, before = 0, around = 0;
	char exits[8 * MAX_EXITS] = "";

	longest_gap(s, &from, &to);
	for (int i = 0; i < NPURCHASES; i++) {
		const purchase *p = &s->l->p[i];
		int64_t lat = p->final_ms - p->start_ms;

		if (!p->final_ms)
			continue;
		if (p->final_ms < s->fault_ms)
			before = lat > before ? lat : before;
		else if (p->start_ms <= to)
			around = lat > around ? lat : around;
	}
	for (int i = 0; i < s->nexits; i++)
		snprintf(exits + strlen(exits), sizeof(exits) - strlen(exits),
		         "%s%d", i ? "," : "", s->exits[i]);
	fprintf(stderr,
	        "pg_failover %s: fault to first commit after it %lld ms "
	        "(no commit from fault%+lld ms to fault%+lld ms); longest "
	        "purchase before the fault %lld ms, around it %lld ms; dtxd "
	        "exits [%s] (first seen at fault%+lld ms, restarted dtxd "
	        "ready at fault%+lld ms), server back at fault%+lld ms, "
	        "starts refused %d\n",
	        name, (long long)(to - s->fault_ms),
	        (long long)(from - s->fault_ms), (long long)(to - s->fault_ms),
	        (long long)before, (long long)around, exits,
	        (long long)(s->exit_ms ? s->exit_ms - s->fault_ms : -1),
	        (long long)(s->ready_ms ? s->ready_ms - s->fault_ms : -1),
	        (long long)(s->up_ms - s->fault_ms), s->starts);
}

/* ---- checks ------------------------------------------------------------ */

typedef struct verdict {
	int lost;       /* acknowledged, then unknown */
	int unfinished; /* acknowledged, not final */
	int wrong;      /* final, not the outcome its kind gives */
	int unacked;    /* never acknowledged within its bound */
	int effects;    /* an effect applied twice, or missing */
	char first[512];
} verdict;

__attribute__((format(printf, 3, 4))) static void note(verdict *v, int *count,
                                                       const char *fmt, ...)
{
	va_list ap;

	if (v->first[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(v->first, sizeof(v->first), fmt, ap);
		va_end(ap);
	}
	(*count)++;
}

/* check_outcomes asks dtxd (a fresh query) about every purchase. */
static void check_outcomes(th_env *t, const load *l, verdict *v)
{
	dtx_client *c = th_client(t);
	dtx_tx_info info;

	for (int i = 0; i < NPURCHASES; i++) {
		const purchase *p = &l->p[i];
		int err;

		if (!p->ack_ms) {
			note(v, &v->unacked, "%s never acknowledged: %s",
			     p->gid, dtx_strerror(p->err));
			continue;
		}
		err = dtx_client_query(c, p->gid, 0, &info);
		if (p->lost || err == DTX_ENOENT)
			note(v, &v->lost, "%s was acknowledged, then lost",
			     p->gid);
		else if (err != DTX_OK || !dtx_tx_state_is_final(info.state))
			note(v, &v->unfinished, "%s not final: %s %s", p->gid,
			     dtx_strerror(err), dtx_tx_state_name(info.state));
		else if (info.state != expected_state(p->k))
			note(v, &v->wrong, "%s is %s", p->gid,
			     dtx_tx_state_name(info.state));
	}
}

/* count_ok counts journal lines of gid, branch and op that applied an
 * effect (status ok). */
static int count_ok(const th_jline *j, size_t n, const char *gid,
                    uint32_t branch, const char *op)
{
	int hits = 0;

	for (size_t i = 0; i < n; i++)
		hits += strcmp(j[i].gid, gid) == 0 && j[i].branch == branch &&
		        strcmp(j[i].op, op) == 0 &&
		        strcmp(j[i].status, "ok") == 0;
	return hits;
}

/* want_effects: how many times each (branch, op) of a final p must have
 * been applied: once, or not at all. */
static int want_effect(const purchase *p, uint32_t branch, const char *op)
{
	bool fwd = strcmp(op, "action") == 0 || strcmp(op, "try") == 0 ||
	           strcmp(op, "confirm") == 0;

	if (p->k == K_TCC)
		return strcmp(op, "try") == 0 || strcmp(op, "confirm") == 0;
	if (p->k != K_SAGA_FAIL)
		return strcmp(op, "action") == 0;
	/* p2.fail refused: step 0 done and undone, step 1 never applied */
	return branch == 0 && (fwd ? strcmp(op, "action") == 0
	                           : strcmp(op, "compensate") == 0);
}

/* check_effects: every final purchase's effects were applied exactly as
 * its outcome says, each once (the journal of barrier-served calls). */
static void check_effects(th_env *t, const load *l, verdict *v)
{
	static const char *const ops[] = {"action", "compensate", "try",
	                                  "confirm", "cancel"};
	th_jline *j;
	size_t n = th_journal_read(t, &j);

	for (int i = 0; i < NPURCHASES; i++) {
		const purchase *p = &l->p[i];

		if (p->state < 0 || p->lost)
			continue;
		for (uint32_t b = 0; b < 2; b++)
			for (size_t o = 0; o < 5; o++) {
				int got = count_ok(j, n, p->gid, b, ops[o]);
				int want = want_effect(p, b, ops[o]);

				if (got != want)
					note(v, &v->effects,
					     "%s branch %u %s applied %d "
					     "times, want %d",
					     p->gid, b, ops[o], got, want);
			}
	}
	free(j);
}

/* ctl runs dtxctl --store URI ARGS (no shell quoting needed but the
 * URI's) and returns its exit code; its stdout goes to out. */
static int ctl(th_env *t, char *out, const char *args)
{
	char cmd[2 * TH_URL_MAX + 256];
	size_t n;
	FILE *f;
	int status;

	snprintf(cmd, sizeof(cmd), "%s --store '%s' --output jsonl %s",
	         th_exe("DTX_DTXCTL"), t->log_dir, args);
	f = popen(cmd, "r");
	cr_assert_not_null(f, "popen %s", cmd);
	n = fread(out, 1, OUT_MAX - 1, f);
	out[n] = '\0';
	status = pclose(f);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* offline_state finds gid's state in dtxctl's jsonl list (out), or NULL. */
static const char *offline_state(json_t *const *rows, size_t n, const char *gid)
{
	for (size_t i = 0; i < n; i++) {
		json_t *tx = json_object_get(rows[i], "transaction");
		const char *g = json_string_value(json_object_get(tx, "gid"));

		if (g != NULL && strcmp(g, gid) == 0)
			return json_string_value(json_object_get(tx, "state"));
	}
	return NULL;
}

/* check_offline stops dtxd and reads the store with dtxctl --store:
 * every acknowledged purchase is there with its outcome (list), and
 * those in flight around the fault show it (show). */
static void check_offline(const story *s, verdict *v)
{
	th_env *t = s->t;
	char *out = malloc(OUT_MAX);
	json_t **rows = calloc(NPURCHASES + 64, sizeof(*rows));
	size_t nrows = 0;

	cr_assert(out != NULL && rows != NULL);
	th_proc_kill(t->dtxd, SIGTERM);
	cr_assert(th_proc_wait(t->dtxd, 10000), "dtxd ignored SIGTERM");
	cr_assert_eq(ctl(t, out, "list --all --limit 1000"), 0, "%s", out);
	for (char *line = strtok(out, "\n");
	     line != NULL && nrows < NPURCHASES + 64; line = strtok(NULL, "\n"))
		rows[nrows++] = json_loads(line, 0, NULL);
	for (int i = 0; i < NPURCHASES; i++) {
		const purchase *p = &s->l->p[i];
		const char *st = offline_state(rows, nrows, p->gid);
		char args[64];

		if (!p->ack_ms || p->lost)
			continue;
		if (st == NULL ||
		    strcmp(st, dtx_tx_state_name(expected_state(p->k))) != 0)
			note(v, &v->lost, "dtxctl list: %s is %s", p->gid,
			     st ? st : "absent");
		if (p->final_ms < s->fault_ms || p->start_ms > s->fault_ms)
			continue;
		snprintf(args, sizeof(args), "show %s", p->gid);
		if (ctl(t, out, args) != 0 ||
		    strstr(out, dtx_tx_state_name(expected_state(p->k))) ==
		            NULL)
			note(v, &v->lost, "dtxctl show %s: %.200s", p->gid,
			     out);
	}
	for (size_t i = 0; i < nrows; i++)
		json_decref(rows[i]);
	free(rows);
	free(out);
}

/* ---- stories ----------------------------------------------------------- */

static void *fault_main(void *arg)
{
	story *s = arg;

	s->fault_rc = s->fault(s);
	s->up_ms = now_ms();
	atomic_store(&s->fault_over, true);
	while (!atomic_load(&s->released))
		sleep_ms(20);
	return NULL;
}

/* await_fault waits (bounded) for the fault's thread to be done with it
 * and asserts it worked. */
static void await_fault(story *s)
{
	int64_t deadline = now_ms() + 2 * PGTMP_START_WAIT + 10000;

	while (!atomic_load(&s->fault_over) && now_ms() < deadline)
		sleep_ms(20);
	cr_assert(atomic_load(&s->fault_over), "the fault did not end");
	cr_assert_eq(s->fault_rc, 0, "the fault failed: %s", s->fault_err);
}

/* story_end lets the fault's thread go (after th_end: the servers it
 * started die with it) and frees the load. */
static void story_end(story *s)
{
	atomic_store(&s->released, true);
	pthread_join(s->fault_th, NULL);
	free(s->l);
}

/* start_parts: p1 and p2 serve through their barrier stores; p2.slow
 * takes SLOW_MS. */
static void start_parts(th_env *t)
{
	char d1[PATH_MAX], d2[PATH_MAX];

	th_path(t, "p1.data", d1, sizeof(d1));
	th_path(t, "p2.data", d2, sizeof(d2));
	th_participant_start(t, "p1", "--data", d1, NULL);
	th_participant_start(t, "p2", "--data", d2, "--delay-ms", SLOW_MS,
	                     NULL);
}

/* run_story runs the load on t's dtxd (started), hits it with fault once
 * FAULT_AFTER purchases ended, supervises until the load ended, and
 * judges: the verdict of every check, figures printed. */
static void run_story(story *s, th_env *t, fault_fn fault, const char *name,
                      verdict *v)
{
	memset(v, 0, sizeof(*v));
	s->t = t;
	s->l = load_start(t);
	cr_assert(await_finished(s->l, FAULT_AFTER, LOAD_WAIT_MS),
	          "the load did not get going: %d purchases ended",
	          atomic_load(&s->l->finished));
	s->fault_ms = now_ms();
	s->fault = fault;
	cr_assert_eq(pthread_create(&s->fault_th, NULL, fault_main, s), 0);
	supervise(s);
	await_fault(s);
	if (s->heal != NULL)
		s->heal(s);
	report(s, name);
	check_outcomes(t, s->l, v);
	check_effects(t, s->l, v);
	check_offline(s, v);
}

/* print_dtxd_stops prints what dtxd said when it stopped on its own. */
static void print_dtxd_stops(th_env *t)
{
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0;
	FILE *f;

	th_path(t, "dtxd.out", path, sizeof(path));
	f = fopen(path, "r");
	if (f == NULL)
		return;
	while (getline(&line, &cap, f) > 0)
		if (strstr(line, "stopping now") != NULL ||
		    strstr(line, "cannot connect") != NULL)
			fprintf(stderr, "  dtxd: %s", line);
	free(line);
	fclose(f);
}

static void assert_clean(const verdict *v, th_env *t)
{
	print_dtxd_stops(t);
	cr_assert(v->lost + v->unfinished + v->wrong + v->unacked +
	                          v->effects ==
	                  0,
	          "lost %d, unfinished %d, wrong %d, unacknowledged %d, "
	          "effects %d; first: %s",
	          v->lost, v->unfinished, v->wrong, v->unacked, v->effects,
	          v->first);
}

/* assert_served_then_stopped: every dtxd that served ended crash-only
 * (exit 74) - a hang would have left purchases unfinished. */
static void assert_crash_only(const story *s)
{
	for (int i = 0; i < s->nexits; i++)
		cr_assert_eq(s->exits[i], EX_IOERR,
		             "dtxd ended with %d, want %d (crash-only)",
		             s->exits[i], EX_IOERR);
}

/* ---- one server restarted ---------------------------------------------- */

static int restart_immediate(story *s)
{
	return pgtmp_restart(clusters[0], false, s->fault_err,
	                     sizeof(s->fault_err));
}

static int restart_fast(story *s)
{
	return pgtmp_restart(clusters[0], true, s->fault_err,
	                     sizeof(s->fault_err));
}

static void restart_story(fault_fn fault, const char *name)
{
	th_env *t = th_begin();
	pgtmp *pg = cluster_start(0);
	char uri[PGTMP_URI_MAX];
	story s = {0};
	verdict v;

	cr_assert_eq(pgtmp_tcp_uri_for(pgtmp_admin_uri(pg), "dtx", PGTMP_ROLE,
	                               uri, sizeof(uri)),
	             0);
	use_store(t, uri);
	start_parts(t);
	th_dtxd_start(t, NULL);
	run_story(&s, t, fault, name, &v);
	assert_clean(&v, t);
	assert_crash_only(&s);
	th_end(t);
	story_end(&s);
}

Test(pg_failover, immediate_restart_under_load_loses_nothing_acknowledged)
{
	restart_story(restart_immediate, "immediate restart");
}

Test(pg_failover, fast_restart_under_load_loses_nothing_acknowledged)
{
	restart_story(restart_fast, "fast restart");
}

/* ---- the primary lost -------------------------------------------------- */

static int kill_primary_promote(story *s)
{
	pgtmp_crash(clusters[0]);
	return pgtmp_promote(clusters[1], s->fault_err, sizeof(s->fault_err));
}

/* await_lag waits (bounded) until the primary holds WAL its stopped
 * walsender did not send: a synchronous standby makes a commit wait for
 * it (wait_event SyncRep); an asynchronous one lets LAG_ACKS more submits
 * be acknowledged. */
static int await_lag(story *s)
{
	int64_t deadline = now_ms() + 30000;
	int acks = atomic_load(&s->l->acks);
	char got[32] = "0", err[512];

	while (now_ms() < deadline) {
		if (s->sync &&
		    pgtmp_sql_value(pgtmp_admin_uri(clusters[0]),
		                    "SELECT count(*) FROM pg_stat_activity "
		                    "WHERE wait_event = 'SyncRep'",
		                    got, sizeof(got), err, sizeof(err)) == 0 &&
		    atoi(got) > 0)
			return 0;
		if (!s->sync && atomic_load(&s->l->acks) >= acks + LAG_ACKS)
			return 0;
		sleep_ms(20);
	}
	snprintf(s->fault_err, sizeof(s->fault_err),
	         "no lag within 30 s (sync %d, acks %d -> %d)", s->sync, acks,
	         atomic_load(&s->l->acks));
	return -1;
}

/* lag_then_kill: the standby stops receiving (the primary's walsender
 * stopped), the primary goes on as its mode lets it, then the primary's
 * machine is lost and the standby promoted with what it has. */
static int lag_then_kill(story *s)
{
	pid_t ws = pgtmp_child_pid(clusters[0], "walsender");

	if (ws <= 0 || kill(ws, SIGSTOP) != 0) {
		snprintf(s->fault_err, sizeof(s->fault_err),
		         "cannot stop the primary's walsender (pid %d)",
		         (int)ws);
		return -1;
	}
	if (await_lag(s) != 0)
		return -1;
	return kill_primary_promote(s);
}

/* primary_story runs the load on dtxd with a multi-host URI over a
 * primary and its standby (sync or not), through fault. */
static void primary_story(story *s, th_env *t, fault_fn fault, bool sync,
                          const char *name, verdict *v)
{
	pgtmp *primary = cluster_start(0);
	char uri[2 * PGTMP_URI_MAX], err[512];

	clusters[1] = pgtmp_start_standby(primary, "standby1", sync, err,
	                                  sizeof(err));
	cr_assert_not_null(clusters[1], "standby: %s", err);
	snprintf(uri, sizeof(uri),
	         "postgresql://" PGTMP_ROLE "@127.0.0.1:%d,127.0.0.1:%d/dtx"
	         "?target_session_attrs=read-write&connect_timeout=5",
	         pgtmp_port(primary), pgtmp_port(clusters[1]));
	use_store(t, uri);
	start_parts(t);
	th_dtxd_start(t, NULL);
	s->sync = sync;
	run_story(s, t, fault, name, v);
}

Test(pg_failover, primary_lost_standby_promoted_dtxd_follows_loses_nothing)
{
	th_env *t = th_begin();
	story s = {0};
	verdict v;

	primary_story(&s, t, kill_primary_promote, true, "primary lost", &v);
	assert_clean(&v, t);
	assert_crash_only(&s);
	th_end(t);
	story_end(&s);
}

Test(pg_failover, primary_lost_while_sync_standby_lags_loses_nothing)
{
	th_env *t = th_begin();
	story s = {0};
	verdict v;

	primary_story(&s, t, lag_then_kill, true, "primary lost, standby lags",
	              &v);
	assert_clean(&v, t);
	assert_crash_only(&s);
	th_end(t);
	story_end(&s);
}

/* The counter-proof: with an asynchronous standby the same story loses
 * acknowledged transactions, and the checks see it. This is what
 * PostgreSQL's replication must give dtx: synchronous_commit on with a
 * synchronous standby (or a failover that never promotes a standby that
 * lacks a commit). */
Test(pg_failover, async_standby_loses_acknowledged_and_the_checks_see_it)
{
	th_env *t = th_begin();
	story s = {0};
	verdict v;

	primary_story(&s, t, lag_then_kill, false, "async standby (must lose)",
	              &v);
	print_dtxd_stops(t);
	fprintf(stderr,
	        "pg_failover async: lost %d, unfinished %d, wrong %d, "
	        "effects %d; first: %s\n",
	        v.lost, v.unfinished, v.wrong, v.effects, v.first);
	cr_assert_gt(v.lost, 0,
	             "an asynchronous standby promoted without %d "
	             "acknowledged commits, yet nothing was found lost",
	             LAG_ACKS);
	th_end(t);
	story_end(&s);
}

/* freeze_primary_promote: the primary's machine hangs (every process
 * stopped; its kernel still answers TCP) and the standby is promoted. */
static int freeze_primary_promote(story *s)
{
	pgtmp_freeze(clusters[0], true);
	return pgtmp_promote(clusters[1], s->fault_err, sizeof(s->fault_err));
}

/* fence_primary powers the hung primary off (what fencing does), so that
 * dtxctl's connections find it refused at once. */
static void fence_primary(story *s)
{
	(void)s;
	pgtmp_crash(clusters[0]);
}

/* A hung primary answers nothing and its kernel keeps the connection
 * alive (keepalives and TCP's user timeout see nothing wrong): dtxd must
 * give its writer connection up on its own, stop crash-only, and follow
 * the new primary. */
Test(pg_failover, primary_hangs_standby_promoted_dtxd_gives_up_and_follows)
{
	th_env *t = th_begin();
	story s = {0};
	verdict v;

	s.heal = fence_primary;
	primary_story(&s, t, freeze_primary_promote, true, "primary hangs", &v);
	assert_clean(&v, t);
	assert_crash_only(&s);
	th_end(t);
	story_end(&s);
}
