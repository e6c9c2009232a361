/*
 * chaos.h - what the modules of dtx-chaos (the chaos harness) share: the
 * roles of the processes it runs, the clock, and the few limits every
 * module bounds its loops with.
 *
 * Nothing here has state; each module's own header says what it owns.
 */
#ifndef DTX_CHAOS_H
#define DTX_CHAOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shop_common.h"

/* The processes of a run. The four services keep the shop's ids
 * (SHOP_SVC_ORDER .. SHOP_SVC_DELIVERY) so a service id is a role. With
 * --store postgresql --instances N, dtxd instances 2..N are ROLE_DTXD+1
 * .. ROLE_DTXD+N-1 ("dtxd2", "dtxd3"); an LMDB run has ROLE_DTXD alone,
 * and the other instance roles are never started. */
typedef enum chaos_role {
	ROLE_DTXD = SHOP_SVC_COUNT,
	ROLE_DTXD2,
	ROLE_DTXD3,
	ROLE_BUYER,
	ROLE_COUNT
} chaos_role;

#define CHAOS_NSVC          SHOP_SVC_COUNT
#define CHAOS_INSTANCES_MAX (ROLE_BUYER - ROLE_DTXD)

/* chaos_is_dtxd tells whether role is one of the dtxd instances. */
static inline bool chaos_is_dtxd(int role)
{
	return role >= ROLE_DTXD && role < ROLE_BUYER;
}

/* Ports on 127.0.0.1: in the run's private network namespace they are
 * fixed; without one, main.c picks free ones. */
typedef struct chaos_ports {
	uint16_t dtxd[CHAOS_INSTANCES_MAX];  /* each instance's client URL */
	uint16_t admin[CHAOS_INSTANCES_MAX]; /* ... and admin URL */
	uint16_t pg[CHAOS_INSTANCES_MAX]; /* its way to PostgreSQL (pgproxy) */
	uint16_t svc[CHAOS_NSVC];         /* where each service listens */
	uint16_t proxy[CHAOS_NSVC];       /* where its fault proxy listens */
} chaos_ports;

/* The transaction modes the buyers use (history.h, check.c). */
typedef enum chaos_mode {
	MODE_SAGA,    /* five-step saga, coordinator-run */
	MODE_TCC,     /* initiator-driven TCC: the buyer makes the Tries */
	MODE_TCC_SUB, /* coordinator-run TCC (dtx_client_submit_tcc) */
	MODE_COUNT
} chaos_mode;

/* chaos_mode_name returns "saga", "tcc" or "tcc-sub". */
const char *chaos_mode_name(chaos_mode m);

/* chaos_role_name returns "order" .. "delivery", "dtxd", "dtxd2",
 * "dtxd3" or "buyer". */
const char *chaos_role_name(int role);

/* chaos_now_ms returns CLOCK_MONOTONIC in milliseconds. */
int64_t chaos_now_ms(void);

/* chaos_unix_ms returns CLOCK_REALTIME in milliseconds (for records that
 * other processes compare: the history's end times). */
int64_t chaos_unix_ms(void);

/* chaos_sleep_ms sleeps ms milliseconds (restarted after a signal). */
void chaos_sleep_ms(unsigned ms);

/* chaos_rng_next steps a splitmix64 stream and returns its next value. */
uint64_t chaos_rng_next(uint64_t *state);

/* chaos_rng_below returns a value in [0, n) from the stream (n > 0). */
uint64_t chaos_rng_below(uint64_t *state, uint64_t n);

#endif
