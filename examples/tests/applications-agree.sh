#!/bin/sh
# The C and C++ programs of docs/applications.md (examples/applications/
# adapt.c, adapt.cpp) print the same lines for the same model, support set
# and queries, and the classes reptile-adapt predicts; both fail the same
# way on a bad query. No data needed.
# Usage: applications-agree.sh ADAPT ADAPT_CPP REPTILE_ADAPT MAKE_CLASSES TRAIN
set -u
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/adapt-common.sh"
make_task "$4" "$5"
model="$tmp/model.safetensors"

"$1" "$model" "$tmp/support" "$tmp"/query/*.png >"$tmp/c.out" 2>&1 && ok || bad "adapt failed"
"$2" "$model" "$tmp/support" "$tmp"/query/*.png >"$tmp/cpp.out" 2>&1 && ok || bad "adapt-cpp failed"
[ "$(wc -l <"$tmp/c.out")" -eq 15 ] && ok || bad "adapt printed:" "$(cat "$tmp/c.out")"
cmp -s "$tmp/c.out" "$tmp/cpp.out" && ok || {
    bad "C and C++ differ:"
    diff "$tmp/c.out" "$tmp/cpp.out"
}
"$3" --model "$model" --support "$tmp/support" --csv "$tmp"/query/*.png >"$tmp/tool.csv" &&
    awk -F, 'NR > 1 { print $1, $2 }' "$tmp/tool.csv" >"$tmp/tool.classes" &&
    awk '{ print $1, $2 }' "$tmp/c.out" | cmp -s - "$tmp/tool.classes" && ok ||
    bad "adapt and reptile-adapt predict other classes"
sed 's/^/    /' "$tmp/c.out"

for prog in "$1" "$2"; do
    expect 1 "$tmp/none.png: cannot open" "$prog" "$model" "$tmp/support" "$tmp/none.png"
    expect 1 "$tmp/none: cannot open" "$prog" "$tmp/none" "$tmp/support" "$tmp/none.png"
    expect 2 "Usage: " "$prog" "$model"
done
finish
