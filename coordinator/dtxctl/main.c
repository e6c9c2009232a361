/*
 * main.c - dtxctl, the operator CLI of dtx: flags, commands, exit codes.
 *
 * Every command becomes one AdminRequest, sent to a running dtxd's admin
 * endpoint (online.c) or, with --log DIR (--store URI: the same, or a
 * PostgreSQL store), answered from a stopped dtxd's
 * log (offline.c, reads only); the AdminReply is printed by output.c.
 * Exit codes follow <sysexits.h> and are documented in dtxctl(1):
 *   0 done; 64 EX_USAGE bad flags; 65 EX_DATAERR the action does not apply
 *   to the transaction (mode, state, branch) or the log has bad records;
 *   66 EX_NOINPUT no such transaction / no log; 69 EX_UNAVAILABLE the
 *   coordinator cannot be reached or did not answer in time; 70
 *   EX_SOFTWARE internal error; 71 EX_OSERR out of memory; 74 EX_IOERR
 *   the log cannot be read; 76 EX_PROTOCOL a reply that does not decode;
 *   77 EX_NOPERM the admin endpoint refused this user (--admin-allow-*).
 *   With --select (a changing verb on a selection): 0 every selected
 *   transaction done (or none selected), 2 (EX_SOME) some done, 65 none.
 * A refused command changes nothing.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <dtx/dtx.h>

#include "ctl.h"

#define ADMIN_DEFAULT  "tcp://127.0.0.1:7401"
#define WATCH_POLL_MAX 1000 /* lines per watch poll (dtxd's most) */
/* An action on another instance's shard is answered DTX_EMOVED naming the
 * owner's admin URL; dtxctl asks that owner, at most this many times (an
 * owner changes at most once per lease round; two hops cover a hand-over
 * seen late by both ends). */
#define CTL_HOPS_MAX 3

/* Option bits: which flags were given, and which a command accepts. */
enum {
	F_FILTER = 1 << 0, /* list filters and paging */
	F_QUIET = 1 << 1,
	F_EVENTS = 1 << 2,
	F_ACT = 1 << 3, /* --reason --dry-run --user */
	F_AS = 1 << 4,
	F_WATCH = 1 << 5,
	F_HANDLER = 1 << 6, /* list: a filter; set-branch: the new handler */
	F_SET = 1 << 7,     /* set-branch: --url --op */
	F_LIMIT = 1 << 8,   /* list: page size; --select: most touched */
	F_SELECT = 1 << 9,  /* a changing verb on a selection */
	F_FULL = 1 << 10,   /* show --full */
};

/* Most transactions a --select touches unless --limit says otherwise:
 * small, so that a selection broader than meant does little. */
#define SELECT_LIMIT_DEFAULT 10
/* Exit code of a --select of which some, not all, were done. */
#define EX_SOME 2

typedef struct cmd_def {
	const char *name;
	Dtx__V1__AdminAction action; /* 0 = a read */
	int args;                    /* positional arguments after the name */
	unsigned allowed;
	const char *usage;
} cmd_def;

static const cmd_def cmds[] = {
        {"list", 0, 0, F_FILTER | F_HANDLER | F_QUIET | F_LIMIT,
         "list [--state S] [--mode saga|tcc] [--older-than DUR]\n"
         "     [--needs-operator] [--handler NAME] [--participant URL]\n"
         "     [--key KEY] [--label NAME=VALUE]... [--all] [--limit N]\n"
         "     [--after GID] [-q]\n"
         "  Transactions, oldest id first; non-final ones unless --all or\n"
         "  --state names a final state. Pages of --limit (100); the next\n"
         "  page starts --after the last gid shown. -q prints bare gids.\n"
         "  DUR is N[ms|s|m|h|d]."},
        {"show", 0, 1, F_EVENTS | F_FULL,
         "show GID [--events N] [--full]\n"
         "  State, deadline, each branch (state, attempts, current error,\n"
         "  next retry, participant URL, payload and result: UTF-8 text,\n"
         "  else hex; the first 256 bytes of each, --full for all) and the\n"
         "  newest N (200) lines of the timeline."},
        {"retry", DTX__V1__ADMIN_ACTION__ADMIN_RETRY, 1, F_ACT,
         "retry GID --reason TEXT [--dry-run]\n"
         "  Call every branch waiting for a backoff now."},
        {"compensate", DTX__V1__ADMIN_ACTION__ADMIN_COMPENSATE, 1, F_ACT,
         "compensate GID --reason TEXT [--dry-run]\n"
         "  Saga: stop going forward and compensate every step done (the\n"
         "  step in flight too: its effect is unknown)."},
        {"cancel", DTX__V1__ADMIN_ACTION__ADMIN_CANCEL, 1, F_ACT,
         "cancel GID --reason TEXT [--dry-run]\n"
         "  TCC, not yet confirming: cancel every branch."},
        {"commit", DTX__V1__ADMIN_ACTION__ADMIN_COMMIT, 1, F_ACT,
         "commit GID --reason TEXT [--dry-run] [--force]\n"
         "  Initiator-driven TCC, still running: confirm every branch.\n"
         "  Refused while a Try is not recorded OK (each one is named):\n"
         "  check the participants, then --force with the reason."},
        {"pause", DTX__V1__ADMIN_ACTION__ADMIN_PAUSE, 1, F_ACT,
         "pause GID --reason TEXT [--dry-run]\n"
         "  Send no branch call until resume (survives a restart)."},
        {"resume", DTX__V1__ADMIN_ACTION__ADMIN_RESUME, 1, F_ACT,
         "resume GID --reason TEXT [--dry-run]\n"
         "  Send calls again; every call held back goes out now."},
        {"skip-branch", DTX__V1__ADMIN_ACTION__ADMIN_SKIP, 2, F_ACT | F_AS,
         "skip-branch GID BRANCH --as done|failed --reason TEXT [--dry-run]\n"
         "            [--force]\n"
         "  A branch repaired by hand: treat its pending call as answered\n"
         "  OK (done) or refused (failed; actions and Tries only). --as done\n"
         "  of an action or Try (never answered OK), or of a Confirm whose\n"
         "  Try was forced, records an effect the log does not show: it\n"
         "  needs --force."},
        {"set-branch", DTX__V1__ADMIN_ACTION__ADMIN_SET_BRANCH, 2,
         F_ACT | F_SET | F_HANDLER,
         "set-branch GID BRANCH [--url URL] [--handler NAME [--op OP]]\n"
         "           --reason TEXT [--dry-run]\n"
         "  Point a branch at its service's new URL and/or a corrected\n"
         "  handler name: of the call in flight, or of --op (action,\n"
         "  compensate, try, confirm, cancel). Recorded in the timeline;\n"
         "  the call in flight goes out again at once (unless paused)."},
        {"shards", 0, 0, 0,
         "shards\n"
         "  Every shard of a store that several dtxd share: state (owned,\n"
         "  draining, unowned), owner, epoch, owned since, the owner's\n"
         "  heartbeat age and its URLs, as the instance asked knows them\n"
         "  (--store: as stored; heartbeat age from the owner's clock)."},
        {"stats", 0, 0, 0,
         "stats\n"
         "  Counts by mode and state, needs-operator and paused counts, the\n"
         "  oldest non-final transaction."},
        {"watch", 0, 0, F_WATCH,
         "watch [--gid GID] [--count N] [--for DUR] [--interval-ms MS]\n"
         "  Follow transitions as they are made (polls the coordinator's\n"
         "  ring of recent transitions), until interrupted, N lines or DUR.\n"
         "  --gid: that transaction's lines only, from the oldest the ring\n"
         "  still holds; --count counts its lines only."},
        {"log", 0, 1, 0,
         "log check --log DIR|--store URI\n"
         "  Verify every record's checksum in a log (read-only)."},
};

