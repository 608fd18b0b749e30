#!/bin/sh
# reports.sh -- integration: what `assay run` writes where, and its exit
# status: --report into devices (a write error is not OK), the check made
# before the run as a user who cannot write /dev, a trial without its
# objective metric, and reports that stay valid whatever commands print.
set -u
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
a="$top_builddir/assay"
py=${PYTHON3:-python3}
fail=0 passed=0
ok() { passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; fail=1; }

cat >"$work/plain.toml" <<'TOML'
[plugins]
load = ["exec"]

[check.hello]
type = "exec"
command = ["echo", "hello | n=1"]
TOML
chmod 644 "$work/plain.toml"

# A write error is reported, and the run is not OK.  Root writes to a
# copy of /dev/full: should this break, the machine's stays whole.
full=/dev/full
mknod "$work/full" c 1 7 2>/dev/null && full=$work/full
if [ -c "$full" ]; then
	"$a" run "$work/plain.toml" --report "json:$full" >/dev/null 2>"$work/full.err"
	rc=$?
	[ "$rc" -eq 3 ] && ok || bad "--report json:$full exited $rc, not 3"
	grep -q "cannot write the json report to $full: No space left on device" "$work/full.err" &&
		ok || bad "--report json:$full: no error message: $(cat "$work/full.err")"
	[ -c "$full" ] && ok || bad "--report json:$full replaced the device"
fi

# The check before the run follows the rules of the write: /dev/null is
# written into, so a user who cannot create files in /dev may use it.
as_user=
if [ "$(id -u)" -ne 0 ]; then
	[ -w /dev ] || as_user="env"
elif command -v setpriv >/dev/null &&
	setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$a" -a -r "$work/plain.toml"; then
	as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
fi
if [ -n "$as_user" ] && [ -c /dev/null ]; then
	# Every run writes its state dir: one the user may write.
	mkdir -p "$work/user-state" && chmod 777 "$work/user-state"
	STATE_DIRECTORY="$work/user-state"
	export STATE_DIRECTORY
	$as_user "$a" run "$work/plain.toml" --report json:/dev/null >"$work/user.out" 2>&1
	rc=$?
	[ "$rc" -eq 0 ] && ok || bad "--report json:/dev/null as a user exited $rc: $(cat "$work/user.out")"
	$as_user "$a" run "$work/plain.toml" --report json:/dev/assay-x.json >"$work/user.out" 2>&1
	rc=$?
	[ "$rc" -eq 64 ] && grep -q 'cannot create files in /dev' "$work/user.out" && ok ||
		bad "--report json:/dev/assay-x.json as a user exited $rc: $(cat "$work/user.out")"
else
	echo "reports: no unprivileged user to test /dev/null with; skipped that part"
fi

# A trial that does not report its objective metric is UNKNOWN, and so is
# the run; the best of the sweep is among those that did.
cat >"$work/sweep.toml" <<'TOML'
[plugins]
load = ["exec"]

[trial.typo]
type = "exec"
command = ["echo", "trained | accuracy=0.9"]
objective = { metric = "acuracy" }

[trial.lr]
type = "exec"
command = ["echo", "trained | accuracy={x}%"]
matrix = { x = [90, 95, 93] }
objective = { metric = "accuracy" }
TOML
"$a" run "$work/sweep.toml" >"$work/sweep.out" 2>&1
rc=$?
[ "$rc" -eq 3 ] && ok || bad "a trial without its objective: exit $rc, not 3"
grep -q '^UNKNOWN   typo      no `acuracy` reported (did you mean `accuracy`?)' "$work/sweep.out" &&
	ok || bad "no UNKNOWN line for typo: $(cat "$work/sweep.out")"
grep -q '^OK        lr\[x=95\]  trained \[best accuracy=95%\]' "$work/sweep.out" &&
	ok || bad "no best with its unit: $(cat "$work/sweep.out")"

# Whatever a command prints, the json report is valid UTF-8 JSON and the
# human report holds no escape sequence or carriage return.
cat >"$work/bytes.toml" <<'TOML'
[plugins]
load = ["exec"]

