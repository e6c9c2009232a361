/*
 * engine.c - the coordinator's engine: lifecycle and the mail it gets (see
 * engine.h; the rooms are listed in engine_int.h).
 *
 * Owns the engine object, its loop handles and the order of start and
 * stop: log, mailbox, loop handles, recovery, then the endpoints; a stop
 * answers nothing more, lets the commit in flight finish, then closes in
 * reverse. Also the helpers every room uses: the wall clock, the jitter
 * source, and the fail-stop exits (durability, out of memory).
 *
 * Must never: block the loop (no read or write of the log on it); carry on
 * after a failed commit (crash-only: the restart recovers from the log);
 * touch a transaction from another thread; grow any table past its
 * configured limit.
 */
#include "engine_int.h"

/* ---- small helpers -------------------------------------------------- */

int64_t eng_now_unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t eng_next_random(dc_engine *e)
{
	/* xorshift64*: jitter only, not security. */
	e->rnd ^= e->rnd >> 12;
	e->rnd ^= e->rnd << 25;
	e->rnd ^= e->rnd >> 27;
	return e->rnd * 2685821657736338717ull;
}

/* eng_die_durability stops the process after a failed commit or growth of the
 * log; detail is the failing thread's dc_log_last_error (may be ""). */
__attribute__((noreturn)) void eng_die_durability(dc_engine *e, int err,
                                                  const char *detail)
{
	dc_diag(DTX_LOG_ERROR,
	        "log commit failed on %s: %s (%s); stopping now (crash-only: a "
	        "restart recovers every acknowledged transaction from the log)",
	        dc_log_path(e->log), dtx_strerror(err),
	        detail[0] != '\0' ? detail : "no detail");
	_exit(EX_IOERR);
}

/* eng_die_read stops the process on an error of the log itself met while
 * reading (EIO, a file LMDB finds damaged): crash-only, as for a commit. A
 * bad transaction is not one (see quarantine). */
__attribute__((noreturn)) void eng_die_read(dc_engine *e, int err,
                                            const char *detail)
{
	dc_diag(DTX_LOG_ERROR,
	        "reading the log %s failed: %s (%s); stopping now (crash-only)",
	        dc_log_path(e->log), dtx_strerror(err),
	        detail[0] != '\0' ? detail : "no detail");
	_exit(err == DTX_ECORRUPT || err == DTX_EVERSION ? EX_DATAERR
	                                                 : EX_IOERR);
}

__attribute__((noreturn)) void eng_die_oom(const char *what)
{
	dc_diag(DTX_LOG_ERROR, "out of memory (%s); stopping", what);
	_exit(EX_OSERR);
}

/* ---- lifecycle ----------------------------------------------------------- */

static void configure(dc_engine *e, uv_loop_t *loop, const dc_config *cfg)
{
	e->loop = loop;
	e->cfg = *cfg;
	dc_shards_init(&e->shards, &e->cfg);
	e->policy.action_max_attempts = cfg->action_max_attempts;
	e->backoff.base_ms = cfg->retry_base_ms;
	e->backoff.multiplier = cfg->retry_multiplier;
	e->backoff.max_ms = cfg->retry_max_ms;
	e->limits.max_steps = cfg->max_steps;
	e->limits.max_payload = cfg->max_payload;
	e->rnd = (uint64_t)eng_now_unix_ms() ^ ((uint64_t)getpid() << 32) ^ 1;
	e->next_gen = 1;
	/* a TCC transaction may have a backoff per branch */
	dc_timerq_init(&e->retry_q,
	               (size_t)cfg->max_active * cfg->max_steps + 16);
	dc_timerq_init(&e->wait_q, (size_t)cfg->max_clients + 16);
	dc_timerq_init(&e->deadline_q, (size_t)cfg->max_active + 16);
	dc_retain_init(&e->retain, cfg->retain_final_ms,
	               cfg->retain_tombstones_ms);
}

