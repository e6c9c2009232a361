/*
 * tls_test.c - mutual TLS on every endpoint (issue 18 item 4), with real
 * processes: dtxd, dtx-sample-participant and dtxctl over tls+tcp://, and
 * the SDK's client in this process.
 *
 * The certificates are made at test time by tests/support/tlscerts.sh
 * (openssl): a CA for dtxd, participants and clients, an operators' CA
 * for the admin endpoint, a stranger's CA, an expired client certificate.
 *
 * Refusals are shown with a raw nng client (its TLS configured by hand,
 * so that a certificate the SDK would refuse to load, an expired one,
 * still reaches dtxd): its dial must fail where dtxd refuses, and succeed
 * with a good certificate, and dtxd must serve on afterwards.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>

#include "harness.h"

TestSuite(tls, .fini = th_teardown, .timeout = 120);

/* A test's TLS world: its certificates and its tls+tcp:// URLs. */
typedef struct tls_env {
	th_env *t;
	char certs[PATH_MAX];
	char listen[TH_URL_MAX]; /* dtxd's client endpoint over TLS */
	char admin[TH_URL_MAX];  /* dtxd's admin endpoint over TLS */
	char part[TH_URL_MAX];   /* participant p1 over TLS */
	char out[16384];         /* the last dtxctl's output */
} tls_env;

/* cert writes the path of certificate file name into buf (static ring). */
static const char *cert(tls_env *e, const char *name)
{
	static char ring[16][PATH_MAX + 64];
	static unsigned next;
	char *buf = ring[next++ % 16];

	snprintf(buf, sizeof(ring[0]), "%s/%s", e->certs, name);
	return buf;
}

static void tls_url(char *buf, size_t len)
{
	snprintf(buf, len, "tls+tcp://127.0.0.1:%d", th_free_port());
}

/* make_certs runs tlscerts.sh into the test's directory. */
static void make_certs(tls_env *e)
{
	char cmd[PATH_MAX * 2 + 32];
	int status;

	th_path(e->t, "certs", e->certs, sizeof(e->certs));
	snprintf(cmd, sizeof(cmd), "%s %s", th_exe("DTX_TLSCERTS"), e->certs);
	status = system(cmd);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	          "tlscerts.sh failed: %d", status);
}

static tls_env *setup(void)
{
	tls_env *e = calloc(1, sizeof(*e));

	cr_assert_not_null(e);
	e->t = th_begin();
	make_certs(e);
	tls_url(e->listen, sizeof(e->listen));
	tls_url(e->admin, sizeof(e->admin));
	tls_url(e->part, sizeof(e->part));
	return e;
}

/* start_dtxd: dtxd serving plain TCP (the harness's URL) and TLS on both
 * endpoints; the admin endpoint lets in operators' certificates only. */
static void start_dtxd(tls_env *e)
{
	th_dtxd_start(e->t, "--listen", e->listen, "--admin", e->admin,
	              "--tls-cert", cert(e, "server.pem"), "--tls-key",
	              cert(e, "server.key"), "--tls-ca", cert(e, "ca.pem"),
	              "--admin-tls-ca", cert(e, "ops-ca.pem"), NULL);
}

static void start_part(tls_env *e)
{
	th_participant_start(e->t, "p1", "--url", e->part, "--tls-cert",
	                     cert(e, "part.pem"), "--tls-key",
	                     cert(e, "part.key"), "--tls-ca", cert(e, "ca.pem"),
	                     NULL);
}

/* client opens an SDK client to url with certificate name (NULL: none). */
static dtx_client *client(tls_env *e, const char *url, const char *name)
{
	char pem[64], key[64];
	dtx_client_opts o;
	dtx_tls_opts tls;
	dtx_client *c = NULL;
	int rv;

	dtx_client_opts_init(&o);
	dtx_tls_opts_init(&tls);
	o.timeout_ms = 10000;
	o.tls = &tls;
	tls.ca_file = cert(e, "ca.pem");
	if (name != NULL) {
		snprintf(pem, sizeof(pem), "%s.pem", name);
		snprintf(key, sizeof(key), "%s.key", name);
		tls.cert_file = cert(e, pem);
		tls.key_file = cert(e, key);
	}
	rv = dtx_client_open(url, &o, &c);
	cr_assert_eq(rv, DTX_OK, "dtx_client_open %s: %s", url,
	             dtx_strerror(rv));
	return c;
}

