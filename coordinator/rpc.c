/*
 * rpc.c - branch calls over nng req0 contexts (see rpc.h).
 *
 * A call is packed at once and waits on its peer's pending list until the
 * loop's next dc_rpc_flush (before the loop sleeps); the flush sends the
 * calls of each peer that are ready together as one request (a batch,
 * dtx.proto BranchCall.batch, at most WIRE_BATCH_MAX), so a group commit
 * that makes a hundred calls costs a few messages, not a hundred. A
 * request (wmsg) cycles SEND -> RECV -> (each call posted to the engine)
 * -> free list of its peer once the engine released its last call. The
 * aio callback runs on nng's threads: it decodes the reply there (moving
 * that CPU off the loop) and posts; it never touches engine state. Peers
 * are kept in a small chained hash table keyed by URL; a peer's calls and
 * requests are allocated on first use and reused while the peer lives (no
 * allocation per call once warm, besides the nng_msg and the decoded
 * reply).
 *
 * Peers are bounded by use, because a URL comes from a client:
 *   - a peer with no connection (no pipe: nng is dialling it) costs CPU
 *     and descriptors on every dial attempt, and nng 1.5.2's poller spins
 *     on each unconnected unix socket until its reaper closes it: a
 *     thousand dead peers drive dtxd to EMFILE. So at most max_dialing
 *     peers may be without a connection, and one is closed as soon as it
 *     has no call (its next call dials afresh);
 *   - a connected peer costs one descriptor; at most max_peers are held,
 *     and one unused for idle_ms is closed (swept from dc_rpc_flush);
 *   - a new URL that finds either limit reached takes the place of the
 *     least recently used idle peer, else of a busy peer without a
 *     connection that is dead: none for DIAL_GRACE_MS, or nng counted a
 *     failed dial, or its URL was dead lately (an ipc:// path with no
 *     socket, or a peer closed unconnected in the last DEAD_MEMORY_MS).
 *     The dead peer's calls complete at once as unreachable; a healthy
 *     participant connects well within the grace, so a flood of dead URLs
 *     cannot lock a healthy one out. A URL dead lately evicts nobody. Else
 *     the call is refused with DTX_ELIMIT.
 * A peer is closed only with nothing in flight (PLATFORM.md, the stuck
 * reaper): an evicted peer leaves the table at once but keeps its socket
 * until the engine released its last call. And only with its aios stopped
 * first (stop_peer): a callback may still be inside nng for a request
 * whose calls were already released, and nng 1.5.2 aborts the process if
 * nng_close frees the socket under it.
 */
#include "rpc.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>

#include "diag.h"
#include "fault.h"
#include "netutil.h"

#define PEER_BUCKETS      256
#define DEADLINE_SLACK_MS 50    /* see same_deadline */
#define DIAL_GRACE_MS     1000  /* a new peer's time to connect (see top) */
#define SWEEP_EVERY_MS    1000  /* idle peers are looked for this often */
#define FULL_WARN_MS      10000 /* at most one "peers full" line this often */
#define DEAD_SLOTS        4096  /* URLs remembered as dead (a hash table) */
#define DEAD_MEMORY_MS    60000 /* ... for this long */
#define DIAL_STATS_MS     100   /* nng's dialer counters read this often */

typedef enum wire_phase {
	PHASE_IDLE = 0,
	PHASE_SEND,
	PHASE_RECV,
} wire_phase;

typedef struct peer peer;
typedef struct wmsg wmsg;

/* rcall - one call, from dc_rpc_call to dc_rpc_release. */
typedef struct rcall {
	dc_call call; /* first: a dc_call * is a struct rcall * */
	peer *peer;
	wmsg *w; /* the message it went out in, while in flight */
	nng_time deadline;
	bool alone;   /* a resend: never batched (see dc_rpc_call) */
	uint8_t *buf; /* owned: the packed BranchCall, reused */
	size_t len, cap;
	struct rcall *next; /* the peer's pending or free list */
	struct rcall *next_all;
} rcall;

/* wmsg - one request on the wire: a call, or a batch of calls to one
 * peer, on its own req0 context. */
struct wmsg {
	dc_rpc *rpc;
	peer *peer;
	nng_ctx ctx;
	nng_aio *aio;
	wire_phase phase;
	nng_time deadline; /* the earliest of its calls' */
	unsigned n;        /* calls in it */
	unsigned left;     /* calls not yet released */
	rcall *calls[WIRE_BATCH_MAX];
	Dtx__V1__BranchReply *reply; /* owned: the decoded answer */
	wmsg *next_free;
	wmsg *next_all;
};

/* peer - one participant URL: its socket, its dialer and its pools. Loop
 * thread only, except pipes and lost_at (written by pipe_cb on nng's
 * threads) and evicted (read by wmsg_cb after nng_aio_cancel). */
