/*
 * wire.h - the codec: the only module that calls protobuf-c.
 *
 * Owns packing and unpacking of every dtx.v1 message (proto/dtx.proto) and
 * the validation protobuf-c does not do (PLATFORM.md: it accepts invalid
 * UTF-8, out-of-range enums and duplicate fields). A message that leaves a
 * wire_*_decode function with DTX_OK is well-formed: version known, required
 * fields present, names in charset and within limits, enums in range.
 * Other modules read the generated structs (dtx.pb-c.h) but never call
 * protobuf_c_* themselves.
 *
 * Never does I/O. Thread-safe (no shared state).
 */
#ifndef DTX_COMMON_WIRE_H
#define DTX_COMMON_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dtx.pb-c.h"

/* Limits applied while validating. */
typedef struct wire_limits {
	uint32_t max_steps; /* steps in one saga (>= 1) */
	size_t max_payload; /* bytes of one step payload / result */
} wire_limits;

#define WIRE_MAX_STEPS_DEFAULT   64
#define WIRE_MAX_PAYLOAD_DEFAULT (256u * 1024u)
#define WIRE_MESSAGE_MAX         1024 /* bytes of a reply message / last_error */
#define WIRE_FINAL_QUERY_MAX     256  /* gids in one FinalQuery */
#define WIRE_ADMIN_LIST_MAX      1000 /* transactions in one AdminList page */
#define WIRE_BATCH_MAX           64   /* calls in one batched BranchCall */
#define WIRE_INSTANCE_MAX        128  /* bytes of a coordinator's name */
/* Messages nested in one message, the outermost counting 1. The schema's
 * deepest shape is 3 (AdminReply > TxInfo > StepInfo; a batch is 2); a
 * message nested deeper is refused before protobuf-c unpacks it (its
 * unpacker recurses without a limit). wire_test checks the schema. */
#define WIRE_MAX_DEPTH 4
/* Longest per-call deadline a request may ask for (SagaStep/TccBranch
 * timeout_ms): one hour. nng's durations are signed 32-bit milliseconds. */
#define WIRE_TIMEOUT_MAX_MS 3600000u
/* Latest wall-clock time a message may carry (BranchCall
 * deadline_unix_ms): year 9999, far from int64 overflow when a tolerance
 * is added to it. */
#define WIRE_UNIX_MS_MAX INT64_C(253402300799999)
/* Longest unix-domain socket path (sun_path, NUL excluded). */
#define WIRE_IPC_PATH_MAX 107

/* A transaction's business key and labels (SubmitSaga.key, .labels): a
 * key of 1..WIRE_KEY_MAX bytes, at most WIRE_LABELS_MAX labels of at most
 * WIRE_LABEL_MAX bytes each, "name=value" with a name of 1..63 bytes of
 * [A-Za-z0-9._/-] and a value of UTF-8 without control characters. */
#define WIRE_KEY_MAX    128
#define WIRE_LABELS_MAX 16
#define WIRE_LABEL_MAX  256

/* wire_key_check / wire_label_check check a business key and one label
 * (borrowed, may be NULL) as above. Errors: DTX_EINVAL (empty, bad
 * characters, no '='), DTX_ETOOBIG (too long); a reason goes to errbuf
 * (may be NULL). */
int wire_key_check(const char *key, char *errbuf, size_t errlen);
int wire_label_check(const char *label, char *errbuf, size_t errlen);

/* wire_name_is_valid returns true if s is 1..max bytes of [A-Za-z0-9._:-].
 * Used for gids and handler names. s may be NULL (false). */
bool wire_name_is_valid(const char *s, size_t max);

/* wire_url_check checks url (borrowed, may be NULL) as a participant URL
 * the coordinator can dial: tcp://HOST:PORT (also tcp4://, tcp6://, HOST
 * a name, an IPv4 address or [IPv6], PORT 1..65535, nothing after it) or
 * ipc://PATH (1..WIRE_IPC_PATH_MAX bytes), at most DTX_URL_MAX bytes of
 * UTF-8 without control characters. On error a one-line reason naming
 * the fault (the scheme, when that is it) is written to errbuf (may be
 * NULL). Errors: DTX_EINVAL, DTX_ETOOBIG (too long), DTX_EPROTO (not
 * UTF-8). */
int wire_url_check(const char *url, char *errbuf, size_t errlen);

/* wire_scheme_check checks that url (borrowed, may be NULL) has a scheme
 * dtx speaks on its endpoints (tcp://, tcp4://, tcp6://, ipc://,
 * tls+tcp://...): an "http://" URL is named as such where it is given,
 * not found out at the first call. On error a one-line reason naming the
 * scheme goes to errbuf (may be NULL). Errors: DTX_EINVAL. */
int wire_scheme_check(const char *url, char *errbuf, size_t errlen);

/* wire_utf8_is_valid returns true if the len bytes at s are valid UTF-8. */
bool wire_utf8_is_valid(const char *s, size_t len);

/* wire_packed_size / wire_pack: size of msg on the wire, and pack it into
 * buf (borrowed, at least wire_packed_size bytes). Never fail. */
size_t wire_packed_size(const ProtobufCMessage *msg);
void wire_pack(const ProtobufCMessage *msg, uint8_t *buf);

