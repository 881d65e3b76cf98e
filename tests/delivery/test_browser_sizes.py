"""dash.js and hls.js in headless Chromium play a rendition whose picture size changes at shot boundaries."""

from __future__ import annotations

import pytest

from helpers import SMALL, SmallFirstShot
from shotenc.delivery.edge import EdgeConfig, EdgeThread
from shotenc.pipeline import EncodeOptions, encode_title

from .conftest import open_player, wait_for


@pytest.fixture(scope="module")
def resized_edge(tiny_clip, tmp_path_factory):
    """The tiny clip, every even shot at 192x108 inside the 180p rungs (H.264 avc3, VP9, AV1)."""
    out = tmp_path_factory.mktemp("resized") / "title"
    options = EncodeOptions(ladder="tiny", codecs=["h264", "vp9", "av1"], mode=SmallFirstShot.name)
    report = encode_title(tiny_clip, out, options).report
    with EdgeThread(EdgeConfig(titles={"movie": out}, port=0)) as edge:
        yield edge, report


@pytest.mark.parametrize(
    "engine,src,codec",
    [("dash", "manifest.mpd", "avc3"), ("dash", "manifest.mpd", "vp09"), ("dash", "manifest.mpd", "av01"),
     ("hls", "master.m3u8", "avc3")],
)  # fmt: skip
def test_players_play_through_a_size_change(browser, resized_edge, engine, src, codec):
    edge, report = resized_edge
    shots = report["shots"]
    past = shots[2]["start_s"] + 0.5  # two size changes behind: small, full, small again
    query = f"src=/movie/{src}&engine={engine}&start=high&codec={codec}"  # avc3: the resized H.264 rung only
    open_player(browser, edge, query)
    st = wait_for(browser, lambda s: s.get("time", 0) > past, 40)
    assert not st.get("errors"), st
    assert st["time"] > past, f"{engine} {codec}: playback stopped before {past:.2f} s: {st}"
    assert SMALL[1] in st["heights"] and 180 in st["heights"], st  # both sizes were on screen
