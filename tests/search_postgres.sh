#!/bin/bash
# tests/search_postgres.sh - three `mcuopt search` workers share one study in
# a PostgreSQL database (--storage postgresql://...?study=NAME, issue 18) and
# one of them is killed (kill -9) in the middle of a trial: the study still
# ends with exactly --max-trials trials (its budget), all finished, none
# failed, none left queued or running; the killed worker's trial was taken
# over by a live worker once its lease ran out (two attempts, finished by
# another pid) and every other trial was claimed once (the heartbeat kept
# leases alive while trials ran longer than a lease); each trial was
# completed by exactly one worker (what the live workers ran plus what the
# killed one finished is the store's count); the trials' models are all in
# the one --artifacts directory. `mcuopt trials --storage` lists the study.
# Then a second study, on which the server is restarted while two workers
# run it: they reconnect and finish it, and no trial finished before the
# restart is lost or changed.
#
# The test starts its own server (tests/lib/postgres.sh: a temporary
# directory, a Unix socket only, as the postgres user when run as root).
# Usage: tests/search_postgres.sh path/to/mcuopt (cwd: repo root). Exits 77
# (skipped) without MNIST, PostgreSQL's server programs or psql.
set -uo pipefail
CLI=$(realpath "$1")
. "$(dirname "$0")/lib/skip.sh"
require_mnist
. "$(dirname "$0")/lib/postgres.sh"
DATA=$(realpath "$(mnist_dir)")
W=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null; done
    pg_stop
    rm -rf "$W"
}
trap cleanup EXIT
pg_start
DB=$PG_URL
STUDY="$DB&study=t1&lease=3"
q() { psql "$DB" -X -At -c "$1"; }
# num FILE KEY: the number after "KEY": in a JSON summary.
num() { grep -o "\"$2\":[[:space:]]*[0-9]*" "$1" | head -n 1 | grep -o '[0-9]*$'; }

"$CLI" train --arch mnist-paper --data "$DATA" --epochs 1 -o "$W/m.mco" --quiet > /dev/null || exit 1
TRIALS=6
args=(search "$W/m.mco" --target stm32f405 --min-accuracy 80 --budget 10m --max-trials $TRIALS
      --train-images 1500 --val-images 300 --seed 7 --workers 1 --threads 1 --data "$DATA"
      --storage "$STUDY" --artifacts "$W/shared" --json --quiet)
# Worker a starts alone and is killed while it holds a running trial (its
# trial process dies with it); then b and c start and find that trial
# claimed, with a lease that only runs out because nobody renews it.
"$CLI" "${args[@]}" -o "$W/out-a" > "$W/a.json" 2> "$W/a.err" &
victim=$!
pids+=($victim)
held=
for _ in $(seq 1 1200); do
    held=$(q "select id from mcuopt_trials where study = 't1' and state = 'running' and pid = $victim" 2> /dev/null)
    [ -n "$held" ] && break
    kill -0 "$victim" 2> /dev/null || break
    sleep 0.1
done
[ -n "$held" ] || { echo "FAIL: worker a never held a running trial"; cat "$W/a.err"; exit 1; }
kill -9 "$victim"
wait "$victim" 2> /dev/null
still=$(q "select state from mcuopt_trials where study = 't1' and id = $held")
[ "$still" = running ] || { echo "FAIL: worker a finished trial $held before the kill landed ($still); nothing to test"; exit 1; }
echo "killed worker a (pid $victim) while it ran trial $held"
fail=0
for r in b c; do
    "$CLI" "${args[@]}" -o "$W/out-$r" > "$W/$r.json" 2> "$W/$r.err" &
    pids+=($!)
done

for i in 1 2; do
    wait "${pids[$i]}"
    code=$?
    [ "$code" -lt 2 ] || { echo "FAIL: worker $i exited $code"; cat "$W/b.err" "$W/c.err"; fail=1; }
done
pids=()

