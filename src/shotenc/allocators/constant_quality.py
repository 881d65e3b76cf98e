"""The default: a capped CRF per shot and rung, chosen so the rung spends its budget where VMAF gains most.

A CRF maps to a rate-distortion trade-off (a Lagrange multiplier) for the encoder, so one CRF across
the shots of a rung is already close to an equal-slope choice -- in the encoder's own measure. In VMAF
it is not: flat animation and fast motion score far below film at the same CRF, static shots far
above. So each shot's curves are predicted from a few probes and the Dynamic Optimizer's equal-slope
choice is made on them (:func:`equal_slope_crfs`); without scores, one CRF per rung (:func:`rung_crfs`).

Probes, per shot and codec: the whole shot at half the smallest rung's width and height, not scored (its
rate: a window of a shot can misjudge its rate by half); then a window of it there at two CRFs (the
whole shot's, and the one its rates say the codec's rungs will land at: :func:`second_crf`), scored, and
at the largest rung size (its own rate-vs-CRF slope, how its rate grows with the picture, and its VMAF).
Where x264 looks ahead, only it and AV1 encode the whole shots: the others' windows are lent what its
window misjudged (:func:`lent_whole`).
A shot's rate at any rung and CRF follows in log-rate, log-pixels and CRF, its VMAF by interpolation.
Only the quality proxy (x264, the fastest encoder) is scored at the largest size, at two CRFs; the other
codecs are encoded there once, for their rate, and their VMAF there is lent by the proxy at the rate
that matches theirs as it does at the small size (:func:`borrowed_quality`). Shots planned far from
every CRF they were probed at are probed there and planned again. The rung's VBV buffer is run as a
leaky bucket in shot order, as a 2-pass encode keeps it; the encode's rate feedback removes what the
probes misjudged.
"""

from __future__ import annotations

import heapq
import math
import os
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar

import numpy as np

from .. import codecs
from ..analysis.analyze import Analysis
from ..codecs import RatePoint
from ..encode.vbv import VBV_INIT
from ..ladder import Rung, even
from .base import Allocator, AllocatorOptions, EncodePlan
from .planner import default_cache_dir
from .probes import ProbeResult, ProbeRun, ProbeSettings, run_probes

CAP_SHARE = 0.95  # a capped shot averages a little under the cap
VBV_RESERVE = 0.25  # of the buffer kept for a shot's opening keyframe and the probes' error
SLOPE_LIMITS = (0.5, 2.0)  # a shot's measured slope, relative to the codec's typical one
DEFAULT_EXPONENT = 0.75  # rate ~ pixels ** 0.75 when a codec has one size to probe
EXPONENT_LIMITS = (0.3, 4.0)  # grain x264 codes only in the larger picture grew as pixels ** 2.9
# a shot whose rate grows faster than this with the picture codes at the large size what the small one averages
# away (grain): how fast then depends on the CRF, so a codec rated there at one CRF is rated where it is planned
STEEP_EXPONENT = 1.25
PROBE_MIN_HEIGHT = 144
LEAST_VMAF_PER_HALVING = 6.0  # past the probes, a halving of the rate costs at least this much VMAF
FLOOR_GAP = 6.0  # no shot's predicted VMAF more than this under its rung's mean (hull mode's default)
WORTH_SPENDING = 0.5  # VMAF that doubling a rung's rate must buy for the plan to spend up to its target
QUALITY_PROXY = "h264"  # the fastest encoder: scored at every probe size, the others at the smallest only
REFINE_ROUNDS = 2  # extra probe rounds at CRFs the first plan chose far from the probed ones (grain_dark: one
# round left its 360p rung 25% over target; with the second round's 28 more probes it landed at +7% and -5%)


