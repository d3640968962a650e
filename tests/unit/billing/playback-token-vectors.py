#!/usr/bin/env python3
# playback-token-vectors.py — playback token known-answer vectors, computed with Python's hmac module,
# independently of billing/playback-token.c; test-playback-token runs this at test time and checks each line.
#
# One vector per line, tab-separated:
#   name  expect  now  channel  secrets  token  [viewer expires]
# secrets: comma-separated hex of each configured secret; token: as text.
# expect: ok (verify returns viewer), mint (the C minter, given secrets[0],
# channel, viewer and expires, must write token exactly), malformed,
# bad-mac, wrong-channel, expired. Deterministic: the same output every run.

import base64
import hashlib
import hmac

NOW = 1700000000
OLD = bytes(range(32))
NEW = bytes((7 * i + 3) % 256 for i in range(48))
OTHER = b"\xaa" * 32


def token(secret, channel, viewer, expires, version="v1"):
    """v1.<channel>.<viewer>.<expires>.<base64url(HMAC-SHA256) unpadded>."""
    text = f"{version}.{channel}.{viewer}.{expires}"
    mac = hmac.new(secret, text.encode("ascii"), hashlib.sha256).digest()
    return text + "." + base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def emit(name, expect, channel, secrets, tok, viewer=0, expires=0, now=NOW):
    print("\t".join([name, expect, str(now), channel,
                     ",".join(s.hex() for s in secrets), tok,
                     str(viewer), str(expires)]))


EXP = NOW + 300
good = token(NEW, "ppv", 42, EXP)
emit("basic", "ok", "ppv", [NEW], good, 42, EXP)
emit("mint-basic", "mint", "ppv", [NEW], good, 42, EXP)
emit("mint-long-names", "mint", "A-z_09" * 10 + "abcd", [OLD],
     token(OLD, "A-z_09" * 10 + "abcd", 9223372036854775807, 4102444800),
     9223372036854775807, 4102444800)
for i, (ch, viewer) in enumerate([("a", 1), ("concert-2024", 123456789),
                                  ("X_Y", 77), ("ppv", 10 ** 18)]):
    emit(f"mint-{i}", "mint", ch, [NEW], token(NEW, ch, viewer, EXP), viewer, EXP)
    emit(f"ok-{i}", "ok", ch, [NEW], token(NEW, ch, viewer, EXP), viewer, EXP)
emit("one-second-left", "ok", "ppv", [NEW], token(NEW, "ppv", 42, NOW + 1),
     42, NOW + 1)
emit("expires-now", "expired", "ppv", [NEW], token(NEW, "ppv", 42, NOW))
emit("expired-long-ago", "expired", "ppv", [NEW], token(NEW, "ppv", 42, 1))
emit("other-channel", "wrong-channel", "free", [NEW], good)
emit("channel-prefix", "wrong-channel", "pp", [NEW], good)
emit("channel-case", "wrong-channel", "PPV", [NEW], good)

# Rotation: either configured secret signs.
emit("rotation-old", "ok", "ppv", [NEW, OLD], token(OLD, "ppv", 42, EXP), 42, EXP)
emit("rotation-new", "ok", "ppv", [OLD, NEW], good, 42, EXP)
emit("rotation-retired", "bad-mac", "ppv", [NEW], token(OLD, "ppv", 42, EXP))
emit("wrong-secret", "bad-mac", "ppv", [NEW], token(OTHER, "ppv", 42, EXP))
# A token both expired and forged is bad-mac: nothing is believed unsigned.
emit("expired-and-forged", "bad-mac", "ppv", [NEW], token(OTHER, "ppv", 42, 1))
emit("other-channel-and-forged", "bad-mac", "free", [NEW],
     token(OTHER, "ppv", 42, EXP))

# Tampering with any signed field.
head, mac = good.rsplit(".", 1)
emit("tampered-viewer", "bad-mac", "ppv", [NEW], f"v1.ppv.43.{EXP}.{mac}")
emit("tampered-expiry", "bad-mac", "ppv", [NEW], f"v1.ppv.42.{EXP + 3600}.{mac}")
emit("tampered-channel", "bad-mac", "ppx", [NEW], f"v1.ppx.42.{EXP}.{mac}")
flipped = mac[:-2] + ("A" if mac[-2] != "A" else "B") + mac[-1]
emit("tampered-mac", "bad-mac", "ppv", [NEW], f"{head}.{flipped}")
emit("mac-of-other-token", "bad-mac", "ppv", [NEW],
     head + "." + token(NEW, "ppv", 43, EXP).rsplit(".", 1)[1])

# Malformed: one spelling per token.
emit("empty", "malformed", "ppv", [NEW], "")
emit("garbage", "malformed", "ppv", [NEW], "garbage")
emit("v2", "malformed", "ppv", [NEW], token(NEW, "ppv", 42, EXP, "v2"))
emit("leading-zero-viewer", "malformed", "ppv", [NEW],
     token(NEW, "ppv", "042", EXP))
emit("leading-zero-expiry", "malformed", "ppv", [NEW],
     token(NEW, "ppv", 42, "0" + str(EXP)))
emit("zero-viewer", "malformed", "ppv", [NEW], token(NEW, "ppv", 0, EXP))
emit("negative-viewer", "malformed", "ppv", [NEW], token(NEW, "ppv", -1, EXP))
emit("viewer-overflow", "malformed", "ppv", [NEW],
     token(NEW, "ppv", 9223372036854775808, EXP))
emit("expiry-overflow", "malformed", "ppv", [NEW],
     token(NEW, "ppv", 42, 99999999999999999999))
emit("plus-sign", "malformed", "ppv", [NEW], token(NEW, "ppv", "+42", EXP))
emit("bad-channel-char", "malformed", "pp.v", [NEW], token(NEW, "pp.v", 42, EXP))
emit("channel-too-long", "malformed", "c" * 65, [NEW],
     token(NEW, "c" * 65, 42, EXP))
emit("empty-channel", "malformed", "ppv", [NEW], token(NEW, "", 42, EXP))
emit("padded-mac", "malformed", "ppv", [NEW], good + "=")
emit("standard-base64-mac", "malformed", "ppv", [NEW],
     head + "." + mac.replace("-", "+").replace("_", "/")
     if ("-" in mac or "_" in mac) else head + "." + mac[:-1] + "+")
emit("short-mac", "malformed", "ppv", [NEW], good[:-1])
emit("extra-field", "malformed", "ppv", [NEW], good + ".x")
emit("missing-field", "malformed", "ppv", [NEW], f"v1.ppv.42.{mac}")
emit("too-long", "malformed", "ppv", [NEW], "v1." + "a" * 300)
emit("spaces", "malformed", "ppv", [NEW], " " + good)
