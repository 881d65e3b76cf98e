"""The default allocator: one capped CRF per rung, from rate probes; its rungs land on their targets."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from shotenc.allocators.constant_quality import ConstantQualityAllocator, needs_probe, probe_size, second_crf
from shotenc.allocators.equal_slope import buffer_room, equal_slope_crfs, first_drain, rung_crfs
from shotenc.allocators.probes import ProbeResult, probe_window
from shotenc.allocators.shot_curves import QualityModel, RateModel, borrowed_quality, lent_whole, rate_model
from shotenc.ladder import Rung, fit_to_source, load_ladder
from shotenc.pipeline import EncodeOptions, encode_title


def _rung(kbps: float, maxrate: float = 0.0, codec: str = "h264") -> Rung:
    return Rung(f"{codec}-180p", codec, 180, kbps, maxrate or kbps * 1.5, 2 * (maxrate or kbps * 1.5), "fast", 320)


def _probe(crf: float, kbps: float, width: int = 320, height: int = 180, codec: str = "h264") -> ProbeResult:
    nan = math.nan
    return ProbeResult(0, codec, "fast", width, height, crf, kbps, nan, nan, nan, nan, 10, 0.1, 0.0)


def _mean(models, crfs, durations, rung) -> float:
    px = rung.width * rung.height
    return sum(m.rate(px, c) * d for m, c, d in zip(models, crfs, durations, strict=True)) / sum(durations)


def _lowest_buffer(models, crfs, durations, rung) -> float:
    """The least a leaky bucket (filled at maxrate, starting 90% full) holds after any shot, kbit."""
    level, lowest = 0.9 * rung.bufsize_kbps, math.inf
    for m, c, d in zip(models, crfs, durations, strict=True):
        level = min(rung.bufsize_kbps, level + (rung.maxrate_kbps - m.rate(rung.width * rung.height, c)) * d)
        lowest = min(lowest, level)
    return lowest


def test_the_rate_model_follows_its_probes_in_crf_and_size():
    whole = [_probe(27, 100.0, 160, 90)]  # the whole shot at the probe size: its rate
    # a window of it: at the probe size its rate halves in 8 CRF; 4x the pixels, 4x the rate (exponent 1);
    # the window's own rates (80, not 100) only ever meet the same window's
    windows = [_probe(27, 80.0, 160, 90), _probe(35, 40.0, 160, 90), _probe(27, 320.0)]
    m = rate_model(whole, windows, "h264", 27.0)
    assert m.halving == 8.0 and m.exponent == 1.0
    assert m.rate(160 * 90, 27) == 100.0
    assert math.isclose(m.rate(160 * 90, 35), 50.0) and math.isclose(m.rate(320 * 180, 27), 400.0)


def test_grain_that_only_the_larger_picture_codes_keeps_its_measured_growth():
    # grain_dark's first shot, x264 at CRF 23: 117 kbit/s at 416x234, 1,415 at 640x360 (a downscale
    # averages the grain away; at full size x264 codes it): an exponent of 2.9, measured like for like.
    # Held to 2.0, the plan put the 360p rung's two grain shots at 790 kbit/s; they took 1,410 and 1,640.
    whole = [_probe(23, 131.3, 416, 234)]
    windows = [_probe(23, 117.3, 416, 234), _probe(23, 1414.6, 640, 360)]
    m = rate_model(whole, windows, "h264", 23.0)
    assert math.isclose(m.rate(640 * 360, 23), 131.3 * 1414.6 / 117.3, rel_tol=1e-6)


def test_a_steep_shot_is_rated_at_the_large_size_where_it_is_planned():
    # probed at CRF 24 and 38 (AV1, half a halving is 6), rated at the large size at 38 only
    assert not needs_probe(42.0, {24.0, 38.0}, {38.0}, 0.9, 6.0)  # an ordinary exponent: near enough
    assert needs_probe(42.0, {24.0, 38.0}, {38.0}, 2.5, 6.0)  # grain coded only at the large size
    assert not needs_probe(43.0, {24.0, 38.0, 42.0}, {38.0, 42.0}, 2.5, 6.0)  # rated there already
    assert needs_probe(31.0, {24.0, 38.0}, set(), 0.9, 3.0)  # far from every probed CRF


def test_windows_are_probed_where_the_whole_shots_rates_put_the_rungs():
    # two shots at 600 kbit/s whole at CRF 27: a 300 kbit/s rung lands a halving above, at 33, and a
    # 1200 kbit/s rung a halving below, at 21 -- a 150 kbit/s one two halvings above, at 39
    models = [rate_model([_probe(27, 600.0)], [], "h264", 27.0)] * 2
    assert second_crf("h264", 27.0, models, [2.0, 2.0], [_rung(1200.0)]) == 21.0
    assert second_crf("h264", 27.0, models, [2.0, 2.0], [_rung(150.0)]) == 39.0
    # both rungs together land on average at 27 itself: the second CRF is then a halving off it
    assert second_crf("h264", 27.0, models, [2.0, 2.0], [_rung(1200.0), _rung(300.0)]) == 33.0
    # on the refinement grid (half a halving): at 2 ** (2 / 6) the rate the rung lands at 25, probed at 24
    assert second_crf("h264", 27.0, models, [2.0, 2.0], [_rung(600.0 * 2 ** (2 / 6))]) == 24.0


def test_shots_are_probed_whole_at_a_quarter_of_the_smallest_rungs_pixels():
    assert probe_size(_rung(500.0)) == (320, 180)  # 180 lines: halved it would fall under 144
    big = Rung("h264-720p", "h264", 720, 3000, 4500, 9000, "fast", 1280)
    assert probe_size(big) == (640, 360)


def test_one_crf_per_rung_dithered_to_spend_the_target():
    models = [RateModel(27, 320 * 180, k, 0.75, 6.0) for k in (100.0, 300.0, 800.0)]
    durations = [2.0, 3.0, 1.0]
    rung = _rung(500.0, maxrate=2000.0)
    crfs = rung_crfs(models, durations, rung)
    assert max(crfs) - min(crfs) <= 0.5  # one CRF, or two neighbouring steps
    spent = _mean(models, crfs, durations, rung)
    assert spent <= 500.0 and spent > 500.0 * 2 ** (-0.5 / 6)  # within one CRF step under the target
    # the same CRF for shots of different difficulty: the hard shot gets the bits
    rates = [m.rate(320 * 180, c) for m, c in zip(models, crfs, strict=True)]
    assert rates[2] > rates[1] > rates[0]


def test_a_hard_shot_after_easy_ones_gets_the_burst_the_buffer_holds():
    """Like a 2-pass encode's VBV: a hard shot may spend over maxrate what easy shots left in the buffer."""
    models = [RateModel(27, 320 * 180, k, 0.75, 6.0) for k in (50.0, 3000.0)]
    rung = _rung(300.0, maxrate=450.0)
    crfs = rung_crfs(models, [2.0, 2.0], rung)
    assert crfs[1] > crfs[0]  # the hard shot is held back ...
    hard = models[1].rate(320 * 180, crfs[1])
    assert hard > 450.0  # ... but not to the cap: the buffer (900 kbit) pays for a burst
    assert _lowest_buffer(models, crfs, [2.0, 2.0], rung) >= 0.0


