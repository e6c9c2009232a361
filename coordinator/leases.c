/*
 * leases.c - the engine's room for shard leases: several dtxd instances on
 * one PostgreSQL store (dc_config_leases), each serving the shards it
 * holds a lease on (owner.h decides, log.c stores).
 *
 * Where the rounds run: a thread of this room, with its own store handle
 * (a second shared writer of the same store). Not the commit worker
 * between flights: a heartbeat must not wait behind a slow flight (a busy
 * instance would look dead), and a flight must not wait behind a round.
 * Each round's outcome goes to the loop as one mail (lease_mail, owned by
 * the room and reused: the thread waits until the loop took it), so the
 * engine's state is only touched on the loop.
 *
 *   round thread                              loop (eng_leases_on_mail)
 *   - dc_owner_run_round(now, drained)        - lost a lease, or another
 *   - taken shards: scan the active index       instance has our name, or
 *     (its own handle), keep their non-final    no heartbeat for lease_ms:
 *     transactions, read their id floors        exit (crash-only, below)
 *   - post the mail, wait until taken         - taken: add and drive the
 *   - sleep lease_ms / 3 (round_gap)            recovered transactions,
 *                                               then serve the shards
 *                                             - drain: stop serving; once
 *                                               no live tx of the shard is
 *                                               left, mark it drained
 *                                             - owners' URLs for EMOVED
 *
 * Taking a shard: the round's commit fenced the previous owner out (its
 * next commit touching the shard is refused), then the scan reads what it
 * left, so nothing it wrote is missed. The loop adds those transactions
 * before it marks the shard served: a request about one of them waits
 * for nothing and finds it in memory.
 *
 * Losing a shard is crash-only (the brief's simplest correct answer):
 * a round that finds a lease of ours naming another owner or epoch, a
 * group commit refused with DTX_ECONFLICT (commit.c), or heartbeats that
 * failed for lease_ms (the others will take the shards; our commits
 * would be refused) log one line and exit EX_TEMPFAIL (75); the
 * supervisor starts a fresh instance, whose first round adopts or takes
 * shards like any other. A second live instance with our name exits
 * EX_USAGE (64).
 *
 * Giving a shard to a joining instance (drain): the shard stops being
 * served at once (EMOVED), and its live transactions are driven to their
 * end by this instance, still fenced by its lease; when none is left in
 * memory the shard is drained and the next round writes the release.
 * Simpler than dropping them mid-flight (no late completion to ignore),
 * at the cost of a slower hand-over when one of them retries for long -
 * bounded by --drain-ms (dc_config_drain_ms): past it, the transactions
 * still here are handed over (eng_live_hand_over: no call, retry,
 * deadline or transition of theirs runs here again, an answer that comes
 * back is dropped), and once nothing refers to them (a call out ends
 * within its timeout) they are freed and the release is written; the new
 * owner recovers them from the store, as after a kill -9, and calls again
 * (the barrier answers a repeat). Nothing is lost: what they did here is
 * durable, and what was not durable was not acted on.
 *
 * Made ids: the generator makes ids in one shard this instance serves
 * (gid_gen carries the shard), re-seeded from that shard's own floor in
 * meta when it changes; a submit that asks for a made id while no shard
 * is served is DTX_EBUSY.
 *
 * Must never: write the store from the loop, serve a shard before its
 * transactions are in memory, or go on after a lease is lost.
 */
#include "engine_int.h"

#include <pthread.h>

#include "owner.h"

#define LEASE_EXIT_LOST 75  /* EX_TEMPFAIL */
#define WATCH_ROUND_MS  100 /* rounds while dc_lease_watch (round_gap) */

/* One shard as this instance knows it, for dtxctl shards (owner.h's
 * dc_owner_shard, copied out of the round thread). */
typedef struct shard_row {
	char owner[DC_LOG_NAME_MAX + 1];
	char admin_url[DC_LOG_URL_MAX + 1];
	uint64_t epoch;
	int64_t since_unix_ms;
	uint64_t beat_age_ms; /* as of the round */
	bool since_lower, alive, releasing, beat_known;
} shard_row;

