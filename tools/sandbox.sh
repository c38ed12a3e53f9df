#!/bin/sh
# sandbox.sh CMD... - runs CMD in a private network and mount namespace, with
# its own /sys, /run/netns and /run/fwsh: whatever it does to links and namespaces is
# gone when it ends, and the host's are never touched.
set -eu
mkdir -p /run/netns
exec unshare --net --mount --propagation private sh -c '
  mount -t sysfs sysfs /sys 2>/dev/null || true
  mount -t tmpfs -o mode=755 fwsh-sandbox /run/netns
  mkdir -p /run/fwsh && mount -t tmpfs -o mode=755 fwsh-sandbox /run/fwsh
  ip link set lo up
  # FWSH_PRELOAD (the AddressSanitizer runtime) is for the command, not for ip.
  if [ -n "${FWSH_PRELOAD:-}" ]; then exec env LD_PRELOAD="$FWSH_PRELOAD" "$@"; fi
  exec "$@"' sandbox "$@"
