#!/bin/sh
# skip.sh -- integration: `skip = "reason"` through the command line.
# check-config and graph show it, run reports it SKIPPED with its reason
# without running it, its dependents are skipped naming it, the exit
# status is not raised for it, and a bad reason is an error at its place.
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

[check.gpu]
type = "exec"
command = ["touch", "$work/ran"]
skip = "no GPU on this host"
estimate = "5s"

[check.smoke]
type = "exec"
command = ["true"]
after = ["gpu"]

[check.disk]
type = "exec"
command = ["true"]
estimate = "1s"
TOML

"$a" check-config "$work/s.toml" >"$work/cc" 2>&1
check "check-config exits 0" [ $? -eq 0 ]
check "check-config lists the skipped node" grep -qx '  skipped: gpu (no GPU on this host)' "$work/cc"
"$a" graph "$work/s.toml" >"$work/graph"
check "graph marks it" grep -qx '  gpu \[skip: no GPU on this host\]' "$work/graph"
check "a skipped node is off the critical path, its estimate not shown" grep -q '^\* disk (1s)$' "$work/graph"
"$a" graph "$work/s.toml" --format dot >"$work/dot"
check "dot draws it dashed" grep -q '^	"gpu" \[.*style=dashed' "$work/dot"

"$a" run "$work/s.toml" >"$work/human"
rc=$?
cat "$work/human"
check "run exits 0: skipping is no failure" [ "$rc" -eq 0 ]
check "the skipped command never ran" [ ! -e "$work/ran" ]
check "the report gives the reason" grep -q '^SKIPPED  *gpu  *no GPU on this host$' "$work/human"
check "its dependent is skipped naming it" \
	grep -q '^SKIPPED  *smoke  *dependency `gpu` was skipped: no GPU on this host$' "$work/human"
check "the rest runs" grep -q '^OK  *disk ' "$work/human"

for bad in 'skip = ""|4:8: `skip` must give the reason the node is skipped, not an empty string' \
	'skip = false|4:8: `skip` must be a string: the reason the node is skipped, not boolean'; do
	printf '[plugins]\nload = ["exec"]\n[check.a]\n%s\ntype = "exec"\ncommand = ["true"]\n' \
		"${bad%%|*}" >"$work/bad.toml"
	"$a" check-config "$work/bad.toml" >/dev/null 2>"$work/err"
	rc=$?
	check "${bad%%|*}: exit 78, not $rc" [ "$rc" -eq 78 ]
	check "${bad%%|*}: $(cat "$work/err")" grep -qxF "$work/bad.toml:${bad#*|}" "$work/err"
done
exit "$fail"
