#!/bin/sh
# resume.sh -- integration: the journal and what --resume, --rerun-failed
# and --explain make of it: nothing to resume after a finished run (said,
# everything runs); --rerun-failed reruns what was not OK (WARNING too) and
# what depends on it, reuses the rest, marked resumed in the reports with
# the run it came from; --explain's line per node (also with --dry-run,
# which runs, kills and writes nothing); a killed run resumed (what it
# left running killed first, with SIGKILL when it ignores SIGTERM; in
# flight reruns, finished is reused), a stopped one too; a changed node
# reruns with its
# dependents and --explain names the option; resume_max_age; [runner]
# journal = false writes nothing; a journal of another config is not
# reused; the usage errors.
set -u
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
assay="$top_builddir/assay"
fail=0
say() { echo "FAIL: $*"; fail=1; }
# Whether process $1 runs (a zombie does not: it waits for a reaper).
running() { [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat"; }

# a <- b, c (CRITICAL) <- d, w (WARNING), v (3 items, one CRITICAL).
config() { # $1: b's extra argument
	cat >"$work/r.toml" <<TOML
[runner]
state_dir = "state"

[plugins]
load = ["exec"]

[check.a]
type = "exec"
command = ["sh", "-c", "echo a >>log"]

[check.b]
type = "exec"
command = ["sh", "-c", "echo b >>log", "$1"]
after = ["a"]

[check.c]
type = "exec"
command = ["sh", "-c", "echo c >>log; exit 2"]

[check.d]
type = "exec"
command = ["sh", "-c", "echo d >>log"]
after = ["c"]
run_if = "always"

[check.w]
type = "exec"
command = ["sh", "-c", "echo w >>log; echo WARNING: w; exit 1"]
convention = "monitoring-plugins"

[validation.v]
type = "exec"
command = ["sh", "-c", "echo v:\$0 >>log; [ \$0 != bad ]", "{item}"]
items = { list = ["good1", "bad", "good2"] }
TOML
}

# The log's lines since the last call, sorted, on one line.
ran() {
	sort "$work/log" | tr '\n' ' '
	: >"$work/log"
}

# Node `id`'s field in JSON report $1 (items: id/item).
field() {
	"${PYTHON3:-python3}" - "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
node, _, item = sys.argv[2].partition("/")
n = next(n for n in d["nodes"] if n["id"] == node)
if item:
    n = next(i for i in n["items"] if i["item"] == item)
print(n.get(sys.argv[3], "-"))
PY
}

cd "$work" || exit 1
config x
: >log

# 1. A fresh run, then --resume: nothing to resume, everything runs.
"$assay" run r.toml --format json >r1.json 2>err
[ -s state/r-*/journal ] || say "no journal after a run"
[ -s state/r-*/key ] || say "no key after a run"
for f in key journal nodes; do
	[ "$(stat -c %a state/r-*/$f)" = 600 ] || say "$f's mode is $(stat -c %a state/r-*/$f), not 600"
done
run1=$("${PYTHON3:-python3}" -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' r1.json)
[ "$(ran)" = "a b c d v:bad v:good1 v:good2 w " ] || say "first run ran the wrong things"
"$assay" run r.toml --resume --format json >r2.json 2>err
grep -q "assay: nothing to resume: the last run of r.toml ($run1) finished at .*; running everything" err ||
	{ say "--resume after a finished run:"; cat err; }
[ "$(ran)" = "a b c d v:bad v:good1 v:good2 w " ] || say "--resume after a finished run did not run everything"
[ "$(field r2.json a resumed)" = "-" ] || say "a fresh run's result marked resumed"
run2=$("${PYTHON3:-python3}" -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' r2.json)

# 2. --rerun-failed --explain: c, w, d (after c), v's bad item rerun.
"$assay" run r.toml --rerun-failed --explain --format json --report csv:r3.csv >r3.json 2>err
got=$(ran)
[ "$got" = "c d v:bad w " ] || { say "--rerun-failed ran: $got"; cat err; }
grep -q "^assay: explain: a: reused: OK in run $run2 at " err || { say "explain a"; cat err; }
grep -q "^assay: explain: b: reused: OK in run $run2 at " err || say "explain b"
grep -q "^assay: explain: c: reruns: CRITICAL in run $run2\$" err || { say "explain c"; cat err; }
grep -q "^assay: explain: d: reruns: dependency \`c\` reruns\$" err || say "explain d"
grep -q "^assay: explain: w: reruns: WARNING in run $run2 (--rerun-failed reruns what was not OK)\$" err ||
	say "explain w"
grep -q "^assay: explain: v: reuses 2 of 3 items; 1 rerun (1 not OK or too old)\$" err ||
	{ say "explain v"; cat err; }
[ "$(field r3.json a resumed)" = True ] || say "a not marked resumed"
[ "$(field r3.json a resumed_from)" = "$run2" ] || say "a resumed_from $(field r3.json a resumed_from)"
[ "$(field r3.json c resumed)" = "-" ] || say "c, which reran, marked resumed"
[ "$(field r3.json v/good1 resumed)" = True ] || say "item good1 not marked resumed"
[ "$(field r3.json v/bad resumed)" = "-" ] || say "item bad marked resumed"
[ "$(field r3.json v resumed)" = "-" ] || say "v, partly rerun, marked resumed"
[ "$(field r3.json a status)" = OK ] && [ "$(field r3.json c status)" = CRITICAL ] ||
	say "statuses after --rerun-failed"
tr -d '\r' <r3.csv | grep -q "^a,check,,OK,.*,$run2\$" || { say "csv lacks a's resumed_from"; cat r3.csv; }
tr -d '\r' <r3.csv | grep -q "^c,check,,CRITICAL,.*,,\$" || say "csv: c has a resumed_from"
"$assay" run r.toml --rerun-failed --format human >r3.txt 2>err
grep -q "^OK .*a .*(resumed from $run2)" r3.txt || { say "human report lacks (resumed from)"; cat r3.txt; }
: >log

# 3. A run killed: what finished is reused, what was in flight reruns;
# what it left running (its child ignores SIGTERM) is killed first.
touch stubborn
cat >>r.toml <<'TOML'

[check.slow]
type = "exec"
command = ["sh", "-c", "echo slow >>log; [ -e slow.done ] || { [ -e stubborn ] && trap '' TERM; echo $$ >slow.pid; exec sleep 30; }"]
after = ["a"]
TOML
"$assay" run r.toml --format json >/dev/null 2>err &
pid=$!
for _ in $(seq 100); do grep -q slow log 2>/dev/null && break; sleep 0.1; done
sleep 0.3
kill -9 "$pid"
wait "$pid" 2>/dev/null
orphan=$(cat slow.pid)
running "$orphan" || say "the killed run's child is gone already"
: >log
touch slow.done
config y
cat >>r.toml <<'TOML'

[check.slow]
type = "exec"
command = ["sh", "-c", "echo slow >>log; [ -e slow.done ] || { [ -e stubborn ] && trap '' TERM; echo $$ >slow.pid; exec sleep 30; }"]
after = ["a"]
TOML
# --dry-run: the same lines, nothing run, killed or written.
cp state/r-*/journal journal.before
"$assay" run r.toml --resume --explain --dry-run >/dev/null 2>err
grep -q "^assay: explain: slow: reruns: in flight when run .* was killed\$" err ||
	{ say "--dry-run --explain"; cat err; }
[ ! -s log ] || say "--dry-run ran: $(cat log)"
running "$orphan" || say "--dry-run killed what the killed run left running"
cmp -s journal.before state/r-*/journal || say "--dry-run wrote to the journal"
"$assay" run r.toml --resume --explain --format json >r4.json 2>err
got=$(ran)
[ "$got" = "b c d slow v:bad " ] || { say "--resume after a kill ran: $got"; cat err; }
grep -q "^assay: killing process group [0-9]* (check \`slow\`, attempt 1), left running by run " err ||
	{ say "--resume did not kill what the killed run left running"; cat err; }
grep -q "^assay: process group $orphan ignored SIGTERM: killed\$" err ||
	{ say "--resume did not say it killed $orphan with SIGKILL"; cat err; }
rm stubborn
! running "$orphan" || { say "the killed run's child $orphan survived --resume"; kill -9 "$orphan"; }
grep -q "^assay: explain: slow: reruns: in flight when run .* was killed\$" err ||
	{ say "explain slow"; cat err; }
grep -q "^assay: explain: b: reruns: its definition changed: command (key [0-9a-f]\{8\} was [0-9a-f]\{8\})\$" err ||
	{ say "explain b changed"; cat err; }
grep -q "^assay: explain: a: reused: OK in run " err || say "explain a after a kill"
[ "$(field r4.json a resumed)" = True ] || say "a not reused after a kill"

# 3b. A run stopped by SIGINT is resumed too (not "nothing to resume").
rm -f slow.done
"$assay" run r.toml --format json >/dev/null 2>err &
pid=$!
for _ in $(seq 100); do grep -q slow log 2>/dev/null && break; sleep 0.1; done
sleep 0.3
kill -INT "$pid"
wait "$pid"
: >log
touch slow.done
"$assay" run r.toml --resume --explain --format json >/dev/null 2>err
grep -q "nothing to resume" err && say "a stopped run was not resumed"
grep -q "^assay: explain: slow: reruns: \(UNKNOWN\|CRITICAL\) in run " err || { say "explain slow after SIGINT"; cat err; }
grep -q "^assay: explain: a: reused: OK in run " err || say "a not reused after SIGINT"
got=$(ran)
[ "$got" = "c d slow v:bad " ] || say "--resume after SIGINT ran: $got"

# 4. resume_max_age: what is older reruns.
sed -i 's/^state_dir = "state"$/state_dir = "state"\nresume_max_age = "1s"/' r.toml
sleep 1.2
"$assay" run r.toml --rerun-failed --explain --format json >/dev/null 2>err
grep -q "^assay: explain: a: reruns: older than resume_max_age (1s): it ended at .* in run " err ||
	{ say "resume_max_age"; cat err; }
grep -q "^a\$" log || say "a older than resume_max_age did not rerun"
: >log

# 5. A journal of another config is not reused.
config z
cp r.toml other.toml
"$assay" run other.toml --format json >/dev/null 2>&1
cp state/r-*/journal state/other-*/journal
: >log
"$assay" run other.toml --resume --format json >/dev/null 2>err
grep -q "^assay: journal" err || { say "no note on a journal of another config"; cat err; }
grep -q "nothing to resume" err || { say "another config's journal resumed"; cat err; }
got=$(ran)
[ "$got" = "a b c d v:bad v:good1 v:good2 w " ] || say "another config's journal was reused: $got"

# 6. [runner] journal = false: nothing written, --resume says so.
mkdir nojournal
sed 's/^state_dir = "state"$/state_dir = "state"\njournal = false/' r.toml >nojournal/n.toml
(cd nojournal && "$assay" run n.toml --format json >/dev/null 2>&1)
[ ! -e nojournal/state/n-*/journal ] || say "journal = false wrote a journal"
(cd nojournal && "$assay" run n.toml --resume --format json >/dev/null 2>../err)
grep -q "nothing to resume: \[runner\] journal is false in n.toml; running everything" err ||
	{ say "--resume with journal = false"; cat err; }

# 7. Usage errors.
"$assay" run r.toml --explain >/dev/null 2>err
[ $? -eq 64 ] && grep -q "give one of them" err || say "--explain alone is not a usage error"
"$assay" run r.toml --resume --rerun-failed >/dev/null 2>err
[ $? -eq 64 ] || say "--resume with --rerun-failed is not a usage error"
exit $fail
