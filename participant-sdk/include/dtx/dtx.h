/*
 * dtx.h - the public API of libdtx, the dtx participant and client SDK.
 *
 * libdtx lets a service take part in dtx global transactions:
 *
 *   - a *participant* serves named branch handlers (a saga step's action and
 *     compensation, e.g. "inventory.deduct" / "inventory.restock") on an nng
 *     URL; the coordinator calls them;
 *   - an *initiator* (client) submits a saga to the coordinator and waits for
 *     its outcome, or polls it.
 *
 * Conventions for every function in this header:
 *
 *   - Functions that can fail return an int: DTX_OK (0) or a dtx_err code.
 *     Out-parameters come last, are named ret_*, and are written only on
 *     success.
 *   - Pointer parameters are *borrowed* (valid only during the call) unless
 *     the function's paragraph says *retained* (must outlive the object) or
 *     *transferred* (the callee owns it on success).
 *   - Destructors accept NULL.
 *   - The library never prints. Diagnostics go to the callback installed with
 *     dtx_set_log_cb(); by default they are dropped.
 *   - Asynchronous calls: if the call returns an error, its callback never
 *     runs; if it returns DTX_OK, the callback runs exactly once, also on
 *     cancellation or shutdown.
 */
#ifndef DTX_DTX_H
#define DTX_DTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define DTX_API __attribute__((visibility("default")))
#else
#define DTX_API
#endif

#define DTX_VERSION_MAJOR 0
#define DTX_VERSION_MINOR 1
#define DTX_VERSION_PATCH 0

/* ---- errors ------------------------------------------------------------ */

/* dtx_err - the one error enum of the project. Values are permanent (they
 * travel on the wire as dtx.v1.Code). */
typedef enum dtx_err {
	DTX_OK = 0,        /* success */
	DTX_EINVAL = 1,    /* invalid argument or malformed request */
	DTX_ENOMEM = 2,    /* out of memory */
	DTX_ENOENT = 3,    /* no such transaction, handler or record */
	DTX_ETIMEDOUT = 4, /* the deadline passed before an answer came */
	DTX_ECLOSED = 5,   /* the object or connection is closed */
	DTX_EPROTO = 6,    /* the peer sent something that is not dtx v1 */
	DTX_ETOOBIG = 7,   /* a message, name or payload exceeds its limit */
	DTX_ELIMIT = 8,    /* a configured resource limit was reached */
	DTX_EIO = 9,       /* an I/O error on durable storage */
	DTX_ENOSPC = 10,   /* no space left on durable storage */
	DTX_ECORRUPT = 11, /* a stored record failed its checks */
	DTX_EUNREACHABLE = 12, /* the peer cannot be reached */
	DTX_EBUSY = 13,        /* overloaded or in use: try again later */
	DTX_EVERSION = 14,     /* unsupported protocol or format version */
	DTX_EINTERNAL = 15,    /* a bug: an invariant did not hold */
	DTX_ECONFLICT = 16,    /* the gid names a different transaction (or,
	                          in dtxd, a store's conditional write or
	                          recorded setting disagrees) */
	DTX_EMOVED = 17,       /* not this coordinator's shard: ask its owner */
	DTX_EPERM = 18,        /* refused: the peer may not do this (dtxd's
	                          admin allow lists) */
	DTX_ERR_COUNT
} dtx_err;

/* dtx_strerror returns a static, human-readable description of err. Unknown
 * values give "unknown error". Thread-safe. */
DTX_API const char *dtx_strerror(int err);

/* ---- limits (defaults; the coordinator's are configurable) ------------- */

#define DTX_GID_MAX         128 /* bytes; [A-Za-z0-9._:-] only */
#define DTX_HANDLER_MAX     128 /* bytes of a handler name; same charset */
#define DTX_URL_MAX         256 /* bytes of a participant URL */
#define DTX_KEY_MAX         128 /* bytes of a business key (UTF-8) */
#define DTX_LABELS_MAX      16  /* labels per transaction */
#define DTX_LABEL_MAX       256 /* bytes of one label, "name=value" */
#define DTX_TRACEPARENT_LEN 55  /* bytes of a W3C traceparent, version 00 */
#define DTX_MSG_MAX_DEFAULT (1u << 20) /* largest message a socket accepts */

/* ---- logging ----------------------------------------------------------- */

typedef enum dtx_log_level {
	DTX_LOG_ERROR = 0,
	DTX_LOG_WARN = 1,
	DTX_LOG_INFO = 2,
	DTX_LOG_DEBUG = 3,
} dtx_log_level;

/* dtx_log_cb receives one diagnostic line (no trailing newline). msg is
 * borrowed. It may run on any libdtx thread, concurrently. */
typedef void (*dtx_log_cb)(void *arg, dtx_log_level level, const char *msg);

/* dtx_set_log_cb installs the process-wide diagnostic callback (NULL drops
 * diagnostics, the default). arg is retained. Call it before creating
 * objects; it is not synchronised against running threads. A line about a
 * transaction ends with the fields of its dtx_log_record as text:
 * " gid=G branch=N op=OP handler=H trace_id=T span_id=S" (those known). */
DTX_API void dtx_set_log_cb(dtx_log_cb cb, void *arg);

/* dtx_log_record - one diagnostic with what it is about, each field
 * borrowed for the callback's duration and absent as NULL / -1 / 0. */
typedef struct dtx_log_record {
	dtx_log_level level;
	const char *msg;      /* the line, without the fields below */
	const char *gid;      /* the transaction it is about */
	int64_t branch;       /* its branch; -1: none */
	int op;               /* a dtx_op: the call's; 0: none */
	const char *handler;  /* the call's handler */
	const char *trace_id; /* W3C trace-id, 32 lowercase hex digits */
	const char *span_id;  /* the call's span as the coordinator sent it
	                         (its traceparent's parent-id), 16 hex */
} dtx_log_record;

/* dtx_log_record_cb receives one diagnostic as a record (rec borrowed).
 * It may run on any libdtx thread, concurrently. */
typedef void (*dtx_log_record_cb)(void *arg, const dtx_log_record *rec);

/* dtx_set_log_record_cb installs a process-wide callback that gets each
 * diagnostic as a record, for a service that logs JSON or to journald
 * (NULL: none, the default). It replaces dtx_set_log_cb's callback while
 * set. arg is retained. Same rules as dtx_set_log_cb. */
DTX_API void dtx_set_log_record_cb(dtx_log_record_cb cb, void *arg);

/* dtx_set_log_level drops diagnostics above level before they are
 * formatted (the default: DTX_LOG_DEBUG, every one). Per-call lines are
 * DTX_LOG_DEBUG: a busy participant formats none below it. Thread-safe. */
DTX_API void dtx_set_log_level(dtx_log_level level);

/* ---- shared enums ------------------------------------------------------ */

/* Operations a participant serves (values equal dtx.v1.Op). */
typedef enum dtx_op {
	DTX_OP_ACTION = 1,
	DTX_OP_COMPENSATE = 2,
	DTX_OP_TRY = 3,
	DTX_OP_CONFIRM = 4,
	DTX_OP_CANCEL = 5,
} dtx_op;

