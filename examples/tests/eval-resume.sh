#!/bin/sh
# reptile-eval's resumable training (issue 14): a run interrupted by a signal
# (SIGTERM: a background job of sh ignores SIGINT) saves --checkpoint, and
# --resume continues it to the same training state, bit for bit, as one
# uninterrupted run; a saved state scored with other
# evaluation settings (--transductive) scores as --resume does; --resume
# refuses a setting that shapes training; the interrupted run still prints its
# time line. Exit 77 without data.
# Usage: eval-resume.sh REPTILE_EVAL DATA_DIR
set -u
prog=$1
data=$2
. "$(dirname "$0")/common.sh"
need_data "$data"
run() { "$prog" --data "$data" --meta-iters 40 --checkpoint-every 5 --quiet "$@" </dev/null; }

run --threads 2 --tasks 0 --checkpoint "$tmp/one" >/dev/null 2>"$tmp/one.err" \
    || { cat "$tmp/one.err"; exit 1; }
# Interrupted part-way (SIGTERM once a periodic checkpoint exists).
"$prog" --data "$data" --meta-iters 40 --checkpoint-every 5 --quiet --threads 1 --tasks 0 \
    --checkpoint "$tmp/two" </dev/null >"$tmp/a.out" 2>"$tmp/a.err" &
pid=$!
i=0
while [ ! -f "$tmp/two" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
kill -TERM $pid
wait $pid && { echo "FAIL: an interrupted run exited 0"; cat "$tmp/a.err"; exit 1; }
grep -q "interrupted after .*: continue with --resume $tmp/two" "$tmp/a.err" \
    || { echo "FAIL: unclear interruption message:"; cat "$tmp/a.err"; exit 1; }
# Its training time is printed, so that the segments of a resumed run add up.
grep -q '^time: load_s=[0-9.]* train_s=[0-9.]* total_s=' "$tmp/a.out" \
    || { echo "FAIL: no time line after the interruption:"; cat "$tmp/a.out"; exit 1; }
cmp -s "$tmp/one" "$tmp/two" && { echo "FAIL: interrupted too late to test resuming"; exit 77; }
run --threads 2 --tasks 0 --resume "$tmp/two" --checkpoint "$tmp/two" >/dev/null 2>"$tmp/b.err" \
    || { cat "$tmp/b.err"; exit 1; }
cmp "$tmp/one" "$tmp/two" || { echo "FAIL: the resumed training state differs"; exit 1; }

# Scoring a finished state: --model and --resume agree, transductive too.
"$prog" --data "$data" --model "$tmp/one" --tasks 30 --transductive --quiet >"$tmp/m.out" \
    || exit 1
run --resume "$tmp/one" --tasks 30 --transductive >"$tmp/r.out" || exit 1
grep '^result:' "$tmp/m.out" >"$tmp/m.res"
grep '^result:' "$tmp/r.out" >"$tmp/r.res"
cmp "$tmp/m.res" "$tmp/r.res" || { echo "FAIL: --model and --resume score differently"; exit 1; }

# Settings that shape training cannot change; --model excludes --resume.
if run --resume "$tmp/one" --lr 0.01 --tasks 0 >/dev/null 2>"$tmp/c.err"; then
    echo "FAIL: --lr was accepted with --resume"; exit 1
fi
grep -q "lr cannot be combined with --resume" "$tmp/c.err" || { cat "$tmp/c.err"; exit 1; }
if "$prog" --model "$tmp/one" --resume "$tmp/one" >/dev/null 2>"$tmp/d.err"; then
    echo "FAIL: --model with --resume was accepted"; exit 1
fi
grep -q "give one of them" "$tmp/d.err" || { cat "$tmp/d.err"; exit 1; }
echo "eval resume: interrupted + resumed training state equals one run; scoring agrees"
