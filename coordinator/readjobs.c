/*
 * readjobs.c - the engine's reads, run on a reader thread (see
 * readjobs.h).
 *
 * Every run reads a bounded number of records: a load reads one
 * transaction; a FinalQuery job loads DC_READ_FINALS_RUN transactions per
 * run; a list page reads at most DC_ADMIN_LIST_EXAMINE records; stats
 * counts DC_READER_CHUNK records per run, each run in its own LMDB read
 * transaction (so a scan never pins an old snapshot of a growing log for
 * long). Never touches coordinator state; never writes the log.
 */
#include "readjobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "machine.h"
#include "wire.h"

#define container_of(ptr, type, member)                                        \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

bool dc_read_check(const dc_tx *tx, dc_log_bad *bad)
{
	char why[DC_LOG_WHY_MAX - 64], msg[DC_LOG_WHY_MAX];

	if (dc_tx_check(tx, why, sizeof(why)) &&
	    dc_machine_check(tx, why, sizeof(why)))
		return true;
	snprintf(msg, sizeof(msg), "records load but cannot be driven: %s",
	         why);
	dc_log_bad_set(bad, tx->gid, DTX_ECORRUPT, msg);
	return false;
}

/* load_checked loads gid as the engine would drive it: *ret_tx on
 * DTX_OK; a bad transaction's cause in *bad; the reason of an error of
 * the log in err. */
static int load_checked(dc_log *log, const char *gid, dc_tx **ret_tx,
                        dc_log_bad *bad, char *err)
{
	dc_tx *tx;
	int rv;

	bad->err = 0;
	rv = dc_log_load_tx_checked(log, gid, &tx, bad);
	if (rv == DTX_OK && !dc_read_check(tx, bad)) {
		dc_tx_destroy(tx);
		return bad->err;
	}
	if (rv != DTX_OK && rv != DTX_ENOENT && bad->err == 0)
		snprintf(err, DC_READ_ERR_MAX, "%s", dc_log_last_error(log));
	if (rv == DTX_OK)
		*ret_tx = tx;
	return rv;
}

/* ---- one transaction ---------------------------------------------------- */

static bool load_run(dc_read_job *job, dc_log *log)
{
	dc_load_job *j = container_of(job, dc_load_job, head.base);

	DTX_HOLD("reader.load"); /* reader_test: reads that queue up */
	dc_tx_destroy(j->tx);    /* a job run again starts afresh */
	j->tx = NULL;
	j->err[0] = '\0';
	j->rv = load_checked(log, j->gid, &j->tx, &j->bad, j->err);
	return true;
}

/* load_many runs n loads together: one probe of their gids says which the
 * log knows nothing of (DTX_ENOENT, what their loads would find: the
 * probe reads the same tables in a snapshot taken as late as each load's
 * own), and only the others are loaded one by one. A probe that fails
 * leaves every job to its own load, which reports the error as before. */
static void load_many(dc_read_job **jobs, size_t n, dc_log *log)
{
	const char *gids[DC_READER_BATCH_MAX] = {NULL};
	bool known[DC_READER_BATCH_MAX];
	dc_load_job *j;

	DTX_HOLD("reader.load"); /* reader_test: reads that queue up */
	for (size_t i = 0; i < n; i++)
		gids[i] = container_of(jobs[i], dc_load_job, head.base)->gid;
	if (dc_log_probe_gids(log, gids, n, known) != DTX_OK)
		memset(known, 1, sizeof(known));
	for (size_t i = 0; i < n; i++) {
		j = container_of(jobs[i], dc_load_job, head.base);
		dc_tx_destroy(j->tx); /* a job run again starts afresh */
		j->tx = NULL;
		j->err[0] = '\0';
		memset(&j->bad, 0, sizeof(j->bad));
		if (known[i])
			j->rv = load_checked(log, j->gid, &j->tx, &j->bad,
			                     j->err);
		else
			j->rv = DTX_ENOENT;
	}
}

static void job_dispose(dc_read_job *job)
{
	dc_read_job_destroy(container_of(job, dc_read_head, base));
}

static void head_init(dc_read_head *h, dc_read_kind kind, dc_read_run_fn run)
{
	h->kind = kind;
	h->base.run = run;
	h->base.dispose = job_dispose;
}

int dc_load_job_create(const char *gid, dc_load_job **ret_job)
{
	dc_load_job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return DTX_ENOMEM;
	head_init(&j->head, DC_READ_LOAD, load_run);
	j->head.base.run_many = load_many;
	snprintf(j->gid, sizeof(j->gid), "%s", gid);
	*ret_job = j;
	return DTX_OK;
}

/* ---- final states (FinalQuery) ------------------------------------------ */

/* final_read reads one gid of a FinalQuery into r; returns false on an
 * error of the log itself (reported in j). */
