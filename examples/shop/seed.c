/*
 * seed.c - writes the shop's starting state (see seed.h): stock, buyer
 * balances, the pool of card codes, and initial.txt.
 *
 * Balances and codes come from a splitmix64 stream seeded by --seed, so a
 * run is reproducible. About one buyer in five gets less than one unit's
 * price (unless rich): those purchases must be refused "insufficient
 * balance". This file never runs while a service holds a store open.
 *
 * It also owns the layout of a store: LMDB in WORKDIR/stores/SERVICE, or
 * the PostgreSQL database named by WORKDIR/stores/SERVICE.uri (the same
 * rows: the key-value API's table dtx_kv). The large tables (balances,
 * the pool) go into PostgreSQL with one COPY in the seeding transaction
 * (bulk_*) rather than a round trip per row: 200,000 buyers seed in
 * seconds, not minutes.
 */
#include "seed.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dtx/dtx_pg.h>

#define SEED_SKU    "gift-card"
#define SEED_PRICE  1000u /* cents: 10.00 */
#define POOR_ONE_IN 5     /* one buyer in POOR_ONE_IN cannot pay */
#define RICH_UNITS  10u   /* a rich buyer holds 1..RICH_UNITS prices */

typedef struct seed_ctx {
	const seed_opts *o;
	seed_initial *init;
	uint64_t rng;
} seed_ctx;

static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

bool seed_path(const char *workdir, const char *name, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s", workdir, name);

	return n > 0 && (size_t)n < len;
}

bool seed_store_dir(const char *workdir, shop_service_id id, char *out,
                    size_t len)
{
	int n = snprintf(out, len, "%s/stores/%s", workdir,
	                 shop_service_name(id));

	return n > 0 && (size_t)n < len;
}

/* uri_path writes WORKDIR/stores/SERVICE.uri into out. */
static bool uri_path(const char *workdir, shop_service_id id, char *out,
                     size_t len)
{
	int n = snprintf(out, len, "%s/stores/%s.uri", workdir,
	                 shop_service_name(id));

	return n > 0 && (size_t)n < len;
}

bool seed_store_uri(const char *workdir, shop_service_id id, char *out,
                    size_t len)
{
	char path[4096];
	FILE *f;
	bool ok;

	if (!uri_path(workdir, id, path, sizeof(path)) ||
	    (f = fopen(path, "r")) == NULL)
		return false;
	ok = fgets(out, (int)len, f) != NULL;
	fclose(f);
	if (!ok)
		return false;
	out[strcspn(out, "\n")] = '\0';
	return out[0] != '\0';
}

int seed_store_open(const char *workdir, shop_service_id id,
                    const dtx_store_opts *opts, dtx_store **ret_store)
{
	char where[4096];
	dtx_store_opts own;

	if (opts == NULL) {
		dtx_store_opts_init(&own);
		own.ntables = shop_service_tables(id, &own.tables);
		opts = &own;
	}
	if (seed_store_uri(workdir, id, where, sizeof(where)))
		return dtx_store_open_pg(where, opts, ret_store);
	if (!seed_store_dir(workdir, id, where, sizeof(where)))
		return DTX_ETOOBIG;
	return dtx_store_open(where, opts, ret_store);
}

/* write_uri writes uri to WORKDIR/stores/SERVICE.uri, readable by its
 * owner only (a URI may hold a password). */
static int write_uri(const char *workdir, shop_service_id id, const char *uri)
{
	char path[4096];
	FILE *f;
	int fd;

	if (!uri_path(workdir, id, path, sizeof(path)))
		return DTX_ETOOBIG;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		if (fd >= 0)
			close(fd);
		return DTX_EIO;
	}
	fprintf(f, "%s\n", uri);
	return fclose(f) == 0 ? DTX_OK : DTX_EIO;
}

void seed_buyer_id(unsigned i, char *out, size_t len)
{
	snprintf(out, len, "buyer-%06u", i);
}

static int fill_inventory(void *arg, dtx_txn *txn)
{
	seed_ctx *c = arg;

	return shop_txn_put_i64(txn, SHOP_T_STOCK, c->init->sku,
	                        (int64_t)c->init->stock);
}

/* balance_of draws buyer i's balance in cents. */
static int64_t balance_of(seed_ctx *c)
{
	uint64_t r = next_random(&c->rng);
	uint64_t price = c->init->price;

	if (!c->o->rich && r % POOR_ONE_IN == 0)
		return (int64_t)((r >> 8) % price);
	return (int64_t)(price + (r >> 8) % (price * (RICH_UNITS - 1) + 1));
}