struct peer {
	char *url;
	nng_socket sock;
	nng_dialer dialer;
	bool sock_open;
	rcall *free_calls;
	wmsg *free_msgs;
	rcall *all_calls;             /* every call of this peer (owned) */
	wmsg *all_msgs;               /* every request of this peer (owned) */
	rcall *pend_head, *pend_tail; /* calls waiting for dc_rpc_flush */
	bool dirty;                   /* on the rpc's dirty list */
	bool evicted;                 /* out of the table, closing */
	bool was_dead;                /* its URL was dead DEAD_MEMORY_MS ago */
	bool dial_failed;             /* nng counted a failed dial */
	uint64_t key;                 /* url_key */
	unsigned ncalls;              /* calls not released */
	nng_time born, last_used;
	atomic_int pipes;      /* connections (ADD_PRE - REM_POST) */
	atomic_ullong lost_at; /* nng_clock of the last lost connection */
	peer *next_dirty;
	peer *next;                /* hash chain, or the evicted list */
	peer *lru_prev, *lru_next; /* table order, most recently used first */
};

struct dc_rpc {
	dc_rpc_opts opts;
	dc_mailbox *mb;
	peer *buckets[PEER_BUCKETS];
	unsigned npeers;      /* in the table */
	unsigned outstanding; /* calls not released */
	peer *dirty;          /* peers with pending calls */
	peer *lru_head, *lru_tail;
	peer *evicted; /* out of the table, waiting for their calls */
	nng_time next_sweep;
	nng_time next_dial_stats;
	struct {
		uint64_t key;
		nng_time at;
	} dead[DEAD_SLOTS]; /* URLs closed without a connection */
	nng_time next_full_warn;
	dc_rpc_stats stats;
	bool closed;
};

static uint32_t url_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h % PEER_BUCKETS;
}

