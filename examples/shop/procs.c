/*
 * procs.c - starting, measuring and stopping dtxd and the shop services
 * (see procs.h).
 *
 * Every wait here is bounded: ready files get READY_MS, a stop gets
 * STOP_MS, then the process is killed. This file never talks to a
 * process other than through signals, files and its exit status.
 *
 * With the fault aid on, a watcher thread polls the services every
 * POLL_MS and restarts one that exited; it holds ps->mu while it reaps
 * and restarts, and every other reader of the pids takes ps->mu too.
 * procs_stop holds ps->mu while it stops everything, then ends the
 * watcher.
 */
#include "procs.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "seed.h"

#define READY_MS   10000
#define STOP_MS    10000
#define POLL_MS    10
#define ARGS_MAX   32
#define TAIL_BYTES 2048

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* exe_dir writes the directory of the running dtx-shop into out. */
static bool exe_dir(char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return false;
	self[n] = '\0';
	return snprintf(out, len, "%s", dirname(self)) < (int)len;
}

/* binary_path finds program name: in o->bin_dir if given; else dtxd in
 * the build tree (../../coordinator from examples/shop) or next to us. */
static bool binary_path(const procs_opts *o, const char *name, char *out,
                        size_t len)
{
	char dir[PATH_MAX];

	if (o->bin_dir != NULL)
		return snprintf(out, len, "%s/%s", o->bin_dir, name) < (int)len;
	if (!exe_dir(dir, sizeof(dir)))
		return false;
	if (strcmp(name, "dtxd") == 0 &&
	    snprintf(out, len, "%s/../../coordinator/dtxd", dir) < (int)len &&
	    access(out, X_OK) == 0)
		return true;
	return snprintf(out, len, "%s/%s", dir, name) < (int)len;
}

extern char **environ;

/* child_exec runs in the forked child: only async-signal-safe calls. */
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

/* spawn starts argv with its output appended to WORKDIR/NAME.log, in
 * envp (NULL: ours). */
static pid_t spawn(const char *workdir, const char *name,
                   const char *const argv[], char *const envp[])
{
	char log[PATH_MAX], file[32];
	pid_t parent = getpid(), pid;
	int fd;

	snprintf(file, sizeof(file), "%s.log", name);
	if (!seed_path(workdir, file, log, sizeof(log)))
		return -1;
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	pid = fork();
	if (pid == 0)
		child_exec(parent, fd, argv, envp != NULL ? envp : environ);
	close(fd);
	if (pid > 0)
		setpgid(pid, pid);
	return pid;
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

/* wait_ready waits for the ready file of p; false if p exited first or
 * READY_MS passed. */
static bool wait_ready(procs_proc *p, const char *ready)
{
	int status;

	for (int i = 0; i < READY_MS / POLL_MS; i++) {
		if (file_has_line(ready))
			return true;
		if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
			p->pid = 0;
			return false;
		}
		sleep_ms(POLL_MS);
	}
	return false;
}

static void print_log_tail(const char *workdir, const char *name)
{
	char path[PATH_MAX], file[32], buf[TAIL_BYTES + 1];
	ssize_t n;
	int fd;

	snprintf(file, sizeof(file), "%s.log", name);
	if (!seed_path(workdir, file, path, sizeof(path)))
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (lseek(fd, 0, SEEK_END) > TAIL_BYTES)
		lseek(fd, -TAIL_BYTES, SEEK_END);
	else
		lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, TAIL_BYTES);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		fprintf(stderr, "--- tail of %s ---\n%s", path, buf);
	}
}

/* start_one spawns argv as p (in envp, NULL: ours) and waits for its
 * ready file. */
static int start_one(const procs_opts *o, procs_proc *p,
                     const char *const argv[], char *const envp[],
                     const char *ready)
{
	unlink(ready);
	p->pid = spawn(o->workdir, p->name, argv, envp);
	if (p->pid < 0) {
		p->pid = 0;
		fprintf(stderr, "dtx-shop: cannot start %s: %s\n", argv[0],
		        strerror(errno));
		return -1;
	}
	if (wait_ready(p, ready))
		return 0;
	fprintf(stderr, "dtx-shop: %s did not become ready within %d ms\n",
	        p->name, READY_MS);
	print_log_tail(o->workdir, p->name);
	return -1;
}

/* free_port is a loopback TCP port that was free a moment ago, or 0. */
static int free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* name_paths fills p's name and url (ipc, or loopback tcp/tls: o's
 * transport) and writes its ready path. */
