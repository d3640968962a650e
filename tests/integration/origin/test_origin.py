#!/usr/bin/env python3
# test_origin.py — integration tests of glasscastd's LL-HLS origin against a live llhlssink writer.
# One behaviour per test, chosen by argv[1]; meson registers each as origin-<name> (suite 'integration').
"""Run one test: test_origin.py <name>. Exit 0 pass, 1 fail, 77 skip."""

import os
import re
import signal
import socket
import time

from originlib import (FirstSeen, check, edge, fail, has_part, last_complete, log,
                       media_sequence, preload_hint, run_tests, segments)

PL = "/live/chan/video_0/media.m3u8"
TD = 1          # target duration of the writers, seconds
PART = 0.2      # part target, seconds
# How late an answer may come after the writer published what it waited for.
# Generous: tests run in parallel with encoders on a 2-core machine.
PROMPT = 0.25


def playlist_has(msn, part):
    return lambda data: has_part(data.decode("utf-8", "replace"), msn, part)


def check_json_error(r, status):
    check(r.status == status, f"expected {status}, got {r!r}")
    try:
        err = r.json()["error"]
    except (ValueError, KeyError, TypeError):
        fail(f"error body is not {{\"error\":{{...}}}}: {r.body!r}")
    check(isinstance(err.get("code"), str) and isinstance(err.get("message"), str),
          f"error lacks code/message: {err!r}")
    check(r.headers.get("cache-control") == "no-store",
          f"error responses must not be cached: {r.headers.get('cache-control')!r}")


def start(ctx, segments_needed=2, **kw):
    w = ctx.writer(**kw)
    w.wait_segments(segments_needed)
    o = ctx.origin()
    return w, o


def check_held_then_prompt(r, seen, what):
    check(seen is not None, f"{what}: the writer never published it")
    check(seen > r.sent, f"{what}: already published when asked (test raced the writer)")
    # The watcher polls every 2 ms, so it may see the rename a little after
    # the origin (which is woken by inotify) has already answered.
    check(r.received >= seen - 0.01,
          f"{what}: answered {seen - r.received:.3f}s before the writer published it")
    late = max(0.0, r.received - seen)
    check(late < PROMPT, f"{what}: answered {late:.3f}s after it was published (not prompt)")
    log(f"{what}: held {r.elapsed:.3f}s, answered {late * 1000:.1f} ms after publication")


# ------------------------------------------------------------------ blocking

def test_blocking_part(ctx):
    """_HLS_msn/_HLS_part: held until the playlist holds that part, then answered at once."""
    w, o = start(ctx)
    for _ in range(3):
        text = o.get(PL).text
        msn, part = edge(text)
        # two parts ahead: must wait at least one part interval
        want = (msn, part + 2)
        seen = FirstSeen(w.playlist_path(), playlist_has(*want))
        r = o.get(f"{PL}?_HLS_msn={want[0]}&_HLS_part={want[1]}")
        check(r.status == 200, f"blocking reload answered {r!r}")
        check(has_part(r.text, *want), f"answer does not hold part {want}: edge {edge(r.text)}")
        check_held_then_prompt(r, seen.result(), f"part {want}")
        check(r.elapsed > PART / 2, f"part {want} was not held ({r.elapsed:.3f}s)")
        check(r.headers.get("content-type") == "application/vnd.apple.mpegurl",
              f"content-type {r.headers.get('content-type')!r}")


def test_blocking_segment(ctx):
    """_HLS_msn alone: held until that segment is complete."""
    w, o = start(ctx)
    text = o.get(PL).text
    msn, part = edge(text)
    # the growing segment, unless it may end before the request arrives
    want = last_complete(text) + (2 if part >= 3 else 1)
    seen = FirstSeen(w.playlist_path(), lambda d: last_complete(d.decode()) >= want)
    r = o.get(f"{PL}?_HLS_msn={want}")
    check(r.status == 200, f"blocking reload answered {r!r}")
    check(f"seg-{want}.m4s" in segments(r.text), f"answer lacks seg-{want}.m4s")
    check_held_then_prompt(r, seen.result(), f"segment {want}")
    check(r.elapsed > 0.2, f"segment {want} was not held ({r.elapsed:.3f}s)")


