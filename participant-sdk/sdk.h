/*
 * sdk.h - libdtx internals shared by the SDK's modules (not installed).
 *
 * Every name here starts with sdk_ so that the dtx_* export list
 * (libdtx.sym) can never publish it. Nothing here includes nng: modules that
 * talk to nng (participant.c, client.c) include it themselves, and only
 * util.c compares nng's error codes.
 *
 * Module map:
 *   util.c         - log callback, nng error translation, string helpers,
 *                    bounded nng_close
 *   call.c         - dtx_call: one decoded branch call + its reply buffers
 *   participant.c  - the rep0 server: work-item pool, worker threads
 *   store_api.c    - dtx_store / dtx_txn of either backend: the public
 *                    store calls, dispatched through barrier_store.h
 *   store.c        - the LMDB backend (libdtx-lmdb, the only <lmdb.h>
 *                    user)
 *   barrier_lmdb.c - the barrier's records in an LMDB store (libdtx-lmdb)
 *   store_pg.c     - the PostgreSQL backend (libdtx-pg, the only libpq
 *                    user)
 *   barrier.c      - exactly-once branch calls on top of a store
 *   barrier_gc.c   - removing the barrier records of final transactions
 *   saga_builder.c - dtx_saga: steps kept in their wire (SubmitSaga) form
 *   client.c       - the req0 client: one context + aio per request
 *   link.c         - a req0 socket that stays connected (link.h)
 *   route.c        - which coordinator a client request goes to: the
 *                    coordinators' links, shard -> owner (route.h)
 *   tcc.c          - dtx_tcc (coordinator-run TCC) and dtx_tcc_tx
 *                    (initiator-driven TCC: register, Try, commit/abort)
 */
#ifndef DTX_SDK_H
#define DTX_SDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dtx/dtx.h"
#include "tlsconf.h"
#include "wire.h"

/* SDK_PRIVATE marks the few internals libdtx exports for its backends
 * only (libdtx-pg, libdtx-lmdb), in the version node DTX_PRIVATE_0 of
 * libdtx.sym (no stable ABI: a backend works with the libdtx of its own
 * build). */
#define SDK_PRIVATE __attribute__((visibility("default")))

/* ---- util.c ------------------------------------------------------------ */

/* sdk_logf formats one diagnostic line (truncated to 512 bytes) and hands it
 * to the callback installed with dtx_set_log_cb, if any. fmt is borrowed.
 * Thread-safe as far as the callback is. */
