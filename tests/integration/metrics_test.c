/*
 * metrics_test.c - dtxd's /metrics, /livez and /readyz (dtxd --http)
 * against a real dtxd and real participants, scraped over HTTP and parsed:
 *
 *   - every line of /metrics is valid text exposition format 0.0.4: a
 *     HELP and a TYPE once per family, before its samples, the samples of
 *     a family together, label values quoted and escaped, no series twice;
 *     counters end in _total; each histogram's buckets are cumulative,
 *     end with le="+Inf", and +Inf equals _count;
 *   - the values move as the test drives them: sagas committed and
 *     compensated, a TCC transaction confirmed, branch calls by
 *     participant, handler and outcome, retries and a transaction flagged
 *     for an operator, group commits, the log's size;
 *   - /readyz answers 503 "starting" while recovery runs (held at the
 *     dtxd.recovery hold point, DTX_HOLD; fault-point builds only), and
 *     200 once recovered; /livez answers 200;
 *   - on a PostgreSQL store with shard leases (suite postgres only, a
 *     private cluster): /readyz is 503 while the server is stopped
 *     (SIGSTOP of every PostgreSQL process: no lease round gets through),
 *     with the reason, and 200 again once it runs, dtxd serving on;
 *   - a taken --http address stops the start (69), naming --http;
 *   - libdtx's own counters, as a service exports them
 *     (dtx_participant_metrics_text of a participant served in this
 *     process, dtx_client_metrics_text of the test's client), parse by
 *     the same rules, count what went through them, take a prefix of the
 *     caller's, refuse a bad one, and report the full length of a text
 *     cut short as snprintf does.
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "pgtmp.h"

#define BODY_MAX    (1u << 20)
#define SAMPLES_MAX 4096
#define FAMS_MAX    128
#define WAIT_MS     25000 /* the longest any poll below waits */

TestSuite(metrics, .fini = th_teardown, .timeout = 120);

/* ---- HTTP ---------------------------------------------------------------- */

typedef struct http {
	int port;
	char addr[64];
	char body[BODY_MAX];
} http;

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* get asks for path (receives bounded by 10 s) and returns the status (0:
 * no answer); the body goes to h->body. */
static int get(http *h, const char *method, const char *path)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons((uint16_t)h->port)};
	struct timeval tv = {10, 0};
	char req[256];
	int fd = socket(AF_INET, SOCK_STREAM, 0), status = 0, n;
	size_t got = 0;
	ssize_t r;
	char *body;

	cr_assert_geq(fd, 0);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	h->body[0] = '\0';
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return 0;
	}
	n = snprintf(req, sizeof(req),
	             "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: "
	             "close\r\n\r\n",
	             method, path, h->port);
	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) == n)
		while (got < sizeof(h->body) - 1 &&
		       (r = recv(fd, h->body + got, sizeof(h->body) - 1 - got,
		                 0)) > 0)
			got += (size_t)r;
	close(fd);
	h->body[got] = '\0';
	sscanf(h->body, "HTTP/1.%*d %d", &status);
	body = strstr(h->body, "\r\n\r\n");
	if (body != NULL)
		memmove(h->body, body + 4, strlen(body + 4) + 1);
	return status;
}

/* ---- the exposition format ---------------------------------------------- */

typedef struct fam {
	char name[128];
	char type[16];
	bool help, typed, sampled;
} fam;

typedef struct sample {
	char name[128];
	char labels[1024]; /* as written, without the braces */
	double value;
	size_t fam;
} sample;

typedef struct scrape {
	fam fams[FAMS_MAX];
	size_t nfams;
	sample s[SAMPLES_MAX];
	size_t ns;
} scrape;

