#!/usr/bin/env bash
# compare-torch-paper.sh -- side-by-side BENCHMARK (not a test: it checks nothing,
# it measures) of libreptile's build/examples/reptile-eval against an independent
# PyTorch implementation of the Reptile paper's Omniglot protocol with the reference
# implementation's semantics (tests/bench/torch_paper.py).
#
# Both programs meta-train the paper preset (--ways 5: paper-omniglot-5way, 5 tasks
# x 5 Adam steps of 10 images per meta-iteration; --ways 20: paper-omniglot-20way,
# 5 tasks x 10 steps of 20 images) on the paper split (1,200 characters x 4
# rotations) for the same number of meta-iterations and the same thread count, one
# after the other, without evaluating (reptile-eval --tasks 0).  Their `time:
# load_s=.. train_s=.. total_s=.. peak_rss_mb=..` lines are parsed and compared:
#
#   libreptile_train_s=.. torch_train_s=.. speedup=..        (torch / libreptile)
#   libreptile_load_s=..  torch_load_s=..  load_speedup=..   (torch / libreptile)
#   libreptile_peak_rss_mb=.. torch_peak_rss_mb=.. rss_ratio=.. (torch / libreptile)
#   libreptile_it_per_s=.. torch_it_per_s=..                 (iterations / train_s)
#
# train_s is the meta-training loop only; load_s reads and preprocesses the whole
# split.  Wall-clock numbers: on a shared machine they depend on the load (printed
# before and after); compare runs made under similar load.  With --rounds R the
# two programs alternate R times, each round prints its own ratio
# (round=K ... speedup=..), and the summary takes each field's median over the
# rounds (speedup= is the median of the rounds' ratios): a VM whose speed drifts
# within minutes moves single ratios by a third.
#
# Usage: tests/bench/compare-torch-paper.sh [--meta-iters N] [--ways 5|20]
#            [--threads N] [--seed N] [--rounds R] [--data DIR] [--bin PATH]
#            [--python PATH]
# Defaults: 200 meta-iterations, 5 ways, 2 threads, seed 1, 1 round, data/omniglot,
#           build/examples/reptile-eval, /usr/bin/python3.
# Exit status: 0 done, 77 skipped (no torch/numpy/Pillow, or no data), 1 failure,
#              2 bad command line.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
name=compare-torch-paper.sh
# shellcheck source=tests/bench/compare-lib.sh
. "$here/compare-lib.sh"
cd "$root"

iters=200
ways=5
threads=2
seed=1
rounds=1
data=data/omniglot
bin=build/examples/reptile-eval
py=/usr/bin/python3

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
    --meta-iters) iters=${2:?}; shift 2 ;;
    --ways) ways=${2:?}; shift 2 ;;
    --threads) threads=${2:?}; shift 2 ;;
    --seed) seed=${2:?}; shift 2 ;;
    --rounds) rounds=${2:?}; shift 2 ;;
    --data) data=${2:?}; shift 2 ;;
    --bin) bin=${2:?}; shift 2 ;;
    --python) py=${2:?}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "compare-torch-paper.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
    esac
done
for v in "$iters" "$ways" "$threads" "$seed" "$rounds"; do
    [[ $v =~ ^[0-9]+$ ]] || { echo "compare-torch-paper.sh: not a number: '$v'" >&2; exit 2; }
done
case "$ways" in
5 | 20) preset=paper-omniglot-${ways}way ;;
*) echo "compare-torch-paper.sh: --ways must be 5 or 20, got '$ways'" >&2; exit 2 ;;
esac
if [ "$iters" -eq 0 ] || [ "$threads" -eq 0 ] || [ "$rounds" -eq 0 ]; then
    echo "compare-torch-paper.sh: --meta-iters, --threads and --rounds must be > 0" >&2; exit 2
fi

compare_need "$py" "$data" "$bin"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "compare-torch-paper: $preset, $iters meta-iterations, $threads threads, seed $seed, $(nproc) online CPUs"
echo "compare-torch-paper: load average before: $(compare_loadavg)"

# median FILE: the median of the numbers in FILE, one per line.
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
declare -A c t # libreptile's and torch's values by field name: medians over the rounds
for round in $(seq 1 "$rounds"); do
    echo "compare-torch-paper: round $round of $rounds: libreptile: $bin --preset $preset"
    "$bin" --data "$data" --preset "$preset" --ways "$ways" --meta-iters "$iters" --tasks 0 \
        --threads "$threads" --seed "$seed" --quiet >"$tmp/c.out" 2>"$tmp/c.err" || {
        echo "compare-torch-paper.sh: reptile-eval failed:" >&2; cat "$tmp/c.err" >&2; exit 1; }
    grep -E '^time:' "$tmp/c.out" | sed 's/^/  libreptile /'
    echo "compare-torch-paper: load average between: $(compare_loadavg)"
    echo "compare-torch-paper: round $round of $rounds: torch: $py tests/bench/torch_paper.py --ways $ways"
    "$py" "$here/torch_paper.py" --data "$data" --ways "$ways" --meta-iters "$iters" \
        --threads "$threads" --seed "$seed" --quiet >"$tmp/t.out" 2>"$tmp/t.err" || {
        echo "compare-torch-paper.sh: torch_paper.py failed:" >&2; cat "$tmp/t.err" >&2; exit 1; }
    grep -E '^(work|time):' "$tmp/t.out" | sed 's/^/  torch      /'
    echo "compare-torch-paper: load average after: $(compare_loadavg)"
    for f in load_s train_s peak_rss_mb; do
        cv=$(compare_field "$f" "$tmp/c.out"); tv=$(compare_field "$f" "$tmp/t.out")
        if [ -z "$cv" ] || [ -z "$tv" ]; then
            echo "compare-torch-paper.sh: no $f on a time: line" >&2; exit 1
        fi
        echo "$cv" >>"$tmp/c.$f"; echo "$tv" >>"$tmp/t.$f"
    done
    ratio=$(compare_ratio "$(tail -n 1 "$tmp/t.train_s")" "$(tail -n 1 "$tmp/c.train_s")")
    echo "$ratio" >>"$tmp/speedup"
    echo "round=$round libreptile_train_s=$(tail -n 1 "$tmp/c.train_s") torch_train_s=$(tail -n 1 "$tmp/t.train_s") speedup=$ratio"
done
for f in load_s train_s peak_rss_mb; do
    c[$f]=$(median "$tmp/c.$f"); t[$f]=$(median "$tmp/t.$f")
done
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.3f", n / s; else print "inf" }'; }

echo "libreptile_train_s=${c[train_s]} torch_train_s=${t[train_s]} speedup=$(median "$tmp/speedup")"
echo "libreptile_load_s=${c[load_s]} torch_load_s=${t[load_s]} load_speedup=$(compare_ratio "${t[load_s]}" "${c[load_s]}")"
echo "libreptile_peak_rss_mb=${c[peak_rss_mb]} torch_peak_rss_mb=${t[peak_rss_mb]} rss_ratio=$(compare_ratio "${t[peak_rss_mb]}" "${c[peak_rss_mb]}")"
echo "libreptile_it_per_s=$(rate "$iters" "${c[train_s]}") torch_it_per_s=$(rate "$iters" "${t[train_s]}")"
