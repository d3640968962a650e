#!/usr/bin/env python3
# test_fake_stripe.py — self-test of tests/fakes/fake_stripe.py: it rejects what Stripe rejects,
# replays idempotent requests, injects each fault, signs and redelivers webhooks, shapes objects.
"""Each test starts from a reset fake (one per test class, on 127.0.0.1 port 0)
and a fresh webhook sink. Exit 77 (meson's "skipped") when Stripe's fixtures
file is not where the fake looks for it."""

import base64
import hashlib
import hmac
import http.client
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import fake_stripe as fs  # noqa: E402

KEY = "sk_test_glasscastSelfTest"
SECRET = "whsec_selftestsecret"
SECRET2 = "whsec_rotatedsecret"

# Stripe's own examples when they are there (the shape checks need them);
# else the fake's built-in shapes, and those checks are skipped.
try:
    STRIPE_FIXTURES = fs.load_fixtures()
except OSError as e:
    print(f"# Stripe fixtures not found ({e}): shape checks skipped")
    STRIPE_FIXTURES = None
FIXTURES = STRIPE_FIXTURES or fs.load_fixtures(required=False)


class WebhookSink:
    """A webhook endpoint on 127.0.0.1 that records what it is sent and can
    answer 500 to the first fail_next deliveries."""

    def __init__(self):
        self.cond = threading.Condition()
        self.received = []  # (headers dict, body bytes, status answered); guarded by cond
        self.fail_next = 0
        sink = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with sink.cond:
                    status = 500 if sink.fail_next > 0 else 200
                    sink.fail_next = max(0, sink.fail_next - 1)
                    sink.received.append((dict(self.headers), body, status))
                    sink.cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/stripe"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def clear(self, fail_next=0):
        with self.cond:
            self.received = []
            self.fail_next = fail_next

    def wait(self, n, timeout=5):
        deadline = time.time() + timeout
        with self.cond:
            while len(self.received) < n and time.time() < deadline:
                self.cond.wait(0.05)
            return list(self.received)

    def events(self, n, timeout=5):
        return [json.loads(b) for h, b, s in self.wait(n, timeout) if s == 200]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class FakeCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sink = WebhookSink()
        cls.fake = fs.FakeStripe(fixtures=FIXTURES, webhook_url=cls.sink.url,
                                 webhook_secrets=[SECRET]).start()

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()
        cls.sink.stop()

    def setUp(self):
        self.control("POST", "/_fake/reset")
        self.control("POST", "/_fake/webhooks", {"secrets": [SECRET], "retry_delays_ms": [50, 100]})
        self.sink.clear()

    # -- helpers ----------------------------------------------------------------

    def control(self, method, path, body=None):
        status, obj = self.fake.control(method, path, body)
        self.assertEqual(200, status, f"{method} {path}: {obj}")
        return obj

    def raw(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.fake.port, timeout=10)
        try:
            conn.request(method, path, body, headers or {})
            resp = conn.getresponse()
            return resp.status, resp.read(), dict(resp.getheaders())
        finally:
            conn.close()

    def call(self, method, path, params=None, headers=None, key=KEY):
        h = {"Authorization": f"Bearer {key}"} if key else {}
        body = None
        if params is not None and method != "GET":
            body = fs.encode_form(params)
            h["Content-Type"] = "application/x-www-form-urlencoded"
        elif params is not None:
            path += "?" + fs.encode_form(params)
        h.update(headers or {})
        status, data, hdrs = self.raw(method, path, body, h)
        return status, json.loads(data), hdrs

    def ok(self, method, path, params=None, headers=None):
        status, obj, _ = self.call(method, path, params, headers)
        self.assertEqual(200, status, obj)
        return obj

    def assertStripeError(self, status, code, param, reply):
        got_status, obj, _ = reply
        self.assertEqual(status, got_status, obj)
        self.assertIn("error", obj)
        err = obj["error"]
        self.assertIn(err["type"], ("invalid_request_error", "idempotency_error", "api_error",
                                    "card_error"))
        self.assertIsInstance(err["message"], str)
        if code is not None:
            self.assertEqual(code, err.get("code"), err)
        if param is not None:
            self.assertEqual(param, err.get("param"), err)
        return err

    def count(self, type_, account=None):
        q = f"/_fake/objects?type={type_}" + (f"&account={account}" if account else "")
        return self.control("GET", q)["count"]

    def account(self, onboarded=True):
        acct = self.ok("POST", "/v1/accounts", {
            "type": "express", "country": "US", "email": "creator@example.com",
            "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}}})
        if onboarded:
            self.control("POST", f"/_fake/accounts/{acct['id']}", {"onboarded": True})
        return acct

    def monthly_price(self, amount=500):
        return self.ok("POST", "/v1/prices", {"currency": "usd", "unit_amount": amount,
                                              "recurring": {"interval": "month"},
                                              "product_data": {"name": "Channel membership"}})

    def tip_session(self, acct, amount=1000, fee=100):
        return self.ok("POST", "/v1/checkout/sessions", {
            "mode": "payment", "success_url": "https://app.test/ok?s={CHECKOUT_SESSION_ID}",
            "cancel_url": "https://app.test/cancel", "client_reference_id": "user-7",
            "metadata": {"channel": "c1"},
            "line_items": [{"price_data": {"currency": "usd", "unit_amount": amount,
                                           "product_data": {"name": "Tip"}}, "quantity": 1}],
            "payment_intent_data": {"application_fee_amount": fee,
                                    "transfer_data": {"destination": acct["id"]},
                                    "metadata": {"channel": "c1"}}})

    def paid_payment_intent(self, acct, amount=2000, fee=200):
        return self.ok("POST", "/v1/payment_intents", {
            "amount": amount, "currency": "usd", "application_fee_amount": fee,
            "transfer_data": {"destination": acct["id"]}, "confirm": True,
            "payment_method": "pm_card_visa",
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"}})

    def subscription(self, acct, price):
        cs = self.ok("POST", "/v1/checkout/sessions", {
            "mode": "subscription", "success_url": "https://app.test/ok",
            "customer_email": "fan@example.com",
            "line_items": [{"price": price["id"], "quantity": 1}],
            "subscription_data": {"application_fee_percent": "12.5",
                                  "transfer_data": {"destination": acct["id"]}}})
        cs = self.control("POST", f"/_fake/checkout/sessions/{cs['id']}/complete", {"outcome": "paid"})
        return self.ok("GET", f"/v1/subscriptions/{cs['subscription']}")

    def balance(self, acct_id):
        bal = self.ok("GET", "/v1/balance", headers={"Stripe-Account": acct_id})
        return {b["currency"]: b["amount"] for b in bal["available"]}


class AuthTest(FakeCase):
    def test_missing_api_key_is_401_in_stripe_error_shape(self):
        err = self.assertStripeError(401, None, None, self.call("GET", "/v1/balance", key=None))
        self.assertEqual("invalid_request_error", err["type"])

    def test_wrong_scheme_and_malformed_keys_are_401(self):
        self.assertStripeError(401, None, None, self.call("GET", "/v1/balance", key="sk_test_"))
        self.assertStripeError(401, None, None, self.call("GET", "/v1/balance", key="sk_live_abc"))
        self.assertStripeError(401, "secret_key_required", None,
                               self.call("GET", "/v1/balance", key="pk_test_abc"))

    def test_basic_auth_with_the_key_as_user_is_accepted(self):
        cred = base64.b64encode(f"{KEY}:".encode()).decode()
        status, data, _ = self.raw("GET", "/v1/balance", None, {"Authorization": f"Basic {cred}"})
        self.assertEqual(200, status, data)

    def test_configured_key_is_the_only_one_accepted(self):
        fake = fs.FakeStripe(fixtures=FIXTURES, api_key=KEY).start()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=5)
            conn.request("GET", "/v1/balance", headers={"Authorization": "Bearer sk_test_other"})
            self.assertEqual(401, conn.getresponse().status)
            conn.close()
        finally:
            fake.stop()

    def test_stripe_version_is_accepted_and_echoed_and_a_malformed_one_refused(self):
        _, _, hdrs = self.call("GET", "/v1/balance", headers={"Stripe-Version": "2025-06-30.basil"})
        self.assertEqual("2025-06-30.basil", hdrs["Stripe-Version"])
        self.assertTrue(hdrs["Request-Id"].startswith("req_"))
        self.assertStripeError(400, None, None, self.call("GET", "/v1/balance",
                                                          headers={"Stripe-Version": "latest"}))


class FormEncodingTest(FakeCase):
    def test_brackets_decode_into_nested_dicts_and_lists(self):
        got = fs.decode_form("a[b][c]=1&l[0][x]=2&l[1][x]=3&e[]=4&e[]=5&m[k]=&s=%E2%82%AC")
        self.assertEqual({"a": {"b": {"c": "1"}}, "l": {"0": {"x": "2"}, "1": {"x": "3"}},
                          "e": ["4", "5"], "m": {"k": ""}, "s": "€"}, got)
        self.assertEqual(got["l"], fs.decode_form(fs.encode_form({"l": [{"x": 2}, {"x": 3}]}))["l"])

    def test_conflicting_scalar_and_hash_is_refused(self):
        with self.assertRaises(fs.StripeError):
            fs.decode_form("a=1&a[b]=2")

    def test_line_items_reach_the_endpoint_as_a_list(self):
        acct = self.account()
        cs = self.tip_session(acct, amount=700)
        self.assertEqual(700, cs["amount_total"])

    def test_json_body_is_refused(self):
        status, data, _ = self.raw("POST", "/v1/products", json.dumps({"name": "x"}),
                                   {"Authorization": f"Bearer {KEY}",
                                    "Content-Type": "application/json"})
        self.assertEqual(400, status)
        self.assertIn("x-www-form-urlencoded", json.loads(data)["error"]["message"])
        self.assertEqual(0, self.count("product"))

    def test_array_indices_must_start_at_zero(self):
        self.assertStripeError(400, None, "line_items", self.call("POST", "/v1/checkout/sessions", {
            "mode": "payment", "success_url": "https://app.test/ok",
            "line_items": {"1": {"price": "price_x", "quantity": 1}}}))


class ParameterTest(FakeCase):
    def test_missing_required_param_is_named(self):
        self.assertStripeError(400, "parameter_missing", "currency",
                               self.call("POST", "/v1/payment_intents", {"amount": 1000}))
        self.assertStripeError(400, "parameter_missing", "recurring[interval]",
                               self.call("POST", "/v1/prices", {
                                   "currency": "usd", "unit_amount": 5, "product_data": {"name": "p"},
                                   "recurring": {"interval_count": 1}}))
        self.assertStripeError(400, "parameter_missing", "line_items[0][quantity]",
                               self.call("POST", "/v1/checkout/sessions", {
                                   "mode": "payment", "success_url": "https://app.test/ok",
                                   "line_items": [{"price_data": {
                                       "currency": "usd", "unit_amount": 900,
                                       "product_data": {"name": "Tip"}}}]}))

    def test_unknown_params_are_refused_at_any_depth(self):
        err = self.assertStripeError(400, "parameter_unknown", "colour",
                                     self.call("POST", "/v1/products", {"name": "x", "colour": "red"}))
        self.assertEqual("Received unknown parameter: colour", err["message"])
        self.assertStripeError(400, "parameter_unknown", "line_items[0][colour]",
                               self.call("POST", "/v1/checkout/sessions", {
                                   "mode": "payment", "success_url": "https://app.test/ok",
                                   "line_items": [{"price": "price_x", "quantity": 1, "colour": 1}]}))

    def test_amounts_must_be_whole_positive_integers(self):
        for bad in ("10.50", "1e3", "-5", "ten"):
            with self.subTest(amount=bad):
                self.assertStripeError(400, "parameter_invalid_integer", "amount",
                                       self.call("POST", "/v1/payment_intents",
                                                 {"amount": bad, "currency": "usd"}))
        self.assertStripeError(400, "amount_too_small", "amount",
                               self.call("POST", "/v1/payment_intents", {"amount": 10, "currency": "usd"}))
        self.assertStripeError(400, "amount_too_large", "amount",
                               self.call("POST", "/v1/payment_intents",
                                         {"amount": 10 ** 9, "currency": "usd"}))

    def test_currency_must_be_three_lower_case_letters(self):
        for bad in ("USD", "us", "xyz"):
            with self.subTest(currency=bad):
                self.assertStripeError(400, None, "currency", self.call(
                    "POST", "/v1/payment_intents", {"amount": 1000, "currency": bad}))

    def test_application_fee_must_be_below_the_amount(self):
        acct = self.account()
        for fee in (1000, 1500):
            self.assertStripeError(400, None, "application_fee_amount", self.call(
                "POST", "/v1/payment_intents", {"amount": 1000, "currency": "usd",
                                                "application_fee_amount": fee,
                                                "transfer_data": {"destination": acct["id"]}}))
        self.assertStripeError(400, None, "payment_intent_data[application_fee_amount]", self.call(
            "POST", "/v1/checkout/sessions", {
                "mode": "payment", "success_url": "https://app.test/ok",
                "line_items": [{"price_data": {"currency": "usd", "unit_amount": 600,
                                               "product_data": {"name": "Tip"}}, "quantity": 2}],
                "payment_intent_data": {"application_fee_amount": 1200,
                                        "transfer_data": {"destination": acct["id"]}}}))
        self.ok("POST", "/v1/payment_intents", {"amount": 1000, "currency": "usd",
                                                "application_fee_amount": 999,
                                                "transfer_data": {"destination": acct["id"]}})

    def test_application_fee_needs_a_destination(self):
        self.assertStripeError(400, None, "application_fee_amount", self.call(
            "POST", "/v1/payment_intents", {"amount": 1000, "currency": "usd",
                                            "application_fee_amount": 100}))

    def test_application_fee_percent_is_a_decimal_from_0_to_100(self):
        acct = self.account()
        price = self.monthly_price()

        def session(pct):
            return self.call("POST", "/v1/checkout/sessions", {
                "mode": "subscription", "success_url": "https://app.test/ok",
                "line_items": [{"price": price["id"], "quantity": 1}],
                "subscription_data": {"application_fee_percent": pct,
                                      "transfer_data": {"destination": acct["id"]}}})

        self.assertEqual(200, session("12.5")[0])
        self.assertEqual(200, session("0")[0])
        for bad in ("100.5", "12.345", "-1", "ten"):
            with self.subTest(pct=bad):
                self.assertStripeError(400, None, "subscription_data[application_fee_percent]",
                                       session(bad))

    def test_destination_must_be_a_connected_account_with_transfers_active(self):
        self.assertStripeError(400, "resource_missing", "transfer_data[destination]", self.call(
            "POST", "/v1/payment_intents", {"amount": 1000, "currency": "usd",
                                            "transfer_data": {"destination": "acct_nope"}}))
        pending = self.account(onboarded=False)
        self.assertStripeError(400, "insufficient_capabilities_for_transfer",
                               "transfer_data[destination]", self.call(
                                   "POST", "/v1/payment_intents",
                                   {"amount": 1000, "currency": "usd",
                                    "transfer_data": {"destination": pending["id"]}}))

    def test_stripe_account_header_must_name_a_connected_account(self):
        self.assertStripeError(403, "account_invalid", None, self.call(
            "GET", "/v1/balance", headers={"Stripe-Account": "acct_unknown"}))

    def test_mode_and_price_kind_must_agree(self):
        price = self.monthly_price()
        self.assertStripeError(400, None, "line_items[0][price]", self.call(
            "POST", "/v1/checkout/sessions", {"mode": "payment", "success_url": "https://app.test/ok",
                                              "line_items": [{"price": price["id"], "quantity": 1}]}))

    def test_unknown_object_is_404_resource_missing(self):
        self.assertStripeError(404, "resource_missing", "id",
                               self.call("GET", "/v1/payment_intents/pi_missing"))


class IdempotencyTest(FakeCase):
    def product(self, key, name="Membership", headers=None):
        return self.call("POST", "/v1/products", {"name": name},
                         dict({"Idempotency-Key": key}, **(headers or {})))

    def test_same_key_and_params_replays_the_first_response(self):
        s1, first, h1 = self.product("k-1")
        s2, second, h2 = self.product("k-1")
        self.assertEqual((200, 200), (s1, s2))
        self.assertEqual(first, second)
        self.assertEqual("true", h2.get("Idempotent-Replayed"))
        self.assertNotIn("Idempotent-Replayed", h1)
        self.assertEqual(1, self.count("product"))

    def test_same_key_with_other_params_is_an_idempotency_error(self):
        self.product("k-2")
        err = self.assertStripeError(400, None, None, self.product("k-2", name="Other"))
        self.assertEqual("idempotency_error", err["type"])
        self.assertEqual(1, self.count("product"))

    def test_keys_are_scoped_per_stripe_account(self):
        acct = self.account()
        self.control("POST", "/_fake/balance", {"account": acct["id"], "amount": 5000})
        args = {"amount": 100, "currency": "usd"}
        self.ok("POST", "/v1/payouts", args, {"Idempotency-Key": "same", "Stripe-Account": acct["id"]})
        self.control("POST", "/_fake/balance", {"amount": 5000})
        self.ok("POST", "/v1/payouts", args, {"Idempotency-Key": "same"})
        self.assertEqual(2, self.count("payout"))

    def test_a_validation_error_is_not_saved_under_the_key(self):
        self.assertStripeError(400, "parameter_unknown", None, self.call(
            "POST", "/v1/products", {"name": "x", "bogus": 1}, {"Idempotency-Key": "k-3"}))
        s, _, h = self.product("k-3")
        self.assertEqual(200, s)
        self.assertNotIn("Idempotent-Replayed", h)

    def test_a_card_decline_is_saved_and_replayed(self):
        params = {"amount": 1000, "currency": "usd", "confirm": True,
                  "payment_method": "pm_card_chargeDeclined", "payment_method_types": ["card"]}
        first = self.call("POST", "/v1/payment_intents", params, {"Idempotency-Key": "k-4"})
        self.assertStripeError(402, "card_declined", None, first)
        second = self.call("POST", "/v1/payment_intents", params, {"Idempotency-Key": "k-4"})
        self.assertEqual(first[1], second[1])
        self.assertEqual(1, self.count("payment_intent"))

    def test_a_concurrent_request_with_the_key_in_flight_is_409(self):
        self.control("POST", "/_fake/faults", {"kind": "delay", "delay_ms": 600,
                                               "method": "POST", "path": "/v1/products"})
        results = {}
        t = threading.Thread(target=lambda: results.setdefault("slow", self.product("k-5")))
        t.start()
        time.sleep(0.2)
        self.assertStripeError(409, "idempotency_key_in_use", None, self.product("k-5"))
        t.join()
        self.assertEqual(200, results["slow"][0])
        self.assertEqual(1, self.count("product"))


class FaultTest(FakeCase):
    def payout_setup(self):
        acct = self.account()
        self.control("POST", "/_fake/balance", {"account": acct["id"], "amount": 10000})
        return acct

    def payout(self, acct, key=None):
        headers = {"Stripe-Account": acct["id"]}
        if key:
            headers["Idempotency-Key"] = key
        return self.call("POST", "/v1/payouts", {"amount": 1000, "currency": "usd",
                                                 "method": "instant"}, headers)

    def test_500_fault_answers_api_error_without_executing(self):
        acct = self.payout_setup()
        self.control("POST", "/_fake/faults", {"kind": "500", "method": "POST", "path": "/v1/payouts"})
        err = self.assertStripeError(500, None, None, self.payout(acct, "p-1"))
        self.assertEqual("api_error", err["type"])
        self.assertEqual(0, self.count("payout"))
        self.assertEqual(200, self.payout(acct, "p-1")[0])
        self.assertEqual(1, self.count("payout"))

    def test_429_fault_carries_retry_after(self):
        self.control("POST", "/_fake/faults", {"kind": "429", "retry_after": 2, "count": 2})
        for _ in range(2):
            status, body, headers = self.call("GET", "/v1/balance")
            self.assertEqual(429, status)
            self.assertEqual("2", headers.get("Retry-After"))
            self.assertEqual("rate_limit", body["error"]["code"])
        self.assertEqual(200, self.call("GET", "/v1/balance")[0])

    def test_delay_fault_holds_the_reply(self):
        self.control("POST", "/_fake/faults", {"kind": "delay", "delay_ms": 300})
        t0 = time.monotonic()
        self.assertEqual(200, self.call("GET", "/v1/balance")[0])
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)

    def test_skip_lets_earlier_matching_requests_through(self):
        self.control("POST", "/_fake/faults", {"kind": "500", "path": "/v1/balance", "skip": 1})
        self.assertEqual(200, self.call("GET", "/v1/balance")[0])
        self.assertEqual(500, self.call("GET", "/v1/balance")[0])
        self.assertEqual(200, self.call("GET", "/v1/balance")[0])

    def test_drop_before_commit_creates_nothing(self):
        acct = self.payout_setup()
        self.control("POST", "/_fake/faults", {"kind": "drop", "path": "/v1/payouts"})
        with self.assertRaises((http.client.HTTPException, ConnectionError)):
            self.payout(acct, "p-2")
        self.assertEqual(0, self.count("payout"))

    def test_drop_after_commit_then_retry_with_the_key_replays_one_payout(self):
        acct = self.payout_setup()
        self.control("POST", "/_fake/faults", {"kind": "drop_after_commit", "path": "/v1/payouts"})
        with self.assertRaises((http.client.HTTPException, ConnectionError)):
            self.payout(acct, "p-3")
        self.assertEqual(1, self.count("payout"), "the payout was committed before the drop")
        status, po, headers = self.payout(acct, "p-3")
        self.assertEqual(200, status)
        self.assertEqual("true", headers.get("Idempotent-Replayed"))
        self.assertEqual(1, self.count("payout"))
        self.assertEqual(po["id"], self.control("GET", "/_fake/objects?type=payout")["data"][0]["id"])
        # One instant payout of 1000 and its fee (1 %, at least 50): once.
        self.assertEqual({"usd": 10000 - 1000 - 50}, self.balance(acct["id"]))
        txn = self.control("GET", "/_fake/objects?type=balance_transaction")["data"]
        self.assertEqual([50], [t["fee"] for t in txn if t["source"] == po["id"]])

    def test_drop_after_commit_then_retry_without_a_key_pays_twice(self):
        acct = self.payout_setup()
        self.control("POST", "/_fake/faults", {"kind": "drop_after_commit", "path": "/v1/payouts",
                                               "reset": True})
        with self.assertRaises((http.client.HTTPException, ConnectionError)):
            self.payout(acct)
        self.assertEqual(200, self.payout(acct)[0])
        self.assertEqual(2, self.count("payout"))

    def test_drop_after_commit_on_a_destination_payment_keeps_one_transfer(self):
        acct = self.account()
        params = {"amount": 2000, "currency": "usd", "application_fee_amount": 200,
                  "transfer_data": {"destination": acct["id"]}, "confirm": True,
                  "payment_method": "pm_card_visa", "payment_method_types": ["card"]}
        self.control("POST", "/_fake/faults", {"kind": "drop_after_commit",
                                               "path": "/v1/payment_intents"})
        with self.assertRaises((http.client.HTTPException, ConnectionError)):
            self.call("POST", "/v1/payment_intents", params, {"Idempotency-Key": "pi-1"})
        self.assertEqual(200, self.call("POST", "/v1/payment_intents", params,
                                        {"Idempotency-Key": "pi-1"})[0])
        self.assertEqual(1, self.count("transfer"))
        self.assertEqual(1, self.count("application_fee"))


class WebhookTest(FakeCase):
    def verify(self, headers, body, secret):
        """Stripe's scheme, written independently of the fake."""
        parts = [p.split("=", 1) for p in headers["Stripe-Signature"].split(",")]
        t = [v for k, v in parts if k == "t"][0]
        v1 = [v for k, v in parts if k == "v1"]
        want = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
        self.assertLess(abs(int(t) - time.time()), 60)
        return any(hmac.compare_digest(want, v) for v in v1), len(v1)

    def test_events_are_signed_with_hmac_sha256_of_timestamp_and_body(self):
        self.account()
        (headers, body, status), = self.sink.wait(1)
        ok, n = self.verify(headers, body, SECRET)
        self.assertTrue(ok)
        self.assertEqual(1, n)
        self.assertFalse(self.verify(headers, body, "whsec_wrong")[0])
        self.assertFalse(self.verify(headers, body + b" ", SECRET)[0])
        self.assertEqual("account.updated", json.loads(body)["type"])

    def test_rotation_signs_with_every_secret(self):
        self.control("POST", "/_fake/webhooks", {"secrets": [SECRET, SECRET2]})
        self.account()
        (headers, body, _), = self.sink.wait(1)
        for secret in (SECRET, SECRET2):
            ok, n = self.verify(headers, body, secret)
            self.assertTrue(ok, secret)
            self.assertEqual(2, n)

    def test_failed_delivery_is_retried_with_growing_delays(self):
        self.sink.clear(fail_next=2)
        self.account()
        got = self.sink.wait(3)
        self.assertEqual([500, 500, 200], [s for _, _, s in got])
        self.assertEqual(1, len({json.loads(b)["id"] for _, b, _ in got}))
        log = self.control("GET", "/_fake/deliveries?min_ok=1&timeout_ms=3000")["data"]
        self.assertEqual([1, 2, 3], [r["attempt"] for r in log])
        gaps = [b["at"] - a["at"] for a, b in zip(log, log[1:])]
        self.assertGreaterEqual(gaps[0], 0.045)
        self.assertGreater(gaps[1], gaps[0])

    def test_held_events_are_delivered_shuffled_and_duplicated_on_flush(self):
        self.control("POST", "/_fake/webhooks", {"hold": True, "shuffle": True, "duplicate": 1,
                                                 "seed": 7})
        acct = self.account()
        self.control("POST", f"/_fake/checkout/sessions/{self.tip_session(acct)['id']}/complete")
        made = [e["id"] for e in self.control("GET", "/_fake/events")["data"]]
        self.assertGreaterEqual(len(made), 4)
        time.sleep(0.1)
        self.assertEqual([], self.sink.wait(0, 0), "held events must wait for the flush")
        self.assertEqual(len(made), self.control("POST", "/_fake/webhooks/flush")["flushed"])
        got = [e["id"] for e in self.sink.events(2 * len(made))]
        self.assertEqual(sorted(made * 2), sorted(got))
        self.assertNotEqual(made * 2, got)
        self.assertNotEqual(made, got[:len(made)], "the first copies came in creation order")

    def test_resend_delivers_the_same_event_again(self):
        self.account()
        (_, body, _), = self.sink.wait(1)
        ev = json.loads(body)
        self.control("POST", f"/_fake/events/{ev['id']}/resend")
        _, (_, body2, _) = self.sink.wait(2)
        self.assertEqual(ev["id"], json.loads(body2)["id"])

    def test_event_can_be_fetched_by_id_and_connected_events_name_the_account(self):
        acct = self.account()
        (_, body, _), = self.sink.wait(1)
        ev = json.loads(body)
        self.assertEqual(acct["id"], ev["account"])
        self.assertEqual(True, ev["data"]["object"]["charges_enabled"])
        self.assertEqual(False, ev["data"]["previous_attributes"]["charges_enabled"])
        got = self.ok("GET", f"/v1/events/{ev['id']}", headers={"Stripe-Account": acct["id"]})
        self.assertEqual(ev["type"], got["type"])


class FlowTest(FakeCase):
    def types(self):
        return [e["type"] for e in self.control("GET", "/_fake/events")["data"]]

    def test_paid_tip_checkout_makes_charge_transfer_and_fee(self):
        acct = self.account()
        cs = self.tip_session(acct, amount=1000, fee=100)
        self.assertEqual("open", cs["status"])
        self.assertTrue(cs["url"].startswith(self.fake.url))
        cs = self.control("POST", f"/_fake/checkout/sessions/{cs['id']}/complete", {"outcome": "paid"})
        self.assertEqual(("complete", "paid"), (cs["status"], cs["payment_status"]))
        pi = self.ok("GET", f"/v1/payment_intents/{cs['payment_intent']}",
                     {"expand": ["latest_charge.balance_transaction"]})
        self.assertEqual("succeeded", pi["status"])
        self.assertEqual({"channel": "c1"}, pi["metadata"])
        ch = pi["latest_charge"]
        self.assertEqual(100, ch["application_fee_amount"])
        self.assertEqual(fs.stripe_fee(1000), ch["balance_transaction"]["fee"])
        self.assertEqual(1000 - fs.stripe_fee(1000), ch["balance_transaction"]["net"])
        tr = self.ok("GET", f"/v1/transfers/{ch['transfer']}")
        self.assertEqual((1000, acct["id"]), (tr["amount"], tr["destination"]))
        self.assertEqual({"usd": 900}, self.balance(acct["id"]))
        for t in ("charge.succeeded", "payment_intent.succeeded", "checkout.session.completed"):
            self.assertIn(t, self.types())

    def test_declined_checkout_stays_open_with_a_failed_payment(self):
        cs = self.tip_session(self.account())
        cs = self.control("POST", f"/_fake/checkout/sessions/{cs['id']}/complete", {"outcome": "failed"})
        self.assertEqual(("open", "unpaid"), (cs["status"], cs["payment_status"]))
        pi = self.ok("GET", f"/v1/payment_intents/{cs['payment_intent']}")
        self.assertEqual("requires_payment_method", pi["status"])
        self.assertEqual("card_declined", pi["last_payment_error"]["code"])
        self.assertIn("payment_intent.payment_failed", self.types())
        self.assertEqual(0, self.count("transfer"))

    def test_pay_page_completes_and_redirects_to_success_url(self):
        cs = self.tip_session(self.account())
        status, _, headers = self.raw("GET", f"/_fake/pay/{cs['id']}?outcome=paid")
        self.assertEqual(303, status)
        self.assertEqual(f"https://app.test/ok?s={cs['id']}", headers["Location"])

    def test_a_created_payment_intent_is_confirmed_by_the_customer(self):
        acct = self.account()
        pi = self.ok("POST", "/v1/payment_intents", {
            "amount": 1500, "currency": "usd", "application_fee_amount": 150,
            "transfer_data": {"destination": acct["id"]}, "metadata": {"tip": "1"}})
        self.assertEqual("requires_payment_method", pi["status"])
        self.assertTrue(pi["client_secret"].startswith(pi["id"] + "_secret_"))
        pi = self.control("POST", f"/_fake/payment_intents/{pi['id']}/confirm", {"outcome": "paid"})
        self.assertEqual("succeeded", pi["status"])
        self.assertEqual({"usd": 1350}, self.balance(acct["id"]))

    def test_account_link_onboards_and_returns(self):
        acct = self.account(onboarded=False)
        link = self.ok("POST", "/v1/account_links", {
            "account": acct["id"], "type": "account_onboarding",
            "refresh_url": "https://app.test/r", "return_url": "https://app.test/done"})
        status, headers = self.fake.control("GET", link["url"][len(self.fake.url):])
        self.assertEqual((303, "https://app.test/done"), (status, headers["Location"]))
        acct = self.ok("GET", f"/v1/accounts/{acct['id']}")
        self.assertEqual((True, True, "active"), (acct["charges_enabled"], acct["payouts_enabled"],
                                                  acct["capabilities"]["transfers"]))
        self.assertEqual([], acct["requirements"]["currently_due"])
        self.assertIn("account.updated", self.types())

    def test_subscription_lifecycle(self):
        acct = self.account()
        sub = self.subscription(acct, self.monthly_price(800))
        self.assertEqual("active", sub["status"])
        self.assertEqual(12.5, sub["application_fee_percent"])
        inv = self.ok("GET", f"/v1/invoices/{sub['latest_invoice']}")
        self.assertEqual(("paid", 800, "subscription_create"),
                         (inv["status"], inv["amount_paid"], inv["billing_reason"]))
        self.assertEqual(sub["id"], inv["parent"]["subscription_details"]["subscription"])
        self.assertEqual(1, self.count("application_fee"))
        self.assertEqual({"usd": 800 - 100}, self.balance(acct["id"]))

        sub2 = self.control("POST", f"/_fake/subscriptions/{sub['id']}/renew", {"outcome": "paid"})
        item, item2 = sub["items"]["data"][0], sub2["items"]["data"][0]
        self.assertEqual(item["current_period_end"], item2["current_period_start"])
        self.assertNotEqual(sub["latest_invoice"], sub2["latest_invoice"])

        sub3 = self.control("POST", f"/_fake/subscriptions/{sub['id']}/renew", {"outcome": "failed"})
        self.assertEqual("past_due", sub3["status"])
        failed = self.ok("GET", f"/v1/invoices/{sub3['latest_invoice']}")
        self.assertEqual(("open", 1), (failed["status"], failed["attempt_count"]))
        self.assertIn("invoice.payment_failed", self.types())
        self.control("POST", f"/_fake/invoices/{failed['id']}/pay", {"outcome": "paid"})
        self.assertEqual("active", self.ok("GET", f"/v1/subscriptions/{sub['id']}")["status"])

        upd = self.ok("POST", f"/v1/subscriptions/{sub['id']}", {"cancel_at_period_end": True})
        self.assertTrue(upd["cancel_at_period_end"])
        self.assertEqual(sub3["items"]["data"][0]["current_period_end"], upd["cancel_at"])
        ended = self.control("POST", f"/_fake/subscriptions/{sub['id']}/renew")
        self.assertEqual("canceled", ended["status"])
        self.assertEqual(3, self.count("invoice"), "no invoice for the period after cancellation")
        types = self.types()
        for t in ("customer.subscription.created", "invoice.paid", "customer.subscription.updated",
                  "customer.subscription.deleted"):
            self.assertIn(t, types)

    def test_delete_cancels_at_once(self):
        sub = self.subscription(self.account(), self.monthly_price())
        gone = self.ok("DELETE", f"/v1/subscriptions/{sub['id']}")
        self.assertEqual("canceled", gone["status"])
        self.assertIsNotNone(gone["ended_at"])
        self.assertStripeError(400, None, None, self.call("DELETE", f"/v1/subscriptions/{sub['id']}"))

    def test_refund_reverses_transfer_and_fee_proportionally(self):
        acct = self.account()
        pi = self.paid_payment_intent(acct, amount=2000, fee=200)
        self.assertEqual({"usd": 1800}, self.balance(acct["id"]))
        rf = self.ok("POST", "/v1/refunds", {"payment_intent": pi["id"], "amount": 1000,
                                             "reverse_transfer": True, "refund_application_fee": True})
        self.assertEqual("succeeded", rf["status"])
        self.assertIsNotNone(rf["transfer_reversal"])
        self.assertEqual({"usd": 1800 - 1000 + 100}, self.balance(acct["id"]))
        ch = self.ok("GET", f"/v1/charges/{pi['latest_charge']}")
        self.assertEqual((1000, False), (ch["amount_refunded"], ch["refunded"]))
        self.assertStripeError(400, "amount_too_large", "amount", self.call(
            "POST", "/v1/refunds", {"charge": ch["id"], "amount": 1001}))
        self.ok("POST", "/v1/refunds", {"charge": ch["id"], "reverse_transfer": True,
                                        "refund_application_fee": True})
        self.assertEqual({"usd": 0}, self.balance(acct["id"]))
        self.assertStripeError(400, "charge_already_refunded", None, self.call(
            "POST", "/v1/refunds", {"charge": ch["id"]}))
        self.assertIn("charge.refunded", self.types())

    def test_dispute_opens_and_closes(self):
        pi = self.paid_payment_intent(self.account())
        dp = self.control("POST", f"/_fake/charges/{pi['latest_charge']}/dispute", {})
        self.assertEqual("needs_response", dp["status"])
        self.assertStripeError(400, "charge_disputed", None, self.call(
            "POST", "/v1/refunds", {"payment_intent": pi["id"]}))
        self.assertEqual("lost", self.control("POST", f"/_fake/disputes/{dp['id']}/close",
                                              {"outcome": "lost"})["status"])
        types = self.types()
        self.assertIn("charge.dispute.created", types)
        self.assertIn("charge.dispute.closed", types)

    def test_payouts_need_payouts_enabled_and_funds(self):
        acct = self.account(onboarded=False)
        hdr = {"Stripe-Account": acct["id"]}
        self.assertStripeError(400, "payouts_not_allowed", None, self.call(
            "POST", "/v1/payouts", {"amount": 100, "currency": "usd"}, hdr))
        self.control("POST", f"/_fake/accounts/{acct['id']}", {"onboarded": True})
        self.assertStripeError(400, "balance_insufficient", "amount", self.call(
            "POST", "/v1/payouts", {"amount": 100, "currency": "usd"}, hdr))
        self.control("POST", "/_fake/balance", {"account": acct["id"], "amount": 500})
        po = self.ok("POST", "/v1/payouts", {"amount": 300, "currency": "usd"}, hdr)
        self.assertEqual(po["id"], self.ok("GET", f"/v1/payouts/{po['id']}", headers=hdr)["id"])
        self.assertStripeError(404, "resource_missing", None, self.call("GET", f"/v1/payouts/{po['id']}"))
        self.control("POST", f"/_fake/payouts/{po['id']}/settle", {"outcome": "failed"})
        self.assertEqual({"usd": 500}, self.balance(acct["id"]))
        po2 = self.ok("POST", "/v1/payouts", {"amount": 500, "currency": "usd"}, hdr)
        self.control("POST", f"/_fake/payouts/{po2['id']}/settle", {"outcome": "paid"})
        events = self.control("GET", "/_fake/events")["data"]
        self.assertIn(("payout.failed", acct["id"]), [(e["type"], e["account"]) for e in events])
        self.assertIn(("payout.paid", acct["id"]), [(e["type"], e["account"]) for e in events])


class ShapeTest(FakeCase):
    def test_objects_have_every_field_of_stripes_example(self):
        acct = self.account()
        link = self.ok("POST", "/v1/account_links", {
            "account": acct["id"], "type": "account_onboarding",
            "refresh_url": "https://app.test/r", "return_url": "https://app.test/done"})
        self.assertTrue(link["url"].startswith(self.fake.url))
        self.subscription(acct, self.monthly_price())
        pi = self.paid_payment_intent(acct)
        self.ok("POST", "/v1/refunds", {"payment_intent": pi["id"], "amount": 500,
                                        "reverse_transfer": True, "refund_application_fee": True})
        self.control("POST", f"/_fake/charges/{pi['latest_charge']}/dispute", {})
        self.ok("POST", "/v1/payouts", {"amount": 100, "currency": "usd"},
                {"Stripe-Account": acct["id"]})
        shown = {"account_link": link, "balance": self.ok("GET", "/v1/balance")}
        prefixes = {"account": "acct_", "product": "prod_", "price": "price_",
                    "checkout.session": "cs_test_", "payment_intent": "pi_", "charge": "ch_",
                    "subscription": "sub_", "invoice": "in_", "refund": "re_", "payout": "po_",
                    "event": "evt_", "transfer": "tr_", "application_fee": "fee_",
                    "balance_transaction": "txn_", "dispute": "du_",
                    "customer": "cus_"}
        for type_, prefix in prefixes.items():
            objs = self.control("GET", f"/_fake/objects?type={type_}")["data"]
            self.assertTrue(objs, f"no {type_} was made")
            shown[type_] = objs[0]
            for obj in objs:
                self.assertTrue(obj["id"].startswith(prefix), obj["id"])
        if STRIPE_FIXTURES is None:
            self.skipTest("Stripe's fixtures3.json is not there: no shapes to compare with")
        for type_, obj in shown.items():
            with self.subTest(type=type_):
                missing = set(FIXTURES[type_]) - set(obj)
                self.assertEqual(set(), missing)
                self.assertEqual(FIXTURES[type_]["object"], obj["object"])
        sub = shown["subscription"]
        self.assertIsNone(sub["pause_collection"], "fixture junk must not leak into live fields")
        self.assertIsNone(sub["trial_end"])


class CommandLineTest(unittest.TestCase):
    def start(self, *args):
        proc = subprocess.Popen([sys.executable, os.path.join(HERE, "fake_stripe.py"), "--port", "0",
                                 *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = proc.stdout.readline()
        self.assertRegex(line, r"^listening on http://127\.0\.0\.1:\d+$")
        return proc, int(line.rsplit(":", 1)[1])

    def test_state_file_survives_a_restart_and_stdin_eof_stops_it(self):
        with tempfile.TemporaryDirectory(prefix="fake-stripe-") as tmp:
            state = os.path.join(tmp, "state.json")
            proc, port = self.start("--state-file", state)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("POST", "/v1/products", "name=Kept",
                         {"Authorization": f"Bearer {KEY}", "Idempotency-Key": "restart-1",
                          "Content-Type": "application/x-www-form-urlencoded"})
            prod = json.loads(conn.getresponse().read())
            conn.close()
            proc.stdin.close()
            self.assertEqual(0, proc.wait(5), "stdin EOF must stop the fake")
            proc.stdout.close()

            proc, port = self.start("--state-file", state)
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", f"/v1/products/{prod['id']}",
                             headers={"Authorization": f"Bearer {KEY}"})
                resp = conn.getresponse()
                self.assertEqual(200, resp.status)
                self.assertEqual("Kept", json.loads(resp.read())["name"])
                conn.request("POST", "/v1/products", "name=Kept",
                             {"Authorization": f"Bearer {KEY}", "Idempotency-Key": "restart-1",
                              "Content-Type": "application/x-www-form-urlencoded"})
                resp = conn.getresponse()
                self.assertEqual(prod, json.loads(resp.read()))
                self.assertEqual("true", resp.getheader("Idempotent-Replayed"))
                conn.close()
            finally:
                proc.stdin.close()
                proc.wait(5)
                proc.stdout.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
