#!/bin/sh
# ci-recipe-check.sh ROOT DEB - tries docs/ci/github-actions.yml's commands
# end to end in a copy of a clean Debian 12 root (tools/deb-root.sh makes
# one): the .deb installed as the workflow installs it, then the installed
# /usr/share/fwsh/ci/failover-suite.sh run as the workflow runs it, with one
# expectation that holds and, in a second run, one that cannot. Passes when
# the first exits 0 with schema-valid JSON and JUnit, and the second exits 1
# naming its expectation. The copy is removed after; ROOT is not changed.
set -eu
root=$1 deb=$2
. "$(dirname "$0")/root-copy.sh"
root_copy "$root" "$deb" ci-check
unshare --mount --propagation private sh -eu -c '
  w=$1 name=$2 cache=$3
  # the copy a mount of its own, so that fwsh --sandbox can make its / private
  mount --bind "$w" "$w"
  mount -t proc proc "$w/proc"
  mount -t sysfs sysfs "$w/sys"
  mount -t tmpfs tmpfs "$w/run"
  mount --bind /dev "$w/dev"
  mount --bind "$cache" "$w/var/cache/apt/archives"
  inroot() { chroot "$w" env DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
  inroot apt-get update -qq
  # the workflow install step, word for word
  inroot apt-get install -y -qq --no-install-recommends "/tmp/$name" \
    keepalived conntrackd conntrack nftables netbase iproute2 iputils-ping libnftables1 libpcap0.8 libkmod2 >/dev/null
  inroot apt-get install -y -qq --no-install-recommends python3-jsonschema python3-junitparser >/dev/null
  # the workflow run step, with a short suite
  inroot /usr/share/fwsh/ci/failover-suite.sh -o /tmp/reports -e "outage_ms<5000" -e stream=survived \
    -s "fw1-dies:--reps 1"
  inroot python3 -c "
import json, sys, jsonschema
from junitparser import JUnitXml
schema = json.load(open(\"/usr/share/fwsh/ci/verdict.schema.json\"))
doc = json.load(open(\"/tmp/reports/1-fw1-dies.json\"))
jsonschema.validate(doc, schema)
assert doc[\"passed\"] is True, doc
suite = list(JUnitXml.fromfile(\"/tmp/reports/1-fw1-dies.xml\"))[0]
assert suite.tests == 2 and suite.failures == 0, (suite.tests, suite.failures)
print(\"reports: valid, passed\")"
  if inroot /usr/share/fwsh/ci/failover-suite.sh -o /tmp/reports2 -e "outage_ms<0" -s "fw1-dies:--reps 1"; then
    echo "ci-recipe-check: an expectation that cannot hold passed" >&2; exit 1
  fi
  grep -q "^expect outage_ms<0: fail" "$w/tmp/reports2/1-fw1-dies.log"
  echo "a failing expectation: exit 1, named in the log"
' sh "$work" "$(basename "$deb")" "$cache"
echo "ci recipe check: ok"
