#!/usr/bin/env bash
# run.sh — sets everything up and runs the main job: a live demo channel
# packaged by llhlssink into a Low-Latency HLS folder.
# Environment: GLASSCAST_MEDIA_DIR (default /dev/shm/glasscast-demo, or /tmp when
# /dev/shm is missing).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/build.sh build/release --buildtype=release

media=${GLASSCAST_MEDIA_DIR:-/dev/shm/glasscast-demo}
[ -d "$(dirname "$media")" ] || media=/tmp/glasscast-demo
rm -rf "$media/demo"
mkdir -p "$media"

export GST_PLUGIN_PATH="$PWD/build/release/plugins/llhls${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
echo "glasscast demo: writing LL-HLS to $media/demo (multivariant: $media/demo/index.m3u8)"
echo "glasscast demo: Ctrl-C stops the channel and finalises its playlists"
exec gst-launch-1.0 -e \
  videotestsrc is-live=true pattern=smpte horizontal-speed=4 \
    ! video/x-raw,format=I420,width=1280,height=720,framerate=30/1 \
    ! x264enc tune=zerolatency speed-preset=veryfast key-int-max=600 bitrate=2500 \
    ! h264parse ! llhlssink name=out location="$media/demo" \
  audiotestsrc is-live=true wave=sine freq=440 \
    ! audio/x-raw,rate=48000,channels=2 ! audioconvert ! avenc_aac bitrate=128000 \
    ! aacparse ! out.
