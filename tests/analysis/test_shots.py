"""Shots from cuts (merge, split) on plain data, and the cuts PySceneDetect finds in real footage."""

from __future__ import annotations

from fractions import Fraction

from shotenc.analysis.analyze import analyze
from shotenc.analysis.shots import ShotOptions, shots_from_cuts
from shotenc.media.probe import probe

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


def test_the_cuts_of_the_fixtures_are_found_where_they_are(tiny_clip, sample):
    """The bundled sample has cuts at frames 30, 76, 137, 187, 242 and 250 (242-250: a flash, merged)."""
    tiny = analyze(probe(tiny_clip))
    assert tiny.cuts == [46] and [s.start_frame for s in tiny.shots] == [0, 21, 46]  # the first split at 0.84 s
    full = analyze(probe(sample))
    assert full.cuts == [30, 76, 137, 187, 242, 250]
    assert [s.start_frame for s in full.shots] == [0, 30, 76, 137, 187, 250]
    assert all(s.starts_at_cut for s in full.shots[1:])


def test_no_shot_is_shorter_than_three_frames_at_a_low_frame_rate():
    """At 1 fps a second is one frame: one-frame shots made chunks whose timestamps could not be joined
    (an encoder that reorders frames starts a chunk of three or more two frames early, a shorter one not)."""
    one = Fraction(1)
    shots = shots_from_cuts([1, 2, 5, 7, 11], 20, one, ShotOptions())
    assert all(s.frame_count >= 3 for s in shots) and sum(s.frame_count for s in shots) == 20
    # the fast-start split: 1.5 s is one frame, three are kept
    assert [s.frame_count for s in shots_from_cuts([], 12, one, ShotOptions())] == [3, 4, 5]
    shots = shots_from_cuts([], 40, Fraction(1, 2), ShotOptions(max_segment_s=6.0))  # 0.5 fps: 6 s = 3 frames
    assert all(s.frame_count >= 3 for s in shots) and sum(s.frame_count for s in shots) == 40
    assert shots_from_cuts([], 2, one, ShotOptions())[0].frame_count == 2  # a title that short is one chunk
