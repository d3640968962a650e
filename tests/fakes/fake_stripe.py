#!/usr/bin/env python3
# fake_stripe.py — a stateful fake of the part of Stripe's API Glasscast's billing uses, on loopback:
# validates requests as Stripe does, keeps objects, signs and delivers webhooks, injects faults.
"""A fake Stripe for tests (Python 3 standard library only).

Run it:   python3 tests/fakes/fake_stripe.py --port 0 [--webhook-url URL --webhook-secret whsec_...]
It prints "listening on http://127.0.0.1:PORT" and serves until killed (or until
its stdin, when that is a pipe, reaches EOF). Import it: FakeStripe(...).start().

The code is laid out in the order a request meets it:
  errors and ids -> form decoding -> parameter specs (one table per endpoint)
  -> object shapes (fixture example + our fields) -> the ledger and flows
  -> webhooks -> faults -> HTTP dispatch -> the FakeStripe wrapper and main().
One lock (State.lock) guards every object, balance, event and idempotency
record; the webhook deliverer takes it only to read an event.
README.md beside this file documents the rules and the /_fake/ control API.
"""

import argparse
import base64
import calendar
import copy
import datetime
import hashlib
import hmac
import http.client
import http.server
import json
import os
import random
import re
import socket
import stat
import string
import struct
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_FIXTURES = os.path.join(REPO_ROOT, "..", "shared", "stripe", "fixtures3.json")
# The version of the fixtures (invoice.parent, subscription.billing_mode exist: "basil").
DEFAULT_API_VERSION = "2025-06-30.basil"
PLATFORM = None  # owner of objects that belong to the platform, not a connected account
PLATFORM_APPLICATION = "ca_fakeGlasscastPlatform"


def now():
    return int(time.time())


_ALNUM = string.ascii_letters + string.digits
_rng = random.SystemRandom()


def new_id(prefix, length=24):
    return prefix + "".join(_rng.choice(_ALNUM) for _ in range(length))


# ---------------------------------------------------------------------------
# Errors. One exception carries everything Stripe's error body holds; the
# dispatcher turns it into {"error": {...}} with its HTTP status.

class StripeError(Exception):
    def __init__(self, status, message, type="invalid_request_error", code=None, param=None,
                 stored=False, extra=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        # Stripe saves an idempotent result only once the endpoint has begun
        # executing: validation errors are not saved, a declined card is.
        self.stored = stored
        self.extra = extra or {}

    def body(self):
        err = {"type": self.type, "message": self.message}
        if self.code:
            err["code"] = self.code
        if self.param:
            err["param"] = self.param
        if self.code and self.type != "idempotency_error":
            err["doc_url"] = "https://stripe.com/docs/error-codes/" + self.code.replace("_", "-")
        err.update(self.extra)
        return {"error": err}


def bad_param(message, param, code="parameter_invalid"):
    return StripeError(400, message, code=code, param=param)


def missing(param):
    return StripeError(400, f"Missing required param: {param}.", code="parameter_missing", param=param)


def no_such(kind, ident, param="id"):
    return StripeError(404, f"No such {kind}: '{ident}'", code="resource_missing", param=param)


# ---------------------------------------------------------------------------
# Stripe's form encoding: a[b][c]=1&a[list][0][x]=2&a[arr][]=3. Decoded into
# nested dicts; "[]" appends to a list; numeric keys stay dict keys here and
# the Arr spec turns them into a list (Stripe checks they are 0..n-1).

_KEY_RE = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def decode_form(text):
    out = {}
    try:
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, strict_parsing=False,
                                       errors="strict")
    except UnicodeDecodeError:
        raise StripeError(400, "Invalid request: the body is not valid UTF-8 form data.")
    for key, value in pairs:
        m = _KEY_RE.match(key)
        if not m:
            raise StripeError(400, f"Invalid parameter name: {key}", code="parameter_invalid",
                              param=key)
        parts = [m.group(1)] + re.findall(r"\[([^\[\]]*)\]", m.group(2))
        node = out
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(node, list):
                if part != "":
                    raise StripeError(400, f"Invalid array: {key}", param=key)
                if last:
                    node.append(value)
                else:
                    node.append({})
                    node = node[-1]
                continue
            if last:
                if isinstance(node.get(part), (dict, list)):
                    raise StripeError(400, f"Conflicting values for parameter {key}", param=key)
                node[part] = value
                continue
            nxt_is_list = parts[i + 1] == ""
            child = node.get(part)
            if child is None:
                child = [] if nxt_is_list else {}
                node[part] = child
            elif not isinstance(child, (dict, list)) or isinstance(child, list) != nxt_is_list:
                raise StripeError(400, f"Conflicting values for parameter {key}", param=key)
            node = child
    return out


def encode_form(params, prefix=""):
    """The inverse of decode_form (tests and in-process callers use it)."""
    pairs = []

    def walk(value, name):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{name}[{k}]" if name else str(k))
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                walk(v, f"{name}[{i}]")
        elif isinstance(value, bool):
            pairs.append((name, "true" if value else "false"))
        elif value is None:
            pairs.append((name, ""))
        else:
            pairs.append((name, str(value)))

    walk(params, prefix)
    return urllib.parse.urlencode(pairs)


# ---------------------------------------------------------------------------
# Parameter specs. Each endpoint has one table (a Obj spec) saying which
# parameters exist, which are required and what each must look like; check()
# returns the converted value or raises the error Stripe would.

CURRENCIES = {
    "usd", "eur", "gbp", "cad", "aud", "nzd", "chf", "sek", "nok", "dkk", "pln", "czk", "huf",
    "ron", "bgn", "jpy", "sgd", "hkd", "mxn", "brl", "inr", "krw", "zar", "ils", "aed", "thb",
    "myr", "php", "idr", "try", "twd",
}
ZERO_DECIMAL = {"jpy", "krw"}
# Stripe's minimum charge, in the currency's smallest unit (its documented table, abridged).
MIN_CHARGE = {"usd": 50, "eur": 50, "gbp": 30, "cad": 50, "aud": 50, "nzd": 50, "chf": 50,
              "sek": 300, "nok": 300, "dkk": 250, "pln": 200, "jpy": 50, "sgd": 50, "hkd": 400,
              "mxn": 1000, "brl": 50, "inr": 50}
MAX_AMOUNT = 99999999
COUNTRY_CURRENCY = {"US": "usd", "GB": "gbp", "CA": "cad", "AU": "aud", "NZ": "nzd", "CH": "chf",
                    "SE": "sek", "NO": "nok", "DK": "dkk", "PL": "pln", "JP": "jpy", "SG": "sgd"}
EU = {"AT", "BE", "CY", "DE", "EE", "ES", "FI", "FR", "GR", "HR", "IE", "IT", "LT", "LU", "LV",
      "MT", "NL", "PT", "SI", "SK"}


class Spec:
    def __init__(self, required=False):
        self.required = required

    def check(self, value, name):
        raise NotImplementedError

    def scalar(self, value, name):
        if isinstance(value, (dict, list)):
            raise bad_param(f"Invalid {self.what}: {name} must be a single value, not a hash or array",
                            name)
        return value

    what = "value"


class Str(Spec):
    what = "string"

    def __init__(self, required=False, choices=None, max_len=5000, pattern=None, pattern_text=None):
        super().__init__(required)
        self.choices = choices
        self.max_len = max_len
        self.pattern = re.compile(pattern) if pattern else None
        self.pattern_text = pattern_text

    def check(self, value, name):
        value = self.scalar(value, name)
        if self.choices and value not in self.choices:
            raise bad_param(f"Invalid {name}: must be one of {', '.join(self.choices)}", name)
        if len(value) > self.max_len:
            raise bad_param(f"Invalid {name}: must be at most {self.max_len} characters", name)
        if self.pattern and not self.pattern.fullmatch(value):
            raise bad_param(f"Invalid {name}: {self.pattern_text or 'bad format'}", name)
        return value


class Url(Str):
    def check(self, value, name):
        value = super().check(value, name)
        u = urllib.parse.urlsplit(value)
        if u.scheme not in ("http", "https") or not u.netloc:
            raise StripeError(400, "Not a valid URL", code="url_invalid", param=name)
        return value


class Email(Str):
    def check(self, value, name):
        value = super().check(value, name)
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            raise StripeError(400, f"Invalid email address: {value}", code="email_invalid",
                              param=name)
        return value


class Currency(Str):
    def check(self, value, name):
        value = super().check(value, name)
        # Stripe lower-cases what it is sent; the fake insists the client already does.
        if not re.fullmatch(r"[a-z]{3}", value) or value not in CURRENCIES:
            raise bad_param(f"Invalid currency: {value}. The fake accepts lower-case ISO codes "
                            f"Stripe supports.", name)
        return value


class Int(Spec):
    what = "integer"

    def __init__(self, required=False, min=None, max=None, amount=False):
        super().__init__(required)
        self.min = min
        self.max = max
        self.amount = amount

    def check(self, value, name):
        value = self.scalar(value, name)
        if not re.fullmatch(r"-?[0-9]+", value):
            raise bad_param(f"Invalid integer: {value}", name, code="parameter_invalid_integer")
        n = int(value)
        if self.min is not None and n < self.min:
            raise bad_param(f"This value must be greater than or equal to {self.min}.", name,
                            code="parameter_invalid_integer")
        if self.amount and n > MAX_AMOUNT:
            raise StripeError(400, f"Amount must be no more than {MAX_AMOUNT}", code="amount_too_large",
                              param=name)
        if self.max is not None and n > self.max:
            raise bad_param(f"This value must be less than or equal to {self.max}.", name,
                            code="parameter_invalid_integer")
        return n


class Bool(Spec):
    what = "boolean"

    def check(self, value, name):
        value = self.scalar(value, name)
        if value not in ("true", "false"):
            raise bad_param(f"Invalid boolean: {value}", name)
        return value == "true"


class Percent(Spec):
    """A decimal 0..100 with at most two decimal places (application_fee_percent)."""
    what = "decimal"

    def check(self, value, name):
        value = self.scalar(value, name)
        if not re.fullmatch(r"[0-9]+(\.[0-9]{1,2})?", value):
            raise bad_param(f"Invalid decimal: {value}", name, code="parameter_invalid_decimal")
        f = float(value)
        if f > 100:
            raise bad_param("This value must be less than or equal to 100.", name)
        return f


class Metadata(Spec):
    def check(self, value, name):
        if value == "":
            return {}
        if not isinstance(value, dict):
            raise bad_param("Invalid hash", name)
        out = {}
        for k, v in value.items():
            if isinstance(v, (dict, list)):
                raise bad_param("Metadata values must be strings", f"{name}[{k}]")
            if len(k) > 40:
                raise bad_param("Metadata keys can have up to 40 characters", f"{name}[{k}]")
            if len(v) > 500:
                raise bad_param("Metadata values can have up to 500 characters", f"{name}[{k}]")
            if v != "":
                out[k] = v
        if len(out) > 50:
            raise bad_param("Metadata can have up to 50 keys", name)
        return out


class Arr(Spec):
    def __init__(self, item, required=False, max_items=100):
        super().__init__(required)
        self.item = item
        self.max_items = max_items

    def check(self, value, name):
        if isinstance(value, dict):
            if not all(re.fullmatch(r"[0-9]+", k) for k in value):
                raise bad_param("Invalid array", name)
            keys = sorted(value, key=int)
            if [int(k) for k in keys] != list(range(len(keys))):
                raise bad_param("Invalid array: indices must run 0, 1, 2, ...", name)
            value = [value[k] for k in keys]
        elif not isinstance(value, list):
            raise bad_param("Invalid array", name)
        if len(value) > self.max_items:
            raise bad_param(f"Invalid array: at most {self.max_items} items", name)
        out = []
        for i, v in enumerate(value):
            item_name = f"{name}[{i}]"
            if v == "" and isinstance(self.item, Obj):
                raise missing(item_name)
            out.append(self.item.check(v, item_name))
        return out


class Obj(Spec):
    def __init__(self, fields, required=False):
        super().__init__(required)
        self.fields = fields

    def check(self, value, name):
        if value == "":
            return {}
        if not isinstance(value, dict):
            raise bad_param("Invalid hash", name)
        return self.check_fields(value, name)

    def check_fields(self, value, prefix):
        def sub(k):
            return f"{prefix}[{k}]" if prefix else k

        for k in value:
            if k not in self.fields:
                raise StripeError(400, f"Received unknown parameter: {sub(k)}",
                                  code="parameter_unknown", param=sub(k))
        out = {}
        for k, spec in self.fields.items():
            v = value.get(k)
            if v is None or (v == "" and not isinstance(spec, (Obj, Metadata))):
                if spec.required:
                    if v == "":
                        raise StripeError(
                            400, f"You passed an empty string for '{sub(k)}'. We assume empty values "
                            f"are an attempt to unset a parameter; however '{sub(k)}' cannot be unset. "
                            f"You should remove '{sub(k)}' from your request or supply a non-empty value.",
                            code="parameter_invalid_empty", param=sub(k))
                    raise missing(sub(k))
                continue
            out[k] = spec.check(v, sub(k))
        return out


EXPAND = Arr(Str())
GET_ONLY = Obj({"expand": EXPAND})
AMOUNT = Int(required=True, min=1, amount=True)

CAPABILITY = Obj({"requested": Bool()})
ACCOUNT_CREATE = Obj({
    "type": Str(required=True, choices=["custom", "express", "standard"]),
    "country": Str(pattern=r"[A-Za-z]{2}", pattern_text="a two-letter country code"),
    "email": Email(),
    "capabilities": Obj({"card_payments": CAPABILITY, "transfers": CAPABILITY}),
    "business_type": Str(choices=["company", "government_entity", "individual", "non_profit"]),
    "business_profile": Obj({k: Str() for k in ("mcc", "name", "product_description",
                                                "support_email", "support_phone", "support_url",
                                                "url")}),
    "default_currency": Currency(),
    "settings": Obj({"payouts": Obj({"schedule": Obj({
        "interval": Str(choices=["daily", "manual", "monthly", "weekly"]),
        "delay_days": Str(), "weekly_anchor": Str(), "monthly_anchor": Int(min=1, max=31)}),
        "statement_descriptor": Str(max_len=22)})}),
    "metadata": Metadata(),
    "expand": EXPAND,
})
ACCOUNT_LINK_CREATE = Obj({
    "account": Str(required=True),
    "refresh_url": Url(),
    "return_url": Url(),
    "type": Str(required=True, choices=["account_onboarding", "account_update"]),
    "collect": Str(choices=["currently_due", "eventually_due"]),
    "expand": EXPAND,
})
PRODUCT_FIELDS = {
    "name": Str(required=True, max_len=250),
    "description": Str(),
    "metadata": Metadata(),
    "active": Bool(),
    "images": Arr(Url(), max_items=8),
    "statement_descriptor": Str(max_len=22),
    "unit_label": Str(max_len=12),
    "tax_code": Str(),
    "url": Url(),
}
PRODUCT_CREATE = Obj(dict(PRODUCT_FIELDS, expand=EXPAND))
RECURRING = Obj({"interval": Str(required=True, choices=["day", "month", "week", "year"]),
                 "interval_count": Int(min=1)})
