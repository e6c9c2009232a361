/*
 * gid.c - time-ordered 64-bit transaction ids (see gid.h for the layout).
 *
 * Owns the generator state machine and the 16-hex-digit text form.
 *
 * Invariant: (gen->last_ms, gen->seq) is the position of the last id the
 * generator issued (or the floor it was given), and every id it returns is
 * strictly greater than the previous one. The wall clock only ever moves the
 * position forward: a clock that steps back keeps issuing ids at last_ms
 * with a growing sequence, and a sequence that overflows borrows the next
 * millisecond. Ids therefore run ahead of the clock under a burst of more
 * than 4096 ids per ms, and catch up once the clock passes them.
 *
 * Pure: never reads the clock, never allocates, never does I/O. Not
 * thread-safe (one generator per thread).
 */
#include "gid.h"

#include <stddef.h>

#include "dtx/dtx.h"

#define GID_MS_BITS  41
#define GID_MS_MASK  ((UINT64_C(1) << GID_MS_BITS) - 1)
#define GID_SEQ_MAX  ((1u << GID_SEQ_BITS) - 1)
#define GID_MS_SHIFT (GID_SHARD_BITS + GID_SEQ_BITS)

static uint64_t gid_compose(uint64_t ms, uint32_t shard, uint32_t seq)
{
	return ((ms & GID_MS_MASK) << GID_MS_SHIFT) |
	       ((uint64_t)shard << GID_SEQ_BITS) | ((uint64_t)seq);
}

int gid_gen_init(gid_gen *gen, uint32_t shard, uint64_t floor_id)
{
	if (gen == NULL || shard > GID_SHARD_MAX)
		return DTX_EINVAL;
	gen->shard = shard;
	gen->last_ms = floor_id >> GID_MS_SHIFT;
	gen->seq = (uint32_t)(floor_id & GID_SEQ_MAX);
	/* The floor may come from a larger shard number (or be any id): if the
	 * next id at the floor's millisecond would not exceed it, start at the
	 * following millisecond instead. */
	if (gid_compose(gen->last_ms, shard, GID_SEQ_MAX) <= floor_id) {
		gen->last_ms++;
		gen->seq = 0;
	}
	return DTX_OK;
}

uint64_t gid_gen_next(gid_gen *gen, uint64_t now_unix_ms)
{
	uint64_t ms = 0;

	if (now_unix_ms > GID_EPOCH_UNIX_MS)
		ms = now_unix_ms - GID_EPOCH_UNIX_MS;
	if (ms > gen->last_ms) {
		gen->last_ms = ms;
		gen->seq = 0;
	} else if (gen->seq < GID_SEQ_MAX) {
		gen->seq++;
	} else {
		gen->last_ms++;
		gen->seq = 0;
	}
	return gid_compose(gen->last_ms, gen->shard, gen->seq);
}

uint64_t gid_gen_last(const gid_gen *gen)
{
	return gid_compose(gen->last_ms, gen->shard, gen->seq);
}

void gid_format(uint64_t id, char out[GID_TEXT_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = GID_TEXT_LEN - 1; i >= 0; i--) {
		out[i] = hex[id & 0xfu];
		id >>= 4;
	}
	out[GID_TEXT_LEN] = '\0';
}

/* hex_value returns the value of a lowercase hex digit, or -1. Uppercase is
 * refused so that one id has exactly one text form (gids are keys). */
static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

bool gid_parse(const char *s, uint64_t *ret_id)
{
	uint64_t id = 0;

	if (s == NULL)
		return false;
	for (int i = 0; i < GID_TEXT_LEN; i++) {
		int v = hex_value(s[i]); /* stops at NUL: -1 */

		if (v < 0)
			return false;
		id = (id << 4) | (uint64_t)v;
	}
	if (s[GID_TEXT_LEN] != '\0')
		return false;
	if (ret_id != NULL)
		*ret_id = id;
	return true;
}

uint32_t gid_shard(uint64_t id)
{
	return (uint32_t)((id >> GID_SEQ_BITS) & GID_SHARD_MAX);
}

uint64_t gid_unix_ms(uint64_t id)
{
	return (id >> GID_MS_SHIFT) + GID_EPOCH_UNIX_MS;
}
