/*
 * netfault.h - the faults that need the kernel or a preload library:
 * the run's private network namespace, partitions with nftables inside
 * it, and EIO on dtxd's log with libfiu. Each is probed once at start;
 * what the machine cannot do is reported as skipped with the reason,
 * never silently left out.
 *
 * The namespace is made with unshare(CLONE_NEWNET) by the harness itself,
 * before any thread starts: every child then lives in it, its loopback is
 * the run's own (fixed ports, no clash with anything else on the
 * machine), nft rules touch nothing outside it, and it vanishes when the
 * last process of the run exits - there is nothing to clean up.
 */
#ifndef DTX_CHAOS_NETFAULT_H
#define DTX_CHAOS_NETFAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* net_private_ns moves the calling process (single-threaded!) into a new
 * network namespace and brings its loopback up. false: why says why. */
bool net_private_ns(char *why, size_t len);

/* nft_probe checks that nft runs and can make the harness's table (in
 * the current namespace); log is where nft's output goes. */
bool nft_probe(const char *log, char *why, size_t len);

/* nft_partition drops every TCP segment to or from port (both
 * directions, so established connections stall too). Returns 0 or -1. */
int nft_partition(const char *log, uint16_t port);

/* nft_heal removes every partition. Returns 0 or -1. */
int nft_heal(const char *log);

/* fiu_probe checks for fiu-run, fiu-ctrl and libfiu's POSIX preload. */
bool fiu_probe(char *why, size_t len);

/* fiu_wrap writes the argv prefix that runs a program under libfiu with
 * its control fifo at prefix (borrowed; argv gets pointers to static
 * strings and to prefix) and returns the number of words. */
size_t fiu_wrap(const char *prefix, const char **argv);

/* fiu_arm makes every call of point (a libfiu POSIX name) in process
 * pid fail with EIO from now on: dtxd stops at its first failed commit
 * (crash-only) and its restart runs without the fault. Returns 0 or -1
 * (fiu-ctrl failed). */
int fiu_arm(const char *log, const char *prefix, pid_t pid, const char *point);

/* fiu_disarm turns point off in pid. Returns 0 or -1. */
int fiu_disarm(const char *log, const char *prefix, pid_t pid,
               const char *point);

#endif
