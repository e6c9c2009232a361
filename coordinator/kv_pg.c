/*
 * kv_pg.c - the PostgreSQL backend of kv.h: a store is a schema of one
 * database, reached by a libpq URI. The only file of the coordinator that
 * includes <libpq-fe.h>.
 *
 * Owns: the store's connections (one writer connection holding the
 * store's lock, a pool of reader connections), the SQL schema, the
 * translation of libpq's and PostgreSQL's errors to dtx_err. Never: looks
 * inside a key or a value, builds SQL from a key or a value (they are
 * always binary parameters), reconnects its writer connection (the lock
 * goes with it: a lost writer connection is DTX_EIO for ever, crash-only).
 *
 * Schema (DC_KV_PG_VERSION): per kv table NAME a table dtx_NAME (k bytea
 * PRIMARY KEY, v bytea NOT NULL), and dtx_schema (version int) with one
 * row. They live in the connection's current_schema() - the first schema
 * of its search_path that exists, "public" unless the URI sets
 * options=-csearch_path=NAME - so several stores share a database in
 * several schemas; dtx never creates a schema. A writer creates what is
 * missing in one transaction (a fresh store appears whole or not at all)
 * while it holds the lock; a reader creates nothing. bytea compares by
 * memcmp, then length: kv.h's order.
 *
 * One writer: the writer connection takes the session-level advisory lock
 * hashtextextended('dtx log ' || current_schema(), 0) at open and holds it
 * while the connection lives; a second writer gets DTX_EBUSY naming the
 * holder's pid, address and application_name.
 *
 * Write transactions run in libpq's pipeline mode: BEGIN and the writes
 * are sent without waiting; a read in the transaction, COMMIT, or every
 * PIPE_MAX statements send a sync and read the results queued so far (a
 * read of many keys is one statement on a bytea[]: one sync). The
 * first failure spoils the transaction (kept in pg_txn.failed).
 *
 * Batches. A statement costs the server a bind and an execution whatever
 * it carries, and a group commit is mostly small puts and deletes (~45
 * records per purchase of the shop's saga): one statement each made the
 * statements, not the rows, PostgreSQL's work. So puts and deletes are
 * held per table (pg_kv.pend: copied, the caller's bytes are borrowed)
 * and sent as two statements per table: an INSERT ... SELECT FROM
 * unnest($1::bytea[], $2::bytea[]) ON CONFLICT DO UPDATE of the keys
 * whose last write is a put, a DELETE ... WHERE k = ANY($1::bytea[]) of
 * those whose last write is a delete (pend_flush; the arrays in binary,
 * array_of). Only the last write of a key is sent: an INSERT may not
 * touch a row twice, and the last write is what a transaction leaves, so
 * no order is lost. A table's held writes are sent before anything that
 * must see them or follow them - a read of that table (get, get_many, a
 * cursor's page), an expectation on it, a dc_kv_del_range - and all of
 * them before COMMIT, or past PEND_OPS_MAX writes or PEND_BYTES_MAX bytes
 * held (so a batch's memory and a parameter's size are bounded). A write
 * bigger than PEND_ONE_MAX goes as a statement of its own. Reads and
 * expectations of one table never depend on another table's writes, so
 * the order in which tables are flushed is free. COMMIT
 * returns only after PostgreSQL answered it, with synchronous_commit set
 * on on every connection. A read transaction is REPEATABLE READ, READ ONLY
 * on a pooled connection, its snapshot taken at begin (LMDB's semantics);
 * the pool lets read transactions run on several threads at once, one
 * connection per transaction (opts->readers, connected when first
 * needed; a begin waits up to POOL_WAIT_MS for one, then DTX_EBUSY). A
 * reader connection that broke is dropped and made anew by the next
 * begin. Cursors read pages of PAGE_ROWS rows (WHERE k > last), so memory
 * is bounded by a page whatever the table holds; in a write transaction a
 * cursor reads its page again after a write, to see it.
 *
 * Errors (pg_error, the one place that reads SQLSTATEs): cannot connect
 * at open DTX_EUNREACHABLE; 53100 DTX_ENOSPC; 42501 DTX_EINVAL; anything
 * else, a lost connection and a COMMIT whose outcome is unknown included,
 * DTX_EIO. Every reason names the URI without its password (desc) and
 * PostgreSQL's message and SQLSTATE. There is no map to fill: DTX_ELIMIT
 * is never returned (dc_kv_grow says so). Connections get TCP keepalives
 * and a 15 s TCP user timeout on both ends unless the URI sets libpq's,
 * so a writer whose machine vanished loses its session, and the lock, in
 * seconds, and a call on a connection to a vanished server fails in
 * seconds. A server whose machine hangs (its processes stopped, its
 * storage stalled) is not vanished: its kernel acknowledges packets and
 * keepalives, the connection looks alive for ever, and libpq's blocking
 * calls have no deadline. So no call here blocks in PQgetResult (nor
 * PQexec): it polls for the answer its server owes, and one that has not
 * come in ANSWER_WAIT_MS (the TCP user timeout's 15 s) gives the
 * connection up: DTX_EIO, latched for the writer - the commit's outcome
 * is unknown, dtxd stops crash-only, and its restart follows a multi-host
 * URI to a server that answers. (Sends are bounded by the TCP user
 * timeout, zero-window probes included. At open, PQprepare and the
 * query naming the lock's holder still block: a server that hangs just
 * then holds the start, not a running dtxd.)
 *
 * Expectations (dc_kv_expect). A value expectation is one pipelined
 * statement, SELECT 1 / count(*) FROM (SELECT 1 ... WHERE k = $1 AND v =
 * $2 FOR UPDATE): the row is locked to the end of the transaction, and a
 * mismatch divides by zero, which fails the statement on the server, so
 * the rest of the pipeline - COMMIT included - is skipped without a round
 * trip of its own (group commit keeps one round trip per flight). Only a
 * 22012 of a statement marked as an expectation (pg_txn.expect_at) is
 * read as DTX_ECONFLICT. FOR UPDATE rather than FOR SHARE: the caller
 * usually writes the key it expects (a compare and swap), and two share
 * locks that both upgrade deadlock; with FOR UPDATE the second waits, and
 * READ COMMITTED rechecks the WHERE on the row the first committed, so
 * the second sees the new value and conflicts. An absence expectation
 * locks nothing a row could carry, so it first takes a transaction-level
 * advisory lock on the key (hashtextextended of schema, table and key),
 * then, in the next statement (a fresh snapshot that sees what the lock's
 * previous holder committed), divides by 1 - count(*). Absence holds
 * against writers that expect on the same key, which is kv.h's promise.
 *
 * Shared writers (dc_kv_opts.shared): the store's advisory lock is taken
 * shared, so any number of shared writers (dtxd instances that fence
 * every write with dc_kv_expect) work together and a sole writer is kept
 * out, and the other way round.
 */
#include "kv_int.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include <dtx/dtx.h>

#define DC_KV_PG_VERSION 1    /* the schema this build writes */
#define PAGE_ROWS        256  /* rows per cursor page */
#define PIPE_MAX         1024 /* statements in flight before a sync */
#define READERS_DEF      4
#define READERS_MAX      64
#define POOL_WAIT_MS     30000 /* a read transaction waits this for a slot */
#define USAGE_TTL_MS     1000  /* pg_usage measures at most this often */
#define CONNECT_TIMEOUT  "10"  /* seconds, unless the URI says otherwise */
#define ANSWER_WAIT_MS   15000 /* an answer owed, as the TCP user timeout */
#define DESC_MAX         384
#define NAME_MAX_PG      64
#define BYTEA_OID        17
#define BYTEA_ARRAY_OID  1001
#define VALUE_MAX        ((1u << 30) - 1) /* PostgreSQL's largest field */
#define PEND_OPS_MAX     4096             /* writes held before a flush */
#define PEND_BYTES_MAX   (32u << 20)      /* their keys and values */
#define PEND_ONE_MAX     (1u << 20)       /* a bigger write goes on its own */
#define PEND_KEEP        (4u << 20) /* a table's buffer kept for the next */

enum {
	ST_GET,
	ST_PUT,
	ST_DEL,
	ST_RANGE,
	ST_FIRST,
	ST_SEEK,
	ST_NEXT,
	ST_MANY,
	ST_PUTS,   /* the rows of two bytea[], keys and values */
	ST_DELS,   /* the rows of the keys of a bytea[] */
	ST_EXPECT, /* the row holds $2 (locked) */
	ST_LOCK,   /* the advisory lock of key $1 */
	ST_ABSENT, /* no row of key $1 */
	ST_COUNT
};

/* A write held back for its table's next flush: key then value at off of
 * the table's buffer. */
typedef struct pend_op {
	size_t off;
	uint32_t klen, vlen;
	bool del;
} pend_op;

/* The writes of one table not sent yet (see "Batches" in the top
 * comment); buf and ops are kept from one transaction to the next. */
typedef struct pg_pend {
	uint8_t *buf;
	size_t len, cap;
	pend_op *ops;
	size_t n, ncap;
} pg_pend;

typedef struct pg_slot {
	PGconn *c; /* NULL until first used, or after it broke */
	bool busy;
} pg_slot;

