# whiplib.py — helpers of the WHIP integration tests: glasscastd with channels on 127.0.0.1:0, its
# worker processes, gc-whip-publish publishers, synthetic SDP offers, playlist reading and hlscheck.
"""Helpers for test_whip.py (Python 3 stdlib only).

Every test gets its own temp folder (media-dir, data-dir, config) and its own
glasscastd started with --listen 127.0.0.1:0; the port comes from its
"listening on http://127.0.0.1:PORT" line. Publishers are gc-whip-publish
processes with --test-source; ICE runs on 127.0.0.1 only.
"""

import http.client
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import hlscheck  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gclib import SKIP, TestFailure, check, element_available, fail, log  # noqa: E402,F401

GLASSCASTD = os.environ.get("GLASSCASTD", "glasscastd")
PUBLISH = os.environ.get("GC_WHIP_PUBLISH", "gc-whip-publish")


def wait_for(pred, timeout, what, interval=0.05):
    """Polls pred() until it returns something true; returns it."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    fail(f"{what}: not within {timeout} s (last: {last!r})")


def hash_key(key):
    r = subprocess.run([GLASSCASTD, "--hash-key"], input=key + "\n", capture_output=True,
                       text=True, check=True)
    return r.stdout.strip().splitlines()[-1]


# ---------------------------------------------------------------- SDP

def offer(video_codec="H264", audio=True, ufrag=None, pwd=None):
    """A publisher's offer as gc-whip-publish writes it (fake ICE credentials
    and fingerprint: good enough for an answer, never for media)."""
    ufrag = ufrag or secrets.token_hex(8)
    pwd = pwd or secrets.token_hex(16)
    fp = ":".join(f"{b:02X}" for b in secrets.token_bytes(32))
    lines = [
        "v=0", f"o=- {secrets.randbelow(10**15)} 0 IN IP4 0.0.0.0", "s=-", "t=0 0",
        "a=ice-options:trickle", "a=group:BUNDLE video0" + (" audio1" if audio else ""),
        "m=video 9 UDP/TLS/RTP/SAVPF 96", "c=IN IP4 0.0.0.0", "a=setup:actpass",
        f"a=ice-ufrag:{ufrag}", f"a=ice-pwd:{pwd}", "a=rtcp-mux", "a=rtcp-rsize", "a=sendonly",
        f"a=rtpmap:96 {video_codec}/90000", "a=rtcp-fb:96 nack", "a=rtcp-fb:96 nack pli",
        "a=rtcp-fb:96 ccm fir", "a=mid:video0", f"a=fingerprint:sha-256 {fp}",
    ]
    if video_codec == "H264":
        lines.append("a=fmtp:96 packetization-mode=1;profile-level-id=42e01f;level-asymmetry-allowed=1")
    if audio:
        lines += [
            "m=audio 0 UDP/TLS/RTP/SAVPF 111", "c=IN IP4 0.0.0.0", "a=setup:actpass",
            f"a=ice-ufrag:{ufrag}", f"a=ice-pwd:{pwd}", "a=bundle-only", "a=rtcp-mux",
            "a=sendonly", "a=rtpmap:111 OPUS/48000/2", "a=mid:audio1",
            f"a=fingerprint:sha-256 {fp}",
        ]
    return "\r\n".join(lines) + "\r\n"


# ---------------------------------------------------------------- HTTP

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers          # list of (name-lower, value)
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k == name.lower():
                return v
        return None

    def all(self, name):
        return [v for k, v in self.headers if k == name.lower()]

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


def check_json_error(r, status, code=None, mentions=None):
    check(r.status == status, f"expected {status}, got {r!r}")
    try:
        err = r.json()["error"]
    except (ValueError, KeyError, TypeError):
        fail(f"error body is not {{\"error\":{{...}}}}: {r.body!r}")
    check(isinstance(err.get("message"), str) and err["message"],
          f"error without a reason: {err!r}")
    if code:
        check(err.get("code") == code, f"error code {err.get('code')!r}, expected {code!r}")
    if mentions:
        check(mentions.lower() in err["message"].lower(),
              f"reason {err['message']!r} does not mention {mentions!r}")
    return err


# ---------------------------------------------------------------- glasscastd

class Glasscastd:
    """glasscastd --config (channels, 127.0.0.1 ICE) --listen 127.0.0.1:0."""

    def __init__(self, tmp, channels, extra="", name="glasscastd"):
        self.tmp = tmp
        self.media = os.path.join(tmp, "media")
        self.data = os.path.join(tmp, "data")
        os.makedirs(self.media, exist_ok=True)
        plugin_path = os.environ.get("GST_PLUGIN_PATH", "")
        cfg = [
            "[server]", f"media-dir={self.media}", f"data-dir={self.data}",
            f"plugin-path={plugin_path}", "log-level=info",
            "[webrtc]", "ice-address=127.0.0.1",
            "[worker]", "heartbeat-timeout=1500",
        ]
        cfg.append(extra)
        for ch, key in channels.items():
            cfg += [f"[channel:{ch}]", f"stream-key-hash={hash_key(key)}"]
        self.config_path = os.path.join(tmp, f"{name}.ini")
        with open(self.config_path, "w") as f:
            f.write("\n".join(cfg) + "\n")
        self.log_path = os.path.join(tmp, f"{name}.log")
        self.start()

    def start(self):
        self.errlog = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [GLASSCASTD, "--config", self.config_path, "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=self.errlog)
        box = {}

        def reader():
            box["line"] = self.proc.stdout.readline().decode()

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        t.join(15)
        m = re.match(r"listening on http://127\.0\.0\.1:(\d+)", box.get("line", ""))
        if not m:
            self.proc.kill()
            fail(f"glasscastd did not report its port: {box.get('line')!r}\n{self.log_text()}")
        self.port = int(m.group(1))
        self.stopped = False

    def log_text(self):
        try:
            with open(self.log_path) as f:
                return f.read()[-6000:]
        except OSError:
            return ""

    def request(self, method, path, body=None, headers=None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            if isinstance(body, str):
                body = body.encode()
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            data = r.read()
            return Response(r.status, [(k.lower(), v) for k, v in r.getheaders()], data)
        finally:
            conn.close()

    def post_offer(self, channel, sdp, key, content_type="application/sdp"):
        headers = {"Content-Type": content_type}
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        return self.request("POST", f"/whip/{channel}", sdp, headers)

    def channel(self, name):
        r = self.request("GET", f"/api/v1/channels/{name}")
        check(r.status == 200, f"GET /api/v1/channels/{name}: {r!r}")
        return r.json()

    def wait_state(self, name, states, timeout):
        states = (states,) if isinstance(states, str) else states
        return wait_for(lambda: (lambda c: c if c["state"] in states else None)(self.channel(name)),
                        timeout, f"channel {name} {'/'.join(states)}", interval=0.02)

    def metrics(self):
        r = self.request("GET", "/metrics")
        check(r.status == 200, f"/metrics: {r!r}")
        return r.text

    def workers(self):
        """pids of glasscastd's children: the worker processes (not its
        embedded redis-server)."""
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                pids = [int(p) for p in f.read().split()]
        except FileNotFoundError:
            return []
        workers = []
        for pid in pids:
            try:
                with open(f"/proc/{pid}/comm") as f:
                    if f.read().strip() == "redis-server":
                        continue
            except FileNotFoundError:
                continue
            workers.append(pid)
        return workers

    def playlist_path(self, channel, rendition="video_0"):
        return os.path.join(self.media, channel, rendition, "media.m3u8")

    def read_playlist(self, channel, rendition="video_0"):
        try:
            with open(self.playlist_path(channel, rendition)) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def healthy(self):
        return self.proc.poll() is None and self.request("GET", "/healthz").status == 200

    def stop(self):
        if self.stopped:
            return
        self.stopped = True
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            fail("glasscastd did not exit within 10 s of SIGTERM")
        finally:
            self.errlog.close()
        check(rc == 0, f"glasscastd exited with {rc} after SIGTERM")


class Publisher:
    """gc-whip-publish --test-source to /whip/<channel>."""

    def __init__(self, gc, channel, key, logfile, duration=None):
        cmd = [PUBLISH, f"http://127.0.0.1:{gc.port}/whip/{channel}", "--token", key,
               "--test-source", "--ice-address", "127.0.0.1"]
        if duration:
            cmd += ["--duration", str(duration)]
        self.log_path = logfile
        self.log = open(logfile, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()[-3000:]

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            fail(f"publisher still running after {timeout} s:\n{self.log_text()}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# ---------------------------------------------------------------- playlists

def segments(text):
    return [l for l in text.splitlines() if l and not l.startswith("#")]


def media_sequence(text):
    m = re.search(r"^#EXT-X-MEDIA-SEQUENCE:(\d+)", text, re.M)
    return int(m.group(1)) if m else 0


def last_msn(text):
    return media_sequence(text) + len(segments(text)) - 1


def n_parts(text):
    return len(re.findall(r"^#EXT-X-PART:", text, re.M))


def hlscheck_folder(path, live):
    report = hlscheck.check_folder(path, live=live, media=True)
    return [str(v) for v in report.violations]


# ---------------------------------------------------------------- main

class Context:
    def __init__(self, tmp, name):
        self.tmp = tmp
        self.name = name
        self.daemons = []
        self.publishers = []

    def glasscastd(self, channels, **kw):
        gc = Glasscastd(self.tmp, channels, name=f"glasscastd{len(self.daemons)}", **kw)
        self.daemons.append(gc)
        return gc

    def publish(self, gc, channel, key, duration=None):
        p = Publisher(gc, channel, key, os.path.join(self.tmp, f"publisher{len(self.publishers)}.log"),
                      duration)
        self.publishers.append(p)
        return p

    def close(self, quiet=False):
        for p in self.publishers:
            p.stop()
        for gc in self.daemons:
            try:
                gc.stop()
            except TestFailure:
                if not quiet:
                    raise


def run_tests(tests):
    """main(): run the test named by argv[1] in a fresh temp folder."""
    if len(sys.argv) != 2 or sys.argv[1] not in tests:
        print(f"usage: {sys.argv[0]} {{{','.join(sorted(tests))}}}", file=sys.stderr)
        sys.exit(2)
    name = sys.argv[1]
    for exe in (GLASSCASTD, PUBLISH):
        if not os.path.exists(exe):
            print(f"SKIP: {exe} is not built")
            sys.exit(SKIP)
    for element in ("whipserversrc", "llhlssink", "avenc_aac", "webrtcbin"):
        if not element_available(element):
            print(f"SKIP: GStreamer element {element} is not available (GST_PLUGIN_PATH)")
            sys.exit(SKIP)
    keep = os.environ.get("GC_KEEP_TMP")
    tmp = tempfile.mkdtemp(prefix=f"gc-whip-{name}-")
    ctx = Context(tmp, name)
    try:
        tests[name](ctx)
        ctx.close()
    except TestFailure as e:
        print(f"FAIL: {e}", flush=True)
        ctx.close(quiet=True)
        for gc in ctx.daemons:
            print(f"--- {gc.log_path} (tail) ---\n{gc.log_text()}", flush=True)
        for p in ctx.publishers:
            print(f"--- {p.log_path} (tail) ---\n{p.log_text()}", flush=True)
        if keep:
            print(f"(kept {tmp})")
        sys.exit(1)
    finally:
        if not keep:
            subprocess.run(["rm", "-rf", tmp])
    print(f"PASS: {name}", flush=True)
    sys.exit(0)
