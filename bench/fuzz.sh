#!/usr/bin/env bash
# fuzz.sh - runs the libFuzzer harnesses of tests/fuzz (one per loader) and
# prints, per harness, the executions, time, coverage (libFuzzer's edge
# count "cov" and feature count "ft"), corpus size and findings.
#
# Each harness starts from its committed seed corpus (tests/fuzz/corpus/H,
# only read) plus what earlier runs in OUT found (OUT/corpus/H, where new
# inputs go), and stops after --runs executions or --time seconds, whichever
# comes first, or at its first crash, leak, timeout (an input taking longer
# than --timeout seconds) or out-of-memory (one allocation over 256 MB,
# which no input of a few KB should cause, or over 2 GB in all). Findings
# are written as OUT/findings/H-crash-<sha1> (or leak-, timeout-, oom-);
# reproduce one with `build-fuzz/tests/fuzz/fuzz_H OUT/findings/FILE`.
# Logs: OUT/logs/H.log.
#
# Usage: bench/fuzz.sh [options] [HARNESS...]     (from anywhere; names as
#        model, deploy, onnx, ... or fuzz_model; default: every harness)
#   --runs N      executions per harness (default 10000000)
#   --time S      seconds per harness (default 1800)
#   --jobs J      harnesses run at once (default 1; each takes one core)
#   --timeout S   per-input limit in seconds (default 10)
#   --out DIR     work directory (default fuzz-out)
#   --build DIR   fuzz build directory (default build-fuzz; built by
#                 tests/fuzz/build.sh if missing or out of date)
#   --no-build    use the build directory as it is
# scripts/test.sh runs the CI smoke form: every harness over its corpus and
# then briefly (--time 10 --jobs <cores>). Exit status: 0 if no harness found
# anything, 1 otherwise (and 2 for a usage error).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=10000000
seconds=1800
jobs=1
timeout=10
out=fuzz-out
build=build-fuzz
do_build=1
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --time) seconds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --no-build) do_build=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) names+=("${1#fuzz_}"); shift ;;
  esac
done
for v in "$runs" "$seconds" "$jobs" "$timeout"; do
  [[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: '$v' is not a positive whole number" >&2; exit 2; }
done

[ "$do_build" = 1 ] && bash tests/fuzz/build.sh "$build" >/dev/null
if [ ${#names[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.c; do
    n=$(basename "$f" .c)
    [ "$n" = fuzz_util ] || names+=("${n#fuzz_}")
  done
fi
for n in "${names[@]}"; do
  [ -x "$build/tests/fuzz/fuzz_$n" ] || { echo "fuzz.sh: no harness $build/tests/fuzz/fuzz_$n" >&2; exit 2; }
done
mkdir -p "$out/findings" "$out/logs"

# run_one NAME: fuzzes one harness; its log gets a last line "elapsed S".
run_one() {
  local n=$1 log="$out/logs/$1.log" start
  mkdir -p "$out/corpus/$n"
  start=$(date +%s%N)
  # An absurd allocation (malloc(2^63)) is a crash, not a NULL the loader would report as
  # "out of memory"; libFuzzer's -malloc_limit_mb catches the large ones that succeed.
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 UBSAN_OPTIONS=print_stacktrace=1 \
    "$build/tests/fuzz/fuzz_$n" -runs="$runs" -max_total_time="$seconds" -timeout="$timeout" \
    -rss_limit_mb=2048 -malloc_limit_mb=256 -print_final_stats=1 \
    -artifact_prefix="$out/findings/$n-" "$out/corpus/$n" "tests/fuzz/corpus/$n" >"$log" 2>&1 || true
  echo "elapsed $(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')" >>"$log"
}

# Runs the harnesses, at most $jobs at once.
running=0
for n in "${names[@]}"; do
  rm -f "$out/logs/$n.log"
  run_one "$n" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait

# The report: one row per harness from its log.
status=0
printf '%-16s %12s %9s %10s %7s %7s %8s  %s\n' harness execs seconds execs/s cov ft corpus findings
for n in "${names[@]}"; do
  log="$out/logs/$n.log"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  elapsed=$(sed -n 's/^elapsed //p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | grep ' cov: ' | tail -1 || true)
  cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
  ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
  corpus=$(find "$out/corpus/$n" "tests/fuzz/corpus/$n" -type f | wc -l)
  found=$(sed -n 's/.*Test unit written to //p' "$log" | tr '\n' ' ')
  crashed=$(grep -cE '^==[0-9]+==ERROR|^SUMMARY: |runtime error:|^fuzz: ' "$log" || true)
  if [ -z "$execs" ]; then found="${found:-harness did not finish (see $log)}"; fi
  [ -n "$found" ] || [ "$crashed" != 0 ] && status=1
  rate=$(awk -v e="${execs:-0}" -v s="${elapsed:-1}" 'BEGIN { printf "%d", (s > 0 ? e / s : 0) }')
  printf '%-16s %12s %9.0f %10s %7s %7s %8s  %s\n' "$n" "${execs:-?}" "${elapsed:-0}" "$rate" "${cov:-?}" \
    "${ft:-?}" "$corpus" "${found:-none}"
done
if [ "$status" != 0 ]; then
  for n in "${names[@]}"; do
    if grep -qE 'Test unit written to |^==[0-9]+==ERROR|runtime error:|^fuzz: ' "$out/logs/$n.log"; then
      echo "---- $n: end of $out/logs/$n.log" >&2
      grep -vE '^#[0-9]+ ' "$out/logs/$n.log" | tail -40 >&2
    fi
  done
  echo "fuzz.sh: findings above; logs in $out/logs (reproduce: $build/tests/fuzz/fuzz_HARNESS FILE)" >&2
fi
exit "$status"
