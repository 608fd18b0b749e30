#!/bin/sh
# default-config.sh -- the installed default configuration and the
# examples are valid, and the default one runs to a real verdict on this
# machine: every node answers, none is left without a message.
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
exit "$fail"
