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
Each rung then gets the CRF whose predicted rate matches its target, dithered between two
neighbouring CRF steps across shots so the target is met more finely than the encoder's CRF
resolution; a shot that would drain the rung's VBV buffer (a leaky bucket in shot order, as a
2-pass encode keeps it) gets a higher CRF. The encode's rate feedback removes what the probes misjudged.
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
VBV_INIT = 0.9  # how full encoders start the VBV buffer (x264's and x265's vbv-init)
VBV_RESERVE = 0.25  # of the buffer kept for a shot's opening keyframe and the probes' error
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

    def rate(self, pixels: int, crf: float) -> float:
        return float(self.rates(pixels, np.array([crf]))[0])

    def rates(self, pixels: int, crfs: np.ndarray) -> np.ndarray:
        """The rate at every CRF of ``crfs``: log2 of it interpolated between the probed CRFs and extended
        past them with ``halving``; the size exponent interpolated likewise."""
        pts = self.curve or ((self.crf, 0.0),)
        cs, vs = np.array([c for c, _ in pts]), np.array([v for _, v in pts])
        octaves = np.interp(crfs, cs, vs)
        octaves = np.where(crfs < cs[0], vs[0] + (cs[0] - crfs) / self.halving, octaves)
        octaves = np.where(crfs > cs[-1], vs[-1] - (crfs - cs[-1]) / self.halving, octaves)
        if self.exponents:
            exps = np.interp(crfs, [c for c, _ in self.exponents], [e for _, e in self.exponents])
        else:
            exps = np.full(len(crfs), self.exponent)
        return self.kbps * (pixels / self.pixels) ** exps * 2**octaves


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
    """Per shot, the rung's CRF: the one whose predicted rate spends the target with the VBV buffer never
    drained (see :func:`fit_buffer`), dithered between two neighbouring CRF steps so the average lands
    between them."""
    codec = codecs.get(rung.codec)
    grid = np.arange(codec.best_crf, codec.crf_range[1] + codec.crf_step / 2, codec.crf_step)
    pixels = rung.width * rung.height
    table = np.array([m.rates(pixels, grid) for m in models]).reshape(len(models), len(grid))
    d = np.asarray(durations, dtype=float)
    total = float(d.sum()) or 1.0

    def mean_kbps(steps: Sequence[int]) -> tuple[float, list[int]]:
        fitted = fit_buffer(table, d, list(steps), rung.maxrate_kbps, rung.bufsize_kbps)
        return float(table[np.arange(len(models)), fitted] @ d) / total, fitted

    # one grid step for every shot: rate falls as the step rises, so bisect for the first within budget
    lo, hi = 0, len(grid) - 1  # (CRF 0 is lossless, which x264's High profile refuses: best_crf is the floor)
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (mid + 1, hi) if mean_kbps([mid] * len(models))[0] > rung.bitrate_kbps else (lo, mid)
    steps = mean_kbps([lo] * len(models))[1]
    # the longest shots first, each moved to the finer step while the rung stays within its budget
    for i in sorted(range(len(models)), key=lambda i: -durations[i]):
        if lo == 0 or steps[i] != lo:
            continue  # already at the floor, or held back by the buffer
        spent, fitted = mean_kbps([*steps[:i], lo - 1, *steps[i + 1 :]])
        if spent <= rung.bitrate_kbps:
            steps = fitted
    return [float(codec.crf(grid[k])) for k in steps]


def fit_buffer(table: np.ndarray, durations: np.ndarray, steps: list[int], maxrate: float, bufsize: float) -> list[int]:
    """``steps`` (indices into a shot's row of predicted rates, kbit/s), each raised where the shot would
    drain the rung's VBV buffer: the leaky bucket of a 2-pass encode, in shot order. A shot may spend what
    arrives at ``maxrate`` while it plays plus what the buffer holds above a reserve, so a hard shot after
    easy ones gets the burst a 2-pass encode would give it, and a run of hard shots is held to the cap."""
    if not maxrate:
        return steps
    level = VBV_INIT * bufsize
    out = []
    for row, d, k in zip(table, durations, steps, strict=True):
        allowed = level + CAP_SHARE * maxrate * d - VBV_RESERVE * bufsize
        while k < len(row) - 1 and row[k] * d > allowed:
            k += 1
        level = min(bufsize, level + maxrate * d - row[k] * d)
        out.append(k)
    return out


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
            points[rung.id] = [
                RatePoint("crf", c, rung.maxrate_kbps, rung.bufsize_kbps, predicted_kbps=m.rate(pixels, c))
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