def test_a_run_of_hard_shots_never_drains_the_buffer():
    models = [RateModel(27, 320 * 180, k, 0.75, 6.0) for k in (3000.0, 2500.0, 4000.0, 100.0, 3500.0, 3000.0)]
    durations = [1.0, 3.0, 0.5, 2.0, 4.0, 1.5]
    rung = _rung(300.0, maxrate=450.0)
    crfs = rung_crfs(models, durations, rung)
    assert _lowest_buffer(models, crfs, durations, rung) >= 0.0
    assert _mean(models, crfs, durations, rung) <= 300.0


def _lookahead_ladder(path: Path) -> Path:
    """The tiny ladder with x264 at a preset that looks ahead (the proxy then lends whole-shot rates)."""
    rungs = fit_to_source(load_ladder("tiny"), 320, 180)
    path.write_text(
        'name = "tiny-lookahead"\n'
        + "".join(
            f'[[rung]]\ncodec = "{r.codec}"\nheight = {r.height}\nbitrate_kbps = {r.bitrate_kbps}\n'
            f'preset = "{"veryfast" if r.codec == "h264" else r.preset}"\n'
            for r in rungs
        )
    )
    return path


@pytest.fixture(scope="module")
def lookahead_encode(tiny_clip, tmp_path_factory):
    """The tiny clip encoded with the tiny ladder, x264 at veryfast: the others' whole shots are lent."""
    tmp = tmp_path_factory.mktemp("lookahead")
    return encode_title(tiny_clip, tmp / "title", EncodeOptions(ladder=str(_lookahead_ladder(tmp / "l.toml")), jobs=2))


