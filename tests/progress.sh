#!/bin/sh
# progress.sh -- integration: on a terminal (a pty here) `run` draws its
# progress line at once and redraws it on a timer, counts running nodes
# exactly, and estimates from the critical path of what remains, not as if
# the nodes ran one by one; off a terminal, or with NO_PROGRESS, nothing.
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
if not out.endswith(b"\r\x1b[K"):
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
# Off a terminal the run prints no progress, and standard error stays clean.
unset NO_PROGRESS
"$top_builddir/assay" run "$work/p.toml" --only first >/dev/null 2>"$work/err" ||
	{ echo "FAIL: run --only first"; fail=1; }
[ ! -s "$work/err" ] || { echo "FAIL: progress off a terminal:"; cat "$work/err"; fail=1; }
[ "$fail" -eq 0 ] && echo "progress: 9 passed, 0 failed"
exit "$fail"
