#!/bin/sh
# One file named by two outputs is refused before any work: exit 2 with a
# message naming both options, whatever the spelling of the path (the same
# string, ./ and ../ detours, a hard link, a symlink, a file that does not
# exist yet), and the file is left alone. No data needed: the data folder
# given does not exist, so a check made after the data would exit 1.
# Usage: same-path.sh REPTILE_OMNIGLOT REPTILE_EVAL [REPTILE_OMNIGLOT_MPI]
# (an empty argument skips that program's checks)
set -u
. "$(dirname "$0")/common.sh"
prog=${1:+$(abspath "$1")}
evalprog=$2
mpiprog=${3:-}

none="$tmp/no-data"
x="$tmp/x"
printf 'good\n' >"$x"
mkdir "$tmp/sub"

# same OPT_A OPT_B PATH_A PATH_B: refused, naming OPT_A and OPT_B (in the
# program's order of outputs).
same() {
    expect 2 "$1 and $2 name the same file" "$prog" --data "$none" "$1" "$3" "$2" "$4"
}

# in_tmp COMMAND...: run COMMAND in $tmp (relative file names).
in_tmp() { sh -c 'cd "$1" && shift && exec "$@"' sh "$tmp" "$@"; }

if [ -n "$prog" ]; then
    # Every pair of outputs, the same string.
    outputs="--csv --plot --samples --predictions --checkpoint"
    i=0
    for a in $outputs; do
        i=$((i + 1))
        j=0
        for b in $outputs; do
            j=$((j + 1))
            [ "$j" -gt "$i" ] && same "$a" "$b" "$x" "$x"
        done
    done
    # Other spellings of one existing file.
    same --csv --checkpoint "$x" "$tmp/./x"
    same --plot --checkpoint "$x" "$tmp/sub/../x"
    ln "$x" "$tmp/hard"
    same --csv --plot "$tmp/hard" "$x"
    ln -s x "$tmp/link"
    same --samples --predictions "$x" "$tmp/link"
    # A file that does not exist yet: same folder and name.
    same --csv --plot "$tmp/new.csv" "$tmp/sub/../new.csv"
    expect 2 "--samples and --predictions name the same file" in_tmp "$prog" --data "$none" \
        --samples new.png --predictions "$tmp/new.png"
    # An output over the state --resume reads (--checkpoint may replace it).
    for a in --csv --plot --samples --predictions; do
        expect 2 "$a and --resume name the same file" "$prog" --resume "$x" "$a" "$x"
    done
    expect 1 "resume: " "$prog" --data "$none" --resume "$x" --checkpoint "$x"
    lacks "same file" "--resume X --checkpoint X"
    # Each CSV snapshot replaces CSV.tmp: no other output may be that file.
    expect 2 "--checkpoint and --csv's temporary file name the same file" "$prog" \
        --data "$none" --csv "$tmp/c.csv" --checkpoint "$tmp/c.csv.tmp"
    # Distinct files are fine (then the missing data); so is /dev/null
    # twice, but the library writes --checkpoint and only over a regular
    # file: refused before the data (output-targets.sh checks more).
    expect 1 "fetch-omniglot" "$prog" --data "$none" --csv "$tmp/a" --checkpoint "$tmp/b"
    expect 1 "--checkpoint: '/dev/null' is a character device; it must be a regular file" \
        "$prog" --data "$none" --csv /dev/null --checkpoint /dev/null
    lacks "same file" "--csv /dev/null --checkpoint /dev/null"
fi

if [ -n "$evalprog" ]; then
    # reptile-eval: --manifest, --save and --model (which --save may replace).
    expect 2 "--manifest and --save name the same file" "$evalprog" --data "$none" \
        --manifest "$x" --save "$tmp/./x"
    expect 2 "--manifest and --model name the same file" "$evalprog" --data "$none" \
        --model "$x" --manifest "$x"
    expect 1 "model: " "$evalprog" --data "$none" --model "$x" --save "$x"
    lacks "same file" "reptile-eval --model X --save X"
fi

# reptile-omniglot-mpi, run as a single process (no mpirun needed).
if [ -n "$mpiprog" ]; then
    expect 2 "--csv and --checkpoint name the same file" timeout 60 "$mpiprog" \
        --data "$none" --csv "$x" --checkpoint "$tmp/sub/../x"
    expect 2 "--checkpoint and --csv's temporary file name the same file" timeout 60 \
        "$mpiprog" --data "$none" --csv "$tmp/c.csv" --checkpoint "$tmp/c.csv.tmp"
fi

[ "$(cat "$x")" = good ] && ok || bad "the file named twice was changed: $(cat "$x")"
[ ! -e "$tmp/new.csv" ] && [ ! -e "$tmp/new.png" ] && ok || bad "a refused run created a file"
finish
