/*
 * pgtmp.c - a throw-away PostgreSQL cluster (see pgtmp.h).
 *
 * Owns the cluster's directory and its postmaster (a child of the calling
 * process). Never touches a cluster it did not start, never waits without
 * a bound, never asserts (benchmarks use it too).
 */
#include "pgtmp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#define PG_BIN_DEFAULT "/usr/lib/postgresql/15/bin"
#define INITDB_WAIT    120000 /* ms: initdb on a loaded 2-core machine */
#define POLL_MS        20

struct pgtmp {
	char dir[64];  /* /tmp/dtx-pg-XXXXXX, the unix socket's too */
	char data[96]; /* dir/data */
	pid_t pid;     /* the postmaster; 0 once gone */
	int port;      /* loopback TCP */
	char name[32]; /* cluster_name: a standby's application_name */
	char uri[PGTMP_URI_MAX];
	char admin[PGTMP_URI_MAX];
};

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen,
                                                      const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static const char *pg_bin(void)
{
	const char *b = getenv("DTX_PG_BIN");

	return b != NULL && b[0] != '\0' ? b : PG_BIN_DEFAULT;
}

static int free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd, port = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* ---- processes --------------------------------------------------------- */

/* child_exec runs in the forked child: output to log, the postgres user's
 * identity when we are root, PR_SET_PDEATHSIG when asked, then argv. */
static void child_exec(const char *const argv[], const char *log, bool pdeath,
                       pid_t parent)
{
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	int nul = open("/dev/null", O_RDONLY);

	if (fd < 0 || nul < 0 || dup2(nul, 0) < 0 || dup2(fd, 1) < 0 ||
	    dup2(fd, 2) < 0)
		_exit(126);
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam("postgres");

		if (pw == NULL || setgroups(0, NULL) != 0 ||
		    setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
			_exit(126);
	}
	/* After setuid: a change of credentials clears the death signal. */
	if (pdeath &&
	    (prctl(PR_SET_PDEATHSIG, SIGQUIT) != 0 || getppid() != parent))
		_exit(126);
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

static pid_t spawn(const char *const argv[], const char *log, bool pdeath)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid == 0)
		child_exec(argv, log, pdeath, parent);
	return pid;
}

/* wait_gone waits up to ms for pid to exit; *status gets its wait status
 * when we reaped it (-1 if someone else did). True if it is gone. */
static bool wait_gone(pid_t pid, int ms, int *status)
{
	for (int waited = 0;; waited += POLL_MS) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return true;
		if (r < 0 && errno == ECHILD && kill(pid, 0) < 0 &&
		    errno == ESRCH) {
			*status = -1;
			return true;
		}
		if (waited >= ms)
			return false;
		sleep_ms(POLL_MS);
	}
}

/* ---- start ------------------------------------------------------------- */

static int make_dir(pgtmp *pg, char *err, size_t errlen)
{
	snprintf(pg->dir, sizeof(pg->dir), "/tmp/dtx-pg-XXXXXX");
	if (mkdtemp(pg->dir) == NULL)
		return fail(err, errlen, "mkdtemp: %s", strerror(errno));
	snprintf(pg->data, sizeof(pg->data), "%s/data", pg->dir);
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam("postgres");

		if (pw == NULL)
			return fail(err, errlen,
			            "no user postgres (install "
			            "postgresql-15)");
		if (chown(pg->dir, pw->pw_uid, pw->pw_gid) != 0)
			return fail(err, errlen, "chown %s: %s", pg->dir,
			            strerror(errno));
	}
	return 0;
}

static int run_initdb(pgtmp *pg, char *err, size_t errlen)
{
	char exe[256], log[128];
	const char *argv[] = {exe,     "-D",         pg->data,    "-A",
	                      "trust", "-U",         "postgres",  "-E",
	                      "UTF8",  "--locale=C", "--no-sync", NULL};
	int status = 0;
	pid_t pid;

	snprintf(exe, sizeof(exe), "%s/initdb", pg_bin());
	snprintf(log, sizeof(log), "%s/initdb.log", pg->dir);
	pid = spawn(argv, log, true);
	if (pid < 0)
		return fail(err, errlen, "fork: %s", strerror(errno));
	if (!wait_gone(pid, INITDB_WAIT, &status)) {
		kill(pid, SIGKILL);
		wait_gone(pid, 5000, &status);
		return fail(err, errlen, "initdb took over %d ms", INITDB_WAIT);
	}
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return fail(err, errlen, "initdb failed (status %d): see %s",
		            status, log);
	return 0;
}

