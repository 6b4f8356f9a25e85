#!/bin/bash
# search_scaling.sh - the same study run by 1, 2 and 4 `mcuopt search`
# worker processes sharing one PostgreSQL database on this machine (issue
# 18): for each worker count, trials per hour (finished trials over the
# wall time from the study's first claim to its last finish), trials per
# hour per worker, and the best objective over time (lowest objective among
# the finished trials at or above the floor, at each tenth of the budget).
#
#   bash bench/search_scaling.sh [BUDGET] [COUNTS]     (default 10m "1 2 4")
#
# MCO_BUILD_DIR picks the build tree (default build). Starts its own server
# (tests/lib/postgres.sh) and removes it at the end. Each worker is one
# process with one training thread (--workers 1 --threads 1), so on a
# machine with C cores no more than C workers train at once: on 2 cores the
# speedup is bounded by 2 whatever the worker count, and the per-worker
# figure shows what each process gets. Wall-clock figures are only
# meaningful on an otherwise idle machine (see `uptime`).
#
# What it leaves out: several machines (the point of the PostgreSQL store;
# here every worker shares one machine's cores), repeated runs.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${MCO_BUILD_DIR:-build}
budget=${1:-10m}
counts=${2:-1 2 4}
. tests/lib/skip.sh
. tests/lib/postgres.sh
require_mnist
data=$(realpath "$(mnist_dir)")

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$build" -j2 --target mcuopt_cli > /dev/null
cli=$(realpath "$build/mcuopt")

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null || true; done
    pg_stop
    rm -rf "$work"
}
trap cleanup EXIT
pg_start
q() { psql "$PG_URL" -X -At -F ' ' -c "$1"; }

echo "load average at the start: $(cut -d ' ' -f 1-3 /proc/loadavg) on $(nproc) cores"
"$cli" train --arch mnist-paper --data "$data" --epochs 1 -o "$work/m.mco" --quiet > /dev/null
for n in $counts; do
    study=scale$n
    for i in $(seq 1 "$n"); do
        "$cli" search "$work/m.mco" --target stm32f405 --min-accuracy 97 --budget "$budget" --seed 1 \
            --workers 1 --threads 1 --data "$data" --storage "$PG_URL&study=$study" \
            --artifacts "$work/artifacts-$study" -o "$work/out-$study-$i" --quiet \
            > "$work/$study-$i.log" 2>&1 &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || true; done
    pids=()
    read -r done_trials span < <(q "select count(*), max(finished_at) - min(started_at) from mcuopt_trials
                                  where study = '$study' and state = 'done'")
    rate=$(awk -v d="$done_trials" -v s="$span" -v n="$n" \
        'BEGIN { if (s > 0) printf "%.0f trials/h, %.0f trials/h per worker", d * 3600 / s, d * 3600 / s / n; else print "-" }')
    echo "== $n worker(s): $done_trials trials done in $(printf '%.0f' "$span") s: $rate"
    echo "   best objective over time (s since the first claim: best so far):"
    q "with t as (select finished_at - min(started_at) over () as at, objective, accuracy from mcuopt_trials
                  where study = '$study' and state = 'done'),
            b as (select at, min(case when accuracy >= 0.97 then objective end) over (order by at) as best from t)
       select round(at::numeric, 0), round(best::numeric, 4) from b order by at" |
        awk -v span="$span" 'BEGIN { next_mark = span / 10; last = "-" }
             { while ($1 >= next_mark && next_mark <= span) { printf "     %6.0f s: %s\n", next_mark, last; next_mark += span / 10 }
               last = ($2 == "" ? "-" : $2) }
             END { printf "     %6.0f s: %s\n", span, last }'
done
