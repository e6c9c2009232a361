/*
 * http.c - dtxd's HTTP endpoint on libmicrohttpd (see http.h).
 *
 * Owns the listening socket (opened here, so that "address in use" is
 * named as such), the libmicrohttpd daemon and its one thread, the route
 * table and each exchange's dc_http_ex. The only file that includes
 * <microhttpd.h>.
 *
 * Bounds, all enforced by libmicrohttpd before a route runs:
 * DC_HTTP_CONNS_MAX connections (DC_HTTP_CONNS_PER_IP per address), idle
 * ones closed after DC_HTTP_IDLE_S (a slow sender or reader too),
 * DC_HTTP_CONN_MEMORY bytes per connection for the request line, headers
 * and query (a larger request gets 414/431 and is closed). Here: GET and
 * HEAD only (405 otherwise), no request body (413), a path of printable
 * ASCII only, %00 left undecoded (no NUL reaches a route), and on a
 * loopback address a Host header that names loopback (a web page that
 * rebinds its own DNS name to 127.0.0.1 cannot read the console).
 *
 * Locking: one mutex guards each exchange's suspended flag, the parked
 * list and the closing flag, so that a resume from the engine's loop and
 * a close never race with a suspend; MHD_resume_connection is called
 * after it is released (libmicrohttpd's thread takes it in on_completed
 * while holding libmicrohttpd's own locks).
 *
 * Must never: run a route anywhere but the server's thread.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include <dtx/dtx.h>

#include "diag.h"

struct dc_http {
	struct MHD_Daemon *d;
	int fd; /* the listening socket (closed by the daemon once given) */
	bool loopback;
	pthread_mutex_t lock;
	pthread_cond_t drained; /* signalled as `draining` goes down */
	bool closing;
	dc_http_ex *parked; /* suspended exchanges (a list) */
	unsigned draining;  /* exchanges resumed by close, not yet ended */
	dc_http_route routes[DC_HTTP_ROUTES_MAX];
	size_t nroutes;
};

struct dc_http_ex {
	dc_http *http;
	struct MHD_Connection *conn;
	const dc_http_route *route;
	const char *path; /* libmicrohttpd's, valid for the request */
	bool head;
	bool suspended; /* under http->lock */
	/* the server's thread's alone: */
	bool answered, failed;   /* failed: no answer could be queued */
	bool parked_now;         /* this run of the route suspended ex */
	bool drain;              /* resumed by close: counted in draining */
	dc_http_ex *prev, *next; /* in http->parked while suspended */
	void *state;
	void (*state_free)(void *state);
};

static const char csp[] = "default-src 'self'; frame-ancestors 'none'; "
                          "base-uri 'none'; form-action 'none'";

/* ---- addresses ---------------------------------------------------------- */

static bool parse_port(const char *s, uint16_t *ret)
{
	char *end;
	unsigned long v;

	if (*s < '1' || *s > '9' || strlen(s) > 5)
		return false;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v > 65535)
		return false;
	*ret = (uint16_t)v;
	return true;
}

bool dc_http_addr_parse(const char *s, struct sockaddr_storage *ret_sa,
                        socklen_t *ret_len)
{
	char host[DC_HTTP_ADDR_MAX];
	const char *colon = s != NULL ? strrchr(s, ':') : NULL;
	struct sockaddr_in v4 = {.sin_family = AF_INET};
	struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
	uint16_t port;
	size_t n;

	if (colon == NULL || strlen(s) >= sizeof(host) ||
	    !parse_port(colon + 1, &port))
		return false;
	n = (size_t)(colon - s);
	memcpy(host, s, n);
	host[n] = '\0';
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, host, &v4.sin_addr) == 1) {
		v4.sin_port = htons(port);
		memset(ret_sa, 0, sizeof(*ret_sa));
		memcpy(ret_sa, &v4, sizeof(v4));
		*ret_len = sizeof(v4);
		return true;
	}
	if (n < 3 || host[0] != '[' || host[n - 1] != ']')
		return false;
	host[n - 1] = '\0';
	if (inet_pton(AF_INET6, host + 1, &v6.sin6_addr) != 1)
		return false;
	v6.sin6_port = htons(port);
	memset(ret_sa, 0, sizeof(*ret_sa));
	memcpy(ret_sa, &v6, sizeof(v6));
	*ret_len = sizeof(v6);
	return true;
}

static bool is_loopback(const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	return IN6_IS_ADDR_LOOPBACK(
	        &((const struct sockaddr_in6 *)sa)->sin6_addr);
}

