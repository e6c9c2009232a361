/*
 * transport_nng.c - the engine's real transport: the client and admin
 * endpoints (server.c) and the branch-call pool (rpc.c) on nng, behind
 * transport.h.
 *
 * Owns the three, their TLS configurations (tls.h), and the order they
 * open (the pool, the client endpoint, the admin endpoint) and close. The
 * HTTP endpoint (--http, http_api.h) is the engine's: it opens before
 * recovery (engine.c). The admin endpoint has its own request pool, so
 * operators get answers while the client endpoint is saturated.
 *
 * Must never: interpret a request or a reply (server.c and rpc.c do the
 * bounded decoding, the engine the rest).
 */
#include "transport.h"

#include <stdlib.h>

#include "diag.h"
#include "server.h"
#include "tls.h"

typedef struct nng_transport {
	dc_transport base; /* first */
	const dc_config *cfg;
	wire_limits limits;
	dc_server *srv;
	dc_server *admin_srv; /* NULL: no admin endpoint */
	dc_rpc *rpc;
	dc_tls *tls; /* the sockets' TLS configurations (outlives them) */
} nng_transport;

/* open_admin listens on the admin endpoint. The default address taken by
 * another dtxd on this host is a warning, not a failure: that dtxd runs
 * without an admin endpoint (ask for one with --admin URL). */
static int open_admin(nng_transport *n, dc_mailbox *mb, char *errbuf,
                      size_t errlen)
{
	const char *urls[1] = {n->cfg->admin};
	dc_server_opts so = {
	        .urls = urls,
	        .nurls = 1,
	        .slots = n->cfg->admin_slots,
	        .max_msg_bytes = n->cfg->max_msg_bytes,
	        .max_conns = DC_ADMIN_MAX_CONNS,
	        .idle_ms = n->cfg->idle_timeout_ms,
	        .mail_kind = DC_MAIL_ADMIN,
	        .tls = dc_tls_get(n->tls, DC_TLS_ADMIN),
	};
	int rv;

	if (n->cfg->admin == NULL)
		return DTX_OK;
	rv = dc_server_open(&so, mb, &n->admin_srv, errbuf, errlen);
	if (rv == DTX_EUNREACHABLE && n->cfg->admin_default) {
		dc_diag(DTX_LOG_WARN, "no admin endpoint: %s", errbuf);
		errbuf[0] = '\0';
		n->admin_srv = NULL;
		return DTX_OK;
	}
	return rv;
}

/* nng_reload_tls loads cfg's TLS files again and gives them to every
 * socket: new connections use them, open ones keep theirs. A problem
 * keeps the configurations in use. */
static int nng_reload_tls(dc_transport *t, const dc_config *cfg, char *errbuf,
                          size_t errlen)
{
	nng_transport *n = (nng_transport *)t;
	int rv = dc_tls_reload(n->tls, cfg, errbuf, errlen);

	if (rv != DTX_OK)
		return rv;
	if (dc_server_set_tls(n->srv, dc_tls_get(n->tls, DC_TLS_LISTEN)) !=
	            DTX_OK ||
	    dc_server_set_tls(n->admin_srv, dc_tls_get(n->tls, DC_TLS_ADMIN)) !=
	            DTX_OK ||
	    dc_rpc_set_tls(n->rpc, dc_tls_get(n->tls, DC_TLS_CALLS)) !=
	            DTX_OK) {
		/* some sockets may hold the new ones: keep both sets */
		snprintf(errbuf, errlen, "nng refused the new TLS settings");
		return DTX_EINVAL;
	}
	dc_tls_commit(n->tls);
	return DTX_OK;
}

/* open_all opens the pool, the client endpoint, the admin endpoint and
 * the console, in that order. */
static int open_all(nng_transport *n, dc_mailbox *mb, char *errbuf,
                    size_t errlen)
{
	const dc_config *cfg = n->cfg;
	dc_rpc_opts ro = {
	        .max_calls = cfg->max_calls,
	        .max_peers = cfg->max_peers,
	        .max_dialing = cfg->max_dialing,
	        .idle_ms = cfg->peer_idle_ms,
	        .max_msg_bytes = cfg->max_msg_bytes,
	        .limits = n->limits,
	        .tls = dc_tls_get(n->tls, DC_TLS_CALLS),
	};
	dc_server_opts so = {
	        .urls = cfg->listen,
	        .nurls = cfg->nlisten,
	        .slots = cfg->max_clients,
	        .max_msg_bytes = cfg->max_msg_bytes,
	        .max_conns = cfg->max_conns,
	        .max_per_conn = cfg->max_requests_per_conn,
	        .max_waits_per_conn = cfg->max_waits_per_conn,
	        .idle_ms = cfg->idle_timeout_ms,
	        .tls = dc_tls_get(n->tls, DC_TLS_LISTEN),
	};
	int rv = dc_rpc_create(&ro, mb, &n->rpc);

	if (rv != DTX_OK)
		return rv;
	rv = dc_server_open(&so, mb, &n->srv, errbuf, errlen);
	if (rv != DTX_OK)
		return rv;
	return open_admin(n, mb, errbuf, errlen);
}

static int nng_open(dc_transport *t, dc_mailbox *mb, char *errbuf,
                    size_t errlen)
{
	nng_transport *n = (nng_transport *)t;
	const dc_config *cfg = n->cfg;
	int rv = dc_tls_create(cfg, &n->tls, errbuf, errlen);

	if (rv != DTX_OK)
		return rv;
	return open_all(n, mb, errbuf, errlen);
}

static int nng_call(dc_transport *t, const char *url,
                    const Dtx__V1__BranchCall *msg, uint32_t timeout_ms,
                    void *owner, uint64_t token)
{
	return dc_rpc_call(((nng_transport *)t)->rpc, url, msg, timeout_ms,
	                   owner, token);
}

static void nng_flush(dc_transport *t)
{
	dc_rpc_flush(((nng_transport *)t)->rpc);
}

static void nng_release(dc_transport *t, dc_call *call)
{
	dc_rpc_release(((nng_transport *)t)->rpc, call);
}

/* nng_close closes the endpoints, then the pool, each waiting for nng's
 * callbacks: no mail is posted after it returns. Half-open is fine. */
static void nng_close(dc_transport *t)
{
	nng_transport *n = (nng_transport *)t;

	dc_server_close(n->srv);
	dc_server_close(n->admin_srv);
	dc_rpc_close(n->rpc);
}

static void nng_destroy(dc_transport *t)
{
	nng_transport *n = (nng_transport *)t;

	if (n == NULL)
		return;
	dc_server_destroy(n->srv);
	dc_server_destroy(n->admin_srv);
	dc_rpc_destroy(n->rpc);
	dc_tls_destroy(n->tls); /* after the sockets that pointed to it */
	free(n);
}

static const dc_transport_ops nng_ops = {
        .open = nng_open,
        .call = nng_call,
        .flush = nng_flush,
        .release = nng_release,
        .close = nng_close,
        .reload_tls = nng_reload_tls,
        .destroy = nng_destroy,
};

int dc_transport_nng_create(const dc_config *cfg, const wire_limits *limits,
                            dc_transport **ret_t)
{
	nng_transport *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return DTX_ENOMEM;
	n->base.ops = &nng_ops;
	n->cfg = cfg;
	n->limits = *limits;
	*ret_t = &n->base;
	return DTX_OK;
}
