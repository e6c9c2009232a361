/*
 * tls.h - dtxd's TLS configurations: one per use of its --tls-* settings
 * (the client endpoint, the admin endpoint, branch calls as a client),
 * loaded from their files at start and again at SIGHUP.
 *
 * The transport (transport_nng.c) gives them to its sockets; nng keeps
 * only a pointer per socket, so a dc_tls outlives the sockets it was
 * given to, and a reload keeps the configurations it replaces until the
 * sockets were given the new ones (dc_tls_commit).
 */
#ifndef DTX_COORDINATOR_TLS_H
#define DTX_COORDINATOR_TLS_H

#include <stddef.h>

#include "config.h"

typedef struct dc_tls dc_tls;

/* dc_tls_create loads the TLS files of each role of cfg (borrowed) that
 * uses TLS (dc_config_tls_files) into *ret_tls (owned by the caller). A
 * problem is written to errbuf naming the setting and the file. Errors:
 * DTX_EINVAL, DTX_ENOMEM. */
int dc_tls_create(const dc_config *cfg, dc_tls **ret_tls, char *errbuf,
                  size_t errlen);

/* dc_tls_get is role's configuration (borrowed, valid until the next
 * dc_tls_commit or dc_tls_destroy), or NULL when the role has none. */
nng_tls_config *dc_tls_get(const dc_tls *tls, dc_tls_role role);

/* dc_tls_reload loads cfg's TLS files again into a staged set, all or
 * nothing: dc_tls_get then returns the staged configurations (for the
 * caller to give to its sockets), and dc_tls_commit frees the old ones.
 * A role that had no TLS at start gets none (a new endpoint needs a
 * restart). Errors: those of dc_tls_create; nothing changes then. */
int dc_tls_reload(dc_tls *tls, const dc_config *cfg, char *errbuf,
                  size_t errlen);

/* dc_tls_commit frees the configurations a dc_tls_reload replaced, once
 * every socket was given the new ones. */
void dc_tls_commit(dc_tls *tls);

/* dc_tls_destroy frees every configuration. Call it after the sockets
 * that were given them are closed. Accepts NULL. */
void dc_tls_destroy(dc_tls *tls);

#endif
