"""Network model: how long a transfer takes on a throughput trace.

The trace is turned into a cumulative-bits curve once, so a transfer time is two binary
searches; the offline optimum needs millions of them, vectorised with numpy. Traces loop
when a session outlasts them, as Sabre does.
"""

from __future__ import annotations

import numpy as np

from .traces import Trace


class Network:
    """Replays a :class:`Trace`: a request waits one latency, then bits flow at the trace rate."""

    def __init__(self, trace: Trace):
        durations = np.array([p.duration_s for p in trace.periods], dtype=float)
        rates = np.array([max(p.kbps, 0.0) * 1000.0 for p in trace.periods], dtype=float)  # bit/s
        self.trace = trace
        self.times = np.concatenate([[0.0], np.cumsum(durations)])
        self.bits = np.concatenate([[0.0], np.cumsum(durations * rates)])
        self.rates = rates
        self.latencies = np.array([p.latency_s for p in trace.periods], dtype=float)
        self.period_s = float(self.times[-1])
        self.cycle_bits = float(self.bits[-1])

    def _cum(self, t: np.ndarray) -> np.ndarray:
        """Bits deliverable from time 0 to ``t`` (trace looped)."""
        k, r = np.divmod(t, self.period_s)
        i = np.clip(np.searchsorted(self.times, r, side="right") - 1, 0, len(self.rates) - 1)
        return k * self.cycle_bits + self.bits[i] + (r - self.times[i]) * self.rates[i]

    def _inv(self, b: np.ndarray) -> np.ndarray:
        """Earliest time by which ``b`` bits can have been delivered."""
        k, r = np.divmod(b, self.cycle_bits)
        i = np.clip(np.searchsorted(self.bits, r, side="left") - 1, 0, len(self.rates) - 1)
        rate = self.rates[i]
        safe = np.where(rate > 0, rate, 1.0)
        within = np.where(rate > 0, (r - self.bits[i]) / safe, 0.0)
        return k * self.period_s + self.times[i] + within

    def latency_at(self, t: np.ndarray | float) -> np.ndarray:
        r = np.mod(t, self.period_s)
        i = np.clip(np.searchsorted(self.times, r, side="right") - 1, 0, len(self.rates) - 1)
        return self.latencies[i]

    def finish_times(self, start: np.ndarray, bits: np.ndarray) -> np.ndarray:
        """Vectorised: when transfers of ``bits`` requested at ``start`` complete."""
        begin = start + self.latency_at(start)
        return self._inv(self._cum(begin) + bits)

    def transfer_s(self, start: float, nbytes: int) -> float:
        """Seconds from request at ``start`` to the last byte of an ``nbytes`` response."""
        end = self.finish_times(np.array([start]), np.array([nbytes * 8.0]))[0]
        return float(end - start)

    def bits_between(self, t0: float, t1: float) -> float:
        """Bits the link can carry between two instants (for a player watching a download)."""
        return float(self._cum(np.array([t1]))[0] - self._cum(np.array([t0]))[0])