@dataclass(frozen=True)
class RateModel:
    """One shot's rate at any (pixels, CRF), from its probes, in log-rate, log-pixels and CRF."""

    crf: float  # the reference CRF of the probes
    pixels: int  # the size the whole shot was probed at
    kbps: float  # the whole shot's rate there at ``crf``
    exponent: float  # rate grows as pixels ** exponent (where no CRF of ``exponents`` says otherwise)
    halving: float  # CRF steps that halve this shot's rate (past the probed CRFs)
    # (CRF, log2 of the rate relative to ``crf``) where a window was probed at two or more CRFs:
    # rate is not exactly exponential in CRF (film grain costs far more at low CRFs), so between
    # probed CRFs it is interpolated, and only past them extended with ``halving``
    curve: tuple[tuple[float, float], ...] = ()
    # (CRF, exponent) where the window was probed at both sizes: grain grows faster than the picture
    # at low CRFs (a downscale averages it away), so the exponent too follows the CRF
    exponents: tuple[tuple[float, float], ...] = ()

    def rate(self, pixels: int, crf: float) -> float:
        return float(self.rates(pixels, np.array([crf]))[0])

    def local_halving(self, pixels: int, crf: float, span: float = 1.0) -> float:
        """CRF steps that halve the predicted rate around ``crf`` (over ``crf`` +- ``span``)."""
        lo, hi = self.rates(pixels, np.array([crf - span, crf + span]))
        return 2 * span / math.log2(lo / hi) if lo > hi > 0 else self.halving

    def rates(self, pixels: int, crfs: np.ndarray) -> np.ndarray:
        """The rate at every CRF of ``crfs``: log2 of it interpolated between the probed CRFs and extended
        past them with ``halving``; the size exponent interpolated likewise."""
        pts = self.curve or ((self.crf, 0.0),)
        cs, vs = np.array([c for c, _ in pts]), np.array([v for _, v in pts])
        octaves = np.interp(crfs, cs, vs)
        octaves = np.where(crfs < cs[0], vs[0] + (cs[0] - crfs) / self.halving, octaves)
        octaves = np.where(crfs > cs[-1], vs[-1] - (crfs - cs[-1]) / self.halving, octaves)
        if self.exponents:
            exps = np.interp(crfs, [c for c, _ in self.exponents], [e for _, e in self.exponents])
        else:
            exps = np.full(len(crfs), self.exponent)
        return self.kbps * (pixels / self.pixels) ** exps * 2**octaves


def rate_model(whole: Sequence[ProbeResult], windows: Sequence[ProbeResult], codec: str, crf: float) -> RateModel:
    """One shot's :class:`RateModel`: ``whole`` has the whole shot at the probe size at ``crf`` (its rate),
    ``windows`` a window of it at the probe size at two CRFs (its slope) and at the largest rung size at
    ``crf`` (its size exponent). Like with like: a window is only ever compared with the same window."""
    typical = codecs.get(codec).crf_halving
    base = min((r for r in whole if r.crf == crf), key=lambda r: r.width * r.height)
    pixels = base.width * base.height
    halving = typical
    same = {r.crf: r.kbps for r in windows if r.width * r.height == pixels and r.kbps > 0}
    curve: tuple[tuple[float, float], ...] = ()
    if crf in same and len(same) >= 2:
        crfs = sorted(same)
        # rate must fall as CRF rises: a probe that says otherwise is noise, held at its neighbour's
        levels = np.minimum.accumulate([math.log2(same[c] / same[crf]) for c in crfs])
        curve = tuple(zip(crfs, (float(v) for v in levels), strict=True))
        if levels[0] > levels[-1]:
            halving = (crfs[-1] - crfs[0]) / (levels[0] - levels[-1])
    halving = min(typical * SLOPE_LIMITS[1], max(typical * SLOPE_LIMITS[0], halving))
    exponents = []
    for c in sorted({r.crf for r in windows}):
        sized = sorted((r for r in windows if r.crf == c and r.kbps > 0), key=lambda r: r.width * r.height)
        p0, p1 = (sized[0].width * sized[0].height, sized[-1].width * sized[-1].height) if sized else (0, 0)
        if p1 > p0:
            e = math.log(sized[-1].kbps / sized[0].kbps) / math.log(p1 / p0)
            exponents.append((c, min(EXPONENT_LIMITS[1], max(EXPONENT_LIMITS[0], e))))
    exponent = dict(exponents).get(crf, DEFAULT_EXPONENT)
    return RateModel(crf, pixels, max(1e-3, base.kbps), exponent, halving, curve, tuple(exponents))


