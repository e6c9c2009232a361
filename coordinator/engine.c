/*
 * engine.c - the coordinator's engine: lifecycle and the mail it gets (see
 * engine.h; the rooms are listed in engine_int.h).
 *
 * Owns the engine object, its parts (engine.h: the log, the clock and the
 * transport, each given by the caller or made here), its loop handles and
 * the order of start and stop: log, mailbox, loop handles, the HTTP
 * endpoint (--http: console, /metrics, /livez, /readyz - open before
 * recovery, so that /readyz says "starting" meanwhile and a taken
 * address stops the start before anything listens), recovery, then the
 * transport; a stop answers nothing more, lets the commit in flight
 * finish, then closes in reverse. The metrics (metrics.h) live as long as
 * the engine. Also the helpers every room uses: the
 * clock's two readings, the jitter source, and the fail-stop exits
 * (durability, out of memory).
 *
 * Must never: block the loop (no read or write of the log on it); carry on
 * after a failed commit (crash-only: the restart recovers from the log);
 * touch a transaction from another thread; grow any table past its
 * configured limit.
 */
#include "engine_int.h"
#include "http_api.h"

/* ---- small helpers -------------------------------------------------- */

/* eng_now_unix_ms is the wall time: what is recorded (created, updated,
 * final times, timeline entries) and absolute deadlines. */
int64_t eng_now_unix_ms(const dc_engine *e)
{
	return dc_clock_unix_ms(e->clock);
}

/* eng_now_mono_ms is the monotonic time: what every timer and age counts
 * in, so that no wall-clock jump fires or stalls one. */
uint64_t eng_now_mono_ms(const dc_engine *e)
{
	return dc_clock_mono_ms(e->clock);
}

