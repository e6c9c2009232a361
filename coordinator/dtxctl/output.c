/*
 * output.c - how dtxctl prints (see ctl.h): human tables, or JSON built
 * with jansson (the only dtxctl module that includes it). JSON output puts
 * nothing but JSON on stdout; every object carries "schema": CTL_SCHEMA.
 * The fields are documented in doc/dtxctl.1.scd; add fields, never
 * rename or remove one without raising CTL_SCHEMA.
 */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include <dtx/dtx.h>

#include "ctl.h"
#include "retain.h"

/* ---- JSON ------------------------------------------------------------- */

/* mode_name: 0 is a transaction whose record could not be read. */
static const char *mode_name(int mode)
{
	return mode == DTX__V1__MODE__MODE_TCC    ? "tcc"
	       : mode == DTX__V1__MODE__MODE_SAGA ? "saga"
	                                          : "unknown";
}

static json_t *str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *ms_or_null(protobuf_c_boolean has, int64_t ms)
{
	return has && ms != 0 ? json_integer(ms) : json_null();
}

static json_t *branch_json(const Dtx__V1__StepInfo *s)
{
	return json_pack(
	        "{s:I, s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "index",
	        (json_int_t)s->index, "state",
	        dtx_step_state_name((int)s->state), "attempts",
	        (json_int_t)s->attempts, "last_error",
	        str_or_null(s->last_error), "next_retry_unix_ms",
	        ms_or_null(s->has_next_retry_unix_ms, s->next_retry_unix_ms),
	        "participant_url", str_or_null(s->participant_url), "action",
	        str_or_null(s->action), "compensate",
	        str_or_null(s->compensate), "confirm", str_or_null(s->confirm));
}

static json_t *tx_json(const Dtx__V1__TxInfo *t)
{
	json_t *branches = json_array();
	json_t *o;

	for (size_t i = 0; i < t->n_steps; i++)
		json_array_append_new(branches, branch_json(t->steps[i]));
	o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:o, s:i, s:o, s:b, s:o, "
	              "s:b, s:b, s:o, s:o}",
	              "gid", t->gid, "mode", mode_name((int)t->mode), "state",
	              dtx_tx_state_name((int)t->state), "created_unix_ms",
	              (json_int_t)t->created_unix_ms, "updated_unix_ms",
	              (json_int_t)t->updated_unix_ms, "deadline_unix_ms",
	              ms_or_null(t->has_deadline_unix_ms, t->deadline_unix_ms),
	              "failed_step", (int)t->failed_step, "reason",
	              str_or_null(t->reason), "needs_operator",
	              (int)t->needs_operator, "operator_reason",
	              str_or_null(t->operator_reason), "paused", (int)t->paused,
	              "initiator_driven", (int)t->initiator_driven, "branches",
	              branches, "pruned_unix_ms",
	              ms_or_null(t->has_pruned_unix_ms, t->pruned_unix_ms));
	return o;
}

static json_t *event_json(const Dtx__V1__TimelineEvent *e)
{
	json_t *o = json_pack(
	        "{s:I, s:I, s:s, s:i, s:o, s:s}", "seq", (json_int_t)e->seq,
	        "unix_ms", (json_int_t)e->unix_ms, "tx_state",
	        dtx_tx_state_name((int)e->tx_state), "step", (int)e->step,
	        "step_state",
	        e->has_step_state
	                ? json_string(dtx_step_state_name((int)e->step_state))
	                : json_null(),
	        "detail", e->detail ? e->detail : "");

	if (e->gid != NULL)
		json_object_set_new(o, "gid", json_string(e->gid));
	return o;
}