/* A handler's answer (values equal dtx.v1.BranchStatus). */
typedef enum dtx_status {
	DTX_STATUS_OK = 1,   /* done; a repeat of the call must answer OK too */
	DTX_STATUS_FAIL = 2, /* business refusal, no effect (action/try only) */
	DTX_STATUS_RETRY = 3, /* transient: the coordinator calls again later */
} dtx_status;

/* Global transaction states (values equal dtx.v1.TxState). */
typedef enum dtx_tx_state {
	DTX_TX_RUNNING = 1,
	DTX_TX_COMPENSATING = 2,
	DTX_TX_COMMITTED = 3,   /* final */
	DTX_TX_COMPENSATED = 4, /* final: rolled back */
	/* TCC: a TCC transaction is RUNNING while its Tries are made. */
	DTX_TX_CONFIRMING = 5, /* every branch is being confirmed */
	DTX_TX_CANCELLING = 6, /* every branch is being cancelled */
	DTX_TX_CANCELLED = 7,  /* final: every branch cancelled */
} dtx_tx_state;

/* Step states (values equal dtx.v1.StepState). */
typedef enum dtx_step_state {
	DTX_STEP_PENDING = 1,
	DTX_STEP_ACTING = 2,
	DTX_STEP_DONE = 3,
	DTX_STEP_FAILED = 4,
	DTX_STEP_COMPENSATING = 5,
	DTX_STEP_COMPENSATED = 6,
	/* TCC branches. */
	DTX_STEP_TRYING = 7,     /* registered; its Try may be in flight */
	DTX_STEP_TRIED = 8,      /* Try answered OK (coordinator-run Tries) */
	DTX_STEP_CONFIRMING = 9, /* Confirm logged as started */
	DTX_STEP_CONFIRMED = 10,
	DTX_STEP_CANCELLING = 11, /* Cancel logged as started */
	DTX_STEP_CANCELLED = 12,
} dtx_step_state;

/* dtx_tx_state_name / dtx_step_state_name / dtx_op_name return a static
 * lowercase name ("committed", "compensating", "action", ...) or "unknown". */
DTX_API const char *dtx_tx_state_name(int state);
DTX_API const char *dtx_step_state_name(int state);
DTX_API const char *dtx_op_name(int op);

/* dtx_tx_state_is_final returns true for COMMITTED, COMPENSATED and
 * CANCELLED. */
DTX_API bool dtx_tx_state_is_final(int state);

/* ---- participant ------------------------------------------------------- */

/* dtx_call - one incoming branch call, valid only inside the handler it is
 * passed to. All getters return borrowed pointers valid for that time. */
typedef struct dtx_call dtx_call;

DTX_API const char *dtx_call_gid(const dtx_call *call);
DTX_API uint32_t dtx_call_branch(const dtx_call *call);
DTX_API dtx_op dtx_call_op(const dtx_call *call);
DTX_API const char *dtx_call_handler(const dtx_call *call);
/* dtx_call_attempt returns 1 for the first call, and counts resends. */
DTX_API uint32_t dtx_call_attempt(const dtx_call *call);
/* dtx_call_deadline_unix_ms returns the time (wall clock, unix ms, the
 * coordinator's clock) after which this branch's action/try must not take
 * effect, or 0 when the call carries none (an older coordinator). With a
 * store, an action/try past it is refused before its handler runs (see
 * the barrier below). */
DTX_API int64_t dtx_call_deadline_unix_ms(const dtx_call *call);
/* dtx_call_traceparent returns the call's W3C traceparent (version 00,
 * DTX_TRACEPARENT_LEN bytes; borrowed, valid during the handler), or NULL
 * if the transaction has none. Its trace-id is the one the initiator
 * gave (dtx_saga_set_traceparent); its parent-id is the span of the
 * coordinator's call of this branch op - the same for every attempt of
 * it (dtx_call_attempt counts them) - so a handler's span is its child.
 * A traceparent that is not valid is not given (NULL: W3C's rule for a
 * receiver; the call is served) and logged as a warning. */
DTX_API const char *dtx_call_traceparent(const dtx_call *call);
/* dtx_call_payload returns the payload (may be NULL when its length is 0) and
 * stores its length in *ret_len. */
DTX_API const void *dtx_call_payload(const dtx_call *call, size_t *ret_len);

/* dtx_call_set_message sets the reply's message (copied; e.g. "out of
 * stock"). Returns DTX_EINVAL on NULL or invalid UTF-8, DTX_ETOOBIG past
 * 1024 bytes, DTX_ENOMEM. */
DTX_API int dtx_call_set_message(dtx_call *call, const char *msg);

/* dtx_call_set_result sets the reply's result bytes (copied). Returns
 * DTX_EINVAL (NULL data with len > 0), DTX_ETOOBIG past the participant's
 * message limit (max_msg_bytes less 1088 bytes for the rest of the reply),
 * DTX_ENOMEM. */
DTX_API int dtx_call_set_result(dtx_call *call, const void *data, size_t len);

/* dtx_handler_fn serves one call. It runs on one of the participant's worker
 * threads, may block (e.g. on a database), and must be safe to run
 * concurrently with other calls. arg is the pointer given at registration.
 * The coordinator delivers a call at least once: the handler must make a
 * repeat harmless (the same gid/branch/op answered the same). */
typedef dtx_status (*dtx_handler_fn)(void *arg, dtx_call *call);

/* ---- TLS --------------------------------------------------------------- */

/*
 * dtx_tls_opts - mutual TLS for tls+tcp:// URLs (nng's TLS: mbedTLS, TLS
 * 1.2). A participant listening on tls+tcp:// serves with cert_file and
 * key_file and, with require_client_cert, lets in only callers (dtxd, an
 * initiator's Tries) whose certificate chains to ca_file. A client dials
 * tls+tcp:// coordinators and participants with cert_file/key_file as its
 * certificate (optional: a server may not ask for one) and accepts only
 * servers whose certificate chains to ca_file (required). Peers are
 * checked by their chain to ca_file only, not by name (nng 1.5.2 cannot
 * show a peer's name): give dtx a CA of its own.
 *
 * The files (PEM; a certificate file may hold its chain after it) are
 * read when the participant or client is made, and checked: a file that
 * cannot be read or parsed, a key that does not match its certificate, a
 * certificate past its end date, or a setting missing for a tls+tcp://
 * URL makes dtx_participant_create/dtx_client_open fail DTX_EINVAL, and
 * the log callback names the field and the file. Strings borrowed (read
 * during the call).
 */
typedef struct dtx_tls_opts {
	const char *cert_file;      /* this side's certificate, or NULL */
	const char *key_file;       /* its private key, or NULL */
	const char *key_passphrase; /* of an encrypted key_file, or NULL */
	const char *ca_file;      /* CA bundle the peer's certificate must chain
	                             to (client: required; participant: with
	                             require_client_cert) */
	bool require_client_cert; /* participant: refuse a caller without a
	                             certificate of ca_file; default true */
} dtx_tls_opts;

/* dtx_tls_opts_init fills opts with defaults (no files; client
 * certificates required). */
DTX_API void dtx_tls_opts_init(dtx_tls_opts *opts);

