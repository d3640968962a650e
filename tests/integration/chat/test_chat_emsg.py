#!/usr/bin/env python3
# test_chat_emsg.py — a chat event published to Redis appears as an emsg in the part covering its time:
# glasscastd's default pipeline (chatstamp before llhlssink), a WHIP publisher, a test-owned redis-server.
"""Run one test: test_chat_emsg.py <name>. Exit 0 pass, 1 fail, 77 skip.

Each test starts its own redis-server on a unix socket in its temp folder,
glasscastd with [chat] redis= pointing at it and one channel, and publishes
gc-whip-publish's test source. Events go on the room's events channel in
the chat service's own envelope (chat/REDIS.md), as another node would
PUBLISH them; the video worker's chatstamp (redis-url={redis},
redis-channel={chat-events}) puts them into the media.
"""

import datetime
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "whip"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import isobmff  # noqa: E402
import whiplib  # noqa: E402
from whiplib import (SKIP, check, element_available, fail, log, n_parts, run_tests,  # noqa: E402
                     segments, wait_for)

KEY = "chat-emsg-key-0123456789"
CHANNEL = "chan"
# chat/REDIS.md: "<prefix>room:{R}:events", default prefix gc:chat:, room = channel.
EVENTS = f"gc:chat:room:{{{CHANNEL}}}:events"
REDIS_SERVER = os.environ.get("REDIS_SERVER", shutil.which("redis-server") or "redis-server")
ID3_SCHEME = "https://aomedia.org/emsg/ID3"
# The test source is 30 fps: "within one frame".
FRAME = 1 / 30


# ---------------------------------------------------------------- Redis

class Redis:
    """redis-server on a unix socket in the test's folder, no persistence."""

    def __init__(self, tmp):
        self.sock = os.path.join(tmp, "redis.sock")
        self.log = open(os.path.join(tmp, "redis.log"), "w")
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", "0", "--unixsocket", self.sock, "--unixsocketperm", "700",
             "--save", "", "--appendonly", "no", "--dir", tmp],
            stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self):
        wait_for(lambda: os.path.exists(self.sock) and self.command("PING") == "PONG", 10,
                 "redis-server answering PING")

    def command(self, *args):
        """One RESP command; returns the decoded reply (None if Redis is not up)."""
        req = f"*{len(args)}\r\n".encode()
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode()
            req += f"${len(b)}\r\n".encode() + b + b"\r\n"
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(5)
                s.connect(self.sock)
                s.sendall(req)
                return self._reply(s.makefile("rb"))
        except OSError:
            return None

    def _reply(self, f):
        line = f.readline().rstrip(b"\r\n")
        kind, rest = line[:1], line[1:].decode()
        if kind == b"+":
            return rest
        if kind == b"-":
            fail(f"redis error: {rest}")
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else f.read(n + 2)[:-2].decode()
        if kind == b"*":
            return [self._reply(f) for _ in range(int(rest))]
        fail(f"unexpected redis reply {line!r}")

    def subscribers(self, channel):
        r = self.command("PUBSUB", "NUMSUB", channel)
        return r[1] if r else 0

    def publish(self, channel, payload):
        return self.command("PUBLISH", channel, payload)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.log.close()


# ---------------------------------------------------------------- playlists and parts