static bool is_name(const char *s, size_t n)
{
	if (n == 0 || n >= 128 ||
	    !(s[0] == '_' || s[0] == ':' ||
	      ((s[0] | 32) >= 'a' && (s[0] | 32) <= 'z')))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(s[i] == '_' || s[i] == ':' ||
		      ((s[i] | 32) >= 'a' && (s[i] | 32) <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

static fam *fam_find(scrape *sc, const char *name)
{
	for (size_t i = 0; i < sc->nfams; i++)
		if (strcmp(sc->fams[i].name, name) == 0)
			return &sc->fams[i];
	return NULL;
}

/* fam_take finds name's family or adds it (a family comes back only if
 * it has no samples yet: its HELP and TYPE come before them). */
static fam *fam_take(scrape *sc, const char *name, const char *line)
{
	fam *f = fam_find(sc, name);

	if (f != NULL) {
		cr_assert(!f->sampled, "HELP/TYPE after samples: %s", line);
		return f;
	}
	cr_assert_lt(sc->nfams, FAMS_MAX);
	f = &sc->fams[sc->nfams++];
	snprintf(f->name, sizeof(f->name), "%s", name);
	return f;
}

static void parse_meta(scrape *sc, const char *line)
{
	char kind[8], name[128];
	int used = 0;
	fam *f;

	cr_assert_eq(sscanf(line, "# %7s %127s %n", kind, name, &used), 2,
	             "a comment line that is neither HELP nor TYPE: %s", line);
	cr_assert(is_name(name, strlen(name)), "bad name: %s", line);
	f = fam_take(sc, name, line);
	if (strcmp(kind, "HELP") == 0) {
		cr_assert(!f->help, "HELP twice: %s", line);
		cr_assert_gt(strlen(line + used), 0, "empty HELP: %s", line);
		f->help = true;
		return;
	}
	cr_assert_str_eq(kind, "TYPE", "%s", line);
	cr_assert(!f->typed, "TYPE twice: %s", line);
	cr_assert(strcmp(line + used, "counter") == 0 ||
	                  strcmp(line + used, "gauge") == 0 ||
	                  strcmp(line + used, "histogram") == 0 ||
	                  strcmp(line + used, "summary") == 0 ||
	                  strcmp(line + used, "untyped") == 0,
	          "bad TYPE: %s", line);
	snprintf(f->type, sizeof(f->type), "%s", line + used);
	f->typed = true;
	if (strcmp(f->type, "counter") == 0) {
		size_t n = strlen(name);
		cr_assert(n > 6 && strcmp(name + n - 6, "_total") == 0,
		          "a counter not named _total: %s", line);
	}
}

/* parse_labels checks {a="x",b="y"} at *p and leaves *p after '}'. */
static void parse_labels(const char **p, char *out, size_t outlen,
                         const char *line)
{
	const char *s = *p + 1, *start = s;

	while (*s != '}') {
		const char *eq = strchr(s, '=');
		cr_assert(eq != NULL && is_name(s, (size_t)(eq - s)) &&
		                  eq[1] == '"',
		          "bad label: %s", line);
		for (s = eq + 2; *s != '"'; s++) {
			cr_assert(*s != '\0' && *s != '\n', "open label: %s",
			          line);
			if (*s == '\\') {
				s++;
				cr_assert(*s == '\\' || *s == '"' || *s == 'n',
				          "bad escape: %s", line);
			}
		}
		s++;
		if (*s == ',')
			s++;
		else
			cr_assert_eq(*s, '}', "bad label list: %s", line);
	}
	cr_assert_lt((size_t)(s - start), outlen);
	memcpy(out, start, (size_t)(s - start));
	out[s - start] = '\0';
	*p = s + 1;
}

/* family_of is the family a sample name belongs to: itself, or a
 * histogram's name for its _bucket, _sum and _count. */
static fam *family_of(scrape *sc, const char *name)
{
	static const char *const sfx[] = {"_bucket", "_sum", "_count"};
	char base[128];
	fam *f = fam_find(sc, name);

	if (f != NULL && strcmp(f->type, "histogram") != 0)
		return f;
	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(name), k = strlen(sfx[i]);
		if (n <= k || strcmp(name + n - k, sfx[i]) != 0)
			continue;
		snprintf(base, sizeof(base), "%.*s", (int)(n - k), name);
		f = fam_find(sc, base);
		if (f != NULL && strcmp(f->type, "histogram") == 0)
			return f;
	}
	return NULL;
}

static void parse_sample(scrape *sc, const char *line)
{
	const char *p = line;
	sample *s;
	char *end;
	fam *f;

	cr_assert_lt(sc->ns, SAMPLES_MAX);
	s = &sc->s[sc->ns];
	while (*p && *p != '{' && *p != ' ')
		p++;
	cr_assert(is_name(line, (size_t)(p - line)), "bad name: %s", line);
	snprintf(s->name, sizeof(s->name), "%.*s", (int)(p - line), line);
	s->labels[0] = '\0';
	if (*p == '{')
		parse_labels(&p, s->labels, sizeof(s->labels), line);
	cr_assert_eq(*p, ' ', "no value: %s", line);
	s->value = strtod(p + 1, &end);
	cr_assert(end != p + 1 && (*end == '\0' || *end == ' '),
	          "bad value: %s", line);
	f = family_of(sc, s->name);
	cr_assert_not_null(f, "a sample of no declared family: %s", line);
	cr_assert(f->help && f->typed, "no HELP or TYPE before: %s", line);
	s->fam = (size_t)(f - sc->fams);
	/* the samples of a family come together: only the newest family */
	cr_assert_eq(s->fam, sc->nfams - 1, "family split: %s", line);
	f->sampled = true;
	for (size_t i = 0; i < sc->ns; i++)
		cr_assert(strcmp(sc->s[i].name, s->name) != 0 ||
		                  strcmp(sc->s[i].labels, s->labels) != 0,
		          "series twice: %s", line);
	sc->ns++;
}

/* without_le copies labels without its le="..." (the histogram series). */
static void without_le(const char *labels, char *out, size_t len)
{
	const char *le = strstr(labels, "le=\"");

	cr_assert_not_null(le, "a bucket without le: %s", labels);
	snprintf(out, len, "%.*s", (int)(le - labels), labels);
	if (out[0] != '\0' && out[strlen(out) - 1] == ',')
		out[strlen(out) - 1] = '\0';
}

static double find(const scrape *sc, const char *name, const char *labels);

/* check_histograms: per series, buckets cumulative in rising le, the
 * last +Inf, +Inf == _count, a _sum. */
static void check_histograms(const scrape *sc)
{
	char series[1024], prev_series[1024] = "", cname[140], sname[140];
	double prev = -1, prev_le = -INFINITY;
	const sample *last = NULL;

	for (size_t i = 0; i <= sc->ns; i++) {
		const sample *s = i < sc->ns ? &sc->s[i] : NULL;
		bool bucket = s != NULL && strstr(s->name, "_bucket") != NULL &&
		              strcmp(sc->fams[s->fam].type, "histogram") == 0;
		if (bucket)
			without_le(s->labels, series, sizeof(series));
		if (last != NULL &&
		    (!bucket || strcmp(series, prev_series) != 0)) {
			/* the series before ended: +Inf, _count, _sum */
			const char *fname = sc->fams[last->fam].name;
			cr_assert(strstr(last->labels, "le=\"+Inf\"") != NULL,
			          "%s{%s}: last bucket is not +Inf", fname,
			          prev_series);
			snprintf(cname, sizeof(cname), "%s_count", fname);
			snprintf(sname, sizeof(sname), "%s_sum", fname);
			cr_assert_eq(find(sc, cname, prev_series), last->value,
			             "%s{%s}: +Inf != _count", fname,
			             prev_series);
			cr_assert_geq(find(sc, sname, prev_series), 0);
			last = NULL;
			prev = -1;
			prev_le = -INFINITY;
		}
		if (!bucket)
			continue;
		{
			const char *le = strstr(s->labels, "le=\"") + 4;
			double v = strncmp(le, "+Inf", 4) == 0
			                   ? INFINITY
			                   : strtod(le, NULL);
			cr_assert_gt(v, prev_le, "le not rising: %s{%s}",
			             s->name, s->labels);
			cr_assert_geq(s->value, prev, "not cumulative: %s{%s}",
			              s->name, s->labels);
			prev_le = v;
			prev = s->value;
		}
		snprintf(prev_series, sizeof(prev_series), "%s", series);
		last = s;
	}
}

/* parse checks every line of text and fills sc. */
static void parse(scrape *sc, const char *text)
{
	char line[2048];

	memset(sc, 0, sizeof(*sc));
	cr_assert_gt(strlen(text), 0, "empty /metrics");
	cr_assert_eq(text[strlen(text) - 1], '\n', "no final newline");
	while (*text != '\0') {
		size_t n = strcspn(text, "\n");
		cr_assert_lt(n, sizeof(line));
		memcpy(line, text, n);
		line[n] = '\0';
		text += n + 1;
		cr_assert_gt(n, 0, "an empty line");
		if (line[0] == '#')
			parse_meta(sc, line);
		else
			parse_sample(sc, line);
	}
	check_histograms(sc);
}

/* find returns the value of name{labels} (asserts it is there). */
static double find(const scrape *sc, const char *name, const char *labels)
{
	for (size_t i = 0; i < sc->ns; i++)
		if (strcmp(sc->s[i].name, name) == 0 &&
		    strcmp(sc->s[i].labels, labels) == 0)
			return sc->s[i].value;
	cr_assert_fail("no series %s{%s}", name, labels);
	return 0;
}

/* found: name{labels} is there. */
static bool found(const scrape *sc, const char *name, const char *labels)
{
	for (size_t i = 0; i < sc->ns; i++)
		if (strcmp(sc->s[i].name, name) == 0 &&
		    strcmp(sc->s[i].labels, labels) == 0)
			return true;
	return false;
}

static void scrape_into(http *h, scrape *sc)
{
	int status = get(h, "GET", "/metrics");

	cr_assert_eq(status, 200, "/metrics: %d %s", status, h->body);
	parse(sc, h->body);
}

/* ---- driving dtxd -------------------------------------------------------- */

static http *http_new(void)
{
	http *h = calloc(1, sizeof(*h));

	cr_assert_not_null(h);
	h->port = th_free_port();
	snprintf(h->addr, sizeof(h->addr), "127.0.0.1:%d", h->port);
	return h;
}

static void run_tcc(th_env *t, const char *gid)
{
	dtx_tcc *tcc;
	dtx_tx_info info;

	cr_assert_eq(dtx_tcc_create(gid, &tcc), DTX_OK);
	cr_assert_eq(dtx_tcc_add_branch(tcc, th_participant_url(t, "p1"),
	                                "p1.do", "p1.do", "p1.undo", "x", 1, 0),
	             DTX_OK);
	cr_assert_eq(dtx_tcc_add_branch(tcc, th_participant_url(t, "p2"),
	                                "p2.do", "p2.do", "p2.undo", "x", 1, 0),
	             DTX_OK);
	cr_assert_eq(
	        dtx_client_submit_tcc(th_client(t), tcc, TH_WAIT_FINAL, &info),
	        DTX_OK);
	dtx_tcc_destroy(tcc);
	cr_assert_eq(info.state, DTX_TX_COMMITTED);
}

/* delta is after - before of name{labels}. */
static double delta(const scrape *before, const scrape *after, const char *name,
                    const char *labels)
{
	return find(after, name, labels) - find(before, name, labels);
}

/* await_gauge scrapes until name{labels} is want (bounded). */
static void await_gauge(http *h, scrape *sc, const char *name,
                        const char *labels, double want)
{
	for (int waited = 0;; waited += 100) {
		scrape_into(h, sc);
		if (find(sc, name, labels) == want)
			return;
		cr_assert_lt(waited, WAIT_MS, "%s{%s} stays %g, not %g", name,
		             labels, find(sc, name, labels), want);
		sleep_ms(100);
	}
}

Test(metrics, scrape_parses_and_counts_what_happened)
{
	th_env *t = th_begin();
	http *h = http_new();
	static scrape s0, s1;
	char lab[1024];
	dtx_tx_info info;
	dtx_saga *saga;

	th_dtxd_start(t, "--http", h->addr, "--stuck-after-attempts", "3",
	              "--action-max-attempts", "0", NULL);
	th_participant_start(t, "p1", "--flaky", "1000000", NULL);
	th_participant_start(t, "p2", NULL);
	cr_assert_eq(get(h, "GET", "/livez"), 200, "%s", h->body);
	cr_assert_eq(get(h, "GET", "/readyz"), 200, "%s", h->body);
	cr_assert(strstr(h->body, "recovered, listening") != NULL);
	scrape_into(h, &s0);
	cr_assert_gt(s0.nfams, 20);

	for (int i = 0; i < 5; i++) {
		char gid[32];
		snprintf(gid, sizeof(gid), "ok-%d", i);
		th_run(t, gid, "p1.do/p1.undo p2.do/p2.undo", &info);
		cr_assert_eq(info.state, DTX_TX_COMMITTED);
	}
	th_run(t, "comp-1", "p1.do/p1.undo p2.fail/p2.undo", &info);
	cr_assert_eq(info.state, DTX_TX_COMPENSATED);
	run_tcc(t, "tcc-1");
	/* one that retries for ever: flagged for an operator */
	saga = th_saga(t, "stuck-1", "p1.do/p1.undo p1.flaky/p1.undo");
	cr_assert_eq(dtx_client_submit(th_client(t), saga, 0, &info), DTX_OK);
	dtx_saga_destroy(saga);
	await_gauge(h, &s1, "dtx_transactions_needs_operator", "", 1);

	cr_assert_eq(delta(&s0, &s1, "dtx_submits_total", "mode=\"saga\""), 7);
	cr_assert_eq(delta(&s0, &s1, "dtx_submits_total", "mode=\"tcc\""), 1);
	cr_assert_eq(delta(&s0, &s1, "dtx_transactions_finished_total",
	                   "mode=\"saga\",state=\"committed\""),
	             5);
	cr_assert_eq(delta(&s0, &s1, "dtx_transactions_finished_total",
	                   "mode=\"saga\",state=\"compensated\""),
	             1);
	cr_assert_eq(delta(&s0, &s1, "dtx_transactions_finished_total",
	                   "mode=\"tcc\",state=\"committed\""),
	             1);
	cr_assert_eq(find(&s1, "dtx_transactions",
	                  "mode=\"saga\",state=\"running\""),
	             1);
	cr_assert_eq(find(&s1, "dtx_transactions_active", ""), 1);
	/* every action of p1.do answered ok: 5 + 1 sagas, the stuck one */
	snprintf(lab, sizeof(lab),
	         "participant=\"%s\",handler=\"p1.do\",outcome=\"ok\"",
	         th_participant_url(t, "p1"));
	cr_assert_geq(find(&s1, "dtx_branch_call_duration_seconds_count", lab),
	              7);
	cr_assert_gt(find(&s1, "dtx_branch_call_duration_seconds_sum", lab), 0);
	snprintf(lab, sizeof(lab),
	         "participant=\"%s\",handler=\"p2.fail\",outcome=\"fail\"",
	         th_participant_url(t, "p2"));
	cr_assert_eq(find(&s1, "dtx_branch_call_duration_seconds_count", lab),
	             1);
	snprintf(lab, sizeof(lab),
	         "participant=\"%s\",handler=\"p1.flaky\",outcome=\"retry\"",
	         th_participant_url(t, "p1"));
	cr_assert_geq(find(&s1, "dtx_branch_call_duration_seconds_count", lab),
	              3);
	cr_assert_geq(delta(&s0, &s1, "dtx_branch_calls_total",
	                    "op=\"action\",outcome=\"ok\""),
	              5 * 2 + 1 + 1);
	cr_assert_eq(delta(&s0, &s1, "dtx_branch_calls_total",
	                   "op=\"compensate\",outcome=\"ok\""),
	             1);
	cr_assert_eq(delta(&s0, &s1, "dtx_branch_calls_total",
	                   "op=\"confirm\",outcome=\"ok\""),
	             2);
	cr_assert_geq(
	        delta(&s0, &s1, "dtx_branch_retries_total", "op=\"action\""),
	        3);
	/* group commits: counted, their size histogram holds every one */
	cr_assert_gt(delta(&s0, &s1, "dtx_log_commits_total", ""), 0);
	cr_assert_eq(find(&s1, "dtx_log_commit_transactions_count", ""),
	             find(&s1, "dtx_log_commits_total", ""));
	cr_assert_geq(find(&s1, "dtx_log_commit_transactions_sum", ""), 8);
	cr_assert_gt(find(&s1, "dtx_log_used_bytes", ""), 0);
	cr_assert_eq(find(&s1, "dtx_ready", ""), 1);
	cr_assert_eq(find(&s1, "dtx_recoveries_total", ""), 1);
	cr_assert(!found(&s1, "dtx_shards_owned", ""), "no leases here");
	cr_assert_eq(get(h, "HEAD", "/metrics"), 200);
	cr_assert_eq(get(h, "POST", "/metrics"), 405);
	th_end(t);
	free(h);
}

/* spawn_held starts dtxd with recovery held at the dtxd.recovery hold
 * point while the file hold exists; returns once the hold began. */
static th_proc *spawn_held(th_env *t, http *h, const char *hold)
{
	char env[4200], ready[4096], held[4200], url[TH_URL_MAX];
	const char *argv[] = {th_exe("DTX_DTXD"),
	                      "--log-dir",
	                      t->log_dir,
	                      "--listen",
	                      url,
	                      "--admin",
	                      "none",
	                      "--http",
	                      h->addr,
	                      "--ready-file",
	                      ready,
	                      NULL};
	FILE *f = fopen(hold, "w");
	th_proc *p;
	struct stat st;

	cr_assert_not_null(f);
	fclose(f);
	th_path(t, "ready", ready, sizeof(ready));
	th_url(t, "dtxd", url, sizeof(url));
	snprintf(env, sizeof(env), "DTX_HOLD=dtxd.recovery@%s", hold);
	snprintf(held, sizeof(held), "%s.held", hold);
	p = th_spawn_env(t, "dtxd", argv, env);
	for (int waited = 0; stat(held, &st) != 0; waited += 50) {
		cr_assert_lt(waited, WAIT_MS, "recovery was never held");
		cr_assert(th_proc_is_alive(p), "dtxd exited");
		sleep_ms(50);
	}
	return p;
}

Test(metrics, readyz_is_503_until_recovered)
{
	th_env *t;
	http *h;
	char hold[4096], ready[4096];
	static scrape sc;
	th_proc *p;

	if (getenv("DTX_FAULT_POINTS") == NULL)
		cr_skip_test("hold points are compiled in fault-point builds "
		             "only");
	t = th_begin();
	h = http_new();
	th_path(t, "hold", hold, sizeof(hold));
	th_path(t, "ready", ready, sizeof(ready));
	p = spawn_held(t, h, hold);
	cr_assert_eq(get(h, "GET", "/readyz"), 503, "%s", h->body);
	cr_assert(strstr(h->body, "starting") != NULL, "%s", h->body);
	scrape_into(h, &sc); /* served while recovering */
	cr_assert_eq(find(&sc, "dtx_ready", ""), 0);
	cr_assert_eq(find(&sc, "dtx_recoveries_total", ""), 0);
	unlink(hold);
	cr_assert(th_wait_ready(p, ready, WAIT_MS), "dtxd never ready");
	cr_assert_eq(get(h, "GET", "/readyz"), 200, "%s", h->body);
	cr_assert_eq(get(h, "GET", "/livez"), 200, "%s", h->body);
	scrape_into(h, &sc);
	cr_assert_eq(find(&sc, "dtx_ready", ""), 1);
	cr_assert_eq(find(&sc, "dtx_recoveries_total", ""), 1);
	th_end(t);
	free(h);
}

Test(metrics, a_taken_http_address_stops_the_start)
{
	th_env *t = th_begin();
	http *h = http_new();
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons((uint16_t)h->port)};
	char dir[4096], url[TH_URL_MAX], flag[128];
	const char *argv[] = {
	        th_exe("DTX_DTXD"), "--log-dir", dir,      "--listen", url,
	        "--admin",          "none",      "--http", h->addr,    NULL};
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
	th_proc *p;

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(fd, 4), 0);
	th_path(t, "log", dir, sizeof(dir));
	if (t->pg_store)
		snprintf(dir, sizeof(dir), "%s", t->log_dir);
	th_url(t, "dtxd", url, sizeof(url));
	p = th_spawn(t, "dtxd", argv);
	cr_assert(th_proc_wait(p, WAIT_MS), "dtxd did not exit");
	cr_assert_eq(th_proc_exit_code(p), 69);
	snprintf(flag, sizeof(flag),
	         "--http %s: cannot listen: Address "
	         "already in use",
	         h->addr);
	cr_assert(th_log_contains(t, "dtxd", flag));
	cr_assert(!th_log_contains(t, "dtxd", "listening on"));
	close(fd);
	th_end(t);
	free(h);
}

