/*
 * request.c - a request's calls, dispatched to its endpoint (request.h).
 *
 * Must never: interpret a request (the engine decodes it) or keep state
 * of its own.
 */
#include "request.h"

#include <dtx/dtx.h>

unsigned dc_request_index(const dc_request *req)
{
	return req->index;
}

const void *dc_request_body(const dc_request *req, size_t *ret_len)
{
	return req->ops->body(req, ret_len);
}

int dc_request_admit(dc_request *req, char *errbuf, size_t errlen)
{
	return req->ops->admit(req, errbuf, errlen);
}

int dc_request_wait(dc_request *req, char *errbuf, size_t errlen)
{
	return req->ops->wait(req, errbuf, errlen);
}

void dc_request_reply(dc_request *req, const Dtx__V1__ClientReply *reply)
{
	req->ops->reply(req, reply);
}

void dc_request_reply_raw(dc_request *req, const void *buf, size_t len)
{
	req->ops->reply_raw(req, buf, len);
}

void dc_request_drop(dc_request *req)
{
	req->ops->drop(req);
}

int dc_request_peer(const dc_request *req, dc_peer *ret_peer)
{
	*ret_peer = (dc_peer){.known = false};
	return req->ops->peer != NULL ? req->ops->peer(req, ret_peer) : DTX_OK;
}
