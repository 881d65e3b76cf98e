"""The convex hull, the equal-slope choice with its floor, and BD-rate, on hand-made numbers."""

from __future__ import annotations

import math

import pytest

from shotenc.allocators.convex import RDPoint, equal_slope, equal_slope_for_quality, pareto_front, upper_hull
from shotenc.allocators.planner import rung_targets
from shotenc.allocators.probes import ProbeResult, interpolate
from shotenc.ladder import Rung
from shotenc.quality.compare import bd_rates


def pts(*pairs):
    return [RDPoint(r, q) for r, q in pairs]


def as_pairs(points):
    return [(p.kbps, p.quality) for p in points]


def test_upper_hull_drops_dominated_and_concave_points():
    cloud = pts((100, 50), (150, 55), (200, 70), (250, 60), (300, 75), (400, 74), (200, 65))
    # (150,55) lies under the chord (100,50)-(200,70); (250,60) and (200,65) are beaten; (400,74) costs more
    # for less than (300,75)
    assert as_pairs(upper_hull(cloud)) == [(100, 50), (200, 70), (300, 75)]


def test_upper_hull_keeps_a_concave_curve_whole_and_sorted():
    curve = pts((400, 90), (100, 60), (200, 80), (800, 95))
    assert as_pairs(upper_hull(curve)) == [(100, 60), (200, 80), (400, 90), (800, 95)]


def test_pareto_front_keeps_non_convex_but_efficient_points():
    cloud = pts((100, 50), (150, 55), (200, 70), (400, 74), (300, 73))
    assert as_pairs(pareto_front(cloud)) == [(100, 50), (150, 55), (200, 70), (300, 73), (400, 74)]


def test_equal_slope_upgrades_the_steepest_shot_first():
    a = pts((100, 60), (200, 80), (400, 90))  # slopes 0.2, 0.05
    b = pts((100, 40), (200, 70), (400, 85))  # slopes 0.3, 0.075
    alloc = equal_slope([a, b], [1, 1], budget_kbps=300)
    assert alloc.choice == [1, 2]  # B's second step (0.075/kbps) beats A's (0.05/kbps)
    assert alloc.kbps == pytest.approx(300)
    assert alloc.quality == pytest.approx(82.5)
    # with the budget of both middle points only, both sit on their middle point
    assert equal_slope([a, b], [1, 1], budget_kbps=200).choice == [1, 1]
    # a budget below everything still returns the cheapest points (the best that exists)
    assert equal_slope([a, b], [1, 1], budget_kbps=50).choice == [0, 0]


def test_equal_slope_weights_shots_by_duration():
    a = pts((100, 60), (300, 90))  # slope 0.15
    b = pts((100, 60), (300, 80))  # slope 0.10
    # unweighted budget 200 buys one upgrade: A's (steeper)
    assert equal_slope([a, b], [1, 1], 200).choice == [1, 0]
    # a short A (weight 1) and a long B (weight 3): mean rate 200 buys A (+50 mean) or not B (+150)
    alloc = equal_slope([a, b], [1, 3], 200)
    assert alloc.choice == [1, 0]
    assert alloc.kbps == pytest.approx((300 * 1 + 100 * 3) / 4)
    # enough for both
    assert equal_slope([a, b], [1, 3], 300).choice == [1, 1]


def test_floor_keeps_a_hard_shot_from_being_starved():
    easy = pts((100, 80), (300, 95))  # slope 0.075
    hard = pts((100, 30), (300, 40))  # slope 0.05: mean-optimal spends nothing on it
    free = equal_slope([easy, hard], [1, 1], 200)
    assert free.choice == [1, 0] and free.worst == 30
    floored = equal_slope([easy, hard], [1, 1], 200, floor=35)
    assert floored.choice == [0, 1]
    assert floored.worst == 40 and floored.feasible
    assert floored.quality < free.quality  # the floor costs mean quality, as it should
    # a floor nothing can pay for is reported, not hidden
    assert not equal_slope([easy, hard], [1, 1], 150, floor=35).feasible


def test_equal_slope_for_quality_finds_the_cheapest_mix():
    a = pts((100, 60), (200, 80), (400, 90))
    b = pts((100, 40), (200, 70), (400, 85))
    alloc = equal_slope_for_quality([a, b], [1, 1], 82)
    assert alloc.choice == [1, 2] and alloc.quality >= 82
    assert alloc.kbps == pytest.approx(300)
    assert not equal_slope_for_quality([a, b], [1, 1], 99).feasible


def test_interpolation_passes_through_probes_and_stays_monotone():
    def probe(crf, kbps, vmaf):
        return ProbeResult(0, "h264", "faster", 320, 180, crf, kbps, vmaf, vmaf, 40.0, 0.0, 10, 0.0, 0.0)

    probes = [probe(17, 800, 95), probe(27, 300, 85), probe(37, 100, 60)]
    dense = interpolate(probes)
    by_crf = {p.crf: p for p in dense}
    for pr in probes:
        assert by_crf[pr.crf].kbps == pytest.approx(pr.kbps)
        assert by_crf[pr.crf].quality == pytest.approx(pr.vmaf)
    ordered = sorted(dense, key=lambda p: p.crf)
    assert all(x.kbps > y.kbps and x.quality >= y.quality for x, y in zip(ordered, ordered[1:], strict=False))
    assert ordered[0].crf == 13 and ordered[-1].crf == 41  # extended past the end probes
    assert all(0 <= p.quality <= 100 for p in dense)


def test_rung_targets_step_down_by_rate():
    def rung(rid, kbps):
        return Rung(rid, "h264", 180, kbps, kbps * 1.5, kbps * 3, "faster", 320)

    t = rung_targets([rung("top", 800), rung("half", 400), rung("quarter", 200)], 93, step_per_halving=6)
    assert t == {"top": 93, "half": pytest.approx(87), "quarter": pytest.approx(81)}


def test_bd_rate_of_a_curve_needing_20_percent_fewer_bits_is_minus_20():
    rates = [100, 200, 400, 800, 1600]
    vmaf = [60, 72, 82, 90, 95]
    psnr = [30, 33, 36, 39, 42]
    rends = []
    for method, factor in (("2pass-vbr", 1.0), ("1pass-capped", 1.25), ("per-shot", 0.8)):
        for r, v, p in zip(rates, vmaf, psnr, strict=True):
            rends.append({"codec": "h264", "method": method, "kbps": r * factor, "vmaf": v, "psnr": p})
    bd = bd_rates(rends, ["h264"])["h264"]
    assert bd["vs_2pass-vbr"]["vmaf"]["value"] == pytest.approx(-20, abs=0.01)
    assert bd["vs_2pass-vbr"]["psnr"]["value"] == pytest.approx(-20, abs=0.01)
    assert bd["vs_1pass-capped"]["vmaf"]["value"] == pytest.approx((0.8 / 1.25 - 1) * 100, abs=0.01)
    few = [r for r in rends if r["kbps"] < 300]
    assert bd_rates(few, ["h264"])["h264"]["vs_2pass-vbr"]["vmaf"]["value"] is None
    assert not math.isnan(bd["vs_1pass-capped"]["psnr"]["value"])
