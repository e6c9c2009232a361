#!/usr/bin/env bash
# k8s_manifests_test.sh SOURCE_ROOT BUILD_DIR - the container file and the
# Kubernetes manifests of deploy/ (issue 18 item 6), offline, in TAP:
#   - every manifest passes check_k8s.mjs: the Kubernetes OpenAPI schemas
#     and types bundled by the npm package kubernetes-models, checked with
#     its ajv validators and TypeScript (installed by scripts/setup.sh:
#     npm ci --prefix tests/deploy), plus references between documents;
#   - copies with one fault each (a misspelt field, a string for an
#     integer, a value outside an enum, an unknown apiVersion, a port or a
#     Secret that is not there, a duplicate key) fail, naming it;
#   - the ConfigMaps' dtxd.conf, with the env each pod of the StatefulSet
#     and of the Deployment gets (ordinal, pod name, advertise URL, the
#     store from the Secret), passes dtxd --check-config; one ordinal past
#     the shard count does not;
#   - the Containerfile passes dockerfile-utils lint (a broken copy does
#     not), runs as the uid the manifests name, builds the production
#     build, and its runtime stage installs every package whose libraries
#     dtxd and dtxctl load, and no -dev package; the image's own dtxd.conf
#     passes dtxd --check-config.
set -uo pipefail

src=$1
build=$2
here=$src/tests/deploy
check=$here/check_k8s.mjs
k8s=$src/deploy/k8s
cfile=$src/deploy/container/Containerfile
dtxd=$build/coordinator/dtxd
work=$(mktemp -d /tmp/dtx-k8s-XXXXXX)
trap 'rm -rf "$work"' EXIT

n=0
failed=0
# ok NAME / not_ok NAME [DETAIL FILE] print one TAP result.
ok() {
	n=$((n + 1))
	echo "ok $n - $*"
}
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	[[ -n ${2:-} && -f $2 ]] && sed 's/^/# /' "$2"
}

if [[ ! -d $here/node_modules/kubernetes-models ||
	! -d $here/node_modules/dockerfile-utils ]]; then
	echo "1..1"
	echo "not ok 1 - tests/deploy/node_modules is missing: run" \
		"scripts/setup.sh (npm ci --prefix tests/deploy)"
	exit 1
fi

# 1. the manifests as shipped
if node "$check" "$k8s"/*.yaml >"$work/valid.out" 2>&1; then
	ok "deploy/k8s/*.yaml pass the Kubernetes schemas and types"
else
	not_ok "deploy/k8s/*.yaml pass the Kubernetes schemas and types" \
		"$work/valid.out"
fi

# bad NAME FILE SED WANT [OTHER_FILE...] adds a case: FILE changed by the
# sed script SED (it must change something) must fail check_k8s.mjs with
# WANT in its output; the other files are validated beside it. run_bad
# checks every case in one run of check_k8s.mjs (one TypeScript program).
cases=0
sets=()
bad() {
	local name=$1 file=$2 script=$3 want=$4
	shift 4
	cases=$((cases + 1))
	mkdir -p "$work/case$cases"
	local copy=$work/case$cases/$(basename "$file")
	sed "$script" "$file" >"$copy"
	printf '%s\n' "$name" >"$work/case$cases.name"
	printf '%s\n' "$want" >"$work/case$cases.want"
	cmp -s "$file" "$copy" && echo "sed '$script' changed nothing" \
		>"$work/case$cases.nochange"
	((cases > 1)) && sets+=(--)
	sets+=("$copy" "$@")
}
run_bad() {
	local i name want
	node "$check" --sets "${sets[@]}" >"$work/sets.out" 2>&1
	awk -v dir="$work" '{ print > (dir "/case" (s + 1) ".out") }
		/^set [0-9]+: (ok|FAIL)/ { close(dir "/case" (s + 1) ".out"); s++ }' \
		"$work/sets.out"
	for ((i = 1; i <= cases; i++)); do
		name=$(cat "$work/case$i.name")
		want=$(cat "$work/case$i.want")
		touch "$work/case$i.out"
		if [[ -f $work/case$i.nochange ]]; then
			not_ok "$name" "$work/case$i.nochange"
		elif ! grep -q "^set $i: FAIL" "$work/case$i.out"; then
			not_ok "$name: accepted" "$work/case$i.out"
		elif ! grep -qF -- "$want" "$work/case$i.out"; then
			echo "wanted: $want" >>"$work/case$i.out"
			not_ok "$name: not named" "$work/case$i.out"
		else
			ok "$name is refused: $(grep -F -- "$want" \
				"$work/case$i.out" | head -1 | sed "s|^$work/case[0-9]*/||" |
				cut -c1-150)"
		fi
	done
}

