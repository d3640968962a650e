# originlib.py — helpers of the origin integration tests: a live llhlssink writer, glasscastd --origin
# on an OS-chosen port, raw HTTP on 127.0.0.1, playlist arithmetic, and a file watcher that timestamps the writer.
"""Helpers for test_origin.py (Python 3 stdlib only).

Every test gets its own temp folder, its own writer (gst-launch-1.0 ...
! llhlssink) and its own glasscastd bound to 127.0.0.1 port 0; the port is
read from glasscastd's "listening on http://127.0.0.1:PORT" line.
"""

import http.client
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gclib import SKIP, TestFailure, check, element_available, fail, log  # noqa: E402,F401

GLASSCASTD = os.environ.get("GLASSCASTD", "glasscastd")


# ---------------------------------------------------------------- playlists

def media_sequence(text):
    m = re.search(r"^#EXT-X-MEDIA-SEQUENCE:(\d+)", text, re.M)
    return int(m.group(1)) if m else 0


def segments(text):
    """URIs of the complete segments, oldest first."""
    return [l for l in text.splitlines() if l and not l.startswith("#")]


def last_complete(text):
    """msn of the last complete segment (-1 + media sequence if none)."""
    skipped = re.search(r"^#EXT-X-SKIP:SKIPPED-SEGMENTS=(\d+)", text, re.M)
    n = len(segments(text)) + (int(skipped.group(1)) if skipped else 0)
    return media_sequence(text) + n - 1


def edge(text):
    """(msn, part) of the newest part; part -1 when the newest segment lists none."""
    last = last_complete(text)
    lines = text.splitlines()
    # parts after the last segment URI belong to the growing segment
    trailing = 0
    for l in reversed(lines):
        if l and not l.startswith("#"):
            break
        if l.startswith("#EXT-X-PART:"):
            trailing += 1
    if trailing:
        return last + 1, trailing - 1
    # else: the parts of the last complete segment
    parts = 0
    seen_uri = False
    for l in reversed(lines):
        if l and not l.startswith("#"):
            if seen_uri:
                break
            seen_uri = True
        elif l.startswith("#EXT-X-PART:") and seen_uri:
            parts += 1
    return last, parts - 1


def preload_hint(text):
    m = re.search(r'^#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"', text, re.M)
    return m.group(1) if m else None


def has_part(text, msn, part):
    """Whether the playlist holds (msn, part) or anything later."""
    e = edge(text)
    return e[0] > msn or (e[0] == msn and e[1] >= part)


# ---------------------------------------------------------------- the writer

