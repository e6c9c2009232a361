#!/bin/sh
# schedule_test.sh DTX_CHAOS - the schedule is a function of the seed:
# the same seed prints the same schedule twice, another seed another one.
set -eu
a=$("$1" --print-schedule --seed 7 --safety-s 300)
b=$("$1" --print-schedule --seed 7 --safety-s 300)
c=$("$1" --print-schedule --seed 8 --safety-s 300)
[ -n "$a" ] || { echo "empty schedule"; exit 1; }
[ "$a" = "$b" ] || { echo "seed 7 gave two schedules"; exit 1; }
[ "$a" != "$c" ] || { echo "seeds 7 and 8 gave the same schedule"; exit 1; }
echo "ok: $(printf '%s\n' "$a" | wc -l) events, reproducible"
