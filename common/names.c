/*
 * names.c - human-readable names for the public enums of <dtx/dtx.h>.
 *
 * Owns dtx_strerror and the state/op name functions exported by libdtx.
 * Every string returned is a static constant: thread-safe, never freed.
 * Never allocates, never prints, never does I/O. Values outside an enum's
 * range give "unknown error" / "unknown", never a crash.
 */
#include "dtx/dtx.h"

static const char *const err_messages[DTX_ERR_COUNT] = {
        [DTX_OK] = "success",
        [DTX_EINVAL] = "invalid argument or malformed request",
        [DTX_ENOMEM] = "out of memory",
        [DTX_ENOENT] = "no such transaction, handler or record",
        [DTX_ETIMEDOUT] = "deadline passed before an answer came",
        [DTX_ECLOSED] = "object or connection is closed",
        [DTX_EPROTO] = "peer sent something that is not dtx v1",
        [DTX_ETOOBIG] = "message, name or payload exceeds its limit",
        [DTX_ELIMIT] = "configured resource limit reached",
        [DTX_EIO] = "I/O error on durable storage",
        [DTX_ENOSPC] = "no space left on durable storage",
        [DTX_ECORRUPT] = "stored record failed its checks",
        [DTX_EUNREACHABLE] = "peer cannot be reached",
        [DTX_EBUSY] = "busy (overloaded or in use), try again later",
        [DTX_EVERSION] = "unsupported protocol or format version",
        [DTX_EINTERNAL] = "internal error (an invariant did not hold)",
        [DTX_ECONFLICT] = "conflict: the gid names a different "
                          "transaction, or the store changed under a "
                          "conditional write",
        [DTX_EMOVED] = "the gid's shard is not this coordinator's: ask "
                       "its owner",
        [DTX_EPERM] = "refused: not allowed for this peer",
};

static const char *const tx_state_names[] = {
        [DTX_TX_RUNNING] = "running",
        [DTX_TX_COMPENSATING] = "compensating",
        [DTX_TX_COMMITTED] = "committed",
        [DTX_TX_COMPENSATED] = "compensated",
        [DTX_TX_CONFIRMING] = "confirming",
        [DTX_TX_CANCELLING] = "cancelling",
        [DTX_TX_CANCELLED] = "cancelled",
};

static const char *const step_state_names[] = {
        [DTX_STEP_PENDING] = "pending",
        [DTX_STEP_ACTING] = "acting",
        [DTX_STEP_DONE] = "done",
        [DTX_STEP_FAILED] = "failed",
        [DTX_STEP_COMPENSATING] = "compensating",
        [DTX_STEP_COMPENSATED] = "compensated",
        [DTX_STEP_TRYING] = "trying",
        [DTX_STEP_TRIED] = "tried",
        [DTX_STEP_CONFIRMING] = "confirming",
        [DTX_STEP_CONFIRMED] = "confirmed",
        [DTX_STEP_CANCELLING] = "cancelling",
        [DTX_STEP_CANCELLED] = "cancelled",
};

static const char *const op_names[] = {
        [DTX_OP_ACTION] = "action", [DTX_OP_COMPENSATE] = "compensate",
        [DTX_OP_TRY] = "try",       [DTX_OP_CONFIRM] = "confirm",
        [DTX_OP_CANCEL] = "cancel",
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* lookup returns table[i], or fallback when i is out of range or a hole. */
static const char *lookup(const char *const *table, size_t n, int i,
                          const char *fallback)
{
	if (i < 0 || (size_t)i >= n || table[i] == NULL)
		return fallback;
	return table[i];
}

const char *dtx_strerror(int err)
{
	return lookup(err_messages, COUNT_OF(err_messages), err,
	              "unknown error");
}

const char *dtx_tx_state_name(int state)
{
	return lookup(tx_state_names, COUNT_OF(tx_state_names), state,
	              "unknown");
}

const char *dtx_step_state_name(int state)
{
	return lookup(step_state_names, COUNT_OF(step_state_names), state,
	              "unknown");
}

const char *dtx_op_name(int op)
{
	return lookup(op_names, COUNT_OF(op_names), op, "unknown");
}

bool dtx_tx_state_is_final(int state)
{
	return state == DTX_TX_COMMITTED || state == DTX_TX_COMPENSATED ||
	       state == DTX_TX_CANCELLED;
}
