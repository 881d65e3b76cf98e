"""Shared by the allocators that work on rate-quality curves: per-rung targets, candidate sizes,
and the planner that turns per-shot points into a plan (equal slope, per-shot quality floor)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from .. import codecs
from ..analysis.analyze import Analysis
from ..codecs import RatePoint
from ..ladder import Rung, picture, tier
from .base import Allocator, EncodePlan
from .convex import Allocation, RDPoint, equal_slope, equal_slope_for_quality, upper_hull

# heights a per-title ladder may choose from (besides the ladder's own and the source's)
STANDARD_HEIGHTS = (144, 180, 234, 270, 360, 432, 540, 720, 1080, 1440, 2160)


def default_cache_dir() -> Path:
    """Where probe results are kept between runs (``$SHOTENC_CACHE`` or ``~/.cache/shotenc``)."""
    env = os.environ.get("SHOTENC_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "shotenc"


def rung_targets(rungs: Sequence[Rung], target_vmaf: float, step_per_halving: float = 6.0) -> dict[str, float]:
    """A VMAF target per rung: ``target_vmaf`` for each codec's top rung, lower ones by their rate.

    A rung with half the top rung's bitrate aims ``step_per_halving`` VMAF lower (a typical slope of
    rate-VMAF curves in the middle range), so a ladder keeps distinct rungs.
    """
    out: dict[str, float] = {}
    for codec in {r.codec for r in rungs}:
        mine = [r for r in rungs if r.codec == codec]
        top = max(r.bitrate_kbps for r in mine)
        for r in mine:
            out[r.id] = min(100.0, target_vmaf - step_per_halving * math.log2(top / r.bitrate_kbps))
    return out


def candidate_sizes(
    analysis: Analysis, rungs: Sequence[Rung], codec: str, auto: bool, between: bool = False
) -> list[tuple[int, int, str]]:
    """(width, height, preset) to probe for ``codec``: its rung sizes, plus standard heights from its
    smallest rung up to the source (a per-title ladder, ``auto``) or up to its largest rung (``between``:
    the sizes a shot may take inside a rung)."""
    mine = [r for r in rungs if r.codec == codec]
    sizes = {(r.width, r.height): r.preset for r in mine}
    if auto or between:
        media = analysis.media
        preset = mine[-1].preset
        lo = min(tier(r) for r in mine)
        short = min(media.width, media.height)
        top = short - short % 2 if auto else max(tier(r) for r in mine)
        fixed = {tier(r) for r in mine} | {top}
        # a standard height within 8% of a rung's or the source's adds a probe size, not a choice
        heights = {h for h in STANDARD_HEIGHTS if lo <= h <= top and all(abs(h - f) > 0.08 * f for f in fixed)}
        for h in heights | {top}:
            sizes.setdefault(picture(h, media.width, media.height), preset)
    return sorted(((w, h, p) for (w, h), p in sizes.items()), key=lambda s: s[1] * s[0])


@dataclass
class RungChoice:
    rung: Rung
    allocation: Allocation
    size: tuple[int, int]
    target: str  # "bitrate" or "vmaf"

    def to_dict(self) -> dict:
        a = self.allocation
        return {
            "rung": self.rung.id,
            "size": list(self.size),
            "target": self.target,
            "predicted_kbps": round(a.kbps, 1),
            "predicted_vmaf": round(a.quality, 2),
            "predicted_worst_vmaf": round(a.worst, 2),
            "floor": None if a.floor is None else round(a.floor, 2),
            "lambda": None if math.isinf(a.lam) else a.lam,
            "feasible": a.feasible,
            "crf": [p.crf for p in a.points],
        }


@dataclass
class HullPlanner:
    """Turns per-shot rate-quality points into a plan (shared by the probing and the model modes)."""

    target_vmaf: float | None = None
    floor_vmaf: float | None = None  # absolute per-shot floor
    floor_gap: float = 6.0  # and no shot more than this below the rung's mean
    auto_ladder: bool = False
    per_shot_sizes: bool = False  # each shot picks its size too (the rung's own is the largest)

    def choose(
        self, hulls: list[list[RDPoint]], weights: list[float], rung: Rung, target_q: float | None
    ) -> Allocation:
        # a shot's average must stay under the rung's peak cap, or the cap (not the plan) decides
        capped = []
        for h in hulls:
            ok = [p for p in h if p.kbps <= rung.maxrate_kbps * 0.9]
            capped.append(upper_hull(ok or [min(h, key=lambda p: p.kbps)]))

        def solve(floor: float | None) -> Allocation:
            if target_q is not None:
                return equal_slope_for_quality(capped, weights, target_q, floor)
            return equal_slope(capped, weights, rung.bitrate_kbps, floor)

        alloc = solve(self.floor_vmaf)
        for _ in range(3):  # the relative floor depends on the mean it lowers: iterate to a fixed point
            floor = alloc.quality - self.floor_gap
            if self.floor_vmaf is not None:
                floor = max(floor, self.floor_vmaf)
            if alloc.worst >= floor - 1e-6:
                break
            nxt = solve(floor)
            if not nxt.feasible and alloc.feasible and target_q is None:
                break  # the floor cannot be paid for in this budget: keep the best mean instead
            alloc = nxt
        return alloc

    def plan(
        self,
        name: str,
        analysis: Analysis,
        rungs: list[Rung],
        points: Callable[[str, int, int, int], list[RDPoint]],
        sizes: dict[str, list[tuple[int, int, str]]],
        details: dict,
    ) -> EncodePlan:
        """``points(codec, width, height, shot)`` gives a shot's candidate points at one size."""
        weights = [s.duration_s for s in analysis.shots]
        targets = rung_targets(rungs, self.target_vmaf) if self.target_vmaf is not None else {}
        out_rungs: list[Rung] = []
        plan_points: dict[str, list[RatePoint]] = {}
        choices = []
        used_ids: set[str] = set()
        for rung in rungs:
            if self.per_shot_sizes:
                best = self._choose_per_shot(analysis, rung, points, sizes[rung.codec], weights, targets)
            else:
                best = self._choose_per_rung(analysis, rung, points, sizes[rung.codec], weights, targets)
            new = _renamed(rung, best.size, self.auto_ladder, used_ids)
            used_ids.add(new.id)
            out_rungs.append(new)
            codec = codecs.get(rung.codec)
            plan_points[new.id] = [
                RatePoint(
                    "crf", codec.crf(p.crf), rung.maxrate_kbps, rung.bufsize_kbps, *_own_size(p, best.size), p.kbps
                )
                for p in best.allocation.points
            ]
            choices.append({**best.to_dict(), "rung": new.id, "ladder_rung": rung.id})
        details = {
            **details,
            "rungs": choices,
            "floor_gap": self.floor_gap,
            "floor_vmaf": self.floor_vmaf,
            "target_vmaf": self.target_vmaf,
            "auto_ladder": self.auto_ladder,
            "per_shot_sizes": self.per_shot_sizes,
        }
        return EncodePlan(name, out_rungs, analysis.shots, plan_points, details)

    def _choose_per_rung(self, analysis, rung, points, sizes, weights, targets) -> RungChoice:
        """One size for every shot: the rung's own, or (per-title ladder) the best of the candidates."""
        options = sizes if self.auto_ladder else [(rung.width, rung.height, rung.preset)]
        best: RungChoice | None = None
        for w, h, _preset in options:
            hulls = [upper_hull(points(rung.codec, w, h, s.index)) for s in analysis.shots]
            alloc = self.choose(hulls, weights, rung, targets.get(rung.id))
            cand = RungChoice(rung, alloc, (w, h), "vmaf" if rung.id in targets else "bitrate")
            if best is None or _better(cand, best):
                best = cand
        assert best is not None
        return best

    def _choose_per_shot(self, analysis, rung, points, sizes, weights, targets) -> RungChoice:
        """Each shot's hull over every candidate size up to the rung's (any size, for a per-title ladder);
        one multiplier picks a (size, CRF) per shot; the rung's size becomes the largest one used."""
        allowed = [(w, h) for w, h, _ in sizes if self.auto_ladder or h <= rung.height] or [(rung.width, rung.height)]
        hulls = [upper_hull([p for w, h in allowed for p in points(rung.codec, w, h, s.index)]) for s in analysis.shots]
        alloc = self.choose(hulls, weights, rung, targets.get(rung.id))
        used = max(((p.width, p.height) for p in alloc.points if p.width), key=lambda wh: wh[1], default=None)
        size = used or (rung.width, rung.height)
        return RungChoice(rung, alloc, size, "vmaf" if rung.id in targets else "bitrate")


