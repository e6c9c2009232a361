/*
 * durability_test.c - the log's bad days, end to end (issue 4):
 *
 *   - a commit that fails with EIO (libfiu arms fdatasync or pwrite inside
 *     a running dtxd) or ENOSPC (the log on a full tmpfs) stops dtxd with
 *     exit 74 and a message naming the log file and the error; no client
 *     was told OK about a transaction that is not on disk; a restart
 *     without the fault recovers every acknowledged transaction to its
 *     final state, and no participant applied an effect twice;
 *   - a full LMDB map grows between write transactions and work goes on;
 *     past --map-size-max-mb the same fail-stop happens;
 *   - a jump of dtxd's wall clock (libfaketime) neither fires nor cancels a
 *     saga deadline and does not stall a retry's backoff.
 *
 * Each fault tool is checked before it is used: a test that cannot arm its
 * fault on this machine skips with the reason (cr_skip_test), it never
 * passes without the fault.
 *
 * The fault tools wrap dtxd: a script in the test directory execs the tool
 * and then dtxd, so the pid the harness holds (and fiu-ctrl targets) is
 * dtxd's own. The harness takes dtxd's path from DTX_DTXD; use_wrapper
 * points that at the script for one start, use_plain_dtxd back at dtxd for
 * the restart. Criterion runs each test in its own process, so the
 * variable, like the mount namespace of the ENOSPC test, is the test's own.
 *
 * Participants keep a store (--data) and serve through the barrier, so the
 * journal lists each applied effect once (see crash_test.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

#define DIE_WAIT_MS   10000 /* ms a faulted dtxd gets to stop */
#define NDONE         3     /* sagas committed before the fault */
#define NHELD         3     /* acknowledged, still running at the fault */
#define BURST         12    /* submitted once the fault is armed */
#define BURST_PAYLOAD (64 * 1024)
#define HOUR_MS       (3600 * 1000LL)

#define FIU_RUN     "/usr/bin/fiu-run"
#define FIU_CTRL    "/usr/bin/fiu-ctrl"
#define FIU_POSIX   "/usr/lib/fiu/fiu_posix_preload.so"
#define FAKETIME_SO "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"

#define SPEC_COMMIT "p1.do/p1.undo p2.do/p2.undo"
#define SPEC_HELD   "p1.do/p1.undo p3.slow/p3.undo"

TestSuite(durability, .fini = th_teardown, .timeout = 120);

/* ---- small helpers ----------------------------------------------------- */

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* skip_unless ends the test as skipped (with why) if ok is false; t (may be
 * NULL) is cleaned up first. */
static void skip_unless(th_env *t, bool ok, const char *why)
{
	if (ok)
		return;
	if (t != NULL)
		th_end(t);
	cr_skip_test("%s", why);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "open %s: %s", path, strerror(errno));
	fputs(text, f);
	cr_assert_eq(fclose(f), 0, "write %s: %s", path, strerror(errno));
	cr_assert_eq(chmod(path, mode), 0, "chmod %s", path);
}

/* count_lines returns how many lines of DIR/name.out contain text. */
static int count_lines(th_env *t, const char *name, const char *text)
{
	char path[PATH_MAX], file[TH_NAME_MAX + 8];
	char *line = NULL;
	size_t cap = 0;
	int n = 0;
	FILE *f;

	snprintf(file, sizeof(file), "%s.out", name);
	th_path(t, file, path, sizeof(path));
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	while (getline(&line, &cap, f) > 0)
		n += strstr(line, text) != NULL;
	free(line);
	fclose(f);
	return n;
}

/* ---- dtxd under a fault tool ------------------------------------------- */

static char plain_dtxd[PATH_MAX];

/* use_wrapper makes the next dtxd start run "exec PRELUDE dtxd ARGS" from a
 * script in t's directory (prelude borrowed, words without quotes). */
static void use_wrapper(th_env *t, const char *prelude)
{
	char path[PATH_MAX], text[4 * PATH_MAX];

	snprintf(plain_dtxd, sizeof(plain_dtxd), "%s", th_exe("DTX_DTXD"));
	th_path(t, "dtxd-wrap.sh", path, sizeof(path));
	snprintf(text, sizeof(text), "#!/bin/sh\nexec %s '%s' \"$@\"\n",
	         prelude, plain_dtxd);
	write_file(path, text, 0755);
	cr_assert_eq(setenv("DTX_DTXD", path, 1), 0);
}

