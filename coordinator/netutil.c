/*
 * netutil.c - nng error translation (see netutil.h). No state, no I/O.
 */
#include "netutil.h"

#include <nng/nng.h>

int dc_err_from_nng(int nng_rv)
{
	switch (nng_rv) {
	case 0:
		return DTX_OK;
	case NNG_ENOMEM:
		return DTX_ENOMEM;
	case NNG_ETIMEDOUT:
		return DTX_ETIMEDOUT;
	case NNG_ECLOSED:
	case NNG_ECANCELED:
		return DTX_ECLOSED;
	case NNG_EINVAL:
	case NNG_EADDRINVAL:
	case NNG_ENOTSUP:
		return DTX_EINVAL;
	case NNG_EMSGSIZE:
		return DTX_ETOOBIG;
	case NNG_EPROTO:
		return DTX_EPROTO;
	default:
		return DTX_EUNREACHABLE;
	}
}
