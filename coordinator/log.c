/*
 * log.c - the coordinator's durable log on a store (kv.h: LMDB or
 * PostgreSQL).
 *
 * Owns: the meaning of the store's bytes - the on-disk record framing, the
 * format version, the key layout of the tables listed in log.h, the
 * counts, retention, and the conversion between
 * dc_tx and the LogTx / LogStep / LogEvent records, and the line between a
 * bad transaction (its own records fail their checks: dc_log_bad, for the
 * caller to quarantine) and an error of the log itself.
 *
 * Never: calls a store's library (the environment, the writer lock, map
 * growth and the translation of LMDB's codes are kv_lmdb.c's), decides
 * what to do about an error (it returns it and remembers a one-line reason
 * for dc_log_last_error), repairs or reformats a file that fails its
 * checks, holds a transaction open across calls, or gives durability away
 * unless a unit test asked for no_sync.
 *
 * Record registry (these numbers are on disk: never change or reuse one):
 *
 *   type 1  LogTx     in txs
 *   type 2  LogStep   in steps
 *   type 3  LogEvent  in events (one with `edit` set is an operator's
 *                     set-branch: a field, not a type of its own, so a
 *                     build that predates it reads the line and skips
 *                     the field, where an unknown type would be a bad
 *                     record to its checked reads and quarantine the
 *                     transaction on a downgrade)
 *   type 4  LogEvent  in quarantine (unix_ms: when; detail: the cause)
 *   type 5  LogTx     in tombstones (gid, mode, state, created, updated =
 *                     final time, pruned_unix_ms; no steps)
 *   type 6  lease     in leases: u64le epoch, u8 n, n bytes of owner name
 *   type 7  beat      in beats: u64le beat, u16le n, client URL, u16le m,
 *                     admin URL, then u64le unix ms of the writer's wall
 *                     clock when it wrote the beat (for operators only:
 *                     dtxctl shards on a stopped store; no lease decision
 *                     reads it). A record without it (written before it
 *                     was added) reads as time 0, unknown, and time 0 is
 *                     encoded without it: one encoding per value.
 *
 * Leases and beats are not protobuf: a compare and swap compares the
 * stored bytes with the encoding of what the caller read, so the encoding
 * must be canonical - one byte string per value - which a fixed layout is
 * by construction.
 *
 * Frame of every value in txs, steps, events, quarantine and tombstones:
 *
 *   [0xD7][format version][record type][0][crc32c LE][protobuf payload]
 *
 * where the CRC covers the four header bytes followed by the payload. The
 * values in meta are fixed-width little-endian integers ("format" u32,
 * "gid_floor" u64, "counts" LOG_COUNTS_N u64), kept unframed so that any
 * future build can read the format number; values in active, finals and
 * tomb_times are empty (their keys are u64be(unix ms) followed by a gid).
 *
 * Retention (DESIGN.md rule 9). A final transaction is indexed in finals
 * by the time it became final, in the same commit. dc_log_commit_prune
 * walks that index from its oldest entry, so it finds what is due without
 * a scan and stops at the first one that is not; each pruned transaction
 * loses its tx, step and event records and its index entry and gains a
 * tombstone, in the same write transaction as the engine's batch (no
 * fsync of its own; a crash loses both or neither, and an unpruned
 * transaction is simply pruned again later). Tombstones expire the same
 * way through tomb_times. LMDB reuses the freed pages, so the file stops
 * growing once pruning keeps up with new transactions. The counts in meta
 * change in the same write transaction as the records they count: a tx
 * put reads the old record's mode and state first (a peek at two varints
 * of a record that is being rewritten anyway), the old records of a whole
 * batch in one dc_kv_get_many before its writes (one round trip on
 * PostgreSQL, not one per transaction: see "The counts move" below).
 *
 * Crash windows. A batch becomes durable in one LMDB write transaction.
 * If we crash while dc_log_commit runs, LMDB's copy-on-write means the new
 * pages are written beside the old ones and only the final meta-page write
 * (after fdatasync of the data pages) makes them reachable: recovery sees
 * either the whole batch or none of it, never a mix. If we crash after the
 * commit returned, the batch is on disk (default sync flags). If the meta
 * page write itself fails, LMDB panics the environment and every later call
 * returns DTX_EIO: the process must exit and reopen (crash-only). A record
 * that is torn or flipped anyway (a bad disk) is caught by its CRC on read
 * and reported as DTX_ECORRUPT, never skipped: a strict read (dc_log_load_tx,
 * the plain scans) stops there; a checked read (dc_log_load_tx_checked,
 * dc_log_scan_checked) reports that one transaction as bad and goes on.
 *
 * What a checked read calls bad: a frame, CRC, version or payload that
 * fails; a tx record that lacks fields, names another gid, has a mode,
 * state or step count (above DC_TX_STEPS_MAX) a dc_tx cannot hold; a step
 * record missing, without a state or with one out of range; an active
 * entry without a tx record; any key in the quarantine table. Whether the
 * states make sense together is the state machines' call (machine.h), not
 * this file's.
 *
 * One writer per log: the store's rule (kv.h; for LMDB an flock on
 * DIR/dtxd.lock, see kv_lmdb.c). A second writer gets DTX_EBUSY naming the
 * holder; readers (dtxctl --log) take no lock and work beside a writer.
 *
 * Borrowed bytes (kv.h): a value read with dc_kv_get is decoded, peeked or
 * copied before the next call on its transaction; a key a cursor returned
 * is copied before a write (walk_due).
 *
 * Threads: a batch belongs to the thread building it. dc_log_commit runs on
 * one writer thread at a time; reads open their own read-only transaction
 * and may run on any thread. dc_log_last_error's text is kept per thread:
 * a thread reads the reason of its own last failed call.
 */
#include "log.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "fault.h"
#include "kv.h"
#include "shard.h"
#include "trace.h"
#include "wire.h"

#define LOG_MAGIC     0xD7u
#define LOG_FRAME_HDR 8u
#define LOG_KEY_MAX   (DTX_GID_MAX + 5)
#define LOG_ERR_MAX   512
#define KEY_FORMAT    "format"
#define KEY_GID_FLOOR "gid_floor"
#define KEY_COUNTS    "counts"
#define KEY_SHARDS    "shards"
#define LEASE_VAL_MAX (LOG_FRAME_HDR + 9 + DC_LOG_NAME_MAX)
#define BEAT_VAL_MAX  (LOG_FRAME_HDR + 20 + 2 * DC_LOG_URL_MAX)
/* counts in meta: [mode 1..2][state 0..7] tx records, tombstones, pruned */
#define LOG_COUNT_STATES 8
#define LOG_COUNTS_N     (2 * LOG_COUNT_STATES + 2)
#define LOG_TIME_KEY_MAX (8 + DTX_GID_MAX)
/* Step records a load reads in one dc_kv_get_many. */
#define STEPS_CHUNK 64
/* Entries of other writers' shards one prune walk passes over at most. */
#define DUE_SKIP_MAX 4096

_Static_assert(DC_TX_STATE_COUNT <= LOG_COUNT_STATES,
               "counts in meta have room for 8 states per mode");

enum log_table {
	LOG_META,
	LOG_TXS,
	LOG_STEPS,
	LOG_EVENTS,
	LOG_ACTIVE,
	LOG_QUARANTINE,
	LOG_FINALS,
	LOG_TOMBS,
	LOG_TOMB_TIMES,
	LOG_LEASES,
	LOG_BEATS,
	LOG_TABLE_COUNT
};

enum log_rec {
	LOG_REC_TX = 1,
	LOG_REC_STEP = 2,
	LOG_REC_EVENT = 3,
	LOG_REC_QUARANTINE = 4, /* a LogEvent: unix_ms and detail */
	LOG_REC_TOMB = 5,       /* a LogTx: a pruned transaction's outcome */
	LOG_REC_LEASE = 6,      /* fixed layout: see the registry above */
	LOG_REC_BEAT = 7,
};

static const char *const table_names[LOG_TABLE_COUNT] = {
        "meta",   "txs",        "steps",      "events", "active", "quarantine",
        "finals", "tombstones", "tomb_times", "leases", "beats",
};

struct dc_log {
	dc_kv *kv;
	bool read_only;
	bool has_quarantine;  /* false: a read-only open of an older log */
	bool has_retention;   /* finals, tombstones, tomb_times exist */
	dc_log_counts counts; /* writer: as of its last commit */
	const char *path;     /* dc_kv_describe: dir/data.mdb for LMDB */
	bool shared;          /* one of several writers: no counts */
	bool has_leases;      /* leases and beats exist */
	uint32_t shards;      /* dc_log_opts.shards */
};

/* The reason for the last error a call on any log returned on this thread
 * (dc_log_last_error). Per thread, because the commit worker and the loop
 * fail independently: one shared buffer let the crash-only stop print
 * another error's text (TSan: durability_test, ENOSPC). */
static _Thread_local char log_err[LOG_ERR_MAX];

/* One write of a batch; key and value live in the batch's byte arena. */
typedef struct log_write {
	enum log_table table;
	bool del;
	bool counted; /* a tx record: counts move to (mode, state) */
	bool expect;  /* a fence: the value must be there (dc_kv_expect) */
	uint8_t mode;
	uint8_t state;
	size_t key_off;
	size_t key_len;
	size_t val_off;
	size_t val_len;
} log_write;

struct dc_log_batch {
	log_write *writes;
	size_t len;
	size_t cap;
	uint8_t *buf;
	size_t buf_len;
	size_t buf_cap;
	uint8_t fenced[DC_LOG_SHARDS_MAX / 8]; /* bit per shard */
};

/* A read transaction with a reusable cursor on steps (for scans). */
typedef struct log_reader {
	dc_log *log;
	dc_kv_txn *txn;
	dc_kv_cursor *steps;
	dc_log_bad *bad; /* NULL, or where a checked read describes a bad tx */
} log_reader;

static int shards_init(dc_log *log, dc_kv_txn *txn);
static int check_lease_rec(dc_log *log, enum log_table t, const dc_kv_val *k,
                           const dc_kv_val *v);

/* ---- errors ---- */

__attribute__((format(printf, 3, 4))) static int log_fail(dc_log *log, int err,
                                                          const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(log_err, sizeof(log_err), fmt, ap);
	va_end(ap);
	return err;
}

/* log_fail_kv records, for an error rc of the store, "<path>: <what>:
 * <the store's reason>" (that reason without its leading "<path>: ": a
 * store names its file, the log names the operation) or, what NULL, the
 * store's reason as it is; returns rc. */
static int log_fail_kv(dc_log *log, int rc, const char *what)
{
	const char *why = dc_kv_last_error();
	size_t n = strlen(log->path);

	if (what == NULL)
		return log_fail(log, rc, "%s", why);
	if (strncmp(why, log->path, n) == 0 && strncmp(why + n, ": ", 2) == 0)
		why += n + 2;
	return log_fail(log, rc, "%s: %s: %s", log->path, what, why);
}

/* ---- keys and integers ---- */

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* key_str makes a key of a constant string (without its NUL). */
static dc_kv_val key_str(const char *s)
{
	return (dc_kv_val){s, strlen(s)};
}

/* gid_len returns strlen(gid) if it fits a key, else 0. */
static size_t gid_len(const char *gid)
{
	size_t n = gid != NULL ? strnlen(gid, DTX_GID_MAX + 1) : 0;

	return n <= DTX_GID_MAX ? n : 0;
}

/* key_seq writes gid \0 u32be(n) into buf (LOG_KEY_MAX bytes). */
static size_t key_seq(uint8_t *buf, const char *gid, size_t glen, uint32_t n)
{
	memcpy(buf, gid, glen);
	buf[glen] = 0;
	put_be32(buf + glen + 1, n);
	return glen + 5;
}

/* key_describe renders a key for a message: "gid" or "gid"#n. */
static void key_describe(enum log_table t, const dc_kv_val *k, char *out,
                         size_t outlen)
{
	const uint8_t *p = k->data;
	size_t glen = k->len;
	char gid[DTX_GID_MAX + 1];
	size_t n = 0;

	if (t == LOG_LEASES && k->len == 4) {
		snprintf(out, outlen, "shard %u", get_be32(p));
		return;
	}
	if ((t == LOG_STEPS || t == LOG_EVENTS) && glen >= 5)
		glen -= 5;
	for (size_t i = 0; i < glen && n < DTX_GID_MAX; i++)
		gid[n++] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
	gid[n] = 0;
	if (glen != k->len)
		snprintf(out, outlen, "\"%s\"#%u", gid, get_be32(p + glen + 1));
	else
		snprintf(out, outlen, "\"%s\"", gid);
}

/* log_fail_rec records a problem with one record: file, table and key. */
static int log_fail_rec(dc_log *log, int err, enum log_table t,
                        const dc_kv_val *k, const char *why)
{
	char key[DTX_GID_MAX + 32];

	key_describe(t, k, key, sizeof(key));
	return log_fail(log, err, "%s: table %s, key %s: %s", log->path,
	                table_names[t], key, why);
}

/* ---- framing ---- */

static uint32_t frame_crc(const uint8_t *v, size_t payload_len)
{
	uint32_t crc = crc32c_extend(0, v, 4);

	return crc32c_extend(crc, v + LOG_FRAME_HDR, payload_len);
}

/* frame_seal fills the header of v, whose payload is already packed. */
static void frame_seal(uint8_t *v, enum log_rec type, size_t payload_len)
{
	v[0] = LOG_MAGIC;
	v[1] = DC_LOG_FORMAT_VERSION;
	v[2] = (uint8_t)type;
	v[3] = 0;
	put_le(v + 4, frame_crc(v, payload_len), 4);
}

/* frame_open checks v's frame and returns its payload, or an error and a
 * static reason in *ret_why. */
static int frame_open(const dc_kv_val *v, enum log_rec type,
                      const uint8_t **ret_p, size_t *ret_n,
                      const char **ret_why)
{
	const uint8_t *p = v->data;
	size_t n = v->len - LOG_FRAME_HDR;

	*ret_why = NULL;
	if (v->len < LOG_FRAME_HDR)
		*ret_why = "record shorter than its frame";
	else if (p[0] != LOG_MAGIC)
		*ret_why = "bad magic byte";
	else if (p[1] > DC_LOG_FORMAT_VERSION) {
		*ret_why = "record format newer than this build";
		return DTX_EVERSION;
	} else if (p[1] != DC_LOG_FORMAT_VERSION)
		*ret_why = "unknown record format version";
	else if (p[2] != type || p[3] != 0)
		*ret_why = "wrong record type";
	else if (get_le(p + 4, 4) != frame_crc(p, n))
		*ret_why = "CRC mismatch";
	if (*ret_why != NULL)
		return DTX_ECORRUPT;
	*ret_p = p + LOG_FRAME_HDR;
	*ret_n = n;
	return DTX_OK;
}

/* decode_err maps a codec result to the log's: only ENOMEM is not
 * corrupt. */
static int decode_err(int rc)
{
	return rc == DTX_OK || rc == DTX_ENOMEM ? rc : DTX_ECORRUPT;
}

/* payload_decode unpacks a record payload of type into *ret_msg. */
static int payload_decode(enum log_rec type, const uint8_t *p, size_t n,
                          void **ret_msg)
{
	Dtx__V1__LogTx *tx = NULL;
	Dtx__V1__LogStep *step = NULL;
	Dtx__V1__LogEvent *ev = NULL;
	void *msg;
	int rc;

	if (type == LOG_REC_TX || type == LOG_REC_TOMB) {
		rc = wire_log_tx_decode(p, n, &tx);
		msg = tx;
	} else if (type == LOG_REC_STEP) {
		rc = wire_log_step_decode(p, n, &step);
		msg = step;
	} else { /* LOG_REC_EVENT, LOG_REC_QUARANTINE */
		rc = wire_log_event_decode(p, n, &ev);
		msg = ev;
	}
	if (rc != DTX_OK)
		return rc;
	if (msg == NULL) /* a decoder's success always has a message */
		return DTX_ECORRUPT;
	*ret_msg = msg;
	return DTX_OK;
}

/* rec_open checks the frame of v and decodes it into *ret_msg; on
 * failure *ret_why is a static reason (NULL for DTX_ENOMEM). */
static int rec_open(const dc_kv_val *v, enum log_rec type, void **ret_msg,
                    const char **ret_why)
{
	const uint8_t *p;
	size_t n;
	int rc = frame_open(v, type, &p, &n, ret_why);

	if (rc != DTX_OK)
		return rc;
	rc = decode_err(payload_decode(type, p, n, ret_msg));
	if (rc == DTX_ECORRUPT)
		*ret_why = "payload does not decode";
	return rc;
}

