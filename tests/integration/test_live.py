#!/usr/bin/env python3
# test_live.py — a live H.264 + AAC pipeline into llhlssink: every snapshot of the folder
# while it runs is valid LL-HLS, and after SIGINT (EOS) the final folder is valid and ended.
import os
import time

from gclib import (LIVE_AUDIO, LIVE_VIDEO, Pipeline, check, hlscheck, log, main, media_playlists,
                   parse_media_playlist, run_checker, wait_for)

RUN_SECONDS = 10
TARGET = 2


@main
def test_live(tmp):
    out = os.path.join(tmp, "out")
    p = Pipeline(f"{LIVE_VIDEO} ! llhlssink name=s location={out} {LIVE_AUDIO} ! s.", tmp)
    started = time.monotonic()
    wait_for(lambda: os.path.exists(os.path.join(out, "index.m3u8")) or not p.alive(), 15,
             "index.m3u8 to appear")
    check(p.alive(), f"pipeline ended early:\n{p.output()[-2000:]}")

    # Snapshots while live: each one must pass the checker as a live folder,
    # carry parts and exactly one preload hint, and the live edge must move.
    edges = []
    while time.monotonic() - started < RUN_SECONDS:
        time.sleep(1.3)
        check(p.alive(), f"pipeline died while live:\n{p.output()[-2000:]}")
        run_checker(out, live=True, context=f"snapshot at {time.monotonic() - started:.1f} s")
        for name, path in media_playlists(out):
            pl = parse_media_playlist(path)
            check(not pl.endlist, f"{name}: EXT-X-ENDLIST while the pipeline is live")
            check(any(s.parts for s in pl.segments), f"{name}: live playlist lists no EXT-X-PART")
            check(len([h for h in pl.preload_hints if h[0].get("TYPE") == "PART"]) == 1,
                  f"{name}: live playlist needs exactly one EXT-X-PRELOAD-HINT TYPE=PART")
            if name == "video_0":
                last = pl.segments[-1]
                edges.append((last.msn, len(last.parts)))
    check(len(edges) >= 4, f"only {len(edges)} live snapshots were taken")
    check(edges[-1] > edges[0], f"the live edge did not advance: {edges}")
    log(f"live edges (msn, parts) seen: {edges}")

    rc = p.stop()
    p.assert_clean_exit(rc)

    # The final folder: ended, no parts or hints, and the media checks, which
    # include "every video segment starts with a sync sample holding an IDR".
    report = run_checker(out, live=False, media=True, context="after EOS")
    check(report.media_files > 0, "the --media pass parsed no files")
    names = [n for n, _ in media_playlists(out)]
    check(sorted(names) == ["audio_0", "video_0"], f"unexpected renditions {names}")
    for name, path in media_playlists(out):
        pl = parse_media_playlist(path)
        check(pl.endlist, f"{name}: no EXT-X-ENDLIST after EOS")
        check(not any(s.parts for s in pl.segments), f"{name}: parts still listed after EOS")
        check(not pl.preload_hints, f"{name}: preload hint still present after EOS")
        check(len(pl.segments) >= 4, f"{name}: only {len(pl.segments)} segments in ~{RUN_SECONDS} s")

    # key-int-max=600 is a 20 s GOP: keyframes every 2 s exist only because the
    # element asked for them. Check each video segment explicitly as well.
    vpath = dict(media_playlists(out))["video_0"]
    pl = parse_media_playlist(vpath)
    vdir = os.path.dirname(vpath)
    with open(os.path.join(vdir, pl.segments[0].map_uri), "rb") as f:
        info = hlscheck.parse_init(f.read())
    for seg in pl.segments:
        with open(os.path.join(vdir, seg.uri), "rb") as f:
            data = f.read()
        _types, frags = hlscheck.parse_fragments(data, info)
        first = frags[0]
        check(hlscheck.is_sync(first.flags[0]), f"video {seg.uri}: first sample is not a sync sample")
        nals = hlscheck.nal_types(data[first.sample_offsets[0]:first.sample_offsets[0] + first.sizes[0]],
                                  info["nal_length_size"])
        check(5 in nals, f"video {seg.uri}: first sample has no IDR NAL (types {nals})")
        keyframes = sum(1 for fr in frags for fl in fr.flags if hlscheck.is_sync(fl))
        check(keyframes == 1, f"video {seg.uri}: {keyframes} sync samples; expected exactly one (at its start)")
    for seg in pl.segments[:-1]:
        check(abs(seg.duration - TARGET) < 1 / 30 + 0.001,
              f"video {seg.uri}: EXTINF {seg.duration}, expected {TARGET} s (+-1 frame) with keyframe requests")


if __name__ == "__main__":
    test_live()
