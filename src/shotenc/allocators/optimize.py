"""Per-shot optimizers that plug into :mod:`shotenc.plan`: ``hull``, ``target-quality`` and ``model``.

All three return capped-CRF rate points (``RatePoint("crf", crf, maxrate=rung's cap)``): the CRF
carries the quality decision, the cap keeps every rung inside its VBV envelope for streaming.

- :class:`HullAllocator` (the Dynamic Optimizer): probes each shot over (size, CRF), keeps each
  shot's convex hull, and for every rung picks one hull point per shot with one Lagrange multiplier
  so the rung meets its average bitrate (or its quality target), with a per-shot quality floor.
  With ``auto_ladder`` the rung's size is chosen from the hulls across sizes (a per-title ladder).
- :class:`TargetQualityAllocator`: per shot and rung, the CRF reaching a target VMAF, found with
  at most four probes and interpolation (as ab-av1 and Av1an do).
- :class:`ModelAllocator`: the hull method on curves predicted from shot features, no probes.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .. import codecs
from ..analysis.analyze import Analysis
from ..encode.chunk import SourceRef
from ..errors import ShotencError
from ..ladder import Rung
from .base import EncodePlan, RatePoint
from .convex import Allocation, RDPoint, equal_slope, equal_slope_for_quality, upper_hull
from .probes import ProbeResult, ProbeSettings, ProbeSpec, interpolate, probe_shot, run_probes

MODES = ("complexity", "hull", "target-quality", "model")
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


def _even(x: float) -> int:
    return max(2, int(round(x / 2)) * 2)


def candidate_sizes(analysis: Analysis, rungs: Sequence[Rung], codec: str, auto: bool) -> list[tuple[int, int, str]]:
    """(width, height, preset) to probe for ``codec``: its rung sizes, plus, for a per-title ladder,
    standard heights between its smallest rung and the source."""
    mine = [r for r in rungs if r.codec == codec]
    sizes = {(r.width, r.height): r.preset for r in mine}
    if auto:
        media = analysis.media
        aspect = media.width / media.height
        preset = mine[-1].preset
        lo = min(r.height for r in mine)
        src_h = media.height - media.height % 2
        fixed = {r.height for r in mine} | {src_h}
        # a standard height within 8% of a rung's or the source's adds a probe size, not a choice
        heights = {h for h in STANDARD_HEIGHTS if lo <= h <= src_h and all(abs(h - f) > 0.08 * f for f in fixed)}
        heights |= {src_h}
        for h in heights:
            w = min(_even(h * aspect), media.width - media.width % 2)
            sizes.setdefault((w, h), preset)
    return sorted(((w, h, p) for (w, h), p in sizes.items()), key=lambda s: s[1])


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
            options = sizes[rung.codec] if self.auto_ladder else [(rung.width, rung.height, rung.preset)]
            best: RungChoice | None = None
            for w, h, _preset in options:
                hulls = [upper_hull(points(rung.codec, w, h, s.index)) for s in analysis.shots]
                alloc = self.choose(hulls, weights, rung, targets.get(rung.id))
                cand = RungChoice(rung, alloc, (w, h), "vmaf" if rung.id in targets else "bitrate")
                if best is None or _better(cand, best):
                    best = cand
            assert best is not None
            new = rung
            if (best.size[0], best.size[1]) != (rung.width, rung.height):
                rid = f"{rung.codec}-{best.size[1]}p-{rung.bitrate_kbps:.0f}k"
                new = replace(rung, width=best.size[0], height=best.size[1], id=rid)
            if new.id in used_ids:
                new = replace(new, id=f"{new.id}-{len(used_ids)}")
            used_ids.add(new.id)
            out_rungs.append(new)
            plan_points[new.id] = [
                RatePoint("crf", codecs.get(rung.codec).crf(p.crf), rung.maxrate_kbps, rung.bufsize_kbps)
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
        }
        return EncodePlan(name, out_rungs, analysis.shots, plan_points, details)


def _better(a: RungChoice, b: RungChoice) -> bool:
    """For a bitrate target: higher mean quality wins; for a quality target: lower rate (if reached)."""
    if a.allocation.feasible != b.allocation.feasible:
        return a.allocation.feasible
    if a.target == "vmaf":
        return a.allocation.kbps < b.allocation.kbps
    return a.allocation.quality > b.allocation.quality


def _hull_summary(points: list[RDPoint]) -> list[list[float]]:
    return [[round(p.kbps, 2), round(p.quality, 3), p.crf] for p in upper_hull(points)]


@dataclass
class HullAllocator:
    """Netflix-style Dynamic Optimizer over probe encodes (see module docstring)."""

    work_dir: str | os.PathLike | None = None
    settings: ProbeSettings = field(default_factory=ProbeSettings)
    target_vmaf: float | None = None
    floor_vmaf: float | None = None
    floor_gap: float = 6.0
    auto_ladder: bool = False
    name: str = "hull"
    last_probes: object = None  # the ProbeRun of the last allocate() (for cost reports)

    def allocate(self, analysis: Analysis, rungs: list[Rung]) -> EncodePlan:
        codecs = list(dict.fromkeys(r.codec for r in rungs))
        sizes = {c: candidate_sizes(analysis, rungs, c, self.auto_ladder) for c in codecs}
        work = Path(self.work_dir) if self.work_dir else default_cache_dir()
        run = run_probes(analysis.media, analysis.shots, sizes, work, self.settings)
        self.last_probes = run
        cache: dict[tuple, list[RDPoint]] = {}

        def points(codec: str, w: int, h: int, shot: int) -> list[RDPoint]:
            key = (codec, w, h, shot)
            if key not in cache:
                mine = [r for r in run.for_shot(shot, codec) if (r.width, r.height) == (w, h)]
                cache[key] = interpolate(mine)
            return cache[key]

        hulls = {
            c: {f"{w}x{h}": [_hull_summary(points(c, w, h, s.index)) for s in analysis.shots] for w, h, _ in sizes[c]}
            for c in codecs
        }
        details = {
            "probes": {
                "count": len(run.results),
                "new": run.new,
                "wall_s": round(run.wall_s, 3),
                "cpu_s": round(run.cpu_s, 3),
                "window_s": self.settings.window_s,
                "n_subsample": self.settings.n_subsample,
                "crfs": {c: list(self.settings.crfs_for(c)) for c in codecs},
            },
            "hulls": hulls,
        }
        planner = HullPlanner(self.target_vmaf, self.floor_vmaf, self.floor_gap, self.auto_ladder)
        return planner.plan(self.name, analysis, rungs, points, sizes, details)


@dataclass
class TargetQualityAllocator:
    """Per shot and rung: the CRF that reaches the rung's VMAF target, in at most ``max_probes`` probes."""

    target_vmaf: float = 93.0
    work_dir: str | os.PathLike | None = None
    settings: ProbeSettings = field(default_factory=ProbeSettings)
    max_probes: int = 4
    tolerance: float = 0.75  # stop when a probe lands this close to the target
    name: str = "target-quality"
    last_probes: object = None

    def search(
        self, analysis: Analysis, src: SourceRef, shot_index: int, rung: Rung, target: float, work: Path
    ) -> tuple[float, list[ProbeResult]]:
        """Bracket the target with probes (start mid-range, step by the measured slope), then interpolate."""
        codec = rung.codec
        lo_c, hi_c = codecs.get(codec).crf_range
        grid = self.settings.crfs_for(codec)
        shot = analysis.shots[shot_index]
        preset = self.settings.preset.get(codec, rung.preset)
        tried: list[ProbeResult] = []

        def probe(crf: float) -> ProbeResult:
            spec = ProbeSpec(codec, preset, rung.width, rung.height, codecs.get(codec).crf(crf))
            res = probe_shot(analysis.media, src, shot, [spec], work, self.settings)[0]
            tried.append(res)
            return res

        crf = float(np.mean(grid))
        step = (grid[-1] - grid[0]) / 3
        r = probe(crf)
        while len(tried) < self.max_probes and abs(r.vmaf - target) > self.tolerance:
            above = [t for t in tried if t.vmaf >= target]
            below = [t for t in tried if t.vmaf < target]
            if above and below:  # bracketed: interpolate between the closest pair
                a = max(above, key=lambda t: t.crf)
                b = min(below, key=lambda t: t.crf)
                if abs(a.crf - b.crf) <= 1:
                    break
                nxt = a.crf + (a.vmaf - target) / max(1e-6, a.vmaf - b.vmaf) * (b.crf - a.crf)
            else:  # not bracketed: step in the right direction, by the slope if known
                direction = 1 if r.vmaf > target else -1
                nxt = r.crf + direction * step
                if len(tried) >= 2:
                    s = sorted(tried, key=lambda t: t.crf)
                    slope = (s[-1].vmaf - s[0].vmaf) / max(1e-6, s[-1].crf - s[0].crf)  # < 0
                    if slope < -1e-3:
                        nxt = r.crf + min(2 * step, max(1.0, abs((r.vmaf - target) / slope))) * direction
            nxt = min(hi_c, max(lo_c, nxt))
            if any(abs(codecs.get(codec).crf(nxt) - t.crf) < 0.5 for t in tried):
                break
            r = probe(nxt)
        return _crf_for_target(tried, target, codec), tried

    def allocate(self, analysis: Analysis, rungs: list[Rung]) -> EncodePlan:
        work = Path(self.work_dir) if self.work_dir else default_cache_dir()
        src = SourceRef.of(analysis.media)
        targets = rung_targets(rungs, self.target_vmaf)
        tasks = [(r, s.index) for r in rungs for s in analysis.shots]
        jobs = self.settings.jobs or os.cpu_count() or 1
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            found = list(pool.map(lambda t: self.search(analysis, src, t[1], t[0], targets[t[0].id], work), tasks))
        wall = time.perf_counter() - t0
        points: dict[str, list[RatePoint]] = {r.id: [] for r in rungs}
        per_rung: dict[str, list] = {r.id: [] for r in rungs}
        all_results: list[ProbeResult] = []
        for (rung, _shot), (crf, tried) in zip(tasks, found, strict=True):
            points[rung.id].append(RatePoint("crf", crf, rung.maxrate_kbps, rung.bufsize_kbps))
            per_rung[rung.id].append(
                {"crf": crf, "probes": [[t.crf, round(t.kbps, 1), round(t.vmaf, 2)] for t in tried]}
            )
            all_results += tried
        new = [r for r in all_results if not r.cached]
        self.last_probes = all_results
        details = {
            "target_vmaf": self.target_vmaf,
            "rung_targets": {k: round(v, 2) for k, v in targets.items()},
            "probes": {
                "count": len(all_results),
                "new": len(new),
                "wall_s": round(wall, 3),
                "cpu_s": round(sum(r.encode_s + r.score_s for r in all_results), 3),
                "window_s": self.settings.window_s,
            },
            "shots": per_rung,
        }
        return EncodePlan(self.name, list(rungs), analysis.shots, points, details)


