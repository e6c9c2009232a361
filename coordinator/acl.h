/*
 * acl.h - who an operator is, and whether the admin endpoint lets them in
 * (dtxd --admin-allow-uid / --admin-allow-gid).
 *
 * On an ipc:// admin endpoint the kernel tells dtxd the peer's uid and gid
 * (nng 1.5.2: NNG_OPT_IPC_PEER_UID / _GID on the pipe): that is who acts,
 * whatever name the client claims. Over TCP there is no such thing: the
 * name the client sends is recorded, marked as claimed.
 */
#ifndef DTX_COORDINATOR_ACL_H
#define DTX_COORDINATOR_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DC_ACL_MAX     64  /* uids, and gids, one list may name */
#define DC_ACL_WHO_MAX 160 /* bytes of an identity line, with its NUL */

/* The allowed uids and gids; both lists empty = everyone (no flag). */
typedef struct dc_acl {
	uint32_t uids[DC_ACL_MAX];
	size_t nuids;
	uint32_t gids[DC_ACL_MAX];
	size_t ngids;
} dc_acl;

/* What an endpoint knows of a request's peer. */
typedef struct dc_peer {
	bool known; /* uid and gid are the kernel's (an ipc:// peer) */
	uint32_t uid;
	uint32_t gid;
	uint32_t pid;
} dc_peer;

/* dc_acl_add_list adds list, comma-separated user (gids: false) or group
 * names or numbers, to acl. Errors: DTX_EINVAL (an unknown name, a bad
 * number, an empty item: why says which), DTX_ELIMIT (past DC_ACL_MAX). */
int dc_acl_add_list(dc_acl *acl, bool gids, const char *list, char *why,
                    size_t whylen);

/* dc_acl_is_set: acl restricts anyone. */
bool dc_acl_is_set(const dc_acl *acl);

/* dc_acl_allows tells whether peer may use the admin endpoint: acl not
 * set, or a known peer whose uid is listed, or whose gid or one of its
 * user's groups is. An unknown peer (TCP) is allowed only if acl is not
 * set. Reads the user and group databases (getpwuid_r, getgrouplist). */
bool dc_acl_allows(const dc_acl *acl, const dc_peer *peer);

/* dc_acl_who writes the identity recorded for an operator action into
 * out: "alice (uid 1000)" for a known peer, "bob (claimed)" for a name
 * the client sent over TCP (claimed NULL or empty: "unknown (claimed)"). */
void dc_acl_who(const dc_peer *peer, const char *claimed, char *out,
                size_t len);

#endif
