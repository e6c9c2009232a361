/*
 * main.c - dtxd, the dtx coordinator daemon: flags, signals, the loop.
 *
 * Everything else lives in the coordinator library (engine.c and friends),
 * so tests link the same code. Exit codes follow <sysexits.h>: 0 after
 * SIGTERM/SIGINT, 64 bad usage, 65 a log that is corrupt or of a newer
 * format, 69 cannot listen, 74 I/O error on the log (also mid-run: a failed
 * commit stops the process, crash-only), 75 another dtxd holds the log
 * directory, 70 anything else. A stop that
 * has not finished 10 s after the signal exits 0 anyway (on_stop_overdue).
 *
 * Under systemd (Type=notify, coordinator/notify.h) dtxd says READY=1 once
 * recovered and listening, STOPPING=1 on SIGTERM, and pings the watchdog
 * from the loop. SIGHUP re-reads the settings (the same flags, variables
 * and file) and applies the log level and format; it reads the TLS files
 * again (those it started with: certificates renewed in place) for new
 * connections; it logs what changed and what would need a restart, and
 * keeps everything when the settings have a problem.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sysexits.h>
#include <unistd.h>

#include <uv.h>

#include "config.h"
#include "diag.h"
#include "engine.h"
#include "notify.h"
#include "settings.h"

extern char **environ;

#define STOP_BOUND_S    10 /* see on_stop_overdue */
#define STOP_BOUND_TEXT "10"

typedef struct daemon_state {
	dc_engine *engine;
	uv_signal_t sigterm;
	uv_signal_t sigint;
	uv_signal_t sighup;
	uv_timer_t watchdog; /* started when systemd asks for pings */
	bool watching;
	dc_config *cfg; /* as started; SIGHUP changes its log_level */
	int argc;       /* for SIGHUP's re-read */
	char **argv;
} daemon_state;

/* on_stop_overdue ends a stop that nng's socket close holds up: nng 1.5.2
 * can deadlock in nng_close (nanomsg/nng#1543, #1813; seen by the chaos
 * harness about once in 100 stops). Every commit of the log is durable
 * when it returns, so leaving now is as safe as a crash (rule 4), and the
 * stop was asked for: exit 0, with a line that says why. Only
 * async-signal-safe calls here. */
static void on_stop_overdue(int signum)
{
	static const char msg[] =
	        "dtxd: stop took longer than " STOP_BOUND_TEXT
	        " s (nng close deadlock, nanomsg/nng#1543): exiting; the log "
	        "is durable\n";

	(void)signum;
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(0);
}

static void on_signal(uv_signal_t *h, int signum)
{
	daemon_state *d = h->data;

	signal(SIGALRM, on_stop_overdue);
	alarm(STOP_BOUND_S);
	dc_diag(DTX_LOG_INFO, "signal %d: stopping", signum);
	dc_notify_stopping();
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sigint, NULL);
	uv_close((uv_handle_t *)&d->sighup, NULL);
	if (d->watching)
		uv_close((uv_handle_t *)&d->watchdog, NULL);
	dc_engine_stop(d->engine);
}

static const char *level_name(int level)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};

	return names[level & 3];
}

/* log_lines logs each line of text (a settings problem) at level. */
static void log_lines(int level, const char *text)
{
	while (text != NULL && *text != '\0') {
		size_t n = strcspn(text, "\n");
		dc_diag(level, "SIGHUP: %.*s", (int)n, text);
		text += n + (text[n] == '\n');
	}
}

/* reload_tls reads the TLS files dtxd started with again (a certificate
 * renewed in place), for new connections; a path changed in the settings
 * is named with the changes a restart applies. nng 1.5.2 takes a
 * listener's configuration when it posts an accept, so the one connection
 * each listener is about to accept still gets the old files; every later
 * one gets the new. */
static void reload_tls(daemon_state *d)
{
	char why[512] = "";

	if (!tlsconf_is_set(&d->cfg->tls))
		return;
	if (dc_engine_reload_tls(d->engine, d->cfg, why, sizeof(why)) != DTX_OK)
		dc_diag(DTX_LOG_ERROR,
		        "SIGHUP: TLS files not reloaded, the ones in use "
		        "stay: %s",
		        why);
	else
		dc_diag(DTX_LOG_INFO, "SIGHUP: TLS certificates, key and CAs "
		                      "reloaded for new connections");
}

/* reload is SIGHUP's work: re-read the settings from the same sources;
 * apply the log level and format, name the other changes (a restart
 * applies them). A problem keeps every setting as it is. */
