/*
 * participant.c - dtx-sample-participant, a participant built on the public
 * SDK only (<dtx/dtx.h>).
 *
 * It serves a fixed family of handlers under a name given on the command
 * line, so tests and the demo can make a step succeed, fail, retry or stall
 * on purpose:
 *
 *   NAME.do        OK, result "NAME done"
 *   NAME.undo      OK
 *   NAME.fail      FAIL, message "refused by NAME"
 *   NAME.flaky     RETRY while the attempt is <= --flaky N, then OK
 *   NAME.slow      sleeps --delay-ms, then OK
 *   NAME.slowundo  sleeps --delay-ms, then OK (a slow compensation)
 *   NAME.bigresult OK with a result of N bytes, N the payload in decimal
 *                  (600000 without one): tests of dtxd's --max-result
 *
 * Every call served appends one line to the journal (--journal FILE):
 *
 *   <gid> <branch> <op-name> <handler> <attempt> <status> <traceparent>\n
 *
 * (traceparent: the call's, dtx_call_traceparent, or "-" without one)
 *
 * written with one write() on an O_APPEND descriptor, so several processes
 * may share one journal and the line order is the order calls completed.
 * The line is written before the handler returns, hence before the
 * coordinator sees the answer.
 *
 * With --data DIR the participant keeps a dtx_store in DIR (one table,
 * "effects") and serves every call through the SDK's barrier: an OK
 * handler writes "<gid>/<branch>/<op>" -> handler into "effects" in the
 * call's transaction, and a repeated call is answered from the barrier's
 * record without running the handler. Handlers journal only when they run,
 * so the journal then lists each applied effect once. (The line is written
 * before the local commit: if the process dies between the two, or the
 * commit fails, the line stays and the call runs again later. The crash
 * points of the tests sit after the commit.) Without --data every call
 * runs the handler.
 *
 * The ready file (--ready-file) holds the pid and a newline; it is written
 * through a rename once the participant listens. SIGTERM/SIGINT stop the
 * participant cleanly (exit 0); usage errors exit 64.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dtx/dtx.h>

#define EXIT_USAGE         64
#define EFFECTS_TABLE      "effects"
#define BIG_RESULT_DEFAULT 600000 /* bytes of NAME.bigresult's result */

typedef struct sample_opts {
	const char *url;
	const char *name;
	const char *journal;
	const char *ready_file;
	const char *data_dir;
	unsigned workers;
	unsigned flaky;
	unsigned delay_ms;
	bool log_records; /* --log-records: dtx_set_log_record_cb, DEBUG */
	dtx_tls_opts tls; /* --tls-cert/-key/-ca: for a tls+tcp:// --url */
	bool use_tls;
} sample_opts;

/* What one handler does; the handlers differ only in these fields. */
typedef enum behaviour {
	BEHAVE_OK,
	BEHAVE_FAIL,
	BEHAVE_FLAKY,
	BEHAVE_SLOW,
	BEHAVE_BIG,
} behaviour;

typedef struct sample_handler {
	const char *suffix; /* appended to "NAME." */
	behaviour how;
	bool set_result;
} sample_handler;

static const sample_handler handlers[] = {
        {"do", BEHAVE_OK, true},          {"undo", BEHAVE_OK, false},
        {"fail", BEHAVE_FAIL, false},     {"flaky", BEHAVE_FLAKY, false},
        {"slow", BEHAVE_SLOW, false},     {"slowundo", BEHAVE_SLOW, false},
        {"bigresult", BEHAVE_BIG, false},
};

#define NHANDLERS (sizeof(handlers) / sizeof(handlers[0]))

/* Shared, read-only once the participant starts. */
typedef struct sample_ctx {
	const sample_opts *opts;
	int journal_fd;   /* -1 without --journal */
	dtx_store *store; /* NULL without --data */
	char done_result[DTX_HANDLER_MAX + 16];
	char fail_message[DTX_HANDLER_MAX + 16];
} sample_ctx;

/* The registration argument of one handler. */
typedef struct sample_binding {
	sample_ctx *ctx;
	const sample_handler *h;
} sample_binding;

static void usage(const char *fmt, ...)
        __attribute__((format(printf, 1, 2), noreturn));

static void usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dtx-sample-participant: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: dtx-sample-participant --url URL --name NAME "
	                "[--journal FILE] [--ready-file PATH] [--data DIR] "
	                "[--workers N] [--flaky N] [--delay-ms N] "
	                "[--log-records]\n"
	                "       [--tls-cert FILE --tls-key FILE] "
	                "[--tls-ca FILE]\n");
	exit(EXIT_USAGE);
}