/* listen_on opens the listening socket, so that its error is errno's. */
static int listen_on(const char *addr, struct sockaddr_storage *sa,
                     socklen_t len, int *ret_fd, char *errbuf, size_t errlen)
{
	int one = 1;
	int fd = socket(sa->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
	    bind(fd, (struct sockaddr *)sa, len) == 0 && listen(fd, 64) == 0) {
		*ret_fd = fd;
		return DTX_OK;
	}
	snprintf(errbuf, errlen, "--http %s: cannot listen: %s", addr,
	         strerror(errno));
	if (fd >= 0)
		close(fd);
	return DTX_EUNREACHABLE;
}

/* ---- answers ------------------------------------------------------------ */

static bool add_headers(struct MHD_Response *r, const char *type)
{
	return MHD_add_response_header(r, "Content-Type", type) == MHD_YES &&
	       MHD_add_response_header(r, "Cache-Control", "no-store") ==
	               MHD_YES &&
	       MHD_add_response_header(r, "X-Content-Type-Options",
	                               "nosniff") == MHD_YES &&
	       MHD_add_response_header(r, "X-Frame-Options", "DENY") ==
	               MHD_YES &&
	       MHD_add_response_header(r, "Referrer-Policy", "no-referrer") ==
	               MHD_YES &&
	       MHD_add_response_header(r, "Content-Security-Policy", csp) ==
	               MHD_YES;
}

/* answer queues status with body on conn; false if it could not. */
static bool answer(struct MHD_Connection *conn, unsigned status,
                   const char *type, const void *body, size_t len,
                   const char *allow)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
	        len, (void *)body, MHD_RESPMEM_MUST_COPY);
	bool ok;

	if (r == NULL)
		return false;
	ok = add_headers(r, type) &&
	     (allow == NULL ||
	      MHD_add_response_header(r, "Allow", allow) == MHD_YES) &&
	     MHD_queue_response(conn, status, r) == MHD_YES;
	MHD_destroy_response(r);
	return ok;
}

/* refuse answers a request the server turns away before any route. */
static enum MHD_Result refuse(struct MHD_Connection *conn, unsigned status,
                              const char *msg, const char *allow)
{
	char body[256];
	int n = snprintf(body, sizeof(body),
	                 "{\"schema\":1,\"error\":{\"status\":%u,"
	                 "\"message\":\"%s\"}}\n",
	                 status, msg);

	return answer(conn, status, "application/json", body, (size_t)n, allow)
	               ? MHD_YES
	               : MHD_NO;
}

int dc_http_reply(dc_http_ex *ex, unsigned status, const char *type,
                  const void *body, size_t len)
{
	ex->answered = true;
	if (!answer(ex->conn, status, type, body, len, NULL)) {
		ex->failed = true;
		return DTX_ENOMEM;
	}
	return DTX_OK;
}

/* ---- requests ----------------------------------------------------------- */

static const dc_http_route *find_route(dc_http *h, const char *path)
{
	for (size_t i = 0; i < h->nroutes; i++) {
		const char *p = h->routes[i].path;
		size_t n = strlen(p);
		bool prefix = n > 1 && p[n - 1] == '/';
		if (prefix ? strncmp(path, p, n) == 0 : strcmp(path, p) == 0)
			return &h->routes[i];
	}
	return NULL;
}

static bool path_is_clean(const char *path)
{
	if (path[0] != '/')
		return false;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return false;
	return strstr(path, "..") == NULL;
}

/* host_is_loopback: the Host header names a loopback address (or
 * localhost), with or without a port. */
static bool host_is_loopback(const char *host)
{
	static const char *const names[] = {"localhost", "127.0.0.1", "[::1]"};

	if (host == NULL)
		return false;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i]);
		if (strncmp(host, names[i], n) == 0 &&
		    (host[n] == '\0' || host[n] == ':'))
			return true;
	}
	return false;
}

/* admit checks what every request must be before a route sees it; NULL
 * if it passes, else the refusal (status in *ret_status). */
static const char *admit(dc_http *h, struct MHD_Connection *conn,
                         const char *method, const char *path,
                         unsigned *ret_status)
{
	*ret_status = 405;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return "read-only: GET and HEAD only (changes stay in dtxctl)";
	*ret_status = 413;
	if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	                                "Content-Length") != NULL ||
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	                                "Transfer-Encoding") != NULL)
		return "a GET has no body";
	*ret_status = 403;
	if (h->loopback && !host_is_loopback(MHD_lookup_connection_value(
	                           conn, MHD_HEADER_KIND, "Host")))
		return "the Host header must name this loopback address";
	*ret_status = 400;
	if (!path_is_clean(path))
		return "the path must be printable ASCII without '..'";
	return NULL;
}

