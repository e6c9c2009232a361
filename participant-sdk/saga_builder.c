/*
 * saga_builder.c - dtx_saga: a saga under construction, kept directly in
 * its wire form (a Dtx__V1__SubmitSaga with owned strings) so that the
 * client packs it without a copy.
 *
 * Owns every string and payload it holds (copied on add). Validates with
 * the coordinator's own rules (wire_name_is_valid for names, wire_url_check
 * for URLs, WIRE_MAX_* for sizes and timeouts) so a saga built here is
 * never refused for its shape. Never does I/O, never packs (client.c does,
 * through wire.h).
 *
 * Threads: none; a dtx_saga is used by one thread at a time.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdk.h"
#include "trace.h"

struct dtx_saga {
	char *gid;                 /* owned; NULL = the coordinator makes one */
	Dtx__V1__SagaStep **steps; /* owned array of owned steps */
	size_t nsteps;
	size_t cap;
	uint32_t deadline_ms; /* 0 = none */
	sdk_tags tags;        /* business key and labels */
};

int sdk_check_name(const char *name, size_t max)
{
	if (name == NULL)
		return DTX_EINVAL;
	if (strnlen(name, max + 1) > max)
		return DTX_ETOOBIG;
	return wire_name_is_valid(name, max) ? DTX_OK : DTX_EINVAL;
}

int dtx_saga_create(const char *gid, dtx_saga **ret_saga)
{
	dtx_saga *saga;
	int rv;

	if (ret_saga == NULL)
		return DTX_EINVAL;
	if (gid != NULL && (rv = sdk_check_name(gid, DTX_GID_MAX)) != DTX_OK)
		return rv;
	saga = calloc(1, sizeof(*saga));
	if (saga == NULL)
		return DTX_ENOMEM;
	if (gid != NULL && (saga->gid = strdup(gid)) == NULL) {
		free(saga);
		return DTX_ENOMEM;
	}
	*ret_saga = saga;
	return DTX_OK;
}

/* step_free frees step (owned) and everything it holds. Accepts NULL. */
static void step_free(Dtx__V1__SagaStep *step)
{
	if (step == NULL)
		return;
	free(step->participant_url);
	free(step->action);
	free(step->compensate);
	free(step->payload.data);
	free(step);
}

void dtx_saga_destroy(dtx_saga *saga)
{
	size_t i;

	if (saga == NULL)
		return;
	for (i = 0; i < saga->nsteps; i++)
		step_free(saga->steps[i]);
	free(saga->steps);
	free(saga->gid);
	sdk_tags_fini(&saga->tags);
	free(saga);
}

int sdk_check_url(const char *url)
{
	int rv = wire_url_check(url, NULL, 0);

	/* the caller's argument, not a peer's bytes: bad UTF-8 is EINVAL */
	return rv == DTX_EPROTO ? DTX_EINVAL : rv;
}

/* check_step validates add_step's arguments (all borrowed). */
static int check_step(const char *url, const char *action,
                      const char *compensate, const void *payload, size_t len)
{
	int rv;

	if (payload == NULL && len > 0)
		return DTX_EINVAL;
	if ((rv = sdk_check_url(url)) != DTX_OK)
		return rv;
	if ((rv = sdk_check_name(action, DTX_HANDLER_MAX)) != DTX_OK)
		return rv;
	if ((rv = sdk_check_name(compensate, DTX_HANDLER_MAX)) != DTX_OK)
		return rv;
	return len > WIRE_MAX_PAYLOAD_DEFAULT ? DTX_ETOOBIG : DTX_OK;
}

/* step_new copies a step's fields (all borrowed) into a new SagaStep,
 * transferred to the caller in *ret_step. Errors: DTX_ENOMEM. */
static int step_new(const char *url, const char *action, const char *compensate,
                    const void *payload, size_t len, unsigned timeout_ms,
                    Dtx__V1__SagaStep **ret_step)
{
	static const Dtx__V1__SagaStep init = DTX__V1__SAGA_STEP__INIT;
	Dtx__V1__SagaStep *step = malloc(sizeof(*step));

	if (step == NULL)
		return DTX_ENOMEM;
	*step = init;
	step->participant_url = strdup(url);
	step->action = strdup(action);
	step->compensate = strdup(compensate);
	step->has_payload = len > 0;
	step->payload.len = len;
	step->payload.data = len > 0 ? malloc(len) : NULL;
	step->has_timeout_ms = timeout_ms > 0;
	step->timeout_ms = timeout_ms;
	if (step->participant_url == NULL || step->action == NULL ||
	    step->compensate == NULL ||
	    (len > 0 && step->payload.data == NULL)) {
		step_free(step);
		return DTX_ENOMEM;
	}
	if (len > 0)
		memcpy(step->payload.data, payload, len);
	*ret_step = step;
	return DTX_OK;
}

/* reserve makes room for one more step in saga. Errors: DTX_ETOOBIG (the
 * coordinator's default step limit), DTX_ENOMEM. */
static int reserve(dtx_saga *saga)
{
	size_t ncap;
	Dtx__V1__SagaStep **nsteps;

	if (saga->nsteps >= WIRE_MAX_STEPS_DEFAULT)
		return DTX_ETOOBIG;
	if (saga->nsteps < saga->cap)
		return DTX_OK;
	ncap = saga->cap ? saga->cap * 2 : 4;
	nsteps = realloc(saga->steps, ncap * sizeof(*nsteps));
	if (nsteps == NULL)
		return DTX_ENOMEM;
	saga->steps = nsteps;
	saga->cap = ncap;
	return DTX_OK;
}

