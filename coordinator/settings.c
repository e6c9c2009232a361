/*
 * settings.c - dtxd's settings from flags, the DTX_* environment and a
 * configuration file (see settings.h, dtxd.conf(5)).
 *
 * Owns: reading the file (bounded: DC_SETTINGS_FILE_MAX bytes, lines of
 * DC_SETTINGS_LINE_MAX), the choice of each setting's source, the strings
 * the dc_config borrows, and the --check-config report. Never opens the
 * store, binds or starts anything; never knows a setting by name: keys
 * and variables come from config.c's flag table and values go through
 * dc_config_apply, so every flag is a key and a variable.
 *
 * The file is "KEY = VALUE" lines, KEY a long flag name; '#' or ';' starts
 * a comment line; no sections. It is parsed here rather than by libinih:
 * Debian's libinih is built with 200-byte lines (a libpq URI with TLS
 * file names is longer), no line numbers for the handler, inline ';'
 * comments (a password may hold one) and indented continuation lines
 * that silently join values; each of those would need working around.
 */
#include "settings.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dtx/dtx.h>

#define ERRORS_SHOWN 20 /* problems printed from one file */
#define UNKNOWN_MAX  32 /* DTX_ variables naming no setting, reported */
#define ENV_PREFIX   "DTX_"
#define CONFIG_VAR   "DTX_CONFIG"
#define MASK         "*****"

typedef enum source { SRC_DEFAULT, SRC_FILE, SRC_ENV, SRC_FLAG } source;

/* entry - one value of one setting from one source. */
typedef struct entry {
	int id;          /* the flag table's val */
	const char *key; /* the name it was given by (the table's) */
	char *value;     /* owned; NULL: a flag that takes no value */
	source from;
	unsigned line; /* SRC_FILE */
	char *var;     /* SRC_ENV: the variable (owned) */
} entry;

struct dc_settings {
	entry *v;
	size_t n, cap;
	char *path; /* the configuration file (owned); NULL: none */
	bool check; /* --check-config */
	int maxid;
	source *top;     /* by id: the source that sets it */
	unsigned *first; /* by id: the file line that first set it */
	char *unknown[UNKNOWN_MAX];
	size_t nunknown;
	unsigned errors; /* problems printed from the file */
};

/* row_by_name finds the flag table's row called name (NULL: none). */
static const struct option *row_by_name(const char *name, size_t len)
{
	for (const struct option *o = dc_config_options(); o->name; o++)
		if (strlen(o->name) == len && memcmp(o->name, name, len) == 0)
			return o;
	return NULL;
}

/* row_by_id finds the first row of setting id (its canonical name). */
static const struct option *row_by_id(int id)
{
	for (const struct option *o = dc_config_options(); o->name; o++)
		if (o->val == id)
			return o;
	return NULL;
}

/* env_name writes the variable of flag name: DTX_ + NAME, - as _. */
static void env_name(const char *name, char *buf, size_t len)
{
	size_t i = snprintf(buf, len, ENV_PREFIX);

	for (; *name && i + 1 < len; name++)
		buf[i++] = *name == '-' ? '_'
		                        : (char)toupper((unsigned char)*name);
	buf[i] = '\0';
}

static const struct option *row_by_env(const char *var, size_t len)
{
	char want[128];

	for (const struct option *o = dc_config_options(); o->name; o++) {
		env_name(o->name, want, sizeof(want));
		if (strlen(want) == len && memcmp(want, var, len) == 0)
			return o;
	}
	return NULL;
}

/* push appends a copy of value (len bytes; value NULL: none) as setting
 * row's from source from. Returns false when out of memory. */
static entry *push(dc_settings *s, const struct option *row, const char *value,
                   size_t len, source from)
{
	entry *e;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		entry *v = realloc(s->v, cap * sizeof(*v));
		if (v == NULL)
			return NULL;
		s->v = v;
		s->cap = cap;
	}
	e = &s->v[s->n];
	memset(e, 0, sizeof(*e));
	e->id = row->val;
	e->key = row->name;
	e->from = from;
	if (value != NULL && (e->value = strndup(value, len)) == NULL)
		return NULL;
	s->n++;
	return e;
}

