/*
 * diag.h - the daemon's diagnostics: one line per event on stderr,
 * "2026-11-22T01:02:03.456Z dtxd[pid] LEVEL message". The code that decides
 * what to do about an error logs it, once (STYLE.md).
 */
#ifndef DTX_COORDINATOR_DIAG_H
#define DTX_COORDINATOR_DIAG_H

#include <dtx/dtx.h>

/* dc_diag_set_level drops lines above level (a dtx_log_level). */
void dc_diag_set_level(int level);

/* dc_diag_enabled tells whether level would be printed. */
int dc_diag_enabled(int level);

/* dc_diag prints one line if level is enabled. Thread-safe (one write). */
void dc_diag(int level, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

#endif
