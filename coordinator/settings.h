/*
 * settings.h - where dtxd's settings come from: the command line, the
 * DTX_* environment and a configuration file (dtxd.conf(5)), in that
 * order of precedence, all through the one flag table of config.c.
 *
 * A setting takes its values from the highest source that names it: a
 * flag over a DTX_ variable over a line of the file over the default. A
 * repeatable setting (--listen, --peer) takes all the values of that one
 * source, so a --listen flag replaces the file's listen lines.
 */
#ifndef DTX_COORDINATOR_SETTINGS_H
#define DTX_COORDINATOR_SETTINGS_H

#include <stdio.h>

#include "config.h"

#define DC_SETTINGS_FILE_MAX (1u << 20) /* bytes of a configuration file */
#define DC_SETTINGS_LINE_MAX 4096       /* bytes of one line or variable */
#define DC_SETTINGS_KEYS_MAX 4096       /* values one file may set */

typedef struct dc_settings dc_settings;

/* dc_settings_load fills cfg (dc_config_defaults first) from argv, envp
 * (NULL-terminated "NAME=VALUE" strings, borrowed; NULL for none) and the
 * file --config or DTX_CONFIG names, then checks them together
 * (dc_config_finish). The strings cfg points to are owned by *ret_s,
 * which must outlive cfg (dc_settings_destroy). With --check-config it
 * prints the effective settings with their sources on out (passwords
 * masked) and returns DC_CONFIG_EXIT. Problems go to err, one line each,
 * naming the flag, the variable or FILE:LINE and the key. Returns
 * DC_CONFIG_OK; DC_CONFIG_EXIT (help, version or a check printed: exit
 * 0); DC_CONFIG_USAGE (exit 64). *ret_s is written in every case. */
int dc_settings_load(dc_config *cfg, int argc, char **argv, char **envp,
                     FILE *out, FILE *err, dc_settings **ret_s);

/* dc_settings_changed writes to buf (comma-separated, truncated to len)
 * the names of the settings whose values differ between a and b, and
 * returns how many do. */
size_t dc_settings_changed(const dc_config *a, const dc_config *b, char *buf,
                           size_t len);

/* dc_settings_file is the configuration file s read (NULL: none). */
const char *dc_settings_file(const dc_settings *s);

/* dc_settings_destroy frees s and the strings a dc_config took from it;
 * s may be NULL. */
void dc_settings_destroy(dc_settings *s);

/* dc_settings_mask writes value to buf with secrets replaced by "*****":
 * the whole value when key names a password or secret, else a password
 * in a URI's user information (scheme://user:PASSWORD@host) or in a
 * password=... parameter (libpq's URI query or keyword form). */
void dc_settings_mask(const char *key, const char *value, char *buf,
                      size_t len);

#endif
