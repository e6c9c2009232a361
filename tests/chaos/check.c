/*
 * check.c - the checker of a finished run (see check.h).
 *
 * Loading: the log through the coordinator's own reading code
 * (coordinator/log.c, read-only, as dtxctl --log does), each store
 * through the public store API (read-only), the history through
 * history.c. Each invariant is then a pure function of that snapshot,
 * which stays small (a few tables of strings): every loop below is
 * bounded by the number of rows loaded, and loading is bounded by
 * ROWS_MAX per table.
 *
 * The timeline check replays each transaction's events from the initial
 * state (RUNNING, every step PENDING) through the tables of legal
 * transitions below, which restate the diagrams of coordinator/saga.c and
 * coordinator/tcc.c; it must end in the state the log records.
 */
#include "check.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checker.h"
#include "epochs.h"
#include "log.h"
#include "seed.h"

#define ROWS_MAX  20000000u
#define STEPS_MAX 64

/* ---- tables of strings ------------------------------------------------- */

typedef struct kv {
	char *k, *v;
} kv;

typedef struct kvtab {
	kv *rows;
	size_t n, cap;
} kvtab;

enum {
	T_ORDERS,
	T_SOLD,
	T_RESERVED,
	T_CHARGES,
	T_FROZEN,
	T_DELIVERIES,
	T_HELD,
	T_NTAB
};

static const struct {
	shop_service_id svc;
	const char *name;
} tabs[T_NTAB] = {
        [T_ORDERS] = {SHOP_SVC_ORDER, SHOP_T_ORDERS},
        [T_SOLD] = {SHOP_SVC_INVENTORY, SHOP_T_SOLD},
        [T_RESERVED] = {SHOP_SVC_INVENTORY, SHOP_T_RESERVED},
        [T_CHARGES] = {SHOP_SVC_PAYMENT, SHOP_T_CHARGES},
        [T_FROZEN] = {SHOP_SVC_PAYMENT, SHOP_T_FROZEN},
        [T_DELIVERIES] = {SHOP_SVC_DELIVERY, SHOP_T_DELIVERIES},
        [T_HELD] = {SHOP_SVC_DELIVERY, SHOP_T_HELD},
};

/* ltx - what the checker keeps of one logged transaction. */
typedef struct ltx {
	char gid[DTX_GID_MAX + 1];
	chaos_mode mode;
	int state;
} ltx;

/* arow - one journal row and the service whose store holds it. */
typedef struct arow {
	shop_applied a;
	int svc;
} arow;

typedef struct world {
	kvtab t[T_NTAB];
	arow *applied;
	size_t napplied, capapplied;
	ltx *txs;
	size_t ntx, captx;
	hist_rec *hist;
	size_t nhist;
	check_summary *sum;
	int svc; /* the store being loaded */
	check_item illegal;
} world;

static bool grow(void **p, size_t *cap, size_t n, size_t size)
{
	void *np;

	if (n < *cap)
		return true;
	if (*cap >= ROWS_MAX)
		return false;
	*cap = *cap ? *cap * 2 : 1024;
	np = realloc(*p, *cap * size);
	if (np == NULL)
		return false;
	*p = np;
	return true;
}

static char *dup_n(const void *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s != NULL) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

static int add_kv(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	kvtab *t = arg;

	if (!grow((void **)&t->rows, &t->cap, t->n, sizeof(kv)))
		return DTX_ENOMEM;
	t->rows[t->n].k = dup_n(k, kl);
	t->rows[t->n].v = dup_n(v, vl);
	if (t->rows[t->n].k == NULL || t->rows[t->n].v == NULL)
		return DTX_ENOMEM;
	t->n++;
	return DTX_OK;
}

static int cmp_kv(const void *a, const void *b)
{
	return strcmp(((const kv *)a)->k, ((const kv *)b)->k);
}

static const char *find(const kvtab *t, const char *key)
{
	kv probe = {.k = (char *)key};
	const kv *r = t->n ? bsearch(&probe, t->rows, t->n, sizeof(kv), cmp_kv)
	                   : NULL;

	return r != NULL ? r->v : NULL;
}

/* ---- loading the stores ------------------------------------------------ */

