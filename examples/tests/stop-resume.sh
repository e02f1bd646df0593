#!/bin/sh
# Integration test of interruption and resume from the command line, as
# issue 6 states it: `--meta-iters 40 --stop-after 20 --checkpoint F` then
# `--meta-iters 40 --resume F` must print the same `batch` lines and log the
# same CSV rows (iteration, meta step, accuracies) as one `--meta-iters 40`
# run; the halves run with different thread counts. Exit 77 without data.
# Usage: stop-resume.sh REPTILE_OMNIGLOT DATA_DIR
set -u
prog=$1
data=$2
. "$(dirname "$0")/common.sh"
need_data "$data"
if [ "${REPTILE_GEMM:-}" = native ] && ! grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
    echo "SKIP: REPTILE_GEMM=native, but this CPU has no AVX-512F"
    exit 77
fi
run() { "$prog" --data "$data" --meta-iters 40 "$@" </dev/null; }

run --threads 2 --csv "$tmp/one.csv" >"$tmp/one.out" 2>"$tmp/one.err" || { cat "$tmp/one.err"; exit 1; }
run --threads 1 --stop-after 20 --checkpoint "$tmp/F" --csv "$tmp/two.csv" \
    >"$tmp/a.out" 2>"$tmp/a.err" || { cat "$tmp/a.err"; exit 1; }
[ -f "$tmp/F" ] || { echo "FAIL: --stop-after did not save the checkpoint"; exit 1; }
rows=$(($(wc -l <"$tmp/two.csv") - 1))
[ "$rows" -eq 20 ] || { echo "FAIL: stopped run logged $rows rows, want 20"; exit 1; }
run --threads 2 --resume "$tmp/F" --csv "$tmp/two.csv" >"$tmp/b.out" 2>"$tmp/b.err" \
    || { cat "$tmp/b.err"; exit 1; }

grep '^batch' "$tmp/one.out" >"$tmp/one.batch"
cat "$tmp/a.out" "$tmp/b.out" | grep '^batch' >"$tmp/two.batch"
cmp "$tmp/one.batch" "$tmp/two.batch" || { echo "FAIL: batch lines differ"; diff "$tmp/one.batch" "$tmp/two.batch"; exit 1; }
cut -d, -f1-4 "$tmp/one.csv" >"$tmp/one.cols"
cut -d, -f1-4 "$tmp/two.csv" >"$tmp/two.cols"
cmp "$tmp/one.cols" "$tmp/two.cols" || { echo "FAIL: CSV rows differ"; diff "$tmp/one.cols" "$tmp/two.cols" | head; exit 1; }
[ "$(wc -l <"$tmp/one.cols")" -eq 41 ] || { echo "FAIL: expected 40 rows and a header"; exit 1; }

# A different schedule cannot be smuggled into a resumed run.
if run --resume "$tmp/F" --meta-iters 50 >/dev/null 2>"$tmp/c.err"; then
    echo "FAIL: --meta-iters 50 with a 40-iteration checkpoint was accepted"; exit 1
fi
grep -q "differs" "$tmp/c.err" || { echo "FAIL: unclear error:"; cat "$tmp/c.err"; exit 1; }
echo "stop/resume: 40 iterations in two halves match one run (batch lines and CSV)"
