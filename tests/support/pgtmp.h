/*
 * pgtmp.h - a throw-away PostgreSQL 15 cluster for tests and benchmarks.
 *
 * pgtmp_start runs initdb into a fresh /tmp/dtx-pg-XXXXXX and starts
 * postgres on it as a child of the calling process, listening on a unix
 * socket in that directory and on a free loopback port, with fsync on and
 * synchronous_commit on (the durable settings production uses). It
 * creates the login role "dtx" and its database "dtx". pgtmp_stop shuts
 * it down (immediate shutdown, then SIGKILL past a bounded wait) and removes
 * the directory.
 *
 *   pgtmp *pg = pgtmp_start(err, sizeof(err));
 *   ... dc_kv_open with .where = pgtmp_uri(pg) ...
 *   pgtmp_stop(pg);
 *
 * PostgreSQL refuses to run as root: when the caller is root, initdb and
 * postgres run as the "postgres" user (the directory is chowned to it).
 * The postmaster gets PR_SET_PDEATHSIG, so a test process killed on a
 * timeout leaves no server behind (its directory may stay in /tmp). The
 * signal follows the thread that forked, not the process: start (and
 * restart, promote) a cluster from a thread that outlives it. A frozen
 * cluster (pgtmp_freeze) ignores it until SIGKILL: end one with
 * pgtmp_crash.
 *
 * Starting costs ~1-2 s (initdb): a Criterion test binary starts one
 * cluster in its runner (pgtmp_shared_main) and every test makes its own
 * database on it (pgtmp_create_db), so tests run in parallel.
 *
 * For the failover tests a cluster can be restarted (fast or immediate),
 * lost as a machine is (pgtmp_crash: every process SIGKILLed at once),
 * frozen (pgtmp_freeze: a machine that hangs), and given a streaming
 * standby, synchronous or not (pgtmp_start_standby), that pgtmp_promote
 * promotes.
 *
 * Binaries come from $DTX_PG_BIN or /usr/lib/postgresql/15/bin. Every
 * wait is bounded. Calls that can fail return 0 or -1 with a reason in
 * err; none asserts, so benchmarks use the module too. Not thread-safe.
 */
#ifndef DTX_TESTS_PGTMP_H
#define DTX_TESTS_PGTMP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PGTMP_URI_MAX    512
#define PGTMP_START_WAIT 30000 /* ms the server gets to accept logins */
#define PGTMP_ENV_URI    "DTX_PGTMP_URI"
#define PGTMP_ENV_ADMIN  "DTX_PGTMP_ADMIN_URI"
#define PGTMP_ROLE       "dtx"

typedef struct pgtmp pgtmp;

/* pgtmp_start starts a fresh cluster (see the top comment) and returns it
 * (transferred: end it with pgtmp_stop), or NULL with a reason in err. */
pgtmp *pgtmp_start(char *err, size_t errlen);

/* pgtmp_stop stops the server if it runs (as pgtmp_kill: the cluster is
 * thrown away, so it writes no shutdown checkpoint), removes the directory
 * and frees pg. Accepts NULL. */
void pgtmp_stop(pgtmp *pg);

/* pgtmp_kill stops the server at once (SIGKILL of the postmaster, which
 * takes its backends with it) and keeps the directory until pgtmp_stop:
 * a database that vanishes under its clients. */
void pgtmp_kill(pgtmp *pg);

/* pgtmp_uri: the libpq URI of database "dtx" as role "dtx" over the unix
 * socket (borrowed, lives with pg). */
const char *pgtmp_uri(const pgtmp *pg);

/* pgtmp_admin_uri: the superuser on database "postgres" (borrowed). */
const char *pgtmp_admin_uri(const pgtmp *pg);

/* pgtmp_port: the loopback TCP port the server listens on. */
int pgtmp_port(const pgtmp *pg);

/* pgtmp_sql runs sql (one or more statements, no parameters) as the
 * superuser on database db at admin_uri (an URI from pgtmp_admin_uri or
 * $DTX_PGTMP_ADMIN_URI; db NULL: its own). Returns 0 or -1 with a reason
 * in err. */
int pgtmp_sql(const char *admin_uri, const char *db, const char *sql, char *err,
              size_t errlen);

