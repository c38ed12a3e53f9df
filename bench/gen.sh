#!/bin/sh
# gen.sh FORM N T - prints the N x T workload (bench/README.md) in one form: N bridges
# br000.., each up, with T taps t000-0.. up and attached. The same names as
# bench/build.lua and bench/floor.c.
#
#   batch       an `ip -batch` file: the fewest ip commands for it
#   sh          a shell script, one ip/brctl process per step (the seed article's way)
#   batch-del   an `ip -batch` file deleting every link one by one
#   sh-del      a shell script deleting every link, one `ip link del` process each
#   batch-group an `ip -batch` file putting every link in group 7 (for `ip link del group 7`)
set -eu
[ $# -eq 3 ] || { echo "usage: gen.sh batch|sh|batch-del|sh-del|batch-group N T" >&2; exit 2; }
form=$1 n=$2 t=$3

# One line per link: "bridge NAME" or "tap NAME BRIDGE", in creation order.
links() {
  awk -v n="$n" -v t="$t" 'BEGIN {
    for (i = 0; i < n; i++) {
      b = sprintf("br%03d", i); print "bridge", b
      for (k = 0; k < t; k++) printf "tap t%03d-%d %s\n", i, k, b
    } }'
}

case $form in
batch)
  # `link set ... up master ...` does both in one request.
  links | awk '$1 == "bridge" { print "link add " $2 " up type bridge" }
               $1 == "tap" { print "tuntap add " $2 " mode tap"; print "link set " $2 " up master " $3 }' ;;
sh)
  # Step by step as the article goes: bridges, taps, up, addif.
  echo "set -e"
  links | awk '$1 == "bridge" { print "ip link add " $2 " up type bridge" }'
  links | awk '$1 == "tap" { print "ip tuntap add " $2 " mode tap" }'
  links | awk '$1 == "tap" { print "ip link set " $2 " up" }'
  links | awk '$1 == "tap" { print "brctl addif " $3 " " $2 }' ;;
batch-del)
  links | awk '{ print "link del " $2 }' ;;
sh-del)
  echo "set -e"
  links | awk '{ print "ip link del " $2 }' ;;
batch-group)
  links | awk '{ print "link set dev " $2 " group 7" }' ;;
*)
  echo "gen.sh: no form '$form'" >&2; exit 2 ;;
esac
