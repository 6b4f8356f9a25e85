#!/usr/bin/env bash
# setup.sh - installs the Debian packages mcuopt needs that are missing, and
# does nothing else. Idempotent: a second run installs nothing. Run as root
# (or with sudo available). Extra package names may be given as arguments
# (the benchmarks add packages this way). python3-torch is for the tests
# that export models from PyTorch (tests/onnx_from_torch.sh).
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  zlib1g-dev libcjson-dev libsqlite3-dev sqlite3 libpq-dev postgresql libdnnl-dev libstb-dev libpng-dev libjpeg-dev
  libcsv-dev chromium
  libsndfile1-dev libsamplerate0-dev espeak-ng sox python3-scipy
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
  dataset-fashion-mnist
  libprotobuf-c-dev protobuf-c-compiler python3-onnx python3-numpy python3-pil python3-torch
  libflatbuffers-dev flatbuffers-compiler python3-flatbuffers g++
  clang libclang-rt-14-dev
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo_cmd=(sudo); else
    echo "setup: missing packages: ${missing[*]}; run this script as root to install them" >&2
    exit 1
  fi
fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq >&2
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
