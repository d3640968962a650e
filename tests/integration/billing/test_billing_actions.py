#!/usr/bin/env python3
# test_billing_actions.py — the viewers' and creators' billing actions of glasscastd (orchestrator/billing-actions.c)
# against the fake Stripe: onboarding, subscribe and cancel, channel prices, tips reaching chat, PPV playback, the
# ban hook, payouts.
"""Run one test: test_billing_actions.py <name>. Exit 0 pass, 1 fail, 77 skip.

glasscastd is configured with [billing] stripe-api-base pointing at an
in-process FakeStripe and a key file; the fake delivers its webhooks back.
Checkout pages are opened as a browser would (GET, 303 to success_url).
"""

import base64
import json
import os
import socket
import sqlite3
import struct
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_billing as tb  # noqa: E402
from test_billing import KEY, SECRET_NEW, Stripe, check, fail, fee_of, lines_by_type, wait_for  # noqa: E402

PPV_CHANNEL = "ticketed"


class Glasscastd(tb.Glasscastd):
    """test_billing's glasscastd, with the Stripe client configured."""

    def __init__(self, tmp, stripe_url):
        self.tmp = tmp
        self.data = os.path.join(tmp, "data")
        media = os.path.join(tmp, "media")
        os.makedirs(os.path.join(media, PPV_CHANNEL), exist_ok=True)
        with open(os.path.join(media, PPV_CHANNEL, "index.m3u8"), "w") as f:
            f.write("#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-STREAM-INF:BANDWIDTH=800000\nvideo_0/media.m3u8\n")
        secrets_file = os.path.join(tmp, "webhook-secrets")
        with open(secrets_file, "w") as f:
            f.write(SECRET_NEW + "\n")
        key_file = os.path.join(tmp, "stripe-key")
        with open(key_file, "w") as f:
            f.write(KEY + "\n")
        cfg = ["[server]", f"media-dir={media}", f"data-dir={self.data}", "log-level=debug",
               "[billing]", f"webhook-secrets-file={secrets_file}", f"stripe-api-base={stripe_url}",
               f"stripe-secret-key-file={key_file}", "subscription-price=499", "currency=usd",
               "[channel:chan]", "owner=alice",
               f"[channel:{PPV_CHANNEL}]", "owner=alice", "playback=token"]
        self.config_path = os.path.join(tmp, "glasscastd.ini")
        with open(self.config_path, "w") as f:
            f.write("\n".join(cfg) + "\n")
        self.log_path = os.path.join(tmp, "glasscastd.log")
        self.proc = None
        self.start()


class Fixture:
    def __init__(self, tmp):
        self.stripe = Stripe.__new__(Stripe)
        import fake_stripe
        self.stripe.fake = fake_stripe.FakeStripe(api_key=KEY).start()
        self.gc = Glasscastd(tmp, self.stripe.fake.url)
        self.stripe.point_at(self.gc, secrets=[SECRET_NEW])
        self.creator, self.ctoken = self.gc.account("alice")
        self.viewer, self.vtoken = self.gc.account("bob")

    def api(self, method, path, body=None, token=None):
        return self.gc.request(method, "/api/v1/billing/" + path, body, token=token)

    def onboard(self):
        st, body = self.api("POST", "onboarding", token=self.ctoken)
        check(st == 200 and body["account"].startswith("acct_") and body["url"], f"onboarding: {st} {body}")
        self.stripe.control("POST", f"/_fake/accounts/{body['account']}", {"onboarded": True})
        wait_for("charges enabled", lambda: self.api("GET", "onboarding", token=self.ctoken)[1].get("charges_enabled"))
        return body["account"]

    def pay(self, checkout_url):
        """Opens Checkout's page and presses Pay like a browser: the fake completes it and redirects."""
        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None
        opener = urllib.request.build_opener(NoRedirect)
        try:
            opener.open(checkout_url + ("&" if "?" in checkout_url else "?") + "outcome=paid", timeout=20)
            fail("checkout page did not redirect")
        except urllib.error.HTTPError as e:
            check(e.code in (302, 303), f"checkout page: {e.code}")
            return e.headers["Location"]

    def settle(self):
        ok, n = self.stripe.settle()
        check(ok, "webhooks not all delivered")

    def fake_objects(self, kind):
        return self.stripe.control("GET", f"/_fake/objects?type={kind}")["data"]

    def stop(self):
        self.stripe.stop()
        self.gc.stop()
        check(KEY not in self.gc.log_text(), "the Stripe API key was logged")


