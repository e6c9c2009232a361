/*
 * lease_test.c - the lease round's decisions (coordinator/lease.h): fair
 * shares, takeover only after a heartbeat stood still for lease_ms on the
 * observer's own clock, rebalancing on join, fencing by epoch, and a
 * second instance with one name. Several instances are simulated against
 * one in-memory copy of the two tables, each write applied as the
 * compare-and-swap the real store does.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dtx/dtx.h>

#include "lease.h"

#define LEASE_MS 5000
#define NI       4

/* The shared "store": lease records and heartbeats. */
typedef struct world {
	uint32_t shards;
	dc_lease_rec rec[DC_LEASE_SHARDS_MAX];
	dc_lease_beat beat[NI];
	uint32_t nbeats;
	dc_lease_state *st[NI];
	bool running[NI];
	uint64_t now;
} world;

static world *world_new(uint32_t shards, int n)
{
	world *w = calloc(1, sizeof(*w));
	char name[8];

	cr_assert_not_null(w);
	w->shards = shards;
	w->now = 1000000;
	for (int i = 0; i < n; i++) {
		w->st[i] = calloc(1, sizeof(dc_lease_state));
		snprintf(name, sizeof(name), "i%d", i);
		cr_assert_eq(dc_lease_init(w->st[i], name, shards, LEASE_MS),
		             DTX_OK);
		w->running[i] = true;
	}
	return w;
}

static void world_free(world *w)
{
	for (int i = 0; i < NI; i++)
		free(w->st[i]);
	free(w);
}

static dc_lease_beat *beat_of(world *w, const char *name)
{
	for (uint32_t i = 0; i < w->nbeats; i++)
		if (strcmp(w->beat[i].name, name) == 0)
			return &w->beat[i];
	return NULL;
}

/* round runs instance i's round: observe, plan, then the conditional
 * write (all or nothing, as one store transaction). Returns the write's
 * outcome: DTX_OK, DTX_ECONFLICT (a CAS failed: nothing written), or the
 * observation's error. */
static int round_of(world *w, int i, dc_lease_plan *p)
{
	dc_lease_state *s = w->st[i];
	dc_lease_beat *b;
	int rc = dc_lease_observe(s, w->rec, w->beat, w->nbeats, w->now);

	if (rc != DTX_OK)
		return rc;
	dc_lease_make_plan(s, w->now, p);
	b = beat_of(w, s->me);
	if ((b == NULL ? 0 : b->beat) != s->my_beat)
		return DTX_ECONFLICT;
	for (uint32_t k = 0; k < p->nkeep; k++)
		if (!dc_lease_owns(s, p->keep[k], NULL) ||
		    strcmp(w->rec[p->keep[k]].owner, s->me) != 0)
			return DTX_ECONFLICT;
	/* takes CAS against what was observed: s->rec is that copy */
	for (uint32_t k = 0; k < p->ntake; k++) {
		const dc_lease_rec *seen = &s->rec[p->take[k]];
		const dc_lease_rec *now = &w->rec[p->take[k]];

		if (strcmp(seen->owner, now->owner) != 0 ||
		    seen->epoch != now->epoch)
			return DTX_ECONFLICT;
	}
	for (uint32_t k = 0; k < p->ntake; k++) {
		strcpy(w->rec[p->take[k]].owner, s->me);
		w->rec[p->take[k]].epoch++;
	}
	for (uint32_t k = 0; k < p->nrelease; k++)
		w->rec[p->release[k]].owner[0] = '\0';
	if (b == NULL) {
		b = &w->beat[w->nbeats++];
		strcpy(b->name, s->me);
	}
	b->beat = s->my_beat + 1;
	dc_lease_wrote(s, p, b->beat);
	return DTX_OK;
}

/* rounds runs every running instance's round, steps of step_ms, for
 * ms of simulated time. */
static void rounds(world *w, int n, uint64_t ms, uint64_t step_ms)
{
	static dc_lease_plan p;

	for (uint64_t t = 0; t < ms; t += step_ms) {
		for (int i = 0; i < n; i++)
			if (w->running[i])
				(void)round_of(w, i, &p);
		w->now += step_ms;
	}
}

static uint32_t count_owned(const world *w, const char *name)
{
	uint32_t c = 0;

	for (uint32_t i = 0; i < w->shards; i++)
		c += strcmp(w->rec[i].owner, name) == 0;
	return c;
}

Test(lease, one_instance_takes_every_free_shard_at_once)
{
	world *w = world_new(16, 1);

	rounds(w, 1, 1, 1);
	cr_assert_eq(count_owned(w, "i0"), 16);
	for (uint32_t i = 0; i < 16; i++)
		cr_assert_eq(w->rec[i].epoch, 1);
	world_free(w);
}

Test(lease, three_instances_split_the_shards_fairly)
{
	world *w = world_new(16, 3);

	rounds(w, 3, 20000, 1000);
	cr_assert_eq(count_owned(w, "i0"), 6);
	cr_assert_eq(count_owned(w, "i1"), 5);
	cr_assert_eq(count_owned(w, "i2"), 5);
	world_free(w);
}

