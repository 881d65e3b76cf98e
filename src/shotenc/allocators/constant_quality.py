"""The default: a capped CRF per shot and rung, chosen so the rung spends its budget where VMAF gains most.

A CRF maps to a rate-distortion trade-off (a Lagrange multiplier) for the encoder, so one CRF across
the shots of a rung is already close to an equal-slope choice -- in the encoder's own measure. In VMAF
it is not: flat animation and fast motion score far below film at the same CRF, static shots far
above. So each shot's curves are predicted from a few probes and the Dynamic Optimizer's equal-slope
choice is made on them (:func:`equal_slope_crfs`); without scores, one CRF per rung (:func:`rung_crfs`).

Probes, per shot and codec: the whole shot at half the smallest rung's width and height, not scored (its
rate: a window of a shot can misjudge its rate by half); then a window of it there at two CRFs (the
whole shot's, and the one its rates say the codec's rungs will land at: :func:`second_crf`), scored, and
at the largest rung size (its own rate-vs-CRF slope, how its rate grows with the picture, and its VMAF).
Where x264 looks ahead, only it and AV1 encode the whole shots: the others' windows are lent what its
window misjudged (:func:`lent_whole`).
A shot's rate at any rung and CRF follows in log-rate, log-pixels and CRF, its VMAF by interpolation.
Only the quality proxy (x264, the fastest encoder) is scored at the largest size, at two CRFs; the other
codecs are encoded there once, for their rate, and their VMAF there is lent by the proxy at the rate
that matches theirs as it does at the small size (:func:`borrowed_quality`). Shots planned far from
every CRF they were probed at are probed there and planned again. The rung's VBV buffer is run as a
leaky bucket in shot order, as a 2-pass encode keeps it; the encode's rate feedback removes what the
probes misjudged.
"""

from __future__ import annotations

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
from ..ladder import Rung, even, tier
from .base import Allocator, AllocatorOptions, EncodePlan
from .equal_slope import equal_slope_crfs, rung_crfs
from .planner import default_cache_dir
from .probes import ProbeResult, ProbeRun, ProbeSettings, run_probes
from .shot_curves import QualityModel, RateModel, borrowed_quality, lent_whole, quality_model, rate_model

# a shot whose rate grows faster than this with the picture codes at the large size what the small one averages
# away (grain): how fast then depends on the CRF, so a codec rated there at one CRF is rated where it is planned
STEEP_EXPONENT = 1.25
PROBE_MIN_HEIGHT = 144
QUALITY_PROXY = "h264"  # the fastest encoder: scored at every probe size, the others at the smallest only
REFINE_ROUNDS = 2  # extra probe rounds at CRFs the first plan chose far from the probed ones (grain_dark: one
# round left its 360p rung 25% over target; with the second round's 28 more probes it landed at +7% and -5%)


def probe_size(rung: Rung) -> tuple[int, int]:
    """Where a shot's rate is probed whole: half the smallest rung's width and height (a quarter of its
    pixels: the whole shot costs little more than a window at full size), not under 144 lines (on the short side)."""
    if tier(rung) < 2 * PROBE_MIN_HEIGHT:
        return rung.width, rung.height
    return even(rung.width / 2), even(rung.height / 2)


def refine_gap(codec: str) -> float:
    """How far (in CRF) a plan may land from every probed CRF before it is probed there: half a halving."""
    return codecs.get(codec).crf_halving / 2


def on_refine_grid(codec: str, crf: float) -> float:
    """``crf`` on the grid probes are refined on (:func:`refine_gap`), so rungs and shots share probes."""
    gap = refine_gap(codec)
    return codecs.get(codec).crf(round(crf / gap) * gap)


