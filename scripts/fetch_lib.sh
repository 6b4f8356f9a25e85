# fetch_lib.sh - what scripts/fetch_*.sh share (sourced, not run): one
# download with curl or wget, its checksum against the published one, and
# a staged data directory, so that a fetch either puts the complete set in
# place or leaves nothing behind.
#
#   fetch_begin NAME DIR   the script's name for messages, and the data
#                          directory to make: exits 0 ("already present")
#                          if DIR holds a completed fetch (its .fetched
#                          marker), refuses a DIR that exists otherwise,
#                          and makes the staging directory $FETCH_STAGE
#                          beside it (removed on any exit that did not
#                          commit);
#   fetch_download URL FILE   downloads into FILE; one line naming the URL
#                          and the tool's reason on failure (no network,
#                          HTTP error);
#   fetch_verify FILE md5|sha256 SUM   checks the checksum;
#   fetch_commit SUBDIR    moves $FETCH_STAGE/SUBDIR (or the stage itself for
#                          ".") into place as DIR with its .fetched marker;
#   fetch_fail MESSAGE     one line "NAME: MESSAGE" on stderr, exit 1.
# MCO_FETCH_URL replaces the download URL (tests point it at an unreachable
# address or a local file:// to check the failure paths offline).
#
# What it leaves out: resuming a broken download (it starts again) and
# proxies beyond what curl / wget read from the environment.

fetch_fail() {
  echo "$FETCH_NAME: $*" >&2
  exit 1
}

fetch_begin() {
  FETCH_NAME=$1
  FETCH_DIR=${2%/}
  FETCH_STAGE=
  if command -v curl >/dev/null 2>&1; then
    FETCH_TOOL=curl
  elif command -v wget >/dev/null 2>&1; then
    FETCH_TOOL=wget
  else
    fetch_fail "needs curl or wget (Debian package curl)"
  fi
  if [ -f "$FETCH_DIR/.fetched" ]; then
    echo "$FETCH_DIR: already present (fetched $(cat "$FETCH_DIR/.fetched"))"
    exit 0
  fi
  [ ! -e "$FETCH_DIR" ] && [ ! -L "$FETCH_DIR" ] ||
    fetch_fail "$FETCH_DIR exists and is not a completed fetch: remove it or give another directory"
  local parent
  parent=$(dirname "$FETCH_DIR")
  mkdir -p "$parent" || fetch_fail "cannot create $parent"
  FETCH_STAGE=$(mktemp -d "$parent/.$(basename "$FETCH_DIR").part.XXXXXX") ||
    fetch_fail "cannot create a staging directory in $parent"
  trap 'rm -rf "$FETCH_STAGE"' EXIT
  trap 'exit 130' INT TERM
}

fetch_download() {
  local url=${MCO_FETCH_URL:-$1} file=$2 log=$FETCH_STAGE/.download.log why
  echo "$FETCH_NAME: downloading $url"
  if [ "$FETCH_TOOL" = curl ]; then
    curl -fsSL --connect-timeout 20 --retry 2 -o "$file" "$url" 2>"$log"
  else
    wget -q --timeout=20 --tries=2 -O "$file" "$url" 2>"$log"
  fi && return 0
  why=$(tail -n 1 "$log" | tr -d '\r')
  fetch_fail "cannot download $url (${why:-$FETCH_TOOL failed}); no network? The data directory was not made"
}

fetch_verify() {
  local file=$1 algo=$2 want=$3 got
  got=$("${algo}sum" "$file" | cut -d' ' -f1) || fetch_fail "${algo}sum failed on $file"
  [ "$got" = "$want" ] ||
    fetch_fail "$(basename "$file"): ${algo^^} $got, expected $want (a broken or changed download); nothing was kept"
}

fetch_commit() {
  local sub=$1 from
  [ "$sub" = . ] && from=$FETCH_STAGE || from=$FETCH_STAGE/$sub
  date -u +%Y-%m-%dT%H:%M:%SZ >"$from/.fetched"
  rm -f "$FETCH_STAGE/.download.log"
  mv -T "$from" "$FETCH_DIR" || fetch_fail "cannot move the data into $FETCH_DIR"
  [ "$sub" = . ] && FETCH_STAGE=
  echo "$FETCH_NAME: the data is in $FETCH_DIR"
}
