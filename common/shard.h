/*
 * shard.h - which shard a gid belongs to: one pure function that dtxd and
 * the SDK both use, so a client and every coordinator of a deployment
 * agree on where a gid lives.
 *
 * A deployment has a fixed number of shards M (1..SHARD_COUNT_MAX; dtxd
 * --shards M, the same on every instance). A gid of the shape of a
 * coordinator-made id (16 lowercase hex digits, common/gid.h) whose shard
 * bits are below M belongs to that shard: the id was made there. Every
 * other gid (a client's own choice, or hex digits whose shard bits are M
 * or more) belongs to crc32c(gid) mod M: stable across processes,
 * versions and machines. With M = 1 every gid is in shard 0.
 *
 * Pure: no state, no I/O, thread-safe.
 */
#ifndef DTX_COMMON_SHARD_H
#define DTX_COMMON_SHARD_H

#include <stdint.h>

#include "gid.h"

/* Most shards a deployment may have: every one must fit in a made id's
 * shard bits. */
#define SHARD_COUNT_MAX (GID_SHARD_MAX + 1)

/* shard_of_gid returns the shard (0..nshards-1) of gid (borrowed,
 * NUL-terminated) in a deployment of nshards shards; nshards 0 counts as
 * 1, nshards past SHARD_COUNT_MAX as SHARD_COUNT_MAX. */
uint32_t shard_of_gid(const char *gid, uint32_t nshards);

#endif
