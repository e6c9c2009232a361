/*
 * pgproxy.h - a plain TCP relay between one dtxd instance and PostgreSQL,
 * which the harness can cut: the partition of one instance from the
 * database (EV_PG_PARTITION) while the others keep theirs.
 *
 * A cut relays nothing in either direction and accepts no new
 * connection: the bytes wait in the kernel's buffers, the peers see a
 * silent network (no reset, no close), as a dropped route looks. When the
 * run has nftables, main.c also drops the relay's port, so the peers'
 * keepalives go unanswered too. A relay owns its thread and its sockets;
 * it never looks inside the bytes.
 */
#ifndef DTX_CHAOS_PGPROXY_H
#define DTX_CHAOS_PGPROXY_H

#include <stdbool.h>
#include <stdint.h>

typedef struct pgproxy pgproxy;

/* pgproxy_start listens on 127.0.0.1:port and relays each connection to
 * 127.0.0.1:to_port (at most 64 at once: more are closed at accept).
 * Returns the relay (transferred: end it with pgproxy_stop) or NULL
 * (reason on stderr). */
pgproxy *pgproxy_start(uint16_t port, uint16_t to_port);

/* pgproxy_cut cuts (true) or heals (false) the relay. Thread-safe. */
void pgproxy_cut(pgproxy *p, bool cut);

/* pgproxy_stop stops the thread, closes every socket and frees p.
 * Accepts NULL. */
void pgproxy_stop(pgproxy *p);

#endif
