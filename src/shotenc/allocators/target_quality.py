"""Per shot and rung, the CRF that reaches a VMAF target, found with at most four probes and
interpolation (as ab-av1 and Av1an do per file or chunk)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

from .. import codecs
from ..analysis.analyze import Analysis
from ..codecs import RatePoint
from ..encode.chunk import SourceRef
from ..jobs.executors import borrowed
from ..ladder import Rung
from .base import Allocator, AllocatorOptions, EncodePlan
from .planner import default_cache_dir, rung_targets
from .probes import ProbeResult, ProbeSettings, ProbeSpec, probe_shot


@dataclass
class TargetQualityAllocator(Allocator):
    """Per shot and rung: the CRF that reaches the rung's VMAF target, in at most ``max_probes`` probes."""

    target_vmaf: float = 93.0
    work_dir: str | os.PathLike | None = None
    settings: ProbeSettings = field(default_factory=ProbeSettings)
    max_probes: int = 4
    tolerance: float = 0.75  # stop when a probe lands this close to the target
    name: ClassVar[str] = "target-quality"
    summary: ClassVar[str] = "per shot, the CRF that reaches a VMAF target (--target-vmaf, default 93)"
    probes: ClassVar[bool] = True
    takes_quality_target: ClassVar[bool] = True
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

    @classmethod
    def from_options(cls, options: AllocatorOptions) -> TargetQualityAllocator:
        target = 93.0 if options.target_vmaf is None else options.target_vmaf
        return cls(target, options.cache_dir)

    def allocate(self, analysis: Analysis, rungs: list[Rung], executor: Executor | None = None) -> EncodePlan:
        work = Path(self.work_dir) if self.work_dir else default_cache_dir()
        src = SourceRef.of(analysis.media)
        targets = rung_targets(rungs, self.target_vmaf)
        tasks = [(r, s.index) for r in rungs for s in analysis.shots]
        t0 = time.perf_counter()
        with borrowed(executor) as pool:
            futures = [pool.submit(self.search, analysis, src, s, r, targets[r.id], work) for r, s in tasks]
            found = [f.result() for f in futures]
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
