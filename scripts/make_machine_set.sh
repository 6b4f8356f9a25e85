#!/usr/bin/env bash
# make_machine_set.sh - synthesises a small anomaly-detection set of machine
# sounds with sox, in the DCASE 2020 task 2 layout that MLPerf Tiny's
# anomaly detection (ToyADMOS / MIMII clips) and `mcuopt --data DIR` read,
# for tests and benches where the real sets cannot be downloaded:
#   OUT/train/normal_id_XX_NNNNNNNN.wav    normal clips only (training)
#   OUT/test/normal_id_XX_NNNNNNNN.wav     normal clips
#   OUT/test/anomaly_id_XX_NNNNNNNN.wav    anomalous clips
# 16 kHz, mono, 16-bit, SECONDS long (default 10, DCASE's length).
#
# A "machine" of id XX hums at a fundamental f0 (id 00: 110 Hz, 01: 150 Hz,
# 02: 190 Hz, ...) with its 2nd, 3rd and 5th harmonics, each clip with its
# own f0 (+-3 %, drifting by up to 1 % over the clip), harmonic levels
# (+-30 %), a slow amplitude wobble (tremolo 0.1-0.5 Hz, depth 5-30 %) and
# pink noise at a random level (a stretch of one fixed noise bed at a random
# offset). An anomalous clip adds one fault, chosen at random:
#   rattle   white noise above 2 kHz gated at 7-14 Hz (a loose part);
#   harmonic a partial at a non-integer multiple 2.3-3.7 of f0 (a shifted
#            harmonic, as from a bent shaft or a worn gear);
#   whine    a faint tone at 2.5-4 kHz sweeping by 2 % (a bearing).
# The faults are quiet beside the hum (about -20 to -30 dB), so a model has
# to learn the normal spectrum, not a loudness.
#
# Usage: make_machine_set.sh OUT [--train N] [--test-normal N] [--test-anomaly N]
#          [--ids "00 01"] [--seconds S] [--seed S] [--jobs J]
# Defaults: ids 00 and 01, 60 training clips, 20 normal and 20 anomalous test
# clips (spread over the ids), 10 s, seed 1, 2 jobs. Deterministic for a
# seed (bash's RANDOM seeded, sox -R for the noise bed).
# Needs sox (scripts/setup.sh installs it).
# What it leaves out: real machines (these sounds are far more regular than
# a fan or a toy car), per-id models (one folder is one set; DCASE trains
# one model per machine type).
set -euo pipefail

usage() { sed -n '2,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 1 ] || usage
case $1 in -h|--help) usage ;; esac
out=$1; shift
n_train=60 n_test_normal=20 n_test_anomaly=20 ids="00 01" seconds=10 seed=1 jobs=2
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || { echo "make_machine_set: $1 needs a value" >&2; exit 2; }
  case $1 in
    --train) n_train=$2 ;; --test-normal) n_test_normal=$2 ;; --test-anomaly) n_test_anomaly=$2 ;;
    --ids) ids=$2 ;; --seconds) seconds=$2 ;; --seed) seed=$2 ;; --jobs) jobs=$2 ;;
    *) echo "make_machine_set: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
for v in "$n_train" "$n_test_normal" "$n_test_anomaly" "$seconds" "$seed" "$jobs"; do
  [[ $v =~ ^[0-9]+$ ]] || { echo "make_machine_set: '$v' is not a whole number" >&2; exit 2; }
done
[ "$seconds" -ge 1 ] && [ "$seconds" -le 60 ] || { echo "make_machine_set: --seconds is 1..60" >&2; exit 2; }
for id in $ids; do
  [[ $id =~ ^[0-9][0-9]$ ]] || { echo "make_machine_set: id '$id' is not two digits" >&2; exit 2; }
done
command -v sox >/dev/null || { echo "make_machine_set: sox not found (Debian package sox)" >&2; exit 1; }

mkdir -p "$out/train" "$out/test"
bed_seconds=$((seconds * 6))
bed=$out/.noise_bed.wav
sox -V1 -R -n -r 16000 -b 16 -c 1 "$bed" synth "$bed_seconds" pinknoise vol 0.5
trap 'rm -f "$bed"' EXIT

