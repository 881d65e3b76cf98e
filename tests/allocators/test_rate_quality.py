"""The rate-quality model is plain JSON that predicts what the fitted scikit-learn pipeline predicts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from shotenc.allocators.rate_quality import RateQualityModel, TrainingRow, fit
from shotenc.analysis.features import ShotFeatures
from shotenc.errors import ShotencError


def synthetic_rows(n_shots: int = 8) -> list[TrainingRow]:
    rng = np.random.default_rng(3)
    rows = []
    for _ in range(n_shots):
        f = ShotFeatures(
            si=rng.uniform(10, 80),
            ti=rng.uniform(1, 30),
            si_max=0,
            ti_max=0,
            texture=rng.uniform(5, 60),
            temporal_texture=rng.uniform(0, 10),
            motion=rng.uniform(0, 5),
            brightness=rng.uniform(40, 200),
            complexity=0,
        )
        for h in (180, 360):
            for crf in (18, 24, 30, 36, 42):
                kbps = 40 * (h / 180) ** 2 * (1 + f.si / 40) * 2 ** ((30 - crf) / 6)
                vmaf = 100 - 1.2 * (crf - 14) - f.ti / 3 - (20 if h == 180 else 0)
                rows.append(TrainingRow("h264", "faster", vars(f), h * 16 // 9, h, 360, 25.0, crf, kbps, vmaf))
    return rows


def test_model_round_trips_through_plain_json(tmp_path):
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    rows = synthetic_rows()
    model = fit(rows, alphas=(1.0,))
    path = tmp_path / "m.json"
    model.save(path)
    data = json.loads(path.read_text())  # plain data: numbers and lists
    assert data["inputs"] and "h264" in data["codecs"]
    loaded = RateQualityModel.load(path)
    x = np.array([r.x() for r in rows])
    y = np.array([r.y() for r in rows])
    ref = make_pipeline(StandardScaler(), PolynomialFeatures(2, include_bias=False), Ridge(alpha=1.0)).fit(x, y)
    log_bpp, vmaf = loaded.predict_rows("h264", x)
    expect = ref.predict(x)
    assert np.allclose(log_bpp, expect[:, 0], atol=1e-6)
    assert np.allclose(vmaf, np.clip(expect[:, 1], 0, 100), atol=1e-6)
    # and the fit is useful on what it learnt: rate falls and quality falls as CRF rises
    f = ShotFeatures(**rows[0].features)
    kbps, q = loaded.predict("h264", f, 640, 360, 25.0, [20, 30, 40], source_height=360)
    assert kbps[0] > kbps[1] > kbps[2] and q[0] > q[1] > q[2]


def test_shipped_model_loads_and_covers_every_codec():
    model = RateQualityModel.load()
    assert set(model.codecs) == {"h264", "hevc", "vp9", "av1"}
    for codec in model.codecs:
        lo, hi = model.crf_range(codec)
        assert lo < hi


def test_model_file_from_another_version_is_refused(tmp_path):
    bad = tmp_path / "old.json"
    bad.write_text(json.dumps({"version": 0, "inputs": [], "codecs": {}}))
    with pytest.raises(ShotencError, match="refit"):
        RateQualityModel.load(bad)


def test_the_model_knows_its_training_range_and_bounds_its_predictions():
    rows = synthetic_rows()
    model = fit(rows, alphas=(1.0,))
    seen = ShotFeatures(**rows[0].features)
    assert model.outside("h264", seen, 360, 360) == []
    # flat animation: no temporal change, far brighter than anything seen
    flat = ShotFeatures(si=40, ti=0, si_max=0, ti_max=0, texture=20, temporal_texture=0, motion=0, brightness=250,
                        complexity=0)  # fmt: skip
    out = " ".join(model.outside("h264", flat, 360, 360))
    assert "log_ti" in out and "brightness" in out
    # far outside, a polynomial predicts anything; the bounded prediction stays monotone and in range
    wild = ShotFeatures(si=5000, ti=0, si_max=0, ti_max=0, texture=9000, temporal_texture=0, motion=300,
                        brightness=0, complexity=0)  # fmt: skip
    crfs = [45, 18, 30, 36, 24]
    kbps, vmaf = model.predict("h264", wild, 640, 360, 25.0, crfs, source_height=360)
    order = np.argsort(crfs)
    assert np.all(np.diff(kbps[order]) <= 0) and np.all(np.diff(vmaf[order]) <= 0)
    lo, hi = model.fits["h264"]["bpp_range"]
    bpp = kbps * 1000 / (640 * 360 * 25.0)
    assert np.all(bpp >= lo * 0.999) and np.all(bpp <= hi * 1.001)


def test_model_mode_checks_each_shot_and_falls_back_with_a_warning(tiny_clip, tmp_path):
    """Shots whose features the model never saw, or whose probe misses it, make the title use hull probes."""
    from shotenc.allocators import AllocatorOptions
    from shotenc.pipeline import EncodeOptions, encode_title

    rows = synthetic_rows()  # a model trained on made-up numbers: real footage is not what it learnt
    model_file = tmp_path / "narrow.json"
    fit(rows, alphas=(1.0,)).save(model_file)
    options = AllocatorOptions(model_file=str(model_file), cache_dir=str(tmp_path / "cache"))
    opts = EncodeOptions(ladder="tiny", codecs=["h264"], mode="model", allocator_options=options)
    report = encode_title(tiny_clip, tmp_path / "out", opts).report
    assert report["plan"]["fallback"] == "hull"
    warning = report["plan"]["warnings"][0]
    assert "does not know" in warning and "planned with hull probes" in warning
    assert report["plan"]["calibration"]["probes"] == len(report["shots"])
