/*
 * shardops_test.c - operating several dtxd on one PostgreSQL store (issue
 * 15 item 4 and its leftovers): real dtxd processes leasing 6 shards on a
 * throw-away cluster (suite postgres: run under pgtmp.sh with
 * DTX_TEST_STORE=postgresql, a schema per test), each with an admin
 * endpoint, and the real dtxctl.
 *
 * What must hold:
 *   - `dtxctl shards` asked at any instance lists every shard with the
 *     owner, epoch and URLs the store's lease and heartbeat records hold,
 *     a heartbeat age and a state; `dtxctl --store URI shards` reads the
 *     same from the stopped store;
 *   - an operator action sent to an instance that does not own the gid's
 *     shard reaches the owner (dtxctl follows DTX_EMOVED, and says so) and
 *     is recorded there;
 *   - retention in lease mode prunes only the shards the instance owns;
 *   - a branch call carries the epoch of its shard's lease: the owner's,
 *     and a higher one once another instance took the shard (a raw
 *     participant of this test reads BranchCall.epoch);
 *   - a shard given to a joining instance is released within the drain
 *     bound even while one of its transactions cannot finish, and that
 *     transaction finishes on the new owner.
 * Who owns what is read from the store itself (a read-only log handle),
 * never from an instance's word. Every wait is bounded.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <jansson.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "log.h"
#include "shard.h"
#include "wire.h"

#define SHARDS   6
#define LEASE    "3000"
#define LEASE_MS 3000
#define MAXI     3
#define OUT_MAX  (1 << 20)

TestSuite(shardops, .fini = th_teardown, .timeout = 240);

typedef struct fleet {
	th_env *t;
	char name[MAXI][8];
	char url[MAXI][TH_URL_MAX];
	char admin[MAXI][TH_URL_MAX];
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

/* start_one starts instance i with the fleet's flags and extra (NULL-
 * terminated, may be NULL) and waits until it is ready. */
static void start_one(fleet *f, int i, const char *const *extra)
{
	const char *argv[40] = {th_exe("DTX_DTXD"),
	                        "--store",
	                        f->t->log_dir,
	                        "--shards",
	                        "6",
	                        "--instance",
	                        f->name[i],
	                        "--lease-ms",
	                        LEASE,
	                        "--listen",
	                        f->url[i],
	                        "--advertise",
	                        f->url[i],
	                        "--ready-file",
	                        f->ready[i],
	                        "--admin",
	                        f->admin[i],
	                        "--log-level",
	                        "info",
	                        "--retry-base-ms",
	                        "20",
	                        "--retry-max-ms",
	                        "300"};
	size_t n = 21;

	while (extra != NULL && *extra != NULL)
		argv[n++] = *extra++;
	argv[n] = NULL;
	unlink(f->ready[i]);
	f->proc[i] = th_spawn(f->t, f->name[i], argv);
	cr_assert(th_wait_ready(f->proc[i], f->ready[i], TH_WAIT_READY),
	          "%s did not start", f->name[i]);
}

static void fleet_init(fleet *f, th_env *t, int n)
{
	memset(f, 0, sizeof(*f));
	f->t = t;
	f->n = n;
	for (int i = 0; i < MAXI; i++) {
		char file[32], adm[16];

		snprintf(f->name[i], sizeof(f->name[i]), "%c", 'a' + i);
		th_url(t, f->name[i], f->url[i], sizeof(f->url[i]));
		snprintf(adm, sizeof(adm), "%s-admin", f->name[i]);
		th_url(t, adm, f->admin[i], sizeof(f->admin[i]));
		snprintf(file, sizeof(file), "%s.ready", f->name[i]);
		th_path(t, file, f->ready[i], sizeof(f->ready[i]));
		if (i > 0)
			strcat(f->all, ",");
		strcat(f->all, f->url[i]);
	}
}

/* store_read reads the store's lease and heartbeat records. */
static void store_read(fleet *f, dc_log_lease l[SHARDS], dc_log_beat b[8],
                       uint32_t *nb)
{
	dc_log_opts o = {.dir = f->t->log_dir, .read_only = true};
	dc_log *log = NULL;
	char err[512] = "";

	cr_assert_eq(dc_log_open(&o, &log, err, sizeof(err)), DTX_OK, "%s",
	             err);
	cr_assert_eq(dc_log_leases_read(log, l, SHARDS, b, 8, nb), DTX_OK);
	dc_log_close(log);
}

