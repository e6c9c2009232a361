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
 *   the log cannot be read; 76 EX_PROTOCOL a reply that does not decode.
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

#define ADMIN_DEFAULT "tcp://127.0.0.1:7401"
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
};

typedef struct cmd_def {
	const char *name;
	Dtx__V1__AdminAction action; /* 0 = a read */
	int args;                    /* positional arguments after the name */
	unsigned allowed;
	const char *usage;
} cmd_def;

static const cmd_def cmds[] = {
        {"list", 0, 0, F_FILTER | F_QUIET,
         "list [--state S] [--mode saga|tcc] [--older-than DUR]\n"
         "     [--needs-operator] [--handler NAME] [--participant URL]\n"
         "     [--all] [--limit N] [--after GID] [-q]\n"
         "  Transactions, oldest id first; non-final ones unless --all or\n"
         "  --state names a final state. Pages of --limit (100); the next\n"
         "  page starts --after the last gid shown. -q prints bare gids.\n"
         "  DUR is N[ms|s|m|h|d]."},
        {"show", 0, 1, F_EVENTS,
         "show GID [--events N]\n"
         "  State, deadline, each branch (state, attempts, last error, next\n"
         "  retry) and the newest N (200) lines of the timeline."},
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
         "commit GID --reason TEXT [--dry-run]\n"
         "  Initiator-driven TCC, still running: confirm every branch. Only\n"
         "  when every Try succeeded (check the participants first)."},
        {"pause", DTX__V1__ADMIN_ACTION__ADMIN_PAUSE, 1, F_ACT,
         "pause GID --reason TEXT [--dry-run]\n"
         "  Send no branch call until resume (survives a restart)."},
        {"resume", DTX__V1__ADMIN_ACTION__ADMIN_RESUME, 1, F_ACT,
         "resume GID --reason TEXT [--dry-run]\n"
         "  Send calls again; every call held back goes out now."},
        {"skip-branch", DTX__V1__ADMIN_ACTION__ADMIN_SKIP, 2, F_ACT | F_AS,
         "skip-branch GID BRANCH --as done|failed --reason TEXT [--dry-run]\n"
         "  A branch repaired by hand: treat its pending call as answered\n"
         "  OK (done) or refused (failed; actions and Tries only)."},
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
         "  ring of recent transitions), until interrupted, N lines or DUR."},
        {"log", 0, 1, 0,
         "log check --log DIR|--store URI\n"
         "  Verify every record's checksum in a log (read-only)."},
};

typedef struct ctl {
	const char *admin;
	const char *log_dir;
	ctl_format fmt;
	uint32_t timeout_ms;
	unsigned given;
	bool quiet, dry_run, help;
	const char *reason, *user, *as, *watch_gid;
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
	fputs("usage: dtxctl [--admin URL | --log DIR | --store URI] [--output "
	      "table|json|jsonl]\n"
	      "              [--timeout-ms MS] COMMAND [ARGS] [--help]\n\n"
	      "Find, understand and repair dtx transactions.\n"
	      "--admin defaults to $DTXCTL_ADMIN or " ADMIN_DEFAULT ".\n"
	      "Commands:\n",
	      f);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %s\n", cmds[i].usage);
	fputs("\nExit codes: 0 ok, 64 usage, 65 does not apply / bad records,"
	      "\n66 no such transaction, 69 coordinator unavailable, 70 "
	      "internal,\n71 out of memory, 74 log unreadable, 76 bad reply. "
	      "See dtxctl(1).\n",
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
	O_OUTPUT,
	O_TIMEOUT,
	O_STATE,
	O_MODE,
	O_OLDER,
	O_NEEDS_OP,
	O_HANDLER,
	O_PARTICIPANT,
	O_ALL,
	O_LIMIT,
	O_AFTER,
	O_EVENTS,
	O_REASON,
	O_DRY_RUN,
	O_USER,
	O_AS,
	O_GID,
	O_COUNT,
	O_FOR,
	O_INTERVAL,
	O_HELP,
	O_VERSION,
};

static const struct option options[] = {
        {"admin", required_argument, NULL, O_ADMIN},
        {"log", required_argument, NULL, O_LOG},
        {"store", required_argument, NULL, O_LOG},
        {"output", required_argument, NULL, O_OUTPUT},
        {"timeout-ms", required_argument, NULL, O_TIMEOUT},
        {"state", required_argument, NULL, O_STATE},
        {"mode", required_argument, NULL, O_MODE},
        {"older-than", required_argument, NULL, O_OLDER},
        {"needs-operator", no_argument, NULL, O_NEEDS_OP},
        {"handler", required_argument, NULL, O_HANDLER},
        {"participant", required_argument, NULL, O_PARTICIPANT},
        {"all", no_argument, NULL, O_ALL},
        {"limit", required_argument, NULL, O_LIMIT},
        {"after", required_argument, NULL, O_AFTER},
        {"quiet", no_argument, NULL, 'q'},
        {"events", required_argument, NULL, O_EVENTS},
        {"reason", required_argument, NULL, O_REASON},
        {"dry-run", no_argument, NULL, O_DRY_RUN},
        {"user", required_argument, NULL, O_USER},
        {"as", required_argument, NULL, O_AS},
        {"gid", required_argument, NULL, O_GID},
        {"count", required_argument, NULL, O_COUNT},
        {"for", required_argument, NULL, O_FOR},
        {"interval-ms", required_argument, NULL, O_INTERVAL},
        {"help", no_argument, NULL, O_HELP},
        {"version", no_argument, NULL, O_VERSION},
        {NULL, 0, NULL, 0},
};

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
	case O_HANDLER:
		f->handler = (char *)arg;
		return 0;
	case O_PARTICIPANT:
		f->participant = (char *)arg;
		return 0;
	case O_ALL:
		f->has_include_final = f->include_final = 1;
		return 0;
	case O_LIMIT:
		if (!parse_u64(arg, WIRE_ADMIN_LIST_MAX, &v) || v == 0)
			return usage_error("--limit is 1..1000, not '%s'", arg);
		c->list.has_limit = 1;
		c->list.limit = (uint32_t)v;
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
	case O_LOG:
		c->log_dir = arg;
		return 0;
	case O_OUTPUT:
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
	case '?':
		return usage_error("unknown or incomplete option%s", "");
	default:
		if (o >= O_STATE && o <= O_AFTER)
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
	while ((o = getopt_long(argc, argv, "-q", options, NULL)) != -1) {
		rv = o == 1 ? positional(c, optarg) : flag(c, o, optarg);
		if (rv != 0)
			return rv;
	}
	return 0;
}