static bool name_paths(const procs_opts *o, procs_proc *p, const char *name,
                       char *ready, size_t len)
{
	char file[32];
	int port;

	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(file, sizeof(file), "%s.ready", name);
	if (!seed_path(o->workdir, file, ready, len))
		return false;
	if (o->transport != PROCS_IPC) {
		if ((port = free_port()) == 0)
			return false;
		snprintf(p->url, sizeof(p->url), "%s://127.0.0.1:%d",
		         o->transport == PROCS_TLS ? "tls+tcp" : "tcp", port);
		return true;
	}
	/* sun_path holds 108 bytes: a longer ipc path cannot listen. */
	return snprintf(p->url, sizeof(p->url), "ipc://%s/%s.ipc", o->workdir,
	                name) < 100;
}

/* tls_args adds --tls-cert/-key/-ca for certificate who (dtxd: server,
 * a service: part) to argv when o's transport is TLS; paths (3 x
 * PATH_MAX) holds the strings until the process is started. */
static size_t tls_args(const procs_opts *o, const char *who,
                       char (*paths)[PATH_MAX], const char **argv, size_t n)
{
	static const char *const flags[3] = {"--tls-cert", "--tls-key",
	                                     "--tls-ca"};

	if (o->transport != PROCS_TLS)
		return n;
	snprintf(paths[0], PATH_MAX, "%s/%s.pem", o->tls_dir, who);
	snprintf(paths[1], PATH_MAX, "%s/%s.key", o->tls_dir, who);
	snprintf(paths[2], PATH_MAX, "%s/ca.pem", o->tls_dir);
	for (int i = 0; i < 3; i++) {
		argv[n++] = flags[i];
		argv[n++] = paths[i];
	}
	return n;
}

/* start_dtxd starts dtxd instance i of several (several false: the one
 * dtxd, named "dtxd"). */
static int start_dtxd(const procs_opts *o, procs_proc *p, int i, bool several)
{
	char exe[PATH_MAX], ready[PATH_MAX], logdir[PATH_MAX], clients[16];
	char name[16], shards[16], lease[16], tls[3][PATH_MAX];
	const char *argv[ARGS_MAX];
	size_t n = 0;

	snprintf(name, sizeof(name), several ? "dtxd-%c" : "dtxd", 'a' + i);
	snprintf(shards, sizeof(shards), "%d", PROCS_SHARDS);
	snprintf(lease, sizeof(lease), "%u", o->dtxd_lease_ms);
	if (!name_paths(o, p, name, ready, sizeof(ready)) ||
	    !binary_path(o, "dtxd", exe, sizeof(exe)) ||
	    !seed_path(o->workdir, "log", logdir, sizeof(logdir))) {
		fprintf(stderr, "dtx-shop: work directory path too long\n");
		return -1;
	}
	snprintf(clients, sizeof(clients), "%u", o->max_clients);
	argv[n++] = exe;
	argv[n++] = o->dtxd_store != NULL ? "--store" : "--log-dir";
	argv[n++] = o->dtxd_store != NULL ? o->dtxd_store : logdir;
	argv[n++] = "--listen";
	argv[n++] = p->url;
	argv[n++] = "--ready-file";
	argv[n++] = ready;
	argv[n++] = "--log-level";
	argv[n++] = "warn";
	if (o->max_clients > 0) {
		argv[n++] = "--max-clients";
		argv[n++] = clients;
	}
	if (several) {
		argv[n++] = "--shards";
		argv[n++] = shards;
		argv[n++] = "--instance";
		argv[n++] = p->name;
		argv[n++] = "--admin";
		argv[n++] = "none";
	}
	if (several && o->dtxd_lease_ms > 0) {
		argv[n++] = "--lease-ms";
		argv[n++] = lease;
	}
	n = tls_args(o, "server", tls, argv, n);
	argv[n] = NULL;
	return start_one(o, p, argv, NULL, ready);
}

/* start_dtxds starts the dtxd instances o asks for and lists their URLs
 * in ps->dtxd_urls. */
static int start_dtxds(procs *ps, const procs_opts *o)
{
	bool several = o->dtxd_instances > 1;

	ps->ndtxd = several ? (int)o->dtxd_instances : 1;
	if (ps->ndtxd > PROCS_DTXD_MAX || (several && o->dtxd_store == NULL)) {
		fprintf(stderr,
		        "dtx-shop: %d dtxd instances need a "
		        "PostgreSQL store, at most %d\n",
		        ps->ndtxd, PROCS_DTXD_MAX);
		return -1;
	}
	for (int i = 0; i < ps->ndtxd; i++) {
		procs_proc *p = &ps->p[PROCS_DTXD + i];
		size_t len = strlen(ps->dtxd_urls);

		if (start_dtxd(o, p, i, several) != 0)
			return -1;
		snprintf(ps->dtxd_urls + len, sizeof(ps->dtxd_urls) - len,
		         "%s%s", i > 0 ? "," : "", p->url);
	}
	return 0;
}

