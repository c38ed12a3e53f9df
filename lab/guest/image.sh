#!/bin/sh
# image.sh OUT TOOLS - the guest image of the lab's VM nodes, made from
# Debian packages: Debian's kernel (OUT/vmlinuz) and an initramfs
# (OUT/initrd) holding busybox, keepalived, conntrackd, conntrack, nftables, lftp,
# iproute2 and the lab's programs from TOOLS (fwsh-probe, fwsh-stream,
# fwsh-flows, fwsh itself, fwsh-agent as /init), each with exactly the shared libraries it needs, and
# the kernel modules a firewall node loads, dependencies resolved by kmod.
#
# The packages are downloaded from the Debian archive apt is set up for
# (apt-get download) and unpacked under OUT, never installed: the host does
# not change. OUT/stamp names the inputs (this script, the package versions,
# the programs); the image is rebuilt only when they change.
set -eu
[ $# -eq 2 ] || { echo "usage: image.sh OUT TOOLS" >&2; exit 2; }
mkdir -p "$1"
out=$(cd "$1" && pwd)
tools=$(cd "$2" && pwd)
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")

# One updating line on a terminal, nothing when stderr is not one.
step() { [ -t 2 ] && printf '\r\033[Kguest image: %s' "$*" >&2 || true; }
done_line() { [ -t 2 ] && printf '\r\033[K' >&2 || true; }

BINARIES="/init /bin/busybox /bin/ip /bin/ss /sbin/tc /sbin/bridge /usr/sbin/nft /usr/sbin/conntrack
/usr/sbin/conntrackd /usr/sbin/keepalived /usr/bin/fwsh-probe /usr/bin/fwsh-stream /usr/bin/fwsh-flows /usr/bin/lftp /usr/bin/fwsh"
# What a firewall node loads: virtio devices and the share, netfilter with
# conntrack, its netlink and NAT, the helpers for FTP, macvlan for VRRP's
# virtual MACs. kmod says which are built in and what each needs first.
MODULES="virtio_pci virtio_net virtio_console 9pnet_virtio 9p af_packet macvlan
nf_tables nft_ct nft_objref nft_reject_inet nft_limit nft_log nft_nat nft_masq nft_redir nft_chain_nat nft_quota
nf_conntrack nf_conntrack_netlink nf_conntrack_ftp nf_nat_ftp nfnetlink_log sch_netem"
PACKAGES="busybox-static iproute2 nftables libnftables1 conntrack conntrackd keepalived netbase lftp
liblua5.4-0 libnl-3-200 libnl-route-3-200 libreadline8"

kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
if [ -z "$kpkg" ]; then
  step "apt-get update"
  apt-get update -qq
  kpkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
fi
# The libraries: every library package the programs' packages need, at any depth.
libs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
         --no-replaces --no-enhances $PACKAGES | grep -E '^(lib[^ ]*|zlib1g)$' | sort -u)
pkgs="$kpkg $PACKAGES $libs"
versions=$(apt-cache policy $pkgs | awk '/^[^ ]/ { p = $1 } /Candidate:/ { print p, $2 }')
stamp=$( { cat "$self"; echo "$versions"; echo "$MODULES"
           for t in fwsh-agent fwsh-probe fwsh-stream fwsh-flows fwsh; do sha256sum < "$tools/$t"; done; } | sha256sum | cut -c1-64)
if [ -s "$out/vmlinuz" ] && [ -s "$out/initrd" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]; then
  exit 0
fi

