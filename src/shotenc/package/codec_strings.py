"""RFC 6381 codec strings (the CODECS attribute) from the configuration record in an init segment."""

from __future__ import annotations

from .. import codecs
from ..media.mp4box import sample_entry


def codec_string(init: bytes, width: int = 0, height: int = 0, fps: float = 0.0) -> str:
    """The CODECS value of an init segment, from its sample entry's configuration record."""
    kind, cfg = sample_entry(init)
    entry = kind.decode("ascii", "replace")
    if entry == "mp4a":
        return f"mp4a.40.{_aac_object_type(cfg)}"
    codec = codecs.for_sample_entry(entry)
    if codec is None:
        raise ValueError(f"unsupported sample entry {kind!r}")
    return codec.codec_string(entry, cfg, width, height, fps)


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
