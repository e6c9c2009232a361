/*
 * notify.c - sd_notify messages for dtxd (see notify.h). The only file
 * that includes <systemd/sd-daemon.h>.
 *
 * Through libsystemd rather than our own datagram writer: the logs' work
 * of issue 18 (journald, sd_journal_send) links libsystemd anyway, and
 * its sd_notify handles abstract sockets and WATCHDOG_PID checks the way
 * systemd documents them. A message that cannot be sent is not an error
 * of dtxd's: systemd's start timeout or watchdog acts on the silence.
 */
#include "notify.h"

#include <stdio.h>

#include <systemd/sd-daemon.h>

void dc_notify_ready(const char *status)
{
	(void)sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void dc_notify_reloading(void)
{
	(void)sd_notify(0, "RELOADING=1\nSTATUS=reloading (SIGHUP)");
}

void dc_notify_stopping(void)
{
	(void)sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}

uint64_t dc_notify_watchdog_ms(void)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	usec /= 2; /* systemd's advice: ping at half the interval */
	return usec < 1000 ? 1 : usec / 1000;
}

void dc_notify_watchdog(void)
{
	(void)sd_notify(0, "WATCHDOG=1");
}
