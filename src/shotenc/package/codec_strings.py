"""RFC 6381 codec strings (the CODECS attribute) from the configuration record in an init segment."""

from __future__ import annotations

from ..media.mp4box import sample_entry

# VP9 levels (Annex A of the VP9 spec): (max luma sample rate, max luma picture size, level)
_VP9_LEVELS = [
    (829440, 36864, 10),
    (2764800, 73728, 11),
    (4608000, 122880, 20),
    (9216000, 245760, 21),
    (20736000, 552960, 30),
    (36864000, 983040, 31),
    (83558400, 2228224, 40),
    (160432128, 2228224, 41),
    (311951360, 8912896, 50),
    (588251136, 8912896, 51),
    (1176502272, 8912896, 52),
    (1176502272, 35651584, 60),
    (2353004544, 35651584, 61),
    (4706009088, 35651584, 62),
]


def vp9_level(width: int, height: int, fps: float) -> int:
    pixels = width * height
    for rate, size, level in _VP9_LEVELS:
        if pixels <= size and pixels * fps <= rate:
            return level
    return 62


def codec_string(init: bytes, width: int = 0, height: int = 0, fps: float = 0.0) -> str:
    kind, cfg = sample_entry(init)
    if kind in (b"avc1", b"avc3"):
        return f"{kind.decode()}.{cfg[1]:02X}{cfg[2]:02X}{cfg[3]:02X}"
    if kind in (b"hvc1", b"hev1"):
        return _hevc(kind.decode(), cfg)
    if kind == b"vp09":
        # vpcC is a full box: 4 bytes of version/flags first
        profile, level, depth = cfg[4], cfg[5], cfg[6] >> 4
        if level == 0 and width:
            level = vp9_level(width, height, fps)
        return f"vp09.{profile:02d}.{level:02d}.{depth:02d}"
    if kind == b"av01":
        profile, level = cfg[1] >> 5, cfg[1] & 0x1F
        tier = "H" if cfg[2] & 0x80 else "M"
        high, twelve = bool(cfg[2] & 0x40), bool(cfg[2] & 0x20)
        depth = 12 if (high and twelve) else 10 if high else 8
        return f"av01.{profile}.{level:02d}{tier}.{depth:02d}"
    if kind == b"mp4a":
        return f"mp4a.40.{_aac_object_type(cfg)}"
    raise ValueError(f"unsupported sample entry {kind!r}")


def _hevc(tag: str, cfg: bytes) -> str:
    space = (cfg[1] >> 6) & 0x3
    tier = "H" if cfg[1] & 0x20 else "L"
    profile = cfg[1] & 0x1F
    compat = int.from_bytes(cfg[2:6], "big")
    compat_rev = int(f"{compat:032b}"[::-1], 2)
    constraints = list(cfg[6:12])
    while constraints and constraints[-1] == 0:
        constraints.pop()
    level = cfg[12]
    prefix = ["", "A", "B", "C"][space]
    parts = [tag, f"{prefix}{profile}", f"{compat_rev:X}", f"{tier}{level}"]
    parts += [f"{b:X}" for b in constraints]
    return ".".join(parts)


def _aac_object_type(esds: bytes) -> int:
    """Audio object type from the DecoderSpecificInfo inside esds (2 = AAC-LC)."""
    i = 4  # full box header
    data = esds
    while i < len(data):
        tag = data[i]
        i += 1
        size = 0
        for _ in range(4):
            b = data[i]
            i += 1
            size = (size << 7) | (b & 0x7F)
            if not b & 0x80:
                break
        if tag == 0x03:
            i += 3  # ES_ID + flags (assume no optional fields, as FFmpeg writes)
            continue
        if tag == 0x04:
            i += 13
            continue
        if tag == 0x05:
            return data[i] >> 3 or 2
        i += size
    return 2
