/*
 * tx.h - the shape of a global transaction inside the coordinator.
 *
 * dc_tx is the durable part of a transaction: exactly what the log stores
 * (coordinator/log.c) and what the state machine (coordinator/saga.c) reads
 * and changes. Runtime-only bookkeeping (in-flight calls, waiters, timers)
 * lives in the engine's wrapper, never here.
 *
 * Enum values equal the dtx.v1 wire/log enums and the public dtx_* enums.
 */
#ifndef DTX_COORDINATOR_TX_H
#define DTX_COORDINATOR_TX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtx/dtx.h>

/* The most steps a transaction may have: the largest --max-steps dtxd
 * accepts (config.c). A record claiming more is not loaded. */
#define DC_TX_STEPS_MAX 4096

typedef enum dc_mode {
	DC_MODE_SAGA = 1,
	DC_MODE_TCC = 2,
} dc_mode;

typedef enum dc_tx_state {
	DC_TX_RUNNING = DTX_TX_RUNNING,
	DC_TX_COMPENSATING = DTX_TX_COMPENSATING,
	DC_TX_COMMITTED = DTX_TX_COMMITTED,
	DC_TX_COMPENSATED = DTX_TX_COMPENSATED,
	DC_TX_CONFIRMING = DTX_TX_CONFIRMING, /* TCC */
	DC_TX_CANCELLING = DTX_TX_CANCELLING, /* TCC */
	DC_TX_CANCELLED = DTX_TX_CANCELLED,   /* TCC, final */
	DC_TX_STATE_COUNT
} dc_tx_state;

typedef enum dc_step_state {
	DC_STEP_PENDING = DTX_STEP_PENDING,
	DC_STEP_ACTING = DTX_STEP_ACTING,
	DC_STEP_DONE = DTX_STEP_DONE,
	DC_STEP_FAILED = DTX_STEP_FAILED,
	DC_STEP_COMPENSATING = DTX_STEP_COMPENSATING,
	DC_STEP_COMPENSATED = DTX_STEP_COMPENSATED,
	DC_STEP_TRYING = DTX_STEP_TRYING, /* TCC branches from here on */
	DC_STEP_TRIED = DTX_STEP_TRIED,
	DC_STEP_CONFIRMING = DTX_STEP_CONFIRMING,
	DC_STEP_CONFIRMED = DTX_STEP_CONFIRMED,
	DC_STEP_CANCELLING = DTX_STEP_CANCELLING,
	DC_STEP_CANCELLED = DTX_STEP_CANCELLED,
	DC_STEP_STATE_COUNT
} dc_step_state;

/* One saga step or TCC branch. Strings and buffers are owned by the step
 * (malloc'd); dc_tx_destroy frees them. A TCC branch keeps its Try in
 * action, its Cancel in compensate and its Confirm in confirm. */
typedef struct dc_step {
	char *url;
	char *action;
	char *compensate;
	char *confirm; /* TCC only; NULL for a saga step */
	uint8_t *payload;
	size_t payload_len;
	uint32_t timeout_ms; /* 0 = the coordinator's default */

	dc_step_state state;
	uint32_t attempts; /* calls made of the current op */
	char *last_error; /* NULL or the last non-OK answer / transport error */
	uint8_t *result;  /* result bytes of the last OK answer, or NULL */
	size_t result_len;
	/* An operator's --force took this branch's action/Try as answered OK
	 * without a participant's OK (operator.c): repairs that build on that
	 * OK ask for --force again. */
	bool forced;
} dc_step;