# --- a minimal WebSocket reader (RFC 6455: the server's frames are unmasked) -------------


def ws_connect(port, path):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            fail("WebSocket closed during the handshake")
        head += chunk
    check(head.startswith(b"HTTP/1.1 101"), f"WebSocket upgrade: {head[:200]!r}")
    return s


def ws_frames(s, deadline):
    buf = b""

    def need(n):
        nonlocal buf
        while len(buf) < n:
            s.settimeout(max(0.1, deadline - time.time()))
            chunk = s.recv(65536)
            if not chunk:
                raise EOFError
            buf += chunk
        out, buf = buf[:n], buf[n:]
        return out

    while time.time() < deadline:
        b0, b1 = need(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", need(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", need(8))[0]
        payload = need(n)
        if b0 & 0x0F == 1:
            yield json.loads(payload)


def ws_send_text(s, text):
    """One masked text frame, as a client must send it."""
    data = text.encode()
    mask = os.urandom(4)
    head = bytes([0x81])
    if len(data) < 126:
        head += bytes([0x80 | len(data)])
    else:
        head += bytes([0x80 | 126]) + struct.pack(">H", len(data))
    s.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


# --- tests -----------------------------------------------------------------------------


def test_onboarding(tmp):
    f = Fixture(tmp)
    try:
        st, _ = f.api("POST", "onboarding")
        check(st == 401, f"anonymous onboarding: {st}")
        st, _ = f.api("GET", "onboarding", token=f.ctoken)
        check(st == 404, f"status before onboarding: {st}")
        # Not onboarded: viewers cannot pay the channel yet.
        st, body = f.api("POST", "tips", {"channel": "chan", "amount": 500, "currency": "usd"}, token=f.vtoken)
        check(st == 409 and body["error"]["code"] == "creator_not_ready", f"tip before onboarding: {st} {body}")
        st, first = f.api("POST", "onboarding", token=f.ctoken)
        check(st == 200 and first["account"].startswith("acct_") and first["url"], f"onboarding: {st} {first}")
        st, again = f.api("POST", "onboarding", token=f.ctoken)
        check(st == 200 and again["account"] == first["account"], f"second onboarding: {st} {again}")
        accounts = f.fake_objects("account")
        check(len(accounts) == 1, f"{len(accounts)} accounts at Stripe")
        check(accounts[0]["metadata"].get("glasscast_creator") == str(f.creator), f"metadata: {accounts[0]}")
        st, status = f.api("GET", "onboarding", token=f.ctoken)
        check(st == 200 and status["charges_enabled"] is False, f"status: {st} {status}")
        st, body = f.api("POST", "tips", {"channel": "chan", "amount": 500, "currency": "usd"}, token=f.vtoken)
        check(st == 409, f"tip before charges are enabled: {st} {body}")
        f.stripe.control("POST", f"/_fake/accounts/{first['account']}", {"onboarded": True})
        status = wait_for("account.updated", lambda: (lambda r: r[1] if r[1].get("charges_enabled") else None)(
            f.api("GET", "onboarding", token=f.ctoken)))
        check(status["payouts_enabled"] is True, f"status after onboarding: {status}")
    finally:
        f.stop()


