/*
 * acl.c - the admin endpoint's allow lists and an operator's identity (see
 * acl.h).
 *
 * Owns nothing but the lists it is given. Never trusts a name a client
 * sends when the kernel said who the peer is; never prints: callers log.
 */
#include "acl.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dtx/dtx.h>

#define NSS_BUF 16384 /* getpwnam_r / getgrnam_r scratch */

/* id_of reads one item of a list: a number, or a user (gid: group) name
 * looked up in the system's databases. */
static int id_of(bool gid, const char *item, uint32_t *ret_id)
{
	char buf[NSS_BUF], *end;
	unsigned long v;
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;

	errno = 0;
	v = strtoul(item, &end, 10);
	if (item[0] >= '0' && item[0] <= '9' && *end == '\0' && errno == 0 &&
	    v <= UINT32_MAX - 1) {
		*ret_id = (uint32_t)v;
		return DTX_OK;
	}
	if (gid) {
		if (getgrnam_r(item, &gr, buf, sizeof(buf), &grp) != 0 ||
		    grp == NULL)
			return DTX_EINVAL;
		*ret_id = (uint32_t)grp->gr_gid;
		return DTX_OK;
	}
	if (getpwnam_r(item, &pw, buf, sizeof(buf), &pwp) != 0 || pwp == NULL)
		return DTX_EINVAL;
	*ret_id = (uint32_t)pwp->pw_uid;
	return DTX_OK;
}

int dc_acl_add_list(dc_acl *acl, bool gids, const char *list, char *why,
                    size_t whylen)
{
	uint32_t *ids = gids ? acl->gids : acl->uids;
	size_t *n = gids ? &acl->ngids : &acl->nuids;
	const char *s = list;

	do {
		size_t len = strcspn(s, ",");
		char item[256];
		if (len == 0 || len >= sizeof(item)) {
			snprintf(why, whylen,
			         "an empty or overlong item in '%s'", list);
			return DTX_EINVAL;
		}
		memcpy(item, s, len);
		item[len] = '\0';
		if (*n == DC_ACL_MAX) {
			snprintf(why, whylen, "at most %d %s", DC_ACL_MAX,
			         gids ? "groups" : "users");
			return DTX_ELIMIT;
		}
		if (id_of(gids, item, &ids[*n]) != DTX_OK) {
			snprintf(why, whylen, "no such %s: '%s'",
			         gids ? "group" : "user", item);
			return DTX_EINVAL;
		}
		(*n)++;
		s += len;
	} while (*s++ == ',');
	return DTX_OK;
}

bool dc_acl_is_set(const dc_acl *acl)
{
	return acl->nuids > 0 || acl->ngids > 0;
}

static bool listed(const uint32_t *ids, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* in_groups: one of the groups uid's user belongs to is listed. */
static bool in_groups(const dc_acl *acl, uint32_t uid, uint32_t gid)
{
	char buf[NSS_BUF];
	struct passwd pw, *pwp = NULL;
	gid_t groups[256];
	int n = (int)(sizeof(groups) / sizeof(groups[0]));

	if (getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &pwp) != 0 ||
	    pwp == NULL)
		return false;
	if (getgrouplist(pwp->pw_name, (gid_t)gid, groups, &n) < 0)
		n = (int)(sizeof(groups) / sizeof(groups[0])); /* the first */
	for (int i = 0; i < n; i++)
		if (listed(acl->gids, acl->ngids, (uint32_t)groups[i]))
			return true;
	return false;
}

bool dc_acl_allows(const dc_acl *acl, const dc_peer *peer)
{
	if (!dc_acl_is_set(acl))
		return true;
	if (!peer->known)
		return false;
	if (listed(acl->uids, acl->nuids, peer->uid) ||
	    listed(acl->gids, acl->ngids, peer->gid))
		return true;
	return acl->ngids > 0 && in_groups(acl, peer->uid, peer->gid);
}

void dc_acl_who(const dc_peer *peer, const char *claimed, char *out, size_t len)
{
	char buf[NSS_BUF];
	struct passwd pw, *pwp = NULL;

	if (!peer->known) {
		snprintf(out, len, "%.64s (claimed)",
		         claimed != NULL && *claimed ? claimed : "unknown");
		return;
	}
	if (getpwuid_r((uid_t)peer->uid, &pw, buf, sizeof(buf), &pwp) == 0 &&
	    pwp != NULL)
		snprintf(out, len, "%.64s (uid %u)", pwp->pw_name,
		         (unsigned)peer->uid);
	else
		snprintf(out, len, "uid %u", (unsigned)peer->uid);
}