/* run_postgres starts the postmaster on pg->data, on pg->port (a free
 * one picked first when it is 0), as pg->name's cluster_name. */
static int run_postgres(pgtmp *pg, char *err, size_t errlen)
{
	char exe[256], log[128], port[16], name[sizeof(pg->name) + 16];
	const char *argv[] = {exe,
	                      "-D",
	                      pg->data,
	                      "-k",
	                      pg->dir,
	                      "-p",
	                      port,
	                      "-c",
	                      "listen_addresses=127.0.0.1",
	                      "-c",
	                      "fsync=on",
	                      "-c",
	                      "synchronous_commit=on",
	                      "-c",
	                      "max_connections=200",
	                      "-c",
	                      name,
	                      NULL};

	if (pg->port == 0)
		pg->port = free_port();
	if (pg->port < 0)
		return fail(err, errlen, "no free port: %s", strerror(errno));
	snprintf(name, sizeof(name), "cluster_name=%s",
	         pg->name[0] ? pg->name : "pgtmp");
	snprintf(exe, sizeof(exe), "%s/postgres", pg_bin());
	snprintf(log, sizeof(log), "%s/server.log", pg->dir);
	snprintf(port, sizeof(port), "%d", pg->port);
	pg->pid = spawn(argv, log, true);
	if (pg->pid < 0) {
		pg->pid = 0;
		return fail(err, errlen, "fork: %s", strerror(errno));
	}
	return 0;
}

/* wait_ready pings the server until it accepts logins, it exits, or
 * PGTMP_START_WAIT passes. */
static int wait_ready(pgtmp *pg, char *err, size_t errlen)
{
	char ping[PGTMP_URI_MAX + 32];
	int status;

	snprintf(ping, sizeof(ping), "%s&connect_timeout=2", pg->admin);
	for (int waited = 0; waited < PGTMP_START_WAIT; waited += POLL_MS) {
		if (PQping(ping) == PQPING_OK)
			return 0;
		if (waitpid(pg->pid, &status, WNOHANG) == pg->pid) {
			pg->pid = 0;
			return fail(
			        err, errlen,
			        "postgres exited at start: see %s/server.log",
			        pg->dir);
		}
		sleep_ms(POLL_MS);
	}
	return fail(err, errlen,
	            "postgres not ready after %d ms: see "
	            "%s/server.log",
	            PGTMP_START_WAIT, pg->dir);
}

static void set_uris(pgtmp *pg)
{
	snprintf(pg->admin, sizeof(pg->admin),
	         "postgresql://postgres@/postgres?host=%s&port=%d", pg->dir,
	         pg->port);
	snprintf(pg->uri, sizeof(pg->uri),
	         "postgresql://" PGTMP_ROLE "@/dtx?host=%s&port=%d", pg->dir,
	         pg->port);
}

pgtmp *pgtmp_start(char *err, size_t errlen)
{
	pgtmp *pg = calloc(1, sizeof(*pg));

	if (pg == NULL) {
		fail(err, errlen, "out of memory");
		return NULL;
	}
	if (make_dir(pg, err, errlen) != 0 ||
	    run_initdb(pg, err, errlen) != 0 ||
	    run_postgres(pg, err, errlen) != 0)
		goto fail;
	set_uris(pg);
	/* Two calls: CREATE DATABASE refuses a multi-statement string. */
	if (wait_ready(pg, err, errlen) != 0 ||
	    pgtmp_sql(pg->admin, NULL, "CREATE ROLE " PGTMP_ROLE " LOGIN", err,
	              errlen) != 0 ||
	    pgtmp_sql(pg->admin, NULL, "CREATE DATABASE dtx OWNER " PGTMP_ROLE,
	              err, errlen) != 0)
		goto fail;
	return pg;
fail:
	pgtmp_stop(pg);
	return NULL;
}

/* ---- stop -------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* signal_wait sends sig to the postmaster and waits up to ms for it. */
static bool signal_wait(pgtmp *pg, int sig, int ms)
{
	int status;

	if (pg->pid == 0)
		return true;
	kill(pg->pid, sig);
	if (!wait_gone(pg->pid, ms, &status))
		return false;
	pg->pid = 0;
	return true;
}

void pgtmp_kill(pgtmp *pg)
{
	/* SIGQUIT: immediate shutdown, every backend drops its client. */
	if (!signal_wait(pg, SIGQUIT, 5000))
		signal_wait(pg, SIGKILL, 5000);
}