def test_refusals(tmp):
    f = Fixture(tmp)
    try:
        f.onboard()
        tip = {"channel": "chan", "amount": 500, "currency": "usd"}
        cases = [
            ("anonymous", "POST", "tips", tip, None, 401),
            ("bad JSON", "POST", "tips", "{not json", f.vtoken, 400),
            ("not an object", "POST", "tips", "[1]", f.vtoken, 400),
            ("unknown channel", "POST", "tips", dict(tip, channel="nosuch"), f.vtoken, 404),
            ("zero", "POST", "tips", dict(tip, amount=0), f.vtoken, 400),
            ("negative", "POST", "tips", dict(tip, amount=-5), f.vtoken, 400),
            ("fraction", "POST", "tips", dict(tip, amount=10.5), f.vtoken, 400),
            ("string amount", "POST", "tips", dict(tip, amount="500"), f.vtoken, 400),
            ("unknown currency", "POST", "tips", dict(tip, currency="xyz"), f.vtoken, 400),
            ("long message", "POST", "tips", dict(tip, message="x" * 501), f.vtoken, 400),
            ("subscribe anonymous", "POST", "subscriptions", {"channel": "chan"}, None, 401),
            ("subscribe unknown channel", "POST", "subscriptions", {"channel": "nosuch"}, f.vtoken, 404),
            ("subscribe no channel", "POST", "subscriptions", {}, f.vtoken, 400),
            ("cancel nothing", "DELETE", "subscriptions/chan", None, f.vtoken, 404),
            ("unknown PPV", "POST", "ppv/999/purchase", None, f.vtoken, 404),
            ("payout anonymous", "POST", "payouts", {}, None, 401),
            ("payout fraction", "POST", "payouts", {"amount": 1.5}, f.ctoken, 400),
            ("payout method", "POST", "payouts", {"method": "fast"}, f.ctoken, 400),
            ("payout nothing earned", "POST", "payouts", {}, f.ctoken, 409),
            ("payout not a creator", "POST", "payouts", {}, f.vtoken, 409),
        ]
        for name, method, path, body, token, want in cases:
            st, reply = f.api(method, path, body, token=token)
            check(st == want, f"{name}: {st} {reply}, want {want}")
            check(isinstance(reply, dict) and "error" in reply, f"{name}: no error object: {reply}")
    finally:
        f.stop()


def test_subscribe(tmp):
    f = Fixture(tmp)
    try:
        acct = f.onboard()
        st, body = f.api("POST", "subscriptions", {"channel": "chan"}, token=f.vtoken)
        check(st == 201 and body["checkout_url"], f"subscribe: {st} {body}")
        where = f.pay(body["checkout_url"])
        check(where.startswith(f"http://127.0.0.1:{f.gc.port}/watch/chan?checkout=success"), f"redirect: {where}")
        f.settle()
        st, subs = f.gc.request("GET", "/api/v1/billing/subscriptions", token=f.vtoken)
        s = subs["subscriptions"][0]
        check(s["channel"] == "chan" and s["status"] == "active" and s["access"]
              and s["access_until"] == s["current_period_end"] > time.time(), f"subscription: {s}")
        sub = f.stripe.api("GET", f"/v1/subscriptions/{s['id']}")
        check(str(sub.get("application_fee_percent")) in ("15", "15.0")
              and sub["transfer_data"]["destination"] == acct
              and sub["metadata"]["glasscast_viewer"] == str(f.viewer), f"at Stripe: {sub}")
        check(sub["items"]["data"][0]["price"]["unit_amount"] == 499, "price per channel tier")
        st, body = f.api("POST", "subscriptions", {"channel": "chan"}, token=f.vtoken)
        check(st == 409 and body["error"]["code"] == "already_subscribed", f"second subscribe: {st} {body}")
        st, body = f.api("DELETE", "subscriptions/chan", token=f.vtoken)
        check(st == 200 and body["subscription"]["cancel_at_period_end"] is True, f"cancel: {st} {body}")
        f.settle()
        st, subs = f.gc.request("GET", "/api/v1/billing/subscriptions", token=f.vtoken)
        s = subs["subscriptions"][0]
        check(s["cancel_at_period_end"] and s["access"] and s["status"] == "active", f"after cancel: {s}")
        check(len(f.fake_objects("price")) == 1, "one price for the channel")
    finally:
        f.stop()


