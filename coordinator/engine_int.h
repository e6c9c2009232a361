/*
 * engine_int.h - the engine's private types, shared by its rooms (never
 * included outside coordinator/engine*.c and the rooms listed below).
 *
 * The engine is one object (struct dc_engine) owned by one libuv loop
 * thread; its code is split by concept, one file each:
 *
 *   engine.c      lifecycle (create from parts, stop, destroy) and the
 *                 small helpers every room uses (clock, jitter, dying)
 *   live.c        the table of live transactions (gid -> live)
 *   commit.c      the group-commit pipeline: flights, effects, the writer
 *   drive.c       driving the state machines: apply an event, send calls,
 *                 backoff, call completions, timers and deadlines
 *   load.c        reading a transaction that is not in memory (off the
 *                 loop, on the reader's threads), and quarantining one
 *                 that cannot be loaded or driven
 *   client_api.c  the client API: submit, TCC begin/register/finish,
 *                 query, final query, resubmit conflicts, replies, waiters
 *   operator.c    the admin API (dtxctl): list, show, stats, watch, and
 *                 operator actions as state-machine events
 *   recovery.c    recovery at start: every non-final transaction resumed
 *   leases.c      shard leases on a shared store: the round thread, taking
 *                 (recover) and giving (drain) shards, fenced commits
 *
 * Its parts (engine.h, dc_engine_parts) are seams, so that a unit test
 * (tests/unit/coordinator/engine_test.c) drives this same code without
 * sockets or sleeps:
 *   - time only through e->clock (clock.h): eng_now_unix_ms for what is
 *     recorded, eng_now_mono_ms for every timer and age; what is due is
 *     decided only in eng_run_due (drive.c), from the clock - the loop's
 *     uv timer merely wakes it, and dc_engine_tick calls it;
 *   - the network only through e->net (transport.h): requests arrive as
 *     dc_request mail and are answered through their own ops
 *     (request.h); branch calls leave with dc_transport_call and come
 *     back as dc_call mail;
 *   - the log is opened here or given (and then not closed here).
 *
 * A function one room calls in another is named eng_* and declared here,
 * grouped by the room that defines it. Everything else is static.
 * Threads: all of it runs on the loop thread, except the commit worker's
 * body (commit.c, work_cb) which touches only its flight; reads of the log
 * run on the reader's threads (reader.c) and come back through the
 * mailbox.
 */
#ifndef DTX_COORDINATOR_ENGINE_INT_H
#define DTX_COORDINATOR_ENGINE_INT_H

#include "engine.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "backoff.h"
#include "clock.h"
#include "diag.h"
#include "fault.h"
#include "gid.h"
#include "log.h"
#include "mailbox.h"
#include "metrics.h"
#include "reader.h"
#include "readjobs.h"
#include "machine.h"
#include "request.h"
#include "retain.h"
#include "rpc.h"
#include "shards.h"
#include "timerq.h"
#include "transport.h"
#include "tx.h"
#include "wire.h"

#define CALL_SLOT_WAIT_MS 10   /* retry a call the rpc pool had no room for */
#define WATCH_RING        4096 /* recent transitions kept for dtxctl watch */
#define WATCH_DETAIL      200  /* bytes of a watched line's detail */
#define WATCH_BATCH       256  /* lines in one watch answer by default */
#define WATCH_BATCH_MAX   1000
#define READ_EPOCHS       4096 /* hash buckets of gids freed while read */
#define READ_PENDING      (-1) /* read_tx: answered when the read is done */
#define DC_MAIL_LEASES    5    /* a lease round's outcome (leases.c) */

#define container_of(ptr, type, member)                                        \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

typedef struct live live;
typedef struct dc_leases dc_leases;

/* What the engine keeps of one client request while it holds it: one per
 * slot of the client endpoint's pool (dc_request_index), so a request
 * carries no engine state. */
typedef struct waiter {
	dc_request *req;
	struct waiter *next; /* list of requests waiting on one tx */
	live *owner;         /* the transaction it waits on, or NULL */
	dc_timer timer;      /* when to stop waiting */
	bool created;        /* submit: this request made the tx */
} waiter;

