/*
 * gid_test.c - unit tests of common/gid.c (time-ordered transaction ids).
 *
 * Time is injected: each test passes the wall clock it wants, so clock steps
 * and sequence overflows are exact and nothing sleeps.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "dtx/dtx.h"
#include "crc32c.h"
#include "gid.h"
#include "shard.h"

#define NOW_MS     (GID_EPOCH_UNIX_MS + 86400000ull) /* one day after the epoch */
#define SEQ_PER_MS (1u << GID_SEQ_BITS)

static gid_gen new_gen(uint32_t shard, uint64_t floor_id)
{
	gid_gen gen;

	cr_assert_eq(gid_gen_init(&gen, shard, floor_id), DTX_OK);
	return gen;
}

Test(gid, issues_100k_strictly_increasing_ids)
{
	gid_gen gen = new_gen(3, 0);
	uint64_t prev = 0;

	/* A few ids per millisecond, then whole bursts in one millisecond:
	 * strictly increasing implies unique. */
	for (uint64_t i = 0; i < 100000; i++) {
		uint64_t now = NOW_MS + (i < 50000 ? i / 3 : 20000);
		uint64_t id = gid_gen_next(&gen, now);

		cr_assert_gt(id, prev, "id %llu", (unsigned long long)i);
		prev = id;
	}
}

Test(gid, keeps_increasing_when_the_clock_steps_back)
{
	gid_gen gen = new_gen(1, 0);
	uint64_t a = gid_gen_next(&gen, NOW_MS);
	uint64_t b = gid_gen_next(&gen, NOW_MS - 60000);
	uint64_t c = gid_gen_next(&gen, NOW_MS - 120000);
	uint64_t d = gid_gen_next(&gen, NOW_MS + 1);

	cr_assert_gt(b, a);
	cr_assert_gt(c, b);
	cr_assert_gt(d, c);
	cr_assert_eq(gid_unix_ms(b), NOW_MS, "stays at the high-water ms");
	cr_assert_eq(gid_unix_ms(d), NOW_MS + 1);
}

Test(gid, borrows_the_next_millisecond_when_the_sequence_overflows)
{
	gid_gen gen = new_gen(0, 0);
	uint64_t id = 0;

	for (unsigned i = 0; i < SEQ_PER_MS; i++)
		id = gid_gen_next(&gen, NOW_MS);
	cr_assert_eq(gid_unix_ms(id), NOW_MS);
	cr_assert_eq(id & (SEQ_PER_MS - 1), SEQ_PER_MS - 1);
	id = gid_gen_next(&gen, NOW_MS);
	cr_assert_eq(gid_unix_ms(id), NOW_MS + 1);
	cr_assert_eq(id & (SEQ_PER_MS - 1), 0);
	/* The clock reaching the borrowed ms must not repeat it. */
	cr_assert_gt(gid_gen_next(&gen, NOW_MS + 1), id);
}

Test(gid, decodes_shard_and_time)
{
	gid_gen gen = new_gen(GID_SHARD_MAX, 0);
	uint64_t id = gid_gen_next(&gen, NOW_MS + 1234);

	cr_assert_eq(gid_shard(id), GID_SHARD_MAX);
	cr_assert_eq(gid_unix_ms(id), NOW_MS + 1234);
	gen = new_gen(517, 0);
	id = gid_gen_next(&gen, NOW_MS);
	cr_assert_eq(gid_shard(id), 517);
}

Test(gid, never_collides_across_shards)
{
	gid_gen a = new_gen(1, 0);
	gid_gen b = new_gen(2, 0);

	for (int i = 0; i < 1000; i++)
		cr_assert_neq(gid_gen_next(&a, NOW_MS),
		              gid_gen_next(&b, NOW_MS));
}

Test(gid, refuses_a_shard_past_the_maximum)
{
	gid_gen gen;

	cr_assert_eq(gid_gen_init(&gen, GID_SHARD_MAX + 1, 0), DTX_EINVAL);
	cr_assert_eq(gid_gen_init(&gen, GID_SHARD_MAX, 0), DTX_OK);
}

Test(gid, issues_ids_above_the_floor)
{
	gid_gen old = new_gen(4, 0);
	uint64_t floor_id = 0;
	gid_gen gen;

	for (int i = 0; i < 10; i++)
		floor_id = gid_gen_next(&old, NOW_MS + 5000);
	/* Restarted with a clock behind the last id it issued. */
	gen = new_gen(4, floor_id);
	cr_assert_gt(gid_gen_next(&gen, NOW_MS), floor_id);
	gen = new_gen(4, floor_id);
	cr_assert_gt(gid_gen_next(&gen, NOW_MS + 5000), floor_id);
}