/* use_plain_dtxd undoes use_wrapper, if it was used: restarts run dtxd
 * itself. */
static void use_plain_dtxd(void)
{
	if (plain_dtxd[0] != '\0')
		cr_assert_eq(setenv("DTX_DTXD", plain_dtxd, 1), 0);
}

/* await_fail_stop waits for dtxd to stop on its own and asserts exit 74 and a
 * message that names the log file and contains text. */
static void await_fail_stop(th_env *t, const char *text)
{
	char data[PATH_MAX + 16];

	cr_assert(th_proc_wait(t->dtxd, DIE_WAIT_MS),
	          "dtxd still runs %d ms after the fault", DIE_WAIT_MS);
	cr_assert_eq(th_proc_exit_code(t->dtxd), EX_IOERR,
	             "dtxd ended with %d, want %d (EX_IOERR)",
	             th_proc_exit_code(t->dtxd), EX_IOERR);
	snprintf(data, sizeof(data), "%s/data.mdb", t->log_dir);
	cr_assert(th_log_contains(t, "dtxd", data),
	          "dtxd's output does not name the log file %s", data);
	cr_assert(th_log_contains(t, "dtxd", text),
	          "dtxd's output does not say '%s'", text);
}

/* ---- sagas ------------------------------------------------------------- */

/* payload_saga builds "p1.do/p1.undo p2.do/p2.undo" with len bytes of
 * payload on the first step (the caller destroys it). */
static dtx_saga *payload_saga(th_env *t, const char *gid, size_t len)
{
	char *payload = malloc(len ? len : 1);
	dtx_saga *saga;

	cr_assert_not_null(payload);
	memset(payload, 'x', len);
	cr_assert_eq(dtx_saga_create(gid, &saga), DTX_OK);
	cr_assert_eq(dtx_saga_add_step(saga, th_participant_url(t, "p1"),
	                               "p1.do", "p1.undo", payload, len, 0),
	             DTX_OK);
	cr_assert_eq(dtx_saga_add_step(saga, th_participant_url(t, "p2"),
	                               "p2.do", "p2.undo", NULL, 0, 0),
	             DTX_OK);
	free(payload);
	return saga;
}

static void submit_acked(th_env *t, dtx_client *c, const char *gid,
                         const char *spec)
{
	dtx_saga *saga = th_saga(t, gid, spec);
	dtx_tx_info info;
	int err = dtx_client_submit(c, saga, 0, &info);

	dtx_saga_destroy(saga);
	cr_assert_eq(err, DTX_OK, "submit %s: %s", gid, dtx_strerror(err));
}

static void await_final(dtx_client *c, const char *gid, dtx_tx_state want,
                        dtx_tx_info *ret_info)
{
	int err = dtx_client_query(c, gid, TH_WAIT_FINAL, ret_info);

	cr_assert_eq(err, DTX_OK, "query %s: %s", gid, dtx_strerror(err));
	cr_assert_eq(ret_info->state, want, "%s is %s, want %s (reason: %s)",
	             gid, dtx_tx_state_name(ret_info->state),
	             dtx_tx_state_name(want), ret_info->reason);
}

/* assert_each_applied_once checks that no (gid, branch, op) was journaled
 * twice: no effect applied twice, whatever was resent. */
static void assert_each_applied_once(th_env *t)
{
	th_jline *l;
	size_t n = th_journal_read(t, &l);

	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			cr_assert(strcmp(l[i].gid, l[j].gid) != 0 ||
			                  l[i].branch != l[j].branch ||
			                  strcmp(l[i].op, l[j].op) != 0,
			          "%s branch %u %s applied twice", l[i].gid,
			          l[i].branch, l[i].op);
	free(l);
}

/* ---- a burst of submits whose answers are recorded --------------------- */

typedef struct burst {
	pthread_mutex_t mu;
	dtx_client *client; /* its own: closed before dtxd restarts */
	char gid[BURST][32];
	int err[BURST]; /* -1 until answered */
} burst;

typedef struct burst_slot {
	burst *b;
	size_t i;
} burst_slot;

static burst_slot slots[BURST];