/* rec_decode checks the frame of v and decodes it into *ret_msg. */
static int rec_decode(dc_log *log, enum log_table t, const dc_kv_val *k,
                      const dc_kv_val *v, enum log_rec type, void **ret_msg)
{
	const char *why;
	int rc = rec_open(v, type, ret_msg, &why);

	if (rc == DTX_ENOMEM)
		return log_fail(log, rc, "%s: out of memory decoding %s",
		                log->path, table_names[t]);
	if (rc != DTX_OK)
		return log_fail_rec(log, rc, t, k, why);
	return DTX_OK;
}

/* reader_bad records that the transaction a checked read is reading fails
 * its checks at record k of table t: the reason goes to dc_log_last_error
 * and, without the file's path, to r->bad (the first reason wins). */
static int reader_bad(log_reader *r, int err, enum log_table t,
                      const dc_kv_val *k, const char *why)
{
	char key[DTX_GID_MAX + 32];

	key_describe(t, k, key, sizeof(key));
	if (r->bad != NULL && r->bad->err == 0) {
		r->bad->err = err;
		snprintf(r->bad->why, sizeof(r->bad->why),
		         "table %s, key %s: %s", table_names[t], key, why);
	}
	return log_fail(r->log, err, "%s: table %s, key %s: %s", r->log->path,
	                table_names[t], key, why);
}

/* reader_open is rec_open for a record of the transaction r reads. */
static int reader_open(log_reader *r, enum log_table t, const dc_kv_val *k,
                       const dc_kv_val *v, enum log_rec type, void **ret_msg)
{
	const char *why;
	int rc = rec_open(v, type, ret_msg, &why);

	if (rc == DTX_ENOMEM || rc == DTX_OK)
		return rc;
	return reader_bad(r, rc, t, k, why);
}

static void rec_free(enum log_rec type, void *msg)
{
	if (type == LOG_REC_TX || type == LOG_REC_TOMB)
		wire_log_tx_free(msg);
	else if (type == LOG_REC_STEP)
		wire_log_step_free(msg);
	else
		wire_log_event_free(msg);
}

/* ---- transactions ---- */

/* read_begin opens a read-only transaction (a map grown by another
 * process is the store's to adopt). */
static int read_begin(dc_log *log, dc_kv_txn **ret_txn)
{
	int rc = dc_kv_begin(log->kv, false, ret_txn);

	if (rc != DTX_OK)
		return log_fail_kv(log, rc, "begin read transaction");
	return DTX_OK;
}

static int reader_begin(dc_log *log, log_reader *r)
{
	int rc;

	r->log = log;
	r->steps = NULL;
	r->bad = NULL;
	rc = read_begin(log, &r->txn);
	if (rc != DTX_OK)
		return rc;
	rc = dc_kv_cursor_open(r->txn, LOG_STEPS, &r->steps);
	if (rc != DTX_OK) {
		rc = log_fail_kv(log, rc, "open cursor on steps");
		dc_kv_abort(r->txn);
		return rc;
	}
	return DTX_OK;
}

static void reader_end(log_reader *r)
{
	dc_kv_cursor_close(r->steps);
	dc_kv_abort(r->txn);
}

/* ---- open ---- */

/* meta_format reads meta "format" in txn into *ret_version. */
static int meta_format(dc_log *log, dc_kv_txn *txn, uint32_t *ret_version)
{
	dc_kv_val k = key_str(KEY_FORMAT), v;
	int rc = dc_kv_get(txn, LOG_META, k, &v);

	if (rc == DTX_ENOENT)
		return log_fail(
		        log, DTX_ECORRUPT,
		        "%s: table meta has no format key: not a dtx log",
		        log->path);
	if (rc != DTX_OK)
		return log_fail_kv(log, rc, "read meta format");
	if (v.len != 4)
		return log_fail(log, DTX_ECORRUPT,
		                "%s: meta format has %zu bytes, expected 4",
		                log->path, v.len);
	*ret_version = (uint32_t)get_le(v.data, 4);
	return DTX_OK;
}

static int check_format(dc_log *log, dc_kv_txn *txn)
{
	uint32_t version = 0;
	int rc = meta_format(log, txn, &version);

	if (rc != DTX_OK)
		return rc;
	if (version > DC_LOG_FORMAT_VERSION)
		return log_fail(
		        log, DTX_EVERSION,
		        "%s: log format %u is newer than this build's %u",
		        log->path, version, DC_LOG_FORMAT_VERSION);
	if (version == 0)
		return log_fail(log, DTX_ECORRUPT, "%s: log format 0",
		                log->path);
	return DTX_OK;
}

/* need_table: table t exists; a missing one means not a dtx log (a
 * writer's store creates every table, so only a reader can miss one). */
static int need_table(dc_log *log, int t)
{
	if (!dc_kv_has_table(log->kv, t))
		return log_fail(log, DTX_ECORRUPT,
		                "%s: no table %s: not a dtx log", log->path,
		                table_names[t]);
	return DTX_OK;
}

/* open_tables checks meta, then the format (unless creating), then the
 * other tables, so a newer format is reported as such even if it has
 * different tables. Tables that logs written before them lack
 * (quarantine; the retention tables) may be missing for a reader of such
 * a log: it goes on without them (nothing is there). */
static int open_tables(dc_log *log, dc_kv_txn *txn, bool create)
{
	int rc = need_table(log, LOG_META);

	if (rc == DTX_OK && !create)
		rc = check_format(log, txn);
	for (int t = LOG_META + 1; rc == DTX_OK && t < LOG_QUARANTINE; t++)
		rc = need_table(log, t);
	log->has_quarantine = dc_kv_has_table(log->kv, LOG_QUARANTINE);
	log->has_retention = dc_kv_has_table(log->kv, LOG_FINALS) &&
	                     dc_kv_has_table(log->kv, LOG_TOMBS) &&
	                     dc_kv_has_table(log->kv, LOG_TOMB_TIMES);
	log->has_leases = dc_kv_has_table(log->kv, LOG_LEASES) &&
	                  dc_kv_has_table(log->kv, LOG_BEATS);
	return rc;
}

/* ---- counts ---- */

static void counts_encode(const dc_log_counts *c, uint8_t *p)
{
	for (int m = 1; m <= 2; m++)
		for (int st = 0; st < LOG_COUNT_STATES; st++)
			put_le(p + 8 * ((m - 1) * LOG_COUNT_STATES + st),
			       st < DC_TX_STATE_COUNT ? c->by_state[m][st] : 0,
			       8);
	put_le(p + 8 * (2 * LOG_COUNT_STATES), c->tombstones, 8);
	put_le(p + 8 * (2 * LOG_COUNT_STATES + 1), c->pruned, 8);
}

static void counts_decode(const uint8_t *p, dc_log_counts *c)
{
	memset(c, 0, sizeof(*c));
	for (int m = 1; m <= 2; m++)
		for (int st = 0; st < DC_TX_STATE_COUNT; st++)
			c->by_state[m][st] = get_le(
			        p + 8 * ((m - 1) * LOG_COUNT_STATES + st), 8);
	c->tombstones = get_le(p + 8 * (2 * LOG_COUNT_STATES), 8);
	c->pruned = get_le(p + 8 * (2 * LOG_COUNT_STATES + 1), 8);
}

/* counts_put writes c as meta "counts" in txn. */
static int counts_put(dc_log *log, dc_kv_txn *txn, const dc_log_counts *c)
{
	uint8_t buf[8 * LOG_COUNTS_N];
	dc_kv_val k = key_str(KEY_COUNTS), v = {buf, sizeof(buf)};
	int rc;

	counts_encode(c, buf);
	rc = dc_kv_put(txn, LOG_META, k, v);
	if (rc != DTX_OK)
		return log_fail_kv(log, rc, "write meta counts");
	return DTX_OK;
}

/* counts_get reads meta "counts" in txn (DTX_ENOENT: none yet). */
static int counts_get(dc_log *log, dc_kv_txn *txn, dc_log_counts *ret)
{
	dc_kv_val k = key_str(KEY_COUNTS), v;
	int rc = dc_kv_get(txn, LOG_META, k, &v);

	if (rc == DTX_ENOENT)
		return DTX_ENOENT;
	if (rc != DTX_OK)
		return log_fail_kv(log, rc, "read meta counts");
	if (v.len != 8 * LOG_COUNTS_N)
		return log_fail_rec(log, DTX_ECORRUPT, LOG_META, &k,
		                    "counts have the wrong size");
	counts_decode(v.data, ret);
	return DTX_OK;
}

/* peek_varint reads a protobuf varint at *p (below end); false if cut. */
static bool peek_varint(const uint8_t **p, const uint8_t *end, uint64_t *ret)
{
	uint64_t v = 0;

	for (int shift = 0; *p < end && shift < 64; shift += 7) {
		uint8_t b = *(*p)++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*ret = v;
			return true;
		}
	}
	return false;
}

/* LogTx fields a peek reads (varints 1..8 are numbered alike). */
#define PEEK_MODE    2
#define PEEK_STATE   3
#define PEEK_UPDATED 8
#define PEEK_FIELDS  9

/* peek_fields reads the varint fields below PEEK_FIELDS of a LogTx in its
 * framed value v (a tx record or a tombstone) without decoding the rest;
 * false if the frame fails, the payload is cut, or its mode and state are
 * missing or out of range. */
static bool peek_fields(const dc_kv_val *v, enum log_rec type,
                        uint64_t f[PEEK_FIELDS])
{
	const uint8_t *p, *end;
	uint64_t tag, x;
	const char *why;
	size_t n;

	memset(f, 0, PEEK_FIELDS * sizeof(*f));
	if (frame_open(v, type, &p, &n, &why) != DTX_OK)
		return false;
	for (end = p + n; p < end;) {
		if (!peek_varint(&p, end, &tag))
			return false;
		if ((tag & 7) == 0 && peek_varint(&p, end, &x)) {
			if ((tag >> 3) < PEEK_FIELDS)
				f[tag >> 3] = x;
		} else if ((tag & 7) == 2 && peek_varint(&p, end, &x) &&
		           x <= (uint64_t)(end - p)) {
			p += x;
		} else
			return false; /* LogTx has no other wire types */
	}
	return f[PEEK_MODE] >= 1 && f[PEEK_MODE] <= 2 && f[PEEK_STATE] >= 1 &&
	       f[PEEK_STATE] < DC_TX_STATE_COUNT;
}

static bool state_is_final(uint64_t st)
{
	return st == DC_TX_COMMITTED || st == DC_TX_COMPENSATED ||
	       st == DC_TX_CANCELLED;
}

/* time_key writes u64be(ms, negative as 0) followed by gid (glen bytes)
 * into buf (LOG_TIME_KEY_MAX bytes): a key of finals or tomb_times. */
static size_t time_key(uint8_t *buf, int64_t ms, const void *gid, size_t glen)
{
	uint64_t t = ms > 0 ? (uint64_t)ms : 0;

	put_be32(buf, (uint32_t)(t >> 32));
	put_be32(buf + 4, (uint32_t)t);
	memcpy(buf + 8, gid, glen);
	return 8 + glen;
}

static int64_t time_of_key(const dc_kv_val *k)
{
	const uint8_t *p = k->data;
	uint64_t t = (uint64_t)get_be32(p) << 32 | get_be32(p + 4);

	return t > INT64_MAX ? INT64_MAX : (int64_t)t;
}

/* counts_rebuild counts the tx records of a log made before counts
 * existed, and indexes its final ones in finals (which such a log lacks):
 * one scan, when a writer first opens it. */
static int counts_rebuild(dc_log *log, dc_kv_txn *txn)
{
	uint8_t key[LOG_TIME_KEY_MAX];
	uint64_t f[PEEK_FIELDS];
	dc_kv_cursor *cur;
	dc_kv_val k, v, ik, empty = {NULL, 0};
	int krc = dc_kv_cursor_open(txn, LOG_TXS, &cur);

	if (krc != DTX_OK)
		return log_fail_kv(log, krc, "open cursor on txs");
	memset(&log->counts, 0, sizeof(log->counts));
	for (krc = dc_kv_seek(cur, NULL, &k, &v); krc == DTX_OK;
	     krc = dc_kv_next(cur, &k, &v)) {
		if (!peek_fields(&v, LOG_REC_TX, f))
			continue; /* a bad record: log check reports it */
		log->counts.by_state[f[PEEK_MODE]][f[PEEK_STATE]]++;
		if (!state_is_final(f[PEEK_STATE]) || k.len > DTX_GID_MAX)
			continue;
		ik = (dc_kv_val){key, time_key(key, (int64_t)f[PEEK_UPDATED],
		                               k.data, k.len)};
		if ((krc = dc_kv_put(txn, LOG_FINALS, ik, empty)) != DTX_OK)
			break;
	}
	dc_kv_cursor_close(cur);
	if (krc != DTX_ENOENT)
		return log_fail_kv(log, krc, "count and index txs");
	return counts_put(log, txn, &log->counts);
}

/* counts_load loads the writer's counts, counting once if the log has
 * none yet. */
static int counts_load(dc_log *log, dc_kv_txn *txn)
{
	int rc = counts_get(log, txn, &log->counts);

	if (rc == DTX_ENOENT)
		rc = counts_rebuild(log, txn);
	return rc;
}

/* table_empty sets *ret_yes if table t of txn has no record. */
static int table_empty(dc_log *log, dc_kv_txn *txn, int t, bool *ret_yes)
{
	dc_kv_cursor *cur = NULL;
	dc_kv_val k, v;
	int rc = dc_kv_cursor_open(txn, t, &cur);

	if (rc == DTX_OK)
		rc = dc_kv_seek(cur, NULL, &k, &v);
	dc_kv_cursor_close(cur);
	*ret_yes = rc == DTX_ENOENT;
	if (rc == DTX_OK || rc == DTX_ENOENT)
		return DTX_OK;
	return log_fail_kv(log, rc, "read the first record");
}

/* unstarted sets *ret_yes if a shared store's tables exist but its
 * creator has not yet written its first records: several instances that
 * start at once on a new PostgreSQL store see the tables one of them
 * created (its own transaction) before that one wrote meta's format in
 * the next. Such a store has no meta record and no transaction; it is
 * started like a new one, and the instances' race on its shards is the
 * one load_tables settles. A store with records but no format key stays
 * "not a dtx log". */
static int unstarted(dc_log *log, dc_kv_txn *txn, bool *ret_yes)
{
	bool meta = false, txs = false;
	int rc = table_empty(log, txn, LOG_META, &meta);

	if (rc == DTX_OK && meta)
		rc = table_empty(log, txn, LOG_TXS, &txs);
	*ret_yes = meta && txs;
	return rc;
}

/* init_tables, in one write transaction: a new store (fresh) gets its
 * tables and its format number; an existing one must be a dtx log we can
 * read. */
static int init_tables(dc_log *log, dc_kv_txn *txn, bool fresh)
{
	uint8_t buf[4];
	dc_kv_val k = key_str(KEY_FORMAT), v = {buf, 4};
	int rc;

	if (!fresh && log->shared) {
		rc = unstarted(log, txn, &fresh);
		if (rc != DTX_OK)
			return rc;
	}
	if (!fresh) {
		rc = open_tables(log, txn, false);
		if (rc == DTX_OK && !log->shared)
			rc = counts_load(log, txn);
		return rc == DTX_OK ? shards_init(log, txn) : rc;
	}
	rc = open_tables(log, txn, true);
	if (rc != DTX_OK)
		return rc;
	put_le(buf, DC_LOG_FORMAT_VERSION, 4);
	rc = dc_kv_put(txn, LOG_META, k, v);
	if (rc != DTX_OK)
		return log_fail_kv(log, rc, "write meta format");
	if (!log->shared)
		rc = counts_put(log, txn, &log->counts);
	return rc == DTX_OK ? shards_init(log, txn) : rc;
}

static int load_tables_once(dc_log *log, bool fresh)
{
	dc_kv_txn *txn;
	int rc = dc_kv_begin(log->kv, !log->read_only, &txn);

	if (rc != DTX_OK)
		return log_fail_kv(log, rc, "begin open transaction");
	if (log->read_only)
		rc = open_tables(log, txn, false);
	else
		rc = init_tables(log, txn, fresh);
	if (rc != DTX_OK || log->read_only) {
		dc_kv_abort(txn);
		return rc;
	}
	rc = dc_kv_commit(txn);
	if (rc != DTX_OK)
		return log_fail_kv(log, rc, "commit open transaction");
	return DTX_OK;
}

/* load_tables runs init_tables (writer: committed, which creates the
 * tables an older log lacks) or open_tables (reader). Shared writers that
 * open a new store at once race to record its shards (shards_init): the
 * loser's commit is DTX_ECONFLICT, and its second try finds them. */
