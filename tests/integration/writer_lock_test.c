/*
 * writer_lock_test.c - one writer per log (issue 14): a second dtxd on a
 * log directory that a running dtxd uses is refused at once, names the
 * holder, and changes nothing; the first keeps working; dtxctl --log
 * reads beside it; a kill -9 leaves no stale lock behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

TestSuite(writer_lock, .fini = th_teardown, .timeout = 60);

/* second_dtxd runs another dtxd on t's log directory (its own addresses)
 * and returns its exit code; it must exit within 10 s. */
static int second_dtxd(th_env *t, th_proc **ret_proc)
{
	char url[TH_URL_MAX];
	const char *argv[] = {
	        th_exe("DTX_DTXD"), "--log-dir", t->log_dir, "--listen", url,
	        "--admin",          "none",      NULL};
	th_proc *p;

	th_url(t, "dtxd2", url, sizeof(url));
	p = th_spawn(t, "dtxd2", argv);
	cr_assert(th_proc_wait(p, 10000), "the second dtxd kept running");
	*ret_proc = p;
	return th_proc_exit_code(p);
}

Test(writer_lock, a_second_dtxd_on_the_same_log_is_refused_and_the_first_works)
{
	th_env *t = th_begin();
	dtx_tx_info info;
	th_proc *p2;
	char pid[32], cmd[2 * PATH_MAX];

	th_participant_start(t, "p1", NULL);
	th_dtxd_start(t, NULL);
	th_run(t, "before", "p1.do/p1.undo", &info);

	cr_assert_eq(second_dtxd(t, &p2), EX_TEMPFAIL);
	snprintf(pid, sizeof(pid), "pid %d", (int)t->dtxd->pid);
	cr_assert(th_log_contains(t, "dtxd2", pid),
	          "the refusal does not name the holder (%s)", pid);
	cr_assert(th_log_contains(t, "dtxd2", t->log_dir),
	          "the refusal does not name the directory");

	/* the first one still writes, and its transactions are intact */
	cr_assert(th_proc_is_alive(t->dtxd));
	th_run(t, "after", "p1.do/p1.undo", &info);
	cr_assert_eq(info.state, DTX_TX_COMMITTED);
	cr_assert_str_eq(th_journal_story(t, "before"), "p1.do:ok");

	/* an offline reader works beside the writer */
	snprintf(cmd, sizeof(cmd), "%s --log %s show before >/dev/null",
	         th_exe("DTX_DTXCTL"), t->log_dir);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	th_end(t);
}

Test(writer_lock, a_killed_dtxd_leaves_no_stale_lock)
{
	th_env *t = th_begin();
	dtx_tx_info info;

	th_participant_start(t, "p1", NULL);
	th_dtxd_start(t, NULL);
	th_run(t, "g1", "p1.do/p1.undo", &info);
	th_dtxd_restart(t); /* kill -9, then start on the same log */
	cr_assert(th_proc_is_alive(t->dtxd));
	th_run(t, "g2", "p1.do/p1.undo", &info);
	cr_assert_eq(info.state, DTX_TX_COMMITTED);
	th_end(t);
}
