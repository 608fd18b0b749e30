#!/bin/sh
# lock.sh -- integration: the run lock.  A second run of a config while one
# runs exits 75 at once, naming the holder's pid and when it took the lock;
# --lock-wait waits for it to end (then runs), or gives up with 75 after
# that long, or leaves at once on SIGINT; kill -9 of the holder frees the
# lock at once; another config runs beside it; --dry-run takes no lock;
# the children of a run do not hold the lock's descriptor.
set -u
a="$top_builddir/assay"
work=$(mktemp -d)
STATE_DIRECTORY="$work/state"
export STATE_DIRECTORY
children=""
trap 'for c in $children; do kill -9 "$c" 2>/dev/null; done; rm -rf "$work"' EXIT
fail=0
check() { # check DESCRIPTION COMMAND...: the command must succeed
	what=$1
	shift
	if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fail=1; fi
}
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# config NAME SECONDS: a node that records its pid, then sleeps.
config() {
	cat >"$work/$1.toml" <<TOML
[plugins]
load = ["exec"]

[check.sleeper]
type = "exec"
command = ["sh", "-c", "echo \$\$ >'$work/$1.pid'; exec sleep $2"]
TOML
}
# wait_for FILE: until it exists and is not empty (at most 10 s).
wait_for() {
	n=0
	while [ ! -s "$1" ] && [ $n -lt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	[ -s "$1" ]
}

config infra 3
config other 0.1
"$a" run "$work/infra.toml" >"$work/holder.out" 2>&1 &
holder=$!
children="$holder"
wait_for "$work/infra.pid" || { echo "FAIL: the first run never started its node"; exit 1; }
child=$(cat "$work/infra.pid")
children="$children $child"

# A second run: 75 at once, naming the holder.
t0=$(now_ms)
"$a" run "$work/infra.toml" >"$work/second.out" 2>"$work/second.err"
rc=$?
took=$(( $(now_ms) - t0 ))
check "a second run exits 75 (got $rc)" [ "$rc" -eq 75 ]
check "at once (${took} ms)" [ "$took" -lt 1500 ]
check "naming the holder's pid and time: $(cat "$work/second.err")" \
	grep -Eqx "assay: another run of infra.toml holds the lock since [0-2][0-9]:[0-5][0-9]:[0-5][0-9], pid $holder" \
	"$work/second.err"
check "and printing no report" [ ! -s "$work/second.out" ]

# The holder's child does not hold the lock.
lockfile=$(ls "$STATE_DIRECTORY"/infra-*/lock)
check "the lock file is in the config's state directory" [ -f "$lockfile" ]
check "the holder has the lock file open" sh -c "ls -l /proc/$holder/fd | grep -q -- '$lockfile\$'"
check "its child (pid $child) does not" sh -c "! ls -l /proc/$child/fd | grep -q -- '$lockfile\$'"

# --dry-run takes no lock; another config runs beside the holder.
"$a" run --dry-run "$work/infra.toml" >/dev/null 2>&1
check "--dry-run while it runs exits 0 ($?)" [ $? -eq 0 ]
"$a" run "$work/other.toml" >/dev/null 2>&1
rc=$?
check "another config runs while it runs ($rc)" [ "$rc" -eq 0 ]

# --lock-wait shorter than the holder: 75 after that long.
t0=$(now_ms)
"$a" run --lock-wait 200ms "$work/infra.toml" >/dev/null 2>"$work/short.err"
rc=$?
took=$(( $(now_ms) - t0 ))
check "--lock-wait 200ms gives up with 75 (got $rc)" [ "$rc" -eq 75 ]
check "after about 200 ms (${took} ms)" [ "$took" -ge 200 ] && [ "$took" -lt 2000 ]
check "saying it waited: $(cat "$work/short.err")" \
	grep -Eqx "assay: another run of infra.toml holds the lock since .*, pid $holder \(waited 200ms\)" \
	"$work/short.err"

# SIGINT while waiting: it leaves at once.
"$a" run --lock-wait 60s "$work/infra.toml" >/dev/null 2>"$work/int.err" &
waiter=$!
children="$children $waiter"
# Waiting once it has the lock file open (it opens it, then waits).
n=0
while ! ls -l "/proc/$waiter/fd" 2>/dev/null | grep -q -- "$lockfile\$" && [ $n -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
sleep 0.1
t0=$(now_ms)
kill -INT "$waiter"
wait "$waiter"
rc=$?
took=$(( $(now_ms) - t0 ))
check "SIGINT while waiting exits 130 (got $rc)" [ "$rc" -eq 130 ]
# (Within 50 ms; a sanitizer's runtime may take a second to pass it on.)
check "at once (${took} ms)" [ "$took" -lt 2000 ]
check "saying so: $(cat "$work/int.err")" \
	grep -qx "assay: interrupted while waiting for the lock of infra.toml" "$work/int.err"

# --lock-wait longer than the holder: it runs once the holder is done.
rm -f "$work/infra.pid"
"$a" run --lock-wait 10s "$work/infra.toml" >"$work/long.out" 2>&1
rc=$?
check "--lock-wait 10s waits and runs (exit $rc)" [ "$rc" -eq 0 ]
wait "$holder"
check "the holder ended OK ($?)" [ $? -eq 0 ]
check "after the holder: its node ran" [ -s "$work/infra.pid" ]

# kill -9 of the holder: the next run takes the lock at once.
rm -f "$work/infra.pid"
"$a" run "$work/infra.toml" >/dev/null 2>&1 &
holder=$!
children="$children $holder"
wait_for "$work/infra.pid" || echo "FAIL: the new holder never started its node"
children="$children $(cat "$work/infra.pid")"
kill -9 "$holder"
wait "$holder" 2>/dev/null
config infra 0
t0=$(now_ms)
"$a" run "$work/infra.toml" >/dev/null 2>"$work/after-kill.err"
rc=$?
took=$(( $(now_ms) - t0 ))
check "after kill -9 of the holder the next run gets the lock (exit $rc)" [ "$rc" -eq 0 ]
check "at once (${took} ms): $(cat "$work/after-kill.err")" [ "$took" -lt 1500 ]

# Bad values are usage errors.
"$a" run --lock-wait soon "$work/infra.toml" >/dev/null 2>"$work/bad.err"
rc=$?
check "--lock-wait soon is a usage error (64, got $rc)" [ "$rc" -eq 64 ] &&
	grep -q "lock-wait takes a duration" "$work/bad.err"
exit "$fail"