/* ---- participant (continued) ------------------------------------------- */

typedef struct dtx_participant dtx_participant;

typedef struct dtx_participant_opts {
	const char *url;      /* where to listen, e.g. "tcp://127.0.0.1:7001" */
	unsigned workers;     /* handler threads; default 4 */
	unsigned contexts;    /* calls received concurrently; default 64 */
	size_t max_msg_bytes; /* receive limit; default DTX_MSG_MAX_DEFAULT */
	/* TLS for a tls+tcp:// url (borrowed; read by create); NULL: none,
	 * and a tls+tcp:// url is refused */
	const dtx_tls_opts *tls;
} dtx_participant_opts;

/* dtx_participant_opts_init fills opts with defaults (url NULL). */
DTX_API void dtx_participant_opts_init(dtx_participant_opts *opts);

/* dtx_participant_create makes a participant that will serve on opts->url
 * (copied). Nothing listens until dtx_participant_start. Errors: DTX_EINVAL
 * (NULL or bad option; bad TLS settings or files, see dtx_tls_opts),
 * DTX_ENOMEM. */
DTX_API int dtx_participant_create(const dtx_participant_opts *opts,
                                   dtx_participant **ret_part);

/* dtx_participant_register binds handler name (copied) to fn; arg is
 * retained. Only before start. Errors: DTX_EINVAL (bad name, NULL fn, already
 * started), DTX_ETOOBIG (name too long), DTX_ELIMIT (duplicate name),
 * DTX_ENOMEM. */
DTX_API int dtx_participant_register(dtx_participant *part, const char *name,
                                     dtx_handler_fn fn, void *arg);

/* dtx_participant_start listens on the URL and starts the workers. Calls for
 * unknown handlers are answered FAIL with "unknown handler"; malformed or
 * oversized messages are dropped and logged. Errors: DTX_EINVAL (already
 * started or bad URL), DTX_EUNREACHABLE (cannot listen), DTX_ENOMEM. */
DTX_API int dtx_participant_start(dtx_participant *part);

/* DTX_DEADLINE_TOLERANCE_MS_DEFAULT: the clock skew a participant allows
 * between the coordinator and itself when it judges a call's deadline. */
#define DTX_DEADLINE_TOLERANCE_MS_DEFAULT 5000u

/* dtx_participant_set_deadline_tolerance sets how far this host's wall
 * clock may be ahead of the coordinator's (default 5 s): with a store, an
 * action/try is refused once its deadline (dtx_call_deadline_unix_ms) plus
 * tolerance_ms has passed by this host's clock, and the barrier records a
 * call writes are kept (GC) at least until its deadline plus tolerance_ms.
 * Too small refuses calls the coordinator still waits for (a FAIL the
 * transaction then rolls back on); too large only keeps records longer.
 * Raising it later does not lengthen the keeping of records already
 * written. Before start only. Errors: DTX_EINVAL (NULL, started, over one
 * day). */
DTX_API int dtx_participant_set_deadline_tolerance(dtx_participant *part,
                                                   unsigned tolerance_ms);

/* dtx_participant_destroy stops listening, waits for running handlers to
 * return, and frees the participant. Accepts NULL. Its wait on nng is
 * bounded: if the socket does not close within 5 s (nng 1.5.2 can hang in
 * nng_close for ever), it logs an error and returns, leaving the
 * participant's socket and memory to the process (never freed under
 * nng's feet). A handler that never returns still blocks it. */
DTX_API void dtx_participant_destroy(dtx_participant *part);

/* ---- store: a participant's local database, and the barrier ----------- */

/*
 * A dtx_store is a service's own durable key-value database (LMDB on disk,
 * default sync: a commit is on disk when it returns), organised in named
 * tables. Bound to a participant with dtx_participant_set_store, it gives
 * every branch call exactly-once effect - the *barrier*:
 *
 *   - the handler's writes (through dtx_call_txn) and a record of the call
 *     (gid, branch, op -> status, message, result) commit in ONE local
 *     transaction, only if the handler answers OK or FAIL;
 *   - a repeated call (retry, duplicate delivery, resend after a crash) is
 *     answered from the record; the handler does not run again;
 *   - FAIL discards the handler's writes (a refusal changes nothing) but is
 *     recorded, so a repeat answers FAIL again;
 *   - RETRY discards everything and records nothing;
 *   - a compensate/cancel for a branch whose action/try never ran (or was
 *     refused) records a null compensation and answers OK without calling
 *     the handler; an action/try that arrives after it finds that record
 *     and answers FAIL ("already compensated") without running;
 *   - an action/try that arrives after its deadline (the call's
 *     deadline_unix_ms plus the participant's tolerance, see
 *     dtx_participant_set_deadline_tolerance) is refused the same way
 *     ("deadline passed"), recorded, without running: by then the
 *     coordinator has rolled its transaction back or stopped waiting for
 *     the call, and this holds also after GC removed the null
 *     compensation;
 *   - a confirm runs only after its try was recorded OK (else RETRY);
 *   - a confirm after a cancel, or a cancel after a confirm, never runs:
 *     it is logged as an error and answered RETRY (a coordinator decides
 *     one of the two; both would apply opposite effects);
 *   - a FAIL from compensate, cancel or confirm is answered RETRY and
 *     records nothing: those must succeed eventually;
 *   - calls for unknown handlers bypass the barrier (FAIL, not recorded).
 *
 * Writers are serialised by the store (LMDB has one writer at a time), so
 * a try and a cancel racing on two threads see each other's records:
 * exactly one order happens.
 *
 * Caveats:
 *   - open a store once per process: LMDB breaks its locks when one
 *     process opens the same files twice. A read-only inspector (a checker,
 *     an operator tool) is another process;
 *   - inside a handler, or inside a dtx_txn_fn, never call
 *     dtx_store_update or dtx_store_view on the same store: the thread
 *     already holds it, and that deadlocks;
 *   - a handler or a dtx_txn_fn may run more than once for one call (a
 *     full map is grown and the work run again): effects outside the
 *     transaction must tolerate that;
 *   - a barrier record takes about 28 bytes plus the gid, message and
 *     result of its call. Records are kept until a garbage collection
 *     (dtx_store_barrier_gc, or dtx_participant_set_barrier_gc in the
 *     background) finds their transaction final at the coordinator for at
 *     least a grace period, and never before the deadline (plus tolerance)
 *     the calls of their branch carried; without GC they are kept for ever
 *     and the map grows to hold them. Until then a null compensation keeps
 *     refusing a late action/try; after it, the deadline refuses it. Calls
 *     without a deadline (a coordinator older than BranchCall's
 *     deadline_unix_ms) have only the grace period: it must then exceed the
 *     longest time a call can be delayed (network, nng's resend, an
 *     initiator's Try in flight) plus the coordinator's call timeout and
 *     the clock skew between the coordinator and this host, or a call
 *     delivered after its records were removed runs as if it were the
 *     first.
 */

typedef struct dtx_store dtx_store;
typedef struct dtx_txn dtx_txn;

#define DTX_STORE_MAX_TABLES 32
#define DTX_TABLE_NAME_MAX   64 /* bytes; [A-Za-z0-9._-] */

