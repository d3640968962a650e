#!/usr/bin/env python3
# signature-vectors.py — Stripe-Signature known-answer vectors, computed with Python's hmac module,
# independently of billing/webhook-signature.c; test-webhook-signature runs this at test time and checks each line.
#
# One vector per line, tab-separated:
#   name  expect  now  secrets  header  payload
# secrets: comma-separated hex of each configured secret; header, payload:
# hex. expect: ok, mismatch, stale, no-v1, malformed, or format (the C
# formatter, given secrets[0], now and payload, must write header exactly).
# The tolerance is always 300 s. Deterministic: the same output every run.

import hashlib
import hmac
import random

NOW = 1700000000
TOLERANCE = 300
OLD = "whsec_old_4eC39HqLyjWDarjtT1zdp7dc"
NEW = "whsec_new_Zk8Qp2mV5sT9wXy1aB3cD6eF"
OTHER = "whsec_someone_else_0000000000000000"

rng = random.Random(20240601)


def v1(secret, t, payload):
    """Stripe's scheme: HMAC-SHA256(secret, "<t>.<payload>"), lower-case hex."""
    signed = t.encode("ascii") + b"." + payload
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def emit(name, expect, secrets, header, payload, now=NOW):
    print("\t".join([
        name,
        expect,
        str(now),
        ",".join(s.encode("utf-8").hex() for s in secrets),
        header.encode("utf-8").hex(),
        payload.hex(),
    ]))


event = (b'{"id":"evt_1NxYz","object":"event","type":"charge.succeeded",'
         b'"data":{"object":{"id":"ch_1","amount":1000,"currency":"usd"}}}')
t = str(NOW)

# Accepted.
emit("basic", "ok", [NEW], f"t={t},v1={v1(NEW, t, event)}", event)
emit("format-basic", "format", [NEW], f"t={t},v1={v1(NEW, t, event)}", event)
emit("with-v0", "ok", [NEW],
     f"t={t},v1={v1(NEW, t, event)},v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39",
     event)
emit("v0-first", "ok", [NEW],
     f"v0=abc,t={t},v1={v1(NEW, t, event)}", event)
emit("unknown-scheme-ignored", "ok", [NEW],
     f"t={t},v9=whatever,x=1,v1={v1(NEW, t, event)}", event)
emit("whitespace", "ok", [NEW],
     f" t = {t} ,\tv1= {v1(NEW, t, event)} , ", event)
emit("upper-case-hex", "ok", [NEW],
     f"t={t},v1={v1(NEW, t, event).upper()}", event)
emit("empty-payload", "ok", [NEW], f"t={t},v1={v1(NEW, t, b'')}", b"")
emit("format-empty-payload", "format", [NEW], f"t={t},v1={v1(NEW, t, b'')}",
     b"")
binary = bytes(range(256)) + b"\x00\x00\xff" + "ünïcødé €".encode("utf-8")
emit("binary-payload-with-nul", "ok", [NEW],
     f"t={t},v1={v1(NEW, t, binary)}", binary)
emit("format-binary-payload", "format", [NEW],
     f"t={t},v1={v1(NEW, t, binary)}", binary)
for i in range(8):
    body = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4096)))
    emit(f"random-{i}", "ok", [NEW], f"t={t},v1={v1(NEW, t, body)}", body)
big = bytes(rng.randrange(256) for _ in range(65536))
emit("large-payload", "ok", [NEW], f"t={t},v1={v1(NEW, t, big)}", big)
# The signed text is t as sent, leading zeros and all.
emit("timestamp-text-verbatim", "ok", [NEW],
     f"t=0{t},v1={v1(NEW, '0' + t, event)}", event)

# Several v1 values: any one matching is enough.
junk = v1(OTHER, t, event)
emit("second-v1-matches", "ok", [NEW],
     f"t={t},v1={junk},v1={v1(NEW, t, event)}", event)
