/*
 * harness.c - processes, directories, addresses and journals for the
 * integration tests (see harness.h for the contract).
 *
 * Owns every child process a test starts and the test's directory. It never
 * sleeps to synchronise: processes announce readiness with a ready file and
 * sagas are awaited with a query that waits; the only loops that poll are
 * waiting for a file to appear, a process to exit or an intermediate state
 * that has no event.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>

#include "pgtmp.h"

#define POLL_MS     5
#define STOP_WAIT   5000 /* ms a process gets to exit after SIGTERM */
#define TAIL_LINES  40
#define STORY_MAX   (64 * 1024)
#define CLIENT_SLOP 10000 /* transport deadline beyond a query's wait */

/* The environment of the running test, for th_teardown. Criterion runs each
 * test in its own process, so one slot is enough. */
static th_env *current;

/* ---- small helpers ----------------------------------------------------- */

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	cr_assert_not_null(p, "out of memory");
	return p;
}

static int remove_cb(const char *path, const struct stat *sb, int flag,
                     struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_tree(const char *dir)
{
	nftw(dir, remove_cb, 16, FTW_DEPTH | FTW_PHYS);
}

const char *th_exe(const char *var)
{
	const char *path = getenv(var);

	cr_assert(path != NULL && path[0] != '\0',
	          "%s is not set (run the tests with meson test)", var);
	return path;
}

void th_path(const th_env *t, const char *name, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/%s", t->dir, name);

	cr_assert(n > 0 && (size_t)n < outlen, "path too long: %s", name);
}

/* ---- environment ------------------------------------------------------- */

/* pick_store gives t a PostgreSQL store instead of its log directory when
 * the test runs with DTX_TEST_STORE=postgresql (suite postgres, under
 * pgtmp.sh run): a schema of its own on the cluster's database "dtx", so
 * the tests of one binary share one cluster and never each other's
 * tables. */
static void pick_store(th_env *t)
{
	static unsigned seq;
	const char *store = getenv("DTX_TEST_STORE");
	const char *admin = getenv(PGTMP_ENV_ADMIN);
	char schema[64], sql[160], base[PGTMP_URI_MAX], err[512];

	if (store == NULL || strcmp(store, "postgresql") != 0)
		return;
	cr_assert_not_null(admin,
	                   "DTX_TEST_STORE=postgresql needs %s "
	                   "(run the test under pgtmp.sh run)",
	                   PGTMP_ENV_ADMIN);
	snprintf(schema, sizeof(schema), "t%ld_%u", (long)getpid(), seq++);
	snprintf(sql, sizeof(sql), "CREATE SCHEMA %s AUTHORIZATION %s", schema,
	         PGTMP_ROLE);
	cr_assert_eq(pgtmp_sql(admin, "dtx", sql, err, sizeof(err)), 0, "%s",
	             err);
	cr_assert_eq(
	        pgtmp_uri_for(admin, "dtx", PGTMP_ROLE, base, sizeof(base)), 0);
	snprintf(t->log_dir, sizeof(t->log_dir),
	         "%s%coptions=-csearch_path%%3D%s", base,
	         strchr(base, '?') != NULL ? '&' : '?', schema);
	t->pg_store = true;
}

th_env *th_begin(void)
{
	th_env *t = calloc(1, sizeof(*t));

	cr_assert_not_null(t, "out of memory");
	snprintf(t->dir, sizeof(t->dir), "/tmp/dtx-test-XXXXXX");
	cr_assert_not_null(mkdtemp(t->dir), "mkdtemp: %s", strerror(errno));
	th_path(t, "journal", t->journal, sizeof(t->journal));
	th_path(t, "log", t->log_dir, sizeof(t->log_dir));
	pick_store(t);
	current = t;
	return t;
}

static void close_clients(th_env *t)
{
	for (size_t i = 0; i < t->nclients; i++)
		dtx_client_close(t->clients[i]);
	t->nclients = 0;
}

static void free_env(th_env *t)
{
	for (size_t i = 0; i < t->ndtxd_args; i++)
		free(t->dtxd_args[i]);
	free(t->story);
	free(t);
}

void th_end(th_env *t)
{
	close_clients(t);
	for (size_t i = 0; i < t->nprocs; i++)
		th_proc_kill(&t->procs[i], SIGTERM);
	for (size_t i = 0; i < t->nprocs; i++) {
		th_proc *p = &t->procs[i];

		if (p->pid == 0)
			continue;
		cr_assert(th_proc_wait(p, STOP_WAIT),
		          "%s did not exit within %d ms of SIGTERM", p->name,
		          STOP_WAIT);
		cr_assert_eq(th_proc_exit_code(p), 0,
		             "%s exited with %d after SIGTERM (want 0)",
		             p->name, th_proc_exit_code(p));
	}
	remove_tree(t->dir);
	current = NULL;
	free_env(t);
}

void th_teardown(void)
{
	th_env *t = current;

	if (t == NULL)
		return;
	current = NULL;
	th_log_tail(t, "dtxd", TAIL_LINES);
	cr_log_error("test directory kept: %s", t->dir);
	close_clients(t);
	for (size_t i = 0; i < t->nprocs; i++)
		th_proc_crash(&t->procs[i]);
	free_env(t);
}

void th_use_ipc(th_env *t)
{
	t->use_ipc = true;
}

int th_free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd, port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0, "socket: %s", strerror(errno));
	cr_assert(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "bind: %s",
	          strerror(errno));
	cr_assert(getsockname(fd, (struct sockaddr *)&sa, &len) == 0,
	          "getsockname: %s", strerror(errno));
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

