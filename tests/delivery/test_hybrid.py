"""The default rule: better than Sabre-exact BOLA-E and DYNAMIC on the trace subset, and each of
its parts doing what it says."""

from __future__ import annotations

from pathlib import Path

import pytest

from shotenc.delivery.player import abr
from shotenc.delivery.player.abr.hybrid import Hybrid
from shotenc.delivery.player.estimators import Sample
from shotenc.delivery.player.movie import load_movie
from shotenc.delivery.player.network import Network
from shotenc.delivery.player.qoe import sabre_model
from shotenc.delivery.player.session import SessionConfig, Title, run_session
from shotenc.delivery.player.traces import Trace, load_trace

DATA = Path(__file__).resolve().parents[1] / "data" / "traces"
MODEL = sabre_model(3.0)
SESSIONS = [
    ("sabre_3g_report.2010-09-13_1003CEST.json", "bbb.json"),
    ("sabre_3g_report.2011-01-29_1125CET.json", "bbb.json"),
    ("sabre_hd_fs_trace0000.json", "bbb.json"),
    ("sabre_4g_report_bicycle_0001.json", "bbb4k.json"),
    ("pensieve_norway_bus_1", "bbb.json"),
    ("pensieve_fcc_trace_797466_part1.log", "bbb.json"),
]


def _play(rule: str, trace, title: Title):
    net = Network(trace if isinstance(trace, Trace) else load_trace(DATA / trace))
    return run_session(title, net, abr.make(rule, MODEL), config=SessionConfig(25, qoe=MODEL))


@pytest.mark.parametrize("trace,movie", SESSIONS)
def test_beats_bola_e_and_dynamic(trace, movie):
    title = load_movie(DATA / movie)
    hybrid = _play("hybrid", trace, title)
    for rival in ("bola-e", "dynamic"):
        other = _play(rival, trace, title)
        assert hybrid.sabre_score > other.sabre_score, rival
    assert hybrid.rebuffer_s <= _play("bola-e", trace, title).rebuffer_s + 0.5


def test_end_of_title_spends_the_buffer():
    """Three segments left, 15 s buffered, 4 Mbit/s measured (after a 1 Mbit/s start): BOLA-E keeps
    to its buffer map, the hybrid's plan sees that even the top rung arrives in time, and takes it."""
    title = load_movie(DATA / "bbb.json")
    n = title.n_segments

    def ctx(index: int, buffer_s: float, kbps: float) -> abr.AbrContext:
        return abr.AbrContext(
            index,
            title.bitrates_kbps,
            title.segment_s,
            buffer_s,
            25.0,
            3.0,
            throughput_kbps=kbps,
            latency_s=0.1,
            samples=[Sample(kbps, 1.0, 0.1)] * 5,
            size_bits=lambda i, r: title.sizes_bits[i][r],
        )

    picks = {}
    for rule in (abr.make("bola-e"), Hybrid(MODEL)):
        rule.choose(ctx(1, 3.0, 1000.0))  # startup
        picks[rule.name] = rule.choose(ctx(n - 3, 15.0, 4000.0)).rung
    assert picks["hybrid"] == len(title.bitrates_kbps) - 1 > picks["bola-e"]


def test_outage_widens_the_cushion():
    rule = Hybrid(MODEL)
    title = load_movie(DATA / "bbb.json")
    ctx = abr.AbrContext(
        1,
        title.bitrates_kbps,
        title.segment_s,
        3.0,
        25.0,
        3.0,
        throughput_kbps=2000.0,
        latency_s=0.1,
        samples=[Sample(2000.0, 1.0, 0.1)],
    )
    rule.choose(ctx)
    assert rule.min_buffer == pytest.approx(6000) and not rule.outage
    ctx.samples = [Sample(2000.0, 1.0, 0.1), Sample(100.0, 3.0, 0.1)]  # below the 230 kbps rung
    rule.choose(ctx)
    assert rule.outage and rule.min_buffer == pytest.approx(10000) and rule.ibr_min == pytest.approx(0.3)


def test_low_buffer_abandonment_weighs_the_stall():
    rule = Hybrid(MODEL)
    title = load_movie(DATA / "bbb.json")
    ctx = abr.AbrContext(
        5,
        title.bitrates_kbps,
        title.segment_s,
        2.0,
        25.0,
        3.0,
        throughput_kbps=3000.0,
        latency_s=0.1,
        size_bits=lambda i, r: title.sizes_bits[i][r],
    )
    size = title.sizes_bits[5][8]
    slow = abr.Progress(5, 8, size, downloaded_bits=100_000, time_s=0.6, ttfb_s=0.1)  # 200 kbit/s
    assert rule.check_abandon(ctx, slow, 1.5) is not None
    fast = abr.Progress(5, 8, size, downloaded_bits=size * 0.9, time_s=0.6, ttfb_s=0.1)
    assert rule.check_abandon(ctx, fast, 1.5) is None