static int add_applied(void *arg, const void *k, size_t kl, const void *v,
                       size_t vl)
{
	world *w = arg;
	shop_applied a;

	if (kl == strlen(SHOP_APPLIED_SEQ_KEY) &&
	    memcmp(k, SHOP_APPLIED_SEQ_KEY, kl) == 0)
		return DTX_OK;
	if (!shop_journal_parse(k, kl, v, vl, &a))
		return DTX_ECORRUPT;
	if (!grow((void **)&w->applied, &w->capapplied, w->napplied,
	          sizeof(arow)))
		return DTX_ENOMEM;
	w->applied[w->napplied++] = (arow){a, w->svc};
	w->sum->journal_rows++;
	return DTX_OK;
}

static int barrier_cb(void *arg, const dtx_barrier_entry *e)
{
	world *w = arg;

	w->sum->barrier_records++;
	w->sum->null_compensations += e->null_compensation;
	return DTX_OK;
}

static int view_cb(void *arg, dtx_txn *txn)
{
	world *w = arg;
	int err = DTX_OK;

	for (int i = 0; err == DTX_OK && i < T_NTAB; i++)
		if ((int)tabs[i].svc == w->svc)
			err = dtx_txn_scan(txn, tabs[i].name, NULL, 0, add_kv,
			                   &w->t[i]);
	if (err == DTX_OK)
		err = dtx_txn_scan(txn, SHOP_T_APPLIED, NULL, 0, add_applied,
		                   w);
	if (err == DTX_OK)
		err = dtx_txn_barrier_scan(txn, barrier_cb, w);
	return err;
}

static int load_store(const char *workdir, world *w, shop_service_id id)
{
	char dir[4096];
	dtx_store_opts opts;
	dtx_store *store;
	int err;

	if (!seed_store_dir(workdir, id, dir, sizeof(dir)))
		return DTX_ETOOBIG;
	dtx_store_opts_init(&opts);
	opts.ntables = shop_service_tables(id, &opts.tables);
	opts.read_only = true;
	err = dtx_store_open(dir, &opts, &store);
	if (err != DTX_OK)
		return err;
	w->svc = id;
	err = dtx_store_view(store, view_cb, w);
	dtx_store_close(store);
	return err;
}

/* ---- loading the log, and the timeline check --------------------------- */

/* Legal (from -> to) step transitions, besides staying put. */
static bool saga_step_ok(int from, int to)
{
	switch (from) {
	case DTX_STEP_PENDING:
		return to == DTX_STEP_ACTING;
	case DTX_STEP_ACTING:
		return to == DTX_STEP_DONE || to == DTX_STEP_FAILED ||
		       to == DTX_STEP_COMPENSATING; /* given up */
	case DTX_STEP_DONE:
		return to == DTX_STEP_COMPENSATING;
	case DTX_STEP_COMPENSATING:
		return to == DTX_STEP_COMPENSATED;
	default:
		return false;
	}
}

static bool tcc_step_ok(int from, int to)
{
	bool undecided = from == DTX_STEP_PENDING || from == DTX_STEP_TRYING ||
	                 from == DTX_STEP_TRIED;

	if (undecided &&
	    (to == DTX_STEP_CONFIRMING || to == DTX_STEP_CANCELLING))
		return true;
	if (from == DTX_STEP_PENDING)
		return to == DTX_STEP_TRYING;
	if (from == DTX_STEP_TRYING)
		return to == DTX_STEP_TRIED;
	if (from == DTX_STEP_CONFIRMING)
		return to == DTX_STEP_CONFIRMED;
	return from == DTX_STEP_CANCELLING && to == DTX_STEP_CANCELLED;
}

static bool saga_tx_ok(int from, int to)
{
	if (from == DTX_TX_RUNNING)
		return to == DTX_TX_COMMITTED || to == DTX_TX_COMPENSATING ||
		       to == DTX_TX_COMPENSATED;
	return from == DTX_TX_COMPENSATING && to == DTX_TX_COMPENSATED;
}

static bool tcc_tx_ok(int from, int to)
{
	if (from == DTX_TX_RUNNING)
		return to == DTX_TX_CONFIRMING || to == DTX_TX_CANCELLING ||
		       to == DTX_TX_COMMITTED || to == DTX_TX_CANCELLED;
	if (from == DTX_TX_CONFIRMING)
		return to == DTX_TX_COMMITTED;
	return from == DTX_TX_CANCELLING && to == DTX_TX_CANCELLED;
}