def test_blocking_past_answers_at_once(ctx):
    """A directive the playlist already satisfies is answered without holding."""
    w, o = start(ctx)
    msn, part = edge(o.get(PL).text)
    r = o.get(f"{PL}?_HLS_msn={msn}&_HLS_part={max(part, 0)}")
    check(r.status == 200 and r.elapsed < 0.1, f"satisfied directive was not answered at once: {r!r}")
    r = o.get(f"{PL}?_HLS_msn=0")
    check(r.status == 200 and r.elapsed < 0.1, f"old msn was not answered at once: {r!r}")


def test_blocking_400(ctx):
    """More than two segments beyond the newest one the playlist shows (complete or
    growing parts), malformed values, _HLS_part alone: 400 at once."""
    w, o = start(ctx)
    last, _ = edge(o.get(PL).text)
    r = o.get(f"{PL}?_HLS_msn={last + 3}")
    check_json_error(r, 400)
    check(r.elapsed < 0.2, f"400 was not immediate ({r.elapsed:.3f}s)")
    # last + 2 is allowed (held, answered once it is there)
    result = o.get_async(f"{PL}?_HLS_msn={last + 2}")
    r = result()
    check(r.status == 200, f"_HLS_msn=last+2 must be held then answered: {r!r}")
    for query in ["_HLS_msn=abc", "_HLS_msn=-1", "_HLS_msn=1.5", "_HLS_msn=", "_HLS_msn=0x10",
                  "_HLS_msn=%2B1", "_HLS_msn=99999999999999999999", "_HLS_part=1",
                  "_HLS_msn=1&_HLS_part=x", "_HLS_msn=1&_HLS_msn=2", "_HLS_skip=NO",
                  "_HLS_skip=yes", "_HLS_msn=1&_HLS_part=-2"]:
        r = o.get(f"{PL}?{query}")
        check_json_error(r, 400)
        check(r.elapsed < 0.2, f"{query}: 400 was not immediate")
    log("all malformed directives answered 400")


def test_blocking_503(ctx):
    """A part that does not come within three target durations: 503, then service resumes."""
    w, o = start(ctx)
    for _ in range(20):
        w.pause()
        time.sleep(0.1)
        text = o.get(PL).text
        msn, part = edge(text)
        hint = preload_hint(text)
        # stopped between the part's rename and the playlist's: try again
        if not os.path.exists(os.path.join(w.dir, "video_0", hint)):
            break
        w.resume()
        time.sleep(0.05)
    else:
        fail("could not pause the writer between two parts")
    try:
        playlist = o.get_async(f"{PL}?_HLS_msn={msn}&_HLS_part={part + 1}")
        hinted = o.get_async(f"/live/chan/video_0/{hint}")
        for what, r in (("playlist", playlist()), ("preload hint", hinted())):
            check_json_error(r, 503)
            check(3 * TD - 0.2 <= r.elapsed <= 3 * TD + 1.0,
                  f"{what}: 503 after {r.elapsed:.3f}s, expected about {3 * TD}s")
            log(f"{what}: 503 after {r.elapsed:.3f}s")
    finally:
        w.resume()
    check(o.metrics()["glasscast_origin_held_timeouts_total"] >= 2, "timeouts not counted")
    msn, part = edge(o.get(PL).text)
    r = o.get(f"{PL}?_HLS_msn={msn}&_HLS_part={part + 1}")
    check(r.status == 200, f"blocking reload after resume: {r!r}")
    o.wait_blocked(0)


# ------------------------------------------------------------------ preload hints