/* wait_split waits (bounded) until the store shows want[i] shards for
 * instance i and none free. */
static void wait_split(fleet *f, const int want[MAXI], uint64_t max_ms)
{
	uint64_t t0 = now_ms();

	for (;;) {
		dc_log_lease l[SHARDS];
		dc_log_beat b[8];
		uint32_t nb = 0;
		int got[MAXI] = {0}, free_ = 0;

		store_read(f, l, b, &nb);
		for (int s = 0; s < SHARDS; s++) {
			if (l[s].owner[0] == '\0')
				free_++;
			else
				got[l[s].owner[0] - 'a']++;
		}
		if (free_ == 0 && memcmp(got, want, sizeof(got)) == 0)
			return;
		cr_assert_lt(now_ms() - t0, max_ms,
		             "split %d/%d/%d (%d free), want %d/%d/%d", got[0],
		             got[1], got[2], free_, want[0], want[1], want[2]);
		usleep(100 * 1000);
	}
}

/* owner_of: the instance (index) the store names as gid's shard owner. */
static int owner_of(fleet *f, const char *gid)
{
	dc_log_lease l[SHARDS];
	dc_log_beat b[8];
	uint32_t nb = 0;

	store_read(f, l, b, &nb);
	return l[shard_of_gid(gid, SHARDS)].owner[0] - 'a';
}

/* gid_owned_by makes in out a gid "prefix-K" whose shard instance i owns. */
static void gid_owned_by(fleet *f, int i, const char *prefix, char *out,
                         size_t len)
{
	for (int k = 0; k < 1000; k++) {
		snprintf(out, len, "%s-%d", prefix, k);
		if (owner_of(f, out) == i)
			return;
	}
	cr_assert_fail("no gid of %s's shards", f->name[i]);
}

/* ctl runs dtxctl with where ("--admin URL" or "--store URI") and args,
 * keeps its stdout in out (and stderr in err, if not NULL) and returns
 * its exit code. */
