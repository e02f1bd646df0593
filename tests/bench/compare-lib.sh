# Sourced by the compare-torch*.sh benchmarks: the checks before
# a side-by-side run and the parsing of the two programs' time: lines.
# The caller sets `name` (its name in messages) first.

# compare_need PY DATA BIN [SUBDIR...]: exit 77 (skipped) without PyTorch,
# numpy, Pillow or the data's folders (default: Omniglot's), 1 when the
# libreptile program is not built.
compare_need() {
    local py=$1 data=$2 bin=$3 sub
    shift 3
    [ $# -gt 0 ] || set -- images_background images_evaluation
    if ! "$py" -c 'import torch' 2>/dev/null; then
        echo "$name: SKIP: PyTorch not importable by $py (Debian: apt-get install python3-torch)" >&2
        exit 77
    fi
    if ! "$py" -c 'import numpy, PIL' 2>/dev/null; then
        echo "$name: SKIP: numpy or Pillow missing for $py (Debian: python3-numpy python3-pil)" >&2
        exit 77
    fi
    for sub in "$@"; do
        if [ ! -d "$data/$sub" ]; then
            echo "$name: SKIP: no $sub/ folder under '$data'" >&2
            exit 77
        fi
    done
    if [ ! -x "$bin" ]; then
        echo "$name: '$bin' not built (meson compile -C build)" >&2
        exit 1
    fi
}

compare_loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# compare_field NAME FILE: the value of NAME= on the file's last time: line.
compare_field() { sed -n "s/^time:.* $1=\([0-9.]*\).*/\1/p" "$2" | tail -n 1; }

# compare_ratio A B: A / B with two decimals ("inf" when B is 0).
compare_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'; }
