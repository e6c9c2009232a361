/*
 * recovery_bench.c - how long dtxd takes to come back with a big backlog:
 * fills a fresh log directory with N non-final sagas through the
 * coordinator's own log module (coordinator/log.c, durable commits in
 * batches), then starts the real dtxd on it and measures the time from
 * exec to its ready file, the recovery time dtxd reports on its
 * "recovered ..." line, and dtxd's resident memory once ready.
 *
 * Each saga has three steps on one participant URL: step 0 done, step 1
 * acting (its call must be sent again), step 2 pending - what a crash in
 * the middle of a busy run leaves. dtxd runs twice on copies of the same
 * log: with that participant down (calls fail and back off) and with a
 * dtx-sample-participant up (calls succeed, sagas drain).
 *
 * Not a test: it asserts nothing beyond "dtxd became ready" and prints one
 * figure per line. tests/bench/recovery_bench.sh builds and runs it.
 *
 * Usage: recovery_bench --dtxd PATH [--participant PATH] [--count N]
 *                       [--batch N] [--keep]
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "tx.h"

#define READY_WAIT_MS 600000 /* 10 minutes: a generous ceiling */
#define STOP_WAIT_MS  30000

typedef struct bench_opts {
	const char *dtxd;
	const char *participant; /* NULL: measure with participants down only */
	unsigned count;
	unsigned batch;
	bool keep;
} bench_opts;

typedef struct run_result {
	double exec_to_ready_ms;
	double reported_ms; /* from dtxd's "recovered ... in X ms" line */
	unsigned long long recovered;
	long rss_kib, hwm_kib;
} run_result;