work="$out/work"
rm -rf "$work" "$out/stamp"
mkdir -p "$work/pkg" "$work/root" "$out/debs"
trap 'rm -rf "$work"' EXIT
# The .deb files are kept in OUT/debs: a rebuild for a new program needs no
# network (a --sandbox run has none), only one for new package versions does.
files=$(apt-cache show --no-all-versions $pkgs | sed -n 's|^Filename: .*/||p')
missing=""
for f in $files; do [ -s "$out/debs/$f" ] || missing="$missing ${f%%_*}"; done
if [ -n "$missing" ]; then
  step "downloading$(echo $missing | wc -w | sed 's/^/ /') packages"
  (cd "$out/debs" && apt-get download -q $missing >/dev/null 2>"$work/download.err") || {
    cat "$work/download.err" >&2
    echo "image.sh: cannot download the packages above: no network here? (a --sandbox run has none:" \
         "build the image before, outside it: $self $out $tools)" >&2
    exit 1
  }
  for d in "$out"/debs/*%3a*.deb; do # apt-get names them with the epoch; the pool does not
    [ -e "$d" ] && mv "$d" "$(echo "$d" | sed 's/_[0-9]*%3a/_/')"
  done
fi
for d in "$out"/debs/*.deb; do # what is no longer an input goes
  case " $(echo $files) " in *" $(basename "$d") "*) ;; *) rm -f "$d" ;; esac
done
n=0
for f in $files; do
  n=$((n + 1)); step "unpacking package $n: $f"
  dpkg-deb -x "$out/debs/$f" "$work/pkg"
done
pkg=$work/pkg root=$work/root
mkdir -p "$pkg/usr/bin"
cp "$tools/fwsh-agent" "$pkg/init"
cp "$tools/fwsh-probe" "$tools/fwsh-stream" "$tools/fwsh-flows" "$tools/fwsh" "$pkg/usr/bin/"

# A file of the unpacked packages, found through symlinks inside them
# (/lib may be a link to usr/lib there); printed as a path under $pkg.
resolve() { # path-in-guest
  p=$1 i=0
  while [ -L "$pkg$p" ] && [ $i -lt 20 ]; do
    t=$(readlink "$pkg$p")
    case $t in /*) p=$t ;; *) p=$(dirname "$p")/$t ;; esac
    i=$((i + 1))
  done
  [ -e "$pkg$p" ] && echo "$p"
}
# Copies a file of the packages into the image, at the same path.
place() { # guest-path
  src=$(resolve "$1") || { echo "image.sh: $1 is in none of the packages" >&2; exit 1; }
  mkdir -p "$root$(dirname "$1")"
  cp "$pkg$src" "$root$1"
}
# The libraries an ELF file needs, transitively, placed where ld.so looks.
LIBDIRS="/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /lib64"
needed() { # guest-path
  for so in $(LC_ALL=C readelf -d "$root$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    found=""
    for d in $LIBDIRS; do
      if [ -e "$root$d/$so" ]; then found=1; break; fi
      if resolve "$d/$so" >/dev/null; then place "$d/$so"; needed "$d/$so"; found=1; break; fi
    done
    [ -n "$found" ] || { echo "image.sh: $1 needs $so, which no package here has" >&2; exit 1; }
  done
}
step "programs and their libraries"
for b in $BINARIES; do place "$b"; done
place /etc/protocols # nft's "ip protocol vrrp"
place /etc/services
place /lib64/ld-linux-x86-64.so.2
for b in $BINARIES; do needed "$b"; done

# busybox's applets, where no real program has the name (in any directory
# of PATH: ip is iproute2's, never busybox's)
for a in $("$root/bin/busybox" --list-full); do
  b=$(basename "$a")
  [ -e "$root/bin/$b" ] || [ -e "$root/sbin/$b" ] || [ -e "$root/usr/bin/$b" ] ||
    [ -e "$root/usr/sbin/$b" ] || { mkdir -p "$root/$(dirname "$a")"; ln -s /bin/busybox "$root/$a"; }
done

step "kernel modules"
kdir=$(ls -d "$pkg"/lib/modules/* | head -1)
kver=$(basename "$kdir")
depmod -b "$pkg" "$kver"
: > "$work/order"
for m in $MODULES; do
  modprobe -d "$pkg" -S "$kver" --show-depends "$m" >> "$work/order" ||
    { echo "image.sh: kernel $kver has no module $m" >&2; exit 1; }
done
mkdir -p "$root/lib/modules/$kver"
awk '$1 == "insmod" && !seen[$2]++ { print $2 }' "$work/order" | while read -r ko; do
  rel=${ko#"$pkg"}
  mkdir -p "$root$(dirname "$rel")"
  cp "$ko" "$root$rel"
  echo "$rel"
done > "$root/lib/modules/fwsh.order"

# what the daemons look up: root's account (keepalived runs its notify
# commands as script_user root), and the usual directories
mkdir -p "$root/etc" "$root/proc" "$root/sys" "$root/dev" "$root/run" "$root/tmp" "$root/var" "$root/root"
ln -s /run "$root/var/run"
ln -s /run "$root/var/lock"
echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
echo "root:x:0:" > "$root/etc/group"

step "initramfs"
# Not compressed: a TCG guest unpacks it faster than it would gunzip it.
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$out/initrd.new"
cp "$pkg/boot/vmlinuz-$kver" "$out/vmlinuz"
mv "$out/initrd.new" "$out/initrd"
echo "$stamp" > "$out/stamp"
done_line
echo "guest image: $out (kernel $kver, $(awk 'END { print NR }' "$root/lib/modules/fwsh.order") modules, initramfs $(du -k "$out/initrd" | cut -f1) KiB)"
