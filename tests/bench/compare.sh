#!/usr/bin/env bash
# compare.sh - the comparison benchmark of issue 8: one flash sale (one hot
# SKU, closed loop, C buyers in flight, durability on everywhere) through
#   - dtx: the shop's saga purchase (dtxd + order, inventory, payment,
#     delivery as separate processes) and its TCC purchase; the saga also
#     with dtxd's log on PostgreSQL (dtxd --store, on the cluster below),
#     by one dtxd (saga-pglog) and by three sharing it (saga-pglog3:
#     shard leases, the buyers and services given all three URLs);
#   - dtx saga with the 4 services on PostgreSQL (saga-pgservices): each
#     service's data and barrier in its own database on the monolith's
#     server (dtx-shop --services-store);
#   - a PostgreSQL 15 monolith: the purchase as one transaction over four
#     tables, stock row taken with SELECT ... FOR UPDATE, or with a
#     conditional UPDATE (synchronous_commit on);
#   - Redis 7: a Lua check-and-decrement of the stock (appendfsync always,
#     everysec) - stock only, not atomic with payment or delivery;
# plus the coordinator's overhead (a 2-step saga whose steps do nothing)
# and nng's request/reply ceiling on this machine, with their ratio.
# It prints one markdown table (and the targets of issue 8), and writes
# it with a gnuplot PNG (throughput and p99 against concurrency) to the
# results directory. Not part of the test suite (tests/bench/README.md).
#
# Usage: tests/bench/compare.sh             (as root on Debian 12: it
#        installs what is missing; ~10 minutes with the defaults)
# Environment:
#   BUILD       build dir (build-release; configured --buildtype=release
#               if missing)
#   DURATION_S  seconds per point (10; QUICK=1 makes it 3)
#   POINTS      concurrencies ("1 64 1000 5000")
#   SYSTEMS     which systems, in order ("saga saga-pglog saga-pglog3 tcc
#               pg-forupdate pg-conditional saga-pgservices redis-always
#               redis-everysec empty-saga empty-saga-pglog"); also
#               saga-tcp and saga-tls: the saga purchase with its
#               processes on loopback TCP, and on mutual TLS (certificates
#               made by tests/support/tlscerts.sh), for TLS's cost
#   NNG_OUTSTANDING  outstanding requests for the ceiling ("1 64 256 1024")
#   RECOVERY    1: also run recovery_bench.sh (default 1; 0 skips)
#   RESULTS     where compare.md and compare.png go (tests/bench/results)
#   KEEP        1: keep the work directory (every point's JSON and logs)
# Every server it starts listens on loopback or an ipc path in its work
# directory and is stopped on exit (trap); every point is bounded in time
# (DURATION_S, then a bounded drain of what is in flight).
set -euo pipefail

cd "$(dirname "$0")/../.."
build=${BUILD:-build-release}
if [[ ${QUICK:-0} == 1 ]]; then
	duration=${DURATION_S:-3}
else
	duration=${DURATION_S:-10}
fi
read -r -a points <<<"${POINTS:-1 64 1000 5000}"
read -r -a systems <<<"${SYSTEMS:-saga saga-pglog saga-pglog3 tcc pg-forupdate \
pg-conditional saga-pgservices redis-always redis-everysec empty-saga \
empty-saga-pglog}"
read -r -a nng_points <<<"${NNG_OUTSTANDING:-1 64 256 1024}"
results=${RESULTS:-tests/bench/results}
tcc_max=1024 # examples/shop/pool.h: POOL_THREADS_MAX
pgbin=/usr/lib/postgresql/15/bin
buyers=$((duration * 20000 > 20000 ? duration * 20000 : 20000))
nng_duration=$((duration < 5 ? duration : 5))
# Any one driver run: the duration, its bounded drain (30 s at most),
# 5,000 connections or processes set up, the checks; then it is killed.
point_limit=$((duration + 300))

max_point=1
for c in "${points[@]}"; do
	if ((c > max_point)); then
		max_point=$c
	fi
done

