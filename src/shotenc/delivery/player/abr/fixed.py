"""A pinned rung (to play every rendition end to end)."""

from __future__ import annotations

from .base import Abr, AbrContext, Decision


class Fixed(Abr):
    name = "fixed"

    def __init__(self, rung: int):
        self.rung = rung

    def first_rung(self, ctx: AbrContext) -> int:
        return min(self.rung, len(ctx.bitrates_kbps) - 1)

    def choose(self, ctx: AbrContext) -> Decision:
        return Decision(self.first_rung(ctx))