sq() { q "select count(*) from mcuopt_trials where study = 't1' and $1"; }
total=$(sq "true")
[ "$total" = $TRIALS ] || { echo "FAIL: $total trials in the study for --max-trials $TRIALS"; fail=1; }
left=$(sq "state in ('queued', 'running')")
[ "$left" = 0 ] || { echo "FAIL: $left trials still queued or running (lost)"; fail=1; }
failed=$(sq "state = 'failed'")
[ "$failed" = 0 ] || { echo "FAIL: $failed failed trials: $(q "select error from mcuopt_trials where state = 'failed'")"; fail=1; }
taken=$(q "select state || ' ' || attempts || ' ' || (pid <> $victim) from mcuopt_trials where study = 't1' and id = $held")
[ "$taken" = "done 2 true" ] || { echo "FAIL: the killed worker's trial $held ended as '$taken', not 'done 2 true' (done, two attempts, by another worker)"; fail=1; }
again=$(sq "id <> $held and attempts <> 1")
[ "$again" = 0 ] || { echo "FAIL: $again other trials were claimed more than once (a lease ran out while its worker lived?)"; fail=1; }
by_a=$(sq "pid = $victim and state in ('done', 'pruned')")
ran=$by_a
for r in b c; do
    f=$W/$r.json
    [ -s "$f" ] || { echo "FAIL: worker $r wrote no summary"; cat "$W/$r.err"; fail=1; continue; }
    run=$(num "$f" run)
    echo "worker $r: trials $(num "$f" trials), run $run, read back $(num "$f" reused), run by others $(num "$f" run_by_others)"
    ran=$((ran + run))
done
[ "$ran" = "$total" ] || { echo "FAIL: the workers completed $ran trials between them (a: $by_a), the study holds $total"; fail=1; }
# Every trial's model is in the one shared --artifacts directory.
models=$(q "select deploy_path from mcuopt_trials where study = 't1' and deploy_path is not null")
n_models=0
for f in $models; do
    case $f in "$W/shared/"*) ;; *) echo "FAIL: trial model $f is not in the --artifacts directory"; fail=1 ;; esac
    [ -s "$f" ] || { echo "FAIL: trial model $f is missing"; fail=1; }
    n_models=$((n_models + 1))
done
[ $n_models -gt 0 ] || { echo "FAIL: no trial recorded a model file"; fail=1; }
"$CLI" trials --storage "$DB&study=t1" > "$W/list.txt" 2> "$W/list.err" || { echo "FAIL: mcuopt trials"; cat "$W/list.err"; fail=1; }
grep -q "$TRIALS trials" "$W/list.txt" || { echo "FAIL: mcuopt trials does not list $TRIALS trials"; cat "$W/list.txt"; fail=1; }

# A server restart in the middle of a study (a new study, two workers): the
# workers reconnect and finish it; no trial finished before the restart is
# lost or run again, none failed, none left.
STUDY2="$DB&study=t2&lease=5"
args2=("${args[@]}")
for i in "${!args2[@]}"; do [ "${args2[$i]}" = "$STUDY" ] && args2[$i]=$STUDY2; done
for r in d e; do
    "$CLI" "${args2[@]}" -o "$W/out-$r" > "$W/$r.json" 2> "$W/$r.err" &
    pids+=($!)
done
before=
for _ in $(seq 1 1200); do
    before=$(q "select string_agg(id || ':' || finished_at, ',' order by id) from mcuopt_trials where study = 't2' and state = 'done'" 2> /dev/null)
    [ -n "$before" ] && break
    sleep 0.1
done
[ -n "$before" ] || { echo "FAIL: no trial of study t2 finished"; cat "$W/d.err" "$W/e.err"; exit 1; }
pg_restart
echo "restarted the server after trials $before were done"
for i in 0 1; do
    wait "${pids[$i]}"
    code=$?
    [ "$code" -lt 2 ] || { echo "FAIL: worker $i across the restart exited $code"; cat "$W/d.err" "$W/e.err"; fail=1; }
done
for r in d e; do
    ! grep -q '^mcuopt: ' "$W/$r.err" || { echo "FAIL: worker $r across the restart: $(cat "$W/$r.err")"; fail=1; }
done
pids=()
sq2() { q "select count(*) from mcuopt_trials where study = 't2' and $1"; }
[ "$(sq2 true)" = $TRIALS ] || { echo "FAIL: study t2 holds $(sq2 true) trials, not $TRIALS"; fail=1; }
[ "$(sq2 "state in ('queued', 'running', 'failed')")" = 0 ] ||
    { echo "FAIL: study t2 has trials left or failed: $(q "select id, state, error from mcuopt_trials where study = 't2' and state <> 'done'")"; fail=1; }
after=$(q "select string_agg(id || ':' || finished_at, ',' order by id) from mcuopt_trials where study = 't2' and id in ($(echo "$before" | sed 's/:[^,]*//g'))")
[ "$after" = "$before" ] || { echo "FAIL: trials done before the restart changed: $before -> $after"; fail=1; }

[ $fail = 0 ] && echo "search_postgres: a server restart mid-study lost nothing ($TRIALS trials, none failed)"
[ $fail = 0 ] && echo "search_postgres: $total trials for --max-trials $TRIALS over 3 workers, one killed; trial $held taken over after its lease, every trial completed once; none failed; $n_models trial models in the shared directory"
exit $fail
