/*
 * config.c - dtxd's flags (see config.h). getopt_long; every number is
 * range-checked; nothing is started here.
 *
 * The flag table (options[]) is the one list of dtxd's settings: the
 * configuration file and the DTX_* environment (settings.c) take their
 * keys from it and set values through parse_one, so a flag added here is
 * a key of dtxd.conf and a variable at once. A flag that may be given more
 * than once must be listed in repeatable_ids.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <dtx/dtx.h>

#include "diag.h"
#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "http.h"
#include "kv.h"
#include "shards.h"
#include "wire.h"

void dc_config_defaults(dc_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->log_level = DTX_LOG_INFO;
	cfg->nshards = 1;
	cfg->lease_ms = 5000;
	cfg->call_timeout_ms = 5000;
	cfg->retry_base_ms = 100;
	cfg->retry_multiplier = 2;
	cfg->retry_max_ms = 30000;
	cfg->action_max_attempts = 10;
	cfg->max_steps = WIRE_MAX_STEPS_DEFAULT;
	cfg->max_payload = WIRE_MAX_PAYLOAD_DEFAULT;
	cfg->max_msg_bytes = DTX_MSG_MAX_DEFAULT;
	cfg->max_active = 1000000;
	cfg->max_clients = 8192;
	cfg->max_calls = 65536;
	cfg->max_peers = 1024;
	cfg->max_dialing = 32;
	cfg->peer_idle_ms = 60000;
	cfg->map_size = 256u << 20;
	cfg->map_size_max = (size_t)64 << 30;
	cfg->max_wait_ms = 600000;
	cfg->stuck_after_attempts = 10;
	cfg->stuck_after_ms = 300000;
	cfg->tcc_deadline_ms = 60000;
	cfg->admin = DC_ADMIN_URL_DEFAULT;
	cfg->admin_default = true;
	cfg->admin_slots = 16;
	cfg->read_queue = 0; /* one per request held: see engine.c */
	cfg->max_result = 64u << 10;
	cfg->idle_timeout_ms = 300000;
	cfg->retain_final_ms = UINT64_C(7) * 86400000;
	cfg->retain_tombstones_ms = UINT64_C(30) * 86400000;
	cfg->tls.require_peer_cert = true;
}

uint32_t dc_config_conns_for_fds(uint64_t nofile)
{
	uint64_t spare = 64 + DC_ADMIN_MAX_CONNS; /* log, loop, admin */
	uint64_t n = nofile > spare ? (nofile - spare) / 2 : 0;

	if (n < 16)
		return 16;
	return n > DC_CONNS_AUTO_MAX ? DC_CONNS_AUTO_MAX : (uint32_t)n;
}

