"""Just enough ISO-BMFF reading to cut a fragmented MP4 into CMAF segments and name its codec.

Hand-written on purpose: the job needs box offsets, tfdt/trun timing and the codec
configuration records, which the Python MP4 libraries either hide or parse only partly.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"mvex", b"moof", b"traf", b"edts", b"dinf"}


class SampleSummary(NamedTuple):
    frames: int
    starts_with_key: bool
    payload_bytes: int


@dataclass(frozen=True)
class Box:
    type: bytes
    start: int  # offset of the box header in the buffer
    header: int
    end: int

    @property
    def payload(self) -> slice:
        return slice(self.start + self.header, self.end)


def boxes(buf: bytes | memoryview, start: int = 0, end: int | None = None) -> Iterator[Box]:
    end = len(buf) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", buf, pos)
        header = 8
        if size == 1:
            size = struct.unpack_from(">Q", buf, pos + 8)[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise ValueError(f"broken box {kind!r} at {pos}")
        yield Box(kind, pos, header, pos + size)
        pos += size


def find(buf: bytes, path: list[bytes], start: int = 0, end: int | None = None) -> Box | None:
    """First box along ``path`` (e.g. [b"moov", b"trak", b"mdia", b"mdhd"])."""
    for box in boxes(buf, start, end):
        if box.type == path[0]:
            if len(path) == 1:
                return box
            inner = find(buf, path[1:], box.start + box.header, box.end)
            if inner is not None:
                return inner
    return None


def timescale(init: bytes) -> int:
    mdhd = find(init, [b"moov", b"trak", b"mdia", b"mdhd"])
    if mdhd is None:
        raise ValueError("no mdhd in init segment")
    p = mdhd.start + mdhd.header
    version = init[p]
    return struct.unpack_from(">I", init, p + (20 if version == 1 else 12))[0]


def _trex_default_duration(init: bytes) -> int:
    trex = find(init, [b"moov", b"mvex", b"trex"])
    if trex is None:
        return 0
    return struct.unpack_from(">I", init, trex.start + trex.header + 12)[0]


@dataclass(frozen=True)
class Fragment:
    start: int  # byte offset of the first box of the fragment (styp/moof)
    end: int  # byte offset after its mdat
    decode_time: int  # tfdt, in the track timescale
    duration: int  # sum of sample durations
    samples: int


def read_layout(path: str | os.PathLike) -> tuple[bytes, list[Fragment]]:
    """The init segment (everything up to the end of moov) and every moof+mdat pair of a fragmented MP4.

    Reads box headers and moof boxes only, so a rendition of any length is never loaded whole.
    """
    init = b""
    frags: list[Fragment] = []
    default_trex = 0
    pending_start: int | None = None
    current: dict | None = None
    with open(path, "rb") as f:
        size_total = os.fstat(f.fileno()).st_size
        pos = 0
        while pos + 8 <= size_total:
            f.seek(pos)
            head = f.read(16)
            size, kind = struct.unpack_from(">I4s", head)
            header = 8
            if size == 1:
                size, header = struct.unpack_from(">Q", head, 8)[0], 16
            elif size == 0:
                size = size_total - pos
            if size < header or pos + size > size_total:
                raise ValueError(f"broken box {kind!r} at {pos}")
            if kind in (b"ftyp", b"moov") and not frags and current is None:
                f.seek(pos)
                init += f.read(size)
                if kind == b"moov":
                    default_trex = _trex_default_duration(init)
            elif kind in (b"styp", b"prft", b"emsg") and pending_start is None:
                pending_start = pos
            elif kind == b"moof":
                f.seek(pos)
                moof = f.read(size)
                current = _parse_moof(moof, Box(kind, 0, header, size), default_trex)
                current["start"] = pending_start if pending_start is not None else pos
                pending_start = None
            elif kind == b"mdat" and current is not None:
                frags.append(
                    Fragment(current["start"], pos + size, current["tfdt"], current["duration"], current["samples"])
                )
                current = None
            pos += size
    return init, frags


def _parse_moof(buf: bytes, moof: Box, default_trex: int) -> dict:
    traf = find(buf, [b"traf"], moof.start + moof.header, moof.end)
    if traf is None:
        raise ValueError("moof without traf")
    tfdt = 0
    default_duration = default_trex
    duration = samples = 0
    for box in boxes(buf, traf.start + traf.header, traf.end):
        p = box.start + box.header
        if box.type == b"tfhd":
            flags = int.from_bytes(buf[p + 1 : p + 4], "big")
            q = p + 8  # version/flags + track_ID
            if flags & 0x01:
                q += 8
            if flags & 0x02:
                q += 4
            if flags & 0x08:
                default_duration = struct.unpack_from(">I", buf, q)[0]
        elif box.type == b"tfdt":
            tfdt = struct.unpack_from(">Q" if buf[p] == 1 else ">I", buf, p + 4)[0]
        elif box.type == b"trun":
            flags = int.from_bytes(buf[p + 1 : p + 4], "big")
            count = struct.unpack_from(">I", buf, p + 4)[0]
            q = p + 8 + (4 if flags & 0x01 else 0) + (4 if flags & 0x04 else 0)
            per = sum(4 for bit in (0x100, 0x200, 0x400, 0x800) if flags & bit)
            for i in range(count):
                if flags & 0x100:
                    duration += struct.unpack_from(">I", buf, q + i * per)[0]
                else:
                    duration += default_duration
            samples += count
    return {"tfdt": tfdt, "duration": duration, "samples": samples}


def sample_entry(init: bytes) -> tuple[bytes, bytes]:
    """(sample entry type, bytes of its first configuration box payload) from an init segment."""
    stsd = find(init, [b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd"])
    if stsd is None:
        raise ValueError("no stsd in init segment")
    entries = stsd.start + stsd.header + 8
    entry = next(boxes(init, entries, stsd.end))
    # visual sample entries have 78 bytes of fields before their child boxes, audio ones 28
    skip = 78 if entry.type in (b"avc1", b"avc3", b"hvc1", b"hev1", b"vp09", b"av01") else 28
    for child in boxes(init, entry.start + entry.header + skip, entry.end):
        if child.type in (b"avcC", b"hvcC", b"vpcC", b"av1C", b"esds", b"dec3", b"dac3"):
            return entry.type, bytes(init[child.payload])
    return entry.type, b""


def sample_summary(path: str | os.PathLike) -> SampleSummary:
    """Sample count, first-sample sync flag and payload bytes of a plain MP4's first track.

    Reads moov only (stsz/stz2 and stss), so checking a chunk needs no extra FFmpeg run. The payload
    is what the encoder made, without the file's own boxes: several kilobytes a file (x265 repeats its
    settings in the sample description), a fifth of a one-second chunk at 200 kbit/s.
    """
    sizes, first_sync = sample_table(path)
    return SampleSummary(len(sizes), first_sync, sum(sizes))


def sample_table(path: str | os.PathLike) -> tuple[list[int], bool]:
    """(every sample's size in decode order, whether the first sample is a sync sample) of a plain MP4's
    first track, from its moov alone."""
    with open(path, "rb") as f:
        size_total = os.fstat(f.fileno()).st_size
        pos, moov = 0, b""
        while pos + 8 <= size_total:
            f.seek(pos)
            head = f.read(16)
            size, kind = struct.unpack_from(">I4s", head)
            if size == 1:
                size = struct.unpack_from(">Q", head, 8)[0]
            elif size == 0:
                size = size_total - pos
            if size < 8:
                raise ValueError(f"broken box {kind!r} at {pos}")
            if kind == b"moov":
                f.seek(pos)
                moov = f.read(size)
                break
            pos += size
    stbl = find(moov, [b"moov", b"trak", b"mdia", b"minf", b"stbl"]) if moov else None
    if stbl is None:
        raise ValueError("no sample table")
    inner = (stbl.start + stbl.header, stbl.end)
    try:
        sizes = _sample_sizes(moov, inner)
        stss = find(moov, [b"stss"], *inner)
        if stss is None:  # no sync sample table: every sample is a sync sample
            return sizes, bool(sizes)
        p = stss.start + stss.header
        entries = struct.unpack_from(">I", moov, p + 4)[0]
        first_sync = struct.unpack_from(">I", moov, p + 8)[0] if entries else 0
    except struct.error as exc:
        raise ValueError(f"broken sample table ({exc})") from None
    return sizes, first_sync == 1


def _sample_sizes(moov: bytes, inner: tuple[int, int]) -> list[int]:
    """Every sample's size from stsz or stz2."""
    stsz = find(moov, [b"stsz"], *inner)
    if stsz is not None:
        p = stsz.start + stsz.header
        fixed, count = struct.unpack_from(">II", moov, p + 4)
        return [fixed] * count if fixed else list(struct.unpack_from(f">{count}I", moov, p + 12))
    stz2 = find(moov, [b"stz2"], *inner)
    if stz2 is None:
        raise ValueError("no sample sizes")
    p = stz2.start + stz2.header
    field = moov[p + 7]
    count = struct.unpack_from(">I", moov, p + 8)[0]
    table = moov[p + 12 : p + 12 + (count * field + 7) // 8]
    if field == 4:
        return [n for b in table for n in (b >> 4, b & 15)][:count]
    return list(struct.unpack_from(f">{count}{'B' if field == 8 else 'H'}", table))
