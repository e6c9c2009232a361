/*
 * stall_driver.c - evidence for issue 14 items 5 and 6: drives one
 * long-lived dtx_client through partitions of dtxd's client port (dtxd
 * killed and restarted meanwhile), and when the client stalls, or its
 * close hangs, takes the process's thread stacks (gdb), its TCP sockets
 * (ss) and its descriptors while it is in that state.
 *
 * Not a test (no meson target): built by hand against an old or a new
 * libdtx, see doc/evidence/nng-stall-evidence.md. It runs in a network
 * namespace of its own (unshare, as root); its nftables table lives in
 * that namespace and goes with it, so nothing is left behind whatever
 * happens. Every wait is bounded; dtxd dies with the driver
 * (PR_SET_PDEATHSIG).
 *
 * usage: stall_driver STORY CYCLES OUTDIR [close-partitioned]
 *   STORY   kill (kill dtxd, then partition, restart dtxd),
 *           part (partition, then kill and restart dtxd),
 *           close-load (CYCLES clients, each closed while answers stream
 *           in) or kill-load (dtxd SIGKILLed while answers stream in,
 *           CYCLES times, one client)
 *   OUTDIR  where the captures go (CAPTURE script, see below)
 *   close-partitioned: close the client while its port is partitioned
 * Environment: DTX_DTXD (the dtxd binary), STALL_CAPTURE (a script run as
 * "CAPTURE PID LABEL OUTDIR"), STALL_PARTITION_MS (default 20000),
 * STALL_OBSERVE_MS (how long after a heal to wait for an answer, default
 * 150000).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <dtx/dtx.h>

#define NFT          "/usr/sbin/nft"
#define PORT         7460
#define CALL_MS      1000
#define STALL_MS     8000  /* no answer this long after a heal: stalled */
#define LATE_MS      60000 /* a second capture if still stalled then */
#define CLOSE_MAX_MS 20000 /* a close longer than this is a hang */

static char url[64], dir[64], outdir[PATH_MAX];
static const char *capture_exe;
static pid_t dtxd;
static long long t0;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define say(...)                                                               \
	do {                                                                   \
		printf("[%7.3f] ", (now_ms() - t0) / 1000.0);                  \
		printf(__VA_ARGS__);                                           \
		printf("\n");                                                  \
	} while (0)

static void die(const char *what)
{
	printf("Bail out! %s: %s\n", what, strerror(errno));
	exit(2);
}

static void nft(const char *args)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), NFT " %s", args);
	if (system(cmd) != 0) {
		printf("Bail out! nft %s\n", args);
		exit(2);
	}
}

static void private_net(void)
{
	struct ifreq ifr;
	int fd;

	if (unshare(CLONE_NEWNET) != 0)
		die("unshare(CLONE_NEWNET)");
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) != 0)
		die("lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0)
		die("lo up");
	close(fd);
	nft("add table inet stalldrv");
	nft("add chain inet stalldrv out '{ type filter hook output "
	    "priority 0; policy accept; }'");
}

static void partition(void)
{
	char a[128], b[128];

	snprintf(a, sizeof(a), "add rule inet stalldrv out tcp dport %d drop",
	         PORT);
	snprintf(b, sizeof(b), "add rule inet stalldrv out tcp sport %d drop",
	         PORT);
	nft(a);
	nft(b);
	say("partitioned port %d", PORT);
}

static void heal(void)
{
	nft("flush chain inet stalldrv out");
	say("healed");
}

static bool file_ready(const char *path)
{
	char buf[32];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n > 0 && memchr(buf, '\n', (size_t)n) != NULL;
}

static void dtxd_start(void)
{
	char log_dir[PATH_MAX], ready[PATH_MAX], out[PATH_MAX];
	const char *exe = getenv("DTX_DTXD");
	long long end = now_ms() + 10000;

	snprintf(log_dir, sizeof(log_dir), "%s/log", dir);
	snprintf(ready, sizeof(ready), "%s/dtxd.ready", dir);
	snprintf(out, sizeof(out), "%s/dtxd.out", dir);
	unlink(ready);
	if ((dtxd = fork()) == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(exe, exe, "--log-dir", log_dir, "--listen", url,
		      "--admin", "none", "--ready-file", ready, "--log-level",
		      "warn", (char *)NULL);
		_exit(127);
	}
	while (!file_ready(ready) && now_ms() < end)
		usleep(20 * 1000);
	if (!file_ready(ready)) {
		printf("Bail out! dtxd did not start (%s)\n", out);
		exit(2);
	}
	say("dtxd started, pid %d", (int)dtxd);
}

