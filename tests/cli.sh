#!/bin/sh
# cli.sh -- integration: the command line's edges.  Help for every command,
# option errors said once as `assay:`, a closed standard output refused
# before anything runs, --only suggestions, --allow-unset, and what
# assay(1) says of --dry-run, a validation's attempts and cycles.
set -u
a="$top_builddir/assay"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
passed=0
ok() { passed=$((passed + 1)); }
no() { echo "FAIL: $*"; fail=1; }

cat >"$work/c.toml" <<TOML
[plugins]
load = ["exec"]

[check.net.dns]
type = "exec"
command = ["touch", "$work/ran"]

[validation.files]
type = "exec"
command = ["true", "{item}"]
items = { list = ["a", "b"] }

[check.last]
type = "exec"
command = ["true"]
after = ["files"]
TOML

# Help: every command's, and `assay help`, on standard output, exit 0.
for cmd in run graph check-config plugins help; do
	if "$a" "$cmd" --help >"$work/out" 2>"$work/err" && [ ! -s "$work/err" ] &&
	   head -1 "$work/out" | grep -q "^usage: assay \[OPTION\]... $cmd " &&
	   "$a" help "$cmd" | cmp -s - "$work/out"; then ok; else no "assay $cmd --help"; fi
done
"$a" help >"$work/h1" && "$a" --help >"$work/h2" && cmp -s "$work/h1" "$work/h2" &&
	grep -q "^commands:" "$work/h1" && ok || no "assay help"
"$a" run -h >"$work/h1" && "$a" help run | cmp -s - "$work/h1" && ok || no "assay run -h"

# Option errors: one message, as `assay:`, then where to look; exit 64.
"$a" run "$work/c.toml" --jobs >"$work/out" 2>"$work/err"
rc=$?
if [ "$rc" -eq 64 ] && [ "$(wc -l <"$work/err")" -eq 2 ] &&
   grep -qx "assay: run: option '--jobs' needs a value" "$work/err" &&
   grep -qx "Try 'assay run --help'." "$work/err"; then ok; else no "--jobs without a value:"; cat "$work/err"; fi
"$a" --bogus >"$work/out" 2>"$work/err"
rc=$?
if [ "$rc" -eq 64 ] && [ "$(wc -l <"$work/err")" -eq 2 ] &&
   grep -qx "assay: unknown option '--bogus'" "$work/err"; then ok; else no "unknown global option:"; cat "$work/err"; fi
"$a" graph "$work/c.toml" --dry-run=x >"$work/out" 2>"$work/err"
if [ $? -eq 64 ] && grep -qx "assay: graph: unknown option '--dry-run'" "$work/err"; then ok
else no "graph --dry-run=x:"; cat "$work/err"; fi
"$a" run "$work/c.toml" --fail-fast=yes >"$work/out" 2>"$work/err"
if [ $? -eq 64 ] && grep -qx "assay: run: option '--fail-fast' takes no value" "$work/err"; then ok
else no "run --fail-fast=yes:"; cat "$work/err"; fi

# Standard output closed: said, and nothing runs.
rm -f "$work/ran"
"$a" run "$work/c.toml" >&- 2>"$work/err"
rc=$?
if [ "$rc" -eq 64 ] && grep -q "^assay: standard output is closed" "$work/err" && [ ! -e "$work/ran" ]
then ok; else no "run with standard output closed: exit $rc, ran: $(ls "$work")"; cat "$work/err"; fi

# A report standard output cannot take is said, not only exit 3.
if [ -w /dev/full ]; then
	"$a" run "$work/c.toml" >/dev/full 2>"$work/err"
	[ $? -eq 3 ] && grep -q "cannot write the human report to standard output: No space left" "$work/err" &&
		ok || { no "run >/dev/full"; cat "$work/err"; }
fi

# --only suggests groups as well as nodes.
"$a" run "$work/c.toml" --only nett >"$work/out" 2>"$work/err"
if [ $? -eq 64 ] && grep -q "no such node or group (did you mean 'net'?)" "$work/err"; then ok
else no "--only nett:"; cat "$work/err"; fi

# --dry-run prints the selection (assay(1)).
"$a" run "$work/c.toml" --dry-run --only last >"$work/out" 2>&1
if grep -q "last <- files" "$work/out" && ! grep -q "net.dns" "$work/out"; then ok
else no "--dry-run --only:"; cat "$work/out"; fi

# A validation whose items ran once reports attempts 1 (assay(1)).
"$a" run "$work/c.toml" --format json >"$work/out" 2>"$work/err"
if "${PYTHON3:-python3}" -c 'import json, sys
d = {n["id"]: n for n in json.load(open(sys.argv[1]))["nodes"]}
sys.exit(d["files"]["attempts"] != 1)' "$work/out"; then ok; else no "validation attempts"; fi

# A cycle is one error (assay(1) no longer lists a bug for it).
cat >"$work/cycle.toml" <<'TOML'
[plugins]
load = ["exec"]
[check.a]
type = "exec"
command = ["true"]
after = ["b"]
[check.b]
type = "exec"
command = ["true"]
after = ["a"]
TOML
"$a" check-config "$work/cycle.toml" >"$work/out" 2>"$work/err"
if [ $? -eq 78 ] && [ "$(wc -l <"$work/err")" -eq 2 ] && grep -q ": 1 error$" "$work/err" &&
   ! grep -q "out of memory" "$work/err"; then ok; else no "cycle:"; cat "$work/err"; fi

