#!/usr/bin/env bash
# demo.sh - the dtx demo: build the tree (scripts/setup.sh), then run the
# virtual-goods shop's flash sale: 2000 buyers race for 500 gift cards
# through five-step purchase sagas (order, inventory, payment, delivery,
# order) driven by dtxd across four service processes, each with its own
# LMDB store. dtx-shop prints what sold, what was refused and why, the
# throughput and latency, and then checks the stores for oversell (stock,
# money and card codes conserved; nothing left behind by a cancelled
# order). It starts and stops every process itself, in a temporary
# directory it removes when every check passed.
#
# Then the same sale as reservations (TCC): 2000 buyers, 500 gift cards,
# each buyer reserves (order, stock, money, codes) and pays; one in ten
# abandons the reservation, which dtxd cancels at its 3 s deadline.
#
# Usage: scripts/demo.sh [more dtx-shop run flags, e.g. --rich --keep]
# Exits with dtx-shop's status: 0 when every invariant holds.
set -euo pipefail

cd "$(dirname "$0")/.."

setup_log=$(mktemp /tmp/dtx-demo-setup-XXXXXX)
trap 'rm -f "$setup_log"' EXIT
echo "== building (scripts/setup.sh)"
if ! bash scripts/setup.sh >"$setup_log" 2>&1; then
	cat "$setup_log" >&2
	echo "demo: setup failed" >&2
	exit 1
fi

echo "== flash sale: build/examples/shop/dtx-shop run --buyers 2000 --stock 500${*:+ $*}"
status=0
build/examples/shop/dtx-shop run --buyers 2000 --stock 500 "$@" || status=$?

tcc_flags=(--mode tcc --reserve-ms 3000 --abandon-pct 10)
echo
echo "== reservation sale: build/examples/shop/dtx-shop run --buyers 2000 --stock 500 ${tcc_flags[*]}${*:+ $*}"
build/examples/shop/dtx-shop run --buyers 2000 --stock 500 "${tcc_flags[@]}" "$@" || status=$?
exit "$status"