Test(lease, a_joining_instance_is_given_its_share)
{
	world *w = world_new(12, 3);

	rounds(w, 1, 5000, 1000);
	cr_assert_eq(count_owned(w, "i0"), 12);
	rounds(w, 3, 20000, 1000);
	cr_assert_eq(count_owned(w, "i0"), 4);
	cr_assert_eq(count_owned(w, "i1"), 4);
	cr_assert_eq(count_owned(w, "i2"), 4);
	world_free(w);
}

Test(lease, a_dead_owner_is_not_taken_over_before_lease_ms)
{
	world *w = world_new(8, 2);

	rounds(w, 2, 10000, 500);
	cr_assert_eq(count_owned(w, "i0"), 4);
	w->running[0] = false; /* kill -9: its heartbeat stands still */
	rounds(w, 2, LEASE_MS - 500, 500);
	cr_assert_eq(count_owned(w, "i1"), 4, "taken before the lease expired");
	rounds(w, 2, 1500, 500);
	cr_assert_eq(count_owned(w, "i1"), 8);
	world_free(w);
}

Test(lease, a_takeover_raises_the_epoch_so_the_old_owner_is_fenced)
{
	world *w = world_new(4, 2);
	uint64_t e_old, e_new;
	dc_lease_plan p;
	uint32_t shard = 4;

	rounds(w, 2, 10000, 500);
	for (uint32_t i = 0; i < 4 && shard == 4; i++)
		if (dc_lease_owns(w->st[0], i, &e_old))
			shard = i;
	cr_assert_lt(shard, 4);
	w->running[0] = false; /* SIGSTOP */
	rounds(w, 2, LEASE_MS + 2000, 500);
	cr_assert(dc_lease_owns(w->st[1], shard, &e_new));
	cr_assert_eq(e_new, e_old + 1);
	/* SIGCONT: its in-memory view still says it owns the shard with
	 * e_old; the store says otherwise, so a write fenced on (i0, e_old)
	 * fails, and its next observation drops the shard */
	cr_assert(dc_lease_owns(w->st[0], shard, NULL));
	cr_assert_neq(w->rec[shard].epoch, e_old);
	w->running[0] = true;
	cr_assert_eq(round_of(w, 0, &p), DTX_OK);
	cr_assert_not(dc_lease_owns(w->st[0], shard, NULL));
	world_free(w);
}

Test(lease, an_instance_that_starts_calls_nobody_dead_for_lease_ms)
{
	world *w = world_new(4, 2);

	rounds(w, 1, 1, 1); /* i0 owned everything, then died */
	w->running[0] = false;
	w->now += 60000; /* i1 starts long after */
	rounds(w, 2, LEASE_MS - 1000, 1000);
	cr_assert_eq(count_owned(w, "i1"), 0);
	rounds(w, 2, 2000, 1000);
	cr_assert_eq(count_owned(w, "i1"), 4);
	world_free(w);
}

Test(lease, an_owner_without_a_heartbeat_record_ages_into_death)
{
	world *w = world_new(2, 1);

	strcpy(w->rec[0].owner, "ghost");
	w->rec[0].epoch = 7;
	rounds(w, 1, LEASE_MS - 1000, 1000);
	cr_assert_eq(count_owned(w, "ghost"), 1);
	rounds(w, 1, 2000, 1000);
	cr_assert_eq(count_owned(w, "i0"), 2);
	cr_assert_eq(w->rec[0].epoch, 8);
	world_free(w);
}

Test(lease, a_second_instance_with_my_name_is_a_conflict)
{
	world *w = world_new(2, 2);
	dc_lease_plan p;

	strcpy(w->st[1]->me, "i0"); /* both are named i0 */
	cr_assert_eq(round_of(w, 0, &p), DTX_OK);
	cr_assert_eq(round_of(w, 1, &p), DTX_OK); /* adopts i0's beat */
	cr_assert_eq(round_of(w, 0, &p), DTX_ECONFLICT);
	world_free(w);
}

Test(lease, a_restart_adopts_the_heartbeat_its_last_run_left)
{
	world *w = world_new(2, 1);
	dc_lease_plan p;

	rounds(w, 1, 3000, 1000);
	cr_assert_eq(dc_lease_init(w->st[0], "i0", 2, LEASE_MS), DTX_OK);
	cr_assert_eq(round_of(w, 0, &p), DTX_OK);
	cr_assert_eq(count_owned(w, "i0"), 2);
	cr_assert_eq(p.nkeep, 2, "its own leases are kept, not retaken");
	world_free(w);
}