typedef struct ctl {
	const char *admin;
	const char *log_dir;
	tlsconf_files tls; /* --tls-*: for a tls+tcp:// --admin */
	ctl_format fmt;
	uint32_t timeout_ms;
	unsigned given;
	bool quiet, dry_run, force, help, full;
	const char *reason, *user, *as, *watch_gid, *url;
	int op; /* set-branch --op; 0 = none */
	const char *select;
	char *labels[WIRE_LABELS_MAX];
	Dtx__V1__AdminFilter filter;
	Dtx__V1__AdminList list;
	uint32_t events;
	uint64_t count, for_ms;
	uint32_t interval_ms;
	const cmd_def *cmd;
	char *args[2];
	int nargs;
	int hops; /* redirects followed (CTL_HOPS_MAX) */
} ctl;

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void usage_all(FILE *f)
{
	fputs("usage: dtxctl [--admin URL | --log DIR | --store URI]\n"
	      "              [-o|--output table|json|jsonl]\n"
	      "              [--timeout-ms MS] COMMAND [ARGS] [--help]\n"
	      "              [--tls-cert FILE --tls-key FILE "
	      "[--tls-key-passphrase P]]\n"
	      "              [--tls-ca FILE]\n\n"
	      "Find, understand and repair dtx transactions.\n"
	      "--admin defaults to $DTXCTL_ADMIN or " ADMIN_DEFAULT ".\n"
	      "A tls+tcp:// --admin needs --tls-ca (the CA dtxd's "
	      "certificate chains to)\nand, as dtxd asks for one, the "
	      "operator's certificate and key; defaults:\n"
	      "$DTXCTL_TLS_CERT, $DTXCTL_TLS_KEY, $DTXCTL_TLS_KEY_PASSPHRASE, "
	      "$DTXCTL_TLS_CA.\n"
	      "Commands:\n",
	      f);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %s\n", cmds[i].usage);
	fputs("\nEvery changing verb takes --select 'TERM,...' [--limit N] "
	      "instead of GID:\n"
	      "  TERM is state=S, mode=saga|tcc, handler=NAME, "
	      "participant=URL,\n"
	      "  older-than=DUR, key=KEY, label=NAME=VALUE or needs-operator; "
	      "at most\n"
	      "  N (10) transactions are touched, each with the one --reason; "
	      "--dry-run\n"
	      "  lists them and what would be refused.\n",
	      f);
	fputs("\nExit codes: 0 ok, 64 usage, 65 does not apply / bad records,"
	      "\n66 no such transaction, 69 coordinator unavailable, 70 "
	      "internal,\n71 out of memory, 74 log unreadable, 76 bad reply, "
	      "77 not allowed.\nWith --select: 0 every selected one done (or "
	      "none "
	      "selected),\n2 some done, 65 none.\nSee dtxctl(1).\n",
	      f);
}

static int usage_error(const char *fmt, ...)
        __attribute__((format(printf, 1, 2)));

/* usage_error reports a bad command line on stderr; returns EX_USAGE. */
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dtxctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see dtxctl --help)\n");
	return EX_USAGE;
}

/* ---- flag values ---------------------------------------------------- */

static bool parse_u64(const char *s, uint64_t max, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (s == NULL || *s < '0' || *s > '9')
		return false;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*ret = v;
	return true;
}

/* parse_duration reads N[ms|s|m|h|d] (no unit = ms) into milliseconds. */
static bool parse_duration(const char *s, uint64_t *ret_ms)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {{"", 1},      {"ms", 1},      {"s", 1000},
	             {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
	char num[32];
	size_t n = strspn(s, "0123456789");
	uint64_t v;

	if (n == 0 || n >= sizeof(num))
		return false;
	memcpy(num, s, n);
	num[n] = '\0';
	if (!parse_u64(num, UINT64_MAX / 86400000, &v))
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(s + n, units[i].unit) == 0) {
			*ret_ms = v * units[i].ms;
			return true;
		}
	return false;
}

