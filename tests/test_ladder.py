"""Ladders: the shipped ones load; fitting to a source drops, keeps and adds rungs as documented."""

from __future__ import annotations

import pytest

from shotenc.errors import ShotencError
from shotenc.ladder import Ladder, Rung, fit_to_source, load_ladder


def _rung(codec="h264", height=360, kbps=800.0, rid=None):
    return Rung(rid or f"{codec}-{height}p", codec, height, kbps, kbps * 1.5, kbps * 3, "fast")


def test_fit_drops_rungs_above_source_and_keeps_aspect():
    ladder = Ladder("t", "", [_rung(height=360), _rung(height=720, kbps=3000), _rung(height=1080, kbps=5000)])
    rungs = fit_to_source(ladder, 1280, 720)
    assert [(r.width, r.height) for r in rungs] == [(640, 360), (1280, 720)]
    rungs = fit_to_source(ladder, 320, 240)  # smaller than every rung: the smallest, at source size
    assert [(r.width, r.height) for r in rungs] == [(320, 240)]
    assert rungs[0].bitrate_kbps < 800  # rates scaled down with the pixels
    # a letterboxed 640x272 source: 360p is dropped, and its place is taken at the source size
    rungs = fit_to_source(Ladder("t", "", [_rung(height=234, kbps=300), _rung(height=360, kbps=750)]), 640, 272)
    assert [(r.id, r.width, r.height) for r in rungs] == [("h264-234p", 550, 234), ("h264-272p", 640, 272)]
    assert 300 < rungs[1].bitrate_kbps < 750 and rungs[1].maxrate_kbps > rungs[1].bitrate_kbps
    with pytest.raises(ShotencError):
        fit_to_source(ladder, 640, 360, ["h266"])


def test_a_portrait_source_gets_the_rungs_upright():
    """A rung's height names its short side: a phone's 1080x1920 gets 360p as 360x640 at the 360p rate
    (before: 202x360 at that rate, and a 640p rung added at the source size)."""
    ladder = Ladder("t", "", [_rung(height=360), _rung(height=720, kbps=3000), _rung(height=1080, kbps=5000)])
    rungs = fit_to_source(ladder, 1080, 1920)
    assert [(r.id, r.width, r.height, r.bitrate_kbps) for r in rungs] == [
        ("h264-360p", 360, 640, 800.0),
        ("h264-720p", 720, 1280, 3000.0),
        ("h264-1080p", 1080, 1920, 5000.0),
    ]
    rungs = fit_to_source(ladder, 272, 640)  # a tall, narrow source under every rung: one at its size
    assert [(r.id, r.width, r.height) for r in rungs] == [("h264-272p", 272, 640)]
    assert [(r.width, r.height) for r in fit_to_source(ladder, 640, 640)] == [(360, 360), (640, 640)]


def test_shipped_ladders_load():
    for name in ("default", "classic-h264", "tiny"):
        assert load_ladder(name).rungs
    assert {r.codec for r in load_ladder("default").rungs} == {"h264", "hevc", "vp9", "av1"}