static const char usage[] =
        "usage: dtxd --log-dir DIR | --store URI [options]\n"
        "\n"
        "dtx coordinator: logs global transactions durably (LMDB) and drives\n"
        "their branches on participants.\n"
        "\n"
        "  --config FILE            settings from FILE (dtxd.conf(5)): KEY =\n"
        "                           VALUE lines, keys are these flags'\n"
        "                           names; DTX_KEY variables (upper case,\n"
        "                           - as _) override the file, flags both;\n"
        "                           DTX_CONFIG names the file if no --config\n"
        "  --check-config           check the settings as a start would\n"
        "                           (without opening the store or binding),\n"
        "                           print them with their sources; exit 0,\n"
        "                           or 64 naming what is wrong\n"
        "  --log-dir DIR            the durable log in LMDB (created if\n"
        "                           missing)\n"
        "  --store DIR|URI          the same, or a PostgreSQL database:\n"
        "                           postgresql://USER@HOST/DB?... (libpq;\n"
        "                           the schema is created if missing)\n"
        "  --listen URL             client API endpoint, repeatable\n"
        "                           (default tcp://127.0.0.1:7400)\n"
        "  --admin URL|none         operator endpoint for dtxctl (default\n"
        "                           " DC_ADMIN_URL_DEFAULT "; if that\n"
        "                           default is taken dtxd warns and runs\n"
        "                           without one; none = no endpoint)\n"
        "  --http HOST:PORT         serve the read-only operator console\n"
        "                           and its JSON API (/api/), /metrics\n"
        "                           (Prometheus), /livez and /readyz over\n"
        "                           HTTP, e.g. 127.0.0.1:7480 (default: none;\n"
        "                           keep it on loopback or behind a proxy\n"
        "                           that authenticates)\n"
        "  --admin-allow-uid LIST   users (names or uids, comma-separated)\n"
        "                           who may use an ipc:// --admin endpoint\n"
        "                           (default: whoever can open its socket)\n"
        "  --admin-allow-gid LIST   the same for groups (a user's primary\n"
        "                           or supplementary group)\n"
        "  --shard N                shard number in made ids (0..1023);\n"
        "                           with --shards M > 1: the shard this\n"
        "                           instance owns (0..M-1)\n"
        "  --shards M               shards of the deployment, the same on\n"
        "                           every instance (1..1024; 1 = one\n"
        "                           coordinator serves every gid; default)\n"
        "  --peer SHARD=URL         the client URL of another shard's owner,\n"
        "                           named in redirects; repeatable; one\n"
        "                           naming this instance (--shard at its\n"
        "                           --advertise URL) is skipped, so one\n"
        "                           list may serve every instance\n"
        "  --advertise URL          this instance's client URL as clients\n"
        "                           dial it (default: the first --listen)\n"
        "  --instance NAME          a name for operators (default: the\n"
        "                           advertised URL)\n"
        "  --lease-ms MS            with a PostgreSQL store and --shards\n"
        "                           M > 1 the instances lease the shards;\n"
        "                           one is dead to the others MS after\n"
        "                           its last heartbeat (3000..; 5000)\n"
        "  --drain-ms MS            a shard given to a joining instance\n"
        "                           is released within MS even if some\n"
        "                           of its transactions still run here;\n"
        "                           they are handed over (their new owner\n"
        "                           recovers them) (default: 4 x\n"
        "                           --call-timeout-ms + --lease-ms)\n"
        "  --ready-file PATH        written (pid) once recovered and "
        "listening\n"
        "  --call-timeout-ms MS     default branch call deadline (5000)\n"
        "  --retry-base-ms MS       backoff: first ceiling (100)\n"
        "  --retry-multiplier N     backoff: growth per attempt (2)\n"
        "  --retry-max-ms MS        backoff: cap (30000)\n"
        "  --action-max-attempts N  then an action counts as failed and\n"
        "                           the saga compensates; 0 = never (10)\n"
        "  --max-steps N            steps in one saga (64)\n"
        "  --max-payload BYTES      one step's payload (262144)\n"
        "  --max-msg-bytes BYTES    any received message (1048576)\n"
        "  --max-result BYTES       one branch result (65536, or less if\n"
        "                           needed for the next rule); one\n"
        "                           transaction's results together get\n"
        "                           --max-msg-bytes less its names and\n"
        "                           errors, so every reply fits. A result\n"
        "                           over either is refused like a bad\n"
        "                           answer: an action/try counts a failed\n"
        "                           attempt; a compensate/confirm/cancel\n"
        "                           succeeds with its result dropped\n"
        "  --max-active N           non-final transactions held (1000000)\n"
        "  --max-clients N          client requests held at once (8192)\n"
        "  --max-calls N            branch calls outstanding (65536)\n"
        "  --max-peers N            participant URLs held at once, one\n"
        "                           socket each (1024)\n"
        "  --max-dialing N          ... of which without a connection\n"
        "                           (nng dialling them); a new URL takes\n"
        "                           the place of an idle peer or of a\n"
        "                           dead one (no connection for 1 s, or\n"
        "                           a failed dial), else its call fails\n"
        "                           as a counted attempt (32)\n"
        "  --peer-idle-ms MS        a peer without calls this long is\n"
        "                           closed (60000)\n"
        "  --read-queue N           reads of the log held off the loop at\n"
        "                           once (queries of gids not in memory,\n"
        "                           FinalQuery, dtxctl list/show/stats);\n"
        "                           past it a request gets busy (0 = one\n"
        "                           per request dtxd may hold:\n"
        "                           --max-clients + 16 admin; default)\n"
        "  --map-size-mb N          initial log map size (256)\n"
        "  --map-size-max-mb N      the map grows up to this (65536); past\n"
        "                           90% of it (or with under 2 MiB left)\n"
        "                           new transactions are refused (\"log\n"
        "                           full\") while running ones finish\n"
        "  --retain-final DURATION  a final transaction older than this is\n"
        "                           pruned to a tombstone (gid, outcome,\n"
        "                           times); 0 keeps everything (7d). Units:\n"
        "                           ms, s, m, h, d\n"
        "  --retain-tombstones DURATION  a tombstone is kept this long after\n"
        "                           pruning; then the gid is unknown; 0\n"
        "                           keeps them (30d)\n"
        "  --tcc-deadline-ms MS     a TCC transaction not committed within\n"
        "                           this is cancelled, unless it asks for\n"
        "                           its own deadline (60000)\n"
        "  --stuck-after-attempts N flag a transaction needs-operator when a\n"
        "                           call was retried more often (10)\n"
        "  --stuck-after-ms MS      ... or when it is older than this while\n"
        "                           still retrying (300000)\n"
        "  --max-conns N            client connections at once; more are\n"
        "                           closed (default: half of what the\n"
        "                           descriptor limit leaves after 128, at\n"
        "                           most 16384)\n"
        "  --max-requests-per-conn N  requests one connection has held at\n"
        "                           once; more get DTX_EBUSY (default:\n"
        "                           --max-clients less min(1024, a quarter))\n"
        "  --max-waits-per-conn N   of those, waiting for an outcome\n"
        "                           (default: --max-requests-per-conn)\n"
        "  --max-wait-ms MS         longest a client may wait for an outcome;\n"
        "                           a longer wait_ms is cut to this; 0 =\n"
        "                           answer at once (600000)\n"
        "  --idle-timeout-ms MS     close a connection that holds no request\n"
        "                           and sent none for this long; 0 = never\n"
        "                           (300000)\n"
        "  --tls-cert FILE          dtxd's certificate (PEM, its chain\n"
        "                           after it) for its tls+tcp:// endpoints,\n"
        "                           and its client certificate in branch\n"
        "                           calls to tls+tcp:// participants\n"
        "  --tls-key FILE           the certificate's private key (PEM)\n"
        "  --tls-key-pass PASS      the key's passphrase, if encrypted\n"
        "                           (shown masked; better in the file or\n"
        "                           DTX_TLS_KEY_PASS than on the command\n"
        "                           line)\n"
        "  --tls-ca FILE            CA bundle (PEM) that clients' and\n"
        "                           participants' certificates must chain\n"
        "                           to; needed for tls+tcp:// participants\n"
        "  --tls-require-client-cert true|false  refuse a client of a\n"
        "                           tls+tcp:// endpoint without a\n"
        "                           certificate of --tls-ca (true)\n"
        "  --admin-tls-ca FILE      the admin endpoint's own CA (operators'\n"
        "                           certificates): then only those get in\n"
        "                           there, whatever --tls-require-client-\n"
        "                           cert says (default: --tls-ca)\n"
        "                           SIGHUP reloads the TLS files for new\n"
        "                           connections\n"
        "  --log-level LEVEL        error|warn|info|debug (info)\n"
        "  --log-format FORMAT      text|json|journal: one event per line;\n"
        "                           json one object per line; journal to\n"
        "                           journald with fields (text)\n"
        "  --help, --version\n";

enum {
	OPT_LOG_DIR = 256,
	OPT_LISTEN,
	OPT_SHARD,
	OPT_READY,
	OPT_CALL_TIMEOUT,
	OPT_RETRY_BASE,
	OPT_RETRY_MULT,
	OPT_RETRY_MAX,
	OPT_ACTION_MAX,
	OPT_MAX_STEPS,
	OPT_MAX_PAYLOAD,
	OPT_MAX_MSG,
	OPT_MAX_ACTIVE,
	OPT_MAX_CLIENTS,
	OPT_MAX_CALLS,
	OPT_MAX_PEERS,
	OPT_MAP_SIZE,
	OPT_STUCK_ATTEMPTS,
	OPT_STUCK_MS,
	OPT_MAP_SIZE_MAX,
	OPT_TCC_DEADLINE,
	OPT_LOG_LEVEL,
	OPT_HELP,
	OPT_VERSION,
	OPT_ADMIN,
	OPT_MAX_RESULT,
	OPT_MAX_DIALING,
	OPT_PEER_IDLE,
	OPT_MAX_CONNS,
	OPT_PER_CONN,
	OPT_WAITS_PER_CONN,
	OPT_IDLE,
	OPT_MAX_WAIT,
	OPT_RETAIN_FINAL,
	OPT_RETAIN_TOMBS,
	OPT_READ_QUEUE,
	OPT_SHARDS,
	OPT_PEER,
	OPT_ADVERTISE,
	OPT_INSTANCE,
	OPT_STORE,
	OPT_LEASE_MS,
	OPT_HTTP,
	OPT_ALLOW_UID,
	OPT_ALLOW_GID,
	OPT_CONFIG,
	OPT_CHECK_CONFIG,
	OPT_DRAIN_MS,
	OPT_LOG_FORMAT,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_TLS_KEY_PASSPHRASE,
	OPT_TLS_CA,
	OPT_TLS_REQUIRE,
	OPT_ADMIN_TLS_CA,
};