void th_url(th_env *t, const char *name, char *out, size_t outlen)
{
	int n;

	if (t->use_ipc)
		n = snprintf(out, outlen, "ipc://%s/%s.ipc", t->dir, name);
	else
		n = snprintf(out, outlen, "tcp://127.0.0.1:%d", th_free_port());
	cr_assert(n > 0 && (size_t)n < outlen, "url too long for %s", name);
}

/* ---- processes --------------------------------------------------------- */

extern char **environ;

/* child_env returns a copy of the test's environment without DTX_FAULT,
 * plus env_kv if it is not NULL (freed by the caller; the strings are
 * borrowed). Built before fork: the child may only call async-signal-safe
 * functions, and setenv is not one. */
static const char **child_env(const char *env_kv)
{
	static const char fault[] = "DTX_FAULT=";
	const char **envp;
	size_t n = 0, k = 0;

	while (environ[n] != NULL)
		n++;
	envp = calloc(n + 2, sizeof(*envp));
	cr_assert_not_null(envp, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], fault, sizeof(fault) - 1) != 0)
			envp[k++] = environ[i];
	if (env_kv != NULL)
		envp[k++] = env_kv;
	envp[k] = NULL;
	return envp;
}

/* child_exec runs in the forked child: only async-signal-safe calls until
 * execve. */
static void child_exec(pid_t parent, int out_fd, const char *const argv[],
                       const char *const envp[])
{
	sigset_t none;
	int null_fd;

	setpgid(0, 0);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(127);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	null_fd = open("/dev/null", O_RDONLY);
	if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 ||
	    dup2(out_fd, 2) < 0)
		_exit(127);
	/* execve's argv and envp types predate const; it does not write to
	 * them. */
	execve(argv[0], (char *const *)argv, (char *const *)envp);
	_exit(127);
}

th_proc *th_spawn(th_env *t, const char *name, const char *const argv[])
{
	return th_spawn_env(t, name, argv, NULL);
}

th_proc *th_spawn_env(th_env *t, const char *name, const char *const argv[],
                      const char *env_kv)
{
	th_proc *p;
	pid_t parent = getpid();
	pid_t pid;
	char out[PATH_MAX];
	const char **envp;
	int fd;

	cr_assert(env_kv == NULL || strchr(env_kv, '=') != NULL,
	          "'%s' is not NAME=VALUE", env_kv);

	cr_assert_lt(t->nprocs, TH_PROCS_MAX, "too many processes");
	p = &t->procs[t->nprocs];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(out, sizeof(out), "%s.out", name);
	th_path(t, out, p->out_path, sizeof(p->out_path));
	fd = open(p->out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	cr_assert(fd >= 0, "open %s: %s", p->out_path, strerror(errno));
	envp = child_env(env_kv);
	pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0)
		child_exec(parent, fd, argv, envp);
	setpgid(pid, pid); /* also here: no race with a kill of the group */
	free(envp);
	close(fd);
	p->pid = pid;
	t->nprocs++;
	return p;
}

static bool reap(th_proc *p, int flags)
{
	int status;
	pid_t r;

	if (p->pid == 0)
		return true;
	do
		r = waitpid(p->pid, &status, flags);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return false;
	p->status = r > 0 ? status : 0;
	p->pid = 0;
	return true;
}

