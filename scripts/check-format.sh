#!/usr/bin/env bash
# check-format.sh - fail if any tracked C file differs from .clang-format.
# Run by the test suite (meson test "clang-format"); prints the files to fix.
set -euo pipefail
cd "$(dirname "$0")/.."
bad=0
while IFS= read -r f; do
	if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "not formatted: $f (run: clang-format -i $f)"
		bad=1
	fi
done < <(git ls-files '*.c' '*.h')
exit $bad