typedef enum fx_kind {
	FX_CALL = 1,        /* send the branch call of (step, op) */
	FX_RETRY_LATER = 2, /* arm the backoff timer of (step, op) */
	FX_FINISHED = 3,    /* the final state is durable: answer waiters */
	FX_REPLY = 4,       /* answer one client request */
	FX_CALL_ALL = 5,    /* send op to every step in flight for it */
	FX_ADMIN_REPLY = 6, /* answer an operator action (packed in buf) */
} fx_kind;

typedef struct fx {
	fx_kind kind;
	live *lv;
	uint32_t step;
	dtx_op op;
	dc_request *req;
	uint8_t *buf; /* FX_ADMIN_REPLY: the packed reply, owned */
	size_t len;
} fx;

/* One line of the watch ring (dtxctl watch): a transition as it was made
 * (it may not be durable yet: a crash can lose the newest lines). */
typedef struct watch_line {
	uint64_t seq;
	char gid[DTX_GID_MAX + 1];
	dc_log_event ev; /* ev.detail points at detail */
	char detail[WATCH_DETAIL];
} watch_line;

typedef struct flight {
	uint64_t gen;
	dc_log_batch *batch;
	fx *fx;
	size_t nfx, capfx;
	live **lives; /* transactions encoded into batch */
	size_t nlives, caplives;
	bool pruning;       /* the commit prunes: prune says what */
	dc_log_prune prune; /* (coordinator/retain.h) */
	/* with leases: the epochs of the shards owned when sealed (the
	 * prune's scope and fences; eng_leases_prune_scope) */
	uint64_t prune_epoch[DC_LOG_SHARDS_MAX];
	dc_log_pruned pruned; /* written by the worker */
	dc_log_usage usage;   /* measured by the worker after the commit */
	bool usage_ok;
	uint64_t sealed_ns; /* when it went to the worker (metrics) */
	int result;         /* of the commit, written by the worker */
	char err[256]; /* the worker's dc_log_last_error when result fails */
	uv_work_t work;
	dc_engine *e;
} flight;

/* The runtime side of one step (saga) or branch (TCC): its call and its
 * backoff. A saga has one in use at a time, a TCC transaction one per
 * branch. */
typedef struct lstep {
	live *lv;             /* the transaction it belongs to */
	uint32_t index;       /* step number */
	uint64_t token;       /* the call whose answer counts; 0 = none */
	dtx_op call_op;       /* what that call is */
	dc_timer retry_timer; /* backoff (or a wait for an rpc slot) */
	dtx_op retry_op;
	uint64_t sent_ns; /* when the counted call left (metrics) */
} lstep;

/* A transaction the engine holds in memory: every non-final one, and a
 * final one until its last effects ran. */
struct live {
	dc_tx *tx;
	live *hnext;          /* gid hash chain */
	live *dnext;          /* dirty list */
	bool dirty;           /* has changes not yet encoded */
	uint64_t dirty_steps; /* which step records changed */
	uint64_t pending_gen; /* flight holding its newest change; 0 = none */
	uint32_t pins;        /* queued effects that point here */
	uint32_t calls_out;   /* calls sent, not completed yet (owner = us) */
	lstep *rt;            /* one per step (rtcap allocated), owned */
	uint32_t rtcap;
	dc_timer deadline_timer; /* the transaction's own deadline */
	int64_t age_at_load_ms;  /* its age when loaded (submit or recovery) */
	uint64_t loaded_mono_ms; /* when, on the loop's monotonic clock: ages
	                            never follow a wall-clock jump */
	waiter *waiters;         /* clients waiting for the final state */
	bool handed; /* its shard was given away: driven here no more
	                (eng_live_hand_over) */
	/* what the metrics count it as (eng_live_count) */
	uint8_t m_mode, m_state;
	bool m_needs;
};

struct dc_engine {
	uv_loop_t *loop;
	dc_config cfg;
	dc_shards shards; /* the gids this instance serves (shards.h) */
	dc_log *log;
	bool log_owned;           /* opened here: closed at destroy */
	const dc_clock *clock;    /* every time read (eng_now_*) */
	dc_clock_real real_clock; /* the clock unless parts gave one */
	dc_transport *net;        /* requests in, calls out */
	bool net_owned;           /* made here: destroyed at destroy */
	bool net_open;
	dc_mailbox mb;
	bool mb_open;
	uv_prepare_t prepare;
	uv_timer_t timer;
	bool handles_open;

	flight flights[2];
	flight *building;
	flight *inflight;
	uint64_t next_gen;

