#!/usr/bin/env python3
# hlscheck.py — Glasscast's own HLS checker, written from RFC 8216bis (HLS 2nd edition).
# Validates an llhlssink folder (index.m3u8 + media playlists) and, with --media, its CMAF files.
"""Check an llhlssink folder against RFC 8216bis and plugins/llhls/LAYOUT.md.

Usage: hlscheck.py DIR [--live] [--media]

DIR holds index.m3u8 (or DIR may name one playlist file). Every violation is
printed as ``FILE:LINE: rule: message`` and the exit status is 1; a clean
folder prints one ``hlscheck: OK ...`` line and exits 0.

Rules whose name starts with ``policy-`` are Glasscast choices stricter than
the RFC (for example PART-HOLD-BACK >= 3x PART-TARGET); ``layout-`` rules come
from LAYOUT.md; ``media-`` rules look inside the fMP4 files (--media). Every
other rule is an RFC 8216bis requirement.

The module is importable: ``check_folder(path, live=..., media=...)`` returns
a Report whose ``violations`` list tests can inspect by rule name.
"""

import argparse
import datetime
import math
import os
import re
import struct
import sys
import time
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from isobmff import (BoxError, CONTAINERS, Fragment, find_box, is_sync, iter_boxes,  # noqa: E402,F401
                     nal_types, parse_fragments, parse_init, walk_all)

# Tolerances.  Each is the smallest slack that rounding in a correct writer
# needs; they are part of the rules, not knobs to make output pass.
PART_TOLERANCE = 0.001      # s: PART DURATION vs PART-TARGET, and per part in sum(parts) vs EXTINF
PDT_TOLERANCE = 0.050       # s: PDT[n+1] - PDT[n] vs EXTINF[n]
EXTINF_MEDIA_TOLERANCE = 0.002  # s: EXTINF / PART DURATION vs the samples in the file
LIVE_RETRY_SECONDS = 0.5    # --live: how long a missing file may take to appear


@dataclass
class Violation:
    file: str
    line: int
    rule: str
    message: str

    def __str__(self):
        return f"{self.file}:{self.line}: {self.rule}: {self.message}"


@dataclass
class Report:
    violations: list = field(default_factory=list)
    playlists: int = 0
    segments: int = 0
    parts: int = 0
    media_files: int = 0

    def add(self, file, line, rule, message):
        self.violations.append(Violation(str(file), int(line), rule, message))

    @property
    def ok(self):
        return not self.violations

    def rules(self):
        return {v.rule for v in self.violations}

    def summary(self, root):
        media = f", {self.media_files} media files parsed" if self.media_files else ""
        return (f"hlscheck: OK {root}: {self.playlists} playlists, "
                f"{self.segments} segments, {self.parts} parts{media}")


# ---------------------------------------------------------------------------
# Lexical layer: lines, tags, attribute lists (RFC 8216bis 4.1, 4.2)
# ---------------------------------------------------------------------------

@dataclass
class Line:
    no: int
    text: str
    kind: str            # 'tag', 'comment', 'uri', 'blank'
    tag: str = None      # e.g. 'EXT-X-PART'
    value: str = None    # text after the first ':' (None when there is none)