typedef struct dtx_store_opts {
	const char *const *tables; /* the service's table names (borrowed) */
	size_t ntables;            /* at most DTX_STORE_MAX_TABLES */
	size_t map_size; /* initial map size; default 256 MiB; grows when full
	                  */
	bool read_only;  /* inspect a store another process writes */
	/* groups of calls a participant bound to the store serves at once
	 * (0 = 1, at most 64): PostgreSQL serves each on a connection of
	 * its own (dtx_pg.h); LMDB has one writer and always serves one */
	unsigned groups;
} dtx_store_opts;

/* dtx_store_opts_init fills opts with defaults (no tables, writable). */
DTX_API void dtx_store_opts_init(dtx_store_opts *opts);

/* dtx_store_open is in libdtx-lmdb (link `pkg-config --libs dtx-lmdb`), so
 * that a program that serves no calls from an LMDB store links no LMDB;
 * the PostgreSQL store is libdtx-pg's (<dtx/dtx_pg.h>). Everything else
 * about stores here is in libdtx and works on either.
 *
 * dtx_store_open opens (creating if missing and writable) the store in dir
 * (copied; one missing directory level is created) with the given tables
 * (opts may be NULL: no tables). A writer creates tables the store lacks;
 * a reader sees them as empty. The map is never shrunk below the size a
 * previous run grew it to. Errors: DTX_EINVAL (bad or duplicate name, too
 * many tables, read-only open of a missing store, missing parent
 * directory), DTX_ECORRUPT (not a dtx store, or not an LMDB file: the
 * files are left untouched), DTX_EVERSION (a newer store format), DTX_EIO,
 * DTX_ENOSPC, DTX_ENOMEM. */
DTX_API int dtx_store_open(const char *dir, const dtx_store_opts *opts,
                           dtx_store **ret_store);

/* dtx_store_close closes the store. No transaction may be running. Accepts
 * NULL. */
DTX_API void dtx_store_close(dtx_store *store);

/* dtx_txn_fn runs inside a transaction; txn is valid only during the call.
 * Return DTX_OK to commit (update) or any dtx_err to abort. */
typedef int (*dtx_txn_fn)(void *arg, dtx_txn *txn);

/* dtx_store_update runs fn in one write transaction, committed durably if
 * fn returns DTX_OK (a full map is grown and fn runs again). Returns fn's
 * error, or DTX_EIO / DTX_ENOSPC / DTX_EINVAL (read-only store). Safe from
 * many threads (writers queue). */
DTX_API int dtx_store_update(dtx_store *store, dtx_txn_fn fn, void *arg);

/* dtx_store_view runs fn on a read-only snapshot and returns fn's value.
 * Errors: DTX_EINVAL, DTX_EBUSY (no reader slot), DTX_EIO. Thread-safe. */
DTX_API int dtx_store_view(dtx_store *store, dtx_txn_fn fn, void *arg);

/* dtx_txn_get finds key in table. *ret_val points into the store and is
 * valid until the transaction ends or next writes. Errors: DTX_ENOENT,
 * DTX_EINVAL (unknown table, empty or over-long key), DTX_EIO. */
DTX_API int dtx_txn_get(dtx_txn *txn, const char *table, const void *key,
                        size_t klen, const void **ret_val, size_t *ret_len);

/* dtx_txn_put writes key = val (both copied). Errors: DTX_EINVAL (unknown
 * table, read-only, empty key), DTX_ETOOBIG (key over 511 bytes),
 * DTX_ELIMIT (the map is full: return it from fn and the update grows the
 * map and runs fn again), DTX_EIO. */
DTX_API int dtx_txn_put(dtx_txn *txn, const char *table, const void *key,
                        size_t klen, const void *val, size_t vlen);

/* dtx_txn_del removes key. Errors: DTX_ENOENT, DTX_EINVAL (as get, or a
 * read-only txn), DTX_ELIMIT (the map is full: a delete writes pages too;
 * treat it as dtx_txn_put does), DTX_EIO. */
DTX_API int dtx_txn_del(dtx_txn *txn, const char *table, const void *key,
                        size_t klen);

/* dtx_txn_add_i64 adds delta to the counter key of table (a missing key
 * counts as 0), unless the counter would end below floor (INT64_MIN: no
 * floor): then *ret_short is set and nothing changes. A counter's value is
 * its decimal text (ASCII, an optional '-', no NUL), the format a service
 * reads back with dtx_txn_get. The check and the change are one step under
 * the row's lock, so two calls can never both take the last unit.
 *
 * On a call's transaction (dtx_call_txn) of a participant bound to a
 * PostgreSQL store the change is deferred, so that a hot row (a stock, a
 * revenue) is locked only for the group's COMMIT instead of from the first
 * call's change to it: *ret_short is then false and the SDK sums the
 * group's deltas per counter and applies each sum, after every handler of
 * the group ran and just before the COMMIT, in one statement whose check
 * is atomic (the counter plus the sum of the negative deltas must stay at
 * or above the largest floor: the calls can then be ordered, the
 * subtractions first, with every counter value on the way at or above
 * every floor). If a sum does not fit, the group's transaction is rolled
 * back and its calls run again with every change applied at once, so the
 * call whose delta does not fit sees *ret_short set (a handler may run
 * twice; dtx_store's caveats). A change dropped with its call (FAIL,
 * RETRY) is dropped from the sums. Everywhere else (LMDB, whose one writer
 * orders the calls anyway; dtx_store_update) the change is applied at
 * once. Rules that follow: a read of the counter in the same group does
 * not see a deferred change, and a handler must not decide anything from
 * the value it reads but from *ret_short (the floor check); do not
 * dtx_txn_put or dtx_txn_del a counter in a transaction that adds to it.
 * Errors: DTX_EINVAL (unknown table, empty key, read-only txn, NULL,
 * dtx_txn_put/del of the counter in the same transaction on PostgreSQL,
 * or, on LMDB, a sum out of int64's range), DTX_ETOOBIG (key over 511
 * bytes), DTX_ECORRUPT (LMDB: the value is not a counter), DTX_ELIMIT
 * (LMDB's full map, as dtx_txn_put), DTX_ENOMEM, DTX_EIO (PostgreSQL: a
 * failed statement, also a value that is not a counter or a sum out of
 * int8's range; the transaction is aborted, and a call answered RETRY;
 * a deferred change fails the group's COMMIT instead: every call of the
 * group is answered RETRY). */
DTX_API int dtx_txn_add_i64(dtx_txn *txn, const char *table, const void *key,
                            size_t klen, int64_t delta, int64_t floor,
                            bool *ret_short);

/* dtx_scan_fn receives one entry (borrowed); return DTX_OK to go on. */
typedef int (*dtx_scan_fn)(void *arg, const void *key, size_t klen,
                           const void *val, size_t vlen);

/* dtx_txn_scan calls fn for each key of table starting with prefix (plen
 * may be 0: all keys), in key order. Returns fn's first non-OK value, or
 * DTX_EINVAL (unknown table) / DTX_EIO. */
DTX_API int dtx_txn_scan(dtx_txn *txn, const char *table, const void *prefix,
                         size_t plen, dtx_scan_fn fn, void *arg);

