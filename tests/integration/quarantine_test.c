/*
 * quarantine_test.c - a log that holds a poisoned transaction must not keep
 * dtxd down (issue 13, DESIGN.md rule 7).
 *
 * Each test runs dtxd with three sagas left in flight (their second
 * participant is down, and --action-max-attempts 0 keeps them retrying),
 * stops it, spoils the records of one of them (bad-1) in the stopped
 * dtxd's LMDB log - a flipped byte (bad CRC), a valid frame around a
 * payload that is not protobuf, valid records whose states break the saga
 * machine's invariants or that carry a TCC state, a tx record that claims
 * a step that is not there or more steps than any dtxd allows - and starts
 * dtxd again. Then:
 *
 *   - dtxd is up, and the two others finish once the participant is back;
 *   - bad-1 got no branch call after the damage;
 *   - a query and a resubmit of bad-1 get DTX_ECORRUPT with a message that
 *     says it is quarantined and why; no second transaction is made;
 *   - dtxctl list --needs-operator lists it and dtxctl show prints its
 *     cause (from the quarantine table: the mark is durable);
 *   - a restart after that comes up too and does not quarantine it again.
 *
 * The log is spoiled with raw LMDB calls and the on-disk frame (see
 * coordinator/log.c: [0xD7][format 1][type][0][crc32c LE][protobuf]),
 * which is why this file includes <lmdb.h> and the codec.
 */
#include <lmdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "crc32c.h"
#include "harness.h"
#include "wire.h"

#define SPEC      "p1.do/p1.undo p2.do/p2.undo"
#define BAD_GID   "bad-1"
#define STOP_MS   15000 /* dtxd bounds its own stop at 10 s */
#define REPLY_MS  5000
#define FRAME_HDR 8
#define REC_TX    1
#define REC_STEP  2
#define OUT_MAX   (1u << 16)

TestSuite(quarantine, .fini = th_teardown, .timeout = 120);

static const char *const good_gids[] = {"good-1", "good-2"};

/* ---- dtxctl ------------------------------------------------------------ */

/* ctl runs `dtxctl --admin ADMIN ARGS` and returns its stdout (static,
 * overwritten by the next call); asserts it exited 0. */
static const char *ctl(const char *admin, const char *args)
{
	static char out[OUT_MAX];
	char cmd[2048];
	size_t n;
	FILE *p;
	int status;

	snprintf(cmd, sizeof(cmd), "%s --admin %s %s", th_exe("DTX_DTXCTL"),
	         admin, args);
	p = popen(cmd, "r");
	cr_assert_not_null(p, "popen %s", cmd);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	status = pclose(p);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	          "%s failed (%d): %s", cmd, status, out);
	return out;
}

/* ---- raw LMDB on the stopped dtxd's log -------------------------------- */

typedef struct raw_log {
	MDB_env *env;
	MDB_txn *txn;
} raw_log;

static void raw_open(th_env *t, raw_log *r)
{
	cr_assert_eq(mdb_env_create(&r->env), 0);
	cr_assert_eq(mdb_env_set_maxdbs(r->env, 8), 0);
	cr_assert_eq(mdb_env_open(r->env, t->log_dir, 0, 0644), 0);
	cr_assert_eq(mdb_txn_begin(r->env, NULL, 0, &r->txn), 0);
}

static void raw_close(raw_log *r)
{
	cr_assert_eq(mdb_txn_commit(r->txn), 0);
	mdb_env_close(r->env);
}

static MDB_dbi raw_table(raw_log *r, const char *name)
{
	MDB_dbi dbi;

	cr_assert_eq(mdb_dbi_open(r->txn, name, 0, &dbi), 0, "table %s", name);
	return dbi;
}

/* raw_get copies the value of key in table into buf (cap bytes). */
static size_t raw_get(raw_log *r, const char *table, const void *key,
                      size_t klen, uint8_t *buf, size_t cap)
{
	MDB_val k = {klen, (void *)key}, v;

	cr_assert_eq(mdb_get(r->txn, raw_table(r, table), &k, &v), 0,
	             "no record in %s", table);
	cr_assert_leq(v.mv_size, cap);
	memcpy(buf, v.mv_data, v.mv_size);
	return v.mv_size;
}

