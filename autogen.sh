#!/bin/sh
# autogen.sh -- generates configure; with --install-deps, first installs the build dependencies.
#
#   ./autogen.sh                 autoreconf only
#   ./autogen.sh --install-deps  apt-get install the Debian/Ubuntu packages, then autoreconf
set -e

# Build and test dependencies on Debian 12 / Ubuntu 22.04 and later.
DEPS="build-essential autoconf automake libtool libltdl-dev pkg-config
libcurl4-openssl-dev libcjson-dev check python3"

install_deps() {
	if ! command -v apt-get >/dev/null 2>&1; then
		echo "autogen.sh: no apt-get here; install the equivalents of:" >&2
		echo "  $(echo $DEPS)" >&2
		exit 1
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "autogen.sh: installing packages needs root; run:" >&2
		echo "  sudo apt-get update && sudo apt-get install -y $(echo $DEPS)" >&2
		echo "then ./autogen.sh again (without --install-deps)." >&2
		exit 1
	fi
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q $DEPS
}

case "${1:-}" in
--install-deps) install_deps ;;
"") ;;
-h|--help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
*) echo "autogen.sh: unknown option $1 (try --help)" >&2; exit 64 ;;
esac

cd "$(dirname "$0")"
for tool in autoreconf libtoolize pkg-config; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "autogen.sh: $tool not found; run ./autogen.sh --install-deps" >&2
		exit 1
	fi
done
mkdir -p m4
exec autoreconf --install --force --warnings=all