def _crf_for_target(tried: Sequence[ProbeResult], target: float, codec: str) -> float:
    """The largest CRF whose interpolated VMAF still reaches ``target`` (bounded by the probes)."""
    s = sorted(tried, key=lambda t: t.crf)
    ok = [t for t in s if t.vmaf >= target]
    if not ok:  # even the best probe misses: take it (the rung's cap or size limits quality)
        return codecs.get(codec).crf(s[0].crf)
    a = max(ok, key=lambda t: t.crf)
    worse = [t for t in s if t.crf > a.crf]
    if not worse:
        return codecs.get(codec).crf(a.crf)
    b = worse[0]
    crf = a.crf + (a.vmaf - target) / max(1e-6, a.vmaf - b.vmaf) * (b.crf - a.crf)
    return codecs.get(codec).crf_floor(crf)


@dataclass
class ModelAllocator:
    """The hull method on rate-quality curves predicted from each shot's features: no probe encodes."""

    model: object = None  # a shotenc.allocators.model.RateQualityModel (the shipped one when None)
    target_vmaf: float | None = None
    floor_vmaf: float | None = None
    floor_gap: float = 6.0
    auto_ladder: bool = False
    name: str = "model"

    def allocate(self, analysis: Analysis, rungs: list[Rung]) -> EncodePlan:
        from .model import RateQualityModel

        model = self.model or RateQualityModel.load()
        codecs = list(dict.fromkeys(r.codec for r in rungs))
        missing = [c for c in codecs if c not in model.codecs]
        if missing:
            raise ShotencError(
                f"the rate-quality model has no fit for {', '.join(missing)}; refit it with `shotenc train`"
            )
        sizes = {c: candidate_sizes(analysis, rungs, c, self.auto_ladder) for c in codecs}
        fps = float(analysis.media.fps)
        cache: dict[tuple, list[RDPoint]] = {}

        def points(codec: str, w: int, h: int, shot: int) -> list[RDPoint]:
            key = (codec, w, h, shot)
            if key not in cache:
                lo, hi = model.crf_range(codec)
                crfs = np.arange(lo, hi + 1e-9, 1.0)
                kbps, vmaf = model.predict(
                    codec, analysis.features[shot], w, h, fps, crfs, source_height=analysis.media.height
                )
                cache[key] = [
                    RDPoint(float(k), float(v), float(c), w, h) for k, v, c in zip(kbps, vmaf, crfs, strict=True)
                ]
            return cache[key]

        # the model predicts rates for the preset it was fitted with; another preset shifts them
        mismatched = sorted(
            {
                f"{r.id}: {r.preset} (model: {model.fits[r.codec].get('preset')})"
                for r in rungs
                if model.fits[r.codec].get("preset") not in (None, r.preset)
            }
        )
        details = {"model": {"source": model.source, "codecs": sorted(model.codecs), "preset_mismatch": mismatched}}
        planner = HullPlanner(self.target_vmaf, self.floor_vmaf, self.floor_gap, self.auto_ladder)
        return planner.plan(self.name, analysis, rungs, points, sizes, details)


