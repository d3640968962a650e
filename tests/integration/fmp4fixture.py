# fmp4fixture.py — builds small hand-made LL-HLS folders (playlists + real fMP4 boxes)
# for hlscheck's self-test; every field is explicit so a test can break exactly one thing.
"""A synthetic llhlssink folder, laid out as plugins/llhls/LAYOUT.md says.

Fixture(...) describes renditions as plain data (segments -> parts -> samples);
a test mutates that data or the written text, then runs hlscheck on it.
"""

import datetime
import os
import struct


def box(typ, payload):
    return struct.pack(">I4s", 8 + len(payload), typ) + payload


def fullbox(typ, version, flags, payload):
    return box(typ, struct.pack(">I", (version << 24) | flags) + payload)


SYNC = 0x02000000          # sample_depends_on = 2 (I frame), sync
NON_SYNC = 0x01010000      # depends on others, sample_is_non_sync_sample = 1


def init_segment(track_id, timescale, kind, width=640, height=360):
    ftyp = box(b"ftyp", b"cmfc" + struct.pack(">I", 0) + b"iso6cmfcdash")
    mvhd = fullbox(b"mvhd", 0, 0, struct.pack(">IIII", 0, 0, 1000, 0) + struct.pack(">IH", 0x00010000, 0x0100)
                   + b"\0" * 10 + struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
                   + b"\0" * 24 + struct.pack(">I", track_id + 1))
    tkhd = fullbox(b"tkhd", 0, 3, struct.pack(">IIIII", 0, 0, track_id, 0, 0) + b"\0" * 8
                   + struct.pack(">hhhH", 0, 0, 0x0100 if kind == "soun" else 0, 0)
                   + struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
                   + struct.pack(">II", (width << 16) if kind == "vide" else 0,
                                 (height << 16) if kind == "vide" else 0))
    mdhd = fullbox(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, timescale, 0, 0x55C4, 0))
    hdlr = fullbox(b"hdlr", 0, 0, struct.pack(">I4s", 0, kind.encode()) + b"\0" * 12 + b"fixture\0")
    if kind == "vide":
        avcc = box(b"avcC", bytes([1, 0x42, 0xC0, 0x1E, 0xFF, 0xE0, 0x00]))
        entry = box(b"avc1", b"\0" * 6 + struct.pack(">H", 1) + b"\0" * 16
                    + struct.pack(">HHIIIH", width, height, 0x00480000, 0x00480000, 0, 1)
                    + b"\0" * 32 + struct.pack(">Hh", 0x18, -1) + avcc)
        media_header = fullbox(b"vmhd", 0, 1, b"\0" * 8)
    else:
        dsi = bytes([0x12, 0x10])  # AAC LC, 44.1 kHz, stereo
        dec_specific = bytes([0x05, len(dsi)]) + dsi
        dec_config = bytes([0x04, 13 + len(dec_specific), 0x40, 0x15, 0, 0, 0]) + \
            struct.pack(">II", 128000, 128000) + dec_specific
        sl = bytes([0x06, 0x01, 0x02])
        es = bytes([0x03, 3 + len(dec_config) + len(sl), 0, 1, 0]) + dec_config + sl
        esds = fullbox(b"esds", 0, 0, es)
        entry = box(b"mp4a", b"\0" * 6 + struct.pack(">H", 1) + b"\0" * 8
                    + struct.pack(">HHHHI", 2, 16, 0, 0, 44100 << 16) + esds)
        media_header = fullbox(b"smhd", 0, 0, b"\0" * 4)
    stsd = fullbox(b"stsd", 0, 0, struct.pack(">I", 1) + entry)
    empty = lambda t: fullbox(t, 0, 0, struct.pack(">I", 0))
    stbl = box(b"stbl", stsd + empty(b"stts") + empty(b"stsc")
               + fullbox(b"stsz", 0, 0, struct.pack(">II", 0, 0)) + empty(b"stco"))
    dinf = box(b"dinf", fullbox(b"dref", 0, 0, struct.pack(">I", 1) + fullbox(b"url ", 0, 1, b"")))
    minf = box(b"minf", media_header + dinf + stbl)
    mdia = box(b"mdia", mdhd + hdlr + minf)
    trak = box(b"trak", tkhd + mdia)
    trex = fullbox(b"trex", 0, 0, struct.pack(">IIIII", track_id, 1, 0, 0, 0))
    moov = box(b"moov", mvhd + trak + box(b"mvex", trex))
    return ftyp + moov