static bool final_read(dc_finals_job *j, dc_log *log, dc_final_read *r)
{
	dc_log_bad bad;
	dc_tx *tx = NULL;

	r->rv = load_checked(log, r->gid, &tx, &bad, j->err);
	if (r->rv == DTX_OK) {
		r->final = dc_tx_is_final(tx);
		r->state = tx->state;
		r->final_unix_ms = tx->updated_unix_ms;
		dc_tx_destroy(tx);
	} else if (bad.err != 0) {
		if ((r->bad = malloc(sizeof(*r->bad))) == NULL)
			r->rv = DTX_ENOMEM;
		else
			*r->bad = bad;
	}
	if (r->rv == DTX_OK || r->rv == DTX_ENOENT || r->bad != NULL)
		return true;
	j->fatal = r->rv;
	return false;
}

static bool finals_run(dc_read_job *job, dc_log *log)
{
	dc_finals_job *j = container_of(job, dc_finals_job, head.base);
	size_t end = j->next + DC_READ_FINALS_RUN;

	while (j->next < j->n && j->next < end)
		if (!final_read(j, log, &j->reads[j->next++]))
			return true;
	return j->next == j->n;
}

int dc_finals_job_create(const char *const *gids, size_t n,
                         dc_finals_job **ret_job)
{
	dc_finals_job *j = calloc(1, sizeof(*j));

	if (j == NULL ||
	    (j->reads = calloc(n + 1, sizeof(*j->reads))) == NULL) {
		free(j);
		return DTX_ENOMEM;
	}
	head_init(&j->head, DC_READ_FINALS, finals_run);
	j->n = n;
	for (size_t i = 0; i < n; i++)
		snprintf(j->reads[i].gid, sizeof(j->reads[i].gid), "%s",
		         gids[i]);
	*ret_job = j;
	return DTX_OK;
}

/* ---- admin reads (list, show, stats) ------------------------------------ */

/* admin_answer builds the reply to m into o; false if it needs another
 * run (stats not counted to the end yet). */
static bool admin_answer(dc_admin_job *j, dc_log *log, dc_admin_out *o,
                         const Dtx__V1__AdminRequest *m)
{
	bool done = true;
	int rv;

	switch (m->body_case) {
	case DTX__V1__ADMIN_REQUEST__BODY_LIST:
		dc_admin_list(o, log, m->list, NULL, NULL, j->now_unix_ms);
		return true;
	case DTX__V1__ADMIN_REQUEST__BODY_SHOW:
		dc_admin_show(o, log, m->show, j->tx, j->next_retry);
		return true;
	default: /* STATS: the engine sends no other body here */
		rv = dc_admin_stats_step(&j->ss, log, DC_READER_CHUNK, &done);
		if (rv != DTX_OK)
			dc_admin_error(o, rv, dc_log_last_error(log));
		else if (done)
			dc_admin_stats_fill(o, &j->ss);
		if (done && o->rep.stats != NULL) {
			o->rep.stats->has_log_full = 1;
			o->rep.stats->log_full = j->log_full;
		}
		return rv != DTX_OK || done;
	}
}

static bool admin_run(dc_read_job *job, dc_log *log)
{
	dc_admin_job *j = container_of(job, dc_admin_job, head.base);
	Dtx__V1__AdminRequest *m;
	dc_admin_out o;
	char err[200];
	bool done;

	dc_admin_out_init(&o, j->now_unix_ms);
	o.max_bytes = j->max_bytes;
	/* it decoded on the loop: the same bytes decode here */
	if (wire_admin_request_decode(j->body, j->len, &m, err, sizeof(err)) !=
	    DTX_OK) {
		dc_admin_error(&o, DTX_EINTERNAL, err);
		done = true;
	} else {
		done = admin_answer(j, log, &o, m);
		wire_admin_request_free(m);
	}
	if (done && dc_admin_out_pack(&o, &j->reply, &j->reply_len) != DTX_OK)
		j->reply = NULL;
	dc_admin_out_fini(&o);
	return done;
}

int dc_admin_job_create(const void *body, size_t len, dc_tx *tx,
                        int64_t *next_retry, dc_admin_job **ret_job)
{
	dc_admin_job *j = calloc(1, sizeof(*j));

	if (j == NULL || (j->body = malloc(len + 1)) == NULL) {
		free(j);
		return DTX_ENOMEM;
	}
	head_init(&j->head, DC_READ_ADMIN, admin_run);
	j->head.base.bulk = true;
	memcpy(j->body, body, len);
	j->len = len;
	dc_admin_stats_init(&j->ss, NULL, NULL);
	j->tx = tx;
	j->next_retry = next_retry;
	*ret_job = j;
	return DTX_OK;
}

/* ---- any job ------------------------------------------------------------ */

void dc_read_job_destroy(dc_read_head *h)
{
	if (h == NULL)
		return;
	if (h->kind == DC_READ_LOAD) {
		dc_tx_destroy(container_of(h, dc_load_job, head)->tx);
	} else if (h->kind == DC_READ_FINALS) {
		dc_finals_job *j = container_of(h, dc_finals_job, head);
		for (size_t i = 0; i < j->n; i++)
			free(j->reads[i].bad);
		free(j->reads);
	} else {
		dc_admin_job *j = container_of(h, dc_admin_job, head);
		free(j->body);
		dc_tx_destroy(j->tx);
		free(j->next_retry);
		free(j->reply);
	}
	free(h); /* the head is each job's first member */
}

dc_read_head *dc_read_head_of(dc_mail *mail)
{
	return container_of(mail, dc_read_head, base.mail);
}
