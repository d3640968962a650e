#!/usr/bin/env python3
# test_multi_rendition.py — two video pads (720p and 360p from one tee) plus audio: the
# multivariant playlist lists both variants with the right RESOLUTION, and every playlist is valid.
import os
import re
import time

from gclib import (LIVE_AUDIO, Pipeline, check, h264_encoder, hlscheck, log, main, media_playlists,
                   parse_media_playlist, run_checker, video_caps, wait_for)

RUN_SECONDS = 8
SIZES = {"video_0": (1280, 720, 1500), "video_1": (640, 360, 400)}   # width, height, kbit/s


@main
def test_multi_rendition(tmp):
    out = os.path.join(tmp, "out")
    (w0, h0, b0), (w1, h1, b1) = SIZES["video_0"], SIZES["video_1"]
    desc = (f"videotestsrc is-live=true pattern=ball ! {video_caps(w0, h0)} ! tee name=t "
            f"t. ! queue ! {h264_encoder(f'bitrate={b0}')} ! s.video_0 "
            f"t. ! queue ! videoscale ! {video_caps(w1, h1)} ! {h264_encoder(f'bitrate={b1}')} ! s.video_1 "
            f"{LIVE_AUDIO} ! s.audio_0 "
            f"llhlssink name=s location={out}")
    p = Pipeline(desc, tmp)
    started = time.monotonic()
    wait_for(lambda: os.path.exists(os.path.join(out, "index.m3u8")) or not p.alive(), 15,
             "index.m3u8 to appear")
    check(p.alive(), f"pipeline ended early:\n{p.output()[-2000:]}")
    snapshots = 0
    while time.monotonic() - started < RUN_SECONDS:
        time.sleep(2)
        run_checker(out, live=True, context=f"snapshot at {time.monotonic() - started:.1f} s")
        snapshots += 1
    check(snapshots >= 2, "too few live snapshots")
    rc = p.stop()
    p.assert_clean_exit(rc)
    run_checker(out, media=True, context="after EOS")

    # The multivariant playlist: two variants, each naming its own size and the audio group.
    with open(os.path.join(out, "index.m3u8")) as f:
        lines = [ln.strip() for ln in f if ln.strip()]
    variants = {}
    for i, ln in enumerate(lines):
        if ln.startswith("#EXT-X-STREAM-INF:"):
            attrs = {k: v for k, (v, _q) in hlscheck.parse_attribute_list(ln.split(":", 1)[1]).items()}
            variants[os.path.dirname(lines[i + 1])] = attrs
    check(sorted(variants) == ["video_0", "video_1"], f"variants listed: {sorted(variants)}")
    for name, attrs in variants.items():
        w, h, _kbps = SIZES[name]
        check(attrs.get("RESOLUTION") == f"{w}x{h}",
              f"{name}: RESOLUTION={attrs.get('RESOLUTION')}, expected {w}x{h}")
        check(attrs.get("AUDIO") == "audio", f"{name}: AUDIO={attrs.get('AUDIO')!r}, expected \"audio\"")
        check(re.search(r"avc1\.", attrs.get("CODECS", "")) and "mp4a.40.2" in attrs.get("CODECS", ""),
              f"{name}: CODECS={attrs.get('CODECS')!r} should name avc1 and mp4a.40.2")
    check(int(variants["video_0"]["BANDWIDTH"]) > int(variants["video_1"]["BANDWIDTH"]),
          f"the 720p variant's BANDWIDTH {variants['video_0']['BANDWIDTH']} is not above the "
          f"360p variant's {variants['video_1']['BANDWIDTH']}")
    audio_media = [ln for ln in lines if ln.startswith("#EXT-X-MEDIA:")]
    check(len(audio_media) == 1 and 'TYPE=AUDIO' in audio_media[0] and 'GROUP-ID="audio"' in audio_media[0],
          f"expected one EXT-X-MEDIA TYPE=AUDIO GROUP-ID=\"audio\": {audio_media}")

    # Renditions advance together: the same segment numbers everywhere.
    counts = {}
    for name, path in media_playlists(out):
        pl = parse_media_playlist(path)
        counts[name] = [s.msn for s in pl.segments]
    log(f"segments per rendition: { {k: len(v) for k, v in counts.items()} }")
    check(len({tuple(v) for v in counts.values()}) == 1, f"renditions hold different segments: {counts}")
    check(len(counts["video_0"]) >= 3, f"only {len(counts['video_0'])} segments in ~{RUN_SECONDS} s")


if __name__ == "__main__":
    test_multi_rendition()