/* dtx_barrier_entry - one recorded call, for checkers and operators. */
typedef struct dtx_barrier_entry {
	const char *gid; /* borrowed, NUL-terminated */
	uint32_t branch;
	dtx_op op;
	dtx_status status;
	bool null_compensation; /* recorded without running the handler */
	/* GC keeps it at least until then (wall clock, unix ms): its call's
	 * deadline plus the participant's tolerance; 0: no deadline */
	int64_t keep_until_unix_ms;
} dtx_barrier_entry;

typedef int (*dtx_barrier_fn)(void *arg, const dtx_barrier_entry *entry);

/* dtx_txn_barrier_scan calls fn for every barrier record (gid order, then
 * branch, then op). Returns fn's first non-OK value, or DTX_ECORRUPT (a
 * record that is not a barrier record) / DTX_EIO. */
DTX_API int dtx_txn_barrier_scan(dtx_txn *txn, dtx_barrier_fn fn, void *arg);

/* Barrier GC defaults: grace 10 minutes (see Caveats above), one sweep a
 * minute. */
#define DTX_BARRIER_GC_GRACE_MS_DEFAULT    600000u
#define DTX_BARRIER_GC_INTERVAL_MS_DEFAULT 60000u

/* dtx_store_barrier_gc runs one bounded garbage-collection pass over the
 * barrier records of store: from where the last pass stopped (in gid order;
 * after the last gid it starts again from the first; a new process starts
 * from the first), it collects up to max_gids distinct gids, asks the
 * coordinator through client (both borrowed) which are final and since
 * when (dtx_client_final_gids), and deletes, in one write transaction,
 * every record of each gid that has been final for at least grace_ms by
 * this host's wall clock (0: as soon as it is final) and whose records'
 * keep_until_unix_ms (their calls' deadline plus the participant's
 * tolerance) have all passed. A grace of 0 is safe for calls that carry a
 * deadline (dtx_call_deadline_unix_ms: a late one is refused by it); for
 * calls without, only when none can still be on its way. Gids the
 * coordinator does not know, or
 * still runs, are kept. If the coordinator cannot be asked, nothing is
 * deleted and the next pass asks about the same gids. Stores the number of
 * records deleted in *ret_removed (may be NULL). Blocking (one request per
 * 256 gids, each bounded by the client's timeout). Thread-safe; one pass
 * at a time per store. Errors: DTX_EINVAL (NULL, max_gids 0 or over
 * 65536, read-only store), DTX_EBUSY (another pass of store is running),
 * those of dtx_client_final_gids (DTX_EUNREACHABLE, DTX_ETIMEDOUT, ...),
 * DTX_ECORRUPT (a key that is not a barrier key), DTX_EIO, DTX_ENOSPC,
 * DTX_ENOMEM. */
struct dtx_client; /* dtx_client, declared with the client below */
DTX_API int dtx_store_barrier_gc(dtx_store *store, struct dtx_client *client,
                                 unsigned grace_ms, size_t max_gids,
                                 size_t *ret_removed);

/* dtx_participant_set_barrier_gc makes part run barrier GC in a background
 * thread while it runs: every interval_ms (0: one minute) it sweeps the
 * barrier of its store with passes of 256 gids, asking the coordinator at
 * coordinator_url (copied) and removing the records final for at least
 * grace_ms (0: ten minutes). The first sweep runs one interval after
 * dtx_participant_start; dtx_participant_destroy stops the thread (waiting
 * for a query in flight, at most 5 s). A sweep that fails (coordinator
 * unreachable, store error) deletes nothing, is logged through the log
 * callback and counted in barrier_gc_failures, and is tried again next
 * interval. Before start only; a second call replaces the first; start
 * then fails with DTX_EINVAL if part has no store. A tls+tcp://
 * coordinator_url is dialed with the participant's dtx_tls_opts (its
 * certificate as client certificate, ca_file checking dtxd's). Errors:
 * DTX_EINVAL (NULL, started, a tls+tcp:// URL without TLS settings),
 * DTX_EUNREACHABLE (bad URL scheme), DTX_ENOMEM. */
DTX_API int dtx_participant_set_barrier_gc(dtx_participant *part,
                                           const char *coordinator_url,
                                           unsigned grace_ms,
                                           unsigned interval_ms);

/* dtx_participant_set_store makes every call of part go through the
 * barrier of store (retained: it must outlive part). Before start only.
 * Calls that arrive while the store is busy are served together (group
 * commit): a worker takes up to 256 waiting calls, runs each handler in its
 * own nested transaction (a refusal or RETRY drops only its writes), then
 * commits once and answers them all; no call is answered before the
 * commit that holds its effect is on disk. Handlers of one group run one
 * after another on that worker, inside the store's single write
 * transaction: keep them short and never wait on another call.
 * Errors: DTX_EINVAL (NULL, started, read-only store). */
DTX_API int dtx_participant_set_store(dtx_participant *part, dtx_store *store);

/* dtx_call_txn returns the call's write transaction (valid during the
 * handler), or NULL when the participant has no store. */
DTX_API dtx_txn *dtx_call_txn(dtx_call *call);

/* dtx_participant_stats - counters since start (monotonic). */
typedef struct dtx_participant_stats {
	uint64_t calls;    /* calls received and decoded */
	uint64_t applied;  /* handler ran and its answer was recorded */
	uint64_t replayed; /* answered from a barrier record */
	uint64_t null_compensations; /* compensate/cancel before its action */
	uint64_t late_refused; /* action/try after compensate/cancel/deadline */
	uint64_t retries;      /* handler answered RETRY (or FAIL to a
	                          compensate, cancel or confirm) */
	uint64_t barrier_gc_removed;  /* records removed by the GC thread */
	uint64_t barrier_gc_failures; /* GC sweeps that removed nothing
	                                 because they failed */
	uint64_t commits;  /* durable store commits: calls that arrive
	                      together share one (group commit) */
	uint64_t messages; /* requests received: the coordinator sends the
	                      calls that are ready together as one */
} dtx_participant_stats;

/* dtx_participant_get_stats copies the counters. Thread-safe. */
DTX_API void dtx_participant_get_stats(const dtx_participant *part,
                                       dtx_participant_stats *ret_stats);

/* dtx_participant_metrics_text writes part's counters (those of
 * dtx_participant_get_stats) in the Prometheus text exposition format
 * 0.0.4, for a service to serve on its own /metrics: one family per
 * counter, named PREFIX_calls_total, PREFIX_applied_total, ... with a
 * HELP and a TYPE line each. prefix (borrowed; NULL: "dtx_participant")
 * must match [a-zA-Z_:][a-zA-Z0-9_:]* and be at most 64 bytes. Like
 * snprintf: up to len - 1 bytes go to buf (borrowed; may be NULL when
 * len is 0), always NUL-terminated when len > 0, and *ret_len gets the
 * length of the whole text; a result >= len means it was cut (call again
 * with *ret_len + 1 bytes). Thread-safe. Errors: DTX_EINVAL (part or
 * ret_len NULL, a bad prefix, buf NULL with len > 0). */
