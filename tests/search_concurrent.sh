#!/bin/bash
# tests/search_concurrent.sh - two `mcuopt search` processes started together
# on one --db share the study (issue 11, defect 9): the store ends with
# exactly --max-trials trials between them (it held 6 for 5), each trial was
# run once (one attempt) by one of the two, nothing is left queued or
# running, no trial failed, and each run's summary counts truthfully: what it
# ran plus what it read back covers what it went through, the trials the two
# ran add up to the store's, and neither counts a trial as failed that the
# store holds as done (both did). Usage: tests/search_concurrent.sh
# path/to/mcuopt (cwd: repo root). Exits 77 (skipped) without MNIST or the
# sqlite3 command.
set -uo pipefail
CLI=$1
. "$(dirname "$0")/lib/skip.sh"
require_mnist
require_cmd sqlite3 sqlite3
DATA=$(mnist_dir)
W=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null; done; rm -rf "$W"; }
trap cleanup EXIT

"$CLI" train --arch mnist-paper --data "$DATA" --epochs 1 -o "$W/m.mco" --quiet > /dev/null || exit 1
TRIALS=5
args=(search "$W/m.mco" --target stm32f405 --min-accuracy 80 --budget 10m --max-trials $TRIALS
      --train-images 1500 --val-images 300 --seed 7 --workers 1 --threads 1 --data "$DATA"
      --db "$W/s.db" --json --quiet)
q() { sqlite3 "$W/s.db" "$1"; }
# num FILE KEY: the number after "KEY": in a JSON summary.
num() { grep -o "\"$2\":[[:space:]]*[0-9]*" "$1" | head -n 1 | grep -o '[0-9]*$'; }

for r in a b; do
    "$CLI" "${args[@]}" -o "$W/out-$r" > "$W/$r.json" 2> "$W/$r.err" &
    pids+=($!)
done
fail=0
for i in 0 1; do
    wait "${pids[$i]}"
    code=$?
    [ "$code" -lt 2 ] || { echo "FAIL: search ${i} exited $code"; cat "$W/a.err" "$W/b.err"; fail=1; }
done
pids=()

total=$(q "select count(*) from trials")
[ "$total" = $TRIALS ] || { echo "FAIL: $total trials in the store for --max-trials $TRIALS"; fail=1; }
left=$(q "select count(*) from trials where state in ('queued', 'running')")
[ "$left" = 0 ] || { echo "FAIL: $left trials still queued or running"; fail=1; }
failed=$(q "select count(*) from trials where state = 'failed'")
[ "$failed" = 0 ] || { echo "FAIL: $failed failed trials: $(q "select error from trials where state = 'failed'")"; fail=1; }
again=$(q "select count(*) from trials where attempts <> 1")
[ "$again" = 0 ] || { echo "FAIL: $again trials were claimed more than once"; fail=1; }
ran=0
for r in a b; do
    f=$W/$r.json
    [ -s "$f" ] || { echo "FAIL: search $r wrote no summary"; cat "$W/$r.err"; fail=1; continue; }
    run=$(num "$f" run) reused=$(num "$f" reused) others=$(num "$f" run_by_others)
    echo "search $r: trials $(num "$f" trials), run $run, read back $reused, run by the other $others," \
         "failed $(num "$f" failed)"
    [ "$(num "$f" trials)" = $TRIALS ] || { echo "FAIL: search $r reports $(num "$f" trials) trials"; fail=1; }
    [ "$(num "$f" failed)" = 0 ] || { echo "FAIL: search $r counts failed trials"; fail=1; }
    ran=$((ran + run))
done
[ "$ran" = "$total" ] || { echo "FAIL: the two searches ran $ran trials between them, the store holds $total"; fail=1; }
[ $fail = 0 ] && echo "search_concurrent: $total trials for --max-trials $TRIALS, each run once; none failed"
exit $fail
