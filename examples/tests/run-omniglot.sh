#!/bin/sh
# Integration test: reptile-omniglot on the real Omniglot data, 50
# meta-iterations of the keras-tutorial preset with every output, then
# checks of each output. Exit 77 (skipped) when the data is missing.
# Usage: run-omniglot.sh REPTILE_OMNIGLOT DATA_DIR cairo|no-cairo
set -u
prog=$1
data=$2
cairo=$3
. "$(dirname "$0")/common.sh"
need_data "$data"

pictures=""
if [ "$cairo" = cairo ]; then
    pictures="--plot $tmp/curve.png --samples $tmp/samples.png --predictions $tmp/predictions.png"
fi
# shellcheck disable=SC2086 # $pictures is a list of words
"$prog" --data "$data" --meta-iters 50 --final-eval 20 --csv "$tmp/curve.csv" $pictures \
    --checkpoint "$tmp/state.safetensors" \
    >"$tmp/stdout" 2>"$tmp/stderr" </dev/null
status=$?
echo "--- stdout"; cat "$tmp/stdout"
echo "--- stderr"; cat "$tmp/stderr"
echo "---"
[ "$status" -eq 0 ] && ok || bad "exit status $status"

# The tutorial's progress line for meta_iter 0.
grep -Eq '^batch 0: train=[0-9]+\.[0-9]{6} test=[0-9]+\.[0-9]{6}$' "$tmp/stdout" && ok ||
    bad "no 'batch 0: train=F test=F' line"

# CSV: header + 50 rows, iterations 0..49, accuracies and meta step sane.
if [ -f "$tmp/curve.csv" ]; then
    head -n 1 "$tmp/curve.csv" | grep -qx 'iteration,meta_step,train_acc,test_acc,elapsed_s' &&
        ok || bad "CSV header: $(head -n 1 "$tmp/curve.csv")"
    rows=$(tail -n +2 "$tmp/curve.csv" | wc -l)
    [ "$rows" -eq 50 ] && ok || bad "CSV has $rows rows, expected 50"
    awk -F, 'NR > 1 {
                 if (NF != 5 || $1 != NR - 2 || $2 < 0 || $2 > 1 || $3 < 0 || $3 > 1 ||
                     $4 < 0 || $4 > 1 || $5 < 0 || $5 < prev) { print "bad row " NR ": " $0; bad = 1 }
                 prev = $5
             }
             END { exit bad }' "$tmp/curve.csv" && ok || bad "CSV values out of range"
else
    bad "no CSV written"
fi

# PNGs: the 8-byte signature and a non-trivial size.
if [ "$cairo" = cairo ]; then
    for f in curve samples predictions; do
        png=$tmp/$f.png
        if [ ! -f "$png" ]; then
            bad "$f.png missing"
            continue
        fi
        sig=$(od -An -tx1 -N8 "$png" | tr -d ' \n')
        size=$(wc -c <"$png")
        [ "$sig" = 89504e470d0a1a0a ] && ok || bad "$f.png has signature $sig"
        [ "$size" -gt 2000 ] && ok || bad "$f.png is only $size bytes"
    done
fi

# Machine-readable lines.
grep -Eq '^final: episodes=20 ways=5 shots=5 accuracy=(0|1)\.[0-9]+ ci95=[0-9]+\.[0-9]+$' \
    "$tmp/stdout" && ok || bad "no parsable 'final:' line"
acc=$(sed -n 's/^final: .*accuracy=\([0-9.]*\).*/\1/p' "$tmp/stdout")
awk -v a="${acc:-2}" 'BEGIN { exit !(a >= 0 && a <= 1) }' && ok || bad "final accuracy '$acc'"
grep -Eq '^time: load_s=[0-9.]+ train_s=[0-9.]+ total_s=[0-9.]+ peak_rss_mb=[0-9.]+$' \
    "$tmp/stdout" && ok || bad "no parsable 'time:' line"

# The training state saved at the end resumes to the same model: 0
# iterations left, the same final evaluation (one thread this time).
if [ -f "$tmp/state.safetensors" ]; then
    ok
    "$prog" --data "$data" --resume "$tmp/state.safetensors" --final-eval 20 --threads 1 \
        --quiet >"$tmp/stdout-resumed" 2>"$tmp/stderr-resumed" </dev/null
    status=$?
    [ "$status" -eq 0 ] && ok || bad "--resume exit status $status: $(cat "$tmp/stderr-resumed")"
    want=$(grep '^final: ' "$tmp/stdout")
    got=$(grep '^final: ' "$tmp/stdout-resumed")
    [ -n "$want" ] && [ "$got" = "$want" ] && ok || bad "resumed '$got' differs from '$want'"
else
    bad "no checkpoint written"
fi

# --quiet silences progress and batch lines but keeps the time: line;
# --meta-iters 0 only loads the data.
"$prog" --data "$data" --meta-iters 0 --quiet >"$tmp/stdout0" 2>"$tmp/stderr0" </dev/null
status=$?
[ "$status" -eq 0 ] && ok || bad "--meta-iters 0 exit status $status"
if grep -q '^time: ' "$tmp/stdout0" && [ "$(wc -l <"$tmp/stdout0")" -eq 1 ] &&
    [ ! -s "$tmp/stderr0" ]; then
    ok
else
    bad "--meta-iters 0 --quiet printed: $(cat "$tmp/stdout0" "$tmp/stderr0")"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
