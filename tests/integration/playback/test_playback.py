#!/usr/bin/env python3
# test_playback.py — playback tokens end to end: glasscastd (full service) with a playback=token channel and a public one,
# both written live by llhlssink; the origin's checks and rewrites, the token endpoint, and the nginx edge's njs check.
"""Usage: test_playback.py NAME  (origin | endpoint | edge)

Tokens are minted here with Python's hmac from the secret file glasscastd
is configured with, independently of billing/playback-token.c.
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "origin"))
from originlib import Writer, edge, preload_hint, segments  # noqa: E402
from gclib import check, fail  # noqa: E402

GLASSCASTD = os.environ.get("GLASSCASTD", "glasscastd")
NGINX = os.environ.get("NGINX") or shutil.which("nginx") or "/usr/sbin/nginx"
RENDER = os.path.join(HERE, "..", "..", "..", "examples", "render-nginx-conf.sh")
PASSWORD = "correct horse battery staple"
PPV, FREE, OTHER = "ppv", "free", "other"


def mint(secret, channel, viewer, expires):
    text = f"v1.{channel}.{viewer}.{expires}"
    mac = hmac.new(secret, text.encode(), hashlib.sha256).digest()
    return text + "." + base64.urlsafe_b64encode(mac).decode().rstrip("=")


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        return self.headers.get(name.lower())

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return f"<{self.status} {self.headers.get('cache-control')} {self.body[:160]!r}>"


def get(port, path, headers=None, method="GET", body=None, timeout=20):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


def with_query(path, query):
    return path + ("&" if "?" in path else "?") + query


class Stack:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="gc-playback-")
        os.chmod(self.tmp, 0o755)
        self.media = os.path.join(self.tmp, "media")
        os.makedirs(self.media)
        self.secret = os.urandom(32)
        self.secret_path = os.path.join(self.tmp, "playback-secret")
        with open(self.secret_path, "wb") as f:
            f.write(self.secret)
        self.config_path = os.path.join(self.tmp, "glasscast.ini")
        with open(self.config_path, "w") as f:
            f.write("\n".join([
                "[server]", f"media-dir={self.media}", f"data-dir={os.path.join(self.tmp, 'data')}",
                "log-level=debug", f"playback-token-secret-file={self.secret_path}",
                f"[channel:{PPV}]", "owner=Alice", "playback=token",
                f"[channel:{FREE}]", "owner=Bob",
                f"[channel:{OTHER}]", "owner=Carol", "playback=token",
            ]) + "\n")
        self.procs = []
        self.writers = [Writer(self.media, channel=PPV), Writer(self.media, channel=FREE)]
        self.writers[0].wait_segments(2)
        self.writers[1].wait_segments(2)
        self.log_path = os.path.join(self.tmp, "glasscastd.log")
        self.errlog = open(self.log_path, "w")
        self.gc = subprocess.Popen([GLASSCASTD, "--config", self.config_path, "--listen", "127.0.0.1:0"],
                                   stdout=subprocess.PIPE, stderr=self.errlog)
        box = {}
        t = threading.Thread(target=lambda: box.update(line=self.gc.stdout.readline().decode()),
                             daemon=True)
        t.start()
        t.join(20)
        m = re.match(r"listening on http://127\.0\.0\.1:(\d+)", box.get("line", ""))
        if not m:
            self.gc.kill()
            fail(f"glasscastd did not start: {box.get('line')!r}\n{self.log_text()}")
        self.port = int(m.group(1))
        self.nginx = None

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()

    def token(self, channel=PPV, viewer=7, ttl=300, secret=None):
        return mint(secret or self.secret, channel, viewer, int(time.time()) + ttl)

    def wait_playlist(self, port, channel, token):
        path = f"/live/{channel}/video_0/media.m3u8" + (f"?token={token}" if token else "")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            r = get(port, path)
            if r.status == 200 and segments(r.text):
                return r.text
            time.sleep(0.2)
        fail(f"no playlist for {channel} on port {port}")

    def start_edge(self):
        prefix = os.path.join(self.tmp, "edge")
        for sub in ("logs", "cache", "tmp", "html"):
            os.makedirs(os.path.join(prefix, sub), exist_ok=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        conf = os.path.join(prefix, "edge.conf")
        subprocess.run([RENDER, conf, f"LISTEN=127.0.0.1:{port}", f"ORIGIN=127.0.0.1:{self.port}",
                        f"COLLAPSE=unix:{os.path.join(prefix, 'collapse.sock')}",
                        f"USER={pwd.getpwuid(os.getuid()).pw_name}",
                        f"GLASSCAST_CONFIG={self.config_path}"], check=True)
        check(oct(os.stat(os.path.join(prefix, "playback-secrets.conf")).st_mode & 0o777) == "0o600",
              "playback-secrets.conf is not 0600")
        with open(conf) as f:
            text = f.read()
        text = re.sub(r"^(\s*worker_processes\s+)[^;]+;", r"\g<1>1;", text, flags=re.M)
        with open(conf, "w") as f:
            f.write(text)
        self.nginx_log = open(os.path.join(self.tmp, "nginx.log"), "w")
        self.nginx = subprocess.Popen([NGINX, "-p", prefix + "/", "-c", conf, "-g", "daemon off;"],
                                      stdout=self.nginx_log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                r = get(port, f"/live/{FREE}/video_0/media.m3u8", timeout=2)
                if r.status == 200:
                    self.edge_port = port
                    return port
            except OSError:
                pass
            if self.nginx.poll() is not None:
                break
            time.sleep(0.1)
        with open(os.path.join(prefix, "logs", "error.log")) as f:
            fail(f"nginx did not come up:\n{f.read()[-3000:]}")

    def stop(self):
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)
            try:
                self.nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
        if self.gc.poll() is None:
            self.gc.send_signal(signal.SIGTERM)
            try:
                self.gc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.gc.kill()
        for w in self.writers:
            w.stop()
        # Secrets never reach a log.
        log = self.log_text()
        check(self.secret.hex() not in log, "the secret was logged")
        for t in getattr(self, "issued", []):
            check(t not in log, "a playback token was logged")
        shutil.rmtree(self.tmp, ignore_errors=True)


def check_forbidden(r, what):
    check(r.status == 403, f"{what}: expected 403, got {r!r}")
    check(r.header("cache-control") == "no-store", f"{what}: 403 cacheable: {r!r}")
    try:
        err = json.loads(r.body)["error"]
    except (ValueError, KeyError):
        fail(f"{what}: not a JSON error: {r!r}")
    check(err.get("code") == "forbidden", f"{what}: code {err!r}")


def urls_of(st, port, token=None, channel=PPV):
    """Every kind of URL of @channel: multivariant, media playlist, blocking reload, preload hint, init, part, segment."""
    # The writer's own playlist gives the names without any token.
    w = st.writers[0 if channel == PPV else 1]
    text = w.read_playlist()
    msn, part = edge(text)
    base = f"/live/{channel}/video_0/"
    init = re.search(r'#EXT-X-MAP:URI="([^"]+)"', text).group(1)
    part_uri = re.findall(r'#EXT-X-PART:[^\n]*URI="([^"]+)"', text)[-1]
    return {
        "multivariant": f"/live/{channel}/index.m3u8",
        "playlist": base + "media.m3u8",
        "blocking": base + f"media.m3u8?_HLS_msn={msn}&_HLS_part={max(part, 0)}",
        "init": base + init,
        "part": base + part_uri,
        "segment": base + segments(text)[-1],
        "preload-hint": base + preload_hint(text),
    }


def test_origin(st):
    port = st.port
    urls = urls_of(st, port)
    good = st.token()
    expired = mint(st.secret, PPV, 7, int(time.time()) - 1)
    wrong_channel = st.token(channel=OTHER)
    forged = st.token(secret=b"x" * 32)
    tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    viewer_changed = good.replace(".7.", ".8.", 1)
    for kind, path in urls.items():
        check_forbidden(get(port, path), f"{kind} without a token")
        for name, bad in [("expired", expired), ("other channel", wrong_channel),
                          ("forged", forged), ("tampered", tampered), ("viewer changed", viewer_changed),
                          ("garbage", "nonsense"), ("empty", "")]:
            check_forbidden(get(port, with_query(path, f"token={bad}")), f"{kind} with a {name} token")
            check_forbidden(get(port, path, headers={"Cookie": f"gc_play={bad}"}),
                            f"{kind} with a {name} cookie")
        # A bad query token is not rescued by a good cookie.
        check_forbidden(get(port, with_query(path, f"token={expired}"), {"Cookie": f"gc_play={good}"}),
                        f"{kind}: expired query token, good cookie")
    check_forbidden(get(port, f"/live/{PPV}/nothing-here/media.m3u8"), "unknown rendition without a token")

    # Valid query token: 200, and every URI of the playlists carries it.
    for kind, path in urls.items():
        r = get(port, with_query(path, f"token={good}"))
        check(r.status == 200, f"{kind} with a valid token: {r!r}")
        if kind in ("multivariant", "playlist", "blocking"):
            check(r.header("cache-control").startswith("private"),
                  f"{kind}: a playlist carrying a token is cacheable: {r.header('cache-control')}")
            lines = r.text.splitlines()
            uris = [l for l in lines if l and not l.startswith("#")]
            uris += re.findall(r'URI="([^"]+)"', r.text)
            check(uris, f"{kind}: no URIs")
            for u in uris:
                check(u.endswith(f"token={good}"), f"{kind}: URI without the token: {u!r}")
            if kind != "multivariant":
                for tag in ("#EXT-X-MAP:", "#EXT-X-PART:", "#EXT-X-PRELOAD-HINT:"):
                    line = next(l for l in lines if l.startswith(tag))
                    check(f'?token={good}"' in line, f"{kind}: {tag} without the token: {line}")
        else:
            check(r.header("cache-control") == "public, max-age=31536000, immutable",
                  f"{kind}: {r.header('cache-control')}")
    # A URI taken from a rewritten playlist works as it is.
    r = get(port, with_query(urls["playlist"], f"token={good}"))
    seg = [l for l in r.text.splitlines() if l and not l.startswith("#")][-1]
    check(get(port, f"/live/{PPV}/video_0/{seg}").status == 200, f"rewritten URI {seg} refused")

    # Cookie: 200, and the playlist is the shared one (no token in it, public).
    for kind, path in urls.items():
        r = get(port, path, headers={"Cookie": f"other=1; gc_play={good}"})
        check(r.status == 200, f"{kind} with a valid cookie: {r!r}")
        if kind in ("playlist", "multivariant"):
            check("token=" not in r.text, f"{kind}: cookie playlist carries a token")
            check(r.header("cache-control") == "public, max-age=1", f"{kind}: {r.header('cache-control')}")

    # The public channel: untouched, tokens or not.
    free = urls_of(st, port, channel=FREE)
    for kind, path in free.items():
        check(get(port, path).status == 200, f"public {kind} refused")
    with open(os.path.join(st.media, FREE, "index.m3u8"), "rb") as f:
        on_disk = f.read()
    r = get(port, free["multivariant"])
    check(r.body == on_disk, "public multivariant is not byte-identical to the file")
    r = get(port, with_query(free["multivariant"], f"token={st.token(channel=FREE)}"))
    check(r.body == on_disk and r.header("cache-control") == "public, max-age=1",
          "a token on a public channel changed its playlist")
    r = get(port, with_query(free["playlist"], "token=nonsense"))
    check(r.status == 200 and "token=" not in r.text, f"public playlist with a junk token: {r!r}")


def sign_up(st, user):
    r = get(st.port, "/api/v1/accounts", method="POST",
            body=json.dumps({"username": user, "password": PASSWORD}),
            headers={"Content-Type": "application/json"})
    check(r.status in (200, 201), f"sign-up {user}: {r!r}")
    return json.loads(r.body)["token"]


def test_endpoint(st):
    port = st.port
    path = f"/api/v1/playback-token?channel={PPV}"
    r = get(port, path)
    check(r.status == 401, f"anonymous: {r!r}")
    alice = sign_up(st, "Alice")
    mallory = sign_up(st, "Mallory")
    r = get(port, path, headers={"Authorization": f"Bearer {alice}"})
    check(r.status == 200, f"owner: {r!r}")
    check(r.header("cache-control") == "no-store", f"token answer cacheable: {r!r}")
    body = json.loads(r.body)
    token, expires = body["token"], body["expires"]
    st.issued = [token]
    now = time.time()
    check(now + 250 < expires <= now + 301, f"lifetime: expires {expires}, now {now}")
    check(token.startswith(f"v1.{PPV}.") and token.split(".")[3] == str(expires), f"token {token!r}")
    # Python's hmac agrees with the C minter.
    viewer = int(token.split(".")[2])
    check(mint(st.secret, PPV, viewer, expires) == token, "token is not HMAC-SHA256 over the canonical fields")
    cookie = r.header("set-cookie")
    for part in (f"gc_play={token}", f"Path=/live/{PPV}/", "HttpOnly", "SameSite=Lax", "Max-Age=300"):
        check(part in cookie, f"cookie {cookie!r} lacks {part}")
    check(get(port, f"/live/{PPV}/index.m3u8?token={token}").status == 200, "issued token refused")
    check(get(port, f"/live/{PPV}/index.m3u8", {"Cookie": f"gc_play={token}"}).status == 200,
          "issued cookie refused")
    check_forbidden(get(port, f"/live/{OTHER}/index.m3u8?token={token}"), "token used on another channel")

    # Not the owner, no authorizer configured: denied for token channels.
    r = get(port, path, headers={"Authorization": f"Bearer {mallory}"})
    check(r.status == 403, f"viewer without entitlement: {r!r}")
    r = get(port, f"/api/v1/playback-token?channel={FREE}", headers={"Authorization": f"Bearer {mallory}"})
    check(r.status == 200, f"public channel token: {r!r}")
    r = get(port, "/api/v1/playback-token?channel=no/such", headers={"Authorization": f"Bearer {alice}"})
    check(r.status == 400, f"bad channel name: {r!r}")
    r = get(port, "/api/v1/playback-token", headers={"Authorization": f"Bearer {alice}"})
    check(r.status == 400, f"no channel: {r!r}")
    r = get(port, path, method="POST", headers={"Authorization": f"Bearer {alice}"})
    check(r.status == 405, f"POST: {r!r}")


def test_edge(st):
    port = st.start_edge()
    urls = urls_of(st, port)
    good_a = st.token(viewer=7)
    good_b = st.token(viewer=8)
    expired = mint(st.secret, PPV, 7, int(time.time()) - 1)
    forged = st.token(secret=b"y" * 32)
    wrong = st.token(channel=OTHER)
    st.issued = [good_a, good_b]
    for kind, path in urls.items():
        check_forbidden(get(port, path), f"edge {kind} without a token")
        for name, bad in [("expired", expired), ("forged", forged), ("other channel", wrong)]:
            check_forbidden(get(port, with_query(path, f"token={bad}")), f"edge {kind} with a {name} token")
            check_forbidden(get(port, path, headers={"Cookie": f"gc_play={bad}"}),
                            f"edge {kind} with a {name} cookie")
    before = upstream_lines(st)

    # Viewer A fetches the init section and a segment; viewer B, with a token
    # of their own, gets them from the cache; nobody without a token does.
    for kind in ("init", "segment", "part"):
        path = urls[kind]
        ra = get(port, with_query(path, f"token={good_a}"))
        check(ra.status == 200, f"edge {kind} viewer A: {ra!r}")
        rb = get(port, with_query(path, f"token={good_b}"))
        check(rb.status == 200 and rb.header("x-cache-status") == "HIT",
              f"edge {kind} viewer B not served from the cache: {rb.status} {rb.header('x-cache-status')}")
        check(rb.body == ra.body, f"edge {kind}: different bytes")
        rc = get(port, path, headers={"Cookie": f"gc_play={good_b}"})
        check(rc.status == 200 and rc.header("x-cache-status") == "HIT", f"edge {kind} cookie: {rc!r}")
        check_forbidden(get(port, path), f"edge cached {kind} without a token")
        check_forbidden(get(port, with_query(path, f"token={expired}")), f"edge cached {kind}, expired token")
    after = upstream_lines(st)
    for kind in ("init", "segment", "part"):
        name = urls[kind].rsplit("/", 1)[1]
        n = sum(1 for l in after[len(before):] if name in l)
        check(n == 1, f"edge: {kind} reached the origin {n} times, expected once")

    # Playlists with a query token: the viewer's own, never shared.
    ra = get(port, with_query(urls["playlist"], f"token={good_a}"))
    rb = get(port, with_query(urls["playlist"], f"token={good_b}"))
    check(ra.status == 200 and rb.status == 200, f"edge playlists: {ra!r} {rb!r}")
    check(good_a in ra.text and good_a not in rb.text and good_b in rb.text,
          "edge handed one viewer's token to another")
    # The multivariant through the edge, by cookie: shared, no token inside.
    r = get(port, urls["multivariant"], headers={"Cookie": f"gc_play={good_a}"})
    check(r.status == 200 and "token=" not in r.text, f"edge cookie multivariant: {r!r}")
    # The public channel is as before.
    r = get(port, f"/live/{FREE}/index.m3u8")
    check(r.status == 200 and r.header("x-cache-status") in ("MISS", "HIT", "EXPIRED", "UPDATING"),
          f"edge public channel: {r!r}")


def upstream_lines(st):
    try:
        with open(os.path.join(st.tmp, "edge", "logs", "upstream.log")) as f:
            return f.read().splitlines()
    except OSError:
        return []


TESTS = {"origin": test_origin, "endpoint": test_endpoint, "edge": test_edge}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in TESTS:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(TESTS)}")
    st = Stack()
    try:
        TESTS[sys.argv[1]](st)
    except BaseException:
        print(st.log_text()[-3000:], file=sys.stderr)
        raise
    finally:
        st.stop()
    print(f"ok: playback-{sys.argv[1]}")
