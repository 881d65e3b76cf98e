"""BOLA-E (Spiteri, Sanders, Sitaraman, MMSys'18 and TOMM'19) as Sabre runs it (``-a bolae``).

Utilities ln(R/R_min) + 1. The buffer the rule is sized for is at least 10 s + 2 s per rung and at
least the player's buffer; γp and Vp follow from it so that the lowest rung is chosen below 10 s
(for bbb.json's ten rungs: 30 s, γp ≈ 1.63, Vp ≈ 6.1 s). At startup the first choice follows the
throughput and a *placeholder* buffer makes BOLA agree with it; the placeholder absorbs
buffer-full waits, is trimmed so BOLA would choose the rung just downloaded, and drops when a
download is abandoned. Up-switches beyond what the throughput sustains go one rung above it
(BOLA-U). The insufficient-buffer rule (safety 0.9 decaying to 0.5 per segment) caps every choice
and trims the placeholder; BOLA-E's own abandonment compares scores per remaining bit.
"""

from __future__ import annotations

from .base import Abr, AbrContext, Decision, Progress, quality_for_throughput, register
from .bola import MS, bola_rung, log_utilities
from .throughput import IBR_SAFETY_DECAY, IBR_SAFETY_MIN, IBR_SAFETY_START

MIN_BUFFER_MS = 10_000.0
MIN_BUFFER_PER_RUNG_MS = 2_000.0


@register
class BolaE(Abr):
    name = "bola-e"
    summary = "BOLA-E as in Sabre (placeholder, BOLA-U, insufficient-buffer rule, own abandonment)"

    def __init__(
        self, min_buffer_s: float = MIN_BUFFER_MS / MS, per_rung_s: float = MIN_BUFFER_PER_RUNG_MS / MS
    ) -> None:
        self.min_buffer = min_buffer_s * MS
        self.per_rung = per_rung_s * MS
        self.started = False
        self.placeholder = 0.0  # ms, like every level here
        self.last_rung = 0
        self.ibr_safety = IBR_SAFETY_START
        self.ibr_min = IBR_SAFETY_MIN
        self.rates: list[float] = []
        self.u: list[float] = []
        self.gp = self.vp = 0.0

    def _setup(self, ctx: AbrContext) -> None:
        self.rates = list(ctx.bitrates_kbps)
        self.u = log_utilities(self.rates, 1.0)
        buffer = max(self.min_buffer + self.per_rung * len(self.rates), ctx.max_buffer_s * MS)
        self.gp = (self.u[-1] - 1) / (buffer / self.min_buffer - 1)
        self.vp = self.min_buffer / self.gp

    def min_level(self, q: int) -> float:
        """The lowest buffer level at which BOLA prefers rung ``q`` to every lower rung."""
        level = 0.0
        r, u = self.rates, self.u
        for lower in range(q):
            if u[lower] < u[q]:
                level = max(level, self.vp * (self.gp + (r[q] * u[lower] - r[lower] * u[q]) / (r[q] - r[lower])))
        return level

    def max_level(self, q: int) -> float:
        return self.vp * (self.u[q] + self.gp)

    def choose(self, ctx: AbrContext) -> Decision:
        if len(ctx.bitrates_kbps) == 1:
            return Decision(0)  # nothing to choose (and no utility range to size BOLA by)
        if not self.started:
            self._setup(ctx)
            self.started = True
            q = quality_for_throughput(ctx, ctx.throughput_kbps)
            self.placeholder = max(0.0, self.min_level(q) - ctx.buffer_s * MS)
            return Decision(q)
        level = ctx.buffer_s * MS
        q = bola_rung(level + self.placeholder, self.vp, self.gp, self.u, self.rates)
        q_t = quality_for_throughput(ctx, ctx.throughput_kbps)
        if q > self.last_rung and q > q_t:
            q = max(self.last_rung, q_t) + 1
        delay = level + self.placeholder - self.max_level(q)
        if delay > 0:
            take = min(delay, self.placeholder)
            self.placeholder -= take
            delay -= take
        if q == len(self.rates) - 1:
            delay = 0.0
        q, delay = self._insufficient_buffer(ctx, q, max(delay, 0.0), level)
        return Decision(q, delay / MS)

    def _insufficient_buffer(self, ctx: AbrContext, q: int, delay: float, level: float) -> tuple[int, float]:
        safe_bits = self.ibr_safety * (level - (ctx.latency_s or 0.0) * MS) * ctx.throughput_kbps
        self.ibr_safety = max(self.ibr_safety * IBR_SAFETY_DECAY, self.ibr_min)
        for lower in range(q):
            if self.rates[lower + 1] * ctx.nominal_s * MS > safe_bits:
                self.placeholder = min(max(0.0, self.min_level(lower) - level), self.placeholder)
                return lower, 0.0
        return q, delay

    def report_delay(self, delay_s: float) -> None:
        self.placeholder += delay_s * MS

    def report_download(self, progress: Progress, buffer_s: float) -> None:
        self.last_rung = progress.rung
        if not self.rates:
            return
        level = buffer_s * MS
        if progress.abandon_to is None:
            level_was = level + progress.time_s * MS
            self.placeholder = min(self.placeholder, max(0.0, self.max_level(progress.rung) - level_was))
            if level > 0:
                self.placeholder = max(self.placeholder, self.min_level(progress.rung) - level_was)
        else:
            want = self.min_level(progress.abandon_to) if progress.abandon_to > 0 else self.min_buffer
            self.placeholder = min(self.placeholder, max(0.0, want - level))

    def check_abandon(self, ctx: AbrContext, progress: Progress, buffer_s: float) -> int | None:
        left = progress.size_bits - progress.downloaded_bits
        if progress.downloaded_bits <= 0 or left <= 0 or not self.rates:
            return None
        ttfb = progress.ttfb_s * MS
        level = max(0.0, buffer_s * MS + self.placeholder - ttfb)
        bits_per_ms = progress.downloaded_bits / (progress.time_s * MS - ttfb)
        rest = left - ttfb * bits_per_ms  # what is left once a new request's latency passes
        if rest <= 0:
            return None
        cur = progress.rung
        score = (self.max_level(cur) - level) / rest
        target = None
        for q in range(cur):
            other = progress.size_bits * self.rates[q] / self.rates[cur]
            other_score = (self.max_level(q) - level) / other
            if other < rest and other_score > score:
                score, target = other_score, q
        return target
