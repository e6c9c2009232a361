/*
 * http_assets.h - the console's files (coordinator/console/), embedded in
 * dtxd at build time by coordinator/console/embed.py: dtxd serves them
 * itself, nothing is read from disk or fetched at run time.
 */
#ifndef DTX_COORDINATOR_HTTP_ASSETS_H
#define DTX_COORDINATOR_HTTP_ASSETS_H

#include <stddef.h>

typedef struct dc_http_asset {
	const char *path; /* the URL path it is served at */
	const char *type; /* its Content-Type */
	const unsigned char *data;
	size_t len;
} dc_http_asset;

extern const dc_http_asset dc_http_assets[];
extern const size_t dc_http_nassets;

#endif
