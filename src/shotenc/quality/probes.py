"""Probe encodes: a few cheap (size, CRF) encodes per shot, scored, cached on disk, interpolated.

Cheap because: a probe encodes a window of the shot (at most ``window_s`` seconds from its middle)
with the rung's own encoder and preset (so probe and final encodes agree on rate; a faster preset
changes the rate at a given CRF several-fold for x264); its rate is extrapolated to the whole shot
from the keyframe and the mean inter-frame size; all probes of one shot are scored in one FFmpeg
run with frame subsampling; and between probed CRFs the curves are interpolated (PCHIP on log-rate
and on VMAF), as Av1an's target-quality search does. Results are cached by a hash of everything
that decides them, so ``compare`` and repeated runs reuse them.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from scipy.interpolate import PchipInterpolator

from ..encode import ChunkJob, SourceRef, encode_chunk
from ..ladder import Rung
from ..plan import RatePoint
from ..probe import MediaInfo, packet_info
from ..shots import Shot
from .hull import RDPoint
from .metrics import score_many

# probe CRFs per codec: wide enough to cover a ladder's rates from its bottom rung at half rate
# to its top rung at 1.5x
DEFAULT_CRFS = {"h264": (18, 26, 34, 42), "hevc": (20, 28, 36, 44), "vp9": (24, 36, 48, 60),
                "av1": (24, 36, 48, 60)}
CRF_RANGE = {"h264": (0, 51), "hevc": (0, 51), "vp9": (0, 63), "av1": (1, 63)}


@dataclass(frozen=True)
class ProbeSettings:
    """How probes are made. The defaults aim at a probe cost near the cost of the final encodes."""

    crfs: dict[str, tuple[float, ...]] = field(default_factory=lambda: dict(DEFAULT_CRFS), hash=False)
    window_s: float = 1.2  # longest piece of a shot a probe encodes (from its middle)
    n_subsample: int = 3  # VMAF every n-th frame
    preset: dict[str, str] = field(default_factory=dict, hash=False)  # per codec; default: the rung's
    jobs: int = 0  # parallel shots (0: CPU count)

    def crfs_for(self, codec: str) -> tuple[float, ...]:
        return tuple(self.crfs.get(codec, DEFAULT_CRFS[codec]))


@dataclass(frozen=True)
class ProbeSpec:
    codec: str
    preset: str
    width: int
    height: int
    crf: float


@dataclass
class ProbeResult:
    """One probe: what it cost and what it gave, extrapolated to the whole shot."""

    shot: int
    codec: str
    preset: str
    width: int
    height: int
    crf: float
    kbps: float
    vmaf: float
    vmaf_min: float
    psnr: float
    ssim: float
    frames: int  # frames encoded
    encode_s: float
    score_s: float
    cached: bool = False

    def point(self) -> RDPoint:
        return RDPoint(self.kbps, self.vmaf, self.crf, self.width, self.height, {"psnr": self.psnr})


def probe_window(shot: Shot, fps: float, window_s: float) -> tuple[int, int]:
    """(start_frame, frame_count) of the piece of ``shot`` a probe encodes: its middle."""
    n = max(1, int(round(window_s * fps)))
    if shot.frame_count <= n * 1.25:  # hardly shorter: take the whole shot
        return shot.start_frame, shot.frame_count
    return shot.start_frame + (shot.frame_count - n) // 2, n


def _key(src: SourceRef, shot: Shot, start: int, count: int, spec: ProbeSpec, n_sub: int) -> str:
    blob = json.dumps({"src": src.fingerprint, "shot": [shot.start_frame, shot.frame_count], "win": [start, count],
                       "spec": asdict(spec), "sub": n_sub, "v": 1}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def _extrapolated_kbps(path: str, shot_frames: int, fps: float) -> float:
    """Rate of the whole shot: its first keyframe plus the window's mean inter-frame size per frame."""
    sizes = [p["size"] for p in packet_info(path)]
    if len(sizes) == 1:
        total = sizes[0] * shot_frames
    else:
        total = sizes[0] + float(np.mean(sizes[1:])) * (shot_frames - 1)
    return total * 8 / 1000 / (shot_frames / fps)


