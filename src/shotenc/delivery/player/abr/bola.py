"""BOLA (Spiteri, Urgaonkar, Sitaraman, INFOCOM'16) as Sabre runs it (``-a bola``).

Utilities ln(R/R_min), γp = 5, and the buffer target shrinks near the start and the end of the
title (at most the buffer size, at least three segments): Vp = (target − segment) / (u_max + γp).
The rung maximises (Vp·(u + γp) − buffer) / R. An up-switch beyond what the throughput sustains
goes one rung above that instead (BOLA-U); BOLA abandons a download when a lower rung's score per
bit now beats the rest of the current one.
"""

from __future__ import annotations

import math

from .base import Abr, AbrContext, Decision, Progress, quality_for_throughput, register

GAMMA_P = 5.0


MS = 1000.0  # BOLA's levels are kept in milliseconds, as in Sabre: BOLA-E's placeholder lands
# exactly on a switching threshold, and the tie there must break the same way


def log_utilities(rates, offset: float) -> list[float]:
    """ln(R) shifted so the lowest rung has utility ``offset`` (0 for BOLA, 1 for BOLA-E)."""
    shift = offset - math.log(rates[0])
    return [math.log(r) + shift for r in rates]


def bola_rung(level_ms: float, vp_ms: float, gp: float, utilities: list[float], rates) -> int:
    """BOLA's choice at buffer ``level_ms``: the first rung with the best score."""
    best, best_score = 0, None
    for q, (u, r) in enumerate(zip(utilities, rates, strict=True)):
        s = (vp_ms * (u + gp) - level_ms) / r
        if best_score is None or s > best_score:
            best, best_score = q, s
    return best


@register
class Bola(Abr):
    name = "bola"
    summary = "BOLA as in Sabre (γp 5, buffer target shrinking at the start and end, BOLA-U)"

    def __init__(self, buffer_s: float | None = None, gp: float = GAMMA_P):
        self.buffer_s = buffer_s
        self.gp = gp
        self.vp = 0.0  # ms
        self.last_rung = 0
        self.utilities: list[float] = []

    def _update_vp(self, ctx: AbrContext) -> None:
        self.utilities = log_utilities(ctx.bitrates_kbps, 0.0)
        cap = (self.buffer_s if self.buffer_s is not None else ctx.max_buffer_s) * MS
        seg = ctx.nominal_s * MS
        near = max(min(ctx.index, ctx.n_segments - ctx.index) / 2, 3) * seg
        self.vp = (min(cap, near) - seg) / (self.utilities[-1] + self.gp)

    def choose(self, ctx: AbrContext) -> Decision:
        self._update_vp(ctx)
        q = bola_rung(ctx.buffer_s * MS, self.vp, self.gp, self.utilities, ctx.bitrates_kbps)
        if q > self.last_rung:
            q_t = quality_for_throughput(ctx, ctx.throughput_kbps)
            if q > q_t:
                q = self.last_rung if self.last_rung > q_t else q_t + 1
        self.last_rung = q
        return Decision(q)

    def check_abandon(self, ctx: AbrContext, progress: Progress, buffer_s: float) -> int | None:
        left = progress.size_bits - progress.downloaded_bits
        if progress.downloaded_bits <= 0 or left <= 0:
            return None
        u, rates, cur, level = self.utilities, ctx.bitrates_kbps, progress.rung, buffer_s * MS
        score = (self.vp * (self.gp + u[cur]) - level) / left
        if score < 0:
            return None
        target = None
        for q in range(cur):
            other = progress.size_bits * rates[q] / rates[cur]
            other_score = (self.vp * (self.gp + u[q]) - level) / other
            if other < left and other_score > score:
                score, target = other_score, q
        if target is not None:
            self.last_rung = target
        return target
