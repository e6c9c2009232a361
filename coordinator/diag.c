/*
 * diag.c - stderr diagnostics for dtxd (see diag.h). Formats into a stack
 * buffer and writes it with one write(2), so lines from threads never mix.
 */
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* atomic: SIGHUP sets it on the loop while other threads log */
static _Atomic int max_level = DTX_LOG_INFO;

void dc_diag_set_level(int level)
{
	max_level = level;
}

int dc_diag_enabled(int level)
{
	return level <= max_level;
}

void dc_diag(int level, const char *fmt, ...)
{
	static const char *const names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
	char line[1024];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n;

	if (!dc_diag_enabled(level))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
	             "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ dtxd[%d] %s ",
	             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	             tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, (int)getpid(),
	             names[level & 3]);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}
