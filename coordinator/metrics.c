/*
 * metrics.c - dtxd's counters and their Prometheus text (see metrics.h).
 *
 * Owns the counters, the table of (participant, handler) series and the
 * rendering. Every counter is a relaxed atomic. The series table is
 * written only by the loop thread: a new pair's strings are written
 * before npairs is raised (release), and a reader looks only below
 * npairs (acquire), so it never sees a half-written pair. The loop finds
 * a pair through a small open-addressing index of its own.
 *
 * Must never: take a lock or allocate on the writer's side; grow a label
 * set past its bound.
 */
#include "metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dtx/dtx.h>

#include "machine.h" /* dc_outcome */
#include "tx.h"

#define MODES    3 /* index 1 saga, 2 TCC */
#define STATES   DC_TX_STATE_COUNT
#define OPS      6 /* dtx_op 1..5 */
#define OUTCOMES DC_OUT_COUNT
#define LAT_N    14
#define SIZE_N   11
#define PAIR_IDX 64 /* index slots: twice DC_METRICS_PAIRS */

typedef _Atomic uint64_t counter;

/* lat_le: latency bucket bounds in ns (0.5 ms .. 10 s). */
static const uint64_t lat_le[LAT_N] = {
        500000,     1000000,    2500000,    5000000,    10000000,
        25000000,   50000000,   100000000,  250000000,  500000000,
        1000000000, 2500000000, 5000000000, 10000000000};

/* size_le: group commit size bounds in transactions. */
static const uint64_t size_le[SIZE_N] = {1,  2,   4,   8,   16,  32,
                                         64, 128, 256, 512, 1024};

/* A histogram: per-bucket counts (not cumulative; the last is +Inf) and
 * the sum, in the unit observed. */
typedef struct hist {
	counter b[LAT_N + 1];
	counter sum;
} hist;

typedef struct pair {
	char participant[DTX_URL_MAX + 1];
	char handler[DTX_HANDLER_MAX + 1];
	hist lat[OUTCOMES];
} pair;

struct dc_metrics {
	bool leases;
	uint32_t shards;
	uint64_t lease_ms;
	uint64_t start_unix;
	_Atomic int phase;
	counter beat_ns;
	_Atomic int64_t txs[MODES][STATES];
	_Atomic int64_t needs_operator;
	counter finished[MODES][STATES];
	counter submits[MODES];
	counter commits;
	hist commit_lat;
	hist commit_size; /* SIZE_N buckets used */
	counter used_bytes, file_bytes, max_bytes;
	counter calls[OPS][OUTCOMES];
	counter retries[OPS];
	pair pairs[DC_METRICS_PAIRS + 1]; /* the last one is "other" */
	_Atomic uint32_t npairs;
	uint8_t pair_idx[PAIR_IDX]; /* the loop's: pair + 1, 0 = empty */
	counter recovered, quarantined, recovery_us;
	counter recoveries;
	counter rounds_ok, rounds_failed;
	_Atomic bool store_ok;
	counter last_ok_ns; /* when a round last reached the store; 0 never */
	_Atomic uint32_t owned;
};

