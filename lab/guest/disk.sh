#!/bin/sh
# disk.sh OUT GUEST [ethN=ADDR/LEN ...] [port=N] [ready=TEXT] [keepalived=FILE]
# - a firewall VM image that is not fwsh's guest: no fwsh, no agent, nothing
# that answers the host but what a user's own image would have. Made from the
# lab's guest image (GUEST: lab/guest/image.sh's directory, its packages
# already there: no download), as what a user brings:
#
#   OUT/disk.qcow2  an ext4 root filesystem (no partition table, /dev/vda):
#                   the guest's userland (busybox, iproute2, nftables,
#                   keepalived...) without fwsh's programs, and an init of
#                   its own (/sbin/init, a shell script) that loads the
#                   drivers, puts each ethN up with its address, forwards,
#                   answers HTTP on port (80 by default, busybox httpd),
#                   runs keepalived with FILE if given, then prints the
#                   ready line (default "ownimage: ready") on its console
#   OUT/vmlinuz     Debian's kernel (the guest's)
#   OUT/initrd      a loader: the disk's drivers, mounts /dev/vda and
#                   switches to it (kernel arguments: root=/dev/vda console=ttyS0)
#
# The NICs are eth0, eth1, ... in the order qemu's -device lines give them.
set -eu
[ $# -ge 2 ] || { echo "usage: disk.sh OUT GUEST [ethN=ADDR/LEN ...] [port=N] [ready=TEXT] [keepalived=FILE]" >&2; exit 2; }
mkdir -p "$1"
out=$(cd "$1" && pwd)
guest=$(cd "$2" && pwd)
shift 2
addresses="" port=80 ready="ownimage: ready" kaconf=""
for a in "$@"; do
  case $a in
    eth[0-9]=*|eth[0-9][0-9]=*) addresses="$addresses ${a%%=*}=${a#*=}" ;;
    port=*) port=${a#port=} ;;
    ready=*) ready=${a#ready=} ;;
    keepalived=*) kaconf=${a#keepalived=} ;;
    *) echo "disk.sh: unknown setting $a" >&2; exit 2 ;;
  esac
done
kdeb=$(ls "$guest"/debs/linux-image-*.deb 2>/dev/null | head -1)
[ -s "$guest/initrd" ] && [ -n "$kdeb" ] ||
  { echo "disk.sh: no guest image with its packages in $guest (lab/guest/image.sh makes one)" >&2; exit 1; }

work="$out/work"
rm -rf "$work"
mkdir -p "$work/root" "$work/loader" "$work/kernel"
trap 'rm -rf "$work"' EXIT

# The root filesystem: the guest's userland, without fwsh's programs.
(cd "$work/root" && cpio -i -d --quiet < "$guest/initrd")
rm -f "$work/root/init" "$work/root/sbin/init" "$work/root"/usr/bin/fwsh*
mkdir -p "$work/root/srv" "$work/root/etc/keepalived"
echo "ownimage" > "$work/root/srv/index.html"
[ -z "$kaconf" ] || cp "$kaconf" "$work/root/etc/keepalived/keepalived.conf"
{
  echo "ADDRESSES='$addresses'"
  echo "PORT='$port'"
  echo "READY='$ready'"
} > "$work/root/etc/ownimage.conf"
cat > "$work/root/sbin/init" <<'EOF'
#!/bin/sh
# This image's own init: the drivers, each port up with its address,
# forwarding, a web server, keepalived if configured, the ready line.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs run /run
mount -t tmpfs tmp /tmp
while read -r ko; do insmod "$ko" 2>/dev/null; done < /lib/modules/fwsh.order
. /etc/ownimage.conf
ip link set lo up
echo 1 > /proc/sys/net/ipv4/ip_forward
for a in $ADDRESSES; do
  dev=${a%%=*}
  i=0
  while [ ! -e /sys/class/net/$dev ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  ip link set "$dev" up
  ip addr add "${a#*=}" dev "$dev"
done
httpd -p "$PORT" -h /srv
[ -s /etc/keepalived/keepalived.conf ] && keepalived -f /etc/keepalived/keepalived.conf -l -D
echo "$READY"
while :; do sleep 3600; done
EOF
chmod 755 "$work/root/sbin/init"

# The loader: busybox and the modules that reach the disk, from the guest's kernel.
dpkg-deb -x "$kdeb" "$work/kernel"
kver=$(ls "$work/kernel/lib/modules" | head -1)
depmod -b "$work/kernel" "$kver"
mkdir -p "$work/loader/bin" "$work/loader/lib/modules"
cp "$work/root/bin/busybox" "$work/loader/bin/busybox"
for m in virtio_pci virtio_blk crc32c_generic ext4; do
  modprobe -d "$work/kernel" -S "$kver" --show-depends "$m"
done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' | while read -r ko; do
  cp "$ko" "$work/loader/lib/modules/"
  echo "/lib/modules/$(basename "$ko")"
done > "$work/loader/lib/modules/order"
cat > "$work/loader/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mkdir -p /proc /dev /sys /root
mount -t proc proc /proc
mount -t devtmpfs dev /dev
while read -r ko; do insmod "$ko" 2>/dev/null; done < /lib/modules/order # crc32c-intel needs SSE4.2
i=0
while [ ! -b /dev/vda ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
mount -t ext4 /dev/vda /root || { echo "loader: cannot mount /dev/vda"; exec sh; }
umount /dev /proc
exec switch_root /root /sbin/init
EOF
chmod 755 "$work/loader/init"
(cd "$work/loader" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$out/initrd"
cp "$guest/vmlinuz" "$out/vmlinuz"

# The disk: ext4 made from the tree (mkfs.ext4 -d), then qcow2.
size=$(( $(du -sk "$work/root" | cut -f1) / 1024 + 32 ))
mkfs.ext4 -q -F -L ownimage -d "$work/root" "$work/disk.raw" "${size}M"
qemu-img convert -f raw -O qcow2 "$work/disk.raw" "$out/disk.qcow2"
echo "own image: $out/disk.qcow2 (kernel $kver, ${size} MiB root; no fwsh inside)"
