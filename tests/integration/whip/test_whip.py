#!/usr/bin/env python3
# test_whip.py — integration tests of glasscastd's WHIP endpoint, channel workers and channel API.
# One behaviour per test, chosen by argv[1]; meson registers each as whip-<name> (suite 'integration').
"""Run one test: test_whip.py <name>. Exit 0 pass, 1 fail, 77 skip."""

import os
import signal
import time

from whiplib import (check, check_json_error, fail, hlscheck_folder, last_msn, log, n_parts,
                     offer, run_tests, segments, wait_for)

KEY = "k3y-for-tests-0123456789"
OTHER_KEY = "another-key-9876543210"
# The bound: a dead worker's channel is offline within 2 s.
OFFLINE_WITHIN = 2.0


def live_channel(ctx, gc, name, key, parts=6):
    """Publishes the test source to NAME and waits for a playlist with parts."""
    p = ctx.publish(gc, name, key)
    gc.wait_state(name, "live", 20)
    wait_for(lambda: n_parts(gc.read_playlist(name)) >= parts and
             len(segments(gc.read_playlist(name))) >= 2, 30,
             f"{name}: a playlist with {parts} parts and 2 segments")
    return p


# ------------------------------------------------------------------ errors

def test_unauthorized(ctx):
    """Wrong or missing stream key: 401 with WWW-Authenticate: Bearer, no worker."""
    gc = ctx.glasscastd({"chan": KEY})
    r = gc.post_offer("chan", offer(), "wrong-key")
    check_json_error(r, 401, "unauthorized")
    check(r.header("www-authenticate") == "Bearer", f"WWW-Authenticate: {r.header('www-authenticate')!r}")
    check_json_error(gc.post_offer("chan", offer(), None), 401, "unauthorized")
    check(gc.workers() == [], f"a worker was started for a rejected publisher: {gc.workers()}")
    check(KEY not in gc.log_text() and "wrong-key" not in gc.log_text(), "a key reached the log")


def test_unknown_channel(ctx):
    """POST to a channel that does not exist: 404."""
    gc = ctx.glasscastd({"chan": KEY})
    check_json_error(gc.post_offer("nosuch", offer(), KEY), 404, "not_found")
    check_json_error(gc.post_offer("..", offer(), KEY), 404)


def test_bad_sdp(ctx):
    """Malformed SDP: 400 with a reason, before any worker starts."""
    gc = ctx.glasscastd({"chan": KEY})
    check_json_error(gc.post_offer("chan", "hello", KEY), 400, "bad_request", "letter")
    check_json_error(gc.post_offer("chan", "v=0\r\ns=-\r\n", KEY), 400, "bad_request")
    no_ice = "\r\n".join(l for l in offer().split("\r\n") if not l.startswith("a=ice-pwd"))
    check_json_error(gc.post_offer("chan", no_ice, KEY), 400, "bad_request", "ice-pwd")
    check_json_error(gc.post_offer("chan", offer(), KEY, content_type="text/plain"), 415)
    check(gc.workers() == [], "a worker was started for a bad offer")


def test_no_h264(ctx):
    """An offer without H.264 video: 406 with a reason naming what was offered."""
    gc = ctx.glasscastd({"chan": KEY})
    err = check_json_error(gc.post_offer("chan", offer(video_codec="VP8"), KEY), 406,
                           "unsupported_codecs", "H.264")
    check("VP8" in err["message"], f"reason does not say what was offered: {err['message']!r}")
    check(gc.workers() == [], "a worker was started for an unusable offer")


def test_already_live(ctx):
    """A second publisher on a live channel: 409; the first one is untouched."""
    gc = ctx.glasscastd({"chan": KEY})
    live_channel(ctx, gc, "chan", KEY)
    before = last_msn(gc.read_playlist("chan"))
    check_json_error(gc.post_offer("chan", offer(), KEY), 409, "conflict")
    wait_for(lambda: last_msn(gc.read_playlist("chan")) > before, 10, "the first session going on")
    check(gc.channel("chan")["state"] == "live", "channel is no longer live")


# ------------------------------------------------------------------ protocol

