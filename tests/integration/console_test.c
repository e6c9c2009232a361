/*
 * console_test.c - the operator console (dtxd --http) against a real dtxd
 * and a real participant, with a transaction made stuck on purpose (its
 * second branch answers RETRY for ever, so it is flagged needs-operator):
 *
 *   - the JSON API answers what dtxctl -o json answers (the same
 *     transaction, the same fields), filters by state, mode, age and a
 *     piece of the gid, and refuses every hostile request with a clear
 *     status (400 naming the parameter, 404, 405, 413, 403, 414/431)
 *     while dtxd serves on;
 *   - idle connections past the console's bound neither stall the client
 *     API nor grow dtxd's descriptors without bound;
 *   - a bad --http address is a usage error (64), a taken one stops the
 *     start (69), each naming --http;
 *   - a request the engine holds (its stats scan held at a hold point)
 *     when dtxd is told to stop is answered 503, and dtxd exits 0;
 *   - a real headless Chromium (console_browser.py over WebDriver) finds
 *     the stuck transaction in the console, opens its timeline and
 *     branches, filters the list, and leaves a screenshot in the build's
 *     meson-logs/console.png (DTX_ARTIFACTS; console-pg.png on the
 *     PostgreSQL store).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "harness.h"

#define BODY_MAX   (1u << 20)
#define IDLE_EXTRA 4 /* idle connections past the per-address bound */

TestSuite(console, .fini = th_teardown, .timeout = 120);

typedef struct console {
	th_env *t;
	int port;
	char http[64];
	char admin[TH_URL_MAX];
	char body[BODY_MAX];
	th_proc *dtxd;
} console;

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* dial connects to the console (receives bounded by 10 s), or -1. */
static int dial(const console *c)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons((uint16_t)c->port)};
	struct timeval tv = {10, 0};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* raw sends len bytes of a request as they are and returns the status of
 * the answer (0: the connection closed without one); the body goes to
 * c->body. */
static int raw(console *c, const char *req, size_t len)
{
	int fd = dial(c), status = 0;
	size_t n = 0;
	ssize_t r;
	char *body;

	cr_assert_geq(fd, 0, "cannot connect to the console");
	if (send(fd, req, len, MSG_NOSIGNAL) < 0)
		len = 0;
	while (n < sizeof(c->body) - 1 &&
	       (r = recv(fd, c->body + n, sizeof(c->body) - 1 - n, 0)) > 0)
		n += (size_t)r;
	close(fd);
	c->body[n] = '\0';
	sscanf(c->body, "HTTP/1.%*d %d", &status);
	body = strstr(c->body, "\r\n\r\n");
	if (body != NULL)
		memmove(c->body, body + 4, strlen(body + 4) + 1);
	return status;
}

static int raw_str(console *c, const char *req)
{
	return raw(c, req, strlen(req));
}

/* request asks for target with method and extra header lines (may be ""). */
static int request(console *c, const char *method, const char *target,
                   const char *extra)
{
	static char req[64 << 10];
	int n = snprintf(req, sizeof(req),
	                 "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s"
	                 "Connection: close\r\n\r\n",
	                 method, target, c->port, extra);

	cr_assert_lt((size_t)n, sizeof(req));
	return raw(c, req, (size_t)n);
}

static int get(console *c, const char *target)
{
	return request(c, "GET", target, "");
}

/* get_json asks for target, asserts 200 and parses the body (schema 1). */
static json_t *get_json(console *c, const char *target)
{
	json_error_t err;
	int status = get(c, target);
	json_t *o;

	cr_assert_eq(status, 200, "GET %s: %d %s", target, status, c->body);
	o = json_loads(c->body, 0, &err);
	cr_assert_not_null(o, "GET %s: not JSON (%s): %s", target, err.text,
	                   c->body);
	cr_assert_eq(json_integer_value(json_object_get(o, "schema")), 1);
	return o;
}