void pgtmp_stop(pgtmp *pg)
{
	if (pg == NULL)
		return;
	/* Immediate shutdown (pg_ctl stop -m immediate), not fast: the
	 * directory goes next, so a fast shutdown's checkpoint would only
	 * fsync every database the tests made (~10 s on a loaded machine). */
	pgtmp_kill(pg);
	if (pg->dir[0] != '\0')
		nftw(pg->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(pg);
}

/* ---- URIs and SQL ------------------------------------------------------ */

/* uri_for builds a URI on the cluster of admin_uri: its unix socket, or
 * (tcp) 127.0.0.1 on its port. */
static int uri_for(const char *admin_uri, const char *db, const char *user,
                   bool tcp, char *uri, size_t urilen)
{
	PQconninfoOption *opts = PQconninfoParse(admin_uri, NULL);
	const char *host = NULL, *port = NULL;
	int n;

	if (opts == NULL)
		return -1;
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
		if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			port = o->val;
	}
	if (tcp)
		n = snprintf(uri, urilen, "postgresql://%s@127.0.0.1:%s/%s",
		             user, port ? port : "5432", db);
	else
		n = snprintf(uri, urilen, "postgresql://%s@/%s?host=%s&port=%s",
		             user, db, host ? host : "", port ? port : "5432");
	PQconninfoFree(opts);
	return n > 0 && (size_t)n < urilen ? 0 : -1;
}

const char *pgtmp_uri(const pgtmp *pg)
{
	return pg->uri;
}

const char *pgtmp_admin_uri(const pgtmp *pg)
{
	return pg->admin;
}

int pgtmp_port(const pgtmp *pg)
{
	return pg->port;
}

int pgtmp_uri_for(const char *admin_uri, const char *db, const char *user,
                  char *uri, size_t urilen)
{
	return uri_for(admin_uri, db, user, false, uri, urilen);
}

int pgtmp_tcp_uri_for(const char *admin_uri, const char *db, const char *user,
                      char *uri, size_t urilen)
{
	return uri_for(admin_uri, db, user, true, uri, urilen);
}