static void dtxd_kill(void)
{
	kill(dtxd, SIGKILL);
	waitpid(dtxd, NULL, 0);
	say("dtxd killed");
}

/* capture runs the capture script on this process, in the background
 * (the client keeps being asked meanwhile); returns its pid. */
static pid_t captures[8];
static int ncaptures;

static pid_t capture(const char *label)
{
	char pid[16];
	pid_t p;

	say("capture %s", label);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if ((p = fork()) == 0) {
		execl(capture_exe, capture_exe, pid, label, outdir,
		      (char *)NULL);
		_exit(127);
	}
	if (p > 0 && ncaptures < 8)
		captures[ncaptures++] = p;
	return p;
}

/* reap_captures reaps the captures that ended (all of them if wait). */
static void reap_captures(bool wait)
{
	for (int i = 0; i < ncaptures; i++) {
		if (waitpid(captures[i], NULL, wait ? 0 : WNOHANG) == 0)
			continue;
		captures[i--] = captures[--ncaptures];
	}
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the DIR's own */
}

static int ask(dtx_client *c)
{
	dtx_tx_info info;

	return dtx_client_query(c, "stall-probe", 0, &info);
}

static bool is_answer(int err)
{
	return err != DTX_ETIMEDOUT && err != DTX_EUNREACHABLE &&
	       err != DTX_ECLOSED;
}

static void keep_asking(dtx_client *c, int ms)
{
	long long end = now_ms() + ms;

	while (now_ms() < end) {
		(void)ask(c);
		usleep(200 * 1000);
		reap_captures(false);
	}
}

/* after_heal asks c until answered or observe_ms; captures at STALL_MS
 * and LATE_MS when still unanswered. Returns ms to the answer or -1. */
static long long after_heal(dtx_client *c, int cycle, long long observe_ms)
{
	long long start = now_ms(), t;
	bool took8 = false, took60 = false;
	char label[64];
	int err;

	heal();
	for (;;) {
		err = ask(c);
		t = now_ms() - start;
		if (is_answer(err)) {
			say("cycle %d: answered %lld ms after the heal", cycle,
			    t);
			return t;
		}
		if (t >= observe_ms) {
			say("cycle %d: no answer %lld ms after the heal (%s)",
			    cycle, t, dtx_strerror(err));
			return -1;
		}
		if (t >= STALL_MS && !took8) {
			snprintf(label, sizeof(label), "stall-c%d-8s", cycle);
			say("cycle %d: stalled (last: %s)", cycle,
			    dtx_strerror(err));
			capture(label);
			took8 = true;
		}
		if (t >= LATE_MS && !took60) {
			snprintf(label, sizeof(label), "stall-c%d-60s", cycle);
			capture(label);
			took60 = true;
		}
		reap_captures(false);
		usleep(100 * 1000);
	}
}

/* ---- load: answers streaming in while a pipe closes ------------------- */

static _Atomic int load_on;
static _Atomic long load_answers;

/* load_done re-asks at once while load_on: LOAD_CHAINS requests stay in
 * flight, so answers are being read whenever a pipe closes. */
static void load_done(void *arg, int err, const dtx_tx_info *info)
{
	(void)info;
	if (is_answer(err))
		load_answers++;
	if (load_on)
		(void)dtx_client_query_async(arg, "stall-probe", 0, load_done,
		                             arg);
}

#define LOAD_CHAINS 64

static void load_start(dtx_client *c)
{
	load_on = 1;
	for (int i = 0; i < LOAD_CHAINS; i++)
		(void)dtx_client_query_async(c, "stall-probe", 0, load_done, c);
}

static void *closer(void *arg)
{
	dtx_client_close(arg);
	return NULL;
}

/* close_bounded closes c on a thread and waits CLOSE_MAX_MS for it; a
 * close that takes longer is captured and the driver exits 3. */
static void close_bounded(dtx_client *c)
{
	pthread_t th;
	long long start = now_ms();
	struct timespec ts;

	if (pthread_create(&th, NULL, closer, c) != 0)
		die("pthread_create");
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += CLOSE_MAX_MS / 1000;
	if (pthread_timedjoin_np(th, NULL, &ts) == 0) {
		say("dtx_client_close took %lld ms", now_ms() - start);
		return;
	}
	say("dtx_client_close HANGS (%d ms)", CLOSE_MAX_MS);
	capture("close-hang");
	reap_captures(true);
	kill(dtxd, SIGKILL);
	fflush(stdout);
	_exit(3);
}

static dtx_client *client_open(void)
{
	dtx_client_opts opts;
	dtx_client *c;

	dtx_client_opts_init(&opts);
	opts.timeout_ms = CALL_MS;
	if (dtx_client_open(url, &opts, &c) != DTX_OK)
		die("dtx_client_open");
	for (int i = 0; i < 50 && !is_answer(ask(c)); i++)
		usleep(100 * 1000);
	return c;
}