static console *start(th_env *t)
{
	console *c = calloc(1, sizeof(*c));

	cr_assert_not_null(c);
	c->t = t;
	c->port = th_free_port();
	snprintf(c->http, sizeof(c->http), "127.0.0.1:%d", c->port);
	th_url(t, "admin", c->admin, sizeof(c->admin));
	c->dtxd = th_dtxd_start(t, "--http", c->http, "--admin", c->admin,
	                        "--stuck-after-attempts", "3",
	                        "--action-max-attempts", "0", NULL);
	th_participant_start(t, "p1", "--flaky", "1000000", NULL);
	return c;
}

static void submit(th_env *t, const char *gid, const char *spec)
{
	dtx_saga *saga = th_saga(t, gid, spec);
	dtx_tx_info info;
	int err = dtx_client_submit(th_client(t), saga, 0, &info);

	dtx_saga_destroy(saga);
	cr_assert_eq(err, DTX_OK, "submit %s: %s", gid, dtx_strerror(err));
}

/* has_gid: the list reply o holds gid. */
static bool has_gid(json_t *o, const char *gid)
{
	json_t *tx;
	size_t i;

	json_array_foreach(
	        json_object_get(o, "transactions"), i,
	        tx) if (strcmp(json_string_value(json_object_get(tx, "gid")),
	                       gid) == 0) return true;
	return false;
}

/* await_stuck polls the API until gid is listed as needing an operator. */
static void await_stuck(console *c, const char *gid)
{
	for (int waited = 0; waited < TH_WAIT_FINAL; waited += 100) {
		json_t *o = get_json(c, "/api/transactions?needs_operator=1");
		bool found = has_gid(o, gid);
		json_decref(o);
		if (found)
			return;
		sleep_ms(100);
	}
	cr_assert_fail("%s never listed as needing an operator", gid);
}

/* a stuck saga (branch 1 retried for ever) and a committed one */
static console *shop(void)
{
	th_env *t = th_begin();
	console *c = start(t);
	dtx_tx_info info;

	submit(t, "stuck-1", "p1.do/p1.undo p1.flaky/p1.undo");
	th_run(t, "ok-1", "p1.do/p1.undo", &info);
	cr_assert_eq(info.state, DTX_TX_COMMITTED);
	await_stuck(c, "stuck-1");
	return c;
}

/* dtxctl_show returns `dtxctl -o json show gid`, parsed. */
static json_t *dtxctl_show(console *c, const char *gid)
{
	char cmd[TH_URL_MAX * 2 + 64];
	json_error_t err;
	FILE *p;
	size_t n;
	json_t *o;

	snprintf(cmd, sizeof(cmd), "%s --admin %s --output json show %s",
	         th_exe("DTX_DTXCTL"), c->admin, gid);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	n = fread(c->body, 1, sizeof(c->body) - 1, p);
	c->body[n] = '\0';
	cr_assert_eq(pclose(p), 0, "%s: %s", cmd, c->body);
	o = json_loads(c->body, 0, &err);
	cr_assert_not_null(o, "dtxctl: %s", c->body);
	return o;
}