bool th_proc_wait(th_proc *p, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	while (!reap(p, WNOHANG)) {
		if (now_ms() >= deadline)
			return false;
		sleep_ms(POLL_MS);
	}
	return true;
}

void th_proc_kill(th_proc *p, int sig)
{
	if (p->pid != 0)
		kill(p->pid, sig);
}

void th_proc_crash(th_proc *p)
{
	th_proc_kill(p, SIGKILL);
	reap(p, 0);
}

bool th_proc_is_alive(th_proc *p)
{
	return !reap(p, WNOHANG);
}

int th_proc_fd_count(const th_proc *p)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)p->pid);
	dir = opendir(path);
	cr_assert_not_null(dir, "cannot read %s", path);
	while ((d = readdir(dir)) != NULL)
		n += d->d_name[0] != '.';
	closedir(dir);
	return n;
}

int th_proc_exit_code(const th_proc *p)
{
	cr_assert_eq(p->pid, 0, "%s has not exited", p->name);
	if (WIFEXITED(p->status))
		return WEXITSTATUS(p->status);
	return -WTERMSIG(p->status);
}

static bool file_has_line(const char *path)
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

bool th_wait_ready(th_proc *p, const char *path, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	while (!file_has_line(path)) {
		if (now_ms() >= deadline)
			return false;
		if (p != NULL && !th_proc_is_alive(p))
			return false;
		sleep_ms(POLL_MS);
	}
	return true;
}

/* start_ready spawns argv as name and waits for ready_path (removed first,
 * so a file left by an earlier run does not count). */
static th_proc *start_ready(th_env *t, const char *name,
                            const char *const argv[], const char *ready_path,
                            const char *env_kv)
{
	th_proc *p;

	unlink(ready_path);
	p = th_spawn_env(t, name, argv, env_kv);
	if (!th_wait_ready(p, ready_path, TH_WAIT_READY)) {
		th_log_tail(t, name, TAIL_LINES);
		cr_assert_fail("%s did not become ready within %d ms", name,
		               TH_WAIT_READY);
	}
	return p;
}

/* ---- dtxd and participants --------------------------------------------- */

/* dtxd_argv fills argv (TH_DTXD_ARGS + 20 slots) with dtxd's command
 * line: t's store, address and flags, ready file ready (borrowed). */
static void dtxd_argv(th_env *t, const char *ready, const char **argv)
{
	size_t n = 0;

	argv[n++] = th_exe("DTX_DTXD");
	argv[n++] = "--store";
	argv[n++] = t->log_dir;
	argv[n++] = "--listen";
	argv[n++] = t->dtxd_url;
	argv[n++] = "--ready-file";
	argv[n++] = ready;
	argv[n++] = "--log-level";
	argv[n++] = "debug";
	argv[n++] = "--retry-base-ms";
	argv[n++] = "10";
	argv[n++] = "--retry-max-ms";
	argv[n++] = "200";
	for (size_t i = 0; i < t->ndtxd_args; i++)
		argv[n++] = t->dtxd_args[i];
	argv[n] = NULL;
}

/* dtxd_spawn starts dtxd with t's flags, env_kv (may be NULL) added to
 * its environment, and waits for its ready file. */
static th_proc *dtxd_spawn(th_env *t, const char *env_kv)
{
	char ready[PATH_MAX];
	const char *argv[TH_DTXD_ARGS + 20];

	th_path(t, "dtxd.ready", ready, sizeof(ready));
	dtxd_argv(t, ready, argv);
	t->dtxd = start_ready(t, "dtxd", argv, ready, env_kv);
	return t->dtxd;
}

/* dtxd_start keeps the flags in ap for restarts and starts dtxd on a fresh
 * address with env_kv (not kept). */
static th_proc *dtxd_start(th_env *t, const char *env_kv, va_list ap)
{
	const char *arg;

	cr_assert(t->dtxd == NULL || !th_proc_is_alive(t->dtxd),
	          "dtxd already runs");
	while ((arg = va_arg(ap, const char *)) != NULL) {
		cr_assert_lt(t->ndtxd_args, TH_DTXD_ARGS, "too many flags");
		t->dtxd_args[t->ndtxd_args++] = xstrdup(arg);
	}
	if (!t->pg_store && mkdir(t->log_dir, 0755) != 0)
		cr_assert_eq(errno, EEXIST, "mkdir %s: %s", t->log_dir,
		             strerror(errno));
	th_url(t, "dtxd", t->dtxd_url, sizeof(t->dtxd_url));
	return dtxd_spawn(t, env_kv);
}

