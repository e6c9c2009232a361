/*
 * tlsconf.c - TLS settings from PEM files (see tlsconf.h).
 *
 * Owns the reading of certificate, key and CA files and their checks, done
 * with mbedTLS (the library nng 1.5.2's TLS is built on) before nng sees
 * them: nng would take a key that does not match its certificate, or an
 * expired certificate, and every handshake would then fail with nothing
 * said. The only file that includes mbedTLS.
 *
 * Must never: keep a file's bytes after the call (a key is wiped before it
 * is freed), or read more than TLSCONF_FILE_MAX bytes of one file.
 */
#include "tlsconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include <dtx/dtx.h>

/* A PEM file's bytes, NUL-terminated (mbedTLS's PEM parser wants the
 * terminator counted in the length). */
typedef struct pem {
	char *buf;
	size_t len; /* without the NUL */
} pem;

static void pem_free(pem *p)
{
	if (p->buf != NULL) {
		memset(p->buf, 0, p->len); /* a key's bytes do not linger */
		free(p->buf);
	}
	p->buf = NULL;
	p->len = 0;
}

/* read_pem reads path into p, at most TLSCONF_FILE_MAX bytes. */
static int read_pem(const char *path, pem *p, char *why, size_t len)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	p->buf = NULL;
	p->len = 0;
	if (f == NULL) {
		snprintf(why, len, "cannot read %s: %s", path, strerror(errno));
		return DTX_EINVAL;
	}
	p->buf = malloc(TLSCONF_FILE_MAX + 1);
	if (p->buf == NULL) {
		fclose(f);
		return DTX_ENOMEM;
	}
	n = fread(p->buf, 1, TLSCONF_FILE_MAX + 1, f);
	if (ferror(f) || n > TLSCONF_FILE_MAX || n == 0) {
		snprintf(why, len, "cannot read %s: %s", path,
		         ferror(f) ? strerror(errno)
		         : n == 0  ? "the file is empty"
		                   : "larger than 1 MiB");
		fclose(f);
		pem_free(p);
		return DTX_EINVAL;
	}
	fclose(f);
	p->buf[n] = '\0';
	p->len = n;
	return DTX_OK;
}

static void mbed_why(int rv, char *buf, size_t len)
{
	mbedtls_strerror(rv, buf, len);
}

/* check_cert parses a certificate chain and refuses one whose first
 * certificate (ours) has expired. */
static int check_cert(const char *path, const pem *p, bool own,
                      mbedtls_x509_crt *crt, char *why, size_t len)
{
	char detail[160];
	int rv = mbedtls_x509_crt_parse(crt, (const unsigned char *)p->buf,
	                                p->len + 1);

	if (rv != 0) {
		mbed_why(rv, detail, sizeof(detail));
		snprintf(why, len, "%s is not a PEM certificate: %s", path,
		         detail);
		return DTX_EINVAL;
	}
	if (own && mbedtls_x509_time_is_past(&crt->valid_to)) {
		snprintf(detail, sizeof(detail),
		         "expired on %04d-%02d-%02d %02d:%02d:%02d UTC",
		         crt->valid_to.year, crt->valid_to.mon,
		         crt->valid_to.day, crt->valid_to.hour,
		         crt->valid_to.min, crt->valid_to.sec);
		snprintf(why, len, "the certificate in %s %s", path, detail);
		return DTX_EINVAL;
	}
	return DTX_OK;
}

/* check_key parses the key (with its passphrase) and checks that it is
 * the private half of crt's public key. */
static int check_key(const tlsconf_files *f, const pem *p,
                     mbedtls_x509_crt *crt, tlsconf_field *ret_field, char *why,
                     size_t len)
{
	const char *pass = f->key_pass != NULL ? f->key_pass : "";
	char detail[160];
	mbedtls_pk_context pk;
	int rv;

	mbedtls_pk_init(&pk);
	rv = mbedtls_pk_parse_key(&pk, (const unsigned char *)p->buf,
	                          p->len + 1, (const unsigned char *)pass,
	                          strlen(pass));
	if (rv == MBEDTLS_ERR_PK_PASSWORD_REQUIRED ||
	    rv == MBEDTLS_ERR_PK_PASSWORD_MISMATCH) {
		*ret_field = TLSCONF_F_KEY_PASS;
		snprintf(why, len, "the key in %s %s", f->key,
		         f->key_pass == NULL
		                 ? "is encrypted: give its passphrase"
		                 : "does not open with this passphrase");
	} else if (rv != 0) {
		mbed_why(rv, detail, sizeof(detail));
		snprintf(why, len, "%s is not a PEM private key: %s", f->key,
		         detail);
	} else if (mbedtls_pk_check_pair(&crt->pk, &pk) != 0) {
		snprintf(why, len,
		         "the key in %s does not match the "
		         "certificate in %s",
		         f->key, f->cert);
		rv = -1;
	}
	mbedtls_pk_free(&pk);
	return rv == 0 ? DTX_OK : DTX_EINVAL;
}

bool tlsconf_is_tls_url(const char *url)
{
	return url != NULL && strncmp(url, "tls+tcp", 7) == 0;
}

bool tlsconf_is_set(const tlsconf_files *f)
{
	return f != NULL && (f->cert != NULL || f->ca != NULL);
}

