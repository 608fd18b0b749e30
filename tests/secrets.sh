#!/bin/sh
# secrets.sh -- integration: an interpolated secret never appears in any
# output of assay: reports (human, json), errors, logs, the graph, the
# check-config summary -- even when the child process prints it.
set -u
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ASSAY_TEST_SECRET='s3cret-Xq9-token'
ASSAY_TEST_PROJECT=p # not a secret, and said so: masks no "p" of the output
export ASSAY_TEST_SECRET ASSAY_TEST_PROJECT
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

[check.public]
type = "exec"
command = ["echo", "project ${public-env:ASSAY_TEST_PROJECT}: timed out after 30 s"]

[check.pem]
type = "exec"
command = ["sh", "-c", "printf 'key:\\n%s\\n' \"$K\"", "x"]
env = { K = "${file:key.pem}" }

# A sweep over a secret: its trials' ids and parameters hold it, and so
# do the best and the reason the target gives for the trial it stops.
[trial.tok]
type = "exec"
command = ["echo", "acc=1"]
matrix = { tok = ["${env:ASSAY_TEST_SECRET}", "plain"] }
max_parallel = 1
objective = { metric = "acc", target = 0.5 }
TOML
# output_limit cuts the output inside the secret, at each of its bytes.
for limit in $(seq 6 24); do
	printf '[check.cut%s]\ntype = "exec"\noutput_limit = %s\n' "$limit" "$limit"
	cat <<'TOML'
command = ["sh", "-c", 'printf "key %s\nline %s" "$T" "$T"; printf "err %s" "$T" >&2; exit 2', "x"]
env = { T = "${env:ASSAY_TEST_SECRET}" }
TOML
done >>"$work/s.toml"
printf 'Qk7-first-Zx9\nWv2-second-Jm4\n' >"$work/key.pem"
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
"$a" run "$work/s.toml" --format csv >"$work/csv" 2>&1
"$a" check-config "$work/s.toml" >"$work/cc" 2>&1
"$a" graph "$work/s.toml" --format dot >"$work/dot" 2>&1
"$a" check-config "$work/bad.toml" >"$work/bad" 2>&1
"$a" run "$work/s.toml" --dry-run >"$work/dry" 2>&1

# A configuration error longer than a line buffer: the host's cut of the
# message must not split the secret either (here, in unknown keys).
{
	printf '[plugins]\nload = ["exec"]\n[check.k]\ntype = "exec"\n'
	printf 'command = ["true"]\nenv = { T = "${env:ASSAY_TEST_SECRET}" }\n'
	for pad in $(seq 990 1015); do
		printf '"%s%s" = 1\n' "$(printf "%${pad}s" "" | tr ' ' z)" "$ASSAY_TEST_SECRET"
	done
} >"$work/long.toml"
"$a" check-config "$work/long.toml" >"$work/long" 2>&1

fail=0
grep -q 'unknown key `zzz' "$work/long" || { echo "FAIL: long.toml: no unknown-key error"; fail=1; }
grep -q 'OK  *pem  *key:' "$work/human" || { echo "FAIL: the pem check did not run"; fail=1; }
grep -q 'OK  *public  *project p: timed out after 30 s' "$work/human" ||
	{ echo "FAIL: a \${public-env:} value was masked"; fail=1; }
# The runs must have happened: the secret is in the data, not just absent.
grep -q 'token is \*\*\*' "$work/human" || { echo "FAIL: human report lacks the scrubbed message"; fail=1; }
grep -q '"details"' "$work/json" || { echo "FAIL: json report lacks details"; fail=1; }
grep -q 'sweep tok: best acc 1: tok\[tok=\*\*\*\]' "$work/human" ||
	{ echo "FAIL: the secret sweep's best is not in the human report, masked"; fail=1; }
grep -q 'target 0.5 reached by tok\[tok=\*\*\*\]' "$work/csv" ||
	{ echo "FAIL: the secret sweep's target reason is not in the csv report, masked"; fail=1; }
for f in "$work"/human "$work"/human.err "$work"/json "$work"/json.err "$work"/report.json "$work"/csv \
	 "$work"/cc "$work"/dot "$work"/bad "$work"/dry "$work"/long; do
	# Whole, or in part: any 4 bytes of a secret.
	if ! "${PYTHON3:-python3}" - "$f" <<'PY'
import sys
text = open(sys.argv[1], errors="replace").read()
for secret in ("s3cret-Xq9-token", "file-s3cret-77", "Qk7-first-Zx9", "Wv2-second-Jm4"):
    for i in range(len(secret) - 3):
        part = secret[i:i + 4]
        if part in text and not part.isalpha():
            at = text.index(part)
            sys.exit(f"    `{part}` of a secret: ...{text[max(0, at - 40):at + 20]!r}...")
PY
	then
		echo "FAIL: a secret leaked into $(basename "$f")"
		fail=1
	fi
done
[ "$fail" -eq 0 ] && echo "secrets: 11 outputs clean, 0 failed"
exit "$fail"