static int ctl(fleet *f, const char *where, char *out, char *err,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int ctl(fleet *f, const char *where, char *out, char *err,
               const char *fmt, ...)
{
	char args[1024], cmd[16384], errf[PATH_MAX];
	va_list ap;
	FILE *p;
	size_t n;
	int status;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	th_path(f->t, "ctl.err", errf, sizeof(errf));
	snprintf(cmd, sizeof(cmd), "%s %s %s 2>%s", th_exe("DTX_DTXCTL"), where,
	         args, errf);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	n = fread(out, 1, OUT_MAX - 1, p);
	out[n] = '\0';
	status = pclose(p);
	cr_assert(WIFEXITED(status), "%s did not exit", cmd);
	if (err != NULL) {
		FILE *e = fopen(errf, "r");

		n = e ? fread(err, 1, OUT_MAX - 1, e) : 0;
		err[n] = '\0';
		if (e)
			fclose(e);
	}
	return WEXITSTATUS(status);
}

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* view_matches: the shards of a `dtxctl shards -o json` answer (out) name
 * the owners and epochs the store holds now. */
static bool view_matches(fleet *f, const char *out)
{
	dc_log_lease l[SHARDS];
	dc_log_beat b[8];
	uint32_t nb = 0;
	json_error_t jerr;
	json_t *o = json_loads(out, 0, &jerr), *a;
	bool same = o != NULL;

	store_read(f, l, b, &nb);
	a = same ? json_object_get(o, "shards") : NULL;
	same = same && json_array_size(a) == SHARDS;
	for (int s = 0; same && s < SHARDS; s++) {
		json_t *r = json_array_get(a, (size_t)s);
		const char *owner = jstr(r, "owner");

		same = owner != NULL && strcmp(owner, l[s].owner) == 0 &&
		       json_integer_value(json_object_get(r, "epoch")) ==
		               (json_int_t)l[s].epoch;
	}
	json_decref(o);
	return same;
}

/* shards_json runs `dtxctl WHERE --output json shards` into out until its
 * view is the store's (an instance answers from its last lease round,
 * which may be a round behind the store: bounded by a few rounds). */
static void shards_json(fleet *f, const char *where, char *out)
{
	uint64_t t0 = now_ms();

	for (;;) {
		cr_assert_eq(ctl(f, where, out, NULL, "--output json shards"),
		             0, "%s", out);
		if (view_matches(f, out))
			return;
		cr_assert_lt(now_ms() - t0, 4 * LEASE_MS,
		             "%s: its view is not the store's: %s", where, out);
		usleep(200 * 1000);
	}
}

/* check_shards checks a `dtxctl shards -o json` answer against the store:
 * every shard, its owner, epoch and the owner's URLs, state owned, a
 * heartbeat age; answered_by is who (NULL: offline). */
static void check_shards(fleet *f, const char *out, const char *who)
{
	dc_log_lease l[SHARDS];
	dc_log_beat b[8];
	uint32_t nb = 0;
	json_error_t jerr;
	json_t *o = json_loads(out, 0, &jerr), *a;

	cr_assert_not_null(o, "not JSON: %s", out);
	store_read(f, l, b, &nb);
	if (who != NULL)
		cr_assert_str_eq(jstr(o, "answered_by"), who);
	else
		cr_assert(json_is_null(json_object_get(o, "answered_by")));
	a = json_object_get(o, "shards");
	cr_assert_eq(json_array_size(a), SHARDS, "%s", out);
	for (int s = 0; s < SHARDS; s++) {
		json_t *r = json_array_get(a, (size_t)s);
		int i = l[s].owner[0] - 'a';

		cr_assert_eq(json_integer_value(json_object_get(r, "shard")),
		             s);
		cr_assert_str_eq(jstr(r, "owner"), l[s].owner);
		cr_assert_eq(json_integer_value(json_object_get(r, "epoch")),
		             (json_int_t)l[s].epoch, "shard %d", s);
		cr_assert_str_eq(jstr(r, "state"), "owned", "shard %d", s);
		cr_assert_str_eq(jstr(r, "client_url"), f->url[i]);
		cr_assert_str_eq(jstr(r, "admin_url"), f->admin[i]);
		cr_assert(
		        json_is_integer(json_object_get(r, "heartbeat_age_ms")),
		        "shard %d: no heartbeat age", s);
		if (who != NULL)
			cr_assert(json_is_integer(json_object_get(
			                  r, "owned_since_unix_ms")),
			          "shard %d: no owned-since", s);
	}
	json_decref(o);
}

Test(shardops, shards_are_seen_from_every_instance_and_from_the_stopped_store)
{
	static char out[OUT_MAX];
	static const int three[MAXI] = {2, 2, 2};
	th_env *t = th_begin();
	char where[4100];
	fleet f;

	cr_assert(t->pg_store, "run under pgtmp.sh (suite postgres)");
	fleet_init(&f, t, 3);
	for (int i = 0; i < 3; i++)
		start_one(&f, i, NULL);
	wait_split(&f, three, 6 * LEASE_MS);
	for (int i = 0; i < 3; i++) {
		snprintf(where, sizeof(where), "--admin %.4000s", f.admin[i]);
		shards_json(&f, where, out);
		check_shards(&f, out, f.name[i]);
	}
	cr_assert_eq(ctl(&f, where, out, NULL, "shards"), 0);
	cr_assert_not_null(strstr(out, "SHARD STATE"), "%s", out);
	cr_assert_not_null(strstr(out, "answered by c"), "%s", out);
	cr_log_info("%s", out);
	for (int i = 0; i < 3; i++)
		th_proc_crash(f.proc[i]);
	snprintf(where, sizeof(where), "--store '%.4000s'", t->log_dir);
	shards_json(&f, where, out);
	check_shards(&f, out, NULL);
	th_end(t);
}

Test(shardops, an_action_sent_to_a_non_owner_is_done_by_the_owner)
{
	static char out[OUT_MAX], err[OUT_MAX];
	static const int three[MAXI] = {2, 2, 2};
	th_env *t = th_begin();
	char gid[32], where[4100], data[PATH_MAX];
	dtx_client_opts o;
	dtx_client *c;
	dtx_saga *s;
	dtx_tx_info info;
	fleet f;
	int own, other;

	cr_assert(t->pg_store, "run under pgtmp.sh (suite postgres)");
	th_path(t, "p1data", data, sizeof(data));
	th_participant_start(t, "p1", "--data", data, "--delay-ms", "1500",
	                     NULL);
	fleet_init(&f, t, 3);
	for (int i = 0; i < 3; i++)
		start_one(&f, i, NULL);
	wait_split(&f, three, 6 * LEASE_MS);
	gid_owned_by(&f, 0, "redir", gid, sizeof(gid));
	own = 0;
	other = 1;
	dtx_client_opts_init(&o);
	o.timeout_ms = 5000;
	cr_assert_eq(dtx_client_open(f.all, &o, &c), DTX_OK);
	t->clients[t->nclients++] = c;
	s = th_saga(t, gid, "p1.slow/p1.undo p1.do/p1.undo");
	cr_assert_eq(dtx_client_submit(c, s, 0, &info), DTX_OK);
	dtx_saga_destroy(s);
	/* at b, which does not own the shard: dtxctl asks a */
	snprintf(where, sizeof(where), "--admin %.4000s", f.admin[other]);
	cr_assert_eq(ctl(&f, where, out, err, "pause %s --reason test", gid), 0,
	             "out: %s err: %s", out, err);
	cr_assert_not_null(strstr(err, "redirect 1 of at most 3"), "%s", err);
	cr_assert_not_null(strstr(err, f.admin[own]), "%s", err);
	/* recorded by the owner, in the store */
	cr_assert_eq(ctl(&f, where, out, NULL, "show %s", gid), 0, "%s", out);
	cr_assert_not_null(strstr(out, "operator pause"), "%s", out);
	snprintf(where, sizeof(where), "--admin %.4000s", f.admin[2]);
	cr_assert_eq(ctl(&f, where, out, err, "resume %s --reason test", gid),
	             0, "out: %s err: %s", out, err);
	cr_assert_eq(dtx_client_query(c, gid, 20000, &info), DTX_OK);
	cr_assert_eq(info.state, DTX_TX_COMMITTED, "%s is %s", gid,
	             dtx_tx_state_name(info.state));
	th_end(t);
}

/* is_pruned: dtxctl --store show says gid's details were pruned. */
static bool is_pruned(fleet *f, const char *gid)
{
	static char out[OUT_MAX];
	char where[4100];

	snprintf(where, sizeof(where), "--store '%.4000s'", f->t->log_dir);
	cr_assert_eq(ctl(f, where, out, NULL, "show %s", gid), 0, "%s", out);
	return strstr(out, "details pruned at") != NULL;
}

Test(shardops, retention_prunes_only_the_shards_an_instance_owns)
{
	static const int two[MAXI] = {3, 3, 0};
	static const char *const keep[] = {"--retain-final", "0", NULL};
	static const char *const prune[] = {"--retain-final", "1s", NULL};
	th_env *t = th_begin();
	char gid[2][4][32];
	dtx_client_opts o;
	dtx_client *c;
	fleet f;
	uint64_t t0;

	cr_assert(t->pg_store, "run under pgtmp.sh (suite postgres)");
	th_participant_start(t, "p1", NULL);
	fleet_init(&f, t, 2);
	start_one(&f, 0, prune); /* a prunes after 1 s */
	start_one(&f, 1, keep);  /* b keeps everything */
	wait_split(&f, two, 6 * LEASE_MS);
	strcpy(f.all, f.url[0]);
	strcat(f.all, ",");
	strcat(f.all, f.url[1]);
	dtx_client_opts_init(&o);
	o.timeout_ms = 5000;
	cr_assert_eq(dtx_client_open(f.all, &o, &c), DTX_OK);
	t->clients[t->nclients++] = c;
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 4; k++) {
			char prefix[16];
			dtx_saga *s;
			dtx_tx_info info;

			snprintf(prefix, sizeof(prefix), "ret%d%d", i, k);
			gid_owned_by(&f, i, prefix, gid[i][k],
			             sizeof(gid[i][k]));
			s = th_saga(t, gid[i][k], "p1.do/p1.undo");
			cr_assert_eq(dtx_client_submit(c, s, 10000, &info),
			             DTX_OK);
			dtx_saga_destroy(s);
			cr_assert_eq(info.state, DTX_TX_COMMITTED);
		}
	/* a prunes its own within a few of its retention rounds */
	t0 = now_ms();
	for (int k = 0; k < 4; k++)
		while (!is_pruned(&f, gid[0][k])) {
			cr_assert_lt(now_ms() - t0, 30000, "%s not pruned",
			             gid[0][k]);
			usleep(200 * 1000);
		}
	/* and some more rounds, then b's are all still there */
	usleep(2500 * 1000);
	for (int k = 0; k < 4; k++)
		cr_assert_not(is_pruned(&f, gid[1][k]),
		              "%s (b's shard) was pruned by a", gid[1][k]);
	th_end(t);
}

