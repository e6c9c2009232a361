/*
 * admin.c - builds admin API replies (see admin.h) from transactions and
 * the log, for dtxd's admin endpoint and for dtxctl's offline reads.
 *
 * Owns nothing beyond the dc_admin_out it is given. Never changes a
 * transaction: actions are the engine's (they run the state machines).
 * Every list is bounded: a page by WIRE_ADMIN_LIST_MAX, a timeline by
 * DC_ADMIN_EVENTS_MAX (the newest are kept), describe lines by
 * DC_ADMIN_LINES_MAX. Every read is bounded too, so that dtxd can run it
 * off its loop without holding its reader for long (coordinator/reader.h):
 * a list page reads at most DC_ADMIN_LIST_EXAMINE records (a filter that
 * matches few of them gives a short page and a cursor: dtxctl follows
 * it), and stats can be counted in chunks (dc_admin_stats_step).
 *
 * A transaction that cannot be loaded (quarantined, or records that fail
 * their checks: coordinator/log.h) never fails a listing: list shows it
 * as a stub (its gid, needs-operator, the cause; no mode, state or steps)
 * and stats counts it as active and needing an operator; show prints what
 * can be read of it and the cause.
 */
#include "admin.h"

#include "retain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"

#define SCAN_PAGE_FULL 1000 /* private stop codes of the list scan */
#define SCAN_EXAMINED  1001
#define SCAN_CHUNK     1002 /* ... and of a stats chunk */
#define FIELD_FRAME    6    /* a nested message's tag and length */
/* Room kept under max_bytes for the rest of a reply: message, cursor,
 * version, code, timestamps, counts. */
#define REPLY_SLACK (WIRE_MESSAGE_MAX + DTX_GID_MAX + 256)

/* ---- the reply and its allocations ---------------------------------- */

void dc_admin_out_init(dc_admin_out *o, int64_t now_unix_ms)
{
	memset(o, 0, sizeof(*o));
	dtx__v1__admin_reply__init(&o->rep);
	o->rep.has_version = o->rep.has_code = o->rep.has_now_unix_ms = 1;
	o->rep.version = DTX__V1__VERSION__VERSION_1;
	o->rep.code = DTX__V1__CODE__CODE_OK;
	o->rep.now_unix_ms = now_unix_ms;
}

bool dc_admin_is_full(const dc_admin_out *o)
{
	return o->max_bytes != 0 && o->bytes + REPLY_SLACK > o->max_bytes;
}

/* framed is the bytes m adds to the reply as one repeated element. */
static size_t framed(const ProtobufCMessage *m)
{
	return wire_packed_size(m) + FIELD_FRAME;
}

void dc_admin_out_fini(dc_admin_out *o)
{
	for (size_t i = 0; i < o->nallocs; i++)
		free(o->allocs[i]);
	for (size_t i = 0; i < o->nowned; i++)
		dc_tx_destroy(o->owned[i]);
	free(o->allocs);
	free(o->owned);
	memset(o, 0, sizeof(*o));
}

static bool push_ptr(void ***arr, size_t *n, size_t *cap, void *p)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		void **a = realloc(*arr, c * sizeof(*a));
		if (a == NULL)
			return false;
		*arr = a;
		*cap = c;
	}
	(*arr)[(*n)++] = p;
	return true;
}

/* zalloc returns n zeroed bytes owned by o, or NULL (o->oom set). */
static void *zalloc(dc_admin_out *o, size_t n)
{
	void *p;

	if (o->oom)
		return NULL;
	p = calloc(1, n ? n : 1);
	if (p == NULL || !push_ptr(&o->allocs, &o->nallocs, &o->capallocs, p)) {
		free(p);
		o->oom = true;
		return NULL;
	}
	return p;
}

