/*
 * tx.c - create, destroy and small helpers for dc_tx, the durable shape of
 * a global transaction (see tx.h).
 *
 * This file owns the memory of a dc_tx and of every string and buffer its
 * steps hold. It performs no I/O and depends on no other coordinator module:
 * the gid check below is a private copy of the rule in dtx.h (1 to
 * DTX_GID_MAX bytes of [A-Za-z0-9._:-]) so that the log and the state
 * machine tests can link this file alone.
 *
 * Invariant of a dc_tx made here: steps has nsteps entries (a saga has at
 * least one; a TCC transaction may have none yet), gid is a valid,
 * NUL-terminated gid. A dc_tx read back from the log may break any other
 * rule a bad record can break: dc_tx_check says whether it can be driven.
 */
#include "tx.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TX_TIME_MAX     INT64_C(253402300799999) /* 9999-12-31, in unix ms */
#define TX_ATTEMPTS_MAX INT32_MAX /* recovery adds one: never wraps */

static bool gid_char_is_valid(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	if (c >= '0' && c <= '9')
		return true;
	return c == '.' || c == '_' || c == ':' || c == '-';
}

/* name_is_valid: 1 to max bytes of the gid charset (gids and handler
 * names share it). */
static bool name_is_valid(const char *s, size_t max)
{
	size_t len;

	if (s == NULL)
		return false;
	len = strnlen(s, max + 1);
	if (len == 0 || len > max)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!gid_char_is_valid(s[i]))
			return false;
	}
	return true;
}

static bool gid_is_valid(const char *gid)
{
	return name_is_valid(gid, DTX_GID_MAX);
}

static bool mode_is_valid(dc_mode mode)
{
	return mode == DC_MODE_SAGA || mode == DC_MODE_TCC;
}

int dc_tx_create(const char *gid, dc_mode mode, uint32_t nsteps, dc_tx **ret_tx)
{
	dc_tx *tx;

	if (!gid_is_valid(gid) || !mode_is_valid(mode) ||
	    (nsteps == 0 && mode == DC_MODE_SAGA))
		return DTX_EINVAL;
	tx = calloc(1, sizeof(*tx));
	if (tx == NULL)
		return DTX_ENOMEM;
	if (nsteps > 0 &&
	    (tx->steps = calloc(nsteps, sizeof(*tx->steps))) == NULL) {
		free(tx);
		return DTX_ENOMEM;
	}
	strcpy(tx->gid, gid);
	tx->mode = mode;
	tx->state = DC_TX_RUNNING;
	tx->failed_step = -1;
	tx->nsteps = nsteps;
	for (uint32_t i = 0; i < nsteps; i++)
		tx->steps[i].state = DC_STEP_PENDING;
	*ret_tx = tx;
	return DTX_OK;
}

int dc_tx_add_step(dc_tx *tx)
{
	dc_step *steps = realloc(tx->steps, (tx->nsteps + 1) * sizeof(*steps));

	if (steps == NULL)
		return DTX_ENOMEM;
	memset(&steps[tx->nsteps], 0, sizeof(*steps));
	steps[tx->nsteps].state = DC_STEP_PENDING;
	tx->steps = steps;
	tx->nsteps++;
	return DTX_OK;
}

static void step_fini(dc_step *step)
{
	free(step->url);
	free(step->action);
	free(step->compensate);
	free(step->confirm);
	free(step->payload);
	free(step->last_error);
	free(step->result);
}

static void free_tags(char *key, char **labels, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		free(labels[i]);
	free(labels);
	free(key);
}

int dc_tx_set_tags(dc_tx *tx, const char *key, char *const *labels, size_t n,
                   const char *traceparent)
{
	char *k = NULL, **l = NULL, *tp = NULL;
	uint32_t got = 0;

	if ((traceparent != NULL && (tp = strdup(traceparent)) == NULL) ||
	    (key != NULL && (k = strdup(key)) == NULL) ||
	    (n > 0 && (l = calloc(n, sizeof(*l))) == NULL))
		goto fail;
	for (; got < n; got++)
		if ((l[got] = strdup(labels[got])) == NULL)
			goto fail;
	free_tags(tx->key, tx->labels, tx->nlabels);
	tx->key = k;
	tx->labels = l;
	tx->nlabels = got;
	free(tx->traceparent);
	tx->traceparent = tp;
	return DTX_OK;
fail:
	free_tags(k, l, got);
	free(tp);
	return DTX_ENOMEM;
}

