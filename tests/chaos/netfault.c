/*
 * netfault.c - the private namespace, nftables partitions and libfiu
 * (see netfault.h). Helper commands (nft, fiu-ctrl) run to completion
 * with a bounded wait through procs_run; their output goes to a log.
 */
#include "netfault.h"

#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "procs.h"

#define NFT       "/usr/sbin/nft"
#define FIU_RUN   "/usr/bin/fiu-run"
#define FIU_CTRL  "/usr/bin/fiu-ctrl"
#define FIU_POSIX "/usr/lib/fiu/fiu_posix_preload.so"
#define TABLE     "dtxchaos"
#define HELPER_MS 5000

bool net_private_ns(char *why, size_t len)
{
	struct ifreq ifr;
	int fd;

	if (unshare(CLONE_NEWNET) != 0) {
		snprintf(why, len,
		         "cannot make a network namespace (unshare: %s; needs "
		         "root or CAP_SYS_ADMIN)",
		         strerror(errno));
		return false;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) != 0 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr)) != 0) {
		snprintf(why, len, "cannot bring up lo in the namespace: %s",
		         strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	close(fd);
	return true;
}

static int nft(const char *log, const char *const words[])
{
	const char *argv[PROCS_ARGS_MAX] = {NFT};
	size_t n = 1;

	for (size_t i = 0; words[i] != NULL && n < PROCS_ARGS_MAX - 1; i++)
		argv[n++] = words[i];
	argv[n] = NULL;
	return procs_run(log, argv, HELPER_MS);
}

bool nft_probe(const char *log, char *why, size_t len)
{
	static const char *const table[] = {"add", "table", "inet", TABLE,
	                                    NULL};
	static const char *const chain[] = {
	        "add",    "chain",   "inet", TABLE,    "out",      "{",
	        "type",   "filter",  "hook", "output", "priority", "0;",
	        "policy", "accept;", "}",    NULL};

	if (access(NFT, X_OK) != 0) {
		snprintf(why, len,
		         "nft is not installed (package nftables; "
		         "scripts/setup.sh installs it)");
		return false;
	}
	if (nft(log, table) != 0 || nft(log, chain) != 0) {
		snprintf(why, len,
		         "nft cannot make a table here (kernel without "
		         "nf_tables, or no CAP_NET_ADMIN): see %s",
		         log);
		return false;
	}
	return true;
}

int nft_partition(const char *log, uint16_t port)
{
	char p[8];
	const char *const dport[] = {"add", "rule",  "inet", TABLE,  "out",
	                             "tcp", "dport", p,      "drop", NULL};
	const char *const sport[] = {"add", "rule",  "inet", TABLE,  "out",
	                             "tcp", "sport", p,      "drop", NULL};

	snprintf(p, sizeof(p), "%u", (unsigned)port);
	return nft(log, dport) == 0 && nft(log, sport) == 0 ? 0 : -1;
}

int nft_heal(const char *log)
{
	static const char *const flush[] = {"flush", "chain", "inet",
	                                    TABLE,   "out",   NULL};

	return nft(log, flush) == 0 ? 0 : -1;
}

bool fiu_probe(char *why, size_t len)
{
	if (access(FIU_RUN, X_OK) == 0 && access(FIU_CTRL, X_OK) == 0 &&
	    access(FIU_POSIX, R_OK) == 0)
		return true;
	snprintf(why, len,
	         "libfiu is not installed (fiu-utils, libfiu-dev; "
	         "scripts/setup.sh installs them)");
	return false;
}

size_t fiu_wrap(const char *prefix, const char **argv)
{
	argv[0] = FIU_RUN;
	argv[1] = "-x";
	argv[2] = "-f";
	argv[3] = prefix;
	return 4;
}

static int fiu_ctrl(const char *log, const char *prefix, pid_t pid,
                    const char *cmd)
{
	char spid[16];
	const char *const argv[] = {FIU_CTRL, "-f", prefix, "-c",
	                            cmd,      spid, NULL};

	snprintf(spid, sizeof(spid), "%ld", (long)pid);
	return procs_run(log, argv, HELPER_MS) == 0 ? 0 : -1;
}

int fiu_arm(const char *log, const char *prefix, pid_t pid, const char *point)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "enable name=%s,failnum=1,failinfo=%d",
	         point, EIO);
	return fiu_ctrl(log, prefix, pid, cmd);
}

int fiu_disarm(const char *log, const char *prefix, pid_t pid,
               const char *point)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "disable name=%s", point);
	return fiu_ctrl(log, prefix, pid, cmd);
}