static bool parse_state(const char *s, Dtx__V1__TxState *ret)
{
	for (int i = 1; i <= DTX__V1__TX_STATE__TX_CANCELLED; i++)
		if (strcasecmp(s, dtx_tx_state_name(i)) == 0) {
			*ret = (Dtx__V1__TxState)i;
			return true;
		}
	return false;
}

static bool state_is_final(Dtx__V1__TxState s)
{
	return s == DTX__V1__TX_STATE__TX_COMMITTED ||
	       s == DTX__V1__TX_STATE__TX_COMPENSATED ||
	       s == DTX__V1__TX_STATE__TX_CANCELLED;
}

/* ---- flags ----------------------------------------------------------- */

enum {
	O_ADMIN = 256,
	O_LOG,
	O_TIMEOUT,
	O_STATE,
	O_MODE,
	O_OLDER,
	O_NEEDS_OP,
	O_HANDLER,
	O_PARTICIPANT,
	O_ALL,
	O_KEY,
	O_LABEL,
	O_AFTER,
	O_LIMIT,
	O_SELECT,
	O_EVENTS,
	O_REASON,
	O_DRY_RUN,
	O_FORCE,
	O_USER,
	O_AS,
	O_URL,
	O_OP,
	O_GID,
	O_COUNT,
	O_FOR,
	O_INTERVAL,
	O_HELP,
	O_VERSION,
	O_FULL,
	O_TLS_CERT,
	O_TLS_KEY,
	O_TLS_PASS,
	O_TLS_CA,
};

static const struct option options[] = {
        {"admin", required_argument, NULL, O_ADMIN},
        {"log", required_argument, NULL, O_LOG},
        {"store", required_argument, NULL, O_LOG},
        {"output", required_argument, NULL, 'o'},
        {"timeout-ms", required_argument, NULL, O_TIMEOUT},
        {"state", required_argument, NULL, O_STATE},
        {"mode", required_argument, NULL, O_MODE},
        {"older-than", required_argument, NULL, O_OLDER},
        {"needs-operator", no_argument, NULL, O_NEEDS_OP},
        {"handler", required_argument, NULL, O_HANDLER},
        {"participant", required_argument, NULL, O_PARTICIPANT},
        {"all", no_argument, NULL, O_ALL},
        {"key", required_argument, NULL, O_KEY},
        {"label", required_argument, NULL, O_LABEL},
        {"select", required_argument, NULL, O_SELECT},
        {"limit", required_argument, NULL, O_LIMIT},
        {"after", required_argument, NULL, O_AFTER},
        {"quiet", no_argument, NULL, 'q'},
        {"events", required_argument, NULL, O_EVENTS},
        {"reason", required_argument, NULL, O_REASON},
        {"dry-run", no_argument, NULL, O_DRY_RUN},
        {"force", no_argument, NULL, O_FORCE},
        {"user", required_argument, NULL, O_USER},
        {"as", required_argument, NULL, O_AS},
        {"url", required_argument, NULL, O_URL},
        {"op", required_argument, NULL, O_OP},
        {"gid", required_argument, NULL, O_GID},
        {"count", required_argument, NULL, O_COUNT},
        {"for", required_argument, NULL, O_FOR},
        {"interval-ms", required_argument, NULL, O_INTERVAL},
        {"help", no_argument, NULL, O_HELP},
        {"version", no_argument, NULL, O_VERSION},
        {"full", no_argument, NULL, O_FULL},
        {"tls-cert", required_argument, NULL, O_TLS_CERT},
        {"tls-key", required_argument, NULL, O_TLS_KEY},
        {"tls-key-passphrase", required_argument, NULL, O_TLS_PASS},
        {"tls-ca", required_argument, NULL, O_TLS_CA},
        {NULL, 0, NULL, 0},
};

/* bad_option names the option getopt refused (arg: the argument it was
 * in): unknown, or given without the value it needs. */
static int bad_option(const char *arg)
{
	size_t n = strcspn(arg + 2, "=");

	if (arg[0] == '-' && arg[1] == '-')
		for (const struct option *o = options; o->name != NULL; o++)
			if (strlen(o->name) == n &&
			    strncmp(o->name, arg + 2, n) == 0)
				return usage_error(
				        o->has_arg == required_argument
				                ? "option '%s' needs a "
				                  "value"
				                : "option '%s' takes no "
				                  "value",
				        arg);
	if (arg[0] == '-' && arg[1] == 'o' && arg[2] == '\0')
		return usage_error("option '-o' needs a value (table, json "
		                   "or jsonl)");
	return usage_error("unknown option '%s'", arg);
}

static int flag_filter(ctl *c, int o, const char *arg)
{
	Dtx__V1__AdminFilter *f = &c->filter;
	uint64_t v;

	c->given |= F_FILTER;
	switch (o) {
	case O_STATE:
		if (!parse_state(arg, &f->state))
			return usage_error("unknown state '%s'", arg);
		f->has_state = 1;
		return 0;
	case O_MODE:
		if (strcmp(arg, "saga") && strcmp(arg, "tcc"))
			return usage_error("--mode is saga or tcc, not '%s'",
			                   arg);
		f->has_mode = 1;
		f->mode = arg[0] == 's' ? DTX__V1__MODE__MODE_SAGA
		                        : DTX__V1__MODE__MODE_TCC;
		return 0;
	case O_OLDER:
		if (!parse_duration(arg, &v))
			return usage_error("bad duration '%s'", arg);
		f->has_older_than_ms = 1;
		f->older_than_ms = v;
		return 0;
	case O_NEEDS_OP:
		f->has_needs_operator = f->needs_operator = 1;
		return 0;
	case O_PARTICIPANT:
		f->participant = (char *)arg;
		return 0;
	case O_ALL:
		f->has_include_final = f->include_final = 1;
		return 0;
	case O_KEY:
		f->key = (char *)arg;
		return 0;
	case O_LABEL:
		if (strchr(arg, '=') == NULL || f->n_labels >= WIRE_LABELS_MAX)
			return usage_error(
			        "--label is NAME=VALUE (at most %d), "
			        "not '%s'",
			        WIRE_LABELS_MAX, arg);
		c->labels[f->n_labels++] = (char *)arg;
		f->labels = c->labels;
		return 0;
	default: /* O_AFTER */
		c->list.after_gid = (char *)arg;
		return 0;
	}
}

