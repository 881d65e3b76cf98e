"""Shots: cuts from PySceneDetect, then merged and split so every shot makes a good segment."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from fractions import Fraction

import numpy as np

from ..errors import ShotencError

DETECTORS = ("content", "adaptive", "histogram", "hash", "threshold")


@dataclass(frozen=True)
class Shot:
    """Frames [start_frame, start_frame + frame_count) of the normalized source."""

    index: int
    start_frame: int
    frame_count: int
    start_s: float
    duration_s: float
    starts_at_cut: bool  # False when it begins where a long shot was split

    @property
    def end_frame(self) -> int:
        return self.start_frame + self.frame_count

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ShotOptions:
    detector: str = "content"  # one of DETECTORS (PySceneDetect's)
    threshold: float | None = None  # detector's own default when None
    min_shot_s: float = 1.0  # shorter shots are merged into a neighbour
    max_segment_s: float = 6.0  # longer shots are split; bounds every segment
    first_segment_s: float = 1.5  # the first shot is split here (fast start); 0 keeps it whole

    def check(self) -> None:
        """ShotencError when the options cannot work together."""
        if self.detector not in DETECTORS:
            raise ShotencError(f"unknown detector {self.detector!r}; choose from {', '.join(DETECTORS)}")
        if self.min_shot_s < 0 or self.max_segment_s <= 0 or self.min_shot_s > self.max_segment_s:
            raise ShotencError("need 0 <= --min-shot <= --max-segment and --max-segment > 0")
        if self.first_segment_s < 0:
            raise ShotencError("need --first-segment >= 0")


class CutDetector:
    """Feeds frames to a PySceneDetect detector; collects cut frame numbers."""

    def __init__(self, fps: Fraction, options: ShotOptions):
        from scenedetect import detectors

        kinds = {
            "content": (detectors.ContentDetector, "threshold"),
            "adaptive": (detectors.AdaptiveDetector, "adaptive_threshold"),
            "histogram": (detectors.HistogramDetector, "threshold"),
            "hash": (detectors.HashDetector, "threshold"),
            "threshold": (detectors.ThresholdDetector, "threshold"),
        }
        if options.detector not in kinds:
            from ..errors import ShotencError

            raise ShotencError(f"unknown detector {options.detector!r}; choose from {', '.join(DETECTORS)}")
        cls, arg = kinds[options.detector]
        kwargs = {arg: options.threshold} if options.threshold is not None else {}
        # our own min-shot merge runs later; let the detector report every cut
        kwargs["min_scene_len"] = 1
        self._detector = cls(**kwargs)
        self._fps = fps
        self.cuts: list[int] = []
        self._n = 0

    def _tc(self, n: int):
        from scenedetect.common import FrameTimecode

        return FrameTimecode(n, self._fps)

    def feed(self, bgr: np.ndarray) -> None:
        self.cuts += [c.frame_num for c in self._detector.process_frame(self._tc(self._n), bgr)]
        self._n += 1

    def finish(self) -> list[int]:
        if self._n:
            self.cuts += [c.frame_num for c in self._detector.post_process(self._tc(self._n))]
        return sorted({c for c in self.cuts if 0 < c < self._n})


# x264 and x265 delay decoding by two frames (B-frames) once a chunk has three; a shorter chunk starts
# without the delay, and its timestamps then overlap the next chunk's when they are joined (a 1 fps source
# gave one-frame shots, and its renditions could not be packaged)
MIN_CHUNK_FRAMES = 3


def _split_first(spans: list[list[int]], first_frames: int, min_frames: int) -> None:
    """A short first segment so playback starts fast: split the first span after ``first_frames``
    (earlier if the rest would be shorter than ``min_frames``)."""
    if first_frames <= 0 or not spans:
        return
    a, b = spans[0]
    first_frames = max(first_frames, MIN_CHUNK_FRAMES)
    cut = min(first_frames, b - a - min_frames)
    if cut >= MIN_CHUNK_FRAMES and b - a > first_frames:
        spans[0:1] = [[a, a + cut], [a + cut, b]]


def shots_from_cuts(cuts: list[int], frame_count: int, fps: Fraction, options: ShotOptions) -> list[Shot]:
    """Turn cut frames into shots: merge ones shorter than ``min_shot_s``, split ones over ``max_segment_s``
    (none under :data:`MIN_CHUNK_FRAMES` but a title that short)."""
    fps_f = float(fps)
    min_frames = max(MIN_CHUNK_FRAMES, int(round(options.min_shot_s * fps_f)))
    max_frames = max(2 * MIN_CHUNK_FRAMES, int(math.floor(options.max_segment_s * fps_f + 1e-6)))
    bounds = [0, *sorted(c for c in set(cuts) if 0 < c < frame_count), frame_count]
    spans = [[a, b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
    # merge short spans into the shorter neighbour (keeps the real cut that matters more)
    changed = True
    while changed and len(spans) > 1:
        changed = False
        for i, (a, b) in enumerate(spans):
            if b - a >= min_frames:
                continue
            if i == 0:
                j = 1
            elif i == len(spans) - 1:
                j = i - 1
            else:
                left, right = spans[i - 1], spans[i + 1]
                j = i - 1 if (left[1] - left[0]) <= (right[1] - right[0]) else i + 1
            lo, hi = min(i, j), max(i, j)
            spans[lo] = [spans[lo][0], spans[hi][1]]
            del spans[hi]
            changed = True
            break
    cut_starts = {a for a, _ in spans}
    _split_first(spans, int(math.floor(options.first_segment_s * fps_f + 1e-6)), min_frames)
    shots: list[Shot] = []
    for a, b in spans:
        n = b - a
        parts = max(1, math.ceil(n / max_frames))
        edges = [a + round(k * n / parts) for k in range(parts + 1)]
        for k, (s, e) in enumerate(zip(edges, edges[1:], strict=False)):
            shots.append(
                Shot(
                    index=len(shots),
                    start_frame=s,
                    frame_count=e - s,
                    start_s=s / fps_f,
                    duration_s=(e - s) / fps_f,
                    starts_at_cut=(k == 0 and s in cut_starts and s > 0) or s == 0,
                )
            )
    return shots
