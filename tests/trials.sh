#!/bin/sh
# trials.sh -- integration: sweeps end to end through the assay binary,
# with a trainer whose accuracy follows a known curve
# (tests/data/trials/trainer.py): random search reproducible by its seed,
# repeats and {seed}, median and ASHA pruning deciding exactly what
# Optuna's rules decide (computed here, independently, from the curves,
# and checked against Optuna itself where it is installed), the target
# stopping new launches, max_failures stopping a failing sweep, metrics
# from all three channels, pruned trials in the JSON and CSV reports, the
# CSV read back by Python's csv module, and a node after a sweep using
# {best.PARAM}, {best.METRIC} and {best.trial_dir}.
#
# The trials of one sweep run with max_parallel = 1 wherever a decision
# depends on the order trials end in: such a sweep's trials start in
# declaration order, however many pool threads there are.
set -u
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
a="$top_builddir/assay"
py=${PYTHON3:-python3}
trainer="$top_srcdir/tests/data/trials/trainer.py"
fail=0 passed=0
ok() { passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; fail=1; }

# preamble: the start of every config: its own state dir, the exec plugin,
# and four pool threads (a sweep's trials under max_parallel = 1 still
# start in declaration order).
preamble() {
	printf '[runner]\nstate_dir = "%s"\nworkers = 4\n\n[plugins]\nload = ["exec"]\n\n' "$work/state"
}

# run TAG CONFIG [OPTION...]: assay run CONFIG --format json into
# $work/TAG.json ($work/TAG.err), the exit status in $rc.
run() {
	tag=$1 config=$2
	shift 2
	"$a" run "$config" --format json "$@" >"$work/$tag.json" 2>"$work/$tag.err"
	rc=$?
}

# section NAME: the start of one part of this test.
section() {
	echo "-- $1"
}

# --- random search: the same seed, the same trials -------------------------

# search_conf SEED [KEY = VALUE]: a random search over a space crossed with
# a grid axis; SEED "" leaves the seed at its default.
search_conf() {
	preamble
	cat <<TOML
[trial.r]
type = "exec"
command = ["echo", "lr={lr} opt={opt} bs={bs}"]
space = { lr = { loguniform = [1e-5, 1e-1] }, opt = { choice = ["adam", "sgd"] } }
matrix = { bs = [32, 64] }
search = { method = "random", samples = 4${1:+, seed = $1} }
${2:-}
TOML
}

if section search; then
	for s in 7a:7 7b:7 8:8 da: db:; do
		search_conf "${s#*:}" >"$work/search-${s%%:*}.toml"
		run "search-${s%%:*}" "$work/search-${s%%:*}.toml"
		[ "$rc" -eq 0 ] || bad "random search, seed ${s#*:}: exit $rc: $(cat "$work/search-${s%%:*}.err")"
	done
	search_conf 7 "max_trials = 5" >"$work/search-cap.toml"
	run search-cap "$work/search-cap.toml"
	"$py" - "$work" <<'PY' && ok || bad "random search"
import json, math, sys
w = sys.argv[1]
def trials(tag):
    nodes = json.load(open(f"{w}/search-{tag}.json"))["nodes"]
    return [(n["id"], n["params"], n["message"]) for n in nodes if n.get("sweep") == "r"]
errs = []
runs = {t: trials(t) for t in ("7a", "7b", "8", "da", "db", "cap")}
for tag, ts in runs.items():
    want = 5 if tag == "cap" else 8
    if len(ts) != want:
        errs.append(f"seed {tag}: {len(ts)} trials, want {want} (4 samples x 2 bs)")
    if len({i for i, _, _ in ts}) != len(ts):
        errs.append(f"seed {tag}: ids not unique: {[i for i, _, _ in ts]}")
    for i, p, msg in ts:
        lr = float(p["lr"])
        if not 1e-5 <= lr <= 1e-1 or p["opt"] not in ("adam", "sgd") or str(p["bs"]) not in ("32", "64"):
            errs.append(f"{i}: parameters out of the space: {p}")
        # the command gets the full values, as the params hold them
        if msg != f"lr={p['lr']} opt={p['opt']} bs={p['bs']}":
            errs.append(f"{i}: the command got {msg!r}, the params say {p}")
        if not i.startswith("r[") or "lr=" not in i or "bs=" not in i:
            errs.append(f"{i}: not a readable id")
