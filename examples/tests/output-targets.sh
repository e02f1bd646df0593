#!/bin/sh
# What is already at an output's path is checked before any work (the
# data folder given does not exist, so a check made after the data would
# say "fetch-omniglot" instead):
# - files the library writes (--checkpoint, reptile-eval's --save and
#   --manifest) are replaced by a rename, regular files only: /dev/null, a
#   FIFO, a folder or a symlink leading nowhere is refused (exit 1, naming
#   the option, "must be a regular file"); the examples' own outputs
#   (--csv) are written in place there;
# - an existing file the user may not write (0444) is refused, naming the
#   option, and left as it was (as root, run as nobody through setpriv);
# - a folder where the CSV's temporary file FILE.tmp goes is refused.
# Usage: output-targets.sh REPTILE_OMNIGLOT REPTILE_EVAL [REPTILE_OMNIGLOT_MPI]
# (an empty argument skips that program's checks)
set -u
. "$(dirname "$0")/common.sh"
prog=${1:+$(abspath "$1")}
evalprog=${2:+$(abspath "$2")}
mpiprog=${3:+$(abspath "$3")}

none="$tmp/no-data"
mkfifo "$tmp/fifo"
mkdir "$tmp/dir"
ln -s "$tmp/nowhere/x" "$tmp/dangling"

# special OPT COMMAND...: COMMAND's OPT over each special file is refused.
special() {
    opt=$1
    shift
    for f in /dev/null "$tmp/fifo" "$tmp/dir"; do
        expect 1 "$opt: '$f' is .*; it must be a regular file" "$@" --data "$none" "$opt" "$f"
        lacks "fetch-omniglot" "$opt $f: refused only after the data"
    done
    expect 1 "$opt: '$tmp/dangling' is a symbolic link that leads nowhere" \
        "$@" --data "$none" "$opt" "$tmp/dangling"
}

# as_user COMMAND...: COMMAND without root's right to write any file.
as_user() {
    if [ "$(id -u)" -eq 0 ]; then
        setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
    else
        "$@"
    fi
}
can_drop=1
if [ "$(id -u)" -eq 0 ] && ! setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
    can_drop=0
    echo "note: running as root without setpriv: read-only files not checked"
fi
chmod 755 "$tmp"
mkdir -m 777 "$tmp/ro"
printf 'keep me\n' >"$tmp/ro/file"
chmod 444 "$tmp/ro/file"

# read_only OPT COMMAND...: COMMAND's OPT over a 0444 file is refused.
read_only() {
    [ "$can_drop" -eq 1 ] || return 0
    opt=$1
    shift
    # nobody must reach the program and its libraries: not so in a checkout
    # under a folder only root may enter (a 0700 mktemp clone).
    if "$@" --version >/dev/null 2>&1 && ! as_user "$@" --version >/dev/null 2>&1; then
        echo "note: $* does not run as nobody here (a folder nobody may enter): $opt over a read-only file not checked"
        return 0
    fi
    expect 1 "$opt: cannot write '$tmp/ro/file': Permission denied" \
        as_user "$@" --data "$none" "$opt" "$tmp/ro/file"
    lacks "fetch-omniglot" "$opt over a read-only file: refused only after the data"
    [ "$(cat "$tmp/ro/file")" = "keep me" ] && ok || bad "$opt: the read-only file changed"
}

if [ -n "$prog" ]; then
    special --checkpoint "$prog"
    # The examples' own outputs are written in place on /dev/null and FIFOs.
    expect 1 "fetch-omniglot" "$prog" --data "$none" --csv /dev/null
    read_only --checkpoint "$prog"
    read_only --csv "$prog"
    mkdir "$tmp/c.csv.tmp"
    expect 1 "--csv: '$tmp/c.csv.tmp', the temporary file of '$tmp/c.csv', is a directory" \
        "$prog" --data "$none" --csv "$tmp/c.csv"
fi
if [ -n "$evalprog" ]; then
    special --save "$evalprog"
    special --manifest "$evalprog"
    read_only --save "$evalprog"
    read_only --manifest "$evalprog"
fi
if [ -n "$mpiprog" ]; then # a single process, no mpirun needed
    special --checkpoint timeout 60 "$mpiprog"
    read_only --checkpoint timeout 60 "$mpiprog"
fi
[ ! -e "$tmp/nowhere" ] && ok || bad "a refused run created files"
left=$(ls -A "$tmp" "$tmp/ro" | grep -v -x -e c.csv.tmp | grep '\.tmp')
[ -z "$left" ] && ok || bad "temporary files left: $left"
finish