@pytest.mark.parametrize("encoded", ["tiny_encode", "lookahead_encode"])
def test_default_rungs_land_on_their_plans_and_under_their_targets(encoded, request):
    """The published tiny ladder (default mode), and the same with x264 at a preset that looks ahead: every
    rung's average within 5% of what its plan predicted, and never more than 5% over its target (the plan
    may stay under a target where more bits would buy almost no VMAF); every rendition, its chunks joined
    as a player gets them, keeps its rung's VBV buffer -- VP9's too, whose encoder holds none."""
    result = request.getfixturevalue(encoded)
    assert result.report["allocator"] == "crf"
    video = [r for r in result.report["renditions"] if r["kind"] == "video"]
    to_plan = {r["id"]: r["avg_kbps"] / r["planned_kbps"] - 1 for r in video}
    assert len(to_plan) >= 4 and all(abs(e) <= 0.05 for e in to_plan.values()), to_plan
    assert all(r["target_error"] <= 0.05 and r["planned_kbps"] <= r["target_kbps"] * 1.01 for r in video)
    assert all(r["vbv_lowest"] >= 0.0 for r in video), {r["id"]: r["vbv_lowest"] for r in video}


def test_a_short_shots_window_is_the_whole_shot():
    """A shot barely longer than a window is probed whole everywhere: rate, slope and exponent from the same probes."""
    probes = [_probe(27, 100.0, 160, 90), _probe(35, 50.0, 160, 90), _probe(27, 400.0)]
    m = rate_model(probes, probes, "h264", 27.0)
    assert (m.pixels, m.kbps, m.halving, m.exponent) == (160 * 90, 100.0, 8.0, 1.0)


def test_a_codec_is_lent_what_the_proxys_window_misjudged_of_its_whole_shot():
    """x264's window of a 30-frame shot ran at 100 kbit/s, its whole shot at 120: HEVC's window at 60 lends
    HEVC's whole shot 72 -- at the probed size and CRFs only; without the proxy's two, nothing is lent."""
    proxy = [replace(_probe(27, 120.0), frames=30), _probe(27, 100.0), replace(_probe(27, 400.0, 640, 360))]
    hevc = [_probe(29, 60.0, codec="hevc"), _probe(35, 30.0, codec="hevc")]
    (lent,) = lent_whole(hevc, proxy, 29.0, 27.0, 30)
    assert (lent.codec, lent.crf, lent.frames, lent.width) == ("hevc", 29.0, 30, 320)
    assert lent.kbps == pytest.approx(72.0)
    assert lent_whole(hevc, proxy[1:], 29.0, 27.0, 30)[0].kbps == pytest.approx(60.0)
    assert lent_whole(hevc, proxy, 24.0, 27.0, 30) == []


@pytest.mark.parametrize("preset", ["veryfast", "ultrafast"])
def test_only_a_proxy_that_looks_ahead_encodes_the_whole_shots(preset, q_analysis, tmp_path):
    """With x264 at a preset that looks ahead, only x264 (and AV1, whose own error is biased) encodes whole
    shots (its window's error is the others'); at ultrafast, which does not, every codec encodes its own."""
    tiny = fit_to_source(load_ladder("tiny"), 320, 180)
    rungs = [replace(r, preset=preset) if r.codec == "h264" else r for r in tiny]
    alloc = ConstantQualityAllocator(work_dir=tmp_path)
    plan = alloc.allocate(q_analysis, rungs)
    assert plan.details["probes"]["whole_shots_by"] == ("h264" if preset == "veryfast" else "each codec")
    fps = float(q_analysis.media.fps)
    long = {s.index: s.frame_count for s in q_analysis.shots if probe_window(s, fps, 0.64, 0.34)[1] < s.frame_count}
    assert long
    whole = {r.codec for r in alloc.last_probes.results if long.get(r.shot) == r.frames}
    assert whole == ({"h264", "av1"} if preset == "veryfast" else {"h264", "hevc", "vp9", "av1"})