if runs["7a"] != runs["7b"]:
    errs.append(f"seed 7 twice, different trials:\n{runs['7a']}\n{runs['7b']}")
if runs["da"] != runs["db"]:
    errs.append("the default seed twice, different trials")
if [i for i, _, _ in runs["7a"]] == [i for i, _, _ in runs["8"]]:
    errs.append("seeds 7 and 8 drew the same trials")
if runs["cap"] != runs["7a"][:5]:
    errs.append(f"max_trials = 5 did not keep the first 5 trials: {runs['cap']}")
# a point is crossed with the grid: each sample appears once per bs
pts = {}
for i, p, _ in runs["7a"]:
    pts.setdefault((p["lr"], p["opt"]), set()).add(str(p["bs"]))
if len(pts) != 4 or any(v != {"32", "64"} for v in pts.values()):
    errs.append(f"samples not crossed with the grid: {pts}")
print("\n".join(errs) or "random search: reproducible by seed, crossed with the grid, capped")
sys.exit(1 if errs else 0)
PY
fi

# space without a random search is an error that says so.
if section search-errors; then
	{ preamble; printf '[trial.r]\ntype = "exec"\ncommand = ["true"]\nspace = { lr = { uniform = [0.0, 1.0] } }\n'; } \
		>"$work/nosearch.toml"
	out=$("$a" check-config "$work/nosearch.toml" 2>&1) && rc=0 || rc=$?
	[ "$rc" -eq 78 ] && echo "$out" | grep -q 'nosearch.toml:[0-9]*:[0-9]*:.*random' && ok ||
		bad "space without search: exit $rc: $out"
fi

# --- repeats: {seed} 0..K-1, consecutive ----------------------------------

if section repeat; then
	{
		preamble
		cat <<'TOML'
[trial.rep]
type = "exec"
command = ["echo", "x={x} seed={seed}"]
matrix = { x = [1, 2] }
repeat = 3
TOML
	} >"$work/repeat.toml"
	run repeat "$work/repeat.toml"
	"$py" - "$work/repeat.json" <<'PY' && ok || bad "repeat"
import json, sys
ts = [n for n in json.load(open(sys.argv[1]))["nodes"] if n.get("sweep") == "rep"]
got = [(str(n["params"]["x"]), n["message"]) for n in ts]
want = [(str(x), f"x={x} seed={s}") for x in (1, 2) for s in range(3)]
errs = []
if got != want:
    errs.append(f"repeats: {got}, want {want}")
for n, (x, s) in zip(ts, [(x, s) for x in (1, 2) for s in range(3)]):
    if not n["id"].endswith(f",seed={s}]") or n.get("seed", s) != s:
        errs.append(f"{n['id']}: seed {n.get('seed')}, want {s} at the end of the id and as seed")
print("\n".join(errs) or "repeat: each point 3 times, {seed} 0..2, consecutive")
sys.exit(1 if errs else 0)
PY
fi

# The best point is judged on the mean of its repeats: x=1 has the best
# single trial (0.9) but a mean of 0.7; x=2's mean is 0.75.
if section repeat-best; then
	{
		preamble
		cat <<'TOML'
[trial.rb]
type = "exec"
shell = true
command = 'case {x}{seed} in 10) a=0.9 ;; 11) a=0.5 ;; 20) a=0.74 ;; *) a=0.76 ;; esac; echo "ok | accuracy=$a"'
matrix = { x = [1, 2] }
repeat = 2
objective = { metric = "accuracy", goal = "max" }
TOML
	} >"$work/rb.toml"
	run rb "$work/rb.toml"
	"$py" - "$work/rb.json" <<'PY' && ok || bad "the best of repeats"
