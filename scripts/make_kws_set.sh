#!/usr/bin/env bash
# make_kws_set.sh - synthesises a small keyword-spotting set in the Speech
# Commands layout, for tests and benches where the real set cannot be
# downloaded: each word spoken by espeak-ng in several voices (English
# accents x voice variants), speeds and pitches, turned by sox into 1 s,
# 16 kHz, mono, 16-bit WAV clips with a random start offset and low white,
# pink or brown noise mixed in. Writes:
#   OUT/<word>/<voice>_s<speed>_p<pitch>.wav   one label per keyword
#   OUT/unknown/...                            other words, one label
#   OUT/silence/...                            noise-only clips
#   OUT/_background_noise_/{white,pink,brown}_noise.wav   10 s each
#   OUT/testing_list.txt                       every clip of the held-out voices
# so the test split is voices never heard in training.
#
# Usage: make_kws_set.sh OUT [--words "yes no ..."] [--unknown "house tree ..."]
#          [--voices N] [--test-voices M] [--speeds "130 170"] [--pitches "35 65"]
#          [--silence N] [--seed S] [--jobs J]
# Defaults: the ten Speech Commands keywords, ten unknown words, 8 training
# and 3 test voices, speeds 120 150 180, pitches 30 50 70: 12 labels,
# 11 x 9 = 99 clips per keyword, 99 unknown, 99 silence: about 1,400 clips.
# Needs espeak-ng and sox (scripts/setup.sh installs them).
# What it leaves out: real speech (espeak-ng's formant voices are far
# cleaner and more alike than people); it is test data, not a benchmark of
# real keyword spotting.
set -euo pipefail

usage() { sed -n '2,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 1 ] || usage
case $1 in -h|--help) usage ;; esac
out=$1; shift
words="yes no up down left right on off stop go"
unknown="house tree bird cat dog happy wow marvin sheila bed"
voices=8 test_voices=3 speeds="120 150 180" pitches="30 50 70" silence="" seed=1 jobs=2
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || { echo "make_kws_set: $1 needs a value" >&2; exit 2; }
  case $1 in
    --words) words=$2 ;; --unknown) unknown=$2 ;; --voices) voices=$2 ;; --test-voices) test_voices=$2 ;;
    --speeds) speeds=$2 ;; --pitches) pitches=$2 ;; --silence) silence=$2 ;; --seed) seed=$2 ;;
    --jobs) jobs=$2 ;;
    *) echo "make_kws_set: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
for tool in espeak-ng sox; do
  command -v "$tool" >/dev/null || { echo "make_kws_set: $tool not found (Debian package $tool)" >&2; exit 1; }
done

# Voices: accents x variants, interleaved so that any prefix mixes both.
accents=(en-us en-gb-x-rp en-gb-scotland en-029 en-us-nyc en)
variants=(m1 f1 m3 f2 m5 f3 m7 f4 m2 f5 m4 m6 croak klatt)
all_voices=()
for ((i = 0; i < ${#accents[@]} * ${#variants[@]}; i++)); do
  all_voices+=("${accents[i % ${#accents[@]}]}+${variants[i % ${#variants[@]}]}")
done
total=$((voices + test_voices))
[ "$total" -le ${#all_voices[@]} ] || { echo "make_kws_set: at most ${#all_voices[@]} voices" >&2; exit 2; }

mkdir -p "$out/_background_noise_"
for color in white pink brown; do
  sox -V1 -n -r 16000 -b 16 -c 1 "$out/_background_noise_/${color}_noise.wav" synth 10 "${color}noise" vol 0.3
done

# One job line per clip: label, voice, speed, pitch, text, start offset (ms), noise colour, noise volume.
RANDOM=$seed
jobs_file=$(mktemp)
trap 'rm -f "$jobs_file"' EXIT
colors=(white pink brown)
: >"$out/testing_list.txt"
for ((v = 0; v < total; v++)); do
  voice=${all_voices[v]}
  for speed in $speeds; do
    for pitch in $pitches; do
      for word in $words; do
        echo "$word|$voice|$speed|$pitch|$word|$((RANDOM % 200))|${colors[RANDOM % 3]}|0.0$((RANDOM % 4 + 1))"
      done
      set -- $unknown
      pick=$(( (v * 7 + speed + pitch) % $# + 1 ))
      echo "unknown|$voice|$speed|$pitch|${!pick}|$((RANDOM % 200))|${colors[RANDOM % 3]}|0.0$((RANDOM % 4 + 1))"
    done
  done
  if [ "$v" -ge "$voices" ]; then   # a held-out voice: all its clips are test clips
    safe=${voice//+/_}
    for speed in $speeds; do for pitch in $pitches; do
      for word in $words unknown; do echo "$word/${safe}_s${speed}_p${pitch}.wav"; done
    done; done >>"$out/testing_list.txt"
  fi
done >"$jobs_file"

make_clip() {
  IFS='|' read -r label voice speed pitch text start color volume <<<"$1"
  local dir="$out/$label" safe=${voice//+/_} tmp
  mkdir -p "$dir"
  tmp=$(mktemp --suffix=.wav)
  espeak-ng -v "$voice" -s "$speed" -p "$pitch" -w "$tmp" "$text"
  # 16 kHz mono 16-bit, shifted by `start` ms, noise mixed in, cut to 1 s
  # (the 10 s of noise make the mix long enough)
  sox -V1 -m -v 1 "|sox -V1 $tmp -r 16000 -c 1 -p pad 0.$(printf %03d "$start")" \
      -v "$volume" "$out/_background_noise_/${color}_noise.wav" \
      -r 16000 -b 16 -c 1 "$dir/${safe}_s${speed}_p${pitch}.wav" trim 0 1
  rm -f "$tmp"
}
export -f make_clip
export out
tr '\n' '\0' <"$jobs_file" | xargs -0 -P "$jobs" -I{} bash -c 'make_clip "$1"' _ {}

# Silence: noise only, at a few levels (as many clips as a keyword has unless --silence says).
n_silence=${silence:-$((total * $(wc -w <<<"$speeds") * $(wc -w <<<"$pitches")))}
mkdir -p "$out/silence"
for ((i = 0; i < n_silence; i++)); do
  color=${colors[RANDOM % 3]}
  sox -V1 -v "0.0$((RANDOM % 9 + 1))" "$out/_background_noise_/${color}_noise.wav" "$out/silence/noise_$i.wav" \
      trim "$((RANDOM % 9))" 1
  [ $((i % 4)) -eq 3 ] && echo "silence/noise_$i.wav" >>"$out/testing_list.txt"
done
echo "make_kws_set: $(find "$out" -name '*.wav' -not -path '*/_background_noise_/*' | wc -l) clips in $out" \
     "($(wc -l <"$out/testing_list.txt") in testing_list.txt)" >&2