static int flag_other(ctl *c, int o, const char *arg)
{
	uint64_t v;

	switch (o) {
	case O_EVENTS:
		c->given |= F_EVENTS;
		if (!parse_u64(arg, 5000, &v) || v == 0)
			return usage_error("--events is 1..5000, not '%s'",
			                   arg);
		c->events = (uint32_t)v;
		return 0;
	case O_REASON:
		c->given |= F_ACT;
		c->reason = arg;
		return 0;
	case O_DRY_RUN:
		c->given |= F_ACT;
		c->dry_run = true;
		return 0;
	case O_FORCE:
		c->given |= F_ACT;
		c->force = true;
		return 0;
	case O_USER:
		c->given |= F_ACT;
		c->user = arg;
		return 0;
	case O_AS:
		c->given |= F_AS;
		if (strcmp(arg, "done") && strcmp(arg, "failed"))
			return usage_error("--as is done or failed, not '%s'",
			                   arg);
		c->as = arg;
		return 0;
	case O_HANDLER:
		c->given |= F_HANDLER;
		c->filter.handler = (char *)arg;
		return 0;
	case O_LIMIT:
		c->given |= F_LIMIT;
		if (!parse_u64(arg, WIRE_ADMIN_LIST_MAX, &v) || v == 0)
			return usage_error("--limit is 1..1000, not '%s'", arg);
		c->list.has_limit = 1;
		c->list.limit = (uint32_t)v;
		return 0;
	case O_SELECT:
		c->given |= F_SELECT | F_LIMIT;
		c->select = arg;
		return 0;
	case O_URL:
		c->given |= F_SET;
		c->url = arg;
		return 0;
	case O_OP:
		c->given |= F_SET;
		for (int i = DTX_OP_ACTION; i <= DTX_OP_CANCEL; i++)
			if (strcmp(arg, dtx_op_name(i)) == 0)
				c->op = i;
		return c->op != 0 ? 0
		                  : usage_error("--op is action, compensate, "
		                                "try, confirm or cancel, not "
		                                "'%s'",
		                                arg);
	case O_GID:
		c->given |= F_WATCH;
		c->watch_gid = arg;
		return 0;
	case O_COUNT:
		c->given |= F_WATCH;
		return parse_u64(arg, UINT32_MAX, &c->count) && c->count
		               ? 0
		               : usage_error("bad --count '%s'", arg);
	case O_FOR:
		c->given |= F_WATCH;
		return parse_duration(arg, &c->for_ms)
		               ? 0
		               : usage_error("bad duration '%s'", arg);
	default: /* O_INTERVAL */
		c->given |= F_WATCH;
		if (!parse_u64(arg, 60000, &v) || v < 10)
			return usage_error("--interval-ms is 10..60000, not "
			                   "'%s'",
			                   arg);
		c->interval_ms = (uint32_t)v;
		return 0;
	}
}

static int flag(ctl *c, int o, const char *arg)
{
	uint64_t v;

	switch (o) {
	case O_ADMIN:
		c->admin = arg;
		return 0;
	case O_TLS_CERT:
		c->tls.cert = arg;
		return 0;
	case O_TLS_KEY:
		c->tls.key = arg;
		return 0;
	case O_TLS_PASS:
		c->tls.key_pass = arg;
		return 0;
	case O_TLS_CA:
		c->tls.ca = arg;
		return 0;
	case O_LOG:
		c->log_dir = arg;
		return 0;
	case 'o':
		if (strcmp(arg, "table") == 0)
			c->fmt = CTL_TABLE;
		else if (strcmp(arg, "json") == 0)
			c->fmt = CTL_JSON;
		else if (strcmp(arg, "jsonl") == 0)
			c->fmt = CTL_JSONL;
		else
			return usage_error("--output is table, json or jsonl, "
			                   "not '%s'",
			                   arg);
		return 0;
	case O_TIMEOUT:
		if (!parse_u64(arg, 3600000, &v) || v == 0)
			return usage_error("bad --timeout-ms '%s'", arg);
		c->timeout_ms = (uint32_t)v;
		return 0;
	case 'q':
		c->given |= F_QUIET;
		c->quiet = true;
		return 0;
	case O_HELP:
		c->help = true;
		return 0;
	case O_VERSION:
		printf("dtxctl %d.%d.%d\n", DTX_VERSION_MAJOR,
		       DTX_VERSION_MINOR, DTX_VERSION_PATCH);
		exit(0);
	case O_FULL:
		c->given |= F_FULL;
		c->full = true;
		return 0;
	case '?':
		return bad_option(arg);
	default:
		if (o >= O_STATE && o <= O_AFTER && o != O_HANDLER)
			return flag_filter(c, o, arg);
		return flag_other(c, o, arg);
	}
}

static const cmd_def *find_cmd(const char *name)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

static int positional(ctl *c, char *arg)
{
	if (c->cmd == NULL) {
		if ((c->cmd = find_cmd(arg)) == NULL &&
		    strcmp(arg, "help") != 0)
			return usage_error("unknown command '%s'", arg);
		if (c->cmd == NULL)
			c->help = true;
		return 0;
	}
	if (c->nargs >= c->cmd->args)
		return usage_error("unexpected argument '%s'", arg);
	c->args[c->nargs++] = arg;
	return 0;
}