# ---- packages and build -------------------------------------------------

install_missing() {
	local pkg missing=()
	for pkg in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
			grep -q 'install ok installed'; then
			missing+=("$pkg")
		fi
	done
	if ((${#missing[@]} == 0)); then
		return 0
	fi
	if ((EUID != 0)); then
		echo "compare: missing packages ${missing[*]} (run as root)" >&2
		exit 1
	fi
	echo "compare: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if ! command -v meson >/dev/null; then
	scripts/setup.sh >/dev/null # the build's own packages
fi
install_missing postgresql-15 libpq-dev redis-server libhiredis-dev \
	gnuplot-nox
# The Debian packages start no server here (we start our own); if one
# was started it keeps its own port and data.

if [[ ! -f $build/build.ninja ]]; then
	meson setup "$build" --buildtype=release >/dev/null
elif ! ninja -C "$build" -t targets all 2>/dev/null |
	grep -q '^tests/bench/pg_bench:' ||
	! ninja -C "$build" -t targets all 2>/dev/null |
	grep -q '^tests/bench/redis_bench:'; then
	meson setup --reconfigure "$build" >/dev/null # libpq/hiredis now found
fi
ninja -C "$build" coordinator/dtxd examples/shop/dtx-shop \
	examples/shop/dtx-shop-order examples/shop/dtx-shop-inventory \
	examples/shop/dtx-shop-payment examples/shop/dtx-shop-delivery \
	examples/sample/dtx-sample-participant tests/bench/nng_bench \
	tests/bench/saga_bench tests/bench/pg_bench \
	tests/bench/redis_bench >/dev/null
bench=$(cd "$build" && pwd)/tests/bench

# ---- work directory, servers, cleanup ------------------------------------

# Short path: ipc:// socket paths must fit in 108 bytes.
work=$(mktemp -d /tmp/dtx-cmp-XXXXXX)
chmod 755 "$work" # the postgres user reads its cluster below it
mkdir -p "$work/json" "$work/plot"
pids=()        # servers we started (dtxd, participants, nng, redis)
pg_started=0   # 1 while our PostgreSQL cluster runs

pg_run() {
	if ((EUID == 0)); then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

stop_pid() {
	local pid=$1 i
	kill "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317 # called through the trap
cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		stop_pid "$pid"
	done
	if ((pg_started)); then
		pg_run "$pgbin/pg_ctl" -D "$work/pg/data" -m fast -t 60 \
			stop >/dev/null 2>&1 ||
			pg_run "$pgbin/pg_ctl" -D "$work/pg/data" -m immediate \
				-t 60 stop >/dev/null 2>&1 || true
	fi
	if [[ ${KEEP:-0} == 1 ]]; then
		echo "compare: kept $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_file PATH SECONDS: true once PATH exists.
wait_file() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[[ -s $1 ]] && return 0
		sleep 0.1
	done
	return 1
}

# free_port BASE: a TCP port on 127.0.0.1 nobody listens on.
free_port() {
	local p
	for ((p = $1; p < $1 + 200; p++)); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

pg_port=
pg_start() {
	if ((pg_started)); then
		return 0
	fi
	pg_port=$(free_port 25432)
	mkdir -p "$work/pg"
	if ((EUID == 0)); then
		chown postgres: "$work/pg"
	fi
	pg_run "$pgbin/initdb" -D "$work/pg/data" -A trust -U bench \
		>"$work/pg/initdb.log" 2>&1
	cat >>"$work/pg/data/postgresql.conf" <<-EOF
		listen_addresses = '127.0.0.1'
		port = $pg_port
		unix_socket_directories = '$work/pg'
		max_connections = $((max_point + 50 > 100 ? max_point + 50 : 100))
		shared_buffers = 512MB
		max_wal_size = 2GB
		fsync = on
		synchronous_commit = on
		full_page_writes = on
	EOF
	pg_run "$pgbin/pg_ctl" -D "$work/pg/data" -l "$work/pg/server.log" \
		-w -t 120 start >/dev/null
	pg_started=1
}

redis_port=
redis_pid=
redis_start() {
	if [[ -n $redis_pid ]]; then
		return 0
	fi
	redis_port=$(free_port 26379)
	mkdir -p "$work/redis"
	redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work/redis" \
		--appendonly yes --appendfsync always --save '' \
		--maxclients $((max_point + 100)) --daemonize no \
		>"$work/redis/server.log" 2>&1 &
	redis_pid=$!
	pids+=("$redis_pid")
	local i
	for ((i = 0; i < 100; i++)); do
		redis-cli -p "$redis_port" ping >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "compare: redis did not start" >&2
	return 1
}

# ---- one point per system -------------------------------------------------

# bounded CMD...: run CMD, killed after point_limit seconds (exit 124).
bounded() {
	timeout -k 10 "$point_limit" "$@"
}

# Each run_* writes $work/json/SYSTEM-C.json (dtx-shop's keys) or fails.

run_shop() { # MODE C JSON [DTXD-STORE-URI [INSTANCES [TRANSPORT]]]
	local mode=$1 c=$2 store=()
	if [[ -n ${4:-} ]]; then
		store=(--dtxd-store "$4")
	fi
	if [[ -n ${5:-} ]]; then
		store+=(--dtxd-instances "$5")
	fi
	if [[ -n ${6:-} ]]; then
		store+=(--transport "$6")
	fi
	if [[ ${6:-} == tls ]]; then
		store+=(--tls-dir "$(tls_certs)")
	fi
	bounded "$build/examples/shop/dtx-shop" run --mode "$mode" --rich \
		--buyers "$buyers" --stock "$buyers" --concurrency "$c" \
		--duration-s "$duration" --json "$3" "${store[@]}" \
		>"$3.out" 2>&1
}

# tls_certs: the directory of the TLS rows' certificates, made once.
tls_certs() {
	if [[ ! -f $work/tls/client.key ]]; then
		tests/support/tlscerts.sh "$work/tls" >/dev/null
	fi
	echo "$work/tls"
}

# ---- dtxd's log on PostgreSQL (saga-pglog, empty-saga-pglog) -------------
# dtxd --store on the cluster of the monolith rows, over loopback TCP as
# pg_bench, in a database of its own created fresh for each point (and
# dropped after it unless KEEP=1). The CPU of a point counts every process
# of the cluster (postmaster, backends, checkpointer, WAL writer, ...).

pg_psql() { # SQL: run SQL as the cluster's superuser on database postgres
	PGOPTIONS="-c client_min_messages=warning" "$pgbin/psql" -X -q \
		-v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" \
		-U bench -d postgres -c "$1"
}

# pglog_create NAME: a fresh database NAME for one point's dtxd log.
pglog_create() {
	pg_start
	pg_psql "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null
	pg_psql "CREATE DATABASE $1" >/dev/null
}

pglog_drop() { # NAME
	if [[ ${KEEP:-0} != 1 ]]; then
		pg_psql "DROP DATABASE IF EXISTS $1 WITH (FORCE)" \
			>/dev/null 2>&1 || true
	fi
}

pglog_uri() { # NAME
	echo "postgresql://bench@127.0.0.1:$pg_port/$1"
}

# stat_ticks PID [REAPED]: utime + stime of PID in clock ticks (REAPED=1:
# plus its reaped children's cutime + cstime), from /proc/PID/stat; 0 if
# it is gone.
stat_ticks() {
	local s f
	s=$(cat "/proc/$1/stat" 2>/dev/null) || {
		echo 0
		return 0
	}
	read -r -a f <<<"${s##*) }" # f[0] is field 3; utime is field 14
	if [[ ${2:-0} == 1 ]]; then
		echo $((f[11] + f[12] + f[13] + f[14]))
	else
		echo $((f[11] + f[12]))
	fi
}

# pg_cpu_ticks: the CPU ticks the cluster used so far - the postmaster's,
# its exited children's (reaped into its cutime + cstime), its live
# children's.
pg_cpu_ticks() {
	local pm c t
	pm=$(head -1 "$work/pg/data/postmaster.pid")
	t=$(stat_ticks "$pm" 1)
	for c in $(pgrep -P "$pm"); do
		t=$((t + $(stat_ticks "$c")))
	done
	echo "$t"
}

# json_add_cpu JSON MS PER: adds MS of CPU, divided by the JSON's PER
# field (the count dtx-shop divides its own CPU by), to its
# cpu_ms_per_purchase.
json_add_cpu() {
	local n old new
	n=$(json_field "$1" "$3")
	old=$(json_field "$1" cpu_ms_per_purchase)
	new=$(awk -v o="$old" -v ms="$2" -v n="$n" \
		'BEGIN {printf "%.4f", (n > 0) ? o + ms / n : o}')
	sed -i "s/\"cpu_ms_per_purchase\": [0-9.]*/\"cpu_ms_per_purchase\": $new/" \
		"$1"
}

run_shop_pglog() { # C JSON [INSTANCES]
	local db="dtxlog_saga_$1_${3:-1}" t0 t1 rc=0
	pglog_create "$db"
	t0=$(pg_cpu_ticks)
	run_shop saga "$1" "$2" "$(pglog_uri "$db")" "${3:-}" || rc=$?
	t1=$(pg_cpu_ticks)
	if [[ -s $2 ]]; then
		json_add_cpu "$2" "$(((t1 - t0) * 1000 / $(getconf CLK_TCK)))" \
			attempted
	fi
	pglog_drop "$db"
	return "$rc"
}

# run_shop_pgservices C JSON: the saga purchase, its four services each on
# a database of their own that dtx-shop makes on our PostgreSQL server.
run_shop_pgservices() {
	pg_start
	bounded "$build/examples/shop/dtx-shop" run --mode saga --rich \
		--buyers "$buyers" --stock "$buyers" --concurrency "$1" \
		--duration-s "$duration" --json "$2" \
		--services-store "postgresql://bench@/postgres?host=$work/pg&port=$pg_port" \
		>"$2.out" 2>&1
}

run_pg() { # VARIANT C JSON
	pg_start
	local pm
	pm=$(head -1 "$work/pg/data/postmaster.pid")
	bounded "$bench/pg_bench" --conninfo \
		"host=127.0.0.1 port=$pg_port user=bench dbname=postgres" \
		--variant "$1" --concurrency "$2" --duration-s "$duration" \
		--stock $((duration * 20000)) --pids "$pm" \
		--label "postgres-$1" --json "$3" >"$3.out" 2>&1
}

run_redis() { # APPENDFSYNC C JSON
	redis_start
	bounded "$bench/redis_bench" --port "$redis_port" --concurrency "$2" \
		--duration-s "$duration" --stock 1000000000 --appendfsync "$1" \
		--pids "$redis_pid" --label "redis-$1" --json "$3" \
		>"$3.out" 2>&1
}

run_empty_saga() { # C JSON [pglog]
	local c=$1 d="$work/empty-$1" dp pp rc=0 store label=empty-saga pm=
	local db="dtxlog_empty_$1"
	store=(--log-dir "$d/log")
	if [[ ${3:-} == pglog ]]; then
		pglog_create "$db"
		store=(--store "$(pglog_uri "$db")")
		label="empty-saga-pglog"
		pm=,$(head -1 "$work/pg/data/postmaster.pid")
	fi
	mkdir -p "$d"
	"$build/coordinator/dtxd" "${store[@]}" \
		--listen "ipc://$d/dtxd.ipc" --admin none \
		--ready-file "$d/dtxd.ready" --log-level warn \
		--max-clients $((c + 1024 > 8192 ? c + 1024 : 8192)) \
		>"$d/dtxd.log" 2>&1 &
	dp=$!
	pids+=("$dp")
	"$build/examples/sample/dtx-sample-participant" --url "ipc://$d/p.ipc" \
		--name p --ready-file "$d/p.ready" >"$d/p.log" 2>&1 &
	pp=$!
	pids+=("$pp")
	if wait_file "$d/dtxd.ready" 10 && wait_file "$d/p.ready" 10; then
		bounded "$bench/saga_bench" --url "ipc://$d/dtxd.ipc" \
			--participant "ipc://$d/p.ipc" --concurrency "$c" \
			--duration-s "$duration" --steps 2 --pids "$dp,$pp$pm" \
			--label "$label" --json "$2" >"$2.out" 2>&1 || rc=$?
	else
		rc=1
	fi
	stop_pid "$dp"
	stop_pid "$pp"
	# dtxd exits 0 after SIGTERM; anything else fails the point.
	wait "$dp" || echo "compare: dtxd exited $?" >>"$2.out"
	if grep -q '^compare: dtxd exited' "$2.out" 2>/dev/null && ((rc == 0)); then
		rc=70
	fi
	rm -rf "$d/log"
	if [[ ${3:-} == pglog ]]; then
		pglog_drop "$db"
	fi
	return "$rc"
}

run_nng() { # TRANSPORT OUTSTANDING JSON
	local url rc=0 sp d="$work/nng-$1-$2"
	mkdir -p "$d"
	if [[ $1 == ipc ]]; then
		url="ipc://$d/rep.ipc"
	else
		url="tcp://127.0.0.1:$(free_port 27400)"
	fi
	"$bench/nng_bench" serve --url "$url" --contexts "$2" \
		--ready-file "$d/ready" >"$d/serve.log" 2>&1 &
	sp=$!
	pids+=("$sp")
	if wait_file "$d/ready" 10; then
		bounded "$bench/nng_bench" load --url "$url" --outstanding "$2" \
			--duration-s "$nng_duration" --pids "$sp" \
			--label "nng-$1" --json "$3" >"$3.out" 2>&1 || rc=$?
	else
		rc=1
	fi
	stop_pid "$sp"
	return "$rc"
}

# ---- the table ----------------------------------------------------------

# json_field FILE KEY: the value of "KEY": VALUE (one key per line).
json_field() {
	sed -n "s/^ *\"$2\": \\(.*\\)\$/\\1/p" "$1" | sed 's/,$//; s/^"//; s/"$//'
}

# plain_label SYSTEM: its name in the plot.
plain_label() {
	case $1 in
	saga) echo "dtx saga (4 services)" ;;
	saga-pglog) echo "dtx saga (4 services), PostgreSQL log, 1 instance" ;;
	saga-tcp) echo "dtx saga (4 services), loopback TCP" ;;
	saga-tls) echo "dtx saga (4 services), mutual TLS 1.2" ;;
	saga-pglog3) echo "dtx saga (4 services), PostgreSQL log, 3 instances" ;;
	tcc) echo "dtx TCC (4 services)" ;;
	pg-forupdate) echo "PostgreSQL, SELECT FOR UPDATE" ;;
	pg-conditional) echo "PostgreSQL, conditional UPDATE" ;;
	saga-pgservices) echo "dtx saga, 4 services on PostgreSQL" ;;
	redis-always) echo "Redis Lua, appendfsync always (stock only)" ;;
	redis-everysec) echo "Redis Lua, appendfsync everysec (stock only)" ;;
	empty-saga) echo "dtx empty 2-step saga" ;;
	empty-saga-pglog) echo "dtx empty 2-step saga, PostgreSQL log" ;;
	nng-*) echo "nng req/rep, ${1#nng-}" ;;
	*) echo "$1" ;;
	esac
}