int dtx_saga_add_step(dtx_saga *saga, const char *url, const char *action,
                      const char *compensate, const void *payload, size_t len,
                      unsigned timeout_ms)
{
	Dtx__V1__SagaStep *step;
	int rv;

	if (saga == NULL)
		return DTX_EINVAL;
	rv = check_step(url, action, compensate, payload, len);
	if (rv == DTX_OK && timeout_ms > WIRE_TIMEOUT_MAX_MS)
		rv = DTX_EINVAL;
	if (rv == DTX_OK)
		rv = reserve(saga);
	if (rv == DTX_OK)
		rv = step_new(url, action, compensate, payload, len, timeout_ms,
		              &step);
	if (rv != DTX_OK)
		return rv;
	saga->steps[saga->nsteps++] = step;
	return DTX_OK;
}

void sdk_saga_view(const dtx_saga *saga, Dtx__V1__SubmitSaga *ret_msg)
{
	static const Dtx__V1__SubmitSaga init = DTX__V1__SUBMIT_SAGA__INIT;

	*ret_msg = init;
	ret_msg->gid = saga->gid;
	ret_msg->n_steps = saga->nsteps;
	ret_msg->steps = saga->steps;
	ret_msg->has_deadline_ms = saga->deadline_ms != 0;
	ret_msg->deadline_ms = saga->deadline_ms;
	ret_msg->key = saga->tags.key;
	ret_msg->n_labels = saga->tags.n;
	ret_msg->labels = saga->tags.labels;
	ret_msg->traceparent = saga->tags.traceparent;
}

int dtx_saga_set_key(dtx_saga *saga, const char *key)
{
	return saga != NULL ? sdk_tags_set_key(&saga->tags, key) : DTX_EINVAL;
}

int dtx_saga_add_label(dtx_saga *saga, const char *name, const char *value)
{
	return saga != NULL ? sdk_tags_add_label(&saga->tags, name, value)
	                    : DTX_EINVAL;
}

int dtx_saga_set_traceparent(dtx_saga *saga, const char *traceparent)
{
	return saga != NULL ? sdk_tags_set_traceparent(&saga->tags, traceparent)
	                    : DTX_EINVAL;
}

/* ---- business key, labels, traceparent (sdk_tags, shared with tcc.c) */

int sdk_tags_set_traceparent(sdk_tags *t, const char *traceparent)
{
	trace_ctx tc;
	char *copy;

	if (trace_parse(traceparent, &tc, NULL, 0) != DTX_OK)
		return DTX_EINVAL;
	if ((copy = strdup(traceparent)) == NULL)
		return DTX_ENOMEM;
	free(t->traceparent);
	t->traceparent = copy;
	return DTX_OK;
}

int sdk_tags_set_key(sdk_tags *t, const char *key)
{
	char *k;
	int rv = wire_key_check(key, NULL, 0);

	if (rv != DTX_OK)
		return rv == DTX_ETOOBIG ? rv : DTX_EINVAL;
	if ((k = strdup(key)) == NULL)
		return DTX_ENOMEM;
	free(t->key);
	t->key = k;
	return DTX_OK;
}

/* tag_name_given: one of t's labels has the name of label (name=...). */
static bool tag_name_given(const sdk_tags *t, const char *label)
{
	size_t len = strcspn(label, "=") + 1;

	for (size_t i = 0; i < t->n; i++)
		if (strncmp(t->labels[i], label, len) == 0)
			return true;
	return false;
}

int sdk_tags_add_label(sdk_tags *t, const char *name, const char *value)
{
	char label[WIRE_LABEL_MAX + 2], **grown;
	int rv, n;

	if (name == NULL || value == NULL || strchr(name, '=') != NULL)
		return DTX_EINVAL;
	n = snprintf(label, sizeof(label), "%s=%s", name, value);
	if (n < 0 || (size_t)n > WIRE_LABEL_MAX)
		return DTX_ETOOBIG;
	if ((rv = wire_label_check(label, NULL, 0)) != DTX_OK)
		return rv == DTX_ETOOBIG ? rv : DTX_EINVAL;
	if (tag_name_given(t, label))
		return DTX_EINVAL;
	if (t->n >= WIRE_LABELS_MAX)
		return DTX_ELIMIT;
	if ((grown = realloc(t->labels, (t->n + 1) * sizeof(*grown))) == NULL)
		return DTX_ENOMEM;
	t->labels = grown;
	if ((t->labels[t->n] = strdup(label)) == NULL)
		return DTX_ENOMEM;
	t->n++;
	return DTX_OK;
}

void sdk_tags_fini(sdk_tags *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->labels[i]);
	free(t->labels);
	free(t->key);
	free(t->traceparent);
	*t = (sdk_tags){0};
}

int dtx_saga_set_deadline(dtx_saga *saga, unsigned deadline_ms)
{
	if (saga == NULL)
		return DTX_EINVAL;
	saga->deadline_ms = deadline_ms;
	return DTX_OK;
}

size_t sdk_saga_nsteps(const dtx_saga *saga)
{
	return saga->nsteps;
}