bool dc_tx_has_label(const dc_tx *tx, const char *label)
{
	for (uint32_t i = 0; i < tx->nlabels; i++)
		if (strcmp(tx->labels[i], label) == 0)
			return true;
	return false;
}

void dc_tx_destroy(dc_tx *tx)
{
	if (tx == NULL)
		return;
	if (tx->steps != NULL) {
		for (uint32_t i = 0; i < tx->nsteps; i++)
			step_fini(&tx->steps[i]);
	}
	free(tx->steps);
	free(tx->reason);
	free(tx->operator_reason);
	free_tags(tx->key, tx->labels, tx->nlabels);
	free(tx->traceparent);
	free(tx);
}

/* dup_bytes copies len bytes of src into *dst (NULL stays NULL). */
static int dup_bytes(void **dst, const void *src, size_t len)
{
	*dst = NULL;
	if (src == NULL)
		return DTX_OK;
	if ((*dst = malloc(len + 1)) == NULL)
		return DTX_ENOMEM;
	memcpy(*dst, src, len);
	((char *)*dst)[len] = '\0';
	return DTX_OK;
}

static size_t str_len(const char *s)
{
	return s != NULL ? strlen(s) : 0;
}

static int step_copy(dc_step *dst, const dc_step *src, bool bytes)
{
	*dst = *src; /* the numbers; the pointers are copied below */
	dst->url = dst->action = dst->compensate = dst->confirm = NULL;
	dst->last_error = NULL;
	dst->payload = dst->result = NULL;
	if (!bytes)
		dst->payload_len = dst->result_len = 0;
	if (dup_bytes((void **)&dst->url, src->url, str_len(src->url)) ||
	    dup_bytes((void **)&dst->action, src->action,
	              str_len(src->action)) ||
	    dup_bytes((void **)&dst->compensate, src->compensate,
	              str_len(src->compensate)) ||
	    dup_bytes((void **)&dst->confirm, src->confirm,
	              str_len(src->confirm)) ||
	    (bytes && dup_bytes((void **)&dst->payload, src->payload,
	                        src->payload_len)) ||
	    dup_bytes((void **)&dst->last_error, src->last_error,
	              str_len(src->last_error)) ||
	    (bytes &&
	     dup_bytes((void **)&dst->result, src->result, src->result_len)))
		return DTX_ENOMEM;
	return DTX_OK;
}

int dc_tx_copy(const dc_tx *tx, bool bytes, dc_tx **ret_tx)
{
	dc_tx *c = calloc(1, sizeof(*c));
	int rv = DTX_ENOMEM;

	if (c == NULL)
		return DTX_ENOMEM;
	*c = *tx;
	c->reason = c->operator_reason = NULL;
	c->key = NULL;
	c->labels = NULL;
	c->nlabels = 0;
	c->traceparent = NULL;
	c->steps = NULL;
	c->nsteps = 0;
	if (tx->nsteps > 0 &&
	    (c->steps = calloc(tx->nsteps, sizeof(*c->steps))) == NULL)
		goto fail;
	for (; c->nsteps < tx->nsteps; c->nsteps++)
		if (step_copy(&c->steps[c->nsteps], &tx->steps[c->nsteps],
		              bytes))
			goto fail_step;
	if (dc_tx_set_str(&c->reason, tx->reason) != DTX_OK ||
	    dc_tx_set_str(&c->operator_reason, tx->operator_reason) != DTX_OK ||
	    dc_tx_set_tags(c, tx->key, tx->labels, tx->nlabels,
	                   tx->traceparent) != DTX_OK)
		goto fail;
	*ret_tx = c;
	return DTX_OK;
fail_step:
	c->nsteps++; /* the half-copied step: its copies are freed too */
fail:
	dc_tx_destroy(c);
	return rv;
}