# label_of SYSTEM: its name in the table, with its footnote mark.
label_of() {
	case $1 in
	redis-*) echo "$(plain_label "$1") ¹" ;;
	empty-saga) echo "$(plain_label "$1") ²" ;;
	saga-pglog | saga-pglog3) echo "$(plain_label "$1") ⁵" ;;
	empty-saga-pglog) echo "$(plain_label "$1") ² ⁵" ;;
	nng-*) echo "$(plain_label "$1") ³" ;;
	*) plain_label "$1" ;;
	esac
}

table=$work/table.md
failed=0

# row SYSTEM C SHOWN_C JSON STATUS: one line of the table (and plot data).
row() {
	local sys=$1 c=$2 shown=$3 json=$4 status=$5 check=PASS
	local label
	label=$(label_of "$sys")
	if [[ ! -s $json ]]; then
		echo "| $label | $shown | - | - | - | - | - | - | run failed" \
			"(exit $status) |" | tee -a "$table"
		failed=1
		return 0
	fi
	if [[ $(json_field "$json" invariants_ok) != true || $status != 0 ]]; then
		check="FAIL (exit $status)"
		failed=1
	fi
	printf '| %s | %s | %.0f | %.2f | %.2f | %.2f | %.3f | %s | %s |\n' \
		"$label" "$shown" "$(json_field "$json" purchases_per_s)" \
		"$(json_field "$json" p50_ms)" "$(json_field "$json" p99_ms)" \
		"$(json_field "$json" p999_ms)" \
		"$(json_field "$json" cpu_ms_per_purchase)" \
		"$(json_field "$json" non_business_failures)" "$check" |
		tee -a "$table"
	echo "$c $(json_field "$json" purchases_per_s)" \
		"$(json_field "$json" p99_ms)" >>"$work/plot/$sys.dat"
}