static int open_log(dc_engine *e, char *errbuf, size_t errlen)
{
	dc_log_opts lo = {
	        .dir = e->cfg.log_dir,
	        .map_size = e->cfg.map_size,
	        .map_size_max = e->cfg.map_size_max,
	};

	return dc_log_open(&lo, &e->log, errbuf, errlen);
}

static int open_handles(dc_engine *e)
{
	if (dc_mailbox_init(&e->mb, e->loop, eng_on_mail, e) != DTX_OK)
		return DTX_EINTERNAL;
	e->mb_open = true;
	uv_prepare_init(e->loop, &e->prepare);
	uv_timer_init(e->loop, &e->timer);
	uv_timer_init(e->loop, &e->retain_timer);
	e->prepare.data = e->timer.data = e->retain_timer.data = e;
	e->handles_open = true;
	uv_prepare_start(&e->prepare, eng_on_prepare);
	if (dc_retain_is_on(&e->retain)) /* an idle log is pruned too */
		uv_timer_start(&e->retain_timer, eng_on_retain_timer,
		               e->retain.every_ms, e->retain.every_ms);
	return DTX_OK;
}

/* open_admin listens on the admin endpoint with its own request pool, so
 * operators get answers while the client endpoint is saturated. The
 * default address taken by another dtxd on this host is a warning, not a
 * failure: that dtxd runs without an admin endpoint (ask for one with
 * --admin URL). */
static int open_admin(dc_engine *e, char *errbuf, size_t errlen)
{
	const char *urls[1] = {e->cfg.admin};
	dc_server_opts so = {
	        .urls = urls,
	        .nurls = 1,
	        .slots = e->cfg.admin_slots,
	        .max_msg_bytes = e->cfg.max_msg_bytes,
	        .max_conns = DC_ADMIN_MAX_CONNS,
	        .idle_ms = e->cfg.idle_timeout_ms,
	        .mail_kind = DC_MAIL_ADMIN,
	};
	int rv;

	if (e->cfg.admin == NULL)
		return DTX_OK;
	rv = dc_server_open(&so, &e->mb, &e->admin_srv, errbuf, errlen);
	if (rv == DTX_EUNREACHABLE && e->cfg.admin_default) {
		dc_diag(DTX_LOG_WARN, "no admin endpoint: %s", errbuf);
		errbuf[0] = '\0';
		e->admin_srv = NULL;
		return DTX_OK;
	}
	return rv;
}

static int open_net(dc_engine *e, char *errbuf, size_t errlen)
{
	dc_rpc_opts ro = {
	        .max_calls = e->cfg.max_calls,
	        .max_peers = e->cfg.max_peers,
	        .max_dialing = e->cfg.max_dialing,
	        .idle_ms = e->cfg.peer_idle_ms,
	        .max_msg_bytes = e->cfg.max_msg_bytes,
	        .limits = e->limits,
	};
	dc_server_opts so = {
	        .urls = e->cfg.listen,
	        .nurls = e->cfg.nlisten,
	        .slots = e->cfg.max_clients,
	        .max_msg_bytes = e->cfg.max_msg_bytes,
	        .max_conns = e->cfg.max_conns,
	        .max_per_conn = e->cfg.max_requests_per_conn,
	        .max_waits_per_conn = e->cfg.max_waits_per_conn,
	        .idle_ms = e->cfg.idle_timeout_ms,
	};
	int rv = dc_rpc_create(&ro, &e->mb, &e->rpc);

	if (rv != DTX_OK)
		return rv;
	rv = dc_server_open(&so, &e->mb, &e->srv, errbuf, errlen);
	if (rv != DTX_OK)
		return rv;
	return open_admin(e, errbuf, errlen);
}

/* read_queue is --read-queue, or by default one read per request the
 * endpoints may hold: a request has at most one read at a time, so a
 * client's read is never refused while the requests themselves are within
 * their limits (at 256, a flash sale of 1,000 buyers with client gids had
 * its submits refused: each reads the log for its gid first). */
static uint32_t read_queue(const dc_config *cfg)
{
	if (cfg->read_queue != 0)
		return cfg->read_queue;
	return cfg->max_clients + cfg->admin_slots;
}

