"""The probe-free default: each rung's budget shared among shots by their complexity.

Hard shots get more bits and the rung's duration-weighted average stays at its target.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from typing import ClassVar

from ..analysis.analyze import Analysis
from ..codecs import RatePoint
from ..ladder import Rung
from .base import Allocator, EncodePlan


@dataclass
class ComplexityAllocator(Allocator):
    """Bitrate per shot proportional to complexity**strength, normalized to the rung's average target."""

    strength: float = 0.6
    min_ratio: float = 0.4
    max_ratio: float = 2.5
    name: ClassVar[str] = "complexity"
    summary: ClassVar[str] = "bitrate shared by complexity features (no probes)"

    def weights(self, analysis: Analysis) -> list[float]:
        durations = [s.duration_s for s in analysis.shots]
        comp = [max(1e-6, f.complexity) for f in analysis.features]
        raw = [c**self.strength for c in comp]
        ratios = _normalize(raw, durations)
        for _ in range(8):  # clamp, then renormalize so the average stays on target
            ratios = [min(self.max_ratio, max(self.min_ratio, r)) for r in ratios]
            ratios = _normalize(ratios, durations)
        return ratios

    def allocate(self, analysis: Analysis, rungs: list[Rung], executor: Executor | None = None) -> EncodePlan:
        ratios = self.weights(analysis)
        points: dict[str, list[RatePoint]] = {}
        durations = [s.duration_s for s in analysis.shots]
        for rung in rungs:
            kbps = _fill_under_cap([rung.bitrate_kbps * r for r in ratios], durations, rung.maxrate_kbps * 0.95)
            points[rung.id] = [RatePoint("bitrate", v, rung.maxrate_kbps, rung.bufsize_kbps) for v in kbps]
        return EncodePlan(self.name, rungs, analysis.shots, points, {"shot_weights": [round(r, 4) for r in ratios]})


def _normalize(values: list[float], durations: list[float]) -> list[float]:
    total = sum(durations) or 1.0
    mean = sum(v * d for v, d in zip(values, durations, strict=True)) / total
    return [v / mean for v in values] if mean > 0 else [1.0] * len(values)


def _fill_under_cap(values: list[float], durations: list[float], cap: float) -> list[float]:
    """Clamp to ``cap`` and give the clipped bits to the shots under it, keeping the weighted mean."""
    total = sum(durations) or 1.0
    target = sum(v * d for v, d in zip(values, durations, strict=True)) / total
    out = [min(cap, v) for v in values]
    for _ in range(20):
        mean = sum(v * d for v, d in zip(out, durations, strict=True)) / total
        free = [i for i, v in enumerate(out) if v < cap]
        if mean >= target * 0.999 or not free:
            break
        room = sum(out[i] * durations[i] for i in free)
        scale = 1 + (target - mean) * total / room if room else 1
        out = [min(cap, v * scale) if i in free else v for i, v in enumerate(out)]
    return out
