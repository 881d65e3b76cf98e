"""A rung's CRF for every shot, chosen on predicted curves with the VBV buffer run in shot order.

:func:`equal_slope_crfs` is the Dynamic Optimizer's choice (one multiplier per rung, the worst shot
guarded); :func:`rung_crfs` one CRF for the rung, where shots have no scores. Both hold the buffer as a
2-pass encode does (:func:`fit_buffer`).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from .. import codecs
from ..encode.vbv import VBV_INIT
from ..ladder import Rung
from .shot_curves import QualityModel, RateModel

CAP_SHARE = 0.95  # a capped shot averages a little under the cap
VBV_RESERVE = 0.25  # of the buffer kept for a shot's opening keyframe and the probes' error
# no shot's predicted VMAF more than this under its rung's mean (with the one-CRF guard below; at 6, fast_motion's
# H.264 gave -4.8% against -9.5% at 10, its HEVC +0.7% against +0.5%, the worst shots over 2-pass's at both)
FLOOR_GAP = 10.0
WORTH_SPENDING = 0.5  # VMAF that doubling a rung's rate must buy for the plan to spend up to its target


def rate_table(models: Sequence[RateModel], rung: Rung) -> tuple[np.ndarray, np.ndarray]:
    """The CRFs a plan chooses from (the codec's best CRF up, in its steps) and every shot's predicted
    rate at each at the rung's size: shots by rows."""
    codec = codecs.get(rung.codec)
    grid = np.arange(codec.best_crf, codec.crf_range[1] + codec.crf_step / 2, codec.crf_step)
    pixels = rung.width * rung.height
    return grid, np.array([m.rates(pixels, grid) for m in models]).reshape(len(models), len(grid))


def rung_crfs(models: Sequence[RateModel], durations: Sequence[float], rung: Rung) -> list[float]:
    """Per shot, the rung's CRF: the one whose predicted rate spends the target with the VBV buffer never
    drained (see :func:`fit_buffer`), dithered between two neighbouring CRF steps so the average lands
    between them."""
    codec = codecs.get(rung.codec)
    grid, table = rate_table(models, rung)
    d = np.asarray(durations, dtype=float)
    total = float(d.sum()) or 1.0

    def mean_kbps(steps: Sequence[int]) -> tuple[float, list[int]]:
        fitted = fit_buffer(table, d, list(steps), rung.maxrate_kbps, rung.bufsize_kbps)
        return float(table[np.arange(len(models)), fitted] @ d) / total, fitted

    # one grid step for every shot: rate falls as the step rises, so bisect for the first within budget
    lo, hi = 0, len(grid) - 1  # (CRF 0 is lossless, which x264's High profile refuses: best_crf is the floor)
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (mid + 1, hi) if mean_kbps([mid] * len(models))[0] > rung.bitrate_kbps else (lo, mid)
    spent, steps = mean_kbps([lo] * len(models))
    if lo == 0:
        return [float(codec.crf(grid[k])) for k in steps]
    # where the buffer holds every shot even at the finer step, the dithering needs no bucket (fast)
    free = fit_buffer(table, d, [lo - 1] * len(models), rung.maxrate_kbps, rung.bufsize_kbps) == [lo - 1] * len(models)
    # the longest shots first, each moved to the finer step while the rung stays within its budget
    for i in sorted(range(len(models)), key=lambda i: -durations[i]):
        if steps[i] != lo:
            continue  # held back by the buffer
        if free:
            trial, fitted = (
                spent + (table[i, lo - 1] - table[i, lo]) * d[i] / total,
                [*steps[:i], lo - 1, *steps[i + 1 :]],
            )
        else:
            trial, fitted = mean_kbps([*steps[:i], lo - 1, *steps[i + 1 :]])
        if trial <= rung.bitrate_kbps:
            spent, steps = trial, fitted
    return [float(codec.crf(grid[k])) for k in steps]


def fit_buffer(table: np.ndarray, durations: np.ndarray, steps: list[int], maxrate: float, bufsize: float) -> list[int]:
    """``steps`` (indices into a shot's row of predicted rates, kbit/s), each raised where the shot would
    drain the rung's VBV buffer: the leaky bucket of a 2-pass encode, in shot order. A shot may spend what
    arrives at ``maxrate`` while it plays plus what the buffer holds above a reserve, so a hard shot after
    easy ones gets the burst a 2-pass encode would give it, and a run of hard shots is held to the cap."""
    if not maxrate:
        return steps
    level = VBV_INIT * bufsize
    out = []
    for row, d, k in zip(table, durations, steps, strict=True):
        allowed = _allowance(level, d, maxrate, bufsize)
        while k < len(row) - 1 and row[k] * d > allowed:
            k += 1
        level = min(bufsize, level + maxrate * d - row[k] * d)
        out.append(k)
    return out


def _allowance(level: float, seconds: float, maxrate: float, bufsize: float) -> float:
    """kbit a shot of ``seconds`` may spend with the buffer at ``level``: what arrives while it plays and
    what the buffer holds above its reserve."""
    return level + CAP_SHARE * maxrate * seconds - VBV_RESERVE * bufsize


def first_drain(
    table: np.ndarray,
    durations: np.ndarray,
    steps: np.ndarray,
    maxrate: float,
    bufsize: float,
    level: float | None = None,
) -> tuple[int | None, int, float]:
    """The first shot that would drain the buffer of :func:`fit_buffer` (None: none would), the first shot
    after the buffer was last full before it (the run of shots that share the blame) and the buffer's
    level there; ``level``: how full the buffer is before the first shot (default: as encoders start)."""
    level = VBV_INIT * bufsize if level is None else level
    start, start_level = 0, level
    for i, (row, d, k) in enumerate(zip(table, durations, steps, strict=True)):
        if row[k] * d > _allowance(level, d, maxrate, bufsize):
            return i, start, start_level
        level = level + maxrate * d - row[k] * d
        if level >= bufsize:
            level, start, start_level = bufsize, i + 1, bufsize
    return None, start, start_level


def buffer_room(
    table: np.ndarray, durations: np.ndarray, steps: np.ndarray, maxrate: float, bufsize: float, level: float
) -> np.ndarray:
    """kbit each shot could spend on top of its step without any shot draining the buffer of
    :func:`fit_buffer`: its own allowance's margin, or a later shot's plus what overflows the full buffer
    in between (a shot's extra bits lower the buffer only until it would have overflowed)."""
    n = len(steps)
    margin, overflow = np.empty(n), np.empty(n)
    for i, (row, d, k) in enumerate(zip(table, durations, steps, strict=True)):
        margin[i] = _allowance(level, d, maxrate, bufsize) - row[k] * d
        level += maxrate * d - row[k] * d
        overflow[i] = max(0.0, level - bufsize)
        level = min(level, bufsize)
    room = np.empty(n)
    after = math.inf
    for i in range(n - 1, -1, -1):
        room[i] = after = min(margin[i], overflow[i] + after)
    return room


def equal_slope_crfs(
    models: Sequence[RateModel], qualities: Sequence[QualityModel], durations: Sequence[float], rung: Rung
) -> list[float]:
    """Per shot, the CRF of the Dynamic Optimizer's equal-slope choice on predicted (rate, VMAF): one
    multiplier for the rung, each shot the CRF maximising ``VMAF - lambda * kbps``, the multiplier the one
    that spends the target, shots that would drain the VBV buffer held back (see :func:`fit_buffer`).
    One CRF is one trade-off for the encoder, not for VMAF: flat animation and fast motion score far
    below film at the same CRF, static shots far above -- this gives the bits where VMAF gains most."""
    codec = codecs.get(rung.codec)
    grid, rates = rate_table(models, rung)
    vmafs = np.array([q.vmafs(rung.width * rung.height, grid) for q in qualities]).reshape(rates.shape)
    d = np.asarray(durations, dtype=float)
    total = float(d.sum()) or 1.0
    rows = np.arange(len(models))

    allowed = np.ones_like(vmafs, dtype=bool)  # the steps each shot may take (the floor narrows them)

    def choose(lam: float, which: np.ndarray, floor: bool = True) -> np.ndarray:
        # ties go to the higher CRF (argmax on the reversed grid): VMAF held at its ceiling costs nothing
        score = vmafs[which] - lam * rates[which]
        if floor:
            score = np.where(allowed[which], score, -np.inf)
        return len(grid) - 1 - np.argmax(score[:, ::-1], axis=1)

    def hold_buffer(steps: np.ndarray, lam: float) -> np.ndarray:
        """Where a run of shots would drain the buffer, a steeper slope for that run alone: the bits the
        buffer does not hold are taken where they cost the least VMAF, not from whichever shot comes last."""
        cap = (rung.maxrate_kbps, rung.bufsize_kbps)
        offset, level = 0, None  # where the bucket is resumed (the shots before it hold)
        for _ in range(len(steps)):
            bad, start, level = first_drain(rates[offset:], d[offset:], steps[offset:], *cap, level)
            if bad is None:
                break
            run = np.arange(offset + start, offset + bad + 1)
            lo, hi = 0.0, math.log(1e6)
            for _ in range(12):
                mid = (lo + hi) / 2
                trial = choose(lam * math.exp(mid), run, floor=False)  # the buffer before the floor
                lo, hi = (mid, hi) if first_drain(rates[run], d[run], trial, *cap, level)[0] is not None else (lo, mid)
            held = choose(lam * math.exp(hi), run, floor=False)
            if np.array_equal(held, steps[run]):
                break  # held as far as CRFs go: fit_buffer takes the rest
            steps[run] = top_up(held, steps[run], run, level)
            offset += start
        return steps

    def top_up(held: np.ndarray, wanted: np.ndarray, run: np.ndarray, level: float) -> np.ndarray:
        """One slope for the run treats its shots as sharing one pool of bits, but a shot under the cap
        refills the buffer, and what overflows a full buffer is lost, not kept for the next shot (flat_anim:
        a shot at 593 kbit/s beside a capped one, in a 750 kbit/s rung that spent 532). Give it back a step
        at a time, where the next step buys the most VMAF per kbit, toward the shot's own choice, while
        nothing drains (a step that does not fit never will: the buffer only empties)."""
        held = held.copy()
        table, dur = rates[run], d[run]
        cap = (rung.maxrate_kbps, rung.bufsize_kbps)

        def gain(j: int) -> float:
            k = held[j]
            return (vmafs[run[j], k - 1] - vmafs[run[j], k]) / max((table[j, k - 1] - table[j, k]) * dur[j], 1e-9)

        heap = [(-gain(j), j) for j in np.flatnonzero(held > wanted)]
        heapq.heapify(heap)
        room = buffer_room(table, dur, held, *cap, level)
        while heap:
            g, j = heapq.heappop(heap)
            if g >= 0:
                break  # no step left that buys anything
            fits = False
            # the same shot's next steps while they buy at least the next best (its own room shrinks by
            # what it takes; every other shot's is counted again after)
            while held[j] > wanted[j] and (fits is False or -gain(j) <= (heap[0][0] if heap else 0.0)):
                cost = (table[j, held[j] - 1] - table[j, held[j]]) * dur[j]
                if cost > room[j] or gain(j) <= 0:
                    break
                held[j] -= 1
                room[j] -= cost
                fits = True
            if fits:
                room = buffer_room(table, dur, held, *cap, level)
                if held[j] > wanted[j]:
                    heapq.heappush(heap, (-gain(j), j))
        return held

    def spend(lam: float, hold: bool = True) -> tuple[float, list[int]]:
        steps = choose(lam, rows)
        if hold and rung.maxrate_kbps:
            steps = hold_buffer(steps, lam)
        fitted = fit_buffer(rates, d, [int(k) for k in steps], rung.maxrate_kbps, rung.bufsize_kbps)
        return float(rates[rows, fitted] @ d) / total, fitted

    def solve() -> list[int]:
        # VMAF per kbit/s: from "none counts" down to where bits still buy something: the rung's bitrate
        # again must buy WORTH_SPENDING VMAF, or the rung spends less than its target
        least = math.log(WORTH_SPENDING / rung.bitrate_kbps)
        if spend(math.exp(least))[0] <= rung.bitrate_kbps:
            return spend(math.exp(least))[1]

        def bisect(lo: float, hi: float, n: int, hold: bool) -> float:
            for _ in range(n):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if spend(math.exp(mid), hold)[0] > rung.bitrate_kbps else (lo, mid)
            return hi

        # first with the plain bucket (fast), then held runs near it (they take their bits more evenly)
        rough = bisect(least, math.log(1e3), 40, hold=False)
        return spend(math.exp(bisect(max(least, rough - math.log(16)), rough, 10, hold=True)))[1]

    steps = solve()
    # maximising the mean starves a hard shot: no shot more than FLOOR_GAP under the rung's mean, where its
    # curve reaches that, and none under the worst shot of one CRF for the rung at the same spend (what a
    # 2-pass encode, near one quantizer throughout, gives its worst shot); the floor lowers the mean, so
    # iterate toward a fixed point
    spent = replace(rung, bitrate_kbps=float(rates[rows, steps] @ d) / total)
    one_crf = np.array(rung_crfs(models, durations, spent))
    guard = float(min(vmafs[rows, np.searchsorted(grid, one_crf - codec.crf_step / 2)]))
    for _ in range(3):
        got = vmafs[rows, steps]
        floor = max(float(got @ d) / total - FLOOR_GAP, guard)
        if got.min() >= floor - 1e-6:
            break
        for f in dict.fromkeys((floor, guard)):  # the guard alone where both cannot be paid for
            allowed = vmafs >= np.minimum(f, vmafs.max(axis=1))[:, None]
            floored = solve()
            if float(rates[rows, floored] @ d) / total <= rung.bitrate_kbps:
                break
        else:
            break  # no floor can be paid for in this budget: keep the best mean instead
        steps = floored
    return [float(codec.crf(grid[k])) for k in steps]
