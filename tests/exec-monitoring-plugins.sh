#!/bin/sh
# exec-monitoring-plugins.sh -- integration: Debian's monitoring-plugins
# (check_dummy in every state, check_disk) run by `assay run` through the
# exec plugin; statuses, messages and perfdata checked in the json report.
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
"$top_builddir/assay" run "$work/mp.toml" --format json >"$work/out.json" 2>"$work/err"
rc=$?
cat "$work/err"
# CRITICAL outranks UNKNOWN when states combine (monitoring-plugins' max_state_alt): exit 2.
[ "$rc" -eq 2 ] || { echo "assay run exited $rc, want 2"; cat "$work/out.json"; exit 1; }

exec "${PYTHON3:-python3}" - "$work/out.json" <<'PY'
import json, re, sys

nodes = {n["id"]: n for n in json.load(open(sys.argv[1]))["nodes"]}
num = r"[0-9.e+]+"
want = {
    "dummy.ok": ("OK", r"^OK: all good$", None),
    "dummy.warning": ("WARNING", r"^WARNING: getting full$", None),
    "dummy.critical": ("CRITICAL", r"^CRITICAL: down$", None),
    "dummy.unknown": ("UNKNOWN", r"^UNKNOWN: no idea$", None),
    # "DISK OK - free space: / 81738MiB (83% inode=97%);| /=17035165696B;270552530944;...;0;270552530944"
    # (older releases print MB): used space, warn, crit, min 0, max the size.
    "disk": ("OK", r"^DISK OK - free space: / ", "/"),
    "disk_critical": ("CRITICAL", r"^DISK CRITICAL - free space: / ", "/"),
}
passed = failed = 0
for nid, (status, message, metric) in want.items():
    n = nodes[nid]
    problems = []
    if n["status"] != status:
        problems.append(f"status {n['status']}, want {status}")
    if not re.search(message, n["message"]):
        problems.append(f"message {n['message']!r} does not match /{message}/")
    if metric is None:
        if n["metrics"]:
            problems.append(f"metrics {n['metrics']}, want none")
    else:
        m = [x for x in n["metrics"] if x["name"] == metric]
        if len(m) != 1:
            problems.append(f"no metric {metric!r} in {n['metrics']}")
        else:
            m = m[0]
            if m["unit"] not in ("B", "MB") or m.get("min") != 0 or not m.get("max", 0) > 0 \
                    or not 0 < m["value"] <= m["max"] or "warn" not in m or "crit" not in m:
                problems.append(f"metric {m} is not check_disk's used-space perfdata")
            if nid == "disk_critical" and (m["warn"], m["crit"]) != ("0", "0"):
                problems.append(f"thresholds {m['warn']};{m['crit']}, want 0;0")
    if problems:
        failed += 1
        print(f"FAIL {nid}: " + "; ".join(problems))
    else:
        passed += 1
print(f"monitoring-plugins through exec: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