def test_tip(tmp):
    f = Fixture(tmp)
    try:
        f.onboard()
        ws = ws_connect(f.gc.port, "/chat/chan")
        st, body = f.api("POST", "tips", {"channel": "chan", "amount": 1000, "currency": "usd",
                                           "message": "great stream"}, token=f.vtoken)
        check(st == 201 and body["checkout_url"], f"tip: {st} {body}")
        where = f.pay(body["checkout_url"])
        check("/watch/chan?checkout=success" in where, f"redirect: {where}")
        f.settle()
        st, earn = f.gc.request("GET", "/api/v1/billing/earnings", token=f.ctoken)
        check(lines_by_type(earn).get(("tip", "USD")) == (1, 1000, 150, 850), f"earnings: {earn}")
        pi = f.fake_objects("payment_intent")[0]
        check(pi["application_fee_amount"] == fee_of(1000) and pi["metadata"]["glasscast_message"] == "great stream",
              f"payment intent: {pi}")
        tip = None
        for frame in ws_frames(ws, time.time() + 15):
            if frame.get("type") == "tip":
                tip = frame
                break
        check(tip is not None and tip["amount"] == 1000 and tip["currency"] == "USD"
              and tip.get("text") == "great stream" and tip["display_name"] == "bob", f"tip frame: {tip}")
        ws.close()
        # A viewer who joins after the tip finds it in the room's history.
        late = ws_connect(f.gc.port, "/chat/chan")
        ws_send_text(late, json.dumps({"type": "join", "history": 20}))
        welcome = next((fr for fr in ws_frames(late, time.time() + 10) if fr.get("type") == "welcome"), None)
        check(welcome is not None, "no welcome for the late viewer")
        tips = [m for m in welcome["history"] if m.get("kind") == "tip"]
        check(len(tips) == 1 and tips[0]["id"] == tip["id"] and tips[0]["amount"] == 1000
              and tips[0]["currency"] == "USD" and tips[0]["text"] == "great stream"
              and tips[0]["ts"] == tip["ts"], f"tips in the late viewer's history: {welcome['history']}")
        late.close()
        # And in the chat archive (VOD replay), as a tip.
        st, arch = f.gc.request("GET", f"/api/v1/chat/chan/messages?from_ms=0&to_ms={tip['ts'] + 1}")
        archived = [m for m in arch.get("messages", []) if m["id"] == tip["id"]] if st == 200 else []
        check(len(archived) == 1 and archived[0].get("kind") == "tip" and archived[0]["amount"] == 1000
              and archived[0]["currency"] == "USD" and archived[0]["text"] == "great stream",
              f"the tip in the chat archive: {st} {arch}")
    finally:
        f.stop()


def late_history_tips(f):
    """The tips in the room history a viewer joining now gets."""
    ws = ws_connect(f.gc.port, "/chat/chan")
    try:
        ws_send_text(ws, json.dumps({"type": "join", "history": 50}))
        welcome = next((fr for fr in ws_frames(ws, time.time() + 10) if fr.get("type") == "welcome"), None)
        check(welcome is not None, "no welcome")
        return [m for m in welcome["history"] if m.get("kind") == "tip"]
    finally:
        ws.close()


def announcements(f):
    db = sqlite3.connect(os.path.join(f.gc.data, "billing.db"))
    try:
        return {t for (t,) in db.execute("SELECT tip FROM billing_tip_announcements")}
    finally:
        db.close()


def test_tip_announced_after_restart(tmp):
    """A tip whose payment was committed but never announced in chat (glasscastd stopped in between) is
    announced when glasscastd starts again; one that was announced is not announced twice."""
    f = Fixture(tmp)
    try:
        f.onboard()
        st, body = f.api("POST", "tips", {"channel": "chan", "amount": 700, "currency": "usd", "message": "again"},
                         token=f.vtoken)
        check(st == 201, f"tip: {st} {body}")
        f.pay(body["checkout_url"])
        f.settle()
        pi = f.fake_objects("payment_intent")[0]["id"]
        wait_for("the tip announced", lambda: pi in announcements(f))
        check([t["id"] for t in late_history_tips(f)] == [pi], "the tip is not in the chat history")

        # The state a crash between the commit and the announcement leaves.
        f.gc.stop()
        db = sqlite3.connect(os.path.join(f.gc.data, "billing.db"))
        db.execute("DELETE FROM billing_tip_announcements")
        db.commit()
        db.close()
        f.gc.start()
        f.stripe.point_at(f.gc, secrets=[SECRET_NEW])
        wait_for("the tip announced after the restart", lambda: pi in announcements(f))
        tips = late_history_tips(f)
        check(len(tips) == 1 and tips[0]["id"] == pi and tips[0]["amount"] == 700 and tips[0]["currency"] == "USD"
              and tips[0]["text"] == "again", f"tips in the history after the restart: {tips}")

        # Announced already: a restart does not announce it again (the room's
        # history starts empty with the embedded Redis).
        f.gc.stop()
        f.gc.start()
        f.stripe.point_at(f.gc, secrets=[SECRET_NEW])
        time.sleep(0.5)
        check(late_history_tips(f) == [], "an announced tip was announced again after a restart")
        check(f.gc.log_text().count("tip announced in chat") == 2,
              "expected exactly two announcements in the log")
    finally:
        f.stop()


