/*
 * metrics.c - libdtx's counters as Prometheus text (format 0.0.4), for a
 * service to serve on its own /metrics: dtx_participant_metrics_text and
 * dtx_client_metrics_text (<dtx/dtx.h>).
 *
 * Owns the text writer (snprintf's contract: as much as fits, the whole
 * length reported) and the request latency buckets the client counts in
 * (sdk_lat_le_us). Reads the counters through dtx_participant_get_stats,
 * dtx_client_get_stats and sdk_client_latency: relaxed atomics, no lock.
 *
 * Must never: allocate, print, or write past the caller's buffer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sdk.h"

#define PREFIX_MAX 64

const uint64_t sdk_lat_le_us[SDK_LAT_N] = {
        500,    1000,   2500,   5000,    10000,   25000,   50000,
        100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};

/* The text being written: buf (len bytes) takes what fits; n counts all. */
typedef struct text {
	char *buf;
	size_t len;
	size_t n;
	const char *prefix;
} text;

__attribute__((format(printf, 2, 3))) static void put(text *t, const char *fmt,
                                                      ...)
{
	va_list ap;
	size_t room = t->n < t->len ? t->len - t->n : 0;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(room > 0 ? t->buf + t->n : NULL, room, fmt, ap);
	va_end(ap);
	if (k > 0)
		t->n += (size_t)k;
}

/* family writes the HELP and TYPE lines of PREFIX_name. */
static void family(text *t, const char *name, const char *type,
                   const char *help)
{
	put(t, "# HELP %s_%s %s\n# TYPE %s_%s %s\n", t->prefix, name, help,
	    t->prefix, name, type);
}

static void counter(text *t, const char *name, const char *help, uint64_t v)
{
	family(t, name, "counter", help);
	put(t, "%s_%s %llu\n", t->prefix, name, (unsigned long long)v);
}

static bool prefix_is_valid(const char *p)
{
	size_t n = strlen(p);

	if (n == 0 || n > PREFIX_MAX || (p[0] >= '0' && p[0] <= '9'))
		return false;
	return strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                 "0123456789_:") == n;
}

/* begin checks the arguments and starts t; false: DTX_EINVAL. */
static bool begin(text *t, const void *obj, const char *prefix, const char *def,
                  char *buf, size_t len, const size_t *ret_len)
{
	if (obj == NULL || ret_len == NULL || (buf == NULL && len > 0))
		return false;
	t->prefix = prefix != NULL ? prefix : def;
	if (!prefix_is_valid(t->prefix))
		return false;
	t->buf = buf;
	t->len = len;
	t->n = 0;
	if (len > 0)
		buf[0] = '\0';
	return true;
}

/* end terminates t's buffer (a cut text ends at len - 1). */
static void end(const text *t, size_t *ret_len)
{
	if (t->len > 0 && t->n >= t->len)
		t->buf[t->len - 1] = '\0';
	*ret_len = t->n;
}

int dtx_participant_metrics_text(const dtx_participant *part,
                                 const char *prefix, char *buf, size_t len,
                                 size_t *ret_len)
{
	dtx_participant_stats s;
	text t;

	if (!begin(&t, part, prefix, "dtx_participant", buf, len, ret_len))
		return DTX_EINVAL;
	dtx_participant_get_stats(part, &s);
	counter(&t, "calls_total", "Branch calls received and decoded.",
	        s.calls);
	counter(&t, "messages_total",
	        "Requests received (the calls ready together come as one).",
	        s.messages);
	counter(&t, "applied_total",
	        "Calls whose handler ran and whose answer was recorded.",
	        s.applied);
	counter(&t, "replayed_total",
	        "Calls answered from a barrier record (repeats).", s.replayed);
	counter(&t, "null_compensations_total",
	        "Compensations or cancels that came before their action.",
	        s.null_compensations);
	counter(&t, "late_refused_total",
	        "Actions or tries refused after their compensation, cancel or "
	        "deadline.",
	        s.late_refused);
	counter(&t, "retries_total",
	        "Calls a handler answered RETRY (or FAIL to an op that must "
	        "not fail).",
	        s.retries);
	counter(&t, "commits_total",
	        "Durable store commits (calls that arrive together share one).",
	        s.commits);
	counter(&t, "barrier_gc_removed_total",
	        "Barrier records removed by the GC thread.",
	        s.barrier_gc_removed);
	counter(&t, "barrier_gc_failures_total",
	        "Barrier GC sweeps that failed.", s.barrier_gc_failures);
	end(&t, ret_len);
	return DTX_OK;
}

/* latency writes the client's request latency histogram. */
static void latency(text *t, const dtx_client *client, uint64_t sum_us)
{
	uint64_t b[SDK_LAT_N + 1], cum = 0;

	sdk_client_latency(client, b);
	family(t, "request_duration_seconds", "histogram",
	       "Time from a request's start to its end, retries and "
	       "failovers included.");
	for (size_t i = 0; i <= SDK_LAT_N; i++) {
		cum += b[i];
		if (i < SDK_LAT_N)
			put(t,
			    "%s_request_duration_seconds_bucket{le=\"%g\"} "
			    "%llu\n",
			    t->prefix, (double)sdk_lat_le_us[i] / 1e6,
			    (unsigned long long)cum);
		else
			put(t,
			    "%s_request_duration_seconds_bucket{le=\"+Inf\"} "
			    "%llu\n",
			    t->prefix, (unsigned long long)cum);
	}
	put(t, "%s_request_duration_seconds_sum %.6f\n", t->prefix,
	    (double)sum_us / 1e6);
	put(t, "%s_request_duration_seconds_count %llu\n", t->prefix,
	    (unsigned long long)cum);
}

int dtx_client_metrics_text(const dtx_client *client, const char *prefix,
                            char *buf, size_t len, size_t *ret_len)
{
	dtx_client_stats s;
	text t;

	if (!begin(&t, client, prefix, "dtx_client", buf, len, ret_len))
		return DTX_EINVAL;
	dtx_client_get_stats(client, &s);
	counter(&t, "requests_total",
	        "Requests begun (submits, queries, TCC, final queries).",
	        s.requests);
	family(&t, "request_outcomes_total", "counter",
	       "Requests ended, by how they ended.");
	put(&t, "%s_request_outcomes_total{outcome=\"ok\"} %llu\n", t.prefix,
	    (unsigned long long)s.ok);
	put(&t, "%s_request_outcomes_total{outcome=\"refused\"} %llu\n",
	    t.prefix, (unsigned long long)s.refused);
	put(&t, "%s_request_outcomes_total{outcome=\"timeout\"} %llu\n",
	    t.prefix, (unsigned long long)s.timeouts);
	put(&t, "%s_request_outcomes_total{outcome=\"unreachable\"} %llu\n",
	    t.prefix, (unsigned long long)s.unreachable);
	put(&t, "%s_request_outcomes_total{outcome=\"failed\"} %llu\n",
	    t.prefix, (unsigned long long)s.failed);
	counter(&t, "attempts_total",
	        "Sends to a coordinator, failovers and redirects included.",
	        s.attempts);
	counter(&t, "redirects_total",
	        "Answers DTX_EMOVED followed to the shard's owner.",
	        s.redirects);
	counter(&t, "resends_total",
	        "Requests naming a gid sent again: the answer was lost with "
	        "its connection.",
	        s.resends);
	latency(&t, client, s.latency_us);
	end(&t, ret_len);
	return DTX_OK;
}