def test_a_codec_scored_small_borrows_how_vmaf_grows_with_the_picture_from_the_proxy():
    """VP9 spends half x264's bits for the same VMAF at the small size: at the large size its VMAF at a CRF
    is x264's at twice VP9's rate there -- not x264's at VP9's rate, nor at the same CRF."""
    small, large = 160 * 90, 320 * 180
    proxy_rate = RateModel(27.0, small, 100.0, 0.75, 6.0)  # x264: 100 kbit/s at CRF 27, halving in 6 CRF
    proxy = QualityModel(
        ((small, ((17.0, 90.0), (27.0, 80.0), (37.0, 60.0))), (large, ((17.0, 97.0), (27.0, 90.0), (37.0, 75.0))))
    )
    rate = RateModel(38.0, small, 50.0, 0.75, 12.0)  # VP9: half x264's rate at CRF 27 at VP9's 38
    # at the small size, VP9's VMAF at CRF c is x264's where x264 spends twice VP9's rate: its CRF 27 + (c - 38) / 2
    own_points = tuple((c, float(proxy.vmafs(small, np.array([27 + (c - 38) / 2]))[0])) for c in (26.0, 38.0, 50.0))
    lent = borrowed_quality(QualityModel(((small, own_points),)), rate, "vp9", proxy_rate, proxy, "h264", large)
    crfs = np.arange(26.0, 50.5, 2.0)
    assert lent.vmafs(small, crfs) == pytest.approx(QualityModel(((small, own_points),)).vmafs(small, crfs))
    assert lent.vmafs(large, crfs) == pytest.approx(proxy.vmafs(large, 27 + (crfs - 38) / 2), abs=0.3)


def test_only_the_proxy_is_scored_at_the_largest_size(q_analysis, tmp_path):
    """A ladder of several codecs: x264 is scored at the smallest and largest sizes; the others at the
    smallest only (their rate measured at the largest), and their rungs still chosen by equal VMAF slope."""
    rungs = fit_to_source(load_ladder("tiny"), q_analysis.media.width, q_analysis.media.height)
    alloc = ConstantQualityAllocator(work_dir=tmp_path)  # (its own cache: other tests count new probes)
    plan = alloc.allocate(q_analysis, rungs)
    small, large = min(r.width * r.height for r in rungs), max(r.width * r.height for r in rungs)
    scored: dict[str, set[int]] = {}
    for r in alloc.last_probes.results:
        if math.isfinite(r.vmaf):
            scored.setdefault(r.codec, set()).add(r.width * r.height)
    assert scored == {"h264": {small, large}, "hevc": {small}, "vp9": {small}, "av1": {small}}
    assert {r.width * r.height for r in alloc.last_probes.results} == {small, large}
    assert all("predicted_vmaf" in c for c in plan.details["rungs"])


def test_a_codec_rated_at_the_largest_size_is_rated_there_at_every_crf_it_is_refined_at(q_analysis, tmp_path):
    """Two HEVC rungs far apart (40 kbit/s at 108p, 1.5 Mbit/s at 180p): the plan refines the windows far
    from the probed CRFs, and HEVC's rate at the largest size (not scored: the proxy lends its VMAF) is
    measured at each refined CRF too -- its size exponent follows the CRF."""
    rungs = [
        Rung("hevc-108p", "hevc", 108, 40, 60, 120, "faster", 192),
        Rung("hevc-180p", "hevc", 180, 1500, 2250, 4500, "faster", 320),
    ]
    alloc = ConstantQualityAllocator(work_dir=tmp_path)
    alloc.allocate(q_analysis, rungs)
    frames = {s.index: s.frame_count for s in q_analysis.shots}
    for shot in q_analysis.shots:
        mine = [r for r in alloc.last_probes.results if r.codec == "hevc" and r.shot == shot.index]
        small = {r.crf for r in mine if r.width == 192 and r.frames != frames[shot.index]}
        large = {r.crf for r in mine if r.width == 320}
        assert len(small) > 2  # refined beyond the reference and the second CRF
        assert len(small - large) == 1, (small, large)  # only the second CRF is not rated at 180p


def _linear_quality(vmaf_at_27: float, per_crf: float, pixels: int = 320 * 180) -> QualityModel:
    return QualityModel(((pixels, ((27.0, vmaf_at_27), (33.0, vmaf_at_27 - 6 * per_crf))),))


