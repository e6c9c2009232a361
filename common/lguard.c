/*
 * lguard.c - keeps a socket's nng listeners accepting (see lguard.h for
 * the nng 1.5.2 defect this works around and the rules).
 *
 * One thread per guard: every check_ms, each watched listener that handed
 * no pipe to the socket since the last check is probed; one the probe
 * finds dead is closed and listened on again; one that could not be made
 * again is retried at every check. Pipe events count into atomics indexed
 * like the table (the listener id of slot i is lid[i]), so the callback
 * takes no lock. The guard's mutex guards the table; nng and the probe
 * run without it, on the guard's own thread, so lguard_listen never waits
 * for a probe. A self-pipe interrupts a probe's waits when the guard
 * stops.
 */
#include "lguard.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define URL_MAX   512   /* a listener's URL, as given or as re-listened */
#define POLL_MS   10    /* a probe's look at the pipe count */
#define HEAD_LEN  8     /* the SP handshake's header */
#define HEAD_MS   11000 /* past nng's 10 s handshake timeout */
#define LINE_MAX_ 640   /* one log line */

typedef enum probe_result {
	PROBE_ALIVE,
	PROBE_DEAD,
	PROBE_UNKNOWN
} probe_result;

typedef struct watched {
	char url[URL_MAX]; /* what to listen on again */
	nng_listener l;
	bool up;        /* l listens (false: listen again at the next check) */
	bool probeable; /* ipc or tcp: a plain socket can handshake */
	uint64_t seen;  /* the pipe count at the last check */
	struct sockaddr_storage addr; /* where a probe connects */
	socklen_t addrlen;
} watched;

struct lguard {
	nng_socket sock; /* borrowed */
	lguard_opts o;
	uint16_t peer; /* the socket's peer protocol, for the probe's header */
	int wake[2];   /* self-pipe: written once when the guard stops */
	pthread_mutex_t mu;
	pthread_cond_t cv; /* CLOCK_MONOTONIC: stop or the next check */
	bool stopping;
	bool running; /* the thread was started and not joined */
	pthread_t thread;
	watched w[LGUARD_URLS_MAX];            /* guarded by mu */
	_Atomic size_t n;                      /* slots in use (only grows) */
	_Atomic uint32_t lid[LGUARD_URLS_MAX]; /* slot i's listener id */
	_Atomic uint64_t attached[LGUARD_URLS_MAX]; /* pipes slot i handed */
	_Atomic uint64_t relistens;
};

