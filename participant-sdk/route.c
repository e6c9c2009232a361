/*
 * route.c - which coordinator a client request goes to (see route.h).
 *
 * Design (issue 15, clients that follow). dtx_client_open takes one URL
 * or a comma-separated list: the coordinators of one deployment, LMDB
 * instances that each own one shard (dtxd --shards M --shard N) or, later,
 * instances that hold shard leases on one PostgreSQL. Every gid belongs
 * to one shard (common/shard.h) and only the shard's owner serves it; any
 * instance takes a submit without gid (it makes an id of its own shard).
 *
 * What the client knows, all learned from the coordinators themselves:
 *   - each coordinator's topology (a Topology request, asked by the
 *     client's keeper thread when a link is up and the client is
 *     multi): M and the shards it owns, the owners it knows (--peer);
 *   - a map shard -> coordinator, filled from those answers and from
 *     every DTX_EMOVED answer (the gid's shard and the owner's URL, which
 *     is checked with wire_url_check like any URL and may add a
 *     coordinator, at most ROUTE_COORDS_MAX in all).
 *
 * Where a request goes (sdk_route_pick):
 *   - without gid: to a coordinator whose link is up, taking them in
 *     turn so the load spreads; one that could not be sent to is skipped
 *     for the rest of that request (client.c tries the next at once: a
 *     request that was never sent cannot have started anything);
 *   - with a gid: to its shard's owner when known; else to a coordinator
 *     that may own it (topology unknown, or it owns the shard), which
 *     answers or redirects. An owner that is down is waited for, in
 *     short attempts, until the request's deadline: a failover costs
 *     latency (later, another instance takes the shard and the map
 *     follows its topology), DTX_EUNREACHABLE only at the deadline.
 * Redirects go round while shards move: after ROUTE_HOPS_MAX in a row a
 * request pauses and starts over, until its deadline (client.c: follow).
 *
 * Owns the coordinators' links and the map. Never sends anything (client.c
 * does); never blocks (nng's dialers start in the background). Threads:
 * every function may run on any thread; rt->mu guards the table and the
 * map; links are appended only, so an index stays valid for rt's life.
 */
#include "route.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "shard.h"

typedef struct coord {
	sdk_link *link;                     /* owned */
	bool topo_known;                    /* its topology answered */
	bool topo_asking;                   /* a Topology request in flight */
	bool warned;                        /* a shard count mismatch logged */
	uint8_t owned[SHARD_COUNT_MAX / 8]; /* when topo_known */
} coord;

struct sdk_route {
	pthread_mutex_t mu;
	size_t max_msg;
	nng_tls_config *tls; /* retained: for tls+tcp:// links; or NULL */
	coord coords[ROUTE_COORDS_MAX]; /* guarded by mu; appended only */
	size_t n;
	bool sharded;                   /* a coordinator answered DTX_EMOVED */
	uint32_t shards;                /* M as learned; 0 = not yet */
	int16_t owner[SHARD_COUNT_MAX]; /* coordinator index, -1 = unknown */
	unsigned next;                  /* turn of the next gid-less request */
};

/* ---- the table --------------------------------------------------------- */

/* add_locked opens a link to url (borrowed) as coordinator n; returns its
 * index or -1 (table full, or nng refused). */
static int add_locked(sdk_route *rt, const char *url)
{
	int rv;

	for (size_t i = 0; i < rt->n; i++)
		if (strcmp(sdk_link_url(rt->coords[i].link), url) == 0)
			return (int)i;
	if (rt->n == ROUTE_COORDS_MAX)
		return -1;
	if ((rv = sdk_link_open(url, rt->max_msg, rt->tls,
	                        &rt->coords[rt->n].link)) != DTX_OK) {
		sdk_logf(DTX_LOG_WARN, "client: cannot open %s: %s", url,
		         dtx_strerror(rv));
		return -1;
	}
	return (int)rt->n++;
}

/* next_url finds the end of the URL at s in a list: the next comma that
 * a scheme ("[a-z0-9+.-]+://") follows, or the end. */