def test_the_quality_model_interpolates_and_bends_toward_its_ceiling():
    q = QualityModel(
        ((160 * 90, ((21.0, 80.0), (27.0, 70.0), (33.0, 72.0))), (320 * 180, ((27.0, 90.0), (33.0, 84.0)))),
        least_slope=1.5,
    )
    small, large = 160 * 90, 320 * 180
    assert q.vmafs(small, np.array([24.0]))[0] == pytest.approx(75.0)
    assert q.vmafs(small, np.array([33.0]))[0] == pytest.approx(70.0)  # VMAF does not rise with CRF
    assert q.vmafs(small, np.array([15.0]))[0] == pytest.approx(80.0 + 0.5 * 10 / 6 * 6)  # half the slope
    assert q.vmafs(small, np.array([37.0]))[0] == pytest.approx(70.0 - 1.5 * 4)  # a plateau ends
    assert q.vmafs(large, np.array([15.0]))[0] == pytest.approx(96.0)
    assert q.vmafs(large, np.array([0.0]))[0] == 100.0  # (held at VMAF's ceiling)
    # between sizes, in log-pixels: 320x180 is half way (in log) between 160x90 and 640x360
    q2 = QualityModel(((160 * 90, ((27.0, 60.0),)), (640 * 360, ((27.0, 90.0),))))
    assert q2.vmafs(320 * 180, np.array([27.0]))[0] == pytest.approx(75.0)


def test_equal_slope_gives_the_bits_where_vmaf_gains_most():
    models = [RateModel(27, 320 * 180, 200.0, 0.75, 6.0) for _ in range(2)]
    qualities = [_linear_quality(95.0, 0.2), _linear_quality(60.0, 3.0)]  # near its ceiling / steep
    rung = _rung(400.0, maxrate=4000.0)
    crfs = equal_slope_crfs(models, qualities, [1.0, 1.0], rung)
    assert crfs[1] < crfs[0] - 6  # the steep shot gets more than twice the rate
    assert _mean(models, crfs, [1.0, 1.0], rung) <= 400.0
    # one CRF for both (the unweighted plan) would score lower on the same predictions
    flat = rung_crfs(models, [1.0, 1.0], rung)
    px = rung.width * rung.height

    def mean_vmaf(cs):
        return sum(q.vmafs(px, np.array([c]))[0] for q, c in zip(qualities, cs, strict=True)) / 2

    assert mean_vmaf(crfs) > mean_vmaf(flat) + 1.0


def test_bits_that_buy_nothing_are_not_spent():
    models = [RateModel(27, 320 * 180, 400.0, 0.75, 6.0)]
    saturated = [QualityModel(((320 * 180, ((10.0, 99.9), (27.0, 99.8), (33.0, 99.5))),))]
    rung = _rung(2000.0, maxrate=3000.0)
    crfs = equal_slope_crfs(models, saturated, [1.0], rung)
    assert models[0].rate(320 * 180, crfs[0]) < 0.5 * 2000.0  # far under the target: more would buy nothing


def test_a_run_of_hard_shots_shares_what_the_buffer_does_not_hold():
    """Two equally hard shots in a row over the buffer: both give up some, not only the second."""
    models = [RateModel(27, 320 * 180, k, 0.75, 6.0) for k in (50.0, 1500.0, 1500.0)]
    qualities = [_linear_quality(95.0, 0.3), _linear_quality(60.0, 2.0), _linear_quality(60.0, 2.0)]
    durations = [2.0, 2.0, 2.0]
    rung = _rung(600.0, maxrate=600.0)  # the budget would give each ~850 kbit/s: the buffer holds less
    crfs = equal_slope_crfs(models, qualities, durations, rung)
    assert abs(crfs[1] - crfs[2]) <= 1.0
    assert _lowest_buffer(models, crfs, durations, rung) >= 0.0


def test_a_shot_beside_a_capped_one_keeps_what_refills_the_buffer():
    """An easy shot fills the buffer, a hard one after the middle shot needs all of it. The middle shot,
    held with the hard one at one slope, would be starved for nothing: under maxrate it takes nothing
    from the buffer (a full buffer loses what overflows). The budget is not what binds here."""
    models = [RateModel(27, 320 * 180, k, 0.75, 6.0) for k in (50.0, 700.0, 2000.0)]
    qualities = [_linear_quality(97.0, 0.1), _linear_quality(85.0, 1.0), _linear_quality(75.0, 2.5)]
    durations = [6.0, 2.0, 3.0]
    rung = _rung(900.0, maxrate=600.0)
    crfs = equal_slope_crfs(models, qualities, durations, rung)
    assert models[1].rate(320 * 180, crfs[1]) >= 0.9 * 600.0  # (one slope for both: 350 kbit/s)
    assert _lowest_buffer(models, crfs, durations, rung) >= 0.0
    assert _mean(models, crfs, durations, rung) <= 900.0