def _own_size(point: RDPoint, rung_size: tuple[int, int]) -> tuple[int, int]:
    """A chunk's size in a rate point: (0, 0) when it is the rung's own (or the point does not say)."""
    size = (point.width, point.height)
    return size if point.width and size != rung_size else (0, 0)


def _renamed(rung: Rung, size: tuple[int, int], auto_ladder: bool, used_ids: set[str]) -> Rung:
    """The rung at its chosen size; a per-title ladder's rung whose size changed says so in its id."""
    new = rung
    if size != (rung.width, rung.height):
        rid = f"{rung.codec}-{min(size)}p-{rung.bitrate_kbps:.0f}k" if auto_ladder else rung.id
        new = replace(rung, width=size[0], height=size[1], id=rid)
    if new.id in used_ids:
        new = replace(new, id=f"{new.id}-{len(used_ids)}")
    return new


def _better(a: RungChoice, b: RungChoice) -> bool:
    """For a bitrate target: higher mean quality wins; for a quality target: lower rate (if reached)."""
    if a.allocation.feasible != b.allocation.feasible:
        return a.allocation.feasible
    if a.target == "vmaf":
        return a.allocation.kbps < b.allocation.kbps
    return a.allocation.quality > b.allocation.quality


def hull_summary(points: list[RDPoint]) -> list[list[float]]:
    return [[round(p.kbps, 2), round(p.quality, 3), p.crf] for p in upper_hull(points)]


@dataclass
class CurveAllocator(Allocator):
    """An allocator that plans on per-shot rate-quality curves, probed or predicted (see :class:`HullPlanner`)."""

    target_vmaf: float | None = None
    floor_vmaf: float | None = None  # absolute per-shot floor
    floor_gap: float = 6.0  # and no shot more than this below the rung's mean
    auto_ladder: bool = False
    per_shot_sizes: bool = False
    chooses_sizes: ClassVar[bool] = True
    takes_quality_target: ClassVar[bool] = True

    def planner(self) -> HullPlanner:
        return HullPlanner(self.target_vmaf, self.floor_vmaf, self.floor_gap, self.auto_ladder, self.per_shot_sizes)
