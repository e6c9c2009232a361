/*
 * epochs.c - the lease and fencing invariants of a PostgreSQL run (see
 * epochs.h).
 *
 * Loading: audit/leases.txt (every committed lease change, in the
 * server's time order: "us app shard epoch owner"), then the lines
 * "shard S: taken at epoch E" of every instance's log (logs/dtxd*.log,
 * every process of the role appends to it; the pid tells them apart),
 * then audit/writes.txt streamed a line at a time ("us app gid op"), each
 * write judged against the lease changes of its shard (a binary search in
 * that shard's changes, sorted by time). Why the last change before a
 * write must name the writer: pgrun.c, at the top.
 */
#include "epochs.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shard.h"

#define APP_MAX 32

typedef struct lrow {
	int64_t us;
	uint64_t epoch, seq;
	uint32_t shard;
	char app[APP_MAX], owner[APP_MAX];
} lrow;

typedef struct belief {
	uint32_t shard;
	uint64_t epoch;
	int role;
	long pid;
} belief;

typedef struct lset {
	lrow *rows;
	size_t n, cap;
	belief *bel;
	size_t nbel, capbel;
} lset;

static bool grow(void **p, size_t *cap, size_t n, size_t size)
{
	void *np;

	if (n < *cap)
		return true;
	if (*cap >= EPOCHS_ROWS_MAX)
		return false;
	*cap = *cap ? *cap * 2 : 1024;
	np = realloc(*p, *cap * size);
	if (np == NULL)
		return false;
	*p = np;
	return true;
}

/* by_shard_time orders lease changes by shard, then server time, then
 * the order they were read in. */
static int by_shard_time(const void *a, const void *b)
{
	const lrow *x = a, *y = b;

	if (x->shard != y->shard)
		return x->shard < y->shard ? -1 : 1;
	if (x->us != y->us)
		return x->us < y->us ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int load_leases(const char *workdir, lset *ls)
{
	char path[PATH_MAX], line[256];
	FILE *f;
	lrow r;

	snprintf(path, sizeof(path), "%s/audit/leases.txt", workdir);
	f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "dtx-chaos: check: %s: cannot open\n", path);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		memset(&r, 0, sizeof(r));
		if (sscanf(line,
		           "%" SCNd64 " %31s %" SCNu32 " %" SCNu64 " %31s",
		           &r.us, r.app, &r.shard, &r.epoch, r.owner) != 5 ||
		    !grow((void **)&ls->rows, &ls->cap, ls->n, sizeof(lrow))) {
			fclose(f);
			fprintf(stderr, "dtx-chaos: check: %s: bad line\n",
			        path);
			return -1;
		}
		r.seq = ls->n;
		ls->rows[ls->n++] = r;
	}
	fclose(f);
	if (ls->n > 0)
		qsort(ls->rows, ls->n, sizeof(lrow), by_shard_time);
	return 0;
}

/* load_beliefs reads the "taken at epoch" lines of role's log. */
static void load_beliefs(const char *workdir, int role, lset *ls)
{
	char path[PATH_MAX], line[1024];
	const char *p;
	FILE *f;
	belief b = {.role = role};

	snprintf(path, sizeof(path), "%s/logs/%s.log", workdir,
	         chaos_role_name(role));
	f = fopen(path, "r");
	for (uint64_t n = 0; f != NULL && n < EPOCHS_ROWS_MAX &&
	                     fgets(line, sizeof(line), f) != NULL;
	     n++) {
		p = strstr(line, " dtxd[");
		if (p == NULL || strstr(line, ": taken at epoch ") == NULL ||
		    sscanf(p,
		           " dtxd[%ld] INFO shard %" SCNu32
		           ": taken at epoch %" SCNu64,
		           &b.pid, &b.shard, &b.epoch) != 3)
			continue;
		if (grow((void **)&ls->bel, &ls->capbel, ls->nbel,
		         sizeof(belief)))
			ls->bel[ls->nbel++] = b;
	}
	if (f != NULL)
		fclose(f);
}

/* shard_rows finds the lease changes of shard: [*lo, *hi). */
static void shard_rows(const lset *ls, uint32_t shard, size_t *lo, size_t *hi)
{
	size_t a = 0, b = ls->n;

	while (a < b) {
		size_t m = a + (b - a) / 2;

		if (ls->rows[m].shard < shard)
			a = m + 1;
		else
			b = m;
	}
	*lo = a;
	for (b = a; b < ls->n && ls->rows[b].shard == shard; b++)
		;
	*hi = b;
}

