#!/bin/sh
# gpu-real.sh -- integration on a machine with real NVIDIA GPUs: the gpu
# plugin with the real libnvidia-ml.so.1 and libcuda.so.1.  Skipped (77)
# where NVML does not answer.  Trials check, through CUDA's own
# enumeration (tests/cuda-devices), that they see exactly the device they
# were granted; two trials on one GPU run one after the other, unless
# gpu_shared packs them; `assay gpus` agrees with CUDA (and nvidia-smi
# where there is one).  MIG is left to the fake NVML (gpu.sh): a test must
# not change a real GPU's MIG mode.
#
# On a machine without build tools, carry the built tree: assay, its
# plugins/.libs, tests/cuda-devices and the shared libraries they need
# (LD_LIBRARY_PATH).
set -u
a="$top_builddir/assay"
helper="$top_builddir/tests/cuda-devices"
py=${PYTHON3:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
check() { # check DESCRIPTION COMMAND...: the command must succeed
	what=$1
	shift
	"$@" || { echo "FAIL: $what"; fail=1; }
}
unset SLURM_JOB_GPUS SLURM_STEP_GPUS
unset FAKE_NVML_STATE

header() { # header FILE: plugins and a lock_dir of our own
	cat >"$1" <<TOML
[plugins]
load = ["exec", "gpu"]

[plugins.gpu]
lock_dir = "$work/locks"
foreign = "ignore"
TOML
}
header "$work/gpus.toml"
"$a" gpus "$work/gpus.toml" --format json >"$work/gpus.json" 2>"$work/gpus.err"
rc=$?
if [ "$rc" -eq 3 ]; then
	echo "SKIP: no real NVML here: $(cat "$work/gpus.err")"
	exit 77
fi
check "assay gpus: exit 0, not $rc" [ "$rc" -eq 0 ] || exit 1
cat "$work/gpus.json"
"$helper" >"$work/cuda" 2>"$work/cuda.err"
rc=$?
if [ "$rc" -eq 77 ]; then
	echo "SKIP: NVML answers but CUDA does not: $(cat "$work/cuda.err")"
	exit 77
fi
check "cuda-devices: exit 0, not $rc" [ "$rc" -eq 0 ]

# Whole GPUs only (MIG units are not this test's), with no one else's
# processes: those a node could be given.
"$py" - "$work/gpus.json" >"$work/uuids" <<'PY'
import json, sys
for d in json.load(open(sys.argv[1]))["devices"]:
    if "parent" not in d and "nvml_error" not in d:
        print(d["uuid"].lower())
PY
n=$(wc -l <"$work/uuids")
echo "$n GPU(s): $(tr '\n' ' ' <"$work/uuids")"
check "assay gpus lists a GPU" [ "$n" -ge 1 ] || exit 1
check "assay gpus and CUDA list the same GPUs" \
	[ "$(sort "$work/uuids")" = "$(tr 'A-Z' 'a-z' <"$work/cuda" | sort)" ]
if command -v nvidia-smi >/dev/null 2>&1; then
	nvidia-smi --query-gpu=uuid --format=csv,noheader | tr 'A-Z' 'a-z' | sort >"$work/smi"
	check "assay gpus and nvidia-smi list the same GPUs" [ "$(sort "$work/uuids")" = "$(cat "$work/smi")" ]
fi

# Each trial: the device it was granted, what CUDA shows it, start, end.
trials() { # trials FILE NAME N SECONDS RESOURCES
	cat >>"$1" <<TOML

[trial.$2]
type = "exec"
command = ["sh", "-c", "s=\$(date +%s%N); seen=\$($helper | tr '\\\\n' ,); sleep $4; echo \"\$CUDA_VISIBLE_DEVICES \$seen \$s \$(date +%s%N)\" >>$work/$2.log"]
matrix = { i = [$(seq -s, 1 "$3")] }
resources = { $5 }
TOML
}
header "$work/each.toml"
trials "$work/each.toml" each $((2 * n)) 0.5 "gpu = 1"
"$a" run "$work/each.toml" >"$work/each.out" 2>&1
check "trials on every GPU: exit 0 ($?)" [ $? -eq 0 ]
cat "$work/each.log"
check "each trial saw exactly its device through CUDA" "$py" - "$work/each.log" <<'PY'
import sys
ok = True
for line in open(sys.argv[1]):
    granted, seen, _, _ = line.split()
    if [granted.lower()] != [s.lower() for s in seen.split(",") if s]:
        print("granted", granted, "CUDA saw", seen)
        ok = False
sys.exit(0 if ok else 1)
PY

# One GPU (the runner's own CUDA_VISIBLE_DEVICES): two trials serialise...
first=$(head -1 "$work/uuids")
overlap() { # overlap LOG: did two trials run at once?
	"$py" - "$1" <<'PY'
import sys
rows = sorted((int(s), int(e)) for *_, s, e in (l.split() for l in open(sys.argv[1])))
sys.exit(0 if any(rows[i + 1][0] < rows[i][1] for i in range(len(rows) - 1)) else 1)
PY
}
not_overlap() {
	! overlap "$1"
}
header "$work/one.toml"
trials "$work/one.toml" one 2 1 "gpu = 1"
CUDA_VISIBLE_DEVICES=$first "$a" run "$work/one.toml" >/dev/null 2>&1
check "one GPU: exit 0 ($?)" [ $? -eq 0 ]
check "two trials on one GPU ran one after the other" not_overlap "$work/one.log"
# ... unless gpu_shared packs them by booked memory.
header "$work/pack.toml"
trials "$work/pack.toml" pack 2 1 "gpu = 1, gpu_memory_mb = 100, gpu_shared = true"
CUDA_VISIBLE_DEVICES=$first "$a" run "$work/pack.toml" >/dev/null 2>&1
check "gpu_shared: exit 0 ($?)" [ $? -eq 0 ]
check "gpu_shared: two trials shared the GPU at once" overlap "$work/pack.log"
exit "$fail"
