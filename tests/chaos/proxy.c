/*
 * proxy.c - the fault proxy (see proxy.h).
 *
 * One thread runs a poll loop over the listening socket and at most
 * CONNS_MAX relayed connections. Each connection has two halves (client
 * to service: requests; service to client: replies), each an input buffer
 * cut into whole messages and an output buffer written as the socket
 * allows. Delayed messages wait in one bounded queue, tagged with their
 * connection's generation: a message of a connection closed meanwhile is
 * dropped on release.
 *
 * Every buffer is bounded (FRAME_MAX in, OUT_MAX out; a peer past them is
 * reset), every poll waits at most TICK_MS, and the loop ends when
 * proxy_stop sets the stop flag.
 */
#include "proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <dtx/dtx.h>

#include "chaos.h"

#define CONNS_MAX   128
#define DELAYED_MAX 1024
#define SP_HEADER   8u
#define FRAME_MAX   ((size_t)2 << 20) /* dtxd's messages are < 1 MiB */
#define OUT_MAX     ((size_t)16 << 20)
#define READ_CHUNK  65536
#define TICK_MS     20
#define DELAY_MIN   50
#define DELAY_MAX   2500

typedef struct half {
	uint8_t *in, *out;
	size_t inlen, incap, outlen, outcap, outoff;
	unsigned hdr_left; /* SP header bytes still to pass through */
} half;

typedef struct conn {
	int cfd, ufd; /* -1: slot free */
	bool connecting;
	uint64_t gen;
	half up;   /* client -> service: requests */
	half down; /* service -> client: replies */
} conn;

typedef struct delayed {
	int64_t due_ms;
	size_t slot;
	uint64_t gen;
	bool to_up;
	uint8_t *msg;
	size_t len;
} delayed;

struct proxy {
	int lfd;
	uint16_t upstream_port;
	pthread_t thread;
	atomic_bool stop;
	atomic_uint level[PF_COUNT];
	atomic_ullong requests, replies, connections, refused;
	atomic_ullong injected[PF_COUNT];
	uint64_t rng;
	uint64_t next_gen;
	conn conns[CONNS_MAX];
	delayed q[DELAYED_MAX];
	size_t nq;
};

static const char *const fault_names[PF_COUNT] = {
        "delay", "drop-request", "drop-reply", "duplicate-request", "reset"};

const char *proxy_fault_name(proxy_fault f)
{
	return f < PF_COUNT ? fault_names[f] : "unknown";
}

/* ---- buffers ----------------------------------------------------------- */

static bool reserve(uint8_t **buf, size_t *cap, size_t need, size_t max)
{
	size_t ncap = *cap ? *cap : 4096;
	uint8_t *nb;

	if (need <= *cap)
		return true;
	if (need > max)
		return false;
	while (ncap < need)
		ncap *= 2;
	nb = realloc(*buf, ncap);
	if (nb == NULL)
		return false;
	*buf = nb;
	*cap = ncap;
	return true;
}

/* out_append queues len bytes for the half's destination. */
static bool out_append(half *h, const uint8_t *p, size_t len)
{
	if (h->outoff > 0 && h->outoff == h->outlen)
		h->outoff = h->outlen = 0;
	if (!reserve(&h->out, &h->outcap, h->outlen + len, OUT_MAX))
		return false;
	memcpy(h->out + h->outlen, p, len);
	h->outlen += len;
	return true;
}

static void half_free(half *h)
{
	free(h->in);
	free(h->out);
	memset(h, 0, sizeof(*h));
}

/* ---- connections ------------------------------------------------------- */

static void close_fd(int fd, bool reset)
{
	struct linger lg = {1, 0};

	if (fd < 0)
		return;
	if (reset)
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static void conn_close(conn *c, bool reset)
{
	close_fd(c->cfd, reset);
	close_fd(c->ufd, reset);
	half_free(&c->up);
	half_free(&c->down);
	c->cfd = c->ufd = -1;
	c->connecting = false;
}

static int dial_upstream(uint16_t port, bool *ret_connecting)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons(port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		*ret_connecting = false;
		return fd;
	}
	if (errno == EINPROGRESS) {
		*ret_connecting = true;
		return fd;
	}
	close(fd);
	return -1;
}

