"""The hull method on rate-quality curves predicted from each shot's features, checked by one probe.

A model fitted on a few clips knows only what it saw. So every shot is checked before its curve is
trusted: its features must lie inside the model's training range, and one real probe per shot (the
codec's smallest rung, the middle of the model's CRFs, scored with VMAF) calibrates the curve --
the rate by the probe's ratio, VMAF by its offset. A shot outside the range or whose probe misses
the prediction by more than ``max_rate_error`` (a factor) or ``max_vmaf_error`` makes the whole
title fall back to the ``hull`` probes, with a warning that says why.
"""

from __future__ import annotations

import os
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

from .. import codecs
from ..analysis.analyze import Analysis
from ..errors import ShotencError
from ..ladder import Rung
from .base import AllocatorOptions, EncodePlan
from .convex import RDPoint
from .hull import HullAllocator
from .planner import CurveAllocator, candidate_sizes, default_cache_dir
from .probes import ProbeSettings, run_probes
from .rate_quality import RateQualityModel


@dataclass(frozen=True)
class Calibration:
    """One shot's correction from its probe: rate times ``rate_factor``, VMAF plus ``vmaf_offset``."""

    rate_factor: float = 1.0
    vmaf_offset: float = 0.0
    outside: tuple[str, ...] = ()  # inputs outside the training range

    def trusted(self, max_rate_error: float, max_vmaf_error: float) -> bool:
        rate_ok = 1 / max_rate_error <= self.rate_factor <= max_rate_error
        return not self.outside and rate_ok and abs(self.vmaf_offset) <= max_vmaf_error


@dataclass
class ModelAllocator(CurveAllocator):
    """Predicted hulls, each shot checked and calibrated by one probe (see module docstring)."""

    model: RateQualityModel | None = None  # the shipped one when None
    work_dir: str | os.PathLike | None = None  # probe cache (default: the user's cache folder)
    settings: ProbeSettings = field(default_factory=ProbeSettings)
    max_rate_error: float = 2.0  # a calibration corrects offsets; past these the curve's shape is not trusted either
    max_vmaf_error: float = 15.0
    name: ClassVar[str] = "model"
    summary: ClassVar[str] = "hulls predicted from shot features by a fitted model, one checking probe per shot"
    probes: ClassVar[bool] = True
    last_probes: object = None

    @classmethod
    def from_options(cls, options: AllocatorOptions) -> ModelAllocator:
        model = RateQualityModel.load(options.model_file) if options.model_file else None
        return cls(
            target_vmaf=options.target_vmaf,
            auto_ladder=options.auto_ladder,
            per_shot_sizes=options.per_shot_sizes,
            model=model,
            work_dir=options.cache_dir,
        )

    def calibrate(
        self, model: RateQualityModel, analysis: Analysis, rungs: list[Rung], executor: Executor | None
    ) -> dict[str, list[Calibration]]:
        """Per codec and shot, the model's error on one real probe (and whether the shot is in range)."""
        names = list(dict.fromkeys(r.codec for r in rungs))
        grid, at = {}, {}
        for c in names:
            small = min((r for r in rungs if r.codec == c), key=lambda r: r.width * r.height)
            lo, hi = model.crf_range(c)
            crf = codecs.get(c).crf((lo + hi) / 2)
            grid[c] = [(small.width, small.height, small.preset, (crf,))]
            at[c] = (small.width, small.height, crf)
        work = Path(self.work_dir) if self.work_dir else default_cache_dir()
        run = run_probes(analysis.media, analysis.shots, grid, work, self.settings, executor=executor)
        self.last_probes = run
        fps, src_h = float(analysis.media.fps), analysis.media.height
        out: dict[str, list[Calibration]] = {}
        for c in names:
            w, h, crf = at[c]
            out[c] = []
            for s in analysis.shots:
                probe = run.for_shot(s.index, c)[0]
                kbps, vmaf = model.predict(c, analysis.features[s.index], w, h, fps, [crf], source_height=src_h)
                outside = tuple(
                    dict.fromkeys(
                        x
                        for r in rungs
                        if r.codec == c
                        for x in model.outside(c, analysis.features[s.index], r.height, src_h)
                    )
                )
                out[c].append(Calibration(probe.kbps / max(1e-6, float(kbps[0])), probe.vmaf - float(vmaf[0]), outside))
        return out

    def allocate(self, analysis: Analysis, rungs: list[Rung], executor: Executor | None = None) -> EncodePlan:
        model = self.model or RateQualityModel.load()
        names = list(dict.fromkeys(r.codec for r in rungs))
        missing = [c for c in names if c not in model.codecs]
        if missing:
            raise ShotencError(
                f"the rate-quality model has no fit for {', '.join(missing)}; refit it with `shotenc train`"
            )
        calibration = self.calibrate(model, analysis, rungs, executor)
        untrusted = {
            c: [i for i, k in enumerate(cal) if not k.trusted(self.max_rate_error, self.max_vmaf_error)]
            for c, cal in calibration.items()
        }
        checked = {
            "probes": len(self.last_probes.results),
            "rate_factor": {c: [round(k.rate_factor, 3) for k in cal] for c, cal in calibration.items()},
            "vmaf_offset": {c: [round(k.vmaf_offset, 2) for k in cal] for c, cal in calibration.items()},
            "outside": {
                c: {i: list(k.outside) for i, k in enumerate(cal) if k.outside} for c, cal in calibration.items()
            },
        }
        if any(untrusted.values()):
            return self._fall_back(analysis, rungs, executor, calibration, untrusted, checked)
        sizes = {c: candidate_sizes(analysis, rungs, c, self.auto_ladder, self.per_shot_sizes) for c in names}
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
                cal = calibration[codec][shot]
                kbps, vmaf = kbps * cal.rate_factor, np.clip(vmaf + cal.vmaf_offset, 0.0, 100.0)
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
        details = {
            "model": {"source": model.source, "codecs": sorted(model.codecs), "preset_mismatch": mismatched},
            "calibration": checked,
            "probes": {
                "count": checked["probes"],
                "wall_s": round(self.last_probes.wall_s, 3),
                "cpu_s": round(self.last_probes.cpu_s, 3),
            },
        }
        return self.planner().plan(self.name, analysis, rungs, points, sizes, details)

    def _fall_back(self, analysis, rungs, executor, calibration, untrusted, checked) -> EncodePlan:
        """The ``hull`` plan, saying which shots the model did not know and why."""
        reasons = []
        for c, shots in untrusted.items():
            for i in shots[:3]:
                k = calibration[c][i]
                why = (
                    "; ".join(k.outside)
                    or f"probe rate x{k.rate_factor:.2f}, VMAF {k.vmaf_offset:+.1f} off the prediction"
                )
                reasons.append(f"{c} shot {i}: {why}")
        count = sum(len(v) for v in untrusted.values())
        text = (
            f"the rate-quality model does not know {count} shot(s) of this title ({'; '.join(reasons)}"
            f"{'; ...' if count > len(reasons) else ''}): planned with hull probes instead"
        )
        hull = HullAllocator(
            target_vmaf=self.target_vmaf, floor_vmaf=self.floor_vmaf, floor_gap=self.floor_gap,
            auto_ladder=self.auto_ladder, per_shot_sizes=self.per_shot_sizes, work_dir=self.work_dir,
        )  # fmt: skip
        plan = hull.allocate(analysis, rungs, executor)
        plan.allocator = self.name
        plan.details = {**plan.details, "calibration": checked, "fallback": "hull", "warnings": [text]}
        return plan
