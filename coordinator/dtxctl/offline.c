/*
 * offline.c - dtxctl's reads of a stopped coordinator's log (see ctl.h).
 *
 * Opens the log read-only (LMDB lets a second process read) and builds the
 * same AdminReply dtxd's admin endpoint builds (coordinator/admin.c), so
 * offline and online output match. Never writes: a read-only environment
 * refuses writes, and only reads are admitted here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "admin.h"
#include "ctl.h"
#include "log.h"

static int64_t now_unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The log of this process: opened read-only at its first call and kept,
 * since `dtxctl list` follows cursors with one call per page (an open per
 * page cost more than the page). The process's exit closes it. */
static struct {
	dc_log *log;
	const char *dir; /* borrowed from argv */
} ro;

/* say_no_log words a log that is not there (rv DTX_ENOENT from
 * dc_log_open, whose err names a file): no directory, or a directory with
 * no log in it. A store URI is not printed (it may hold a password). */
static void say_no_log(const char *dir, int rv, char *err, size_t errlen)
{
	struct stat st;

	if (rv != DTX_ENOENT)
		return;
	if (strstr(dir, "://") != NULL || strchr(dir, '=') != NULL)
		snprintf(err, errlen, "no dtx log in that store (--store)");
	else if (stat(dir, &st) != 0)
		snprintf(err, errlen, "no log at %s: no such directory", dir);
	else
		snprintf(err, errlen,
		         "no log at %s: the directory holds no dtx log", dir);
}

static int open_ro(const char *dir, dc_log **ret_log, char *err, size_t errlen)
{
	dc_log_opts lo = {.dir = dir, .read_only = true};
	int rv;

	if (ro.log != NULL && strcmp(ro.dir, dir) == 0) {
		*ret_log = ro.log;
		return DTX_OK;
	}
	dc_log_close(ro.log);
	ro.log = NULL;
	if ((rv = dc_log_open(&lo, &ro.log, err, errlen)) != DTX_OK) {
		say_no_log(dir, rv, err, errlen);
		return rv;
	}
	ro.dir = dir;
	*ret_log = ro.log;
	return DTX_OK;
}

static void answer(dc_admin_out *o, dc_log *log,
                   const Dtx__V1__AdminRequest *req)
{
	switch (req->body_case) {
	case DTX__V1__ADMIN_REQUEST__BODY_LIST:
		dc_admin_list(o, log, req->list, NULL, NULL,
		              o->rep.now_unix_ms);
		break;
	case DTX__V1__ADMIN_REQUEST__BODY_SHARDS:
		dc_admin_shards_from_log(o, log, o->rep.now_unix_ms);
		break;
	case DTX__V1__ADMIN_REQUEST__BODY_SHOW:
		dc_admin_show(o, log, req->show, NULL, NULL);
		break;
	default:
		dc_admin_stats(o, log, NULL, NULL);
	}
}

int ctl_offline_call(const char *dir, const Dtx__V1__AdminRequest *req,
                     Dtx__V1__AdminReply **ret_rep, char *err, size_t errlen)
{
	dc_admin_out o;
	dc_log *log;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rv;

	if (req->body_case != DTX__V1__ADMIN_REQUEST__BODY_LIST &&
	    req->body_case != DTX__V1__ADMIN_REQUEST__BODY_SHOW &&
	    req->body_case != DTX__V1__ADMIN_REQUEST__BODY_SHARDS &&
	    req->body_case != DTX__V1__ADMIN_REQUEST__BODY_STATS) {
		snprintf(err, errlen,
		         "--log reads only: list, show, stats, shards");
		return DTX_EINVAL;
	}
	if ((rv = open_ro(dir, &log, err, errlen)) != DTX_OK)
		return rv;
	dc_admin_out_init(&o, now_unix_ms());
	answer(&o, log, req);
	rv = dc_admin_out_pack(&o, &buf, &len);
	dc_admin_out_fini(&o);
	if (rv == DTX_OK)
		rv = wire_admin_reply_decode(buf, len, ret_rep, err, errlen);
	free(buf);
	return rv;
}

int ctl_offline_check(const char *dir, uint64_t *ret_records, uint64_t *ret_bad,
                      char *err, size_t errlen)
{
	dc_log *log;
	int rv = open_ro(dir, &log, err, errlen);

	if (rv != DTX_OK)
		return rv;
	err[0] = '\0';
	return dc_log_check(log, ret_records, ret_bad, err, errlen);
}
