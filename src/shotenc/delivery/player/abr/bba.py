"""BBA-0 (Huang et al., SIGCOMM'14): a pure buffer rule with a reservoir, a linear cushion and
hysteresis on the rate map. Sabre has no BBA (a stub), so there is no reference figure for it."""

from __future__ import annotations

from .base import Abr, AbrContext, Decision, register


@register
class BBA(Abr):
    name = "bba"
    summary = "BBA-0 buffer map (reservoir, cushion, hysteresis)"

    def choose(self, ctx: AbrContext) -> Decision:
        rates = list(ctx.bitrates_kbps)
        reservoir = max(2 * ctx.next_s, 0.2 * ctx.max_buffer_s)
        cushion = max(ctx.next_s, 0.7 * ctx.max_buffer_s - reservoir)
        prev = ctx.last_rung if ctx.last_rung is not None else 0
        b = ctx.buffer_s
        if b <= reservoir:
            return Decision(0)
        if b >= reservoir + cushion:
            return Decision(len(rates) - 1)
        f = rates[0] + (rates[-1] - rates[0]) * (b - reservoir) / cushion
        up = rates[min(prev + 1, len(rates) - 1)]
        down = rates[max(prev - 1, 0)]
        if f >= up:
            return Decision(max(i for i, r in enumerate(rates) if r < f or i == 0))
        if f <= down:
            return Decision(min(i for i, r in enumerate(rates) if r > f or i == len(rates) - 1))
        return Decision(prev)
