#!/bin/sh
# include-cycles.sh -- the core's files depend on each other one way: no
# include cycle among core/*.c and core/*.h.  A unit is a file's name
# without its extension, and a file named UNIT_PART (run_exec.c,
# config_read.h, report_json.c) belongs to UNIT when there is a UNIT.c or
# UNIT.h; a unit depends on every unit whose header one of its files
# includes.  tsort(1) finds the cycle and names its units.  The check is
# first shown to catch one in a made-up core.
set -u
fail=0

# Each unit, then one "unit dependency" line per include, for tsort.
edges() {
	for f in "$1"/*.c "$1"/*.h; do
		from=$(unit "$1" "$f")
		echo "$from $from"
		sed -n 's/^#[ 	]*include[ 	]*"\([^"/]*\)".*/\1/p' "$f" | while read -r h; do
			[ -e "$1/$h" ] || continue
			to=$(unit "$1" "$h")
			[ "$to" = "$from" ] || echo "$from $to"
		done
	done
}

unit() {
	name=$(basename "$2")
	name=${name%.*}
	whole=${name%%_*}
	if [ "$whole" != "$name" ] && { [ -e "$1/$whole.c" ] || [ -e "$1/$whole.h" ]; }; then
		name=$whole
	fi
	echo "$name"
}

# tsort says "input contains a loop" and lists the units on stderr.
cycles() {
	edges "$1" | tsort 2>&1 >/dev/null
}

made_up=$(mktemp -d)
trap 'rm -rf "$made_up"' EXIT
printf '#include "b.h"\n' >"$made_up/a.h"
printf '#include "a.h"\n' >"$made_up/b_part.c"
printf '\n' >"$made_up/b.h"
printf '#include "a.h"\n' >"$made_up/c.c"
if [ -z "$(cycles "$made_up")" ]; then
	echo "FAIL: the cycle a.h -> b.h, b_part.c -> a.h went unnoticed"
	fail=1
fi

found=$(cycles "$top_srcdir/core")
if [ -n "$found" ]; then
	echo "FAIL: an include cycle among core's files:"
	echo "$found"
	fail=1
fi
[ "$fail" -eq 0 ] && echo "include-cycles: the core's includes go one way"
exit "$fail"
