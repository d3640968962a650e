#!/usr/bin/env python3
# test_billing.py — glasscastd's Stripe webhook and billing API against tests/fakes/fake_stripe.py: signed deliveries,
# tips, refunds, disputes, subscriptions, payouts, shuffled and duplicated delivery, and SIGKILL while events arrive.
"""Run one test: test_billing.py <name>. Exit 0 pass, 1 fail, 77 skip.

Each test starts its own glasscastd (full service) with [billing]
webhook-secrets-file, and an in-process FakeStripe whose webhook URL points
at glasscastd. The test drives the fake as the Stripe client and the
customers would (objects carry the glasscast_* metadata of billing/README.md)
and checks glasscastd's state through the billing API, or its billing.db
after it stopped.
"""

import http.client
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "..", "fakes"))
from gclib import TestFailure, check, fail, log  # noqa: E402
import fake_stripe  # noqa: E402

GLASSCASTD = os.environ.get("GLASSCASTD", "glasscastd")
SECRET_NEW = "whsec_test_new_secret_for_glasscast"
SECRET_OLD = "whsec_test_old_secret_for_glasscast"
PASSWORD = "correct horse battery"
KEY = "sk_test_glasscast_billing"
HOOK = "/api/v1/billing/stripe/webhook"


def fee_of(gross, ppm=150000):
    """billing/money.h: round half up of gross x share (magnitudes)."""
    whole, rest = divmod(abs(gross), 1000000)
    fee = whole * ppm + (rest * ppm + 500000) // 1000000
    return fee if gross >= 0 else -fee