/* url_key is a 64-bit FNV-1a of the URL, its name in the dead table. */
static uint64_t url_key(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

/* ---- peers (loop thread) ----------------------------------------------- */

/* pipe_cb counts p's connections; it runs on nng's threads, never after
 * nng_close of p's socket returned. */
static void pipe_cb(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
	peer *p = arg;

	(void)pipe;
	if (ev == NNG_PIPE_EV_ADD_PRE) {
		atomic_fetch_add(&p->pipes, 1);
		return;
	}
	atomic_store(&p->lost_at, (unsigned long long)nng_clock());
	atomic_fetch_sub(&p->pipes, 1);
}

static bool peer_is_connected(peer *p)
{
	return atomic_load(&p->pipes) > 0;
}

/* peer_is_dead tells whether p has no connection and either had none
 * for DIAL_GRACE_MS or its URL was dead already when it was opened (a
 * dead URL that comes back gets no new grace: else a flood of dead URLs,
 * retried, would keep every place young and lock a healthy one out). */
static bool peer_is_dead(peer *p, nng_time now)
{
	nng_time since = p->born;
	nng_time lost = (nng_time)atomic_load(&p->lost_at);

	if (peer_is_connected(p))
		return false;
	if (p->was_dead || p->dial_failed)
		return true;
	if (lost > since)
		since = lost;
	return now - since >= DIAL_GRACE_MS;
}

/* remember_dead notes that p's URL had no connection when p closed. */
static void remember_dead(dc_rpc *rpc, peer *p)
{
	size_t i = p->key % DEAD_SLOTS;

	if (peer_is_connected(p))
		return;
	rpc->dead[i].key = p->key;
	rpc->dead[i].at = nng_clock();
}

/* url_was_dead tells whether a peer of url (key) closed without a
 * connection in the last DEAD_MEMORY_MS, or url is an ipc:// path with no
 * socket behind it (nothing could answer there now; a participant that
 * starts later is still dialled and connects). */
static bool url_was_dead(const dc_rpc *rpc, const char *url, uint64_t key,
                         nng_time now)
{
	size_t i = key % DEAD_SLOTS;
	struct stat st;

	if (strncmp(url, "ipc://", 6) == 0 &&
	    (stat(url + 6, &st) != 0 || !S_ISSOCK(st.st_mode)))
		return true;
	return rpc->dead[i].key == key && rpc->dead[i].at != 0 &&
	       now - rpc->dead[i].at < DEAD_MEMORY_MS;
}

/* stop_peer stops every aio of p (waiting for its callback), then closes
 * p's socket: nothing is in flight when it closes, and no callback of p is
 * running. The second matters even with no call left: a callback that sent
 * a request calls nng_ctx_recv, and the receive can complete (peer gone:
 * ECONNRESET; deadline passed: a 1 ms timeout) on another nng thread whose
 * callback posts the calls, so the loop releases them and closes p while
 * the first thread is still inside nng_ctx_recv, holding the context. nng
 * 1.5.2 then frees the socket under it (nni_ctx_rele unlists the context
 * before req0_ctx_fini takes the socket's mutex, and nng_close waits only
 * for the list): "panic: pthread_mutex_lock: Invalid argument", SIGABRT.
 * nng_aio_stop waits for every running callback of its aio and refuses
 * new operations on it, so nng_close then has no caller inside p; the
 * aios are freed before it (see below). */
static void stop_peer(peer *p)
{
	for (wmsg *w = p->all_msgs; w != NULL; w = w->next_all)
		if (w->aio != NULL)
			nng_aio_cancel(w->aio);
	for (wmsg *w = p->all_msgs; w != NULL; w = w->next_all)
		if (w->aio != NULL)
			nng_aio_stop(w->aio);
	/* A stopped aio serves no more (nng 1.5.2), and nng_aio_free also
	 * waits for a cancel function nng's timeout thread took with one
	 * of p's contexts before the aio completed and may still be calling
	 * (nni_aio_expire_loop; libdtx's client.c, bury): only then may
	 * nng_close free those contexts. */
	for (wmsg *w = p->all_msgs; w != NULL; w = w->next_all) {
		nng_aio_free(w->aio);
		w->aio = NULL;
	}
	if (p->sock_open)
		nng_close(p->sock);
	p->sock_open = false;
}

/* peer_destroy closes p's socket (stop_peer) and frees p with its pools.
 * No call of p may be in flight (none left, or the rpc is closed): the
 * stop only waits out callbacks that are finishing. */
static void peer_destroy(peer *p)
{
	if (p == NULL)
		return;
	stop_peer(p);
	for (wmsg *w = p->all_msgs, *next; w != NULL; w = next) {
		next = w->next_all;
		wire_branch_reply_free(w->reply);
		free(w); /* its aio: freed by stop_peer */
	}
	for (rcall *c = p->all_calls, *next; c != NULL; c = next) {
		next = c->next_all;
		free(c->buf);
		free(c);
	}
	free(p->url);
	free(p);
}

/* peer_tls gives p's socket dtxd's client TLS configuration (to every
 * dialer it will have); a tls+tcp:// URL without one is refused. */
static int peer_tls(dc_rpc *rpc, peer *p)
{
	if (rpc->opts.tls == NULL) {
		if (!tlsconf_is_tls_url(p->url))
			return DTX_OK;
		dc_diag(DTX_LOG_WARN,
		        "branch call to %s: dtxd has no TLS client settings "
		        "(--tls-ca, and --tls-cert/--tls-key if the "
		        "participant asks for a certificate)",
		        p->url);
		return DTX_EINVAL;
	}
	return dc_err_from_nng(
	        nng_socket_set_ptr(p->sock, NNG_OPT_TLS_CONFIG, rpc->opts.tls));
}

static int peer_open_socket(dc_rpc *rpc, peer *p)
{
	int rv = nng_req0_open(&p->sock);

	if (rv != 0)
		return dc_err_from_nng(rv);
	p->sock_open = true;
	nng_socket_set_size(p->sock, NNG_OPT_RECVMAXSZ,
	                    rpc->opts.max_msg_bytes);
	/* The engine owns resends (attempt numbers, backoff): none from nng. */
	nng_socket_set_ms(p->sock, NNG_OPT_REQ_RESENDTIME,
	                  NNG_DURATION_INFINITE);
	nng_socket_set_ms(p->sock, NNG_OPT_RECONNMINT, 20);
	nng_socket_set_ms(p->sock, NNG_OPT_RECONNMAXT, 1000);
	if ((rv = peer_tls(rpc, p)) != DTX_OK)
		return rv;
	if ((rv = nng_pipe_notify(p->sock, NNG_PIPE_EV_ADD_PRE, pipe_cb, p)) !=
	            0 ||
	    (rv = nng_pipe_notify(p->sock, NNG_PIPE_EV_REM_POST, pipe_cb, p)) !=
	            0)
		return dc_err_from_nng(rv);
	rv = nng_dial(p->sock, p->url, &p->dialer, NNG_FLAG_NONBLOCK);
	return dc_err_from_nng(rv);
}

static void lru_unlink(dc_rpc *rpc, peer *p)
{
	if (p->lru_prev != NULL)
		p->lru_prev->lru_next = p->lru_next;
	else
		rpc->lru_head = p->lru_next;
	if (p->lru_next != NULL)
		p->lru_next->lru_prev = p->lru_prev;
	else
		rpc->lru_tail = p->lru_prev;
	p->lru_prev = p->lru_next = NULL;
}

static void lru_push(dc_rpc *rpc, peer *p)
{
	p->lru_prev = NULL;
	p->lru_next = rpc->lru_head;
	if (rpc->lru_head != NULL)
		rpc->lru_head->lru_prev = p;
	else
		rpc->lru_tail = p;
	rpc->lru_head = p;
}

/* peer_unlist takes p out of the table (hash and LRU). */
static void peer_unlist(dc_rpc *rpc, peer *p)
{
	peer **pp = &rpc->buckets[url_hash(p->url)];

	while (*pp != p)
		pp = &(*pp)->next;
	*pp = p->next;
	p->next = NULL;
	lru_unlink(rpc, p);
	rpc->npeers--;
}

/* peer_close takes an idle p (no call) out of the table and closes it. */
static void peer_close(dc_rpc *rpc, peer *p)
{
	remember_dead(rpc, p);
	peer_unlist(rpc, p);
	rpc->stats.closed++;
	peer_destroy(p);
}

/* peer_evict takes a busy p out of the table and completes its calls in
 * flight as unreachable (nng_aio_cancel; the callbacks post them). Its
 * pending calls fail at the next flush; it is destroyed when the engine
 * released its last call. */
static void peer_evict(dc_rpc *rpc, peer *p)
{
	remember_dead(rpc, p);
	peer_unlist(rpc, p);
	p->evicted = true;
	p->next = rpc->evicted;
	rpc->evicted = p;
	rpc->stats.evicted++;
	dc_diag(DTX_LOG_DEBUG,
	        "participant %s has no connection and the peer table is "
	        "full: its calls fail as unreachable",
	        p->url);
	for (wmsg *w = p->all_msgs; w != NULL; w = w->next_all)
		if (w->phase != PHASE_IDLE)
			nng_aio_cancel(w->aio);
}

/* peer_forget destroys an evicted p once its last call was released. */
static void peer_forget(dc_rpc *rpc, peer *p)
{
	peer **pp = &rpc->evicted;

	while (*pp != p)
		pp = &(*pp)->next;
	*pp = p->next;
	rpc->stats.closed++;
	peer_destroy(p);
}

/* count_dialing returns the table's peers without a connection. */
static unsigned count_dialing(const dc_rpc *rpc)
{
	unsigned n = 0;

	for (peer *p = rpc->lru_head; p != NULL; p = p->lru_next)
		n += !peer_is_connected(p);
	return n;
}

/* dial_failures is how many dials nng counted as failed in ds. */
static uint64_t dial_failures(nng_stat *ds)
{
	static const char *const names[] = {"refused", "timeout", "other",
	                                    "proto",   "auth",    "reject"};
	uint64_t n = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		nng_stat *c = nng_stat_find(ds, names[i]);

		if (c != NULL)
			n += nng_stat_value(c);
	}
	return n;
}

