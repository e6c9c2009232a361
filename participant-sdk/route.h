/*
 * route.h - libdtx internals: which coordinator a client request goes to
 * (not installed; client.c uses it). See route.c for the design.
 */
#ifndef DTX_SDK_ROUTE_H
#define DTX_SDK_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link.h"
#include "sdk.h"

#define ROUTE_GIVEN_MAX 16 /* URLs one dtx_client_open may list */
#define ROUTE_COORDS_MAX                                                       \
	32 /* coordinators one client knows: given + learned                   \
	    */

typedef struct sdk_route sdk_route;

/* sdk_route_create opens a link (link.h) to every URL of list (borrowed):
 * one URL, or several separated by commas (a comma starts a new URL only
 * when a scheme "xxx://" follows it, so an ipc path may hold commas).
 * Errors: DTX_EINVAL (an empty URL, more than ROUTE_GIVEN_MAX), those of
 * sdk_link_open. */
int sdk_route_create(const char *list, size_t max_msg, nng_tls_config *tls,
                     sdk_route **ret_rt);

/* sdk_route_destroy frees rt and its links once every link's socket is
 * closed (or never opened). Accepts NULL. */
void sdk_route_destroy(sdk_route *rt);

/* sdk_route_count returns how many coordinators rt knows; coordinator i
 * (0 <= i < count) stays at i with the same link until rt is destroyed.
 * Thread-safe. */
size_t sdk_route_count(sdk_route *rt);
sdk_link *sdk_route_link(sdk_route *rt, size_t i);

/* sdk_route_is_multi: rt knows more than one coordinator, or one answered
 * DTX_EMOVED (a sharded deployment): requests then try again elsewhere;
 * else a request keeps today's single-coordinator behaviour. */
bool sdk_route_is_multi(sdk_route *rt);

/* sdk_route_pick returns the coordinator for a request about gid (NULL:
 * a submit without gid, which any coordinator takes), skipping those in
 * *tried (a bit per coordinator; it may clear them once every candidate
 * was tried). -1: no candidate now (every one said the shard is not
 * theirs, and no owner is known): pause and pick again. Thread-safe. */
int sdk_route_pick(sdk_route *rt, const char *gid, uint32_t *tried);

/* sdk_route_unsent notes that a request about gid could not be sent to
 * coordinator i: one without gid tries another next (*tried), one with a
 * gid waits for the owner (its topology is asked again). */
void sdk_route_unsent(sdk_route *rt, const char *gid, int i, uint32_t *tried);

/* sdk_route_moved learns from rep (borrowed, validated, code DTX_EMOVED)
 * that coordinator i does not own gid's shard: the owner's URL (a new
 * coordinator is added, bounded by ROUTE_COORDS_MAX) and i's topology.
 * Returns true if another coordinator may own it (pick again). */
bool sdk_route_moved(sdk_route *rt, int i, const char *gid,
                     const Dtx__V1__ClientReply *rep, uint32_t *tried);

/* sdk_route_topology_due returns true (and marks the question asked) if
 * coordinator i should be asked its topology now: rt is multi, i's link
 * is up, its topology is unknown and no question is in flight. */
bool sdk_route_topology_due(sdk_route *rt, size_t i);

/* sdk_route_topology_done records coordinator i's answer t (borrowed,
 * validated; NULL: the question failed, ask again later). */
void sdk_route_topology_done(sdk_route *rt, size_t i,
                             const Dtx__V1__TopologyInfo *t);

/* sdk_route_shards returns the deployment's shard count as learned (0 =
 * not yet). */
uint32_t sdk_route_shards(sdk_route *rt);

#endif
