"""A shot's predicted rate and VMAF at any size and CRF, from its probes (the default ``crf`` mode's curves).

Rate follows in log-rate, log-pixels and CRF (:class:`RateModel`); VMAF is interpolated between the
probed CRFs and sizes (:class:`QualityModel`). Where only the quality proxy was scored at the largest
size, a codec's VMAF there is lent by it (:func:`borrowed_quality`), and where only the proxy encoded
the whole shot, its rate too (:func:`lent_whole`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from .. import codecs
from .probes import ProbeResult

SLOPE_LIMITS = (0.5, 2.0)  # a shot's measured slope, relative to the codec's typical one
DEFAULT_EXPONENT = 0.75  # rate ~ pixels ** 0.75 when a codec has one size to probe
EXPONENT_LIMITS = (0.3, 4.0)  # grain x264 codes only in the larger picture grew as pixels ** 2.9
LEAST_VMAF_PER_HALVING = 6.0  # past the probes, a halving of the rate costs at least this much VMAF


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