/* ---- a raw participant that reads BranchCall.epoch -------------------- */

typedef struct raw_part {
	nng_socket sock;
	pthread_t thread;
	atomic_bool stop;
	atomic_uint_fast64_t first_epoch; /* of the first call */
	atomic_uint_fast64_t ok_epoch;    /* the call answered OK */
	atomic_uint calls;
} raw_part;

static void answer_ok(nng_msg *m)
{
	Dtx__V1__BranchReply r = DTX__V1__BRANCH_REPLY__INIT;
	uint8_t buf[16];
	size_t len;

	r.has_version = r.has_status = true;
	r.version = DTX__V1__VERSION__VERSION_1;
	r.status = DTX__V1__BRANCH_STATUS__BRANCH_OK;
	len = dtx__v1__branch_reply__pack(&r, buf);
	nng_msg_clear(m);
	nng_msg_append(m, buf, len);
}

/* raw_one reads one call: the first epoch is kept and never answered (its
 * owner is about to die); a call with a higher epoch is answered OK. */
static void raw_one(raw_part *p, nng_msg *m)
{
	Dtx__V1__BranchCall *c = dtx__v1__branch_call__unpack(
	        NULL, nng_msg_len(m), nng_msg_body(m));
	uint64_t e = c != NULL && c->has_epoch ? c->epoch : 0;
	uint64_t first = atomic_load(&p->first_epoch);

	if (c != NULL)
		dtx__v1__branch_call__free_unpacked(c, NULL);
	atomic_fetch_add(&p->calls, 1);
	if (first == 0 && e != 0)
		atomic_store(&p->first_epoch, e);
	if (first == 0 || e <= first) {
		nng_msg_free(m); /* unanswered: the call times out */
		return;
	}
	atomic_store(&p->ok_epoch, e);
	answer_ok(m);
	if (nng_sendmsg(p->sock, m, 0) != 0)
		nng_msg_free(m);
}

