/*
 * load.c - a transaction that is not in memory: its read from the log off
 * the loop, and the quarantine of one that cannot be loaded or driven.
 *
 * Reads (issue 14: one `dtxctl stats` of 500,000 transactions froze the
 * loop for 1.2 s). A request that needs the log - a gid not in memory
 * (query, resubmit, register/finish of a final TCC transaction, an
 * operator action), a FinalQuery, dtxctl list/show/stats - becomes a job
 * of the reader (coordinator/reader.h, readjobs.h) and the request waits
 * for it, holding its slot; a full reader queue answers DTX_EBUSY. When a
 * load completes, the loop applies what it found (quarantine, or stop on
 * an error of the log) and runs the request again from its bytes with the
 * result at hand (eng_read_tx), so that every decision is made on the
 * loop against the memory of that moment: a gid that became live
 * meanwhile is answered from memory. What the log says is durable state;
 * a reply from memory waits for durability as before. Two races are
 * closed:
 *   - a transaction created and freed while its gid was read (the read's
 *     snapshot may predate its creation): freeing bumps an epoch of the
 *     gid's hash, and a load whose epoch moved is read again;
 *   - an id this coordinator makes colliding with a client's gid: no read
 *     (make_gid has none); a client gid shaped like our ids and above the
 *     last one made is refused (is_reserved), so none can exist.
 * list and stats report the log's (durable) state; show of a live
 * transaction reports its in-memory copy and reads only its timeline.
 *
 * Quarantine (DESIGN.md rule 7): a transaction whose records cannot be
 * loaded, or that loads into a state the machines cannot take
 * (dc_tx_check, dc_machine_check), is never driven: recovery and every
 * later load log one line, put gid -> (time, cause) into the log's
 * quarantine table in the next group commit, and go on with the others.
 * It stays in the active table, so that dtxctl list shows it (as
 * needs-operator, with its cause); every later load reports it from the
 * quarantine table without reading it again, so no restart drives it.
 * Clients asking for it get DTX_ECORRUPT "transaction quarantined: ...".
 * An error of the log itself (I/O, a damaged file) stops the process
 * (crash-only).
 *
 * Must never: read the log on the loop thread; drive a transaction that
 * failed dc_machine_check.
 */
#include "engine_int.h"

/* ---- loading from the log: quarantine --------------------------------- */

/* eng_quarantine keeps the transaction bad describes out of the engine for
 * good: one line here, and gid -> (time, cause) into the log's quarantine
 * table in the next group commit, so that every later load of it (a
 * restart, a query, dtxctl) reports it without reading it again. Its own
 * records stay as they are, for an operator. If we crash before that
 * commit, the next load finds it bad again and quarantines it then. */
void eng_quarantine(dc_engine *e, const dc_log_bad *bad)
{
	if (bad->quarantined)
		return;
	dc_diag(DTX_LOG_ERROR,
	        "quarantined transaction %s: %s (it is not driven; see dtxctl "
	        "show %s)",
	        bad->gid, bad->why, bad->gid);
	if (dc_log_batch_quarantine(e->building->batch, bad,
	                            eng_now_unix_ms(e)) != DTX_OK)
		eng_die_oom("quarantine");
}

/* settle_load applies on the loop what a load found: a bad transaction
 * is quarantined; an error of the log itself stops the process. */
static void settle_load(dc_engine *e, int rv, const dc_log_bad *bad,
                        const char *err)
{
	if (bad->err != 0) {
		eng_quarantine(e, bad);
		return;
	}
	if (rv == DTX_ENOMEM)
		eng_die_oom("load");
	if (rv == DTX_EIO || rv == DTX_ENOSPC || rv == DTX_ECORRUPT ||
	    rv == DTX_EVERSION)
		eng_die_read(e, rv, err);
}

/* eng_read_tx reads gid (not in memory) from the log for req, off the loop.
 * The first call queues a load and returns READ_PENDING: req is run again
 * when the load is done (on_load_done), and then the same call returns
 * what it found: DTX_OK (*ret_tx transferred); DTX_ENOENT; DTX_ECORRUPT
 * or DTX_EVERSION for a transaction that cannot be loaded or driven
 * (quarantined already; *ret_bad says why). DTX_EBUSY: the reader's queue
 * is full. ret_bad->err is 0 unless the transaction is bad. */
