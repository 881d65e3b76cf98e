"""Subtitles: source text streams and sidecar files become WebVTT tracks in HLS and DASH; bitmaps are left out."""

from __future__ import annotations

import codecs
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import m3u8
import pytest

import corpus
from shotenc.delivery.edge import EdgeConfig, EdgeThread
from shotenc.media import ffmpeg
from shotenc.media.probe import probe
from shotenc.package.subtitles import Sidecar, SubtitleError, decode_text, read_sidecar, subtitle_specs

NS = {"d": "urn:mpeg:dash:schema:mpd:2011"}
ROOT = Path(__file__).resolve().parents[2]


def test_probe_reads_every_subtitle_stream_and_its_flags(tracks_title):
    subs = probe(tracks_title.source).subtitles
    assert [(s.codec, s.language, s.forced, s.sdh, s.default, s.is_text) for s in subs] == [
        ("subrip", "en", True, False, False, True),
        ("ass", "fr", False, True, True, True),
        ("hdmv_pgs_subtitle", "de", False, False, False, False),
    ]
    assert subs[1].title == "Français SDH"


def test_a_bitmap_stream_is_one_warning_and_the_encode_goes_on(tracks_title):
    warnings = subtitle_specs(probe(tracks_title.source), [])[1]
    assert len(warnings) == 1 and "PGS" in warnings[0] and "bitmap" in warnings[0]
    assert tracks_title.warnings == warnings == tracks_title.report["left_out"]
    ids = [s["id"] for s in tracks_title.report["subtitles"]]
    assert ids == ["sub-en-forced", "sub-fr-sdh", "sub-fr", "sub-de"]  # no German bitmap track


def test_hls_subtitle_group_is_referenced_by_every_variant(tracks_title):
    master = m3u8.load(str(tracks_title.out / "master.m3u8"))
    subs = {m.uri.split("/")[1]: m for m in master.media if m.type == "SUBTITLES"}
    assert {k: (m.language, m.name, m.forced, m.default, m.group_id) for k, m in subs.items()} == {
        "sub-en-forced": ("en", "English (forced)", "YES", "NO", "subs"),
        "sub-fr-sdh": ("fr", "Français SDH", "NO", "YES", "subs"),
        "sub-fr": ("fr", "French", "NO", "NO", "subs"),
        "sub-de": ("de", "German", "NO", "NO", "subs"),
    }
    assert "transcribes-spoken-dialog" in subs["sub-fr-sdh"].characteristics
    assert master.playlists and all(p.stream_info.subtitles == "subs" for p in master.playlists)


def test_subtitle_segments_are_cut_with_the_video(tracks_title):
    out = tracks_title.out
    video = m3u8.load(str(out / "video" / "h264-180p" / "playlist.m3u8"))
    for sid in ("sub-en-forced", "sub-fr-sdh", "sub-fr", "sub-de"):
        pl = m3u8.load(str(out / "subtitles" / sid / "playlist.m3u8"))
        assert [s.duration for s in pl.segments] == [s.duration for s in video.segments]
        assert pl.target_duration == video.target_duration and pl.is_endlist
        start = 0.0
        for seg in pl.segments:
            text = (out / "subtitles" / sid / seg.uri).read_text(encoding="utf-8")
            assert text.startswith("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n")
            for a, b in re.findall(r"(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})", text):
                assert _s(a) < start + seg.duration and _s(b) > start  # every cue overlaps its segment
            start += seg.duration


def _s(clock: str) -> float:
    h, m, s = clock.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def test_cue_text_survives_each_format_and_encoding(tracks_title):
    folder = tracks_title.out / "subtitles"
    full = {sid: (folder / sid / "subtitles.vtt").read_text(encoding="utf-8") for sid in ("sub-en-forced",
            "sub-fr-sdh", "sub-fr", "sub-de")}  # fmt: skip
    assert "00:00:00.200 --> 00:00:01.400\nHello <i>there</i>" in full["sub-en-forced"]  # SRT stream
    assert "00:00:00.500 --> 00:00:02.000\nBonjour <i>tout</i> le monde\n[musique]" in full["sub-fr-sdh"]  # ASS
    assert "Ça a été un café très réussi, à bientôt" in full["sub-fr"]  # Latin-1 sidecar
    assert "Où est la forêt ? Noël approche déjà." in full["sub-fr"]
    assert "00:00:00.100 --> 00:00:01.000 line:10%\nGrüße aus Köln" in full["sub-de"]  # BOM'd VTT, its setting
    assert "00:00:02.500 --> 00:00:03.000\nÜber das Ende hinaus" in full["sub-de"]  # cut at the title's end
    assert all(not text.startswith(codecs.BOM_UTF8.decode()) for text in full.values())