static void reload(daemon_state *d)
{
	dc_settings *s = NULL;
	dc_config next;
	char *msg = NULL, changed[512];
	size_t len = 0;
	FILE *cap = open_memstream(&msg, &len);
	int rv = DC_CONFIG_USAGE;

	if (cap != NULL) {
		rv = dc_settings_load(&next, d->argc, d->argv, environ, cap,
		                      cap, &s);
		fclose(cap);
	}
	if (rv != DC_CONFIG_OK) {
		log_lines(DTX_LOG_ERROR, msg);
		dc_diag(DTX_LOG_ERROR, "SIGHUP: the settings have problems: "
		                       "nothing changed");
	} else {
		dc_diag(DTX_LOG_INFO,
		        "SIGHUP: settings re-read; log-level %s "
		        "-> %s",
		        level_name(d->cfg->log_level),
		        level_name(next.log_level));
		dc_diag_set_level(next.log_level);
		d->cfg->log_level = next.log_level;
		if (next.log_format != d->cfg->log_format)
			dc_diag(DTX_LOG_INFO, "SIGHUP: log-format %s -> %s",
			        dc_diag_format_name(d->cfg->log_format),
			        dc_diag_format_name(next.log_format));
		dc_diag_set_format(next.log_format);
		d->cfg->log_format = next.log_format;
		reload_tls(d);
		if (dc_settings_changed(d->cfg, &next, changed,
		                        sizeof(changed)) > 0)
			dc_diag(DTX_LOG_WARN,
			        "SIGHUP: changed, applied at the "
			        "next start only: %s",
			        changed);
	}
	free(msg);
	dc_settings_destroy(s);
}

static void on_hup(uv_signal_t *h, int signum)
{
	(void)signum;
	dc_notify_reloading();
	reload(h->data);
	dc_notify_ready("reloaded");
}

static void on_watchdog(uv_timer_t *t)
{
	(void)t;
	dc_notify_watchdog();
}

/* start_signals takes SIGTERM, SIGINT and SIGHUP on the loop, and pings
 * systemd's watchdog from it when asked to (a stuck loop stops pinging). */
static void start_signals(daemon_state *d)
{
	uint64_t ping_ms = dc_notify_watchdog_ms();
	uv_loop_t *loop = uv_default_loop();

	uv_signal_init(loop, &d->sigterm);
	uv_signal_init(loop, &d->sigint);
	uv_signal_init(loop, &d->sighup);
	d->sigterm.data = d->sigint.data = d->sighup.data = d;
	uv_signal_start(&d->sigterm, on_signal, SIGTERM);
	uv_signal_start(&d->sigint, on_signal, SIGINT);
	uv_signal_start(&d->sighup, on_hup, SIGHUP);
	if (ping_ms > 0) {
		uv_timer_init(loop, &d->watchdog);
		uv_timer_start(&d->watchdog, on_watchdog, ping_ms, ping_ms);
		d->watching = true;
		dc_diag(DTX_LOG_INFO, "systemd watchdog: a ping every %llu ms",
		        (unsigned long long)ping_ms);
	}
}

static int exit_code(int err)
{
	switch (err) {
	case DTX_ECORRUPT:
	case DTX_EVERSION:
		return EX_DATAERR;
	case DTX_EIO:
	case DTX_ENOSPC:
		return EX_IOERR;
	case DTX_EUNREACHABLE:
	case DTX_EINVAL:
		return EX_UNAVAILABLE;
	case DTX_EBUSY: /* another dtxd writes this log */
		return EX_TEMPFAIL;
	case DTX_ECONFLICT: /* a store made for another --shards */
		return EX_USAGE;
	default:
		return EX_SOFTWARE;
	}
}

/* write_ready_file tells scripts we are up: pid, written atomically. */
static int write_ready_file(const char *path)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		return -1;
	fprintf(f, "%d\n", (int)getpid());
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		return -1;
	return 0;
}