static const char *next_url(const char *s)
{
	for (const char *p = strchr(s, ','); p != NULL;
	     p = strchr(p + 1, ',')) {
		const char *q = p + 1;
		while ((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') ||
		       *q == '+' || *q == '.' || *q == '-')
			q++;
		if (q > p + 1 && strncmp(q, "://", 3) == 0)
			return p;
	}
	return s + strlen(s);
}

static int open_all(sdk_route *rt, const char *list)
{
	const char *s = list;

	while (*s != '\0' || s == list) {
		const char *end = next_url(s);
		char *url = strndup(s, (size_t)(end - s));
		int rv = DTX_OK;

		if (url == NULL)
			return DTX_ENOMEM;
		if (end == s || rt->n == ROUTE_GIVEN_MAX)
			rv = DTX_EINVAL;
		else if ((rv = sdk_link_open(url, rt->max_msg, rt->tls,
		                             &rt->coords[rt->n].link)) ==
		         DTX_OK)
			rt->n++;
		free(url);
		if (rv != DTX_OK)
			return rv;
		s = *end == ',' ? end + 1 : end;
	}
	return DTX_OK;
}

int sdk_route_create(const char *list, size_t max_msg, nng_tls_config *tls,
                     sdk_route **ret_rt)
{
	sdk_route *rt = calloc(1, sizeof(*rt));
	int rv;

	if (rt == NULL)
		return DTX_ENOMEM;
	if (pthread_mutex_init(&rt->mu, NULL) != 0) {
		free(rt);
		return DTX_ENOMEM;
	}
	rt->max_msg = max_msg;
	rt->tls = tls;
	for (size_t i = 0; i < SHARD_COUNT_MAX; i++)
		rt->owner[i] = -1;
	if ((rv = open_all(rt, list)) != DTX_OK) {
		for (size_t i = 0; i < rt->n;
		     i++) /* no pipe yet: cannot hang */
			sdk_link_close_socket(rt->coords[i].link);
		sdk_route_destroy(rt);
		return rv;
	}
	*ret_rt = rt;
	return DTX_OK;
}

void sdk_route_destroy(sdk_route *rt)
{
	if (rt == NULL)
		return;
	for (size_t i = 0; i < rt->n; i++)
		sdk_link_free(rt->coords[i].link);
	pthread_mutex_destroy(&rt->mu);
	free(rt);
}

size_t sdk_route_count(sdk_route *rt)
{
	size_t n;

	pthread_mutex_lock(&rt->mu);
	n = rt->n;
	pthread_mutex_unlock(&rt->mu);
	return n;
}

sdk_link *sdk_route_link(sdk_route *rt, size_t i)
{
	return rt->coords[i].link; /* set before n counted it, never moved */
}

bool sdk_route_is_multi(sdk_route *rt)
{
	bool multi;

	pthread_mutex_lock(&rt->mu);
	multi = rt->n > 1 || rt->sharded;
	pthread_mutex_unlock(&rt->mu);
	return multi;
}

uint32_t sdk_route_shards(sdk_route *rt)
{
	uint32_t m;

	pthread_mutex_lock(&rt->mu);
	m = rt->shards;
	pthread_mutex_unlock(&rt->mu);
	return m;
}

/* ---- choosing ---------------------------------------------------------- */

static bool owns(const coord *co, uint32_t shard)
{
	return (co->owned[shard / 8] >> (shard % 8)) & 1u;
}

#define BIT(i) (UINT32_C(1) << (i))

/* pick_any takes the coordinators in turn from rt->next: the first not
 * tried whose link is up, else the first not tried, else (every one
 * tried) starts over. */
static int pick_any(sdk_route *rt, uint32_t *tried)
{
	unsigned start = rt->next++;
	int fallback = -1;

	for (size_t k = 0; k < rt->n; k++) {
		size_t i = (start + k) % rt->n;
		if (*tried & BIT(i))
			continue;
		if (sdk_link_is_up(rt->coords[i].link))
			return (int)i;
		if (fallback < 0)
			fallback = (int)i;
	}
	if (fallback >= 0)
		return fallback;
	*tried = 0;
	return (int)(start % rt->n);
}

/* pick_shard picks for a gid of shard s: its owner, else a coordinator
 * not tried that may own s; -1 if none is left. */
static int pick_shard(sdk_route *rt, uint32_t s, uint32_t *tried)
{
	int o = rt->owner[s];

	if (o >= 0 && !(*tried & BIT(o)))
		return o;
	for (size_t k = 0; k < rt->n; k++) {
		size_t i = (rt->next + k) % rt->n;
		const coord *co = &rt->coords[i];
		if (!(*tried & BIT(i)) && (!co->topo_known || owns(co, s)))
			return (int)i;
	}
	/* after a pause, ask them all again - their topologies too: the
	 * shard moved to an owner none of them knew when it answered
	 * (shard leases: taken by an instance that joined) */
	*tried = 0;
	for (size_t k = 0; k < rt->n; k++)
		if (!rt->coords[k].topo_asking)
			rt->coords[k].topo_known = false;
	return -1;
}

int sdk_route_pick(sdk_route *rt, const char *gid, uint32_t *tried)
{
	int i;

	pthread_mutex_lock(&rt->mu);
	if (gid != NULL && rt->shards > 0)
		i = pick_shard(rt, shard_of_gid(gid, rt->shards), tried);
	else
		i = pick_any(rt, tried);
	pthread_mutex_unlock(&rt->mu);
	return i;
}

/* sdk_route_unsent: a gid's owner that cannot be reached may have lost
 * its shards (shard leases: another instance takes them once its lease
 * ran out), so every coordinator is asked its topology again, not only
 * that one: the new owner's answer moves the map. */
void sdk_route_unsent(sdk_route *rt, const char *gid, int i, uint32_t *tried)
{
	pthread_mutex_lock(&rt->mu);
	if (gid == NULL)
		*tried |= BIT(i);
	else
		for (size_t k = 0; k < rt->n; k++)
			if (!rt->coords[k].topo_asking)
				rt->coords[k].topo_known = false;
	pthread_mutex_unlock(&rt->mu);
}

/* ---- learning ---------------------------------------------------------- */

/* learn_locked records coordinator i's topology t (validated by wire.c:
 * every shard below t->shards <= SHARD_COUNT_MAX, every URL dialable). A
 * topology with another M than the one learned first is logged once and
 * not used: the coordinators disagree, their redirects still lead. */
static void learn_locked(sdk_route *rt, size_t i,
                         const Dtx__V1__TopologyInfo *t)
{
	coord *co = &rt->coords[i];
	int j;

	if (rt->shards == 0)
		rt->shards = t->shards;
	if (t->shards != rt->shards) {
		if (!co->warned)
			sdk_logf(
			        DTX_LOG_WARN,
			        "client: %s has %u shards, another coordinator "
			        "%u: every instance needs the same --shards",
			        sdk_link_url(co->link), (unsigned)t->shards,
			        (unsigned)rt->shards);
		co->warned = true;
		return;
	}
	memset(co->owned, 0, sizeof(co->owned));
	for (size_t k = 0; k < SHARD_COUNT_MAX; k++)
		if (rt->owner[k] == (int16_t)i)
			rt->owner[k] = -1;
	for (size_t k = 0; k < t->n_owned; k++) {
		co->owned[t->owned[k] / 8] |=
		        (uint8_t)(1u << (t->owned[k] % 8));
		rt->owner[t->owned[k]] = (int16_t)i;
	}
	co->topo_known = true;
	for (size_t k = 0; k < t->n_owners; k++) {
		uint32_t s = t->owners[k]->shard;
		if (rt->owner[s] < 0 &&
		    (j = add_locked(rt, t->owners[k]->url)) >= 0)
			rt->owner[s] = (int16_t)j;
	}
}

bool sdk_route_moved(sdk_route *rt, int i, const char *gid,
                     const Dtx__V1__ClientReply *rep, uint32_t *tried)
{
	uint32_t s;
	int j = -1;

	pthread_mutex_lock(&rt->mu);
	rt->sharded = true;
	*tried |= BIT(i);
	if (rep->topology != NULL)
		learn_locked(rt, (size_t)i, rep->topology);
	if (rt->shards > 0 && gid != NULL) {
		s = shard_of_gid(gid, rt->shards);
		if (rt->owner[s] == i)
			rt->owner[s] = -1;
		/* a redirect is hearsay: the named instance's own topology,
		 * when known, wins (two instances that each name the other,
		 * seen late in a hand-over, would otherwise keep r going
		 * round between them and never try the real owner) */
		if (rep->owner_url != NULL &&
		    (j = add_locked(rt, rep->owner_url)) >= 0 && j != i &&
		    (!rt->coords[j].topo_known || owns(&rt->coords[j], s))) {
			rt->owner[s] = (int16_t)j;
			*tried &= ~BIT(j);
		}
	}
	pthread_mutex_unlock(&rt->mu);
	return true;
}

bool sdk_route_topology_due(sdk_route *rt, size_t i)
{
	coord *co;
	bool due;

	pthread_mutex_lock(&rt->mu);
	co = &rt->coords[i];
	due = (rt->n > 1 || rt->sharded) && !co->topo_known &&
	      !co->topo_asking && sdk_link_is_up(co->link);
	if (due)
		co->topo_asking = true;
	pthread_mutex_unlock(&rt->mu);
	return due;
}

void sdk_route_topology_done(sdk_route *rt, size_t i,
                             const Dtx__V1__TopologyInfo *t)
{
	pthread_mutex_lock(&rt->mu);
	rt->coords[i].topo_asking = false;
	if (t != NULL)
		learn_locked(rt, i, t);
	pthread_mutex_unlock(&rt->mu);
}
