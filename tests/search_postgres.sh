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
# restart is lost or changed. Then a third study, two workers sharing no
# directory (no --artifacts): each trial run once, each worker learned from
# the other's results (learned_from_others), the models kept in the database,
# and `search --report` from a directory holding none of the workers' files
# chooses the same trial, from the database's copy, bit-exact on the emulator.
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
# Worker a runs in a process group of its own (job control), so that it and
# its trial process are frozen together (SIGSTOP) once it holds a running
# trial, the trial's state is read while nothing can change it, and both
# are killed at once: a short trial cannot finish between the look and the
# kill.
set -m
"$CLI" "${args[@]}" -o "$W/out-a" > "$W/a.json" 2> "$W/a.err" &
victim=$!
set +m
pids+=($victim)
held=
for _ in $(seq 1 1200); do
    held=$(q "select id from mcuopt_trials where study = 't1' and state = 'running' and pid = $victim" 2> /dev/null)
    if [ -n "$held" ]; then
        kill -STOP -- -"$victim" 2> /dev/null
        [ "$(q "select state from mcuopt_trials where study = 't1' and id = $held")" = running ] && break
        kill -CONT -- -"$victim" 2> /dev/null
        held=
    fi
    kill -0 "$victim" 2> /dev/null || break
    sleep 0.05
done
[ -n "$held" ] || { echo "FAIL: worker a never held a running trial"; cat "$W/a.err"; exit 1; }
kill -9 -- -"$victim"
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
# The restart waits until both workers are connected (each has claimed a
# trial: a claim records its search process's pid) and a trial is done. (A
# worker's first connection made while the server shuts down fails at once
# with one error line: only a worker that has reached the server waits for
# it to come back.)
before=
for _ in $(seq 1 1200); do
    workers=$(q "select count(distinct pid) from mcuopt_trials where study = 't2' and state in ('running', 'done')" 2> /dev/null)
    before=$(q "select string_agg(id || ':' || finished_at, ',' order by id) from mcuopt_trials where study = 't2' and state = 'done'" 2> /dev/null)
    [ -n "$before" ] && [ "${workers:-0}" -ge 2 ] && break
    before=
    sleep 0.1
done
[ -n "$before" ] || { echo "FAIL: no trial of study t2 finished while both workers ran"; cat "$W/d.err" "$W/e.err"; exit 1; }
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

# Workers that share what they learn (a third study, two workers started
# together, no --artifacts: the machines share no directory). Each draws its
# own proposals and takes in the other's finished trials before each batch
# ("learned_from_others"); every trial is run once; the models are kept in
# the database. Then `--report` with the same options writes the study's
# outputs from a directory that holds none of the workers' files (as on
# another machine): the chosen model comes out of the database.
STUDY3="$DB&study=t3&lease=30"
TRIALS3=8
args3=()
skip_next=
for a in "${args[@]}"; do
    if [ -n "$skip_next" ]; then skip_next=; continue; fi
    case $a in
        --artifacts) skip_next=1; continue ;;
        "$STUDY") a=$STUDY3 ;;
        $TRIALS) [ "${args3[-1]}" = --max-trials ] && a=$TRIALS3 ;;
    esac
    args3+=("$a")
done
for r in f g; do
    "$CLI" "${args3[@]}" -o "$W/out-$r" > "$W/$r.json" 2> "$W/$r.err" &
    pids+=($!)
done
for i in 0 1; do
    wait "${pids[$i]}"
    code=$?
    [ "$code" -lt 2 ] || { echo "FAIL: sharing worker $i exited $code"; cat "$W/f.err" "$W/g.err"; fail=1; }
done
pids=()
sq3() { q "select count(*) from mcuopt_trials where study = 't3' and $1"; }
[ "$(sq3 true)" = $TRIALS3 ] || { echo "FAIL: study t3 holds $(sq3 true) trials, not $TRIALS3"; fail=1; }
[ "$(sq3 "state in ('queued', 'running', 'failed')")" = 0 ] ||
    { echo "FAIL: study t3 has trials left or failed: $(q "select id, state, error from mcuopt_trials where study = 't3' and state <> 'done'")"; fail=1; }
[ "$(sq3 "attempts > 1")" = 0 ] || { echo "FAIL: study t3: a trial was claimed twice"; fail=1; }
ran3=0
for r in f g; do
    f=$W/$r.json
    [ -s "$f" ] || { echo "FAIL: sharing worker $r wrote no summary"; cat "$W/$r.err"; fail=1; continue; }
    run=$(num "$f" run)
    learned=$(num "$f" learned_from_others)
    echo "sharing worker $r: run $run, learned from the other $learned, run by others $(num "$f" run_by_others)"
    [ "${run:-0}" -ge 1 ] || { echo "FAIL: sharing worker $r ran no trial itself"; fail=1; }
    [ "${learned:-0}" -ge 1 ] || { echo "FAIL: sharing worker $r learned nothing from the other worker"; fail=1; }
    ran3=$((ran3 + ${run:-0}))
done
[ "$ran3" = $TRIALS3 ] || { echo "FAIL: the sharing workers completed $ran3 trials between them, the study holds $TRIALS3"; fail=1; }
kept=$(q "select count(*) from mcuopt_models m join mcuopt_trials t on t.study = m.study and t.id = m.trial_id where m.study = 't3' and t.deploy_path is not null")
with_model=$(sq3 "deploy_path is not null")
[ "$kept" = "$with_model" ] && [ "$kept" -gt 0 ] ||
    { echo "FAIL: study t3 keeps $kept models in the database for $with_model trials with a model"; fail=1; }
rm -rf "$W/out-f/trials" "$W/out-g/trials"
"$CLI" "${args3[@]}" --report -o "$W/out-r" > "$W/r.json" 2> "$W/r.err" ||
    { echo "FAIL: search --report: $(cat "$W/r.err")"; fail=1; }
/usr/bin/python3 - "$W/f.json" "$W/r.json" "$W/out-r" << 'PY' || fail=1
import json, os, sys
worker, report = (json.load(open(p)) for p in sys.argv[1:3])
out = sys.argv[3]
problems = []
if report["run"] != 0:
    problems.append("--report ran %d trials" % report["run"])
if not report["found"] or report["best"]["id"] != worker["best"]["id"]:
    problems.append("--report chose %s, the worker %s" % (report.get("best", {}).get("id"), worker["best"]["id"]))
for name in ("best.mcq", "report.json", "report.html", "code"):
    if not os.path.exists(os.path.join(out, name)):
        problems.append("--report wrote no " + name)
if not report.get("measured", {}).get("bit_exact"):
    problems.append("--report's chosen model is not bit-exact on the emulator")
for p in problems:
    print("FAIL: " + p)
if not problems:
    print("search --report: trial %d chosen again from the database's model, %d trials, bit-exact" %
          (report["best"]["id"], report["trials"]))
sys.exit(1 if problems else 0)
PY

[ $fail = 0 ] && echo "search_postgres: a server restart mid-study lost nothing ($TRIALS trials, none failed)"
[ $fail = 0 ] && echo "search_postgres: two workers sharing study t3 ran $TRIALS3 trials once each, learned from each other, kept the models in the database; --report rebuilt the outputs"
[ $fail = 0 ] && echo "search_postgres: $total trials for --max-trials $TRIALS over 3 workers, one killed; trial $held taken over after its lease, every trial completed once; none failed; $n_models trial models in the shared directory"
exit $fail