/* --store comes before --log-dir, its older name: both set one setting
 * (one id), which the configuration file and dtxd --check-config name
 * "store". */
static const struct option options[] = {
        {"store", required_argument, NULL, OPT_STORE},
        {"log-dir", required_argument, NULL, OPT_STORE},
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"admin", required_argument, NULL, OPT_ADMIN},
        {"http", required_argument, NULL, OPT_HTTP},
        {"admin-allow-uid", required_argument, NULL, OPT_ALLOW_UID},
        {"admin-allow-gid", required_argument, NULL, OPT_ALLOW_GID},
        {"shard", required_argument, NULL, OPT_SHARD},
        {"shards", required_argument, NULL, OPT_SHARDS},
        {"peer", required_argument, NULL, OPT_PEER},
        {"advertise", required_argument, NULL, OPT_ADVERTISE},
        {"instance", required_argument, NULL, OPT_INSTANCE},
        {"lease-ms", required_argument, NULL, OPT_LEASE_MS},
        {"drain-ms", required_argument, NULL, OPT_DRAIN_MS},
        {"ready-file", required_argument, NULL, OPT_READY},
        {"call-timeout-ms", required_argument, NULL, OPT_CALL_TIMEOUT},
        {"retry-base-ms", required_argument, NULL, OPT_RETRY_BASE},
        {"retry-multiplier", required_argument, NULL, OPT_RETRY_MULT},
        {"retry-max-ms", required_argument, NULL, OPT_RETRY_MAX},
        {"action-max-attempts", required_argument, NULL, OPT_ACTION_MAX},
        {"max-steps", required_argument, NULL, OPT_MAX_STEPS},
        {"max-payload", required_argument, NULL, OPT_MAX_PAYLOAD},
        {"max-msg-bytes", required_argument, NULL, OPT_MAX_MSG},
        {"max-result", required_argument, NULL, OPT_MAX_RESULT},
        {"max-active", required_argument, NULL, OPT_MAX_ACTIVE},
        {"max-clients", required_argument, NULL, OPT_MAX_CLIENTS},
        {"max-calls", required_argument, NULL, OPT_MAX_CALLS},
        {"max-peers", required_argument, NULL, OPT_MAX_PEERS},
        {"max-dialing", required_argument, NULL, OPT_MAX_DIALING},
        {"peer-idle-ms", required_argument, NULL, OPT_PEER_IDLE},
        {"read-queue", required_argument, NULL, OPT_READ_QUEUE},
        {"map-size-mb", required_argument, NULL, OPT_MAP_SIZE},
        {"stuck-after-attempts", required_argument, NULL, OPT_STUCK_ATTEMPTS},
        {"stuck-after-ms", required_argument, NULL, OPT_STUCK_MS},
        {"map-size-max-mb", required_argument, NULL, OPT_MAP_SIZE_MAX},
        {"tcc-deadline-ms", required_argument, NULL, OPT_TCC_DEADLINE},
        {"max-conns", required_argument, NULL, OPT_MAX_CONNS},
        {"max-requests-per-conn", required_argument, NULL, OPT_PER_CONN},
        {"max-waits-per-conn", required_argument, NULL, OPT_WAITS_PER_CONN},
        {"idle-timeout-ms", required_argument, NULL, OPT_IDLE},
        {"max-wait-ms", required_argument, NULL, OPT_MAX_WAIT},
        {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
        {"tls-key", required_argument, NULL, OPT_TLS_KEY},
        {"tls-key-passphrase", required_argument, NULL, OPT_TLS_KEY_PASSPHRASE},
        {"tls-ca", required_argument, NULL, OPT_TLS_CA},
        {"tls-require-client-cert", required_argument, NULL, OPT_TLS_REQUIRE},
        {"admin-tls-ca", required_argument, NULL, OPT_ADMIN_TLS_CA},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
        {"retain-final", required_argument, NULL, OPT_RETAIN_FINAL},
        {"retain-tombstones", required_argument, NULL, OPT_RETAIN_TOMBS},
        {"help", no_argument, NULL, OPT_HELP},
        {"version", no_argument, NULL, OPT_VERSION},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"check-config", no_argument, NULL, OPT_CHECK_CONFIG},
        {NULL, 0, NULL, 0},
};

/* Flags that add a value each time they are given (the others: the last
 * one counts on the command line; a repeated key is an error in a file). */
static const int repeatable_ids[] = {OPT_LISTEN, OPT_PEER, OPT_ALLOW_UID,
                                     OPT_ALLOW_GID};

/* Flags that are commands to this run, not settings: no key, no variable
 * (--config is read by settings.c; DTX_CONFIG is its variable). */
static const int command_ids[] = {OPT_HELP, OPT_VERSION, OPT_CONFIG,
                                  OPT_CHECK_CONFIG};

static bool id_in(int id, const int *ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

const struct option *dc_config_options(void)
{
	return options;
}

bool dc_config_is_repeatable(int id)
{
	return id_in(id, repeatable_ids,
	             sizeof(repeatable_ids) / sizeof(repeatable_ids[0]));
}

bool dc_config_is_command(int id)
{
	return id_in(id, command_ids,
	             sizeof(command_ids) / sizeof(command_ids[0]));
}

/* parse_u64 accepts a decimal in [lo, hi]; anything else is a usage error. */
static int parse_u64(const char *name, const char *s, uint64_t lo, uint64_t hi,
                     uint64_t *ret, FILE *err)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < lo ||
	    v > hi) {
		fprintf(err,
		        "dtxd: --%s: expected a number in %" PRIu64 "..%" PRIu64
		        ", got '%s'\n",
		        name, lo, hi, s);
		return DC_CONFIG_USAGE;
	}
	*ret = v;
	return DC_CONFIG_OK;
}

