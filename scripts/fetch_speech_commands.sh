#!/usr/bin/env bash
# fetch_speech_commands.sh - downloads Google's Speech Commands v0.02 (2.3
# GB; about 3.8 GB unpacked: 105,829 one-second 16 kHz WAV clips of 35
# words, with testing_list.txt, validation_list.txt and
# _background_noise_/), checks it, and unpacks it as DIR (default
# data/speech_commands_v0.02), the layout `mcuopt run --task kws --data DIR`
# reads.
#
# The checksum: Google publishes none for the archive; the SHA-256 checked
# here is the one TensorFlow Datasets records for it (its url_checksums),
# which other projects repeat.
#
# Usage: scripts/fetch_speech_commands.sh [DIR]
# A DIR that holds a completed fetch is kept; any failure (no network, a
# wrong checksum, a broken archive) is one line on stderr, a non-zero exit
# and no DIR (everything is staged beside it: scripts/fetch_lib.sh; it
# needs about 6 GB free there while it unpacks).
# What it leaves out: v0.01 and the separate test-set archive
# (speech_commands_test_set_v0.02.tar.gz).
set -euo pipefail
. "$(dirname "$0")/fetch_lib.sh"
fetch_begin fetch_speech_commands.sh "${1:-data/speech_commands_v0.02}"
archive=$FETCH_STAGE/speech_commands_v0.02.tar.gz
fetch_download http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz "$archive"
fetch_verify "$archive" sha256 af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58
mkdir "$FETCH_STAGE/data"
tar -xzf "$archive" -C "$FETCH_STAGE/data" 2>/dev/null ||
  fetch_fail "speech_commands_v0.02.tar.gz: not a readable tar.gz archive"
rm -f "$archive"
for f in testing_list.txt validation_list.txt _background_noise_ yes/ no/; do
  [ -e "$FETCH_STAGE/data/$f" ] || fetch_fail "the archive has no $f"
done
fetch_commit data
