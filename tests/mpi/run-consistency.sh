#!/bin/sh
# mpirun -np 2: reptile_mpi_check_consistent() flags exactly the options
# every worker must share (see consistency.c).
#   run-consistency.sh CONSISTENCY_PROGRAM
set -u
prog=$1
. "$(dirname "$0")/mpirun.sh"
out=$(timeout 60 sh -c '. "$0"; mpirun_np 2 "$1"' "$(dirname "$0")/mpirun.sh" "$prog" 2>&1)
status=$?
printf '%s\n' "$out"
[ $status -eq 0 ] || { echo "run-consistency: mpirun exited with status $status"; exit 1; }
printf '%s\n' "$out" | grep -q '^PASS$' || { echo "run-consistency: no PASS line"; exit 1; }
