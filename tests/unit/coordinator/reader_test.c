/*
 * reader_test.c - the log reader (coordinator/reader.c): a bounded queue,
 * point reads never behind bulk reads, chunked jobs taking turns,
 * completions through the mailbox, and jobs never finished disposed of.
 *
 * The jobs here are the test's own (a run function that records its
 * order); a gate job holds its lane's thread until the test opens it, so
 * every order is decided before that lane runs anything. The log is a
 * real, empty LMDB environment (no_sync: unit tests only).
 */
#include <criterion/criterion.h>

#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mailbox.h"
#include "reader.h"

#define JOBS_MAX  16
#define WAIT_ITER 5000 /* 1 ms each: a reader that never answers fails */

typedef struct test_job {
	dc_read_job base; /* first */
	int id;
	int runs, runs_wanted;
	bool gate; /* waits until g_gate_open */
	bool disposed;
} test_job;

static char g_root[64];
static dc_log *g_log;
static uv_loop_t g_loop;
static dc_mailbox g_mb;
static dc_reader *g_reader;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static bool g_gate_open, g_gate_entered;
static bool g_mb_closed;
static int g_run_order[64], g_nrun;    /* ids, in the order runs happened */
static test_job *g_done[JOBS_MAX * 4]; /* jobs whose mail arrived */
static int g_ndone;

static bool run_job(dc_read_job *job, dc_log *log)
{
	test_job *j = (test_job *)job;

	(void)log;
	pthread_mutex_lock(&g_lock);
	g_gate_entered |= j->gate;
	pthread_cond_broadcast(&g_cond);
	while (j->gate && !g_gate_open)
		pthread_cond_wait(&g_cond, &g_lock);
	g_run_order[g_nrun++] = j->id;
	pthread_mutex_unlock(&g_lock);
	return ++j->runs >= j->runs_wanted;
}

static void dispose_job(dc_read_job *job)
{
	((test_job *)job)->disposed = true;
}

static void on_mail(void *arg, dc_mail *mail)
{
	(void)arg;
	cr_assert_eq(mail->kind, DC_MAIL_READ);
	g_done[g_ndone++] = (test_job *)mail;
	dc_reader_finish(g_reader, (dc_read_job *)mail);
}

static void job_init(test_job *j, int id, bool bulk, int runs)
{
	memset(j, 0, sizeof(*j));
	j->base.run = run_job;
	j->base.dispose = dispose_job;
	j->base.bulk = bulk;
	j->id = id;
	j->runs_wanted = runs;
}

/* submit_gate submits gate (to the bulk lane or not) and waits until a
 * reader thread holds it. */
static void submit_gate(test_job *gate, bool bulk)
{
	job_init(gate, 0, bulk, 1);
	gate->gate = true;
	cr_assert_eq(dc_reader_submit(g_reader, &gate->base), DTX_OK);
	pthread_mutex_lock(&g_lock);
	while (!g_gate_entered)
		pthread_cond_wait(&g_cond, &g_lock);
	pthread_mutex_unlock(&g_lock);
}

static void close_mailbox(void)
{
	if (!g_mb_closed)
		dc_mailbox_close(&g_mb);
	g_mb_closed = true;
}

static void open_gate(void)
{
	pthread_mutex_lock(&g_lock);
	g_gate_open = true;
	pthread_cond_broadcast(&g_cond);
	pthread_mutex_unlock(&g_lock);
}

