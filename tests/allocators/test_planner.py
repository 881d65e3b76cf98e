"""The planner on hand-made rate-quality points: one size per rung, or a size per shot."""

from __future__ import annotations

from shotenc.allocators.convex import RDPoint
from shotenc.allocators.planner import HullPlanner
from shotenc.analysis.analyze import Analysis
from shotenc.analysis.features import ShotFeatures
from shotenc.analysis.shots import Shot
from shotenc.ladder import Rung

FULL, SMALL = (640, 360), (416, 234)
SIZES = {"h264": [(*SMALL, "fast"), (*FULL, "fast")]}


def analysis(n_shots: int) -> Analysis:
    shots = [Shot(i, i * 50, 50, i * 2.0, 2.0, True) for i in range(n_shots)]
    feats = [ShotFeatures(0, 0, 0, 0, 0, 0, 0, 0, 1) for _ in shots]
    return Analysis(media=None, shots=shots, features=feats, cuts=[], seconds=0)  # type: ignore[arg-type]


def curve(size: tuple[int, int], rates: list[float], quality: list[float]) -> list[RDPoint]:
    return [RDPoint(r, q, 40 - 5 * i, *size) for i, (r, q) in enumerate(zip(rates, quality, strict=True))]


# a flat shot: the small size is as good as the full one for far fewer bits; a detailed shot: full size wins
POINTS = {
    (0, SMALL): curve(SMALL, [100, 200, 400], [80, 88, 92]),
    (0, FULL): curve(FULL, [180, 360, 720], [80, 89, 94]),
    (1, SMALL): curve(SMALL, [300, 600, 1200], [60, 66, 70]),
    (1, FULL): curve(FULL, [300, 600, 1200], [64, 76, 86]),
}


def points(codec: str, w: int, h: int, shot: int) -> list[RDPoint]:
    return POINTS[(shot, (w, h))]


def rung(height: int = 360, width: int = 640, kbps: float = 500) -> Rung:
    return Rung(f"h264-{height}p", "h264", height, kbps, kbps * 4, kbps * 8, "fast", width)


def test_each_shot_picks_its_own_size_and_the_rung_is_the_largest_used():
    plan = HullPlanner(floor_gap=100, per_shot_sizes=True).plan("t", analysis(2), [rung()], points, SIZES, {})
    (r,) = plan.rungs
    assert (r.width, r.height) == FULL and r.id == "h264-360p"
    assert [plan.size(r, i) for i in (0, 1)] == [SMALL, FULL]  # the flat shot drops to 234p
    assert plan.resizes(r) and plan.details["per_shot_sizes"]
    one_size = HullPlanner(floor_gap=100).plan("t", analysis(2), [rung()], points, SIZES, {})
    assert not one_size.resizes(one_size.rungs[0])  # without it, every shot keeps the rung's size


def test_a_rung_never_takes_a_size_above_its_own_and_shrinks_to_the_largest_used():
    small_rung = rung(234, 416)
    plan = HullPlanner(floor_gap=100, per_shot_sizes=True).plan("t", analysis(2), [small_rung], points, SIZES, {})
    (r,) = plan.rungs
    assert (r.width, r.height) == SMALL and not plan.resizes(r)
    points_flat_only = {k: v for k, v in POINTS.items() if k[0] == 0}
    one = analysis(1)
    plan = HullPlanner(per_shot_sizes=True).plan(
        "t", one, [rung(kbps=150)], lambda c, w, h, s: points_flat_only[(s, (w, h))], SIZES, {}
    )
    (r,) = plan.rungs
    assert (r.width, r.height) == SMALL and r.id == "h264-360p"  # nothing used 360p: the rendition is 234p
