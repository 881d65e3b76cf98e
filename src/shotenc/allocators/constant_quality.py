"""The default: one capped CRF per rung for every shot, chosen so the rung spends its budget.

Why one CRF: x264, x265, libvpx and SVT-AV1 all map a CRF to a rate-distortion trade-off
(a Lagrange multiplier) that is nearly the same for every kind of content, so one CRF across the
shots of a rung is close to the equal-slope choice of the Dynamic Optimizer -- without scoring a
single probe. Easy shots get few bits, hard shots many; the rung's VBV cap (maxrate, bufsize)
keeps peaks deliverable. What is left is to pick the CRF that spends the rung's average bitrate,
which needs each shot's rate at that CRF: rate probes, not quality probes.

Probes (no VMAF): per shot and codec, the whole shot at half the smallest rung's width and height
(its rate: a window of a shot can misjudge its rate by half), a window of it there at two CRFs
(its own rate-vs-CRF slope) and the same window at the largest rung size (how its rate grows
with the picture). A shot's rate at any rung and CRF follows from those in log-rate, log-pixels and CRF.
Each rung then gets the CRF whose predicted rate matches its target (shots under the
cap), dithered between two neighbouring CRF steps across shots so the target is met more finely
than the encoder's CRF resolution; the encode's rate feedback removes what the probes misjudged.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar

import numpy as np

from .. import codecs
from ..analysis.analyze import Analysis
from ..codecs import RatePoint
from ..ladder import Rung, even
from .base import Allocator, AllocatorOptions, EncodePlan
from .planner import default_cache_dir
from .probes import ProbeResult, ProbeRun, ProbeSettings, run_probes

CAP_SHARE = 0.95  # a capped shot averages a little under the cap
SLOPE_LIMITS = (0.5, 2.0)  # a shot's measured slope, relative to the codec's typical one
DEFAULT_EXPONENT = 0.75  # rate ~ pixels ** 0.75 when a codec has one size to probe
EXPONENT_LIMITS = (0.3, 2.0)
PROBE_MIN_HEIGHT = 144
REFINE_ROUNDS = 2  # extra probe rounds at CRFs the first plan chose far from the probed ones


@dataclass(frozen=True)
class RateModel:
    """One shot's rate at any (pixels, CRF), from its probes, in log-rate, log-pixels and CRF."""

    crf: float  # the reference CRF of the probes
    pixels: int  # the size the whole shot was probed at
    kbps: float  # the whole shot's rate there at ``crf``
    exponent: float  # rate grows as pixels ** exponent (where no CRF of ``exponents`` says otherwise)
    halving: float  # CRF steps that halve this shot's rate (past the probed CRFs)
    # (CRF, log2 of the rate relative to ``crf``) where a window was probed at two or more CRFs:
    # rate is not exactly exponential in CRF (film grain costs far more at low CRFs), so between
    # probed CRFs it is interpolated, and only past them extended with ``halving``
    curve: tuple[tuple[float, float], ...] = ()
    # (CRF, exponent) where the window was probed at both sizes: grain grows faster than the picture
    # at low CRFs (a downscale averages it away), so the exponent too follows the CRF
    exponents: tuple[tuple[float, float], ...] = ()

    def exponent_at(self, crf: float) -> float:
        pts = self.exponents
        if not pts:
            return self.exponent
        return float(np.interp(crf, [c for c, _ in pts], [e for _, e in pts]))

    def octaves(self, crf: float) -> float:
        """log2 of the rate at ``crf`` relative to the rate at the reference CRF."""
        pts = self.curve or ((self.crf, 0.0),)
        if crf <= pts[0][0]:
            return pts[0][1] + (pts[0][0] - crf) / self.halving
        if crf >= pts[-1][0]:
            return pts[-1][1] - (crf - pts[-1][0]) / self.halving
        return float(np.interp(crf, [c for c, _ in pts], [v for _, v in pts]))

    def rate(self, pixels: int, crf: float) -> float:
        return self.kbps * (pixels / self.pixels) ** self.exponent_at(crf) * 2 ** self.octaves(crf)


