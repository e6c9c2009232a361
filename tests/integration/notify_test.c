/*
 * notify_test.c - dtxd under a service manager (issue 18 item 5): with
 * NOTIFY_SOCKET it sends READY=1 once recovered and listening (never when
 * it cannot start), pings the watchdog at half of WATCHDOG_USEC, says
 * STOPPING=1 on SIGTERM; SIGHUP re-reads the settings, applies the log
 * level, names the changes a restart needs, survives a broken file, and
 * logs each step.
 *
 * The test plays systemd: it binds the datagram socket NOTIFY_SOCKET names
 * and reads what the real dtxd process sends. Every wait is bounded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

#define WAIT_S 10 /* the longest any one message may take */

TestSuite(notify, .fini = th_teardown, .timeout = 90);

typedef struct sd_env {
	th_env *t;
	int sock;                     /* the notify socket, bound */
	char sock_env[PATH_MAX + 32]; /* NOTIFY_SOCKET=... */
	char conf[PATH_MAX];
	int port; /* dtxd's client port */
} sd_env;

/* sd_begin binds the notify socket in the test's directory. */
static void sd_begin(sd_env *s)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {WAIT_S, 0};

	s->t = th_begin();
	th_path(s->t, "notify.sock", sa.sun_path, sizeof(sa.sun_path));
	snprintf(s->sock_env, sizeof(s->sock_env), "NOTIFY_SOCKET=%s",
	         sa.sun_path);
	s->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(s->sock, 0);
	cr_assert_eq(bind(s->sock, (struct sockaddr *)&sa, sizeof(sa)), 0,
	             "bind %s: %s", sa.sun_path, strerror(errno));
	cr_assert_eq(
	        setsockopt(s->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)),
	        0);
	s->port = th_free_port();
	th_path(s->t, "dtxd.conf", s->conf, sizeof(s->conf));
}

/* sd_conf writes dtxd's configuration file: its store and endpoints, and
 * extra lines. */
static void sd_conf(sd_env *s, const char *extra)
{
	FILE *f = fopen(s->conf, "w");

	cr_assert_not_null(f);
	fprintf(f, "store = %s\nlisten = tcp://127.0.0.1:%d\nadmin = none\n%s",
	        s->t->log_dir, s->port, extra);
	cr_assert_eq(fclose(f), 0);
}

/* sd_start starts dtxd --config on s's file with NOTIFY_SOCKET set. */
static th_proc *sd_start(sd_env *s)
{
	const char *argv[] = {th_exe("DTX_DTXD"), "--config", s->conf, NULL};

	if (!s->t->pg_store)
		mkdir(s->t->log_dir, 0755);
	s->t->dtxd = th_spawn_env(s->t, "dtxd", argv, s->sock_env);
	return s->t->dtxd;
}

/* sd_recv_flags returns the next message dtxd sent (static), or NULL
 * after WAIT_S seconds without one (at once with MSG_DONTWAIT). */
static const char *sd_recv_flags(sd_env *s, int flags)
{
	static char msg[4096];
	ssize_t n = recv(s->sock, msg, sizeof(msg) - 1, flags);

	if (n < 0)
		return NULL;
	msg[n] = '\0';
	return msg;
}

static const char *sd_recv(sd_env *s)
{
	return sd_recv_flags(s, 0);
}

/* sd_wait_for returns once a message holding want arrived (asserts it
 * does, within 50 messages); watchdog pings may come between. */
static void sd_wait_for(sd_env *s, const char *want)
{
	for (int i = 0; i < 50; i++) {
		const char *m = sd_recv(s);
		cr_assert_not_null(m, "no '%s' from dtxd within %d s", want,
		                   WAIT_S);
		if (strstr(m, want) != NULL)
			return;
	}
	cr_assert_fail("no '%s' among 50 messages", want);
}

