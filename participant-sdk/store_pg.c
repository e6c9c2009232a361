/*
 * store_pg.c - the PostgreSQL backend of dtx_store (barrier_store.h), in
 * libdtx-pg: the barrier's rows and the key-value tables in the service's
 * own database, so a handler's SQL and the record of its call commit in
 * one transaction (dtx_pg.h documents the guarantees and the schema).
 *
 * Owns: the connections (a pool of the store's groups plus POOL_SPARE,
 * opened lazily, dropped after any failure and reopened by the next user),
 * the schema and its check, the SQL of every operation, the group's cache
 * of barrier rows, its deferred counter changes (kv_add), and the
 * translation of libpq's results into dtx_err
 * (pg_fail: nothing else reads a SQLSTATE). Never: decides anything about
 * a call (barrier.c does), answers before COMMIT returned COMMIT, gives
 * durability away (synchronous_commit = on), or prints (diagnostics go to
 * sdk_logf).
 *
 * Transactions: a top-level transaction takes a connection from the pool;
 * a nested one is SAVEPOINT dtx_<depth> on the same connection; committing
 * it is RELEASE, aborting it ROLLBACK TO + RELEASE (which also leaves an
 * SQL error inside it behind). A savepoint whose transaction is aborted
 * when it should be released (a handler answered OK after its SQL failed)
 * is rolled back and the commit fails. The top-level COMMIT succeeds only
 * if its command tag says COMMIT (an aborted transaction's COMMIT says
 * ROLLBACK). A connection that is bad, or not idle when its transaction
 * ended, is closed.
 *
 * Round trips (each costs two context switches; on a loaded machine that
 * is milliseconds, and a group of calls pays them one after the other):
 *   - BEGIN, SAVEPOINT and RELEASE are not sent when asked for: they wait
 *     in the slot's queue and go in one libpq pipeline with the next
 *     statement that needs them (the transaction's first statement, a
 *     handler's SQL: dtx_txn_pg flushes them). A savepoint inside which no
 *     SQL ran is never sent at all. A ROLLBACK TO is sent at once (rare:
 *     a refusal that ran SQL), so the transaction status a later RELEASE
 *     checks is the server's;
 *   - lock_gids sends BEGIN, the advisory locks of the group's gids and
 *     one SELECT of every barrier row of those gids in one pipeline (the
 *     SELECT runs after the locks are held: in READ COMMITTED each
 *     statement takes its snapshot when it starts, so it sees every row a
 *     group that held a gid before committed); rec_get of those gids then
 *     reads the slot's cache;
 *   - rec_put of those gids writes the cache (a nested transaction's
 *     rows are dropped with it); kv_add in a group (txn->defer_adds)
 *     keeps its change in the slot likewise; the top-level commit sends
 *     the queue, one statement of the counters' sums (checked: a sum that
 *     does not fit fails it, and sets txn->short_sum), one INSERT of
 *     every row written and COMMIT in one pipeline. The
 *     INSERT fails (so the transaction aborts and COMMIT answers ROLLBACK)
 *     if a row it writes exists with another status: only someone not
 *     taking the gid's lock could have written it.
 * So a group costs two round trips plus its handlers' statements (each
 * carrying the savepoints queued before it).
 *
 * If we crash (or the connection drops) before COMMIT returned, the
 * server rolls the transaction back or has committed it; either way the
 * caller answered RETRY and a resend finds the row or runs afresh.
 *
 * Values travel in binary (bytea, text bytes, big-endian integers); every
 * statement has its parameters bound, none is built from input (the
 * INSERT's text is built from row counts only).
 *
 * Threads: a transaction and its connection belong to the thread that
 * began it; the pool's mutex guards the slots' busy flags. Several
 * threads serve groups at once, each on its own connection; the advisory
 * locks keep the calls of one gid in order (dtx_pg.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "dtx/dtx_pg.h"
#include "sdk.h"

#define GROUPS_MAX     64    /* dtx_store_opts.groups */
#define POOL_SPARE     2     /* connections beyond the groups': GC, the app */
#define POOL_WAIT_MS   30000 /* a thread waits this long for a connection */
#define LOCK_KEY       "1685353560" /* advisory locks: (LOCK_KEY, hash) */
#define SCHEMA_VERSION 2            /* 2: dtx_barrier.keep_until */
#define KEY_MAX        511     /* as LMDB's, so a service behaves the same */
#define GIDS_LIMIT     "65537" /* one GC walk's rows, past its largest */
#define SCAN_PAGE      "128"   /* rows of one dtx_txn_scan statement */
#define SCAN_PAGE_ROWS 128
#define QUEUE_MAX      16    /* statements waiting for the next round trip */
#define CTL_SQL_MAX    40    /* "ROLLBACK TO SAVEPOINT dtx_<depth>" */
#define ROW_PARAMS     8     /* bound values of one barrier row */
#define ROWS_READ_MAX  65536 /* barrier rows one group reads */
#define OID_BYTEA      17
#define OID_INT2       21
#define OID_INT4       23
#define OID_INT8       20
#define OID_TEXT       25
#define ADDS_MAX       1024 /* deferred counter changes of one group */
/* a change deferred is smaller than this in magnitude, so ADDS_MAX of
 * them sum within int64; a larger one is applied at once */
#define ADD_DEFER_MAX ((int64_t)1 << 52)

/* pg_row - one barrier row in a group's cache: read by lock_gids (its
 * pointers into the slot's `pre` result), or written by rec_put (owned
 * copies, sent by the top-level commit). */
typedef struct pg_row {
	int32_t hash; /* gid_hash(gid) */
	const char *gid;
	uint32_t branch;
	dtx_op op;
	sdk_rec rec;
	unsigned depth; /* written inside the transaction of this depth */
	bool bad;       /* read, and not a row the SDK could have written */
	/* written rows' bound values, as text */
	char b[12], o[8], st[8], fl[8], ku[24];
} pg_row;

/* pg_add - one deferred dtx_txn_add_i64 of a group (see commit_send). */
typedef struct pg_add {
	unsigned t;     /* the table's index */
	unsigned depth; /* made inside the transaction of this depth */
	size_t klen;
	int64_t delta, floor;
	uint8_t key[KEY_MAX];
} pg_add;

/* pg_slot - one connection of the pool and the state of the transaction
 * running on it (reset when it ends). */
typedef struct pg_slot {
	struct pg_store *ps; /* borrowed: the owner */
	PGconn *conn;        /* owned; NULL: connect on next use */
	bool busy;           /* guarded by ps->mu */
	bool broken;         /* a pipeline went wrong: close it when given */
	bool sent;           /* BEGIN has gone to the server */
	unsigned sp_made;    /* savepoints dtx_1..sp_made exist there */
	char queue[QUEUE_MAX][CTL_SQL_MAX]; /* BEGIN/SAVEPOINT/RELEASE */
	unsigned nqueue;
	int32_t locked[SDK_GROUP_MAX];  /* hashes of the gids lock_gids read */
	char (*lgids)[DTX_GID_MAX + 1]; /* owned: those gids */
	size_t nlocked;
	PGresult *pre; /* owned: the rows lock_gids read */
	pg_row *read;  /* owned: pre, parsed */
	size_t nread;
	pg_row *wrote; /* owned: rows written, message/result/gid owned */
	size_t nwrote, capwrote;
	pg_add *adds; /* owned: deferred counter changes */
	size_t nadds, capadds;
} pg_slot;

typedef struct pg_store {
	char *uri; /* owned */
	bool read_only;
	char where[160]; /* "postgresql <db> on <host>:<port>" */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool sync_init;
	unsigned nslots; /* groups + POOL_SPARE */
	pg_slot slots[GROUPS_MAX + POOL_SPARE];
} pg_store;

#define PS(txn)   (((pg_slot *)(txn)->h)->ps)
#define CONN(txn) (((pg_slot *)(txn)->h)->conn)
#define SLOT(txn) ((pg_slot *)(txn)->h)

static const sdk_store_ops pg_ops;
static void adds_end(pg_slot *slot, unsigned depth, bool keep);

/* ---- errors ------------------------------------------------------------ */

/* pg_fail logs what failed with PostgreSQL's message and SQLSTATE, frees
 * res (may be NULL) and translates: a lost connection DTX_EUNREACHABLE,
 * a serialization failure, deadlock or lock timeout DTX_EBUSY, a unique
 * violation DTX_ECONFLICT, anything else DTX_EIO. */
static int pg_fail(const pg_store *ps, PGconn *conn, PGresult *res,
                   const char *what)
{
	const char *state =
	        res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg =
	        res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	int rv = DTX_EIO;

	if (msg == NULL)
		msg = PQerrorMessage(conn);
	sdk_logf(DTX_LOG_WARN, "store %s: %s: %.200s (SQLSTATE %s)", ps->where,
	         what, msg, state ? state : "none");
	if (PQstatus(conn) != CONNECTION_OK)
		rv = DTX_EUNREACHABLE;
	else if (state != NULL &&
	         (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
	          strcmp(state, "55P03") == 0))
		rv = DTX_EBUSY;
	else if (state != NULL && strcmp(state, "23505") == 0)
		rv = DTX_ECONFLICT;
	PQclear(res);
	return rv;
}

/* ---- statements -------------------------------------------------------- */

/* param - one bound parameter: bytes, and whether they are binary. */
typedef struct param {
	const void *v;
	int len;
	int binary;
} param;

#define P_TEXT(s)   ((param){(s), (int)strlen(s), 0})
#define P_BIN(p, n) ((param){(p), (int)(n), 1})

/* txn_clear frees the result found pointers borrowed. */
static void txn_clear(dtx_txn *txn)
{
	PQclear(txn->scratch);
	txn->scratch = NULL;
}

/* conn_exec runs sql with n parameters on conn and, on success, stores the
 * result (binary columns) in *ret_res (transferred; NULL: freed here). */
static int conn_exec(const pg_store *ps, PGconn *conn, const char *what,
                     const char *sql, const param *p, int n, PGresult **ret_res)
{
	const char *vals[8] = {NULL};
	int lens[8] = {0}, fmts[8] = {0};
	PGresult *res = NULL;
	ExecStatusType st;

	if (n > 8)
		return DTX_EINVAL;
	for (int i = 0; i < n; i++) {
		vals[i] = p[i].v;
		lens[i] = p[i].len;
		fmts[i] = p[i].binary;
	}
	res = PQexecParams(conn, sql, n, NULL, vals, lens, fmts, 1);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		return pg_fail(ps, conn, res, what);
	if (ret_res != NULL)
		*ret_res = res;
	else
		PQclear(res);
	return DTX_OK;
}

