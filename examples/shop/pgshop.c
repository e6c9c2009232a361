/*
 * pgshop.c - the PostgreSQL cluster of a shop run and its four databases
 * (see pgshop.h).
 *
 * Owns the cluster's directory and its postmaster (a child of dtx-shop).
 * Never touches a cluster it did not start (a server given by URI only
 * gets CREATE DATABASE), never waits without a bound, never puts a
 * password on stderr (a URI is not printed). The only file of libpq in
 * dtx-shop besides the store it opens through libdtx-pg.
 */
#include "pgshop.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "seed.h"

#define PG_BIN_DEFAULT "/usr/lib/postgresql/15/bin"
#define PG_PORT        "5432" /* the unix socket's name; no TCP */
#define CLUSTER_FILE   "pgcluster"
#define INITDB_MS      120000 /* initdb on a loaded 2-core machine */
#define READY_MS       60000  /* the server accepts logins */
#define STOP_MS        60000  /* a fast shutdown's checkpoint */
#define POLL_MS        20
#define DIR_MAX        64

struct pgshop {
	char dir[DIR_MAX]; /* /tmp/dtx-shop-pg-XXXXXX: data/, socket, logs */
	pid_t pid;         /* the postmaster; 0 once gone */
	char admin[PGSHOP_URI_MAX];
};

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static const char *pg_bin(void)
{
	const char *b = getenv("DTX_PG_BIN");

	return b != NULL && b[0] != '\0' ? b : PG_BIN_DEFAULT;
}

/* ---- processes --------------------------------------------------------- */

/* child_exec runs in the forked child: output to log, the postgres
 * user's identity when we are root, death with dtx-shop, then argv. */
static void child_exec(const char *const argv[], const char *log, pid_t parent)
{
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	int nul = open("/dev/null", O_RDONLY);
	sigset_t none;

	setpgid(0, 0); /* a terminal's Ctrl-C reaches only dtx-shop */
	if (fd < 0 || nul < 0 || dup2(nul, 0) < 0 || dup2(fd, 1) < 0 ||
	    dup2(fd, 2) < 0)
		_exit(126);
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam("postgres");

		if (pw == NULL || setgroups(0, NULL) != 0 ||
		    setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
			_exit(126);
	}
	/* After setuid: a change of credentials clears the death signal.
	 * SIGQUIT is the postmaster's immediate shutdown. */
	if (prctl(PR_SET_PDEATHSIG, SIGQUIT) != 0 || getppid() != parent)
		_exit(126);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

static pid_t spawn(const char *const argv[], const char *log)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid == 0)
		child_exec(argv, log, parent);
	return pid;
}

/* wait_gone waits up to ms for pid; *status gets its wait status. */
static bool wait_gone(pid_t pid, int ms, int *status)
{
	for (int waited = 0; waited <= ms; waited += POLL_MS) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return true;
		sleep_ms(POLL_MS);
	}
	return false;
}

/* signal_wait sends sig to the postmaster and waits up to ms for it. */
static bool signal_wait(pgshop *pg, int sig, int ms)
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

/* ---- the cluster ------------------------------------------------------- */

static int run_initdb(const pgshop *pg)
{
	char exe[256], data[DIR_MAX + 8], log[DIR_MAX + 16];
	const char *argv[] = {exe,     "-D",         data,        "-A",
	                      "trust", "-U",         "postgres",  "-E",
	                      "UTF8",  "--locale=C", "--no-sync", NULL};
	int status = 0;
	pid_t pid;

	snprintf(exe, sizeof(exe), "%s/initdb", pg_bin());
	snprintf(data, sizeof(data), "%s/data", pg->dir);
	snprintf(log, sizeof(log), "%s/initdb.log", pg->dir);
	pid = spawn(argv, log);
	if (pid < 0) {
		fprintf(stderr, "dtx-shop: fork: %s\n", strerror(errno));
		return -1;
	}
	if (!wait_gone(pid, INITDB_MS, &status)) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		fprintf(stderr, "dtx-shop: initdb took over %d ms\n",
		        INITDB_MS);
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "dtx-shop: initdb failed: see %s\n", log);
		return -1;
	}
	return 0;
}

