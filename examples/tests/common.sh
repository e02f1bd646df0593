# Sourced by the example programs' robustness tests: a temporary folder
# ($tmp, removed on exit; a test that mounts something redefines cleanup()
# to unmount first), pass/fail counters and the checks they share.

tmp=$(mktemp -d)
cleanup() { rm -rf "$tmp"; }
trap 'cleanup' EXIT
trap 'exit 1' INT TERM HUP
pass=0
fail=0

# A program's path that still works after cd (meson passes build-relative ones).
abspath() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# expect STATUS PATTERN COMMAND...: the exit status, and PATTERN (grep -e)
# in stdout+stderr, which stay in $tmp/out for further checks.
expect() {
    want=$1 pattern=$2
    shift 2
    "$@" >"$tmp/out" 2>&1 </dev/null
    got=$?
    if [ "$got" -eq "$want" ] && grep -q -e "$pattern" "$tmp/out"; then
        ok
    else
        bad "$* -> exit $got (want $want), output lacks '$pattern':"
        sed 's/^/    /' "$tmp/out"
    fi
}

# lacks PATTERN WHAT: the last expect's output must not match PATTERN.
lacks() {
    if grep -q -e "$1" "$tmp/out"; then
        bad "$2: output has '$1':"
        sed 's/^/    /' "$tmp/out"
    else
        ok
    fi
}

# need_data DIR: exit 77 (skipped) without the Omniglot images.
need_data() {
    if [ ! -d "$1/images_background" ] || [ ! -d "$1/images_evaluation" ]; then
        echo "SKIP: no Omniglot data in $1 (run scripts/fetch-omniglot)"
        exit 77
    fi
}

finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
