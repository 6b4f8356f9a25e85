#!/usr/bin/env bash
# output_safety.sh - outputs never replace what was not ours and a failed
# command leaves nothing behind; inputs that are not regular files, or are
# too large, get one error line instead of a hang or a huge allocation.
#
#   1. -o PATH of every file writer (train .mco, quantize .mcq, export ONNX,
#      predict) and -o DIR of every directory writer (emit, measure
#      --code-dir and --measure-dir, run, search) where PATH is a FIFO, a symlink, a device
#      node or a directory (a file for DIR): exit 1, one error line naming
#      it, the thing left exactly as it was. The device is a private node
#      (mknod c 1 3) when we are root, then /dev/null itself.
#   2. An unwritable directory (chmod 555, or as root a read-only tmpfs).
#   3. Temporaries: a stale ".NAME.tmp.PID" of a dead process is removed by
#      the next run of the same command, one of a live process or whose
#      flock is held is kept; a `mcuopt run` killed with -9 leaves no
#      output, and running the same command again cleans its stage up.
#   4. A full disk (a real 64 KB tmpfs): emit, emit into an existing
#      directory, quantize, export, train, run, measure --code-dir and
#      search all fail with one line and leave the file system as it was.
#   5. Loaders: a directory named x.json as a profile, a 300 MB profile, a
#      FIFO as a model, as predict's input or as an IDX data file (all hung),
#      a directory as an architecture, and a FIFO as search's structure
#      cache (it hung).
#
# Parts 2-4 need mount (root) and part 3's kill needs QEMU and
# arm-none-eabi-gcc; when one cannot run, the rest still runs and the test
# then exits 77 (CTest shows it SKIPPED), never 0.
# Usage: output_safety.sh PATH/TO/mcuopt   (run from the repository root)
set -u
cli=$1
tmp=$(mktemp -d)
mounts=()
bg_pids=()
cleanup() {
  local m p
  for p in "${bg_pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  for m in "${mounts[@]}"; do umount "$m" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
skipped=()
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# expect PATTERN -- command...: exit code 1, stderr exactly one line matching PATTERN.
expect() {
  local pattern=$1
  shift 2
  timeout 60 "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$? lines
  lines=$(wc -l <"$tmp/err")
  if [ "$got" -ne 1 ] || [ "$lines" -ne 1 ] || ! grep -q -- "$pattern" "$tmp/err"; then
    fail "$* -> exit $got (want 1), stderr ($lines lines, want one matching '$pattern'):"
    cat "$tmp/err" >&2
  fi
}

# The same listing (names, types, sizes, link targets) before and after.
listing() { (cd "$1" && find . -printf '%p %y %s %l\n' | sort); }

# A small synthetic MNIST-layout data set (deterministic bytes, labels 0-9).
idx_count() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' 0 0 $(($1 >> 8)) $(($1 & 255)); }
make_idx() {
  local dir=$1 name=$2 n=$3
  { printf '\x00\x00\x08\x03'; printf "$(idx_count "$n")"; printf '\x00\x00\x00\x1c\x00\x00\x00\x1c'
    LC_ALL=C awk -v n=$((n * 784)) 'BEGIN { for (i = 0; i < n; i++) printf "%c", (i * 7919 + int(i / 784) * 31) % 251 }'
  } >"$dir/$name-images-idx3-ubyte"
  { printf '\x00\x00\x08\x01'; printf "$(idx_count "$n")"
    LC_ALL=C awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "%c", i % 10 }'
  } >"$dir/$name-labels-idx1-ubyte"
}
data=$tmp/data
mkdir "$data"
make_idx "$data" train 300
make_idx "$data" t10k 100
"$cli" train --arch mlp --data "$data" --epochs 1 --val 50 --quiet -o "$tmp/m.mco" >/dev/null || fail "training a model"
"$cli" quantize "$tmp/m.mco" --mode int8 --data "$data" -o "$tmp/m.mcq" >/dev/null || fail "quantizing it"
head -c $((784 * 4)) /dev/zero >"$tmp/in.f32"
have_tools=1
command -v qemu-system-arm >/dev/null && command -v arm-none-eabi-gcc >/dev/null || have_tools=0

# The command of every file writer (file_cmd WRITER PATH) and directory
# writer (dir_cmd WRITER DIR), into the array cmd.
file_cmd() {
  case $1 in
    train) cmd=("$cli" train --arch mlp --data "$data" --epochs 1 --val 50 --quiet -o "$2") ;;
    quantize) cmd=("$cli" quantize "$tmp/m.mco" --mode int8 --data "$data" -o "$2") ;;
    export) cmd=("$cli" export "$tmp/m.mco" -o "$2") ;;
    predict) cmd=("$cli" predict "$tmp/m.mco" --input "$tmp/in.f32" -o "$2") ;;
  esac
}
dir_cmd() {
  case $1 in
    emit) cmd=("$cli" emit "$tmp/m.mcq" -o "$2") ;;
    measure) cmd=("$cli" measure "$tmp/m.mcq" --target stm32f405 --images 3 --data "$data" --code-dir "$2") ;;
    measure-dir) cmd=("$cli" measure "$tmp/m.mcq" --target stm32f405 --images 3 --data "$data" --measure-dir "$2") ;;
    run) cmd=("$cli" run --arch mlp --data "$data" --epochs 1 --val 50 --images 3 --quiet -o "$2") ;;
    search) cmd=("$cli" search "$tmp/m.mco" --target stm32f405 --min-accuracy 10 --budget 30s --max-trials 2
                 --data "$data" --train-images 100 --val-images 100 --quiet -o "$2") ;;
  esac
}
file_writers=(train quantize export predict)
dir_writers=(emit measure measure-dir run search)

