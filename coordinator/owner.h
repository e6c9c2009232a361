/*
 * owner.h - one instance's lease rounds on a shared store: which shards
 * it owns, at which epoch, and who owns the others (their advertised
 * URLs, for DTX_EMOVED and Topology).
 *
 * A round reads the leases and heartbeats (dc_log_leases_read), decides
 * with lease.h, and writes what it decided as one write transaction of
 * compare-and-swaps (dc_log_round_commit). What the caller must do about
 * the outcome is in dc_owner_round:
 *
 *   taken     shards this instance owns now and did not before: recover
 *             their non-final transactions before serving them (on the
 *             first round this includes leases an earlier run of this
 *             name left: a restart after kill -9 takes its shards back,
 *             each at a new epoch, so that run, if it was only paused,
 *             is fenced out)
 *   drain     shards to give to a joining instance: stop serving them,
 *             wait for no flight holding their transactions, forget
 *             them, then pass them in `drained` to a later round, which
 *             writes the release
 *   released  shards whose release this round wrote
 *   lost      shards it owned whose record now names another owner or
 *             epoch (it was paused or cut off past its lease): it must
 *             stop driving them at once (dtxd: exit EX_TEMPFAIL,
 *             crash-only)
 *   conflict  a compare-and-swap lost a race (another instance took a
 *             shard first): nothing of the round was written; the next
 *             round sees why
 *
 * A second live instance with this instance's name: the first round
 * that sees this name's heartbeat record does not write until the
 * record has stood still for lease_ms on this instance's clock (an
 * earlier run that died), so a second instance started beside a live
 * one gets DTX_ECONFLICT instead of a shared name; a live instance that
 * sees its record move under it (the other won) gets DTX_ECONFLICT too.
 *
 * Threads: a dc_owner is used by one thread at a time (dtxd: the round
 * thread); its reads and writes go through the log's reads and one write
 * transaction (the log's writer is the commit worker's: the caller runs
 * rounds where it may write - see engine notes). No clock of its own:
 * the caller passes monotonic time.
 */
#ifndef DTX_COORDINATOR_OWNER_H
#define DTX_COORDINATOR_OWNER_H

#include <stdbool.h>
#include <stdint.h>

#include "lease.h"
#include "log.h"

typedef struct dc_owner dc_owner;

typedef struct dc_owner_opts {
	dc_log *log;            /* retained: a writer opened with shards */
	const char *name;       /* copied: [A-Za-z0-9._-]{1,63} */
	const char *client_url; /* copied; may be NULL */
	const char *admin_url;  /* copied; may be NULL */
	uint32_t shards;        /* the store's (dc_log_shards) */
	uint64_t lease_ms;      /* dead after this without a heartbeat */
} dc_owner_opts;

typedef struct dc_owner_round {
	uint32_t taken[DC_LEASE_SHARDS_MAX];
	uint32_t ntaken;
	uint32_t drain[DC_LEASE_SHARDS_MAX];
	uint32_t ndrain;
	uint32_t released[DC_LEASE_SHARDS_MAX];
	uint32_t nreleased;
	uint32_t lost[DC_LEASE_SHARDS_MAX];
	uint32_t nlost;
	bool conflict; /* nothing written: a race lost, see above */
	bool waiting;  /* nothing written: this name's record must stand still
	                  first (see the top comment) */
	uint32_t live; /* live instances seen, this one included */
	bool watch;    /* dc_lease_watch: the next round should come soon */
} dc_owner_round;

/* dc_owner_create makes the owner of opts->name (the state, ~200 KB, is
 * allocated). Errors: DTX_EINVAL (a bad name or URL, shards 0 or over
 * DC_LEASE_SHARDS_MAX, lease_ms 0), DTX_ENOMEM. */
int dc_owner_create(const dc_owner_opts *opts, dc_owner **ret_owner);

/* dc_owner_destroy accepts NULL. */
void dc_owner_destroy(dc_owner *o);

/* dc_owner_run_round runs one round at now_mono (its heartbeat carries
 * now_unix, the wall clock, for operators only); drained (NULL: none)
 * has a bit per shard the caller finished draining. *ret (caller-owned)
 * says what to do. Errors: DTX_ECONFLICT (another live instance has this
 * name: stop), DTX_ECORRUPT (a lease or heartbeat record fails its
 * checks), DTX_ELIMIT (more instances than DC_LEASE_INSTANCES_MAX), and
 * the store's errors (DTX_EIO...: the heartbeat was not written; an
 * instance that cannot write for lease_ms must stop driving). */
int dc_owner_run_round(dc_owner *o, uint64_t now_mono, int64_t now_unix,
                       const uint8_t *drained, dc_owner_round *ret);

/* dc_owner_owns: shard is this instance's as of its last round that
 * wrote (its epoch in *ret_epoch, may be NULL). */
bool dc_owner_owns(const dc_owner *o, uint32_t shard, uint64_t *ret_epoch);

/* dc_owner_owner_of: the owner of shard as last read (borrowed, ""
 * free) and its advertised client URL ("" unknown), valid until the next
 * round. */
const char *dc_owner_owner_of(const dc_owner *o, uint32_t shard,
                              const char **ret_url);

/* What this instance knows of one shard, for operators (dtxctl shards). */
typedef struct dc_owner_shard {
	const char *owner;      /* "" none; borrowed until the next round */
	const char *client_url; /* the owner's advertised URLs, "" unknown */
	const char *admin_url;
	uint64_t epoch;
	int64_t since_unix_ms;     /* (owner, epoch) first seen, or taken */
	bool since_is_lower_bound; /* ... at this instance's first read */
	bool alive;                /* the owner's heartbeat moves */
	bool releasing;            /* its owner's plan gives it back */
	bool beat_age_known;
	uint64_t beat_age_ms; /* since the owner's heartbeat moved */
} dc_owner_shard;

/* dc_owner_view fills *ret (caller-owned; its strings borrow o until the
 * next round) with shard (< the store's shards) as of the last round, at
 * monotonic time now_mono. The round thread's, like every call here. */
void dc_owner_view(const dc_owner *o, uint32_t shard, uint64_t now_mono,
                   dc_owner_shard *ret);

/* dc_owner_epoch_of: shard's epoch as last read. */
uint64_t dc_owner_epoch_of(const dc_owner *o, uint32_t shard);

#endif
