#!/usr/bin/env bash
# build.sh — configures and builds Glasscast with meson + ninja.
# Usage: scripts/build.sh [BUILD_DIR] [extra meson options...]   (default BUILD_DIR: build/release)
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${1:-build/release}
shift || true
if [ -f "$dir/build.ninja" ]; then
  meson setup --reconfigure "$dir" "$@" >/dev/null
else
  meson setup "$dir" "$@"
fi
ninja -C "$dir"
