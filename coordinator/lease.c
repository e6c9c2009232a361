/*
 * lease.c - the pure decision of one instance's lease round (lease.h).
 *
 * Owns: what this instance has seen of the others' heartbeats and when,
 * who is alive, the fair share, and which leases to keep, take and
 * release. Never: reads or writes a store, reads a clock, or decides
 * alone that it owns a shard: a take is a proposal that holds only once
 * its conditional write committed (dc_lease_wrote).
 */
#include "lease.h"

#include <string.h>

#include <dtx/dtx.h>

bool dc_lease_name_ok(const char *name)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyz"
	                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
	size_t n = strnlen(name, DC_LEASE_NAME_MAX + 1);

	return n > 0 && n <= DC_LEASE_NAME_MAX && strspn(name, ok) == n;
}

int dc_lease_init(dc_lease_state *s, const char *me, uint32_t shards,
                  uint64_t lease_ms)
{
	if (!dc_lease_name_ok(me) || shards == 0 ||
	    shards > DC_LEASE_SHARDS_MAX || lease_ms == 0)
		return DTX_EINVAL;
	memset(s, 0, sizeof(*s));
	strcpy(s->me, me);
	s->shards = shards;
	s->lease_ms = lease_ms;
	return DTX_OK;
}

static dc_lease_peer *peer_find(const dc_lease_state *s, const char *name)
{
	for (uint32_t i = 0; i < s->npeers; i++)
		if (strcmp(s->peer[i].name, name) == 0)
			return (dc_lease_peer *)&s->peer[i];
	return NULL;
}

/* peer_see records that name has heartbeat beat (present) or none, at
 * now: a changed value restarts its clock. */
static int peer_see(dc_lease_state *s, const char *name, bool present,
                    uint64_t beat, uint64_t now)
{
	dc_lease_peer *p = peer_find(s, name);

	if (p == NULL) {
		if (s->npeers == DC_LEASE_INSTANCES_MAX)
			return DTX_ELIMIT;
		p = &s->peer[s->npeers++];
		strcpy(p->name, name);
		p->present = present;
		p->beat = beat;
		p->since_mono = now;
		return DTX_OK;
	}
	if (p->present != present || p->beat != beat) {
		p->present = present;
		p->beat = beat;
		p->since_mono = now;
	}
	return DTX_OK;
}

static int check_input(const dc_lease_state *s, const dc_lease_rec *recs,
                       const dc_lease_beat *beats, uint32_t nbeats)
{
	for (uint32_t i = 0; i < s->shards; i++)
		if (recs[i].owner[0] != '\0' &&
		    !dc_lease_name_ok(recs[i].owner))
			return DTX_EINVAL;
	for (uint32_t i = 0; i < nbeats; i++) {
		if (!dc_lease_name_ok(beats[i].name))
			return DTX_EINVAL;
		if (strcmp(beats[i].name, s->me) == 0 && s->observed &&
		    beats[i].beat != s->my_beat)
			return DTX_ECONFLICT;
	}
	return DTX_OK;
}

/* owner_seen: an owner without a heartbeat record is still tracked, so
 * that its absence, too, ages into death. */
static int see_owners(dc_lease_state *s, const dc_lease_beat *beats,
                      uint32_t nbeats, uint64_t now)
{
	for (uint32_t i = 0; i < s->shards; i++) {
		const char *o = s->rec[i].owner;
		bool has = false;

		if (o[0] == '\0' || strcmp(o, s->me) == 0)
			continue;
		for (uint32_t b = 0; b < nbeats && !has; b++)
			has = strcmp(beats[b].name, o) == 0;
		if (!has && peer_see(s, o, false, 0, now) != DTX_OK)
			return DTX_ELIMIT;
	}
	return DTX_OK;
}