static void logf_(const lguard *g, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void logf_(const lguard *g, const char *fmt, ...)
{
	char line[LINE_MAX_];
	va_list ap;

	if (g->o.log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	g->o.log(g->o.log_arg, line);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- pipe events -------------------------------------------------------- */

void lguard_pipe_added(lguard *g, nng_pipe p)
{
	nng_listener l;
	size_t n;

	if (g == NULL)
		return;
	l = nng_pipe_listener(p);
	n = atomic_load(&g->n);
	for (size_t i = 0; i < n; i++)
		if (atomic_load(&g->lid[i]) == (uint32_t)nng_listener_id(l)) {
			atomic_fetch_add(&g->attached[i], 1);
			return;
		}
}

static void on_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	if (ev == NNG_PIPE_EV_ADD_PRE)
		lguard_pipe_added(arg, p);
}

/* ---- the probe ---------------------------------------------------------- */

/* wait_fd waits until fd is ready for events (true), or deadline (ms)
 * passed or the guard stops (false). */
static bool wait_fd(const lguard *g, int fd, short events, uint64_t deadline)
{
	struct pollfd p[2] = {{.fd = fd, .events = events},
	                      {.fd = g->wake[0], .events = POLLIN}};
	uint64_t now;
	int rv;

	while ((now = now_ms()) < deadline) {
		rv = poll(p, 2, (int)(deadline - now));
		if (rv > 0)
			return p[1].revents == 0 &&
			       (p[0].revents & events) != 0;
		if (rv < 0 && errno != EINTR)
			return false;
	}
	return false;
}

/* woken waits up to ms for the guard to stop; true if it does. */
static bool woken(const lguard *g, int ms)
{
	struct pollfd p = {.fd = g->wake[0], .events = POLLIN};

	return poll(&p, 1, ms) > 0;
}

/* read_head reads the listener's 8-byte header from fd by deadline. */
static bool read_head(const lguard *g, int fd, uint64_t deadline)
{
	unsigned char got[HEAD_LEN];
	size_t have = 0;
	ssize_t n;

	while (have < HEAD_LEN) {
		if (!wait_fd(g, fd, POLLIN, deadline))
			return false;
		n = recv(fd, got + have, HEAD_LEN - have, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return false;
		have += n > 0 ? (size_t)n : 0;
	}
	return got[0] == 0 && got[1] == 'S' && got[2] == 'P' && got[3] == 0;
}

/* handshake connects to w's address and exchanges SP headers as the
 * socket's peer; returns the connected fd, or -1 (inconclusive). It
 * waits for the listener's header up to HEAD_MS: closing before it was
 * written would make the listener's write fail with EPIPE, the very
 * thing that stops it. */
static int handshake(const lguard *g, const watched *w)
{
	unsigned char head[HEAD_LEN] = {0, 'S', 'P', 0, 0, 0, 0, 0};
	uint64_t deadline = now_ms() + HEAD_MS;
	int err = 0, fd;
	socklen_t len = sizeof(err);

	head[4] = (unsigned char)(g->peer >> 8);
	head[5] = (unsigned char)g->peer;
	fd = socket(w->addr.ss_family,
	            SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)&w->addr, w->addrlen) != 0 &&
	    (errno != EINPROGRESS || !wait_fd(g, fd, POLLOUT, deadline) ||
	     getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0))
		goto fail;
	if (!read_head(g, fd, deadline) ||
	    send(fd, head, HEAD_LEN, MSG_NOSIGNAL) != HEAD_LEN)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

/* probe finds out whether slot i's listener still hands connections to
 * the socket: a handshake of our own must make it hand one over. */
static probe_result probe(const lguard *g, size_t i, const watched *w)
{
	uint64_t before = atomic_load(&g->attached[i]), deadline;
	probe_result r = PROBE_DEAD;
	int fd;

	if ((fd = handshake(g, w)) < 0)
		return PROBE_UNKNOWN;
	deadline = now_ms() + g->o.probe_ms;
	while (atomic_load(&g->attached[i]) == before) {
		if (now_ms() >= deadline)
			break;
		if (woken(g, POLL_MS)) {
			r = PROBE_UNKNOWN; /* stopping */
			break;
		}
	}
	if (atomic_load(&g->attached[i]) != before)
		r = PROBE_ALIVE;
	close(fd);
	return r;
}

/* ---- listening ---------------------------------------------------------- */

static int listen_one(const lguard *g, const char *url, nng_listener *ret_l)
{
	nng_listener l;
	int rv = nng_listener_create(&l, g->sock, url);

	if (rv != 0)
		return rv;
	if (g->o.setup != NULL)
		rv = g->o.setup(g->o.setup_arg, l);
	if (rv == 0)
		rv = nng_listener_start(l, 0);
	if (rv != 0) {
		nng_listener_close(l);
		return rv;
	}
	*ret_l = l;
	return 0;
}

/* probe_addr fills w's probe address from the listener's bound address
 * (a wildcard becomes loopback); false if it has none a socket reaches. */
static bool probe_addr(watched *w)
{
	nng_sockaddr sa;
	struct sockaddr_un *un = (struct sockaddr_un *)&w->addr;
	struct sockaddr_in *in = (struct sockaddr_in *)&w->addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&w->addr;

	memset(&w->addr, 0, sizeof(w->addr));
	if (nng_listener_get_addr(w->l, NNG_OPT_LOCADDR, &sa) != 0)
		return false;
	switch (sa.s_family) {
	case NNG_AF_IPC:
		if (strlen(sa.s_ipc.sa_path) >= sizeof(un->sun_path))
			return false;
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, sa.s_ipc.sa_path);
		w->addrlen = sizeof(*un);
		return true;
	case NNG_AF_INET:
		in->sin_family = AF_INET;
		in->sin_port = sa.s_in.sa_port; /* both in network order */
		in->sin_addr.s_addr = sa.s_in.sa_addr != 0
		                              ? sa.s_in.sa_addr
		                              : htonl(INADDR_LOOPBACK);
		w->addrlen = sizeof(*in);
		return true;
	case NNG_AF_INET6:
		in6->sin6_family = AF_INET6;
		in6->sin6_port = sa.s_in6.sa_port;
		memcpy(&in6->sin6_addr, sa.s_in6.sa_addr, 16);
		if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr))
			in6->sin6_addr = in6addr_loopback;
		w->addrlen = sizeof(*in6);
		return true;
	default:
		return false;
	}
}

