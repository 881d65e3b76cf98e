"""Exact frame rates: a 24 fps source is 24 (not 23.976), and the published timeline is the source's."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import m3u8
import pytest

import corpus
from helpers import decoded_frames, frame_psnr
from shotenc.media import ffmpeg
from shotenc.media.probe import frame_rate, nominal_rates, probe
from shotenc.pipeline import EncodeOptions, encode_title

ONE_RUNG = str(Path(__file__).resolve().parents[1] / "data" / "ladders" / "one-rung.toml")
NS = {"d": "urn:mpeg:dash:schema:mpd:2011"}


def published_timeline(out: Path) -> dict:
    """What players read: DASH duration, frame rate and timeline; HLS durations and FRAME-RATE."""
    mpd = ET.parse(out / "manifest.mpd").getroot()
    rep = mpd.find(".//d:Representation", NS)
    template = rep.find("d:SegmentList", NS)  # with each segment's size in mediaRange
    ticks = 0
    for s in template.iter(f"{{{NS['d']}}}S"):
        ticks += int(s.get("d")) * (int(s.get("r", "0")) + 1)
    master = m3u8.load(str(out / "master.m3u8"))
    media = m3u8.load(str(out / master.playlists[0].uri))
    return {
        "mpd_duration": mpd.get("mediaPresentationDuration"),
        "dash_rate": rep.get("frameRate"),
        "timeline_s": Fraction(ticks, int(template.get("timescale"))),
        "hls_rate": re.search(r"FRAME-RATE=([\d.]+)", (out / "master.m3u8").read_text()).group(1),
        "hls_s": sum(seg.duration for seg in media.segments),
    }


@pytest.mark.parametrize("fps", corpus.RATES)
def test_every_common_rate_comes_out_exact_over_a_minute(fps, tmp_path):
    expected = corpus.rate(fps)
    src = corpus.constant_rate(tmp_path / "src.mp4", fps, 60)
    media = probe(src)
    assert media.fps == expected and not media.vfr
    out = tmp_path / "out"
    result = encode_title(src, out, EncodeOptions(ladder=ONE_RUNG))

    exact_s = Fraction(media.frame_count) / expected
    assert result.report["source"]["fps"] == f"{expected.numerator}/{expected.denominator}"
    assert decoded_frames(out / "master.m3u8") == media.frame_count
    seen = published_timeline(out)
    assert seen["mpd_duration"] == f"PT{float(exact_s):.3f}S"
    assert seen["timeline_s"] == exact_s
    assert seen["dash_rate"] == (str(expected.numerator) if expected.denominator == 1 else f"{expected}")
    assert seen["hls_rate"] == f"{float(expected):.3f}"
    assert abs(seen["hls_s"] - float(exact_s)) < 1e-4


def test_timestamp_gaps_keep_the_stated_rate(tmp_path):
    """Two missing frames in an MKV: still 25 fps (the gaps are filled), not an average of 24.67."""
    src = corpus.with_gaps(tmp_path / "gaps.mkv", seconds=6.0)
    media = probe(src)
    assert media.fps == 25 and media.vfr and media.frame_count == 150
    out = tmp_path / "out"
    result = encode_title(src, out, EncodeOptions(ladder=ONE_RUNG))
    assert result.report["source"]["fps"] == "25/1"
    frames = result.report["totals"]["frames"]
    assert frames == 152  # the intermediate repeats a frame in each gap: the source's 6.08 s timeline
    assert decoded_frames(out / "master.m3u8") == frames
    seen = published_timeline(out)
    assert seen["hls_rate"] == "25.000" and seen["mpd_duration"] == "PT6.080S"


def test_timestamps_rounded_to_a_coarse_time_base_give_the_rate_they_average_to():
    """A 24 fps GIF in centiseconds steps 4, 4, 4, 5 and FFmpeg states 25 fps (24 tbr): it is 24."""
    pts = [round(n * 100 / 24) for n in range(72)]
    assert frame_rate({"fps": Fraction(25), "tbr": Fraction(24)}, pts, Fraction(1, 100), False) == 24
    # a few missing frames still do not make an average of the stated rate
    gaps = [n * 40 + (40 if n >= 50 else 0) for n in range(150)]
    assert frame_rate({"fps": Fraction(25), "tbr": Fraction(25)}, gaps, Fraction(1, 1000), True) == 25
    ntsc = [round(n * 1001 / 30) for n in range(300)]  # 29.97 in a millisecond time base: 33, 34, 33, ...
    assert frame_rate({"fps": Fraction(30000, 1001)}, ntsc, Fraction(1, 1000), False) == Fraction(30000, 1001)


def test_an_animated_gif_keeps_its_rate_and_every_frame_in_place(tmp_path):
    """Before: read as 25 fps, the second shot's chunk started a frame late (a frame lost, one repeated)."""
    src = corpus.animated_gif(tmp_path / "anim.gif")
    media = probe(src)
    assert media.fps == 24 and media.frame_count == 48
    out = tmp_path / "out"
    result = encode_title(src, out, EncodeOptions(ladder=ONE_RUNG))
    assert result.report["source"]["fps"] == "24/1" and len(result.report["shots"]) == 2
    seen = published_timeline(out)
    assert seen["timeline_s"] == 2 and abs(seen["hls_s"] - 2) < 1e-4
    # every published frame is the source's frame of the same number
    frames = frame_psnr(out / "master.m3u8", src, "24", tmp_path / "psnr.txt")
    assert len(frames) == 48 and min(frames) > 25, frames


@pytest.mark.parametrize(
    "line, rates",
    [
        ("Video: h264, yuv420p, 64x36, 17 kb/s, 23.98 fps, 23.98 tbr, 24k tbn", {"fps": Fraction(24000, 1001)}),
        ("Video: h264, yuv420p, 64x36, 24 fps, 24 tbr, 1k tbn", {"fps": Fraction(24)}),
        ("Video: h264, yuv420p, 64x36, 12.50 fps, 12.50 tbr, 1k tbn", {"fps": Fraction(25, 2)}),
        ("Video: h264, yuv420p, 64x36, 59.94 fps, 59.94 tbr, 60k tbn", {"fps": Fraction(60000, 1001)}),
        ("Video: h264, yuv420p, 64x36, 29.83 fps, 30 tbr, 90k tbn", {"fps": Fraction(2983, 100), "tbr": 30}),
    ],
)
def test_stated_rates_are_read_exactly(line, rates):
    got = nominal_rates(line)
    assert got["fps"] == rates["fps"]
    assert got["tbr"] == rates.get("tbr", rates["fps"])


def test_a_losslessly_trimmed_mp4_counts_the_frames_it_shows(tmp_path):
    """A cut without re-encoding (``-ss`` with ``-c copy``, as trimming tools do) keeps the packets from the
    keyframe before the cut, flagged to be decoded and not shown, behind an edit list: they were counted."""
    whole = tmp_path / "whole.mp4"
    ffmpeg.run(["-y", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=3", "-g", "100", whole])
    trimmed = tmp_path / "trimmed.mp4"
    ffmpeg.run(["-y", "-v", "error", "-ss", "1.3", "-i", whole, "-c", "copy", trimmed])
    shown = decoded_frames(trimmed)
    media = probe(trimmed)
    assert shown < 75 and (media.frame_count, media.duration_s) == (shown, pytest.approx(shown / 25))
