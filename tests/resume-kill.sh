#!/bin/sh
# resume-kill.sh -- the kill -9 harness: a validation of 400 items, each
# appending its item to a side-effect log, killed with SIGKILL at several
# random points and resumed each time with --resume, then to the end.  It
# holds when every item ran; the items the last run reused never ran in
# it; what ran more than once is bounded by the executions in flight at
# each kill; each resume reuses at least what the one before did; and the
# final report equals an uninterrupted run's but for times and the
# resumed flags.  Then the same for a DAG of checks whose middle node
# changes between the kill and the resume: it and its dependents rerun,
# the others are reused.
set -u
# Heavy: once per CI run, in the plain build, not again under each sanitizer.
if grep -qa -e __asan_init -e __tsan_init "$top_builddir/assay"; then
	echo "resume-kill: a sanitizer build: skipped (the plain build runs it)"
	exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
assay="$top_builddir/assay"
py=${PYTHON3:-python3}
fail=0
say() { echo "FAIL: $*"; fail=1; }
jobs=16
kills=4
cd "$work" || exit 1

seq 400 | sed 's/^/item/' >items.txt
cat >v.toml <<'TOML'
[runner]
state_dir = "state"
jobs = 16

[plugins]
load = ["exec"]

[validation.v]
type = "exec"
command = ["sh", "-c", "echo \"$0\" >>log; sleep 0.2", "{item}"]
items = { file = "items.txt" }
TOML

# The uninterrupted run to compare with, in a state dir of its own.
sed 's/^state_dir = "state"$/state_dir = "state-ref"/' v.toml >ref.toml
"$assay" run ref.toml --format json >ref.json 2>/dev/null
: >log

# Kill it $kills times at random points, resuming each time.
reused_before=0
i=0
while [ $i -lt $kills ]; do
	if [ $i -eq 0 ]; then
		"$assay" run v.toml --format json >/dev/null 2>err &
	else
		"$assay" run v.toml --resume --explain --format json >/dev/null 2>err &
	fi
	pid=$!
	sleep "0.$(( $(od -An -N1 -tu1 /dev/urandom) % 6 + 3 ))" # 0.3 .. 0.8 s
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	if [ $i -gt 0 ]; then
		reused=$(sed -n 's/^assay: explain: v: reuses \([0-9,]*\) of 400 items.*/\1/p' err | tr -d ,)
		[ -n "$reused" ] || { say "kill $i: no explain line for v"; cat err; }
		[ "${reused:-0}" -ge "$reused_before" ] ||
			say "kill $i: reused $reused items, fewer than the $reused_before before"
		reused_before=${reused:-0}
	fi
	i=$((i + 1))
done
sleep 0.3 # what was in flight finishes writing its line
lines_before=$(wc -l <log)
"$assay" run v.toml --resume --explain --format json >final.json 2>err || true
grep -q "^assay: explain: v: reuses [0-9,]* of 400 items" err ||
	grep -q "^assay: explain: v: reused: all 400 items" err || { say "final explain"; cat err; }

"$py" - log final.json ref.json "$lines_before" "$jobs" "$kills" <<'PY' || fail=1
import collections, json, sys
log, final, ref, before, jobs, kills = sys.argv[1:]
lines = open(log).read().split()
runs = collections.Counter(lines)
items = ["item%d" % i for i in range(1, 401)]
bad = False
def fail(msg):
    global bad
    print("FAIL:", msg)
    bad = True
missing = [i for i in items if runs[i] == 0]
if missing:
    fail("items never ran: %s" % missing[:10])
repeats = sum(c - 1 for c in runs.values())
# Each kill repeats at most what was in flight: the jobs running, and the
# items that ended but whose final record the kill beat.
if repeats > int(jobs) * int(kills):
    fail("%d repeated executions for %s kills of %s jobs" % (repeats, kills, jobs))
f, r = json.load(open(final)), json.load(open(ref))
v = f["nodes"][0]
last_run = collections.Counter(lines[int(before):])
for item in v["items"]:
    if item.get("resumed") and last_run[item["item"]]:
        fail("%s was reused and ran again in the last run" % item["item"])
resumed = sum(1 for item in v["items"] if item.get("resumed"))
if resumed == 0:
    fail("the last run reused nothing")
def shape(report):
    out = []
    for n in report["nodes"]:
        out.append((n["id"], n["status"], n["message"]))
        for item in n.get("items", []):
            out.append((item["item"], item["status"], item["message"], item["attempts"]))
    return out
if shape(f) != shape(r):
    fail("the final report differs from an uninterrupted run's")
print("# %d repeated executions over %s kills; the last run reused %d of 400 items"
      % (repeats, kills, resumed))
sys.exit(1 if bad else 0)
PY

# A DAG of checks: a <- b <- c, a <- d; killed while c runs; b changes.
dag() { # $1: b's extra argument
	cat >d.toml <<TOML
[runner]
state_dir = "state"

[plugins]
load = ["exec"]

[check.a]
type = "exec"
command = ["sh", "-c", "echo a >>dlog"]

[check.b]
type = "exec"
command = ["sh", "-c", "echo b >>dlog", "$1"]
after = ["a"]

[check.c]
type = "exec"
command = ["sh", "-c", "echo c >>dlog; [ -e c.done ] || exec sleep 30"]
after = ["b"]

[check.d]
type = "exec"
command = ["sh", "-c", "echo d >>dlog"]
after = ["a"]
TOML
}
dag one
"$assay" run d.toml --format json >/dev/null 2>/dev/null &
pid=$!
for _ in $(seq 100); do grep -q c dlog 2>/dev/null && break; sleep 0.1; done
sleep 0.2
kill -9 "$pid"
wait "$pid" 2>/dev/null
: >dlog
touch c.done
dag two
"$assay" run d.toml --resume --explain --format json >d.json 2>err
[ "$(sort dlog | tr '\n' ' ')" = "b c " ] || { say "the DAG's resume ran: $(sort dlog | tr '\n' ' ')"; cat err; }
grep -q "^assay: explain: b: reruns: its definition changed: command " err || { say "explain b"; cat err; }
grep -q "^assay: explain: c: reruns: dependency \`b\` reruns\$" err || say "explain c"
grep -q "^assay: explain: d: reused: OK in run " err || say "explain d"
"$py" - d.json <<'PY' || fail=1
import json, sys
n = {x["id"]: x for x in json.load(open(sys.argv[1]))["nodes"]}
want = {"a": True, "b": False, "c": False, "d": True}
got = {k: bool(n[k].get("resumed")) for k in want}
if got != want or any(x["status"] != "OK" for x in n.values()):
    print("FAIL: resumed flags %s, want %s" % (got, want))
    sys.exit(1)
PY
exit $fail
