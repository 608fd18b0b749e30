#!/bin/sh
# progress.sh -- integration: on a terminal (a pty here) `run` draws its
# progress line at once and redraws it on a timer, counts running nodes
# exactly, and estimates from the critical path of what remains, not as if
# the nodes ran one by one; under it a block per sweep under way; off a
# terminal, with NO_PROGRESS or --progress none, nothing; --progress plain
# prints lines to stderr every --progress-interval, on a terminal or not.
set -u
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
# A first node, then six trials at once: 1 s, then 1.5 s, of wall time.
cat >"$work/p.toml" <<'TOML'
[plugins]
load = ["exec"]

[check.first]
type = "exec"
command = ["sleep", "1"]
estimate = "1s"

[trial.sweep]
type = "exec"
command = ["sleep", "1.5"]
matrix = { x = [1, 2, 3, 4, 5, 6] }
estimate = "1.5s"
after = ["first"]
TOML
"${PYTHON3:-python3}" - "$top_builddir/assay" "$work/p.toml" <<'PY' || fail=1
import os, re, sys

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests"))
import pty_run

assay, config = sys.argv[1:]

def run(env_extra):
    """The exit status, and what assay wrote to its standard error, a pty."""
    return pty_run.run(assay, config, env_extra)

failures = []
rc, out = run({})
lines = re.findall(rb"\[(\d+)/(\d+) done, (\d+) running, (\d+) failed, ETA ([^\]]+)\]", out)
if rc != 0:
    failures.append(f"exit status {rc}")
if not (out.endswith(b"\r\x1b[K") or out.endswith(b"\r\x1b[J")):
    failures.append("the line is not erased at the end")

def eta(s):
    s = s.decode()
    return float(s[:-1]) if s.endswith("s") and "m" not in s else 1e9

before_first = [l for l in lines if l[0] == b"0"]
sweep = [l for l in lines if l[0] == b"1"]
# Drawn before any node ends, and redrawn while none does.
if len(before_first) < 2:
    failures.append(f"{len(before_first)} lines before the first node ended (want 2 or more)")
# All six trials counted as running while they run.
if not any(l[2] == b"6" for l in lines):
    failures.append("never '6 running' while the six trials ran")
# 2.5 s in all, 1.5 s once the sweep starts (generous: a loaded machine
# starts commands late); counting nodes one by one would say 6 s or more.
if not before_first or max(eta(l[4]) for l in before_first) > 3:
    failures.append("ETA before the sweep: " + str([l[4] for l in before_first]))
if not sweep or max(eta(l[4]) for l in sweep) > 2:
    failures.append("ETA during the sweep: " + str([l[4] for l in sweep]))
for f in failures:
    print("FAIL:", f)
if failures:
    print(out)
    sys.exit(1)

rc, out = run({"NO_PROGRESS": ""})
if rc != 0 or b"done," in out:
    print(f"FAIL: NO_PROGRESS: exit {rc}, printed {out!r}")
    sys.exit(1)
PY
# The sweep's block: two trials at once of four, each 1 s.
cat >"$work/s.toml" <<'TOML'
[plugins]
load = ["exec"]

[trial.lr]
type = "exec"
command = ["sh", "-c", "sleep 1; echo \"trained | acc={x}\""]
matrix = { x = [1, 5, 3, 2] }
objective = { metric = "acc" }
max_parallel = 2
TOML
"${PYTHON3:-python3}" - "$top_builddir/assay" "$work/s.toml" <<'PY' || fail=1
import os, re, sys

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests"))
import pty_run

assay, config = sys.argv[1:]
failures = []
rc, out = pty_run.run(assay, config, {"COLUMNS": "100"})
if rc != 0:
    failures.append(f"exit status {rc}")
draws = [d for d in out.split(b"\r\x1b[J") if d]
sweep_line = re.compile(rb"^lr  (\d) running \xc2\xb7 (\d) done( \xc2\xb7 best (\d) lr\[x=(\d)\])? "
                        rb"\xc2\xb7 ETA ([^\r]+)$")
