"""End to end on real media: encode the tiny clip to all four codecs, then read it back as players do."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import m3u8
import pytest

from helpers import decoded_frames, decoded_seconds, segment_packets
from shotenc.media.probe import probe

NS = {"d": "urn:mpeg:dash:schema:mpd:2011"}
CODEC_RE = {
    "h264": r"avc1\.[0-9A-F]{6}",
    "hevc": r"hvc1\.\d+\.[0-9A-F]+\.[LH]\d+(\.[0-9A-F]{1,2})*",
    "vp9": r"vp09\.\d\d\.\d\d\.\d\d",
    "av1": r"av01\.\d\.\d\d[MH]\.\d\d",
}


@pytest.fixture(scope="module")
def out(tiny_encode) -> Path:
    return tiny_encode.out_dir


@pytest.fixture(scope="module")
def report(out) -> dict:
    return json.loads((out / "report.json").read_text())


def test_output_layout(out, report):
    assert (out / "manifest.mpd").is_file() and (out / "master.m3u8").is_file()
    assert {r["codec"] for r in report["renditions"]} == {"h264", "hevc", "vp9", "av1"}
    for r in report["renditions"] + report["audio"]:
        d = out / r["kind"] / r["id"]
        assert (d / "init.mp4").is_file() and (d / "playlist.m3u8").is_file()
        assert sorted(p.name for p in d.glob("seg-*.m4s")) == [f"seg-{s['number']:05d}.m4s" for s in r["segments"]]
        assert [s["bytes"] for s in r["segments"]] == [
            (d / f"seg-{s['number']:05d}.m4s").stat().st_size for s in r["segments"]
        ]
    # nothing left behind beside the published title
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]


def test_every_rendition_decodes_through_the_mpd_with_the_source_frame_count(out, report, tiny_clip):
    frames = probe(tiny_clip).frame_count
    assert report["totals"]["frames"] == frames
    for i in range(len(report["renditions"])):
        assert decoded_frames(out / "manifest.mpd", f"v:{i}") == frames


def test_every_variant_decodes_through_the_hls_master(out, report, tiny_clip):
    frames = probe(tiny_clip).frame_count
    for r in report["renditions"]:
        assert decoded_frames(out / r["kind"] / r["id"] / "playlist.m3u8") == frames
    for a in report["audio"]:
        seconds = decoded_seconds(out / a["kind"] / a["id"] / "playlist.m3u8")
        assert seconds == pytest.approx(report["totals"]["duration_s"], abs=0.1)


def test_segments_start_with_the_only_keyframe_at_shot_starts(out, report, tmp_path):
    shot_starts = [round(s["start_s"], 6) for s in report["shots"]]
    for r in report["renditions"]:
        assert [round(s["start_s"], 6) for s in r["segments"]] == shot_starts
        for seg, shot in zip(r["segments"], report["shots"], strict=True):
            packets = segment_packets(out / "video" / r["id"], seg["number"], tmp_path)
            assert len(packets) == shot["frame_count"]
            assert packets[0]["key"], f"{r['id']} segment {seg['number']} does not start with a keyframe"
            assert sum(p["key"] for p in packets) == 1


def test_cuts_found_in_real_footage_are_segment_boundaries(report):
    cut_shots = [s for s in report["shots"] if s["starts_at_cut"] and s["start_frame"] > 0]
    assert cut_shots, "the tiny clip has real cuts"
    assert all(s["features"]["complexity"] > 0 for s in report["shots"])


def test_mpd_matches_files_and_timelines_align(out, report):
    root = ET.parse(out / "manifest.mpd").getroot()
    assert root.get("type") == "static"
    timelines = []
    media_sets = [a for a in root.iterfind(".//d:AdaptationSet", NS) if a.get("contentType") in ("video", "audio")]
    assert len(media_sets) == len(root.findall(".//d:AdaptationSet", NS)) - 1  # and the thumbnails
    for rep in (r for a in media_sets for r in a.iterfind("d:Representation", NS)):
        seglist = rep.find("d:SegmentList", NS)
        ts = int(seglist.get("timescale"))
        t, times = 0, []
        for s in seglist.iterfind("d:SegmentTimeline/d:S", NS):
            t = int(s.get("t", t))
            for _ in range(int(s.get("r", 0)) + 1):
                times.append((t, int(s.get("d"))))
                t += int(s.get("d"))
        assert (out / seglist.find("d:Initialization", NS).get("sourceURL")).is_file()
        urls = seglist.findall("d:SegmentURL", NS)
        assert len(urls) == len(times)
        for u in urls:  # each segment's byte range is the whole file: its size
            assert u.get("mediaRange") == f"0-{(out / u.get('media')).stat().st_size - 1}"
        total = t / ts
        assert total == pytest.approx(report["totals"]["duration_s"], abs=0.6)
        if rep.get("width"):
            timelines.append([(a / ts, b / ts) for a, b in times])
            codec = next(r["codec"] for r in report["renditions"] if r["id"] == rep.get("id"))
            assert re.fullmatch(CODEC_RE[codec], rep.get("codecs")), rep.get("codecs")
            measured = max(sz * 8 / d for sz, d in _sizes(out, report, rep.get("id")))
            assert int(rep.get("bandwidth")) >= measured * 0.999
    assert all(tl == timelines[0] for tl in timelines), "segment boundaries differ across rungs"


def _sizes(out, report, rid):
    r = next(r for r in report["renditions"] + report["audio"] if r["id"] == rid)
    d = out / r["kind"] / rid
    return [((d / f"seg-{s['number']:05d}.m4s").stat().st_size, s["duration_s"]) for s in r["segments"]]


def test_hls_playlists_parse_and_follow_rfc8216(out, report):
    master = m3u8.load(str(out / "master.m3u8"))
    assert master.is_variant
    assert len(master.playlists) == len(report["renditions"])
    audio_peak = max((max(sz * 8 / d for sz, d in _sizes(out, report, a["id"])) for a in report["audio"]), default=0)
    extinfs = []
    for pl in master.playlists:
        info = pl.stream_info
        rid = pl.uri.split("/")[1]
        r = next(r for r in report["renditions"] if r["id"] == rid)
        assert re.fullmatch(CODEC_RE[r["codec"]], info.codecs.split(",")[0])
        assert "mp4a.40.2" in info.codecs
        peak = max(sz * 8 / d for sz, d in _sizes(out, report, rid))
        assert info.bandwidth >= peak + audio_peak - 1
        assert info.average_bandwidth <= info.bandwidth
        assert info.resolution == (r["width"], r["height"])
        assert info.frame_rate == pytest.approx(25.0)
        media = m3u8.load(str(out / pl.uri))
        assert media.is_endlist and media.playlist_type == "vod"
        assert media.segment_map[0].uri == "init.mp4"
        assert all(round(s.duration) <= media.target_duration for s in media.segments)
        assert sum(s.duration for s in media.segments) == pytest.approx(report["totals"]["duration_s"], abs=1e-3)
        for s in media.segments:
            assert (out / "video" / rid / s.uri).is_file()
        extinfs.append([round(s.duration, 4) for s in media.segments])
    assert all(e == extinfs[0] for e in extinfs)
    assert {m.group_id for m in master.media} == {"aud"}


def test_hevc_is_tagged_hvc1_and_audio_has_stereo_and_surround(out, report):
    hevc = next(r for r in report["renditions"] if r["codec"] == "hevc")
    assert b"hvc1" in (out / "video" / hevc["id"] / "init.mp4").read_bytes()
    assert {a["channels"] for a in report["audio"]} == {2, 6}
    assert all(a["codec_string"] == "mp4a.40.2" for a in report["audio"])


def test_report_has_per_shot_rates_and_bits(report):
    assert report["allocator"] == "crf"  # the default: one capped CRF per rung, predicted rates
    for r in report["renditions"]:
        assert len(r["shots"]) == len(report["shots"])
        for s in r["shots"]:
            assert s["bytes"] > 0 and s["rate"]["kind"] == "crf" and s["rate"]["predicted_kbps"] > 0
    t = report["timings"]
    stages = t["analyse_s"] + t["plan_s"] + t["encode_s"] + t["package_s"]
    assert 0 < stages <= t["total_s"]  # the stages run one after another inside the whole
