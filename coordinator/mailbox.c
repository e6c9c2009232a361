/*
 * mailbox.c - FIFO of dc_mail from any thread to the loop (see mailbox.h).
 *
 * Never calls the receiver with the lock held: the loop takes the whole list
 * out under the lock and delivers it after unlocking, so a receiver may post
 * again without deadlock.
 */
#include "mailbox.h"

#include <dtx/dtx.h>

static void on_async(uv_async_t *handle)
{
	dc_mailbox *mb = handle->data;
	dc_mail *mail;

	pthread_mutex_lock(&mb->lock);
	mail = mb->head;
	mb->head = mb->tail = NULL;
	pthread_mutex_unlock(&mb->lock);

	while (mail != NULL) {
		dc_mail *next = mail->next;
		mail->next = NULL;
		mb->fn(mb->arg, mail);
		mail = next;
	}
}

int dc_mailbox_init(dc_mailbox *mb, uv_loop_t *loop, dc_mailbox_fn fn,
                    void *arg)
{
	mb->head = mb->tail = NULL;
	mb->fn = fn;
	mb->arg = arg;
	mb->closed = false;
	if (uv_async_init(loop, &mb->async, on_async) != 0)
		return DTX_EINTERNAL;
	mb->async.data = mb;
	pthread_mutex_init(&mb->lock, NULL);
	return DTX_OK;
}

void dc_mailbox_post(dc_mailbox *mb, dc_mail *mail)
{
	bool closed;

	mail->next = NULL;
	pthread_mutex_lock(&mb->lock);
	closed = mb->closed;
	if (!closed) {
		if (mb->tail != NULL)
			mb->tail->next = mail;
		else
			mb->head = mail;
		mb->tail = mail;
	}
	pthread_mutex_unlock(&mb->lock);
	if (!closed)
		uv_async_send(&mb->async);
}

void dc_mailbox_close(dc_mailbox *mb)
{
	pthread_mutex_lock(&mb->lock);
	mb->closed = true;
	mb->head = mb->tail = NULL;
	pthread_mutex_unlock(&mb->lock);
	uv_close((uv_handle_t *)&mb->async, NULL);
}

void dc_mailbox_fini(dc_mailbox *mb)
{
	pthread_mutex_destroy(&mb->lock);
}