bool dc_config_parse_duration(const char *s, uint64_t *ret_ms)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {{"ms", 1},
	             {"s", 1000},
	             {"m", 60000},
	             {"h", 3600000},
	             {"d", 86400000}};
	const uint64_t max_ms = UINT64_C(100) * 365 * 86400000;
	unsigned long long v;
	char *end;

	if (strcmp(s, "0") == 0) {
		*ret_ms = 0;
		return true;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || s[0] < '0' || s[0] > '9')
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		if (v > max_ms / units[i].ms)
			return false;
		*ret_ms = v * units[i].ms;
		return true;
	}
	return false;
}

/* parse_duration is dc_config_parse_duration for flag --name. */
static int parse_duration(const char *name, const char *s, uint64_t *ret,
                          FILE *err)
{
	if (dc_config_parse_duration(s, ret))
		return DC_CONFIG_OK;
	fprintf(err,
	        "dtxd: --%s: expected 0 or a number with a unit (ms, s, m, h, "
	        "d; e.g. 60s, 7d), got '%s'\n",
	        name, s);
	return DC_CONFIG_USAGE;
}

static int parse_level(const char *s, int *ret, FILE *err)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};

	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			*ret = i;
			return DC_CONFIG_OK;
		}
	fprintf(err, "dtxd: --log-level: expected error|warn|info|debug\n");
	return DC_CONFIG_USAGE;
}

static int parse_format(const char *s, int *ret, FILE *err)
{
	dc_diag_format f;

	if (dc_diag_format_parse(s, &f) == DTX_OK) {
		*ret = (int)f;
		return DC_CONFIG_OK;
	}
	fprintf(err,
	        "dtxd: --log-format: expected text|json|journal, got "
	        "'%s'\n",
	        s);
	return DC_CONFIG_USAGE;
}

typedef struct num_opt {
	int id;
	const char *name;
	uint64_t lo, hi;
} num_opt;

static const num_opt num_opts[] = {
        {OPT_SHARD, "shard", 0, 1023},
        {OPT_SHARDS, "shards", 1, SHARD_COUNT_MAX},
        {OPT_CALL_TIMEOUT, "call-timeout-ms", 1, 3600000},
        {OPT_RETRY_BASE, "retry-base-ms", 1, 3600000},
        {OPT_RETRY_MULT, "retry-multiplier", 1, 16},
        {OPT_RETRY_MAX, "retry-max-ms", 1, 86400000},
        {OPT_ACTION_MAX, "action-max-attempts", 0, 1000000},
        {OPT_MAX_STEPS, "max-steps", 1, 4096},
        {OPT_MAX_PAYLOAD, "max-payload", 0, 64u << 20},
        {OPT_MAX_MSG, "max-msg-bytes", 1024, 256u << 20},
        {OPT_MAX_RESULT, "max-result", 0, 64u << 20},
        {OPT_MAX_ACTIVE, "max-active", 1, 100000000},
        {OPT_MAX_CLIENTS, "max-clients", 1, 1000000},
        {OPT_MAX_CALLS, "max-calls", 1, 10000000},
        {OPT_MAX_PEERS, "max-peers", 1, 100000},
        {OPT_MAX_DIALING, "max-dialing", 1, 100000},
        {OPT_PEER_IDLE, "peer-idle-ms", 1, 86400000},
        {OPT_READ_QUEUE, "read-queue", 0, 1000000},
        {OPT_MAP_SIZE, "map-size-mb", 1, 1u << 20},
        {OPT_STUCK_ATTEMPTS, "stuck-after-attempts", 1, 1000000},
        {OPT_STUCK_MS, "stuck-after-ms", 1, 86400000u * 30u},
        {OPT_MAP_SIZE_MAX, "map-size-max-mb", 1, 1u << 24},
        {OPT_TCC_DEADLINE, "tcc-deadline-ms", 1, 86400000u * 30u},
        {OPT_MAX_CONNS, "max-conns", 1, 1000000},
        {OPT_PER_CONN, "max-requests-per-conn", 1, 1000000},
        {OPT_WAITS_PER_CONN, "max-waits-per-conn", 1, 1000000},
        {OPT_IDLE, "idle-timeout-ms", 0, 86400000u * 30u},
        {OPT_MAX_WAIT, "max-wait-ms", 0, 86400000u},
        {OPT_LEASE_MS, "lease-ms", 3000, 600000},
        {OPT_DRAIN_MS, "drain-ms", 1, 86400000},
};

static void store_conn_num(dc_config *cfg, int id, uint64_t v)
{
	switch (id) {
	case OPT_MAX_CONNS:
		cfg->max_conns = (uint32_t)v;
		break;
	case OPT_PER_CONN:
		cfg->max_requests_per_conn = (uint32_t)v;
		break;
	case OPT_WAITS_PER_CONN:
		cfg->max_waits_per_conn = (uint32_t)v;
		break;
	case OPT_IDLE:
		cfg->idle_timeout_ms = (uint32_t)v;
		break;
	case OPT_MAX_WAIT:
		cfg->max_wait_ms = (uint32_t)v;
		break;
	default:
		break;
	}
}