lmdb=$k8s/dtxd-lmdb.yaml
pg=$k8s/dtxd-postgresql.yaml
secret=$k8s/dtxd-postgresql-secret.example.yaml
bad "a misspelt container field" "$lmdb" \
	's/^          readinessProbe:/          readinesProbe:/' \
	"'\"readinesProbe\"' does not exist in type 'IContainer'"
bad "a misspelt PodDisruptionBudget field" "$pg" \
	's/^  minAvailable: 2/  minAvailible: 2/' \
	"'\"minAvailible\"' does not exist in type 'IPodDisruptionBudgetSpec'" \
	"$secret"
bad "a string for an integer" "$lmdb" 's/^  replicas: 3/  replicas: "3"/' \
	"spec/replicas must be integer"
bad "a value outside an enum" "$lmdb" \
	's/podManagementPolicy: Parallel/podManagementPolicy: AllAtOnce/' \
	"podManagementPolicy must be equal to one of the allowed values"
bad "a field of the wrong type deep in the pod" "$pg" \
	's/^            failureThreshold: 120/            failureThreshold: many/' \
	"startupProbe.failureThreshold: Type 'string' is not assignable" \
	"$secret"
bad "an unknown apiVersion" "$lmdb" 's|^apiVersion: policy/v1$|apiVersion: policy/v2|' \
	"no Kubernetes schema for apiVersion policy/v2"
bad "a Service port naming no container port" "$lmdb" \
	's/targetPort: http/targetPort: htp/' "targetPort 'htp'"
bad "a Secret that is not there" "$pg" \
	's/name: dtx-pg-store$/name: dtx-pg-stor/' "no Secret dtx-pg-stor" \
	"$secret"
bad "a duplicate key" "$lmdb" 's/^  serviceName: dtx-lmdb-hl/&\n  serviceName: x/' \
	"Map keys must be unique"
run_bad

# check_pod KIND NAME ORDINAL CONFIGMAP FILE...: the ConfigMap's dtxd.conf
# with the env pod ORDINAL of KIND/NAME gets passes dtxd --check-config;
# the output is left in $work/check.out.
check_pod() {
	local kind=$1 name=$2 ord=$3 cm=$4
	shift 4
	local env=()
	node "$check" --configmap "$1" "$cm" dtxd.conf >"$work/dtxd.conf" &&
		mapfile -t env < <(node "$check" --pod-env "$kind" "$name" \
			"$ord" "$@") &&
		env -i "${env[@]}" "$dtxd" --config "$work/dtxd.conf" \
			--check-config >"$work/check.out" 2>&1
}

replicas=$(sed -n 's/^  replicas: \([0-9]*\)$/\1/p' "$lmdb")
for ((i = 0; i < replicas; i++)); do
	name="dtx-lmdb-$i's settings pass dtxd --check-config"
	if check_pod StatefulSet dtx-lmdb $i dtx-lmdb-config "$lmdb" &&
		grep -q "^shard = $i ; env DTX_SHARD" "$work/check.out" &&
		grep -q "^instance = dtx-lmdb-$i ; env" "$work/check.out"; then
		ok "$name (shard $i, its own --peer skipped)"
	else
		not_ok "$name" "$work/check.out"
	fi
done
if check_pod StatefulSet dtx-lmdb "$replicas" dtx-lmdb-config "$lmdb"; then
	not_ok "a member past the shard count is accepted" "$work/check.out"
