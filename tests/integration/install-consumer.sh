#!/bin/sh
# Installs the build into a temporary prefix, then compiles and runs a
# consumer with `pkg-config --cflags --libs reptile`, as C and as C++, and
# checks that every public header compiles alone as C99 -pedantic.
set -eu
build="$1"
src="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
meson install -C "$build" --no-rebuild --destdir "$tmp/root" >/dev/null
pcdir=$(dirname "$(find "$tmp/root" -name reptile.pc | head -1)")
[ -f "$pcdir/reptile.pc" ] || { echo "reptile.pc not installed"; exit 1; }
export PKG_CONFIG_PATH="$pcdir"
export PKG_CONFIG_SYSROOT_DIR="$tmp/root"
flags=$(pkg-config --cflags --libs reptile)
# Locate the installed files directly: pkg-config implementations differ in
# whether --variable output carries the sysroot.
libdir=$(dirname "$(find "$tmp/root" -name 'libreptile.so.*' | head -1)")
incdir=$(dirname "$(find "$tmp/root" -path '*/reptile/reptile.h' | head -1)")
incdir=$(dirname "$incdir")
echo "pkg-config: $flags"

cc -std=c99 -Wall -Wextra -pedantic -Werror "$src/tests/integration/consumer.c" $flags -o "$tmp/consumer"
LD_LIBRARY_PATH="$libdir" "$tmp/consumer"

cp "$src/tests/integration/consumer.c" "$tmp/consumer.cpp"
c++ -std=c++11 -Wall -Wextra -pedantic -Werror "$tmp/consumer.cpp" $flags -o "$tmp/consumer-cxx"
LD_LIBRARY_PATH="$libdir" "$tmp/consumer-cxx"

for h in "$incdir"/reptile/*.h; do
  printf '#include <reptile/%s>\nint main(void) { return 0; }\n' "$(basename "$h")" > "$tmp/one.c"
  cc -std=c99 -Wall -Wextra -pedantic -Werror -I"$incdir" -c "$tmp/one.c" -o "$tmp/one.o" \
    || { echo "header $(basename "$h") does not compile alone as C99"; exit 1; }
  cp "$tmp/one.c" "$tmp/one.cpp"
  c++ -std=c++98 -Wall -Wextra -Werror -I"$incdir" -c "$tmp/one.cpp" -o "$tmp/one.o" \
    || { echo "header $(basename "$h") does not compile alone as C++"; exit 1; }
done
echo "installed headers compile as C99 and C++; consumer built and ran"
