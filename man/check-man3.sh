#!/bin/sh
# check-man3.sh N LIB... PAGE...: every function the N shared libraries
# export has an entry (".SS name()") in exactly one section-3 page, and
# every entry is an exported function.
set -eu
n="$1"
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: > "$tmp/exported"
while [ "$n" -gt 0 ]; do
  nm -D --defined-only "$1" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' >> "$tmp/exported"
  shift
  n=$((n - 1))
done
sort -u "$tmp/exported" -o "$tmp/exported"
[ -s "$tmp/exported" ] || { echo "FAIL: no exported function found"; exit 1; }
sed -n 's/^\.SS \([a-z_0-9]*\)()$/\1/p' "$@" | sort > "$tmp/entries"
dups=$(uniq -d "$tmp/entries")
[ -z "$dups" ] || { echo "FAIL: in more than one page: $dups"; exit 1; }
missing=$(comm -23 "$tmp/exported" "$tmp/entries")
extra=$(comm -13 "$tmp/exported" "$tmp/entries")
[ -z "$missing" ] || { echo "FAIL: exported but in no man page: $missing"; exit 1; }
[ -z "$extra" ] || { echo "FAIL: in a man page but not exported: $extra"; exit 1; }
echo "all $(wc -l < "$tmp/exported") exported functions have their man page entry"
