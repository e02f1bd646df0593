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
expect 2 "meta-iters: 'abc' is not an integer" "$prog" --meta-iters abc
expect 2 "meta-iters: -3 is out of range" "$prog" --meta-iters -3
expect 2 "ways: 1 is out of range" "$prog" --ways 1
expect 2 "shots: '5x' is not an integer" "$prog" --shots 5x
expect 2 "lr: '-1' is out of range" "$prog" --lr -1
expect 2 "lr: 'nan' is not a finite number" "$prog" --lr nan
expect 2 "meta-step: '' is not a finite number" "$prog" --meta-step ""
expect 2 "seed: '-1' is not a non-negative" "$prog" --seed -1
expect 2 "threads: 0 is out of range" "$prog" --threads 0
expect 2 "final-eval: 0 is out of range" "$prog" --final-eval 0
expect 2 "eval-interval: 'x' is not an integer" "$prog" --eval-interval x
expect 2 "unknown option '--bogus'" "$prog" --bogus
expect 2 "needs a value" "$prog" --data
expect 2 "unexpected argument 'extra'" "$prog" extra
expect 2 "preset" "$prog" --preset no-such-preset
expect 2 "ways cannot be combined with --resume" "$prog" --resume "$tmp/state" --ways 5
expect 2 "preset cannot be combined with --resume" "$prog" --resume "$tmp/state" --preset keras-tutorial
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
expect 2 "tasks: 0 is out of range" "$evalprog" --tasks 0
expect 2 "shots: 'one' is not an integer" "$evalprog" --shots one
expect 1 "model: " "$evalprog" --model "$tmp/junk"
expect 1 "save: cannot create" "$evalprog" --data "$nodata" --save "$tmp/no/such/dir/m"
expect 2 "manifest only applies" "$evalprog" --split tfds --manifest "$tmp/m.tsv"
expect 1 "scripts/fetch-omniglot" "$evalprog" --data "$nodata"
expect 0 "--transductive" "$evalprog" --help

finish