static int parse(ctl *c, int argc, char **argv)
{
	int o, rv;

	opterr = 0;
	/* "-" first: positional arguments come back in order as 1. */
	while ((o = getopt_long(argc, argv, "-qo:", options, NULL)) != -1) {
		/* a refused option is the argument before optind */
		rv = o == 1     ? positional(c, optarg)
		     : o == '?' ? flag(c, o, argv[optind - 1])
		                : flag(c, o, optarg);
		if (rv != 0)
			return rv;
	}
	return 0;
}

/* stray_name names the first option group in bits, which the command
 * does not take. */
static const char *stray_name(unsigned bits)
{
	static const struct {
		unsigned bit;
		const char *names;
	} groups[] = {
	        {F_FILTER, "--state/--mode/--older-than/--needs-operator/"
	                   "--participant/--all/--after/--key/--label"},
	        {F_QUIET, "-q"},
	        {F_EVENTS, "--events"},
	        {F_ACT, "--reason/--dry-run/--user"},
	        {F_AS, "--as"},
	        {F_WATCH, "--gid/--count/--for/--interval-ms"},
	        {F_FULL, "--full"},
	        {F_HANDLER, "--handler"},
	        {F_SET, "--url/--op"},
	        {F_LIMIT, "--limit"},
	        {F_SELECT, "--select"},
	};

	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (bits & groups[i].bit)
			return groups[i].names;
	return "an option given";
}

/* check_cmd refuses flags the command does not take, missing arguments
 * and missing reasons. */
static int check_cmd(ctl *c)
{
	const cmd_def *d = c->cmd;
	unsigned allowed = d->allowed | (d->action ? F_SELECT | F_LIMIT : 0);
	unsigned stray = c->given & ~allowed;

	if (stray != 0)
		return usage_error("%s does not apply to '%s'",
		                   stray_name(stray), d->name);
	if (d->action != 0 && (c->given & F_LIMIT) && c->select == NULL)
		return usage_error("--limit goes with --select%s", "");
	if (c->nargs != d->args - (c->select != NULL))
		return usage_error("'%s' takes %d argument(s)%s", d->name,
		                   d->args - (c->select != NULL),
		                   c->select ? " with --select (no GID)" : "");
	if (d->action != 0 && (c->reason == NULL || c->reason[0] == '\0'))
		return usage_error("'%s' changes a transaction: --reason TEXT "
		                   "is required",
		                   d->name);
	if (d->action == DTX__V1__ADMIN_ACTION__ADMIN_SKIP && c->as == NULL)
		return usage_error("'%s' needs --as done|failed", d->name);
	if (d->action == DTX__V1__ADMIN_ACTION__ADMIN_SET_BRANCH &&
	    c->url == NULL && c->filter.handler == NULL)
		return usage_error("'%s' needs --url URL or --handler NAME",
		                   d->name);
	if (c->op != 0 && c->filter.handler == NULL)
		return usage_error("--op names whose handler --handler "
		                   "changes%s",
		                   "");
	if (c->log_dir != NULL && d->action != 0)
		return usage_error("--log reads only: '%s' needs a running "
		                   "coordinator",
		                   d->name);
	if (c->log_dir != NULL && strcmp(d->name, "watch") == 0)
		return usage_error("--log reads only: '%s' needs a running "
		                   "coordinator",
		                   d->name);
	if (strcmp(d->name, "log") == 0 &&
	    (strcmp(c->args[0], "check") != 0 || c->log_dir == NULL))
		return usage_error(
		        "usage: dtxctl --log DIR|--store URI log check%s", "");
	return 0;
}

/* ---- running a command --------------------------------------------- */

static int exit_of(int code)
{
	switch (code) {
	case DTX_OK:
		return 0;
	case DTX_ENOENT:
		return EX_NOINPUT;
	case DTX_EINVAL:
	case DTX_ETOOBIG:
	case DTX_ECORRUPT:
		return EX_DATAERR;
	case DTX_EUNREACHABLE:
	case DTX_ETIMEDOUT:
	case DTX_ECLOSED:
	case DTX_EBUSY:
	case DTX_EMOVED: /* an owner that could not be found or followed */
		return EX_UNAVAILABLE;
	case DTX_EPROTO:
	case DTX_EVERSION:
		return EX_PROTOCOL;
	case DTX_EIO:
		return EX_IOERR;
	case DTX_ENOMEM:
		return EX_OSERR;
	case DTX_EPERM:
		return EX_NOPERM;
	default:
		return EX_SOFTWARE;
	}
}

/* follow takes a DTX_EMOVED answer to an action (*rep, freed here when
 * followed) to the owner it names: at most CTL_HOPS_MAX times per
 * command, so two instances that name each other (a hand-over in
 * progress) cannot keep dtxctl going. Returns true if *rep was replaced
 * by the owner's answer; false leaves *rep (the last redirect) as is. */
static bool follow(ctl *c, const Dtx__V1__AdminRequest *req,
                   Dtx__V1__AdminReply **rep, int *rv, char *err, size_t len)
{
	static char url[DTX_URL_MAX + 1];
	Dtx__V1__AdminReply *next = NULL;

	if (c->hops >= CTL_HOPS_MAX ||
	    (*rep)->code != DTX__V1__CODE__CODE_EMOVED ||
	    (*rep)->owner_admin_url == NULL ||
	    req->body_case != DTX__V1__ADMIN_REQUEST__BODY_ACT)
		return false;
	c->hops++;
	snprintf(url, sizeof(url), "%s", (*rep)->owner_admin_url);
	fprintf(stderr,
	        "dtxctl: %s is in shard %u, owned elsewhere: asking its "
	        "owner at %s (redirect %d of at most %d)\n",
	        req->act->gid, (unsigned)(*rep)->shard, url, c->hops,
	        CTL_HOPS_MAX);
	c->admin = url;
	*rv = ctl_online_call(c->admin, c->timeout_ms, req, &next, err, len);
	wire_admin_reply_free(*rep);
	*rep = *rv == DTX_OK ? next : NULL;
	return true;
}