PRICE_CREATE = Obj({
    "currency": Currency(required=True),
    "unit_amount": Int(min=0, amount=True),
    "recurring": RECURRING,
    "product": Str(),
    "product_data": Obj({k: PRODUCT_FIELDS[k] for k in
                         ("name", "metadata", "active", "statement_descriptor", "unit_label",
                          "tax_code")}),
    "metadata": Metadata(),
    "nickname": Str(),
    "lookup_key": Str(max_len=200),
    "active": Bool(),
    "tax_behavior": Str(choices=["exclusive", "inclusive", "unspecified"]),
    "billing_scheme": Str(choices=["per_unit"]),
    "expand": EXPAND,
})
TRANSFER_DATA_PI = Obj({"destination": Str(required=True), "amount": Int(min=1, amount=True)})
CHECKOUT_CREATE = Obj({
    "mode": Str(required=True, choices=["payment", "setup", "subscription"]),
    "line_items": Arr(Obj({
        "price": Str(),
        "price_data": Obj({
            "currency": Currency(required=True),
            "unit_amount": Int(min=0, amount=True),
            "product": Str(),
            "product_data": Obj({"name": Str(required=True, max_len=250), "description": Str(),
                                 "metadata": Metadata(), "images": Arr(Url(), max_items=8)}),
            "recurring": RECURRING,
            "tax_behavior": Str(choices=["exclusive", "inclusive", "unspecified"]),
        }),
        "quantity": Int(min=1, max=999999),
    })),
    "success_url": Url(),
    "cancel_url": Url(),
    "customer_email": Email(),
    "customer": Str(),
    "client_reference_id": Str(max_len=200),
    "metadata": Metadata(),
    "subscription_data": Obj({
        "application_fee_percent": Percent(),
        "transfer_data": Obj({"destination": Str(required=True), "amount_percent": Percent()}),
        "metadata": Metadata(),
        "description": Str(max_len=500),
        "trial_period_days": Int(min=1, max=730),
    }),
    "payment_intent_data": Obj({
        "application_fee_amount": Int(min=0, amount=True),
        "transfer_data": TRANSFER_DATA_PI,
        "metadata": Metadata(),
        "description": Str(max_len=1000),
        "receipt_email": Email(),
        "statement_descriptor": Str(max_len=22),
        "statement_descriptor_suffix": Str(max_len=22),
        "transfer_group": Str(),
    }),
    "payment_method_types": Arr(Str(choices=["card", "link"])),
    "locale": Str(),
    "expires_at": Int(),
    "allow_promotion_codes": Bool(),
    "billing_address_collection": Str(choices=["auto", "required"]),
    "customer_creation": Str(choices=["always", "if_required"]),
    "submit_type": Str(choices=["auto", "book", "donate", "pay", "subscribe"]),
    "ui_mode": Str(choices=["hosted"]),
    "expand": EXPAND,
})
PAYMENT_INTENT_CREATE = Obj({
    "amount": AMOUNT,
    "currency": Currency(required=True),
    "application_fee_amount": Int(min=0, amount=True),
    "transfer_data": TRANSFER_DATA_PI,
    "metadata": Metadata(),
    "confirm": Bool(),
    "payment_method": Str(),
    "payment_method_types": Arr(Str(choices=["card", "link"])),
    "automatic_payment_methods": Obj({"enabled": Bool(required=True),
                                      "allow_redirects": Str(choices=["always", "never"])}),
    "description": Str(max_len=1000),
    "customer": Str(),
    "receipt_email": Email(),
    "capture_method": Str(choices=["automatic", "automatic_async"]),
    "statement_descriptor_suffix": Str(max_len=22),
    "transfer_group": Str(),
    "return_url": Url(),
    "off_session": Bool(),
    "expand": EXPAND,
})
CANCELLATION_DETAILS = Obj({
    "comment": Str(max_len=5000),
    "feedback": Str(choices=["customer_service", "low_quality", "missing_features", "other",
                             "switched_service", "too_complex", "too_expensive", "unused"]),
})
SUBSCRIPTION_UPDATE = Obj({
    "cancel_at_period_end": Bool(),
    "metadata": Metadata(),
    "cancellation_details": CANCELLATION_DETAILS,
    "description": Str(max_len=500),
    "proration_behavior": Str(choices=["always_invoice", "create_prorations", "none"]),
    "expand": EXPAND,
})
SUBSCRIPTION_CANCEL = Obj({
    "invoice_now": Bool(),
    "prorate": Bool(),
    "cancellation_details": CANCELLATION_DETAILS,
    "expand": EXPAND,
})
REFUND_CREATE = Obj({
    "payment_intent": Str(),
    "charge": Str(),
    "amount": Int(min=1, amount=True),
    "reason": Str(choices=["duplicate", "fraudulent", "requested_by_customer"]),
    "metadata": Metadata(),
    "reverse_transfer": Bool(),
    "refund_application_fee": Bool(),
    "instructions_email": Email(),
    "expand": EXPAND,
})
PAYOUT_CREATE = Obj({
    "amount": AMOUNT,
    "currency": Currency(required=True),
    "method": Str(choices=["instant", "standard"]),
    "description": Str(max_len=1000),
    "metadata": Metadata(),
    "statement_descriptor": Str(max_len=22),
    "destination": Str(),
    "source_type": Str(choices=["bank_account", "card", "fpx"]),
    "expand": EXPAND,
})
EVENT_LIST = Obj({
    "limit": Int(min=1, max=100),
    "type": Str(),
    "types": Arr(Str(), max_items=20),
    "starting_after": Str(),
    "expand": EXPAND,
})


# ---------------------------------------------------------------------------
# Test payment methods, named as Stripe's test mode names them.

PAYMENT_METHODS = {
    "pm_card_visa": None,
    "pm_card_mastercard": None,
    "pm_card_amex": None,
    "pm_card_chargeDeclined": "generic_decline",
    "pm_card_visa_chargeDeclined": "generic_decline",
    "pm_card_chargeDeclinedInsufficientFunds": "insufficient_funds",
    "pm_card_chargeDeclinedExpiredCard": "expired_card",
    "pm_card_createDispute": None,
}
DECLINE_MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "expired_card": "Your card has expired.",
}


def stripe_fee(amount):
    """Stripe's standard card pricing: 2.9% + 30 (smallest currency unit)."""
    return int(round(amount * 0.029)) + 30


def add_interval(ts, interval, count):
    d = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    if interval == "day":
        d += datetime.timedelta(days=count)
    elif interval == "week":
        d += datetime.timedelta(weeks=count)
    else:
        months = count * (12 if interval == "year" else 1)
        y, m = divmod(d.month - 1 + months, 12)
        y += d.year
        day = min(d.day, calendar.monthrange(y, m + 1)[1])
        d = d.replace(year=y, month=m + 1, day=day)
    return int(d.timestamp())


def empty_list(url):
    return {"object": "list", "data": [], "has_more": False, "url": url}


