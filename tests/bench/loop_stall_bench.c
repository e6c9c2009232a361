/*
 * loop_stall_bench.c - does a scan of a big log stall dtxd's loop? (issue
 * 14 item 3). Two modes:
 *
 *   loop_stall_bench fill DIR [--count N]
 *       writes N (500000) committed two-step sagas into a fresh log in
 *       DIR through the coordinator's own log module (durable commits of
 *       2,000 sagas each); every 1,000th uses the handler rare.do, so
 *       `dtxctl list --all --handler rare.do` must read the whole log.
 *
 *   loop_stall_bench query URL [--count N] [--rate R] [--label TEXT]
 *       begins one initiator-driven TCC transaction (it stays in memory)
 *       and then queries N times (2000) at R per second (200: 10 s, several
 *       rounds of scans), alternating between it ("mem") and a committed
 *       saga of the filled log ("disk"), with libdtx's client; each query
 *       is timed from when it was due; prints p50, p99 and max of each
 *       kind.
 *
 * Not a test: it asserts nothing. tests/bench/loop_stall_bench.sh runs it
 * against dtxd with and without dtxctl scans running.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dtx/dtx.h>

#include "log.h"
#include "tx.h"

#define BATCH      2000
#define RARE_EVERY 1000

static void die(const char *what, int rv)
{
	fprintf(stderr, "loop_stall_bench: %s: %s\n", what, dtx_strerror(rv));
	exit(1);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- fill --------------------------------------------------------------- */

static dc_tx *committed_saga(unsigned i, int64_t now)
{
	char gid[32];
	dc_tx *tx;
	int rv;

	snprintf(gid, sizeof(gid), "ls-%08u", i);
	if ((rv = dc_tx_create(gid, DC_MODE_SAGA, 2, &tx)) != DTX_OK)
		die("create", rv);
	tx->state = DC_TX_COMMITTED;
	tx->created_unix_ms = tx->updated_unix_ms = now;
	for (int s = 0; s < 2; s++) {
		dc_step *st = &tx->steps[s];
		const char *act =
		        s == 1 && i % RARE_EVERY == 7 ? "rare.do" : "p1.do";
		if (dc_tx_set_str(&st->url, "tcp://127.0.0.1:9") ||
		    dc_tx_set_str(&st->action, act) ||
		    dc_tx_set_str(&st->compensate, "p1.undo"))
			die("set", DTX_ENOMEM);
		st->state = DC_STEP_DONE;
		st->attempts = 1;
	}
	return tx;
}

static void commit(dc_log *log, dc_log_batch *b)
{
	int rv;

	while ((rv = dc_log_commit(log, b)) == DTX_ELIMIT)
		if ((rv = dc_log_grow(log)) != DTX_OK)
			die("grow", rv);
	if (rv != DTX_OK)
		die(dc_log_last_error(log), rv);
	dc_log_batch_reset(b);
}

static int fill(const char *dir, unsigned count)
{
	dc_log_opts lo = {.dir = dir, .map_size = (size_t)1 << 30};
	int64_t now = (int64_t)time(NULL) * 1000;
	double t0 = now_ms();
	char err[512] = "";
	dc_log_batch *b;
	dc_log *log;
	int rv;

	if ((rv = dc_log_open(&lo, &log, err, sizeof(err))) != DTX_OK)
		die(err, rv);
	if ((rv = dc_log_batch_create(&b)) != DTX_OK)
		die("batch", rv);
	for (unsigned i = 0; i < count; i++) {
		dc_tx *tx = committed_saga(i, now);
		if ((rv = dc_log_batch_put_tx(b, tx, UINT64_MAX)) != DTX_OK)
			die("put", rv);
		dc_tx_destroy(tx);
		if ((i + 1) % BATCH == 0 || i + 1 == count)
			commit(log, b);
	}
	dc_log_batch_destroy(b);
	dc_log_close(log);
	printf("filled %s with %u committed sagas in %.1f s\n", dir, count,
	       (now_ms() - t0) / 1e3);
	return 0;
}

/* ---- query -------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *label, const char *kind, double *ms, size_t n)
{
	if (n == 0)
		return;
	qsort(ms, n, sizeof(*ms), cmp_double);
	printf("%s %s: n=%zu p50=%.3f ms p99=%.3f ms max=%.3f ms\n", label,
	       kind, n, ms[n / 2], ms[(n * 99) / 100], ms[n - 1]);
}

/* sleep_until waits for the monotonic time at_ms. */
static void sleep_until(double at_ms)
{
	double d = at_ms - now_ms();
	struct timespec ts;

	if (d <= 0)
		return;
	ts.tv_sec = (time_t)(d / 1e3);
	ts.tv_nsec = (long)((d - (double)ts.tv_sec * 1e3) * 1e6);
	nanosleep(&ts, NULL);
}

/* query sends count queries at rate per second, one at a time, and
 * measures each from the moment it was due (not from when it could be
 * sent): a stall of the coordinator then shows in every query that fell
 * due during it, as a client arriving at that rate would see it, not in
 * one sample only (coordinated omission). */
static int query(const char *url, unsigned count, unsigned rate,
                 const char *label)
{
	double *lat[2] = {calloc(count, sizeof(double)),
	                  calloc(count, sizeof(double))};
	double interval = 1e3 / (rate ? rate : 200), t0;
	size_t n[2] = {0, 0};
	dtx_client *c;
	dtx_tcc_tx *live;
	dtx_tx_info info;
	char disk[32];
	int rv;

	if (lat[0] == NULL || lat[1] == NULL)
		die("calloc", DTX_ENOMEM);
	if ((rv = dtx_client_open(url, NULL, &c)) != DTX_OK)
		die("open", rv);
	if ((rv = dtx_tcc_begin(c, NULL, 3600000, &live)) != DTX_OK)
		die("begin", rv);
	t0 = now_ms();
	for (unsigned i = 0; i < count; i++) {
		int k = i % 2; /* 0: in memory, 1: on disk */
		const char *gid = dtx_tcc_tx_gid(live);
		double due = t0 + i * interval;
		if (k == 1) {
			snprintf(disk, sizeof(disk), "ls-%08u",
			         (i * 7919u) % 500000u);
			gid = disk;
		}
		sleep_until(due);
		rv = dtx_client_query(c, gid, 0, &info);
		if (rv != DTX_OK)
			die(gid, rv);
		lat[k][n[k]++] = now_ms() - due;
	}
	report(label, "mem ", lat[0], n[0]);
	report(label, "disk", lat[1], n[1]);
	dtx_tcc_tx_destroy(live);
	dtx_client_close(c);
	free(lat[0]);
	free(lat[1]);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned count = 0, rate = 0;
	const char *label = "";

	for (int i = 3; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--count") == 0)
			count = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--label") == 0)
			label = argv[i + 1];
		else if (strcmp(argv[i], "--rate") == 0)
			rate = (unsigned)strtoul(argv[i + 1], NULL, 10);
	}
	if (argc >= 3 && strcmp(argv[1], "fill") == 0)
		return fill(argv[2], count ? count : 500000);
	if (argc >= 3 && strcmp(argv[1], "query") == 0)
		return query(argv[2], count ? count : 2000, rate, label);
	fprintf(stderr, "usage: loop_stall_bench fill DIR [--count N]\n"
	                "       loop_stall_bench query URL [--count N] "
	                "[--rate PER_S] [--label TEXT]\n");
	return 64;
}
