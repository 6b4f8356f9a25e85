# mini_mnist.sh - sourced by shell tests: make_mini_mnist DIR writes a tiny
# MNIST-layout data set (the first 300 training and 100 test images of the
# real set in ../shared/data/mnist, with IDX headers rewritten for those
# counts), so CLI tests train in a second. Without MNIST the test is
# skipped (skip.sh); a short or unreadable copy is a failure (status 1).

. "$(dirname "${BASH_SOURCE[0]}")/skip.sh"

# count_hex N: N as four big-endian \x bytes for printf.
count_hex() {
  printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255))
}

# copy_idx SRC.gz DST COUNT ITEM_BYTES HEADER_HEX HEADER_BYTES (SRC without
# .gz if only that is there; head stops reading early, so zcat's SIGPIPE is
# expected: no pipefail in the subshell).
copy_idx() {
  local src=$1
  [ -e "$src" ] || src=${src%.gz}
  printf "$5" >"$2"
  (set +o pipefail; zcat -f "$src" | tail -c +$(($6 + 1)) | head -c $(($3 * $4))) >>"$2"
  if [ "$(stat -c %s "$2")" -ne $(($6 + $3 * $4)) ]; then
    echo "make_mini_mnist: $1 gave a short copy $2" >&2
    return 1
  fi
}

make_mini_mnist() {
  local dir=$1 mnist split name n
  require_mnist
  mnist=$(mnist_dir)
  mkdir -p "$dir"
  for split in train:300 t10k:100; do
    name=${split%%:*} n=${split##*:}
    copy_idx "$mnist/$name-images-idx3-ubyte.gz" "$dir/$name-images-idx3-ubyte" "$n" 784 \
      "\\x00\\x00\\x08\\x03$(count_hex "$n")\\x00\\x00\\x00\\x1c\\x00\\x00\\x00\\x1c" 16 || return 1
    copy_idx "$mnist/$name-labels-idx1-ubyte.gz" "$dir/$name-labels-idx1-ubyte" "$n" 1 \
      "\\x00\\x00\\x08\\x01$(count_hex "$n")" 8 || return 1
  done
}

# make_mini_model CLI DIR: the mini set in DIR/mini and a mnist-paper
# trained on it for one epoch in DIR/m.mco (the search tests' starting model).
make_mini_model() {
  make_mini_mnist "$2/mini" || return 1
  "$1" train --arch mnist-paper --data "$2/mini" --epochs 1 --val 50 --quiet -o "$2/m.mco" >/dev/null
}
