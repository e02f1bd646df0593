#!/bin/sh
# Fast checks of reptile-omniglot's and reptile-eval's command-line errors:
# bad values exit 2 naming the option, a missing data folder exits 1 with
# the fetch hint, unwritable outputs fail before any work.
# Usage: cli-errors.sh REPTILE_OMNIGLOT REPTILE_EVAL cairo|no-cairo
set -u
prog=$1
evalprog=$2
cairo=$3
. "$(dirname "$0")/common.sh"

nodata="$tmp/no-such-folder"
# Library options: the library's bounds and message, after the option.
expect 2 "meta-iters: meta_iters must be in 1\.\.100000000, got \"abc\" (or 0: " "$prog" --meta-iters abc
expect 2 "meta-iters: meta_iters must be in 1\.\.100000000, got \"-3\"" "$prog" --meta-iters -3
expect 2 "ways: ways must be in 2\.\.4096, got \"1\"" "$prog" --ways 1
expect 2 "shots: eval_shots must be in 1\.\.10000, got \"5x\"" "$prog" --shots 5x
expect 2 "lr: lr must be in (0, 1000), got \"-1\"" "$prog" --lr -1
expect 2 "lr: lr must be in (0, 1000), got \"nan\"" "$prog" --lr nan
expect 2 "meta-step: meta_step must be in \[0, 1\], got \"\"" "$prog" --meta-step ""
expect 2 "seed: seed must be a decimal integer in 0\.\.18446744073709551615, got \"-1\"" \
    "$prog" --seed -1
expect 2 "threads: threads must be in 1\.\.256, got \"0\"" "$prog" --threads 0
expect 2 "final-eval: 0 is out of range" "$prog" --final-eval 0
expect 2 "eval-interval: eval_interval must be in 0\.\.100000000, got \"x\"" \
    "$prog" --eval-interval x
# Every library option is an option, named as its field; values by name.
expect 2 "optimizer: optimizer must be sgd (0) or adam (1), got \"rmsprop\"" \
    "$prog" --optimizer rmsprop
expect 2 "keras-argmax: keras_argmax must be 0 or 1, got \"2\"" "$prog" --keras-argmax=2
expect 1 "fetch-omniglot" "$prog" --data "$nodata" --momentum 0.5 --optimizer adam \
    --keras-argmax --keras-clip=0 --eval-shots 3 --bn-mode batch
expect 2 "unknown option '--world-size'" "$prog" --world-size 2
expect 2 "option '--quiet' takes no value" "$prog" --quiet=1
expect 2 "ambiguous option '--eval'" "$prog" --eval 3
expect 2 "unknown option '--bogus'" "$prog" --bogus
expect 2 "needs a value" "$prog" --data
expect 2 "unexpected argument 'extra'" "$prog" extra
expect 2 "preset" "$prog" --preset no-such-preset
expect 2 "ways cannot be combined with --resume" "$prog" --resume "$tmp/state" --ways 5
expect 2 "preset cannot be combined with --resume" "$prog" --resume "$tmp/state" --preset keras-tutorial
expect 2 "momentum cannot be combined with --resume" "$prog" --resume "$tmp/state" --momentum 0.5
# Evaluation settings never shape training: a resumed run may change them
# (here the state is missing, so the run fails at that, exit 1).
expect 1 "resume: " "$prog" --resume "$tmp/state" --shots 5 --keras-argmax
lacks "cannot be combined" "--resume with evaluation settings"
expect 1 "resume: " "$prog" --resume "$tmp/no-such-state" --threads 2 --meta-iters 40
expect 1 "resume: " "$prog" --resume "$tmp/no-such-state"
printf 'not a checkpoint' >"$tmp/junk"
expect 1 "resume: " "$prog" --resume "$tmp/junk"
expect 1 "checkpoint: cannot create" "$prog" --data "$nodata" --checkpoint "$tmp/no/such/dir/state"
expect 1 "scripts/fetch-omniglot" "$prog" --data "$nodata" --meta-iters 1
mkdir -p "$tmp/empty"
expect 1 "scripts/fetch-omniglot" "$prog" --data "$tmp/empty" --meta-iters 1
expect 1 "csv: cannot create" "$prog" --data "$nodata" --csv "$tmp/no/such/dir/x.csv"
expect 1 "is a directory" "$prog" --data "$nodata" --csv "$tmp"
expect 0 "--final-eval N" "$prog" --help
expect 0 "--adam-eps F  *Adam epsilon; > 0 (default: 1e-08)" "$prog" --help
expect 0 "--lr F  *inner learning rate; in (0, 1000) (default: 0.003)" "$prog" --help
expect 0 "reptile-omniglot" "$prog" --version
if [ "$cairo" = cairo ]; then
    expect 1 "plot: cannot create" "$prog" --data "$nodata" --plot "$tmp/no/such/dir/x.png"
    expect 2 "eval-interval 0" "$prog" --data "$nodata" --plot "$tmp/x.png" --eval-interval 0
else
    expect 2 "built without cairo" "$prog" --plot "$tmp/x.png"
fi
# The output check must not leave files behind when it fails later.
[ ! -e "$tmp/c.csv" ] || { echo "FAIL: stray file"; fail=$((fail + 1)); }
expect 1 "fetch-omniglot" "$prog" --data "$nodata" --csv "$tmp/c.csv"
if [ -e "$tmp/c.csv" ]; then
    echo "FAIL: --csv file left behind after an early failure"
    fail=$((fail + 1))
fi

expect 2 "split: 'nope'" "$evalprog" --split nope
expect 2 "filter: 'cubic' is not 'bilinear', 'area' or 'nearest'" "$evalprog" --filter cubic
expect 2 "tasks: -1 is out of range" "$evalprog" --tasks -1
expect 2 "shots: eval_shots must be in 1\.\.10000, got \"one\"" "$evalprog" --shots one
expect 2 "eval-mode: eval_mode must be non-transductive (0) or transductive (1)" \
    "$evalprog" --eval-mode both
expect 1 "scripts/fetch-omniglot" "$evalprog" --data "$nodata" --transductive --eval-iters 10
expect 1 "model: " "$evalprog" --model "$tmp/junk"
expect 1 "save: cannot create" "$evalprog" --data "$nodata" --save "$tmp/no/such/dir/m"
expect 2 "manifest only applies" "$evalprog" --split tfds --manifest "$tmp/m.tsv"
expect 1 "scripts/fetch-omniglot" "$evalprog" --data "$nodata"
expect 0 "--transductive" "$evalprog" --help
# reptile-eval's own default for eval_shots: 1, whatever the preset.
expect 0 "images per class (default: 1)$" "$evalprog" --help

finish