/* run_saga submits a one-step saga on p1 over TLS and waits for it. */
static void run_saga(tls_env *e, dtx_client *c, const char *gid)
{
	dtx_saga *s = NULL;
	dtx_tx_info info;
	int rv;

	cr_assert_eq(dtx_saga_create(gid, &s), DTX_OK);
	cr_assert_eq(
	        dtx_saga_add_step(s, e->part, "p1.do", "p1.undo", "x", 1, 0),
	        DTX_OK);
	rv = dtx_client_submit(c, s, TH_WAIT_FINAL, &info);
	dtx_saga_destroy(s);
	cr_assert_eq(rv, DTX_OK, "submit %s: %s", gid, dtx_strerror(rv));
	cr_assert_eq(info.state, DTX_TX_COMMITTED, "%s ended %s", gid,
	             dtx_tx_state_name(info.state));
}

/* ctl runs dtxctl against the TLS admin endpoint with certificate name
 * (NULL: none) and the extra arguments; returns its exit code. */
static int ctl(tls_env *e, const char *name, const char *args)
{
	char cmd[4 * PATH_MAX + 256], who[2 * PATH_MAX + 64] = "";
	size_t n;
	FILE *p;
	int status;

	if (name != NULL)
		snprintf(who, sizeof(who),
		         "--tls-cert %s/%s.pem --tls-key "
		         "%s/%s.key",
		         e->certs, name, e->certs, name);
	snprintf(cmd, sizeof(cmd),
	         "%s --admin %s --tls-ca %s %s --timeout-ms 5000 %s 2>&1",
	         th_exe("DTX_DTXCTL"), e->admin, cert(e, "ca.pem"), who, args);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	n = fread(e->out, 1, sizeof(e->out) - 1, p);
	e->out[n] = '\0';
	status = pclose(p);
	cr_assert(WIFEXITED(status), "%s did not exit", cmd);
	return WEXITSTATUS(status);
}

/* raw_dial dials url with a hand-made TLS client configuration: the
 * server checked against ca (a file name), certificate name (NULL: none)
 * loaded without any check. Returns nng's result of a blocking dial. */
static int raw_dial(tls_env *e, const char *url, const char *ca,
                    const char *name)
{
	char both[PATH_MAX + 64], cmd[4 * PATH_MAX + 64];
	nng_tls_config *cfg;
	nng_socket s;
	nng_dialer d;
	int rv;

	cr_assert_eq(nng_req0_open(&s), 0);
	cr_assert_eq(nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT), 0);
	cr_assert_eq(nng_tls_config_ca_file(cfg, cert(e, ca)), 0);
	if (name != NULL) {
		/* nng wants certificate and key in one file */
		snprintf(both, sizeof(both), "%s/%s.both", e->certs, name);
		snprintf(cmd, sizeof(cmd), "cat %s/%s.pem %s/%s.key > %s",
		         e->certs, name, e->certs, name, both);
		cr_assert_eq(system(cmd), 0);
		cr_assert_eq(nng_tls_config_cert_key_file(cfg, both, NULL), 0);
	}
	cr_assert_eq(nng_dialer_create(&d, s, url), 0);
	cr_assert_eq(nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg), 0);
	rv = nng_dialer_start(d, 0);
	nng_close(s);
	nng_tls_config_free(cfg);
	return rv;
}

