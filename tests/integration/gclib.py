# gclib.py — shared helpers of the integration tests: run gst-launch pipelines, wait for
# files, run hlscheck, serve a folder over HTTP on 127.0.0.1, and fail with a clear message.
"""Helpers for tests/integration/test_*.py (Python 3 stdlib only).

Each test script is a small program: it makes its own temp dir, runs the
element through gst-launch-1.0, and states expectations with check() (hard:
the test stops) or expect() (soft: recorded, the test goes on so one finding
does not hide the next; every hlscheck violation is soft). It exits 1 if any
expectation failed, 77 (meson's "skipped") when llhlssink is not built, and 0
otherwise. GC_KEEP_TMP=1 keeps the output folder for a post-mortem.
"""

import contextlib
import functools
import http.server
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))

import hlscheck  # noqa: E402

SKIP = 77

# A live 640x360 30 fps H.264 source whose GOP is far longer than a segment,
# so only the element's force-key-unit requests can put keyframes on boundaries.
LIVE_VIDEO = ("videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,width=640,height=360,framerate=30/1 ! "
              "x264enc tune=zerolatency key-int-max=600 speed-preset=ultrafast ! h264parse")
# Not wave=ticks: GStreamer 1.22's audiotestsrc leaves a few samples of each
# ticks buffer unwritten, and with MALLOC_PERTURB_ (set by meson test) those
# become huge floats on which FFmpeg's AAC encoder loops forever.
LIVE_AUDIO = "audiotestsrc is-live=true wave=sine ! audioconvert ! avenc_aac ! aacparse"


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class TestFailure(Exception):
    pass


_soft_failures = []


def fail(msg):
    raise TestFailure(msg)


def check(cond, msg):
    """A hard expectation: the test cannot go on without it."""
    if not cond:
        fail(msg)


def expect(cond, msg):
    """A soft expectation: recorded, reported at the end, and the test goes on
    so that one finding does not hide the next."""
    if not cond:
        print(f"FAIL (continuing): {msg}", flush=True)
        _soft_failures.append(msg)
    return bool(cond)


def main(fn):
    """Run fn(tmpdir) in a fresh temp dir; map failures to exit codes."""
    @functools.wraps(fn)
    def run():
        require_element("llhlssink")
        keep = os.environ.get("GC_KEEP_TMP")
        tmp = tempfile.mkdtemp(prefix=f"gc-{fn.__name__}-")
        try:
            fn(tmp)
        except TestFailure as e:
            print(f"FAIL: {e}", flush=True)
            _soft_failures.append(str(e))
        finally:
            Pipeline.stop_all()
            if not keep:
                shutil.rmtree(tmp, ignore_errors=True)
        if _soft_failures:
            print(f"{fn.__name__}: {len(_soft_failures)} failure(s); first: {_soft_failures[0].splitlines()[0]}",
                  flush=True)
            if keep:
                print(f"(output folder kept: {tmp})", flush=True)
            sys.exit(1)
        print(f"PASS: {fn.__name__}", flush=True)
        sys.exit(0)
    return run