TAG_NAME_RE = re.compile(r"^#(EXT[A-Z0-9-]*)(?::(.*))?$")
ATTR_NAME_RE = re.compile(r"^[A-Z0-9-]+$")
DECIMAL_INTEGER_RE = re.compile(r"^[0-9]{1,20}$")
HEX_RE = re.compile(r"^0[xX][0-9A-Fa-f]+$")
DECIMAL_FLOAT_RE = re.compile(r"^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
SIGNED_FLOAT_RE = re.compile(r"^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
RESOLUTION_RE = re.compile(r"^([0-9]+)x([0-9]+)$")
ENUM_RE = re.compile(r'^[^",\s]+$')
PDT_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?"
    r"(Z|z|[+-]\d{2}(?::?\d{2})?)$")
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def read_lines(text):
    """Split playlist text into classified Lines (1-based numbers)."""
    lines = []
    for no, raw in enumerate(text.split("\n"), start=1):
        if raw.endswith("\r"):
            raw = raw[:-1]
        if raw.strip() == "":
            lines.append(Line(no, raw, "blank"))
        elif raw.startswith("#EXT"):
            m = TAG_NAME_RE.match(raw)
            if m:
                lines.append(Line(no, raw, "tag", m.group(1), m.group(2)))
            else:
                lines.append(Line(no, raw, "tag", None, None))
        elif raw.startswith("#"):
            lines.append(Line(no, raw, "comment"))
        else:
            lines.append(Line(no, raw, "uri"))
    if lines and lines[-1].kind == "blank" and lines[-1].text == "":
        lines.pop()
    return lines


class AttributeError_(ValueError):
    pass


def parse_attribute_list(text):
    """Parse an attribute-list (RFC 8216bis 4.2) into {name: (value, quoted)}.

    Raises AttributeError_ with a precise message on any syntax error:
    bad names, missing '=', unterminated or misplaced quotes, whitespace,
    empty values, duplicate names, stray commas.
    """
    attrs = {}
    i, n = 0, len(text)
    if n == 0:
        raise AttributeError_("empty attribute list")
    while True:
        eq = text.find("=", i)
        if eq < 0:
            raise AttributeError_(f"attribute without '=' at column {i + 1}: {text[i:]!r}")
        name = text[i:eq]
        if not ATTR_NAME_RE.match(name):
            raise AttributeError_(f"invalid attribute name {name!r} (allowed: A-Z, 0-9, '-')")
        j = eq + 1
        if j < n and text[j] == '"':
            end = text.find('"', j + 1)
            if end < 0:
                raise AttributeError_(f"unterminated quoted-string for {name}")
            value, quoted = text[j + 1:end], True
            j = end + 1
            if j < n and text[j] != ",":
                raise AttributeError_(f"unexpected {text[j]!r} after quoted-string of {name}")
        else:
            comma = text.find(",", j)
            end = n if comma < 0 else comma
            value, quoted = text[j:end], False
            j = end
            if value == "":
                raise AttributeError_(f"empty value for {name}")
            if '"' in value:
                raise AttributeError_(f"stray quote in unquoted value of {name}: {value!r}")
            if re.search(r"\s", value):
                raise AttributeError_(f"whitespace in unquoted value of {name}: {value!r}")
        if name in attrs:
            raise AttributeError_(f"attribute {name} appears more than once")
        attrs[name] = (value, quoted)
        if j >= n:
            return attrs
        # text[j] == ','
        j += 1
        if j >= n:
            raise AttributeError_("trailing comma")
        i = j


# Attribute value types.
QSTR, INT, HEXSEQ, FLOAT, SFLOAT, RES = "quoted-string", "decimal-integer", \
    "hexadecimal-sequence", "decimal-floating-point", \
    "signed-decimal-floating-point", "decimal-resolution"


def ENUM(*values):
    return ("enumerated-string", values)


YES = ENUM("YES")
YESNO = ENUM("YES", "NO")

# Table of attribute-list tags: {tag: {attribute: (type, required)}}.
ATTRIBUTE_TAGS = {
    "EXT-X-KEY": {"METHOD": (ENUM("NONE", "AES-128", "SAMPLE-AES", "SAMPLE-AES-CTR"), True),
                  "URI": (QSTR, False), "IV": (HEXSEQ, False),
                  "KEYFORMAT": (QSTR, False), "KEYFORMATVERSIONS": (QSTR, False)},
    "EXT-X-SESSION-KEY": {"METHOD": (ENUM("AES-128", "SAMPLE-AES", "SAMPLE-AES-CTR"), True),
                          "URI": (QSTR, True), "IV": (HEXSEQ, False),
                          "KEYFORMAT": (QSTR, False), "KEYFORMATVERSIONS": (QSTR, False)},
    "EXT-X-MAP": {"URI": (QSTR, True), "BYTERANGE": (QSTR, False)},
    "EXT-X-PART": {"URI": (QSTR, True), "DURATION": (FLOAT, True),
                   "INDEPENDENT": (YES, False), "BYTERANGE": (QSTR, False), "GAP": (YES, False)},
    "EXT-X-PART-INF": {"PART-TARGET": (FLOAT, True)},
    "EXT-X-SERVER-CONTROL": {"CAN-SKIP-UNTIL": (FLOAT, False), "CAN-SKIP-DATERANGES": (YES, False),
                             "HOLD-BACK": (FLOAT, False), "PART-HOLD-BACK": (FLOAT, False),
                             "CAN-BLOCK-RELOAD": (YES, False)},
    "EXT-X-PRELOAD-HINT": {"TYPE": (ENUM("PART", "MAP"), True), "URI": (QSTR, True),
                           "BYTERANGE-START": (INT, False), "BYTERANGE-LENGTH": (INT, False)},
    "EXT-X-RENDITION-REPORT": {"URI": (QSTR, True), "LAST-MSN": (INT, False),
                               "LAST-PART": (INT, False)},
    "EXT-X-SKIP": {"SKIPPED-SEGMENTS": (INT, True), "RECENTLY-REMOVED-DATERANGES": (QSTR, False)},
    "EXT-X-DATERANGE": {"ID": (QSTR, True), "CLASS": (QSTR, False), "START-DATE": (QSTR, False),
                        "CUE": (QSTR, False), "END-DATE": (QSTR, False), "DURATION": (FLOAT, False),
                        "PLANNED-DURATION": (FLOAT, False), "END-ON-NEXT": (YES, False),
                        "SCTE35-CMD": (HEXSEQ, False), "SCTE35-OUT": (HEXSEQ, False),
                        "SCTE35-IN": (HEXSEQ, False)},
    "EXT-X-MEDIA": {"TYPE": (ENUM("AUDIO", "VIDEO", "SUBTITLES", "CLOSED-CAPTIONS"), True),
                    "URI": (QSTR, False), "GROUP-ID": (QSTR, True), "LANGUAGE": (QSTR, False),
                    "ASSOC-LANGUAGE": (QSTR, False), "NAME": (QSTR, True),
                    "STABLE-RENDITION-ID": (QSTR, False), "DEFAULT": (YESNO, False),
                    "AUTOSELECT": (YESNO, False), "FORCED": (YESNO, False),
                    "INSTREAM-ID": (QSTR, False), "BIT-DEPTH": (INT, False),
                    "SAMPLE-RATE": (INT, False), "CHARACTERISTICS": (QSTR, False),
                    "CHANNELS": (QSTR, False)},
    "EXT-X-STREAM-INF": {"BANDWIDTH": (INT, True), "AVERAGE-BANDWIDTH": (INT, False),
                         "SCORE": (FLOAT, False), "CODECS": (QSTR, False),
                         "SUPPLEMENTAL-CODECS": (QSTR, False), "RESOLUTION": (RES, False),
                         "FRAME-RATE": (FLOAT, False),
                         "HDCP-LEVEL": (ENUM("TYPE-0", "TYPE-1", "NONE"), False),
                         "ALLOWED-CPC": (QSTR, False),
                         "VIDEO-RANGE": (ENUM("SDR", "HLG", "PQ"), False),
                         "REQ-VIDEO-LAYOUT": (QSTR, False), "STABLE-VARIANT-ID": (QSTR, False),
                         "AUDIO": (QSTR, False), "VIDEO": (QSTR, False), "SUBTITLES": (QSTR, False),
                         "CLOSED-CAPTIONS": ("quoted-string-or-NONE", False),
                         "PATHWAY-ID": (QSTR, False), "PROGRAM-ID": (INT, False)},
    "EXT-X-I-FRAME-STREAM-INF": {"URI": (QSTR, True), "BANDWIDTH": (INT, True),
                                 "AVERAGE-BANDWIDTH": (INT, False), "SCORE": (FLOAT, False),
                                 "CODECS": (QSTR, False), "SUPPLEMENTAL-CODECS": (QSTR, False),
                                 "RESOLUTION": (RES, False),
                                 "HDCP-LEVEL": (ENUM("TYPE-0", "TYPE-1", "NONE"), False),
                                 "ALLOWED-CPC": (QSTR, False),
                                 "VIDEO-RANGE": (ENUM("SDR", "HLG", "PQ"), False),
                                 "REQ-VIDEO-LAYOUT": (QSTR, False),
                                 "STABLE-VARIANT-ID": (QSTR, False), "VIDEO": (QSTR, False),
                                 "PATHWAY-ID": (QSTR, False)},
    "EXT-X-SESSION-DATA": {"DATA-ID": (QSTR, True), "VALUE": (QSTR, False), "URI": (QSTR, False),
                           "FORMAT": (ENUM("JSON", "RAW"), False), "LANGUAGE": (QSTR, False)},
    "EXT-X-START": {"TIME-OFFSET": (SFLOAT, True), "PRECISE": (YESNO, False)},
    "EXT-X-DEFINE": {"NAME": (QSTR, False), "VALUE": (QSTR, False), "IMPORT": (QSTR, False),
                     "QUERYPARAM": (QSTR, False)},
    "EXT-X-CONTENT-STEERING": {"SERVER-URI": (QSTR, True), "PATHWAY-ID": (QSTR, False)},
}

# Tags with no value, or a single non-attribute value.
VALUE_TAGS = {
    "EXTM3U": None, "EXT-X-VERSION": INT, "EXTINF": "extinf", "EXT-X-BYTERANGE": "byterange",
    "EXT-X-DISCONTINUITY": None, "EXT-X-PROGRAM-DATE-TIME": "date-time", "EXT-X-GAP": None,
    "EXT-X-BITRATE": INT, "EXT-X-TARGETDURATION": INT, "EXT-X-MEDIA-SEQUENCE": INT,
    "EXT-X-DISCONTINUITY-SEQUENCE": INT, "EXT-X-ENDLIST": None,
    "EXT-X-PLAYLIST-TYPE": ENUM("EVENT", "VOD"), "EXT-X-I-FRAMES-ONLY": None,
    "EXT-X-INDEPENDENT-SEGMENTS": None,
}

MULTIVARIANT_ONLY = {"EXT-X-MEDIA", "EXT-X-STREAM-INF", "EXT-X-I-FRAME-STREAM-INF",
                     "EXT-X-SESSION-DATA", "EXT-X-SESSION-KEY", "EXT-X-CONTENT-STEERING"}
MEDIA_ONLY = {"EXTINF", "EXT-X-BYTERANGE", "EXT-X-DISCONTINUITY", "EXT-X-KEY", "EXT-X-MAP",
              "EXT-X-PROGRAM-DATE-TIME", "EXT-X-GAP", "EXT-X-BITRATE", "EXT-X-PART",
              "EXT-X-TARGETDURATION", "EXT-X-MEDIA-SEQUENCE", "EXT-X-DISCONTINUITY-SEQUENCE",
              "EXT-X-ENDLIST", "EXT-X-PLAYLIST-TYPE", "EXT-X-I-FRAMES-ONLY", "EXT-X-PART-INF",
              "EXT-X-SERVER-CONTROL", "EXT-X-DATERANGE", "EXT-X-SKIP", "EXT-X-PRELOAD-HINT",
              "EXT-X-RENDITION-REPORT"}
ONCE_PER_PLAYLIST = {"EXT-X-VERSION", "EXT-X-TARGETDURATION", "EXT-X-MEDIA-SEQUENCE",
                     "EXT-X-DISCONTINUITY-SEQUENCE", "EXT-X-ENDLIST", "EXT-X-PLAYLIST-TYPE",
                     "EXT-X-I-FRAMES-ONLY", "EXT-X-PART-INF", "EXT-X-SERVER-CONTROL",
                     "EXT-X-INDEPENDENT-SEGMENTS", "EXT-X-START", "EXT-X-SKIP",
                     "EXT-X-CONTENT-STEERING"}


def check_value(vtype, value, quoted):
    """Return None when value/quoted fits vtype, else a message."""
    if vtype == "quoted-string-or-NONE":
        if quoted or value == "NONE":
            return None
        return f"expected a quoted-string or NONE, got {value!r}"
    if vtype == QSTR:
        if not quoted:
            return f"expected a quoted-string, got unquoted {value!r}"
        if "\r" in value or "\n" in value:
            return "quoted-string contains CR or LF"
        return None
    if quoted:
        return f"expected a {vtype if isinstance(vtype, str) else 'enumerated-string'}, got a quoted-string"
    if isinstance(vtype, tuple):
        if not ENUM_RE.match(value):
            return f"invalid enumerated-string {value!r}"
        if value not in vtype[1]:
            return f"{value!r} is not one of {', '.join(vtype[1])}"
        return None
    if vtype == INT:
        if not DECIMAL_INTEGER_RE.match(value) or int(value) >= 2 ** 64:
            return f"invalid decimal-integer {value!r}"
        return None
    if vtype == HEXSEQ:
        return None if HEX_RE.match(value) else f"invalid hexadecimal-sequence {value!r}"
    if vtype == FLOAT:
        return None if DECIMAL_FLOAT_RE.match(value) else f"invalid decimal-floating-point {value!r}"
    if vtype == SFLOAT:
        return None if SIGNED_FLOAT_RE.match(value) else \
            f"invalid signed-decimal-floating-point {value!r}"
    if vtype == RES:
        m = RESOLUTION_RE.match(value)
        if not m or int(m.group(1)) == 0 or int(m.group(2)) == 0:
            return f"invalid decimal-resolution {value!r} (want WIDTHxHEIGHT)"
        return None
    raise AssertionError(vtype)


def parse_pdt(text):
    """Parse an EXT-X-PROGRAM-DATE-TIME value; return an aware datetime or None."""
    m = PDT_RE.match(text)
    if not m:
        return None
    y, mo, d, h, mi, s = (int(m.group(k)) for k in range(1, 7))
    frac = m.group(7) or ""
    micro = int(round(float("0" + frac) * 1e6)) if frac else 0
    tz = m.group(8)
    if tz in ("Z", "z"):
        off = datetime.timedelta(0)
    else:
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        hh = int(digits[:2])
        mm = int(digits[2:4]) if len(digits) >= 4 else 0
        if hh > 23 or mm > 59:
            return None
        off = sign * datetime.timedelta(hours=hh, minutes=mm)
    try:
        base = datetime.datetime(y, mo, d, h, mi, min(s, 59), tzinfo=datetime.timezone(off))
    except ValueError:
        return None
    if s > 60:
        return None
    return base + datetime.timedelta(seconds=(s - min(s, 59)), microseconds=micro)


def round_half_up(x):
    return int(math.floor(x + 0.5))


# ---------------------------------------------------------------------------
# Playlist model
# ---------------------------------------------------------------------------

@dataclass
class Part:
    uri: str
    duration: float
    independent: bool
    gap: bool
    line: int


@dataclass
class Segment:
    msn: int
    uri: str = None          # None for the in-progress segment (parts only)
    duration: float = None   # EXTINF
    extinf_line: int = 0
    line: int = 0            # URI line, or first part's line when in progress
    pdt: datetime.datetime = None
    pdt_line: int = 0
    discontinuity: bool = False
    disc_seq: int = 0
    map_uri: str = None
    map_line: int = 0
    parts: list = field(default_factory=list)

    @property
    def complete(self):
        return self.uri is not None


@dataclass
class MediaPlaylist:
    path: str
    version: int = 1
    version_line: int = 0
    target: int = None
    media_sequence: int = 0
    disc_sequence: int = 0
    endlist: bool = False
    endlist_line: int = 0
    playlist_type: str = None
    part_target: float = None
    part_inf_line: int = 0
    server_control: dict = None
    server_control_line: int = 0
    preload_hints: list = field(default_factory=list)   # (attrs, line)
    segments: list = field(default_factory=list)        # complete, then maybe one in progress
    skip: bool = False
    i_frames_only: bool = False

    @property
    def complete_segments(self):
        return [s for s in self.segments if s.complete]


class PlaylistChecker:
    """Lexical and per-tag checks shared by both playlist kinds."""

    def __init__(self, report, path, display):
        self.report = report
        self.path = path
        self.display = display
        self.dir = os.path.dirname(path)

    def add(self, line, rule, message):
        self.report.add(self.display, line, rule, message)

    def load(self):
        try:
            with open(self.path, "rb") as f:
                raw = f.read()
        except OSError as e:
            self.add(0, "uri-exists", f"cannot read playlist: {e.strerror}")
            return None
        if raw.startswith(b"\xef\xbb\xbf"):
            self.add(1, "encoding", "playlist starts with a byte order mark (BOM)")
            raw = raw[3:]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            self.add(0, "encoding", f"playlist is not UTF-8: {e}")
            return None
        lines = read_lines(text)
        for ln in lines:
            if CONTROL_RE.search(ln.text):
                self.add(ln.no, "encoding", "control character in playlist line")
        first = next((ln for ln in lines), None)
        if first is None or first.text != "#EXTM3U":
            self.add(first.no if first else 1, "extm3u-first",
                     "the first line must be #EXTM3U")
        return lines

    def check_tags(self, lines, kind):
        """Syntax of every tag; returns {line_no: attrs} for attribute tags."""
        parsed = {}
        seen = {}
        for ln in lines:
            if ln.kind != "tag":
                continue
            if ln.tag is None:
                self.add(ln.no, "tag-syntax", f"malformed tag {ln.text!r}")
                continue
            tag = ln.tag
            if tag == "EXTM3U" and ln.no != lines[0].no:
                self.add(ln.no, "extm3u-first", "#EXTM3U may only be the first line")
            if tag in ONCE_PER_PLAYLIST:
                if tag in seen:
                    self.add(ln.no, "tag-once",
                             f"{tag} appears more than once (first on line {seen[tag]})")
                seen.setdefault(tag, ln.no)
            if kind == "multivariant" and tag in MEDIA_ONLY:
                self.add(ln.no, "playlist-kind", f"media playlist tag {tag} in a multivariant playlist")
            if kind == "media" and tag in MULTIVARIANT_ONLY:
                self.add(ln.no, "playlist-kind", f"multivariant playlist tag {tag} in a media playlist")
            if tag in ATTRIBUTE_TAGS:
                if ln.value is None:
                    self.add(ln.no, "tag-syntax", f"{tag} needs an attribute list")
                    continue
                try:
                    attrs = parse_attribute_list(ln.value)
                except AttributeError_ as e:
                    self.add(ln.no, "attribute-syntax", f"{tag}: {e}")
                    continue
                schema = ATTRIBUTE_TAGS[tag]
                good = True
                for name, (value, quoted) in attrs.items():
                    if name not in schema:
                        if tag == "EXT-X-DATERANGE" and name.startswith("X-"):
                            continue
                        self.add(ln.no, "attribute-unknown", f"{tag}: unknown attribute {name}")
                        continue
                    msg = check_value(schema[name][0], value, quoted)
                    if msg:
                        self.add(ln.no, "attribute-type", f"{tag} {name}: {msg}")
                        good = False
                for name, (_t, required) in schema.items():
                    if required and name not in attrs:
                        self.add(ln.no, "attribute-required", f"{tag} lacks required {name}")
                        good = False
                parsed[ln.no] = {k: v for k, (v, _q) in attrs.items()}
                parsed[ln.no]["__valid__"] = good
            elif tag in VALUE_TAGS:
                vtype = VALUE_TAGS[tag]
                if vtype is None:
                    if ln.value is not None:
                        self.add(ln.no, "tag-syntax", f"{tag} takes no value")
                    continue
                if ln.value is None:
                    self.add(ln.no, "tag-syntax", f"{tag} needs a value")
                    continue
                if vtype == "extinf":
                    m = re.match(r"^([^,]*),(.*)$", ln.value)
                    if not m:
                        self.add(ln.no, "tag-syntax", "EXTINF must be '<duration>,[<title>]'")
                    elif not DECIMAL_FLOAT_RE.match(m.group(1)):
                        self.add(ln.no, "tag-syntax", f"EXTINF duration {m.group(1)!r} is not a decimal number")
                elif vtype == "byterange":
                    if not re.match(r"^[0-9]+(@[0-9]+)?$", ln.value):
                        self.add(ln.no, "tag-syntax", f"invalid EXT-X-BYTERANGE {ln.value!r}")
                elif vtype == "date-time":
                    if parse_pdt(ln.value) is None:
                        self.add(ln.no, "pdt-format",
                                 f"EXT-X-PROGRAM-DATE-TIME {ln.value!r} is not an ISO 8601 date-time with time zone")
                else:
                    msg = check_value(vtype, ln.value, False)
                    if msg:
                        self.add(ln.no, "tag-syntax", f"{tag}: {msg}")
            else:
                self.add(ln.no, "tag-unknown", f"unknown tag {tag}")
        return parsed

    def resolve(self, uri):
        return os.path.normpath(os.path.join(self.dir, uri))

    def check_uri_form(self, line, uri):
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", uri) or uri.startswith("/"):
            self.add(line, "layout-relative-uri", f"URI {uri!r} is not relative")
            return False
        if ".." in uri.split("/"):
            self.add(line, "layout-relative-uri", f"URI {uri!r} leaves the folder")
            return False
        return True

    def check_exists(self, line, uri, live, what):
        if not self.check_uri_form(line, uri):
            return False
        path = self.resolve(uri)
        deadline = time.monotonic() + (LIVE_RETRY_SECONDS if live else 0)
        while True:
            if os.path.isfile(path):
                return True
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        self.add(line, "uri-exists", f"{what} {uri!r} does not exist")
        return False


def float_attr(attrs, name):
    try:
        return float(attrs[name])
    except (KeyError, ValueError, TypeError):
        return None


# ---------------------------------------------------------------------------
# Media playlists
# ---------------------------------------------------------------------------

def parse_media_playlist(checker, lines, parsed):
    """Build the MediaPlaylist model; report structural rules on the way."""
    pl = MediaPlaylist(checker.path)
    add = checker.add
    pending = Segment(msn=0)
    pending_extinf = None
    pending_has_content = False
    seen_segment = False
    current_map = (None, 0)
    msn = None
    disc_seq = None
    seen_discontinuity = False

    def start_values():
        nonlocal msn, disc_seq
        if msn is None:
            msn = pl.media_sequence
            disc_seq = pl.disc_sequence

    for ln in lines:
        if ln.kind == "tag" and ln.tag:
            tag, value = ln.tag, ln.value
            attrs = parsed.get(ln.no, {})
            if tag == "EXT-X-VERSION" and value and DECIMAL_INTEGER_RE.match(value):
                pl.version, pl.version_line = int(value), ln.no
            elif tag == "EXT-X-TARGETDURATION" and value and DECIMAL_INTEGER_RE.match(value):
                pl.target = int(value)
            elif tag in ("EXT-X-MEDIA-SEQUENCE", "EXT-X-DISCONTINUITY-SEQUENCE"):
                if seen_segment or pending_has_content:
                    add(ln.no, "sequence-placement", f"{tag} must appear before the first media segment")
                if tag == "EXT-X-DISCONTINUITY-SEQUENCE" and seen_discontinuity:
                    add(ln.no, "sequence-placement",
                        "EXT-X-DISCONTINUITY-SEQUENCE must appear before any EXT-X-DISCONTINUITY")
                if value and DECIMAL_INTEGER_RE.match(value):
                    if tag == "EXT-X-MEDIA-SEQUENCE":
                        pl.media_sequence = int(value)
                    else:
                        pl.disc_sequence = int(value)
            elif tag == "EXT-X-ENDLIST":
                pl.endlist, pl.endlist_line = True, ln.no
            elif tag == "EXT-X-PLAYLIST-TYPE":
                pl.playlist_type = value
            elif tag == "EXT-X-I-FRAMES-ONLY":
                pl.i_frames_only = True
            elif tag == "EXT-X-PART-INF" and attrs.get("__valid__"):
                pl.part_target, pl.part_inf_line = float_attr(attrs, "PART-TARGET"), ln.no
            elif tag == "EXT-X-SERVER-CONTROL" and "__valid__" in attrs:
                pl.server_control, pl.server_control_line = attrs, ln.no
            elif tag == "EXT-X-SKIP":
                pl.skip = True
            elif tag == "EXT-X-PRELOAD-HINT" and attrs.get("__valid__"):
                pl.preload_hints.append((attrs, ln.no))
            elif tag == "EXT-X-MAP" and attrs.get("__valid__"):
                current_map = (attrs["URI"], ln.no)
            elif tag == "EXT-X-DISCONTINUITY":
                seen_discontinuity = True
                pending.discontinuity = True
                pending_has_content = True
            elif tag == "EXT-X-PROGRAM-DATE-TIME" and value:
                if pending.pdt_line:
                    add(ln.no, "pdt-format", "two EXT-X-PROGRAM-DATE-TIME tags for one segment")
                pending.pdt, pending.pdt_line = parse_pdt(value), ln.no
                pending_has_content = True
            elif tag == "EXT-X-PART" and attrs.get("__valid__"):
                if not pending.parts:
                    pending.line = ln.no
                pending.parts.append(Part(attrs["URI"], float_attr(attrs, "DURATION"),
                                          attrs.get("INDEPENDENT") == "YES",
                                          attrs.get("GAP") == "YES", ln.no))
                pending_has_content = True
            elif tag == "EXTINF" and value:
                if pending_extinf is not None:
                    add(ln.no, "extinf", f"EXTINF without a URI line after line {pending_extinf[1]}")
                m = re.match(r"^([0-9.]+),", value)
                dur = float(m.group(1)) if m and DECIMAL_FLOAT_RE.match(m.group(1)) else None
                pending_extinf = (dur, ln.no)
                pending_has_content = True
        elif ln.kind == "uri":
            start_values()
            if pending_extinf is None:
                add(ln.no, "extinf", f"media segment {ln.text!r} has no EXTINF")
                pending_extinf = (None, ln.no)
            if pending.discontinuity:
                disc_seq += 1
            seg = pending
            seg.msn = msn
            seg.uri = ln.text.strip()
            seg.line = ln.no
            seg.duration, seg.extinf_line = pending_extinf
            seg.disc_seq = disc_seq
            seg.map_uri, seg.map_line = current_map
            pl.segments.append(seg)
            msn += 1
            seen_segment = True
            pending = Segment(msn=0)
            pending_extinf = None
            pending_has_content = False
    if pending_extinf is not None:
        add(pending_extinf[1], "extinf", "EXTINF without a URI line")
    if pending.parts:
        start_values()
        if pending.discontinuity:
            disc_seq += 1
        pending.msn = msn
        pending.disc_seq = disc_seq
        pending.map_uri, pending.map_line = current_map
        pl.segments.append(pending)
    return pl


def required_version(lines, parsed, pl):
    """(version, reason) for the highest feature in use (RFC 8216bis section 8)."""
    need = [(1, "")]
    for ln in lines:
        if ln.kind != "tag" or not ln.tag:
            continue
        attrs = parsed.get(ln.no, {})
        if ln.tag == "EXT-X-KEY" and "IV" in attrs:
            need.append((2, f"EXT-X-KEY IV (line {ln.no})"))
        if ln.tag == "EXTINF" and ln.value:
            d = ln.value.split(",")[0]
            if "." in d:
                need.append((3, f"floating-point EXTINF (line {ln.no})"))
        if ln.tag in ("EXT-X-BYTERANGE", "EXT-X-I-FRAMES-ONLY"):
            need.append((4, f"{ln.tag} (line {ln.no})"))
        if ln.tag == "EXT-X-KEY" and ("KEYFORMAT" in attrs or "KEYFORMATVERSIONS" in attrs):
            need.append((5, f"EXT-X-KEY KEYFORMAT (line {ln.no})"))
        if ln.tag == "EXT-X-MAP":
            if pl is not None and not pl.i_frames_only:
                need.append((6, f"EXT-X-MAP in a media playlist without EXT-X-I-FRAMES-ONLY (line {ln.no})"))
            else:
                need.append((5, f"EXT-X-MAP (line {ln.no})"))
        if ln.tag == "EXT-X-DEFINE":
            need.append((8, f"EXT-X-DEFINE (line {ln.no})"))
            if "QUERYPARAM" in attrs:
                need.append((11, f"EXT-X-DEFINE QUERYPARAM (line {ln.no})"))
        if ln.tag == "EXT-X-SKIP":
            need.append((9, f"EXT-X-SKIP (line {ln.no})"))
            if "RECENTLY-REMOVED-DATERANGES" in attrs:
                need.append((10, f"RECENTLY-REMOVED-DATERANGES (line {ln.no})"))
        if ln.tag in ("EXT-X-STREAM-INF", "EXT-X-I-FRAME-STREAM-INF") and "REQ-VIDEO-LAYOUT" in attrs:
            need.append((12, f"REQ-VIDEO-LAYOUT (line {ln.no})"))
        if ln.tag == "EXT-X-MEDIA" and attrs.get("INSTREAM-ID", "").startswith("SERVICE"):
            need.append((7, f"INSTREAM-ID SERVICE (line {ln.no})"))
    return max(need)


def check_version(checker, lines, parsed, pl):
    version = 1
    vline = 0
    for ln in lines:
        if ln.kind == "tag" and ln.tag == "EXT-X-VERSION" and ln.value and DECIMAL_INTEGER_RE.match(ln.value):
            version, vline = int(ln.value), ln.no
    need, reason = required_version(lines, parsed, pl)
    if vline == 0 and need > 1:
        checker.add(1, "version", f"EXT-X-VERSION missing; {reason} needs version >= {need}")
    elif version < need:
        checker.add(vline, "version", f"EXT-X-VERSION:{version} too low; {reason} needs version >= {need}")
    return version


def check_media_playlist(report, path, display, live=False, media=False):
    """Validate one media playlist; returns its MediaPlaylist model or None."""
    checker = PlaylistChecker(report, path, display)
    lines = checker.load()
    if lines is None:
        return None
    report.playlists += 1
    parsed = checker.check_tags(lines, "media")
    pl = parse_media_playlist(checker, lines, parsed)
    check_version(checker, lines, parsed, pl)
    add = checker.add
    complete = pl.complete_segments
    report.segments += len(complete)
    report.parts += sum(len(s.parts) for s in pl.segments)

    # Target duration.
    if pl.target is None:
        add(1, "targetduration", "EXT-X-TARGETDURATION is missing")
    else:
        for seg in complete:
            if seg.duration is not None and round_half_up(seg.duration) > pl.target:
                add(seg.extinf_line, "targetduration",
                    f"EXTINF {seg.duration} rounds to {round_half_up(seg.duration)} > "
                    f"EXT-X-TARGETDURATION {pl.target}")

    # Playlist type and end.
    if pl.playlist_type == "VOD" and not pl.endlist and not live:
        add(1, "playlist-type", "EXT-X-PLAYLIST-TYPE:VOD without EXT-X-ENDLIST")
    # Live window (RFC 8216bis 6.2.2: a server must not shrink a live playlist below 3 TD).
    if not pl.endlist and pl.target and pl.media_sequence > 0 and not pl.skip:
        total = sum(s.duration or 0 for s in complete)
        if total < 3 * pl.target - PART_TOLERANCE:
            add(1, "live-window",
                f"segments were removed (EXT-X-MEDIA-SEQUENCE:{pl.media_sequence}) but the playlist "
                f"lasts only {total:.3f} s < 3 x EXT-X-TARGETDURATION ({3 * pl.target} s)")

    has_parts = any(s.parts for s in pl.segments)
    check_parts(checker, pl, has_parts, live)
    check_server_control(checker, pl, has_parts)
    check_preload_hints(checker, pl, has_parts)
    check_pdt(checker, pl)

    # EXT-X-MAP and file existence.
    for seg in pl.segments:
        if seg.uri is not None and re.search(r"\.(m4s|mp4|cmf[vat]?)$", seg.uri) and seg.map_uri is None:
            add(seg.line, "map", f"fMP4 segment {seg.uri!r} has no EXT-X-MAP before it")
    map_uris = {}
    for seg in pl.segments:
        if seg.map_uri is not None:
            map_uris.setdefault(seg.map_uri, seg.map_line)
    for uri, line in map_uris.items():
        checker.check_exists(line, uri, live, "EXT-X-MAP URI")
    for seg in pl.segments:
        if seg.uri is not None:
            checker.check_exists(seg.line, seg.uri, live, "segment")
        for part in seg.parts:
            checker.check_exists(part.line, part.uri, live, "part")

    if media:
        check_media_files(checker, pl)
    return pl


def check_parts(checker, pl, has_parts, live):
    add = checker.add
    if not has_parts:
        return
    if pl.part_target is None:
        first = next(p for s in pl.segments for p in s.parts)
        add(first.line, "part-inf", "EXT-X-PART used but EXT-X-PART-INF is missing")
        return
    pt = pl.part_target
    if pl.target and pt > pl.target:
        add(pl.part_inf_line, "part-inf", f"PART-TARGET {pt} exceeds EXT-X-TARGETDURATION {pl.target}")
    for seg in pl.segments:
        n = len(seg.parts)
        for i, part in enumerate(seg.parts):
            if part.duration is None:
                continue
            if part.duration > pt + PART_TOLERANCE:
                add(part.line, "part-duration",
                    f"part {part.uri} DURATION {part.duration} > PART-TARGET {pt}")
            last_of_segment = seg.complete and i == n - 1
            if not last_of_segment and not part.independent and part.duration < 0.85 * pt - PART_TOLERANCE:
                add(part.line, "part-duration-min",
                    f"part {part.uri} DURATION {part.duration} < 85% of PART-TARGET {pt} "
                    f"({0.85 * pt:.4f}) and it is neither INDEPENDENT=YES nor the last part of its segment")
        if seg.complete and seg.parts and seg.duration is not None:
            total = sum(p.duration or 0 for p in seg.parts)
            if abs(total - seg.duration) > PART_TOLERANCE * n:
                add(seg.extinf_line, "part-sum",
                    f"segment {seg.uri}: parts sum to {total:.6f} s but EXTINF is {seg.duration} "
                    f"(tolerance {PART_TOLERANCE * n:.3f} s for {n} parts)")
    # Parts are listed only near the live edge: once a segment ends more than
    # three target durations before the end of the playlist its parts must go
    # (RFC 8216bis 4.4.4.9 / 6.2.2), and parts are removed oldest first.
    if pl.target:
        ends = []
        t = 0.0
        for seg in pl.segments:
            t += seg.duration if seg.complete and seg.duration is not None else \
                sum(p.duration or 0 for p in seg.parts)
            ends.append(t)
        playlist_end = t
        with_parts_seen = False
        for seg, end in zip(pl.segments, ends):
            if seg.parts:
                with_parts_seen = True
                if seg.complete and playlist_end - end > 3 * pl.target + PART_TOLERANCE:
                    add(seg.parts[0].line, "part-window",
                        f"segment {seg.msn} ends {playlist_end - end:.3f} s before the end of the "
                        f"playlist (> 3 x target duration = {3 * pl.target} s) but still lists its parts")
            elif with_parts_seen and seg.complete:
                add(seg.line, "part-window",
                    f"segment {seg.msn} lists no parts although an older segment does")
    if pl.endlist:
        first = next(p for s in pl.segments for p in s.parts)
        add(first.line, "layout-endlist-parts",
            "playlist has EXT-X-ENDLIST but still lists EXT-X-PART tags (LAYOUT.md: parts go on EOS)")


def check_server_control(checker, pl, has_parts):
    add = checker.add
    sc = pl.server_control
    line = pl.server_control_line or 1
    if has_parts or pl.part_target is not None:
        if sc is None:
            add(1, "server-control", "playlist has parts but no EXT-X-SERVER-CONTROL")
        elif sc.get("CAN-BLOCK-RELOAD") != "YES":
            add(line, "server-control", "playlist has parts but lacks CAN-BLOCK-RELOAD=YES")
    if sc is None:
        return
    if pl.part_target is not None:
        phb = float_attr(sc, "PART-HOLD-BACK")
        if phb is None:
            add(line, "server-control", "PART-HOLD-BACK is required with EXT-X-PART-INF")
        else:
            if phb < 2 * pl.part_target - 1e-9:
                add(line, "server-control",
                    f"PART-HOLD-BACK {phb} < 2 x PART-TARGET ({2 * pl.part_target})")
            elif phb < 3 * pl.part_target - 1e-9:
                add(line, "policy-part-hold-back",
                    f"PART-HOLD-BACK {phb} < 3 x PART-TARGET ({3 * pl.part_target:g}); "
                    "RFC minimum is 2x, Glasscast requires 3x")
    elif "PART-HOLD-BACK" in sc:
        add(line, "server-control", "PART-HOLD-BACK without EXT-X-PART-INF")
    if pl.target is not None:
        hb = float_attr(sc, "HOLD-BACK")
        if hb is not None and hb < 3 * pl.target - 1e-9:
            add(line, "server-control", f"HOLD-BACK {hb} < 3 x EXT-X-TARGETDURATION ({3 * pl.target})")
        csu = float_attr(sc, "CAN-SKIP-UNTIL")
        if csu is not None and csu < 6 * pl.target - 1e-9:
            add(line, "server-control",
                f"CAN-SKIP-UNTIL {csu} < 6 x EXT-X-TARGETDURATION ({6 * pl.target})")
    if "CAN-SKIP-DATERANGES" in sc and "CAN-SKIP-UNTIL" not in sc:
        add(line, "server-control", "CAN-SKIP-DATERANGES without CAN-SKIP-UNTIL")


PART_NAME_RE = re.compile(r"^part-(\d+)\.(\d+)\.m4s$")


def check_preload_hints(checker, pl, has_parts):
    add = checker.add
    by_type = {}
    for attrs, line in pl.preload_hints:
        t = attrs.get("TYPE")
        if t in by_type:
            add(line, "preload-hint", f"more than one EXT-X-PRELOAD-HINT TYPE={t} (also line {by_type[t]})")
        by_type.setdefault(t, line)
        if pl.endlist:
            add(line, "preload-hint", "EXT-X-PRELOAD-HINT in a playlist with EXT-X-ENDLIST")
    part_hints = [(a, l) for a, l in pl.preload_hints if a.get("TYPE") == "PART"]
    if has_parts and not pl.endlist and not part_hints:
        add(1, "preload-hint", "live playlist with parts has no EXT-X-PRELOAD-HINT TYPE=PART")
    listed = {p.uri for s in pl.segments for p in s.parts}
    for attrs, line in part_hints:
        uri = attrs.get("URI")
        if uri in listed:
            add(line, "preload-hint", f"EXT-X-PRELOAD-HINT names {uri!r}, which is already listed")
        checker.check_uri_form(line, uri)
        # LAYOUT.md: the hint names a part that will appear: the next one of
        # the growing segment, or part 0 of the next segment when the writer
        # expects to cut there (if the cut comes late, that part comes one
        # part later, but it comes).
        if pl.segments and pl.segments[-1].parts and not pl.endlist:
            last = pl.segments[-1]
            m = PART_NAME_RE.match(os.path.basename(last.parts[-1].uri))
            h = PART_NAME_RE.match(os.path.basename(uri or ""))
            if m and h:
                msn, idx = int(m.group(1)), int(m.group(2))
                want = ([(msn, idx + 1), (msn + 1, 0)] if not last.complete
                        else [(last.msn + 1, 0)])
                if (int(h.group(1)), int(h.group(2))) not in want:
                    add(line, "layout-hint",
                        f"EXT-X-PRELOAD-HINT names {uri!r}; the next part is "
                        f"part-{want[0][0]}.{want[0][1]}.m4s")


def check_pdt(checker, pl):
    add = checker.add
    prev = None
    for seg in pl.segments:
        if seg.complete and seg.pdt_line == 0:
            add(seg.line, "pdt-missing", f"segment {seg.uri} has no EXT-X-PROGRAM-DATE-TIME")
        if (seg.pdt is not None and prev is not None and prev.pdt is not None
                and prev.duration is not None and not seg.discontinuity):
            delta = (seg.pdt - prev.pdt).total_seconds()
            if abs(delta - prev.duration) > PDT_TOLERANCE:
                add(seg.pdt_line, "pdt-continuity",
                    f"PDT of segment {seg.msn} is {delta:.3f} s after segment {prev.msn}'s, "
                    f"but EXTINF of segment {prev.msn} is {prev.duration}")
        prev = seg if seg.complete else None


# ---------------------------------------------------------------------------
# Multivariant playlist
# ---------------------------------------------------------------------------

CODEC_RE = re.compile(r"^(avc[13]\.[0-9A-Fa-f]{6}|hvc1\..+|hev1\..+|av01\..+|mp4a\.40\.\d+|"
                      r"mp4a\.(?:6[0-9A-Fa-f]|[0-9A-Fa-f]{2})|opus|Opus|ac-3|ec-3|fLaC|flac|"
                      r"stpp\..+|wvtt|vp09\..+)$")
AUDIO_CODEC_RE = re.compile(r"^(mp4a\..+|opus|Opus|ac-3|ec-3|fLaC|flac)$")


@dataclass
class Variant:
    attrs: dict
    line: int
    uri: str
    uri_line: int
    playlist: MediaPlaylist = None


@dataclass
class Rendition:
    attrs: dict
    line: int
    playlist: MediaPlaylist = None


def check_multivariant(report, path, display, live=False, media=False):
    checker = PlaylistChecker(report, path, display)
    lines = checker.load()
    if lines is None:
        return
    report.playlists += 1
    add = checker.add
    parsed = checker.check_tags(lines, "multivariant")
    check_version(checker, lines, parsed, None)

    variants, renditions = [], []
    for idx, ln in enumerate(lines):
        if ln.kind == "uri":
            prev = next((p for p in reversed(lines[:idx]) if p.kind in ("tag", "uri")), None)
            if not (prev and prev.kind == "tag" and prev.tag == "EXT-X-STREAM-INF"):
                add(ln.no, "stream-inf", f"URI line {ln.text!r} does not follow an EXT-X-STREAM-INF")
        if ln.kind != "tag" or ln.tag is None:
            continue
        attrs = parsed.get(ln.no)
        if ln.tag == "EXT-X-STREAM-INF":
            nxt = next((p for p in lines[idx + 1:] if p.kind in ("tag", "uri")), None)
            if nxt is None or nxt.kind != "uri":
                add(ln.no, "stream-inf", "EXT-X-STREAM-INF is not followed by a URI line")
                continue
            if attrs is None:
                continue
            variants.append(Variant(attrs, ln.no, nxt.text.strip(), nxt.no))
        elif ln.tag == "EXT-X-MEDIA" and attrs is not None:
            renditions.append(Rendition(attrs, ln.no))

    if not variants:
        add(1, "stream-inf", "multivariant playlist has no EXT-X-STREAM-INF")

    groups = {}
    for r in renditions:
        a = r.attrs
        t, gid = a.get("TYPE"), a.get("GROUP-ID")
        if t == "AUDIO" and "URI" not in a:
            add(r.line, "policy-media-uri", "EXT-X-MEDIA TYPE=AUDIO has no URI (Glasscast writes every audio rendition as its own playlist)")
        if t == "CLOSED-CAPTIONS":
            if "URI" in a:
                add(r.line, "media-tag", "EXT-X-MEDIA TYPE=CLOSED-CAPTIONS must not have a URI")
            if "INSTREAM-ID" not in a:
                add(r.line, "media-tag", "EXT-X-MEDIA TYPE=CLOSED-CAPTIONS needs INSTREAM-ID")
        elif "INSTREAM-ID" in a:
            add(r.line, "media-tag", "INSTREAM-ID is only allowed with TYPE=CLOSED-CAPTIONS")
        if a.get("DEFAULT") == "YES" and a.get("AUTOSELECT", "YES") != "YES":
            add(r.line, "media-tag", "DEFAULT=YES requires AUTOSELECT=YES")
        if a.get("FORCED") and t != "SUBTITLES":
            add(r.line, "media-tag", "FORCED is only allowed with TYPE=SUBTITLES")
        key = (t, gid)
        g = groups.setdefault(key, [])
        for other in g:
            if other.attrs.get("NAME") == a.get("NAME"):
                add(r.line, "media-tag", f"NAME {a.get('NAME')!r} repeats in group {gid!r} (line {other.line})")
            if a.get("DEFAULT") == "YES" and other.attrs.get("DEFAULT") == "YES":
                add(r.line, "media-tag", f"group {gid!r} has more than one DEFAULT=YES (line {other.line})")
        g.append(r)

    for v in variants:
        a = v.attrs
        if "CODECS" not in a:
            add(v.line, "policy-codecs", "EXT-X-STREAM-INF has no CODECS")
        else:
            codecs = [c.strip() for c in a["CODECS"].split(",")]
            for c in codecs:
                if not CODEC_RE.match(c):
                    add(v.line, "codecs", f"CODECS entry {c!r} is not a known RFC 6381 format")
            if "AUDIO" in a and not any(AUDIO_CODEC_RE.match(c) for c in codecs):
                add(v.line, "codecs",
                    f"CODECS {a['CODECS']!r} lists no audio format although AUDIO group {a['AUDIO']!r} is used")
        if "AVERAGE-BANDWIDTH" in a and "BANDWIDTH" in a and \
                DECIMAL_INTEGER_RE.match(a["AVERAGE-BANDWIDTH"]) and DECIMAL_INTEGER_RE.match(a["BANDWIDTH"]) and \
                int(a["AVERAGE-BANDWIDTH"]) > int(a["BANDWIDTH"]):
            add(v.line, "bandwidth", "AVERAGE-BANDWIDTH exceeds BANDWIDTH (peak)")
        if "FRAME-RATE" in a and DECIMAL_FLOAT_RE.match(a["FRAME-RATE"]):
            frac = a["FRAME-RATE"].partition(".")[2]
            if len(frac) > 3:
                add(v.line, "frame-rate", f"FRAME-RATE {a['FRAME-RATE']} has more than three decimal places")
        for gtype in ("AUDIO", "VIDEO", "SUBTITLES", "CLOSED-CAPTIONS"):
            gid = a.get(gtype)
            if gid is None or gid == "NONE" and gtype == "CLOSED-CAPTIONS":
                continue
            if (gtype, gid) not in groups:
                add(v.line, "group", f"{gtype}={gid!r} names no EXT-X-MEDIA TYPE={gtype} GROUP-ID")

    # Media playlists.
    checked = {}
    for v in variants:
        if checker.check_exists(v.uri_line, v.uri, live, "media playlist"):
            if v.uri not in checked:
                checked[v.uri] = check_media_playlist(report, checker.resolve(v.uri),
                                                      _display(display, v.uri), live, media)
            v.playlist = checked[v.uri]
    for group in groups.values():
        for r in group:
            uri = r.attrs.get("URI")
            if uri is None:
                continue
            if checker.check_exists(r.line, uri, live, "rendition playlist"):
                if uri not in checked:
                    checked[uri] = check_media_playlist(report, checker.resolve(uri),
                                                        _display(display, uri), live, media)
                r.playlist = checked[uri]

    if media:
        check_variant_media(checker, variants, groups)
    check_bandwidth(checker, variants, groups)
    check_renditions_in_step(checker, [p for p in checked.values() if p is not None], media)


def _display(display, uri):
    return os.path.normpath(os.path.join(os.path.dirname(display), uri))


def peak_segment_bitrate(pl):
    """RFC 8216bis 4.4.6.2: largest bit rate of any run of contiguous segments
    lasting between 0.5 and 1.5 target durations.  None when unknown."""
    segs = [s for s in pl.complete_segments if s.duration]
    sizes = []
    for s in segs:
        try:
            sizes.append(os.path.getsize(os.path.join(os.path.dirname(pl.path), s.uri)))
        except OSError:
            return None
    if not segs or not pl.target:
        return None
    peak = 0.0
    for i in range(len(segs)):
        dur, size = 0.0, 0
        for j in range(i, len(segs)):
            dur += segs[j].duration
            size += sizes[j]
            if dur > 1.5 * pl.target:
                break
            if dur >= 0.5 * pl.target:
                peak = max(peak, size * 8 / dur)
    if peak == 0.0:  # a playlist shorter than half a target duration
        peak = sum(sizes) * 8 / sum(s.duration for s in segs)
    return peak


def check_bandwidth(checker, variants, groups):
    """Once every segment exists (all playlists ended) BANDWIDTH must cover the peak."""
    for v in variants:
        if v.playlist is None or not v.playlist.endlist:
            continue
        peak = peak_segment_bitrate(v.playlist)
        if peak is None:
            continue
        audio = 0.0
        gid = v.attrs.get("AUDIO")
        if gid is not None:
            for r in groups.get(("AUDIO", gid), []):
                if r.playlist is None or not r.playlist.endlist:
                    break
                p = peak_segment_bitrate(r.playlist)
                audio = max(audio, p or 0.0)
            else:
                pass
        total = peak + audio
        bw = v.attrs.get("BANDWIDTH")
        if bw and DECIMAL_INTEGER_RE.match(bw) and int(bw) < total:
            checker.add(v.line, "bandwidth",
                        f"BANDWIDTH {bw} is below the peak segment bit rate {total:.0f} bit/s "
                        f"(video {peak:.0f} + audio {audio:.0f}) of the finished stream")


def check_renditions_in_step(checker, playlists, media):
    """LAYOUT.md: segment numbers of all renditions advance together, and
    segment N of every rendition has the same PDT and media start time."""
    if len(playlists) > 1 and all(pl.endlist for pl in playlists):
        ranges = {}
        for pl in playlists:
            segs = pl.complete_segments
            if segs:
                ranges.setdefault((segs[0].msn, segs[-1].msn), []).append(
                    os.path.relpath(pl.path, checker.dir))
        if len(ranges) > 1:
            desc = "; ".join(f"{', '.join(names)}: segments {a}..{b}" for (a, b), names in sorted(ranges.items()))
            checker.add(0, "layout-renditions-in-step",
                        f"finished renditions do not hold the same segment numbers ({desc})")
    by_msn = {}
    for pl in playlists:
        for seg in pl.complete_segments:
            if seg.pdt is not None:
                by_msn.setdefault(seg.msn, []).append((pl, seg))
    for msn in sorted(by_msn):
        entries = by_msn[msn]
        ref_pl, ref = entries[0]
        for pl, seg in entries[1:]:
            if abs((seg.pdt - ref.pdt).total_seconds()) > 0.0005:
                checker.add(0, "layout-renditions-in-step",
                            f"segment {msn}: PDT {seg.pdt.isoformat()} in {os.path.relpath(pl.path, checker.dir)} "
                            f"differs from {ref.pdt.isoformat()} in {os.path.relpath(ref_pl.path, checker.dir)}")
                break
    if not media:
        return
    starts = {}
    max_audio_frame = 0.0
    for pl in playlists:
        info = getattr(pl, "media_info", None)
        if not info:
            continue
        if info["handler"] == "soun":
            max_audio_frame = max(max_audio_frame, info.get("max_sample_duration", 0.0))
        for msn, start in info["segment_starts"].items():
            starts.setdefault(msn, []).append((pl, start))
    tol = max_audio_frame + 0.001
    # The first segment of a timeline (the first listed, or one after
    # EXT-X-DISCONTINUITY) starts where each rendition's media starts: audio
    # that begins after the video's first keyframe cannot start earlier
    # (LAYOUT.md), so only an audio rendition starting late is excused there.
    timeline_starts = set()
    for pl in playlists:
        listed = [seg for seg in pl.segments if seg.msn is not None]
        if listed:
            timeline_starts.add(listed[0].msn)
        timeline_starts.update(seg.msn for seg in listed if seg.discontinuity)
    for msn in sorted(starts):
        entries = starts[msn]
        lo = min(entries, key=lambda e: e[1])
        hi = max(entries, key=lambda e: e[1])
        if (msn in timeline_starts and hi[0].media_info["handler"] == "soun"
                and lo[0].media_info["handler"] == "vide"):
            others = [e for e in entries if e[0].media_info["handler"] == "vide"]
            lo = min(others, key=lambda e: e[1])
            hi = max(others, key=lambda e: e[1])
        if hi[1] - lo[1] > tol:
            checker.add(0, "layout-renditions-in-step",
                        f"segment {msn} starts at media time {lo[1]:.4f} s in "
                        f"{os.path.relpath(lo[0].path, checker.dir)} but {hi[1]:.4f} s in "
                        f"{os.path.relpath(hi[0].path, checker.dir)} (more than one audio frame, {tol:.4f} s)")
            break


def check_variant_media(checker, variants, groups):
    """--media: CODECS, RESOLUTION and FRAME-RATE against the init segments."""
    for v in variants:
        a = v.attrs
        pls = [v.playlist] if v.playlist else []
        gid = a.get("AUDIO")
        if gid is not None:
            pls += [r.playlist for r in groups.get(("AUDIO", gid), []) if r.playlist]
        codecs = [c.strip().lower() for c in a.get("CODECS", "").split(",") if c.strip()]
        for pl in pls:
            info = getattr(pl, "media_info", None)
            if not info or not info.get("codec"):
                continue
            if "CODECS" in a and info["codec"].lower() not in codecs:
                checker.add(v.line, "codecs",
                            f"CODECS {a['CODECS']!r} lacks {info['codec']!r}, the format of "
                            f"{os.path.relpath(pl.path, checker.dir)}")
        info = getattr(v.playlist, "media_info", None) if v.playlist else None
        if not info or info["handler"] != "vide":
            continue
        res = a.get("RESOLUTION")
        if res and RESOLUTION_RE.match(res) and info.get("width"):
            if res != f"{info['width']}x{info['height']}":
                checker.add(v.line, "resolution",
                            f"RESOLUTION {res} but the init segment says {info['width']}x{info['height']}")
        fr = a.get("FRAME-RATE")
        if fr and DECIMAL_FLOAT_RE.match(fr) and info.get("frame_rate"):
            if abs(float(fr) - info["frame_rate"]) > 0.01 * info["frame_rate"]:
                checker.add(v.line, "frame-rate",
                            f"FRAME-RATE {fr} but samples last {1 / info['frame_rate']:.5f} s "
                            f"({info['frame_rate']:.3f} fps)")


# ---------------------------------------------------------------------------
# fMP4 files, --media (box parsing lives in isobmff.py)
# ---------------------------------------------------------------------------

def check_media_files(checker, pl):
    """--media: parse the init, segment and part files of one media playlist."""
    add = checker.add
    report = checker.report
    inits = {}
    for seg in pl.segments:
        if seg.map_uri and seg.map_uri not in inits:
            path = checker.resolve(seg.map_uri)
            try:
                with open(path, "rb") as f:
                    inits[seg.map_uri] = parse_init(f.read())
                report.media_files += 1
            except OSError:
                inits[seg.map_uri] = None      # reported by uri-exists
            except (BoxError, struct.error, IndexError) as e:
                add(seg.map_line, "media-init", f"{seg.map_uri}: {e}")
                inits[seg.map_uri] = None
    segment_starts = {}
    max_audio = 0.0
    sample_durs = []
    info_any = None
    prev = None          # (segment, info, end_time, last_seq)
    for seg in pl.segments:
        info = inits.get(seg.map_uri)
        if info is None:
            prev = None
            continue
        info_any = info_any or info
        ts = info["timescale"]
        is_video = info["handler"] == "vide"
        seg_frags = None
        if seg.complete:
            seg_frags = _load_media(checker, seg.line, seg.uri, info, segment=True)
            if seg_frags is not None:
                report.media_files += 1
                durs = [d for fr in seg_frags for d in fr.durations]
                sample_durs.extend(durs)
                if not is_video:
                    max_audio = max(max_audio, max(durs) / ts)
                start = seg_frags[0].tfdt
                segment_starts[seg.msn] = start / ts
                _check_fragment_chain(checker, seg.line, seg.uri, seg_frags)
                media_dur = sum(durs) / ts
                if seg.duration is not None and abs(media_dur - seg.duration) > EXTINF_MEDIA_TOLERANCE:
                    add(seg.extinf_line, "media-extinf",
                        f"{seg.uri}: EXTINF {seg.duration} but its samples last {media_dur:.6f} s")
                if is_video:
                    _check_starts_with_idr(checker, seg.line, seg.uri, seg_frags, info, "segment")
                if prev is not None and not seg.discontinuity and prev[0].msn + 1 == seg.msn:
                    _pseg, _pinfo, pend, pseq, pmax = prev
                    tol = max(pmax, max(durs))
                    if abs(start - pend) > tol:
                        add(seg.line, "media-tfdt",
                            f"{seg.uri}: tfdt {start} but segment {seg.msn - 1} ended at {pend} "
                            f"(gap {(start - pend) / ts * 1000:+.3f} ms, more than one sample)")
                    if seg_frags[0].seq <= pseq:
                        add(seg.line, "media-mfhd",
                            f"{seg.uri}: mfhd sequence_number {seg_frags[0].seq} does not increase "
                            f"after {pseq} in segment {seg.msn - 1}")
                end = seg_frags[-1].tfdt + sum(seg_frags[-1].durations)
                prev = (seg, info, end, seg_frags[-1].seq, max(durs))
            else:
                prev = None
        # Parts.
        part_frags_all = []
        part_ok = True
        for i, part in enumerate(seg.parts):
            frags = _load_media(checker, part.line, part.uri, info, segment=False)
            if frags is None:
                part_ok = False
                continue
            report.media_files += 1
            _check_fragment_chain(checker, part.line, part.uri, frags)
            pdur = sum(d for fr in frags for d in fr.durations) / ts
            if part.duration is not None and abs(pdur - part.duration) > EXTINF_MEDIA_TOLERANCE:
                add(part.line, "media-part-duration",
                    f"{part.uri}: DURATION {part.duration} but its samples last {pdur:.6f} s")
            if part.independent:
                if not is_sync(frags[0].flags[0]):
                    add(part.line, "media-independent",
                        f"{part.uri}: INDEPENDENT=YES but its first sample is not a sync sample")
                elif is_video:
                    _check_starts_with_idr(checker, part.line, part.uri, frags, info, "INDEPENDENT part")
            if is_video and i == 0 and not seg.complete:
                _check_starts_with_idr(checker, part.line, part.uri, frags, info, "first part of a segment")
            if part_frags_all:
                pend = part_frags_all[-1].tfdt + sum(part_frags_all[-1].durations)
                if abs(frags[0].tfdt - pend) > max(frags[0].durations[0], 1):
                    add(part.line, "media-tfdt",
                        f"{part.uri}: tfdt {frags[0].tfdt} but the previous part ended at {pend}")
            part_frags_all.extend(frags)
        if seg_frags is not None and seg.parts and part_ok and part_frags_all:
            s_count = sum(len(f.sizes) for f in seg_frags)
            p_count = sum(len(f.sizes) for f in part_frags_all)
            if s_count != p_count or seg_frags[0].tfdt != part_frags_all[0].tfdt:
                add(seg.line, "layout-segment-parts",
                    f"{seg.uri} ({s_count} samples from tfdt {seg_frags[0].tfdt}) is not the "
                    f"concatenation of its parts ({p_count} samples from tfdt {part_frags_all[0].tfdt})")
    if info_any is not None:
        media_info = dict(info_any)
        media_info["segment_starts"] = segment_starts
        media_info["max_sample_duration"] = max_audio
        if info_any["handler"] == "vide" and sample_durs:
            durs = sorted(sample_durs)
            median = durs[len(durs) // 2]
            media_info["frame_rate"] = info_any["timescale"] / median if median else None
        pl.media_info = media_info


def _load_media(checker, line, uri, info, segment):
    path = checker.resolve(uri)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None                      # reported by uri-exists
    try:
        types, frags = parse_fragments(data, info)
    except (BoxError, struct.error, IndexError) as e:
        checker.add(line, "media-boxes", f"{uri}: {e}")
        return None
    allowed = {b"styp", b"emsg", b"moof", b"mdat", b"prft", b"sidx", b"free", b"skip"}
    odd = [t.decode("latin-1") for t in types if t not in allowed]
    if odd:
        checker.add(line, "media-boxes", f"{uri}: unexpected top-level boxes {odd}")
    if segment and (not types or types[0] != b"styp"):
        checker.add(line, "layout-styp", f"{uri}: segment does not start with styp (LAYOUT.md)")
    if not frags:
        checker.add(line, "media-boxes", f"{uri}: no moof/mdat")
        return None
    for fr in frags:
        fr.data = data
    return frags


def _check_fragment_chain(checker, line, uri, frags):
    for a, b in zip(frags, frags[1:]):
        end = a.tfdt + sum(a.durations)
        if abs(b.tfdt - end) > max(max(a.durations), 1):
            checker.add(line, "media-tfdt",
                        f"{uri}: fragment tfdt {b.tfdt} but the previous fragment ended at {end}")
        if b.seq <= a.seq:
            checker.add(line, "media-mfhd",
                        f"{uri}: mfhd sequence_number {b.seq} does not increase after {a.seq}")


def _check_starts_with_idr(checker, line, uri, frags, info, what):
    fr = frags[0]
    if not is_sync(fr.flags[0]):
        checker.add(line, "media-sync",
                    f"{uri}: first video sample of the {what} is not a sync sample "
                    f"(sample_flags 0x{fr.flags[0]:08x})")
    data = getattr(fr, "data", None)
    if data is None or not info["nal_length_size"]:
        return
    off, size = fr.sample_offsets[0], fr.sizes[0]
    try:
        types = nal_types(data[off:off + size], info["nal_length_size"])
    except BoxError as e:
        checker.add(line, "media-nal", f"{uri}: first sample: {e}")
        return
    if 5 not in types:
        checker.add(line, "media-idr",
                    f"{uri}: first video sample of the {what} holds no IDR NAL unit (NAL types {types})")


# ---------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------

def check_folder(path, live=False, media=False):
    """Check DIR/index.m3u8 and everything it references (or one playlist file)."""
    report = Report()
    if os.path.isdir(path):
        index = os.path.join(path, "index.m3u8")
        display = index
    else:
        index = display = path
    if not os.path.exists(index):
        report.add(display, 0, "uri-exists", "playlist does not exist")
        return report
    try:
        with open(index, "rb") as f:
            head = f.read()
    except OSError as e:
        report.add(display, 0, "uri-exists", f"cannot read: {e.strerror}")
        return report
    is_multivariant = re.search(rb"^#EXT-X-(STREAM-INF|MEDIA):", head, re.M) is not None or \
        (re.search(rb"^#EXTINF|^#EXT-X-TARGETDURATION|^#EXT-X-PART:", head, re.M) is None)
    if is_multivariant:
        check_multivariant(report, index, display, live, media)
    else:
        check_media_playlist(report, index, display, live, media)
    return report


def main(argv=None):
    ap = argparse.ArgumentParser(description="Check an llhlssink folder against RFC 8216bis.")
    ap.add_argument("dir", help="folder with index.m3u8, or one playlist file")
    ap.add_argument("--live", action="store_true",
                    help="the folder is being written: retry briefly for files that race")
    ap.add_argument("--media", action="store_true",
                    help="also parse the fMP4 init/segment/part files")
    args = ap.parse_args(argv)
    report = check_folder(args.dir, live=args.live, media=args.media)
    if report.ok:
        print(report.summary(args.dir))
        return 0
    for v in report.violations:
        print(v)
    print(f"hlscheck: {len(report.violations)} violation(s) in {args.dir}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
