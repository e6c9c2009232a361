/*
 * tamper.c - the checker's self-test (see tamper.h).
 *
 * Each case picks its victim from the copy's own history (a purchase
 * told committed, one told rolled back, ...) and changes as little as it
 * can: a balance, a stock counter, a code list, a journal row, one line
 * of the history, or one transaction of the coordinator's log, written
 * back through the log's own code (coordinator/log.c) so that every
 * record stays well-formed and only the invariant is broken. Copies are
 * removed once judged, unless the case was missed (then kept to look at).
 */
#include "tamper.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "log.h"
#include "procs.h"
#include "seed.h"

typedef struct victim {
	const hist_rec *committed, *committed2, *rolled, *rolled_tcc;
	const hist_rec *committed_saga;
	const hist_rec *h; /* the whole history, sorted */
	size_t n;
} victim;

typedef int (*tamper_fn)(const char *dir, const victim *v);

/* ---- writing a store --------------------------------------------------- */

typedef struct edit {
	const char *table, *key, *val; /* val NULL: delete */
	int64_t add;                   /* add to a decimal instead */
	bool append;                   /* append ",val" to the value */
} edit;

static int edit_cb(void *arg, dtx_txn *txn)
{
	const edit *e = arg;
	const void *old;
	size_t len;
	char buf[4096];
	int err;

	if (e->add != 0)
		return shop_txn_add_i64(txn, e->table, e->key, e->add, NULL);
	if (e->val == NULL)
		return shop_txn_del_str(txn, e->table, e->key);
	if (!e->append)
		return shop_txn_put_str(txn, e->table, e->key, e->val);
	err = dtx_txn_get(txn, e->table, e->key, strlen(e->key), &old, &len);
	if (err != DTX_OK || len + strlen(e->val) + 2 > sizeof(buf))
		return err != DTX_OK ? err : DTX_ETOOBIG;
	snprintf(buf, sizeof(buf), "%.*s,%s", (int)len, (const char *)old,
	         e->val);
	return shop_txn_put_str(txn, e->table, e->key, buf);
}

static int edit_store(const char *dir, shop_service_id id, const edit *e)
{
	char sdir[PATH_MAX];
	dtx_store_opts opts;
	dtx_store *store;
	int err;

	seed_store_dir(dir, id, sdir, sizeof(sdir));
	dtx_store_opts_init(&opts);
	opts.ntables = shop_service_tables(id, &opts.tables);
	err = dtx_store_open(sdir, &opts, &store);
	if (err != DTX_OK)
		return err;
	err = dtx_store_update(store, edit_cb, (void *)e);
	dtx_store_close(store);
	return err;
}

/* read_value copies table[key] of store id into out. */
typedef struct getter {
	const char *table, *key;
	char *out;
	size_t len;
} getter;

static int get_cb(void *arg, dtx_txn *txn)
{
	getter *g = arg;
	const void *v;
	size_t len;
	int err = dtx_txn_get(txn, g->table, g->key, strlen(g->key), &v, &len);

	if (err == DTX_OK)
		snprintf(g->out, g->len, "%.*s", (int)len, (const char *)v);
	return err;
}

static int read_value(const char *dir, shop_service_id id, getter *g)
{
	char sdir[PATH_MAX];
	dtx_store_opts opts;
	dtx_store *store;
	int err;

	seed_store_dir(dir, id, sdir, sizeof(sdir));
	dtx_store_opts_init(&opts);
	opts.ntables = shop_service_tables(id, &opts.tables);
	opts.read_only = true;
	err = dtx_store_open(sdir, &opts, &store);
	if (err != DTX_OK)
		return err;
	err = dtx_store_view(store, get_cb, g);
	dtx_store_close(store);
	return err;
}

/* ---- the cases on the stores ------------------------------------------- */

static int t_money(const char *dir, const victim *v)
{
	edit e = {SHOP_T_BALANCES, "buyer-000000", NULL, 100, false};

	return edit_store(dir, SHOP_SVC_PAYMENT, &e);
}

