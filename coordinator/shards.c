/*
 * shards.c - the set of shards this coordinator owns, and the answers to a
 * client that asks the wrong coordinator (see shards.h).
 *
 * Design (issue 15, clients that follow). A deployment has M shards
 * (--shards, 1..1024, the same on every instance); common/shard.c maps
 * every gid to one of them (a made id to the shard bits it carries, any
 * other gid to crc32c mod M). A coordinator serves a request about a gid
 * only if it owns the gid's shard. Otherwise it answers DTX_EMOVED with
 * the gid's shard, the owner's URL when it knows it (--peer SHARD=URL) and
 * its own topology, and does nothing else: never a second transaction in
 * the wrong log. Why a redirect and not forwarding: a forward would hold a
 * request slot and a connection to a peer per request, double the hops of
 * every misrouted request for as long as the client stays wrong, and hide
 * the owner from the client; a redirect costs one round trip once, after
 * which the client (participant-sdk/client.c) sends the shard's requests
 * to its owner directly, and a dead owner costs the client latency (it
 * waits for the owner, or for the next one), not this coordinator's
 * resources.
 *
 * A request without a gid may go anywhere: a submit that asks for a made
 * id gets an id of a shard this coordinator owns (gid_gen carries --shard),
 * so the transaction lands in its own shard's log. A FinalQuery may hold
 * gids of any shard: client_api.c lists only the owned ones as final (an
 * unlisted gid is "not final, keep its records", always safe).
 *
 * Owns: the owned set and the owners' URLs; the EMOVED and Topology
 * replies. Must never: serve or log anything; keep state that a lease
 * store could not refill (the set is the only thing that changes).
 */
#include "shards.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dtx/dtx.h>

#include "lease.h"
#include "wire.h"

/* ---- flags ------------------------------------------------------------- */

/* parse_peer reads "SHARD=URL" into *ret_shard and *ret_url (pointing into
 * arg), or writes why it cannot. */
static int parse_peer(const char *arg, uint32_t nshards, uint32_t *ret_shard,
                      const char **ret_url, char *why, size_t len)
{
	char *end = NULL;
	unsigned long n = 0;
	char err[160];

	if (arg[0] >= '0' && arg[0] <= '9')
		n = strtoul(arg, &end, 10);
	if (end == NULL || *end != '=' || n >= nshards) {
		snprintf(why, len,
		         "--peer %.64s: expected SHARD=URL with SHARD in 0..%u",
		         arg, (unsigned)nshards - 1);
		return DTX_EINVAL;
	}
	if (wire_url_check(end + 1, err, sizeof(err)) != DTX_OK) {
		snprintf(why, len, "--peer %.64s: %s", arg, err);
		return DTX_EINVAL;
	}
	*ret_shard = (uint32_t)n;
	*ret_url = end + 1;
	return DTX_OK;
}

/* is_self: peer (shard, url) names this instance itself - its own shard at
 * its --advertise URL. Such an entry is allowed and skipped, so one --peer
 * list (a StatefulSet's ConfigMap) serves every member; the own shard at
 * another URL stays an error (two owners of one shard). */
static bool is_self(const dc_config *cfg, uint32_t shard, const char *url)
{
	return shard == cfg->shard && cfg->advertise != NULL &&
	       strcmp(url, cfg->advertise) == 0;
}

/* check_peers checks every --peer of cfg: parsed, another shard (or this
 * instance itself, see is_self), once. */
static int check_peers(const dc_config *cfg, char *why, size_t len)
{
	uint8_t seen[SHARD_COUNT_MAX];
	uint32_t shard;
	const char *url;
	bool clash;

	if (cfg->npeers > 0 && cfg->nshards <= 1) {
		snprintf(why, len, "--peer needs --shards 2 or more");
		return DTX_EINVAL;
	}
	memset(seen, 0, sizeof(seen));
	for (size_t i = 0; i < cfg->npeers; i++) {
		if (parse_peer(cfg->peers[i], cfg->nshards, &shard, &url, why,
		               len) != DTX_OK)
			return DTX_EINVAL;
		clash = shard == cfg->shard && !is_self(cfg, shard, url);
		if (seen[shard] || clash) {
			snprintf(why, len, "--peer %.64s: shard %u is %s",
			         cfg->peers[i], (unsigned)shard,
			         seen[shard] ? "named twice"
			                     : "this instance's own (--shard) "
			                       "and the URL is not its "
			                       "--advertise");
			return DTX_EINVAL;
		}
		seen[shard] = 1;
	}
	return DTX_OK;
}