static int call(ctl *c, const Dtx__V1__AdminRequest *req,
                Dtx__V1__AdminReply **ret_rep)
{
	char err[400] = "";
	int rv = c->log_dir != NULL
	                 ? ctl_offline_call(c->log_dir, req, ret_rep, err,
	                                    sizeof(err))
	                 : ctl_online_call(c->admin, c->timeout_ms, req,
	                                   ret_rep, err, sizeof(err));

	while (rv == DTX_OK && c->log_dir == NULL &&
	       follow(c, req, ret_rep, &rv, err, sizeof(err)))
		;
	if (rv != DTX_OK) {
		/* a refused --admin URL (its scheme) is a usage error */
		int ex = rv == DTX_EINVAL && c->log_dir == NULL ? EX_USAGE
		                                                : exit_of(rv);
		ctl_print_error(stdout, stderr, c->fmt, c->cmd->name, rv,
		                err[0] ? err : dtx_strerror(rv), ex);
		return ex;
	}
	if ((*ret_rep)->code != DTX__V1__CODE__CODE_OK) {
		int code = (int)(*ret_rep)->code;
		ctl_print_error(stdout, stderr, c->fmt, c->cmd->name, code,
		                (*ret_rep)->message ? (*ret_rep)->message
		                                    : dtx_strerror(code),
		                exit_of(code));
		wire_admin_reply_free(*ret_rep);
		return exit_of(code);
	}
	return 0;
}

static void build(ctl *c, Dtx__V1__AdminRequest *req, Dtx__V1__AdminShow *sh,
                  Dtx__V1__AdminAct *act, Dtx__V1__AdminShards *sha)
{
	const cmd_def *d = c->cmd;

	req->has_version = 1;
	req->version = DTX__V1__VERSION__VERSION_1;
	if (d->action != 0) {
		req->body_case = DTX__V1__ADMIN_REQUEST__BODY_ACT;
		req->act = act;
		act->has_action = act->has_dry_run = 1;
		act->action = d->action;
		act->gid = c->args[0];
		act->reason = (char *)c->reason;
		act->user = (char *)c->user;
		act->dry_run = c->dry_run;
		act->has_force = c->force;
		act->force = c->force;
		if (d->action == DTX__V1__ADMIN_ACTION__ADMIN_SET_BRANCH) {
			act->url = (char *)c->url;
			act->handler = c->filter.handler;
			act->has_op = c->op != 0;
			act->op = (Dtx__V1__Op)c->op;
		}
	} else if (strcmp(d->name, "show") == 0) {
		req->body_case = DTX__V1__ADMIN_REQUEST__BODY_SHOW;
		req->show = sh;
		sh->gid = c->args[0];
		sh->has_max_events = c->events != 0;
		sh->max_events = c->events;
		sh->has_max_field_bytes = c->full;
		sh->max_field_bytes = UINT32_MAX; /* the reply's bound cuts */
	} else if (strcmp(d->name, "shards") == 0) {
		req->body_case = DTX__V1__ADMIN_REQUEST__BODY_SHARDS;
		req->shards = sha;
	} else if (strcmp(d->name, "list") == 0) {
		req->body_case = DTX__V1__ADMIN_REQUEST__BODY_LIST;
		req->list = &c->list;
		c->list.filter = &c->filter;
		if (c->filter.has_state && state_is_final(c->filter.state))
			c->filter.has_include_final = c->filter.include_final =
			        1;
	}
}

/* list_page asks for one page of at most want transactions after the
 * cursor in c->list and appends its transactions to *txs. */
static int list_page(ctl *c, const Dtx__V1__AdminRequest *req, uint32_t want,
                     Dtx__V1__AdminReply **ret_rep, Dtx__V1__TxInfo ***txs,
                     size_t *n)
{
	Dtx__V1__TxInfo **grown;
	int rv;

	c->list.has_limit = 1;
	c->list.limit = want;
	if ((rv = call(c, req, ret_rep)) != 0)
		return rv;
	grown = realloc(*txs, (*n + (*ret_rep)->n_txs + 1) * sizeof(**txs));
	if (grown == NULL) {
		wire_admin_reply_free(*ret_rep);
		ctl_print_error(stdout, stderr, c->fmt, c->cmd->name,
		                DTX_ENOMEM, "out of memory", EX_OSERR);
		return EX_OSERR;
	}
	*txs = grown;
	for (size_t i = 0; i < (*ret_rep)->n_txs; i++)
		(*txs)[(*n)++] = (*ret_rep)->txs[i];
	return 0;
}

/* run_list prints one page of --limit transactions. The coordinator reads
 * a bounded number of records per request, so with a filter that matches
 * few a reply may hold fewer and a cursor: dtxctl follows the cursors
 * until the page is full or the log ends, and prints it as one. */
static int run_list(ctl *c, Dtx__V1__AdminRequest *req)
{
	uint32_t limit = c->list.has_limit ? c->list.limit : 100;
	Dtx__V1__AdminReply **reps = NULL, **grown, all;
	Dtx__V1__TxInfo **txs = NULL;
	size_t n = 0, nreps = 0;
	int rv = 0;

	do {
		Dtx__V1__AdminReply *rep;
		if ((grown = realloc(reps, (nreps + 1) * sizeof(*reps))) ==
		    NULL) {
			rv = EX_OSERR;
			break;
		}
		reps = grown;
		if ((rv = list_page(c, req, limit - (uint32_t)n, &rep, &txs,
		                    &n)) != 0)
			break;
		reps[nreps++] = rep;
		c->list.after_gid = rep->next_after_gid;
	} while (c->list.after_gid != NULL && n < limit);
	if (rv == 0) {
		all = *reps[nreps - 1];
		all.n_txs = n;
		all.txs = txs;
		ctl_print(stdout, c->fmt, c->cmd->name, &all, c->quiet);
	}
	for (size_t i = 0; i < nreps; i++)
		wire_admin_reply_free(reps[i]);
	free(reps);
	free(txs);
	return rv;
}

