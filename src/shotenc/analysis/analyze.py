"""One decode pass at a small size: shot cuts and per-shot complexity from the same frames."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import cv2
import numpy as np

from ..jobs.receipts import plain_fields
from ..media import ffmpeg
from ..media.normalize import read_source, video_filters
from ..media.probe import MediaInfo
from .features import FeatureAccumulator, ShotFeatures
from .shots import CutDetector, Shot, ShotOptions, shots_from_cuts

ANALYSIS_WIDTH = 320


@dataclass
class Analysis:
    media: MediaInfo
    shots: list[Shot]
    features: list[ShotFeatures]
    cuts: list[int]
    seconds: float
    options: ShotOptions = field(default_factory=ShotOptions)

    def to_data(self) -> dict:
        """Everything, at full precision, as plain JSON data (the cached form; see :func:`analysis_from_data`)."""
        return {
            "media": self.media.to_dict(),
            "shots": [asdict(s) for s in self.shots],
            "features": [asdict(f) for f in self.features],
            "cuts": self.cuts,
            "seconds": self.seconds,
            "options": asdict(self.options),
        }

    def to_dict(self) -> dict:
        return {
            "source": self.media.to_dict(),
            "cuts": self.cuts,
            "shots": [{**s.to_dict(), "features": f.to_dict()} for s, f in zip(self.shots, self.features, strict=True)],
            "seconds": round(self.seconds, 3),
        }


def analysis_from_data(data: dict) -> Analysis:
    """Rebuild an :class:`Analysis` from :meth:`Analysis.to_data`; ValueError if it is not one.

    Only plain values are read (numbers, strings, lists), checked field by field: a file in a work
    folder is data, never code.
    """
    try:
        return Analysis(
            media=MediaInfo.from_dict(data["media"]),
            shots=[Shot(**plain_fields(s, Shot)) for s in data["shots"]],
            features=[ShotFeatures(**plain_fields(f, ShotFeatures)) for f in data["features"]],
            cuts=[int(c) for c in data["cuts"]],
            seconds=float(data["seconds"]),
            options=ShotOptions(**plain_fields(data["options"], ShotOptions)),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"not an analysis: {exc}") from None


def analysis_size(media: MediaInfo, max_width: int = ANALYSIS_WIDTH) -> tuple[int, int]:
    w = min(max_width, media.width)
    h = max(16, int(round(w * media.height / media.width / 2)) * 2)
    return max(16, w - w % 8), h


def analyze(
    media: MediaInfo,
    options: ShotOptions | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> Analysis:
    """Find shots and measure them, decoding the source once at ``ANALYSIS_WIDTH`` pixels wide."""
    options = options or ShotOptions()
    t0 = time.perf_counter()
    w, h = analysis_size(media)
    vf = video_filters(media, w, h, scaler="area", pix_fmt="bgr24")
    frames = ffmpeg.stream_frames(
        [
            "-v",
            "error",
            *read_source(media, vf=vf),
            "-fps_mode",
            "passthrough",
            "-f",
            "rawvideo",
            "-",
        ],
        w * h * 3,
        what="analysis decode",
    )
    detector = CutDetector(media.fps, options)
    acc = FeatureAccumulator(sample_every=max(1, round(float(media.fps) / 12.5)), motion_every=2)
    n = 0
    for buf in frames:
        bgr = np.frombuffer(buf, np.uint8).reshape(h, w, 3)
        detector.feed(bgr)
        acc.add(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
        n += 1
        if on_progress and n % 25 == 0:
            on_progress(min(1.0, n / max(1, media.frame_count)))
    cuts = detector.finish()
    frame_count = n
    if frame_count != media.frame_count:
        # the decode is the ground truth for what every later stage will see
        media.frame_count = frame_count
        media.duration_s = frame_count / float(media.fps)
    shots = shots_from_cuts(cuts, frame_count, media.fps, options)
    feats = [acc.for_shot(s) for s in shots]
    if on_progress:
        on_progress(1.0)
    return Analysis(media, shots, feats, cuts, time.perf_counter() - t0, options)
