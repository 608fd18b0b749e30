#!/bin/sh
# default-config.sh -- the installed default configuration and the
# examples are valid, and the default one runs to a real verdict on this
# machine: every node answers, none is left without a message.  Then both
# do what they claim, with fake df, gcloud, gsutil and curl on the PATH:
# the default reads a monitoring plugin's WARNING as WARNING and a probe
# that cannot answer as UNKNOWN; the example's billing gate passes only
# when gcloud printed True, and a plain command's exit 1 is a failure.
set -u
a="$top_builddir/assay"
fail=0
"$a" check-config "$top_srcdir/conf/assay.toml" || { echo "FAIL: conf/assay.toml is invalid"; fail=1; }
PROJECT=example TOKEN=example "$a" check-config "$top_srcdir/conf/examples/infra.toml" ||
	{ echo "FAIL: conf/examples/infra.toml is invalid"; fail=1; }
out=$(mktemp)
"$a" run "$top_srcdir/conf/assay.toml" --format json >"$out"
rc=$?
cat "$out"
case $rc in
0|1|2|3) ;;
*) echo "FAIL: assay run exited $rc"; fail=1 ;;
esac
"${PYTHON3:-python3}" - "$out" "$rc" <<'PY' || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
rank = {"OK": 0, "UNKNOWN": 1, "WARNING": 2, "CRITICAL": 3}
code = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}
bad = [n["id"] for n in d["nodes"] if not n["message"] or n["status"] == "SKIPPED"]
worst = max((n["status"] for n in d["nodes"]), key=lambda s: rank.get(s, 1))
if bad or len(d["nodes"]) < 8 or code[worst] != int(sys.argv[2]):
    print(f"FAIL: nodes without an answer {bad}, worst {worst}, exit {sys.argv[2]}")
    sys.exit(1)
print(f"default config: {len(d['nodes'])} checks answered, worst {worst}")
PY
rm -f "$out"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/bin"
# fake COMMAND BODY: a shell script on the fake PATH
fake() {
	printf '#!/bin/sh\n%s\n' "$2" >"$work/bin/$1"
	chmod +x "$work/bin/$1"
}
# expect TAG CONFIG WANT_RC ID=STATUS[~MESSAGE_REGEX]...: run CONFIG with
# the fakes first on the PATH, from $work, and check the json report
# ($work/TAG.json).
expect() {
	tag=$1 config=$2 want_rc=$3
	shift 3
	# A state dir per run: those that run at once would meet at the
	# config's run lock.
	(cd "$work" && PATH="$work/bin:$PATH" PROJECT=example TOKEN=t0ken \
		STATE_DIRECTORY="$work/state-$tag" \
		"$a" run "$config" --format json >"$work/$tag.json" 2>"$work/$tag.err")
	rc=$?
	[ "$rc" -eq "$want_rc" ] || { echo "FAIL: $config exited $rc, want $want_rc"; cat "$work/$tag.json" "$work/$tag.err"; return 1; }
	"${PYTHON3:-python3}" - "$work/$tag.json" "$@" <<'PY'
import json, re, sys
nodes = {n["id"]: n for n in json.load(open(sys.argv[1]))["nodes"]}
bad = []
for want in sys.argv[2:]:
    nid, rest = want.split("=", 1)
    status, _, pattern = rest.partition("~")
    n = nodes[nid]
    if n["status"] != status or not re.search(pattern, n["message"]):
        bad.append(f"{nid}: {n['status']} {n['message']!r}, want {status} /{pattern}/")
print("\n".join("FAIL " + b for b in bad) or "as claimed: " + " ".join(sys.argv[2:]))
sys.exit(1 if bad else 0)
PY
}

# The default configuration: df says / is 90% full (WARNING, not a
# failure), then says nothing at all (UNKNOWN, not OK).
fake df 'echo "Filesystem 1024-blocks Used Available Capacity Mounted on"
echo "/dev/sda1 1000000 900000 100000 90% /"'
sed -n '/^\[runner\]/,/^\[check\.disk\.inodes\]/p' "$top_srcdir/conf/assay.toml" |
	sed '$d' >"$work/default.toml"
expect full "$work/default.toml" 1 'disk.root=WARNING~^90% of / used' || fail=1
fake df 'exit 1'
expect mute "$work/default.toml" 3 'disk.root=UNKNOWN~^cannot tell how full / is' || fail=1

# The example: gcloud fails, or says billing is off: the gate is CRITICAL
# and nothing else runs.  It says True: the rest runs, and gsutil's exit 1
# for a missing bucket is CRITICAL, which skips the launch smoke test.
fake gcloud 'case "$1 $2" in
"billing projects") case $FAKE_BILLING in
	fail) echo "ERROR: (gcloud.billing.projects.describe) permission denied" >&2; exit 1 ;;
	*) echo "$FAKE_BILLING" ;;
	esac ;;
"compute regions") echo 16.0 ;;
*) echo "email: trainer@example.iam.gserviceaccount.com" ;;
esac'
fake gsutil 'case $3 in
*-models) echo "BucketNotFoundException: 404 $3 bucket does not exist." >&2; exit 1 ;;
*) echo "$3/" ;;
esac'
fake curl 'exit 0'
echo 'print("launch: dry run ok")' >"$work/launch.py"
infra="$top_srcdir/conf/examples/infra.toml"
skipped='SKIPPED~^gate `billing` is CRITICAL$'
# The gate retries its failures (with backoff): these three wait together.
FAKE_BILLING=fail expect fail "$infra" 2 "billing=CRITICAL~^cannot read the project's billing: gcloud failed$" \
	"storage.bucket_data=$skipped" "compute.gpu_quota=$skipped" "launch_smoke=$skipped" &
p1=$!
FAKE_BILLING=False expect off "$infra" 2 'billing=CRITICAL~^billing is not enabled \(billingEnabled=False\)$' \
	"network.api=$skipped" "launch_smoke=$skipped" &
p2=$!
FAKE_BILLING= expect empty "$infra" 2 'billing=CRITICAL~billingEnabled=nothing' "storage.bucket_data=$skipped" &
p3=$!
wait $p1 || fail=1
wait $p2 || fail=1
wait $p3 || fail=1
FAKE_BILLING=True expect on "$infra" 2 'billing=OK~^billing is enabled$' 'storage.bucket_data=OK~^gs://.*-data/$' \
	'storage.bucket_models=CRITICAL~^BucketNotFoundException: 404 ' 'compute.gpu_quota=OK~^A100 quota 16.0$' \
	'compute.service_account=OK' 'network.api=OK' \
	'launch_smoke=SKIPPED~^dependency `storage.bucket_models` is CRITICAL$' || fail=1
exit "$fail"