DTX_API int dtx_participant_metrics_text(const dtx_participant *part,
                                         const char *prefix, char *buf,
                                         size_t len, size_t *ret_len);

/* ---- initiator (client) ------------------------------------------------ */

typedef struct dtx_client dtx_client;

/* max_msg_bytes must be at least the coordinator's --max-msg-bytes (the
 * same default): dtxd keeps every reply under its own limit, and a reply
 * past the client's is dropped by the transport (the request then times
 * out). */
typedef struct dtx_client_opts {
	unsigned timeout_ms; /* per-request transport deadline; default 30000 */
	size_t max_msg_bytes; /* receive limit; default DTX_MSG_MAX_DEFAULT */
	/* TLS for tls+tcp:// coordinators and participants (TCC Tries;
	 * borrowed, read by open); NULL: none, and tls+tcp:// URLs are
	 * refused */
	const dtx_tls_opts *tls;
} dtx_client_opts;

DTX_API void dtx_client_opts_init(dtx_client_opts *opts);

/* dtx_client_open connects (lazily, with reconnect) to the coordinator at
 * url (copied), or to each coordinator of a sharded deployment when url is
 * a comma-separated list ("tcp://a:7400,tcp://b:7400"; a comma starts a
 * new URL only where a scheme "xxx://" follows it, so an ipc path may hold
 * commas; at most 16 URLs). With several coordinators the client learns
 * which one owns each shard (it asks them, and follows their DTX_EMOVED
 * redirects, at most 4 per request, to coordinators they name): a request
 * about a gid goes to its shard's owner, a submit without gid to any
 * coordinator that is up, in turn, and to the next one if it could not be
 * sent. A coordinator that is down costs latency, not errors: a gid of its
 * shard waits for it (or for its next owner) until the request's deadline,
 * then ends DTX_EUNREACHABLE. A request already sent when its
 * coordinator's connection was lost is sent again, until its deadline, if
 * it names a gid (every such request is idempotent at the coordinator: a
 * gid starts once, a repeated registration, finish or query is answered
 * again; at most 3 copies), so a failover or a coordinator's restart
 * costs latency; one
 * without a gid (a submit whose id the coordinator makes) is never sent
 * again - it could start twice - and ends as below. opts may be NULL for
 * defaults.
 * A client may be used by many
 * threads at once, for the life of the process: a thread of its own
 * replaces a connection that is lost, or that answered nothing for a
 * request's whole deadline, with a fresh one every 2 s until one works
 * (also after partitions and coordinator restarts), so it never needs
 * reopening. A request that could not be sent for want of a connection
 * ends DTX_EUNREACHABLE ("no connection"); one sent and not answered in
 * time ends DTX_ETIMEDOUT ("deadline passed"); one whose connection was
 * lost before the answer ends DTX_EUNREACHABLE (it may have been
 * received; with a gid, only if no copy was answered by the deadline); one to a
 * coordinator nothing listens for (never connected, its connects refused for a
 * second) ends DTX_EUNREACHABLE then, not at its deadline. Errors: DTX_EINVAL
 * (also a URL scheme dtx does not speak, "http://", bad TLS settings or files,
 * a tls+tcp:// URL without opts->tls: the log callback names it), DTX_ENOMEM. A
 * request answered DTX_EMOVED more often than it may follow ends DTX_EMOVED
 * (coordinators that disagree about their shards). */
DTX_API int dtx_client_open(const char *url, const dtx_client_opts *opts,
                            dtx_client **ret_client);

/* dtx_client_stats - a client's counters since open (monotonic). Every
 * request ends as exactly one of ok, refused, timeouts, unreachable and
 * failed (once its callback ran). */
typedef struct dtx_client_stats {
	uint64_t requests;    /* begun: submits, queries, TCC, final queries */
	uint64_t ok;          /* answered DTX_OK by a coordinator */
	uint64_t refused;     /* answered with an error (busy, conflict, ...) */
	uint64_t timeouts;    /* DTX_ETIMEDOUT: sent, no answer in time */
	uint64_t unreachable; /* DTX_EUNREACHABLE: no coordinator to take it */
	uint64_t failed;      /* any other end (closed, a bad reply, memory) */
	uint64_t attempts;    /* sends to a coordinator, failovers included */
	uint64_t redirects;   /* DTX_EMOVED answers followed to another one */
	uint64_t latency_us;  /* the sum of requests' times, begun to ended */
	uint64_t resends; /* sent again: the answer lost with its connection */
} dtx_client_stats;

/* dtx_client_get_stats copies client's counters. Thread-safe. */
DTX_API void dtx_client_get_stats(const dtx_client *client,
                                  dtx_client_stats *ret_stats);

/* dtx_client_metrics_text is dtx_participant_metrics_text for a client:
 * its counters (dtx_client_get_stats) as PREFIX_requests_total,
 * PREFIX_request_outcomes_total{outcome="ok|refused|timeout|unreachable|
 * failed"}, PREFIX_attempts_total, PREFIX_redirects_total,
 * PREFIX_resends_total and the
 * histogram PREFIX_request_duration_seconds (prefix NULL:
 * "dtx_client"). Same buffer contract, thread safety and errors. */
DTX_API int dtx_client_metrics_text(const dtx_client *client,
                                    const char *prefix, char *buf, size_t len,
                                    size_t *ret_len);

/* dtx_client_close aborts outstanding requests (their callbacks run with
 * DTX_ECLOSED) and frees the client. Accepts NULL. It returns within 5 s
 * (plus the time done callbacks take) whatever nng does: if nng_close has
 * not returned by then (nng 1.5.2 can hang in it for ever), it logs an
 * error and leaves the client's sockets and memory to the process. */
DTX_API void dtx_client_close(dtx_client *client);

/* dtx_saga - a saga under construction (not thread-safe). */
typedef struct dtx_saga dtx_saga;

/* dtx_saga_create starts a saga. gid (copied) may be NULL: the coordinator
 * then makes a time-ordered id. Errors: DTX_EINVAL (empty or bad charset),
 * DTX_ETOOBIG (longer than DTX_GID_MAX), DTX_ENOMEM. */
DTX_API int dtx_saga_create(const char *gid, dtx_saga **ret_saga);

/* dtx_saga_add_step appends a step: action and compensate are handler names
 * served at url; payload (len bytes, may be NULL if len is 0) is copied.
 * url must be one the coordinator can dial: tcp://HOST:PORT (tcp4://,
 * tcp6://; tls+tcp:// when dtxd has TLS client settings, --tls-ca) or
 * ipc://PATH. timeout_ms 0 takes the coordinator's default;
 * at most 3,600,000 (one hour). Errors: DTX_EINVAL (bad URL, name or
 * timeout), DTX_ETOOBIG, DTX_ENOMEM. */
DTX_API int dtx_saga_add_step(dtx_saga *saga, const char *url,
                              const char *action, const char *compensate,
                              const void *payload, size_t len,
                              unsigned timeout_ms);

/* dtx_saga_set_deadline limits the whole saga to deadline_ms from its
 * submission (0 = no limit, the default): past it, a saga whose actions are
 * not all done compensates, starting with the action in flight. The
 * coordinator times it on its monotonic clock. Errors: DTX_EINVAL. */