def test_ppv(tmp):
    f = Fixture(tmp)
    try:
        f.onboard()
        now = int(time.time())
        # Bad bodies: members missing or of the wrong JSON type are a 400 and
        # create nothing (nor a GLib critical in the log).
        good = {"title": "Final", "starts_at": now + 600, "price": 1500, "currency": "usd"}
        for bad in ({**good, "price": {}}, {**good, "price": "1500"}, {**good, "price": 15.5},
                    {**good, "title": ["Final"]}, {**good, "currency": 840}, {**good, "starts_at": {}},
                    {**good, "ends_at": "later"}, {k: v for k, v in good.items() if k != "starts_at"}):
            st, body = f.gc.request("POST", f"/api/v1/billing/ppv?channel={PPV_CHANNEL}", bad, token=f.ctoken)
            check(st == 400 and body["error"]["code"] == "bad_request", f"bad PPV body {bad}: {st} {body}")
        st, lst = f.gc.request("GET", f"/api/v1/billing/ppv?channel={PPV_CHANNEL}")
        check(st == 200 and lst["events"] == [], f"events after bad bodies: {lst}")
        check("CRITICAL" not in f.gc.log_text(), "a GLib critical in the log")
        st, ev = f.gc.request("POST", f"/api/v1/billing/ppv?channel={PPV_CHANNEL}",
                              {"title": "Final", "starts_at": now + 600, "ends_at": now + 7200, "price": 1500,
                               "currency": "usd"}, token=f.ctoken)
        check(st == 201, f"create event: {st} {ev}")
        st, _ = f.gc.request("GET", f"/api/v1/playback-token?channel={PPV_CHANNEL}", token=f.vtoken)
        check(st == 403, f"token before purchase: {st}")
        st, _ = f.gc.request("GET", f"/api/v1/playback-token?channel={PPV_CHANNEL}", token=f.ctoken)
        check(st == 200, f"owner's token: {st}")
        st, body = f.api("POST", f"ppv/{ev['id']}/purchase", token=f.vtoken)
        check(st == 201 and body["checkout_url"], f"purchase: {st} {body}")
        where = f.pay(body["checkout_url"])
        check(f"/watch/{PPV_CHANNEL}?checkout=success" in where, f"redirect: {where}")
        f.settle()
        st, lst = f.gc.request("GET", f"/api/v1/billing/ppv?channel={PPV_CHANNEL}", token=f.vtoken)
        check(lst["events"][0]["entitled"] is True and lst["events"][0]["ends_at"] == now + 7200, f"list: {lst}")
        st, tok = f.gc.request("GET", f"/api/v1/playback-token?channel={PPV_CHANNEL}", token=f.vtoken)
        check(st == 200 and tok["token"], f"token after purchase: {st} {tok}")
        st, _ = f.gc.request("GET", f"/live/{PPV_CHANNEL}/index.m3u8")
        check(st == 403, f"playlist without a token: {st}")
        st, pl = f.gc.request("GET", f"/live/{PPV_CHANNEL}/index.m3u8?token={tok['token']}")
        check(st == 200 and "#EXTM3U" in pl, f"playlist with the token: {st} {pl!r}")
        st, body = f.api("POST", f"ppv/{ev['id']}/purchase", token=f.vtoken)
        check(st == 409 and body["error"]["code"] == "already_entitled", f"second purchase: {st} {body}")
        st, earn = f.gc.request("GET", "/api/v1/billing/earnings", token=f.ctoken)
        check(lines_by_type(earn).get(("ppv", "USD")) == (1, 1500, fee_of(1500), 1500 - fee_of(1500)),
              f"earnings: {earn}")
        # Another viewer, and an event of the channel that is over, give nothing.
        other, otoken = f.gc.account("carol")
        st, _ = f.gc.request("GET", f"/api/v1/playback-token?channel={PPV_CHANNEL}", token=otoken)
        check(st == 403, f"someone else's token: {st}")
    finally:
        f.stop()


