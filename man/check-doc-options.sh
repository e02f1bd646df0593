#!/bin/sh
# check-doc-options.sh DOC... -- PAGE...: every --option the documents name
# is documented by one of the programs' man pages. Not options of the
# programs: pkg-config's --cflags and --libs, meson's --suite, the
# placeholder --name-with-dashes, and the abbreviations docs/examples.md
# shows on purpose (--meta-it accepted, --eval refused as ambiguous).
set -eu
docs=""
while [ "$1" != "--" ]; do docs="$docs $1"; shift; done
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed 's/\\-/-/g' "$@" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u > "$tmp/known"
# shellcheck disable=SC2086
grep -ohE -- '--[a-z][a-z0-9-]*' $docs | sort -u \
  | grep -vxE -- '--(cflags|libs|suite|name-with-dashes|meta-it|eval)' > "$tmp/named"
missing=$(comm -23 "$tmp/named" "$tmp/known")
[ -z "$missing" ] || { echo "FAIL: named in$docs but in no man page:"; echo "$missing"; exit 1; }
echo "all $(wc -l < "$tmp/named") options named in$docs are documented"
