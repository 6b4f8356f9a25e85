#!/usr/bin/env bash
# fetch_cifar10.sh - downloads the CIFAR-10 binary version (162 MB) from its
# authors' page, checks the MD5 the page publishes, and unpacks its
# cifar-10-batches-bin/ (data_batch_1..5.bin, test_batch.bin) as DIR
# (default data/cifar10), which `mcuopt run --task ic --data DIR` and
# `--dataset cifar10 --data DIR` read.
#
# Usage: scripts/fetch_cifar10.sh [DIR]
# A DIR that holds a completed fetch is kept; any failure (no network, a
# wrong checksum, a broken archive) is one line on stderr, a non-zero exit
# and no DIR (everything is staged beside it: scripts/fetch_lib.sh).
# What it leaves out: the Python and MATLAB versions of the set.
set -euo pipefail
. "$(dirname "$0")/fetch_lib.sh"
fetch_begin fetch_cifar10.sh "${1:-data/cifar10}"
archive=$FETCH_STAGE/cifar-10-binary.tar.gz
fetch_download https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz "$archive"
fetch_verify "$archive" md5 c32a1d4ab5d03f1284b67883e8d87530
tar -xzf "$archive" -C "$FETCH_STAGE" 2>/dev/null || fetch_fail "cifar-10-binary.tar.gz: not a readable tar.gz archive"
for f in data_batch_1.bin data_batch_5.bin test_batch.bin; do
  [ -f "$FETCH_STAGE/cifar-10-batches-bin/$f" ] || fetch_fail "the archive has no cifar-10-batches-bin/$f"
done
fetch_commit cifar-10-batches-bin
