#!/bin/sh
# capture.sh PID LABEL OUTDIR - what a stalled or hanging process is doing:
# every thread's stack (gdb), its TCP sockets with their timers (ss, run in
# the process's own network namespace) and its descriptors. Bounded: gdb
# gets 60 s.
pid=$1 label=$2 out=$3
mkdir -p "$out"
{
	echo "# $(date -u +%T) pid $pid: $label"
	echo "## threads"
	for t in /proc/"$pid"/task/*; do
		printf '%s %s %s\n' "${t##*/}" "$(cat "$t"/comm)" "$(cat "$t"/wchan)"
	done
	echo "## ss -tanpoi (in the process's netns)"
	nsenter -t "$pid" -n ss -tanpoi
	echo "## descriptors: $(ls /proc/"$pid"/fd | wc -l)"
	ls -l /proc/"$pid"/fd | sed 1d | awk '{print $9, $10, $11}'
} >"$out/$label.txt" 2>&1
timeout 60 gdb -p "$pid" -batch -nx -ex 'set pagination off' \
	-ex 'info threads' -ex 'thread apply all bt' >"$out/$label.gdb" 2>&1
