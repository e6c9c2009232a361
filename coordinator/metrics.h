/*
 * metrics.h - dtxd's counters and health, read by its HTTP endpoint:
 * /metrics (Prometheus text exposition format 0.0.4), /livez and /readyz.
 *
 * The counters are kept where things happen: the engine's loop thread
 * counts transactions, submits, group commits, branch calls and retries;
 * the lease room counts its rounds. Each is a relaxed C11 atomic with one
 * writer (the loop; a lease round's outcome reaches the loop as mail), so
 * counting costs an uncontended atomic add and no lock, and the HTTP
 * thread reads them at any time without touching the engine: a scrape
 * never waits for the loop, nor the loop for a scrape. A scrape is a
 * consistent-enough view, not a snapshot: counters read one after
 * another may be one event apart (a histogram's _count is the sum of its
 * buckets as read, so +Inf always equals _count).
 *
 * Label cardinality is bounded: mode, state, op and outcome are enums;
 * branch latency is labelled by (participant, handler) for the first
 * DC_METRICS_PAIRS pairs seen since start, and every later pair is
 * counted under participant="other", handler="other" (a pair's URL and
 * handler come from submits, i.e. from clients: an unbounded label set
 * would let a client grow dtxd's memory and every scrape without bound).
 * Shards are reported as counts, never one series per shard.
 *
 * Must never: lock, allocate or block on the loop thread; hold any
 * engine pointer (what it reports is copied in by the engine).
 */
#ifndef DTX_COORDINATOR_METRICS_H
#define DTX_COORDINATOR_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DC_METRICS_PAIRS   32 /* (participant, handler) series; then "other" */
#define DC_METRICS_LIVE_S  10 /* /livez: the loop turned within this */
#define DC_METRICS_BEAT_MS 1000 /* how often the loop says it turns */

typedef struct dc_metrics dc_metrics;

/* Where the engine is in its life, for /readyz. */
typedef enum dc_metrics_phase {
	DC_METRICS_STARTING = 0, /* opening the store, recovering */
	DC_METRICS_SERVING,      /* recovered and listening */
	DC_METRICS_STOPPING,     /* a stop began */
	DC_METRICS_PHASE_COUNT
} dc_metrics_phase;

/* dc_metrics_create makes the counters (all zero, phase STARTING).
 * leases: the engine holds shard leases of shards on a shared store for
 * lease_ms; readiness then needs a shard held and a round that reached
 * the store within lease_ms / 2 (a round runs every lease_ms / 3: one
 * missed, failed or hung round makes dtxd unready, well before the lease
 * runs out). Errors: DTX_ENOMEM. */
int dc_metrics_create(bool leases, uint32_t shards, uint64_t lease_ms,
                      dc_metrics **ret_m);

/* dc_metrics_destroy frees m once no thread reads it. Accepts NULL. */
void dc_metrics_destroy(dc_metrics *m);

/* ---- written by the engine (its loop thread) ---------------------------- */

void dc_metrics_set_phase(dc_metrics *m, dc_metrics_phase phase);

/* dc_metrics_beat says the loop turned (a timer every
 * DC_METRICS_BEAT_MS): /livez fails once none came for DC_METRICS_LIVE_S. */
void dc_metrics_beat(dc_metrics *m);

/* dc_metrics_tx_gauge adds delta (+1 or -1) to the in-memory
 * transactions of mode (1 saga, 2 TCC) in state, and to those needing an
 * operator when needs_operator. */
void dc_metrics_tx_gauge(dc_metrics *m, int mode, int state,
                         bool needs_operator, int delta);

/* dc_metrics_tx_finished counts a transaction that reached final state. */
void dc_metrics_tx_finished(dc_metrics *m, int mode, int state);

/* dc_metrics_submit counts a transaction a client started. */
void dc_metrics_submit(dc_metrics *m, int mode);

/* dc_metrics_commit counts one group commit of ntx transactions that took
 * ns nanoseconds from sealing to durable. */
void dc_metrics_commit(dc_metrics *m, uint64_t ntx, uint64_t ns);

/* dc_metrics_log_usage records the store's size after a commit. */
void dc_metrics_log_usage(dc_metrics *m, uint64_t used_bytes,
                          uint64_t file_bytes, uint64_t max_bytes);

/* dc_metrics_call counts a branch call of handler at participant (both
 * borrowed) for op (dtx_op) that ended with outcome (dc_outcome) after
 * ns nanoseconds. */
void dc_metrics_call(dc_metrics *m, const char *participant,
                     const char *handler, int op, int outcome, uint64_t ns);

/* dc_metrics_retry counts a backoff armed for a call of op. */
void dc_metrics_retry(dc_metrics *m, int op);

/* dc_metrics_recovered records one recovery: n non-final transactions
 * resumed (quarantined: not driven) in millis. */
void dc_metrics_recovered(dc_metrics *m, uint64_t n, uint64_t quarantined,
                          double millis);

/* dc_metrics_lease_round records a lease round's outcome (ok: it reached
 * the store) and the shards now served. */
void dc_metrics_lease_round(dc_metrics *m, bool ok, uint32_t owned);

/* ---- read by the HTTP thread (any thread) ------------------------------- */

/* dc_metrics_now_ns is the monotonic clock in nanoseconds. */
uint64_t dc_metrics_now_ns(void);

/* dc_metrics_render writes every family of m in the text exposition
 * format into a new buffer (*ret_buf, transferred: free it). Errors:
 * DTX_ENOMEM. */
int dc_metrics_render(const dc_metrics *m, char **ret_buf, size_t *ret_len);

/* dc_metrics_is_live: the loop turned lately; else why says how long
 * since (one line). */
bool dc_metrics_is_live(const dc_metrics *m, char *why, size_t len);

/* dc_metrics_is_ready: recovered, listening, not stopping, and with
 * leases the last round reached the store and a shard is held; else why
 * gives the first reason that fails (one line). */
bool dc_metrics_is_ready(const dc_metrics *m, char *why, size_t len);

#endif