def fragment(track_id, seq, tfdt, samples):
    """moof + mdat for samples [{'dur', 'flags', 'data'}]."""
    count = len(samples)
    entries = b"".join(struct.pack(">III", s["dur"], len(s["data"]), s["flags"]) for s in samples)
    trun_payload_len = 4 + 4 + len(entries)
    moof_len = 8 + (8 + 4 + 4) + 8 + (8 + 4 + 4) + (8 + 4 + 8) + (8 + 4 + trun_payload_len)
    data_offset = moof_len + 8
    mfhd = fullbox(b"mfhd", 0, 0, struct.pack(">I", seq))
    tfhd = fullbox(b"tfhd", 0, 0x020000, struct.pack(">I", track_id))
    tfdt_box = fullbox(b"tfdt", 1, 0, struct.pack(">Q", tfdt))
    trun = fullbox(b"trun", 0, 0x000701, struct.pack(">Ii", count, data_offset) + entries)
    moof = box(b"moof", mfhd + box(b"traf", tfhd + tfdt_box + trun))
    assert len(moof) == moof_len
    return moof + box(b"mdat", b"".join(s["data"] for s in samples))


STYP = box(b"styp", b"msdh" + struct.pack(">I", 0) + b"msdhmsixcmfs")


def video_sample(idr):
    nal = bytes([0x65 if idr else 0x41]) + b"\x88" * 7
    return struct.pack(">I", len(nal)) + nal


class Rendition:
    def __init__(self, name, kind, timescale, sample_dur, samples_per_part, parts_per_segment):
        self.name = name
        self.kind = kind
        self.timescale = timescale
        self.track_id = 1
        self.segments = []   # [[part: [sample dict]]]
        self.sample_dur = sample_dur
        self.samples_per_part = samples_per_part
        self.parts_per_segment = parts_per_segment
        self.tfdt_shift = {}           # msn -> ticks added to the segment and its parts
        self.extinf_override = {}      # msn -> text
        self.pdt_shift = {}            # msn -> seconds

    def add_segment(self, n_parts=None):
        parts = []
        for p in range(n_parts if n_parts is not None else self.parts_per_segment):
            samples = []
            for i in range(self.samples_per_part):
                first = p == 0 and i == 0
                if self.kind == "vide":
                    samples.append({"dur": self.sample_dur, "flags": SYNC if first else NON_SYNC,
                                    "data": video_sample(first)})
                else:
                    samples.append({"dur": self.sample_dur, "flags": SYNC, "data": b"\x21" * 6})
            parts.append(samples)
        self.segments.append(parts)