class State:
    """Every object, balance, event and idempotency record of the fake.

    All of it is guarded by self.lock (an RLock: flows call each other). The
    API shape of each object lives in self.objects; what Stripe keeps but does
    not show (the card a checkout was paid with, line items) lives in
    self.private.
    """

    def __init__(self, fixtures, api_version=DEFAULT_API_VERSION, state_file=None, base_url=""):
        self.lock = threading.RLock()
        self.fixtures = fixtures
        self.api_version = api_version
        self.state_file = state_file
        self.base_url = base_url
        self.reset()
        if state_file and os.path.exists(state_file):
            self.load()

    def reset(self):
        with self.lock:
            self.objects = {}    # id -> object as the API shows it
            self.meta = {}       # id -> {"type", "owner"}; owner None = the platform
            self.private = {}    # id -> what Stripe keeps but does not show
            self.balances = {}   # "platform" | acct id -> {currency: available amount}
            self.idem = {}       # "api key|account|idempotency key" -> saved result
            self.events = []     # event ids, oldest first
            self.requests = []   # every API request seen, for tests to inspect
            self.pending_events = []  # events made by the current request, not yet queued
            self.current_request = (None, None)  # (request id, idempotency key) for event.request

    # -- persistence --------------------------------------------------------

    def save(self):
        if not self.state_file:
            return
        with self.lock:
            data = {"objects": self.objects, "meta": self.meta, "private": self.private,
                    "balances": self.balances, "idem": self.idem, "events": self.events}
            tmp = self.state_file + ".tmp"
            with open(tmp, "w") as f:
                json.dump(data, f)
            os.replace(tmp, self.state_file)

    def load(self):
        with open(self.state_file) as f:
            data = json.load(f)
        with self.lock:
            for k in ("objects", "meta", "private", "balances", "idem", "events"):
                setattr(self, k, data[k])

    # -- objects --------------------------------------------------------------

    def shape(self, type_, fields):
        """Stripe's example object of this type, overlaid with our fields: every
        field a real object has is present, and ours say what really happened."""
        obj = copy.deepcopy(self.fixtures.get(type_, {}))
        obj.update(fields)
        obj.setdefault("object", type_)
        if "livemode" in obj:
            obj["livemode"] = False
        return obj

    def put(self, type_, fields, owner=PLATFORM, prefix=None, created=None):
        obj = self.shape(type_, fields)
        if "id" not in fields:
            obj["id"] = new_id(prefix)
        # Every stored object but the balance has a creation time (also
        # without the fixtures, which list the field).
        if "created" in obj or created is not None or type_ != "balance":
            obj["created"] = created or now()
        self.objects[obj["id"]] = obj
        self.meta[obj["id"]] = {"type": type_, "owner": owner}
        return obj

    def get(self, ident, type_, owner=PLATFORM, param="id", label=None):
        obj = self.objects.get(ident)
        m = self.meta.get(ident)
        if obj is None or m["type"] != type_ or m["owner"] != owner:
            raise no_such(label or type_, ident, param)
        return obj

    def of_type(self, type_, owner="any"):
        return [self.objects[i] for i, m in self.meta.items()
                if m["type"] == type_ and (owner == "any" or m["owner"] == owner)]

    def connected_account(self, ident, param, capability=None):
        acct = self.objects.get(ident)
        if acct is None or self.meta[ident]["type"] != "account":
            raise StripeError(400, f"No such destination: '{ident}'", code="resource_missing",
                              param=param)
        if capability and acct["capabilities"].get(capability) != "active":
            raise StripeError(
                400, f"Your destination account needs to have at least one of the following "
                f"capabilities enabled: {capability}, crypto_transfers, legacy_payments",
                code="insufficient_capabilities_for_transfer", param=param)
        return acct

    # -- events ---------------------------------------------------------------

    def event(self, type_, obj, owner=PLATFORM, previous=None):
        req_id, key = self.current_request
        data = copy.deepcopy(obj)
        # Since API version 2022-11-15 a charge no longer carries its refunds
        # list unless expanded, and webhooks expand nothing: charge.refunded
        # says how much, refund.created / refund.updated say which.
        if data.get("object") == "charge" and self.api_version >= "2022-11-15":
            data.pop("refunds", None)
        ev = self.put("event", {
            "api_version": self.api_version,
            "data": {"object": data},
            "pending_webhooks": 0,
            "request": {"id": req_id, "idempotency_key": key},
            "type": type_,
        }, owner=owner, prefix="evt_")
        if previous is not None:
            ev["data"]["previous_attributes"] = previous
        if owner is not PLATFORM:
            ev["account"] = owner
        self.events.append(ev["id"])
        self.pending_events.append(ev["id"])
        return ev

    def take_events(self):
        with self.lock:
            out, self.pending_events = self.pending_events, []
            return out

    # -- the ledger -------------------------------------------------------------

    def balance_key(self, owner):
        return "platform" if owner is PLATFORM else owner

    def txn(self, owner, amount, currency, type_, source, fee=0, fee_type="stripe_fee",
            description=None, category=None):
        fee_details = []
        if fee:
            fee_details.append({"amount": fee, "application": PLATFORM_APPLICATION
                                if fee_type == "application_fee" else None, "currency": currency,
                                "description": "Stripe processing fees" if fee_type == "stripe_fee"
                                else "Application fee", "type": fee_type})
        t = self.put("balance_transaction", {
            "amount": amount, "available_on": now(), "currency": currency,
            "description": description, "exchange_rate": None, "fee": fee,
            "fee_details": fee_details, "net": amount - fee,
            "reporting_category": category or type_, "source": source, "status": "available",
            "type": type_, "balance_type": "payments",
        }, owner=owner, prefix="txn_")
        bal = self.balances.setdefault(self.balance_key(owner), {})
        bal[currency] = bal.get(currency, 0) + amount - fee
        return t

    def available(self, owner, currency):
        return self.balances.get(self.balance_key(owner), {}).get(currency, 0)

    def balance(self, owner):
        bal = self.balances.get(self.balance_key(owner), {})
        if not bal:
            if owner is PLATFORM:
                bal = {"usd": 0}
            else:
                bal = {self.objects[owner]["default_currency"]: 0}
        avail = [{"amount": v, "currency": c, "source_types": {"card": v}} for c, v in sorted(bal.items())]
        out = self.shape("balance", {
            "available": avail,
            "pending": [{"amount": 0, "currency": c, "source_types": {"card": 0}} for c in sorted(bal)],
            "connect_reserved": [{"amount": 0, "currency": c} for c in sorted(bal)],
        })
        if owner is not PLATFORM:
            # Connected accounts see what they may pay out instantly (the fake: all of it).
            out["instant_available"] = copy.deepcopy(avail)
        return out

    # -- customers and payments -------------------------------------------------

    def customer(self, email, name=None):
        return self.put("customer", {
            "address": None, "balance": 0, "currency": None, "default_source": None,
            "delinquent": False, "description": None, "discount": None, "email": email,
            "invoice_prefix": "".join(_rng.choice(string.ascii_uppercase + string.digits)
                                      for _ in range(8)),
            "invoice_settings": {"custom_fields": None, "default_payment_method": None,
                                 "footer": None, "rendering_options": None},
            "metadata": {}, "name": name, "next_invoice_sequence": 1, "phone": None,
            "preferred_locales": [], "shipping": None, "tax_exempt": "none", "test_clock": None,
        }, prefix="cus_")

    def payment_intent(self, amount, currency, fee_amount=None, transfer_data=None, metadata=None,
                       description=None, customer=None, receipt_email=None, pm=None,
                       apm=None, pm_types=None, status=None, transfer_group=None,
                       descriptor_suffix=None):
        pi_id = new_id("pi_")
        if transfer_data and not transfer_group:
            transfer_group = "group_" + pi_id
        return self.put("payment_intent", {
            "id": pi_id, "amount": amount, "amount_capturable": 0, "amount_details": {"tip": {}},
            "amount_received": 0, "application": None, "application_fee_amount": fee_amount,
            "automatic_payment_methods": apm, "canceled_at": None, "cancellation_reason": None,
            "capture_method": "automatic",
            "client_secret": f"{pi_id}_secret_{new_id('', 25)}",
            "confirmation_method": "automatic", "currency": currency, "customer": customer,
            "description": description, "last_payment_error": None, "latest_charge": None,
            "metadata": metadata or {}, "next_action": None, "on_behalf_of": None,
            "payment_method": pm, "payment_method_configuration_details": None,
            "payment_method_options": {"card": {"installments": None, "mandate_options": None,
                                                "network": None,
                                                "request_three_d_secure": "automatic"}},
            "payment_method_types": pm_types or ["card"], "processing": None,
            "receipt_email": receipt_email, "review": None, "setup_future_usage": None,
            "shipping": None, "statement_descriptor": None,
            "statement_descriptor_suffix": descriptor_suffix,
            "status": status or ("requires_confirmation" if pm else "requires_payment_method"),
            "transfer_data": transfer_data, "transfer_group": transfer_group, "source": None,
            "excluded_payment_method_types": None,
        })

    def confirm(self, pi, pm):
        """Charge a payment intent with test card pm. Makes the charge, the
        balance transactions, the transfer and the application fee of a
        destination charge, and their events. Returns the charge."""
        decline = PAYMENT_METHODS.get(pm)
        amount, currency = pi["amount"], pi["currency"]
        ch_id = new_id("ch_")
        billing = copy.deepcopy(self.fixtures["charge"]["billing_details"])
        billing["email"] = pi["receipt_email"]
        card = copy.deepcopy(self.fixtures["charge"]["payment_method_details"])
        card["card"]["checks"]["cvc_check"] = "pass"
        outcome = {"advice_code": None, "network_advice_code": None, "network_decline_code": None,
                   "network_status": "approved_by_network", "reason": None, "risk_level": "normal",
                   "risk_score": 20, "seller_message": "Payment complete.", "type": "authorized"}
        if decline:
            outcome.update(network_status="declined_by_network", reason=decline,
                           seller_message="The bank did not return any further details with this decline.",
                           type="issuer_declined")
        ch = self.put("charge", {
            "id": ch_id, "amount": amount, "amount_captured": 0 if decline else amount,
            "amount_refunded": 0, "application": None, "application_fee": None,
            "application_fee_amount": None, "balance_transaction": None,
            "billing_details": billing, "calculated_statement_descriptor": "GLASSCAST",
            "captured": not decline, "currency": currency, "customer": pi["customer"],
            "description": pi["description"], "disputed": False,
            "failure_balance_transaction": None,
            "failure_code": "card_declined" if decline else None,
            "failure_message": DECLINE_MESSAGES.get(decline), "fraud_details": {},
            "metadata": copy.deepcopy(pi["metadata"]), "on_behalf_of": None, "outcome": outcome,
            "paid": not decline, "payment_intent": pi["id"], "payment_method": pm,
            "payment_method_details": card, "receipt_email": pi["receipt_email"],
            "receipt_number": None,
            "receipt_url": f"{self.base_url}/_fake/receipts/{ch_id}",
            "refunded": False, "refunds": empty_list(f"/v1/charges/{ch_id}/refunds"),
            "review": None, "shipping": None, "source_transfer": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": pi["statement_descriptor_suffix"],
            "status": "failed" if decline else "succeeded",
            "transfer_data": None, "transfer_group": pi["transfer_group"], "source": None,
        })
        pi["latest_charge"] = ch_id
        pi["payment_method"] = pm
        if decline:
            pi["status"] = "requires_payment_method"
            pi["last_payment_error"] = {
                "charge": ch_id, "code": "card_declined", "decline_code": decline,
                "doc_url": "https://stripe.com/docs/error-codes/card-declined",
                "message": DECLINE_MESSAGES[decline], "payment_method": {"id": pm, "object": "payment_method"},
                "type": "card_error"}
            self.event("charge.failed", ch)
            self.event("payment_intent.payment_failed", pi)
            return ch
        pi["status"] = "succeeded"
        pi["amount_received"] = amount
        pi["last_payment_error"] = None
        ch["balance_transaction"] = self.txn(PLATFORM, amount, currency, "charge", ch_id,
                                             fee=stripe_fee(amount),
                                             description=pi["description"])["id"]
        td = pi["transfer_data"]
        if td:
            dest = td["destination"]
            tamount = td.get("amount") or amount
            fee_amount = pi["application_fee_amount"] or 0
            ch["transfer_data"] = {"amount": td.get("amount"), "destination": dest}
            tr = self.transfer(tamount, currency, dest, ch_id, pi["transfer_group"], fee_amount)
            ch["transfer"] = tr["id"]
            if fee_amount:
                fee = self.put("application_fee", {
                    "account": dest, "amount": fee_amount, "amount_refunded": 0,
                    "application": PLATFORM_APPLICATION, "balance_transaction": None,
                    "charge": ch_id, "currency": currency,
                    "fee_source": {"charge": ch_id, "type": "charge"},
                    "originating_transaction": None, "refunded": False,
                }, prefix="fee_")
                fee["refunds"] = empty_list(f"/v1/application_fees/{fee['id']}/refunds")
                fee["balance_transaction"] = self.txn(PLATFORM, fee_amount, currency,
                                                      "application_fee", fee["id"])["id"]
                ch["application_fee"] = fee["id"]
                ch["application_fee_amount"] = fee_amount
        self.event("charge.succeeded", ch)
        self.event("payment_intent.succeeded", pi)
        if pm == "pm_card_createDispute":
            self.open_dispute(ch, "fraudulent")
        return ch

    def transfer(self, amount, currency, dest, source_charge, group, app_fee):
        tr = self.put("transfer", {
            "amount": amount, "amount_reversed": 0, "balance_transaction": None,
            "currency": currency, "description": None, "destination": dest,
            "destination_payment": new_id("py_"), "metadata": {}, "reversed": False,
            "source_transaction": source_charge, "source_type": "card", "transfer_group": group,
        }, prefix="tr_")
        tr["reversals"] = empty_list(f"/v1/transfers/{tr['id']}/reversals")
        tr["balance_transaction"] = self.txn(PLATFORM, -amount, currency, "transfer", tr["id"])["id"]
        # On the connected account: the payment, less the platform's application fee.
        self.txn(dest, amount, currency, "payment", tr["destination_payment"], fee=app_fee,
                 fee_type="application_fee", category="charge")
        return tr

    # -- refunds and disputes ---------------------------------------------------

    def refund(self, ch, amount, reason, metadata, reverse_transfer, refund_fee):
        currency = ch["currency"]
        re_id = new_id("re_")
        rf = self.put("refund", {
            "id": re_id, "amount": amount, "balance_transaction": None, "charge": ch["id"],
            "currency": currency,
            "destination_details": {"card": {"reference": None, "reference_status": "pending",
                                             "reference_type": "acquirer_reference_number",
                                             "type": "refund"}, "type": "card"},
            "metadata": metadata or {}, "payment_intent": ch["payment_intent"],
            "reason": reason, "receipt_number": None, "source_transfer_reversal": None,
            "status": "succeeded", "transfer_reversal": None,
        })
        rf["balance_transaction"] = self.txn(PLATFORM, -amount, currency, "refund", re_id)["id"]
        if reverse_transfer and ch.get("transfer"):
            tr = self.objects[ch["transfer"]]
            rev_amount = min(tr["amount"] - tr["amount_reversed"],
                             int(round(tr["amount"] * amount / ch["amount"])))
            rev = self.put("transfer_reversal", {
                "amount": rev_amount, "balance_transaction": None, "currency": currency,
                "destination_payment_refund": new_id("pyr_"), "metadata": {},
                "source_refund": re_id, "transfer": tr["id"],
            }, prefix="trr_")
            rev["balance_transaction"] = self.txn(PLATFORM, rev_amount, currency, "transfer_refund",
                                                  rev["id"], category="transfer_reversal")["id"]
            self.txn(tr["destination"], -rev_amount, currency, "payment_refund",
                     rev["destination_payment_refund"], category="refund")
            tr["amount_reversed"] += rev_amount
            tr["reversed"] = tr["amount_reversed"] >= tr["amount"]
            tr["reversals"]["data"].insert(0, copy.deepcopy(rev))
            rf["transfer_reversal"] = rev["id"]
        if refund_fee and ch.get("application_fee"):
            fee = self.objects[ch["application_fee"]]
            fr_amount = min(fee["amount"] - fee["amount_refunded"],
                            int(round(fee["amount"] * amount / ch["amount"])))
            if fr_amount:
                fr = self.put("fee_refund", {"amount": fr_amount, "balance_transaction": None,
                                             "currency": currency, "fee": fee["id"],
                                             "metadata": {}}, prefix="fr_")
                fr["balance_transaction"] = self.txn(PLATFORM, -fr_amount, currency,
                                                     "application_fee_refund", fr["id"])["id"]
                self.txn(fee["account"], fr_amount, currency, "application_fee_refund", fr["id"])
                fee["amount_refunded"] += fr_amount
                fee["refunded"] = fee["amount_refunded"] >= fee["amount"]
                fee["refunds"]["data"].insert(0, copy.deepcopy(fr))
        ch["amount_refunded"] += amount
        ch["refunded"] = ch["amount_refunded"] >= ch["amount"]
        ch["refunds"]["data"].insert(0, copy.deepcopy(rf))
        self.event("refund.created", rf)
        self.event("charge.refunded", ch, previous={"amount_refunded": ch["amount_refunded"] - amount,
                                                    "refunded": False})
        return rf

    def open_dispute(self, ch, reason, amount=None):
        amount = amount or ch["amount"] - ch["amount_refunded"]
        dp = self.put("dispute", {
            "amount": amount, "balance_transactions": [], "charge": ch["id"],
            "currency": ch["currency"],
            "evidence_details": {"due_by": now() + 7 * 86400, "has_evidence": False,
                                 "past_due": False, "submission_count": 0,
                                 "enhanced_eligibility": {}},
            "is_charge_refundable": False, "metadata": {}, "payment_intent": ch["payment_intent"],
            "payment_method_details": {"card": {"brand": "visa", "case_type": "chargeback",
                                                "network_reason_code": "10.4"}, "type": "card"},
            "reason": reason, "status": "needs_response", "enhanced_eligibility_types": [],
        }, prefix="du_")
        t = self.txn(PLATFORM, -amount, ch["currency"], "adjustment", dp["id"], fee=1500,
                     fee_type="stripe_fee", description=f"Chargeback withdrawal for {ch['id']}",
                     category="dispute")
        dp["balance_transactions"].append(copy.deepcopy(t))
        ch["disputed"] = True
        self.event("charge.dispute.created", dp)
        return dp

    def close_dispute(self, dp, outcome):
        if dp["status"] in ("won", "lost"):
            raise StripeError(400, f"Dispute {dp['id']} is already closed.")
        if outcome == "won":
            t = self.txn(PLATFORM, dp["amount"] + 1500, dp["currency"], "adjustment", dp["id"],
                         description=f"Chargeback reversal for {dp['charge']}",
                         category="dispute_reversal")
            dp["balance_transactions"].append(copy.deepcopy(t))
        previous = {"status": dp["status"]}
        dp["status"] = outcome
        self.event("charge.dispute.closed", dp, previous=previous)
        return dp

    # -- checkout, subscriptions and invoices -------------------------------------

    def plan_of(self, price):
        rec = price["recurring"]
        return self.shape("plan", {
            "active": price["active"], "amount": price["unit_amount"],
            "amount_decimal": str(price["unit_amount"]), "billing_scheme": "per_unit",
            "created": price["created"], "currency": price["currency"], "id": price["id"],
            "interval": rec["interval"], "interval_count": rec["interval_count"],
            "metadata": copy.deepcopy(price["metadata"]), "meter": None,
            "nickname": price["nickname"], "product": price["product"], "tiers_mode": None,
            "transform_usage": None, "trial_period_days": None, "usage_type": "licensed",
        })

    def complete_checkout(self, cs, outcome, email=None):
        if cs["status"] != "open":
            raise StripeError(400, f"Checkout session {cs['id']} is {cs['status']}, not open.")
        if outcome == "expired":
            cs["status"] = "expired"
            cs["url"] = None
            self.event("checkout.session.expired", cs)
            return cs
        priv = self.private[cs["id"]]
        email = email or cs["customer_email"] or "customer@example.com"
        pm = "pm_card_visa" if outcome == "paid" else "pm_card_chargeDeclined"
        details = copy.deepcopy(self.fixtures["checkout.session"]["customer_details"])
        details.update(email=email, name="Jenny Rosen", tax_ids=[])
        if cs["mode"] == "subscription":
            if outcome != "paid":
                # Hosted Checkout shows the decline to the customer; no object is made.
                return cs
            cus = self.objects[cs["customer"]] if cs["customer"] else self.customer(email, "Jenny Rosen")
            sd = priv["subscription_data"]
            sub = self.new_subscription(cus, priv["items"], sd, pm)
            cs.update(customer=cus["id"], subscription=sub["id"], invoice=sub["latest_invoice"],
                      customer_details=details, status="complete", payment_status="paid", url=None)
            self.event("checkout.session.completed", cs)
            return cs
        pid = priv["payment_intent_data"]
        cus = cs["customer"]
        if not cus and cs["customer_creation"] == "always":
            cus = self.customer(email, "Jenny Rosen")["id"]
        pi = self.objects.get(cs["payment_intent"] or "")
        if pi is None:
            pi = self.payment_intent(
                cs["amount_total"], cs["currency"], fee_amount=pid.get("application_fee_amount"),
                transfer_data=pid.get("transfer_data"), metadata=pid.get("metadata"),
                description=pid.get("description"), customer=cus,
                receipt_email=pid.get("receipt_email") or email,
                transfer_group=pid.get("transfer_group"),
                descriptor_suffix=pid.get("statement_descriptor_suffix"))
            cs["payment_intent"] = pi["id"]
        self.confirm(pi, pm)
        if outcome != "paid":
            return cs
        cs.update(customer=cus, customer_details=details, status="complete",
                  payment_status="paid", url=None)
        self.event("checkout.session.completed", cs)
        return cs

    def new_subscription(self, cus, items, sd, pm):
        start = now()
        sub_id = new_id("sub_")
        interval = items[0]["price"]["recurring"]
        end = add_interval(start, interval["interval"], interval["interval_count"])
        td = sd.get("transfer_data")
        sub_items = []
        for it in items:
            si_id = new_id("si_", 14)
            sub_items.append(self.shape("subscription_item", {
                "created": start, "discounts": [], "id": si_id, "metadata": {},
                "price": copy.deepcopy(it["price"]), "quantity": it["quantity"],
                "subscription": sub_id, "tax_rates": [], "plan": self.plan_of(it["price"]),
                "current_period_start": start, "current_period_end": end,
                "billing_thresholds": None,
            }))
        sub = self.put("subscription", {
            "id": sub_id, "application": None,
            "application_fee_percent": sd.get("application_fee_percent"),
            "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
            "billing_cycle_anchor": start, "billing_cycle_anchor_config": None,
            "cancel_at": None, "canceled_at": None,
            "cancellation_details": {"comment": None, "feedback": None, "reason": None},
            "collection_method": "charge_automatically", "currency": items[0]["price"]["currency"],
            "customer": cus["id"], "days_until_due": None, "default_payment_method": pm,
            "default_source": None, "default_tax_rates": [], "description": sd.get("description"),
            "discounts": [], "ended_at": None,
            "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
            "items": {"object": "list", "data": sub_items, "has_more": False,
                      "url": f"/v1/subscription_items?subscription={sub_id}"},
            "latest_invoice": None, "metadata": sd.get("metadata") or {},
            "next_pending_invoice_item_invoice": None, "on_behalf_of": None,
            "pause_collection": None,
            "payment_settings": {"payment_method_options": None, "payment_method_types": None,
                                 "save_default_payment_method": "off"},
            "pending_invoice_item_interval": None, "pending_setup_intent": None,
            "pending_update": None, "schedule": None, "start_date": start,
            "status": "incomplete", "test_clock": None,
            "transfer_data": {"amount_percent": td.get("amount_percent"),
                              "destination": td["destination"]} if td else None,
            "trial_end": None,
            "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
            "trial_start": None, "cancel_at_period_end": False, "billing_thresholds": None,
            "billing_mode": {"type": "classic", "flexible": None},
        }, created=start)
        self.event("customer.subscription.created", sub)
        inv = self.new_invoice(sub, "subscription_create", start, start, start, end)
        if self.pay_invoice(inv, sub, pm):
            sub["status"] = "active"
            self.event("customer.subscription.updated", sub, previous={"status": "incomplete"})
        return sub

    def new_invoice(self, sub, reason, period_start, period_end, line_start, line_end):
        cus = self.objects[sub["customer"]]
        in_id = new_id("in_")
        lines, total = [], 0
        for it in sub["items"]["data"]:
            price = it["price"]
            amount = price["unit_amount"] * it["quantity"]
            total += amount
            product = self.objects.get(price["product"], {})
            lines.append(self.shape("line_item", {
                "amount": amount, "currency": price["currency"],
                "description": f"{it['quantity']} × {product.get('name', 'item')} "
                               f"(at {price['unit_amount']} {price['currency']} / "
                               f"{price['recurring']['interval']})",
                "discount_amounts": [], "discountable": True, "discounts": [],
                "id": new_id("il_"), "invoice": in_id, "metadata": {},
                "period": {"start": line_start, "end": line_end}, "quantity": it["quantity"],
                "subscription": sub["id"], "pretax_credit_amounts": [], "taxes": [],
                "parent": {"invoice_item_details": None, "subscription_item_details": {
                    "invoice_item": None, "proration": False, "proration_details": {"credited_items": None},
                    "subscription": sub["id"], "subscription_item": it["id"]},
                    "type": "subscription_item_details"},
                "pricing": {"price_details": {"price": price["id"], "product": price["product"]},
                            "type": "price_details", "unit_amount_decimal": str(price["unit_amount"])},
            }))
        seq = cus["next_invoice_sequence"]
        cus["next_invoice_sequence"] += 1
        inv = self.put("invoice", {
            "id": in_id, "account_country": "US", "account_name": "Glasscast (fake Stripe)",
            "account_tax_ids": None, "amount_due": total, "amount_paid": 0,
            "amount_remaining": total, "amount_shipping": 0, "application": None,
            "attempt_count": 0, "attempted": False, "auto_advance": True,
            "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None,
                              "provider": None, "status": None},
            "billing_reason": reason, "collection_method": "charge_automatically",
            "currency": sub["currency"], "custom_fields": None, "customer": cus["id"],
            "customer_address": None, "customer_email": cus["email"], "customer_name": cus["name"],
            "customer_phone": None, "customer_shipping": None, "customer_tax_exempt": "none",
            "customer_tax_ids": [], "default_payment_method": None, "default_source": None,
            "default_tax_rates": [], "description": None, "discounts": [], "due_date": None,
            "effective_at": now(), "ending_balance": 0, "footer": None, "from_invoice": None,
            "hosted_invoice_url": f"{self.base_url}/_fake/invoices/{in_id}",
            "invoice_pdf": None, "issuer": {"type": "self"}, "last_finalization_error": None,
            "latest_revision": None,
            "lines": {"object": "list", "data": lines, "has_more": False,
                      "url": f"/v1/invoices/{in_id}/lines"},
            "metadata": {}, "next_payment_attempt": None,
            "number": f"{cus['invoice_prefix']}-{seq:04d}", "on_behalf_of": None,
            "payment_settings": {"default_mandate": None, "payment_method_options": None,
                                 "payment_method_types": None},
            "period_end": period_end, "period_start": period_start,
            "post_payment_credit_notes_amount": 0, "pre_payment_credit_notes_amount": 0,
            "receipt_number": None, "shipping_cost": None, "shipping_details": None,
            "starting_balance": 0, "statement_descriptor": None, "status": "open",
            "status_transitions": {"finalized_at": now(), "marked_uncollectible_at": None,
                                   "paid_at": None, "voided_at": None},
            "subscription": sub["id"], "subtotal": total, "subtotal_excluding_tax": total,
            "test_clock": None, "total": total, "total_discount_amounts": [],
            "total_excluding_tax": total, "webhooks_delivered_at": None,
            "automatically_finalizes_at": None, "total_pretax_credit_amounts": [],
            "total_taxes": [], "amount_overpaid": 0,
            "parent": {"quote_details": None,
                       "subscription_details": {"metadata": copy.deepcopy(sub["metadata"]),
                                                "subscription": sub["id"]},
                       "type": "subscription_details"},
        })
        self.private[in_id] = {"payment_intent": None}
        sub["latest_invoice"] = in_id
        return inv

    def pay_invoice(self, inv, sub, pm):
        """One payment attempt on an open invoice; True when it was paid."""
        amount = inv["amount_due"]
        fee = transfer = None
        if sub["transfer_data"]:
            transfer = {"destination": sub["transfer_data"]["destination"]}
            if sub["transfer_data"]["amount_percent"] is not None:
                transfer["amount"] = int(round(amount * sub["transfer_data"]["amount_percent"] / 100))
            if sub["application_fee_percent"] is not None:
                fee = int(round(amount * sub["application_fee_percent"] / 100))
        pi = self.payment_intent(amount, inv["currency"], fee_amount=fee, transfer_data=transfer,
                                 description="Subscription creation" if inv["billing_reason"] ==
                                 "subscription_create" else "Subscription update",
                                 customer=inv["customer"], receipt_email=inv["customer_email"])
        self.private[inv["id"]]["payment_intent"] = pi["id"]
        ch = self.confirm(pi, pm)
        inv["attempt_count"] += 1
        inv["attempted"] = True
        if ch["status"] != "succeeded":
            inv["next_payment_attempt"] = now() + 3 * 86400
            self.event("invoice.payment_failed", inv)
            return False
        inv.update(status="paid", amount_paid=amount, amount_remaining=0, next_payment_attempt=None)
        inv["status_transitions"]["paid_at"] = now()
        self.event("invoice.paid", inv)
        return True

    def end_subscription(self, sub, reason):
        previous = {"status": sub["status"]}
        t = now()
        sub.update(status="canceled", ended_at=t, canceled_at=sub["canceled_at"] or t)
        sub["cancellation_details"]["reason"] = reason
        self.event("customer.subscription.deleted", sub, previous=previous)

    def renew(self, sub, outcome, then=None):
        """Advance a subscription to its next period, as Stripe's clock would."""
        if sub["status"] == "canceled":
            raise StripeError(400, f"Subscription {sub['id']} is canceled.")
        item0 = sub["items"]["data"][0]
        old_start, old_end = item0["current_period_start"], item0["current_period_end"]
        if sub["cancel_at_period_end"]:
            self.end_subscription(sub, "cancellation_requested")
            return sub
        rec = item0["price"]["recurring"]
        new_end = add_interval(old_end, rec["interval"], rec["interval_count"])
        for it in sub["items"]["data"]:
            it["current_period_start"], it["current_period_end"] = old_end, new_end
        previous = {"items": {"data": [{"id": item0["id"], "current_period_start": old_start,
                                        "current_period_end": old_end}]},
                    "latest_invoice": sub["latest_invoice"]}
        inv = self.new_invoice(sub, "subscription_cycle", old_start, old_end, old_end, new_end)
        ok = self.pay_invoice(inv, sub, "pm_card_visa" if outcome == "paid" else "pm_card_chargeDeclined")
        if ok:
            if sub["status"] != "active":
                previous["status"] = sub["status"]
            sub["status"] = "active"
        elif then == "cancel":
            self.event("customer.subscription.updated", sub, previous=previous)
            self.end_subscription(sub, "payment_failed")
            return sub
        else:
            previous["status"] = sub["status"]
            sub["status"] = "unpaid" if then == "unpaid" else "past_due"
        self.event("customer.subscription.updated", sub, previous=previous)
        return sub

    def retry_invoice(self, inv, outcome):
        if inv["status"] != "open":
            raise StripeError(400, f"Invoice {inv['id']} is {inv['status']}, not open.")
        sub = self.objects[inv["subscription"]]
        ok = self.pay_invoice(inv, sub, "pm_card_visa" if outcome == "paid" else "pm_card_chargeDeclined")
        if ok and sub["status"] in ("past_due", "unpaid") and sub["latest_invoice"] == inv["id"]:
            previous = {"status": sub["status"]}
            sub["status"] = "active"
            self.event("customer.subscription.updated", sub, previous=previous)
        return inv

    # -- accounts and payouts -----------------------------------------------------

    def update_account(self, acct, changes):
        previous = {}
        if changes.get("onboarded"):
            changes = dict(changes, charges_enabled=True, payouts_enabled=True,
                           details_submitted=True,
                           capabilities={k: "active" for k in acct["capabilities"]})
        for key in ("charges_enabled", "payouts_enabled", "details_submitted"):
            if key in changes and changes[key] != acct[key]:
                previous[key] = acct[key]
                acct[key] = bool(changes[key])
        if "capabilities" in changes:
            previous["capabilities"] = copy.deepcopy(acct["capabilities"])
            acct["capabilities"].update(changes["capabilities"])
        if acct["details_submitted"] and acct["charges_enabled"] and acct["payouts_enabled"]:
            previous.setdefault("requirements", copy.deepcopy(acct["requirements"]))
            acct["requirements"].update(currently_due=[], eventually_due=[], past_due=[],
                                        disabled_reason=None, current_deadline=None)
        if previous:
            self.event("account.updated", acct, owner=acct["id"], previous=previous)
        return acct

    def settle_payout(self, po, owner, outcome, failure_code=None):
        if po["status"] in ("paid", "failed", "canceled"):
            raise StripeError(400, f"Payout {po['id']} is already {po['status']}.")
        previous = {"status": po["status"]}
        if outcome == "paid":
            po["status"] = "paid"
            po["reconciliation_status"] = "completed"
            po["trace_id"] = {"status": "supported", "value": new_id("TRACE", 10)}
            self.event("payout.paid", po, owner=owner, previous=previous)
        else:
            code = failure_code or "account_closed"
            po.update(status="failed", failure_code=code,
                      failure_message="The bank account has been closed." if code == "account_closed"
                      else f"The payout failed ({code}).")
            # The amount comes back, and so does an instant payout's fee.
            paid_fee = self.objects[po["balance_transaction"]]["fee"]
            po["failure_balance_transaction"] = self.txn(owner, po["amount"] + paid_fee, po["currency"],
                                                         "payout_failure", po["id"])["id"]
            po["trace_id"] = {"status": "unsupported", "value": None}
            self.event("payout.failed", po, owner=owner, previous=previous)
        return po