def rate_model(whole: Sequence[ProbeResult], windows: Sequence[ProbeResult], codec: str, crf: float) -> RateModel:
    """One shot's :class:`RateModel`: ``whole`` has the whole shot at the probe size at ``crf`` (its rate),
    ``windows`` a window of it at the probe size at two CRFs (its slope) and at the largest rung size at
    ``crf`` (its size exponent). Like with like: a window is only ever compared with the same window."""
    typical = codecs.get(codec).crf_halving
    base = min((r for r in whole if r.crf == crf), key=lambda r: r.width * r.height)
    pixels = base.width * base.height
    halving = typical
    same = {r.crf: r.kbps for r in windows if r.width * r.height == pixels and r.kbps > 0}
    curve: tuple[tuple[float, float], ...] = ()
    if crf in same and len(same) >= 2:
        crfs = sorted(same)
        # rate must fall as CRF rises: a probe that says otherwise is noise, held at its neighbour's
        levels = np.minimum.accumulate([math.log2(same[c] / same[crf]) for c in crfs])
        curve = tuple(zip(crfs, (float(v) for v in levels), strict=True))
        if levels[0] > levels[-1]:
            halving = (crfs[-1] - crfs[0]) / (levels[0] - levels[-1])
    halving = min(typical * SLOPE_LIMITS[1], max(typical * SLOPE_LIMITS[0], halving))
    exponents = []
    for c in sorted({r.crf for r in windows}):
        sized = sorted((r for r in windows if r.crf == c and r.kbps > 0), key=lambda r: r.width * r.height)
        p0, p1 = (sized[0].width * sized[0].height, sized[-1].width * sized[-1].height) if sized else (0, 0)
        if p1 > p0:
            e = math.log(sized[-1].kbps / sized[0].kbps) / math.log(p1 / p0)
            exponents.append((c, min(EXPONENT_LIMITS[1], max(EXPONENT_LIMITS[0], e))))
    exponent = dict(exponents).get(crf, DEFAULT_EXPONENT)
    return RateModel(crf, pixels, max(1e-3, base.kbps), exponent, halving, curve, tuple(exponents))


def probe_size(rung: Rung) -> tuple[int, int]:
    """Where a shot's rate is probed whole: half the smallest rung's width and height (a quarter of its
    pixels: the whole shot costs little more than a window at full size), not under 144 lines."""
    if rung.height < 2 * PROBE_MIN_HEIGHT:
        return rung.width, rung.height
    return even(rung.width / 2), even(rung.height / 2)


def rung_crfs(models: Sequence[RateModel], durations: Sequence[float], rung: Rung) -> list[float]:
    """Per shot, the rung's CRF: the one whose predicted rate (under the cap) spends the target,
    dithered between two neighbouring CRF steps so the average lands between them."""
    codec = codecs.get(rung.codec)
    pixels = rung.width * rung.height
    cap = rung.maxrate_kbps * CAP_SHARE if rung.maxrate_kbps else math.inf
    total = sum(durations) or 1.0

    def mean_kbps(crfs: Sequence[float]) -> float:
        return sum(min(cap, m.rate(pixels, c)) * d for m, c, d in zip(models, crfs, durations, strict=True)) / total

    def under_cap(model: RateModel, crf: float) -> float:
        """``crf``, or the lowest above it whose predicted rate fits under the cap (an encoder without a
        VBV in constant-quality mode relies on it; for the others it spares the VBV a fight)."""
        while model.rate(pixels, crf) > cap and crf < codec.crf_range[1]:
            crf = codec.crf(crf + codec.crf_step)
        return crf

    lo, hi = codec.best_crf, codec.crf_range[1]  # (CRF 0 is lossless, which x264's High profile refuses)
    for _ in range(50):  # rate falls as CRF rises: bisect
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if mean_kbps([mid] * len(models)) > rung.bitrate_kbps else (lo, mid)
    fine = codec.crf((lo + hi) / 2)
    coarse = codec.crf(fine + codec.crf_step) if mean_kbps([fine] * len(models)) > rung.bitrate_kbps else fine
    finer = max(codec.best_crf, codec.crf(coarse - codec.crf_step))
    crfs = [under_cap(m, coarse) for m in models]
    # the longest shots first, each moved to the finer step while the rung stays within its budget
    for i in sorted(range(len(models)), key=lambda i: -durations[i]):
        trial = [*crfs[:i], under_cap(models[i], finer), *crfs[i + 1 :]]
        if mean_kbps(trial) <= rung.bitrate_kbps:
            crfs = trial
    return crfs


