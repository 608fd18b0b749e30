#!/bin/sh
# ignore_term.sh: ignores SIGTERM (and so does the sleep it starts, which
# inherits the ignored disposition): only SIGKILL ends it.
trap '' TERM
echo ready
sleep 1000