/* origin writes where e came from, as the report and errors name it. */
static void origin(const dc_settings *s, const entry *e, char *buf, size_t len)
{
	switch (e->from) {
	case SRC_FILE:
		snprintf(buf, len, "%s:%u", s->path, e->line);
		break;
	case SRC_ENV:
		snprintf(buf, len, "env %s", e->var);
		break;
	case SRC_FLAG:
		snprintf(buf, len, "flag --%s", e->key);
		break;
	default:
		snprintf(buf, len, "default");
		break;
	}
}

/* file_error prints one problem of the file's line (0: the whole file),
 * the first ERRORS_SHOWN of them. */
static void file_error(dc_settings *s, FILE *err, unsigned line,
                       const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static void file_error(dc_settings *s, FILE *err, unsigned line,
                       const char *fmt, ...)
{
	va_list ap;

	if (++s->errors > ERRORS_SHOWN)
		return;
	if (line > 0)
		fprintf(err, "dtxd: %s:%u: ", s->path, line);
	else
		fprintf(err, "dtxd: --config %s: ", s->path);
	va_start(ap, fmt);
	vfprintf(err, fmt, ap);
	va_end(ap);
	fputc('\n', err);
}

/* has_control: value holds a byte below 0x20 or DEL (a tab included). */
static bool has_control(const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return true;
	return false;
}

/* push_values adds value (len bytes) for row from source from, at line
 * (file) or from variable var (environment, borrowed); a repeatable
 * setting's value is a list separated by blanks. Returns the entries
 * added, or -1 when out of memory. */
static int push_values(dc_settings *s, const struct option *row, const char *v,
                       size_t len, source from, unsigned line, const char *var)
{
	size_t i = 0, n0 = s->n;

	while (i < len) {
		size_t j = len;
		if (dc_config_is_repeatable(row->val)) {
			while (i < len && isspace((unsigned char)v[i]))
				i++;
			for (j = i; j < len && !isspace((unsigned char)v[j]);
			     j++)
				;
			if (j == i)
				break;
		}
		if (push(s, row, v + i, j - i, from) == NULL)
			return -1;
		s->v[s->n - 1].line = line;
		if (var != NULL && (s->v[s->n - 1].var = strdup(var)) == NULL)
			return -1;
		i = j;
	}
	return (int)(s->n - n0);
}

/* trim narrows [*b, *e) to its bytes between blanks. */
static void trim(const char **b, const char **e)
{
	while (*b < *e && isspace((unsigned char)**b))
		(*b)++;
	while (*e > *b && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

/* file_key checks a line's key (b..e): a setting, not repeated in the
 * file unless repeatable. Returns its row, or NULL (printed). */
static const struct option *file_key(dc_settings *s, FILE *err, unsigned line,
                                     const char *b, const char *e)
{
	const struct option *row = row_by_name(b, (size_t)(e - b));
	int k = (int)(e - b);

	if (row == NULL || dc_config_is_command(row->val)) {
		file_error(s, err, line,
		           "unknown key '%.*s' (keys are dtxd's long flag "
		           "names, such as max-steps: see dtxd --help)",
		           k, b);
		return NULL;
	}
	if (s->first[row->val] != 0 && !dc_config_is_repeatable(row->val)) {
		file_error(s, err, line,
		           "%s: repeated key (first set on line %u); give "
		           "it once",
		           row->name, s->first[row->val]);
		return NULL;
	}
	if (s->first[row->val] == 0)
		s->first[row->val] = line;
	return row;
}

/* file_line reads one line (b..e, its newline excluded) of the file. */
static int file_line(dc_settings *s, FILE *err, unsigned line, const char *b,
                     const char *e)
{
	const char *eq, *kb = b, *ke, *vb, *ve = e;
	const struct option *row;

	trim(&kb, &ve);
	if (kb == ve || *kb == '#' || *kb == ';')
		return 0;
	if (*kb == '[') {
		file_error(s, err, line,
		           "sections are not used: write dtxd's flag names "
		           "as keys, without [...] (dtxd.conf(5))");
		return 0;
	}
	if ((eq = memchr(kb, '=', (size_t)(ve - kb))) == NULL) {
		file_error(s, err, line, "expected KEY = VALUE");
		return 0;
	}
	ke = eq;
	vb = eq + 1;
	trim(&kb, &ke);
	trim(&vb, &ve);
	if (ve - vb >= 2 && *vb == '"' && ve[-1] == '"')
		vb++, ve--; /* one pair of quotes around the value */
	if ((row = file_key(s, err, line, kb, ke)) == NULL)
		return 0;
	if (vb == ve || has_control(vb, (size_t)(ve - vb))) {
		file_error(s, err, line, "%s: %s", row->name,
		           vb == ve ? "no value (remove the line for the "
		                      "default)"
		                    : "the value holds a control character");
		return 0;
	}
	return push_values(s, row, vb, (size_t)(ve - vb), SRC_FILE, line,
	                   NULL) < 0
	               ? -1
	               : 0;
}

/* file_text reads the file's lines (text, len bytes). Returns -1 when out
 * of memory; problems are counted in s->errors. */
static int file_text(dc_settings *s, FILE *err, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	size_t n0 = s->n; /* values from flags and variables before */
	unsigned line = 0;

	if (memchr(text, '\0', len) != NULL) {
		file_error(s, err, 0, "holds a NUL byte: not a text file");
		return 0;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl != NULL ? nl : end;
		line++;
		if (le - p > DC_SETTINGS_LINE_MAX)
			file_error(s, err, line, "line longer than %d bytes",
			           DC_SETTINGS_LINE_MAX);
		else if (file_line(s, err, line, p, le) != 0)
			return -1;
		if (s->n - n0 > DC_SETTINGS_KEYS_MAX) {
			file_error(s, err, line, "more than %d values",
			           DC_SETTINGS_KEYS_MAX);
			return 0;
		}
		p = le + 1;
	}
	return 0;
}

/* file_slurp reads the regular file s->path, at most
 * DC_SETTINGS_FILE_MAX bytes, into *ret_text (a malloc'ed copy). Returns
 * 0, or -1 with the problem printed. */
static int file_slurp(dc_settings *s, FILE *err, char **ret_text,
                      size_t *ret_len)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t r = 0;
	int fd = open(s->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0 || fstat(fd, &st) != 0) {
		file_error(s, err, 0, "cannot read: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		file_error(s, err, 0, "%s, not a regular file",
		           S_ISDIR(st.st_mode) ? "a directory"
		                               : "a special file");
		goto fail;
	}
	if ((buf = malloc(DC_SETTINGS_FILE_MAX + 1)) == NULL)
		goto fail;
	while (len <= DC_SETTINGS_FILE_MAX &&
	       (r = read(fd, buf + len, DC_SETTINGS_FILE_MAX + 1 - len)) > 0)
		len += (size_t)r;
	if (r < 0) {
		file_error(s, err, 0, "cannot read: %s", strerror(errno));
		goto fail;
	}
	if (len > DC_SETTINGS_FILE_MAX) {
		file_error(s, err, 0, "larger than %u bytes",
		           DC_SETTINGS_FILE_MAX);
		goto fail;
	}
	close(fd);
	*ret_text = buf;
	*ret_len = len;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return -1;
}

/* read_file adds the settings of the configuration file s->path. */
static int read_file(dc_settings *s, FILE *err)
{
	char *text;
	size_t len;
	int rv;

	if (file_slurp(s, err, &text, &len) != 0)
		return DC_CONFIG_USAGE;
	rv = file_text(s, err, text, len);
	free(text);
	if (rv != 0) {
		fprintf(err, "dtxd: out of memory reading %s\n", s->path);
		return DC_CONFIG_USAGE;
	}
	if (s->errors > ERRORS_SHOWN)
		fprintf(err, "dtxd: %s: %u more problems not shown\n", s->path,
		        s->errors - ERRORS_SHOWN);
	return s->errors > 0 ? DC_CONFIG_USAGE : DC_CONFIG_OK;
}

/* env_one reads one DTX_ variable (name..eq, value after eq). */
static int env_one(dc_settings *s, FILE *err, const char *kv, const char *eq)
{
	const struct option *row = row_by_env(kv, (size_t)(eq - kv));
	const char *v = eq + 1;
	size_t len = strlen(v);
	char var[160];

	snprintf(var, sizeof(var), "%.*s", (int)(eq - kv), kv);
	if (strcmp(var, CONFIG_VAR) == 0 || len == 0)
		return DC_CONFIG_OK; /* an empty variable counts as unset */
	if (row == NULL || dc_config_is_command(row->val)) {
		if (s->nunknown < UNKNOWN_MAX &&
		    (s->unknown[s->nunknown] = strdup(var)) != NULL)
			s->nunknown++;
		return DC_CONFIG_OK;
	}
	if (len > DC_SETTINGS_LINE_MAX || has_control(v, len)) {
		fprintf(err, "dtxd: env %s: %s\n", var,
		        len > DC_SETTINGS_LINE_MAX
		                ? "value longer than 4096 bytes"
		                : "the value holds a control character");
		return DC_CONFIG_USAGE;
	}
	if (push_values(s, row, v, len, SRC_ENV, 0, var) < 0) {
		fprintf(err, "dtxd: out of memory\n");
		return DC_CONFIG_USAGE;
	}
	return DC_CONFIG_OK;
}

/* read_env adds the settings of envp's DTX_ variables; DTX_CONFIG names
 * the file when no --config did. */
static int read_env(dc_settings *s, char **envp, FILE *err)
{
	int rv = DC_CONFIG_OK;

	for (size_t i = 0; envp != NULL && envp[i] != NULL; i++) {
		const char *kv = envp[i], *eq = strchr(kv, '=');
		if (strncmp(kv, ENV_PREFIX, strlen(ENV_PREFIX)) != 0 ||
		    eq == NULL)
			continue;
		if (strncmp(kv, CONFIG_VAR "=", strlen(CONFIG_VAR) + 1) == 0 &&
		    s->path == NULL && eq[1] != '\0' &&
		    (s->path = strdup(eq + 1)) == NULL)
			return DC_CONFIG_USAGE;
		if (env_one(s, err, kv, eq) != DC_CONFIG_OK)
			rv = DC_CONFIG_USAGE;
	}
	return rv;
}

/* read_flags adds argv's flags; --help and --version are done at once. */
static int read_flags(dc_settings *s, dc_config *cfg, int argc, char **argv,
                      FILE *out, FILE *err)
{
	const struct option *rows = dc_config_options();
	int c, at;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", rows, &at)) != -1) {
		const char *arg = optarg;
		if (c == '?') {
			fprintf(err,
			        "dtxd: unknown or incomplete option '%s'\n",
			        argv[optind - 1]);
			return DC_CONFIG_USAGE;
		}
		if (strcmp(rows[at].name, "config") == 0) {
			free(s->path);
			if ((s->path = strdup(arg)) == NULL)
				return DC_CONFIG_USAGE;
		} else if (strcmp(rows[at].name, "check-config") == 0) {
			s->check = true;
		} else if (dc_config_is_command(c)) {
			return dc_config_apply(cfg, c, arg, out, err);
		} else if (push(s, &rows[at], arg, arg ? strlen(arg) : 0,
		                SRC_FLAG) == NULL) {
			return DC_CONFIG_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(err, "dtxd: unexpected argument '%s'\n", argv[optind]);
		return DC_CONFIG_USAGE;
	}
	return DC_CONFIG_OK;
}

/* parse_bool reads a file's or variable's value for a flag without one:
 * 1 (set it), 0 (leave it), -1 (neither). */
static int parse_bool(const char *v)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* report prints the problem msg (dc_config_apply's words) of entry e,
 * prefixed with where e came from in place of "dtxd: --KEY: ". */
static void report(const dc_settings *s, const entry *e, const char *msg,
                   FILE *err)
{
	char from[PATH_MAX + 32], flag[128];
	size_t n = strlen("dtxd: ");

	if (strncmp(msg, "dtxd: ", n) == 0)
		msg += n;
	n = (size_t)snprintf(flag, sizeof(flag), "--%s: ", e->key);
	if (strncmp(msg, flag, n) == 0)
		msg += n;
	origin(s, e, from, sizeof(from));
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		n--;
	fprintf(err, "dtxd: %s: %s: %.*s\n", from, e->key, (int)n, msg);
}

/* apply_one sets e's value in cfg; the problems of a value from the file
 * or the environment are printed naming where it came from. */
static int apply_one(const dc_settings *s, dc_config *cfg, const entry *e,
                     FILE *out, FILE *err)
{
	const struct option *row = row_by_name(e->key, strlen(e->key));
	const char *arg = e->value;
	char *msg = NULL;
	size_t len = 0;
	FILE *cap;
	int rv;

	if (e->from == SRC_FLAG)
		return dc_config_apply(cfg, e->id, arg, out, err);
	if (row->has_arg == no_argument) {
		int on = parse_bool(arg);
		if (on == 0)
			return DC_CONFIG_OK;
		arg = NULL;
		if (on < 0) {
			report(s, e, "expected true or false", err);
			return DC_CONFIG_USAGE;
		}
	}
	if ((cap = open_memstream(&msg, &len)) == NULL)
		return dc_config_apply(cfg, e->id, arg, out, err);
	rv = dc_config_apply(cfg, e->id, arg, out, cap);
	fclose(cap);
	if (rv != DC_CONFIG_OK)
		report(s, e, msg != NULL ? msg : "", err);
	free(msg);
	return rv;
}

/* resolve finds each setting's source: the highest that names it. */
static void resolve(dc_settings *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].from > s->top[s->v[i].id])
			s->top[s->v[i].id] = s->v[i].from;
}

/* apply_all applies the values of each setting's source, printing the
 * first ERRORS_SHOWN problems. */
static int apply_all(dc_settings *s, dc_config *cfg, FILE *out, FILE *err)
{
	unsigned failed = 0;

	resolve(s);
	for (size_t i = 0; i < s->n && failed < ERRORS_SHOWN; i++) {
		const entry *e = &s->v[i];
		if (e->from == s->top[e->id] &&
		    apply_one(s, cfg, e, out, err) != DC_CONFIG_OK)
			failed++;
	}
	if (failed == ERRORS_SHOWN)
		fprintf(err, "dtxd: further values not checked\n");
	return failed > 0 ? DC_CONFIG_USAGE : DC_CONFIG_OK;
}

/* mask_uri copies v to buf with the password of a URI's user information
 * and of password=... parameters replaced by MASK. */
static void mask_uri(const char *v, char *buf, size_t len)
{
	const char *at, *colon, *auth = strstr(v, "://");
	size_t o = 0;

	if (auth != NULL) {
		auth += 3;
		at = auth + strcspn(auth, "@/?#");
		colon = memchr(auth, ':', (size_t)(at - auth));
		if (*at != '@' || colon == NULL)
			auth = NULL;
	}
	for (const char *p = v; *p != '\0' && o + 1 < len;) {
		if (auth != NULL && p == colon + 1) {
			o += (size_t)snprintf(buf + o, len - o, MASK);
			p = at;
		} else if (strncasecmp(p, "password=", 9) == 0 &&
		           (p == v || strchr("?& ", p[-1]) != NULL)) {
			o += (size_t)snprintf(buf + o, len - o,
			                      "password=" MASK);
			p += 9 + strcspn(p + 9, "& ");
		} else {
			buf[o++] = *p++;
		}
		if (o >= len)
			o = len - 1;
	}
	buf[o] = '\0';
}

void dc_settings_mask(const char *key, const char *value, char *buf, size_t len)
{
	if (len == 0)
		return;
	if (strstr(key, "password") != NULL || strstr(key, "secret") != NULL ||
	    strstr(key, "passphrase") != NULL)
		snprintf(buf, len, MASK);
	else
		mask_uri(value, buf, len);
}

/* print_setting prints row's effective values, each with its source. */
static void print_setting(const dc_settings *s, const dc_config *cfg,
                          const struct option *row, FILE *out)
{
	char val[DC_SETTINGS_LINE_MAX + 1], shown[DC_SETTINGS_LINE_MAX + 1];
	char from[PATH_MAX + 32];
	size_t i;
	int rv;

	for (i = 0; i < s->n; i++) {
		const entry *e = &s->v[i];
		if (e->id != row->val || e->from != s->top[row->val])
			continue;
		dc_settings_mask(row->name, e->value ? e->value : "true", shown,
		                 sizeof(shown));
		origin(s, e, from, sizeof(from));
		fprintf(out, "%s = %s ; %s\n", row->name, shown, from);
	}
	if (s->top[row->val] != SRC_DEFAULT)
		return;
	for (i = 0;
	     (rv = dc_config_show(cfg, row->val, i, val, sizeof(val))) == 1;
	     i++) {
		dc_settings_mask(row->name, val, shown, sizeof(shown));
		fprintf(out, "%s = %s ; default\n", row->name, shown);
	}
	if (rv == 0 && i == 0)
		fprintf(out, "; %s: not set\n", row->name);
	else if (rv < 0)
		fprintf(out, "; %s: its default\n", row->name);
}

/* print_check is --check-config's report: every setting once, in the
 * flag table's order, then the DTX_ variables that set nothing. */
static void print_check(const dc_settings *s, const dc_config *cfg, FILE *out)
{
	const struct option *rows = dc_config_options();

	fprintf(out,
	        "; dtxd %d.%d.%d: the configuration is valid. Effective "
	        "settings\n; with their sources (default, FILE:LINE, env "
	        "DTX_..., flag --...):\n",
	        DTX_VERSION_MAJOR, DTX_VERSION_MINOR, DTX_VERSION_PATCH);
	for (const struct option *o = rows; o->name; o++)
		if (!dc_config_is_command(o->val) && row_by_id(o->val) == o)
			print_setting(s, cfg, o, out);
	for (size_t i = 0; i < s->nunknown; i++)
		fprintf(out, "; note: env %s names no setting: ignored\n",
		        s->unknown[i]);
}

/* explain follows a problem of settings together (msg, from
 * dc_config_finish) with the source of each --flag it names. */
static void explain(const dc_settings *s, const dc_config *cfg, const char *msg,
                    FILE *err)
{
	char from[PATH_MAX + 32], val[256], shown[256];
	const char *p = msg;
	int said[8], nsaid = 0; /* ids explained already */

	fputs(msg, err);
	while ((p = strstr(p, "--")) != NULL && nsaid < 8) {
		size_t n = strspn(p + 2, "abcdefghijklmnopqrstuvwxyz-");
		const struct option *row = row_by_name(p + 2, n);
		bool dup = false;
		p += 2 + n;
		if (row == NULL || dc_config_is_command(row->val))
			continue;
		for (int i = 0; i < nsaid; i++)
			dup = dup || said[i] == row->val;
		if (dup)
			continue;
		said[nsaid++] = row->val;
		snprintf(from, sizeof(from), "default");
		for (size_t i = 0; i < s->n; i++)
			if (s->v[i].id == row->val &&
			    s->v[i].from == s->top[row->val])
				origin(s, &s->v[i], from, sizeof(from));
		if (dc_config_show(cfg, row->val, 0, val, sizeof(val)) != 1)
			snprintf(val, sizeof(val), "(not set)");
		dc_settings_mask(row->name, val, shown, sizeof(shown));
		fprintf(err, "dtxd:   %s = %s (%s)\n", row->name, shown, from);
	}
}

/* finish checks the settings together; a problem names the sources of
 * the settings it is about. */
static int finish(const dc_settings *s, dc_config *cfg, FILE *err)
{
	char *msg = NULL;
	size_t len = 0;
	FILE *cap = open_memstream(&msg, &len);
	int rv;

	if (cap == NULL)
		return dc_config_finish(cfg, err);
	rv = dc_config_finish(cfg, cap);
	fclose(cap);
	if (rv != DC_CONFIG_OK && msg != NULL)
		explain(s, cfg, msg, err);
	free(msg);
	return rv;
}

/* settings_create allocates s with room for every setting id. */
static dc_settings *settings_create(void)
{
	dc_settings *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	for (const struct option *o = dc_config_options(); o->name; o++)
		if (o->val > s->maxid)
			s->maxid = o->val;
	s->top = calloc((size_t)s->maxid + 1, sizeof(*s->top));
	s->first = calloc((size_t)s->maxid + 1, sizeof(*s->first));
	if (s->top == NULL || s->first == NULL) {
		dc_settings_destroy(s);
		return NULL;
	}
	return s;
}

int dc_settings_load(dc_config *cfg, int argc, char **argv, char **envp,
                     FILE *out, FILE *err, dc_settings **ret_s)
{
	dc_settings *s = settings_create();
	int rv;

	*ret_s = s;
	dc_config_defaults(cfg);
	if (s == NULL) {
		fprintf(err, "dtxd: out of memory\n");
		return DC_CONFIG_USAGE;
	}
	if ((rv = read_flags(s, cfg, argc, argv, out, err)) != DC_CONFIG_OK)
		return rv;
	/* every problem is printed before giving up: values too */
	rv = read_env(s, envp, err);
	if (s->path != NULL && read_file(s, err) != DC_CONFIG_OK)
		rv = DC_CONFIG_USAGE;
	if (apply_all(s, cfg, out, err) != DC_CONFIG_OK || rv != DC_CONFIG_OK)
		return DC_CONFIG_USAGE;
	if (finish(s, cfg, err) != DC_CONFIG_OK)
		return DC_CONFIG_USAGE;
	if (!s->check)
		return DC_CONFIG_OK;
	print_check(s, cfg, out);
	return DC_CONFIG_EXIT;
}

/* differs: setting id has other values in a than in b. */
static bool differs(const dc_config *a, const dc_config *b, int id)
{
	char va[DC_SETTINGS_LINE_MAX + 1], vb[DC_SETTINGS_LINE_MAX + 1];

	for (size_t i = 0;; i++) {
		int ra = dc_config_show(a, id, i, va, sizeof(va));
		int rb = dc_config_show(b, id, i, vb, sizeof(vb));
		if (ra != rb || (ra == 1 && strcmp(va, vb) != 0))
			return true;
		if (ra != 1)
			return false;
	}
}

size_t dc_settings_changed(const dc_config *a, const dc_config *b, char *buf,
                           size_t len)
{
	size_t n = 0, o = 0;

	if (len > 0)
		buf[0] = '\0';
	for (const struct option *r = dc_config_options(); r->name; r++) {
		if (dc_config_is_command(r->val) || row_by_id(r->val) != r ||
		    !differs(a, b, r->val))
			continue;
		if (o < len)
			o += (size_t)snprintf(buf + o, len - o, "%s%s",
			                      n > 0 ? ", " : "", r->name);
		n++;
	}
	return n;
}

const char *dc_settings_file(const dc_settings *s)
{
	return s->path;
}

void dc_settings_destroy(dc_settings *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].value);
		free(s->v[i].var);
	}
	for (size_t i = 0; i < s->nunknown; i++)
		free(s->unknown[i]);
	free(s->v);
	free(s->top);
	free(s->first);
	free(s->path);
	free(s);
}
