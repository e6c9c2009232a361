/*
 * client_stall_test.c - one long-lived dtx_client must keep working across
 * partitions of dtxd's client port with dtxd killed and restarted
 * meanwhile (issue 14, item 5).
 *
 * Each test runs in a network namespace of its own (unshare, as root) with
 * an nftables table that drops dtxd's port both ways, so a partition here
 * is what the chaos harness makes: packets vanish, nobody is told. The
 * same client is used from start to end; after each heal it must be
 * answered again within AFTER_HEAL_MS. Without a namespace or nft the
 * tests skip and say why.
 *
 * What the two stories catch (nng 1.5.2, PLATFORM.md):
 *   - kill, then partition: the client's dialer connects into the dropped
 *     port and waits out Linux's SYN retries: after a long partition the
 *     next SYN comes tens of seconds after the heal (up to ~64 s), and a
 *     dialer that gets a handshake error never dials again;
 *   - partition, then kill: the connection is half-open; only a
 *     retransmission after the heal (with the backoff of the whole
 *     partition) tells the client, or never if it sends nothing.
 * libdtx replaces a connection that is gone or silent (link.c).
 *
 * A plain TAP program, not Criterion: Criterion's runner talks to its
 * test processes over nng, so nng's threads exist before a test could
 * enter its namespace (they would dial from outside it).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <dtx/dtx.h>

#define NFT           "/usr/sbin/nft"
#define PARTITION_MS  20000 /* long enough for SYN backoff past 10 s */
#define AFTER_HEAL_MS 8000  /* the client must be answered by then */
#define NOTICE_MS     10000 /* the client sees dtxd within this */
#define CALL_MS       1000  /* the client's transport timeout */
#define READY_MS      10000
#define PORT          7450 /* the namespace is ours: any port is free */

/* env - one story's dtxd and work directory. */
typedef struct env {
	char dir[64];
	char url[64];
	pid_t dtxd;
	bool failed;
	char why[512];
} env;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* private_net puts this test process (and the children it starts) in a
 * network namespace of its own with lo up; false with the reason. */