Test(tls, a_saga_a_tcc_and_dtxctl_run_over_mutual_tls)
{
	tls_env *e = setup();
	dtx_try_result tr;
	dtx_tcc_tx *tx = NULL;
	dtx_tcc *tcc = NULL;
	dtx_tx_info info;
	dtx_client *c;

	start_dtxd(e);
	start_part(e);
	c = client(e, e->listen, "client");
	run_saga(e, c, "tls-saga-1");
	cr_assert_str_eq(th_journal_story(e->t, "tls-saga-1"), "p1.do:ok");

	/* TCC run by dtxd: its Try/Confirm calls go to p1 over TLS */
	cr_assert_eq(dtx_tcc_create("tls-tcc-1", &tcc), DTX_OK);
	cr_assert_eq(dtx_tcc_add_branch(tcc, e->part, "p1.do", "p1.do",
	                                "p1.undo", "x", 1, 0),
	             DTX_OK);
	cr_assert_eq(dtx_client_submit_tcc(c, tcc, TH_WAIT_FINAL, &info),
	             DTX_OK);
	dtx_tcc_destroy(tcc);
	cr_assert_eq(info.state, DTX_TX_COMMITTED);

	/* TCC driven by this initiator: the SDK's client calls p1's Try */
	cr_assert_eq(dtx_tcc_begin(c, "tls-tcc-2", 0, &tx), DTX_OK);
	cr_assert_eq(dtx_tcc_try(tx, e->part, "p1.do", "p1.do", "p1.undo", "x",
	                         1, 5000, &tr),
	             DTX_OK);
	cr_assert_eq(tr.status, DTX_STATUS_OK);
	cr_assert_eq(dtx_tcc_commit(tx, TH_WAIT_FINAL, &info), DTX_OK);
	cr_assert_eq(info.state, DTX_TX_COMMITTED);
	dtx_tcc_tx_destroy(tx);

	/* dtxctl over TLS with an operator's certificate */
	cr_assert_eq(ctl(e, "ops", "show tls-saga-1"), 0, "%s", e->out);
	cr_assert(strstr(e->out, "tls-saga-1") != NULL, "%s", e->out);
	dtx_client_close(c);
	th_end(e->t);
	free(e);
}

Test(tls, clients_without_a_good_certificate_are_refused_and_dtxd_serves_on)
{
	tls_env *e = setup();
	dtx_client *c;

	start_dtxd(e);
	start_part(e);
	/* the control: a certificate of the CA gets in */
	cr_assert_eq(raw_dial(e, e->listen, "ca.pem", "client"), 0);
	cr_assert_neq(raw_dial(e, e->listen, "ca.pem", NULL), 0,
	              "a client without a certificate got in");
	cr_assert_neq(raw_dial(e, e->listen, "ca.pem", "stranger"), 0,
	              "a certificate of another CA got in");
	cr_assert_neq(raw_dial(e, e->listen, "ca.pem", "expired"), 0,
	              "an expired certificate got in");
	/* a participant refuses them too (dtxd's own certificate gets in) */
	cr_assert_eq(raw_dial(e, e->part, "ca.pem", "server"), 0);
	cr_assert_neq(raw_dial(e, e->part, "ca.pem", "stranger"), 0);
	cr_assert_neq(raw_dial(e, e->part, "ca.pem", NULL), 0);
	/* a client that checks the server refuses a stranger's CA */
	cr_assert_neq(raw_dial(e, e->listen, "other-ca.pem", "client"), 0);

	cr_assert(th_proc_is_alive(e->t->dtxd));
	c = client(e, e->listen, "client");
	run_saga(e, c, "tls-after-refusals");
	dtx_client_close(c);
	th_end(e->t);
	free(e);
}

Test(tls, the_admin_endpoint_with_its_own_ca_lets_in_operators_only)
{
	tls_env *e = setup();

	start_dtxd(e);
	cr_assert_neq(ctl(e, "client", "stats"), 0,
	              "a client certificate got into the admin endpoint: %s",
	              e->out);
	cr_assert_neq(ctl(e, NULL, "stats"), 0, "%s", e->out);
	cr_assert_neq(raw_dial(e, e->admin, "ca.pem", "client"), 0);
	cr_assert_eq(raw_dial(e, e->admin, "ca.pem", "ops"), 0);
	cr_assert_eq(ctl(e, "ops", "stats"), 0, "%s", e->out);
	/* and the client endpoint does not take an operator's */
	cr_assert_neq(raw_dial(e, e->listen, "ca.pem", "ops"), 0);
	th_end(e->t);
	free(e);
}

