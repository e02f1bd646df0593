#!/bin/sh
# check-man1.sh PROGRAM PAGE: the man page PAGE (made from PROGRAM --help)
# and the program agree. Its options are exactly those of --help, each is
# one the program accepts (given with a value when it takes one, it is not
# refused as unknown), and an unknown option is refused (so that the check
# can tell).
set -eu
prog="$1"
page="$2"
name=$(basename "$page" .1)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL $name: $*"; exit 1; }

# Options heading the page's .TP entries; and --help's option lines.
awk 'prev == ".TP" { print } { prev = $0 }' "$page" | sed 's/\\-/-/g' \
  | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u > "$tmp/page"
"$prog" --help > "$tmp/help" || fail "--help failed"
grep -E '^ +(-[a-zA-Z], )?--[a-z]' "$tmp/help" | grep -oE -- '--[a-z][a-z0-9-]*(\[?=[^ ]*| [A-Za-z|,0-9]+)?' \
  > "$tmp/heads" || true
sed 's/[[ =].*//' "$tmp/heads" | sort -u > "$tmp/help-opts"
[ -s "$tmp/page" ] || fail "the page documents no option"
diff "$tmp/help-opts" "$tmp/page" > "$tmp/diff" ||
  fail "page and --help differ (< --help only, > page only): $(cat "$tmp/diff")"

# An unknown option is refused, naming it.
if "$prog" --no-such-option-zz > "$tmp/out" 2>&1; then
  fail "--no-such-option-zz accepted"
fi
grep -q -- "--no-such-option-zz" "$tmp/out" || fail "unknown option not named: $(cat "$tmp/out")"

# Each documented option is known: given (with a value if its --help line
# shows one) before an unknown option, it is not the one refused.
n=0
while read -r opt; do
  case "$opt" in --help|--version) continue ;; esac
  if grep -qE -- "^$opt(\[?=| [A-Za-z])" "$tmp/heads"; then arg="$opt=1"; else arg="$opt"; fi
  "$prog" "$arg" --no-such-option-zz > "$tmp/out" 2>&1 < /dev/null && fail "$arg ran"
  if grep -qE "unknown (option|argument) '${opt}['=]" "$tmp/out"; then
    fail "documented option $opt is unknown to the program: $(cat "$tmp/out")"
  fi
  n=$((n + 1))
done < "$tmp/page"
"$prog" --version > /dev/null 2>&1 || [ "$name" = reptile-fetch-omniglot ] || fail "--version failed"
echo "$name: $n options documented, all known to the program, none undocumented"
