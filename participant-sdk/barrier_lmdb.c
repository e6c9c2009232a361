/*
 * barrier_lmdb.c - the barrier's records in an LMDB store: the rec_*
 * operations of store.c's ops table (barrier_store.h).
 *
 * Owns: the layout of the barrier records in the store's "__dtx_barrier"
 * table. Never: decides anything about a call (barrier.c does), includes
 * <lmdb.h> (it writes through store.c's table calls), or prints.
 *
 * Record registry (on disk: never change or reuse a number):
 *
 *   key    gid bytes, '\0', branch (u32 big-endian), op (u8: dtx_op)
 *   value  format 1: [u8 1][u8 status][u8 flags][u8 0][u32 LE message
 *          length][message bytes][result bytes]
 *          format 2: [u8 2][u8 status][u8 flags][u8 0][u32 LE message
 *          length][i64 LE keep_until_ms][message bytes][result bytes]
 *   flags  bit 0: null compensation (recorded without running the handler)
 *   status OK or FAIL; RETRY is never recorded
 *   keep_until_ms  GC keeps the gid's records at least until then (the
 *          call's deadline plus the tolerance); format 1 reads as 0
 *
 * A record without a deadline is written in format 1, so a store whose
 * coordinator sends none stays readable by an SDK that knows only it.
 *
 * A gid's records are contiguous and in (branch, op) order, so GC walks
 * gids by key order and deletes a gid by its prefix (gid '\0').
 */
#include <string.h>

#include "sdk.h"

#define REC_FORMAT_1  1u /* no keep_until_ms */
#define REC_FORMAT_2  2u /* with keep_until_ms */
#define REC_HEAD_1    8u
#define REC_HEAD_2    16u
#define REC_FLAG_NULL 0x01u
#define KEY_MAX       (DTX_GID_MAX + 1 + 4 + 1)

/* key_make writes the key of (gid, branch, op) into buf (KEY_MAX bytes) and
 * returns its length, or 0 for a gid too long to be a barrier key. */
