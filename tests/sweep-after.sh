#!/bin/sh
# sweep-after.sh -- integration: a node after a sweep, through the command
# line and the exec plugin.  It runs when the sweep has a best trial, and
# {best.PARAM} and {best.METRIC} reach its command (argv and a shell
# script); {best.NAME} outside such a node is an error of the file; after
# a sweep without a best it is SKIPPED naming the sweep; a metric the
# best did not report makes it UNKNOWN naming the metric.
set -u
a="$top_builddir/assay"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
check() { # check DESCRIPTION COMMAND...: the command must succeed
	what=$1
	shift
	"$@" || { echo "FAIL: $what"; fail=1; }
}
cat >"$work/s.toml" <<TOML
[plugins]
load = ["exec"]

[trial.lr]
type = "exec"
command = ["echo", "trained | accuracy={x}"]
matrix = { x = [0.90, 0.95, 0.93], tag = ["a b"] }
objective = { metric = "accuracy" }

[check.final]
type = "exec"
after = ["lr"]
command = ["sh", "-c", "echo \$1 > $work/argv", "-", "{best.x}/{best.tag}/{best.accuracy}"]

[check.script]
type = "exec"
after = "lr"
shell = true
command = "echo {best.tag} {best.x} > $work/script"

[check.missing]
type = "exec"
after = ["lr"]
command = ["echo", "{best.loss}"]
TOML

"$a" run "$work/s.toml" >"$work/human" 2>&1
rc=$?
cat "$work/human"
check "a missing {best.METRIC} makes the run UNKNOWN: exit 3" [ "$rc" -eq 3 ]
check "argv gets the best trial's parameters and metric" \
	[ "$(cat "$work/argv" 2>/dev/null)" = "0.95/a b/0.95" ]
check "a script gets them quoted" [ "$(cat "$work/script" 2>/dev/null)" = "a b 0.95" ]
check "the missing metric is named" \
	grep -q '^UNKNOWN  *missing  *{best.loss}: the best trial of sweep `lr` reported no `loss` (' \
	"$work/human"

# No best: every trial failed.
cat >"$work/none.toml" <<TOML
[plugins]
load = ["exec"]

[trial.lr]
type = "exec"
command = ["false", "{x}"]
matrix = { x = [1, 2] }
objective = { metric = "accuracy" }

[check.final]
type = "exec"
after = ["lr"]
command = ["touch", "$work/ran"]
TOML
"$a" run "$work/none.toml" >"$work/none" 2>&1
check "the node after a sweep without a best never runs" [ ! -e "$work/ran" ]
check "it is skipped naming the sweep and why" \
	grep -q '^SKIPPED  *final  *sweep `lr` has no best trial: 2 failed' "$work/none"

# {best.NAME} where there is no one sweep before: an error at its place.
cat >"$work/bad.toml" <<'TOML'
[plugins]
load = ["exec"]
[check.a]
type = "exec"
command = ["echo", "{best.x}"]
TOML
"$a" check-config "$work/bad.toml" >/dev/null 2>"$work/err"
check "check-config refuses {best.x} in a node after no sweep" \
	grep -q 'bad.toml:5:20: `command\[1\]`: unknown placeholder `{best.x}`: {best.NAME} is a parameter or a metric of the best trial of the one sweep the node is `after`' "$work/err"
exit $fail