# ---------------------------------------------------------------------------
# Endpoints. Each takes (state, ctx, params, ident) with params already
# checked against its table, runs under state.lock and returns the object to
# send. ctx.owner is the Stripe-Account the request acts for (None: platform).

class Ctx:
    def __init__(self, owner, api_key, base_url):
        self.owner = owner
        self.api_key = api_key
        self.base_url = base_url


def require_fee_target(fee_present, transfer, param):
    if fee_present and not transfer:
        raise StripeError(
            400, "An application fee can only be taken on a destination charge (give "
            "transfer_data[destination]) or a direct charge (the Stripe-Account header); this "
            "request has neither.", param=param)


def check_min_charge(amount, currency, param):
    least = MIN_CHARGE.get(currency, 50)
    if amount < least:
        raise StripeError(400, f"Amount must be at least {least} {currency} (the smallest amount "
                          f"Stripe charges in this currency)", code="amount_too_small", param=param)


def api_create_account(st, ctx, p, ident):
    country = p.get("country", "US").upper()
    caps = p.get("capabilities", {})
    requested = [k for k, v in caps.items() if v.get("requested")]
    if p["type"] in ("express", "custom") and not requested:
        raise StripeError(400, f"{p['type'].capitalize()} accounts must request at least one "
                          "capability (capabilities[transfers][requested]=true).",
                          code="parameter_missing", param="capabilities")
    if "card_payments" in requested and "transfers" not in requested:
        raise StripeError(400, "An account that requests the card_payments capability must also "
                          "request the transfers capability.", param="capabilities")
    currency = p.get("default_currency") or COUNTRY_CURRENCY.get(
        country, "eur" if country in EU else "usd")
    acct_id = new_id("acct_", 16)
    due = ["business_profile.url", "external_account", "individual.first_name",
           "individual.last_name", "tos_acceptance.date", "tos_acceptance.ip"]
    fx = st.fixtures["account"]
    profile = copy.deepcopy(fx["business_profile"])
    profile.update(p.get("business_profile", {}))
    settings = copy.deepcopy(fx["settings"])
    schedule = p.get("settings", {}).get("payouts", {}).get("schedule")
    if schedule:
        settings["payouts"]["schedule"].update(schedule)
    acct = st.put("account", {
        "id": acct_id, "business_profile": profile, "business_type": p.get("business_type"),
        "capabilities": {k: "inactive" for k in requested},
        "charges_enabled": False,
        "controller": {"fees": {"payer": "application"}, "is_controller": True,
                       "losses": {"payments": "application"}, "requirement_collection": "stripe",
                       "stripe_dashboard": {"type": p["type"] if p["type"] != "custom" else "none"},
                       "type": "application"},
        "country": country, "default_currency": currency, "details_submitted": False,
        "email": p.get("email"),
        "external_accounts": empty_list(f"/v1/accounts/{acct_id}/external_accounts"),
        "metadata": p.get("metadata", {}), "payouts_enabled": False,
        "requirements": {"alternatives": [], "current_deadline": None, "currently_due": list(due),
                         "disabled_reason": "requirements.past_due", "errors": [],
                         "eventually_due": list(due), "past_due": list(due),
                         "pending_verification": []},
        "settings": settings, "type": p["type"],
    })
    st.private[acct_id] = {"bank": new_id("ba_")}
    return acct