/* start makes the exchange of a new request, or refuses it. */
static enum MHD_Result start(dc_http *h, struct MHD_Connection *conn,
                             const char *method, const char *path,
                             void **con_cls)
{
	unsigned status;
	const char *why = admit(h, conn, method, path, &status);
	const dc_http_route *route;
	dc_http_ex *ex;

	if (why != NULL)
		return refuse(conn, status, why,
		              status == 405 ? "GET, HEAD" : NULL);
	if ((route = find_route(h, path)) == NULL)
		return refuse(conn, 404, "no such page", NULL);
	if ((ex = calloc(1, sizeof(*ex))) == NULL)
		return MHD_NO;
	ex->http = h;
	ex->conn = conn;
	ex->route = route;
	ex->path = path;
	ex->head = strcmp(method, "HEAD") == 0;
	*con_cls = ex;
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	dc_http *h = cls;
	dc_http_ex *ex = *con_cls;

	if (ex == NULL) {
		enum MHD_Result rv = start(h, conn, method, url, con_cls);
		if (rv != MHD_YES || *con_cls == NULL)
			return rv;
		ex = *con_cls;
	}
	if (*upload_size != 0) {
		*upload_size = 0; /* refused above; never read */
		return MHD_YES;
	}
	if (ex->answered)
		return ex->failed ? MHD_NO : MHD_YES;
	ex->path = url;
	ex->parked_now = false;
	ex->route->fn(ex->route->arg, ex);
	if (ex->failed || (!ex->answered && !ex->parked_now))
		return MHD_NO; /* no answer (or a route that did neither) */
	return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	dc_http_ex *ex = *con_cls;
	dc_http *h = cls;

	if (ex == NULL)
		return;
	if (ex->drain) {
		pthread_mutex_lock(&h->lock);
		h->draining--;
		pthread_cond_signal(&h->drained);
		pthread_mutex_unlock(&h->lock);
	}
	if (ex->state_free != NULL)
		ex->state_free(ex->state);
	free(ex);
	*con_cls = NULL;
}

/* unescape decodes %XX in place, except %00: a NUL never reaches a
 * route (it would cut a gid short); '+' stays '+'. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
	char *w = s;

	for (const char *r = s; *r != '\0'; r++) {
		unsigned v;
		if (r[0] == '%' && sscanf(r + 1, "%2x", &v) == 1 &&
		    strspn(r + 1, "0123456789abcdefABCDEF") >= 2 && v != 0) {
			*w++ = (char)v;
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[256];

	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	dc_diag(DTX_LOG_DEBUG, "http: %s", line);
}

/* ---- suspend and resume ------------------------------------------------- */

bool dc_http_suspend(dc_http_ex *ex)
{
	dc_http *h = ex->http;

	pthread_mutex_lock(&h->lock);
	if (h->closing) {
		pthread_mutex_unlock(&h->lock);
		return false;
	}
	MHD_suspend_connection(ex->conn);
	ex->suspended = ex->parked_now = true;
	ex->prev = NULL;
	ex->next = h->parked;
	if (h->parked != NULL)
		h->parked->prev = ex;
	h->parked = ex;
	pthread_mutex_unlock(&h->lock);
	return true;
}

/* unpark takes ex off the parked list (h->lock held); true if it was
 * parked: the caller then resumes it with MHD_resume_connection, after
 * unlocking (libmicrohttpd takes its own locks, and its thread calls
 * on_completed, which takes h->lock). A parked exchange cannot end
 * meanwhile: only MHD_stop_daemon ends one, after drain. */
static bool unpark(dc_http *h, dc_http_ex *ex)
{
	if (!ex->suspended)
		return false;
	ex->suspended = false;
	if (ex->prev != NULL)
		ex->prev->next = ex->next;
	else
		h->parked = ex->next;
	if (ex->next != NULL)
		ex->next->prev = ex->prev;
	return true;
}

void dc_http_resume(dc_http_ex *ex)
{
	dc_http *h = ex->http;
	bool was;

	pthread_mutex_lock(&h->lock);
	was = unpark(h, ex);
	pthread_mutex_unlock(&h->lock);
	if (was)
		MHD_resume_connection(ex->conn);
}

/* ---- accessors ---------------------------------------------------------- */

bool dc_http_is_closing(const dc_http_ex *ex)
{
	dc_http *h = ex->http;
	bool closing;

	pthread_mutex_lock(&h->lock);
	closing = h->closing;
	pthread_mutex_unlock(&h->lock);
	return closing;
}

const char *dc_http_path(const dc_http_ex *ex)
{
	return ex->path;
}

bool dc_http_method_is_head(const dc_http_ex *ex)
{
	return ex->head;
}

typedef struct query_walk {
	bool (*fn)(void *arg, const char *key, const char *value);
	void *arg;
	size_t n;
	bool stopped;
} query_walk;

