/*
 * shards.h - which gids this coordinator serves: the set of shards it owns,
 * checked at the entry of the client API, and the answers that tell a
 * client where to go instead (DTX_EMOVED, Topology).
 *
 * Today the set is fixed at start from the flags (independent LMDB
 * coordinators, one log each: --shards M --shard N owns shard N; M = 1
 * owns everything, which is dtxd as it always was). Shard leases on a
 * shared store will fill the same set at run time; nothing else changes.
 */
#ifndef DTX_COORDINATOR_SHARDS_H
#define DTX_COORDINATOR_SHARDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "server.h"
#include "shard.h"

typedef struct dc_shards {
	uint32_t count;                         /* shards of the deployment */
	uint8_t owned[SHARD_COUNT_MAX / 8];     /* bit per shard: ours */
	const char *owner_url[SHARD_COUNT_MAX]; /* --peer; NULL = unknown */
	const char *instance;                   /* borrowed from the config */
	const char *url;                        /* advertised; may be NULL */
	size_t max_msg_bytes;                   /* replies stay under it */
} dc_shards;

/* dc_shards_check_config checks cfg's shard flags (borrowed): every --peer
 * is SHARD=URL with SHARD another shard of --shards (once each; this
 * instance's own shard only at its --advertise URL, then skipped) and URL
 * one a client can dial (wire_url_check), --advertise such a URL too,
 * --instance 1..WIRE_INSTANCE_MAX bytes of UTF-8. Errors: DTX_EINVAL with
 * a one-line reason naming the flag in why (len bytes). */
int dc_shards_check_config(const dc_config *cfg, char *why, size_t len);

/* dc_shards_init fills s from a checked cfg (retained: s borrows its
 * strings). */
void dc_shards_init(dc_shards *s, const dc_config *cfg);

/* dc_shards_owns_gid: gid (borrowed) is in a shard s owns. */
bool dc_shards_owns_gid(const dc_shards *s, const char *gid);

/* dc_shards_refuse answers req with DTX_EMOVED - the gid's shard, its
 * owner's URL when s knows it, and s's own topology - and returns true if
 * msg (borrowed) is about a gid of a shard s does not own; a request
 * without a gid (a submit asking for a made id, a FinalQuery, Topology) is
 * never refused. Loop thread. */
bool dc_shards_refuse(const dc_shards *s, dc_request *req,
                      const Dtx__V1__ClientRequest *msg);

/* dc_shards_answer_topology answers a Topology request: instance, shard
 * count, the shards owned, the advertised URL and the owners --peer names
 * (left out if the reply would not fit in max_msg_bytes). Loop thread. */
void dc_shards_answer_topology(const dc_shards *s, dc_request *req);

/* dc_shards_owns_shard: shard is in s's owned set. */
bool dc_shards_owns_shard(const dc_shards *s, uint32_t shard);

/* dc_shards_set_owned adds shard to s's owned set or takes it out (shard
 * leases fill the set at run time). Loop thread. */
void dc_shards_set_owned(dc_shards *s, uint32_t shard, bool owned);

#endif
