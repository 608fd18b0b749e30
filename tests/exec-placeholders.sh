#!/bin/sh
# exec-placeholders.sh -- integration: `assay run` with shell = true over
# items (files named with shell metacharacters, found by a glob) and a
# matrix of hostile values.  Each script sees exactly the text, and none
# of it runs; {item:raw} pastes the text for those who want it.
set -u
a="$top_builddir/assay"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/items"
fail=0
# File names: anything but / and NUL.
for name in 'x$(touch PWNED).py' 'y`touch PWNED`.py' 'a;touch PWNED;.py' "q'uo\"te.py" \
	'-n.py' '--help.py' 'sp  ace.py' 'new
line.py' '$HOME.py' 'glob*.py' '|pipe&.py' '\back\slash.py' '#hash.py'; do
	printf '%s' "$name" >"$work/items/$name"
done
cat >"$work/p.toml" <<'TOML'
[plugins]
load = ["exec"]

# Each item file holds its own name: the script reads the file the item
# names and compares, in a bare word and in double quotes.
[validation.files]
type = "exec"
shell = true
items = { glob = "items/*.py" }
command = '''
[ "items/$(cat {item})" = {item} ] || { echo "read something else from {item}"; exit 1; }
printf '%s\n' 'seen: {item}' "seen: {item}" >>out
'''

[trial.sweep]
type = "exec"
shell = true
matrix = { arg = ["$(touch PWNED)", "a;touch PWNED", "'", "", "-rf /nonexistent", "a\nb"] }
# One printf, one write: the trials run at once and append to one file.
command = '''
printf '[%s][%s][%s]\n' {arg} "{arg}" '{arg}' >>sweep
'''

# Raw text is the operator's code.
[trial.raw]
type = "exec"
shell = true
command = "echo {n:raw}"
matrix = { n = ["$((6 * 7))"] }
TOML
(cd "$work" && "$a" run p.toml --format json >out.json 2>err)
rc=$?
[ "$rc" -eq 0 ] || { echo "FAIL: assay run exited $rc"; cat "$work/out.json" "$work/err"; fail=1; }
if [ -e "$work/PWNED" ] || [ -e "$work/items/PWNED" ]; then
	echo "FAIL: a placeholder's value ran as code"
	fail=1
fi
"${PYTHON3:-python3}" - "$work" <<'PY' || fail=1
import json, os, sys
work = sys.argv[1]
d = json.load(open(os.path.join(work, "out.json")))
nodes = {n["id"]: n for n in d["nodes"]}
bad = [f"{k}: {n['status']} {n['message']!r}" for k, n in nodes.items() if n["status"] != "OK"]
names = sorted(os.listdir(os.path.join(work, "items")))
seen = open(os.path.join(work, "out")).read()
for name in names:
    if seen.count(f"seen: items/{name}\n") != 2:
        bad.append(f"item {name!r} not seen as itself in {seen!r}")
values = ["$(touch PWNED)", "a;touch PWNED", "'", "", "-rf /nonexistent", "a\nb"]
lines = open(os.path.join(work, "sweep")).read()
for v in values:
    if f"[{v}]" * 3 + "\n" not in lines:
        bad.append(f"value {v!r} not passed as itself: {lines!r}")
raw = [n for k, n in nodes.items() if k.startswith("raw")]
if len(raw) != 1 or raw[0]["message"] != "42":
    bad.append(f"raw: {raw}")
print("\n".join("FAIL " + b for b in bad) or f"{len(names)} items and {len(values)} values seen as themselves; none ran")
sys.exit(1 if bad else 0)
PY
exit "$fail"
