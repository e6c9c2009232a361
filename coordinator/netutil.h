/*
 * netutil.h - translation of nng's error codes, for the coordinator's two
 * nng modules (server.c, rpc.c). The only place that names NNG_E* codes.
 */
#ifndef DTX_COORDINATOR_NETUTIL_H
#define DTX_COORDINATOR_NETUTIL_H

#include <dtx/dtx.h>

/* dc_err_from_nng maps an nng return code to a dtx_err (0 -> DTX_OK). */
int dc_err_from_nng(int nng_rv);

#endif