def lent_whole(
    windows: Sequence[ProbeResult], proxy: Sequence[ProbeResult], crf: float, proxy_crf: float, frames: int
) -> list[ProbeResult]:
    """A codec's whole-shot rate at ``crf`` where only the proxy encoded the whole shot: its window's rate
    there, times what the proxy's window misjudged of the proxy's whole shot at the same size.

    What a window misses of its shot is the content's (the shot changes outside it), not the encoder's:
    over seven clips, HEVC's, VP9's and AV1's own whole-to-window ratio was x264's to within 0.3-8.8% on
    average (per shot: 5-38%), and their whole shots cost six times x264's CPU. AV1's error was biased
    (+2 to +9% on six clips), so it encodes its own (``Codec.borrows_whole_rate``)."""
    own = [r for r in windows if r.crf == crf]
    if not own:
        return []
    base = min(own, key=lambda r: r.width * r.height)
    px = base.width * base.height
    whole = [r.kbps for r in proxy if r.crf == proxy_crf and r.frames == frames and r.width * r.height == px]
    window = [r.kbps for r in proxy if r.crf == proxy_crf and r.frames == base.frames and r.width * r.height == px]
    ratio = whole[0] / window[0] if whole and window and window[0] > 0 and whole[0] > 0 else 1.0
    return [replace(base, kbps=base.kbps * ratio, frames=frames, encode_s=0.0, score_s=0.0)]


def probe_size(rung: Rung) -> tuple[int, int]:
    """Where a shot's rate is probed whole: half the smallest rung's width and height (a quarter of its
    pixels: the whole shot costs little more than a window at full size), not under 144 lines."""
    if rung.height < 2 * PROBE_MIN_HEIGHT:
        return rung.width, rung.height
    return even(rung.width / 2), even(rung.height / 2)


def rate_table(models: Sequence[RateModel], rung: Rung) -> tuple[np.ndarray, np.ndarray]:
    """The CRFs a plan chooses from (the codec's best CRF up, in its steps) and every shot's predicted
    rate at each at the rung's size: shots by rows."""
    codec = codecs.get(rung.codec)
    grid = np.arange(codec.best_crf, codec.crf_range[1] + codec.crf_step / 2, codec.crf_step)
    pixels = rung.width * rung.height
    return grid, np.array([m.rates(pixels, grid) for m in models]).reshape(len(models), len(grid))


def refine_gap(codec: str) -> float:
    """How far (in CRF) a plan may land from every probed CRF before it is probed there: half a halving."""
    return codecs.get(codec).crf_halving / 2


def on_refine_grid(codec: str, crf: float) -> float:
    """``crf`` on the grid probes are refined on (:func:`refine_gap`), so rungs and shots share probes."""
    gap = refine_gap(codec)
    return codecs.get(codec).crf(round(crf / gap) * gap)


def needs_probe(crf: float, probed: set[float], rated_large: set[float], exponent: float, gap: float) -> bool:
    """Whether a shot planned at ``crf`` was planned on an extrapolation: more than ``gap`` from every CRF
    its windows were probed at, or -- where its rate at the large size was measured at ``rated_large`` only
    and grows steeply with the picture (``exponent``: grain the small picture averages away) -- more than
    half that from those. grain_dark, AV1: 1,090 kbit/s at 360p and CRF 38, 200 at 43, where 234p barely
    moved; the exponent of CRF 38 put a shot planned at 43 at 741 kbit/s, and it took 298."""
    if min(abs(crf - p) for p in probed) > gap:
        return True
    steep = bool(rated_large) and exponent > STEEP_EXPONENT
    return steep and min(abs(crf - p) for p in rated_large) > gap / 2