int pgtmp_sql(const char *admin_uri, const char *db, const char *sql, char *err,
              size_t errlen)
{
	char uri[PGTMP_URI_MAX];
	PGconn *c;
	PGresult *r;
	int rc = 0;

	if (db == NULL)
		snprintf(uri, sizeof(uri), "%s", admin_uri);
	else if (pgtmp_uri_for(admin_uri, db, "postgres", uri, sizeof(uri)))
		return fail(err, errlen, "bad admin URI %s", admin_uri);
	c = PQconnectdb(uri);
	if (PQstatus(c) != CONNECTION_OK) {
		rc = fail(err, errlen, "connect %s: %s", uri,
		          PQerrorMessage(c));
		PQfinish(c);
		return rc;
	}
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = fail(err, errlen, "%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return rc;
}

int pgtmp_create_db(const char *admin_uri, const char *name, char *uri,
                    size_t urilen, char *err, size_t errlen)
{
	char sql[128];
	size_t n = strlen(name);

	if (n == 0 || n > 48 ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
		return fail(err, errlen, "bad database name '%s'", name);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s OWNER " PGTMP_ROLE,
	         name);
	if (pgtmp_sql(admin_uri, NULL, sql, err, errlen) != 0)
		return -1;
	if (pgtmp_uri_for(admin_uri, name, PGTMP_ROLE, uri, urilen) != 0)
		return fail(err, errlen, "URI too long");
	return 0;
}

int pgtmp_shared_main(int argc, char **argv, int (*run)(int argc, char **argv))
{
	char err[512];
	pgtmp *pg;
	int rc;

	if (getenv(PGTMP_ENV_ADMIN) != NULL)
		return run(argc, argv); /* a cluster given from outside */
	pg = pgtmp_start(err, sizeof(err));
	if (pg == NULL) {
		fprintf(stderr, "pgtmp: %s\n", err);
		return 1;
	}
	setenv(PGTMP_ENV_URI, pgtmp_uri(pg), 1);
	setenv(PGTMP_ENV_ADMIN, pgtmp_admin_uri(pg), 1);
	rc = run(argc, argv);
	pgtmp_stop(pg);
	return rc;
}

/* ---- restarts, standbys, lost machines --------------------------------- */

/* run_tool runs a PostgreSQL tool (argv[0] a name in pg_bin) as the
 * postgres user when we are root, output appended to log, and waits up
 * to ms for it. Returns 0 if it exited 0, else -1 with a reason. */
static int run_tool(const char *const argv[], const char *log, int ms,
                    char *err, size_t errlen)
{
	char exe[256];
	const char *args[24];
	int status = 0, n = 0;
	pid_t pid;

	snprintf(exe, sizeof(exe), "%s/%s", pg_bin(), argv[0]);
	args[n++] = exe;
	while (argv[n] != NULL && n < 23) {
		args[n] = argv[n];
		n++;
	}
	args[n] = NULL;
	pid = spawn(args, log, true);
	if (pid < 0)
		return fail(err, errlen, "fork: %s", strerror(errno));
	if (!wait_gone(pid, ms, &status)) {
		kill(pid, SIGKILL);
		wait_gone(pid, 5000, &status);
		return fail(err, errlen, "%s took over %d ms: see %s", argv[0],
		            ms, log);
	}
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return fail(err, errlen, "%s failed (status %d): see %s",
		            argv[0], status, log);
	return 0;
}

int pgtmp_restart(pgtmp *pg, bool fast, char *err, size_t errlen)
{
	/* SIGINT: fast shutdown (sessions ended, a shutdown checkpoint);
	 * SIGQUIT: immediate (crash recovery at the next start). */
	if (!signal_wait(pg, fast ? SIGINT : SIGQUIT, PGTMP_START_WAIT)) {
		pgtmp_kill(pg);
		return fail(err, errlen, "postgres did not stop within %d ms",
		            PGTMP_START_WAIT);
	}
	if (run_postgres(pg, err, errlen) != 0)
		return -1;
	return wait_ready(pg, err, errlen);
}

/* children lists up to max processes whose parent is parent (from
 * /proc/N/stat). Returns how many. */
static int children(pid_t parent, pid_t *out, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL && n < max) {
		char path[300], buf[512], *rp;
		long ppid = 0;
		ssize_t len;
		int fd;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		/* "pid (comm) state ppid ...": comm may hold spaces. */
		rp = strrchr(buf, ')');
		if (rp != NULL && sscanf(rp + 1, " %*c %ld", &ppid) == 1 &&
		    ppid == (long)parent)
			out[n++] = (pid_t)atol(e->d_name);
	}
	closedir(d);
	return n;
}

void pgtmp_crash(pgtmp *pg)
{
	pid_t kids[256];
	int n, status;

	if (pg->pid == 0)
		return;
	/* The list first: once the postmaster is gone its children belong
	 * to init and can no longer be told apart. */
	n = children(pg->pid, kids, 256);
	kill(pg->pid, SIGKILL);
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	if (wait_gone(pg->pid, 5000, &status))
		pg->pid = 0;
	/* Let the kernel close their sockets before the caller goes on. */
	for (int i = 0; i < n; i++)
		for (int waited = 0; waited < 5000 && kill(kids[i], 0) == 0;
		     waited += POLL_MS)
			sleep_ms(POLL_MS);
}

void pgtmp_freeze(pgtmp *pg, bool frozen)
{
	pid_t kids[256];
	int n, sig = frozen ? SIGSTOP : SIGCONT;

	if (pg->pid == 0)
		return;
	n = children(pg->pid, kids, 256);
	kill(pg->pid, sig);
	for (int i = 0; i < n; i++)
		kill(kids[i], sig);
}

pid_t pgtmp_child_pid(const pgtmp *pg, const char *role)
{
	pid_t kids[256];
	int n = pg->pid ? children(pg->pid, kids, 256) : 0;

	for (int i = 0; i < n; i++) {
		char path[64], cmd[256];
		ssize_t len;
		int fd;

		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)kids[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, cmd, sizeof(cmd) - 1);
		close(fd);
		if (len <= 0)
			continue;
		cmd[len] = '\0';
		if (strstr(cmd, role) != NULL)
			return kids[i];
	}
	return 0;
}

