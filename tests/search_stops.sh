#!/bin/bash
# tests/search_stops.sh - `mcuopt search` ends (issue 11, defect 2: on a
# target nothing fits it ran forever, ignoring --budget and the first SIGINT,
# and its trial table grew without bound):
#   - a target even the smallest candidate cannot fit (1 KB Flash) is refused
#     at once with one line saying which limit is missed by how much, exit 1,
#     nothing written;
#   - on a target only small candidates fit (6 KB Flash), the first SIGINT
#     stops the search: exit 130 soon after, no trial left running;
#   - the same search without a signal ends by its --budget of 20 s.
# Usage: tests/search_stops.sh path/to/mcuopt (cwd: repo root). Exits 77
# (skipped) without MNIST or the sqlite3 command.
set -uo pipefail
CLI=$1
. "$(dirname "$0")/lib/skip.sh"
require_mnist
require_cmd sqlite3 sqlite3
W=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2> /dev/null; rm -rf "$W"; }
trap cleanup EXIT
. "$(dirname "$0")/lib/mini_mnist.sh"
make_mini_model "$CLI" "$W" || exit 1
profile() { # NAME FLASH_KB
    printf '{"name": "%s", "vendor": "test", "core": "cortex-m0plus", "clock_mhz": 48, "flash_kb": %s,
      "ram_kb": 8, "fpu": "none", "dsp": false, "helium": false, "active_ua_per_mhz": 100, "voltage": 3.0,
      "qemu_machine": "mps2-an385", "source": "search_stops.sh"}\n' "$1" "$2" > "$W/$1.json"
}
profile flash1k 1
profile flash6k 6
args=(search "$W/m.mco" --min-accuracy 50 --data "$W/mini" --val-images 100 --quiet)
now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.1f", a - b }'; }
fail=0

# Nothing fits: refused before anything is written.
t0=$(now)
timeout -k 10 60 "$CLI" "${args[@]}" --target "$W/flash1k.json" --budget 20s -o "$W/out1" > "$W/1.out" 2> "$W/1.err"
code=$?
echo "1 KB Flash: exit $code after $(since "$t0") s: $(cat "$W/1.err")"
[ "$code" = 1 ] || { echo "FAIL: exit $code, want 1"; fail=1; }
[ "$(wc -l < "$W/1.err")" = 1 ] && grep -q "nothing fits flash1k: .*Flash [0-9]* B is [0-9]* B over the target's 1024 B" "$W/1.err" ||
    { echo "FAIL: not one line saying what does not fit"; fail=1; }
[ ! -e "$W/out1" ] || { echo "FAIL: left $W/out1 behind"; fail=1; }

# The first SIGINT stops it.
"$CLI" "${args[@]}" --target "$W/flash6k.json" --budget 10m -o "$W/out2" > "$W/2.out" 2> "$W/2.err" &
pid=$!
for _ in $(seq 1 600); do   # until trials are being proposed (at most 60 s)
    [ "$(sqlite3 "$W/out2/search.db" "select count(*) from trials" 2> /dev/null || echo 0)" -ge 3 ] && break
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.1
done
t0=$(now)
kill -INT "$pid"
for _ in $(seq 1 1200); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2> /dev/null; then
    echo "FAIL: the search was still running 120 s after SIGINT"
    fail=1
else
    wait "$pid"
    code=$?
    pid=
    echo "6 KB Flash, SIGINT: exit $code after $(since "$t0") s"
    [ "$code" = 130 ] || { echo "FAIL: exit $code after SIGINT, want 130"; cat "$W/2.err"; fail=1; }
    running=$(sqlite3 "$W/out2/search.db" "select count(*) from trials where state = 'running'")
    [ "$running" = 0 ] || { echo "FAIL: $running trials left running"; fail=1; }
fi

# The budget ends it (plus the final test evaluation and emulator check).
t0=$(now)
timeout -k 10 300 "$CLI" "${args[@]}" --target "$W/flash6k.json" --budget 20s -o "$W/out3" > "$W/3.out" 2> "$W/3.err"
code=$?
took=$(since "$t0")
echo "6 KB Flash, --budget 20s: exit $code after $took s, $(sqlite3 "$W/out3/search.db" "select count(*) from trials") trials"
[ "$code" -lt 2 ] || { echo "FAIL: exit $code"; cat "$W/3.err"; fail=1; }
awk -v t="$took" 'BEGIN { exit !(t < 120) }' || { echo "FAIL: a 20 s budget took $took s"; fail=1; }
[ $fail = 0 ] && echo "search_stops: refused at once, stopped by SIGINT, ended by the budget"
exit $fail
