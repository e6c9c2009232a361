/*
 * select.c - dtxctl's selections: `--select 'state=running,handler=H,
 * older-than=10m,key=K,label=name=value'` parsed into an AdminFilter, and
 * the lines a changing verb prints for each transaction it selected.
 *
 * A selection is a list query (a reader job in dtxd, off its loop) of at
 * most --limit transactions, then one action per transaction, each with
 * the same reason; a dry run asks each action as a dry run, so the
 * listing says what would be touched and what would be refused. The
 * printing here uses jansson too (output.c owns the rest) so that this
 * verb's code stays in one file.
 *
 * Must never: act on more transactions than the limit.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"

/* select_term applies one name=value term (value may be NULL) to f. */
static int select_term(char *name, char *value, Dtx__V1__AdminFilter *f,
                       char **labels, char *err, size_t errlen)
{
	uint64_t ms;

	if (strcmp(name, "needs-operator") == 0 && value == NULL) {
		f->has_needs_operator = f->needs_operator = 1;
		return 0;
	}
	if (value == NULL || *value == '\0') {
		snprintf(err, errlen, "'%s' needs a value (NAME=VALUE)", name);
		return -1;
	}
	if (strcmp(name, "state") == 0) {
		if (!ctl_parse_state(value, &f->state))
			goto bad;
		f->has_state = 1;
	} else if (strcmp(name, "mode") == 0) {
		if (strcmp(value, "saga") && strcmp(value, "tcc"))
			goto bad;
		f->has_mode = 1;
		f->mode = value[0] == 's' ? DTX__V1__MODE__MODE_SAGA
		                          : DTX__V1__MODE__MODE_TCC;
	} else if (strcmp(name, "older-than") == 0) {
		if (!ctl_parse_duration(value, &ms))
			goto bad;
		f->has_older_than_ms = 1;
		f->older_than_ms = ms;
	} else if (strcmp(name, "handler") == 0) {
		f->handler = value;
	} else if (strcmp(name, "participant") == 0) {
		f->participant = value;
	} else if (strcmp(name, "key") == 0) {
		f->key = value;
	} else if (strcmp(name, "label") == 0 && strchr(value, '=')) {
		if (f->n_labels >= WIRE_LABELS_MAX)
			goto bad;
		labels[f->n_labels++] = value;
		f->labels = labels;
	} else {
		snprintf(err, errlen,
		         "unknown selection term '%s' (state, mode, handler, "
		         "participant, older-than, key, label, needs-operator)",
		         name);
		return -1;
	}
	return 0;
bad:
	snprintf(err, errlen, "bad value '%s' for '%s'", value, name);
	return -1;
}

int ctl_select_parse(const char *sel, Dtx__V1__AdminFilter *f, char **labels,
                     char *err, size_t errlen)
{
	char *s = strdup(sel), *save = NULL, *term;

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* the filter borrows s: it lives as long as the process */
	for (term = strtok_r(s, ",", &save); term != NULL;
	     term = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(term, '=');
		if (eq != NULL)
			*eq++ = '\0';
		if (select_term(term, eq, f, labels, err, errlen) != 0)
			return -1;
	}
	return 0;
}

void ctl_print_selected(FILE *out, ctl_format fmt, const char *cmd,
                        const char *gid, int code, const char *msg,
                        const Dtx__V1__AdminReply *rep)
{
	json_t *o, *lines;

	if (fmt == CTL_TABLE) {
		fprintf(out, "%-24s %s%s%s\n", gid,
		        code == 0 ? "ok" : "refused", msg ? ": " : "",
		        msg ? msg : "");
		for (size_t i = 0; rep != NULL && i < rep->n_transitions; i++)
			fprintf(out, "%-24s   %s\n", "", rep->transitions[i]);
		return;
	}
	lines = json_array();
	for (size_t i = 0; rep != NULL && i < rep->n_transitions; i++)
		json_array_append_new(lines, json_string(rep->transitions[i]));
	o = json_pack("{s:i, s:s, s:s, s:b, s:o, s:o}", "schema", CTL_SCHEMA,
	              "command", cmd, "gid", gid, "ok", code == 0, "message",
	              msg ? json_string(msg) : json_null(), "transitions",
	              lines);
	json_dumpf(o, out, JSON_COMPACT);
	fputc('\n', out);
	json_decref(o);
}

void ctl_print_select_summary(FILE *out, ctl_format fmt, const char *cmd,
                              bool dry, size_t selected, size_t done,
                              uint32_t limit, bool more)
{
	json_t *o;

	if (fmt == CTL_TABLE) {
		fprintf(out,
		        "%s: %zu selected (limit %u%s), %zu %s, %zu refused\n",
		        cmd, selected, (unsigned)limit,
		        more ? ", more match" : "", done,
		        dry ? "would be done" : "done", selected - done);
		return;
	}
	o = json_pack("{s:i, s:s, s:b, s:I, s:I, s:I, s:i, s:b}", "schema",
	              CTL_SCHEMA, "command", cmd, "dry_run", dry, "selected",
	              (json_int_t)selected, "done", (json_int_t)done, "refused",
	              (json_int_t)(selected - done), "limit", (int)limit,
	              "more", more);
	json_dumpf(o, out, JSON_COMPACT);
	fputc('\n', out);
	json_decref(o);
}