run_point() { # SYSTEM C
	local sys=$1 c=$2 shown=$2 json status=0
	json="$work/json/$sys-$c.json"
	case $sys in
	saga) run_shop saga "$c" "$json" || status=$? ;;
	saga-tcp) run_shop saga "$c" "$json" "" "" tcp || status=$? ;;
	saga-tls) run_shop saga "$c" "$json" "" "" tls || status=$? ;;
	saga-pglog) run_shop_pglog "$c" "$json" || status=$? ;;
	saga-pglog3) run_shop_pglog "$c" "$json" 3 || status=$? ;;
	tcc)
		if ((c > tcc_max)); then
			shown="$c (ran $tcc_max ⁴)"
			c=$tcc_max
		fi
		run_shop tcc "$c" "$json" || status=$?
		;;
	saga-pgservices) run_shop_pgservices "$c" "$json" || status=$? ;;
	pg-*) run_pg "${sys#pg-}" "$c" "$json" || status=$? ;;
	redis-*) run_redis "${sys#redis-}" "$c" "$json" || status=$? ;;
	empty-saga) run_empty_saga "$c" "$json" || status=$? ;;
	empty-saga-pglog) run_empty_saga "$c" "$json" pglog || status=$? ;;
	nng-*) run_nng "${sys#nng-}" "$c" "$json" || status=$? ;;
	*)
		echo "compare: unknown system $sys" >&2
		exit 64
		;;
	esac
	row "$sys" "$c" "$shown" "$json" "$status"
}

