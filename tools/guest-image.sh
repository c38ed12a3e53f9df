#!/bin/sh
# guest-image.sh DIR - a tiny guest for the qemu wiring spec: Debian 12's kernel
# and a busybox initramfs whose init brings eth0 (virtio-net) up and prints its
# carrier on the serial console every 0.1 s ("carrier=1"), so that a test can
# see what QMP set_link does inside the guest. The packages are downloaded and
# unpacked into DIR, not installed: nothing on the host changes.
set -eu
[ $# -eq 1 ] || { echo "usage: guest-image.sh DIR" >&2; exit 2; }
mkdir -p "$1"
dir=$(cd "$1" && pwd) # absolute: the work below happens elsewhere
[ -s "$dir/vmlinuz" ] && [ -s "$dir/initrd.gz" ] && exit 0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
kpkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[ -n "$kpkg" ] || { apt-get update -qq; kpkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'); }
apt-get download -q "$kpkg" busybox-static >/dev/null 2>&1
dpkg-deb -x linux-image-*.deb k
dpkg-deb -x busybox-static_*.deb bb
kdir=$(echo k/lib/modules/*)
mkdir -p root/bin root/lib root/proc root/sys root/dev
cp bb/bin/busybox root/bin/busybox
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net; do
  find "$kdir" -name "$m.ko" -exec cp {} root/lib/ \;
done
cat > root/init <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net; do
  insmod /lib/$m.ko
done
ip link set eth0 up
while :; do echo "carrier=$(cat /sys/class/net/eth0/carrier 2>/dev/null)"; sleep 0.1; done
INIT
chmod +x root/init
(cd root && find . | cpio -o -H newc 2>/dev/null) | gzip -1 > "$dir/initrd.gz"
cp k/boot/vmlinuz-* "$dir/vmlinuz"
