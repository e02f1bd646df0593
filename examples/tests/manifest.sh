#!/bin/sh
# reptile-eval --manifest is written only once the paper split has loaded:
# with data whose folders scan but whose images do not decode, the run
# fails (exit 1), no manifest appears, an earlier one is left as it was and
# no temporary file stays behind. No real data needed: the folders are made
# up here (1,201 + 1 characters of one unreadable image each).
# Usage: manifest.sh REPTILE_EVAL
set -u
. "$(dirname "$0")/common.sh"
evalprog=$1

bg="$tmp/data/images_background/alphabet"
mkdir -p "$tmp/data/images_evaluation/alphabet/character1" "$bg" "$tmp/out-dir"
: >"$tmp/data/images_evaluation/alphabet/character1/0001_01.png"
seq 1 1201 | sed "s|^|$bg/character|" | xargs mkdir
seq 1 1201 | sed "s|.*|$bg/character&/0001_01.png|" | xargs touch

m="$tmp/out-dir/split.tsv"
expect 1 "loading Omniglot" "$evalprog" --data "$tmp/data" --manifest "$m" \
    --meta-iters 1 --tasks 1 --threads 1 --quiet
[ ! -e "$m" ] && ok || bad "a manifest was written though the data did not load"

printf 'earlier manifest\n' >"$m"
expect 1 "loading Omniglot" "$evalprog" --data "$tmp/data" --manifest "$m" \
    --meta-iters 1 --tasks 1 --threads 1 --quiet
[ "$(cat "$m")" = "earlier manifest" ] && ok || bad "the earlier manifest was replaced"
left=$(ls -A "$tmp/out-dir")
[ "$left" = split.tsv ] && ok || bad "files left in the manifest's folder: $left"
finish