static void burst_done(void *arg, int err, const dtx_tx_info *info)
{
	burst_slot *s = arg;

	(void)info;
	pthread_mutex_lock(&s->b->mu);
	s->b->err[s->i] = err;
	pthread_mutex_unlock(&s->b->mu);
}

/* burst_submit submits BURST payload sagas on a client of their own;
 * answers may never come (dtxd dies first). */
static void burst_submit(th_env *t, burst *b)
{
	int err;

	pthread_mutex_init(&b->mu, NULL);
	err = dtx_client_open(t->dtxd_url, NULL, &b->client);
	cr_assert_eq(err, DTX_OK, "client: %s", dtx_strerror(err));
	for (size_t i = 0; i < BURST; i++) {
		dtx_saga *saga;

		snprintf(b->gid[i], sizeof(b->gid[i]), "after-%02zu", i);
		b->err[i] = -1;
		slots[i] = (burst_slot){b, i};
		saga = payload_saga(t, b->gid[i], BURST_PAYLOAD);
		err = dtx_client_submit_async(b->client, saga, 0, burst_done,
		                              &slots[i]);
		dtx_saga_destroy(saga);
		cr_assert_eq(err, DTX_OK, "submit: %s", dtx_strerror(err));
	}
}

/* burst_close aborts the unanswered submits (ECLOSED) and returns how many
 * were answered OK. */
static size_t burst_close(burst *b)
{
	size_t acked = 0;

	dtx_client_close(b->client);
	for (size_t i = 0; i < BURST; i++)
		acked += b->err[i] == DTX_OK;
	pthread_mutex_destroy(&b->mu);
	return acked;
}

/* burst_check: after the restart, every acknowledged submit exists and
 * commits; one that was not may be absent, or durable with its answer lost
 * (then it commits too). */
static void burst_check(dtx_client *c, const burst *b)
{
	dtx_tx_info info;

	for (size_t i = 0; i < BURST; i++) {
		int err = dtx_client_query(c, b->gid[i], TH_WAIT_FINAL, &info);

		if (b->err[i] == DTX_OK)
			cr_assert_eq(err, DTX_OK,
			             "%s was acknowledged, then lost: %s",
			             b->gid[i], dtx_strerror(err));
		if (err == DTX_ENOENT)
			continue;
		cr_assert_eq(err, DTX_OK, "query %s: %s", b->gid[i],
		             dtx_strerror(err));
		cr_assert_eq(info.state, DTX_TX_COMMITTED, "%s is %s",
		             b->gid[i], dtx_tx_state_name(info.state));
	}
}

/* ---- the fail-stop story ------------------------------------------------ */

typedef struct fault_ops {
	void (*arm)(th_env *t);    /* make the next commit fail */
	void (*disarm)(th_env *t); /* before the restart: give it back */
	const char *message;       /* what dtxd must say */
	bool no_ack;               /* every commit fails once armed */
} fault_ops;

static void data_dir(th_env *t, const char *name, char *out, size_t outlen)
{
	char file[TH_NAME_MAX + 8];

	snprintf(file, sizeof(file), "%s.data", name);
	th_path(t, file, out, outlen);
}

/* start_parts: p1 and p2 answer at once; p3.slow takes a minute, so the
 * held sagas are acknowledged and running when the fault comes. */
static void start_parts(th_env *t)
{
	char dir[PATH_MAX];

	data_dir(t, "p1", dir, sizeof(dir));
	th_participant_start(t, "p1", "--data", dir, NULL);
	data_dir(t, "p2", dir, sizeof(dir));
	th_participant_start(t, "p2", "--data", dir, NULL);
	data_dir(t, "p3", dir, sizeof(dir));
	th_participant_start(t, "p3", "--data", dir, "--delay-ms", "60000",
	                     NULL);
}

/* before_fault commits NDONE sagas and leaves NHELD acknowledged ones
 * waiting on p3.slow. */
static void before_fault(th_env *t, dtx_client *c)
{
	char gid[32];
	dtx_tx_info info;

	for (int i = 0; i < NDONE; i++) {
		snprintf(gid, sizeof(gid), "done-%d", i);
		th_run(t, gid, SPEC_COMMIT, &info);
		cr_assert_eq(info.state, DTX_TX_COMMITTED);
	}
	for (int i = 0; i < NHELD; i++) {
		snprintf(gid, sizeof(gid), "held-%d", i);
		submit_acked(t, c, gid, SPEC_HELD);
		th_wait_step_state(t, c, gid, 1, DTX_STEP_ACTING, 5000);
	}
}

