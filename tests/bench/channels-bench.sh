#!/usr/bin/env bash
# channels-bench.sh — concurrent WHIP passthrough channels on this machine: one glasscastd (127.0.0.1, port 0),
# N channels, N gc-whip-publish publishers of a pre-encoded 720p30 2.5 Mbit/s H.264 + Opus clip, CPU per process.
#
# Usage: tests/bench/channels-bench.sh [options]
#   --build DIR        meson build folder (default: build)
#   --channels LIST    comma-separated channel counts, run in order (default 1,5,10,20)
#   --window S         seconds measured per run, after all channels are live and a warm-up (default 30)
#   --warmup S         seconds between "all live" and the window (default 5)
#   --stagger S        seconds between publisher starts (default 0.25)
#   --audio MODE       worker pipeline: transcode (glasscastd's default: opusdec ... avenc_aac),
#                      opus-passthrough (Opus into llhlssink), audio-dropped (audio to fakesink)
#   --stop-on-fail     stop at the first channel count that is not healthy
#   --keep             keep each run's temp folder (under /dev/shm)
# The clip (videotestsrc smpte with motion, x264enc bitrate=2500 key-int-max=60 tune=zerolatency
# scenecut=0, constrained-baseline, Opus 64 kbit/s, in MP4: Matroska's 1 ms timestamps would give 33/34 ms
# frames) is encoded once and cached in
# ${XDG_CACHE_HOME:-~/.cache}/glasscast-bench/. It lasts 150 s, enough for the ramp, warm-up and
# window of one run (gc-whip-publish paces by the file's timestamps from its own start). scenecut=0:
# the moving smpte pattern makes x264 insert an IDR every 6 frames; this gives one every 2 s, like OBS.
# Prints one RESULT line per run and a summary; docs/benchmarks.md ("Concurrent WHIP channels") has the
# figures and how to read them. Everything runs on 127.0.0.1 and is stopped at the end of each run.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$root/build"
py_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$(cd "$2" && pwd)"; shift 2 ;;
    --channels|--window|--warmup|--audio|--stagger) py_args+=("$1" "$2"); shift 2 ;;
    --stop-on-fail|--keep) py_args+=("$1"); shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

for exe in orchestrator/glasscastd orchestrator/glasscast-worker examples/whip-publish/gc-whip-publish; do
  [ -x "$build/$exe" ] || { echo "SKIP: $build/$exe is not built"; exit 77; }
done
export GLASSCASTD="$build/orchestrator/glasscastd"
export GC_WHIP_PUBLISH="$build/examples/whip-publish/gc-whip-publish"
export GST_PLUGIN_PATH="$build/plugins/llhls:$build/plugins/whip:$build/plugins/chatstamp${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
export PYTHONDONTWRITEBYTECODE=1
# A registry of our own: the shared ~/.cache one is rewritten whenever a process with another
# GST_PLUGIN_PATH runs (other build trees on this box), and then every worker that starts rescans
# all plugins, slowly enough under load to miss glasscastd's 1.5 s heartbeat timeout.
cache="${XDG_CACHE_HOME:-$HOME/.cache}/glasscast-bench"
mkdir -p "$cache"
export GST_REGISTRY="$cache/registry-$(printf %s "$build" | md5sum | cut -c1-8).bin"
for element in whipserversrc llhlssink webrtcbin x264enc opusenc avenc_aac; do
  gst-inspect-1.0 "$element" >/dev/null 2>&1 || { echo "SKIP: GStreamer element $element is missing"; exit 77; }
done

# ---- the clip, once ----
clip_seconds=150
clip="$cache/smpte-720p30-2500k-idr60-opus-${clip_seconds}s.mp4"
if [ ! -s "$clip" ]; then
  echo "== encoding $clip (once; ${clip_seconds} s of 720p30)"
  frames=$((clip_seconds * 30))
  gst-launch-1.0 -q \
    videotestsrc pattern=smpte horizontal-speed=4 num-buffers="$frames" \
    ! video/x-raw,width=1280,height=720,framerate=30/1 \
    ! x264enc bitrate=2500 key-int-max=60 tune=zerolatency speed-preset=veryfast \
             option-string=scenecut=0 \
    ! video/x-h264,profile=constrained-baseline ! h264parse ! mp4mux name=mux \
    ! filesink location="$clip.part" \
    audiotestsrc wave=sine samplesperbuffer=960 num-buffers=$((clip_seconds * 50)) \
    ! audio/x-raw,rate=48000,channels=2 ! opusenc bitrate=64000 ! mux.
  mv "$clip.part" "$clip"
fi
echo "== clip $clip: $(( $(stat -c %s "$clip") * 8 / clip_seconds / 1000 )) kbit/s on average (video + audio)"
echo "== $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $(gst-launch-1.0 --version | sed -n 2p)"
echo "== HEAD $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')" \
     "$(git -C "$root" status --porcelain 2>/dev/null | grep -q . && echo '(with uncommitted changes)')"

exec timeout --signal=INT --kill-after=30 3000 \
  python3 "$here/channels-bench.py" --clip "$clip" "${py_args[@]}"