int dc_engine_create(uv_loop_t *loop, const dc_config *cfg,
                     dc_engine **ret_engine, char *errbuf, size_t errlen)
{
	dc_engine *e = calloc(1, sizeof(*e));
	int rv = DTX_ENOMEM;

	if (e == NULL)
		return DTX_ENOMEM;
	configure(e, loop, cfg);
	e->nbuckets = 1024;
	if ((e->buckets = calloc(e->nbuckets, sizeof(*e->buckets))) == NULL ||
	    (e->ring = calloc(WATCH_RING, sizeof(*e->ring))) == NULL ||
	    (e->waiters = calloc(cfg->max_clients, sizeof(*e->waiters))) ==
	            NULL ||
	    eng_flight_init(e, &e->flights[0]) != DTX_OK ||
	    eng_flight_init(e, &e->flights[1]) != DTX_OK)
		goto fail;
	for (uint32_t i = 0; i < cfg->max_clients; i++)
		dc_timer_init(&e->waiters[i].timer);
	eng_flight_reset(e, &e->flights[0]);
	eng_flight_reset(e, &e->flights[1]);
	e->building = &e->flights[0];
	if ((rv = open_log(e, errbuf, errlen)) != DTX_OK ||
	    (rv = open_handles(e)) != DTX_OK ||
	    (rv = eng_recover(e, errbuf, errlen)) != DTX_OK ||
	    (rv = dc_reader_create(e->log, &e->mb, read_queue(&e->cfg),
	                           &e->reader)) != DTX_OK ||
	    (rv = open_net(e, errbuf, errlen)) != DTX_OK)
		goto fail;
	*ret_engine = e;
	return DTX_OK;
fail:
	dc_engine_stop(e);
	uv_run(loop, UV_RUN_DEFAULT); /* let closed handles finish */
	dc_engine_destroy(e);
	return rv;
}

const dc_recovery *dc_engine_recovery(const dc_engine *e)
{
	return &e->recovery;
}

void eng_finish_stop(dc_engine *e)
{
	if (e->mb_open) {
		dc_mailbox_close(&e->mb);
		e->mb_open = false;
	}
	if (e->handles_open) {
		uv_close((uv_handle_t *)&e->prepare, NULL);
		uv_close((uv_handle_t *)&e->timer, NULL);
		uv_close((uv_handle_t *)&e->retain_timer, NULL);
		e->handles_open = false;
	}
}

void dc_engine_stop(dc_engine *e)
{
	if (e->stopping)
		return;
	e->stopping = true;
	/* No more mail: close the sockets and wait for nng's callbacks. */
	dc_server_close(e->srv);
	dc_server_close(e->admin_srv);
	dc_rpc_close(e->rpc);
	dc_reader_stop(e->reader); /* waits for one chunk at most */
	if (e->inflight == NULL)
		eng_finish_stop(e);
	/* else after_work_cb calls finish_stop when the commit returns */
}

void dc_engine_destroy(dc_engine *e)
{
	if (e == NULL)
		return;
	/* The queues first: their timers live in the transactions and the
	 * waiters freed below, and fini marks each one unqueued
	 * (found by the chaos harness: a SIGTERM while clients waited for
	 * an outcome wrote into freed requests). */
	dc_timerq_fini(&e->retry_q);
	dc_timerq_fini(&e->wait_q);
	dc_timerq_fini(&e->deadline_q);
	for (size_t i = 0; e->buckets != NULL && i < e->nbuckets; i++) {
		live *lv = e->buckets[i];
		while (lv != NULL) {
			live *next = lv->hnext;
			eng_live_free(lv);
			lv = next;
		}
	}
	free(e->buckets);
	dc_server_destroy(e->srv);
	dc_server_destroy(e->admin_srv);
	free(e->ring);
	free(e->waiters);
	dc_rpc_destroy(e->rpc);
	eng_flight_fini(&e->flights[0]);
	eng_flight_fini(&e->flights[1]);
	dc_reader_destroy(e->reader);
	dc_log_close(e->log);
	dc_mailbox_fini(&e->mb);
	free(e);
}