def make_allocator(
    mode: str,
    *,
    target_vmaf: float | None = None,
    auto_ladder: bool = False,
    work_dir: str | os.PathLike | None = None,
    jobs: int | None = None,
    model_path: str | os.PathLike | None = None,
):
    """The allocator for a CLI ``--mode`` (``complexity`` keeps the probe-free default)."""
    from .base import ComplexityAllocator

    settings = ProbeSettings(jobs=jobs or 0)
    if mode == "complexity":
        if auto_ladder or target_vmaf is not None:
            raise ShotencError("--ladder auto and --target-vmaf need --mode hull, target-quality or model")
        return ComplexityAllocator()
    if mode == "hull":
        return HullAllocator(work_dir, settings, target_vmaf=target_vmaf, auto_ladder=auto_ladder)
    if mode == "target-quality":
        if auto_ladder:
            raise ShotencError("--ladder auto needs --mode hull or model (it chooses sizes from hulls)")
        return TargetQualityAllocator(93.0 if target_vmaf is None else target_vmaf, work_dir, settings)
    if mode == "model":
        from .model import RateQualityModel

        model = RateQualityModel.load(model_path) if model_path else None
        return ModelAllocator(model, target_vmaf=target_vmaf, auto_ladder=auto_ladder)
    raise ShotencError(f"unknown mode {mode!r}; choose from {', '.join(MODES)}")