	live **buckets;
	size_t nbuckets;
	size_t nlive;
	live *dirty_head;

	dc_timerq retry_q;
	dc_timerq wait_q;
	dc_timerq deadline_q;

	gid_gen gids;
	uint64_t gid_floor_pending;
	uint64_t next_token;
	uint64_t rnd;

	dc_policy policy;
	dc_backoff backoff;
	wire_limits limits;
	dc_recovery recovery;
	bool stopping;

	dc_retain retain;        /* pruning schedule, log full */
	uv_timer_t retain_timer; /* prunes an idle log */

	waiter *waiters; /* one per client request slot (--max-clients) */

	/* While an admin request runs (eng_on_admin): who sent it, as
	 * recorded in the timeline ("alice (uid 1000)", "bob (claimed)"). */
	const char *admin_who;

	watch_line *ring;  /* WATCH_RING lines, by seq % WATCH_RING */
	uint64_t ring_seq; /* seq of the newest line; 0 = none yet */

	dc_reader *reader;                 /* reads of the log, off the loop */
	dc_load_job *redo;                 /* a load done, for read_tx */
	uint32_t read_epochs[READ_EPOCHS]; /* bumped when a tx is freed */

	dc_leases *leases; /* NULL unless dc_config_leases (leases.c) */

	dc_metrics *metrics;      /* what /metrics and /readyz read (owned) */
	uv_timer_t beat;          /* says the loop turns (/livez) */
	struct dc_http_api *http; /* --http: console, metrics, health */
};

/* ---- engine.c ---- */

int64_t eng_now_unix_ms(const dc_engine *e);

uint64_t eng_now_mono_ms(const dc_engine *e);

uint64_t eng_next_random(dc_engine *e);

__attribute__((noreturn)) void eng_die_durability(dc_engine *e, int err,
                                                  const char *detail);

__attribute__((noreturn)) void eng_die_read(dc_engine *e, int err,
                                            const char *detail);

__attribute__((noreturn)) void eng_die_oom(const char *what);

void eng_finish_stop(dc_engine *e);

/* ---- live.c ---- */

size_t eng_gid_hash(const char *s, size_t nbuckets);

live *eng_live_find(dc_engine *e, const char *gid);

int eng_rt_reserve(live *lv, uint32_t n);

void eng_live_free(live *lv);

int64_t eng_age_ms(const dc_engine *e, const live *lv);

int eng_live_add(dc_engine *e, dc_tx *tx, live **ret_lv);

void eng_live_maybe_free(dc_engine *e, live *lv);

/* eng_live_count brings the metrics' count of lv (mode, state, needs an
 * operator) up to date, and counts it finished when it became final. */
void eng_live_count(dc_engine *e, live *lv);

/* eng_live_hand_over stops driving lv here: its shard goes to another
 * instance whose drain bound passed (leases.c). From now on no call,
 * retry, deadline or transition of it runs here and an answer that comes
 * back is dropped (the new owner recovers it from the store and calls
 * again; the participant's barrier answers a repeat); its waiting clients
 * get its state now. Frees lv and returns true once nothing refers to it
 * (no call out, no commit or effect pending); false: call again later. */
bool eng_live_hand_over(dc_engine *e, live *lv);

/* ---- commit.c ---- */

int eng_flight_init(dc_engine *e, flight *f);

void eng_flight_fini(flight *f);

void eng_flight_reset(dc_engine *e, flight *f);

void eng_flight_push_fx(flight *f, const fx *x);

flight *eng_flight_of_gen(dc_engine *e, uint64_t gen);

void eng_defer_fx(dc_engine *e, const fx *x);

void eng_mark_dirty(dc_engine *e, live *lv, uint64_t dirty_steps);

void eng_add_event(dc_engine *e, live *lv, int32_t step, const char *what);

/* eng_add_edit is eng_add_event for an operator's set-branch: edit
 * (borrowed) goes into the event record too (LogEvent.edit). */
void eng_add_edit(dc_engine *e, live *lv, int32_t step, const char *what,
                  const dc_log_edit *edit);

void eng_after_work_cb(uv_work_t *w, int status);

void eng_flush(dc_engine *e);

void eng_on_retain_timer(uv_timer_t *h);

void eng_on_prepare(uv_prepare_t *h);

/* ---- client_api.c ---- */

