#!/usr/bin/env bash
# systemd_unit_test.sh BUILD - the installed dtxd.service (issue 18 item 5):
# install the build into a DESTDIR, give that root the distribution's own
# units (sysinit.target and friends) and /bin/kill (ExecReload), and check
# there that
#   - systemd-analyze verify passes: syntax, every ExecStart/ExecReload
#     binary executable at its installed path, the man pages of
#     Documentation= found (MANPATH in the root);
#   - the unit is Type=notify, loads the installed config, does not restart
#     after exit 64 or 65;
#   - the sysusers.d entry creates the dtx user (systemd-sysusers --dry-run);
#   - systemd-analyze security --offline rates its exposure (printed).
# Exit 77 (skipped) without systemd-analyze.
set -euo pipefail

build=$1
command -v systemd-analyze >/dev/null || {
	echo "systemd-analyze not found: skipped"
	exit 77
}
root=$(mktemp -d /tmp/dtx-unit-XXXXXX)
trap 'rm -rf "$root"' EXIT

DESTDIR=$root meson install -C "$build" --no-rebuild --quiet >/dev/null
unit=$(find "$root" -name dtxd.service -path '*systemd/system*')
users=$(find "$root" -name dtx.conf -path '*sysusers.d*')
mandir=$(dirname "$(dirname "$(find "$root" -name dtxd.conf.5)")")
[[ -n $unit && -n $users && -n $mandir ]] || {
	echo "not installed: unit '$unit' sysusers '$users' man '$mandir'"
	exit 1
}
mkdir -p "$root/lib/systemd" "$root/bin"
cp -r /lib/systemd/system "$root/lib/systemd/"
cp "$(type -P kill)" "$root/bin/kill" # procps, not the builtin

out=$(MANPATH=$mandir systemd-analyze verify --root="$root" "$unit" 2>&1) || {
	echo "systemd-analyze verify failed:"
	echo "$out"
	exit 1
}
[[ -z $out ]] || {
	echo "systemd-analyze verify complained:"
	echo "$out"
	exit 1
}
echo "ok: systemd-analyze verify $unit"

exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
dtxd=${exec_start%% *}
[[ -x $root$dtxd ]] || { echo "ExecStart $dtxd not installed"; exit 1; }
conf=$(sed -n 's/.*--config \([^ ]*\).*/\1/p' <<<"$exec_start")
[[ -f $root$conf.example ]] || { echo "no $conf.example installed"; exit 1; }
for want in 'Type=notify' 'RestartPreventExitStatus=64 65' \
	'User=dtx' 'StateDirectory=dtx' 'NoNewPrivileges=yes' \
	'ProtectSystem=strict' 'PrivateTmp=yes'; do
	grep -qx "$want" "$unit" || { echo "no '$want' in $unit"; exit 1; }
done
echo "ok: ExecStart=$exec_start"

# The example configuration, as the unit would load it, is valid.
"$build/coordinator/dtxd" --config "$root$conf.example" --check-config \
	>/dev/null
echo "ok: $conf.example passes dtxd --check-config"

sysusers=$(systemd-sysusers --root="$root" --dry-run 2>&1)
grep -q "Creating user 'dtx'" <<<"$sysusers" || {
	echo "systemd-sysusers does not create dtx:"
	echo "$sysusers"
	exit 1
}
echo "ok: systemd-sysusers creates the dtx user"

systemd-analyze security --offline=yes --root="$root" "$unit" 2>&1 |
	grep 'Overall exposure' || true
