"""VMAF, PSNR and SSIM per frame and per shot, from one libvmaf pass in the bundled FFmpeg.

The reference is the source through :func:`shotenc.media.normalize.video_filters` at the source's own
size, so "frame N" is the same picture the encoders saw. A rendition smaller than the source is
upscaled to that size with bicubic before scoring (standard practice: VMAF models a viewer
watching on the source-size display). libvmaf takes the distorted stream first and the reference
second; both are retimed to ``pts = N`` so frames pair by number, never by guesswork.

VMAF models SDR pictures: for an HDR source the reference is the tone-mapped source (the normalizing
filters tone-map), and an HDR rendition is tone-mapped the same way before it is scored
(``hdr_distorted``), so an HDR rendition's VMAF is that of its SDR picture.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..analysis.shots import Shot
from ..errors import ShotencError
from ..media import ffmpeg
from ..media.colour import tonemap_filter
from ..media.normalize import seek_args, source_pad, video_filters
from ..media.probe import MediaInfo

VMAF_MODEL = "vmaf_v0.6.1"
VMAF_4K_MODEL = "vmaf_4k_v0.6.1"


class QualityError(ShotencError):
    """Scoring could not be done (mismatched frames, unreadable file)."""


def vmaf_model_for(width: int, height: int) -> str:
    """The 4K model for references of 1440 lines and more on their short side (its training viewing
    distance; a portrait 1080x1920 is 1080p), else v0.6.1."""
    return VMAF_4K_MODEL if min(width, height) >= 1440 else VMAF_MODEL


def reference_size(media: MediaInfo) -> tuple[int, int]:
    return media.width - media.width % 2, media.height - media.height % 2


@dataclass(frozen=True)
class FrameScore:
    frame: int  # frame number in the scored range (0 = its first frame)
    vmaf: float
    psnr: float  # luma PSNR, dB
    ssim: float


@dataclass
class ShotScore:
    """Quality of one shot: means over its scored frames, and its worst frame."""

    index: int
    start_frame: int
    frame_count: int
    vmaf: float
    vmaf_min: float
    psnr: float
    ssim: float
    frames_scored: int

    def to_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


@dataclass
class Scores:
    """Per-frame scores of one distorted file against the matching range of the source."""

    frames: list[FrameScore]
    model: str
    n_subsample: int
    seconds: float

    @property
    def vmaf(self) -> float:
        return float(np.mean([f.vmaf for f in self.frames]))

    @property
    def psnr(self) -> float:
        return float(np.mean([f.psnr for f in self.frames]))

    @property
    def ssim(self) -> float:
        return float(np.mean([f.ssim for f in self.frames]))

    def vmaf_percentile(self, q: float) -> float:
        return float(np.percentile([f.vmaf for f in self.frames], q))

    def per_shot(self, shots: Sequence[Shot], offset: int = 0) -> list[ShotScore]:
        """Scores of each shot; ``offset`` is the source frame of this file's frame 0."""
        out = []
        for s in shots:
            lo, hi = s.start_frame - offset, s.end_frame - offset
            mine = [f for f in self.frames if lo <= f.frame < hi]
            if not mine:  # subsampling skipped the whole shot: take the nearest scored frame
                mine = [min(self.frames, key=lambda f: min(abs(f.frame - lo), abs(f.frame - hi + 1)))]
            out.append(
                ShotScore(
                    s.index,
                    s.start_frame,
                    s.frame_count,
                    float(np.mean([f.vmaf for f in mine])),
                    float(min(f.vmaf for f in mine)),
                    float(np.mean([f.psnr for f in mine])),
                    float(np.mean([f.ssim for f in mine])),
                    len(mine),
                )
            )
        return out

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "n_subsample": self.n_subsample,
            "seconds": round(self.seconds, 3),
            "frames": [[f.frame, round(f.vmaf, 3), round(f.psnr, 3), round(f.ssim, 5)] for f in self.frames],
        }

    @classmethod
    def from_dict(cls, d: dict) -> Scores:
        return cls(
            [FrameScore(int(a), b, c, e) for a, b, c, e in d["frames"]],
            d["model"],
            int(d["n_subsample"]),
            float(d["seconds"]),
        )


def _psnr_cap(v: float) -> float:
    return 100.0 if math.isinf(v) or math.isnan(v) else v


def score(
    distorted: str | os.PathLike,
    source: MediaInfo,
    start_frame: int = 0,
    frame_count: int | None = None,
    *,
    n_subsample: int = 1,
    threads: int = 0,
    model: str | None = None,
    hdr_distorted: bool = False,
) -> Scores:
    """Score ``distorted`` against source frames [start_frame, start_frame + frame_count).

    ``distorted`` must hold exactly those frames (a chunk, or a whole rendition). ``n_subsample``
    scores every n-th frame; ``threads`` is libvmaf's thread count (0: its default).
    """
    return score_many(
        [distorted],
        source,
        start_frame,
        frame_count,
        n_subsample=n_subsample,
        threads=threads,
        model=model,
        hdr_distorted=hdr_distorted,
    )[0]