/* step_fits tells whether a step state can hold under a tx state. */
static bool step_fits(bool saga, int tx, int step)
{
	if (saga && tx == DTX_TX_COMMITTED)
		return step == DTX_STEP_DONE;
	if (saga && tx == DTX_TX_COMPENSATED)
		return step == DTX_STEP_COMPENSATED ||
		       step == DTX_STEP_FAILED || step == DTX_STEP_PENDING;
	if (!saga && (tx == DTX_TX_CONFIRMING || tx == DTX_TX_COMMITTED))
		return step == DTX_STEP_CONFIRMING ||
		       step == DTX_STEP_CONFIRMED;
	if (!saga && (tx == DTX_TX_CANCELLING || tx == DTX_TX_CANCELLED))
		return step == DTX_STEP_CANCELLING ||
		       step == DTX_STEP_CANCELLED;
	return true;
}

typedef struct replay {
	world *w;
	const dc_tx *tx;
	bool saga;
	int tx_cur;
	int step_cur[STEPS_MAX];
	uint32_t nsteps;
	bool bad;
	char why[300];
} replay;

/* illegal records the first illegal thing of a timeline: what, with the
 * numbers a and b (-1: not printed). */
static void illegal(replay *r, uint32_t seq, const char *what, int a, int b)
{
	if (r->bad)
		return;
	r->bad = true;
	snprintf(r->why, sizeof(r->why), "event %u: %s %d -> %d", seq, what, a,
	         b);
}

static int event_cb(void *arg, uint32_t seq, const dc_log_event *ev)
{
	replay *r = arg;
	int to = (int)ev->tx_state, s;

	r->w->sum->log_events++;
	if (to != r->tx_cur &&
	    !(r->saga ? saga_tx_ok(r->tx_cur, to) : tcc_tx_ok(r->tx_cur, to)))
		illegal(r, seq, "transaction state", r->tx_cur, to);
	r->tx_cur = to;
	if (ev->step < 0)
		return DTX_OK;
	if ((uint32_t)ev->step >= r->nsteps) {
		illegal(r, seq, "step beyond the steps", ev->step,
		        (int)r->nsteps);
		return DTX_OK;
	}
	s = (int)ev->step_state;
	if (s != r->step_cur[ev->step] &&
	    !(r->saga ? saga_step_ok(r->step_cur[ev->step], s)
	              : tcc_step_ok(r->step_cur[ev->step], s)))
		illegal(r, seq, "step state", r->step_cur[ev->step], s);
	else if (!step_fits(r->saga, to, s))
		illegal(r, seq, "step state under transaction state", s, to);
	r->step_cur[ev->step] = s;
	return DTX_OK;
}

/* replay_tx checks the timeline of tx and that it ends in tx's state. */
static void replay_tx(world *w, dc_log *log, const dc_tx *tx)
{
	replay r = {.w = w,
	            .tx = tx,
	            .saga = tx->mode == DC_MODE_SAGA,
	            .tx_cur = DTX_TX_RUNNING};

	r.nsteps = tx->nsteps < STEPS_MAX ? tx->nsteps : STEPS_MAX;
	for (uint32_t i = 0; i < r.nsteps; i++)
		r.step_cur[i] = DTX_STEP_PENDING;
	if (dc_log_read_events(log, tx->gid, event_cb, &r) != DTX_OK)
		illegal(&r, 0, "timeline unreadable", 0, 0);
	if (!r.bad && r.tx_cur != (int)tx->state)
		illegal(&r, tx->next_event_seq,
		        "timeline's end vs the log's state", r.tx_cur,
		        (int)tx->state);
	for (uint32_t i = 0; !r.bad && i < r.nsteps; i++)
		if (r.step_cur[i] != (int)tx->steps[i].state)
			illegal(&r, tx->next_event_seq,
			        "a step's timeline end vs the log's",
			        r.step_cur[i], (int)tx->steps[i].state);
	if (!r.bad)
		return;
	if (w->illegal.violations++ == 0) {
		snprintf(w->illegal.first_gid, sizeof(w->illegal.first_gid),
		         "%s", tx->gid);
		snprintf(w->illegal.evidence, sizeof(w->illegal.evidence),
		         "%s (%s)", r.why, r.saga ? "saga" : "tcc");
	}
}

typedef struct scan_ctx {
	world *w;
	dc_log *log;
} scan_ctx;