emit("first-v1-matches", "ok", [NEW],
     f"t={t},v1={v1(NEW, t, event)},v1={junk}", event)

# Rotation: while both secrets are configured, either signature passes.
emit("rotation-old-signature", "ok", [OLD, NEW],
     f"t={t},v1={v1(OLD, t, event)}", event)
emit("rotation-new-signature", "ok", [OLD, NEW],
     f"t={t},v1={v1(NEW, t, event)}", event)
emit("rotation-both-signatures-new-only", "ok", [NEW],
     f"t={t},v1={v1(OLD, t, event)},v1={v1(NEW, t, event)}", event)
emit("rotation-both-signatures-old-only", "ok", [OLD],
     f"t={t},v1={v1(OLD, t, event)},v1={v1(NEW, t, event)}", event)
emit("rotation-old-retired", "mismatch", [NEW],
     f"t={t},v1={v1(OLD, t, event)}", event)

# Tolerance: 300 s either way is fine, 301 s is not.
old_t = str(NOW - TOLERANCE)
emit("age-at-tolerance", "ok", [NEW],
     f"t={old_t},v1={v1(NEW, old_t, event)}", event)
stale_t = str(NOW - TOLERANCE - 1)
emit("stale", "stale", [NEW], f"t={stale_t},v1={v1(NEW, stale_t, event)}",
     event)
ahead_t = str(NOW + TOLERANCE)
emit("ahead-at-tolerance", "ok", [NEW],
     f"t={ahead_t},v1={v1(NEW, ahead_t, event)}", event)
future_t = str(NOW + TOLERANCE + 1)
emit("future", "stale", [NEW],
     f"t={future_t},v1={v1(NEW, future_t, event)}", event)
emit("ancient", "stale", [NEW], f"t=1,v1={v1(NEW, '1', event)}", event)
# A stale header that is also wrongly signed is a mismatch: "stale" is only
# said of what Stripe really signed.
emit("stale-and-wrong-secret", "mismatch", [NEW],
     f"t={stale_t},v1={v1(OTHER, stale_t, event)}", event)

# Refused.
tampered = event.replace(b"1000", b"9000")
emit("tampered-body", "mismatch", [NEW], f"t={t},v1={v1(NEW, t, event)}",
     tampered)
emit("body-with-trailing-newline", "mismatch", [NEW],
     f"t={t},v1={v1(NEW, t, event)}", event + b"\n")
emit("tampered-timestamp", "mismatch", [NEW],
     f"t={NOW + 1},v1={v1(NEW, t, event)}", event)
emit("wrong-secret", "mismatch", [NEW], f"t={t},v1={v1(OTHER, t, event)}",
     event)
emit("signature-one-bit-off", "mismatch", [NEW],
     f"t={t},v1={v1(NEW, t, event)[:-1]}"
     f"{'0' if v1(NEW, t, event)[-1] != '0' else '1'}", event)
emit("v0-only", "no-v1", [NEW], f"t={t},v0={v1(NEW, t, event)}", event)
emit("t-only", "no-v1", [NEW], f"t={t}", event)
emit("no-t", "malformed", [NEW], f"v1={v1(NEW, t, event)}", event)
emit("empty-header", "malformed", [NEW], "", event)
emit("garbage", "malformed", [NEW], "garbage", event)
emit("two-t", "malformed", [NEW], f"t={t},t={t},v1={v1(NEW, t, event)}",
     event)
emit("t-not-a-number", "malformed", [NEW], f"t=abc,v1={v1(NEW, t, event)}",
     event)
emit("t-negative", "malformed", [NEW], f"t=-{t},v1={v1(NEW, t, event)}",
     event)
emit("v1-short", "malformed", [NEW], f"t={t},v1={v1(NEW, t, event)[:-2]}",
     event)
emit("v1-not-hex", "malformed", [NEW], f"t={t},v1={'z' * 64}", event)
