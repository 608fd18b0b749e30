#!/bin/sh
# gpu.sh -- integration: the gpu plugin with the real assay and the fake
# libnvidia-ml.so.1 (FAKE_NVML; its state file re-read on every call).
# Trials never share a device, within a run or across two runs at once;
# kill -9 of one run frees its devices for the other; gpu_shared packs by
# memory; MIG units are devices of their own; plan-time refusals name
# file:line:col; a hanging NVML fails only the nodes that wait for GPUs;
# without a library, a driver or a device check-config passes and the run
# says "no GPU here" for GPU nodes only; reports carry the devices; `assay
# gpus` lists them (exit 3 without NVML).  Every run locks in its own
# lock_dir, never the machine's.
set -u
a="$top_builddir/assay"
lib=${FAKE_NVML:-$top_builddir/tests/fake-nvml/libnvidia-ml.so.1}
py=${PYTHON3:-python3}
work=$(mktemp -d)
orphans="$work/orphans"
: >"$orphans"
cleanup() {
	# Trials' children left behind by the kill -9 test.
	for p in $(cat "$orphans"); do kill -9 "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT
fail=0
check() { # check DESCRIPTION COMMAND...: the command must succeed
	what=$1
	shift
	"$@" || { echo "FAIL: $what"; fail=1; }
}

if [ ! -r "$lib" ]; then
	echo "FAIL: no fake NVML at $lib (make check builds it)"
	exit 1
fi
export FAKE_NVML_STATE="$work/state"

# state TEXT: the fake NVML's state, replaced atomically.
state() {
	printf '%s\n' "$1" >"$work/state.next" && mv "$work/state.next" "$work/state"
}
g() { printf 'GPU-00000000-0000-0000-0000-00000000000%s' "$1"; }
four="gpu uuid=$(g 1) memory_mb=40960 used_mb=1000 util=10
gpu uuid=$(g 2) memory_mb=40960 util=20
gpu uuid=$(g 3) memory_mb=40960 util=30
gpu uuid=$(g 4) memory_mb=40960 util=40"

# header FILE [EXTRA]: [plugins] and [plugins.gpu] for a config.
header() {
	cat >"$1" <<TOML
[plugins]
load = ["exec", "gpu"]

[plugins.gpu]
nvml_library = "$lib"
lock_dir = "$work/locks"
nvml_timeout = "2s"
retry_interval = "20ms"
${2:-}
TOML
}

# trials FILE NAME N SECONDS RESOURCES: N trials that each log
# "<CUDA_VISIBLE_DEVICES> <start ns> <end ns>" to $work/NAME.log.
trials() {
	cat >>"$1" <<TOML

[trial.$2]
type = "exec"
command = ["sh", "-c", "s=\$(date +%s%N); sleep $4; echo \"\$CUDA_VISIBLE_DEVICES \$s \$(date +%s%N)\" >>$work/$2.log"]
matrix = { i = [$(seq -s, 1 "$3")] }
resources = { $5 }
TOML
}

# no_overlap LOG MAX_PER_DEVICE: no device in more than MAX trials at once
# (a trial holding several devices counts on each).
no_overlap() {
	"$py" - "$1" "$2" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
events = []
for devs, s, e in rows:
    for d in devs.split(","):
        events += [(int(s), 1, d), (int(e), -1, d)]
events.sort(key=lambda x: (x[0], x[1]))  # an end before a start at the same ns
now, worst = {}, {}
for t, k, d in events:
    now[d] = now.get(d, 0) + k
    worst[d] = max(worst.get(d, 0), now[d])
bad = {d: n for d, n in worst.items() if n > int(sys.argv[2])}
if bad:
    print("overlapping:", bad)
sys.exit(1 if bad else 0)
PY
}

# ---- 8 trials on 4 GPUs ---------------------------------------------------
state "$four"
header "$work/eight.toml"
trials "$work/eight.toml" eight 8 0.3 "gpu = 1"
"$a" run "$work/eight.toml" --format json >"$work/eight.json" 2>"$work/eight.err"
check "8 trials on 4 GPUs: exit 0, not $?" [ $? -eq 0 ]
check "8 trials ran" [ "$(wc -l <"$work/eight.log")" -eq 8 ]
check "each trial got one of the 4 fake GPUs" \
	[ "$(cut -d' ' -f1 "$work/eight.log" | grep -c '^GPU-00000000-0000-0000-0000-00000000000[1-4]$')" -eq 8 ]
check "no two trials shared a device" no_overlap "$work/eight.log" 1
check "4 devices were used at once" \
	[ "$(cut -d' ' -f1 "$work/eight.log" | sort -u | wc -l)" -eq 4 ]
check "the JSON report carries each trial's device" "$py" - "$work/eight.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if all(len(n.get("devices", [])) == 1 and n["devices"][0].startswith("GPU-")
                  for n in r["nodes"]) else 1)
