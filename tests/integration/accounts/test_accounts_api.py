#!/usr/bin/env python3
# test_accounts_api.py — integration tests of glasscastd's accounts API: sign-up, sign-in, sign-out,
# /me, channel owners and roles. One behaviour per test, chosen by argv[1]; meson registers accounts-<name>.
"""Run one test: test_accounts_api.py <name>. Exit 0 pass, 1 fail, 77 skip.

Each test starts its own glasscastd (full service, log-level=debug so that
every line that could leak a token is written) on 127.0.0.1:0 in a fresh
temp folder, with channel "chan" owned by "alice" in the config and an
admin token. After every test, no token or password handed out may appear
in glasscastd's log.
"""

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gclib import SKIP, TestFailure, check, fail, log  # noqa: E402

GLASSCASTD = os.environ.get("GLASSCASTD", "glasscastd")
ADMIN = "admin-token-for-accounts-tests"
PASSWORD = "correct horse battery"
TTL = 3600

# Everything secret the tests see; none of it may reach the log.
SECRETS = {ADMIN, PASSWORD}


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # [(name-lower, value)]
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k == name.lower():
                return v
        return None

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


def check_error(r, status, code=None):
    check(r.status == status, f"expected {status}, got {r!r}")
    try:
        err = r.json()["error"]
    except (ValueError, KeyError, TypeError):
        fail(f"error body is not {{\"error\":{{...}}}}: {r.body!r}")
    check(isinstance(err.get("message"), str) and err["message"], f"error without a message: {err!r}")
    if code:
        check(err.get("code") == code, f"error code {err.get('code')!r}, expected {code!r}")
    check(r.header("cache-control") == "no-store", f"error cacheable: {r.header('cache-control')!r}")
    return err


def hash_key(key):
    r = subprocess.run([GLASSCASTD, "--hash-key"], input=key + "\n", capture_output=True,
                       text=True, check=True)
    return r.stdout.strip().splitlines()[-1]


