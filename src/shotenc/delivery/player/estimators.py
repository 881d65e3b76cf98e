"""Throughput and latency estimators a player keeps from its downloads.

:class:`Ewma` is the default of dash.js and Sabre: two exponentially weighted averages of
throughput, weighted by download time, with half-lives of 3 s and 8 s; the lower one is the
estimate (quick to fall, slow to rise). Latency is averaged per download, with half-lives of
the same lengths counted in segments; the higher one is the estimate. Both are corrected for
their zero start, so the first sample is taken at its value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class Sample:
    kbps: float
    download_s: float  # transfer time after the first byte
    latency_s: float  # time to the first byte


class Ewma:
    def __init__(self, segment_s: float, half_lives_s: tuple[float, ...] = (3.0, 8.0)):
        self.half = half_lives_s
        self.latency_half = [h / segment_s for h in half_lives_s]  # in downloads
        self._tput = [0.0] * len(half_lives_s)
        self._lat = [0.0] * len(half_lives_s)
        self._weight = 0.0
        self._count = 0
        self.throughput_kbps: float | None = None
        self.latency_s: float | None = None

    def push(self, s: Sample) -> None:
        for i, h in enumerate(self.half):
            a = math.pow(0.5, s.download_s / h)
            self._tput[i] = a * self._tput[i] + (1 - a) * s.kbps
            a = math.pow(0.5, 1 / self.latency_half[i])
            self._lat[i] = a * self._lat[i] + (1 - a) * s.latency_s
        self._weight += s.download_s
        self._count += 1
        self.throughput_kbps = min(
            t / (1 - math.pow(0.5, self._weight / h)) for t, h in zip(self._tput, self.half, strict=True)
        )
        self.latency_s = max(
            x / (1 - math.pow(0.5, self._count / h)) for x, h in zip(self._lat, self.latency_half, strict=True)
        )