/* ---- a PostgreSQL store with shard leases -------------------------------- */

static pgtmp *private_pg;

static void pg_fini(void)
{
	th_teardown();
	if (private_pg != NULL) {
		pgtmp_crash(private_pg); /* also ends a frozen one */
		pgtmp_stop(private_pg);
	}
	private_pg = NULL;
}

/* await_ready polls /readyz until it answers want (bounded). */
static void await_ready(http *h, int want, th_proc *p)
{
	for (int waited = 0; get(h, "GET", "/readyz") != want; waited += 200) {
		cr_assert_lt(waited, WAIT_MS, "/readyz never %d: %s", want,
		             h->body);
		cr_assert(th_proc_is_alive(p), "dtxd exited");
		sleep_ms(200);
	}
}

Test(metrics, readyz_follows_the_postgresql_store, .fini = pg_fini,
     .timeout = 180)
{
	th_env *t;
	http *h;
	char err[512], ready[4096], url[TH_URL_MAX];
	static scrape sc;
	th_proc *p;

	if (getenv("DTX_TEST_STORE") == NULL ||
	    strcmp(getenv("DTX_TEST_STORE"), "postgresql") != 0)
		cr_skip_test("PostgreSQL store only (suite postgres)");
	t = th_begin();
	h = http_new();
	private_pg = pgtmp_start(err, sizeof(err));
	cr_assert_not_null(private_pg, "pgtmp: %s", err);
	th_path(t, "ready", ready, sizeof(ready));
	th_url(t, "dtxd", url, sizeof(url));
	{
		/* rounds every 10 s; unready once none got through for 15 s,
		 * the server back well within the 30 s lease; no retention
		 * (an idle commit would wait on the stopped store) */
		const char *argv[] = {th_exe("DTX_DTXD"),
		                      "--log-dir",
		                      pgtmp_uri(private_pg),
		                      "--listen",
		                      url,
		                      "--admin",
		                      "none",
		                      "--http",
		                      h->addr,
		                      "--ready-file",
		                      ready,
		                      "--shards",
		                      "4",
		                      "--instance",
		                      "m1",
		                      "--lease-ms",
		                      "30000",
		                      "--retain-final",
		                      "0",
		                      "--retain-tombstones",
		                      "0",
		                      NULL};
		p = th_spawn(t, "dtxd", argv);
	}
	cr_assert(th_wait_ready(p, ready, WAIT_MS), "dtxd never ready");
	await_ready(h, 200, p);
	cr_assert(strstr(h->body, "leases held") != NULL, "%s", h->body);
	scrape_into(h, &sc);
	cr_assert_eq(find(&sc, "dtx_shards_owned", ""), 4);
	cr_assert_eq(find(&sc, "dtx_store_reachable", ""), 1);

	pgtmp_freeze(private_pg, true);
	await_ready(h, 503, p);
	cr_assert(strstr(h->body, "store unreachable") != NULL, "%s", h->body);
	scrape_into(h, &sc);
	cr_assert_gt(find(&sc, "dtx_lease_round_age_seconds", ""), 15);
	cr_assert_eq(find(&sc, "dtx_ready", ""), 0);
	cr_assert_eq(get(h, "GET", "/livez"), 200, "%s", h->body);

	pgtmp_freeze(private_pg, false);
	await_ready(h, 200, p);
	scrape_into(h, &sc);
	cr_assert_eq(find(&sc, "dtx_shards_owned", ""), 4);
	cr_assert_eq(find(&sc, "dtx_ready", ""), 1);
	th_end(t);
	free(h);
}

