#!/usr/bin/env bash
# cli_options.sh - every command's --help and its parser agree (issue 17:
# one option table drives both, cli/cli_options.h), and the help fits 80
# columns. For every command `mcuopt --help` lists:
#
#  - `mcuopt CMD --help` (and -h, the same text) exits 0, every line is at
#    most 80 columns (stdout is not a terminal here, even with COLUMNS=200;
#    a word longer than that, a long path, stands whole on its own line),
#    and it lists options in the documented format (cli_options.h): lines
#    "  -x, --name ARG", "      --name ARG" or "  -x ARG" after "options:";
#    no long name or letter is listed twice;
#  - every listed option is accepted as listed: `CMD --name=1` (or `--name`
#    when it takes no argument; `-x 1` / `-x` for a letter) followed by an
#    unknown sentinel option must not be refused as unrecognized, ambiguous,
#    missing or taking an argument it should not (so parsing stops at the
#    sentinel or at a check of the value, and nothing runs);
#  - every accepted option is listed: the parser is asked for all its long
#    options (`CMD --=` is a prefix of every one, so the error names them
#    all, as getopt does for an ambiguous prefix), and every letter a-z, A-Z
#    is tried as a short option: each one it takes must be in the help;
#  - every refusal is one line "mcuopt: CMD: ..." with the --help hint.
# Also: `mcuopt --help` fits 80 columns and `mcuopt --version` prints the version.
#
# Usage: cli_options.sh PATH/TO/mcuopt   (run from the repository root)
set -u
cli=$(realpath "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
checks=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# run ARGS...: mcuopt in an empty directory, stdout/stderr to $tmp/out, $tmp/err.
run() {
  (cd "$tmp/work" && exec timeout -k 5 60 "$cli" "$@") >"$tmp/out" 2>"$tmp/err" </dev/null
}
mkdir "$tmp/work"

# wide FILE WHAT: fails for each line over 80 columns, but for a line that
# is one word (a path longer than the line, e.g. the build tree's resource
# directory: printed whole on a line of its own rather than cut).
wide() {
  local n
  n=$(awk 'length > 80 && !/^ *[^ ]+$/' "$1" | wc -l)
  [ "$n" -eq 0 ] || fail "$2: $n lines over 80 columns, e.g.: $(awk 'length > 80 && !/^ *[^ ]+$/' "$1" | head -n 1)"
}

COLUMNS=200 run --help || fail "mcuopt --help exits $?"
wide "$tmp/out" "mcuopt --help"
commands=$(awk '/^commands:/ {on = 1; next} on && /^  [a-z]/ {print $1}' "$tmp/out")
[ "$(echo "$commands" | wc -w)" -ge 21 ] || fail "mcuopt --help lists only: $commands"
run --version && grep -qE '^mcuopt [0-9]+\.[0-9]+' "$tmp/out" || fail "mcuopt --version: $(cat "$tmp/out" "$tmp/err")"

# one_error CMD WHAT: stderr is one "mcuopt: CMD: " line with the hint.
one_error() {
  local lines
  lines=$(wc -l <"$tmp/err")
  if [ "$lines" -ne 1 ] || ! grep -q "^mcuopt: $1: .*(see 'mcuopt $1 --help')\$" "$tmp/err"; then
    fail "$2: stderr is not one 'mcuopt: $1: ... (see ...)' line: $(head -c 300 "$tmp/err")"
  fi
}

sentinel=--zz-no-such-option
for cmd in $commands; do
  COLUMNS=200 run "$cmd" --help
  code=$?
  cp "$tmp/out" "$tmp/help"
  [ "$code" -eq 0 ] || fail "$cmd --help exits $code"
  [ -s "$tmp/err" ] && fail "$cmd --help writes to stderr: $(head -c 200 "$tmp/err")"
  wide "$tmp/help" "$cmd --help"
  run "$cmd" -h
  cmp -s "$tmp/out" "$tmp/help" || fail "$cmd -h differs from $cmd --help"

  # The listed options: "L NAME ARG" (long) or "S X ARG" (short), ARG "-" for none.
  awk '
    /^options:/ {on = 1; next}
    on && /^$/ {on = 0}
    on {
      if (match($0, /^  -[A-Za-z0-9], --[a-z0-9-]+/)) { s = substr($0, 4, 1); l = substr($0, 9, RLENGTH - 8) }
      else if (match($0, /^      --[a-z0-9-]+/)) { s = ""; l = substr($0, 9, RLENGTH - 8) }
      else if (match($0, /^  -[A-Za-z0-9]/)) { s = substr($0, 4, 1); l = "" }
      else next
      rest = substr($0, RLENGTH + 1)
      arg = "-"
      if (rest ~ /^ [^ ]/) { split(substr(rest, 2), w, " "); arg = w[1] }
      if (l != "") print "L", l, arg
      if (s != "") print "S", s, arg
    }' "$tmp/help" >"$tmp/listed"
  grep -q '^L help -$' "$tmp/listed" && grep -q '^S h -$' "$tmp/listed" ||
    fail "$cmd --help does not list -h, --help in the documented format"
  dups=$(awk '{print $1, $2}' "$tmp/listed" | sort | uniq -d | tr '\n' ' ')
  [ -z "$dups" ] || fail "$cmd --help lists twice: $dups"

  # Every listed option is accepted, with or without an argument as listed.
  while read -r kind name arg; do
    checks=$((checks + 1))
    if [ "$kind" = L ]; then
      opt="--$name"
      if [ "$arg" = - ]; then run "$cmd" "$opt" "$sentinel"; else run "$cmd" "$opt=1" "$sentinel"; fi
    else
      opt="-$name"
      if [ "$arg" = - ]; then run "$cmd" "$opt" "$sentinel"; else run "$cmd" "$opt" 1 "$sentinel"; fi
    fi
    [ "$name" = help ] || [ "$name" = h ] && continue   # printed the help
    if grep -qF -e "unrecognized option '$opt'" -e "invalid option -- '$name'" -e "option '$opt' is ambiguous" \
        -e "option '$opt' requires" -e "requires an argument -- '$name'" -e "option '$opt' doesn't allow" "$tmp/err"; then
      fail "$cmd $opt (listed in --help) is refused: $(cat "$tmp/err")"
    fi
    [ -s "$tmp/err" ] && one_error "$cmd" "$cmd $opt"
  done <"$tmp/listed"

  # Every accepted long option is listed: "--=" is a prefix of all of them.
  checks=$((checks + 1))
  run "$cmd" --=
  one_error "$cmd" "$cmd --="
  if ! grep -q "option '--' is ambiguous; possibilities:" "$tmp/err"; then
    fail "$cmd --= does not list the accepted options: $(cat "$tmp/err")"
  else
    accepted=$(grep -o "'--[a-z0-9-]*'" "$tmp/err" | tr -d "'" | sed 's/^--//' | grep -v '^$')
    [ "$(echo "$accepted" | wc -l)" -ge 2 ] || fail "$cmd --= lists too few options: $(cat "$tmp/err")"
    for name in $accepted; do
      grep -q "^L $name " "$tmp/listed" || fail "$cmd accepts --$name, which its --help does not list"
    done
  fi
  # Every accepted letter is listed.
  for x in {a..z} {A..Z}; do
    checks=$((checks + 1))
    run "$cmd" "-$x" 1 "$sentinel"
    if grep -q "invalid option -- '$x'" "$tmp/err"; then
      one_error "$cmd" "$cmd -$x"
      grep -q "^S $x " "$tmp/listed" && fail "$cmd refuses -$x, which its --help lists"
    else
      grep -q "^S $x " "$tmp/listed" || fail "$cmd accepts -$x, which its --help does not list"
    fi
  done
done

echo "cli_options: $(echo "$commands" | wc -w) commands, $checks checks, $failures failures"
[ "$failures" -eq 0 ]
