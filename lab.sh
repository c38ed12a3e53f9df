#!/bin/sh
# lab.sh - installs what is needed, builds fwsh, and builds the seed lab in a
# sandbox (a fresh private network namespace: nothing on the host changes,
# all of it is gone on exit), then shows it.
#
#   ./lab.sh [seed.lua arguments, e.g. "up 192.168.50.1/24"]
#   FWSH_LAB_ON_HOST=1 ./lab.sh    builds it on the host instead (remove with
#                                  build/fwsh scripts/seed.lua down)
set -eu
cd "$(dirname "$0")"
tools/deps.sh
tools/build.sh build
if [ -n "${FWSH_LAB_ON_HOST:-}" ]; then
  exec build/fwsh scripts/seed.lua "$@"
fi
exec build/fwsh --sandbox scripts/seed.lua "$@"
