/*
 * kv_bench.c - the store interface (kv.h) alone: write transactions of N
 * puts and one get, committed one after another from one thread, as the
 * log's group commit issues them. Prints commits/s, records/s and the
 * commit latency's p50/p99 per N.
 *
 *   kv_bench [--backend lmdb|postgresql] [--uri URI] [--txns M]
 *            [--puts N,N,...] [--value-bytes B]
 *
 * lmdb runs in a fresh directory under /tmp with durable commits;
 * postgresql runs on --uri, or on a throw-away cluster it starts itself
 * (tests/support/pgtmp.h: fsync and synchronous_commit on). Keys are 16
 * bytes, new in every transaction (an append-only log's pattern); the
 * get reads a key of the transaction (read-your-writes: on PostgreSQL it
 * costs the pipeline one round trip before COMMIT).
 *
 * Owns its store and cluster only; every wait is bounded by the backends.
 */
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <dtx/dtx.h>

#include "bench_common.h"
#include "kv.h"
#include "pgtmp.h"

#define TXNS_DEF  2000
#define VALUE_DEF 200
#define PUTS_MAX  8

static const char *const tables[] = {"bench"};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *ms, size_t n, double p)
{
	size_t i = (size_t)(p * (double)n + 0.999999);

	return ms[i == 0 ? 0 : (i > n ? n : i) - 1];
}

static void key_of(unsigned char *k, uint64_t n)
{
	memset(k, 0, 8);
	for (int i = 0; i < 8; i++)
		k[8 + i] = (unsigned char)(n >> (56 - 8 * i));
}

/* one_txn: begin, n puts, a get of the first, commit. */
static int one_txn(dc_kv *kv, uint64_t *seq, int n, dc_kv_val val)
{
	unsigned char k[16], k0[16];
	dc_kv_txn *x = NULL;
	dc_kv_val got;
	int rc = dc_kv_begin(kv, true, &x);

	for (int i = 0; i < n && rc == DTX_OK; i++) {
		key_of(k, (*seq)++);
		if (i == 0)
			memcpy(k0, k, sizeof(k));
		rc = dc_kv_put(x, 0, (dc_kv_val){k, 16}, val);
	}
	if (rc == DTX_OK)
		rc = dc_kv_get(x, 0, (dc_kv_val){k0, 16}, &got);
	if (rc == DTX_OK)
		return dc_kv_commit(x);
	dc_kv_abort(x);
	return rc;
}

static int run(dc_kv *kv, int txns, int n, dc_kv_val val, uint64_t *seq,
               bool quiet)
{
	double *ms = calloc((size_t)txns, sizeof(double));
	int64_t t0 = bench_now_ns(), t;

	if (ms == NULL)
		return DTX_ENOMEM;
	for (int i = 0; i < txns; i++) {
		int rc;

		t = bench_now_ns();
		rc = one_txn(kv, seq, n, val);
		if (rc != DTX_OK) {
			fprintf(stderr, "kv_bench: %s (%s)\n", dtx_strerror(rc),
			        dc_kv_last_error());
			free(ms);
			return rc;
		}
		ms[i] = (double)(bench_now_ns() - t) / 1e6;
	}
	t = bench_now_ns() - t0;
	qsort(ms, (size_t)txns, sizeof(double), cmp_double);
	if (!quiet)
		printf("%-10s puts=%-4d txns=%-6d commits/s=%-8.0f "
		       "records/s=%-9.0f "
		       "p50=%.3f ms p99=%.3f ms\n",
		       dc_kv_backend(kv), n, txns, txns / (t / 1e9),
		       (double)txns * n / (t / 1e9),
		       pct(ms, (size_t)txns, 0.50),
		       pct(ms, (size_t)txns, 0.99));
	free(ms);
	return DTX_OK;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int bench(const char *where, int txns, const int *puts, int nputs,
                 size_t vbytes)
{
	dc_kv_opts o = {.where = where, .tables = tables, .ntables = 1};
	char err[DC_KV_ERR_MAX];
	unsigned char *v = calloc(1, vbytes ? vbytes : 1);
	dc_kv *kv = NULL;
	uint64_t seq = 0;
	int rc = v ? dc_kv_open(&o, &kv, NULL, err, sizeof(err)) : DTX_ENOMEM;

	if (rc != DTX_OK)
		fprintf(stderr, "kv_bench: open: %s (%s)\n", dtx_strerror(rc),
		        err);
	for (int i = 0; i < nputs && rc == DTX_OK; i++) {
		rc = run(kv, txns / 10 + 1, puts[i], (dc_kv_val){v, vbytes},
		         &seq, true); /* warm up */
		if (rc == DTX_OK)
			rc = run(kv, txns, puts[i], (dc_kv_val){v, vbytes},
			         &seq, false);
	}
	dc_kv_close(kv);
	free(v);
	return rc;
}

static int parse_puts(char *csv, int *puts)
{
	int n = 0;

	for (char *s = strtok(csv, ","); s && n < PUTS_MAX;
	     s = strtok(NULL, ","))
		puts[n++] =
		        (int)bench_flag_num("kv_bench", "--puts", s, 1, 100000);
	return n;
}

int main(int argc, char **argv)
{
	const char *backend = "lmdb", *uri = NULL;
	int txns = TXNS_DEF, puts[PUTS_MAX] = {1, 16, 128}, nputs = 3, rc;
	size_t vbytes = VALUE_DEF;
	char dir[64] = "", where[128], err[512];
	pgtmp *pg = NULL;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--backend") == 0)
			backend = argv[i + 1];
		else if (strcmp(argv[i], "--uri") == 0)
			uri = argv[i + 1];
		else if (strcmp(argv[i], "--txns") == 0)
			txns = (int)bench_flag_num("kv_bench", "--txns",
			                           argv[i + 1], 1, 10000000);
		else if (strcmp(argv[i], "--puts") == 0)
			nputs = parse_puts(argv[i + 1], puts);
		else if (strcmp(argv[i], "--value-bytes") == 0)
			vbytes = (size_t)bench_flag_num(
			        "kv_bench", "--value-bytes", argv[i + 1], 0,
			        1 << 20);
		else {
			fprintf(stderr, "kv_bench: unknown flag %s\n", argv[i]);
			return 64;
		}
	}
	if (strcmp(backend, "lmdb") == 0) {
		snprintf(dir, sizeof(dir), "/tmp/dtx-kvbench-XXXXXX");
		if (mkdtemp(dir) == NULL)
			return 1;
		snprintf(where, sizeof(where), "%s/store", dir);
		uri = where;
	} else if (uri == NULL) {
		pg = pgtmp_start(err, sizeof(err));
		if (pg == NULL) {
			fprintf(stderr, "kv_bench: %s\n", err);
			return 1;
		}
		uri = pgtmp_uri(pg);
	}
	rc = bench(uri, txns, puts, nputs, vbytes);
	pgtmp_stop(pg);
	if (dir[0] != '\0')
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return rc == DTX_OK ? 0 : 1;
}