static int load_tables(dc_log *log, bool fresh)
{
	int rc = load_tables_once(log, fresh);

	if (rc == DTX_ECONFLICT && log->shared)
		rc = load_tables_once(log, false);
	return rc;
}

/* log_start opens the store (for LMDB: directory, writer lock,
 * environment, stale reader slots, map size; see kv_lmdb.c), then checks
 * or makes its tables. */
static int log_start(dc_log *log, const dc_log_opts *opts)
{
	dc_kv_opts ko = {
	        .where = opts->dir,
	        .tables = table_names,
	        .ntables = LOG_TABLE_COUNT,
	        .read_only = opts->read_only,
	        .map_size = opts->map_size,
	        .map_size_max = opts->map_size_max,
	        .no_sync = opts->no_sync,
	        .shared = opts->shared,
	};
	bool fresh = false;
	int rc = dc_kv_open(&ko, &log->kv, &fresh, NULL, 0);

	if (rc != DTX_OK)
		return log_fail(log, rc, "%s", dc_kv_last_error());
	log->path = dc_kv_describe(log->kv);
	/* log_lease_test: an instance that made a new store's tables and has
	 * not written its records yet while another opens it. */
	DTX_HOLD("log.open.tables");
	return load_tables(log, fresh);
}

static void copy_err(char *errbuf, size_t errlen, const char *msg)
{
	if (errbuf != NULL && errlen > 0)
		snprintf(errbuf, errlen, "%s", msg);
}

int dc_log_open(const dc_log_opts *opts, dc_log **ret_log, char *errbuf,
                size_t errlen)
{
	dc_log *log;
	int rc;

	if (opts == NULL || opts->dir == NULL || opts->dir[0] == 0) {
		copy_err(errbuf, errlen, "log: no directory given");
		return DTX_EINVAL;
	}
	if ((log = calloc(1, sizeof(*log))) == NULL) {
		copy_err(errbuf, errlen, "log: out of memory");
		return DTX_ENOMEM;
	}
	log->read_only = opts->read_only;
	log->shared = opts->shared;
	log->shards = opts->shards;
	if (opts->shards > DC_LOG_SHARDS_MAX ||
	    (opts->shared && (opts->shards == 0 || opts->read_only))) {
		copy_err(errbuf, errlen,
		         "log: a shared writer needs 1..1024 shards");
		free(log);
		return DTX_EINVAL;
	}
	rc = log_start(log, opts);
	if (rc != DTX_OK) {
		copy_err(errbuf, errlen, log_err);
		dc_log_close(log);
		return rc;
	}
	*ret_log = log;
	return DTX_OK;
}

void dc_log_close(dc_log *log)
{
	if (log == NULL)
		return;
	dc_kv_close(log->kv);
	free(log);
}

const char *dc_log_path(const dc_log *log)
{
	return log->path;
}

const char *dc_log_last_error(const dc_log *log)
{
	(void)log;
	return log_err;
}

/* ---- batches ---- */

int dc_log_batch_create(dc_log_batch **ret_batch)
{
	dc_log_batch *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return DTX_ENOMEM;
	*ret_batch = b;
	return DTX_OK;
}

void dc_log_batch_destroy(dc_log_batch *batch)
{
	if (batch == NULL)
		return;
	free(batch->writes);
	free(batch->buf);
	free(batch);
}

void dc_log_batch_reset(dc_log_batch *batch)
{
	batch->len = 0;
	batch->buf_len = 0;
	memset(batch->fenced, 0, sizeof(batch->fenced));
}

size_t dc_log_batch_len(const dc_log_batch *batch)
{
	return batch->len;
}

/* grow returns p resized (doubling from min) to hold need elements of size
 * sz, or NULL (p unchanged) if memory ran out. */
static void *grow(void *p, size_t *cap, size_t need, size_t sz, size_t min)
{
	size_t n = *cap ? *cap : min;
	void *q;

	if (need <= *cap)
		return p;
	while (n < need)
		n *= 2;
	q = realloc(p, n * sz);
	if (q != NULL)
		*cap = n;
	return q;
}

/* batch_add appends a write of key and a val_len-byte value; *ret_val
 * points at the value's space (valid until the next batch_add). */
static int batch_add(dc_log_batch *b, enum log_table t, const void *key,
                     size_t key_len, size_t val_len, uint8_t **ret_val)
{
	size_t need = b->buf_len + key_len + val_len;
	log_write *w = grow(b->writes, &b->cap, b->len + 1, sizeof(*w), 16);
	uint8_t *buf;

	if (w == NULL)
		return DTX_ENOMEM;
	b->writes = w;
	buf = grow(b->buf, &b->buf_cap, need, 1, 4096);
	if (buf == NULL)
		return DTX_ENOMEM;
	b->buf = buf;
	w = &b->writes[b->len++];
	*w = (log_write){.table = t, .key_off = b->buf_len, .key_len = key_len};
	memcpy(b->buf + b->buf_len, key, key_len);
	w->val_off = b->buf_len + key_len;
	w->val_len = val_len;
	b->buf_len = need;
	if (ret_val != NULL)
		*ret_val = b->buf + w->val_off;
	return DTX_OK;
}

static int batch_del(dc_log_batch *b, enum log_table t, const void *key,
                     size_t key_len)
{
	int rc = batch_add(b, t, key, key_len, 0, NULL);

	if (rc == DTX_OK)
		b->writes[b->len - 1].del = true;
	return rc;
}

/* batch_add_rec packs msg, framed as a record of type, as key's value. */
static int batch_add_rec(dc_log_batch *b, enum log_table t, const void *key,
                         size_t key_len, enum log_rec type,
                         const ProtobufCMessage *msg)
{
	size_t n = wire_packed_size(msg);
	uint8_t *v;
	int rc = batch_add(b, t, key, key_len, LOG_FRAME_HDR + n, &v);

	if (rc != DTX_OK)
		return rc;
	wire_pack(msg, v + LOG_FRAME_HDR);
	frame_seal(v, type, n);
	return DTX_OK;
}

static void tx_to_rec(const dc_tx *tx, Dtx__V1__LogTx *m)
{
	dtx__v1__log_tx__init(m);
	m->gid = (char *)tx->gid;
	m->has_mode = m->has_state = m->has_nsteps = true;
	m->mode = (Dtx__V1__Mode)tx->mode;
	m->state = (Dtx__V1__TxState)tx->state;
	m->nsteps = tx->nsteps;
	m->has_failed_step = true;
	m->failed_step = tx->failed_step;
	m->reason = tx->reason;
	m->has_created_unix_ms = m->has_updated_unix_ms = true;
	m->created_unix_ms = tx->created_unix_ms;
	m->updated_unix_ms = tx->updated_unix_ms;
	m->has_next_event_seq = true;
	m->next_event_seq = tx->next_event_seq;
	m->has_needs_operator = tx->needs_operator;
	m->needs_operator = tx->needs_operator;
	m->operator_reason = tx->operator_reason;
	m->has_deadline_unix_ms = tx->deadline_unix_ms != 0;
	m->deadline_unix_ms = tx->deadline_unix_ms;
	m->has_initiator_driven = tx->initiator_driven;
	m->initiator_driven = tx->initiator_driven;
	m->has_paused = tx->paused;
	m->paused = tx->paused;
	m->key = tx->key;
	m->n_labels = tx->nlabels;
	m->labels = tx->labels;
	m->traceparent = tx->traceparent;
}

static void step_to_rec(const dc_step *s, Dtx__V1__LogStep *m)
{
	dtx__v1__log_step__init(m);
	m->participant_url = s->url;
	m->action = s->action;
	m->compensate = s->compensate;
	m->confirm = s->confirm;
	m->has_payload = s->payload != NULL;
	m->payload.data = s->payload;
	m->payload.len = s->payload_len;
	m->has_timeout_ms = m->has_state = m->has_attempts = true;
	m->timeout_ms = s->timeout_ms;
	m->state = (Dtx__V1__StepState)s->state;
	m->attempts = s->attempts;
	m->last_error = s->last_error;
	m->has_result = s->result != NULL;
	m->result.data = s->result;
	m->result.len = s->result_len;
	m->has_forced = s->forced;
	m->forced = s->forced;
}

static bool step_is_dirty(uint64_t dirty, uint32_t i)
{
	return (dirty >> (i < 63 ? i : 63)) & 1;
}

static int put_tx_records(dc_log_batch *b, const dc_tx *tx, size_t glen,
                          uint64_t dirty)
{
	uint8_t key[LOG_TIME_KEY_MAX];
	Dtx__V1__LogTx mt;
	Dtx__V1__LogStep ms;
	int rc;

	tx_to_rec(tx, &mt);
	rc = batch_add_rec(b, LOG_TXS, tx->gid, glen, LOG_REC_TX, &mt.base);
	if (rc == DTX_OK) {
		log_write *w = &b->writes[b->len - 1];
		w->counted = tx->mode >= 1 && tx->mode <= 2 &&
		             tx->state < DC_TX_STATE_COUNT;
		w->mode = (uint8_t)tx->mode;
		w->state = (uint8_t)tx->state;
	}
	for (uint32_t i = 0; rc == DTX_OK && i < tx->nsteps; i++) {
		if (!step_is_dirty(dirty, i))
			continue;
		step_to_rec(&tx->steps[i], &ms);
		rc = batch_add_rec(b, LOG_STEPS, key,
		                   key_seq(key, tx->gid, glen, i), LOG_REC_STEP,
		                   &ms.base);
	}
	if (rc == DTX_OK && dc_tx_is_final(tx)) {
		rc = batch_del(b, LOG_ACTIVE, tx->gid, glen);
		if (rc == DTX_OK) /* retention finds it here, by its age */
			rc = batch_add(b, LOG_FINALS, key,
			               time_key(key, tx->updated_unix_ms,
			                        tx->gid, glen),
			               0, NULL);
	} else if (rc == DTX_OK && dirty == UINT64_MAX) {
		/* written whole: its first write (a transaction is never
		 * final before it), the one that indexes it. Every later put
		 * of a non-final one would write the same empty entry again:
		 * one row per transition on PostgreSQL (5 of the ~39 rows
		 * of a shop purchase) for nothing. */
		rc = batch_add(b, LOG_ACTIVE, tx->gid, glen, 0, NULL);
	}
	return rc;
}

int dc_log_batch_put_tx(dc_log_batch *batch, const dc_tx *tx,
                        uint64_t dirty_steps)
{
	size_t len = batch->len, buf_len = batch->buf_len;
	size_t glen = gid_len(tx->gid);
	int rc;

	if (glen == 0)
		return DTX_EINVAL;
	rc = put_tx_records(batch, tx, glen, dirty_steps);
	if (rc != DTX_OK) {
		/* All of tx or none of it. */
		batch->len = len;
		batch->buf_len = buf_len;
	}
	return rc;
}

/* edit_to_rec fills m (borrowing ed's strings) from a set-branch. */
static void edit_to_rec(const dc_log_edit *ed, Dtx__V1__BranchEdit *m)
{
	dtx__v1__branch_edit__init(m);
	m->old_url = (char *)ed->old_url;
	m->url = (char *)ed->url;
	m->has_op = ed->op != 0;
	m->op = (Dtx__V1__Op)ed->op;
	m->old_handler = (char *)ed->old_handler;
	m->handler = (char *)ed->handler;
}

int dc_log_batch_add_event(dc_log_batch *batch, const char *gid, uint32_t seq,
                           const dc_log_event *ev)
{
	uint8_t key[LOG_KEY_MAX];
	size_t glen = gid_len(gid);
	Dtx__V1__LogEvent m;
	Dtx__V1__BranchEdit edit;

	if (glen == 0 || ev == NULL)
		return DTX_EINVAL;
	dtx__v1__log_event__init(&m);
	m.has_unix_ms = m.has_tx_state = m.has_step = true;
	m.unix_ms = ev->unix_ms;
	m.tx_state = (Dtx__V1__TxState)ev->tx_state;
	m.step = ev->step;
	m.has_step_state = ev->step >= 0;
	m.step_state = (Dtx__V1__StepState)ev->step_state;
	m.detail = (char *)ev->detail;
	if (ev->edit != NULL) {
		edit_to_rec(ev->edit, &edit);
		m.edit = &edit;
	}
	return batch_add_rec(batch, LOG_EVENTS, key,
	                     key_seq(key, gid, glen, seq), LOG_REC_EVENT,
	                     &m.base);
}

int dc_log_batch_quarantine(dc_log_batch *batch, const dc_log_bad *bad,
                            int64_t unix_ms)
{
	Dtx__V1__LogEvent m;

	if (bad->key_len == 0)
		return DTX_EINVAL;
	dtx__v1__log_event__init(&m);
	m.has_unix_ms = true;
	m.unix_ms = unix_ms;
	m.detail = (char *)bad->why;
	return batch_add_rec(batch, LOG_QUARANTINE, bad->key, bad->key_len,
	                     LOG_REC_QUARANTINE, &m.base);
}

int dc_log_batch_set_gid_floor(dc_log_batch *batch, uint64_t id)
{
	uint8_t *v;
	int rc = batch_add(batch, LOG_META, KEY_GID_FLOOR,
	                   strlen(KEY_GID_FLOOR), 8, &v);

	if (rc == DTX_OK)
		put_le(v, id, 8);
	return rc;
}

/* ---- commit ---- */

/*
 * The counts move from the (mode, state) of the tx record a put replaces
 * to the put's. The old records of a batch are read before its writes, in
 * one dc_kv_get_many per DC_KV_GET_MANY_MAX of them (on PostgreSQL one
 * round trip each, not one per transaction); a tx record the batch writes
 * twice replaces, the second time, the batch's own first write, so the
 * counts are what reading before each write would give.
 */

/* A tx record's (mode, state) as one code: 0 none (or unreadable), else
 * mode * LOG_COUNT_STATES + state. */
static uint8_t old_code(const dc_kv_val *v)
{
	uint64_t f[PEEK_FIELDS];

	if (v->data == NULL || !peek_fields(v, LOG_REC_TX, f))
		return 0;
	return (uint8_t)(f[PEEK_MODE] * LOG_COUNT_STATES + f[PEEK_STATE]);
}

/* A write of txs in a batch: its key and its place. */
typedef struct tx_ref {
	dc_kv_val key;
	size_t w;
} tx_ref;

/* tx_ref_cmp orders by key (kv.h's order), then by place in the batch. */
static int tx_ref_cmp(const void *a, const void *b)
{
	const tx_ref *x = a, *y = b;
	size_t n = x->key.len < y->key.len ? x->key.len : y->key.len;
	int c = memcmp(x->key.data, y->key.data, n);

	if (c != 0)
		return c;
	if (x->key.len != y->key.len)
		return x->key.len < y->key.len ? -1 : 1;
	return x->w < y->w ? -1 : x->w > y->w;
}

/* olds_fetch reads the n keys of refs (each a batch write's first of its
 * key) in one call and writes their records' codes to old[w]. */
static int olds_fetch(dc_log *log, dc_kv_txn *txn, const tx_ref *refs, size_t n,
                      dc_kv_val *keys, dc_kv_val *vals, uint8_t *old)
{
	int rc;

	for (size_t i = 0; i < n; i++)
		keys[i] = refs[i].key;
	rc = dc_kv_get_many(txn, LOG_TXS, keys, n, vals);
	if (rc != DTX_OK)
		return log_fail_kv(log, rc, "read txs");
	for (size_t i = 0; i < n; i++)
		old[refs[i].w] = old_code(&vals[i]);
	return DTX_OK;
}

/* A read of many gids' records (dc_kv_get_many, at most
 * DC_KV_GET_MANY_MAX at a time): refs for all n of them, and for one
 * chunk the firsts, keys and values. */
typedef struct many_read {
	tx_ref *refs, *firsts;
	dc_kv_val *keys, *vals;
} many_read;

/* many_alloc sizes m for n gids; DTX_ENOMEM (reported) if it cannot. */
static int many_alloc(dc_log *log, many_read *m, size_t n)
{
	size_t chunk = n < DC_KV_GET_MANY_MAX ? n : DC_KV_GET_MANY_MAX;

	m->refs = calloc(n ? n : 1, sizeof(*m->refs));
	m->firsts = calloc(chunk ? chunk : 1, sizeof(*m->firsts));
	m->keys = calloc(chunk ? chunk : 1, sizeof(*m->keys));
	m->vals = calloc(chunk ? chunk : 1, sizeof(*m->vals));
	if (m->refs != NULL && m->firsts != NULL && m->keys != NULL &&
	    m->vals != NULL)
		return DTX_OK;
	return log_fail(log, DTX_ENOMEM, "%s: out of memory", log->path);
}

