#!/usr/bin/env bash
# compare-torch-miniimagenet.sh -- side-by-side BENCHMARK (not a test: it checks
# nothing, it measures) of libreptile's reptile-eval against an independent PyTorch
# implementation of the Reptile paper's Mini-ImageNet protocol with the reference
# implementation's semantics (tests/bench/torch_miniimagenet.py), on the same files.
#
# Both programs meta-train paper-miniimagenet-5way (5 tasks x 8 Adam steps of 10
# 84x84x3 images per meta-iteration, about 61 GFLOP) for the same number of
# meta-iterations and threads, one after the other, without evaluating. The data
# is a folder laid out like Mini-ImageNet (train/ and test/ of class folders of PNG
# or JPEG files): by default the generated colour set of tests/colour_set.h (64
# train and 16 test classes of 20 images, written by build/tests/make-colour-set
# into a temporary folder), or --data DIR. Prints:
#
#   libreptile_train_s=.. torch_train_s=.. speedup=..        (torch / libreptile)
#   libreptile_load_s=..  torch_load_s=..  load_speedup=..
#   libreptile_peak_rss_mb=.. torch_peak_rss_mb=.. rss_ratio=..
#   libreptile_s_per_it=.. torch_s_per_it=.. gflop_per_it=..
#   full_protocol_hours=..  (100,000 iterations at libreptile's measured rate)
#
# Usage: tests/bench/compare-torch-miniimagenet.sh [--meta-iters N] [--threads N]
#            [--seed N] [--data DIR] [--build DIR] [--python PATH]
# Defaults: 10 meta-iterations, 2 threads, seed 1, the generated set, build/,
#           /usr/bin/python3.
# Exit status: 0 done, 77 skipped (no torch/numpy/Pillow), 1 failure, 2 bad command line.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
name=compare-torch-miniimagenet.sh
# shellcheck source=tests/bench/compare-lib.sh
. "$here/compare-lib.sh"
cd "$root"

iters=10 threads=2 seed=1 data="" build=build py=/usr/bin/python3
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
    --meta-iters) iters=${2:?}; shift 2 ;;
    --threads) threads=${2:?}; shift 2 ;;
    --seed) seed=${2:?}; shift 2 ;;
    --data) data=${2:?}; shift 2 ;;
    --build) build=${2:?}; shift 2 ;;
    --python) py=${2:?}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "$name: unknown option '$1' (try --help)" >&2; exit 2 ;;
    esac
done
for v in "$iters" "$threads" "$seed"; do
    [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "$name: not a positive number: '$v'" >&2; exit 2; }
done
bin=$build/examples/reptile-eval

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -z "$data" ]; then
    [ -x "$build/tests/make-colour-set" ] || { echo "$name: $build/tests/make-colour-set not built" >&2; exit 1; }
    data=$tmp/colour
    "$build/tests/make-colour-set" "$data" 64 16 20 "$seed"
fi
compare_need "$py" "$data" "$bin" train test

echo "$name: paper-miniimagenet-5way, $iters meta-iterations, $threads threads, seed $seed, data $data, $(nproc) online CPUs"
echo "$name: load average before: $(compare_loadavg)"
"$bin" --data "$data" --preset paper-miniimagenet-5way --meta-iters "$iters" --tasks 0 \
    --threads "$threads" --seed "$seed" --quiet >"$tmp/c.out" 2>"$tmp/c.err" || {
    echo "$name: reptile-eval failed:" >&2; cat "$tmp/c.err" >&2; exit 1; }
grep -E '^time:' "$tmp/c.out" | sed 's/^/  libreptile /'
echo "$name: load average between: $(compare_loadavg)"
"$py" "$here/torch_miniimagenet.py" --data "$data" --meta-iters "$iters" \
    --threads "$threads" --seed "$seed" --quiet >"$tmp/t.out" 2>"$tmp/t.err" || {
    echo "$name: torch_miniimagenet.py failed:" >&2; cat "$tmp/t.err" >&2; exit 1; }
grep -E '^(work|time):' "$tmp/t.out" | sed 's/^/  torch      /'
echo "$name: load average after: $(compare_loadavg)"

declare -A c t
for f in load_s train_s peak_rss_mb; do
    c[$f]=$(compare_field "$f" "$tmp/c.out"); t[$f]=$(compare_field "$f" "$tmp/t.out")
    [ -n "${c[$f]}" ] && [ -n "${t[$f]}" ] || { echo "$name: no $f on a time: line" >&2; exit 1; }
done
gflop=$(sed -n 's/.*gflop_per_it=\([0-9.]*\).*/\1/p' "$tmp/t.out")
per_it() { awk -v s="$1" -v n="$iters" 'BEGIN { printf "%.3f", s / n }'; }
echo "libreptile_train_s=${c[train_s]} torch_train_s=${t[train_s]} speedup=$(compare_ratio "${t[train_s]}" "${c[train_s]}")"
echo "libreptile_load_s=${c[load_s]} torch_load_s=${t[load_s]} load_speedup=$(compare_ratio "${t[load_s]}" "${c[load_s]}")"
echo "libreptile_peak_rss_mb=${c[peak_rss_mb]} torch_peak_rss_mb=${t[peak_rss_mb]} rss_ratio=$(compare_ratio "${t[peak_rss_mb]}" "${c[peak_rss_mb]}")"
echo "libreptile_s_per_it=$(per_it "${c[train_s]}") torch_s_per_it=$(per_it "${t[train_s]}") gflop_per_it=$gflop"
echo "full_protocol_hours=$(awk -v s="${c[train_s]}" -v n="$iters" 'BEGIN { printf "%.1f", s / n * 100000 / 3600 }')"
