#!/bin/sh
# grandchildren.sh PIDFILE: starts background sleeps (one of them two
# levels down), writes their pids to PIDFILE, then waits forever: only
# killing the whole process group stops all of it.
sleep 1000 &
echo $! >> "$1"
sleep 1000 &
echo $! >> "$1"
sh -c 'sleep 1000 & echo $! >> "$1"; wait' sh "$1" &
echo $! >> "$1"
# Give the nested shell time to write its child's pid.
while [ "$(wc -l < "$1")" -lt 4 ]; do sleep 0.01; done
echo started
wait
