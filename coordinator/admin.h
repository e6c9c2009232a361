/*
 * admin.h - the answers of the admin API (dtxctl), built the same way
 * online (dtxd --admin, coordinator/engine.c) and offline (dtxctl --log DIR
 * reading a stopped coordinator's log), so both print the same thing.
 *
 * A dc_admin_out owns an AdminReply under construction and every byte it
 * points to except the strings of transactions passed in borrowed (they
 * must outlive the dc_admin_out, or be handed over with dc_admin_own).
 * Allocation failure is sticky: the builders stop adding, and
 * dc_admin_out_pack reports DTX_ENOMEM.
 *
 * Never does network I/O; reads the log only through coordinator/log.h.
 * Not thread-safe per object.
 */
#ifndef DTX_COORDINATOR_ADMIN_H
#define DTX_COORDINATOR_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "machine.h"
#include "tx.h"
#include "wire.h"

#define DC_ADMIN_LIST_DEFAULT   100 /* page size when the request has none */
#define DC_ADMIN_EVENTS_DEFAULT 200 /* newest timeline lines in `show` */
#define DC_ADMIN_EVENTS_MAX     5000
#define DC_ADMIN_FIELD_DEFAULT  256 /* bytes of a payload/result in `show` */
#define DC_ADMIN_LINES_MAX      (2 * 64 + 8) /* transitions / calls of an act */
/* Records one list page reads at most: with a filter that matches few, a
 * page ends short with a cursor (next_after_gid) after this many. */
#define DC_ADMIN_LIST_EXAMINE 512
/* Heartbeat records a shards reply reads at most (lease.h's bound). */
#define DC_ADMIN_INSTANCES_MAX 64

typedef struct dc_admin_out {
	Dtx__V1__AdminReply rep;
	void **allocs; /* every allocation, freed by fini */
	size_t nallocs, capallocs;
	dc_tx **owned; /* transactions destroyed by fini */
	size_t nowned, capowned;
	size_t captxs, capevents, caplines, capcalls, capshards;
	bool oom;
	/* The reply's size bound (0 = none; the engine sets its
	 * --max-msg-bytes): a list page ends early (its cursor says where
	 * the next begins), a timeline keeps fewer of its newest lines. */
	size_t max_bytes;
	size_t bytes; /* packed bytes of the transactions and lines in rep */
} dc_admin_out;

/* dc_admin_lookup_fn returns the newest in-memory version of gid
 * (borrowed), or NULL to use the log's. */
typedef const dc_tx *(*dc_admin_lookup_fn)(void *arg, const char *gid);

/* dc_admin_out_init starts an OK reply stamped with now_unix_ms. */
void dc_admin_out_init(dc_admin_out *o, int64_t now_unix_ms);

/* dc_admin_fill_step fills *si (caller-owned) with step i of a
 * transaction; its strings borrow st. next_retry (unix ms, 0 = none) is
 * shown only when set. Shared by the admin and the client replies. */
void dc_admin_fill_step(const dc_step *st, uint32_t i, int64_t next_retry,
                        Dtx__V1__StepInfo *si);

/* dc_admin_is_full: o's reply has reached its size bound (max_bytes less
 * room for its message and cursor). */
bool dc_admin_is_full(const dc_admin_out *o);

/* dc_admin_out_fini frees everything o owns. Accepts a zeroed o. */
void dc_admin_out_fini(dc_admin_out *o);

/* dc_admin_out_pack packs o's reply into a new buffer (transferred).
 * Errors: DTX_ENOMEM (also after any failed builder). */
int dc_admin_out_pack(dc_admin_out *o, uint8_t **ret_buf, size_t *ret_len);

/* dc_admin_error makes o's reply the error code with message msg (copied). */
void dc_admin_error(dc_admin_out *o, int code, const char *msg);

/* dc_admin_set_message sets the reply's message (copied), code unchanged. */
void dc_admin_set_message(dc_admin_out *o, const char *msg);

/* dc_admin_own hands tx to o (destroyed by fini). */
void dc_admin_own(dc_admin_out *o, dc_tx *tx);

/* dc_admin_add_tx appends tx (borrowed) as a TxInfo. next_retry_ms is
 * NULL or tx->nsteps wall-clock due times of queued backoffs (0 = none). */
void dc_admin_add_tx(dc_admin_out *o, const dc_tx *tx,
                     const int64_t *next_retry_ms);

/* dc_admin_matches returns true if tx passes filter f (NULL: all). */
bool dc_admin_matches(const dc_tx *tx, const Dtx__V1__AdminFilter *f,
                      int64_t now_unix_ms);

/* dc_admin_list answers an AdminList from log, preferring lookup's
 * versions. Errors from the log are put in the reply and returned. */
int dc_admin_list(dc_admin_out *o, dc_log *log, const Dtx__V1__AdminList *req,
                  dc_admin_lookup_fn lookup, void *arg, int64_t now_unix_ms);

