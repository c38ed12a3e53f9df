#!/bin/sh
# deb.sh [DIR] - builds fwsh's Debian package (CPack) in DIR (default
# build-deb), configured for /usr: bin/fwsh, fwsh.so in Lua 5.4's cpath, the
# Lua parts in its path, the lab's tools in /usr/lib/<triplet>/fwsh,
# fwsh(1). Prints the .deb's path.
set -eu
cd "$(dirname "$0")/.."
dir=${1:-build-deb}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFWSH_WERROR=ON -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
cmake --build "$dir" -j "$(nproc)" >/dev/null
(cd "$dir" && cpack -G DEB >/dev/null)
case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
ls "$dir"/fwsh_*.deb