/* same_epoch_other finds, among the changes of row i's shard, one at
 * row i's epoch made by another process; NULL if none. */
static const lrow *same_epoch_other(const lset *ls, size_t i, size_t hi)
{
	const lrow *r = &ls->rows[i];

	for (size_t j = i + 1; j < hi; j++) {
		const lrow *o = &ls->rows[j];

		if (o->epoch == r->epoch && strcmp(o->owner, "-") != 0 &&
		    strcmp(o->app, r->app) != 0)
			return o;
	}
	return NULL;
}

/* store_owners counts (shard, epoch) pairs the store gave to two
 * processes, and the takeovers. */
static uint64_t store_owners(const lset *ls, epochs_stats *st, char *ev,
                             size_t len)
{
	uint64_t bad = 0;
	size_t lo, hi;

	for (size_t i = 0; i < ls->n; i = hi) {
		const lrow *prev = NULL;

		shard_rows(ls, ls->rows[i].shard, &lo, &hi);
		for (size_t j = lo; j < hi; j++) {
			const lrow *r = &ls->rows[j], *o;

			if (strcmp(r->owner, "-") == 0) {
				prev = NULL;
				continue;
			}
			st->lease_changes++;
			st->takeovers +=
			        prev != NULL && strcmp(prev->app, r->app) != 0;
			prev = r;
			if ((o = same_epoch_other(ls, j, hi)) == NULL)
				continue;
			if (bad++ == 0)
				snprintf(ev, len,
				         "shard %u epoch %" PRIu64
				         " given to %s "
				         "and to %s",
				         (unsigned)r->shard, r->epoch, r->app,
				         o->app);
		}
	}
	return bad;
}

