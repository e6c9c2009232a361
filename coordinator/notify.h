/*
 * notify.h - dtxd's messages to its service manager (systemd's sd_notify
 * protocol: a datagram to $NOTIFY_SOCKET). Without NOTIFY_SOCKET every
 * call does nothing, so dtxd runs the same outside systemd.
 */
#ifndef DTX_COORDINATOR_NOTIFY_H
#define DTX_COORDINATOR_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

/* dc_notify_ready says the service is up: recovered and listening
 * (READY=1, with status, a line for systemctl status; borrowed). */
void dc_notify_ready(const char *status);

/* dc_notify_reloading says a reload (SIGHUP) began (RELOADING=1);
 * dc_notify_ready ends it. */
void dc_notify_reloading(void);

/* dc_notify_stopping says the service is stopping (STOPPING=1). */
void dc_notify_stopping(void);

/* dc_notify_watchdog_ms is half the watchdog interval systemd asks for
 * (WatchdogSec=, as $WATCHDOG_USEC for this process), the period at which
 * to call dc_notify_watchdog; 0 when there is no watchdog. */
uint64_t dc_notify_watchdog_ms(void);

/* dc_notify_watchdog pings the watchdog (WATCHDOG=1). */
void dc_notify_watchdog(void);

#endif
