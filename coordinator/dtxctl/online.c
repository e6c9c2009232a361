/*
 * online.c - dtxctl's client of dtxd's admin endpoint (see ctl.h). The only
 * dtxctl module that calls nng: one req0 socket per call, bounded receive
 * size and timeouts, so a stuck or absent coordinator is reported, never
 * waited on for ever.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>

#include <dtx/dtx.h>

#include "ctl.h"

#define REPLY_MAX (64u << 20) /* a big list page still fits */

static int from_nng(int rv)
{
	switch (rv) {
	case NNG_ETIMEDOUT:
		return DTX_ETIMEDOUT;
	case NNG_ENOMEM:
		return DTX_ENOMEM;
	case NNG_EADDRINVAL:
	case NNG_ENOTSUP:
		return DTX_EINVAL;
	default:
		return DTX_EUNREACHABLE;
	}
}

/* exchange_error words a failed send or receive (nng error rv) of a
 * request to url: no answer in time is not the same as a lost
 * connection. */
static int exchange_error(const char *url, uint32_t timeout_ms, int rv,
                          char *err, size_t errlen)
{
	if (rv == NNG_ETIMEDOUT)
		snprintf(err, errlen,
		         "no answer from the admin endpoint %s within %u ms "
		         "(--timeout-ms): dtxd is up but busy or stuck",
		         url, (unsigned)timeout_ms);
	else
		snprintf(err, errlen,
		         "the admin endpoint %s is unreachable: %s (the "
		         "connection was lost)",
		         url, nng_strerror(rv));
	return from_nng(rv);
}

static int exchange(nng_socket s, const char *url, uint32_t timeout_ms,
                    const Dtx__V1__AdminRequest *req,
                    Dtx__V1__AdminReply **ret_rep, char *err, size_t errlen)
{
	uint8_t *buf;
	size_t len;
	void *in = NULL;
	size_t inlen = 0;
	int rv = wire_pack_alloc(&req->base, &buf, &len);

	if (rv != DTX_OK)
		return rv;
	rv = nng_send(s, buf, len, 0);
	free(buf);
	if (rv == 0)
		rv = nng_recv(s, &in, &inlen, NNG_FLAG_ALLOC);
	if (rv != 0)
		return exchange_error(url, timeout_ms, rv, err, errlen);
	rv = wire_admin_reply_decode(in, inlen, ret_rep, err, errlen);
	nng_free(in, inlen);
	return rv;
}

/* The socket of this process: dialed at its first call and kept, since
 * `dtxctl list` follows cursors with one call per page and `watch` polls;
 * a dial per call cost more than the call. The process's exit closes it
 * (dtxctl is short-lived). */
static struct {
	nng_socket s;
	char url[DTX_URL_MAX + 1]; /* copied: a redirect's URL is freed */
	bool open;
	nng_tls_config *tls; /* ctl_online_tls's; kept until exit */
} conn;

int ctl_online_tls(const tlsconf_files *f, tlsconf_field *ret_field, char *why,
                   size_t len)
{
	return tlsconf_load(f, TLSCONF_CLIENT, &conn.tls, ret_field, why, len);
}

/* dial_once dials url once; later calls reuse the socket. */
static int dial_once(const char *url, uint32_t timeout_ms, char *err,
                     size_t errlen)
{
	int rv;

	if (conn.open && strcmp(conn.url, url) == 0)
		return DTX_OK;
	if (conn.open)
		nng_close(conn.s);
	conn.open = false;
	if ((rv = wire_scheme_check(url, err, errlen)) != DTX_OK)
		return rv;
	if ((rv = nng_req0_open(&conn.s)) != 0) {
		snprintf(err, errlen, "cannot open a socket: %s",
		         nng_strerror(rv));
		return from_nng(rv);
	}
	nng_socket_set_size(conn.s, NNG_OPT_RECVMAXSZ, REPLY_MAX);
	nng_socket_set_ms(conn.s, NNG_OPT_RECVTIMEO, (nng_duration)timeout_ms);
	nng_socket_set_ms(conn.s, NNG_OPT_SENDTIMEO, (nng_duration)timeout_ms);
	if (tlsconf_is_tls_url(url) && conn.tls == NULL) {
		/* a redirect to a tls+tcp:// owner, or no --tls-* at all */
		snprintf(err, errlen,
		         "%s needs --tls-ca (and --tls-cert/--tls-key: dtxd "
		         "asks for an operator's certificate)",
		         url);
		nng_close(conn.s);
		return DTX_EINVAL;
	}
	if (conn.tls != NULL)
		nng_socket_set_ptr(conn.s, NNG_OPT_TLS_CONFIG, conn.tls);
	rv = nng_dial(conn.s, url, NULL, 0);
	if (rv != 0) {
		snprintf(err, errlen,
		         "the admin endpoint %s is unreachable: %s%s", url,
		         nng_strerror(rv),
		         rv == NNG_ECONNREFUSED || rv == NNG_ENOENT
		                 ? " (is dtxd running, with --admin there?)"
		                 : "");
		nng_close(conn.s);
		return from_nng(rv);
	}
	snprintf(conn.url, sizeof(conn.url), "%s", url);
	conn.open = true;
	return DTX_OK;
}

int ctl_online_call(const char *url, uint32_t timeout_ms,
                    const Dtx__V1__AdminRequest *req,
                    Dtx__V1__AdminReply **ret_rep, char *err, size_t errlen)
{
	int rv = dial_once(url, timeout_ms, err, errlen);

	if (rv != DTX_OK)
		return rv;
	return exchange(conn.s, url, timeout_ms, req, ret_rep, err, errlen);
}
