/*
 * link.c - a req0 socket that stays connected to one URL (see link.h).
 *
 * Why it exists. A plain nng 1.5.2 socket with one nng_dial can stop
 * talking to its peer for minutes or for good (PLATFORM.md, "nng 1.5.2:
 * the stuck reaper"):
 *   - a connect issued while the peer's port drops packets waits out
 *     Linux's SYN retries (~127 s): after a heal the next SYN may be a
 *     minute away;
 *   - a handshake that fails with EPIPE/EBADF ends the dialer for good;
 *   - the tcp close race blocks the process-wide reaper: a lost pipe is
 *     then never removed, so its dialer never dials again (the redial
 *     runs only when the reaper removes the pipe);
 *   - a connection whose peer died during a partition stays half-open
 *     until TCP gives up.
 * None of these is visible through nng's API, so the link watches what
 * it can see - pipes added (NNG_PIPE_EV_ADD_POST, on nng's task threads),
 * pipes removed (REM_POST, on the reaper, so it may never come), answers
 * heard and requests that ended unanswered - and when there has been no
 * connection for LINK_REDIAL_MS, or a request found nothing heard from the
 * connection for its whole deadline, it closes the dialer (and with it
 * its pipes: pending requests on them end at once with ECONNRESET) and
 * dials on a fresh dialer. A fresh dialer never goes through the reaper.
 *
 * Owns the socket, the current dialer and the table of pipes it was told
 * of. Never blocks on nng's threads: the pipe callback only updates the
 * table under the link's mutex; the redial runs on the caller of
 * sdk_link_tend (the client's keeper thread), without the mutex held
 * (closing a dialer waits for its callbacks, which take the mutex).
 *
 * Telling "nothing listens there" from "slow". nng's dialer retries a
 * refused connect in silence, so a request to a coordinator that is not
 * running would wait its whole deadline and end like a slow one. While
 * the link has had no connection for PROBE_AFTER_MS, it therefore
 * connects once more on its own (a probe: nng's stream dialer, whose aio
 * reports the connect's error, when the connect ends; a connection made
 * completes the SP handshake before it is closed, or nng 1.5.2's
 * listener would stop for good: see probe_greet), at every tend and when
 * a request asks whether the link is refused. A link that never had a
 * connection and whose probes were refused (ECONNREFUSED, or ENOENT: an
 * ipc path with no socket) for REFUSED_MS is "refused"
 * (sdk_link_is_refused): its requests end DTX_EUNREACHABLE at once. A
 * link that was connected once keeps waiting: its coordinator may be
 * restarting.
 *
 * Threads: sdk_link_mark/ended/is_up/is_refused, the pipe and the probe
 * callbacks may run on any thread; sdk_link_tend, close_socket and free on
 * one thread at a time.
 */
#include "link.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>

#include "sdk.h"
#include "wire.h"

#define LINK_PIPES_MAX 8 /* connections one link keeps at once */
#define LINK_REDIAL_MS                                                         \
	2000                /* no connection this long: dial afresh; and       \
	                       at most one fresh dialer this often */
#define PROBE_AFTER_MS 150  /* no connection this long: probe */
#define REFUSED_MS     1000 /* refused this long, never connected: refused */

#define SP_HEAD_LEN    8     /* the SP handshake's header */
#define PROBE_GREET_MS 11000 /* past nng's 10 s handshake timeout */

/* A probe's steps: connect; then, on a connection made, send our SP
 * header and read the listener's before closing (see probe_cb). */
typedef enum probe_step { PROBE_DIAL, PROBE_HELLO, PROBE_HEAR } probe_step;