typedef struct pg_kv {
	dc_kv base;
	char *conninfo; /* the URI as given (password included: never print) */
	char desc[DESC_MAX];
	char schema[NAME_MAX_PG];
	char role[NAME_MAX_PG];
	char db[NAME_MAX_PG];
	char *schema_q; /* schema, quoted by PQescapeIdentifier */
	int ntables;
	char tables[DC_KV_TABLES_MAX][32];
	bool has[DC_KV_TABLES_MAX];
	bool read_only;
	bool shared;    /* one of several writers (dc_kv_opts.shared) */
	PGconn *writer; /* NULL for a read-only store */
	int writer_err; /* latched: the writer connection is lost */
	bool writing;   /* a write transaction is open */
	/* the open write transaction's held writes, per table, and their
	 * totals (PEND_OPS_MAX, PEND_BYTES_MAX) */
	pg_pend pend[DC_KV_TABLES_MAX];
	size_t pend_ops, pend_bytes;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int nslots;
	pg_slot slots[READERS_MAX];
	/* pg_usage's last figure and when it was taken (under mu) */
	bool usage_ok;
	dc_kv_usage usage;
	struct timespec usage_at;
} pg_kv;

typedef struct pg_txn {
	dc_kv_txn base;
	pg_kv *kv;
	PGconn *c;
	int slot;       /* pool slot of a read transaction; -1: the writer */
	int queued;     /* statements sent, results not yet read */
	int failed;     /* first failure of a write transaction */
	uint64_t wseq;  /* counts writes, so cursors know to refetch */
	PGresult *last; /* backs the value of the last get */
	/* bit i: the i-th result of the next sync is an expectation's */
	uint64_t expect_at[(PIPE_MAX + 128) / 64];
} pg_txn;

typedef struct pg_cursor {
	dc_kv_cursor base;
	pg_txn *x;
	int t;
	PGresult *page;
	int row, nrows;
	bool positioned, at_end;
	uint64_t wseq; /* x->wseq when page was read */
} pg_cursor;

extern const dc_kv_ops dc_kv_pg_ops;

/* ---- errors ------------------------------------------------------------ */

/* one_line copies PostgreSQL's message without its trailing newlines. */
static const char *one_line(const char *msg, char *buf, size_t len)
{
	size_t n;

	snprintf(buf, len, "%s", msg != NULL && msg[0] ? msg : "no message");
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	return buf;
}

/* pg_error translates a failure of what on connection c (r: its result, or
 * NULL) to a dtx_err and records the reason, PostgreSQL's primary message
 * and SQLSTATE (or libpq's text): 53100 (disk full) is DTX_ENOSPC, 42501
 * (no privilege) DTX_EINVAL, anything else - a lost connection, the rest
 * of class 53, a server shutting down - DTX_EIO. */
static int pg_error(const pg_kv *kv, PGconn *c, const PGresult *r,
                    const char *what)
{
	const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg =
	        r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	bool bad = PQstatus(c) == CONNECTION_BAD;
	char line[300];
	int err = DTX_EIO;

	if (st != NULL && strcmp(st, "53100") == 0)
		err = DTX_ENOSPC;
	else if (st != NULL && strcmp(st, "42501") == 0)
		err = DTX_EINVAL;
	if (msg == NULL || st == NULL)
		return dc_kv_fail(
		        err, "store %s: %s: %s%s", kv->desc, what,
		        bad ? "connection lost: " : "",
		        one_line(PQerrorMessage(c), line, sizeof(line)));
	return dc_kv_fail(err, "store %s: %s: %s (SQLSTATE %s)", kv->desc, what,
	                  one_line(msg, line, sizeof(line)), st);
}

