/*
 * config.h - dtxd's configuration: defaults, command-line flags, limits.
 *
 * Every queue, table and buffer the coordinator keeps has its limit here.
 * Parsing never exits the process: it returns a code and main decides.
 */
#ifndef DTX_COORDINATOR_CONFIG_H
#define DTX_COORDINATOR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "acl.h"
#include "tlsconf.h"

#define DC_MAX_LISTEN        8
#define DC_MAX_PEERS         1024 /* --peer flags (one per other shard) */
#define DC_ADMIN_URL_DEFAULT "tcp://127.0.0.1:7401"
#define DC_ADMIN_MAX_CONNS   64 /* connections to the admin endpoint */

typedef struct dc_config {
	const char *listen[DC_MAX_LISTEN]; /* borrowed from argv */
	size_t nlisten;
	const char *admin;  /* admin endpoint URL; NULL = none (--admin none) */
	bool admin_default; /* admin is the default, not asked for */
	const char *http;   /* --http HOST:PORT: the console; NULL = none */
	/* --admin-allow-uid / --admin-allow-gid: who may use an ipc:// admin
	 * endpoint (empty: anyone who can open its socket) */
	dc_acl admin_acl;
	const char *log_dir; /* --log-dir or --store: a directory or a URI */
	const char *ready_file;
	uint32_t shard;
	/* Shards (coordinator/shards.h): the deployment has nshards; this
	 * instance owns shard `shard` of them (all of them when nshards is
	 * 1). peers are --peer SHARD=URL flags, borrowed from argv and checked
	 * by dc_config_parse; advertise is the client URL other instances
	 * and clients reach this one at (default: the first --listen);
	 * instance names it for operators (default: the advertised URL). */
	uint32_t nshards;
	const char *peers[DC_MAX_PEERS];
	size_t npeers;
	const char *advertise;
	const char *instance;
	/* Shard leases (coordinator/leases.c): on a PostgreSQL store with
	 * --shards M > 1 the instances on it lease the shards among them
	 * (dc_config_leases); an instance is dead to the others lease_ms
	 * after its last heartbeat. */
	uint32_t lease_ms;
	/* How long a shard given to a joining instance may drain here
	 * before it is released with its transactions handed over; 0 =
	 * dc_config_drain_ms's default. */
	uint32_t drain_ms;
	int log_level;  /* dtx_log_level */
	int log_format; /* dc_diag_format (diag.h): text, json, journal */

	uint32_t call_timeout_ms;     /* default per-call deadline */
	uint32_t retry_base_ms;       /* backoff: first ceiling */
	uint32_t retry_multiplier;    /* backoff: growth */
	uint32_t retry_max_ms;        /* backoff: cap */
	uint32_t action_max_attempts; /* then the action counts as failed */

	uint32_t max_steps;            /* steps in one saga */
	size_t max_payload;            /* bytes of one step payload */
	size_t max_msg_bytes;          /* any message received */
	uint32_t max_active;           /* non-final transactions held */
	uint32_t max_clients;          /* client requests held at once */
	uint32_t max_calls;            /* branch calls outstanding at once */
	uint32_t max_peers;            /* participant URLs held (sockets) */
	uint32_t max_dialing;          /* ... of which without a connection */
	uint32_t peer_idle_ms;         /* a peer unused this long is closed */
	size_t map_size;               /* initial LMDB map size */
	size_t map_size_max;           /* LMDB map size ceiling */
	uint32_t max_wait_ms;          /* longest a client may ask to wait */
	uint32_t stuck_after_attempts; /* flag needs-operator past this */
	uint32_t stuck_after_ms;       /* ... or when a tx is older */
	uint32_t tcc_deadline_ms;      /* TCC deadline unless the tx sets one */
	uint32_t admin_slots;          /* admin requests held at once */
	uint32_t read_queue;           /* log reads queued off the loop */

	/* Replies are bounded (issue 13): a step's result may hold max_result
	 * bytes and one transaction's results together max_tx_results, which
	 * dc_config_parse derives so that the largest ClientReply fits under
	 * max_msg_bytes (the receive limit of dtxd and, by default, of the
	 * SDK's client). */
	/* Retention (DESIGN.md rule 9, coordinator/retain.h): a final
	 * transaction older than retain_final_ms is pruned to a tombstone,
	 * kept retain_tombstones_ms after that; 0 keeps them for ever. */
	uint64_t retain_final_ms;
	uint64_t retain_tombstones_ms;

	size_t max_result;     /* bytes of one branch result */
	bool max_result_set;   /* --max-result was given */
	size_t max_tx_results; /* bytes of one transaction's results */
	/* per connection (issue 13: no client may starve the others) */
	uint32_t max_conns;             /* client connections; 0 = main sets it
	                                   from the descriptor limit */
	uint32_t max_requests_per_conn; /* 0 = all but min(1024, 1/4) of
	                                   max_clients */
	uint32_t max_waits_per_conn;    /* 0 = max_requests_per_conn */
	uint32_t idle_timeout_ms;       /* close idle connections; 0 = never */

	/* Mutual TLS (--tls-*): dtxd's certificate and key serve its
	 * tls+tcp:// listeners and are its client certificate in branch
	 * calls to tls+tcp:// participants; tls.ca is the CA clients' and
	 * participants' certificates must chain to; admin_tls_ca, if set,
	 * the admin endpoint's own (operators' certificates; a client
	 * certificate is then always required there). Strings borrowed. */
	tlsconf_files tls;
	const char *admin_tls_ca;
} dc_config;

