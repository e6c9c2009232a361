/*
 * ctl.h - dtxctl, the operator CLI: what its modules share.
 *
 *   main.c    flags, commands, exit codes (sysexits.h)
 *   online.c  the admin endpoint of a running dtxd (the only nng user)
 *   offline.c a stopped dtxd's log, read-only (through coordinator/log.c)
 *   output.c  tables and JSON (the only jansson user)
 *
 * Every command builds an AdminRequest and gets an AdminReply, online or
 * offline: both paths answer with the same message, so offline reads
 * print exactly what online reads print.
 */
#ifndef DTX_DTXCTL_CTL_H
#define DTX_DTXCTL_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tlsconf.h"

#include "wire.h"

#define CTL_SCHEMA 1 /* "schema" of every JSON object dtxctl prints */

typedef enum ctl_format {
	CTL_TABLE = 0,
	CTL_JSON,
	CTL_JSONL,
} ctl_format;

/* ctl_online_call sends req to the admin endpoint at url and waits up to
 * timeout_ms for the reply (*ret_rep, freed with wire_admin_reply_free).
 * Errors: DTX_EUNREACHABLE (cannot connect), DTX_ETIMEDOUT, DTX_EPROTO /
 * DTX_EVERSION (a reply that does not decode), DTX_ENOMEM. err gets a
 * one-line reason. */
int ctl_online_call(const char *url, uint32_t timeout_ms,
                    const Dtx__V1__AdminRequest *req,
                    Dtx__V1__AdminReply **ret_rep, char *err, size_t errlen);

/* ctl_online_tls loads the TLS files of f (borrowed) for the tls+tcp://
 * admin endpoints ctl_online_call dials from now on (dtxctl as a TLS
 * client: f->ca checks dtxd's certificate). Errors: DTX_EINVAL (*ret_field
 * names the setting, why the file and the reason), DTX_ENOMEM. */
int ctl_online_tls(const tlsconf_files *f, tlsconf_field *ret_field, char *why,
                   size_t len);

/* ctl_offline_call answers a list, show or stats request from the log in
 * dir, opened read-only. Errors: those of dc_log_open (DTX_EIO,
 * DTX_ECORRUPT, DTX_EVERSION...), DTX_EINVAL (not a read), DTX_ENOMEM. */
int ctl_offline_call(const char *dir, const Dtx__V1__AdminRequest *req,
                     Dtx__V1__AdminReply **ret_rep, char *err, size_t errlen);

/* ctl_offline_check verifies every record of the log in dir. */
int ctl_offline_check(const char *dir, uint64_t *ret_records, uint64_t *ret_bad,
                      char *err, size_t errlen);

/* ctl_print prints rep, the answer to command cmd, on out in fmt. For
 * list, quiet prints bare gids. */
void ctl_print(FILE *out, ctl_format fmt, const char *cmd,
               const Dtx__V1__AdminReply *rep, bool quiet);

/* ctl_print_events prints rep's events (dtxctl watch), one per line, at
 * most max of them (0: all); gid NULL or a filter. Returns how many it
 * printed (those of gid only). */
uint64_t ctl_print_events(FILE *out, ctl_format fmt,
                          const Dtx__V1__AdminReply *rep, const char *gid,
                          uint64_t max);

/* ctl_print_error prints a failed command: JSON on out for json/jsonl,
 * and always a line on err. */
void ctl_print_error(FILE *out, FILE *err, ctl_format fmt, const char *cmd,
                     int code, const char *msg, int exit_code);

/* ctl_parse_state / ctl_parse_duration read a state name and a duration
 * N[ms|s|m|h|d] (main.c's flag parsers, shared with select.c). */
bool ctl_parse_state(const char *s, Dtx__V1__TxState *ret);
bool ctl_parse_duration(const char *s, uint64_t *ret_ms);

/* ctl_select_parse parses a --select expression (comma-separated state=,
 * mode=, handler=, participant=, older-than=, key=, label=NAME=VALUE,
 * needs-operator) into f; labels (WIRE_LABELS_MAX entries) holds the
 * label terms f points at. Returns 0, or -1 with a reason in err. */
int ctl_select_parse(const char *sel, Dtx__V1__AdminFilter *f, char **labels,
                     char *err, size_t errlen);

/* ctl_print_selected prints one selected transaction's outcome (code 0:
 * done or, dry, would be; msg: why not) with rep's transitions (rep may be
 * NULL); ctl_print_select_summary prints the counts. */
void ctl_print_selected(FILE *out, ctl_format fmt, const char *cmd,
                        const char *gid, int code, const char *msg,
                        const Dtx__V1__AdminReply *rep);
void ctl_print_select_summary(FILE *out, ctl_format fmt, const char *cmd,
                              bool dry, size_t selected, size_t done,
                              uint32_t limit, bool more);

/* ctl_print_check prints the result of `log check`. */
void ctl_print_check(FILE *out, ctl_format fmt, uint64_t records, uint64_t bad,
                     const char *first_problem);

#endif
