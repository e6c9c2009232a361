/*
 * procs.h - starting and watching the child processes of dtx-chaos.
 *
 * A child gets its own process group, dies with the harness
 * (PR_SET_PDEATHSIG: SIGKILL), reads /dev/null and appends its stdout and
 * stderr to a log file. Exits are collected per pid (never waitpid(-1)),
 * so a helper command run with procs_run and a supervised process never
 * steal each other's status.
 *
 * This module never decides when to kill or restart anything: cluster.c
 * does.
 */
#ifndef DTX_CHAOS_PROCS_H
#define DTX_CHAOS_PROCS_H

#include <stdbool.h>
#include <sys/types.h>

#define PROCS_ARGS_MAX 48
#define PROCS_ENV_MAX  8

/* procs_spawn starts argv[0] with argv (both borrowed, NULL-terminated),
 * the harness's environment plus env (borrowed "K=V" strings,
 * NULL-terminated, may be NULL; at most PROCS_ENV_MAX), output appended
 * to log_path. Returns the pid, or -1 (errno set). Safe with threads
 * running: the child only makes async-signal-safe calls. */
pid_t procs_spawn(const char *log_path, const char *const argv[],
                  const char *const env[]);

/* procs_poll collects pid's exit without waiting: true (and *ret_status)
 * if it exited. */
bool procs_poll(pid_t pid, int *ret_status);

/* procs_stop sends sig to pid and waits up to timeout_ms for it to exit,
 * then kills it (SIGKILL) and collects it. Returns its wait status. */
int procs_stop(pid_t pid, int sig, unsigned timeout_ms);

/* procs_stop_dump is procs_stop, except that before killing a process
 * that did not exit in time it writes the stacks of its threads to
 * dump_path (with gdb, when installed) so the hang can be read later.
 * *ret_hung (may be NULL) tells whether it had to be killed. */
int procs_stop_dump(pid_t pid, int sig, unsigned timeout_ms,
                    const char *dump_path, bool *ret_hung);

/* procs_run runs a helper command (argv borrowed) to its end, with
 * output appended to log_path, killing it after timeout_ms. Returns its
 * exit code, or -1 if it could not run, was killed or timed out. */
int procs_run(const char *log_path, const char *const argv[],
              unsigned timeout_ms);

/* procs_file_ready tells whether path holds a complete line (the ready
 * files of dtxd and the shop services). */
bool procs_file_ready(const char *path);

/* procs_self_exe writes the path of the running executable into out. */
bool procs_self_exe(char *out, size_t len);

#endif