trial_line = re.compile(rb"^  lr\[x=\d\]  \d+\.\ds$")
blocks = 0
for d in draws:
    lines = d.split(b"\r\n")
    if len(lines) == 1:
        continue
    blocks += 1
    # The block, then back up as many lines as it took, and the line again.
    last, _, redrawn = lines[-1].partition(b"\x1b[")
    lines[-1] = last
    if redrawn != b"%dA\r" % (len(lines) - 1) + lines[0]:
        failures.append(f"not back on the line: {d!r}")
    m = sweep_line.match(lines[1])
    if not m:
        failures.append(f"sweep line: {lines[1]!r}")
        continue
    running, done = int(m.group(1)), int(m.group(2))
    if running not in (1, 2) or running != len(lines) - 2:
        failures.append(f"1 or 2 running, each on its line: {d!r}")
    if done and (not m.group(3) or m.group(4) != m.group(5) or m.group(4) not in b"1352"):
        failures.append(f"no best after {done} done: {lines[1]!r}")
    # Once two trials took 1 s, the two left take 1 s, two at a time.
    if done == 2 and running == 2 and not re.match(rb"^(0\.\d|1\.0)s$", m.group(6)):
        failures.append(f"ETA: {lines[1]!r}")
    for t in lines[2:]:
        if not trial_line.match(t):
            failures.append(f"running trial line: {t!r}")
if blocks < 4:
    failures.append(f"{blocks} blocks drawn (want 4 or more in 2 s)")
# What was drawn last is erased at the end: the block with the line, or
# the line alone when the last draw found the sweep's trials all final (a
# tick between the last trial's end and the end of the run: a slow build,
# ASan's, draws one now and then).
last_draw = draws[-1] if draws else b""
if not (out.endswith(b"\r\x1b[J") or
        (out.endswith(b"\r\x1b[K") and b"\r\n" not in last_draw)):
    failures.append("the block is not erased at the end")
for f in failures:
    print("FAIL:", f)
if failures:
    print(out)
    sys.exit(1)
PY
# --progress none: nothing, even on a terminal.
"${PYTHON3:-python3}" - "$top_builddir/assay" "$work/s.toml" <<'PY' || fail=1
import os, sys

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests"))
import pty_run

assay, config = sys.argv[1:]
rc, out = pty_run.run(assay, config, None, ["--progress", "none"])
if rc != 0 or out:
    print(f"FAIL: --progress none on a terminal: exit {rc}, printed {out!r}")
    sys.exit(1)
PY
# --progress plain off a terminal: a line every interval on stderr (the
# first after one interval), one per sweep under way; stdout as without.
"$top_builddir/assay" run "$work/s.toml" --progress plain --progress-interval 1s \
	>"$work/plain.out" 2>"$work/plain.err" || { echo "FAIL: --progress plain"; fail=1; }
"$top_builddir/assay" run "$work/s.toml" >"$work/quiet.out" 2>"$work/quiet.err" ||
	{ echo "FAIL: the run without --progress"; fail=1; }
[ ! -s "$work/quiet.err" ] || { echo "FAIL: progress off a terminal:"; cat "$work/quiet.err"; fail=1; }
sed 's/([0-9.]*s)/(T)/; s/in [0-9.]*s (critical path [0-9.]*s)/in T/; s/in [0-9.]*s (sum [0-9.]*s, [0-9.]*x)/in T/' "$work/plain.out" >"$work/a"
sed 's/([0-9.]*s)/(T)/; s/in [0-9.]*s (critical path [0-9.]*s)/in T/; s/in [0-9.]*s (sum [0-9.]*s, [0-9.]*x)/in T/' "$work/quiet.out" >"$work/b"
cmp -s "$work/a" "$work/b" || { echo "FAIL: --progress plain changed stdout:"; diff "$work/a" "$work/b"; fail=1; }
grep -q '^assay: 00:00:01 \[[0-3]/4 done, [0-2] running, 0 failed, ETA [^]]*\]$' "$work/plain.err" &&
	grep -q '^assay: 00:00:01 lr [0-2] running, [0-3] done, .*ETA ' "$work/plain.err" &&
	! grep -v '^assay: 00:00:0[1-9] ' "$work/plain.err" ||
	{ echo "FAIL: --progress plain's lines:"; cat "$work/plain.err"; fail=1; }
# Off a terminal the run prints no progress, and standard error stays clean.
unset NO_PROGRESS
"$top_builddir/assay" run "$work/p.toml" --only first >/dev/null 2>"$work/err" ||
	{ echo "FAIL: run --only first"; fail=1; }
[ ! -s "$work/err" ] || { echo "FAIL: progress off a terminal:"; cat "$work/err"; fail=1; }
[ "$fail" -eq 0 ] && echo "progress: 13 passed, 0 failed"
exit "$fail"