# ---- 1. special files at the output path ----------------------------------------
sp=$tmp/special
mkdir "$sp"
mkfifo "$sp/fifo"
echo precious >"$sp/target"
ln -s target "$sp/link"
mkdir "$sp/dir"
echo "a file" >"$sp/file"
device=/dev/null
if [ "$(id -u)" = 0 ] && mknod "$sp/null" c 1 3 2>/dev/null; then device=$sp/null; fi
before=$(listing "$sp")
for w in "${file_writers[@]}"; do
  file_cmd "$w" "$sp/fifo" && expect "fifo: exists and is a FIFO, not a regular file; refusing" -- "${cmd[@]}"
  file_cmd "$w" "$sp/link" && expect "link: exists and is a symbolic link" -- "${cmd[@]}"
  file_cmd "$w" "$sp/dir" && expect "dir: exists and is a directory, not a regular file" -- "${cmd[@]}"
  file_cmd "$w" "$device" && expect "exists and is a character device" -- "${cmd[@]}"
done
for w in "${dir_writers[@]}"; do
  dir_cmd "$w" "$sp/fifo" && expect "fifo: exists and is a FIFO, not a directory" -- "${cmd[@]}"
  dir_cmd "$w" "$sp/file" && expect "file: exists and is a regular file, not a directory" -- "${cmd[@]}"
done
[ "$before" = "$(listing "$sp")" ] || fail "the special files changed: $(diff <(echo "$before") <(listing "$sp"))"
[ "$(cat "$sp/target")" = precious ] || fail "the symlink's target was written"
# The real /dev/null, once the private node has shown that it is refused.
if [ "$device" != /dev/null ] && [ -c "$sp/null" ]; then
  for w in export quantize; do
    file_cmd "$w" /dev/null && expect "/dev/null: exists and is a character device" -- "${cmd[@]}"
  done
fi
[ -c /dev/null ] && [ "$(stat -c '%t:%T' /dev/null)" = 1:3 ] || fail "/dev/null is no longer the null device"

# ---- 2. an unwritable directory -------------------------------------------------------
ro=$tmp/readonly
mkdir "$ro"
chmod 555 "$ro"
if ! touch "$ro/probe" 2>/dev/null; then
  file_cmd export "$ro/m.onnx" && expect "m.onnx: cannot create a file in .*: Permission denied" -- "${cmd[@]}"
  dir_cmd emit "$ro/code" && expect "code: cannot create directory: Permission denied" -- "${cmd[@]}"
elif mount -t tmpfs -o ro,size=64k tmpfs "$ro" 2>/dev/null; then   # root writes anywhere: a read-only mount
  mounts+=("$ro")
  file_cmd export "$ro/m.onnx" && expect "m.onnx: cannot create a file in .*: Read-only file system" -- "${cmd[@]}"
  dir_cmd emit "$ro/code" && expect "code: cannot create directory: Read-only file system" -- "${cmd[@]}"
else
  skipped+=("unwritable directory (root, and mount not permitted)")
fi
[ -z "$(ls -A "$ro")" ] || fail "something was left in the unwritable directory: $(ls -A "$ro")"

# ---- 3. stale temporaries ---------------------------------------------------------------
dead_pid() { (exit 0) & local p=$!; wait $p; echo $p; }
st=$tmp/stale
mkdir "$st"
dead=$(dead_pid)
echo stale >"$st/.m.onnx.tmp.$dead"
mkdir "$st/.code.tmp.$dead"
echo stale >"$st/.code.tmp.$dead/model.c"
sleep 300 </dev/null >/dev/null 2>&1 &   # no ctest pipe kept open; killed at the end
live=$!
disown "$live"
bg_pids+=("$live")
echo live >"$st/.m.onnx.tmp.$live"
locked_pid=$(dead_pid)
echo locked >"$st/.m.onnx.tmp.$locked_pid"
exec 9<"$st/.m.onnx.tmp.$locked_pid"   # locked through our fd 9 until the end (lock of a live writer)
flock -x 9
"$cli" export "$tmp/m.mco" -o "$st/m.onnx" >/dev/null || fail "export next to stale temporaries"
"$cli" emit "$tmp/m.mcq" -o "$st/code" >/dev/null || fail "emit next to a stale directory"
[ -e "$st/.m.onnx.tmp.$dead" ] && fail "a dead process's temporary file was not removed"
[ -e "$st/.code.tmp.$dead" ] && fail "a dead process's staged directory was not removed"
[ -e "$st/.m.onnx.tmp.$live" ] || fail "a live process's temporary file was removed"
[ -e "$st/.m.onnx.tmp.$locked_pid" ] || fail "a temporary file whose lock is held was removed"
[ -s "$st/m.onnx" ] && [ -s "$st/code/model.c" ] || fail "export or emit did not write its output"