machine() {
	local model disk dsync
	model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
	disk=$(df -h "$work" | awk 'NR==2 {print $1 " (" $2 ")"}')
	# 1,000 4 KiB writes with O_DSYNC: what one durable commit costs.
	dsync=$(dd if=/dev/zero of="$work/dsync" bs=4k count=1000 \
		oflag=dsync 2>&1 | sed -n 's/.* s, \(.*\)$/\1/p')
	rm -f "$work/dsync"
	# shellcheck disable=SC1091 # the running system's file
	echo "Machine: $(nproc) CPUs ($model), $(free -g | awk '/Mem:/ {print $2}')" \
		"GiB, $(. /etc/os-release && echo "$PRETTY_NAME"), kernel" \
		"$(uname -r); disk $disk, 4 KiB O_DSYNC writes: $dsync;" \
		"build $build (release); $duration s per point."
}

echo "# dtx comparison benchmark ($(date -u +%Y-%m-%d))" >"$table"
echo >>"$table"
machine | tee -a "$table"
echo | tee -a "$table"
echo "| system | concurrency | purchases/s | p50 ms | p99 ms | p999 ms |" \
	"CPU ms/purchase | non-business failures | oversell check |" |
	tee -a "$table"
echo "|:---|---:|---:|---:|---:|---:|---:|---:|:---|" | tee -a "$table"
for sys in "${systems[@]}"; do
	for c in "${points[@]}"; do
		run_point "$sys" "$c"
	done