static int by_belief(const void *a, const void *b)
{
	const belief *x = a, *y = b;

	if (x->shard != y->shard)
		return x->shard < y->shard ? -1 : 1;
	if (x->epoch != y->epoch)
		return x->epoch < y->epoch ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* recorded tells whether the store recorded shard at epoch for role. */
static bool recorded(const lset *ls, const belief *b)
{
	size_t lo, hi;

	shard_rows(ls, b->shard, &lo, &hi);
	for (size_t j = lo; j < hi; j++)
		if (ls->rows[j].epoch == b->epoch &&
		    strncmp(ls->rows[j].app, chaos_role_name(b->role),
		            strlen(chaos_role_name(b->role))) == 0 &&
		    ls->rows[j].app[strlen(chaos_role_name(b->role))] == '.')
			return true;
	return false;
}

/* believed counts beliefs shared by two processes or not recorded. */
static uint64_t believed(lset *ls, char *ev, size_t len)
{
	uint64_t bad = 0;

	if (ls->nbel > 0)
		qsort(ls->bel, ls->nbel, sizeof(belief), by_belief);
	for (size_t i = 0; i < ls->nbel; i++) {
		const belief *b = &ls->bel[i], *p = i ? &ls->bel[i - 1] : NULL;
		bool twice = p != NULL && p->shard == b->shard &&
		             p->epoch == b->epoch && p->pid != b->pid;
		bool unknown = !recorded(ls, b);

		if ((twice || unknown) && bad++ == 0 && ev[0] == '\0')
			snprintf(ev, len,
			         "%s (pid %ld) believed it took shard %u at "
			         "epoch %" PRIu64 "%s",
			         chaos_role_name(b->role), b->pid,
			         (unsigned)b->shard, b->epoch,
			         twice ? ", as did another process"
			               : ", which the store never recorded");
	}
	return bad;
}

/* judge_write: the last lease change of the write's shard before it. */
static bool judge_write(const lset *ls, int64_t us, const char *app,
                        uint32_t shard, const lrow **ret_last)
{
	size_t lo, hi, a, b;

	shard_rows(ls, shard, &lo, &hi);
	a = lo;
	b = hi;
	while (a < b) { /* the first change at or after us */
		size_t m = a + (b - a) / 2;

		if (ls->rows[m].us < us)
			a = m + 1;
		else
			b = m;
	}
	*ret_last = a > lo ? &ls->rows[a - 1] : NULL;
	return *ret_last != NULL && strcmp((*ret_last)->owner, "-") != 0 &&
	       strcmp((*ret_last)->app, app) == 0;
}

static uint64_t stale_writes(const char *workdir, const lset *ls,
                             unsigned shards, epochs_stats *st, char *gid,
                             char *ev, size_t len)
{
	char path[PATH_MAX], line[512], app[APP_MAX], g[DTX_GID_MAX + 1];
	uint64_t bad = 0;
	int64_t us;
	const lrow *last;
	FILE *f;

	snprintf(path, sizeof(path), "%s/audit/writes.txt", workdir);
	f = fopen(path, "r");
	while (f != NULL && st->writes < EPOCHS_ROWS_MAX &&
	       fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%" SCNd64 " %31s %128s", &us, app, g) != 3)
			continue;
		st->writes++;
		if (judge_write(ls, us, app, shard_of_gid(g, shards), &last))
			continue;
		if (bad++ == 0) {
			snprintf(gid, DTX_GID_MAX + 1, "%s", g);
			snprintf(ev, len,
			         "%s written by %s at %" PRId64 " us; its "
			         "shard %u was %s's (epoch %" PRIu64 ") since "
			         "%" PRId64 " us",
			         g, app, us, (unsigned)shard_of_gid(g, shards),
			         last ? last->app : "nobody's",
			         last ? last->epoch : 0, last ? last->us : 0);
		}
	}
	if (f != NULL)
		fclose(f);
	return bad;
}

int epochs_check(const char *workdir, unsigned shards, check_result *r,
                 epochs_stats *st)
{
	static lset ls;
	char ev[400] = "", ev2[400] = "", gid[DTX_GID_MAX + 1] = "";
	uint64_t bad, bad2;

	memset(st, 0, sizeof(*st));
	free(ls.rows);
	free(ls.bel);
	memset(&ls, 0, sizeof(ls));
	if (load_leases(workdir, &ls) != 0)
		return -1;
	for (int role = ROLE_DTXD; role < ROLE_BUYER; role++)
		load_beliefs(workdir, role, &ls);
	st->beliefs = ls.nbel;
	bad = store_owners(&ls, st, ev, sizeof(ev));
	bad += believed(&ls, ev, sizeof(ev));
	if (bad == 0)
		snprintf(ev, sizeof(ev),
		         "%" PRIu64 " lease changes, %" PRIu64
		         " takeovers, %" PRIu64 " taken lines: one owner each",
		         st->lease_changes, st->takeovers, st->beliefs);
	check_add(r, "one-owner-per-epoch",
	          "no (shard, epoch) held by two processes, in the store or "
	          "in their beliefs",
	          bad, NULL, ev);
	bad2 = stale_writes(workdir, &ls, shards, st, gid, ev2, sizeof(ev2));
	if (bad2 == 0)
		snprintf(ev2, sizeof(ev2),
		         "%" PRIu64 " transaction writes, each by its shard's "
		         "owner",
		         st->writes);
	check_add(r, "no-stale-write",
	          "every write the store accepted came from the owner of its "
	          "shard's current epoch",
	          bad2, gid[0] ? gid : NULL, ev2);
	return 0;
}

/* ---- the self-test ------------------------------------------------------ */

/* copy_file copies from to to, appending extra (may be NULL) at its end.
 * Returns 0 or -1. */
static int copy_file(const char *from, const char *to, const char *extra)
{
	char buf[65536];
	FILE *in = fopen(from, "r"), *out = fopen(to, "w");
	size_t n;
	int rc = in != NULL && out != NULL ? 0 : -1;

	while (rc == 0 && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		rc = fwrite(buf, 1, n, out) == n ? 0 : -1;
	if (rc == 0 && extra != NULL && fputs(extra, out) < 0)
		rc = -1;
	if (in != NULL)
		fclose(in);
	if (out != NULL && fclose(out) != 0)
		rc = -1;
	return rc;
}

/* copy_run copies the audit and the dtxd logs of workdir to dir, with
 * extra_lease / extra_write (may be NULL) appended. Returns 0 or -1. */
static int copy_run(const char *workdir, const char *dir,
                    const char *extra_lease, const char *extra_write)
{
	static const char *const files[] = {"audit/leases.txt",
	                                    "audit/writes.txt", "logs/dtxd.log",
	                                    "logs/dtxd2.log", "logs/dtxd3.log"};
	char from[PATH_MAX], to[PATH_MAX];
	int rc = 0;

	for (int i = 0; i < 2; i++) {
		snprintf(to, sizeof(to), "%s/%s", dir, i ? "logs" : "audit");
		if (mkdir(to, 0755) != 0)
			return -1;
	}
	for (size_t i = 0; rc == 0 && i < 5; i++) {
		snprintf(from, sizeof(from), "%s/%s", workdir, files[i]);
		snprintf(to, sizeof(to), "%s/%s", dir, files[i]);
		if (i >= 2 && access(from, R_OK) != 0)
			continue; /* fewer instances */
		rc = copy_file(from, to,
		               i == 0   ? extra_lease
		               : i == 1 ? extra_write
		                        : NULL);
	}
	return rc;
}

/* first_lines reads the last lease change and the first write of
 * workdir's audit into the two lines. Returns 0 or -1 (none). */
static int first_lines(const char *workdir, char *lease, char *write,
                       size_t len)
{
	char path[PATH_MAX], line[512];
	FILE *f;

	lease[0] = write[0] = '\0';
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/audit/%s", workdir,
		         i ? "writes.txt" : "leases.txt");
		f = fopen(path, "r");
		while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
			snprintf(i ? write : lease, len, "%s", line);
			if (i)
				break;
		}
		if (f != NULL)
			fclose(f);
	}
	return lease[0] && write[0] ? 0 : -1;
}

