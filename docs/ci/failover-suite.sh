#!/bin/sh
# failover-suite.sh [-o DIR] [-e EXPR]... [-s NAME[:ARGS]]... - a firewall
# pair's failover suite as CI runs it: each scenario in a sandbox of its own
# (fwsh --sandbox: its namespaces, processes and files go with it), its
# verdict as JSON and JUnit XML in DIR (default fwsh-reports) beside its log.
# Exit status 0 only when every expectation of every scenario held.
#
#   -e EXPR       an expectation for every scenario (repeatable; default:
#                 outage_ms<1000 and stream=survived)
#   -s NAME[:ARGS] a scenario of scripts/lab/scenarios and its arguments,
#                 words split on blanks (repeatable; default: fw1-dies with
#                 --fail power, then with --fail hang, two runs each)
#
# Needs root (namespaces) and fwsh installed, or FWSH=path/to/fwsh and
# FWSH_SCENARIOS=path/to/scripts/lab/scenarios from a build tree.
set -u
out=fwsh-reports expects="" scenarios=""
while getopts o:e:s: opt; do
  case $opt in
    o) out=$OPTARG ;;
    e) expects="$expects
$OPTARG" ;;
    s) scenarios="$scenarios
$OPTARG" ;;
    *) sed -n '2,17s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
  esac
done
fwsh=${FWSH:-fwsh}
dir=${FWSH_SCENARIOS:-/usr/share/fwsh/scripts/lab/scenarios}
[ -n "$expects" ] || expects="
outage_ms<1000
stream=survived"
[ -n "$scenarios" ] || scenarios="
fw1-dies:--fail power --reps 2
fw1-dies:--fail hang --reps 2"
mkdir -p "$out" || exit 2
status=0
# one scenario a line; an expectation a line (they may hold blanks)
n=0
printf '%s\n' "$scenarios" | while IFS= read -r s; do
  [ -n "$s" ] || continue
  n=$((n + 1))
  name=${s%%:*} args=""
  [ "$name" = "$s" ] || args=${s#*:}
  set -- "$fwsh" --sandbox "$dir/$name.lua"
  for a in $args; do set -- "$@" "$a"; done
  while IFS= read -r e; do [ -z "$e" ] || set -- "$@" --expect "$e"; done <<EXPECT
$expects
EXPECT
  base="$out/$n-$name"
  if "$@" --json "$base.json" --junit "$base.xml" > "$base.log" 2>&1; then
    echo "pass: $name $args"
  else
    echo "FAIL: $name $args (see $base.log)"
    # the expectations that failed, or how the run ended
    grep '^expect .*: fail' "$base.log" | sed 's/^/  /' | grep . || tail -n 5 "$base.log" | sed 's/^/  /'
    echo 1 > "$out/.failed"
  fi
done
[ ! -e "$out/.failed" ] || { rm -f "$out/.failed"; status=1; }
exit $status