/* bad_start runs dtxd with the flags given (NULL-terminated) and asserts
 * it exits 64 with a line naming want, having listened on nothing. */
static void bad_start(tls_env *e, const char *want, ...)
{
	const char *argv[32];
	char dir[PATH_MAX], ready[PATH_MAX];
	const char *arg;
	th_proc *p;
	va_list ap;
	size_t n = 0;

	th_path(e->t, "bad-log", dir, sizeof(dir));
	th_path(e->t, "bad.ready", ready, sizeof(ready));
	argv[n++] = th_exe("DTX_DTXD");
	argv[n++] = "--store";
	argv[n++] = dir;
	argv[n++] = "--ready-file";
	argv[n++] = ready;
	argv[n++] = "--admin";
	argv[n++] = "none";
	va_start(ap, want);
	while ((arg = va_arg(ap, const char *)) != NULL && n < 31)
		argv[n++] = arg;
	va_end(ap);
	argv[n] = NULL;
	p = th_spawn(e->t, "bad", argv);
	cr_assert(th_proc_wait(p, 10000), "dtxd did not exit");
	cr_assert_eq(th_proc_exit_code(p), 64, "dtxd exited %d for %s",
	             th_proc_exit_code(p), want);
	cr_assert(th_log_contains(e->t, "bad", want), "no line with '%s'",
	          want);
	cr_assert(access(ready, F_OK) != 0, "dtxd got ready");
	cr_assert(access(dir, F_OK) != 0, "dtxd created its store");
}

Test(tls, bad_tls_settings_exit_64_naming_the_setting_and_start_nothing)
{
	tls_env *e = setup();

	bad_start(e, "--tls-cert: a tls+tcp:// listener needs a certificate",
	          "--listen", e->listen, NULL);
	bad_start(e, "--tls-cert: cannot read", "--listen", e->listen,
	          "--tls-cert", cert(e, "missing.pem"), "--tls-key",
	          cert(e, "server.key"), "--tls-ca", cert(e, "ca.pem"), NULL);
	bad_start(e, "--tls-cert: cannot read", "--listen", e->listen,
	          "--tls-cert", e->certs, "--tls-key", cert(e, "server.key"),
	          "--tls-ca", cert(e, "ca.pem"), NULL);
	bad_start(e, "--tls-key: the key in", "--listen", e->listen,
	          "--tls-cert", cert(e, "server.pem"), "--tls-key",
	          cert(e, "client.key"), "--tls-ca", cert(e, "ca.pem"), NULL);
	bad_start(e, "--tls-key-passphrase: the key in", "--listen", e->listen,
	          "--tls-cert", cert(e, "server.pem"), "--tls-key",
	          cert(e, "enc.key"), "--tls-key-passphrase", "wrong",
	          "--tls-ca", cert(e, "ca.pem"), NULL);
	bad_start(e, "--tls-cert: the certificate in", "--listen", e->listen,
	          "--tls-cert", cert(e, "expired.pem"), "--tls-key",
	          cert(e, "expired.key"), "--tls-ca", cert(e, "ca.pem"), NULL);
	bad_start(e, "--tls-require-client-cert: requiring", "--listen",
	          e->listen, "--tls-cert", cert(e, "server.pem"), "--tls-key",
	          cert(e, "server.key"), NULL);
	bad_start(e, "--tls-ca: cannot read", "--listen", e->listen,
	          "--tls-cert", cert(e, "server.pem"), "--tls-key",
	          cert(e, "server.key"), "--tls-ca", cert(e, "missing.pem"),
	          NULL);
	th_end(e->t);
	free(e);
}

