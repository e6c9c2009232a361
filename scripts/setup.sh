#!/usr/bin/env bash
# setup.sh - install the Debian packages dtx builds with (only if some are
# missing), then configure and build the tree in ./build.
#
# Usage: scripts/setup.sh        (from anywhere; builds <repo>/build)
set -euo pipefail

cd "$(dirname "$0")/.."

packages=(
	libuv1-dev libnng-dev libprotobuf-c-dev protobuf-c-compiler
	liblmdb-dev libcriterion-dev meson ninja-build pkg-config
	clang-format git
	libjansson-dev scdoc
	# the console's HTTP server (coordinator/http.c) and the browser that
	# tests it (tests/integration/console_test.c: headless, WebDriver)
	libmicrohttpd-dev chromium chromium-driver
	# fault tools of tests/integration/durability_test.c: libfiu (EIO by
	# preload) and libfaketime (wall-clock jumps)
	fiu-utils libfiu-dev faketime libfaketime
	# the chaos harness (tests/chaos): partitions with nft in the run's
	# own network namespace; gdb dumps the stacks of a process that hangs
	nftables gdb
	# the PostgreSQL store (coordinator/kv_pg.c) and the throw-away
	# clusters of the tests (tests/support/pgtmp.c, suite postgres)
	postgresql-15 libpq-dev
	# dtxd's Type=notify unit (coordinator/notify.c: sd_notify); the
	# unit's test (systemd-analyze verify, systemd-sysusers) and man
	# (systemd-analyze checks the unit's Documentation= pages)
	libsystemd-dev systemd man-db
	# the checks of deploy/ (tests/deploy: node runs the Kubernetes
	# schema and type checks and the Containerfile lint, readelf reads
	# which libraries dtxd loads)
	nodejs binutils
	# the TLS tests' CA and certificates (tests/support/tlscerts.sh)
	openssl
)

missing=()
for pkg in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
		grep -q 'install ok installed'; then
		missing+=("$pkg")
	fi
done

if ((${#missing[@]} > 0)); then
	echo "setup: installing ${missing[*]}"
	sudo=()
	if ((EUID != 0)); then
		sudo=(sudo)
	fi
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
fi

# Debian's postgresql-15 creates (and may start) a system cluster 15/main.
# Tests start their own clusters and must never depend on it: stop it and
# keep it from starting at boot.
if [[ -f /etc/postgresql/15/main/start.conf ]]; then
	sudo=()
	if ((EUID != 0)); then
		sudo=(sudo)
	fi
	"${sudo[@]}" pg_ctlcluster 15 main stop 2>/dev/null || true
	echo manual | "${sudo[@]}" tee /etc/postgresql/15/main/start.conf \
		>/dev/null
fi

# The npm packages of tests/deploy (kubernetes-models, typescript, yaml,
# dockerfile-utils), at the versions package-lock.json pins. Debian's
# nodejs comes without npm; a nodejs that bundles it needs none.
if [[ ! -d tests/deploy/node_modules/kubernetes-models ]]; then
	if ! command -v npm >/dev/null; then
		sudo=()
		if ((EUID != 0)); then
			sudo=(sudo)
		fi
		"${sudo[@]}" apt-get install -y -qq --no-install-recommends \
			npm >/dev/null
	fi
	npm ci --prefix tests/deploy --no-audit --no-fund --loglevel=error
fi

if [[ -f build/build.ninja ]]; then
	meson setup --reconfigure build >/dev/null
else
	meson setup build -Dwerror=true -Dfault_points=true >/dev/null
fi
ninja -C build