def test_ban(tmp):
    f = Fixture(tmp)
    try:
        f.onboard()
        st, body = f.api("POST", "subscriptions", {"channel": "chan"}, token=f.vtoken)
        check(st == 201, f"subscribe: {st} {body}")
        f.pay(body["checkout_url"])
        f.settle()
        sub_id = f.gc.request("GET", "/api/v1/billing/subscriptions", token=f.vtoken)[1]["subscriptions"][0]["id"]
        st, body = f.gc.request("POST", "/api/v1/chat/chan/actions",
                                {"type": "ban", "user": "bob", "reason": "spam"}, token=f.ctoken)
        check(st in (200, 202, 204), f"ban: {st} {body}")
        wait_for("cancel_at_period_end at Stripe",
                 lambda: f.stripe.control("GET", f"/_fake/objects/{sub_id}").get("cancel_at_period_end"))
        f.settle()
        s = f.gc.request("GET", "/api/v1/billing/subscriptions", token=f.vtoken)[1]["subscriptions"][0]
        check(s["cancel_at_period_end"] and s["access"], f"after the ban: {s}")
        posts = [r for r in f.stripe.control("GET", "/_fake/requests")["data"]
                 if r.get("path") == f"/v1/subscriptions/{sub_id}" and r.get("method") == "POST"]
        check(len(posts) == 1 and posts[0].get("idempotency_key") == f"cancel:{sub_id}", f"requests: {posts}")
    finally:
        f.stop()


def test_payout(tmp):
    f = Fixture(tmp)
    try:
        f.onboard()
        for amount in (1000, 2000):
            st, body = f.api("POST", "tips", {"channel": "chan", "amount": amount, "currency": "usd"}, token=f.vtoken)
            check(st == 201, f"tip: {st} {body}")
            f.pay(body["checkout_url"])
        f.settle()
        balance = 3000 - fee_of(1000) - fee_of(2000)
        st, body = f.api("POST", "payouts", {"amount": balance + 1}, token=f.ctoken)
        check(st == 409 and body["error"]["code"] == "insufficient_funds", f"payout above balance: {st} {body}")
        f.stripe.control("POST", "/_fake/faults", {"kind": "drop_after_commit", "method": "POST",
                                                   "path": "/v1/payouts", "count": 1})
        st, body = f.api("POST", "payouts", {"method": "auto"}, token=f.ctoken)
        check(st == 202 and body["payout"]["amount"] == balance and body["payout"]["method"] == "standard"
              and body["payout"]["amount_text"] == f"{balance // 100}.{balance % 100:02d}", f"payout: {st} {body}")
        payouts = f.fake_objects("payout")
        check(len(payouts) == 1 and payouts[0]["amount"] == balance, f"payouts at Stripe: {payouts}")
        keys = {r.get("idempotency_key") for r in f.stripe.control("GET", "/_fake/requests")["data"]
                if r.get("path") == "/v1/payouts"}
        check(len(keys) == 1 and next(iter(keys)).startswith(f"payout:{f.creator}:"), f"keys: {keys}")
        # The pending payout holds the balance until it settles.
        st, body = f.api("POST", "payouts", {}, token=f.ctoken)
        check(st == 409, f"second payout: {st} {body}")
        f.stripe.control("POST", f"/_fake/payouts/{payouts[0]['id']}/settle", {"outcome": "paid"})
        f.settle()
        st, pos = f.gc.request("GET", "/api/v1/billing/payouts", token=f.ctoken)
        check(len(pos["payouts"]) == 1 and pos["payouts"][0]["status"] == "paid"
              and pos["payouts"][0]["amount"] == balance, f"history: {pos}")
        st, earn = f.gc.request("GET", "/api/v1/billing/earnings", token=f.ctoken)
        check(lines_by_type(earn).get(("payout", "USD")) == (1, -balance, 0, -balance), f"earnings: {earn}")

        # An instant payout: Stripe's fee (the fake's: 1 %, at least 50)
        # comes with the reply, and the payout's journal takes it.
        st, body = f.api("POST", "tips", {"channel": "chan", "amount": 10000, "currency": "usd"}, token=f.vtoken)
        check(st == 201, f"tip: {st} {body}")
        f.pay(body["checkout_url"])
        f.settle()
        left = 10000 - fee_of(10000)
        st, body = f.api("POST", "payouts", {"method": "instant", "amount": 5000}, token=f.ctoken)
        check(st == 202 and body["payout"]["method"] == "instant" and body["payout"]["fee"] == 50,
              f"instant payout: {st} {body}")
        f.stripe.control("POST", f"/_fake/payouts/{body['payout']['id']}/settle", {"outcome": "paid"})
        f.settle()
        st, pos = f.gc.request("GET", "/api/v1/billing/payouts", token=f.ctoken)
        instant = [p for p in pos["payouts"] if p["method"] == "instant"]
        check(len(instant) == 1 and instant[0]["status"] == "paid" and instant[0]["fee"] == 50,
              f"history: {pos}")
        # What is left for the creator is the tip's share less both.
        st, body = f.api("POST", "payouts", {"amount": left - 5000 - 50 + 1}, token=f.ctoken)
        check(st == 409 and body["error"]["code"] == "insufficient_funds", f"payout above balance: {st} {body}")
        st, body = f.api("POST", "payouts", {"method": "standard"}, token=f.ctoken)
        check(st == 202 and body["payout"]["amount"] == left - 5000 - 50, f"rest: {st} {body}")
    finally:
        f.stop()