def test_dash_has_a_text_adaptation_set_per_track(tracks_title):
    mpd = ET.parse(tracks_title.out / "manifest.mpd").getroot()
    sets = [a for a in mpd.iter(f"{{{NS['d']}}}AdaptationSet") if a.get("contentType") == "text"]
    seen = []
    for a in sets:
        tpl = a.find("d:Representation/d:SegmentTemplate", NS)
        timeline = tpl.findall("d:SegmentTimeline/d:S", NS)
        assert a.get("mimeType") == "text/vtt" and tpl.get("media").endswith("/subtitles.vtt")
        assert [(s.get("t"), s.get("d")) for s in timeline] == [("0", "3000")]
        assert (tracks_title.out / tpl.get("media")).is_file()
        roles = [r.get("value") for r in a.findall("d:Role", NS)]
        seen.append((a.get("lang"), a.find("d:Label", NS).text, roles))
    assert seen == [
        ("en", "English (forced)", ["forced-subtitle"]),
        ("fr", "Français SDH", ["caption", "main"]),
        ("fr", "French", ["subtitle"]),
        ("de", "German", ["subtitle"]),
    ]


def test_ffmpeg_reads_the_subtitles_through_both_manifests(tracks_title):
    """Over HTTP, as a player reads them (FFmpeg's DASH demuxer refuses local .vtt files by default); for HLS,
    the subtitle playlist the master names (through the master, FFmpeg's probing eats the first segment)."""
    master = m3u8.load(str(tracks_title.out / "master.m3u8"))
    french = next(m.uri for m in master.media if m.type == "SUBTITLES" and m.name == "French")
    with EdgeThread(EdgeConfig(titles={"movie": tracks_title.out}, port=0)) as edge:
        for manifest, stream in (("manifest.mpd", "0:s:2"), (french, "0:s:0")):
            res = ffmpeg.run(
                ["-v", "error", "-i", f"{edge.url}/movie/{manifest}", "-map", stream, "-f", "webvtt", "-"],
                what="subtitle read",
                capture_stdout=True,
            )
            text = res.stdout.decode("utf-8")
            assert "Ça a été un café" in text and "Noël approche" in text, (manifest, text)


def test_a_malformed_sidecar_is_one_line_before_any_encoding(tracks_title, tmp_path):
    bad = tmp_path / "bad.srt"
    bad.write_text("1\n00:00:00,500 --> 00:00:0x,000\nbad\n", encoding="utf-8")
    not_vtt = tmp_path / "bad.vtt"
    not_vtt.write_text("00:00:00.500 --> 00:00:01.000\nno header\n", encoding="utf-8")
    for spec, says in ((f"fr={bad}", "bad cue timing on line 2"), (f"fr={not_vtt}", "not a valid WebVTT file"),
                       (f"xx!={bad}", "BCP 47"), (f"fr={tmp_path / 'x.ass'}", ".srt or .vtt")):  # fmt: skip
        res = subprocess.run(
            [sys.executable, "-m", "shotenc", "encode", str(tracks_title.source), "-o", str(tmp_path / "o"),
             "--ladder", "tiny", "--subtitles", spec],
            cwd=tmp_path, capture_output=True, text=True, timeout=120,
            env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        assert res.returncode == 2 and len(res.stderr.splitlines()) == 1, res.stderr
        assert res.stderr.startswith("shotenc: error:") and says in res.stderr, res.stderr
        assert not (tmp_path / "o").exists() and not (tmp_path / ".o.work").exists()


def test_decode_text_by_bom_utf8_or_the_declared_language():
    assert decode_text(codecs.BOM_UTF16_LE + "Grüße".encode("utf-16-le"), "x") == "Grüße"
    assert decode_text("naïve".encode(), "x") == "naïve"
    assert decode_text("Ça a été très réussi, à bientôt, Noël".encode("cp1252"), "x", "fr").startswith("Ça a été")
    with pytest.raises(SubtitleError, match="not valid UTF-8"):
        decode_text(codecs.BOM_UTF8 + b"\xff\xfe\xfa", "x")


def test_sidecar_cues_must_move_forward(tmp_path):
    f = tmp_path / "a.srt"
    f.write_text("1\n00:00:02,000 --> 00:00:01,000\nbackwards\n", encoding="utf-8")
    with pytest.raises(SubtitleError, match="not after it starts"):
        read_sidecar(Sidecar("en", str(f)))
    assert Sidecar.parse("pt-br=x.srt").language == "pt-BR"
    assert [c.text for c in read_sidecar(Sidecar("fr", str(corpus.latin1_srt(tmp_path / "fr.srt"))))][0].startswith(
        "Ça a été"
    )
