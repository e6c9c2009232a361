/*
 * pgrun.c - the run's PostgreSQL, its audit and its relays (see
 * pgrun.h).
 *
 * Why triggers and not the dtxd logs alone: a log line says what an
 * instance believed, not what the database accepted, and a sampled lease
 * table misses every owner that held a lease between two samples. A row
 * trigger sees every committed change, in the transaction that made it.
 * Why clock_timestamp() orders them: a fenced write locks its shard's
 * lease row (FOR UPDATE) until it commits, so a takeover's update of
 * that row - and so its trigger - runs after the fenced write's trigger;
 * a takeover that committed first makes the fence fail and the write's
 * audit row vanish with it. So for every committed write, the last lease
 * change of its shard stamped before it names the writer's process;
 * without the fence it need not (epochs.c).
 */
#include "pgrun.h"

#include <libpq-fe.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char audit_sql[] =
        "CREATE SCHEMA chaos;"
        "GRANT USAGE ON SCHEMA chaos TO " PGTMP_ROLE ";"
        "CREATE TABLE chaos.lease_log (id bigserial PRIMARY KEY,"
        " us bigint NOT NULL, app text NOT NULL, shard bigint NOT NULL,"
        " epoch bigint NOT NULL, owner text NOT NULL);"
        "CREATE TABLE chaos.write_log (id bigserial PRIMARY KEY,"
        " us bigint NOT NULL, app text NOT NULL, gid text NOT NULL,"
        " op text NOT NULL);"
        "CREATE FUNCTION chaos.us() RETURNS bigint LANGUAGE sql AS"
        " $$SELECT (extract(epoch FROM clock_timestamp()) * 1000000)"
        "::bigint$$;"
        /* the lease record (log.c): 8 bytes of frame, u64le epoch, u8 n,
         * n bytes of owner */
        "CREATE FUNCTION chaos.le56(v bytea, off int) RETURNS bigint"
        " LANGUAGE sql IMMUTABLE AS $$SELECT sum(get_byte(v, off + i)"
        "::bigint << (8 * i))::bigint FROM generate_series(0, 6) i$$;"
        "CREATE FUNCTION chaos.on_lease() RETURNS trigger LANGUAGE plpgsql"
        " SECURITY DEFINER SET search_path = pg_catalog AS $$BEGIN"
        " INSERT INTO chaos.lease_log (us, app, shard, epoch, owner)"
        " VALUES (chaos.us(), current_setting('application_name'),"
        " (get_byte(NEW.k, 0)::bigint << 24) | (get_byte(NEW.k, 1) << 16)"
        " | (get_byte(NEW.k, 2) << 8) | get_byte(NEW.k, 3),"
        " chaos.le56(NEW.v, 8), convert_from(substring(NEW.v FROM 18"
        " FOR get_byte(NEW.v, 16)), 'SQL_ASCII'));"
        " RETURN NULL; END$$;"
        "CREATE FUNCTION chaos.on_write() RETURNS trigger LANGUAGE plpgsql"
        " SECURITY DEFINER SET search_path = pg_catalog AS $$BEGIN"
        " INSERT INTO chaos.write_log (us, app, gid, op)"
        " VALUES (chaos.us(), current_setting('application_name'),"
        " convert_from(CASE WHEN TG_OP = 'DELETE' THEN OLD.k ELSE NEW.k"
        " END, 'SQL_ASCII'), left(TG_OP, 1));"
        " RETURN NULL; END$$;"
        "CREATE FUNCTION chaos.attach() RETURNS event_trigger"
        " LANGUAGE plpgsql AS $$DECLARE r record; BEGIN"
        " FOR r IN SELECT * FROM pg_event_trigger_ddl_commands()"
        " WHERE object_type = 'table' LOOP"
        "  IF r.object_identity LIKE '%.dtx_leases' THEN"
        "   EXECUTE format('CREATE TRIGGER chaos_audit AFTER INSERT OR"
        " UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION chaos.on_lease()',"
        " r.object_identity);"
        "  ELSIF r.object_identity LIKE '%.dtx_txs' THEN"
        "   EXECUTE format('CREATE TRIGGER chaos_audit AFTER INSERT OR"
        " UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION"
        " chaos.on_write()', r.object_identity);"
        "  END IF; END LOOP; END$$;"
        "CREATE EVENT TRIGGER chaos_attach ON ddl_command_end"
        " WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION chaos.attach();";

static int fail(char *err, size_t len, const char *what, const char *why)
{
	snprintf(err, len, "%s: %s", what, why);
	return -1;
}

/* write_uri writes the store's URI (TCP, straight to the server: the
 * checker and dtxctl do not go through a relay). */