Test(console, api_answers_what_dtxctl_answers)
{
	console *c = shop();
	json_t *o = get_json(c, "/api/transactions/stuck-1?events=500");
	json_t *ctl = dtxctl_show(c, "stuck-1");
	json_t *tx = json_object_get(o, "transaction");

	/* the same transaction, field for field (updated_unix_ms and
	 * attempts move while it is retried: compared by presence) */
	cr_assert_str_eq(json_string_value(json_object_get(o, "command")),
	                 "show");
	cr_assert(json_is_true(json_object_get(tx, "needs_operator")));
	cr_assert_eq(json_object_size(tx),
	             json_object_size(json_object_get(ctl, "transaction")));
	cr_assert(json_equal(
	        json_object_get(tx, "gid"),
	        json_object_get(json_object_get(ctl, "transaction"), "gid")));
	cr_assert_eq(json_array_size(json_object_get(tx, "branches")), 2);
	cr_assert_gt(json_array_size(json_object_get(o, "timeline")), 0);
	json_decref(o);
	json_decref(ctl);

	o = get_json(c, "/api/transactions?gid=uck-&final=1");
	cr_assert(has_gid(o, "stuck-1") && !has_gid(o, "ok-1"));
	json_decref(o);
	o = get_json(c, "/api/transactions?state=committed&mode=saga");
	cr_assert(has_gid(o, "ok-1") && !has_gid(o, "stuck-1"));
	json_decref(o);
	o = get_json(c, "/api/transactions?older_than=1d&final=1");
	cr_assert_eq(json_array_size(json_object_get(o, "transactions")), 0);
	json_decref(o);
	o = get_json(c, "/api/transactions?final=true&limit=1");
	cr_assert_eq(json_array_size(json_object_get(o, "transactions")), 1);
	cr_assert(json_is_string(json_object_get(o, "next_after")));
	json_decref(o);
	o = get_json(c, "/api/stats");
	cr_assert_geq(json_integer_value(json_object_get(o, "needs_operator")),
	              1);
	json_decref(o);
	cr_assert_eq(get(c, "/api/transactions/nope-1"), 404);
	cr_assert_eq(request(c, "HEAD", "/", ""), 200);
	th_end(c->t);
	free(c);
}

typedef struct hostile {
	const char *method, *target, *extra;
	int status;      /* 0: closed without an answer is fine too */
	const char *say; /* in the body */
} hostile;

static const hostile hostiles[] = {
        {"GET", "/api/transactions?state=bogus", "", 400, "state must"},
        {"GET", "/api/transactions?limit=0", "", 400, "limit must"},
        {"GET", "/api/transactions?limit=201", "", 400, "limit must"},
        {"GET", "/api/transactions?limit=99999999999999999999", "", 400,
         "limit must"},
        {"GET", "/api/transactions?limit=-1", "", 400, "limit must"},
        {"GET", "/api/transactions?older_than=10years", "", 400,
         "older_than must"},
        {"GET", "/api/transactions?older_than=", "", 400,
         "older_than has no value"},
        {"GET", "/api/transactions?mode=saga&mode=tcc", "", 400,
         "mode is given more than once"},
        {"GET", "/api/transactions?needs_operator=yes", "", 400,
         "needs_operator must"},
        {"GET", "/api/transactions?gid=%3Cscript%3E", "", 400, "gid must"},
        {"GET", "/api/transactions?gid=stuck%00-1", "", 400, "gid must"},
        {"GET", "/api/transactions?participant=http://x:1", "", 400,
         "participant must"},
        {"GET", "/api/transactions?evil%3Cx%3E=1", "", 400,
         "unknown parameter (not shown)"},
        {"GET", "/api/transactions?events=5", "", 400,
         "unknown parameter 'events'"},
        {"GET", "/api/stats?limit=5", "", 400, "unknown parameter 'limit'"},
        {"GET", "/api/transactions/bad%2Fgid", "", 400, "gid in the path"},
        {"GET", "/api/transactions/stuck-1?events=0", "", 400, "events must"},
        {"GET", "/api/nothing", "", 404, "no such API call"},
        {"GET", "/nothing.html", "", 404, "no such page"},
        {"GET", "/../../etc/passwd", "", 400, "printable ASCII"},
        {"POST", "/api/stats", "", 405, "read-only"},
        {"DELETE", "/api/transactions/stuck-1", "", 405, "read-only"},
        {"GET", "/api/stats", "Content-Length: 5\r\n", 413, "no body"},
};