typedef struct lease_mail {
	dc_mail base;
	int rc;
	char err[300];
	dc_owner_round r;
	uint64_t round_mono;                 /* when the round read the store */
	double scan_ms;                      /* the scan of the shards taken */
	uint32_t nrec[DC_LEASE_SHARDS_MAX];  /* recovered per shard taken */
	uint32_t nbad[DC_LEASE_SHARDS_MAX];  /* quarantined per shard taken */
	uint64_t epoch[DC_LEASE_SHARDS_MAX]; /* of the shards owned */
	uint64_t floor[DC_LEASE_SHARDS_MAX]; /* of the shards taken */
	dc_tx **txs;                         /* recovered (taken shards) */
	size_t ntxs, captxs;
	dc_log_bad *bads; /* transactions the scan could not load */
	size_t nbads, capbads;
} lease_mail;

struct dc_leases {
	dc_engine *e;
	dc_log *log; /* the thread's own handle */
	dc_owner *own;
	uint32_t shards;
	uint64_t lease_ms;
	pthread_t th;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;   /* under mu */
	bool posted; /* under mu: mail at the loop */
	uint8_t drained[DC_LEASE_SHARDS_MAX / 8]; /* under mu */
	/* the thread's: shards taken whose transactions were not read yet
	 * (a failed scan is tried again next round; until it succeeds the
	 * loop serves nothing of the round: see eng_leases_on_mail) */
	uint8_t pend[DC_LEASE_SHARDS_MAX / 8];
	lease_mail mail;
	/* the loop's side */
	uint64_t epoch[DC_LEASE_SHARDS_MAX];
	uint8_t draining[DC_LEASE_SHARDS_MAX / 8];
	uint64_t drain_mono[DC_LEASE_SHARDS_MAX]; /* when its drain began */
	uint64_t drain_ms;                        /* dc_config_drain_ms */
	char url[DC_LEASE_SHARDS_MAX][DC_LOG_URL_MAX + 1];
	shard_row row[DC_LEASE_SHARDS_MAX];
	uint64_t row_mono;     /* when the rows were read */
	uint64_t last_ok_mono; /* the last round that wrote */
	uv_timer_t stale;      /* checks last_ok_mono without a mail */
	bool stale_open;
	bool gen_ok; /* e->gids makes ids of a served shard */
	char url_tmp[DC_LEASE_SHARDS_MAX][DC_LOG_URL_MAX + 1]; /* thread */
	shard_row row_tmp[DC_LEASE_SHARDS_MAX];                /* thread */
};

static bool bit(const uint8_t *m, uint32_t i)
{
	return (m[i / 8] >> (i % 8)) & 1;
}

