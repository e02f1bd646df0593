#!/bin/sh
# reptile-omniglot-mpi on real Omniglot under mpirun -np 2: rank 0 alone
# prints the batch/time/world_size lines and writes the CSV and checkpoint.
#   run-omniglot-mpi.sh PROGRAM DATA_DIR MPIRUN_SH
set -u
prog=$1; data=$2
[ -d "$data/images_background" ] || { echo "no Omniglot at $data: skipping"; exit 77; }
. "$3"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "run-omniglot-mpi: FAIL: $*"; exit 1; }
timeout -k 5 240 sh -c '. "$0"; mpirun_np 2 "$@"' "$3" "$prog" --data "$data" \
  --preset paper-omniglot-5way --meta-iters 3 --meta-batch 2 --eval-interval 1 \
  --final-eval 4 --csv "$tmp/curve.csv" --checkpoint "$tmp/model.safetensors" \
  --timeout 60 >"$tmp/out" 2>"$tmp/err"
status=$?
cat "$tmp/out" "$tmp/err"
[ $status -eq 0 ] || fail "status $status"
[ "$(grep -c '^time: ' "$tmp/out")" -eq 1 ] || fail "expected one time: line (rank 0 only)"
[ "$(grep -c '^batch 0: ' "$tmp/out")" -eq 1 ] || fail "expected one 'batch 0' line (rank 0 only)"
grep -q '^world_size=2 meta_batch_per_rank=2 ' "$tmp/out" || fail "no world_size line"
grep -q '^final: episodes=4 ' "$tmp/out" || fail "no final: line"
[ "$(wc -l < "$tmp/curve.csv")" -eq 4 ] || fail "CSV should have a header and 3 rows"
[ -s "$tmp/model.safetensors" ] || fail "no checkpoint"
# Bad command line: status 2, one message (rank 0), no hang.
timeout -k 5 60 sh -c '. "$0"; mpirun_np 2 "$@"' "$3" "$prog" --meta-batch 0 \
  >"$tmp/out2" 2>&1
status=$?
cat "$tmp/out2"
[ $status -ne 0 ] && [ $status -ne 124 ] || fail "bad option: status $status"
[ "$(grep -c 'meta-batch' "$tmp/out2")" -ge 1 ] || fail "bad option: no message"
echo "run-omniglot-mpi: PASS"
