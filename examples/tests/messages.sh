#!/bin/sh
# Messages that must not mislead: a --data naming a file says so (not "not
# found"); every library option has one range, the library's, reported with
# the library's message (reptile_meta_options_set()) after the option's name
# (--threads 1000 and --threads 100000 alike); a value that underflows to 0
# or to a denormal is refused naming the option and echoing what was typed
# (not "got 0"); --seed is decimal ("09" is taken, "0x10" refused). No data
# needed.
# Usage: messages.sh REPTILE_OMNIGLOT REPTILE_EVAL [REPTILE_OMNIGLOT_MPI]
# (an empty argument skips that program's checks)
set -u
. "$(dirname "$0")/common.sh"
prog=$1
evalprog=$2
mpiprog=${3:-}

none="$tmp/no-data"
printf 'not a folder\n' >"$tmp/file"
mkdir -p "$tmp/half/images_evaluation"
printf 'not a folder\n' >"$tmp/half/images_background"

# Every case names a data folder that does not exist: a value wrongly taken
# then fails at once (exit 1) instead of starting a run on data/omniglot.
# Checks shared by the three programs; $@ is the program (and a wrapper).
common_checks() {
    expect 1 "'$tmp/file' is a file, not a folder" "$@" --data "$tmp/file"
    lacks "not found" "--data naming a file"
    expect 1 "'$tmp/half/images_background' is a file, not a folder" "$@" --data "$tmp/half"
    # One range for --threads: the library's; and it takes that bound.
    for n in 257 1000 100000 99999999999999999999; do
        expect 2 "^[^ ]*: --threads: threads must be in 1\.\.256, got \"$n\"" \
            "$@" --data "$none" --threads "$n"
    done
    expect 1 "fetch-omniglot" "$@" --data "$none" --threads 256
    lacks "threads" "--threads 256"
}

if [ -n "$prog" ]; then
    common_checks "$prog"
    # Floats: underflow to 0, denormal in float, overflow, the library's bounds.
    for v in 1e-50 1e-40 1e-400 4e-320; do
        expect 2 "^reptile-omniglot: --lr: lr must be in (0, 1000), got \"$v\"" \
            "$prog" --data "$none" --lr "$v"
        lacks "got 0" "--lr $v"
    done
    for v in 1e-50 1e-40 1e-400 4e-320; do
        expect 2 "^reptile-omniglot: --meta-step: meta_step must be in \[0, 1\], got \"$v\"" \
            "$prog" --data "$none" --meta-step "$v"
    done
    expect 2 "^reptile-omniglot: --lr: lr must be in (0, 1000), got \"5000\"" \
        "$prog" --data "$none" --lr 5000
    expect 2 "^reptile-omniglot: --lr: lr must be in (0, 1000), got \"1e400\"" \
        "$prog" --data "$none" --lr 1e400
    expect 2 "^reptile-omniglot: --meta-step: meta_step must be in \[0, 1\], got \"2\"" \
        "$prog" --data "$none" --meta-step 2
    # Integers: the library's ranges, and a number too long for a long.
    expect 2 "^reptile-omniglot: --ways: ways must be in 2\.\.4096, got \"5000\"" \
        "$prog" --data "$none" --ways 5000
    expect 2 "^reptile-omniglot: --inner-batch: inner_batch must be in 1\.\.100000, got" \
        "$prog" --data "$none" --inner-batch 200000
    expect 2 "^reptile-omniglot: --meta-iters: meta_iters must be in 1\.\.100000000, got \"99999999999999999999\"" \
        "$prog" --data "$none" --meta-iters 99999999999999999999
    # strtoull would read " -1" as 2^64 - 1.
    expect 2 "^reptile-omniglot: --seed: seed must be a decimal integer in 0\.\.18446744073709551615, got \" -1\"" \
        "$prog" --data "$none" --seed " -1"
    # Decimal only: "09" is 9 (base 0 refused it as octal), hex is refused.
    expect 1 "fetch-omniglot" "$prog" --data "$none" --seed 09
    lacks "seed" "--seed 09"
    expect 2 "^reptile-omniglot: --seed: seed must be a decimal integer in 0\.\.18446744073709551615, got \"0x10\"" \
        "$prog" --data "$none" --seed 0x10
fi

if [ -n "$evalprog" ]; then
    common_checks "$evalprog"
    expect 2 "^reptile-eval: --ways: ways must be in 2\.\.4096, got \"5000\"" \
        "$evalprog" --data "$none" --ways 5000
    expect 1 "fetch-omniglot" "$evalprog" --data "$none" --seed 010
    lacks "seed" "reptile-eval --seed 010"
fi

# reptile-omniglot-mpi parses with the same code, run as a single process.
if [ -n "$mpiprog" ]; then
    common_checks timeout 60 "$mpiprog"
    expect 2 "^reptile-omniglot-mpi: --lr: lr must be in (0, 1000), got \"1e-50\"" \
        timeout 60 "$mpiprog" --data "$none" --lr 1e-50
    expect 2 "^reptile-omniglot-mpi: --meta-batch: meta_batch must be in 1\.\.1024, got \"2000\"" \
        timeout 60 "$mpiprog" --data "$none" --meta-batch 2000
fi
finish
