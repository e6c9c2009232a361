/*
 * procs.c - spawning, polling and stopping children (see procs.h).
 *
 * The environment of a child is built before fork: after fork only
 * async-signal-safe calls run (the harness has proxy threads, whose locks
 * a child must never wait on). Every wait is bounded.
 */
#include "procs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chaos.h"

#define ENVIRON_MAX 512
#define POLL_MS     5

extern char **environ;

/* child_exec runs in the forked child: async-signal-safe calls only. */
static void child_exec(pid_t parent, int log_fd, const char *const argv[],
                       char *const envp[])
{
	sigset_t none;
	int null_fd;

	setpgid(0, 0);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(127);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	null_fd = open("/dev/null", O_RDONLY);
	if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 ||
	    dup2(log_fd, 2) < 0)
		_exit(127);
	/* execve's argv type predates const; it does not write to it. */
	execve(argv[0], (char *const *)argv, envp);
	_exit(127);
}

/* build_env lists the harness's environment plus extra into envp (which
 * holds ENVIRON_MAX + PROCS_ENV_MAX + 1 entries; borrowed strings). */
static void build_env(const char *const extra[], char **envp)
{
	size_t n = 0;

	for (char **e = environ; *e != NULL && n < ENVIRON_MAX; e++)
		envp[n++] = *e;
	for (size_t i = 0;
	     extra != NULL && extra[i] != NULL && i < PROCS_ENV_MAX; i++)
		envp[n++] = (char *)extra[i];
	envp[n] = NULL;
}

pid_t procs_spawn(const char *log_path, const char *const argv[],
                  const char *const env[])
{
	char *envp[ENVIRON_MAX + PROCS_ENV_MAX + 1];
	pid_t parent = getpid(), pid;
	int fd;

	build_env(env, envp);
	fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	pid = fork();
	if (pid == 0)
		child_exec(parent, fd, argv, envp);
	close(fd);
	if (pid > 0)
		setpgid(pid, pid);
	return pid;
}

bool procs_poll(pid_t pid, int *ret_status)
{
	int status;
	pid_t r;

	do
		r = waitpid(pid, &status, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r != pid)
		return false;
	*ret_status = status;
	return true;
}

int procs_stop(pid_t pid, int sig, unsigned timeout_ms)
{
	int status = 0;

	kill(pid, sig);
	kill(pid, SIGCONT); /* a paused process cannot act on SIGTERM */
	for (unsigned i = 0; i < timeout_ms / POLL_MS; i++) {
		if (procs_poll(pid, &status))
			return status;
		chaos_sleep_ms(POLL_MS);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

int procs_stop_dump(pid_t pid, int sig, unsigned timeout_ms,
                    const char *dump_path, bool *ret_hung)
{
	char spid[16];
	const char *const gdb[] = {
	        "/usr/bin/gdb",        "-batch", "-p", spid, "-ex",
	        "thread apply all bt", NULL};
	int status = 0;

	kill(pid, sig);
	kill(pid, SIGCONT);
	for (unsigned i = 0; i < timeout_ms / POLL_MS; i++) {
		if (procs_poll(pid, &status)) {
			if (ret_hung != NULL)
				*ret_hung = false;
			return status;
		}
		chaos_sleep_ms(POLL_MS);
	}
	snprintf(spid, sizeof(spid), "%ld", (long)pid);
	if (access(gdb[0], X_OK) == 0)
		(void)procs_run(dump_path, gdb, 30000);
	if (ret_hung != NULL)
		*ret_hung = true;
	return procs_stop(pid, SIGKILL, 1000);
}

int procs_run(const char *log_path, const char *const argv[],
              unsigned timeout_ms)
{
	pid_t pid = procs_spawn(log_path, argv, NULL);
	int status = 0;

	if (pid < 0)
		return -1;
	for (unsigned i = 0; i < timeout_ms / POLL_MS; i++) {
		if (procs_poll(pid, &status))
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		chaos_sleep_ms(POLL_MS);
	}
	procs_stop(pid, SIGKILL, 1000);
	return -1;
}

bool procs_file_ready(const char *path)
{
	char buf[64];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n > 0 && memchr(buf, '\n', (size_t)n) != NULL;
}

bool procs_self_exe(char *out, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", out, len - 1);

	if (n <= 0)
		return false;
	out[n] = '\0';
	return true;
}