/* close_load: TRIES clients, each closed while LOAD_CHAINS requests are
 * being answered (the stop of a busy process). */
static int close_load(int tries)
{
	for (int i = 0; i < tries; i++) {
		dtx_client *c = client_open();

		load_start(c);
		usleep((200 + rand() % 300) * 1000);
		say("try %d: %ld answers so far; closing", i, load_answers);
		close_bounded(c);
	}
	return 0;
}

/* kill_load: one client; TRIES times dtxd is killed while it answers
 * LOAD_CHAINS requests, restarted, and the client must be answered. */
static int kill_load(int tries, long long observe_ms)
{
	dtx_client *c = client_open();
	int stalls = 0, base = count_fds();
	bool leaked = false;

	say("pid %d, first answer; fds %d", (int)getpid(), base);
	for (int i = 0; i < tries; i++) {
		if (!leaked && count_fds() > base) {
			capture("fds-grew");
			leaked = true;
		}
		load_start(c);
		usleep((200 + rand() % 300) * 1000);
		dtxd_kill();
		load_on = 0;
		dtxd_start();
		if (after_heal(c, i, observe_ms) < 0)
			stalls++;
		keep_asking(c,
		            2000); /* the load drains, closed things settle */
		say("try %d: %ld answers so far; fds %d", i, load_answers,
		    count_fds());
	}
	if (count_fds() > base)
		capture("before-close");
	reap_captures(true);
	close_bounded(c);
	return stalls;
}

int main(int argc, char **argv)
{
	const char *e = getenv("STALL_PARTITION_MS");
	int part_ms = e != NULL ? atoi(e) : 20000, cycles, stalls = 0;
	long long observe_ms = 150000;
	bool kill_first, close_partitioned;
	dtx_client_opts opts;
	dtx_client *c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	t0 = now_ms();
	if (argc < 4 || getenv("DTX_DTXD") == NULL ||
	    (capture_exe = getenv("STALL_CAPTURE")) == NULL) {
		fprintf(stderr, "usage: see the top of stall_driver.c\n");
		return 2;
	}
	if ((e = getenv("STALL_OBSERVE_MS")) != NULL)
		observe_ms = atoll(e);
	kill_first = strcmp(argv[1], "kill") == 0;
	cycles = atoi(argv[2]);
	snprintf(outdir, sizeof(outdir), "%s", argv[3]);
	close_partitioned =
	        argc > 4 && strcmp(argv[4], "close-partitioned") == 0;
	private_net();
	snprintf(dir, sizeof(dir), "/tmp/dtx-stalldrv-XXXXXX");
	if (mkdtemp(dir) == NULL)
		die("mkdtemp");
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", PORT);
	dtxd_start();
	srand((unsigned)getpid());
	if (strcmp(argv[1], "close-load") == 0 ||
	    strcmp(argv[1], "kill-load") == 0) {
		int st = argv[1][0] == 'c' ? close_load(cycles)
		                           : kill_load(cycles, observe_ms);

		kill(dtxd, SIGKILL);
		waitpid(dtxd, NULL, 0);
		say("done: %d tries, %d stalls", cycles, st);
		return st > 0;
	}
	dtx_client_opts_init(&opts);
	opts.timeout_ms = CALL_MS;
	if (dtx_client_open(url, &opts, &c) != DTX_OK)
		die("dtx_client_open");
	keep_asking(c, 1000);
	if (!is_answer(ask(c))) {
		printf("Bail out! no first answer\n");
		return 2;
	}
	say("pid %d, first answer; fds %d", (int)getpid(), count_fds());
	for (int cycle = 0; cycle < cycles; cycle++) {
		if (kill_first) {
			dtxd_kill();
			keep_asking(c, 1500);
			partition();
			dtxd_start();
		} else {
			partition();
			keep_asking(c, 1000);
			dtxd_kill();
			dtxd_start();
		}
		keep_asking(c, part_ms);
		if (close_partitioned && cycle == cycles - 1)
			break;
		if (after_heal(c, cycle, observe_ms) < 0)
			stalls++;
		else if (STALL_MS > 0)
			keep_asking(c, 3000); /* closed things settle */
		say("cycle %d: fds %d", cycle, count_fds());
	}
	reap_captures(true);
	close_bounded(c);
	kill(dtxd, SIGKILL);
	waitpid(dtxd, NULL, 0);
	say("done: %d cycles, %d never answered within %lld ms", cycles, stalls,
	    observe_ms);
	return stalls > 0 ? 1 : 0;
}