/* mark_failed_dials reads nng's dialer counters (at most every
 * DIAL_STATS_MS: a snapshot covers every socket) and marks the peers
 * without a connection whose dials failed: they need no grace, so a flood
 * of dead URLs that fail at once (refused, no such path) gives way to a
 * new URL at once. */
static void mark_failed_dials(dc_rpc *rpc, nng_time now)
{
	nng_stat *all;

	if (now < rpc->next_dial_stats || nng_stats_get(&all) != 0)
		return;
	rpc->next_dial_stats = now + DIAL_STATS_MS;
	for (peer *p = rpc->lru_head; p != NULL; p = p->lru_next) {
		nng_stat *ds;

		if (p->dial_failed || peer_is_connected(p))
			continue;
		ds = nng_stat_find_dialer(all, p->dialer);
		p->dial_failed = ds != NULL && dial_failures(ds) > 0;
	}
	nng_stats_free(all);
}

/* make_room frees a place for a new peer of a URL (dead: whether it was
 * dead lately) if the table, or its peers without a connection, is full:
 * it closes the least recently used idle peer (one without a connection,
 * when dialing is what is full), else, for a URL not dead lately, evicts
 * the least recently used dead peer. Errors: DTX_ELIMIT (no such peer). */
static int make_room(dc_rpc *rpc, bool dead)
{
	bool table_full = rpc->npeers >= rpc->opts.max_peers;
	bool dial_full = count_dialing(rpc) >= rpc->opts.max_dialing;
	nng_time now = nng_clock();

	if (!table_full && !dial_full)
		return DTX_OK;
	for (peer *p = rpc->lru_tail; p != NULL; p = p->lru_prev)
		if (p->ncalls == 0 && (!dial_full || !peer_is_connected(p))) {
			peer_close(rpc, p);
			return DTX_OK;
		}
	if (!dead)
		mark_failed_dials(rpc, now);
	for (peer *p = rpc->lru_tail; p != NULL && !dead; p = p->lru_prev)
		if (peer_is_dead(p, now)) {
			peer_evict(rpc, p);
			return DTX_OK;
		}
	rpc->stats.refused++;
	if (now >= rpc->next_full_warn) {
		rpc->next_full_warn = now + FULL_WARN_MS;
		dc_diag(DTX_LOG_WARN,
		        "peer table full (%u peers, %u without a connection, "
		        "all busy): calls to new participants are refused for "
		        "now (%llu so far)",
		        rpc->npeers, count_dialing(rpc),
		        (unsigned long long)rpc->stats.refused);
	}
	return DTX_ELIMIT;
}