static int t_negative(const char *dir, const victim *v)
{
	edit e = {SHOP_T_BALANCES, "buyer-000001", "-100", 0, false};

	return edit_store(dir, SHOP_SVC_PAYMENT, &e);
}

static int t_oversell(const char *dir, const victim *v)
{
	edit e = {SHOP_T_SOLD, "oversold-gid", "1", 0, false};

	return edit_store(dir, SHOP_SVC_INVENTORY, &e);
}

/* t_code_twice gives the first code of one paid order to another too. */
static int t_code_twice(const char *dir, const victim *v)
{
	char codes[4096];
	getter g = {SHOP_T_DELIVERIES, v->committed->gid, codes, sizeof(codes)};
	edit e = {SHOP_T_DELIVERIES, v->committed2->gid, codes, 0, true};
	int err = read_value(dir, SHOP_SVC_DELIVERY, &g);

	codes[strcspn(codes, ",")] = '\0';
	return err != DTX_OK ? err : edit_store(dir, SHOP_SVC_DELIVERY, &e);
}

/* t_code_unpaid issues a code of the pool to a rolled-back order. */
static int t_code_unpaid(const char *dir, const victim *v)
{
	edit e = {SHOP_T_ISSUED, "CARD-FORGED-1", v->rolled->gid, 0, false};

	return edit_store(dir, SHOP_SVC_DELIVERY, &e);
}

/* t_half_done removes the charge of a committed purchase (and gives the
 * money back, so money stays conserved). */
static int t_half_done(const char *dir, const victim *v)
{
	edit del = {SHOP_T_CHARGES, v->committed->gid, NULL, 0, false};

	return edit_store(dir, SHOP_SVC_PAYMENT, &del);
}

static int t_applied_twice(const char *dir, const victim *v)
{
	char key[DTX_GID_MAX + 32];
	edit e = {SHOP_T_APPLIED, key, "2 1 3", 0, false};

	snprintf(key, sizeof(key), "%s|1|%s", v->committed->gid,
	         v->committed->mode == MODE_SAGA ? "action" : "try");
	return edit_store(dir, SHOP_SVC_INVENTORY, &e);
}

/* t_try_after_cancel journals a Try with a later sequence number than
 * its Cancel. */
static int t_try_after_cancel(const char *dir, const victim *v)
{
	char kt[DTX_GID_MAX + 32], kc[DTX_GID_MAX + 32];
	edit c = {SHOP_T_APPLIED, kc, "1 1000000 1000000", 0, false};
	edit t = {SHOP_T_APPLIED, kt, "1 2000000 2000000", 0, false};
	int err;

	snprintf(kc, sizeof(kc), "%s|1|cancel", v->rolled_tcc->gid);
	snprintf(kt, sizeof(kt), "%s|1|try", v->rolled_tcc->gid);
	err = edit_store(dir, SHOP_SVC_INVENTORY, &c);
	return err == DTX_OK ? edit_store(dir, SHOP_SVC_INVENTORY, &t) : err;
}

/* ---- the cases on the history and the log ------------------------------ */

/* rewrite_history writes the history back, with the told of gid set to
 * t. */
static int rewrite_history(const char *dir, const victim *v, const char *gid,
                           told t)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/history.txt", dir);
	f = fopen(path, "w");
	if (f == NULL)
		return DTX_EIO;
	for (size_t i = 0; i < v->n; i++) {
		hist_rec r = v->h[i];

		if (strcmp(r.gid, gid) == 0)
			r.t = t;
		if (history_write(fileno(f), &r) != 0)
			break;
	}
	return fclose(f) == 0 ? DTX_OK : DTX_EIO;
}

/* t_told_wrong says committed to a buyer whose purchase rolled back. */
static int t_told_wrong(const char *dir, const victim *v)
{
	return rewrite_history(dir, v, v->rolled->gid, TOLD_COMMITTED);
}

