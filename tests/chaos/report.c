/*
 * report.c - the JSON report and the text summary (see report.h). The
 * JSON carries "schema": 1; fields are only added while it stays 1.
 */
#include "report.h"

#include <jansson.h>

static json_t *u64(uint64_t v)
{
	return json_integer((json_int_t)v);
}

/* nroles: the services and the run's dtxd instances. */
static int nroles(const run_report *r)
{
	return ROLE_DTXD + (r->instances > 0 ? (int)r->instances : 1);
}

/* pg_json: what a PostgreSQL run adds (NULL on LMDB). */
static json_t *pg_json(const run_report *r)
{
	json_t *o;
	const check_epochs *e = &r->check->epochs;

	if (!r->pg)
		return json_null();
	o = json_object();
	json_object_set_new(o, "instances", u64(r->instances));
	json_object_set_new(o, "restarts_fast", u64(r->pg_restarts[0]));
	json_object_set_new(o, "restarts_immediate", u64(r->pg_restarts[1]));
	json_object_set_new(o, "instance_cuts", u64(r->pg_cuts));
	json_object_set_new(o, "stepdowns", u64(r->cn->stepdowns));
	json_object_set_new(o, "store_stops", u64(r->cn->store_stops));
	json_object_set_new(o, "start_unreachable",
	                    u64(r->cn->start_unreachable));
	json_object_set_new(o, "lease_changes", u64(e->lease_changes));
	json_object_set_new(o, "takeovers", u64(e->takeovers));
	json_object_set_new(o, "taken_lines", u64(e->beliefs));
	json_object_set_new(o, "writes_checked", u64(e->writes));
	json_object_set_new(o, "longest_gap_ms",
	                    json_integer((json_int_t)r->longest_gap_ms));
	return o;
}

static json_t *faults_json(const run_report *r)
{
	json_t *f = json_object(), *kills = json_object(),
	       *pauses = json_object(), *px = json_object(),
	       *points = json_object(), *hit = json_object(),
	       *sched = json_object();
	uint64_t retries = 0;

	for (int k = 0; k < EV_COUNT; k++) {
		json_t *e = json_object();

		json_object_set_new(e, "applied", u64(r->applied[k]));
		json_object_set_new(e, "not_applied", u64(r->not_applied[k]));
		json_object_set_new(sched, ev_kind_name((ev_kind)k), e);
	}
	for (int role = 0; role < nroles(r); role++) {
		json_object_set_new(kills, chaos_role_name(role),
		                    u64(r->cn->kills[role]));
		json_object_set_new(pauses, chaos_role_name(role),
		                    u64(r->cn->pauses[role]));
	}
	for (int pf = 0; pf < PF_COUNT; pf++) {
		uint64_t n = 0;

		for (int s = 0; s < CHAOS_NSVC; s++)
			n += r->pc[s].injected[pf];
		json_object_set_new(px, proxy_fault_name((proxy_fault)pf),
		                    u64(n));
	}
	for (size_t i = 0; i < schedule_npoints; i++) {
		json_object_set_new(points, schedule_points[i].name,
		                    u64(r->cn->points_armed[i]));
		json_object_set_new(hit, schedule_points[i].name,
		                    u64(r->points_hit[i]));
	}
	for (int s = 0; s < CHAOS_NSVC; s++)
		retries += r->svc[s].chaos_retries;
	json_object_set_new(f, "schedule", sched);
	json_object_set_new(f, "kill_9", kills);
	json_object_set_new(f, "pause", pauses);
	json_object_set_new(f, "proxy", px);
	json_object_set_new(f, "partition", u64(r->partitions));
	json_object_set_new(f, "retry_answers", u64(retries));
	json_object_set_new(f, "fault_points_armed", points);
	json_object_set_new(f, "fault_points_hit", hit);
	json_object_set_new(f, "fiu_eio_armed", u64(r->cn->fiu_armed));
	json_object_set_new(f, "fiu_fail_stops", u64(r->cn->fiu_stops));
	json_object_set_new(f, "restarts", u64(r->cn->restarts));
	return f;
}