void eng_send_tx_reply(const dc_engine *e, dc_request *req, const dc_tx *tx,
                       bool created);

void eng_send_error(dc_request *req, int code, const char *msg);

void eng_reply_when_durable(dc_engine *e, dc_request *req, live *lv);

/* eng_waiter_of returns the engine's state of client request req (a
 * DC_MAIL_REQUEST; borrowed, valid while the engine holds req). */
waiter *eng_waiter_of(dc_engine *e, dc_request *req);

void eng_waiter_remove(waiter *w);

void eng_answer_waiters(dc_engine *e, live *lv);

void eng_on_finals_done(dc_engine *e, dc_finals_job *j);

const ProtobufCMessage *eng_admin_body(const Dtx__V1__AdminRequest *m);

bool eng_has_unknown(const ProtobufCMessage *m, const ProtobufCMessage *body);

bool eng_is_client_request(const dc_engine *e, const void *buf, size_t len);

void eng_on_request(dc_engine *e, dc_request *req);

void eng_on_mail(void *arg, dc_mail *mail);

/* ---- drive.c ---- */

/* eng_about says what a log line is about (diag.h): tx (borrowed: it must
 * outlive the line), and its branch step (-1: none) and op's call (0:
 * none). */
dc_diag_about eng_about(const dc_tx *tx, int64_t step, dtx_op op);

bool eng_apply(dc_engine *e, live *lv, const dc_event *ev, const char *what);

void eng_run_fx(dc_engine *e, const fx *x);

void eng_on_call_done(dc_engine *e, dc_call *call);

void eng_run_due(dc_engine *e);

void eng_arm_timer(dc_engine *e);

void eng_arm_deadline(dc_engine *e, live *lv);

/* ---- load.c ---- */

void eng_quarantine(dc_engine *e, const dc_log_bad *bad);

int eng_read_tx(dc_engine *e, dc_request *req, const char *gid, dc_tx **ret_tx,
                dc_log_bad *ret_bad);

void eng_send_read_error(dc_request *req, const char *gid, int rv);

void eng_quarantined_msg(const dc_log_bad *bad, char *buf, size_t len);

void eng_on_admin_done(dc_admin_job *j);

void eng_on_read_done(dc_engine *e, dc_mail *mail);

/* ---- operator.c ---- */

void eng_admin_send(dc_request *req, dc_admin_out *o);

const char *eng_refusal(const dc_tx *tx, const Dtx__V1__AdminAct *a, char *msg,
                        size_t len);

void eng_on_admin(dc_engine *e, dc_request *req);

/* ---- recovery.c ---- */

int eng_recover(dc_engine *e, char *errbuf, size_t errlen);

int eng_recover_tx(dc_engine *e, dc_tx *tx);

int eng_recover_bad(void *arg, const dc_log_bad *bad);

/* ---- leases.c ---- */

int eng_leases_create(dc_engine *e, char *errbuf, size_t errlen);

int eng_leases_start(dc_engine *e);

void eng_leases_stop(dc_engine *e);

void eng_leases_destroy(dc_engine *e);

void eng_leases_on_mail(dc_engine *e, dc_mail *mail);

void eng_leases_fence(dc_engine *e, dc_log_batch *batch, const char *gid);

bool eng_leases_may_make_ids(const dc_engine *e);

uint64_t eng_leases_epoch_of(const dc_engine *e, const char *gid);

int eng_leases_set_floor(dc_engine *e, dc_log_batch *batch, uint64_t id);

__attribute__((noreturn)) void eng_leases_die_fenced(dc_engine *e,
                                                     const char *detail);

/* eng_leases_prune_scope limits spec (f's) to the shards this instance
 * owns, each fenced by its epoch (copied into f->prune_epoch: the loop
 * may move on while the worker prunes). Without leases: no change. */
void eng_leases_prune_scope(dc_engine *e, flight *f);

/* eng_leases_shards fills o with every shard as this instance knows it
 * (dtxctl shards): from the last lease round with leases, else from the
 * flags (owned shards OWNED, the others UNKNOWN). Loop thread. */
void eng_leases_shards(dc_engine *e, dc_admin_out *o);

/* eng_leases_admin_url: the admin URL the owner of shard advertises, or
 * NULL if unknown (no leases, or none advertised). Loop thread. */
const char *eng_leases_admin_url(const dc_engine *e, uint32_t shard);

#endif
