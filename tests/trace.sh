#!/bin/sh
# trace.sh -- integration: --trace FILE writes a Chrome trace event file
# (JSON, as Perfetto and chrome://tracing load it): one complete event per
# attempt of every execution on at most `jobs` slot lanes that never
# overlap, a wait event for a resource wait and a backoff event for a
# retry on lanes of their own, no secret anywhere in it; a trace that
# cannot be written is an error naming the path, and never a partial file.
set -u
a="$top_builddir/assay"
py=${PYTHON3:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ASSAY_PLUGIN_PATH="$TEST_PLUGIN_DIR:$top_builddir/plugins/.libs"
ASSAY_TEST_SECRET='s3cret-Tr4ce-token'
export ASSAY_PLUGIN_PATH ASSAY_TEST_SECRET
fail=0
check() { # check DESCRIPTION COMMAND...: the command must succeed
	what=$1
	shift
	if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fail=1; fi
}

# Two nodes share one lane (one waits), one fails then fails again after
# a backoff, and a validation's items run three at a time, one of them a
# secret that its command prints.
cat >"$work/t.toml" <<'TOML'
[runner]
jobs = 3

[plugins]
load = ["exec", "lanes"]

[plugins.lanes]
lanes = 1

[check.hold_a]
type = "exec"
command = ["sleep", "0.3"]
resources = { lane = 1 }

[check.hold_b]
type = "exec"
command = ["sleep", "0.3"]
resources = { lane = 1 }

[check.flaky]
type = "exec"
command = ["sh", "-c", "echo \"failing with $T\"; exit 2", "x"]
env = { T = "${env:ASSAY_TEST_SECRET}" }
retries = 1
retry_delay = "200ms"

[validation.v]
type = "exec"
command = ["sh", "-c", "sleep 0.05; echo \"item $0\"", "{item}"]
items = { list = ["one", "two", "three", "four", "five", "${env:ASSAY_TEST_SECRET}"] }
TOML
"$a" run "$work/t.toml" --trace "$work/t.json" >"$work/out" 2>"$work/err"
rc=$?
check "the run ends CRITICAL, as flaky does (exit $rc)" [ "$rc" -eq 2 ]
check "with nothing on stderr: $(cat "$work/err")" [ ! -s "$work/err" ]
check "the trace is valid JSON" "$py" -m json.tool "$work/t.json" /dev/null
check "the trace holds what the run did" "$py" - "$work/t.json" 3 <<'PY'
import json, sys
from collections import defaultdict
d = json.load(open(sys.argv[1]))
jobs = int(sys.argv[2])
ev = d["traceEvents"]
x = [e for e in ev if e["ph"] == "X"]
runs = [e for e in x if e["cat"] in ("check", "trial", "validation")]
bad = []
def want(cond, what):
    if not cond:
        bad.append(what)
# One X event per attempt: hold_a, hold_b, flaky twice, six items.
att = sorted((e["args"]["node"], e["args"].get("item", ""), e["args"]["attempt"]) for e in runs)
want(len(runs) == 10, f"10 attempts, got {len(runs)}: {att}")
want([a for a in att if a[0] == "flaky"] == [("flaky", "", 1), ("flaky", "", 2)], f"flaky's two attempts: {att}")
want(sum(a[0] == "v" for a in att) == 6, f"six items: {att}")
for e in runs:
    want(e["pid"] == 1 and 1 <= e["tid"] <= jobs, f"a slot lane within jobs: {e}")
    want(all(k in e["args"] for k in ("node", "attempt", "status", "message")), f"args: {e}")
    want(e["dur"] >= 0 and e["ts"] >= 0, f"times: {e}")
# Lanes never overlap in time.
lanes = defaultdict(list)
for e in x:
    lanes[(e["pid"], e["tid"])].append((e["ts"], e["ts"] + e["dur"], e["name"]))
for lane, spans in lanes.items():
    spans.sort()
    for (s0, e0, n0), (s1, e1, n1) in zip(spans, spans[1:]):
        want(s1 >= e0 - 0.0005, f"lane {lane}: {n0} [{s0}, {e0}] overlaps {n1} [{s1}, {e1}]")
# A wait for the lane, a backoff before flaky's retry, on lanes apart.
waits = [e for e in x if e["cat"] == "wait"]
backoffs = [e for e in x if e["cat"] == "backoff"]
want(len(waits) == 1 and waits[0]["args"]["node"] in ("hold_a", "hold_b") and
     "lane" in waits[0]["args"].get("for", ""), f"one wait for the lane: {waits}")
want(len(waits) == 1 and waits[0]["dur"] >= 200000, f"the wait lasts while the other holds it: {waits}")
want(len(backoffs) == 1 and backoffs[0]["args"]["node"] == "flaky" and
     backoffs[0]["args"]["attempt"] == 2, f"one backoff, before flaky's attempt 2: {backoffs}")
want(all(e["pid"] == 2 for e in waits + backoffs), "waits and backoffs on the waits' lanes")
f1, f2 = sorted((e for e in runs if e["args"]["node"] == "flaky"), key=lambda e: e["ts"])
b = backoffs[0] if backoffs else {"ts": 0, "dur": 0}
want(abs(b["ts"] - (f1["ts"] + f1["dur"])) < 1 and abs(b["ts"] + b["dur"] - f2["ts"]) < 1,
     f"the backoff spans from attempt 1's end to attempt 2's start: {f1} {b} {f2}")
want(f1["args"]["status"] == "CRITICAL" and "failing with ***" in f1["args"]["message"],
     f"an attempt's status and masked message: {f1}")
# Lanes are named, and the totals agree.
names = {(e["pid"], e["tid"]): e["args"]["name"] for e in ev if e["name"] == "thread_name"}
want(names.get((1, 1)) == "slot 1" and names.get((2, 1)) == "wait 1", f"lane names: {names}")
want(max(t for p, t in names if p == 1) <= jobs, f"at most {jobs} slot lanes: {names}")
o = d["otherData"]
want(o["attempts"] == 10 and o["waits"] == 1 and o["backoffs"] == 1, f"totals: {o}")
want(d["displayTimeUnit"] == "ms", "displayTimeUnit")
print("\n".join("  " + b for b in bad) or "  10 attempts on %d slots, 1 wait, 1 backoff" %
      len({t for p, t in names if p == 1}))
sys.exit(1 if bad else 0)
PY
check "no secret in the trace, whole or in part" "$py" - "$work/t.json" <<'PY'
import sys
text = open(sys.argv[1], encoding="utf-8").read()
secret = "s3cret-Tr4ce-token"
leaks = [secret[i:i + 4] for i in range(len(secret) - 3) if secret[i:i + 4] in text]
print("  leaked: %s" % leaks if leaks else "  clean")
sys.exit(1 if leaks else 0)
PY

# The human summary says where the time went: a validation's and a
# group's wall time beside the sum of their parts, and the critical
# path's nodes by their actual durations.
cat >"$work/time.toml" <<'TOML'
[runner]
jobs = 8

[plugins]
load = ["exec"]

[check.gcp.first]
type = "exec"
command = ["sleep", "0.3"]

[check.gcp.second]
type = "exec"
command = ["sleep", "0.2"]
after = ["gcp.first"]

[check.gcp.beside]
type = "exec"
command = ["true"]

[validation.solvers]
type = "exec"
command = ["sleep", "0.2"]
items = { list = ["1", "2", "3", "4", "5", "6", "7", "8"] }
after = ["gcp"]

[trial.sw]
type = "exec"
command = ["sleep", "{t}"]
matrix = { t = ["0.1", "0.1", "0.1"] }
TOML
"$a" run "$work/time.toml" >"$work/time.out" 2>&1
rc=$?
check "the timed run is OK ($rc)" [ "$rc" -eq 0 ]
check "solvers: 8 items in about 0.2 s, about 8 x that summed" \
	grep -Eqx "solvers: 8 items in 0\.[2-4][0-9]s \(sum 1\.[6-9][0-9]s, [4-8]\.[0-9]x\)" "$work/time.out"
check "gcp: 3 nodes in about 0.5 s, about that summed" \
	grep -Eqx "gcp: 3 nodes in 0\.[5-7][0-9]s \(sum 0\.[5-7][0-9]s, 1\.[0-9]x\)" "$work/time.out"
check "sw: 3 trials in about 0.1 s, about 0.3 s summed" \
	grep -Eqx "sw: 3 trials in 0\.[0-9]{2}s \(sum 0\.[3-4][0-9]s, [0-9.]+x\)" "$work/time.out"
check "critical path: gcp.first -> gcp.second -> solvers" \
	grep -Eqx "critical path: gcp\.first -> gcp\.second -> solvers \(0\.[7-9][0-9]s of 0\.[7-9][0-9]s wall\)" \
	"$work/time.out"
grep -q "critical path" "$work/time.out" || cat "$work/time.out"

# A trace into a directory that does not exist: a usage error before
# anything runs.
cat >"$work/side.toml" <<TOML
[plugins]
load = ["exec"]

[check.side]
type = "exec"
command = ["sh", "-c", "touch '$work/ran'; sleep 1"]
TOML
"$a" run "$work/side.toml" --trace "$work/nodir/t.json" >/dev/null 2>"$work/err"
rc=$?
check "--trace into a missing directory exits 64 (got $rc): $(cat "$work/err")" [ "$rc" -eq 64 ] &&
	grep -q "^assay: run: --trace $work/nodir/t.json: cannot create files in $work/nodir" "$work/err"
check "and nothing ran" [ ! -e "$work/ran" ]

# The directory goes away while the run runs: the trace cannot be
# written, which is said naming the path, and the run's status becomes
# UNKNOWN; nothing is left behind.
mkdir "$work/gone"
"$a" run "$work/side.toml" --trace "$work/gone/t.json" >/dev/null 2>"$work/err" &
pid=$!
n=0
while [ ! -e "$work/ran" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
rm -rf "$work/gone"
wait "$pid"
rc=$?
check "a trace that cannot be written makes the exit status 3 (got $rc)" [ "$rc" -eq 3 ]
check "naming the path: $(cat "$work/err")" grep -q "^assay: cannot write the trace.* to $work/gone/t.json: " "$work/err"

# Replaced atomically: an old trace stays whole until the new one is.
echo '{"old": true}' >"$work/old.json"
"$a" run "$work/side.toml" --trace "$work/old.json" >/dev/null 2>&1
check "an old trace is replaced by a whole new one" "$py" -c \
	'import json, sys; sys.exit(0 if "traceEvents" in json.load(open(sys.argv[1])) else 1)' "$work/old.json"
check "no temporary file is left" [ "$(ls "$work" | grep -c '\.tmp\.')" -eq 0 ]

# Written to a device in place: /dev/full cannot take it.
"$a" run "$work/side.toml" --trace /dev/full >/dev/null 2>"$work/err"
rc=$?
check "--trace /dev/full exits 3 (got $rc), naming it: $(cat "$work/err")" [ "$rc" -eq 3 ] &&
	grep -q "^assay: cannot write the trace.* to /dev/full: No space left on device" "$work/err"
exit "$fail"
