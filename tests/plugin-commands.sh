#!/bin/sh
# plugin-commands.sh -- integration: ABI 3.1's host side through the
# command line, with the test plugin `lanes` (tests/plugins/lanes.c).
# `assay NAME [FILE] [ARG]...` runs a plugin's command with FILE taken
# out and the plugin configured by FILE's [plugins.NAME] -- found on the
# search path when FILE does not load it -- and exits with its status; a FILE that
# does not load is 78; an unknown command is 64 with "did you mean" over
# plugin commands too; help and `assay plugins` list the commands; and
# the devices a node held are in the json and human reports, and the
# progress line says what nodes wait for.
set -u
a="$top_builddir/assay"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
no() { echo "FAIL: $*"; fail=1; }
ASSAY_PLUGIN_PATH="$TEST_PLUGIN_DIR:$top_builddir/plugins/.libs"
export ASSAY_PLUGIN_PATH

cat >"$work/l.toml" <<TOML
[plugins]
load = ["lanes", "exec"]

[plugins.lanes]
lanes = 3
TOML
cat >"$work/other.toml" <<TOML
[plugins]
load = ["exec"]
TOML
cat >"$work/bad.toml" <<TOML
[plugins]
load = ["lanes"]

[plugins.lanes]
lanes = 99
TOML

# The command, FILE taken out, its exit status passed on.
"$a" lanes "$work/l.toml" one --exit 4 two >"$work/out" 2>"$work/err"
rc=$?
[ $rc -eq 4 ] && [ "$(cat "$work/out")" = "lanes: 3 lanes; args: one two" ] && [ ! -s "$work/err" ] ||
	{ no "assay lanes FILE ARG...: rc $rc"; cat "$work/out" "$work/err"; }
# A FILE that does not load the plugin: found on the search path.
"$a" lanes "$work/other.toml" >"$work/out" 2>&1
rc=$?
[ $rc -eq 0 ] && [ "$(cat "$work/out")" = "lanes: 1 lane; args:" ] ||
	{ no "assay lanes FILE without lanes in load: rc $rc"; cat "$work/out"; }
# No FILE: an argument starting with '-' is the command's.
"$a" lanes --exit 0 x >"$work/out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -qx "lanes: [0-9] lanes*; args: x" "$work/out" ||
	{ no "assay lanes without FILE: rc $rc"; cat "$work/out"; }
# The command's own usage error is its own.
"$a" lanes "$work/l.toml" --bad >"$work/out" 2>"$work/err"
[ $? -eq 64 ] && grep -q "unknown option '--bad'" "$work/err" || no "the command's usage error"
# A FILE that does not load: its errors, at their place, and 78.
"$a" lanes "$work/bad.toml" >"$work/out" 2>"$work/err"
rc=$?
[ $rc -eq 78 ] && grep -q "bad.toml:5:" "$work/err" && [ ! -s "$work/out" ] ||
	{ no "assay lanes BADFILE: rc $rc"; cat "$work/err"; }
"$a" lanes "$work/missing.toml" >"$work/out" 2>"$work/err"
[ $? -eq 78 ] && grep -q "missing.toml" "$work/err" || { no "assay lanes MISSING"; cat "$work/err"; }

# Unknown: "did you mean" over assay's own commands and the plugins'.
"$a" lanse >"$work/out" 2>"$work/err"
rc=$?
[ $rc -eq 64 ] && grep -qx "assay: unknown command 'lanse' (did you mean 'lanes'?)" "$work/err" ||
	{ no "assay lanse: rc $rc"; cat "$work/err"; }
"$a" grpah "$work/bad.toml" >"$work/out" 2>"$work/err"
[ $? -eq 64 ] && grep -q "did you mean 'graph'" "$work/err" ||
	{ no "a mistyped command with a bad FILE is unknown"; cat "$work/err"; }

# Help and the listing know the command.
"$a" help >"$work/out" 2>&1 && grep -qx "plugin commands:" "$work/out" &&
	grep -qx "  lanes \[FILE\] \[--exit N\] \[ARG\]..." "$work/out" &&
	grep -q "print the lanes configured and the arguments (plugin lanes)" "$work/out" ||
	{ no "assay help lists plugin commands"; cat "$work/out"; }
"$a" help lanes >"$work/out" 2>&1 && head -1 "$work/out" |
	grep -qx "usage: assay \[OPTION\]... lanes \[FILE\] \[--exit N\] \[ARG\]..." ||
	{ no "assay help lanes"; cat "$work/out"; }
"$a" plugins >"$work/out" 2>&1
sed -n '/^lanes 1.0$/,/^[^ ]/p' "$work/out" >"$work/lanes"
grep -qx "  resources: lane" "$work/lanes" && grep -qx "  commands: lanes" "$work/lanes" ||
	{ no "assay plugins lists the command"; cat "$work/out"; }

# Devices: what a node held, in the json report and the human one's
# details of a node that is not OK.
cat >>"$work/l.toml" <<TOML
[check.a]
type = "exec"
command = ["true"]
resources = { lane = 1 }

[check.b]
type = "exec"
command = ["false"]
resources = { lane = 1 }

[check.plain]
type = "exec"
command = ["true"]
TOML
"$a" run "$work/l.toml" --format json >"$work/json" 2>"$work/err"
[ $? -eq 2 ] || { no "run with lanes"; cat "$work/err"; }
"${PYTHON3:-python3}" - "$work/json" <<'PY' || no "json devices"
import json, sys
nodes = {n["id"]: n for n in json.load(open(sys.argv[1]))["nodes"]}
for i in ("a", "b"):
    d = nodes[i].get("devices")
    assert d and len(d) == 1 and d[0].startswith("LANE-"), (i, d)
assert "devices" not in nodes["plain"], nodes["plain"]
PY
"$a" run "$work/l.toml" >"$work/human" 2>&1
grep -A1 "^CRITICAL  b " "$work/human" | grep -q "^ *devices: LANE-[0-2]$" ||
	{ no "human report's devices line"; cat "$work/human"; }

# The progress line (on a terminal) says what the nodes wait for, as the
# resource type describes it.
cat >"$work/w.toml" <<TOML
[plugins]
load = ["lanes", "exec"]

[check.first]
type = "exec"
command = ["sleep", "1"]
resources = { lane = 1 }

[check.second]
type = "exec"
command = ["sleep", "1"]
resources = { lane = 1 }
TOML
"${PYTHON3:-python3}" - "$a" "$work/w.toml" <<'PY' || no "the progress line's waiting for"
import os, sys
sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests"))
import pty_run
rc, out = pty_run.run(*sys.argv[1:])
assert rc == 0, rc
assert b"] 1 waiting for a lane: 1 of 1 held by this run" in out, out
assert out.endswith(b"\r\x1b[K"), out[-40:]
PY

[ $fail -eq 0 ] && echo "plugin-commands.sh: all passed"
exit $fail
