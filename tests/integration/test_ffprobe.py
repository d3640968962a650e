#!/usr/bin/env python3
# test_ffprobe.py — every segment of every rendition, prefixed with its init segment, is
# read by ffprobe without complaint, and packet timestamps run on across segment boundaries.
import os
from fractions import Fraction

from gclib import (check, ffprobe_json, h264_encoder, log, main, media_playlists,
                   parse_media_playlist, run_checker, run_pipeline, video_caps)

FRAMES = 300              # 10 s at 30 fps
AUDIO_BUFFERS = 300       # 300 x 1470 samples at 44.1 kHz = 10 s


def probe_segment(path):
    rc, js, err = ffprobe_json(["-show_entries", "packet=pts,dts,duration,flags:stream=codec_type,time_base",
                                "-show_packets", "-show_streams", path])
    check(rc == 0 and not err.strip(), f"ffprobe {os.path.basename(path)}: rc={rc} errors:\n{err}")
    streams = js.get("streams", [])
    check(len(streams) == 1, f"{os.path.basename(path)}: {len(streams)} streams, expected one")
    packets = js.get("packets", [])
    check(packets, f"{os.path.basename(path)}: no packets")
    for i, pk in enumerate(packets):
        for key in ("pts", "dts"):
            check(key in pk, f"{os.path.basename(path)}: packet without {key}: {pk}")
        # ffprobe leaves the duration of a fragmented file's very first packet
        # unset (it does so for ffmpeg's own fMP4 too); it is the gap to the next.
        if "duration" not in pk:
            check(i == 0, f"{os.path.basename(path)}: packet {i} without duration: {pk}")
            pk["duration"] = int(packets[1]["dts"]) - int(pk["dts"]) if len(packets) > 1 else None
    return streams[0], packets


@main
def test_ffprobe(tmp):
    out = os.path.join(tmp, "out")
    run_pipeline(f"videotestsrc num-buffers={FRAMES} pattern=ball ! {video_caps()} ! {h264_encoder()} ! "
                 f"llhlssink name=s location={out} "
                 f"audiotestsrc num-buffers={AUDIO_BUFFERS} samplesperbuffer=1470 wave=sine ! "
                 f"audio/x-raw,rate=44100 ! audioconvert ! avenc_aac ! aacparse ! s.", tmp, timeout=60)
    run_checker(out, media=True, context="finished folder")

    for name, path in media_playlists(out):
        pl = parse_media_playlist(path)
        rdir = os.path.dirname(path)
        check(len(pl.segments) >= 4, f"{name}: only {len(pl.segments)} segments")
        prev_end = None
        total_packets = 0
        for seg in pl.segments:
            joined = os.path.join(tmp, f"{name}-{seg.msn}.mp4")
            with open(joined, "wb") as f:
                for part in (seg.map_uri, seg.uri):
                    with open(os.path.join(rdir, part), "rb") as src:
                        f.write(src.read())
            stream, packets = probe_segment(joined)
            os.unlink(joined)
            tb = Fraction(stream["time_base"])
            kind = stream["codec_type"]
            total_packets += len(packets)
            if kind == "video":
                check("K" in packets[0]["flags"],
                      f"{name} {seg.uri}: first video packet is not flagged K (flags {packets[0]['flags']!r})")
            dts = [int(pk["dts"]) for pk in packets]
            check(all(b > a for a, b in zip(dts, dts[1:])), f"{name} {seg.uri}: dts not increasing")
            for a, b in zip(packets, packets[1:]):
                gap = int(b["dts"]) - (int(a["dts"]) + int(a["duration"]))
                check(abs(gap) <= 1, f"{name} {seg.uri}: dts gap of {gap} ticks inside the segment at dts {b['dts']}")
            first = int(packets[0]["dts"])
            check(prev_end != -1, f"{name}: segment {seg.msn - 1} is a single packet without duration, "
                                  "so continuity into the next segment cannot be checked")
            if prev_end is not None:
                gap = first - prev_end
                frame = packets[0]["duration"]
                check(abs(gap) <= 1,
                      f"{name}: segment {seg.msn} starts at dts {first} but segment {seg.msn - 1} ended at "
                      f"{prev_end} ({gap} ticks = {float(gap * tb) * 1000:.3f} ms; one frame is {frame} ticks)")
            last = packets[-1]
            prev_end = -1 if last["duration"] is None else int(last["dts"]) + int(last["duration"])
        log(f"{name}: {len(pl.segments)} segments, {total_packets} packets, continuous")
        if name.startswith("video"):
            check(total_packets == FRAMES, f"{name}: {total_packets} video packets, expected {FRAMES}")


if __name__ == "__main__":
    test_ffprobe()