/* stmt - one statement of a pipeline; ret_res NULL: its result is
 * checked and freed, else it is stored there (transferred) on success. */
typedef struct stmt {
	const char *what;
	const char *sql;
	const param *p;
	int n;
	PGresult **ret_res;
	/* not NULL: a division_by_zero of s is its "does not fit" (see
	 * add_sql_build): set here, DTX_EBUSY returned, nothing logged */
	bool *ret_short;
} stmt;

/* send_stmt queues s on conn (in pipeline mode). Errors: DTX_ENOMEM,
 * DTX_EUNREACHABLE (libpq could not queue it). */
static int send_stmt(PGconn *conn, const stmt *s)
{
	size_t n = s->n > 0 ? (size_t)s->n : 1;
	const char **vals = calloc(n, sizeof(*vals));
	int *lens = calloc(n, sizeof(*lens));
	int *fmts = calloc(n, sizeof(*fmts));
	int rv = DTX_ENOMEM;

	if (vals != NULL && lens != NULL && fmts != NULL) {
		for (int i = 0; i < s->n; i++) {
			vals[i] = s->p[i].v;
			lens[i] = s->p[i].len;
			fmts[i] = s->p[i].binary;
		}
		rv = PQsendQueryParams(conn, s->sql, s->n, NULL, vals, lens,
		                       fmts, 1) == 1
		             ? DTX_OK
		             : DTX_EUNREACHABLE;
	}
	free(vals);
	free(lens);
	free(fmts);
	return rv;
}

/* is_short: res is s's "does not fit" (stmt.ret_short). */
static bool is_short(const PGresult *res, const stmt *s)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return s->ret_short != NULL && state != NULL &&
	       strcmp(state, "22012") == 0;
}

/* take_result reads the result of s, the next on conn, and the NULL that
 * ends it; *rv keeps the first error. False: conn did not answer as a
 * pipeline does. */
static bool take_result(const pg_store *ps, PGconn *conn, const stmt *s,
                        int *rv)
{
	PGresult *res = PQgetResult(conn);
	ExecStatusType st = PQresultStatus(res);

	if (res == NULL)
		return false;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (*rv == DTX_OK && s->ret_res != NULL) {
			*s->ret_res = res;
			res = NULL;
		}
	} else if (st != PGRES_PIPELINE_ABORTED && *rv == DTX_OK &&
	           is_short(res, s)) {
		*s->ret_short = true;
		*rv = DTX_EBUSY;
	} else if (st != PGRES_PIPELINE_ABORTED && *rv == DTX_OK) {
		*rv = pg_fail(ps, conn, res, s->what);
		res = NULL;
	} else if (*rv == DTX_OK) {
		*rv = DTX_EIO; /* skipped after an error it did not report */
	}
	PQclear(res);
	return PQgetResult(conn) == NULL;
}

/* conn_pipeline runs s[0..n) on slot's connection in one round trip
 * (libpq pipeline mode): after the first error the server skips the rest,
 * and that error is returned (no result of s is kept then). A pipeline
 * that does not end as it should marks the slot broken. */
static int conn_pipeline(pg_slot *slot, const stmt *s, int n)
{
	PGconn *conn = slot->conn;
	PGresult *res = NULL;
	bool ok = PQenterPipelineMode(conn) == 1;
	int rv = DTX_OK, sent = 0;

	while (ok && rv == DTX_OK && sent < n)
		if ((rv = send_stmt(conn, &s[sent])) == DTX_OK)
			sent++;
	ok = ok && PQpipelineSync(conn) == 1;
	for (int i = 0; ok && i < sent; i++)
		ok = take_result(slot->ps, conn, &s[i], &rv);
	if (ok)
		res = PQgetResult(conn);
	ok = ok && PQresultStatus(res) == PGRES_PIPELINE_SYNC;
	PQclear(res);
	ok = ok && PQexitPipelineMode(conn) == 1;
	if (!ok) {
		sdk_logf(DTX_LOG_WARN, "store %s: pipeline: %.200s",
		         slot->ps->where, PQerrorMessage(conn));
		slot->broken = true;
		rv = rv == DTX_OK ? DTX_EUNREACHABLE : rv;
	}
	for (int i = 0; rv != DTX_OK && i < sent; i++)
		if (s[i].ret_res != NULL) {
			PQclear(*s[i].ret_res);
			*s[i].ret_res = NULL;
		}
	return rv;
}

/* run_queued sends slot's queued statements, then extra[0..n), in one
 * round trip (none if there is nothing). */
static int run_queued(pg_slot *slot, const stmt *extra, int n)
{
	stmt s[QUEUE_MAX + 4];
	int k = 0;

	if (slot->conn == NULL ||
	    (size_t)n > sizeof(s) / sizeof(s[0]) - QUEUE_MAX)
		return DTX_EINVAL;
	for (unsigned i = 0; i < slot->nqueue; i++)
		s[k++] = (stmt){slot->queue[i], slot->queue[i], NULL, 0, NULL};
	for (int i = 0; i < n; i++)
		s[k++] = extra[i];
	if (slot->nqueue > 0)
		slot->sent = true; /* BEGIN is the first statement queued */
	slot->nqueue = 0;
	if (k == 0)
		return DTX_OK;
	if (k == 1 && s[0].n <= 8)
		return conn_exec(slot->ps, slot->conn, s[0].what, s[0].sql,
		                 s[0].p, s[0].n, s[0].ret_res);
	return conn_pipeline(slot, s, k);
}

/* queue_push queues sql (at most CTL_SQL_MAX - 1 bytes) for the next
 * round trip, sending the queue first when it is full. */
static int queue_push(pg_slot *slot, const char *sql)
{
	int rv = slot->nqueue == QUEUE_MAX ? run_queued(slot, NULL, 0) : DTX_OK;

	if (rv == DTX_OK)
		snprintf(slot->queue[slot->nqueue++], CTL_SQL_MAX, "%s", sql);
	return rv;
}

/* savepoint_sql writes "<verb> SAVEPOINT dtx_<depth>" into buf. */
static const char *savepoint_sql(char *buf, size_t cap, const char *verb,
                                 unsigned depth)
{
	snprintf(buf, cap, "%s%sSAVEPOINT dtx_%u", verb, verb[0] ? " " : "",
	         depth);
	return buf;
}

/* materialize queues the savepoints of txn's depth the server does not
 * have yet, so that the next statement runs inside them. */
static int materialize(dtx_txn *txn)
{
	pg_slot *slot = SLOT(txn);
	char sql[CTL_SQL_MAX];
	int rv = DTX_OK;

	while (rv == DTX_OK && slot->sp_made < txn->depth) {
		slot->sp_made++;
		rv = queue_push(slot, savepoint_sql(sql, sizeof(sql), "",
		                                    slot->sp_made));
	}
	return rv;
}

/* txn_exec runs one statement on txn's connection, with the statements
 * queued before it, inside txn's savepoints; a result it keeps (ret_res)
 * is the caller's (most make it txn's scratch, what found pointers
 * borrow until the next statement). */
static int txn_exec(dtx_txn *txn, const char *what, const char *sql,
                    const param *p, int n, PGresult **ret_res)
{
	stmt s = {what, sql, p, n, ret_res};
	int rv;

	txn_clear(txn);
	if (txn->h == NULL)
		return DTX_EINVAL;
	if ((rv = materialize(txn)) != DTX_OK)
		return rv;
	return run_queued(SLOT(txn), &s, 1);
}

static uint16_t get_be16(const char *p)
{
	const uint8_t *u = (const uint8_t *)p;

	return (uint16_t)(u[0] << 8 | u[1]);
}

static uint32_t get_be32(const char *p)
{
	const uint8_t *u = (const uint8_t *)p;

	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 |
	       (uint32_t)u[2] << 8 | u[3];
}

static int64_t get_be64(const char *p)
{
	return (int64_t)((uint64_t)get_be32(p) << 32 | get_be32(p + 4));
}

/* ---- connections ------------------------------------------------------- */

/* notice_drop keeps the server's notices (NOTICE: relation exists...)
 * off the service's stderr: libpq prints them there by default. */