th_proc *th_dtxd_start(th_env *t, ...)
{
	th_proc *p;
	va_list ap;

	va_start(ap, t);
	p = dtxd_start(t, NULL, ap);
	va_end(ap);
	return p;
}

th_proc *th_dtxd_start_env(th_env *t, const char *env_kv, ...)
{
	th_proc *p;
	va_list ap;

	va_start(ap, env_kv);
	p = dtxd_start(t, env_kv, ap);
	va_end(ap);
	return p;
}

th_proc *th_dtxd_restart(th_env *t)
{
	cr_assert_not_null(t->dtxd, "dtxd was never started");
	th_proc_crash(t->dtxd);
	return dtxd_spawn(t, NULL);
}

bool th_dtxd_try_restart(th_env *t, int timeout_ms)
{
	char ready[PATH_MAX];
	const char *argv[TH_DTXD_ARGS + 20];

	cr_assert_not_null(t->dtxd, "dtxd was never started");
	th_proc_crash(t->dtxd);
	th_path(t, "dtxd.ready", ready, sizeof(ready));
	dtxd_argv(t, ready, argv);
	unlink(ready);
	t->dtxd = th_spawn(t, "dtxd", argv);
	if (th_wait_ready(t->dtxd, ready, timeout_ms))
		return true;
	th_proc_crash(t->dtxd);
	return false;
}

/* participant_spawn starts part (its name and url set) with env_kv (may be
 * NULL) added to its environment and the extra flags in ap, and waits for
 * its ready file. */
static th_proc *participant_spawn(th_env *t, th_participant *part,
                                  const char *env_kv, va_list ap)
{
	char ready[PATH_MAX], file[TH_NAME_MAX + 8];
	const char *argv[48];
	const char *arg;
	size_t n = 0;

	snprintf(file, sizeof(file), "%s.ready", part->name);
	th_path(t, file, ready, sizeof(ready));
	argv[n++] = th_exe("DTX_SAMPLE_PARTICIPANT");
	argv[n++] = "--url";
	argv[n++] = part->url;
	argv[n++] = "--name";
	argv[n++] = part->name;
	argv[n++] = "--journal";
	argv[n++] = t->journal;
	argv[n++] = "--ready-file";
	argv[n++] = ready;
	while ((arg = va_arg(ap, const char *)) != NULL && n < 47)
		argv[n++] = arg;
	argv[n] = NULL;
	part->proc = start_ready(t, part->name, argv, ready, env_kv);
	return part->proc;
}

/* participant_start adds the participant called name on a fresh address
 * and starts it (see participant_spawn). */
static th_proc *participant_start(th_env *t, const char *name,
                                  const char *env_kv, va_list ap)
{
	th_participant *part;
	th_proc *p;

	cr_assert_lt(t->nparts, TH_PARTS_MAX, "too many participants");
	part = &t->parts[t->nparts];
	snprintf(part->name, sizeof(part->name), "%s", name);
	th_url(t, name, part->url, sizeof(part->url));
	p = participant_spawn(t, part, env_kv, ap);
	t->nparts++;
	return p;
}

th_proc *th_participant_start(th_env *t, const char *name, ...)
{
	th_proc *p;
	va_list ap;

	va_start(ap, name);
	p = participant_start(t, name, NULL, ap);
	va_end(ap);
	return p;
}

th_proc *th_participant_start_env(th_env *t, const char *name,
                                  const char *env_kv, ...)
{
	th_proc *p;
	va_list ap;

	va_start(ap, env_kv);
	p = participant_start(t, name, env_kv, ap);
	va_end(ap);
	return p;
}

th_proc *th_participant_restart(th_env *t, const char *name, ...)
{
	th_participant *part = NULL;
	th_proc *p;
	va_list ap;

	for (size_t i = 0; i < t->nparts; i++)
		if (strcmp(t->parts[i].name, name) == 0)
			part = &t->parts[i];
	cr_assert_not_null(part, "no participant called '%s'", name);
	if (th_proc_is_alive(part->proc)) {
		th_proc_kill(part->proc, SIGKILL);
		th_proc_wait(part->proc, TH_WAIT_READY);
	}
	va_start(ap, name);
	p = participant_spawn(t, part, NULL, ap);
	va_end(ap);
	return p;
}