def api_create_account_link(st, ctx, p, ident):
    acct = st.get(p["account"], "account", param="account")
    if p["type"] == "account_onboarding":
        for k in ("refresh_url", "return_url"):
            if k not in p:
                raise missing(k)
    token = new_id("", 32)
    st.private["link_" + token] = {"account": acct["id"], "return_url": p.get("return_url"),
                                   "refresh_url": p.get("refresh_url"), "expires_at": now() + 300}
    return st.shape("account_link", {"created": now(), "expires_at": now() + 300,
                                     "url": f"{ctx.base_url}/_fake/onboard/{token}"})


def api_create_product(st, ctx, p, ident):
    return make_product(st, p)


def make_product(st, p):
    return st.put("product", {
        "active": p.get("active", True), "default_price": None,
        "description": p.get("description"), "images": p.get("images", []),
        "marketing_features": [], "metadata": p.get("metadata", {}), "name": p["name"],
        "package_dimensions": None, "shippable": None,
        "statement_descriptor": p.get("statement_descriptor"), "tax_code": p.get("tax_code"),
        "unit_label": p.get("unit_label"), "updated": now(), "url": p.get("url"),
        "type": "service",
    }, prefix="prod_")


def make_price(st, p, param_prefix, active=True):
    """Both POST /v1/prices and inline price_data of Checkout use this."""
    def name(k):
        return f"{param_prefix}[{k}]" if param_prefix else k

    if "unit_amount" not in p:
        raise missing(name("unit_amount"))
    if ("product" in p) == ("product_data" in p):
        raise StripeError(400, f"Exactly one of {name('product')} or {name('product_data')} is "
                          "required.", code="parameter_missing", param=name("product"))
    if "product" in p:
        product = st.get(p["product"], "product", param=name("product"))
    else:
        product = make_product(st, p["product_data"])
    rec = p.get("recurring")
    if rec:
        count = rec.get("interval_count", 1)
        limit = {"day": 365, "week": 52, "month": 12, "year": 1}[rec["interval"]]
        if count > limit:
            raise bad_param("The maximum billing period is one year.", name("recurring[interval_count]"))
        rec = {"interval": rec["interval"], "interval_count": count, "meter": None,
               "usage_type": "licensed", "trial_period_days": None}
    return st.put("price", {
        "active": p.get("active", active), "billing_scheme": "per_unit",
        "currency": p["currency"], "custom_unit_amount": None,
        "lookup_key": p.get("lookup_key"), "metadata": p.get("metadata", {}),
        "nickname": p.get("nickname"), "product": product["id"], "recurring": rec,
        "tax_behavior": p.get("tax_behavior", "unspecified"), "tiers_mode": None,
        "transform_quantity": None, "type": "recurring" if rec else "one_time",
        "unit_amount": p["unit_amount"], "unit_amount_decimal": str(p["unit_amount"]),
    }, prefix="price_")


def api_create_price(st, ctx, p, ident):
    return make_price(st, p, "")


def api_create_checkout_session(st, ctx, p, ident):
    mode = p["mode"]
    if mode == "setup":
        raise StripeError(400, "The fake supports mode=payment and mode=subscription only.",
                          param="mode")
    if "line_items" not in p or not p["line_items"]:
        raise missing("line_items")
    if "success_url" not in p:
        raise missing("success_url")
    if "customer" in p and "customer_email" in p:
        raise StripeError(400, "You may only specify one of these parameters: customer, "
                          "customer_email.", param="customer_email")
    if "customer" in p:
        st.get(p["customer"], "customer", param="customer")
    wrong = {"payment": "subscription_data", "subscription": "payment_intent_data"}[mode]
    if wrong in p:
        raise StripeError(400, f"You can not pass `{wrong}` in `{mode}` mode.", param=wrong)
    if mode == "subscription" and "customer_creation" in p:
        raise StripeError(400, "customer_creation can only be used in payment mode.",
                          param="customer_creation")
    if "expires_at" in p and not now() + 1800 <= p["expires_at"] <= now() + 86400:
        raise bad_param("expires_at must be between 30 minutes and 24 hours from now.",
                        "expires_at")
    items = []
    for i, li in enumerate(p["line_items"]):
        at = f"line_items[{i}]"
        if ("price" in li) == ("price_data" in li):
            raise StripeError(400, f"Exactly one of {at}[price] or {at}[price_data] is required.",
                              code="parameter_missing", param=f"{at}[price]")
        if "quantity" not in li:
            raise StripeError(400, f"Quantity is required. Add `quantity` to `{at}`.",
                              code="parameter_missing", param=f"{at}[quantity]")
        if "price" in li:
            price = st.get(li["price"], "price", param=f"{at}[price]")
            if not price["active"]:
                raise bad_param("The price specified is inactive. This field only accepts active "
                                "prices.", f"{at}[price]")
        else:
            price = None  # made below, once every line has passed its checks
        items.append({"price": price, "price_data": li.get("price_data"), "quantity": li["quantity"],
                      "at": at})
    for it in items:
        data = it["price_data"]
        recurring = it["price"]["recurring"] if it["price"] else data.get("recurring")
        if mode == "payment" and recurring:
            raise bad_param("You specified `payment` mode but passed a recurring price. Either "
                            "switch to `subscription` mode or use only one-time prices.",
                            f"{it['at']}[price]")
        if mode == "subscription" and not recurring:
            raise bad_param("The fake supports only recurring prices in `subscription` mode.",
                            f"{it['at']}[price]")
        if data is not None and "unit_amount" not in data:
            raise missing(f"{it['at']}[price_data][unit_amount]")
        if data is not None and ("product" in data) == ("product_data" in data):
            raise StripeError(400, f"Exactly one of {it['at']}[price_data][product] or "
                              f"{it['at']}[price_data][product_data] is required.",
                              code="parameter_missing", param=f"{it['at']}[price_data][product]")
        if data is not None and "product" in data:
            st.get(data["product"], "product", param=f"{it['at']}[price_data][product]")
    currencies = {(it["price"] or it["price_data"])["currency"] for it in items}
    if len(currencies) > 1:
        raise bad_param("All line items must use the same currency.", "line_items")
    currency = currencies.pop()
    if mode == "subscription":
        intervals = {json.dumps(it["price"]["recurring"] if it["price"] else
                                it["price_data"]["recurring"], sort_keys=True) for it in items}
        if len(intervals) > 1:
            raise bad_param("Checkout does not support prices with different billing intervals.",
                            "line_items")
    total = sum((it["price"] or it["price_data"])["unit_amount"] * it["quantity"] for it in items)
    pid = p.get("payment_intent_data", {})
    sd = p.get("subscription_data", {})
    if mode == "payment":
        check_min_charge(total, currency, "line_items")
        fee = pid.get("application_fee_amount")
        td = pid.get("transfer_data")
        require_fee_target(fee is not None, td, "payment_intent_data[application_fee_amount]")
        if td:
            st.connected_account(td["destination"], "payment_intent_data[transfer_data][destination]",
                                 "transfers")
            if "amount" in td and fee is not None:
                raise StripeError(400, "payment_intent_data[application_fee_amount] and "
                                  "payment_intent_data[transfer_data][amount] cannot be used together.",
                                  param="payment_intent_data[transfer_data][amount]")
            if td.get("amount", 0) > total:
                raise bad_param("The transfer amount cannot exceed the amount of the payment.",
                                "payment_intent_data[transfer_data][amount]")
        if fee is not None and fee >= total:
            raise bad_param(f"The application fee ({fee}) must be less than the amount of the "
                            f"payment ({total}).", "payment_intent_data[application_fee_amount]")
    else:
        td = sd.get("transfer_data")
        require_fee_target("application_fee_percent" in sd, td,
                           "subscription_data[application_fee_percent]")
        if td:
            st.connected_account(td["destination"], "subscription_data[transfer_data][destination]",
                                 "transfers")
    for it in items:
        if it["price"] is None:
            it["price"] = make_price(st, it["price_data"], f"{it['at']}[price_data]", active=False)
    cs_id = new_id("cs_test_", 58)
    fx = st.fixtures["checkout.session"]
    cs = st.put("checkout.session", {
        "id": cs_id, "after_expiration": None, "allow_promotion_codes": p.get("allow_promotion_codes"),
        "amount_subtotal": total, "amount_total": total, "adaptive_pricing": {"enabled": False},
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": p.get("billing_address_collection"),
        "cancel_url": p.get("cancel_url"), "client_reference_id": p.get("client_reference_id"),
        "client_secret": None, "collected_information": None, "consent": None,
        "consent_collection": None, "currency": currency, "currency_conversion": None,
        "custom_fields": [],
        "custom_text": {k: None for k in fx["custom_text"]},
        "customer": p.get("customer"),
        "customer_creation": p.get("customer_creation", "if_required") if mode == "payment" else None,
        "customer_details": None, "customer_email": p.get("customer_email"), "discounts": [],
        "expires_at": p.get("expires_at", now() + 86400), "invoice": None,
        "invoice_creation": {"enabled": False, "invoice_data": {
            "account_tax_ids": None, "custom_fields": None, "description": None, "footer": None,
            "issuer": None, "metadata": {}, "rendering_options": None}} if mode == "payment" else None,
        "locale": p.get("locale"), "metadata": p.get("metadata", {}), "mode": mode,
        "origin_context": None, "payment_intent": None, "payment_link": None,
        "payment_method_collection": "always" if mode == "subscription" else None,
        "payment_method_configuration_details": None, "payment_method_options": {},
        "payment_method_types": p.get("payment_method_types", ["card"]),
        "payment_status": "unpaid", "permissions": None,
        "phone_number_collection": {"enabled": False}, "recovered_from": None,
        "saved_payment_method_options": None, "setup_intent": None,
        "shipping_address_collection": None, "shipping_cost": None, "shipping_options": [],
        "status": "open", "submit_type": p.get("submit_type"), "subscription": None,
        "success_url": p["success_url"],
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted", "url": f"{ctx.base_url}/_fake/pay/{cs_id}", "wallet_options": None,
    })
    st.private[cs_id] = {
        "items": [{"price": copy.deepcopy(it["price"]), "quantity": it["quantity"]} for it in items],
        "payment_intent_data": pid, "subscription_data": sd,
    }
    return cs


def api_create_payment_intent(st, ctx, p, ident):
    amount, currency = p["amount"], p["currency"]
    check_min_charge(amount, currency, "amount")
    fee = p.get("application_fee_amount")
    td = p.get("transfer_data")
    require_fee_target(fee is not None, td, "application_fee_amount")
    if td:
        st.connected_account(td["destination"], "transfer_data[destination]", "transfers")
        if "amount" in td and fee is not None:
            raise StripeError(400, "application_fee_amount and transfer_data[amount] cannot be "
                              "used together.", param="transfer_data[amount]")
        if td.get("amount", 0) > amount:
            raise bad_param("The transfer amount cannot exceed the amount of the payment.",
                            "transfer_data[amount]")
    if fee is not None and fee >= amount:
        raise bad_param(f"The application fee ({fee}) must be less than the amount ({amount}).",
                        "application_fee_amount")
    pm = p.get("payment_method")
    if pm is not None and pm not in PAYMENT_METHODS:
        raise no_such("PaymentMethod", pm, "payment_method")
    if "customer" in p:
        st.get(p["customer"], "customer", param="customer")
    if "payment_method_types" in p and "automatic_payment_methods" in p:
        raise StripeError(400, "You may only specify one of these parameters: "
                          "automatic_payment_methods, payment_method_types.",
                          param="automatic_payment_methods")
    apm = None
    if "payment_method_types" not in p:
        apm = p.get("automatic_payment_methods", {"enabled": True})
        apm.setdefault("allow_redirects", "always")
    confirm = p.get("confirm", False)
    if "return_url" in p and not confirm:
        raise bad_param("return_url can only be given together with confirm=true.", "return_url")
    if confirm:
        if pm is None:
            raise StripeError(400, "This PaymentIntent cannot be confirmed: it has no payment "
                              "method. Give payment_method.", code="payment_intent_unexpected_state",
                              param="payment_method")
        if apm and apm["enabled"] and apm["allow_redirects"] != "never" and "return_url" not in p:
            raise StripeError(400, "Confirming with automatic payment methods may need a redirect: "
                              "give return_url, or set automatic_payment_methods[allow_redirects]=never.",
                              param="return_url")
    pi = st.payment_intent(amount, currency, fee_amount=fee, transfer_data=td,
                           metadata=p.get("metadata"), description=p.get("description"),
                           customer=p.get("customer"), receipt_email=p.get("receipt_email"),
                           pm=pm, apm=apm, pm_types=p.get("payment_method_types"),
                           transfer_group=p.get("transfer_group"),
                           descriptor_suffix=p.get("statement_descriptor_suffix"))
    if confirm:
        ch = st.confirm(pi, pm)
        if ch["status"] != "succeeded":
            err = pi["last_payment_error"]
            raise StripeError(402, err["message"], type="card_error", code="card_declined",
                              stored=True, extra={"decline_code": err["decline_code"],
                                                  "charge": ch["id"],
                                                  "payment_intent": copy.deepcopy(pi)})
    return pi