int dc_lease_observe(dc_lease_state *s, const dc_lease_rec *recs,
                     const dc_lease_beat *beats, uint32_t nbeats,
                     uint64_t now_mono)
{
	int rc = check_input(s, recs, beats, nbeats);

	if (rc != DTX_OK)
		return rc;
	memcpy(s->rec, recs, sizeof(s->rec[0]) * s->shards);
	for (uint32_t i = 0; i < nbeats; i++) {
		if (strcmp(beats[i].name, s->me) == 0) {
			/* first sight: a record an earlier run of this
			 * instance left; its next write goes on from it */
			if (!s->observed)
				s->my_beat = beats[i].beat;
			continue;
		}
		rc = peer_see(s, beats[i].name, true, beats[i].beat, now_mono);
		if (rc != DTX_OK)
			return rc;
	}
	rc = see_owners(s, beats, nbeats, now_mono);
	if (rc == DTX_OK)
		s->observed = true;
	return rc;
}

/* peer_alive: p's heartbeat (or its absence) changed less than lease_ms
 * ago. An owner without a record gets the same grace as one whose record
 * stands still: it may be an instance whose first heartbeat is not yet
 * visible to us. */
static bool peer_alive(const dc_lease_state *s, const dc_lease_peer *p,
                       uint64_t now)
{
	return now < p->since_mono + s->lease_ms;
}

bool dc_lease_alive(const dc_lease_state *s, const char *name,
                    uint64_t now_mono)
{
	const dc_lease_peer *p;

	if (strcmp(name, s->me) == 0)
		return true;
	p = peer_find(s, name);
	/* never seen at all: not dead yet as far as we know (it is seen,
	 * hence tracked, from the first observation that names it) */
	return p == NULL || peer_alive(s, p, now_mono);
}

/* share_of gives the fair share of the instance ranked rank among live
 * ones. */
static uint32_t share_of(uint32_t shards, uint32_t live, uint32_t rank)
{
	return shards / live + (rank < shards % live ? 1 : 0);
}

/* rank_of counts the live instances (*ret_live) and returns the rank of
 * name among them by name order (name need not be live). */
static uint32_t rank_of(const dc_lease_state *s, const char *name, uint64_t now,
                        uint32_t *ret_live)
{
	uint32_t live = 1, rank = strcmp(s->me, name) < 0 ? 1 : 0;

	for (uint32_t i = 0; i < s->npeers; i++) {
		if (!peer_alive(s, &s->peer[i], now))
			continue;
		live++;
		if (strcmp(s->peer[i].name, name) < 0)
			rank++;
	}
	*ret_live = live;
	return rank;
}

/* owned_by counts the shards whose lease names name. */
static uint32_t owned_by(const dc_lease_state *s, const char *name)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < s->shards; i++)
		n += strcmp(s->rec[i].owner, name) == 0;
	return n;
}

/* short_besides: a live instance other than name (me included) holds
 * fewer shards than its fair share. */
static bool short_besides(const dc_lease_state *s, const char *name,
                          uint64_t now)
{
	uint32_t live, r;

	if (strcmp(s->me, name) != 0) {
		r = rank_of(s, s->me, now, &live);
		if (owned_by(s, s->me) < share_of(s->shards, live, r))
			return true;
	}
	for (uint32_t i = 0; i < s->npeers; i++) {
		const dc_lease_peer *p = &s->peer[i];

		if (!peer_alive(s, p, now) || strcmp(p->name, name) == 0)
			continue;
		r = rank_of(s, p->name, now, &live);
		if (owned_by(s, p->name) < share_of(s->shards, live, r))
			return true;
	}
	return false;
}

/* someone_short: a live instance other than me holds fewer shards than
 * its fair share. */
static bool someone_short(const dc_lease_state *s, uint64_t now)
{
	return short_besides(s, s->me, now);
}

static bool takeable(const dc_lease_state *s, uint32_t shard, uint64_t now)
{
	const char *o = s->rec[shard].owner;

	return o[0] == '\0' ||
	       (strcmp(o, s->me) != 0 && !dc_lease_alive(s, o, now));
}

/* plan_takes picks shards to take, starting at an offset by rank so that
 * instances taking at once mostly pick different ones. */
