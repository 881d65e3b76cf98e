"""Headless Chromium plays the output through the edge with dash.js and hls.js.

Needs Debian's chromium + chromium-driver and the npm players (scripts/setup-browser.sh). Outside
CI a missing browser skips these tests; under CI (``CI`` set) it fails them.
"""

from __future__ import annotations

import urllib.request

import pytest

from shotenc.delivery.edge import EdgeConfig, EdgeThread

from .conftest import open_player as _open
from .conftest import wait_for as _wait


@pytest.fixture(scope="module")
def edge(sample_encode):
    with EdgeThread(EdgeConfig(titles={"movie": sample_encode}, port=0, allow_throttle=True)) as e:
        yield e


@pytest.mark.parametrize("codec", ["avc1", "vp09", "av01"])
def test_dash_playback_advances(browser, edge, codec):
    _open(browser, edge, f"src=/movie/manifest.mpd&engine=dash&codec={codec}")
    st = _wait(browser, lambda s: s.get("time", 0) > 2.0, 40)
    assert not st.get("errors"), st
    assert st["time"] > 2.0, f"{codec}: playback did not advance: {st}"
    assert st["height"] > 0


def test_hls_playback_advances(browser, edge):
    _open(browser, edge, "src=/movie/master.m3u8&engine=hls")
    st = _wait(browser, lambda s: s.get("time", 0) > 2.0, 40)
    assert not st.get("errors"), st
    assert st["time"] > 2.0, f"hls.js: playback did not advance: {st}"


def _throttle(edge, kbps: float) -> None:
    urllib.request.urlopen(f"{edge.url}/_edge/throttle?kbps={kbps}", timeout=5).read()


def test_rendition_drops_when_edge_throttles(browser, edge):
    _throttle(edge, 0)
    try:
        _open(browser, edge, "src=/movie/manifest.mpd&engine=dash&codec=avc1&start=high")
        st = _wait(browser, lambda s: s.get("time", 0) > 0.5, 40)
        assert st.get("height") == 180, f"expected to start on the top H.264 rung: {st}"
        _throttle(edge, 150)  # below the 180p rung, above the 108p one
        st = _wait(browser, lambda s: 108 in s.get("heights", []), 40)
        assert not st.get("errors"), st
        assert 108 in st["heights"], f"rendition did not change under throttling: {st}"
    finally:
        _throttle(edge, 0)
