#!/bin/sh
# static.sh BUILD SRC: a fully static program linked with exactly
# `pkg-config --static --cflags --libs reptile` against the installed
# libreptile.a (and the system's static OpenBLAS, libpng, zlib, libjpeg, jansson);
# it has no dynamic section and runs.
set -eu
build="$1"
src="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$src/tests/consumers/installed.sh"
install_relocated "$build" "$tmp"
[ -n "$(find "$tmp/root" -name libreptile.a)" ] || { echo "libreptile.a was not installed"; exit 1; }
flags=$(pkg-config --static --cflags --libs reptile)
echo "pkg-config --static: $flags"
# shellcheck disable=SC2086
cc -static -std=c11 -Wall -Wextra -Werror "$src/tests/consumers/consumer.c" $flags \
  -o "$tmp/consumer" 2> "$tmp/link.log" || { cat "$tmp/link.log"; exit 1; }
cat "$tmp/link.log"
if readelf -d "$tmp/consumer" | grep -q NEEDED; then
  echo "the consumer is not static:"; readelf -d "$tmp/consumer"; exit 1
fi
"$tmp/consumer"
