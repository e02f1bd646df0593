#!/bin/sh
# Fails if the shared library exports any symbol outside the reptile_ namespace.
set -eu
so="$1"
[ -f "$so" ] || { echo "no such library: $so"; exit 1; }
# Version-node names (REPTILE_0) show as absolute 'A' symbols: not functions.
bad=$(nm -D --defined-only "$so" | awk '$2 != "A" {print $3}' | grep -v '^reptile_' || true)
count=$(nm -D --defined-only "$so" | awk '$2 != "A"' | wc -l)
if [ -n "$bad" ]; then
  echo "symbols exported outside the reptile_ namespace:"
  echo "$bad"
  exit 1
fi
[ "$count" -gt 0 ] || { echo "no symbols exported at all"; exit 1; }
echo "$count exported symbols, all reptile_*"
