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