static char *sdup(dc_admin_out *o, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = zalloc(o, n);

	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

/* grow makes room for one more pointer in a repeated field of o. */
static bool grow(dc_admin_out *o, void ***arr, size_t n, size_t *cap)
{
	void **a;

	if (n < *cap)
		return true;
	a = zalloc(o, (*cap ? *cap * 2 : 16) * sizeof(*a));
	if (a == NULL)
		return false;
	if (n > 0)
		memcpy(a, *arr, n * sizeof(*a));
	*arr = a;
	*cap = *cap ? *cap * 2 : 16;
	return true;
}

int dc_admin_out_pack(dc_admin_out *o, uint8_t **ret_buf, size_t *ret_len)
{
	if (o->oom)
		return DTX_ENOMEM;
	return wire_pack_alloc(&o->rep.base, ret_buf, ret_len);
}

void dc_admin_error(dc_admin_out *o, int code, const char *msg)
{
	o->rep.code = (Dtx__V1__Code)code;
	o->rep.message = sdup(o, msg);
}

void dc_admin_set_message(dc_admin_out *o, const char *msg)
{
	o->rep.message = sdup(o, msg);
}

void dc_admin_own(dc_admin_out *o, dc_tx *tx)
{
	if (!push_ptr((void ***)&o->owned, &o->nowned, &o->capowned, tx)) {
		dc_tx_destroy(tx);
		o->oom = true;
	}
}

/* ---- transactions ----------------------------------------------------- */

void dc_admin_fill_step(const dc_step *st, uint32_t i, int64_t next_retry,
                        Dtx__V1__StepInfo *si)
{
	dtx__v1__step_info__init(si);
	si->has_index = si->has_attempts = 1;
	si->has_state = st->state != 0; /* 0: unreadable (salvaged) */
	si->index = i;
	si->state = (Dtx__V1__StepState)st->state;
	si->attempts = st->attempts;
	si->last_error = st->last_error;
	si->action = st->action;
	si->compensate = st->compensate;
	si->confirm = st->confirm;
	si->participant_url = st->url;
	si->has_next_retry_unix_ms = next_retry != 0;
	si->next_retry_unix_ms = next_retry;
}

static void fill_tx(const dc_tx *tx, Dtx__V1__TxInfo *info)
{
	info->gid = (char *)tx->gid;
	info->has_failed_step = 1;
	info->has_mode = tx->mode != 0; /* 0: unreadable (a stub) */
	info->has_state = tx->state != 0;
	info->mode = (Dtx__V1__Mode)tx->mode;
	info->state = (Dtx__V1__TxState)tx->state;
	info->failed_step = tx->failed_step;
	info->reason = tx->reason;
	info->has_created_unix_ms = info->has_updated_unix_ms = 1;
	info->created_unix_ms = tx->created_unix_ms;
	info->updated_unix_ms = tx->updated_unix_ms;
	info->has_needs_operator = info->has_paused = 1;
	info->needs_operator = tx->needs_operator;
	info->paused = tx->paused;
	info->operator_reason = tx->operator_reason;
	info->has_deadline_unix_ms = tx->deadline_unix_ms != 0;
	info->deadline_unix_ms = tx->deadline_unix_ms;
	info->has_initiator_driven = tx->mode == DC_MODE_TCC;
	info->initiator_driven = tx->initiator_driven;
	info->has_pruned_unix_ms = tx->pruned_unix_ms != 0;
	info->pruned_unix_ms = tx->pruned_unix_ms;
	info->key = tx->key;
	info->n_labels = tx->nlabels;
	info->labels = tx->labels;
	info->traceparent = tx->traceparent;
}

/* live_reason rewrites info's needs-operator reason with figures of now:
 * the reason was written once, when the transaction was flagged ("step 1
 * action p1.flaky: 3 attempts, 0 s old: retry"), and its attempts and age
 * go stale while the retries go on. A reason in another shape is shown as
 * it was written. */
static void live_reason(dc_admin_out *o, const dc_tx *tx, int64_t now,
                        Dtx__V1__TxInfo *info)
{
	char op[16], handler[DTX_HANDLER_MAX + 1], line[700];
	unsigned step, attempts;
	long long age;
	int rest = 0;
	const char *r = tx->operator_reason;

	if (!tx->needs_operator || r == NULL ||
	    sscanf(r, "step %u %15s %128[^:]: %u attempts, %lld s old: %n",
	           &step, op, handler, &attempts, &age, &rest) != 5 ||
	    rest == 0 || step >= tx->nsteps)
		return;
	age = now > tx->created_unix_ms ? (now - tx->created_unix_ms) / 1000
	                                : 0;
	snprintf(line, sizeof(line),
	         "step %u %s %s: %u attempts, %lld s old: %s", step, op,
	         handler, tx->steps[step].attempts, age, r + rest);
	info->operator_reason = sdup(o, line);
}

void dc_admin_add_tx(dc_admin_out *o, const dc_tx *tx,
                     const int64_t *next_retry_ms)
{
	Dtx__V1__TxInfo *info = zalloc(o, sizeof(*info));
	Dtx__V1__StepInfo *si = zalloc(o, tx->nsteps * sizeof(*si));
	Dtx__V1__StepInfo **sp = zalloc(o, tx->nsteps * sizeof(*sp));

	if (info == NULL || si == NULL || sp == NULL ||
	    !grow(o, (void ***)&o->rep.txs, o->rep.n_txs, &o->captxs))
		return;
	dtx__v1__tx_info__init(info);
	fill_tx(tx, info);
	live_reason(o, tx, o->rep.now_unix_ms, info);
	for (uint32_t i = 0; i < tx->nsteps; i++) {
		dc_admin_fill_step(&tx->steps[i], i,
		                   next_retry_ms != NULL ? next_retry_ms[i] : 0,
		                   &si[i]);
		sp[i] = &si[i];
	}
	info->n_steps = tx->nsteps;
	info->steps = sp;
	o->rep.txs[o->rep.n_txs++] = info;
	o->bytes += framed(&info->base);
}

static bool uses(const dc_tx *tx, const char *handler, const char *url)
{
	for (uint32_t i = 0; i < tx->nsteps; i++) {
		const dc_step *st = &tx->steps[i];
		if (url != NULL && st->url != NULL && strcmp(st->url, url) == 0)
			return true;
		if (handler == NULL)
			continue;
		if ((st->action && strcmp(st->action, handler) == 0) ||
		    (st->compensate && strcmp(st->compensate, handler) == 0) ||
		    (st->confirm && strcmp(st->confirm, handler) == 0))
			return true;
	}
	return false;
}

/* is_older_than: tx was created more than ms before now. An age past
 * what an int64_t holds (the wire's uint64 older_than_ms goes to 2^64)
 * is older than the epoch: nothing is, never a wrap that matches all. */
static bool is_older_than(const dc_tx *tx, uint64_t ms, int64_t now)
{
	if (ms > (uint64_t)INT64_MAX || now < INT64_MIN + (int64_t)ms)
		return false;
	return tx->created_unix_ms < now - (int64_t)ms;
}

bool dc_admin_matches(const dc_tx *tx, const Dtx__V1__AdminFilter *f,
                      int64_t now_unix_ms)
{
	if (f == NULL)
		return true;
	if (!f->include_final && !f->has_state && dc_tx_is_final(tx))
		return false;
	if (f->has_state && (int)tx->state != (int)f->state)
		return false;
	if (f->has_mode && (int)tx->mode != (int)f->mode)
		return false;
	if (f->has_older_than_ms &&
	    !is_older_than(tx, f->older_than_ms, now_unix_ms))
		return false;
	if (f->has_needs_operator && f->needs_operator && !tx->needs_operator)
		return false;
	if (f->handler != NULL && !uses(tx, f->handler, NULL))
		return false;
	if (f->participant != NULL && !uses(tx, NULL, f->participant))
		return false;
	if (f->key != NULL && (tx->key == NULL || strcmp(tx->key, f->key)))
		return false;
	for (size_t i = 0; i < f->n_labels; i++)
		if (!dc_tx_has_label(tx, f->labels[i]))
			return false;
	return true;
}

/* ---- list ------------------------------------------------------------- */

typedef struct list_scan {
	dc_admin_out *o;
	const Dtx__V1__AdminFilter *filter;
	dc_admin_lookup_fn lookup;
	void *arg;
	int64_t now;
	uint32_t limit;
	uint32_t examined;             /* records read for this page */
	char last[DC_LOG_KEY_MAX + 1]; /* the last of them (a cursor) */
} list_scan;

/* examined counts one record of a page read (its key: a gid, or a bad
 * transaction's key); at DC_ADMIN_LIST_EXAMINE the page ends, its cursor
 * the record's key, even if it holds fewer matches than its limit. Keys
 * hold no NUL (the log writes gids only), so the cursor is a string. */
static int examined(list_scan *ls, const uint8_t *key, size_t len)
{
	memcpy(ls->last, key, len);
	ls->last[len] = '\0';
	return ++ls->examined >= DC_ADMIN_LIST_EXAMINE ? SCAN_EXAMINED : DTX_OK;
}

/* list_one takes tx (transferred) and adds it if it matches; a match past
 * the page ends the scan: the page's last gid is then the cursor. */
static int list_one(void *arg, dc_tx *tx)
{
	list_scan *ls = arg;
	const dc_tx *view = ls->lookup ? ls->lookup(ls->arg, tx->gid) : NULL;

	if (view == NULL)
		view = tx;
	if (!dc_admin_matches(view, ls->filter, ls->now)) {
		int rv =
		        examined(ls, (const uint8_t *)tx->gid, strlen(tx->gid));
		dc_tx_destroy(tx);
		return rv;
	}
	if (ls->o->rep.n_txs == ls->limit) {
		dc_tx_destroy(tx);
		return SCAN_PAGE_FULL;
	}
	dc_admin_own(ls->o, tx);
	dc_admin_add_tx(ls->o, view, NULL);
	if (ls->o->oom)
		return DTX_ENOMEM;
	if (dc_admin_is_full(ls->o) && ls->o->rep.n_txs > 1) {
		/* past the size bound: it opens the next page instead */
		Dtx__V1__AdminReply *rep = &ls->o->rep;
		ls->o->bytes -= framed(&rep->txs[--rep->n_txs]->base);
		return SCAN_PAGE_FULL;
	}
	return examined(ls, (const uint8_t *)tx->gid, strlen(tx->gid));
}

/* mark_bad flags tx (a stub or what was salvaged of bad's transaction)
 * for an operator with bad's cause. */
static void mark_bad(dc_admin_out *o, dc_tx *tx, const dc_log_bad *bad)
{
	char why[DC_LOG_WHY_MAX + 32];

	snprintf(why, sizeof(why), "%s: %s",
	         bad->quarantined ? "quarantined" : "cannot be loaded",
	         bad->why);
	tx->needs_operator = true;
	if (dc_tx_set_str(&tx->operator_reason, why) != DTX_OK)
		o->oom = true;
}

/* stub_of makes the dc_tx (transferred) that stands for bad's transaction
 * in a listing; created and updated are when it was quarantined (0 if it
 * was not yet). NULL if memory ran out. */
static dc_tx *stub_of(dc_admin_out *o, const dc_log_bad *bad)
{
	dc_tx *tx = calloc(1, sizeof(*tx));

	if (tx == NULL) {
		o->oom = true;
		return NULL;
	}
	snprintf(tx->gid, sizeof(tx->gid), "%s", bad->gid);
	tx->failed_step = -1;
	tx->created_unix_ms = tx->updated_unix_ms = bad->since_unix_ms;
	mark_bad(o, tx, bad);
	return tx;
}

/* list_bad is list_one for a transaction the scan could not load. */
static int list_bad(void *arg, const dc_log_bad *bad)
{
	list_scan *ls = arg;
	dc_tx *tx = stub_of(ls->o, bad);

	if (tx == NULL)
		return DTX_ENOMEM;
	if (!dc_admin_matches(tx, ls->filter, ls->now)) {
		dc_tx_destroy(tx);
		return examined(ls, bad->key, bad->key_len);
	}
	if (ls->o->rep.n_txs == ls->limit) {
		dc_tx_destroy(tx);
		return SCAN_PAGE_FULL;
	}
	dc_admin_own(ls->o, tx);
	dc_admin_add_tx(ls->o, tx, NULL);
	if (ls->o->oom)
		return DTX_ENOMEM;
	return examined(ls, bad->key, bad->key_len);
}

int dc_admin_list(dc_admin_out *o, dc_log *log, const Dtx__V1__AdminList *req,
                  dc_admin_lookup_fn lookup, void *arg, int64_t now_unix_ms)
{
	const Dtx__V1__AdminFilter *f = req->filter;
	bool all = f != NULL && (f->include_final || f->has_state);
	list_scan ls = {
	        .o = o,
	        .filter = f,
	        .lookup = lookup,
	        .arg = arg,
	        .now = now_unix_ms,
	        .limit = req->has_limit ? req->limit : DC_ADMIN_LIST_DEFAULT,
	};
	int rv = dc_log_scan_checked(log, all, req->after_gid, list_one,
	                             list_bad, &ls);

	if (rv == SCAN_PAGE_FULL) {
		o->rep.next_after_gid = o->rep.txs[o->rep.n_txs - 1]->gid;
		rv = DTX_OK;
	} else if (rv == SCAN_EXAMINED) {
		o->rep.next_after_gid = sdup(o, ls.last);
		rv = o->oom ? DTX_ENOMEM : DTX_OK;
	}
	if (rv != DTX_OK)
		dc_admin_error(o, rv, dc_log_last_error(log));
	return rv;
}

/* ---- show --------------------------------------------------------------- */

void dc_admin_add_event(dc_admin_out *o, uint64_t seq, const char *gid,
                        const dc_log_event *ev)
{
	Dtx__V1__TimelineEvent *te = zalloc(o, sizeof(*te));

	if (te == NULL ||
	    !grow(o, (void ***)&o->rep.events, o->rep.n_events, &o->capevents))
		return;
	dtx__v1__timeline_event__init(te);
	te->has_seq = te->has_unix_ms = te->has_tx_state = te->has_step = 1;
	te->seq = seq;
	te->gid = gid != NULL ? sdup(o, gid) : NULL;
	te->unix_ms = ev->unix_ms;
	te->tx_state = (Dtx__V1__TxState)ev->tx_state;
	te->step = ev->step;
	te->has_step_state = ev->step >= 0;
	te->step_state = (Dtx__V1__StepState)ev->step_state;
	te->detail = sdup(o, ev->detail != NULL ? ev->detail : "");
	o->rep.events[o->rep.n_events++] = te;
	o->bytes += framed(&te->base);
}

typedef struct event_read {
	dc_admin_out *o;
	uint32_t keep;  /* newest lines to keep */
	uint64_t total; /* lines read */
} event_read;

/* drop_oldest_event removes the first line of o's timeline (the array is
 * shifted: timelines are short next to the cost of show). */
static void drop_oldest_event(dc_admin_out *o)
{
	Dtx__V1__AdminReply *rep = &o->rep;

	o->bytes -= framed(&rep->events[0]->base);
	memmove(rep->events, rep->events + 1,
	        (rep->n_events - 1) * sizeof(*rep->events));
	rep->n_events--;
}

/* keep_event appends one line; past `keep` lines, or the reply's size
 * bound, the oldest is dropped. */
static int keep_event(void *arg, uint32_t seq, const dc_log_event *ev)
{
	event_read *er = arg;
	Dtx__V1__AdminReply *rep = &er->o->rep;

	er->total++;
	dc_admin_add_event(er->o, seq, NULL, ev);
	if (er->o->oom)
		return DTX_ENOMEM;
	while (rep->n_events > 1 &&
	       (rep->n_events > er->keep || dc_admin_is_full(er->o)))
		drop_oldest_event(er->o);
	return DTX_OK;
}

/* show_load loads gid for show into *ret_tx (owned by o); one that
 * cannot be loaded is salvaged, flagged with its cause (*ret_bad set). */
static int show_load(dc_admin_out *o, dc_log *log, const char *gid,
                     const dc_tx **ret_tx, bool *ret_bad)
{
	dc_log_bad bad;
	dc_tx *tx;
	int rv = dc_log_load_tx_checked(log, gid, &tx, &bad);

	if (rv != DTX_OK && bad.err != 0)
		rv = dc_log_salvage_tx(log, gid, &tx, &bad);
	if (rv != DTX_OK) {
		dc_admin_error(o, rv,
		               rv == DTX_ENOENT ? "no such transaction"
		                                : dc_log_last_error(log));
		return rv;
	}
	if (bad.err != 0) {
		mark_bad(o, tx, &bad);
		dc_admin_set_message(o, tx->operator_reason);
	}
	dc_admin_own(o, tx);
	*ret_tx = tx;
	*ret_bad = bad.err != 0;
	return DTX_OK;
}

/* cut_len is how many of len bytes one payload or result of a show may
 * send: at most max, and at most a quarter of what the reply's size bound
 * still leaves (the timeline needs room too). */
static size_t cut_len(const dc_admin_out *o, size_t len, uint32_t max)
{
	size_t n = len < max ? len : max;
	size_t used = o->bytes + REPLY_SLACK;

	if (o->max_bytes == 0)
		return n;
	if (used >= o->max_bytes)
		return 0;
	return n < (o->max_bytes - used) / 4 ? n : (o->max_bytes - used) / 4;
}

/* add_bytes puts each step's payload and result, cut to max bytes each,
 * into the last transaction of o (what dc_admin_add_tx added for tx). The
 * bytes are borrowed from tx, which outlives the reply. */
static void add_bytes(dc_admin_out *o, const dc_tx *tx, uint32_t max)
{
	Dtx__V1__TxInfo *info;

	if (o->oom || o->rep.n_txs == 0)
		return;
	info = o->rep.txs[o->rep.n_txs - 1];
	for (uint32_t i = 0; i < tx->nsteps && i < info->n_steps; i++) {
		const dc_step *st = &tx->steps[i];
		Dtx__V1__StepInfo *si = info->steps[i];
		si->has_payload_size = si->has_result_size = 1;
		si->payload_size = (uint32_t)st->payload_len;
		si->result_size = (uint32_t)st->result_len;
		si->has_payload = si->has_result = 1;
		si->payload.data = st->payload;
		si->payload.len = cut_len(o, st->payload_len, max);
		o->bytes += si->payload.len;
		si->result.data = st->result;
		si->result.len = cut_len(o, st->result_len, max);
		o->bytes += si->result.len;
	}
}

int dc_admin_show(dc_admin_out *o, dc_log *log, const Dtx__V1__AdminShow *req,
                  const dc_tx *tx, const int64_t *next_retry_ms)
{
	const char *gid = req->gid;
	uint32_t max_events = req->has_max_events ? req->max_events : 0;
	event_read er = {.o = o};
	bool bad = false;
	int rv;

	if (tx == NULL && (rv = show_load(o, log, gid, &tx, &bad)) != DTX_OK)
		return rv;
	dc_admin_add_tx(o, tx, next_retry_ms);
	add_bytes(o, tx,
	          req->has_max_field_bytes ? req->max_field_bytes
	                                   : DC_ADMIN_FIELD_DEFAULT);
	if (tx->pruned_unix_ms != 0) { /* a tombstone: no timeline left */
		char msg[128];
		dc_retain_pruned_message((int)tx->state, tx->pruned_unix_ms,
		                         msg, sizeof(msg));
		dc_admin_set_message(o, msg);
	}
	er.keep = max_events == 0                    ? DC_ADMIN_EVENTS_DEFAULT
	          : max_events > DC_ADMIN_EVENTS_MAX ? DC_ADMIN_EVENTS_MAX
	                                             : max_events;
	rv = dc_log_read_events(log, gid, keep_event, &er);
	if (rv != DTX_OK && (!bad || rv == DTX_ENOMEM)) {
		dc_admin_error(o, rv, dc_log_last_error(log));
		return rv;
	} /* a bad transaction's timeline is shown up to its first bad line */
	o->rep.has_events_total = 1;
	o->rep.events_total = er.total;
	return DTX_OK;
}

/* ---- stats -------------------------------------------------------------- */

/* stats_seen moves ss's cursor to key; the chunk ends at max records. */
static int stats_seen(dc_admin_stats_scan *ss, const uint8_t *key, size_t len)
{
	memcpy(ss->after, key, len);
	ss->after[len] = '\0';
	ss->started = true;
	return ++ss->chunk_seen >= ss->chunk_max ? SCAN_CHUNK : DTX_OK;
}

static int stats_one(void *arg, dc_tx *tx)
{
	dc_admin_stats_scan *ss = arg;
	const dc_tx *v = ss->lookup ? ss->lookup(ss->arg, tx->gid) : NULL;
	int rv;

	if (v == NULL)
		v = tx;
	ss->total += !ss->counted;
	if (!ss->counted && v->mode >= 1 && v->mode <= 2 &&
	    v->state < DC_TX_STATE_COUNT)
		ss->counts[v->mode][v->state]++;
	if (!dc_tx_is_final(v)) {
		ss->active++;
		ss->needs_operator += v->needs_operator;
		ss->paused += v->paused;
		if (ss->oldest[0] == '\0' ||
		    v->created_unix_ms < ss->oldest_ms) {
			snprintf(ss->oldest, sizeof(ss->oldest), "%s", v->gid);
			ss->oldest_ms = v->created_unix_ms;
		}
	}
	rv = stats_seen(ss, (const uint8_t *)tx->gid, strlen(tx->gid));
	dc_tx_destroy(tx);
	return rv;
}

/* stats_bad counts a transaction the scan could not load: not final (it
 * is not driven to an end), needing an operator. */
static int stats_bad(void *arg, const dc_log_bad *bad)
{
	dc_admin_stats_scan *ss = arg;

	(void)bad;
	ss->total += !ss->counted;
	ss->active++;
	ss->needs_operator++;
	return stats_seen(ss, bad->key, bad->key_len);
}

void dc_admin_stats_fill(dc_admin_out *o, const dc_admin_stats_scan *ss)
{
	Dtx__V1__AdminStatsReply *st = zalloc(o, sizeof(*st));
	Dtx__V1__StateCount *c = zalloc(o, 2 * DC_TX_STATE_COUNT * sizeof(*c));
	Dtx__V1__StateCount **cp =
	        zalloc(o, 2 * DC_TX_STATE_COUNT * sizeof(*cp));
	size_t n = 0;

	if (st == NULL || c == NULL || cp == NULL)
		return;
	dtx__v1__admin_stats_reply__init(st);
	for (int m = 1; m <= 2; m++)
		for (int s = 1; s < DC_TX_STATE_COUNT; s++) {
			if (ss->counts[m][s] == 0)
				continue;
			dtx__v1__state_count__init(&c[n]);
			c[n].has_mode = c[n].has_state = c[n].has_count = 1;
			c[n].mode = (Dtx__V1__Mode)m;
			c[n].state = (Dtx__V1__TxState)s;
			c[n].count = ss->counts[m][s];
			cp[n] = &c[n];
			n++;
		}
	st->n_counts = n;
	st->counts = cp;
	st->has_total = st->has_active = st->has_needs_operator = 1;
	st->has_paused = 1;
	st->total = ss->total;
	st->active = ss->active;
	st->needs_operator = ss->needs_operator;
	st->paused = ss->paused;
	st->has_tombstones = st->has_pruned = ss->counted;
	st->tombstones = ss->tombstones;
	st->pruned = ss->pruned;
	st->has_log_used_bytes = st->has_log_max_bytes =
	        ss->usage.max_bytes != 0;
	st->log_used_bytes = ss->usage.used_bytes;
	st->log_max_bytes = ss->usage.max_bytes;
	if (ss->oldest[0] != '\0') {
		st->oldest_active_gid = sdup(o, ss->oldest);
		st->has_oldest_active_created_unix_ms = 1;
		st->oldest_active_created_unix_ms = ss->oldest_ms;
	}
	o->rep.stats = st;
}

/* take_counts fills ss from the log's counters, if it keeps them (an older
 * log read offline does not: then the caller counts with a scan). */
static int take_counts(dc_admin_stats_scan *ss, dc_log *log)
{
	dc_log_counts c;
	int rv = dc_log_counts_read(log, &c);

	if (rv == DTX_ENOENT)
		return DTX_OK;
	if (rv != DTX_OK)
		return rv;
	ss->counted = true;
	for (int m = 1; m <= 2; m++)
		for (int st = 0; st < DC_TX_STATE_COUNT; st++) {
			ss->counts[m][st] = c.by_state[m][st];
			ss->total += c.by_state[m][st];
		}
	ss->tombstones = c.tombstones;
	ss->pruned = c.pruned;
	if (dc_log_usage_read(log, &ss->usage) != DTX_OK)
		ss->usage.max_bytes = 0; /* not shown */
	return DTX_OK;
}

void dc_admin_stats_init(dc_admin_stats_scan *ss, dc_admin_lookup_fn lookup,
                         void *arg)
{
	memset(ss, 0, sizeof(*ss));
	ss->lookup = lookup;
	ss->arg = arg;
}

int dc_admin_stats_step(dc_admin_stats_scan *ss, dc_log *log, uint32_t max,
                        bool *ret_done)
{
	int rv;

	DTX_HOLD("admin.stats"); /* reader_test: a scan that takes long */
	if (!ss->counts_read) {  /* the first chunk reads the counters */
		rv = take_counts(ss, log);
		if (rv != DTX_OK)
			return rv;
		ss->counts_read = true;
	}
	ss->chunk_seen = 0;
	ss->chunk_max = max != 0 ? max : UINT32_MAX;
	/* with the counters, only the non-final ones: bounded by
	 * --max-active */
	rv = dc_log_scan_checked(log, !ss->counted,
	                         ss->started ? ss->after : NULL, stats_one,
	                         stats_bad, ss);
	*ret_done = rv != SCAN_CHUNK;
	return rv == SCAN_CHUNK ? DTX_OK : rv;
}

int dc_admin_stats(dc_admin_out *o, dc_log *log, dc_admin_lookup_fn lookup,
                   void *arg)
{
	dc_admin_stats_scan ss;
	bool done = false;
	int rv = DTX_OK;

	dc_admin_stats_init(&ss, lookup, arg);
	while (!done && rv == DTX_OK)
		rv = dc_admin_stats_step(&ss, log, 0, &done);
	if (rv != DTX_OK) {
		dc_admin_error(o, rv, dc_log_last_error(log));
		return rv;
	}
	dc_admin_stats_fill(o, &ss);
	return DTX_OK;
}

/* ---- describing an action ---------------------------------------------- */

void dc_admin_add_line(dc_admin_out *o, bool calls, const char *text)
{
	char ***arr = calls ? &o->rep.calls : &o->rep.transitions;
	size_t *n = calls ? &o->rep.n_calls : &o->rep.n_transitions;
	char *s;

	if (*n >= DC_ADMIN_LINES_MAX ||
	    !grow(o, (void ***)arr, *n, calls ? &o->capcalls : &o->caplines))
		return;
	if ((s = sdup(o, text)) != NULL)
		(*arr)[(*n)++] = s;
}

static void describe_call(dc_admin_out *o, const dc_tx *tx, uint32_t i,
                          dtx_op op)
{
	const dc_step *st = &tx->steps[i];
	const char *h = dc_step_handler(st, op);
	char line[DTX_URL_MAX + DTX_HANDLER_MAX + 64];

	snprintf(line, sizeof(line), "branch %u: %s %s at %s (attempt %u)", i,
	         dtx_op_name(op), h ? h : "?", st->url ? st->url : "?",
	         st->attempts);
	dc_admin_add_line(o, true, line);
}

static void describe_acts(dc_admin_out *o, const dc_tx *tx, const dc_out *out)
{
	char line[160];

	for (uint32_t k = 0; k < out->nacts; k++) {
		const dc_act *a = &out->acts[k];
		switch (a->kind) {
		case DC_ACT_CALL:
			describe_call(o, tx, a->step, a->op);
			break;
		case DC_ACT_CALL_ALL:
			for (uint32_t i = 0; i < tx->nsteps; i++)
				if (dc_machine_op_inflight(tx, i, a->op))
					describe_call(o, tx, i, a->op);
			break;
		case DC_ACT_RETRY_LATER:
			snprintf(line, sizeof(line),
			         "branch %u: %s again after a backoff", a->step,
			         dtx_op_name(a->op));
			dc_admin_add_line(o, true, line);
			break;
		default:
			snprintf(line, sizeof(line), "finished: %s",
			         dtx_tx_state_name((int)tx->state));
			dc_admin_add_line(o, true, line);
		}
	}
}

void dc_admin_describe(dc_admin_out *o, const dc_tx *before, const dc_tx *after,
                       const dc_out *out)
{
	char line[160];

	if (before->state != after->state) {
		snprintf(line, sizeof(line), "transaction %s -> %s",
		         dtx_tx_state_name((int)before->state),
		         dtx_tx_state_name((int)after->state));
		dc_admin_add_line(o, false, line);
	}
	for (uint32_t i = 0; i < after->nsteps; i++) {
		if (before->steps[i].state == after->steps[i].state)
			continue;
		snprintf(line, sizeof(line), "branch %u %s -> %s", i,
		         dtx_step_state_name((int)before->steps[i].state),
		         dtx_step_state_name((int)after->steps[i].state));
		dc_admin_add_line(o, false, line);
	}
	describe_acts(o, after, out);
}

int dc_admin_shadow(const dc_tx *tx, dc_tx *copy)
{
	*copy = *tx;
	copy->steps = NULL;
	if (tx->nsteps == 0)
		return DTX_OK;
	copy->steps = malloc(tx->nsteps * sizeof(*copy->steps));
	if (copy->steps == NULL)
		return DTX_ENOMEM;
	memcpy(copy->steps, tx->steps, tx->nsteps * sizeof(*copy->steps));
	return DTX_OK;
}

void dc_admin_shadow_fini(dc_tx *copy)
{
	free(copy->steps);
	copy->steps = NULL;
}

/* ---- shards ------------------------------------------------------------ */

void dc_admin_add_shard(dc_admin_out *o, const dc_admin_shard *row)
{
	Dtx__V1__ShardInfo *si = zalloc(o, sizeof(*si));

	if (si == NULL ||
	    !grow(o, (void ***)&o->rep.shards, o->rep.n_shards, &o->capshards))
		return;
	dtx__v1__shard_info__init(si);
	si->has_shard = si->has_state = si->has_epoch = 1;
	si->shard = row->shard;
	si->state = row->state;
	si->epoch = row->epoch;
	if (row->owner[0])
		si->owner = sdup(o, row->owner);
	if (row->client_url[0])
		si->client_url = sdup(o, row->client_url);
	if (row->admin_url[0])
		si->admin_url = sdup(o, row->admin_url);
	si->has_owned_since_unix_ms = row->since_unix_ms > 0;
	si->owned_since_unix_ms = row->since_unix_ms;
	si->has_since_is_lower_bound = row->since_is_lower_bound;
	si->since_is_lower_bound = row->since_is_lower_bound;
	si->has_heartbeat_age_ms = row->beat_age_known;
	si->heartbeat_age_ms = row->beat_age_ms;
	o->rep.shards[o->rep.n_shards++] = si;
}

void dc_admin_set_instance(dc_admin_out *o, const char *name)
{
	o->rep.instance = sdup(o, name);
}

void dc_admin_set_owner_admin(dc_admin_out *o, const char *url)
{
	if (url != NULL && url[0])
		o->rep.owner_admin_url = sdup(o, url);
}

/* stored_row makes shard s's row from its stored lease and the beats. */
static dc_admin_shard stored_row(uint32_t s, const dc_log_lease *l,
                                 const dc_log_beat *beats, uint32_t nbeats,
                                 int64_t now)
{
	dc_admin_shard row = {.shard = s,
	                      .owner = l->owner,
	                      .epoch = l->epoch,
	                      .client_url = "",
	                      .admin_url = ""};

	row.state = l->owner[0] ? DTX__V1__SHARD_STATE__SHARD_OWNED
	                        : DTX__V1__SHARD_STATE__SHARD_UNOWNED;
	for (uint32_t i = 0; i < nbeats && l->owner[0]; i++) {
		if (strcmp(beats[i].name, l->owner) != 0)
			continue;
		row.client_url = beats[i].client_url;
		row.admin_url = beats[i].admin_url;
		row.beat_age_known = beats[i].unix_ms > 0;
		row.beat_age_ms = now > beats[i].unix_ms
		                          ? (uint64_t)(now - beats[i].unix_ms)
		                          : 0;
	}
	return row;
}

/* shards_read reads log's shard count, leases and beats (*ret_leases and
 * *ret_beats allocated; free both); a reason in o on failure. */
static int shards_read(dc_admin_out *o, dc_log *log, uint32_t *ret_shards,
                       dc_log_lease **ret_leases, dc_log_beat **ret_beats,
                       uint32_t *ret_nbeats)
{
	int rc = dc_log_shards(log, ret_shards);

	if (rc == DTX_OK && *ret_shards == 0) {
		dc_admin_error(o, DTX_EINVAL,
		               "no shard leases in this store (one coordinator "
		               "per log: dtxd --shard N)");
		return DTX_EINVAL;
	}
	*ret_leases = calloc(DC_LOG_SHARDS_MAX, sizeof(**ret_leases));
	*ret_beats = calloc(DC_ADMIN_INSTANCES_MAX, sizeof(**ret_beats));
	if (rc == DTX_OK && (*ret_leases == NULL || *ret_beats == NULL))
		rc = DTX_ENOMEM;
	if (rc == DTX_OK)
		rc = dc_log_leases_read(log, *ret_leases, *ret_shards,
		                        *ret_beats, DC_ADMIN_INSTANCES_MAX,
		                        ret_nbeats);
	if (rc != DTX_OK)
		dc_admin_error(o, rc,
		               rc == DTX_ENOMEM ? "out of memory"
		                                : dc_log_last_error(log));
	return rc;
}

int dc_admin_shards_from_log(dc_admin_out *o, dc_log *log, int64_t now_unix_ms)
{
	dc_log_lease *leases = NULL;
	dc_log_beat *beats = NULL;
	uint32_t shards = 0, nbeats = 0;
	int rc = shards_read(o, log, &shards, &leases, &beats, &nbeats);

	if (rc == DTX_OK) {
		dc_admin_set_instance(o, "");
		for (uint32_t s = 0; s < shards; s++) {
			dc_admin_shard row = stored_row(s, &leases[s], beats,
			                                nbeats, now_unix_ms);

			dc_admin_add_shard(o, &row);
		}
	}
	free(leases);
	free(beats);
	return rc;
}