int eng_read_tx(dc_engine *e, dc_request *req, const char *gid, dc_tx **ret_tx,
                dc_log_bad *ret_bad)
{
	dc_load_job *j = e->redo;

	ret_bad->err = 0;
	if (j != NULL && j->head.owner == req && strcmp(j->gid, gid) == 0) {
		e->redo = NULL; /* used once */
		*ret_bad = j->bad;
		if (j->rv == DTX_OK) {
			*ret_tx = j->tx;
			j->tx = NULL;
		}
		return j->rv;
	}
	if (dc_load_job_create(gid, &j) != DTX_OK)
		eng_die_oom("read");
	j->head.owner = req;
	j->epoch = e->read_epochs[eng_gid_hash(gid, READ_EPOCHS)];
	if (dc_reader_submit(e->reader, &j->head.base) != DTX_OK) {
		dc_read_job_destroy(&j->head);
		return DTX_EBUSY;
	}
	return READ_PENDING;
}

void eng_send_read_error(dc_request *req, const char *gid, int rv)
{
	if (rv == DTX_EBUSY) {
		eng_send_error(req, rv,
		               "busy: the coordinator's log reader has a full "
		               "queue (--read-queue); try again");
		return;
	}
	dc_diag(DTX_LOG_ERROR, "reading %s from the log: %s", gid,
	        dtx_strerror(rv));
	eng_send_error(req, rv, "cannot read the transaction from the log");
}

/* eng_quarantined_msg writes the message a request about bad's transaction
 * gets into buf. */
void eng_quarantined_msg(const dc_log_bad *bad, char *buf, size_t len)
{
	snprintf(buf, len, "transaction quarantined: %s", bad->why);
}

/* ---- reads done (see "Reads" at the top) ------------------------------ */

/* send_busy answers req (client or admin) that its read could not be
 * queued. */
static void send_busy(dc_engine *e, dc_request *req)
{
	dc_admin_out o;

	if (req->mail.kind != DC_MAIL_ADMIN) {
		eng_send_read_error(req, NULL, DTX_EBUSY);
		return;
	}
	dc_admin_out_init(&o, eng_now_unix_ms(e));
	dc_admin_error(&o, DTX_EBUSY,
	               "busy: the coordinator's log reader has a full queue "
	               "(--read-queue); try again");
	eng_admin_send(req, &o);
	dc_admin_out_fini(&o);
	(void)e;
}

/* on_load_done applies what a load found (settle_load) and runs its
 * request again with the result at hand (read_tx). A load whose gid's
 * epoch moved may have missed a transaction created and freed meanwhile:
 * it is read again. */
static void on_load_done(dc_engine *e, dc_load_job *j)
{
	dc_request *req = j->head.owner;
	uint32_t epoch = e->read_epochs[eng_gid_hash(j->gid, READ_EPOCHS)];

	if (j->epoch != epoch) {
		j->epoch = epoch;
		if (dc_reader_submit(e->reader, &j->head.base) != DTX_OK) {
			send_busy(e, req);
			dc_read_job_destroy(&j->head);
		}
		return;
	}
	settle_load(e, j->rv, &j->bad, j->err);
	e->redo = j;
	if (req->mail.kind == DC_MAIL_ADMIN)
		eng_on_admin(e, req);
	else
		eng_on_request(e, req);
	e->redo = NULL;
	dc_read_job_destroy(&j->head);
}

/* eng_on_admin_done sends the reply an admin read built. */
void eng_on_admin_done(dc_admin_job *j)
{
	if (j->reply == NULL)
		eng_die_oom("admin reply");
	dc_request_reply_raw(j->head.owner, j->reply, j->reply_len);
	dc_read_job_destroy(&j->head);
}

void eng_on_read_done(dc_engine *e, dc_mail *mail)
{
	dc_read_head *h = dc_read_head_of(mail);

	dc_reader_finish(e->reader, &h->base);
	if (h->kind == DC_READ_LOAD) {
		on_load_done(e, (dc_load_job *)h);
	} else if (h->kind == DC_READ_FINALS) {
		eng_on_finals_done(e, (dc_finals_job *)h);
		dc_read_job_destroy(h);
	} else {
		eng_on_admin_done((dc_admin_job *)h);
	}
}