struct sdk_link {
	char *url; /* owned */
	nng_socket sock;
	bool sock_open;
	nng_dialer dialer; /* the current one; only sdk_link_tend changes it */
	bool dialer_open;
	nng_time last_dial; /* when the current dialer started */
	bool mu_init;
	pthread_mutex_t mu;
	nng_pipe pipes[LINK_PIPES_MAX]; /* guarded by mu */
	unsigned npipes;                /* guarded by mu */
	nng_time down_since;            /* guarded by mu: npipes is 0 since */
	bool suspect; /* guarded by mu: replace the connection */
	/* Bumped by every answer and every fresh dialer: a request that
	 * ends with the value it began with heard nothing meanwhile. */
	_Atomic uint64_t heard;
	nng_stream_dialer *probe; /* NULL: none (a scheme it cannot dial) */
	nng_aio *probe_aio;
	bool probing; /* guarded by mu: the probe's connect is out, or it is
	                 still greeting on the connection it made */
	nng_stream *probe_conn; /* the probe's connection, while it greets */
	nng_stream *probe_done; /* the last probe's, closed; freed later */
	probe_step step;        /* what probe_aio does now */
	uint8_t probe_head[SP_HEAD_LEN]; /* the header sent, then received */
	size_t probe_got;                /* header bytes received */
	uint16_t proto;                  /* the socket's own SP protocol */
	bool ever_up;           /* guarded by mu: a pipe was added once */
	nng_time refused_since; /* guarded by mu: 0 = the last probe was not
	                           refused */
};

/* ---- the pipe table (nng threads) -------------------------------------- */

static void pipe_add(sdk_link *l, nng_pipe p)
{
	bool full;

	pthread_mutex_lock(&l->mu);
	full = l->npipes == LINK_PIPES_MAX;
	if (!full)
		l->pipes[l->npipes++] = p;
	l->ever_up = true;
	l->refused_since = 0;
	pthread_mutex_unlock(&l->mu);
	if (full) /* more connections than a client needs */
		nng_pipe_close(p);
}

static void pipe_remove(sdk_link *l, nng_pipe p)
{
	pthread_mutex_lock(&l->mu);
	for (unsigned i = 0; i < l->npipes; i++) {
		if (nng_pipe_id(l->pipes[i]) != nng_pipe_id(p))
			continue;
		l->pipes[i] = l->pipes[--l->npipes];
		if (l->npipes == 0)
			l->down_since = nng_clock();
		break;
	}
	pthread_mutex_unlock(&l->mu);
}

/* pipe_cb runs on nng's threads (ADD_POST on the task queue, REM_POST on
 * the reaper); arg is the link (retained: the socket's callbacks end
 * with nng_close, before sdk_link_free). */
static void pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	if (ev == NNG_PIPE_EV_ADD_POST)
		pipe_add(arg, p);
	else if (ev == NNG_PIPE_EV_REM_POST)
		pipe_remove(arg, p);
}

/* ---- the probe ------------------------------------------------------- */

/* probe_end frees the probe's connection (if any) and lets the next
 * probe start. */
static void probe_end(sdk_link *l)
{
	/* Closed now, freed at the next probe (PROBE_AFTER_MS at least):
	 * nng 1.5.2's timeout thread may still be about to call the
	 * stream's cancel function it took before the greeting completed
	 * (client.c, bury). */
	if (l->probe_conn != NULL)
		nng_stream_close(l->probe_conn);
	l->probe_done = l->probe_conn;
	l->probe_conn = NULL;
	pthread_mutex_lock(&l->mu);
	l->probing = false;
	pthread_mutex_unlock(&l->mu);
}

/* probe_greet does the probe's next step on its connection: nng 1.5.2
 * takes a peer that closes before the listener wrote its own header for
 * the listener's close and stops accepting for good (lguard.h), so a
 * probe never closes a connection it made at once: it sends our header,
 * reads the listener's (or waits past nng's handshake timeout) and only
 * then closes; the listener sees a well-formed peer that left. */
static void probe_greet(sdk_link *l)
{
	nng_iov iov;

	if (l->step == PROBE_DIAL) {
		l->step = PROBE_HELLO;
		l->probe_head[0] = 0;
		l->probe_head[1] = 'S';
		l->probe_head[2] = 'P';
		l->probe_head[3] = 0;
		l->probe_head[4] = (uint8_t)(l->proto >> 8);
		l->probe_head[5] = (uint8_t)l->proto;
		l->probe_head[6] = l->probe_head[7] = 0;
		iov.iov_buf = l->probe_head;
		iov.iov_len = SP_HEAD_LEN;
		nng_aio_set_iov(l->probe_aio, 1, &iov);
		nng_aio_set_timeout(l->probe_aio, PROBE_GREET_MS);
		nng_stream_send(l->probe_conn, l->probe_aio);
		return;
	}
	l->step = PROBE_HEAR;
	iov.iov_buf = l->probe_head + l->probe_got;
	iov.iov_len = SP_HEAD_LEN - l->probe_got;
	nng_aio_set_iov(l->probe_aio, 1, &iov);
	nng_aio_set_timeout(l->probe_aio, PROBE_GREET_MS);
	nng_stream_recv(l->probe_conn, l->probe_aio);
}