static bool res_ok(const PGresult *r)
{
	ExecStatusType s = PQresultStatus(r);

	return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* await_input waits until c's next result can be read without blocking
 * (true; also when libpq has a lost connection to report), or
 * ANSWER_WAIT_MS passed without it (false): see the top comment, a hung
 * server. */
static bool await_input(PGconn *c)
{
	struct pollfd p = {.fd = PQsocket(c), .events = POLLIN};
	int64_t deadline = mono_ms() + ANSWER_WAIT_MS;

	while (p.fd >= 0 && PQisBusy(c)) {
		int64_t left = deadline - mono_ms();

		if (left <= 0 || (poll(&p, 1, (int)left) < 0 && errno != EINTR))
			return false;
		if (PQconsumeInput(c) != 1)
			break; /* PQgetResult reports the loss */
	}
	return true;
}

/* hung gives c up: its server owes an answer it did not give in
 * ANSWER_WAIT_MS. The writer's loss is latched; a reader's connection is
 * left mid-command, so pool_put closes it. Returns DTX_EIO. */
static int hung(pg_kv *kv, PGconn *c, const char *what)
{
	if (c == kv->writer)
		kv->writer_err = DTX_EIO;
	return dc_kv_fail(DTX_EIO,
	                  "store %s: %s: the server answered nothing for %d "
	                  "ms; connection given up",
	                  kv->desc, what, ANSWER_WAIT_MS);
}

/* finish reads the results of the command just sent on c as PQexec does
 * (the first error, else the last result), each wait bounded: the result
 * (NULL if libpq has none: see PQerrorMessage), or NULL with *ret_hung
 * set. */
static PGresult *finish(PGconn *c, bool *ret_hung)
{
	PGresult *keep = NULL, *r;

	while (await_input(c)) {
		if ((r = PQgetResult(c)) == NULL)
			return keep;
		if (keep != NULL && !res_ok(keep)) {
			PQclear(r);
		} else {
			PQclear(keep);
			keep = r;
		}
	}
	PQclear(keep);
	*ret_hung = true;
	return NULL;
}

/* exec_ok runs sql (no parameters) on c and returns DTX_OK or its error;
 * *ret_res (may be NULL) gets the result on success. */
static int exec_ok(pg_kv *kv, PGconn *c, const char *sql, const char *what,
                   PGresult **ret_res)
{
	bool hang = false;
	PGresult *r = PQsendQuery(c, sql) == 1 ? finish(c, &hang) : NULL;
	int rc = DTX_OK;

	if (hang)
		return hung(kv, c, what);
	if (r == NULL)
		return pg_error(kv, c, NULL, what);
	if (!res_ok(r))
		rc = pg_error(kv, c, r, what);
	if (rc == DTX_OK && ret_res != NULL)
		*ret_res = r;
	else
		PQclear(r);
	return rc;
}

/* ---- connections ------------------------------------------------------- */

/* describe writes the URI without its password: user, host, port,
 * database and options (a search_path). A socket directory or several
 * hosts go in the query, as libpq reads them. */
static int describe(pg_kv *kv, const char *uri)
{
	static const char *const kw[5] = {"user", "host", "port", "dbname",
	                                  "options"};
	const char *v[5] = {"", "", "", "", ""};
	char *errmsg = NULL, line[300];
	PQconninfoOption *o = PQconninfoParse(uri, &errmsg);
	size_t n;

	if (o == NULL) {
		snprintf(kv->desc, sizeof(kv->desc), "postgresql://?");
		dc_kv_fail(DTX_EINVAL, "store: libpq refuses the URI: %s",
		           one_line(errmsg, line, sizeof(line)));
		PQfreemem(errmsg);
		return DTX_EINVAL;
	}
	for (PQconninfoOption *p = o; p->keyword != NULL; p++)
		for (int i = 0; i < 5; i++)
			if (p->val != NULL && strcmp(p->keyword, kw[i]) == 0)
				v[i] = p->val;
	if (v[1][0] == '/' || strchr(v[1], ',') != NULL)
		snprintf(kv->desc, sizeof(kv->desc),
		         "postgresql://%s%s/%s?host=%s%s%s", v[0],
		         v[0][0] ? "@" : "", v[3], v[1],
		         v[2][0] ? "&port=" : "", v[2]);
	else
		snprintf(kv->desc, sizeof(kv->desc),
		         "postgresql://%s%s%s%s%s/%s", v[0], v[0][0] ? "@" : "",
		         v[1], v[2][0] ? ":" : "", v[2], v[3]);
	n = strlen(kv->desc);
	if (v[4][0] != '\0')
		snprintf(kv->desc + n, sizeof(kv->desc) - n, "%coptions=%s",
		         strchr(kv->desc, '?') ? '&' : '?', v[4]);
	PQconninfoFree(o);
	return DTX_OK;
}

static void notice_drop(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* expect_sql writes the statements of an expectation (see the top
 * comment): a mismatch is a division by zero on the server. */
static void expect_sql(const pg_kv *kv, int s, int t, char *sql, size_t len)
{
	const char *q = kv->schema_q, *n = kv->tables[t];

	if (s == ST_EXPECT)
		snprintf(sql, len,
		         "SELECT 1 / count(*)::int FROM (SELECT 1 FROM "
		         "%s.dtx_%s WHERE k = $1 AND v = $2 FOR UPDATE) s",
		         q, n);
	else if (s == ST_LOCK)
		snprintf(sql, len,
		         "SELECT pg_advisory_xact_lock(hashtextextended('dtx "
		         "key ' || current_schema() || ' %s ' || encode($1, "
		         "'hex'), 0))",
		         n);
	else
		snprintf(sql, len,
		         "SELECT 1 / (1 - count(*))::int FROM %s.dtx_%s WHERE "
		         "k = $1",
		         q, n);
}

/* stmt_sql writes statement s of table t (names from the fixed list of
 * opts, checked [a-z_] by kv.c; the schema quoted by libpq). */
static void stmt_sql(const pg_kv *kv, int s, int t, char *sql, size_t len)
{
	const char *q = kv->schema_q, *n = kv->tables[t];

	if (s >= ST_EXPECT) {
		expect_sql(kv, s, t, sql, len);
		return;
	}
	switch (s) {
	case ST_GET:
		snprintf(sql, len, "SELECT v FROM %s.dtx_%s WHERE k = $1", q,
		         n);
		break;
	case ST_PUT:
		snprintf(sql, len,
		         "INSERT INTO %s.dtx_%s (k, v) VALUES ($1, $2) ON "
		         "CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
		         q, n);
		break;
	case ST_DEL:
		snprintf(sql, len, "DELETE FROM %s.dtx_%s WHERE k = $1", q, n);
		break;
	case ST_RANGE:
		snprintf(sql, len,
		         "DELETE FROM %s.dtx_%s WHERE k >= $1 AND k < $2", q,
		         n);
		break;
	case ST_FIRST:
		snprintf(sql, len,
		         "SELECT k, v FROM %s.dtx_%s ORDER BY k LIMIT %d", q, n,
		         PAGE_ROWS);
		break;
	case ST_SEEK:
		snprintf(sql, len,
		         "SELECT k, v FROM %s.dtx_%s WHERE k >= $1 ORDER BY k "
		         "LIMIT %d",
		         q, n, PAGE_ROWS);
		break;
	case ST_MANY: /* the rows of the keys of a bytea[], by position */
		snprintf(sql, len,
		         "SELECT q.i, t.v FROM unnest($1::bytea[]) WITH "
		         "ORDINALITY AS q(k, i) JOIN %s.dtx_%s t ON t.k = q.k",
		         q, n);
		break;
	case ST_PUTS: /* keys of a batch are distinct: pend_flush */
		snprintf(sql, len,
		         "INSERT INTO %s.dtx_%s (k, v) SELECT * FROM "
		         "unnest($1::bytea[], $2::bytea[]) ON CONFLICT (k) DO "
		         "UPDATE SET v = EXCLUDED.v",
		         q, n);
		break;
	case ST_DELS:
		snprintf(sql, len,
		         "DELETE FROM %s.dtx_%s WHERE k = ANY($1::bytea[])", q,
		         n);
		break;
	default:
		snprintf(sql, len,
		         "SELECT k, v FROM %s.dtx_%s WHERE k > $1 ORDER BY k "
		         "LIMIT %d",
		         q, n, PAGE_ROWS);
		break;
	}
}

/* stmt_params: how many bytea parameters statement s takes. */
static int stmt_params(int s)
{
	if (s == ST_PUT || s == ST_RANGE || s == ST_EXPECT || s == ST_PUTS)
		return 2;
	return s == ST_FIRST ? 0 : 1;
}

/* stmt_types: the parameter types of statement s (bytea, or bytea[]). */
static const Oid *stmt_types(int s)
{
	static const Oid one[2] = {BYTEA_OID, BYTEA_OID};
	static const Oid arrays[2] = {BYTEA_ARRAY_OID, BYTEA_ARRAY_OID};

	return s == ST_MANY || s == ST_PUTS || s == ST_DELS ? arrays : one;
}

/* prepare_table makes the statements of table t on c, named "s<op>_<t>". */
static int prepare_table(pg_kv *kv, PGconn *c, int t)
{
	char sql[512], name[16];
	int rc = DTX_OK;

	for (int s = 0; s < ST_COUNT && rc == DTX_OK; s++) {
		int nparams = stmt_params(s);
		PGresult *r;

		stmt_sql(kv, s, t, sql, sizeof(sql));
		snprintf(name, sizeof(name), "s%d_%d", s, t);
		r = PQprepare(c, name, sql, nparams, stmt_types(s));
		if (!res_ok(r))
			rc = pg_error(kv, c, r, "prepare");
		PQclear(r);
	}
	return rc;
}

static int prepare_all(pg_kv *kv, PGconn *c)
{
	int rc = DTX_OK;

	for (int t = 0; t < kv->ntables && rc == DTX_OK; t++)
		if (kv->has[t])
			rc = prepare_table(kv, c, t);
	return rc;
}

/* pg_connect opens a connection with application_name "dtxd", a
 * connect_timeout and TCP keepalives unless the URI sets them,
 * synchronous_commit on, and (prepare) the statements of the tables the
 * store has. Errors: DTX_EUNREACHABLE, DTX_ENOMEM, DTX_EIO. */
static int pg_connect(pg_kv *kv, bool prepare, PGconn **ret_c)
{
	/* Defaults first: the URI (expanded from dbname) overrides them. */
	const char *const kw[] = {"application_name", "connect_timeout",
	                          "keepalives_idle",  "keepalives_interval",
	                          "keepalives_count", "tcp_user_timeout",
	                          "dbname",           NULL};
	const char *const val[] = {"dtxd", CONNECT_TIMEOUT, "5",          "2",
	                           "3",    "15000",         kv->conninfo, NULL};
	PGconn *c = PQconnectdbParams(kw, val, 1);
	char line[300];
	int rc;

	if (c == NULL)
		return dc_kv_fail(DTX_ENOMEM, "store %s: out of memory",
		                  kv->desc);
	if (PQstatus(c) != CONNECTION_OK) {
		rc = dc_kv_fail(
		        DTX_EUNREACHABLE, "store %s: cannot connect: %s",
		        kv->desc,
		        one_line(PQerrorMessage(c), line, sizeof(line)));
		PQfinish(c);
		return rc;
	}
	PQsetNoticeProcessor(c, notice_drop, NULL);
	/* The server's keepalives end the session of a client that vanished
	 * (a machine lost) in seconds, not hours: the writer lock goes with
	 * it. Unix sockets ignore them. Every statement of the store finds
	 * its rows by primary key (one key, a bytea[] of keys, or a range),
	 * so scans of a whole table and hash or merge joins are never right;
	 * but the statements are prepared when the tables are new and empty,
	 * and their generic plans then scanned dtx_txs whole for every gid
	 * probe (10.6 million rows read in a 10 s benchmark point) and
	 * dtx_active for every commit's deletes: the planner is told so. */
	rc = exec_ok(kv, c,
	             "SET synchronous_commit = on; "
	             "SET enable_seqscan = off; "
	             "SET enable_hashjoin = off; "
	             "SET enable_mergejoin = off; "
	             "SET client_min_messages = warning; "
	             "SET tcp_keepalives_idle = 5; "
	             "SET tcp_keepalives_interval = 2; "
	             "SET tcp_keepalives_count = 3; "
	             "SET tcp_user_timeout = 15000",
	             "set up the session", NULL);
	if (rc == DTX_OK && prepare)
		rc = prepare_all(kv, c);
	if (rc != DTX_OK) {
		PQfinish(c);
		return rc;
	}
	*ret_c = c;
	return DTX_OK;
}

/* ---- the reader pool --------------------------------------------------- */

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* pick takes a free slot (one with a connection first) under kv->mu;
 * -1 if all are busy. */
static int pick(pg_kv *kv)
{
	int empty = -1;

	for (int i = 0; i < kv->nslots; i++) {
		if (kv->slots[i].busy)
			continue;
		if (kv->slots[i].c != NULL) {
			kv->slots[i].busy = true;
			return i;
		}
		if (empty < 0)
			empty = i;
	}
	if (empty >= 0)
		kv->slots[empty].busy = true;
	return empty;
}

/* pool_get gives a connection of the pool to the calling thread, waiting
 * up to POOL_WAIT_MS for one; it connects a slot that has none (outside
 * the lock). Errors: DTX_EBUSY (every slot stayed busy), those of
 * pg_connect. */
static int pool_get(pg_kv *kv, int *ret_slot)
{
	struct timespec dl;
	int i, rc = 0;

	deadline_in(&dl, POOL_WAIT_MS);
	pthread_mutex_lock(&kv->mu);
	while ((i = pick(kv)) < 0 && rc == 0)
		rc = pthread_cond_timedwait(&kv->cv, &kv->mu, &dl);
	pthread_mutex_unlock(&kv->mu);
	if (i < 0)
		return dc_kv_fail(DTX_EBUSY,
		                  "store %s: all %d reader connections stayed "
		                  "busy for %d ms",
		                  kv->desc, kv->nslots, POOL_WAIT_MS);
	if (kv->slots[i].c == NULL) {
		rc = pg_connect(kv, true, &kv->slots[i].c);
		if (rc != DTX_OK) {
			pthread_mutex_lock(&kv->mu);
			kv->slots[i].busy = false;
			pthread_cond_signal(&kv->cv);
			pthread_mutex_unlock(&kv->mu);
			return rc;
		}
	}
	*ret_slot = i;
	return DTX_OK;
}

/* pool_put returns slot i; a broken connection is closed, so the next
 * user connects afresh. */
static void pool_put(pg_kv *kv, int i)
{
	if (PQstatus(kv->slots[i].c) != CONNECTION_OK ||
	    PQtransactionStatus(kv->slots[i].c) != PQTRANS_IDLE) {
		PQfinish(kv->slots[i].c);
		kv->slots[i].c = NULL;
	}
	pthread_mutex_lock(&kv->mu);
	kv->slots[i].busy = false;
	pthread_cond_signal(&kv->cv);
	pthread_mutex_unlock(&kv->mu);
}

/* ---- open: names, lock, schema ----------------------------------------- */

static void copy_val(PGresult *r, int col, char *dst, size_t len)
{
	snprintf(dst, len, "%s",
	         PQgetisnull(r, 0, col) ? "" : PQgetvalue(r, 0, col));
}

/* learn_names reads the schema, role and database the connection is in.
 * Errors: DTX_EINVAL (no schema on the search_path), DTX_EIO. */
static int learn_names(pg_kv *kv, PGconn *c)
{
	PGresult *r = NULL;
	int rc = exec_ok(kv, c,
	                 "SELECT current_schema(), current_user, "
	                 "current_database()",
	                 "read the session's names", &r);

	if (rc != DTX_OK)
		return rc;
	copy_val(r, 1, kv->role, sizeof(kv->role));
	copy_val(r, 2, kv->db, sizeof(kv->db));
	if (PQgetisnull(r, 0, 0)) {
		PQclear(r);
		return dc_kv_fail(
		        DTX_EINVAL,
		        "store %s: no schema of the search_path exists "
		        "in database %s (role %s)",
		        kv->desc, kv->db, kv->role);
	}
	copy_val(r, 0, kv->schema, sizeof(kv->schema));
	PQclear(r);
	kv->schema_q = PQescapeIdentifier(c, kv->schema, strlen(kv->schema));
	return kv->schema_q ? DTX_OK
	                    : dc_kv_fail(DTX_ENOMEM, "store %s: out of memory",
	                                 kv->desc);
}

/* lock_holder names the session that holds the lock key (text). */
static int lock_busy(pg_kv *kv, PGconn *c, const char *key)
{
	static const char sql[] =
	        "SELECT a.pid, coalesce(host(a.client_addr), 'local'), "
	        "coalesce(a.application_name, ''), coalesce(a.usename, '') "
	        "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
	        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = "
	        "1 "
	        "AND l.database = (SELECT oid FROM pg_database WHERE datname = "
	        "current_database()) "
	        "AND l.classid = (($1::bigint >> 32) & 4294967295)::oid "
	        "AND l.objid = ($1::bigint & 4294967295)::oid LIMIT 1";
	const char *params[1] = {key};
	PGresult *r = PQexecParams(c, sql, 1, NULL, params, NULL, NULL, 0);
	int rc;

	if (res_ok(r) && PQntuples(r) == 1)
		rc = dc_kv_fail(DTX_EBUSY,
		                "store %s: another writer holds schema %s of "
		                "database %s: pid %s, client %s, "
		                "application_name '%s', role %s",
		                kv->desc, kv->schema, kv->db,
		                PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1),
		                PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3));
	else
		rc = dc_kv_fail(DTX_EBUSY,
		                "store %s: another writer holds schema %s of "
		                "database %s (it could not be named)",
		                kv->desc, kv->schema, kv->db);
	PQclear(r);
	return rc;
}

