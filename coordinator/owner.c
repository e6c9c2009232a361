/*
 * owner.c - one instance's lease rounds on a shared store (owner.h): the
 * glue between the pure decision (lease.c) and the store (log.c's lease
 * tables).
 *
 * Owns: the lease state of this instance, the last observation (owners
 * and their URLs), the shards it owns and their epochs, the start rule
 * for its own heartbeat record, and turning a plan into the round's
 * compare-and-swaps. Never: decides what a lost or taken shard means for
 * transactions (the engine's), reads a clock, or writes anything but one
 * round transaction per call.
 *
 * Every write of a round is conditional on what the round read, so a
 * round that raced another instance writes nothing (conflict) and the
 * next one decides again from a fresh read. Ownership is believed only
 * after the round's commit returned: dc_owner_owns answers from the last
 * committed round, and a lease is "lost" when a later read shows another
 * (owner, epoch) than the one this instance committed - whatever its own
 * clock thinks, because the record is the truth the fences check.
 */
#include "owner.h"

#include <stdlib.h>
#include <string.h>

#include <dtx/dtx.h>

struct dc_owner {
	dc_log *log;
	dc_lease_state st;
	dc_lease_plan plan;
	char client_url[DC_LOG_URL_MAX + 1];
	char admin_url[DC_LOG_URL_MAX + 1];
	dc_log_lease leases[DC_LEASE_SHARDS_MAX]; /* as last read */
	dc_log_beat beats[DC_LEASE_INSTANCES_MAX];
	uint32_t nbeats;
	dc_lease_rec recs[DC_LEASE_SHARDS_MAX];
	dc_lease_beat lbeats[DC_LEASE_INSTANCES_MAX];
	dc_log_lease_cas cas[DC_LEASE_SHARDS_MAX];
	uint64_t epoch[DC_LEASE_SHARDS_MAX];    /* of the shards owned */
	uint8_t owned[DC_LEASE_SHARDS_MAX / 8]; /* as last committed */
	int64_t since[DC_LEASE_SHARDS_MAX]; /* unix ms: (owner, epoch) seen */
	uint8_t since_lower[DC_LEASE_SHARDS_MAX / 8]; /* since: our start */
	int64_t now_unix;                             /* of the round running */
	bool wrote;                                   /* a round committed */
	bool have_first;                              /* start rule: see top */
	uint64_t first_beat, first_mono;
};

static bool bit(const uint8_t *m, uint32_t i)
{
	return m != NULL && (m[i / 8] >> (i % 8) & 1);
}

static void bit_set(uint8_t *m, uint32_t i, bool on)
{
	if (on)
		m[i / 8] |= (uint8_t)(1u << (i % 8));
	else
		m[i / 8] &= (uint8_t) ~(1u << (i % 8));
}

static bool url_fits(const char *url)
{
	return url == NULL || strlen(url) <= DC_LOG_URL_MAX;
}

int dc_owner_create(const dc_owner_opts *opts, dc_owner **ret_owner)
{
	dc_owner *o;

	if (opts->log == NULL || !url_fits(opts->client_url) ||
	    !url_fits(opts->admin_url))
		return DTX_EINVAL;
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return DTX_ENOMEM;
	if (dc_lease_init(&o->st, opts->name, opts->shards, opts->lease_ms) !=
	    DTX_OK) {
		free(o);
		return DTX_EINVAL;
	}
	o->log = opts->log;
	if (opts->client_url != NULL)
		strcpy(o->client_url, opts->client_url);
	if (opts->admin_url != NULL)
		strcpy(o->admin_url, opts->admin_url);
	*ret_owner = o;
	return DTX_OK;
}

void dc_owner_destroy(dc_owner *o)
{
	free(o);
}

/* my_record: this instance's heartbeat record as last read, or NULL. */
static const dc_log_beat *my_record(const dc_owner *o)
{
	for (uint32_t i = 0; i < o->nbeats; i++)
		if (strcmp(o->beats[i].name, o->st.me) == 0)
			return &o->beats[i];
	return NULL;
}

/* note_since stamps each shard whose (owner, epoch) this read shows for
 * the first time with the round's wall time: a lower bound on the first
 * read (it may be older than this instance). */
static void note_since(dc_owner *o)
{
	for (uint32_t i = 0; i < o->st.shards; i++) {
		bool first = !o->st.observed;

		if (!first &&
		    strcmp(o->recs[i].owner, o->leases[i].owner) == 0 &&
		    o->recs[i].epoch == o->leases[i].epoch)
			continue;
		o->since[i] = o->now_unix;
		bit_set(o->since_lower, i, first);
	}
}