typedef int (*tx_edit_fn)(dc_tx *tx, dc_log_batch *b);

static int edit_log(const char *dir, const char *gid, tx_edit_fn fn)
{
	char ldir[PATH_MAX], err[256];
	dc_log_opts lo = {.dir = ldir};
	dc_log_batch *b = NULL;
	dc_tx *tx = NULL;
	dc_log *log;
	int rv;

	snprintf(ldir, sizeof(ldir), "%s/log", dir);
	rv = dc_log_open(&lo, &log, err, sizeof(err));
	if (rv != DTX_OK)
		return rv;
	rv = dc_log_load_tx(log, gid, &tx);
	if (rv == DTX_OK)
		rv = dc_log_batch_create(&b);
	if (rv == DTX_OK)
		rv = fn(tx, b);
	if (rv == DTX_OK)
		rv = dc_log_batch_put_tx(b, tx, UINT64_MAX);
	if (rv == DTX_OK)
		rv = dc_log_commit(log, b);
	dc_log_batch_destroy(b);
	dc_tx_destroy(tx);
	dc_log_close(log);
	return rv;
}

static int back_to_running(dc_tx *tx, dc_log_batch *b)
{
	tx->state = DC_TX_RUNNING;
	return DTX_OK;
}

/* undone_step appends an event taking step 0 of a committed saga back to
 * PENDING: no transition of the saga machine does that. */
static int undone_step(dc_tx *tx, dc_log_batch *b)
{
	dc_log_event ev = {.unix_ms = tx->updated_unix_ms,
	                   .tx_state = tx->state,
	                   .step = 0,
	                   .step_state = DC_STEP_PENDING,
	                   .detail = "tampered"};

	return dc_log_batch_add_event(b, tx->gid, tx->next_event_seq++, &ev);
}

/* t_corrupt_record changes one byte of a committed purchase's record
 * (its steps' payload: "buyer=" becomes "buyeR=") in every copy LMDB
 * holds in the log file, leaving LMDB's own structure alone: the
 * records' CRC-32C must catch it. */
static int t_corrupt_record(const char *dir, const victim *v)
{
	char path[PATH_MAX], pat[DTX_GID_MAX + 32];
	size_t plen, n, hits = 0;
	char *buf;
	FILE *f;

	snprintf(path, sizeof(path), "%s/log/data.mdb", dir);
	plen = (size_t)snprintf(pat, sizeof(pat),
	                        "order=%s;buyer=", v->committed->gid);
	f = fopen(path, "r+b");
	if (f == NULL)
		return DTX_EIO;
	fseek(f, 0, SEEK_END);
	n = (size_t)ftell(f);
	buf = malloc(n);
	rewind(f);
	if (buf == NULL || fread(buf, 1, n, f) != n) {
		free(buf);
		fclose(f);
		return DTX_EIO;
	}
	for (char *at = buf;
	     (at = memmem(at, n - (size_t)(at - buf), pat, plen)) != NULL;
	     at += plen, hits++)
		at[plen - 2] = 'R';
	rewind(f);
	if (hits == 0 || fwrite(buf, 1, n, f) != n) {
		free(buf);
		fclose(f);
		return DTX_EIO;
	}
	free(buf);
	return fclose(f) == 0 ? DTX_OK : DTX_EIO;
}

static int t_not_final(const char *dir, const victim *v)
{
	return edit_log(dir, v->committed->gid, back_to_running);
}

static int t_illegal(const char *dir, const victim *v)
{
	return edit_log(dir, v->committed_saga->gid, undone_step);
}

/* ---- the self-test ----------------------------------------------------- */

