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
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from scipy.interpolate import PchipInterpolator

from .. import codecs
from ..analysis.shots import Shot
from ..codecs import RatePoint
from ..encode.chunk import SourceRef
from ..errors import ShotencError
from ..jobs.executors import borrowed
from ..media import ffmpeg
from ..media.mp4box import sample_table
from ..media.normalize import seek_args, source_pad, video_filters
from ..media.probe import MediaInfo
from ..quality.metrics import score_many
from .convex import RDPoint

# how far (in CRF) the curves are extended past the probed range, along log-rate and VMAF end slopes
EXTRAPOLATE = 4.0


@dataclass(frozen=True)
class ProbeSettings:
    """How probes are made. The defaults aim at a probe cost near the cost of the final encodes."""

    crfs: dict[str, tuple[float, ...]] = field(default_factory=dict, hash=False)  # per codec; default: its probe_crfs
    window_s: float = 0.64  # shortest piece of a shot a probe encodes (from its middle) ...
    window_fraction: float = 0.34  # ... unless this fraction of the shot is longer
    n_subsample: int = 3  # VMAF every n-th frame
    preset: dict[str, str] = field(default_factory=dict, hash=False)  # per codec; default: the rung's
    jobs: int = 0  # parallel shots when no executor is given (0: one per core)
    score: bool = True  # False: rate probes only (no VMAF; quality fields are NaN)

    def crfs_for(self, codec: str) -> tuple[float, ...]:
        return tuple(self.crfs.get(codec, codecs.get(codec).probe_crfs))


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


def probe_window(shot: Shot, fps: float, window_s: float, fraction: float = 0.0) -> tuple[int, int]:
    """(start_frame, frame_count) of the piece of ``shot`` a probe encodes: its middle.

    A fixed short window misjudges long shots whose content changes; a fraction of the shot keeps
    the probe cost proportional to the title while following the shot's length.
    """
    n = max(1, int(round(window_s * fps)), int(round(fraction * shot.frame_count)))
    if shot.frame_count <= n * 1.25:  # hardly shorter: take the whole shot
        return shot.start_frame, shot.frame_count
    return shot.start_frame + (shot.frame_count - n) // 2, n


