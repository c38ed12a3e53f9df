#!/bin/sh
# deb-root.sh ROOT - makes ROOT a clean Debian 12 root (debootstrap
# --variant=minbase bookworm) from the same apt source this machine installs
# from, once: a ROOT that exists is kept. Made beside ROOT and renamed into
# place, so that a run stopped half way leaves no half root that looks whole.
set -eu
root=$1
[ -e "$root/etc/debian_version" ] && exit 0
command -v debootstrap >/dev/null || { echo "deb-root: debootstrap is not installed" >&2; exit 2; }
# The first bookworm source of apt's own configuration (deb822 or one-line).
mirror=$( { awk '/^URIs:/ {u=$2} /^Suites:/ && / bookworm( |$)/ && u {print u; exit}' \
              /etc/apt/sources.list.d/*.sources 2>/dev/null
            awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null; } |
          head -n 1)
mirror=${mirror:-http://deb.debian.org/debian}
mkdir -p "$(dirname "$root")"
tmp=$(mktemp -d "$root.new.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
debootstrap --variant=minbase bookworm "$tmp" "$mirror" > "$tmp.log" 2>&1 ||
  { tail -5 "$tmp.log" >&2; rm -f "$tmp.log"; exit 1; }
rm -f "$tmp.log"
rm -rf "$root"
mv "$tmp" "$root"
trap - EXIT