static int peer_get(dc_rpc *rpc, const char *url, peer **ret_peer)
{
	uint32_t b = url_hash(url);
	uint64_t key = url_key(url);
	bool dead;
	peer *p;
	int rv;

	for (p = rpc->buckets[b]; p != NULL; p = p->next)
		if (strcmp(p->url, url) == 0) {
			*ret_peer = p;
			return DTX_OK;
		}
	dead = url_was_dead(rpc, url, key, nng_clock());
	if ((rv = make_room(rpc, dead)) != DTX_OK)
		return rv;
	p = calloc(1, sizeof(*p));
	if (p == NULL || (p->url = strdup(url)) == NULL) {
		free(p);
		return DTX_ENOMEM;
	}
	atomic_init(&p->pipes, 0);
	atomic_init(&p->lost_at, 0);
	p->born = nng_clock();
	p->key = key;
	p->was_dead = dead;
	rv = peer_open_socket(rpc, p);
	if (rv != DTX_OK) {
		peer_destroy(p);
		return rv;
	}
	p->next = rpc->buckets[b];
	rpc->buckets[b] = p;
	lru_push(rpc, p);
	rpc->npeers++;
	rpc->stats.opened++;
	*ret_peer = p;
	return DTX_OK;
}

/* peer_touch marks p as just used (the front of the LRU list). */
static void peer_touch(dc_rpc *rpc, peer *p)
{
	p->last_used = nng_clock();
	if (rpc->lru_head != p) {
		lru_unlink(rpc, p);
		lru_push(rpc, p);
	}
}

/* sweep closes the peers unused for idle_ms (and idle ones that lost
 * their connection), at most once per SWEEP_EVERY_MS. */
static void sweep(dc_rpc *rpc)
{
	nng_time now = nng_clock();
	peer *p, *prev;

	if (now < rpc->next_sweep)
		return;
	rpc->next_sweep = now + SWEEP_EVERY_MS;
	for (p = rpc->lru_tail; p != NULL; p = prev) {
		prev = p->lru_prev;
		if (p->ncalls > 0 || p->pend_head != NULL)
			continue;
		if (now - p->last_used >= rpc->opts.idle_ms ||
		    !peer_is_connected(p))
			peer_close(rpc, p);
	}
}

/* ---- completions (nng threads) ----------------------------------------- */

/* complete_all posts every call of w with result and detail. */
static void complete_all(wmsg *w, int result, const char *detail)
{
	w->phase = PHASE_IDLE;
	w->left = w->n;
	for (unsigned i = 0; i < w->n; i++) {
		dc_call *c = &w->calls[i]->call;

		c->result = result;
		c->reply = NULL;
		snprintf(c->error, sizeof(c->error), "%s", detail);
	}
	/* after the last post the loop may release w: read nothing of it */
	for (unsigned i = 0, n = w->n; i < n; i++)
		dc_mailbox_post(w->rpc->mb, &w->calls[i]->call.mail);
}

/* got_reply decodes the answer to w's n calls and posts each call with
 * its reply (a batch's replies stay in w->reply until the last call is
 * released). */
static void got_reply(wmsg *w)
{
	nng_msg *msg = nng_aio_get_msg(w->aio);
	Dtx__V1__BranchReply *rep = NULL;
	char err[160] = "";
	int rv;

	rv = wire_branch_replies_decode(nng_msg_body(msg), nng_msg_len(msg),
	                                w->n, &rep, err, sizeof(err));
	nng_msg_free(msg);
	if (rv != DTX_OK) {
		complete_all(w, DTX_EPROTO, err);
		return;
	}
	w->reply = rep;
	w->phase = PHASE_IDLE;
	w->left = w->n;
	for (unsigned i = 0; i < w->n; i++) {
		dc_call *c = &w->calls[i]->call;

		c->result = DTX_OK;
		c->error[0] = '\0';
		c->reply = w->n == 1 ? rep : rep->batch[i];
	}
	for (unsigned i = 0, n = w->n; i < n; i++)
		dc_mailbox_post(w->rpc->mb, &w->calls[i]->call.mail);
}

