#!/bin/sh
# meson-subproject.sh SRC: the Meson project of tests/consumers/meson-subproject
# vendors this source tree as subprojects/libreptile, gets the library with
# dependency('reptile') (libreptile's meson.override_dependency()), and
# builds all of it with warnings fatal (--fatal-meson-warnings, -Werror):
# libreptile builds cleanly as somebody else's subproject. The fallback is
# forced: an installed libreptile must not stand in for the subproject.
set -eu
src=$(cd "$1" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -R "$src/tests/consumers/meson-subproject" "$tmp/project"
cp "$src/tests/consumers/consumer.c" "$tmp/project/"
ln -s "$src" "$tmp/project/subprojects/libreptile"
meson setup --fatal-meson-warnings --force-fallback-for=reptile "$tmp/build" "$tmp/project" > "$tmp/setup.log" 2>&1 \
  || { cat "$tmp/setup.log"; exit 1; }
grep -q "Subproject libreptile finished" "$tmp/setup.log" \
  || { echo "libreptile was not configured as a subproject:"; cat "$tmp/setup.log"; exit 1; }
ninja -C "$tmp/build" -j 2 > "$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
if grep -q "warning:" "$tmp/build.log"; then cat "$tmp/build.log"; exit 1; fi
meson test -C "$tmp/build" --print-errorlogs > "$tmp/test.log" 2>&1 || { cat "$tmp/test.log"; exit 1; }
ldd "$tmp/build/consumer" | grep -q "$tmp/build/subprojects/libreptile" \
  || { echo "consumer not linked to the subproject's libreptile"; ldd "$tmp/build/consumer"; exit 1; }
"$tmp/build/consumer"
