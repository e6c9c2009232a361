/*
 * service.c - the runner shared by the four shop services (see service.h).
 *
 * Startup order: parse flags, open the store, create the participant,
 * register the handlers, bind the store (the barrier), listen, write the
 * ready file; then wait for SIGTERM/SIGINT. Shutdown runs in reverse:
 * the participant first (it waits for running handlers), then the store,
 * which must outlive it.
 *
 * The stop signals are blocked before the SDK starts threads, so only
 * sigwait() takes them and no handler runs on a signal stack.
 */
#include "service.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORKERS_MAX 1024

typedef struct service_args {
	const char *url;
	const char *data;
	const char *ready_file;
	unsigned workers;      /* 0 = the SDK's default */
	const char *coord_url; /* NULL: barrier records are kept */
	unsigned grace_ms;     /* 0 = the SDK's default */
} service_args;

static const char usage_text[] =
        "usage: dtx-shop-SERVICE --url URL --data DIR [--workers N] "
        "[--ready-file PATH]\n"
        "       [--coordinator URL [--barrier-grace-ms MS]]\n"
        "  --coordinator URL: remove barrier records of transactions the\n"
        "  coordinator says are final, once --barrier-grace-ms passed\n"
        "  (default 600000)\n";

static void parse_args(const char *prog, int argc, char **argv, service_args *a)
{
	static const struct option longopts[] = {
	        {"url", required_argument, NULL, 'u'},
	        {"data", required_argument, NULL, 'd'},
	        {"workers", required_argument, NULL, 'w'},
	        {"ready-file", required_argument, NULL, 'r'},
	        {"coordinator", required_argument, NULL, 'c'},
	        {"barrier-grace-ms", required_argument, NULL, 'g'},
	        {NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (c == 'u')
			a->url = optarg;
		else if (c == 'd')
			a->data = optarg;
		else if (c == 'r')
			a->ready_file = optarg;
		else if (c == 'c')
			a->coord_url = optarg;
		else if (c == 'g')
			a->grace_ms = (unsigned)shop_parse_uint(
			        prog, usage_text, "--barrier-grace-ms", optarg,
			        86400000u * 30u);
		else if (c == 'w')
			a->workers = (unsigned)shop_parse_uint(
			        prog, usage_text, "--workers", optarg,
			        WORKERS_MAX);
		else if (c == ':')
			shop_usage(prog, usage_text, "%s needs a value",
			           argv[optind - 1]);
		else
			shop_usage(prog, usage_text, "unknown option '%s'",
			           argv[optind - 1]);
	}
	if (optind < argc)
		shop_usage(prog, usage_text, "unexpected argument '%s'",
		           argv[optind]);
	if (a->url == NULL || a->data == NULL)
		shop_usage(prog, usage_text, "--url and --data are required");
}

static void log_cb(void *arg, dtx_log_level level, const char *msg)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};

	if (level <= DTX_LOG_WARN)
		fprintf(stderr, "%s %s: %s\n", (const char *)arg, names[level],
		        msg);
}

static int open_store(const shop_service *svc, const char *dir,
                      dtx_store **ret_store)
{
	dtx_store_opts opts;

	dtx_store_opts_init(&opts);
	opts.ntables = shop_service_tables(svc->id, &opts.tables);
	return dtx_store_open(dir, &opts, ret_store);
}

static int build_participant(const shop_service *svc, const service_args *a,
                             dtx_store *store, dtx_participant **ret_part)
{
	dtx_participant_opts popts;
	dtx_participant *part;
	int err;

	dtx_participant_opts_init(&popts);
	popts.url = a->url;
	if (a->workers > 0)
		popts.workers = a->workers;
	err = dtx_participant_create(&popts, &part);
	for (size_t i = 0; err == DTX_OK && i < svc->nhandlers; i++)
		err = dtx_participant_register(part, svc->handlers[i].name,
		                               svc->handlers[i].fn, NULL);
	if (err == DTX_OK)
		err = dtx_participant_set_store(part, store);
	if (err == DTX_OK && a->coord_url != NULL)
		err = dtx_participant_set_barrier_gc(part, a->coord_url,
		                                     a->grace_ms, 0);
	if (err == DTX_OK)
		err = dtx_participant_start(part);
	if (err != DTX_OK) {
		dtx_participant_destroy(part);
		return err;
	}
	*ret_part = part;
	return DTX_OK;
}

/* serve runs the service until a stop signal. Returns the exit status. */
static int serve(const char *prog, const shop_service *svc,
                 const service_args *a, const sigset_t *stop)
{
	dtx_store *store = NULL;
	dtx_participant *part = NULL;
	int err, sig, status = EXIT_FAILURE;

	err = open_store(svc, a->data, &store);
	if (err != DTX_OK) {
		fprintf(stderr, "%s: store %s: %s\n", prog, a->data,
		        dtx_strerror(err));
		goto out;
	}
	err = build_participant(svc, a, store, &part);
	if (err != DTX_OK) {
		fprintf(stderr, "%s: serve on %s: %s\n", prog, a->url,
		        dtx_strerror(err));
		goto out;
	}
	if (a->ready_file != NULL && shop_write_ready_file(a->ready_file)) {
		fprintf(stderr, "%s: ready file %s: %s\n", prog, a->ready_file,
		        strerror(errno));
		goto out;
	}
	sigwait(stop, &sig);
	status = EXIT_SUCCESS;
out:
	dtx_participant_destroy(part);
	dtx_store_close(store);
	return status;
}

int shop_service_main(const shop_service *svc, int argc, char **argv)
{
	char prog[32];
	service_args a = {0};
	sigset_t stop;

	snprintf(prog, sizeof(prog), "dtx-shop-%s", shop_service_name(svc->id));
	parse_args(prog, argc, argv, &a);
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	dtx_set_log_cb(log_cb, prog);
	return serve(prog, svc, &a, &stop);
}
