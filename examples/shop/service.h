/*
 * service.h - the runner of the four shop service binaries (order,
 * inventory, payment, delivery): flags, store, participant, ready file,
 * signals. A service file only defines its handlers and calls
 * shop_service_main.
 *
 * The runner never touches a table itself: every write happens in a
 * handler, through dtx_call_txn, inside the barrier's transaction.
 */
#ifndef DTX_SHOP_SERVICE_H
#define DTX_SHOP_SERVICE_H

#include <stddef.h>

#include <dtx/dtx.h>

#include "shop_common.h"

/* shop_handler - one handler a service registers. */
typedef struct shop_handler {
	const char *name;
	dtx_handler_fn fn;
} shop_handler;

/* shop_service - what a service binary is: its id and handlers. */
typedef struct shop_service {
	shop_service_id id;
	const shop_handler *handlers;
	size_t nhandlers;
} shop_service;

/* shop_service_main is the whole life of a service process:
 *
 *   dtx-shop-NAME --url URL (--data DIR | --store URI) [--workers N]
 *                 [--groups N] [--ready-file PATH]
 *
 * it opens (creating) the store with the service's tables, an LMDB store
 * in DIR or the PostgreSQL database of URI (libdtx-pg: the same tables in
 * dtx_kv, the barrier in dtx_barrier; the handlers run unchanged; --groups
 * groups of calls served at once, each on a connection of its own,
 * default GROUPS_PG_DEFAULT, 1 with --journal), binds it
 * to a participant with the handlers, listens, writes the ready file, and
 * serves until SIGTERM/SIGINT. Returns the exit status: 0 after a signal,
 * 1 on a start failure; bad flags exit 64 at once. */
int shop_service_main(const shop_service *svc, int argc, char **argv);

#define SHOP_NO_FLOOR INT64_MIN /* shop_add_i64 without a floor */

/* shop_add_i64 is dtx_txn_add_i64 on table[key] (the key's bytes): adds
 * delta unless the row would end below floor (*ret_short then; it may be
 * NULL with SHOP_NO_FLOOR). Right when several groups change the row at
 * once (one checked step under the row's lock), and on PostgreSQL
 * deferred to the group's COMMIT (dtx.h): the row's lock is held only
 * for that COMMIT. */
int shop_add_i64(dtx_txn *txn, const char *table, const char *key,
                 int64_t delta, int64_t floor, bool *ret_short);

#endif
