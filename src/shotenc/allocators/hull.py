"""The Dynamic Optimizer: probe encodes over (size, CRF), each shot's convex hull, one Lagrange
multiplier per rung so the rung meets its average bitrate (or its quality target), with a per-shot
quality floor. With ``auto_ladder`` each rung's size is chosen from the hulls across sizes."""

from __future__ import annotations

import os
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from ..analysis.analyze import Analysis
from ..ladder import Rung
from .base import AllocatorOptions, EncodePlan
from .convex import RDPoint
from .planner import CurveAllocator, candidate_sizes, default_cache_dir, hull_summary
from .probes import ProbeSettings, interpolate, run_probes


@dataclass
class HullAllocator(CurveAllocator):
    """Netflix-style Dynamic Optimizer over probe encodes (see module docstring)."""

    work_dir: str | os.PathLike | None = None  # probe cache (default: the user's cache folder)
    settings: ProbeSettings = field(default_factory=ProbeSettings)
    name: ClassVar[str] = "hull"
    summary: ClassVar[str] = "Dynamic-Optimizer convex hulls from probe encodes, one Lagrange multiplier per rung"
    probes: ClassVar[bool] = True
    last_probes: object = None  # the ProbeRun of the last allocate() (for cost reports)

    @classmethod
    def from_options(cls, options: AllocatorOptions) -> HullAllocator:
        return cls(
            target_vmaf=options.target_vmaf,
            auto_ladder=options.auto_ladder,
            per_shot_sizes=options.per_shot_sizes,
            work_dir=options.cache_dir,
        )

    def allocate(self, analysis: Analysis, rungs: list[Rung], executor: Executor | None = None) -> EncodePlan:
        codecs = list(dict.fromkeys(r.codec for r in rungs))
        sizes = {c: candidate_sizes(analysis, rungs, c, self.auto_ladder, self.per_shot_sizes) for c in codecs}
        work = Path(self.work_dir) if self.work_dir else default_cache_dir()
        run = run_probes(analysis.media, analysis.shots, sizes, work, self.settings, executor=executor)
        self.last_probes = run
        cache: dict[tuple, list[RDPoint]] = {}

        def points(codec: str, w: int, h: int, shot: int) -> list[RDPoint]:
            key = (codec, w, h, shot)
            if key not in cache:
                mine = [r for r in run.for_shot(shot, codec) if (r.width, r.height) == (w, h)]
                cache[key] = interpolate(mine)
            return cache[key]

        hulls = {
            c: {f"{w}x{h}": [hull_summary(points(c, w, h, s.index)) for s in analysis.shots] for w, h, _ in sizes[c]}
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
        return self.planner().plan(self.name, analysis, rungs, points, sizes, details)
