#!/bin/sh
# emit.sh CODE [STDOUT [STDERR]]: prints STDOUT and STDERR as given (no
# newline added) and exits with CODE; the exec tests' stand-in plugin.
printf '%s' "${2-}"
printf '%s' "${3-}" >&2
exit "$1"
