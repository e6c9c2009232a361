/*
 * output.c - how dtxctl prints (see ctl.h): human tables, or JSON built
 * with jansson (the only dtxctl module that includes it). JSON output puts
 * nothing but JSON on stdout; every object carries "schema": CTL_SCHEMA.
 * The fields are documented in doc/dtxctl.1.scd; add fields, never
 * rename or remove one without raising CTL_SCHEMA.
 */
#include <inttypes.h>
#include <stdlib.h>
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

/* ---- payloads and results -------------------------------------------- */

/* utf8_len is the length of the UTF-8 sequence that starts with byte c
 * (0: not a first byte). */
static size_t utf8_len(uint8_t c)
{
	return c < 0x80                ? 1
	       : c >= 0xc2 && c < 0xe0 ? 2
	       : c >= 0xe0 && c < 0xf0 ? 3
	       : c >= 0xf0 && c < 0xf5 ? 4
	                               : 0;
}

/* text_len returns how many of b's len bytes are shown as text, or 0 if
 * b is to be shown as hex: UTF-8 without control characters other than
 * tab and newline. A cut buffer (cut) may end inside a character: that
 * tail is left out. (Overlong and surrogate forms are not refused: the
 * bytes are shown, never interpreted.) */
static size_t text_len(const uint8_t *b, size_t len, bool cut)
{
	size_t i = 0, n;

	while (i < len) {
		if ((n = utf8_len(b[i])) == 0)
			return 0;
		if (i + n > len)
			return cut ? i : 0;
		for (size_t k = 1; k < n; k++)
			if ((b[i + k] & 0xc0) != 0x80)
				return 0;
		if (n == 1 && (b[i] < 0x20 || b[i] == 0x7f) && b[i] != '\t' &&
		    b[i] != '\n')
			return 0;
		i += n;
	}
	return len == 0 ? 0 : i;
}

static char *hex_of(const uint8_t *b, size_t len)
{
	char *h = malloc(2 * len + 1);

	for (size_t i = 0; h != NULL && i < len; i++)
		sprintf(h + 2 * i, "%02x", b[i]);
	if (h != NULL)
		h[2 * len] = '\0';
	return h;
}

/* bytes_json is a payload or result as JSON: {"size", "truncated", and
 * "text" (UTF-8) or "hex"}; null if the reply has none (a list). */
static json_t *bytes_json(protobuf_c_boolean has, ProtobufCBinaryData b,
                          protobuf_c_boolean has_size, uint32_t size)
{
	size_t sz = has_size ? size : b.len;
	bool cut = b.len < sz;
	size_t t = text_len(b.data, b.len, cut);
	json_t *o;
	char *h;

	if (!has)
		return json_null();
	o = json_pack("{s:I, s:b}", "size", (json_int_t)sz, "truncated",
	              (int)cut);
	if (t > 0 || b.len == 0) {
		json_object_set_new(o, "text",
		                    json_stringn((const char *)b.data, t));
		return o;
	}
	h = hex_of(b.data, b.len);
	json_object_set_new(o, "hex", h ? json_string(h) : json_null());
	free(h);
	return o;
}

static json_t *branch_json(const Dtx__V1__StepInfo *s)
{
	json_t *o = json_pack(
	        "{s:I, s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "index",
	        (json_int_t)s->index, "state",
	        dtx_step_state_name((int)s->state), "attempts",
	        (json_int_t)s->attempts, "last_error",
	        str_or_null(s->last_error), "next_retry_unix_ms",
	        ms_or_null(s->has_next_retry_unix_ms, s->next_retry_unix_ms),
	        "participant_url", str_or_null(s->participant_url), "action",
	        str_or_null(s->action), "compensate",
	        str_or_null(s->compensate), "confirm", str_or_null(s->confirm));

	if (s->has_payload_size) { /* show only: not in lists */
		json_object_set_new(o, "payload",
		                    bytes_json(s->has_payload, s->payload,
		                               s->has_payload_size,
		                               s->payload_size));
		json_object_set_new(o, "result",
		                    bytes_json(s->has_result, s->result,
		                               s->has_result_size,
		                               s->result_size));
	}
	return o;
}

/* tags_json adds the business key, labels and trace context to o: "key"
 * (or null), "labels" (an object, name: value) and "traceparent" (or
 * null). */
