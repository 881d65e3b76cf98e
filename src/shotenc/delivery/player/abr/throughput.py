"""Throughput rule, as dash.js and Sabre run it.

The highest rung that downloads within one segment time at 90% of the EWMA throughput, lowered by
the insufficient-buffer rule (the next segment must fit in what the buffer can cover at the
estimated throughput, with a safety factor that starts at 0.9 and decays per segment to 0.5).
A download is abandoned when, after 0.5 s, it projects past 1.8 segment times and a rung that
fits the throughput seen so far is smaller than what is left.
"""

from __future__ import annotations

from .base import Abr, AbrContext, Decision, Progress, quality_for_throughput, register

SAFETY = 0.9
IBR_SAFETY_START, IBR_SAFETY_DECAY, IBR_SAFETY_MIN = 0.9, 0.9, 0.5
ABANDON_MULTIPLIER, ABANDON_GRACE_S = 1.8, 0.5


def insufficient_buffer_cap(ctx: AbrContext, q: int, safety: float) -> int:
    """The highest rung ≤ ``q`` whose next segment fits in what the buffer covers at the estimate."""
    safe_kbit = safety * (ctx.buffer_s - (ctx.latency_s or 0.0)) * ctx.throughput_kbps
    for lower in range(q):
        if ctx.bitrates_kbps[lower + 1] * ctx.nominal_s > safe_kbit:
            return lower
    return q


@register
class ThroughputRule(Abr):
    name = "throughput"
    summary = "dash.js/Sabre throughput rule (90% of the EWMA, insufficient-buffer rule, abandonment)"

    def __init__(self) -> None:
        self.ibr_safety = IBR_SAFETY_START

    def choose(self, ctx: AbrContext) -> Decision:
        q = quality_for_throughput(ctx, ctx.throughput_kbps * SAFETY)
        q = insufficient_buffer_cap(ctx, q, self.ibr_safety)
        self.ibr_safety = max(self.ibr_safety * IBR_SAFETY_DECAY, IBR_SAFETY_MIN)
        return Decision(q)

    def check_abandon(self, ctx: AbrContext, progress: Progress, buffer_s: float) -> int | None:
        transfer_s = progress.time_s - progress.ttfb_s
        if progress.time_s < ABANDON_GRACE_S - 1e-9 or transfer_s <= 0:  # checks land on 50 ms steps
            return None
        kbps = progress.downloaded_bits / 1000.0 / transfer_s
        left_bits = progress.size_bits - progress.downloaded_bits
        if progress.time_s + left_bits / 1000.0 / kbps <= ABANDON_MULTIPLIER * ctx.nominal_s:
            return None
        q = quality_for_throughput(ctx, kbps * SAFETY)
        rates = ctx.bitrates_kbps
        if q >= progress.rung or progress.size_bits * rates[q] / rates[progress.rung] >= left_bits:
            return None
        return q