const char *th_participant_url(th_env *t, const char *name)
{
	for (size_t i = 0; i < t->nparts; i++)
		if (strcmp(t->parts[i].name, name) == 0)
			return t->parts[i].url;
	cr_assert_fail("no participant called '%s'", name);
	return NULL;
}

/* ---- clients and sagas ------------------------------------------------- */

dtx_client *th_client(th_env *t)
{
	dtx_client_opts opts;
	dtx_client *c;
	int err;

	cr_assert_lt(t->nclients, TH_CLIENTS_MAX, "too many clients");
	dtx_client_opts_init(&opts);
	opts.timeout_ms = TH_WAIT_FINAL + CLIENT_SLOP;
	err = dtx_client_open(t->dtxd_url, &opts, &c);
	cr_assert_eq(err, DTX_OK, "dtx_client_open %s: %s", t->dtxd_url,
	             dtx_strerror(err));
	t->clients[t->nclients++] = c;
	return c;
}

/* add_spec_step adds one "ACTION/COMPENSATE" word; the participant is the
 * action's prefix up to the first dot. */
static void add_spec_step(th_env *t, dtx_saga *saga, const char *word)
{
	char buf[2 * DTX_HANDLER_MAX + 2], who[TH_NAME_MAX];
	char *slash, *dot;
	int err;

	cr_assert_lt(strlen(word), sizeof(buf), "step too long: %s", word);
	strcpy(buf, word);
	slash = strchr(buf, '/');
	cr_assert_not_null(slash, "step '%s' is not ACTION/COMPENSATE", word);
	*slash = '\0';
	dot = strchr(buf, '.');
	cr_assert(dot != NULL && (size_t)(dot - buf) < sizeof(who),
	          "step '%s' names no participant", word);
	snprintf(who, sizeof(who), "%.*s", (int)(dot - buf), buf);
	err = dtx_saga_add_step(saga, th_participant_url(t, who), buf,
	                        slash + 1, NULL, 0, 0);
	cr_assert_eq(err, DTX_OK, "add step %s: %s", word, dtx_strerror(err));
}

dtx_saga *th_saga(th_env *t, const char *gid, const char *spec)
{
	char *copy = xstrdup(spec), *rest = copy, *word;
	dtx_saga *saga;
	int err;

	err = dtx_saga_create(gid, &saga);
	cr_assert_eq(err, DTX_OK, "dtx_saga_create: %s", dtx_strerror(err));
	while ((word = strsep(&rest, " ")) != NULL)
		if (word[0] != '\0')
			add_spec_step(t, saga, word);
	free(copy);
	return saga;
}

void th_run(th_env *t, const char *gid, const char *spec, dtx_tx_info *ret_info)
{
	dtx_saga *saga = th_saga(t, gid, spec);
	dtx_client *c = t->nclients > 0 ? t->clients[0] : th_client(t);
	int err;

	err = dtx_client_submit(c, saga, TH_WAIT_FINAL, ret_info);
	dtx_saga_destroy(saga);
	cr_assert_eq(err, DTX_OK, "submit %s: %s", gid ? gid : "(no gid)",
	             dtx_strerror(err));
	cr_assert(dtx_tx_state_is_final(ret_info->state),
	          "%s still %s after %d ms", ret_info->gid,
	          dtx_tx_state_name(ret_info->state), TH_WAIT_FINAL);
}

void th_wait_step_state(th_env *t, dtx_client *c, const char *gid,
                        uint32_t step, dtx_step_state state, int timeout_ms)
{
	dtx_tx_info *info = calloc(1, sizeof(*info));
	int64_t deadline = now_ms() + timeout_ms;
	int err;

	(void)t;
	cr_assert_not_null(info, "out of memory");
	for (;;) {
		err = dtx_client_query(c, gid, 0, info);
		cr_assert_eq(err, DTX_OK, "query %s: %s", gid,
		             dtx_strerror(err));
		cr_assert_lt(step, info->nsteps, "%s has no step %u", gid,
		             step);
		if (info->steps[step].state == state)
			break;
		cr_assert_lt(now_ms(), deadline,
		             "%s step %u is %s, not %s, after %d ms", gid, step,
		             dtx_step_state_name(info->steps[step].state),
		             dtx_step_state_name(state), timeout_ms);
		sleep_ms(POLL_MS);
	}
	free(info);
}

