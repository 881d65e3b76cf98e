"""``shotenc validate`` on subtitle, audio, image and HDR tracks; the player fetches the text track."""

from __future__ import annotations

import shutil

import pytest

from shotenc.delivery.player.client import PlayOptions, local_edge, play_url
from shotenc.delivery.player.traces import constant
from shotenc.delivery.validate import validate


def _defects(folder) -> list[str]:
    return [f"{c.name}: {c.detail}" for c in validate(folder, play=False).defects]


def test_tracks_title_validates_and_plays(tracks_title):
    rep = validate(tracks_title.out)
    assert rep.ok, [c.__dict__ for c in rep.defects]
    names = [c.name for c in rep.checks]
    for expected in ("dash: subtitles sub-fr cover the title with readable cues",
                     "hls: subtitles German cover the title with readable cues",
                     "dash: sub-de language 'de' is BCP 47",
                     "dash: thumbnails thumbnails-240x136 fetched, JPEG 240x136",
                     "thumbnail track thumbnails/240x136/thumbnails.vtt: every sprite resolves",
                     "hls: h264-180p (aud-eac3) BANDWIDTH vs measured peak",
                     "dash: eac3-6ch-en CODECS", "eac3-6ch-en: plays end to end"):  # fmt: skip
        assert expected in names


def test_hdr_title_validates_with_its_signalling(hdr_title):
    rep = validate(hdr_title.out, play=False)
    assert rep.ok, [c.__dict__ for c in rep.defects]
    said = {c.name: c.detail for c in rep.checks if "dynamic range" in c.name}
    assert said["dash: hevc-180p signals its dynamic range"] == "stream PQ 10-bit, manifest PQ"
    assert said["hls: h264-180p signals its dynamic range"] == "stream SDR 8-bit, manifest SDR"


@pytest.fixture()
def tracks_copy(tracks_title, tmp_path):
    dst = tmp_path / "movie"
    shutil.copytree(tracks_title.out, dst)
    return dst


def _edit(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_missing_subtitle_segment_bad_language_and_late_cue_are_defects(tracks_copy):
    (tracks_copy / "subtitles" / "sub-fr" / "seg-00002.vtt").unlink()
    _edit(tracks_copy / "manifest.mpd", 'lang="de"', 'lang="de_DE!"')
    _edit(tracks_copy / "subtitles" / "sub-de" / "subtitles.vtt", "00:00:03.000", "00:00:07.000")
    defects = "\n".join(_defects(tracks_copy))
    assert "hls: subtitles French cover the title with readable cues" in defects and "segment 2" in defects
    assert "dash: sub-de language 'de_DE!' is BCP 47" in defects
    assert "dash: subtitles sub-de cover the title" in defects and "past the end" in defects


def test_broken_thumbnails_are_defects(tracks_copy):
    (tracks_copy / "thumbnails" / "240x136" / "tile-00003.jpg").write_bytes(b"not a jpeg")
    (tracks_copy / "thumbnails" / "240x136" / "sprite-001.jpg").unlink()
    defects = "\n".join(_defects(tracks_copy))
    assert "dash: thumbnails thumbnails-240x136 fetched" in defects and "#3: not a JPEG" in defects
    assert "every sprite resolves" in defects


def test_hdr_rendition_without_its_signalling_is_a_defect(hdr_title, tmp_path):
    out = tmp_path / "hdr"
    shutil.copytree(hdr_title.out, out)
    _edit(out / "master.m3u8", "VIDEO-RANGE=PQ", "VIDEO-RANGE=SDR")
    mpd = out / "manifest.mpd"
    mpd.write_text(mpd.read_text().replace('TransferCharacteristics" value="16"', 'TransferCharacteristics" value="1"'))
    defects = "\n".join(_defects(out))
    assert "dash: hevc-180p signals its dynamic range: stream PQ 10-bit, manifest SDR" in defects
    assert "hls: av1-180p signals its dynamic range: stream PQ 10-bit, manifest SDR" in defects


def test_the_player_fetches_the_default_subtitle_track(tracks_title):
    for manifest in ("manifest.mpd", "master.m3u8"):
        with local_edge(tracks_title.out) as edge:
            url = f"{edge.url}/{tracks_title.out.name}/{manifest}"
            played = play_url([url], PlayOptions(constant(5000), abr="throughput", codec="h264", optimum=False))
        assert played.text_rendition in ("sub-fr-sdh", "Français SDH"), manifest
        playlist = (tracks_title.out / "subtitles" / "sub-fr-sdh" / "playlist.m3u8").read_text()
        segments = playlist.count("#EXTINF")
        assert segments >= 2
        assert played.text_segments == (1 if manifest.endswith("mpd") else segments)  # DASH: the sidecar
        assert not played.decode_errors, played.decode_errors