static const struct {
	const char *name; /* the copy's suffix */
	const char *expect;
	tamper_fn fn;
} cases[] = {
        {"money", "money-conserved", t_money},
        {"negative", "no-negative-balance", t_negative},
        {"oversell", "stock-conserved", t_oversell},
        {"code-twice", "codes-unique", t_code_twice},
        {"code-unpaid", "codes-to-paid-orders", t_code_unpaid},
        {"half-done", "all-or-nothing", t_half_done},
        {"not-final", "all-final", t_not_final},
        {"applied-twice", "applied-once", t_applied_twice},
        {"try-after-cancel", "no-late-effect", t_try_after_cancel},
        {"told-wrong", "told-matches-final", t_told_wrong},
        {"illegal", "legal-transitions", t_illegal},
        {"corrupt-record", "log-intact", t_corrupt_record},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

int tamper_remove_tree(const char *dir)
{
	const char *const argv[] = {"/bin/rm", "-rf", "--", dir, NULL};

	return procs_run("/dev/null", argv, 120000) == 0 ? 0 : -1;
}

static int copy_tree(const char *from, const char *to)
{
	const char *const argv[] = {"/bin/cp", "-a", "--", from, to, NULL};

	tamper_remove_tree(to);
	return procs_run("/dev/null", argv, 120000) == 0 ? 0 : -1;
}

static bool pick(const hist_rec *h, size_t n, victim *v)
{
	for (size_t i = 0; i < n; i++) {
		const hist_rec *r = &h[i];

		if (r->t == TOLD_COMMITTED && v->committed == NULL)
			v->committed = r;
		else if (r->t == TOLD_COMMITTED && v->committed2 == NULL)
			v->committed2 = r;
		if (r->t == TOLD_COMMITTED && r->mode == MODE_SAGA &&
		    v->committed_saga == NULL)
			v->committed_saga = r;
		if (r->t == TOLD_ROLLED_BACK && v->rolled == NULL)
			v->rolled = r;
		if (r->t == TOLD_ROLLED_BACK && r->mode != MODE_SAGA &&
		    v->rolled_tcc == NULL)
			v->rolled_tcc = r;
	}
	return v->committed && v->committed2 && v->rolled && v->rolled_tcc &&
	       v->committed_saga;
}

static bool run_case(const char *workdir, size_t k, const victim *v,
                     check_result *res)
{
	char copy[PATH_MAX];
	const check_item *it;
	int err;

	snprintf(copy, sizeof(copy), "%s.tamper-%s", workdir, cases[k].name);
	if (copy_tree(workdir, copy) != 0)
		return false;
	err = cases[k].fn(copy, v);
	if (err != 0 || check_run(copy, res) != 0) {
		printf("  MISSED  %-17s could not tamper or check (%s)\n",
		       cases[k].name, dtx_strerror(err));
		return false;
	}
	it = check_find(res, cases[k].expect);
	if (it == NULL || it->ok) {
		printf("  MISSED  %-17s %s still passes; copy kept: %s\n",
		       cases[k].name, cases[k].expect, copy);
		return false;
	}
	printf("  caught  %-17s %s: %s [first %s]\n", cases[k].name, it->name,
	       it->evidence, it->first_gid[0] ? it->first_gid : "-");
	tamper_remove_tree(copy);
	return true;
}

int tamper_self_test(const char *workdir)
{
	static check_result res;
	char path[PATH_MAX];
	hist_rec *h = NULL;
	victim v = {0};
	size_t n = 0, caught = 0;

	printf("self-test: the checker must catch each tampered copy\n");
	snprintf(path, sizeof(path), "%s/history.txt", workdir);
	if (check_run(workdir, &res) != 0 || res.failed != 0) {
		printf("self-test: the run itself does not pass its check\n");
		return -1;
	}
	if (history_load(path, &h, &n) != 0 || !pick(h, n, &v)) {
		printf("self-test: the history lacks a committed and a "
		       "rolled-back purchase of each kind\n");
		free(h);
		return -1;
	}
	v.h = h;
	v.n = n;
	for (size_t k = 0; k < NCASES; k++)
		caught += run_case(workdir, k, &v, &res);
	free(h);
	printf("self-test: %zu of %zu tampered copies caught\n", caught,
	       NCASES);
	return caught == NCASES ? 0 : -1;
}