static void add(counter *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t get(const counter *c)
{
	return atomic_load_explicit((counter *)c, memory_order_relaxed);
}

static void set(counter *c, uint64_t v)
{
	atomic_store_explicit(c, v, memory_order_relaxed);
}

uint64_t dc_metrics_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int dc_metrics_create(bool leases, uint32_t shards, uint64_t lease_ms,
                      dc_metrics **ret_m)
{
	dc_metrics *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return DTX_ENOMEM;
	m->leases = leases;
	m->shards = shards;
	m->lease_ms = lease_ms;
	m->start_unix = (uint64_t)time(NULL);
	snprintf(m->pairs[DC_METRICS_PAIRS].participant,
	         sizeof(m->pairs[0].participant), "other");
	snprintf(m->pairs[DC_METRICS_PAIRS].handler,
	         sizeof(m->pairs[0].handler), "other");
	set(&m->beat_ns, dc_metrics_now_ns());
	*ret_m = m;
	return DTX_OK;
}

void dc_metrics_destroy(dc_metrics *m)
{
	free(m);
}

/* ---- the writer's side --------------------------------------------------- */

void dc_metrics_set_phase(dc_metrics *m, dc_metrics_phase phase)
{
	atomic_store(&m->phase, (int)phase);
}

void dc_metrics_beat(dc_metrics *m)
{
	set(&m->beat_ns, dc_metrics_now_ns());
}

static bool in_range(int mode, int state)
{
	return mode > 0 && mode < MODES && state > 0 && state < STATES;
}

void dc_metrics_tx_gauge(dc_metrics *m, int mode, int state,
                         bool needs_operator, int delta)
{
	if (!in_range(mode, state))
		return;
	atomic_fetch_add_explicit(&m->txs[mode][state], delta,
	                          memory_order_relaxed);
	if (needs_operator)
		atomic_fetch_add_explicit(&m->needs_operator, delta,
		                          memory_order_relaxed);
}

void dc_metrics_tx_finished(dc_metrics *m, int mode, int state)
{
	if (in_range(mode, state))
		add(&m->finished[mode][state], 1);
}

void dc_metrics_submit(dc_metrics *m, int mode)
{
	if (mode > 0 && mode < MODES)
		add(&m->submits[mode], 1);
}

/* observe adds v to h whose bucket bounds are le (n of them). */
static void observe(hist *h, const uint64_t *le, size_t n, uint64_t v)
{
	size_t i = 0;

	while (i < n && v > le[i])
		i++;
	add(&h->b[i], 1);
	add(&h->sum, v);
}

void dc_metrics_commit(dc_metrics *m, uint64_t ntx, uint64_t ns)
{
	add(&m->commits, 1);
	observe(&m->commit_lat, lat_le, LAT_N, ns);
	observe(&m->commit_size, size_le, SIZE_N, ntx);
}

void dc_metrics_log_usage(dc_metrics *m, uint64_t used_bytes,
                          uint64_t file_bytes, uint64_t max_bytes)
{
	set(&m->used_bytes, used_bytes);
	set(&m->file_bytes, file_bytes);
	set(&m->max_bytes, max_bytes);
}

static uint32_t pair_hash(const char *participant, const char *handler)
{
	uint32_t h = 2166136261u;

	for (const char *p = participant; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	h = (h ^ 0xffu) * 16777619u;
	for (const char *p = handler; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h;
}

/* pair_of finds or adds (participant, handler); past DC_METRICS_PAIRS
 * pairs, the "other" one. Loop thread only. */
static pair *pair_of(dc_metrics *m, const char *participant,
                     const char *handler)
{
	uint32_t n = atomic_load_explicit(&m->npairs, memory_order_relaxed);
	uint32_t i = pair_hash(participant, handler) % PAIR_IDX;
	pair *p;

	for (; m->pair_idx[i] != 0; i = (i + 1) % PAIR_IDX) {
		p = &m->pairs[m->pair_idx[i] - 1];
		if (strcmp(p->participant, participant) == 0 &&
		    strcmp(p->handler, handler) == 0)
			return p;
	}
	if (n == DC_METRICS_PAIRS)
		return &m->pairs[DC_METRICS_PAIRS];
	p = &m->pairs[n];
	snprintf(p->participant, sizeof(p->participant), "%s", participant);
	snprintf(p->handler, sizeof(p->handler), "%s", handler);
	m->pair_idx[i] = (uint8_t)(n + 1);
	atomic_store_explicit(&m->npairs, n + 1, memory_order_release);
	return p;
}

void dc_metrics_call(dc_metrics *m, const char *participant,
                     const char *handler, int op, int outcome, uint64_t ns)
{
	pair *p;

	if (op <= 0 || op >= OPS || outcome <= 0 || outcome >= OUTCOMES)
		return;
	add(&m->calls[op][outcome], 1);
	p = pair_of(m, participant != NULL ? participant : "",
	            handler != NULL ? handler : "");
	observe(&p->lat[outcome], lat_le, LAT_N, ns);
}

void dc_metrics_retry(dc_metrics *m, int op)
{
	if (op > 0 && op < OPS)
		add(&m->retries[op], 1);
}

void dc_metrics_recovered(dc_metrics *m, uint64_t n, uint64_t quarantined,
                          double millis)
{
	add(&m->recoveries, 1);
	add(&m->recovered, n);
	add(&m->quarantined, quarantined);
	set(&m->recovery_us, (uint64_t)(millis * 1000.0));
}

void dc_metrics_lease_round(dc_metrics *m, bool ok, uint32_t owned)
{
	add(ok ? &m->rounds_ok : &m->rounds_failed, 1);
	atomic_store(&m->store_ok, ok);
	if (!ok)
		return;
	atomic_store(&m->owned, owned);
	set(&m->last_ok_ns, dc_metrics_now_ns());
}

/* ---- health -------------------------------------------------------------- */

bool dc_metrics_is_live(const dc_metrics *m, char *why, size_t len)
{
	uint64_t now = dc_metrics_now_ns(), beat = get(&m->beat_ns);
	uint64_t age_ms = now > beat ? (now - beat) / 1000000u : 0;

	if (age_ms <= DC_METRICS_LIVE_S * 1000u) {
		snprintf(why, len, "the loop turned %llu ms ago",
		         (unsigned long long)age_ms);
		return true;
	}
	snprintf(why, len, "the loop has not turned for %llu ms",
	         (unsigned long long)age_ms);
	return false;
}

/* store_age_ms: how long since a lease round reached the store
 * (UINT64_MAX: never). */
static uint64_t store_age_ms(const dc_metrics *m)
{
	uint64_t ok = get(&m->last_ok_ns), now = dc_metrics_now_ns();

	if (ok == 0)
		return UINT64_MAX;
	return now > ok ? (now - ok) / 1000000u : 0;
}

bool dc_metrics_is_ready(const dc_metrics *m, char *why, size_t len)
{
	int phase = atomic_load(&((dc_metrics *)m)->phase);
	uint64_t age = m->leases ? store_age_ms(m) : 0;

	if (phase == DC_METRICS_STARTING)
		snprintf(why, len,
		         "starting: recovering the log, not listening "
		         "yet");
	else if (phase == DC_METRICS_STOPPING)
		snprintf(why, len, "stopping");
	else if (m->leases && age == UINT64_MAX)
		snprintf(why, len,
		         "store unreachable: no lease round has "
		         "reached it yet");
	else if (m->leases && !atomic_load(&((dc_metrics *)m)->store_ok))
		snprintf(why, len,
		         "store unreachable: the last lease round "
		         "failed");
	else if (m->leases && age > m->lease_ms / 2)
		snprintf(why, len,
		         "store unreachable: no lease round has reached it for "
		         "%llu ms",
		         (unsigned long long)age);
	else if (m->leases && atomic_load(&((dc_metrics *)m)->owned) == 0)
		snprintf(why, len, "no shard lease held");
	else {
		snprintf(why, len, "recovered, listening%s",
		         m->leases ? ", store reachable, leases held" : "");
		return true;
	}
	return false;
}

/* ---- rendering (any thread) ---------------------------------------------- */

static void family(FILE *f, const char *name, const char *type,
                   const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* one_u64 writes family name (HELP, TYPE) and its one unlabelled sample. */
static void one_u64(FILE *f, const char *name, const char *type,
                    const char *help, uint64_t v)
{
	family(f, name, type, help);
	fprintf(f, "%s %llu\n", name, (unsigned long long)v);
}

/* escape copies v into buf as a label value: \\, " and newline escaped
 * (always terminated; cut at len). */
static void escape(const char *v, char *buf, size_t len)
{
	size_t n = 0;

	for (; *v && n + 3 < len; v++) {
		if (*v == '\\' || *v == '"' || *v == '\n') {
			buf[n++] = '\\';
			buf[n++] = *v == '\n' ? 'n' : *v;
		} else {
			buf[n++] = *v;
		}
	}
	buf[n] = '\0';
}

static bool is_final(int state)
{
	return state == DC_TX_COMMITTED || state == DC_TX_COMPENSATED ||
	       state == DC_TX_CANCELLED;
}

/* is_state_of: state is one a transaction of mode can be in (a saga
 * never confirms, a TCC transaction never compensates). */
static bool is_state_of(int mode, int state)
{
	if (mode == DC_MODE_SAGA)
		return state == DC_TX_RUNNING || state == DC_TX_COMPENSATING ||
		       state == DC_TX_COMMITTED || state == DC_TX_COMPENSATED;
	return state == DC_TX_RUNNING || state == DC_TX_CONFIRMING ||
	       state == DC_TX_CANCELLING || state == DC_TX_COMMITTED ||
	       state == DC_TX_CANCELLED;
}

static const char *mode_name(int mode)
{
	return mode == DC_MODE_SAGA ? "saga" : "tcc";
}

static const char *const outcome_names[OUTCOMES] = {
        "", "ok", "fail", "retry", "timeout", "unreachable"};

/* hist_lines writes h's buckets, sum and count; labels (may be "") come
 * first in each line; scale divides the sum and the bounds (1e9: ns to
 * seconds). */
static void hist_lines(FILE *f, const char *name, const char *labels,
                       const hist *h, const uint64_t *le, size_t n,
                       double scale)
{
	uint64_t cum = 0;
	const char *sep = labels[0] ? "," : "";

	for (size_t i = 0; i <= n; i++) {
		cum += get(&h->b[i]);
		if (i < n)
			fprintf(f, "%s_bucket{%s%sle=\"%g\"} %llu\n", name,
			        labels, sep, (double)le[i] / scale,
			        (unsigned long long)cum);
		else
			fprintf(f, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name,
			        labels, sep, (unsigned long long)cum);
	}
	fprintf(f, "%s_sum%s%s%s %.9g\n", name, labels[0] ? "{" : "", labels,
	        labels[0] ? "}" : "", (double)get(&h->sum) / scale);
	fprintf(f, "%s_count%s%s%s %llu\n", name, labels[0] ? "{" : "", labels,
	        labels[0] ? "}" : "", (unsigned long long)cum);
}

static void render_txs(const dc_metrics *m, FILE *f)
{
	int64_t active = 0;

	family(f, "dtx_transactions", "gauge",
	       "Transactions in dtxd's memory by mode and state.");
	for (int mo = 1; mo < MODES; mo++)
		for (int s = 1; s < STATES; s++) {
			int64_t v = atomic_load_explicit(
			        &((dc_metrics *)m)->txs[mo][s],
			        memory_order_relaxed);
			if (!is_state_of(mo, s))
				continue;
			fprintf(f,
			        "dtx_transactions{mode=\"%s\",state=\"%s\"} "
			        "%lld\n",
			        mode_name(mo), dtx_tx_state_name(s),
			        (long long)v);
			if (!is_final(s))
				active += v;
		}
	family(f, "dtx_transactions_active", "gauge",
	       "Transactions not in a final state, driven by this dtxd.");
	fprintf(f, "dtx_transactions_active %lld\n", (long long)active);
	family(f, "dtx_transactions_needs_operator", "gauge",
	       "Transactions flagged for an operator (retries past the "
	       "threshold).");
	fprintf(f, "dtx_transactions_needs_operator %lld\n",
	        (long long)atomic_load(&((dc_metrics *)m)->needs_operator));
	family(f, "dtx_transactions_finished_total", "counter",
	       "Transactions that reached a final state, by mode and state.");
	for (int mo = 1; mo < MODES; mo++)
		for (int s = 1; s < STATES; s++)
			if (is_final(s) && is_state_of(mo, s))
				fprintf(f,
				        "dtx_transactions_finished_total{mode="
				        "\"%s\",state=\"%s\"} %llu\n",
				        mode_name(mo), dtx_tx_state_name(s),
				        (unsigned long long)get(
				                &m->finished[mo][s]));
	family(f, "dtx_submits_total", "counter",
	       "Transactions started by clients (saga submits, TCC begins).");
	for (int mo = 1; mo < MODES; mo++)
		fprintf(f, "dtx_submits_total{mode=\"%s\"} %llu\n",
		        mode_name(mo),
		        (unsigned long long)get(&m->submits[mo]));
}

static void render_log(const dc_metrics *m, FILE *f)
{
	uint64_t max = get(&m->max_bytes);

	one_u64(f, "dtx_log_commits_total", "counter",
	        "Group commits of the log (one durable write each).",
	        get(&m->commits));
	family(f, "dtx_log_commit_transactions", "histogram",
	       "Transactions written by one group commit.");
	hist_lines(f, "dtx_log_commit_transactions", "", &m->commit_size,
	           size_le, SIZE_N, 1.0);
	family(f, "dtx_log_commit_duration_seconds", "histogram",
	       "Time from sealing a group commit to its being durable.");
	hist_lines(f, "dtx_log_commit_duration_seconds", "", &m->commit_lat,
	           lat_le, LAT_N, 1e9);
	one_u64(f, "dtx_log_used_bytes", "gauge",
	        "Bytes the log's tables use (LMDB pages; PostgreSQL relation "
	        "sizes).",
	        get(&m->used_bytes));
	one_u64(f, "dtx_log_file_bytes", "gauge",
	        "Bytes of the log's file (LMDB: up to the last page written).",
	        get(&m->file_bytes));
	one_u64(f, "dtx_log_max_bytes", "gauge",
	        "The most the log may grow to (LMDB --map-size-max; 0: no "
	        "bound).",
	        max);
	family(f, "dtx_log_map_use_ratio", "gauge",
	       "dtx_log_used_bytes / dtx_log_max_bytes (0 when unbounded).");
	fprintf(f, "dtx_log_map_use_ratio %.6f\n",
	        max ? (double)get(&m->used_bytes) / (double)max : 0.0);
}

static uint64_t hist_count(const hist *h)
{
	uint64_t n = 0;

	for (size_t i = 0; i <= LAT_N; i++)
		n += get(&h->b[i]);
	return n;
}

static void render_calls(const dc_metrics *m, FILE *f)
{
	uint32_t n = atomic_load_explicit(&((dc_metrics *)m)->npairs,
	                                  memory_order_acquire);
	char labels[2 * (DTX_URL_MAX + DTX_HANDLER_MAX) + 128];

	family(f, "dtx_branch_calls_total", "counter",
	       "Branch calls answered or failed, by op and outcome.");
	for (int op = 1; op < OPS; op++)
		for (int o = 1; o < OUTCOMES; o++)
			fprintf(f,
			        "dtx_branch_calls_total{op=\"%s\",outcome="
			        "\"%s\"} %llu\n",
			        dtx_op_name(op), outcome_names[o],
			        (unsigned long long)get(&m->calls[op][o]));
	family(f, "dtx_branch_retries_total", "counter",
	       "Backoffs armed before a branch call is sent again, by op.");
	for (int op = 1; op < OPS; op++)
		fprintf(f, "dtx_branch_retries_total{op=\"%s\"} %llu\n",
		        dtx_op_name(op),
		        (unsigned long long)get(&m->retries[op]));
	family(f, "dtx_branch_call_duration_seconds", "histogram",
	       "Branch call latency by participant, handler and outcome (the "
	       "first 32 pairs seen; later ones as \"other\").");
	for (uint32_t i = 0; i <= DC_METRICS_PAIRS; i++) {
		const pair *p = &m->pairs[i];
		char part[2 * DTX_URL_MAX + 1], hand[2 * DTX_HANDLER_MAX + 1];
		if (i >= n && i < DC_METRICS_PAIRS)
			continue;
		escape(p->participant, part, sizeof(part));
		escape(p->handler, hand, sizeof(hand));
		for (int o = 1; o < OUTCOMES; o++) {
			if (hist_count(&p->lat[o]) == 0)
				continue; /* an outcome it never had */
			snprintf(labels, sizeof(labels),
			         "participant=\"%s\",handler=\"%s\",outcome="
			         "\"%s\"",
			         part, hand, outcome_names[o]);
			hist_lines(f, "dtx_branch_call_duration_seconds",
			           labels, &p->lat[o], lat_le, LAT_N, 1e9);
		}
	}
}

static void gauge(FILE *f, const char *name, const char *help, double v)
{
	family(f, name, "gauge", help);
	fprintf(f, "%s %.9g\n", name, v);
}

static void render_health(const dc_metrics *m, FILE *f)
{
	char why[200];
	uint64_t now = dc_metrics_now_ns(), beat = get(&m->beat_ns);

	one_u64(f, "dtx_recoveries_total", "counter",
	        "Recoveries run: one at start, or one per shard taken.",
	        get(&m->recoveries));
	one_u64(f, "dtx_recovered_transactions_total", "counter",
	        "Non-final transactions resumed by recovery.",
	        get(&m->recovered));
	one_u64(f, "dtx_quarantined_transactions_total", "counter",
	        "Transactions recovery could not load or drive (quarantined).",
	        get(&m->quarantined));
	gauge(f, "dtx_recovery_duration_seconds",
	      "How long the last recovery took.",
	      (double)get(&m->recovery_us) / 1e6);
	gauge(f, "dtx_ready", "1 when /readyz answers 200.",
	      dc_metrics_is_ready(m, why, sizeof(why)) ? 1 : 0);
	gauge(f, "dtx_loop_beat_age_seconds",
	      "Time since the engine's loop last turned.",
	      now > beat ? (double)(now - beat) / 1e9 : 0);
	gauge(f, "process_start_time_seconds",
	      "Start time of the process since the Unix epoch.",
	      (double)m->start_unix);
	if (!m->leases)
		return;
	gauge(f, "dtx_shards", "Shards of the shared store (--shards).",
	      m->shards);
	gauge(f, "dtx_shards_owned",
	      "Shards whose lease this instance holds and serves.",
	      atomic_load(&((dc_metrics *)m)->owned));
	gauge(f, "dtx_store_reachable",
	      "1 when the last lease round reached the store.",
	      atomic_load(&((dc_metrics *)m)->store_ok) ? 1 : 0);
	gauge(f, "dtx_lease_round_age_seconds",
	      "Time since a lease round last reached the store.",
	      store_age_ms(m) == UINT64_MAX ? -1
	                                    : (double)store_age_ms(m) / 1e3);
	family(f, "dtx_lease_rounds_total", "counter",
	       "Lease rounds (heartbeats, takes, releases) by outcome.");
	fprintf(f, "dtx_lease_rounds_total{outcome=\"ok\"} %llu\n",
	        (unsigned long long)get(&m->rounds_ok));
	fprintf(f, "dtx_lease_rounds_total{outcome=\"failed\"} %llu\n",
	        (unsigned long long)get(&m->rounds_failed));
}

int dc_metrics_render(const dc_metrics *m, char **ret_buf, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return DTX_ENOMEM;
	render_txs(m, f);
	render_log(m, f);
	render_calls(m, f);
	render_health(m, f);
	if (fclose(f) != 0) {
		free(buf);
		return DTX_ENOMEM;
	}
	*ret_buf = buf;
	*ret_len = len;
	return DTX_OK;
}