static int tx_cb(void *arg, dc_tx *tx)
{
	scan_ctx *sc = arg;
	world *w = sc->w;
	ltx *l;

	if (!grow((void **)&w->txs, &w->captx, w->ntx, sizeof(ltx))) {
		dc_tx_destroy(tx);
		return DTX_ENOMEM;
	}
	l = &w->txs[w->ntx++];
	snprintf(l->gid, sizeof(l->gid), "%s", tx->gid);
	l->mode = tx->mode == DC_MODE_SAGA ? MODE_SAGA
	          : tx->initiator_driven   ? MODE_TCC
	                                   : MODE_TCC_SUB;
	l->state = (int)tx->state;
	if (l->state > 0 && l->state < CHECK_STATES)
		w->sum->by_state[l->mode][l->state]++;
	w->sum->log_txs++;
	replay_tx(w, sc->log, tx);
	dc_tx_destroy(tx);
	return DTX_OK;
}

static int cmp_ltx(const void *a, const void *b)
{
	return strcmp(((const ltx *)a)->gid, ((const ltx *)b)->gid);
}

static const ltx *find_tx(const world *w, const char *gid)
{
	ltx probe;

	snprintf(probe.gid, sizeof(probe.gid), "%s", gid);
	return w->ntx ? bsearch(&probe, w->txs, w->ntx, sizeof(ltx), cmp_ltx)
	              : NULL;
}

/* store_of reads WORKDIR/run/store.uri, which a run on PostgreSQL
 * leaves (pgrun.h): the store's URI into uri and its shard count into
 * *ret_shards (may be NULL). false: an LMDB run (the log is WORKDIR/log). */
static bool store_of(const char *workdir, char *uri, size_t len,
                     unsigned *ret_shards)
{
	char path[4096], line[64];
	unsigned shards = 0;
	bool ok;
	FILE *f;

	snprintf(path, sizeof(path), "%s/run/store.uri", workdir);
	f = fopen(path, "r");
	if (f == NULL)
		return false;
	ok = fgets(uri, (int)len, f) != NULL && strchr(uri, '\n') != NULL &&
	     fgets(line, sizeof(line), f) != NULL &&
	     sscanf(line, "shards %u", &shards) == 1;
	if (ok)
		*strchr(uri, '\n') = '\0';
	fclose(f);
	if (ret_shards != NULL)
		*ret_shards = shards;
	return ok;
}

/* load_log reads every transaction; the log's own check goes into
 * *ret_bad (records failing their checks) and why. */
static int load_log(const char *workdir, world *w, uint64_t *ret_bad, char *why,
                    size_t len)
{
	char dir[4096], err[256] = "";
	dc_log_opts lo = {.dir = dir, .read_only = true};
	scan_ctx sc = {w, NULL};
	uint64_t records = 0;
	int rv, scan_rv;

	if (!store_of(workdir, dir, sizeof(dir), NULL))
		snprintf(dir, sizeof(dir), "%s/log", workdir);
	rv = dc_log_open(&lo, &sc.log, err, sizeof(err));
	if (rv != DTX_OK) {
		fprintf(stderr, "dtx-chaos: check: log %s: %s\n", dir, err);
		return rv;
	}
	/* A bad record stops the scan, but not the check: log-intact then
	 * fails with the record named, and the invariants that need the
	 * rest of the log fail too (they see part of it). */
	scan_rv = dc_log_scan_all(sc.log, tx_cb, &sc);
	rv = dc_log_check(sc.log, &records, ret_bad, why, len);
	if (rv == DTX_OK && scan_rv != DTX_OK && *ret_bad == 0)
		rv = scan_rv;
	if (rv == DTX_OK && *ret_bad == 0)
		snprintf(why, len, "%" PRIu64 " records", records);
	dc_log_close(sc.log);
	if (rv != DTX_OK)
		fprintf(stderr, "dtx-chaos: check: log %s: %s\n", dir,
		        dtx_strerror(rv));
	if (w->ntx > 0) /* qsort's base may not be NULL */
		qsort(w->txs, w->ntx, sizeof(ltx), cmp_ltx);
	return rv;
}

/* ---- results ----------------------------------------------------------- */