RANDOM=$seed
read -r -a id_list <<<"$ids"
# r LO HI: REPLY = a random decimal LO..HI (3 places) from bash's seeded RANDOM,
# drawn here in the shell itself (bash reseeds RANDOM in a subshell, so a
# $(...) around the draw would not be reproducible).
r() {
  local u=$RANDOM
  REPLY=$(awk -v lo="$1" -v hi="$2" -v u="$u" 'BEGIN { printf "%.3f", lo + (hi - lo) * u / 32767 }')
}

# One line per clip: path|f0|drift|h1|h2|h3|h5|trem_speed|trem_depth|noise|offset|fault|fault args
plan() {
  local split=$1 kind=$2 count=$3 i id base line v
  for ((i = 0; i < count; i++)); do
    id=${id_list[i % ${#id_list[@]}]}
    base=$((110 + 40 * 10#$id))
    r "$(awk -v b="$base" 'BEGIN { print b * 0.97 }')" "$(awk -v b="$base" 'BEGIN { print b * 1.03 }')"
    line=$(printf '%s/%s_id_%s_%08d.wav|%s' "$split" "$kind" "$id" "$i" "$REPLY")
    # drift, the four harmonic levels, tremolo speed and depth, noise level
    for v in "-0.01 0.01" "0.25 0.45" "0.12 0.23" "0.07 0.14" "0.035 0.07" "0.1 0.5" "5 30" "0.05 0.2"; do
      r ${v% *} ${v#* }
      line+="|$REPLY"
    done
    line+="|$((RANDOM % (bed_seconds - seconds)))"
    if [ "$kind" = anomaly ]; then
      case $((RANDOM % 3)) in
        0) r 7 14; line+="|rattle|$REPLY"; r 0.03 0.06 ;;
        1) r 2.3 3.7; line+="|harmonic|$REPLY"; r 0.035 0.07 ;;
        2) r 2500 4000; line+="|whine|$REPLY"; r 0.015 0.03 ;;
      esac
      line+="|$REPLY"
    else
      line+="|none||"
    fi
    echo "$line"
  done
}

make_clip() {
  local path f0 drift h1 h2 h3 h5 ts td noise offset fault a1 a2
  IFS='|' read -r path f0 drift h1 h2 h3 h5 ts td noise offset fault a1 a2 <<<"$1"
  local f1 sweep
  f1=$(awk -v f="$f0" -v d="$drift" 'BEGIN { printf "%.3f", f * (1 + d) }')
  sweep() { awk -v f="$1" -v m="$2" -v f1="$f1" -v f0="$f0" 'BEGIN { printf "%.3f-%.3f", f * m, f1 * m }'; }
  local hum=(synth "$seconds" sine "$(sweep "$f0" 1)" sine "$(sweep "$f0" 2)" sine "$(sweep "$f0" 3)"
             sine "$(sweep "$f0" 5)")
  local mix="1v$h1,2v$h2,3v$h3,4v$h5" channels=4
  case $fault in
    harmonic) hum+=(sine "$(sweep "$f0" "$a1")"); mix+=",5v$a2"; channels=5 ;;
    whine) hum+=(sine "$a1-$(awk -v f="$a1" 'BEGIN { printf "%.1f", f * 1.02 }')"); mix+=",5v$a2"; channels=5 ;;
  esac
  local inputs=(-v 1 "|sox -V1 -R -r 16000 -c $channels -n -p ${hum[*]} remix $mix tremolo $ts $td"
                -v "$noise" "|sox -V1 $out/.noise_bed.wav -p trim $offset $seconds")
  [ "$fault" = rattle ] &&
    inputs+=(-v "$a2" "|sox -V1 -R -r 16000 -c 1 -n -p synth $seconds whitenoise highpass 2000 tremolo $a1 100")
  sox -V1 -R -m "${inputs[@]}" -b 16 "$out/$path" trim 0 "$seconds"
}
export -f make_clip
export out seconds

{
  plan train normal "$n_train"
  plan test normal "$n_test_normal"
  plan test anomaly "$n_test_anomaly"
} >"$out/.plan"
xargs -d '\n' -P "$jobs" -I{} bash -c 'make_clip "$1"' _ {} <"$out/.plan"
rm -f "$out/.plan"
made=$(find "$out/train" "$out/test" -name '*.wav' | wc -l)
want=$((n_train + n_test_normal + n_test_anomaly))
[ "$made" -eq "$want" ] || { echo "make_machine_set: $made of $want clips made" >&2; exit 1; }
echo "make_machine_set: $made clips in $out ($n_train training, $n_test_normal normal and $n_test_anomaly anomalous for the test)" >&2