/* probe_cb ends a probe's step (nng's threads). A connect that was
 * refused starts or continues the link's refused time, one that was made
 * ends it, any other ending (a timeout: packets dropped) says nothing is
 * known. A connection made is greeted (probe_greet), not closed at once:
 * the dialer makes its own. */
static void probe_cb(void *arg)
{
	sdk_link *l = arg;
	int rv = nng_aio_result(l->probe_aio);
	bool refused = rv == NNG_ECONNREFUSED || rv == NNG_ENOENT;

	if (l->step == PROBE_DIAL) {
		pthread_mutex_lock(&l->mu);
		if (!refused)
			l->refused_since = 0;
		else if (l->refused_since == 0)
			l->refused_since = nng_clock();
		pthread_mutex_unlock(&l->mu);
		if (rv != 0) {
			probe_end(l);
			return;
		}
		l->probe_conn = nng_aio_get_output(l->probe_aio, 0);
		l->probe_got = 0;
		probe_greet(l);
		return;
	}
	if (rv == 0 && l->step == PROBE_HEAR)
		l->probe_got += nng_aio_count(l->probe_aio);
	if (rv != 0 || (l->step == PROBE_HEAR && l->probe_got >= SP_HEAD_LEN)) {
		probe_end(l);
		return;
	}
	probe_greet(l);
}

/* probe_start connects once more on the side, if the link has had no
 * connection for PROBE_AFTER_MS (not at once: a healthy dialer connects
 * first, and a probe's connection that never speaks SP is no use to the
 * peer's listener) and no probe is out. */
static void probe_start(sdk_link *l)
{
	bool go;

	pthread_mutex_lock(&l->mu);
	go = l->probe != NULL && !l->probing && l->npipes == 0 &&
	     nng_clock() - l->down_since >= PROBE_AFTER_MS;
	l->probing = l->probing || go;
	pthread_mutex_unlock(&l->mu);
	if (!go)
		return;
	/* No timeout: a probe ends when its connect does. nng 1.5.2's tcp
	 * stream dialer finishes a timed-out dial while its own connect is
	 * still out, and the next dial then begins that connect's aio again
	 * (panic "assert err: !nni_aio_list_active(aio)", seen in
	 * client_stall_test). While a probe hangs (packets dropped) no other
	 * starts and nothing is concluded: the link is not "refused". */
	if (l->probe_done != NULL)
		nng_stream_free(l->probe_done);
	l->probe_done = NULL;
	l->step = PROBE_DIAL;
	nng_aio_set_timeout(l->probe_aio, NNG_DURATION_INFINITE);
	nng_stream_dialer_dial(l->probe, l->probe_aio);
}

/* probe_open makes l's probe; a URL its stream dialer cannot take (the
 * socket's dialer may still) leaves l without one. */
static int probe_open(sdk_link *l, nng_tls_config *tls)
{
	int rv = nng_aio_alloc(&l->probe_aio, probe_cb, l);

	if (rv != 0)
		return sdk_err_from_nng(rv);
	/* a probe greets in plain SP: a tls+tcp listener would see a TLS
	 * handshake broken off, so those links are not probed */
	if (strncmp(l->url, "tls+", 4) == 0 ||
	    nng_stream_dialer_alloc(&l->probe, l->url) != 0)
		l->probe = NULL;
	else if (tls != NULL && tlsconf_is_tls_url(l->url))
		(void)nng_stream_dialer_set_ptr(l->probe, NNG_OPT_TLS_CONFIG,
		                                tls);
	return DTX_OK;
}

