#!/bin/sh
# readme-api.sh - puts the API reference, made by tools/apidoc from the doc
# comments that help() also reads, between the apidoc markers in README.md.
set -eu
cd "$(dirname "$0")/.."
grep -q '^<!-- apidoc:begin -->$' README.md && grep -q '^<!-- apidoc:end -->$' README.md ||
  { echo "readme-api.sh: README.md has no apidoc markers" >&2; exit 1; }
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
{
  sed -n '1,/^<!-- apidoc:begin -->$/p' README.md
  tools/apidoc --markdown | sed 's/^### /#### /'
  sed -n '/^<!-- apidoc:end -->$/,$p' README.md
} > "$tmp"
cp "$tmp" README.md
