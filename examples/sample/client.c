/*
 * client.c - dtx-sample-client, an initiator built on the public SDK only
 * (<dtx/dtx.h>).
 *
 *   dtx-sample-client --coordinator URL submit [--gid G] [--wait-ms MS]
 *                     --step URL,ACTION,COMPENSATE[,PAYLOAD] ...
 *   dtx-sample-client --coordinator URL query GID [--wait-ms MS]
 *
 * It prints the transaction (gid, state, failed step, reason, and each
 * step's state and attempts) and exits with a status a script can test:
 *
 *   0 committed, 3 compensated, 4 still running or compensating,
 *   1 error (reason on stderr), 64 usage error.
 *
 * submit waits up to 10 s for the outcome unless --wait-ms says otherwise;
 * query answers at once unless --wait-ms is given.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dtx/dtx.h>

#define EXIT_USAGE       64
#define EXIT_COMPENSATED 3
#define EXIT_RUNNING     4

#define SUBMIT_WAIT_MS_DEFAULT 10000
#define TRANSPORT_SLACK_MS     10000 /* transport deadline beyond wait_ms */

typedef enum command {
	CMD_SUBMIT,
	CMD_QUERY,
} command;

typedef struct client_args {
	const char *coordinator;
	command cmd;
	const char *gid;
	unsigned wait_ms;
	bool wait_given;
	char **steps; /* borrowed from argv */
	size_t nsteps;
} client_args;

static void usage(const char *fmt, ...)
        __attribute__((format(printf, 1, 2), noreturn));

static void usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dtx-sample-client: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: dtx-sample-client --coordinator URL submit "
	                "[--gid G] [--wait-ms MS] --step "
	                "URL,ACTION,COMPENSATE[,PAYLOAD] ...\n"
	                "       dtx-sample-client --coordinator URL query GID "
	                "[--wait-ms MS]\n");
	exit(EXIT_USAGE);
}

static unsigned parse_wait(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' ||
	    v > UINT_MAX - TRANSPORT_SLACK_MS)
		usage("--wait-ms wants a number of milliseconds, got '%s'", s);
	return (unsigned)v;
}

/* parse_global reads the options before the command and returns the index
 * of the command word. */
static int parse_global(int argc, char **argv, client_args *a)
{
	static const struct option longopts[] = {
	        {"coordinator", required_argument, NULL, 'c'},
	        {NULL, 0, NULL, 0},
	};
	int c;

	/* "+": stop at the command word; its options are parsed next. */
	while ((c = getopt_long(argc, argv, "+:", longopts, NULL)) != -1) {
		if (c == 'c')
			a->coordinator = optarg;
		else if (c == ':')
			usage("%s needs a value", argv[optind - 1]);
		else
			usage("unknown option '%s'", argv[optind - 1]);
	}
	if (a->coordinator == NULL)
		usage("--coordinator is required");
	if (optind >= argc)
		usage("a command is required (submit or query)");
	return optind;
}

static void parse_command(int argc, char **argv, client_args *a)
{
	static const struct option longopts[] = {
	        {"gid", required_argument, NULL, 'g'},
	        {"wait-ms", required_argument, NULL, 'w'},
	        {"step", required_argument, NULL, 's'},
	        {NULL, 0, NULL, 0},
	};
	int c;

	a->steps = calloc((size_t)argc, sizeof(*a->steps));
	if (a->steps == NULL)
		usage("out of memory");
	optind = 0; /* glibc: 0 restarts the scan with a new argv */
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (c == 'g' && a->cmd == CMD_SUBMIT) {
			a->gid = optarg;
		} else if (c == 'w') {
			a->wait_ms = parse_wait(optarg);
			a->wait_given = true;
		} else if (c == 's' && a->cmd == CMD_SUBMIT) {
			a->steps[a->nsteps++] = optarg;
		} else if (c == ':') {
			usage("%s needs a value", argv[optind - 1]);
		} else {
			usage("option '%s' does not apply here",
			      argv[optind - 1]);
		}
	}
	if (a->cmd == CMD_QUERY && optind == argc - 1)
		a->gid = argv[optind++];
	if (optind < argc)
		usage("unexpected argument '%s'", argv[optind]);
	if (a->cmd == CMD_QUERY && a->gid == NULL)
		usage("query needs a GID");
	if (a->cmd == CMD_SUBMIT && a->nsteps == 0)
		usage("submit needs at least one --step");
}

static void parse_args(int argc, char **argv, client_args *a)
{
	int cmd_at = parse_global(argc, argv, a);
	const char *word = argv[cmd_at];

	if (strcmp(word, "submit") == 0)
		a->cmd = CMD_SUBMIT;
	else if (strcmp(word, "query") == 0)
		a->cmd = CMD_QUERY;
	else
		usage("unknown command '%s'", word);
	/* Parse the command's words as if they were a program of their own:
	 * argv[cmd_at] plays argv[0]. */
	parse_command(argc - cmd_at, argv + cmd_at, a);
	if (!a->wait_given && a->cmd == CMD_SUBMIT)
		a->wait_ms = SUBMIT_WAIT_MS_DEFAULT;
}

/* add_step splits "URL,ACTION,COMPENSATE[,PAYLOAD]" (the payload is the
 * rest of the text and may hold commas) and appends the step. Returns a
 * dtx_err; a malformed spec is a usage error. */