Test(lease, bad_input_is_refused_whole)
{
	static dc_lease_state s;
	dc_lease_rec rec[2] = {{"ok", 1}, {"bad name!", 1}};
	dc_lease_beat beats[1] = {{"x", 1}};

	cr_assert_eq(dc_lease_init(&s, "", 2, LEASE_MS), DTX_EINVAL);
	cr_assert_eq(dc_lease_init(&s, "a b", 2, LEASE_MS), DTX_EINVAL);
	cr_assert_eq(dc_lease_init(&s, "a", 0, LEASE_MS), DTX_EINVAL);
	cr_assert_eq(dc_lease_init(&s, "a", DC_LEASE_SHARDS_MAX + 1, LEASE_MS),
	             DTX_EINVAL);
	cr_assert_eq(dc_lease_init(&s, "a", 2, 0), DTX_EINVAL);
	cr_assert_eq(dc_lease_init(&s, "a", 2, LEASE_MS), DTX_OK);
	cr_assert_eq(dc_lease_observe(&s, rec, beats, 1, 1), DTX_EINVAL);
	cr_assert_not(s.observed);
}

Test(lease, no_shard_ever_has_two_owners_in_a_churning_world)
{
	world *w = world_new(32, NI);
	uint64_t x = 88172645463325252ull;

	for (int step = 0; step < 3000; step++) {
		dc_lease_plan p;
		int i;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		i = (int)(x % NI);
		if (x % 97 == 0) /* a crash, or a restart */
			w->running[i] = !w->running[i];
		if (w->running[i])
			(void)round_of(w, i, &p);
		w->now += x % 700;
		/* at most one instance believes it owns (shard, epoch), and
		 * nobody believes in an epoch the store has not reached */
		for (uint32_t s = 0; s < w->shards; s++) {
			int owners = 0;

			for (int j = 0; j < NI; j++) {
				uint64_t e;

				if (!dc_lease_owns(w->st[j], s, &e))
					continue;
				cr_assert_leq(e, w->rec[s].epoch);
				owners += e == w->rec[s].epoch;
			}
			cr_assert_leq(owners, 1, "shard %u: %d owners", s,
			              owners);
		}
	}
	for (int i = 0; i < NI; i++)
		w->running[i] = true;
	rounds(w, NI, 30000, 1000);
	for (int i = 0; i < NI; i++) {
		char name[8];

		snprintf(name, sizeof(name), "i%d", i);
		cr_assert_eq(count_owned(w, name), 8, "i%d owns %u", i,
		             count_owned(w, name));
	}
	world_free(w);
}

/* What operators see as draining (dtxctl shards): an observer predicts
 * from its own observation the shards an owner above its share gives
 * back - its highest numbered - and none once the split is fair. */
Test(lease, an_observer_sees_which_shards_an_owner_gives_back)
{
	world *w = world_new(4, 2);
	dc_lease_state *i1 = w->st[1];

	rounds(w, 1, 5000, 1000); /* i0 alone: all four */
	cr_assert_eq(count_owned(w, "i0"), 4);
	cr_assert_eq(dc_lease_observe(i1, w->rec, w->beat, w->nbeats, w->now),
	             DTX_OK);
	cr_assert_not(dc_lease_is_releasing(i1, 0, w->now));
	cr_assert_not(dc_lease_is_releasing(i1, 1, w->now));
	cr_assert(dc_lease_is_releasing(i1, 2, w->now));
	cr_assert(dc_lease_is_releasing(i1, 3, w->now));
	rounds(w, 2, 20000, 1000);
	cr_assert_eq(count_owned(w, "i1"), 2);
	for (uint32_t s = 0; s < 4; s++) {
		cr_assert_not(dc_lease_is_releasing(w->st[0], s, w->now));
		cr_assert_not(dc_lease_is_releasing(i1, s, w->now));
	}
	world_free(w);
}

/* Rounds come faster while something is about to change hands: a joining
 * instance short of its share (a move is under way), or an owner whose
 * heartbeat stood still for half a lease (it may be dead); a balanced,
 * living deployment keeps its slow rounds. */
Test(lease, watch_says_when_rounds_should_come_faster)
{
	world *w = world_new(12, 3);

	rounds(w, 1, 5000, 1000);
	cr_assert_not(dc_lease_watch(w->st[0], w->now), "one, alone");
	rounds(w, 3, 1000, 1000); /* i1, i2 join: short of their share */
	cr_assert(dc_lease_watch(w->st[1], w->now), "i1: a move is due");
	cr_assert(dc_lease_watch(w->st[2], w->now), "i2: a move is due");
	rounds(w, 3, 20000, 1000);
	cr_assert_eq(count_owned(w, "i2"), 4);
	cr_assert_not(dc_lease_watch(w->st[0], w->now), "balanced");
	w->running[2] = false; /* kill -9: its heartbeat stands still */
	rounds(w, 2, LEASE_MS / 2 - 1000, 1000);
	cr_assert_not(dc_lease_watch(w->st[0], w->now), "not yet suspect");
	rounds(w, 2, 1000, 1000);
	cr_assert(dc_lease_watch(w->st[0], w->now), "still for half a lease");
	rounds(w, 2, LEASE_MS, 1000);
	cr_assert_eq(count_owned(w, "i2"), 0, "its shards were taken");
	cr_assert_not(dc_lease_watch(w->st[0], w->now), "balanced again");
	world_free(w);
}
