#!/usr/bin/env python3
# test_vod_playback.py — a VOD folder from llhlssink, served over HTTP on 127.0.0.1, plays
# through hlsdemux2 (uridecodebin3) with exactly as many video frames as were encoded.
import os
import re
import subprocess

from gclib import (check, fail, h264_encoder, log, main, media_playlists, parse_media_playlist,
                   run_checker, run_pipeline, serve_folder, video_caps)

FRAMES = 300                    # 10 s at 30 fps
RATE = 44100
AUDIO_BUFFERS = 300             # x 1470 samples = 10 s


def count_frames_binary():
    path = os.environ.get("HLS_COUNT_FRAMES")
    if not path:
        fail("HLS_COUNT_FRAMES is not set (meson sets it to the built hls-count-frames)")
    check(os.access(path, os.X_OK), f"{path} is not an executable")
    return path


@main
def test_vod_playback(tmp):
    counter = count_frames_binary()
    out = os.path.join(tmp, "out")
    run_pipeline(f"videotestsrc num-buffers={FRAMES} pattern=ball ! {video_caps()} ! {h264_encoder()} ! "
                 f"llhlssink name=s location={out} playlist-type=vod "
                 f"audiotestsrc num-buffers={AUDIO_BUFFERS} samplesperbuffer=1470 wave=sine ! "
                 f"audio/x-raw,rate={RATE} ! audioconvert ! avenc_aac ! aacparse ! s.", tmp, timeout=60)
    run_checker(out, media=True, context="VOD folder")
    for name, path in media_playlists(out):
        pl = parse_media_playlist(path)
        check(pl.endlist, f"{name}: VOD playlist without EXT-X-ENDLIST")
        check(pl.playlist_type == "VOD", f"{name}: EXT-X-PLAYLIST-TYPE is {pl.playlist_type!r}, expected VOD")
        check(pl.media_sequence == 0 and pl.segments and pl.segments[0].msn == 0,
              f"{name}: a VOD playlist must keep every segment from 0")

    with serve_folder(out) as base:
        uri = f"{base}/index.m3u8"
        log(f"decoding {uri} with uridecodebin3 (hlsdemux2)")
        env = dict(os.environ, GST_DEBUG=os.environ.get("GST_DEBUG", "*:1"))
        r = subprocess.run([counter, uri, "60"], capture_output=True, text=True, timeout=90, env=env)
    log(f"hls-count-frames: {r.stdout.strip()}")
    check(r.returncode == 0, f"hls-count-frames exited {r.returncode}:\n{r.stdout}\n{r.stderr[-3000:]}")
    m = dict(re.findall(r"(\w+)=([0-9.]+)", r.stdout))
    check(int(m.get("video_streams", 0)) == 1 and int(m.get("audio_streams", 0)) == 1,
          f"expected one video and one audio stream: {r.stdout.strip()}")
    frames = int(m["video_frames"])
    check(frames == FRAMES, f"decoded {frames} video frames through hlsdemux2, encoded {FRAMES}")
    rate = int(m["audio_rate"])
    check(rate > 0, "no audio was decoded")
    audio_s = int(m["audio_samples"]) / rate
    video_s = frames / 30
    check(abs(audio_s - video_s) <= 0.100,
          f"audio lasts {audio_s:.3f} s but video {video_s:.3f} s (more than 100 ms apart)")


if __name__ == "__main__":
    test_vod_playback()
