#!/bin/sh
# exec-monitoring-plugins.sh -- integration: Debian's monitoring-plugins
# (check_dummy in every state, check_disk) run by `assay run` through the
# exec plugin; statuses, messages and perfdata checked in the json report.
# Then gates: a plain command's failure, and a monitoring plugin's
# WARNING, keep everything else from running unless the gate allows it.
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
[plugins.exec]
convention = "monitoring-plugins"

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

"${PYTHON3:-python3}" - "$work/out.json" <<'PY' || exit 1
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

# gate CONFIG_BODY WANT_RC ID=STATUS[:REASON]...: runs the config and
# checks each node's status and, for a skipped one, its reason.
gate() {
	printf '[plugins]\nload = ["exec"]\n%s\n' "$1" >"$work/gate.toml"
	want_rc=$2
	shift 2
	"$top_builddir/assay" run "$work/gate.toml" --format json >"$work/gate.json" 2>"$work/err"
	rc=$?
	[ "$rc" -eq "$want_rc" ] || { echo "FAIL: exited $rc, want $want_rc"; cat "$work/gate.toml" "$work/gate.json" "$work/err"; return 1; }
	"${PYTHON3:-python3}" - "$work/gate.json" "$@" <<'PY'
import json, sys
nodes = {n["id"]: n for n in json.load(open(sys.argv[1]))["nodes"]}
bad = []
for want in sys.argv[2:]:
    nid, rest = want.split("=", 1)
    status, _, reason = rest.partition(":")
    n = nodes[nid]
    if n["status"] != status or (reason and n["skip_reason"] != reason):
        bad.append(f"{nid}: {n['status']} {n['skip_reason']!r}, want {status} {reason!r}")
print("\n".join("FAIL " + b for b in bad) or f"gate: {' '.join(sys.argv[2:])}")
sys.exit(1 if bad else 0)
PY
}
fail=0
# A plain command (the default convention) that exits 1 has failed: as a
# gate it skips everything, whatever their run_if.
gate '[check.gate]
type = "exec"
gate = true
command = ["false"]
[check.a]
type = "exec"
command = ["true"]
[check.b]
type = "exec"
command = ["true"]
run_if = "always"' 2 gate=CRITICAL 'a=SKIPPED:gate `gate` is CRITICAL' 'b=SKIPPED:gate `gate` is CRITICAL' || fail=1
# grep finding nothing is a failure too, for its dependents
gate '[check.grep]
type = "exec"
command = ["grep", "-q", "anything", "/dev/null"]
[check.after]
type = "exec"
command = ["true"]
after = ["grep"]' 2 grep=CRITICAL 'after=SKIPPED:dependency `grep` is CRITICAL' || fail=1
# A monitoring plugin's exit 1 is WARNING: its dependents run, but a gate
# refuses it...
gate "[check.gate]
type = \"exec\"
gate = true
convention = \"monitoring-plugins\"
command = [\"$dir/check_dummy\", \"1\", \"quota low\"]
[check.a]
type = \"exec\"
command = [\"true\"]
[check.w]
type = \"exec\"
convention = \"monitoring-plugins\"
command = [\"$dir/check_dummy\", \"1\", \"slow\"]
gate = \"warning\"
[check.after_w]
type = \"exec\"
command = [\"true\"]
after = [\"w\"]" 1 gate=WARNING w=WARNING 'a=SKIPPED:gate `gate` is WARNING' 'after_w=SKIPPED:gate `gate` is WARNING' || fail=1
# ...unless it says gate = "warning"
gate "[check.gate]
type = \"exec\"
gate = \"warning\"
convention = \"monitoring-plugins\"
command = [\"$dir/check_dummy\", \"1\", \"quota low\"]
[check.a]
type = \"exec\"
command = [\"true\"]
[check.w]
type = \"exec\"
convention = \"monitoring-plugins\"
command = [\"$dir/check_dummy\", \"1\", \"slow\"]
[check.after_w]
type = \"exec\"
command = [\"true\"]
after = [\"w\"]" 1 gate=WARNING a=OK w=WARNING after_w=OK || fail=1
exit $fail