/* take_lock takes the store's advisory lock on the writer connection for
 * the connection's life. Errors: DTX_EBUSY (held: the reason names the
 * holder), DTX_EIO. */
static int take_lock(pg_kv *kv, PGconn *c)
{
	PGresult *r = NULL;
	int rc =
	        exec_ok(kv, c,
	                kv->shared ? "SELECT pg_try_advisory_lock_shared(k), k "
	                             "FROM (SELECT hashtextextended('dtx log ' "
	                             "|| current_schema(), 0) AS k) s"
	                           : "SELECT pg_try_advisory_lock(k), k FROM "
	                             "(SELECT hashtextextended('dtx log ' || "
	                             "current_schema(), 0) AS k) s",
	                "take the writer lock", &r);

	if (rc != DTX_OK)
		return rc;
	if (strcmp(PQgetvalue(r, 0, 0), "t") != 0)
		rc = lock_busy(kv, c, PQgetvalue(r, 0, 1));
	PQclear(r);
	return rc;
}

/* find_tables marks which dtx_ tables exist in the schema and reads the
 * schema version (0 if dtx_schema is absent). Errors: DTX_ECORRUPT
 * (dtx_schema without a version), DTX_EIO. */
static int find_tables(pg_kv *kv, PGconn *c, int *ret_version)
{
	static const char sql[] =
	        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON "
	        "n.oid = c.relnamespace WHERE n.nspname = current_schema() "
	        "AND c.relkind IN ('r', 'p') AND c.relname LIKE 'dtx\\_%'";
	PGresult *r = NULL;
	char q[160];
	bool schema = false;
	int rc = exec_ok(kv, c, sql, "list the tables", &r);

	if (rc != DTX_OK)
		return rc;
	for (int i = 0; i < PQntuples(r); i++) {
		const char *name = PQgetvalue(r, i, 0) + 4;

		schema = schema || strcmp(name, "schema") == 0;
		for (int t = 0; t < kv->ntables; t++)
			kv->has[t] =
			        kv->has[t] || strcmp(name, kv->tables[t]) == 0;
	}
	PQclear(r);
	*ret_version = 0;
	if (!schema)
		return DTX_OK;
	snprintf(q, sizeof(q), "SELECT max(version) FROM %s.dtx_schema",
	         kv->schema_q);
	rc = exec_ok(kv, c, q, "read the schema version", &r);
	if (rc != DTX_OK)
		return rc;
	*ret_version = PQgetisnull(r, 0, 0) ? -1 : atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (*ret_version <= 0)
		return dc_kv_fail(DTX_ECORRUPT,
		                  "store %s: %s.dtx_schema holds no version",
		                  kv->desc, kv->schema);
	return DTX_OK;
}

/* create_sql appends to buf the statements that create what is missing. */
static void create_sql(pg_kv *kv, int version, char *buf, size_t len)
{
	size_t n = 0;

	/* Writers that share the store (dc_kv_opts.shared) may create it at
	 * once: the lock serializes them, and the statements after it see
	 * what the first one committed (CREATE TABLE IF NOT EXISTS alone
	 * races: a duplicate key in pg_type). */
	n += snprintf(buf + n, len - n,
	              "BEGIN; SELECT pg_advisory_xact_lock(hashtextextended("
	              "'dtx schema ' || current_schema(), 0)); "
	              "CREATE TABLE IF NOT EXISTS %s.dtx_schema "
	              "(version int NOT NULL);",
	              kv->schema_q);
	for (int t = 0; t < kv->ntables; t++)
		if (!kv->has[t])
			n += snprintf(buf + n, len - n,
			              "CREATE TABLE IF NOT EXISTS %s.dtx_%s (k "
			              "bytea PRIMARY KEY, v bytea NOT NULL);",
			              kv->schema_q, kv->tables[t]);
	if (version == 0)
		n += snprintf(buf + n, len - n,
		              "INSERT INTO %s.dtx_schema SELECT %d WHERE NOT "
		              "EXISTS (SELECT 1 FROM %s.dtx_schema);",
		              kv->schema_q, DC_KV_PG_VERSION, kv->schema_q);
	else
		n += snprintf(buf + n, len - n,
		              "UPDATE %s.dtx_schema SET version = %d;",
		              kv->schema_q, DC_KV_PG_VERSION);
	snprintf(buf + n, len - n, "COMMIT");
}

/* create_missing creates every missing table in one transaction. Errors:
 * DTX_EINVAL (the role may not create tables: the reason names it),
 * DTX_EIO, DTX_ENOSPC. */
static int create_missing(pg_kv *kv, PGconn *c, int version)
{
	char sql[DC_KV_TABLES_MAX * 256 + 512], what[256];
	int rc;

	create_sql(kv, version, sql, sizeof(sql));
	snprintf(what, sizeof(what),
	         "create the tables in schema %s of database %s as role %s",
	         kv->schema, kv->db, kv->role);
	rc = exec_ok(kv, c, sql, what, NULL);
	if (rc != DTX_OK)
		PQclear(PQexec(c, "ROLLBACK"));
	else
		for (int t = 0; t < kv->ntables; t++)
			kv->has[t] = true;
	return rc;
}

/* check_schema reads the store's tables and version and, for a writer,
 * creates what is missing. Errors: DTX_EVERSION, DTX_ENOENT (a reader
 * finds no store), those of find_tables and create_missing. */
static int check_schema(pg_kv *kv, PGconn *c, bool *ret_fresh)
{
	bool all = true;
	int version, rc = find_tables(kv, c, &version);

	if (rc != DTX_OK)
		return rc;
	if (version > DC_KV_PG_VERSION)
		return dc_kv_fail(DTX_EVERSION,
		                  "store %s: schema %s has version %d, this "
		                  "build knows %d",
		                  kv->desc, kv->schema, version,
		                  DC_KV_PG_VERSION);
	for (int t = 0; t < kv->ntables; t++)
		all = all && kv->has[t];
	*ret_fresh = version == 0;
	if (version == 0 && kv->read_only)
		return dc_kv_fail(
		        DTX_ENOENT,
		        "store %s: no dtx store in schema %s of "
		        "database %s (a read-only open creates nothing)",
		        kv->desc, kv->schema, kv->db);
	if (kv->read_only || (all && version == DC_KV_PG_VERSION))
		return DTX_OK;
	return create_missing(kv, c, version);
}

static void pg_close(dc_kv *base)
{
	pg_kv *kv = (pg_kv *)base;

	if (kv->writer != NULL)
		PQfinish(kv->writer); /* ends the session: frees the lock */
	for (int i = 0; i < kv->nslots; i++)
		if (kv->slots[i].c != NULL)
			PQfinish(kv->slots[i].c);
	for (int t = 0; t < DC_KV_TABLES_MAX; t++) {
		free(kv->pend[t].buf);
		free(kv->pend[t].ops);
	}
	PQfreemem(kv->schema_q);
	pthread_cond_destroy(&kv->cv);
	pthread_mutex_destroy(&kv->mu);
	free(kv->conninfo);
	free(kv);
}