def subscribe_price(f, token):
    """Starts a subscription Checkout; returns (checkout body, the Stripe price object of its line item)."""
    st, body = f.api("POST", "subscriptions", {"channel": "chan"}, token=token)
    check(st == 201 and body["checkout_url"], f"subscribe: {st} {body}")
    cs = [o for o in f.fake_objects("checkout.session") if o["id"] == body["session"]]
    check(len(cs) == 1, f"no checkout session {body['session']} at Stripe")
    posts = [r for r in f.stripe.control("GET", "/_fake/requests")["data"]
             if r.get("path") == "/v1/checkout/sessions" and r.get("method") == "POST"
             and r["params"].get("client_reference_id") == cs[0]["client_reference_id"]]
    items = posts[-1]["params"]["line_items"]
    item = items[0] if isinstance(items, list) else items["0"]
    price = f.stripe.control("GET", f"/_fake/objects/{item['price']}")
    check(cs[0]["amount_total"] == price["unit_amount"], f"checkout total {cs[0]['amount_total']} vs {price}")
    return body, price


def test_price(tmp):
    f = Fixture(tmp)
    try:
        f.onboard()
        default = {"channel": "chan", "amount": 499, "currency": "USD", "amount_text": "4.99", "source": "default"}
        st, body = f.api("GET", "channels/chan/price")
        check(st == 200 and body == default, f"default price: {st} {body}")
        st, body = f.api("GET", "channels/nosuch/price")
        check(st == 404, f"unknown channel: {st} {body}")

        price = {"amount": 799, "currency": "usd"}
        cases = [
            ("anonymous", "chan", price, None, 401),
            ("not the owner", "chan", price, f.vtoken, 403),
            ("unknown channel", "nosuch", price, f.ctoken, 404),
            ("not JSON", "chan", "{799", f.ctoken, 400),
            ("not an object", "chan", "[799]", f.ctoken, 400),
            ("no amount", "chan", {"currency": "usd"}, f.ctoken, 400),
            ("fraction", "chan", dict(price, amount=7.99), f.ctoken, 400),
            ("whole float", "chan", '{"amount": 799.0, "currency": "usd"}', f.ctoken, 400),
            ("string amount", "chan", dict(price, amount="799"), f.ctoken, 400),
            ("boolean amount", "chan", dict(price, amount=True), f.ctoken, 400),
            ("negative", "chan", dict(price, amount=-799), f.ctoken, 400),
            ("zero", "chan", dict(price, amount=0), f.ctoken, 400),
            ("below the minimum", "chan", dict(price, amount=99), f.ctoken, 400),
            ("above the maximum", "chan", dict(price, amount=100001), f.ctoken, 400),
            ("no currency", "chan", {"amount": 799}, f.ctoken, 400),
            ("unknown currency", "chan", dict(price, currency="xyz"), f.ctoken, 400),
            ("another currency", "chan", dict(price, currency="eur"), f.ctoken, 400),
        ]
        for name, channel, body, token, want in cases:
            st, reply = f.api("PUT", f"channels/{channel}/price", body, token=token)
            check(st == want, f"{name}: {st} {reply}, want {want}")
            check(isinstance(reply, dict) and "error" in reply, f"{name}: no error object: {reply}")
        st, body = f.api("DELETE", "channels/chan/price", token=f.ctoken)
        check(st == 405, f"DELETE: {st} {body}")
        st, body = f.api("GET", "channels/chan/price")
        check(st == 200 and body == default, f"after the refusals: {st} {body}")

        set_799 = {"channel": "chan", "amount": 799, "currency": "USD", "amount_text": "7.99", "source": "channel"}
        st, body = f.api("PUT", "channels/chan/price", price, token=f.ctoken)
        check(st == 200 and body == set_799, f"owner sets 799: {st} {body}")
        st, body = f.api("GET", "channels/chan/price")
        check(st == 200 and body == set_799, f"price after the PUT: {st} {body}")
        st, body = f.api("GET", f"channels/{PPV_CHANNEL}/price", token=f.vtoken)
        check(st == 200 and body["amount"] == 499 and body["source"] == "default", f"another channel: {st} {body}")

        # A viewer subscribes at the channel's price: one new monthly price at Stripe.
        body, p799 = subscribe_price(f, f.vtoken)
        check(p799["unit_amount"] == 799 and p799["currency"] == "usd"
              and p799["recurring"]["interval"] == "month", f"line item price: {p799}")
        f.pay(body["checkout_url"])
        f.settle()
        st, subs = f.gc.request("GET", "/api/v1/billing/subscriptions", token=f.vtoken)
        bob_sub = subs["subscriptions"][0]["id"]
        sub = f.stripe.api("GET", f"/v1/subscriptions/{bob_sub}")
        check(sub["items"]["data"][0]["price"]["id"] == p799["id"], f"bob's subscription: {sub}")

        # The same amount again: the same Stripe price.
        st, body = f.api("PUT", "channels/chan/price", price, token=f.ctoken)
        check(st == 200 and body == set_799, f"799 again: {st} {body}")
        _, ctoken = f.gc.account("carol")
        _, again = subscribe_price(f, ctoken)
        check(again["id"] == p799["id"] and len(f.fake_objects("price")) == 1, f"second price: {again}")

        # A new amount is a new price for new subscribers; bob keeps his.
        st, body = f.api("PUT", "channels/chan/price", dict(price, amount=999), token=f.ctoken)
        check(st == 200 and body["amount"] == 999 and body["amount_text"] == "9.99", f"999: {st} {body}")
        _, dtoken = f.gc.account("dave")
        _, p999 = subscribe_price(f, dtoken)
        check(p999["unit_amount"] == 999 and p999["id"] != p799["id"], f"price at 999: {p999}")
        sub = f.stripe.api("GET", f"/v1/subscriptions/{bob_sub}")
        check(sub["items"]["data"][0]["price"]["unit_amount"] == 799, f"bob's subscription after 999: {sub}")

        # Back to 799: the first price again, no third one.
        st, body = f.api("PUT", "channels/chan/price", price, token=f.ctoken)
        check(st == 200 and body == set_799, f"back to 799: {st} {body}")
        _, etoken = f.gc.account("erin")
        _, back = subscribe_price(f, etoken)
        check(back["id"] == p799["id"], f"price after going back: {back}")
        prices = f.fake_objects("price")
        check(sorted(p["unit_amount"] for p in prices) == [799, 999], f"prices at Stripe: {prices}")
        keys = sorted(r.get("idempotency_key") for r in f.stripe.control("GET", "/_fake/requests")["data"]
                      if r.get("path") == "/v1/prices" and r.get("method") == "POST")
        check(keys == ["price:chan:default:799:USD", "price:chan:default:999:USD"], f"price requests: {keys}")
    finally:
        f.stop()


TESTS = {"onboarding": test_onboarding, "refusals": test_refusals, "subscribe": test_subscribe,
         "tip": test_tip, "tip-announced-after-restart": test_tip_announced_after_restart, "ppv": test_ppv, "ban": test_ban, "payout": test_payout, "price": test_price}


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else ""
    if name not in TESTS:
        print(f"usage: {sys.argv[0]} {{{'|'.join(TESTS)}}}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="gc-billing-actions-") as tmp:
        try:
            TESTS[name](tmp)
        except tb.TestFailure as e:
            print(f"FAIL {name}: {e}", file=sys.stderr)
            return 1
    print(f"ok {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
