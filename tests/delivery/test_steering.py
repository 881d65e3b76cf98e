"""Content steering across edges: the steering server's manifests and its ordering, and the player
following it through an edge that dies and one that slows down."""

from __future__ import annotations

import json
import time
import urllib.request
import xml.etree.ElementTree as ET

import m3u8
import pytest

from shotenc.delivery.edge import EdgeThread
from shotenc.delivery.edge.steering import Steering
from shotenc.delivery.manifests import parse_hls, parse_mpd
from shotenc.delivery.player.client import PlayOptions, play_url
from shotenc.delivery.player.traces import load_trace

from .conftest import DATA, steered_edges

NS = "{urn:mpeg:dash:schema:mpd:2011}"


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read()


def _throttle(edge: EdgeThread, kbps: float) -> None:
    _get(f"{edge.url}/_edge/throttle?kbps={kbps}")


@pytest.fixture()
def edges(sample_encode):
    """Three edges serving the sample and a steering server over them (probing every 0.2 s)."""
    with steered_edges(sample_encode, probe_s=0.2) as (steer, three):
        yield steer, three


def _priority(steer: EdgeThread) -> list[str]:
    return json.loads(_get(f"{steer.url}/_steer/steering.json?title=movie"))["PATHWAY-PRIORITY"]


def _wait_priority(steer: EdgeThread, cond, timeout: float = 10.0) -> list[str]:
    end = time.monotonic() + timeout
    order = _priority(steer)
    while time.monotonic() < end and not cond(order):
        time.sleep(0.1)
        order = _priority(steer)
    return order


def test_steered_manifests_name_every_edge(edges):
    steer, three = edges
    mpd = _get(f"{steer.url}/movie/manifest.mpd").decode()
    root = ET.fromstring(mpd)
    bases = root.findall(f"{NS}BaseURL")
    assert [b.get("serviceLocation") for b in bases] == ["edge0", "edge1", "edge2"]
    assert [b.text for b in bases] == [f"{e.url}/movie/" for e in three]
    cs = root.find(f"{NS}ContentSteering")
    assert cs.get("defaultServiceLocation") == "edge0" and cs.text.startswith("/_steer/steering.json")
    pres = parse_mpd(mpd, f"{steer.url}/movie/manifest.mpd")
    assert pres.steering.prefixes == {f"edge{i}": f"{e.url}/movie/" for i, e in enumerate(three)}
    seg = pres.video[0].segments[0].url
    assert seg.startswith(three[0].url) and pres.steering.url_on(seg, "edge2").startswith(three[2].url)

    text = _get(f"{steer.url}/movie/master.m3u8").decode()
    master = m3u8.loads(text)
    assert master.content_steering.uri.startswith("/_steer/steering.json")
    by_path = {}
    for pl in master.playlists:
        by_path.setdefault(pl.stream_info.pathway_id, []).append(pl.uri)
    assert sorted(by_path) == ["edge0", "edge1", "edge2"] and len({len(v) for v in by_path.values()}) == 1
    assert all(u.startswith(three[2].url) for u in by_path["edge2"])
    hls = parse_hls(text, f"{steer.url}/movie/master.m3u8", lambda u: _get(u).decode())
    assert len(hls.video) == len(by_path["edge0"]) and len(hls.audio) == 2  # one pathway's renditions
    steering = json.loads(_get(f"{steer.url}/_steer/steering.json?title=movie&_HLS_pathway=edge0"))
    assert steering["VERSION"] == 1 and steering["TTL"] == 1 and "RELOAD-URI" in steering


def test_steering_orders_edges_by_health_and_speed(edges):
    steer, three = edges
    assert sorted(_priority(steer)) == ["edge0", "edge1", "edge2"]
    _throttle(three[0], 100)  # the 64 KB probe takes 5 s: too slow
    order = _wait_priority(steer, lambda o: o[-1] == "edge0")
    assert order[-1] == "edge0"
    three[1].stop()
    # (edge2 can lead before edge1's death is seen, by a faster probe: wait for the death itself)
    end = time.monotonic() + 10.0
    while time.monotonic() < end and _alive(steer)["edge1"]:
        time.sleep(0.1)
    assert _alive(steer)["edge1"] is False
    order = _wait_priority(steer, lambda o: o[0] == "edge2")
    assert order[0] == "edge2" and order[-1] == "edge1" and set(order) == {"edge0", "edge1", "edge2"}


def _alive(steer: EdgeThread) -> dict[str, bool]:
    stats = json.loads(_get(f"{steer.url}/_edge/stats"))["steering"]
    return {e["pathway"]: e["alive"] for e in stats["edges"]}


def test_player_follows_steering_through_a_dead_and_a_slow_edge(edges, sample_encode):
    """The player starts on edge0; edge0 is killed after the second segment and edge1 throttled
    after the fourth: the session ends on edge2, each edge carried bytes, and no stall is longer
    than one segment."""
    steer, three = edges
    trace = load_trace(DATA / "traces" / "sabre_hd_fs_trace0000.json")
    assert _wait_priority(steer, lambda o: o[0] == "edge0")[0] == "edge0"  # all healthy: the given order

    def chaos(seg):
        if seg.index == 1:
            three[0].stop()
        if seg.index == 3:
            _throttle(three[1], 100)

    opts = PlayOptions(trace, codec="h264", timeout_s=2, on_segment=chaos, decode=True)
    rep = play_url([f"{steer.url}/movie/manifest.mpd"], opts)
    s = rep.session
    assert rep.edge == "edge2", rep.failovers
    assert rep.edge_bytes["edge0"] > 0 and rep.edge_bytes["edge2"] > 0
    assert rep.steering and rep.steering[0]["using"] in {"edge0", "edge1", "edge2"}
    durations = _durations(sample_encode)
    assert all(seg.stall_s <= durations[seg.index] for seg in s.segments), [seg.stall_s for seg in s.segments]
    assert rep.decode_errors == [] and len(s.segments) == len(durations)
    assert any(ev.get("error") == "too slow" for ev in rep.failovers) or rep.steering[-1]["priority"][0] == "edge2"


def _durations(folder) -> list[float]:
    pres = parse_mpd((folder / "manifest.mpd").read_text(), "http://x/movie/manifest.mpd")
    return [seg.duration_s for seg in pres.video[0].segments]


def test_edges_fast_enough_for_any_stream_keep_their_order():
    """Edges that all carry every stream are not reordered by speed: on a loaded machine one slow probe
    of a local edge (a tenth of the others) must not move the player off the manifests' default edge."""
    steering = Steering(["http://a", "http://b", "http://c"])
    for edge, kbps in zip(steering.edges, (90_000.0, 900_000.0, 600_000.0), strict=True):
        edge.kbps = kbps
    assert steering.priority() == ["edge0", "edge1", "edge2"]
    steering.edges[1].kbps = 300.0  # too slow for the top rungs: behind the others
    steering.edges[2].alive = False
    assert steering.priority() == ["edge0", "edge1", "edge2"] and steering.edges[1].score < 1000
    steering.edges[2].alive = True
    assert steering.priority() == ["edge0", "edge2", "edge1"]
