/*
 * harness.h - a thin domain layer over Criterion for the integration tests.
 *
 * A test runs real processes (dtxd, dtx-sample-participant) on loopback
 * sockets and a real LMDB log on disk. Each test owns a fresh directory under
 * /tmp and its own ports or ipc paths, so tests run in parallel safely:
 *
 *   TestSuite(saga, .fini = th_teardown, .timeout = 60);
 *
 *   Test(saga, commits_when_every_action_succeeds)
 *   {
 *           th_env *t = th_begin();
 *
 *           th_dtxd_start(t, NULL);
 *           th_participant_start(t, "p1", NULL);
 *           ... th_saga(t, "g1", "p1.do/p1.undo") ...
 *           cr_assert_str_eq(th_journal_story(t, "g1"), "p1.do:ok");
 *           th_end(t);
 *   }
 *
 * th_end() stops every process (they must exit 0 on SIGTERM) and removes the
 * directory. If an assertion fails first, th_teardown() (the suite's .fini)
 * prints the tail of the dtxd log, kills what is left and keeps the
 * directory for a post-mortem. Every child is started with PR_SET_PDEATHSIG,
 * so nothing outlives a test process that Criterion kills on a timeout.
 *
 * The store: an LMDB directory in the test's directory; with
 * DTX_TEST_STORE=postgresql (the postgres suite runs the test binary
 * under tests/support/pgtmp.sh run) a schema of its own on that throw-away
 * PostgreSQL cluster, named by a URI in t->log_dir. Tests that look at
 * LMDB's files are not run that way.
 *
 * Executables come from the environment: DTX_DTXD, DTX_SAMPLE_PARTICIPANT
 * and DTX_SAMPLE_CLIENT (tests/integration/meson.build sets them).
 *
 * Every th_ function that can fail asserts (the test stops there), unless
 * its paragraph says it returns the failure. Not thread-safe: call the
 * harness from the test's own thread only.
 */
#ifndef DTX_TESTS_HARNESS_H
#define DTX_TESTS_HARNESS_H

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <dtx/dtx.h>

#define TH_NAME_MAX    32
#define TH_URL_MAX     (PATH_MAX + 16)
#define TH_PROCS_MAX   64
#define TH_PARTS_MAX   16
#define TH_CLIENTS_MAX 16
#define TH_DTXD_ARGS   32
#define TH_WAIT_READY  10000 /* ms a process gets to write its ready file */
#define TH_WAIT_FINAL  30000 /* ms a saga gets to reach a final state */

/* th_proc - one child process. */
typedef struct th_proc {
	pid_t pid;  /* 0 once reaped */
	int status; /* waitpid status, valid once reaped */
	char name[TH_NAME_MAX];
	char out_path[PATH_MAX]; /* its stdout and stderr, appended */
} th_proc;

typedef struct th_participant {
	char name[TH_NAME_MAX];
	char url[TH_URL_MAX];
	th_proc *proc;
} th_participant;

/* th_jline - one parsed journal line of dtx-sample-participant. */
typedef struct th_jline {
	char gid[DTX_GID_MAX + 1];
	uint32_t branch;
	char op[16];
	char handler[DTX_HANDLER_MAX + 1];
	uint32_t attempt;
	char status[8];                            /* ok, fail, retry */
	char traceparent[DTX_TRACEPARENT_LEN + 1]; /* "-": none */
} th_jline;

typedef struct th_env {
	char dir[PATH_MAX];     /* the test's directory */
	char journal[PATH_MAX]; /* shared by all its participants */
	char log_dir[PATH_MAX]; /* dtxd's --store: a directory, or a
	                           PostgreSQL URI when pg_store */
	bool pg_store;          /* DTX_TEST_STORE=postgresql (suite postgres) */
	bool use_ipc;           /* th_url gives ipc:// instead of tcp:// */
	char dtxd_url[TH_URL_MAX];
	char *dtxd_args[TH_DTXD_ARGS]; /* extra flags, kept for restarts */
	size_t ndtxd_args;
	th_proc *dtxd; /* the running (or last) dtxd */
	th_proc procs[TH_PROCS_MAX];
	size_t nprocs;
	th_participant parts[TH_PARTS_MAX];
	size_t nparts;
	dtx_client *clients[TH_CLIENTS_MAX];
	size_t nclients;
	char *story; /* th_journal_story's last answer */
} th_env;

