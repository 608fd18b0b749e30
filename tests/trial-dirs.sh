#!/bin/sh
# trial-dirs.sh -- integration: the state dir and the trials' directories.
# A sweep whose trials write into {trial_dir} and read $ASSAY_METRICS: the
# tree (state dir relative to the config, one directory per config, one
# per run, one per trial with escaped names), params.json, result.json,
# {seed}; a retry removes the last attempt's metrics.jsonl; keep_runs across runs; a state
# dir that cannot be made (its message, exit 78); no state dir for
# --dry-run or a plan without trials; {trial_dir} refused for a check.
set -u
a="$top_builddir/assay"
py=${PYTHON3:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
check() { # check DESCRIPTION COMMAND...: the command must succeed
	what=$1
	shift
	"$@" || { echo "FAIL: $what"; fail=1; }
}
mkdir "$work/conf"
cat >"$work/conf/sweep.toml" <<'TOML'
[runner]
state_dir = "state"   # relative: to this file's directory, not the cwd

[plugins]
load = ["exec"]

[trial.lr]
type = "exec"
shell = true
matrix = { lr = [0.1, "a/b", "1e-3", ".."] }
command = '''
printf '%s\n' "$ASSAY_METRICS" >{trial_dir}/metrics_path
printf '%s\n' "$ASSAY_TRIAL_DIR" >{trial_dir}/trial_dir_env
printf '%s\n' {trial_dir} >{trial_dir}/trial_dir
printf 'seed=%s\n' {seed} >{trial_dir}/seed
echo '{"step": 1, "accuracy": 0.5}' >>"$ASSAY_METRICS"
echo "ok | acc=0.5"
'''

# A retry: the first attempt fails after writing a metric line.
[trial.retry]
type = "exec"
shell = true
retries = 2
retry_delay = "1ms"
command = '''
n=$(cat {trial_dir}/n 2>/dev/null || echo 0); n=$((n + 1)); echo $n >{trial_dir}/n
echo "{\"attempt\": $n}" >>"$ASSAY_METRICS"
[ $n -ge 2 ] || { echo "attempt $n fails"; exit 2; }
echo "ok"
'''
TOML
# From another directory: state_dir is the file's, not the cwd's.
(cd / && "$a" run "$work/conf/sweep.toml" --format json >"$work/out.json" 2>"$work/err")
rc=$?
check "the sweep runs (exit $rc: $(cat "$work/err"))" [ "$rc" -eq 0 ]
check "the state dir is made beside the config" [ -d "$work/conf/state" ]
check "the state dir is 0700" [ "$(stat -c %a "$work/conf/state")" = 700 ]
"$py" - "$work" <<'PY' || fail=1
import json, os, re, sys
work = sys.argv[1]
state = os.path.join(work, "conf", "state")
bad = []
def want(cond, what):
    if not cond:
        bad.append(what)
confs = os.listdir(state)
want(len(confs) == 1 and re.fullmatch(r"sweep-[0-9a-f]{16}", confs[0]), "one dir per config: %r" % confs)
runs = os.listdir(os.path.join(state, confs[0], "runs"))
want(len(runs) == 1 and re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{4}", runs[0]), "one run dir: %r" % runs)
run = os.path.join(state, confs[0], "runs", runs[0])
names = {"lr[lr=0.1]": "lr[lr=0.1]", "lr[lr=a/b]": "lr[lr=a%2Fb]",
         "lr[lr=1e-3]": "lr[lr=1e-3]", "lr[lr=..]": "lr[lr=..]", "retry": "retry"}
want(sorted(os.listdir(run)) == sorted(names.values()), "trial dirs: %r" % sorted(os.listdir(run)))
for tid, name in names.items():
    d = os.path.join(run, name)
    if not os.path.isdir(d):
        continue
    p = json.load(open(os.path.join(d, "params.json")))
    r = json.load(open(os.path.join(d, "result.json")))
    want(p["id"] == tid, "%s: params id %r" % (tid, p["id"]))
    point = list(names).index(tid) if tid != "retry" else 0
    want(p["seed"] == 0 and p["point"] == point, "%s: seed/point %r" % (tid, p))
    want(r["id"] == tid and r["status"] == "OK" and r["pruned"] is False, "%s: result %r" % (tid, r))
    want(r["start"] and r["end"] and r["duration"] >= 0, "%s: times %r" % (tid, r))
    if tid == "retry":
        want(p["sweep"] == "retry" and p["params"] == {}, "retry params %r" % p)
        want(r["attempts"] == 2, "retry attempts %r" % r)
        # The retry emptied the first attempt's line.
        want(open(os.path.join(d, "metrics.jsonl")).read() == '{"attempt": 2}\n',
             "metrics.jsonl after a retry: %r" % open(os.path.join(d, "metrics.jsonl")).read())
        continue
    want(p["sweep"] == "lr", "%s: sweep %r" % (tid, p["sweep"]))
    # perfdata and the $ASSAY_METRICS line: both channels' final values
    want(r["metrics"] == {"acc": 0.5, "accuracy": 0.5}, "%s: metrics %r" % (tid, r["metrics"]))
    want(r["attempts"] == 1 and r["message"] == "ok", "%s: %r" % (tid, r))
    lines = {f: open(os.path.join(d, f)).read() for f in ("metrics_path", "trial_dir_env", "trial_dir", "seed")}
    want(lines["trial_dir"] == d + "\n" and lines["trial_dir_env"] == d + "\n",
         "%s: {trial_dir} and $ASSAY_TRIAL_DIR: %r" % (tid, lines))
    want(lines["metrics_path"] == os.path.join(d, "metrics.jsonl") + "\n", "%s: $ASSAY_METRICS %r" % (tid, lines))
    want(lines["seed"] == "seed=0\n", "%s: {seed} %r" % (tid, lines["seed"]))
    want(open(os.path.join(d, "metrics.jsonl")).read() == '{"step": 1, "accuracy": 0.5}\n', "%s: metrics.jsonl" % tid)
params = {}
for tid, name in names.items():
    try:
        params[tid] = json.load(open(os.path.join(run, name, "params.json")))["params"]
    except OSError:
        pass
# A number's text is a JSON number, anything else a string.
want(params.get("lr[lr=0.1]") == {"lr": 0.1}, "params 0.1: %r" % params.get("lr[lr=0.1]"))
want(params.get("lr[lr=1e-3]") == {"lr": 0.001}, "params 1e-3: %r" % params.get("lr[lr=1e-3]"))
want(params.get("lr[lr=a/b]") == {"lr": "a/b"}, "params a/b: %r" % params.get("lr[lr=a/b]"))
for b in bad:
    print("FAIL: " + b)
sys.exit(1 if bad else 0)
PY

# {seed} of repeats where part A's expansion gives them; an axis named
# seed is the axis.
cat >"$work/conf/axis.toml" <<'TOML'
[runner]
state_dir = "state"
[plugins]
load = ["exec"]
[trial.s]
type = "exec"
command = ["sh", "-c", "echo {seed} >\"$ASSAY_TRIAL_DIR/seed\""]
matrix = { seed = [7] }

# The directory exists before the command: it may run there.
[trial.cwd]
type = "exec"
cwd = "{trial_dir}"
command = ["sh", "-c", "pwd >here"]
TOML
"$a" run "$work/conf/axis.toml" >/dev/null 2>"$work/err"
check "an axis named seed runs: $(cat "$work/err")" [ $? -eq 0 ]
check "an axis named seed is {seed}" [ "$(cat "$work"/conf/state/axis-*/runs/*/s*/seed)" = 7 ]
d=$(ls -d "$work"/conf/state/axis-*/runs/*/cwd)
check "cwd = {trial_dir} runs the command there" [ "$(cat "$d/here")" = "$d" ]

# A secret parameter is never a file name, nor in params.json.
cat >"$work/conf/secret.toml" <<'TOML'
[runner]
state_dir = "state"
[plugins]
load = ["exec"]
[trial.s]
type = "exec"
command = ["true"]
matrix = { tok = ["${env:TRIAL_DIRS_SECRET}", "plain"] }
TOML
TRIAL_DIRS_SECRET=hunter2-trial "$a" run "$work/conf/secret.toml" >/dev/null 2>"$work/err"
check "a sweep with a secret parameter runs: $(cat "$work/err")" [ $? -eq 0 ]
check "no file name holds the secret" [ -z "$(find "$work/conf/state" | grep hunter2)" ]
check "no params.json holds the secret" [ -z "$(grep -rl hunter2 "$work/conf/state")" ]
check "the secret trial's directory is its id, which the plan masked" \
	[ "$(ls "$work"/conf/state/secret-*/runs/*/ | tr '\n' ' ')" = "s[tok=%2A%2A%2A] s[tok=plain] " ]

# keep_runs: after each run, the newest keep_runs (the current among them).
cat >"$work/conf/keep.toml" <<'TOML'
[runner]
state_dir = "state"
keep_runs = 2
[plugins]
load = ["exec"]
[trial.k]
type = "exec"
command = ["sh", "-c", "echo \"$ASSAY_TRIAL_DIR\" >>\"$0\"", "KEEP_LOG"]
TOML
sed -i "s|KEEP_LOG|$work/dirs|" "$work/conf/keep.toml"
for i in 1 2 3 4; do
	"$a" run "$work/conf/keep.toml" >/dev/null 2>>"$work/err" || { echo "FAIL: keep run $i"; fail=1; }
	n=$(ls "$work"/conf/state/keep-*/runs | wc -l)
	want=$i
	[ "$want" -le 2 ] || want=2
	check "after run $i, $want runs kept (found $n)" [ "$n" -eq "$want" ]
	last=$(tail -n 1 "$work/dirs")
	check "run $i: the current run is kept" [ -d "$last" ]
done
check "the two newest runs are kept" \
	[ "$(tail -n 2 "$work/dirs" | sed 's|/k$||' | sort | tr '\n' ' ')" = \
	  "$(ls -d "$work"/conf/state/keep-*/runs/* | sort | tr '\n' ' ')" ]
# Something that is no run's: never removed.
d=$(ls -d "$work"/conf/state/keep-*)
mkdir "$d/runs/my-notes"
"$a" run "$work/conf/keep.toml" >/dev/null 2>&1
check "keep_runs leaves what is not a run" [ -d "$d/runs/my-notes" ]

# A state dir that cannot be made: its name and why, exit 78, nothing runs.
: >"$work/file"
cat >"$work/conf/bad.toml" <<TOML
[runner]
state_dir = "$work/file/state"
[plugins]
load = ["exec"]
[trial.t]
type = "exec"
command = ["touch", "$work/ran"]
TOML
"$a" run "$work/conf/bad.toml" >"$work/out" 2>"$work/err"
rc=$?
check "an unwritable state dir exits 78 (got $rc)" [ "$rc" -eq 78 ]
check "the message names the directory and why: $(cat "$work/err")" \
	[ "$(cat "$work/err")" = "assay: state dir $work/file: cannot create: Not a directory; set [runner] state_dir or \$STATE_DIRECTORY" ]
check "nothing ran" [ ! -e "$work/ran" ]
# The same through $STATE_DIRECTORY.
sed -i '/^\[runner\]/,/^state_dir/d' "$work/conf/bad.toml"
STATE_DIRECTORY="$work/file/sd:/elsewhere" "$a" run "$work/conf/bad.toml" >"$work/out" 2>"$work/err"
rc=$?
check "\$STATE_DIRECTORY unwritable exits 78 (got $rc)" [ "$rc" -eq 78 ]
check "\$STATE_DIRECTORY's first entry is named: $(cat "$work/err")" \
	grep -q "state dir $work/file: cannot create: Not a directory" "$work/err"
# --dry-run, and a plan without trials, make nothing.
STATE_DIRECTORY="$work/dry" "$a" run --dry-run "$work/conf/bad.toml" >/dev/null 2>&1
check "--dry-run makes no state dir" [ ! -e "$work/dry" ]
cat >"$work/conf/checks.toml" <<'TOML'
[plugins]
load = ["exec"]
[check.c]
type = "exec"
command = ["true"]
TOML
STATE_DIRECTORY="$work/none" "$a" run "$work/conf/checks.toml" >/dev/null 2>&1
check "a plan without trials makes its config's dir (the run lock, the journal)" \
	[ -d "$work/none"/checks-* ]
check "a plan without trials makes no runs/" [ ! -e "$work/none"/checks-*/runs ]

# {trial_dir} and {seed} are a trial's.
cat >"$work/conf/check-dir.toml" <<'TOML'
[plugins]
load = ["exec"]
[check.c]
type = "exec"
command = ["ls", "{trial_dir}"]
TOML
"$a" run "$work/conf/check-dir.toml" >/dev/null 2>"$work/err"
rc=$?
check "{trial_dir} in a check is a configuration error (got $rc)" [ "$rc" -eq 78 ]
check "it says so: $(cat "$work/err")" grep -q 'unknown placeholder `{trial_dir}`: only a trial has {trial_dir} and {seed}' "$work/err"
exit $fail
