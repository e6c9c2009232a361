/*
 * lease.h - which instance owns which shard: the pure decision of one
 * instance's lease round (DESIGN.md "Scale past one machine").
 *
 * Several dtxd instances share one store. Each of the store's M virtual
 * shards has a lease record (owner name, epoch; owner "" = free), and each
 * instance a heartbeat record (a counter it bumps every round). Once a
 * round an instance reads both tables in one read transaction and hands
 * them to dc_lease_observe; dc_lease_plan then says what to write, in one
 * write transaction whose every write is conditional (compare and swap on
 * the lease record as it was read):
 *
 *   keep     the leases it holds: still (me, epoch), or it has lost them
 *   take     a free lease, or one whose owner is dead: (me, epoch + 1)
 *   release  a lease above its fair share while another live instance is
 *            below its own: ("", epoch), after it stopped driving that
 *            shard's transactions
 *
 * Fair share: the live instances sorted by name, the i-th gets M / L
 * shards, and one more if i < M % L; so a joining instance is given
 * shards, and a dead one's are spread over the others.
 *
 * Liveness is judged only by what this instance observed on its own
 * monotonic clock: another instance is dead once its heartbeat has not
 * changed for lease_ms since this instance first saw that value (an owner
 * without any heartbeat record counts from when that was first seen). No
 * wall clocks are compared across machines, so clock skew cannot make two
 * owners. What makes a slow, paused or partitioned ex-owner harmless is
 * the fencing - every write of a shard is conditional on its (owner,
 * epoch) - not the expiry: the expiry only decides when the others stop
 * waiting for it. An instance that starts waits lease_ms before it calls
 * anyone dead (it has seen nobody's heartbeat move yet).
 *
 * A second live instance with this instance's name is detected by its
 * heartbeat: a value this instance did not write (DTX_ECONFLICT). The
 * caller writes its heartbeat as a compare and swap from s->my_beat (the
 * first observation adopts what an earlier run left) to my_beat + 1, so of
 * two instances with one name, one write fails and that one stops.
 *
 * Pure: no I/O, no clock of its own, no allocation; the state is a plain
 * struct the caller owns (about 100 KB: allocate it, do not put it on a
 * stack).
 */
#ifndef DTX_COORDINATOR_LEASE_H
#define DTX_COORDINATOR_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#define DC_LEASE_NAME_MAX      63   /* instance name: [A-Za-z0-9._-] */
#define DC_LEASE_SHARDS_MAX    1024 /* the gid's 10 shard bits */
#define DC_LEASE_INSTANCES_MAX 64

/* One shard's lease record as read from the store. */
typedef struct dc_lease_rec {
	char owner[DC_LEASE_NAME_MAX + 1]; /* "" = free */
	uint64_t epoch;                    /* rises with every new owner */
} dc_lease_rec;

/* One instance's heartbeat record as read from the store. */
typedef struct dc_lease_beat {
	char name[DC_LEASE_NAME_MAX + 1];
	uint64_t beat;
} dc_lease_beat;

/* What this instance knows of another (or of itself). */
typedef struct dc_lease_peer {
	char name[DC_LEASE_NAME_MAX + 1];
	uint64_t beat;       /* last value seen */
	uint64_t since_mono; /* when that value (or its absence) was first
	                        seen */
	bool present;        /* has a heartbeat record */
} dc_lease_peer;

typedef struct dc_lease_state {
	char me[DC_LEASE_NAME_MAX + 1];
	uint32_t shards;
	uint64_t lease_ms;
	uint64_t my_beat; /* the last heartbeat this instance wrote */
	dc_lease_rec rec[DC_LEASE_SHARDS_MAX]; /* as last observed */
	dc_lease_peer peer[DC_LEASE_INSTANCES_MAX];
	uint32_t npeers;
	bool observed; /* dc_lease_observe has run once */
} dc_lease_state;

