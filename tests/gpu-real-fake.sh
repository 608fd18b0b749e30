#!/bin/sh
# gpu-real-fake.sh -- tests/gpu-real.sh where there is no GPU: against the
# fake NVML ($FAKE_NVML), the fake libcuda beside it and a fake nvidia-smi,
# all reading one state file -- four GPUs, then a GPU in MIG mode with two
# units beside a plain one -- so the real-GPU script's logic is proven in
# every make check, and a machine without NVML makes it skip (77).
set -u
top=${top_builddir:-$(cd "$(dirname "$0")/.." && pwd)}
src=${top_srcdir:-$top}
[ -f "$top/plugins/.libs/gpu.so" ] || { echo "SKIP: the gpu plugin is not built"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
cat >"$work/nvidia-smi" <<SH
#!/bin/sh
# nvidia-smi --query-gpu=uuid --format=csv,noheader, from the fake's state
sed -n 's/^gpu uuid=\([^ ]*\).*/\1/p' "$work/state"
SH
chmod +x "$work/nvidia-smi"
# run TITLE EXPECTED-STATUS: gpu-real.sh on the state file as it is now.
run() {
	FAKE_NVML_STATE=$work/state NVML_LIBRARY=$FAKE_NVML \
		CUDA_LIBRARY=$top/tests/fake-nvml/libcuda.so.1 NVIDIA_SMI=$work/nvidia-smi \
		top_builddir=$top sh "$src/tests/gpu-real.sh" >"$work/out" 2>&1
	rc=$?
	sed 's/^/    /' "$work/out"
	if [ "$rc" -eq "$2" ]; then echo "ok: $1"; else echo "FAIL: $1 (exit $rc, want $2)"; fail=1; fi
}
i=1
: >"$work/state"
while [ $i -le 4 ]; do
	echo "gpu uuid=GPU-11111111-2222-3333-4444-55555555550$i memory_mb=16384 used_mb=$((i * 100))" >>"$work/state"
	i=$((i + 1))
done
run "four fake GPUs" 0
cat >"$work/state" <<STATE
gpu uuid=GPU-11111111-2222-3333-4444-555555555501 memory_mb=81920 mig=1
mig uuid=MIG-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeee01 memory_mb=10240
mig uuid=MIG-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeee02 memory_mb=10240
gpu uuid=GPU-11111111-2222-3333-4444-555555555502 memory_mb=40960
STATE
run "a GPU in MIG mode and a plain one" 0
echo "init no_driver" >"$work/state"
run "no driver: skipped" 77
exit $fail
