#!/bin/sh
# Every output of the example programs on a full disk (a 64 KiB tmpfs):
# the run exits 1 with a message naming the option and the system's reason
# ("No space left on device"), the file named is left as it was (a good
# earlier file untouched, an absent one still absent: never a truncated
# file) and no temporary file stays behind. The learning curve filling the
# disk mid-run stops the run at once, not after the whole run.
# Needs root (mount) and the Omniglot data; exit 77 (skipped) without.
# Usage: full-disk.sh REPTILE_OMNIGLOT REPTILE_EVAL DATA_DIR cairo|no-cairo
#                     [REPTILE_OMNIGLOT_MPI]
# (an empty program argument skips that program's checks)
set -u
. "$(dirname "$0")/common.sh"
prog=$1
evalprog=$2
data=$3
cairo=$4
mpiprog=${5:-}
need_data "$data"

mnt="$tmp/disk"
mkdir "$mnt"
if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: mounting a small tmpfs to fill needs root"
    exit 77
fi
if ! mount -t tmpfs -o size=64k tmpfs "$mnt" 2>"$tmp/mount.err"; then
    echo "SKIP: cannot mount a tmpfs here: $(cat "$tmp/mount.err")"
    exit 77
fi
cleanup() {
    umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null
    rm -rf "$tmp"
}

# A good earlier file (a learning curve: --csv reads it only when resuming).
good="iteration,meta_step,train_acc,test_acc,elapsed_s
0,0.25,0.200000,0.200000,1.000"

# fill NAME EARLIER PAGES: an empty disk, then NAME holding $good when
# EARLIER is 1, then a filler taking all the space but PAGES 4 KiB pages.
fill() {
    rm -rf "$mnt"/* "$mnt"/.[!.]*
    [ "$2" -eq 1 ] && printf '%s\n' "$good" >"$mnt/$1"
    dd if=/dev/zero of="$mnt/filler" bs=4096 2>/dev/null
    if [ "$3" -gt 0 ]; then
        truncate -s $(($(stat -c %s "$mnt/filler") - 4096 * $3)) "$mnt/filler"
    fi
}

# full OPT NAME PAGES COMMAND...: COMMAND writes OPT to $mnt/NAME; run it
# with a good earlier file there, then with none. With $too_late set, the
# output must not match it (a line printed after the failure).
too_late=""
full() {
    opt=$1 name=$2 pages=$3
    shift 3
    for earlier in 1 0; do
        fill "$name" "$earlier" "$pages"
        expect 1 "$opt.*No space left on device" "$@"
        [ -z "$too_late" ] || lacks "$too_late" "$opt: the run went on after the failure"
        if [ "$earlier" -eq 1 ]; then
            [ "$(cat "$mnt/$name")" = "$good" ] && ok ||
                bad "$opt: the earlier file is now $(wc -c <"$mnt/$name") bytes"
        else
            [ ! -e "$mnt/$name" ] && ok ||
                bad "$opt: a $(wc -c <"$mnt/$name")-byte file was left on the full disk"
        fi
        left=$(ls -A "$mnt" | grep -v -x -e filler -e "$name")
        [ -z "$left" ] && ok || bad "$opt: left on the full disk: $left"
    done
}

# Short runs: two iterations of small tasks.
short="--data $data --meta-iters 2 --train-shots 1 --inner-iters 1 --inner-batch 5 --shots 1"
eval_short="--data $data --meta-iters 1 --tasks 1 --eval-iters 1 --no-rotations --quiet"
# shellcheck disable=SC2086 # $short and $eval_short are lists of words
{
    if [ -n "$prog" ]; then
        full --csv c.csv 0 "$prog" $short --csv "$mnt/c.csv"
        full --checkpoint state 0 "$prog" $short --checkpoint "$mnt/state"
        if [ "$cairo" = cairo ]; then
            full --samples s.png 0 "$prog" $short --samples "$mnt/s.png"
            full --plot p.png 0 "$prog" $short --plot "$mnt/p.png"
            full --predictions q.png 0 "$prog" $short --predictions "$mnt/q.png"
        fi
    fi
    if [ -n "$evalprog" ]; then
        full --manifest split.tsv 0 "$evalprog" $eval_short --manifest "$mnt/split.tsv"
        full --save model 0 "$evalprog" $eval_short --save "$mnt/model"
    fi
    if [ -n "$mpiprog" ]; then # a single process, no mpirun needed
        full --csv c.csv 0 timeout 120 "$mpiprog" $short --csv "$mnt/c.csv"
    fi
    if [ -n "$prog" ]; then
        # The disk is full mid-run: the rows, kept in memory, find no room
        # at the first snapshot (iteration 100 of 300), and the run must
        # stop there, long before 'batch 200'.
        too_late="^batch 200:"
        full --csv c.csv 0 "$prog" $short --meta-iters 300 --csv "$mnt/c.csv"
    fi
}
finish