def api_update_subscription(st, ctx, p, ident):
    sub = st.get(ident, "subscription")
    if sub["status"] == "canceled" and set(p) - {"metadata", "cancellation_details", "expand"}:
        raise StripeError(400, "A canceled subscription can only update its cancellation_details "
                          "and metadata.")
    before = copy.deepcopy(sub)
    if "cancel_at_period_end" in p:
        sub["cancel_at_period_end"] = p["cancel_at_period_end"]
        if p["cancel_at_period_end"]:
            sub["cancel_at"] = sub["items"]["data"][0]["current_period_end"]
            sub["canceled_at"] = now()
            sub["cancellation_details"]["reason"] = "cancellation_requested"
        else:
            sub.update(cancel_at=None, canceled_at=None)
            sub["cancellation_details"]["reason"] = None
    if "metadata" in p:
        sub["metadata"].update(p["metadata"])
    if "cancellation_details" in p:
        sub["cancellation_details"].update(p["cancellation_details"])
    if "description" in p:
        sub["description"] = p["description"]
    previous = {k: before[k] for k in sub if sub[k] != before[k]}
    if previous:
        st.event("customer.subscription.updated", sub, previous=previous)
    return sub


def api_cancel_subscription(st, ctx, p, ident):
    sub = st.get(ident, "subscription")
    if sub["status"] == "canceled":
        raise StripeError(400, f"Subscription {ident} is already canceled.",
                          code="resource_missing", param="id")
    if "cancellation_details" in p:
        sub["cancellation_details"].update(p["cancellation_details"])
    sub["canceled_at"] = None
    st.end_subscription(sub, "cancellation_requested")
    return sub


def api_create_refund(st, ctx, p, ident):
    if "charge" not in p and "payment_intent" not in p:
        raise StripeError(400, "One of the following params should be provided for this request: "
                          "payment_intent or charge.", code="parameter_missing", param="charge")
    if "charge" in p and "payment_intent" in p:
        raise StripeError(400, "You may only specify one of these parameters: charge, "
                          "payment_intent.", param="payment_intent")
    if "charge" in p:
        ch = st.get(p["charge"], "charge", param="charge")
    else:
        pi = st.get(p["payment_intent"], "payment_intent", param="payment_intent")
        ch = st.objects.get(pi["latest_charge"] or "")
        if pi["status"] != "succeeded" or ch is None:
            raise StripeError(400, f"This PaymentIntent ({pi['id']}) does not have a successful "
                              "charge to refund.", code="charge_not_refundable", param="payment_intent")
    if ch["status"] != "succeeded":
        raise StripeError(400, f"Charge {ch['id']} did not succeed; there is nothing to refund.",
                          code="charge_not_refundable", param="charge")
    if any(st.objects[d]["status"] not in ("won",) for d in st.objects
           if st.meta[d]["type"] == "dispute" and st.objects[d]["charge"] == ch["id"]):
        raise StripeError(400, f"Charge {ch['id']} has been charged back; cannot issue a refund.",
                          code="charge_disputed", param="charge")
    remaining = ch["amount"] - ch["amount_refunded"]
    if remaining == 0:
        raise StripeError(400, f"Charge {ch['id']} has already been refunded.",
                          code="charge_already_refunded", param="charge")
    amount = p.get("amount", remaining)
    if amount > remaining:
        raise StripeError(400, f"Refund amount ({amount}) is greater than unrefunded amount on "
                          f"charge ({remaining})", code="amount_too_large", param="amount")
    if p.get("reverse_transfer") and not ch.get("transfer"):
        raise bad_param("reverse_transfer applies only to charges with transfer_data[destination].",
                        "reverse_transfer")
    if p.get("refund_application_fee") and ch.get("transfer") and not p.get("reverse_transfer"):
        raise bad_param("Refunding the application fee of a destination charge requires "
                        "reverse_transfer=true.", "refund_application_fee")
    return st.refund(ch, amount, p.get("reason"), p.get("metadata"), p.get("reverse_transfer"),
                     p.get("refund_application_fee"))


def api_create_payout(st, ctx, p, ident):
    owner = ctx.owner
    if owner is not PLATFORM:
        acct = st.objects[owner]
        if not acct["payouts_enabled"]:
            raise StripeError(400, "Payouts are not enabled for this account; it has to finish "
                              "onboarding first.", code="payouts_not_allowed")
        bank = st.private[owner]["bank"]
        if p.get("destination", bank) != bank:
            raise no_such("external account", p["destination"], "destination")
    else:
        bank = "ba_fakePlatformBankAccount"
    method = p.get("method", "standard")
    # The fake's instant payout fee (its own figure, not Stripe's price
    # list): 1 % rounded up, at least 50 minor units, taken from the balance
    # beside the amount and shown on the payout's balance transaction.
    fee = max(50, -(-p["amount"] // 100)) if method == "instant" else 0
    if st.available(owner, p["currency"]) < p["amount"] + fee:
        raise StripeError(400, f"You have insufficient funds in your Stripe account for this payout "
                          f"(available: {st.available(owner, p['currency'])} {p['currency']}"
                          f"{f', instant payout fee {fee}' if fee else ''}).",
                          code="balance_insufficient", param="amount")
    po = st.put("payout", {
        "amount": p["amount"], "application_fee": None, "application_fee_amount": None,
        "arrival_date": now() + (0 if method == "instant" else 2 * 86400), "automatic": False,
        "balance_transaction": None, "currency": p["currency"],
        "description": p.get("description", "STRIPE PAYOUT"), "destination": bank,
        "failure_balance_transaction": None, "failure_code": None, "failure_message": None,
        "metadata": p.get("metadata", {}), "method": method, "original_payout": None,
        "reconciliation_status": "not_applicable", "reversed_by": None,
        "source_type": p.get("source_type", "card"),
        "statement_descriptor": p.get("statement_descriptor"),
        "status": "in_transit" if method == "instant" else "pending", "type": "bank_account",
        "trace_id": {"status": "pending", "value": None}, "payout_method": None,
    }, owner=owner, prefix="po_")
    po["balance_transaction"] = st.txn(owner, -p["amount"], p["currency"], "payout", po["id"],
                                       fee=fee)["id"]
    st.event("payout.created", po, owner=owner)
    return po


def api_balance(st, ctx, p, ident):
    return st.balance(ctx.owner)


def api_list_events(st, ctx, p, ident):
    types = p.get("types") or ([p["type"]] if "type" in p else None)

    def wanted(ev):
        if types is None:
            return True
        return any(ev["type"] == t or (t.endswith(".*") and ev["type"].startswith(t[:-1]))
                   for t in types)

    evs = [st.objects[e] for e in reversed(st.events) if st.meta[e]["owner"] == ctx.owner]
    if "starting_after" in p:
        ids = [e["id"] for e in evs]
        if p["starting_after"] not in ids:
            raise no_such("event", p["starting_after"], "starting_after")
        evs = evs[ids.index(p["starting_after"]) + 1:]
    evs = [e for e in evs if wanted(e)]
    limit = p.get("limit", 10)
    return {"object": "list", "data": evs[:limit], "has_more": len(evs) > limit, "url": "/v1/events"}


def retriever(type_, label=None):
    def fn(st, ctx, p, ident):
        return st.get(ident, type_, owner=ctx.owner, label=label)
    return fn


# method, path pattern, parameter table, endpoint, whether Stripe-Account may be given
ID = r"([A-Za-z0-9_]+)"
ROUTES = [
    ("POST", r"/v1/accounts", ACCOUNT_CREATE, api_create_account, False),
    ("GET", rf"/v1/accounts/{ID}", GET_ONLY, retriever("account"), False),
    ("POST", r"/v1/account_links", ACCOUNT_LINK_CREATE, api_create_account_link, False),
    ("POST", r"/v1/products", PRODUCT_CREATE, api_create_product, False),
    ("POST", r"/v1/prices", PRICE_CREATE, api_create_price, False),
    ("POST", r"/v1/checkout/sessions", CHECKOUT_CREATE, api_create_checkout_session, False),
    ("GET", rf"/v1/checkout/sessions/{ID}", GET_ONLY, retriever("checkout.session"), False),
    ("POST", r"/v1/payment_intents", PAYMENT_INTENT_CREATE, api_create_payment_intent, False),
    ("POST", rf"/v1/subscriptions/{ID}", SUBSCRIPTION_UPDATE, api_update_subscription, False),
    ("DELETE", rf"/v1/subscriptions/{ID}", SUBSCRIPTION_CANCEL, api_cancel_subscription, False),
    ("POST", r"/v1/refunds", REFUND_CREATE, api_create_refund, False),
    ("POST", r"/v1/payouts", PAYOUT_CREATE, api_create_payout, True),
    ("GET", r"/v1/balance", GET_ONLY, api_balance, True),
    ("GET", r"/v1/events", EVENT_LIST, api_list_events, True),
] + [("GET", rf"/v1/{coll}/{ID}", GET_ONLY, retriever(t, label), True) for coll, t, label in [
    ("payment_intents", "payment_intent", "payment_intent"), ("charges", "charge", "charge"),
    ("subscriptions", "subscription", "subscription"), ("invoices", "invoice", "invoice"),
    ("customers", "customer", "customer"), ("products", "product", "product"),
    ("prices", "price", "price"), ("refunds", "refund", "refund"),
    ("transfers", "transfer", "transfer"), ("application_fees", "application_fee", "application fee"),
    ("balance_transactions", "balance_transaction", "balance transaction"),
    ("disputes", "dispute", "dispute"), ("payouts", "payout", "payout"),
    ("events", "event", "event"),
]]
ROUTES = [(m, re.compile(pat + "$"), spec, fn, connect) for m, pat, spec, fn, connect in ROUTES]


def expand(st, obj, paths, owner):
    """Replace ids named by expand[] paths ("latest_charge", "latest_charge.balance_transaction")
    with the objects, as Stripe does."""
    obj = copy.deepcopy(obj)
    for path in paths:
        parts = path.split(".")
        if len(parts) > 4:
            raise bad_param(f"You cannot expand more than 4 levels of a property: {path}", "expand")
        if parts[0] == "data" and obj.get("object") == "list":
            targets, parts = obj["data"], parts[1:]
        else:
            targets = [obj]
        for target in targets:
            node = target
            for i, part in enumerate(parts):
                if not isinstance(node, dict) or part not in node:
                    raise bad_param(f"This property cannot be expanded ({path}).", "expand")
                value = node[part]
                if isinstance(value, str) and value in st.objects:
                    value = node[part] = copy.deepcopy(st.objects[value])
                elif i == len(parts) - 1 and value is not None and not isinstance(value, dict):
                    raise bad_param(f"This property cannot be expanded ({path}).", "expand")
                node = value
    return obj


# ---------------------------------------------------------------------------
# Webhooks. One thread delivers events in the order they are queued; a failed
# delivery (non-2xx, refused, timed out) is queued again after the next delay
# of retry_delays_ms. Delivery can be held, shuffled and duplicated so a
# client's exactly-once handling can be tested.

def sign(body, secrets_, t):
    payload = f"{t}.".encode() + body
    sigs = [hmac.new(s.encode(), payload, hashlib.sha256).hexdigest() for s in secrets_]
    return ",".join([f"t={t}"] + [f"v1={s}" for s in sigs])


class Deliverer:
    DEFAULTS = {"url": None, "secrets": [], "retry_delays_ms": [200, 400, 800, 1600, 3200],
                "shuffle": False, "duplicate": 0, "hold": False, "seed": None,
                "timestamp_offset": 0, "timeout_ms": 5000}

    def __init__(self, state):
        self.state = state
        self.cond = threading.Condition()
        self.config = copy.deepcopy(self.DEFAULTS)  # guarded by cond, like everything below
        self.queue = []      # [due time, seq, event id, attempt number, is a duplicate]
        self.held = []
        self.log = []        # one record per delivery attempt
        self.seq = 0
        self.busy = 0        # deliveries in progress
        self.generation = 0  # bumped by reset: deliveries begun before it are forgotten
        self.rng = random.Random()
        self.stopped = False
        self.thread = threading.Thread(target=self.run, name="fake-stripe-webhooks", daemon=True)
        self.thread.start()

    def configure(self, changes):
        with self.cond:
            for k, v in changes.items():
                if k not in self.DEFAULTS:
                    raise StripeError(400, f"Unknown webhook setting: {k}", param=k)
                if k == "secrets" and isinstance(v, str):
                    v = [v]
                self.config[k] = v
            if "seed" in changes:
                self.rng.seed(changes["seed"])
            if not self.config["hold"] and self.held:
                self._enqueue(self.held)
                self.held = []
            self.cond.notify_all()
            return copy.deepcopy(self.config)

    def reset(self):
        with self.cond:
            self.generation += 1
            url, secrets_ = self.config["url"], self.config["secrets"]
            self.config = copy.deepcopy(self.DEFAULTS)
            self.config.update(url=url, secrets=secrets_)
            self.queue, self.held, self.log = [], [], []
            self.cond.notify_all()
            # A delivery already on the wire finishes first, so none reaches the
            # receiver after reset has returned.
            deadline = time.time() + 10
            while self.busy and time.time() < deadline:
                self.cond.wait(0.05)

    def submit(self, event_ids):
        with self.cond:
            if not self.config["url"] or not event_ids:
                return
            if self.config["hold"]:
                self.held.extend(event_ids)
            else:
                self._enqueue(event_ids)

    def flush(self):
        with self.cond:
            n = len(self.held)
            self._enqueue(self.held)
            self.held = []
            return n

    def resend(self, event_id):
        with self.cond:
            self._push(event_id, 0, False, time.time())

    def _enqueue(self, event_ids):
        batch = [(e, False) for e in event_ids]
        for _ in range(int(self.config["duplicate"])):
            batch += [(e, True) for e in event_ids]
        if self.config["shuffle"]:
            self.rng.shuffle(batch)
        t = time.time()
        for e, dup in batch:
            self._push(e, 0, dup, t)

    def _push(self, event_id, attempt, dup, due):
        self.seq += 1
        self.queue.append([due, self.seq, event_id, attempt, dup])
        self.queue.sort()
        self.cond.notify_all()

    def stop(self):
        with self.cond:
            self.stopped = True
            self.cond.notify_all()
        self.thread.join(5)

    def run(self):
        while True:
            with self.cond:
                while not self.stopped and (not self.queue or self.queue[0][0] > time.time()):
                    self.cond.wait(None if not self.queue else max(0.0, self.queue[0][0] - time.time()))
                if self.stopped:
                    return
                due, _, event_id, attempt, dup = self.queue.pop(0)
                cfg = copy.deepcopy(self.config)
                generation = self.generation
                self.busy += 1
            record = self.deliver(event_id, attempt, dup, cfg)
            with self.cond:
                self.busy -= 1
                self.cond.notify_all()
                if generation != self.generation:
                    continue
                self.log.append(record)
                delays = cfg["retry_delays_ms"]
                if not record["ok"] and attempt < len(delays):
                    self._push(event_id, attempt + 1, dup, time.time() + delays[attempt] / 1000)
                self.cond.notify_all()

    def deliver(self, event_id, attempt, dup, cfg):
        with self.state.lock:
            ev = copy.deepcopy(self.state.objects.get(event_id))
        record = {"event": event_id, "type": ev and ev["type"], "attempt": attempt + 1,
                  "duplicate": dup, "status": None, "ok": False, "error": None, "at": time.time()}
        if ev is None:
            record["error"] = "event no longer exists"
            return record
        ev["pending_webhooks"] = 1
        body = json.dumps(ev, indent=2).encode()
        t = int(time.time()) + int(cfg["timestamp_offset"])
        header = sign(body, cfg["secrets"], t)
        record["signature"] = header
        u = urllib.parse.urlsplit(cfg["url"])
        try:
            if u.scheme != "http":
                raise ValueError("the fake delivers webhooks over http:// only")
            conn = http.client.HTTPConnection(u.hostname, u.port or 80,
                                              timeout=cfg["timeout_ms"] / 1000)
            try:
                conn.request("POST", (u.path or "/") + (f"?{u.query}" if u.query else ""), body, {
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                    "Cache-Control": "no-cache", "Accept": "*/*; q=0.5, application/xml",
                    "Stripe-Signature": header})
                resp = conn.getresponse()
                resp.read()
                record["status"] = resp.status
                record["ok"] = 200 <= resp.status < 300
            finally:
                conn.close()
        except (OSError, ValueError, http.client.HTTPException) as e:
            record["error"] = f"{type(e).__name__}: {e}"
        return record

    def wait(self, min_ok, timeout):
        """Block until min_ok deliveries succeeded and nothing is due now, or timeout."""
        deadline = time.time() + timeout
        with self.cond:
            while True:
                ok = sum(1 for r in self.log if r["ok"])
                if ok >= min_ok and self.busy == 0:
                    return True
                left = deadline - time.time()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 0.05))