/* time_left returns the nng timeout until deadline: at least 1 ms, and
 * never past nng_duration's range (a cast of a larger count would turn
 * negative: a short or infinite wait). */
static nng_duration time_left(nng_time deadline)
{
	nng_time now = nng_clock();

	if (deadline <= now)
		return 1;
	if (deadline - now > DC_RPC_TIMEOUT_MAX_MS)
		return DC_RPC_TIMEOUT_MAX_MS;
	return (nng_duration)(deadline - now);
}

/* fail_wmsg completes w's calls after nng error rv. A send that found no
 * connection for its whole deadline was never delivered: the participant
 * is unreachable (down, or nothing listens at its URL), not slow - only a
 * call sent and not answered in time is a timeout (its effect unknown). */
static void fail_wmsg(wmsg *w, int rv)
{
	peer *p = w->peer;
	bool timeout = dc_err_from_nng(rv) == DTX_ETIMEDOUT;

	if (timeout && w->phase == PHASE_SEND && !peer_is_connected(p)) {
		complete_all(w, DTX_EUNREACHABLE,
		             p->evicted ? "no connection (peer table full)"
		                        : "no connection to the participant "
		                          "(down, or nothing listens at its "
		                          "URL)");
		return;
	}
	complete_all(w, timeout ? DTX_ETIMEDOUT : DTX_EUNREACHABLE,
	             p->evicted ? "no connection (peer table full)"
	                        : nng_strerror(rv));
}

static void wmsg_cb(void *arg)
{
	wmsg *w = arg;
	int rv = nng_aio_result(w->aio);

	if (rv == NNG_ECLOSED || (rv == NNG_ECANCELED && w->rpc->closed)) {
		if (w->phase == PHASE_SEND) /* a failed send leaves it to us */
			nng_msg_free(nng_aio_get_msg(w->aio));
		return; /* shutting down: nothing is posted */
	}
	if (rv != 0) {
		if (w->phase == PHASE_SEND)
			nng_msg_free(nng_aio_get_msg(w->aio));
		fail_wmsg(w, rv);
		return;
	}
	if (w->phase == PHASE_RECV) {
		got_reply(w);
		return;
	}
	w->phase = PHASE_RECV;
	DTX_HOLD("rpc.sent"); /* rpc_close_test: the peer goes meanwhile */
	nng_aio_set_timeout(w->aio, time_left(w->deadline));
	nng_ctx_recv(w->ctx, w->aio);
}

/* ---- pools (loop thread) ----------------------------------------------- */

/* wmsg_get takes a free request of p or makes one; NULL with *ret_err set
 * on failure. */
static wmsg *wmsg_get(dc_rpc *rpc, peer *p, int *ret_err)
{
	wmsg *w = p->free_msgs;
	int rv;

	if (w != NULL) {
		p->free_msgs = w->next_free;
		return w;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		*ret_err = DTX_ENOMEM;
		return NULL;
	}
	w->rpc = rpc;
	w->peer = p;
	if ((rv = nng_aio_alloc(&w->aio, wmsg_cb, w)) != 0 ||
	    (rv = nng_ctx_open(&w->ctx, p->sock)) != 0) {
		nng_aio_free(w->aio);
		free(w);
		*ret_err = dc_err_from_nng(rv);
		return NULL;
	}
	w->next_all = p->all_msgs;
	p->all_msgs = w;
	return w;
}

