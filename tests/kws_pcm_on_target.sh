#!/usr/bin/env bash
# kws_pcm_on_target.sh - the audio front-end in the model and on the chip
# (issue 15, item 2): on a small synthesised keyword set
# (scripts/make_kws_set.sh: 12 labels, 144 clips, 47 test clips of 2 voices
# not used in training)
#   1. `mcuopt train --arch ds-cnn` records the front-end in the model:
#      `mcuopt info` shows it (text and JSON), and the int8 deploy model
#      keeps it;
#   2. `mcuopt emit` gives the package NAME_run_pcm: kws.h declares it with
#      KWS_PCM_SAMPLES / KWS_PCM_RATE, kws.c holds the front-end's tables
#      and calls mco_mfcc_s16, mcuopt_runtime/ holds mco_mfcc.c, the README
#      says how to call it; a uint8 input type is one error line;
#   3. `mcuopt measure --target stm32f405 --data SET` runs the emitted code
#      on the emulated STM32F405 (Cortex-M4F, QEMU netduinoplus2) from the
#      16-bit PCM of 16 real WAV test clips: model_run_pcm computes the MFCCs
#      on the chip with runtime/mco_mfcc.c and runs the model, and every
#      output must equal the host's (the features from the same runtime code
#      on the host, then the host runtime); also with a float input type
#      (the features go through NAME_run's own conversion), for the float32
#      model (the features normalised into a float input), and for a second
#      model trained on log-mel features (--audio-features logmel,mels=10:
#      49 x 10 again, no DCT), whose front-end the measurement must take
#      from the model, not from the defaults.
# The instruction counts printed here are in docs/benchmarks.md.
# Usage: kws_pcm_on_target.sh PATH/TO/mcuopt. Skipped (77) without
# espeak-ng, sox, arm-none-eabi-gcc or qemu-system-arm.
set -euo pipefail
cli=$1
cd "$(dirname "$0")/.."
. tests/lib/skip.sh
. tests/lib/kws_set.sh
require_kws_tools
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
set_dir=$tmp/kws
make_small_kws_set "$set_dir"

# ---- 1. the front-end in the model ------------------------------------------
"$cli" train --arch ds-cnn --data "$set_dir" --epochs 2 --val 20 --quiet -o "$tmp/kws.mco" >"$tmp/train.log" 2>&1 ||
  { cat "$tmp/train.log" >&2; fail "training ds-cnn on the WAV folder"; }
"$cli" info "$tmp/kws.mco" >"$tmp/info.txt"
grep -qF "audio front-end: MFCC 49x10 from 16000 samples at 16000 Hz (frames of 480 every 320, FFT 512, 40 mel bands 20-4000 Hz, 10 coefficients)" \
  "$tmp/info.txt" || { cat "$tmp/info.txt" >&2; fail "info does not show the front-end"; }
"$cli" info --json "$tmp/kws.mco" >"$tmp/info.json"
grep -q '"features":[[:space:]]*"mfcc"' "$tmp/info.json" || fail "info --json: no audio_frontend"
"$cli" quantize "$tmp/kws.mco" --data "$set_dir" -o "$tmp/kws.mcq" >"$tmp/quantize.log" 2>&1 ||
  { cat "$tmp/quantize.log" >&2; fail "quantize"; }
echo "kws_pcm_on_target: the model records its front-end (info shows it)"

# ---- 2. the package's NAME_run_pcm ----------------------------------------------
"$cli" emit "$tmp/kws.mcq" --name kws -o "$tmp/pkg" >"$tmp/emit.log" 2>&1 || { cat "$tmp/emit.log" >&2; fail "emit"; }
grep -q "^#define KWS_PCM_SAMPLES 16000$" "$tmp/pkg/kws.h" || fail "kws.h: no KWS_PCM_SAMPLES"
grep -q "^#define KWS_PCM_RATE 16000$" "$tmp/pkg/kws.h" || fail "kws.h: no KWS_PCM_RATE"
grep -q "^int kws_run_pcm(const int16_t \*pcm, kws_output_t \*out);$" "$tmp/pkg/kws.h" || fail "kws.h: no kws_run_pcm"
grep -q "mco_mfcc_s16(&frontend_params, &frontend_tables, pcm" "$tmp/pkg/kws.c" || fail "kws.c: no front-end call"
[ -f "$tmp/pkg/mcuopt_runtime/mco_mfcc.c" ] || fail "the package has no mco_mfcc.c"
grep -q "^## From PCM: the audio front-end on the chip" "$tmp/pkg/README.md" || fail "README: no PCM section"
gcc -std=c99 -pedantic -Wall -Wextra -Werror -O2 -ffp-contract=off -I"$tmp/pkg" -I"$tmp/pkg/mcuopt_runtime" \
  -c "$tmp/pkg/kws.c" -o "$tmp/kws.o" || fail "kws.c does not compile as C99 -pedantic -Werror"