static enum MHD_Result query_one(void *cls, enum MHD_ValueKind kind,
                                 const char *key, const char *value)
{
	query_walk *w = cls;

	if (w->stopped)
		return MHD_NO;
	w->n++;
	w->stopped = !w->fn(w->arg, key, value);
	return w->stopped ? MHD_NO : MHD_YES;
}

size_t dc_http_query_each(dc_http_ex *ex,
                          bool (*fn)(void *arg, const char *key,
                                     const char *value),
                          void *arg)
{
	query_walk w = {.fn = fn, .arg = arg};

	MHD_get_connection_values(ex->conn, MHD_GET_ARGUMENT_KIND, query_one,
	                          &w);
	return w.n;
}

void **dc_http_state(dc_http_ex *ex)
{
	return &ex->state;
}

void dc_http_set_state_free(dc_http_ex *ex, void (*fn)(void *state))
{
	ex->state_free = fn;
}

/* ---- open and close ----------------------------------------------------- */

static struct MHD_Daemon *start_daemon(dc_http *h, bool v6)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
	                 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
	                 (v6 ? MHD_USE_IPv6 : 0);

	/* the logger first: libmicrohttpd logs with its own until it is set */
	return MHD_start_daemon(
	        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
	        on_mhd_log, h, MHD_OPTION_LISTEN_SOCKET, h->fd,
	        MHD_OPTION_CONNECTION_LIMIT, (unsigned)DC_HTTP_CONNS_MAX,
	        MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	        (unsigned)DC_HTTP_CONNS_PER_IP, MHD_OPTION_CONNECTION_TIMEOUT,
	        (unsigned)DC_HTTP_IDLE_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	        (size_t)DC_HTTP_CONN_MEMORY, MHD_OPTION_NOTIFY_COMPLETED,
	        on_completed, h, MHD_OPTION_UNESCAPE_CALLBACK, unescape, h,
	        MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_END);
}

int dc_http_open(const char *addr, const dc_http_route *routes, size_t nroutes,
                 dc_http **ret_http, char *errbuf, size_t errlen)
{
	struct sockaddr_storage sa;
	pthread_condattr_t ca;
	socklen_t len;
	dc_http *h;
	int rv;

	if (!dc_http_addr_parse(addr, &sa, &len) ||
	    nroutes > DC_HTTP_ROUTES_MAX) {
		snprintf(errbuf, errlen,
		         "--http %s: not HOST:PORT (an IP address, [IPv6] or "
		         "localhost)",
		         addr);
		return DTX_EINVAL;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return DTX_ENOMEM;
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->drained, &ca);
	pthread_condattr_destroy(&ca);
	memcpy(h->routes, routes, nroutes * sizeof(*routes));
	h->nroutes = nroutes;
	h->loopback = is_loopback(&sa);
	h->fd = -1;
	if ((rv = listen_on(addr, &sa, len, &h->fd, errbuf, errlen)) != DTX_OK)
		goto fail;
	if ((h->d = start_daemon(h, sa.ss_family == AF_INET6)) == NULL) {
		snprintf(errbuf, errlen,
		         "--http %s: the HTTP server did not "
		         "start",
		         addr);
		close(h->fd);
		rv = DTX_ENOMEM;
		goto fail;
	}
	dc_diag(DTX_LOG_INFO,
	        "console, HTTP API, /metrics, /livez and /readyz on "
	        "http://%s/ (read-only)",
	        addr);
	*ret_http = h;
	return DTX_OK;
fail:
	pthread_cond_destroy(&h->drained);
	pthread_mutex_destroy(&h->lock);
	free(h);
	return rv;
}

/* drain resumes every parked exchange (its route answers 503) and waits,
 * at most DC_HTTP_DRAIN_MS, until their answers are sent: stopping the
 * daemon at once would close them unanswered. h->lock held. */
static void drain(dc_http *h)
{
	struct timespec until;
	dc_http_ex *ex;

	while ((ex = h->parked) != NULL) { /* none parks: closing is set */
		ex->drain = true;
		h->draining++;
		unpark(h, ex);
		pthread_mutex_unlock(&h->lock);
		MHD_resume_connection(ex->conn);
		pthread_mutex_lock(&h->lock);
	}
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += DC_HTTP_DRAIN_MS / 1000;
	until.tv_nsec += (DC_HTTP_DRAIN_MS % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (h->draining > 0 &&
	       pthread_cond_timedwait(&h->drained, &h->lock, &until) == 0)
		;
}

void dc_http_close(dc_http *h)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&h->lock);
	h->closing = true;
	drain(h);
	pthread_mutex_unlock(&h->lock);
	MHD_stop_daemon(h->d); /* joins the thread; closes the socket */
	pthread_cond_destroy(&h->drained);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
