/*
 * log_bench.c - the coordinator's group commit alone: dc_log_commit of
 * batches of N transactions through the real log module (coordinator/
 * log.c) on LMDB or PostgreSQL, committed one after another from one
 * thread, as the engine's commit worker does, each followed by the
 * dc_log_usage_read the worker does after a commit. Prints commits/s,
 * transactions/s, and the p50/p99 of the commit and of the usage read.
 *
 *   log_bench [--backend lmdb|postgresql] [--uri URI] [--batches M]
 *             [--txs N,N,...] [--prune N]
 *
 * A batch is what a busy two-step saga load gives a commit: half of it
 * new sagas (running, step 0 acting, every step written), half the sagas
 * of the batch before finishing (committed, step 1 written, out of the
 * active index into finals), each with one timeline event. Every one of
 * them is a tx record the commit rewrites, so the log reads its old
 * record (the counts per state). lmdb runs in a fresh directory under
 * /tmp with durable commits; postgresql on --uri, or on a throw-away
 * cluster it starts itself (tests/support/pgtmp.h: fsync and
 * synchronous_commit on).
 *
 * --prune N then times retention: every saga written so far (and N more
 * final ones) is pruned by commits of an empty batch with a prune of at
 * most PRUNE_PER_COMMIT (retain.c's most), as dtxd's commits do once the
 * retention period has passed; it prints sagas pruned per second and the
 * p50/p99 of those commits.
 *
 * Owns its log and cluster only; every wait is bounded by the store.
 */
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <dtx/dtx.h>

#include "bench_common.h"
#include "log.h"
#include "pgtmp.h"
#include "tx.h"

#define BATCHES_DEF      300
#define PRUNE_PER_COMMIT 1024
#define TXS_MAX          8

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *ms, size_t n, double p)
{
	size_t i = (size_t)(p * (double)n + 0.999999);

	qsort(ms, n, sizeof(*ms), cmp_double);
	return ms[i == 0 ? 0 : (i > n ? n : i) - 1];
}

/* put_saga adds saga number i to b: new (step 0 acting, both steps
 * written) or finishing (committed, step 1 written), and one event. */
static int put_saga(dc_log_batch *b, uint64_t i, bool finish, int64_t now)
{
	dc_log_event ev = {now, DC_TX_RUNNING, 0, DC_STEP_ACTING, NULL};
	char gid[32];
	dc_tx *tx;
	int rc;

	snprintf(gid, sizeof(gid), "lb-%012llu", (unsigned long long)i);
	rc = dc_tx_create(gid, DC_MODE_SAGA, 2, &tx);
	for (int s = 0; rc == DTX_OK && s < 2; s++) {
		rc = dc_tx_set_str(&tx->steps[s].url, "ipc:///tmp/lb.ipc");
		if (rc == DTX_OK)
			rc = dc_tx_set_str(&tx->steps[s].action, "p.do");
		if (rc == DTX_OK)
			rc = dc_tx_set_str(&tx->steps[s].compensate, "p.undo");
	}
	if (rc != DTX_OK)
		return rc;
	tx->created_unix_ms = tx->updated_unix_ms = now;
	tx->state = finish ? DC_TX_COMMITTED : DC_TX_RUNNING;
	tx->steps[0].state = finish ? DC_STEP_DONE : DC_STEP_ACTING;
	tx->steps[1].state = finish ? DC_STEP_DONE : DC_STEP_PENDING;
	tx->next_event_seq = finish ? 2 : 1;
	if (finish) {
		ev = (dc_log_event){now, DC_TX_COMMITTED, 1, DC_STEP_DONE,
		                    NULL};
	}
	rc = dc_log_batch_put_tx(b, tx, finish ? 2 : 3);
	if (rc == DTX_OK)
		rc = dc_log_batch_add_event(b, gid, finish ? 1 : 0, &ev);
	dc_tx_destroy(tx);
	return rc;
}

/* one_batch commits n sagas: n/2 new ones from *next on, and the n/2
 * that the batch before began (none before the first batch). */
static int one_batch(dc_log *log, dc_log_batch *b, uint64_t *next, int n,
                     bool first, double *commit_ms, double *usage_ms)
{
	int64_t now = (int64_t)time(NULL) * 1000;
	dc_log_usage u;
	int64_t t;
	int rc = DTX_OK;

	dc_log_batch_reset(b);
	for (int i = 0; rc == DTX_OK && i < n / 2 && !first; i++)
		rc = put_saga(b, *next - (uint64_t)(n / 2) + (uint64_t)i, true,
		              now);
	for (int i = 0; rc == DTX_OK && i < n - n / 2; i++)
		rc = put_saga(b, (*next)++, false, now);
	if (rc != DTX_OK)
		return rc;
	t = bench_now_ns();
	rc = dc_log_commit(log, b);
	*commit_ms = (double)(bench_now_ns() - t) / 1e6;
	t = bench_now_ns();
	if (rc == DTX_OK)
		rc = dc_log_usage_read(log, &u);
	*usage_ms = (double)(bench_now_ns() - t) / 1e6;
	return rc;
}

