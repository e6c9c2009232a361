/*
 * bench_common.c - clock, latency samples, CPU accounting and the report
 * of the comparison benchmark's drivers (see bench_common.h).
 *
 * Reads /proc and writes one report file; talks to no server. Every scan
 * is bounded by what /proc lists.
 */
#include "bench_common.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define LAT_INITIAL 65536u

int64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void bench_sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- latency samples --------------------------------------------------- */

int bench_lat_add(bench_lat *l, double ms)
{
	if (l->n == l->cap) {
		size_t cap = l->cap == 0 ? LAT_INITIAL : l->cap * 2;
		double *p;

		if (l->cap >= BENCH_LAT_MAX) {
			l->dropped++;
			return 0;
		}
		p = realloc(l->ms, cap * sizeof(*p));
		if (p == NULL) {
			l->dropped++;
			return -1;
		}
		l->ms = p;
		l->cap = cap;
	}
	l->ms[l->n++] = ms;
	return 0;
}

void bench_lat_fini(bench_lat *l)
{
	free(l->ms);
	l->ms = NULL;
	l->n = l->cap = 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* percentile returns the nearest-rank q-quantile of the sorted v. */
static double percentile(const double *v, size_t n, double q)
{
	size_t rank = (size_t)(q * (double)n + 0.999999);

	if (n == 0)
		return 0.0;
	return v[rank == 0 ? 0 : (rank > n ? n - 1 : rank - 1)];
}

/* ---- CPU time ---------------------------------------------------------- */

int bench_pids_parse(const char *csv, bench_pids *ret_pids)
{
	bench_pids p = {.n = 0};
	const char *s = csv;
	char *end;

	while (s != NULL && *s != '\0') {
		long v = strtol(s, &end, 10);

		if (end == s || v <= 0 || p.n == BENCH_PIDS_MAX ||
		    (*end != ',' && *end != '\0'))
			return -1;
		p.pid[p.n++] = (pid_t)v;
		s = *end == ',' ? end + 1 : end;
	}
	*ret_pids = p;
	return 0;
}

/* stat_fields reads pid's parent and its CPU ticks: own (utime + stime)
 * and reaped children's (cutime + cstime). Returns 0, or -1 if pid is
 * gone or its stat unreadable. */
static int stat_fields(pid_t pid, pid_t *ret_ppid, unsigned long long *ret_own,
                       unsigned long long *ret_reaped)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	long long cut, cst;
	int ppid;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold spaces */
	if (p == NULL || sscanf(p + 1,
	                        " %*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	                        "%llu %llu %lld %lld",
	                        &ppid, &ut, &st, &cut, &cst) != 5)
		return -1;
	*ret_ppid = (pid_t)ppid;
	*ret_own = ut + st;
	*ret_reaped = (unsigned long long)(cut + cst);
	return 0;
}

static bool in_set(const bench_pids *pids, pid_t pid)
{
	for (size_t i = 0; i < pids->n; i++)
		if (pids->pid[i] == pid)
			return true;
	return false;
}

/* tree_ticks sums, over one scan of /proc, every process in pids (own +
 * reaped) and every live child of one (own + reaped). */
static unsigned long long tree_ticks(const bench_pids *pids)
{
	unsigned long long sum = 0, own, reaped;
	struct dirent *de;
	pid_t ppid;
	DIR *d;

	if (pids->n == 0 || (d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		pid_t pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)atol(de->d_name);
		if (stat_fields(pid, &ppid, &own, &reaped) != 0)
			continue;
		if (in_set(pids, pid) || in_set(pids, ppid))
			sum += own + reaped;
	}
	closedir(d);
	return sum;
}

double bench_cpu_ms(const bench_pids *pids)
{
	struct rusage ru;
	long hz = sysconf(_SC_CLK_TCK);
	double ms = 0.0;

	if (getrusage(RUSAGE_SELF, &ru) == 0)
		ms = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
		     (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
	if (hz > 0)
		ms += (double)tree_ticks(pids) * 1000.0 / (double)hz;
	return ms;
}

/* ---- the report -------------------------------------------------------- */

/* put_string writes s as a JSON string. */
static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void put_figures(FILE *f, const bench_report *r, const bench_lat *lat)
{
	double per_s =
	        r->elapsed_s > 0 ? (double)r->answered / r->elapsed_s : 0.0;
	double cpu = r->answered > 0 ? r->cpu_ms / (double)r->answered : 0.0;

	fprintf(f, "{\n  \"system\": ");
	put_string(f, r->system);
	fprintf(f, ",\n  \"concurrency\": %u,\n", r->concurrency);
	fprintf(f, "  \"answered\": %llu,\n  \"ok\": %llu,\n",
	        (unsigned long long)r->answered, (unsigned long long)r->ok);
	fprintf(f, "  \"refused\": %llu,\n", (unsigned long long)r->refused);
	fprintf(f, "  \"non_business_failures\": %llu,\n",
	        (unsigned long long)r->non_business);
	fprintf(f, "  \"elapsed_s\": %.3f,\n  \"purchases_per_s\": %.1f,\n",
	        r->elapsed_s, per_s);
	fprintf(f, "  \"p50_ms\": %.3f,\n", percentile(lat->ms, lat->n, 0.50));
	fprintf(f, "  \"p99_ms\": %.3f,\n", percentile(lat->ms, lat->n, 0.99));
	fprintf(f, "  \"p999_ms\": %.3f,\n",
	        percentile(lat->ms, lat->n, 0.999));
	fprintf(f, "  \"samples_dropped\": %llu,\n",
	        (unsigned long long)lat->dropped);
	fprintf(f, "  \"cpu_ms_per_purchase\": %.4f,\n  \"check\": ", cpu);
	put_string(f, r->check);
	fprintf(f, ",\n  \"invariants_ok\": %s\n}\n",
	        r->invariants_ok ? "true" : "false");
}

int bench_report_write(const char *path, const bench_report *r, bench_lat *lat)
{
	bool to_stdout = strcmp(path, "-") == 0;
	FILE *f = to_stdout ? stdout : fopen(path, "w");
	int rc;

	if (f == NULL)
		return -1;
	if (lat->n > 0)
		qsort(lat->ms, lat->n, sizeof(double), cmp_double);
	put_figures(f, r, lat);
	rc = ferror(f) ? -1 : 0;
	if (to_stdout)
		return fflush(f) == 0 ? rc : -1;
	return fclose(f) == 0 ? rc : -1;
}

long long bench_flag_num(const char *prog, const char *name, const char *text,
                         long long lo, long long hi)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (*text == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi) {
		fprintf(stderr, "%s: %s must be %lld..%lld\n", prog, name, lo,
		        hi);
		exit(64);
	}
	return v;
}