/* dc_admin_show answers req, an AdminShow (borrowed): tx (borrowed, must
 * outlive o's reply; NULL = load from the log) with its steps' payloads
 * and results cut to req's max_field_bytes, and its newest timeline lines
 * from log. DTX_ENOENT if unknown. */
int dc_admin_show(dc_admin_out *o, dc_log *log, const Dtx__V1__AdminShow *req,
                  const dc_tx *tx, const int64_t *next_retry_ms);

/* dc_admin_stats answers an AdminStats: the counts per mode and state,
 * tombstones and room from the log's counters (a log without them, read
 * offline, is counted with a scan), the rest from a scan of the non-final
 * transactions. */
int dc_admin_stats(dc_admin_out *o, dc_log *log, dc_admin_lookup_fn lookup,
                   void *arg);

/* A stats scan in chunks (dtxd runs each chunk as one reader job): the
 * first chunk reads the log's counters (per mode and state, tombstones,
 * room); the chunks then scan the non-final transactions (all of them in
 * a log without counters), each in its own read transaction, so the
 * counts are not one snapshot of the log but every transaction is counted
 * once. */
typedef struct dc_admin_stats_scan {
	bool counts_read; /* the first chunk read the log's counters */
	bool counted;     /* counts and total come from the log's counters */
	uint64_t counts[3][DC_TX_STATE_COUNT];
	uint64_t total, active, needs_operator, paused;
	uint64_t tombstones, pruned;
	dc_log_usage usage;
	char oldest[DTX_GID_MAX + 1];
	int64_t oldest_ms;
	dc_admin_lookup_fn lookup;
	void *arg;
	char after[DC_LOG_KEY_MAX + 1]; /* the cursor: last key counted */
	bool started;
	uint32_t chunk_seen, chunk_max;
} dc_admin_stats_scan;

/* dc_admin_stats_init starts a scan (lookup may be NULL; retained). */
void dc_admin_stats_init(dc_admin_stats_scan *ss, dc_admin_lookup_fn lookup,
                         void *arg);

/* dc_admin_stats_step counts the next max records (0: all the rest) into
 * ss; *ret_done is true once the scan reached the end. Errors: those of
 * dc_log_scan_checked (the scan cannot go on). */
int dc_admin_stats_step(dc_admin_stats_scan *ss, dc_log *log, uint32_t max,
                        bool *ret_done);

/* dc_admin_stats_fill puts ss's counts into o's reply. */
void dc_admin_stats_fill(dc_admin_out *o, const dc_admin_stats_scan *ss);

/* dc_admin_add_event appends one timeline line (strings copied). */
void dc_admin_add_event(dc_admin_out *o, uint64_t seq, const char *gid,
                        const dc_log_event *ev);

/* dc_admin_describe appends to o's transitions what changed from before to
 * after and to its calls the calls that out asks for (on after). */
void dc_admin_describe(dc_admin_out *o, const dc_tx *before, const dc_tx *after,
                       const dc_out *out);

/* dc_admin_add_line appends text (copied) to transitions (calls false) or
 * calls (calls true). */
void dc_admin_add_line(dc_admin_out *o, bool calls, const char *text);

/* One row of a shards reply (dtxctl shards); strings borrowed. */
typedef struct dc_admin_shard {
	uint32_t shard;
	Dtx__V1__ShardState state;
	const char *owner; /* "" none */
	uint64_t epoch;
	const char *client_url, *admin_url; /* "" unknown */
	int64_t since_unix_ms;              /* 0 unknown */
	bool since_is_lower_bound;
	bool beat_age_known;
	uint64_t beat_age_ms;
} dc_admin_shard;

/* dc_admin_add_shard appends row (strings copied) to o's shards. */
void dc_admin_add_shard(dc_admin_out *o, const dc_admin_shard *row);

/* dc_admin_set_instance names the instance that answers (copied). */
void dc_admin_set_instance(dc_admin_out *o, const char *name);

/* dc_admin_set_owner_admin puts the owner's admin URL (copied; NULL:
 * none) in a DTX_EMOVED reply. */
void dc_admin_set_owner_admin(dc_admin_out *o, const char *url);

/* dc_admin_shards_from_log answers AdminShards from log's lease and
 * heartbeat records (a stopped store: dtxctl --store): owner, epoch and
 * URLs as stored, OWNED or UNOWNED (nothing drains when nothing runs),
 * the heartbeat's age from the wall time its writer stored (against
 * now_unix_ms; unknown for a record without one), owned-since unknown (a
 * lease record holds no time: fences compare its bytes). Errors: DTX_EINVAL
 * (a log without shard leases), the log's (also put in the reply). */
int dc_admin_shards_from_log(dc_admin_out *o, dc_log *log, int64_t now_unix_ms);

/* dc_admin_shadow makes *copy a copy of tx that a machine may run on: the
 * steps array is new (free it with dc_admin_shadow_fini), every string is
 * borrowed from tx. Errors: DTX_ENOMEM. */
int dc_admin_shadow(const dc_tx *tx, dc_tx *copy);
void dc_admin_shadow_fini(dc_tx *copy);

#endif
