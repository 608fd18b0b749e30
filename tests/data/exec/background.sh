#!/bin/sh
# background.sh PIDFILE: leaves a grandchild that holds stdout open, writes
# its pid to PIDFILE, and exits at once.
sleep 1000 &
echo $! > "$1"
echo "parent done | files=3"
exit 0