static json_t *txs_json(const check_summary *s)
{
	json_t *t = json_object();

	for (int m = 0; m < MODE_COUNT; m++) {
		json_t *states = json_object(), *tl = json_object(),
		       *mode = json_object();

		for (int st = 1; st < CHECK_STATES; st++)
			if (s->by_state[m][st] > 0)
				json_object_set_new(states,
				                    dtx_tx_state_name(st),
				                    u64(s->by_state[m][st]));
		for (int k = 0; k < TOLD_COUNT; k++)
			json_object_set_new(tl, told_name((told)k),
			                    u64(s->told[m][k]));
		json_object_set_new(mode, "final_states", states);
		json_object_set_new(mode, "buyers_told", tl);
		json_object_set_new(t, chaos_mode_name((chaos_mode)m), mode);
	}
	json_object_set_new(t, "total", u64(s->log_txs));
	json_object_set_new(t, "history_lines", u64(s->history_lines));
	return t;
}

static json_t *barrier_json(const run_report *r)
{
	json_t *b = json_object();
	svc_stats sum = {0};

	for (int s = 0; s < CHAOS_NSVC; s++) {
		sum.calls += r->svc[s].calls;
		sum.replayed += r->svc[s].replayed;
		sum.late_refused += r->svc[s].late_refused;
		sum.null_compensations += r->svc[s].null_compensations;
	}
	json_object_set_new(b, "calls_served", u64(sum.calls));
	json_object_set_new(b, "duplicate_calls_absorbed", u64(sum.replayed));
	json_object_set_new(b, "null_compensations",
	                    u64(r->check->sum.null_compensations));
	json_object_set_new(b, "null_compensations_counted",
	                    u64(sum.null_compensations));
	json_object_set_new(b, "late_tries_refused", u64(sum.late_refused));
	json_object_set_new(b, "barrier_records",
	                    u64(r->check->sum.barrier_records));
	json_object_set_new(b, "journal_rows", u64(r->check->sum.journal_rows));
	return b;
}

static json_t *violations_json(const check_result *c)
{
	json_t *v = json_array();

	for (size_t i = 0; i < c->nitems; i++) {
		const check_item *it = &c->items[i];
		json_t *o = json_object();

		json_object_set_new(o, "invariant", json_string(it->name));
		json_object_set_new(o, "ok", json_boolean(it->ok));
		json_object_set_new(o, "violations", u64(it->violations));
		json_object_set_new(o, "first_gid",
		                    it->first_gid[0]
		                            ? json_string(it->first_gid)
		                            : json_null());
		json_object_set_new(o, "evidence", json_string(it->evidence));
		json_array_append_new(v, o);
	}
	return v;
}

