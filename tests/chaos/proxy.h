/*
 * proxy.h - the user-space fault proxy between dtxd (and the buyers'
 * TCC Tries) and one shop service. This kernel has no netem, so delay,
 * loss, duplication and resets are made here, on nng's own framing.
 *
 * nng's tcp transport (v1.5.2, src/sp/transport/tcp/tcp.c): after
 * connecting each side sends an 8-byte header (0, 'S', 'P', 0, the 16-bit
 * big-endian protocol id, 0, 0); then every message is a 64-bit
 * big-endian length and that many bytes of body. The proxy passes the
 * headers through and cuts the rest into whole messages, so it can drop,
 * delay or duplicate one request, drop one reply (the service applied
 * the call and the caller never hears it: the case that breaks naive
 * idempotency) or reset the connection (both sockets closed with
 * SO_LINGER 0: an RST each way).
 *
 * One thread per proxy; the fault levels are atomics the harness sets
 * from its schedule, and the counters atomics it reads. A proxy never
 * reads or changes a message's body.
 */
#ifndef DTX_CHAOS_PROXY_H
#define DTX_CHAOS_PROXY_H

#include <stdint.h>

typedef enum proxy_fault {
	PF_DELAY,    /* hold a request or reply 50..2500 ms */
	PF_DROP_REQ, /* the service never sees the request */
	PF_DROP_REP, /* the caller never sees the reply */
	PF_DUP_REQ,  /* the service gets the request twice */
	PF_RESET,    /* the connection is reset instead of a request */
	PF_COUNT
} proxy_fault;

typedef struct proxy proxy;

typedef struct proxy_counts {
	uint64_t requests, replies, connections;
	uint64_t upstream_refused; /* the service was not there */
	uint64_t injected[PF_COUNT];
} proxy_counts;

/* proxy_fault_name returns "delay", "drop-request", "drop-reply",
 * "duplicate-request" or "reset". */
const char *proxy_fault_name(proxy_fault f);

/* proxy_start listens on 127.0.0.1:listen_port and relays every
 * connection to 127.0.0.1:upstream_port, with no fault until proxy_set.
 * seed drives the per-message draws. Errors: DTX_EUNREACHABLE (cannot
 * listen), DTX_ENOMEM. */
int proxy_start(uint16_t listen_port, uint16_t upstream_port, uint64_t seed,
                proxy **ret_proxy);

/* proxy_set makes fault f hit per_mille of the messages it applies to
 * (0: off). Thread-safe. */
void proxy_set(proxy *p, proxy_fault f, unsigned per_mille);

/* proxy_clear turns every fault off. Thread-safe. */
void proxy_clear(proxy *p);

/* proxy_get_counts copies the counters. Thread-safe. */
void proxy_get_counts(proxy *p, proxy_counts *ret);

/* proxy_stop stops the thread, closes every socket and frees p. Accepts
 * NULL. */
void proxy_stop(proxy *p);

#endif
