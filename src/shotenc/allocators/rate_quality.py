"""A rate-quality model: shot features, size and CRF -> (kbps, VMAF), fitted with scikit-learn.

The fit is a standardized degree-2 polynomial ridge regression per codec, two outputs (log bits
per pixel, and VMAF). It is stored as plain JSON (scaler means and scales, polynomial exponents,
coefficients) and evaluated with numpy: no pickle, so a model file is data that can be read,
diffed and shipped, never code. ``scripts/fit_model.py`` regenerates the shipped ``model.json``
from clips it can rebuild; ``shotenc train`` refits it on a folder of clips.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from .. import codecs as codec_registry
from ..analysis.features import ShotFeatures
from ..errors import ShotencError
from ..ladder import even
from .probes import ProbeSettings

INPUTS = [
    "log_si",
    "log_ti",
    "log_texture",
    "log_temporal_texture",
    "log_motion",
    "brightness",
    "log2_height",
    "log2_downscale",
    "crf",
]
MODEL_VERSION = 1
# where a model may be trusted: its training range, widened by a tenth of its span on each side (a
# model without a recorded range: this many of its training standard deviations from the mean)
RANGE_MARGIN = 0.1
TRUST_Z = 3.0
BPP_LIMITS = (1e-4, 4.0)  # bits per pixel a prediction may take when the model records none


def model_inputs(f: ShotFeatures, height: int, source_height: int, crf: float) -> list[float]:
    """The model's input row. Logs tame the heavy tails of texture and motion."""
    return [
        math.log1p(f.si),
        math.log1p(f.ti),
        math.log1p(f.texture),
        math.log1p(f.temporal_texture),
        math.log1p(f.motion),
        f.brightness / 255.0,
        math.log2(max(16, height) / 360.0),
        math.log2(max(16, source_height) / max(16, height)),
        float(crf),
    ]


@dataclass
class TrainingRow:
    codec: str
    preset: str
    features: dict
    width: int
    height: int
    source_height: int
    fps: float
    crf: float
    kbps: float
    vmaf: float

    def x(self) -> list[float]:
        return model_inputs(ShotFeatures(**self.features), self.height, self.source_height, self.crf)

    def y(self) -> tuple[float, float]:
        bpp = self.kbps * 1000.0 / (self.width * self.height * self.fps)
        return math.log(max(1e-6, bpp)), self.vmaf


