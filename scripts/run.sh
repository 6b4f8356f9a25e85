#!/usr/bin/env bash
# run.sh - the quick start's main command: installs what is missing, builds,
# and runs the main job (`mcuopt run`) on built-in defaults. Arguments are
# passed on to `mcuopt run` (see `build/mcuopt run --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh build >/dev/null
exec build/mcuopt run "$@"