/* pin_port rewrites w's tcp URL that asked for any port (":0") to the
 * port it got, so a listener made again keeps the address clients know. */
static void pin_port(watched *w)
{
	char url[URL_MAX];
	unsigned port = 0;
	bool v6;
	nng_url *u;

	if (w->addr.ss_family == AF_INET)
		port = ntohs(((struct sockaddr_in *)&w->addr)->sin_port);
	else if (w->addr.ss_family == AF_INET6)
		port = ntohs(((struct sockaddr_in6 *)&w->addr)->sin6_port);
	if (port == 0 || nng_url_parse(&u, w->url) != 0)
		return;
	v6 = strchr(u->u_hostname, ':') != NULL;
	if (strcmp(u->u_port, "0") == 0 &&
	    snprintf(url, sizeof(url), "%s://%s%s%s:%u", u->u_scheme,
	             v6 ? "[" : "", u->u_hostname, v6 ? "]" : "",
	             port) < (int)sizeof(url))
		strcpy(w->url, url);
	nng_url_free(u);
}

static bool scheme_probeable(const char *url)
{
	static const char *const ok[] = {"ipc://", "tcp://", "tcp4://",
	                                 "tcp6://"};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strncmp(url, ok[i], strlen(ok[i])) == 0)
			return true;
	return false;
}

int lguard_listen(lguard *g, const char *url)
{
	watched w;
	size_t i;
	int rv;

	memset(&w, 0, sizeof(w));
	if (strlen(url) >= sizeof(w.url))
		return NNG_EINVAL;
	if (atomic_load(&g->n) >= LGUARD_URLS_MAX)
		return NNG_ENOSPC;
	if ((rv = listen_one(g, url, &w.l)) != 0)
		return rv;
	strcpy(w.url, url);
	w.up = true;
	w.probeable = scheme_probeable(url) && probe_addr(&w);
	if (w.probeable)
		pin_port(&w);
	else
		logf_(g,
		      "listener %s: not watched (nng 1.5.2 can stop a "
		      "listener; only ipc and tcp listeners are probed)",
		      url);
	pthread_mutex_lock(&g->mu);
	if ((i = atomic_load(&g->n)) < LGUARD_URLS_MAX) {
		g->w[i] = w;
		atomic_store(&g->lid[i], (uint32_t)nng_listener_id(w.l));
		atomic_store(&g->n, i + 1);
	} else {
		rv = NNG_ENOSPC;
	}
	pthread_mutex_unlock(&g->mu);
	if (rv != 0)
		nng_listener_close(w.l);
	return rv;
}

/* ---- the thread --------------------------------------------------------- */

/* relisten closes slot i's dead listener (if still open) and listens
 * again; w is the thread's copy of the slot, written back by the caller. */
static void relisten(lguard *g, size_t i, watched *w)
{
	int rv;

	if (w->up) {
		nng_listener_close(w->l);
		w->up = false;
	}
	if ((rv = listen_one(g, w->url, &w->l)) != 0) {
		logf_(g, "listener %s: cannot listen again: %s (retrying)",
		      w->url, nng_strerror(rv));
		return;
	}
	atomic_store(&g->lid[i], (uint32_t)nng_listener_id(w->l));
	w->up = true;
	(void)probe_addr(w);
	atomic_fetch_add(&g->relistens, 1);
	logf_(g, "listener %s: listening again", w->url);
}