/* th_begin creates the test's directory (/tmp/dtx-test-XXXXXX) and the
 * environment, and remembers it for th_teardown. The environment is owned by
 * the harness; th_end frees it. */
th_env *th_begin(void);

/* th_end stops every process with SIGTERM, asserts each exited 0 within 5 s,
 * closes the clients, removes the directory and frees t. Call it last, on
 * the success path. */
void th_end(th_env *t);

/* th_teardown is the suite's .fini: after a failed assertion it prints the
 * tail of the dtxd log, kills every process (SIGKILL) and keeps the
 * directory. After th_end it does nothing. */
void th_teardown(void);

/* th_use_ipc makes th_url (hence dtxd and participants started later) use
 * ipc:// sockets in the test directory instead of loopback TCP. */
void th_use_ipc(th_env *t);

/* th_free_port returns a loopback TCP port that was free a moment ago (bind
 * to port 0 and read it back). */
int th_free_port(void);

/* th_url writes a fresh address for name into out: tcp://127.0.0.1:PORT,
 * or ipc://DIR/NAME.ipc after th_use_ipc. */
void th_url(th_env *t, const char *name, char *out, size_t outlen);

/* th_path writes DIR/name into out. */
void th_path(const th_env *t, const char *name, char *out, size_t outlen);

/* th_exe returns the path in environment variable var (asserts it is set). */
const char *th_exe(const char *var);

/* th_spawn starts argv[0] with argv (NULL-terminated, borrowed), stdin from
 * /dev/null, stdout and stderr appended to DIR/name.out. The child gets its
 * own process group and dies with the test (PR_SET_PDEATHSIG). It inherits
 * the test's environment except DTX_FAULT: a crash point is armed only in
 * the process a test names (th_spawn_env). */
th_proc *th_spawn(th_env *t, const char *name, const char *const argv[]);

/* th_spawn_env is th_spawn with env_kv ("NAME=VALUE", borrowed; NULL for
 * none) added to the child's environment, e.g. "DTX_FAULT=log.after_commit".
 */
th_proc *th_spawn_env(th_env *t, const char *name, const char *const argv[],
                      const char *env_kv);

/* th_proc_wait waits up to timeout_ms for p to exit; returns true once it
 * has (p->status then holds the wait status). */
bool th_proc_wait(th_proc *p, int timeout_ms);

/* th_proc_kill sends sig to p if it still runs. */
void th_proc_kill(th_proc *p, int sig);

/* th_proc_crash sends SIGKILL and reaps p. */
void th_proc_crash(th_proc *p);

/* th_proc_is_alive returns true if p has not exited. */
bool th_proc_is_alive(th_proc *p);

/* th_proc_fd_count returns the number of descriptors p has open (asserts
 * /proc/PID/fd can be read). */
int th_proc_fd_count(const th_proc *p);

/* th_proc_exit_code returns p's exit code, or -signal if a signal killed
 * it; p must have been reaped. */
int th_proc_exit_code(const th_proc *p);

/* th_wait_ready waits up to timeout_ms for the file at path to hold a line;
 * returns false on timeout or if p (may be NULL) exited first. */
bool th_wait_ready(th_proc *p, const char *path, int timeout_ms);

/* th_dtxd_start starts dtxd on a fresh address (t->dtxd_url) with log
 * directory t->log_dir, fast retries and the extra flags given (a
 * NULL-terminated list, copied and reused by th_dtxd_restart), and waits
 * for its ready file. */
th_proc *th_dtxd_start(th_env *t, ...) __attribute__((sentinel));

/* th_dtxd_start_env is th_dtxd_start with env_kv ("NAME=VALUE", borrowed;
 * NULL for none) in dtxd's environment for this start only: restarts do
 * not get it. For arming a crash point: "DTX_FAULT=log.after_commit:3". */
th_proc *th_dtxd_start_env(th_env *t, const char *env_kv, ...)
        __attribute__((sentinel));

