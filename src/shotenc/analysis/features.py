"""Shot complexity from small decoded frames: P.910 SI/TI, DCT texture energy, motion.

Everything runs on frames of a few hundred pixels wide, so measuring is a small part of a job.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import cv2
import numpy as np

from .shots import Shot


def _dct_matrix(n: int = 8) -> np.ndarray:
    k = np.arange(n)
    m = np.cos(np.pi * (2 * k[None, :] + 1) * k[:, None] / (2 * n)) * math.sqrt(2 / n)
    m[0] /= math.sqrt(2)
    return m


_DCT8 = _dct_matrix()
# weight higher frequencies more, as the VCA analyser does (texture that costs bits)
_FREQ_WEIGHT = np.exp(np.add.outer(np.arange(8), np.arange(8)) / 8.0 * 1.5)
_FREQ_WEIGHT[0, 0] = 0.0
_DCT8_32 = _DCT8.astype(np.float32)
_FREQ_WEIGHT_32 = _FREQ_WEIGHT.astype(np.float32)


def block_texture(gray: np.ndarray) -> np.ndarray:
    """Weighted AC energy of every 8x8 block (luma), as a 2-D array of blocks."""
    h, w = (gray.shape[0] // 8) * 8, (gray.shape[1] // 8) * 8
    g = gray[:h, :w].astype(np.float32)
    blocks = g.reshape(h // 8, 8, w // 8, 8).transpose(0, 2, 1, 3)
    coef = _DCT8_32 @ blocks @ _DCT8_32.T
    return (np.abs(coef) * _FREQ_WEIGHT_32).sum(axis=(2, 3)) / 64.0


@dataclass
class ShotFeatures:
    """Complexity of one shot. ``complexity`` is the single number the allocator ranks shots by."""

    si: float  # P.910 spatial information (mean over frames)
    ti: float  # P.910 temporal information (mean over frame pairs)
    si_max: float
    ti_max: float
    texture: float  # mean weighted DCT energy per block
    temporal_texture: float  # mean absolute change of block texture between frames
    motion: float  # mean optical-flow magnitude, pixels per frame at the analysis width
    brightness: float
    complexity: float

    def to_dict(self) -> dict:
        return {k: round(v, 4) for k, v in asdict(self).items()}


def complexity_score(si: float, ti: float, texture: float, temporal_texture: float, motion: float) -> float:
    """A rough bits-needed index: spatial detail times (1 + how much of it changes)."""
    spatial = 0.5 * si + 0.5 * texture
    temporal = 0.5 * ti + 0.3 * temporal_texture + 2.0 * motion
    return spatial * (1.0 + temporal / 10.0) + 1.0


class FeatureAccumulator:
    """Gathers per-frame measurements; call :meth:`add` for every frame in order.

    Only every ``sample_every``-th frame is measured (TI against the frame just before it), and
    optical flow on every ``motion_every``-th measured frame: shot averages need samples, not all frames.
    """

    _EMPTY = (math.nan,) * 6

    def __init__(self, sample_every: int = 2, motion_every: int = 2):
        self.sample_every = max(1, sample_every)
        self.motion_every = max(1, motion_every)
        self._prev: np.ndarray | None = None
        self._prev_tex: np.ndarray | None = None
        self._prev_small: np.ndarray | None = None
        self._measured = 0
        self.rows: list[tuple[float, float, float, float, float, float]] = []

    def add(self, gray: np.ndarray) -> None:
        n = len(self.rows)
        if n % self.sample_every and n % self.sample_every != self.sample_every - 1:
            self.rows.append(self._EMPTY)
            return
        if n % self.sample_every == self.sample_every - 1 and self.sample_every > 1:
            # the frame before a sample: kept only as the TI reference
            self._prev = gray.astype(np.float32)
            self.rows.append(self._EMPTY)
            return
        self._measured += 1
        g = gray.astype(np.float32)
        sx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
        sy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
        si = float(np.std(np.sqrt(sx * sx + sy * sy)[1:-1, 1:-1]))
        tex = block_texture(gray)
        ti = float(np.std(g - self._prev)) if self._prev is not None else math.nan
        ttex = float(np.mean(np.abs(tex - self._prev_tex))) if self._prev_tex is not None else math.nan
        motion = math.nan
        small = cv2.resize(
            gray, (max(16, gray.shape[1] // 2), max(16, gray.shape[0] // 2)), interpolation=cv2.INTER_AREA
        )
        if self._prev_small is not None and self._measured % self.motion_every == 0:
            flow = cv2.calcOpticalFlowFarneback(self._prev_small, small, None, 0.5, 2, 9, 2, 5, 1.1, 0)
            # flow spans sample_every frames at half the analysis width: per frame, full width
            motion = float(np.mean(np.linalg.norm(flow, axis=2))) * 2.0 / self.sample_every
        self.rows.append((si, ti, float(tex.mean()), ttex, motion, float(g.mean())))
        self._prev, self._prev_tex, self._prev_small = g, tex, small

    def for_shot(self, shot: Shot) -> ShotFeatures:
        rows = np.array(self.rows[shot.start_frame : shot.end_frame], dtype=np.float64)
        if rows.size == 0:
            return ShotFeatures(0, 0, 0, 0, 0, 0, 0, 0, 1.0)
        # the first frame of a shot has no temporal measure within the shot
        temporal = rows[1:] if len(rows) > 1 else rows[:0]

        def mean(col: np.ndarray) -> float:
            col = col[~np.isnan(col)]
            return float(col.mean()) if col.size else 0.0

        def peak(col: np.ndarray) -> float:
            col = col[~np.isnan(col)]
            return float(col.max()) if col.size else 0.0

        si, tex, bright = mean(rows[:, 0]), mean(rows[:, 2]), mean(rows[:, 5])
        ti, ttex, mot = mean(temporal[:, 1]), mean(temporal[:, 3]), mean(temporal[:, 4])
        return ShotFeatures(
            si=si,
            ti=ti,
            si_max=peak(rows[:, 0]),
            ti_max=peak(temporal[:, 1]),
            texture=tex,
            temporal_texture=ttex,
            motion=mot,
            brightness=bright,
            complexity=complexity_score(si, ti, tex, ttex, mot),
        )