def needs_probe(crf: float, probed: set[float], rated_large: set[float], exponent: float, gap: float) -> bool:
    """Whether a shot planned at ``crf`` was planned on an extrapolation: more than ``gap`` from every CRF
    its windows were probed at, or -- where its rate at the large size was measured at ``rated_large`` only
    and grows steeply with the picture (``exponent``: grain the small picture averages away) -- more than
    half that from those. grain_dark, AV1: 1,090 kbit/s at 360p and CRF 38, 200 at 43, where 234p barely
    moved; the exponent of CRF 38 put a shot planned at 43 at 741 kbit/s, and it took 298."""
    if min(abs(crf - p) for p in probed) > gap:
        return True
    steep = bool(rated_large) and exponent > STEEP_EXPONENT
    return steep and min(abs(crf - p) for p in rated_large) > gap / 2


def second_crf(
    codec: str, ref: float, models: Sequence[RateModel], durations: Sequence[float], rungs: Sequence[Rung]
) -> float:
    """Where a codec's windows are probed besides ``ref``: the CRF its rungs will land at, as the whole shots'
    rates at ``ref`` (``models``: no curve yet) predict it, on the refinement grid (half a halving), and at
    least that far from ``ref``; exactly a halving from it when the rungs land near it.

    A fixed second CRF a halving above ``ref`` left every rung of the sample below both probed CRFs, and a
    round of refinement probes (a third of all probes) to follow."""
    c = codecs.get(codec)
    planned = [(crf, d) for rung in rungs for crf, d in zip(rung_crfs(models, durations, rung), durations, strict=True)]
    target = float(np.average([p for p, _ in planned], weights=[d for _, d in planned])) if planned else ref
    crf = on_refine_grid(codec, target)
    if abs(crf - ref) < refine_gap(codec):
        crf = c.crf(ref - c.crf_halving if target < ref else ref + c.crf_halving)
    return crf