def probe_shot(
    media: MediaInfo, src: SourceRef, shot: Shot, specs: Sequence[ProbeSpec], work_dir: Path,
    settings: ProbeSettings,
) -> list[ProbeResult]:
    """Run (or reuse) the probes ``specs`` of one shot; one scoring run for all that are new."""
    fps = float(media.fps)
    start, count = probe_window(shot, fps, settings.window_s)
    cache = work_dir / "probes"
    cache.mkdir(parents=True, exist_ok=True)
    results: dict[int, ProbeResult] = {}
    todo: list[tuple[int, ProbeSpec, str, str, float]] = []
    for i, spec in enumerate(specs):
        key = _key(src, shot, start, count, spec, settings.n_subsample)
        f = cache / f"{key}.json"
        try:
            results[i] = ProbeResult(**{**json.loads(f.read_text()), "cached": True})
            continue
        except (OSError, ValueError, TypeError):
            pass
        rung = Rung(f"probe-{spec.codec}-{spec.height}p", spec.codec, spec.height, 0.0, 0.0, 0.0,
                    spec.preset, spec.width)
        job = ChunkJob(src, shot.index, start, count, rung, RatePoint("crf", spec.crf, 0.0, 0.0), 1)
        chunk = encode_chunk(job, str(work_dir / "probe-encodes"))
        todo.append((i, spec, chunk.path, key, chunk.seconds))
    if todo:
        scores = score_many([t[2] for t in todo], media, start, count, n_subsample=settings.n_subsample,
                            threads=1)
        for (i, spec, path, key, enc_s), sc in zip(todo, scores, strict=True):
            res = ProbeResult(
                shot=shot.index, codec=spec.codec, preset=spec.preset, width=spec.width, height=spec.height,
                crf=spec.crf, kbps=_extrapolated_kbps(path, shot.frame_count, fps), vmaf=sc.vmaf,
                vmaf_min=min(f.vmaf for f in sc.frames), psnr=sc.psnr, ssim=sc.ssim, frames=count,
                encode_s=enc_s, score_s=sc.seconds,
            )
            tmp = cache / f".{key}.{os.getpid()}.part"
            tmp.write_text(json.dumps({k: v for k, v in asdict(res).items() if k != "cached"}))
            os.replace(tmp, cache / f"{key}.json")
            Path(path).unlink(missing_ok=True)  # the numbers are what is kept
            Path(path).with_suffix(".json").unlink(missing_ok=True)
            results[i] = res
    return [results[i] for i in range(len(specs))]


@dataclass
class ProbeRun:
    """All probes of a title, with their cost (wall-clock, and summed per-process seconds)."""

    results: list[ProbeResult]
    wall_s: float

    @property
    def cpu_s(self) -> float:
        return sum(r.encode_s + r.score_s for r in self.results if not r.cached)

    @property
    def new(self) -> int:
        return sum(1 for r in self.results if not r.cached)

    def for_shot(self, shot: int, codec: str) -> list[ProbeResult]:
        return [r for r in self.results if r.shot == shot and r.codec == codec]


def run_probes(
    media: MediaInfo,
    shots: Sequence[Shot],
    grid: dict[str, list[tuple[int, int, str]]],
    work_dir: str | os.PathLike,
    settings: ProbeSettings | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> ProbeRun:
    """Probe every shot over ``grid``: codec -> [(width, height, preset)], times the codec's CRFs."""
    settings = settings or ProbeSettings()
    work = Path(work_dir)
    src = SourceRef.of(media)
    specs = [
        ProbeSpec(codec, settings.preset.get(codec, preset), w, h, float(crf))
        for codec, sizes in grid.items() for (w, h, preset) in sizes for crf in settings.crfs_for(codec)
    ]
    specs = list(dict.fromkeys(specs))
    jobs = settings.jobs or os.cpu_count() or 1
    t0 = time.perf_counter()
    out: list[ProbeResult] = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(probe_shot, media, src, s, specs, work, settings) for s in shots]
        for k, fut in enumerate(futures, 1):
            out.extend(fut.result())
            if on_progress:
                on_progress(k / len(futures))
    return ProbeRun(out, time.perf_counter() - t0)


def interpolate(results: Sequence[ProbeResult], step: float = 1.0) -> list[RDPoint]:
    """Dense (rate, VMAF) points between the probed CRFs of one shot at one size (PCHIP).

    Rate is interpolated in log space (nearly linear in CRF); both curves are monotone between
    probes, which PCHIP preserves. A single probe is returned as is.
    """
    rs = sorted(results, key=lambda r: r.crf)
    if len(rs) < 2:
        return [r.point() for r in rs]
    crf = np.array([r.crf for r in rs])
    log_rate = PchipInterpolator(crf, np.log([max(1e-3, r.kbps) for r in rs]))
    vmaf = PchipInterpolator(crf, [r.vmaf for r in rs])
    psnr = PchipInterpolator(crf, [r.psnr for r in rs])
    grid = np.arange(crf[0], crf[-1] + 1e-9, step)
    w, h = rs[0].width, rs[0].height
    return [RDPoint(float(math.exp(log_rate(c))), float(vmaf(c)), float(c), w, h, {"psnr": float(psnr(c))})
            for c in grid]