/* judge checks the copy in dir: the item named want_fail must fail (NULL:
 * both must pass). Returns 0 if so. */
static int judge(const char *dir, unsigned shards, const char *want_fail)
{
	static check_result r;
	epochs_stats st;
	int rc = 0;

	memset(&r, 0, sizeof(r));
	if (epochs_check(dir, shards, &r, &st) != 0)
		return -1;
	for (size_t i = 0; i < r.nitems; i++) {
		bool should = want_fail && !strcmp(r.items[i].name, want_fail);

		if (want_fail != NULL && !should)
			continue; /* the tampered copy may break more */
		if (r.items[i].ok == should) {
			fprintf(stderr,
			        "dtx-chaos: epochs self-test: %s %s on %s\n",
			        r.items[i].name, should ? "passed" : "failed",
			        dir);
			rc = -1;
		}
	}
	return rc;
}

int epochs_self_test(const char *workdir, unsigned shards)
{
	char lease[512], write[512], extra[2][600], dir[PATH_MAX];
	char app[APP_MAX], owner[APP_MAX], g[DTX_GID_MAX + 1];
	const char *want[3] = {NULL, "one-owner-per-epoch", "no-stale-write"};
	int64_t us;
	uint32_t shard;
	uint64_t epoch;
	int rc = 0;

	if (first_lines(workdir, lease, write, sizeof(lease)) != 0 ||
	    sscanf(lease, "%" SCNd64 " %31s %" SCNu32 " %" SCNu64 " %31s", &us,
	           app, &shard, &epoch, owner) != 5 ||
	    sscanf(write, "%" SCNd64 " %31s %128s", &us, app, g) != 3)
		return -1;
	/* the last lease change again, later, by a process of its own */
	sscanf(lease, "%" SCNd64, &us);
	snprintf(extra[0], sizeof(extra[0]),
	         "%" PRId64 " intruder.1 %" PRIu32 " %" PRIu64 " intruder\n",
	         us + 1, shard, epoch);
	/* the first write again, by a process that never held a lease */
	sscanf(write, "%" SCNd64, &us);
	snprintf(extra[1], sizeof(extra[1]), "%" PRId64 " intruder.1 %s W\n",
	         us, g);
	for (int k = 0; rc == 0 && k < 3; k++) {
		snprintf(dir, sizeof(dir), "%s/epochs-test-%d", workdir, k);
		rc = mkdir(dir, 0755) == 0 &&
		                     copy_run(workdir, dir,
		                              k == 1 ? extra[0] : NULL,
		                              k == 2 ? extra[1] : NULL) == 0
		             ? judge(dir, shards, want[k])
		             : -1;
	}
	printf("epochs self-test: %s\n",
	       rc == 0 ? "a second owner of a (shard, epoch) and a write by a "
	                 "process without the lease are both caught"
	               : "FAILED");
	return rc;
}