static void raw_put(raw_log *r, const char *table, const void *key, size_t klen,
                    const void *val, size_t vlen)
{
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};

	cr_assert_eq(mdb_put(r->txn, raw_table(r, table), &k, &v, 0), 0);
}

static size_t step_key(uint8_t *buf, const char *gid, uint32_t i)
{
	size_t n = strlen(gid);

	memcpy(buf, gid, n);
	buf[n] = 0;
	buf[n + 1] = (uint8_t)(i >> 24);
	buf[n + 2] = (uint8_t)(i >> 16);
	buf[n + 3] = (uint8_t)(i >> 8);
	buf[n + 4] = (uint8_t)i;
	return n + 5;
}

/* frame writes the log's frame of type around payload (n bytes) into out
 * (FRAME_HDR + n bytes), with a correct CRC. */
static size_t frame(uint8_t *out, int type, const void *payload, size_t n)
{
	uint32_t crc;

	out[0] = 0xD7;
	out[1] = 1;
	out[2] = (uint8_t)type;
	out[3] = 0;
	memcpy(out + FRAME_HDR, payload, n);
	crc = crc32c_extend(crc32c_extend(0, out, 4), out + FRAME_HDR, n);
	for (int i = 0; i < 4; i++)
		out[4 + i] = (uint8_t)(crc >> (8 * i));
	return FRAME_HDR + n;
}

/* reframe packs msg into a correctly framed record of type in table. */
static void reframe(raw_log *r, const char *table, const void *key, size_t klen,
                    int type, const ProtobufCMessage *msg)
{
	static uint8_t out[1 << 16];
	uint8_t *payload;
	size_t n;

	cr_assert_eq(wire_pack_alloc(msg, &payload, &n), DTX_OK);
	cr_assert_leq(FRAME_HDR + n, sizeof(out));
	raw_put(r, table, key, klen, out, frame(out, type, payload, n));
	free(payload);
}

/* set_step_state rewrites step i of BAD_GID, valid in every byte, with
 * state st. */
static void set_step_state(raw_log *r, uint32_t i, Dtx__V1__StepState st)
{
	uint8_t key[DTX_GID_MAX + 5], buf[1 << 16];
	size_t klen = step_key(key, BAD_GID, i);
	size_t n = raw_get(r, "steps", key, klen, buf, sizeof(buf));
	Dtx__V1__LogStep *m;

	cr_assert_eq(wire_log_step_decode(buf + FRAME_HDR, n - FRAME_HDR, &m),
	             DTX_OK);
	m->state = st;
	reframe(r, "steps", key, klen, REC_STEP, &m->base);
	wire_log_step_free(m);
}

/* set_nsteps rewrites BAD_GID's tx record, valid in every byte, claiming
 * nsteps steps. */
static void set_nsteps(raw_log *r, uint32_t nsteps)
{
	uint8_t buf[1 << 16];
	size_t n =
	        raw_get(r, "txs", BAD_GID, strlen(BAD_GID), buf, sizeof(buf));
	Dtx__V1__LogTx *m;

	cr_assert_eq(wire_log_tx_decode(buf + FRAME_HDR, n - FRAME_HDR, &m),
	             DTX_OK);
	m->nsteps = nsteps;
	reframe(r, "txs", BAD_GID, strlen(BAD_GID), REC_TX, &m->base);
	wire_log_tx_free(m);
}

/* ---- the damage, one kind per test ------------------------------------- */

typedef void (*spoil_fn)(raw_log *r);

static void spoil_crc(raw_log *r)
{
	uint8_t key[DTX_GID_MAX + 5], buf[1 << 16];
	size_t klen = step_key(key, BAD_GID, 1);
	size_t n = raw_get(r, "steps", key, klen, buf, sizeof(buf));

	buf[n - 1] ^= 0x01;
	raw_put(r, "steps", key, klen, buf, n);
}

static void spoil_payload(raw_log *r)
{
	/* a length-delimited field 1 whose length runs past the end */
	static const uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01};
	uint8_t buf[64];

	raw_put(r, "txs", BAD_GID, strlen(BAD_GID), buf,
	        frame(buf, REC_TX, junk, sizeof(junk)));
}

/* RUNNING with step 0 PENDING before step 1 ACTING: saga.c asserts its
 * invariants before every event, recovery's included. */