@dataclass
class ConstantQualityAllocator(Allocator):
    """One capped CRF per rung from rate probes (see module docstring)."""

    work_dir: str | os.PathLike | None = None  # probe cache (default: the user's cache folder)
    settings: ProbeSettings = field(default_factory=lambda: ProbeSettings(score=False))
    weigh_vmaf: bool = True  # score the window probes and choose by equal VMAF slope (False: one CRF per rung)
    name: ClassVar[str] = "crf"
    summary: ClassVar[str] = "capped CRF per shot and rung from rate probes, by equal VMAF slope"
    probes: ClassVar[bool] = True
    # the encoder whose VMAF at the largest size stands in for the other codecs' (None: each is scored there)
    quality_proxy: str | None = QUALITY_PROXY
    last_probes: object = None

    @classmethod
    def from_options(cls, options: AllocatorOptions) -> ConstantQualityAllocator:
        return cls(work_dir=options.cache_dir)

    def allocate(self, analysis: Analysis, rungs: list[Rung], executor: Executor | None = None) -> EncodePlan:
        names = list(dict.fromkeys(r.codec for r in rungs))
        small_rung = min(rungs, key=lambda r: r.width * r.height)
        large_rung = max(rungs, key=lambda r: r.width * r.height)
        small, large = probe_size(small_rung), (large_rung.width, large_rung.height)
        others = any(c != self.quality_proxy for c in names)
        proxy = self.quality_proxy if self.weigh_vmaf and large != small and others else None
        probed_codecs = names + ([proxy] if proxy and proxy not in names else [])
        refs = {c: float(codecs.get(c).probe_crfs[len(codecs.get(c).probe_crfs) // 2]) for c in probed_codecs}
        work = Path(self.work_dir) if self.work_dir else default_cache_dir()
        presets: dict[str, tuple[str, str]] = {}  # (at the small size, at the large)
        for c in probed_codecs:
            mine = sorted((r for r in rungs if r.codec == c), key=lambda r: r.width * r.height)
            presets[c] = (mine[0].preset, mine[-1].preset) if mine else (codecs.get(c).default_preset,) * 2
        # the whole shots: every codec's, or only the proxy's, which lends the others what its window misjudged
        # (where it looks ahead as they do: x264's ultrafast saw a 54-frame shot at its window's rate, the
        # others at 25% under theirs)
        lender = proxy if proxy and presets[proxy][0] not in codecs.get(proxy).no_lookahead else None
        own = [c for c in probed_codecs if not lender or c == lender or not codecs.get(c).borrows_whole_rate]
        whole_specs = {c: [(*small, presets[c][0], (refs[c],))] for c in own}
        whole_settings = replace(self.settings, window_fraction=1.0)  # the whole shot, at a quarter of the pixels
        window_settings = replace(self.settings, score=self.weigh_vmaf)
        rate_settings = replace(window_settings, score=False)
        # (with them, every codec's window at the reference CRF: the proxy's ratio and the others' rates)
        first_windows = {c: [(*small, presets[c][0], (refs[c],))] for c in probed_codecs} if lender else {}
        run = run_probes(
            analysis.media, analysis.shots, whole_specs, work, whole_settings, executor=executor,
            also=[(first_windows, window_settings)],
        )  # fmt: skip
        durations = [s.duration_s for s in analysis.shots]
        whole_frames = {s.index: s.frame_count for s in analysis.shots}

        def split(shot: int, codec: str) -> tuple[list[ProbeResult], list[ProbeResult]]:
            """(whole-shot probes, window probes); a short shot's window is the whole shot."""
            mine = run.for_shot(shot, codec)
            whole = [r for r in mine if r.frames == whole_frames[shot]]
            windows = [r for r in mine if r.frames != whole_frames[shot]]
            if windows and not whole and lender:
                whole = lent_whole(windows, run.for_shot(shot, lender), refs[codec], refs[lender], whole_frames[shot])
            return whole, windows or whole

        # the windows' second CRF: where the whole shots' rates say this codec's rungs will land
        second = {
            c: second_crf(
                c,
                refs[c],
                [rate_model(split(s.index, c)[0], [], c, refs[c]) for s in analysis.shots],
                durations,
                [r for r in rungs if r.codec == c] or [replace(r, codec=c) for r in rungs],
            )
            for c in probed_codecs
        }
        window_specs: dict[str, list[tuple]] = {}  # scored (unless weigh_vmaf is off), and refined
        rate_specs: dict[str, list[tuple]] = {}  # rate only
        for c in probed_codecs:
            lo, hi = presets[c]
            window_specs[c] = [(*small, lo, (refs[c], second[c]))]
            if large == small:
                continue
            if proxy and c != proxy:  # its growth with the picture measured, its VMAF there lent
                rate_specs[c] = [(*large, hi, (refs[c],))]
            else:  # (scored, it needs two CRFs for a VMAF slope too)
                window_specs[c].append((*large, hi, (refs[c], second[c]) if self.weigh_vmaf else (refs[c],)))
        second_windows = {  # (what the first run made is not made again)
            c: [(*v[0][:3], (second[c],)), *v[1:]] if c in first_windows else v for c, v in window_specs.items()
        }
        more = run_probes(
            analysis.media, analysis.shots, second_windows, work, window_settings, executor=executor,
            also=[(rate_specs, rate_settings)],
        )  # fmt: skip
        run = ProbeRun(run.results + more.results, run.wall_s + more.wall_s)

        def shot_models(codec: str, lent: tuple[list, list] = ([], [])) -> tuple[list[RateModel], list]:
            """Every shot's rate and quality models; ``lent``: the proxy's, for a codec scored small only."""
            found = [split(s.index, codec) for s in analysis.shots]
            rates = [rate_model(whole, windows, codec, refs[codec]) for whole, windows in found]
            qualities = [quality_model(windows, codec) for _, windows in found]
            if proxy and codec != proxy:
                pixels = large[0] * large[1]
                qualities = [
                    (q and pq and borrowed_quality(q, r, codec, pr, pq, proxy, pixels)) or None
                    for q, r, pr, pq in zip(qualities, rates, *lent, strict=True)
                ]
            return rates, qualities

        probed = {(c, s.index): {refs[c], second[c]} for c in probed_codecs for s in analysis.shots}
        by_index = {s.index: s for s in analysis.shots}
        for round_ in range(REFINE_ROUNDS + 1):
            lent = shot_models(proxy) if proxy else ([], [])
            models, qualities = {}, {}
            for c in names:
                models[c], qualities[c] = shot_models(c, lent)
            # a shot planned at a CRF far from every one it was probed at was planned on an extrapolation:
            # probe its window there too (on a grid, so rungs share probes) and plan again
            far: dict[tuple[str, int], set[float]] = {}
            planned = {r.id: self._crfs(models[r.codec], qualities[r.codec], durations, r) for r in rungs}
            for rung in rungs:
                gap = refine_gap(rung.codec)
                for shot, crf, m in zip(analysis.shots, planned[rung.id], models[rung.codec], strict=True):
                    key = (rung.codec, shot.index)
                    # where a codec rated at the large size for its rate only was rated there
                    windows = split(shot.index, rung.codec)[1] if rung.codec in rate_specs else []
                    rated = {r.crf for r in windows if (r.width, r.height) == large}
                    if needs_probe(crf, probed[key], rated, m.exponent, gap):
                        far.setdefault(key, set()).add(on_refine_grid(rung.codec, crf))
            if not far or round_ == REFINE_ROUNDS:
                break
            groups: dict[tuple[str, tuple[float, ...]], list] = {}  # shots that need the same CRFs: one run
            for (c, i), v in far.items():
                groups.setdefault((c, tuple(sorted(v))), []).append(by_index[i])
            # a codec whose rate at the large size was measured at the reference CRF only gets it there too:
            # its size exponent follows the CRF (photos24, HEVC: a shot planned at CRF 12.5 on the exponent
            # of CRF 29 took the 360p rung 17% over its plan)
            batches = [
                ({c: [(*size[:3], crfs) for size in specs[c]]}, st, shots)
                for (c, crfs), shots in groups.items()
                for specs, st in ((window_specs, window_settings), (rate_specs, rate_settings))
                if c in specs
            ]
            more = run_probes(analysis.media, [], {}, work, window_settings, executor=executor, also=batches)
            run = ProbeRun(run.results + more.results, run.wall_s + more.wall_s)
            for key, v in far.items():
                probed[key] |= v
        self.last_probes = run
        points: dict[str, list[RatePoint]] = {}
        chosen = []
        for rung in rungs:
            crfs = planned[rung.id]
            pixels = rung.width * rung.height
            points[rung.id] = [
                RatePoint(
                    "crf",
                    c,
                    rung.maxrate_kbps,
                    rung.bufsize_kbps,
                    predicted_kbps=m.rate(pixels, c),
                    halving=m.local_halving(pixels, c),
                )
                for m, c in zip(models[rung.codec], crfs, strict=True)
            ]
            predicted = sum(p.predicted_kbps * d for p, d in zip(points[rung.id], durations, strict=True))
            chosen.append(
                {"rung": rung.id, "crfs": sorted(set(crfs)), "predicted_kbps": round(predicted / sum(durations), 1)}
            )
            if all(qualities[rung.codec]):
                vmaf = [q.vmafs(pixels, np.array([c]))[0] for q, c in zip(qualities[rung.codec], crfs, strict=True)]
                chosen[-1]["predicted_vmaf"] = round(float(np.average(vmaf, weights=durations)), 2)
                chosen[-1]["predicted_worst_vmaf"] = round(float(min(vmaf)), 2)
        probes = self.last_probes
        details = {
            "probes": {
                "count": len(probes.results),
                "new": probes.new,
                "wall_s": round(probes.wall_s, 3),
                "cpu_s": round(probes.cpu_s, 3),
                "scored": self.weigh_vmaf,
                "whole_shots_by": lender or "each codec",  # the lender (codecs that borrow none encode their own)
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

    def _crfs(
        self, models: list[RateModel], qualities: list[QualityModel | None], durations: list[float], rung: Rung
    ) -> list[float]:
        """Equal VMAF slope where every shot has scored probes, else one CRF per rung."""
        if self.weigh_vmaf and all(qualities):
            return equal_slope_crfs(models, qualities, durations, rung)  # type: ignore[arg-type]
        return rung_crfs(models, durations, rung)
