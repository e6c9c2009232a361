#!/bin/bash
# retention_bench.sh - does the log stop growing? (issue 14 item 2)
#
# Runs the empty 2-step saga (saga_bench, as compare.sh's empty-saga point:
# dtxd + one dtx-sample-participant with no store + the driver, on ipc://)
# at full rate for DURATION_S seconds with dtxd --retain-final RETAIN, and
# every SAMPLE_S seconds prints one line: seconds since the start, the log
# file's size (stat) and allocated bytes (du), the pages in use (dtxctl
# stats), and the transactions started so far (tx records + pruned) with
# how many are pruned and kept as tombstones. With pruning keeping up, the
# size levels off once RETAIN has passed.
#
#   tests/bench/retention_bench.sh [BUILD_DIR]
#   env: DURATION_S (600) RETAIN (60s; "none": no --retain-final flag, for
#        a build before retention) CONCURRENCY (1000) SAMPLE_S (10)
#        EXTRA (more dtxd flags)
#
# Prints a TSV table on stdout, then the driver's JSON report. Exits with
# the driver's status (non-zero also if dtxd did not exit 0 on SIGTERM).
set -euo pipefail

build=$(cd "${1:-build}" && pwd)
duration=${DURATION_S:-600}
retain=${RETAIN:-60s}
retain_flag=(--retain-final "$retain")
[[ $retain == none ]] && retain_flag=()
conc=${CONCURRENCY:-1000}
every=${SAMPLE_S:-10}
work=$(mktemp -d /tmp/dtx-retention.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

wait_file() { # PATH SECONDS
	for ((i = 0; i < $2 * 10; i++)); do
		[[ -s $1 ]] && return 0
		sleep 0.1
	done
	return 1
}

stat_field() { # JSON FIELD
	sed -n "s/.*\"$2\": *\([0-9]*\).*/\1/p" <<<"$1" | head -1
}

# shellcheck disable=SC2086
"$build/coordinator/dtxd" --log-dir "$work/log" \
	--listen "ipc://$work/dtxd.ipc" --admin "ipc://$work/admin.ipc" \
	--ready-file "$work/dtxd.ready" --log-level warn \
	--max-clients $((conc + 1024 > 8192 ? conc + 1024 : 8192)) \
	"${retain_flag[@]}" ${EXTRA:-} >"$work/dtxd.log" 2>&1 &
dp=$!
pids+=("$dp")
"$build/examples/sample/dtx-sample-participant" --url "ipc://$work/p.ipc" \
	--name p --ready-file "$work/p.ready" >"$work/p.log" 2>&1 &
pp=$!
pids+=("$pp")
wait_file "$work/dtxd.ready" 10 && wait_file "$work/p.ready" 10

"$build/tests/bench/saga_bench" --url "ipc://$work/dtxd.ipc" \
	--participant "ipc://$work/p.ipc" --concurrency "$conc" \
	--duration-s "$duration" --steps 2 --pids "$dp,$pp" \
	--label "empty-saga-retain-$retain" --json "$work/report.json" \
	>"$work/bench.out" 2>&1 &
bp=$!
pids+=("$bp")

printf 't_s\tfile_bytes\tdu_bytes\tused_bytes\tstarted\tpruned\ttombstones\n'
start=$(date +%s)
while kill -0 "$bp" 2>/dev/null; do
	sleep "$every"
	s=$("$build/coordinator/dtxctl" --admin "ipc://$work/admin.ipc" \
		--output json stats 2>/dev/null || echo '{}')
	total=$(stat_field "$s" total)
	pruned=$(stat_field "$s" pruned)
	printf '%d\t%d\t%d\t%s\t%d\t%s\t%s\n' $(($(date +%s) - start)) \
		"$(stat -c %s "$work/log/data.mdb")" \
		"$(du -B1 "$work/log/data.mdb" | cut -f1)" \
		"$(stat_field "$s" log_used_bytes)" \
		$((${total:-0} + ${pruned:-0})) "${pruned:-?}" \
		"$(stat_field "$s" tombstones)"
done
rc=0
wait "$bp" || rc=$?
kill -TERM "$dp" "$pp"
wait "$dp" || { echo "retention_bench: dtxd exited $?"; rc=70; }
wait "$pp" || true
pids=()
cat "$work/report.json" 2>/dev/null || cat "$work/bench.out"
grep -E 'WARN|ERROR' "$work/dtxd.log" | head -5 || true
exit "$rc"