Test(gid, issues_ids_above_a_floor_from_a_larger_shard_or_full_ms)
{
	gid_gen big = new_gen(900, 0);
	uint64_t floor_id = gid_gen_next(&big, NOW_MS);
	gid_gen gen = new_gen(2, floor_id);
	uint64_t full = ((NOW_MS - GID_EPOCH_UNIX_MS) << 22) | (2u << 12) |
	                (SEQ_PER_MS - 1);

	cr_assert_gt(gid_gen_next(&gen, NOW_MS), floor_id);
	gen = new_gen(2, full);
	cr_assert_gt(gid_gen_next(&gen, NOW_MS), full);
}

Test(gid, works_with_a_clock_before_the_epoch)
{
	gid_gen gen = new_gen(0, 0);
	uint64_t a = gid_gen_next(&gen, 0);
	uint64_t b = gid_gen_next(&gen, 0);

	cr_assert_neq(a, 0);
	cr_assert_gt(b, a);
}

Test(gid, formats_and_parses_back)
{
	static const uint64_t ids[] = {0, 1, 0xabcdefull, 0x0123456789abcdefull,
	                               UINT64_MAX};
	char text[GID_TEXT_LEN + 1];
	uint64_t back;

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		gid_format(ids[i], text);
		cr_assert_eq(strlen(text), GID_TEXT_LEN);
		cr_assert(gid_parse(text, &back), "%s", text);
		cr_assert_eq(back, ids[i]);
	}
	gid_format(0x0123456789abcdefull, text);
	cr_assert_str_eq(text, "0123456789abcdef");
}

Test(gid, formats_in_numeric_order)
{
	gid_gen gen = new_gen(7, 0);
	char prev[GID_TEXT_LEN + 1] = "";
	char text[GID_TEXT_LEN + 1];

	for (int i = 0; i < 5000; i++) {
		gid_format(gid_gen_next(&gen, NOW_MS + (uint64_t)i / 2), text);
		cr_assert_str_gt(text, prev);
		memcpy(prev, text, sizeof(text));
	}
}

Test(gid, parse_refuses_wrong_length_and_non_hex)
{
	uint64_t id = 42;

	cr_assert_not(gid_parse("0123456789abcde", &id));   /* 15 */
	cr_assert_not(gid_parse("0123456789abcdef0", &id)); /* 17 */
	cr_assert_not(gid_parse("0123456789abcdeg", &id));
	cr_assert_not(gid_parse("0123456789ABCDEF", &id)); /* one text form */
	cr_assert_not(gid_parse(" 123456789abcdef", &id));
	cr_assert_not(gid_parse("", &id));
	cr_assert_not(gid_parse(NULL, &id));
	cr_assert_eq(id, 42, "ret_id untouched on failure");
}

/* ---- shard_of_gid (common/shard.c) ------------------------------------ */

Test(shard, a_made_id_belongs_to_the_shard_that_made_it)
{
	gid_gen gen = new_gen(2, 0);
	char text[GID_TEXT_LEN + 1];

	gid_format(gid_gen_next(&gen, NOW_MS), text);
	cr_assert_eq(shard_of_gid(text, 3), 2);
	cr_assert_eq(shard_of_gid(text, 1024), 2);
	/* shard bits past the count: hashed like any client gid */
	gen = new_gen(5, 0);
	gid_format(gid_gen_next(&gen, NOW_MS), text);
	cr_assert_lt(shard_of_gid(text, 3), 3);
}

Test(shard, one_shard_holds_every_gid)
{
	cr_assert_eq(shard_of_gid("order-1", 1), 0);
	cr_assert_eq(shard_of_gid("order-1", 0), 0);
	cr_assert_eq(shard_of_gid("0123456789abcdef", 1), 0);
}

/* The mapping is permanent: a deployment's gids live where it says, so
 * these values must never change. */
Test(shard, a_client_gid_maps_by_crc32c_for_ever)
{
	cr_assert_eq(shard_of_gid("order-1", 3), 0x4de1886cu % 3);
	cr_assert_eq(shard_of_gid("order-1", 1024), 0x4de1886cu % 1024);
	cr_assert_eq(shard_of_gid("order-1", 5000), 0x4de1886cu % 1024);
	cr_assert_eq(shard_of_gid("ABCDEF0123456789", 7),
	             crc32c_extend(0, "ABCDEF0123456789", 16) % 7);
}
