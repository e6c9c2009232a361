#!/usr/bin/env bash
# failover_bench.sh - the failover figure of issue 15 item 7: the shop's
# saga purchases against three dtxd instances sharing one PostgreSQL log
# (shard leases, --lease-ms at dtxd's default unless LEASE_MS is set), one
# instance killed with SIGKILL mid-run; prints the longest purchase
# latency around the kill, the p99 before and after it, and the errors the
# buyers saw. Not part of the test suite (tests/bench/README.md).
#
# Usage: tests/bench/failover_bench.sh
# Environment:
#   BUILD       build dir (build-release; configured --buildtype=release
#               if missing)
#   CONCURRENCY buyers in flight (1000)
#   DURATION_S  seconds of sale (40)
#   KILL_AT_S   when the first instance is killed (15)
#   RUNS        how many runs, each on a fresh cluster (1; at most 10)
#   LEASE_MS    the instances' --lease-ms (empty: dtxd's default, 5000)
# "Around the kill": the purchases in flight at the kill or started in the
# 10 s after it (examples/shop/sale.h SALE_FAILOVER_S); "after": started
# later than that. Every run is bounded (timeout), the cluster is stopped
# and removed on exit.
set -euo pipefail

cd "$(dirname "$0")/../.."
build=${BUILD:-build-release}
c=${CONCURRENCY:-1000}
duration=${DURATION_S:-40}
kill_at=${KILL_AT_S:-15}
runs=${RUNS:-1}
lease=()
if [[ -n ${LEASE_MS:-} ]]; then
	lease=(--dtxd-lease-ms "$LEASE_MS")
fi
if ((runs < 1 || runs > 10 || kill_at < 1 || kill_at >= duration)); then
	echo "failover_bench: RUNS 1..10, 0 < KILL_AT_S < DURATION_S" >&2
	exit 64
fi
if [[ ! -f $build/build.ninja ]]; then
	meson setup "$build" --buildtype=release >/dev/null
fi
ninja -C "$build" coordinator/dtxd examples/shop/dtx-shop \
	examples/shop/dtx-shop-order examples/shop/dtx-shop-inventory \
	examples/shop/dtx-shop-payment examples/shop/dtx-shop-delivery \
	>/dev/null

work=$(mktemp -d /tmp/dtx-failover-XXXXXX)
chmod 755 "$work"
pgdir=
# shellcheck disable=SC2317 # called through the trap
cleanup() {
	if [[ -n $pgdir ]]; then
		tests/support/pgtmp.sh stop "$pgdir" || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

field() { # FILE KEY
	sed -n "s/^ *\"$2\": \\(.*\\)\$/\\1/p" "$1" | sed 's/,$//'
}

echo "| run | purchases/s | p99 before kill ms | longest around kill ms |" \
	"last in-flight answered after kill ms | p99 after ms |" \
	"non-business failures | invariants |"
echo "|---:|---:|---:|---:|---:|---:|---:|:---|"
fail=0
for ((r = 1; r <= runs; r++)); do
	pgdir=$work/pg$r
	eval "$(tests/support/pgtmp.sh start "$pgdir")"
	uri="postgresql://dtx@127.0.0.1:$(cat "$pgdir/port")/dtx"
	json=$work/run$r.json
	rc=0
	timeout -k 10 $((duration + 300)) "$build/examples/shop/dtx-shop" run \
		--mode saga --rich --buyers $((duration * 20000)) \
		--stock $((duration * 20000)) --concurrency "$c" \
		--duration-s "$duration" --dtxd-store "$uri" \
		--dtxd-instances 3 "${lease[@]}" --kill-dtxd-after-s "$kill_at" \
		--json "$json" >"$work/run$r.out" 2>&1 || rc=$?
	if [[ ! -s $json ]]; then
		echo "| $r | run failed (exit $rc) | | | | | | |"
		tail -20 "$work/run$r.out" >&2
		fail=1
	else
		ok=$(field "$json" invariants_ok)
		[[ $ok == true && $rc == 0 ]] || fail=1
		printf '| %d | %.0f | %.1f | %.1f | %.1f | %.1f | %s | %s |\n' \
			"$r" "$(field "$json" purchases_per_s)" \
			"$(field "$json" p99_before_kill_ms)" \
			"$(field "$json" failover_max_ms)" \
			"$(field "$json" failover_last_ms)" \
			"$(field "$json" p99_after_kill_ms)" \
			"$(field "$json" non_business_failures)" \
			"$ok (exit $rc)"
		sed -n 's/^ *first  *\(.*\)/  run '"$r"' first failure: \1/p' \
			"$work/run$r.out" >>"$work/notes"
	fi
	tests/support/pgtmp.sh stop "$pgdir"
	pgdir=
done
echo
cat "$work/notes" 2>/dev/null || true
echo "$runs run(s): 3 dtxd on one PostgreSQL 15 (loopback TCP), $c buyers," \
	"$duration s, --lease-ms ${LEASE_MS:-default}, instance 0 killed -9" \
	"at $kill_at s; load: $(uptime |
		sed 's/.*load average: //')"
exit "$fail"
