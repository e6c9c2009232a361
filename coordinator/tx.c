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
 * NUL-terminated gid.
 */
#include "tx.h"

#include <stdlib.h>
#include <string.h>

static bool gid_char_is_valid(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	if (c >= '0' && c <= '9')
		return true;
	return c == '.' || c == '_' || c == ':' || c == '-';
}

static bool gid_is_valid(const char *gid)
{
	size_t len;

	if (gid == NULL)
		return false;
	len = strnlen(gid, DTX_GID_MAX + 1);
	if (len == 0 || len > DTX_GID_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!gid_char_is_valid(gid[i]))
			return false;
	}
	return true;
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
	free(tx);
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