static void plan_takes(const dc_lease_state *s, uint64_t now, uint32_t rank,
                       uint32_t want, dc_lease_plan *plan)
{
	uint32_t start = (uint32_t)((uint64_t)rank * s->shards / plan->live);

	for (uint32_t k = 0; k < s->shards && plan->ntake < want; k++) {
		uint32_t shard = (start + k) % s->shards;

		if (takeable(s, shard, now))
			plan->take[plan->ntake++] = shard;
	}
}

void dc_lease_make_plan(const dc_lease_state *s, uint64_t now_mono,
                        dc_lease_plan *plan)
{
	uint32_t rank = rank_of(s, s->me, now_mono, &plan->live);

	plan->nkeep = plan->ntake = plan->nrelease = 0;
	plan->share = share_of(s->shards, plan->live, rank);
	for (uint32_t i = 0; i < s->shards; i++)
		if (strcmp(s->rec[i].owner, s->me) == 0)
			plan->keep[plan->nkeep++] = i;
	if (plan->nkeep < plan->share) {
		plan_takes(s, now_mono, rank, plan->share - plan->nkeep, plan);
		return;
	}
	if (plan->nkeep > plan->share && someone_short(s, now_mono)) {
		/* give back the highest numbered: they leave keep */
		while (plan->nkeep > plan->share)
			plan->release[plan->nrelease++] =
			        plan->keep[--plan->nkeep];
	}
}

void dc_lease_wrote(dc_lease_state *s, const dc_lease_plan *plan, uint64_t beat)
{
	for (uint32_t i = 0; i < plan->ntake; i++) {
		dc_lease_rec *r = &s->rec[plan->take[i]];

		strcpy(r->owner, s->me);
		r->epoch++;
	}
	for (uint32_t i = 0; i < plan->nrelease; i++)
		s->rec[plan->release[i]].owner[0] = '\0';
	s->my_beat = beat;
}

bool dc_lease_beat_age(const dc_lease_state *s, const char *name,
                       uint64_t now_mono, uint64_t *ret_age_ms)
{
	const dc_lease_peer *p;

	if (strcmp(name, s->me) == 0 || (p = peer_find(s, name)) == NULL ||
	    !p->present)
		return false;
	*ret_age_ms = now_mono > p->since_mono ? now_mono - p->since_mono : 0;
	return true;
}

bool dc_lease_is_releasing(const dc_lease_state *s, uint32_t shard,
                           uint64_t now_mono)
{
	const char *o = shard < s->shards ? s->rec[shard].owner : "";
	uint32_t live, rank, share, held, above = 0;

	if (o[0] == '\0' || !dc_lease_alive(s, o, now_mono))
		return false;
	rank = rank_of(s, o, now_mono, &live);
	share = share_of(s->shards, live, rank);
	held = owned_by(s, o);
	if (held <= share || !short_besides(s, o, now_mono))
		return false;
	/* dc_lease_make_plan gives back the highest numbered ones */
	for (uint32_t i = shard + 1; i < s->shards; i++)
		above += strcmp(s->rec[i].owner, o) == 0;
	return above < held - share;
}

bool dc_lease_watch(const dc_lease_state *s, uint64_t now_mono)
{
	if (short_besides(s, "", now_mono)) /* "": no instance's name */
		return true;
	for (uint32_t i = 0; i < s->npeers; i++) {
		const dc_lease_peer *p = &s->peer[i];

		if (peer_alive(s, p, now_mono) && owned_by(s, p->name) > 0 &&
		    now_mono >= p->since_mono + s->lease_ms / 2)
			return true;
	}
	return false;
}

bool dc_lease_owns(const dc_lease_state *s, uint32_t shard, uint64_t *ret_epoch)
{
	if (shard >= s->shards || strcmp(s->rec[shard].owner, s->me) != 0)
		return false;
	if (ret_epoch != NULL)
		*ret_epoch = s->rec[shard].epoch;
	return true;
}
