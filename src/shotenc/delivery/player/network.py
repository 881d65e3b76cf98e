"""Network model: how long a transfer takes on a throughput trace.

A request waits one latency (the period's latency; a latency that runs into the next period
finishes at that period's latency, as Sabre counts it), then bits flow at the trace rate; the
trace loops when a session outlasts it. The trace becomes a cumulative-bits curve once, so a
transfer time is two binary searches: scalar ones for the session (pure Python, called for every
progress check of a download) and numpy ones for the offline optimum (millions at once).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from itertools import accumulate

import numpy as np

from .traces import Trace


class Network:
    """Replays a :class:`Trace`."""

    def __init__(self, trace: Trace):
        self.trace = trace
        self.durations = [p.duration_s for p in trace.periods]
        self.rates = [max(p.kbps, 0.0) * 1000.0 for p in trace.periods]  # bit/s
        self.lat = [max(p.latency_s, 0.0) for p in trace.periods]
        self.times = [0.0, *accumulate(self.durations)]
        self.bits = [0.0, *accumulate(d * r for d, r in zip(self.durations, self.rates, strict=True))]
        self.period_s = self.times[-1]
        self.cycle_bits = self.bits[-1]
        self._times = np.array(self.times)
        self._bits = np.array(self.bits)
        self._rates = np.array(self.rates)
        self._lat = np.array(self.lat)

    # --- scalar (session) ----------------------------------------------------------------
    def _index(self, r: float) -> int:
        return min(max(bisect_right(self.times, r) - 1, 0), len(self.rates) - 1)

    def cum(self, t: float) -> float:
        """Bits deliverable from time 0 to ``t`` (trace looped)."""
        k, r = divmod(t, self.period_s)
        i = self._index(r)
        return k * self.cycle_bits + self.bits[i] + (r - self.times[i]) * self.rates[i]

    def inv(self, b: float) -> float:
        """Earliest time by which ``b`` bits can have been delivered."""
        k, r = divmod(b, self.cycle_bits)
        i = min(max(bisect_left(self.bits, r) - 1, 0), len(self.rates) - 1)
        rate = self.rates[i]
        return k * self.period_s + self.times[i] + ((r - self.bits[i]) / rate if rate > 0 else 0.0)

    def after_latency(self, t: float) -> float:
        """When the first byte of a response requested at ``t`` arrives."""
        units = 1.0
        k, r = divmod(t, self.period_s)
        i = self._index(r)
        while True:
            left = self.times[i + 1] - r
            need = units * self.lat[i]
            if need <= left:
                return k * self.period_s + r + need
            units -= left / self.lat[i]
            i += 1
            r = self.times[i]
            if i == len(self.rates):
                i, r, k = 0, 0.0, k + 1

    def latency_at(self, t: float) -> float:
        return self.lat[self._index(t % self.period_s)]

    def finish(self, t: float, bits: float) -> float:
        """When a transfer of ``bits`` whose first byte arrives at ``t`` completes."""
        return self.inv(self.cum(t) + bits)

    def transfer_s(self, start: float, nbytes: int) -> float:
        """Seconds from request at ``start`` to the last byte of an ``nbytes`` response."""
        return self.finish(self.after_latency(start), nbytes * 8.0) - start

    def bits_between(self, t0: float, t1: float) -> float:
        return self.cum(t1) - self.cum(t0)

    # --- vectorised (offline optimum) ----------------------------------------------------
    def _cum_v(self, t: np.ndarray) -> np.ndarray:
        k, r = np.divmod(t, self.period_s)
        i = np.clip(np.searchsorted(self._times, r, side="right") - 1, 0, len(self.rates) - 1)
        return k * self.cycle_bits + self._bits[i] + (r - self._times[i]) * self._rates[i]

    def _inv_v(self, b: np.ndarray) -> np.ndarray:
        k, r = np.divmod(b, self.cycle_bits)
        i = np.clip(np.searchsorted(self._bits, r, side="left") - 1, 0, len(self.rates) - 1)
        rate = self._rates[i]
        safe = np.where(rate > 0, rate, 1.0)
        within = np.where(rate > 0, (r - self._bits[i]) / safe, 0.0)
        return k * self.period_s + self._times[i] + within

    def finish_times(self, start: np.ndarray, bits: np.ndarray) -> np.ndarray:
        """Vectorised: when transfers of ``bits`` requested at ``start`` complete (the latency is
        the request period's, whole: the optimum's approximation where it spans two periods)."""
        r = np.mod(start, self.period_s)
        i = np.clip(np.searchsorted(self._times, r, side="right") - 1, 0, len(self.rates) - 1)
        return self._inv_v(self._cum_v(start + self._lat[i]) + bits)