static pg_kv *kv_alloc(const dc_kv_opts *opts)
{
	pg_kv *kv = calloc(1, sizeof(*kv));
	pthread_condattr_t ca;

	if (kv == NULL)
		return NULL;
	kv->base.ops = &dc_kv_pg_ops;
	kv->conninfo = strdup(opts->where);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&kv->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&kv->mu, NULL);
	if (kv->conninfo == NULL) {
		pg_close(&kv->base);
		return NULL;
	}
	kv->read_only = opts->read_only;
	kv->shared = opts->shared;
	kv->ntables = opts->ntables;
	for (int t = 0; t < opts->ntables; t++)
		snprintf(kv->tables[t], sizeof(kv->tables[t]), "%s",
		         opts->tables[t]);
	kv->nslots = opts->readers <= 0 ? READERS_DEF : opts->readers;
	if (kv->nslots > READERS_MAX)
		kv->nslots = READERS_MAX;
	return kv;
}

/* pg_open: connect, learn the names, lock (writer), check or create the
 * schema, prepare. A reader's first connection joins the pool. */
static int pg_open(const dc_kv_opts *opts, dc_kv **ret_kv, bool *ret_fresh)
{
	pg_kv *kv = kv_alloc(opts);
	PGconn *c = NULL;
	int rc;

	if (kv == NULL)
		return dc_kv_fail(DTX_ENOMEM, "store: out of memory");
	rc = describe(kv, opts->where);
	if (rc == DTX_OK)
		rc = pg_connect(kv, false, &c);
	if (rc == DTX_OK)
		rc = learn_names(kv, c);
	if (rc == DTX_OK && !kv->read_only)
		rc = take_lock(kv, c);
	/* A shared writer paused mid-transaction (SIGSTOP) would hold the
	 * rows it locked - the lease rows its fences lock - and stall the
	 * instances taking its shards: the server ends such a session. */
	if (rc == DTX_OK && kv->shared)
		rc = exec_ok(kv, c,
		             "SET idle_in_transaction_session_timeout = 2000",
		             "set up a shared writer", NULL);
	if (rc == DTX_OK)
		rc = check_schema(kv, c, ret_fresh);
	if (rc == DTX_OK)
		rc = prepare_all(kv, c);
	if (rc != DTX_OK) {
		PQfinish(c);
		pg_close(&kv->base);
		return rc;
	}
	if (kv->read_only)
		kv->slots[0].c = c;
	else
		kv->writer = c;
	*ret_kv = &kv->base;
	return DTX_OK;
}

/* ---- store-level ops --------------------------------------------------- */

static const char *pg_describe(const dc_kv *base)
{
	return ((const pg_kv *)base)->desc;
}

static bool pg_has_table(const dc_kv *base, int t)
{
	const pg_kv *kv = (const pg_kv *)base;

	return t >= 0 && t < kv->ntables && kv->has[t];
}

/* usage_cached gives the last figure of pg_usage if it is younger than
 * USAGE_TTL_MS (and, with store, keeps u as the last figure instead). */
static bool usage_cached(pg_kv *kv, dc_kv_usage *u, bool store)
{
	struct timespec now;
	long ms;
	bool fresh = false;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&kv->mu);
	ms = (now.tv_sec - kv->usage_at.tv_sec) * 1000L +
	     (now.tv_nsec - kv->usage_at.tv_nsec) / 1000000L;
	if (store) {
		kv->usage = *u;
		kv->usage_at = now;
		kv->usage_ok = true;
	} else if (kv->usage_ok && ms >= 0 && ms < USAGE_TTL_MS) {
		*u = kv->usage;
		fresh = true;
	}
	pthread_mutex_unlock(&kv->mu);
	return fresh;
}

/* pg_usage: the total size of the store's relations (tables, indexes,
 * TOAST), read on a pooled connection - at most once per USAGE_TTL_MS,
 * else the last figure. The log's commit asks after every commit; on
 * PostgreSQL the figure costs a round trip and a stat of every relation's
 * files (1-4 ms on a loaded 2-core machine, the size of a commit's own
 * work), and nothing depends on it being newer than a second: there is
 * no map to fill (max_bytes 0), it feeds dtxctl stats and metrics. */
static int pg_usage(dc_kv *base, dc_kv_usage *ret_usage)
{
	static const char sql[] =
	        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM "
	        "pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
	        "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND "
	        "c.relname LIKE 'dtx\\_%'";
	pg_kv *kv = (pg_kv *)base;
	PGresult *r = NULL;
	int slot, rc;

	if (usage_cached(kv, ret_usage, false))
		return DTX_OK;
	rc = pool_get(kv, &slot);
	if (rc != DTX_OK)
		return rc;
	rc = exec_ok(kv, kv->slots[slot].c, sql, "measure the tables", &r);
	if (rc == DTX_OK) {
		uint64_t used = strtoull(PQgetvalue(r, 0, 0), NULL, 10);

		*ret_usage = (dc_kv_usage){used, used, 0};
		usage_cached(kv, ret_usage, true);
		PQclear(r);
	}
	pool_put(kv, slot);
	return rc;
}

static int pg_grow(dc_kv *base)
{
	return dc_kv_fail(DTX_ELIMIT,
	                  "store %s: PostgreSQL has no map to grow (DTX_ELIMIT "
	                  "is never returned by this backend)",
	                  ((pg_kv *)base)->desc);
}

/* ---- write transactions: the pipeline ---------------------------------- */

/* lost latches the writer connection's loss: every later write
 * transaction fails with the same reason (crash-only). */
static int lost(pg_txn *x, int rc)
{
	if (x->slot < 0 && PQstatus(x->c) == CONNECTION_BAD &&
	    x->kv->writer_err == DTX_OK)
		x->kv->writer_err = DTX_EIO;
	if (x->failed == DTX_OK)
		x->failed = rc;
	return rc;
}

/* pipe_send queues prepared statement st of table t; vals are bytea. */
static int pipe_send(pg_txn *x, int st, int t, int n, const dc_kv_val *vals)
{
	const char *p[2];
	int len[2], fmt[2] = {1, 1};
	char name[16];

	for (int i = 0; i < n; i++) {
		p[i] = vals[i].data ? vals[i].data : "";
		len[i] = (int)vals[i].len;
	}
	snprintf(name, sizeof(name), "s%d_%d", st, t);
	if (PQsendQueryPrepared(x->c, name, n, p, len, fmt, 1) != 1)
		return lost(x, pg_error(x->kv, x->c, NULL, "send"));
	x->queued++;
	return DTX_OK;
}

/* await_answer waits until the writer's next result can be read without
 * blocking: DTX_OK, also when libpq has an error to report; DTX_EIO when
 * the server owes an answer it did not give (hung), or the connection was
 * given up before. */
static int await_answer(pg_txn *x)
{
	if (x->kv->writer_err != DTX_OK)
		return x->kv->writer_err;
	if (!await_input(x->c))
		return lost(x, hung(x->kv, x->c, "write transaction"));
	return DTX_OK;
}

/* read_one reads the result of one queued statement (and the NULL after
 * it). The first failure is kept in x->failed (the statements after it up
 * to the sync answer PGRES_PIPELINE_ABORTED); *ret_r gets the result
 * (NULL when the answer never came). */
static void read_one(pg_txn *x, PGresult **ret_r)
{
	PGresult *r = NULL, *extra;
	ExecStatusType s;

	*ret_r = NULL;
	if (await_answer(x) != DTX_OK)
		return;
	r = PQgetResult(x->c);
	s = PQresultStatus(r);
	if (r == NULL || (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK))
		if (x->failed == DTX_OK)
			lost(x, pg_error(x->kv, x->c, r, "write transaction"));
	while (r != NULL && await_answer(x) == DTX_OK &&
	       (extra = PQgetResult(x->c)) != NULL)
		PQclear(extra);
	*ret_r = r;
}

/* conflict_check reads the failure of the i-th result r of a sync as
 * DTX_ECONFLICT if that statement was an expectation that divided by zero
 * (see "Expectations" in the top comment). */
static void conflict_check(pg_txn *x, int i, const PGresult *r)
{
	const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (i >= PIPE_MAX + 128 || !(x->expect_at[i / 64] >> (i % 64) & 1) ||
	    st == NULL || strcmp(st, "22012") != 0)
		return;
	x->failed = dc_kv_fail(DTX_ECONFLICT,
	                       "store %s: a key did not hold its expected "
	                       "value: nothing written",
	                       x->kv->desc);
}

/* pipe_sync sends a sync and reads the results of every queued statement,
 * then the sync's. The last statement's result goes to *ret_last (may be
 * NULL; the caller clears it). Returns x->failed. */
static int pipe_sync(pg_txn *x, PGresult **ret_last)
{
	PGresult *r = NULL, *last = NULL;

	if (PQpipelineSync(x->c) != 1) {
		lost(x, pg_error(x->kv, x->c, NULL, "sync"));
		x->queued = 0;
		return x->failed;
	}
	for (int i = 0; x->queued > 0; x->queued--, i++) {
		int before = x->failed;

		read_one(x, &r);
		if (before == DTX_OK && x->failed != DTX_OK)
			conflict_check(x, i, r);
		PQclear(last);
		last = r;
	}
	memset(x->expect_at, 0, sizeof(x->expect_at));
	r = await_answer(x) == DTX_OK ? PQgetResult(x->c) : NULL;
	if (PQresultStatus(r) != PGRES_PIPELINE_SYNC && x->failed == DTX_OK)
		lost(x, pg_error(x->kv, x->c, r, "sync"));
	PQclear(r);
	if (ret_last != NULL && x->failed == DTX_OK)
		*ret_last = last;
	else
		PQclear(last);
	return x->failed;
}

/* write_check refuses a write txn cannot take: a read transaction, no
 * such table, a value PostgreSQL cannot keep (the n values v). */
