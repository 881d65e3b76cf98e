"""Headless Chromium plays the output through the edge with dash.js and hls.js.

Needs Debian's chromium + chromium-driver and the npm players (scripts/setup-browser.sh). Outside
CI a missing browser skips these tests; under CI (``CI`` set) it fails them.
"""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from shotenc.delivery.edge import EdgeConfig, EdgeThread

from .conftest import open_player as _open
from .conftest import steered_edges
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


@pytest.mark.parametrize("engine,src", [("dash", "manifest.mpd"), ("hls", "master.m3u8")])
def test_rendition_drops_when_edge_throttles(browser, edge, engine, src):
    _throttle(edge, 0)
    try:
        _open(browser, edge, f"src=/movie/{src}&engine={engine}&codec=avc1&start=high")
        st = _wait(browser, lambda s: s.get("time", 0) > 0.5, 40)
        assert st.get("height") == 180, f"expected to start on the top H.264 rung: {st}"
        _throttle(edge, 150)  # below the 180p rung, above the 108p one
        st = _wait(browser, lambda s: 108 in s.get("heights", []), 40)
        assert not st.get("errors"), st
        assert 108 in st["heights"], f"{engine}: rendition did not change under throttling: {st}"
    finally:
        _throttle(edge, 0)


@pytest.fixture()
def steered(sample_encode):
    """Three edges and a steering server over them (probes every 0.3 s)."""
    with steered_edges(sample_encode, probe_s=0.3) as pair:
        yield pair


def _priority(steer) -> list[str]:
    with urllib.request.urlopen(f"{steer.url}/_steer/steering.json?title=movie", timeout=5) as r:
        return json.loads(r.read())["PATHWAY-PRIORITY"]


def _host(edge) -> str:
    return edge.url.split("://", 1)[1]


@pytest.mark.parametrize("engine,src", [("dash", "manifest.mpd"), ("hls", "master.m3u8")])
def test_players_follow_content_steering(browser, steered, engine, src):
    """edge0 (the manifests' default) is slow, so the steering server ranks it last: the player
    fetches from edge1. Then edge1 slows down too: the player moves to edge2 on the next reload."""
    steer, (e0, e1, e2) = steered
    _throttle(e0, 100)
    end = time.monotonic() + 15
    while _priority(steer)[0] != "edge1" and time.monotonic() < end:
        time.sleep(0.2)
    assert _priority(steer)[0] == "edge1"
    _open(browser, steer, f"src=/movie/{src}&engine={engine}")
    st = _wait(browser, lambda s: s.get("lastHost") == _host(e1) and s.get("time", 0) > 1.0, 40)
    assert not st.get("errors"), st
    assert st.get("lastHost") == _host(e1), f"{engine} did not take the steering server's first edge: {st}"
    _throttle(e1, 200)
    st = _wait(browser, lambda s: s.get("lastHost") == _host(e2), 40)
    assert not st.get("errors"), st
    assert st.get("lastHost") == _host(e2), f"{engine} did not follow the steering to edge2: {st}"
    t = st["time"]
    st = _wait(browser, lambda s: s.get("time", 0) > t + 1.0, 20)
    assert st["time"] > t + 1.0, f"{engine}: playback stopped after the switch: {st}"