def second_crf(
    codec: str, ref: float, models: Sequence[RateModel], durations: Sequence[float], rungs: Sequence[Rung]
) -> float:
    """Where a codec's windows are probed besides ``ref``: the CRF its rungs will land at, as the whole shots'
    rates at ``ref`` (``models``: no curve yet) predict it, on the refinement grid (half a halving), and at
    least that far from ``ref``; exactly a halving from it when the rungs land near it.

    A fixed second CRF a halving above ``ref`` left every rung of the sample below both probed CRFs, and a
    round of refinement probes (a third of all probes) to follow."""
    c = codecs.get(codec)
    planned = [(crf, d) for rung in rungs for crf, d in zip(rung_crfs(models, durations, rung), durations, strict=True)]
    target = float(np.average([p for p, _ in planned], weights=[d for _, d in planned])) if planned else ref
    crf = on_refine_grid(codec, target)
    if abs(crf - ref) < refine_gap(codec):
        crf = c.crf(ref - c.crf_halving if target < ref else ref + c.crf_halving)
    return crf


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


@dataclass(frozen=True)
class QualityModel:
    """One shot's VMAF at any (pixels, CRF), from its scored window probes: per probed size, VMAF between
    the probed CRFs interpolated (held to fall as the CRF rises), past them extended with the end slope --
    at half of it toward lower CRFs, where VMAF bends toward its ceiling; between sizes, in log-pixels."""

    sizes: tuple[tuple[int, tuple[tuple[float, float], ...]], ...]  # (pixels, ((CRF, VMAF), ...)), ascending
    least_slope: float = 0.0  # VMAF lost per CRF past the highest probed one, at least (a plateau ends)

    def vmafs(self, pixels: int, crfs: np.ndarray) -> np.ndarray:
        rows = []
        for _, pts in self.sizes:
            cs = np.array([c for c, _ in pts])
            vs = np.minimum.accumulate(np.array([v for _, v in pts]))
            v = np.interp(crfs, cs, vs)
            if len(cs) >= 2:
                low, high = (vs[0] - vs[1]) / (cs[1] - cs[0]), (vs[-2] - vs[-1]) / (cs[-1] - cs[-2])
                v = np.where(crfs < cs[0], vs[0] + 0.5 * low * (cs[0] - crfs), v)
                v = np.where(crfs > cs[-1], vs[-1] - max(high, self.least_slope) * (crfs - cs[-1]), v)
            rows.append(np.clip(v, 0.0, 100.0))
        if len(rows) == 1:
            return rows[0]
        logs = [math.log(px) for px, _ in self.sizes]
        t = min(1.0, max(0.0, (math.log(pixels) - logs[0]) / (logs[-1] - logs[0])))
        return (1 - t) * rows[0] + t * rows[-1]


def quality_model(windows: Sequence[ProbeResult], codec: str) -> QualityModel | None:
    """A shot's :class:`QualityModel` from its scored probes (the smallest and largest probed size), or None
    when it has none."""
    scored = [r for r in windows if math.isfinite(r.vmaf) and r.kbps > 0]
    sizes = sorted({r.width * r.height for r in scored})
    if not sizes:
        return None
    out = []
    for px in dict.fromkeys((sizes[0], sizes[-1])):
        pts = {r.crf: r.vmaf for r in scored if r.width * r.height == px}
        out.append((px, tuple(sorted(pts.items()))))
    return QualityModel(tuple(out), LEAST_VMAF_PER_HALVING / codecs.get(codec).crf_halving)