def _key(src: SourceRef, shot: Shot, start: int, count: int, spec: ProbeSpec, n_sub: int, score: bool) -> str:
    blob = json.dumps(
        {
            "src": src.fingerprint,
            "shot": [shot.start_frame, shot.frame_count],
            "win": [start, count],
            "spec": asdict(spec),
            "sub": n_sub,
            "fps": [src.fps_num, src.fps_den],  # the window's frames are sought by time
            "v": 1,
            **({"from_s": src.picture_start_s} if src.picture_start_s else {}),
            **({"to": src.colour.delivered.to_dict()} if src.colour.delivered != src.colour else {}),  # converted
            **({"passes": n} if (n := codecs.get(spec.codec).crf_passes) > 1 else {}),
            **({} if score else {"score": False}),
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def _extrapolated_kbps(sizes: list[int], shot_frames: int, fps: float) -> float:
    """Rate of the whole shot: its first keyframe plus the window's mean inter-frame size per frame."""
    if len(sizes) == 1:
        total = sizes[0] * shot_frames
    else:
        total = sizes[0] + float(np.mean(sizes[1:])) * (shot_frames - 1)
    return total * 8 / 1000 / (shot_frames / fps)


def encode_probes(media: MediaInfo, start: int, count: int, specs: Sequence[ProbeSpec], out_dir: Path) -> list[Path]:
    """Encode every probe of one window in one FFmpeg run: one decode and seek, split to each encoder.

    The frames match a chunk encode's (:class:`shotenc.encode.ChunkJob`): same normalizing filters,
    same encoder options, one closed GOP starting with an IDR, and as many passes (a codec whose CRF
    chunks take two gets a first-pass run of its own before: libvpx's one-pass and two-pass constant
    quality differ in rate by 0.9-2.7x on the same frames).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"probe-{os.getpid()}-{threading.get_ident()}-{time.monotonic_ns()}"
    paths = [out_dir / f"{stem}-{i}.mp4" for i in range(len(specs))]
    logs = {i: out_dir / f"{stem}-{i}-pass" for i, s in enumerate(specs) if codecs.get(s.codec).crf_passes > 1}
    try:
        if logs:
            first = {i: [*ffmpeg.pass_args(1, logs[i]), "-f", "null", "-"] for i in logs}
            _run_probes(media, start, count, specs, first, f"probe first passes at frame {start}")
        # two-pass outputs first in both runs: FFmpeg names a pass log by its stream's place in the run
        order = sorted(range(len(specs)), key=lambda i: i not in logs)
        last = {i: [*(ffmpeg.pass_args(2, logs[i]) if i in logs else []), "-f", "mp4", paths[i]] for i in order}
        _run_probes(media, start, count, specs, last, f"probe encodes at frame {start}")
    finally:
        for log in logs.values():
            ffmpeg.remove_pass_logs(log)
    return paths


def _run_probes(
    media: MediaInfo, start: int, count: int, specs: Sequence[ProbeSpec], outputs: dict[int, list], what: str
) -> None:
    """One FFmpeg run: the window decoded once, split to the encoders of ``specs`` that ``outputs`` names
    (its value: what follows the encoder's options for that output)."""
    fps = media.fps
    retime = f"settb={fps.denominator}/{fps.numerator},setpts=N"
    # no trim before the split: the normalizing filters may drop or repeat frames (``fps``), so the
    # window is counted where the chunk encode counts it, at each output (``-frames:v``)
    graph = [f"{source_pad(media)}split={len(outputs)}" + "".join(f"[s{i}]" for i in outputs)]
    args: list[str | Path] = []
    for i, tail in outputs.items():
        spec = specs[i]
        graph.append(f"[s{i}]{video_filters(media, spec.width, spec.height)},{retime}[o{i}]")
        rate = RatePoint("crf", spec.crf, 0.0, 0.0)
        args += [
            "-map",
            f"[o{i}]",
            "-fps_mode",
            "passthrough",
            "-frames:v",
            str(count),
            *codecs.get(spec.codec).encoder_args(spec.preset, rate, count + 1, 1),
            *tail,
        ]
    ffmpeg.run(
        ["-y", "-v", "error", *seek_args(media, start), "-i", media.path, "-filter_complex", ";".join(graph), *args],
        what=what,
    )


def probe_shot(
    media: MediaInfo,
    src: SourceRef,
    shot: Shot,
    specs: Sequence[ProbeSpec],
    work_dir: Path,
    settings: ProbeSettings,
) -> list[ProbeResult]:
    """Run (or reuse) the probes ``specs`` of one shot: one encode run, one scoring run for new ones."""
    fps = float(media.fps)
    start, count = probe_window(shot, fps, settings.window_s, settings.window_fraction)
    cache = work_dir / "probes"
    cache.mkdir(parents=True, exist_ok=True)
    results: dict[int, ProbeResult] = {}
    todo: list[tuple[int, ProbeSpec, str]] = []
    for i, spec in enumerate(specs):
        key = _key(src, shot, start, count, spec, settings.n_subsample, settings.score)
        try:
            results[i] = ProbeResult(**{**json.loads((cache / f"{key}.json").read_text()), "cached": True})
        except (OSError, ValueError, TypeError):
            todo.append((i, spec, key))
    if todo:
        t0 = time.perf_counter()
        paths = encode_probes(media, start, count, [t[1] for t in todo], work_dir / "probe-encodes")
        enc_s = (time.perf_counter() - t0) / len(todo)
        try:
            tables = [sample_table(p) for p in paths]  # (moov only: no FFmpeg run per probe)
            for sizes, starts_with_key in tables:
                if len(sizes) != count or not starts_with_key:
                    raise ShotencError(f"probe encode of shot {shot.index}: {len(sizes)} frames, expected {count}")
            if settings.score:
                scores = score_many(paths, media, start, count, n_subsample=settings.n_subsample, threads=1, ssim=False)
            else:
                scores = [_UNSCORED] * len(paths)
            for (i, spec, key), (sizes, _), sc in zip(todo, tables, scores, strict=True):
                res = ProbeResult(
                    shot=shot.index,
                    codec=spec.codec,
                    preset=spec.preset,
                    width=spec.width,
                    height=spec.height,
                    crf=spec.crf,
                    kbps=_extrapolated_kbps(sizes, shot.frame_count, fps),
                    vmaf=sc.vmaf,
                    vmaf_min=min((f.vmaf for f in sc.frames), default=math.nan),
                    psnr=sc.psnr,
                    ssim=sc.ssim,
                    frames=count,
                    encode_s=enc_s,
                    score_s=sc.seconds,
                )
                tmp = cache / f".{key}.{os.getpid()}.{threading.get_ident()}.part"
                tmp.write_text(json.dumps({k: v for k, v in asdict(res).items() if k != "cached"}))
                os.replace(tmp, cache / f"{key}.json")
                results[i] = res
        finally:
            for p in paths:  # the numbers are what is kept
                p.unlink(missing_ok=True)
    return [results[i] for i in range(len(specs))]


@dataclass(frozen=True)
class _Unscored:
    vmaf: float = math.nan
    psnr: float = math.nan
    ssim: float = math.nan
    seconds: float = 0.0
    frames: tuple = ()


_UNSCORED = _Unscored()


@dataclass
class ProbeRun:
    """All probes of a title, with their cost (wall-clock, and summed per-process seconds)."""

    results: list[ProbeResult]
    wall_s: float

    @property
    def cpu_s(self) -> float:
        """Summed seconds of every probe used, as recorded when it was made (cached ones included)."""
        return sum(r.encode_s + r.score_s for r in self.results)

    @property
    def new(self) -> int:
        return sum(1 for r in self.results if not r.cached)

    def for_shot(self, shot: int, codec: str) -> list[ProbeResult]:
        return [r for r in self.results if r.shot == shot and r.codec == codec]


def run_probes(
    media: MediaInfo,
    shots: Sequence[Shot],
    grid: dict[str, list[tuple]],
    work_dir: str | os.PathLike,
    settings: ProbeSettings | None = None,
    on_progress: Callable[[float], None] | None = None,
    executor: Executor | None = None,
    also: Sequence[tuple] = (),
) -> ProbeRun:
    """Probe every shot over ``grid``: codec -> [(width, height, preset)], times the codec's CRFs
    (or an entry's own CRFs: ``(width, height, preset, crfs)``).

    Shots are probed in parallel on ``executor`` (a local pool when None), the longest first so no
    core waits on one long shot at the end; ``also`` adds more ``(grid, settings)`` or ``(grid,
    settings, shots)`` to the same run, so no core waits between them either.
    """
    settings = settings or ProbeSettings()
    work = Path(work_dir)
    src = SourceRef.of(media)
    jobs = []
    for g, st, *own in [(grid, settings), *also]:
        specs = [
            ProbeSpec(codec, st.preset.get(codec, size[2]), size[0], size[1], float(crf))
            for codec, sizes in g.items()
            for size in sizes
            for crf in (size[3] if len(size) > 3 else st.crfs_for(codec))
        ]
        if specs:
            jobs += [(s, list(dict.fromkeys(specs)), st) for s in (own[0] if own else shots)]
    t0 = time.perf_counter()
    out: list[ProbeResult] = []
    jobs.sort(key=lambda job: -job[0].frame_count)
    with borrowed(executor, settings.jobs or None) as pool:
        futures = [pool.submit(probe_shot, media, src, s, sp, work, st) for s, sp, st in jobs]
        for k, fut in enumerate(futures, 1):
            out.extend(fut.result())
            if on_progress:
                on_progress(k / len(futures))
    return ProbeRun(out, time.perf_counter() - t0)


def interpolate(results: Sequence[ProbeResult], step: float = 1.0, extend: float = EXTRAPOLATE) -> list[RDPoint]:
    """Dense (rate, VMAF) points over the probed CRFs of one shot at one size (PCHIP).

    Rate is interpolated in log space (nearly linear in CRF); both curves are monotone between
    probes, which PCHIP preserves. Past the end probes the curves are extended by ``extend`` CRF
    along their end slopes (log-rate is close to linear in CRF; VMAF is kept within 0..100).
    A single probe is returned as is.
    """
    rs = sorted(results, key=lambda r: r.crf)
    if len(rs) < 2:
        return [r.point() for r in rs]
    crf = np.array([r.crf for r in rs])
    log_rate = PchipInterpolator(crf, np.log([max(1e-3, r.kbps) for r in rs]), extrapolate=True)
    vmaf = PchipInterpolator(crf, [r.vmaf for r in rs], extrapolate=True)
    psnr = PchipInterpolator(crf, [r.psnr for r in rs], extrapolate=True)
    codec = rs[0].codec
    lo, hi = codecs.get(codec).crf_range
    grid = np.arange(max(lo, crf[0] - extend), min(hi, crf[-1] + extend) + 1e-9, step)

    def value(f: PchipInterpolator, c: float) -> float:
        if crf[0] <= c <= crf[-1]:
            return float(f(c))
        edge = crf[0] if c < crf[0] else crf[-1]
        return float(f(edge) + f.derivative()(edge) * (c - edge))  # linear past the ends

    w, h = rs[0].width, rs[0].height
    return [
        RDPoint(
            float(math.exp(value(log_rate, c))),
            min(100.0, max(0.0, value(vmaf, c))),
            float(c),
            w,
            h,
            {"psnr": value(psnr, c)},
        )
        for c in grid
    ]
