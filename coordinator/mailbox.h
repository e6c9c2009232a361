/*
 * mailbox.h - the hand-off from nng's threads to the engine's loop.
 *
 * nng completion callbacks run on nng's threads; coordinator state is
 * touched only on the libuv loop thread. A callback posts a dc_mail (embedded
 * in the object it completes) here; the loop receives every posted mail, in
 * order, through one uv_async_t. The mutex inside is the only lock that
 * guards coordinator state hand-off (STYLE.md: ownership).
 *
 * Bounded by construction: every mail is embedded in a pre-allocated request
 * or call slot, so the queue can never hold more than those pools.
 */
#ifndef DTX_COORDINATOR_MAILBOX_H
#define DTX_COORDINATOR_MAILBOX_H

#include <pthread.h>
#include <stdbool.h>

#include <uv.h>

typedef struct dc_mail {
	struct dc_mail *next;
	int kind; /* the receiver's tag */
} dc_mail;

/* dc_mailbox_fn receives one mail on the loop thread (mail retained by its
 * owner; the receiver decides what happens to it). */
typedef void (*dc_mailbox_fn)(void *arg, dc_mail *mail);

typedef struct dc_mailbox {
	uv_async_t async;
	pthread_mutex_t lock;
	dc_mail *head;
	dc_mail *tail;
	dc_mailbox_fn fn;
	void *arg;
	bool closed;
} dc_mailbox;

/* dc_mailbox_init binds mb (caller-owned memory) to loop. fn and arg are
 * retained. Errors: DTX_EINTERNAL (libuv refused the handle). */
int dc_mailbox_init(dc_mailbox *mb, uv_loop_t *loop, dc_mailbox_fn fn,
                    void *arg);

/* dc_mailbox_post queues mail (retained until delivered). Any thread. After
 * dc_mailbox_close, mails are dropped: the poster must not rely on delivery
 * during shutdown. */
void dc_mailbox_post(dc_mailbox *mb, dc_mail *mail);

/* dc_mailbox_close stops delivery and closes the async handle; the memory
 * of mb may be freed only after the loop ran close callbacks (uv_run). */
void dc_mailbox_close(dc_mailbox *mb);

/* dc_mailbox_fini destroys the lock; call after the handle closed. */
void dc_mailbox_fini(dc_mailbox *mb);

#endif
