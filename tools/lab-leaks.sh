#!/bin/sh
# lab-leaks.sh [-n RUNS] [-i SECONDS] SCRIPT [ARGS...] - runs a lab script
# RUNS times (default 10), each in a fresh sandbox of its own (network, mount
# and PID namespaces, as tools/sandbox.sh plus a PID namespace so that ps sees
# only the run's processes), without --sandbox, so that what it leaves behind
# is visible: the links, named namespaces and processes after each run must
# be those before it. With -i,
# each run is interrupted by SIGINT after SECONDS (the Ctrl-C path).
# The scenario's summary lines (outage_ms:, tcp_stream:) are shown per run.
# Last line: "N runs, N leaks".
set -eu
cd "$(dirname "$0")/.."
runs=10 interrupt=""
while getopts n:i: o; do
  case $o in n) runs=$OPTARG ;; i) interrupt=$OPTARG ;; *) exit 2 ;; esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [-n RUNS] [-i SECONDS] SCRIPT [ARGS...]" >&2; exit 2; }
leaks=0 i=0
while [ "$i" -lt "$runs" ]; do
  i=$((i + 1))
  if INTERRUPT="$interrupt" unshare --net --mount --pid --fork --mount-proc --propagation private sh -c '
    mount -t sysfs sysfs /sys 2>/dev/null || true
    mount -t tmpfs -o mode=755 fwsh-leaks /run/netns
    ip link set lo up
    state() { ip -o link | cut -d: -f2 | sort; ls /run/netns; ps -e -o comm= | grep -v -x -e ps -e sh -e sort -e grep -e cut -e ls | sort; }
    before=$(state)
    if [ -n "$INTERRUPT" ]; then
      build/fwsh "$@" > /dev/null 2>&1 & pid=$!
      sleep "$INTERRUPT"; kill -INT $pid; wait $pid || true
    else
      build/fwsh "$@" > /tmp/fwsh-leaks.$$ 2>&1 || echo "run failed: $?"
      grep -e "^outage_ms: " -e "^tcp_stream: " -e "^mac_move_ms " /tmp/fwsh-leaks.$$ | tr "\n" " "; echo
      rm -f /tmp/fwsh-leaks.$$
    fi
    after=$(state)
    [ "$before" = "$after" ] && exit 0
    echo "left behind:"; printf "%s\n" "$after" | grep -v -x -F "$before" | sed "s/^/  /"; exit 1
  ' sandbox "$@"; then
    echo "run $i: clean"
  else
    echo "run $i: LEAK"; leaks=$((leaks + 1))
  fi
done
echo "$runs runs, $leaks leaks"
[ "$leaks" -eq 0 ]
