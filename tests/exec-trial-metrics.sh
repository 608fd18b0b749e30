#!/bin/sh
# exec-trial-metrics.sh -- integration: a sweep of exec trials under the
# real host reports its metrics by metric lines and, where the host gives
# the trial a directory, by $ASSAY_METRICS, and finds its stdout and
# stderr kept there; a check's `key=value` lines stay its output.
set -u
a="$top_builddir/assay"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
py=${PYTHON3:-python3}
fail=0
bad() { echo "FAIL: $*"; fail=1; }

mkdir "$work/state"
cat >"$work/t.toml" <<TOML
[plugins]
load = ["exec"]

[runner]
state_dir = "$work/state"

[trial.fit]
type = "exec"
shell = true
matrix = { lr = [1, 2] }
objective = { metric = "accuracy", goal = "max" }
# Trial lr=1 says its accuracy on stdout, lr=2 in \$ASSAY_METRICS when it
# has one (on stdout otherwise).
command = '''
echo "start {lr}"
echo 'step: 1'
echo loss=0.9
echo 'to stderr {lr}' >&2
if [ {lr} = 2 ] && [ -n "\${ASSAY_METRICS:-}" ]; then
	echo '{"step": 2, "accuracy": 0.75}' >>"\$ASSAY_METRICS"
	echo "\$ASSAY_TRIAL_DIR" >"$work/dir"
else
	echo 'accuracy: 0.{lr}5'
fi
'''

[check.plain]
type = "exec"
command = ["echo", "fine\nloss=0.5"]
TOML

"$a" run "$work/t.toml" -f json >"$work/out.json" 2>"$work/err"
rc=$?
[ "$rc" -eq 0 ] || bad "exit $rc: $(cat "$work/err")"
# lr=2's accuracy comes by its file where it had one, else by stdout
by_file=no
[ -s "$work/dir" ] && by_file=yes
"$py" - "$work/out.json" "$by_file" <<'PY' || fail=1
import json, sys

nodes = {n["id"]: n for n in json.load(open(sys.argv[1]))["nodes"]}
want = {
    "fit[lr=1]": ("start 1", {"loss": 0.9, "accuracy": 0.15}),
    "fit[lr=2]": ("start 2", {"loss": 0.9, "accuracy": 0.75 if sys.argv[2] == "yes" else 0.25}),
}
ok = True
for id, (message, metrics) in want.items():
    n = nodes[id]
    got = {m["name"]: m["value"] for m in n.get("metrics", [])}
    if n["message"] != message:
        print(f"FAIL: {id}: message {n['message']!r}, not {message!r}")
        ok = False
    for name, value in metrics.items():
        if got.get(name) != value:
            print(f"FAIL: {id}: {name} = {got.get(name)!r}, not {value!r} (metrics {got})")
            ok = False
plain = nodes["plain"]
if plain.get("metrics"):
    print(f"FAIL: the check has metrics: {plain['metrics']}")
    ok = False
sys.exit(0 if ok else 1)
PY
# Its output kept in its trial dir.
if [ "$by_file" = yes ]; then
	d=$(cat "$work/dir")
	[ "$(cat "$d/stdout")" = "start 2
step: 1
loss=0.9" ] || bad "$d/stdout: $(cat "$d/stdout")"
	[ "$(cat "$d/stderr")" = "to stderr 2" ] || bad "$d/stderr: $(cat "$d/stderr")"
fi
[ "$fail" -eq 0 ] && echo "PASS: exec-trial-metrics"
exit "$fail"