int pgtmp_sql_value(const char *admin_uri, const char *sql, char *out,
                    size_t outlen, char *err, size_t errlen)
{
	PGconn *c = PQconnectdb(admin_uri);
	PGresult *r;
	int rc = 0;

	if (PQstatus(c) != CONNECTION_OK) {
		rc = fail(err, errlen, "connect %s: %s", admin_uri,
		          PQerrorMessage(c));
		PQfinish(c);
		return rc;
	}
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = fail(err, errlen, "%s: %s", sql, PQerrorMessage(c));
	else if (PQntuples(r) < 1 || PQnfields(r) < 1)
		snprintf(out, outlen, "%s", "");
	else
		snprintf(out, outlen, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(c);
	return rc;
}

/* wait_value polls sql on admin_uri until its first cell is want, up to
 * PGTMP_START_WAIT. */
static int wait_value(const char *admin_uri, const char *sql, const char *want,
                      char *err, size_t errlen)
{
	char got[64] = "";

	for (int waited = 0; waited < PGTMP_START_WAIT; waited += POLL_MS) {
		if (pgtmp_sql_value(admin_uri, sql, got, sizeof(got), err,
		                    errlen) == 0 &&
		    strcmp(got, want) == 0)
			return 0;
		sleep_ms(POLL_MS);
	}
	return fail(err, errlen, "%s gave '%s', not '%s', for %d ms", sql, got,
	            want, PGTMP_START_WAIT);
}

/* base_backup copies primary into sb->data with pg_basebackup -R (a
 * standby.signal and primary_conninfo naming the primary's socket). */
static int base_backup(const pgtmp *primary, pgtmp *sb, char *err,
                       size_t errlen)
{
	char conn[256], log[128];
	const char *argv[] = {
	        "pg_basebackup", "-D", sb->data, "-d",        conn, "-R", "-X",
	        "stream",        "-c", "fast",   "--no-sync", NULL};

	snprintf(conn, sizeof(conn), "host=%s port=%d user=postgres",
	         primary->dir, primary->port);
	snprintf(log, sizeof(log), "%s/basebackup.log", sb->dir);
	return run_tool(argv, log, INITDB_WAIT, err, errlen);
}

/* standby_sync makes primary's commits wait for sb (or stop waiting for
 * any standby) and waits until the primary reports it so. */
static int standby_sync(const pgtmp *primary, const pgtmp *sb, bool sync,
                        char *err, size_t errlen)
{
	char sql[160], want[64];

	snprintf(sql, sizeof(sql),
	         "ALTER SYSTEM SET synchronous_standby_names = '%s'",
	         sync ? sb->name : "");
	if (pgtmp_sql(primary->admin, NULL, sql, err, errlen) != 0 ||
	    pgtmp_sql(primary->admin, NULL, "SELECT pg_reload_conf()", err,
	              errlen) != 0)
		return -1;
	snprintf(sql, sizeof(sql),
	         "SELECT state || '/' || sync_state FROM pg_stat_replication "
	         "WHERE application_name = '%s'",
	         sb->name);
	snprintf(want, sizeof(want), "streaming/%s", sync ? "sync" : "async");
	return wait_value(primary->admin, sql, want, err, errlen);
}

pgtmp *pgtmp_start_standby(const pgtmp *primary, const char *name, bool sync,
                           char *err, size_t errlen)
{
	pgtmp *sb = calloc(1, sizeof(*sb));
	size_t n = strlen(name);

	if (sb == NULL) {
		fail(err, errlen, "out of memory");
		return NULL;
	}
	if (n == 0 || n >= sizeof(sb->name) ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != n) {
		fail(err, errlen, "bad standby name '%s'", name);
		goto fail;
	}
	snprintf(sb->name, sizeof(sb->name), "%s", name);
	if (make_dir(sb, err, errlen) != 0 ||
	    base_backup(primary, sb, err, errlen) != 0 ||
	    run_postgres(sb, err, errlen) != 0)
		goto fail;
	set_uris(sb);
	if (wait_ready(sb, err, errlen) != 0 ||
	    standby_sync(primary, sb, sync, err, errlen) != 0)
		goto fail;
	return sb;
fail:
	pgtmp_stop(sb);
	return NULL;
}

int pgtmp_promote(pgtmp *pg, char *err, size_t errlen)
{
	char log[128], wait_s[16];
	const char *argv[] = {"pg_ctl", "promote", "-D",   pg->data,
	                      "-w",     "-t",      wait_s, NULL};

	snprintf(log, sizeof(log), "%s/promote.log", pg->dir);
	snprintf(wait_s, sizeof(wait_s), "%d", PGTMP_START_WAIT / 1000);
	if (run_tool(argv, log, PGTMP_START_WAIT + 5000, err, errlen) != 0)
		return -1;
	return wait_value(pg->admin, "SELECT pg_is_in_recovery()::text",
	                  "false", err, errlen);
}
