#!/usr/bin/env python3
# edgelib.py — starts the LL-HLS edge stack for tests and benchmarks: a live llhlssink writer,
# `glasscastd --origin` and nginx with examples/nginx-edge.conf, each on 127.0.0.1, all stopped together.
"""The edge stack (Python 3 stdlib only).

As a library (tests/integration/edge/test_*.py):

    with EdgeStack(tmp) as stack:
        stack.edge_url     # http://127.0.0.1:PORT   (nginx)
        stack.origin_url   # http://127.0.0.1:PORT   (glasscastd)
        stack.media_dir    # DIR/<channel>/... written by llhlssink

As a program, it runs a command with the stack up and its coordinates in the
environment (EDGE_URL, ORIGIN_URL, MEDIA_DIR, CHANNEL, NGINX_PREFIX,
NGINX_PID, ORIGIN_PID, WRITER_PID), then stops everything:

    edgelib.py run [--workers N] [--bitrate KBPS] [--serve NAME=DIR]... [--set DIRECTIVE=VALUE]...
                   -- CMD ARGS...

Needs: GLASSCASTD (path of the glasscastd binary), GST_PLUGIN_PATH with
llhlssink, nginx on PATH (or NGINX). Exits 77 (skipped) when glasscastd or
llhlssink was not built.
"""

import argparse
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
RENDER = os.path.join(SOURCE_ROOT, "examples", "render-nginx-conf.sh")
SKIP = 77

CHANNEL = "demo"
RENDITION = "video_0"
TARGET_DURATION = 1
PART_MS = 200


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class StackError(Exception):
    pass


class Skip(Exception):
    pass


def writer_launch(location, bitrate_kbps=1000):
    """A live 640x360 30 fps H.264 channel of about bitrate_kbps, GOP far longer than a
    segment (keyframes only where llhlssink asks for them)."""
    return ["gst-launch-1.0", "-q", "-e",
            "videotestsrc", "is-live=true", "pattern=ball", "!",
            "video/x-raw,format=I420,width=640,height=360,framerate=30/1", "!",
            "x264enc", "tune=zerolatency", "speed-preset=ultrafast", "key-int-max=600",
            f"bitrate={bitrate_kbps}", "!", "h264parse", "!",
            "llhlssink", f"location={location}", f"target-duration={TARGET_DURATION}",
            f"part-duration={PART_MS}"]


def free_port():
    """A port the OS just handed out on 127.0.0.1; the caller retries if it is taken again."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    """(status, headers, body) of a GET; status 0 when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()
    except (urllib.error.URLError, OSError):
        return 0, {}, b""


def origin_counters(origin_url):
    """{metric name with labels: value} from the origin's /metrics (Prometheus text)."""
    status, _, body = http_get(origin_url + "/metrics")
    if status != 200:
        raise StackError(f"GET {origin_url}/metrics answered {status}")
    out = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            try:
                out[name] = float(value)
            except ValueError:
                pass
    return out


def origin_requests(counters):
    """All requests the origin answered (every status class)."""
    return sum(v for k, v in counters.items() if k.startswith("glasscast_http_requests_total"))


