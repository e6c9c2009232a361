/*
 * gid.h - time-ordered 64-bit transaction ids (Snowflake-style).
 *
 * Layout, most significant first: 41 bits of milliseconds since
 * GID_EPOCH_UNIX_MS, 10 bits of shard, 12 bits of sequence. Ids from one
 * generator strictly increase even if the wall clock steps back (the
 * generator keeps its own high-water millisecond); ids from different shards
 * never collide. The text form is 16 lowercase hex digits, so text order is
 * numeric order.
 *
 * Pure: the caller passes the current time. Not thread-safe (one generator
 * per thread; the coordinator's lives on its loop).
 */
#ifndef DTX_COMMON_GID_H
#define DTX_COMMON_GID_H

#include <stdbool.h>
#include <stdint.h>

#define GID_EPOCH_UNIX_MS 1704067200000ull /* 2024-01-01T00:00:00Z */
#define GID_SHARD_BITS    10
#define GID_SEQ_BITS      12
#define GID_SHARD_MAX     ((1u << GID_SHARD_BITS) - 1)
#define GID_TEXT_LEN      16

typedef struct gid_gen {
	uint32_t shard;
	uint64_t last_ms; /* ms since the gid epoch of the last id */
	uint32_t seq;
} gid_gen;

/* gid_gen_init prepares gen for shard (<= GID_SHARD_MAX). floor_id is the
 * largest id this shard may already have issued (0 if none): later ids are
 * greater. Returns DTX_EINVAL on a bad shard. */
int gid_gen_init(gid_gen *gen, uint32_t shard, uint64_t floor_id);

/* gid_gen_next returns the next id given the wall clock now_unix_ms. */
uint64_t gid_gen_next(gid_gen *gen, uint64_t now_unix_ms);

/* gid_gen_last returns the greatest id gen made (or that its floor stands
 * for): every id gen_next gives later is greater. */
uint64_t gid_gen_last(const gid_gen *gen);

/* gid_format writes id as 16 hex digits and a NUL into out. */
void gid_format(uint64_t id, char out[GID_TEXT_LEN + 1]);

/* gid_parse reads the text form; returns false unless s is exactly 16 hex
 * digits. Client-chosen gids of other shapes are valid gids but not
 * coordinator-made ids. */
bool gid_parse(const char *s, uint64_t *ret_id);

/* gid_shard / gid_unix_ms decode an id's fields. */
uint32_t gid_shard(uint64_t id);
uint64_t gid_unix_ms(uint64_t id);

#endif
