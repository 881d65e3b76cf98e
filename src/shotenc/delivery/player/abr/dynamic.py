"""DYNAMIC (Spiteri, Sitaraman, Sparacio, MMSys'18; dash.js's default) as Sabre runs it.

BOLA and the throughput rule are both consulted every segment; BOLA is followed once the buffer
is above 10 s and BOLA asks for at least the throughput rule's rung, and the throughput rule
again when the buffer falls below 10 s and BOLA asks for less. Abandonment is the throughput
rule's.
"""

from __future__ import annotations

from .base import Abr, AbrContext, Decision, Progress, register
from .bola import Bola
from .throughput import ThroughputRule

SWITCH_BUFFER_S = 10.0


@register
class Dynamic(Abr):
    name = "dynamic"
    summary = "DYNAMIC as in Sabre (BOLA above 10 s of buffer, the throughput rule below)"

    def __init__(self) -> None:
        self.bola = Bola()
        self.tput = ThroughputRule()
        self.use_bola = False

    def choose(self, ctx: AbrContext) -> Decision:
        b, t = self.bola.choose(ctx), self.tput.choose(ctx)
        level = ctx.buffer_s
        if self.use_bola and level < SWITCH_BUFFER_S and b.rung < t.rung:
            self.use_bola = False
        elif not self.use_bola and level > SWITCH_BUFFER_S and b.rung >= t.rung:
            self.use_bola = True
        return b if self.use_bola else t

    def check_abandon(self, ctx: AbrContext, progress: Progress, buffer_s: float) -> int | None:
        return self.tput.check_abandon(ctx, progress, buffer_s)