import json, sys
report = json.load(open(sys.argv[1]))
sw = [s for s in report["sweeps"] if s["id"] == "rb"][0]
best = [n["id"] for n in report["nodes"] if n.get("best")]
errs = []
if not sw["best"].startswith("rb[x=2,") or best != [sw["best"]]:
    errs.append(f"best {sw['best']} (marked {best}), want a trial of x=2: the best mean")
if abs(sw["value"] - 0.75) > 1e-9 or sw["repeats"] != 2 or str(sw["params"].get("x")) != "2":
    errs.append(f"sweep value {sw['value']} over {sw['repeats']} repeats, params {sw['params']}")
if not 0.009 < (sw.get("spread") or 0) < 0.015:
    errs.append(f"spread {sw.get('spread')}: the standard deviation of 0.74 and 0.76")
print("\n".join(errs) or "repeat: the best point by the mean of its repeats, with its spread")
sys.exit(1 if errs else 0)
PY
fi

# --- pruning: exactly Optuna's decisions -----------------------------------

# No three of these in arithmetic progression: no trial's value equals a
# median of two others, so no decision rests on rounding.
xs="10, 2, 13, 4, 14, 1, 11, 5"

# prune_conf NAME CHANNEL PRUNE: the sweep NAME of the trainer over $xs,
# one trial at a time, 5 steps each.
prune_conf() {
	preamble
	cat <<TOML
[trial.$1]
type = "exec"
command = ["$py", "$trainer", "{x}", "--channel", "$2"]
matrix = { x = [$xs] }
objective = { metric = "accuracy", goal = "max" }
prune = $3
max_parallel = 1
TOML
}

