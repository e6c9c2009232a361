/*
 * fault.c - crash points armed by DTX_FAULT (see fault.h). Compiled empty
 * unless DTX_FAULT_POINTS is defined. Reads the environment once; counts
 * hits with an atomic so any thread may hit a point. Hold points
 * (DTX_HOLD) wait on a file instead of crashing.
 */
#include "fault.h"

#ifdef DTX_FAULT_POINTS

#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static atomic_ulong hits;

/* armed returns the hit count at which name must crash, or 0 if it is not
 * the armed point. */
static unsigned long armed(const char *name)
{
	const char *spec = getenv("DTX_FAULT");
	size_t n = strlen(name);

	if (spec == NULL || strncmp(spec, name, n) != 0)
		return 0;
	if (spec[n] == '\0')
		return 1;
	if (spec[n] != ':')
		return 0;
	return strtoul(spec + n + 1, NULL, 10);
}

void fault_point_hit(const char *name)
{
	unsigned long at = armed(name);
	char line[160];
	int len;

	if (at == 0 || atomic_fetch_add(&hits, 1) + 1 != at)
		return;
	len = snprintf(line, sizeof(line), "dtx fault point %s hit\n", name);
	(void)!write(STDERR_FILENO, line, (size_t)len);
	kill(getpid(), SIGKILL);
	_exit(137); /* not reached */
}

/* hold_file returns the file a hold of name waits on, or NULL. */
static const char *hold_file(const char *name)
{
	const char *spec = getenv("DTX_HOLD");
	size_t n = strlen(name);

	if (spec == NULL || strncmp(spec, name, n) != 0 || spec[n] != '@')
		return NULL;
	return spec + n + 1;
}

void fault_hold(const char *name)
{
	const char *path = hold_file(name);
	char held[4096];
	int fd;

	if (path == NULL || access(path, F_OK) != 0)
		return;
	snprintf(held, sizeof(held), "%s.held", path);
	if ((fd = open(held, O_WRONLY | O_CREAT, 0644)) >= 0)
		close(fd);
	for (int ms = 0; ms < 60000 && access(path, F_OK) == 0; ms += 5)
		usleep(5000);
}

#else
typedef int fault_points_are_off; /* ISO C: no empty translation unit */
#endif