static void spoil_states(raw_log *r)
{
	set_step_state(r, 0, DTX__V1__STEP_STATE__STEP_PENDING);
}

/* A TCC branch state in a saga. */
static void spoil_foreign_state(raw_log *r)
{
	set_step_state(r, 1, DTX__V1__STEP_STATE__STEP_TRIED);
}

static void spoil_missing_step(raw_log *r)
{
	set_nsteps(r, 3);
}

static void spoil_step_count(raw_log *r)
{
	set_nsteps(r, 100000000);
}

/* ---- the story ---------------------------------------------------------- */

static void submit(th_env *t, dtx_client *c, const char *gid)
{
	dtx_saga *saga = th_saga(t, gid, SPEC);
	dtx_tx_info info;
	int err = dtx_client_submit(c, saga, 0, &info);

	dtx_saga_destroy(saga);
	cr_assert_eq(err, DTX_OK, "submit %s: %s", gid, dtx_strerror(err));
}

/* stop_dtxd stops dtxd with SIGTERM and asserts it exited 0. */
static void stop_dtxd(th_env *t)
{
	th_proc_kill(t->dtxd, SIGTERM);
	cr_assert(th_proc_wait(t->dtxd, STOP_MS), "dtxd did not stop");
	cr_assert_eq(th_proc_exit_code(t->dtxd), 0);
}

/* raw_query asks dtxd for gid with a hand-made Query, so the test sees the
 * reply's message (the SDK gives only the code); returns the code and
 * copies the message into msg. */
static int raw_query(th_env *t, const char *gid, char *msg, size_t len)
{
	Dtx__V1__ClientRequest req = DTX__V1__CLIENT_REQUEST__INIT;
	Dtx__V1__Query q = DTX__V1__QUERY__INIT;
	Dtx__V1__ClientReply *rep;
	uint8_t *buf;
	void *rbuf;
	size_t n, rlen;
	nng_socket s;
	int code;

	req.has_version = true;
	req.version = DTX__V1__VERSION__VERSION_1;
	req.body_case = DTX__V1__CLIENT_REQUEST__BODY_QUERY;
	req.query = &q;
	q.gid = (char *)gid;
	cr_assert_eq(wire_pack_alloc(&req.base, &buf, &n), DTX_OK);
	cr_assert_eq(nng_req0_open(&s), 0);
	nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 1u << 20);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, REPLY_MS);
	nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, REPLY_MS);
	cr_assert_eq(nng_dial(s, t->dtxd_url, NULL, 0), 0);
	cr_assert_eq(nng_send(s, buf, n, 0), 0);
	cr_assert_eq(nng_recv(s, &rbuf, &rlen, NNG_FLAG_ALLOC), 0);
	cr_assert_eq(wire_client_reply_decode(rbuf, rlen, &rep, NULL, 0),
	             DTX_OK);
	code = (int)rep->code;
	snprintf(msg, len, "%s", rep->message ? rep->message : "");
	wire_client_reply_free(rep);
	nng_free(rbuf, rlen);
	nng_close(s);
	free(buf);
	return code;
}

/* count_lines counts the lines of the dtxd log that contain text. */
static int count_lines(th_env *t, const char *text)
{
	char path[PATH_MAX], line[4096];
	int n = 0;
	FILE *f;

	th_path(t, "dtxd.out", path, sizeof(path));
	f = fopen(path, "r");
	cr_assert_not_null(f, "no %s", path);
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, text) != NULL;
	fclose(f);
	return n;
}

/* leave_in_flight runs dtxd and leaves the three sagas retrying step 1
 * (p2 is down), then stops dtxd. */
static void leave_in_flight(th_env *t, const char *admin)
{
	dtx_client *c;

	th_dtxd_start(t, "--admin", admin, "--action-max-attempts", "0", NULL);
	th_participant_start(t, "p1", NULL);
	th_participant_start(t, "p2", NULL);
	for (size_t i = 0; i < t->nparts; i++)
		if (strcmp(t->parts[i].name, "p2") == 0)
			th_proc_crash(t->parts[i].proc);
	c = th_client(t);
	submit(t, c, good_gids[0]);
	submit(t, c, BAD_GID);
	submit(t, c, good_gids[1]);
	th_wait_step_state(t, c, BAD_GID, 1, DTX_STEP_ACTING, TH_WAIT_FINAL);
	for (size_t i = 0; i < 2; i++)
		th_wait_step_state(t, c, good_gids[i], 1, DTX_STEP_ACTING,
		                   TH_WAIT_FINAL);
	stop_dtxd(t);
}