def parse_pdt(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def playlist_parts(text):
    """[{uri, msn, start, duration}] of every EXT-X-PART, start in Unix seconds:
    its segment's EXT-X-PROGRAM-DATE-TIME plus the durations of the parts
    before it (a segment without the tag follows the previous one)."""
    m = re.search(r"^#EXT-X-MEDIA-SEQUENCE:(\d+)", text, re.M)
    msn = int(m.group(1)) if m else 0
    parts, seg_pdt, offset, extinf = [], None, 0.0, None
    for line in text.splitlines():
        if line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            seg_pdt, offset = parse_pdt(line.split(":", 1)[1]), 0.0
        elif line.startswith("#EXT-X-PART:"):
            attrs = dict(re.findall(r'([A-Z-]+)=("[^"]*"|[^,]*)', line.split(":", 1)[1]))
            dur = float(attrs["DURATION"])
            check(seg_pdt is not None, f"a part before any EXT-X-PROGRAM-DATE-TIME:\n{text}")
            parts.append({"uri": attrs["URI"].strip('"'), "msn": msn, "start": seg_pdt + offset,
                          "duration": dur})
            offset += dur
        elif line.startswith("#EXTINF:"):
            extinf = float(line.split(":", 1)[1].split(",")[0])
        elif line and not line.startswith("#"):
            if seg_pdt is not None and extinf is not None:
                seg_pdt, offset = seg_pdt + extinf, 0.0
            msn += 1
    return parts


def init_info(folder, text):
    m = re.search(r'^#EXT-X-MAP:URI="([^"]+)"', text, re.M)
    check(m is not None, f"no EXT-X-MAP in {folder}")
    with open(os.path.join(folder, m.group(1)), "rb") as f:
        return isobmff.parse_init(f.read())


def read_emsgs(data):
    """Every top-level emsg of a CMAF file as a dict (version 1 only)."""
    out = []
    for typ, _bs, ps, be in isobmff.iter_boxes(data, 0, len(data), top=True):
        if typ != b"emsg":
            continue
        version = data[ps]
        check(version == 1, f"emsg version {version}, expected 1")
        timescale, pt, duration, ident = struct.unpack_from(">IQII", data, ps + 4)
        p = ps + 24
        scheme_end = data.index(b"\0", p)
        value_end = data.index(b"\0", scheme_end + 1)
        out.append({"timescale": timescale, "presentation_time": pt, "id": ident,
                    "scheme": data[p:scheme_end].decode(),
                    "value": data[scheme_end + 1:value_end].decode(),
                    "message": data[value_end + 1:be]})
    return out


def id3_txxx(tag):
    """(description, value) of the TXXX frames of an ID3v2.4 tag."""
    check(tag[:3] == b"ID3" and tag[3] == 4, f"not an ID3v2.4 tag: {tag[:10]!r}")

    def synchsafe(b):
        return (b[0] << 21) | (b[1] << 14) | (b[2] << 7) | b[3]

    end = 10 + synchsafe(tag[6:10])
    pos, frames = 10, []
    while pos + 10 <= end:
        fid, size = tag[pos:pos + 4], synchsafe(tag[pos + 4:pos + 8])
        body = tag[pos + 10:pos + 10 + size]
        if fid == b"TXXX":
            check(body[0] == 3, f"TXXX encoding {body[0]}, expected 3 (UTF-8)")
            desc, _, value = body[1:].partition(b"\0")
            frames.append((desc.decode(), value.decode()))
        pos += 10 + size
    return frames


class Snapshot:
    """One rendition's playlist, its parts (with their bytes) and segments,
    read together while they are still in the folder."""

    def __init__(self, gc, rendition):
        self.folder = os.path.join(gc.media, CHANNEL, rendition)
        with open(os.path.join(self.folder, "media.m3u8")) as f:
            self.text = f.read()
        self.info = init_info(self.folder, self.text)
        self.parts = []
        for p in playlist_parts(self.text):
            try:
                with open(os.path.join(self.folder, p["uri"]), "rb") as f:
                    p["data"] = f.read()
            except FileNotFoundError:
                continue
            p["emsgs"] = read_emsgs(p["data"])
            _types, frags = isobmff.parse_fragments(p["data"], self.info)
            p["tfdt"] = frags[0].tfdt
            last = frags[-1]
            p["last_sample_dts"] = last.tfdt + sum(last.durations[:-1])
            self.parts.append(p)
        self.segment_emsgs = 0
        for name in segments(self.text):
            try:
                with open(os.path.join(self.folder, name), "rb") as f:
                    self.segment_emsgs += len(read_emsgs(f.read()))
            except FileNotFoundError:
                pass

    def emsg_parts(self):
        return [p for p in self.parts if p["emsgs"]]

    def last_end(self):
        return max((p["start"] + p["duration"] for p in self.parts), default=0.0)

    def newest_part(self):
        """(msn, index) of the newest part listed, from its name part-M.I.m4s."""
        keys = [tuple(int(x) for x in re.match(r"part-(\d+)\.(\d+)\.m4s", p["uri"]).groups())
                for p in self.parts]
        return max(keys, default=(-1, -1))


# ---------------------------------------------------------------- the session

def start(ctx):
    """redis-server, glasscastd with [chat] redis= and one channel, a
    publisher; returns (gc, redis) once the channel plays and chatstamp has
    subscribed."""
    redis = ctx.redis = Redis(ctx.tmp)
    redis.wait_ready()
    gc = ctx.glasscastd({CHANNEL: KEY}, extra=f"[chat]\nredis=unix:{redis.sock}")
    ctx.publish(gc, CHANNEL, KEY)
    gc.wait_state(CHANNEL, "live", 20)
    wait_for(lambda: n_parts(gc.read_playlist(CHANNEL)) >= 6 and
             len(segments(gc.read_playlist(CHANNEL))) >= 2, 30,
             "a playlist with 6 parts and 2 segments")
    # The chat service itself subscribes only to rooms with viewers: with
    # none, the subscriber is the worker's chatstamp.
    wait_for(lambda: redis.subscribers(EVENTS) >= 1, 10, f"a subscriber on {EVENTS}")
    return gc, redis


def wait_past(gc, wall, rendition="video_0"):
    """Waits until the playlist's parts reach one second beyond @wall."""
    def reached():
        try:
            return Snapshot(gc, rendition).last_end() > wall + 1.0
        except (FileNotFoundError, isobmff.BoxError):
            return False
    wait_for(reached, 15, f"{rendition} parts past {wall:.3f}", interval=0.1)


def tip_envelope(ts_ms, ident):
    """A tip as another node of the chat service PUBLISHes it (REDIS.md,
    chat/service.c gc_chat_service_publish_tip)."""
    tip = {"type": "tip", "id": ident, "user": "bob", "display_name": "Bob", "amount": 500,
           "currency": "USD", "text": "gg", "ts": ts_ms}
    return json.dumps({"node": "test-node", "kind": "tip", "tip": tip}, separators=(",", ":"))


def check_event_in_its_part(video, payload, ts, published=None):
    """@payload is in exactly one emsg ID3 TXXX of @video, in the part
    covering @ts, its presentation time @ts within a frame. Returns the
    measured offsets (seconds) for the log."""
    hits = []
    for p in video.parts:
        for e in p["emsgs"]:
            texts = [v for _d, v in id3_txxx(e["message"])]
            if payload in texts:
                hits.append((p, e))
    check(len(hits) == 1, f"event found in {len(hits)} emsgs of the video parts, expected 1: "
          f"{[(p['uri'], e['id']) for p, e in hits]}")
    part, e = hits[0]
    check(e["scheme"] == ID3_SCHEME, f"emsg scheme {e['scheme']!r}")
    check([d for d, v in id3_txxx(e["message"]) if v == payload] == ["glasscast"],
          "TXXX description is not 'glasscast'")
    # Media time -> wall clock through the part's own start: the playlist's
    # PDT (+ earlier parts) is the wall clock of the part's tfdt.
    ts_scale = video.info["timescale"]
    check(e["timescale"] == ts_scale, f"emsg timescale {e['timescale']} != track {ts_scale}")
    event_wall = part["start"] + (e["presentation_time"] - part["tfdt"]) / ts_scale
    start, end = part["start"], part["start"] + part["duration"]
    log(f"event ts {ts:.3f}: in {part['uri']} [{start:.3f}, {end:.3f}) "
        f"(ts - part start {1000 * (ts - start):+.1f} ms, part end - ts {1000 * (end - ts):+.1f} ms), "
        f"presentation time - ts {1000 * (event_wall - ts):+.2f} ms")
    check(abs(event_wall - ts) <= FRAME,
          f"emsg presentation time is {1000 * (event_wall - ts):+.1f} ms from the event's ts")
    # chatstamp pushes an event just before the first frame captured at or
    # after its ts, and llhlssink writes it into that frame's part. So the
    # event is in the part covering ts, or in the next one when ts falls
    # after the previous part's last frame was captured (llhlssink publishes
    # a part as soon as its last frame arrives; a late or dropped frame
    # widens that gap beyond one frame duration). 1 ms for the PDT's
    # millisecond precision.
    i = video.parts.index(part)
    prev = video.parts[i - 1] if i > 0 else None
    prev_last = (prev["start"] + (prev["last_sample_dts"] - prev["tfdt"]) / ts_scale
                 if prev is not None else start - FRAME)
    # An event reaching chatstamp after that frame went through can only go
    # before the next frame (chatstamp README, "Events"): on a busy machine
    # the test's PUBLISH may come tens of ms after the stamp it carries. So a
    # later part is right only if the frame it missed was captured before the
    # PUBLISH had returned; never a part before the stamp.
    covered = start - 0.001 <= ts < end + 0.001
    after_prev_frame = ts < start and ts > prev_last - 0.001
    arrived_late = (ts < start and published is not None and ts <= prev_last <= published + 0.001)
    if arrived_late and not after_prev_frame:
        log(f"event at {ts:.3f} published at {published:.3f}: after the frame of {prev_last:.3f} had gone "
            "through, so in the next part")
    check(covered or after_prev_frame or arrived_late,
          f"event at {ts:.3f} (published by {published if published is None else f'{published:.3f}'}) "
          f"written in part {part['uri']} covering [{start:.3f}, {end:.3f}); "
          f"the previous part's last frame was captured at {prev_last:.3f}")
    return part


# ---------------------------------------------------------------- tests

def test_tip_emsg(ctx):
    """A tip published on the room's events channel is an emsg ID3 TXXX in
    the video part covering its ts; the audio rendition gets none. Three
    tips 330 ms apart, so they fall at different places in their parts."""
    gc, redis = start(ctx)
    sent = []
    for i in range(3):
        if i:
            time.sleep(0.33)
        ts_ms = int(time.time() * 1000)
        payload = tip_envelope(ts_ms, f"tip-{i}")
        check(redis.publish(EVENTS, payload) >= 1, "nobody received the PUBLISH")
        sent.append((payload, ts_ms / 1000, time.time()))
    wait_past(gc, sent[-1][1])
    video = Snapshot(gc, "video_0")
    audio = Snapshot(gc, "audio_0")
    for payload, ts, published in sent:
        check_event_in_its_part(video, payload, ts, published)
    check(sum(len(p["emsgs"]) for p in video.parts) == len(sent),
          f"{sum(len(p['emsgs']) for p in video.parts)} emsgs in the video parts, "
          f"expected {len(sent)}")
    check(video.segment_emsgs <= len(sent), f"{video.segment_emsgs} emsgs in the video segments")
    check(not audio.emsg_parts() and audio.segment_emsgs == 0,
          f"emsg in the audio rendition: {[p['uri'] for p in audio.emsg_parts()]}")


def test_malformed_ignored(ctx):
    """Payloads that are no JSON object change nothing: no emsg, the worker
    and the stream go on, and a good event after them still arrives."""
    gc, redis = start(ctx)
    workers = gc.workers()
    before = Snapshot(gc, "video_0")
    check(not before.emsg_parts(), "emsg before any event")
    sent = time.time()
    for bad in ("not json", "{\"kind\":\"tip\",", "[1,2,3]", "42", "", "\"ts\"",
                b"\xff\xfe\x00binary", "{\"kind\":\"held\",\"message\":{\"ts\":1}}",
                "{\"kind\":\"resync\"}"):
        redis.publish(EVENTS, bad)
    wait_past(gc, sent)
    after = Snapshot(gc, "video_0")
    check(not after.emsg_parts() and after.segment_emsgs == 0,
          f"emsg after malformed payloads: {[p['uri'] for p in after.emsg_parts()]}")
    check(gc.workers() == workers, f"worker changed: {workers} -> {gc.workers()}")
    check(gc.channel(CHANNEL)["state"] == "live", "channel no longer live")
    # Parts kept coming: counted by their numbers, not by their program date
    # times (those may step at a discontinuity when a loaded box delays the
    # WebRTC stream).
    newer = [p for p in after.parts
             if tuple(int(x) for x in re.match(r"part-(\d+)\.(\d+)\.m4s", p["uri"]).groups())
             > before.newest_part()]
    check(sum(p["duration"] for p in newer) >= 1.0,
          f"the stream did not go on: {len(newer)} parts after {before.newest_part()} "
          f"({sum(p['duration'] for p in newer):.3f} s)")
    ts_ms = int(time.time() * 1000)
    payload = tip_envelope(ts_ms, "tip-after")
    check(redis.publish(EVENTS, payload) >= 1, "nobody received the PUBLISH")
    published = time.time()
    wait_past(gc, ts_ms / 1000)
    check_event_in_its_part(Snapshot(gc, "video_0"), payload, ts_ms / 1000, published)


TESTS = {"tip-emsg": test_tip_emsg, "malformed-ignored": test_malformed_ignored}


def main():
    if not shutil.which(REDIS_SERVER) and not os.path.exists(REDIS_SERVER):
        print(f"SKIP: {REDIS_SERVER} not found")
        sys.exit(SKIP)
    if not element_available("chatstamp"):
        print("SKIP: GStreamer element chatstamp is not available (GST_PLUGIN_PATH)")
        sys.exit(SKIP)
    # whiplib's Context stops publishers and glasscastd; Redis, which only
    # these tests start, goes down after them.
    close = whiplib.Context.close

    def close_with_redis(self, quiet=False):
        try:
            close(self, quiet)
        finally:
            if getattr(self, "redis", None):
                self.redis.stop()
    whiplib.Context.close = close_with_redis
    run_tests(TESTS)


if __name__ == "__main__":
    main()
