/*
 * shard.c - a gid's shard (see shard.h for the rule and why).
 *
 * Owns the mapping gid -> shard and nothing else. Never allocates, never
 * does I/O; the same answer on every machine (crc32c is defined bit for
 * bit, the made-id layout is permanent).
 */
#include "shard.h"

#include <string.h>

#include "crc32c.h"

uint32_t shard_of_gid(const char *gid, uint32_t nshards)
{
	uint64_t id;

	if (nshards <= 1 || gid == NULL)
		return 0;
	if (nshards > SHARD_COUNT_MAX)
		nshards = SHARD_COUNT_MAX;
	/* a made id names the shard that made it */
	if (gid_parse(gid, &id) && gid_shard(id) < nshards)
		return gid_shard(id);
	return crc32c_extend(0, gid, strlen(gid)) % nshards;
}