static void many_free(many_read *m)
{
	free(m->refs);
	free(m->firsts);
	free(m->keys);
	free(m->vals);
}

/* olds_walk fills old[w] for the n writes of txs in refs, sorted by
 * tx_ref_cmp: the first write of a key replaces what the store holds
 * (read in chunks: firsts, keys and vals have room for a chunk), a later
 * one the batch's write before it. */
static int olds_walk(dc_log *log, dc_kv_txn *txn, const dc_log_batch *b,
                     const tx_ref *refs, size_t n, tx_ref *firsts,
                     dc_kv_val *keys, dc_kv_val *vals, uint8_t *old)
{
	size_t nf = 0;
	int rc = DTX_OK;

	for (size_t j = 0; j < n && rc == DTX_OK; j++) {
		const log_write *prev = &b->writes[refs[j > 0 ? j - 1 : 0].w];
		dc_kv_val pv = {b->buf + prev->val_off, prev->val_len};

		if (j > 0 && refs[j].key.len == refs[j - 1].key.len &&
		    memcmp(refs[j].key.data, refs[j - 1].key.data,
		           refs[j].key.len) == 0)
			old[refs[j].w] = prev->del ? 0 : old_code(&pv);
		else
			firsts[nf++] = refs[j];
		if (nf == DC_KV_GET_MANY_MAX || (j + 1 == n && nf > 0)) {
			rc = olds_fetch(log, txn, firsts, nf, keys, vals, old);
			nf = 0;
		}
	}
	return rc;
}

/* olds_read writes to old[i] (batch->len entries, zeroed) the code of the
 * tx record write i of the batch replaces, for every write of txs. */
static int olds_read(dc_log *log, dc_kv_txn *txn, const dc_log_batch *b,
                     uint8_t *old)
{
	size_t n = 0;
	many_read m;
	int rc;

	for (size_t i = 0; i < b->len; i++)
		n += b->writes[i].table == LOG_TXS;
	if (n == 0)
		return DTX_OK;
	if ((rc = many_alloc(log, &m, n)) == DTX_OK) {
		n = 0;
		for (size_t i = 0; i < b->len; i++)
			if (b->writes[i].table == LOG_TXS)
				m.refs[n++] =
				        (tx_ref){{b->buf + b->writes[i].key_off,
				                  b->writes[i].key_len},
				                 i};
		qsort(m.refs, n, sizeof(*m.refs), tx_ref_cmp);
		rc = olds_walk(log, txn, b, m.refs, n, m.firsts, m.keys, m.vals,
		               old);
	}
	many_free(&m);
	return rc;
}

/* count_put moves c from old (a code of old_code) to w's (mode, state). */
static void count_put(const log_write *w, uint8_t old, dc_log_counts *c)
{
	uint64_t *n =
	        &c->by_state[old / LOG_COUNT_STATES][old % LOG_COUNT_STATES];

	if (old != 0 && *n > 0)
		(*n)--;
	c->by_state[w->mode][w->state]++;
}

static int apply_write(dc_log *log, dc_kv_txn *txn, const dc_log_batch *b,
                       const log_write *w, uint8_t old, dc_log_counts *c)
{
	dc_kv_val k = {b->buf + w->key_off, w->key_len};
	dc_kv_val v = {b->buf + w->val_off, w->val_len};
	int rc;

	if (w->expect)
		return DTX_OK; /* fences_apply's */
	if (w->counted && !log->shared)
		count_put(w, old, c);
	if (w->del)
		rc = dc_kv_del(txn, w->table, k); /* a missing key is fine */
	else
		rc = dc_kv_put(txn, w->table, k, v);
	if (rc != DTX_OK)
		return log_fail_kv(log, rc, w->del ? "delete" : "put");
	return DTX_OK;
}

/*
 * fences_apply checks the batch's fences (its expect writes: lease rows
 * of the shards it writes), before its other writes, in the order of
 * their keys. Why sorted: a fence on PostgreSQL locks its lease row to
 * the commit, and so does a lease round of another instance (its
 * dc_log_round_commit, sorted the same way); two transactions that lock
 * two rows in opposite orders deadlock, and PostgreSQL ends one of them
 * (40P01), which dtxd can only take as a failed commit - crash-only, an
 * instance lost. In one order no cycle can form. Their place among the
 * batch's writes does not matter: a fence reads a lease row, which no
 * other write of a batch touches.
 */
static int fences_apply(dc_log *log, dc_kv_txn *txn, const dc_log_batch *b)
{
	tx_ref *refs;
	size_t n = 0;
	int rc = DTX_OK;

	for (size_t i = 0; i < b->len; i++)
		n += b->writes[i].expect;
	if (n == 0)
		return DTX_OK;
	if ((refs = calloc(n, sizeof(*refs))) == NULL)
		return log_fail(log, DTX_ENOMEM, "%s: out of memory",
		                log->path);
	n = 0;
	for (size_t i = 0; i < b->len; i++)
		if (b->writes[i].expect)
			refs[n++] = (tx_ref){{b->buf + b->writes[i].key_off,
			                      b->writes[i].key_len},
			                     i};
	qsort(refs, n, sizeof(*refs), tx_ref_cmp);
	for (size_t i = 0; rc == DTX_OK && i < n; i++) {
		const log_write *w = &b->writes[refs[i].w];

		rc = dc_kv_expect(txn, w->table, refs[i].key,
		                  (dc_kv_val){b->buf + w->val_off, w->val_len});
		if (rc != DTX_OK)
			rc = log_fail_kv(log, rc, "fence");
	}
	free(refs);
	return rc;
}

/* ---- retention: pruning inside a commit ---- */

/* del_prefixed deletes every key gid \0 ... of table t (the steps or the
 * timeline of one transaction): the keys from gid \0 up to gid \1 (a gid
 * holds no NUL). */
static int del_prefixed(dc_log *log, dc_kv_txn *txn, enum log_table t,
                        const uint8_t *gid, size_t glen)
{
	uint8_t from[DTX_GID_MAX + 1], to[DTX_GID_MAX + 1];
	int rc;

	memcpy(from, gid, glen);
	memcpy(to, gid, glen);
	from[glen] = 0;
	to[glen] = 1;
	rc = dc_kv_del_range(txn, t, (dc_kv_val){from, glen + 1},
	                     (dc_kv_val){to, glen + 1});
	if (rc != DTX_OK)
		return log_fail_kv(log, rc, "prune");
	return DTX_OK;
}

/* put_tomb writes the tombstone of gid (glen bytes), whose tx record's
 * fields f were peeked, made at now, and indexes it in tomb_times. */
static int put_tomb(dc_log *log, dc_kv_txn *txn, const uint8_t *gid,
                    size_t glen, const uint64_t *f, int64_t now)
{
	uint8_t buf[LOG_FRAME_HDR + DTX_GID_MAX + 128], key[LOG_TIME_KEY_MAX];
	char g[DTX_GID_MAX + 1];
	Dtx__V1__LogTx m;
	dc_kv_val k = {gid, glen}, v, ik, empty = {NULL, 0};
	size_t n;
	int rc;

	memcpy(g, gid, glen);
	g[glen] = 0;
	dtx__v1__log_tx__init(&m);
	m.gid = g;
	m.has_mode = m.has_state = m.has_nsteps = true;
	m.mode = (Dtx__V1__Mode)f[PEEK_MODE];
	m.state = (Dtx__V1__TxState)f[PEEK_STATE];
	m.has_created_unix_ms = m.has_updated_unix_ms = true;
	m.created_unix_ms = (int64_t)f[7];
	m.updated_unix_ms = (int64_t)f[PEEK_UPDATED];
	m.has_pruned_unix_ms = true;
	m.pruned_unix_ms = now;
	n = wire_packed_size(&m.base);
	if (n > sizeof(buf) - LOG_FRAME_HDR) /* a gid is at most GID_MAX */
		return log_fail(log, DTX_EINTERNAL, "%s: tombstone too big",
		                log->path);
	wire_pack(&m.base, buf + LOG_FRAME_HDR);
	frame_seal(buf, LOG_REC_TOMB, n);
	v = (dc_kv_val){buf, LOG_FRAME_HDR + n};
	ik = (dc_kv_val){key, time_key(key, now, gid, glen)};
	rc = dc_kv_put(txn, LOG_TOMBS, k, v);
	if (rc == DTX_OK)
		rc = dc_kv_put(txn, LOG_TOMB_TIMES, ik, empty);
	return rc == DTX_OK ? DTX_OK : log_fail_kv(log, rc, "put tombstone");
}

/* What a prune read of the record of a due entry's gid: whether it is
 * there and, for a tx record, its peeked fields. */
typedef struct due_rec {
	bool there;
	bool peeked;
	uint64_t f[PEEK_FIELDS];
} due_rec;

/* prune_tx replaces gid's records by a tombstone, if its tx record (r)
 * says it is final; a missing or unreadable record is left alone (it was
 * pruned already, or dtxctl log check reports it). */
static int prune_tx(dc_log *log, dc_kv_txn *txn, const uint8_t *gid,
                    size_t glen, const due_rec *r, int64_t now,
                    dc_log_counts *c, dc_log_pruned *res)
{
	const uint64_t *f = r->f;
	dc_kv_val k = {gid, glen};
	int rc, krc;

	if (!r->peeked || !state_is_final(f[PEEK_STATE]))
		return DTX_OK;
	rc = del_prefixed(log, txn, LOG_STEPS, gid, glen);
	if (rc == DTX_OK)
		rc = del_prefixed(log, txn, LOG_EVENTS, gid, glen);
	if (rc == DTX_OK && (krc = dc_kv_del(txn, LOG_TXS, k)) != DTX_OK)
		rc = log_fail_kv(log, krc, "prune txs");
	if (rc == DTX_OK)
		rc = put_tomb(log, txn, gid, glen, f, now);
	if (rc != DTX_OK)
		return rc;
	if (c->by_state[f[PEEK_MODE]][f[PEEK_STATE]] > 0)
		c->by_state[f[PEEK_MODE]][f[PEEK_STATE]]--;
	c->tombstones++;
	c->pruned++;
	res->pruned++;
	return DTX_OK;
}

/* expire_tomb removes the tombstone of gid if there is one (r; counted
 * only if there; its tomb_times entry is the caller's). */
static int expire_tomb(dc_log *log, dc_kv_txn *txn, const uint8_t *gid,
                       size_t glen, const due_rec *r, dc_log_counts *c,
                       dc_log_pruned *res)
{
	int rc;

	if (!r->there)
		return DTX_OK;
	rc = dc_kv_del(txn, LOG_TOMBS, (dc_kv_val){gid, glen});
	if (rc != DTX_OK)
		return log_fail_kv(log, rc, "expire tombstone");
	if (c->tombstones > 0)
		c->tombstones--;
	res->expired++;
	return DTX_OK;
}

/* prune_fn acts on the gid (glen bytes) of one due entry of a time index,
 * given what was read of the gid's record (r). */
typedef int (*prune_fn)(dc_log *log, dc_kv_txn *txn, const uint8_t *gid,
                        size_t glen, const due_rec *r, int64_t now,
                        dc_log_counts *c, dc_log_pruned *res);

static int prune_one_fn(dc_log *log, dc_kv_txn *txn, const uint8_t *gid,
                        size_t glen, const due_rec *r, int64_t now,
                        dc_log_counts *c, dc_log_pruned *res)
{
	return prune_tx(log, txn, gid, glen, r, now, c, res);
}

static int expire_one_fn(dc_log *log, dc_kv_txn *txn, const uint8_t *gid,
                         size_t glen, const due_rec *r, int64_t now,
                         dc_log_counts *c, dc_log_pruned *res)
{
	(void)now;
	return expire_tomb(log, txn, gid, glen, r, c, res);
}

/*
 * A walk of a time index (walk_due) reads before it writes: one cursor
 * pass copies the due entries (on PostgreSQL a round trip per page of
 * them), one dc_kv_get_many per DC_KV_GET_MANY_MAX reads their gids'
 * records, then the writes go out (pipelined). A gid indexed twice is
 * acted on at its first entry only (its later ones get an empty record):
 * read one by one, they would have found the record gone, or the same one
 * left alone.
 */

/* A due entry, copied out of the cursor: its key in the walk's arena (one
 * byte more of room for a bad key's range end) and its gid's record. */
typedef struct due_entry {
	size_t off;
	size_t len;
	bool ok;     /* long enough to hold a time and a gid */
	due_rec rec; /* read for its gid's first entry only, else empty */
} due_entry;

typedef struct due_walk {
	due_entry *e;
	size_t n, cap;
	uint8_t *arena;
	size_t used, arena_cap;
} due_walk;

static int due_add(due_walk *d, const dc_kv_val *k, bool ok)
{
	size_t len = k->len < DC_LOG_KEY_MAX ? k->len : DC_LOG_KEY_MAX;
	due_entry *e = grow(d->e, &d->cap, d->n + 1, sizeof(*e), 64);
	uint8_t *a;

	if (e == NULL)
		return DTX_ENOMEM;
	d->e = e;
	a = grow(d->arena, &d->arena_cap, d->used + len + 1, 1, 4096);
	if (a == NULL)
		return DTX_ENOMEM;
	d->arena = a;
	memcpy(a + d->used, k->data, len);
	d->e[d->n++] = (due_entry){.off = d->used, .len = len, .ok = ok};
	d->used += len + 1;
	return DTX_OK;
}

/* shard_of_key: the shard of the gid in time-index key k (ok: long
 * enough) among nshards. */
static uint32_t shard_of_key(const dc_kv_val *k, uint32_t nshards)
{
	char gid[DTX_GID_MAX + 1];
	size_t n = k->len - 8;

	memcpy(gid, (const uint8_t *)k->data + 8, n);
	gid[n] = '\0';
	return shard_of_gid(gid, nshards);
}

/* is_others: entry k belongs to a shard spec's writer does not own (an
 * entry too short to name a gid is anyone's to delete). */
static bool is_others(const dc_log_prune *spec, const dc_kv_val *k, bool ok)
{
	return spec->owner != NULL && ok &&
	       spec->epoch[shard_of_key(k, spec->nshards)] == 0;
}

/* due_collect copies the entries of time index t older than before,
 * oldest first, at most max of them (*ret_more: there were more),
 * skipping other writers' shards (spec) - at most DUE_SKIP_MAX of them
 * per walk, so a walk stays bounded when they come first. */
static int due_collect(dc_log *log, dc_kv_txn *txn, enum log_table t,
                       const dc_log_prune *spec, int64_t before, uint32_t max,
                       due_walk *d, bool *ret_more)
{
	dc_kv_cursor *cur;
	dc_kv_val k, v;
	uint32_t skipped = 0;
	int krc = dc_kv_cursor_open(txn, t, &cur);

	if (krc != DTX_OK)
		return log_fail_kv(log, krc, "open cursor to prune");
	for (krc = dc_kv_seek(cur, NULL, &k, &v); krc == DTX_OK;
	     krc = dc_kv_next(cur, &k, &v)) {
		bool ok = k.len > 8 && k.len <= LOG_TIME_KEY_MAX;
		if (ok && time_of_key(&k) >= before)
			break;
		if (d->n == max || skipped == DUE_SKIP_MAX) {
			*ret_more = true;
			break;
		}
		if (is_others(spec, &k, ok)) {
			skipped++;
			continue;
		}
		if (due_add(d, &k, ok) != DTX_OK) {
			krc = DTX_ENOMEM;
			break;
		}
	}
	dc_kv_cursor_close(cur);
	if (krc == DTX_ENOMEM)
		return log_fail(log, krc, "%s: out of memory", log->path);
	if (krc != DTX_OK && krc != DTX_ENOENT)
		return log_fail_kv(log, krc, "prune");
	return DTX_OK;
}

/* due_fetch reads the records of table src of the n gids of refs (each
 * the first entry of its gid) in one call into their entries. */
static int due_fetch(dc_log *log, dc_kv_txn *txn, enum log_table src,
                     due_walk *d, const tx_ref *refs, size_t n, dc_kv_val *keys,
                     dc_kv_val *vals)
{
	int rc;

	for (size_t i = 0; i < n; i++)
		keys[i] = refs[i].key;
	rc = dc_kv_get_many(txn, src, keys, n, vals);
	if (rc != DTX_OK)
		return log_fail_kv(log, rc, "read to prune");
	for (size_t i = 0; i < n; i++) {
		due_rec *r = &d->e[refs[i].w].rec;

		r->there = vals[i].data != NULL;
		r->peeked = r->there && peek_fields(&vals[i], LOG_REC_TX, r->f);
	}
	return DTX_OK;
}

