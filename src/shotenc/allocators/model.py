"""The hull method on rate-quality curves predicted from each shot's features: no probe encodes."""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..analysis.analyze import Analysis
from ..errors import ShotencError
from ..ladder import Rung
from .base import AllocatorOptions, EncodePlan
from .convex import RDPoint
from .planner import CurveAllocator, candidate_sizes
from .rate_quality import RateQualityModel


@dataclass
class ModelAllocator(CurveAllocator):
    """The hull method on rate-quality curves predicted from each shot's features: no probe encodes."""

    model: RateQualityModel | None = None  # the shipped one when None
    name: ClassVar[str] = "model"
    summary: ClassVar[str] = "hulls predicted from shot features by a fitted model (no probes)"

    @classmethod
    def from_options(cls, options: AllocatorOptions) -> ModelAllocator:
        model = RateQualityModel.load(options.model_file) if options.model_file else None
        return cls(target_vmaf=options.target_vmaf, auto_ladder=options.auto_ladder, model=model)

    def allocate(self, analysis: Analysis, rungs: list[Rung], executor: Executor | None = None) -> EncodePlan:
        model = self.model or RateQualityModel.load()
        codecs = list(dict.fromkeys(r.codec for r in rungs))
        missing = [c for c in codecs if c not in model.codecs]
        if missing:
            raise ShotencError(
                f"the rate-quality model has no fit for {', '.join(missing)}; refit it with `shotenc train`"
            )
        sizes = {c: candidate_sizes(analysis, rungs, c, self.auto_ladder, self.per_shot_sizes) for c in codecs}
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
        return self.planner().plan(self.name, analysis, rungs, points, sizes, details)
