"""QoE models: QoE_lin of the MPC and Pensieve papers, and Sabre's log score.

One dataclass so ABR rules that optimise a QoE (the hybrid, the offline optimum) use exactly
the formula the session is scored with.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class QoEModel:
    """Σ q(R_n) − rebuffer_penalty · Σ stall_s − smooth_penalty · Σ |q(R_{n+1}) − q(R_n)|.

    ``kind`` "lin": q(R) = R in Mbps (MPC/Pensieve QoE_lin, penalty 4.3).
    ``kind`` "log": q(R) = ln(R / R_min), as in Sabre and BOLA.
    """

    kind: str = "lin"
    rebuffer_penalty: float = 4.3
    smooth_penalty: float = 1.0

    def utility(self, kbps: float, lowest_kbps: float) -> float:
        if self.kind == "log":
            return math.log(kbps / lowest_kbps)
        return kbps / 1000.0

    def utilities(self, bitrates_kbps: Sequence[float]) -> list[float]:
        low = min(bitrates_kbps)
        return [self.utility(b, low) for b in bitrates_kbps]


QOE_LIN = QoEModel("lin", 4.3, 1.0)


def qoe_lin(
    bitrates_kbps: Sequence[float],
    stall_s: float,
    model: QoEModel = QOE_LIN,
    lowest_kbps: float | None = None,
) -> float:
    """QoE of a played sequence of segment bitrates with ``stall_s`` seconds of rebuffering.

    Startup delay is counted as stall time by the callers (the player cannot show a frame
    while the first segment loads), so a session that starts on a huge segment pays for it.
    """
    if not bitrates_kbps:
        return 0.0
    low = lowest_kbps or min(bitrates_kbps)
    q = [model.utility(b, low) for b in bitrates_kbps]
    smooth = sum(abs(b - a) for a, b in zip(q, q[1:], strict=False))
    return sum(q) - model.rebuffer_penalty * stall_s - model.smooth_penalty * smooth


def sabre_score(played_kbps: Sequence[float], lowest_kbps: float, rebuffer_s: float, segment_s: float) -> float:
    """Sabre's score: per-segment mean of ln(bitrate/lowest) − 5 × rebuffer time in segments."""
    n = len(played_kbps)
    if n == 0:
        return 0.0
    util = sum(math.log(b / lowest_kbps) for b in played_kbps)
    return (util - 5.0 * rebuffer_s / segment_s) / n