/* check_lease_flags: instances that lease their shards (leases.c) need a
 * name the lease records can hold, and learn the owners from the store,
 * not from --peer. */
static int check_lease_flags(const dc_config *cfg, char *why, size_t len)
{
	if (!dc_lease_name_ok(cfg->instance)) {
		snprintf(why, len,
		         "--instance %.64s: instances that lease shards on a "
		         "PostgreSQL store need a name of 1..%d of "
		         "[A-Za-z0-9._-]",
		         cfg->instance, DC_LEASE_NAME_MAX);
		return DTX_EINVAL;
	}
	if (cfg->npeers > 0) {
		snprintf(why, len,
		         "--peer: instances that lease shards learn "
		         "their owners from the store");
		return DTX_EINVAL;
	}
	return DTX_OK;
}

int dc_shards_check_config(const dc_config *cfg, char *why, size_t len)
{
	char err[160];
	size_t n = cfg->instance != NULL ? strlen(cfg->instance) : 0;

	if (cfg->advertise != NULL &&
	    wire_url_check(cfg->advertise, err, sizeof(err)) != DTX_OK) {
		snprintf(why, len, "--advertise %.64s: %s", cfg->advertise,
		         err);
		return DTX_EINVAL;
	}
	if (n == 0 || n > WIRE_INSTANCE_MAX ||
	    !wire_utf8_is_valid(cfg->instance, n)) {
		snprintf(why, len,
		         "--instance: expected 1..%d bytes of UTF-8 text",
		         WIRE_INSTANCE_MAX);
		return DTX_EINVAL;
	}
	if (dc_config_leases(cfg))
		return check_lease_flags(cfg, why, len);
	return check_peers(cfg, why, len);
}

void dc_shards_init(dc_shards *s, const dc_config *cfg)
{
	uint32_t own = cfg->nshards > 1 ? cfg->shard : 0;
	uint32_t shard;
	const char *url;

	memset(s, 0, sizeof(*s));
	s->count = cfg->nshards > 1 ? cfg->nshards : 1;
	s->owned[own / 8] |= (uint8_t)(1u << (own % 8));
	s->instance = cfg->instance;
	s->url = cfg->advertise;
	s->max_msg_bytes = cfg->max_msg_bytes;
	for (size_t i = 0; i < cfg->npeers; i++)
		if (parse_peer(cfg->peers[i], s->count, &shard, &url, NULL,
		               0) == DTX_OK &&
		    !is_self(cfg, shard, url))
			s->owner_url[shard] = url;
}

/* ---- the check --------------------------------------------------------- */

static bool owns(const dc_shards *s, uint32_t shard)
{
	return (s->owned[shard / 8] >> (shard % 8)) & 1u;
}

bool dc_shards_owns_gid(const dc_shards *s, const char *gid)
{
	return owns(s, shard_of_gid(gid, s->count));
}

/* gid_of returns the gid msg is about, or NULL if it names none. */
static const char *gid_of(const Dtx__V1__ClientRequest *m)
{
	switch (m->body_case) {
	case DTX__V1__CLIENT_REQUEST__BODY_SUBMIT:
		return m->submit->gid;
	case DTX__V1__CLIENT_REQUEST__BODY_SUBMIT_TCC:
		return m->submit_tcc->gid;
	case DTX__V1__CLIENT_REQUEST__BODY_BEGIN_TCC:
		return m->begin_tcc->gid;
	case DTX__V1__CLIENT_REQUEST__BODY_REGISTER:
		return m->register_->gid;
	case DTX__V1__CLIENT_REQUEST__BODY_FINISH:
		return m->finish->gid;
	case DTX__V1__CLIENT_REQUEST__BODY_QUERY:
		return m->query->gid;
	default:
		return NULL;
	}
}

