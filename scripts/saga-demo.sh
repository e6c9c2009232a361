#!/usr/bin/env bash
# saga-demo.sh - a guided run of dtx: build, start dtxd and four participants
# (order, inventory, payment, delivery), run three sagas that commit and four
# that fail at each step in turn and are compensated, and show what the
# participants were asked to do. Everything runs from a temporary directory
# and is stopped on exit. Exits non-zero if any saga did not end as expected.
#
# Usage: scripts/saga-demo.sh
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$(pwd)

bash scripts/setup.sh >/dev/null

dtxd="$repo/build/coordinator/dtxd"
participant="$repo/build/examples/sample/dtx-sample-participant"
client="$repo/build/examples/sample/dtx-sample-client"
coordinator="tcp://127.0.0.1:7400"
services=(order inventory payment delivery)

work=$(mktemp -d /tmp/dtx-demo-XXXXXX)
pids=()

stop_all() {
	local pid
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap stop_all EXIT

# wait_ready FILE PID: wait up to 10 s for a ready file, failing early if
# the process died.
wait_ready() {
	local file=$1 pid=$2 i
	for ((i = 0; i < 1000; i++)); do
		[[ -s $file ]] && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "demo: process $pid exited before it was ready" >&2
			return 1
		fi
		sleep 0.01
	done
	echo "demo: $file did not appear within 10 s" >&2
	return 1
}

echo "== starting dtxd on $coordinator (log in $work/log)"
"$dtxd" --log-dir "$work/log" --listen "$coordinator" \
	--ready-file "$work/dtxd.ready" --retry-base-ms 20 \
	2>"$work/dtxd.log" &
pids+=($!)
if ! wait_ready "$work/dtxd.ready" "$!"; then
	cat "$work/dtxd.log" >&2
	exit 1
fi

for name in "${services[@]}"; do
	"$participant" --url "ipc://$work/$name.ipc" --name "$name" \
		--journal "$work/journal" --ready-file "$work/$name.ready" \
		2>"$work/$name.log" &
	pids+=($!)
	wait_ready "$work/$name.ready" "$!"
	echo "== participant $name serving ipc://$work/$name.ipc"
done

# run_saga GID EXPECTED_EXIT FAILING_SERVICE: one step per service; the
# failing one (or none) is asked for NAME.fail instead of NAME.do.
failures=0
run_saga() {
	local gid=$1 want=$2 failing=$3 name action out status=0
	local steps=()
	for name in "${services[@]}"; do
		action="$name.do"
		[[ $name == "$failing" ]] && action="$name.fail"
		steps+=(--step "ipc://$work/$name.ipc,$action,$name.undo,sku-42")
	done
	echo
	if [[ -n $failing ]]; then
		echo "== saga $gid: $failing refuses its step"
	else
		echo "== saga $gid: every step succeeds"
	fi
	out=$("$client" --coordinator "$coordinator" submit --gid "$gid" \
		--wait-ms 10000 "${steps[@]}") || status=$?
	printf '%s\n' "$out" | sed 's/^/   /'
	if ((status != want)); then
		echo "!! $gid: dtx-sample-client exited $status, expected $want" >&2
		failures=$((failures + 1))
	fi
}

for i in 1 2 3; do
	run_saga "buy-$i" 0 ""
done
for name in "${services[@]}"; do
	run_saga "refused-at-$name" 3 "$name"
done

echo
echo "== what the participants were asked to undo (journal excerpt):"
echo "   gid branch op handler attempt status"
grep ' compensate ' "$work/journal" | sed 's/^/   /'

echo
echo "== a committed saga, queried again:"
"$client" --coordinator "$coordinator" query buy-1 | sed 's/^/   /'

echo
if ((failures > 0)); then
	echo "demo: $failures saga(s) did not end as expected" >&2
	exit 1
fi
echo "demo: 3 sagas committed, 4 compensated, as expected"