@dataclass
class ConstantQualityAllocator(Allocator):
    """One capped CRF per rung from rate probes (see module docstring)."""

    work_dir: str | os.PathLike | None = None  # probe cache (default: the user's cache folder)
    settings: ProbeSettings = field(default_factory=lambda: ProbeSettings(score=False))
    name: ClassVar[str] = "crf"
    summary: ClassVar[str] = "one capped CRF per rung for every shot, from rate probes (no scoring)"
    probes: ClassVar[bool] = True
    last_probes: object = None

    @classmethod
    def from_options(cls, options: AllocatorOptions) -> ConstantQualityAllocator:
        return cls(work_dir=options.cache_dir)

    def allocate(self, analysis: Analysis, rungs: list[Rung], executor: Executor | None = None) -> EncodePlan:
        names = list(dict.fromkeys(r.codec for r in rungs))
        refs = {c: float(codecs.get(c).probe_crfs[len(codecs.get(c).probe_crfs) // 2]) for c in names}
        steps = {c: codecs.get(c).crf_halving for c in names}  # the second CRF: about half the rate
        work = Path(self.work_dir) if self.work_dir else default_cache_dir()
        whole_specs: dict[str, list[tuple]] = {}
        window_specs: dict[str, list[tuple]] = {}
        for c in names:
            mine = sorted((r for r in rungs if r.codec == c), key=lambda r: r.width * r.height)
            small, large = mine[0], mine[-1]
            w, h = probe_size(small)
            whole_specs[c] = [(w, h, small.preset, (refs[c],))]
            window_specs[c] = [(w, h, small.preset, (refs[c], refs[c] + steps[c]))]
            if (large.width, large.height) != (w, h):
                window_specs[c].append((large.width, large.height, large.preset, (refs[c],)))
        whole_settings = replace(self.settings, window_fraction=1.0)  # the whole shot, at a quarter of the pixels
        run = run_probes(
            analysis.media, analysis.shots, whole_specs, work, whole_settings, executor=executor,
            also=[(window_specs, self.settings)],
        )  # fmt: skip
        durations = [s.duration_s for s in analysis.shots]
        whole_frames = {s.index: s.frame_count for s in analysis.shots}

        def split(shot: int, codec: str) -> tuple[list[ProbeResult], list[ProbeResult]]:
            """(whole-shot probes, window probes); a short shot's window is the whole shot."""
            mine = run.for_shot(shot, codec)
            whole = [r for r in mine if r.frames == whole_frames[shot]]
            return whole, [r for r in mine if r.frames != whole_frames[shot]] or whole

        probed = {c: {refs[c], refs[c] + steps[c]} for c in names}
        for round_ in range(REFINE_ROUNDS + 1):
            models = {c: [rate_model(*split(s.index, c), c, refs[c]) for s in analysis.shots] for c in names}
            # a rung whose CRF lies far from every probed one was planned on an extrapolation: probe
            # the shots' window there too (cheap: the probe size) and plan again
            far: dict[str, set[float]] = {}
            for rung in rungs:
                for crf in set(rung_crfs(models[rung.codec], durations, rung)):
                    gap = steps[rung.codec] / 2
                    if min(abs(crf - p) for p in probed[rung.codec]) > gap:  # on a grid: rungs share probes
                        far.setdefault(rung.codec, set()).add(codecs.get(rung.codec).crf(round(crf / gap) * gap))
            if not far or round_ == REFINE_ROUNDS:
                break
            grid = {c: [(*size[:3], tuple(sorted(v))) for size in window_specs[c]] for c, v in far.items()}
            more = run_probes(analysis.media, analysis.shots, grid, work, self.settings, executor=executor)
            run = ProbeRun(run.results + more.results, run.wall_s + more.wall_s)
            for c, v in far.items():
                probed[c] |= v
        self.last_probes = run
        points: dict[str, list[RatePoint]] = {}
        chosen = []
        for rung in rungs:
            crfs = rung_crfs(models[rung.codec], durations, rung)
            pixels = rung.width * rung.height
            cap = rung.maxrate_kbps * CAP_SHARE if rung.maxrate_kbps else math.inf
            points[rung.id] = [
                RatePoint("crf", c, rung.maxrate_kbps, rung.bufsize_kbps, predicted_kbps=min(cap, m.rate(pixels, c)))
                for m, c in zip(models[rung.codec], crfs, strict=True)
            ]
            predicted = sum(p.predicted_kbps * d for p, d in zip(points[rung.id], durations, strict=True))
            chosen.append(
                {"rung": rung.id, "crfs": sorted(set(crfs)), "predicted_kbps": round(predicted / sum(durations), 1)}
            )
        probes = self.last_probes
        details = {
            "probes": {
                "count": len(probes.results),
                "new": probes.new,
                "wall_s": round(probes.wall_s, 3),
                "cpu_s": round(probes.cpu_s, 3),
                "scored": False,
            },
            "rungs": chosen,
            "shots": {
                c: [
                    {"kbps": round(m.kbps, 2), "halving": round(m.halving, 2), "exponent": round(m.exponent, 3)}
                    for m in models[c]
                ]
                for c in names
            },
        }
        return EncodePlan(self.name, list(rungs), analysis.shots, points, details)