static int write_check(pg_txn *x, int t, int n, const dc_kv_val *v)
{
	if (x->slot >= 0)
		return dc_kv_fail(DTX_EINVAL,
		                  "store %s: a write in a read transaction",
		                  x->kv->desc);
	if (t < 0 || t >= x->kv->ntables)
		return dc_kv_fail(DTX_EINVAL, "store %s: no table #%d",
		                  x->kv->desc, t);
	for (int i = 0; i < n; i++)
		if (v[i].len > VALUE_MAX)
			return dc_kv_fail(
			        DTX_EINVAL,
			        "store %s: %zu bytes (PostgreSQL keeps "
			        "at most %zu in a value)",
			        x->kv->desc, v[i].len, (size_t)VALUE_MAX);
	return x->failed;
}

/* write_stmt queues one statement of its own, syncing every PIPE_MAX
 * statements so the server's answers never fill the socket while we only
 * send. */
static int write_stmt(pg_txn *x, int st, int t, int n, const dc_kv_val *v)
{
	int rc = write_check(x, t, n, v);

	if (rc != DTX_OK)
		return rc;
	x->wseq++;
	rc = pipe_send(x, st, t, n, v);
	if (rc == DTX_OK && x->queued >= PIPE_MAX)
		rc = pipe_sync(x, NULL);
	return rc;
}

/* ---- write transactions: batches --------------------------------------- */

static int array_of(const pg_kv *kv, const dc_kv_val *keys, size_t n,
                    dc_kv_val *ret_arr, uint8_t **ret_buf);

/* pend_room makes room in p for one more write of len bytes. Errors:
 * DTX_ENOMEM. */
static int pend_room(pg_kv *kv, pg_pend *p, size_t len)
{
	size_t cap = p->cap ? p->cap : 4096;
	void *m;

	if (p->n == p->ncap) {
		m = realloc(p->ops,
		            (p->ncap ? p->ncap * 2 : 64) * sizeof(*p->ops));
		if (m == NULL)
			return dc_kv_fail(DTX_ENOMEM, "store %s: out of memory",
			                  kv->desc);
		p->ops = m;
		p->ncap = p->ncap ? p->ncap * 2 : 64;
	}
	while (cap - p->len < len)
		cap *= 2;
	if (cap != p->cap) {
		if ((m = realloc(p->buf, cap)) == NULL)
			return dc_kv_fail(DTX_ENOMEM, "store %s: out of memory",
			                  kv->desc);
		p->buf = m;
		p->cap = cap;
	}
	return DTX_OK;
}

/* A held write's key and its place among its table's held writes. */
typedef struct pend_ref {
	dc_kv_val key;
	size_t i;
} pend_ref;