class EdgeStack:
    """Writer + origin + nginx edge under one temp folder; a context manager."""

    def __init__(self, tmp, workers=None, bitrate_kbps=1000, serve=(), directives=()):
        self.tmp = tmp
        self.workers = workers
        self.bitrate_kbps = bitrate_kbps
        self.serve = list(serve)  # [(name, folder)]: the edge serves folder at /name/
        self.directives = list(directives)  # [(directive, value)] changed in the rendered config
        self.media_dir = os.path.join(tmp, "media")
        self.channel_dir = os.path.join(self.media_dir, CHANNEL)
        self.nginx_prefix = os.path.join(tmp, "edge")
        self.procs = []
        self.writer = self.origin = self.nginx = None
        self.origin_url = self.edge_url = None

    # -- lifecycle -------------------------------------------------------

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        glasscastd = os.environ.get("GLASSCASTD")
        if not glasscastd or not os.access(glasscastd, os.X_OK):
            raise Skip(f"glasscastd not built (GLASSCASTD={glasscastd!r})")
        if subprocess.run(["gst-inspect-1.0", "llhlssink"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode != 0:
            raise Skip(f"llhlssink not found (GST_PLUGIN_PATH={os.environ.get('GST_PLUGIN_PATH')})")
        os.makedirs(self.media_dir, exist_ok=True)
        self._start_writer()
        self._start_origin(glasscastd)
        self._wait_for_channel()
        self._start_nginx()

    def stop(self):
        # nginx and the origin first (no new requests), the writer last.
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM if p is not self.writer else signal.SIGINT)
        deadline = time.monotonic() + 10
        for p in reversed(self.procs):
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []

    # -- processes -------------------------------------------------------

    def _spawn(self, args, name, **kw):
        out = open(os.path.join(self.tmp, f"{name}.log"), "w")
        p = subprocess.Popen(args, stdout=kw.pop("stdout", out), stderr=out, **kw)
        self.procs.append(p)
        return p

    def logfile(self, name):
        try:
            with open(os.path.join(self.tmp, f"{name}.log")) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def _start_writer(self):
        env = dict(os.environ)
        env.setdefault("GST_DEBUG", "*:1")
        self.writer = self._spawn(writer_launch(self.channel_dir, self.bitrate_kbps), "writer", env=env)

    def _start_origin(self, glasscastd):
        self.origin = self._spawn([glasscastd, "--origin", self.media_dir, "--listen", "127.0.0.1:0",
                                   "--log-level", "warning"], "origin")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", self.logfile("origin"))
            if m:
                self.origin_url = m.group(1)
                log(f"origin: {self.origin_url} (pid {self.origin.pid})")
                return
            if self.origin.poll() is not None:
                break
            time.sleep(0.05)
        raise StackError(f"glasscastd did not print 'listening on':\n{self.logfile('origin')}")

    def media_playlist_path(self):
        return os.path.join(self.channel_dir, RENDITION, "media.m3u8")

    def _wait_for_channel(self):
        url = f"{self.origin_url}/live/{CHANNEL}/{RENDITION}/media.m3u8"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.writer.poll() is not None:
                raise StackError(f"writer exited early:\n{self.logfile('writer')}")
            status, _, body = http_get(url)
            if status == 200 and b"#EXT-X-PRELOAD-HINT" in body:
                return
            time.sleep(0.2)
        raise StackError(f"the origin never served {url}")

    def _start_nginx(self):
        nginx = os.environ.get("NGINX") or shutil.which("nginx") or "/usr/sbin/nginx"
        prefix = self.nginx_prefix
        for sub in ("logs", "cache", "tmp", "html"):
            os.makedirs(os.path.join(prefix, sub), exist_ok=True)
        for name, folder in self.serve:
            os.symlink(os.path.abspath(folder), os.path.join(prefix, "html", name))
        # Workers (when started as root, they switch to @USER) must reach the prefix.
        os.chmod(self.tmp, 0o755)
        origin_addr = self.origin_url.split("//", 1)[1]
        for attempt in range(8):
            port = free_port()
            conf = os.path.join(prefix, "edge.conf")
            values = [f"LISTEN=127.0.0.1:{port}", f"ORIGIN={origin_addr}",
                      f"COLLAPSE=unix:{os.path.join(prefix, 'collapse.sock')}"]
            values.append(f"USER={pwd.getpwuid(os.getuid()).pw_name}")
            subprocess.run([RENDER, conf] + values, check=True)
            changes = list(self.directives)
            if self.workers:
                changes.append(("worker_processes", str(self.workers)))
            if changes:
                with open(conf) as f:
                    text = f.read()
                for name, value in changes:
                    text, n = re.subn(rf"^(\s*{re.escape(name)}\s+)[^;]+;", rf"\g<1>{value};", text,
                                      flags=re.M)
                    if n == 0:
                        raise StackError(f"no directive {name} in the edge config")
                with open(conf, "w") as f:
                    f.write(text)
            self.nginx = self._spawn([nginx, "-p", prefix + "/", "-c", conf, "-g", "daemon off;"],
                                     f"nginx-{attempt}")
            self.nginx_log = f"nginx-{attempt}"
            url = f"http://127.0.0.1:{port}/live/{CHANNEL}/{RENDITION}/media.m3u8"
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.nginx.poll() is None:
                status, headers, _ = http_get(url, timeout=2)
                if status == 200 and "X-Cache-Status" in headers:
                    self.edge_url = f"http://127.0.0.1:{port}"
                    log(f"edge: {self.edge_url} (nginx pid {self.nginx.pid})")
                    return
                time.sleep(0.1)
            text = self.logfile(f"nginx-{attempt}") + self._read(os.path.join(prefix, "logs", "error.log"))
            if self.nginx.poll() is None:
                self.nginx.kill()
                self.nginx.wait()
            self.procs.remove(self.nginx)
            if "Address already in use" not in text:
                raise StackError(f"nginx did not come up on port {port}:\n{text}")
            log(f"port {port} was taken again; retrying")
        raise StackError("no free port for nginx after 8 tries")

    @staticmethod
    def _read(path):
        try:
            with open(path) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    # -- what tests look at ---------------------------------------------

    def upstream_log(self):
        """Lines of nginx's log of the requests its collapsing tier sent to the origin."""
        path = os.path.join(self.nginx_prefix, "logs", "upstream.log")
        try:
            with open(path) as f:
                return f.read().splitlines()
        except OSError:
            return []

    def workers_pids(self):
        """PIDs of nginx's worker processes (children of the master)."""
        try:
            with open(f"/proc/{self.nginx.pid}/task/{self.nginx.pid}/children") as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []


def exit_on_sigterm():
    """meson and timeout(1) stop tests with SIGTERM: unwind so every child is stopped."""
    def handler(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, handler)


def _run(args):
    exit_on_sigterm()
    tmp = tempfile.mkdtemp(prefix="gc-edge-")
    code = 1
    try:
        serve = [tuple(x.split("=", 1)) for x in args.serve]
        directives = [tuple(x.split("=", 1)) for x in args.set]
        with EdgeStack(tmp, workers=args.workers, bitrate_kbps=args.bitrate, serve=serve,
                       directives=directives) as s:
            env = dict(os.environ)
            env.update(EDGE_URL=s.edge_url, ORIGIN_URL=s.origin_url, MEDIA_DIR=s.media_dir,
                       CHANNEL=CHANNEL, RENDITION=RENDITION, NGINX_PREFIX=s.nginx_prefix,
                       NGINX_PID=str(s.nginx.pid), ORIGIN_PID=str(s.origin.pid),
                       WRITER_PID=str(s.writer.pid), STACK_TMP=tmp)
            code = subprocess.run(args.command, env=env).returncode
    except Skip as e:
        print(f"SKIP: {e}", flush=True)
        code = SKIP
    except StackError as e:
        print(f"FAIL: {e}", flush=True)
        code = 1
    finally:
        if os.environ.get("GC_KEEP_TMP"):
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return code


def main():
    ap = argparse.ArgumentParser(description="Run a command with the LL-HLS edge stack up.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--workers", type=int, default=None, help="nginx worker_processes (default: auto)")
    r.add_argument("--bitrate", type=int, default=1000, help="channel bitrate in kbit/s")
    r.add_argument("--serve", action="append", default=[], metavar="NAME=DIR",
                   help="the edge also serves static DIR at /NAME/ (repeatable)")
    r.add_argument("--set", action="append", default=[], metavar="DIRECTIVE=VALUE",
                   help="change every DIRECTIVE of the rendered edge config (repeatable)")
    r.add_argument("command", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    if args.command and args.command[0] == "--":
        args.command = args.command[1:]
    if not args.command:
        ap.error("run needs a command after --")
    sys.exit(_run(args))


if __name__ == "__main__":
    main()