/* ---- libdtx's counters --------------------------------------------------- */

static dtx_status on_ok(void *arg, dtx_call *call)
{
	(void)arg;
	(void)call;
	return DTX_STATUS_OK;
}

/* sdk_text writes what fn makes of obj with prefix into a new buffer,
 * checking the snprintf contract on the way (a cut text is terminated
 * and the length is the whole one). */
static char *sdk_text(int (*fn)(const void *, const char *, char *, size_t,
                                size_t *),
                      const void *obj, const char *prefix)
{
	char small[16];
	size_t len = 0, again = 0;
	char *buf;

	cr_assert_eq(fn(obj, prefix, NULL, 0, &len), DTX_OK);
	cr_assert_gt(len, sizeof(small));
	cr_assert_eq(fn(obj, prefix, small, sizeof(small), &again), DTX_OK);
	cr_assert_eq(again, len);
	cr_assert_eq(strlen(small), sizeof(small) - 1);
	buf = malloc(len + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fn(obj, prefix, buf, len + 1, &again), DTX_OK);
	cr_assert_eq(again, len);
	cr_assert_eq(strlen(buf), len);
	return buf;
}

static int part_text(const void *o, const char *p, char *b, size_t l, size_t *r)
{
	return dtx_participant_metrics_text(o, p, b, l, r);
}

