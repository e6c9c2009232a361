/*
 * rpc_close_test.c - dtxd closes a participant's socket only when none of
 * its nng callbacks is running (found by the chaos soak: dtxd died of
 * "panic: pthread_mutex_lock: Invalid argument", SIGABRT).
 *
 * The race: dtxd's callback for a sent request calls nng_ctx_recv; if the
 * participant is gone by then, the receive fails at once (ECONNRESET) and
 * its callback runs on another nng thread, posts the call, and the loop
 * releases it and closes the participant's socket (it has no connection
 * and no call) while the first thread is still inside nng_ctx_recv. nng
 * 1.5.2 then frees the socket under that call. The window is a few
 * instructions; a hold point widens the part before it without timing:
 * DTX_HOLD=rpc.sent@FILE keeps the send callback waiting (just before its
 * nng_ctx_recv) while the test drops the participant, then lets it go.
 * Whether the panic follows still depends on the scheduler, so the test
 * runs ROUNDS of it; each round can only fail by dtxd dying.
 *
 * The participant is a rep0 socket of this test that never answers: it
 * takes the request and closes (the connection and the listener go).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "harness.h"

#define ROUNDS   20
#define WAIT_MS  10000 /* a step the test waits for (bounded, not timed) */
#define AFTER_MS 300   /* dtxd's time to close the socket after a round */
#define POLL_MS  5

TestSuite(rpc_close, .fini = th_teardown, .timeout = 240);

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void touch(const char *path)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "create %s", path);
	fclose(f);
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* wait_fds_below polls dtxd's descriptors until fewer than n are open
 * (the participant's connection closed on dtxd's side too), at most
 * WAIT_MS; a round that never sees it still runs, it just may not race. */
static void wait_fds_below(th_proc *dtxd, int n)
{
	for (int ms = 0; ms < WAIT_MS && th_proc_fd_count(dtxd) >= n;
	     ms += POLL_MS)
		sleep_ms(POLL_MS);
}

/* one_round submits a one-step saga to a participant at url that takes
 * the request and goes while dtxd's send callback is held at hold. */
static void one_round(th_env *t, dtx_client *c, int round, const char *hold,
                      const char *held)
{
	char url[TH_URL_MAX], path[PATH_MAX], name[32], gid[32];
	nng_socket p;
	nng_msg *m;
	dtx_saga *saga;
	dtx_tx_info info;
	int fds;

	snprintf(name, sizeof(name), "p%d.ipc", round);
	th_path(t, name, path, sizeof(path));
	snprintf(url, sizeof(url), "ipc://%s", path);
	snprintf(gid, sizeof(gid), "race-%d", round);
	unlink(held);
	touch(hold);
	cr_assert_eq(nng_rep0_open(&p), 0);
	nng_socket_set_ms(p, NNG_OPT_RECVTIMEO, WAIT_MS);
	cr_assert_eq(nng_listen(p, url, NULL, 0), 0);
	cr_assert_eq(dtx_saga_create(gid, &saga), DTX_OK);
	cr_assert_eq(
	        dtx_saga_add_step(saga, url, "p.do", "p.undo", NULL, 0, 60000),
	        DTX_OK);
	cr_assert_eq(dtx_client_submit(c, saga, 0, &info), DTX_OK);
	dtx_saga_destroy(saga);
	cr_assert_eq(nng_recvmsg(p, &m, 0), 0, "round %d: no call came", round);
	nng_msg_free(m);
	for (int ms = 0; !exists(held); ms += POLL_MS) {
		cr_assert(ms < WAIT_MS, "round %d: the send never held", round);
		sleep_ms(POLL_MS);
	}
	fds = th_proc_fd_count(t->dtxd);
	nng_close(p); /* the participant goes: connection and listener */
	wait_fds_below(t->dtxd, fds);
	cr_assert_eq(unlink(hold), 0);
	for (int ms = 0; ms < AFTER_MS && th_proc_is_alive(t->dtxd);
	     ms += POLL_MS)
		sleep_ms(POLL_MS);
	cr_assert(th_proc_is_alive(t->dtxd),
	          "round %d: dtxd died closing a participant's socket", round);
}

Test(rpc_close, a_participant_that_goes_mid_call_does_not_kill_dtxd)
{
	th_env *t = th_begin();
	char hold[PATH_MAX], held[PATH_MAX + 8], env[PATH_MAX + 32];
	dtx_client *c;
	dtx_tx_info info;

	th_path(t, "hold", hold, sizeof(hold));
	snprintf(held, sizeof(held), "%s.held", hold);
	snprintf(env, sizeof(env), "DTX_HOLD=rpc.sent@%s", hold);
	th_dtxd_start_env(t, env, NULL);
	c = th_client(t);
	for (int i = 0; i < ROUNDS; i++)
		one_round(t, c, i, hold, held);
	/* still serving: each saga is there, waiting to retry its call */
	cr_assert_eq(dtx_client_query(c, "race-0", 0, &info), DTX_OK);
	th_end(t);
}
