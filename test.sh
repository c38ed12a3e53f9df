#!/bin/sh
# test.sh - installs what is needed, builds, and runs every spec: once as
# built, once more built with AddressSanitizer (leaks and memory errors fail
# it). All of it runs in a private network namespace: the host's links and
# namespaces are the same before and after. Last line: "N passed, N failed".
#
#   ./test.sh [busted options / spec files]
set -u
cd "$(dirname "$0")"
tools/deps.sh
tools/build.sh build || { echo "0 passed, 1 failed"; exit 1; }
# The lab's guest image (Debian's kernel, an initramfs made from Debian
# packages, lab/guest) for the VM specs: unpacked into build/guest, never
# installed; rebuilt only when its inputs change. Both runs boot this one
# (the sanitizer build's fwsh-agent would need its runtime in the guest).
build/fwsh-image.sh build/guest build || echo "no guest image: the VM specs will be pending"
export FWSH_GUEST="$PWD/build/guest"

# The TAP lines of both passes, outside /tmp so that the host check below sees
# /tmp exactly as it was.
tap=build/specs.tap
: > "$tap"

# What the specs must leave as they found it: the host's namespaces and links,
# the names in /tmp, /run (three levels), the labs' cgroups, and what under
# /etc was written during the run. The sandbox's mount points (/run/netns,
# /run/fwsh) are made on the host if missing: empty ones it made are removed
# again before the comparison.
host_state() {
  ip netns list 2>/dev/null | awk '{print "netns " $1}'
  ip -o link show 2>/dev/null | awk -F': ' '{sub(/@.*/, "", $2); print "link " $2}'
  ls -A /tmp | sed 's|^|/tmp/|'
  find /run -mindepth 1 -maxdepth 3 ! -path '/run/user/*' ! -path '/run/systemd/*' 2>/dev/null
  # the labs' cgroups (fwsh.LAB.NSINO) in the cgroup2 tree, wherever it is mounted
  awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") print $5; break } }' \
    /proc/self/mountinfo | while read -r m; do
    find "$m" -maxdepth 4 -type d -name 'fwsh.*' 2>/dev/null
  done
}
had_run_dirs=""
for d in /run/netns /run/fwsh; do [ -e "$d" ] && had_run_dirs="$had_run_dirs $d"; done
host_state | sort > build/host.before # also the mark: /etc files newer are the run's
check_host() {
  for d in /run/fwsh/intent /run/fwsh /run/netns; do
    case " $had_run_dirs " in *" ${d%/intent} "*) ;; *) rmdir "$d" 2>/dev/null ;; esac
  done
  host_state | sort > build/host.after
  changed=$( { diff build/host.before build/host.after | grep '^[<>]';
               find /etc -xdev -newer build/host.before | sed 's/^/written /'; } )
  if [ -z "$changed" ]; then
    echo "ok - the host's namespaces, links, /tmp, /run and /etc are as they were" | tee -a "$tap"
  else
    printf '%s\n' "$changed" | head -20
    echo "not ok - the specs changed the host (above: < gone, > new, written)" | tee -a "$tap"
  fi
}

run_specs() { # label build-dir [env...]
  label=$1; dir=$2; shift 2
  echo "== specs ($label)"
  # A hung spec must not hang the run: past the limit it is killed and counted.
  # TAP, with each spec file's time as a comment line ("# 12.3 s spec/x_spec.lua").
  { env FWSH_BUILD="$PWD/$dir" "$@" timeout --kill-after=10 "${FWSH_SPEC_LIMIT:-1500}" \
      tools/sandbox.sh lua5.4 /usr/bin/busted -o tools/tap-times.lua ${SPECS:-spec} 2>&1 ||
      { s=$?; [ $s -eq 124 ] || [ $s -eq 137 ] &&
        echo "not ok - the $label specs did not finish within ${FWSH_SPEC_LIMIT:-1500} s"; }; } |
    tee -a "$tap" | tee "$dir/pass.tap" | grep -v '^ok ' || true
  echo "# the slowest spec files of the $label pass:"
  grep '^# [0-9.]* s spec/' "$dir/pass.tap" | sort -k2 -rn | head -8
}

SPECS="$*"
# The .deb in a copy of a clean Debian 12 root (made once, from the apt
# source this machine installs from, by tools/deb-root.sh: debootstrap
# --variant=minbase bookworm, kept in /var/cache/fwsh-deb-check/root): apt-get
# install resolves its Depends, fwsh, man fwsh and lua5.4's require work, a
# purge leaves none of its files. Outside the sandbox: apt needs the network.
deb_root=${FWSH_DEB_ROOT:-/var/cache/fwsh-deb-check/root}
if [ -z "$SPECS" ]; then
  echo "== the Debian package"
  if ! tools/deb-root.sh "$deb_root"; then
    echo "not ok - the .deb check: no clean Debian 12 root could be made in $deb_root" | tee -a "$tap"
  elif t0=$(date +%s) && deb=$(tools/deb.sh build-deb) &&
       tools/deb-check.sh "$deb_root" "$deb" > build-deb/check.log 2>&1; then
    echo "ok - the .deb installs in a clean Debian 12 root, works, and purges to nothing" | tee -a "$tap"
    echo "# $(($(date +%s) - t0)) s the .deb: built and checked"
    # docs/ci's workflow, its own commands, on that package in that root
    t0=$(date +%s)
    if tools/ci-recipe-check.sh "$deb_root" "$deb" > build-deb/recipe.log 2>&1; then
      echo "ok - the CI recipe installs the .deb and its failover suite passes and fails as it should" | tee -a "$tap"
      echo "# $(($(date +%s) - t0)) s the CI recipe check"
    else
      grep -v '^[WE]: \|debconf\|invoke-rc' build-deb/recipe.log | tail -20
      echo "not ok - the CI recipe check (tools/ci-recipe-check.sh, build-deb/recipe.log)" | tee -a "$tap"
    fi
  else
    tail -20 build-deb/check.log 2>/dev/null
    echo "not ok - the .deb check (tools/deb-check.sh, build-deb/check.log)" | tee -a "$tap"
  fi
fi
run_specs plain build
# The Debug configuration (-O0, its own warnings) must compile too: built, not run.
if tools/build.sh build-debug -DCMAKE_BUILD_TYPE=Debug; then
  echo "ok - the Debug build" >> "$tap"
else
  echo "not ok - the Debug build" | tee -a "$tap"
fi
if [ -z "${FWSH_NO_ASAN:-}" ]; then
  if tools/build.sh build-asan -DFWSH_SANITIZE=address,undefined; then
    run_specs "asan" build-asan \
      FWSH_PRELOAD="$(gcc -print-file-name=libasan.so)" \
      ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23 \
      UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      LSAN_OPTIONS=suppressions="$PWD/tools/lsan.supp":print_suppressions=0
  else
    echo "not ok - the AddressSanitizer build failed" >> "$tap"
  fi
fi

check_host

passed=$(grep -c '^ok ' "$tap" | tr -d ' ')
skipped=$(grep -c '^ok .*# SKIP' "$tap" | tr -d ' ')
failed=$(grep -c '^not ok ' "$tap" | tr -d ' ')
passed=$((passed - skipped))
# A run that crashed before reporting, or reported nothing, is a failure.
[ $((passed + failed)) -eq 0 ] && failed=1
grep -q "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" "$tap" && failed=$((failed + 1))
[ "$skipped" -gt 0 ] && echo "$skipped pending (not counted)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
