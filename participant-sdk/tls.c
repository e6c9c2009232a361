/*
 * tls.c - the SDK's TLS settings (dtx_tls_opts) as nng configurations.
 *
 * Owns the translation of a dtx_tls_opts into common/tlsconf.c's terms
 * and the log line that names the field at fault. The participant and
 * the client own the configurations it makes, and keep them until their
 * sockets are closed (nng keeps a bare pointer per socket).
 *
 * Must never: print (the log callback gets every problem).
 */
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "sdk.h"

void dtx_tls_opts_init(dtx_tls_opts *opts)
{
	if (opts == NULL)
		return;
	memset(opts, 0, sizeof(*opts));
	opts->require_client_cert = true;
}

static const char *field_name(tlsconf_field f)
{
	static const char *const names[TLSCONF_F_COUNT] = {
	        "cert_file", "key_file", "key_passphrase", "ca_file",
	        "require_client_cert"};

	return f < TLSCONF_F_COUNT ? names[f] : "cert_file";
}

int sdk_tls_load(const dtx_tls_opts *o, bool server, const char *who,
                 const char *url, nng_tls_config **ret_cfg)
{
	tlsconf_files f;
	tlsconf_field field;
	char why[400];
	int rv;

	*ret_cfg = NULL;
	if (o == NULL) {
		if (!tlsconf_is_tls_url(url))
			return DTX_OK;
		sdk_logf(DTX_LOG_ERROR,
		         "%s: %s needs TLS settings (the "
		         "options' tls: dtx_tls_opts)",
		         who, url);
		return DTX_EINVAL;
	}
	f.cert = o->cert_file;
	f.key = o->key_file;
	f.key_pass = o->key_passphrase;
	f.ca = o->ca_file;
	f.require_peer_cert = server && o->require_client_cert;
	rv = tlsconf_load(&f, server ? TLSCONF_SERVER : TLSCONF_CLIENT, ret_cfg,
	                  &field, why, sizeof(why));
	if (rv != DTX_OK)
		sdk_logf(DTX_LOG_ERROR, "%s: dtx_tls_opts.%s: %s", who,
		         field_name(field), why);
	return rv;
}

void sdk_tls_free(nng_tls_config *cfg)
{
	if (cfg != NULL)
		nng_tls_config_free(cfg);
}