# ---------------------------------------------------------------------------
# Faults: rules matched by method and path prefix, each good for count requests
# (after letting skip matching requests through).

FAULT_KINDS = ("error", "429", "delay", "drop", "drop_after_commit")


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []  # guarded by self.lock

    def add(self, rule):
        rule = dict(rule)
        kind = str(rule.get("kind", ""))
        if kind in ("500", "502", "503"):
            rule.setdefault("status", int(kind))
            kind = "error"
        if kind not in FAULT_KINDS:
            raise StripeError(400, f"kind must be one of {', '.join(FAULT_KINDS)} (or 500)",
                              param="kind")
        known = {"kind", "method", "path", "count", "skip", "status", "delay_ms", "retry_after",
                 "reset"}
        for k in rule:
            if k not in known:
                raise StripeError(400, f"Unknown fault field: {k}", param=k)
        rule.update(kind=kind, method=rule.get("method", "*").upper(),
                    path=rule.get("path", "/v1/"), count=int(rule.get("count", 1)),
                    skip=int(rule.get("skip", 0)), status=int(rule.get("status", 500)),
                    delay_ms=int(rule.get("delay_ms", 0)), reset=bool(rule.get("reset", False)))
        with self.lock:
            self.rules.append(rule)
        return rule

    def match(self, method, path):
        with self.lock:
            for rule in self.rules:
                if rule["method"] not in ("*", method) or not path.startswith(rule["path"]):
                    continue
                if rule["skip"] > 0:
                    rule["skip"] -= 1
                    continue
                rule["count"] -= 1
                if rule["count"] <= 0:
                    self.rules.remove(rule)
                return dict(rule)
        return None

    def clear(self):
        with self.lock:
            self.rules = []

    def list(self):
        with self.lock:
            return copy.deepcopy(self.rules)


# ---------------------------------------------------------------------------
# The fake: state, deliverer and faults behind one HTTP server.

# The parts of Stripe's objects the fake copies from the fixtures, in our own
# minimal form: used when fixtures3.json is not there (a CI checkout without
# the shared folder), so every flow still works; objects then carry only the
# fields the fake sets itself.
BUILTIN_FIXTURES = {
    "charge": {
        "billing_details": {"address": {"city": None, "country": None, "line1": None, "line2": None,
                                        "postal_code": None, "state": None},
                            "email": None, "name": None, "phone": None},
        "payment_method_details": {"card": {"brand": "visa", "checks": {"address_line1_check": None,
                                                                        "address_postal_code_check": None,
                                                                        "cvc_check": None},
                                            "country": "US", "exp_month": 12, "exp_year": 2034,
                                            "funding": "credit", "last4": "4242", "network": "visa"},
                                   "type": "card"},
    },
    "account": {
        "business_profile": {"mcc": None, "name": None, "product_description": None,
                             "support_email": None, "support_phone": None, "support_url": None,
                             "url": None},
        "settings": {"payouts": {"debit_negative_balances": True,
                                 "schedule": {"delay_days": 2, "interval": "daily"},
                                 "statement_descriptor": None}},
    },
    "checkout.session": {
        "customer_details": {"address": None, "email": None, "name": None, "phone": None,
                             "tax_exempt": "none", "tax_ids": []},
        "custom_text": {"after_submit": None, "shipping_address": None, "submit": None,
                        "terms_of_service_acceptance": None},
    },
}


def fixtures_path(path=None):
    """The first fixtures3.json found: @path, $STRIPE_FIXTURES, the shared
    folder beside the repository; None when there is none."""
    for candidate in (path, os.environ.get("STRIPE_FIXTURES"), DEFAULT_FIXTURES):
        if candidate and os.path.isfile(candidate):
            return candidate
    return None


def load_fixtures(path=None, required=True):
    """Stripe's example objects; without the file, BUILTIN_FIXTURES unless
    @required (then OSError)."""
    found = fixtures_path(path)
    if found is None:
        if required:
            raise FileNotFoundError(f"fixtures3.json not found ({path or DEFAULT_FIXTURES}); set STRIPE_FIXTURES")
        return copy.deepcopy(BUILTIN_FIXTURES)
    with open(found) as f:
        return json.load(f)["resources"]


class Reply:
    """What the HTTP layer sends: a status, a body (bytes) and headers."""

    def __init__(self, status, body, headers=None, drop=None):
        self.status = status
        self.body = body if isinstance(body, bytes) else json.dumps(body, indent=2).encode()
        self.headers = headers or {}
        self.drop = drop  # None, or "close" / "reset": close the connection instead of replying


def error_reply(err, headers=None):
    return Reply(err.status, err.body(), headers)


API_KEY_RE = re.compile(r"(sk|rk)_test_[A-Za-z0-9_]+")
VERSION_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(\.[a-z_]+)?")


CONTROL_WORDS = {
    "health", "reset", "objects", "requests", "events", "resend", "checkout", "sessions",
    "complete", "payment_intents", "confirm", "subscriptions", "renew", "invoices", "pay",
    "charges", "dispute", "disputes", "close", "accounts", "payouts", "settle", "balance",
    "onboard", "faults", "webhooks", "flush", "deliveries",
}


