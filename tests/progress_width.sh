#!/usr/bin/env bash
# progress_width.sh - the progress lines fit the terminal (issue 17 item 6:
# search's line was ~115 columns, so in an 80-column terminal every redraw
# left a wrapped fragment). `mcuopt train` and a short `mcuopt search` run
# on a pseudo-terminal made by `script` (util-linux / bsdutils) set to 80,
# then 50 columns (COLUMNS unset: the width is the terminal's own); every
# redraw (what follows a carriage return) must be at most width-1 columns,
# and there must have been redraws to check (a
# redraw starting "epoch " for train, "... done" / "trials ..." for search).
# With stderr not a terminal, no carriage return is written at all.
#
# Usage: progress_width.sh PATH/TO/mcuopt (run from the repository root).
# Skipped (77) without MNIST, script, or (the search) the Arm toolchain and QEMU.
set -u
. "$(dirname "$0")/lib/skip.sh"
require_mnist
require_cmd script bsdutils
require_arm_tools
cli=$(realpath "$1")
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
. "$(dirname "$0")/lib/mini_mnist.sh"
make_mini_model "$cli" "$W" || { echo "FAIL: could not make the mini model"; exit 1; }
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# on_tty COLS LOG CMD...: runs CMD (stdout to /dev/null) on a pty of COLS
# columns, what it wrote to the terminal into LOG.
on_tty() {
  local cols=$1 log=$2 cmd
  shift 2
  printf -v cmd '%q ' "$@"
  env -u COLUMNS timeout -k 5 600 script -qefc "stty cols $cols rows 24; $cmd >/dev/null" "$log" >/dev/null </dev/null
}

# check_width LOG COLS WHAT PATTERN: every redraw in LOG (what follows a
# carriage return and the erase-line sequence) is at most COLS-1 columns,
# and some redraw matches PATTERN. (Lines written once, such as "training
# ... on ...", may wrap: they leave no fragment behind.)
check_width() {
  local log=$1 cols=$2 what=$3 pattern=$4
  # the redraws: what follows each "\r ESC[K" up to the next \r or \n
  tr '\r' '\n' <"$log" | grep -a $'^\x1b\\[K' | sed 's/\x1b\[K//g' >"$log.lines"
  local long
  long=$(awk -v max=$((cols - 1)) 'length > max' "$log.lines" | head -n 2)
  [ -z "$long" ] || fail "$what at $cols columns drew a line over $((cols - 1)): $long"
  grep -qE "$pattern" "$log.lines" || fail "$what at $cols columns drew no progress line ($pattern): $(head -c 300 "$log.lines")"
}

for cols in 80 50; do
  on_tty "$cols" "$W/train$cols.log" "$cli" train --data "$W/mini" --epochs 2 --val 50 --batch 8 -o "$W/t.mco" ||
    fail "train on a $cols-column terminal exited $?"
  check_width "$W/train$cols.log" "$cols" train '^epoch [12]/2 .*loss'
done
# shortened, not emptied: the bar while an epoch runs, its validation figures when it ends
grep -q '^epoch [12]/2 \[[=> ]*\] .*loss' "$W/train80.log.lines" || fail "train at 80 columns drew no bar"
grep -q '^epoch 2/2 .*val loss [0-9.]* acc' "$W/train50.log.lines" || fail "train at 50 columns lost the validation figures"

on_tty 80 "$W/search.log" "$cli" search "$W/m.mco" --target stm32f405 --min-accuracy 30 --data "$W/mini" \
  --val-images 100 --budget 120s --max-trials 2 -o "$W/out" || fail "search on an 80-column terminal exited $?"
check_width "$W/search.log" 80 search '(trials [0-9]+ done|[0-9]+ done, [0-9]+ running)'

# Not a terminal: no redraws.
"$cli" train --data "$W/mini" --epochs 1 --val 50 -o "$W/t2.mco" >/dev/null 2>"$W/plain.err" || fail "train exited $?"
grep -q $'\r' "$W/plain.err" && fail "train wrote carriage returns to a stderr that is not a terminal"

echo "progress_width: $failures failures"
[ "$failures" -eq 0 ]
