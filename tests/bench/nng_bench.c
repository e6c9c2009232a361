/*
 * nng_bench.c - the transport's ceiling on this machine: how many nng
 * request/reply round trips per second a REQ client with many contexts
 * outstanding gets from a REP server in another process, over the
 * transports dtx uses (ipc://, tcp://127.0.0.1). compare.sh divides dtx's
 * round trips per second by this figure.
 *
 *   nng_bench serve --url URL [--contexts N] [--ready-file PATH]
 *       echo every request back, N requests at once (asynchronous
 *       contexts, like dtxd and the SDK), until SIGTERM or SIGINT;
 *   nng_bench load --url URL --outstanding N --duration-s S [--size B]
 *                  [--pids PID,...] [--json FILE] [--label NAME]
 *       keep N requests of B bytes in flight for S seconds (closed
 *       loop: each answer sends the next request on its context), then
 *       write the report (bench_common.h): round trips/s, latency
 *       percentiles, CPU per round trip of this process and of --pids.
 *
 * Owns its sockets and contexts only; never writes to disk beyond the
 * ready file and the report. Every wait is bounded by the duration plus
 * DRAIN_MS.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "bench_common.h"

#define CONTEXTS_MAX  16384u
#define SIZE_MAX_B    65536u
#define DRAIN_MS      10000
#define DIAL_WAIT_MS  5000
#define MSG_LIMIT     (1u << 20) /* NNG_OPT_RECVMAXSZ on both sides */
#define EXIT_USAGE    64
#define DURATION_MAX  3600u
#define CONTEXTS_DEF  1024u
#define SIZE_DEF      256u
#define RESEND_OFF_MS 3600000 /* no resend within a run */

typedef struct opts {
	const char *mode, *url, *ready_file, *json, *label;
	unsigned contexts, outstanding, duration_s, size;
	bench_pids pids;
} opts;

/* ---- the server: N contexts, each receive -> send the message back ---- */

typedef struct srv_work {
	nng_aio *aio;
	nng_ctx ctx;
	bool sending;
} srv_work;

static void srv_cb(void *arg)
{
	srv_work *w = arg;
	nng_msg *msg;

	if (nng_aio_result(w->aio) != 0) {
		if (w->sending)
			nng_msg_free(nng_aio_get_msg(w->aio));
		if (nng_aio_result(w->aio) == NNG_ECLOSED)
			return;
		w->sending = false;
		nng_ctx_recv(w->ctx, w->aio);
		return;
	}
	if (w->sending) {
		w->sending = false;
		nng_ctx_recv(w->ctx, w->aio);
		return;
	}
	msg = nng_aio_get_msg(w->aio);
	nng_aio_set_msg(w->aio, msg);
	w->sending = true;
	nng_ctx_send(w->ctx, w->aio);
}

