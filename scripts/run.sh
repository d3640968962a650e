#!/usr/bin/env bash
# run.sh — sets everything up and runs the main job: glasscastd with its embedded defaults (its own
# redis-server, SQLite files under a data folder) serving a live demo channel, "demo" (a test pattern and tone
# packaged by llhlssink, chat in step with it), and a channel "studio" to publish to from the browser or OBS.
# Environment: GLASSCAST_LISTEN (default 127.0.0.1:8080), GLASSCAST_DATA_DIR (default
# ~/.local/share/glasscast-demo), GLASSCAST_MEDIA_DIR (default /dev/shm/glasscast-demo, or /tmp/... without it).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/build.sh build/release --buildtype=release

listen=${GLASSCAST_LISTEN:-127.0.0.1:8080}
data=${GLASSCAST_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/glasscast-demo}
media=${GLASSCAST_MEDIA_DIR:-/dev/shm/glasscast-demo}
[ -d "$(dirname "$media")" ] || media=/tmp/glasscast-demo
build=$PWD/build/release
rm -rf "$media/demo"
mkdir -p "$media" "$data"
chmod 700 "$data"

# The studio's stream key: made once, kept (0600) beside the data so the
# publisher's settings survive restarts; only its hash goes in the config.
if [ ! -s "$data/studio-stream-key" ]; then
  (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$data/studio-stream-key")
fi
key_hash=$("$build/orchestrator/glasscastd" --hash-key <"$data/studio-stream-key")

cat >"$data/glasscast.ini" <<EOF
# Written by scripts/run.sh; every key is explained in examples/glasscast.ini.
[server]
listen=$listen
data-dir=$data
media-dir=$media
plugin-path=$build/plugins/whip:$build/plugins/llhls:$build/plugins/chatstamp

[channel:demo]
owner=demo

[channel:studio]
owner=demo
stream-key-hash=$key_hash
EOF

export GST_PLUGIN_PATH="$build/plugins/llhls:$build/plugins/chatstamp${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"

"$build/orchestrator/glasscastd" --config "$data/glasscast.ini" &
daemon=$!
writer=
cleanup() {
  [ -n "$writer" ] && kill -INT "$writer" 2>/dev/null && wait "$writer" 2>/dev/null
  kill -TERM "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
}
trap cleanup EXIT INT TERM

base="http://$listen"
for _ in $(seq 1 100); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

# The demo channel's creator account, made on the first run; its password is
# kept (0600) in the data folder.
if [ ! -s "$data/demo-password" ]; then
  (umask 077; head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$data/demo-password")
  curl -fsS -o /dev/null -H 'Content-Type: application/json' \
    -d "{\"username\":\"demo\",\"password\":\"$(cat "$data/demo-password")\"}" \
    "$base/api/v1/accounts" || echo "glasscast: could not create the demo account"
fi

# The demo channel: a test pattern and tone, encoded, stamped with capture
# time (chatstamp: the room's chat and tips go into the video as emsg),
# packaged by llhlssink into the folder glasscastd serves.
gst-launch-1.0 -q -e \
  videotestsrc is-live=true pattern=smpte horizontal-speed=4 \
    ! video/x-raw,format=I420,width=1280,height=720,framerate=30/1 \
    ! x264enc tune=zerolatency speed-preset=veryfast key-int-max=600 bitrate=2500 \
    ! h264parse ! chatstamp redis-url="unix:$data/redis/redis.sock" \
        redis-channel='gc:chat:room:{demo}:events' \
    ! llhlssink name=out location="$media/demo" \
  audiotestsrc is-live=true wave=sine freq=440 \
    ! audio/x-raw,rate=48000,channels=2 ! audioconvert ! avenc_aac bitrate=128000 \
    ! aacparse ! out. &
writer=$!

cat <<EOF
glasscast: running (data in $data, media in $media); Ctrl-C stops.
  watch the demo with its chat:   $base/watch/demo
  LL-HLS for any player:          $base/live/demo/index.m3u8
  go live from the browser:       $base/ingest/studio   (stream key in $data/studio-stream-key)
  OBS (WHIP):                     $base/whip/studio     (Bearer token: the same key)
  creator account of both:        demo / password in $data/demo-password
EOF
wait "$daemon"