static void accept_one(proxy *p)
{
	int one = 1, cfd;
	conn *c = NULL;

	cfd = accept4(p->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	for (size_t i = 0; i < CONNS_MAX && c == NULL; i++)
		if (p->conns[i].cfd < 0)
			c = &p->conns[i];
	if (c == NULL) {
		close(cfd);
		return;
	}
	(void)setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->ufd = dial_upstream(p->upstream_port, &c->connecting);
	if (c->ufd < 0) {
		atomic_fetch_add(&p->refused, 1);
		close(cfd);
		return;
	}
	c->cfd = cfd;
	c->gen = ++p->next_gen;
	c->up.hdr_left = c->down.hdr_left = SP_HEADER;
	atomic_fetch_add(&p->connections, 1);
}

/* ---- faults on whole messages ------------------------------------------ */

/* hits draws whether fault f strikes this message. */
static bool hits(proxy *p, proxy_fault f)
{
	unsigned level = atomic_load(&p->level[f]);

	if (level == 0 || chaos_rng_below(&p->rng, 1000) >= level)
		return false;
	atomic_fetch_add(&p->injected[f], 1);
	return true;
}

static bool delay_msg(proxy *p, size_t slot, bool to_up, const uint8_t *m,
                      size_t len)
{
	delayed *d;

	if (p->nq == DELAYED_MAX)
		return false;
	d = &p->q[p->nq];
	d->msg = malloc(len);
	if (d->msg == NULL)
		return false;
	memcpy(d->msg, m, len);
	d->len = len;
	d->slot = slot;
	d->gen = p->conns[slot].gen;
	d->to_up = to_up;
	d->due_ms = chaos_now_ms() + DELAY_MIN +
	            (int64_t)chaos_rng_below(&p->rng, DELAY_MAX - DELAY_MIN);
	p->nq++;
	return true;
}

/* route decides the fate of one whole message m of connection slot:
 * returns false if the connection must be reset. */
static bool route(proxy *p, size_t slot, bool request, const uint8_t *m,
                  size_t len)
{
	conn *c = &p->conns[slot];
	half *h = request ? &c->up : &c->down;

	atomic_fetch_add(request ? &p->requests : &p->replies, 1);
	if (request && hits(p, PF_RESET))
		return false;
	if (hits(p, request ? PF_DROP_REQ : PF_DROP_REP))
		return true;
	if (request && hits(p, PF_DUP_REQ))
		return out_append(h, m, len) && out_append(h, m, len);
	if (hits(p, PF_DELAY) && delay_msg(p, slot, request, m, len))
		return true;
	return out_append(h, m, len);
}

static uint64_t get_be64(const uint8_t *b)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

/* cut passes the SP header through and routes every whole message in the
 * half's input; false: reset the connection. */
static bool cut(proxy *p, size_t slot, bool request)
{
	conn *c = &p->conns[slot];
	half *h = request ? &c->up : &c->down;
	size_t used = 0, len;

	if (h->hdr_left > 0) {
		used = h->inlen < h->hdr_left ? h->inlen : h->hdr_left;
		if (!out_append(h, h->in, used))
			return false;
		h->hdr_left -= (unsigned)used;
	}
	while (h->inlen - used >= 8) {
		len = get_be64(h->in + used);
		if (len > FRAME_MAX)
			return false;
		if (h->inlen - used < 8 + len)
			break;
		if (!route(p, slot, request, h->in + used, 8 + len))
			return false;
		if (c->cfd < 0)
			return true;
		used += 8 + len;
	}
	memmove(h->in, h->in + used, h->inlen - used);
	h->inlen -= used;
	return true;
}

/* ---- socket events ----------------------------------------------------- */

/* pull reads what fd has into the half; false: closed or broken. */
static bool pull(int fd, half *h)
{
	ssize_t n;

	if (!reserve(&h->in, &h->incap, h->inlen + READ_CHUNK,
	             FRAME_MAX + 8 + READ_CHUNK))
		return false;
	n = read(fd, h->in + h->inlen, READ_CHUNK);
	if (n > 0) {
		h->inlen += (size_t)n;
		return true;
	}
	return n < 0 && (errno == EAGAIN || errno == EINTR);
}

/* push writes what the half holds to fd; false: broken. */
static bool push(int fd, half *h)
{
	ssize_t n;

	if (h->outoff == h->outlen)
		return true;
	n = send(fd, h->out + h->outoff, h->outlen - h->outoff, MSG_NOSIGNAL);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	h->outoff += (size_t)n;
	if (h->outoff == h->outlen)
		h->outoff = h->outlen = 0;
	return true;
}

static bool finish_connect(conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->ufd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
	    err != 0)
		return false;
	c->connecting = false;
	return true;
}

/* serve handles the poll results of connection slot (cfd at pc[0], ufd
 * at pc[1]). */