done
for t in ipc tcp; do
	for c in "${nng_points[@]}"; do
		run_point "nng-$t" "$c"
	done
done

cat <<EOF | tee -a "$table"

¹ Stock only: the Lua script checks and decrements the stock counter; the
order, the payment and the delivery are not part of it, so the purchase is
NOT atomic with them (a crash between the stock and the payment loses or
oversells what the other systems keep consistent). everysec may lose the
last second of sales on a crash.
² dtxd (durable log) + one participant whose handlers answer OK with no
store (no disk) + the driver; "oversell check" = every saga committed.
³ Round trips of ${nng_duration} s, 256-byte messages, one REQ client with N
contexts against one REP server process; "concurrency" = requests
outstanding; "purchases/s" = round trips/s; CPU per round trip of both.
⁴ The TCC sale runs its blocking calls on a thread pool of at most
$tcc_max threads (examples/shop/pool.h), so its 5,000 point runs at $tcc_max.
EOF
if [[ " ${systems[*]} " == *-pglog* ]]; then
	cat <<-EOF | tee -a "$table"
		⁵ dtxd with its log on PostgreSQL (dtxd --store) instead of
		LMDB: the cluster of the PostgreSQL rows, over loopback TCP, a fresh
		database per point; "3 instances": three dtxd on that database
		leasing 12 shards (--shards 12, --lease-ms default), the buyers'
		client and the services given all three URLs, the CPU of all three
		counted. Its CPU ms/purchase includes every process of that
		PostgreSQL cluster over the point (postmaster, backends, checkpointer,
		WAL writer, autovacuum), from /proc.
	EOF
