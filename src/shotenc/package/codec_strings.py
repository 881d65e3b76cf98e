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
    if entry in ("ec-3", "ac-3"):
        return entry  # RFC 6381 / ETSI TS 102 366 Annex F: the sample entry itself
    codec = codecs.for_sample_entry(entry)
    if codec is None:
        raise ValueError(f"unsupported sample entry {kind!r}")
    return codec.codec_string(entry, cfg, width, height, fps)


# ETSI TS 102 366 acmod -> the Dolby DASH channel mask (L C R Ls Rs ... LFE, 16 bits, MSB = L)
_ACMOD_MASK = {1: 0x4000, 2: 0xA000, 3: 0xE000, 4: 0xA100, 5: 0xE100, 6: 0xB800, 7: 0xF800}


def dolby_channel_config(init: bytes) -> str:
    """The ``tag:dolby.com,2014:dash:audio_channel_configuration:2011`` value of an E-AC-3 init segment
    (``F801`` for 5.1) from its dec3 box; empty for other codecs."""
    kind, dec3 = sample_entry(init)
    if kind != b"ec-3" or len(dec3) < 4:
        return ""
    acmod, lfeon = (dec3[3] >> 1) & 0x7, dec3[3] & 0x1
    return f"{_ACMOD_MASK.get(acmod, 0) | lfeon:04X}"


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
