"""The ABR player over real HTTP on real encodes, decoding every segment with FFmpeg."""

from __future__ import annotations

import pytest

from shotenc.delivery.edge import EdgeConfig, EdgeThread
from shotenc.delivery.player import abr
from shotenc.delivery.player.client import PlayOptions, local_edge, play_url
from shotenc.delivery.player.traces import load_trace

from .conftest import DATA


def _segments(folder, rid):
    return len(list((folder / "video" / rid).glob("seg-*.m4s")))


@pytest.mark.parametrize("rule", sorted(abr.RULES))
def test_every_rule_plays_and_decodes(sample_encode, rule):
    trace = load_trace(DATA / "traces" / "pensieve_fcc_trace_797466_part1.log")
    with local_edge(sample_encode) as e:
        rep = play_url([f"{e.url}/sample/manifest.mpd"], PlayOptions(trace, abr=rule, codec="h264"))
    s = rep.session
    n_video = _segments(sample_encode, "h264-180p")
    n_audio = len(list((sample_encode / "audio" / "aac-2ch").glob("seg-*.m4s")))
    assert rep.decode_errors == []
    abandoned = sum("abandoned" in n for n in s.notes)  # an abandoned download was fetched too
    assert rep.decoded_segments == n_video + n_audio + abandoned and rep.decoded_frames > 0
    assert len(s.segments) == n_video and rep.sizes_exact
    assert 0 < s.startup_s < 5
    assert s.optimum_qoe is not None and s.qoe <= s.optimum_qoe + 0.5 and 0 <= s.fraction_of_optimum <= 1
    assert set(rep.rungs) == {"h264-108p", "h264-180p"}


def test_hls_and_slow_link(sample_encode):
    trace = load_trace(DATA / "traces" / "pensieve_norway_bus_1")
    with local_edge(sample_encode) as e:
        rep = play_url([f"{e.url}/sample/master.m3u8"], PlayOptions(trace, abr="bba", codec="av1"))
    assert rep.decode_errors == [] and rep.codec_group == "av01"
    assert rep.decoded_segments == _segments(sample_encode, "av1-180p") + len(
        list((sample_encode / "audio" / "aac-2ch").glob("seg-*.m4s"))
    )


def test_fast_link_reaches_top_rung_and_slow_link_stays_low(sample_encode):
    from shotenc.delivery.player.traces import constant

    with local_edge(sample_encode) as e:
        url = [f"{e.url}/sample/manifest.mpd"]
        fast = play_url(url, PlayOptions(constant(20_000), codec="h264", decode=False)).session
        slow = play_url(url, PlayOptions(constant(150), codec="h264", decode=False)).session
    assert fast.segments[-1].rung == 1 and fast.rebuffer_s == 0
    assert slow.avg_kbps < fast.avg_kbps


def test_edge_killed_mid_session_fails_over(sample_encode):
    """Two edges; the one in use is stopped after the second segment; the other finishes."""
    trace = load_trace(DATA / "traces" / "sabre_hd_fs_trace0000.json")
    with EdgeThread(EdgeConfig(titles={"sample": sample_encode}, port=0)) as e2:
        e1 = EdgeThread(EdgeConfig(titles={"sample": sample_encode}, port=0)).__enter__()

        def kill(seg):
            if seg.index == 1:
                e1.stop()

        opts = PlayOptions(trace, codec="vp9", timeout_s=2, on_segment=kill)
        rep = play_url([f"{e1.url}/sample/manifest.mpd", f"{e2.url}/sample/manifest.mpd"], opts)
    assert rep.failovers and rep.failovers[0]["served_by"].startswith(e2.url)
    assert any("served by" in n for n in rep.session.notes)
    assert rep.decode_errors == [] and len(rep.session.segments) == _segments(sample_encode, "vp9-180p")


def test_edge_that_times_out_is_left_for_the_next(sample_encode, hanging):
    trace = load_trace(DATA / "traces" / "sabre_hd_fs_trace0000.json")
    with EdgeThread(EdgeConfig(titles={"sample": sample_encode}, port=0)) as good:
        opts = PlayOptions(trace, codec="h264", timeout_s=0.5, decode=False)
        rep = play_url([f"{good.url}/sample/manifest.mpd", f"{hanging.url}/sample/manifest.mpd"], opts)
        assert rep.failovers == []  # the first edge answered everything
        t0 = __import__("time").monotonic()
        rep = play_url([f"{hanging.url}/sample/manifest.mpd", f"{good.url}/sample/manifest.mpd"], opts)
        assert __import__("time").monotonic() - t0 < 20
    assert rep.failovers and "timed out" in rep.failovers[0]["error"].lower()
    assert rep.failovers[0]["served_by"].startswith(good.url)
    assert len(rep.session.segments) == _segments(sample_encode, "h264-180p")