/* pgtmp_create_db creates a database named name (owned by role "dtx") on
 * the cluster of admin_uri and writes its URI (role "dtx") to uri.
 * Returns 0 or -1 with a reason in err. */
int pgtmp_create_db(const char *admin_uri, const char *name, char *uri,
                    size_t urilen, char *err, size_t errlen);

/* pgtmp_uri_for writes the URI of database db as role user on the
 * cluster of admin_uri to uri (same host and port). Returns 0 or -1. */
int pgtmp_uri_for(const char *admin_uri, const char *db, const char *user,
                  char *uri, size_t urilen);

/* pgtmp_tcp_uri_for: as pgtmp_uri_for, over loopback TCP. */
int pgtmp_tcp_uri_for(const char *admin_uri, const char *db, const char *user,
                      char *uri, size_t urilen);

/* ---- restarts, standbys, lost machines (the failover tests) ---------- */

/* pgtmp_restart stops pg's server - fast (SIGINT: sessions ended, a
 * shutdown checkpoint) or immediate (SIGQUIT: crash recovery at the next
 * start) - and starts it again on the same directory and port; it also
 * starts a server that pgtmp_kill or pgtmp_crash stopped. Returns 0 once
 * it accepts logins, or -1 with a reason in err. */
int pgtmp_restart(pgtmp *pg, bool fast, char *err, size_t errlen);

/* pgtmp_crash is a lost machine: SIGKILL of the postmaster and of every
 * one of its children at once (no shutdown, no goodbye to any client; the
 * kernel closes their sockets). The directory stays; pgtmp_restart
 * starts it again. */
void pgtmp_crash(pgtmp *pg);

/* pgtmp_freeze stops (SIGSTOP) or resumes (SIGCONT) pg's postmaster and
 * every one of its children: a machine that hangs - its kernel still
 * accepts connections and acknowledges packets, nothing answers. End a
 * frozen cluster with pgtmp_crash (SIGKILL ends stopped processes; a
 * stopped backend would outlive pgtmp_stop's signal to the postmaster). */
void pgtmp_freeze(pgtmp *pg, bool frozen);

/* pgtmp_child_pid returns the pid of a child of pg's postmaster whose
 * process title contains role ("walsender", "walreceiver", "checkpointer"),
 * or 0 if none: for a test that SIGSTOPs one (replication that lags). */
pid_t pgtmp_child_pid(const pgtmp *pg, const char *role);

/* pgtmp_start_standby makes a streaming standby of primary (which keeps
 * running): pg_basebackup -R into a fresh directory, started on a free
 * loopback port with cluster_name (its application_name on the primary)
 * name ([a-z0-9_], under 32 bytes). With sync, the primary's
 * synchronous_standby_names names it, so a commit on the primary returns
 * only once the standby has its WAL; without, the standby is asynchronous
 * (synchronous_standby_names emptied). It returns once the primary reports
 * the standby streaming in that mode: the standby (end it with
 * pgtmp_stop), or NULL with a reason in err. The standby copies the
 * primary's databases and roles; its own synchronous_standby_names is
 * empty, so once promoted it commits alone. */
pgtmp *pgtmp_start_standby(const pgtmp *primary, const char *name, bool sync,
                           char *err, size_t errlen);

/* pgtmp_promote promotes the standby pg (pg_ctl promote -w) and returns 0
 * once it accepts writes, or -1 with a reason in err. */
int pgtmp_promote(pgtmp *pg, char *err, size_t errlen);

/* pgtmp_sql_value runs one query as admin_uri and copies the first cell
 * of its first row to out ("" when no row). Returns 0 or -1 with a reason
 * in err. */
int pgtmp_sql_value(const char *admin_uri, const char *sql, char *out,
                    size_t outlen, char *err, size_t errlen);

/* pgtmp_shared_main is the main of a test binary that shares one cluster
 * among its tests: it starts a cluster, exports its URIs as
 * $DTX_PGTMP_URI and $DTX_PGTMP_ADMIN_URI (the forked tests inherit
 * them), runs run(argc, argv) and stops the cluster, also when run
 * failed. It returns run's result, or 1 if the cluster did not start. */
int pgtmp_shared_main(int argc, char **argv, int (*run)(int argc, char **argv));

#endif