static unsigned parse_uint(const char *flag, const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' ||
	    v > UINT_MAX)
		usage("%s wants a non-negative integer, got '%s'", flag, s);
	return (unsigned)v;
}

/* parse_tls sets one of the --tls-* flags (flag: C, K or A). */
static void parse_tls(sample_opts *o, int flag, const char *arg)
{
	if (!o->use_tls)
		dtx_tls_opts_init(&o->tls);
	o->use_tls = true;
	if (flag == 'C')
		o->tls.cert_file = arg;
	else if (flag == 'K')
		o->tls.key_file = arg;
	else
		o->tls.ca_file = arg;
}

static void parse_args(int argc, char **argv, sample_opts *o)
{
	static const struct option longopts[] = {
	        {"url", required_argument, NULL, 'u'},
	        {"name", required_argument, NULL, 'n'},
	        {"journal", required_argument, NULL, 'j'},
	        {"ready-file", required_argument, NULL, 'r'},
	        {"data", required_argument, NULL, 'D'},
	        {"workers", required_argument, NULL, 'w'},
	        {"flaky", required_argument, NULL, 'f'},
	        {"delay-ms", required_argument, NULL, 'd'},
	        {"log-records", no_argument, NULL, 'L'},
	        {"tls-cert", required_argument, NULL, 'C'},
	        {"tls-key", required_argument, NULL, 'K'},
	        {"tls-ca", required_argument, NULL, 'A'},
	        {NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case 'u':
			o->url = optarg;
			break;
		case 'n':
			o->name = optarg;
			break;
		case 'j':
			o->journal = optarg;
			break;
		case 'r':
			o->ready_file = optarg;
			break;
		case 'D':
			o->data_dir = optarg;
			break;
		case 'w':
			o->workers = parse_uint("--workers", optarg);
			break;
		case 'f':
			o->flaky = parse_uint("--flaky", optarg);
			break;
		case 'd':
			o->delay_ms = parse_uint("--delay-ms", optarg);
			break;
		case 'L':
			o->log_records = true;
			break;
		case 'C':
		case 'K':
		case 'A':
			parse_tls(o, c, optarg);
			break;
		case ':':
			usage("%s needs a value", argv[optind - 1]);
			break;
		default:
			usage("unknown option '%s'", argv[optind - 1]);
			break;
		}
	}
	if (optind < argc)
		usage("unexpected argument '%s'", argv[optind]);
	if (o->url == NULL || o->name == NULL)
		usage("--url and --name are required");
	/* The longest suffix must still give a valid handler name. */
	if (strlen(o->name) + sizeof(".bigresult") - 1 > DTX_HANDLER_MAX)
		usage("--name is too long");
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static const char *status_name(dtx_status st)
{
	switch (st) {
	case DTX_STATUS_OK:
		return "ok";
	case DTX_STATUS_FAIL:
		return "fail";
	case DTX_STATUS_RETRY:
		return "retry";
	}
	return "unknown";
}

/* journal_append writes one line with a single write(): O_APPEND makes it
 * land whole at the end even when several processes share the file. */
static void journal_append(const sample_ctx *ctx, const dtx_call *call,
                           dtx_status st)
{
	char line[DTX_GID_MAX + DTX_HANDLER_MAX + DTX_TRACEPARENT_LEN + 96];
	const char *tp = dtx_call_traceparent(call);
	int n;

	if (ctx->journal_fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%s %u %s %s %u %s %s\n",
	             dtx_call_gid(call), (unsigned)dtx_call_branch(call),
	             dtx_op_name(dtx_call_op(call)), dtx_call_handler(call),
	             (unsigned)dtx_call_attempt(call), status_name(st),
	             tp != NULL ? tp : "-");
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	if (write(ctx->journal_fd, line, (size_t)n) != n)
		fprintf(stderr, "dtx-sample-participant: journal write: %s\n",
		        strerror(errno));
}

/* set_big_result answers OK with a result of N bytes of 'r', N the
 * call's payload in decimal (BIG_RESULT_DEFAULT without one). A result the
 * SDK refuses (past its own limit) answers FAIL with its error. */
static dtx_status set_big_result(dtx_call *call)
{
	size_t plen, n = BIG_RESULT_DEFAULT;
	const char *p = dtx_call_payload(call, &plen);
	char num[24], msg[64];
	uint8_t *buf;
	int err;

	if (plen > 0 && plen < sizeof(num)) {
		memcpy(num, p, plen);
		num[plen] = '\0';
		n = (size_t)strtoull(num, NULL, 10);
	}
	if ((buf = malloc(n > 0 ? n : 1)) == NULL)
		return DTX_STATUS_RETRY;
	memset(buf, 'r', n);
	err = dtx_call_set_result(call, buf, n);
	free(buf);
	if (err == DTX_OK)
		return DTX_STATUS_OK;
	snprintf(msg, sizeof(msg), "result of %zu bytes: %s", n,
	         dtx_strerror(err));
	(void)dtx_call_set_message(call, msg);
	return DTX_STATUS_FAIL;
}

static dtx_status decide(const sample_binding *b, dtx_call *call)
{
	const sample_ctx *ctx = b->ctx;

	switch (b->h->how) {
	case BEHAVE_OK:
		return DTX_STATUS_OK;
	case BEHAVE_FAIL:
		(void)dtx_call_set_message(call, ctx->fail_message);
		return DTX_STATUS_FAIL;
	case BEHAVE_FLAKY:
		if (dtx_call_attempt(call) <= ctx->opts->flaky)
			return DTX_STATUS_RETRY;
		return DTX_STATUS_OK;
	case BEHAVE_SLOW:
		sleep_ms(ctx->opts->delay_ms);
		return DTX_STATUS_OK;
	case BEHAVE_BIG:
		return set_big_result(call);
	}
	return DTX_STATUS_FAIL;
}

/* record_effect writes the call's effect into the "effects" table of the
 * call's transaction (only with --data). A failed write answers RETRY: the
 * barrier then drops the transaction and the coordinator calls again. */
static dtx_status record_effect(dtx_call *call)
{
	dtx_txn *txn = dtx_call_txn(call);
	const char *handler = dtx_call_handler(call);
	char key[DTX_GID_MAX + 32];
	int n;

	if (txn == NULL)
		return DTX_STATUS_OK;
	n = snprintf(key, sizeof(key), "%s/%u/%s", dtx_call_gid(call),
	             (unsigned)dtx_call_branch(call),
	             dtx_op_name(dtx_call_op(call)));
	if (n < 0 || (size_t)n >= sizeof(key) ||
	    dtx_txn_put(txn, EFFECTS_TABLE, key, (size_t)n, handler,
	                strlen(handler)) != DTX_OK)
		return DTX_STATUS_RETRY;
	return DTX_STATUS_OK;
}

static dtx_status serve_cb(void *arg, dtx_call *call)
{
	const sample_binding *b = arg;
	dtx_status st = decide(b, call);

	if (st == DTX_STATUS_OK)
		st = record_effect(call);
	if (st == DTX_STATUS_OK && b->h->set_result)
		(void)dtx_call_set_result(call, b->ctx->done_result,
		                          strlen(b->ctx->done_result));
	journal_append(b->ctx, call, st);
	return st;
}

static void log_cb(void *arg, dtx_log_level level, const char *msg)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	const sample_opts *o = arg;

	if (level <= DTX_LOG_INFO)
		fprintf(stderr, "dtx-sample-participant[%s] %s: %s\n", o->name,
		        names[level], msg);
}