static void notice_drop(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* conn_open connects to ps's database with the session settings every
 * connection of the SDK has; the URI's own settings win over the
 * defaults given here. */
static int conn_open(pg_store *ps, PGconn **ret_conn)
{
	const char *keys[] = {"connect_timeout", "application_name", "dbname",
	                      NULL};
	const char *vals[] = {"10", "dtx", ps->uri, NULL};
	PGconn *conn = PQconnectdbParams(keys, vals, 1);
	int rv;

	if (conn == NULL)
		return DTX_ENOMEM;
	if (PQstatus(conn) != CONNECTION_OK) {
		sdk_logf(DTX_LOG_WARN, "store %s: connect: %.200s", ps->where,
		         PQerrorMessage(conn));
		PQfinish(conn);
		return DTX_EUNREACHABLE;
	}
	PQsetNoticeProcessor(conn, notice_drop, NULL);
	rv = conn_exec(ps, conn, "session settings",
	               "SELECT set_config('synchronous_commit', 'on', false), "
	               "set_config('lock_timeout', '10s', false)",
	               NULL, 0, NULL);
	if (rv != DTX_OK) {
		PQfinish(conn);
		return rv;
	}
	*ret_conn = conn;
	return DTX_OK;
}

/* pool_take waits (at most POOL_WAIT_MS) for a free slot of ps, takes it,
 * and connects it if it has no connection. */
static int pool_take(pg_store *ps, pg_slot **ret_slot)
{
	struct timespec until;
	pg_slot *slot = NULL;
	int rv = DTX_OK;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += POOL_WAIT_MS / 1000;
	pthread_mutex_lock(&ps->mu);
	while (slot == NULL && rv == DTX_OK) {
		for (unsigned i = 0; i < ps->nslots && slot == NULL; i++)
			if (!ps->slots[i].busy)
				slot = &ps->slots[i];
		if (slot == NULL &&
		    pthread_cond_timedwait(&ps->cv, &ps->mu, &until) != 0)
			rv = DTX_EBUSY;
	}
	if (slot != NULL)
		slot->busy = true;
	pthread_mutex_unlock(&ps->mu);
	if (slot != NULL && slot->conn == NULL &&
	    (rv = conn_open(ps, &slot->conn)) != DTX_OK)
		slot->conn = NULL;
	if (rv != DTX_OK && slot != NULL) {
		pthread_mutex_lock(&ps->mu);
		slot->busy = false;
		pthread_cond_signal(&ps->cv);
		pthread_mutex_unlock(&ps->mu);
		return rv;
	}
	*ret_slot = slot;
	return rv;
}

/* pool_give returns slot, closing a connection that is bad, broken (a
 * pipeline that went wrong) or still in a transaction (a failed
 * ROLLBACK), so the next user reconnects. */
static void pool_give(pg_slot *slot)
{
	pg_store *ps = slot->ps;

	if (slot->conn != NULL &&
	    (slot->broken || PQstatus(slot->conn) != CONNECTION_OK ||
	     PQtransactionStatus(slot->conn) != PQTRANS_IDLE)) {
		PQfinish(slot->conn);
		slot->conn = NULL;
	}
	slot->broken = false;
	pthread_mutex_lock(&ps->mu);
	slot->busy = false;
	pthread_cond_signal(&ps->cv);
	pthread_mutex_unlock(&ps->mu);
}

/* ---- transactions (ops) ------------------------------------------------ */

static size_t pg_enter(void *impl)
{
	(void)impl;
	return 0;
}

static void pg_leave(void *impl)
{
	(void)impl;
}

static int pg_grow(void *impl, size_t seen)
{
	(void)impl;
	(void)seen;
	return DTX_ELIMIT; /* never asked: no operation sets map_full */
}

/* rows_free frees what rows written into the cache own. */
static void rows_free(pg_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((void *)rows[i].gid);
		free((void *)rows[i].rec.message);
		free((void *)rows[i].rec.result);
	}
}

/* slot_reset forgets the state of the transaction that ran on slot. */
static void slot_reset(pg_slot *slot)
{
	rows_free(slot->wrote, slot->nwrote);
	slot->nwrote = 0;
	slot->nadds = 0;
	free(slot->read);
	slot->read = NULL;
	slot->nread = 0;
	PQclear(slot->pre);
	slot->pre = NULL;
	slot->nlocked = 0;
	slot->nqueue = 0;
	slot->sp_made = 0;
	slot->sent = false;
}

/* pg_txn_begin begins a transaction without a round trip: BEGIN, or a
 * nested transaction's SAVEPOINT, waits for the first statement that
 * needs it (materialize). */
static int pg_txn_begin(dtx_store *store, dtx_txn *parent, bool read_only,
                        dtx_txn *ret_txn)
{
	pg_store *ps = store->impl;
	pg_slot *slot;
	int rv;

	ret_txn->store = store;
	ret_txn->read_only = read_only;
	if (parent != NULL) {
		if (parent->h == NULL)
			return DTX_EINVAL;
		ret_txn->h = parent->h;
		ret_txn->depth = parent->depth + 1;
		return DTX_OK;
	}
	if ((rv = pool_take(ps, &slot)) != DTX_OK)
		return rv;
	slot_reset(slot);
	ret_txn->h = slot;
	return queue_push(slot, read_only ? "BEGIN READ ONLY" : "BEGIN");
}

/* rows_end ends the rows txn's depth wrote into the cache: kept, they
 * belong to the parent; else they are dropped. (A row written before and
 * only raised here keeps its raised keep_until: it is kept longer, no
 * harm.) */
static void rows_end(pg_slot *slot, unsigned depth, bool keep)
{
	size_t j = 0;

	for (size_t i = 0; i < slot->nwrote; i++) {
		pg_row *r = &slot->wrote[i];

		if (r->depth >= depth && !keep) {
			rows_free(r, 1);
			continue;
		}
		if (r->depth >= depth)
			r->depth = depth - 1;
		slot->wrote[j++] = *r;
	}
	slot->nwrote = j;
}

/* rollback_to rolls txn's savepoint back and releases it, at once (with
 * what is queued), so the transaction status a later RELEASE looks at is
 * the server's. */
static int rollback_to(dtx_txn *txn)
{
	pg_slot *slot = SLOT(txn);
	char sql[CTL_SQL_MAX];
	int rv = queue_push(slot, savepoint_sql(sql, sizeof(sql), "ROLLBACK TO",
	                                        txn->depth));

	if (rv == DTX_OK)
		rv = queue_push(slot, savepoint_sql(sql, sizeof(sql), "RELEASE",
		                                    txn->depth));
	return rv == DTX_OK ? run_queued(slot, NULL, 0) : rv;
}

/* nested_end releases (keep) or rolls back and releases the savepoint of
 * txn (depth > 0), if the server has it; the cache's rows follow. An
 * aborted transaction cannot keep anything. */
static int nested_end(dtx_txn *txn, bool keep)
{
	pg_slot *slot = SLOT(txn);
	char sql[CTL_SQL_MAX];
	int rv = DTX_OK;

	if (keep && slot->broken)
		rv = DTX_EUNREACHABLE;
	if (keep && slot->sp_made >= txn->depth &&
	    PQtransactionStatus(slot->conn) == PQTRANS_INERROR) {
		sdk_logf(DTX_LOG_WARN,
		         "store %s: a statement of the transaction failed, "
		         "yet its work was to be kept: rolled back",
		         slot->ps->where);
		rv = DTX_EIO;
	}
	keep = keep && rv == DTX_OK;
	if (slot->sp_made >= txn->depth) {
		int r2 = keep ? queue_push(slot,
		                           savepoint_sql(sql, sizeof(sql),
		                                         "RELEASE", txn->depth))
		              : rollback_to(txn);

		slot->sp_made = txn->depth - 1;
		if (rv == DTX_OK)
			rv = r2;
	}
	rows_end(slot, txn->depth, keep && rv == DTX_OK);
	adds_end(slot, txn->depth, keep && rv == DTX_OK);
	txn_clear(txn);
	txn->h = NULL;
	return rv;
}

static int insert_build(pg_slot *slot, char **ret_sql, param **ret_p);
typedef struct pg_sum pg_sum;
static int adds_build(const dtx_store *store, pg_slot *slot, char **ret_sql,
                      param **ret_p, pg_sum **ret_sums, int *ret_n);

/* commit_send sends the queue, the sums of the deferred counter changes
 * (one statement, adds_build), the rows the cache wrote (one INSERT) and
 * COMMIT in one round trip; COMMIT must answer COMMIT. The counters are
 * changed last but for the barrier rows, so their rows are locked only
 * from there to the COMMIT; a sum that does not fit fails the statement
 * (the rest is skipped, the transaction rolled back) and sets
 * txn->short_sum. */
static int commit_send(dtx_txn *txn)
{
	pg_slot *slot = SLOT(txn);
	PGresult *res = NULL;
	char *sql = NULL, *asql = NULL;
	param *p = NULL, *ap = NULL;
	pg_sum *sums = NULL;
	bool is_short = false;
	stmt s[3];
	int n = 0, an = 0, rv = DTX_OK;

	if (slot->broken)
		return DTX_EUNREACHABLE;
	if (slot->nadds > 0)
		rv = adds_build(txn->store, slot, &asql, &ap, &sums, &an);
	if (rv == DTX_OK && slot->nwrote > 0)
		rv = insert_build(slot, &sql, &p);
	if (asql != NULL)
		s[n++] = (stmt){"add to counters", asql, ap, an, NULL,
		                &is_short};
	if (sql != NULL)
		s[n++] = (stmt){"write barrier rows", sql, p,
		                (int)(slot->nwrote * ROW_PARAMS), NULL};
	s[n++] = (stmt){"commit", "COMMIT", NULL, 0, &res};
	if (rv == DTX_OK)
		rv = run_queued(slot, s, n);
	if (rv == DTX_OK && strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		sdk_logf(DTX_LOG_WARN,
		         "store %s: COMMIT answered %s: nothing kept",
		         slot->ps->where, PQcmdStatus(res));
		rv = DTX_EIO;
	}
	txn->short_sum = is_short;
	PQclear(res);
	free(sql);
	free(p);
	free(asql);
	free(ap);
	free(sums);
	return rv;
}

/* top_end commits or rolls back txn (nothing to send if nothing was) and
 * gives its connection back. */
static int top_end(dtx_txn *txn, bool commit)
{
	pg_slot *slot = SLOT(txn);
	int rv = DTX_OK;

	txn_clear(txn);
	if (commit && (slot->sent || slot->nwrote > 0 || slot->nadds > 0))
		rv = commit_send(txn);
	if (slot->conn != NULL && !slot->broken &&
	    PQtransactionStatus(slot->conn) != PQTRANS_IDLE)
		(void)conn_exec(slot->ps, slot->conn, "rollback", "ROLLBACK",
		                NULL, 0, NULL);
	slot_reset(slot);
	txn->h = NULL;
	pool_give(slot);
	return rv;
}

static int pg_txn_commit(dtx_txn *txn)
{
	if (txn->h == NULL)
		return DTX_EINVAL;
	return txn->depth > 0 ? nested_end(txn, true) : top_end(txn, true);
}

static void pg_txn_abort(dtx_txn *txn)
{
	if (txn->h == NULL)
		return;
	if (txn->depth > 0)
		(void)nested_end(txn, false);
	else
		(void)top_end(txn, false);
}

/* ---- gid locks (ops) --------------------------------------------------- */

