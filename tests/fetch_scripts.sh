#!/usr/bin/env bash
# fetch_scripts.sh - scripts/fetch_{speech_commands,cifar10,vww,toyadmos}.sh
# without a network (issue 15, item 5): MCO_FETCH_URL points each at an
# unreachable address (127.0.0.1 port 9) or at a local file:// archive, and
#   1. an unreachable URL: exit 1, exactly one stderr line "NAME: cannot
#      download URL (...); no network? ...", and nothing left beside the
#      target (no data directory, no staging directory);
#   2. a download whose checksum differs (cifar10 and speech_commands, whose
#      checksums are pinned; toyadmos against a local copy of a Zenodo
#      record): one line naming the expected checksum, nothing left;
#   3. a download that is not the archive it should be (vww, which has no
#      checksum; toyadmos with the right checksum but no ToyCar/ inside):
#      one line, nothing left;
#   4. the whole path with local archives of the right layout (vww: person/
#      and non_person/ JPEGs; toyadmos: ToyCar/train and ToyCar/test, its
#      MD5 in the local record): the data directory is made, a second run
#      keeps it ("already present"), and a directory that is not a
#      completed fetch is refused and left as it was.
# The real downloads cannot run here; their URLs and checksums are in the
# scripts. Usage: fetch_scripts.sh [PATH/TO/mcuopt] (unused). Skipped (77)
# without curl, python3 or zip tools.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib/skip.sh
require_cmd curl curl
require_cmd python3 python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# expect_fail SCRIPT TEXT URL: one line containing TEXT, exit 1, nothing left in $tmp/out.
expect_fail() {
  local script=$1 text=$2 url=$3
  rm -rf "$tmp/out" && mkdir "$tmp/out"
  MCO_FETCH_URL=$url MCO_FETCH_API_URL=${API_URL:-$url} bash "scripts/$script" "$tmp/out/data" >"$tmp/stdout" 2>"$tmp/stderr"
  local code=$?
  if [ "$code" != 1 ]; then fail "$script ($url): exit $code, expected 1"; fi
  if [ "$(wc -l <"$tmp/stderr")" != 1 ] || ! grep -qF -- "$text" "$tmp/stderr" || ! grep -q "^$script: " "$tmp/stderr"; then
    cat "$tmp/stderr" >&2; fail "$script ($url): not the one line '$script: ...$text...'"
  fi
  local left
  left=$(cd "$tmp/out" && find . -mindepth 1 | head -n 3 | tr '\n' ' ')
  [ -z "$left" ] || fail "$script ($url): left behind: $left"
}

# 1. no network
for script in fetch_speech_commands.sh fetch_cifar10.sh fetch_vww.sh fetch_toyadmos.sh; do
  expect_fail "$script" "cannot download http://127.0.0.1:9/none (curl: (7)" http://127.0.0.1:9/none
  expect_fail "$script" "; no network? The data directory was not made" http://127.0.0.1:9/none
done

# 2. wrong checksums
head -c 4096 /dev/urandom >"$tmp/junk.tar.gz"
expect_fail fetch_cifar10.sh "cifar-10-binary.tar.gz: MD5 $(md5sum "$tmp/junk.tar.gz" | cut -d' ' -f1), expected c32a1d4ab5d03f1284b67883e8d87530" \
  "file://$tmp/junk.tar.gz"
expect_fail fetch_speech_commands.sh "expected af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58" \
  "file://$tmp/junk.tar.gz"
record() {   # MD5: a Zenodo record listing dev_data_ToyCar.zip with it
  printf '{"files": [{"key": "dev_data_ToyCar.zip", "checksum": "md5:%s", "size": 1}]}\n' "$1" >"$tmp/record.json"
}
record 00000000000000000000000000000000
API_URL=file://$tmp/record.json expect_fail fetch_toyadmos.sh "expected 00000000000000000000000000000000" "file://$tmp/junk.tar.gz"
printf '{"files": []}\n' >"$tmp/record.json"
API_URL=file://$tmp/record.json expect_fail fetch_toyadmos.sh "does not list dev_data_ToyCar.zip with an MD5" "file://$tmp/junk.tar.gz"