typedef struct dc_tx {
	char gid[DTX_GID_MAX + 1];
	dc_mode mode;
	dc_tx_state state;
	int32_t failed_step; /* -1 = none */
	char *reason;        /* NULL or why the transaction rolled back */
	int64_t created_unix_ms;
	int64_t updated_unix_ms;
	uint32_t next_event_seq; /* next history key (log.c appends there) */
	bool needs_operator;     /* retries passed the threshold */
	char *operator_reason; /* NULL or why: handler, last error, attempts */
	int64_t deadline_unix_ms; /* 0 = none; past it a running tx rolls back
	                           */
	bool initiator_driven;    /* TCC: the initiator registers branches and
	                             calls the Tries itself */
	bool paused;              /* an operator paused its calls (dtxctl) */
	/* 0: the whole transaction. Else a tombstone (retention pruned its
	 * details at this unix ms): final, no steps; only gid, mode, state,
	 * created and updated (= final time) are known. Never driven. */
	int64_t pruned_unix_ms;
	char *key;        /* NULL or the initiator's business key */
	uint32_t nlabels; /* labels "name=value" (wire.c bounds them) */
	char **labels;    /* nlabels owned strings, NULL if none */
	/* NULL or the initiator's W3C traceparent (common/trace.h; wire.c
	 * checked it at submit) */
	char *traceparent;
	uint32_t nsteps;
	dc_step *steps; /* nsteps entries, owned (NULL if nsteps is 0) */
} dc_tx;

/* dc_tx_create allocates a transaction with nsteps zeroed steps (state
 * PENDING, failed_step -1). gid is copied. A saga needs at least one step;
 * a TCC transaction may start with none (the initiator registers them).
 * Errors: DTX_EINVAL (bad gid, bad mode, a saga with no steps),
 * DTX_ENOMEM. */
int dc_tx_create(const char *gid, dc_mode mode, uint32_t nsteps,
                 dc_tx **ret_tx);

/* dc_tx_add_step appends one zeroed PENDING step to tx (the steps array
 * may move: pointers into it become invalid). Errors: DTX_ENOMEM (tx
 * unchanged). */
int dc_tx_add_step(dc_tx *tx);

/* dc_tx_copy makes *ret_tx (transferred) a deep copy of tx (borrowed);
 * without bytes, the steps' payloads and results are left out (NULL, 0
 * bytes): what a listing shows, copied in time bounded by names and
 * errors. Errors: DTX_ENOMEM. */
int dc_tx_copy(const dc_tx *tx, bool bytes, dc_tx **ret_tx);

/* dc_tx_destroy frees tx and everything it owns. Accepts NULL. */
void dc_tx_destroy(dc_tx *tx);

/* dc_tx_set_tags replaces tx's key, labels and traceparent with copies of
 * key (may be NULL), the n labels and traceparent (may be NULL). Errors:
 * DTX_ENOMEM (tx unchanged). */
int dc_tx_set_tags(dc_tx *tx, const char *key, char *const *labels, size_t n,
                   const char *traceparent);

/* dc_tx_has_label: tx has the label "name=value" (borrowed). */
bool dc_tx_has_label(const dc_tx *tx, const char *label);

/* dc_tx_set_str replaces *slot (owned) with a copy of s (NULL clears).
 * Errors: DTX_ENOMEM (slot unchanged). */
int dc_tx_set_str(char **slot, const char *s);

/* dc_tx_check returns true if tx is a transaction the engine can hold and
 * drive, as far as its own fields go (the state machines check how its
 * states fit together: dc_machine_check): mode and states in range,
 * 1..DC_TX_STEPS_MAX steps for a saga (a TCC transaction may have none),
 * failed_step -1 or a step, every step with a URL of 1..DTX_URL_MAX bytes
 * and valid handler names for its mode, attempts that cannot wrap,
 * timestamps not negative. Otherwise it writes why into why (len bytes)
 * and returns false. */
bool dc_tx_check(const dc_tx *tx, char *why, size_t len);

/* dc_tx_is_final: COMMITTED, COMPENSATED or CANCELLED. */
bool dc_tx_is_final(const dc_tx *tx);

/* dc_step_handler returns the handler name step calls for op (borrowed),
 * or NULL if it has none. */
const char *dc_step_handler(const dc_step *step, dtx_op op);

#endif
