#!/bin/sh
# toml-test.sh -- runs the toml-test 1.0.0 suite against tests/toml-decode.
#
# The suite lives outside the tree (../shared/toml-test by default, or
# TOML_TEST_DIR); without it the test is skipped (exit 77), never passed.
dir=${TOML_TEST_DIR:-}
[ -n "$dir" ] || dir="$top_srcdir/../shared/toml-test"
if [ ! -x "$dir/run-suite" ]; then
	echo "toml-test not found at $dir (set TOML_TEST_DIR): skipped"
	exit 77
fi
if [ -z "${PYTHON3:-}" ]; then
	echo "python3 not found: toml-test skipped"
	exit 77
fi
# The suite must pass whole; a single failure fails make check.
exec "$PYTHON3" "$dir/run-suite" "$top_builddir/tests/toml-decode"