/* record_cb prints every diagnostic record (--log-records) as one line:
 * "record LEVEL NAME=VALUE... msg=MESSAGE", the fields it has. */
static void record_cb(void *arg, const dtx_log_record *r)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	const sample_opts *o = arg;
	char f[512];
	int n = 0;

	f[0] = '\0';
	if (r->gid != NULL)
		n += snprintf(f + n, sizeof(f) - (size_t)n, " gid=%s", r->gid);
	if (r->branch >= 0)
		n += snprintf(f + n, sizeof(f) - (size_t)n, " branch=%lld",
		              (long long)r->branch);
	if (r->handler != NULL)
		n += snprintf(f + n, sizeof(f) - (size_t)n, " handler=%s",
		              r->handler);
	if (r->trace_id != NULL)
		n += snprintf(f + n, sizeof(f) - (size_t)n, " trace_id=%s",
		              r->trace_id);
	if (r->span_id != NULL)
		snprintf(f + n, sizeof(f) - (size_t)n, " span_id=%s",
		         r->span_id);
	fprintf(stderr, "dtx-sample-participant[%s] record %s%s msg=%s\n",
	        o->name, names[r->level & 3], f, r->msg);
}

/* write_ready_file writes "<pid>\n" to a temporary file and renames it, so a
 * reader never sees a half-written file. Returns 0 or -1 (errno set). */