static size_t key_make(uint8_t *buf, const char *gid, uint32_t branch,
                       dtx_op op)
{
	size_t n = strnlen(gid, DTX_GID_MAX + 1);

	if (n > DTX_GID_MAX)
		return 0;
	memcpy(buf, gid, n);
	buf[n] = '\0';
	buf[n + 1] = (uint8_t)(branch >> 24);
	buf[n + 2] = (uint8_t)(branch >> 16);
	buf[n + 3] = (uint8_t)(branch >> 8);
	buf[n + 4] = (uint8_t)branch;
	buf[n + 5] = (uint8_t)op;
	return n + 6;
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static int64_t get_le64(const uint8_t *p)
{
	uint64_t u = 0;

	for (int i = 7; i >= 0; i--)
		u = u << 8 | p[i];
	return (int64_t)u;
}

/* record_decode checks and decodes a stored value (v, len bytes). */
static int record_decode(const uint8_t *v, size_t len, sdk_rec *ret_rec)
{
	size_t head, mlen;

	if (len < REC_HEAD_1 || (v[0] != REC_FORMAT_1 && v[0] != REC_FORMAT_2))
		return DTX_ECORRUPT;
	head = v[0] == REC_FORMAT_1 ? REC_HEAD_1 : REC_HEAD_2;
	if (len < head || (v[1] != DTX_STATUS_OK && v[1] != DTX_STATUS_FAIL))
		return DTX_ECORRUPT;
	mlen = get_le32(v + 4);
	if (mlen > WIRE_MESSAGE_MAX || mlen > len - head)
		return DTX_ECORRUPT;
	ret_rec->status = (dtx_status)v[1];
	ret_rec->null_comp = (v[2] & REC_FLAG_NULL) != 0;
	ret_rec->keep_until_ms = head == REC_HEAD_2 ? get_le64(v + 8) : 0;
	ret_rec->message = v + head;
	ret_rec->message_len = mlen;
	ret_rec->result = v + head + mlen;
	ret_rec->result_len = len - head - mlen;
	return DTX_OK;
}

int sdk_lmdb_rec_get(dtx_txn *txn, const char *gid, uint32_t branch, dtx_op op,
                     sdk_rec *ret_rec)
{
	uint8_t key[KEY_MAX];
	size_t klen = key_make(key, gid, branch, op);
	const void *v;
	size_t len;
	int rv;

	if (klen == 0)
		return DTX_EINVAL;
	rv = sdk_txn_get_at(txn, SDK_TABLE_BARRIER, key, klen, &v, &len);
	return rv == DTX_OK ? record_decode(v, len, ret_rec) : rv;
}

int sdk_lmdb_rec_put(dtx_txn *txn, const char *gid, uint32_t branch, dtx_op op,
                     const sdk_rec *rec)
{
	uint8_t key[KEY_MAX], *v;
	size_t klen = key_make(key, gid, branch, op);
	size_t mlen = rec->message_len, rlen = rec->result_len;
	bool keep = rec->keep_until_ms > 0;
	size_t head = keep ? REC_HEAD_2 : REC_HEAD_1;
	int rv;

	if (klen == 0)
		return DTX_EINVAL;
	rv = sdk_txn_reserve_at(txn, SDK_TABLE_BARRIER, key, klen,
	                        head + mlen + rlen, (void **)&v);
	if (rv != DTX_OK)
		return rv;
	v[0] = keep ? REC_FORMAT_2 : REC_FORMAT_1;
	v[1] = (uint8_t)rec->status;
	v[2] = rec->null_comp ? REC_FLAG_NULL : 0;
	v[3] = 0;
	for (int i = 0; i < 4; i++)
		v[4 + i] = (uint8_t)(mlen >> (8 * i));
	for (int i = 0; keep && i < 8; i++)
		v[8 + i] = (uint8_t)((uint64_t)rec->keep_until_ms >> (8 * i));
	if (mlen > 0)
		memcpy(v + head, rec->message, mlen);
	if (rlen > 0)
		memcpy(v + head + mlen, rec->result, rlen);
	return DTX_OK;
}

/* ---- scans ------------------------------------------------------------- */

typedef struct scan_ctx {
	dtx_barrier_fn fn;
	void *arg; /* borrowed: fn's argument */
} scan_ctx;

/* key_decode splits a barrier key into gid (copied into gid, DTX_GID_MAX +
 * 1 bytes), branch and op. */
static int key_decode(const uint8_t *k, size_t klen, char *gid,
                      dtx_barrier_entry *ret_e)
{
	const uint8_t *nul = memchr(k, '\0', klen);
	size_t n = nul != NULL ? (size_t)(nul - k) : klen;

	if (nul == NULL || n == 0 || n > DTX_GID_MAX || klen != n + 6)
		return DTX_ECORRUPT;
	memcpy(gid, k, n);
	gid[n] = '\0';
	ret_e->gid = gid;
	ret_e->branch = (uint32_t)k[n + 1] << 24 | (uint32_t)k[n + 2] << 16 |
	                (uint32_t)k[n + 3] << 8 | k[n + 4];
	ret_e->op = (dtx_op)k[n + 5];
	return DTX_OK;
}

static int scan_one(void *arg, const void *key, size_t klen, const void *val,
                    size_t vlen)
{
	const scan_ctx *sc = arg;
	char gid[DTX_GID_MAX + 1];
	dtx_barrier_entry e;
	sdk_rec rec;
	int rv = key_decode(key, klen, gid, &e);

	if (rv == DTX_OK)
		rv = record_decode(val, vlen, &rec);
	if (rv != DTX_OK)
		return rv;
	e.status = rec.status;
	e.null_compensation = rec.null_comp;
	e.keep_until_unix_ms = rec.keep_until_ms;
	return sc->fn(sc->arg, &e);
}

int sdk_lmdb_rec_scan(dtx_txn *txn, dtx_barrier_fn fn, void *arg)
{
	scan_ctx sc = {fn, arg};

	return sdk_txn_scan_at(txn, SDK_TABLE_BARRIER, NULL, 0, scan_one, &sc);
}

/* gids_ctx - a walk over distinct gids: the gid whose records are being
 * read (handed to fn once the next gid or the end shows up) and the
 * largest keep_until_ms among them. */
typedef struct gids_ctx {
	sdk_gid_fn fn;
	void *arg; /* borrowed: fn's argument */
	char last[DTX_GID_MAX + 1];
	int64_t keep_until;
} gids_ctx;

static int gid_flush(gids_ctx *gc)
{
	return gc->last[0] != '\0' ? gc->fn(gc->arg, gc->last, gc->keep_until)
	                           : DTX_OK;
}

static int gid_one(void *arg, const void *key, size_t klen, const void *val,
                   size_t vlen)
{
	gids_ctx *gc = arg;
	const char *nul = memchr(key, '\0', klen);
	size_t n = nul != NULL ? (size_t)(nul - (const char *)key) : klen;
	sdk_rec rec;
	int rv;

	if (nul == NULL || n == 0 || n > DTX_GID_MAX)
		return DTX_ECORRUPT;
	if ((rv = record_decode(val, vlen, &rec)) != DTX_OK)
		return rv;
	if (strlen(gc->last) != n || memcmp(gc->last, key, n) != 0) {
		if ((rv = gid_flush(gc)) != DTX_OK)
			return rv;
		memcpy(gc->last, key, n);
		gc->last[n] = '\0';
		gc->keep_until = 0;
	}
	if (rec.keep_until_ms > gc->keep_until)
		gc->keep_until = rec.keep_until_ms;
	return DTX_OK;
}

int sdk_lmdb_rec_gids(dtx_txn *txn, const char *after, sdk_gid_fn fn, void *arg)
{
	gids_ctx gc = {.fn = fn, .arg = arg};
	uint8_t from[DTX_GID_MAX + 1];
	size_t n = strnlen(after, DTX_GID_MAX + 1);
	int rv;

	if (n > DTX_GID_MAX)
		return DTX_EINVAL;
	/* gid + 0x01 sorts after every key of gid (gid '\0' ...) and before
	 * the first key of any later gid (gid bytes are printable). */
	memcpy(from, after, n);
	from[n] = 0x01;
	rv = sdk_txn_scan_from_at(txn, SDK_TABLE_BARRIER, from,
	                          n > 0 ? n + 1 : 0, gid_one, &gc);
	return rv == DTX_OK ? gid_flush(&gc) : rv;
}

int sdk_lmdb_rec_del_gid(dtx_txn *txn, const char *gid, size_t *ret_n)
{
	/* gid and its '\0' */
	return sdk_txn_del_prefix_at(txn, SDK_TABLE_BARRIER, gid,
	                             strlen(gid) + 1, ret_n);
}