/* wire_pack_alloc packs msg into a new malloc'd buffer (transferred to the
 * caller in *ret_buf). Errors: DTX_ENOMEM. */
int wire_pack_alloc(const ProtobufCMessage *msg, uint8_t **ret_buf,
                    size_t *ret_len);

/*
 * Decoders. Each first walks buf's encoding (tags, lengths, nesting depth
 * up to WIRE_MAX_DEPTH, no NUL byte and valid UTF-8 in every string field)
 * so that protobuf-c never sees a message it would recurse into without
 * bound or silently cut at a NUL, then unpacks and validates. On DTX_OK
 * *ret_msg is a new message the caller frees with the matching wire_*_free.
 * On error, *ret_msg is untouched and, if errbuf is not NULL, a one-line
 * reason is written there (truncated to errlen). Errors: DTX_EPROTO (not a
 * valid message of that type, nested too deep / bad enum / bad UTF-8 /
 * missing field; the reason names the message type and the field),
 * DTX_EVERSION (unknown version), DTX_EINVAL (invalid gid or handler name, no
 * steps, a URL the coordinator cannot dial, a string with a NUL byte, an
 * integer out of range), DTX_ETOOBIG (too many steps, payload too big),
 * DTX_ENOMEM.
 */
int wire_client_request_decode(const void *buf, size_t len,
                               const wire_limits *lim,
                               Dtx__V1__ClientRequest **ret_msg, char *errbuf,
                               size_t errlen);
void wire_client_request_free(Dtx__V1__ClientRequest *msg);

int wire_client_reply_decode(const void *buf, size_t len,
                             Dtx__V1__ClientReply **ret_msg, char *errbuf,
                             size_t errlen);
void wire_client_reply_free(Dtx__V1__ClientReply *msg);

int wire_branch_call_decode(const void *buf, size_t len, const wire_limits *lim,
                            Dtx__V1__BranchCall **ret_msg, char *errbuf,
                            size_t errlen);
void wire_branch_call_free(Dtx__V1__BranchCall *msg);

/*
 * Batches (dtx.proto, BranchCall.batch). wire_branch_calls_decode is
 * wire_branch_call_decode that also accepts a batch envelope: then only
 * the envelope is checked (version, 2..WIRE_BATCH_MAX calls, none a batch)
 * and the receiver checks each call with wire_branch_call_check (same
 * errors as the decoder), so a bad call is refused alone.
 * wire_branch_replies_decode decodes the answer to n calls (n == 1: a
 * plain BranchReply, as wire_branch_reply_decode) and checks that it holds
 * exactly n valid replies, in msg->batch.
 */
int wire_branch_calls_decode(const void *buf, size_t len,
                             const wire_limits *lim,
                             Dtx__V1__BranchCall **ret_msg, char *errbuf,
                             size_t errlen);
int wire_branch_call_check(const Dtx__V1__BranchCall *msg,
                           const wire_limits *lim, char *errbuf, size_t errlen);
int wire_branch_replies_decode(const void *buf, size_t len, size_t n,
                               Dtx__V1__BranchReply **ret_msg, char *errbuf,
                               size_t errlen);

/*
 * Building a batch without copying: a batch is its head (the version
 * field) followed by each item's head and its packed message (wire_pack).
 * wire_batch_item_head writes the head of an item of len bytes (reply:
 * a BranchReply batch, else a BranchCall batch) and returns its size, which
 * is wire_batch_item_head_size(len) (at most 11).
 */
size_t wire_batch_head_size(void);
void wire_batch_head(uint8_t *buf);
size_t wire_batch_item_head_size(size_t len);
size_t wire_batch_item_head(uint8_t *buf, bool reply, size_t len);

int wire_branch_reply_decode(const void *buf, size_t len,
                             Dtx__V1__BranchReply **ret_msg, char *errbuf,
                             size_t errlen);
void wire_branch_reply_free(Dtx__V1__BranchReply *msg);

/* Admin API (dtxctl <-> dtxd --admin): same contract. A request's action
 * must carry a non-empty reason without control characters (DTX_EINVAL). */
int wire_admin_request_decode(const void *buf, size_t len,
                              Dtx__V1__AdminRequest **ret_msg, char *errbuf,
                              size_t errlen);
void wire_admin_request_free(Dtx__V1__AdminRequest *msg);
int wire_admin_reply_decode(const void *buf, size_t len,
                            Dtx__V1__AdminReply **ret_msg, char *errbuf,
                            size_t errlen);
void wire_admin_reply_free(Dtx__V1__AdminReply *msg);

/* Log records: same contract; they are checked for enum ranges and UTF-8
 * only (they were validated before they were written). */
int wire_log_tx_decode(const void *buf, size_t len, Dtx__V1__LogTx **ret_msg);
void wire_log_tx_free(Dtx__V1__LogTx *msg);
int wire_log_step_decode(const void *buf, size_t len,
                         Dtx__V1__LogStep **ret_msg);
void wire_log_step_free(Dtx__V1__LogStep *msg);
int wire_log_event_decode(const void *buf, size_t len,
                          Dtx__V1__LogEvent **ret_msg);
void wire_log_event_free(Dtx__V1__LogEvent *msg);

#endif
