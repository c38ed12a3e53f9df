#!/bin/sh
# deps.sh - installs the Debian 12 packages fwsh builds, runs and tests with,
# asking apt only for what is missing.
set -eu
PACKAGES="build-essential cmake pkg-config lua5.4 liblua5.4-dev libnl-3-dev libnl-route-3-dev
libreadline-dev libkmod-dev lua-busted lua-dkjson iproute2 bridge-utils util-linux valgrind tmux jq
keepalived conntrackd conntrack nftables libnftables-dev qemu-system-x86 iputils-ping"
missing=""
for p in $PACKAGES $*; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
