/*
 * config_test.c - dtxd's settings from a file, the environment and flags
 * (issue 18 item 1, dtxd.conf(5)): a flag beats a DTX_ variable beats a
 * line of the file beats the default; --check-config prints every
 * setting with its source and masks passwords; every kind of bad file,
 * key or value is refused with exit 64 and a line naming FILE:LINE and
 * the key (or the variable); a dtxd configured by its file alone runs a
 * saga.
 *
 * Each case runs the real dtxd as a process and reads what it printed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

#define OUT_MAX (256u << 10)

TestSuite(config, .fini = th_teardown, .timeout = 60);

/* conf writes text to DIR/name and its path to path. */
static void conf(th_env *t, const char *name, const char *text, char *path)
{
	FILE *f;

	th_path(t, name, path, PATH_MAX);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

/* run runs dtxd with argv (after the program; NULL-terminated) and env_kv
 * (may be NULL), waits up to 10 s for it to exit, and returns its exit
 * code; *out (static) holds what it printed. */
static int run(th_env *t, const char *env_kv, const char **out,
               const char *const args[])
{
	static char text[OUT_MAX];
	const char *argv[32] = {th_exe("DTX_DTXD")};
	size_t n = 1, len;
	th_proc *p;
	FILE *f;

	for (; args[n - 1] != NULL; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	p = th_spawn_env(t, "dtxd-config", argv, env_kv);
	cr_assert(th_proc_wait(p, 10000), "dtxd kept running");
	f = fopen(p->out_path, "r");
	cr_assert_not_null(f);
	len = fread(text, 1, sizeof(text) - 1, f);
	text[len] = '\0';
	fclose(f);
	unlink(p->out_path); /* the next run's output alone */
	*out = text;
	return th_proc_exit_code(p);
}

#define RUN(t, env, out, ...)                                                  \
	run(t, env, out, (const char *const[]){__VA_ARGS__, NULL})

static void assert_has(const char *out, const char *want)
{
	cr_assert_not_null(strstr(out, want), "'%s' not in:\n%s", want, out);
}

Test(config, a_flag_beats_the_environment_beats_the_file_beats_the_default)
{
	th_env *t = th_begin();
	char path[PATH_MAX], want[PATH_MAX + 64];
	const char *out;

	conf(t, "dtxd.conf",
	     "# dtxd settings\n"
	     "store = /var/lib/dtx/shard0\n"
	     "listen = tcp://127.0.0.1:7500\n"
	     "listen = ipc:///run/dtx/a.sock\n"
	     "max-steps = 10\n"
	     "   ; an indented comment\n"
	     "log-level = warn\n"
	     "retain-final = 2d\n",
	     path);
	cr_assert_eq(RUN(t, "DTX_MAX_STEPS=20", &out, "--config", path,
	                 "--check-config", "--log-level", "debug"),
	             0, "%s", out);
	snprintf(want, sizeof(want), "store = /var/lib/dtx/shard0 ; %s:2",
	         path);
	assert_has(out, want);
	snprintf(want, sizeof(want), "listen = ipc:///run/dtx/a.sock ; %s:4",
	         path);
	assert_has(out, want);
	assert_has(out, "max-steps = 20 ; env DTX_MAX_STEPS\n");
	assert_has(out, "log-level = debug ; flag --log-level\n");
	assert_has(out, "log-format = text ; default\n");
	assert_has(out, "retain-final = 2d ; ");
	assert_has(out, "call-timeout-ms = 5000 ; default\n");
	/* a repeatable flag replaces the file's values, not adds to them */
	cr_assert_eq(RUN(t, NULL, &out, "--config", path, "--check-config",
	                 "--listen", "tcp://127.0.0.1:7600"),
	             0, "%s", out);
	assert_has(out, "listen = tcp://127.0.0.1:7600 ; flag --listen\n");
	cr_assert_null(strstr(out, "7500"), "%s", out);
	/* a list in a variable; DTX_CONFIG names the file */
	snprintf(want, sizeof(want), "DTX_CONFIG=%s", path);
	cr_assert_eq(RUN(t, want, &out, "--check-config"), 0, "%s", out);
	assert_has(out, "max-steps = 10 ; ");
	cr_assert_eq(RUN(t, "DTX_LISTEN=tcp://127.0.0.1:1 tcp://127.0.0.1:2",
	                 &out, "--config", path, "--check-config"),
	             0, "%s", out);
	assert_has(out, "listen = tcp://127.0.0.1:2 ; env DTX_LISTEN\n");
	th_end(t);
}

Test(config, check_config_masks_passwords_and_names_stray_variables)
{
	th_env *t = th_begin();
	char path[PATH_MAX];
	const char *out;

	conf(t, "dtxd.conf",
	     "store = postgresql://dtx:hunter2@db.example:5432/dtx"
	     "?sslmode=require&password=hunter3\n",
	     path);
	cr_assert_eq(RUN(t, "DTX_LISTNE=tcp://127.0.0.1:1", &out, "--config",
	                 path, "--check-config"),
	             0, "%s", out);
	assert_has(out, "store = postgresql://dtx:*****@db.example:5432/dtx"
	                "?sslmode=require&password=***** ;");
	cr_assert_null(strstr(out, "hunter"), "a password shows:\n%s", out);
	assert_has(out, "env DTX_LISTNE names no setting");
	/* the same check as a start: settings that do not fit together */
	cr_assert_eq(RUN(t, "DTX_RETRY_MAX_MS=50", &out, "--config", path,
	                 "--check-config"),
	             EX_USAGE, "%s", out);
	assert_has(out, "--retry-max-ms must be >= --retry-base-ms");
	assert_has(out, "retry-max-ms = 50 (env DTX_RETRY_MAX_MS)");
	assert_has(out, "retry-base-ms = 100 (default)");
	/* libpq's reading of a store URI, without connecting */
	cr_assert_eq(RUN(t,
	                 "DTX_STORE=postgresql://dtx:hunter2@db/dtx"
	                 "?sslmod=require",
	                 &out, "--check-config"),
	             EX_USAGE, "%s", out);
	assert_has(out, "dtxd: --store: libpq refuses the URI: invalid URI "
	                "query parameter: \"sslmod\"");
	assert_has(out, "store = postgresql://dtx:*****@db/dtx?sslmod=require "
	                "(env DTX_STORE)");
	cr_assert_null(strstr(out, "hunter"), "a password shows:\n%s", out);
	th_end(t);
}

/* refused runs dtxd --check-config on a file holding text and asserts
 * exit 64 and "dtxd: FILE:" + want in what it printed. */
static void refused(th_env *t, const char *text, const char *want)
{
	char path[PATH_MAX], line[PATH_MAX + 256];
	const char *out;

	conf(t, "bad.conf", text, path);
	cr_assert_eq(RUN(t, NULL, &out, "--config", path, "--check-config",
	                 "--store", "/x"),
	             EX_USAGE, "accepted %s:\n%s", text, out);
	snprintf(line, sizeof(line), "dtxd: %s:%s", path, want);
	assert_has(out, line);
	cr_assert_null(strstr(out, "configuration is valid"), "%s", out);
}

Test(config, every_bad_key_value_and_line_is_refused_naming_file_and_line)
{
	th_env *t = th_begin();

	refused(t, "max-steps = 10\nmax-stpes = 10\n",
	        "2: unknown key 'max-stpes'");
	refused(t, "\n\nmax-steps = many\n",
	        "3: max-steps: expected a number in 1..4096, got "
	        "'many'");
	refused(t, "retain-final = 7 days\n",
	        "1: retain-final: expected 0 or a number with a "
	        "unit");
	refused(t, "log-level = loud\n",
	        "1: log-level: expected "
	        "error|warn|info|debug");
	refused(t, "log-format = yaml\n",
	        "1: log-format: expected text|json|journal, got 'yaml'");
	refused(t, "shard = 1\nlisten = tcp://127.0.0.1:1\nshard = 2\n",
	        "3: shard: repeated key (first set on line 1)");
	refused(t, "store = /a\nlog-dir = /b\n",
	        "2: log-dir: repeated key (first set on line 1)");
	refused(t, "[dtxd]\nshard = 1\n", "1: sections are not used");
	refused(t, "shard 1\n", "1: expected KEY = VALUE");
	refused(t, "shard =\n", "1: shard: no value");
	refused(t, "help = true\n", "1: unknown key 'help'");
	refused(t, "instance = a\tb\n",
	        "1: instance: the value holds a control character");
	/* all problems of a file at once, values included */
	refused(t, "bogus = 1\nmax-steps = 0\n",
	        "2: max-steps: expected a number in 1..4096");
	th_end(t);
}

/* big writes a file of n bytes of comment lines of line_len bytes. */
static void big(th_env *t, size_t n, size_t line_len, char *path)
{
	FILE *f;

	th_path(t, "big.conf", path, PATH_MAX);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	for (size_t i = 0; i < n; i++)
		fputc((i + 1) % (line_len + 1) == 0 ? '\n'
		      : i % (line_len + 1) == 0     ? '#'
		                                    : 'x',
		      f);
	cr_assert_eq(fclose(f), 0);
}

Test(config,
     a_file_that_is_missing_a_directory_special_too_large_or_binary_is_refused)
{
	th_env *t = th_begin();
	char path[PATH_MAX], want[PATH_MAX + 64];
	const char *out;

	cr_assert_eq(RUN(t, NULL, &out, "--config", "/nonexistent/dtxd.conf",
	                 "--store", "/x"),
	             EX_USAGE);
	assert_has(out, "dtxd: --config /nonexistent/dtxd.conf: cannot read: "
	                "No such file or directory");
	cr_assert_eq(RUN(t, NULL, &out, "--config", t->dir, "--store", "/x"),
	             EX_USAGE);
	assert_has(out, "a directory, not a regular file");
	th_path(t, "fifo", path, sizeof(path));
	cr_assert_eq(mkfifo(path, 0600), 0);
	cr_assert_eq(RUN(t, NULL, &out, "--config", path, "--store", "/x"),
	             EX_USAGE);
	assert_has(out, "a special file, not a regular file");

	big(t, (1u << 20) + 1, 80, path);
	cr_assert_eq(RUN(t, NULL, &out, "--config", path, "--store", "/x"),
	             EX_USAGE);
	assert_has(out, "larger than 1048576 bytes");
	big(t, 1u << 20, 80, path); /* the bound itself is fine */
	cr_assert_eq(RUN(t, NULL, &out, "--config", path, "--store", "/x",
	                 "--check-config"),
	             0, "%s", out);
	big(t, 5000, 4097, path);
	cr_assert_eq(RUN(t, NULL, &out, "--config", path, "--store", "/x"),
	             EX_USAGE);
	snprintf(want, sizeof(want), "%s:1: line longer than 4096 bytes", path);
	assert_has(out, want);

	/* values are bounded, and so are the lines about them */
	{
		FILE *f = fopen(path, "w");
		cr_assert_not_null(f);
		for (int i = 0; i < 4097; i++)
			fprintf(f, "listen = tcp://127.0.0.1:%d\n", 1000 + i);
		cr_assert_eq(fclose(f), 0);
	}
	cr_assert_eq(RUN(t, NULL, &out, "--config", path, "--store", "/x"),
	             EX_USAGE);
	snprintf(want, sizeof(want), "%s:4097: more than 4096 values", path);
	assert_has(out, want);
	cr_assert_lt(strlen(out), 8192, "%zu bytes of complaints", strlen(out));

	conf(t, "nul.conf", "shard = 1\n", path);
	cr_assert_eq(truncate(path, 20), 0); /* ten NUL bytes at the end */
	cr_assert_eq(RUN(t, NULL, &out, "--config", path, "--store", "/x"),
	             EX_USAGE);
	assert_has(out, "holds a NUL byte: not a text file");
	th_end(t);
}

Test(config, a_bad_variable_or_flag_is_refused_naming_it)
{
	th_env *t = th_begin();
	const char *out;

	cr_assert_eq(RUN(t, "DTX_SHARDS=0", &out, "--store", "/x"), EX_USAGE);
	assert_has(out, "dtxd: env DTX_SHARDS: shards: expected a number in "
	                "1..1024, got '0'");
	cr_assert_eq(RUN(t, "DTX_LOG_LEVEL=x", &out, "--store", "/x",
	                 "--log-level", "info", "--check-config"),
	             0, "%s", out); /* the flag wins: the variable is unused */
	cr_assert_eq(RUN(t, NULL, &out, "--store", "/x", "--max-steps", "0"),
	             EX_USAGE);
	assert_has(out, "dtxd: --max-steps: expected a number in 1..4096");
	cr_assert_eq(RUN(t, "DTX_LOG_FORMAT=json", &out, "--store", "/x",
	                 "--check-config"),
	             0, "%s", out);
	assert_has(out, "log-format = json ; env DTX_LOG_FORMAT\n");
	cr_assert_eq(RUN(t, NULL, &out, "--store", "/x", "--log-format", "xml"),
	             EX_USAGE);
	assert_has(out, "dtxd: --log-format: expected text|json|journal, got "
	                "'xml'");
	cr_assert_eq(RUN(t, NULL, &out, "--check-config"), EX_USAGE);
	assert_has(out, "--log-dir DIR or --store URI is required");
	th_end(t);
}

Test(config, a_dtxd_configured_by_its_file_alone_runs_a_saga)
{
	th_env *t = th_begin();
	char path[PATH_MAX], ready[PATH_MAX], text[4 * PATH_MAX];
	const char *argv[] = {th_exe("DTX_DTXD"), "--config", path, NULL};
	dtx_tx_info info;

	th_participant_start(t, "p1", NULL);
	th_participant_start(t, "p2", NULL);
	if (!t->pg_store)
		cr_assert_eq(mkdir(t->log_dir, 0755), 0);
	th_url(t, "dtxd", t->dtxd_url, sizeof(t->dtxd_url));
	th_path(t, "dtxd.ready", ready, sizeof(ready));
	snprintf(text, sizeof(text),
	         "store = %s\nlisten = %s\nadmin = none\nready-file = %s\n"
	         "retry-base-ms = 10\nretry-max-ms = 200\nlog-level = debug\n",
	         t->log_dir, t->dtxd_url, ready);
	conf(t, "dtxd.conf", text, path);
	t->dtxd = th_spawn(t, "dtxd", argv);
	cr_assert(th_wait_ready(t->dtxd, ready, TH_WAIT_READY),
	          "dtxd did not start from its file");

	th_run(t, "g1", "p1.do/p1.undo p2.do/p2.undo", &info);
	cr_assert_eq(info.state, DTX_TX_COMMITTED);
	th_run(t, "g2", "p1.do/p1.undo p2.fail/p2.undo", &info);
	cr_assert_eq(info.state, DTX_TX_COMPENSATED);
	cr_assert_str_eq(th_journal_story(t, "g2"),
	                 "p1.do:ok p2.fail:fail p1.undo:ok");
	th_end(t);
}

Test(config, the_shipped_example_is_valid)
{
	th_env *t = th_begin();
	const char *out;

	cr_assert_eq(RUN(t, NULL, &out, "--config", th_exe("DTX_CONF_EXAMPLE"),
	                 "--check-config"),
	             0, "%s", out);
	assert_has(out, "listen = tcp://127.0.0.1:7400 ; ");
	th_end(t);
}
