#!/usr/bin/env bash
# fetch_vww.sh - downloads the visual wake words set MLPerf Tiny trains on
# (vw_coco2014_96.tar.gz, about 235 MB, hosted by Silicon Labs for the
# MLPerf Tiny benchmark: COCO 2014 images cropped and scaled to 96x96 RGB,
# in two folders person/ and non_person/), and unpacks it as DIR (default
# data/vw_coco2014_96), an image folder `mcuopt run --task vww --data DIR`
# reads.
#
# The checksum: none is published for this archive, so none is checked;
# the script checks only that it unpacks into person/ and non_person/ with
# images in both.
#
# Building the set from COCO itself instead (as MLPerf Tiny's reference
# did) needs the COCO 2014 images and annotations (about 19 GB) and a
# Python tool with pycocotools (TensorFlow models'
# research/slim/datasets/build_visualwakewords_data.py, then the crop to
# 96x96): this script does not do that.
#
# Usage: scripts/fetch_vww.sh [DIR]
# A DIR that holds a completed fetch is kept; any failure (no network, a
# broken archive) is one line on stderr, a non-zero exit and no DIR
# (everything is staged beside it: scripts/fetch_lib.sh).
set -euo pipefail
. "$(dirname "$0")/fetch_lib.sh"
fetch_begin fetch_vww.sh "${1:-data/vw_coco2014_96}"
archive=$FETCH_STAGE/vw_coco2014_96.tar.gz
fetch_download https://www.silabs.com/public/files/github/machine_learning/benchmarks/datasets/vw_coco2014_96.tar.gz \
  "$archive"
tar -xzf "$archive" -C "$FETCH_STAGE" 2>/dev/null || fetch_fail "vw_coco2014_96.tar.gz: not a readable tar.gz archive"
rm -f "$archive"
for class in person non_person; do
  [ -n "$(find "$FETCH_STAGE/vw_coco2014_96/$class" -maxdepth 1 -type f -name '*.jpg' -print -quit 2>/dev/null)" ] ||
    fetch_fail "the archive has no vw_coco2014_96/$class/ with JPEG images"
done
fetch_commit vw_coco2014_96