# expect_pruned JSON RULE SETTINGS: the trials pruned, and at which step,
# are those the rule's definition gives for the curves x * (step + 1) / 100.
expect_pruned() {
	"$py" - "$1" "$2" "$3" "$xs" <<'PY'
import json, os, statistics, subprocess, sys
path, rule, settings, xs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
xs = [int(x) for x in xs.split(",")]
STEPS = 5

def median_rule(warmup, startup):
    # Optuna's MedianPruner: once `startup` trials completed, from step
    # `warmup` on, prune when the trial's best value so far is below the
    # median of the completed trials' values at this step.
    done, out = [], {}
    for x in xs:
        vals, out[x] = [], None
        for s in range(STEPS):
            vals.append(x * (s + 1) / 100)
            if not done or len(done) < startup or s < warmup:
                continue
            at = [d[s] for d in done if len(d) > s]
            if at and max(vals) < statistics.median(at):
                out[x] = s
                break
        if out[x] is None:
            done.append(vals)
    return out

def asha_rule(mr, rf):
    # Optuna's SuccessiveHalvingPruner (min_early_stopping_rate 0): at the
    # rung k step mr * rf**k, the value joins the rung's values (every
    # trial's, pruned or not); the trial goes on when it is in the top
    # len // rf of them (the top one while there are fewer than rf).
    rungs, out = {}, {}
    for x in xs:
        out[x], rung = None, 0
        for s in range(STEPS):
            v = x * (s + 1) / 100
            while s >= mr * rf ** rung and out[x] is None:
                comp = rungs.setdefault(rung, [])
                comp.append(v)
                k = max(len(comp) // rf - 1, 0)
                if v < sorted(comp)[-(k + 1)]:
                    out[x] = s
                rung += 1
            if out[x] is not None:
                break
    return out

if rule == "median":
    want = median_rule(settings["warmup_steps"], settings["startup_trials"])
else:
    want = asha_rule(settings["min_resource"], settings["reduction_factor"])
errs = []

# The definitions above against Optuna itself, where it is installed.
opt = """
import json, sys, optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
rule, s, xs = sys.argv[1], json.loads(sys.argv[2]), [int(x) for x in sys.argv[3].split(",")]
p = (optuna.pruners.MedianPruner(n_startup_trials=s["startup_trials"], n_warmup_steps=s["warmup_steps"])
     if rule == "median" else optuna.pruners.SuccessiveHalvingPruner(
         min_resource=s["min_resource"], reduction_factor=s["reduction_factor"], min_early_stopping_rate=0))
st = optuna.create_study(direction="maximize", pruner=p)
for x in xs: st.enqueue_trial({"x": x})
out = {}
def obj(t):
    x = t.suggest_categorical("x", xs)
    for step in range(5):
        t.report(x * (step + 1) / 100, step)
        if t.should_prune():
            out[x] = step
            raise optuna.TrialPruned()
    out[x] = None
    return x * 5 / 100
st.optimize(obj, n_trials=len(xs))
print(json.dumps({str(k): v for k, v in out.items()}))
"""
if os.access("/usr/bin/python3", os.X_OK):
    r = subprocess.run(["/usr/bin/python3", "-c", opt, rule, sys.argv[3], sys.argv[4]],
                       capture_output=True, text=True)
    if r.returncode == 0:
        o = {int(k): v for k, v in json.loads(r.stdout).items()}
        if o != want:
            errs.append(f"this test's {rule} rule {want} is not Optuna's {o}")

nodes = [n for n in json.load(open(path))["nodes"] if n.get("sweep")]
got = {}
for n in nodes:
    x = int(n["params"]["x"])
    got[x] = n.get("pruned_step") if n.get("pruned") else None
    if n.get("pruned"):
        if n["status"] not in ("SKIPPED", "PRUNED") or n.get("best"):
            errs.append(f"{n['id']}: pruned, but {n['status']}, best {n.get('best')}")
        if f"step {n.get('pruned_step')}" not in (n.get("message") or "") + (n.get("skip_reason") or ""):
            errs.append(f"{n['id']}: the reason does not name the step: {n.get('message')!r}")
        if not any(m["name"] == "accuracy" for m in n.get("metrics") or []):
            errs.append(f"{n['id']}: a pruned trial lost its metrics")
    elif n["status"] != "OK":
        errs.append(f"{n['id']}: {n['status']} {n['message']!r}")
if got != want:
    errs.append(f"{rule}: pruned (x: step) {got}, want {want}")
best = [n["id"] for n in nodes if n.get("best")]
top = max(x for x in xs if want[x] is None)
if best != [f"{nodes[0]['sweep']}[x={top}]"]:
    errs.append(f"best {best}, want x={top}")
n_pruned = sum(v is not None for v in want.values())
print("\n".join(errs) or f"{rule}: {n_pruned} of {len(xs)} pruned, each at the step the rule says")
sys.exit(1 if errs else 0)
PY
}

if section median; then
	prune_conf med lines '{ rule = "median", warmup_steps = 1, startup_trials = 2 }' >"$work/med.toml"
	run med "$work/med.toml" --report "csv:$work/med.csv" --report "human:$work/med.txt"
	# PRUNED in the human report, and the sweep's best and counts
	for x in 4 1 11 5; do
		grep -q "^PRUNED  *med\[x=$x\]  *pruned at step 1" "$work/med.txt" && ok ||
			bad "med[x=$x] is not PRUNED at step 1 in the human report: $(cat "$work/med.txt")"
	done
	grep -q '^sweep med: best accuracy 0.7: med\[x=14\]' "$work/med.txt" &&
		grep -q '^  8 trials: 4 ok, 0 failed, 4 pruned, 0 skipped' "$work/med.txt" && ok ||
		bad "the human report's sweep: $(cat "$work/med.txt")"
	[ "$rc" -eq 0 ] && ok || bad "median: pruned trials are no failure, yet exit $rc: $(cat "$work/med.err")"
	expect_pruned "$work/med.json" median '{"warmup_steps": 1, "startup_trials": 2}' && ok ||
		bad "median pruning"
fi

if section asha; then
	# key=value lines here, key: value lines for the median
	prune_conf asha kv '{ rule = "asha", min_resource = 1, reduction_factor = 3 }' >"$work/asha.toml"
	run asha "$work/asha.toml"
	[ "$rc" -eq 0 ] && ok || bad "asha: exit $rc: $(cat "$work/asha.err")"
	expect_pruned "$work/asha.json" asha '{"min_resource": 1, "reduction_factor": 3}' && ok ||
		bad "asha pruning"
fi

# --- the target stops launching; max_failures stops a failing sweep ---------

if section target; then
	{
		preamble
		cat <<'TOML'
[trial.tg]
type = "exec"
command = ["echo", "trained | accuracy={x}"]
matrix = { x = [0.3, 0.5, 0.9, 0.2, 0.95] }
objective = { metric = "accuracy", goal = "max", target = 0.85 }
max_parallel = 1
TOML
	} >"$work/target.toml"
	run target "$work/target.toml"
	"$py" - "$work/target.json" "$rc" <<'PY' && ok || bad "target"
import json, sys
report = json.load(open(sys.argv[1]))
ns = [n for n in report["nodes"] if n.get("sweep") == "tg"]
got = [(str(n["params"]["x"]), n["status"]) for n in ns]
want = [("0.3", "OK"), ("0.5", "OK"), ("0.9", "OK"), ("0.2", "SKIPPED"), ("0.95", "SKIPPED")]
errs = []
if got != want:
    errs.append(f"target: {got}, want {want}")
for n in ns[3:]:
    if "target" not in n["message"] or n.get("pruned"):
        errs.append(f"{n['id']}: {n['message']!r}, want the target named")
if sys.argv[2] != "0":
    errs.append(f"exit {sys.argv[2]}, want 0")
if [n["id"] for n in ns if n.get("best")] != ["tg[x=0.9]"]:
    errs.append("the best is not tg[x=0.9]")
for sw in report.get("sweeps") or []:
    if "target" not in (sw.get("stopped") or ""):
        errs.append(f"the sweep's stopped: {sw.get('stopped')!r}")
print("\n".join(errs) or "target: reached at the third trial, the rest never launched")
sys.exit(1 if errs else 0)
PY
fi

if section max_failures; then
	# fails where x is odd: 1 3 | 4 | 5 7 9 -- the 4 resets the count, and
	# the third consecutive failure (9) stops the sweep: 6 and 8 never run.
	{
		preamble
		cat <<'TOML'
[trial.mf]
type = "exec"
shell = true
command = 'echo x={x}; [ $(({x:raw} % 2)) -eq 0 ]'
matrix = { x = [1, 3, 4, 5, 7, 9, 6, 8] }
max_failures = 3
max_parallel = 1
TOML
	} >"$work/mf.toml"
	run mf "$work/mf.toml"
	"$py" - "$work/mf.json" "$rc" <<'PY' && ok || bad "max_failures"
import json, sys
report = json.load(open(sys.argv[1]))
ns = [n for n in report["nodes"] if n.get("sweep") == "mf"]
got = [(str(n["params"]["x"]), n["status"]) for n in ns]
want = [("1", "CRITICAL"), ("3", "CRITICAL"), ("4", "OK"), ("5", "CRITICAL"), ("7", "CRITICAL"),
        ("9", "CRITICAL"), ("6", "SKIPPED"), ("8", "SKIPPED")]
errs = []
if got != want:
    errs.append(f"max_failures: {got}, want {want}")
for n in ns[6:]:
    if "stopped after 3 consecutive failures" not in n["message"]:
        errs.append(f"{n['id']}: {n['message']!r}")
if sys.argv[2] != "2":
    errs.append(f"exit {sys.argv[2]}, want 2")
for sw in report.get("sweeps") or []:
    if sw.get("stopped") != "stopped after 3 consecutive failures":
        errs.append(f"the sweep's stopped: {sw.get('stopped')!r}")
print("\n".join(errs) or "max_failures: stopped after 3 consecutive failures, an OK resets the count")
sys.exit(1 if errs else 0)
PY
fi

# --- metrics from all three channels ----------------------------------------

if section metrics; then
	{
		preamble
		cat <<TOML
[trial.m]
type = "exec"
command = ["$py", "$trainer", "3", "--channel", "all", "--steps", "3", "--sleep", "0"]
objective = { metric = "accuracy", goal = "max" }
TOML
	} >"$work/metrics.toml"
	run metrics "$work/metrics.toml"
	"$py" - "$work/metrics.json" "$rc" <<'PY' && ok || bad "metrics"
import json, sys
n = json.load(open(sys.argv[1]))["nodes"][0]
m = {x["name"]: x["value"] for x in n.get("metrics") or []}
errs = []
want = {"loss": 0.25, "f1": 0.5, "recall": 0.75, "accuracy": 0.09}
for k, v in want.items():
    if k not in m or abs(m[k] - v) > 1e-12:
        errs.append(f"metric {k}: {m.get(k)}, want {v} (the last value is final)")
if n["status"] != "OK" or sys.argv[2] != "0":
    errs.append(f"{n['status']} {n['message']!r}, exit {sys.argv[2]}: a bad line is never fatal")
text = (n.get("message") or "") + "\n" + (n.get("details") or "")
if "ASSAY_METRICS" not in text or "1 line" not in text:
    errs.append(f"the bad line of $ASSAY_METRICS is not mentioned: {text!r}")
print("\n".join(errs) or "metrics: perfdata, key=value, key: value and $ASSAY_METRICS, the bad line counted")
sys.exit(1 if errs else 0)
PY
fi

# --- the CSV: pruned trials, quoting, read back -----------------------------

if section csv && [ -f "$work/med.csv" ]; then
	"$py" - "$work/med.json" "$work/med.csv" <<'PY' && ok || bad "csv of the median sweep"
import csv, json, sys
nodes = json.load(open(sys.argv[1]))["nodes"]
with open(sys.argv[2], newline="") as f:
    rows = list(csv.DictReader(f))
errs = []
def col(prefixes, name):
    for p in prefixes:
        if p + name in rows[0]:
            return p + name
    errs.append(f"no column for {name}: {list(rows[0])}")
    return None
if [r["id"] for r in rows] != [n["id"] for n in nodes]:
    errs.append(f"ids {[r['id'] for r in rows]}")
px = col(("param.", "params.", ""), "x")
ma = col(("metric.", "metrics.", ""), "accuracy")
for r, n in zip(rows, nodes):
    if px and r[px] != str(n["params"]["x"]):
        errs.append(f"{n['id']}: x {r[px]!r}")
    acc = [m["value"] for m in n["metrics"] if m["name"] == "accuracy"]
    if ma and acc and abs(float(r[ma]) - acc[0]) > 1e-12:
        errs.append(f"{n['id']}: accuracy {r[ma]!r}, JSON {acc[0]}")
    want = "PRUNED" if n.get("pruned") else n["status"]
    if r["status"] != want:
        errs.append(f"{n['id']}: status {r['status']!r}, want {want}")
    if (r.get("best") or "").lower() not in (("true",) if n.get("best") else ("false", "")):
        errs.append(f"{n['id']}: best {r.get('best')!r}")
print("\n".join(errs) or f"csv: {len(rows)} rows, pruned trials PRUNED, values as in the JSON")
sys.exit(1 if errs else 0)
PY
fi

if section csv-quoting; then
	{
		preamble
		cat <<'TOML'
[check.odd]
type = "exec"
command = ["printf", 'a, "quoted" =1\nsecond line\n']

[trial.q]
type = "exec"
command = ["echo", "ok | accuracy={x}"]
matrix = { x = [1, 2] }
TOML
	} >"$work/quote.toml"
	"$a" run "$work/quote.toml" --format csv >"$work/quote.csv" 2>"$work/quote.err"
	run quote "$work/quote.toml"
	"$py" - "$work/quote.json" "$work/quote.csv" <<'PY' && ok || bad "csv round trip"
import csv, json, sys
nodes = json.load(open(sys.argv[1]))["nodes"]
with open(sys.argv[2], newline="") as f:
    rows = list(csv.DictReader(f))
errs = []
if [r["id"] for r in rows] != [n["id"] for n in nodes]:
    errs.append(f"ids {[r['id'] for r in rows]}")
for r, n in zip(rows, nodes):
    # a spreadsheet guard may prefix a cell that starts with = + - @: not this one
    if r["message"] != n["message"]:
        errs.append(f"{n['id']}: message {r['message']!r}, JSON {n['message']!r}")
if len({len(r) for r in rows}) != 1:
    errs.append("rows of different lengths")
print("\n".join(errs) or "csv: commas, quotes and newlines read back as written")
sys.exit(1 if errs else 0)
PY
fi

# --- a node after a sweep: {best.PARAM}, {best.METRIC}, {best.trial_dir} ----

if section best; then
	{
		preamble
		cat <<'TOML'
[trial.lr]
type = "exec"
command = ["echo", "trained | accuracy={x}"]
matrix = { x = [0.3, 0.9, 0.5] }
objective = { metric = "accuracy", goal = "max" }

[check.final]
type = "exec"
shell = true
command = 'test -f {best.trial_dir}/params.json && echo final x={best.x} accuracy={best.accuracy}'
after = ["lr"]

[trial.broken]
type = "exec"
command = ["false"]
matrix = { x = [1, 2] }
objective = { metric = "accuracy", goal = "max" }

[check.never]
type = "exec"
command = ["echo", "{best.x}"]
after = ["broken"]
TOML
	} >"$work/best.toml"
	run best "$work/best.toml"
	"$py" - "$work/best.json" <<'PY' && ok || bad "a node after a sweep"
import json, sys
ns = {n["id"]: n for n in json.load(open(sys.argv[1]))["nodes"]}
errs = []
f = ns["final"]
if f["status"] != "OK" or f["message"] != "final x=0.9 accuracy=0.9":
    errs.append(f"final: {f['status']} {f['message']!r}")
nv = ns["never"]
if nv["status"] != "SKIPPED" or "broken" not in nv["message"]:
    errs.append(f"never: {nv['status']} {nv['message']!r}: a sweep without a best")
print("\n".join(errs) or "best: {best.x}, {best.accuracy}, {best.trial_dir} after the sweep")
sys.exit(1 if errs else 0)
PY
fi

# --- conf/examples/sweep.toml: runs offline in seconds, as documented -------

example="$top_srcdir/conf/examples/sweep.toml"
if section example; then
	# It has no state_dir of its own: the user's default, here $work/state.
	STATE_DIRECTORY="$work/state" "$a" check-config "$example" >/dev/null 2>&1 && ok ||
		bad "conf/examples/sweep.toml is invalid: $("$a" check-config "$example" 2>&1)"
	STATE_DIRECTORY="$work/state" run example "$example"
	"$py" - "$work/example.json" "$rc" "$top_srcdir/doc/assay.toml.5" "$example" <<'PY' && ok ||
import json, re, sys
report, rc, page, example = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], sys.argv[4]
nodes = {n["id"]: n for n in report["nodes"]}
trials = [n for n in report["nodes"] if n.get("sweep") == "lr"]
errs = []
if rc != "0":
    errs.append(f"exit {rc}")
