/*
 * memnet.h - an in-memory transport for the engine's unit tests: the
 * engine's network (coordinator/transport.h) played by the test.
 *
 * The test hands the engine client and admin requests (memnet_client,
 * memnet_admin: packed, posted to the engine's mailbox as the real
 * endpoints would), sees each answer when the engine gives it (kept in the
 * request until the test frees it; a hook may look at the log at that very
 * moment), sees every branch call the engine sends (in the order they
 * leave, at the engine's flush) and answers each one as a participant or
 * the network would: OK, FAIL, RETRY, a timeout or unreachable.
 *
 * No sockets, no threads, no time: everything happens on the test's thread,
 * which is the engine's loop thread; mail reaches the engine when the test
 * runs the loop.
 */
#ifndef DTX_TESTS_MEMNET_H
#define DTX_TESTS_MEMNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtx/dtx.h>

#include "transport.h"

#define MEMNET_SLOTS 64 /* requests of each endpoint held at once */

typedef struct memnet memnet;

/* A request the test sent, and the engine's answer once it came. */
typedef struct memnet_req {
	dc_request base; /* first */
	memnet *net;
	bool in_use;
	uint8_t *body; /* the packed request, owned */
	size_t len;
	bool answered;
	uint8_t *reply; /* the packed answer, owned */
	size_t reply_len;
} memnet_req;

/* How a call ends: a participant's answer, or the transport's. */
typedef enum memnet_outcome {
	MEMNET_OK = 1,
	MEMNET_FAIL,
	MEMNET_RETRY,
	MEMNET_TIMEOUT,     /* no answer in time (DTX_ETIMEDOUT) */
	MEMNET_UNREACHABLE, /* could not deliver (DTX_EUNREACHABLE) */
} memnet_outcome;

/* A branch call the engine sent. */
typedef struct memnet_call {
	dc_call base; /* first: posted back as the completion */
	memnet *net;
	struct memnet_call *next; /* every call not released, newest first */
	uint64_t seq;             /* order of leaving (1, 2, ...); 0 = queued */
	bool answered;
	char url[DTX_URL_MAX + 1];
	char gid[DTX_GID_MAX + 1];
	char handler[DTX_HANDLER_MAX + 1];
	uint32_t branch;
	dtx_op op;
	uint32_t attempt;
	uint32_t timeout_ms;
	int64_t deadline_unix_ms; /* BranchCall.deadline_unix_ms; 0: absent */
	uint64_t epoch;           /* BranchCall.epoch; 0: absent */
	Dtx__V1__BranchReply reply;
	char message[128];
} memnet_call;

/* memnet_hook_fn is told of an answer to req, or of call leaving, at the
 * moment it happens (inside the engine). */
typedef void (*memnet_req_fn)(void *arg, memnet_req *req);
typedef void (*memnet_call_fn)(void *arg, memnet_call *call);

/* memnet_create makes an empty transport. Errors: DTX_ENOMEM. */
int memnet_create(memnet **ret_net);

/* memnet_transport is net as the engine's transport (dc_engine_parts). */
dc_transport *memnet_transport(memnet *net);

/* memnet_destroy frees net, its requests and calls. Accepts NULL. */
void memnet_destroy(memnet *net);

/* memnet_on_reply / memnet_on_call set the hooks (NULL: none). */
void memnet_on_reply(memnet *net, memnet_req_fn fn, void *arg);
void memnet_on_call(memnet *net, memnet_call_fn fn, void *arg);

/* memnet_client / memnet_admin pack m (borrowed) into a free request slot
 * and post it to the engine; NULL if every slot is held or the transport
 * is not open. */
memnet_req *memnet_client(memnet *net, const Dtx__V1__ClientRequest *m);
memnet_req *memnet_admin(memnet *net, const Dtx__V1__AdminRequest *m);

/* memnet_client_reply / memnet_admin_reply decode req's answer (NULL if
 * none yet or undecodable); free with the protobuf-c free_unpacked. */
Dtx__V1__ClientReply *memnet_client_reply(const memnet_req *req);
Dtx__V1__AdminReply *memnet_admin_reply(const memnet_req *req);

/* memnet_req_free gives req's slot back (after its answer came). */
void memnet_req_free(memnet_req *req);

/* memnet_next_call returns the oldest call that left and has no answer
 * yet, or NULL. memnet_find_call does so among those for (gid, branch,
 * op). memnet_calls_out counts them. */
memnet_call *memnet_next_call(memnet *net);
memnet_call *memnet_find_call(memnet *net, const char *gid, uint32_t branch,
                              dtx_op op);
unsigned memnet_calls_out(const memnet *net);

/* memnet_calls_sent counts every call that ever left. */
uint64_t memnet_calls_sent(const memnet *net);

/* memnet_answer ends call with out (message: the participant's or the
 * transport's words, may be NULL) and posts the completion; the engine
 * releases (frees) call when it reads it: do not use call after. */
void memnet_answer(memnet_call *call, memnet_outcome out, const char *message);

#endif
