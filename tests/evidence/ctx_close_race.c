/*
 * ctx_close_race.c - evidence that nng 1.5.2 aborts ("panic:
 * pthread_mutex_lock: Invalid argument") when nng_close runs while an aio
 * callback is still inside nng_ctx_recv on one of the socket's contexts,
 * with no dtx code at all: the pattern of coordinator/rpc.c before it
 * stopped a peer's aios first (doc/evidence/nng-ctx-close-panic.md).
 *
 * A req0 context sends to a rep0 socket of this process that takes each
 * request and closes its connection. The send's callback waits DELAY_US
 * (so the connection is gone first), then calls nng_ctx_recv, which fails
 * at once with ECONNRESET; that completion runs on another nng thread and
 * posts a semaphore; main then closes the socket at once, as dtxd's loop
 * closed a peer whose calls were all released. nni_ctx_rele unlists the
 * context (waking nng_close) before req0_ctx_fini locks the socket's
 * mutex, so nng_close can destroy the socket first.
 *
 * Not a test (no meson target). Build and run by hand:
 *   cc -O2 -o ctx_close_race ctx_close_race.c -lnng -lpthread
 *   ./ctx_close_race 200          # aborts, usually in a few rounds
 *   ./ctx_close_race 200 stop     # nng_aio_stop before nng_close: survives
 * With LD_LIBRARY_PATH at a debug build of nng the backtrace has names.
 * Every wait is bounded (a round whose callback never comes is counted).
 */
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#define URL      "ipc:///tmp/ctx_close_race.ipc"
#define DELAY_US 2000
#define WAIT_S   3

static sem_t done;
static nng_aio *aio;
static nng_ctx ctx;
static int sent; /* the request went out: the next completion is recv */
static nng_socket rep;
static nng_aio *rep_aio;

/* on_req is the req0 context's callback: after a send, a receive. */
static void on_req(void *arg)
{
	int rv = nng_aio_result(aio);

	(void)arg;
	if (!sent && rv == 0) {
		sent = 1;
		usleep(DELAY_US);
		nng_aio_set_timeout(aio, 1000);
		nng_ctx_recv(ctx, aio); /* the window: our frame in nng */
		return;
	}
	if (rv == 0 || !sent)
		nng_msg_free(nng_aio_get_msg(aio));
	sem_post(&done);
}

/* on_rep takes a request and closes its connection. */
static void on_rep(void *arg)
{
	nng_msg *m;

	(void)arg;
	if (nng_aio_result(rep_aio) != 0)
		return;
	m = nng_aio_get_msg(rep_aio);
	nng_pipe_close(nng_msg_get_pipe(m));
	nng_msg_free(m);
	nng_recv_aio(rep, rep_aio);
}

/* one_round sends one request on a fresh socket and closes the socket as
 * soon as the request completed; returns 0, or 1 if no completion came. */
static int one_round(int stop_first)
{
	struct timespec ts;
	nng_socket s;
	nng_msg *m;
	int stuck;

	nng_req0_open(&s);
	nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	nng_dial(s, URL, NULL, 0);
	nng_aio_alloc(&aio, on_req, NULL);
	nng_ctx_open(&ctx, s);
	nng_msg_alloc(&m, 16);
	sent = 0;
	nng_aio_set_msg(aio, m);
	nng_aio_set_timeout(aio, 1000);
	nng_ctx_send(ctx, aio);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += WAIT_S;
	stuck = sem_timedwait(&done, &ts) != 0;
	if (stop_first)
		nng_aio_stop(aio);
	nng_close(s);
	nng_aio_free(aio);
	return stuck;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 200;
	int stop_first = argc > 2 && strcmp(argv[2], "stop") == 0;
	int stuck = 0;

	sem_init(&done, 0, 0);
	if (nng_rep0_open(&rep) != 0 || nng_listen(rep, URL, NULL, 0) != 0 ||
	    nng_aio_alloc(&rep_aio, on_rep, NULL) != 0)
		return 2;
	nng_recv_aio(rep, rep_aio);
	for (int i = 0; i < rounds; i++)
		stuck += one_round(stop_first);
	printf("survived %d rounds (%d without a completion)\n", rounds, stuck);
	return 0;
}