# 3. not the archive it should be
expect_fail fetch_vww.sh "vw_coco2014_96.tar.gz: not a readable tar.gz archive" "file://$tmp/junk.tar.gz"
mkdir -p "$tmp/src/vw_coco2014_96/person"
head -c 100 /dev/urandom >"$tmp/src/vw_coco2014_96/person/1.jpg"
tar -czf "$tmp/vww_half.tar.gz" -C "$tmp/src" vw_coco2014_96
expect_fail fetch_vww.sh "the archive has no vw_coco2014_96/non_person/ with JPEG images" "file://$tmp/vww_half.tar.gz"
mkdir -p "$tmp/zsrc/Other/train"
(cd "$tmp/zsrc" && python3 -m zipfile -c "$tmp/other.zip" Other)
record "$(md5sum "$tmp/other.zip" | cut -d' ' -f1)"
API_URL=file://$tmp/record.json expect_fail fetch_toyadmos.sh "the archive has no ToyCar/train/" "file://$tmp/other.zip"

# 4. the whole path, offline
mkdir -p "$tmp/src/vw_coco2014_96/non_person"
head -c 100 /dev/urandom >"$tmp/src/vw_coco2014_96/non_person/2.jpg"
tar -czf "$tmp/vww.tar.gz" -C "$tmp/src" vw_coco2014_96
mkdir -p "$tmp/zsrc/ToyCar/train" "$tmp/zsrc/ToyCar/test"
head -c 100 /dev/urandom >"$tmp/zsrc/ToyCar/train/normal_id_01_00000000.wav"
(cd "$tmp/zsrc" && python3 -m zipfile -c "$tmp/toycar.zip" ToyCar)
record "$(md5sum "$tmp/toycar.zip" | cut -d' ' -f1)"
for script in fetch_vww.sh fetch_toyadmos.sh; do
  rm -rf "$tmp/out" && mkdir "$tmp/out"
  [ $script = fetch_vww.sh ] && url=file://$tmp/vww.tar.gz || url=file://$tmp/toycar.zip
  MCO_FETCH_URL=$url MCO_FETCH_API_URL=file://$tmp/record.json bash "scripts/$script" "$tmp/out/data" >"$tmp/stdout" 2>"$tmp/stderr" ||
    { cat "$tmp/stderr" >&2; fail "$script: the offline fetch failed"; continue; }
  [ -s "$tmp/stderr" ] && { cat "$tmp/stderr" >&2; fail "$script: wrote to stderr on success"; }
  if [ $script = fetch_vww.sh ]; then want=$tmp/out/data/person/1.jpg; else want=$tmp/out/data/ToyCar/train/normal_id_01_00000000.wav; fi
  [ -f "$want" ] && [ -f "$tmp/out/data/.fetched" ] || fail "$script: the data directory is not complete"
  [ "$(ls -A "$tmp/out")" = data ] || fail "$script: more than the data directory left: $(ls -A "$tmp/out")"
  MCO_FETCH_URL=http://127.0.0.1:9/none bash "scripts/$script" "$tmp/out/data" >"$tmp/stdout" 2>&1 &&
    grep -q "already present" "$tmp/stdout" || fail "$script: a second run did not keep the data"
  mkdir "$tmp/out/other" && echo mine >"$tmp/out/other/file"
  if MCO_FETCH_URL=$url bash "scripts/$script" "$tmp/out/other" >"$tmp/stdout" 2>"$tmp/stderr"; then
    fail "$script: replaced a directory that is not a completed fetch"
  fi
  grep -q "exists and is not a completed fetch" "$tmp/stderr" && [ "$(cat "$tmp/out/other/file")" = mine ] ||
    fail "$script: did not refuse a foreign directory cleanly"
  echo "fetch_scripts: $script made the data directory from a local archive, kept it, refused a foreign one"
done

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "fetch_scripts: all checks passed"
