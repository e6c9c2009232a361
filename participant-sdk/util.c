/*
 * util.c - libdtx's small shared services: the diagnostic callback, the
 * translation of nng's error codes, and string copies fit for the wire.
 *
 * Owns the process-wide log callback (set once, before objects exist; read
 * without a lock afterwards, as dtx.h documents), and the bounded close of
 * a socket. It never prints, allocates only for a bounded close, and is
 * the only file of libdtx that compares NNG_E* values.
 *
 * Threads: every function may run on any thread at once.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>

#include "sdk.h"

#define LOG_LINE_MAX 512

static dtx_log_cb log_cb;
static void *log_arg;
static dtx_log_record_cb rec_cb;
static void *rec_arg;
static _Atomic int max_level = DTX_LOG_DEBUG;

void dtx_set_log_cb(dtx_log_cb cb, void *arg)
{
	log_cb = cb;
	log_arg = arg;
}

void dtx_set_log_record_cb(dtx_log_record_cb cb, void *arg)
{
	rec_cb = cb;
	rec_arg = arg;
}

void dtx_set_log_level(dtx_log_level level)
{
	max_level = (int)level;
}

/* with_fields writes line and r's fields as text (dtx_set_log_cb) into
 * out. The values are bounded and printable: wire.c checks the gid and
 * handler, call.c the hex ids. */
static void with_fields(const char *line, const dtx_log_record *r, char *out,
                        size_t len)
{
	size_t n = (size_t)snprintf(out, len, "%s", line);

	if (n < len && r->gid != NULL)
		n += (size_t)snprintf(out + n, len - n, " gid=%s", r->gid);
	if (n < len && r->branch >= 0)
		n += (size_t)snprintf(out + n, len - n, " branch=%lld",
		                      (long long)r->branch);
	if (n < len && r->op > 0)
		n += (size_t)snprintf(out + n, len - n, " op=%s",
		                      dtx_op_name(r->op));
	if (n < len && r->handler != NULL)
		n += (size_t)snprintf(out + n, len - n, " handler=%s",
		                      r->handler);
	if (n < len && r->trace_id != NULL)
		n += (size_t)snprintf(out + n, len - n, " trace_id=%s",
		                      r->trace_id);
	if (n < len && r->span_id != NULL)
		snprintf(out + n, len - n, " span_id=%s", r->span_id);
}

static void emit(dtx_log_level level, const dtx_log_record *about,
                 const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));

static void emit(dtx_log_level level, const dtx_log_record *about,
                 const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX], text[LOG_LINE_MAX + 320];
	dtx_log_record r = {.branch = -1};

	if ((int)level > max_level || (log_cb == NULL && rec_cb == NULL))
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (about != NULL)
		r = *about;
	r.level = level;
	r.msg = line;
	if (rec_cb != NULL) {
		rec_cb(rec_arg, &r);
		return;
	}
	with_fields(line, &r, text, sizeof(text));
	log_cb(log_arg, level, text);
}

void sdk_logf(dtx_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(level, NULL, fmt, ap);
	va_end(ap);
}

void sdk_log_about(dtx_log_level level, const dtx_log_record *about,
                   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(level, about, fmt, ap);
	va_end(ap);
}

/*
 * sdk_err_from_nng - how each nng failure reads to a dtx caller:
 *
 *   ETIMEDOUT                          -> DTX_ETIMEDOUT
 *   ECLOSED, ECANCELED                 -> DTX_ECLOSED (we closed or stopped)
 *   ENOMEM                             -> DTX_ENOMEM
 *   EINVAL, EADDRINVAL (malformed URL) -> DTX_EINVAL
 *   ENOTSUP (unknown URL scheme), ECONNREFUSED, EUNREACHABLE, ECONNSHUT,
 *   ECONNRESET, ECONNABORTED, EADDRINUSE, EPERM, ENOENT, EPEERAUTH,
 *   ECRYPTO                            -> DTX_EUNREACHABLE (no usable peer or
 *                                         address)
 *   EMSGSIZE                           -> DTX_ETOOBIG
 *   EPROTO                             -> DTX_EPROTO
 *   EBUSY, EAGAIN                      -> DTX_EBUSY
 *   ENOFILES                           -> DTX_ELIMIT (out of descriptors)
 *   ENOSPC                             -> DTX_ENOSPC
 *   anything else                      -> DTX_EINTERNAL
 */
