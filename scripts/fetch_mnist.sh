#!/usr/bin/env bash
# fetch_mnist.sh - downloads the four MNIST IDX .gz files into a directory
# (default data/mnist) and checks their MD5 sums against the published ones.
#
# Usage: scripts/fetch_mnist.sh [DIR]
# Files already present with the right MD5 are kept. Any download or check
# failure removes the partial file and exits non-zero with a message.
# What it leaves out: Fashion-MNIST (install Debian's dataset-fashion-mnist
# package) and CIFAR-10 (download its binary version by hand).
set -euo pipefail

dir="${1:-data/mnist}"
mirrors=(
  "https://ossci-datasets.s3.amazonaws.com/mnist"
  "https://storage.googleapis.com/cvdf-datasets/mnist"
  "http://yann.lecun.com/exdb/mnist"
)
# name and MD5 of the .gz file, as in torchvision's MNIST resource list.
files=(
  "train-images-idx3-ubyte.gz f68b3c2dcbeaaa9fbdd348bbdeb94873"
  "train-labels-idx1-ubyte.gz d53e105ee54ea40749a09fcbcd1e9432"
  "t10k-images-idx3-ubyte.gz 9fb629c4189551a2d022fa330f9573f3"
  "t10k-labels-idx1-ubyte.gz ec29112dd5afa0611ce80d1b7f02629c"
)

fail() {
  echo "fetch_mnist.sh: $*" >&2
  exit 1
}

if command -v curl >/dev/null 2>&1; then
  download() { curl -fsSL --connect-timeout 15 --max-time 300 --retry 2 -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
  download() { wget -q --timeout=15 --tries=2 -O "$2" "$1"; }
else
  fail "needs curl or wget"
fi
command -v md5sum >/dev/null 2>&1 || fail "needs md5sum (coreutils)"

md5_of() { md5sum "$1" | cut -d' ' -f1; }

mkdir -p "$dir" || fail "cannot create directory $dir"

for entry in "${files[@]}"; do
  read -r name md5 <<<"$entry"
  target="$dir/$name"
  if [[ -f "$target" && "$(md5_of "$target")" == "$md5" ]]; then
    echo "$target: already present, MD5 ok"
    continue
  fi
  fetched=0
  for mirror in "${mirrors[@]}"; do
    part="$target.part"
    if download "$mirror/$name" "$part" 2>/dev/null; then
      got="$(md5_of "$part")"
      if [[ "$got" == "$md5" ]]; then
        mv "$part" "$target"
        echo "$target: downloaded from $mirror, MD5 ok"
        fetched=1
        break
      fi
      echo "fetch_mnist.sh: $mirror/$name: MD5 $got, expected $md5; trying the next mirror" >&2
    else
      echo "fetch_mnist.sh: $mirror/$name: download failed; trying the next mirror" >&2
    fi
    rm -f "$part"
  done
  [[ $fetched == 1 ]] || fail "could not get $name from any mirror (no network?). Copy the four MNIST .gz files into $dir by hand, or pass --data DIR to mcuopt."
done
echo "MNIST is in $dir"