static int run_postgres(pgshop *pg)
{
	char exe[256], data[DIR_MAX + 8], log[DIR_MAX + 16];
	const char *argv[] = {exe,
	                      "-D",
	                      data,
	                      "-k",
	                      pg->dir,
	                      "-p",
	                      PG_PORT,
	                      "-c",
	                      "listen_addresses=",
	                      "-c",
	                      "fsync=on",
	                      "-c",
	                      "synchronous_commit=on",
	                      "-c",
	                      "max_connections=200",
	                      NULL};

	snprintf(exe, sizeof(exe), "%s/postgres", pg_bin());
	snprintf(data, sizeof(data), "%s/data", pg->dir);
	snprintf(log, sizeof(log), "%s/server.log", pg->dir);
	pg->pid = spawn(argv, log);
	if (pg->pid < 0) {
		pg->pid = 0;
		fprintf(stderr, "dtx-shop: fork: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* wait_ready pings the server until it accepts logins, it exits, or
 * READY_MS passes. */
static int wait_ready(pgshop *pg)
{
	char ping[PGSHOP_URI_MAX + 32];
	int status;

	snprintf(ping, sizeof(ping), "%s&connect_timeout=2", pg->admin);
	for (int waited = 0; waited < READY_MS; waited += POLL_MS) {
		if (PQping(ping) == PQPING_OK)
			return 0;
		if (waitpid(pg->pid, &status, WNOHANG) == pg->pid) {
			pg->pid = 0;
			fprintf(stderr,
			        "dtx-shop: postgres exited at start: see "
			        "%s/server.log\n",
			        pg->dir);
			return -1;
		}
		sleep_ms(POLL_MS);
	}
	fprintf(stderr, "dtx-shop: postgres not ready after %d ms: see %s\n",
	        READY_MS, pg->dir);
	return -1;
}

/* start runs the cluster in pg->dir (initdb first when fresh). */
static int start(pgshop *pg, bool fresh)
{
	snprintf(pg->admin, sizeof(pg->admin),
	         "postgresql://postgres@/postgres?host=%s&port=" PG_PORT,
	         pg->dir);
	if (fresh && run_initdb(pg) != 0)
		return -1;
	if (run_postgres(pg) != 0 || wait_ready(pg) != 0)
		return -1;
	return 0;
}

/* make_dir creates the cluster's directory, owned by postgres as root. */
static int make_dir(pgshop *pg)
{
	snprintf(pg->dir, sizeof(pg->dir), "/tmp/dtx-shop-pg-XXXXXX");
	if (mkdtemp(pg->dir) == NULL) {
		fprintf(stderr, "dtx-shop: mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam("postgres");

		if (pw == NULL || chown(pg->dir, pw->pw_uid, pw->pw_gid) != 0) {
			fprintf(stderr,
			        "dtx-shop: %s: cannot give it to user "
			        "postgres (install postgresql-15)\n",
			        pg->dir);
			return -1;
		}
	}
	return 0;
}

/* note_cluster writes the cluster's directory to WORKDIR/pgcluster. */
static int note_cluster(const char *workdir, const pgshop *pg)
{
	char path[4096];
	FILE *f;

	if (!seed_path(workdir, CLUSTER_FILE, path, sizeof(path)) ||
	    (f = fopen(path, "w")) == NULL) {
		fprintf(stderr, "dtx-shop: %s/" CLUSTER_FILE ": %s\n", workdir,
		        strerror(errno));
		return -1;
	}
	fprintf(f, "%s\n", pg->dir);
	return fclose(f) == 0 ? 0 : -1;
}

int pgshop_start_new(const char *workdir, pgshop **ret_pg)
{
	pgshop *pg = calloc(1, sizeof(*pg));

	if (pg == NULL)
		return -1;
	if (make_dir(pg) != 0 || note_cluster(workdir, pg) != 0 ||
	    start(pg, true) != 0) {
		pgshop_stop(pg, true);
		return -1;
	}
	*ret_pg = pg;
	return 0;
}

/* read_cluster reads the directory WORKDIR/pgcluster names; false if the
 * run had no cluster of its own. */
static bool read_cluster(const char *workdir, pgshop *pg)
{
	char path[4096];
	FILE *f;
	bool ok;

	if (!seed_path(workdir, CLUSTER_FILE, path, sizeof(path)) ||
	    (f = fopen(path, "r")) == NULL)
		return false;
	ok = fgets(pg->dir, sizeof(pg->dir), f) != NULL;
	fclose(f);
	pg->dir[strcspn(pg->dir, "\n")] = '\0';
	return ok && strncmp(pg->dir, "/tmp/dtx-shop-pg-", 17) == 0 &&
	       strchr(pg->dir, '\'') == NULL;
}

int pgshop_resume(const char *workdir, pgshop **ret_pg)
{
	pgshop *pg = calloc(1, sizeof(*pg));

	*ret_pg = NULL;
	if (pg == NULL)
		return -1;
	if (!read_cluster(workdir, pg)) {
		free(pg);
		return 0;
	}
	if (start(pg, false) != 0) {
		pgshop_stop(pg, false);
		return -1;
	}
	*ret_pg = pg;
	return 0;
}

const char *pgshop_admin_uri(const pgshop *pg)
{
	return pg->admin;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
	return remove(path);
}

void pgshop_stop(pgshop *pg, bool remove)
{
	if (pg == NULL)
		return;
	/* SIGINT: fast shutdown (a checkpoint, so a kept cluster starts
	 * again at once); SIGQUIT: immediate; then SIGKILL. */
	if (remove || !signal_wait(pg, SIGINT, STOP_MS))
		if (!signal_wait(pg, SIGQUIT, 5000))
			signal_wait(pg, SIGKILL, 5000);
	if (remove && pg->dir[0] != '\0')
		nftw(pg->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(pg);
}

/* ---- the databases ----------------------------------------------------- */

/* put_kv appends " key='value'" (quotes and backslashes escaped, as
 * libpq's conninfo wants) to out; false if it does not fit. */
static bool put_kv(char *out, size_t len, const char *key, const char *val)
{
	size_t n = strlen(out);

	if (n + strlen(key) + 3 >= len)
		return false;
	n += (size_t)snprintf(out + n, len - n, "%s%s='", n > 0 ? " " : "",
	                      key);
	for (; *val != '\0'; val++) {
		if (n + 3 >= len)
			return false;
		if (*val == '\'' || *val == '\\')
			out[n++] = '\\';
		out[n++] = *val;
	}
	if (n + 2 > len)
		return false;
	out[n++] = '\'';
	out[n] = '\0';
	return true;
}

/* uri_with_db writes admin_uri's settings with dbname db into out. */
static bool uri_with_db(const char *admin_uri, const char *db, char *out,
                        size_t len)
{
	PQconninfoOption *opts = PQconninfoParse(admin_uri, NULL);
	bool ok = opts != NULL;

	out[0] = '\0';
	for (PQconninfoOption *o = opts; ok && o->keyword != NULL; o++)
		if (o->val != NULL && o->val[0] != '\0' &&
		    strcmp(o->keyword, "dbname") != 0)
			ok = put_kv(out, len, o->keyword, o->val);
	if (ok)
		ok = put_kv(out, len, "dbname", db);
	PQconninfoFree(opts);
	return ok;
}

/* create_db runs CREATE DATABASE name on conn. */
static int create_db(PGconn *conn, const char *name)
{
	char sql[128];
	PGresult *r;
	int rc = 0;

	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	r = PQexec(conn, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "dtx-shop: %s: %s", sql, PQerrorMessage(conn));
		rc = -1;
	}
	PQclear(r);
	return rc;
}

int pgshop_create_dbs(const char *admin_uri,
                      char uris[SHOP_SVC_COUNT][PGSHOP_URI_MAX])
{
	PGconn *conn = PQconnectdb(admin_uri);
	struct timespec now;
	char name[64];
	unsigned tag;
	int rc = 0;

	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr,
		        "dtx-shop: --services-store: cannot connect: %s",
		        PQerrorMessage(conn));
		PQfinish(conn);
		return -1;
	}
	/* A tag per run, so runs on one server never share a database. */
	clock_gettime(CLOCK_REALTIME, &now);
	tag = (unsigned)(now.tv_nsec ^ now.tv_sec ^ (getpid() << 8));
	for (int id = 0; rc == 0 && id < SHOP_SVC_COUNT; id++) {
		snprintf(name, sizeof(name), "dtxshop_%08x_%s", tag,
		         shop_service_name((shop_service_id)id));
		rc = create_db(conn, name);
		if (rc == 0 &&
		    !uri_with_db(admin_uri, name, uris[id], PGSHOP_URI_MAX)) {
			fprintf(stderr, "dtx-shop: --services-store: URI too "
			                "long\n");
			rc = -1;
		}
	}
	PQfinish(conn);
	return rc;
}
