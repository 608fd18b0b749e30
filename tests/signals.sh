#!/bin/sh
# signals.sh -- integration: SIGINT stops a run at once, kills the
# children it started (and theirs), reports what finished, and exits
# non-zero; a report file asked for is complete or absent, never partial.
set -u
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
marker="assay-signal-test-$$"
cat >"$work/sig.toml" <<TOML
[plugins]
load = ["exec"]

[check.quick]
type = "exec"
command = ["true"]

[check.long_a]
type = "exec"
command = ["sh", "-c", "sleep 300 & exec sleep 301", "$marker"]

[check.long_b]
type = "exec"
command = ["sh", "-c", "sleep 302", "$marker"]

[check.after_long]
type = "exec"
command = ["true"]
after = ["long_a"]
TOML
"$top_builddir/assay" run "$work/sig.toml" --format json --report "json:$work/r.json" \
	>"$work/out" 2>"$work/err" &
pid=$!
sleep 1
start=$(date +%s)
kill -INT "$pid"
wait "$pid"
rc=$?
took=$(( $(date +%s) - start ))
fail=0
[ "$rc" -ne 0 ] || { echo "FAIL: exit status 0 after SIGINT"; fail=1; }
[ "$took" -le 10 ] || { echo "FAIL: took ${took}s to stop"; fail=1; }
sleep 0.5
if pgrep -f "$marker" >/dev/null || pgrep -x "sleep 300" >/dev/null; then
	echo "FAIL: children survived:"; pgrep -af "sleep 30[0-2]"; fail=1
fi
"${PYTHON3:-python3}" - "$work/out" "$work/r.json" <<'PY' || fail=1
import json, sys
for path in sys.argv[1:]:
    d = json.load(open(path))
    st = {n["id"]: (n["status"], n["message"]) for n in d["nodes"]}
    ok = (d["interrupted"] and st["quick"][0] == "OK"
          and st["long_a"][0] in ("UNKNOWN", "CRITICAL") and st["long_b"][0] in ("UNKNOWN", "CRITICAL")
          and st["after_long"][0] == "SKIPPED")
    if not ok:
        print(f"FAIL: {path}: {st}")
        sys.exit(1)
PY
cat "$work/err"
[ "$fail" -eq 0 ] && echo "signals: 4 passed, 0 failed"
exit "$fail"