static int write_ready_file(const char *path)
{
	char tmp[PATH_MAX];
	FILE *f;
	int n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	f = fopen(tmp, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int register_all(dtx_participant *part, sample_ctx *ctx,
                        sample_binding *bind)
{
	char name[DTX_HANDLER_MAX + 1];
	int err;

	for (size_t i = 0; i < NHANDLERS; i++) {
		bind[i].ctx = ctx;
		bind[i].h = &handlers[i];
		snprintf(name, sizeof(name), "%s.%s", ctx->opts->name,
		         handlers[i].suffix);
		err = dtx_participant_register(part, name, serve_cb, &bind[i]);
		if (err != DTX_OK) {
			fprintf(stderr,
			        "dtx-sample-participant: register %s: %s\n",
			        name, dtx_strerror(err));
			return err;
		}
	}
	return DTX_OK;
}

/* open_store opens the --data store with its one table. Returns 0 or -1
 * (reported). */
static int open_store(sample_ctx *ctx)
{
	static const char *const tables[] = {EFFECTS_TABLE};
	dtx_store_opts sopts;
	int err;

	dtx_store_opts_init(&sopts);
	sopts.tables = tables;
	sopts.ntables = 1;
	err = dtx_store_open(ctx->opts->data_dir, &sopts, &ctx->store);
	if (err != DTX_OK) {
		fprintf(stderr, "dtx-sample-participant: store %s: %s\n",
		        ctx->opts->data_dir, dtx_strerror(err));
		return -1;
	}
	return 0;
}

/* serve creates, starts and runs the participant until SIGTERM/SIGINT (the
 * signals are blocked in every thread and taken with sigwait). Returns the
 * process exit status. */
static int serve(sample_ctx *ctx, const sigset_t *stop)
{
	const sample_opts *o = ctx->opts;
	sample_binding bind[NHANDLERS];
	dtx_participant_opts popts;
	dtx_participant *part = NULL;
	int err, sig, status = EXIT_FAILURE;

	dtx_participant_opts_init(&popts);
	popts.url = o->url;
	popts.tls = o->use_tls ? &o->tls : NULL;
	if (o->workers > 0)
		popts.workers = o->workers;
	err = dtx_participant_create(&popts, &part);
	if (err != DTX_OK) {
		fprintf(stderr, "dtx-sample-participant: create: %s\n",
		        dtx_strerror(err));
		goto out;
	}
	if (register_all(part, ctx, bind) != DTX_OK)
		goto out;
	if (ctx->store != NULL &&
	    (err = dtx_participant_set_store(part, ctx->store)) != DTX_OK) {
		fprintf(stderr, "dtx-sample-participant: set store: %s\n",
		        dtx_strerror(err));
		goto out;
	}
	err = dtx_participant_start(part);
	if (err != DTX_OK) {
		fprintf(stderr, "dtx-sample-participant: listen on %s: %s\n",
		        o->url, dtx_strerror(err));
		goto out;
	}
	if (o->ready_file != NULL && write_ready_file(o->ready_file) != 0) {
		fprintf(stderr, "dtx-sample-participant: ready file %s: %s\n",
		        o->ready_file, strerror(errno));
		goto out;
	}
	sigwait(stop, &sig);
	status = EXIT_SUCCESS;
out:
	dtx_participant_destroy(part);
	return status;
}

int main(int argc, char **argv)
{
	sample_opts o = {0};
	sample_ctx ctx = {.opts = &o, .journal_fd = -1};
	sigset_t stop;
	int status;

	parse_args(argc, argv, &o);
	snprintf(ctx.done_result, sizeof(ctx.done_result), "%s done", o.name);
	snprintf(ctx.fail_message, sizeof(ctx.fail_message), "refused by %s",
	         o.name);
	if (o.journal != NULL) {
		ctx.journal_fd =
		        open(o.journal,
		             O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (ctx.journal_fd < 0) {
			fprintf(stderr,
			        "dtx-sample-participant: journal %s: %s\n",
			        o.journal, strerror(errno));
			return EXIT_FAILURE;
		}
	}
	/* Block the stop signals before the SDK starts threads, so they
	 * inherit the mask and only sigwait() takes them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	dtx_set_log_cb(log_cb, &o);
	if (o.log_records)
		dtx_set_log_record_cb(record_cb, &o);
	else
		dtx_set_log_level(DTX_LOG_INFO); /* what log_cb prints */

	status = EXIT_FAILURE;
	if (o.data_dir == NULL || open_store(&ctx) == 0)
		status = serve(&ctx, &stop);
	dtx_store_close(ctx.store); /* after the participant: it retains it */
	if (ctx.journal_fd >= 0)
		close(ctx.journal_fd);
	return status;
}