static bool private_net(char *why, size_t len)
{
	struct ifreq ifr;
	int fd;
	bool ok;

	if (unshare(CLONE_NEWNET) != 0) {
		snprintf(why, len,
		         "cannot make a network namespace: %s "
		         "(needs root)",
		         strerror(errno));
		return false;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	ok = fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
	ifr.ifr_flags |= IFF_UP;
	ok = ok && ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
	if (!ok)
		snprintf(why, len, "cannot bring lo up: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	return ok;
}

/* nft runs nft with args (one shell word list, fixed text and numbers
 * only); true if it exited 0. */
static bool nft(const char *args)
{
	char cmd[512];
	int st;

	snprintf(cmd, sizeof(cmd), NFT " %s >/dev/null 2>&1", args);
	st = system(cmd);
	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* setup makes the namespace and the table; false with the reason. */
static bool setup(char *why, size_t len)
{
	if (access(NFT, X_OK) != 0) {
		snprintf(why, len, "nft is not installed (package nftables)");
		return false;
	}
	if (!private_net(why, len))
		return false;
	if (!nft("add table inet stall") ||
	    !nft("add chain inet stall out '{ type filter hook output "
	         "priority 0; policy accept; }'")) {
		snprintf(why, len, "nft cannot make a table here");
		return false;
	}
	return true;
}

/* partition drops every packet to and from port; a failure is fatal. */
static void partition(int port)
{
	char a[128], b[128];

	snprintf(a, sizeof(a), "add rule inet stall out tcp dport %d drop",
	         port);
	snprintf(b, sizeof(b), "add rule inet stall out tcp sport %d drop",
	         port);
	if (!nft(a) || !nft(b)) {
		printf("Bail out! nft cannot partition port %d\n", port);
		exit(1);
	}
}

static void heal(void)
{
	if (!nft("flush chain inet stall out")) {
		printf("Bail out! nft cannot heal\n");
		exit(1);
	}
}

/* fail records the first failure of e's story (printf-like). */
static void fail(env *e, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static void fail(env *e, const char *fmt, ...)
{
	va_list ap;

	if (e->failed)
		return;
	e->failed = true;
	va_start(ap, fmt);
	vsnprintf(e->why, sizeof(e->why), fmt, ap);
	va_end(ap);
}

/* ---- dtxd -------------------------------------------------------------- */

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

/* dtxd_start starts dtxd on e->url (log in e->dir) and waits for its
 * ready file. It dies with the test (PR_SET_PDEATHSIG). */
static void dtxd_start(env *e)
{
	char log_dir[PATH_MAX], ready[PATH_MAX], out[PATH_MAX];
	const char *exe = getenv("DTX_DTXD");
	long long end = now_ms() + READY_MS;
	pid_t pid;

	snprintf(log_dir, sizeof(log_dir), "%s/log", e->dir);
	snprintf(ready, sizeof(ready), "%s/dtxd.ready", e->dir);
	snprintf(out, sizeof(out), "%s/dtxd.out", e->dir);
	unlink(ready);
	if ((pid = fork()) == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(exe, exe, "--log-dir", log_dir, "--listen", e->url,
		      "--admin", "none", "--ready-file", ready, "--log-level",
		      "warn", (char *)NULL);
		_exit(127);
	}
	e->dtxd = pid;
	while (pid > 0 && !file_ready(ready) && now_ms() < end)
		usleep(20 * 1000);
	if (pid < 0 || !file_ready(ready))
		fail(e, "dtxd did not start (see %s)", out);
}

static void dtxd_kill(env *e)
{
	if (e->dtxd <= 0)
		return;
	kill(e->dtxd, SIGKILL);
	waitpid(e->dtxd, NULL, 0);
	e->dtxd = 0;
}

/* ---- the client -------------------------------------------------------- */

/* ask asks c about a gid that does not exist: dtxd answering at all
 * (DTX_ENOENT) is what counts. */
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

/* wait_answer asks c until dtxd answers or ms passed; returns the last
 * error. */
static int wait_answer(dtx_client *c, int ms)
{
	long long end = now_ms() + ms;
	int err;

	do {
		err = ask(c);
		if (is_answer(err))
			return err;
		usleep(100 * 1000);
	} while (now_ms() < end);
	return err;
}

/* keep_asking asks c (its answers do not matter) for ms. */
static void keep_asking(dtx_client *c, int ms)
{
	long long end = now_ms() + ms;

	while (now_ms() < end) {
		(void)ask(c);
		usleep(200 * 1000);
	}
}

/* begin makes e's directory, starts dtxd and opens the client every step
 * of the story uses (NULL if that failed: e says why). */
static dtx_client *begin(env *e, int n)
{
	dtx_client_opts opts;
	dtx_client *c = NULL;
	int err;

	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/dtx-stall-XXXXXX");
	if (mkdtemp(e->dir) == NULL) {
		fail(e, "mkdtemp: %s", strerror(errno));
		return NULL;
	}
	snprintf(e->url, sizeof(e->url), "tcp://127.0.0.1:%d", PORT + n);
	dtxd_start(e);
	dtx_client_opts_init(&opts);
	opts.timeout_ms = CALL_MS;
	if (!e->failed && (err = dtx_client_open(e->url, &opts, &c)) != DTX_OK)
		fail(e, "dtx_client_open: %s", dtx_strerror(err));
	if (!e->failed && !is_answer(err = wait_answer(c, NOTICE_MS)))
		fail(e, "no first answer: %s", dtx_strerror(err));
	return c;
}

/* end closes c (bounded, whatever nng does), stops dtxd and prints e's
 * TAP line; the directory stays when the story failed. */
static bool end(env *e, dtx_client *c, int n, const char *name)
{
	char cmd[PATH_MAX + 16];

	dtx_client_close(c);
	dtxd_kill(e);
	heal();
	if (e->failed) {
		printf("not ok %d - %s\n# %s\n# directory kept: %s\n", n, name,
		       e->why, e->dir);
		return false;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	if (system(cmd) != 0)
		printf("# cannot remove %s\n", e->dir);
	printf("ok %d - %s\n", n, name);
	return true;
}

/* after_heal heals and checks that c is answered within AFTER_HEAL_MS. */
static void after_heal(env *e, dtx_client *c, int cycle)
{
	int err;

	heal();
	err = wait_answer(c, AFTER_HEAL_MS);
	if (!is_answer(err))
		fail(e,
		     "cycle %d: the same client got no answer within %d ms "
		     "of the heal (last: %s)",
		     cycle, AFTER_HEAL_MS, dtx_strerror(err));
}

/* ---- the stories ------------------------------------------------------- */

static bool kill_then_partition(int n)
{
	env e;
	dtx_client *c = begin(&e, n);

	for (int cycle = 0; cycle < 2 && !e.failed; cycle++) {
		dtxd_kill(&e);
		if (is_answer(wait_answer(c, 1500)))
			fail(&e, "dtxd answered after SIGKILL");
		partition(PORT + n);
		dtxd_start(&e);
		keep_asking(c, PARTITION_MS);
		after_heal(&e, c, cycle);
	}
	return end(&e, c, n, "one client answers after kill, then partition");
}

static bool partition_then_kill(int n)
{
	env e;
	dtx_client *c = begin(&e, n);

	for (int cycle = 0; cycle < 2 && !e.failed; cycle++) {
		partition(PORT + n);
		keep_asking(c, 1000);
		dtxd_kill(&e); /* its RST is dropped */
		dtxd_start(&e);
		keep_asking(c, PARTITION_MS);
		after_heal(&e, c, cycle);
	}
	return end(&e, c, n, "one client answers after partition, then kill");
}

/* The error says which is which: no connection at all is "unreachable",
 * not "deadline passed". */
static bool no_connection_is_unreachable(int n)
{
	env e;
	dtx_client *c = begin(&e, n);
	int err;

	if (!e.failed) {
		dtxd_kill(&e);
		(void)wait_answer(c, 1500); /* the connection goes */
		partition(PORT + n);
		if ((err = ask(c)) != DTX_EUNREACHABLE)
			fail(&e, "without a connection: %s, not %s",
			     dtx_strerror(err), dtx_strerror(DTX_EUNREACHABLE));
		heal();
		dtxd_start(&e);
		if (!is_answer(err = wait_answer(c, AFTER_HEAL_MS)))
			fail(&e, "no answer after the heal: %s",
			     dtx_strerror(err));
	}
	return end(&e, c, n, "no connection is unreachable, not timed out");
}

int main(void)
{
	char why[256];
	bool ok = true;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("DTX_DTXD") == NULL) {
		printf("1..0 # SKIP DTX_DTXD is not set\n");
		return 0;
	}
	if (!setup(why, sizeof(why))) {
		printf("1..0 # SKIP %s\n", why);
		return 0;
	}
	printf("1..3\n");
	ok = no_connection_is_unreachable(1) && ok;
	ok = kill_then_partition(2) && ok;
	ok = partition_then_kill(3) && ok;
	return ok ? 0 : 1;
}
