"""Every audio track comes along, with its language, its name and the source's default."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import m3u8
import numpy as np
import pytest

import corpus
from helpers import audio_channels, decoded_seconds
from shotenc.media import ffmpeg
from shotenc.media.probe import probe
from shotenc.pipeline import EncodeOptions, encode_title

NS = {"d": "urn:mpeg:dash:schema:mpd:2011"}


@pytest.fixture(scope="module")
def two_language_title(tmp_path_factory):
    folder = tmp_path_factory.mktemp("langs")
    src = corpus.two_languages(folder / "movie.mkv", seconds=3.0, default="fra")
    out = folder / "out"
    return src, out, encode_title(src, out, EncodeOptions(ladder="tiny", codecs=["h264"]))


def test_probe_reads_language_title_and_default(two_language_title):
    src, _, _ = two_language_title
    en, fr = probe(src).audio
    assert (en.language, en.channels, en.default) == ("en", 6, False)
    assert (fr.language, fr.channels, fr.default, fr.title) == ("fr", 2, True, "Français")


def test_every_track_becomes_renditions_with_languages_in_hls(two_language_title):
    _, out, result = two_language_title
    assert [a["id"] for a in result.report["audio"]] == ["aac-2ch-en", "aac-6ch-en", "aac-2ch-fr"]
    master = m3u8.load(str(out / "master.m3u8"))
    media = {m.uri.split("/")[1]: m for m in master.media}
    assert {k: (m.language, m.name, m.channels, m.default) for k, m in media.items()} == {
        "aac-2ch-en": ("en", "English", "2", "NO"),
        "aac-6ch-en": ("en", "English (5.1)", "6", "NO"),
        "aac-2ch-fr": ("fr", "Français", "2", "YES"),
    }
    for rid, channels in (("aac-2ch-en", 2), ("aac-6ch-en", 6), ("aac-2ch-fr", 2)):
        playlist = out / "audio" / rid / "playlist.m3u8"
        assert abs(decoded_seconds(playlist) - 3.0) < 0.1
        assert audio_channels(playlist.with_name("init.mp4")) == channels


def test_dash_carries_lang_label_and_the_main_role(two_language_title):
    _, out, _ = two_language_title
    mpd = ET.parse(out / "manifest.mpd").getroot()
    sets = [a for a in mpd.iter(f"{{{NS['d']}}}AdaptationSet") if a.get("contentType") == "audio"]
    seen = {
        (a.get("lang"), a.find("d:Label", NS).text, a.find("d:Role", NS).get("value"),
         a.find(".//d:AudioChannelConfiguration", NS).get("value"))
        for a in sets
    }  # fmt: skip
    assert seen == {("en", "English", "alternate", "2"), ("en", "English (5.1)", "alternate", "6"),
                    ("fr", "Français", "main", "2")}  # fmt: skip


def test_the_first_track_is_default_when_none_is_marked(tmp_path, tiny_clip):
    out = tmp_path / "out"
    result = encode_title(tiny_clip, out, EncodeOptions(ladder="tiny", codecs=["h264"]))
    assert [a["id"] for a in result.report["audio"]] == ["aac-2ch", "aac-6ch"]  # one track: ids as before
    text = (out / "master.m3u8").read_text()
    assert text.count("DEFAULT=YES") == 1 and 'NAME="Audio 1",' in text and "LANGUAGE" not in text


def _tone_onset(src, out) -> float:
    """Encode ``src``; the second its stereo AAC rendition's tone starts at, as FFmpeg decodes it."""
    encode_title(src, out, EncodeOptions(ladder="tiny", codecs=["h264"]))
    pcm = ffmpeg.run(
        ["-v", "error", "-i", out / "audio" / "aac-2ch" / "playlist.m3u8", "-ac", "1", "-f", "s16le", "-"],
        capture_stdout=True,
    ).stdout
    return int(np.argmax(np.abs(np.frombuffer(pcm, np.int16)) > 3000)) / 48000


@pytest.mark.parametrize(("late", "onset"), [("audio", 1.6), ("video", 0.4)])
def test_sound_keeps_its_place_against_the_picture(late, onset, tmp_path):
    """A tone 1.0 s into the audio track, one track starting 0.6 s after the other: in the output the
    tone starts 0.6 s later or earlier against the first frame (before: always at 1.0 s, the start
    offset dropped), and not 21 ms later either (the AAC encoder's 1,024 samples of priming, which
    the fragments have no edit list to hide, are cut from the input). A caption at 1.0 s of the file's
    time moves with the picture's start too."""
    src, srt = tmp_path / f"{late}-late.mkv", tmp_path / "captions.srt"
    srt.write_text("1\n00:00:01,000 --> 00:00:02,000\nhello\n", encoding="utf-8")
    shift = {late: ["-itsoffset", "0.6"]}
    ffmpeg.run(
        ["-y", "-v", "error", *shift.get("video", []), "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=3"]
        + [*shift.get("audio", []), "-f", "lavfi", "-i", "aevalsrc='0.5*sin(2*PI*1000*t)*between(t,1,1.4)':d=3"]
        + ["-i", srt, "-map", "0", "-map", "1", "-map", "2"]
        + ["-c:v", "libx264", "-bf", "0", "-c:a", "pcm_s16le", "-c:s", "srt", src]
    )
    assert probe(src).video_start_s == pytest.approx(0.6 if late == "video" else 0.0, abs=0.002)
    out = tmp_path / "out"
    assert _tone_onset(src, out) == pytest.approx(onset, abs=0.004)
    cue = "00:00:01.000" if late == "audio" else "00:00:00.400"
    assert f"{cue} --> " in (out / "subtitles" / "sub-und" / "subtitles.vtt").read_text(encoding="utf-8")


def test_a_gap_in_the_audio_is_kept_as_silence(tmp_path):
    """The audio's timestamps jump 1 s at 1.0 s (a dropout in a recording): the tone 2.0 s into the
    samples plays at 3.0 s, where its timestamps put it (before: at 2.0 s, early by the gap)."""
    src = tmp_path / "dropout.mkv"
    ffmpeg.run(
        ["-y", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=4", "-f", "lavfi", "-i"]
        + ["aevalsrc='0.5*sin(2*PI*1000*t)*between(t,2,2.4)':d=3:s=48000"]
        + ["-af", "asetpts='if(gte(T,1),PTS+48000,PTS)'", "-c:v", "libx264", "-c:a", "pcm_s16le", src]
    )
    assert _tone_onset(src, tmp_path / "out") == pytest.approx(3.0, abs=0.004)