/* select_act runs c's action on gid (one of a selection): prints its
 * line; returns 0 (done, or would be), 1 (refused) or an exit code of a
 * failure that ends the selection (transport, protocol). */
static int select_act(ctl *c, Dtx__V1__AdminRequest *req,
                      Dtx__V1__AdminAct *act, char *gid)
{
	char err[400] = "";
	Dtx__V1__AdminReply *rep = NULL;
	int rv, code;

	act->gid = gid;
	rv = ctl_online_call(c->admin, c->timeout_ms, req, &rep, err,
	                     sizeof(err));
	if (rv != DTX_OK) {
		ctl_print_error(stdout, stderr, c->fmt, c->cmd->name, rv,
		                err[0] ? err : dtx_strerror(rv), exit_of(rv));
		return exit_of(rv);
	}
	code = (int)rep->code;
	ctl_print_selected(stdout, c->fmt, c->cmd->name, gid, code,
	                   code ? rep->message : NULL, rep);
	wire_admin_reply_free(rep);
	return code == 0 ? 0 : 1;
}

/* select_list follows the list's cursors (dtxd reads a bounded number of
 * records per request) until limit transactions matched or the log ends;
 * the replies (*ret_reps, at least one on success) own the txs. */
static int select_list(ctl *c, const Dtx__V1__AdminRequest *lreq,
                       uint32_t limit, Dtx__V1__AdminReply ***ret_reps,
                       size_t *nreps, Dtx__V1__TxInfo ***txs, size_t *n)
{
	Dtx__V1__AdminReply *rep, **grown;
	int rv;

	do {
		grown = realloc(*ret_reps, (*nreps + 1) * sizeof(*grown));
		if (grown == NULL)
			return EX_OSERR;
		*ret_reps = grown;
		rv = list_page(c, lreq, limit - (uint32_t)*n, &rep, txs, n);
		if (rv != 0)
			return rv;
		(*ret_reps)[(*nreps)++] = rep;
		c->list.after_gid = rep->next_after_gid;
	} while (c->list.after_gid != NULL && *n < limit);
	return 0;
}

/* run_select lists the transactions --select names, at most --limit
 * (SELECT_LIMIT_DEFAULT), and runs the action on each with the one
 * reason. Exit: 0 every one done (or none selected), EX_SOME some done,
 * EX_DATAERR none done; a failure to reach the coordinator ends it with
 * its own code. */
static int run_select(ctl *c, Dtx__V1__AdminRequest *req,
                      Dtx__V1__AdminAct *act)
{
	Dtx__V1__AdminRequest lreq = DTX__V1__ADMIN_REQUEST__INIT;
	uint32_t limit =
	        c->list.has_limit ? c->list.limit : SELECT_LIMIT_DEFAULT;
	Dtx__V1__AdminReply *rep, **reps = NULL;
	Dtx__V1__TxInfo **txs = NULL;
	size_t n = 0, nreps = 0, done = 0;
	char err[400];
	int rv = 0;

	if (ctl_select_parse(c->select, &c->filter, c->labels, err,
	                     sizeof(err)) != 0)
		return usage_error("--select: %s", err);
	lreq.has_version = 1;
	lreq.version = DTX__V1__VERSION__VERSION_1;
	lreq.body_case = DTX__V1__ADMIN_REQUEST__BODY_LIST;
	lreq.list = &c->list;
	c->list.filter = &c->filter;
	if ((rv = select_list(c, &lreq, limit, &reps, &nreps, &txs, &n)) != 0)
		return rv;
	rep = reps[nreps - 1];
	for (size_t i = 0; i < n && rv <= 1; i++) {
		rv = select_act(c, req, act, txs[i]->gid);
		done += rv == 0;
	}
	if (rv <= 1) {
		ctl_print_select_summary(stdout, c->fmt, c->cmd->name,
		                         c->dry_run, n, done, limit,
		                         rep->next_after_gid != NULL);
		rv = done == n ? 0 : done > 0 ? EX_SOME : EX_DATAERR;
	}
	for (size_t i = 0; i < nreps; i++)
		wire_admin_reply_free(reps[i]);
	free(reps);
	free(txs);
	return rv;
}