def score_many(
    distorted: Sequence[str | os.PathLike],
    source: MediaInfo,
    start_frame: int = 0,
    frame_count: int | None = None,
    *,
    n_subsample: int = 1,
    threads: int = 0,
    model: str | None = None,
    ssim: bool = True,
    hdr_distorted: bool = False,
) -> list[Scores]:
    """Score several encodes of the same source range in one FFmpeg run.

    The reference is decoded once and split, which saves a decode and a process start per file
    (probe encodes of one shot are scored this way). ``ssim=False`` saves more than half of
    libvmaf's time where SSIM is not needed. Subsampling is libvmaf's own (``n_subsample``): dropping
    frames before it would change VMAF's motion feature, which compares neighbouring frames.
    """
    frame_count = frame_count if frame_count is not None else source.frame_count - start_frame
    if frame_count <= 0:
        raise QualityError("nothing to score: empty frame range")
    if not distorted:
        return []
    model = model or vmaf_model_for(*reference_size(source))
    k = max(1, n_subsample)
    with tempfile.TemporaryDirectory(prefix="shotenc-vmaf-") as tmp:
        logs = [Path(tmp) / f"vmaf{i}.json" for i in range(len(distorted))]
        graph = _scoring_graph(source, frame_count, logs, model, threads, k, ssim, hdr_distorted)
        inputs: list[str | os.PathLike] = []
        for d in distorted:
            # a rendition may change size at shot boundaries: scale follows it frame by frame instead
            # of FFmpeg rebuilding the graph (which would restart VMAF's count mid-stream)
            inputs += ["-reinit_filter", "0", "-i", d]
        t0 = time.perf_counter()
        ffmpeg.run(
            ["-v", "error", *inputs, *seek_args(source, start_frame), "-i", source.path]
            + ["-filter_complex", graph, "-an", "-f", "null", "-"],
            what=f"quality scoring of {Path(distorted[0]).name}"
            + (f" (+{len(distorted) - 1} more)" if len(distorted) > 1 else ""),
        )
        seconds = (time.perf_counter() - t0) / len(distorted)
        return [
            Scores(_read_log(d, log, math.ceil(frame_count / k), frame_count), model, k, seconds)
            for d, log in zip(distorted, logs, strict=True)
        ]


def _scoring_graph(
    source: MediaInfo,
    frame_count: int,
    logs: list[Path],
    model: str,
    threads: int,
    k: int,
    ssim: bool,
    hdr_distorted: bool = False,
) -> str:
    """The reference decoded once, normalized and split; each distorted input scaled to it and scored."""
    w, h = reference_size(source)
    fps, n = source.fps, len(logs)
    retime = f"settb={fps.denominator}/{fps.numerator},setpts=N"
    ref_chain = f"trim=end_frame={frame_count},{video_filters(source, w, h)},{retime}"
    ref_chain += (f",split={n}" + "".join(f"[r{i}]" for i in range(n))) if n > 1 else "[r0]"
    to_sdr = f"{tonemap_filter(source.colour.delivered)}," if hdr_distorted and source.colour.hdr else ""
    dist_chain = f"scale={w}:{h}:flags=bicubic,setsar=1,{to_sdr}format=yuv420p,{retime}"
    features = "psnr|name=float_ssim" if ssim else "psnr"
    parts = [f"{source_pad(source, n)}{ref_chain}"]
    for i, log in enumerate(logs):
        # libvmaf's option parser treats ':' and '\\' specially; a temp path has neither
        vmaf = (
            f"libvmaf=model=version={model}:feature=name={features}:n_threads={threads}:"
            f"n_subsample={k}:log_fmt=json:log_path={log}:shortest=1"
        )
        parts.append(f"[{i}:v]{dist_chain}[d{i}];[d{i}][r{i}]{vmaf}")
    return ";".join(parts)


def _read_log(distorted: str | os.PathLike, log: Path, expected: int, frame_count: int) -> list[FrameScore]:
    try:
        data = json.loads(log.read_text())
    except (OSError, ValueError) as exc:
        raise QualityError(f"libvmaf wrote no readable log for {distorted} ({exc})") from None
    frames = [
        FrameScore(
            int(fr["frameNum"]),
            float(fr["metrics"]["vmaf"]),
            _psnr_cap(float(fr["metrics"]["psnr_y"])),
            float(fr["metrics"].get("float_ssim", math.nan)),
        )
        for fr in data.get("frames", [])
    ]
    if abs(len(frames) - expected) > 1:
        raise QualityError(
            f"{Path(distorted).name}: scored {len(frames)} frames, expected {expected} "
            f"(does it hold {frame_count} frames?)"
        )
    return frames