fi
cat <<EOF | tee -a "$table"
CPU ms/purchase: user + system CPU of every process of that system (the
servers, PostgreSQL's backends, the services, the load driver) over the
run, divided by the purchases answered. Latency: submit to answer, over
every sample. Non-business failures: errors, timeouts, purchases
unanswered at the end of the drain.
EOF

# ---- ratios and targets ---------------------------------------------------

best() { # SYSTEM: the highest purchases/s over its points ("0" if none)
	local f v m=0
	# C is a number: empty-saga-1000, not empty-saga-pglog-1000
	for f in "$work"/json/"$1"-[0-9]*.json; do
		[[ -s $f ]] || continue
		v=$(json_field "$f" purchases_per_s)
		m=$(awk -v a="$m" -v b="$v" 'BEGIN {x = (b > a) ? b : a; print x}')
	done
	echo "$m"
}

field_at() { # SYSTEM C KEY
	local f="$work/json/$1-$2.json"
	if [[ -s $f ]]; then json_field "$f" "$3"; else echo 0; fi
}

verdict() { # VALUE OP LIMIT
	awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
		ok = (op == ">=") ? (v >= l) : (v <= l)
		print ok ? "met" : "NOT met" }'
}

ceiling_ipc=$(best nng-ipc)
ceiling_tcp=$(best nng-tcp)
empty=$(best empty-saga)
{
	echo
	echo "## Coordinator overhead"
	echo
	echo "nng ceiling on this machine: ${ceiling_ipc} round trips/s over" \
		"ipc, ${ceiling_tcp} over tcp (best of ${nng_points[*]}" \
		"outstanding)."
	echo
	echo "| saga | concurrency | sagas/s | RPC round trips per saga |" \
		"round trips/s | ÷ ipc ceiling |"
	echo "|:---|---:|---:|---:|---:|---:|"
	for c in "${points[@]}"; do
		for s in empty-saga saga; do
			[[ -s $work/json/$s-$c.json ]] || continue
			# submit + one call per step (the shop's purchase: 5 steps)
			rt=$([[ $s == saga ]] && echo 6 || echo 3)
			awk -v s="$(label_of $s)" -v c="$c" -v r="$rt" \
				-v v="$(field_at $s "$c" purchases_per_s)" \
				-v ceil="$ceiling_ipc" 'BEGIN {
				q = (ceil > 0) ? v * r / ceil : 0
				printf "| %s | %s | %.0f | %d | %.0f | %.2f |\n",
				s, c, v, r, v * r, q }'
		done
	done
	echo
	echo "## Targets (issue 8)"
	echo
	v=$(field_at saga 5000 purchases_per_s)
	echo "- saga purchases/s at 5,000 buyers ≥ 5,000: $v —" \
		"$(verdict "$v" ">=" 5000)"
	v=$(field_at saga 64 p99_ms)
	echo "- saga p99 at 64 buyers ≤ 20 ms: $v ms — $(verdict "$v" "<=" 20)"
	echo "- empty 2-step saga ≥ 20,000/s (best point): $empty —" \
		"$(verdict "$empty" ">=" 20000)"
	if [[ -s $work/json/saga-pglog-1000.json ]]; then
		v=$(field_at saga-pglog 1000 purchases_per_s)
		echo "- saga on a PostgreSQL log, 1 instance, purchases/s at" \
			"1,000 buyers ≥ 3,000 (issue 15): $v —" \
			"$(verdict "$v" ">=" 3000)"
	fi
	ratio=$(awk -v e="$empty" -v c="$ceiling_ipc" \
		'BEGIN {q = (c > 0) ? 3 * e / c : 0; printf "%.2f", q}')
	echo "- 3 round trips × empty sagas/s ÷ ipc ceiling ≥ 0.5: $ratio —" \
		"$(verdict "$ratio" ">=" 0.5)"
} | tee -a "$table"