/* ---- bulk rows --------------------------------------------------------- */

#define BULK_BUF 65536

/* bulk - rows written into one table of txn: through dtx_txn_put, or on
 * PostgreSQL as one COPY into dtx_kv (buffered; conn NULL on LMDB). */
typedef struct bulk {
	dtx_txn *txn;
	const char *table;
	PGconn *conn;
	size_t n;
	char buf[BULK_BUF];
} bulk;

static int bulk_begin(bulk *b, dtx_txn *txn, const char *table)
{
	PGresult *res;
	int err = DTX_OK;

	b->txn = txn;
	b->table = table;
	b->n = 0;
	b->conn = dtx_txn_pg(txn);
	if (b->conn == NULL)
		return DTX_OK;
	res = PQexec(b->conn, "COPY dtx_kv (tbl, k, v) FROM STDIN");
	if (PQresultStatus(res) != PGRES_COPY_IN)
		err = DTX_EIO;
	PQclear(res);
	return err;
}

static int bulk_flush(bulk *b)
{
	int rc = b->n > 0 ? PQputCopyData(b->conn, b->buf, (int)b->n) : 1;

	b->n = 0;
	return rc == 1 ? DTX_OK : DTX_EIO;
}

/* put_hex appends "\\x<hex of p>" (a bytea in COPY's text format). */
static void put_hex(bulk *b, const void *p, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = p;

	b->buf[b->n++] = '\\';
	b->buf[b->n++] = '\\';
	b->buf[b->n++] = 'x';
	for (size_t i = 0; i < len; i++) {
		b->buf[b->n++] = hex[u[i] >> 4];
		b->buf[b->n++] = hex[u[i] & 15];
	}
}

/* bulk_put writes table[key] = val (keys and values of the seed: short,
 * at most SHOP_ID_MAX + SHOP_CODE_MAX bytes each). */
static int bulk_put(bulk *b, const char *key, const void *val, size_t vlen)
{
	size_t klen = strlen(key);
	int err = DTX_OK;

	if (b->conn == NULL)
		return dtx_txn_put(b->txn, b->table, key, klen, val, vlen);
	if (klen + vlen > 1024)
		return DTX_ETOOBIG;
	if (b->n + strlen(b->table) + 2 * (klen + vlen) + 16 > BULK_BUF)
		err = bulk_flush(b);
	b->n += (size_t)snprintf(b->buf + b->n, BULK_BUF - b->n, "%s\t",
	                         b->table);
	put_hex(b, key, klen);
	b->buf[b->n++] = '\t';
	put_hex(b, val, vlen);
	b->buf[b->n++] = '\n';
	return err;
}

/* bulk_end ends the COPY (err: what the rows gave; a failed one aborts
 * it) and returns the first error. */
static int bulk_end(bulk *b, int err)
{
	PGresult *res;

	if (b->conn == NULL)
		return err;
	if (err == DTX_OK)
		err = bulk_flush(b);
	if (PQputCopyEnd(b->conn, err == DTX_OK ? NULL : "seed failed") != 1)
		err = DTX_EIO;
	while ((res = PQgetResult(b->conn)) != NULL) {
		if (err == DTX_OK && PQresultStatus(res) != PGRES_COMMAND_OK)
			err = DTX_EIO;
		PQclear(res);
	}
	return err;
}

/* ---- the services' tables ----------------------------------------------- */

static int fill_payment(void *arg, dtx_txn *txn)
{
	seed_ctx *c = arg;
	char id[SHOP_ID_MAX + 1], val[24];
	int64_t total = 0, b;
	bulk *rows = malloc(sizeof(*rows));
	int err = rows != NULL ? bulk_begin(rows, txn, SHOP_T_BALANCES)
	                       : DTX_ENOMEM;

	c->rng = c->o->seed;
	for (unsigned i = 0; err == DTX_OK && i < c->o->buyers; i++) {
		seed_buyer_id(i, id, sizeof(id));
		b = balance_of(c);
		total += b;
		snprintf(val, sizeof(val), "%" PRId64, b);
		err = bulk_put(rows, id, val, strlen(val));
	}
	if (rows != NULL)
		err = bulk_end(rows, err);
	free(rows);
	if (err == DTX_OK)
		err = shop_txn_put_i64(txn, SHOP_T_REVENUE, SHOP_MERCHANT, 0);
	c->init->money = total;
	return err;
}

