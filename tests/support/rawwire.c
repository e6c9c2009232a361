/*
 * rawwire.c - raw nng sockets for hostile-peer tests (see rawwire.h).
 */
#include "rawwire.h"

#include <criterion/criterion.h>
#include <nng/protocol/reqrep0/req.h>

nng_socket rw_open(const char *url, int timeout_ms)
{
	nng_socket s;
	int rv;

	rv = nng_req0_open(&s);
	cr_assert_eq(rv, 0, "nng_req0_open: %s", nng_strerror(rv));
	nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, RW_RECV_MAX);
	if (timeout_ms > 0) {
		nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, timeout_ms);
		nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, timeout_ms);
	}
	rv = nng_dial(s, url, NULL, 0);
	cr_assert_eq(rv, 0, "nng_dial %s: %s", url, nng_strerror(rv));
	return s;
}

void *rw_exchange(nng_socket s, const void *buf, size_t len, size_t *ret_len)
{
	void *rbuf = NULL;
	int rv = nng_send(s, (void *)buf, len, 0);

	cr_assert_eq(rv, 0, "send: %s", nng_strerror(rv));
	rv = nng_recv(s, &rbuf, ret_len, NNG_FLAG_ALLOC);
	cr_assert_eq(rv, 0, "no reply: %s", nng_strerror(rv));
	return rbuf;
}