bool sdk_link_is_refused(sdk_link *link)
{
	bool refused;

	probe_start(link); /* for the next asking, if none is out */
	pthread_mutex_lock(&link->mu);
	refused = !link->ever_up && link->npipes == 0 &&
	          link->refused_since != 0 &&
	          nng_clock() - link->refused_since >= REFUSED_MS;
	pthread_mutex_unlock(&link->mu);
	return refused;
}

/* ---- open -------------------------------------------------------------- */

/* dial starts a new dialer on l's socket, without waiting. */
static int dial(sdk_link *l)
{
	int rv = nng_dialer_create(&l->dialer, l->sock, l->url);

	if (rv != 0)
		return sdk_err_from_nng(rv);
	l->dialer_open = true;
	l->last_dial = nng_clock();
	atomic_fetch_add(&l->heard, 1);
	return sdk_err_from_nng(nng_dialer_start(l->dialer, NNG_FLAG_NONBLOCK));
}

static int link_setup(sdk_link *l, size_t max_msg, nng_tls_config *tls)
{
	int rv = nng_req0_open(&l->sock);

	if (rv != 0)
		return sdk_err_from_nng(rv);
	l->sock_open = true;
	/* nng's default is unlimited (PLATFORM.md): always set it */
	rv = nng_socket_set_size(l->sock, NNG_OPT_RECVMAXSZ, max_msg);
	/* kept by the socket for every dialer dial() makes */
	if (rv == 0 && tls != NULL)
		rv = nng_socket_set_ptr(l->sock, NNG_OPT_TLS_CONFIG, tls);
	if (rv == 0) /* the caller decides every resend */
		rv = nng_socket_set_ms(l->sock, NNG_OPT_REQ_RESENDTIME,
		                       NNG_DURATION_INFINITE);
	if (rv == 0)
		rv = nng_pipe_notify(l->sock, NNG_PIPE_EV_ADD_POST, pipe_cb, l);
	if (rv == 0)
		rv = nng_pipe_notify(l->sock, NNG_PIPE_EV_REM_POST, pipe_cb, l);
	if (rv != 0)
		return sdk_err_from_nng(rv);
	return dial(l);
}