static void tags_json(json_t *o, const Dtx__V1__TxInfo *t)
{
	json_t *labels = json_object();

	for (size_t i = 0; i < t->n_labels; i++) {
		const char *eq = strchr(t->labels[i], '=');
		char name[64];
		if (eq == NULL || (size_t)(eq - t->labels[i]) >= sizeof(name))
			continue;
		memcpy(name, t->labels[i], (size_t)(eq - t->labels[i]));
		name[eq - t->labels[i]] = '\0';
		json_object_set_new(labels, name, json_string(eq + 1));
	}
	json_object_set_new(o, "key", str_or_null(t->key));
	json_object_set_new(o, "labels", labels);
	json_object_set_new(o, "traceparent", str_or_null(t->traceparent));
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
	tags_json(o, t);
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
	        "EINTERNAL", "ECONFLICT", "EMOVED",       "EPERM",
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

/* gid_width is the width of the GID column of r's transactions. */
static int gid_width(const Dtx__V1__AdminReply *r)
{
	size_t w = 3;

	for (size_t i = 0; i < r->n_txs; i++)
		if (strlen(r->txs[i]->gid) > w)
			w = strlen(r->txs[i]->gid);
	return (int)w;
}

static void table_list(FILE *out, const Dtx__V1__AdminReply *r)
{
	int w = gid_width(r);
	char age[32];

	fprintf(out, "%-*s  %-5s %-13s %6s %8s  %s\n", w, "GID", "MODE",
	        "STATE", "AGE", "BRANCHES", "FLAGS");
	for (size_t i = 0; i < r->n_txs; i++) {
		const Dtx__V1__TxInfo *t = r->txs[i];
		fmt_age(r->now_unix_ms - t->created_unix_ms, age, sizeof(age));
		fprintf(out, "%-*s  %-5s %-13s %6s %8zu  %s%s\n", w, t->gid,
		        mode_name((int)t->mode),
		        dtx_tx_state_name((int)t->state), age, t->n_steps,
		        t->needs_operator ? "needs-operator " : "",
		        t->paused ? "paused" : "");
	}
	if (r->next_after_gid != NULL)
		fprintf(out, "(more: --after %s)\n", r->next_after_gid);
}

static void fmt_handlers(const Dtx__V1__StepInfo *s, char *h, size_t len)
{
	snprintf(h, len, "%s/%s%s%s", s->action ? s->action : "",
	         s->confirm ? s->confirm : "", s->confirm ? "/" : "",
	         s->compensate ? s->compensate : "");
}

/* table_branches prints t's branches as a table whose columns are as wide
 * as their widest cell (handler names run to 3 * DTX_HANDLER_MAX). */
static void table_branches(FILE *out, const Dtx__V1__TxInfo *t)
{
	char h[3 * DTX_HANDLER_MAX + 8], a[40];
	int hw = 8;

	for (size_t i = 0; i < t->n_steps; i++) {
		fmt_handlers(t->steps[i], h, sizeof(h));
		if ((int)strlen(h) > hw)
			hw = (int)strlen(h);
	}
	fprintf(out, "\n%-4s %-13s %5s %-24s  %-*s  %s\n", "#", "STATE", "TRY",
	        "NEXT RETRY", hw, "HANDLERS", "ERROR");
	for (size_t i = 0; i < t->n_steps; i++) {
		const Dtx__V1__StepInfo *s = t->steps[i];
		fmt_time(s->has_next_retry_unix_ms ? s->next_retry_unix_ms : 0,
		         a, sizeof(a));
		fmt_handlers(s, h, sizeof(h));
		fprintf(out, "%-4u %-13s %5u %-24s  %-*s  %s\n", s->index,
		        dtx_step_state_name((int)s->state), s->attempts, a, hw,
		        h, s->last_error ? s->last_error : "");
	}
}

/* put_text prints len bytes of text on one line: \n and \t escaped. */
static void put_text(FILE *out, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (b[i] == '\n')
			fputs("\\n", out);
		else if (b[i] == '\t')
			fputs("\\t", out);
		else
			fputc(b[i], out);
	}
}

/* print_bytes prints one payload or result line of a branch: text (tabs
 * and newlines shown as \t and \n) or hex, and whether it was cut. */