/* ---- small helpers ----------------------------------------------------- */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static __attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt,
                                                                ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("recovery_bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static int rm_cb(const char *path, const struct stat *sb, int flag,
                 struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* pick_port returns a loopback TCP port derived from the pid, so two runs
 * on one machine do not collide (salt tells dtxd's from the
 * participant's). */
static int pick_port(int salt)
{
	return 20000 + (int)(getpid() % 20000) + salt;
}

/* ---- filling the log --------------------------------------------------- */

/* make_tx builds the i-th non-final saga (transferred to the caller). */
static dc_tx *make_tx(unsigned i, const char *url, int64_t now)
{
	char gid[32];
	dc_tx *tx;

	snprintf(gid, sizeof(gid), "rb-%08u", i);
	if (dc_tx_create(gid, DC_MODE_SAGA, 3, &tx) != DTX_OK)
		die("out of memory");
	tx->state = DC_TX_RUNNING;
	tx->created_unix_ms = tx->updated_unix_ms = now;
	for (int s = 0; s < 3; s++) {
		dc_step *st = &tx->steps[s];
		if (dc_tx_set_str(&st->url, url) != DTX_OK ||
		    dc_tx_set_str(&st->action, "p1.do") != DTX_OK ||
		    dc_tx_set_str(&st->compensate, "p1.undo") != DTX_OK)
			die("out of memory");
	}
	tx->steps[0].state = DC_STEP_DONE;
	tx->steps[0].attempts = 1;
	tx->steps[1].state = DC_STEP_ACTING;
	tx->steps[1].attempts = 1;
	return tx;
}

/* commit_batch commits txs [first, first + n) in one write transaction. */
static void commit_batch(dc_log *log, dc_log_batch *b, unsigned first,
                         unsigned n, const char *url)
{
	int64_t now = (int64_t)time(NULL) * 1000;
	int rc;

	dc_log_batch_reset(b);
	for (unsigned i = first; i < first + n; i++) {
		dc_tx *tx = make_tx(i, url, now);
		rc = dc_log_batch_put_tx(b, tx, UINT64_MAX);
		dc_tx_destroy(tx);
		if (rc != DTX_OK)
			die("batch: %s", dtx_strerror(rc));
	}
	rc = dc_log_commit(log, b);
	if (rc != DTX_OK)
		die("commit: %s", dc_log_last_error(log));
}

/* fill_log writes opts->count non-final sagas into dir, durably (default
 * sync flags), and returns the time it took in ms. */
static double fill_log(const bench_opts *o, const char *dir, const char *url)
{
	dc_log_opts lo = {.dir = dir, .map_size = (size_t)1 << 30};
	char err[512] = "";
	dc_log_batch *b;
	dc_log *log;
	double t0 = now_ms();

	if (dc_log_open(&lo, &log, err, sizeof(err)) != DTX_OK)
		die("open %s: %s", dir, err);
	if (dc_log_batch_create(&b) != DTX_OK)
		die("out of memory");
	for (unsigned i = 0; i < o->count; i += o->batch) {
		unsigned n = o->count - i < o->batch ? o->count - i : o->batch;
		commit_batch(log, b, i, n, url);
	}
	dc_log_batch_destroy(b);
	dc_log_close(log);
	return now_ms() - t0;
}

/* copy_file copies from to to (the log's data.mdb for a second run). */
static void copy_file(const char *from, const char *to)
{
	char buf[1 << 16];
	ssize_t n;
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (in < 0 || out < 0)
		die("copy %s to %s: %s", from, to, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			die("write %s: %s", to, strerror(errno));
	if (n < 0 || fsync(out) != 0)
		die("copy %s: %s", from, strerror(errno));
	close(in);
	close(out);
}

/* ---- processes --------------------------------------------------------- */

/* spawn starts argv with stdout and stderr to out_path. */
static pid_t spawn(const char *const argv[], const char *out_path)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static bool file_has_line(const char *path)
{
	char buf[64];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n > 0 && memchr(buf, '\n', (size_t)n) != NULL;
}

/* wait_ready polls path every millisecond; false if pid exited first. */
static bool wait_ready(pid_t pid, const char *path, int timeout_ms)
{
	double deadline = now_ms() + timeout_ms;
	int status;

	while (!file_has_line(path)) {
		if (now_ms() > deadline || waitpid(pid, &status, WNOHANG) != 0)
			return false;
		sleep_ms(1);
	}
	return true;
}

/* stop sends SIGTERM and waits (SIGKILL after STOP_WAIT_MS). */
static void stop(pid_t pid)
{
	double deadline = now_ms() + STOP_WAIT_MS;
	int status;

	kill(pid, SIGTERM);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return;
		}
		sleep_ms(5);
	}
}

/* read_rss reads VmRSS and VmHWM (KiB) of pid. */
static void read_rss(pid_t pid, run_result *r)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		sscanf(line, "VmRSS: %ld", &r->rss_kib);
		sscanf(line, "VmHWM: %ld", &r->hwm_kib);
	}
	fclose(f);
}

/* read_recovered parses dtxd's "recovered N non-final transactions (...)
 * from DIR in X ms" line from its output file. */
static void read_recovered(const char *out_path, run_result *r)
{
	char line[1024];
	FILE *f = fopen(out_path, "r");

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *p = strstr(line, "recovered "), *q;
		if (p == NULL || (q = strstr(p, " in ")) == NULL)
			continue;
		while (strstr(q + 1, " in ") != NULL)
			q = strstr(q + 1, " in ");
		sscanf(p, "recovered %llu", &r->recovered);
		sscanf(q, " in %lf", &r->reported_ms);
	}
	fclose(f);
}

/* run_dtxd starts dtxd on log_dir, times exec to ready, reads its figures
 * and stops it. */
static run_result run_dtxd(const bench_opts *o, const char *dir,
                           const char *log_dir, const char *tag)
{
	char ready[512], out[512], listen[64];
	const char *argv[] = {
	        o->dtxd,        "--log-dir", log_dir,        "--listen", listen,
	        "--ready-file", ready,       "--max-active", "10000000", NULL};
	run_result r = {0};
	pid_t pid;
	double t0;

	snprintf(ready, sizeof(ready), "%s/dtxd-%s.ready", dir, tag);
	snprintf(out, sizeof(out), "%s/dtxd-%s.out", dir, tag);
	snprintf(listen, sizeof(listen), "tcp://127.0.0.1:%d", pick_port(1));
	t0 = now_ms();
	pid = spawn(argv, out);
	if (!wait_ready(pid, ready, READY_WAIT_MS))
		die("dtxd did not become ready (see %s)", out);
	r.exec_to_ready_ms = now_ms() - t0;
	read_rss(pid, &r);
	stop(pid);
	read_recovered(out, &r);
	return r;
}