/* ---- journal ----------------------------------------------------------- */

static bool parse_jline(const char *s, th_jline *l)
{
	unsigned branch, attempt;
	int n = sscanf(s, "%128s %u %15s %128s %u %7s %55s", l->gid, &branch,
	               l->op, l->handler, &attempt, l->status, l->traceparent);

	if (n != 7)
		return false;
	l->branch = branch;
	l->attempt = attempt;
	return true;
}

size_t th_journal_read(th_env *t, th_jline **ret_lines)
{
	th_jline *lines = NULL;
	size_t n = 0, cap = 0;
	char buf[1024];
	FILE *f = fopen(t->journal, "r");

	if (f == NULL) {
		cr_assert_eq(errno, ENOENT, "open %s: %s", t->journal,
		             strerror(errno));
		*ret_lines = NULL;
		return 0;
	}
	while (fgets(buf, sizeof(buf), f) != NULL) {
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			lines = realloc(lines, cap * sizeof(*lines));
			cr_assert_not_null(lines, "out of memory");
		}
		cr_assert(parse_jline(buf, &lines[n]), "bad journal line: %s",
		          buf);
		n++;
	}
	fclose(f);
	*ret_lines = lines;
	return n;
}

const char *th_journal_story(th_env *t, const char *gid)
{
	th_jline *lines;
	size_t n = th_journal_read(t, &lines), used = 0;

	if (t->story == NULL) {
		t->story = malloc(STORY_MAX);
		cr_assert_not_null(t->story, "out of memory");
	}
	t->story[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (strcmp(lines[i].gid, gid) != 0)
			continue;
		used += (size_t)snprintf(t->story + used, STORY_MAX - used,
		                         "%s%s:%s", used ? " " : "",
		                         lines[i].handler, lines[i].status);
		cr_assert_lt(used, STORY_MAX, "journal story too long");
	}
	free(lines);
	return t->story;
}

bool th_log_contains(const th_env *t, const char *name, const char *text)
{
	char path[PATH_MAX], file[TH_NAME_MAX + 8];
	char *buf = NULL;
	size_t cap = 0;
	bool found = false;
	FILE *f;

	snprintf(file, sizeof(file), "%s.out", name);
	th_path(t, file, path, sizeof(path));
	f = fopen(path, "r");
	if (f == NULL)
		return false;
	while (!found && getline(&buf, &cap, f) > 0)
		found = strstr(buf, text) != NULL;
	free(buf);
	fclose(f);
	return found;
}

void th_log_tail(const th_env *t, const char *name, int nlines)
{
	char path[PATH_MAX], file[TH_NAME_MAX + 8];
	static char buf[16384];
	size_t len, start;
	FILE *f;

	snprintf(file, sizeof(file), "%s.out", name);
	th_path(t, file, path, sizeof(path));
	f = fopen(path, "r");
	if (f == NULL)
		return;
	/* Keep the last sizeof(buf) bytes, then the last nlines of them. */
	fseek(f, 0, SEEK_END);
	len = (size_t)ftell(f);
	start = len > sizeof(buf) - 1 ? len - (sizeof(buf) - 1) : 0;
	fseek(f, (long)start, SEEK_SET);
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	start = len;
	for (int seen = 0; start > 0; start--)
		if (buf[start - 1] == '\n' && start < len && ++seen > nlines)
			break;
	cr_log_error("last lines of %s:\n%s", path, buf + start);
}

/* ---- dtxctl ------------------------------------------------------------- */

int th_vdtxctl(const char *admin, char *out, size_t outlen, const char *fmt,
               va_list ap)
{
	char args[2048], cmd[8192];
	FILE *p;
	size_t n;
	int status;

	vsnprintf(args, sizeof(args), fmt, ap);
	snprintf(cmd, sizeof(cmd), "%s --admin %s %s", th_exe("DTX_DTXCTL"),
	         admin, args);
	p = popen(cmd, "r");
	cr_assert_not_null(p, "popen %s", cmd);
	n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	status = pclose(p);
	cr_assert(WIFEXITED(status), "%s did not exit", cmd);
	return WEXITSTATUS(status);
}

int th_dtxctl(const char *admin, char *out, size_t outlen, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = th_vdtxctl(admin, out, outlen, fmt, ap);
	va_end(ap);
	return rc;
}