static void bit_set(uint8_t *m, uint32_t i, bool on)
{
	if (on)
		m[i / 8] |= (uint8_t)(1u << (i % 8));
	else
		m[i / 8] &= (uint8_t) ~(1u << (i % 8));
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int64_t unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the round thread ------------------------------------------------ */

typedef struct scan_ctx {
	dc_leases *l;
	const uint8_t *taken;
} scan_ctx;

static int keep_tx(void *arg, dc_tx *tx)
{
	scan_ctx *c = arg;
	lease_mail *m = &c->l->mail;

	if (!bit(c->taken, shard_of_gid(tx->gid, c->l->shards))) {
		dc_tx_destroy(tx);
		return DTX_OK;
	}
	if (m->ntxs == m->captxs) {
		size_t n = m->captxs ? m->captxs * 2 : 64;
		dc_tx **p = realloc(m->txs, n * sizeof(*p));

		if (p == NULL) {
			dc_tx_destroy(tx);
			return DTX_ENOMEM;
		}
		m->txs = p;
		m->captxs = n;
	}
	m->txs[m->ntxs++] = tx;
	m->nrec[shard_of_gid(tx->gid, c->l->shards)]++;
	return DTX_OK;
}

static int keep_bad(void *arg, const dc_log_bad *bad)
{
	scan_ctx *c = arg;
	lease_mail *m = &c->l->mail;

	if (!bit(c->taken, shard_of_gid(bad->gid, c->l->shards)))
		return DTX_OK;
	if (m->nbads == m->capbads) {
		size_t n = m->capbads ? m->capbads * 2 : 8;
		dc_log_bad *p = realloc(m->bads, n * sizeof(*p));

		if (p == NULL)
			return DTX_ENOMEM;
		m->bads = p;
		m->capbads = n;
	}
	m->bads[m->nbads++] = *bad;
	m->nbad[shard_of_gid(bad->gid, c->l->shards)]++;
	return DTX_OK;
}

/* recover_taken reads, on the thread's handle, the non-final transactions
 * of the shards taken and not yet read (l->pend: this round's takes and
 * those of a round whose scan failed) and their id floors; on success the
 * mail's taken list is those shards and pend is empty. */
static int recover_taken(dc_leases *l)
{
	lease_mail *m = &l->mail;
	scan_ctx c = {l, l->pend};
	uint32_t n = 0;
	uint64_t t0;
	int rc = DTX_OK;

	for (uint32_t i = 0; i < m->r.ntaken; i++)
		bit_set(l->pend, m->r.taken[i], true);
	for (uint32_t s = 0; s < l->shards && rc == DTX_OK; s++)
		if (bit(l->pend, s)) {
			m->r.taken[n++] = s;
			rc = dc_log_shard_gid_floor(l->log, s, &m->floor[s]);
		}
	m->r.ntaken = 0;
	memset(m->nrec, 0, sizeof(m->nrec));
	memset(m->nbad, 0, sizeof(m->nbad));
	t0 = mono_ms();
	if (rc == DTX_OK && n > 0)
		rc = dc_log_scan_checked(l->log, false, NULL, keep_tx, keep_bad,
		                         &c);
	m->scan_ms = (double)(mono_ms() - t0);
	if (rc != DTX_OK) {
		for (size_t i = 0; i < m->ntxs; i++)
			dc_tx_destroy(m->txs[i]);
		m->ntxs = m->nbads = 0;
		return rc;
	}
	m->r.ntaken = n;
	memset(l->pend, 0, sizeof(l->pend));
	return DTX_OK;
}

/* fill_rows copies what the round knows of every shard for operators. */
static void fill_rows(dc_leases *l, uint64_t now)
{
	for (uint32_t s = 0; s < l->shards; s++) {
		shard_row *r = &l->row_tmp[s];
		dc_owner_shard v;

		dc_owner_view(l->own, s, now, &v);
		snprintf(r->owner, sizeof(r->owner), "%s", v.owner);
		snprintf(r->admin_url, sizeof(r->admin_url), "%s", v.admin_url);
		r->epoch = v.epoch;
		r->since_unix_ms = v.since_unix_ms;
		r->since_lower = v.since_is_lower_bound;
		r->alive = v.alive;
		r->releasing = v.releasing;
		r->beat_known = v.beat_age_known;
		r->beat_age_ms = v.beat_age_ms;
	}
}

/* run_one runs a round and fills the mail. */
static void run_one(dc_leases *l)
{
	lease_mail *m = &l->mail;
	uint8_t drained[DC_LEASE_SHARDS_MAX / 8];

	pthread_mutex_lock(&l->mu);
	memcpy(drained, l->drained, sizeof(drained));
	pthread_mutex_unlock(&l->mu);
	m->ntxs = m->nbads = 0;
	m->err[0] = '\0';
	m->round_mono = mono_ms();
	m->rc = dc_owner_run_round(l->own, m->round_mono, unix_ms(), drained,
	                           &m->r);
	/* only a round the loop acts on carries transactions (adopt) */
	if (m->rc == DTX_OK && !m->r.waiting && !m->r.conflict)
		m->rc = recover_taken(l);
	if (m->rc != DTX_OK)
		snprintf(m->err, sizeof(m->err), "%s",
		         dc_log_last_error(l->log));
	for (uint32_t s = 0; s < l->shards; s++) {
		const char *url = "";

		(void)dc_owner_owner_of(l->own, s, &url);
		snprintf(l->url_tmp[s], sizeof(l->url_tmp[s]), "%s", url);
		if (!dc_owner_owns(l->own, s, &m->epoch[s]))
			m->epoch[s] = 0;
	}
	fill_rows(l, m->round_mono);
}

/* wait_for waits on l->cv until *flag is want or the room stops, or
 * until `until` (monotonic ms; 0: no deadline). Called with l->mu held. */
static void wait_for(dc_leases *l, bool *flag, bool want, uint64_t until)
{
	while (!l->stop && *flag != want) {
		struct timespec ts;
		uint64_t now = mono_ms();

		if (until != 0 && now >= until)
			break;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (until ? until - now : 1000) / 1000;
		ts.tv_nsec +=
		        (long)((until ? until - now : 1000) % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&l->cv, &l->mu, &ts);
	}
}

/* round_gap is the time from one round's start to the next: lease_ms / 3,
 * or WATCH_ROUND_MS while the last round asked to watch (dc_lease_watch:
 * a move under way, a peer that may be dead). A shard moved in four
 * rounds (drain, drained, release, take) of lease_ms / 3 each, so a
 * flash sale's buyers of a moving shard waited seconds for it (3
 * instances had a p99 of 6.8 s, joining while the load ran); a dead
 * peer's shards were taken up to lease_ms / 3 after its lease ran out. */
static uint64_t round_gap(const dc_leases *l)
{
	uint64_t slow = l->lease_ms / 3;

	return l->mail.r.watch && slow > WATCH_ROUND_MS ? WATCH_ROUND_MS : slow;
}

static void *round_main(void *arg)
{
	dc_leases *l = arg;
	bool never = false;

	for (;;) {
		uint64_t next = mono_ms();

		run_one(l);
		next += round_gap(l);
		pthread_mutex_lock(&l->mu);
		if (l->stop) {
			pthread_mutex_unlock(&l->mu);
			break;
		}
		l->posted = true;
		dc_mailbox_post(&l->e->mb, &l->mail.base);
		wait_for(l, &l->posted, false, 0);
		wait_for(l, &never, true, next); /* sleep, unless stopped */
		if (l->stop) {
			pthread_mutex_unlock(&l->mu);
			break;
		}
		pthread_mutex_unlock(&l->mu);
	}
	return NULL;
}

/* ---- the loop's side ------------------------------------------------- */

/* fence_disabled: DTX_FAULT_NO_FENCE=1 takes fencing away - no commit is
 * conditional on the lease, and an instance that lost a lease or could
 * not renew it goes on serving - in a build with fault points only
 * (meson -Dfault_points=true, never a release): the deliberate bug that
 * shows the chaos harness's no-stale-write invariant catching a stale
 * owner's writes (tests/chaos/epochs.h). */
static bool fence_disabled(void)
{
#ifdef DTX_FAULT_POINTS
	const char *v = getenv("DTX_FAULT_NO_FENCE");

	return v != NULL && strcmp(v, "1") == 0;
#else
	return false;
#endif
}

__attribute__((noreturn)) static void die_lost(dc_engine *e, uint32_t shard)
{
	dc_leases *l = e->leases;
	const char *url = "";
	const char *owner = dc_owner_owner_of(l->own, shard, &url);

	dc_diag(DTX_LOG_ERROR,
	        "lost the lease of shard %u to %s at epoch %llu (ours was "
	        "epoch %llu); stopping now (crash-only: a new start takes "
	        "shards afresh)",
	        (unsigned)shard, owner[0] ? owner : "nobody",
	        (unsigned long long)dc_owner_epoch_of(l->own, shard),
	        (unsigned long long)l->epoch[shard]);
	_exit(LEASE_EXIT_LOST);
}

/* check_round stops the process on what it cannot go on with. */
static void check_round(dc_engine *e, const lease_mail *m)
{
	dc_leases *l = e->leases;
	uint64_t now = eng_now_mono_ms(e);

	if (m->rc == DTX_ECONFLICT) {
		dc_diag(DTX_LOG_ERROR,
		        "another live instance is named %s on %s; stopping",
		        e->cfg.instance, dc_log_path(e->log));
		_exit(EX_USAGE);
	}
	if (m->r.nlost > 0 && !fence_disabled())
		die_lost(e, m->r.lost[0]);
	if (m->rc == DTX_OK && !m->r.waiting) {
		l->last_ok_mono = now;
		return;
	}
	if (m->rc != DTX_OK)
		dc_diag(DTX_LOG_WARN, "lease round failed: %s (%s)",
		        dtx_strerror(m->rc), m->err);
	if (m->rc != DTX_OK && now >= l->last_ok_mono + l->lease_ms &&
	    l->last_ok_mono != 0 && !fence_disabled()) {
		dc_diag(DTX_LOG_ERROR,
		        "no heartbeat written for %llu ms: the other instances "
		        "take our shards; stopping now (crash-only)",
		        (unsigned long long)(now - l->last_ok_mono));
		_exit(LEASE_EXIT_LOST);
	}
}

/* adopt adds the transactions recovered for taken shards to memory and
 * drives them (recovery.c's rules). */
static void adopt(dc_engine *e, lease_mail *m)
{
	for (size_t i = 0; i < m->nbads; i++)
		eng_recover_bad(e, &m->bads[i]);
	for (size_t i = 0; i < m->ntxs; i++) {
		if (eng_live_find(e, m->txs[i]->gid) != NULL) {
			dc_tx_destroy(m->txs[i]);
			continue;
		}
		if (eng_recover_tx(e, m->txs[i]) != DTX_OK)
			eng_die_oom("recovered transaction");
	}
	m->ntxs = m->nbads = 0;
}

/* reseed points the id generator at a served shard if it is not at one. */
static void reseed(dc_engine *e, const lease_mail *m)
{
	dc_leases *l = e->leases;

	if (l->gen_ok && dc_shards_owns_shard(&e->shards, e->gids.shard))
		return;
	l->gen_ok = false;
	for (uint32_t i = 0; i < m->r.ntaken && !l->gen_ok; i++) {
		uint32_t s = m->r.taken[i];

		if (gid_gen_init(&e->gids, s, m->floor[s]) == DTX_OK)
			l->gen_ok = true;
	}
}

/* live_in_shard: some transaction of shard s is still in memory. */
static bool live_in_shard(const dc_engine *e, uint32_t s)
{
	for (size_t i = 0; i < e->nbuckets; i++)
		for (const live *lv = e->buckets[i]; lv != NULL; lv = lv->hnext)
			if (shard_of_gid(lv->tx->gid, e->leases->shards) == s)
				return true;
	return false;
}

/* handed_in_shard: a transaction of shard s handed over is still in
 * memory (waiting for its call or commit to come back). */
static bool handed_in_shard(const dc_engine *e, uint32_t s)
{
	for (size_t i = 0; i < e->nbuckets; i++)
		for (const live *lv = e->buckets[i]; lv != NULL; lv = lv->hnext)
			if (lv->handed &&
			    shard_of_gid(lv->tx->gid, e->leases->shards) == s)
				return true;
	return false;
}

/* check_undrain stops the process if shard s, no longer to be given
 * away, still holds transactions handed over: they are driven by nobody
 * while s stays ours. Crash-only (rare: the joiner left within a call
 * timeout of the hand-over): the restart recovers them from the store. */
static void check_undrain(dc_engine *e, uint32_t s)
{
	if (!handed_in_shard(e, s))
		return;
	dc_diag(DTX_LOG_ERROR,
	        "shard %u: no longer given away, but transactions of it were "
	        "handed over; stopping now (crash-only: the restart recovers "
	        "them)",
	        (unsigned)s);
	_exit(LEASE_EXIT_LOST);
}

/* set_draining makes the draining set this round's drain list: a shard
 * no longer asked for (the joining instance went away) is served again,
 * and forgets that it was drained (new transactions may come). */
static void set_draining(dc_engine *e, const lease_mail *m)
{
	dc_leases *l = e->leases;
	uint8_t want[DC_LEASE_SHARDS_MAX / 8] = {0};

	for (uint32_t i = 0; i < m->r.ndrain; i++) {
		uint32_t s = m->r.drain[i];

		if (!bit(l->draining, s)) {
			dc_diag(DTX_LOG_INFO,
			        "shard %u: giving it to a joining instance "
			        "once its transactions here are final (at most "
			        "%llu ms: --drain-ms)",
			        (unsigned)s, (unsigned long long)l->drain_ms);
			l->drain_mono[s] = eng_now_mono_ms(e);
		}
		bit_set(want, s, true);
	}
	for (uint32_t s = 0; s < l->shards; s++)
		if (bit(l->draining, s) && !bit(want, s))
			check_undrain(e, s);
	pthread_mutex_lock(&l->mu);
	for (uint32_t s = 0; s < l->shards; s++)
		if (!bit(want, s))
			bit_set(l->drained, s, false);
	pthread_mutex_unlock(&l->mu);
	memcpy(l->draining, want, sizeof(want));
}

/* hand_over stops driving the transactions of shard s still in memory
 * (eng_live_hand_over) and frees those nothing refers to any more. */
static void hand_over(dc_engine *e, uint32_t s)
{
	size_t n = 0, left = 0;

	for (size_t i = 0; i < e->nbuckets; i++) {
		live *lv = e->buckets[i];

		while (lv != NULL) {
			live *next = lv->hnext;

			if (shard_of_gid(lv->tx->gid, e->leases->shards) == s) {
				n += !lv->handed;
				left += !eng_live_hand_over(e, lv);
			}
			lv = next;
		}
	}
	if (n > 0)
		dc_diag(DTX_LOG_WARN,
		        "shard %u: drained for %llu ms (--drain-ms) with %zu "
		        "transactions still running here; handing them over: "
		        "driven here no more, their next owner recovers them "
		        "from the store (%zu still wait for a call or commit "
		        "out)",
		        (unsigned)s, (unsigned long long)e->leases->drain_ms, n,
		        left);
}

/* mark_drained reports the draining shards with no transaction left in
 * memory (not served since set_draining: none can come) as drained; the
 * next round writes their release. A shard draining for longer than the
 * drain bound has its transactions handed over first. */
static void mark_drained(dc_engine *e, const lease_mail *m)
{
	dc_leases *l = e->leases;
	uint64_t now = eng_now_mono_ms(e);

	for (uint32_t i = 0; i < m->r.ndrain; i++) {
		uint32_t s = m->r.drain[i];

		if (now >= l->drain_mono[s] + l->drain_ms)
			hand_over(e, s);
		if (!live_in_shard(e, s)) {
			pthread_mutex_lock(&l->mu);
			bit_set(l->drained, s, true);
			pthread_mutex_unlock(&l->mu);
		}
	}
}

/* serve takes the round's ownership into dc_shards (owned and not being
 * given away), the epochs the commits fence with and the owners' URLs. */
static void serve(dc_engine *e, const lease_mail *m)
{
	dc_leases *l = e->leases;
	uint64_t nrec = 0, nbad = 0;
	uint32_t owned = 0;

	for (uint32_t i = 0; i < m->r.ntaken; i++) {
		uint32_t s = m->r.taken[i];

		nrec += m->nrec[s];
		nbad += m->nbad[s];

		dc_diag(DTX_LOG_INFO,
		        "shard %u: taken at epoch %llu; recovered %u non-final "
		        "transactions%s (%u quarantined) in %.0f ms",
		        (unsigned)s, (unsigned long long)m->epoch[s],
		        (unsigned)m->nrec[s],
		        m->nrec[s] ? ", driving them" : "",
		        (unsigned)m->nbad[s], m->scan_ms);
	}
	for (uint32_t i = 0; i < m->r.nreleased; i++)
		dc_diag(DTX_LOG_INFO, "shard %u: released",
		        (unsigned)m->r.released[i]);
	memcpy(l->row, l->row_tmp, sizeof(l->row[0]) * l->shards);
	l->row_mono = m->round_mono;
	for (uint32_t s = 0; s < l->shards; s++) {
		l->epoch[s] = m->epoch[s];
		memcpy(l->url[s], l->url_tmp[s], sizeof(l->url[s]));
		e->shards.owner_url[s] = l->url[s][0] ? l->url[s] : NULL;
		dc_shards_set_owned(&e->shards, s,
		                    m->epoch[s] != 0 && !bit(l->draining, s));
		owned += dc_shards_owns_shard(&e->shards, s);
	}
	if (m->r.ntaken > 0)
		dc_metrics_recovered(e->metrics, nrec, nbad, m->scan_ms);
	dc_metrics_lease_round(e->metrics, true, owned);
}

void eng_leases_on_mail(dc_engine *e, dc_mail *mail)
{
	dc_leases *l = e->leases;
	lease_mail *m = (lease_mail *)mail;

	check_round(e, m);
	if (m->rc != DTX_OK)
		dc_metrics_lease_round(e->metrics, false, 0);
	if (m->rc == DTX_OK && !m->r.waiting && !m->r.conflict) {
		adopt(e, m); /* before its shards are served */
		set_draining(e, m);
		serve(e, m);
		reseed(e, m);
		mark_drained(e, m);
	}
	pthread_mutex_lock(&l->mu);
	l->posted = false;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

/* ---- lifecycle and the commit's hooks --------------------------------- */

int eng_leases_create(dc_engine *e, char *errbuf, size_t errlen)
{
	dc_log_opts lo = {.dir = e->cfg.log_dir,
	                  .shards = e->cfg.nshards,
	                  .shared = true};
	dc_owner_opts oo = {.name = e->cfg.instance,
	                    .client_url = e->cfg.advertise,
	                    .admin_url = e->cfg.admin,
	                    .shards = e->cfg.nshards,
	                    .lease_ms = e->cfg.lease_ms};
	dc_leases *l = calloc(1, sizeof(*l));
	int rc;

	if (l == NULL)
		return DTX_ENOMEM;
	e->leases = l;
	l->e = e;
	l->shards = e->cfg.nshards;
	l->lease_ms = e->cfg.lease_ms;
	l->drain_ms = dc_config_drain_ms(&e->cfg);
	l->mail.base.kind = DC_MAIL_LEASES;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	memset(e->shards.owned, 0, sizeof(e->shards.owned));
	rc = dc_log_open(&lo, &l->log, errbuf, errlen);
	oo.log = l->log;
	if (rc == DTX_OK && (rc = dc_owner_create(&oo, &l->own)) != DTX_OK)
		snprintf(errbuf, errlen, "leases: cannot make the owner of %s",
		         e->cfg.instance);
	return rc;
}

/* on_stale: a round thread stuck in a call to the store sends no mail,
 * so the loop checks the age of the last heartbeat on its own. */
static void on_stale(uv_timer_t *h)
{
	dc_engine *e = h->data;
	dc_leases *l = e->leases;
	uint64_t now = eng_now_mono_ms(e);

	if (l->last_ok_mono == 0 || now < l->last_ok_mono + l->lease_ms ||
	    fence_disabled())
		return;
	dc_diag(DTX_LOG_ERROR,
	        "no heartbeat written for %llu ms (the store does not "
	        "answer): the other instances take our shards; stopping now "
	        "(crash-only)",
	        (unsigned long long)(now - l->last_ok_mono));
	_exit(LEASE_EXIT_LOST);
}

int eng_leases_start(dc_engine *e)
{
	dc_leases *l = e->leases;

	if (pthread_create(&l->th, NULL, round_main, l) != 0)
		return DTX_EINTERNAL;
	l->started = true;
	uv_timer_init(e->loop, &l->stale);
	l->stale.data = e;
	l->stale_open = true;
	uv_timer_start(&l->stale, on_stale, l->lease_ms / 3, l->lease_ms / 3);
	return DTX_OK;
}

void eng_leases_stop(dc_engine *e)
{
	dc_leases *l = e->leases;

	if (l != NULL && l->stale_open) {
		uv_close((uv_handle_t *)&l->stale, NULL);
		l->stale_open = false;
	}
	if (l == NULL || !l->started)
		return;
	pthread_mutex_lock(&l->mu);
	l->stop = true;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	pthread_join(l->th, NULL); /* waits for a round at most */
	l->started = false;
}

void eng_leases_destroy(dc_engine *e)
{
	dc_leases *l = e->leases;

	if (l == NULL)
		return;
	eng_leases_stop(e);
	for (size_t i = 0; i < l->mail.ntxs; i++)
		dc_tx_destroy(l->mail.txs[i]);
	free(l->mail.txs);
	free(l->mail.bads);
	dc_owner_destroy(l->own);
	dc_log_close(l->log);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l);
	e->leases = NULL;
}

void eng_leases_fence(dc_engine *e, dc_log_batch *batch, const char *gid)
{
	dc_leases *l = e->leases;
	uint32_t s;

	if (l == NULL || fence_disabled())
		return;
	s = shard_of_gid(gid, l->shards);
	/* epoch 0 (not ours) can only conflict: the commit is refused */
	if (dc_log_batch_fence(batch, s, e->cfg.instance, l->epoch[s]) !=
	    DTX_OK)
		eng_die_oom("fence");
}

void eng_leases_prune_scope(dc_engine *e, flight *f)
{
	dc_leases *l = e->leases;

	if (l == NULL)
		return;
	memset(f->prune_epoch, 0, sizeof(f->prune_epoch));
	memcpy(f->prune_epoch, l->epoch, sizeof(l->epoch[0]) * l->shards);
	f->prune.owner = e->cfg.instance;
	f->prune.epoch = f->prune_epoch;
	f->prune.nshards = l->shards;
}

/* eng_leases_epoch_of: the epoch of gid's shard that branch calls carry
 * (0 without leases). */
uint64_t eng_leases_epoch_of(const dc_engine *e, const char *gid)
{
	const dc_leases *l = e->leases;

	return l == NULL ? 0 : l->epoch[shard_of_gid(gid, l->shards)];
}

bool eng_leases_may_make_ids(const dc_engine *e)
{
	return e->leases == NULL ||
	       (e->leases->gen_ok &&
	        dc_shards_owns_shard(&e->shards, e->gids.shard));
}

int eng_leases_set_floor(dc_engine *e, dc_log_batch *batch, uint64_t id)
{
	if (e->leases == NULL)
		return dc_log_batch_set_gid_floor(batch, id);
	return dc_log_batch_set_shard_gid_floor(batch, gid_shard(id), id);
}

__attribute__((noreturn)) void eng_leases_die_fenced(dc_engine *e,
                                                     const char *detail)
{
	dc_diag(DTX_LOG_ERROR,
	        "a commit was refused: another instance took a shard it "
	        "writes (%s); stopping now (crash-only: its new owner "
	        "recovers the transactions)",
	        detail[0] ? detail : "fenced");
	_exit(LEASE_EXIT_LOST);
}

/* row_state says what operators see of shard s (dc_owner_shard's facts
 * and, for our own shards, the drain list). */
static Dtx__V1__ShardState row_state(const dc_engine *e, uint32_t s)
{
	const dc_leases *l = e->leases;
	const shard_row *r = &l->row[s];

	if (r->owner[0] == '\0' || !r->alive)
		return DTX__V1__SHARD_STATE__SHARD_UNOWNED;
	if (strcmp(r->owner, e->cfg.instance) == 0)
		return bit(l->draining, s)
		               ? DTX__V1__SHARD_STATE__SHARD_DRAINING
		               : DTX__V1__SHARD_STATE__SHARD_OWNED;
	return r->releasing ? DTX__V1__SHARD_STATE__SHARD_DRAINING
	                    : DTX__V1__SHARD_STATE__SHARD_OWNED;
}

/* shards_of_flags answers without leases: the shards --shard gives us,
 * and the others as far as --peer names them. */
static void shards_of_flags(dc_engine *e, dc_admin_out *o)
{
	for (uint32_t s = 0; s < e->shards.count; s++) {
		bool mine = dc_shards_owns_shard(&e->shards, s);
		const char *peer = e->shards.owner_url[s];
		dc_admin_shard row = {
		        .shard = s,
		        .owner = mine ? e->cfg.instance : "",
		        .client_url = mine && e->shards.url ? e->shards.url
		                      : peer                ? peer
		                                            : "",
		        .admin_url = mine && e->cfg.admin ? e->cfg.admin : "",
		        .state = mine ? DTX__V1__SHARD_STATE__SHARD_OWNED
		                      : DTX__V1__SHARD_STATE__SHARD_UNKNOWN};

		dc_admin_add_shard(o, &row);
	}
}

void eng_leases_shards(dc_engine *e, dc_admin_out *o)
{
	dc_leases *l = e->leases;
	uint64_t now = eng_now_mono_ms(e);

	dc_admin_set_instance(o, e->cfg.instance ? e->cfg.instance : "");
	if (l == NULL) {
		shards_of_flags(e, o);
		return;
	}
	for (uint32_t s = 0; s < l->shards; s++) {
		const shard_row *r = &l->row[s];
		bool me = r->owner[0] && strcmp(r->owner, e->cfg.instance) == 0;
		uint64_t later = now > l->row_mono ? now - l->row_mono : 0;
		dc_admin_shard row = {.shard = s,
		                      .state = row_state(e, s),
		                      .owner = r->owner,
		                      .epoch = r->epoch,
		                      .client_url = l->url[s],
		                      .admin_url = r->admin_url,
		                      .since_unix_ms = r->since_unix_ms,
		                      .since_is_lower_bound = r->since_lower,
		                      .beat_age_known = me || r->beat_known,
		                      .beat_age_ms = r->beat_age_ms + later};

		if (me) /* our heartbeat: the last round that wrote */
			row.beat_age_ms = now > l->last_ok_mono
			                          ? now - l->last_ok_mono
			                          : 0;
		dc_admin_add_shard(o, &row);
	}
}

const char *eng_leases_admin_url(const dc_engine *e, uint32_t shard)
{
	const dc_leases *l = e->leases;

	if (l == NULL || shard >= l->shards || l->row[shard].admin_url[0] == 0)
		return NULL;
	return l->row[shard].admin_url;
}
