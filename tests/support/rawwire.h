/*
 * rawwire.h - raw nng sockets for tests that play a hostile peer: they
 * send bytes the SDK would never send (crafted with the generated
 * protobuf-c structs, or spoiled by hand) and read the answers themselves.
 *
 * Every function asserts on failure (Criterion), like the harness.
 */
#ifndef DTX_TESTS_RAWWIRE_H
#define DTX_TESTS_RAWWIRE_H

#include <stddef.h>

#include <nng/nng.h>

#define RW_RECV_MAX (4u << 20) /* big enough for any answer */

/* rw_open opens a REQ socket dialled to url (borrowed) that accepts
 * answers up to RW_RECV_MAX; with timeout_ms > 0 its sends and receives
 * give up after that long (NNG_ETIMEDOUT). The caller nng_closes it. */
nng_socket rw_open(const char *url, int timeout_ms);

/* rw_exchange sends the len bytes at buf (borrowed) on s and returns the
 * answer (an nng buffer of *ret_len bytes the caller nng_frees); asserts
 * that one comes. */
void *rw_exchange(nng_socket s, const void *buf, size_t len, size_t *ret_len);

#endif