void check_add(check_result *r, const char *name, const char *says,
               uint64_t violations, const char *gid, const char *evidence)
{
	check_item *it;

	if (r->nitems == CHECK_ITEMS_MAX)
		return;
	it = &r->items[r->nitems++];
	snprintf(it->name, sizeof(it->name), "%s", name);
	snprintf(it->says, sizeof(it->says), "%s", says);
	it->violations = violations;
	it->ok = violations == 0;
	snprintf(it->first_gid, sizeof(it->first_gid), "%s", gid ? gid : "");
	snprintf(it->evidence, sizeof(it->evidence), "%s",
	         evidence ? evidence : "");
	r->failed += !it->ok;
}

const check_item *check_find(const check_result *r, const char *name)
{
	for (size_t i = 0; i < r->nitems; i++)
		if (strcmp(r->items[i].name, name) == 0)
			return &r->items[i];
	return NULL;
}

/* tally - one invariant being checked: the count and the first case. */
typedef struct tally {
	uint64_t n;
	char gid[DTX_GID_MAX + 1];
	char why[400];
} tally;

/* flag counts one violation; the first keeps its gid and "a: b". */
static void flag(tally *t, const char *gid, const char *a, const char *b)
{
	if (t->n++ > 0)
		return;
	snprintf(t->gid, sizeof(t->gid), "%s", gid);
	snprintf(t->why, sizeof(t->why), "%s: %s", a, b);
}

static void put(check_result *r, const char *name, const char *says,
                const tally *t, const char *fine)
{
	check_add(r, name, says, t->n, t->gid, t->n ? t->why : fine);
}

/* ---- the shop's invariants --------------------------------------------- */

static void shop_items(const char *workdir, check_result *r)
{
	checker_result res[CHECK_ITEMS_MAX];
	size_t n = checker_count();
	int failed = checker_eval(workdir, res, CHECK_ITEMS_MAX);

	if (failed < 0) {
		check_add(r, "shop-stores", "the stores can be read", 1, NULL,
		          "cannot read the stores (see stderr)");
		return;
	}
	for (size_t i = 0; i < n && i < CHECK_ITEMS_MAX; i++) {
		const char *first = strstr(res[i].why, "first: ");
		char gid[DTX_GID_MAX + 1] = "";

		if (!res[i].ok && first != NULL)
			sscanf(first + 7, "%128[^ ]", gid);
		check_add(r, res[i].name, res[i].says, !res[i].ok, gid,
		          res[i].why);
	}
}

/* ---- all-or-nothing ---------------------------------------------------- */

static size_t count_codes(const char *list)
{
	size_t n = list[0] != '\0';

	for (const char *c = list; *c != '\0'; c++)
		n += *c == ',';
	return n;
}

static bool num_is(const char *v, int64_t want)
{
	int64_t got;

	return v != NULL && shop_parse_i64(v, strlen(v), &got) && got == want;
}

/* committed_misses names what a committed purchase lacks, or NULL. */
static const char *committed_misses(const world *w, const char *gid)
{
	const char *ov = find(&w->t[T_ORDERS], gid);
	const char *codes = find(&w->t[T_DELIVERIES], gid);
	shop_order_state st;
	shop_purchase p;

	if (ov == NULL || !shop_order_parse(ov, strlen(ov), &p, &st))
		return "no order at the order service";
	if (st != SHOP_ORDER_PAID)
		return "its order is not paid";
	if (!num_is(find(&w->t[T_SOLD], gid), p.qty))
		return "no sold units at the inventory";
	if (!num_is(find(&w->t[T_CHARGES], gid), shop_purchase_amount(&p)))
		return "no charge at the payment service";
	if (codes == NULL || count_codes(codes) != p.qty)
		return "no delivery of its codes";
	return NULL;
}

/* rolled_back_keeps names what a rolled-back purchase left, or NULL. */
static const char *rolled_back_keeps(const world *w, const char *gid)
{
	const char *ov = find(&w->t[T_ORDERS], gid);
	shop_order_state st;
	shop_purchase p;

	if (ov != NULL && (!shop_order_parse(ov, strlen(ov), &p, &st) ||
	                   st != SHOP_ORDER_CANCELLED))
		return "its order is not cancelled";
	for (int i = T_SOLD; i < T_NTAB; i++)
		if (find(&w->t[i], gid) != NULL)
			return tabs[i].name;
	return NULL;
}

