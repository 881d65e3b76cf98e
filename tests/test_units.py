"""Pure functions on plain data: shots, ladders, allocation, codec strings, playlists."""

from __future__ import annotations

from fractions import Fraction

import pytest

from shotenc.analyze import Analysis
from shotenc.codecs import _hevc, vp9_level
from shotenc.errors import ShotencError
from shotenc.features import ShotFeatures
from shotenc.ladder import Ladder, Rung, fit_to_source, load_ladder
from shotenc.manifest import media_playlist, target_duration
from shotenc.package import Rendition, Segment
from shotenc.plan import ComplexityAllocator
from shotenc.shots import ShotOptions, shots_from_cuts

FPS = Fraction(25)


def test_short_shots_merge_and_long_shots_split():
    options = ShotOptions(min_shot_s=1.0, max_segment_s=6.0, first_segment_s=0)  # no fast-start split here
    shots = shots_from_cuts([10, 100, 105, 400], 500, FPS, options)
    assert [s.start_frame for s in shots][0] == 0
    assert all(s.frame_count >= 25 for s in shots)
    assert all(s.duration_s <= 6.0 + 1e-9 for s in shots)
    assert sum(s.frame_count for s in shots) == 500
    assert [s.index for s in shots] == list(range(len(shots)))
    ends = [s.end_frame for s in shots]
    assert all(a.end_frame == b.start_frame for a, b in zip(shots, shots[1:], strict=False)) and ends[-1] == 500
    # 0..10 joins 10..100; 100..105 joins its shorter neighbour (0..100); 105..400 (11.8 s) splits in two
    starts = [s.start_frame for s in shots]
    assert starts == [0, 105, 253, 400]
    split = next(s for s in shots if s.start_frame == 253)
    assert not split.starts_at_cut


def test_no_cuts_one_shot_and_tiny_clip():
    assert len(shots_from_cuts([], 10, FPS, ShotOptions())) == 1
    assert shots_from_cuts([], 10, FPS, ShotOptions())[0].frame_count == 10


def _rung(codec="h264", height=360, kbps=800.0, rid=None):
    return Rung(rid or f"{codec}-{height}p", codec, height, kbps, kbps * 1.5, kbps * 3, "fast")


def test_fit_drops_rungs_above_source_and_keeps_aspect():
    ladder = Ladder("t", "", [_rung(height=360), _rung(height=720, kbps=3000), _rung(height=1080, kbps=5000)])
    rungs = fit_to_source(ladder, 1280, 720)
    assert [(r.width, r.height) for r in rungs] == [(640, 360), (1280, 720)]
    rungs = fit_to_source(ladder, 320, 240)  # smaller than every rung: the smallest, at source size
    assert [(r.width, r.height) for r in rungs] == [(320, 240)]
    assert rungs[0].bitrate_kbps < 800  # rates scaled down with the pixels
    # a letterboxed 640x272 source: 360p is dropped, and its place is taken at the source size
    rungs = fit_to_source(Ladder("t", "", [_rung(height=234, kbps=300), _rung(height=360, kbps=750)]), 640, 272)
    assert [(r.id, r.width, r.height) for r in rungs] == [("h264-234p", 550, 234), ("h264-272p", 640, 272)]
    assert 300 < rungs[1].bitrate_kbps < 750 and rungs[1].maxrate_kbps > rungs[1].bitrate_kbps
    with pytest.raises(ShotencError):
        fit_to_source(ladder, 640, 360, ["h266"])


def test_shipped_ladders_load():
    for name in ("default", "classic-h264", "tiny"):
        assert load_ladder(name).rungs
    assert {r.codec for r in load_ladder("default").rungs} == {"h264", "hevc", "vp9", "av1"}


def _analysis(complexities, durations):
    from shotenc.shots import Shot

    shots, start = [], 0
    for i, d in enumerate(durations):
        n = int(d * 25)
        shots.append(Shot(i, start, n, start / 25, n / 25, True))
        start += n
    feats = [ShotFeatures(0, 0, 0, 0, 0, 0, 0, 0, c) for c in complexities]
    return Analysis(media=None, shots=shots, features=feats, cuts=[], seconds=0)  # type: ignore[arg-type]


