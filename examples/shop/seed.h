/*
 * seed.h - the shop's starting state and the layout of a work directory.
 *
 *   WORKDIR/initial.txt          what the sale started with (seed_initial)
 *   WORKDIR/stores/SERVICE/      each service's dtx_store (LMDB), unless
 *   WORKDIR/stores/SERVICE.uri   names its PostgreSQL database instead
 *                                (one line, a libpq URI; mode 0600)
 *   WORKDIR/log/                 dtxd's log
 *   WORKDIR/NAME.ipc .ready .log sockets, ready files, stderr of processes
 *
 * seed_stores writes the stores BEFORE any service runs, so the services
 * never need a "load" handler and the checker knows exactly what was
 * there at the start. Whoever opens a service's store (the services'
 * command lines, the checker, refunds, tests) asks seed_store_uri /
 * seed_store_open which kind it is, so every reader follows the layout.
 */
#ifndef DTX_SHOP_SEED_H
#define DTX_SHOP_SEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shop_common.h"

#define SEED_BUYERS_MAX 1000000u
#define SEED_STOCK_MAX  1000000u

/* seed_initial - what initial.txt holds. */
typedef struct seed_initial {
	char sku[SHOP_ID_MAX + 1];
	uint32_t price;  /* cents per unit */
	uint64_t stock;  /* units of sku */
	uint64_t buyers; /* accounts in balances */
	int64_t money;   /* sum of balances + revenue, in cents */
	uint64_t codes;  /* card codes generated into the pool */
} seed_initial;

typedef struct seed_opts {
	unsigned buyers;
	unsigned stock;
	uint64_t seed; /* the random source of balances and codes */
	bool rich;     /* every buyer can pay */
	/* NULL: LMDB stores in WORKDIR/stores; else SHOP_SVC_COUNT libpq
	 * URIs (borrowed), one empty PostgreSQL database per service */
	const char *const *uris;
} seed_opts;

/* seed_path writes WORKDIR/name into out; false if it does not fit. */
bool seed_path(const char *workdir, const char *name, char *out, size_t len);

/* seed_store_dir writes WORKDIR/stores/SERVICE into out. */
bool seed_store_dir(const char *workdir, shop_service_id id, char *out,
                    size_t len);

/* seed_store_uri writes the URI of service id's PostgreSQL database into
 * out and returns true, or returns false when its store is LMDB (no
 * WORKDIR/stores/SERVICE.uri) or the file cannot be read. */
bool seed_store_uri(const char *workdir, shop_service_id id, char *out,
                    size_t len);

/* seed_store_open opens service id's store, LMDB or PostgreSQL by the
 * layout above, with opts (borrowed; NULL: the service's tables,
 * writable). Errors: DTX_ETOOBIG (a path too long), and those of
 * dtx_store_open / dtx_store_open_pg. */
int seed_store_open(const char *workdir, shop_service_id id,
                    const dtx_store_opts *opts, dtx_store **ret_store);

/* seed_buyer_id writes the id of buyer i ("buyer-000042"). */
void seed_buyer_id(unsigned i, char *out, size_t len);

/* seed_stores creates WORKDIR/stores (it must not exist), writes every
 * service's starting tables and WORKDIR/initial.txt, and fills *ret_init.
 * Prints the reason of a failure to stderr. Returns 0 or -1. */
int seed_stores(const char *workdir, const seed_opts *o,
                seed_initial *ret_init);

/* seed_read_initial reads WORKDIR/initial.txt. Returns 0 or -1 (reason
 * printed to stderr). */
int seed_read_initial(const char *workdir, seed_initial *ret_init);

#endif