if "$cli" emit "$tmp/kws.mcq" --input-type uint8 -o "$tmp/bad" >"$tmp/out" 2>"$tmp/err"; then fail "a uint8 input was taken"; fi
[ "$(wc -l <"$tmp/err")" = 1 ] && grep -qF "takes float features, not a uint8 input" "$tmp/err" ||
  { cat "$tmp/err" >&2; fail "no one-line error for a uint8 input"; }
[ ! -e "$tmp/bad" ] || fail "a package was written after an error"
echo "kws_pcm_on_target: the package has kws_run_pcm and the front-end's tables"

# ---- 3. from PCM on the emulated STM32F405 --------------------------------------
measure_pcm() {   # NAME MODEL [measure options...]
  local name=$1 model=$2; shift 2
  "$cli" measure "$model" --target stm32f405 --data "$set_dir" --images 20 "$@" >"$tmp/measure_$name.log" 2>&1 ||
    { cat "$tmp/measure_$name.log" >&2; fail "$name: measure"; }
  grep -q "^outputs: *20 of 20 bit-identical" "$tmp/measure_$name.log" || { cat "$tmp/measure_$name.log" >&2; fail "$name: features"; }
  grep -q "^from PCM on stm32f405: 16 of 16 clips' outputs bit-identical to the host" "$tmp/measure_$name.log" ||
    { cat "$tmp/measure_$name.log" >&2; fail "$name: not 16 of 16 bit-identical from PCM"; }
  local model_insns pcm_insns
  model_insns=$(awk '/^instructions:/ { print $2; exit }' "$tmp/measure_$name.log")
  pcm_insns=$(awk '/instructions per clip/ { print $1; exit }' "$tmp/measure_$name.log")
  [ "$pcm_insns" -gt "$model_insns" ] || fail "$name: the PCM run ($pcm_insns) does not count more than the model ($model_insns)"
  echo "$name: 16 of 16 clips bit-exact from PCM on stm32f405; model $model_insns instructions, front-end + model $pcm_insns"
}
measure_pcm "ds-cnn int8, MFCC" "$tmp/kws.mcq"
measure_pcm "ds-cnn int8, MFCC, float input" "$tmp/kws.mcq" --input-type float
measure_pcm "ds-cnn float32, MFCC" "$tmp/kws.mco"   # a float model file is measured as float32
"$cli" measure "$tmp/kws.mcq" --target stm32f405 --data "$set_dir" --images 4 --json >"$tmp/measure.json" 2>"$tmp/err" ||
  { cat "$tmp/err" >&2; fail "measure --json"; }
grep -q '"from_pcm"' "$tmp/measure.json" || fail "measure --json: no from_pcm"

"$cli" train --arch ds-cnn --data "$set_dir" --audio-features logmel,mels=10 --epochs 1 --val 20 --quiet \
  -o "$tmp/logmel.mco" >"$tmp/train2.log" 2>&1 || { cat "$tmp/train2.log" >&2; fail "training on log-mel features"; }
"$cli" info "$tmp/logmel.mco" >"$tmp/info2.txt"
grep -qF "audio front-end: log-mel 49x10 from 16000 samples" "$tmp/info2.txt" || fail "info: not log-mel"
"$cli" quantize "$tmp/logmel.mco" --data "$set_dir" -o "$tmp/logmel.mcq" >"$tmp/quantize2.log" 2>&1 ||
  { cat "$tmp/quantize2.log" >&2; fail "quantize the log-mel model"; }
measure_pcm "ds-cnn int8, log-mel" "$tmp/logmel.mcq"
echo "kws_pcm_on_target: all checks passed"
