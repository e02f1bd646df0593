#!/bin/sh
# reptile-adapt's errors: a missing --model, --support or QUERY and bad
# option values exit 2; a file that is not a libreptile model (text, a PNG,
# another program's safetensors file), a support folder with a class folder
# without images, with one class or with more classes than the model's
# outputs, a missing, non-PNG or empty query exit 1, each with a message
# naming the problem, and no --output is left behind. No data needed
# (adapt-common.sh makes it).
# Usage: adapt-errors.sh REPTILE_ADAPT MAKE_CLASSES TRAIN
set -u
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/adapt-common.sh"
prog=$1
make_task "$2" "$3"
model="$tmp/model.safetensors"
sup="$tmp/support"
q="$tmp/query/class100-05.png"

# The command line.
expect 2 "^reptile-adapt: --model FILE is missing" "$prog" --support "$sup" "$q"
expect 2 "^reptile-adapt: --support DIR is missing" "$prog" --model "$model" "$q"
expect 2 "^reptile-adapt: no QUERY given" "$prog" --model "$model" --support "$sup"
expect 2 "Try 'reptile-adapt --help'" "$prog" --model "$model" --support "$sup"
expect 2 "csv and --json cannot both be given" "$prog" --model "$model" --support "$sup" --csv --json "$q"
expect 2 "^reptile-adapt: --lr: lr must be in (0, 1000), got \"-1\"" \
    "$prog" --model "$model" --support "$sup" --lr -1 "$q"
expect 2 "^reptile-adapt: --bn-mode: bn_mode must be" "$prog" --model "$model" --support "$sup" --bn-mode x "$q"
expect 2 "^reptile-adapt: --eval-iters: eval_iters must be in 0\.\.1048576" \
    "$prog" --model "$model" --support "$sup" --eval-iters -2 "$q"
# Only what adaptation reads is offered.
expect 2 "unknown option '--meta-iters'" "$prog" --model "$model" --support "$sup" --meta-iters 5 "$q"
expect 2 "unknown option '--shots'" "$prog" --model "$model" --support "$sup" --shots 5 "$q"
expect 2 "--output and --model name the same file" \
    "$prog" --model "$model" --support "$sup" --output "$model" "$q"
expect 1 "^reptile-adapt: --output: cannot create '$tmp/no/such/dir/x'" \
    "$prog" --model "$model" --support "$sup" --output "$tmp/no/such/dir/x" "$q"
expect 0 "resized to its input size" "$prog" --help
expect 0 "--eval-iters N  *fine-tuning length" "$prog" --help
expect 0 "default: 1, whatever the model file holds" "$prog" --help
lacks "--meta-iters" "--help"
expect 0 "^reptile-adapt (libreptile " "$prog" --version

# The model: the library's message after --model.
printf 'not a model at all, just some text\n' >"$tmp/junk"
expect 1 "^reptile-adapt: --model: $tmp/junk: .*not a safetensors file" \
    "$prog" --model "$tmp/junk" --support "$sup" "$q"
expect 1 "^reptile-adapt: --model: $q: .*not a safetensors file" "$prog" --model "$q" --support "$sup" "$q"
# A safetensors file another program wrote: an 8-byte length, JSON, data.
json='{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
{ printf "\\$(printf %03o ${#json})\\0\\0\\0\\0\\0\\0\\0%s" "$json"; printf '\0\0\0\0'; } >"$tmp/foreign.safetensors"
expect 1 "^reptile-adapt: --model: $tmp/foreign.safetensors: .*without libreptile metadata" \
    "$prog" --model "$tmp/foreign.safetensors" --support "$sup" "$q"
expect 1 "^reptile-adapt: --model: $tmp/none: cannot open" "$prog" --model "$tmp/none" --support "$sup" "$q"

# The support folder.
expect 1 "^reptile-adapt: --support: $tmp/none: no such folder" "$prog" --model "$model" --support "$tmp/none" "$q"
mkdir -p "$tmp/s-empty/a" "$tmp/s-empty/b" "$tmp/s-text/a" "$tmp/s-text/b"
cp "$sup"/class100/*.png "$tmp/s-empty/a/"
expect 1 "^reptile-adapt: --support: $tmp/s-empty/b: class folder holds no PNG or JPEG images" \
    "$prog" --model "$model" --support "$tmp/s-empty" "$q"
cp "$sup"/class100/*.png "$tmp/s-text/a/"
printf 'x\n' >"$tmp/s-text/b/notes.txt"
expect 1 "$tmp/s-text/b: class folder holds no PNG or JPEG images" "$prog" --model "$model" --support "$tmp/s-text" "$q"
mkdir -p "$tmp/s-one"
cp -r "$sup/class100" "$tmp/s-one/"
expect 1 "^reptile-adapt: --support '$tmp/s-one' has one class folder ('class100'): a task needs at least 2" \
    "$prog" --model "$model" --support "$tmp/s-one" "$q"
mkdir -p "$tmp/s-six"
cp -r "$sup"/* "$tmp/s-six/"
cp -r "$sup/class100" "$tmp/s-six/class105"
expect 1 "^reptile-adapt: --support '$tmp/s-six' has 6 class folders, but the model supports at most 5 classes" \
    "$prog" --model "$model" --support "$tmp/s-six" "$q"
# ... unless the model gets a new output layer of 6 classes (a note says so).
expect 0 "note: a new output layer of 6 classes replaces the model's 5" \
    "$prog" --model "$model" --support "$tmp/s-six" --new-output-layer --csv "$q"
"$prog" --model "$model" --support "$tmp/s-six" --new-output-layer --csv --quiet "$q" >"$tmp/six.csv" 2>&1
[ "$(head -1 "$tmp/six.csv" | tr ',' '\n' | wc -l)" -eq 8 ] && ok || bad "--new-output-layer: header $(head -1 "$tmp/six.csv")"

# The queries; a failure leaves no --output behind.
expect 1 "^reptile-adapt: query: $tmp/none.png: cannot open" "$prog" --model "$model" --support "$sup" "$q" "$tmp/none.png"
printf 'not an image\n' >"$tmp/text.png"
expect 1 "^reptile-adapt: query: $tmp/text.png: not a PNG or JPEG file" \
    "$prog" --model "$model" --support "$sup" --output "$tmp/out.csv" --csv "$q" "$tmp/text.png"
[ ! -e "$tmp/out.csv" ] && ok || bad "a failed run left --output behind"
[ -z "$(find "$tmp" -maxdepth 1 -name 'out.csv.tmp*')" ] && ok || bad "a failed run left a temporary file"
mkdir -p "$tmp/q-empty"
printf 'x\n' >"$tmp/q-empty/readme.txt"
expect 1 "^reptile-adapt: query folder '$tmp/q-empty' holds no PNG or JPEG images" \
    "$prog" --model "$model" --support "$sup" "$tmp/q-empty"
finish