static void *raw_serve(void *arg)
{
	raw_part *p = arg;

	while (!atomic_load(&p->stop)) {
		nng_msg *m;

		if (nng_recvmsg(p->sock, &m, 0) == 0)
			raw_one(p, m);
	}
	return NULL;
}

Test(shardops,
     a_branch_call_carries_the_owners_epoch_and_a_higher_one_after_a_takeover)
{
	static const int two[MAXI] = {3, 3, 0}, one[MAXI] = {0, 6, 0};
	th_env *t = th_begin();
	char gid[32], url[TH_URL_MAX];
	dc_log_lease l[SHARDS];
	dc_log_beat b[8];
	uint32_t nb = 0;
	uint64_t e1;
	dtx_client_opts o;
	dtx_client *c;
	dtx_saga *s;
	dtx_tx_info info;
	raw_part p;
	fleet f;

	cr_assert(t->pg_store, "run under pgtmp.sh (suite postgres)");
	memset(&p, 0, sizeof(p));
	th_url(t, "raw", url, sizeof(url));
	cr_assert_eq(nng_rep0_open(&p.sock), 0);
	nng_socket_set_ms(p.sock, NNG_OPT_RECVTIMEO, 100);
	cr_assert_eq(nng_listen(p.sock, url, NULL, 0), 0);
	cr_assert_eq(pthread_create(&p.thread, NULL, raw_serve, &p), 0);
	fleet_init(&f, t, 2);
	start_one(&f, 0, NULL);
	start_one(&f, 1, NULL);
	wait_split(&f, two, 6 * LEASE_MS);
	gid_owned_by(&f, 0, "epoch", gid, sizeof(gid));
	store_read(&f, l, b, &nb);
	e1 = l[shard_of_gid(gid, SHARDS)].epoch;
	strcpy(f.all, f.url[0]);
	strcat(f.all, ",");
	strcat(f.all, f.url[1]);
	dtx_client_opts_init(&o);
	o.timeout_ms = 5000;
	cr_assert_eq(dtx_client_open(f.all, &o, &c), DTX_OK);
	t->clients[t->nclients++] = c;
	cr_assert_eq(dtx_saga_create(gid, &s), DTX_OK);
	cr_assert_eq(dtx_saga_add_step(s, url, "e.do", "e.undo", NULL, 0, 0),
	             DTX_OK);
	cr_assert_eq(dtx_client_submit(c, s, 0, &info), DTX_OK);
	dtx_saga_destroy(s);
	for (int i = 0; i < 1000 && atomic_load(&p.first_epoch) == 0; i++)
		usleep(10 * 1000);
	cr_assert_eq(atomic_load(&p.first_epoch), e1,
	             "a's call carried epoch %llu, its lease is at %llu",
	             (unsigned long long)atomic_load(&p.first_epoch),
	             (unsigned long long)e1);
	th_proc_crash(f.proc[0]);
	wait_split(&f, one, 6 * LEASE_MS);
	store_read(&f, l, b, &nb);
	cr_assert_eq(dtx_client_query(c, gid, 20000, &info), DTX_OK);
	cr_assert_eq(info.state, DTX_TX_COMMITTED, "%s is %s", gid,
	             dtx_tx_state_name(info.state));
	cr_assert_gt(atomic_load(&p.ok_epoch), e1);
	cr_assert_eq(atomic_load(&p.ok_epoch),
	             l[shard_of_gid(gid, SHARDS)].epoch,
	             "b's call carried epoch %llu, its lease is at %llu",
	             (unsigned long long)atomic_load(&p.ok_epoch),
	             (unsigned long long)l[shard_of_gid(gid, SHARDS)].epoch);
	cr_log_info("epoch %llu at a, %llu at b after the kill -9 (%u calls)",
	            (unsigned long long)e1,
	            (unsigned long long)atomic_load(&p.ok_epoch),
	            atomic_load(&p.calls));
	atomic_store(&p.stop, true);
	pthread_join(p.thread, NULL);
	nng_close(p.sock);
	th_end(t);
}