int dc_tx_set_str(char **slot, const char *s)
{
	char *copy = NULL;

	if (s != NULL) {
		copy = strdup(s);
		if (copy == NULL)
			return DTX_ENOMEM;
	}
	free(*slot);
	*slot = copy;
	return DTX_OK;
}

/* step_state_fits: saga steps use PENDING..COMPENSATED, TCC branches
 * PENDING and TRYING..CANCELLED. */
static bool step_state_fits(dc_mode mode, dc_step_state st)
{
	if (st == DC_STEP_PENDING)
		return true;
	if (mode == DC_MODE_SAGA)
		return st > DC_STEP_PENDING && st < DC_STEP_TRYING;
	return st >= DC_STEP_TRYING && st < DC_STEP_STATE_COUNT;
}

/* step_problem returns what is wrong with step st of a tx in mode, or
 * NULL. */
static const char *step_problem(dc_mode mode, const dc_step *st)
{
	if (!step_state_fits(mode, st->state))
		return "a state its mode does not have";
	if (st->url == NULL || st->url[0] == '\0' ||
	    strnlen(st->url, DTX_URL_MAX + 1) > DTX_URL_MAX)
		return "no URL, or one longer than DTX_URL_MAX";
	if (!name_is_valid(st->action, DTX_HANDLER_MAX) ||
	    !name_is_valid(st->compensate, DTX_HANDLER_MAX) ||
	    (mode == DC_MODE_TCC &&
	     !name_is_valid(st->confirm, DTX_HANDLER_MAX)))
		return "a missing or invalid handler name";
	if (st->attempts > TX_ATTEMPTS_MAX)
		return "an attempt count out of range";
	return NULL;
}

static bool time_is_valid(int64_t ms)
{
	return ms >= 0 && ms <= TX_TIME_MAX;
}

/* tx_problem returns what is wrong with tx's own fields, or NULL. */
static const char *tx_problem(const dc_tx *tx)
{
	if (!mode_is_valid(tx->mode))
		return "an unknown mode";
	if (tx->state < DC_TX_RUNNING || tx->state >= DC_TX_STATE_COUNT ||
	    (tx->mode == DC_MODE_SAGA && tx->state > DC_TX_COMPENSATED))
		return "a state its mode does not have";
	if (tx->pruned_unix_ms != 0) /* a tombstone: final, no steps */
		return !dc_tx_is_final(tx) || tx->nsteps != 0
		               ? "a tombstone that is not final or has steps"
		               : NULL;
	if (tx->nsteps > DC_TX_STEPS_MAX ||
	    (tx->mode == DC_MODE_SAGA && tx->nsteps == 0))
		return "a step count out of range";
	if (tx->failed_step < -1 || tx->failed_step >= (int64_t)tx->nsteps)
		return "a failed step that is not one of its steps";
	if (!time_is_valid(tx->created_unix_ms) ||
	    !time_is_valid(tx->updated_unix_ms) ||
	    !time_is_valid(tx->deadline_unix_ms))
		return "a time out of range";
	return NULL;
}

bool dc_tx_check(const dc_tx *tx, char *why, size_t len)
{
	const char *p = tx_problem(tx);

	if (p != NULL) {
		snprintf(why, len, "transaction has %s", p);
		return false;
	}
	for (uint32_t i = 0; i < tx->nsteps; i++) {
		p = step_problem(tx->mode, &tx->steps[i]);
		if (p != NULL) {
			snprintf(why, len, "step %u has %s", i, p);
			return false;
		}
	}
	return true;
}

bool dc_tx_is_final(const dc_tx *tx)
{
	return tx->state == DC_TX_COMMITTED || tx->state == DC_TX_COMPENSATED ||
	       tx->state == DC_TX_CANCELLED;
}

const char *dc_step_handler(const dc_step *step, dtx_op op)
{
	switch (op) {
	case DTX_OP_ACTION:
	case DTX_OP_TRY:
		return step->action;
	case DTX_OP_COMPENSATE:
	case DTX_OP_CANCEL:
		return step->compensate;
	case DTX_OP_CONFIRM:
		return step->confirm;
	}
	return NULL;
}