static int write_uri(pgrun *p, const char *workdir, unsigned shards, char *err,
                     size_t len)
{
	char path[PATH_MAX], uri[PGTMP_URI_MAX];
	FILE *f;

	if (pgtmp_tcp_uri_for(pgtmp_admin_uri(p->pg), PGRUN_DB, PGTMP_ROLE, uri,
	                      sizeof(uri)) != 0)
		return fail(err, len, "store URI", "too long");
	snprintf(path, sizeof(path), "%s/run/store.uri", workdir);
	f = fopen(path, "w");
	if (f == NULL || fprintf(f, "%s\nshards %u\n", uri, shards) < 0 ||
	    fclose(f) != 0)
		return fail(err, len, path, "cannot write");
	return 0;
}

int pgrun_start(pgrun *p, const char *workdir, unsigned shards,
                const uint16_t *relay_ports, unsigned n, char *err,
                size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->pg = pgtmp_start(err, errlen);
	if (p->pg == NULL)
		return -1;
	if (pgtmp_sql(pgtmp_admin_uri(p->pg), PGRUN_DB, audit_sql, err,
	              errlen) != 0 ||
	    write_uri(p, workdir, shards, err, errlen) != 0)
		goto fail;
	for (p->n = 0; p->n < n; p->n++) {
		p->px[p->n] = pgproxy_start(relay_ports[p->n],
		                            (uint16_t)pgtmp_port(p->pg));
		if (p->px[p->n] == NULL) {
			fail(err, errlen, "relay", "cannot listen");
			goto fail;
		}
	}
	return 0;
fail:
	pgrun_stop(p);
	return -1;
}

int pgrun_restart(pgrun *p, bool immediate)
{
	char err[512];

	if (pgtmp_restart(p->pg, !immediate, err, sizeof(err)) != 0) {
		fprintf(stderr, "dtx-chaos: PostgreSQL restart: %s\n", err);
		p->restart_failures++;
		return -1;
	}
	p->restarts[immediate]++;
	return 0;
}

void pgrun_cut(pgrun *p, unsigned k, bool cut)
{
	if (k < p->n)
		pgproxy_cut(p->px[k], cut);
}

long pgrun_active(pgrun *p)
{
	char uri[PGTMP_URI_MAX], out[32], err[256];

	if (pgtmp_uri_for(pgtmp_admin_uri(p->pg), PGRUN_DB, "postgres", uri,
	                  sizeof(uri)) != 0 ||
	    pgtmp_sql_value(uri, "SELECT count(*) FROM dtx_active", out,
	                    sizeof(out), err, sizeof(err)) != 0)
		return -1;
	return strtol(out, NULL, 10);
}

/* copy_out runs COPY (query) TO STDOUT into path. Returns 0 or -1. */
static int copy_out(PGconn *c, const char *query, const char *path)
{
	char sql[1024], *buf;
	FILE *f = fopen(path, "w");
	PGresult *r;
	int n, rc = 0;

	snprintf(sql, sizeof(sql), "COPY (%s) TO STDOUT WITH (DELIMITER ' ')",
	         query);
	r = PQexec(c, sql);
	if (f == NULL || PQresultStatus(r) != PGRES_COPY_OUT)
		rc = -1;
	PQclear(r);
	while (rc == 0 && (n = PQgetCopyData(c, &buf, 0)) > 0) {
		if (fwrite(buf, 1, (size_t)n, f) != (size_t)n)
			rc = -1;
		PQfreemem(buf);
	}
	while ((r = PQgetResult(c)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			rc = -1;
		PQclear(r);
	}
	if (f != NULL && fclose(f) != 0)
		rc = -1;
	if (rc != 0)
		fprintf(stderr, "dtx-chaos: audit export %s: %s\n", path,
		        PQerrorMessage(c));
	return rc;
}

int pgrun_export(pgrun *p, const char *workdir)
{
	char dir[PATH_MAX], path[PATH_MAX + 16], uri[PGTMP_URI_MAX];
	PGconn *c;
	int rc;

	snprintf(dir, sizeof(dir), "%s/audit", workdir);
	mkdir(dir, 0755);
	if (pgtmp_uri_for(pgtmp_admin_uri(p->pg), PGRUN_DB, "postgres", uri,
	                  sizeof(uri)) != 0)
		return -1;
	c = PQconnectdb(uri);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "dtx-chaos: audit export: %s\n",
		        PQerrorMessage(c));
		PQfinish(c);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/leases.txt", dir);
	rc = copy_out(c,
	              "SELECT us, app, shard, epoch, coalesce(nullif(owner, "
	              "''), '-') FROM chaos.lease_log ORDER BY us, id",
	              path);
	snprintf(path, sizeof(path), "%s/writes.txt", dir);
	if (rc == 0)
		rc = copy_out(c,
		              "SELECT us, app, gid, op FROM chaos.write_log "
		              "ORDER BY us, id",
		              path);
	PQfinish(c);
	return rc;
}

void pgrun_stop(pgrun *p)
{
	for (unsigned k = 0; k < CHAOS_INSTANCES_MAX; k++) {
		pgproxy_stop(p->px[k]);
		p->px[k] = NULL;
	}
	pgtmp_stop(p->pg);
	p->pg = NULL;
}