PY

# ---- jobs = 1: every trial gets the best device ----------------------------
header "$work/one.toml"
printf '\n[runner]\njobs = 1\n' >>"$work/one.toml"
trials "$work/one.toml" one 3 0.05 "gpu = 1"
"$a" run "$work/one.toml" >/dev/null 2>&1
check "jobs = 1: three trials all got the best GPU (1: 10 % busy beats 20 %)" \
	[ "$(cut -d" " -f1 "$work/one.log" | sort -u)" = "$(g 1)" ]

# ---- two assay processes at once never double-book -------------------------
for r in x y; do
	header "$work/$r.toml"
	trials "$work/$r.toml" both 6 0.3 "gpu = 1"
done
"$a" run "$work/x.toml" >/dev/null 2>&1 &
px=$!
"$a" run "$work/y.toml" >/dev/null 2>&1
ry=$?
wait "$px"
rx=$?
check "two runs at once: both exit 0 ($rx, $ry)" [ "$rx" -eq 0 ] && [ "$ry" -eq 0 ]
check "two runs: 12 trials" [ "$(wc -l <"$work/both.log")" -eq 12 ]
check "two runs never shared a device" no_overlap "$work/both.log" 1

# ---- kill -9 of one run frees its devices for the other ---------------------
header "$work/hog.toml"
cat >>"$work/hog.toml" <<TOML
[trial.hog]
type = "exec"
command = ["sh", "-c", "echo \$\$ >>$orphans; echo \$CUDA_VISIBLE_DEVICES >>$work/hog.log; exec sleep 60"]
matrix = { i = [1, 2, 3, 4] }
resources = { gpu = 1 }
TOML
header "$work/late.toml"
trials "$work/late.toml" late 1 0 "gpu = 1"
"$a" run "$work/hog.toml" >/dev/null 2>&1 &
hog=$!
n=0
while [ "$(cat "$work/hog.log" 2>/dev/null | wc -l)" -lt 4 ] && [ $n -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
check "the hog holds all 4 GPUs" [ "$(sort -u "$work/hog.log" | wc -l)" -eq 4 ]
header "$work/look.toml"
"$a" gpus "$work/look.toml" --format json >"$work/look.json" 2>&1
check "assay gpus names the hog as each lease's holder" "$py" - "$work/look.json" "$hog" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["devices"]
sys.exit(0 if len(d) == 4 and all(x["lease"]["state"] == "leased" and
                                  x["lease"]["pid"] == int(sys.argv[2]) and
                                  "node=hog[i=" in x["lease"]["text"] for x in d) else 1)
PY
"$a" run "$work/late.toml" --format json >"$work/late.json" 2>&1 &
late=$!
sleep 1
check "the late run waits while the hog holds every GPU" [ ! -e "$work/late.log" ]
kill -9 "$hog"
wait "$hog" 2>/dev/null
n=0
while kill -0 "$late" 2>/dev/null && [ $n -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
wait "$late"
check "after kill -9 of the hog the late run got a GPU and exited 0 ($?)" [ -s "$work/late.log" ]

# ---- gpu_shared packs by booked memory ------------------------------------
state "gpu uuid=$(g 1) memory_mb=40960"
header "$work/pack.toml"
trials "$work/pack.toml" pack 6 0.5 "gpu = 1, gpu_memory_mb = 12000, gpu_shared = true"
"$a" run "$work/pack.toml" >/dev/null 2>&1
check "packing: exit 0, 6 trials" [ "$(wc -l <"$work/pack.log")" -eq 6 ]
check "packing: never more than 3 x 12000 MB on 40960 MB" no_overlap "$work/pack.log" 3
"$py" - "$work/pack.log" <<'PY' || { echo "FAIL: packing: trials did not share the GPU"; fail=1; }
import sys
rows = sorted((int(s), int(e)) for _, s, e in (l.split() for l in open(sys.argv[1])))
sys.exit(0 if any(rows[i + 1][0] < rows[i][1] for i in range(len(rows) - 1)) else 1)
PY

# ---- MIG units ------------------------------------------------------------------
mig="gpu uuid=$(g 5) memory_mb=81920 mig=1
mig uuid=MIG-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeee01 memory_mb=10240
mig uuid=MIG-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeee02 memory_mb=10240"
state "$mig"
header "$work/mig.toml"
trials "$work/mig.toml" mig 4 0.2 "gpu = 1"
"$a" run "$work/mig.toml" >/dev/null 2>&1
check "MIG: 4 trials ran" [ "$(wc -l <"$work/mig.log")" -eq 4 ]
check "MIG: each got a MIG unit, never the GPU" \
	[ "$(cut -d' ' -f1 "$work/mig.log" | grep -c '^MIG-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeee0[12]$')" -eq 4 ]
check "MIG: no unit shared" no_overlap "$work/mig.log" 1

# ---- plan-time refusals: exit 78, the message at file:line:col -------------
refused() { # refused TOML_RESOURCES MESSAGE: check-config and run exit 78
	header "$work/bad.toml"
	trials "$work/bad.toml" bad 1 0 "$1"
	line=$(grep -n '^resources' "$work/bad.toml" | cut -d: -f1)
	for cmd in check-config run; do
		"$a" $cmd "$work/bad.toml" >/dev/null 2>"$work/bad.err"
		rc=$?
		check "$1 ($cmd): exit 78, not $rc" [ "$rc" -eq 78 ]
		check "$1 ($cmd): $(head -1 "$work/bad.err")" grep -qF "$work/bad.toml:$line:$2" "$work/bad.err"
	done
}
state "$four"
refused "gpu = 5" '21: `gpu = 5`: this machine has 4 candidate devices'
refused "gpu = 1, gpu_memory_mb = 50000" '40: `gpu_memory_mb = 50000`: more than any candidate device has (the largest has 40960 MB)'
refused "gpu = 1, gpu_mem = 1" '24: unknown key `gpu_mem` in `resources`'
state "$mig"
refused "gpu = 2" '21: `gpu = 2`: a node gets at most one MIG unit'
state "$four"
CUDA_VISIBLE_DEVICES=GPU-1,2 refused "gpu = 2" \
	'21: `gpu = 2`: this machine has 0 candidate devices (as CUDA_VISIBLE_DEVICES allows)'

# ---- no GPU: no library, no driver, zero devices ---------------------------
# nodes: gpu (asks for one), after_gpu (depends on it), cpu (does not).
nogpu() { # nogpu WHAT LIBRARY: the GPU node UNKNOWN, the rest as usual
	cat >"$work/no.toml" <<TOML
[plugins]
load = ["exec", "gpu"]

[plugins.gpu]
nvml_library = "$2"
lock_dir = "$work/locks"

[trial.gpu]
type = "exec"
command = ["touch", "$work/gpu-ran"]
resources = { gpu = 1 }

[check.after_gpu]
type = "exec"
command = ["true"]
after = ["gpu"]

[check.cpu]
type = "exec"
command = ["true"]
TOML
	"$a" check-config "$work/no.toml" >/dev/null 2>&1
	check "$1: check-config passes ($?)" [ $? -eq 0 ]
	"$a" run "$work/no.toml" >"$work/no.out" 2>&1
	rc=$?
	check "$1: run exits 3 (UNKNOWN), not $rc" [ "$rc" -eq 3 ]
	check "$1: the GPU node never ran" [ ! -e "$work/gpu-ran" ]
	check "$1: the GPU node is UNKNOWN, no GPU here: $(grep '^UNKNOWN' "$work/no.out")" \
		grep -q '^UNKNOWN  *gpu  *no GPU here: ' "$work/no.out"
	check "$1: its dependent is SKIPPED" grep -q '^SKIPPED  *after_gpu ' "$work/no.out"
	check "$1: the CPU check ran" grep -q '^OK  *cpu' "$work/no.out"
	"$a" plugins "$work/no.toml" >"$work/plugins.out" 2>&1
	check "$1: assay plugins lists gpu" grep -q '^gpu ' "$work/plugins.out"
	rm -f "$work/gpu-ran"
}
nogpu "no library" "$work/none/libnvidia-ml.so.1"
rm -f "$work/state"
nogpu "no driver" "$lib"
state "init ok"
nogpu "zero devices" "$lib"

# ---- a hanging NVML: GPU nodes fail with a reason, others go on -------------
state "$four
hang nvmlDeviceGetMemoryInfo_v2"
header "$work/hang.toml"
sed -i 's/^nvml_timeout = .*/nvml_timeout = "1s"/' "$work/hang.toml"
cat >>"$work/hang.toml" <<TOML
[trial.g]
type = "exec"
command = ["touch", "$work/hang-ran"]
resources = { gpu = 1 }

[check.cpu]
type = "exec"
command = ["true"]
TOML
start=$(date +%s)
timeout 60 "$a" run "$work/hang.toml" >"$work/hang.out" 2>&1
rc=$?
took=$(( $(date +%s) - start ))
check "hang: run exits 3, not $rc" [ "$rc" -eq 3 ]
check "hang: assay exits promptly (${took}s)" [ "$took" -lt 15 ]
check "hang: the GPU node never ran" [ ! -e "$work/hang-ran" ]
check "hang: the GPU node says why: $(grep '^UNKNOWN' "$work/hang.out")" \
	grep -q '^UNKNOWN  *g  *no GPU here: ' "$work/hang.out"
check "hang: the CPU check ran" grep -q '^OK  *cpu' "$work/hang.out"

# ---- loading the plugin alone reads no NVML -----------------------------------
# A run without GPU nodes, and `assay plugins`, start no helper process:
# the fake NVML logs no call.
state "$four"
header "$work/nogpu-nodes.toml" '[check.cpu]
type = "exec"
command = ["true"]'
FAKE_NVML_LOG="$work/unread.log" "$a" run "$work/nogpu-nodes.toml" >/dev/null 2>&1
check "a run without GPU nodes: exit 0 ($?)" [ $? -eq 0 ]
FAKE_NVML_LOG="$work/unread.log" "$a" plugins "$work/nogpu-nodes.toml" >/dev/null 2>&1
check "no NVML call without a GPU node or assay gpus" [ ! -s "$work/unread.log" ]

# ---- assay gpus ---------------------------------------------------------------
state "$four"
header "$work/gpus.toml"
"$a" gpus "$work/gpus.toml" >"$work/gpus.out" 2>&1
rc=$?
cat "$work/gpus.out"
check "assay gpus: exit 0, not $rc" [ "$rc" -eq 0 ]
check "assay gpus lists the 4 devices" [ "$(grep -c '^\[[0-3]\] GPU-' "$work/gpus.out")" -eq 4 ]
check "assay gpus shows memory, score and lease" \
	grep -q "^\[0\] $(g 1)  Fake GPU  10 %  1000 / 40960 MB  score 0\.[0-9]*  0 processes  free$" \
	"$work/gpus.out"
"$a" gpus "$work/gpus.toml" --format json >"$work/gpus.json" 2>&1
check "assay gpus --format json" "$py" - "$work/gpus.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
d = r["devices"]
sys.exit(0 if len(d) == 4 and d[1]["memory_total_mb"] == 40960 and d[1]["utilization"] == 20
         and d[0]["lease"]["state"] == "free" else 1)
PY
"$a" gpus "$work/gpus.toml" --bogus >/dev/null 2>&1
check "assay gpus --bogus: exit 64 ($?)" [ $? -eq 64 ]
rm -f "$work/state"
"$a" gpus "$work/gpus.toml" >/dev/null 2>"$work/gpus.err"
rc=$?
check "assay gpus without NVML: exit 3, not $rc" [ "$rc" -eq 3 ]
check "assay gpus without NVML says why" grep -q 'no GPU here: .*Driver Not Loaded' "$work/gpus.err"
exit "$fail"