/* after_restart: p3 comes back fast (its slow calls died with it, before
 * they applied anything), dtxd restarts without the fault, and everything
 * acknowledged ends committed, each effect once. */
static void after_restart(th_env *t, const burst *b)
{
	char dir[PATH_MAX], gid[32];
	dtx_client *c;
	dtx_tx_info info;

	data_dir(t, "p3", dir, sizeof(dir));
	th_participant_restart(t, "p3", "--data", dir, NULL);
	use_plain_dtxd();
	th_dtxd_restart(t);
	c = th_client(t);
	for (int i = 0; i < NDONE; i++) {
		snprintf(gid, sizeof(gid), "done-%d", i);
		await_final(c, gid, DTX_TX_COMMITTED, &info);
	}
	for (int i = 0; i < NHELD; i++) {
		snprintf(gid, sizeof(gid), "held-%d", i);
		await_final(c, gid, DTX_TX_COMMITTED, &info);
	}
	burst_check(c, b);
	assert_each_applied_once(t);
}

/* fail_stop_story runs dtxd (already started by the caller) into ops's
 * fault and back. */
static void fail_stop_story(th_env *t, const fault_ops *ops)
{
	burst b;
	dtx_client *c;
	size_t acked;

	start_parts(t);
	c = th_client(t);
	before_fault(t, c);
	ops->arm(t);
	burst_submit(t, &b);
	await_fail_stop(t, ops->message);
	acked = burst_close(&b);
	if (ops->no_ack)
		cr_assert_eq(acked, 0,
		             "%zu submits were answered OK although no commit "
		             "could reach the disk",
		             acked);
	ops->disarm(t);
	after_restart(t, &b);
}

/* ---- EIO with libfiu ---------------------------------------------------- */

static const char *fiu_point;

static bool have_fiu(void)
{
	return access(FIU_RUN, X_OK) == 0 && access(FIU_CTRL, X_OK) == 0 &&
	       access(FIU_POSIX, R_OK) == 0;
}

/* fiu_arm enables fiu_point in the running dtxd, failing with EIO. */
static void fiu_arm(th_env *t)
{
	char prefix[PATH_MAX], cmd[128], pid[16];
	const char *argv[] = {FIU_CTRL, "-f", prefix, "-c", cmd, pid, NULL};
	th_proc *p;

	th_path(t, "fiu", prefix, sizeof(prefix));
	snprintf(cmd, sizeof(cmd), "enable name=%s,failnum=1,failinfo=%d",
	         fiu_point, EIO);
	snprintf(pid, sizeof(pid), "%d", (int)t->dtxd->pid);
	p = th_spawn(t, "fiu-ctrl", argv);
	cr_assert(th_proc_wait(p, 5000), "fiu-ctrl hangs");
	skip_unless(t, th_proc_exit_code(p) == 0,
	            "fiu-ctrl cannot reach dtxd: libfiu's preload did not "
	            "load into it (see fiu-ctrl.out)");
}

static void fiu_disarm(th_env *t)
{
	(void)t; /* the restarted dtxd runs without libfiu */
}

static void eio_story(const char *point)
{
	static const fault_ops ops = {fiu_arm, fiu_disarm,
	                              "I/O error on durable storage", true};
	char prelude[PATH_MAX + 64];
	th_env *t;

	skip_unless(NULL, have_fiu(),
	            "libfiu is not installed (fiu-utils, libfiu-dev; "
	            "scripts/setup.sh installs them)");
	t = th_begin();
	fiu_point = point;
	snprintf(prelude, sizeof(prelude), "%s -x -f %s/fiu", FIU_RUN, t->dir);
	use_wrapper(t, prelude);
	th_dtxd_start(t, "--call-timeout-ms", "60000", NULL);
	fail_stop_story(t, &ops);
	th_end(t);
}

/* LMDB's commit syncs the data file before it writes the meta page. */
Test(durability, eio_on_fdatasync_stops_dtxd_and_a_restart_recovers)
{
	eio_story("posix/io/sync/fdatasync");
}

/* LMDB writes single pages and the meta page with pwrite: a failed meta
 * write leaves the environment in MDB_PANIC. */
Test(durability, eio_on_pwrite_stops_dtxd_and_a_restart_recovers)
{
	eio_story("posix/io/rw/pwrite");
}