class Fixture:
    """A folder with video_0 (H.264, 30 fps) and audio_0 (AAC-like, 20 ms frames).

    target 2 s, parts 0.2 s; segments 0..complete-1 are complete, then one
    in-progress segment with `in_progress` parts (live) or nothing (vod)."""

    def __init__(self, complete=4, in_progress=2, vod=False, media_sequence=0):
        self.vod = vod
        self.media_sequence = media_sequence
        self.complete = complete
        self.target = 2
        self.part_target = 0.2
        self.start = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
        self.renditions = [Rendition("video_0", "vide", 90000, 3000, 6, 10),
                           Rendition("audio_0", "soun", 1000, 20, 10, 10)]
        for r in self.renditions:
            for _ in range(complete):
                r.add_segment()
            if not vod and in_progress:
                r.add_segment(in_progress)
        self.parts_window = 3          # complete segments that still list parts
        self.version = 6
        self.server_control = "CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.6,CAN-SKIP-UNTIL=12.0"
        self.stream_inf = ('BANDWIDTH=2000000,AVERAGE-BANDWIDTH=1500000,CODECS="avc1.42C01E,mp4a.40.2",'
                           'RESOLUTION=640x360,FRAME-RATE=30.000,AUDIO="audio"')
        self.media = 'TYPE=AUDIO,GROUP-ID="audio",NAME="audio_0",DEFAULT=YES,AUTOSELECT=YES,URI="audio_0/media.m3u8"'

    def seconds(self, r, samples):
        return sum(s["dur"] for s in samples) / r.timescale

    def write(self, root):
        os.makedirs(root, exist_ok=True)
        with open(os.path.join(root, "index.m3u8"), "w") as f:
            f.write("#EXTM3U\n#EXT-X-VERSION:%d\n#EXT-X-INDEPENDENT-SEGMENTS\n" % self.version)
            f.write("#EXT-X-MEDIA:%s\n" % self.media)
            f.write("#EXT-X-STREAM-INF:%s\nvideo_0/media.m3u8\n" % self.stream_inf)
        for r in self.renditions:
            self._write_rendition(root, r)

    def _write_rendition(self, root, r):
        d = os.path.join(root, r.name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "init-0.mp4"), "wb") as f:
            f.write(init_segment(r.track_id, r.timescale, r.kind))
        live = not self.vod
        lines = ["#EXTM3U", "#EXT-X-VERSION:%d" % self.version,
                 "#EXT-X-TARGETDURATION:%d" % self.target]
        if live:
            lines.append("#EXT-X-SERVER-CONTROL:" + self.server_control)
            lines.append("#EXT-X-PART-INF:PART-TARGET=%.3f" % self.part_target)
        else:
            lines.append("#EXT-X-PLAYLIST-TYPE:VOD")
        lines += ["#EXT-X-MEDIA-SEQUENCE:%d" % self.media_sequence,
                  "#EXT-X-DISCONTINUITY-SEQUENCE:0", '#EXT-X-MAP:URI="init-0.mp4"']
        tfdt = 0
        seq = 1
        t = 0.0
        n = len(r.segments)
        for idx, parts in enumerate(r.segments):
            msn = self.media_sequence + idx
            is_complete = idx < self.complete
            shift = r.tfdt_shift.get(msn, 0)
            pdt = self.start + datetime.timedelta(seconds=t + r.pdt_shift.get(msn, 0))
            lines.append("#EXT-X-PROGRAM-DATE-TIME:" + pdt.strftime("%Y-%m-%dT%H:%M:%S.")
                         + "%03dZ" % (pdt.microsecond // 1000))
            list_parts = live and (not is_complete or idx >= self.complete - self.parts_window)
            seg_bytes = STYP
            ptfdt = tfdt + shift
            for p, samples in enumerate(parts):
                frag = fragment(r.track_id, seq, ptfdt, samples)
                seq += 1
                name = "part-%d.%d.m4s" % (msn, p)
                with open(os.path.join(d, name), "wb") as f:
                    f.write(frag)
                seg_bytes += frag
                ptfdt += sum(s["dur"] for s in samples)
                if list_parts:
                    indep = ",INDEPENDENT=YES" if samples[0]["flags"] == SYNC else ""
                    lines.append('#EXT-X-PART:DURATION=%.5f,URI="%s"%s'
                                 % (self.seconds(r, samples), name, indep))
            dur = sum(self.seconds(r, s) for s in parts)
            if is_complete:
                with open(os.path.join(d, "seg-%d.m4s" % msn), "wb") as f:
                    f.write(seg_bytes)
                lines.append("#EXTINF:%s," % r.extinf_override.get(msn, "%.5f" % dur))
                lines.append("seg-%d.m4s" % msn)
            tfdt += sum(s["dur"] for part in parts for s in part)
            t += dur
        if live:
            last = n - 1 + self.media_sequence
            if self.complete == n:
                hint = "part-%d.0.m4s" % (last + 1)
            else:
                hint = "part-%d.%d.m4s" % (last, len(r.segments[-1]))
            lines.append('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="%s"' % hint)
        else:
            lines.append("#EXT-X-ENDLIST")
        with open(os.path.join(d, "media.m3u8"), "w") as f:
            f.write("\n".join(lines) + "\n")