int report_write_json(const char *path, const run_report *r)
{
	json_t *o = json_object(), *skipped = json_array();
	int rc;

	for (size_t i = 0; i < r->nskipped; i++)
		json_array_append_new(skipped, json_string(r->skipped[i]));
	json_object_set_new(o, "schema", json_integer(1));
	json_object_set_new(o, "kind", json_string(r->kind));
	json_object_set_new(o, "seed", u64(r->seed));
	json_object_set_new(o, "workdir", json_string(r->workdir));
	json_object_set_new(o, "wall_s", json_real(r->wall_s));
	json_object_set_new(o, "safety_s", json_real(r->safety_s));
	json_object_set_new(o, "converge_s",
	                    r->converge_s >= 0 ? json_real(r->converge_s)
	                                       : json_null());
	json_object_set_new(o, "check_s", json_real(r->check_s));
	json_object_set_new(o, "buyer_purchases_decided_after_heal",
	                    u64(r->decided_after_heal));
	json_object_set_new(o, "buyer_purchases_ended_after_heal",
	                    u64(r->ended_after_heal));
	json_object_set_new(o, "buyer_client_reopens", u64(r->client_reopens));
	json_object_set_new(o, "buyer_process_restarts",
	                    u64(r->cn->buyer_restarts));
	json_object_set_new(o, "scheduled_events", u64(r->nevents));
	json_object_set_new(o, "faults", faults_json(r));
	json_object_set_new(o, "postgresql", pg_json(r));
	json_object_set_new(o, "skipped", skipped);
	json_object_set_new(o, "transactions", txs_json(&r->check->sum));
	json_object_set_new(o, "barrier", barrier_json(r));
	json_object_set_new(o, "unexpected_exits", u64(r->cn->unexpected));
	json_object_set_new(o, "stop_hangs_in_nng_close",
	                    u64(r->cn->stop_hangs_nng));
	json_object_set_new(o, "invariants", violations_json(r->check));
	json_object_set_new(o, "violations", u64(r->check->failed));
	rc = json_dump_file(o, path, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(o);
	return rc == 0 ? 0 : -1;
}

static void print_faults(FILE *out, const run_report *r)
{
	uint64_t retries = 0, hit = 0, armed = 0;

	fprintf(out, "faults injected:\n  kill -9:  ");
	for (int role = 0; role < nroles(r); role++)
		fprintf(out, " %s %llu", chaos_role_name(role),
		        (unsigned long long)r->cn->kills[role]);
	fprintf(out, "\n  SIGSTOP:  ");
	for (int role = 0; role < nroles(r); role++)
		fprintf(out, " %s %llu", chaos_role_name(role),
		        (unsigned long long)r->cn->pauses[role]);
	fprintf(out, "\n  proxy:    ");
	for (int pf = 0; pf < PF_COUNT; pf++) {
		uint64_t n = 0;

		for (int s = 0; s < CHAOS_NSVC; s++)
			n += r->pc[s].injected[pf];
		fprintf(out, " %s %llu", proxy_fault_name((proxy_fault)pf),
		        (unsigned long long)n);
	}
	for (int s = 0; s < CHAOS_NSVC; s++)
		retries += r->svc[s].chaos_retries;
	for (size_t i = 0; i < schedule_npoints; i++) {
		hit += r->points_hit[i];
		armed += r->cn->points_armed[i];
	}
	fprintf(out,
	        "\n  partitions (nftables) %llu, RETRY answers %llu, libfiu "
	        "EIO armed %llu -> fail-stops %llu\n",
	        (unsigned long long)r->partitions, (unsigned long long)retries,
	        (unsigned long long)r->cn->fiu_armed,
	        (unsigned long long)r->cn->fiu_stops);
	fprintf(out, "  fault points armed %llu, hit %llu:",
	        (unsigned long long)armed, (unsigned long long)hit);
	for (size_t i = 0; i < schedule_npoints; i++)
		if (r->points_hit[i] > 0)
			fprintf(out, " %s %llu", schedule_points[i].name,
			        (unsigned long long)r->points_hit[i]);
	fprintf(out, "\n");
}

static void print_txs(FILE *out, const check_summary *s)
{
	fprintf(out,
	        "transactions: %llu in the log, %llu purchases in the "
	        "history\n",
	        (unsigned long long)s->log_txs,
	        (unsigned long long)s->history_lines);
	for (int m = 0; m < MODE_COUNT; m++) {
		fprintf(out, "  %-8s", chaos_mode_name((chaos_mode)m));
		for (int st = 1; st < CHECK_STATES; st++)
			if (s->by_state[m][st] > 0)
				fprintf(out, " %s %llu", dtx_tx_state_name(st),
				        (unsigned long long)s->by_state[m][st]);
		fprintf(out, " | told:");
		for (int k = 0; k < TOLD_COUNT; k++)
			fprintf(out, " %s %llu", told_name((told)k),
			        (unsigned long long)s->told[m][k]);
		fprintf(out, "\n");
	}
}

/* print_findings prints what is reported but is no violation (README,
 * "What it found"). */
static void print_findings(FILE *out, const run_report *r)
{
	if (r->decided_after_heal == 0)
		fprintf(out,
		        "finding: the buyers got none of %llu purchases ending "
		        "5 s or more after the heal decided (their client "
		        "stalled)\n",
		        (unsigned long long)r->ended_after_heal);
	if (r->client_reopens > 0)
		fprintf(out,
		        "finding: the buyer reopened its client %llu times "
		        "after 60 calls in a row went unanswered\n",
		        (unsigned long long)r->client_reopens);
	if (r->cn->buyer_restarts > 0)
		fprintf(out,
		        "finding: every client of the buyer process stalled "
		        "%llu times; a new buyer process took over each time\n",
		        (unsigned long long)r->cn->buyer_restarts);
	if (r->cn->stop_hangs_nng > 0)
		fprintf(out,
		        "finding: %llu SIGTERM stops hung in nng_close (nng "
		        "1.5.2) and were killed; stacks in logs/*.hang.txt\n",
		        (unsigned long long)r->cn->stop_hangs_nng);
}

/* print_pg prints what a PostgreSQL run adds. */
static void print_pg(FILE *out, const run_report *r)
{
	const check_epochs *e = &r->check->epochs;

	if (!r->pg)
		return;
	fprintf(out,
	        "postgresql: %u instances; PostgreSQL restarts fast %llu, "
	        "immediate %llu; instances cut from it %llu\n"
	        "  instance stops by design: lost lease/heartbeat %llu, "
	        "store connection failed %llu, store unreachable at start "
	        "%llu\n"
	        "  lease changes %llu, takeovers (failovers) %llu, \"taken\" "
	        "lines %llu, transaction writes checked %llu\n"
	        "  longest time with no purchase decided (safety phase): "
	        "%.1f s\n",
	        r->instances, (unsigned long long)r->pg_restarts[0],
	        (unsigned long long)r->pg_restarts[1],
	        (unsigned long long)r->pg_cuts,
	        (unsigned long long)r->cn->stepdowns,
	        (unsigned long long)r->cn->store_stops,
	        (unsigned long long)r->cn->start_unreachable,
	        (unsigned long long)e->lease_changes,
	        (unsigned long long)e->takeovers,
	        (unsigned long long)e->beliefs, (unsigned long long)e->writes,
	        (double)r->longest_gap_ms / 1000.0);
}

void report_print(FILE *out, const run_report *r)
{
	svc_stats sum = {0};

	for (int s = 0; s < CHAOS_NSVC; s++) {
		sum.replayed += r->svc[s].replayed;
		sum.late_refused += r->svc[s].late_refused;
	}
	fprintf(out, "\n== dtx-chaos %s: seed %llu, %.1f s (safety %.1f s)\n",
	        r->kind, (unsigned long long)r->seed, r->wall_s, r->safety_s);
	print_faults(out, r);
	for (size_t i = 0; i < r->nskipped; i++)
		fprintf(out, "  skipped: %s\n", r->skipped[i]);
	print_txs(out, &r->check->sum);
	fprintf(out,
	        "barrier: duplicate calls absorbed %llu, null compensations "
	        "%llu, late Tries refused %llu\n",
	        (unsigned long long)sum.replayed,
	        (unsigned long long)r->check->sum.null_compensations,
	        (unsigned long long)sum.late_refused);
	print_findings(out, r);
	print_pg(out, r);
	if (r->converge_s >= 0)
		fprintf(out,
		        "converged: every transaction final %.1f s after the "
		        "buyers stopped (they got %llu of %llu purchases "
		        "ending 5 s or more after the heal decided)\n",
		        r->converge_s,
		        (unsigned long long)r->decided_after_heal,
		        (unsigned long long)r->ended_after_heal);
	else
		fprintf(out, "converged: NO, not within the bound\n");
	fprintf(out, "invariants:\n");
	for (size_t i = 0; i < r->check->nitems; i++) {
		const check_item *it = &r->check->items[i];

		fprintf(out, "  %s  %-22s %s", it->ok ? "PASS" : "FAIL",
		        it->name, it->evidence);
		if (!it->ok)
			fprintf(out, " [%llu violations, first %s]",
			        (unsigned long long)it->violations,
			        it->first_gid[0] ? it->first_gid : "-");
		fprintf(out, "\n");
	}
	fprintf(out, "violations: %zu\n", r->check->failed);
}
