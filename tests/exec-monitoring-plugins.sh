#!/bin/sh
# exec-monitoring-plugins.sh -- integration: Debian's monitoring-plugins
# (check_dummy in every state, check_disk) run through the exec plugin by
# the real loader, config and task code; statuses and perfdata checked.
set -u
dir=${MONITORING_PLUGINS_DIR:-/usr/lib/nagios/plugins}
if [ ! -x "$dir/check_dummy" ] || [ ! -x "$dir/check_disk" ]; then
	echo "monitoring-plugins not installed in $dir (apt-get install monitoring-plugins-basic): skipped"
	exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/mp.toml" <<TOML
[plugins]
load = ["exec"]

[check.dummy.ok]
type = "exec"
command = ["$dir/check_dummy", "0", "all good"]
[check.dummy.warning]
type = "exec"
command = ["$dir/check_dummy", "1", "getting full"]
[check.dummy.critical]
type = "exec"
command = ["$dir/check_dummy", "2", "down"]
[check.dummy.unknown]
type = "exec"
command = ["$dir/check_dummy", "3", "no idea"]
[check.disk]
type = "exec"
command = ["$dir/check_disk", "-w", "0%", "-c", "0%", "-p", "/"]
[check.disk_critical]
type = "exec"
# 101% free is never true: check_disk must say CRITICAL.
command = ["$dir/check_disk", "-w", "100%", "-c", "100%", "-p", "/"]
TOML
ASSAY_PLUGIN_PATH="$top_builddir/plugins/.libs" \
	"$top_builddir/tests/run-nodes" "$work/mp.toml" >"$work/out" 2>"$work/err"
rc=$?
cat "$work/out" "$work/err"
[ "$rc" -eq 0 ] || { echo "run-nodes exited $rc"; exit 1; }

fail=0
expect() { # ID STATUS MESSAGE-PATTERN METRICS-PATTERN
	line=$(grep "^$1	" "$work/out")
	status=$(printf '%s' "$line" | cut -f2)
	message=$(printf '%s' "$line" | cut -f3)
	metrics=$(printf '%s' "$line" | cut -f4)
	if [ "$status" != "$2" ]; then
		echo "FAIL $1: status $status, want $2"; fail=1
	fi
	if ! printf '%s' "$message" | grep -Eq "$3"; then
		echo "FAIL $1: message '$message' does not match /$3/"; fail=1
	fi
	if ! printf '%s' "$metrics" | grep -Eq "$4"; then
		echo "FAIL $1: metrics '$metrics' do not match /$4/"; fail=1
	fi
}
expect dummy.ok OK '^OK: all good$' '^$'
expect dummy.warning WARNING '^WARNING: getting full$' '^$'
expect dummy.critical CRITICAL '^CRITICAL: down$' '^$'
expect dummy.unknown UNKNOWN '^UNKNOWN: no idea$' '^$'
# check_disk: "DISK OK - free space: / 81738MiB (83% inode=97%);| /=17035165696B;270552530944;...;0;270552530944"
# (older releases print MB): used space, warn, crit, min 0, max the size.
num='[0-9.e+]+'
expect disk OK '^DISK OK - free space: / ' "^/=$num;M?B;$num;$num;0;$num\$"
expect disk_critical CRITICAL '^DISK CRITICAL - free space: / ' "^/=$num;M?B;0;0;0;$num\$"
[ "$fail" -eq 0 ] && echo "monitoring-plugins through exec: 6 passed, 0 failed"
exit "$fail"
