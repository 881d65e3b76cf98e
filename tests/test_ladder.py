"""Ladders: the shipped ones load; fitting to a source drops, keeps and adds rungs as documented."""

from __future__ import annotations

import pytest

from shotenc import codecs
from shotenc.codecs import RatePoint
from shotenc.errors import ShotencError
from shotenc.ladder import Ladder, Rung, check_options, fit_to_source, load_ladder


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


def test_a_portrait_source_gets_the_rungs_upright():
    """A rung's height names its short side: a phone's 1080x1920 gets 360p as 360x640 at the 360p rate
    (before: 202x360 at that rate, and a 640p rung added at the source size)."""
    ladder = Ladder("t", "", [_rung(height=360), _rung(height=720, kbps=3000), _rung(height=1080, kbps=5000)])
    rungs = fit_to_source(ladder, 1080, 1920)
    assert [(r.id, r.width, r.height, r.bitrate_kbps) for r in rungs] == [
        ("h264-360p", 360, 640, 800.0),
        ("h264-720p", 720, 1280, 3000.0),
        ("h264-1080p", 1080, 1920, 5000.0),
    ]
    rungs = fit_to_source(ladder, 272, 640)  # a tall, narrow source under every rung: one at its size
    assert [(r.id, r.width, r.height) for r in rungs] == [("h264-272p", 272, 640)]
    assert [(r.width, r.height) for r in fit_to_source(ladder, 640, 640)] == [(360, 360), (640, 640)]


def test_shipped_ladders_load():
    for name in ("default", "classic-h264", "tiny"):
        assert load_ladder(name).rungs
    assert {r.codec for r in load_ladder("default").rungs} == {"h264", "hevc", "vp9", "av1"}


@pytest.mark.parametrize(
    "extra, says",
    [
        ("maxrate_kbps = 300", "maxrate_kbps must be at least bitrate_kbps"),
        ("bufsize_kbps = 0", "bufsize_kbps above 0"),
        ('preset = "turbo"', "h264 has no preset 'turbo'"),
        ("maxrate = 900", "unknown key 'maxrate'"),  # a misspelt key was ignored: the rung got 1.5x its bitrate
        # these moved keyframes off the segment boundaries or replaced the rung's rates
        ('options = { g = "250" }', "option 'g' is shotenc's own"),
        ('options = { "-maxrate" = "2M" }', "option 'maxrate' is shotenc's own"),
        ('options = "film"', "options must be a table"),
        # read as something else before: "900" as 900, nan as a buffer that never fills, 640.5 as 640
        ("width = 640.5", "width must be a whole number, not 640.5"),
        ('maxrate_kbps = "900"', "maxrate_kbps must be a number, not '900'"),
        ("bufsize_kbps = nan", "bufsize_kbps must be a number, not nan"),
    ],
)
def test_a_rung_that_cannot_mean_what_it_says_is_refused_before_any_work(extra, says, tmp_path):
    """Before: each of these loaded; the preset failed mid-run in the probes, the others encoded otherwise
    than written."""
    f = tmp_path / "mine.toml"
    f.write_text(f'[[rung]]\ncodec = "h264"\nheight = 360\nbitrate_kbps = 500\n{extra}\n')
    with pytest.raises(ShotencError, match=says):
        load_ladder(str(f))
    # each codec's own preset names, and a cap equal to the average, are fine
    f.write_text(
        '[[rung]]\ncodec = "vp9"\nheight = 360\nbitrate_kbps = 500\npreset = "-2"\n[[rung]]\ncodec = "av1"\n'
        'height = 360\nbitrate_kbps = 500\npreset = "13"\nmaxrate_kbps = 500\n'
    )
    assert [(r.preset, r.maxrate_kbps) for r in load_ladder(str(f)).rungs] == [("-2", 750), ("13", 500)]


def test_a_rungs_encoder_params_join_shotencs_own_which_win():
    """A rung's ``x264-params`` was passed as a second -x264-params, which FFmpeg takes instead of the first:
    shotenc's open-gop=0:scenecut=0 (keyframes on the segment boundaries only) were lost."""
    rate = RatePoint("crf", 23, 900, 1800)
    for codec, flag, ours in (("h264", "-x264-params", "scenecut=0"), ("hevc", "-x265-params", "scenecut=0"),
                              ("av1", "-svtav1-params", "scd=0")):  # fmt: skip
        args = codecs.get(codec).encoder_args("8" if codec == "av1" else "fast", rate, 48, 1, {flag[1:]: "aq-mode=3"})
        assert args.count(flag) == 1, args
        value = args[args.index(flag) + 1]
        assert value.startswith("aq-mode=3:") and ours in value, value


def test_options_ffmpeg_does_not_take_are_refused_before_any_work(tmp_path):
    """x264, x265 and SVT-AV1 log a parameter they do not know and encode without it; FFmpeg stops at an
    unknown option only when the first chunk starts."""
    f = tmp_path / "mine.toml"
    rung = '[[rung]]\ncodec = "{}"\nheight = {}\nbitrate_kbps = 500\noptions = {{ {} }}\n'
    good = rung.format("h264", 360, 'tune = "film", "x264-params" = "aq-mode=3"') + rung.format(
        "hevc", 360, '"x265-params" = "aq-mode=3"'
    )
    f.write_text(good)
    check_options(load_ladder(str(f)), None)
    for codec, options, says in (
        ("h264", '"x264-params" = "aq-mod=3"', "Error parsing option 'aq-mod = 3'"),
        ("hevc", '"x265-params" = "aq-mod=3"', "Unknown option: aq-mod"),
        ("vp9", 'tune-contnet = "screen"', "Unrecognized option 'tune-contnet'"),
    ):
        f.write_text(good + rung.format(codec, 234, options))
        with pytest.raises(ShotencError, match=f"rung {codec}-234p: FFmpeg does not take its options .*{says}"):
            check_options(load_ladder(str(f)), None)
