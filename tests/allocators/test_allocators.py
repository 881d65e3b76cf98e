"""The optimizers on a real clip: probes are cached, plans meet their targets when encoded."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from shotenc.allocators.hull import HullAllocator
from shotenc.allocators.model import ModelAllocator
from shotenc.allocators.probes import ProbeSettings
from shotenc.allocators.rate_quality import RateQualityModel
from shotenc.allocators.target_quality import TargetQualityAllocator
from shotenc.encode.chunk import encode_chunk
from shotenc.encode.run import chunk_jobs
from shotenc.ladder import fit_to_source, load_ladder
from shotenc.quality.metrics import score


@pytest.fixture(scope="module")
def h264_rungs(q_media):
    return fit_to_source(load_ladder("tiny"), q_media.width, q_media.height, ["h264"])


def encode_plan(analysis, plan, work):
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(lambda j: encode_chunk(j, str(work)), chunk_jobs(analysis, plan, 1)))


def test_hull_plan_meets_the_rung_bitrate_and_reuses_its_probes(q_analysis, h264_rungs, probe_cache, tmp_path):
    alloc = HullAllocator(work_dir=probe_cache, settings=ProbeSettings(jobs=2))
    plan = alloc.allocate(q_analysis, h264_rungs)
    assert plan.details["probes"]["new"] == plan.details["probes"]["count"] > 0
    n_shots = len(q_analysis.shots)
    for rung in plan.rungs:
        points = plan.points[rung.id]
        assert len(points) == n_shots
        assert all(p.kind == "crf" and p.maxrate_kbps == rung.maxrate_kbps for p in points)
    choice = {c["rung"]: c for c in plan.details["rungs"]}
    for rung in h264_rungs:
        assert choice[rung.id]["predicted_kbps"] <= rung.bitrate_kbps + 1e-6
    # probes are cached on disk: planning again encodes nothing and decides the same
    again = HullAllocator(work_dir=probe_cache, settings=ProbeSettings(jobs=2)).allocate(q_analysis, h264_rungs)
    assert again.details["probes"]["new"] == 0
    assert again.points == plan.points
    # encoded for real, each rung lands near its average bitrate
    chunks = encode_plan(q_analysis, plan, tmp_path)
    duration = q_analysis.media.frame_count / float(q_analysis.media.fps)
    for rung in plan.rungs:
        kbps = sum(c.bytes for c in chunks if c.rung_id == rung.id) * 8 / duration / 1000
        assert 0.6 * rung.bitrate_kbps < kbps < 1.35 * rung.bitrate_kbps, (rung.id, kbps)


def test_hull_auto_ladder_chooses_sizes_from_the_hulls(q_analysis, h264_rungs, probe_cache):
    plan = HullAllocator(work_dir=probe_cache, settings=ProbeSettings(jobs=2), auto_ladder=True).allocate(
        q_analysis, h264_rungs
    )
    probed = set(plan.details["hulls"]["h264"])
    assert len(probed) > len(h264_rungs)  # more sizes than the fixed ladder's
    for rung, choice in zip(plan.rungs, plan.details["rungs"], strict=True):
        assert f"{rung.width}x{rung.height}" in probed
        assert [rung.width, rung.height] == choice["size"]
    assert len({r.id for r in plan.rungs}) == len(plan.rungs)


def test_target_quality_reaches_its_vmaf(q_analysis, h264_rungs, probe_cache, tmp_path):
    top = [max(h264_rungs, key=lambda r: r.bitrate_kbps)]
    alloc = TargetQualityAllocator(88.0, probe_cache, ProbeSettings(jobs=2, window_fraction=1.0))
    plan = alloc.allocate(q_analysis, top)
    for row in plan.details["shots"][top[0].id]:
        assert 1 <= len(row["probes"]) <= 4
    chunks = encode_plan(q_analysis, plan, tmp_path)
    media = q_analysis.media
    for c in chunks:
        shot = q_analysis.shots[c.shot_index]
        vmaf = score(c.path, media, shot.start_frame, shot.frame_count, threads=2).vmaf
        assert vmaf == pytest.approx(88.0, abs=3.0), (c.shot_index, plan.points[top[0].id][c.shot_index], vmaf)


def test_model_mode_checks_its_curves_with_one_probe_per_shot(q_analysis, h264_rungs, tmp_path):
    model = RateQualityModel.load()
    h264_rungs = [replace(r, preset=model.fits["h264"]["preset"]) for r in h264_rungs]
    plan = ModelAllocator(model=model, work_dir=tmp_path / "cache").allocate(q_analysis, h264_rungs)
    calibration = plan.details["calibration"]
    assert calibration["probes"] == len(q_analysis.shots)  # one real probe per shot, no more
    assert "fallback" not in plan.details, calibration  # footage like the model's own: its curves are used
    assert plan.details["model"]["preset_mismatch"] == []
    assert all(1 / 2 <= f <= 2 for f in calibration["rate_factor"]["h264"])
    choice = {c["rung"]: c for c in plan.details["rungs"]}
    for rung in h264_rungs:
        assert choice[rung.id]["predicted_kbps"] <= rung.bitrate_kbps + 1e-6
    # encoded for real, the calibrated rates are in the right range
    chunks = encode_plan(q_analysis, plan, tmp_path / "enc")
    duration = q_analysis.media.frame_count / float(q_analysis.media.fps)
    for rung in plan.rungs:
        kbps = sum(c.bytes for c in chunks if c.rung_id == rung.id) * 8 / duration / 1000
        assert 0.7 * rung.bitrate_kbps < kbps < 1.3 * rung.bitrate_kbps, (rung.id, kbps)


def test_model_mode_with_another_preset_is_caught_by_its_probes(q_analysis, h264_rungs, tmp_path):
    """The tiny ladder's ultrafast preset is not the model's: the plan says so, and the probes measure it."""
    plan = ModelAllocator(model=RateQualityModel.load(), work_dir=tmp_path / "cache").allocate(q_analysis, h264_rungs)
    factors = plan.details["calibration"]["rate_factor"]["h264"]
    assert plan.details.get("fallback") == "hull" or plan.details["model"]["preset_mismatch"], factors
