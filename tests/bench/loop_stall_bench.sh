#!/bin/sh
# loop_stall_bench.sh - a client query's latency while dtxctl scans a big
# log (issue 14 item 3). Fills a log of COUNT committed sagas once (kept
# in LOG_DIR for later runs), starts dtxd on it, then runs QUERIES client
# queries at RATE per second twice: idle, and while `dtxctl stats`,
# `dtxctl list --all` and `dtxctl list --all --handler rare.do` run back
# to back (each query timed from when it was due: see loop_stall_bench.c).
#
# Usage: tests/bench/loop_stall_bench.sh BUILD_DIR [LOG_DIR]
#   BUILD_DIR holds coordinator/dtxd, coordinator/dtxctl and
#   tests/bench/loop_stall_bench (a release build for figures:
#   meson setup build-rel --buildtype=release -Dfault_points=false).
#   BENCH_BUILD_DIR (default BUILD_DIR) may name another build's
#   loop_stall_bench, to measure an older dtxd with the same driver.
# Environment: COUNT (500000), QUERIES (2000), RATE (200 per second: 10 s),
# PORT (7460).
set -eu
BUILD=$(cd "$1" && pwd)
LOG_DIR=${2:-/tmp/dtx-loop-stall-log}
BENCH=${BENCH_BUILD_DIR:-$BUILD}/tests/bench/loop_stall_bench
COUNT=${COUNT:-500000}
QUERIES=${QUERIES:-2000}
RATE=${RATE:-200}
PORT=${PORT:-7460}
URL=tcp://127.0.0.1:$PORT
ADMIN=tcp://127.0.0.1:$((PORT + 1))
WORK=$(mktemp -d /tmp/dtx-loop-stall.XXXXXX)

if [ ! -f "$LOG_DIR/data.mdb" ]; then
	"$BENCH" fill "$LOG_DIR" --count "$COUNT"
fi
"$BUILD/coordinator/dtxd" --log-dir "$LOG_DIR" --listen "$URL" \
	--admin "$ADMIN" --map-size-mb 4096 --ready-file "$WORK/ready" \
	>"$WORK/dtxd.out" 2>&1 &
DTXD=$!
trap 'kill $DTXD 2>/dev/null; kill $SCANS 2>/dev/null; rm -rf "$WORK"' EXIT
SCANS=
i=0
while [ ! -f "$WORK/ready" ]; do
	i=$((i + 1))
	[ $i -lt 600 ] || { cat "$WORK/dtxd.out"; exit 1; }
	sleep 0.1
done

"$BENCH" query "$URL" --count "$QUERIES" --rate "$RATE" --label idle

scan() {
	CTL="$BUILD/coordinator/dtxctl --admin $ADMIN --timeout-ms 60000"
	while [ ! -f "$WORK/stop" ]; do
		t0=$(date +%s%N)
		$CTL stats >/dev/null
		t1=$(date +%s%N)
		$CTL list --all >/dev/null
		t2=$(date +%s%N)
		$CTL list --all --handler rare.do >/dev/null
		t3=$(date +%s%N)
		echo "stats $(((t1 - t0) / 1000000)) ms, list --all" \
			"$(((t2 - t1) / 1000000)) ms, list --all --handler" \
			"$(((t3 - t2) / 1000000)) ms" >>"$WORK/scans"
	done
}
scan &
SCANS=$!
sleep 1
"$BENCH" query "$URL" --count "$QUERIES" --rate "$RATE" --label scans
touch "$WORK/stop" # the round in progress ends, then the loop
wait $SCANS 2>/dev/null || true
echo "scan rounds while measuring (one line per round):"
cat "$WORK/scans"
