#!/usr/bin/env bash
# compare-torch.sh -- side-by-side BENCHMARK (not a test: it checks nothing, it
# measures) of libreptile's build/examples/reptile-omniglot against an independent
# PyTorch port of the Keras Reptile tutorial (tests/bench/torch_tutorial.py).
#
# Both programs run the tutorial as coded (keras-tutorial preset: 5-way, 20-shot
# training tasks, 16 SGD steps per meta-iteration, one train and one test evaluation
# task per meta-iteration) for the same number of meta-iterations and the same thread
# count, one after the other.  Their `time: load_s=.. train_s=.. total_s=..
# peak_rss_mb=..` lines are parsed and compared:
#
#   libreptile_train_s=.. torch_train_s=.. speedup=..        (torch / libreptile)
#   libreptile_load_s=..  torch_load_s=..  load_speedup=..   (torch / libreptile)
#   libreptile_peak_rss_mb=.. torch_peak_rss_mb=.. rss_ratio=.. (torch / libreptile)
#
# Wall-clock numbers: on a shared machine they depend on the load (printed before
# and after); compare runs made under similar load.
#
# Usage: tests/bench/compare-torch.sh [--meta-iters N] [--final-eval N]
#            [--threads N] [--seed N] [--data DIR] [--bin PATH] [--python PATH]
# Defaults: 200 meta-iterations, 2 threads, seed 1, data/omniglot,
#           build/examples/reptile-omniglot, /usr/bin/python3.
# Exit status: 0 done, 77 skipped (no torch/numpy/Pillow, or no data), 1 failure,
#              2 bad command line.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
name=compare-torch.sh
# shellcheck source=tests/bench/compare-lib.sh
. "$here/compare-lib.sh"
cd "$root"

iters=200
final=0
threads=2
seed=1
data=data/omniglot
bin=build/examples/reptile-omniglot
py=/usr/bin/python3

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
    --meta-iters) iters=${2:?}; shift 2 ;;
    --final-eval) final=${2:?}; shift 2 ;;
    --threads) threads=${2:?}; shift 2 ;;
    --seed) seed=${2:?}; shift 2 ;;
    --data) data=${2:?}; shift 2 ;;
    --bin) bin=${2:?}; shift 2 ;;
    --python) py=${2:?}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "compare-torch.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
    esac
done
for v in "$iters" "$final" "$threads" "$seed"; do
    [[ $v =~ ^[0-9]+$ ]] || { echo "compare-torch.sh: not a number: '$v'" >&2; exit 2; }
done

compare_need "$py" "$data" "$bin"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

final_args=()
[ "$final" -gt 0 ] && final_args=(--final-eval "$final")

echo "compare-torch: $iters meta-iterations, $threads threads, seed $seed, $(nproc) online CPUs"
echo "compare-torch: load average before: $(compare_loadavg)"

echo "compare-torch: running libreptile: $bin"
"$bin" --data "$data" --meta-iters "$iters" --threads "$threads" --seed "$seed" \
    "${final_args[@]}" --quiet >"$tmp/c.out" 2>"$tmp/c.err" || {
    echo "compare-torch.sh: reptile-omniglot failed:" >&2; cat "$tmp/c.err" >&2; exit 1; }
grep -E '^(final|time):' "$tmp/c.out" | sed 's/^/  libreptile /'
echo "compare-torch: load average between: $(compare_loadavg)"

echo "compare-torch: running torch: $py tests/bench/torch_tutorial.py"
"$py" "$here/torch_tutorial.py" --data "$data" --meta-iters "$iters" --threads "$threads" \
    --seed "$seed" "${final_args[@]}" --quiet --log-interval 0 >"$tmp/t.out" 2>"$tmp/t.err" || {
    echo "compare-torch.sh: torch_tutorial.py failed:" >&2; cat "$tmp/t.err" >&2; exit 1; }
grep -E '^(final|time):' "$tmp/t.out" | sed 's/^/  torch      /'
echo "compare-torch: load average after: $(compare_loadavg)"

for f in load_s train_s peak_rss_mb; do
    c=$(compare_field "$f" "$tmp/c.out"); t=$(compare_field "$f" "$tmp/t.out")
    [ -n "$c" ] && [ -n "$t" ] || { echo "compare-torch.sh: no $f on a time: line" >&2; exit 1; }
    eval "c_$f=\$c; t_$f=\$t"
done

echo "libreptile_train_s=$c_train_s torch_train_s=$t_train_s speedup=$(compare_ratio "$t_train_s" "$c_train_s")"
echo "libreptile_load_s=$c_load_s torch_load_s=$t_load_s load_speedup=$(compare_ratio "$t_load_s" "$c_load_s")"
echo "libreptile_peak_rss_mb=$c_peak_rss_mb torch_peak_rss_mb=$t_peak_rss_mb rss_ratio=$(compare_ratio "$t_peak_rss_mb" "$c_peak_rss_mb")"