/* due_read reads, for each gid's first entry (refs: the n ok entries'
 * gids, sorted by tx_ref_cmp), its record of table src, in chunks
 * (firsts, keys and vals have room for one). */
static int due_read(dc_log *log, dc_kv_txn *txn, enum log_table src,
                    due_walk *d, const tx_ref *refs, size_t n, tx_ref *firsts,
                    dc_kv_val *keys, dc_kv_val *vals)
{
	size_t nf = 0;
	int rc = DTX_OK;

	for (size_t j = 0; j < n && rc == DTX_OK; j++) {
		if (j == 0 || tx_ref_cmp(&(tx_ref){refs[j].key, 0},
		                         &(tx_ref){refs[j - 1].key, 0}) != 0)
			firsts[nf++] = refs[j];
		if (nf == DC_KV_GET_MANY_MAX || (j + 1 == n && nf > 0)) {
			rc = due_fetch(log, txn, src, d, firsts, nf, keys,
			               vals);
			nf = 0;
		}
	}
	return rc;
}

/* due_read_all reads the records of table src of the due entries' gids. */
static int due_read_all(dc_log *log, dc_kv_txn *txn, enum log_table src,
                        due_walk *d)
{
	size_t n = 0;
	many_read m;
	int rc = many_alloc(log, &m, d->n);

	if (rc == DTX_OK) {
		for (size_t i = 0; i < d->n; i++)
			if (d->e[i].ok)
				m.refs[n++] =
				        (tx_ref){{d->arena + d->e[i].off + 8,
				                  d->e[i].len - 8},
				                 i};
		qsort(m.refs, n, sizeof(*m.refs), tx_ref_cmp);
		rc = due_read(log, txn, src, d, m.refs, n, m.firsts, m.keys,
		              m.vals);
	}
	many_free(&m);
	return rc;
}

/* due_apply hands each ok entry's gid and record to fn (a later entry of
 * a gid: an empty record, nothing to do) and deletes the entry; a bad key
 * is only deleted (from k up to k \0). */
static int due_apply(dc_log *log, dc_kv_txn *txn, enum log_table t, due_walk *d,
                     prune_fn fn, int64_t now, dc_log_counts *c,
                     dc_log_pruned *res)
{
	int rc = DTX_OK, krc = DTX_OK;

	for (size_t i = 0; i < d->n && rc == DTX_OK && krc == DTX_OK; i++) {
		const due_entry *e = &d->e[i];
		uint8_t *key = d->arena + e->off;
		dc_kv_val k = {key, e->len};

		if (!e->ok) {
			key[e->len] = 0;
			krc = dc_kv_del_range(txn, t, k,
			                      (dc_kv_val){key, e->len + 1});
			continue;
		}
		rc = fn(log, txn, key + 8, e->len - 8, &e->rec, now, c, res);
		if (rc == DTX_OK)
			krc = dc_kv_del(txn, t, k);
	}
	if (rc == DTX_OK && krc != DTX_OK)
		rc = log_fail_kv(log, krc, "prune");
	return rc;
}

static dc_kv_val lease_encode(const dc_log_lease *l, uint8_t *buf);

/* prune_fences makes the walk's writes conditional on the lease of every
 * shard its entries belong to (a shared store: spec->owner), as a batch
 * fence does: a lease that moved is DTX_ECONFLICT and the whole commit
 * writes nothing. */
static int prune_fences(dc_log *log, dc_kv_txn *txn, const dc_log_prune *spec,
                        const due_walk *d)
{
	uint8_t done[DC_LOG_SHARDS_MAX / 8] = {0};

	for (size_t i = 0; i < d->n && spec->owner != NULL; i++) {
		dc_kv_val k = {d->arena + d->e[i].off, d->e[i].len};
		uint8_t key[4], val[LEASE_VAL_MAX];
		dc_log_lease l = {"", 0};
		uint32_t s;
		int rc;

		if (!d->e[i].ok)
			continue;
		s = shard_of_key(&k, spec->nshards);
		if (done[s / 8] & (1u << (s % 8)))
			continue;
		done[s / 8] |= (uint8_t)(1u << (s % 8));
		snprintf(l.owner, sizeof(l.owner), "%s", spec->owner);
		l.epoch = spec->epoch[s];
		put_be32(key, s);
		rc = dc_kv_expect(txn, LOG_LEASES, (dc_kv_val){key, 4},
		                  lease_encode(&l, val));
		if (rc != DTX_OK)
			return log_fail_kv(log, rc, "prune fence");
	}
	return DTX_OK;
}

/* walk_due hands the entries of time index t older than before to fn,
 * oldest first, deleting each; at most max of them (*ret_more: there were
 * more). fn gets what its gid's record in table src is. A key too short
 * to hold a time and a gid is only deleted. */
static int walk_due(dc_log *log, dc_kv_txn *txn, enum log_table t,
                    enum log_table src, const dc_log_prune *spec,
                    int64_t before, uint32_t max, prune_fn fn, dc_log_counts *c,
                    dc_log_pruned *res, bool *ret_more)
{
	due_walk d = {0};
	int64_t now = spec->now_unix_ms;
	int rc = due_collect(log, txn, t, spec, before, max, &d, ret_more);

	if (rc == DTX_OK && d.n > 0)
		rc = prune_fences(log, txn, spec, &d);
	if (rc == DTX_OK && d.n > 0)
		rc = due_read_all(log, txn, src, &d);
	if (rc == DTX_OK)
		rc = due_apply(log, txn, t, &d, fn, now, c, res);
	free(d.e);
	free(d.arena);
	return rc;
}

/* prune_in does what spec asks for in txn (see dc_log_commit_prune). */
static int prune_in(dc_log *log, dc_kv_txn *txn, const dc_log_prune *spec,
                    dc_log_counts *c, dc_log_pruned *res)
{
	int rc = DTX_OK;

	if (spec == NULL || !log->has_retention)
		return DTX_OK;
	if (spec->owner != NULL &&
	    (spec->nshards == 0 || spec->nshards > DC_LOG_SHARDS_MAX ||
	     spec->epoch == NULL))
		return log_fail(log, DTX_EINVAL, "%s: a bad prune spec",
		                log->path);
	if (spec->final_before_ms > 0)
		rc = walk_due(log, txn, LOG_FINALS, LOG_TXS, spec,
		              spec->final_before_ms, spec->max_final,
		              prune_one_fn, c, res, &res->more_final);
	if (rc == DTX_OK && spec->tomb_before_ms > 0)
		rc = walk_due(log, txn, LOG_TOMB_TIMES, LOG_TOMBS, spec,
		              spec->tomb_before_ms, spec->max_tombs,
		              expire_one_fn, c, res, &res->more_tombs);
	return rc;
}

/* fill_txn reads the tx records the batch replaces, applies every write
 * of batch, then the pruning spec asks for, then the counts, in txn. */
static int fill_txn(dc_log *log, dc_kv_txn *txn, const dc_log_batch *batch,
                    const dc_log_prune *spec, dc_log_counts *c,
                    dc_log_pruned *res)
{
	uint8_t *old = calloc(batch->len ? batch->len : 1, 1);
	int rc = old == NULL   ? log_fail(log, DTX_ENOMEM, "%s: out of memory",
	                                  log->path)
	         : log->shared ? DTX_OK /* shared writers keep no counts */
	                       : olds_read(log, txn, batch, old);

	if (rc == DTX_OK)
		rc = fences_apply(log, txn, batch);
	for (size_t i = 0; rc == DTX_OK && i < batch->len; i++)
		rc = apply_write(log, txn, batch, &batch->writes[i], old[i], c);
	free(old);
	if (rc == DTX_OK)
		rc = prune_in(log, txn, spec, c, res);
	if (rc == DTX_OK && !log->shared)
		rc = counts_put(log, txn, c);
	return rc;
}

int dc_log_commit(dc_log *log, const dc_log_batch *batch)
{
	return dc_log_commit_prune(log, batch, NULL, NULL);
}

/*
 * dc_log_commit_prune, in order:
 *   1. begin one write transaction;
 *   2. apply every write of the batch, then prune what spec asks for, then
 *      write the counts; any failure (a full map, DTX_ELIMIT, spoils the
 *      transaction) aborts it, so none of it reaches the file;
 *   3. commit: LMDB writes the new pages, fdatasyncs, then writes the meta
 *      page. If we crash before the meta page is written, recovery sees the
 *      log as it was before this batch; after it, the whole batch.
 */
int dc_log_commit_prune(dc_log *log, const dc_log_batch *batch,
                        const dc_log_prune *spec, dc_log_pruned *ret_pruned)
{
	dc_log_pruned res = {0, 0, false, false};
	dc_log_counts c;
	dc_kv_txn *txn;
	int rc;

	if (log->read_only)
		return log_fail(log, DTX_EINVAL, "%s: opened read-only",
		                log->path);
	if (batch->len == 0 && spec == NULL)
		return DTX_OK;
	rc = dc_kv_begin(log->kv, true, &txn); /* 1 */
	if (rc != DTX_OK)
		return log_fail_kv(log, rc, "begin write transaction");
	c = log->counts;
	rc = fill_txn(log, txn, batch, spec, &c, &res); /* 2 */
	if (rc != DTX_OK || (batch->len == 0 && res.pruned == 0 &&
	                     res.expired == 0)) { /* no fsync for nothing */
		dc_kv_abort(txn);
		if (rc == DTX_OK && ret_pruned != NULL)
			*ret_pruned = res;
		return rc;
	}
	/* If we crash here, the batch was written into the open write
	 * transaction but not committed: none of it is on disk. */
	DTX_FAULT("log.before_commit");
	rc = dc_kv_commit(txn); /* 3: frees txn even on failure */
	if (rc != DTX_OK)
		return log_fail_kv(log, rc, "commit");
	/* If we crash here, the batch is durable but nothing acted on it. */
	DTX_FAULT("log.after_commit");
	log->counts = c;
	if (ret_pruned != NULL)
		*ret_pruned = res;
	return DTX_OK;
}

int dc_log_grow(dc_log *log)
{
	int rc = dc_kv_grow(log->kv);

	return rc == DTX_OK ? DTX_OK : log_fail_kv(log, rc, NULL);
}

/* ---- reads ---- */

static int copy_bytes(uint8_t **slot, size_t *len, bool has,
                      const ProtobufCBinaryData *d)
{
	if (!has)
		return DTX_OK;
	*slot = malloc(d->len ? d->len : 1);
	if (*slot == NULL)
		return DTX_ENOMEM;
	if (d->len > 0)
		memcpy(*slot, d->data, d->len);
	*len = d->len;
	return DTX_OK;
}

/* step_from_rec fills s (zeroed by dc_tx_create) from m. */
static int step_from_rec(dc_step *s, const Dtx__V1__LogStep *m)
{
	s->state = (dc_step_state)m->state;
	s->timeout_ms = m->timeout_ms;
	s->attempts = m->attempts;
	s->forced = m->has_forced && m->forced;
	if (dc_tx_set_str(&s->url, m->participant_url) ||
	    dc_tx_set_str(&s->action, m->action) ||
	    dc_tx_set_str(&s->compensate, m->compensate) ||
	    dc_tx_set_str(&s->confirm, m->confirm) ||
	    dc_tx_set_str(&s->last_error, m->last_error) ||
	    copy_bytes(&s->payload, &s->payload_len, m->has_payload,
	               &m->payload) ||
	    copy_bytes(&s->result, &s->result_len, m->has_result, &m->result))
		return DTX_ENOMEM;
	return DTX_OK;
}

static bool step_state_in_range(const Dtx__V1__LogStep *m)
{
	return m != NULL && m->has_state && (int)m->state >= DC_STEP_PENDING &&
	       (int)m->state < DC_STEP_STATE_COUNT;
}

/* load_step decodes the step record at the cursor, which must be step i of
 * gid, into tx->steps[i]. */
static int load_step(log_reader *r, const dc_kv_val *k, const dc_kv_val *v,
                     dc_tx *tx, uint32_t i)
{
	Dtx__V1__LogStep *m;
	void *msg = NULL;
	int rc = reader_open(r, LOG_STEPS, k, v, LOG_REC_STEP, &msg);

	if (rc != DTX_OK)
		return rc;
	m = msg;
	if (!step_state_in_range(m))
		rc = reader_bad(r, DTX_ECORRUPT, LOG_STEPS, k,
		                "step record without a state, or one out of "
		                "range");
	else if (step_from_rec(&tx->steps[i], m) != DTX_OK)
		rc = DTX_ENOMEM;
	wire_log_step_free(m);
	return rc;
}