def test_preload_hint(ctx):
    """A GET for the hinted part is held until the part exists, then gets the part."""
    w, o = start(ctx)
    for _ in range(3):
        hint = preload_hint(o.get(PL).text)
        check(hint, "playlist has no EXT-X-PRELOAD-HINT")
        path = os.path.join(w.dir, "video_0", hint)
        seen = FirstSeen(path, lambda d: True)
        r = o.get(f"/live/chan/video_0/{hint}")
        check(r.status == 200, f"hinted part answered {r!r}")
        with open(path, "rb") as f:
            check(r.body == f.read(), "hinted part body differs from the file")
        check(r.headers.get("content-type") in ("video/mp4", "video/iso.segment"),
              f"content-type {r.headers.get('content-type')!r}")
        check("immutable" in r.headers.get("cache-control", ""), "part is not immutable")
        when = seen.result()
        if when is not None and when > r.sent:
            check_held_then_prompt(r, when, f"hinted {hint}")
        else:
            log(f"{hint} existed before the request reached the origin ({r.elapsed:.3f}s)")


def test_preload_hint_far_future_404(ctx):
    """Only the next part may be waited for: a part further ahead is 404 at once."""
    w, o = start(ctx)
    msn, part = edge(o.get(PL).text)
    r = o.get(f"/live/chan/video_0/part-{msn + 3}.0.m4s")
    check_json_error(r, 404)
    check(r.elapsed < 0.2, f"far-future part was held ({r.elapsed:.3f}s)")
    # a part behind the live edge that does not exist will never come
    r = o.get(f"/live/chan/video_0/part-{msn - 1}.99.m4s")
    check_json_error(r, 404)
    check(r.elapsed < 0.2, "missing past part was held")
    o.wait_blocked(0)


# ------------------------------------------------------------------ delta updates

def test_delta_update(ctx):
    """_HLS_skip=YES replaces segments older than CAN-SKIP-UNTIL with EXT-X-SKIP."""
    w, o = start(ctx, segments_needed=9, window=12)
    full = o.get(PL).text
    m = re.search(r"CAN-SKIP-UNTIL=([\d.]+)", full)
    check(m, f"no CAN-SKIP-UNTIL in SERVER-CONTROL:\n{full}")
    skip_until = float(m.group(1))
    check(skip_until >= 6 * TD, f"CAN-SKIP-UNTIL={skip_until} below six target durations")
    check("#EXT-X-SKIP" not in full, "plain request got a delta update")

    for skip, v2 in (("YES", False), ("v2", True)):
        # same state for both: ask for a part that is already there
        msn, part = edge(full)
        r = o.get(f"{PL}?_HLS_msn={msn}&_HLS_part={max(part, 0)}&_HLS_skip={skip}")
        check(r.status == 200, f"delta update answered {r!r}")
        d = r.text
        m = re.search(r"^#EXT-X-SKIP:SKIPPED-SEGMENTS=(\d+)(.*)$", d, re.M)
        check(m, f"_HLS_skip={skip}: no EXT-X-SKIP:\n{d}")
        n = int(m.group(1))
        check(n > 0, "nothing skipped")
        check(re.search(r"^#EXT-X-VERSION:(\d+)", d, re.M) and
              int(re.search(r"^#EXT-X-VERSION:(\d+)", d, re.M).group(1)) >= 9,
              "delta update must declare EXT-X-VERSION 9 or more")
        if v2:
            check(m.group(2) == ',RECENTLY-REMOVED-DATERANGES=""', f"v2 EXT-X-SKIP: {m.group(0)}")
        else:
            check(m.group(2) == "", f"YES EXT-X-SKIP carries {m.group(2)!r}")
        kept = segments(d)
        check(media_sequence(d) + n + len(kept) - 1 == last_complete(d),
              "MEDIA-SEQUENCE + SKIPPED-SEGMENTS + listed segments do not add up")
        first_kept = int(re.match(r"seg-(\d+)\.m4s", kept[0]).group(1))
        check(first_kept == media_sequence(d) + n,
              f"first listed segment seg-{first_kept} is not MEDIA-SEQUENCE+SKIPPED")
        # what is kept covers at least the skip boundary
        durs = [float(x) for x in re.findall(r"^#EXTINF:([\d.]+)", d, re.M)]
        trailing = sum(float(x) for x in re.findall(r'^#EXT-X-PART:DURATION=([\d.]+)', d.split(kept[-1])[-1], re.M))
        check(sum(durs) + trailing >= skip_until - 0.01,
              f"kept {sum(durs) + trailing:.2f}s, less than CAN-SKIP-UNTIL={skip_until}")
        check('#EXT-X-MAP:URI="init-' in d, "delta update lost EXT-X-MAP")
        check(len(d) < len(full) or n > 0, "delta update is not smaller")
        log(f"_HLS_skip={skip}: skipped {n}, listed {len(kept)}, {len(d)} bytes vs {len(full)}")


