#!/bin/bash
# tests/search_resume.sh - `mcuopt search` survives a kill -9: start a small
# search in the background, kill it once two trials are done, start the same
# command again on the same --db and check (with sqlite3 on the trial store)
# that no finished trial was run again (same finish time, one attempt), that
# nothing is left queued or running, and that the search completed with its
# trial count. Usage: tests/search_resume.sh path/to/mcuopt (cwd: repo root).
# Skipped (exit 77) without MNIST, sqlite3 or the Arm toolchain (the search
# measures its best model on the emulated target).
# Leaves out: Ctrl-C (the same path: workers die, their trials are re-queued).
set -euo pipefail
CLI=$1
. "$(dirname "$0")/lib/skip.sh"
require_mnist
require_cmd sqlite3 sqlite3
require_arm_tools
DATA=$(mnist_dir)
W=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2> /dev/null; rm -rf "$W"; }
trap cleanup EXIT

"$CLI" train --arch mnist-paper --data "$DATA" --epochs 1 -o "$W/m.mco" --quiet > /dev/null
TRIALS=4
args=(search "$W/m.mco" --target stm32f405 --min-accuracy 80 --budget 10m --max-trials $TRIALS
      --train-images 2000 --val-images 500 --seed 4 --workers 1 --threads 1 --data "$DATA"
      -o "$W/out" --db "$W/s.db" --quiet)
# q SQL: a query on the trial store; an error (no store, no table, a renamed
# column) fails the test. poll SQL: the same while the first run may not have
# created the store yet (an error reads as 0).
q() { sqlite3 "$W/s.db" "$1" || { echo "FAIL: sqlite3 query failed: $1" >&2; exit 1; }; }
poll() { sqlite3 "$W/s.db" "$1" 2> /dev/null || echo 0; }

"$CLI" "${args[@]}" > "$W/first.txt" 2>&1 &
pid=$!
for _ in $(seq 1 1200); do
    [ "$(poll "select count(*) from trials where state = 'done'")" -ge 2 ] && break
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.1
done
kill -9 "$pid" 2> /dev/null || true
wait "$pid" 2> /dev/null || true
pid=
q "select id, config, rung, finished_at from trials where state in ('done', 'pruned') order by id" > "$W/before.txt"
n_before=$(wc -l < "$W/before.txt")
[ "$n_before" -ge 2 ] || { echo "FAIL: only $n_before trials finished before the kill"; cat "$W/first.txt"; exit 1; }
echo "killed the search with $n_before trials finished"

"$CLI" "${args[@]}" > "$W/second.txt" 2>&1 || { echo "FAIL: the resumed search failed"; cat "$W/second.txt"; exit 1; }
cat "$W/second.txt"
fail=0
# Every trial finished before the kill is unchanged: not run again.
while IFS='|' read -r id config rung finished; do
    now=$(q "select finished_at from trials where id = $id")
    attempts=$(q "select attempts from trials where id = $id")
    if [ "$now" != "$finished" ] || [ "$attempts" != 1 ]; then
        echo "FAIL: trial $id ($config, rung $rung) ran again (finished $finished -> $now, attempts $attempts)"
        fail=1
    fi
done < "$W/before.txt"
left=$(q "select count(*) from trials where state in ('queued', 'running')")
[ "$left" = 0 ] || { echo "FAIL: $left trials still queued or running"; fail=1; }
total=$(q "select count(*) from trials")
[ "$total" = $TRIALS ] || { echo "FAIL: $total trials in the store, expected $TRIALS"; fail=1; }
dups=$(q "select count(*) from (select config, rung from trials group by config, rung having count(*) > 1)")
[ "$dups" = 0 ] || { echo "FAIL: $dups configurations stored twice"; fail=1; }
grep -q "read back" "$W/second.txt" || { echo "FAIL: no summary from the resumed search"; fail=1; }
[ -f "$W/out/best.mcq" ] && [ -f "$W/out/report.html" ] || { echo "FAIL: outputs missing"; fail=1; }
[ $fail = 0 ] && echo "search_resume: $n_before finished trials read back, not run again; $total trials in all"
exit $fail