/* assert_quarantined checks what clients and operators see of BAD_GID. */
static void assert_quarantined(th_env *t, const char *admin, const char *why)
{
	char msg[1024];
	dtx_saga *saga = th_saga(t, BAD_GID, SPEC);
	dtx_tx_info info;
	const char *out;
	int err;

	cr_assert_eq(dtx_client_query(th_client(t), BAD_GID, 0, &info),
	             DTX_ECORRUPT);
	err = dtx_client_submit(th_client(t), saga, 0, &info);
	dtx_saga_destroy(saga);
	cr_assert_eq(err, DTX_ECORRUPT, "resubmit of %s: %s", BAD_GID,
	             dtx_strerror(err));
	cr_assert_eq(raw_query(t, BAD_GID, msg, sizeof(msg)), DTX_ECORRUPT);
	cr_assert_not_null(strstr(msg, "transaction quarantined: "), "%s", msg);
	cr_assert_not_null(strstr(msg, why), "message: %s", msg);
	out = ctl(admin, "list --needs-operator");
	cr_assert_not_null(strstr(out, BAD_GID), "list:\n%s", out);
	out = ctl(admin, "show " BAD_GID);
	cr_assert_not_null(strstr(out, "NEEDS OPERATOR: quarantined: "),
	                   "show (is the mark durable?):\n%s", out);
	cr_assert_not_null(strstr(out, why), "show:\n%s", out);
	cr_assert_eq(count_lines(t, "quarantined transaction " BAD_GID), 1);
}

static void poisoned_story(spoil_fn spoil, const char *why)
{
	th_env *t = th_begin();
	char admin[TH_URL_MAX];
	dtx_tx_info info;
	raw_log r;

	th_url(t, "admin", admin, sizeof(admin));
	leave_in_flight(t, admin);
	raw_open(t, &r);
	spoil(&r);
	raw_close(&r);

	th_dtxd_restart(t);
	cr_assert(th_proc_is_alive(t->dtxd));
	cr_assert(th_log_contains(t, "dtxd", "1 transactions are quarantined"));
	th_participant_restart(t, "p2", NULL);
	for (size_t i = 0; i < 2; i++) {
		cr_assert_eq(dtx_client_query(th_client(t), good_gids[i],
		                              TH_WAIT_FINAL, &info),
		             DTX_OK);
		cr_assert_eq(info.state, DTX_TX_COMMITTED, "%s is %s",
		             good_gids[i], dtx_tx_state_name(info.state));
	}
	assert_quarantined(t, admin, why);
	/* p2 never saw it: its only call was p1's, before the damage */
	cr_assert_str_eq(th_journal_story(t, BAD_GID), "p1.do:ok");

	/* And the next start is no crash loop either. */
	th_dtxd_restart(t);
	cr_assert(th_proc_is_alive(t->dtxd));
	cr_assert_eq(count_lines(t, "1 transactions are quarantined"), 2);
	assert_quarantined(t, admin, why);
	cr_assert_str_eq(th_journal_story(t, BAD_GID), "p1.do:ok");
	th_end(t);
}

Test(quarantine, a_record_with_a_bad_crc_is_quarantined)
{
	poisoned_story(spoil_crc, "CRC mismatch");
}

Test(quarantine, a_payload_that_is_not_protobuf_is_quarantined)
{
	poisoned_story(spoil_payload, "payload does not decode");
}

Test(quarantine, states_that_break_the_saga_invariants_are_quarantined)
{
	poisoned_story(spoil_states, "break its invariants");
}

Test(quarantine, a_tcc_state_in_a_saga_is_quarantined)
{
	poisoned_story(spoil_foreign_state, "a state its mode does not have");
}

Test(quarantine, a_step_count_with_a_missing_step_is_quarantined)
{
	poisoned_story(spoil_missing_step, "step record missing");
}

Test(quarantine, a_step_count_beyond_any_limit_is_quarantined)
{
	poisoned_story(spoil_step_count, "more steps than DC_TX_STEPS_MAX");
}
