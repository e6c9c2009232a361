#!/usr/bin/env bash
# pgtmp.sh - a throw-away PostgreSQL 15 cluster for shell tests (the C
# twin is tests/support/pgtmp.c; same settings, same role and database).
#
#   pgtmp.sh run CMD [ARG...]   start a cluster, run CMD with
#                               DTX_PGTMP_URI, DTX_PGTMP_ADMIN_URI and
#                               DTX_PGTMP_DIR set, stop the cluster and
#                               remove it (also when CMD fails or the
#                               script is interrupted); exit with CMD's
#                               status
#   pgtmp.sh start DIR          initdb into DIR (a new or empty directory)
#                               and start; print the three variables as
#                               shell assignments (eval them)
#   pgtmp.sh stop DIR           immediate shutdown (no checkpoint: DIR is
#                               thrown away; SIGKILL past 30 s), then
#                               remove DIR
#   pgtmp.sh kill DIR           immediate shutdown; DIR stays
#   pgtmp.sh restart DIR        start the server of DIR again (same port)
#
# The cluster listens on a unix socket in DIR and on a free loopback
# port, with fsync and synchronous_commit on; role "dtx" owns database
# "dtx". As root, PostgreSQL runs as the postgres user (it refuses root).
# Every wait is bounded (pg_ctl -t). Binaries: $DTX_PG_BIN or
# /usr/lib/postgresql/15/bin.
set -euo pipefail

pgbin=${DTX_PG_BIN:-/usr/lib/postgresql/15/bin}
wait_s=60

as_pg() {
	if ((EUID == 0)); then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); \
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

uris() {
	local dir=$1 port
	port=$(cat "$dir/port")
	echo "DTX_PGTMP_URI='postgresql://dtx@/dtx?host=$dir&port=$port'"
	echo "DTX_PGTMP_ADMIN_URI='postgresql://postgres@/postgres?host=$dir&port=$port'"
	echo "DTX_PGTMP_DIR='$dir'"
}

server_start() {
	local dir=$1 port
	port=$(cat "$dir/port")
	as_pg "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
		-t "$wait_s" -o "-k $dir -p $port" start >/dev/null
}

cmd_start() {
	local dir=$1
	mkdir -p "$dir"
	chmod 755 "$dir"
	if ((EUID == 0)); then
		chown postgres: "$dir"
	fi
	as_pg "$pgbin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 \
		--locale=C --no-sync >"$dir/initdb.log" 2>&1
	cat >>"$dir/data/postgresql.conf" <<-EOF
		listen_addresses = '127.0.0.1'
		fsync = on
		synchronous_commit = on
		max_connections = 200
	EOF
	free_port >"$dir/port"
	server_start "$dir"
	local admin=(-h "$dir" -p "$(cat "$dir/port")" -U postgres -d postgres
		-v ON_ERROR_STOP=1 -q)
	as_pg "$pgbin/psql" "${admin[@]}" -c "CREATE ROLE dtx LOGIN" >/dev/null
	as_pg "$pgbin/psql" "${admin[@]}" -c "CREATE DATABASE dtx OWNER dtx" \
		>/dev/null
	uris "$dir"
}

cmd_kill() {
	as_pg "$pgbin/pg_ctl" -D "$1/data" -m immediate -t "$wait_s" stop \
		>/dev/null 2>&1 || true
}

cmd_stop() {
	local dir=$1 pid
	if [[ -f $dir/data/postmaster.pid ]]; then
		if ! as_pg "$pgbin/pg_ctl" -D "$dir/data" -m immediate -t 30 stop \
			>/dev/null 2>&1; then
			pid=$(head -1 "$dir/data/postmaster.pid" 2>/dev/null || true)
			if [[ -n $pid ]]; then
				kill -9 "$pid" 2>/dev/null || true
			fi
		fi
	fi
	rm -rf "$dir"
}

cmd_run() {
	local dir rc=0
	dir=$(mktemp -d /tmp/dtx-pg-XXXXXX)
	# shellcheck disable=SC2064 # expand dir now
	trap "cmd_stop '$dir'" EXIT
	trap 'exit 130' INT TERM
	eval "export $(cmd_start "$dir" | tr '\n' ' ')"
	"$@" || rc=$?
	return "$rc"
}

case ${1:-} in
run) shift; cmd_run "$@" ;;
start) cmd_start "$2" ;;
stop) cmd_stop "$2" ;;
kill) cmd_kill "$2" ;;
restart) server_start "$2" ;;
*)
	echo "usage: pgtmp.sh run CMD... | start|stop|kill|restart DIR" >&2
	exit 64
	;;
esac
