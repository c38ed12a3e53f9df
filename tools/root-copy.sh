# root-copy.sh - sourced by the checks that install fwsh's .deb into a copy of
# a clean Debian 12 root (deb-check.sh, ci-recipe-check.sh):
#   root_copy ROOT DEB NAME  -> $work: a copy of ROOT under /var/tmp, removed
#   at exit (never across a mount point), with DEB in its /tmp, this
#   machine's resolv.conf, and a policy-rc.d that keeps what the packages
#   install from starting (the copy shares this machine's network);
#   $cache: where the packages apt downloads are kept beside ROOT for the
#   next check. ROOT itself is never changed.
root_copy() {
  [ -x "$1/usr/bin/apt-get" ] || { echo "$3: $1 is no Debian root" >&2; exit 2; }
  work=$(mktemp -d "/var/tmp/fwsh-$3.XXXXXX")
  # (mounts into the copy are made in a mount namespace of their own and go with it)
  trap 'rm -rf --one-file-system "$work"' EXIT
  cp -a "$1/." "$work/"
  cp "$2" "$work/tmp/"
  cp /etc/resolv.conf "$work/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' > "$work/usr/sbin/policy-rc.d"
  chmod 755 "$work/usr/sbin/policy-rc.d"
  cache=$(dirname "$1")/apt-archives
  mkdir -p "$cache"
}