static int run(dc_log *log, int batches, int n, uint64_t *next, bool quiet)
{
	double *cm = calloc((size_t)batches, sizeof(double));
	double *um = calloc((size_t)batches, sizeof(double));
	dc_log_batch *b = NULL;
	int64_t t0 = bench_now_ns(), t;
	int rc = cm && um ? dc_log_batch_create(&b) : DTX_ENOMEM;

	for (int i = 0; rc == DTX_OK && i < batches; i++)
		rc = one_batch(log, b, next, n, i == 0, &cm[i], &um[i]);
	t = bench_now_ns() - t0;
	if (rc != DTX_OK)
		fprintf(stderr, "log_bench: %s (%s)\n", dtx_strerror(rc),
		        dc_log_last_error(log));
	else if (!quiet)
		printf("txs/batch=%-4d batches=%-5d commits/s=%-7.0f "
		       "txs/s=%-7.0f commit p50=%.3f p99=%.3f ms, usage read "
		       "p50=%.3f p99=%.3f ms\n",
		       n, batches, batches / (t / 1e9),
		       (double)batches * n / (t / 1e9),
		       pct(cm, (size_t)batches, 0.50),
		       pct(cm, (size_t)batches, 0.99),
		       pct(um, (size_t)batches, 0.50),
		       pct(um, (size_t)batches, 0.99));
	dc_log_batch_destroy(b);
	free(cm);
	free(um);
	return rc;
}

/* prune_all prunes every final saga (n more are written first) with
 * commits of at most PRUNE_PER_COMMIT each. */
static int prune_all(dc_log *log, uint64_t *next, int n)
{
	dc_log_prune p = {.final_before_ms = INT64_MAX,
	                  .max_final = PRUNE_PER_COMMIT};
	double ms[4096];
	dc_log_batch *b = NULL;
	dc_log_pruned r = {0, 0, true, false};
	uint64_t total = 0;
	int64_t t0, t;
	size_t k = 0;
	int rc = dc_log_batch_create(&b);

	for (int i = 0; rc == DTX_OK && i < n; i += 256) {
		dc_log_batch_reset(b);
		for (int j = 0; rc == DTX_OK && j < 256 && i + j < n; j++)
			rc = put_saga(b, (*next)++, true, 1000);
		if (rc == DTX_OK)
			rc = dc_log_commit(log, b);
	}
	dc_log_batch_reset(b);
	t0 = bench_now_ns();
	while (rc == DTX_OK && r.more_final && k < 4096) {
		p.now_unix_ms = (int64_t)time(NULL) * 1000;
		t = bench_now_ns();
		rc = dc_log_commit_prune(log, b, &p, &r);
		ms[k++] = (double)(bench_now_ns() - t) / 1e6;
		total += r.pruned;
	}
	t = bench_now_ns() - t0;
	if (rc == DTX_OK)
		printf("prune: %llu sagas in %zu commits, pruned/s=%.0f, "
		       "commit "
		       "p50=%.3f p99=%.3f ms\n",
		       (unsigned long long)total, k, total / (t / 1e9),
		       pct(ms, k, 0.50), pct(ms, k, 0.99));
	else
		fprintf(stderr, "log_bench: prune: %s (%s)\n", dtx_strerror(rc),
		        dc_log_last_error(log));
	dc_log_batch_destroy(b);
	return rc;
}

static int bench(const char *where, int batches, const int *txs, int ntxs,
                 int prune)
{
	dc_log_opts o = {.dir = where};
	char err[512] = "";
	dc_log *log = NULL;
	uint64_t next = 0;
	int rc = dc_log_open(&o, &log, err, sizeof(err));

	if (rc != DTX_OK)
		fprintf(stderr, "log_bench: open: %s (%s)\n", dtx_strerror(rc),
		        err);
	else
		printf("log_bench: %s\n", dc_log_path(log));
	for (int i = 0; i < ntxs && rc == DTX_OK; i++) {
		rc = run(log, batches / 10 + 1, txs[i], &next, true); /* warm */
		if (rc == DTX_OK)
			rc = run(log, batches, txs[i], &next, false);
	}
	if (rc == DTX_OK && prune > 0)
		rc = prune_all(log, &next, prune);
	dc_log_close(log);
	return rc;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int parse_txs(char *csv, int *txs)
{
	int n = 0;

	for (char *s = strtok(csv, ","); s && n < TXS_MAX;
	     s = strtok(NULL, ","))
		txs[n++] =
		        (int)bench_flag_num("log_bench", "--txs", s, 2, 100000);
	return n;
}

int main(int argc, char **argv)
{
	const char *backend = "lmdb", *uri = NULL;
	int batches = BATCHES_DEF, txs[TXS_MAX] = {64}, ntxs = 1, prune = 0;
	int rc;
	char dir[64] = "", where[128], err[512];
	pgtmp *pg = NULL;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--backend") == 0)
			backend = argv[i + 1];
		else if (strcmp(argv[i], "--uri") == 0)
			uri = argv[i + 1];
		else if (strcmp(argv[i], "--batches") == 0)
			batches = (int)bench_flag_num("log_bench", "--batches",
			                              argv[i + 1], 1, 1000000);
		else if (strcmp(argv[i], "--txs") == 0)
			ntxs = parse_txs(argv[i + 1], txs);
		else if (strcmp(argv[i], "--prune") == 0)
			prune = (int)bench_flag_num("log_bench", "--prune",
			                            argv[i + 1], 0, 1000000);
		else {
			fprintf(stderr, "log_bench: unknown flag %s\n",
			        argv[i]);
			return 64;
		}
	}
	if (strcmp(backend, "lmdb") == 0) {
		snprintf(dir, sizeof(dir), "/tmp/dtx-logbench-XXXXXX");
		if (mkdtemp(dir) == NULL)
			return 1;
		snprintf(where, sizeof(where), "%s/log", dir);
		uri = where;
	} else if (uri == NULL) {
		pg = pgtmp_start(err, sizeof(err));
		if (pg == NULL) {
			fprintf(stderr, "log_bench: %s\n", err);
			return 1;
		}
		uri = pgtmp_uri(pg);
	}
	rc = bench(uri, batches, txs, ntxs, prune);
	pgtmp_stop(pg);
	if (dir[0] != '\0')
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return rc == DTX_OK ? 0 : 1;
}