uint64_t eng_next_random(dc_engine *e)
{
	return dc_backoff_next_random(&e->rnd);
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

static void configure(dc_engine *e, uv_loop_t *loop, const dc_config *cfg,
                      const dc_engine_parts *parts)
{
	e->loop = loop;
	e->cfg = *cfg;
	dc_clock_real_init(&e->real_clock, loop);
	e->clock = parts->clock != NULL ? parts->clock : &e->real_clock.base;
	dc_shards_init(&e->shards, &e->cfg);
	e->policy.action_max_attempts = cfg->action_max_attempts;
	e->backoff.base_ms = cfg->retry_base_ms;
	e->backoff.multiplier = cfg->retry_multiplier;
	e->backoff.max_ms = cfg->retry_max_ms;
	e->limits.max_steps = cfg->max_steps;
	e->limits.max_payload = cfg->max_payload;
	e->rnd = parts->seed != 0 ? parts->seed
	                          : (uint64_t)eng_now_unix_ms(e) ^
	                                    ((uint64_t)getpid() << 32) ^ 1;
	e->next_gen = 1;
	/* a TCC transaction may have a backoff per branch */
	dc_timerq_init(&e->retry_q,
	               (size_t)cfg->max_active * cfg->max_steps + 16);
	dc_timerq_init(&e->wait_q, (size_t)cfg->max_clients + 16);
	dc_timerq_init(&e->deadline_q, (size_t)cfg->max_active + 16);
	dc_retain_init(&e->retain, cfg->retain_final_ms,
	               cfg->retain_tombstones_ms);
}

static int open_log(dc_engine *e, dc_log *given, char *errbuf, size_t errlen)
{
	dc_log_opts lo = {
	        .dir = e->cfg.log_dir,
	        .map_size = e->cfg.map_size,
	        .map_size_max = e->cfg.map_size_max,
	        .shards = dc_config_leases(&e->cfg) ? e->cfg.nshards : 0,
	        .shared = dc_config_leases(&e->cfg),
	};
	int rv;

	if (given != NULL) {
		e->log = given;
		return DTX_OK;
	}
	rv = dc_log_open(&lo, &e->log, errbuf, errlen);
	e->log_owned = rv == DTX_OK;
	return rv;
}

static void on_beat(uv_timer_t *h)
{
	dc_engine *e = h->data;

	dc_metrics_beat(e->metrics);
}

static int open_handles(dc_engine *e)
{
	if (dc_mailbox_init(&e->mb, e->loop, eng_on_mail, e) != DTX_OK)
		return DTX_EINTERNAL;
	e->mb_open = true;
	uv_prepare_init(e->loop, &e->prepare);
	uv_timer_init(e->loop, &e->timer);
	uv_timer_init(e->loop, &e->retain_timer);
	uv_timer_init(e->loop, &e->beat);
	e->prepare.data = e->timer.data = e->retain_timer.data = e;
	e->beat.data = e;
	e->handles_open = true;
	uv_prepare_start(&e->prepare, eng_on_prepare);
	uv_timer_start(&e->beat, on_beat, DC_METRICS_BEAT_MS,
	               DC_METRICS_BEAT_MS);
	if (dc_retain_is_on(&e->retain)) /* an idle log is pruned too */
		uv_timer_start(&e->retain_timer, eng_on_retain_timer,
		               e->retain.every_ms, e->retain.every_ms);
	return DTX_OK;
}

/* open_net opens the transport: the given one, or nng's per cfg. */
static int open_net(dc_engine *e, dc_transport *given, char *errbuf,
                    size_t errlen)
{
	int rv;

	if (given != NULL) {
		e->net = given;
	} else {
		rv = dc_transport_nng_create(&e->cfg, &e->limits, &e->net);
		if (rv != DTX_OK)
			return rv;
		e->net_owned = true;
	}
	e->net_open = true; /* a half-open transport is closed too */
	return e->net->ops->open(e->net, &e->mb, errbuf, errlen);
}

/* open_http serves cfg->http, if given: the console's admin reads go
 * through the mailbox; /metrics and the health checks read e->metrics. */
static int open_http(dc_engine *e, char *errbuf, size_t errlen)
{
	if (e->cfg.http == NULL)
		return DTX_OK;
	return dc_http_api_open(&e->cfg, &e->mb, e->metrics, &e->http, errbuf,
	                        errlen);
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
	return cfg->max_clients + cfg->admin_slots +
	       (cfg->http != NULL ? DC_HTTP_API_SLOTS : 0);
}

int dc_engine_create(uv_loop_t *loop, const dc_config *cfg,
                     dc_engine **ret_engine, char *errbuf, size_t errlen)
{
	return dc_engine_create_with(loop, cfg, NULL, ret_engine, errbuf,
	                             errlen);
}

int dc_engine_create_with(uv_loop_t *loop, const dc_config *cfg,
                          const dc_engine_parts *parts, dc_engine **ret_engine,
                          char *errbuf, size_t errlen)
{
	static const dc_engine_parts production;
	dc_engine *e = calloc(1, sizeof(*e));
	int rv = DTX_ENOMEM;

	if (e == NULL)
		return DTX_ENOMEM;
	if (parts == NULL)
		parts = &production;
	configure(e, loop, cfg, parts);
	e->nbuckets = 1024;
	if (dc_metrics_create(dc_config_leases(cfg), cfg->nshards,
	                      cfg->lease_ms, &e->metrics) != DTX_OK ||
	    (e->buckets = calloc(e->nbuckets, sizeof(*e->buckets))) == NULL ||
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
	if ((rv = open_log(e, parts->log, errbuf, errlen)) != DTX_OK ||
	    (dc_config_leases(cfg) &&
	     (rv = eng_leases_create(e, errbuf, errlen)) != DTX_OK) ||
	    (rv = open_handles(e)) != DTX_OK ||
	    (rv = open_http(e, errbuf, errlen)) != DTX_OK ||
	    (rv = eng_recover(e, errbuf, errlen)) != DTX_OK ||
	    (rv = dc_reader_create(e->log, &e->mb, read_queue(&e->cfg),
	                           &e->reader)) != DTX_OK ||
	    (rv = open_net(e, parts->transport, errbuf, errlen)) != DTX_OK ||
	    (e->leases != NULL && (rv = eng_leases_start(e)) != DTX_OK))
		goto fail;
	dc_metrics_set_phase(e->metrics, DC_METRICS_SERVING);
	*ret_engine = e;
	return DTX_OK;
fail:
	dc_engine_stop(e);
	uv_run(loop, UV_RUN_DEFAULT); /* let closed handles finish */
	dc_engine_destroy(e);
	return rv;
}

const char *dc_engine_store(const dc_engine *e)
{
	return dc_log_path(e->log);
}

int dc_engine_reload_tls(dc_engine *e, const dc_config *cfg, char *errbuf,
                         size_t errlen)
{
	if (!e->net_open || e->net->ops->reload_tls == NULL)
		return DTX_OK;
	return e->net->ops->reload_tls(e->net, cfg, errbuf, errlen);
}

const dc_recovery *dc_engine_recovery(const dc_engine *e)
{
	return &e->recovery;
}

void dc_engine_tick(dc_engine *e)
{
	eng_run_due(e);
}

bool dc_engine_is_idle(const dc_engine *e)
{
	const flight *f = e->building;

	return e->inflight == NULL && e->dirty_head == NULL && f->nfx == 0 &&
	       dc_log_batch_len(f->batch) == 0 &&
	       dc_reader_held(e->reader) == 0;
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
		uv_close((uv_handle_t *)&e->beat, NULL);
		e->handles_open = false;
	}
}

void dc_engine_stop(dc_engine *e)
{
	if (e->stopping)
		return;
	e->stopping = true;
	if (e->metrics != NULL)
		dc_metrics_set_phase(e->metrics, DC_METRICS_STOPPING);
	dc_http_api_close(e->http); /* suspended requests answered 503 */
	eng_leases_stop(e);         /* no round is running after this */
	/* No more mail: close the transport (nng: the sockets, waiting for
	 * nng's callbacks). */
	if (e->net_open) {
		e->net->ops->close(e->net);
		e->net_open = false;
	}
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
	if (e->net_owned)
		e->net->ops->destroy(e->net);
	free(e->ring);
	free(e->waiters);
	eng_flight_fini(&e->flights[0]);
	eng_flight_fini(&e->flights[1]);
	dc_reader_destroy(e->reader);
	eng_leases_destroy(e);
	if (e->log_owned)
		dc_log_close(e->log);
	dc_mailbox_fini(&e->mb);
	dc_http_api_destroy(e->http); /* after the mailbox: no slot is held */
	dc_metrics_destroy(e->metrics);
	free(e);
}