/* check_settings refuses combinations that cannot work for mode. */
static int check_settings(const tlsconf_files *f, tlsconf_mode mode,
                          tlsconf_field *ret_field, char *why, size_t len)
{
	if ((f->cert == NULL) != (f->key == NULL)) {
		*ret_field = f->cert == NULL ? TLSCONF_F_CERT : TLSCONF_F_KEY;
		snprintf(why, len,
		         "a certificate and its key go together: "
		         "give both or neither");
		return DTX_EINVAL;
	}
	if (mode == TLSCONF_SERVER && f->cert == NULL) {
		*ret_field = TLSCONF_F_CERT;
		snprintf(why, len,
		         "a tls+tcp:// listener needs a certificate "
		         "and its key");
		return DTX_EINVAL;
	}
	if (f->ca == NULL && (mode == TLSCONF_CLIENT || f->require_peer_cert)) {
		*ret_field = mode == TLSCONF_CLIENT ? TLSCONF_F_CA
		                                    : TLSCONF_F_REQUIRE;
		snprintf(why, len,
		         mode == TLSCONF_CLIENT
		                 ? "a tls+tcp:// client checks its server's "
		                   "certificate: give the CA it chains to"
		                 : "requiring client certificates needs the CA "
		                   "they chain to");
		return DTX_EINVAL;
	}
	return DTX_OK;
}

/* The files of one load, parsed. */
typedef struct loaded {
	pem cert, key, ca;
	mbedtls_x509_crt crt, cas;
} loaded;

static void loaded_fini(loaded *l)
{
	pem_free(&l->cert);
	pem_free(&l->key);
	pem_free(&l->ca);
	mbedtls_x509_crt_free(&l->crt);
	mbedtls_x509_crt_free(&l->cas);
}

/* read_all reads and checks every file f names into l. */
static int read_all(const tlsconf_files *f, loaded *l, tlsconf_field *ret_field,
                    char *why, size_t len)
{
	int rv = DTX_OK;

	if (f->cert != NULL) {
		*ret_field = TLSCONF_F_CERT;
		rv = read_pem(f->cert, &l->cert, why, len);
		if (rv == DTX_OK)
			rv = check_cert(f->cert, &l->cert, true, &l->crt, why,
			                len);
		if (rv != DTX_OK)
			return rv;
		*ret_field = TLSCONF_F_KEY;
		rv = read_pem(f->key, &l->key, why, len);
		if (rv == DTX_OK)
			rv = check_key(f, &l->key, &l->crt, ret_field, why,
			               len);
		if (rv != DTX_OK)
			return rv;
	}
	if (f->ca != NULL) {
		*ret_field = TLSCONF_F_CA;
		rv = read_pem(f->ca, &l->ca, why, len);
		if (rv == DTX_OK)
			rv = check_cert(f->ca, &l->ca, false, &l->cas, why,
			                len);
	}
	return rv;
}

/* make_config hands the checked PEM text to a new nng configuration. */
static int make_config(const tlsconf_files *f, tlsconf_mode mode,
                       const loaded *l, nng_tls_config **ret_cfg)
{
	nng_tls_config *cfg;
	nng_tls_auth_mode auth = NNG_TLS_AUTH_MODE_REQUIRED;
	int rv;

	rv = nng_tls_config_alloc(&cfg, mode == TLSCONF_SERVER
	                                        ? NNG_TLS_MODE_SERVER
	                                        : NNG_TLS_MODE_CLIENT);
	if (rv != 0)
		return rv == NNG_ENOMEM ? DTX_ENOMEM : DTX_EINVAL;
	if (mode == TLSCONF_SERVER && !f->require_peer_cert)
		auth = NNG_TLS_AUTH_MODE_NONE;
	rv = nng_tls_config_version(cfg, NNG_TLS_1_2, NNG_TLS_1_2);
	if (rv == 0 && l->cert.buf != NULL)
		rv = nng_tls_config_own_cert(cfg, l->cert.buf, l->key.buf,
		                             f->key_pass);
	if (rv == 0 && l->ca.buf != NULL)
		rv = nng_tls_config_ca_chain(cfg, l->ca.buf, NULL);
	if (rv == 0)
		rv = nng_tls_config_auth_mode(cfg, auth);
	if (rv != 0) {
		nng_tls_config_free(cfg);
		return rv == NNG_ENOMEM ? DTX_ENOMEM : DTX_EINVAL;
	}
	*ret_cfg = cfg;
	return DTX_OK;
}

int tlsconf_load(const tlsconf_files *f, tlsconf_mode mode,
                 nng_tls_config **ret_cfg, tlsconf_field *ret_field, char *why,
                 size_t len)
{
	tlsconf_field field = TLSCONF_F_CERT;
	loaded l;
	int rv;

	memset(&l, 0, sizeof(l));
	mbedtls_x509_crt_init(&l.crt);
	mbedtls_x509_crt_init(&l.cas);
	rv = check_settings(f, mode, &field, why, len);
	if (rv == DTX_OK)
		rv = read_all(f, &l, &field, why, len);
	if (rv == DTX_OK) {
		rv = make_config(f, mode, &l, ret_cfg);
		if (rv != DTX_OK)
			snprintf(why, len, "nng refused the TLS settings: %s",
			         dtx_strerror(rv));
	}
	loaded_fini(&l);
	if (rv != DTX_OK && ret_field != NULL)
		*ret_field = field;
	return rv;
}