def test_complexity_allocation_keeps_rung_average_and_favours_hard_shots():
    a = _analysis([10, 40, 160, 20], [2, 4, 1, 3])
    plan = ComplexityAllocator().allocate(a, [_rung(kbps=1000), _rung("vp9", kbps=500)])
    for rung_id, target in (("h264-360p", 1000), ("vp9-360p", 500)):
        pts = plan.points[rung_id]
        avg = sum(p.value * s.duration_s for p, s in zip(pts, a.shots, strict=True)) / sum(
            s.duration_s for s in a.shots
        )
        assert avg == pytest.approx(target, rel=0.02)
        values = [p.value for p in pts]
        assert values[2] > values[1] > values[3] > values[0]
        assert all(p.value <= p.maxrate_kbps for p in pts)


def test_codec_strings():
    # HEVC Main, level 3.1 as x265 writes it: general_profile_compatibility 0x60000000 → "6"
    cfg = bytes([1, 0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 93])
    assert _hevc("hvc1", cfg) == "hvc1.1.6.L93.90"
    assert vp9_level(1920, 1080, 30) == 40
    assert vp9_level(320, 180, 25) == 11


def test_first_shot_is_split_for_a_fast_start():
    shots = shots_from_cuts([200], 400, FPS, ShotOptions(min_shot_s=1.0, max_segment_s=10.0, first_segment_s=2.0))
    assert [(s.start_frame, s.frame_count) for s in shots] == [(0, 50), (50, 150), (200, 200)]
    assert [s.starts_at_cut for s in shots] == [True, False, True]
    # a first shot of 2.5 s: the rest may not be shorter than min_shot, so the split moves earlier
    shots = shots_from_cuts([62], 300, FPS, ShotOptions(min_shot_s=1.0, first_segment_s=2.0))
    assert [s.frame_count for s in shots[:2]] == [37, 25]
    # already short, or switched off: untouched
    assert shots_from_cuts([40], 300, FPS, ShotOptions(first_segment_s=2.0))[0].frame_count == 40
    assert shots_from_cuts([200], 400, FPS, ShotOptions(max_segment_s=10.0, first_segment_s=0))[0].frame_count == 200


def test_hls_target_duration_covers_rounded_extinf():
    segs = [Segment(i + 1, 0, 0, 1000, 0.0, d) for i, d in enumerate([2.4, 6.0, 5.51, 1.0])]
    r = Rendition("x", "video", "h264", "avc1.64001e", 12800, segs, 700, 320, 180, "25")
    assert target_duration(r) == 6
    text = media_playlist(r)
    assert "#EXT-X-TARGETDURATION:6" in text and text.count("#EXTINF") == 4


def test_rate_feedback_corrects_an_undershooting_encoder():
    from shotenc.encode import Chunk, ChunkJob, SourceRef
    from shotenc.plan import RatePoint
    from shotenc.ratecontrol import RateFeedback

    src = SourceRef("x.mp4", "f", 25, 1, 320, 180, 0, False, "yuv420p")
    rung = _rung("h264", kbps=1000)
    jobs = [ChunkJob(src, i, i * 50, 50, rung, RatePoint("bitrate", 1000, 1500, 3000)) for i in range(6)]
    fb = RateFeedback()
    fb.expect(jobs)
    actual = []
    for job in jobs:  # an encoder that delivers 70% of what it is asked for
        job = fb.adjust(job)
        got_kbps = 0.7 * job.request_kbps
        actual.append(got_kbps)
        chunk = Chunk(
            rung.id, job.shot_index, "p", int(got_kbps * 1000 * job.seconds / 8), "", 50, 0, False, job.request_kbps
        )
        fb.record(job, chunk)
    assert actual[0] == pytest.approx(700, rel=0.01)  # nothing known yet for h264
    assert sum(actual) / len(actual) > 900  # later chunks ask for more and the rung gets close to target
    assert all(j <= 1500 for j in actual)
