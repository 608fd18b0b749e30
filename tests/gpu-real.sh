#!/bin/sh
# gpu-real.sh -- the gpu plugin end to end on a machine with NVIDIA GPUs:
# `assay gpus` agrees with NVML (nvidia-smi) and with CUDA's own
# enumeration; trials granted a GPU see, through libcuda, exactly the
# devices they were granted (tests/cuda_devices --check); two trials never
# hold one device at once, and on one device they run one after the other
# unless `gpu_shared` packs them, then side by side.
#
# Skips (77) where no real libnvidia-ml.so.1 answers (`assay gpus` exits 3)
# or the gpu plugin is not built; in make check here it skips, and
# tests/gpu-real-fake.sh runs it against the fake NVML and a fake libcuda.
#
# Running it on another machine, which needs no build tools: carry the
# built tree -- assay, plugins/.libs/exec.so and gpu.so, tests/cuda_devices,
# this script -- and the shared libraries they link that the machine
# lacks (`ldd assay plugins/.libs/*.so`): libltdl.so.7 and libcjson.so.1
# (libcurl.so.4 only for http.so, not used here).  Then, from the top of
# the tree:
#     LD_LIBRARY_PATH=/path/to/those/libs sh tests/gpu-real.sh
# (or top_builddir=/path/to/tree sh /path/to/tree/tests/gpu-real.sh).  It
# changes nothing on the machine: its locks live in a temp dir, MIG
# settings are only read.  Environment, all optional: NVML_LIBRARY (the
# plugin's nvml_library; default: the soname, as ld.so finds it),
# CUDA_LIBRARY (tests/cuda_devices' libcuda), NVIDIA_SMI (default
# nvidia-smi; "none" to skip that comparison), ASSAY_FLAGS (e.g.
# --allow-insecure-plugins where the carried files are group-writable).
set -u
top=${top_builddir:-$(cd "$(dirname "$0")/.." && pwd)}
a=$top/assay
cuda=$top/tests/cuda_devices
plugins=$top/plugins/.libs
flags=${ASSAY_FLAGS:-}
skip() {
	echo "SKIP: $*"
	exit 77
}
[ -x "$a" ] || skip "no $a: build the tree first"
[ -x "$cuda" ] || skip "no $cuda (make check builds it)"
[ -f "$plugins/gpu.so" ] || skip "the gpu plugin is not built ($plugins/gpu.so)"
[ -f "$plugins/exec.so" ] || skip "the exec plugin is not built ($plugins/exec.so)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
check() { # check DESCRIPTION COMMAND...: the command must succeed
	what=$1
	shift
	if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fail=1; fi
}
# The runner's own environment decides the candidates: start from none.
unset CUDA_VISIBLE_DEVICES SLURM_JOB_GPUS SLURM_STEP_GPUS
ASSAY_PLUGIN_PATH=$plugins
CUDA_DEVICE_ORDER=PCI_BUS_ID
export ASSAY_PLUGIN_PATH CUDA_DEVICE_ORDER

# config JOBS: the head of every configuration.
config() {
	printf '[runner]\njobs = %s\n\n[plugins]\nload = ["exec", "gpu"]\n\n' "$1"
	# Other users' processes on a shared machine must not make a device
	# busy for this test: it checks grants, not politeness.
	printf '[plugins.gpu]\nlock_dir = "%s/locks"\nforeign = "ignore"\n' "$work"
	[ -n "${NVML_LIBRARY:-}" ] && printf 'nvml_library = "%s"\n' "$NVML_LIBRARY"
	echo
}
# trials N PREFIX MODE RESOURCES: N trials running tests/trial.sh.
trials() {
	i=1
	while [ "$i" -le "$1" ]; do
		printf '[trial.%s%s]\ntype = "exec"\ncommand = ["sh", "%s/trial.sh", "%s%s", "%s"]\n' \
			"$2" "$i" "$work" "$2" "$i" "$3"
		printf 'resources = %s\ntimeout = "120s"\n\n' "$4"
		i=$((i + 1))
	done
}
# json_values KEY FILE: every string value of KEY, one a line.
# UUIDs' hex digits in lower case, as NVML writes them (CUDA's helper too).
json_values() {
	tr ',{}' '\n\n\n' <"$2" | sed -n "s/^[[:space:]]*\"$1\":[[:space:]]*\"\\([^\"]*\\)\".*/\\1/p" |
		tr 'A-F' 'a-f'
}

# --- does NVML answer here? ----------------------------------------------
config 1 >"$work/probe.toml"
"$a" $flags gpus "$work/probe.toml" --format json >"$work/gpus.json" 2>"$work/gpus.err"
rc=$?
[ "$rc" -eq 3 ] && skip "NVML does not answer here: $(cat "$work/gpus.err")"
if [ "$rc" -ne 0 ]; then
	echo "FAIL: assay gpus exited $rc"
	cat "$work/gpus.err"
	exit 1
fi
"$a" $flags gpus "$work/probe.toml"
json_values parent "$work/gpus.json" | sort -u >"$work/parents"
json_values uuid "$work/gpus.json" | grep -v '^$' >"$work/uuids"
# The devices nodes are granted: GPUs not in MIG mode, and MIG units.
grep -vxF -f "$work/parents" "$work/uuids" >"$work/devices"
# Every GPU, MIG mode or not.
{ grep '^GPU-' "$work/uuids"; cat "$work/parents"; } | sort -u >"$work/gpus"
n=$(wc -l <"$work/devices")
echo "devices: $n ($(tr '\n' ' ' <"$work/devices"))"
check "assay gpus lists at least one device" [ "$n" -ge 1 ]
[ "$n" -gt 8 ] && n=8