static int write_ready(const char *path)
{
	char tmp[4096];
	FILE *f;

	if (path == NULL)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

/* wait_signal blocks until SIGTERM or SIGINT (blocked in every thread
 * since main blocked them before nng started its threads). */
static void wait_signal(const sigset_t *set)
{
	int sig;

	while (sigwait(set, &sig) != 0)
		;
}

static int serve(const opts *o)
{
	srv_work *w = calloc(o->contexts, sizeof(*w));
	nng_socket sock;
	sigset_t set;
	int rv;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (w == NULL || (rv = nng_rep0_open(&sock)) != 0 ||
	    (rv = nng_socket_set_size(sock, NNG_OPT_RECVMAXSZ, MSG_LIMIT)) ||
	    (rv = nng_listen(sock, o->url, NULL, 0)) != 0) {
		fprintf(stderr, "nng_bench: serve %s: %s\n", o->url,
		        w == NULL ? "out of memory" : nng_strerror(rv));
		return 1;
	}
	for (unsigned i = 0; i < o->contexts; i++) {
		if ((rv = nng_aio_alloc(&w[i].aio, srv_cb, &w[i])) != 0 ||
		    (rv = nng_ctx_open(&w[i].ctx, sock)) != 0) {
			fprintf(stderr, "nng_bench: context: %s\n",
			        nng_strerror(rv));
			return 1;
		}
		nng_ctx_recv(w[i].ctx, w[i].aio);
	}
	if (write_ready(o->ready_file) != 0) {
		perror("nng_bench: ready file");
		return 1;
	}
	wait_signal(&set);
	nng_close(sock);
	for (unsigned i = 0; i < o->contexts; i++)
		nng_aio_free(w[i].aio); /* waits for its callback */
	free(w);
	return 0;
}

/* ---- the load: N contexts, each send -> receive -> send ... ----------- */

typedef struct load load;

typedef struct load_work {
	load *l;
	nng_aio *aio;
	nng_ctx ctx;
	int64_t start_ns;
	bool receiving;
} load_work;

struct load {
	const opts *o;
	nng_socket sock;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned active; /* contexts still looping */
	int64_t stop_ns, first_ns, last_ns;
	uint64_t answered, errors;
	bench_lat lat;
};

/* send_next sends a fresh request on w, or retires w once the run is
 * over or the message cannot be made. */
static void send_next(load_work *w)
{
	load *l = w->l;
	nng_msg *msg;

	if (bench_now_ns() < l->stop_ns &&
	    nng_msg_alloc(&msg, l->o->size) == 0) {
		memset(nng_msg_body(msg), 'x', l->o->size);
		w->receiving = false;
		w->start_ns = bench_now_ns();
		nng_aio_set_msg(w->aio, msg);
		nng_ctx_send(w->ctx, w->aio);
		return;
	}
	pthread_mutex_lock(&l->mu);
	if (--l->active == 0)
		pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

static void note_answer(load *l, int64_t start_ns, bool ok)
{
	int64_t t = bench_now_ns();

	pthread_mutex_lock(&l->mu);
	if (ok) {
		l->answered++;
		bench_lat_add(&l->lat, (double)(t - start_ns) / 1e6);
	} else {
		l->errors++;
	}
	if (t > l->last_ns)
		l->last_ns = t;
	pthread_mutex_unlock(&l->mu);
}

static void load_cb(void *arg)
{
	load_work *w = arg;
	int rv = nng_aio_result(w->aio);

	if (!w->receiving && rv == 0) {
		w->receiving = true;
		nng_ctx_recv(w->ctx, w->aio);
		return;
	}
	if (!w->receiving)
		nng_msg_free(nng_aio_get_msg(w->aio));
	else if (rv == 0)
		nng_msg_free(nng_aio_get_msg(w->aio));
	note_answer(w->l, w->start_ns, rv == 0);
	if (rv == NNG_ECLOSED) {
		w->receiving = false;
		pthread_mutex_lock(&w->l->mu);
		if (--w->l->active == 0)
			pthread_cond_signal(&w->l->cv);
		pthread_mutex_unlock(&w->l->mu);
		return;
	}
	send_next(w);
}

static int dial(load *l)
{
	int64_t limit = bench_now_ns() + (int64_t)DIAL_WAIT_MS * 1000000;
	int rv;

	if ((rv = nng_req0_open(&l->sock)) != 0 ||
	    (rv = nng_socket_set_size(l->sock, NNG_OPT_RECVMAXSZ, MSG_LIMIT)) ||
	    (rv = nng_socket_set_ms(l->sock, NNG_OPT_REQ_RESENDTIME,
	                            RESEND_OFF_MS)) != 0)
		return rv;
	do {
		rv = nng_dial(l->sock, l->o->url, NULL, 0);
		if (rv == 0)
			return 0;
		bench_sleep_ms(50);
	} while (bench_now_ns() < limit);
	return rv;
}

/* wait_done waits for every context to retire, at most DRAIN_MS past the
 * end of the run. */
static void wait_done(load *l)
{
	int64_t limit = l->stop_ns + (int64_t)DRAIN_MS * 1000000;

	pthread_mutex_lock(&l->mu);
	while (l->active > 0 && bench_now_ns() < limit) {
		pthread_mutex_unlock(&l->mu);
		bench_sleep_ms(10);
		pthread_mutex_lock(&l->mu);
	}
	pthread_mutex_unlock(&l->mu);
}

static int report(load *l, double cpu_ms)
{
	char check[128];
	bench_report r = {.system = l->o->label,
	                  .concurrency = l->o->outstanding,
	                  .answered = l->answered,
	                  .ok = l->answered,
	                  .non_business = l->errors,
	                  .elapsed_s = (double)(l->last_ns - l->first_ns) / 1e9,
	                  .cpu_ms = cpu_ms,
	                  .invariants_ok = l->errors == 0,
	                  .check = check};

	snprintf(check, sizeof(check), "%llu round trips, %llu errors",
	         (unsigned long long)l->answered,
	         (unsigned long long)l->errors);
	if (bench_report_write(l->o->json, &r, &l->lat) != 0) {
		perror("nng_bench: report");
		return 1;
	}
	return 0;
}

static int run_load(const opts *o)
{
	load l = {.o = o, .active = o->outstanding};
	load_work *w = calloc(o->outstanding, sizeof(*w));
	double cpu0;
	int rv, rc;

	pthread_mutex_init(&l.mu, NULL);
	pthread_cond_init(&l.cv, NULL);
	if (w == NULL || (rv = dial(&l)) != 0) {
		fprintf(stderr, "nng_bench: dial %s: %s\n", o->url,
		        w == NULL ? "out of memory" : nng_strerror(rv));
		return 1;
	}
	for (unsigned i = 0; i < o->outstanding; i++) {
		w[i].l = &l;
		if ((rv = nng_aio_alloc(&w[i].aio, load_cb, &w[i])) != 0 ||
		    (rv = nng_ctx_open(&w[i].ctx, l.sock)) != 0) {
			fprintf(stderr, "nng_bench: context: %s\n",
			        nng_strerror(rv));
			return 1;
		}
	}
	cpu0 = bench_cpu_ms(&o->pids);
	l.first_ns = l.last_ns = bench_now_ns();
	l.stop_ns = l.first_ns + (int64_t)o->duration_s * 1000000000;
	for (unsigned i = 0; i < o->outstanding; i++)
		send_next(&w[i]);
	wait_done(&l);
	rc = report(&l, bench_cpu_ms(&o->pids) - cpu0);
	nng_close(l.sock); /* ends what is left in flight */
	for (unsigned i = 0; i < o->outstanding; i++)
		nng_aio_free(w[i].aio);
	free(w);
	bench_lat_fini(&l.lat);
	return rc;
}

/* ---- command line ------------------------------------------------------ */

static __attribute__((noreturn)) void usage(const char *why)
{
	fprintf(stderr,
	        "nng_bench: %s\nusage: nng_bench serve --url URL [--contexts "
	        "N] "
	        "[--ready-file PATH]\n       nng_bench load --url URL "
	        "--outstanding N --duration-s S [--size B] [--pids PID,...] "
	        "[--json FILE] [--label NAME]\n",
	        why);
	exit(EXIT_USAGE);
}

/* flag_uint is bench_flag_num for an unsigned flag. */
static unsigned flag_uint(const char *name, unsigned lo, unsigned hi)
{
	return (unsigned)bench_flag_num("nng_bench", name, optarg, lo, hi);
}

static void parse(int argc, char **argv, opts *o)
{
	static const struct option longs[] = {
	        {"url", required_argument, NULL, 'u'},
	        {"contexts", required_argument, NULL, 'c'},
	        {"ready-file", required_argument, NULL, 'r'},
	        {"outstanding", required_argument, NULL, 'o'},
	        {"duration-s", required_argument, NULL, 'd'},
	        {"size", required_argument, NULL, 's'},
	        {"pids", required_argument, NULL, 'p'},
	        {"json", required_argument, NULL, 'j'},
	        {"label", required_argument, NULL, 'l'},
	        {NULL, 0, NULL, 0}};
	int ch;

	if (argc < 2)
		usage("missing mode");
	o->mode = argv[1];
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (ch) {
		case 'u':
			o->url = optarg;
			break;
		case 'c':
			o->contexts = flag_uint("--contexts", 1, CONTEXTS_MAX);
			break;
		case 'r':
			o->ready_file = optarg;
			break;
		case 'o':
			o->outstanding =
			        flag_uint("--outstanding", 1, CONTEXTS_MAX);
			break;
		case 'd':
			o->duration_s =
			        flag_uint("--duration-s", 1, DURATION_MAX);
			break;
		case 's':
			o->size = flag_uint("--size", 1, SIZE_MAX_B);
			break;
		case 'p':
			if (bench_pids_parse(optarg, &o->pids) != 0)
				usage("bad --pids");
			break;
		case 'j':
			o->json = optarg;
			break;
		case 'l':
			o->label = optarg;
			break;
		default:
			usage("unknown option");
		}
	}
	if (o->url == NULL || optind != argc)
		usage("--url is required, no operands");
}

int main(int argc, char **argv)
{
	opts o = {.contexts = CONTEXTS_DEF,
	          .size = SIZE_DEF,
	          .json = "-",
	          .label = "nng"};

	parse(argc, argv, &o);
	if (strcmp(o.mode, "serve") == 0)
		return serve(&o);
	if (strcmp(o.mode, "load") != 0)
		usage("mode must be serve or load");
	if (o.outstanding == 0 || o.duration_s == 0)
		usage("load needs --outstanding and --duration-s");
	return run_load(&o);
}
