#!/usr/bin/env bash
# test.sh - build the tree (scripts/setup.sh) and run the whole test suite.
#
# The last line printed is "N passed, N failed". meson's summary ("Ok: N",
# "Fail: N", ...) counts test executables; the tests speak TAP, so each
# executable's result line also says how many of its subtests passed
# ("13 subtests passed" or "12/13 subtests passed"). The counts here are
# individual tests: subtests where meson reports them, whole executables
# otherwise (an executable that failed, timed out or passed unexpectedly
# without a failing subtest counts as one failure). The script then checks
# them against meson's summary and exits non-zero if anything failed.
set -euo pipefail

cd "$(dirname "$0")/.."

bash scripts/setup.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT

status=0
meson test -C build --print-errorlogs 2>&1 | tee "$log" || status=$?

# summary LABEL prints the number after "LABEL:" in meson's summary (0 if
# the line is missing).
summary() {
	awk -v label="$1:" 'index($0, label) == 1 {
		sub(label, ""); print $1 + 0; found = 1; exit
	} END { if (!found) print 0 }' "$log"
}

# One result line per executable:
#   " 3/9 dtx:integration / recovery_test  OK  1.75s   4 subtests passed"
read -r passed failed < <(awk '
	match($0, /^ *[0-9]+\/[0-9]+ .* (OK|FAIL|TIMEOUT|SKIP|EXPECTEDFAIL|UNEXPECTEDPASS|ERROR|INTERRUPT) +[0-9.]+s/) {
		line = substr($0, RSTART, RLENGTH)
		n = split(line, w, " ")
		result = w[n - 1]
		bad = (result != "OK" && result != "SKIP" && result != "EXPECTEDFAIL")
		if (match($0, /[0-9]+(\/[0-9]+)? subtests passed/)) {
			split(substr($0, RSTART, RLENGTH), c, /[\/ ]/)
			ran = (substr($0, RSTART, RLENGTH) ~ /\//) ? c[2] : c[1]
			p += c[1]; f += ran - c[1]
			if (bad && ran == c[1])
				f += 1
		} else if (bad) {
			f += 1
		} else if (result == "OK") {
			p += 1
		}
	}
	END { print p + 0, f + 0 }' "$log")

exe_failed=$(($(summary "Fail") + $(summary "Timeout") + $(summary "Unexpected Pass")))
if ! grep -q '^Ok:' "$log"; then
	echo "test: meson printed no summary" >&2
	exe_failed=$((exe_failed + 1))
fi
if ((failed == 0 && exe_failed > 0)); then
	failed=$exe_failed
fi

echo "$passed passed, $failed failed"
if ((failed > 0 || status != 0)); then
	exit 1
fi