/* th_dtxd_restart kills dtxd with SIGKILL if it still runs, then starts it
 * again on the same address, log directory and flags (never with the
 * environment given to th_dtxd_start_env). */
th_proc *th_dtxd_restart(th_env *t);

/* th_dtxd_try_restart is th_dtxd_restart for a test that plays the
 * supervisor: it kills dtxd if it still runs, starts it again and waits
 * up to timeout_ms for its ready file. It returns false, without
 * asserting, if dtxd exited first (a store it cannot reach yet) or was
 * not ready in time (it is then killed and reaped). Each start takes one
 * of the TH_PROCS_MAX process slots. */
bool th_dtxd_try_restart(th_env *t, int timeout_ms);

/* th_participant_start starts dtx-sample-participant --name name on a fresh
 * address, journaling to t->journal, with the extra flags given
 * (NULL-terminated), and waits for its ready file. */
th_proc *th_participant_start(th_env *t, const char *name, ...)
        __attribute__((sentinel));

/* th_participant_start_env is th_participant_start with env_kv
 * ("NAME=VALUE", borrowed; NULL for none) in the participant's environment
 * for this start only: th_participant_restart does not give it again. */
th_proc *th_participant_start_env(th_env *t, const char *name,
                                  const char *env_kv, ...)
        __attribute__((sentinel));

/* th_participant_restart kills the participant called name with SIGKILL if
 * it still runs and starts it again on the same address, with the extra
 * flags given (NULL-terminated), and waits for its ready file. */
th_proc *th_participant_restart(th_env *t, const char *name, ...)
        __attribute__((sentinel));

/* th_participant_url returns the address of the participant called name
 * (asserts it was started). */
const char *th_participant_url(th_env *t, const char *name);

/* th_client opens a client to the current dtxd address; th_end closes it. */
dtx_client *th_client(th_env *t);

/* th_saga builds a saga from spec: space-separated "ACTION/COMPENSATE"
 * pairs, one per step; each step goes to the participant named by the
 * action's prefix ("p2.fail" -> "p2"). gid may be NULL. The caller destroys
 * the saga. */
dtx_saga *th_saga(th_env *t, const char *gid, const char *spec);

/* th_run submits th_saga(t, gid, spec) and waits for the outcome
 * (TH_WAIT_FINAL); asserts the submit succeeded and the state is final. */
void th_run(th_env *t, const char *gid, const char *spec,
            dtx_tx_info *ret_info);

/* th_wait_step_state polls gid until step is in state (asserts it gets
 * there within timeout_ms). There is no event to wait on for an
 * intermediate state, so this is the one place that polls. */
void th_wait_step_state(th_env *t, dtx_client *c, const char *gid,
                        uint32_t step, dtx_step_state state, int timeout_ms);

/* th_journal_read parses the journal into a new array (*ret_lines, freed by
 * the caller) and returns the number of lines; every line must parse. */
size_t th_journal_read(th_env *t, th_jline **ret_lines);

/* th_journal_story returns the calls journaled for gid, in order, as
 * "HANDLER:STATUS" words separated by spaces ("" if none), e.g.
 * "p1.do:ok p2.fail:fail p1.undo:ok". Valid until the next call or th_end. */
const char *th_journal_story(th_env *t, const char *gid);

/* th_log_contains returns true if a line of DIR/name.out (the output of
 * the process called name, all its runs) contains text. */
bool th_log_contains(const th_env *t, const char *name, const char *text);

/* th_log_tail prints the last lines of DIR/name.out with cr_log_error. */
void th_log_tail(const th_env *t, const char *name, int lines);

/* th_vdtxctl runs `dtxctl --admin ADMIN ARGS` (ARGS a printf format with
 * ap, quoted for the shell by the caller), puts at most outlen - 1 bytes
 * of its stdout in out (NUL-terminated) and returns its exit code; asserts
 * it ran and exited. th_dtxctl is the same with the arguments inline. */
int th_vdtxctl(const char *admin, char *out, size_t outlen, const char *fmt,
               va_list ap) __attribute__((format(printf, 4, 0)));
int th_dtxctl(const char *admin, char *out, size_t outlen, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

#endif
