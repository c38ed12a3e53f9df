#!/bin/sh
# firewalld-sandbox.sh DIR [--bus-only] - a private system bus and a private
# firewalld, for specs and for trying fwsh.firewalld out without touching the
# host's firewall:
#   - the network namespace is the one it is started in: start it in a
#     throwaway one (`ip netns exec NS tools/firewalld-sandbox.sh DIR`), and
#     firewalld's nftables rules live and die there;
#   - its own mount and PID namespaces: a tmpfs on /run (firewalld's run
#     files), and every process it starts ends when it ends;
#   - firewalld's configuration in DIR/etc (--system-config), not /etc/firewalld;
#   - the bus listens on DIR/bus: DBUS_SYSTEM_BUS_ADDRESS=unix:path=DIR/bus.
# With --bus-only, no firewalld: a bus where firewalld is not running.
# Runs until its standard input is closed. Logs: DIR/dbus.log, DIR/firewalld.log.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 DIR [--bus-only]" >&2; exit 2; }
dir=$(cd "$1" && pwd)
mode=${2:-}
exec unshare --mount --pid --fork --kill-child --propagation private sh -c '
  set -eu
  dir=$1 mode=$2
  mount -t proc proc /proc
  mount -t tmpfs -o mode=755 fwsh-firewalld /run
  mkdir -p /run/dbus "$dir/etc"
  cat > "$dir/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$dir/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="root"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF
  dbus-daemon --config-file="$dir/bus.conf" --nofork --nopidfile </dev/null >"$dir/dbus.log" 2>&1 &
  i=0
  while [ ! -S "$dir/bus" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  if [ "$mode" != --bus-only ]; then
    DBUS_SYSTEM_BUS_ADDRESS="unix:path=$dir/bus" firewalld --nofork --nopid \
      --system-config "$dir/etc" --log-target file --log-file "$dir/firewalld.log" \
      </dev/null >>"$dir/firewalld.log" 2>&1 &
  fi
  # Until the caller closes our standard input; leaving the PID namespace
  # then ends firewalld and the bus with it.
  cat >/dev/null
' firewalld-sandbox "$dir" "$mode"