static void announce(const dc_config *cfg, dc_engine *e)
{
	const dc_recovery *r = dc_engine_recovery(e);

	if (dc_config_leases(cfg))
		/* nothing is recovered at start: a shard's transactions are,
		 * when its lease is taken ("shard N: taken ..., recovered") */
		dc_diag(DTX_LOG_INFO,
		        "instance %s on %s: shard leases; each shard's "
		        "non-final transactions are recovered as its lease is "
		        "taken",
		        cfg->instance, dc_engine_store(e));
	else
		dc_diag(DTX_LOG_INFO,
		        "recovered %llu non-final transactions (running %llu, "
		        "compensating %llu, confirming %llu, cancelling %llu) "
		        "from %s "
		        "in %.1f ms",
		        (unsigned long long)(r->running + r->compensating +
		                             r->confirming + r->cancelling),
		        (unsigned long long)r->running,
		        (unsigned long long)r->compensating,
		        (unsigned long long)r->confirming,
		        (unsigned long long)r->cancelling, dc_engine_store(e),
		        r->millis);
	if (r->quarantined > 0)
		dc_diag(DTX_LOG_WARN,
		        "%llu transactions are quarantined and not driven "
		        "(dtxctl list --needs-operator)",
		        (unsigned long long)r->quarantined);
	for (size_t i = 0; i < cfg->nlisten; i++)
		dc_diag(DTX_LOG_INFO, "listening on %s", cfg->listen[i]);
}

/* raise_fd_limit raises the soft descriptor limit to the hard one (every
 * connection costs a descriptor; at 1,024 a few idle clients could lock
 * out the rest), logs both, and sizes --max-conns from it unless given. */
static void raise_fd_limit(dc_config *cfg)
{
	struct rlimit rl;
	rlim_t was = 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		rl.rlim_cur = rl.rlim_max = was;
	} else {
		was = rl.rlim_cur;
		rl.rlim_cur = rl.rlim_max;
		if (rl.rlim_cur != was && setrlimit(RLIMIT_NOFILE, &rl) != 0)
			rl.rlim_cur = was;
	}
	if (cfg->max_conns == 0)
		cfg->max_conns = dc_config_conns_for_fds((uint64_t)rl.rlim_cur);
	dc_diag(DTX_LOG_INFO,
	        "descriptors: soft limit %llu (was %llu), hard %llu; at most "
	        "%u client connections",
	        (unsigned long long)rl.rlim_cur, (unsigned long long)was,
	        (unsigned long long)rl.rlim_max, cfg->max_conns);
	if (cfg->max_conns + (uint64_t)cfg->max_peers + 64 > rl.rlim_cur)
		dc_diag(DTX_LOG_WARN,
		        "--max-conns %u and --max-peers %u may not fit in %llu "
		        "descriptors",
		        cfg->max_conns, cfg->max_peers,
		        (unsigned long long)rl.rlim_cur);
}

int main(int argc, char **argv)
{
	daemon_state d = {0};
	dc_settings *settings;
	dc_config cfg;
	char err[512] = "";
	int rv;

	/* cfg borrows its strings from settings: both live until exit */
	rv = dc_settings_load(&cfg, argc, argv, environ, stdout, stderr,
	                      &settings);
	if (rv != DC_CONFIG_OK) {
		dc_settings_destroy(settings);
		return rv == DC_CONFIG_EXIT ? 0 : EX_USAGE;
	}
	dc_diag_set_level(cfg.log_level);
	dc_diag_set_format(cfg.log_format);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN); /* until the loop takes it: never a kill */
	if (dc_config_has_fault_points())
		dc_diag(DTX_LOG_WARN, "test build: fault points are compiled "
		                      "in (DTX_FAULT); production builds use "
		                      "-Dfault_points=false");
	if (dc_settings_file(settings) != NULL)
		dc_diag(DTX_LOG_INFO,
		        "settings from %s (then DTX_* variables, "
		        "then flags)",
		        dc_settings_file(settings));
	raise_fd_limit(&cfg);

	rv = dc_engine_create(uv_default_loop(), &cfg, &d.engine, err,
	                      sizeof(err));
	if (rv != DTX_OK) {
		dc_diag(DTX_LOG_ERROR, "cannot start: %s (%s)",
		        err[0] ? err : dtx_strerror(rv), dtx_strerror(rv));
		dc_settings_destroy(settings);
		return exit_code(rv);
	}
	announce(&cfg, d.engine);
	d.cfg = &cfg;
	d.argc = argc;
	d.argv = argv;
	start_signals(&d);
	if (cfg.ready_file && write_ready_file(cfg.ready_file) != 0)
		dc_diag(DTX_LOG_WARN, "cannot write ready file %s",
		        cfg.ready_file);
	dc_notify_ready("recovered; listening");

	uv_run(uv_default_loop(), UV_RUN_DEFAULT);
	dc_engine_destroy(d.engine);
	uv_loop_close(uv_default_loop());
	dc_diag(DTX_LOG_INFO, "stopped");
	dc_settings_destroy(settings);
	return 0;
}