def borrowed_quality(
    own: QualityModel, rate: RateModel, codec: str, proxy_rate: RateModel, proxy: QualityModel, name: str, pixels: int
) -> QualityModel:
    """``own`` (a codec's VMAF, scored at one size) with a row at ``pixels`` lent by the proxy codec ``name``,
    scored at both: at each CRF, the codec's VMAF there is the proxy's at the rate that is to the codec's
    rate there what it is at the scored size for the same VMAF. How many bits one encoder saves over
    another is measured on the shot itself, where it is cheap; how VMAF grows with the picture is the
    content's, and the proxy (the fastest encoder) has measured it."""
    small = own.sizes[0][0]
    if pixels == small:
        return own
    mine = codecs.get(codec)
    grid = np.arange(mine.best_crf, mine.crf_range[1] + 1e-9, mine.crf_step)
    lender = codecs.get(name)
    p_grid = np.arange(lender.best_crf, lender.crf_range[1] + 1e-9, 0.25)[::-1]  # the proxy's rate rising

    def rising(px: int) -> tuple[np.ndarray, np.ndarray]:
        log_rate = np.maximum.accumulate(np.log(proxy_rate.rates(px, p_grid)))
        return log_rate, np.maximum.accumulate(proxy.vmafs(px, p_grid))

    rs, qs = rising(small)
    rl, ql = rising(pixels)
    log_gain = np.interp(own.vmafs(small, grid), qs, rs) - np.log(rate.rates(small, grid))
    lent = np.interp(np.log(rate.rates(pixels, grid)) + log_gain, rl, ql)
    row = tuple((float(c), float(v)) for c, v in zip(grid, lent, strict=True))
    return QualityModel((own.sizes[0], (pixels, row)), own.least_slope)


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
    # maximising the mean starves a hard shot: no shot more than FLOOR_GAP under the rung's mean (as hull
    # mode), where its curve reaches that, and none under the worst shot of one CRF for the rung at the same
    # spend (what a 2-pass encode, near one quantizer throughout, gives its worst shot); the floor lowers the
    # mean, so iterate toward a fixed point
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


