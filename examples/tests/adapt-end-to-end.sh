#!/bin/sh
# reptile-adapt end to end: meta-train a small model on synthetic classes
# (examples/applications/train.c), adapt it to 5 new classes whose images
# are another size, and classify: the table, CSV and JSON have a row per
# query with the task's classes; support images given back as queries and
# held-out images of the same classes are mostly classified as their own
# class; --output writes what stdout gets; the seed and the settings act
# (the same seed gives the same output). No data needed.
# Usage: adapt-end-to-end.sh REPTILE_ADAPT MAKE_CLASSES TRAIN
set -u
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/adapt-common.sh"
prog=$1
make_task "$2" "$3"
adapt() { "$prog" --model "$tmp/model.safetensors" --support "$tmp/support" "$@"; }
classes="class100 class101 class102 class103 class104"

# run NAME ARGS...: adapt ARGS > $tmp/NAME, exit 0 and an empty stderr.
run() {
    name=$1
    shift
    adapt "$@" >"$tmp/$name" 2>"$tmp/$name.err"
    status=$?
    if [ "$status" -eq 0 ] && [ ! -s "$tmp/$name.err" ]; then
        ok
    else
        bad "reptile-adapt $* -> exit $status:"
        cat "$tmp/$name.err"
    fi
}

# The table: a header naming the classes, then one aligned row per query.
run table "$tmp/query"
header=$(head -n 1 "$tmp/table" | tr -s ' ')
[ "$header" = "file class $classes" ] && ok || bad "table header: $header"
[ "$(wc -l <"$tmp/table")" -eq 16 ] && ok || bad "table: $(wc -l <"$tmp/table") lines, want 16"
awk -v n="$(head -n 1 "$tmp/table" | wc -c)" 'length($0) + 1 != n { bad = 1 } END { exit bad }' \
    "$tmp/table" && ok || bad "table rows are not aligned"
awk 'NR > 1 && (NF != 7 || $2 !~ /^class10[0-4]$/) { bad = 1 } END { exit bad }' "$tmp/table" &&
    ok || bad "table rows:" "$(cat "$tmp/table")"

# CSV: the same rows; held-out images and the support images themselves.
run query.csv --csv "$tmp/query"
[ "$(head -n 1 "$tmp/query.csv")" = "file,class,$(echo "$classes" | tr ' ' ,)" ] && ok ||
    bad "CSV header: $(head -n 1 "$tmp/query.csv")"
awk -F, 'NR > 1 { s = 0; for (i = 3; i <= 7; i++) { if ($i < 0 || $i > 1) bad = 1; s += $i }
                  if (NF != 7 || s < 0.5 || s > 1.0001) bad = 1; n++ }
         END { exit bad || n != 15 }' "$tmp/query.csv" && ok || bad "CSV rows:" "$(cat "$tmp/query.csv")"
awk 'NR > 1 { print $1, $2 }' "$tmp/table" >"$tmp/table.classes"
awk -F, 'NR > 1 { print $1, $2 }' "$tmp/query.csv" >"$tmp/csv.classes"
cmp -s "$tmp/table.classes" "$tmp/csv.classes" && ok || bad "the table and the CSV disagree"
got=$(correct "$tmp/query.csv")
[ "$got" -ge 12 ] && ok || bad "held-out queries: $got of 15 correct"
run support.csv --csv "$tmp"/support/*/*.png
got=$(correct "$tmp/support.csv")
[ "$got" -ge 20 ] && ok || bad "support images as queries: $got of 25 correct"
echo "correct: $(correct "$tmp/query.csv")/15 held-out, $got/25 support"

# JSON.
run json --json "$tmp/query"
[ "$(grep -c '"file": ' "$tmp/json")" -eq 15 ] && ok || bad "JSON: not 15 queries"
[ "$(grep -c '"class10[0-4]": [0-9.e-]*,\{0,1\}$' "$tmp/json")" -eq 75 ] && ok ||
    bad "JSON: not 5 probabilities per query"
grep -q '"mode": "with-support"' "$tmp/json" && grep -q '"seed": 1,' "$tmp/json" && ok ||
    bad "JSON: mode or seed"
tr -d ' \n' <"$tmp/json" | grep -q '^{.*"classes":\["class100","class101","class102","class103","class104"\],"queries":\[{.*}\]}$' &&
    ok || bad "JSON layout:" "$(cat "$tmp/json")"

# --output: what stdout gets, and nothing else left in the folder.
mkdir "$tmp/outdir"
run none --csv --output "$tmp/outdir/result.csv" "$tmp/query"
cmp -s "$tmp/query.csv" "$tmp/outdir/result.csv" && ok || bad "--output differs from stdout"
[ "$(ls -A "$tmp/outdir")" = result.csv ] && ok || bad "--output left: $(ls -A "$tmp/outdir")"

# The same seed gives the same output, another seed another one; the
# settings act; other hyperparameters keep the saved optimizer state, another
# optimizer drops it (a note).
run again --csv "$tmp/query"
cmp -s "$tmp/query.csv" "$tmp/again" && ok || bad "two runs differ"
run seed2 --csv --seed 2 "$tmp/query"
cmp -s "$tmp/query.csv" "$tmp/seed2" && bad "--seed 2 changes nothing" || ok
run trans --csv --transductive "$tmp/query"
[ "$(wc -l <"$tmp/trans")" -eq 16 ] && ok || bad "--transductive: $(wc -l <"$tmp/trans") lines"
cmp -s "$tmp/query.csv" "$tmp/trans" && bad "--transductive changes nothing" || ok
expect 0 "note: .*holds the optimizer state adaptation starts from" \
    adapt --csv --optimizer sgd "$tmp/query"
run quiet --csv --eval-iters 0 --quiet "$tmp/query"
cmp -s "$tmp/query.csv" "$tmp/quiet" && bad "--eval-iters 0 changes nothing" || ok
# Given settings equal to the file's keep its state: no note, same output.
run same --csv --eval-iters 50 --optimizer adam "$tmp/query"
cmp -s "$tmp/query.csv" "$tmp/same" && ok || bad "the file's own settings changed the output"
finish
