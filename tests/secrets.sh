#!/bin/sh
# secrets.sh -- integration: an interpolated secret never appears in any
# output of assay: reports (human, json), errors, logs, the graph, the
# check-config summary -- even when the child process prints it.
set -u
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ASSAY_TEST_SECRET='s3cret-Xq9-token'
export ASSAY_TEST_SECRET
printf 'file-s3cret-77\n' >"$work/token"
cat >"$work/s.toml" <<'TOML'
[plugins]
load = ["exec"]

[check.echo_env]
type = "exec"
command = ["sh", "-c", "echo \"token is $T | 'len'=5\"; echo \"detail $T\"; echo \"err $T\" >&2; exit 2", "x"]
env = { T = "${env:ASSAY_TEST_SECRET}" }

[check.echo_arg]
type = "exec"
command = ["echo", "Bearer ${env:ASSAY_TEST_SECRET} and ${file:token}"]

[check.fails_with_it]
type = "exec"
command = ["/nonexistent/${file:token}"]

[check.after_it]
type = "exec"
command = ["true"]
after = ["echo_env"]
TOML
cat >"$work/bad.toml" <<'TOML'
[plugins]
load = ["exec"]
[check.bad]
type = "exec"
command = "${env:ASSAY_TEST_SECRET}"
TOML

a="$top_builddir/assay"
"$a" -v -v run "$work/s.toml" >"$work/human" 2>"$work/human.err"
"$a" -v -v run "$work/s.toml" --format json --report "json:$work/report.json" >"$work/json" 2>"$work/json.err"
"$a" check-config "$work/s.toml" >"$work/cc" 2>&1
"$a" graph "$work/s.toml" --format dot >"$work/dot" 2>&1
"$a" check-config "$work/bad.toml" >"$work/bad" 2>&1
"$a" run "$work/s.toml" --dry-run >"$work/dry" 2>&1

fail=0
# The runs must have happened: the secret is in the data, not just absent.
grep -q 'token is \*\*\*' "$work/human" || { echo "FAIL: human report lacks the scrubbed message"; fail=1; }
grep -q '"details"' "$work/json" || { echo "FAIL: json report lacks details"; fail=1; }
for f in "$work"/human "$work"/human.err "$work"/json "$work"/json.err "$work"/report.json \
	 "$work"/cc "$work"/dot "$work"/bad "$work"/dry; do
	if grep -n -e 's3cret-Xq9-token' -e 'file-s3cret-77' "$f"; then
		echo "FAIL: a secret leaked into $(basename "$f")"
		fail=1
	fi
done
[ "$fail" -eq 0 ] && echo "secrets: 9 outputs clean, 0 failed"
exit "$fail"