static void store_num(dc_config *cfg, int id, uint64_t v)
{
	switch (id) {
	case OPT_SHARD:
		cfg->shard = (uint32_t)v;
		break;
	case OPT_SHARDS:
		cfg->nshards = (uint32_t)v;
		break;
	case OPT_LEASE_MS:
		cfg->lease_ms = (uint32_t)v;
		break;
	case OPT_DRAIN_MS:
		cfg->drain_ms = (uint32_t)v;
		break;
	case OPT_CALL_TIMEOUT:
		cfg->call_timeout_ms = (uint32_t)v;
		break;
	case OPT_RETRY_BASE:
		cfg->retry_base_ms = (uint32_t)v;
		break;
	case OPT_RETRY_MULT:
		cfg->retry_multiplier = (uint32_t)v;
		break;
	case OPT_RETRY_MAX:
		cfg->retry_max_ms = (uint32_t)v;
		break;
	case OPT_ACTION_MAX:
		cfg->action_max_attempts = (uint32_t)v;
		break;
	case OPT_MAX_STEPS:
		cfg->max_steps = (uint32_t)v;
		break;
	case OPT_MAX_PAYLOAD:
		cfg->max_payload = (size_t)v;
		break;
	case OPT_MAX_MSG:
		cfg->max_msg_bytes = (size_t)v;
		break;
	case OPT_MAX_RESULT:
		cfg->max_result = (size_t)v;
		cfg->max_result_set = true;
		break;
	case OPT_MAX_ACTIVE:
		cfg->max_active = (uint32_t)v;
		break;
	case OPT_MAX_CLIENTS:
		cfg->max_clients = (uint32_t)v;
		break;
	case OPT_MAX_CALLS:
		cfg->max_calls = (uint32_t)v;
		break;
	case OPT_MAX_PEERS:
		cfg->max_peers = (uint32_t)v;
		break;
	case OPT_MAX_DIALING:
		cfg->max_dialing = (uint32_t)v;
		break;
	case OPT_PEER_IDLE:
		cfg->peer_idle_ms = (uint32_t)v;
		break;
	case OPT_READ_QUEUE:
		cfg->read_queue = (uint32_t)v;
		break;
	case OPT_STUCK_ATTEMPTS:
		cfg->stuck_after_attempts = (uint32_t)v;
		break;
	case OPT_STUCK_MS:
		cfg->stuck_after_ms = (uint32_t)v;
		break;
	case OPT_MAP_SIZE:
		cfg->map_size = (size_t)v << 20;
		break;
	case OPT_MAP_SIZE_MAX:
		cfg->map_size_max = (size_t)v << 20;
		break;
	case OPT_TCC_DEADLINE:
		cfg->tcc_deadline_ms = (uint32_t)v;
		break;
	default:
		store_conn_num(cfg, id, v);
		break;
	}
}

/* parse_http checks --http's address (http.c reads it again to listen). */
static int parse_http(dc_config *cfg, const char *arg, FILE *err)
{
	struct sockaddr_storage sa;
	socklen_t len;

	if (!dc_http_addr_parse(arg, &sa, &len)) {
		fprintf(err,
		        "dtxd: --http %s: not HOST:PORT (an IPv4 address, "
		        "[IPv6] or localhost; port 1..65535)\n",
		        arg);
		return DC_CONFIG_USAGE;
	}
	cfg->http = arg;
	return DC_CONFIG_OK;
}

/* parse_allow adds --admin-allow-uid (gids: -gid) LIST to the admin
 * endpoint's allow lists. */
static int parse_allow(dc_config *cfg, bool gids, const char *arg, FILE *err)
{
	char why[300];

	if (dc_acl_add_list(&cfg->admin_acl, gids, arg, why, sizeof(why)) ==
	    DTX_OK)
		return DC_CONFIG_OK;
	fprintf(err, "dtxd: --admin-allow-%s: %s\n", gids ? "gid" : "uid", why);
	return DC_CONFIG_USAGE;
}

/* parse_bool reads true|false (also yes|no, on|off, 1|0) for --name. */
static int parse_bool(const char *name, const char *s, bool *ret, FILE *err)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcmp(s, yes[i]) == 0 || strcmp(s, no[i]) == 0) {
			*ret = strcmp(s, yes[i]) == 0;
			return DC_CONFIG_OK;
		}
	}
	fprintf(err, "dtxd: --%s: expected true or false, got '%s'\n", name, s);
	return DC_CONFIG_USAGE;
}

/* parse_tls sets one of the --tls-* settings (their files are read and
 * checked together by check_tls). */
static int parse_tls(dc_config *cfg, int id, const char *arg, FILE *err)
{
	switch (id) {
	case OPT_TLS_CERT:
		cfg->tls.cert = arg;
		break;
	case OPT_TLS_KEY:
		cfg->tls.key = arg;
		break;
	case OPT_TLS_KEY_PASSPHRASE:
		cfg->tls.key_pass = arg;
		break;
	case OPT_TLS_CA:
		cfg->tls.ca = arg;
		break;
	case OPT_ADMIN_TLS_CA:
		cfg->admin_tls_ca = arg;
		break;
	default:
		return parse_bool("tls-require-client-cert", arg,
		                  &cfg->tls.require_peer_cert, err);
	}
	return DC_CONFIG_OK;
}

static int parse_one(dc_config *cfg, int id, const char *arg, FILE *out,
                     FILE *err)
{
	uint64_t v;

	for (size_t i = 0; i < sizeof(num_opts) / sizeof(num_opts[0]); i++) {
		const num_opt *n = &num_opts[i];
		if (n->id != id)
			continue;
		if (parse_u64(n->name, arg, n->lo, n->hi, &v, err) != 0)
			return DC_CONFIG_USAGE;
		store_num(cfg, id, v);
		return DC_CONFIG_OK;
	}
	switch (id) {
	case OPT_LOG_DIR:
	case OPT_STORE:
		/* one store: a second flag naming another is a mistake */
		if (cfg->log_dir != NULL && strcmp(cfg->log_dir, arg) != 0) {
			fprintf(err, "dtxd: --log-dir and --store name one "
			             "store: give one of them once\n");
			return DC_CONFIG_USAGE;
		}
		cfg->log_dir = arg;
		return DC_CONFIG_OK;
	case OPT_READY:
		cfg->ready_file = arg;
		return DC_CONFIG_OK;
	case OPT_ADMIN:
		cfg->admin = strcmp(arg, "none") == 0 ? NULL : arg;
		cfg->admin_default = false;
		return DC_CONFIG_OK;
	case OPT_HTTP:
		return parse_http(cfg, arg, err);
	case OPT_ALLOW_UID:
	case OPT_ALLOW_GID:
		return parse_allow(cfg, id == OPT_ALLOW_GID, arg, err);
	case OPT_LOG_LEVEL:
		return parse_level(arg, &cfg->log_level, err);
	case OPT_LOG_FORMAT:
		return parse_format(arg, &cfg->log_format, err);
	case OPT_ADVERTISE:
		cfg->advertise = arg;
		return DC_CONFIG_OK;
	case OPT_INSTANCE:
		cfg->instance = arg;
		return DC_CONFIG_OK;
	case OPT_PEER:
		if (cfg->npeers == DC_MAX_PEERS) {
			fprintf(err, "dtxd: at most %d --peer\n", DC_MAX_PEERS);
			return DC_CONFIG_USAGE;
		}
		cfg->peers[cfg->npeers++] = arg;
		return DC_CONFIG_OK;
	case OPT_RETAIN_FINAL:
		return parse_duration("retain-final", arg,
		                      &cfg->retain_final_ms, err);
	case OPT_RETAIN_TOMBS:
		return parse_duration("retain-tombstones", arg,
		                      &cfg->retain_tombstones_ms, err);
	case OPT_LISTEN:
		if (cfg->nlisten == DC_MAX_LISTEN) {
			fprintf(err, "dtxd: at most %d --listen\n",
			        DC_MAX_LISTEN);
			return DC_CONFIG_USAGE;
		}
		cfg->listen[cfg->nlisten++] = arg;
		return DC_CONFIG_OK;
	case OPT_TLS_CERT:
	case OPT_TLS_KEY:
	case OPT_TLS_KEY_PASSPHRASE:
	case OPT_TLS_CA:
	case OPT_TLS_REQUIRE:
	case OPT_ADMIN_TLS_CA:
		return parse_tls(cfg, id, arg, err);
	case OPT_HELP:
		fputs(usage, out);
		return DC_CONFIG_EXIT;
	case OPT_VERSION:
		fprintf(out, "dtxd %d.%d.%d%s\n", DTX_VERSION_MAJOR,
		        DTX_VERSION_MINOR, DTX_VERSION_PATCH,
		        dc_config_has_fault_points()
		                ? " (test build: fault points)"
		                : "");
		return DC_CONFIG_EXIT;
	default:
		fputs(usage, err);
		return DC_CONFIG_USAGE;
	}
}

