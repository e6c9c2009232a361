/*
 * pgshop.h - the PostgreSQL under a shop whose services keep their data
 * there (dtx-shop run --services-store postgresql[://...]).
 *
 * Two sources of a server:
 *   - "postgresql": dtx-shop starts a cluster of its own (PostgreSQL 15,
 *     initdb into a fresh /tmp/dtx-shop-pg-XXXXXX, a unix socket there
 *     and no TCP, fsync and synchronous_commit on) as its child, and
 *     writes the cluster's directory to WORKDIR/pgcluster so that
 *     `dtx-shop check` and `refund` on a kept work directory start it
 *     again;
 *   - "postgresql://..." (or a key=value conninfo): an admin URI of a
 *     server someone else runs (tests/bench/compare.sh's); its databases
 *     stay when the run ends.
 * Either way pgshop_create_dbs makes four fresh databases on it, one per
 * service, whose URIs go to the services (--store) and to the layout of
 * the work directory (seed.h).
 *
 * As root, initdb and postgres run as the postgres user (PostgreSQL
 * refuses root). The postmaster gets PR_SET_PDEATHSIG, so a crashed
 * dtx-shop leaves no server behind. Every wait is bounded. Binaries come
 * from $DTX_PG_BIN or /usr/lib/postgresql/15/bin.
 */
#ifndef DTX_SHOP_PGSHOP_H
#define DTX_SHOP_PGSHOP_H

#include <stdbool.h>

#include "shop_common.h"

#define PGSHOP_URI_MAX 1024
#define PGSHOP_OWN     "postgresql" /* --services-store: a cluster of ours */

typedef struct pgshop pgshop;

/* pgshop_start_new creates and starts a cluster of our own for the run
 * in workdir (see above) and returns it (transferred: end it with
 * pgshop_stop). Returns 0, or -1 with the reason on stderr. */
int pgshop_start_new(const char *workdir, pgshop **ret_pg);

/* pgshop_resume starts the cluster of a kept work directory again, if
 * its run started one (*ret_pg NULL otherwise). Returns 0, or -1 with the
 * reason on stderr. */
int pgshop_resume(const char *workdir, pgshop **ret_pg);

/* pgshop_admin_uri: the superuser's URI on database "postgres"
 * (borrowed, lives with pg). */
const char *pgshop_admin_uri(const pgshop *pg);

/* pgshop_stop shuts the cluster down (fast, with a checkpoint, when it is
 * kept; immediate when remove says it goes) and, if remove, deletes its
 * directory. Accepts NULL. */
void pgshop_stop(pgshop *pg, bool remove);

/* pgshop_create_dbs creates one fresh database per service on the server
 * of admin_uri (borrowed) and writes their URIs (admin_uri's settings,
 * another dbname) to uris. Returns 0, or -1 with the reason on stderr. */
int pgshop_create_dbs(const char *admin_uri,
                      char uris[SHOP_SVC_COUNT][PGSHOP_URI_MAX]);

#endif