/* ---- ENOSPC on a full tmpfs --------------------------------------------- */

/* private_tmpfs mounts a small tmpfs on dir in a mount namespace of this
 * test process (and the children it starts): it vanishes with the test.
 * Returns false if this machine does not allow it. */
static bool private_tmpfs(const char *dir, char *why, size_t whylen)
{
	if (unshare(CLONE_NEWNS) != 0) {
		snprintf(why, whylen,
		         "cannot make a mount namespace (unshare: %s): the "
		         "ENOSPC test needs root or CAP_SYS_ADMIN",
		         strerror(errno));
		return false;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mkdir(dir, 0755) != 0 ||
	    mount("tmpfs", dir, "tmpfs", 0, "size=16m,mode=0755") != 0) {
		snprintf(why, whylen,
		         "cannot mount a tmpfs on the log directory: %s",
		         strerror(errno));
		return false;
	}
	return true;
}

static void filler_path(th_env *t, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/filler", t->log_dir);

	cr_assert(n > 0 && (size_t)n < outlen, "path too long");
}

/* fill_write writes chunks of size n to fd until the file system is full. */
static void fill_write(int fd, size_t n)
{
	static char chunk[64 * 1024];
	ssize_t w;

	while ((w = write(fd, chunk, n)) > 0)
		;
	cr_assert(w < 0 && errno == ENOSPC, "filling: %s", strerror(errno));
}