def test_created(ctx):
    """201 Created: Location, ETag, application/sdp answer with candidates, Link for STUN/TURN,
    CORS exposure; OPTIONS advertises Accept-Post; DELETE ends the session."""
    gc = ctx.glasscastd({"chan": KEY})
    r = gc.request("OPTIONS", "/whip/chan", headers={"Origin": "http://example.test",
                                                      "Access-Control-Request-Method": "POST"})
    check(r.status == 204, f"OPTIONS: {r!r}")
    check(r.header("accept-post") == "application/sdp", f"Accept-Post: {r.header('accept-post')!r}")
    check("POST" in (r.header("access-control-allow-methods") or ""), "preflight does not allow POST")
    check("Authorization" in (r.header("access-control-allow-headers") or ""),
          "preflight does not allow Authorization")

    r = gc.post_offer("chan", offer(), KEY)
    check(r.status == 201, f"POST: {r!r}")
    check(r.header("content-type", ) and r.header("content-type").startswith("application/sdp"),
          f"Content-Type {r.header('content-type')!r}")
    loc = r.header("location") or ""
    check(loc.startswith("/whip/chan/") and len(loc) > len("/whip/chan/"), f"Location {loc!r}")
    etag = r.header("etag") or ""
    check(etag.startswith('"') and etag.endswith('"'), f"ETag {etag!r}")
    check("v=0" in r.text and "a=candidate:" in r.text, "answer without candidates")
    expose = r.header("access-control-expose-headers") or ""
    for h in ("Location", "ETag", "Link"):
        check(h in expose, f"{h} not in Access-Control-Expose-Headers: {expose!r}")
    check(r.header("access-control-allow-origin") == "*", "no Access-Control-Allow-Origin")
    check(gc.channel("chan")["state"] in ("connecting", "live"), "channel not connecting")

    r = gc.request("OPTIONS", loc)
    check(r.status == 204 and "PATCH" in (r.header("access-control-allow-methods") or ""),
          f"OPTIONS on the session: {r!r}")
    r = gc.request("DELETE", loc + "x")
    check_json_error(r, 404)
    r = gc.request("DELETE", loc)
    check(r.status == 200, f"DELETE: {r!r}")
    gc.wait_state("chan", "offline", 6)
    wait_for(lambda: gc.workers() == [], 6, "the worker exiting")
    check_json_error(gc.request("DELETE", loc), 404)


def test_link_headers(ctx):
    """Configured STUN and TURN servers come back as Link: rel="ice-server" (RFC 9725 4.6)."""
    gc = ctx.glasscastd({"chan": KEY}, extra="[webrtc]\nstun-server=stun:stun.example.net:3478\n"
                        "turn-server=turn:turn.example.net:3478?transport=udp\n"
                        "turn-username=user\nturn-credential=pass\n")
    r = gc.post_offer("chan", offer(), KEY)
    check(r.status == 201, f"POST: {r!r}")
    links = r.all("link")
    joined = ", ".join(links)
    check("<stun:stun.example.net:3478>; rel=\"ice-server\"" in joined, f"no STUN Link: {links!r}")
    check("<turn:turn.example.net:3478?transport=udp>; rel=\"ice-server\"" in joined and
          'username="user"' in joined and 'credential="pass"' in joined, f"no TURN Link: {links!r}")
    check("pass" not in gc.log_text(), "the TURN credential reached the log")
    gc.request("DELETE", r.header("location"))


def test_patch(ctx):
    """PATCH: trickle ICE with the ETag 204, a stale ETag 412, wrong type 415, ICE restart 422."""
    gc = ctx.glasscastd({"chan": KEY})
    r = gc.post_offer("chan", offer(ufrag="aaaabbbbcccc", pwd="0123456789abcdef0123456789"), KEY)
    check(r.status == 201, f"POST: {r!r}")
    loc, etag = r.header("location"), r.header("etag")
    frag = ("a=ice-ufrag:aaaabbbbcccc\r\na=ice-pwd:0123456789abcdef0123456789\r\n"
            "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:video0\r\n"
            "a=candidate:1 1 UDP 2015363327 127.0.0.1 51000 typ host\r\n"
            "a=end-of-candidates\r\n")
    sdpfrag = {"Content-Type": "application/trickle-ice-sdpfrag"}
    r = gc.request("PATCH", loc, frag, {**sdpfrag, "If-Match": '"stale"'})
    check_json_error(r, 412, "precondition_failed")
    r = gc.request("PATCH", loc, frag, {"Content-Type": "application/sdp", "If-Match": etag})
    check_json_error(r, 415)
    r = gc.request("PATCH", loc, frag, {**sdpfrag, "If-Match": etag})
    check(r.status == 204, f"trickle PATCH: {r!r}")
    bad = frag.replace("typ host", "")
    check_json_error(gc.request("PATCH", loc, bad, {**sdpfrag, "If-Match": etag}), 400)
    restart = frag.replace("aaaabbbbcccc", "ddddeeeeffff")
    check_json_error(gc.request("PATCH", loc, restart, {**sdpfrag, "If-Match": "*"}), 422)
    check_json_error(gc.request("PATCH", "/whip/chan/nosuchsession", frag, sdpfrag), 404)
    gc.request("DELETE", loc)


# ------------------------------------------------------------------ media

