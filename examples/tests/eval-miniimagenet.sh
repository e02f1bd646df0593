#!/bin/sh
# reptile-eval on a folder laid out like Mini-ImageNet (issue 15): the
# paper-miniimagenet-5way preset trains the Mini-ImageNet network on
# DIR/train and scores DIR/test (--split folders, the default for that
# network), a saved state scores alike with --model, 1-shot fine-tunes on
# batches of 5, and the wrong layout or split is a clear error.
# The data is the generated colour set (tests/colour_set.h).
# Usage: eval-miniimagenet.sh REPTILE_EVAL MAKE_COLOUR_SET
set -u
prog=$1
make_set=$2
. "$(dirname "$0")/common.sh"

"$make_set" "$tmp/mini" 12 6 16 3 || { echo "FAIL: make-colour-set"; exit 1; }
run() { "$prog" --data "$tmp/mini" --threads 2 --quiet "$@"; }

expect 0 '^result: split=folders ways=5 shots=5 transductive=0 tasks=6 ' \
    run --preset paper-miniimagenet-5way --meta-iters 2 --tasks 6 --shots 5 --eval-iters 5 \
        --save "$tmp/mini.st"
grep '^result:' "$tmp/out" >"$tmp/trained.res"
# The saved state: its network (84x84x3) selects --split folders again.
expect 0 '^result: split=folders ' run --model "$tmp/mini.st" --tasks 6 --shots 5 --eval-iters 5
grep '^result:' "$tmp/out" >"$tmp/model.res"
cmp -s "$tmp/trained.res" "$tmp/model.res" && ok || bad "--model scores differently from the run that saved it"
# 1-shot: the reference's batch of 5 unless --eval-batch is given.
expect 0 'fine-tuning 5 steps of batch 5$' "$prog" --data "$tmp/mini" --threads 2 \
    --model "$tmp/mini.st" --tasks 2 --shots 1 --eval-iters 5
expect 0 'fine-tuning 5 steps of batch 15$' "$prog" --data "$tmp/mini" --threads 2 \
    --model "$tmp/mini.st" --tasks 2 --shots 5 --eval-iters 5
expect 0 'fine-tuning 5 steps of batch 7$' "$prog" --data "$tmp/mini" --threads 2 \
    --model "$tmp/mini.st" --tasks 2 --shots 1 --eval-iters 5 --eval-batch 7

# Errors: Omniglot's split for this network, a missing test/ folder.
expect 2 'split paper reads Omniglot' run --preset paper-miniimagenet-5way --split paper --tasks 1
mkdir "$tmp/half" && cp -r "$tmp/mini/train" "$tmp/half/"
expect 1 "has no test/ folder" "$prog" --data "$tmp/half" --preset paper-miniimagenet-5way --tasks 1
expect 1 "image data folder '$tmp/none' not found" "$prog" --data "$tmp/none" \
    --preset paper-miniimagenet-5way --tasks 1
finish
