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
    # chatstamp's debug lines (in the worker's stderr, which is glasscastd's
    # log) say which events arrived after their frame had gone through.
    debug = os.environ.get("GST_DEBUG")
    os.environ["GST_DEBUG"] = f"{debug},chatstamp:5" if debug else "chatstamp:5"
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


def wait_for_events(gc, payloads):
    """Waits until every one of @payloads is in an emsg of a listed video
    part and a part follows the one holding it (so the parts around it are
    final), and returns that snapshot. Not by program date time: those may
    step at a discontinuity when a loaded box delays the WebRTC stream."""
    box = {}

    def arrived():
        try:
            snap = Snapshot(gc, "video_0")
        except (FileNotFoundError, isobmff.BoxError):
            return False
        last = -1
        for payload in payloads:
            where = [i for i, p in enumerate(snap.parts)
                     for e in p["emsgs"] if payload in [v for _d, v in id3_txxx(e["message"])]]
            if not where:
                return False
            last = max(last, max(where))
        box["snap"] = snap
        return last + 1 < len(snap.parts)
    wait_for(arrived, 15, f"{len(payloads)} event(s) in the video parts", interval=0.1)
    return box["snap"]


def tip_envelope(ts_ms, ident):
    """A tip as another node of the chat service PUBLISHes it (REDIS.md,
    chat/service.c gc_chat_service_publish_tip)."""
    tip = {"type": "tip", "id": ident, "user": "bob", "display_name": "Bob", "amount": 500,
           "currency": "USD", "text": "gg", "ts": ts_ms}
    return json.dumps({"node": "test-node", "kind": "tip", "tip": tip}, separators=(",", ":"))


def chatstamp_late_events(gc):
    """{event ts in ms: capture time (s) of the last frame chatstamp had let
    through when the event arrived}, from its debug lines in @gc's log, for
    the events it reported as already past on arrival."""
    late = {}
    with open(gc.log_path, errors="replace") as f:
        for m in re.finditer(r"event \d+ at (\d+) ns already past: the last buffer was captured "
                             r"at (\d+) ns", f.read()):
            late[int(m.group(1)) // 1_000_000] = int(m.group(2)) / 1e9
    return late


def check_event_in_its_part(video, payload, ts, gc):
    """@payload is in exactly one emsg ID3 TXXX of @video, in the part
    covering @ts, its presentation time @ts within a frame. Returns the
    measured offsets (seconds) for the log. @gc's log holds chatstamp's
    debug lines (start() turns them on)."""
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
    part_last = start + (part["last_sample_dts"] - part["tfdt"]) / ts_scale
    covered = start - 0.001 <= ts < end + 0.001
    after_prev_frame = ts < start and ts > prev_last - 0.001
    if covered or after_prev_frame:
        return part
    # An event that reaches chatstamp after the frame it belongs before has
    # gone through (a busy machine delays the PUBLISH or its delivery to the
    # worker) can only go before the next frame (chatstamp README,
    # "Events"). chatstamp's debug log names the last frame it had let
    # through when the event arrived: the event must be in the part of the
    # frame right after that one, never earlier, never later.
    passed = chatstamp_late_events(gc).get(round(ts * 1000))
    check(passed is not None,
          f"event at {ts:.3f} written in part {part['uri']} covering [{start:.3f}, {end:.3f}) "
          f"(the previous part's last frame was captured at {prev_last:.3f}), and chatstamp "
          "did not report it as arriving late")
    log(f"event at {ts:.3f} reached chatstamp after the frame of {passed:.3f} had gone through")
    check(passed >= ts - 0.001, f"chatstamp reported the event at {ts:.3f} late after a frame "
          f"captured at {passed:.3f}, before the event's own time")
    check(prev_last - FRAME / 2 < passed < part_last - FRAME / 2,
          f"event at {ts:.3f} arrived after the frame of {passed:.3f} had gone through, but is in "
          f"part {part['uri']} whose frames are [{start:.3f}, {part_last:.3f}] (previous part's "
          f"last frame {prev_last:.3f}): not the part of the next frame")
    return part


# ---------------------------------------------------------------- tests

def test_tip_emsg(ctx):
    """A tip published on the room's events channel is an emsg ID3 TXXX in
    the video part covering its ts; the audio rendition gets none. Three
    tips 330 ms apart, so they fall at different places in their parts, and
    one that arrives half a second after its stamp."""
    gc, redis = start(ctx)
    sent = []
    for i in range(3):
        if i:
            time.sleep(0.33)
        ts_ms = int(time.time() * 1000)
        payload = tip_envelope(ts_ms, f"tip-{i}")
        check(redis.publish(EVENTS, payload) >= 1, "nobody received the PUBLISH")
        sent.append((payload, ts_ms / 1000))
    # One more stamped half a second ago, as an event delayed on its way
    # (another node, Redis) reaches chatstamp after its frame went through:
    # it goes before the next frame, with its own presentation time.
    time.sleep(0.33)
    ts_ms = int(time.time() * 1000) - 500
    payload = tip_envelope(ts_ms, "tip-late")
    check(redis.publish(EVENTS, payload) >= 1, "nobody received the PUBLISH")
    sent.append((payload, ts_ms / 1000))
    video = wait_for_events(gc, [p for p, _ts in sent])
    audio = Snapshot(gc, "audio_0")
    for payload, ts in sent:
        check_event_in_its_part(video, payload, ts, gc)
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
    for bad in ("not json", "{\"kind\":\"tip\",", "[1,2,3]", "42", "", "\"ts\"",
                b"\xff\xfe\x00binary", "{\"kind\":\"held\",\"message\":{\"ts\":1}}",
                "{\"kind\":\"resync\"}"):
        redis.publish(EVENTS, bad)
    # The stream goes on: parts counted by their numbers, not by their
    # program date times (those may step at a discontinuity when a loaded box
    # delays the WebRTC stream), a second of them after the payloads.
    def newer_parts():
        snap = Snapshot(gc, "video_0")
        return snap, [p for p in snap.parts
                      if tuple(int(x) for x in re.match(r"part-(\d+)\.(\d+)\.m4s", p["uri"]).groups())
                      > before.newest_part()]

    def went_on():
        try:
            return sum(p["duration"] for p in newer_parts()[1]) >= 1.0
        except (FileNotFoundError, isobmff.BoxError):
            return False
    wait_for(went_on, 15, f"a second of parts after {before.newest_part()} (the stream going on)",
             interval=0.1)
    after = newer_parts()[0]
    check(not after.emsg_parts() and after.segment_emsgs == 0,
          f"emsg after malformed payloads: {[p['uri'] for p in after.emsg_parts()]}")
    check(gc.workers() == workers, f"worker changed: {workers} -> {gc.workers()}")
    check(gc.channel(CHANNEL)["state"] == "live", "channel no longer live")
    ts_ms = int(time.time() * 1000)
    payload = tip_envelope(ts_ms, "tip-after")
    check(redis.publish(EVENTS, payload) >= 1, "nobody received the PUBLISH")
    check_event_in_its_part(wait_for_events(gc, [payload]), payload, ts_ms / 1000, gc)


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