def test_publish(ctx):
    """A real publisher makes a playable LL-HLS channel: parts served by the origin, hlscheck
    clean, health in the API and /metrics."""
    gc = ctx.glasscastd({"chan": KEY})
    live_channel(ctx, gc, "chan", KEY, parts=10)
    r = gc.request("GET", "/live/chan/video_0/media.m3u8")
    check(r.status == 200 and "#EXT-X-PART:" in r.text, f"origin playlist: {r!r}")
    check(gc.request("GET", "/live/chan/index.m3u8").status == 200, "no multivariant playlist")
    time.sleep(2.5)  # two stats events
    c = gc.channel("chan")
    log(f"channel: {c}")
    s = c["stats"]
    check(c["live"] is True and c["since"], f"not live: {c}")
    check(s and s["width"] == 640 and s["height"] == 360, f"resolution: {s}")
    check(s["fps"] and 20 <= s["fps"] <= 40, f"fps: {s['fps']}")
    check(s["bitrate"] and s["bitrate"] > 10000, f"bitrate: {s['bitrate']}")
    check(s["keyframe_interval"] is not None, f"keyframe interval: {s}")
    check(s["packets_received"] and s["packets_received"] > 0 and s["packets_lost"] is not None,
          f"packet counts: {s}")
    check(c["last_part_time"], f"no last part time: {c}")
    m = gc.metrics()
    check('glasscast_channel_live{channel="chan"} 1' in m, "metrics: channel not live")
    check('glasscast_channel_fps{channel="chan"}' in m, "metrics: no fps")
    check('glasscast_channel_last_part_timestamp_seconds{channel="chan"}' in m,
          "metrics: no last part time")
    violations = hlscheck_folder(os.path.join(gc.media, "chan"), live=True)
    check(not violations, "hlscheck:\n" + "\n".join(violations))


def test_delete(ctx):
    """The publisher's DELETE ends the worker and finalises the playlists (EXT-X-ENDLIST)."""
    gc = ctx.glasscastd({"chan": KEY})
    p = ctx.publish(gc, "chan", KEY, duration=8)
    gc.wait_state("chan", "live", 20)
    check(len(gc.workers()) == 1, f"expected one worker: {gc.workers()}")
    rc = p.wait(30)
    check(rc == 0, f"publisher exited {rc}")
    gc.wait_state("chan", "offline", 6)
    wait_for(lambda: gc.workers() == [], 6, "the worker exiting")
    for rendition in ("video_0", "audio_0"):
        text = gc.read_playlist("chan", rendition)
        check("#EXT-X-ENDLIST" in text, f"{rendition} playlist not finalised:\n{text[-400:]}")
    violations = hlscheck_folder(os.path.join(gc.media, "chan"), live=False)
    check(not violations, "hlscheck:\n" + "\n".join(violations))
    m = gc.metrics()
    check('glasscast_channel_worker_exits_total{channel="chan",how="clean"} 1' in m,
          "metrics: the clean exit is not counted")


def test_kill_worker(ctx):
    """kill -9 of a worker: its channel is offline within 2 s, glasscastd stays healthy, and the
    other live channel goes on."""
    gc = ctx.glasscastd({"chan": KEY, "other": OTHER_KEY})
    live_channel(ctx, gc, "chan", KEY)
    live_channel(ctx, gc, "other", OTHER_KEY)
    workers = gc.workers()
    check(len(workers) == 2, f"expected two workers: {workers}")
    # The worker of "chan" is the older one.
    victim = min(workers, key=lambda pid: os.stat(f"/proc/{pid}").st_ctime)
    with open(f"/proc/{victim}/cmdline", "rb") as f:
        cmdline = f.read().split(b"\0")
    if b"chan" not in cmdline:
        victim = max(workers, key=lambda pid: os.stat(f"/proc/{pid}").st_ctime)
    other_before = last_msn(gc.read_playlist("other"))
    os.kill(victim, signal.SIGKILL)
    t0 = time.monotonic()
    gc.wait_state("chan", "offline", OFFLINE_WITHIN)
    log(f"offline {time.monotonic() - t0:.3f} s after kill -9")
    check(gc.healthy(), "glasscastd is not healthy")
    check(gc.channel("other")["state"] == "live", "the other channel stopped")
    wait_for(lambda: last_msn(gc.read_playlist("other")) >= other_before + 2, 10,
             "the other channel's playlist going on")
    m = gc.metrics()
    check('glasscast_channel_worker_exits_total{channel="chan",how="crashed"} 1' in m,
          "metrics: the crash is not counted")