static bool key_equal(const dc_kv_val *a, const dc_kv_val *b)
{
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

/* find_step positions r's steps cursor on step i of tx (seek for the
 * first, next after one was found). Returns DTX_ENOENT (with *w the key
 * wanted) if it is missing, an error of the store, or DTX_OK. */
static int find_step(log_reader *r, const dc_tx *tx, uint32_t i, bool seek,
                     uint8_t *buf, dc_kv_val *w, dc_kv_val *k, dc_kv_val *v)
{
	int rc;

	*w = (dc_kv_val){buf, key_seq(buf, tx->gid, strlen(tx->gid), i)};
	rc = seek ? dc_kv_seek(r->steps, w, k, v) : dc_kv_next(r->steps, k, v);
	if (rc != DTX_OK && rc != DTX_ENOENT)
		return log_fail_kv(r->log, rc, "read steps");
	if (rc == DTX_ENOENT || !key_equal(k, w))
		return DTX_ENOENT;
	return DTX_OK;
}

/* load_step_chunk reads steps from .. from + n - 1 of tx (n at most
 * STEPS_CHUNK) in one dc_kv_get_many: on PostgreSQL one statement that
 * returns those n rows, where a cursor reads a page of PAGE_ROWS. */
static int load_step_chunk(log_reader *r, dc_tx *tx, uint32_t from, uint32_t n)
{
	uint8_t keys[STEPS_CHUNK][LOG_KEY_MAX];
	dc_kv_val k[STEPS_CHUNK], v[STEPS_CHUNK];
	size_t glen = strlen(tx->gid);
	int rc;

	for (uint32_t i = 0; i < n; i++)
		k[i] = (dc_kv_val){keys[i],
		                   key_seq(keys[i], tx->gid, glen, from + i)};
	rc = dc_kv_get_many(r->txn, LOG_STEPS, k, n, v);
	if (rc != DTX_OK)
		return log_fail_kv(r->log, rc, "read steps");
	for (uint32_t i = 0; rc == DTX_OK && i < n; i++) {
		if (v[i].data == NULL)
			return reader_bad(r, DTX_ECORRUPT, LOG_STEPS, &k[i],
			                  "step record missing");
		rc = load_step(r, &k[i], &v[i], tx, from + i);
	}
	return rc;
}

/* load_steps reads steps 0..nsteps-1 of tx, which must be consecutive. */
static int load_steps(log_reader *r, dc_tx *tx)
{
	int rc = DTX_OK;

	for (uint32_t i = 0; rc == DTX_OK && i < tx->nsteps; i += STEPS_CHUNK)
		rc = load_step_chunk(r, tx, i,
		                     tx->nsteps - i < STEPS_CHUNK
		                             ? tx->nsteps - i
		                             : STEPS_CHUNK);
	return rc;
}

/* tx_rec_problem: what keeps the record m stored under key k from being a
 * dc_tx (NULL: nothing; dc_tx_create checks the gid, mode and that a saga
 * has steps). */
static const char *tx_rec_problem(const dc_kv_val *k, const Dtx__V1__LogTx *m)
{
	trace_ctx tc;

	if (m->gid == NULL || strlen(m->gid) != k->len ||
	    memcmp(m->gid, k->data, k->len) != 0 || !m->has_mode ||
	    !m->has_state || !m->has_nsteps)
		return "tx record lacks fields or names another gid";
	if ((int)m->state < DC_TX_RUNNING || (int)m->state >= DC_TX_STATE_COUNT)
		return "tx record has a state out of range";
	if (m->nsteps > DC_TX_STEPS_MAX)
		return "tx record has more steps than DC_TX_STEPS_MAX";
	if (m->traceparent != NULL &&
	    trace_parse(m->traceparent, &tc, NULL, 0) != DTX_OK)
		return "tx record has an invalid traceparent";
	return NULL;
}

/* tx_fill copies m's fields but the gid, mode and steps into tx. */
static int tx_fill(dc_tx *tx, const Dtx__V1__LogTx *m)
{
	tx->state = (dc_tx_state)m->state;
	tx->failed_step = m->has_failed_step ? m->failed_step : -1;
	tx->created_unix_ms = m->created_unix_ms;
	tx->updated_unix_ms = m->updated_unix_ms;
	tx->next_event_seq = m->next_event_seq;
	tx->needs_operator = m->has_needs_operator && m->needs_operator;
	tx->deadline_unix_ms =
	        m->has_deadline_unix_ms ? m->deadline_unix_ms : 0;
	tx->initiator_driven = m->has_initiator_driven && m->initiator_driven;
	tx->paused = m->has_paused && m->paused;
	if (dc_tx_set_str(&tx->reason, m->reason) != DTX_OK ||
	    dc_tx_set_str(&tx->operator_reason, m->operator_reason) != DTX_OK ||
	    dc_tx_set_tags(tx, m->key, m->labels, m->n_labels,
	                   m->traceparent) != DTX_OK)
		return DTX_ENOMEM;
	return DTX_OK;
}

/* tx_from_rec makes a dc_tx from the record m stored under key k. */
static int tx_from_rec(log_reader *r, const dc_kv_val *k,
                       const Dtx__V1__LogTx *m, dc_tx **ret_tx)
{
	const char *why = tx_rec_problem(k, m);
	dc_tx *tx;
	int rc;

	if (why != NULL)
		return reader_bad(r, DTX_ECORRUPT, LOG_TXS, k, why);
	rc = dc_tx_create(m->gid, (dc_mode)m->mode, m->nsteps, &tx);
	if (rc == DTX_EINVAL)
		return reader_bad(r, DTX_ECORRUPT, LOG_TXS, k,
		                  "tx record has an invalid gid or mode, or no "
		                  "steps");
	if (rc != DTX_OK)
		return rc;
	rc = tx_fill(tx, m);
	if (rc == DTX_OK)
		rc = load_steps(r, tx);
	if (rc != DTX_OK)
		dc_tx_destroy(tx);
	else
		*ret_tx = tx;
	return rc;
}

/* tomb_from_rec makes the tombstone dc_tx of the record m stored under
 * key k of tombstones. */
static int tomb_from_rec(log_reader *r, const dc_kv_val *k,
                         const Dtx__V1__LogTx *m, dc_tx **ret_tx)
{
	const char *why = tx_rec_problem(k, m);
	dc_tx *tx;

	if (why == NULL && (!state_is_final(m->state) || m->nsteps != 0 ||
	                    !m->has_pruned_unix_ms || m->pruned_unix_ms == 0 ||
	                    m->mode < 1 || m->mode > 2))
		why = "tombstone is not final, has steps or no pruned time";
	if (why != NULL)
		return reader_bad(r, DTX_ECORRUPT, LOG_TOMBS, k, why);
	if ((tx = calloc(1, sizeof(*tx))) == NULL)
		return DTX_ENOMEM;
	snprintf(tx->gid, sizeof(tx->gid), "%s", m->gid);
	tx->mode = (dc_mode)m->mode;
	tx->state = (dc_tx_state)m->state;
	tx->failed_step = -1;
	tx->created_unix_ms = m->created_unix_ms;
	tx->updated_unix_ms = m->updated_unix_ms;
	tx->pruned_unix_ms = m->pruned_unix_ms;
	*ret_tx = tx;
	return DTX_OK;
}

/* load_tomb reads the tombstone of the pruned transaction under key k,
 * or reports it unknown. */
static int load_tomb(log_reader *r, const dc_kv_val *k, dc_tx **ret_tx)
{
	dc_kv_val v;
	void *msg = NULL;
	int rc = DTX_ENOENT;

	if (r->log->has_retention)
		rc = dc_kv_get(r->txn, LOG_TOMBS, *k, &v);
	if (rc == DTX_ENOENT)
		return log_fail_rec(r->log, DTX_ENOENT, LOG_TXS, k,
		                    "no such transaction");
	if (rc != DTX_OK)
		return log_fail_kv(r->log, rc, "read tombstones");
	rc = reader_open(r, LOG_TOMBS, k, &v, LOG_REC_TOMB, &msg);
	if (rc != DTX_OK)
		return rc;
	rc = tomb_from_rec(r, k, msg, ret_tx);
	wire_log_tx_free(msg);
	return rc;
}

/* load_in reads the transaction stored under key k (gid bytes) in r: its
 * records, else its tombstone. */
static int load_in(log_reader *r, const dc_kv_val *k, dc_tx **ret_tx)
{
	Dtx__V1__LogTx *m;
	dc_kv_val v;
	void *msg = NULL;
	int rc = dc_kv_get(r->txn, LOG_TXS, *k, &v);

	if (rc == DTX_ENOENT)
		return load_tomb(r, k, ret_tx);
	if (rc != DTX_OK)
		return log_fail_kv(r->log, rc, "read txs");
	rc = reader_open(r, LOG_TXS, k, &v, LOG_REC_TX, &msg);
	if (rc != DTX_OK)
		return rc;
	m = msg;
	rc = tx_from_rec(r, k, m, ret_tx);
	wire_log_tx_free(m);
	return rc;
}

int dc_log_load_tx(dc_log *log, const char *gid, dc_tx **ret_tx)
{
	size_t glen = gid_len(gid);
	dc_kv_val k = {gid, glen};
	log_reader r;
	int rc;

	if (glen == 0)
		return log_fail(log, DTX_EINVAL, "log: invalid gid");
	rc = reader_begin(log, &r);
	if (rc != DTX_OK)
		return rc;
	rc = load_in(&r, &k, ret_tx);
	reader_end(&r);
	return rc;
}

/* ---- bad transactions and the quarantine ---- */

static bool key_is_gid(const uint8_t *p, size_t n)
{
	char gid[DTX_GID_MAX + 1];

	if (n == 0 || n > DTX_GID_MAX || memchr(p, 0, n) != NULL)
		return false;
	memcpy(gid, p, n);
	gid[n] = 0;
	return wire_name_is_valid(gid, DTX_GID_MAX);
}

/* gid_render writes a valid gid naming key p (n bytes) into out: the key
 * itself if it is one, else "bad-key:" and its first bytes in hex. */
static void gid_render(const uint8_t *p, size_t n, char out[DTX_GID_MAX + 1])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = sizeof("bad-key:") - 1;

	if (key_is_gid(p, n)) {
		memcpy(out, p, n);
		out[n] = 0;
		return;
	}
	memcpy(out, "bad-key:", o);
	for (size_t i = 0; i < n && o + 2 <= DTX_GID_MAX; i++) {
		out[o++] = hex[p[i] >> 4];
		out[o++] = hex[p[i] & 15];
	}
	out[o] = 0;
}

/* bad_init starts *bad for the transaction under key k: not bad yet. */
static void bad_init(dc_log_bad *bad, const dc_kv_val *k)
{
	bad->err = 0;
	bad->quarantined = false;
	bad->since_unix_ms = 0;
	bad->key_len = k->len < DC_LOG_KEY_MAX ? k->len : DC_LOG_KEY_MAX;
	memcpy(bad->key, k->data, bad->key_len);
	gid_render(bad->key, bad->key_len, bad->gid);
	bad->why[0] = 0;
}

void dc_log_bad_set(dc_log_bad *bad, const char *gid, int err, const char *why)
{
	dc_kv_val k = {gid, strnlen(gid, DC_LOG_KEY_MAX)};

	bad_init(bad, &k);
	bad->err = err;
	snprintf(bad->why, sizeof(bad->why), "%s", why);
}

/* quarantine_get fills *bad from the quarantine entry of key k, if there
 * is one (then bad->quarantined). A quarantine record that fails its own
 * checks still quarantines k. */
static int quarantine_get(log_reader *r, const dc_kv_val *k, dc_log_bad *bad)
{
	dc_kv_val v;
	Dtx__V1__LogEvent *m;
	const char *why;
	void *msg = NULL;
	int rc;

	if (!r->log->has_quarantine)
		return DTX_OK;
	rc = dc_kv_get(r->txn, LOG_QUARANTINE, *k, &v);
	if (rc == DTX_ENOENT)
		return DTX_OK;
	if (rc != DTX_OK)
		return log_fail_kv(r->log, rc, "read quarantine");
	rc = rec_open(&v, LOG_REC_QUARANTINE, &msg, &why);
	if (rc == DTX_ENOMEM)
		return rc;
	bad->err = DTX_ECORRUPT;
	bad->quarantined = true;
	if (rc != DTX_OK) {
		snprintf(bad->why, sizeof(bad->why),
		         "its quarantine record fails its checks too: %s", why);
		return DTX_OK;
	}
	m = msg;
	bad->since_unix_ms = m->unix_ms;
	snprintf(bad->why, sizeof(bad->why), "%s",
	         m->detail != NULL && m->detail[0] ? m->detail : "no cause");
	wire_log_event_free(m);
	return DTX_OK;
}

/* load_checked is load_in that describes a bad transaction in *bad (see
 * dc_log_load_tx_checked). */
static int load_checked(log_reader *r, const dc_kv_val *k, dc_tx **ret_tx,
                        dc_log_bad *bad)
{
	int rc;

	bad_init(bad, k);
	rc = quarantine_get(r, k, bad);
	if (rc != DTX_OK)
		return rc;
	if (bad->quarantined)
		return log_fail(r->log, bad->err, "%s: %s is quarantined: %s",
		                r->log->path, bad->gid, bad->why);
	r->bad = bad;
	rc = load_in(r, k, ret_tx);
	r->bad = NULL;
	return rc;
}

/* gid_read_fn reads the transaction under key k with reader r. */
typedef int (*gid_read_fn)(log_reader *r, const dc_kv_val *k, dc_tx **ret_tx,
                           dc_log_bad *bad);

/* read_gid runs fn for gid in a read transaction of its own (the common
 * part of dc_log_load_tx_checked and dc_log_salvage_tx). */
static int read_gid(dc_log *log, const char *gid, gid_read_fn fn,
                    dc_tx **ret_tx, dc_log_bad *ret_bad)
{
	size_t glen = gid_len(gid);
	dc_kv_val k = {gid, glen};
	log_reader r;
	int rc;

	ret_bad->err = 0;
	if (glen == 0)
		return log_fail(log, DTX_EINVAL, "log: invalid gid");
	rc = reader_begin(log, &r);
	if (rc != DTX_OK)
		return rc;
	rc = fn(&r, &k, ret_tx, ret_bad);
	reader_end(&r);
	return rc;
}

int dc_log_load_tx_checked(dc_log *log, const char *gid, dc_tx **ret_tx,
                           dc_log_bad *ret_bad)
{
	return read_gid(log, gid, load_checked, ret_tx, ret_bad);
}

/* probe_table sets known[i] for each of the n keys that table t holds,
 * in one dc_kv_get_many (vals: room for n). */
static int probe_table(dc_log *log, dc_kv_txn *txn, enum log_table t,
                       const dc_kv_val *keys, size_t n, dc_kv_val *vals,
                       bool *known)
{
	int rc = dc_kv_get_many(txn, (int)t, keys, n, vals);

	if (rc != DTX_OK)
		return log_fail_kv(log, rc, "probe gids");
	for (size_t i = 0; i < n; i++)
		known[i] = known[i] || vals[i].data != NULL;
	return DTX_OK;
}

int dc_log_probe_gids(dc_log *log, const char *const *gids, size_t n,
                      bool *ret_known)
{
	dc_kv_val keys[DC_LOG_PROBE_MAX], vals[DC_LOG_PROBE_MAX];
	bool known[DC_LOG_PROBE_MAX] = {false};
	dc_kv_txn *txn;
	int rc;

	if (n == 0 || n > DC_LOG_PROBE_MAX)
		return log_fail(log, DTX_EINVAL, "log: probe of %zu gids", n);
	for (size_t i = 0; i < n; i++) {
		keys[i] = (dc_kv_val){gids[i], gid_len(gids[i])};
		if (keys[i].len == 0)
			return log_fail(log, DTX_EINVAL, "log: invalid gid");
	}
	if ((rc = read_begin(log, &txn)) != DTX_OK)
		return rc;
	rc = probe_table(log, txn, LOG_TXS, keys, n, vals, known);
	if (rc == DTX_OK && log->has_quarantine)
		rc = probe_table(log, txn, LOG_QUARANTINE, keys, n, vals,
		                 known);
	if (rc == DTX_OK && log->has_retention)
		rc = probe_table(log, txn, LOG_TOMBS, keys, n, vals, known);
	dc_kv_abort(txn);
	if (rc == DTX_OK)
		memcpy(ret_known, known, n * sizeof(*known));
	return rc;
}

/* salvage_steps reads every step of tx (nsteps zeroed steps) that
 * decodes, noting the first problem in r->bad. */
static int salvage_steps(log_reader *r, dc_tx *tx)
{
	uint8_t want[LOG_KEY_MAX];
	dc_kv_val w, k, v;
	int rc = DTX_OK;

	for (uint32_t i = 0; rc == DTX_OK && i < tx->nsteps; i++) {
		rc = find_step(r, tx, i, true, want, &w, &k, &v);
		if (rc == DTX_ENOENT)
			rc = reader_bad(r, DTX_ECORRUPT, LOG_STEPS, &w,
			                "step record missing");
		else if (rc == DTX_OK)
			rc = load_step(r, &k, &v, tx, i);
		if (rc != DTX_OK && rc != DTX_ENOMEM && r->bad->err != 0) {
			tx->steps[i].state = 0; /* shown as unknown */
			rc = DTX_OK;
		}
	}
	return rc;
}

/* salvage_fields fills tx (a stub holding only its printable gid) from
 * its tx record m, as far as it can be trusted. */
static int salvage_fields(log_reader *r, const dc_kv_val *k,
                          const Dtx__V1__LogTx *m, dc_tx *tx)
{
	const char *why = tx_rec_problem(k, m);

	if (why != NULL)
		reader_bad(r, DTX_ECORRUPT, LOG_TXS, k, why);
	if (tx_fill(tx, m) != DTX_OK)
		return DTX_ENOMEM;
	if (why != NULL) /* keep only what means the same on any record */
		tx->state = 0;
	tx->mode = m->mode == DTX__V1__MODE__MODE_SAGA ||
	                           m->mode == DTX__V1__MODE__MODE_TCC
	                   ? (dc_mode)m->mode
	                   : 0;
	if (why != NULL || m->nsteps == 0)
		return DTX_OK;
	if ((tx->steps = calloc(m->nsteps, sizeof(*tx->steps))) == NULL)
		return DTX_ENOMEM;
	tx->nsteps = m->nsteps;
	snprintf(tx->gid, sizeof(tx->gid), "%s", m->gid); /* == key */
	return salvage_steps(r, tx);
}

/* salvage_in reads what can be read of the transaction under key k. */
static int salvage_in(log_reader *r, const dc_kv_val *k, dc_tx **ret_tx)
{
	dc_kv_val v;
	void *msg = NULL;
	dc_tx *tx;
	int rc = dc_kv_get(r->txn, LOG_TXS, *k, &v);

	if (rc == DTX_ENOENT && !r->bad->quarantined)
		return log_fail_rec(r->log, DTX_ENOENT, LOG_TXS, k,
		                    "no such transaction");
	if (rc != DTX_OK && rc != DTX_ENOENT)
		return log_fail_kv(r->log, rc, "read txs");
	if ((tx = calloc(1, sizeof(*tx))) == NULL)
		return DTX_ENOMEM;
	snprintf(tx->gid, sizeof(tx->gid), "%s", r->bad->gid);
	tx->failed_step = -1;
	if (rc == DTX_ENOENT)
		rc = reader_bad(r, DTX_ECORRUPT, LOG_TXS, k, "no tx record");
	else
		rc = reader_open(r, LOG_TXS, k, &v, LOG_REC_TX, &msg);
	if (rc == DTX_OK) {
		rc = salvage_fields(r, k, msg, tx);
		wire_log_tx_free(msg);
	}
	if (rc == DTX_ENOMEM) {
		dc_tx_destroy(tx);
		return rc;
	}
	*ret_tx = tx;
	return DTX_OK;
}

/* salvage_checked is salvage_in with the quarantine's record of k. */
static int salvage_checked(log_reader *r, const dc_kv_val *k, dc_tx **ret_tx,
                           dc_log_bad *bad)
{
	int rc;

	bad_init(bad, k);
	rc = quarantine_get(r, k, bad);
	r->bad = bad;
	if (rc == DTX_OK)
		rc = salvage_in(r, k, ret_tx);
	r->bad = NULL;
	return rc;
}

int dc_log_salvage_tx(dc_log *log, const char *gid, dc_tx **ret_tx,
                      dc_log_bad *ret_bad)
{
	return read_gid(log, gid, salvage_checked, ret_tx, ret_bad);
}

/* ---- scans ---- */

typedef struct scan_fns {
	dc_log_tx_fn fn;
	dc_log_bad_fn bad; /* NULL: a strict scan, stopped by a bad record */
	void *arg;
} scan_fns;