DTX_API int dtx_saga_set_deadline(dtx_saga *saga, unsigned deadline_ms);

/* dtx_saga_set_key attaches a business key (copied; e.g. "order-1005")
 * that operators find the transaction by (dtxctl list --key). 1 to
 * DTX_KEY_MAX bytes of UTF-8 without control characters; a second call
 * replaces it. Errors: DTX_EINVAL (empty, control characters, not UTF-8),
 * DTX_ETOOBIG, DTX_ENOMEM. */
DTX_API int dtx_saga_set_key(dtx_saga *saga, const char *key);

/* dtx_saga_add_label attaches the label name=value (copied; e.g. sku,
 * gift-card) that operators select by (dtxctl list --label sku=gift-card).
 * name: 1..63 bytes of [A-Za-z0-9._/-], given once; value: UTF-8 without
 * control characters; together at most DTX_LABEL_MAX bytes; at most
 * DTX_LABELS_MAX labels. Errors: DTX_EINVAL (bad name or value, a name
 * given twice), DTX_ETOOBIG, DTX_ELIMIT (too many), DTX_ENOMEM. */
DTX_API int dtx_saga_add_label(dtx_saga *saga, const char *name,
                               const char *value);

/* dtx_saga_set_traceparent attaches the initiator's W3C trace context
 * (copied): "00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>",
 * lowercase, ids not all zero. The coordinator keeps it with the
 * transaction, logs its trace-id, shows it (dtxctl show) and passes it on
 * to every branch call (dtx_call_traceparent). None is made when absent:
 * the gid already ties a transaction's lines together, and an id no
 * tracer knows would tie nothing more. A second call replaces it.
 * Errors: DTX_EINVAL (not a valid version 00 traceparent), DTX_ENOMEM. */
DTX_API int dtx_saga_set_traceparent(dtx_saga *saga, const char *traceparent);

DTX_API void dtx_saga_destroy(dtx_saga *saga);

/* dtx_step_info / dtx_tx_info - a snapshot of a transaction. */
typedef struct dtx_step_info {
	dtx_step_state state;
	uint32_t attempts;
	char last_error[256];
} dtx_step_info;

#define DTX_INFO_MAX_STEPS 64

/* Transaction modes (values equal dtx.v1.Mode). */
typedef enum dtx_mode {
	DTX_MODE_SAGA = 1,
	DTX_MODE_TCC = 2,
} dtx_mode;

typedef struct dtx_tx_info {
	char gid[DTX_GID_MAX + 1];
	dtx_mode mode;
	dtx_tx_state state;
	bool created;        /* submit only: false if the gid already existed */
	int32_t failed_step; /* -1 = none */
	char reason[256];    /* why it rolled back, if it did */
	int64_t created_unix_ms;
	int64_t updated_unix_ms;
	int64_t deadline_unix_ms; /* 0 = none */
	/* Retries passed the coordinator's threshold (count or age): an
	 * operator should look. Retries go on; it clears when a call succeeds
	 * again. */
	bool needs_operator;
	char operator_reason[256]; /* handler, last error, attempts */
	uint32_t nsteps;           /* steps in the transaction */
	dtx_step_info steps[DTX_INFO_MAX_STEPS]; /* the first nsteps (capped) */
} dtx_tx_info;

/* dtx_done_fn completes an asynchronous request. err is DTX_OK when info is
 * valid; info is borrowed for the call. It runs on an SDK thread; it may call
 * the client again. */
typedef void (*dtx_done_fn)(void *arg, int err, const dtx_tx_info *info);

/* dtx_client_submit_async submits saga (borrowed: it may be destroyed once
 * this returns). With wait_ms 0 the answer comes once the transaction is
 * durably logged; otherwise when it is final or wait_ms passed (state then
 * RUNNING/COMPENSATING). Re-submitting a gid returns the existing
 * transaction with created=false, if it is the same transaction (mode,
 * steps with their URLs, handlers, payloads and timeouts, deadline); a
 * gid that names another one is refused with DTX_ECONFLICT and changes
 * nothing. Callback errors: DTX_ETIMEDOUT, DTX_EUNREACHABLE, DTX_ECLOSED,
 * DTX_EPROTO, and any code the coordinator answered (DTX_EINVAL,
 * DTX_ETOOBIG, DTX_ELIMIT, DTX_EBUSY, DTX_ECONFLICT...). Call errors:
 * DTX_EINVAL (no steps), DTX_ETOOBIG (the request is larger than the
 * client's max_msg_bytes), DTX_ENOMEM, DTX_ELIMIT, DTX_ECLOSED. */
DTX_API int dtx_client_submit_async(dtx_client *client, const dtx_saga *saga,
                                    unsigned wait_ms, dtx_done_fn done,
                                    void *arg);

/* dtx_client_submit is the blocking form: it fills *ret_info on success. */
DTX_API int dtx_client_submit(dtx_client *client, const dtx_saga *saga,
                              unsigned wait_ms, dtx_tx_info *ret_info);

/* dtx_client_query_async asks for transaction gid; with wait_ms > 0 the
 * coordinator answers when it is final or wait_ms passed. DTX_ENOENT if no
 * such gid. Same callback contract as dtx_client_submit_async. Call errors:
 * DTX_EINVAL (bad gid charset), DTX_ETOOBIG (gid too long), DTX_ENOMEM,
 * DTX_ELIMIT, DTX_ECLOSED. */
DTX_API int dtx_client_query_async(dtx_client *client, const char *gid,
                                   unsigned wait_ms, dtx_done_fn done,
                                   void *arg);

/* dtx_client_query is the blocking form of dtx_client_query_async. */
DTX_API int dtx_client_query(dtx_client *client, const char *gid,
                             unsigned wait_ms, dtx_tx_info *ret_info);

/* ---- TCC (try / confirm / cancel) -------------------------------------- */

/*
 * Two ways to run a TCC transaction.
 *
 * 1. The coordinator runs the Tries: build a dtx_tcc with its branches and
 *    submit it (dtx_client_submit_tcc). The coordinator logs every branch,
 *    calls all Tries in parallel, then confirms every branch if every Try
 *    answered OK, else cancels every branch - the one whose Try failed or
 *    timed out included, since its effect is unknown.
 *
 * 2. The initiator runs the Tries (dtx_tcc_begin): for each branch,
 *    dtx_tcc_try first registers the branch with the coordinator (durably,
 *    so a crash after the Try can always be cancelled), then calls the Try
 *    on the participant and returns its answer. The app then commits
 *    (every branch confirmed) or aborts (every branch cancelled). A
 *    transaction not committed before its deadline is cancelled by the
 *    coordinator: an unpaid reservation expires.
 *
 * Confirm and cancel are retried until they succeed, like compensations.
 * Participants serve Try/Confirm/Cancel through the barrier (dtx_store):
 * a Cancel before its Try is a null cancel, a Try after its Cancel is
 * refused, a Confirm runs only after its Try was recorded OK.
 */
typedef struct dtx_tcc dtx_tcc;

