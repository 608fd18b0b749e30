#!/bin/sh
# man-example.sh -- assay-plugin(3)'s example plugin and config, taken from
# the page between its `example-begin` and `example-end` comments, build
# with -Wall -Werror against include/assay/plugin.h and run with the real
# assay: so the page cannot drift from the ABI.
set -eu
page="$top_srcdir/doc/assay-plugin.3"
dir=$(mktemp -d "${TMPDIR:-/tmp}/assay-man-example.XXXXXX")
trap 'rm -rf "$dir"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# The lines between `.\" example-begin: NAME` and `.\" example-end`, with
# the roff escapes the page writes for C and TOML undone.
extract() {
	awk -v name="$1" '
		$0 == ".\\\" example-end" { on = 0 }
		on { print }
		$0 == ".\\\" example-begin: " name { on = 1; found = 1 }
		END { exit !found }' "$page" |
	sed -e 's/\\-/-/g' -e "s/\\\\(aq/'/g" -e 's/\\(dq/"/g' -e 's/\\(ga/`/g' -e 's/\\e/\\/g'
}

extract file_age.c >"$dir/file_age.c" || fail "no file_age.c example in $page"
extract assay.toml >"$dir/example.toml" || fail "no assay.toml example in $page"
${CC:-cc} -std=c11 -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden \
	-I"$top_srcdir/include" -o "$dir/file_age.so" "$dir/file_age.c" ||
	fail "the example plugin does not compile"

# The page's config, with the plugin found here and the file it checks.
run() {
	{
		echo '[plugins]'
		echo "path = [\"$dir\"]"
		sed -e '/^\[plugins\]$/d' -e "s|^path = .*|path = \"$dir/db.dump\"|" "$dir/example.toml"
	} >"$dir/assay.toml"
	out=$("$top_builddir/assay" "$@" "$dir/assay.toml" 2>&1) && rc=0 || rc=$?
}

touch "$dir/db.dump"
run run
[ "$rc" -eq 0 ] || fail "a new file: exit $rc, want 0: $out"
echo "$out" | grep -q "^OK  *backup  *$dir/db.dump is [0-9]* s old" || fail "a new file: $out"

touch -d '3 days ago' "$dir/db.dump"
run run --format json
[ "$rc" -eq 2 ] || fail "a file 3 days old: exit $rc, want 2: $out"
echo "$out" | grep -q '"crit":[[:space:]]*"172800"' || fail "a file 3 days old: no threshold: $out"

sed -i 's/^path = /paht = /' "$dir/example.toml"
run check-config
echo "$out" | grep -q "unknown key \`paht\` in check \`backup\` (type \`file_age\`) (did you mean \`path\`?)" ||
	fail "a misspelt option: $out"
echo "ok: the example plugin of assay-plugin(3) builds and runs"
