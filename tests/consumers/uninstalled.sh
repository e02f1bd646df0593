#!/bin/sh
# uninstalled.sh BUILD SRC: a consumer built against the build tree through
# meson-uninstalled/reptile-uninstalled.pc (pkg-config picks it for
# "reptile" when its folder is on PKG_CONFIG_PATH): its include folders are
# of the project are exactly the public ones, include/ of the source and
# build trees (the others are those of its dependencies), and
# <reptile/reptile.h> compiles, links and runs.
set -eu
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PKG_CONFIG_PATH="$build/meson-uninstalled"
unset PKG_CONFIG_DISABLE_UNINSTALLED
pkg-config --exists reptile-uninstalled || { echo "no reptile-uninstalled.pc in $PKG_CONFIG_PATH"; exit 1; }
pkg-config --cflags-only-I reptile-uninstalled | tr ' ' '\n' | sed -n 's/^-I//p' \
  | grep -E "^($build|$src)(/|$)" | sort > "$tmp/dirs"
printf '%s\n' "$build/include" "$src/include" | sort > "$tmp/public"
diff "$tmp/public" "$tmp/dirs" > "$tmp/diff" ||
  { echo "include folders other than the public ones (> extra, < missing):"; cat "$tmp/diff"; exit 1; }
flags=$(pkg-config --cflags --libs reptile)
echo "pkg-config (uninstalled): $flags"
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror "$src/tests/consumers/consumer.c" $flags -lm -o "$tmp/consumer"
libdir=$(pkg-config --variable=prefix reptile-uninstalled)
LD_LIBRARY_PATH="$(dirname "$(find "$libdir" -name 'libreptile.so' | head -1)")" "$tmp/consumer"