/* dtx_tcc_create starts a TCC transaction description for
 * dtx_client_submit_tcc. gid (copied) may be NULL: the coordinator makes
 * one. Errors: DTX_EINVAL, DTX_ETOOBIG, DTX_ENOMEM. */
DTX_API int dtx_tcc_create(const char *gid, dtx_tcc **ret_tcc);

/* dtx_tcc_add_branch appends a branch: try_h, confirm_h and cancel_h are
 * handler names served at url (as for dtx_saga_add_step); payload (copied,
 * len bytes) goes with each of the three calls; timeout_ms 0 takes the
 * coordinator's default, at most 3,600,000. Errors: DTX_EINVAL,
 * DTX_ETOOBIG, DTX_ENOMEM. */
DTX_API int dtx_tcc_add_branch(dtx_tcc *tcc, const char *url, const char *try_h,
                               const char *confirm_h, const char *cancel_h,
                               const void *payload, size_t len,
                               unsigned timeout_ms);

/* dtx_tcc_set_deadline: not all Tries OK within deadline_ms of submission
 * = cancelled. 0 = the coordinator's default. Errors: DTX_EINVAL. */
DTX_API int dtx_tcc_set_deadline(dtx_tcc *tcc, unsigned deadline_ms);

/* dtx_tcc_set_key / dtx_tcc_add_label: as dtx_saga_set_key and
 * dtx_saga_add_label, for a coordinator-run TCC transaction. */
DTX_API int dtx_tcc_set_key(dtx_tcc *tcc, const char *key);
DTX_API int dtx_tcc_add_label(dtx_tcc *tcc, const char *name,
                              const char *value);

/* dtx_tcc_set_traceparent: as dtx_saga_set_traceparent, for a TCC
 * transaction (coordinator-run, or begun with dtx_tcc_begin_from). */
DTX_API int dtx_tcc_set_traceparent(dtx_tcc *tcc, const char *traceparent);

/* dtx_tcc_destroy frees tcc. Accepts NULL. */
DTX_API void dtx_tcc_destroy(dtx_tcc *tcc);

/* dtx_client_submit_tcc_async submits tcc (borrowed) for the coordinator
 * to run; same reply and callback contract as dtx_client_submit_async
 * (final states COMMITTED or CANCELLED). Call errors: DTX_EINVAL (no
 * branches), DTX_ETOOBIG, DTX_ENOMEM, DTX_ELIMIT, DTX_ECLOSED. */
DTX_API int dtx_client_submit_tcc_async(dtx_client *client, const dtx_tcc *tcc,
                                        unsigned wait_ms, dtx_done_fn done,
                                        void *arg);

/* dtx_client_submit_tcc is the blocking form. */
DTX_API int dtx_client_submit_tcc(dtx_client *client, const dtx_tcc *tcc,
                                  unsigned wait_ms, dtx_tx_info *ret_info);

/* dtx_tcc_tx - an initiator-driven TCC transaction (one thread at a time). */
typedef struct dtx_tcc_tx dtx_tcc_tx;

/* dtx_tcc_begin begins an initiator-driven TCC transaction on the
 * coordinator: gid (copied) may be NULL (the coordinator makes one);
 * deadline_ms 0 takes the coordinator's default. client is retained (it
 * must outlive the transaction). Blocking. Errors: those of
 * dtx_client_submit. */
DTX_API int dtx_tcc_begin(dtx_client *client, const char *gid,
                          unsigned deadline_ms, dtx_tcc_tx **ret_tx);

/* dtx_tcc_begin_from is dtx_tcc_begin with the gid, deadline, business
 * key and labels of desc (borrowed; dtx_tcc_create, dtx_tcc_set_deadline,
 * dtx_tcc_set_key, dtx_tcc_add_label), which must have no branch: the
 * initiator adds them with dtx_tcc_try. Errors: DTX_EINVAL (desc has
 * branches), those of dtx_tcc_begin. */
DTX_API int dtx_tcc_begin_from(dtx_client *client, const dtx_tcc *desc,
                               dtx_tcc_tx **ret_tx);

/* dtx_tcc_tx_gid returns the transaction's gid (borrowed). */
DTX_API const char *dtx_tcc_tx_gid(const dtx_tcc_tx *tx);

/* dtx_try_result - what a Try answered. */
typedef struct dtx_try_result {
	dtx_status status; /* OK, FAIL (refused) or RETRY (transient) */
	char message[256]; /* the participant's message, or "" */
	uint8_t result[1024];
	size_t result_len; /* bytes of result (truncated at 1024) */
} dtx_try_result;

/* dtx_tcc_try registers the next branch (number 0, 1, 2... in call order)
 * with the coordinator, then calls its Try on url and waits up to
 * timeout_ms (0 = 5000) for the answer. DTX_OK means the Try answered:
 * *ret_result says how. A Try that could not be called or answered (the
 * registration failed, the participant is unreachable, the deadline
 * passed) returns an error; after any answer but OK the app should
 * dtx_tcc_abort (dtx_tcc_commit refuses). Errors: DTX_EINVAL (bad
 * argument, the transaction is no longer trying), DTX_ETIMEDOUT,
 * DTX_EUNREACHABLE, DTX_EPROTO, DTX_ELIMIT (too many branches),
 * DTX_ENOMEM, and codes the coordinator answered. */
DTX_API int dtx_tcc_try(dtx_tcc_tx *tx, const char *url, const char *try_h,
                        const char *confirm_h, const char *cancel_h,
                        const void *payload, size_t len, unsigned timeout_ms,
                        dtx_try_result *ret_result);

/* dtx_tcc_commit asks the coordinator to confirm every branch; with wait_ms
 * > 0 it waits that long for the final state. *ret_info may say COMMITTED,
 * CONFIRMING, or CANCELLING/CANCELLED (the deadline passed first). Errors:
 * DTX_EINVAL (a Try of this transaction did not answer OK: abort it), and
 * those of dtx_client_submit. */
DTX_API int dtx_tcc_commit(dtx_tcc_tx *tx, unsigned wait_ms,
                           dtx_tx_info *ret_info);

/* dtx_tcc_abort asks the coordinator to cancel every branch; reason (may be
 * NULL, copied) goes into the transaction's timeline. Errors: those of
 * dtx_client_submit. */
DTX_API int dtx_tcc_abort(dtx_tcc_tx *tx, const char *reason, unsigned wait_ms,
                          dtx_tx_info *ret_info);

/* dtx_tcc_tx_destroy frees tx; it does not abort it (an unfinished
 * transaction is cancelled at its deadline). Accepts NULL. */
DTX_API void dtx_tcc_tx_destroy(dtx_tcc_tx *tx);

/* dtx_client_final_gids asks which of the n gids (borrowed, n <= 256) are
 * final: for each final one, ret_final_ms[i] is when it became final (unix
 * ms); for the others (running, or unknown to the coordinator) it is 0.
 * Blocking. Errors: DTX_EINVAL, DTX_ETOOBIG, and those of
 * dtx_client_query. */
DTX_API int dtx_client_final_gids(dtx_client *client, const char *const *gids,
                                  size_t n, int64_t *ret_final_ms);

#ifdef __cplusplus
}
#endif

#endif /* DTX_DTX_H */