/* own_list fills own (s->count entries) with the shards s owns; returns
 * how many. */
static size_t own_list(const dc_shards *s, uint32_t *own)
{
	size_t n = 0;

	for (uint32_t i = 0; i < s->count; i++)
		if (owns(s, i))
			own[n++] = i;
	return n;
}

/* fill_topology fills t with s's topology, the owned shards in own
 * (SHARD_COUNT_MAX entries, borrowed by t), no owners. */
static void fill_topology(const dc_shards *s, Dtx__V1__TopologyInfo *t,
                          uint32_t *own)
{
	t->instance = (char *)s->instance;
	t->has_shards = 1;
	t->shards = s->count;
	t->n_owned = own_list(s, own);
	t->owned = own;
	t->url = (char *)s->url;
}

bool dc_shards_refuse(const dc_shards *s, dc_request *req,
                      const Dtx__V1__ClientRequest *msg)
{
	Dtx__V1__ClientReply rep = DTX__V1__CLIENT_REPLY__INIT;
	Dtx__V1__TopologyInfo t = DTX__V1__TOPOLOGY_INFO__INIT;
	uint32_t own[SHARD_COUNT_MAX];
	const char *gid = gid_of(msg);
	uint32_t shard;
	char text[WIRE_MESSAGE_MAX / 2];

	if (gid == NULL || owns(s, shard = shard_of_gid(gid, s->count)))
		return false;
	fill_topology(s, &t, own);
	snprintf(text, sizeof(text),
	         "gid %s is in shard %u of %u, not owned by this coordinator "
	         "(%s); its owner: %s",
	         gid, (unsigned)shard, (unsigned)s->count, s->instance,
	         s->owner_url[shard] != NULL ? s->owner_url[shard]
	                                     : "unknown here");
	rep.has_version = rep.has_code = rep.has_shard = 1;
	rep.version = DTX__V1__VERSION__VERSION_1;
	rep.code = DTX__V1__CODE__CODE_EMOVED;
	rep.message = text;
	rep.topology = &t;
	rep.owner_url = (char *)s->owner_url[shard];
	rep.shard = shard;
	dc_request_reply(req, &rep);
	return true;
}

/* ---- Topology ---------------------------------------------------------- */

void dc_shards_answer_topology(const dc_shards *s, dc_request *req)
{
	Dtx__V1__ClientReply rep = DTX__V1__CLIENT_REPLY__INIT;
	Dtx__V1__TopologyInfo t = DTX__V1__TOPOLOGY_INFO__INIT;
	uint32_t own[SHARD_COUNT_MAX];
	Dtx__V1__ShardOwner o[SHARD_COUNT_MAX]; /* ~40 KiB: the loop's stack */
	Dtx__V1__ShardOwner *op[SHARD_COUNT_MAX];

	fill_topology(s, &t, own);
	for (uint32_t i = 0; i < s->count; i++) {
		if (s->owner_url[i] == NULL)
			continue;
		dtx__v1__shard_owner__init(&o[t.n_owners]);
		o[t.n_owners].has_shard = 1;
		o[t.n_owners].shard = i;
		o[t.n_owners].url = (char *)s->owner_url[i];
		op[t.n_owners] = &o[t.n_owners];
		t.n_owners++;
	}
	t.owners = op;
	rep.has_version = rep.has_code = 1;
	rep.version = DTX__V1__VERSION__VERSION_1;
	rep.code = DTX__V1__CODE__CODE_OK;
	rep.topology = &t;
	if (wire_packed_size(&rep.base) > s->max_msg_bytes)
		t.n_owners = 0; /* clients learn owners from redirects */
	dc_request_reply(req, &rep);
}

bool dc_shards_owns_shard(const dc_shards *s, uint32_t shard)
{
	return shard < s->count && owns(s, shard);
}

void dc_shards_set_owned(dc_shards *s, uint32_t shard, bool owned)
{
	if (shard >= s->count)
		return;
	if (owned)
		s->owned[shard / 8] |= (uint8_t)(1u << (shard % 8));
	else
		s->owned[shard / 8] &= (uint8_t) ~(1u << (shard % 8));
}