# ------------------------------------------------------------------ rendition reports

def test_rendition_reports(ctx):
    """Each media playlist of a two-rendition channel reports the other rendition."""
    w, o = start(ctx, renditions=2)
    for me, other in (("video_0", "video_1"), ("video_1", "video_0")):
        before = edge(w.read_playlist(other))
        text = o.get(f"/live/chan/{me}/media.m3u8").text
        after = edge(w.read_playlist(other))
        reports = re.findall(r"^#EXT-X-RENDITION-REPORT:(.*)$", text, re.M)
        check(len(reports) == 1, f"{me}: expected one rendition report, got {reports}")
        m = re.fullmatch(r'URI="([^"]+)",LAST-MSN=(\d+)(?:,LAST-PART=(\d+))?', reports[0])
        check(m, f"{me}: malformed report {reports[0]!r}")
        check(m.group(1) == f"../{other}/media.m3u8", f"{me}: report URI {m.group(1)!r}")
        reported = (int(m.group(2)), int(m.group(3)) if m.group(3) else -1)
        check(before <= reported <= after,
              f"{me}: report {reported} outside the other rendition's edge {before}..{after}")
        log(f"{me} reports {other} at {reported}")
    # blocking answers carry reports too
    msn, part = edge(o.get(PL).text)
    r = o.get(f"{PL}?_HLS_msn={msn}&_HLS_part={part + 1}")
    check(r.status == 200 and "#EXT-X-RENDITION-REPORT:URI=\"../video_1/media.m3u8\"" in r.text,
          "blocking answer lacks the rendition report")


# ------------------------------------------------------------------ HTTP semantics

def test_cache_headers(ctx):
    """Immutable media, short-lived playlists, cacheable blocking answers, CORS, content types."""
    w, o = start(ctx)
    text = o.get(PL).text
    init = re.search(r'#EXT-X-MAP:URI="([^"]+)"', text).group(1)
    part = re.findall(r'#EXT-X-PART:[^\n]*URI="([^"]+)"', text)[-1]
    seg = segments(text)[-1]
    for name in (init, part, seg):
        r = o.get(f"/live/chan/video_0/{name}")
        check(r.status == 200, f"{name}: {r!r}")
        cc = r.headers.get("cache-control", "")
        check("max-age=31536000" in cc and "immutable" in cc and "public" in cc,
              f"{name}: Cache-Control {cc!r}")
        check(r.headers.get("content-type") in ("video/mp4", "video/iso.segment"),
              f"{name}: Content-Type {r.headers.get('content-type')!r}")
        check(r.headers.get("access-control-allow-origin") == "*", f"{name}: no CORS header")
        with open(os.path.join(w.dir, "video_0", name), "rb") as f:
            check(r.body == f.read(), f"{name}: body differs from the file")

    def max_age(r):
        m = re.search(r"max-age=(\d+)", r.headers.get("cache-control", ""))
        check(m, f"no max-age in {r.headers.get('cache-control')!r}")
        return int(m.group(1))

    r = o.get(PL)
    check(r.headers.get("content-type") == "application/vnd.apple.mpegurl", "playlist Content-Type")
    check(max_age(r) <= 1, f"plain playlist max-age {max_age(r)} > 1")
    check(r.headers.get("access-control-allow-origin") == "*", "playlist: no CORS header")
    r = o.get("/live/chan/index.m3u8")
    check(r.status == 200 and r.headers.get("content-type") == "application/vnd.apple.mpegurl",
          f"multivariant: {r!r}")
    check(max_age(r) <= 1, "multivariant max-age > 1")
    msn, p = edge(o.get(PL).text)
    r = o.get(f"{PL}?_HLS_msn={msn}&_HLS_part={p + 1}")
    cc = r.headers.get("cache-control", "")
    check(r.status == 200 and "public" in cc and 1 <= max_age(r) <= 6 * TD,
          f"blocking answer Cache-Control {cc!r}")
    r = o.request(PL, method="OPTIONS", headers={"Origin": "http://example.invalid",
                                                 "Access-Control-Request-Method": "GET"})
    check(r.status in (200, 204), f"preflight answered {r!r}")
    check(r.headers.get("access-control-allow-origin") == "*", "preflight: no Allow-Origin")
    check("GET" in r.headers.get("access-control-allow-methods", ""), "preflight: GET not allowed")
    r = o.request(PL, method="POST")
    check_json_error(r, 405)