Test(tls, the_sdk_refuses_bad_tls_settings_at_create_and_open)
{
	tls_env *e = setup();
	dtx_participant_opts po;
	dtx_participant *part = NULL;
	dtx_client_opts co;
	dtx_client *c = NULL;
	dtx_tls_opts tls;

	dtx_participant_opts_init(&po);
	po.url = e->part;
	cr_assert_eq(dtx_participant_create(&po, &part), DTX_EINVAL);
	dtx_tls_opts_init(&tls);
	tls.cert_file = cert(e, "part.pem");
	tls.key_file = cert(e, "client.key");
	tls.ca_file = cert(e, "ca.pem");
	po.tls = &tls;
	cr_assert_eq(dtx_participant_create(&po, &part), DTX_EINVAL);
	tls.key_file = cert(e, "part.key");
	cr_assert_eq(dtx_participant_create(&po, &part), DTX_OK);
	dtx_participant_destroy(part);

	dtx_client_opts_init(&co);
	cr_assert_eq(dtx_client_open(e->listen, &co, &c), DTX_EINVAL);
	dtx_tls_opts_init(&tls);
	co.tls = &tls; /* no CA: the server could not be checked */
	cr_assert_eq(dtx_client_open(e->listen, &co, &c), DTX_EINVAL);
	tls.ca_file = cert(e, "ca.pem");
	tls.cert_file = cert(e, "expired.pem");
	tls.key_file = cert(e, "expired.key");
	cr_assert_eq(dtx_client_open(e->listen, &co, &c), DTX_EINVAL);
	th_end(e->t);
	free(e);
}

/* copy copies certificate file src over dst, in the certificates' dir. */
static void copy(tls_env *e, const char *src, const char *dst)
{
	char cmd[2 * PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "cp %s/%s %s/%s", e->certs, src, e->certs,
	         dst);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/* replace puts certificate and key src in place of dst's. */
static void replace(tls_env *e, const char *src, const char *dst)
{
	char from[64], to[64];

	snprintf(from, sizeof(from), "%s.pem", src);
	snprintf(to, sizeof(to), "%s.pem", dst);
	copy(e, from, to);
	snprintf(from, sizeof(from), "%s.key", src);
	snprintf(to, sizeof(to), "%s.key", dst);
	copy(e, from, to);
}

/* hup sends dtxd SIGHUP and waits (bounded) for a line with text. */
static void hup(tls_env *e, const char *text)
{
	th_proc_kill(e->t->dtxd, SIGHUP);
	for (int i = 0; i < 200 && !th_log_contains(e->t, "dtxd", text); i++)
		usleep(50000);
	cr_assert(th_log_contains(e->t, "dtxd", text), "no '%s'", text);
}

Test(tls, sighup_reloads_certificates_for_new_connections)
{
	tls_env *e = setup();

	replace(e, "server", "live");
	th_dtxd_start(e->t, "--listen", e->listen, "--admin", "none",
	              "--tls-cert", cert(e, "live.pem"), "--tls-key",
	              cert(e, "live.key"), "--tls-ca", cert(e, "ca.pem"), NULL);
	cr_assert_eq(raw_dial(e, e->listen, "ca.pem", "client"), 0);
	/* dtxd's certificate renewed in place, by another CA */
	replace(e, "stranger", "live");
	hup(e, "TLS certificates, key and CAs reloaded");
	/* nng 1.5.2 made the connection its listener accepts next before
	 * the reload (tls_listener_accept takes the configuration when the
	 * accept is posted): that one still gets the old certificate */
	(void)raw_dial(e, e->listen, "ca.pem", "client");
	cr_assert_neq(raw_dial(e, e->listen, "ca.pem", "client"), 0,
	              "dtxd still shows its old certificate");
	cr_assert_eq(raw_dial(e, e->listen, "other-ca.pem", "client"), 0);
	/* a key of another certificate at the next SIGHUP: the ones in use
	 * stay */
	copy(e, "server.key", "live.key");
	hup(e, "the settings have problems: nothing changed");
	cr_assert(th_log_contains(e->t, "dtxd", "--tls-key: the key in"));
	cr_assert_eq(raw_dial(e, e->listen, "other-ca.pem", "client"), 0);
	th_end(e->t);
	free(e);
}
