/*
 * history.c - the buyers' history file (see history.h): writing a line,
 * loading and searching the whole file. Loading is strict: a line that
 * is not in the format stops the load, so the checker never judges a
 * half-read history.
 */
#include "history.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HIST_LINES_MAX 10000000u

static const char *const told_names[TOLD_COUNT] = {"committed", "rolled-back",
                                                   "unknown", "abandoned"};

const char *told_name(told t)
{
	return t < TOLD_COUNT ? told_names[t] : "invalid";
}

int history_write(int fd, const hist_rec *r)
{
	char line[DTX_GID_MAX + 256];
	int n = snprintf(line, sizeof(line), "%s %s %u %u %s %d %u %lld %s\n",
	                 r->gid, chaos_mode_name(r->mode), r->buyer, r->qty,
	                 told_name(r->t), r->commit_sent ? 1 : 0, r->ms,
	                 (long long)r->end_unix_ms,
	                 r->detail[0] != '\0' ? r->detail : "-");

	if (n < 0 || (size_t)n >= sizeof(line)) {
		errno = EOVERFLOW;
		return -1;
	}
	return write(fd, line, (size_t)n) == n ? 0 : -1;
}

static bool parse_name(const char *s, const char *const *names, int count,
                       int *ret)
{
	for (int i = 0; i < count; i++) {
		if (strcmp(s, names[i]) == 0) {
			*ret = i;
			return true;
		}
	}
	return false;
}

static bool parse_line(char *line, hist_rec *r)
{
	static const char *const modes[MODE_COUNT] = {"saga", "tcc", "tcc-sub"};
	char mode[16], t[16];
	int commit, m, k, used = 0;
	long long end;

	memset(r, 0, sizeof(*r));
	line[strcspn(line, "\n")] = '\0';
	if (sscanf(line, "%128s %15s %u %u %15s %d %u %lld %n", r->gid, mode,
	           &r->buyer, &r->qty, t, &commit, &r->ms, &end, &used) != 8 ||
	    !parse_name(mode, modes, MODE_COUNT, &m) ||
	    !parse_name(t, told_names, TOLD_COUNT, &k))
		return false;
	r->mode = (chaos_mode)m;
	r->t = (told)k;
	r->commit_sent = commit != 0;
	r->end_unix_ms = end;
	snprintf(r->detail, sizeof(r->detail), "%s", line + used);
	return true;
}

static int cmp_rec(const void *a, const void *b)
{
	return strcmp(((const hist_rec *)a)->gid, ((const hist_rec *)b)->gid);
}

int history_load(const char *path, hist_rec **ret, size_t *ret_n)
{
	char line[DTX_GID_MAX + 256];
	hist_rec *h = NULL, *grown;
	size_t n = 0, cap = 0;
	FILE *f = fopen(path, "r");

	*ret = NULL;
	*ret_n = 0;
	if (f == NULL)
		return errno == ENOENT ? 0 : -1;
	while (fgets(line, sizeof(line), f) != NULL && n < HIST_LINES_MAX) {
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			grown = realloc(h, cap * sizeof(*h));
			if (grown == NULL)
				goto fail;
			h = grown;
		}
		if (!parse_line(line, &h[n])) {
			fprintf(stderr, "dtx-chaos: %s line %zu is malformed\n",
			        path, n + 1);
			goto fail;
		}
		n++;
	}
	fclose(f);
	if (n > 0) /* qsort's base may not be NULL */
		qsort(h, n, sizeof(*h), cmp_rec);
	*ret = h;
	*ret_n = n;
	return 0;
fail:
	fclose(f);
	free(h);
	return -1;
}

const hist_rec *history_find(const hist_rec *h, size_t n, const char *gid)
{
	hist_rec probe;

	if (n == 0)
		return NULL;
	snprintf(probe.gid, sizeof(probe.gid), "%s", gid);
	return bsearch(&probe, h, n, sizeof(*h), cmp_rec);
}
