# isobmff.py — the small ISO BMFF (fragmented MP4 / CMAF) reader behind hlscheck --media.
# Parses init segments (ftyp+moov) and media fragments (moof+mdat) into plain data.
"""ISO/IEC 14496-12 box parsing for hlscheck: just enough of CMAF to check
sync samples, IDR NAL units, tfdt continuity and sample durations."""

import struct
from dataclasses import dataclass


class BoxError(ValueError):
    pass


CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"mvex", b"moof", b"traf",
              b"edts", b"dinf", b"udta"}


def iter_boxes(data, start, end, top=False):
    """Yield (type, box_start, payload_start, box_end); raise BoxError when malformed."""
    pos = start
    while pos < end:
        if end - pos < 8:
            raise BoxError(f"{end - pos} stray bytes at offset {pos}")
        size, typ = struct.unpack_from(">I4s", data, pos)
        hdr = 8
        if size == 1:
            if end - pos < 16:
                raise BoxError(f"truncated largesize header at offset {pos}")
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            hdr = 16
        elif size == 0:
            if not top:
                raise BoxError(f"box {typ!r} with size 0 inside a container at offset {pos}")
            size = end - pos
        if size < hdr:
            raise BoxError(f"box {typ!r} at offset {pos} has size {size} < header")
        if pos + size > end:
            raise BoxError(f"box {typ!r} at offset {pos} (size {size}) runs past its parent/file end {end}")
        if not all(32 <= ch < 127 for ch in typ):
            raise BoxError(f"box type {typ!r} at offset {pos} is not printable")
        yield typ, pos, pos + hdr, pos + size
        pos += size


def find_box(data, start, end, path):
    """Return (payload_start, end) of the first box along path (list of types) or None."""
    for typ, _bs, ps, be in iter_boxes(data, start, end):
        if typ == path[0]:
            if len(path) == 1:
                return ps, be
            return find_box(data, ps, be, path[1:])
    return None


def walk_all(data, start, end):
    """Validate the whole box tree (containers recursively)."""
    for typ, _bs, ps, be in iter_boxes(data, start, end, top=(start == 0)):
        if typ in CONTAINERS:
            walk_all(data, ps, be)


def parse_init(data):
    """Parse ftyp+moov; return a dict describing the (single) track."""
    walk_all(data, 0, len(data))
    top = [t for t, *_ in iter_boxes(data, 0, len(data), top=True)]
    if not top or top[0] != b"ftyp":
        raise BoxError(f"init segment does not start with ftyp (boxes: {[t.decode() for t in top]})")
    if b"moov" not in top:
        raise BoxError("init segment has no moov")
    if b"moof" in top or b"mdat" in top:
        raise BoxError("init segment carries media (moof/mdat)")
    moov = find_box(data, 0, len(data), [b"moov"])
    info = {"tracks": 0}
    traks = [(ps, be) for t, _b, ps, be in iter_boxes(data, *moov) if t == b"trak"]
    if len(traks) != 1:
        raise BoxError(f"init segment has {len(traks)} tracks; a CMAF header has exactly one")
    ps, be = traks[0]
    tkhd = find_box(data, ps, be, [b"tkhd"])
    if not tkhd:
        raise BoxError("trak has no tkhd")
    v = data[tkhd[0]]
    info["track_id"] = struct.unpack_from(">I", data, tkhd[0] + (20 if v == 1 else 12))[0]
    mdhd = find_box(data, ps, be, [b"mdia", b"mdhd"])
    if not mdhd:
        raise BoxError("trak has no mdia/mdhd")
    v = data[mdhd[0]]
    info["timescale"] = struct.unpack_from(">I", data, mdhd[0] + (20 if v == 1 else 12))[0]
    if info["timescale"] == 0:
        raise BoxError("mdhd timescale is 0")
    hdlr = find_box(data, ps, be, [b"mdia", b"hdlr"])
    if not hdlr:
        raise BoxError("trak has no hdlr")
    info["handler"] = data[hdlr[0] + 8:hdlr[0] + 12].decode("latin-1")
    stsd = find_box(data, ps, be, [b"mdia", b"minf", b"stbl", b"stsd"])
    if not stsd:
        raise BoxError("trak has no stsd")
    entries = list(iter_boxes(data, stsd[0] + 8, stsd[1]))
    if not entries:
        raise BoxError("stsd has no sample entry")
    etype, _b, eps, ebe = entries[0]
    info["entry"] = etype.decode("latin-1")
    info["nal_length_size"] = None
    info["codec"] = None
    if etype in (b"avc1", b"avc3"):
        info["width"], info["height"] = struct.unpack_from(">HH", data, eps + 24)
        avcc = find_box(data, eps + 78, ebe, [b"avcC"])
        if not avcc:
            raise BoxError(f"{etype.decode()} sample entry has no avcC")
        rec = data[avcc[0]:avcc[1]]
        if len(rec) < 7 or rec[0] != 1:
            raise BoxError("malformed avcC")
        info["nal_length_size"] = (rec[4] & 3) + 1
        info["codec"] = f"{etype.decode()}.{rec[1]:02X}{rec[2]:02X}{rec[3]:02X}"
    elif etype == b"mp4a":
        esds = find_box(data, eps + 28, ebe, [b"esds"])
        if esds:
            info["codec"] = _mp4a_codec(data[esds[0] + 4:esds[1]])
    elif etype == b"Opus":
        info["codec"] = "opus"
    trex = None
    mvex = find_box(data, *moov, [b"mvex"])
    if not mvex:
        raise BoxError("moov has no mvex (not a fragmented MP4 header)")
    for t, _b, tps, _tbe in iter_boxes(data, *mvex):
        if t == b"trex":
            tid, _sdi, dur, size, flags = struct.unpack_from(">IIIII", data, tps + 4)
            if tid == info["track_id"]:
                trex = {"duration": dur, "size": size, "flags": flags}
    if trex is None:
        raise BoxError(f"mvex has no trex for track {info['track_id']}")
    info["trex"] = trex
    return info


