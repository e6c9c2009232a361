/*
 * pgproxy.c - the cuttable relay between a dtxd instance and PostgreSQL
 * (see pgproxy.h).
 *
 * One thread polls the listening socket and both sockets of every
 * connection (non-blocking), with a 16 KiB buffer per direction: a side
 * is read only while its buffer is empty, and written while the other
 * side's buffer holds bytes. A cut drops every socket from the poll set
 * (nothing read, written or accepted, nothing closed); the poll wakes
 * every POLL_MS to see the flag. Either side closing or failing closes
 * both (PostgreSQL's restart drops its clients' sessions, as without the
 * relay). Every wait is bounded by POLL_MS; memory by CONNS_MAX.
 */
#include "pgproxy.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONNS_MAX 64
#define BUF_SIZE  16384
#define POLL_MS   50

typedef struct half {
	char buf[BUF_SIZE]; /* read from fd[i], to be written to fd[1 - i] */
	size_t off, len;
} half;

typedef struct conn {
	int fd[2]; /* 0: the instance, 1: PostgreSQL; -1: unused slot */
	half h[2];
} conn;

struct pgproxy {
	int lfd;
	uint16_t to_port;
	atomic_bool cut, stop;
	pthread_t thread;
	conn c[CONNS_MAX];
};

static struct sockaddr_in loopback(uint16_t port)
{
	return (struct sockaddr_in){.sin_family = AF_INET,
	                            .sin_port = htons(port),
	                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
}

static void close_conn(conn *c)
{
	for (int i = 0; i < 2; i++)
		if (c->fd[i] >= 0)
			close(c->fd[i]);
	c->fd[0] = c->fd[1] = -1;
	c->h[0].len = c->h[1].len = 0;
}

/* dial connects to PostgreSQL (loopback: refused or done at once) and
 * makes the socket non-blocking. Returns the fd or -1. */
static int dial(uint16_t port)
{
	struct sockaddr_in sa = loopback(port);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

/* accept_one takes one waiting connection and pairs it with a fresh one
 * to PostgreSQL; without a free slot or a server it is closed. */
static void accept_one(pgproxy *p)
{
	int fd = accept4(p->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	int one = 1;

	if (fd < 0)
		return;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (int i = 0; i < CONNS_MAX; i++) {
		if (p->c[i].fd[0] >= 0)
			continue;
		p->c[i].fd[1] = dial(p->to_port);
		if (p->c[i].fd[1] < 0)
			break;
		p->c[i].fd[0] = fd;
		return;
	}
	close(fd);
}

/* pump moves bytes of one connection as poll said; false: it ended. */
static bool pump(conn *c, const short *revents)
{
	for (int i = 0; i < 2; i++) {
		half *h = &c->h[i];
		ssize_t n;

		if ((revents[i] & (POLLIN | POLLHUP | POLLERR)) &&
		    h->len == 0) {
			n = read(c->fd[i], h->buf, sizeof(h->buf));
			if (n == 0 ||
			    (n < 0 && errno != EAGAIN && errno != EINTR))
				return false;
			h->off = 0;
			h->len = n > 0 ? (size_t)n : 0;
		}
		if (h->len > 0) {
			n = write(c->fd[1 - i], h->buf + h->off, h->len);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				return false;
			if (n > 0) {
				h->off += (size_t)n;
				h->len -= (size_t)n;
			}
		}
	}
	return true;
}

static void *relay(void *arg)
{
	pgproxy *p = arg;
	struct pollfd pf[1 + 2 * CONNS_MAX];

	while (!atomic_load(&p->stop)) {
		bool cut = atomic_load(&p->cut);

		pf[0] = (struct pollfd){cut ? -1 : p->lfd, POLLIN, 0};
		for (int i = 0; i < CONNS_MAX; i++)
			for (int s = 0; s < 2; s++) {
				const conn *c = &p->c[i];
				short ev = (short)((c->h[s].len == 0 ? POLLIN
				                                     : 0) |
				                   (c->h[1 - s].len ? POLLOUT
				                                    : 0));

				pf[1 + 2 * i + s] = (struct pollfd){
				        cut ? -1 : c->fd[s], ev, 0};
			}
		if (poll(pf, 1 + 2 * CONNS_MAX, POLL_MS) <= 0 || cut)
			continue;
		if (pf[0].revents & POLLIN)
			accept_one(p);
		for (int i = 0; i < CONNS_MAX; i++) {
			short rev[2] = {pf[1 + 2 * i].revents,
			                pf[2 + 2 * i].revents};

			if (p->c[i].fd[0] >= 0 && (rev[0] || rev[1]) &&
			    !pump(&p->c[i], rev))
				close_conn(&p->c[i]);
		}
	}
	return NULL;
}

pgproxy *pgproxy_start(uint16_t port, uint16_t to_port)
{
	pgproxy *p = calloc(1, sizeof(*p));
	struct sockaddr_in sa = loopback(port);
	int one = 1;

	if (p == NULL)
		return NULL;
	for (int i = 0; i < CONNS_MAX; i++)
		p->c[i].fd[0] = p->c[i].fd[1] = -1;
	p->to_port = to_port;
	p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->lfd < 0 ||
	    setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(p->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(p->lfd, 64) != 0 ||
	    pthread_create(&p->thread, NULL, relay, p) != 0) {
		fprintf(stderr, "dtx-chaos: pgproxy on %u: %s\n",
		        (unsigned)port, strerror(errno));
		if (p->lfd >= 0)
			close(p->lfd);
		free(p);
		return NULL;
	}
	return p;
}

void pgproxy_cut(pgproxy *p, bool cut)
{
	if (p != NULL)
		atomic_store(&p->cut, cut);
}

void pgproxy_stop(pgproxy *p)
{
	if (p == NULL)
		return;
	atomic_store(&p->stop, true);
	pthread_join(p->thread, NULL);
	for (int i = 0; i < CONNS_MAX; i++)
		close_conn(&p->c[i]);
	close(p->lfd);
	free(p);
}