Test(console, api_refuses_hostile_requests_and_serves_on)
{
	console *c = shop();
	static char big[48 << 10];
	static char target[48 << 10];
	int status;

	for (size_t i = 0; i < sizeof(hostiles) / sizeof(hostiles[0]); i++) {
		const hostile *h = &hostiles[i];
		status = request(c, h->method, h->target, h->extra);
		cr_assert_eq(status, h->status, "%s %s: %d, not %d: %s",
		             h->method, h->target, status, h->status, c->body);
		cr_assert(strstr(c->body, h->say) != NULL,
		          "%s %s: no '%s' in %s", h->method, h->target, h->say,
		          c->body);
	}
	/* a long gid and a long cursor */
	memset(target, 'a', 300);
	memcpy(target, "/api/transactions/", 18);
	target[300] = '\0';
	cr_assert_eq(get(c, target), 400);
	memcpy(target, "/api/transactions?after=", 24);
	cr_assert_eq(get(c, target), 400);
	cr_assert(strstr(c->body, "after must") != NULL, "%s", c->body);
	/* another site's name for this address (DNS rebinding) */
	cr_assert_eq(raw_str(c, "GET /api/stats HTTP/1.1\r\nHost: "
	                        "evil.example\r\nConnection: close\r\n\r\n"),
	             403);
	/* a 40 KiB header and a 40 KiB URL, past the connection's memory */
	memset(big, 'x', sizeof(big) - 1);
	memcpy(big, "X-Big: ", 7);
	memcpy(big + (40 << 10), "\r\n", 3);
	cr_assert_geq(request(c, "GET", "/api/stats", big), 400);
	memset(target, 'a', 40 << 10);
	memcpy(target, "/api/transactions?gid=", 22);
	target[40 << 10] = '\0';
	cr_assert_geq(get(c, target), 400);
	/* not HTTP at all */
	status = raw_str(c, "\x16\x03\x01garbage\r\n\r\n");
	cr_assert(status == 0 || status / 100 == 4, "%d", status);
	/* dtxd serves on */
	cr_assert(th_proc_is_alive(c->dtxd));
	json_decref(get_json(c, "/api/stats"));
	th_end(c->t);
	free(c);
}

Test(console, idle_connections_stall_neither_dtxd_nor_its_descriptors)
{
	console *c = shop();
	int fds[16 + IDLE_EXTRA], before = th_proc_fd_count(c->dtxd);
	dtx_tx_info info;

	/* connections that never send a byte: past the per-address bound
	 * the console refuses them, and the engine never sees them */
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		fds[i] = dial(c);
	cr_assert_eq(dtx_client_query(th_client(c->t), "ok-1", 0, &info),
	             DTX_OK);
	cr_assert_eq(info.state, DTX_TX_COMMITTED);
	cr_assert_leq(th_proc_fd_count(c->dtxd), before + 16 + IDLE_EXTRA,
	              "%d descriptors, %d before", th_proc_fd_count(c->dtxd),
	              before);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	/* once they are gone the console answers again (bounded wait: the
	 * server notices the closes on its own thread) */
	for (int waited = 0; get(c, "/api/stats") != 200; waited += 100) {
		cr_assert_lt(waited, 10000, "the console did not recover");
		sleep_ms(100);
	}
	th_end(c->t);
	free(c);
}

/* run_dtxd runs dtxd with --http addr on a fresh log and returns its exit
 * code (it must exit by itself within 30 s). */
static int run_dtxd(th_env *t, const char *name, const char *addr)
{
	char dir[4096], url[TH_URL_MAX];
	const char *argv[] = {
	        th_exe("DTX_DTXD"), "--log-dir", dir,      "--listen", url,
	        "--admin",          "none",      "--http", addr,       NULL};
	th_proc *p;

	th_path(t, name, dir, sizeof(dir));
	th_url(t, name, url, sizeof(url));
	p = th_spawn(t, name, argv);
	cr_assert(th_proc_wait(p, 30000), "dtxd --http %s did not exit", addr);
	return th_proc_exit_code(p);
}

Test(console, dtxd_refuses_a_bad_or_taken_http_address)
{
	th_env *t = th_begin();
	console *c = start(t);

	/* not an address: a usage error (64) naming --http */
	cr_assert_eq(run_dtxd(t, "bad-1", "example.com:80"), 64);
	cr_assert_eq(run_dtxd(t, "bad-2", "127.0.0.1:0"), 64);
	cr_assert_eq(run_dtxd(t, "bad-3", "127.0.0.1:65536"), 64);
	cr_assert_eq(run_dtxd(t, "bad-4", "[::1:80"), 64);
	cr_assert(th_log_contains(t, "bad-1",
	                          "--http example.com:80: not "
	                          "HOST:PORT"));
	/* the console's address in use: dtxd does not start (69) */
	cr_assert_eq(run_dtxd(t, "taken", c->http), 69);
	cr_assert(th_log_contains(t, "taken",
	                          "cannot listen: Address already "
	                          "in use"));
	th_end(t);
	free(c);
}