typedef struct dc_lease_plan {
	uint32_t keep[DC_LEASE_SHARDS_MAX]; /* shard numbers, ascending */
	uint32_t nkeep;
	uint32_t take[DC_LEASE_SHARDS_MAX];
	uint32_t ntake;
	uint32_t release[DC_LEASE_SHARDS_MAX];
	uint32_t nrelease;
	uint32_t live;  /* live instances, this one included */
	uint32_t share; /* this instance's fair share */
} dc_lease_plan;

/* dc_lease_name_ok: name is 1..DC_LEASE_NAME_MAX of [A-Za-z0-9._-]. */
bool dc_lease_name_ok(const char *name);

/* dc_lease_init prepares s (caller-owned) for instance me (copied) of a
 * store with shards shards, dead after lease_ms without a heartbeat.
 * Errors: DTX_EINVAL (bad name, shards 0 or over DC_LEASE_SHARDS_MAX,
 * lease_ms 0). */
int dc_lease_init(dc_lease_state *s, const char *me, uint32_t shards,
                  uint64_t lease_ms);

/* dc_lease_observe takes one consistent read of the store: recs[shard]
 * for every shard (s->shards of them) and nbeats heartbeat records, at
 * monotonic time now_mono. Errors: DTX_EINVAL (a record with a bad name;
 * nothing taken), DTX_ELIMIT (more than DC_LEASE_INSTANCES_MAX instances
 * known), DTX_ECONFLICT (a heartbeat of this instance's name that it did
 * not write: another live instance has its name). */
int dc_lease_observe(dc_lease_state *s, const dc_lease_rec *recs,
                     const dc_lease_beat *beats, uint32_t nbeats,
                     uint64_t now_mono);

/* dc_lease_alive: instance name is alive as of now_mono (this instance
 * always is). */
bool dc_lease_alive(const dc_lease_state *s, const char *name,
                    uint64_t now_mono);

/* dc_lease_make_plan writes what this round should do into *plan (caller-
 * owned) from the last observation. */
void dc_lease_make_plan(const dc_lease_state *s, uint64_t now_mono,
                        dc_lease_plan *plan);

/* dc_lease_wrote records that this instance's write of plan, carrying
 * heartbeat beat, committed: its takes and releases are now the records
 * it fences its writes with. */
void dc_lease_wrote(dc_lease_state *s, const dc_lease_plan *plan,
                    uint64_t beat);

/* dc_lease_beat_age: how long ago (*ret_age_ms) another instance's
 * heartbeat last moved as this instance saw it; false for this instance,
 * one never seen, or one without a heartbeat record. */
bool dc_lease_beat_age(const dc_lease_state *s, const char *name,
                       uint64_t now_mono, uint64_t *ret_age_ms);

/* dc_lease_is_releasing: shard's owner, alive as of now_mono, holds more
 * than its fair share while another live instance is short, and shard is
 * one its plan gives back (its highest numbered) - what this instance
 * predicts from its own observation; the owner drains the shard first,
 * so operators see it as draining. For this instance's own shards the
 * engine knows better (its drain list). */
bool dc_lease_is_releasing(const dc_lease_state *s, uint32_t shard,
                           uint64_t now_mono);

/* dc_lease_watch: something is about to change hands, as of now_mono, so
 * the rounds should come faster than every lease_ms / 3 for a while: a
 * live instance (this one included) holds fewer shards than its fair
 * share (a move is under way: shards being drained, released and taken,
 * each step one round later than the last), or another instance that
 * holds shards has a heartbeat that stood still for half a lease (it may
 * be dead: its shards are takeable the moment its lease runs out, not a
 * round later). Neither holds while the instances are balanced and
 * alive, so a steady deployment keeps its slow rounds. */
bool dc_lease_watch(const dc_lease_state *s, uint64_t now_mono);

/* dc_lease_owns: shard is this instance's as of the last observation or
 * write (its epoch in *ret_epoch, may be NULL). */
bool dc_lease_owns(const dc_lease_state *s, uint32_t shard,
                   uint64_t *ret_epoch);

#endif