static int run_once(ctl *c)
{
	Dtx__V1__AdminRequest req = DTX__V1__ADMIN_REQUEST__INIT;
	Dtx__V1__AdminShow sh = DTX__V1__ADMIN_SHOW__INIT;
	Dtx__V1__AdminAct act = DTX__V1__ADMIN_ACT__INIT;
	Dtx__V1__AdminStats st = DTX__V1__ADMIN_STATS__INIT;
	Dtx__V1__AdminShards sha = DTX__V1__ADMIN_SHARDS__INIT;
	Dtx__V1__AdminReply *rep;
	uint64_t branch;
	int rv;

	req.body_case = DTX__V1__ADMIN_REQUEST__BODY_STATS;
	req.stats = &st;
	if (c->select != NULL) {
		/* no GID: the arguments after it move up one */
		c->args[1] = c->args[0];
		c->args[0] = NULL;
	}
	build(c, &req, &sh, &act, &sha);
	if (req.body_case == DTX__V1__ADMIN_REQUEST__BODY_LIST)
		return run_list(c, &req);
	if (c->cmd->action == DTX__V1__ADMIN_ACTION__ADMIN_SKIP ||
	    c->cmd->action == DTX__V1__ADMIN_ACTION__ADMIN_SET_BRANCH) {
		if (!parse_u64(c->args[1], UINT32_MAX, &branch))
			return usage_error("BRANCH is a number, not '%s'",
			                   c->args[1]);
		act.has_branch = 1;
		act.branch = (uint32_t)branch;
	}
	if (c->cmd->action == DTX__V1__ADMIN_ACTION__ADMIN_SKIP) {
		act.has_skip_as_done = 1;
		act.skip_as_done = strcmp(c->as, "done") == 0;
	}
	if (c->select != NULL)
		return run_select(c, &req, &act);
	if ((rv = call(c, &req, &rep)) != 0)
		return rv;
	ctl_print(stdout, c->fmt, c->cmd->name, rep, c->quiet);
	wire_admin_reply_free(rep);
	return 0;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* watch_start sets w's cursor for the first poll: with --gid, the oldest
 * transition the ring holds (that transaction's story so far, then what
 * follows: a transaction submitted just before watch started is not
 * missed); else from now on, like tail -f. */
static void watch_start(const ctl *c, Dtx__V1__AdminWatch *w)
{
	if (c->watch_gid == NULL)
		return;
	w->has_after_seq = 1;
	w->after_seq = 0;
}

/* run_watch polls the coordinator's ring of recent transitions; --count
 * counts the lines printed (with --gid, that transaction's only). */
static int run_watch(ctl *c)
{
	Dtx__V1__AdminRequest req = DTX__V1__ADMIN_REQUEST__INIT;
	Dtx__V1__AdminWatch w = DTX__V1__ADMIN_WATCH__INIT;
	Dtx__V1__AdminReply *rep;
	int64_t end = c->for_ms ? mono_ms() + (int64_t)c->for_ms : 0;
	uint64_t seen = 0;
	bool first = true, full;
	int rv;

	req.has_version = 1;
	req.version = DTX__V1__VERSION__VERSION_1;
	req.body_case = DTX__V1__ADMIN_REQUEST__BODY_WATCH;
	req.watch = &w;
	w.has_max_events = 1;
	w.max_events = WATCH_POLL_MAX;
	watch_start(c, &w);
	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);
	while (!interrupted && (end == 0 || mono_ms() < end)) {
		if ((rv = call(c, &req, &rep)) != 0)
			return rv;
		/* the first poll from the ring's start "missed" nothing */
		if (rep->message != NULL && !(first && c->watch_gid != NULL))
			fprintf(stderr, "dtxctl watch: %s\n", rep->message);
		seen += ctl_print_events(stdout, c->fmt, rep, c->watch_gid,
		                         c->count ? c->count - seen : 0);
		first = false;
		w.has_after_seq = 1;
		w.after_seq = rep->next_seq;
		full = rep->n_events >= WATCH_POLL_MAX; /* more: at once */
		wire_admin_reply_free(rep);
		if (c->count != 0 && seen >= c->count)
			break;
		if (!full)
			usleep((useconds_t)c->interval_ms * 1000);
	}
	return 0;
}

static int run_check(ctl *c)
{
	char err[400] = "";
	uint64_t records = 0, bad = 0;
	int rv =
	        ctl_offline_check(c->log_dir, &records, &bad, err, sizeof(err));

	if (rv != DTX_OK) {
		ctl_print_error(stdout, stderr, c->fmt, "log check", rv,
		                err[0] ? err : dtx_strerror(rv), exit_of(rv));
		return exit_of(rv);
	}
	ctl_print_check(stdout, c->fmt, records, bad, err);
	return bad == 0 ? 0 : EX_DATAERR;
}

static const char *env_or_null(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

static void defaults(ctl *c)
{
	const char *env = getenv("DTXCTL_ADMIN");

	memset(c, 0, sizeof(*c));
	dtx__v1__admin_filter__init(&c->filter);
	dtx__v1__admin_list__init(&c->list);
	c->admin = env != NULL && *env ? env : ADMIN_DEFAULT;
	c->timeout_ms = 5000;
	c->interval_ms = 200;
	c->user = getenv("USER");
	c->tls.cert = env_or_null("DTXCTL_TLS_CERT");
	c->tls.key = env_or_null("DTXCTL_TLS_KEY");
	c->tls.key_pass = env_or_null("DTXCTL_TLS_KEY_PASSPHRASE");
	c->tls.ca = env_or_null("DTXCTL_TLS_CA");
}

/* load_tls loads the --tls-* files for a tls+tcp:// --admin; a problem
 * is a usage error naming the flag (exit 64, nothing sent). */
static int load_tls(const ctl *c)
{
	static const char *const flags[TLSCONF_F_COUNT] = {
	        "--tls-cert", "--tls-key", "--tls-key-passphrase", "--tls-ca",
	        "--tls-ca"};
	tlsconf_field field = TLSCONF_F_CA;
	char why[512];

	if (c->log_dir != NULL || !tlsconf_is_tls_url(c->admin))
		return 0;
	if (ctl_online_tls(&c->tls, &field, why, sizeof(why)) == DTX_OK)
		return 0;
	return usage_error("%s: %s", flags[field], why);
}

int main(int argc, char **argv)
{
	ctl c;
	int rv;

	defaults(&c);
	if ((rv = parse(&c, argc, argv)) != 0)
		return rv;
	if (c.help) {
		if (c.cmd != NULL)
			printf("usage: dtxctl %s\n", c.cmd->usage);
		else
			usage_all(stdout);
		return 0;
	}
	if (c.cmd == NULL) {
		usage_all(stderr);
		return EX_USAGE;
	}
	if ((rv = check_cmd(&c)) != 0 || (rv = load_tls(&c)) != 0)
		return rv;
	if (strcmp(c.cmd->name, "log") == 0)
		return run_check(&c);
	if (strcmp(c.cmd->name, "watch") == 0)
		return run_watch(&c);
	return run_once(&c);
}

/* ctl_parse_state / ctl_parse_duration: the flag parsers, for select.c. */
bool ctl_parse_state(const char *s, Dtx__V1__TxState *ret)
{
	return parse_state(s, ret);
}

bool ctl_parse_duration(const char *s, uint64_t *ret_ms)
{
	return parse_duration(s, ret_ms);
}