int procs_kill_dtxd(procs *ps, int i)
{
	procs_proc *p = &ps->p[PROCS_DTXD + i];
	int rc = -1;

	pthread_mutex_lock(&ps->mu);
	if (i >= 0 && i < ps->ndtxd && p->pid > 0 &&
	    kill(p->pid, SIGKILL) == 0) {
		waitpid(p->pid, NULL, 0);
		p->pid = 0;
		rc = 0;
	}
	pthread_mutex_unlock(&ps->mu);
	return rc;
}

/* fault_env returns our environment (without DTX_FAULT) plus kv =
 * "DTX_FAULT=<o->fault>" (freed by the caller; its strings borrowed), or
 * NULL. */
static char **fault_env(const procs_opts *o, char *kv, size_t len)
{
	size_t n = 0, k = 0;
	char **env;

	if (snprintf(kv, len, "DTX_FAULT=%s", o->fault) >= (int)len)
		return NULL;
	while (environ[n] != NULL)
		n++;
	env = calloc(n + 2, sizeof(*env));
	if (env == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "DTX_FAULT=", 10) != 0)
			env[k++] = environ[i];
	env[k] = kv;
	return env;
}

/* start_service starts one service on its store (--data DIR, or --store
 * URI when the work directory puts it in PostgreSQL: seed.h); it cleans
 * its barrier records by asking the coordinator at coord_url (borrowed)
 * which are final. */
static int start_service(const procs_opts *o, shop_service_id id, procs_proc *p,
                         const char *coord_url, bool armed)
{
	char kv[160], **env = NULL;
	int rc;
	char exe[PATH_MAX], prog[32], ready[PATH_MAX], data[PATH_MAX];
	char workers[16], uri[4096], tls[3][PATH_MAX];
	bool pg = seed_store_uri(o->workdir, id, uri, sizeof(uri));
	const char *argv[ARGS_MAX];
	size_t n = 0;

	snprintf(prog, sizeof(prog), "dtx-shop-%s", shop_service_name(id));
	if (!name_paths(o, p, shop_service_name(id), ready, sizeof(ready)) ||
	    !binary_path(o, prog, exe, sizeof(exe)) ||
	    !seed_store_dir(o->workdir, id, data, sizeof(data))) {
		fprintf(stderr, "dtx-shop: work directory path too long\n");
		return -1;
	}
	snprintf(workers, sizeof(workers), "%u", o->workers);
	argv[n++] = exe;
	argv[n++] = "--url";
	argv[n++] = p->url;
	argv[n++] = pg ? "--store" : "--data";
	argv[n++] = pg ? uri : data;
	argv[n++] = "--ready-file";
	argv[n++] = ready;
	argv[n++] = "--coordinator";
	argv[n++] = coord_url;
	if (o->workers > 0) {
		argv[n++] = "--workers";
		argv[n++] = workers;
	}
	if (o->fault != NULL || o->journal)
		argv[n++] = "--journal";
	n = tls_args(o, "part", tls, argv, n);
	argv[n] = NULL;
	if (armed && (env = fault_env(o, kv, sizeof(kv))) == NULL) {
		fprintf(stderr, "dtx-shop: --fault: out of memory\n");
		return -1;
	}
	rc = start_one(o, p, argv, env, ready);
	free(env);
	return rc;
}

/* watch_once reaps a service that exited and starts it again (without
 * the fault); ps->mu held. */
static void watch_once(procs *ps)
{
	int status;

	for (int id = 0; id < SHOP_SVC_COUNT; id++) {
		procs_proc *p = &ps->p[id];

		if (p->pid <= 0 || waitpid(p->pid, &status, WNOHANG) != p->pid)
			continue;
		fprintf(stderr, "dtx-shop: %s died (%s %d): restarting it\n",
		        p->name, WIFSIGNALED(status) ? "signal" : "exit",
		        WIFSIGNALED(status) ? WTERMSIG(status)
		                            : WEXITSTATUS(status));
		p->pid = 0;
		if (start_service(&ps->o, (shop_service_id)id, p, ps->dtxd_urls,
		                  false) == 0)
			atomic_fetch_add(&ps->restarts, 1);
	}
}