[check.latin1]
type = "exec"
command = ["printf", "caf\\351 \\033[2J\\033[32mOK\\033[0m\\rdone\\nline two\\n"]
TOML
"$a" run "$work/bytes.toml" --format json >"$work/bytes.json" 2>"$work/bytes.err"
"$py" - "$work/bytes.json" <<'PY' && ok || bad "the json report of odd bytes"
import json, sys
with open(sys.argv[1], encoding="utf-8", errors="strict") as f:
    report = json.load(f)
node = report["nodes"][0]
assert node["message"].startswith("caf\ufffd \x1b[2J"), node["message"]
PY
"$a" run "$work/bytes.toml" >"$work/bytes.txt" 2>&1
if LC_ALL=C grep -q "$(printf '[\033\r]')" "$work/bytes.txt"; then
	bad "the human report passes escapes through: $(od -c "$work/bytes.txt" | head)"
else
	ok
fi

# The csv report round-trips through Python's csv module: commas, quotes
# and newlines in ids, parameters and messages; a column per parameter and
# per final metric of the trials, empty where a node has none; CRLF rows;
# a message that a spreadsheet would run as a formula defused.
cat >"$work/csv.toml" <<'TOML'
[plugins]
load = ["exec"]

[trial.t]
type = "exec"
command = ["printf", "%s | acc=0.5\\n", "{name}"]
matrix = { name = ["a,b", "say \"hi\"", "two\nlines", "-1"] }
objective = { metric = "acc" }

[trial.u]
type = "exec"
command = ["printf", "n is %s | loss=%s\\n", "{n}", "{n}"]
matrix = { n = [1, 2] }

[check.formula]
type = "exec"
command = ["echo", "=HYPERLINK(\"http://x\"),+1"]
TOML
"$a" run "$work/csv.toml" --format json --report "csv:$work/r.csv" >"$work/csv.json" 2>"$work/csv.err"
rc=$?
[ "$rc" -eq 0 ] && ok || bad "the csv run exited $rc: $(cat "$work/csv.err")"
"$py" - "$work/csv.json" "$work/r.csv" <<'PY' && ok || bad "the csv report does not round-trip"
import csv, json, sys
report = json.load(open(sys.argv[1], encoding="utf-8"))
raw = open(sys.argv[2], "rb").read()
assert raw.endswith(b"\r\n") and raw.count(b"\r\n") == len(report["nodes"]) + 1, raw
with open(sys.argv[2], newline="", encoding="utf-8") as f:
    rows = list(csv.DictReader(f))
fixed = ["id", "kind", "sweep", "status", "message", "duration", "attempts", "best", "seed",
         "resumed_from"]
assert list(rows[0].keys()) == fixed + ["param.name", "param.n", "metric.acc", "metric.loss"], \
    list(rows[0].keys())
assert len(rows) == len(report["nodes"])
for row, node in zip(rows, report["nodes"]):
    assert row["id"] == node["id"], (row["id"], node["id"])
    assert row["kind"] == node["kind"] and row["status"] == node["status"], row
    assert row["attempts"] == str(node["attempts"]), row
    assert row["resumed_from"] == "", row  # a fresh run reuses nothing
    assert abs(float(row["duration"]) - node["duration_seconds"]) < 0.001, row
    if node["kind"] != "trial":
        assert row["message"] == "'" + node["message"], row
        assert row["sweep"] == row["best"] == row["seed"] == row["param.name"] == "", row
        assert row["metric.acc"] == row["metric.loss"] == "", row
        continue
    assert row["message"] == node["message"], (row["message"], node["message"])
    assert row["sweep"] == node["sweep"] and row["seed"] == "0", row
    assert row["best"] == ("true" if node["best"] else "false"), row
    for name in ("name", "n"):
        assert row["param." + name] == node["params"].get(name, ""), (row, node["params"])
    for name in ("acc", "loss"):
        want = [m["value"] for m in node["metrics"] if m["name"] == name]
        assert (float(row["metric." + name]) if row["metric." + name] else None) == \
            (want[-1] if want else None), (row, node["metrics"])
names = [r["param.name"] for r in rows if r["sweep"] == "t"]
assert names == ["a,b", 'say "hi"', "two\nlines", "-1"], names
assert [r["metric.loss"] for r in rows if r["sweep"] == "u"] == ["1", "2"], rows
PY

[ "$fail" -eq 0 ] && echo "reports: $passed passed, 0 failed"
exit "$fail"