def test_the_room_a_shot_has_is_what_it_can_add_before_some_shot_drains_the_buffer():
    """Checked against the bucket itself on random runs: a shot's extra bits lower the buffer for the
    shots after it only until the buffer would have overflowed."""
    rng = np.random.default_rng(7)
    for _ in range(50):
        n = int(rng.integers(2, 8))
        rates = rng.uniform(50.0, 1500.0, (n, 1))
        durations = rng.uniform(0.5, 4.0, n)
        steps = np.zeros(n, dtype=int)
        room = buffer_room(rates, durations, steps, 600.0, 1200.0, 1080.0)
        if first_drain(rates, durations, steps, 600.0, 1200.0, 1080.0)[0] is not None:
            assert room.min() < 0
            continue
        for j in range(n):
            for extra, drains in ((room[j] * 0.999, False), (room[j] * 1.001 + 1e-6, True)):
                more = rates.copy()
                more[j] += extra / durations[j]
                assert (first_drain(more, durations, steps, 600.0, 1200.0, 1080.0)[0] is not None) == drains


def test_no_shot_is_left_more_than_the_floor_gap_under_the_rungs_mean():
    """Maximising the mean would leave the expensive shot 18 VMAF under the cheap one; the floor (as in
    hull mode) lifts it to within the gap of the mean, in the same budget."""
    models = [RateModel(27, 320 * 180, k, 0.75, 6.0) for k in (100.0, 1000.0)]
    qualities = [_linear_quality(90.0, 1.0), _linear_quality(70.0, 3.0)]
    rung = _rung(1500.0, maxrate=15000.0)
    crfs = equal_slope_crfs(models, qualities, [1.0, 1.0], rung)
    px = rung.width * rung.height
    got = [q.vmafs(px, np.array([c]))[0] for q, c in zip(qualities, crfs, strict=True)]
    assert min(got) >= sum(got) / 2 - 6.0 - 0.75  # (within a CRF step of the gap)
    assert _mean(models, crfs, [1.0, 1.0], rung) <= 1500.0


def test_no_shot_is_left_under_the_worst_shot_of_one_crf_for_the_rung():
    """A hard shot whose VMAF barely moves with its rate: maximising the mean gives its bits to the cheap
    shot until that one is at VMAF's ceiling, and the gap floor cannot be paid for. It still keeps what one
    CRF for both shots (near what a 2-pass encode does) would give it."""
    models = [RateModel(27, 320 * 180, k, 0.75, 6.0) for k in (100.0, 1000.0)]
    qualities = [_linear_quality(90.0, 2.0), _linear_quality(70.0, 0.5)]
    rung = _rung(550.0, maxrate=15000.0)
    crfs = equal_slope_crfs(models, qualities, [1.0, 1.0], rung)
    px = rung.width * rung.height
    one_crf = rung_crfs(models, [1.0, 1.0], rung)
    assert one_crf == [27.0, 27.0]
    # (within a CRF step of it: the guard is one CRF at what the plan spends, a step's rounding under 550)
    assert qualities[1].vmafs(px, np.array([crfs[1]]))[0] >= 70.0 - 0.5 * 0.5
    assert _mean(models, crfs, [1.0, 1.0], rung) <= 550.0


def test_a_shots_local_halving_follows_its_probed_curve():
    """Grain: the window's rate falls four-fold from CRF 27 to 30 (1.5 steps a halving) and the typical
    6 steps a halving past it; the feedback's step for the chunk follows the curve where the CRF sits."""
    whole = [_probe(27, 400.0, 160, 90)]
    windows = [_probe(21, 1600.0, 160, 90), _probe(27, 400.0, 160, 90), _probe(30, 100.0, 160, 90)]
    m = rate_model(whole, windows, "h264", 27.0)
    assert m.local_halving(160 * 90, 28.5) == pytest.approx(1.5)
    assert m.local_halving(160 * 90, 24.0) == pytest.approx(3.0)