static void *watch_main(void *arg)
{
	procs *ps = arg;

	for (;;) {
		pthread_mutex_lock(&ps->mu);
		if (atomic_load(&ps->stopping)) {
			pthread_mutex_unlock(&ps->mu);
			return NULL;
		}
		watch_once(ps);
		pthread_mutex_unlock(&ps->mu);
		sleep_ms(POLL_MS);
	}
}

const dtx_tls_opts *procs_client_tls(const procs *ps)
{
	return ps->o.transport == PROCS_TLS ? &ps->client_tls : NULL;
}

/* client_tls fills ps's client TLS settings from its certificates. */
static void client_tls(procs *ps)
{
	dtx_tls_opts_init(&ps->client_tls);
	snprintf(ps->tls_paths[0], PATH_MAX, "%s/client.pem", ps->o.tls_dir);
	snprintf(ps->tls_paths[1], PATH_MAX, "%s/client.key", ps->o.tls_dir);
	snprintf(ps->tls_paths[2], PATH_MAX, "%s/ca.pem", ps->o.tls_dir);
	ps->client_tls.cert_file = ps->tls_paths[0];
	ps->client_tls.key_file = ps->tls_paths[1];
	ps->client_tls.ca_file = ps->tls_paths[2];
}

int procs_start(procs *ps, const procs_opts *o)
{
	memset(ps, 0, sizeof(*ps));
	ps->o = *o;
	pthread_mutex_init(&ps->mu, NULL);
	if (o->transport == PROCS_TLS)
		client_tls(ps);
	if (start_dtxds(ps, o) != 0)
		goto fail;
	for (int id = 0; id < SHOP_SVC_COUNT; id++)
		if (start_service(
		            o, (shop_service_id)id, &ps->p[id], ps->dtxd_urls,
		            o->fault != NULL &&
		                    (shop_service_id)id == o->fault_svc) != 0)
			goto fail;
	if (o->fault != NULL) {
		if (pthread_create(&ps->watcher, NULL, watch_main, ps) != 0) {
			fprintf(stderr, "dtx-shop: cannot start a thread\n");
			goto fail;
		}
		ps->watching = true;
	}
	return 0;
fail:
	procs_stop(ps);
	return -1;
}

unsigned procs_restarts(procs *ps)
{
	return atomic_load(&ps->restarts);
}

/* cpu_ticks reads utime + stime (fields 14 and 15) of pid. */
static unsigned long long cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold spaces */
	if (p == NULL || sscanf(p + 1,
	                        " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
	                        "%*u %llu %llu",
	                        &ut, &st) != 2)
		return 0;
	return ut + st;
}

double procs_cpu_ms(procs *ps)
{
	unsigned long long ticks = 0;
	long hz = sysconf(_SC_CLK_TCK);

	pthread_mutex_lock(&ps->mu);
	for (int i = 0; i < PROCS_COUNT; i++)
		if (ps->p[i].pid > 0)
			ticks += cpu_ticks(ps->p[i].pid);
	pthread_mutex_unlock(&ps->mu);
	return hz > 0 ? (double)ticks * 1000.0 / (double)hz : 0.0;
}

/* reap waits up to STOP_MS for p; then kills it. Returns its exit code,
 * or -1 if it had to be killed or died of a signal. */
static int reap(procs_proc *p)
{
	int status;

	for (int i = 0; i < STOP_MS / POLL_MS; i++) {
		if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
			p->pid = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		}
		sleep_ms(POLL_MS);
	}
	kill(p->pid, SIGKILL);
	waitpid(p->pid, &status, 0);
	p->pid = 0;
	return -1;
}

int procs_stop(procs *ps)
{
	int bad = 0, code;

	/* The watcher is joined only after every child is reaped: a child
	 * it started gets PR_SET_PDEATHSIG from its thread, and would die
	 * of that thread's exit. */
	pthread_mutex_lock(&ps->mu);
	atomic_store(&ps->stopping, true);
	for (int i = 0; i < PROCS_COUNT; i++)
		if (ps->p[i].pid > 0)
			kill(ps->p[i].pid, SIGTERM);
	for (int i = 0; i < PROCS_COUNT; i++) {
		if (ps->p[i].pid <= 0)
			continue;
		code = reap(&ps->p[i]);
		if (code != 0) {
			fprintf(stderr, "dtx-shop: %s exited with %d\n",
			        ps->p[i].name, code);
			bad++;
		}
	}
	pthread_mutex_unlock(&ps->mu);
	if (ps->watching)
		pthread_join(ps->watcher, NULL);
	ps->watching = false;
	pthread_mutex_destroy(&ps->mu);
	return bad;
}
