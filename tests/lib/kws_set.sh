# kws_set.sh - sourced by the KWS tests (kws_pcm_on_target.sh,
# run_task_kws.sh) after tests/lib/skip.sh: their common set-up.
#   require_kws_tools     espeak-ng, sox, the Arm toolchain and QEMU, or the
#                         test is skipped (exit 77)
#   make_small_kws_set DIR
#                         a small spoken-keyword set in DIR
#                         (scripts/make_kws_set.sh: 4 voices, 2 of them for
#                         the test split, 2 speeds, 1 pitch); its log in
#                         DIR.log, printed with one FAIL line if it fails
require_kws_tools() {
  require_cmd espeak-ng espeak-ng
  require_cmd sox sox
  require_arm_tools
}

make_small_kws_set() {
  bash scripts/make_kws_set.sh "$1" --voices 4 --test-voices 2 --speeds "130 180" --pitches 50 2>"$1.log" ||
    { cat "$1.log" >&2; echo "FAIL: make_kws_set.sh" >&2; exit 1; }
}