/* read_all reads the store and hands it to lease.c. */
static int read_all(dc_owner *o, uint64_t now)
{
	int rc = dc_log_leases_read(o->log, o->leases, o->st.shards, o->beats,
	                            DC_LEASE_INSTANCES_MAX, &o->nbeats);

	if (rc != DTX_OK)
		return rc;
	note_since(o);
	for (uint32_t i = 0; i < o->st.shards; i++) {
		strcpy(o->recs[i].owner, o->leases[i].owner);
		o->recs[i].epoch = o->leases[i].epoch;
	}
	for (uint32_t i = 0; i < o->nbeats; i++) {
		strcpy(o->lbeats[i].name, o->beats[i].name);
		o->lbeats[i].beat = o->beats[i].beat;
	}
	return dc_lease_observe(&o->st, o->recs, o->lbeats, o->nbeats, now);
}

/* start_wait applies the start rule: before this instance's first write,
 * a record of its name must stand still for lease_ms. Returns true while
 * it must wait; DTX_ECONFLICT in *rc if the record moved. */
static bool start_wait(dc_owner *o, uint64_t now, int *rc)
{
	const dc_log_beat *mine = my_record(o);

	*rc = DTX_OK;
	if (o->wrote || mine == NULL)
		return false;
	if (!o->have_first) {
		o->have_first = true;
		o->first_beat = mine->beat;
		o->first_mono = now;
	}
	if (mine->beat != o->first_beat) {
		*rc = DTX_ECONFLICT; /* another live instance has this name */
		return true;
	}
	return now < o->first_mono + o->st.lease_ms;
}

/* find_lost lists the shards owned as of the last commit whose record
 * now names another owner or epoch. */
static void find_lost(const dc_owner *o, dc_owner_round *r)
{
	for (uint32_t s = 0; s < o->st.shards; s++)
		if (bit(o->owned, s) &&
		    (strcmp(o->leases[s].owner, o->st.me) != 0 ||
		     o->leases[s].epoch != o->epoch[s]))
			r->lost[r->nlost++] = s;
}

/* hold_undrained keeps (instead of releasing) each planned release the
 * caller has not drained yet, and lists it to drain. */
static void hold_undrained(dc_owner *o, const uint8_t *drained,
                           dc_owner_round *r)
{
	dc_lease_plan *p = &o->plan;
	uint32_t n = 0;

	for (uint32_t i = 0; i < p->nrelease; i++) {
		uint32_t s = p->release[i];

		if (bit(drained, s)) {
			p->release[n++] = s;
		} else {
			p->keep[p->nkeep++] = s;
			r->drain[r->ndrain++] = s;
		}
	}
	p->nrelease = n;
}

static dc_log_lease lease(const char *owner, uint64_t epoch)
{
	dc_log_lease l = {.epoch = epoch};

	strcpy(l.owner, owner);
	return l;
}

/* build_cas turns the plan into the round's compare-and-swaps. */
static uint32_t build_cas(dc_owner *o)
{
	const dc_lease_plan *p = &o->plan;
	const char *me = o->st.me;
	uint32_t n = 0;

	for (uint32_t i = 0; i < p->nkeep; i++) {
		uint32_t s = p->keep[i];
		uint64_t e = o->leases[s].epoch;

		/* A first round adopts an earlier run's leases at a new
		 * epoch: that run, if only paused, is fenced out. */
		o->cas[n++] = (dc_log_lease_cas){s, lease(me, e),
		                                 lease(me, e + !o->wrote)};
	}
	for (uint32_t i = 0; i < p->ntake; i++) {
		uint32_t s = p->take[i];

		o->cas[n++] = (dc_log_lease_cas){
		        s, o->leases[s], lease(me, o->leases[s].epoch + 1)};
	}
	for (uint32_t i = 0; i < p->nrelease; i++) {
		uint32_t s = p->release[i];

		o->cas[n++] = (dc_log_lease_cas){s, o->leases[s],
		                                 lease("", o->leases[s].epoch)};
	}
	return n;
}

/* committed records what the round wrote: owned shards, their epochs,
 * and which are new to this instance (taken: recover them). */
static void committed(dc_owner *o, uint64_t beat, dc_owner_round *r)
{
	dc_lease_wrote(&o->st, &o->plan, beat);
	for (uint32_t i = 0; i < o->plan.nkeep && !o->wrote; i++)
		o->st.rec[o->plan.keep[i]].epoch++; /* as build_cas wrote */
	for (uint32_t s = 0; s < o->st.shards; s++) {
		uint64_t e;
		bool owns = dc_lease_owns(&o->st, s, &e);

		if (owns && (!bit(o->owned, s) || o->epoch[s] != e)) {
			o->since[s] = o->now_unix; /* this epoch is ours */
			bit_set(o->since_lower, s, false);
		}
		if (owns && !bit(o->owned, s))
			r->taken[r->ntaken++] = s;
		if (!owns && bit(o->owned, s))
			r->released[r->nreleased++] = s;
		bit_set(o->owned, s, owns);
		o->epoch[s] = owns ? e : 0;
		if (owns)
			o->leases[s] = lease(o->st.me, e);
	}
	for (uint32_t i = 0; i < o->plan.nrelease; i++) {
		o->leases[o->plan.release[i]].owner[0] = '\0';
		o->since[o->plan.release[i]] = o->now_unix;
	}
	/* what we wrote is what the next read compares with (note_since) */
	for (uint32_t s = 0; s < o->st.shards; s++) {
		strcpy(o->recs[s].owner, o->leases[s].owner);
		o->recs[s].epoch = o->leases[s].epoch;
	}
	o->wrote = true;
}