Test(shardops, a_drain_ends_within_its_bound_and_hands_a_stuck_transaction_over)
{
	static const int one[MAXI] = {SHARDS, 0, 0}, two[MAXI] = {3, 3, 0};
	static const char *const bound[] = {"--drain-ms", "4000", NULL};
	th_env *t = th_begin();
	char gid[32], data[PATH_MAX];
	dtx_client_opts o;
	dtx_client *c;
	dtx_saga *s;
	dtx_tx_info info;
	fleet f;
	uint64_t t0;

	cr_assert(t->pg_store, "run under pgtmp.sh (suite postgres)");
	th_path(t, "p1data", data, sizeof(data));
	/* every call takes a minute: past the call timeout, retried */
	th_participant_start(t, "p1", "--data", data, "--delay-ms", "60000",
	                     NULL);
	fleet_init(&f, t, 2);
	start_one(&f, 0, bound);
	wait_split(&f, one, 6 * LEASE_MS);
	/* a gid of the highest shard: the one a gives to a joiner */
	for (int k = 0;; k++) {
		snprintf(gid, sizeof(gid), "drain-%d", k);
		if (shard_of_gid(gid, SHARDS) == SHARDS - 1)
			break;
	}
	strcpy(f.all, f.url[0]);
	strcat(f.all, ",");
	strcat(f.all, f.url[1]);
	dtx_client_opts_init(&o);
	o.timeout_ms = 5000;
	cr_assert_eq(dtx_client_open(f.all, &o, &c), DTX_OK);
	t->clients[t->nclients++] = c;
	s = th_saga(t, gid, "p1.slow/p1.undo");
	cr_assert_eq(dtx_client_submit(c, s, 0, &info), DTX_OK);
	dtx_saga_destroy(s);
	start_one(&f, 1, NULL); /* b joins: a drains 3 shards */
	t0 = now_ms();
	wait_split(&f, two, 4000 + 6 * LEASE_MS + 5000);
	cr_log_info("the shards split 3/3 %llu ms after b joined (drain "
	            "bound 4000 ms, call timeout 5000 ms)",
	            (unsigned long long)(now_ms() - t0));
	cr_assert(th_log_contains(t, "a", "handing them over"));
	th_participant_restart(t, "p1", "--data", data, "--delay-ms", "0",
	                       NULL);
	cr_assert_eq(dtx_client_query(c, gid, 30000, &info), DTX_OK);
	cr_assert_eq(info.state, DTX_TX_COMMITTED, "%s is %s", gid,
	             dtx_tx_state_name(info.state));
	cr_assert_str_eq(th_journal_story(t, gid), "p1.slow:ok",
	                 "each effect once");
	cr_assert(th_log_contains(t, "b", "recovered 1 non-final"),
	          "b says what it recovered as it took the shard");
	th_end(t);
}