typedef struct held_get {
	console *c;
	int status;
} held_get;

static void *get_stats(void *arg)
{
	held_get *g = arg;

	g->status = get(g->c, "/api/stats");
	return NULL;
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

Test(console, a_request_held_by_the_engine_gets_503_when_dtxd_stops)
{
	th_env *t;
	console *c;
	char hold[4096], held[4200], env[4300];
	held_get g = {0};
	pthread_t th;

	if (getenv("DTX_FAULT_POINTS") == NULL)
		cr_skip_test("needs hold points (-Dfault_points=true)");
	t = th_begin();
	c = calloc(1, sizeof(*c));
	cr_assert_not_null(c);
	c->t = t;
	c->port = th_free_port();
	snprintf(c->http, sizeof(c->http), "127.0.0.1:%d", c->port);
	th_path(t, "hold", hold, sizeof(hold));
	snprintf(held, sizeof(held), "%s.held", hold);
	snprintf(env, sizeof(env), "DTX_HOLD=admin.stats@%s", hold);
	fclose(fopen(hold, "w"));
	c->dtxd = th_dtxd_start_env(t, env, "--http", c->http, "--admin",
	                            "none", NULL);
	g.c = c;
	cr_assert_eq(pthread_create(&th, NULL, get_stats, &g), 0);
	for (int ms = 0; !exists(held); ms += 10) {
		cr_assert_lt(ms, 30000,
		             "the stats scan never reached its hold");
		sleep_ms(10);
	}
	th_proc_kill(c->dtxd, SIGTERM);
	pthread_join(th, NULL); /* answered while the scan is still held */
	cr_assert_eq(g.status, 503, "%d: %s", g.status, c->body);
	cr_assert(strstr(c->body, "stopping") != NULL, "%s", c->body);
	cr_assert_eq(unlink(hold), 0);
	cr_assert(th_proc_wait(c->dtxd, 30000), "dtxd did not stop");
	cr_assert_eq(th_proc_exit_code(c->dtxd), 0);
	th_end(t);
	free(c);
}

/* browser runs console_browser.py; its exit code (77: no browser). */
static int browser(console *c, const char *gid, const char *shot)
{
	char cmd[8192];
	int status;

	snprintf(cmd, sizeof(cmd), "python3 %s http://%s/ %s %s 1>&2",
	         th_exe("DTX_CONSOLE_BROWSER"), c->http, gid, shot);
	status = system(cmd);
	cr_assert(WIFEXITED(status), "%s did not exit", cmd);
	return WEXITSTATUS(status);
}

Test(console, a_browser_finds_the_stuck_transaction_and_its_timeline,
     .timeout = 240)
{
	console *c;
	char shot[4096];
	const char *dir = getenv("DTX_ARTIFACTS");
	const char *store = getenv("DTX_TEST_STORE");
	int rc;

	if (system("command -v chromium >/dev/null && "
	           "command -v chromedriver >/dev/null") != 0)
		cr_skip_test("chromium and chromium-driver are not installed "
		             "(scripts/setup.sh installs them)");
	c = shop();
	snprintf(shot, sizeof(shot), "%s/console%s.png", dir ? dir : ".",
	         store != NULL && strcmp(store, "postgresql") == 0 ? "-pg"
	                                                           : "");
	rc = browser(c, "stuck-1", shot);
	cr_assert_eq(rc, 0,
	             "the console did not show stuck-1 as expected "
	             "(its output is above; screenshot %s)",
	             shot);
	th_end(c->t);
	free(c);
}
