"""Per-shot thumbnails: sprites with a WebVTT track, a DASH image AdaptationSet and an HLS image playlist."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import m3u8

from shotenc.analysis.shots import Shot
from shotenc.delivery.validate_tracks import jpeg_size
from shotenc.output import files_under
from shotenc.package.thumbnails import thumbnail_frames

NS = {"d": "urn:mpeg:dash:schema:mpd:2011"}


def _shot(i: int, start: int, n: int, cut: bool) -> Shot:
    return Shot(i, start, n, start / 25, n / 25, cut)


def test_a_thumbnail_at_every_cut_and_every_interval_inside_long_shots():
    # a 12 s shot split in two for segmenting (no cut at 150), then a cut at 300 and a short shot
    shots = [_shot(0, 0, 150, True), _shot(1, 150, 150, False), _shot(2, 300, 20, True)]
    assert thumbnail_frames(shots, 320, 25.0, 4.0) == [0, 100, 200, 300]  # 300-25 is too close to the cut
    assert thumbnail_frames(shots, 320, 25.0, 20.0) == [0, 300]


def test_thumbnails_sit_on_the_shot_boundaries(tracks_title):
    thumbs = tracks_title.report["thumbnails"]
    assert thumbs["id"] == "240x136" and thumbs["thumbnails"] == 4 and thumbs["sprites"] == 1
    # shots start at 0 and 1.6 s (frame 40); inside each, one a second
    assert [(s["start_s"], s["duration_s"]) for s in thumbs["segments"]] == [(0.0, 1.0), (1.0, 0.6), (1.6, 1.0),
                                                                          (2.6, 0.4)]  # fmt: skip
    folder = tracks_title.out / "thumbnails" / "240x136"
    assert [jpeg_size((folder / f"tile-{n:05d}.jpg").read_bytes()) for n in range(1, 5)] == [(240, 136)] * 4
    assert jpeg_size((folder / "sprite-001.jpg").read_bytes()) == (5 * 240, 5 * 136)


def test_webvtt_thumbnail_track_points_into_the_sprites(tracks_title):
    text = (tracks_title.out / "thumbnails" / "240x136" / "thumbnails.vtt").read_text()
    cues = re.findall(r"(\S+) --> (\S+)\n(sprite-\d+\.jpg)#xywh=(\d+),(\d+),(\d+),(\d+)", text)
    assert [(a, b, x, y) for a, b, _, x, y, _, _ in cues] == [
        ("00:00:00.000", "00:00:01.000", "0", "0"),
        ("00:00:01.000", "00:00:01.600", "240", "0"),
        ("00:00:01.600", "00:00:02.600", "480", "0"),
        ("00:00:02.600", "00:00:03.000", "720", "0"),
    ]


def test_dash_image_set_and_hls_image_playlist(tracks_title):
    out = tracks_title.out
    mpd = ET.parse(out / "manifest.mpd").getroot()
    (image,) = [a for a in mpd.iter(f"{{{NS['d']}}}AdaptationSet") if a.get("contentType") == "image"]
    rep = image.find("d:Representation", NS)
    assert image.get("mimeType") == "image/jpeg" and (rep.get("width"), rep.get("height")) == ("240", "136")
    assert rep.find("d:EssentialProperty", NS).attrib == {"schemeIdUri": "http://dashif.org/thumbnail_tile",
                                                          "value": "1x1"}  # fmt: skip
    tpl = rep.find("d:SegmentTemplate", NS)
    assert tpl.get("media") == "thumbnails/240x136/tile-$Number%05d$.jpg" and tpl.get("initialization") is None
    assert [(s.get("t"), s.get("d")) for s in tpl.findall("d:SegmentTimeline/d:S", NS)] == [
        ("0", "1000"), (None, "600"), (None, "1000"), (None, "400")]  # fmt: skip
    master = m3u8.load(str(out / "master.m3u8"))
    (entry,) = master.image_playlists
    assert entry.image_stream_info.resolution == (240, 136) and entry.image_stream_info.codecs == "jpeg"
    images = m3u8.load(str(out / entry.uri))
    assert images.is_images_only and images.is_endlist
    assert [(s.uri, s.duration) for s in images.segments] == [
        ("tile-00001.jpg", 1.0), ("tile-00002.jpg", 0.6), ("tile-00003.jpg", 1.0), ("tile-00004.jpg", 0.4)]  # fmt: skip
    assert "#EXT-X-TILES:RESOLUTION=240x136,LAYOUT=1x1,DURATION=0.600" in (out / entry.uri).read_text()


def test_report_lists_every_file_written(tracks_title):
    assert tracks_title.report["files"] == [f for f in files_under(tracks_title.out) if f != "report.json"]
    assert "thumbnails/240x136/sprite-001.jpg" in tracks_title.report["files"]
    assert "subtitles/sub-fr/seg-00002.vtt" in tracks_title.report["files"]