static void all_or_nothing(const world *w, check_result *r)
{
	tally t = {0};
	const char *why;

	for (size_t i = 0; i < w->ntx; i++) {
		const ltx *x = &w->txs[i];

		if (x->state == DTX_TX_COMMITTED)
			why = committed_misses(w, x->gid);
		else if (x->state == DTX_TX_COMPENSATED ||
		         x->state == DTX_TX_CANCELLED)
			why = rolled_back_keeps(w, x->gid);
		else
			continue; /* all-final reports it */
		if (why != NULL)
			flag(&t, x->gid, dtx_tx_state_name(x->state), why);
	}
	for (int k = 0; k < T_NTAB; k++)
		for (size_t i = 0; i < w->t[k].n; i++)
			if (find_tx(w, w->t[k].rows[i].k) == NULL)
				flag(&t, w->t[k].rows[i].k, tabs[k].name,
				     "a row, but no such transaction in the "
				     "log");
	put(r, "all-or-nothing",
	    "a committed purchase took effect at all four services, a "
	    "rolled-back one at none; no effect without a logged transaction",
	    &t, "every logged purchase is all or nothing");
}

/* ---- all-final, told-matches-final ------------------------------------- */

static void all_final(const world *w, check_result *r)
{
	tally t = {0};

	for (size_t i = 0; i < w->ntx; i++) {
		if (dtx_tx_state_is_final(w->txs[i].state))
			continue;
		flag(&t, w->txs[i].gid, chaos_mode_name(w->txs[i].mode),
		     dtx_tx_state_name(w->txs[i].state));
	}
	put(r, "all-final", "every transaction is final after the heal", &t,
	    "no transaction left running");
}

/* claim_breaks names how what the buyer was told (h) contradicts x (may
 * be NULL: not in the log), or NULL. */
static const char *claim_breaks(const hist_rec *h, const ltx *x)
{
	bool rolled = x != NULL && (x->state == DTX_TX_COMPENSATED ||
	                            x->state == DTX_TX_CANCELLED);

	if (h->t == TOLD_COMMITTED &&
	    (x == NULL || x->state != DTX_TX_COMMITTED))
		return "told committed";
	if (h->t == TOLD_ROLLED_BACK && !rolled)
		return "told rolled back";
	if (h->mode == MODE_TCC && !h->commit_sent && x != NULL &&
	    x->state != DTX_TX_CANCELLED)
		return "never asked to commit";
	return NULL;
}

static void told_matches(world *w, check_result *r)
{
	tally t = {0};
	const char *why;

	for (size_t i = 0; i < w->nhist; i++) {
		const hist_rec *h = &w->hist[i];
		const ltx *x = find_tx(w, h->gid);

		w->sum->told[h->mode][h->t]++;
		why = claim_breaks(h, x);
		if (why != NULL)
			flag(&t, h->gid, why,
			     x ? dtx_tx_state_name(x->state)
			       : "not in the log");
	}
	put(r, "told-matches-final",
	    "what each buyer was told is the final state; a TCC never asked "
	    "to commit ends cancelled",
	    &t, "every claim holds");
}

/* ---- the journal ------------------------------------------------------- */

static int cmp_arow(const void *pa, const void *pb)
{
	const arow *a = pa, *b = pb;
	int c = strcmp(a->a.gid, b->a.gid);

	if (c != 0)
		return c;
	if (a->a.branch != b->a.branch)
		return a->a.branch < b->a.branch ? -1 : 1;
	return (int)a->a.op - (int)b->a.op;
}

static void describe(const arow *x, char *out, size_t len)
{
	snprintf(out, len,
	         "%s: branch %u %s applied %llu times (seq %llu..%llu)",
	         shop_service_name((shop_service_id)x->svc),
	         (unsigned)x->a.branch, dtx_op_name((int)x->a.op),
	         (unsigned long long)x->a.count, (unsigned long long)x->a.first,
	         (unsigned long long)x->a.last);
}

/* late_effect checks the rows of one (gid, branch), ops[op] or NULL. */
static const char *late_effect(const arow *const ops[6])
{
	if (ops[DTX_OP_TRY] && ops[DTX_OP_CANCEL] &&
	    ops[DTX_OP_TRY]->a.first > ops[DTX_OP_CANCEL]->a.first)
		return "Try applied after its Cancel";
	if (ops[DTX_OP_ACTION] && ops[DTX_OP_COMPENSATE] &&
	    ops[DTX_OP_ACTION]->a.first > ops[DTX_OP_COMPENSATE]->a.first)
		return "action applied after its compensation";
	if (ops[DTX_OP_CONFIRM] && ops[DTX_OP_CANCEL])
		return "both confirmed and cancelled";
	if (ops[DTX_OP_CONFIRM] && !ops[DTX_OP_TRY])
		return "confirmed without a Try";
	return NULL;
}