/* gid_hash: FNV-1a of the gid, as a non-negative int4 key. */
static int32_t gid_hash(const char *gid)
{
	uint32_t h = 2166136261u;

	for (const char *p = gid; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return (int32_t)(h & 0x7fffffffu);
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

/* hash_list writes the distinct hashes of gids[0..n), ascending, as an
 * int4[] literal into arr (SDK_GROUP_MAX * 12 + 3 bytes). */
static void hash_list(const char *const *gids, size_t n, char *arr)
{
	int32_t h[SDK_GROUP_MAX];
	size_t cap = SDK_GROUP_MAX * 12 + 3, len = 0, m = 0;

	for (size_t i = 0; i < n; i++)
		h[i] = gid_hash(gids[i]);
	qsort(h, n, sizeof(h[0]), cmp_i32);
	arr[len++] = '{';
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && h[i] == h[i - 1])
			continue;
		len += (size_t)snprintf(arr + len, cap - len, "%s%d",
		                        m++ ? "," : "", (int)h[i]);
	}
	snprintf(arr + len, cap - len, "}");
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* gid_array encodes gids[0..n) (each 1..DTX_GID_MAX bytes) as a binary
 * text[] (PostgreSQL's array_send: ndim, has-null, element type, length,
 * lower bound, then each element's length and bytes) into buf, which
 * holds 20 + n * (4 + DTX_GID_MAX) bytes. Returns its length, 0 if a gid
 * is out of bounds. */
static size_t gid_array(const char *const *gids, size_t n, uint8_t *buf)
{
	size_t len = 20;

	put_be32(buf, 1);
	put_be32(buf + 4, 0);
	put_be32(buf + 8, OID_TEXT);
	put_be32(buf + 12, (uint32_t)n);
	put_be32(buf + 16, 1);
	for (size_t i = 0; i < n; i++) {
		size_t g = strnlen(gids[i], DTX_GID_MAX + 1);

		if (g == 0 || g > DTX_GID_MAX)
			return 0;
		put_be32(buf + len, (uint32_t)g);
		memcpy(buf + len + 4, gids[i], g);
		len += 4 + g;
	}
	return len;
}

static int cache_read(pg_slot *slot, const char *const *gids, size_t n,
                      PGresult *res);

/* pg_lock_gids begins the group: BEGIN, the advisory lock of each gid's
 * hash (ascending, in one statement, held to the transaction's end) and
 * one SELECT of every barrier row of the gids, in one round trip. The
 * SELECT starts after the locks are held, so its snapshot (READ
 * COMMITTED: per statement) has every row an earlier holder committed;
 * rec_get/rec_put of these gids then use the cache. Once per top-level
 * transaction. */
static int pg_lock_gids(dtx_txn *txn, const char *const *gids, size_t n)
{
	static const char lock_sql[] =
	        "SELECT count(pg_advisory_xact_lock(" LOCK_KEY ", k)) FROM "
	        "(SELECT unnest($1::int4[]) AS k ORDER BY 1) AS s";
	static const char read_sql[] =
	        "SELECT gid, branch, op, status, flags, message, result, "
	        "keep_until FROM dtx_barrier WHERE gid = ANY($1::text[])";
	static uint8_t none;
	char arr[SDK_GROUP_MAX * 12 + 3];
	stmt s[2];
	uint8_t *garr;
	PGresult *res = NULL;
	size_t glen;
	int rv;

	if (n == 0)
		return DTX_OK;
	if (n > SDK_GROUP_MAX || txn->h == NULL || txn->depth > 0 ||
	    SLOT(txn)->nlocked > 0)
		return DTX_EINVAL;
	garr = malloc(20 + n * (4 + DTX_GID_MAX));
	if (garr == NULL)
		return DTX_ENOMEM;
	hash_list(gids, n, arr);
	glen = gid_array(gids, n, garr);
	s[0] = (stmt){"lock gids", lock_sql, &P_TEXT(arr), 1, NULL};
	s[1] = (stmt){"read barrier rows", read_sql,
	              &P_BIN(glen ? (void *)garr : &none, glen), 1, &res};
	rv = glen == 0 ? DTX_EINVAL : run_queued(SLOT(txn), s, 2);
	free(garr);
	if (rv == DTX_OK)
		rv = cache_read(SLOT(txn), gids, n, res);
	return rv;
}

/* ---- barrier records (ops) --------------------------------------------- */

/* gid_param checks gid's length (1..DTX_GID_MAX) and binds it. */
static int gid_param(const char *gid, param *ret_p)
{
	size_t n = strnlen(gid, DTX_GID_MAX + 1);

	if (n == 0 || n > DTX_GID_MAX)
		return DTX_EINVAL;
	*ret_p = P_BIN(gid, n);
	return DTX_OK;
}

/* ---- the group's cache of barrier rows -------------------------------- */

/* row_check tells whether a row read is one the SDK could have written. */
static bool row_check(const PGresult *res, int i)
{
	unsigned status = get_be16(PQgetvalue(res, i, 3));

	return PQgetlength(res, i, 0) > 0 &&
	       PQgetlength(res, i, 0) <= DTX_GID_MAX &&
	       (status == DTX_STATUS_OK || status == DTX_STATUS_FAIL) &&
	       PQgetlength(res, i, 5) <= WIRE_MESSAGE_MAX;
}

/* row_parse reads row i of res (lock_gids' SELECT) into r, whose
 * pointers borrow res. */
static void row_parse(PGresult *res, int i, pg_row *r)
{
	*r = (pg_row){.gid = PQgetvalue(res, i, 0),
	              .branch = get_be32(PQgetvalue(res, i, 1)),
	              .op = (dtx_op)get_be16(PQgetvalue(res, i, 2)),
	              .bad = !row_check(res, i)};
	r->hash = gid_hash(r->gid);
	r->rec = (sdk_rec){
	        .status = (dtx_status)get_be16(PQgetvalue(res, i, 3)),
	        .null_comp = (get_be16(PQgetvalue(res, i, 4)) & 1u) != 0,
	        .message = PQgetvalue(res, i, 5),
	        .message_len = (size_t)PQgetlength(res, i, 5),
	        .result = PQgetvalue(res, i, 6),
	        .result_len = (size_t)PQgetlength(res, i, 6),
	        .keep_until_ms = get_be64(PQgetvalue(res, i, 7))};
}

/* cache_read keeps res (transferred) as the rows of gids[0..n), which
 * the transaction holds the locks of. Errors: DTX_ENOMEM, DTX_ECORRUPT
 * (more rows than any group could have written). */
static int cache_read(pg_slot *slot, const char *const *gids, size_t n,
                      PGresult *res)
{
	int rows = PQntuples(res);

	slot->pre = res;
	if (rows > ROWS_READ_MAX) {
		sdk_logf(DTX_LOG_WARN, "store %s: %d barrier rows for %zu gids",
		         slot->ps->where, rows, n);
		return DTX_ECORRUPT;
	}
	if (slot->lgids == NULL &&
	    (slot->lgids = malloc(SDK_GROUP_MAX * sizeof(*slot->lgids))) ==
	            NULL)
		return DTX_ENOMEM;
	if (rows > 0 &&
	    (slot->read = calloc((size_t)rows, sizeof(*slot->read))) == NULL)
		return DTX_ENOMEM;
	for (int i = 0; i < rows; i++)
		row_parse(res, i, &slot->read[i]);
	slot->nread = (size_t)rows;
	for (size_t i = 0; i < n; i++) {
		sdk_strlcpy(slot->lgids[i], DTX_GID_MAX + 1, gids[i]);
		slot->locked[i] = gid_hash(gids[i]);
	}
	slot->nlocked = n;
	return DTX_OK;
}

/* is_cached: gid is one lock_gids read the rows of (txn's slot). */
static bool is_cached(const dtx_txn *txn, int32_t h, const char *gid)
{
	const pg_slot *slot = txn->h;

	for (size_t i = 0; slot != NULL && i < slot->nlocked; i++)
		if (slot->locked[i] == h && strcmp(slot->lgids[i], gid) == 0)
			return true;
	return false;
}

static bool row_is(const pg_row *r, int32_t h, const char *gid, uint32_t branch,
                   dtx_op op)
{
	return r->hash == h && r->branch == branch && r->op == op &&
	       strcmp(r->gid, gid) == 0;
}

/* cache_find returns the newest row of (gid, branch, op): written, else
 * read; NULL if there is none. *ret_written says which. */
static pg_row *cache_find(pg_slot *slot, int32_t h, const char *gid,
                          uint32_t branch, dtx_op op, bool *ret_written)
{
	*ret_written = true;
	for (size_t i = slot->nwrote; i-- > 0;)
		if (row_is(&slot->wrote[i], h, gid, branch, op))
			return &slot->wrote[i];
	*ret_written = false;
	for (size_t i = 0; i < slot->nread; i++)
		if (row_is(&slot->read[i], h, gid, branch, op))
			return &slot->read[i];
	return NULL;
}

static int cache_get(dtx_txn *txn, int32_t h, const char *gid, uint32_t branch,
                     dtx_op op, sdk_rec *ret_rec)
{
	bool written;
	pg_row *r = cache_find(SLOT(txn), h, gid, branch, op, &written);

	if (r == NULL)
		return DTX_ENOENT;
	if (r->bad) {
		sdk_logf(DTX_LOG_WARN,
		         "store %s: barrier row of %s/%u/%s: bad "
		         "status, size or gid",
		         PS(txn)->where, gid, branch, dtx_op_name(op));
		return DTX_ECORRUPT;
	}
	*ret_rec = r->rec;
	return DTX_OK;
}

/* row_fill sets r's bound values from its fields. */
static void row_fill(pg_row *r)
{
	snprintf(r->b, sizeof(r->b), "%u", r->branch);
	snprintf(r->o, sizeof(r->o), "%d", (int)r->op);
	snprintf(r->st, sizeof(r->st), "%d", (int)r->rec.status);
	snprintf(r->fl, sizeof(r->fl), "%d", r->rec.null_comp ? 1 : 0);
	snprintf(r->ku, sizeof(r->ku), "%lld", (long long)r->rec.keep_until_ms);
}

static void *dup_bytes(const void *p, size_t n)
{
	void *d = malloc(n ? n : 1);

	if (d != NULL && n > 0)
		memcpy(d, p, n);
	return d;
}

/* row_add appends a written row (copies of gid, message and result) at
 * depth. Errors: DTX_ENOMEM, DTX_ELIMIT (past 16 rows a call). */
static int row_add(pg_slot *slot, pg_row *r, const char *gid, unsigned depth)
{
	if (slot->nwrote == slot->capwrote) {
		size_t cap = slot->capwrote ? slot->capwrote * 2 : 64;
		pg_row *w = cap > 16 * SDK_GROUP_MAX
		                    ? NULL
		                    : realloc(slot->wrote, cap * sizeof(*w));

		if (w == NULL)
			return cap > 16 * SDK_GROUP_MAX ? DTX_ELIMIT
			                                : DTX_ENOMEM;
		slot->wrote = w;
		slot->capwrote = cap;
	}
	r->gid = strdup(gid);
	r->rec.message = dup_bytes(r->rec.message, r->rec.message_len);
	r->rec.result = dup_bytes(r->rec.result, r->rec.result_len);
	r->depth = depth;
	if (r->gid == NULL || r->rec.message == NULL || r->rec.result == NULL) {
		rows_free(r, 1);
		return DTX_ENOMEM;
	}
	row_fill(r);
	slot->wrote[slot->nwrote++] = *r;
	return DTX_OK;
}

/* cache_put writes (gid, branch, op) into the cache: over a row with the
 * same status and flags it only raises keep_until; a row that differs
 * (a second writer the gid locks should have excluded) fails the call
 * instead of being overwritten. */
static int cache_put(dtx_txn *txn, int32_t h, const char *gid, uint32_t branch,
                     dtx_op op, const sdk_rec *rec)
{
	pg_slot *slot = SLOT(txn);
	bool written;
	pg_row *r = cache_find(slot, h, gid, branch, op, &written);
	pg_row n = {.hash = h, .branch = branch, .op = op, .rec = *rec};

	if (r != NULL && (r->bad || r->rec.status != rec->status ||
	                  r->rec.null_comp != rec->null_comp)) {
		sdk_logf(DTX_LOG_WARN,
		         "store %s: barrier row of %s/%u/%s exists with "
		         "another status: not overwritten",
		         slot->ps->where, gid, branch, dtx_op_name(op));
		return DTX_ECONFLICT;
	}
	if (r != NULL && rec->keep_until_ms <= r->rec.keep_until_ms)
		return DTX_OK;
	if (r != NULL && written) {
		r->rec.keep_until_ms = rec->keep_until_ms;
		row_fill(r);
		return DTX_OK;
	}
	return row_add(slot, &n, gid, txn->depth);
}

/* sql_add appends to sql (cap bytes, *len used) what fmt says; the
 * caller sized sql for everything it adds. */
static void sql_add(char *sql, size_t cap, size_t *len, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static void sql_add(char *sql, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(sql + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len += (size_t)n < cap - *len ? (size_t)n : cap - *len - 1;
}

/* insert_build makes the one INSERT of every row the cache wrote: the SQL
 * (only placeholders and counts in it) in *ret_sql and its ROW_PARAMS
 * values a row in *ret_p (both owned by the caller). Rows that exist get
 * a raised keep_until if their status and flags are the same; if any row
 * is neither inserted nor raised, the statement fails (the cast of the
 * text says why), so the transaction aborts and COMMIT answers ROLLBACK.
 */
static int insert_build(pg_slot *slot, char **ret_sql, param **ret_p)
{
	size_t n = slot->nwrote, cap = 1024 + n * 160, len = 0;
	char *sql = malloc(cap);
	param *p = calloc(n * ROW_PARAMS, sizeof(*p));

	if (sql == NULL || p == NULL) {
		free(sql);
		free(p);
		return DTX_ENOMEM;
	}
	sql_add(sql, cap, &len,
	        "WITH w AS (INSERT INTO dtx_barrier (gid, "
	        "branch, op, status, flags, message, result, keep_until) "
	        "VALUES ");
	for (size_t i = 0; i < n; i++) {
		const pg_row *r = &slot->wrote[i];
		param *q = &p[i * ROW_PARAMS];
		size_t k = i * ROW_PARAMS + 1;

		sql_add(sql, cap, &len,
		        "%s($%zu::text,$%zu::int4,$%zu::int2,"
		        "$%zu::int2,$%zu::int2,$%zu::text,$%zu::bytea,"
		        "$%zu::int8)",
		        i ? "," : "", k, k + 1, k + 2, k + 3, k + 4, k + 5,
		        k + 6, k + 7);
		q[0] = P_BIN(r->gid, strlen(r->gid));
		q[1] = P_TEXT(r->b);
		q[2] = P_TEXT(r->o);
		q[3] = P_TEXT(r->st);
		q[4] = P_TEXT(r->fl);
		q[5] = P_BIN(r->rec.message, r->rec.message_len);
		q[6] = P_BIN(r->rec.result, r->rec.result_len);
		q[7] = P_TEXT(r->ku);
	}
	sql_add(sql, cap, &len,
	        " ON CONFLICT (gid, branch, op) DO UPDATE SET "
	        "keep_until = GREATEST(dtx_barrier.keep_until, "
	        "EXCLUDED.keep_until) WHERE dtx_barrier.status = "
	        "EXCLUDED.status AND dtx_barrier.flags = EXCLUDED.flags "
	        "RETURNING 1) SELECT CASE WHEN count(*) = %zu THEN 0 ELSE "
	        "('dtx_barrier: ' || %zu - count(*) || ' row(s) exist with "
	        "another status')::int END FROM w",
	        n, n);
	*ret_sql = sql;
	*ret_p = p;
	return DTX_OK;
}

static int pg_rec_get(dtx_txn *txn, const char *gid, uint32_t branch, dtx_op op,
                      sdk_rec *ret_rec)
{
	char b[16], o[8];
	param p[3];
	PGresult *res = NULL;
	unsigned status, flags;
	int rv = gid_param(gid, &p[0]);
	int32_t h = rv == DTX_OK ? gid_hash(gid) : 0;

	if (rv != DTX_OK)
		return rv;
	if (is_cached(txn, h, gid))
		return cache_get(txn, h, gid, branch, op, ret_rec);
	snprintf(b, sizeof(b), "%u", branch);
	snprintf(o, sizeof(o), "%d", (int)op);
	p[1] = P_TEXT(b);
	p[2] = P_TEXT(o);
	rv = txn_exec(txn, "read barrier row",
	              "SELECT status, flags, message, result, keep_until "
	              "FROM dtx_barrier "
	              "WHERE gid = $1 AND branch = $2 AND op = $3",
	              p, 3, &res);
	if (rv != DTX_OK)
		return rv;
	txn->scratch = res;
	if (PQntuples(res) == 0)
		return DTX_ENOENT;
	status = get_be16(PQgetvalue(res, 0, 0));
	flags = get_be16(PQgetvalue(res, 0, 1));
	if ((status != DTX_STATUS_OK && status != DTX_STATUS_FAIL) ||
	    PQgetlength(res, 0, 2) > WIRE_MESSAGE_MAX) {
		sdk_logf(DTX_LOG_WARN,
		         "store %s: barrier row of %s/%u/%s: bad "
		         "status %u",
		         PS(txn)->where, gid, branch, dtx_op_name(op), status);
		return DTX_ECORRUPT;
	}
	ret_rec->status = (dtx_status)status;
	ret_rec->null_comp = (flags & 1u) != 0;
	ret_rec->message = PQgetvalue(res, 0, 2);
	ret_rec->message_len = (size_t)PQgetlength(res, 0, 2);
	ret_rec->result = PQgetvalue(res, 0, 3);
	ret_rec->result_len = (size_t)PQgetlength(res, 0, 3);
	ret_rec->keep_until_ms = get_be64(PQgetvalue(res, 0, 4));
	return DTX_OK;
}

/* pg_rec_put inserts the row. Over a row already there it only raises
 * keep_until, and only when status and flags are the same (a replay with
 * a later deadline); a row that differs (a second writer the gid locks
 * should have excluded) fails the call instead of being overwritten. */
static int pg_rec_put(dtx_txn *txn, const char *gid, uint32_t branch, dtx_op op,
                      const sdk_rec *rec)
{
	char b[16], o[8], st[8], fl[8], ku[24];
	PGresult *res = NULL;
	param p[8];
	int rv = gid_param(gid, &p[0]);
	int32_t h = rv == DTX_OK ? gid_hash(gid) : 0;

	if (rv != DTX_OK)
		return rv;
	if (is_cached(txn, h, gid))
		return cache_put(txn, h, gid, branch, op, rec);
	snprintf(b, sizeof(b), "%u", branch);
	snprintf(o, sizeof(o), "%d", (int)op);
	snprintf(st, sizeof(st), "%d", (int)rec->status);
	snprintf(fl, sizeof(fl), "%d", rec->null_comp ? 1 : 0);
	p[1] = P_TEXT(b);
	p[2] = P_TEXT(o);
	p[3] = P_TEXT(st);
	p[4] = P_TEXT(fl);
	p[5] = P_BIN(rec->message_len ? rec->message : "", rec->message_len);
	p[6] = P_BIN(rec->result_len ? rec->result : "", rec->result_len);
	snprintf(ku, sizeof(ku), "%lld", (long long)rec->keep_until_ms);
	p[7] = P_TEXT(ku);
	rv = txn_exec(txn, "write barrier row",
	              "INSERT INTO dtx_barrier (gid, branch, op, status, "
	              "flags, message, result, keep_until) "
	              "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
	              "ON CONFLICT (gid, branch, op) DO UPDATE SET keep_until "
	              "= GREATEST(dtx_barrier.keep_until, EXCLUDED.keep_until) "
	              "WHERE dtx_barrier.status = EXCLUDED.status "
	              "AND dtx_barrier.flags = EXCLUDED.flags",
	              p, 8, &res);
	if (rv != DTX_OK)
		return rv;
	if (strcmp(PQcmdTuples(res), "1") != 0) {
		sdk_logf(DTX_LOG_WARN,
		         "store %s: barrier row of %s/%u/%s exists with "
		         "another status: not overwritten",
		         PS(txn)->where, gid, branch, dtx_op_name(op));
		rv = DTX_ECONFLICT;
	}
	PQclear(res);
	return rv;
}

static int pg_rec_scan(dtx_txn *txn, dtx_barrier_fn fn, void *arg)
{
	char gid[DTX_GID_MAX + 1];
	dtx_barrier_entry e;
	PGresult *res = NULL;
	int rv = txn_exec(txn, "scan barrier",
	                  "SELECT gid, branch, op, status, flags, keep_until "
	                  "FROM dtx_barrier ORDER BY gid, branch, op",
	                  NULL, 0, &res);

	if (rv != DTX_OK)
		return rv;
	txn->scratch = res;
	for (int i = 0; i < PQntuples(res) && rv == DTX_OK; i++) {
		int n = PQgetlength(res, i, 0);

		if (n <= 0 || n > DTX_GID_MAX)
			return DTX_ECORRUPT;
		memcpy(gid, PQgetvalue(res, i, 0), (size_t)n);
		gid[n] = '\0';
		e.gid = gid;
		e.branch = get_be32(PQgetvalue(res, i, 1));
		e.op = (dtx_op)get_be16(PQgetvalue(res, i, 2));
		e.status = (dtx_status)get_be16(PQgetvalue(res, i, 3));
		e.null_compensation =
		        (get_be16(PQgetvalue(res, i, 4)) & 1) != 0;
		e.keep_until_unix_ms = get_be64(PQgetvalue(res, i, 5));
		rv = fn(arg, &e);
	}
	return rv;
}

static int pg_rec_gids(dtx_txn *txn, const char *after, sdk_gid_fn fn,
                       void *arg)
{
	char gid[DTX_GID_MAX + 1];
	PGresult *res = NULL;
	param p = P_BIN(after, strnlen(after, DTX_GID_MAX));
	int rv = txn_exec(txn, "walk barrier gids",
	                  "SELECT gid, max(keep_until) FROM dtx_barrier "
	                  "WHERE gid > $1 GROUP BY gid "
	                  "ORDER BY gid LIMIT " GIDS_LIMIT,
	                  &p, 1, &res);

	if (rv != DTX_OK)
		return rv;
	txn->scratch = res;
	for (int i = 0; i < PQntuples(res) && rv == DTX_OK; i++) {
		int n = PQgetlength(res, i, 0);

		if (n <= 0 || n > DTX_GID_MAX)
			return DTX_ECORRUPT;
		memcpy(gid, PQgetvalue(res, i, 0), (size_t)n);
		gid[n] = '\0';
		rv = fn(arg, gid, get_be64(PQgetvalue(res, i, 1)));
	}
	return rv;
}

static int pg_rec_del_gid(dtx_txn *txn, const char *gid, size_t *ret_n)
{
	PGresult *res = NULL;
	param p;
	int rv = gid_param(gid, &p);

	if (rv == DTX_OK)
		rv = txn_exec(txn, "delete barrier rows",
		              "DELETE FROM dtx_barrier WHERE gid = $1", &p, 1,
		              &res);
	if (rv != DTX_OK)
		return rv;
	*ret_n = (size_t)strtoul(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return DTX_OK;
}

/* ---- the service's tables (ops) ---------------------------------------- */

static int key_check(size_t klen)
{
	if (klen == 0)
		return DTX_EINVAL;
	return klen > KEY_MAX ? DTX_ETOOBIG : DTX_OK;
}

static int pg_kv_get(dtx_txn *txn, unsigned t, const void *key, size_t klen,
                     const void **ret_val, size_t *ret_len)
{
	param p[2] = {P_TEXT(txn->store->names[t]), P_BIN(key, klen)};
	PGresult *res = NULL;
	int rv = klen == 0 || klen > KEY_MAX ? DTX_EINVAL : DTX_OK;

	if (rv == DTX_OK)
		rv = txn_exec(txn, "get",
		              "SELECT v FROM dtx_kv WHERE tbl = $1 AND k = $2",
		              p, 2, &res);
	if (rv != DTX_OK)
		return rv;
	txn->scratch = res;
	if (PQntuples(res) == 0)
		return DTX_ENOENT;
	*ret_val = PQgetvalue(res, 0, 0);
	*ret_len = (size_t)PQgetlength(res, 0, 0);
	return DTX_OK;
}

static bool is_pending(const pg_slot *slot, unsigned t, const void *key,
                       size_t klen);

static int pg_kv_put(dtx_txn *txn, unsigned t, const void *key, size_t klen,
                     const void *val, size_t vlen)
{
	param p[3] = {P_TEXT(txn->store->names[t]), P_BIN(key, klen),
	              P_BIN(vlen ? val : "", vlen)};
	int rv = key_check(klen);

	if (rv != DTX_OK)
		return rv;
	if (is_pending(SLOT(txn), t, key, klen))
		return DTX_EINVAL; /* dtx_txn_add_i64's rule */
	if (vlen > (size_t)1 << 30)
		return DTX_ETOOBIG;
	return txn_exec(txn, "put",
	                "INSERT INTO dtx_kv (tbl, k, v) VALUES ($1, $2, $3) "
	                "ON CONFLICT (tbl, k) DO UPDATE SET v = EXCLUDED.v",
	                p, 3, NULL);
}

static int pg_kv_del(dtx_txn *txn, unsigned t, const void *key, size_t klen)
{
	param p[2] = {P_TEXT(txn->store->names[t]), P_BIN(key, klen)};
	PGresult *res = NULL;
	int rv = klen == 0 || klen > KEY_MAX ? DTX_EINVAL : DTX_OK;

	if (rv == DTX_OK && is_pending(SLOT(txn), t, key, klen))
		rv = DTX_EINVAL; /* dtx_txn_add_i64's rule */
	if (rv == DTX_OK)
		rv = txn_exec(txn, "del",
		              "DELETE FROM dtx_kv WHERE tbl = $1 AND k = $2", p,
		              2, &res);
	if (rv != DTX_OK)
		return rv;
	rv = strcmp(PQcmdTuples(res), "0") == 0 ? DTX_ENOENT : DTX_OK;
	PQclear(res);
	return rv;
}

/* ---- counters (ops) ----------------------------------------------------- */

/* add_sql_build writes into *ret_sql (owned by the caller) the statement
 * that adds n sums to their counters: row i's parameters are $5i+1..5i+5
 * = table, key, the sum, the sum of the negative deltas, the floor. A
 * row is changed only if the counter plus that negative sum stays at or
 * above the floor (a missing counter is 0 and is inserted as the sum);
 * rows go in (table, key) order, so two groups lock the counters they
 * share in one order. The statement returns how many rows it changed, or
 * with raise fails with division_by_zero (SQLSTATE 22012, which nothing
 * else in it can raise) when a row did not fit: in the pipeline of a
 * COMMIT that rolls the whole transaction back. */
static int add_sql_build(size_t n, bool raise, char **ret_sql)
{
	size_t cap = 1024 + n * 80, len = 0;
	char *sql = malloc(cap);

	if (sql == NULL)
		return DTX_ENOMEM;
	sql_add(sql, cap, &len, "WITH d (tbl, k, s, n, f) AS (VALUES ");
	for (size_t i = 0; i < n; i++)
		sql_add(sql, cap, &len,
		        "%s($%zu::text,$%zu::bytea,$%zu::int8,$%zu::int8,"
		        "$%zu::int8)",
		        i ? "," : "", i * 5 + 1, i * 5 + 2, i * 5 + 3,
		        i * 5 + 4, i * 5 + 5);
	sql_add(sql, cap, &len,
	        "), u AS (INSERT INTO dtx_kv AS kv (tbl, k, v) SELECT tbl, k,"
	        " convert_to(s::text, 'UTF8') FROM d WHERE n >= f OR EXISTS "
	        "(SELECT 1 FROM dtx_kv x WHERE x.tbl = d.tbl AND x.k = d.k) "
	        "ORDER BY tbl, k ON CONFLICT (tbl, k) DO UPDATE SET v = "
	        "convert_to((convert_from(kv.v, 'UTF8')::int8 + "
	        "convert_from(EXCLUDED.v, 'UTF8')::int8)::text, 'UTF8') WHERE "
	        "convert_from(kv.v, 'UTF8')::int8 + (SELECT d.n FROM d WHERE "
	        "d.tbl = kv.tbl AND d.k = kv.k) >= (SELECT d.f FROM d WHERE "
	        "d.tbl = kv.tbl AND d.k = kv.k) RETURNING 1) ");
	if (raise)
		sql_add(sql, cap, &len,
		        "SELECT CASE WHEN count(*) = %zu THEN 0 ELSE 1 / "
		        "(count(*) - count(*)) END FROM u",
		        n);
	else
		sql_add(sql, cap, &len, "SELECT count(*) FROM u");
	*ret_sql = sql;
	return DTX_OK;
}

/* pg_sum - one counter's deferred changes, summed (see add_sql_build). */
typedef struct pg_sum {
	const pg_add *a; /* borrowed: its table and key */
	int64_t s, n, f;
	char sb[24], nb[24], fb[24];
} pg_sum;

/* add_params binds sums[0..n) as add_sql_build's parameters into p (5 a
 * sum), their texts into the sums. */
static void add_params(const dtx_store *store, pg_sum *sums, size_t n, param *p)
{
	for (size_t i = 0; i < n; i++) {
		pg_sum *m = &sums[i];

		snprintf(m->sb, sizeof(m->sb), "%lld", (long long)m->s);
		snprintf(m->nb, sizeof(m->nb), "%lld", (long long)m->n);
		snprintf(m->fb, sizeof(m->fb), "%lld", (long long)m->f);
		p[i * 5] = P_TEXT(store->names[m->a->t]);
		p[i * 5 + 1] = P_BIN(m->a->key, m->a->klen);
		p[i * 5 + 2] = P_TEXT(m->sb);
		p[i * 5 + 3] = P_TEXT(m->nb);
		p[i * 5 + 4] = P_TEXT(m->fb);
	}
}

static bool add_is_same(const pg_add *x, const pg_add *y)
{
	return x->t == y->t && x->klen == y->klen &&
	       memcmp(x->key, y->key, x->klen) == 0;
}

static int cmp_add(const void *a, const void *b)
{
	const pg_add *x = a, *y = b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = (x->t > y->t) - (x->t < y->t);

	if (c == 0)
		c = memcmp(x->key, y->key, n);
	return c != 0 ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

/* sums_make sorts slot's deferred changes and sums them per counter into
 * sums (slot->nadds long); *ret_n gets how many counters. kv_add kept
 * every sum within int64 (ADD_DEFER_MAX). */
static void sums_make(pg_slot *slot, pg_sum *sums, size_t *ret_n)
{
	size_t n = 0;

	qsort(slot->adds, slot->nadds, sizeof(*slot->adds), cmp_add);
	for (size_t i = 0; i < slot->nadds; i++) {
		const pg_add *a = &slot->adds[i];
		pg_sum *m = &sums[n];

		if (n == 0 || !add_is_same(sums[n - 1].a, a)) {
			*m = (pg_sum){.a = a, .f = INT64_MIN};
			n++;
		} else {
			m = &sums[n - 1];
		}
		m->s += a->delta;
		m->n += a->delta < 0 ? a->delta : 0;
		m->f = a->floor > m->f ? a->floor : m->f;
	}
	*ret_n = n;
}

/* adds_build makes the statement of slot's deferred changes (see
 * add_sql_build, with raise): its SQL in *ret_sql, its parameters in
 * *ret_p and their storage in *ret_sums (all owned by the caller); *ret_n
 * gets the number of parameters. */
static int adds_build(const dtx_store *store, pg_slot *slot, char **ret_sql,
                      param **ret_p, pg_sum **ret_sums, int *ret_n)
{
	pg_sum *sums = calloc(slot->nadds, sizeof(*sums));
	param *p = calloc(slot->nadds * 5, sizeof(*p));
	size_t n = 0;
	int rv = sums != NULL && p != NULL ? DTX_OK : DTX_ENOMEM;

	if (rv == DTX_OK) {
		sums_make(slot, sums, &n);
		add_params(store, sums, n, p);
		rv = add_sql_build(n, true, ret_sql);
	}
	if (rv != DTX_OK) {
		free(sums);
		free(p);
		return rv;
	}
	*ret_p = p;
	*ret_sums = sums;
	*ret_n = (int)(n * 5);
	return DTX_OK;
}

/* is_pending tells whether slot's transaction has a deferred change of
 * the counter (t, key). */
static bool is_pending(const pg_slot *slot, unsigned t, const void *key,
                       size_t klen)
{
	for (size_t i = 0; i < slot->nadds; i++) {
		const pg_add *a = &slot->adds[i];

		if (a->t == t && a->klen == klen &&
		    memcmp(a->key, key, klen) == 0)
			return true;
	}
	return false;
}

/* adds_end ends the deferred changes of txn's depth: kept, they belong to
 * the parent; else they are dropped (as rows_end does for rows). */
static void adds_end(pg_slot *slot, unsigned depth, bool keep)
{
	size_t j = 0;

	for (size_t i = 0; i < slot->nadds; i++) {
		pg_add *a = &slot->adds[i];

		if (a->depth >= depth && !keep)
			continue;
		if (a->depth >= depth)
			a->depth = depth - 1;
		if (j != i)
			slot->adds[j] = *a;
		j++;
	}
	slot->nadds = j;
}

/* add_defer keeps a change for the top-level commit (commit_send). */
static int add_defer(dtx_txn *txn, unsigned t, const void *key, size_t klen,
                     int64_t delta, int64_t floor)
{
	pg_slot *slot = SLOT(txn);
	pg_add *a;

	if (slot->nadds == slot->capadds) {
		size_t cap = slot->capadds ? slot->capadds * 2 : 16;
		pg_add *n = realloc(slot->adds, cap * sizeof(*n));

		if (n == NULL)
			return DTX_ENOMEM;
		slot->adds = n;
		slot->capadds = cap;
	}
	a = &slot->adds[slot->nadds++];
	a->t = t;
	a->depth = txn->depth;
	a->klen = klen;
	a->delta = delta;
	a->floor = floor;
	memcpy(a->key, key, klen);
	return DTX_OK;
}

/* add_now changes the counter at once, in one statement on txn's
 * connection; *ret_short when it did not fit (nothing changed). */
static int add_now(dtx_txn *txn, unsigned t, const void *key, size_t klen,
                   int64_t delta, int64_t floor, bool *ret_short)
{
	pg_add a = {.t = t, .klen = klen};
	pg_sum m = {.a = &a, .s = delta, .n = delta, .f = floor};
	PGresult *res = NULL;
	char *sql = NULL;
	param p[5];
	int rv;

	memcpy(a.key, key, klen);
	add_params(txn->store, &m, 1, p);
	if ((rv = add_sql_build(1, false, &sql)) != DTX_OK)
		return rv;
	rv = txn_exec(txn, "add", sql, p, 5, &res);
	free(sql);
	if (rv != DTX_OK)
		return rv;
	if (PQntuples(res) != 1 || PQgetlength(res, 0, 0) != 8)
		rv = DTX_EIO;
	else
		*ret_short = get_be64(PQgetvalue(res, 0, 0)) == 0;
	PQclear(res);
	return rv;
}

/* pg_kv_add defers the change when the barrier lets it (txn->defer_adds:
 * a group's transaction) and it keeps every sum within int64; else it
 * applies it at once. */
static int pg_kv_add(dtx_txn *txn, unsigned t, const void *key, size_t klen,
                     int64_t delta, int64_t floor, bool *ret_short)
{
	int rv = key_check(klen);

	if (rv != DTX_OK)
		return rv;
	if (txn->h == NULL)
		return DTX_EINVAL;
	if (txn->defer_adds && SLOT(txn)->nadds < ADDS_MAX &&
	    delta < ADD_DEFER_MAX && delta > -ADD_DEFER_MAX)
		return add_defer(txn, t, key, klen, delta, floor);
	return add_now(txn, t, key, klen, delta, floor, ret_short);
}

/* prefix_end writes into end the first key past every key starting with
 * prefix (plen bytes) and returns its length, or 0 if there is none. */
static size_t prefix_end(const uint8_t *prefix, size_t plen, uint8_t *end)
{
	memcpy(end, prefix, plen);
	while (plen > 0 && end[plen - 1] == 0xff)
		plen--;
	if (plen > 0)
		end[plen - 1]++;
	return plen;
}

/* scan_page fetches up to SCAN_PAGE rows of table t from key from (flen
 * bytes; inclusive on the first page, exclusive after) to end (elen
 * bytes, 0: the table's end), in key order, into *ret_res (owned by the
 * caller). */
static int scan_page(dtx_txn *txn, unsigned t, const void *from, size_t flen,
                     bool first, const void *end, size_t elen,
                     PGresult **ret_res)
{
	param p[3] = {P_TEXT(txn->store->names[t]),
	              P_BIN(flen ? from : "", flen),
	              P_BIN(elen ? end : "", elen)};

	return txn_exec(txn, "scan",
	                first ? "SELECT k, v FROM dtx_kv WHERE tbl = $1 AND "
	                        "k >= $2 AND (length($3::bytea) = 0 OR "
	                        "k < $3::bytea) ORDER BY k LIMIT " SCAN_PAGE
	                      : "SELECT k, v FROM dtx_kv WHERE tbl = $1 AND "
	                        "k > $2 AND (length($3::bytea) = 0 OR "
	                        "k < $3::bytea) ORDER BY k LIMIT " SCAN_PAGE,
	                p, 3, ret_res);
}

/* pg_kv_scan reads the keys of the prefix a page at a time, so a scan fn
 * stops early (taking the first few of a large table) costs a page, not
 * the table. The page's result is the scan's own, not txn's scratch, so
 * fn may run statements on txn. */
static int pg_kv_scan(dtx_txn *txn, unsigned t, const void *prefix, size_t plen,
                      dtx_scan_fn fn, void *arg)
{
	uint8_t end[KEY_MAX], from[KEY_MAX];
	size_t elen = plen <= KEY_MAX ? prefix_end(prefix, plen, end) : 0;
	size_t flen = plen;
	PGresult *res = NULL;
	int rv = plen > KEY_MAX ? DTX_EINVAL : DTX_OK;
	int n = SCAN_PAGE_ROWS;

	if (rv == DTX_OK && plen > 0)
		memcpy(from, prefix, plen);
	for (bool first = true; rv == DTX_OK && n == SCAN_PAGE_ROWS;
	     first = false) {
		rv = scan_page(txn, t, from, flen, first, end, elen, &res);
		if (rv != DTX_OK)
			break;
		n = PQntuples(res);
		for (int i = 0; i < n && rv == DTX_OK; i++)
			rv = fn(arg, PQgetvalue(res, i, 0),
			        (size_t)PQgetlength(res, i, 0),
			        PQgetvalue(res, i, 1),
			        (size_t)PQgetlength(res, i, 1));
		flen = n > 0 ? (size_t)PQgetlength(res, n - 1, 0) : 0;
		if (rv == DTX_OK && n == SCAN_PAGE_ROWS && flen > KEY_MAX)
			rv = DTX_ECORRUPT; /* a key no put could write */
		else if (rv == DTX_OK && n > 0)
			memcpy(from, PQgetvalue(res, n - 1, 0), flen);
		PQclear(res);
		res = NULL;
	}
	return rv;
}

/* ---- schema ------------------------------------------------------------ */

static const char schema_sql[] =
        "CREATE TABLE IF NOT EXISTS dtx_meta ("
        " k text PRIMARY KEY, v text NOT NULL);"
        "CREATE TABLE IF NOT EXISTS dtx_barrier ("
        " gid text COLLATE \"C\" NOT NULL, branch int4 NOT NULL,"
        " op int2 NOT NULL, status int2 NOT NULL, flags int2 NOT NULL,"
        " message text NOT NULL DEFAULT '', result bytea,"
        " created timestamptz NOT NULL DEFAULT now(),"
        " keep_until int8 NOT NULL DEFAULT 0,"
        " PRIMARY KEY (gid, branch, op));"
        "CREATE TABLE IF NOT EXISTS dtx_kv ("
        " tbl text COLLATE \"C\" NOT NULL, k bytea NOT NULL,"
        " v bytea NOT NULL, PRIMARY KEY (tbl, k));"
        "INSERT INTO dtx_meta VALUES ('schema', '2')"
        " ON CONFLICT (k) DO NOTHING;";

/* upgrade_sql takes a version 1 schema (made by an SDK before deadlines)
 * to version 2: existing rows keep nothing past their grace (0). */
static const char upgrade_sql[] =
        "ALTER TABLE dtx_barrier"
        " ADD COLUMN IF NOT EXISTS keep_until int8 NOT NULL DEFAULT 0;"
        "UPDATE dtx_meta SET v = '2' WHERE k = 'schema' AND v = '1';";

/* column - what one column of a dtx table must be. */
typedef struct column {
	const char *table;
	const char *name;
	unsigned oid;
} column;

static const column columns[] = {
        {"dtx_barrier", "gid", OID_TEXT},
        {"dtx_barrier", "branch", OID_INT4},
        {"dtx_barrier", "op", OID_INT2},
        {"dtx_barrier", "status", OID_INT2},
        {"dtx_barrier", "flags", OID_INT2},
        {"dtx_barrier", "message", OID_TEXT},
        {"dtx_barrier", "result", OID_BYTEA},
        {"dtx_barrier", "keep_until", OID_INT8},
        {"dtx_kv", "tbl", OID_TEXT},
        {"dtx_kv", "k", OID_BYTEA},
        {"dtx_kv", "v", OID_BYTEA},
};

/* exec_script runs sql (several statements, no parameters) on conn. */
static int exec_script(pg_store *ps, PGconn *conn, const char *sql,
                       const char *what)
{
	PGresult *res = PQexec(conn, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return pg_fail(ps, conn, res, what);
	PQclear(res);
	return DTX_OK;
}

/* schema_upgrade runs upgrade_sql if the version row says 1. */
static int schema_upgrade(pg_store *ps, PGconn *conn)
{
	PGresult *res = NULL;
	bool old;
	int rv = conn_exec(ps, conn, "read schema version",
	                   "SELECT 1 FROM dtx_meta WHERE k = 'schema' "
	                   "AND v = '1'",
	                   NULL, 0, &res);

	if (rv != DTX_OK)
		return rv;
	old = PQntuples(res) == 1;
	PQclear(res);
	if (!old)
		return DTX_OK;
	sdk_logf(DTX_LOG_INFO,
	         "store %s: barrier schema 1 upgraded to 2 (keep_until)",
	         ps->where);
	return exec_script(ps, conn, upgrade_sql, "upgrade schema");
}

/* schema_create creates the missing tables and the version row, and
 * upgrades an older schema, in one transaction, serialised with other
 * processes opening the database. */
static int schema_create(pg_store *ps, PGconn *conn)
{
	int rv = conn_exec(ps, conn, "begin", "BEGIN", NULL, 0, NULL);

	if (rv == DTX_OK)
		rv = conn_exec(ps, conn, "schema lock",
		               "SELECT pg_advisory_xact_lock(" LOCK_KEY ", -1)",
		               NULL, 0, NULL);
	if (rv == DTX_OK)
		rv = exec_script(ps, conn, schema_sql, "create schema");
	if (rv == DTX_OK)
		rv = schema_upgrade(ps, conn);
	(void)conn_exec(ps, conn, rv == DTX_OK ? "commit" : "rollback",
	                rv == DTX_OK ? "COMMIT" : "ROLLBACK", NULL, 0, NULL);
	return rv;
}

/* schema_version reads the version row: a newer one is refused. */
static int schema_version(pg_store *ps, PGconn *conn)
{
	PGresult *res = NULL;
	long v = 0;
	int rv = conn_exec(ps, conn, "read schema version",
	                   "SELECT v FROM dtx_meta WHERE k = 'schema'", NULL, 0,
	                   &res);

	if (rv != DTX_OK)
		return DTX_ECORRUPT; /* no dtx_meta table: not dtx's */
	if (PQntuples(res) == 1)
		v = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (v == SCHEMA_VERSION)
		return DTX_OK;
	sdk_logf(DTX_LOG_WARN,
	         "store %s: barrier schema version %ld, this "
	         "build knows %d%s",
	         ps->where, v, SCHEMA_VERSION,
	         v == 1 ? ": a writable open upgrades it" : "");
	return v > SCHEMA_VERSION || v == 1 ? DTX_EVERSION : DTX_ECORRUPT;
}

/* schema_check compares every column's type and each table's primary key
 * with what the SDK made: a table altered by hand is refused. */
static int schema_check(pg_store *ps, PGconn *conn)
{
	char oid[16];
	PGresult *res = NULL;
	size_t i;
	int rv = DTX_OK;

	for (i = 0; i < sizeof(columns) / sizeof(columns[0]) && rv == DTX_OK;
	     i++) {
		param p[2] = {P_TEXT(columns[i].table),
		              P_TEXT(columns[i].name)};

		rv = conn_exec(ps, conn, "check schema",
		               "SELECT atttypid::int4 FROM pg_attribute "
		               "WHERE attrelid = to_regclass($1) "
		               "AND attname = $2 AND NOT attisdropped",
		               p, 2, &res);
		if (rv != DTX_OK)
			return rv;
		if (PQntuples(res) != 1 ||
		    get_be32(PQgetvalue(res, 0, 0)) != columns[i].oid) {
			snprintf(oid, sizeof(oid), "%u", columns[i].oid);
			sdk_logf(DTX_LOG_WARN,
			         "store %s: %s.%s is missing or not of type "
			         "oid %s: refused",
			         ps->where, columns[i].table, columns[i].name,
			         oid);
			rv = DTX_ECORRUPT;
		}
		PQclear(res);
	}
	if (rv != DTX_OK)
		return rv;
	rv = conn_exec(ps, conn, "check keys",
	               "SELECT count(*)::int4 FROM pg_constraint WHERE contype "
	               "= 'p' AND conrelid IN (to_regclass('dtx_barrier'), "
	               "to_regclass('dtx_kv'))",
	               NULL, 0, &res);
	if (rv != DTX_OK)
		return rv;
	if (get_be32(PQgetvalue(res, 0, 0)) != 2) {
		sdk_logf(DTX_LOG_WARN,
		         "store %s: dtx_barrier or dtx_kv lost "
		         "its primary key: refused",
		         ps->where);
		rv = DTX_ECORRUPT;
	}
	PQclear(res);
	return rv;
}

/* ---- open and close ---------------------------------------------------- */

static void pg_close(void *impl)
{
	pg_store *ps = impl;

	if (ps == NULL)
		return;
	for (unsigned i = 0; i < GROUPS_MAX + POOL_SPARE; i++) {
		pg_slot *slot = &ps->slots[i];

		slot_reset(slot);
		free(slot->wrote);
		free(slot->adds);
		free(slot->lgids);
		if (slot->conn != NULL)
			PQfinish(slot->conn);
	}
	if (ps->sync_init) {
		pthread_cond_destroy(&ps->cv);
		pthread_mutex_destroy(&ps->mu);
	}
	free(ps->uri);
	free(ps);
}

static int pg_alloc(const char *uri, const dtx_store_opts *opts,
                    pg_store **ret_ps)
{
	pg_store *ps = calloc(1, sizeof(*ps));

	if (ps == NULL || (ps->uri = strdup(uri)) == NULL) {
		free(ps);
		return DTX_ENOMEM;
	}
	ps->read_only = opts->read_only;
	ps->nslots = (opts->groups ? opts->groups : 1) + POOL_SPARE;
	snprintf(ps->where, sizeof(ps->where), "postgresql");
	for (unsigned i = 0; i < GROUPS_MAX + POOL_SPARE; i++)
		ps->slots[i].ps = ps;
	if (pthread_mutex_init(&ps->mu, NULL) != 0) {
		pg_close(ps);
		return DTX_ENOMEM;
	}
	if (pthread_cond_init(&ps->cv, NULL) != 0) {
		pthread_mutex_destroy(&ps->mu);
		pg_close(ps);
		return DTX_ENOMEM;
	}
	ps->sync_init = true;
	*ret_ps = ps;
	return DTX_OK;
}

/* pg_start connects the first slot, names the store after its database
 * (never the password) and creates or checks the schema. */
static int pg_start(pg_store *ps)
{
	PGconn *conn;
	int rv = conn_open(ps, &conn);

	if (rv != DTX_OK)
		return rv;
	ps->slots[0].conn = conn;
	snprintf(ps->where, sizeof(ps->where), "postgresql %s on %s:%s",
	         PQdb(conn), PQhost(conn), PQport(conn));
	if (!ps->read_only)
		rv = schema_create(ps, conn);
	if (rv == DTX_OK)
		rv = schema_version(ps, conn);
	if (rv == DTX_OK)
		rv = schema_check(ps, conn);
	return rv;
}

static const sdk_store_ops pg_ops = {
        .version = SDK_STORE_OPS_VERSION,
        .name = "postgresql",
        .close = pg_close,
        .enter = pg_enter,
        .leave = pg_leave,
        .grow = pg_grow,
        .txn_begin = pg_txn_begin,
        .txn_commit = pg_txn_commit,
        .txn_abort = pg_txn_abort,
        .lock_gids = pg_lock_gids,
        .rec_get = pg_rec_get,
        .rec_put = pg_rec_put,
        .rec_scan = pg_rec_scan,
        .rec_gids = pg_rec_gids,
        .rec_del_gid = pg_rec_del_gid,
        .kv_get = pg_kv_get,
        .kv_put = pg_kv_put,
        .kv_del = pg_kv_del,
        .kv_scan = pg_kv_scan,
        .kv_add = pg_kv_add,
};

int dtx_store_open_pg(const char *uri, const dtx_store_opts *opts,
                      dtx_store **ret_store)
{
	dtx_store_opts defaults;
	pg_store *ps = NULL;
	int rv;

	dtx_store_opts_init(&defaults);
	if (opts == NULL)
		opts = &defaults;
	if (uri == NULL || ret_store == NULL ||
	    !sdk_store_opts_are_valid(opts) || opts->groups > GROUPS_MAX)
		return DTX_EINVAL;
	rv = pg_alloc(uri, opts, &ps);
	if (rv == DTX_OK)
		rv = pg_start(ps);
	if (rv != DTX_OK) {
		pg_close(ps);
		return rv;
	}
	rv = sdk_store_create(&pg_ops, ps, ps->where, opts, ret_store);
	if (rv == DTX_OK)
		(*ret_store)->groups = ps->nslots - POOL_SPARE;
	return rv;
}

/* dtx_txn_pg sends what is queued (BEGIN, the savepoints of txn's
 * depth) first, so the caller's SQL runs inside them. If that fails, the
 * slot is marked broken: the caller's statements fail or, whatever they
 * do, the transaction does not commit. */
PGconn *dtx_txn_pg(dtx_txn *txn)
{
	if (txn == NULL || txn->h == NULL || txn->store->ops != &pg_ops)
		return NULL;
	txn_clear(txn);
	if (materialize(txn) != DTX_OK ||
	    run_queued(SLOT(txn), NULL, 0) != DTX_OK)
		SLOT(txn)->broken = true;
	return CONN(txn);
}

PGconn *dtx_call_pg(dtx_call *call)
{
	return dtx_txn_pg(dtx_call_txn(call));
}
