#!/usr/bin/env bash
# production_build_test.sh - a production build is what the README says
# (issue 14): release, no fault points, `meson install` puts only dtxd,
# dtxctl, libdtx, its header and pkg-config file and the man pages in place,
# and the installed dtxd ignores DTX_FAULT.
#
# Usage: production_build_test.sh SOURCE_ROOT TEST_BUILD_DIR
# It configures its own build in a temporary directory (the test build in
# build/ keeps its fault points) and uses the test build's sample programs
# to drive the installed dtxd.
set -euo pipefail

src=$1
test_build=$2
work=$(mktemp -d /tmp/dtx-prod-XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	for f in "$work"/*.out; do [[ -f $f ]] && sed 's/^/  /' "$f" >&2; done
	exit 1
}

# 1. the production build, as the README's "Production build" says
meson setup "$work/build" "$src" --buildtype=release \
	-Dfault_points=false -Dtests=false >"$work/setup.out"
ninja -C "$work/build" >"$work/ninja.out"
meson install -C "$work/build" --no-rebuild --destdir "$work/root" \
	>"$work/install.out"

# 2. what install put in bin/: the daemon and the operator CLI, nothing else
bin=$(find "$work/root" -path '*/bin/*' -type f -printf '%f\n' | sort | tr '\n' ' ')
[[ $bin == "dtxctl dtxd " ]] || fail "installed bin/: '$bin' (want 'dtxctl dtxd ')"
dtxd=$(find "$work/root" -path '*/bin/dtxd' -type f)
find "$work/root" -name dtx.h | grep -q . || fail "no dtx.h installed"
find "$work/root" -name dtx.pc | grep -q . || fail "no dtx.pc installed"
"$dtxd" --version | grep -q 'test build' && fail "the production dtxd says it is a test build"

# 3. the production dtxd ignores DTX_FAULT: a point that kills a test
#    build at its first commit does nothing here
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
purl="tcp://127.0.0.1:$(port)"
durl="tcp://127.0.0.1:$(port)"
"$test_build/examples/sample/dtx-sample-participant" --url "$purl" --name p1 \
	--journal "$work/journal" --ready-file "$work/p1.ready" >"$work/p1.out" 2>&1 &
pids+=($!)
LD_LIBRARY_PATH="$(dirname "$(find "$work/root" -name 'libdtx.so*' | head -1)")" \
DTX_FAULT=log.before_commit "$dtxd" --log-dir "$work/log" --listen "$durl" \
	--admin none --ready-file "$work/dtxd.ready" >"$work/dtxd.out" 2>&1 &
dpid=$!
pids+=($dpid)
for _ in $(seq 100); do
	[[ -s $work/dtxd.ready && -s $work/p1.ready ]] && break
	sleep 0.1
done
[[ -s $work/dtxd.ready ]] || fail "dtxd did not get ready"
out=$("$test_build/examples/sample/dtx-sample-client" --coordinator "$durl" \
	submit --gid prod-1 --wait-ms 10000 --step "$purl,p1.do,p1.undo" 2>&1) ||
	fail "submit: $out"
echo "$out" | grep -q committed || fail "the saga did not commit: $out"
kill -0 "$dpid" 2>/dev/null || fail "dtxd died: DTX_FAULT fired in a production build"
grep -q "fault point" "$work/dtxd.out" && fail "dtxd hit a fault point"
echo "production build: bin/ = $bin; DTX_FAULT ignored; prod-1 committed"
