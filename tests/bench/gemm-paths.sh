#!/bin/sh
# Step times of both GEMM paths, and of the OpenBLAS path under each
# OpenBLAS kernel this CPU can run, for the table in docs/performance.md.
# Rounds alternate the configurations so that load from elsewhere hits all
# alike; the best of the rounds is kept. A manual benchmark: it forces
# OPENBLAS_CORETYPE, which tests and CI never do.
# Usage: tests/bench/gemm-paths.sh BUILD_DIR [ROUNDS] [CORES...]
set -eu
build=$1
rounds=${2:-3}
shift 2 2>/dev/null || shift $#
cores=${*:-Prescott Haswell SkylakeX Cooperlake}
bench="$build/tests/bench/reptile-bench"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

flags=$(grep -m1 '^flags' /proc/cpuinfo)
avx512=no
case $flags in *avx512f*) avx512=yes ;; esac
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), avx512f=$avx512"
echo "openblas default core: $(env -u REPTILE_GEMM "$bench" --steps-only --quick >/dev/null 2>&1; \
  python3 -c 'import ctypes; l=ctypes.CDLL("libopenblas.so.0"); l.openblas_get_corename.restype=ctypes.c_char_p; print(l.openblas_get_corename().decode())' 2>/dev/null || echo unknown)"

configs="native"
for c in $cores; do configs="$configs blas:$c"; done
[ "$avx512" = yes ] || configs=${configs#native }

r=0
while [ "$r" -lt "$rounds" ]; do
  for cfg in $configs; do
    case $cfg in
      native) REPTILE_GEMM=native "$bench" --steps-only >>"$out/native" ;;
      blas:*) OPENBLAS_CORETYPE=${cfg#blas:} REPTILE_GEMM=blas "$bench" --steps-only >>"$out/$cfg" ;;
    esac
  done
  r=$((r + 1))
done

# One line per configuration: the best time of each key over the rounds.
for cfg in $configs; do
  printf '%-16s' "$cfg"
  grep '^step_ms' "$out/$cfg" | awk -F= '
    { if (!($1 in best) || $2 < best[$1]) best[$1] = $2; if (!($1 in seen)) { order[n++] = $1; seen[$1] = 1 } }
    END { for (i = 0; i < n; i++) { k = order[i]; sub("step_ms_", "", k); printf " %s=%.2f", k, best[order[i]] } print "" }'
done