def element_available(name):
    """Whether gst-inspect-1.0 finds the element (GST_PLUGIN_PATH included)."""
    r = subprocess.run(["gst-inspect-1.0", name], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return r.returncode == 0


def require_element(name):
    r = subprocess.run(["gst-inspect-1.0", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if r.returncode != 0:
        print(f"SKIP: element {name} not found (GST_PLUGIN_PATH={os.environ.get('GST_PLUGIN_PATH')})")
        sys.exit(SKIP)


class Pipeline:
    """A gst-launch-1.0 -e process; stop() sends SIGINT so EOS flows and files are finalised."""

    _running = []

    def __init__(self, description, workdir, name="pipeline"):
        self.description = description
        self.out_path = os.path.join(workdir, f".{name}.log")
        self.out = open(self.out_path, "w+")
        args = ["gst-launch-1.0", "-e", "-q"] + split_launch(description)
        env = dict(os.environ)
        env.setdefault("GST_DEBUG", "*:1,llhls*:2")
        log(f"start: gst-launch-1.0 -e {description}")
        self.proc = subprocess.Popen(args, stdout=self.out, stderr=subprocess.STDOUT, env=env)
        Pipeline._running.append(self)

    def alive(self):
        return self.proc.poll() is None

    def output(self):
        self.out.flush()
        with open(self.out_path) as f:
            return f.read()

    def stop(self, timeout=20):
        """SIGINT (gst-launch -e turns it into EOS) and wait; returns the exit code."""
        if self.alive():
            self.proc.send_signal(signal.SIGINT)
        return self.wait(timeout)

    def wait(self, timeout):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            fail(f"pipeline did not finish within {timeout} s; output:\n{self.output()[-3000:]}")
        if self in Pipeline._running:
            Pipeline._running.remove(self)
        return rc

    def assert_clean_exit(self, rc):
        out = self.output()
        check(rc == 0, f"gst-launch-1.0 exited with {rc}; output:\n{out[-3000:]}")
        errors = [ln for ln in out.splitlines() if re.search(r"\bERROR\b|CRITICAL|WARNING \*\*", ln)]
        check(not errors, "pipeline reported errors:\n" + "\n".join(errors[:20]))

    @classmethod
    def stop_all(cls):
        for p in list(cls._running):
            if p.alive():
                p.proc.kill()
                p.proc.wait()
            cls._running.remove(p)


def split_launch(description):
    """gst-launch takes its pipeline as separate argv words; keep quoted caps intact."""
    return shlex.split(description)


def run_pipeline(description, workdir, timeout=60, name="pipeline"):
    """Run a finite (num-buffers) pipeline to EOS and assert it ended cleanly."""
    p = Pipeline(description, workdir, name)
    rc = p.wait(timeout)
    p.assert_clean_exit(rc)
    return p


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    fail(f"timed out after {timeout} s waiting for {what}")


def media_playlists(folder):
    """[(rendition folder name, path of media.m3u8)] referenced by index.m3u8, in order."""
    with open(os.path.join(folder, "index.m3u8")) as f:
        text = f.read()
    uris = re.findall(r'URI="([^"]+\.m3u8)"', text)
    uris += [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    seen = []
    for u in uris:
        if u not in seen:
            seen.append(u)
    return [(os.path.dirname(u), os.path.join(folder, u)) for u in seen]


def count_segments(playlist):
    try:
        with open(playlist) as f:
            return sum(1 for ln in f if ln.startswith("#EXTINF"))
    except OSError:
        return 0


def run_checker(folder, live=False, media=False, context=""):
    """Run hlscheck in-process; every violation is a (soft) failure, listed."""
    report = hlscheck.check_folder(folder, live=live, media=media)
    if not report.ok:
        lines = "\n".join(str(v) for v in report.violations[:40])
        more = len(report.violations) - 40
        expect(False, f"hlscheck{' --live' if live else ''}{' --media' if media else ''} {context}: "
               f"{len(report.violations)} violation(s) (rules: {', '.join(sorted(report.rules()))}):\n{lines}"
               + (f"\n... {more} more" if more > 0 else ""))
    else:
        log(report.summary(folder) + (f" ({context})" if context else ""))
    return report


def parse_media_playlist(path):
    """The checker's model of one media playlist (segments with msn, uri, duration, parts)."""
    report = hlscheck.Report()
    checker = hlscheck.PlaylistChecker(report, path, path)
    lines = checker.load()
    parsed = checker.check_tags(lines, "media")
    return hlscheck.parse_media_playlist(checker, lines, parsed)


def ffprobe_json(args, stdin_bytes=None, timeout=30):
    r = subprocess.run(["ffprobe", "-v", "error", "-of", "json"] + args, input=stdin_bytes,
                       capture_output=True, timeout=timeout)
    return r.returncode, json.loads(r.stdout or b"{}"), r.stderr.decode(errors="replace")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve_folder(folder):
    """Serve folder over HTTP on 127.0.0.1 with an OS-chosen port; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=folder)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def video_caps(width=640, height=360, fps=30):
    # format=I420 keeps x264enc on a profile every player decodes (it would pick
    # High 4:4:4 from videotestsrc's first offer otherwise).
    return f"video/x-raw,format=I420,width={width},height={height},framerate={fps}/1"


def h264_encoder(extra=""):
    return ("x264enc tune=zerolatency key-int-max=600 speed-preset=ultrafast "
            + extra + " ! h264parse")