int sdk_link_open(const char *url, size_t max_msg, nng_tls_config *tls,
                  sdk_link **ret_link)
{
	sdk_link *l;
	char why[200];
	int rv, proto = 0;

	if (wire_scheme_check(url, why, sizeof(why)) != DTX_OK) {
		sdk_logf(DTX_LOG_WARN, "client: %s", why);
		return DTX_EINVAL;
	}
	if (tls == NULL && tlsconf_is_tls_url(url)) {
		sdk_logf(DTX_LOG_WARN,
		         "client: %s needs TLS settings (dtx_client_opts.tls)",
		         url);
		return DTX_EINVAL;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return DTX_ENOMEM;
	if ((l->url = strdup(url)) == NULL ||
	    pthread_mutex_init(&l->mu, NULL) != 0) {
		free(l->url);
		free(l);
		return DTX_ENOMEM;
	}
	l->mu_init = true;
	l->down_since = nng_clock();
	rv = probe_open(l, tls);
	if (rv == DTX_OK)
		rv = link_setup(l, max_msg, tls);
	if (rv == DTX_OK &&
	    (nng_socket_get_int(l->sock, NNG_OPT_PROTO, &proto) != 0 ||
	     proto <= 0 || proto > 0xffff))
		rv = DTX_EINTERNAL;
	l->proto = (uint16_t)proto;
	if (rv != DTX_OK) {
		sdk_link_close_socket(l); /* no pipe yet: cannot hang */
		sdk_link_free(l);
		return rv;
	}
	*ret_link = l;
	return DTX_OK;
}

/* ---- what requests tell ------------------------------------------------ */

nng_socket sdk_link_socket(const sdk_link *link)
{
	return link->sock;
}

const char *sdk_link_url(const sdk_link *link)
{
	return link->url;
}

bool sdk_link_is_up(sdk_link *link)
{
	bool up;

	pthread_mutex_lock(&link->mu);
	up = link->npipes > 0;
	pthread_mutex_unlock(&link->mu);
	return up;
}

uint64_t sdk_link_mark(sdk_link *link)
{
	return atomic_load(&link->heard);
}

void sdk_link_ended(sdk_link *link, uint64_t mark, int err)
{
	if (err == DTX_OK) {
		atomic_fetch_add(&link->heard, 1);
		return;
	}
	if (err != DTX_ETIMEDOUT && err != DTX_EUNREACHABLE)
		return;
	if (atomic_load(&link->heard) != mark)
		return; /* the connection answered someone meanwhile */
	pthread_mutex_lock(&link->mu);
	link->suspect = true;
	pthread_mutex_unlock(&link->mu);
}

/* ---- replacing the connection (the keeper's thread) -------------------- */

/* is_due decides, under l->mu, whether to dial afresh now; if so it
 * forgets the pipes (copied to ret_pipes, *ret_n of them) and the
 * suspicion. */
static bool is_due(sdk_link *l, nng_time now, nng_pipe *ret_pipes,
                   unsigned *ret_n)
{
	nng_time quiet =
	        l->down_since > l->last_dial ? l->down_since : l->last_dial;

	if (now - l->last_dial < LINK_REDIAL_MS)
		return false;
	if (!l->suspect && (l->npipes > 0 || now - quiet < LINK_REDIAL_MS))
		return false;
	memcpy(ret_pipes, l->pipes, l->npipes * sizeof(nng_pipe));
	*ret_n = l->npipes;
	l->npipes = 0;
	l->suspect = false;
	l->down_since = now;
	return true;
}

void sdk_link_tend(sdk_link *link)
{
	nng_pipe pipes[LINK_PIPES_MAX];
	unsigned n = 0;
	bool due;
	int rv;

	probe_start(link);
	pthread_mutex_lock(&link->mu);
	due = link->sock_open && is_due(link, nng_clock(), pipes, &n);
	pthread_mutex_unlock(&link->mu);
	if (!due)
		return;
	sdk_logf(DTX_LOG_INFO, "client: %s: %s: dialing afresh", link->url,
	         n > 0 ? "no answer on the connection" : "no connection");
	/* closing the dialer closes its pipes (pending requests on them end
	 * with ECONNRESET); the explicit closes cover a pipe whose removal
	 * the reaper never reported */
	for (unsigned i = 0; i < n; i++)
		nng_pipe_close(pipes[i]);
	if (link->dialer_open)
		nng_dialer_close(link->dialer);
	link->dialer_open = false;
	if ((rv = dial(link)) != DTX_OK)
		sdk_logf(DTX_LOG_WARN, "client: %s: cannot dial: %s", link->url,
		         dtx_strerror(rv));
}

/* ---- close ------------------------------------------------------------- */

/*
 * sdk_link_close_socket - nng_close waits until every pipe of the socket
 * has been removed by nng's reaper. After the tcp close race (nng 1.5.2,
 * fixed upstream in 1.6.0 by PR #1636) the reaper waits for ever on a
 * receive that was lost, so this call can then never return, in any
 * thread; callers bound their wait and leave the link (and its memory)
 * to the process.
 */
void sdk_link_close_socket(sdk_link *link)
{
	if (link == NULL)
		return;
	if (link->probe_aio != NULL)
		nng_aio_stop(link->probe_aio); /* its callback has run */
	if (link->probe_conn != NULL)          /* freed by sdk_link_free */
		nng_stream_close(link->probe_conn);
	if (link->probe != NULL)
		nng_stream_dialer_free(link->probe);
	link->probe = NULL;
	if (!link->sock_open)
		return;
	nng_close(link->sock);
	link->sock_open = false;
	link->dialer_open = false;
}

void sdk_link_free(sdk_link *link)
{
	if (link == NULL)
		return;
	if (link->mu_init)
		pthread_mutex_destroy(&link->mu);
	/* the aio first: nng_aio_free waits for a cancel function nng's
	 * timeout thread may be calling on a probe's stream (probe_end) */
	nng_aio_free(link->probe_aio);
	if (link->probe_conn != NULL)
		nng_stream_free(link->probe_conn);
	if (link->probe_done != NULL)
		nng_stream_free(link->probe_done);
	free(link->url);
	free(link);
}
