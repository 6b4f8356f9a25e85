#!/usr/bin/env bash
# cli_errors.sh - bad input through the command line gets exactly one clear
# error line and a non-zero exit: never a crash, a hang, a second line or a
# file left behind. The cases are a table, one line each:
#
#   bad 'TEXT' COMMAND ARGS...
#
# runs `mcuopt COMMAND ARGS...` in an empty directory ($out, also where every
# case writes its outputs) and checks that it exits with a code from 1 to 127
# (not 0, not a signal) within $timeout seconds, that stderr is exactly one
# line, starting with "mcuopt: " and containing TEXT (a fixed string), and
# that $out is still empty afterwards (no output file, temporary file or
# output directory left behind). Fixtures built once at the top: a tiny MNIST
# (300 + 100 images), a model trained on it (.mco) and its int8 deploy model
# (.mcq), corrupt and truncated copies of both, a model with a NaN parameter
# (with a valid CRC), broken data sets and MCU profiles.
#
# Usage: cli_errors.sh PATH/TO/mcuopt   (run from the repository root).
# Skipped (exit 77) without MNIST.
#
# Special files as inputs and outputs: FIFOs, a symbolic link and a
# directory where a file is expected (and a file where a directory is) are
# refused without waiting, and are still there, unchanged, after the table.
# Left to tests/output_safety.sh (it needs root for some): device nodes, an
# unwritable directory, a full disk (64 KB tmpfs), stale temporaries after a
# kill -9, a 300 MB profile. Left to tests/search_*.sh: searches that run
# trials.
set -u
. "$(dirname "$0")/lib/skip.sh"
require_mnist   # the fixtures train on a subset of it
cli=$(realpath "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out
mkdir "$out"
timeout=${MCO_CLI_ERRORS_TIMEOUT:-120}
cases=0
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# bad TEXT ARGS...: one bad input (see the top of this file).
bad() {
  local text=$1 code lines first left
  shift
  cases=$((cases + 1))
  (cd "$out" && exec timeout -k 5 "$timeout" "$cli" "$@") >"$tmp/stdout" 2>"$tmp/stderr" </dev/null
  code=$?
  lines=$(wc -l <"$tmp/stderr")
  first=$(head -n 1 "$tmp/stderr")
  left=$(cd "$out" && find . -mindepth 1 -maxdepth 2 | head -n 5 | tr '\n' ' ')
  if [ "$code" -eq 124 ] || [ "$code" -eq 137 ]; then
    fail "mcuopt $* -> did not end within $timeout s"
  elif [ "$code" -eq 0 ]; then
    fail "mcuopt $* -> exit 0"
  elif [ "$code" -ge 128 ]; then
    fail "mcuopt $* -> killed by signal $((code - 128))"
  elif [ "$lines" -ne 1 ] || [ "${first#mcuopt: }" = "$first" ]; then
    fail "mcuopt $* -> exit $code, $lines stderr lines (want one starting 'mcuopt: '):"
    sed 's/^/    /' "$tmp/stderr" >&2
  elif ! grep -qF -- "$text" "$tmp/stderr"; then
    fail "mcuopt $* -> '$first' lacks '$text'"
  fi
  [ -z "$left" ] || fail "mcuopt $* -> left behind: $left"
  rm -rf "$out"
  mkdir "$out"
}

# ---- fixtures ----------------------------------------------------------------
. "$(dirname "$0")/lib/mini_mnist.sh"
d=$tmp/fx
mkdir -p "$d"
mini=$d/mini
make_mini_mnist "$mini"
"$cli" train --arch mnist-paper --data "$mini" --epochs 1 --val 50 --quiet -o "$d/good.mco" >/dev/null ||
  fail "training on the mini set"
"$cli" quantize "$d/good.mco" --mode int8 --data "$mini" --no-eval -o "$d/good.mcq" >/dev/null || fail "quantize"
for kind in mco mcq; do
  head -c 100 "$d/good.$kind" >"$d/truncated.$kind"
  head -c 0 /dev/null >"$d/empty.$kind"
  head -c 4096 /dev/urandom >"$d/random.$kind"
  cp "$d/good.$kind" "$d/flipped.$kind"
  printf '\xff' | dd of="$d/flipped.$kind" bs=1 seek=300 conv=notrunc status=none
  mkdir "$d/dir.$kind"
done
cp "$d/good.mcq" "$d/quantized.mco"   # a deploy model under a float model's name (read by its magic)
# A model whose last parameter is NaN, with a valid CRC: the CRC-32 of the
# body is the one gzip writes (zlib's), little-endian, in its trailer.
size=$(stat -c %s "$d/good.mco")
head -c $((size - 8)) "$d/good.mco" >"$d/nan.body"
printf '\x00\x00\xc0\x7f' >>"$d/nan.body"
{ cat "$d/nan.body"; gzip -c "$d/nan.body" | tail -c 8 | head -c 4; } >"$d/nan.mco"
# Data sets: empty, truncated, wrong magic, labels that do not match.
mkdir "$d/empty-data" "$d/trunc-data" "$d/magic-data" "$d/count-data" "$d/cifar"
cp "$mini"/* "$d/trunc-data/"
head -c 5000 "$mini/train-images-idx3-ubyte" >"$d/trunc-data/train-images-idx3-ubyte"
cp "$mini"/* "$d/magic-data/"
printf '\x00\x00\x08\x09' | dd of="$d/magic-data/train-images-idx3-ubyte" bs=1 conv=notrunc status=none
cp "$mini"/* "$d/count-data/"
printf '\x00\x00\x00\x05' | dd of="$d/count-data/train-labels-idx1-ubyte" bs=1 seek=4 conv=notrunc status=none
for i in 1 2 3; do printf '\x03'; head -c 3072 /dev/zero; done >"$d/cifar/test_batch.bin"
# MCU profiles.
profile() { # NAME FLASH_KB RAM_KB [CORE]
  printf '{"name": "%s", "vendor": "test", "core": "%s", "clock_mhz": 48, "flash_kb": %s, "ram_kb": %s,
  "fpu": "none", "dsp": false, "helium": false, "active_ua_per_mhz": 100, "voltage": 3.0,
  "qemu_machine": "mps2-an385", "source": "cli_errors.sh"}\n' "$1" "${4:-cortex-m0plus}" "$2" "$3" >"$d/$1.json"
}
profile tiny-flash 1 8
profile tiny-ram 256 1
profile negative-flash -5 8
profile huge-flash 99999999999 8
profile nan-ram 256 nan
profile bad-core 256 8 cortex-z9
printf '{"name": "broken", "flash_kb": ' >"$d/malformed.json"
printf '' >"$d/empty.json"
printf '[1, 2, 3]\n' >"$d/array.json"
printf '{"name": "partial", "core": "cortex-m4"}\n' >"$d/partial.json"
# Architecture files.
printf 'input 28 28 1\nconv3d filters=4 kernel=3\n' >"$d/bad_layer.arch"
printf 'input 28 28 1\nconv2d filters=4 kernel=3\ndense units=10\n' >"$d/bad_shape.arch"
printf 'input 28 28 1\nconv2d filters=-4 kernel=3\nflatten\ndense units=10\n' >"$d/negative.arch"
printf 'input 28 28 1\nconv2d filters=99999999999 kernel=3\nflatten\ndense units=10\n' >"$d/huge.arch"
printf 'input 28 28 1\nconv2d filters=4 kernel=99\nflatten\ndense units=10\n' >"$d/kernel.arch"
printf '' >"$d/empty.arch"
head -c 3000 /dev/zero | tr '\0' 'x' >"$d/long_line.arch"
mkdir "$d/dir.arch"
# Inputs for predict: one 28x28x1 float input is 3136 bytes.
head -c 3136 /dev/zero >"$d/one.f32"
head -c 3000 /dev/zero >"$d/short.f32"
# Files that are not what they claim.
head -c 2048 /dev/urandom >"$d/random.onnx"
# Special files: FIFOs (nothing ever writes them: a reader that opens one
# blocks), a symbolic link, directories, a file where a directory goes.
mkdir "$d/dir.json" "$d/out-dir.mco" "$d/fifo-data"
mkfifo "$d/fifo.mco" "$d/fifo.mcq" "$d/fifo.f32" "$d/fifo.arch" "$d/fifo.json" "$d/fifo-out.mcq"
cp "$mini"/* "$d/fifo-data/"
rm "$d/fifo-data/train-images-idx3-ubyte"
mkfifo "$d/fifo-data/train-images-idx3-ubyte"
cp "$d/good.mco" "$d/plain.file"
ln -s plain.file "$d/link.mco"
printf 'not a database, just text\n' >"$d/text.db"
printf 'prune:sparsity=0.5 ->\n' >"$d/dangling.pipeline"
# TFLite files: the committed fuzz seeds (written by tests/fuzz/make_seeds.sh
# with tests/tflite/make_models.py: a float CNN, its int8 form, a model with
# an operator mcuopt has no layer for, two input rescalings it cannot fold,
# a NaN weight, an int8 bias that overflows a float in real units, one whose
# int32 accumulator can overflow), truncated, with another identifier,
# with a root offset past the end, and an mcuopt model under a .tflite name.
tfl=tests/fuzz/corpus/tflite
cp "$tfl/cnn_float32.tflite" "$tfl/cnn_int8.tflite" "$tfl/bad_mul.tflite" "$tfl/bad_rescale_branch.tflite" \
   "$tfl/bad_rescale_zero.tflite" "$tfl/bad_nan_weight.tflite" "$tfl/bad_inf_bias.tflite" \
   "$tfl/bad_acc_overflow.tflite" "$d/"
head -c 600 "$d/cnn_float32.tflite" >"$d/truncated.tflite"
cp "$d/cnn_float32.tflite" "$d/ident.tflite"
printf 'TFL2' | dd of="$d/ident.tflite" bs=1 seek=4 conv=notrunc status=none
cp "$d/cnn_float32.tflite" "$d/offset.tflite"
printf '\377\377\000\000' | dd of="$d/offset.tflite" bs=1 seek=0 conv=notrunc status=none
printf '' >"$d/empty.tflite"
cp "$d/good.mco" "$d/model.tflite"
mkdir "$d/dir.tflite"
mkfifo "$d/fifo.tflite"
# Image folders, .npy arrays and CSV files (issue 15's readers). A PNG
# signature followed by garbage is a corrupt image.
corrupt_png() { printf '\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR garbage' >"$1"; }
mkdir -p "$d/img-one/only" "$d/img-empty/a" "$d/img-empty/b" "$d/img-corrupt/a" "$d/img-corrupt/b" "$d/img-ok/a" "$d/img-ok/b"
corrupt_png "$d/img-one/only/1.png"
corrupt_png "$d/img-empty/b/1.png"
for i in 0 1 2 3 4 5 6 7 8 9; do corrupt_png "$d/img-corrupt/a/$i.png"; corrupt_png "$d/img-corrupt/b/$i.png"; done
# A valid 1x1 grey PNG (the bytes any PNG writer makes for one black pixel).
for i in 0 1 2 3 4 5 6 7 8 9; do
  for c in a b; do
    printf '\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00\x00\x3a\x7e\x9b\x55\x00\x00\x00\x0aIDATx\x9cc`\x00\x00\x00\x02\x00\x01H\xaf\xa4q\x00\x00\x00\x00IEND\xaeB`\x82' >"$d/img-ok/$c/$i.png"
  done
done
# One bad file among good ones: a garbage PNG (named in the error), and a
# PNG whose header is whole but whose pixel data is cut short.
mkdir -p "$d/img-bad/a" "$d/img-bad/b" "$d/img-cut/a" "$d/img-cut/b"
cp "$d"/img-ok/a/*.png "$d/img-bad/a/"; cp "$d"/img-ok/b/*.png "$d/img-bad/b/"
cp "$d"/img-ok/a/*.png "$d/img-cut/a/"; cp "$d"/img-ok/b/*.png "$d/img-cut/b/"
corrupt_png "$d/img-bad/b/5.png"
head -c 45 "$d/img-ok/a/0.png" >"$d/img-cut/a/3.png"
printf 'flatten\ndense units=classes\n' >"$d/no_input.arch"
printf 'input 28 28 1\nflatten\ndense units=classes\n' >"$d/dense28.arch"
# npy FILE DESCR SHAPE DATA_BYTES [FORTRAN]: a .npy file as numpy.save writes it, data zero.
npy() {
  local header="{'descr': '$2', 'fortran_order': ${5:-False}, 'shape': $3, }" len
  while [ $(((10 + ${#header} + 1) % 64)) -ne 0 ]; do header="$header "; done
  len=$((${#header} + 1))
  { printf '\x93NUMPY\x01\x00'; printf "\\x$(printf %02x $((len % 256)))\\x$(printf %02x $((len / 256)))"
    printf '%s\n' "$header"; head -c "$4" /dev/zero; } >"$1"
}
mkdir "$d/npy-f8" "$d/npy-fortran" "$d/npy-trunc" "$d/npy-count" "$d/npy-shape" "$d/npy-yfloat"
npy "$d/npy-f8/x.npy" '<f8' '(10, 4)' 320
npy "$d/npy-fortran/x.npy" '<f4' '(10, 4)' 160 True
npy "$d/npy-trunc/x.npy" '<f4' '(10, 4)' 100
npy "$d/npy-count/x.npy" '<f4' '(10, 4)' 160
npy "$d/npy-count/y.npy" '|u1' '(9,)' 9
npy "$d/npy-shape/x.npy" '|u1' '(10, 8, 8)' 640
npy "$d/npy-shape/y.npy" '|u1' '(10,)' 0
printf '\x00\x01\x00\x01\x00\x01\x00\x01\x00\x01' >>"$d/npy-shape/y.npy"
npy "$d/npy-yfloat/x.npy" '<f4' '(10, 4)' 160
npy "$d/npy-yfloat/y.npy" '<f4' '(10,)' 40
mkdir "$d/npy-yshape"
npy "$d/npy-yshape/x.npy" '<f4' '(10, 4)' 160
npy "$d/npy-yshape/y.npy" '|u1' '(10, 2)' 20
printf 'a,b,label\n1,2,0\n3,1\n' >"$d/missing-column.csv"
printf 'a,b,label\n1,2,0\n3,1,1,7\n' >"$d/extra-field.csv"
printf 'a,b,label\n1,2,0\n3,x,1\n' >"$d/not-number.csv"
printf 'a,b,class\n1,2,0\n3,4,1\n' >"$d/no-label.csv"
printf 'a,b,label\n1,2,0\n3,4,0\n' >"$d/one-class.csv"
printf 'a,b,label\n' >"$d/header-only.csv"
printf 'a,b,label\n1,"2,0\n' >"$d/open-quote.csv"
printf 'x y\n' >"$d/table.txt"
# Reconstruction models (issue 15: loss mse, the anomaly detection autoencoder):
# architecture texts that misuse `loss`, a Dense autoencoder written without
# it (784 "classes"), and a small autoencoder trained on .npy data whose test
# labels are 0/1, plus a copy of that data whose test labels are 2.
printf 'input 1 1 8\nclasses 8\nloss mse\ndense units=8\n' >"$d/mse_classes.arch"
printf 'input 1 1 8\nloss mae\ndense units=8\n' >"$d/mse_name.arch"
printf 'input 1 1 8\nloss mse\ndense units=4\n' >"$d/mse_size.arch"
printf 'input 28 28 1\nflatten\ndense units=32\nrelu\ndense units=784\n' >"$d/dense_ae784.arch"
printf 'input 1 1 8\nloss mse\ndense units=4\nrelu\ndense units=8\n' >"$d/ae8.arch"
mkdir "$d/ae-good" "$d/ae-bad-labels" "$d/ae-all-anomalous"
for set in ae-good ae-bad-labels ae-all-anomalous; do
  npy "$d/$set/x_train.npy" '<f4' '(40, 8)' 1280
  npy "$d/$set/y_train.npy" '|u1' '(40,)' 0
  head -c 40 /dev/zero | tr '\0' "$([ $set = ae-all-anomalous ] && echo '\1' || echo '\0')" >>"$d/$set/y_train.npy"
  npy "$d/$set/x_test.npy" '<f4' '(10, 8)' 320
  npy "$d/$set/y_test.npy" '|u1' '(10,)' 0
done
printf '\x00\x01\x00\x01\x00\x01\x00\x01\x00\x01' >>"$d/ae-good/y_test.npy"
printf '\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02' >>"$d/ae-bad-labels/y_test.npy"
cp "$d/ae-good/y_test.npy" "$d/ae-all-anomalous/y_test.npy"
"$cli" train --arch "$d/ae8.arch" --data "$d/ae-good" --epochs 1 --val 0 --quiet -o "$d/ae8.mco" >/dev/null ||
  fail "training the autoencoder fixture"
# Audio folders (issue 15's WAV reader): one label sub-directory of WAV
# files each; one bad file among good ones per folder, each named in the
# error: stereo, 8-bit, truncated (the data chunk declares more than the
# file holds), corrupt (RIFF with garbage), no samples.
# wav FILE CHANNELS BITS SAMPLES [DECLARED_DATA_BYTES]: a PCM WAV at 16 kHz, silent.
le() { local v=$1 n=$2 i; for ((i = 0; i < n; i++)); do printf "\\x$(printf %02x $(((v >> (8 * i)) & 255)))"; done; }
wav() {
  local ch=$2 bits=$3 n=$4 align=$(($2 * $3 / 8)) bytes declared
  bytes=$((n * align)); declared=${5:-$bytes}
  { printf 'RIFF'; le $((36 + declared)) 4; printf 'WAVEfmt '; le 16 4; le 1 2; le "$ch" 2; le 16000 4
    le $((16000 * align)) 4; le "$align" 2; le "$bits" 2; printf 'data'; le "$declared" 4
    head -c "$bytes" /dev/zero; } >"$1"
}
for set in aud-ok aud-stereo aud-u8 aud-trunc aud-corrupt aud-empty; do
  mkdir -p "$d/$set/yes" "$d/$set/no"
  for i in 0 1 2 3 4; do wav "$d/$set/yes/$i.wav" 1 16 1600; wav "$d/$set/no/$i.wav" 1 16 1600; done
done
wav "$d/aud-stereo/no/3.wav" 2 16 1600
wav "$d/aud-u8/no/3.wav" 1 8 1600
wav "$d/aud-trunc/no/3.wav" 1 16 1600 32000
{ printf 'RIFF'; le 1000 4; printf 'WAVEfmt '; head -c 200 /dev/urandom; } >"$d/aud-corrupt/no/3.wav"
wav "$d/aud-empty/no/3.wav" 1 16 0
mkdir -p "$d/aud-one/yes"; cp "$d"/aud-ok/yes/*.wav "$d/aud-one/yes/"
mkdir -p "$d/aud-noise"; cp -r "$d/aud-ok/yes" "$d/aud-ok/no" "$d/aud-noise/"
mkdir "$d/aud-noise/_background_noise_"; wav "$d/aud-noise/_background_noise_/hum.wav" 2 16 1600
m=$d/good.mco q=$d/good.mcq
data=(--data "$mini")
train=(train --data "$mini" --val 50 --epochs 1 --quiet)

# ---- the cases -----------------------------------------------------------------
# The command line itself.
bad "unknown command 'frobnicate'"        frobnicate
bad "unrecognized option '--bogus'"       train --bogus
bad "option '--data' requires an argument" train --data
bad "invalid option -- 'x'"               eval -x "$m"
bad "unrecognized option '--nope'"        targets --nope
bad "unexpected argument 'extra'"         "${train[@]}" extra
bad "expected one MODEL file"             eval
bad "expected one MODEL file"             eval "$m" "$m"
bad "expected one"                        quantize
bad "expected one"                        info "$m" "$m"

# Numbers out of range: epochs, batch, lr, threads, seeds, ...
bad "--epochs expects an integer"         "${train[@]}" --epochs many
bad "--epochs expects an integer"         "${train[@]}" --epochs 0
bad "--epochs expects an integer"         "${train[@]}" --epochs -3
bad "--epochs expects an integer"         "${train[@]}" --epochs 99999999999
bad "--epochs expects an integer"         "${train[@]}" --epochs nan
bad "--epochs expects an integer"         "${train[@]}" --epochs 1.5
bad "--batch expects an integer"          "${train[@]}" --batch 0
bad "--batch expects an integer"          "${train[@]}" --batch -32
bad "--threads expects an integer"        "${train[@]}" --threads -1
bad "--seed expects an integer"           "${train[@]}" --seed -1
bad "--val expects an integer"            "${train[@]}" --val -5
bad "--val 1000 leaves no training images" "${train[@]}" --val 1000
bad "--lr expects a number"               "${train[@]}" --lr nan
bad "--lr expects a number"               "${train[@]}" --lr fast
bad "--lr expects a positive number"      "${train[@]}" --lr -1
bad "--lr expects a positive number"      "${train[@]}" --lr 0
bad "--lr expects a number"               "${train[@]}" --lr inf
bad "training diverged at step"           "${train[@]}" --lr 1e30 --arch mlp
bad "training diverged at step"           "${train[@]}" --lr 1e30 --optimizer sgd
bad "--momentum expects a number"         "${train[@]}" --momentum nan
bad "--weight-decay expects a number from 0 to 1" "${train[@]}" --weight-decay -1
bad "--momentum expects a number from 0 to 1" "${train[@]}" --momentum 7
bad "--optimizer must be adam or sgd"     "${train[@]}" --optimizer rmsprop
bad "--schedule must be cosine"           "${train[@]}" --schedule linear

# Architectures.
bad "unknown architecture 'nosuch'"       "${train[@]}" --arch nosuch
bad "no-such.arch"                        "${train[@]}" --arch "$d/no-such.arch"
bad "empty.arch"                          "${train[@]}" --arch "$d/empty.arch"
bad "dir.arch"                            "${train[@]}" --arch "$d/dir.arch"
bad "unknown architecture 'nosuch'"       info --arch nosuch
bad "bad_layer.arch:2: unknown layer type 'conv3d'" info --arch "$d/bad_layer.arch"
bad "add a flatten layer"                 info --arch "$d/bad_shape.arch"
bad "negative.arch:2"                     info --arch "$d/negative.arch"
bad "huge.arch:2"                         info --arch "$d/huge.arch"
bad "kernel.arch"                         info --arch "$d/kernel.arch"
bad "long_line.arch:1: line too long"     info --arch "$d/long_line.arch"
bad "empty.arch"                          info --arch "$d/empty.arch"

# Data sets.
bad "not found"                           "${train[@]}" --data "$d/no-such-dir"
bad "empty-data: no data set found"       "${train[@]}" --data "$d/empty-data"
bad "empty-data: no train-images-idx3-ubyte" "${train[@]}" --dataset mnist --data "$d/empty-data"
bad "train-images-idx3-ubyte"             "${train[@]}" --data "$d/trunc-data"
bad "train-images-idx3-ubyte"             "${train[@]}" --data "$d/magic-data"
bad "labels"                              "${train[@]}" --data "$d/count-data"
bad "unknown data set 'imagenet'"         "${train[@]}" --dataset imagenet
bad "not found"                           eval "$m" --dataset cifar10 --data "$d/no-such-dir"
bad "32x32x3 but the model takes 28x28x1" eval "$m" --dataset cifar10 --data "$d/cifar"
bad "32x32x3"                             eval "$q" --dataset cifar10 --data "$d/cifar"
# Image folders, .npy, CSV; --dataset as a format.
bad "unknown data set 'pictures'"         "${train[@]}" --dataset pictures --data "$d/img-ok"
bad "--dataset images reads the data at --data PATH" train --dataset images --val 50 --epochs 1 --quiet
bad "table.txt: a file that is not .csv"  eval "$m" --data "$d/table.txt"
bad "img-one: only one class sub-directory ('only')" eval "$m" --data "$d/img-one"
bad "only one class sub-directory"        eval "$m" --dataset images --data "$d/img-one"
bad "img-empty/a: no PNG, JPEG or BMP images" eval "$m" --data "$d/img-empty"
bad "img-empty/a: no PNG, JPEG or BMP images" "${train[@]}" --dataset images --data "$d/img-empty"
bad "no-such-dir: No such file or directory" eval "$m" --dataset images --data "$d/no-such-dir"
bad "no-such-dir: no x.npy"               eval "$m" --dataset npy --data "$d/no-such-dir"
bad "no-such.csv: cannot open: No such file or directory" eval "$m" --dataset csv --data "$d/no-such.csv"
bad "no-such.csv: not found"              eval "$m" --data "$d/no-such.csv"
bad "img-bad/b/5.png: corrupt image (PNG chunk 'IHDR'" "${train[@]}" --data "$d/img-bad" --val 1
bad "img-cut/a/3.png: corrupt image"      "${train[@]}" --data "$d/img-cut" --val 1
bad "img-corrupt/"                        "${train[@]}" --data "$d/img-corrupt" --val 1
bad "image"                               eval "$m" --data "$d/img-corrupt"
bad "no input shape is known"             train --arch "$d/no_input.arch" --data "$d/img-ok" --val 1 --epochs 1 --quiet
bad "mlp has 10 classes but the data has 2" train --arch mlp --data "$d/img-ok" --val 1 --epochs 1 --quiet
bad "x.npy: samples must be uint8, int8 or float32, not float64" eval "$m" --data "$d/npy-f8"
bad "x.npy: Fortran order"                eval "$m" --data "$d/npy-fortran"
bad "x.npy: truncated"                    eval "$m" --dataset npy --data "$d/npy-trunc"
bad "x.npy has 10 samples but"            eval "$m" --data "$d/npy-count"
bad "8x8x1 but the model takes 28x28x1"   eval "$m" --data "$d/npy-shape"
bad "8x8x1"                               eval "$q" --data "$d/npy-shape"
bad "dense28.arch takes 28x28x1 inputs but the data is 8x8x1" train --arch "$d/dense28.arch" --data "$d/npy-shape" --val 1 --epochs 1 --quiet
bad "y.npy: labels must be integers"      eval "$m" --data "$d/npy-yfloat"
bad "y.npy: labels must have shape (N,) or (N, 1)" eval "$m" --data "$d/npy-yshape"
bad "no x.npy"                            eval "$m" --dataset npy --data "$d/img-ok"
bad "missing-column.csv:3: only 2 fields: column 'label' (2) is missing" eval "$m" --data "$d/missing-column.csv"
bad "extra-field.csv:3: more fields than the 3 columns of the first row" eval "$m" --data "$d/extra-field.csv"
bad "not-number.csv:3: column 'b' (1): 'x' is not a finite number" eval "$m" --data "$d/not-number.csv"
bad "no-label.csv:1: no column named 'label'" eval "$m" --data "$d/no-label.csv"
bad "no-label.csv:1: no column named 'kind'" eval "$m" --data "$d/no-label.csv" --label-column kind
bad "label column 5 is not among the 3 columns" eval "$m" --data "$d/no-label.csv" --label-column 5
bad "one-class.csv: every label is 0"     "${train[@]}" --arch mlp --data "$d/one-class.csv"
bad "header-only.csv: a header row and no data rows" quantize "$m" --data "$d/header-only.csv" -o x.mcq
bad "open-quote.csv"                      eval "$m" --data "$d/open-quote.csv"
bad "1x1x2 but the model takes 28x28x1"   eval "$m" --data "$d/no-label.csv" --label-column class
# Audio folders (WAV reader, audio front-end).
bad "aud-stereo/no/3.wav: 2 channels; mcuopt reads mono" "${train[@]}" --arch ds-cnn-s --data "$d/aud-stereo" --val 1
bad "aud-u8/no/3.wav: 8-bit samples"      "${train[@]}" --arch ds-cnn-s --data "$d/aud-u8" --val 1
bad "aud-trunc/no/3.wav: truncated (its data chunk declares 16000 samples, the file holds 1600)" "${train[@]}" --arch ds-cnn-s --data "$d/aud-trunc" --val 1
bad "aud-corrupt/no/3.wav: not a WAV file libsndfile can read" "${train[@]}" --arch ds-cnn-s --data "$d/aud-corrupt" --val 1
bad "aud-empty/no/3.wav: no samples"      "${train[@]}" --arch ds-cnn-s --data "$d/aud-empty" --val 1
bad "aud-one: only one class sub-directory ('yes')" "${train[@]}" --arch ds-cnn-s --data "$d/aud-one" --val 1
bad "aud-ok: audio features are 49x10x1 (49 frames x 10 MFCCs) but the model takes 28x28x1" eval "$m" --data "$d/aud-ok"
bad "aud-ok: audio features are 49x10x1 (49 frames x 10 MFCCs) but the model takes 28x28x1" "${train[@]}" --arch lenet5 --data "$d/aud-ok" --val 1
bad "unknown data set 'wav'"              "${train[@]}" --dataset wav --data "$d/aud-ok"
bad "aud-ok: audio features are 49x40x1 (49 frames x 40 log-mel bands) but the model takes 49x10x1" "${train[@]}" --arch ds-cnn-s --data "$d/aud-ok" --val 1 --audio-features logmel
bad "--audio-features starts with mfcc or logmel, got 'wav'" eval "$m" --data "$d/aud-ok" --audio-features wav
bad "--audio-features: unknown key 'size'" quantize "$m" --data "$d/aud-ok" --audio-features mfcc,size=3 -o x.mcq
bad "--audio-features mfcc,fft=300: audio front-end parameters out of range" "${train[@]}" --arch ds-cnn-s --data "$d/aud-ok" --audio-features mfcc,fft=300
bad "--augment expects an integer from 0 to 100, got '101'" "${train[@]}" --arch ds-cnn-s --data "$d/aud-ok" --augment 101
bad "aud-noise/_background_noise_/hum.wav: 2 channels" "${train[@]}" --arch ds-cnn-s --data "$d/aud-noise" --augment 1 --val 1
bad "--split must be test or train"       eval "$m" "${data[@]}" --split val
bad "--threads expects an integer"        eval "$m" "${data[@]}" --threads -2

# Model files: missing, empty, a directory, truncated, corrupt, random, the other kind, NaN.
for cmd in "info" "eval --data $mini"; do
  bad "no-such.mco"                       $cmd "$d/no-such.mco"
  bad "empty.mco"                         $cmd "$d/empty.mco"
  bad "dir.mco"                           $cmd "$d/dir.mco"
  bad "truncated.mco"                     $cmd "$d/truncated.mco"
  bad "flipped.mco"                       $cmd "$d/flipped.mco"
  bad "random.mco"                        $cmd "$d/random.mco"
  bad "is nan"                            $cmd "$d/nan.mco"
done
bad "a quantized deploy model (.mcq)"     quantize "$q" "${data[@]}" -o q2.mcq
bad "a quantized deploy model (.mcq)"     quantize "$d/quantized.mco" "${data[@]}" -o q2.mcq
bad "a quantized deploy model (.mcq)"     prune "$q" "${data[@]}" -o p.mco
bad "a quantized deploy model (.mcq)"     "${train[@]}" --init "$q" -o t.mco
bad "no-such.mco"                         "${train[@]}" --init "$d/no-such.mco" -o t.mco
bad "is nan"                              quantize "$d/nan.mco" "${data[@]}" -o nan.mcq
bad "is nan"                              emit "$d/nan.mco" -o code
bad "is nan"                              export "$d/nan.mco" -o nan.onnx
for cmd in "emit -o code" "estimate --target stm32f405" "eval --data $mini"; do
  bad "truncated.mcq"                     $cmd "$d/truncated.mcq"
  bad "flipped.mcq"                       $cmd "$d/flipped.mcq"
  bad "random.mcq"                        $cmd "$d/random.mcq"
  bad "empty.mcq"                         $cmd "$d/empty.mcq"
done
bad "dir.mcq"                             emit "$d/dir.mcq" -o code
bad "no-such.mcq"                         predict "$d/no-such.mcq" --input "$d/one.f32" -o y.f32

# Quantization options.
bad "--mode"                              quantize "$m" "${data[@]}" --mode int3 -o x.mcq
bad "--calibration"                       quantize "$m" "${data[@]}" --calibration median -o x.mcq
bad "--percentile"                        quantize "$m" "${data[@]}" --calibration percentile --percentile 200 -o x.mcq
bad "--percentile"                        quantize "$m" "${data[@]}" --percentile nan -o x.mcq
bad "--calibration-samples"               quantize "$m" "${data[@]}" --calibration-samples 0 -o x.mcq
bad "--layer-bits"                        quantize "$m" "${data[@]}" --layer-bits 8,x -o x.mcq
bad "--layer-bits"                        quantize "$m" "${data[@]}" --layer-bits 8,8,8,8,8,8 -o x.mcq
bad "no-such-dir"                         quantize "$m" "${data[@]}" -o "$d/no-such-dir/x.mcq"

# Pruning, distillation, QAT, compression pipelines.
bad "--sparsity"                          prune "$m" "${data[@]}" --sparsity 1.5 -o p.mco
bad "--sparsity"                          prune "$m" "${data[@]}" --sparsity -0.1 -o p.mco
bad "--sparsity"                          prune "$m" "${data[@]}" --sparsity nan -o p.mco
bad "--frequency"                         prune "$m" "${data[@]}" --frequency 0 -o p.mco
bad "--ratio"                             shrink "$m" "${data[@]}" --ratio 1.5 -o s.mco
bad "criterion 'l7'"                      shrink "$m" "${data[@]}" --criterion l7 -o s.mco
bad "--ratios"                            sensitivity "$m" "${data[@]}" --ratios 0.5,x
bad "--ratios"                            sensitivity "$m" "${data[@]}" --ratios 1.5
bad "no-such-teacher.mco"                 distill --teacher "$d/no-such-teacher.mco" --arch mlp "${data[@]}" --val 50 -o s.mco
bad "give the student as --arch or --width" distill --teacher "$m" "${data[@]}" --val 50 -o s.mco
bad "--alpha"                             distill --teacher "$m" "${data[@]}" --val 50 --alpha 2 -o s.mco
bad "--temperature"                       distill --teacher "$m" "${data[@]}" --val 50 --temperature 0 -o s.mco
bad "--width"                             distill --teacher "$m" "${data[@]}" --val 50 --width -1 -o s.mco
bad "--ema-decay"                         qat "$m" "${data[@]}" --ema-decay 2 -o x.mcq
bad "--freeze"                            qat "$m" "${data[@]}" --freeze 2 -o x.mcq
bad "unknown stage"                       compress "$m" "${data[@]}" --val 50 --stages "bogus:x=1" -o c
bad "--stages"                            compress "$m" "${data[@]}" --val 50 --stages "" -o c
bad "dangling.pipeline"                   compress "$m" "${data[@]}" --val 50 --config "$d/dangling.pipeline" -o c
bad "no-such.pipeline"                    compress "$m" "${data[@]}" --val 50 --config "$d/no-such.pipeline" -o c
bad "sparsity"                            compress "$m" "${data[@]}" --val 50 --stages "prune:sparsity=7" -o c

# Targets and profiles.
bad "unknown target"                      measure "$q" --target no-such-mcu "${data[@]}"
bad "unknown target"                      estimate "$q" --target no-such-mcu
bad "malformed.json"                      estimate "$q" --target "$d/malformed.json"
bad "empty.json"                          estimate "$q" --target "$d/empty.json"
bad "array.json"                          estimate "$q" --target "$d/array.json"
bad "partial.json"                        estimate "$q" --target "$d/partial.json"
bad "flash_kb"                            estimate "$q" --target "$d/negative-flash.json"
bad "flash_kb"                            estimate "$q" --target "$d/huge-flash.json"
bad "nan-ram.json"                        estimate "$q" --target "$d/nan-ram.json"
bad "cortex-z9"                           estimate "$q" --target "$d/bad-core.json"
bad "--clock-mhz expects a number above 0" estimate "$q" --target stm32f405 --clock-mhz -5
bad "--clock-mhz"                         estimate "$q" --target stm32f405 --clock-mhz nan
bad "unknown deploy format"               estimate --arch mnist-paper --format int3 --target stm32f405
bad "unknown architecture 'nosuch'"       estimate --arch nosuch --format int8 --target stm32f405
bad "no-such-table.json"                  estimate "$q" --target stm32f405 --table "$d/no-such-table.json"
bad "--images"                            measure "$q" --target stm32f405 --images 0 "${data[@]}"
bad "--images"                            measure "$q" --target stm32f405 --images -4 "${data[@]}"
bad "does not fit cortex-m0plus-32k"      measure "$m" --target cortex-m0plus-32k --images 3 "${data[@]}"
bad "does not fit tiny-ram"               measure "$q" --target "$d/tiny-ram.json" --images 3 "${data[@]}"

# ---- RAM regions (issue 17, item 5): malformed "ram_regions", and an arena that
# fits the total RAM but no single region (eight regions of 1 KB) ----
regions() { # NAME RAM_KB REGIONS-JSON
  printf '{"name": "%s", "vendor": "test", "core": "cortex-m0plus", "clock_mhz": 48, "flash_kb": 256, "ram_kb": %s,
  "ram_regions": %s, "fpu": "none", "dsp": false, "helium": false, "active_ua_per_mhz": 100, "voltage": 3.0,
  "qemu_machine": "mps2-an385"}\n' "$1" "$2" "$3" >"$d/$1.json"
}
region() { printf '{"name": "%s", "kb": %s, "dma": true, "tcm": false, "section": "%s"}' "$1" "$2" "$3"; }
regions regions-sum 128 "[$(region A 64 '')]"
regions regions-nodefault 64 "[$(region A 64 .a)]"
regions regions-section 64 "[$(region A 32 ''), $(region B 32 'x;y')]"
regions regions-bss 64 "[$(region A 32 ''), $(region B 32 .bss)]"
regions regions-name 64 "[$(region A 32 ''), $(region 'B B' 32 .b)]"
regions regions-type 64 '[{"name": "A", "kb": "64", "dma": true, "tcm": false, "section": ""}]'
regions split-ram 8 "[$(region R0 1 '')$(for i in 1 2 3 4 5 6 7; do printf ', '; region R$i 1 .r$i; done)]"
bad 'regions-sum.json: the ram_regions add up to 64 KB but "ram_kb" is 128' estimate "$q" --target "$d/regions-sum.json"
bad 'regions-nodefault.json: field "ram_regions" needs exactly one region with "section": ""' estimate "$q" --target "$d/regions-nodefault.json"
bad 'regions-section.json: ram_regions[1]: section "x;y" must be' estimate "$q" --target "$d/regions-section.json"
bad 'regions-bss.json: ram_regions[1]: section ".bss" is one the default layout uses' estimate "$q" --target "$d/regions-bss.json"
bad 'regions-name.json: ram_regions[1]: name "B B" may hold only letters, digits and _' estimate "$q" --target "$d/regions-name.json"
bad 'regions-type.json: ram_regions[0]: field "kb" must be a number' estimate "$q" --target "$d/regions-type.json"
bad 'fit no single RAM region of split-ram: R0 1 KB, R1 1 KB, R2 1 KB, R3 1 KB, R4 1 KB, R5 1 KB, R6 1 KB, R7 1 KB (8 KB in all)' \
  measure "$q" --target "$d/split-ram.json" --images 3 "${data[@]}"
# ---- end of RAM regions ----
bad "--cpu"                               emit "$q" --cpu cortex-a53 -o code
bad "--optimize expects cycles or size"   emit "$q" --optimize speed -o code
bad "'Kws' is not a lower-case C identifier" emit "$q" --name Kws -o code
bad "'2kws' is not a lower-case C identifier" emit "$q" --name 2kws -o code
bad "'kws-v2' is not a lower-case C identifier" emit "$q" --name kws-v2 -o code
bad "model name is empty"                 emit "$q" --name "" -o code
bad "'mco_kws' is reserved for the runtime" emit "$q" --name mco_kws -o code
bad "longer than 32 characters"           emit "$q" --name abcdefghijklmnopqrstuvwxyzabcdefghij -o code
bad "--measure-dir code/fw is inside --code-dir code/" measure "$q" --target stm32f405 --code-dir code/ --measure-dir code/fw "${data[@]}"
bad "unknown compiler 'icc' (gcc or clang)" measure "$q" --target stm32f405 --cc icc "${data[@]}"
bad "unknown optimisation level '-O9'"    measure "$q" --target stm32f405 -O9 "${data[@]}"
bad "--optimize expects cycles or size"   measure "$q" --target stm32f405 --optimize fast "${data[@]}"
bad "unknown target"                      run "${data[@]}" --val 50 --epochs 1 --quiet --target no-such-mcu -o run
bad "--images"                            run "${data[@]}" --val 50 --epochs 1 --quiet --images 0 -o run

# Search: accuracy floors, budgets, trial counts, stores, a target nothing fits.
s=(search "$m" --target stm32f405 --min-accuracy 50 "${data[@]}" --val-images 100 --budget 60s --quiet)
bad "did you mean 97.5?"                  "${s[@]}" --min-accuracy 0.975
bad "did you mean 50?"                    "${s[@]}" --min-accuracy 0.5
bad "--min-accuracy expects a percentage" "${s[@]}" --min-accuracy 0
bad "--min-accuracy expects a percentage" "${s[@]}" --min-accuracy 101
bad "--min-accuracy expects a number"     "${s[@]}" --min-accuracy nan
bad "--min-accuracy expects a percentage" "${s[@]}" --min-accuracy -97
bad "--min-accuracy (or, for an autoencoder, --min-auc) is required" search "$m" --target stm32f405
bad "--target is required"                search "$m" --min-accuracy 97
bad "--budget expects a time"             "${s[@]}" --budget 0
bad "--budget expects a time"             "${s[@]}" --budget -5s
bad "--budget expects a time"             "${s[@]}" --budget 10x
bad "--budget expects a time"             "${s[@]}" --budget nan
bad "--budget expects a time"             "${s[@]}" --budget inf
bad "--max-trials expects an integer"     "${s[@]}" --max-trials 0
bad "--workers expects an integer"        "${s[@]}" --workers 0
bad "--workers expects an integer"        "${s[@]}" --workers 1000
# issue 17 items 3-4 (search samplers and objectives)
bad "--sampler must be tpe, nsga2 or random" "${s[@]}" --sampler grid
bad "--sampler must be tpe, nsga2 or random" "${s[@]}" --sampler NSGA2
bad "--objective must be cost or pareto"  "${s[@]}" --objective front
bad "--objective must be cost or pareto"  "${s[@]}" --sampler nsga2 --objective ''
bad "--eta expects an integer"            "${s[@]}" --eta 1
bad "--formats: unknown 'int16'"          "${s[@]}" --formats int8,int16
bad "--formats: an empty name"            "${s[@]}" --formats int8,
bad "--formats: an empty name"            "${s[@]}" --formats ''
bad "--stages: unknown 'finetune'"        "${s[@]}" --stages prune,finetune
bad "--stages: an empty name"             "${s[@]}" --stages ,
bad "float16 weights need an FPU"         search "$m" --target cortex-m0plus-32k --min-accuracy 50 "${data[@]}" \
                                            --val-images 100 --budget 20s --quiet --formats float16
bad "--rung-margin"                       "${s[@]}" --rung-margin -1
bad "--val-images expects an integer"     "${s[@]}" --val-images 5
bad "a quantized deploy model (.mcq)"     search "$q" --target stm32f405 --min-accuracy 50 "${data[@]}"
bad "unknown target"                      search "$m" --target no-such-mcu --min-accuracy 50 "${data[@]}"
bad "not an mcuopt trials database"       "${s[@]}" --db "$d/text.db"
bad "dir.mco"                             "${s[@]}" --db "$d/dir.mco"
bad "unknown storage scheme 'mysql'"      "${s[@]}" --storage "mysql://me@localhost/db?study=a"
bad "no study named"                      "${s[@]}" --storage "postgresql:///db?host=$d"
bad "lease must be 1 to 86400 seconds"    "${s[@]}" --storage "postgresql:///db?host=$d&study=a&lease=0"
bad "cannot connect"                      "${s[@]}" --storage "postgresql://me@/db?host=$d/no-server&study=a"
bad "invalid URI query parameter"         "${s[@]}" --storage "postgresql:///db?host=$d&study=a&colour=red"
bad "no file after sqlite://"             "${s[@]}" --storage "sqlite://"
bad "no-such-dir/x: cannot create directory" "${s[@]}" --artifacts "$d/no-such-dir/x"
bad "give the trial store once"           "${s[@]}" --db "$d/a.db" --storage "sqlite://$d/b.db"
bad "nothing fits tiny-flash"             search "$m" --target "$d/tiny-flash.json" --min-accuracy 50 \
                                            "${data[@]}" --val-images 100 --budget 20s --quiet

# Other commands.
bad "no-such.onnx"                        import "$d/no-such.onnx" -o i.mco
bad "random.onnx"                         import "$d/random.onnx" -o i.mco
bad "--normalize"                         import "$d/random.onnx" --normalize 1,2 -o i.mco
bad "an mcuopt float model (.mco), not an ONNX file" import "$m" -o i.mco
bad "a quantized deploy model (.mcq), not an ONNX file" import "$q" -o i.mco
# TFLite import: broken files, unsupported operators, the wrong output kind.
bad "truncated.tflite: not a valid TFLite file" import "$d/truncated.tflite" -o i.mco
bad 'ident.tflite: not a TFLite file (no "TFL3"' import "$d/ident.tflite" -o i.mco
bad "offset.tflite: not a valid TFLite file" import "$d/offset.tflite" -o i.mco
bad "empty.tflite: not a TFLite file"     import "$d/empty.tflite" -o i.mco
bad "dir.tflite"                          import "$d/dir.tflite" -o i.mco
bad "fifo.tflite: is a FIFO"              import "$d/fifo.tflite" -o i.mco
bad "no-such.tflite"                      import "$d/no-such.tflite" -o i.mco
bad "operator 0 (MUL)"                    import "$d/bad_mul.tflite" -o i.mco
bad "operator 1 (ADD): it reads the model input before the MUL / ADD" import "$d/bad_rescale_branch.tflite" -o i.mco
bad "operator 0 (MUL): the input normalisation it makes (x * 0 + 0) is degenerate" \
    import "$d/bad_rescale_zero.tflite" -o i.mco
bad "bad_nan_weight.tflite: tensor 1 (t1_fc_w): value 6 is not finite" import "$d/bad_nan_weight.tflite" -o i.mco
bad "bad_inf_bias.tflite: layer 0 (dense_0): bias[0] is inf" import "$d/bad_inf_bias.tflite" -o i.mcq
bad "bad_acc_overflow.tflite: layer 0 (dense_0): unit 0: bias 2147483647" import "$d/bad_acc_overflow.tflite" -o i.mcq
bad "give -o NAME.mcq"                    import "$d/cnn_int8.tflite" -o i.mco
bad "no-such-dir"                         import "$d/cnn_float32.tflite" -o "$d/no-such-dir/i.mco"
bad "--normalize"                         import "$d/cnn_float32.tflite" --normalize 1,0,0 -o i.mco
# A .tflite where an mcuopt model is expected, and an mcuopt model named .tflite.
bad "model.tflite: an mcuopt float model (.mco), not a TFLite file" import "$d/model.tflite" -o i.mco
tfl_given="a TFLite model (.tflite; \`mcuopt import\` converts it)"
bad "$tfl_given"                          info "$d/cnn_float32.tflite"
bad "$tfl_given"                          quantize "$d/cnn_float32.tflite" "${data[@]}" -o x.mcq
bad "$tfl_given"                          export "$d/cnn_float32.tflite" -o x.onnx
bad "$tfl_given"                          eval "$d/cnn_int8.tflite" "${data[@]}"
bad "$tfl_given"                          emit "$d/cnn_int8.tflite" -o code
bad "$tfl_given"                          predict "$d/cnn_int8.tflite" --input "$d/one.f32" -o y.f32
bad "$tfl_given"                          prune "$d/cnn_float32.tflite" "${data[@]}" -o p.mco
bad "no-such-dir"                         export "$m" -o "$d/no-such-dir/m.onnx"
bad "short.f32"                           predict "$m" --input "$d/short.f32" -o y.f32
bad "no-such.f32"                         predict "$m" --input "$d/no-such.f32" -o y.f32
bad "--layout"                            predict "$m" --input "$d/one.f32" --layout chwn -o y.f32
bad "no-such.db"                          trials "$d/no-such.db"
bad "not an mcuopt trials database"       trials "$d/text.db"
bad "--state expects"                     trials "$d/text.db" --state finished
bad "not an mcuopt trials database"       trials --storage "sqlite://$d/text.db"
bad "unknown storage scheme 'http'"       trials --storage "http://example.org/s.db"
bad "cannot connect"                      trials --storage "postgresql://me@/db?host=$d/no-server&study=a"
bad "not both"                            trials "$d/text.db" --storage "sqlite://$d/text.db"

# Special files (issue 11 defects 4 and 5): refused at once, left as they were.
bad "dir.json: is a directory"            estimate "$q" --target "$d/dir.json"
bad "fifo.json: is a FIFO"                estimate "$q" --target "$d/fifo.json"
bad "fifo.mco: is a FIFO"                 info "$d/fifo.mco"
bad "fifo.mcq: is a FIFO"                 eval "$d/fifo.mcq" "${data[@]}"
bad "fifo.mcq: is a FIFO"                 emit "$d/fifo.mcq" -o code
bad "fifo.f32: is a FIFO"                 predict "$m" --input "$d/fifo.f32" -o y.f32
bad "fifo.arch: is a FIFO"                info --arch "$d/fifo.arch"
bad "train-images-idx3-ubyte: is a FIFO"  "${train[@]}" --data "$d/fifo-data"
bad "out-dir.mco: exists and is a directory" "${train[@]}" -o "$d/out-dir.mco"
bad "link.mco: exists and is a symbolic link" "${train[@]}" -o "$d/link.mco"
bad "fifo-out.mcq: exists and is a FIFO"  quantize "$m" "${data[@]}" --no-eval -o "$d/fifo-out.mcq"
bad "plain.file: exists and is a regular file, not a directory" emit "$q" -o "$d/plain.file"
bad "fifo-out.mcq: exists and is a FIFO"  export "$m" -o "$d/fifo-out.mcq"

# Reconstruction models (issue 15: loss mse, AUC).
bad "mse_classes.arch:3: loss mse reconstructs the input and takes no classes line" info --arch "$d/mse_classes.arch"
bad "mse_name.arch:2: expected: loss mse | cross_entropy" info --arch "$d/mse_name.arch"
bad "mse_size.arch: loss mse reconstructs the input: the output has 4 values, the input 8" info --arch "$d/mse_size.arch"
bad "model outputs 784 values, more classes than 100 (an autoencoder needs a 'loss mse' line" "${train[@]}" --arch "$d/dense_ae784.arch"
bad "evaluation set: label 2 of sample 0: an autoencoder's labels are 0 (normal) or 1 (anomalous)" eval "$d/ae8.mco" --data "$d/ae-bad-labels"
bad "evaluation set: label 2 of sample 0: an autoencoder's labels are 0 (normal) or 1 (anomalous)" train --arch "$d/ae8.arch" --data "$d/ae-bad-labels" --val 0 --epochs 1 --quiet
bad "training set: all 40 samples are labelled anomalous (1); an autoencoder trains on normal (0) ones" train --arch "$d/ae8.arch" --data "$d/ae-all-anomalous" --val 0 --epochs 1 --quiet
bad "--min-auc expects an AUC in (0, 1], not '1.5'" search "$d/ae8.mco" --target stm32f405 --min-auc 1.5
bad "give --min-accuracy or --min-auc, not both" search "$d/ae8.mco" --target stm32f405 --min-auc 0.8 --min-accuracy 90
bad "ae8.mco is an autoencoder (loss mse): give --min-auc, not --min-accuracy" search "$d/ae8.mco" --target stm32f405 --min-accuracy 90 --data "$d/ae-good"
bad "good.mco is a classifier: give --min-accuracy, not --min-auc" search "$m" --target stm32f405 --min-auc 0.9 "${data[@]}"
bad "ae8.mco is an autoencoder (loss mse): --stages cannot include distill" search "$d/ae8.mco" --target stm32f405 --min-auc 0.9 --stages prune,distill --data "$d/ae-good"
bad "distillation needs a classifier teacher, not a reconstruction model (loss mse)" distill --teacher "$d/ae8.mco" --arch "$d/ae8.arch" --data "$d/ae-good" --val 0 -o s.mco
# ---- issue 14: the emitted code's input and output types (--input-type, --output-type), --example
bad "--input-type must be int8, uint8 or float, not 'int16'" emit "$q" --input-type int16 -o code
bad "--output-type must be int8 or float, not 'uint8'" emit "$q" --output-type uint8 -o code
bad "an int8 input needs a model with int8 activations" emit "$m" --input-type int8 -o code
bad "an int8 output needs a model with int8 activations" emit "$m" --output-type int8 -o code
bad "--input-type must be int8, uint8 or float, not 'u8'" measure "$q" --target stm32f405 --input-type u8 "${data[@]}"
bad "--output-type must be int8 or float, not 'double'" run "${data[@]}" --val 50 --epochs 1 --quiet --output-type double -o run
bad "--example must be semihost or uart, not 'rtt'" emit "$q" --example rtt -o code

# ---- issue 14: mcuopt validate (its inputs files) ----
head -c 100 /dev/zero >"$d/short.u8"
head -c 784 /dev/zero >"$d/one.u8"
head -c 784 /dev/zero >"$d/one.i8"
head -c 3136 /dev/zero >"$d/one.f32"
{ head -c 3132 /dev/zero; printf '\x00\x00\xc0\x7f'; } >"$d/nan.f32"
head -c 5 /dev/zero >"$d/odd.f32"
head -c 784 /dev/zero >"$d/inputs.txt"
npy_header="{'descr': '<i2', 'fortran_order': False, 'shape': (1, 28, 28), }"
while [ $(((10 + ${#npy_header} + 1) % 64)) != 0 ]; do npy_header="$npy_header "; done
{ printf '\x93NUMPY\x01\x00'; printf "\\x$(printf %02x $((${#npy_header} + 1)))\\x00"; printf '%s\n' "$npy_header";
  head -c 1568 /dev/zero; } >"$d/i16.npy"
bad "--target is required"                validate "$q" --inputs "$d/one.u8"
bad "give the inputs with either --inputs FILE or --data PATH" validate "$q" --target stm32f405
bad "give the inputs with either --inputs FILE or --data PATH" validate "$q" --target stm32f405 --inputs "$d/one.u8" "${data[@]}"
bad "--float-model is for a .mcq MODEL"   validate "$m" --target stm32f405 --float-model "$m" --inputs "$d/one.u8"
bad "no-such.u8"                          validate "$q" --target stm32f405 --inputs "$d/no-such.u8"
bad "short.u8: 100 values are not a whole number of the model's 28x28x1 inputs" validate "$q" --target stm32f405 --inputs "$d/short.u8"
bad "inputs.txt: inputs are a .npy array or raw .u8" validate "$q" --target stm32f405 --inputs "$d/inputs.txt"
bad "i16.npy: the inputs must be uint8 or float32 samples or int8 model inputs" validate "$q" --target stm32f405 --inputs "$d/i16.npy"
bad "nan.f32: value 783 (input 0) is not a finite number" validate "$q" --target stm32f405 --inputs "$d/nan.f32"
bad "odd.f32: 5 bytes are not a whole number of float32 values" validate "$q" --target stm32f405 --inputs "$d/odd.f32"
bad "a uint8 input takes raw bytes, but the samples are float32" validate "$q" --target stm32f405 --inputs "$d/one.f32" --input-type uint8
bad "int8 inputs need a model with int8 activations" validate "$m" --target stm32f405 --inputs "$d/one.i8"
bad "--input-type must be int8, uint8 or float, not 'f32'" validate "$q" --target stm32f405 --inputs "$d/one.u8" --input-type f32
bad "--images"                            validate "$q" --target stm32f405 --inputs "$d/one.u8" --images 0
bad "unknown target"                      validate "$q" --target no-such-mcu --inputs "$d/one.u8"

# An unwritable output leaves nothing behind.
bad "no-such-dir"                         train --arch mlp "${data[@]}" --epochs 1 --val 50 --quiet -o "$d/no-such-dir/m.mco"

# ---- the activation layers (sigmoid, tanh, leaky_relu, hard_sigmoid, hard_swish) ----
printf 'input 28 28 1\nflatten\ndense units=10\nsigmoid alpha=0.1\n' >"$d/act_alpha.arch"
printf 'input 28 28 1\nflatten\ndense units=10\nleaky_relu alpha=steep\n' >"$d/act_bad_alpha.arch"
printf 'input 28 28 1\nflatten\ndense units=10\nleaky_relu beta=1\n' >"$d/act_leaky_beta.arch"
printf 'input 28 28 1\nflatten\ndense units=10\nhard_sigmoid alpha=0\n' >"$d/act_hs_zero.arch"
printf 'input 28 28 1\nflatten\ndense units=10\nleaky_relu alpha=nan\n' >"$d/act_nan.arch"
bad "act_alpha.arch:4: option not taken by this layer type 'alpha'" info --arch "$d/act_alpha.arch"
bad "act_bad_alpha.arch:4: bad alpha"    info --arch "$d/act_bad_alpha.arch"
bad "act_leaky_beta.arch:4: option not taken by this layer type 'beta'" info --arch "$d/act_leaky_beta.arch"
bad "hard_sigmoid alpha must be finite and non-zero" info --arch "$d/act_hs_zero.arch"
bad "leaky_relu alpha must be finite"     info --arch "$d/act_nan.arch"

# ---- QDQ ONNX import (wip/qdq16): onnxruntime-style QDQ graphs, each with one
# unsupported pattern (tests/onnx/make_qdq_models.py), and a QDQ graph to a .mco name.
qc=$PWD/tests/fuzz/corpus/onnx
bad "qdq-cnn-s8.onnx is an int8 QDQ graph: it becomes a deploy model, give -o NAME.mcq" \
    import "$qc/qdq-cnn-s8.onnx" -o i.mco
bad "node 15 '/dw/IntegerRelu' (Relu): reads the quantized tensor 'dw_out_quantized'" \
    import "$qc/qdq-bad-qlinear.onnx" -o i.mcq
bad "node 2 'conv.weight_QuantizeLinear' (QuantizeLinear): quantizes a constant" \
    import "$qc/qdq-bad-quantize-const.onnx" -o i.mcq
bad "node 2 'conv.weight_DequantizeLinear' (DequantizeLinear): dequantizes uint8 values" \
    import "$qc/qdq-bad-u8-weights.onnx" -o i.mcq
bad "node 15 '/add/Add' (Add): its output has no QuantizeLinear" import "$qc/qdq-bad-no-output-q.onnx" -o i.mcq
bad "node 4 '/conv/Conv' (Conv): bias scale" import "$qc/qdq-bad-bias-scale.onnx" -o i.mcq
bad "node 7 '/pool/AveragePool' (AveragePool): layer 1 (/pool/AveragePool): input and output quantization differ" \
    import "$qc/qdq-bad-pool-requant.onnx" -o i.mcq
bad "node 13 'dw_out_QuantizeLinear' (QuantizeLinear): 8 scales on an activation" \
    import "$qc/qdq-bad-per-axis-act.onnx" -o i.mcq
# ---- machine sounds (issue 15, wip/tasks15: the DCASE layout, format "machine") --------
# train/ and test/ of 1 s silent clips named normal_* / anomaly_*; one bad clip per folder.
for set in mach-ok mach-stereo mach-u8 mach-trunc mach-name mach-notest; do
  mkdir -p "$d/$set/train" "$d/$set/test"
  for i in 0 1 2; do
    wav "$d/$set/train/normal_id_00_0000000$i.wav" 1 16 1600
    wav "$d/$set/test/normal_id_00_0000000$i.wav" 1 16 1600; wav "$d/$set/test/anomaly_id_00_0000000$i.wav" 1 16 1600
  done
done
wav "$d/mach-stereo/train/normal_id_00_00000001.wav" 2 16 1600
wav "$d/mach-u8/train/normal_id_00_00000001.wav" 1 8 1600
wav "$d/mach-trunc/train/normal_id_00_00000001.wav" 1 16 1600 32000
wav "$d/mach-name/train/fan_00.wav" 1 16 1600
rm -r "$d/mach-notest/test"
ae=(train --arch ad-autoencoder --epochs 1 --val 0 --quiet)
bad "mach-stereo/train/normal_id_00_00000001.wav: 2 channels; mcuopt reads mono" "${ae[@]}" --data "$d/mach-stereo"
bad "mach-u8/train/normal_id_00_00000001.wav: 8-bit samples" "${ae[@]}" --data "$d/mach-u8"
bad "mach-trunc/train/normal_id_00_00000001.wav: truncated" "${ae[@]}" --data "$d/mach-trunc"
bad "mach-name/train/fan_00.wav: a machine-sound clip's name starts with normal_ or anomaly_" "${ae[@]}" --data "$d/mach-name"
bad "mach-notest/test: not found (machine sounds are train/ and test/ folders" "${ae[@]}" --dataset machine --data "$d/mach-notest"
bad "mach-ok: machine sounds need log-mel features cut into windows of 1..49 frames" "${ae[@]}" --data "$d/mach-ok" --audio-features mfcc
bad "--audio-features: window (machine sounds) takes logmel, not mfcc" "${ae[@]}" --data "$d/mach-ok" --audio-features mfcc,window=5
bad "audio front-end: windows of 60 frames, but a clip has 49" "${ae[@]}" --data "$d/mach-ok" --audio-features logmel,window=60
bad "aud-ok: windows of frames (window=5) are for machine sounds, not audio folders" "${train[@]}" --arch ds-cnn --data "$d/aud-ok" --audio-features logmel,window=5
bad "mach-ok: machine-sound windows are 1x1x640 (5 frames x 128 log-mel bands) but the model takes 28x28x1" eval "$m" --data "$d/mach-ok"
bad "mach-ok: machine-sound windows are 1x1x200 (5 frames x 40 log-mel bands) but the model takes 1x1x640" "${ae[@]}" --data "$d/mach-ok" --audio-features logmel,window=5
bad "unknown data set 'dcase'"           "${ae[@]}" --dataset dcase --data "$d/mach-ok"
# Issue 16's ONNX layers (wip/layers16): count_pad on average pools, concat.
printf 'input 8 8 1\navgpool2d pool=3 padding=same count_pad=2\n' >"$d/count_pad_two.arch"
printf 'input 8 8 1\nmaxpool2d pool=3 padding=same count_pad=1\n' >"$d/count_pad_max.arch"
printf 'input 8 8 1\na = conv2d filters=2 kernel=3\nconcat input=a\n' >"$d/concat_one.arch"
printf 'input 8 8 1\na = conv2d filters=2 kernel=3\nconcat inputs=a,input\n' >"$d/concat_sizes.arch"
bad "count_pad must be 0 or 1, not '2'"   info --arch "$d/count_pad_two.arch"
bad "option not taken by this layer type 'count_pad'" info --arch "$d/count_pad_max.arch"
bad "concat needs inputs=A,B"             info --arch "$d/concat_one.arch"
bad "concat inputs differ in height or width: 6x6x2 and 8x8x1" info --arch "$d/concat_sizes.arch"
# ---- option tables (issue 17 item 6, wip/cli17): getopt's refusals, in its words, with the hint ----
bad "unrecognized option '--bogus' (see 'mcuopt train --help')" train --bogus
bad "option '--a' is ambiguous; possibilities: '--arch' '--audio-features' '--augment'" train --a
bad "option '--json' doesn't allow an argument" train --json=yes
bad "option requires an argument -- 'o' (see 'mcuopt emit --help')" emit "$m" -o
bad "invalid option -- 'z' (see 'mcuopt search --help')" search -z "$m"
bad "unrecognized option '--arch'"        compress "$m" --arch mlp --stages quant:int8 -o x
bad "option '--output' requires an argument" search "$m" --target stm32f405 --min-accuracy 90 --output
# ---- issue 15 (kws15): a model with an audio front-end (trained on the silent aud-ok
# clips: 49x10 MFCCs into 2 classes) refuses an emitted uint8 input, which NAME_run_pcm
# cannot make from float features.
printf 'input 49 10 1\nflatten\ndense units=2\n' >"$d/kws_tiny.arch"
"$cli" train --arch "$d/kws_tiny.arch" --data "$d/aud-ok" --val 1 --epochs 1 --quiet -o "$d/kws_fe.mco" >/dev/null &&
  "$cli" quantize "$d/kws_fe.mco" --data "$d/aud-ok" --no-eval -o "$d/kws_fe.mcq" >/dev/null || fail "the front-end fixture"
bad "emit: a model with an audio front-end takes float features, not a uint8 input" emit "$d/kws_fe.mcq" --input-type uint8 -o "$out/pkg"
bad "emit: a model with an audio front-end takes float features, not a uint8 input" measure "$d/kws_fe.mcq" --target stm32f405 --data "$d/aud-ok" --input-type uint8
# mcuopt run --task: an unknown task, no --data, data of another kind, the anomaly
# detection task on a WAV folder (no machine-sound reader yet), shapes that differ.
bad "unknown task 'speech'"                run --task speech
bad "--task kws (keyword spotting) trains on --data DIR" run --task kws
bad "--task kws (keyword spotting) reads a WAV folder in the Speech Commands layout" run --task kws --data "$d/img-ok"
bad "img-ok holds images data"             run --task kws --data "$d/img-ok"
bad "--task vww (visual wake words) reads an image folder" run --task vww --data "$d/aud-ok"
bad "mobilenet-v1-0.25 takes 96x96x3 inputs but the data is 1x1x8" run --task vww --data "$d/ae-good" --quiet
bad "--task ic (image classification) reads CIFAR-10 binary batches" run --task ic --data "$d/aud-ok"
bad "--task ad (anomaly detection) reads machine sounds in the DCASE layout" run --task ad --data "$d/aud-ok"
bad "ad-autoencoder takes 1x1x640 inputs but the data is 1x1x8" run --task ad --data "$d/ae-good" --quiet
bad "audio features are 49x40x1 (49 frames x 40 log-mel bands) but the model takes 49x10x1" run --task kws --data "$d/aud-ok" --audio-features logmel --quiet
bad "--min-auc expects a number from 0 to 1" run --task ad --data "$d/ae-good" --min-auc 2
bad "--min-accuracy expects a number from 0 to 100" run --task kws --data "$d/aud-ok" --min-accuracy 101
# ---- end of issue 15 (kws15) ----
# ---- issue 16 item 2 (wip/convt16): conv_transpose2d in architectures, import --loss ----
printf 'input 8 8 1\nconv2d filters=2 kernel=3 output_padding=1\n' >"$d/ct_opad_conv.arch"
printf 'input 4 4 2\nconv_transpose2d filters=2 kernel=3 stride=2 output_padding=2\n' >"$d/ct_opad_big.arch"
printf 'input 4 4 2\nconv_transpose2d filters=2 kernel=3 stride=2 padding=same\n' >"$d/ct_same.arch"
printf 'input 4 4 2\nconv_transpose2d kernel=3 stride=2\n' >"$d/ct_nofilters.arch"
printf 'input 4 4 2\nconv_transpose2d filters=2 kernel=3 stride=2 output_padding=1x-1\n' >"$d/ct_opad_neg.arch"
"$cli" export "$m" -o "$d/ct_good.onnx" >/dev/null || fail "export for the --loss cases"
bad "option not taken by this layer type 'output_padding'" info --arch "$d/ct_opad_conv.arch"
bad "output padding 2x2 must be 0..stride-1 for stride 2x2" info --arch "$d/ct_opad_big.arch"
bad "conv_transpose2d takes valid or explicit padding, not same" info --arch "$d/ct_same.arch"
bad "missing filters=/units= for 'conv_transpose2d'" info --arch "$d/ct_nofilters.arch"
bad "bad output_padding '1x-1'"           info --arch "$d/ct_opad_neg.arch"
bad "--loss expects mse or cross_entropy, got 'l1'" import "$d/ct_good.onnx" --loss l1 -o i.mco
bad "loss mse reconstructs the input: the output has 10 values, the input 784" import "$d/ct_good.onnx" --loss mse -o i.mco
bad "--loss applies to ONNX float models" import "$d/cnn_float32.tflite" --loss mse -o i.mco
# ---- end of issue 16 item 2 (wip/convt16) ----

# ---- issue 14 item 5 (pkg14): the example's built-in inputs ----
bad "--example-inputs expects an integer from 1 to 16" emit "$q" --example-inputs 0 -o code
bad "--example-inputs expects an integer from 1 to 16" emit "$q" --example-inputs 17 -o code
# ---- end of issue 14 item 5 (pkg14) ----

# ---- issue 15 (ad15): --val-data, a validation set of its own (train, run, search) ----
# ae-normal: a test split of normal samples only (no anomalies for an AUC; its training labels, all 1,
# give the .npy reader its two classes)
mkdir "$d/ae-normal"
cp "$d/ae-good/x_train.npy" "$d/ae-all-anomalous/y_train.npy" "$d/ae-good/x_test.npy" "$d/ae-normal/"
npy "$d/ae-normal/y_test.npy" '|u1' '(10,)' 0
head -c 10 /dev/zero >>"$d/ae-normal/y_test.npy"
bad "give --val-data or --val-images, not both" search "$d/ae8.mco" --target stm32f405 --min-auc 0.85 --data "$d/ae-good" --val-data "$d/ae-normal" --val-images 100
bad "is the --data set, whose test split gives the test figures" search "$d/ae8.mco" --target stm32f405 --min-auc 0.85 --data "$d/ae-good" --val-data "$d/ae-good/"
bad "hold no anomalous samples, and the AUC floor needs normal (label 0) and anomalous (1) ones: give a labelled validation set with --val-data DIR" search "$d/ae8.mco" --target stm32f405 --min-auc 0.85 --data "$d/ae-good" --val-data "$d/ae-normal" --quiet
bad "give --val-data or --val, not both" train --arch "$d/ae8.arch" --data "$d/ae-good" --val-data "$d/ae-normal" --val 10 --epochs 1 --quiet -o v.mco
bad "is the --data set, whose test split gives the test figures" run --task ad --arch "$d/ae8.arch" --data "$d/ae-good" --val-data "$d/ae-good" --epochs 1 --quiet -o vrun
bad "--val-data is the training's validation set, and --model trains nothing" run --task ad --model "$d/ae8.mco" --data "$d/ae-good" --val-data "$d/ae-normal" -o vrun
# ---- end of issue 15 (ad15) ----

# ---- issue 16 (conv16): the general convolution (groups, dilation, depth multiplier) ----
printf 'input 8 8 4\nconv2d filters=6 kernel=3 groups=3\n' >"$d/groups_divide.arch"
printf 'input 8 8 4\ndepthwise_conv2d kernel=3 groups=2\n' >"$d/groups_dw.arch"
printf 'input 8 8 4\nconv2d filters=4 kernel=3 multiplier=2\n' >"$d/multiplier_conv.arch"
printf 'input 8 8 4\nmaxpool2d pool=2 dilation=2\n' >"$d/dilation_pool.arch"
printf 'input 8 8 4\nconv2d filters=4 kernel=3 dilation=0\n' >"$d/dilation_zero.arch"
printf 'input 8 8 4\nconv2d filters=4 kernel=3 dilation=4\n' >"$d/dilation_span.arch"
bad "groups 3 must divide the 4 input and 6 output channels" info --arch "$d/groups_divide.arch"
bad "option not taken by this layer type 'groups'"           info --arch "$d/groups_dw.arch"
bad "option not taken by this layer type 'multiplier'"       info --arch "$d/multiplier_conv.arch"
bad "option not taken by this layer type 'dilation'"         info --arch "$d/dilation_pool.arch"
bad "bad dilation '0'"                                        info --arch "$d/dilation_zero.arch"
bad "9x9 window does not fit the 8x8 input"                   info --arch "$d/dilation_span.arch"
# ---- end of issue 16 (conv16) ----

# ---- the special files are still what they were ---------------------------------------
for f in fifo.mco fifo.mcq fifo.tflite fifo.f32 fifo.arch fifo.json fifo-out.mcq fifo-data/train-images-idx3-ubyte; do
  [ -p "$d/$f" ] || fail "$f is no longer a FIFO"
done
[ -d "$d/dir.json" ] && [ -d "$d/out-dir.mco" ] || fail "a directory was replaced"
[ -L "$d/link.mco" ] && [ "$(readlink "$d/link.mco")" = plain.file ] || fail "the symbolic link was replaced"
cmp -s "$d/plain.file" "$d/good.mco" || fail "plain.file was changed"

# ---- outcome ---------------------------------------------------------------------
if [ "$cases" -lt 100 ]; then
  fail "only $cases cases (the table should hold at least 100)"
fi
# search --report (issue 18): a study with no trials has nothing to report,
# and the store and output directory this run would have made are not left
bad "--report: the study in" search "$m" --target stm32f405 --min-accuracy 50 "${data[@]}" --val-images 100 --quiet --report -o rep

if [ "$failures" -ne 0 ]; then
  echo "$failures of $cases check(s) failed" >&2
  exit 1
fi
echo "cli_errors: all $cases bad inputs got one error line, a non-zero exit and no output"
