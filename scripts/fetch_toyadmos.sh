#!/usr/bin/env bash
# fetch_toyadmos.sh - downloads the ToyADMOS toy-car sounds MLPerf Tiny's
# anomaly detection benchmark uses: dev_data_ToyCar.zip (about 1.8 GB) of
# the DCASE 2020 Challenge Task 2 development set, Zenodo record 3678171
# (ToyCar/train/ normal clips, ToyCar/test/ normal_* and anomaly_* clips,
# 16 kHz WAV), checks the MD5 Zenodo publishes for it (read from the
# record's API), and unpacks it as DIR (default data/toyadmos_toycar).
#
# mcuopt cannot read these WAV files for `--task ad` yet: it has no reader
# of machine-sound folders (log-mel frames of 5 x 128 bands per sample);
# `mcuopt run --task ad` takes those frames as .npy or CSV today, and says
# so for a WAV folder. The data is fetched for when it can.
#
# Usage: scripts/fetch_toyadmos.sh [DIR]
# A DIR that holds a completed fetch is kept; any failure (no network, a
# wrong checksum, a broken archive) is one line on stderr, a non-zero exit
# and no DIR (everything is staged beside it: scripts/fetch_lib.sh). Needs
# python3 (to read the record's JSON and to unzip). MCO_FETCH_API_URL
# replaces the record's API address (for the tests).
# What it leaves out: the other machine types (fan, pump, slider, valve,
# ToyConveyor) and the evaluation set.
set -euo pipefail
. "$(dirname "$0")/fetch_lib.sh"
fetch_begin fetch_toyadmos.sh "${1:-data/toyadmos_toycar}"
command -v python3 >/dev/null 2>&1 || fetch_fail "needs python3"
record=$FETCH_STAGE/record.json
( MCO_FETCH_URL=${MCO_FETCH_API_URL:-${MCO_FETCH_URL:-}}; fetch_download https://zenodo.org/api/records/3678171 "$record" )
md5=$(python3 - "$record" <<'PY' 2>/dev/null
import json, sys
for f in json.load(open(sys.argv[1]))["files"]:
    if f["key"] == "dev_data_ToyCar.zip" and f["checksum"].startswith("md5:"):
        print(f["checksum"][4:])
PY
) || true
[ -n "$md5" ] || fetch_fail "Zenodo record 3678171 does not list dev_data_ToyCar.zip with an MD5 (changed record?)"
archive=$FETCH_STAGE/dev_data_ToyCar.zip
fetch_download https://zenodo.org/records/3678171/files/dev_data_ToyCar.zip "$archive"
fetch_verify "$archive" md5 "$md5"
mkdir "$FETCH_STAGE/data"
python3 -m zipfile -e "$archive" "$FETCH_STAGE/data" 2>/dev/null || fetch_fail "dev_data_ToyCar.zip: not a readable zip archive"
rm -f "$archive" "$record"
for sub in ToyCar/train ToyCar/test; do
  [ -d "$FETCH_STAGE/data/$sub" ] || fetch_fail "the archive has no $sub/"
done
fetch_commit data