def test_memory_cache(ctx):
    """Recent parts are served from memory, filled when the file appears."""
    w, o = start(ctx)
    # parts published after the origin started watching
    msn, part = edge(o.get(PL).text)
    r = o.get(f"{PL}?_HLS_msn={msn + 1}&_HLS_part=2")
    check(r.status == 200, f"blocking reload: {r!r}")
    before = o.metrics()
    parts = re.findall(r'#EXT-X-PART:[^\n]*URI="([^"]+)"', r.text)[-3:]
    for name in parts:
        check(o.get(f"/live/chan/video_0/{name}").status == 200, f"{name} not served")
    after = o.metrics()
    hits = after["glasscast_origin_cache_hits_total"] - before["glasscast_origin_cache_hits_total"]
    check(hits >= len(parts), f"only {hits} of {len(parts)} recent parts came from memory")
    check(after["glasscast_origin_cache_bytes"] > 0, "cache is empty")
    check(after['glasscast_origin_last_part_timestamp_seconds{channel="chan",rendition="video_0"}']
          > time.time() - 5, "last part time is stale")


def test_traversal(ctx):
    """Nothing outside the media folder is ever served: '..', encoded dots, symlinks."""
    secret_token = "TOP-SECRET-%d" % os.getpid()
    outside = os.path.join(ctx.tmp, "outside")
    os.makedirs(os.path.join(outside, "video_0"))
    with open(os.path.join(ctx.tmp, "secret.m4s"), "w") as f:
        f.write(secret_token)
    with open(os.path.join(outside, "video_0", "media.m3u8"), "w") as f:
        f.write("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n" + secret_token + "\n")
    os.symlink(os.path.join(ctx.tmp, "secret.m4s"), os.path.join(outside, "video_0", "leak.m4s"))
    w, o = start(ctx)
    rend = os.path.join(w.dir, "video_0")
    os.symlink(os.path.join(ctx.tmp, "secret.m4s"), os.path.join(rend, "evil.m4s"))
    os.symlink("../../../secret.m4s", os.path.join(rend, "evil2.m4s"))
    os.symlink(outside, os.path.join(ctx.media, "evilchan"))
    os.symlink(os.path.join(outside, "video_0"), os.path.join(w.dir, "video_9"))
    time.sleep(0.2)
    paths = [
        "/live/../secret.m4s",
        "/live/chan/../../secret.m4s",
        "/live/chan/video_0/../../../secret.m4s",
        "/live/%2e%2e/secret.m4s",
        "/live/chan/%2e%2e/%2e%2e/secret.m4s",
        "/live/chan/video_0/%2E%2E/%2E%2E/%2E%2E/secret.m4s",
        "/live/chan/video_0/..%2f..%2f..%2fsecret.m4s",
        "/live/chan/video_0/%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.m4s",
        "/live/chan/video_0/..%5c..%5csecret.m4s",
        "/live//" + os.path.join(ctx.tmp, "secret.m4s").lstrip("/"),
        "/live/" + os.path.join(ctx.tmp, "secret.m4s"),
        "/live/chan/video_0/evil.m4s",
        "/live/chan/video_0/evil2.m4s",
        "/live/evilchan/video_0/media.m3u8",
        "/live/evilchan/video_0/leak.m4s",
        "/live/chan/video_9/media.m3u8",
        "/live/chan/video_9/leak.m4s",
        "/live/chan/video_0/%00.m4s",
        "/live/chan/video_0/evil.m4s%00.m3u8",
        "/live/chan/video_0/.media.m3u8.tmp",
        "/live/chan/./video_0/../../secret.m4s",
    ]
    for path in paths:
        r = o.get(path)
        check(400 <= r.status < 500, f"{path}: answered {r.status}")
        check(secret_token.encode() not in r.body, f"{path}: leaked the secret")
        log(f"{path} -> {r.status}")
    check(o.get("/healthz").status == 200, "origin unhealthy after traversal attempts")
    check(o.get(PL).status == 200, "origin stopped serving after traversal attempts")


