#!/usr/bin/env bash
# install-deps.sh — installs every Debian package Glasscast needs to build, run and test.
# Idempotent and non-interactive; safe to run again on a machine that already has everything.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: run as root (it calls apt-get)" >&2
  exit 1
fi

packages=(
  # toolchain
  build-essential meson ninja-build pkg-config git clang clang-format libclang-rt-14-dev
  # libraries
  libglib2.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  libsoup-3.0-dev libjson-glib-dev libcurl4-openssl-dev libssl-dev
  # chat/: Redis fan-out and state (hiredis + a real redis-server for tests), SQLite archive
  libhiredis-dev libsqlite3-dev redis-server
  # accounts/: Argon2id password hashes and random session nonces
  libsodium-dev
  # GStreamer runtime: elements used by pipelines, tests and benchmarks
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav
  # webrtcbin's ICE transport (nicesrc/nicesink) for whipserversrc and gc-whip-publish
  gstreamer1.0-nice
  # independent clients used by the tests
  ffmpeg python3 curl
  # LL-HLS edge (examples/nginx-edge.conf), its load benchmark and the browser e2e
  nginx wrk chromium
  # the edge's playback token check (njs: nginx's own JavaScript module)
  libnginx-mod-http-js
)
# The browser e2e runs hls.js under Node; install Debian's only where no node exists.
if ! command -v node >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
echo "install-deps.sh: all ${#packages[@]} packages present"

# npm packages of the browser e2e (package.json at the repo root), pinned by
# package-lock.json. Reinstalled only when node_modules is missing or was
# installed from a different lock file.
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ -f "$root/package.json" ] && [ -f "$root/package-lock.json" ]; then
  lock_sum=$(sha256sum "$root/package-lock.json" | cut -d' ' -f1)
  stamp="$root/node_modules/.glasscast-lock-sha256"
  if [ ! -d "$root/node_modules" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]; then
    (cd "$root" && npm ci --no-audit --no-fund)
    echo "$lock_sum" >"$stamp"
  fi
  echo "install-deps.sh: npm packages present"
fi
