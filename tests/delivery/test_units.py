"""Pure parts of delivery: traces, network model, QoE, caches, ranges, paths, ABR, optimum."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from shotenc.delivery.edge import cache, content_type, parse_range
from shotenc.delivery.edge.origins import safe_relpath
from shotenc.delivery.player import abr, optimum, session
from shotenc.delivery.player import movie as sabre
from shotenc.delivery.player.network import Network
from shotenc.delivery.player.qoe import QOE_LIN, fraction_of_range, qoe_terms, sabre_score
from shotenc.delivery.player.traces import Period, Trace, TraceError, constant, load_trace

DATA = Path(__file__).resolve().parents[1] / "data" / "traces"


def test_both_trace_formats_read(tmp_path):
    sab = load_trace(DATA / "sabre_hd_fs_trace0000.json")
    assert len(sab.periods) > 10 and sab.periods[0].latency_s == pytest.approx(0.02)
    pen = load_trace(DATA / "pensieve_norway_bus_1")
    assert pen.duration_s > 100 and all(p.kbps >= 0 for p in pen.periods)
    (tmp_path / "bad.json").write_text('{"x": 1}')
    with pytest.raises(TraceError):
        load_trace(tmp_path / "bad.json")
    with pytest.raises(TraceError):
        load_trace(tmp_path / "missing")


def test_pensieve_samples_become_periods(tmp_path):
    f = tmp_path / "t"
    f.write_text("10.0 1.0\n12.0 2.0\n13.0 4.0\n14.0 3.0\n")
    tr = load_trace(f)
    assert [p.duration_s for p in tr.periods] == [2.0, 1.0, 1.0, 1.0]  # the last lasts a median gap
    assert [p.kbps for p in tr.periods] == [1000.0, 2000.0, 4000.0, 3000.0]


def test_text_traces_with_commas_headers_and_comments_read_as_pensieve(tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("10.0 1.0\n12.0 2.0\n13.0 4.0\n")
    csv = tmp_path / "t.csv"
    csv.write_text("time_s,mbps\n# a comment\n10.0,1.0\n\n12.0;2.0\n13.0\t4.0  # last\n")
    assert load_trace(csv).periods == load_trace(plain).periods
    (tmp_path / "late-text").write_text("0 1.0\n1 2.0\nnot numbers\n")
    with pytest.raises(TraceError, match="line 3"):
        load_trace(tmp_path / "late-text")


def test_a_mahimahi_trace_becomes_its_delivery_rate_per_100_ms(tmp_path):
    """One MTU packet per line at the millisecond it names; 2 packets/ms for 200 ms, then 1 per 2 ms."""
    f = tmp_path / "link.down"
    f.write_text("".join(f"{t}\n{t}\n" for t in range(1, 201)) + "".join(f"{t}\n" for t in range(202, 401, 2)))
    tr = load_trace(f)
    assert tr.duration_s == pytest.approx(0.4) and len(tr.periods) == 4
    assert [p.kbps for p in tr.periods] == pytest.approx([24000, 24000, 6000, 6000])  # 1500 B x 2 per ms
    assert tr.periods[0].latency_s == pytest.approx(0.08)


@pytest.mark.parametrize(
    "name, text, says",
    [
        ("neg.json", '[{"duration_ms": 1000, "bandwidth_kbps": -5, "latency_ms": 0}]', "negative"),
        ("back.txt", "0 1.5\n2 2.0\n1 0.8\n", "time goes back"),
        ("back.down", "5\n9\n7\n", "time goes back"),
        ("frac.down", "5.5\n9\n", "Mahimahi"),
    ],
)
def test_a_trace_that_cannot_be_right_is_refused(name, text, says, tmp_path):
    (tmp_path / name).write_text(text)
    with pytest.raises(TraceError, match=says):
        load_trace(tmp_path / name)


def test_network_transfer_follows_trace_and_loops():
    net = Network(Trace("t", [Period(1.0, 1000, 0.1), Period(1.0, 3000, 0.1)]))
    # 125 kB = 1 Mbit: 0.1 s latency, then 0.9 s at 1 Mbps (0.9 Mbit) and 0.1 Mbit at 3 Mbps
    assert net.transfer_s(0.0, 125_000) == pytest.approx(0.1 + 0.9 + 0.1 / 3)
    # the trace loops: starting at 2.0 is the same as starting at 0.0
    assert net.transfer_s(2.0, 125_000) == pytest.approx(net.transfer_s(0.0, 125_000))
    # a transfer longer than the trace wraps around it
    assert net.transfer_s(0.0, 1_000_000) > 2.0


def test_zero_bandwidth_period_stalls_transfer():
    net = Network(Trace("gap", [Period(1.0, 1000, 0.0), Period(2.0, 0, 0.0), Period(1.0, 1000, 0.0)]))
    assert net.transfer_s(0.5, 125_000) == pytest.approx(0.5 + 2.0 + 0.5)


def test_qoe_formula():
    # utility 1+3+1 Mbps, smoothness |3-1|+|1-3| = 4, rebuffer 2 s and startup 0.5 s × 4.3
    t = qoe_terms([1000, 3000, 1000], [4.0] * 3, 4.0, 2.0, 0.5, QOE_LIN, 1000)
    assert (t.utility, t.switching) == (5, 4) and t.total == pytest.approx(5 - 8.6 - 2.15 - 4)
    # a 2 s segment counts half a 4 s one
    assert qoe_terms([1000, 3000], [4.0, 2.0], 4.0, 0, 0, QOE_LIN, 1000).utility == pytest.approx(2.5)


def test_sabre_score_divides_by_play_time_in_segments():
    # two 3 s segments at 230 and 460 kbps, 3 s of rebuffering, 1 s of startup: 10 s of play time
    score = sabre_score([230, 460], [3.0, 3.0], 230, 3.0, 10.0, 3.0)
    assert score == pytest.approx((math.log(2) - 5 * 3.0 / 3.0) / (10.0 / 3.0))


def test_fraction_of_optimum_stays_in_range_when_qoe_is_negative():
    assert fraction_of_range(-40.0, -100.0, -10.0) == pytest.approx(60 / 90)
    assert fraction_of_range(-120.0, -100.0, -10.0) == 0.0 and fraction_of_range(5.0, -100.0, -10.0) == 1.0
    assert fraction_of_range(3.0, 3.0, 3.0) == 1.0


def _sizes_stream(n_objects=500, n_requests=20000, seed=3):
    rng = random.Random(seed)
    sizes = {k: rng.randint(1, 50) for k in range(n_objects)}
    weights = [1 / (k + 1) ** 1.0 for k in range(n_objects)]
    reqs = rng.choices(range(n_objects), weights=weights, k=n_requests)
    return sizes, reqs


@pytest.mark.parametrize("policy", sorted(cache.POLICIES))
def test_cache_respects_byte_budget_and_counts(policy):
    sizes, reqs = _sizes_stream()
    cap = sum(sizes.values()) // 10
    c = cache.make(policy, cap, sizeof=lambda v: v)
    for k in reqs:
        if c.get(k) is None:
            assert c.put(k, sizes[k])
        assert c.used <= cap
    assert c.stats.hits + c.stats.misses == len(reqs)
    assert c.stats.evictions > 0
    assert not c.put("huge", cap + 1)
    assert c.stats.hits <= cache.belady_hits(reqs, sizes, cap)


def test_scan_resistance_s3fifo_and_sieve_keep_hot_set():
    hot = [f"h{i}" for i in range(20)]
    reqs = []
    for round_ in range(30):
        reqs += hot + hot  # re-used within the round
        reqs += [f"scan{round_}-{i}" for i in range(40)]  # one-hit wonders
    hits = {}
    for policy in ("lru", "s3fifo", "sieve"):
        c = cache.make(policy, 40, sizeof=lambda v: 1)
        for k in reqs:
            if c.get(k) is None:
                c.put(k, 1)
        hits[policy] = c.stats.hits
    assert hits["s3fifo"] > hits["lru"] and hits["sieve"] > hits["lru"], hits


@pytest.mark.parametrize(
    "header,expected",
    [
        ("bytes=0-9", (0, 9)),
        ("bytes=90-", (90, 99)),
        ("bytes=-10", (90, 99)),
        ("bytes=95-200", (95, 99)),
        ("bytes=100-", False),
        ("bytes=5-2", False),
        ("bytes=abc", False),
        ("bytes=-", False),
        ("bytes=-0", False),
        ("items=0-1", None),
        ("bytes=0-1,5-6", None),
    ],
)
def test_parse_range(header, expected):
    assert parse_range(header, 100) == expected


@pytest.mark.parametrize(
    "raw,ok",
    [
        ("/movie/video/a/seg-00001.m4s", True),
        ("/movie/../etc/passwd", False),
        ("/movie/%2e%2e/x", False),
        ("/movie/%2E%2e/x", False),
        ("//etc/passwd", False),
        ("/movie/a%00b", False),
        ("/movie/a%2fb", False),
        ("/movie/a\\..\\b", False),
        ("/movie/./x", False),
        ("relative", False),
        ("/movie/a%20b.mp4", True),
    ],
)
def test_safe_relpath(raw, ok):
    assert (safe_relpath(raw) is not None) == ok


def test_content_types():
    assert content_type("m/manifest.mpd") == "application/dash+xml"
    assert content_type("m/master.m3u8") == "application/vnd.apple.mpegurl"
    assert content_type("m/video/x/seg-00001.m4s") == "video/iso.segment"
    assert content_type("m/video/x/init.mp4") == "video/mp4"
    assert content_type("m/audio/x/init.mp4") == "audio/mp4"


def _movie() -> session.Title:
    t = sabre.load_movie(DATA / "bbb.json")
    n = 40  # first two minutes keep the test fast
    return session.Title(t.name, t.rung_ids, t.bitrates_kbps, t.segment_s[:n], t.sizes_bits[:n])


def test_session_accounts_buffer_and_stalls():
    title = _movie()
    slow = session.run_session(title, Network(constant(150, 0.0)), abr.Fixed(9))
    assert slow.rebuffer_count > 0 and slow.rebuffer_s > 10
    fast = session.run_session(title, Network(constant(50_000, 0.0)), abr.Fixed(9))
    assert fast.rebuffer_s == 0 and fast.avg_kbps == title.bitrates_kbps[9]
    assert fast.startup_s == pytest.approx(title.sizes_bits[0][9] / 50e6)
    assert fast.qoe > slow.qoe
    assert slow.play_s == pytest.approx(slow.startup_s + slow.rebuffer_s + sum(title.segment_s))


@pytest.mark.parametrize(
    "trace_file", ["sabre_hd_fs_trace0000.json", "pensieve_norway_bus_1", "sabre_3g_report.2010-09-13_1003CEST.json"]
)
def test_offline_optimum_bounds_every_rule(trace_file):
    title = _movie()
    net = Network(load_trace(DATA / trace_file))
    cfg = session.SessionConfig()
    opt = optimum.offline_optimum(title, net, cfg)
    assert len(opt.rungs) == title.n_segments

    # replaying the optimum's own choices gives (almost) its score: the DP is self-consistent
    class Replay(abr.Abr):
        name = "replay"

        def choose(self, ctx):
            return abr.Decision(opt.rungs[ctx.index])

        def first_rung(self, ctx):
            return opt.rungs[0]

    replay = session.run_session(title, net, Replay(), config=session.SessionConfig(abandon=False))
    assert replay.qoe == pytest.approx(opt.qoe, abs=0.5 + 0.01 * abs(opt.qoe))
    worst = optimum.offline_optimum(title, net, cfg, worst=True)
    for name in abr.RULES:
        res = session.run_session(title, net, abr.make(name), config=cfg)
        assert worst.qoe - 0.5 <= res.qoe <= opt.qoe + 0.5 + 0.01 * abs(opt.qoe), name


def test_abandoning_a_download_that_would_stall():
    title = _movie()
    drop = Trace("drop", [Period(20.0, 20_000, 0.02), Period(40.0, 400, 0.02)])
    cfg_on, cfg_off = session.SessionConfig(abandon=True), session.SessionConfig(abandon=False)
    on = session.run_session(title, Network(drop), abr.make("throughput"), config=cfg_on)
    off = session.run_session(title, Network(drop), abr.make("throughput"), config=cfg_off)
    assert any("abandoned" in n for n in on.notes) and not off.notes
    assert on.rebuffer_s < off.rebuffer_s
    # abandoned at a progress check: after the 0.5 s grace, on a 50 ms step
    first = next(n for n in on.notes if "abandoned" in n)
    assert "after 0.50 s" in first or float(first.split("after ")[1].split(" s")[0]) > 0.5


def test_bba_follows_buffer():
    ctx = abr.AbrContext(
        index=5,
        bitrates_kbps=[100, 200, 400],
        segment_s=[2.0] * 10,
        buffer_s=0.5,
        max_buffer_s=25,
        nominal_s=2.0,
        last_rung=2,
        playing=True,
    )
    assert abr.make("bba").choose(ctx).rung == 0
    ctx.buffer_s = 24
    assert abr.make("bba").choose(ctx).rung == 2


def test_vmaf_and_sizes_come_from_report_json():
    from shotenc.delivery.manifests import Presentation, Rendition, Segment
    from shotenc.delivery.player.client import build_title

    def rend(rid, bw):
        segs = [Segment(i + 1, f"v/{rid}/{i + 1}", 2.0 * i, 2.0) for i in range(3)]
        return Rendition(rid, "video", "avc1.640014", bw, "init", segs)

    rends = [rend("low", 200_000), rend("high", 800_000)]
    report = {
        "renditions": [
            {"id": "low", "segments": [{"bytes": 40_000 + i, "vmaf": 60.0 + i} for i in range(3)]},
            {"id": "high", "segments": [{"bytes": 190_000 + i, "vmaf": 90.0 + i} for i in range(3)]},
        ]
    }
    title, exact = build_title(Presentation("m", "dash", rends), rends, report)
    assert exact and title.sizes_bits[2] == [8 * 40_002, 8 * 190_002] and title.vmaf[1] == [61.0, 91.0]
    res = session.run_session(title, Network(constant(100_000, 0.0)), abr.Fixed(1))
    assert res.avg_vmaf == pytest.approx(91.0)
    # without report.json sizes are estimated from BANDWIDTH and there is no VMAF
    title, exact = build_title(Presentation("m", "dash", rends), rends, None)
    assert not exact and title.vmaf is None and title.sizes_bits[0] == [400_000, 1_600_000]