if [ "$have_tools" = 1 ]; then
  # kill -9 a run while it writes its staged directory: no output, and the
  # next run of the same command removes the stage and completes.
  run_args=(run --arch mlp --data "$data" --epochs 60 --val 50 --images 3 --quiet -o "$st/out")
  "$cli" "${run_args[@]}" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 500); do
    compgen -G "$st/.out.tmp.*" >/dev/null && break
    sleep 0.01
  done
  if kill -9 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null
    [ -e "$st/out" ] && fail "a killed run left $st/out"
    compgen -G "$st/.out.tmp.$pid" >/dev/null || fail "the killed run had no staged directory (was it killed too late?)"
    "$cli" "${run_args[@]}" >/dev/null || fail "running the same command again"
    [ -s "$st/out/summary.json" ] || fail "the second run wrote no summary.json"
    left=$(cd "$st" && find . -name '*.tmp.*' ! -name ".m.onnx.tmp.$live" ! -name ".m.onnx.tmp.$locked_pid")
    [ -z "$left" ] || fail "temporaries left after the second run: $left"
  else
    fail "the run to kill ended before it could be killed"
  fi
else
  skipped+=("kill -9 of a run (no qemu-system-arm or arm-none-eabi-gcc)")
fi

# ---- 4. a full disk ------------------------------------------------------------------------
full=$tmp/full
mkdir "$full"
if mount -t tmpfs -o size=64k tmpfs "$full" 2>/dev/null; then
  mounts+=("$full")
  empty_after() {   # empty_after WHAT: the file system holds nothing
    [ -z "$(ls -A "$full")" ] || fail "$1 on a full disk left: $(cd "$full" && find . | tr '\n' ' ')"
  }
  dir_cmd emit "$full/code" && expect "full/code/model.c: write failed: No space left on device" -- "${cmd[@]}"
  empty_after "emit"
  for w in "${file_writers[@]}"; do
    [ "$w" = predict ] && continue   # its output is 40 bytes: it fits
    file_cmd "$w" "$full/out.bin" && expect "out.bin: write failed: No space left on device" -- "${cmd[@]}"
    empty_after "$w"
  done
  for w in measure run search; do
    dir_cmd "$w" "$full/out" && expect "No space left on device\|database or disk is full" -- "${cmd[@]}"
    empty_after "$w"
  done
  mkdir "$full/exist"
  echo keep >"$full/exist/keep.txt"
  before=$(listing "$full")
  dir_cmd emit "$full/exist" && expect "full/exist/model.c: write failed: No space left on device" -- "${cmd[@]}"
  [ "$before" = "$(listing "$full")" ] || fail "emit into an existing directory on a full disk changed it"
else
  skipped+=("full disk (mount -t tmpfs not permitted)")
fi

# ---- 5. loaders: not a regular file, too large -------------------------------------------------
ld=$tmp/loaders
mkdir "$ld" "$ld/x.json" "$ld/d.arch"
truncate -s 300M "$ld/big.json"
mkfifo "$ld/f.mco"
expect "x.json: is a directory, not a regular file" -- "$cli" estimate "$tmp/m.mcq" --target "$ld/x.json"
expect "big.json: file too large (314572800 bytes; at most 1048576" -- "$cli" estimate "$tmp/m.mcq" --target "$ld/big.json"
expect "f.mco: is a FIFO, not a regular file" -- "$cli" info "$ld/f.mco"
expect "d.arch: is a directory, not a regular file" -- "$cli" info --arch "$ld/d.arch"
expect "f.mco: is a FIFO, not a regular file" -- "$cli" predict "$tmp/m.mco" --input "$ld/f.mco" -o "$ld/p.out"
mkdir "$ld/data"
cp "$data"/* "$ld/data/"
rm "$ld/data/train-images-idx3-ubyte"
mkfifo "$ld/data/train-images-idx3-ubyte"
expect "train-images-idx3-ubyte: is a FIFO, not a regular file" -- "$cli" train --arch mlp --data "$ld/data" -o "$ld/m.mco"
# A FIFO where search keeps its structure cache (it hung reading it): ignored, the search ends.
mkdir "$ld/s"
mkfifo "$ld/s/structures.tsv"
dir_cmd search "$ld/s"
timeout 60 "${cmd[@]}" >/dev/null 2>&1
[ $? -ne 124 ] || fail "search hung on a FIFO at OUT/structures.tsv"
[ -p "$ld/s/structures.tsv" ] || fail "search replaced the FIFO at OUT/structures.tsv"

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
if [ ${#skipped[@]} -ne 0 ]; then
  printf 'SKIPPED: %s\n' "${skipped[@]}"
  echo "output_safety: the other checks passed; skipped parts make the test SKIP (exit 77)"
  exit 77
fi
echo "output_safety: all checks passed"