class Glasscastd:
    def __init__(self, tmp, secrets=(SECRET_NEW, SECRET_OLD)):
        self.tmp = tmp
        self.data = os.path.join(tmp, "data")
        secrets_file = os.path.join(tmp, "webhook-secrets")
        with open(secrets_file, "w") as f:
            f.write("".join(s + "\n" for s in secrets))
        cfg = ["[server]", f"media-dir={os.path.join(tmp, 'media')}", f"data-dir={self.data}",
               "log-level=debug",
               "[billing]", f"webhook-secrets-file={secrets_file}", "past-due-grace-days=3",
               "[channel:chan]", "owner=alice"]
        self.config_path = os.path.join(tmp, "glasscastd.ini")
        with open(self.config_path, "w") as f:
            f.write("\n".join(cfg) + "\n")
        self.log_path = os.path.join(tmp, "glasscastd.log")
        self.proc = None
        self.start()

    def start(self):
        self.errlog = open(self.log_path, "a")
        self.proc = subprocess.Popen([GLASSCASTD, "--config", self.config_path, "--listen",
                                      "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=self.errlog)
        box = {}
        t = threading.Thread(target=lambda: box.update(line=self.proc.stdout.readline().decode()),
                             daemon=True)
        t.start()
        t.join(20)
        m = re.match(r"listening on http://127\.0\.0\.1:(\d+)", box.get("line", ""))
        if not m:
            self.proc.kill()
            fail(f"glasscastd did not start: {box.get('line')!r}\n{self.log_text()[-3000:]}")
        self.port = int(m.group(1))

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.errlog.close()
        self.proc = None

    def stop(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            fail("glasscastd did not exit within 15 s of SIGTERM")
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

    def request(self, method, path, body=None, headers=None, token=None):
        headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers["Content-Type"] = "application/json"
        if isinstance(body, str):
            body = body.encode()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            c.request(method, path, body=body, headers=headers)
            r = c.getresponse()
            data = r.read()
        finally:
            c.close()
        try:
            return r.status, json.loads(data) if data[:1] in (b"{", b"[") else data.decode()
        except ValueError:
            return r.status, data.decode()

    def account(self, username):
        st, body = self.request("POST", "/api/v1/accounts", {"username": username, "password": PASSWORD})
        check(st in (200, 201), f"sign-up {username}: {st} {body}")
        st, body = self.request("POST", "/api/v1/sessions", {"username": username, "password": PASSWORD})
        check(st in (200, 201), f"sign-in {username}: {st} {body}")
        return body["account"]["id"] if "account" in body else body["id"], body["token"]


class Stripe:
    """The fake, driven as the Stripe client and the customers would."""

    def __init__(self, gc):
        self.fake = fake_stripe.FakeStripe(api_key=KEY).start()
        self.point_at(gc, secrets=[SECRET_NEW])

    def point_at(self, gc, **extra):
        cfg = {"url": f"http://127.0.0.1:{gc.port}{HOOK}", "retry_delays_ms": [100] * 150}
        cfg.update(extra)
        st, body = self.fake.control("POST", "/_fake/webhooks", cfg)
        check(st == 200, f"/_fake/webhooks: {st} {body}")

    def api(self, method, path, params=None):
        data = fake_stripe.encode_form(params or {}).encode() if method == "POST" else None
        req = urllib.request.Request(self.fake.url + path, data=data, method=method,
                                     headers={"Authorization": f"Bearer {KEY}",
                                              "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            fail(f"Stripe {method} {path}: {e.code} {e.read()[:500]!r}")

    def control(self, method, path, body=None):
        st, obj = self.fake.control(method, path, body)
        check(st == 200, f"{method} {path}: {st} {obj}")
        return obj

    def creator_account(self, creator_id):
        acct = self.api("POST", "/v1/accounts", {
            "type": "express", "country": "US",
            "capabilities": {"card_payments": {"requested": "true"}, "transfers": {"requested": "true"}},
            "metadata": {"glasscast_creator": str(creator_id)}})
        self.control("POST", f"/_fake/accounts/{acct['id']}", {"onboarded": True})
        return acct["id"]

    def tip(self, acct, creator, viewer, amount, message="gg", pm="pm_card_visa"):
        return self.api("POST", "/v1/payment_intents", {
            "amount": str(amount), "currency": "usd", "confirm": "true", "payment_method": pm,
            "automatic_payment_methods": {"enabled": "true", "allow_redirects": "never"},
            "transfer_data": {"destination": acct}, "application_fee_amount": str(fee_of(amount)),
            "metadata": {"glasscast_kind": "tip", "glasscast_creator": str(creator),
                         "glasscast_viewer": str(viewer), "glasscast_channel": "chan",
                         "glasscast_viewer_name": "Bob", "glasscast_message": message}})

    def subscribe(self, acct, creator, viewer, amount=499):
        price = self.api("POST", "/v1/prices", {
            "currency": "usd", "unit_amount": str(amount), "recurring": {"interval": "month"},
            "product_data": {"name": "chan subscription"}})
        meta = {"glasscast_kind": "subscription", "glasscast_creator": str(creator),
                "glasscast_viewer": str(viewer), "glasscast_channel": "chan"}
        cs = self.api("POST", "/v1/checkout/sessions", {
            "mode": "subscription", "success_url": "http://127.0.0.1/ok",
            "line_items": {"0": {"price": price["id"], "quantity": "1"}}, "metadata": meta,
            "subscription_data": {"application_fee_percent": "15",
                                  "transfer_data": {"destination": acct}, "metadata": meta}})
        done = self.control("POST", f"/_fake/checkout/sessions/{cs['id']}/complete", {"outcome": "paid"})
        return done["subscription"]

    def settle(self, timeout=30):
        """Waits until every event was delivered with a 2xx (and nothing is due)."""
        n = len(self.control("GET", "/_fake/events")["data"])
        ok = self.fake.deliverer.wait(n, timeout)
        return ok, n

    def stop(self):
        self.fake.stop()


def signed(body, secret, t=None):
    t = int(time.time()) if t is None else t
    return fake_stripe.sign(body.encode(), [secret], t) if hasattr(fake_stripe, "sign") else None


def wait_for(what, fn, timeout=20):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.1)
    fail(f"timed out waiting for {what}: {last!r}")


def lines_by_type(earnings):
    return {(l["type"], l["currency"]): (l["count"], l["gross"], l["fee"], l["net"]) for l in earnings["lines"]}


def setup(tmp):
    gc = Glasscastd(tmp)
    creator, ctoken = gc.account("alice")
    viewer, vtoken = gc.account("bob")
    stripe = Stripe(gc)
    acct = stripe.creator_account(creator)
    return gc, stripe, creator, ctoken, viewer, vtoken, acct


# --- tests -------------------------------------------------------------------------


def test_signatures(tmp):
    gc, stripe, creator, ctoken, viewer, vtoken, acct = setup(tmp)
    try:
        ok, n = stripe.settle()
        check(ok, "account.updated not delivered")
        body = json.dumps({"id": "evt_forged", "object": "event", "created": int(time.time()),
                           "type": "payment_intent.succeeded", "data": {"object": {
                               "id": "pi_forged", "amount_received": 100000, "currency": "usd",
                               "latest_charge": "ch_forged", "transfer_data": {"destination": acct},
                               "metadata": {"glasscast_kind": "tip", "glasscast_creator": str(creator)}}}})
        now = int(time.time())
        cases = [
            ("no header", {}, 400),
            ("wrong secret", {"Stripe-Signature": fake_stripe.sign(body.encode(), ["whsec_wrong"], now)}, 400),
            ("stale", {"Stripe-Signature": fake_stripe.sign(body.encode(), [SECRET_NEW], now - 301)}, 400),
            ("malformed", {"Stripe-Signature": "t=abc,v1=zz"}, 400),
        ]
        for name, headers, want in cases:
            st, reply = gc.request("POST", HOOK, body, headers)
            check(st == want, f"{name}: {st} {reply}")
        st, reply = gc.request("POST", HOOK, body,
                               {"Stripe-Signature": fake_stripe.sign(body.encode(), [SECRET_NEW], now - 301)})
        check(reply["error"]["code"] == "stale_signature", f"stale: {reply}")
        st, earn = gc.request("GET", "/api/v1/billing/earnings", token=ctoken)
        check(st == 200 and earn["lines"] == [], f"a refused event changed the statement: {earn}")
        # Rotation: signed with the old secret only, then with both.
        for secrets in (["whsec_other", SECRET_OLD], [SECRET_NEW, SECRET_OLD]):
            stripe.point_at(gc, secrets=secrets)
            stripe.tip(acct, creator, viewer, 1000)
            ok, n = stripe.settle()
            check(ok, f"tip signed with {len(secrets)} secrets not accepted")
        st, earn = gc.request("GET", "/api/v1/billing/earnings", token=ctoken)
        check(lines_by_type(earn).get(("tip", "USD")) == (2, 2000, 300, 1700), f"earnings: {earn}")
        st, reply = gc.request("GET", "/api/v1/billing/earnings", token=None)
        check(st == 401, f"anonymous earnings: {st}")
    finally:
        stripe.stop()
        gc.stop()
    check(SECRET_NEW not in gc.log_text() and SECRET_OLD not in gc.log_text(), "a webhook secret was logged")


def test_flows(tmp):
    gc, stripe, creator, ctoken, viewer, vtoken, acct = setup(tmp)
    try:
        tip = stripe.tip(acct, creator, viewer, 1000)
        stripe.api("POST", "/v1/refunds", {"payment_intent": tip["id"], "amount": "250"})
        won = stripe.tip(acct, creator, viewer, 2000, pm="pm_card_createDispute")
        lost = stripe.tip(acct, creator, viewer, 3000, pm="pm_card_createDispute")
        for pi, outcome in ((won, "won"), (lost, "lost")):
            du = [d for d in stripe.control("GET", "/_fake/objects?type=dispute")["data"]
                  if d["payment_intent"] == pi["id"]][0]
            stripe.control("POST", f"/_fake/disputes/{du['id']}/close", {"outcome": outcome})
        sub = stripe.subscribe(acct, creator, viewer)
        ok, n = stripe.settle()
        check(ok, "events not delivered")
        st, subs = gc.request("GET", "/api/v1/billing/subscriptions", token=vtoken)
        check(st == 200 and subs["subscriptions"][0]["status"] == "active" and subs["subscriptions"][0]["access"],
              f"subscription: {subs}")
        # Renewal fails: past due with access (grace); paid on retry: active.
        stripe.control("POST", f"/_fake/subscriptions/{sub}/renew", {"outcome": "failed", "then": "past_due"})
        check(stripe.settle()[0], "renewal events not delivered")
        st, subs = gc.request("GET", "/api/v1/billing/subscriptions", token=vtoken)
        s = subs["subscriptions"][0]
        check(s["status"] == "past_due" and s["access"], f"past due: {s}")
        inv = stripe.api("GET", f"/v1/subscriptions/{sub}")["latest_invoice"]
        stripe.control("POST", f"/_fake/invoices/{inv}/pay", {"outcome": "paid"})
        stripe.api("POST", f"/v1/subscriptions/{sub}", {"cancel_at_period_end": "true"})
        check(stripe.settle()[0], "retry events not delivered")
        st, subs = gc.request("GET", "/api/v1/billing/subscriptions", token=vtoken)
        s = subs["subscriptions"][0]
        check(s["status"] == "active" and s["cancel_at_period_end"] and s["access"], f"renewed: {s}")
        # Payouts: one paid, one failed.
        stripe.control("POST", "/_fake/balance", {"account": acct, "amount": 100000, "currency": "usd"})
        headers = {"Stripe-Account": acct}
        for outcome in ("paid", "failed"):
            req = urllib.request.Request(stripe.fake.url + "/v1/payouts", method="POST",
                                         data=b"amount=500&currency=usd",
                                         headers=dict(headers, Authorization=f"Bearer {KEY}"))
            po = json.loads(urllib.request.urlopen(req, timeout=20).read())
            stripe.control("POST", f"/_fake/payouts/{po['id']}/settle", {"outcome": outcome})
        check(stripe.settle()[0], "payout events not delivered")
        st, earn = gc.request("GET", "/api/v1/billing/earnings", token=ctoken)
        got = lines_by_type(earn)
        log(json.dumps(earn["lines"]))
        sub_gross = 2 * 499
        expected = {
            ("tip", "USD"): (3, 6000, fee_of(1000) + fee_of(2000) + fee_of(3000),
                             6000 - fee_of(1000) - fee_of(2000) - fee_of(3000)),
            ("refund", "USD"): (1, -250, -fee_of(250), -250 + fee_of(250)),
            ("subscription", "USD"): (2, sub_gross, 2 * fee_of(499), sub_gross - 2 * fee_of(499)),
            # won: opened then won (net 0); lost: opened only
            ("dispute", "USD"): (4, -3000, -fee_of(3000), -3000 + fee_of(3000)),
            ("payout", "USD"): (3, -500, 0, -500),
        }
        check(got == expected, f"statement\n got {got}\nwant {expected}")
        st, pos = gc.request("GET", "/api/v1/billing/payouts", token=ctoken)
        check(sorted(p["status"] for p in pos["payouts"]) == ["failed", "paid"], f"payouts: {pos}")
        st, csv = gc.request("GET", "/api/v1/billing/earnings.csv", token=ctoken)
        check(st == 200 and csv.startswith("occurred_at,type,reference,currency,gross_minor")
              and csv.count("\r\n") == 1 + 3 + 1 + 2 + 4 + 3, f"csv: {csv!r}")
        # Everything delivered again, shuffled and duplicated: nothing changes.
        events = [e["id"] for e in stripe.control("GET", "/_fake/events")["data"]]
        random.shuffle(events)
        for e in events + events[: len(events) // 2]:
            stripe.control("POST", f"/_fake/events/{e}/resend")
        check(stripe.settle()[0], "resent events not delivered")
        time.sleep(0.5)
        st, again = gc.request("GET", "/api/v1/billing/earnings", token=ctoken)
        check(lines_by_type(again) == expected, f"redelivery changed the statement: {again}")
        # PPV: the owner creates an event; others may not.
        st, made = gc.request("POST", "/api/v1/billing/ppv?channel=chan",
                              {"title": "Finale", "starts_at": int(time.time()) + 3600, "price": 1999,
                               "currency": "usd"}, token=ctoken)
        check(st == 201, f"ppv create: {st} {made}")
        st, _ = gc.request("POST", "/api/v1/billing/ppv?channel=chan",
                           {"title": "X", "price": 100, "currency": "usd"}, token=vtoken)
        check(st == 403, f"non-owner ppv create: {st}")
        st, lst = gc.request("GET", "/api/v1/billing/ppv?channel=chan", token=vtoken)
        check(st == 200 and lst["events"][0]["price"] == 1999 and lst["events"][0]["entitled"] is False,
              f"ppv list: {lst}")
    finally:
        stripe.stop()
        gc.stop()
    check_db(gc, len(stripe.fake.state.events))


def check_db(gc, n_events):
    db = sqlite3.connect(os.path.join(gc.data, "billing.db"))
    try:
        bad = db.execute("SELECT journal, currency, sum(amount) FROM entries GROUP BY journal, currency"
                         " HAVING sum(amount) != 0").fetchall()
        check(not bad, f"unbalanced journals: {bad}")
        total = db.execute("SELECT currency, sum(amount) FROM entries GROUP BY currency"
                           " HAVING sum(amount) != 0").fetchall()
        check(not total, f"ledger does not sum to zero: {total}")
        processed = db.execute("SELECT count(*), count(DISTINCT id) FROM billing_events").fetchone()
        check(processed[0] == processed[1] == n_events,
              f"processed {processed}, the fake sent {n_events} distinct events")
        return db.execute("SELECT count(*) FROM journals WHERE kind = 'charge'").fetchone()[0]
    finally:
        db.close()


def test_crash(tmp):
    """Acceptance 5: SIGKILL while webhooks and tips are processed."""
    gc, stripe, creator, ctoken, viewer, vtoken, acct = setup(tmp)
    rng = random.Random(int(os.environ.get("SEED", str(random.randrange(1 << 30)))))
    amounts = [rng.randrange(50, 20000) for _ in range(40)]
    log(f"{len(amounts)} tips, {sum(amounts)} cents")
    done = threading.Event()

    def burst():
        for a in amounts:
            stripe.tip(acct, creator, viewer, a)
            time.sleep(rng.uniform(0, 0.03))
        done.set()

    t = threading.Thread(target=burst, daemon=True)
    try:
        t.start()
        for i in range(4):
            time.sleep(rng.uniform(0.05, 0.4))
            gc.kill()
            log(f"killed glasscastd ({i + 1})")
            time.sleep(rng.uniform(0, 0.3))
            gc.start()
            stripe.point_at(gc)
        t.join(60)
        check(done.is_set(), "tips not all made")
        ok, n = stripe.settle(timeout=40)
        check(ok, "events not all delivered after the restarts")
        st, earn = gc.request("GET", "/api/v1/billing/earnings", token=ctoken)
        fee = sum(fee_of(a) for a in amounts)
        want = (len(amounts), sum(amounts), fee, sum(amounts) - fee)
        check(lines_by_type(earn).get(("tip", "USD")) == want, f"statement {earn['lines']}, want {want}")
    finally:
        stripe.stop()
        gc.stop()
    charges = check_db(gc, len(stripe.fake.state.events))
    check(charges == len(amounts), f"{charges} charge journals for {len(amounts)} tips")


TESTS = {"signatures": test_signatures, "flows": test_flows, "crash": test_crash}


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else ""
    if name not in TESTS:
        print(f"usage: {sys.argv[0]} {{{'|'.join(TESTS)}}}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="gc-billing-") as tmp:
        try:
            TESTS[name](tmp)
        except TestFailure as e:
            print(f"FAIL {name}: {e}", file=sys.stderr)
            return 1
    print(f"ok {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