/* The three uses of dtxd's TLS settings. */
typedef enum dc_tls_role {
	DC_TLS_LISTEN = 0, /* the client endpoint (--listen) */
	DC_TLS_ADMIN,      /* the admin endpoint (--admin) */
	DC_TLS_CALLS,      /* branch calls to participants (a client) */
} dc_tls_role;

/* dc_config_tls_files fills *ret with the TLS files of role (strings
 * borrowed from cfg) and returns whether the role uses TLS at all: a
 * tls+tcp:// URL among its endpoints (for DC_TLS_CALLS: a --tls-ca). */
bool dc_config_tls_files(const dc_config *cfg, dc_tls_role role,
                         tlsconf_files *ret);

/* dc_config_tls_flag is the flag that sets field of tlsconf_files for
 * role ("--tls-cert", "--admin-tls-ca"), for messages. */
const char *dc_config_tls_flag(dc_tls_role role, tlsconf_field field);

/* dc_config_reply_overhead is the most a ClientReply about a transaction of
 * max_steps steps may hold besides the steps' result bytes: names, URLs,
 * last errors, reasons, the reply message and protobuf framing, each at
 * the length the coordinator bounds it to. */
size_t dc_config_reply_overhead(uint32_t max_steps);

/* dc_config_conns_for_fds is --max-conns' default under a descriptor
 * limit of nofile: half of what is left after 128 (the log, the loop, the
 * admin endpoint), the other half for participant sockets; within
 * 16..DC_CONNS_AUTO_MAX. */
#define DC_CONNS_AUTO_MAX 16384
uint32_t dc_config_conns_for_fds(uint64_t nofile);

/* dc_config_defaults fills cfg with the defaults (no log dir). */
void dc_config_defaults(dc_config *cfg);

enum {
	DC_CONFIG_OK = 0,
	DC_CONFIG_EXIT = 1,  /* --help or --version was printed: exit 0 */
	DC_CONFIG_USAGE = 2, /* a bad flag was reported on err: exit 64 */
};

/* dc_config_parse_duration reads "0" or a number with a unit (ms, s, m,
 * h, d: "500ms", "60s", "10m", "7d") up to 100 years into *ret_ms.
 * Returns false (nothing written) for anything else. */
bool dc_config_parse_duration(const char *s, uint64_t *ret_ms);

/* dc_config_has_fault_points is true in a test build (meson option
 * fault_points): DTX_FAULT=NAME then kills the process at a named point.
 * A production build is made without it and ignores DTX_FAULT. */
bool dc_config_has_fault_points(void);

/* dc_config_parse reads argv into cfg (strings borrowed from argv), printing
 * help/version to out and problems to err. Returns DC_CONFIG_*. */
int dc_config_parse(dc_config *cfg, int argc, char **argv, FILE *out,
                    FILE *err);

/* dc_config_options is the flag table getopt_long reads (static; the
 * last row is all zeros). Each row's val is the setting's id; two rows
 * may share one (--store and its older name --log-dir). */
struct option;
const struct option *dc_config_options(void);

/* dc_config_is_repeatable: flag id adds a value each time it is given
 * (--listen, --peer). */
bool dc_config_is_repeatable(int id);

/* dc_config_is_command: flag id is a command to this run (--help,
 * --version, --config, --check-config), not a setting. */
bool dc_config_is_command(int id);

/* dc_config_apply sets the setting of flag id to arg (borrowed: it must
 * outlive cfg; NULL for a flag without a value), as if given as a flag.
 * Problems are printed on err, --help and --version on out. Returns
 * DC_CONFIG_*. */
int dc_config_apply(dc_config *cfg, int id, const char *arg, FILE *out,
                    FILE *err);

/* dc_config_finish checks the settings together once all are applied
 * (a store given, ranges that depend on each other) and derives the
 * defaults that depend on others (--listen, --advertise, --instance,
 * --max-result). Problems are printed on err. Returns DC_CONFIG_*. */
int dc_config_finish(dc_config *cfg, FILE *err);

/* dc_config_show writes value number i (from 0) of setting id to buf as
 * a flag would give it: returns 1, or 0 past its last value, or -1 for a
 * setting it cannot show. --max-conns 0 shows what main would size. */
int dc_config_show(const dc_config *cfg, int id, size_t i, char *buf,
                   size_t len);
/* dc_config_drain_ms: --drain-ms, or its default 4 x --call-timeout-ms
 * + --lease-ms: time for a transaction whose participants answer to end
 * a few calls, and one lease for the round that notices. */
uint64_t dc_config_drain_ms(const dc_config *cfg);

/* dc_config_leases: cfg's instances lease their shards on a shared
 * store (a PostgreSQL URI and --shards 2 or more). */
bool dc_config_leases(const dc_config *cfg);

#endif
