#!/bin/sh
# A run killed outright (kill -9) cannot clean up, so what it leaves must
# not pile up: two killed runs with the same --csv leave at most one
# temporary file beside the CSV (FILE.tmp, replaced by the next run), and
# a run that completes, here resuming the last checkpoint, leaves none and
# the CSV of the whole run: every iteration once, in order. Needs the
# Omniglot data (exit 77 without).
# Usage: csv-killed.sh REPTILE_OMNIGLOT DATA_DIR
set -u
. "$(dirname "$0")/common.sh"
prog=$1
data=$2
need_data "$data"

dir="$tmp/out-dir"
mkdir "$dir"
csv="$dir/c.csv"
state="$tmp/state"
iters=1000
# run [--exec] [--resume FILE]: a fresh run of small tasks, or the resumed
# one. --exec replaces the shell: `run --exec &` makes $! the program's
# own pid, so kill -9 reaches it (killing a subshell that runs it would
# leave it writing beside the next run).
run() {
    ex=
    if [ "${1-}" = --exec ]; then
        ex=exec
        shift
    fi
    [ $# -gt 0 ] || set -- --train-shots 1 --inner-iters 1 --inner-batch 5 --shots 1
    $ex "$prog" --data "$data" --meta-iters $iters --quiet --csv "$csv" --checkpoint "$state" \
        "$@" >>"$tmp/out" 2>&1 </dev/null
}
: >"$tmp/out"

# killed_run: start a fresh run, kill -9 it once it saved a checkpoint
# (iteration 100 or later: rows were written), then count what it left.
killed_run() {
    rm -f "$state"
    run --exec &
    pid=$!
    i=0
    while [ ! -e "$state" ] && [ "$i" -lt 600 ] && kill -0 "$pid" 2>/dev/null; do
        sleep 0.1
        i=$((i + 1))
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    [ -e "$state" ] && ok || bad "no checkpoint within 60 s; the run said: $(cat "$tmp/out")"
    temps=$(ls -A "$dir" | grep -c -v -x c.csv)
    [ "$temps" -le 1 ] && ok || bad "after kill -9 number $1: $temps temporary files: $(ls -A "$dir")"
}
killed_run 1
killed_run 2

# A run that completes: the temporary file (if any) goes away.
run --resume "$state" && ok || bad "the resumed run failed: $(cat "$tmp/out")"
left=$(ls -A "$dir")
[ "$left" = c.csv ] && ok || bad "files left beside the CSV after a complete run: $left"
cut -d, -f1 "$csv" | tail -n +2 >"$tmp/iters"
seq 0 $((iters - 1)) | cmp -s - "$tmp/iters" && ok ||
    bad "the CSV does not hold iterations 0..$((iters - 1)) once each: $(head -3 "$tmp/iters")..."
finish