class Writer:
    """A live llhlssink writing CHANNEL under media_dir, one or more video renditions."""

    def __init__(self, media_dir, channel="chan", renditions=1, target_duration=1,
                 part_ms=200, window=10, logfile=None):
        self.dir = os.path.join(media_dir, channel)
        self.renditions = [f"video_{i}" for i in range(renditions)]
        src = ("videotestsrc is-live=true pattern=ball ! "
               "video/x-raw,format=I420,width=320,height=180,framerate=30/1 ! tee name=t ")
        branches = []
        for i in range(renditions):
            scale = "" if i == 0 else f"videoscale ! video/x-raw,width={320 // (i + 1)},height={180 // (i + 1)} ! "
            branches.append(
                f"t. ! queue ! {scale}x264enc tune=zerolatency speed-preset=ultrafast key-int-max=600 "
                f"bitrate={400 // (i + 1)} ! h264parse ! s.video_{i} ")
        sink = (f"llhlssink name=s location={self.dir} target-duration={target_duration} "
                f"part-duration={part_ms} window={window} max-files={window + 4}")
        desc = src + " ".join(branches) + sink
        self.log = open(logfile or os.devnull, "w")
        self.proc = subprocess.Popen(["gst-launch-1.0", "-q"] + shlex.split(desc),
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.stopped = False

    def playlist_path(self, rendition="video_0"):
        return os.path.join(self.dir, rendition, "media.m3u8")

    def read_playlist(self, rendition="video_0"):
        try:
            with open(self.playlist_path(rendition)) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_segments(self, n, timeout=30):
        """Wait until every rendition lists at least n complete segments."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                fail(f"writer exited with {self.proc.returncode}")
            texts = [self.read_playlist(r) for r in self.renditions]
            if all(t and len(segments(t)) >= n for t in texts):
                return texts[0]
            time.sleep(0.05)
        fail(f"writer did not produce {n} segments in {timeout} s")

    def pause(self):
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self):
        if self.stopped:
            return
        self.stopped = True
        try:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(timeout=5)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class FirstSeen(threading.Thread):
    """Polls a file (2 ms) and records when predicate(text) first held: the
    moment the writer published it, to judge how promptly the origin answered."""

    def __init__(self, path, predicate):
        super().__init__(daemon=True)
        self.path, self.predicate = path, predicate
        self.when = None
        self.done = threading.Event()
        self.start()

    def run(self):
        deadline = time.monotonic() + 30
        while not self.done.is_set() and time.monotonic() < deadline:
            try:
                with open(self.path, "rb") as f:
                    data = f.read()
                if self.predicate(data):
                    self.when = time.monotonic()
                    return
            except FileNotFoundError:
                pass
            time.sleep(0.002)

    def result(self, timeout=10):
        self.join(timeout)
        self.done.set()
        return self.when


# ---------------------------------------------------------------- the origin

class Response:
    def __init__(self, status, headers, body, sent, received):
        self.status = status
        self.headers = headers  # lower-case names
        self.body = body
        self.sent = sent          # time.monotonic() when the request was sent
        self.received = received  # time.monotonic() when the body was complete
        self.elapsed = received - sent

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<{self.status} {self.elapsed:.3f}s {self.body[:200]!r}>"


class Origin:
    """glasscastd --origin MEDIA_DIR --listen 127.0.0.1:0."""

    def __init__(self, media_dir, config_text=None, workdir=None, args=None, origin_mode=True):
        cmd = [GLASSCASTD] + (["--origin", media_dir] if origin_mode else []) + \
            ["--listen", "127.0.0.1:0"]
        workdir = workdir or tempfile.mkdtemp(prefix="gc-origin-")
        if config_text is not None:
            cfg = os.path.join(workdir, "glasscast.ini")
            with open(cfg, "w") as f:
                f.write(config_text)
            cmd += ["--config", cfg]
        cmd += args or []
        self.errlog_path = os.path.join(workdir, "glasscastd.log")
        self.errlog = open(self.errlog_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.errlog)
        self.port = self._read_port()
        self.stopped = False

    def _read_port(self):
        box = {}

        def reader():
            box["line"] = self.proc.stdout.readline().decode()

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        t.join(10)
        m = re.match(r"listening on http://127\.0\.0\.1:(\d+)", box.get("line", ""))
        if not m:
            self.proc.kill()
            fail(f"glasscastd did not report its port: {box.get('line')!r}; log: {self.log_text()}")
        return int(m.group(1))

    def log_text(self):
        try:
            with open(self.errlog_path) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def request(self, path, method="GET", headers=None, timeout=20):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            sent = time.monotonic()
            conn.putrequest(method, path, skip_accept_encoding=True)
            for k, v in (headers or {}).items():
                conn.putheader(k, v)
            conn.endheaders()
            r = conn.getresponse()
            body = r.read()
            received = time.monotonic()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            return Response(r.status, hdrs, body, sent, received)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request(path, **kw)

    def get_async(self, path, **kw):
        """Starts a GET in a thread; returns a function giving the Response."""
        box = {}

        def run():
            try:
                box["r"] = self.request(path, **kw)
            except Exception as e:  # reported by the caller
                box["e"] = e

        t = threading.Thread(target=run, daemon=True)
        t.start()

        def result(timeout=30):
            t.join(timeout)
            if "e" in box:
                fail(f"GET {path}: {box['e']!r}")
            if "r" not in box:
                fail(f"GET {path}: no answer within {timeout} s")
            return box["r"]
        return result

    def raw_hold(self, path):
        """Sends a request on a raw socket and leaves it waiting."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        return s

    def metrics(self):
        r = self.get("/metrics")
        check(r.status == 200, f"/metrics answered {r.status}")
        out = {}
        for line in r.text.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
        return out

    def blocked(self):
        return self.metrics()["glasscast_origin_blocked_requests"]

    def wait_blocked(self, n, timeout=5):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.blocked() == n:
                return
            time.sleep(0.02)
        fail(f"blocked gauge did not reach {n} (is {self.blocked()})")

    def stop(self, sig=signal.SIGTERM):
        """SIGTERM (or sig); a clean shutdown exits 0 within a few seconds."""
        if self.stopped:
            return
        self.stopped = True
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            fail("glasscastd did not exit within 5 s of SIGTERM")
        self.errlog.close()
        check(rc == 0, f"glasscastd exited with {rc} after SIGTERM; log: {self.log_text()}")


def run_tests(tests):
    """main(): run the test named by argv[1] in a fresh temp folder."""
    if len(sys.argv) != 2 or sys.argv[1] not in tests:
        print(f"usage: {sys.argv[0]} {{{','.join(sorted(tests))}}}", file=sys.stderr)
        sys.exit(2)
    name = sys.argv[1]
    if not os.path.exists(GLASSCASTD):
        print(f"SKIP: no glasscastd at {GLASSCASTD}")
        sys.exit(SKIP)
    if not element_available("llhlssink"):
        print("SKIP: llhlssink is not built (GST_PLUGIN_PATH)")
        sys.exit(SKIP)
    keep = os.environ.get("GC_KEEP_TMP")
    tmp = tempfile.mkdtemp(prefix=f"gc-origin-{name}-")
    ctx = Context(tmp)
    try:
        tests[name](ctx)
        ctx.close()
    except TestFailure as e:
        print(f"FAIL: {e}", flush=True)
        ctx.close(quiet=True)
        if ctx.origin_logs:
            print("--- glasscastd log (tail) ---\n" + ctx.origin_logs[-1], flush=True)
        if keep:
            print(f"(kept {tmp})")
        sys.exit(1)
    finally:
        if not keep:
            subprocess.run(["rm", "-rf", tmp])
    print(f"PASS: {name}", flush=True)
    sys.exit(0)


class Context:
    """What a test owns: its temp folder, writers and origins, stopped at the end."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.media = os.path.join(tmp, "media")
        os.makedirs(self.media)
        self.writers = []
        self.origins = []
        self.origin_logs = []

    def writer(self, **kw):
        w = Writer(self.media, logfile=os.path.join(self.tmp, f"writer{len(self.writers)}.log"), **kw)
        self.writers.append(w)
        return w

    def origin(self, **kw):
        o = Origin(self.media, workdir=self.tmp, **kw)
        self.origins.append(o)
        return o

    def close(self, quiet=False):
        for w in self.writers:
            w.stop()
        for o in self.origins:
            try:
                o.stop()
            except TestFailure:
                if not quiet:
                    raise
            finally:
                self.origin_logs.append(o.log_text())