static int client_text(const void *o, const char *p, char *b, size_t l,
                       size_t *r)
{
	return dtx_client_metrics_text(o, p, b, l, r);
}

Test(metrics, libdtx_exports_its_counters_as_prometheus_text)
{
	th_env *t = th_begin();
	static scrape sc;
	char url[TH_URL_MAX];
	dtx_participant_opts po;
	dtx_participant *part;
	dtx_tx_info info;
	dtx_saga *saga;
	dtx_client *cl;
	size_t len;
	char *text;

	th_dtxd_start(t, NULL);
	cl = th_client(t); /* one client (th_client opens one per call) */
	th_url(t, "inproc", url, sizeof(url));
	dtx_participant_opts_init(&po);
	po.url = url;
	cr_assert_eq(dtx_participant_create(&po, &part), DTX_OK);
	cr_assert_eq(dtx_participant_register(part, "svc.do", on_ok, NULL),
	             DTX_OK);
	cr_assert_eq(dtx_participant_register(part, "svc.undo", on_ok, NULL),
	             DTX_OK);
	cr_assert_eq(dtx_participant_start(part), DTX_OK);
	for (int i = 0; i < 3; i++) {
		char gid[32];
		snprintf(gid, sizeof(gid), "sdk-%d", i);
		cr_assert_eq(dtx_saga_create(gid, &saga), DTX_OK);
		cr_assert_eq(dtx_saga_add_step(saga, url, "svc.do", "svc.undo",
		                               NULL, 0, 0),
		             DTX_OK);
		cr_assert_eq(dtx_client_submit(cl, saga, TH_WAIT_FINAL, &info),
		             DTX_OK);
		dtx_saga_destroy(saga);
		cr_assert_eq(info.state, DTX_TX_COMMITTED);
	}
	cr_assert_eq(dtx_client_query(cl, "sdk-nope", 0, &info), DTX_ENOENT);

	text = sdk_text(part_text, part, "shop_inventory");
	parse(&sc, text);
	free(text);
	cr_assert_eq(find(&sc, "shop_inventory_calls_total", ""), 3);
	cr_assert_eq(find(&sc, "shop_inventory_applied_total", ""), 3);
	cr_assert_eq(find(&sc, "shop_inventory_replayed_total", ""), 0);

	text = sdk_text(client_text, cl, NULL);
	parse(&sc, text);
	free(text);
	/* the client also asks for the coordinators' topology on its own */
	cr_assert_geq(find(&sc, "dtx_client_requests_total", ""), 4);
	cr_assert_geq(find(&sc, "dtx_client_request_outcomes_total",
	                   "outcome=\"ok\""),
	              3);
	cr_assert_eq(find(&sc, "dtx_client_request_outcomes_total",
	                  "outcome=\"refused\""),
	             1);
	cr_assert_eq(find(&sc, "dtx_client_request_duration_seconds_count", ""),
	             find(&sc, "dtx_client_request_outcomes_total",
	                  "outcome=\"ok\"") +
	                     find(&sc, "dtx_client_request_outcomes_total",
	                          "outcome=\"refused\"") +
	                     find(&sc, "dtx_client_request_outcomes_total",
	                          "outcome=\"timeout\"") +
	                     find(&sc, "dtx_client_request_outcomes_total",
	                          "outcome=\"unreachable\"") +
	                     find(&sc, "dtx_client_request_outcomes_total",
	                          "outcome=\"failed\""));
	cr_assert_geq(find(&sc, "dtx_client_attempts_total", ""), 4);

	cr_assert_eq(dtx_client_metrics_text(cl, "9bad", NULL, 0, &len),
	             DTX_EINVAL);
	cr_assert_eq(dtx_client_metrics_text(cl, "a b", NULL, 0, &len),
	             DTX_EINVAL);
	cr_assert_eq(dtx_participant_metrics_text(NULL, NULL, NULL, 0, &len),
	             DTX_EINVAL);
	dtx_participant_destroy(part);
	th_end(t);
}