static json_t *strings_json(char **v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *stats_json(const Dtx__V1__AdminStatsReply *s, int64_t now)
{
	json_t *counts = json_array();
	json_t *oldest = json_null();

	for (size_t i = 0; i < s->n_counts; i++)
		json_array_append_new(
		        counts,
		        json_pack("{s:s, s:s, s:I}", "mode",
		                  mode_name((int)s->counts[i]->mode), "state",
		                  dtx_tx_state_name((int)s->counts[i]->state),
		                  "count", (json_int_t)s->counts[i]->count));
	if (s->oldest_active_gid != NULL)
		oldest = json_pack(
		        "{s:s, s:I, s:I}", "gid", s->oldest_active_gid,
		        "created_unix_ms",
		        (json_int_t)s->oldest_active_created_unix_ms, "age_ms",
		        (json_int_t)(now - s->oldest_active_created_unix_ms));
	return json_pack(
	        "{s:I, s:I, s:I, s:I, s:o, s:o, s:I, s:I, s:o, s:o, "
	        "s:b}",
	        "total", (json_int_t)s->total, "active", (json_int_t)s->active,
	        "needs_operator", (json_int_t)s->needs_operator, "paused",
	        (json_int_t)s->paused, "oldest_active", oldest, "counts",
	        counts, "tombstones", (json_int_t)s->tombstones, "pruned",
	        (json_int_t)s->pruned, "log_used_bytes",
	        ms_or_null(s->has_log_used_bytes, (int64_t)s->log_used_bytes),
	        "log_max_bytes",
	        ms_or_null(s->has_log_max_bytes, (int64_t)s->log_max_bytes),
	        "log_full", (int)s->log_full);
}

/* merge moves every field of x (released) into o. */
static void merge(json_t *o, json_t *x)
{
	json_object_update(o, x);
	json_decref(x);
}

/* code_name is the symbolic name of a dtx error code ("ENOENT"). */
static const char *code_name(int code)
{
	static const char *const names[] = {
	        "OK",        "EINVAL",    "ENOMEM",       "ENOENT", "ETIMEDOUT",
	        "ECLOSED",   "EPROTO",    "ETOOBIG",      "ELIMIT", "EIO",
	        "ENOSPC",    "ECORRUPT",  "EUNREACHABLE", "EBUSY",  "EVERSION",
	        "EINTERNAL", "ECONFLICT", "EMOVED",
	};

	return code >= 0 && (size_t)code < sizeof(names) / sizeof(names[0])
	               ? names[code]
	               : "EINTERNAL";
}

static const char *shard_state_name(int state)
{
	static const char *const names[] = {"?", "owned", "draining", "unowned",
	                                    "unknown"};

	return state >= 0 && (size_t)state < sizeof(names) / sizeof(names[0])
	               ? names[state]
	               : "?";
}

static json_t *shard_json(const Dtx__V1__ShardInfo *s)
{
	return json_pack(
	        "{s:i, s:s, s:o, s:I, s:o, s:o, s:o, s:b, s:o}", "shard",
	        (int)s->shard, "state", shard_state_name((int)s->state),
	        "owner", str_or_null(s->owner), "epoch", (json_int_t)s->epoch,
	        "client_url", str_or_null(s->client_url), "admin_url",
	        str_or_null(s->admin_url), "owned_since_unix_ms",
	        ms_or_null(s->has_owned_since_unix_ms, s->owned_since_unix_ms),
	        "since_is_lower_bound", (int)s->since_is_lower_bound,
	        "heartbeat_age_ms",
	        s->has_heartbeat_age_ms
	                ? json_integer((json_int_t)s->heartbeat_age_ms)
	                : json_null());
}

static json_t *head(const char *cmd)
{
	return json_pack("{s:i, s:s}", "schema", CTL_SCHEMA, "command", cmd);
}

/* reply_json builds the object of command cmd (see the man page). */
static json_t *reply_json(const char *cmd, const Dtx__V1__AdminReply *r)
{
	json_t *o = head(cmd);
	json_t *txs = json_array();

	for (size_t i = 0; i < r->n_txs; i++)
		json_array_append_new(txs, tx_json(r->txs[i]));
	if (strcmp(cmd, "list") == 0) {
		json_object_set_new(o, "transactions", txs);
		json_object_set_new(o, "next_after",
		                    str_or_null(r->next_after_gid));
		return o;
	}
	if (strcmp(cmd, "stats") == 0) {
		json_decref(txs);
		merge(o, stats_json(r->stats, r->now_unix_ms));
		return o;
	}
	if (strcmp(cmd, "shards") == 0) {
		json_t *a = json_array();

		json_decref(txs);
		for (size_t i = 0; i < r->n_shards; i++)
			json_array_append_new(a, shard_json(r->shards[i]));
		json_object_set_new(o, "answered_by",
		                    r->instance && r->instance[0]
		                            ? json_string(r->instance)
		                            : json_null());
		json_object_set_new(o, "shards", a);
		return o;
	}
	json_object_set_new(o, "transaction",
	                    r->n_txs ? json_incref(json_array_get(txs, 0))
	                             : json_null());
	json_decref(txs);
	if (strcmp(cmd, "show") == 0) {
		json_t *tl = json_array();
		for (size_t i = 0; i < r->n_events; i++)
			json_array_append_new(tl, event_json(r->events[i]));
		json_object_set_new(o, "timeline", tl);
		json_object_set_new(o, "timeline_total",
		                    json_integer((json_int_t)r->events_total));
		return o;
	}
	json_object_set_new(o, "dry_run", json_boolean(r->dry_run));
	json_object_set_new(o, "transitions",
	                    strings_json(r->transitions, r->n_transitions));
	json_object_set_new(o, "calls", strings_json(r->calls, r->n_calls));
	return o;
}

static void dump(FILE *out, json_t *o, ctl_format fmt)
{
	size_t flags = fmt == CTL_JSON ? JSON_INDENT(2) : JSON_COMPACT;

	json_dumpf(o, out, flags | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(o);
}

/* ---- tables ----------------------------------------------------------- */

static void fmt_time(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms == 0) {
		snprintf(buf, len, "-");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + strlen(buf), len - strlen(buf), ".%03dZ",
	         (int)(ms % 1000));
}

static void fmt_age(int64_t ms, char *buf, size_t len)
{
	int64_t s = ms / 1000;

	if (s < 120)
		snprintf(buf, len, "%" PRId64 "s", s);
	else if (s < 7200)
		snprintf(buf, len, "%" PRId64 "m", s / 60);
	else
		snprintf(buf, len, "%" PRId64 "h", s / 3600);
}

static void table_list(FILE *out, const Dtx__V1__AdminReply *r)
{
	char age[32];

	fprintf(out, "%-28s %-5s %-13s %6s %8s  %s\n", "GID", "MODE", "STATE",
	        "AGE", "BRANCHES", "FLAGS");
	for (size_t i = 0; i < r->n_txs; i++) {
		const Dtx__V1__TxInfo *t = r->txs[i];
		fmt_age(r->now_unix_ms - t->created_unix_ms, age, sizeof(age));
		fprintf(out, "%-28s %-5s %-13s %6s %8zu  %s%s\n", t->gid,
		        mode_name((int)t->mode),
		        dtx_tx_state_name((int)t->state), age, t->n_steps,
		        t->needs_operator ? "needs-operator " : "",
		        t->paused ? "paused" : "");
	}
	if (r->next_after_gid != NULL)
		fprintf(out, "(more: --after %s)\n", r->next_after_gid);
}

static void table_tx(FILE *out, const Dtx__V1__TxInfo *t)
{
	char a[40], b[40], c[40];

	fmt_time(t->created_unix_ms, a, sizeof(a));
	fmt_time(t->updated_unix_ms, b, sizeof(b));
	fmt_time(t->has_deadline_unix_ms ? t->deadline_unix_ms : 0, c,
	         sizeof(c));
	fprintf(out, "gid:       %s\nmode:      %s%s\nstate:     %s%s\n",
	        t->gid, mode_name((int)t->mode),
	        t->initiator_driven ? " (initiator-driven)" : "",
	        dtx_tx_state_name((int)t->state), t->paused ? " (PAUSED)" : "");
	fprintf(out, "created:   %s\nupdated:   %s\ndeadline:  %s\n", a, b, c);
	if (t->has_pruned_unix_ms) {
		char line[128];
		dc_retain_pruned_message((int)t->state, t->pruned_unix_ms, line,
		                         sizeof(line));
		fprintf(out, "%s\n", line); /* final: committed, details ... */
	}
	if (t->reason != NULL)
		fprintf(out, "reason:    %s\n", t->reason);
	if (t->needs_operator)
		fprintf(out, "NEEDS OPERATOR: %s\n",
		        t->operator_reason ? t->operator_reason : "");
	fprintf(out, "\n%-3s %-13s %4s %-24s %-28s %s\n", "#", "STATE", "TRY",
	        "NEXT RETRY", "HANDLERS", "LAST ERROR");
	for (size_t i = 0; i < t->n_steps; i++) {
		const Dtx__V1__StepInfo *s = t->steps[i];
		char h[3 * DTX_HANDLER_MAX + 8];
		fmt_time(s->has_next_retry_unix_ms ? s->next_retry_unix_ms : 0,
		         a, sizeof(a));
		snprintf(h, sizeof(h), "%s/%s%s%s", s->action ? s->action : "",
		         s->confirm ? s->confirm : "", s->confirm ? "/" : "",
		         s->compensate ? s->compensate : "");
		fprintf(out, "%-3u %-13s %4u %-24s %-28s %s\n", s->index,
		        dtx_step_state_name((int)s->state), s->attempts, a, h,
		        s->last_error ? s->last_error : "");
	}
}

static void table_event(FILE *out, const Dtx__V1__TimelineEvent *e)
{
	char t[40];

	fmt_time(e->unix_ms, t, sizeof(t));
	fprintf(out, "%s  %s%s%-12s ", t, e->gid ? e->gid : "",
	        e->gid ? "  " : "", dtx_tx_state_name((int)e->tx_state));
	if (e->step >= 0)
		fprintf(out, "branch %d %-12s ", (int)e->step,
		        dtx_step_state_name((int)e->step_state));
	fprintf(out, "%s\n", e->detail ? e->detail : "");
}

static void table_stats(FILE *out, const Dtx__V1__AdminReply *r)
{
	const Dtx__V1__AdminStatsReply *s = r->stats;
	char age[32];

	fprintf(out,
	        "total %" PRIu64 ", active %" PRIu64 ", needs-operator %" PRIu64
	        ", paused %" PRIu64 "\n",
	        s->total, s->active, s->needs_operator, s->paused);
	if (s->has_tombstones)
		fprintf(out, "tombstones %" PRIu64 ", pruned %" PRIu64 "\n",
		        s->tombstones, s->pruned);
	if (s->has_log_max_bytes)
		fprintf(out, "log %" PRIu64 " of %" PRIu64 " MiB in use%s\n",
		        s->log_used_bytes >> 20, s->log_max_bytes >> 20,
		        s->log_full ? " (LOG FULL: new transactions refused)"
		                    : "");
	if (s->oldest_active_gid != NULL) {
		fmt_age(r->now_unix_ms - s->oldest_active_created_unix_ms, age,
		        sizeof(age));
		fprintf(out, "oldest active: %s (%s old)\n",
		        s->oldest_active_gid, age);
	}
	fprintf(out, "\n%-5s %-13s %10s\n", "MODE", "STATE", "COUNT");
	for (size_t i = 0; i < s->n_counts; i++)
		fprintf(out, "%-5s %-13s %10" PRIu64 "\n",
		        mode_name((int)s->counts[i]->mode),
		        dtx_tx_state_name((int)s->counts[i]->state),
		        s->counts[i]->count);
}

/* table_shards prints one line per shard; SINCE is ">=" when the
 * answering instance saw that owner at its own start (no earlier). */
static void table_shards(FILE *out, const Dtx__V1__AdminReply *r)
{
	char since[48], beat[32];

	fprintf(out, "answered by %s\n",
	        r->instance && r->instance[0] ? r->instance
	                                      : "the store (offline)");
	fprintf(out, "%5s %-9s %-16s %6s %-26s %9s  %s\n", "SHARD", "STATE",
	        "OWNER", "EPOCH", "OWNED SINCE", "HEARTBEAT", "URLS");
	for (size_t i = 0; i < r->n_shards; i++) {
		const Dtx__V1__ShardInfo *s = r->shards[i];

		since[0] = s->since_is_lower_bound ? '>' : ' ';
		since[1] = s->since_is_lower_bound ? '=' : ' ';
		fmt_time(s->has_owned_since_unix_ms ? s->owned_since_unix_ms
		                                    : 0,
		         since + 2, sizeof(since) - 2);
		if (s->has_heartbeat_age_ms)
			snprintf(beat, sizeof(beat), "%.1fs ago",
			         (double)s->heartbeat_age_ms / 1000.0);
		else
			snprintf(beat, sizeof(beat), "-");
		fprintf(out, "%5u %-9s %-16s %6" PRIu64 " %-26s %9s  %s%s%s\n",
		        (unsigned)s->shard, shard_state_name((int)s->state),
		        s->owner ? s->owner : "-", s->epoch, since, beat,
		        s->client_url ? s->client_url : "-",
		        s->admin_url ? " admin " : "",
		        s->admin_url ? s->admin_url : "");
	}
}

static void table_act(FILE *out, const char *cmd, const Dtx__V1__AdminReply *r)
{
	fprintf(out, "%s%s:\n", r->dry_run ? "dry run, nothing changed: " : "",
	        cmd);
	for (size_t i = 0; i < r->n_transitions; i++)
		fprintf(out, "  %s\n", r->transitions[i]);
	if (r->n_calls > 0)
		fprintf(out, "then:\n");
	for (size_t i = 0; i < r->n_calls; i++)
		fprintf(out, "  %s\n", r->calls[i]);
}

static void table(FILE *out, const char *cmd, const Dtx__V1__AdminReply *r)
{
	if (strcmp(cmd, "list") == 0) {
		table_list(out, r);
	} else if (strcmp(cmd, "stats") == 0) {
		table_stats(out, r);
	} else if (strcmp(cmd, "shards") == 0) {
		table_shards(out, r);
	} else if (strcmp(cmd, "show") == 0) {
		table_tx(out, r->txs[0]);
		fprintf(out, "\ntimeline (%zu of %" PRIu64 "):\n", r->n_events,
		        r->events_total);
		for (size_t i = 0; i < r->n_events; i++)
			table_event(out, r->events[i]);
	} else {
		table_act(out, cmd, r);
	}
}

/* ---- entry points ------------------------------------------------------ */

void ctl_print(FILE *out, ctl_format fmt, const char *cmd,
               const Dtx__V1__AdminReply *rep, bool quiet)
{
	if (quiet && strcmp(cmd, "list") == 0) {
		for (size_t i = 0; i < rep->n_txs; i++)
			fprintf(out, "%s\n", rep->txs[i]->gid);
		return;
	}
	if (fmt == CTL_TABLE) {
		table(out, cmd, rep);
		return;
	}
	if (fmt == CTL_JSONL && strcmp(cmd, "list") == 0) {
		for (size_t i = 0; i < rep->n_txs; i++) {
			json_t *o = head(cmd);
			json_object_set_new(o, "transaction",
			                    tx_json(rep->txs[i]));
			dump(out, o, fmt);
		}
		return;
	}
	dump(out, reply_json(cmd, rep), fmt);
}

void ctl_print_events(FILE *out, ctl_format fmt, const Dtx__V1__AdminReply *rep,
                      const char *gid)
{
	for (size_t i = 0; i < rep->n_events; i++) {
		const Dtx__V1__TimelineEvent *e = rep->events[i];
		json_t *o;
		if (gid != NULL && (e->gid == NULL || strcmp(gid, e->gid) != 0))
			continue;
		if (fmt == CTL_TABLE) {
			table_event(out, e);
			continue;
		}
		o = head("watch");
		merge(o, event_json(e));
		dump(out, o, CTL_JSONL);
	}
	fflush(out);
}

void ctl_print_error(FILE *out, FILE *err, ctl_format fmt, const char *cmd,
                     int code, const char *msg, int exit_code)
{
	fprintf(err, "dtxctl %s: %s (%s)\n", cmd, msg, dtx_strerror(code));
	if (fmt == CTL_TABLE)
		return;
	json_t *o = head(cmd);
	json_object_set_new(o, "error",
	                    json_pack("{s:s, s:s, s:i}", "code",
	                              code_name(code), "message", msg, "exit",
	                              exit_code));
	dump(out, o, fmt);
}

void ctl_print_check(FILE *out, ctl_format fmt, uint64_t records, uint64_t bad,
                     const char *first_problem)
{
	if (fmt == CTL_TABLE) {
		fprintf(out,
		        "%" PRIu64 " records checked, %" PRIu64 " bad%s%s\n",
		        records, bad, bad ? ": " : "",
		        bad ? first_problem : "");
		return;
	}
	json_t *o = head("log check");
	json_object_set_new(o, "records", json_integer((json_int_t)records));
	json_object_set_new(o, "bad", json_integer((json_int_t)bad));
	json_object_set_new(o, "first_problem",
	                    bad ? json_string(first_problem) : json_null());
	dump(out, o, fmt);
}