class Glasscastd:
    def __init__(self, tmp):
        self.tmp = tmp
        self.data = os.path.join(tmp, "data")
        cfg = [
            "[server]", f"media-dir={os.path.join(tmp, 'media')}", f"data-dir={self.data}",
            "log-level=debug", f"admin-token-hash={hash_key(ADMIN)}",
            "[accounts]", f"session-ttl={TTL}",
            "[channel:chan]", "owner=Alice",
        ]
        self.config_path = os.path.join(tmp, "glasscastd.ini")
        with open(self.config_path, "w") as f:
            f.write("\n".join(cfg) + "\n")
        self.log_path = os.path.join(tmp, "glasscastd.log")
        self.proc = None
        self.start()

    def start(self):
        self.errlog = open(self.log_path, "a")
        self.proc = subprocess.Popen([GLASSCASTD, "--config", self.config_path, "--listen", "127.0.0.1:0"],
                                     stdout=subprocess.PIPE, stderr=self.errlog)
        box = {}

        def reader():
            box["line"] = self.proc.stdout.readline().decode()

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        t.join(20)
        m = re.match(r"listening on http://127\.0\.0\.1:(\d+)", box.get("line", ""))
        if not m:
            self.proc.kill()
            fail(f"glasscastd did not report its port: {box.get('line')!r}\n{self.log_text()}")
        self.port = int(m.group(1))

    def stop(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            fail("glasscastd did not exit within 10 s of SIGTERM")
        finally:
            self.errlog.close()
            self.proc = None
        check(rc == 0, f"glasscastd exited with {rc}")

    def log_text(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def request(self, method, path, body=None, headers=None, token=None, cookie=None):
        headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        if isinstance(body, str):
            body = body.encode()
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if cookie is not None:
            headers["Cookie"] = f"gc_session={cookie}"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            return Response(r.status, [(k.lower(), v) for k, v in r.getheaders()], r.read())
        finally:
            conn.close()

    def sign_up(self, username, password=PASSWORD):
        return self.request("POST", "/api/v1/accounts", {"username": username, "password": password})

    def sign_in(self, username, password=PASSWORD):
        return self.request("POST", "/api/v1/sessions", {"username": username, "password": password})

    def me(self, **kw):
        return self.request("GET", "/api/v1/me", **kw)

    def account(self, username):
        """Signs up @username; returns its token."""
        r = self.sign_up(username)
        check(r.status == 201, f"sign-up {username}: {r!r}")
        token = r.json()["token"]
        SECRETS.add(token)
        return token


def session_cookie(r):
    """The gc_session value and attributes of the response's Set-Cookie."""
    raw = r.header("set-cookie")
    check(raw is not None, f"no Set-Cookie: {r.headers!r}")
    parts = [p.strip() for p in raw.split(";")]
    name, _, value = parts[0].partition("=")
    check(name == "gc_session", f"cookie {name!r}, expected gc_session")
    attrs = {}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        attrs[k.lower()] = v
    return value, attrs


# ------------------------------------------------------------------ sign-up and sessions

def test_sign_up(gc):
    """Sign-up: 201 with the account and a token, the same token in a gc_session cookie
    (Path=/, HttpOnly, SameSite=Lax, Max-Age=session-ttl), and both open /me."""
    r = gc.sign_up("Alice")
    check(r.status == 201, f"sign-up: {r!r}")
    body = r.json()
    token = body.get("token")
    check(isinstance(token, str) and token, f"no token: {body!r}")
    SECRETS.add(token)
    acct = body.get("account", {})
    check(acct.get("username") == "alice", f"username not lower-cased: {acct!r}")
    check(isinstance(acct.get("id"), int) and acct["id"] > 0, f"id: {acct!r}")
    check(isinstance(acct.get("created_ms"), int) and acct["created_ms"] > 1.7e12, f"created_ms: {acct!r}")
    check(r.header("cache-control") == "no-store", f"Cache-Control: {r.header('cache-control')!r}")
    value, attrs = session_cookie(r)
    check(value == token, "the cookie does not hold the token")
    check(attrs.get("path") == "/", f"cookie Path: {attrs!r}")
    check("httponly" in attrs, f"cookie not HttpOnly: {attrs!r}")
    check(attrs.get("samesite", "").lower() == "lax", f"cookie SameSite: {attrs!r}")
    check(attrs.get("max-age") == str(TTL), f"cookie Max-Age: {attrs!r}")

    for how, kw in (("bearer", {"token": token}), ("cookie", {"cookie": token})):
        r = gc.me(**kw)
        check(r.status == 200, f"/me by {how}: {r!r}")
        check(r.json()["account"] == acct, f"/me by {how}: {r.json()!r} != {acct!r}")
        check(r.header("cache-control") == "no-store", f"/me cacheable by {how}")
    check_error(gc.me(), 401, "unauthorized")


def test_bearer_beats_cookie(gc):
    """With both, the bearer token decides: a bad bearer with a good cookie is anonymous."""
    token = gc.account("dora")
    other = gc.account("eve")
    check_error(gc.me(token="v1.garbage", cookie=token), 401)
    r = gc.me(token=other, cookie=token)
    check(r.status == 200 and r.json()["account"]["username"] == "eve", f"/me: {r!r}")


def test_duplicate(gc):
    """A taken username is 409, in any case."""
    gc.account("frank")
    check_error(gc.sign_up("frank"), 409, "conflict")
    check_error(gc.sign_up("FRANK"), 409, "conflict")


def test_bad_fields(gc):
    """Bad usernames and passwords are 400 with a reason, and create nothing."""
    for name in ("ab", "x" * 26, "no spaces", "dash-es", "ümlaut", ""):
        check_error(gc.sign_up(name), 400, "bad_request")
    check_error(gc.sign_up("gina", "short"), 400, "bad_request")
    check_error(gc.sign_up("gina", "x" * 1025), 400, "bad_request")
    check_error(gc.request("POST", "/api/v1/accounts", {"username": "gina"}), 400, "bad_request")
    check_error(gc.request("POST", "/api/v1/accounts", {"username": 7, "password": PASSWORD}), 400)
    check_error(gc.request("POST", "/api/v1/accounts", {"username": "gina", "password": None}), 400)
    check_error(gc.sign_in("gina"), 401)
    check(gc.sign_up("gina").status == 201, "gina could not sign up after the refusals")


def test_bad_requests(gc):
    """Malformed JSON and non-objects 400, wrong Content-Type 415, a huge body 413,
    other methods 405 with Allow."""
    for path in ("/api/v1/accounts", "/api/v1/sessions"):
        ct = {"Content-Type": "application/json"}
        check_error(gc.request("POST", path, '{"username": "x", ', ct), 400, "bad_request")
        check_error(gc.request("POST", path, "[1, 2]", ct), 400, "bad_request")
        check_error(gc.request("POST", path, "", ct), 400, "bad_request")
        body = json.dumps({"username": "henry", "password": PASSWORD})
        check_error(gc.request("POST", path, body, {"Content-Type": "text/plain"}), 415,
                    "unsupported_media_type")
        check_error(gc.request("POST", path, body), 415, "unsupported_media_type")
        huge = json.dumps({"username": "henry", "password": "p" * (1 << 20)})
        check_error(gc.request("POST", path, huge, ct), 413, "too_large")
        r = gc.request("GET", path)
        check_error(r, 405, "method_not_allowed")
        check("POST" in (r.header("allow") or ""), f"Allow: {r.header('allow')!r}")
    r = gc.request("OPTIONS", "/api/v1/accounts")
    check(r.status == 204 and "POST" in (r.header("access-control-allow-methods") or ""),
          f"preflight: {r!r}")
    check_error(gc.request("POST", "/api/v1/me", "{}", {"Content-Type": "application/json"}), 405)
    check_error(gc.request("GET", "/api/v1/sessions/other"), 404)


def test_sign_in(gc):
    """Wrong password and unknown user: the same 401; the right password: 200 with a new
    token and cookie."""
    first = gc.account("ivan")
    wrong = check_error(gc.sign_in("ivan", "not the password"), 401, "unauthorized")
    unknown = check_error(gc.sign_in("nobody_here"), 401, "unauthorized")
    check(wrong["message"] == unknown["message"], f"tells users apart: {wrong!r} / {unknown!r}")
    r = gc.sign_in("IVAN")
    check(r.status == 200, f"sign-in: {r!r}")
    token = r.json()["token"]
    SECRETS.add(token)
    check(token != first, "sign-in returned the sign-up token")
    check(r.json()["account"]["username"] == "ivan", f"account: {r.json()!r}")
    value, attrs = session_cookie(r)
    check(value == token and attrs.get("max-age") == str(TTL), f"cookie: {value!r} {attrs!r}")
    check(gc.me(token=token).status == 200, "the sign-in token does not open /me")


def test_sign_out(gc):
    """DELETE /sessions/current: 204, revokes that token only, clears the cookie; the revoked
    token is then anonymous everywhere, and signing out again is 401."""
    gc.account("judy")
    tokens = []
    for _ in range(2):
        r = gc.sign_in("judy")
        check(r.status == 200, f"sign-in: {r!r}")
        tokens.append(r.json()["token"])
        SECRETS.add(tokens[-1])
    r = gc.request("DELETE", "/api/v1/sessions/current", cookie=tokens[0])
    check(r.status == 204, f"sign-out: {r!r}")
    value, attrs = session_cookie(r)
    check(value == "" and attrs.get("max-age") == "0", f"cookie not cleared: {value!r} {attrs!r}")
    check_error(gc.me(token=tokens[0]), 401)
    check_error(gc.me(cookie=tokens[0]), 401)
    check(gc.me(token=tokens[1]).status == 200, "signing out one session ended the other")
    check_error(gc.request("DELETE", "/api/v1/sessions/current", cookie=tokens[0]), 401)
    check(gc.request("DELETE", "/api/v1/sessions/current", token=tokens[1]).status == 204,
          "sign-out by bearer")
    check_error(gc.me(token=tokens[1]), 401)
    check_error(gc.request("DELETE", "/api/v1/sessions/current"), 401)


def test_tampered_token(gc):
    """A token changed anywhere (account id, expiry, signature) or not a token at all is 401."""
    token = gc.account("kate")
    other = gc.account("liam")
    parts = token.split(".")
    check(len(parts) == 5, f"token shape: {len(parts)} parts")
    other_id = other.split(".")[1]
    forged = [
        ".".join([parts[0], other_id] + parts[2:]),                  # someone else's id
        ".".join(parts[:2] + [str(int(parts[2]) + 86400)] + parts[3:]),  # later expiry
        ".".join(parts[:4] + [parts[4][:-1] + ("A" if parts[4][-1] != "A" else "B")]),
        token + "x", token[:-1], "v1.1.2.3.4", "x" * 300,
    ]
    for t in forged:
        check_error(gc.me(token=t), 401)
        check_error(gc.me(cookie=t), 401)
    check(gc.me(token=token).status == 200, "the genuine token stopped working")


# ------------------------------------------------------------------ roles and owners

def roles_path(user=None, channel="chan"):
    return f"/api/v1/channels/{channel}/roles" + (f"/{user}" if user else "")


def test_roles(gc):
    """The owner (config owner=Alice) grants and removes roles; GET lists them; another
    account gets 403, anonymous 401; bad roles 400; unknown account or channel 404."""
    alice = gc.account("alice")
    bob = gc.account("bob")
    gc.account("carol")

    r = gc.request("PUT", roles_path("bob"), {"roles": ["moderator", "vip"]}, token=alice)
    check(r.status == 200, f"owner PUT: {r!r}")
    grant = r.json()
    check(grant["username"] == "bob" and sorted(grant["roles"]) == ["moderator", "vip"], f"grant: {grant!r}")
    check(grant["granted_by"] == "alice", f"granted_by: {grant!r}")
    r = gc.request("PUT", roles_path("Carol"), {"roles": ["subscriber"]}, cookie=alice)
    check(r.status == 200 and r.json()["roles"] == ["subscriber"], f"owner PUT by cookie: {r!r}")

    r = gc.request("GET", roles_path(), token=alice)
    check(r.status == 200, f"GET roles: {r!r}")
    listed = r.json()
    check(listed["channel"] == "chan" and listed["owner"] == "alice", f"list: {listed!r}")
    check([(g["username"], sorted(g["roles"])) for g in listed["grants"]] ==
          [("bob", ["moderator", "vip"]), ("carol", ["subscriber"])], f"grants: {listed!r}")
    r = gc.request("GET", roles_path("bob"), token=alice)
    check(r.status == 200 and sorted(r.json()["roles"]) == ["moderator", "vip"], f"GET one: {r!r}")

    check_error(gc.request("PUT", roles_path("carol"), {"roles": ["moderator"]}, token=bob), 403, "forbidden")
    check_error(gc.request("GET", roles_path(), token=bob), 403, "forbidden")
    check_error(gc.request("PUT", roles_path("carol"), {"roles": ["moderator"]}), 401, "unauthorized")
    check_error(gc.request("GET", roles_path()), 401)

    for bad in ({"roles": ["broadcaster"]}, {"roles": ["king"]}, {"roles": "vip"}, {"roles": [1]}, {}):
        check_error(gc.request("PUT", roles_path("bob"), bad, token=alice), 400, "bad_request")
    check_error(gc.request("PUT", roles_path("bob"), '{"roles": []}', {"Content-Type": "text/plain"},
                           token=alice), 415)
    check_error(gc.request("PUT", roles_path("nobody_here"), {"roles": ["vip"]}, token=alice), 404)
    check_error(gc.request("PUT", roles_path("bob", "nosuch"), {"roles": ["vip"]}, token=alice), 404)
    check_error(gc.request("POST", roles_path("bob"), {"roles": ["vip"]}, token=alice), 405)

    r = gc.request("PUT", roles_path("bob"), {"roles": []}, token=alice)
    check(r.status == 200 and r.json()["roles"] == [], f"removing: {r!r}")
    r = gc.request("GET", roles_path(), token=alice)
    check([g["username"] for g in r.json()["grants"]] == ["carol"], f"after removal: {r.json()!r}")


def test_roles_admin(gc):
    """The admin token manages any channel's roles (granted_by null); a wrong one is 401."""
    gc.account("mike")
    r = gc.request("PUT", roles_path("mike"), {"roles": ["vip"]}, token=ADMIN)
    check(r.status == 200 and r.json()["roles"] == ["vip"], f"admin PUT: {r!r}")
    check(r.json()["granted_by"] is None, f"granted_by: {r.json()!r}")
    r = gc.request("GET", roles_path(), token=ADMIN)
    check(r.status == 200 and [g["username"] for g in r.json()["grants"]] == ["mike"], f"admin GET: {r!r}")
    check_error(gc.request("PUT", roles_path("mike"), {"roles": []}, token="not-the-admin-token"), 401)


def test_channel_owner(gc):
    """POST /api/v1/channels takes an existing "owner"; channels show theirs; it survives a
    restart (channels.ini), and that owner then manages the channel's roles."""
    nina = gc.account("nina")
    gc.account("otto")
    auth = {"Authorization": f"Bearer {ADMIN}"}
    r = gc.request("GET", "/api/v1/channels/chan")
    check(r.status == 200 and r.json()["owner"] == "alice", f"config owner: {r!r}")
    check_error(gc.request("POST", "/api/v1/channels", {"name": "c2", "owner": "nobody_here"}, auth), 400)
    check_error(gc.request("POST", "/api/v1/channels", {"name": "c2", "owner": "bad name"}, auth), 400)
    check_error(gc.request("POST", "/api/v1/channels", {"name": "c2", "owner": 5}, auth), 400)
    r = gc.request("POST", "/api/v1/channels", {"name": "c2", "owner": "Nina"}, auth)
    check(r.status == 201 and r.json()["channel"]["owner"] == "nina", f"create: {r!r}")
    SECRETS.add(r.json()["stream_key"])
    r = gc.request("POST", "/api/v1/channels", {"name": "c3"}, auth)
    check(r.status == 201 and r.json()["channel"]["owner"] is None, f"create without owner: {r!r}")
    SECRETS.add(r.json()["stream_key"])

    gc.stop()
    gc.start()
    r = gc.request("GET", "/api/v1/channels/c2")
    check(r.status == 200 and r.json()["owner"] == "nina", f"after restart: {r!r}")
    check(gc.me(token=nina).status == 200, "the session did not survive the restart")
    r = gc.request("PUT", roles_path("otto", "c2"), {"roles": ["moderator"]}, token=nina)
    check(r.status == 200, f"new owner PUT: {r!r}")
    check_error(gc.request("PUT", roles_path("otto", "c3"), {"roles": ["moderator"]}, token=nina), 403)


# ------------------------------------------------------------------ abuse and secrecy

def test_sign_in_limit(gc):
    """Ten failed sign-ins from one address within a minute: the next is 429 with
    Retry-After, even with the right password."""
    gc.account("pete")
    for i in range(10):
        check_error(gc.sign_in("pete", f"wrong password {i}"), 401)
    r = gc.sign_in("pete")
    check_error(r, 429)
    retry = r.header("retry-after") or ""
    check(retry.isdigit() and 1 <= int(retry) <= 61, f"Retry-After: {retry!r}")
    check(gc.me(token=gc.account("quinn")).status == 200, "sign-up blocked by the sign-in limiter")


def test_secrets_not_logged(gc):
    """At log-level=debug, a whole session's worth of requests writes no token, password
    or admin token to the log (checked after every test; this one exercises every path)."""
    token = gc.account("alice")
    gc.account("rita")
    gc.sign_in("rita", "a wrong password!")
    r = gc.sign_in("rita")
    SECRETS.add(r.json()["token"])
    gc.me(token=token)
    gc.me(cookie=token[:-2] + "xx")
    gc.request("PUT", roles_path("rita"), {"roles": ["vip"]}, token=token)
    gc.request("PUT", roles_path("rita"), {"roles": ["vip"]}, token=ADMIN)
    gc.request("DELETE", "/api/v1/sessions/current", token=token)
    gc.me(token=token)
    text = gc.log_text()
    check("account created: rita" in text, "the log lacks the sign-up line: is it the right file?")
    check("wrong password!" not in text, "a wrong password reached the log")


TESTS = {
    "sign-up": test_sign_up,
    "bearer-beats-cookie": test_bearer_beats_cookie,
    "duplicate": test_duplicate,
    "bad-fields": test_bad_fields,
    "bad-requests": test_bad_requests,
    "sign-in": test_sign_in,
    "sign-out": test_sign_out,
    "tampered-token": test_tampered_token,
    "roles": test_roles,
    "roles-admin": test_roles_admin,
    "channel-owner": test_channel_owner,
    "sign-in-limit": test_sign_in_limit,
    "secrets-not-logged": test_secrets_not_logged,
}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in TESTS:
        print(f"usage: {sys.argv[0]} {{{','.join(sorted(TESTS))}}}", file=sys.stderr)
        sys.exit(2)
    name = sys.argv[1]
    if not os.path.exists(GLASSCASTD):
        print(f"SKIP: {GLASSCASTD} is not built")
        sys.exit(SKIP)
    keep = os.environ.get("GC_KEEP_TMP")
    tmp = tempfile.mkdtemp(prefix=f"gc-accounts-{name}-")
    gc = None
    try:
        gc = Glasscastd(tmp)
        TESTS[name](gc)
        gc.stop()
        text = gc.log_text()
        leaked = [s for s in SECRETS if s and s in text]
        check(not leaked, f"{len(leaked)} secret(s) in glasscastd's log, e.g. {leaked[0][:12]!r}..."
              if leaked else "")
    except TestFailure as e:
        print(f"FAIL: {e}", flush=True)
        if gc is not None:
            try:
                gc.stop()
            except TestFailure:
                pass
            print(f"--- {gc.log_path} (tail) ---\n{gc.log_text()[-4000:]}", flush=True)
        if keep:
            print(f"(kept {tmp})")
        sys.exit(1)
    finally:
        if not keep:
            subprocess.run(["rm", "-rf", tmp])
    log(f"PASS: {name}")
    sys.exit(0)


if __name__ == "__main__":
    main()