/* can_connect: a TCP connection to 127.0.0.1:port is accepted now. */
static bool can_connect(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

Test(notify, ready_comes_once_recovered_and_listening_and_stopping_on_sigterm)
{
	sd_env s;
	th_proc *p;
	const char *m;

	sd_begin(&s);
	sd_conf(&s, "");
	p = sd_start(&s);
	m = sd_recv(&s);
	cr_assert_not_null(m, "no message within %d s", WAIT_S);
	cr_assert_not_null(strstr(m, "READY=1"), "first message: %s", m);
	/* READY=1 means: the listener accepts, recovery was logged */
	cr_assert(can_connect(s.port), "READY=1 before the listener is up");
	cr_assert(th_log_contains(s.t, "dtxd", "listening on tcp://"));
	cr_assert(th_log_contains(s.t, "dtxd", "recovered 0 non-final"));

	th_proc_kill(p, SIGTERM);
	sd_wait_for(&s, "STOPPING=1");
	cr_assert(th_proc_wait(p, WAIT_S * 1000));
	cr_assert_eq(th_proc_exit_code(p), 0);
	close(s.sock);
	th_end(s.t);
}

Test(notify, no_ready_when_dtxd_cannot_start)
{
	sd_env s;
	th_proc *p, *holder;
	char url[64];
	const char *m;

	sd_begin(&s);
	/* the client port is taken by another dtxd: exit 69, never READY */
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", s.port);
	holder = th_dtxd_start(s.t, "--listen", url, "--admin", "none", NULL);
	th_path(s.t, "log2", s.t->log_dir, sizeof(s.t->log_dir));
	sd_conf(&s, "");
	p = sd_start(&s);
	cr_assert(th_proc_wait(p, WAIT_S * 1000), "dtxd kept running");
	cr_assert_eq(th_proc_exit_code(p), 69);
	/* it has exited: all it sent is queued */
	while ((m = sd_recv_flags(&s, MSG_DONTWAIT)) != NULL)
		cr_assert_null(strstr(m, "READY=1"), "READY=1 sent: %s", m);
	s.t->dtxd = holder;
	close(s.sock);
	th_end(s.t);
}

Test(notify, the_watchdog_is_pinged_from_the_loop)
{
	sd_env s;
	th_proc *p;

	sd_begin(&s);
	sd_conf(&s, "");
	cr_assert_eq(setenv("WATCHDOG_USEC", "200000", 1), 0);
	p = sd_start(&s);
	cr_assert_eq(unsetenv("WATCHDOG_USEC"), 0);
	sd_wait_for(&s, "READY=1");
	for (int i = 0; i < 5; i++)
		sd_wait_for(&s, "WATCHDOG=1");
	cr_assert(th_log_contains(s.t, "dtxd", "a ping every 100 ms"));
	/* a frozen loop stops pinging: SIGSTOP, then nothing comes */
	th_proc_kill(p, SIGSTOP);
	while (sd_recv(&s) != NULL) /* drain, bounded by WAIT_S */
		;
	th_proc_kill(p, SIGCONT);
	sd_wait_for(&s, "WATCHDOG=1");
	close(s.sock);
	th_end(s.t);
}

Test(notify, sighup_switches_the_log_format)
{
	sd_env s;
	th_proc *p;

	sd_begin(&s);
	sd_conf(&s, "log-format = text\n");
	p = sd_start(&s);
	sd_wait_for(&s, "READY=1");
	cr_assert(th_log_contains(s.t, "dtxd", " INFO listening on "));

	sd_conf(&s, "log-format = json\n");
	th_proc_kill(p, SIGHUP);
	sd_wait_for(&s, "RELOADING=1");
	sd_wait_for(&s, "READY=1");
	cr_assert(th_log_contains(s.t, "dtxd",
	                          "SIGHUP: log-format text -> json"));
	th_proc_kill(p, SIGTERM);
	cr_assert(th_proc_wait(p, 10000), "dtxd did not stop");
	cr_assert(th_log_contains(s.t, "dtxd", "\"level\":\"info\",\"pid\":"));
	cr_assert(th_log_contains(s.t, "dtxd", "\"msg\":\"stopped\"}"));
	close(s.sock);
	th_end(s.t);
}

Test(notify, sighup_rereads_the_log_level_and_survives_a_broken_file)
{
	sd_env s;
	th_proc *p;

	sd_begin(&s);
	sd_conf(&s, "log-level = info\n");
	p = sd_start(&s);
	sd_wait_for(&s, "READY=1");

	sd_conf(&s, "log-level = debug\nmax-steps = 9\n");
	th_proc_kill(p, SIGHUP);
	sd_wait_for(&s, "RELOADING=1");
	sd_wait_for(&s, "READY=1");
	cr_assert(th_log_contains(s.t, "dtxd",
	                          "SIGHUP: settings re-read; "
	                          "log-level info -> debug"));
	cr_assert(th_log_contains(s.t, "dtxd",
	                          "applied at the next start "
	                          "only: max-steps"));

	sd_conf(&s, "log-level = loud\n");
	th_proc_kill(p, SIGHUP);
	sd_wait_for(&s, "READY=1");
	cr_assert(th_log_contains(s.t, "dtxd",
	                          "log-level: expected "
	                          "error|warn|info|debug"));
	cr_assert(th_log_contains(s.t, "dtxd", "nothing changed"));
	cr_assert(th_proc_is_alive(p), "SIGHUP killed dtxd");
	close(s.sock);
	th_end(s.t);
}
