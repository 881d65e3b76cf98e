"""Rate-quality convex hulls and the equal-slope (Lagrangian) choice of one point per shot.

Plain data in, plain data out: every function here is pure, so the optimizer's decisions can be
tested on hand-made point sets with known answers.

Why a hull: any point under the upper convex hull of a shot's (rate, quality) cloud is beaten by a
mix of two hull points, so only hull points are worth encoding. Why equal slope: choosing, for a
multiplier ``lam``, the point maximising ``quality - lam * rate`` in every shot gives the allocation
with the highest total quality for its total rate; sweeping ``lam`` meets the rung's budget.
Why a floor: maximising mean quality alone will starve a hard shot (its points are expensive), so
every shot is kept at or above a quality floor whenever its hull can reach it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RDPoint:
    """One encode of one shot: its rate (kbps), quality (e.g. VMAF) and how it was made."""

    kbps: float
    quality: float
    crf: float = 0.0
    width: int = 0
    height: int = 0
    extra: dict = field(default_factory=dict, hash=False, compare=False)


def _cross(o: RDPoint, a: RDPoint, b: RDPoint) -> float:
    return (a.kbps - o.kbps) * (b.quality - o.quality) - (a.quality - o.quality) * (b.kbps - o.kbps)


def upper_hull(points: Sequence[RDPoint]) -> list[RDPoint]:
    """The Pareto-efficient upper convex hull, by increasing rate (and strictly increasing quality).

    Points that cost more for no more quality are dropped, then points under the chord of their
    neighbours (Andrew's monotone chain, upper half).
    """
    pts = sorted(points, key=lambda p: (p.kbps, -p.quality))
    front: list[RDPoint] = []
    for p in pts:  # Pareto front: each kept point has strictly more quality than every cheaper one
        if not front or p.quality > front[-1].quality:
            if front and p.kbps == front[-1].kbps:
                front[-1] = p
            else:
                front.append(p)
    hull: list[RDPoint] = []
    for p in front:
        while len(hull) >= 2 and _cross(hull[-2], hull[-1], p) >= 0:
            hull.pop()
        hull.append(p)
    return hull


def pareto_front(points: Sequence[RDPoint]) -> list[RDPoint]:
    """Points not beaten on both rate and quality, by increasing rate (for BD-rate curves)."""
    out: list[RDPoint] = []
    for p in sorted(points, key=lambda p: (p.kbps, -p.quality)):
        if not out or p.quality > out[-1].quality:
            out.append(p)
    return out


def best_for_slope(hull: Sequence[RDPoint], lam: float, floor: float | None = None) -> int:
    """Index of the hull point maximising ``quality - lam * kbps`` among those at or above ``floor``.

    When no point reaches the floor the best-quality point is taken (the floor cannot be met).
    """
    allowed = range(len(hull))
    if floor is not None:
        ok = [i for i in allowed if hull[i].quality >= floor]
        allowed = ok or [len(hull) - 1]
    return max(allowed, key=lambda i: (hull[i].quality - lam * hull[i].kbps, -hull[i].kbps))


@dataclass
class Allocation:
    """One hull point per shot, and what the choice achieved."""

    choice: list[int]
    points: list[RDPoint]
    kbps: float  # duration-weighted mean rate
    quality: float  # duration-weighted mean quality
    worst: float  # lowest per-shot quality
    lam: float
    floor: float | None
    feasible: bool  # False when the floor alone costs more than the budget (or the target is out of reach)


def _mean(values: Sequence[float], weights: Sequence[float]) -> float:
    total = sum(weights) or 1.0
    return sum(v * w for v, w in zip(values, weights, strict=True)) / total


def _evaluate(hulls, weights, choice, lam, floor, feasible) -> Allocation:
    pts = [h[i] for h, i in zip(hulls, choice, strict=True)]
    return Allocation(
        choice=list(choice),
        points=pts,
        kbps=_mean([p.kbps for p in pts], weights),
        quality=_mean([p.quality for p in pts], weights),
        worst=min(p.quality for p in pts),
        lam=lam,
        floor=floor,
        feasible=feasible,
    )


def _floor_choice(hulls, floor):
    """The cheapest point of every shot that meets the floor (or its best point)."""
    out = []
    for h in hulls:
        idx = [i for i, p in enumerate(h) if floor is None or p.quality >= floor]
        out.append(idx[0] if idx else len(h) - 1)
    return out


def equal_slope(
    hulls: Sequence[Sequence[RDPoint]],
    weights: Sequence[float],
    budget_kbps: float,
    floor: float | None = None,
) -> Allocation:
    """Best weighted-mean quality with weighted-mean rate <= ``budget_kbps``; one multiplier for all shots.

    ``weights`` are shot durations (a shot's bits are its rate times its duration). The multiplier is
    found by bisection; the budget left over by the discrete choice is then spent greedily on the
    upgrade with the best quality per kbps (the next hull point of some shot), which keeps slopes equal.
    """
    hulls = [upper_hull(h) for h in hulls]
    if any(not h for h in hulls):
        raise ValueError("every shot needs at least one point")
    base = _floor_choice(hulls, floor)
    base_alloc = _evaluate(hulls, weights, base, float("inf"), floor, True)
    if base_alloc.kbps > budget_kbps + 1e-9:
        # the floor alone is over budget: keep the cheapest floor-meeting points
        return _evaluate(hulls, weights, base, float("inf"), floor, False)

    def pick(lam: float) -> list[int]:
        return [best_for_slope(h, lam, floor) for h in hulls]

    lo, hi = 0.0, 1.0  # lam=0 buys the best quality; large lam the cheapest allowed point
    while _evaluate(hulls, weights, pick(hi), hi, floor, True).kbps > budget_kbps and hi < 1e9:
        hi *= 4.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if _evaluate(hulls, weights, pick(mid), mid, floor, True).kbps > budget_kbps:
            lo = mid
        else:
            hi = mid
    choice = pick(hi)
    total_w = sum(weights) or 1.0
    spent = sum(h[i].kbps * w for h, i, w in zip(hulls, choice, weights, strict=True)) / total_w
    while True:  # spend what the discrete choice left, best slope first
        best, best_gain = None, 0.0
        for s, (h, i, w) in enumerate(zip(hulls, choice, weights, strict=True)):
            if i + 1 >= len(h):
                continue
            dr = (h[i + 1].kbps - h[i].kbps) * w / total_w
            dq = (h[i + 1].quality - h[i].quality) * w / total_w
            if spent + dr <= budget_kbps + 1e-9 and dr > 0 and dq / dr > best_gain:
                best, best_gain = s, dq / dr
        if best is None:
            break
        h, i, w = hulls[best], choice[best], weights[best]
        spent += (h[i + 1].kbps - h[i].kbps) * w / total_w
        choice[best] = i + 1
    return _evaluate(hulls, weights, choice, hi, floor, True)


def equal_slope_for_quality(
    hulls: Sequence[Sequence[RDPoint]],
    weights: Sequence[float],
    target_quality: float,
    floor: float | None = None,
) -> Allocation:
    """Lowest weighted-mean rate whose weighted-mean quality reaches ``target_quality`` (equal slope).

    The dual of :func:`equal_slope`: bisect on the rate budget, whose best quality rises with it.
    """
    hulls = [upper_hull(h) for h in hulls]
    top = equal_slope(hulls, weights, max(p.kbps for h in hulls for p in h) + 1.0, floor)
    if top.quality < target_quality:
        top.feasible = False
        return top
    lo = min(min(p.kbps for p in h) for h in hulls) * 0.5
    hi = top.kbps
    best = top
    for _ in range(50):
        mid = (lo + hi) / 2
        alloc = equal_slope(hulls, weights, mid, floor)
        if alloc.feasible and alloc.quality >= target_quality:
            best, hi = alloc, mid
        else:
            lo = mid
    return best