static void serve(proxy *p, size_t slot, const struct pollfd *pc)
{
	conn *c = &p->conns[slot];
	bool ok = true;

	if (c->connecting && (pc[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
		ok = finish_connect(c);
		if (!ok)
			atomic_fetch_add(&p->refused, 1);
	}
	if (ok && (pc[0].revents & (POLLIN | POLLHUP | POLLERR)))
		ok = pull(c->cfd, &c->up) && cut(p, slot, true);
	if (ok && c->cfd >= 0 && !c->connecting &&
	    (pc[1].revents & (POLLIN | POLLHUP | POLLERR)))
		ok = pull(c->ufd, &c->down) && cut(p, slot, false);
	if (ok && c->cfd >= 0 && !c->connecting)
		ok = push(c->ufd, &c->up);
	if (ok && c->cfd >= 0)
		ok = push(c->cfd, &c->down);
	if (!ok && c->cfd >= 0)
		conn_close(c, true);
}

static void release_due(proxy *p, int64_t now)
{
	size_t k = 0;

	for (size_t i = 0; i < p->nq; i++) {
		delayed *d = &p->q[i];
		conn *c = &p->conns[d->slot];

		if (d->due_ms > now) {
			p->q[k++] = *d;
			continue;
		}
		if (c->cfd >= 0 && c->gen == d->gen &&
		    !out_append(d->to_up ? &c->up : &c->down, d->msg, d->len))
			conn_close(c, true);
		free(d->msg);
	}
	p->nq = k;
}

static int next_timeout(const proxy *p, int64_t now)
{
	int64_t t = TICK_MS;

	for (size_t i = 0; i < p->nq; i++)
		if (p->q[i].due_ms - now < t)
			t = p->q[i].due_ms - now;
	return t < 0 ? 0 : (int)t;
}

static void *proxy_main(void *arg)
{
	proxy *p = arg;
	struct pollfd pfd[1 + 2 * CONNS_MAX];

	while (!atomic_load(&p->stop)) {
		pfd[0] = (struct pollfd){.fd = p->lfd, .events = POLLIN};
		for (size_t i = 0; i < CONNS_MAX; i++) {
			conn *c = &p->conns[i];
			short ue = c->connecting ? POLLOUT : POLLIN;

			if (!c->connecting && c->up.outlen > c->up.outoff)
				ue |= POLLOUT;
			pfd[1 + 2 * i] = (struct pollfd){
			        .fd = c->cfd,
			        .events =
			                (short)(POLLIN |
			                        (c->down.outlen > c->down.outoff
			                                 ? POLLOUT
			                                 : 0))};
			pfd[2 + 2 * i] = (struct pollfd){
			        .fd = c->cfd >= 0 ? c->ufd : -1, .events = ue};
		}
		if (poll(pfd, 1 + 2 * CONNS_MAX,
		         next_timeout(p, chaos_now_ms())) < 0 &&
		    errno != EINTR)
			break;
		if (pfd[0].revents & POLLIN)
			accept_one(p);
		for (size_t i = 0; i < CONNS_MAX; i++)
			if (p->conns[i].cfd >= 0 && pfd[1 + 2 * i].fd >= 0)
				serve(p, i, &pfd[1 + 2 * i]);
		release_due(p, chaos_now_ms());
	}
	return NULL;
}

/* ---- the public calls -------------------------------------------------- */

static int listen_on(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons(port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, 128) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int proxy_start(uint16_t listen_port, uint16_t upstream_port, uint64_t seed,
                proxy **ret_proxy)
{
	proxy *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return DTX_ENOMEM;
	for (size_t i = 0; i < CONNS_MAX; i++)
		p->conns[i].cfd = p->conns[i].ufd = -1;
	p->upstream_port = upstream_port;
	p->rng = seed;
	p->lfd = listen_on(listen_port);
	if (p->lfd < 0) {
		free(p);
		return DTX_EUNREACHABLE;
	}
	if (pthread_create(&p->thread, NULL, proxy_main, p) != 0) {
		close(p->lfd);
		free(p);
		return DTX_ENOMEM;
	}
	*ret_proxy = p;
	return DTX_OK;
}

void proxy_set(proxy *p, proxy_fault f, unsigned per_mille)
{
	if (f < PF_COUNT)
		atomic_store(&p->level[f], per_mille > 1000 ? 1000 : per_mille);
}

void proxy_clear(proxy *p)
{
	for (int f = 0; f < PF_COUNT; f++)
		atomic_store(&p->level[f], 0);
}

void proxy_get_counts(proxy *p, proxy_counts *ret)
{
	ret->requests = atomic_load(&p->requests);
	ret->replies = atomic_load(&p->replies);
	ret->connections = atomic_load(&p->connections);
	ret->upstream_refused = atomic_load(&p->refused);
	for (int f = 0; f < PF_COUNT; f++)
		ret->injected[f] = atomic_load(&p->injected[f]);
}

void proxy_stop(proxy *p)
{
	if (p == NULL)
		return;
	atomic_store(&p->stop, true);
	pthread_join(p->thread, NULL);
	for (size_t i = 0; i < CONNS_MAX; i++)
		if (p->conns[i].cfd >= 0)
			conn_close(&p->conns[i], false);
	for (size_t i = 0; i < p->nq; i++)
		free(p->q[i].msg);
	close(p->lfd);
	free(p);
}