def _read_descriptor(buf, pos):
    tag = buf[pos]
    pos += 1
    size = 0
    for _ in range(4):
        b = buf[pos]
        pos += 1
        size = (size << 7) | (b & 0x7F)
        if not b & 0x80:
            break
    return tag, pos, pos + size


def _mp4a_codec(es):
    """CODECS string from an esds ES_Descriptor."""
    try:
        tag, p, end = _read_descriptor(es, 0)
        if tag != 3:
            return None
        flags = es[p + 2]
        p += 3
        if flags & 0x80:
            p += 2
        if flags & 0x40:
            p += 1 + es[p]
        if flags & 0x20:
            p += 2
        tag, p, dend = _read_descriptor(es, p)
        if tag != 4:
            return None
        oti = es[p]
        if oti != 0x40:
            return f"mp4a.{oti:02X}"
        p += 13
        tag, p, _ = _read_descriptor(es, p)
        if tag != 5:
            return "mp4a.40"
        aot = es[p] >> 3
        if aot == 31:
            aot = 32 + (((es[p] & 7) << 3) | (es[p + 1] >> 5))
        return f"mp4a.40.{aot}"
    except IndexError:
        return None


@dataclass
class Fragment:
    seq: int
    tfdt: int
    durations: list
    sizes: list
    flags: list
    sample_offsets: list     # absolute file offsets of each sample