@dataclass
class ConstantQualityAllocator(Allocator):
    """One capped CRF per rung from rate probes (see module docstring)."""

    work_dir: str | os.PathLike | None = None  # probe cache (default: the user's cache folder)
    settings: ProbeSettings = field(default_factory=lambda: ProbeSettings(score=False))
    weigh_vmaf: bool = True  # score the window probes and choose by equal VMAF slope (False: one CRF per rung)
    name: ClassVar[str] = "crf"
    summary: ClassVar[str] = "capped CRF per shot and rung from rate probes, by equal VMAF slope"
    probes: ClassVar[bool] = True
    # the encoder whose VMAF at the largest size stands in for the other codecs' (None: each is scored there)
    quality_proxy: str | None = QUALITY_PROXY
    last_probes: object = None

    @classmethod
    def from_options(cls, options: AllocatorOptions) -> ConstantQualityAllocator:
        return cls(work_dir=options.cache_dir)

    def allocate(self, analysis: Analysis, rungs: list[Rung], executor: Executor | None = None) -> EncodePlan:
        names = list(dict.fromkeys(r.codec for r in rungs))
        small_rung = min(rungs, key=lambda r: r.width * r.height)
        large_rung = max(rungs, key=lambda r: r.width * r.height)
        small, large = probe_size(small_rung), (large_rung.width, large_rung.height)
        others = any(c != self.quality_proxy for c in names)
        proxy = self.quality_proxy if self.weigh_vmaf and large != small and others else None
        probed_codecs = names + ([proxy] if proxy and proxy not in names else [])
        refs = {c: float(codecs.get(c).probe_crfs[len(codecs.get(c).probe_crfs) // 2]) for c in probed_codecs}
        work = Path(self.work_dir) if self.work_dir else default_cache_dir()
        presets: dict[str, tuple[str, str]] = {}  # (at the small size, at the large)
        for c in probed_codecs:
            mine = sorted((r for r in rungs if r.codec == c), key=lambda r: r.width * r.height)
            presets[c] = (mine[0].preset, mine[-1].preset) if mine else (codecs.get(c).default_preset,) * 2
        # the whole shots: every codec's, or only the proxy's, which lends the others what its window misjudged
        # (where it looks ahead as they do: x264's ultrafast saw a 54-frame shot at its window's rate, the
        # others at 25% under theirs)
        lender = proxy if proxy and presets[proxy][0] not in codecs.get(proxy).no_lookahead else None
        own = [c for c in probed_codecs if not lender or c == lender or not codecs.get(c).borrows_whole_rate]
        whole_specs = {c: [(*small, presets[c][0], (refs[c],))] for c in own}
        whole_settings = replace(self.settings, window_fraction=1.0)  # the whole shot, at a quarter of the pixels
        window_settings = replace(self.settings, score=self.weigh_vmaf)
        rate_settings = replace(window_settings, score=False)
        # (with them, every codec's window at the reference CRF: the proxy's ratio and the others' rates)
        first_windows = {c: [(*small, presets[c][0], (refs[c],))] for c in probed_codecs} if lender else {}
        run = run_probes(
            analysis.media, analysis.shots, whole_specs, work, whole_settings, executor=executor,
            also=[(first_windows, window_settings)],
        )  # fmt: skip
        durations = [s.duration_s for s in analysis.shots]
        whole_frames = {s.index: s.frame_count for s in analysis.shots}

        def split(shot: int, codec: str) -> tuple[list[ProbeResult], list[ProbeResult]]:
            """(whole-shot probes, window probes); a short shot's window is the whole shot."""
            mine = run.for_shot(shot, codec)
            whole = [r for r in mine if r.frames == whole_frames[shot]]
            windows = [r for r in mine if r.frames != whole_frames[shot]]
            if windows and not whole and lender:
                whole = lent_whole(windows, run.for_shot(shot, lender), refs[codec], refs[lender], whole_frames[shot])
            return whole, windows or whole

        # the windows' second CRF: where the whole shots' rates say this codec's rungs will land
        second = {
            c: second_crf(
                c,
                refs[c],
                [rate_model(split(s.index, c)[0], [], c, refs[c]) for s in analysis.shots],
                durations,
                [r for r in rungs if r.codec == c] or [replace(r, codec=c) for r in rungs],
            )
            for c in probed_codecs
        }
        window_specs: dict[str, list[tuple]] = {}  # scored (unless weigh_vmaf is off), and refined
        rate_specs: dict[str, list[tuple]] = {}  # rate only
        for c in probed_codecs:
            lo, hi = presets[c]
            window_specs[c] = [(*small, lo, (refs[c], second[c]))]
            if large == small:
                continue
            if proxy and c != proxy:  # its growth with the picture measured, its VMAF there lent
                rate_specs[c] = [(*large, hi, (refs[c],))]
            else:  # (scored, it needs two CRFs for a VMAF slope too)
                window_specs[c].append((*large, hi, (refs[c], second[c]) if self.weigh_vmaf else (refs[c],)))
        second_windows = {  # (what the first run made is not made again)
            c: [(*v[0][:3], (second[c],)), *v[1:]] if c in first_windows else v for c, v in window_specs.items()
        }
        more = run_probes(
            analysis.media, analysis.shots, second_windows, work, window_settings, executor=executor,
            also=[(rate_specs, rate_settings)],
        )  # fmt: skip
        run = ProbeRun(run.results + more.results, run.wall_s + more.wall_s)

        def shot_models(codec: str, lent: tuple[list, list] = ([], [])) -> tuple[list[RateModel], list]:
            """Every shot's rate and quality models; ``lent``: the proxy's, for a codec scored small only."""
            found = [split(s.index, codec) for s in analysis.shots]
            rates = [rate_model(whole, windows, codec, refs[codec]) for whole, windows in found]
            qualities = [quality_model(windows, codec) for _, windows in found]
            if proxy and codec != proxy:
                pixels = large[0] * large[1]
                qualities = [
                    (q and pq and borrowed_quality(q, r, codec, pr, pq, proxy, pixels)) or None
                    for q, r, pr, pq in zip(qualities, rates, *lent, strict=True)
                ]
            return rates, qualities

        probed = {(c, s.index): {refs[c], second[c]} for c in probed_codecs for s in analysis.shots}
        by_index = {s.index: s for s in analysis.shots}
        for round_ in range(REFINE_ROUNDS + 1):
            lent = shot_models(proxy) if proxy else ([], [])
            models, qualities = {}, {}
            for c in names:
                models[c], qualities[c] = shot_models(c, lent)
            # a shot planned at a CRF far from every one it was probed at was planned on an extrapolation:
            # probe its window there too (on a grid, so rungs share probes) and plan again
            far: dict[tuple[str, int], set[float]] = {}
            planned = {r.id: self._crfs(models[r.codec], qualities[r.codec], durations, r) for r in rungs}
            for rung in rungs:
                gap = refine_gap(rung.codec)
                for shot, crf, m in zip(analysis.shots, planned[rung.id], models[rung.codec], strict=True):
                    key = (rung.codec, shot.index)
                    # where a codec rated at the large size for its rate only was rated there
                    windows = split(shot.index, rung.codec)[1] if rung.codec in rate_specs else []
                    rated = {r.crf for r in windows if (r.width, r.height) == large}
                    if needs_probe(crf, probed[key], rated, m.exponent, gap):
                        far.setdefault(key, set()).add(on_refine_grid(rung.codec, crf))
            if not far or round_ == REFINE_ROUNDS:
                break
            groups: dict[tuple[str, tuple[float, ...]], list] = {}  # shots that need the same CRFs: one run
            for (c, i), v in far.items():
                groups.setdefault((c, tuple(sorted(v))), []).append(by_index[i])
            # a codec whose rate at the large size was measured at the reference CRF only gets it there too:
            # its size exponent follows the CRF (photos24, HEVC: a shot planned at CRF 12.5 on the exponent
            # of CRF 29 took the 360p rung 17% over its plan)
            batches = [
                ({c: [(*size[:3], crfs) for size in specs[c]]}, st, shots)
                for (c, crfs), shots in groups.items()
                for specs, st in ((window_specs, window_settings), (rate_specs, rate_settings))
                if c in specs
            ]
            more = run_probes(analysis.media, [], {}, work, window_settings, executor=executor, also=batches)
            run = ProbeRun(run.results + more.results, run.wall_s + more.wall_s)
            for key, v in far.items():
                probed[key] |= v
        self.last_probes = run
        points: dict[str, list[RatePoint]] = {}
        chosen = []
        for rung in rungs:
            crfs = planned[rung.id]
            pixels = rung.width * rung.height
            points[rung.id] = [
                RatePoint(
                    "crf",
                    c,
                    rung.maxrate_kbps,
                    rung.bufsize_kbps,
                    predicted_kbps=m.rate(pixels, c),
                    halving=m.local_halving(pixels, c),
                )
                for m, c in zip(models[rung.codec], crfs, strict=True)
            ]
            predicted = sum(p.predicted_kbps * d for p, d in zip(points[rung.id], durations, strict=True))
            chosen.append(
                {"rung": rung.id, "crfs": sorted(set(crfs)), "predicted_kbps": round(predicted / sum(durations), 1)}
            )
            if all(qualities[rung.codec]):
                vmaf = [q.vmafs(pixels, np.array([c]))[0] for q, c in zip(qualities[rung.codec], crfs, strict=True)]
                chosen[-1]["predicted_vmaf"] = round(float(np.average(vmaf, weights=durations)), 2)
                chosen[-1]["predicted_worst_vmaf"] = round(float(min(vmaf)), 2)
        probes = self.last_probes
        details = {
            "probes": {
                "count": len(probes.results),
                "new": probes.new,
                "wall_s": round(probes.wall_s, 3),
                "cpu_s": round(probes.cpu_s, 3),
                "scored": self.weigh_vmaf,
                "whole_shots_by": lender or "each codec",  # the lender (codecs that borrow none encode their own)
            },
            "rungs": chosen,
            "shots": {
                c: [
                    {"kbps": round(m.kbps, 2), "halving": round(m.halving, 2), "exponent": round(m.exponent, 3)}
                    for m in models[c]
                ]
                for c in names
            },
        }
        return EncodePlan(self.name, list(rungs), analysis.shots, points, details)

    def _crfs(
        self, models: list[RateModel], qualities: list[QualityModel | None], durations: list[float], rung: Rung
    ) -> list[float]:
        """Equal VMAF slope where every shot has scored probes, else one CRF per rung."""
        if self.weigh_vmaf and all(qualities):
            return equal_slope_crfs(models, qualities, durations, rung)  # type: ignore[arg-type]
        return rung_crfs(models, durations, rung)