static bool same_key(const dc_kv_val *a, const dc_kv_val *b)
{
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

/* pend_ref_cmp orders by key (kv.h's order), then by place. */
static int pend_ref_cmp(const void *a, const void *b)
{
	const pend_ref *x = a, *y = b;
	size_t n = x->key.len < y->key.len ? x->key.len : y->key.len;
	int c = memcmp(x->key.data, y->key.data, n);

	if (c != 0)
		return c;
	if (x->key.len != y->key.len)
		return x->key.len < y->key.len ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* send_arrays queues statement st (ST_PUTS, ST_DELS) of table t on the n
 * keys and, for ST_PUTS, values, each as one bytea[]. */
static int send_arrays(pg_txn *x, int st, int t, const dc_kv_val *keys,
                       const dc_kv_val *vals, size_t n)
{
	dc_kv_val arr[2];
	uint8_t *buf[2] = {NULL, NULL};
	int np = st == ST_PUTS ? 2 : 1, rc;

	if (n == 0)
		return DTX_OK;
	rc = array_of(x->kv, keys, n, &arr[0], &buf[0]);
	if (rc == DTX_OK && np == 2)
		rc = array_of(x->kv, vals, n, &arr[1], &buf[1]);
	if (rc == DTX_OK)
		rc = pipe_send(x, st, t, np, arr); /* libpq copies them */
	else
		lost(x, rc);
	free(buf[0]);
	free(buf[1]);
	if (rc == DTX_OK && x->queued >= PIPE_MAX)
		rc = pipe_sync(x, NULL);
	return rc;
}

/* pend_split sorts p's writes by key and keeps the last write of each
 * key: its puts go to keys/vals (*ret_np), its deletes to dels
 * (*ret_nd). refs, keys, vals, dels: p->n entries each. */
static void pend_split(pg_pend *p, pend_ref *refs, dc_kv_val *keys,
                       dc_kv_val *vals, dc_kv_val *dels, size_t *ret_np,
                       size_t *ret_nd)
{
	size_t np = 0, nd = 0;

	for (size_t i = 0; i < p->n; i++)
		refs[i] =
		        (pend_ref){{p->buf + p->ops[i].off, p->ops[i].klen}, i};
	qsort(refs, p->n, sizeof(*refs), pend_ref_cmp);
	for (size_t i = 0; i < p->n; i++) {
		const pend_op *o = &p->ops[refs[i].i];

		if (i + 1 < p->n && same_key(&refs[i].key, &refs[i + 1].key))
			continue; /* a later write of the key wins */
		if (o->del) {
			dels[nd++] = refs[i].key;
		} else {
			keys[np] = refs[i].key;
			vals[np++] =
			        (dc_kv_val){p->buf + o->off + o->klen, o->vlen};
		}
	}
	*ret_np = np;
	*ret_nd = nd;
}

/* pend_drop forgets the held writes of table t. */
static void pend_drop(pg_kv *kv, int t)
{
	kv->pend_ops -= kv->pend[t].n;
	kv->pend_bytes -= kv->pend[t].len;
	kv->pend[t].n = kv->pend[t].len = 0;
}

/* pend_trim frees the buffers of a table that one big transaction grew
 * past PEND_KEEP, so a one-off batch does not hold its memory for ever. */
static void pend_trim(pg_kv *kv, int t)
{
	pg_pend *p = &kv->pend[t];

	if (p->cap + p->ncap * sizeof(*p->ops) <= PEND_KEEP)
		return;
	free(p->buf);
	free(p->ops);
	*p = (pg_pend){0};
}

/* pend_flush sends the held writes of table t: one INSERT ... ON CONFLICT
 * of every key whose last write is a put, one DELETE of every key whose
 * last write is a delete. A key is in one of them at most, so their order
 * does not matter. Returns x->failed. */
static int pend_flush(pg_txn *x, int t)
{
	pg_pend *p = &x->kv->pend[t];
	pend_ref *refs;
	dc_kv_val *v;
	size_t np, nd;

	if (p->n == 0 || x->failed != DTX_OK) {
		pend_drop(x->kv, t);
		return x->failed;
	}
	refs = malloc(p->n * sizeof(*refs));
	v = malloc(3 * p->n * sizeof(*v));
	if (refs == NULL || v == NULL) {
		lost(x, dc_kv_fail(DTX_ENOMEM, "store %s: out of memory",
		                   x->kv->desc));
	} else {
		pend_split(p, refs, v, v + p->n, v + 2 * p->n, &np, &nd);
		if (send_arrays(x, ST_PUTS, t, v, v + p->n, np) == DTX_OK)
			send_arrays(x, ST_DELS, t, v + 2 * p->n, NULL, nd);
	}
	free(refs);
	free(v);
	pend_drop(x->kv, t);
	return x->failed;
}

static int pend_flush_all(pg_txn *x)
{
	for (int t = 0; t < x->kv->ntables && x->failed == DTX_OK; t++)
		pend_flush(x, t);
	return x->failed;
}

/* pend_add holds a write of key (and val, for a put) of table t for the
 * table's next flush; past PEND_OPS_MAX writes or PEND_BYTES_MAX bytes
 * held, it flushes them all. */
static int pend_add(pg_txn *x, int t, dc_kv_val key, dc_kv_val val, bool del)
{
	pg_kv *kv = x->kv;
	pg_pend *p;
	size_t len = key.len + val.len;
	int rc = write_check(x, t, 1, &val);

	if (rc != DTX_OK)
		return rc;
	p = &kv->pend[t];
	if ((rc = pend_room(kv, p, len)) != DTX_OK)
		return lost(x, rc);
	memcpy(p->buf + p->len, key.data, key.len);
	if (val.len > 0)
		memcpy(p->buf + p->len + key.len, val.data, val.len);
	p->ops[p->n++] =
	        (pend_op){p->len, (uint32_t)key.len, (uint32_t)val.len, del};
	p->len += len;
	kv->pend_ops++;
	kv->pend_bytes += len;
	x->wseq++;
	if (kv->pend_ops >= PEND_OPS_MAX || kv->pend_bytes >= PEND_BYTES_MAX)
		return pend_flush_all(x);
	return DTX_OK;
}

/* pg_expect queues an expectation (two statements for an absence) and
 * marks its result as one (see "Expectations" in the top comment). */
static int pg_expect(dc_kv_txn *base, int t, dc_kv_val key, dc_kv_val val)
{
	pg_txn *x = (pg_txn *)base;
	dc_kv_val v[2] = {key, val};
	int rc, at;

	if (x->slot >= 0)
		return dc_kv_fail(DTX_EINVAL,
		                  "store %s: an expectation in a read "
		                  "transaction",
		                  x->kv->desc);
	if (t < 0 || t >= x->kv->ntables)
		return dc_kv_fail(DTX_EINVAL, "store %s: no table #%d",
		                  x->kv->desc, t);
	/* It must see the transaction's own writes of t: send them first. */
	if (pend_flush(x, t) != DTX_OK)
		return x->failed;
	if (x->queued >= PIPE_MAX && pipe_sync(x, NULL) != DTX_OK)
		return x->failed;
	rc = val.data == NULL ? pipe_send(x, ST_LOCK, t, 1, v) : DTX_OK;
	if (rc != DTX_OK)
		return rc;
	at = x->queued;
	rc = pipe_send(x, val.data == NULL ? ST_ABSENT : ST_EXPECT, t,
	               val.data == NULL ? 1 : 2, v);
	if (rc == DTX_OK)
		x->expect_at[at / 64] |= (uint64_t)1 << (at % 64);
	return rc;
}

/* pg_put holds the write for its table's next flush; a write bigger than
 * PEND_ONE_MAX goes on its own, after the held writes of its table. */
static int pg_put(dc_kv_txn *base, int t, dc_kv_val key, dc_kv_val val)
{
	pg_txn *x = (pg_txn *)base;
	dc_kv_val v[2] = {key, val};

	int rc;

	if (key.len + val.len <= PEND_ONE_MAX)
		return pend_add(x, t, key, val, false);
	rc = write_check(x, t, 2, v);
	if (rc == DTX_OK)
		rc = pend_flush(x, t);
	return rc == DTX_OK ? write_stmt(x, ST_PUT, t, 2, v) : rc;
}

static int pg_del(dc_kv_txn *base, int t, dc_kv_val key)
{
	return pend_add((pg_txn *)base, t, key, (dc_kv_val){NULL, 0}, true);
}

/* pg_del_range deletes after the held writes of its table (it may delete
 * what they put), before the later ones. */
static int pg_del_range(dc_kv_txn *base, int t, dc_kv_val from, dc_kv_val to)
{
	pg_txn *x = (pg_txn *)base;
	dc_kv_val v[2] = {from, to};
	int rc = write_check(x, t, 2, v);

	if (rc == DTX_OK)
		rc = pend_flush(x, t);
	return rc == DTX_OK ? write_stmt(x, ST_RANGE, t, 2, v) : rc;
}

/* ---- transactions ------------------------------------------------------ */

static int begin_write(pg_kv *kv, pg_txn *x)
{
	if (kv->read_only)
		return dc_kv_fail(DTX_EINVAL, "store %s: opened read-only",
		                  kv->desc);
	if (kv->writing)
		return dc_kv_fail(DTX_EINVAL,
		                  "store %s: a write transaction is open",
		                  kv->desc);
	if (kv->writer_err != DTX_OK)
		return dc_kv_fail(kv->writer_err,
		                  "store %s: the writer connection was lost",
		                  kv->desc);
	x->c = kv->writer;
	x->slot = -1;
	if (PQenterPipelineMode(x->c) != 1 ||
	    PQsendQueryParams(x->c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0) !=
	            1) {
		int rc = pg_error(kv, x->c, NULL, "begin");

		if (PQstatus(x->c) == CONNECTION_BAD)
			kv->writer_err = DTX_EIO;
		PQexitPipelineMode(x->c);
		return rc;
	}
	x->queued = 1;
	kv->writing = true;
	return DTX_OK;
}

/* begin_read: REPEATABLE READ, READ ONLY, and a statement so that the
 * snapshot is taken now (PostgreSQL takes it at the first statement). */
static int begin_read(pg_kv *kv, pg_txn *x)
{
	int rc = pool_get(kv, &x->slot);

	if (rc != DTX_OK)
		return rc;
	x->c = kv->slots[x->slot].c;
	rc = exec_ok(kv, x->c,
	             "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; "
	             "SELECT 1",
	             "begin a read transaction", NULL);
	if (rc != DTX_OK)
		pool_put(kv, x->slot);
	return rc;
}

static int pg_begin(dc_kv *base, bool write, dc_kv_txn **ret_txn)
{
	pg_kv *kv = (pg_kv *)base;
	pg_txn *x = calloc(1, sizeof(*x));
	int rc;

	if (x == NULL)
		return dc_kv_fail(DTX_ENOMEM, "store %s: out of memory",
		                  kv->desc);
	x->base.ops = &dc_kv_pg_ops;
	x->kv = kv;
	rc = write ? begin_write(kv, x) : begin_read(kv, x);
	if (rc != DTX_OK) {
		free(x);
		return rc;
	}
	*ret_txn = &x->base;
	return DTX_OK;
}

/* roll_back ends the transaction block a failed statement left open: an
 * error skips the rest of the pipeline up to its sync, COMMIT included,
 * and the block stays aborted until a ROLLBACK. A writer that cannot get
 * back to idle is lost (DTX_EIO for ever). The reason of the failure that
 * got us here is kept. */
static void roll_back(pg_txn *x)
{
	PGresult *r = PQexec(x->c, "ROLLBACK");

	if (PQresultStatus(r) != PGRES_COMMAND_OK ||
	    PQtransactionStatus(x->c) != PQTRANS_IDLE)
		x->kv->writer_err = DTX_EIO;
	PQclear(r);
}

/* end_write sends sql (COMMIT or ROLLBACK), syncs and leaves pipeline
 * mode. Returns the transaction's first failure, or sql's. */
static int end_write(pg_txn *x, const char *sql)
{
	PGresult *r = NULL;
	pg_kv *kv = x->kv;
	int rc;

	if (strcmp(sql, "COMMIT") == 0)
		pend_flush_all(x); /* a failure is x->failed: pipe_sync's */
	for (int t = 0; t < kv->ntables; t++) {
		pend_drop(kv, t); /* a ROLLBACK sends none */
		pend_trim(kv, t);
	}
	if (PQsendQueryParams(x->c, sql, 0, NULL, NULL, NULL, NULL, 0) == 1)
		x->queued++;
	else
		lost(x, pg_error(kv, x->c, NULL, sql));
	rc = pipe_sync(x, &r);
	/* COMMIT of a failed transaction answers "ROLLBACK": not durable. */
	if (rc == DTX_OK && strcmp(sql, "COMMIT") == 0 &&
	    strcmp(PQcmdStatus(r), "COMMIT") != 0)
		rc = lost(x, dc_kv_fail(DTX_EIO, "store %s: COMMIT answered %s",
		                        kv->desc, PQcmdStatus(r)));
	PQclear(r);
	if (PQexitPipelineMode(x->c) != 1 || PQstatus(x->c) != CONNECTION_OK)
		kv->writer_err = DTX_EIO;
	else if (PQtransactionStatus(x->c) != PQTRANS_IDLE)
		roll_back(x);
	kv->writing = false;
	return rc;
}

static void txn_free(pg_txn *x)
{
	PQclear(x->last);
	if (x->slot >= 0)
		pool_put(x->kv, x->slot);
	free(x);
}

static int pg_commit(dc_kv_txn *base)
{
	pg_txn *x = (pg_txn *)base;
	int rc;

	if (x->slot < 0 && x->failed != DTX_OK) {
		rc = x->failed;
		end_write(x, "ROLLBACK");
	} else if (x->slot < 0) {
		rc = end_write(x, "COMMIT");
	} else {
		rc = exec_ok(x->kv, x->c, "COMMIT", "end a read transaction",
		             NULL);
	}
	txn_free(x);
	return rc;
}

static void pg_abort(dc_kv_txn *base)
{
	pg_txn *x = (pg_txn *)base;
	char keep[DC_KV_ERR_MAX];

	snprintf(keep, sizeof(keep), "%s", dc_kv_last_error());
	if (x->slot < 0)
		end_write(x, "ROLLBACK");
	else
		PQclear(PQexec(x->c, "ROLLBACK"));
	dc_kv_fail(DTX_OK, "%s", keep); /* an abort hides no earlier reason */
	txn_free(x);
}

/* ---- reads ------------------------------------------------------------- */

/* query runs read statement st of table t with n bytea parameters and
 * returns its rows in *ret_r: in a write transaction through the pipeline
 * (after the writes queued before it), else at once. */
static int query(pg_txn *x, int st, int t, int n, const dc_kv_val *v,
                 PGresult **ret_r)
{
	const char *p[1];
	int len[1], fmt[1] = {1};
	char name[16];
	PGresult *r;
	bool hang = false;

	if (x->slot < 0) { /* after the held writes of t: it sees them */
		int rc = pend_flush(x, t) != DTX_OK ? x->failed
		                                    : pipe_send(x, st, t, n, v);

		return rc == DTX_OK ? pipe_sync(x, ret_r) : rc;
	}
	for (int i = 0; i < n; i++) {
		p[i] = v[i].data;
		len[i] = (int)v[i].len;
	}
	snprintf(name, sizeof(name), "s%d_%d", st, t);
	r = PQsendQueryPrepared(x->c, name, n, p, len, fmt, 1) == 1
	            ? finish(x->c, &hang)
	            : NULL;
	if (hang)
		return hung(x->kv, x->c, "read");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		int rc = pg_error(x->kv, x->c, r, "read");

		PQclear(r);
		return rc;
	}
	*ret_r = r;
	return DTX_OK;
}

static int table_check(pg_txn *x, int t)
{
	if (t < 0 || t >= x->kv->ntables)
		return dc_kv_fail(DTX_EINVAL, "store %s: no table #%d",
		                  x->kv->desc, t);
	return x->kv->has[t] ? DTX_OK : DTX_ENOENT;
}

static int pg_get(dc_kv_txn *base, int t, dc_kv_val key, dc_kv_val *ret_val)
{
	pg_txn *x = (pg_txn *)base;
	PGresult *r = NULL;
	int rc = table_check(x, t);

	if (rc == DTX_OK)
		rc = query(x, ST_GET, t, 1, &key, &r);
	if (rc != DTX_OK)
		return rc;
	PQclear(x->last);
	x->last = r;
	if (PQntuples(r) == 0)
		return DTX_ENOENT;
	ret_val->data = PQgetvalue(r, 0, 0);
	ret_val->len = (size_t)PQgetlength(r, 0, 0);
	return DTX_OK;
}

/* put_be32 writes v big-endian at p (PostgreSQL's binary formats). */
static uint8_t *put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

/* array_of encodes the n keys (or values: a dc_kv_get_many's, at most
 * DC_KV_GET_MANY_MAX of at most 511 bytes, kv.c checked; a batch's, at
 * most PEND_BYTES_MAX + PEND_ONE_MAX bytes in all, pend_add checked) as a
 * one-dimensional bytea[] in PostgreSQL's
 * binary array format (array_recv): dimensions, a has-nulls flag, the
 * element type, the dimension's length and lower bound, then each element
 * as its length and bytes. *ret_buf (malloc'd) backs *ret_arr. */
static int array_of(const pg_kv *kv, const dc_kv_val *keys, size_t n,
                    dc_kv_val *ret_arr, uint8_t **ret_buf)
{
	size_t len = 20;
	uint8_t *buf, *p;

	for (size_t i = 0; i < n; i++)
		len += 4 + keys[i].len;
	buf = malloc(len);
	if (buf == NULL)
		return dc_kv_fail(DTX_ENOMEM, "store %s: out of memory",
		                  kv->desc);
	p = put_be32(buf, 1);
	p = put_be32(p, 0);
	p = put_be32(p, BYTEA_OID); /* the element type */
	p = put_be32(p, (uint32_t)n);
	p = put_be32(p, 1);
	for (size_t i = 0; i < n; i++) {
		p = put_be32(p, (uint32_t)keys[i].len);
		memcpy(p, keys[i].data, keys[i].len);
		p += keys[i].len;
	}
	*ret_arr = (dc_kv_val){buf, len};
	*ret_buf = buf;
	return DTX_OK;
}

/* fill_many points ret_vals[i - 1] at the value of each row (i, v) of r,
 * and the keys without a row at {NULL, 0}. Errors: DTX_EIO (a row that
 * names no key of the n asked). */
static int fill_many(const pg_kv *kv, const PGresult *r, size_t n,
                     dc_kv_val *ret_vals)
{
	for (size_t i = 0; i < n; i++)
		ret_vals[i] = (dc_kv_val){NULL, 0};
	for (int row = 0; row < PQntuples(r); row++) {
		const uint8_t *p = (const uint8_t *)PQgetvalue(r, row, 0);
		uint64_t i = 0;

		for (int b = 0; b < 8 && PQgetlength(r, row, 0) == 8; b++)
			i = i << 8 | p[b];
		if (i < 1 || i > n)
			return dc_kv_fail(DTX_EIO,
			                  "store %s: a read of %zu keys "
			                  "answered a row for none of them",
			                  kv->desc, n);
		ret_vals[i - 1].data = PQgetvalue(r, row, 1);
		ret_vals[i - 1].len = (size_t)PQgetlength(r, row, 1);
	}
	return DTX_OK;
}

/* pg_get_many: one statement, SELECT ... WHERE k = any key of a bytea[]
 * (in a write transaction through the pipeline: one round trip). */
static int pg_get_many(dc_kv_txn *base, int t, const dc_kv_val *keys, size_t n,
                       dc_kv_val *ret_vals)
{
	pg_txn *x = (pg_txn *)base;
	PGresult *r = NULL;
	uint8_t *buf = NULL;
	dc_kv_val arr;
	int rc = table_check(x, t);

	if (rc == DTX_ENOENT) { /* no table: no key */
		for (size_t i = 0; i < n; i++)
			ret_vals[i] = (dc_kv_val){NULL, 0};
		return DTX_OK;
	}
	if (rc == DTX_OK)
		rc = array_of(x->kv, keys, n, &arr, &buf);
	if (rc == DTX_OK)
		rc = query(x, ST_MANY, t, 1, &arr, &r);
	free(buf);
	if (rc != DTX_OK)
		return rc;
	PQclear(x->last);
	x->last = r;
	return fill_many(x->kv, r, n, ret_vals);
}

/* ---- cursors ----------------------------------------------------------- */

static int pg_cursor_open(dc_kv_txn *base, int t, dc_kv_cursor **ret_cur)
{
	pg_txn *x = (pg_txn *)base;
	pg_cursor *cur;
	int rc = table_check(x, t);

	if (rc == DTX_EINVAL)
		return rc;
	cur = calloc(1, sizeof(*cur));
	if (cur == NULL)
		return dc_kv_fail(DTX_ENOMEM, "store %s: out of memory",
		                  x->kv->desc);
	cur->base.ops = &dc_kv_pg_ops;
	cur->x = x;
	cur->t = t;
	*ret_cur = &cur->base;
	return DTX_OK;
}

static void pg_cursor_close(dc_kv_cursor *base)
{
	pg_cursor *cur = (pg_cursor *)base;

	PQclear(cur->page);
	free(cur);
}

/* at_row returns the cursor's current row, or DTX_ENOENT at the end. */
static int at_row(pg_cursor *cur, dc_kv_val *ret_key, dc_kv_val *ret_val)
{
	if (cur->row >= cur->nrows) {
		cur->at_end = true;
		return DTX_ENOENT;
	}
	ret_key->data = PQgetvalue(cur->page, cur->row, 0);
	ret_key->len = (size_t)PQgetlength(cur->page, cur->row, 0);
	ret_val->data = PQgetvalue(cur->page, cur->row, 1);
	ret_val->len = (size_t)PQgetlength(cur->page, cur->row, 1);
	return DTX_OK;
}

/* fetch reads the page of statement st from key (NULL: the first page). */
static int fetch(pg_cursor *cur, int st, const dc_kv_val *key)
{
	PGresult *r = NULL;
	int rc = query(cur->x, st, cur->t, key ? 1 : 0, key, &r);

	if (rc != DTX_OK) {
		cur->nrows = cur->row = 0;
		cur->at_end = true;
		return rc;
	}
	PQclear(cur->page);
	cur->page = r;
	cur->nrows = PQntuples(r);
	cur->row = 0;
	cur->wseq = cur->x->wseq;
	cur->positioned = true;
	cur->at_end = false;
	return DTX_OK;
}

static int pg_seek(dc_kv_cursor *base, const dc_kv_val *key, dc_kv_val *ret_key,
                   dc_kv_val *ret_val)
{
	pg_cursor *cur = (pg_cursor *)base;
	int rc = table_check(cur->x, cur->t);

	if (rc == DTX_ENOENT) {
		cur->positioned = cur->at_end = true;
		return rc;
	}
	rc = rc == DTX_OK ? fetch(cur, key ? ST_SEEK : ST_FIRST, key) : rc;
	return rc == DTX_OK ? at_row(cur, ret_key, ret_val) : rc;
}

/* pg_next steps within the page; past its end, or after a write of the
 * transaction changed what follows, it reads the page after the current
 * key (a full page may have more behind it). */
static int pg_next(dc_kv_cursor *base, dc_kv_val *ret_key, dc_kv_val *ret_val)
{
	pg_cursor *cur = (pg_cursor *)base;
	dc_kv_val last;
	PGresult *old;
	int rc;

	if (!cur->positioned)
		return dc_kv_fail(DTX_EINVAL, "store: cursor never positioned");
	if (cur->at_end)
		return DTX_ENOENT;
	if (cur->row + 1 < cur->nrows && cur->wseq == cur->x->wseq) {
		cur->row++;
		return at_row(cur, ret_key, ret_val);
	}
	if (cur->nrows < PAGE_ROWS && cur->wseq == cur->x->wseq) {
		cur->at_end = true;
		return DTX_ENOENT;
	}
	last.data = PQgetvalue(cur->page, cur->row, 0);
	last.len = (size_t)PQgetlength(cur->page, cur->row, 0);
	old = cur->page;
	cur->page = NULL; /* fetch must not free the key it sends */
	rc = fetch(cur, ST_NEXT, &last);
	PQclear(old);
	return rc == DTX_OK ? at_row(cur, ret_key, ret_val) : rc;
}

const dc_kv_ops dc_kv_pg_ops = {
        .name = "postgresql",
        .open = pg_open,
        .close = pg_close,
        .describe = pg_describe,
        .has_table = pg_has_table,
        .usage = pg_usage,
        .grow = pg_grow,
        .begin = pg_begin,
        .commit = pg_commit,
        .abort = pg_abort,
        .get = pg_get,
        .get_many = pg_get_many,
        .put = pg_put,
        .del = pg_del,
        .del_range = pg_del_range,
        .expect = pg_expect,
        .cursor_open = pg_cursor_open,
        .cursor_close = pg_cursor_close,
        .seek = pg_seek,
        .next = pg_next,
};

int dc_kv_check_uri(const char *uri, char *why, size_t len)
{
	char *errmsg = NULL, line[300];
	PQconninfoOption *o = PQconninfoParse(uri, &errmsg);

	if (o != NULL) {
		PQconninfoFree(o);
		return DTX_OK;
	}
	snprintf(why, len, "libpq refuses the URI: %s",
	         errmsg != NULL ? one_line(errmsg, line, sizeof(line))
	                        : "out of memory");
	PQfreemem(errmsg);
	return DTX_EINVAL;
}