def test_disconnect_while_held(ctx):
    """A client that hangs up while held: no crash, slot freed, gauge back to 0."""
    w, o = start(ctx)
    last = last_complete(o.get(PL).text)
    socks = [o.raw_hold(f"{PL}?_HLS_msn={last + 2}"),
             o.raw_hold(f"/live/chan/video_0/{preload_hint(o.get(PL).text)}")]
    o.wait_blocked(len(socks), timeout=2)
    for s in socks:
        s.shutdown(socket.SHUT_RDWR)
        s.close()
    t = time.monotonic()
    o.wait_blocked(0, timeout=3 * TD + 1)
    log(f"gauge back to 0 {time.monotonic() - t:.3f}s after the hang-up")
    check(o.get("/healthz").status == 200, "origin unhealthy after hang-ups")
    m = o.metrics()
    check(m["glasscast_origin_held_abandoned_total"] + m["glasscast_http_requests_aborted_total"] >= 1,
          "hang-up not counted")
    msn, part = edge(o.get(PL).text)
    r = o.get(f"{PL}?_HLS_msn={msn}&_HLS_part={part + 1}")
    check(r.status == 200, f"blocking reload after hang-ups: {r!r}")
    # hang up half-way through many at once
    socks = [o.raw_hold(f"{PL}?_HLS_msn={last + 3}") for _ in range(20)]
    for s in socks:
        s.close()
    o.wait_blocked(0, timeout=3 * TD + 1)
    check(o.proc.poll() is None, "glasscastd died")


def test_too_many_held(ctx):
    """Beyond max-held-per-client held requests from one address: 429 at once."""
    w = ctx.writer()
    w.wait_segments(2)
    o = ctx.origin(config_text="[origin]\nmax-held-per-client=3\n")
    last = last_complete(o.get(PL).text)
    socks = [o.raw_hold(f"{PL}?_HLS_msn={last + 2}") for _ in range(3)]
    o.wait_blocked(3, timeout=2)
    r = o.get(f"{PL}?_HLS_msn={last + 2}")
    check_json_error(r, 429)
    check(r.json()["error"]["code"] == "too_many_held_requests", f"429 code {r.json()!r}")
    check(r.elapsed < 0.2, f"429 was not immediate ({r.elapsed:.3f}s)")
    # a request that needs no hold is still served
    check(o.get(PL).status == 200, "plain playlist refused while at the limit")
    for s in socks:
        s.close()
    o.wait_blocked(0, timeout=2)
    r = o.get(f"{PL}?_HLS_msn={edge(o.get(PL).text)[0]}&_HLS_part={edge(o.get(PL).text)[1] + 1}")
    check(r.status == 200, f"hold refused after the others left: {r!r}")
    check(o.metrics()["glasscast_origin_held_rejected_total"] >= 1, "rejection not counted")


def test_healthz_metrics(ctx):
    """/healthz, /metrics (Prometheus text), JSON 404 for unknown paths."""
    w, o = start(ctx)
    r = o.get("/healthz")
    check(r.status == 200 and r.json().get("status") == "ok", f"/healthz: {r!r}")
    o.get(PL)
    o.get("/live/nochannel/video_0/media.m3u8")
    m = o.metrics()
    for name in ('glasscast_http_requests_total{class="2xx"}',
                 'glasscast_http_requests_total{class="4xx"}',
                 "glasscast_http_bytes_out_total",
                 "glasscast_origin_blocked_requests"):
        check(name in m, f"/metrics lacks {name}")
    check(m['glasscast_http_requests_total{class="2xx"}'] >= 2, "2xx not counted")
    check(m['glasscast_http_requests_total{class="4xx"}'] >= 1, "4xx not counted")
    check(m["glasscast_http_bytes_out_total"] > 0, "bytes out not counted")
    check_json_error(o.get("/nothing-here"), 404)
    check_json_error(o.get("/live/nochannel/video_0/media.m3u8"), 404)