if [[ ${RECOVERY:-1} == 1 ]]; then
	{
		echo "- recovery of 100,000 open sagas < 2 s (exec to ready," \
			"tests/bench/recovery_bench.sh):"
		echo
		echo '```'
		BUILD=$build tests/bench/recovery_bench.sh 2>&1 |
			tee "$work/recovery.out" ||
			echo "recovery_bench.sh failed" >"$work/recovery.failed"
		echo '```'
		echo
		# the slower of the two runs (participant down / up)
		v=$(sed -n 's/.*exec to ready \([0-9.]*\) ms.*/\1/p' \
			"$work/recovery.out" | sort -n | tail -1)
		echo "  exec to ready, slower run: ${v:-?} ms —" \
			"$(verdict "${v:-1e9}" "<=" 2000)"
	} | tee -a "$table"
	if [[ -e $work/recovery.failed ]]; then
		failed=1
	fi
fi

# ---- the plot -------------------------------------------------------------

mkdir -p "$results"
results=$(cd "$results" && pwd)
plot_cmds=()
for sys in "${systems[@]}"; do
	[[ -s $work/plot/$sys.dat ]] || continue
	plot_cmds+=("'$work/plot/$sys.dat' using 1:COL with linespoints lw 2 title '$(plain_label "$sys")'")
done
if ((${#plot_cmds[@]} > 0)); then
	tput_plot=$(printf '%s, ' "${plot_cmds[@]//COL/2}")
	p99_plot=$(printf '%s, ' "${plot_cmds[@]//COL/3}")
	gnuplot <<-EOF
		set terminal pngcairo size 1400,760 font ",10"
		set output '$results/compare.png'
		set multiplot layout 1,2 title "Flash sale on one hot SKU, $(nproc) CPUs, $duration s per point, durability on"
		set logscale xy
		set grid
		set key below font ",9" maxrows 4
		set xlabel "buyers in flight (concurrency)"
		set xtics (1, 64, 1000, 5000)
		set ylabel "purchases/s"
		set title "throughput"
		plot ${tput_plot%, }
		set ylabel "p99 latency, ms"
		set title "p99 latency"
		plot ${p99_plot%, }
		unset multiplot
	EOF
fi
cp "$table" "$results/compare.md"
echo
echo "compare: wrote $results/compare.md and $results/compare.png"
exit "$failed"