/* rcall_get takes a free call of p or makes one (NULL: out of memory). */
static rcall *rcall_get(peer *p)
{
	rcall *c = p->free_calls;

	if (c != NULL) {
		p->free_calls = c->next;
		return c;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->peer = p;
	c->call.mail.kind = DC_MAIL_CALL;
	c->next_all = p->all_calls;
	p->all_calls = c;
	return c;
}

/* pack_into packs msg into c's buffer (grown when needed). */
static int pack_into(rcall *c, const Dtx__V1__BranchCall *msg)
{
	size_t len = wire_packed_size(&msg->base);

	if (len > c->cap) {
		uint8_t *nb = realloc(c->buf, len);

		if (nb == NULL)
			return DTX_ENOMEM;
		c->buf = nb;
		c->cap = len;
	}
	wire_pack(&msg->base, c->buf);
	c->len = len;
	return DTX_OK;
}

int dc_rpc_create(const dc_rpc_opts *opts, dc_mailbox *mb, dc_rpc **ret_rpc)
{
	dc_rpc *rpc = calloc(1, sizeof(*rpc));

	if (rpc == NULL)
		return DTX_ENOMEM;
	rpc->opts = *opts;
	rpc->mb = mb;
	*ret_rpc = rpc;
	return DTX_OK;
}

uint32_t dc_rpc_timeout_clamp(uint32_t timeout_ms)
{
	if (timeout_ms == 0)
		return 1;
	return timeout_ms > DC_RPC_TIMEOUT_MAX_MS ? DC_RPC_TIMEOUT_MAX_MS
	                                          : timeout_ms;
}

int dc_rpc_call(dc_rpc *rpc, const char *url, const Dtx__V1__BranchCall *msg,
                uint32_t timeout_ms, void *owner, uint64_t token)
{
	peer *p;
	rcall *c;
	int rv;

	if (rpc->closed)
		return DTX_ECLOSED;
	if (rpc->outstanding >= rpc->opts.max_calls)
		return DTX_EBUSY;
	if ((rv = peer_get(rpc, url, &p)) != DTX_OK)
		return rv;
	if ((c = rcall_get(p)) == NULL)
		return DTX_ENOMEM;
	if ((rv = pack_into(c, msg)) != DTX_OK) {
		c->next = p->free_calls;
		p->free_calls = c;
		return rv;
	}
	c->call.owner = owner;
	c->call.token = token;
	c->call.reply = NULL;
	c->deadline = nng_clock() + dc_rpc_timeout_clamp(timeout_ms);
	/* A resend goes alone: if a batch's answer was lost (too big for
	 * the receive limit, say), its calls must not fail together again. */
	c->alone = msg->attempt > 1;
	c->next = NULL;
	if (p->pend_tail != NULL)
		p->pend_tail->next = c;
	else
		p->pend_head = c;
	p->pend_tail = c;
	if (!p->dirty) {
		p->dirty = true;
		p->next_dirty = rpc->dirty;
		rpc->dirty = p;
	}
	rpc->outstanding++;
	p->ncalls++;
	peer_touch(rpc, p);
	return DTX_OK;
}

/* same_deadline tells whether a and b may share a request: one deadline
 * serves a batch, so their own may differ by at most DEADLINE_SLACK_MS
 * (calls with the same timeout made in one loop turn do). */
static bool same_deadline(const rcall *a, const rcall *b)
{
	nng_time d = a->deadline > b->deadline ? a->deadline - b->deadline
	                                       : b->deadline - a->deadline;

	return d <= DEADLINE_SLACK_MS;
}

/* take_batch moves the next calls of p's pending list into w: one that
 * must go alone, or up to WIRE_BATCH_MAX others in order while the
 * message stays within max_msg_bytes. Returns the message size. */
static size_t take_batch(dc_rpc *rpc, peer *p, wmsg *w)
{
	rcall *c = p->pend_head;
	size_t total = c->len, batch = wire_batch_head_size();

	w->n = 0;
	w->deadline = c->deadline;
	if (!c->alone)
		for (; c != NULL && !c->alone && w->n < WIRE_BATCH_MAX;
		     c = c->next) {
			size_t item =
			        wire_batch_item_head_size(c->len) + c->len;

			if (w->n > 0 &&
			    (batch + item > rpc->opts.max_msg_bytes ||
			     !same_deadline(c, w->calls[0])))
				break;
			batch += item;
			w->calls[w->n++] = c;
			if (c->deadline < w->deadline)
				w->deadline = c->deadline;
		}
	if (w->n == 0) /* the first goes alone */
		w->calls[w->n++] = p->pend_head;
	p->pend_head = w->calls[w->n - 1]->next;
	if (p->pend_head == NULL)
		p->pend_tail = NULL;
	return w->n == 1 ? total : batch;
}

/* build_msg writes w's calls into a new nng_msg of len bytes. */
static int build_msg(wmsg *w, size_t len, nng_msg **ret_msg)
{
	nng_msg *m;
	uint8_t *b;

	if (nng_msg_alloc(&m, len) != 0)
		return DTX_ENOMEM;
	b = nng_msg_body(m);
	if (w->n == 1) {
		memcpy(b, w->calls[0]->buf, w->calls[0]->len);
	} else {
		wire_batch_head(b);
		b += wire_batch_head_size();
		for (unsigned i = 0; i < w->n; i++) {
			b += wire_batch_item_head(b, false, w->calls[i]->len);
			memcpy(b, w->calls[i]->buf, w->calls[i]->len);
			b += w->calls[i]->len;
		}
	}
	*ret_msg = m;
	return DTX_OK;
}

/* fail_next completes the next request's worth of p's pending calls as
 * undeliverable (why), without sending them. */
static void fail_next(dc_rpc *rpc, peer *p, const char *why)
{
	wmsg tmp = {.rpc = rpc, .peer = p};

	take_batch(rpc, p, &tmp);
	for (unsigned i = 0; i < tmp.n; i++) {
		dc_call *c = &tmp.calls[i]->call;

		c->result = DTX_EUNREACHABLE;
		c->reply = NULL;
		tmp.calls[i]->w = NULL;
		snprintf(c->error, sizeof(c->error), "%s", why);
		dc_mailbox_post(rpc->mb, &c->mail);
	}
}

/* send_next sends the next request of p's pending calls. A request that
 * cannot be made (or is for an evicted peer) completes its calls as
 * undeliverable, so the engine backs off and calls again. */
static void send_next(dc_rpc *rpc, peer *p)
{
	wmsg *w;
	nng_msg *m = NULL;
	size_t len;
	int rv = DTX_OK;

	if (p->evicted) {
		fail_next(rpc, p, "no connection (peer table full)");
		return;
	}
	w = wmsg_get(rpc, p, &rv);
	if (w == NULL) {
		fail_next(rpc, p, dtx_strerror(rv));
		return;
	}
	len = take_batch(rpc, p, w);
	for (unsigned i = 0; i < w->n; i++)
		w->calls[i]->w = w;
	w->reply = NULL;
	if (build_msg(w, len, &m) != DTX_OK) {
		complete_all(w, DTX_EUNREACHABLE, dtx_strerror(DTX_ENOMEM));
		return;
	}
	w->phase = PHASE_SEND;
	nng_aio_set_timeout(w->aio, time_left(w->deadline));
	nng_aio_set_msg(w->aio, m);
	nng_ctx_send(w->ctx, w->aio);
}

void dc_rpc_flush(dc_rpc *rpc)
{
	peer *p;

	while ((p = rpc->dirty) != NULL) {
		rpc->dirty = p->next_dirty;
		p->dirty = false;
		p->next_dirty = NULL;
		while (p->pend_head != NULL && !rpc->closed)
			send_next(rpc, p);
	}
	if (!rpc->closed)
		sweep(rpc);
}

/* peer_released closes p once its last call was released, if it was
 * evicted or has no connection (an unconnected peer costs a dial attempt
 * every second or so; its next call dials afresh). */
static void peer_released(dc_rpc *rpc, peer *p)
{
	p->last_used = nng_clock();
	if (p->ncalls > 0 || rpc->closed)
		return;
	if (p->evicted)
		peer_forget(rpc, p);
	else if (!peer_is_connected(p))
		peer_close(rpc, p);
}

void dc_rpc_release(dc_rpc *rpc, dc_call *call)
{
	rcall *c = (rcall *)call;
	wmsg *w = c->w;
	peer *p = c->peer;

	call->reply = NULL;
	call->owner = NULL;
	c->w = NULL;
	c->next = p->free_calls;
	p->free_calls = c;
	rpc->outstanding--;
	p->ncalls--;
	if (w != NULL && --w->left == 0) {
		wire_branch_reply_free(w->reply);
		w->reply = NULL;
		w->n = 0;
		w->next_free = p->free_msgs;
		p->free_msgs = w;
	}
	peer_released(rpc, p);
}

unsigned dc_rpc_outstanding(const dc_rpc *rpc)
{
	return rpc->outstanding;
}

void dc_rpc_stats_get(const dc_rpc *rpc, dc_rpc_stats *ret_stats)
{
	*ret_stats = rpc->stats;
	ret_stats->peers = rpc->npeers;
	ret_stats->dialing = count_dialing(rpc);
	ret_stats->closing = 0;
	for (const peer *p = rpc->evicted; p != NULL; p = p->next)
		ret_stats->closing++;
}

int dc_rpc_set_tls(dc_rpc *rpc, nng_tls_config *tls)
{
	int rv = DTX_OK;

	if (tls == NULL)
		return DTX_OK;
	rpc->opts.tls = tls;
	for (unsigned b = 0; b < PEER_BUCKETS; b++)
		for (peer *p = rpc->buckets[b]; p != NULL; p = p->next)
			if (p->sock_open && tlsconf_is_tls_url(p->url) &&
			    nng_socket_set_ptr(p->sock, NNG_OPT_TLS_CONFIG,
			                       tls) != 0)
				rv = DTX_EINVAL;
	return rv;
}

void dc_rpc_close(dc_rpc *rpc)
{
	if (rpc == NULL || rpc->closed)
		return;
	rpc->closed = true;
	for (peer *p = rpc->lru_head; p != NULL; p = p->lru_next)
		stop_peer(p);
	for (peer *p = rpc->evicted; p != NULL; p = p->next)
		stop_peer(p);
}

void dc_rpc_destroy(dc_rpc *rpc)
{
	if (rpc == NULL)
		return;
	dc_rpc_close(rpc);
	while (rpc->lru_head != NULL)
		peer_close(rpc, rpc->lru_head);
	while (rpc->evicted != NULL)
		peer_forget(rpc, rpc->evicted);
	free(rpc);
}