def test_shutdown_while_held(ctx):
    """SIGTERM with requests held: they get 503, glasscastd exits 0 promptly."""
    w, o = start(ctx)
    last = last_complete(o.get(PL).text)
    waiting = [o.get_async(f"{PL}?_HLS_msn={last + 2}") for _ in range(3)]
    o.wait_blocked(3, timeout=2)
    t = time.monotonic()
    o.stop()
    log(f"exited {time.monotonic() - t:.3f}s after SIGTERM")
    for result in waiting:
        try:
            r = result(timeout=5)
        except Exception as e:  # a closed connection is acceptable too
            log(f"held client saw {e!r}")
            continue
        check(r.status in (200, 503), f"held request answered {r!r} at shutdown")


def test_config_mode(ctx):
    """--config: [server] media-dir and [origin] keys; SIGINT stops it; bad configs fail."""
    import subprocess
    from originlib import GLASSCASTD
    w = ctx.writer()
    w.wait_segments(1)
    data = os.path.join(ctx.tmp, "data")
    o = ctx.origin(origin_mode=False, config_text=(
        "[server]\n"
        "listen=127.0.0.1:9\n"           # overridden by --listen 127.0.0.1:0
        f"media-dir={ctx.media}\n"
        f"data-dir={data}\n"
        "log-level=debug\n"
        "[origin]\nmax-held-per-client=1\n"))
    check(os.path.isdir(data), "data-dir was not created")
    check(o.get(PL).status == 200, "media-dir from the config is not served")
    last = last_complete(o.get(PL).text)
    s = o.raw_hold(f"{PL}?_HLS_msn={last + 2}")
    o.wait_blocked(1)
    check_json_error(o.get(f"{PL}?_HLS_msn={last + 2}"), 429)
    s.close()
    o.stop(signal.SIGINT)

    r = subprocess.run([GLASSCASTD, "--help"], capture_output=True, text=True, timeout=10)
    check(r.returncode == 0 and "--origin" in r.stdout and "--config" in r.stdout,
          f"--help: rc {r.returncode}: {r.stdout!r}")
    bad = os.path.join(ctx.tmp, "bad.ini")
    with open(bad, "w") as f:
        f.write("[origin]\nmax-held-per-clinet=3\n")
    r = subprocess.run([GLASSCASTD, "--config", bad, "--origin", ctx.media,
                        "--listen", "127.0.0.1:0"], capture_output=True, text=True, timeout=10)
    check(r.returncode != 0 and "max-held-per-clinet" in r.stderr,
          f"unknown key accepted: rc {r.returncode}, stderr {r.stderr!r}")
    r = subprocess.run([GLASSCASTD, "--origin", os.path.join(ctx.tmp, "missing"),
                        "--listen", "127.0.0.1:0"], capture_output=True, text=True, timeout=10)
    check(r.returncode != 0 and "missing" in r.stderr, f"missing media folder accepted: {r.stderr!r}")


TESTS = {
    "shutdown-held": test_shutdown_while_held,
    "config-mode": test_config_mode,
    "blocking-part": test_blocking_part,
    "blocking-segment": test_blocking_segment,
    "blocking-past": test_blocking_past_answers_at_once,
    "blocking-400": test_blocking_400,
    "blocking-503": test_blocking_503,
    "preload-hint": test_preload_hint,
    "preload-hint-404": test_preload_hint_far_future_404,
    "delta-update": test_delta_update,
    "rendition-reports": test_rendition_reports,
    "cache-headers": test_cache_headers,
    "memory-cache": test_memory_cache,
    "traversal": test_traversal,
    "disconnect-held": test_disconnect_while_held,
    "too-many-held": test_too_many_held,
    "healthz-metrics": test_healthz_metrics,
}

if __name__ == "__main__":
    run_tests(TESTS)
