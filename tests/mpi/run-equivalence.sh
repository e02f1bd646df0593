#!/bin/sh
# mpirun -np 2: meta-batch m per rank equals one process with meta-batch 2m
# (to 1e-5 relative; see equivalence.c for why not bitwise), and both ranks
# hold bitwise identical weights.
#   run-equivalence.sh EQUIVALENCE_PROGRAM
set -u
prog=$1
if [ "${REPTILE_GEMM:-}" = native ] && ! grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
  echo "REPTILE_GEMM=native, but this CPU has no AVX-512F: skipping"
  exit 77
fi
. "$(dirname "$0")/mpirun.sh"
out=$(timeout 120 sh -c '. "$0"; mpirun_np 2 "$1"' "$(dirname "$0")/mpirun.sh" "$prog" 2>&1)
status=$?
printf '%s\n' "$out"
if [ $status -ne 0 ]; then
  echo "run-equivalence: mpirun exited with status $status"
  exit 1
fi
printf '%s\n' "$out" | grep -q '^PASS$' || { echo "run-equivalence: no PASS line"; exit 1; }
printf '%s\n' "$out" | grep -q 'bitwise identical weights' || { echo "run-equivalence: ranks not compared"; exit 1; }
exit 0