int sdk_err_from_nng(int nng_rv)
{
	switch (nng_rv) {
	case 0:
		return DTX_OK;
	case NNG_ETIMEDOUT:
		return DTX_ETIMEDOUT;
	case NNG_ECLOSED:
	case NNG_ECANCELED:
		return DTX_ECLOSED;
	case NNG_ENOMEM:
		return DTX_ENOMEM;
	case NNG_EINVAL:
	case NNG_EADDRINVAL:
		return DTX_EINVAL;
	case NNG_ENOTSUP:
	case NNG_ECONNREFUSED:
	case NNG_EUNREACHABLE:
	case NNG_ECONNSHUT:
	case NNG_ECONNRESET:
	case NNG_ECONNABORTED:
	case NNG_EADDRINUSE:
	case NNG_EPERM:
	case NNG_ENOENT:
	case NNG_EPEERAUTH:
	case NNG_ECRYPTO:
		return DTX_EUNREACHABLE;
	default:
		break;
	}
	switch (nng_rv) {
	case NNG_EMSGSIZE:
		return DTX_ETOOBIG;
	case NNG_EPROTO:
		return DTX_EPROTO;
	case NNG_EBUSY:
	case NNG_EAGAIN:
		return DTX_EBUSY;
	case NNG_ENOFILES:
		return DTX_ELIMIT;
	case NNG_ENOSPC:
		return DTX_ENOSPC;
	default:
		/* named, so that an internal error seen by a caller can be
		 * traced to the nng failure behind it */
		sdk_logf(DTX_LOG_WARN, "nng error %d (%s) has no dtx meaning",
		         nng_rv, nng_strerror(nng_rv));
		return DTX_EINTERNAL;
	}
}

void sdk_strlcpy(char *dst, size_t cap, const char *src)
{
	size_t n;

	if (src == NULL)
		src = "";
	n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* utf8_trim returns the largest length <= n that does not end inside a
 * multi-byte UTF-8 sequence of s. */
static size_t utf8_trim(const char *s, size_t n, size_t full)
{
	size_t end = n;

	if (n == full)
		return n;
	/* s[n] is the first byte cut off: back off its continuation bytes */
	while (end > 0 && ((unsigned char)s[end] & 0xC0) == 0x80)
		end--;
	return end;
}

size_t sdk_text_copy(char *dst, size_t cap, const char *src)
{
	size_t full = strlen(src);
	size_t n = full < cap - 1 ? full : cap - 1;
	size_t i;

	n = utf8_trim(src, n, full);
	memcpy(dst, src, n);
	dst[n] = '\0';
	if (wire_utf8_is_valid(dst, n))
		return n;
	for (i = 0; i < n; i++) {
		if ((unsigned char)dst[i] >= 0x80)
			dst[i] = '?';
	}
	return n;
}

/* ---- bounded close ----------------------------------------------------- */

/* closing - one nng_close run on a thread of its own. Freed by the
 * waiter if the close returned in time, else by the thread if it ever
 * returns (abandoned). */
typedef struct closing {
	nng_socket sock;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* CLOCK_MONOTONIC */
	bool done;         /* guarded by mu */
	bool abandoned;    /* guarded by mu */
} closing;

static void closing_free(closing *cl)
{
	pthread_cond_destroy(&cl->cv);
	pthread_mutex_destroy(&cl->mu);
	free(cl);
}

static void *close_main(void *arg)
{
	closing *cl = arg;
	bool abandoned;

	nng_close(cl->sock);
	pthread_mutex_lock(&cl->mu);
	cl->done = true;
	abandoned = cl->abandoned;
	pthread_cond_signal(&cl->cv);
	pthread_mutex_unlock(&cl->mu);
	if (abandoned)
		closing_free(cl);
	return NULL;
}

static closing *closing_new(nng_socket sock)
{
	closing *cl = calloc(1, sizeof(*cl));
	pthread_condattr_t attr;

	if (cl == NULL || pthread_mutex_init(&cl->mu, NULL) != 0) {
		free(cl);
		return NULL;
	}
	if (pthread_condattr_init(&attr) != 0 ||
	    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&cl->cv, &attr) != 0) {
		pthread_mutex_destroy(&cl->mu);
		free(cl);
		return NULL;
	}
	pthread_condattr_destroy(&attr);
	cl->sock = sock;
	return cl;
}

bool sdk_close_bounded_id(uint32_t sock_id, unsigned ms)
{
	nng_socket sock = {.id = sock_id};
	closing *cl = closing_new(sock);
	struct timespec ts;
	pthread_t t;
	bool done;
	int rv = 0;

	if (cl == NULL || pthread_create(&t, NULL, close_main, cl) != 0) {
		if (cl != NULL)
			closing_free(cl);
		nng_close(sock); /* no thread to spare: unbounded */
		return true;
	}
	pthread_detach(t);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&cl->mu);
	while (!cl->done && rv == 0)
		rv = pthread_cond_timedwait(&cl->cv, &cl->mu, &ts);
	done = cl->done;
	cl->abandoned = !done;
	pthread_mutex_unlock(&cl->mu);
	if (done)
		closing_free(cl);
	return done;
}