else
	ok "a member past the shard count is refused:" \
		"$(grep -m1 'dtxd:' "$work/check.out")"
fi
for i in 0 1 2; do
	name="a dtx-pg instance's settings pass dtxd --check-config"
	if check_pod Deployment dtx-pg $i dtx-pg-config "$pg" "$secret" &&
		grep -q '^store = postgresql://.* ; env DTX_STORE' \
			"$work/check.out" &&
		! grep -q 'CHANGE-ME' "$work/check.out"; then
		ok "$name ($i, the store from the Secret, masked)"
	else
		not_ok "$name ($i)" "$work/check.out"
	fi
done

# 2. the Containerfile
lint=$here/node_modules/.bin/dockerfile-utils
if "$lint" lint "$cfile" >"$work/lint.out" 2>&1 && [[ ! -s $work/lint.out ]]; then
	ok "the Containerfile passes dockerfile-utils lint"
else
	not_ok "the Containerfile passes dockerfile-utils lint" "$work/lint.out"
fi
sed 's/^COPY --from=build/COPY --form=build/' "$cfile" >"$work/Containerfile"
if "$lint" lint "$work/Containerfile" >"$work/lint.out" 2>&1; then
	not_ok "a Containerfile with an unknown flag passes lint" "$work/lint.out"
else
	ok "a Containerfile with an unknown flag fails lint"
fi

uid=$(sed -n 's/^USER \([0-9]*\):\([0-9]*\)$/\1/p' "$cfile")
if [[ $uid =~ ^[1-9][0-9]*$ ]] &&
	grep -q "useradd .*--uid $uid " "$cfile" &&
	[[ $(grep -c "runAsUser: $uid$" "$lmdb" "$pg" | grep -c ':1$') == 2 ]]; then
	ok "the image runs as uid $uid, the manifests' runAsUser"
else
	echo "USER uid '$uid'" >"$work/uid.out"
	not_ok "the image's uid is the manifests' runAsUser" "$work/uid.out"
fi

# the runtime stage: after the last FROM
runtime=$(awk '/^FROM /{s=""} {s=s $0 "\n"} END{printf "%s", s}' "$cfile")
if grep -q -- '--buildtype=release -Dfault_points=false' "$cfile" &&
	grep -q '^ENTRYPOINT \["/usr/bin/dtxd"\]$' <<<"$runtime" &&
	grep -q '^VOLUME \["/var/lib/dtx"\]$' <<<"$runtime" &&
	! grep -q -- '-dev\b' <<<"$runtime"; then
	ok "a release build without fault points; the runtime stage has no" \
		"-dev package, dtxd as entrypoint, the log on a volume"
else
	not_ok "the Containerfile's production build and runtime stage"
fi

# every package dtxd and dtxctl load a library from is installed there
missing=""
for exe in "$dtxd" "$build/coordinator/dtxctl"; do
	for lib in $(readelf -d "$exe" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		path=$(ldd "$exe" | awk -v l="$lib" '$1 == l {print $3}')
		pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | cut -d: -f1)
		# glibc (libc6, in every image; dpkg knows it by /lib paths)
		[[ $lib =~ ^(libc|libm|ld-linux-.*)\.so ]] && continue
		if [[ -z $pkg ]] || ! grep -qw -- "$pkg" <<<"$runtime"; then
			missing+=" $lib(${pkg:-?})"
		fi
	done
done
if [[ -z $missing ]]; then
	ok "the runtime stage installs every library dtxd and dtxctl load"
else
	echo "missing:$missing" >"$work/libs.out"
	not_ok "the runtime stage installs every library" "$work/libs.out"
fi

if env -i "$dtxd" --config "$src/deploy/container/dtxd.conf" --check-config \
	>"$work/check.out" 2>&1; then
	ok "the image's dtxd.conf passes dtxd --check-config"
else
	not_ok "the image's dtxd.conf passes dtxd --check-config" \
		"$work/check.out"
fi

echo "1..$n"
((failed == 0))