static void print_bytes(FILE *out, const char *name, ProtobufCBinaryData b,
                        uint32_t size)
{
	bool cut = b.len < size;
	size_t t = text_len(b.data, b.len, cut);

	fprintf(out, "  %-8s ", name);
	if (size == 0) {
		fprintf(out, "(none)\n");
		return;
	}
	if (t > 0)
		put_text(out, b.data, t);
	else
		for (size_t i = 0; i < b.len; i++)
			fprintf(out, "%02x", b.data[i]);
	if (cut)
		fprintf(out,
		        "... (%s, first %zu of %" PRIu32
		        " bytes; --full for all)\n",
		        t > 0 ? "text" : "hex", b.len, size);
	else
		fprintf(out, "  (%s, %" PRIu32 " bytes)\n",
		        t > 0 ? "text" : "hex", size);
}

/* table_branch_details prints, per branch, its participant, payload and
 * result (a show; a list carries none of them). */
static void table_branch_details(FILE *out, const Dtx__V1__TxInfo *t)
{
	for (size_t i = 0; i < t->n_steps; i++) {
		const Dtx__V1__StepInfo *s = t->steps[i];
		fprintf(out, "\nbranch %u  %s\n", s->index,
		        s->participant_url ? s->participant_url : "?");
		if (!s->has_payload_size)
			continue;
		print_bytes(out, "payload:", s->payload, s->payload_size);
		print_bytes(out, "result:", s->result, s->result_size);
	}
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
	if (t->key != NULL)
		fprintf(out, "key:       %s\n", t->key);
	for (size_t i = 0; i < t->n_labels; i++)
		fprintf(out, "%s%s", i ? ", " : "labels:    ", t->labels[i]);
	if (t->n_labels > 0)
		fputc('\n', out);
	if (t->traceparent != NULL)
		fprintf(out, "trace:     %s\n", t->traceparent);
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
	table_branches(out, t);
	table_branch_details(out, t);
}

/* table_event prints one timeline line in fixed columns (a line about
 * the transaction leaves the branch columns blank); gid_w > 0: a watch
 * line, its gid padded to gid_w. */
static void table_event(FILE *out, const Dtx__V1__TimelineEvent *e, int gid_w)
{
	char t[40], b[24] = "";

	fmt_time(e->unix_ms, t, sizeof(t));
	if (e->step >= 0)
		snprintf(b, sizeof(b), "branch %d", (int)e->step);
	fprintf(out, "%s  ", t);
	if (gid_w > 0)
		fprintf(out, "%-*s  ", gid_w, e->gid ? e->gid : "");
	fprintf(out, "%-12s  %-10s  %-12s  %s\n",
	        dtx_tx_state_name((int)e->tx_state), b,
	        e->step >= 0 ? dtx_step_state_name((int)e->step_state) : "",
	        e->detail ? e->detail : "");
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
			table_event(out, r->events[i], 0);
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

/* watch_gid_width is the width of watch's GID column: the widest gid
 * seen so far, at least WATCH_GID_MIN (a wider one widens it from then
 * on; --gid prints one gid, always aligned). */
#define WATCH_GID_MIN 20
static int watch_gid_width(const char *gid)
{
	static int w = WATCH_GID_MIN;

	if (gid != NULL && (int)strlen(gid) > w)
		w = (int)strlen(gid);
	return w;
}

uint64_t ctl_print_events(FILE *out, ctl_format fmt,
                          const Dtx__V1__AdminReply *rep, const char *gid,
                          uint64_t max)
{
	uint64_t n = 0;

	for (size_t i = 0; i < rep->n_events && (max == 0 || n < max); i++) {
		const Dtx__V1__TimelineEvent *e = rep->events[i];
		json_t *o;
		if (gid != NULL && (e->gid == NULL || strcmp(gid, e->gid) != 0))
			continue;
		n++;
		if (fmt == CTL_TABLE) {
			table_event(out, e, watch_gid_width(e->gid));
			continue;
		}
		o = head("watch");
		merge(o, event_json(e));
		dump(out, o, CTL_JSONL);
	}
	fflush(out);
	return n;
}

void ctl_print_error(FILE *out, FILE *err, ctl_format fmt, const char *cmd,
                     int code, const char *msg, int exit_code)
{
	/* the message says what happened; the code's symbol is for scripts
	 * (dtx_strerror would add "no such transaction" to a missing log) */
	fprintf(err, "dtxctl %s: %s (%s)\n", cmd, msg, code_name(code));
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