/* check_one looks at slot i (w: a copy taken under the mutex). */
static void check_one(lguard *g, size_t i, watched *w)
{
	uint64_t seen = atomic_load(&g->attached[i]);

	if (!w->up) {
		relisten(g, i, w);
		return;
	}
	if (!w->probeable || seen != w->seen) {
		w->seen = seen; /* handed a pipe over since the last check */
		return;
	}
	if (probe(g, i, w) != PROBE_DEAD) {
		w->seen = atomic_load(&g->attached[i]);
		return;
	}
	logf_(g,
	      "listener %s stopped handing connections over (nng 1.5.2: a "
	      "peer closed during the handshake); closing it and its "
	      "connections, listening again",
	      w->url);
	relisten(g, i, w);
	w->seen = atomic_load(&g->attached[i]);
}

static void check_all(lguard *g)
{
	watched w;

	for (size_t i = 0; i < atomic_load(&g->n); i++) {
		pthread_mutex_lock(&g->mu);
		if (g->stopping) {
			pthread_mutex_unlock(&g->mu);
			return;
		}
		w = g->w[i];
		pthread_mutex_unlock(&g->mu);
		check_one(g, i, &w);
		pthread_mutex_lock(&g->mu);
		g->w[i] = w; /* only this thread changes a slot once added */
		pthread_mutex_unlock(&g->mu);
	}
}

static void *guard_main(void *arg)
{
	lguard *g = arg;
	struct timespec until;

	pthread_mutex_lock(&g->mu);
	while (!g->stopping) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += g->o.check_ms / 1000;
		until.tv_nsec += (long)(g->o.check_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!g->stopping &&
		       pthread_cond_timedwait(&g->cv, &g->mu, &until) == 0)
			;
		if (g->stopping)
			break;
		pthread_mutex_unlock(&g->mu);
		check_all(g);
		pthread_mutex_lock(&g->mu);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

/* ---- lifecycle ---------------------------------------------------------- */

static void destroy(lguard *g)
{
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	close(g->wake[0]);
	close(g->wake[1]);
	free(g);
}

int lguard_open(nng_socket sock, const lguard_opts *opts, lguard **ret_g)
{
	pthread_condattr_t ca;
	lguard *g;
	int peer = 0;

	if (nng_socket_get_int(sock, NNG_OPT_PEER, &peer) != 0 || peer <= 0 ||
	    peer > 0xffff)
		return NNG_EINVAL;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NNG_ENOMEM;
	if (pipe2(g->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		free(g);
		return NNG_ENOMEM;
	}
	g->sock = sock;
	g->peer = (uint16_t)peer;
	if (opts != NULL)
		g->o = *opts;
	if (g->o.check_ms == 0)
		g->o.check_ms = LGUARD_CHECK_MS;
	if (g->o.probe_ms == 0)
		g->o.probe_ms = LGUARD_PROBE_MS;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&g->thread, NULL, guard_main, g) != 0) {
		destroy(g);
		return NNG_ENOMEM;
	}
	g->running = true;
	if (g->o.own_pipe_events &&
	    nng_pipe_notify(sock, NNG_PIPE_EV_ADD_PRE, on_pipe, g) != 0) {
		lguard_free(g);
		return NNG_EINVAL;
	}
	*ret_g = g;
	return 0;
}

uint64_t lguard_relistens(const lguard *g)
{
	return atomic_load(&g->relistens);
}

void lguard_stop(lguard *g)
{
	if (g == NULL || !g->running)
		return;
	pthread_mutex_lock(&g->mu);
	g->stopping = true;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	if (write(g->wake[1], "x", 1) != 1)
		logf_(g, "guard: cannot wake its thread: %s", strerror(errno));
	pthread_join(g->thread, NULL);
	g->running = false;
}

void lguard_free(lguard *g)
{
	if (g == NULL)
		return;
	lguard_stop(g);
	destroy(g);
}