int dc_config_apply(dc_config *cfg, int id, const char *arg, FILE *out,
                    FILE *err)
{
	return parse_one(cfg, id, arg, out, err);
}

/* show_conn_num is show_num's second half (store_conn_num's mirror). */
static bool show_conn_num(const dc_config *cfg, int id, uint64_t *ret)
{
	switch (id) {
	case OPT_MAX_CONNS:
		*ret = cfg->max_conns;
		if (*ret == 0) { /* main sizes it as a start would */
			struct rlimit rl;
			rl.rlim_max = 1024;
			(void)getrlimit(RLIMIT_NOFILE, &rl);
			*ret = dc_config_conns_for_fds((uint64_t)rl.rlim_max);
		}
		return true;
	case OPT_PER_CONN: /* 0: derived by the engine (see --help) */
		*ret = cfg->max_requests_per_conn;
		return *ret != 0;
	case OPT_WAITS_PER_CONN:
		*ret = cfg->max_waits_per_conn;
		return *ret != 0;
	case OPT_IDLE:
		*ret = cfg->idle_timeout_ms;
		return true;
	case OPT_MAX_WAIT:
		*ret = cfg->max_wait_ms;
		return true;
	default:
		return false;
	}
}

/* show_num reads back what store_num wrote (false: id is not a number
 * this function knows). */
static bool show_num(const dc_config *cfg, int id, uint64_t *ret)
{
	const struct {
		int id;
		uint64_t v;
	} vals[] = {
	        {OPT_SHARD, cfg->shard},
	        {OPT_SHARDS, cfg->nshards},
	        {OPT_LEASE_MS, cfg->lease_ms},
	        {OPT_CALL_TIMEOUT, cfg->call_timeout_ms},
	        {OPT_RETRY_BASE, cfg->retry_base_ms},
	        {OPT_RETRY_MULT, cfg->retry_multiplier},
	        {OPT_RETRY_MAX, cfg->retry_max_ms},
	        {OPT_ACTION_MAX, cfg->action_max_attempts},
	        {OPT_MAX_STEPS, cfg->max_steps},
	        {OPT_MAX_PAYLOAD, cfg->max_payload},
	        {OPT_MAX_MSG, cfg->max_msg_bytes},
	        {OPT_MAX_RESULT, cfg->max_result},
	        {OPT_MAX_ACTIVE, cfg->max_active},
	        {OPT_MAX_CLIENTS, cfg->max_clients},
	        {OPT_MAX_CALLS, cfg->max_calls},
	        {OPT_MAX_PEERS, cfg->max_peers},
	        {OPT_MAX_DIALING, cfg->max_dialing},
	        {OPT_PEER_IDLE, cfg->peer_idle_ms},
	        {OPT_READ_QUEUE, cfg->read_queue},
	        {OPT_STUCK_ATTEMPTS, cfg->stuck_after_attempts},
	        {OPT_STUCK_MS, cfg->stuck_after_ms},
	        {OPT_MAP_SIZE, cfg->map_size >> 20},
	        {OPT_MAP_SIZE_MAX, cfg->map_size_max >> 20},
	        {OPT_TCC_DEADLINE, cfg->tcc_deadline_ms},
	};

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		if (vals[i].id == id) {
			*ret = vals[i].v;
			return true;
		}
	return show_conn_num(cfg, id, ret);
}

/* show_tls is show_text for the --tls-* settings; the passphrase shows
 * masked (so does every place that prints settings: settings.c). */
static int show_tls(const dc_config *cfg, int id, size_t i, char *buf,
                    size_t len)
{
	const char *v;

	switch (id) {
	case OPT_TLS_CERT:
		v = cfg->tls.cert;
		break;
	case OPT_TLS_KEY:
		v = cfg->tls.key;
		break;
	case OPT_TLS_KEY_PASSPHRASE:
		v = cfg->tls.key_pass != NULL ? "*****" : NULL;
		break;
	case OPT_TLS_CA:
		v = cfg->tls.ca;
		break;
	case OPT_ADMIN_TLS_CA:
		v = cfg->admin_tls_ca;
		break;
	case OPT_TLS_REQUIRE:
		v = cfg->tls.require_peer_cert ? "true" : "false";
		break;
	default:
		return -1;
	}
	if (v == NULL || i > 0)
		return 0;
	snprintf(buf, len, "%s", v);
	return 1;
}

/* show_text writes string setting id's value number i to buf (1), or
 * returns 0 past its last value, -1 for an id it does not know. */
