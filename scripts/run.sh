#!/usr/bin/env bash
# run.sh — sets everything up and runs the main job: glasscastd serving a live
# demo channel over Low-Latency HLS at http://127.0.0.1:8080/live/demo/index.m3u8.
# Environment: GLASSCAST_LISTEN (default 127.0.0.1:8080), GLASSCAST_MEDIA_DIR
# (default /dev/shm/glasscast-demo, or /tmp/glasscast-demo without /dev/shm).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/build.sh build/release --buildtype=release

listen=${GLASSCAST_LISTEN:-127.0.0.1:8080}
media=${GLASSCAST_MEDIA_DIR:-/dev/shm/glasscast-demo}
[ -d "$(dirname "$media")" ] || media=/tmp/glasscast-demo
rm -rf "$media/demo"
mkdir -p "$media"

export GST_PLUGIN_PATH="$PWD/build/release/plugins/llhls${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"

# The demo channel: a test pattern and tone, encoded, packaged by llhlssink.
# (Live channels from browsers and OBS arrive over WHIP once ingest lands.)
gst-launch-1.0 -q -e \
  videotestsrc is-live=true pattern=smpte horizontal-speed=4 \
    ! video/x-raw,format=I420,width=1280,height=720,framerate=30/1 \
    ! x264enc tune=zerolatency speed-preset=veryfast key-int-max=600 bitrate=2500 \
    ! h264parse ! llhlssink name=out location="$media/demo" \
  audiotestsrc is-live=true wave=sine freq=440 \
    ! audio/x-raw,rate=48000,channels=2 ! audioconvert ! avenc_aac bitrate=128000 \
    ! aacparse ! out. &
writer=$!
trap 'kill -INT $writer 2>/dev/null; wait $writer 2>/dev/null' EXIT INT TERM

echo "glasscast: demo channel writing LL-HLS to $media/demo"
echo "glasscast: play http://$listen/live/demo/index.m3u8 (any LL-HLS player); Ctrl-C stops"
build/release/orchestrator/glasscastd --origin "$media" --listen "$listen"