/* scan_one loads the transaction under key k of a scanned table and hands
 * it to s->fn, or, for a checked scan, a bad one to s->bad. */
static int scan_one(log_reader *r, const dc_kv_val *k, const scan_fns *s)
{
	dc_log_bad bad;
	dc_tx *tx;
	int rc;

	if (s->bad == NULL) {
		rc = load_in(r, k, &tx);
		return rc == DTX_OK ? s->fn(s->arg, tx) : rc;
	}
	rc = load_checked(r, k, &tx, &bad);
	if (rc == DTX_OK)
		return s->fn(s->arg, tx);
	if (rc == DTX_ENOENT) /* only an active entry can lack its tx */
		reader_bad(&(log_reader){.log = r->log, .bad = &bad},
		           DTX_ECORRUPT, LOG_ACTIVE, k,
		           "active entry without a tx record");
	return bad.err != 0 ? s->bad(s->arg, &bad) : rc;
}

/* scan_first positions cur on the first key after `after` (NULL: the
 * first key) and returns the store's code (DTX_ENOENT: none). */
static int scan_first(dc_kv_cursor *cur, const char *after, dc_kv_val *k,
                      dc_kv_val *v)
{
	dc_kv_val a;
	int krc;

	if (after == NULL)
		return dc_kv_seek(cur, NULL, k, v);
	a = (dc_kv_val){after, strlen(after)};
	krc = dc_kv_seek(cur, &a, k, v);
	if (krc == DTX_OK && k->len == a.len &&
	    memcmp(k->data, after, k->len) == 0)
		krc = dc_kv_next(cur, k, v);
	return krc;
}

/* scan_cursor loads the gid under each key of cur after `after` (NULL:
 * from the first) and hands it on (scan_one). */
static int scan_cursor(log_reader *r, dc_kv_cursor *cur, const char *after,
                       const scan_fns *s)
{
	dc_kv_val k, v;
	int rc = DTX_OK, krc = scan_first(cur, after, &k, &v);

	while (rc == DTX_OK && krc == DTX_OK) {
		rc = scan_one(r, &k, s);
		if (rc == DTX_OK)
			krc = dc_kv_next(cur, &k, &v);
	}
	if (rc == DTX_OK && krc != DTX_ENOENT)
		rc = log_fail_kv(r->log, krc, "scan");
	return rc;
}

/* scan walks table t's keys in one read transaction, loading each as a
 * gid and handing it on. */
static int scan(dc_log *log, enum log_table t, const char *after,
                const scan_fns *s)
{
	dc_kv_cursor *cur;
	log_reader r;
	int rc = reader_begin(log, &r);

	if (rc != DTX_OK)
		return rc;
	rc = dc_kv_cursor_open(r.txn, t, &cur);
	if (rc != DTX_OK) {
		rc = log_fail_kv(log, rc, "open scan cursor");
		reader_end(&r);
		return rc;
	}
	rc = scan_cursor(&r, cur, after, s);
	dc_kv_cursor_close(cur);
	reader_end(&r);
	return rc;
}

int dc_log_scan_active(dc_log *log, dc_log_tx_fn fn, void *arg)
{
	return scan(log, LOG_ACTIVE, NULL, &(scan_fns){fn, NULL, arg});
}

int dc_log_scan_all(dc_log *log, dc_log_tx_fn fn, void *arg)
{
	return scan(log, LOG_TXS, NULL, &(scan_fns){fn, NULL, arg});
}

int dc_log_scan_after(dc_log *log, bool all, const char *after, dc_log_tx_fn fn,
                      void *arg)
{
	return scan(log, all ? LOG_TXS : LOG_ACTIVE, after,
	            &(scan_fns){fn, NULL, arg});
}

int dc_log_scan_checked(dc_log *log, bool all, const char *after,
                        dc_log_tx_fn fn, dc_log_bad_fn bad, void *arg)
{
	return scan(log, all ? LOG_TXS : LOG_ACTIVE, after,
	            &(scan_fns){fn, bad, arg});
}

/* event_from_rec fills ev (and ed, which ev->edit then points at, if m
 * is a set-branch) borrowing m's strings. */
static void event_from_rec(const Dtx__V1__LogEvent *m, dc_log_event *ev,
                           dc_log_edit *ed)
{
	const Dtx__V1__BranchEdit *x = m->edit;

	ev->unix_ms = m->unix_ms;
	ev->tx_state = (dc_tx_state)m->tx_state;
	ev->step = m->has_step ? m->step : -1;
	ev->step_state = (dc_step_state)m->step_state;
	ev->detail = m->detail;
	ev->edit = NULL;
	if (x == NULL)
		return;
	*ed = (dc_log_edit){.old_url = x->old_url,
	                    .url = x->url,
	                    .op = x->has_op ? (dtx_op)x->op : (dtx_op)0,
	                    .old_handler = x->old_handler,
	                    .handler = x->handler};
	ev->edit = ed;
}

/* emit_event decodes the event at k/v and hands it to fn. */
static int emit_event(dc_log *log, const dc_kv_val *k, const dc_kv_val *v,
                      dc_log_event_fn fn, void *arg)
{
	const uint8_t *p = k->data;
	Dtx__V1__LogEvent *m;
	dc_log_event ev;
	dc_log_edit ed;
	void *msg = NULL;
	int rc = rec_decode(log, LOG_EVENTS, k, v, LOG_REC_EVENT, &msg);

	if (rc != DTX_OK)
		return rc;
	if ((m = msg) == NULL) /* never: a decoded record has a message */
		return DTX_ECORRUPT;
	event_from_rec(m, &ev, &ed);
	rc = fn(arg, get_be32(p + k->len - 4), &ev);
	wire_log_event_free(m);
	return rc;
}

static int read_events_in(dc_log *log, dc_kv_cursor *cur, const char *gid,
                          size_t glen, dc_log_event_fn fn, void *arg)
{
	uint8_t start[LOG_KEY_MAX];
	dc_kv_val w = {start, key_seq(start, gid, glen, 0)}, k, v;
	int rc = dc_kv_seek(cur, &w, &k, &v);

	while (rc == DTX_OK) {
		if (k.len != glen + 5 || memcmp(k.data, start, glen + 1))
			return DTX_OK;
		rc = emit_event(log, &k, &v, fn, arg);
		if (rc != DTX_OK)
			return rc;
		rc = dc_kv_next(cur, &k, &v);
	}
	if (rc != DTX_ENOENT)
		return log_fail_kv(log, rc, "read events");
	return DTX_OK;
}

int dc_log_read_events(dc_log *log, const char *gid, dc_log_event_fn fn,
                       void *arg)
{
	size_t glen = gid_len(gid);
	dc_kv_cursor *cur;
	dc_kv_txn *txn;
	int rc;

	if (glen == 0)
		return log_fail(log, DTX_EINVAL, "log: invalid gid");
	rc = read_begin(log, &txn);
	if (rc != DTX_OK)
		return rc;
	rc = dc_kv_cursor_open(txn, LOG_EVENTS, &cur);
	if (rc != DTX_OK) {
		rc = log_fail_kv(log, rc, "open cursor on events");
		dc_kv_abort(txn);
		return rc;
	}
	rc = read_events_in(log, cur, gid, glen, fn, arg);
	dc_kv_cursor_close(cur);
	dc_kv_abort(txn);
	return rc;
}

/* floor_read reads the id floor under meta key k (0 if none) in a read
 * transaction of its own; what names the read in an error. */
static int floor_read(dc_log *log, dc_kv_val k, const char *what,
                      uint64_t *ret_id)
{
	dc_kv_val v;
	dc_kv_txn *txn;
	int krc, rc = read_begin(log, &txn);

	if (rc != DTX_OK)
		return rc;
	krc = dc_kv_get(txn, LOG_META, k, &v);
	if (krc == DTX_ENOENT)
		*ret_id = 0;
	else if (krc != DTX_OK)
		rc = log_fail_kv(log, krc, what);
	else if (v.len != 8)
		rc = log_fail_rec(log, DTX_ECORRUPT, LOG_META, &k,
		                  "gid floor is not 8 bytes");
	else
		*ret_id = get_le(v.data, 8);
	dc_kv_abort(txn);
	return rc;
}

int dc_log_gid_floor(dc_log *log, uint64_t *ret_id)
{
	return floor_read(log, key_str(KEY_GID_FLOOR), "read gid floor",
	                  ret_id);
}

/* ---- check ---- */

/* check_meta verifies the width of the fixed-size meta values. */
static int check_meta(dc_log *log, const dc_kv_val *k, const dc_kv_val *v)
{
	dc_kv_val fmt = key_str(KEY_FORMAT), floor = key_str(KEY_GID_FLOOR);
	dc_kv_val counts = key_str(KEY_COUNTS), shards = key_str(KEY_SHARDS);

	if ((key_equal(k, &fmt) && v->len != 4) ||
	    (key_equal(k, &shards) && v->len != 4) ||
	    (key_equal(k, &floor) && v->len != 8) ||
	    (key_equal(k, &counts) && v->len != 8 * LOG_COUNTS_N))
		return log_fail_rec(log, DTX_ECORRUPT, LOG_META, k,
		                    "meta value has the wrong size");
	return DTX_OK;
}

/* check_one verifies one value of table t; returns DTX_OK, a reason for a
 * bad record in dc_log_last_error (DTX_ECORRUPT / DTX_EVERSION), or
 * DTX_ENOMEM. */
static int check_one(dc_log *log, enum log_table t, const dc_kv_val *k,
                     const dc_kv_val *v)
{
	static const enum log_rec types[LOG_TABLE_COUNT] = {
	        [LOG_TXS] = LOG_REC_TX,
	        [LOG_STEPS] = LOG_REC_STEP,
	        [LOG_EVENTS] = LOG_REC_EVENT,
	        [LOG_QUARANTINE] = LOG_REC_QUARANTINE,
	        [LOG_TOMBS] = LOG_REC_TOMB,
	};
	void *msg = NULL;
	int rc;

	if (t == LOG_ACTIVE &&
	    (v->len != 0 || k->len == 0 || k->len > DTX_GID_MAX))
		return log_fail_rec(log, DTX_ECORRUPT, t, k,
		                    "bad active entry");
	if (t == LOG_QUARANTINE && k->len == 0)
		return log_fail_rec(log, DTX_ECORRUPT, t, k, "empty key");
	if ((t == LOG_FINALS || t == LOG_TOMB_TIMES) &&
	    (v->len != 0 || k->len <= 8 || k->len > LOG_TIME_KEY_MAX))
		return log_fail_rec(log, DTX_ECORRUPT, t, k, "bad time entry");
	if (t == LOG_META)
		return check_meta(log, k, v);
	if (t == LOG_LEASES || t == LOG_BEATS)
		return check_lease_rec(log, t, k, v);
	if (t == LOG_ACTIVE || t == LOG_FINALS || t == LOG_TOMB_TIMES)
		return DTX_OK;
	if (t == LOG_STEPS || t == LOG_EVENTS) {
		if (k->len < 6 || ((const uint8_t *)k->data)[k->len - 5])
			return log_fail_rec(log, DTX_ECORRUPT, t, k, "bad key");
	}
	rc = rec_decode(log, t, k, v, types[t], &msg);
	if (rc == DTX_OK)
		rec_free(types[t], msg);
	return rc;
}

typedef struct check_count {
	uint64_t records;
	uint64_t bad;
	char *errbuf;
	size_t errlen;
} check_count;

static int check_table(dc_log *log, dc_kv_txn *txn, enum log_table t,
                       check_count *c)
{
	dc_kv_cursor *cur;
	dc_kv_val k, v;
	int rc = dc_kv_cursor_open(txn, t, &cur);

	if (rc != DTX_OK)
		return log_fail_kv(log, rc, "open check cursor");
	for (rc = dc_kv_seek(cur, NULL, &k, &v); rc == DTX_OK;
	     rc = dc_kv_next(cur, &k, &v)) {
		int bad = check_one(log, t, &k, &v);

		c->records++;
		if (bad == DTX_ENOMEM) {
			dc_kv_cursor_close(cur);
			return DTX_ENOMEM;
		}
		if (bad != DTX_OK && c->bad++ == 0)
			copy_err(c->errbuf, c->errlen, log_err);
	}
	dc_kv_cursor_close(cur);
	if (rc != DTX_ENOENT)
		return log_fail_kv(log, rc, "check");
	return DTX_OK;
}

int dc_log_check(dc_log *log, uint64_t *ret_records, uint64_t *ret_bad,
                 char *errbuf, size_t errlen)
{
	check_count c = {0, 0, errbuf, errlen};
	dc_kv_txn *txn;
	int rc = read_begin(log, &txn);

	if (rc != DTX_OK)
		return rc;
	copy_err(errbuf, errlen, "");
	for (int t = 0; rc == DTX_OK && t < LOG_TABLE_COUNT; t++) {
		bool has = t == LOG_QUARANTINE ? log->has_quarantine
		           : t >= LOG_LEASES   ? log->has_leases
		           : t >= LOG_FINALS   ? log->has_retention
		                               : true;
		if (has)
			rc = check_table(log, txn, (enum log_table)t, &c);
	}
	dc_kv_abort(txn);
	if (rc != DTX_OK)
		return rc;
	*ret_records = c.records;
	*ret_bad = c.bad;
	return DTX_OK;
}

/* ---- counts and room ---- */

int dc_log_counts_read(dc_log *log, dc_log_counts *ret_counts)
{
	dc_kv_txn *txn;
	int rc = read_begin(log, &txn);

	if (rc != DTX_OK)
		return rc;
	rc = counts_get(log, txn, ret_counts);
	dc_kv_abort(txn);
	return rc;
}

int dc_log_usage_read(dc_log *log, dc_log_usage *ret_usage)
{
	dc_kv_usage u;
	int rc = dc_kv_usage_read(log->kv, &u);

	if (rc != DTX_OK)
		return log_fail_kv(log, rc, NULL);
	ret_usage->used_bytes = u.used_bytes;
	ret_usage->file_bytes = u.file_bytes;
	ret_usage->max_bytes = u.max_bytes;
	return DTX_OK;
}

/* ---- shard leases ---- */

/* name_ok: n bytes of [A-Za-z0-9._-], 1..DC_LOG_NAME_MAX (lease.h's
 * rule for an instance name). */
static bool name_ok(const char *p, size_t n)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyz"
	                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";

	if (n == 0 || n > DC_LOG_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] == '\0' || strchr(ok, p[i]) == NULL)
			return false;
	return true;
}

/* url_ok: 0..DC_LOG_URL_MAX bytes of printable ASCII without spaces. */
static bool url_ok(const char *p, size_t n)
{
	if (n > DC_LOG_URL_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f)
			return false;
	return true;
}

/* lease_encode frames l into buf (LEASE_VAL_MAX bytes): its only
 * encoding (a compare and swap compares bytes). */
static dc_kv_val lease_encode(const dc_log_lease *l, uint8_t *buf)
{
	size_t n = strnlen(l->owner, DC_LOG_NAME_MAX);

	put_le(buf + LOG_FRAME_HDR, l->epoch, 8);
	buf[LOG_FRAME_HDR + 8] = (uint8_t)n;
	memcpy(buf + LOG_FRAME_HDR + 9, l->owner, n);
	frame_seal(buf, LOG_REC_LEASE, 9 + n);
	return (dc_kv_val){buf, LOG_FRAME_HDR + 9 + n};
}

static int lease_decode(dc_log *log, const dc_kv_val *k, const dc_kv_val *v,
                        dc_log_lease *ret)
{
	const uint8_t *p = NULL;
	const char *why = NULL;
	size_t n = 0;
	int rc = frame_open(v, LOG_REC_LEASE, &p, &n, &why);

	if (rc == DTX_OK &&
	    (k->len != 4 || n < 9 || n != 9 + (size_t)p[8] ||
	     (p[8] > 0 && !name_ok((const char *)p + 9, p[8])))) {
		rc = DTX_ECORRUPT;
		why = "not a lease record (key, length or owner name)";
	}
	if (rc != DTX_OK)
		return log_fail_rec(log, rc, LOG_LEASES, k, why);
	ret->epoch = get_le(p, 8);
	memcpy(ret->owner, p + 9, p[8]);
	ret->owner[p[8]] = '\0';
	return DTX_OK;
}

