"""ABR rules: throughput (dash.js style), BBA, BOLA-E and a hybrid that avoids flapping.

Every rule sees the same :class:`AbrContext` a real player has before requesting a segment
(declared bitrates, buffer level, past throughput and latency samples), and returns a rung and
an optional delay before the request, so the session model can replay any of them on any trace.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from .qoe import QOE_LIN, QoEModel


@dataclass
class AbrContext:
    index: int  # 0-based index of the segment about to be requested
    bitrates_kbps: Sequence[float]  # declared, ascending
    segment_s: Sequence[float]  # duration of every segment of the title
    buffer_s: float
    max_buffer_s: float
    last_rung: int | None
    throughput_kbps: Sequence[float] = field(default_factory=list)  # one sample per download
    download_s: Sequence[float] = field(default_factory=list)  # media seconds per sample
    latency_s: Sequence[float] = field(default_factory=list)
    playing: bool = False

    @property
    def n_segments(self) -> int:
        return len(self.segment_s)

    @property
    def next_s(self) -> float:
        return self.segment_s[self.index]


@dataclass
class Decision:
    rung: int
    delay_s: float = 0.0


class Abr:
    """Base class: pick a rung for the next segment."""

    name = "abr"

    def choose(self, ctx: AbrContext) -> Decision:  # pragma: no cover - interface
        raise NotImplementedError


class Ewma:
    """Two exponentially weighted averages with half-lives in media seconds; the lower one wins.

    This is dash.js's and Sabre's default estimator: quick to fall, slow to rise.
    """

    def __init__(self, fast_s: float = 3.0, slow_s: float = 8.0):
        self.half = (fast_s, slow_s)

    def estimate(self, samples: Sequence[float], weights: Sequence[float]) -> float | None:
        if not samples:
            return None
        out = []
        for half in self.half:
            est, total = 0.0, 0.0
            for x, w in zip(samples, weights, strict=False):
                a = 0.5 ** (w / half)
                est = a * est + (1 - a) * x
                total = a * total + (1 - a)
            out.append(est / total)
        return min(out)


def quality_for_throughput(ctx: AbrContext, kbps: float, latency_s: float) -> int:
    """Highest rung whose segment downloads within its own duration at ``kbps`` (Sabre's rule)."""
    seg = ctx.next_s
    q = 0
    while q + 1 < len(ctx.bitrates_kbps) and latency_s + seg * ctx.bitrates_kbps[q + 1] / kbps <= seg:
        q += 1
    return q


def _latency(ctx: AbrContext) -> float:
    recent = list(ctx.latency_s)[-5:]
    return sum(recent) / len(recent) if recent else 0.0


class ThroughputRule(Abr):
    """dash.js's throughput rule: the highest rung below 90% of the smoothed throughput."""

    name = "throughput"

    def __init__(self, safety: float = 0.9):
        self.safety = safety
        self.ewma = Ewma()

    def choose(self, ctx: AbrContext) -> Decision:
        est = self.ewma.estimate(ctx.throughput_kbps, ctx.download_s)
        if est is None:
            return Decision(0)
        return Decision(quality_for_throughput(ctx, est * self.safety, _latency(ctx)))


class BBA(Abr):
    """Buffer-based (Huang et al., BBA-0): a reservoir, a linear cushion, hysteresis on the map."""

    name = "bba"

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


class BolaE(Abr):
    """BOLA-E (Spiteri et al., MMSys'18): BOLA's Lyapunov buffer rule with a placeholder buffer
    at startup, throughput-limited up-switches (BOLA-O) and a low-buffer safety rule.
    """

    name = "bola-e"

    def __init__(
        self, gp: float = 5.0, ibr_safety: float = 0.9, low_buffer_safety: float = 0.5, target_s: float = 25.0
    ):
        self.gp = gp
        self.target_s = target_s
        self.ibr_safety = ibr_safety
        self.low_buffer_safety = low_buffer_safety
        self.ewma = Ewma()
        self.placeholder = 0.0
        self.started = False
        self.last_buffer: float | None = None

    def _utilities(self, rates: Sequence[float]) -> list[float]:
        return [math.log(r / rates[0]) for r in rates]

    def _vp(self, ctx: AbrContext, u: list[float]) -> float:
        # BOLA's buffer target: Sabre's default 25 s at most (with gp = 5 a 60 s target would keep
        # the lowest rung until half a minute is buffered), shrunk near the end of the title
        left = ctx.n_segments - ctx.index
        target = min(ctx.max_buffer_s, self.target_s, max(left / 2, 3) * ctx.next_s)
        return max(target - ctx.next_s, ctx.next_s) / (u[-1] + self.gp)

    def _from_buffer(self, level: float, rates: Sequence[float], u: list[float], vp: float) -> int:
        scores = [(vp * (u[q] + self.gp) - level) / rates[q] for q in range(len(rates))]
        return max(range(len(rates)), key=lambda q: scores[q])

    def _min_level(self, q: int, rates: Sequence[float], u: list[float], vp: float) -> float:
        if q == 0:
            return 0.0
        a, b = q - 1, q
        return vp * (self.gp + (rates[b] * u[a] - rates[a] * u[b]) / (rates[b] - rates[a]))

    def choose(self, ctx: AbrContext) -> Decision:
        rates = ctx.bitrates_kbps
        u = self._utilities(rates)
        vp = self._vp(ctx, u)
        est = self.ewma.estimate(ctx.throughput_kbps, ctx.download_s)
        lat = _latency(ctx)
        if est is None:
            return Decision(0)
        if not self.started:
            self.started = True
            q = quality_for_throughput(ctx, est * self.ibr_safety, lat)
            self.placeholder = max(0.0, self._min_level(q, rates, u, vp) - ctx.buffer_s)
            self.last_buffer = ctx.buffer_s
            return Decision(q)
        if self.last_buffer is not None and ctx.buffer_s < self.last_buffer - ctx.next_s * 1.5:
            self.placeholder = 0.0  # a stall or a sharp drain: trust the real buffer only
        level = ctx.buffer_s + self.placeholder
        q = self._from_buffer(level, rates, u, vp)
        last = ctx.last_rung or 0
        q_t = quality_for_throughput(ctx, est, lat)
        if q > last and q > q_t:  # BOLA-O: never step above what the throughput can sustain
            q = max(last, q_t)
        # low-buffer safety: the download must fit in part of what is buffered
        safe = 0
        for i in range(len(rates)):
            if lat + ctx.next_s * rates[i] / est <= max(ctx.buffer_s * self.low_buffer_safety, ctx.next_s):
                safe = i
        if ctx.playing and q > safe and ctx.buffer_s < min(ctx.max_buffer_s, self.target_s) * 0.5:
            q = max(safe, min(q, last))
        delay = 0.0
        max_level = vp * (u[q] + self.gp)
        if level > max_level:
            excess = level - max_level
            take = min(self.placeholder, excess)
            self.placeholder -= take
            delay = excess - take
        self.last_buffer = ctx.buffer_s
        return Decision(q, max(0.0, delay))


def harmonic_mean(xs: Sequence[float]) -> float:
    return len(xs) / sum(1.0 / max(x, 1e-6) for x in xs)


class Hybrid(Abr):
    """Model-predictive with a robust throughput bound, a one-switch horizon and a hold rule.

    Looks ``horizon`` segments ahead and scores plans with the session's own QoE model, but only
    plans that change rung at most once, and after a switch it holds for ``hold`` segments before
    going back up: the player prefers holding a rung briefly to flapping. Throughput is the
    harmonic mean of recent samples discounted by the worst recent prediction error (RobustMPC);
    the discount fades as the buffer fills (``relax``), since a full buffer absorbs a misprediction.
    On a link that has shown an outage, the buffer and throughput rules (BOLA-E, dash.js's rule)
    cap the plan (``guard``) while less than ``guard_buffer_s`` is buffered: outages are what a
    throughput forecast cannot see coming.
    """

    name = "hybrid"

    def __init__(
        self,
        qoe: QoEModel = QOE_LIN,
        horizon: int = 5,
        window: int = 5,
        relax: float = 1.0,
        hold: int = 2,
        guard: bool = True,
        guard_buffer_s: float = 30.0,
    ):
        self.guard_buffer_s = guard_buffer_s
        self.guard = guard
        self.seen_outage = False
        self._bola = BolaE()
        self._tput = ThroughputRule()
        self.qoe = qoe
        self.horizon = horizon
        self.window = window
        self.relax = relax
        self.hold = hold
        self.last_switch = -(10**9)
        self.predictions: list[float] = []
        self.errors: list[float] = []

    def _estimate(self, ctx: AbrContext) -> float | None:
        samples = list(ctx.throughput_kbps)
        if not samples:
            return None
        if self.predictions and len(samples) > len(self.errors):
            actual = samples[-1]
            self.errors.append(abs(self.predictions[-1] - actual) / max(actual, 1e-6))
        hm = harmonic_mean(samples[-self.window :])
        err = max(self.errors[-self.window :], default=0.0)
        if self.relax:
            err *= max(0.0, 1.0 - ctx.buffer_s / (self.relax * ctx.max_buffer_s))
        self.predictions.append(hm)
        return hm / (1.0 + err)

    def choose(self, ctx: AbrContext) -> Decision:
        rates = list(ctx.bitrates_kbps)
        est = self._estimate(ctx)
        if est is None:
            return Decision(0)
        lat = _latency(ctx)
        u = self.qoe.utilities(rates)
        last = ctx.last_rung if ctx.last_rung is not None else 0
        n = min(self.horizon, ctx.n_segments - ctx.index)
        durs = [ctx.segment_s[ctx.index + k] for k in range(n)]
        best, best_score = last, -math.inf
        for first in range(len(rates)):
            for switch_at in range(1, n + 1):
                for second in (first,) if switch_at == n else range(len(rates)):
                    if switch_at < n and second == first:
                        continue
                    plan = [first] * switch_at + [second] * (n - switch_at)
                    score = self._score(plan, durs, rates, u, last, ctx, est, lat)
                    if score > best_score + 1e-9:
                        best, best_score = first, score
        if self.guard:
            # the plan trusts its throughput model; once the link has dropped below the lowest rung
            # (an outage-prone mobile link), never go above what BOLA-E or the throughput rule picks,
            # unless the buffer alone can ride out an outage (guard_buffer_s)
            b, t = self._bola.choose(ctx).rung, self._tput.choose(ctx).rung
            if ctx.throughput_kbps and ctx.throughput_kbps[-1] < ctx.bitrates_kbps[0]:
                self.seen_outage = True
            if self.seen_outage and ctx.buffer_s < self.guard_buffer_s:
                best = min(best, max(b, t))
        if ctx.last_rung is not None and best > last and ctx.index - self.last_switch < self.hold:
            best = last  # hold a rung for a few segments before going back up
        if ctx.last_rung is not None and best != last:
            self.last_switch = ctx.index
        return Decision(best)

    def _score(self, plan, durs, rates, u, last, ctx, est, lat) -> float:
        buf = ctx.buffer_s
        prev = last
        score = 0.0
        for q, d in zip(plan, durs, strict=False):
            dt = lat + d * rates[q] / est
            stall = max(0.0, dt - buf) if (ctx.playing or ctx.index > 0) else dt
            buf = min(max(buf - dt, 0.0) + d, ctx.max_buffer_s)
            score += u[q] - self.qoe.rebuffer_penalty * stall
            score -= self.qoe.smooth_penalty * abs(u[q] - u[prev])
            prev = q
        return score


class Fixed(Abr):
    """Always the same rung (used to play every rendition end to end)."""

    name = "fixed"

    def __init__(self, rung: int):
        self.rung = rung

    def choose(self, ctx: AbrContext) -> Decision:
        return Decision(min(self.rung, len(ctx.bitrates_kbps) - 1))


ALGORITHMS = {"throughput": ThroughputRule, "bba": BBA, "bola-e": BolaE, "hybrid": Hybrid}


def make(name: str, qoe: QoEModel = QOE_LIN) -> Abr:
    """An ABR rule by name; the hybrid optimises the given QoE model."""
    if name == "bola":
        name = "bola-e"
    if name not in ALGORITHMS:
        from ...errors import ShotencError

        raise ShotencError(f"unknown ABR {name!r}; choose from {', '.join(ALGORITHMS)}")
    return Hybrid(qoe) if name == "hybrid" else ALGORITHMS[name]()