SDK_PRIVATE void sdk_logf(dtx_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* sdk_log_about is sdk_logf for a line about a transaction or a call:
 * about's fields (borrowed; its level and msg are ignored) go to the
 * record callback as they are, or to the line callback as text after the
 * line (dtx.h, dtx_set_log_cb). */
void sdk_log_about(dtx_log_level level, const dtx_log_record *about,
                   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* sdk_err_from_nng translates an nng result code (0 or a positive NNG_E*)
 * into a dtx_err. The only function of libdtx that knows NNG_E* values. */
int sdk_err_from_nng(int nng_rv);

/* sdk_tls_load reads and checks the TLS files of o (borrowed; NULL: no
 * TLS) for url (borrowed) into *ret_cfg (owned by the caller; NULL when o
 * is NULL); server is true for a participant's listener. who names the
 * caller in the log ("participant", "client"). Errors: DTX_EINVAL (bad
 * settings or files, or a tls+tcp:// url without o: logged, naming the
 * dtx_tls_opts field and the file), DTX_ENOMEM. */
int sdk_tls_load(const dtx_tls_opts *o, bool server, const char *who,
                 const char *url, nng_tls_config **ret_cfg);

/* sdk_tls_free frees a configuration of sdk_tls_load. Accepts NULL. */
void sdk_tls_free(nng_tls_config *cfg);

/* sdk_close_bounded runs nng_close(sock) on a thread of its own and waits
 * for it at most ms. Returns true once the socket is closed; false if
 * nng_close did not return in time (nng 1.5.2's stuck reaper, see
 * link.c): the thread then stays blocked and the caller must leave every
 * object nng may still reach (the socket's aios and callback arguments)
 * to the process. sock is an nng_socket's id (sdk.h does not include
 * nng). */
#define sdk_close_bounded(sock, ms) sdk_close_bounded_id((sock).id, (ms))
bool sdk_close_bounded_id(uint32_t sock_id, unsigned ms);

/* sdk_strlcpy copies src (borrowed; NULL copies "") into dst (borrowed, cap
 * bytes, cap >= 1), truncating, always NUL-terminating. */
SDK_PRIVATE void sdk_strlcpy(char *dst, size_t cap, const char *src);

/* sdk_text_copy copies src (borrowed, NUL-terminated) into dst (borrowed,
 * cap >= 1 bytes) as a string fit for a protobuf `string` field: truncated
 * on a UTF-8 character boundary to at most cap - 1 bytes, and with every
 * byte of an invalid UTF-8 text outside ASCII replaced by '?'. Returns the
 * length written. */
size_t sdk_text_copy(char *dst, size_t cap, const char *src);

/* ---- metrics.c --------------------------------------------------------- */

#define SDK_LAT_N 14 /* request latency buckets (then +Inf) */

/* sdk_lat_le_us: the upper bounds of the request latency buckets, in
 * microseconds (0.5 ms .. 10 s), rising. */
extern const uint64_t sdk_lat_le_us[SDK_LAT_N];

/* sdk_client_latency copies client's latency bucket counts (SDK_LAT_N + 1,
 * not cumulative; the last is +Inf) into ret_counts. Thread-safe. */
void sdk_client_latency(const dtx_client *client, uint64_t *ret_counts);

/* ---- call.c ------------------------------------------------------------ */

/* struct dtx_call - one branch call as a handler sees it. A worker thread
 * owns one and reuses it (and its buffers) for every call it serves. */
struct dtx_call {
	const Dtx__V1__BranchCall *msg; /* borrowed while the handler runs */
	char *message;                  /* owned; NUL-terminated; may be NULL */
	size_t message_len;
	size_t message_cap;
	uint8_t *result; /* owned; may be NULL */
	size_t result_len;
	size_t result_cap;
	size_t result_max; /* largest result accepted (from max_msg_bytes) */
	dtx_txn *txn;      /* borrowed while the handler runs; NULL: no store */
	bool unknown_handler; /* the answer's cause: no such handler here */
	/* msg's traceparent if valid (borrowed from msg), else NULL; its
	 * trace-id and parent-id in hex ("" without) */
	const char *traceparent;
	bool trace_invalid; /* msg had one, and it is not valid */
	char trace_id[33];
	char span_id[17];
};

/* sdk_call_init prepares call (caller-owned memory) with no buffers;
 * result_max bounds dtx_call_set_result. sdk_call_fini frees the buffers. */
void sdk_call_init(dtx_call *call, size_t result_max);
void sdk_call_fini(dtx_call *call);

/* sdk_call_begin starts a new call on call: msg is borrowed until
 * sdk_call_end; message and result are reset to empty. msg may be NULL for a
 * call that failed to decode (the getters then return empty values). */
void sdk_call_begin(dtx_call *call, const Dtx__V1__BranchCall *msg);
void sdk_call_end(dtx_call *call);

/* sdk_call_about fills *ret_about with what call is about (for
 * sdk_log_about; strings borrowed from call). */
void sdk_call_about(const dtx_call *call, dtx_log_record *ret_about);

/* sdk_call_reset empties the reply message and result of call. */
void sdk_call_reset(dtx_call *call);

/* sdk_call_set_reply sets the reply message (msg, mlen bytes, not
 * NUL-terminated, valid UTF-8) and result (res, rlen bytes) from a stored
 * record; both are borrowed and copied. Errors: DTX_ETOOBIG (message past
 * WIRE_MESSAGE_MAX or result past result_max), DTX_ENOMEM. */
int sdk_call_set_reply(dtx_call *call, const void *msg, size_t mlen,
                       const void *res, size_t rlen);

/* sdk_call_set_text sets the reply message from SDK-made text (borrowed),
 * made safe with sdk_text_copy and truncated to WIRE_MESSAGE_MAX bytes.
 * Errors: DTX_ENOMEM. */
int sdk_call_set_text(dtx_call *call, const char *text);

/* sdk_call_reply fills *ret_reply (caller-owned, already initialised with
 * DTX__V1__BRANCH_REPLY__INIT) for status; its pointers borrow call's
 * buffers and stay valid until the next change to call. */
void sdk_call_reply(dtx_call *call, dtx_status status,
                    Dtx__V1__BranchReply *ret_reply);

/* ---- store_api.c: a store of either backend (barrier_store.h) -------- */

#include "barrier_store.h"

/* The LMDB map a store starts with unless opts say (dtx_store_opts). */
#define SDK_MAP_SIZE_DEFAULT ((size_t)256 << 20)

/* sdk_store_enter brackets a thread's use of store (ops->enter; LMDB: its
 * shared grow lock, never taken twice on one thread) and returns what
 * sdk_store_grow needs; sdk_store_leave ends it. */
size_t sdk_store_enter(dtx_store *store);
void sdk_store_leave(dtx_store *store);

/* sdk_store_grow makes room after a transaction came back with map_full
 * (LMDB: doubles the map unless another thread already changed it from
 * seen). Must be called outside sdk_store_enter. Errors: DTX_ELIMIT (no
 * bigger size, or a backend that cannot grow), DTX_ENOMEM, DTX_EIO. */
int sdk_store_grow(dtx_store *store, size_t seen);

/* sdk_store_dir returns the store's directory or URI (for diagnostics). */
const char *sdk_store_dir(const dtx_store *store);
bool sdk_store_is_read_only(const dtx_store *store);

/* sdk_txn_begin begins a transaction of store (inside sdk_store_enter) in
 * *ret_txn (caller-owned memory): read-only, or a write transaction nested
 * in parent (borrowed; NULL for a top-level one). While a child is open the
 * parent may only be ended. Errors: DTX_ELIMIT (the map must be grown
 * first), DTX_EBUSY (no reader slot or connection), DTX_EINVAL (write on a
 * read-only store), DTX_EIO, DTX_ENOMEM. */
int sdk_txn_begin(dtx_store *store, dtx_txn *parent, bool read_only,
                  dtx_txn *ret_txn);

/* sdk_txn_commit commits txn (a child into its parent, a top-level one
 * durably); txn is ended even when it fails. Errors: DTX_ELIMIT (grow and
 * rerun), DTX_EIO, DTX_ENOSPC, DTX_ENOMEM. */
int sdk_txn_commit(dtx_txn *txn);

/* sdk_txn_abort ends txn, discarding its writes; accepts an ended txn. */
void sdk_txn_abort(dtx_txn *txn);

/* sdk_store_gc_claim takes store's GC slot (one barrier GC pass runs at a
 * time per store) and stores its cursor in *ret_cursor (borrowed; the
 * holder of the slot may read and write it until sdk_store_gc_release).
 * Thread-safe. Errors: DTX_EBUSY (another pass holds the slot). */
int sdk_store_gc_claim(dtx_store *store, sdk_gc_cursor **ret_cursor);
void sdk_store_gc_release(dtx_store *store);

/* ---- store.c: the LMDB backend's tables (for barrier_lmdb.c) ---------- */

/* The barrier's table inside an LMDB store; the service's tables follow it
 * (index 1..ntables). Only SDK code may address a table by index. */
#define SDK_TABLE_BARRIER 0u

/* sdk_txn_get_at, sdk_txn_scan_at: dtx_txn_get and dtx_txn_scan on the
 * table of index t of an LMDB store. */
int sdk_txn_get_at(dtx_txn *txn, unsigned t, const void *key, size_t klen,
                   const void **ret_val, size_t *ret_len);
int sdk_txn_scan_at(dtx_txn *txn, unsigned t, const void *prefix, size_t plen,
                    dtx_scan_fn fn, void *arg);

/* sdk_txn_scan_from_at calls fn for each key of table t from the first key
 * >= from (flen bytes, borrowed; flen 0: the first key) to the end, in key
 * order. Returns fn's first non-OK value, or DTX_EINVAL / DTX_EIO. */
int sdk_txn_scan_from_at(dtx_txn *txn, unsigned t, const void *from,
                         size_t flen, dtx_scan_fn fn, void *arg);

/* sdk_txn_del_prefix_at deletes every key of table t that starts with
 * prefix (plen bytes, borrowed) in the write transaction txn and stores how
 * many in *ret_n. Errors: DTX_EINVAL (read-only txn, bad prefix length),
 * DTX_ELIMIT (the map is full: grow and rerun), DTX_EIO. */
int sdk_txn_del_prefix_at(dtx_txn *txn, unsigned t, const void *prefix,
                          size_t plen, size_t *ret_n);

/* sdk_txn_reserve_at makes key (borrowed, copied) of table t hold vlen
 * bytes and stores in *ret_buf where to write them (valid until the next
 * write of txn). Errors as dtx_txn_put. */
int sdk_txn_reserve_at(dtx_txn *txn, unsigned t, const void *key, size_t klen,
                       size_t vlen, void **ret_buf);

/* ---- barrier_lmdb.c ---------------------------------------------------- */

/* The barrier's records in an LMDB store (the rec_* operations of
 * store.c's ops table; see barrier_store.h). */
int sdk_lmdb_rec_get(dtx_txn *txn, const char *gid, uint32_t branch, dtx_op op,
                     sdk_rec *ret_rec);
int sdk_lmdb_rec_put(dtx_txn *txn, const char *gid, uint32_t branch, dtx_op op,
                     const sdk_rec *rec);
int sdk_lmdb_rec_scan(dtx_txn *txn, dtx_barrier_fn fn, void *arg);
int sdk_lmdb_rec_gids(dtx_txn *txn, const char *after, sdk_gid_fn fn,
                      void *arg);
int sdk_lmdb_rec_del_gid(dtx_txn *txn, const char *gid, size_t *ret_n);

/* ---- barrier.c --------------------------------------------------------- */

/* sdk_outcome - what the barrier did with one call (participant stats). */
typedef enum sdk_outcome {
	SDK_OUT_APPLIED,      /* handler ran; OK or FAIL recorded */
	SDK_OUT_REPLAYED,     /* answered from the call's record */
	SDK_OUT_NULL_COMP,    /* compensate/cancel recorded without a handler */
	SDK_OUT_LATE_REFUSED, /* action/try after its compensate/cancel, or
	                         past its deadline */
	SDK_OUT_RETRY,        /* handler answered RETRY (or FAIL where it
	                         may not): nothing recorded */
	SDK_OUT_NOT_READY,    /* confirm before its try was recorded OK */
	SDK_OUT_CONFLICT,     /* confirm after cancel, or cancel after
	                         confirm: RETRY, nothing recorded */
	SDK_OUT_STORE_FAILED, /* the store failed: RETRY, nothing recorded */
	SDK_OUT_COUNT
} sdk_outcome;

#define SDK_GROUP_MAX 256 /* calls in one group commit */

/* sdk_barrier_item - one call of a group: call (borrowed, decoded, for a
 * known handler), its handler run(arg, call); status and out are filled
 * by sdk_barrier_serve_group. */
typedef struct sdk_barrier_item {
	dtx_call *call;
	dtx_handler_fn run;
	void *arg;             /* borrowed: run's argument */
	unsigned tolerance_ms; /* added to the call's deadline (clock skew) */
	dtx_status status;
	sdk_outcome out;
} sdk_barrier_item;

/* sdk_barrier_serve_group serves n (1..SDK_GROUP_MAX) calls through the
 * barrier of store (borrowed, writable) in one durable commit: each call
 * in its own nested transaction (a refusal or failure drops only its
 * writes), each handler nested once more. Fills every call's reply,
 * status and out; none may be answered before this returns. If the group
 * commit fails, every call answers RETRY and nothing is recorded. Runs on
 * a worker thread; LMDB serialises the groups of several workers.
 * Returns true if the group was committed (it wrote something). */
bool sdk_barrier_serve_group(dtx_store *store, sdk_barrier_item *items,
                             size_t n);

/* sdk_barrier_serve serves call (borrowed, decoded, for a known handler)
 * through the barrier of store (borrowed, writable): run(arg, call) is the
 * handler, called at most twice (a full map reruns it), with call->txn set
 * to the call's nested write transaction. Fills call's reply, stores what
 * happened in *ret_out and returns the status to answer. Runs on a worker
 * thread; many run at once (LMDB serialises their write transactions). */
dtx_status sdk_barrier_serve(dtx_store *store, dtx_call *call,
                             dtx_handler_fn run, void *arg,
                             sdk_outcome *ret_out);

/* ---- barrier_gc.c ------------------------------------------------------ */

/* sdk_gc - a participant's barrier GC thread and its coordinator client. */
typedef struct sdk_gc sdk_gc;

/* sdk_gc_create prepares a GC thread that asks the coordinator at url
 * (borrowed, copied) every interval_ms and removes records final for
 * grace_ms (0 takes the DTX_BARRIER_GC_*_DEFAULT values). Opens the client
 * (it connects lazily), with tls (borrowed; NULL: none) for a tls+tcp://
 * url. Errors: those of dtx_client_open, DTX_ENOMEM. */
int sdk_gc_create(const char *url, const dtx_tls_opts *tls, unsigned grace_ms,
                  unsigned interval_ms, sdk_gc **ret_gc);

/* sdk_gc_start starts the thread on store (borrowed, writable) with who
 * (borrowed, for diagnostics); both must stay valid until sdk_gc_stop.
 * The first pass runs one interval after the start. Errors: DTX_ENOMEM. */
int sdk_gc_start(sdk_gc *gc, dtx_store *store, const char *who);

/* sdk_gc_stop stops the thread and waits for it: at most the time a pass
 * takes (a coordinator query is bounded by 5 s). Accepts NULL and a gc
 * that is not running. sdk_gc_destroy stops and frees; accepts NULL. */
void sdk_gc_stop(sdk_gc *gc);
void sdk_gc_destroy(sdk_gc *gc);

/* sdk_gc_get_stats reads records removed and sweeps that failed (gc may be
 * NULL: zeros). Thread-safe. */
void sdk_gc_get_stats(const sdk_gc *gc, uint64_t *ret_removed,
                      uint64_t *ret_failures);

/* ---- saga_builder.c ---------------------------------------------------- */

/* sdk_saga_view fills *ret_msg (caller-owned) with saga's SubmitSaga form.
 * Its pointers borrow saga's memory: valid until saga changes or is
 * destroyed. Nothing in it may be written through. */
void sdk_saga_view(const dtx_saga *saga, Dtx__V1__SubmitSaga *ret_msg);

/* sdk_saga_nsteps returns the number of steps added so far. */
size_t sdk_saga_nsteps(const dtx_saga *saga);

/* sdk_tags - a transaction's business key and labels as an initiator
 * builds them (dtx_saga_set_key...): owned strings, checked on entry
 * (wire.c's rules, the coordinator checks them again). */
typedef struct sdk_tags {
	char *key;     /* NULL = none */
	char **labels; /* n owned "name=value" strings */
	size_t n;
	char *traceparent; /* NULL = none; a valid W3C one (trace.h) */
} sdk_tags;

/* sdk_tags_set_key / sdk_tags_add_label: see dtx_saga_set_key and
 * dtx_saga_add_label (their errors). sdk_tags_fini frees t's strings. */
int sdk_tags_set_key(sdk_tags *t, const char *key);
int sdk_tags_add_label(sdk_tags *t, const char *name, const char *value);
/* sdk_tags_set_traceparent: see dtx_saga_set_traceparent. */
int sdk_tags_set_traceparent(sdk_tags *t, const char *traceparent);
void sdk_tags_fini(sdk_tags *t);

/* sdk_check_name validates a gid or handler name (borrowed) of at most max
 * bytes with the coordinator's rules. Errors: DTX_EINVAL, DTX_ETOOBIG. */
int sdk_check_name(const char *name, size_t max);

/* sdk_check_url validates a participant URL (borrowed) with the
 * coordinator's rules (wire_url_check). Errors: DTX_EINVAL, DTX_ETOOBIG. */
int sdk_check_url(const char *url);

/* ---- client.c (internal requests) -------------------------------------- */

/* sdk_reply_fn receives a whole validated reply (borrowed for the call;
 * NULL when err is not DTX_OK). Runs on an nng thread. */
typedef void (*sdk_reply_fn)(void *arg, int err,
                             const Dtx__V1__ClientReply *rep);

/* sdk_client_send sets req's (borrowed; packed before return) version and
 * wait_ms and sends it; done runs as for dtx_client_submit_async. */
int sdk_client_send(dtx_client *c, Dtx__V1__ClientRequest *req,
                    unsigned wait_ms, dtx_done_fn done, void *arg);

/* sdk_client_send_raw is sdk_client_send for replies that carry no
 * transaction: raw receives the reply itself (its code unchecked). */
int sdk_client_send_raw(dtx_client *c, Dtx__V1__ClientRequest *req,
                        sdk_reply_fn raw, void *arg);

/* sdk_client_call is the blocking form of sdk_client_send. */
int sdk_client_call(dtx_client *c, Dtx__V1__ClientRequest *req,
                    unsigned wait_ms, dtx_tx_info *ret_info);

/* sdk_client_branch_call sends call (borrowed) to the participant at url
 * (borrowed; its socket is dialled on first use and kept) and waits up to
 * timeout_ms for the answer, transferred to the caller in *ret_reply (free
 * with wire_branch_reply_free). Blocking. Errors: DTX_ETIMEDOUT,
 * DTX_EUNREACHABLE, DTX_EPROTO, DTX_ETOOBIG, DTX_ELIMIT (too many
 * participant URLs), DTX_ECLOSED, DTX_ENOMEM. */
int sdk_client_branch_call(dtx_client *c, const char *url,
                           const Dtx__V1__BranchCall *call, unsigned timeout_ms,
                           Dtx__V1__BranchReply **ret_reply);

#endif
