#!/bin/sh
# deps.sh - installs the Debian 12 packages fwsh builds, runs and tests with,
# asking apt only for what is missing.
set -eu
PACKAGES="build-essential cmake pkg-config lua5.4 liblua5.4-dev libnl-3-dev libnl-route-3-dev
libreadline-dev libkmod-dev zlib1g-dev libdbus-1-dev lua-busted lua-dkjson iproute2 bridge-utils util-linux valgrind tmux jq
kmod dbus-daemon firewalld
keepalived conntrackd conntrack nftables libnftables-dev qemu-system-x86 iputils-ping strace cpio
vsftpd lftp libpcap-dev tcpdump graphviz openssh-client openssh-server debootstrap
python3-jsonschema python3-junitparser"
missing=""
for p in $PACKAGES $*; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  # firewalld is for the specs' own private instances (tools/firewalld-sandbox.sh),
  # vsftpd for the lab's FTP server (run in the lab's namespace by fwsh.ftp):
  # openssh-server for multi-host labs' emulated hosts (an sshd per host namespace,
  # started by fwsh.hosts.emulate): installing them must not start them on the
  # host, nor enable them for the next boot.
  guard=""
  case " $missing " in *" firewalld "*|*" vsftpd "*|*" openssh-server "*)
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
      guard=1
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi ;;
  esac
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    case " $missing " in *" firewalld "*) systemctl disable --now firewalld.service >/dev/null 2>&1 || true ;; esac
    case " $missing " in *" vsftpd "*) systemctl disable --now vsftpd.service >/dev/null 2>&1 || true ;; esac
    case " $missing " in *" openssh-server "*)
      systemctl disable --now ssh.service ssh.socket >/dev/null 2>&1 || true ;; esac
  fi
  if [ -n "$guard" ]; then rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
fi
