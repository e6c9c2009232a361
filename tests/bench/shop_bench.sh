#!/usr/bin/env bash
# shop_bench.sh - the shop's flash sale at several concurrencies, as a
# markdown table: purchases/s, latency percentiles, CPU per purchase,
# non-business failures and the oversell check. Not part of the test
# suite: each point runs for about DURATION_S seconds plus its setup and
# drain (see tests/bench/README.md).
#
# Usage: tests/bench/shop_bench.sh
# Environment: BUILD (build dir, default build), DURATION_S (20),
#   BUYERS (100000), POINTS ("1 64 1000 5000"), KEEP (1: keep the JSON
#   and output of every point in the printed directory).
# Every buyer is rich and there is a unit for every buyer, so purchases
# commit: the table measures the committed path (five steps each).
set -euo pipefail

cd "$(dirname "$0")/../.."
build=${BUILD:-build}
duration=${DURATION_S:-20}
buyers=${BUYERS:-100000}
read -r -a points <<<"${POINTS:-1 64 1000 5000}"
shop="$build/examples/shop/dtx-shop"

if [[ ! -x $shop ]]; then
	echo "shop_bench: $shop not found; run scripts/setup.sh first" >&2
	exit 1
fi
out=$(mktemp -d /tmp/dtx-shop-bench-XXXXXX)
if [[ ${KEEP:-0} != 1 ]]; then
	trap 'rm -rf "$out"' EXIT
fi

# json_field FILE KEY: the value of "KEY": VALUE in dtx-shop's JSON (one
# key per line).
json_field() {
	sed -n "s/^ *\"$2\": \\([^,]*\\),\\{0,1\\}\$/\\1/p" "$1"
}

echo "dtx-shop flash sale, $buyers rich buyers, one unit each, at most" \
	"$duration s per point ($(nproc) CPUs, $(uname -r))"
echo
echo "| concurrency | purchases/s | p50 ms | p99 ms | p999 ms |" \
	"CPU ms/purchase | non-business failures | oversell check |"
echo "|---:|---:|---:|---:|---:|---:|---:|:---|"
failed=0
for c in "${points[@]}"; do
	json="$out/c$c.json"
	status=0
	"$shop" run --rich --buyers "$buyers" --stock "$buyers" \
		--concurrency "$c" --duration-s "$duration" --json "$json" \
		>"$out/c$c.out" 2>&1 || status=$?
	if [[ ! -s $json ]]; then
		echo "| $c | - | - | - | - | - | - | run failed ($status) |"
		failed=1
		continue
	fi
	check=PASS
	if [[ $(json_field "$json" invariants_ok) != true || $status != 0 ]]; then
		check="FAIL (exit $status)"
		failed=1
	fi
	printf '| %s | %s | %.1f | %.1f | %.1f | %.3f | %s | %s |\n' "$c" \
		"$(json_field "$json" purchases_per_s)" \
		"$(json_field "$json" p50_ms)" "$(json_field "$json" p99_ms)" \
		"$(json_field "$json" p999_ms)" \
		"$(json_field "$json" cpu_ms_per_purchase)" \
		"$(json_field "$json" non_business_failures)" "$check"
done
if [[ ${KEEP:-0} == 1 ]]; then
	echo
	echo "outputs kept in $out"
fi
exit "$failed"
