# on_target.sh - sourced by shell tests (after skip.sh) that run a model on
# an emulated Cortex-M: measure_bit_exact runs `mcuopt measure --json` and
# fails (status 1, one FAIL line and the JSON) unless every output of every
# image is bit-identical to the host runtime's and the plan runs the expected
# number of ops of one kernel kind.
#
# Leaves out: skipping (the caller calls require_arm_tools first), cycle
# counts (the caller reads them from the JSON file if it wants them).

# measure_bit_exact CLI MODEL TARGET DATA IMAGES KIND COUNT JSON [MIN]:
# measures MODEL (.mco or .mcq) on TARGET over IMAGES images of DATA (any
# --data set; its test split may hold fewer) into JSON; then requires
# "mismatches": 0, at least MIN images (default: all IMAGES) and COUNT ops of
# KIND, and prints one line saying so.
measure_bit_exact() {
  local cli=$1 model=$2 target=$3 data=$4 images=$5 kind=$6 count=$7 json=$8 min=${9:-$5} n ran
  "$cli" measure "$model" --target "$target" --images "$images" --data "$data" --json >"$json"
  if ! grep -q '"mismatches":	0' "$json"; then
    cat "$json"
    echo "FAIL: $model: outputs differ on $target" >&2
    return 1
  fi
  ran=$(sed -n 's/^\t"images":\t\([0-9]*\),$/\1/p' "$json")
  if [ -z "$ran" ] || [ "$ran" -lt "$min" ] || [ "$ran" -gt "$images" ]; then
    cat "$json"
    echo "FAIL: $model: ${ran:-no} images on $target, expected $min to $images" >&2
    return 1
  fi
  n=$(grep -c "\"kernel\":	\"$kind\"" "$json" || true)
  if [ "$n" != "$count" ]; then
    cat "$json"
    echo "FAIL: $model: $n $kind ops, expected $count" >&2
    return 1
  fi
  echo "$(basename "$model"): $ran of $ran outputs bit-identical on $target, $count $kind op(s)"
}
