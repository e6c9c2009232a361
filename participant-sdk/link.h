/*
 * link.h - libdtx internals: a req0 socket that stays connected to one URL
 * whatever nng 1.5.2 does (not installed; only client.c uses it).
 *
 * Unlike sdk.h this header includes nng: a link hands out its nng_socket.
 */
#ifndef DTX_SDK_LINK_H
#define DTX_SDK_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

typedef struct sdk_link sdk_link;

/* sdk_link_open opens a req0 socket (receive limit max_msg, nng's resends
 * off) and dials url (copied) in the background; a tls+tcp:// url with
 * tls (retained: it must outlive the link's socket). Errors: DTX_EINVAL
 * (a scheme dtx does not speak, "http://", or a tls+tcp:// url without
 * tls: logged naming it, or a URL nng refuses), DTX_EUNREACHABLE (a URL
 * nng refuses), DTX_ENOMEM. */
int sdk_link_open(const char *url, size_t max_msg, nng_tls_config *tls,
                  sdk_link **ret_link);

/* sdk_link_socket returns the link's socket, for contexts. */
nng_socket sdk_link_socket(const sdk_link *link);

/* sdk_link_url returns the URL (owned by the link). */
const char *sdk_link_url(const sdk_link *link);

/* sdk_link_is_up tells whether the link has a connection, as far as nng
 * reported one. Thread-safe. */
bool sdk_link_is_up(sdk_link *link);

/* sdk_link_is_refused tells whether nothing listens at the link's URL as
 * far as it can tell: never connected, and its probes' connects were
 * refused for a while (see link.c). Thread-safe. */
bool sdk_link_is_refused(sdk_link *link);

/* sdk_link_mark returns what a request remembers when it begins, to tell
 * sdk_link_ended whether anything was heard since. Thread-safe. */
uint64_t sdk_link_mark(sdk_link *link);

/* sdk_link_ended reports how a request begun at mark ended: err DTX_OK is
 * an answer heard; DTX_ETIMEDOUT or DTX_EUNREACHABLE with nothing heard on
 * the link since mark makes its connection suspect (sdk_link_tend then
 * replaces it). Other errors say nothing. Thread-safe. */
void sdk_link_ended(sdk_link *link, uint64_t mark, int err);

/* sdk_link_tend replaces the link's connection when it is suspect, or when
 * there has been none for a while: it closes the dialer and its pipes and
 * dials on a fresh dialer. Called by one thread (the client's keeper),
 * never from an nng callback; it may wait for nng's dialer to stop. */
void sdk_link_tend(sdk_link *link);

/* sdk_link_close_socket closes the socket (nng_close): every pending
 * operation ends with NNG_ECLOSED. May hang for ever in nng 1.5.2 (see
 * link.c), so callers run it where a hang can be survived. */
void sdk_link_close_socket(sdk_link *link);

/* sdk_link_free frees link once sdk_link_close_socket has returned (or
 * the socket never opened). Accepts NULL. */
void sdk_link_free(sdk_link *link);

#endif