static int fill_delivery(void *arg, dtx_txn *txn)
{
	seed_ctx *c = arg;
	char key[SHOP_ID_MAX + SHOP_CODE_MAX + 2];
	const char *sku = c->init->sku;
	bulk *rows = malloc(sizeof(*rows));
	int err =
	        rows != NULL ? bulk_begin(rows, txn, SHOP_T_POOL) : DTX_ENOMEM;

	c->rng = c->o->seed ^ 0x636f646573ull; /* "codes" */
	for (uint64_t i = 0; err == DTX_OK && i < c->init->codes; i++) {
		snprintf(key, sizeof(key),
		         "%s/CARD-%s-%08" PRIu64 "-%016" PRIx64, sku, sku, i,
		         next_random(&c->rng));
		err = bulk_put(rows, key, "", 0);
	}
	if (rows != NULL)
		err = bulk_end(rows, err);
	free(rows);
	return err;
}

static int fill_nothing(void *arg, dtx_txn *txn)
{
	return DTX_OK;
}

/* fill_store creates the store of service id (first naming its
 * PostgreSQL database, if it has one) and runs fill in one write
 * transaction. */
static int fill_store(const char *workdir, shop_service_id id, dtx_txn_fn fill,
                      seed_ctx *c)
{
	dtx_store *store;
	int err = DTX_OK;

	if (c->o->uris != NULL)
		err = write_uri(workdir, id, c->o->uris[id]);
	if (err == DTX_OK)
		err = seed_store_open(workdir, id, NULL, &store);
	if (err != DTX_OK)
		return err;
	err = dtx_store_update(store, fill, c);
	dtx_store_close(store);
	return err;
}

static int write_initial(const char *workdir, const seed_initial *in)
{
	char path[4096];
	FILE *f;

	if (!seed_path(workdir, "initial.txt", path, sizeof(path)))
		return -1;
	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f,
	        "sku %s\nprice %" PRIu32 "\nstock %" PRIu64 "\nbuyers %" PRIu64
	        "\nmoney %" PRId64 "\ncodes %" PRIu64 "\n",
	        in->sku, in->price, in->stock, in->buyers, in->money,
	        in->codes);
	return fclose(f) == 0 ? 0 : -1;
}

static int make_stores_dir(const char *workdir)
{
	char dir[4096];

	if (!seed_path(workdir, "stores", dir, sizeof(dir)))
		return -1;
	if (mkdir(dir, 0755) == 0)
		return 0;
	fprintf(stderr, "dtx-shop: %s: %s\n", dir,
	        errno == EEXIST ? "already holds a shop" : strerror(errno));
	return -1;
}

int seed_stores(const char *workdir, const seed_opts *o, seed_initial *ret_init)
{
	static const dtx_txn_fn fills[SHOP_SVC_COUNT] = {
	        fill_nothing, fill_inventory, fill_payment, fill_delivery};
	seed_initial init = {.sku = SEED_SKU, .price = SEED_PRICE};
	seed_ctx c = {.o = o, .init = &init};
	int err = DTX_OK;

	init.stock = o->stock;
	init.buyers = o->buyers;
	init.codes = o->stock; /* one code per unit */
	if (make_stores_dir(workdir) != 0)
		return -1;
	for (int id = 0; err == DTX_OK && id < SHOP_SVC_COUNT; id++)
		err = fill_store(workdir, (shop_service_id)id, fills[id], &c);
	if (err != DTX_OK) {
		fprintf(stderr, "dtx-shop: seeding the stores: %s\n",
		        dtx_strerror(err));
		return -1;
	}
	if (write_initial(workdir, &init) != 0) {
		fprintf(stderr, "dtx-shop: writing initial.txt: %s\n",
		        strerror(errno));
		return -1;
	}
	*ret_init = init;
	return 0;
}

int seed_read_initial(const char *workdir, seed_initial *ret_init)
{
	char path[4096];
	seed_initial in = {0};
	int n = 0;
	FILE *f;

	if (!seed_path(workdir, "initial.txt", path, sizeof(path)) ||
	    (f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "dtx-shop: %s/initial.txt: %s\n", workdir,
		        strerror(errno));
		return -1;
	}
	n = fscanf(f,
	           "sku %64s price %" SCNu32 " stock %" SCNu64
	           " buyers %" SCNu64 " money %" SCNd64 " codes %" SCNu64,
	           in.sku, &in.price, &in.stock, &in.buyers, &in.money,
	           &in.codes);
	fclose(f);
	if (n != 6) {
		fprintf(stderr, "dtx-shop: %s is malformed\n", path);
		return -1;
	}
	*ret_init = in;
	return 0;
}