class RateQualityModel:
    """Per-codec polynomial ridge fits, evaluated from plain numbers."""

    def __init__(self, fits: dict[str, dict], source: str = ""):
        self.fits = fits
        self.source = source

    @property
    def codecs(self) -> list[str]:
        return list(self.fits)

    def crf_range(self, codec: str) -> tuple[float, float]:
        lo, hi = self.fits[codec]["crf_range"]
        return float(lo), float(hi)

    def _phi(self, codec: str, x: np.ndarray) -> np.ndarray:
        fit = self.fits[codec]
        z = (x - np.array(fit["mean"])) / np.array(fit["scale"])
        powers = np.array(fit["powers"])  # (terms, inputs)
        return np.prod(z[:, None, :] ** powers[None, :, :], axis=2)

    def predict_rows(self, codec: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(log bits per pixel, VMAF) for input rows ``x``."""
        fit = self.fits[codec]
        phi = self._phi(codec, np.atleast_2d(np.asarray(x, dtype=float)))
        coef = np.array(fit["coef"])  # (2, terms)
        y = phi @ coef.T + np.array(fit["intercept"])
        return y[:, 0], np.clip(y[:, 1], 0.0, 100.0)

    def outside(self, codec: str, features: ShotFeatures, height: int, source_height: int) -> list[str]:
        """The inputs of one shot (at one size) that lie outside what the model was trained on."""
        fit = self.fits[codec]
        x = model_inputs(features, height, source_height, 0.0)[:-1]  # every input but the CRF
        if "input_range" in fit:
            bounds = [(lo - RANGE_MARGIN * (hi - lo), hi + RANGE_MARGIN * (hi - lo)) for lo, hi in fit["input_range"]]
        else:
            bounds = [(m - TRUST_Z * s, m + TRUST_Z * s) for m, s in zip(fit["mean"], fit["scale"], strict=False)]
        return [
            f"{INPUTS[i]} {v:.2f} not in [{lo:.2f}, {hi:.2f}]"
            for i, (v, (lo, hi)) in enumerate(zip(x, bounds, strict=False))
            if not lo <= v <= hi
        ]

    def predict(
        self,
        codec: str,
        features: ShotFeatures,
        width: int,
        height: int,
        fps: float,
        crfs: Sequence[float],
        source_height: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Predicted (kbps, VMAF) of one shot at one size for each CRF.

        Bounded: bits per pixel stay inside the training range, and both rate and VMAF fall as the CRF
        rises (a polynomial far from its data can bend the wrong way and predict any rate at all).
        """
        src_h = source_height or self.fits[codec].get("reference_height", height)
        crfs = np.asarray(crfs, dtype=float)
        order = np.argsort(crfs)
        x = np.array([model_inputs(features, height, src_h, c) for c in crfs[order]])
        log_bpp, vmaf = self.predict_rows(codec, x)
        lo, hi = self.fits[codec].get("bpp_range", BPP_LIMITS)
        log_bpp = np.minimum.accumulate(np.clip(log_bpp, math.log(lo), math.log(hi)))
        vmaf = np.minimum.accumulate(vmaf)
        kbps = np.exp(log_bpp) * width * height * fps / 1000.0
        out_k, out_v = np.empty_like(kbps), np.empty_like(vmaf)
        out_k[order], out_v[order] = kbps, vmaf
        return out_k, out_v

    def to_dict(self) -> dict:
        return {"version": MODEL_VERSION, "inputs": INPUTS, "source": self.source, "codecs": self.fits}

    def save(self, path: str | os.PathLike) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def from_dict(cls, d: dict) -> RateQualityModel:
        if d.get("version") != MODEL_VERSION or d.get("inputs") != INPUTS:
            raise ShotencError("rate-quality model file is from another shotenc version; refit it (shotenc train)")
        return cls(d["codecs"], d.get("source", ""))

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> RateQualityModel:
        """Load a model file (the shipped ``shotenc/allocators/model.json`` when ``path`` is None)."""
        try:
            if path is None:
                text = resources.files("shotenc.allocators").joinpath("model.json").read_text(encoding="utf-8")
            else:
                text = Path(path).read_text(encoding="utf-8")
            return cls.from_dict(json.loads(text))
        except FileNotFoundError:
            raise ShotencError(f"no rate-quality model at {path or 'shotenc/allocators/model.json'}") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise ShotencError(f"rate-quality model {path or 'model.json'} is not valid ({exc})") from None


def fit(
    rows: Sequence[TrainingRow], alphas: Sequence[float] = (1.0, 3.0, 10.0, 30.0, 100.0, 300.0), source: str = ""
) -> RateQualityModel:
    """Fit one model per codec in ``rows`` (standardize -> degree-2 polynomial -> ridge, 2 outputs).

    The ridge strength is chosen per codec by cross-validation over held-out shots (rows of one shot
    share its features, so holding out rows would flatter the fit).
    """
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import GroupKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    fits: dict[str, dict] = {}
    for codec in sorted({r.codec for r in rows}):
        mine = [r for r in rows if r.codec == codec]
        if len(mine) < 20:
            raise ShotencError(f"too few training points for {codec} ({len(mine)}); give more clips")
        x = np.array([r.x() for r in mine])
        y = np.array([r.y() for r in mine])
        shot_ids = [json.dumps(r.features, sort_keys=True) for r in mine]
        groups = np.array([sorted(set(shot_ids)).index(s) for s in shot_ids])
        folds = min(5, len(set(shot_ids)))
        best_alpha, cv = alphas[len(alphas) // 2], {}
        if folds >= 2 and len(alphas) > 1:
            best_score = -math.inf
            for alpha in alphas:
                pipe = make_pipeline(
                    StandardScaler(), PolynomialFeatures(degree=2, include_bias=False), Ridge(alpha=alpha)
                )
                scores = {
                    name: float(
                        np.mean(cross_val_score(pipe, x, y[:, k], groups=groups, cv=GroupKFold(folds), scoring="r2"))
                    )
                    for k, name in enumerate(("log_bpp", "vmaf"))
                }
                if sum(scores.values()) > best_score:
                    best_score, best_alpha = sum(scores.values()), alpha
                    cv = {k: round(v, 4) for k, v in scores.items()}
        elif len(alphas) == 1:
            best_alpha = alphas[0]
        scaler = StandardScaler().fit(x)
        poly = PolynomialFeatures(degree=2, include_bias=False).fit(scaler.transform(x))
        ridge = Ridge(alpha=best_alpha).fit(poly.transform(scaler.transform(x)), y)
        crfs = [r.crf for r in mine]
        fits[codec] = {
            "preset": mine[0].preset,
            "mean": scaler.mean_.tolist(),
            "scale": scaler.scale_.tolist(),
            "powers": poly.powers_.tolist(),
            "coef": ridge.coef_.tolist(),
            "intercept": ridge.intercept_.tolist(),
            "crf_range": [min(crfs), max(crfs)],
            "input_range": [[float(x[:, i].min()), float(x[:, i].max())] for i in range(x.shape[1] - 1)],
            "bpp_range": [float(np.exp(y[:, 0].min())), float(np.exp(y[:, 0].max()))],
            "alpha": best_alpha,
            "points": len(mine),
            "shots": len(set(shot_ids)),
            "cv_r2": cv,
        }
    return RateQualityModel(fits, source)


def training_rows(
    clips: Sequence[str | os.PathLike],
    codecs: Sequence[str],
    work_dir: str | os.PathLike,
    jobs: int = 0,
    on_clip: Callable[[str], None] | None = None,
) -> list[TrainingRow]:
    """Probe every shot of every clip at three sizes over each codec's ``train_crfs`` (cached like all probes)."""
    from ..analysis.analyze import analyze
    from ..media.probe import probe
    from .probes import run_probes

    rows: list[TrainingRow] = []
    settings = ProbeSettings(crfs={c: codec_registry.get(c).train_crfs for c in codecs}, jobs=jobs)
    for clip in clips:
        if on_clip:
            on_clip(str(clip))
        media = probe(clip)
        if media.vfr:
            raise ShotencError(f"{clip}: variable frame rate; give constant-frame-rate clips for training")
        analysis = analyze(media)
        src_h = media.height - media.height % 2
        heights = sorted({src_h, max(144, even(src_h * 2 / 3)), max(144, even(src_h / 2))})
        aspect = media.width / media.height
        grid = {
            c: [
                (min(even(h * aspect), media.width - media.width % 2), h, codec_registry.get(c).default_preset)
                for h in heights
            ]
            for c in codecs
        }
        run = run_probes(media, analysis.shots, grid, work_dir, settings)
        fps = float(media.fps)
        for r in run.results:
            feats = analysis.features[r.shot]
            rows.append(
                TrainingRow(r.codec, r.preset, asdict(feats), r.width, r.height, src_h, fps, r.crf, r.kbps, r.vmaf)
            )
    return rows
