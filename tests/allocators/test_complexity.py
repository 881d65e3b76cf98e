"""The probe-free default allocator on plain data."""

from __future__ import annotations

import pytest

from shotenc.allocators.complexity import ComplexityAllocator
from shotenc.analysis.analyze import Analysis
from shotenc.analysis.features import ShotFeatures
from shotenc.analysis.shots import Shot
from shotenc.ladder import Rung


def _rung(codec="h264", height=360, kbps=800.0, rid=None):
    return Rung(rid or f"{codec}-{height}p", codec, height, kbps, kbps * 1.5, kbps * 3, "fast")


def _analysis(complexities, durations):
    shots, start = [], 0
    for i, d in enumerate(durations):
        n = int(d * 25)
        shots.append(Shot(i, start, n, start / 25, n / 25, True))
        start += n
    feats = [ShotFeatures(0, 0, 0, 0, 0, 0, 0, 0, c) for c in complexities]
    return Analysis(media=None, shots=shots, features=feats, cuts=[], seconds=0)  # type: ignore[arg-type]


def test_complexity_allocation_keeps_rung_average_and_favours_hard_shots():
    a = _analysis([10, 40, 160, 20], [2, 4, 1, 3])
    plan = ComplexityAllocator().allocate(a, [_rung(kbps=1000), _rung("vp9", kbps=500)])
    for rung_id, target in (("h264-360p", 1000), ("vp9-360p", 500)):
        pts = plan.points[rung_id]
        avg = sum(p.value * s.duration_s for p, s in zip(pts, a.shots, strict=True)) / sum(
            s.duration_s for s in a.shots
        )
        assert avg == pytest.approx(target, rel=0.02)
        values = [p.value for p in pts]
        assert values[2] > values[1] > values[3] > values[0]
        assert all(p.value <= p.maxrate_kbps for p in pts)