/* beat_encode frames b (its name is the key) into buf (BEAT_VAL_MAX). */
static dc_kv_val beat_encode(const dc_log_beat *b, uint8_t *buf)
{
	size_t cl = strnlen(b->client_url, DC_LOG_URL_MAX);
	size_t al = strnlen(b->admin_url, DC_LOG_URL_MAX);
	size_t n = 12 + cl + al;
	uint8_t *p = buf + LOG_FRAME_HDR;

	put_le(p, b->beat, 8);
	put_le(p + 8, cl, 2);
	memcpy(p + 10, b->client_url, cl);
	put_le(p + 10 + cl, al, 2);
	memcpy(p + 12 + cl, b->admin_url, al);
	if (b->unix_ms > 0) {
		put_le(p + n, (uint64_t)b->unix_ms, 8);
		n += 8;
	}
	frame_seal(buf, LOG_REC_BEAT, n);
	return (dc_kv_val){buf, LOG_FRAME_HDR + n};
}

/* beat_fields checks the payload p (n bytes) of a beat record and finds
 * its URLs: *ret_cl bytes at p + 10, *ret_al bytes after their length. */
static bool beat_fields(const uint8_t *p, size_t n, size_t *ret_cl,
                        size_t *ret_al)
{
	size_t cl, al;

	if (n < 12)
		return false;
	cl = get_le(p + 8, 2);
	if (cl > DC_LOG_URL_MAX || n < 12 + cl)
		return false;
	al = get_le(p + 10 + cl, 2);
	if (al > DC_LOG_URL_MAX ||
	    (n != 12 + cl + al &&
	     (n != 20 + cl + al || get_le(p + 12 + cl + al, 8) == 0 ||
	      get_le(p + 12 + cl + al, 8) > INT64_MAX)) ||
	    !url_ok((const char *)p + 10, cl) ||
	    !url_ok((const char *)p + 12 + cl, al))
		return false;
	*ret_cl = cl;
	*ret_al = al;
	return true;
}

static int beat_decode(dc_log *log, const dc_kv_val *k, const dc_kv_val *v,
                       dc_log_beat *ret)
{
	const uint8_t *p = NULL;
	const char *why = NULL;
	size_t n = 0, cl = 0, al = 0;
	int rc = frame_open(v, LOG_REC_BEAT, &p, &n, &why);

	if (rc == DTX_OK &&
	    (!name_ok(k->data, k->len) || !beat_fields(p, n, &cl, &al))) {
		rc = DTX_ECORRUPT;
		why = "not a beat record (name, length or URLs)";
	}
	if (rc != DTX_OK)
		return log_fail_rec(log, rc, LOG_BEATS, k, why);
	memcpy(ret->name, k->data, k->len);
	ret->name[k->len] = '\0';
	ret->beat = get_le(p, 8);
	memcpy(ret->client_url, p + 10, cl);
	ret->client_url[cl] = '\0';
	memcpy(ret->admin_url, p + 12 + cl, al);
	ret->admin_url[al] = '\0';
	ret->unix_ms =
	        n > 12 + cl + al ? (int64_t)get_le(p + 12 + cl + al, 8) : 0;
	return DTX_OK;
}

static int check_lease_rec(dc_log *log, enum log_table t, const dc_kv_val *k,
                           const dc_kv_val *v)
{
	dc_log_lease l;
	dc_log_beat b;

	return t == LOG_LEASES ? lease_decode(log, k, v, &l)
	                       : beat_decode(log, k, v, &b);
}

/* meta_shards reads meta "shards" in txn (0: none). */
static int meta_shards(dc_log *log, dc_kv_txn *txn, uint32_t *ret_shards)
{
	dc_kv_val k = key_str(KEY_SHARDS), v;
	int rc = dc_kv_get(txn, LOG_META, k, &v);

	if (rc == DTX_ENOENT) {
		*ret_shards = 0;
		return DTX_OK;
	}
	if (rc != DTX_OK)
		return log_fail_kv(log, rc, "read meta shards");
	if (v.len != 4 || get_le(v.data, 4) == 0 ||
	    get_le(v.data, 4) > DC_LOG_SHARDS_MAX)
		return log_fail_rec(log, DTX_ECORRUPT, LOG_META, &k,
		                    "shards is not 1..1024 in 4 bytes");
	*ret_shards = (uint32_t)get_le(v.data, 4);
	return DTX_OK;
}

/* shards_record writes meta "shards" (expected absent: of two shared
 * writers making the store at once, one commit conflicts) and a free
 * lease for every shard (what the first take compares with). */
static int shards_record(dc_log *log, dc_kv_txn *txn)
{
	static const dc_log_lease free_lease = {"", 0};
	uint8_t buf[4], key[4], val[LEASE_VAL_MAX];
	dc_kv_val k = key_str(KEY_SHARDS), v = {buf, 4};
	int rc = dc_kv_expect(txn, LOG_META, k, (dc_kv_val){NULL, 0});

	put_le(buf, log->shards, 4);
	if (rc == DTX_OK)
		rc = dc_kv_put(txn, LOG_META, k, v);
	for (uint32_t s = 0; rc == DTX_OK && s < log->shards; s++) {
		put_be32(key, s);
		rc = dc_kv_put(txn, LOG_LEASES, (dc_kv_val){key, 4},
		               lease_encode(&free_lease, val));
	}
	return rc == DTX_OK ? DTX_OK : log_fail_kv(log, rc, "record shards");
}

/* shards_init, in the writer's open transaction: record the store's shard
 * count, or check it; a store of shared writers keeps no counts (a
 * leftover of a sole writer is dropped: a sole writer that opens it later
 * counts again with one scan). */
static int shards_init(dc_log *log, dc_kv_txn *txn)
{
	uint32_t have = 0;
	int rc;

	if (log->shards == 0)
		return DTX_OK;
	if (log->shared &&
	    (rc = dc_kv_del(txn, LOG_META, key_str(KEY_COUNTS))) != DTX_OK)
		return log_fail_kv(log, rc, "drop meta counts");
	rc = meta_shards(log, txn, &have);
	if (rc != DTX_OK)
		return rc;
	if (have == 0)
		return shards_record(log, txn);
	if (have != log->shards) /* DTX_ECONFLICT: a flag, not the store */
		return log_fail(log, DTX_ECONFLICT,
		                "%s: the store was made with %u shards; this "
		                "instance has --shards %u",
		                log->path, have, log->shards);
	return DTX_OK;
}

int dc_log_shards(dc_log *log, uint32_t *ret_shards)
{
	dc_kv_txn *txn;
	int rc = read_begin(log, &txn);

	if (rc != DTX_OK)
		return rc;
	rc = meta_shards(log, txn, ret_shards);
	dc_kv_abort(txn);
	return rc;
}

/* read_leases fills leases[0..n-1]: free where a record is missing. */
static int read_leases(dc_log *log, dc_kv_txn *txn, dc_log_lease *leases,
                       uint32_t n)
{
	uint8_t key[4];
	dc_kv_val k = {key, 4}, v;

	for (uint32_t s = 0; s < n; s++) {
		int rc;

		put_be32(key, s);
		rc = dc_kv_get(txn, LOG_LEASES, k, &v);
		leases[s] = (dc_log_lease){"", 0};
		if (rc == DTX_OK)
			rc = lease_decode(log, &k, &v, &leases[s]);
		else if (rc != DTX_ENOENT)
			return log_fail_kv(log, rc, "read leases");
		if (rc != DTX_OK && rc != DTX_ENOENT)
			return rc;
	}
	return DTX_OK;
}

/* read_beats fills beats with every heartbeat record, in name order. */
static int read_beats(dc_log *log, dc_kv_txn *txn, dc_log_beat *beats,
                      uint32_t max, uint32_t *ret_n)
{
	dc_kv_cursor *cur;
	dc_kv_val k, v;
	uint32_t n = 0;
	int rc = dc_kv_cursor_open(txn, LOG_BEATS, &cur);

	if (rc != DTX_OK)
		return log_fail_kv(log, rc, "open cursor on beats");
	for (rc = dc_kv_seek(cur, NULL, &k, &v); rc == DTX_OK;
	     rc = dc_kv_next(cur, &k, &v)) {
		if (n == max) {
			rc = log_fail(log, DTX_ELIMIT,
			              "%s: more than %u instances have a "
			              "heartbeat",
			              log->path, max);
			break;
		}
		if ((rc = beat_decode(log, &k, &v, &beats[n++])) != DTX_OK)
			break;
	}
	dc_kv_cursor_close(cur);
	if (rc == DTX_ENOENT) {
		*ret_n = n;
		return DTX_OK;
	}
	return rc == DTX_EIO ? log_fail_kv(log, rc, "read beats") : rc;
}

int dc_log_leases_read(dc_log *log, dc_log_lease *ret_leases, uint32_t nshards,
                       dc_log_beat *ret_beats, uint32_t max_beats,
                       uint32_t *ret_nbeats)
{
	dc_kv_txn *txn;
	int rc;

	if (nshards == 0 || nshards > DC_LOG_SHARDS_MAX)
		return log_fail(log, DTX_EINVAL, "%s: %u shards", log->path,
		                nshards);
	if ((rc = read_begin(log, &txn)) != DTX_OK)
		return rc;
	rc = read_leases(log, txn, ret_leases, nshards);
	if (rc == DTX_OK)
		rc = read_beats(log, txn, ret_beats, max_beats, ret_nbeats);
	dc_kv_abort(txn);
	return rc;
}

static bool lease_ok(const dc_log_lease *l)
{
	size_t n = strnlen(l->owner, DC_LOG_NAME_MAX + 1);

	return n == 0 || name_ok(l->owner, n);
}

static bool beat_ok(const dc_log_beat *b)
{
	return name_ok(b->name, strnlen(b->name, DC_LOG_NAME_MAX + 1)) &&
	       url_ok(b->client_url,
	              strnlen(b->client_url, DC_LOG_URL_MAX + 1)) &&
	       url_ok(b->admin_url,
	              strnlen(b->admin_url, DC_LOG_URL_MAX + 1)) &&
	       b->unix_ms >= 0;
}

/* round_cas expects c->old on its lease and, if it changes, writes neu. */
static int round_cas(dc_kv_txn *txn, const dc_log_lease_cas *c)
{
	uint8_t key[4], old[LEASE_VAL_MAX], neu[LEASE_VAL_MAX];
	dc_kv_val k = {key, 4}, ov = lease_encode(&c->old, old);
	dc_kv_val nv = lease_encode(&c->neu, neu);
	int rc;

	put_be32(key, c->shard);
	rc = dc_kv_expect(txn, LOG_LEASES, k, ov);
	if (rc == DTX_OK && (ov.len != nv.len || memcmp(old, neu, ov.len)))
		rc = dc_kv_put(txn, LOG_LEASES, k, nv);
	return rc;
}

/* round_beat expects old (NULL: absent) on neu's name and writes neu. */
static int round_beat(dc_kv_txn *txn, const dc_log_beat *old,
                      const dc_log_beat *neu)
{
	uint8_t ob[BEAT_VAL_MAX], nb[BEAT_VAL_MAX];
	dc_kv_val k = key_str(neu->name), ov = {NULL, 0};
	int rc;

	if (old != NULL)
		ov = beat_encode(old, ob);
	rc = dc_kv_expect(txn, LOG_BEATS, k, ov);
	return rc == DTX_OK ? dc_kv_put(txn, LOG_BEATS, k, beat_encode(neu, nb))
	                    : rc;
}

/* round_check refuses what the store should never hold. */
static int round_check(dc_log *log, const dc_log_lease_cas *cas, uint32_t n,
                       const dc_log_beat *old_beat, const dc_log_beat *neu)
{
	if (log->read_only || !log->has_leases)
		return log_fail(log, DTX_EINVAL, "%s: no lease tables to write",
		                log->path);
	if (neu == NULL || !beat_ok(neu) || (old_beat && !beat_ok(old_beat)) ||
	    (old_beat && strcmp(old_beat->name, neu->name) != 0))
		return log_fail(log, DTX_EINVAL, "%s: a bad heartbeat record",
		                log->path);
	for (uint32_t i = 0; i < n; i++)
		if (cas[i].shard >= DC_LOG_SHARDS_MAX ||
		    !lease_ok(&cas[i].old) || !lease_ok(&cas[i].neu))
			return log_fail(log, DTX_EINVAL,
			                "%s: a bad lease record (shard %u)",
			                log->path, cas[i].shard);
	return DTX_OK;
}

/* cas_by_shard orders a round's compare-and-swaps by shard: their keys'
 * order (see fences_apply). */
static int cas_by_shard(const void *a, const void *b)
{
	const dc_log_lease_cas *x = *(const dc_log_lease_cas *const *)a;
	const dc_log_lease_cas *y = *(const dc_log_lease_cas *const *)b;

	return (x->shard > y->shard) - (x->shard < y->shard);
}

/*
 * dc_log_round_commit: one write transaction, every write conditional,
 * its lease rows locked in the order of their shards (fences_apply says
 * why).
 * If we crash before the commit returned, nothing of the round holds: the
 * leases it would have taken stay free (or the dead owner's) and are
 * taken by the next round of whoever is alive; a lease it would have
 * released stays this instance's and expires with its heartbeat.
 */
int dc_log_round_commit(dc_log *log, const dc_log_lease_cas *cas, uint32_t ncas,
                        const dc_log_beat *old_beat,
                        const dc_log_beat *new_beat)
{
	const dc_log_lease_cas **by = NULL;
	dc_kv_txn *txn;
	int rc = round_check(log, cas, ncas, old_beat, new_beat);

	if (rc != DTX_OK)
		return rc;
	if (ncas > 0 && (by = calloc(ncas, sizeof(*by))) == NULL)
		return log_fail(log, DTX_ENOMEM, "%s: out of memory",
		                log->path);
	for (uint32_t i = 0; i < ncas; i++)
		by[i] = &cas[i];
	if (ncas > 0)
		qsort(by, ncas, sizeof(*by), cas_by_shard);
	if ((rc = dc_kv_begin(log->kv, true, &txn)) != DTX_OK) {
		free(by);
		return log_fail_kv(log, rc, "begin lease round");
	}
	for (uint32_t i = 0; rc == DTX_OK && i < ncas; i++)
		rc = round_cas(txn, by[i]);
	free(by);
	if (rc == DTX_OK)
		rc = round_beat(txn, old_beat, new_beat);
	if (rc != DTX_OK) {
		dc_kv_abort(txn);
		return log_fail_kv(log, rc, "lease round");
	}
	rc = dc_kv_commit(txn);
	return rc == DTX_OK ? DTX_OK
	                    : log_fail_kv(log, rc, "commit lease round");
}

int dc_log_batch_fence(dc_log_batch *batch, uint32_t shard, const char *owner,
                       uint64_t epoch)
{
	dc_log_lease l = {"", epoch};
	uint8_t key[4], *v, val[LEASE_VAL_MAX];
	dc_kv_val ev;
	size_t n = owner ? strnlen(owner, DC_LOG_NAME_MAX + 1) : 0;
	int rc;

	if (shard >= DC_LOG_SHARDS_MAX || !name_ok(owner, n))
		return DTX_EINVAL;
	if (batch->fenced[shard / 8] & (1u << (shard % 8)))
		return DTX_OK;
	memcpy(l.owner, owner, n + 1);
	ev = lease_encode(&l, val);
	put_be32(key, shard);
	rc = batch_add(batch, LOG_LEASES, key, 4, ev.len, &v);
	if (rc != DTX_OK)
		return rc;
	memcpy(v, val, ev.len);
	batch->writes[batch->len - 1].expect = true;
	batch->fenced[shard / 8] |= (uint8_t)(1u << (shard % 8));
	return DTX_OK;
}

/* shard_floor_key writes meta's key of shard's gid floor. */
static dc_kv_val shard_floor_key(uint8_t *buf, uint32_t shard)
{
	size_t n = strlen(KEY_GID_FLOOR);

	memcpy(buf, KEY_GID_FLOOR, n);
	put_be32(buf + n, shard);
	return (dc_kv_val){buf, n + 4};
}

int dc_log_batch_set_shard_gid_floor(dc_log_batch *batch, uint32_t shard,
                                     uint64_t id)
{
	uint8_t kb[sizeof(KEY_GID_FLOOR) + 4], *v;
	dc_kv_val k = shard_floor_key(kb, shard);
	int rc;

	if (shard >= DC_LOG_SHARDS_MAX)
		return DTX_EINVAL;
	rc = batch_add(batch, LOG_META, k.data, k.len, 8, &v);
	if (rc == DTX_OK)
		put_le(v, id, 8);
	return rc;
}

int dc_log_shard_gid_floor(dc_log *log, uint32_t shard, uint64_t *ret_id)
{
	uint8_t kb[sizeof(KEY_GID_FLOOR) + 4];

	if (shard >= DC_LOG_SHARDS_MAX)
		return log_fail(log, DTX_EINVAL, "%s: shard %u", log->path,
		                shard);
	return floor_read(log, shard_floor_key(kb, shard),
	                  "read a shard's gid floor", ret_id);
}
