"""QoE: the models rules optimise and the figures a session reports.

QoE_lin (MPC, Pensieve): Σ q(R_n) − 4.3 · stall seconds − Σ |q(R_{n+1}) − q(R_n)|, q in Mbps; the
log model uses q(R) = ln(R / R_min) (BOLA, Sabre). Utility is counted per nominal segment
duration (a 1 s shot counts a third of a 3 s one; for constant segments this is the usual sum),
and the time to the first frame counts as stall time, as in Pensieve's simulator — but the report
gives each term on its own, startup included.

Sabre's score is Sabre's "time average score": (Σ utility − γp · rebuffer / segment time) divided
by the session's play time counted in segments (startup and rebuffering included), γp = 5.
The fraction of the optimum is placed between the worst and the best any player could do on the
same trace (both from the offline dynamic program), so it stays in [0, 1] when QoE is negative.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

SABRE_GAMMA_P = 5.0


@dataclass(frozen=True)
class QoEModel:
    kind: str = "lin"
    rebuffer_penalty: float = 4.3  # per second of stall (startup included)
    smooth_penalty: float = 1.0  # per unit of utility change at a switch

    def utility(self, kbps: float, lowest_kbps: float) -> float:
        if self.kind == "log":
            return math.log(kbps / lowest_kbps)
        return kbps / 1000.0

    def utilities(self, bitrates_kbps: Sequence[float]) -> list[float]:
        low = min(bitrates_kbps)
        return [self.utility(b, low) for b in bitrates_kbps]


QOE_LIN = QoEModel("lin", 4.3, 1.0)


def sabre_model(segment_s: float) -> QoEModel:
    """The log model with Sabre's rebuffer weight (γp = 5 per segment time of stall)."""
    return QoEModel("log", SABRE_GAMMA_P / segment_s, 1.0)


def qoe_model(kind: str, segment_s: float) -> QoEModel:
    """``lin`` (QoE_lin) or ``log`` (Sabre's weights for a title of ``segment_s`` segments)."""
    return sabre_model(segment_s) if kind == "log" else QOE_LIN


@dataclass
class QoETerms:
    utility: float
    rebuffer: float  # penalty for stalls after playback started
    startup: float  # penalty for the time to the first frame
    switching: float

    @property
    def total(self) -> float:
        return self.utility - self.rebuffer - self.startup - self.switching


def qoe_terms(
    kbps: Sequence[float],
    durations: Sequence[float],
    nominal_s: float,
    rebuffer_s: float,
    startup_s: float,
    model: QoEModel,
    lowest_kbps: float,
) -> QoETerms:
    q = [model.utility(b, lowest_kbps) for b in kbps]
    return QoETerms(
        utility=sum(u * d / nominal_s for u, d in zip(q, durations, strict=True)),
        rebuffer=model.rebuffer_penalty * rebuffer_s,
        startup=model.rebuffer_penalty * startup_s,
        switching=model.smooth_penalty * sum(abs(b - a) for a, b in zip(q, q[1:], strict=False)),
    )


def sabre_score(
    kbps: Sequence[float],
    durations: Sequence[float],
    lowest_kbps: float,
    rebuffer_s: float,
    play_s: float,
    nominal_s: float,
) -> float:
    """Sabre's time-average score (``nominal_s`` is Sabre's segment time)."""
    if play_s <= 0:
        return 0.0
    util = sum(d * math.log(b / lowest_kbps) for b, d in zip(kbps, durations, strict=True))
    return (util / nominal_s - SABRE_GAMMA_P * rebuffer_s / nominal_s) / (play_s / nominal_s)


def fraction_of_range(qoe: float, worst: float, best: float) -> float:
    """Where ``qoe`` sits between the worst and the best possible QoE, clipped to [0, 1]."""
    if best - worst <= 1e-9:
        return 1.0
    return min(1.0, max(0.0, (qoe - worst) / (best - worst)))


@dataclass
class SessionResult:
    title: str
    trace: str
    abr: str
    startup_s: float  # request of the manifest (or first segment) to the first frame
    rebuffer_count: int
    rebuffer_s: float  # stalls after playback started
    play_s: float  # the whole session: startup, stalls and playing
    avg_kbps: float  # bitrate averaged over media time
    played_kbps: float  # Sabre's "time average played bitrate" (over play time)
    rebuffer_ratio: float  # rebuffer_s / play_s, as Sabre reports it
    avg_vmaf: float | None
    switches: int
    switch_kbps: float  # mean |Δ bitrate| per switch
    qoe_model: str
    qoe: float
    qoe_terms: QoETerms
    sabre_score: float
    segments: list = field(default_factory=list)
    optimum_qoe: float | None = None
    worst_qoe: float | None = None
    fraction_of_optimum: float | None = None  # (qoe − worst) / (optimum − worst)
    notes: list[str] = field(default_factory=list)

    def to_dict(self, with_segments: bool = True) -> dict:
        d = asdict(self)
        d["qoe_terms"]["total"] = self.qoe_terms.total
        if not with_segments:
            d.pop("segments")
        return d

    def bound(self, optimum: float, worst: float) -> None:
        self.optimum_qoe, self.worst_qoe = optimum, worst
        self.fraction_of_optimum = fraction_of_range(self.qoe, worst, optimum)


def summarise(
    title, trace_name: str, abr_name: str, logs, startup: float, play, model: QoEModel, notes
) -> SessionResult:
    """The session's figures from its segment log and its playback clock."""
    kbps = [s.kbps for s in logs]
    dur = [title.segment_s[s.index] for s in logs]
    media = sum(dur) or 1.0
    play_s = play.t + play.level  # the buffer left at the end plays out
    switches = [abs(b - a) for a, b in zip(kbps, kbps[1:], strict=False) if b != a]
    vm = [(s.vmaf, d) for s, d in zip(logs, dur, strict=True) if s.vmaf is not None]
    low = title.bitrates_kbps[0]
    terms = qoe_terms(kbps, dur, title.nominal_s, play.rebuffer_s, startup, model, low)
    return SessionResult(
        title=title.name,
        trace=trace_name,
        abr=abr_name,
        startup_s=startup,
        rebuffer_count=len(play.stalls),
        rebuffer_s=play.rebuffer_s,
        play_s=play_s,
        avg_kbps=sum(k * d for k, d in zip(kbps, dur, strict=True)) / media,
        played_kbps=sum(k * d for k, d in zip(kbps, dur, strict=True)) / play_s if play_s else 0.0,
        rebuffer_ratio=play.rebuffer_s / play_s if play_s else 0.0,
        avg_vmaf=(sum(v * d for v, d in vm) / sum(d for _, d in vm)) if vm else None,
        switches=len(switches),
        switch_kbps=sum(switches) / len(switches) if switches else 0.0,
        qoe_model=model.kind,
        qoe=terms.total,
        qoe_terms=terms,
        sabre_score=sabre_score(kbps, dur, low, play.rebuffer_s, play_s, title.nominal_s),
        segments=list(logs),
        notes=notes,
    )
