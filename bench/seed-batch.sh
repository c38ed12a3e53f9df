#!/bin/sh
# seed-batch.sh - the seed topology (scripts/seed.lua) with `ip -batch`: the same
# end state as fwsh's, so IPv6 goes off on br1 and br2 between the two batches
# (ip has no sysctl, and it must happen before they go up). Run it inside the
# namespace:  ip netns exec NS sh bench/seed-batch.sh
set -e
ip -batch - <<'END'
link add br0 type bridge
addr add 10.0.0.1/24 dev br0
link set br0 up
link add br1 type bridge
link add br2 type bridge
tuntap add net01 mode tap
tuntap add net02 mode tap
tuntap add net11 mode tap
tuntap add net12 mode tap
tuntap add net13 mode tap
tuntap add net21 mode tap
tuntap add net22 mode tap
END
sysctl -qw net.ipv6.conf.br1.disable_ipv6=1 net.ipv6.conf.br2.disable_ipv6=1
ip -batch - <<'END'
link set br1 up
link set br2 up
link set net01 up master br0
link set net02 up master br0
link set net11 up master br1
link set net12 up master br1
link set net13 up master br1
link set net21 up master br2
link set net22 up master br2
END
