#!/bin/sh
# A learning curve that cannot be written mid-run (its first snapshot, at
# iteration 100) stops the run at once (exit 1, the system's reason), not
# after the whole run, and leaves the earlier file as it was and no
# temporary file. The failure comes from a
# file-size limit (ulimit -f, "File too large"), so this runs without root;
# full-disk.sh does the same with a full disk where it can mount one.
# Needs the Omniglot data (exit 77 without).
# Usage: csv-mid-run.sh REPTILE_OMNIGLOT DATA_DIR
set -u
. "$(dirname "$0")/common.sh"
prog=$1
data=$2
need_data "$data"

mkdir "$tmp/out-dir"
csv="$tmp/out-dir/c.csv"
# An earlier learning curve (a fresh run replaces it when it succeeds).
good="iteration,meta_step,train_acc,test_acc,elapsed_s
0,0.25,0.200000,0.200000,1.000"
printf '%s\n' "$good" >"$csv"
# The limit must not apply to the test's own output: that goes to a FIFO.
mkfifo "$tmp/fifo"
cat "$tmp/fifo" >"$tmp/out" &
reader=$!
(
    trap '' XFSZ # write() then fails with EFBIG instead of killing
    ulimit -f 2  # 1 or 2 KiB, depending on the shell: less than the
                 # snapshot at iteration 100 (about 4 KiB)
    exec "$prog" --data "$data" --meta-iters 300 --train-shots 1 --inner-iters 1 \
        --inner-batch 5 --shots 1 --csv "$csv" >"$tmp/fifo" 2>&1 </dev/null
)
status=$?
wait "$reader"

[ "$status" -eq 1 ] && ok || bad "exit status $status, want 1"
grep -q -e "--csv: cannot write '$csv': File too large" "$tmp/out" && ok ||
    bad "no message with the system's reason"
# Batch lines come every 100 iterations: the run stopped before the second.
grep -q '^batch 0:' "$tmp/out" && ! grep -q '^batch 100:' "$tmp/out" && ok ||
    bad "the run did not stop when the CSV failed"
[ "$(cat "$csv")" = "$good" ] && ok || bad "the earlier CSV was changed"
left=$(ls -A "$tmp/out-dir")
[ "$left" = c.csv ] && ok || bad "files left beside the CSV: $left"
[ "$fail" -eq 0 ] || sed 's/^/    /' "$tmp/out"
finish