/* nospc_arm fills the log's file system to the last block. */
static void nospc_arm(th_env *t)
{
	char path[PATH_MAX];
	struct statvfs vfs;
	int fd;

	filler_path(t, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	fill_write(fd, 64 * 1024);
	fill_write(fd, 4096);
	close(fd);
	cr_assert_eq(statvfs(t->log_dir, &vfs), 0);
	cr_assert_eq(vfs.f_bavail, 0, "%s is not full", t->log_dir);
}

static void nospc_disarm(th_env *t)
{
	char path[PATH_MAX];

	filler_path(t, path, sizeof(path));
	cr_assert_eq(unlink(path), 0, "unlink %s: %s", path, strerror(errno));
}

Test(durability, enospc_stops_dtxd_and_a_restart_recovers)
{
	static const fault_ops ops = {nospc_arm, nospc_disarm,
	                              "no space left on durable storage",
	                              false};
	char why[PATH_MAX + 256];
	th_env *t = th_begin();

	skip_unless(t, private_tmpfs(t->log_dir, why, sizeof(why)), why);
	th_dtxd_start(t, "--call-timeout-ms", "60000", NULL);
	fail_stop_story(t, &ops);
	th_end(t);
}

/* ---- LMDB map full ------------------------------------------------------ */

#define MAP_SAGAS   96
#define MAP_PAYLOAD (100 * 1024)

/* push_payload_sagas runs n sagas of MAP_PAYLOAD bytes, 8 at a time, and
 * returns how many committed (the others: the submit failed). */
static int push_payload_sagas(th_env *t, dtx_client *c, int n)
{
	int committed = 0;

	for (int i = 0; i < n; i++) {
		char gid[32];
		dtx_saga *saga;
		dtx_tx_info info;
		int err;

		snprintf(gid, sizeof(gid), "map-%03d", i);
		saga = payload_saga(t, gid, MAP_PAYLOAD);
		err = dtx_client_submit(c, saga, TH_WAIT_FINAL, &info);
		dtx_saga_destroy(saga);
		if (err != DTX_OK)
			break;
		cr_assert_eq(info.state, DTX_TX_COMMITTED, "%s is %s", gid,
		             dtx_tx_state_name(info.state));
		committed++;
	}
	return committed;
}

static void start_pq(th_env *t)
{
	th_participant_start(t, "p1", NULL);
	th_participant_start(t, "p2", NULL);
}

/* ~10 MiB of live records in a 1 MiB map: it must grow 1 -> 16 MiB. */
Test(durability, a_full_map_grows_and_work_goes_on)
{
	th_env *t = th_begin();
	char data[PATH_MAX + 16];
	th_proc *first;
	struct stat st;
	dtx_client *c;

	first = th_dtxd_start(t, "--map-size-mb", "1", NULL);
	start_pq(t);
	c = th_client(t);
	cr_assert_eq(push_payload_sagas(t, c, MAP_SAGAS), MAP_SAGAS,
	             "a saga failed: dtxd %s",
	             th_proc_is_alive(first) ? "runs" : "died");
	cr_assert(th_proc_is_alive(first), "dtxd stopped");
	cr_assert_eq(t->dtxd, first, "dtxd was restarted");
	cr_assert_geq(count_lines(t, "dtxd", "log map full: grown"), 3,
	              "fewer than 3 growth lines in dtxd's output");
	snprintf(data, sizeof(data), "%s/data.mdb", t->log_dir);
	cr_assert_eq(stat(data, &st), 0);
	cr_assert_gt(st.st_size, 8 << 20, "data.mdb is only %lld bytes",
	             (long long)st.st_size);
	th_end(t);
}

/* dtxd_has_flag runs dtxd --help and looks for flag. */
static bool dtxd_has_flag(th_env *t, const char *flag)
{
	const char *argv[] = {th_exe("DTX_DTXD"), "--help", NULL};
	th_proc *p = th_spawn(t, "dtxd-help", argv);

	cr_assert(th_proc_wait(p, 5000), "dtxd --help hangs");
	return th_log_contains(t, "dtxd-help", flag);
}

/* Near the largest map allowed, dtxd refuses new sagas ("log full",
 * DTX_ENOSPC) and stays up, every saga it took committed: it no longer
 * runs into the maximum and exits (issue 14; retention_test has the
 * running ones finish). */
Test(durability, a_map_near_its_maximum_refuses_new_sagas_and_stays_up)
{
	th_env *t = th_begin();
	dtx_client *c;
	dtx_saga *saga;
	dtx_tx_info info;
	int done;

	skip_unless(t, dtxd_has_flag(t, "--map-size-max-mb"),
	            "dtxd has no --map-size-max-mb flag: the map's maximum "
	            "cannot be set from the command line");
	th_dtxd_start(t, "--map-size-mb", "1", "--map-size-max-mb", "4", NULL);
	start_pq(t);
	c = th_client(t);
	done = push_payload_sagas(t, c, MAP_SAGAS);
	cr_assert_lt(done, MAP_SAGAS, "all %d sagas fit a 4 MiB map",
	             MAP_SAGAS);
	saga = payload_saga(t, "map-late", MAP_PAYLOAD);
	cr_assert_eq(dtx_client_submit(c, saga, TH_WAIT_FINAL, &info),
	             DTX_ENOSPC);
	dtx_saga_destroy(saga);
	cr_assert(th_log_contains(t, "dtxd", "log full"));
	cr_assert(th_proc_is_alive(t->dtxd), "dtxd stopped at a full log");
	th_end(t);
}

/* ---- wall-clock jumps with libfaketime ---------------------------------- */

static void set_fake_offset(th_env *t, const char *offset)
{
	char path[PATH_MAX], text[32];

	th_path(t, "faketime", path, sizeof(path));
	snprintf(text, sizeof(text), "%s\n", offset);
	write_file(path, text, 0644);
}

/* start_faked_dtxd starts dtxd with its wall clock read from DIR/faketime
 * at every call and CLOCK_MONOTONIC left alone. */
static void start_faked_dtxd(th_env *t)
{
	char prelude[3 * PATH_MAX];

	set_fake_offset(t, "+0");
	snprintf(prelude, sizeof(prelude),
	         "env LD_PRELOAD=%s FAKETIME_TIMESTAMP_FILE=%s/faketime "
	         "FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1",
	         FAKETIME_SO, t->dir);
	use_wrapper(t, prelude);
	/* Backoff slow enough that a jump lands between two retries. */
	th_dtxd_start(t, "--retry-base-ms", "150", "--retry-max-ms", "400",
	              "--action-max-attempts", "0", NULL);
	use_plain_dtxd();
}

static void submit_deadline(th_env *t, dtx_client *c, const char *gid,
                            const char *spec, unsigned deadline_ms)
{
	dtx_saga *saga = th_saga(t, gid, spec);
	dtx_tx_info info;
	int err;

	cr_assert_eq(dtx_saga_set_deadline(saga, deadline_ms), DTX_OK);
	err = dtx_client_submit(c, saga, 0, &info);
	dtx_saga_destroy(saga);
	cr_assert_eq(err, DTX_OK, "submit %s: %s", gid, dtx_strerror(err));
}

/* assert_clock_faked proves the jump reached dtxd: a saga made now carries
 * a creation time about offset_ms from the real one. */
static void assert_clock_faked(th_env *t, const char *gid, int64_t offset_ms)
{
	dtx_tx_info info;
	int64_t skew;

	th_run(t, gid, "p1.do/p1.undo", &info);
	skew = info.created_unix_ms - wall_ms();
	skip_unless(t, skew > offset_ms - HOUR_MS && skew < offset_ms + HOUR_MS,
	            "libfaketime did not change dtxd's wall clock");
}

/* Forward by five hours while a saga with a 10 s deadline waits on a 3 s
 * action, and while a flaky action backs off: the deadline does not fire
 * (the saga commits), the retries go on. Then back by ten hours while a
 * saga with a 0.8 s deadline waits on the same slow action: the deadline
 * still fires (the saga compensates), and the backoff does not stall for
 * hours. */
Test(durability, a_wall_clock_jump_neither_fires_nor_cancels_timers)
{
	th_env *t = th_begin();
	dtx_client *c;
	dtx_tx_info info;

	skip_unless(t, access(FAKETIME_SO, R_OK) == 0,
	            "libfaketime is not installed (faketime, libfaketime; "
	            "scripts/setup.sh installs them)");
	start_faked_dtxd(t);
	th_participant_start(t, "p1", NULL);
	th_participant_start(t, "p2", "--delay-ms", "3000", NULL);
	th_participant_start(t, "p3", "--flaky", "8", NULL);
	c = th_client(t);

	submit_deadline(t, c, "fwd-deadline", "p1.do/p1.undo p2.slow/p2.undo",
	                10000);
	submit_deadline(t, c, "fwd-retry", "p3.flaky/p3.undo", 0);
	th_wait_step_state(t, c, "fwd-deadline", 1, DTX_STEP_ACTING, 5000);
	set_fake_offset(t, "+5h");
	await_final(c, "fwd-deadline", DTX_TX_COMMITTED, &info);
	await_final(c, "fwd-retry", DTX_TX_COMMITTED, &info);
	cr_assert_eq(info.steps[0].attempts, 9);
	assert_clock_faked(t, "fwd-probe", 5 * HOUR_MS);

	submit_deadline(t, c, "back-deadline", "p2.slow/p2.undo p1.do/p1.undo",
	                800);
	submit_deadline(t, c, "back-retry", "p3.flaky/p3.undo", 0);
	th_wait_step_state(t, c, "back-deadline", 0, DTX_STEP_ACTING, 5000);
	set_fake_offset(t, "-5h");
	await_final(c, "back-deadline", DTX_TX_COMPENSATED, &info);
	cr_assert(strstr(info.reason, "deadline") != NULL, "reason: %s",
	          info.reason);
	await_final(c, "back-retry", DTX_TX_COMMITTED, &info);
	cr_assert_eq(info.steps[0].attempts, 9);
	assert_clock_faked(t, "back-probe", -5 * HOUR_MS);
	th_end(t);
}

/* The stuck flag's age (--stuck-after-ms) is a timeout too: five hours of
 * wall clock jumped forward do not make a transaction that retried once
 * "18000 s old" and flag it for an operator. */
Test(durability, a_wall_clock_jump_does_not_age_a_transaction)
{
	th_env *t = th_begin();
	dtx_client *c;
	dtx_tx_info info;

	skip_unless(t, access(FAKETIME_SO, R_OK) == 0,
	            "libfaketime is not installed (faketime, libfaketime; "
	            "scripts/setup.sh installs them)");
	start_faked_dtxd(t);
	th_participant_start(t, "p1", NULL);
	th_participant_start(t, "p3", "--flaky", "4", NULL);
	c = th_client(t);
	submit_deadline(t, c, "aging", "p3.flaky/p3.undo", 0);
	th_wait_step_state(t, c, "aging", 0, DTX_STEP_ACTING, 5000);
	set_fake_offset(t, "+5h");
	await_final(c, "aging", DTX_TX_COMMITTED, &info);
	cr_assert(!th_log_contains(t, "dtxd", "aging needs an operator"),
	          "the jump flagged 'aging' for an operator");
	assert_clock_faked(t, "aging-probe", 5 * HOUR_MS);
	th_end(t);
}