def test_hung_worker(ctx):
    """A worker that stops beating (SIGSTOP) is killed and its channel offline within 2 s."""
    gc = ctx.glasscastd({"chan": KEY})
    live_channel(ctx, gc, "chan", KEY, parts=2)
    (pid,) = gc.workers()
    os.kill(pid, signal.SIGSTOP)
    t0 = time.monotonic()
    gc.wait_state("chan", "offline", OFFLINE_WITHIN + 0.2)
    log(f"offline {time.monotonic() - t0:.3f} s after SIGSTOP")
    wait_for(lambda: gc.workers() == [], 3, "the hung worker being reaped")
    check('how="hung"} 1' in gc.metrics(), "metrics: the hang is not counted")


def test_republish(ctx):
    """After a crash the publisher comes back: same folder, numbering goes on behind an
    EXT-X-DISCONTINUITY, and the folder still passes hlscheck."""
    gc = ctx.glasscastd({"chan": KEY})
    first = live_channel(ctx, gc, "chan", KEY)
    (pid,) = gc.workers()
    os.kill(pid, signal.SIGKILL)
    gc.wait_state("chan", "offline", OFFLINE_WITHIN)
    first.stop()
    before = gc.read_playlist("chan")
    msn_before = last_msn(before)
    live_channel(ctx, gc, "chan", KEY)
    wait_for(lambda: last_msn(gc.read_playlist("chan")) >= msn_before + 2, 20,
             "the resumed playlist growing")
    after = gc.read_playlist("chan")
    check("#EXT-X-DISCONTINUITY" in after, f"no discontinuity after the restart:\n{after}")
    check(gc.request("GET", "/live/chan/video_0/media.m3u8").status == 200, "origin lost the channel")
    violations = hlscheck_folder(os.path.join(gc.media, "chan"), live=True)
    check(not violations, "hlscheck:\n" + "\n".join(violations))


# ------------------------------------------------------------------ API

def test_channel_api(ctx):
    """Admin API: creating a channel needs the admin token and returns its stream key once;
    the key publishes; the channel survives a restart; health reads need no token."""
    admin = "admin-token-for-tests"
    from whiplib import hash_key
    gc = ctx.glasscastd({"chan": KEY}, extra=f"[server]\nadmin-token-hash={hash_key(admin)}\n")
    body = '{"name": "fresh"}'
    check_json_error(gc.request("POST", "/api/v1/channels", body,
                                {"Content-Type": "application/json"}), 401)
    check_json_error(gc.request("POST", "/api/v1/channels", body,
                                {"Authorization": "Bearer nope"}), 401)
    check_json_error(gc.request("POST", "/api/v1/channels", '{"name": "../x"}',
                                {"Authorization": f"Bearer {admin}"}), 400)
    r = gc.request("POST", "/api/v1/channels", body, {"Authorization": f"Bearer {admin}"})
    check(r.status == 201, f"create: {r!r}")
    key = r.json()["stream_key"]
    check(len(key) >= 32, f"stream key {key!r}")
    check(r.header("cache-control") == "no-store", "the key response may be cached")
    check(key not in gc.log_text(), "the new key reached the log")
    with open(os.path.join(gc.data, "channels.ini")) as f:
        stored = f.read()
    check(key not in stored and "pbkdf2-sha256$" in stored, "channels.ini does not hold a hash only")
    check_json_error(gc.request("POST", "/api/v1/channels", body,
                                {"Authorization": f"Bearer {admin}"}), 409)
    r = gc.post_offer("fresh", offer(), key)
    check(r.status == 201, f"publishing with the new key: {r!r}")
    gc.request("DELETE", r.header("location"))
    gc.wait_state("fresh", "offline", 6)
    lst = gc.request("GET", "/api/v1/channels").json()["channels"]
    check(sorted(c["name"] for c in lst) == ["chan", "fresh"], f"list: {lst}")
    check_json_error(gc.request("GET", "/api/v1/channels/nosuch"), 404)
    gc.stop()
    gc.start()
    check(gc.channel("fresh")["state"] == "offline", "the created channel did not survive a restart")
    check_json_error(gc.post_offer("fresh", offer(), "wrong"), 401)


def test_admin_off(ctx):
    """Without [server] admin-token-hash the admin API refuses with 403."""
    gc = ctx.glasscastd({"chan": KEY})
    check_json_error(gc.request("POST", "/api/v1/channels", '{"name":"x"}',
                                {"Authorization": "Bearer anything"}), 403)


TESTS = {
    "unauthorized": test_unauthorized,
    "unknown-channel": test_unknown_channel,
    "bad-sdp": test_bad_sdp,
    "no-h264": test_no_h264,
    "already-live": test_already_live,
    "created": test_created,
    "link-headers": test_link_headers,
    "patch": test_patch,
    "publish": test_publish,
    "delete": test_delete,
    "kill-worker": test_kill_worker,
    "hung-worker": test_hung_worker,
    "republish": test_republish,
    "channel-api": test_channel_api,
    "admin-off": test_admin_off,
}

if __name__ == "__main__":
    run_tests(TESTS)
