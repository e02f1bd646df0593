# shellcheck shell=sh disable=SC2034  # RP_LIBDIR is for the sourcing script
# Sourced by the consumer tests: install_relocated BUILD DIR installs the
# build under DIR/root (meson install --destdir) and points pkg-config at a
# copy of its reptile.pc whose prefix is the staged one, as for a library
# installed there (PKG_CONFIG_SYSROOT_DIR would also prefix the system
# libraries' paths, which a static link needs as they are). Sets
# PKG_CONFIG_PATH and RP_LIBDIR.
install_relocated() {
  meson install -C "$1" --no-rebuild --destdir "$2/root" > "$2/install.log" \
    || { cat "$2/install.log"; return 1; }
  pc=$(find "$2/root" -name reptile.pc | head -1)
  [ -n "$pc" ] || { echo "reptile.pc was not installed"; return 1; }
  prefix=$(sed -n 's/^prefix=//p' "$pc")
  mkdir -p "$2/pc"
  sed "s|^prefix=.*|prefix=$2/root$prefix|" "$pc" > "$2/pc/reptile.pc"
  export PKG_CONFIG_PATH="$2/pc"
  RP_LIBDIR=$(dirname "$(find "$2/root" -name 'libreptile.so.*' | head -1)")
}