/* check_cmd refuses flags the command does not take, missing arguments
 * and missing reasons. */
static int check_cmd(ctl *c)
{
	const cmd_def *d = c->cmd;
	unsigned stray = c->given & ~d->allowed;

	if (stray != 0)
		return usage_error("an option given does not apply to '%s'",
		                   d->name);
	if (c->nargs != d->args)
		return usage_error("'%s' takes more arguments", d->name);
	if (d->action != 0 && (c->reason == NULL || c->reason[0] == '\0'))
		return usage_error("'%s' changes a transaction: --reason TEXT "
		                   "is required",
		                   d->name);
	if (d->action == DTX__V1__ADMIN_ACTION__ADMIN_SKIP && c->as == NULL)
		return usage_error("'%s' needs --as done|failed", d->name);
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
		ctl_print_error(stdout, stderr, c->fmt, c->cmd->name, rv,
		                err[0] ? err : dtx_strerror(rv), exit_of(rv));
		return exit_of(rv);
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
	} else if (strcmp(d->name, "show") == 0) {
		req->body_case = DTX__V1__ADMIN_REQUEST__BODY_SHOW;
		req->show = sh;
		sh->gid = c->args[0];
		sh->has_max_events = c->events != 0;
		sh->max_events = c->events;
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
	build(c, &req, &sh, &act, &sha);
	if (req.body_case == DTX__V1__ADMIN_REQUEST__BODY_LIST)
		return run_list(c, &req);
	if (c->cmd->action == DTX__V1__ADMIN_ACTION__ADMIN_SKIP) {
		if (!parse_u64(c->args[1], UINT32_MAX, &branch))
			return usage_error("BRANCH is a number, not '%s'",
			                   c->args[1]);
		act.has_branch = act.has_skip_as_done = 1;
		act.branch = (uint32_t)branch;
		act.skip_as_done = strcmp(c->as, "done") == 0;
	}
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

/* run_watch polls the coordinator's ring of recent transitions. */
static int run_watch(ctl *c)
{
	Dtx__V1__AdminRequest req = DTX__V1__ADMIN_REQUEST__INIT;
	Dtx__V1__AdminWatch w = DTX__V1__ADMIN_WATCH__INIT;
	Dtx__V1__AdminReply *rep;
	int64_t end = c->for_ms ? mono_ms() + (int64_t)c->for_ms : 0;
	uint64_t seen = 0;
	int rv;

	req.has_version = 1;
	req.version = DTX__V1__VERSION__VERSION_1;
	req.body_case = DTX__V1__ADMIN_REQUEST__BODY_WATCH;
	req.watch = &w;
	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);
	while (!interrupted && (end == 0 || mono_ms() < end)) {
		if ((rv = call(c, &req, &rep)) != 0)
			return rv;
		if (rep->message != NULL)
			fprintf(stderr, "dtxctl watch: %s\n", rep->message);
		ctl_print_events(stdout, c->fmt, rep, c->watch_gid);
		seen += rep->n_events;
		w.has_after_seq = 1;
		w.after_seq = rep->next_seq;
		wire_admin_reply_free(rep);
		if (c->count != 0 && seen >= c->count)
			break;
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
	if ((rv = check_cmd(&c)) != 0)
		return rv;
	if (strcmp(c.cmd->name, "log") == 0)
		return run_check(&c);
	if (strcmp(c.cmd->name, "watch") == 0)
		return run_watch(&c);
	return run_once(&c);
}
