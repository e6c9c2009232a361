#!/usr/bin/env bash
# recovery_bench.sh - recovery time of dtxd with a backlog of non-final
# sagas (100,000 by default), end to end: builds a release tree, fills a
# fresh log with tests/bench/recovery_bench (the coordinator's own log
# module, durable commits) and times the real dtxd from exec to its ready
# file, with the participant down and up. Not part of the test suite (see
# tests/bench/README.md).
#
# Usage: tests/bench/recovery_bench.sh
# Environment: BUILD (build dir, default build-release; configured with
#   --buildtype=release if missing), COUNT (100000), BATCH (1000 sagas per
#   log commit while filling), KEEP (1: keep the log and dtxd's output).
set -euo pipefail

cd "$(dirname "$0")/../.."
build=${BUILD:-build-release}

if [[ ! -f $build/build.ninja ]]; then
	meson setup "$build" --buildtype=release >/dev/null
fi
ninja -C "$build" coordinator/dtxd examples/sample/dtx-sample-participant \
	tests/bench/recovery_bench >/dev/null

args=(--dtxd "$build/coordinator/dtxd"
	--participant "$build/examples/sample/dtx-sample-participant"
	--count "${COUNT:-100000}" --batch "${BATCH:-1000}")
if [[ ${KEEP:-0} == 1 ]]; then
	args+=(--keep)
fi
echo "dtxd recovery, $(nproc) CPUs, $(uname -r), build $build"
"$build/tests/bench/recovery_bench" "${args[@]}"