if len(trials) != 16:
    errs.append(f"{len(trials)} trials, want 8 points x 2 repeats")
best = [n for n in trials if n.get("best")]
final = nodes.get("final", {})
if len(best) != 1:
    errs.append(f"best trials: {[n['id'] for n in best]}")
else:
    p = best[0]["params"]
    head = f"final model: lr={p['lr']} dropout={p['dropout']}, sweep accuracy "
    msg = final.get("message") or ""
    if final.get("status") != "OK" or not msg.startswith(head):
        errs.append(f"final: {final.get('status')} {msg!r}, want {head!r}...")
    else:
        acc = float(msg[len(head):])
        if not 0.9 < acc < 1:
            errs.append(f"final: accuracy {acc}")
# The example of assay.toml(5) is this file's, key for key.
text = open(page).read()
block = text.split('.\\" example-begin: sweep.toml\n', 1)[1].split('.\\" example-end', 1)[0]
lines = {re.sub(r"\s+#.*", "", l).strip() for l in open(example)}
for l in block.replace("\\-", "-").splitlines():
    if l and not l.startswith(".") and l not in lines:
        errs.append(f"assay.toml(5)'s example has {l!r}, conf/examples/sweep.toml does not")
print("\n".join(errs) or f"example: {len(trials)} trials, final run with the best's parameters, "
      "as assay.toml(5) shows it")
sys.exit(1 if errs else 0)
PY
		bad "conf/examples/sweep.toml"
fi

[ "$fail" -eq 0 ] && echo "trials: $passed passed, 0 failed"
exit "$fail"