# --- NVML and CUDA agree with assay --------------------------------------
smi=${NVIDIA_SMI:-nvidia-smi}
if [ "$smi" != none ] && command -v "$smi" >"$work/smi-path" 2>&1; then
	"$smi" --query-gpu=uuid --format=csv,noheader | tr -d ' ' | tr 'A-F' 'a-f' | sort -u >"$work/smi"
	echo "nvidia-smi: $(tr '\n' ' ' <"$work/smi")"
	check "assay gpus lists the GPUs nvidia-smi lists" cmp -s "$work/smi" "$work/gpus"
else
	echo "note: no nvidia-smi; NVML compared through CUDA only"
fi
if [ -s "$work/parents" ]; then
	echo "note: MIG mode is on; CUDA's unfiltered view lists units, not compared"
else
	"$cuda" >"$work/cuda-all" 2>&1
	check "cuda_devices runs" [ $? -eq 0 ]
	tr 'A-F' 'a-f' <"$work/cuda-all" | sort -u >"$work/cuda"
	echo "CUDA sees: $(tr '\n' ' ' <"$work/cuda")"
	check "CUDA enumerates the GPUs assay lists" cmp -s "$work/cuda" "$work/gpus"
fi

# --- the trial: CUDA sees its grant; a device held alone or shared -------
cat >"$work/trial.sh" <<SH
#!/bin/sh
# trial.sh NAME MODE -- MODE alone: no other trial may hold the device
# meanwhile; shared: another trial must run beside it.
name=\$1
dev=\$CUDA_VISIBLE_DEVICES
w=$work
echo "\$dev" >"\$w/granted.\$name"
date +%s.%N >"\$w/start.\$name"
"$cuda" --check >"\$w/seen.\$name" 2>&1 || { cat "\$w/seen.\$name" >&2; exit 1; }
case \$2 in
alone)
	mkdir "\$w/held.\$dev" || { echo "\$dev is held by another trial" >&2; exit 1; }
	sleep 1
	rmdir "\$w/held.\$dev" ;;
shared)
	: >"\$w/in.\$name"
	i=0
	while [ \$(ls "\$w" | grep -c '^in\\.') -lt 2 ]; do
		i=\$((i + 1))
		[ \$i -gt 300 ] && { echo "no other trial ran beside \$name" >&2; exit 1; }
		sleep 0.1
	done ;;
esac
date +%s.%N >"\$w/end.\$name"
SH

# Twice as many trials as devices, all at once: each device in use, never
# by two at a time, and every trial's CUDA sees its one device.
{ config $((2 * n)); trials $((2 * n)) x alone '{ gpu = 1 }'; } >"$work/excl.toml"
"$a" $flags run "$work/excl.toml" --format json >"$work/excl.json" 2>"$work/excl.err"
check "trials on every device succeed" [ $? -eq 0 ]
cat "$work"/seen.x* "$work/excl.err"
check "each trial was granted exactly one device" \
	sh -c "cat '$work'/granted.x* | grep -c . | grep -qx $((2 * n)) && ! grep -q , '$work'/granted.x*"
cat "$work"/granted.x* | tr 'A-F' 'a-f' | sort -u >"$work/granted"
check "the trials used all $n devices" [ "$(wc -l <"$work/granted")" -eq "$n" ]
check "every grant is a listed device" sh -c "! grep -vxF -f '$work/devices' '$work/granted'"
check "the JSON report names the device a trial held" grep -qF "$(head -n 1 "$work/granted.x1")" "$work/excl.json"

# One device: two trials take turns, unless gpu_shared packs them.
one=$(head -n 1 "$work/devices")
{ config 2; trials 2 s alone '{ gpu = 1 }'; } >"$work/serial.toml"
CUDA_VISIBLE_DEVICES=$one "$a" $flags run "$work/serial.toml" >"$work/serial.out" 2>&1
check "two trials on $one succeed" [ $? -eq 0 ]
cat "$work"/seen.s*
for t in s1 s2; do echo "$t: $(cat "$work/start.$t") .. $(cat "$work/end.$t") on $(cat "$work/granted.$t")"; done
check "the two trials on one GPU did not overlap" awk -v a="$(cat "$work/start.s1")" \
	-v b="$(cat "$work/end.s1")" -v c="$(cat "$work/start.s2")" -v d="$(cat "$work/end.s2")" \
	'BEGIN { exit !(b <= c || d <= a) }'
{ config 2; trials 2 p shared '{ gpu = 1, gpu_memory_mb = 256, gpu_shared = true }'; } >"$work/pack.toml"
CUDA_VISIBLE_DEVICES=$one "$a" $flags run "$work/pack.toml" >"$work/pack.out" 2>&1
check "two gpu_shared trials ran side by side on $one" [ $? -eq 0 ]
for t in p1 p2; do echo "$t: $(cat "$work/start.$t") .. $(cat "$work/end.$t" 2>&1) on $(cat "$work/granted.$t")"; done
[ "$fail" -eq 0 ] || { cat "$work/serial.out" "$work/pack.out"; }
exit "$fail"
