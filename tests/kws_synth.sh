#!/usr/bin/env bash
# kws_synth.sh - keyword spotting from WAV files through the command line:
# scripts/make_kws_set.sh synthesises a small Speech-Commands-layout set
# (the ten keywords, "unknown" and "silence": 12 labels; 6 voices, 2 of
# them held out in testing_list.txt, 2 speeds: 144 clips), then
#   - `mcuopt train --arch ds-cnn-s --data DIR` reads it as 49x10 MFCCs and
#     trains 2 epochs on the 97 training clips (20 of them held out for
#     validation), testing on the 47 clips of the held-out voices;
#   - `mcuopt eval` of the saved model on the folder gives the same 47;
#   - lenet5 (28x28x1) on that folder is one error line with both shapes;
#   - --dataset audio names the format, and a bad clip dropped into the
#     folder (stereo) stops training with one line naming it.
# The features' values are test_mfcc's and mfcc_on_target.sh's job; the
# accuracy ds-cnn reaches on a larger set is in docs/benchmarks.md.
# Usage: kws_synth.sh PATH/TO/mcuopt. Skipped (77) without espeak-ng or sox.
set -euo pipefail
cli=$1
. "$(dirname "$0")/lib/skip.sh"
require_cmd espeak-ng espeak-ng
require_cmd sox sox
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
set_dir=$tmp/kws
bash scripts/make_kws_set.sh "$set_dir" --voices 4 --test-voices 2 --speeds "130 180" --pitches 50 2>"$tmp/make.log" ||
  { cat "$tmp/make.log" >&2; echo "FAIL: make_kws_set.sh" >&2; exit 1; }
clips=$(find "$set_dir" -name '*.wav' -not -path '*/_background_noise_/*' | wc -l)
[ "$clips" = 144 ] || { echo "FAIL: $clips clips synthesised, want 144" >&2; exit 1; }
[ "$(wc -l <"$set_dir/testing_list.txt")" = 47 ] || { echo "FAIL: testing_list.txt" >&2; exit 1; }

"$cli" train --arch ds-cnn-s --data "$set_dir" --epochs 2 --val 20 -o "$tmp/kws.mco" >"$tmp/train.log" 2>&1 ||
  { cat "$tmp/train.log" >&2; echo "FAIL: training ds-cnn-s on the WAV folder" >&2; exit 1; }
cat "$tmp/train.log"
grep -q "training ds-cnn-s on kws: 77 images (20 held out)" "$tmp/train.log" ||
  { echo "FAIL: not the 97 training clips" >&2; exit 1; }
grep -Eq "test accuracy [0-9.]+ % \([0-9]+ of 47\)" "$tmp/train.log" || { echo "FAIL: not the 47 test clips" >&2; exit 1; }
"$cli" info "$tmp/kws.mco" | grep -q "input 49x10x1, 12 classes" || { echo "FAIL: the model's input" >&2; exit 1; }
"$cli" eval "$tmp/kws.mco" --dataset audio --data "$set_dir" >"$tmp/eval.log" 2>&1 ||
  { cat "$tmp/eval.log" >&2; echo "FAIL: eval" >&2; exit 1; }
grep -Eq "accuracy [0-9.]+ % \([0-9]+ of 47\)" "$tmp/eval.log" || { cat "$tmp/eval.log" >&2; echo "FAIL: eval" >&2; exit 1; }

# errors: another input shape, a stereo clip
expect_error() {   # TEXT command...
  local text=$1; shift
  if "$@" >"$tmp/out" 2>"$tmp/err"; then echo "FAIL: $* succeeded" >&2; exit 1; fi
  if [ "$(wc -l <"$tmp/err")" != 1 ] || ! grep -qF "$text" "$tmp/err"; then
    cat "$tmp/err" >&2; echo "FAIL: $* did not give the one line '$text'" >&2; exit 1
  fi
}
expect_error "audio features are 49x10x1 (49 frames x 10 MFCCs) but the model takes 28x28x1" \
  "$cli" train --arch lenet5 --data "$set_dir" --epochs 1 --quiet -o "$tmp/bad.mco"
sox -V1 "$set_dir/yes/$(ls "$set_dir/yes" | head -n 1)" -c 2 "$set_dir/no/stereo.wav"
expect_error "no/stereo.wav: 2 channels; mcuopt reads mono" \
  "$cli" train --arch ds-cnn-s --data "$set_dir" --epochs 1 --val 20 --quiet -o "$tmp/bad.mco"
[ ! -e "$tmp/bad.mco" ] || { echo "FAIL: a model was written after an error" >&2; exit 1; }
echo "kws_synth: all checks passed"
