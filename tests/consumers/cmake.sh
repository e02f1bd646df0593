#!/bin/sh
# cmake.sh BUILD SRC: a CMake project (tests/consumers/cmake) finds the
# installed libreptile with pkg_check_modules(... IMPORTED_TARGET), builds
# and runs.
set -eu
build="$1"
src="$2"
command -v cmake > /dev/null || { echo "SKIP: cmake is not installed"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$src/tests/consumers/installed.sh"
install_relocated "$build" "$tmp"
cp "$src/tests/consumers/cmake/CMakeLists.txt" "$src/tests/consumers/consumer.c" "$tmp/"
cmake -S "$tmp" -B "$tmp/build" > "$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log"; exit 1; }
cmake --build "$tmp/build" > "$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
LD_LIBRARY_PATH="$RP_LIBDIR" "$tmp/build/consumer"
# It ran against the installed copy, not the build tree's.
LD_LIBRARY_PATH="$RP_LIBDIR" ldd "$tmp/build/consumer" | grep -q "$RP_LIBDIR/libreptile.so" \
  || { echo "consumer did not load the installed libreptile"; exit 1; }