# --allow-unset: structure checked without secrets; a run still refuses.
cat >"$work/secret.toml" <<'TOML'
[plugins]
load = ["exec"]
[check.api]
type = "exec"
command = ["curl", "-H", "Authorization: Bearer ${env:ASSAY_CLI_UNSET}"]
timeout = "${env:ASSAY_CLI_UNSET}"
TOML
unset ASSAY_CLI_UNSET
for cmd in "check-config" "graph" "run --dry-run"; do
	# shellcheck disable=SC2086
	"$a" $cmd "$work/secret.toml" >"$work/out" 2>"$work/err"
	rc=$?
	[ "$rc" -eq 78 ] && [ "$(grep -c "is not set" "$work/err")" -eq 2 ] &&
		grep -q ": 2 errors$" "$work/err" && ok || { no "$cmd without --allow-unset: $rc"; cat "$work/err"; }
	# shellcheck disable=SC2086
	"$a" $cmd --allow-unset "$work/secret.toml" >"$work/out" 2>"$work/err"
	rc=$?
	[ "$rc" -eq 0 ] && [ "$(grep -c ": warning: environment variable \`ASSAY_CLI_UNSET\` is not set" "$work/err")" -eq 2 ] &&
		grep -q ": 2 warnings$" "$work/err" && ok || { no "$cmd --allow-unset: $rc"; cat "$work/err"; }
done
"$a" run "$work/secret.toml" --allow-unset >"$work/out" 2>"$work/err"
[ $? -eq 64 ] && grep -q "use it with --dry-run" "$work/err" && ok || { no "run --allow-unset"; cat "$work/err"; }
# The structure is still checked: a real mistake is still an error.
sed 's/^timeout = /tiemout = /' "$work/secret.toml" >"$work/typo.toml"
"$a" check-config --allow-unset "$work/typo.toml" >"$work/out" 2>"$work/err"
[ $? -eq 78 ] && grep -q "unknown key \`tiemout\`" "$work/err" && ok || { no "--allow-unset hides a typo"; cat "$work/err"; }

# --dry-run lists each sweep's trials before the graph: the count, the
# points and repeats, the search, the cap; each id with its full values;
# the first 20 of a large sweep unless -v (assay(1), assay.toml(5)).
cat >"$work/sweep.toml" <<TOML
[plugins]
load = ["exec"]

[trial.lr]
type = "exec"
command = ["true", "{lr}", "{bs}"]
matrix = { bs = [32, 64] }
space = { lr = { loguniform = [1e-5, 1e-1] } }
search = { method = "random", samples = 20, seed = 7 }
repeat = 2
max_trials = 30

[trial.big]
type = "exec"
command = ["true", "{x}"]
space = { x = { int = [1, 1000000] } }
search = { method = "random", samples = 100000 }
TOML
"$a" run "$work/sweep.toml" --dry-run >"$work/out" 2>"$work/err"
if [ $? -eq 0 ] && [ ! -s "$work/err" ] &&
   head -1 "$work/out" | grep -qx "trial lr: 30 trials = 15 points x 2 repeats (random search, seed 7, capped by max_trials)" &&
   sed -n 2p "$work/out" | grep -qx "  lr\[lr=5.43e-5,bs=32,seed=0\]: lr=5.4316388538509654e-05 bs=32 seed=0" &&
   grep -qx "  ... and 10 more (-v lists them all)" "$work/out" &&
   grep -qx "trial big: 100000 trials = 100000 points (random search, seed 0)" "$work/out" &&
   grep -qx "  ... and 99980 more (-v lists them all)" "$work/out" &&
   [ "$(grep -c '^  lr\[.*\]: ' "$work/out")" -eq 20 ] && grep -q "^  big\[x=" "$work/out"; then ok
else no "--dry-run lists sweeps:"; head -3 "$work/out"; cat "$work/err"; fi
"$a" run "$work/sweep.toml" --dry-run -v >"$work/out" 2>&1
[ "$(grep -c '^  lr\[.*\]: ' "$work/out")" -eq 30 ] && [ "$(grep -c '^  big\[.*\]: ' "$work/out")" -eq 100000 ] &&
	ok || no "--dry-run -v lists every trial"
# --only: the trials selected, and how many of the sweep's they are.
"$a" run "$work/sweep.toml" --dry-run --only "lr[lr=5.43e-5,bs=32,seed=1]" >"$work/out" 2>&1
head -2 "$work/out" | tr '\n' '|' | grep -qx "trial lr: 30 trials = 15 points x 2 repeats (random search, seed 7, capped by max_trials); --only runs 1 of them|  lr\[lr=5.43e-5,bs=32,seed=1\]: lr=5.4316388538509654e-05 bs=32 seed=1|" &&
	! grep -q "^trial big" "$work/out" && ok || { no "--dry-run --only a trial:"; head -3 "$work/out"; }

# A plugin file that is no shared object says so.
: >"$work/empty.so"
printf '[plugins]\nload = ["./empty.so"]\n' >"$work/p.toml"
"$a" check-config "$work/p.toml" >"$work/out" 2>"$work/err"
[ $? -eq 78 ] && grep -q "the file is empty, not a shared object" "$work/err" && ok || { no "empty plugin"; cat "$work/err"; }

[ "$fail" -eq 0 ] && echo "cli: $passed passed, 0 failed"
exit "$fail"
