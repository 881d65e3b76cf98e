"""Per-codec knowledge: codec strings from configuration records, levels, CRF resolution, the registry."""

from __future__ import annotations

import pytest

from shotenc import codecs
from shotenc.codecs.vp9 import vp9_level
from shotenc.errors import ShotencError


def test_codec_strings():
    # HEVC Main, level 3.1 as x265 writes it: general_profile_compatibility 0x60000000 → "6"
    cfg = bytes([1, 0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 93])
    assert codecs.get("hevc").codec_string("hvc1", cfg, 0, 0, 0.0) == "hvc1.1.6.L93.90"
    assert vp9_level(1920, 1080, 30) == 40
    assert vp9_level(320, 180, 25) == 11


def test_registry_knows_every_codec_and_refuses_others():
    assert codecs.names() == ("h264", "hevc", "vp9", "av1")
    assert codecs.for_sample_entry("avc3").name == "h264" and codecs.for_sample_entry("mp4a") is None
    assert codecs.get("vp9").crf(38.6) == 39.0 and codecs.get("h264").crf(27.3) == 27.5
    assert codecs.get("av1").crf_floor(30.9) == 30.0 and codecs.get("av1").crf(0) == 1.0
    with pytest.raises(ShotencError):
        codecs.get("h266")


def test_every_chunk_is_one_closed_gop_with_the_cap_where_asked():
    rate = codecs.RatePoint("crf", 30, 600, 1200)
    for name in codecs.names():
        args = codecs.get(name).encoder_args(codecs.get(name).default_preset, rate, 48, 1)
        gop = "48" in args or any("keyint=48:" in a for a in args)
        assert gop, (name, args)  # the GOP spans the chunk: one keyframe, at its start
        capped = "600k" in args or any("vbv-maxrate=600" in a for a in args)
        assert capped == codecs.get(name).crf_vbv, (name, args)  # VP9: the plan keeps chunks under the cap
