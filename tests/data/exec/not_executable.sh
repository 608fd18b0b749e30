#!/bin/sh
# not_executable.sh: deliberately not executable (mode 644): running it
# must fail with "Permission denied".
exit 0