static int show_text(const dc_config *cfg, int id, size_t i, char *buf,
                     size_t len)
{
	static const char *const levels[] = {"error", "warn", "info", "debug"};
	const dc_acl *acl = &cfg->admin_acl;
	const char *v;

	if (id == OPT_ALLOW_UID || id == OPT_ALLOW_GID) {
		if (i >= (id == OPT_ALLOW_UID ? acl->nuids : acl->ngids))
			return 0;
		snprintf(buf, len, "%" PRIu32,
		         id == OPT_ALLOW_UID ? acl->uids[i] : acl->gids[i]);
		return 1;
	}
	switch (id) {
	case OPT_HTTP:
		v = i == 0 ? cfg->http : NULL;
		break;
	case OPT_LISTEN:
		v = i < cfg->nlisten ? cfg->listen[i] : NULL;
		break;
	case OPT_PEER:
		v = i < cfg->npeers ? cfg->peers[i] : NULL;
		break;
	case OPT_STORE:
		v = i == 0 ? cfg->log_dir : NULL;
		break;
	case OPT_ADMIN:
		v = i > 0 ? NULL : cfg->admin != NULL ? cfg->admin : "none";
		break;
	case OPT_READY:
		v = i == 0 ? cfg->ready_file : NULL;
		break;
	case OPT_ADVERTISE:
		v = i == 0 ? cfg->advertise : NULL;
		break;
	case OPT_INSTANCE:
		v = i == 0 ? cfg->instance : NULL;
		break;
	case OPT_LOG_LEVEL:
		v = i == 0 ? levels[cfg->log_level & 3] : NULL;
		break;
	case OPT_LOG_FORMAT:
		v = i == 0 ? dc_diag_format_name(cfg->log_format) : NULL;
		break;
	default:
		return show_tls(cfg, id, i, buf, len);
	}
	if (v == NULL)
		return 0;
	snprintf(buf, len, "%s", v);
	return 1;
}

/* show_duration writes ms in the largest unit that divides it. */
static void show_duration(uint64_t ms, char *buf, size_t len)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {{"d", 86400000},
	             {"h", 3600000},
	             {"m", 60000},
	             {"s", 1000},
	             {"ms", 1}};

	if (ms == 0) {
		snprintf(buf, len, "0");
		return;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (ms % units[i].ms == 0) {
			snprintf(buf, len, "%" PRIu64 "%s", ms / units[i].ms,
			         units[i].unit);
			return;
		}
}

int dc_config_show(const dc_config *cfg, int id, size_t i, char *buf,
                   size_t len)
{
	uint64_t v;

	if (id == OPT_RETAIN_FINAL || id == OPT_RETAIN_TOMBS) {
		if (i > 0)
			return 0;
		show_duration(id == OPT_RETAIN_FINAL
		                      ? cfg->retain_final_ms
		                      : cfg->retain_tombstones_ms,
		              buf, len);
		return 1;
	}
	if (id == OPT_DRAIN_MS) {
		if (i > 0)
			return 0;
		snprintf(buf, len, "%" PRIu64, dc_config_drain_ms(cfg));
		return 1;
	}
	if (show_num(cfg, id, &v)) {
		if (i > 0)
			return 0;
		snprintf(buf, len, "%" PRIu64, v);
		return 1;
	}
	return show_text(cfg, id, i, buf, len);
}

/* Bytes a string field of at most n bytes, or a nested message, adds to
 * a message beside its content: a tag and a length of up to 5 bytes. */
#define FIELD_FRAME 6
#define SCALARS     64 /* every varint field of a StepInfo or a TxInfo */

size_t dc_config_reply_overhead(uint32_t max_steps)
{
	/* A step: three handler names, its URL, its last error (the engine
	 * writes at most 300 bytes there), its result's framing. */
	size_t step = 3 * (DTX_HANDLER_MAX + FIELD_FRAME) + DTX_URL_MAX +
	              WIRE_MESSAGE_MAX + 3 * FIELD_FRAME + SCALARS;
	/* The reply: its message, the gid, the reason (an operator's reason
	 * with its prefix), the operator reason, the TxInfo's framing. */
	size_t fixed = WIRE_MESSAGE_MAX + DTX_GID_MAX +
	               (WIRE_MESSAGE_MAX + 64) + WIRE_MESSAGE_MAX +
	               5 * FIELD_FRAME + SCALARS;

	return fixed + (size_t)max_steps * step;
}

/* check_replies derives the result budget of one transaction, so that the
 * largest ClientReply fits under --max-msg-bytes, and refuses flags that
 * leave no room (or less than an explicit --max-result). */
static int check_replies(dc_config *cfg, FILE *err)
{
	size_t over = dc_config_reply_overhead(cfg->max_steps);

	if (over >= cfg->max_msg_bytes) {
		fprintf(err,
		        "dtxd: a reply about a transaction of --max-steps %u "
		        "may hold %zu bytes of names and errors, more than "
		        "--max-msg-bytes %zu: lower --max-steps or raise "
		        "--max-msg-bytes\n",
		        cfg->max_steps, over, cfg->max_msg_bytes);
		return DC_CONFIG_USAGE;
	}
	cfg->max_tx_results = cfg->max_msg_bytes - over;
	if (cfg->max_result <= cfg->max_tx_results)
		return DC_CONFIG_OK;
	if (!cfg->max_result_set) {
		cfg->max_result = cfg->max_tx_results;
		return DC_CONFIG_OK;
	}
	fprintf(err,
	        "dtxd: --max-result %zu does not fit in a reply: "
	        "--max-msg-bytes %zu less %zu bytes of names and errors for "
	        "--max-steps %u leaves %zu bytes for results; lower "
	        "--max-result or --max-steps, or raise --max-msg-bytes\n",
	        cfg->max_result, cfg->max_msg_bytes, over, cfg->max_steps,
	        cfg->max_tx_results);
	return DC_CONFIG_USAGE;
}

/* check_shards refuses a shard this deployment does not have, a --peer
 * that does not parse (coordinator/shards.c) and names that cannot go on
 * the wire; it defaults --advertise and --instance. */
static int check_shards(dc_config *cfg, FILE *err)
{
	char why[256];

	if (cfg->nshards > 1 && cfg->shard >= cfg->nshards) {
		fprintf(err,
		        "dtxd: --shard %u is not a shard of --shards %u "
		        "(0..%u)\n",
		        (unsigned)cfg->shard, (unsigned)cfg->nshards,
		        (unsigned)cfg->nshards - 1);
		return DC_CONFIG_USAGE;
	}
	/* a listen address a client cannot dial (tcp://0.0.0.0:7400) is
	 * not advertised: clients then learn owners from --peer lists */
	if (cfg->advertise == NULL &&
	    wire_url_check(cfg->listen[0], NULL, 0) == DTX_OK)
		cfg->advertise = cfg->listen[0];
	if (cfg->instance == NULL)
		cfg->instance = cfg->advertise != NULL ? cfg->advertise
		                                       : cfg->listen[0];
	if (dc_shards_check_config(cfg, why, sizeof(why)) != DTX_OK) {
		fprintf(err, "dtxd: %s\n", why);
		return DC_CONFIG_USAGE;
	}
	return DC_CONFIG_OK;
}

