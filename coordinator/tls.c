/*
 * tls.c - dtxd's TLS configurations (see tls.h).
 *
 * Owns the nng TLS configurations of the three roles and their
 * replacement at SIGHUP. The files are read and checked by
 * common/tlsconf.c, which dc_config_finish ran once already, so a start
 * fails here only if a file changed in between.
 *
 * Must never: free a configuration a socket may still point to (nng
 * keeps the socket option as a bare pointer and gives it to every
 * listener and dialer it makes later).
 */
#include "tls.h"

#include <stdio.h>
#include <stdlib.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include <dtx/dtx.h>

#define ROLES 3

struct dc_tls {
	nng_tls_config *cur[ROLES];  /* what the sockets were given */
	nng_tls_config *prev[ROLES]; /* replaced by a reload, until commit */
	bool staged;
};

static void free_set(nng_tls_config **set)
{
	for (int r = 0; r < ROLES; r++) {
		if (set[r] != NULL)
			nng_tls_config_free(set[r]);
		set[r] = NULL;
	}
}

/* load_set loads every role of cfg that uses TLS (and had it, when only
 * is not NULL) into set. */
static int load_set(const dc_config *cfg, nng_tls_config *const *only,
                    nng_tls_config **set, char *errbuf, size_t errlen)
{
	static const char *const roles[ROLES] = {
	        "--listen", "--admin", "branch calls to participants"};
	tlsconf_files f;
	tlsconf_field field;
	char why[400];
	int rv;

	for (int r = 0; r < ROLES; r++) {
		if (!dc_config_tls_files(cfg, (dc_tls_role)r, &f) ||
		    (only != NULL && only[r] == NULL))
			continue;
		rv = tlsconf_load(
		        &f, r == DC_TLS_CALLS ? TLSCONF_CLIENT : TLSCONF_SERVER,
		        &set[r], &field, why, sizeof(why));
		if (rv != DTX_OK) {
			snprintf(errbuf, errlen, "%s: %s (for %s)",
			         dc_config_tls_flag((dc_tls_role)r, field), why,
			         roles[r]);
			free_set(set);
			return rv;
		}
	}
	return DTX_OK;
}

int dc_tls_create(const dc_config *cfg, dc_tls **ret_tls, char *errbuf,
                  size_t errlen)
{
	dc_tls *t = calloc(1, sizeof(*t));
	int rv;

	if (t == NULL)
		return DTX_ENOMEM;
	rv = load_set(cfg, NULL, t->cur, errbuf, errlen);
	if (rv != DTX_OK) {
		free(t);
		return rv;
	}
	*ret_tls = t;
	return DTX_OK;
}

nng_tls_config *dc_tls_get(const dc_tls *tls, dc_tls_role role)
{
	if (tls == NULL || role < 0 || role >= ROLES)
		return NULL;
	return tls->cur[role];
}

int dc_tls_reload(dc_tls *tls, const dc_config *cfg, char *errbuf,
                  size_t errlen)
{
	nng_tls_config *next[ROLES] = {NULL};
	int rv;

	dc_tls_commit(tls); /* a reload before: its sockets took it */
	rv = load_set(cfg, tls->cur, next, errbuf, errlen);
	if (rv != DTX_OK)
		return rv;
	for (int r = 0; r < ROLES; r++) {
		tls->prev[r] = tls->cur[r];
		tls->cur[r] = next[r] != NULL ? next[r] : tls->cur[r];
		if (next[r] == NULL)
			tls->prev[r] = NULL;
	}
	tls->staged = true;
	return DTX_OK;
}

void dc_tls_commit(dc_tls *tls)
{
	if (tls == NULL || !tls->staged)
		return;
	free_set(tls->prev);
	tls->staged = false;
}

void dc_tls_destroy(dc_tls *tls)
{
	if (tls == NULL)
		return;
	free_set(tls->prev);
	free_set(tls->cur);
	free(tls);
}