/* write_round writes the plan and this instance's next heartbeat. */
static int write_round(dc_owner *o, dc_owner_round *r)
{
	const dc_log_beat *mine = my_record(o);
	dc_log_beat old, next = {.beat = o->st.my_beat + 1,
	                         .unix_ms = o->now_unix > 0 ? o->now_unix : 0};
	uint32_t n = build_cas(o);
	int rc;

	strcpy(next.name, o->st.me);
	strcpy(next.client_url, o->client_url);
	strcpy(next.admin_url, o->admin_url);
	if (mine != NULL)
		old = *mine;
	rc = dc_log_round_commit(o->log, o->cas, n, mine ? &old : NULL, &next);
	if (rc == DTX_ECONFLICT) {
		r->conflict = true;
		return DTX_OK;
	}
	if (rc == DTX_OK)
		committed(o, next.beat, r);
	return rc;
}

int dc_owner_run_round(dc_owner *o, uint64_t now_mono, int64_t now_unix,
                       const uint8_t *drained, dc_owner_round *r)
{
	int rc;

	o->now_unix = now_unix;
	r->ntaken = r->ndrain = r->nreleased = r->nlost = 0;
	r->conflict = r->waiting = r->watch = false;
	r->live = 1;
	if ((rc = read_all(o, now_mono)) != DTX_OK)
		return rc;
	if (start_wait(o, now_mono, &rc)) {
		r->waiting = rc == DTX_OK;
		return rc;
	}
	find_lost(o, r);
	if (r->nlost > 0)
		return DTX_OK; /* nothing more: the caller stops */
	dc_lease_make_plan(&o->st, now_mono, &o->plan);
	r->live = o->plan.live;
	hold_undrained(o, drained, r);
	r->watch = dc_lease_watch(&o->st, now_mono);
	return write_round(o, r);
}

bool dc_owner_owns(const dc_owner *o, uint32_t shard, uint64_t *ret_epoch)
{
	if (shard >= o->st.shards || !bit(o->owned, shard))
		return false;
	if (ret_epoch != NULL)
		*ret_epoch = o->epoch[shard];
	return true;
}

const char *dc_owner_owner_of(const dc_owner *o, uint32_t shard,
                              const char **ret_url)
{
	const char *owner = shard < o->st.shards ? o->leases[shard].owner : "";

	*ret_url = "";
	if (strcmp(owner, o->st.me) == 0) { /* our record may lag our commit */
		*ret_url = o->client_url;
		return owner;
	}
	for (uint32_t i = 0; i < o->nbeats && owner[0]; i++)
		if (strcmp(o->beats[i].name, owner) == 0)
			*ret_url = o->beats[i].client_url;
	return owner;
}

uint64_t dc_owner_epoch_of(const dc_owner *o, uint32_t shard)
{
	return shard < o->st.shards ? o->leases[shard].epoch : 0;
}

/* beat_of: name's heartbeat record as last read, or NULL. */
static const dc_log_beat *beat_of(const dc_owner *o, const char *name)
{
	for (uint32_t i = 0; i < o->nbeats && name[0]; i++)
		if (strcmp(o->beats[i].name, name) == 0)
			return &o->beats[i];
	return NULL;
}

void dc_owner_view(const dc_owner *o, uint32_t shard, uint64_t now_mono,
                   dc_owner_shard *ret)
{
	const dc_log_lease *l = &o->leases[shard];
	const dc_log_beat *b = beat_of(o, l->owner);

	memset(ret, 0, sizeof(*ret));
	ret->owner = l->owner;
	ret->epoch = l->epoch;
	ret->client_url = b != NULL ? b->client_url : "";
	ret->admin_url = b != NULL ? b->admin_url : "";
	if (strcmp(l->owner, o->st.me) == 0) {
		/* our own record may lag our commit: believe the commit */
		ret->client_url = o->client_url;
		ret->admin_url = o->admin_url;
	}
	ret->since_unix_ms = o->since[shard];
	ret->since_is_lower_bound = bit(o->since_lower, shard);
	ret->alive = l->owner[0] != '\0' &&
	             dc_lease_alive(&o->st, l->owner, now_mono);
	ret->releasing = dc_lease_is_releasing(&o->st, shard, now_mono);
	ret->beat_age_known = dc_lease_beat_age(&o->st, l->owner, now_mono,
	                                        &ret->beat_age_ms);
}