/* check_store refuses a PostgreSQL URI that libpq cannot read (a
 * mistyped parameter would fail every restart with exit 69). */
static int check_store(const dc_config *cfg, FILE *err)
{
	const char *s = cfg->log_dir;
	char why[400];

	if (strncmp(s, "postgresql://", 13) != 0 &&
	    strncmp(s, "postgres://", 11) != 0)
		return DC_CONFIG_OK;
	if (dc_kv_check_uri(s, why, sizeof(why)) == DTX_OK)
		return DC_CONFIG_OK;
	fprintf(err, "dtxd: --store: %s\n", why);
	return DC_CONFIG_USAGE;
}

bool dc_config_tls_files(const dc_config *cfg, dc_tls_role role,
                         tlsconf_files *ret)
{
	bool used = false;

	*ret = cfg->tls;
	switch (role) {
	case DC_TLS_LISTEN:
		for (size_t i = 0; i < cfg->nlisten; i++)
			used = used || tlsconf_is_tls_url(cfg->listen[i]);
		return used;
	case DC_TLS_ADMIN:
		if (cfg->admin_tls_ca != NULL) {
			ret->ca = cfg->admin_tls_ca;
			ret->require_peer_cert = true;
		}
		return tlsconf_is_tls_url(cfg->admin);
	default:
		ret->require_peer_cert = false;
		return cfg->tls.ca != NULL;
	}
}

const char *dc_config_tls_flag(dc_tls_role role, tlsconf_field field)
{
	static const char *const flags[TLSCONF_F_COUNT] = {
	        "--tls-cert", "--tls-key", "--tls-key-passphrase", "--tls-ca",
	        "--tls-require-client-cert"};

	if (role == DC_TLS_ADMIN && field == TLSCONF_F_CA)
		return "--tls-ca or --admin-tls-ca";
	return field < TLSCONF_F_COUNT ? flags[field] : "--tls-cert";
}

/* check_tls reads and checks the TLS files of every role that uses them,
 * as the start will: a problem is an exit 64 before anything listens. */
static int check_tls(const dc_config *cfg, FILE *err)
{
	static const char *const roles[] = {"--listen", "--admin",
	                                    "branch calls to participants"};
	tlsconf_files f;
	tlsconf_field field;
	nng_tls_config *tc;
	char why[512];

	for (int r = DC_TLS_LISTEN; r <= DC_TLS_CALLS; r++) {
		if (!dc_config_tls_files(cfg, (dc_tls_role)r, &f))
			continue;
		if (tlsconf_load(&f,
		                 r == DC_TLS_CALLS ? TLSCONF_CLIENT
		                                   : TLSCONF_SERVER,
		                 &tc, &field, why, sizeof(why)) != DTX_OK) {
			fprintf(err, "dtxd: %s: %s (for %s)\n",
			        dc_config_tls_flag((dc_tls_role)r, field), why,
			        roles[r]);
			return DC_CONFIG_USAGE;
		}
		nng_tls_config_free(tc);
	}
	return DC_CONFIG_OK;
}

int dc_config_finish(dc_config *cfg, FILE *err)
{
	if (cfg->log_dir == NULL || cfg->log_dir[0] == '\0') {
		fprintf(err, "dtxd: --log-dir DIR or --store URI is required "
		             "(see --help)\n");
		return DC_CONFIG_USAGE;
	}
	if (check_store(cfg, err) != DC_CONFIG_OK)
		return DC_CONFIG_USAGE;
	if (cfg->retry_max_ms < cfg->retry_base_ms) {
		fprintf(err,
		        "dtxd: --retry-max-ms must be >= --retry-base-ms\n");
		return DC_CONFIG_USAGE;
	}
	if (cfg->nlisten == 0)
		cfg->listen[cfg->nlisten++] = "tcp://127.0.0.1:7400";
	if (cfg->map_size_max < cfg->map_size)
		cfg->map_size_max = cfg->map_size;
	if (check_shards(cfg, err) != DC_CONFIG_OK)
		return DC_CONFIG_USAGE;
	/* over TCP no peer has a uid: every request would be refused */
	if (dc_acl_is_set(&cfg->admin_acl) &&
	    (cfg->admin == NULL || strncmp(cfg->admin, "ipc://", 6) != 0)) {
		fprintf(err, "dtxd: --admin-allow-uid/-gid need an ipc:// "
		             "--admin endpoint (over TCP the peer's uid is "
		             "not known)\n");
		return DC_CONFIG_USAGE;
	}
	if (check_tls(cfg, err) != DC_CONFIG_OK)
		return DC_CONFIG_USAGE;
	return check_replies(cfg, err);
}

uint64_t dc_config_drain_ms(const dc_config *cfg)
{
	if (cfg->drain_ms != 0)
		return cfg->drain_ms;
	return 4 * (uint64_t)cfg->call_timeout_ms + cfg->lease_ms;
}

bool dc_config_leases(const dc_config *cfg)
{
	const char *s = cfg->log_dir;

	return cfg->nshards > 1 && s != NULL &&
	       (strncmp(s, "postgresql://", 13) == 0 ||
	        strncmp(s, "postgres://", 11) == 0);
}

bool dc_config_has_fault_points(void)
{
#ifdef DTX_FAULT_POINTS
	return true;
#else
	return false;
#endif
}

int dc_config_parse(dc_config *cfg, int argc, char **argv, FILE *out, FILE *err)
{
	int c, rv;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (c == '?') {
			fprintf(err,
			        "dtxd: unknown or incomplete option '%s'\n",
			        argv[optind - 1]);
			return DC_CONFIG_USAGE;
		}
		rv = parse_one(cfg, c, optarg, out, err);
		if (rv != DC_CONFIG_OK)
			return rv;
	}
	if (optind < argc) {
		fprintf(err, "dtxd: unexpected argument '%s'\n", argv[optind]);
		return DC_CONFIG_USAGE;
	}
	return dc_config_finish(cfg, err);
}