static int add_step(dtx_saga *saga, const char *spec)
{
	char buf[DTX_URL_MAX + 2 * DTX_HANDLER_MAX + 4];
	char *url, *action, *compensate, *payload, *rest;
	size_t len = strlen(spec);

	if (len >= sizeof(buf))
		usage("--step '%.40s...' is too long", spec);
	memcpy(buf, spec, len + 1);
	rest = buf;
	url = strsep(&rest, ",");
	action = strsep(&rest, ",");
	compensate = strsep(&rest, ",");
	payload = rest;
	if (action == NULL || compensate == NULL || *url == '\0')
		usage("--step wants URL,ACTION,COMPENSATE[,PAYLOAD], got '%s'",
		      spec);
	return dtx_saga_add_step(saga, url, action, compensate, payload,
	                         payload == NULL ? 0 : strlen(payload), 0);
}

static int build_saga(const client_args *a, dtx_saga **ret_saga)
{
	dtx_saga *saga;
	int err;

	err = dtx_saga_create(a->gid, &saga);
	if (err != DTX_OK)
		return err;
	for (size_t i = 0; i < a->nsteps; i++) {
		err = add_step(saga, a->steps[i]);
		if (err != DTX_OK) {
			fprintf(stderr, "dtx-sample-client: step %zu: %s\n", i,
			        dtx_strerror(err));
			dtx_saga_destroy(saga);
			return err;
		}
	}
	*ret_saga = saga;
	return DTX_OK;
}

static void print_info(const dtx_tx_info *info, bool show_created)
{
	uint32_t shown = info->nsteps;

	printf("gid          %s\n", info->gid);
	printf("state        %s\n", dtx_tx_state_name(info->state));
	if (show_created)
		printf("created      %s\n", info->created ? "yes" : "no");
	if (info->failed_step < 0)
		printf("failed step  none\n");
	else
		printf("failed step  %d\n", (int)info->failed_step);
	printf("reason       %s\n", info->reason[0] ? info->reason : "-");
	printf("steps        %u\n", (unsigned)info->nsteps);
	printf("  %-5s %-13s %-8s %s\n", "step", "state", "attempts",
	       "last error");
	if (shown > DTX_INFO_MAX_STEPS)
		shown = DTX_INFO_MAX_STEPS;
	for (uint32_t i = 0; i < shown; i++) {
		const dtx_step_info *s = &info->steps[i];

		printf("  %-5u %-13s %-8u %s\n", (unsigned)i,
		       dtx_step_state_name(s->state), (unsigned)s->attempts,
		       s->last_error[0] ? s->last_error : "-");
	}
}

static int exit_status(dtx_tx_state state)
{
	switch (state) {
	case DTX_TX_COMMITTED:
		return EXIT_SUCCESS;
	case DTX_TX_COMPENSATED:
	case DTX_TX_CANCELLED:
		return EXIT_COMPENSATED;
	case DTX_TX_RUNNING:
	case DTX_TX_COMPENSATING:
	case DTX_TX_CONFIRMING:
	case DTX_TX_CANCELLING:
		return EXIT_RUNNING;
	}
	return EXIT_FAILURE;
}

static int run(dtx_client *client, const client_args *a, dtx_tx_info *info)
{
	dtx_saga *saga;
	int err;

	if (a->cmd == CMD_QUERY)
		return dtx_client_query(client, a->gid, a->wait_ms, info);
	err = build_saga(a, &saga);
	if (err != DTX_OK)
		return err;
	err = dtx_client_submit(client, saga, a->wait_ms, info);
	dtx_saga_destroy(saga);
	return err;
}

/* log_cb prints libdtx's diagnostics that say what went wrong (an
 * unsupported URL scheme, a coordinator nothing listens for) on stderr. */
static void log_cb(void *arg, dtx_log_level level, const char *msg)
{
	(void)arg;
	if (level <= DTX_LOG_INFO)
		fprintf(stderr, "dtx-sample-client: libdtx: %s\n", msg);
}

int main(int argc, char **argv)
{
	client_args a = {0};
	dtx_client_opts copts;
	dtx_client *client = NULL;
	dtx_tx_info *info;
	int err, status = EXIT_FAILURE;

	parse_args(argc, argv, &a);
	info = calloc(1, sizeof(*info));
	if (info == NULL) {
		fprintf(stderr, "dtx-sample-client: out of memory\n");
		goto out;
	}
	dtx_set_log_cb(log_cb, NULL);
	dtx_client_opts_init(&copts);
	copts.timeout_ms = a.wait_ms + TRANSPORT_SLACK_MS;
	err = dtx_client_open(a.coordinator, &copts, &client);
	if (err == DTX_OK)
		err = run(client, &a, info);
	if (err != DTX_OK) {
		fprintf(stderr, "dtx-sample-client: %s %s: %s\n",
		        a.cmd == CMD_QUERY ? "query" : "submit",
		        a.gid != NULL ? a.gid : "(new gid)", dtx_strerror(err));
		goto out;
	}
	print_info(info, a.cmd == CMD_SUBMIT);
	status = exit_status(info->state);
out:
	dtx_client_close(client);
	free(info);
	free(a.steps);
	return status;
}
