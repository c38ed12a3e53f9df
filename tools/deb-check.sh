#!/bin/sh
# deb-check.sh ROOT DEB - checks fwsh's .deb in a copy of a clean Debian 12
# root (ROOT, e.g. made once by `debootstrap --variant=minbase bookworm ROOT`):
# `apt-get install ./fwsh_*.deb` resolves its Depends, then `fwsh --version`,
# `man fwsh` and `lua5.4 -e 'require "fwsh"'` work, and `apt-get purge fwsh`
# leaves none of its files. The copy is removed after; ROOT is not changed.
# Needs root and the network (apt in the copy). Last line: "deb check: ok".
set -eu
root=$1 deb=$2
. "$(dirname "$0")/root-copy.sh"
root_copy "$root" "$deb" deb-check
name=$(basename "$deb")
unshare --mount --propagation private sh -eu -c '
  w=$1 name=$2 cache=$3
  mount -t proc proc "$w/proc"
  inroot() { chroot "$w" env DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
  mount -t devpts devpts "$w/dev/pts" 2>/dev/null || true
  inroot apt-get update -qq
  # The packages downloaded are kept beside ROOT for the next check.
  mount --bind "$cache" "$w/var/cache/apt/archives"
  inroot apt-get install -y -qq --no-install-recommends man-db >/dev/null
  # Its Depends only: what Recommends bring (qemu, keepalived...) is not the package.
  inroot apt-get install -y -qq --no-install-recommends "/tmp/$name" >/dev/null
  echo "installed: $(inroot dpkg-query -W -f "\${Package} \${Version} \${Status}" fwsh)"
  echo "fwsh --version: $(inroot fwsh --version)"
  echo "man fwsh: $(inroot man -P cat fwsh 2>/dev/null | grep -m1 "fwsh - ")"
  echo "lua5.4 require: $(inroot lua5.4 -e "local f = require \"fwsh\"; print(f.version, type(f.bridge.add))")"
  echo "lua5.4 require fwsh.firewall: $(inroot lua5.4 -e "print(type(require(\"fwsh.firewall\").build))")"
  echo "lua5.4 require fwsh.hosts: $(inroot lua5.4 -e "print(type(require(\"fwsh.hosts\").host))")"
  inroot dpkg -L fwsh | sort > "$w/tmp/files"
  inroot apt-get purge -y -qq fwsh >/dev/null
  left=""
  while read -r f; do
    case $f in /usr|/usr/bin|/usr/lib|/usr/lib/x86_64-linux-gnu|/usr/share|/usr/share/man|/usr/share/man/man1|/usr/lib/x86_64-linux-gnu/lua|/usr/lib/x86_64-linux-gnu/lua/5.4|/usr/share/lua|/usr/share/lua/5.4|/.) continue ;; esac
    [ -e "$w$f" ] && left="$left $f"
  done < "$w/tmp/files"
  echo "files of the package: $(wc -l < "$w/tmp/files"), left after purge:${left:- none}"
  [ -z "$left" ]
  umount "$w/var/cache/apt/archives"
  umount "$w/dev/pts" 2>/dev/null || true
  umount "$w/proc"
' sh "$work" "$name" "$cache"
echo "deb check: ok"