class FakeStripe:
    """A fake Stripe on 127.0.0.1. Use in-process:

        fake = FakeStripe(webhook_url=..., webhook_secrets=["whsec_..."]).start()
        ... fake.url, fake.control("POST", "/_fake/faults", {...}) ...
        fake.stop()
    """

    def __init__(self, port=0, fixtures=None, webhook_url=None, webhook_secrets=(),
                 state_file=None, api_key=None, api_version=DEFAULT_API_VERSION, verbose=False):
        self.fixtures = (fixtures if isinstance(fixtures, dict)
                         else load_fixtures(fixtures, required=fixtures is not None))
        self.api_key = api_key
        self.verbose = verbose
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.server.fake = self
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.state = State(self.fixtures, api_version, state_file, self.url)
        self.deliverer = Deliverer(self.state)
        self.deliverer.configure({"url": webhook_url, "secrets": list(webhook_secrets)})
        self.faults = Faults()
        self.inflight = set()  # idempotency scopes being executed; guarded by state.lock
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       name="fake-stripe", daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.deliverer.stop()

    # -- the Stripe API -------------------------------------------------------------

    def authenticate(self, headers):
        auth = headers.get("Authorization")
        if not auth:
            raise StripeError(401, "You did not provide an API key. Send it in the Authorization "
                              "header as a Bearer token (Authorization: Bearer sk_test_...).")
        scheme, _, cred = auth.partition(" ")
        key = None
        if scheme.lower() == "bearer":
            key = cred.strip()
        elif scheme.lower() == "basic":
            try:
                key = base64.b64decode(cred.strip(), validate=True).decode().partition(":")[0]
            except (ValueError, UnicodeDecodeError):
                key = None
        if not key:
            raise StripeError(401, "Invalid Authorization header: use Bearer auth with your secret "
                              "key, or Basic auth with the key as the user name.")
        masked = key[:8] + "*" * max(0, len(key) - 12) + key[-4:]
        if key.startswith("pk_"):
            raise StripeError(401, "This API call cannot be made with a publishable API key. "
                              "Use a secret key.", code="secret_key_required")
        if key.startswith(("sk_live_", "rk_live_")):
            raise StripeError(401, f"The fake refuses live-mode keys ({masked}).")
        if not API_KEY_RE.fullmatch(key) or (self.api_key and key != self.api_key):
            raise StripeError(401, f"Invalid API Key provided: {masked}")
        return key

    def api(self, method, target, body, headers, fault=None):
        st = self.state
        req_id = new_id("req_", 14)
        url = urllib.parse.urlsplit(target)
        path = url.path
        version = headers.get("Stripe-Version") or st.api_version
        out_headers = {"Request-Id": req_id, "Stripe-Version": version}
        key = headers.get("Idempotency-Key")
        if key is not None and method == "POST":
            out_headers["Idempotency-Key"] = key
        log = {"id": req_id, "method": method, "path": path, "params": None,
               "idempotency_key": key, "stripe_account": headers.get("Stripe-Account"),
               "stripe_version": headers.get("Stripe-Version"), "status": None, "replayed": False}
        scope = None
        try:
            api_key = self.authenticate(headers)
            if not VERSION_RE.fullmatch(version):
                raise StripeError(400, f"Invalid Stripe API version: {version}",
                                  param="Stripe-Version")
            route = ident = None
            for m, pattern, spec, fn, connect in ROUTES:
                match = pattern.match(path)
                if match and m == method:
                    route, ident = (spec, fn, connect), (match.group(1) if match.groups() else None)
                    break
            if route is None:
                raise StripeError(404, f"Unrecognized request URL ({method}: {path}). The fake "
                                  "serves only the endpoints listed in tests/fakes/README.md.")
            spec, fn, connect = route
            raw = self.read_params(method, url.query, body, headers)
            log["params"] = raw
            owner = headers.get("Stripe-Account")
            with st.lock:
                if owner is not None:
                    if st.meta.get(owner, {}).get("type") != "account":
                        raise StripeError(
                            403, f"The provided key '{api_key[:8]}...' does not have access to "
                            f"account '{owner}' (or that account does not exist).",
                            code="account_invalid")
                    if not connect:
                        raise StripeError(400, "The fake does not support the Stripe-Account header "
                                          f"on {method} {path}.")
                if key is not None and method == "POST":
                    if len(key) > 255:
                        raise bad_param("Idempotency-Key must be at most 255 characters.",
                                        "Idempotency-Key")
                    scope = f"{api_key}|{owner}|{key}"
                    fingerprint = json.dumps([method, path, raw], sort_keys=True)
                    saved = st.idem.get(scope)
                    if saved is not None:
                        if saved["fingerprint"] != fingerprint:
                            scope = None
                            raise StripeError(
                                400, "Keys for idempotent requests can only be used with the same "
                                f"parameters they were first used with. Try using a key other than "
                                f"'{key}' if you meant to execute a different request.",
                                type="idempotency_error")
                        log.update(status=saved["status"], replayed=True)
                        st.requests.append(log)
                        scope = None
                        return Reply(saved["status"], saved["body"].encode(),
                                     dict(saved["headers"], **{"Idempotent-Replayed": "true",
                                                               "Stripe-Version": version}))
                    if scope in self.inflight:
                        scope = None
                        raise StripeError(409, "There is another request in progress with this "
                                          f"Idempotency-Key ('{key}'); retry it once that one has "
                                          "finished.", code="idempotency_key_in_use")
                    self.inflight.add(scope)
            if fault and fault["kind"] == "delay":
                time.sleep(fault["delay_ms"] / 1000)
            params = spec.check_fields(raw, "")
            with st.lock:
                st.current_request = (req_id, key if method == "POST" else None)
                stored = True
                try:
                    obj = fn(st, Ctx(owner, api_key, self.url), params, ident)
                    if params.get("expand"):
                        obj = expand(st, obj, params["expand"], owner)
                    reply = Reply(200, obj, out_headers)
                except StripeError as e:
                    stored = e.stored
                    reply = error_reply(e, out_headers)
                finally:
                    st.current_request = (None, None)
                    events = st.take_events()
                if scope is not None and stored:
                    st.idem[scope] = {"fingerprint": fingerprint, "status": reply.status,
                                      "body": reply.body.decode(), "headers": out_headers}
                log["status"] = reply.status
                st.requests.append(log)
                if method != "GET":
                    st.save()
            self.deliverer.submit(events)
            return reply
        except StripeError as e:
            log["status"] = e.status
            with st.lock:
                st.requests.append(log)
            return error_reply(e, out_headers)
        finally:
            if scope is not None:
                with st.lock:
                    self.inflight.discard(scope)

    def read_params(self, method, query, body, headers):
        if method == "GET" or (method == "DELETE" and not body):
            return decode_form(query)
        if query:
            raise StripeError(400, f"Send {method} parameters in the form-encoded body, not the URL "
                              "query string.")
        ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if body and ctype != "application/x-www-form-urlencoded":
            raise StripeError(400, f"Invalid request: the body must be application/x-www-form-"
                              f"urlencoded (got {ctype or 'no Content-Type'}); Stripe does not accept "
                              "JSON bodies.")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise StripeError(400, "Invalid request: the body is not valid UTF-8.")
        return decode_form(text)

    # -- the control API (/_fake/...) -------------------------------------------------

    def control(self, method, target, body=None):
        """Run one control request; returns (status, JSON-able object). HTTP and
        in-process callers share it."""
        reply = self.control_reply(method, target, body)
        if not reply.body:
            return reply.status, dict(reply.headers)
        if reply.headers.get("Content-Type", "application/json").startswith("application/json"):
            return reply.status, json.loads(reply.body)
        return reply.status, reply.body

    def control_reply(self, method, target, body):
        url = urllib.parse.urlsplit(target)
        q = dict(urllib.parse.parse_qsl(url.query))
        parts = url.path.strip("/").split("/")[1:]
        body = body or {}
        try:
            if not isinstance(body, dict):
                raise StripeError(400, "Control requests take a JSON object body.")
            reply = self.control_route(method, parts, q, body)
        except StripeError as e:
            return error_reply(e)
        if isinstance(reply, Reply):
            return reply
        return Reply(200, reply)

    def control_route(self, method, parts, q, body):
        st = self.state
        # Every path part that is not a word of the control API is the object's id.
        key = (method, "/".join(p if p in CONTROL_WORDS else "{id}" for p in parts))
        ident = next((p for p in parts if p not in CONTROL_WORDS), None)
        deliver = []

        def done(obj):
            deliver.extend(st.take_events())
            st.save()
            return obj

        try:
            if key == ("POST", "reset"):
                # Outside the state lock: reset waits for a delivery on the wire,
                # and that delivery needs the lock to read its event.
                self.deliverer.reset()
                with st.lock:
                    st.reset()
                    self.faults.clear()
                    st.save()
                return {"ok": True}
            with st.lock:
                if key == ("GET", "health"):
                    return {"ok": True, "url": self.url}
                if key == ("GET", "objects"):
                    objs = [copy.deepcopy(st.objects[i]) for i, m in st.meta.items()
                            if ("type" not in q or m["type"] == q["type"])
                            and ("account" not in q or m["owner"] == (None if q["account"] == "platform"
                                                                     else q["account"]))]
                    return {"object": "list", "count": len(objs), "data": objs}
                if key == ("GET", "objects/{id}"):
                    if ident not in st.objects:
                        raise no_such("object", ident)
                    return dict(st.objects[ident], _owner=st.meta[ident]["owner"])
                if key == ("GET", "requests"):
                    return {"data": copy.deepcopy(st.requests)}
                if key == ("GET", "events"):
                    return {"data": [{"id": e, "type": st.objects[e]["type"],
                                      "account": st.meta[e]["owner"]} for e in st.events]}
                if key == ("POST", "events/{id}/resend"):
                    st.get(ident, "event", owner=st.meta.get(ident, {}).get("owner"))
                    self.deliverer.resend(ident)
                    return {"ok": True}
                if key == ("POST", "checkout/sessions/{id}/complete"):
                    cs = st.get(ident, "checkout.session")
                    outcome = self.choice(body, "outcome", ("paid", "failed", "expired"), "paid")
                    return done(st.complete_checkout(cs, outcome, body.get("email")))
                if key == ("POST", "payment_intents/{id}/confirm"):
                    pi = st.get(ident, "payment_intent")
                    if pi["status"] == "succeeded":
                        raise StripeError(400, f"PaymentIntent {ident} has already succeeded.")
                    outcome = self.choice(body, "outcome", ("paid", "failed"), "paid")
                    st.confirm(pi, "pm_card_visa" if outcome == "paid" else "pm_card_chargeDeclined")
                    return done(pi)
                if key == ("POST", "subscriptions/{id}/renew"):
                    sub = st.get(ident, "subscription")
                    outcome = self.choice(body, "outcome", ("paid", "failed"), "paid")
                    then = self.choice(body, "then", ("past_due", "unpaid", "cancel"), "past_due")
                    return done(st.renew(sub, outcome, then))
                if key == ("POST", "invoices/{id}/pay"):
                    inv = st.get(ident, "invoice")
                    outcome = self.choice(body, "outcome", ("paid", "failed"), "paid")
                    return done(st.retry_invoice(inv, outcome))
                if key == ("POST", "charges/{id}/dispute"):
                    ch = st.get(ident, "charge")
                    if ch["status"] != "succeeded" or ch["disputed"]:
                        raise StripeError(400, f"Charge {ident} cannot be disputed (failed or "
                                          "already disputed).")
                    return done(st.open_dispute(ch, body.get("reason", "fraudulent"),
                                                body.get("amount")))
                if key == ("POST", "disputes/{id}/close"):
                    dp = st.get(ident, "dispute")
                    outcome = self.choice(body, "outcome", ("won", "lost"), None)
                    return done(st.close_dispute(dp, outcome))
                if key == ("POST", "accounts/{id}"):
                    acct = st.get(ident, "account")
                    allowed = {"charges_enabled", "payouts_enabled", "details_submitted",
                               "capabilities", "onboarded"}
                    for k in body:
                        if k not in allowed:
                            raise StripeError(400, f"Unknown account setting: {k}", param=k)
                    return done(st.update_account(acct, body))
                if key == ("POST", "payouts/{id}/settle"):
                    owner = st.meta.get(ident, {}).get("owner")
                    po = st.get(ident, "payout", owner=owner)
                    outcome = self.choice(body, "outcome", ("paid", "failed"), "paid")
                    return done(st.settle_payout(po, owner, outcome, body.get("failure_code")))
                if key == ("POST", "balance"):
                    owner = body.get("account")
                    if owner is not None:
                        st.get(owner, "account", param="account")
                    amount = int(body.get("amount", 0))
                    t = st.txn(owner, amount, body.get("currency", "usd"), "adjustment", None,
                               description="fake top-up")
                    return done(t)
                if key == ("GET", "onboard/{id}"):
                    link = st.private.get("link_" + ident)
                    if link is None:
                        raise StripeError(404, "Unknown or expired account link.")
                    if link["expires_at"] < now():
                        return Reply(303, b"", {"Location": link["refresh_url"]})
                    done(st.update_account(st.objects[link["account"]], {"onboarded": True}))
                    return Reply(303, b"", {"Location": link["return_url"]})
                if key == ("GET", "pay/{id}"):
                    return self.pay_page(st.get(ident, "checkout.session"), q.get("outcome"), done)
                if key == ("GET", "faults"):
                    return {"data": self.faults.list()}
                if key == ("POST", "faults"):
                    return self.faults.add(body)
                if key == ("DELETE", "faults"):
                    self.faults.clear()
                    return {"ok": True}
                if key == ("GET", "webhooks"):
                    with self.deliverer.cond:
                        return dict(copy.deepcopy(self.deliverer.config), held=len(self.deliverer.held))
                if key == ("POST", "webhooks"):
                    return self.deliverer.configure(body)
                if key == ("POST", "webhooks/flush"):
                    return {"flushed": self.deliverer.flush()}
            # Waiting happens outside the state lock so deliveries can proceed.
            if key == ("GET", "deliveries"):
                if "min_ok" in q:
                    self.deliverer.wait(int(q["min_ok"]), int(q.get("timeout_ms", 5000)) / 1000)
                with self.deliverer.cond:
                    log = copy.deepcopy(self.deliverer.log)
                if "event" in q:
                    log = [r for r in log if r["event"] == q["event"]]
                return {"data": log, "ok": sum(1 for r in log if r["ok"])}
            raise StripeError(404, f"Unknown control request {method} /_fake/{'/'.join(parts)}")
        finally:
            self.deliverer.submit(deliver)

    @staticmethod
    def choice(body, name, allowed, default):
        value = body.get(name, default)
        if value not in allowed:
            raise StripeError(400, f"{name} must be one of {', '.join(allowed)}", param=name)
        return value

    def pay_page(self, cs, outcome, done):
        """Where Checkout's url leads: a browser (or an e2e test) pays here."""
        if outcome == "cancel":
            return Reply(303, b"", {"Location": cs["cancel_url"] or cs["success_url"]})
        if outcome in ("paid", "failed"):
            self.state.complete_checkout(cs, outcome)
            done(cs)
            if cs["status"] == "complete":
                return Reply(303, b"", {"Location": cs["success_url"].replace(
                    "{CHECKOUT_SESSION_ID}", cs["id"])})
        html = (f"<!doctype html><title>Fake Checkout</title><h1>Fake Checkout</h1>"
                f"<p>{cs['amount_total']} {cs['currency']} ({cs['mode']}), status {cs['status']}</p>"
                f"<p><a id=pay href='?outcome=paid'>Pay</a> <a id=decline href='?outcome=failed'>"
                f"Decline card</a> <a id=cancel href='?outcome=cancel'>Cancel</a></p>")
        return Reply(200, html.encode(), {"Content-Type": "text/html; charset=utf-8"})


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-stripe/1"

    def log_message(self, fmt, *args):
        if self.server.fake.verbose:
            sys.stderr.write("fake-stripe: " + (fmt % args) + "\n")

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def handle_any(self, method):
        fake = self.server.fake
        body = self.read_body()
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/_fake/"):
            try:
                data = json.loads(body) if body.strip() else {}
            except ValueError:
                return self.send(error_reply(StripeError(400, "Control requests take JSON bodies.")))
            return self.send(fake.control_reply(method, self.path, data))
        fault = fake.faults.match(method, path)
        if fault:
            if fault["kind"] == "error":
                return self.send(error_reply(StripeError(
                    fault["status"], "An error occurred with our connection to Stripe (injected by "
                    "the fake).", type="api_error"), {"Stripe-Should-Retry": "true"}))
            if fault["kind"] == "429":
                headers = {"Stripe-Should-Retry": "true"}
                if fault.get("retry_after") is not None:
                    headers["Retry-After"] = str(fault["retry_after"])
                return self.send(error_reply(StripeError(
                    429, "Too many requests hit the API too quickly (injected by the fake).",
                    code="rate_limit"), headers))
            if fault["kind"] == "drop":
                return self.drop(fault["reset"])
        reply = fake.api(method, self.path, body, self.headers, fault)
        if fault and fault["kind"] == "drop_after_commit":
            return self.drop(fault["reset"])
        self.send(reply)

    def send(self, reply):
        self.send_response(reply.status)
        headers = {"Content-Type": "application/json", "Cache-Control": "no-cache, no-store"}
        headers.update(reply.headers)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def drop(self, reset):
        """Close the connection without a reply: FIN, or RST when reset."""
        self.close_connection = True
        try:
            if reset:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.connection.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description="A fake Stripe API on 127.0.0.1 (see README.md).")
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ap.add_argument("--webhook-url", help="POST events here (http:// only)")
    ap.add_argument("--webhook-secret", action="append", default=[],
                    help="whsec_... to sign with; repeat (or comma-separate) to sign with several")
    ap.add_argument("--state-file", help="keep the state here, reloaded at start")
    ap.add_argument("--fixtures", help="Stripe's fixtures3.json (default: $STRIPE_FIXTURES or "
                    "../shared/stripe/fixtures3.json beside the repository; without one, "
                    "built-in minimal shapes)")
    ap.add_argument("--api-key", help="accept only this secret key (default: any sk_test_ key)")
    ap.add_argument("--api-version", default=DEFAULT_API_VERSION)
    ap.add_argument("--verbose", action="store_true", help="log requests on stderr")
    args = ap.parse_args(argv)
    secrets_ = [s for arg in args.webhook_secret for s in arg.split(",") if s]
    if fixtures_path(args.fixtures) is None:
        print(f"fake_stripe: no fixtures3.json ({args.fixtures or DEFAULT_FIXTURES}): objects carry "
              "only the fake's own fields", file=sys.stderr)
    try:
        fixtures = load_fixtures(args.fixtures, required=False)
    except (OSError, ValueError, KeyError) as e:
        sys.exit(f"fake_stripe: cannot read the fixtures: {e} (give --fixtures or STRIPE_FIXTURES)")
    fake = FakeStripe(args.port, fixtures, args.webhook_url, secrets_, args.state_file,
                      args.api_key, args.api_version, args.verbose).start()
    print(f"listening on {fake.url}", flush=True)
    # A parent that holds our stdin as a pipe ends us by exiting; a terminal or
    # /dev/null on stdin means "run until killed".
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
        watch = stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)
    except (OSError, ValueError, AttributeError):
        watch = False
    try:
        if watch:
            while sys.stdin.buffer.read(4096):
                pass
        else:
            threading.Event().wait()
    except KeyboardInterrupt:
        pass
    fake.stop()


if __name__ == "__main__":
    main()