/* await_done runs the loop until n mails arrived. */
static void await_done(int n)
{
	for (int i = 0; g_ndone < n; i++) {
		cr_assert_lt(i, WAIT_ITER, "%d of %d jobs done", g_ndone, n);
		uv_run(&g_loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void setup(void)
{
	char dir[128], err[256];
	dc_log_opts o = {.dir = dir, .no_sync = true};

	snprintf(g_root, sizeof(g_root), "/tmp/dtx_reader_test.XXXXXX");
	cr_assert_not_null(mkdtemp(g_root));
	snprintf(dir, sizeof(dir), "%s/log", g_root);
	cr_assert_eq(dc_log_open(&o, &g_log, err, sizeof(err)), DTX_OK, "%s",
	             err);
	cr_assert_eq(uv_loop_init(&g_loop), 0);
	cr_assert_eq(dc_mailbox_init(&g_mb, &g_loop, on_mail, NULL), DTX_OK);
	g_gate_open = g_gate_entered = g_mb_closed = false;
	g_nrun = g_ndone = 0;
}

static void teardown(void)
{
	open_gate();
	dc_reader_destroy(g_reader);
	g_reader = NULL;
	close_mailbox();
	uv_run(&g_loop, UV_RUN_DEFAULT);
	dc_mailbox_fini(&g_mb);
	uv_loop_close(&g_loop);
	dc_log_close(g_log);
	nftw(g_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(reader, .init = setup, .fini = teardown, .timeout = 30);

Test(reader, point_reads_are_answered_while_a_bulk_read_is_held)
{
	static test_job gate, b1, p1, p2;

	cr_assert_eq(dc_reader_create(g_log, &g_mb, 8, &g_reader), DTX_OK);
	job_init(&b1, 1, true, 1);
	job_init(&p1, 2, false, 1);
	job_init(&p2, 3, false, 1);
	submit_gate(&gate, true);
	cr_assert_eq(dc_reader_submit(g_reader, &b1.base), DTX_OK);
	cr_assert_eq(dc_reader_submit(g_reader, &p1.base), DTX_OK);
	cr_assert_eq(dc_reader_submit(g_reader, &p2.base), DTX_OK);
	await_done(2); /* the bulk lane is held all along */
	cr_assert_eq(g_done[0], &p1);
	cr_assert_eq(g_done[1], &p2);
	open_gate();
	await_done(4);
	cr_assert_eq(g_done[2], &gate);
	cr_assert_eq(g_done[3], &b1);
}

Test(reader, a_full_queue_is_busy_until_a_job_is_finished)
{
	static test_job gate, a, b;

	cr_assert_eq(dc_reader_create(g_log, &g_mb, 2, &g_reader), DTX_OK);
	job_init(&a, 1, false, 1);
	job_init(&b, 2, false, 1);
	submit_gate(&gate, false);
	cr_assert_eq(dc_reader_submit(g_reader, &a.base), DTX_OK);
	cr_assert_eq(dc_reader_submit(g_reader, &b.base), DTX_EBUSY);
	open_gate();
	await_done(2); /* on_mail finishes each: their places are free */
	cr_assert_eq(dc_reader_submit(g_reader, &b.base), DTX_OK);
	await_done(3);
	cr_assert_eq(g_done[2], &b);
	cr_assert_eq(g_nrun, 3, "a refused job never runs");
}

Test(reader, chunked_bulk_jobs_take_turns_and_are_posted_once)
{
	static test_job gate, scan, other;

	cr_assert_eq(dc_reader_create(g_log, &g_mb, 8, &g_reader), DTX_OK);
	job_init(&scan, 1, true, 3);
	job_init(&other, 2, true, 1);
	submit_gate(&gate, true);
	cr_assert_eq(dc_reader_submit(g_reader, &scan.base), DTX_OK);
	cr_assert_eq(dc_reader_submit(g_reader, &other.base), DTX_OK);
	open_gate();
	await_done(3);
	cr_assert_arr_eq(g_run_order, ((int[]){0, 1, 2, 1, 1}),
	                 5 * sizeof(int));
	cr_assert_eq(scan.runs, 3);
	cr_assert_eq(g_done[2], &scan, "posted once, after its last run");
}

Test(reader, destroy_disposes_of_every_job_not_finished)
{
	static test_job jobs[3];

	cr_assert_eq(dc_reader_create(g_log, &g_mb, 8, &g_reader), DTX_OK);
	close_mailbox(); /* the engine stopped: no mail is delivered */
	for (int i = 0; i < 3; i++) {
		job_init(&jobs[i], i, i == 1, 1);
		cr_assert_eq(dc_reader_submit(g_reader, &jobs[i].base), DTX_OK);
	}
	dc_reader_destroy(g_reader);
	g_reader = NULL;
	for (int i = 0; i < 3; i++)
		cr_assert(jobs[i].disposed, "job %d was not disposed of", i);
	cr_assert_eq(g_ndone, 0);
}

Test(reader, a_stopped_reader_refuses_jobs)
{
	static test_job j;

	cr_assert_eq(dc_reader_create(g_log, &g_mb, 8, &g_reader), DTX_OK);
	dc_reader_stop(g_reader);
	job_init(&j, 1, false, 1);
	cr_assert_eq(dc_reader_submit(g_reader, &j.base), DTX_EBUSY);
	cr_assert_eq(dc_reader_create(g_log, &g_mb, 0, &(dc_reader *){NULL}),
	             DTX_EINVAL);
}