/* start_participant starts dtx-sample-participant p1 on url. */
static pid_t start_participant(const bench_opts *o, const char *dir,
                               const char *url)
{
	char ready[512], out[512];
	const char *argv[] = {o->participant, "--url",        url,   "--name",
	                      "p1",           "--ready-file", ready, NULL};
	pid_t pid;

	snprintf(ready, sizeof(ready), "%s/p1.ready", dir);
	snprintf(out, sizeof(out), "%s/p1.out", dir);
	pid = spawn(argv, out);
	if (!wait_ready(pid, ready, 10000))
		die("the participant did not start (see %s)", out);
	return pid;
}

/* ---- main -------------------------------------------------------------- */

static void print_run(const char *tag, const run_result *r)
{
	printf("dtxd (%s): recovered %llu, reported %.1f ms, exec to ready "
	       "%.1f ms, RSS at ready %.1f MiB (peak %.1f MiB)\n",
	       tag, r->recovered, r->reported_ms, r->exec_to_ready_ms,
	       (double)r->rss_kib / 1024, (double)r->hwm_kib / 1024);
}

static void parse(int argc, char **argv, bench_opts *o)
{
	static const struct option opts[] = {
	        {"dtxd", required_argument, NULL, 'd'},
	        {"participant", required_argument, NULL, 'p'},
	        {"count", required_argument, NULL, 'n'},
	        {"batch", required_argument, NULL, 'b'},
	        {"keep", no_argument, NULL, 'k'},
	        {NULL, 0, NULL, 0}};
	int c;

	*o = (bench_opts){.count = 100000, .batch = 1000};
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			o->dtxd = optarg;
		else if (c == 'p')
			o->participant = optarg;
		else if (c == 'n')
			o->count = (unsigned)strtoul(optarg, NULL, 10);
		else if (c == 'b')
			o->batch = (unsigned)strtoul(optarg, NULL, 10);
		else if (c == 'k')
			o->keep = true;
		else
			die("usage: recovery_bench --dtxd PATH [--participant "
			    "PATH] [--count N] [--batch N] [--keep]");
	}
	if (o->dtxd == NULL || o->count == 0 || o->batch == 0)
		die("--dtxd is required; --count and --batch must be > 0");
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/dtx-recbench-XXXXXX";
	char log_a[64], log_b[64], from[96], to[96], url[64];
	bench_opts o;
	run_result down, up;
	double fill;

	parse(argc, argv, &o);
	if (mkdtemp(dir) == NULL)
		die("mkdtemp: %s", strerror(errno));
	snprintf(log_a, sizeof(log_a), "%s/log-down", dir);
	snprintf(log_b, sizeof(log_b), "%s/log-up", dir);
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", pick_port(2));

	fill = fill_log(&o, log_a, url);
	printf("log fill: %u non-final sagas (3 steps) in %.1f ms "
	       "(%.0f tx/s, batches of %u)\n",
	       o.count, fill, o.count / (fill / 1e3), o.batch);
	if (mkdir(log_b, 0755) != 0)
		die("mkdir %s: %s", log_b, strerror(errno));
	snprintf(from, sizeof(from), "%s/data.mdb", log_a);
	snprintf(to, sizeof(to), "%s/data.mdb", log_b);
	copy_file(from, to);

	down = run_dtxd(&o, dir, log_a, "down");
	print_run("participant down", &down);
	if (o.participant != NULL) {
		pid_t p = start_participant(&o, dir, url);
		up = run_dtxd(&o, dir, log_b, "up");
		stop(p);
		print_run("participant up", &up);
	}
	if (o.keep)
		printf("kept %s\n", dir);
	else
		nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
