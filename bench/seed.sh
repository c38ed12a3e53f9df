#!/bin/sh
# seed.sh - the seed topology (scripts/seed.lua) one ip/brctl/sysctl process per
# step, as the seed article builds it, plus what the article takes as given or
# leaves out so that the end state is the same as fwsh's: br0 with its address,
# and IPv6 off on br1 and br2 before they go up. Run it inside the namespace:
#   ip netns exec NS sh bench/seed.sh
set -e
ip link add br0 type bridge
ip addr add 10.0.0.1/24 dev br0
ip link set br0 up
ip link add br1 type bridge
ip link add br2 type bridge
sysctl -qw net.ipv6.conf.br1.disable_ipv6=1
sysctl -qw net.ipv6.conf.br2.disable_ipv6=1
ip link set br1 up
ip link set br2 up
ip tuntap add net01 mode tap
ip tuntap add net02 mode tap
ip tuntap add net11 mode tap
ip tuntap add net12 mode tap
ip tuntap add net13 mode tap
ip tuntap add net21 mode tap
ip tuntap add net22 mode tap
ip link set net01 up
ip link set net02 up
ip link set net11 up
ip link set net12 up
ip link set net13 up
ip link set net21 up
ip link set net22 up
brctl addif br0 net01
brctl addif br0 net02
brctl addif br1 net11
brctl addif br1 net12
brctl addif br1 net13
brctl addif br2 net21
brctl addif br2 net22
