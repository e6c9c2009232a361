/*
 * tlsconf.h - TLS settings from PEM files, checked, as an nng TLS
 * configuration (nng 1.5.2's tls+tcp transport: mbedTLS, TLS 1.2).
 *
 * dtxd (its client and admin endpoints, its branch calls), dtxctl and the
 * SDK (participant listener, client) all load their certificates here, so
 * every one of them refuses the same bad input the same way: a file that
 * cannot be read, a certificate or key that does not parse, a key that
 * does not match its certificate, a certificate past its end date, a CA
 * bundle without a certificate. Each problem is reported naming the file
 * and which of the settings it came from (tlsconf_field), so the caller
 * can name its own setting (--tls-key, dtx_tls_opts.key_file).
 *
 * Peers are authenticated by their chain to the CA only: a configuration
 * is shared by every socket of a process, and nng 1.5.2 can neither set a
 * server name per connection nor show the peer's name (PLATFORM.md), so
 * a deployment gives dtx a CA of its own (and the admin endpoint a CA of
 * operators' certificates).
 */
#ifndef DTX_COMMON_TLSCONF_H
#define DTX_COMMON_TLSCONF_H

#include <stdbool.h>
#include <stddef.h>

/* nng's TLS configuration (<nng/supplemental/tls/tls.h>), named here
 * without nng's headers: coordinator files that include this one through
 * config.h define names of their own that nng.h would clash with. */
typedef struct nng_tls_config nng_tls_config;

/* The largest PEM file read (a certificate chain, a CA bundle). */
#define TLSCONF_FILE_MAX (1u << 20)

typedef struct tlsconf_files {
	const char *cert;     /* PEM certificate (chain first); NULL = none */
	const char *key;      /* PEM private key of cert; NULL = none */
	const char *key_pass; /* passphrase of an encrypted key, or NULL */
	const char *ca;       /* PEM CA bundle peers must chain to, or NULL */
	/* a listener refuses a client without a certificate of ca (else it
	 * asks for none: mbedTLS's "optional" would let a bad one in, as
	 * nng 1.5.2 does not look at the verification's result) */
	bool require_peer_cert;
} tlsconf_files;

typedef enum tlsconf_mode {
	TLSCONF_SERVER = 0, /* a listener: needs cert and key */
	TLSCONF_CLIENT = 1, /* a dialer: needs ca (the server is checked) */
} tlsconf_mode;

/* Which setting a problem is about. */
typedef enum tlsconf_field {
	TLSCONF_F_CERT = 0,
	TLSCONF_F_KEY,
	TLSCONF_F_KEY_PASS,
	TLSCONF_F_CA,
	TLSCONF_F_REQUIRE,
	TLSCONF_F_COUNT
} tlsconf_field;

/* tlsconf_is_tls_url: url is a tls+tcp:// (or tls+tcp4/6) URL. */
bool tlsconf_is_tls_url(const char *url);

/* tlsconf_is_set: f names a certificate or a CA (TLS is configured). */
bool tlsconf_is_set(const tlsconf_files *f);

/* tlsconf_load reads and checks f (borrowed) for mode and makes an nng TLS
 * configuration of it (TLS 1.2, the version nng 1.5.2 has), owned by the
 * caller (nng_tls_config_free). On failure nothing is returned, *ret_field
 * (if not NULL) names the setting at fault and why gets a one-line reason
 * that names the file. Errors: DTX_EINVAL (bad or missing setting, a
 * file that cannot be read or parsed, a key that does not match, an
 * expired certificate), DTX_ENOMEM. Thread-safe. */
int tlsconf_load(const tlsconf_files *f, tlsconf_mode mode,
                 nng_tls_config **ret_cfg, tlsconf_field *ret_field, char *why,
                 size_t len);

#endif
