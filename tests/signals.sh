#!/bin/sh
# signals.sh -- integration: SIGINT, SIGTERM or SIGHUP stops a run at
# once, kills the children it started (and theirs), reports what finished,
# and exits non-zero; a report file asked for is complete or absent, never
# partial; a second signal kills what still runs and leaves at once.
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

# SIGHUP (the terminal closed, ssh dropped) is SIGTERM's twin: the run
# stops, its commands are killed, the report is written.
"$top_builddir/assay" run "$work/sig.toml" --format json --report "json:$work/hup.json" \
	>"$work/hup.out" 2>"$work/hup.err" &
pid=$!
sleep 1
kill -HUP "$pid"
wait "$pid"
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 129 ] || { echo "FAIL: exit status $rc after SIGHUP"; fail=1; }
sleep 0.5
if pgrep -f "$marker" >/dev/null; then
	echo "FAIL: children survived SIGHUP:"; pgrep -af "$marker"; fail=1
fi
grep -q "interrupted by SIGHUP" "$work/hup.err" || { echo "FAIL: no SIGHUP notice"; cat "$work/hup.err"; fail=1; }
"${PYTHON3:-python3}" - "$work/hup.out" "$work/hup.json" <<'PY' || fail=1
import json, sys
for path in sys.argv[1:]:
    d = json.load(open(path))
    st = {n["id"]: (n["status"], n["skip_reason"]) for n in d["nodes"]}
    if not (d["interrupted"] and st["quick"][0] == "OK" and
            st["after_long"] == ("SKIPPED", "interrupted by SIGHUP")):
        print(f"FAIL: {path}: {st}")
        sys.exit(1)
PY

# A second signal leaves at once, and kills the process groups of the
# commands still running first: here one that ignores SIGTERM (and its
# children with it), within a long kill_grace.
stubborn="assay-signal-stubborn-$$"
cat >"$work/stubborn.toml" <<TOML
[plugins]
load = ["exec"]

[check.stubborn]
type = "exec"
command = ["sh", "-c", "trap '' TERM; sh -c 'sleep 300; :' $stubborn-bg & while :; do sleep 1; done", "$stubborn"]
kill_grace = "60s"
TOML
"$top_builddir/assay" run "$work/stubborn.toml" >"$work/st.out" 2>"$work/st.err" &
pid=$!
sleep 1
kill -HUP "$pid"
sleep 0.5
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 130 ] || { echo "FAIL: exit status $rc after a second signal (want 130)"; fail=1; }
sleep 0.5
if pgrep -f "$stubborn" >/dev/null; then
	echo "FAIL: children outlived assay:"; pgrep -af "$stubborn"
	pkill -KILL -f "$stubborn"; fail=1
fi
[ "$fail" -eq 0 ] && echo "signals: 10 passed, 0 failed"
exit "$fail"