static void journal_items(world *w, check_result *r)
{
	tally once = {0}, late = {0};
	char ev[200];
	size_t i = 0;

	if (w->napplied > 0) /* qsort's base may not be NULL */
		qsort(w->applied, w->napplied, sizeof(arow), cmp_arow);
	while (i < w->napplied) {
		const arow *ops[6] = {NULL};
		size_t j = i;
		const char *why;

		for (; j < w->napplied &&
		       strcmp(w->applied[j].a.gid, w->applied[i].a.gid) == 0 &&
		       w->applied[j].a.branch == w->applied[i].a.branch;
		     j++) {
			const arow *x = &w->applied[j];

			if (x->a.op >= 1 && x->a.op <= 5)
				ops[x->a.op] = x;
			if (x->a.count > 1) {
				describe(x, ev, sizeof(ev));
				flag(&once, x->a.gid, "journal", ev);
			}
		}
		why = late_effect(ops);
		if (why != NULL) {
			snprintf(ev, sizeof(ev), "%s: branch %u",
			         shop_service_name(
			                 (shop_service_id)w->applied[i].svc),
			         (unsigned)w->applied[i].a.branch);
			flag(&late, w->applied[i].a.gid, ev, why);
		}
		i = j;
	}
	put(r, "applied-once",
	    "at most one applied effect per (gid, branch, op)", &once,
	    "no call applied twice");
	put(r, "no-late-effect",
	    "no Try applied after its Cancel (no action after its "
	    "compensation, no branch confirmed and cancelled)",
	    &late, "no late effect");
}

/* ---- the run ----------------------------------------------------------- */

static void world_fini(world *w)
{
	for (int i = 0; i < T_NTAB; i++) {
		for (size_t k = 0; k < w->t[i].n; k++) {
			free(w->t[i].rows[k].k);
			free(w->t[i].rows[k].v);
		}
		free(w->t[i].rows);
	}
	free(w->applied);
	free(w->txs);
	free(w->hist);
}

static int load(const char *workdir, world *w, check_result *r)
{
	char path[4096], why[300] = "";
	uint64_t bad = 0;
	int err;

	snprintf(path, sizeof(path), "%s/history.txt", workdir);
	if (history_load(path, &w->hist, &w->nhist) != 0)
		return -1;
	r->sum.history_lines = w->nhist;
	for (int id = 0; id < SHOP_SVC_COUNT; id++) {
		err = load_store(workdir, w, (shop_service_id)id);
		if (err != DTX_OK) {
			fprintf(stderr, "dtx-chaos: check: store %s: %s\n",
			        shop_service_name((shop_service_id)id),
			        dtx_strerror(err));
			return -1;
		}
	}
	for (int i = 0; i < T_NTAB; i++)
		if (w->t[i].n > 0) /* qsort's base may not be NULL */
			qsort(w->t[i].rows, w->t[i].n, sizeof(kv), cmp_kv);
	if (load_log(workdir, w, &bad, why, sizeof(why)) != DTX_OK)
		return -1;
	check_add(r, "log-intact", "every log record passes its checks", bad,
	          NULL, why);
	return 0;
}

int check_run(const char *workdir, check_result *ret)
{
	char uri[1024];
	unsigned shards;
	world w = {0};
	int rc;

	memset(ret, 0, sizeof(*ret));
	w.sum = &ret->sum;
	rc = load(workdir, &w, ret);
	if (rc == 0) {
		shop_items(workdir, ret);
		all_or_nothing(&w, ret);
		all_final(&w, ret);
		journal_items(&w, ret);
		told_matches(&w, ret);
		check_add(ret, "legal-transitions",
		          "every transition in the log is one of the saga or "
		          "TCC state machine",
		          w.illegal.violations, w.illegal.first_gid,
		          w.illegal.violations ? w.illegal.evidence
		                               : "every timeline replays");
	}
	if (rc == 0 && store_of(workdir, uri, sizeof(uri), &shards) &&
	    epochs_check(workdir, shards, ret, &ret->epochs) != 0)
		rc = -1;
	world_fini(&w);
	return rc;
}