def parse_fragments(data, info):
    """Parse a CMAF segment or partial segment; return (top box types, [Fragment])."""
    walk_all(data, 0, len(data))
    tops = list(iter_boxes(data, 0, len(data), top=True))
    types = [t for t, *_ in tops]
    frags = []
    trex = info["trex"]
    for idx, (typ, bs, ps, be) in enumerate(tops):
        if typ != b"moof":
            continue
        if idx + 1 >= len(tops) or tops[idx + 1][0] != b"mdat":
            raise BoxError(f"moof at offset {bs} is not followed by an mdat")
        mdat_ps, mdat_be = tops[idx + 1][2], tops[idx + 1][3]
        mfhd = find_box(data, ps, be, [b"mfhd"])
        if not mfhd:
            raise BoxError(f"moof at offset {bs} has no mfhd")
        seq = struct.unpack_from(">I", data, mfhd[0] + 4)[0]
        trafs = [(tps, tbe) for t, _b, tps, tbe in iter_boxes(data, ps, be) if t == b"traf"]
        ours = []
        for tps, tbe in trafs:
            tfhd = find_box(data, tps, tbe, [b"tfhd"])
            if not tfhd:
                raise BoxError(f"traf at offset {tps} has no tfhd")
            tf_flags = struct.unpack_from(">I", data, tfhd[0])[0] & 0xFFFFFF
            tid = struct.unpack_from(">I", data, tfhd[0] + 4)[0]
            if tid != info["track_id"]:
                raise BoxError(f"traf for track {tid}, but the init segment describes track {info['track_id']}")
            ours.append((tps, tbe, tfhd, tf_flags))
        if len(ours) != 1:
            raise BoxError(f"moof at offset {bs} has {len(ours)} trafs for track {info['track_id']}")
        tps, tbe, tfhd, tf_flags = ours[0]
        p = tfhd[0] + 8
        base = bs
        if tf_flags & 0x01:
            base = struct.unpack_from(">Q", data, p)[0]
            p += 8
        if tf_flags & 0x02:
            p += 4
        d_dur, d_size, d_flags = trex["duration"], trex["size"], trex["flags"]
        if tf_flags & 0x08:
            d_dur = struct.unpack_from(">I", data, p)[0]
            p += 4
        if tf_flags & 0x10:
            d_size = struct.unpack_from(">I", data, p)[0]
            p += 4
        if tf_flags & 0x20:
            d_flags = struct.unpack_from(">I", data, p)[0]
            p += 4
        tfdt = find_box(data, tps, tbe, [b"tfdt"])
        if not tfdt:
            raise BoxError(f"traf at offset {tps} has no tfdt")
        v = data[tfdt[0]]
        dt = struct.unpack_from(">Q" if v == 1 else ">I", data, tfdt[0] + 4)[0]
        frag = Fragment(seq, dt, [], [], [], [])
        next_off = None
        truns = [(rps, rbe) for t, _b, rps, rbe in iter_boxes(data, tps, tbe) if t == b"trun"]
        if not truns:
            raise BoxError(f"traf at offset {tps} has no trun")
        for rps, rbe in truns:
            vflags = struct.unpack_from(">I", data, rps)[0]
            r_flags = vflags & 0xFFFFFF   # version 0/1 differ only in the sign of cts offsets
            count = struct.unpack_from(">I", data, rps + 4)[0]
            q = rps + 8
            if r_flags & 0x01:
                off = base + struct.unpack_from(">i", data, q)[0]
                q += 4
            else:
                off = next_off if next_off is not None else base
            first_flags = None
            if r_flags & 0x04:
                first_flags = struct.unpack_from(">I", data, q)[0]
                q += 4
            per = sum(4 for bit in (0x100, 0x200, 0x400, 0x800) if r_flags & bit)
            if q + per * count > rbe:
                raise BoxError(f"trun at offset {rps} declares {count} samples but is too short")
            for i in range(count):
                dur, size, flags = d_dur, d_size, d_flags
                if r_flags & 0x100:
                    dur = struct.unpack_from(">I", data, q)[0]
                    q += 4
                if r_flags & 0x200:
                    size = struct.unpack_from(">I", data, q)[0]
                    q += 4
                if r_flags & 0x400:
                    flags = struct.unpack_from(">I", data, q)[0]
                    q += 4
                elif i == 0 and first_flags is not None:
                    flags = first_flags
                if r_flags & 0x800:
                    q += 4
                if off < mdat_ps or off + size > mdat_be:
                    raise BoxError(f"sample {len(frag.sizes)} of the moof at offset {bs} lies "
                                   f"outside its mdat ({off}+{size} not in [{mdat_ps}, {mdat_be}])")
                frag.durations.append(dur)
                frag.sizes.append(size)
                frag.flags.append(flags)
                frag.sample_offsets.append(off)
                off += size
            next_off = off
        if not frag.sizes:
            raise BoxError(f"moof at offset {bs} has no samples")
        frags.append(frag)
    return types, frags


def is_sync(flags):
    return not (flags >> 16) & 1


def nal_types(sample, length_size):
    """Return the NAL unit types of one AVC sample; raise BoxError when the lengths are broken."""
    types = []
    p = 0
    while p < len(sample):
        if p + length_size > len(sample):
            raise BoxError("truncated NAL length")
        n = int.from_bytes(sample[p:p + length_size], "big")
        p += length_size
        if n == 0 or p + n > len(sample):
            raise BoxError(f"NAL length {n} runs past the sample ({len(sample)} bytes)")
        types.append(sample[p] & 0x1F)
        p += n
    return types
